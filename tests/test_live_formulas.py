"""Live formulas: Performance, Power, Summary and Cost recalculate from the inputs.

The formulas are traced from the engine (xlmodel.engine.symbolic); LibreOffice
headless recalculates the computed workbooks (tests/lo_recalc.py, run by the
system Python that has the uno bridge) and every result must equal the cached
value, then xlmodel.evaluate for inputs typed into the sheets afterwards.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from xlmodel import evaluate
from xlmodel.engine import prepare
from xlmodel.engine.model import COST_METRICS, METRIC_NAMES
from xlmodel.engine.symbolic import Expr, number_text, trace
from xlmodel.pipeline import compute
from xlmodel.schema import BY_NAME, DEFAULTS, PRECISIONS, SEED_VARIANTS
from xlmodel.studies.run import seed_study
from xlmodel.workbook.inputs import coefficients, targets
from xlmodel.workbook.inputs.variants import VARIANT_LABEL_COLUMNS, variant_rows
from xlmodel.workbook.results import cost as cost_sheet
from xlmodel.workbook.results import live
from xlmodel.workbook.template import fill_workbook, write_template

COST_NAMES = {m.name for m in COST_METRICS}
LO_PYTHON = "/usr/bin/python3"
HELPER = Path(__file__).with_name("lo_recalc.py")
SHEETS = ["Performance", "Power", "Summary", "Cost"]
# Functions both Excel 2010 and LibreOffice have; nothing volatile.
ALLOWED = {"IF", "AND", "OR", "NOT", "MIN", "MAX", "SQRT", "EXP", "LN", "ABS"}
ALLOWED |= {"INT", "TRUNC", "CHOOSE", "IFERROR", "NA"}

needs_lo = pytest.mark.skipif(
    shutil.which("soffice") is None or not Path(LO_PYTHON).exists(),
    reason="LibreOffice with its Python bridge is not installed",
)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12


def recalc(tmp: Path, book: Path, runs: list[dict]) -> list[dict]:
    """Each run's formula cells after LibreOffice typed its values and recalculated."""
    job = {
        "profile": str(tmp / "lo-profile"),
        "file": str(book),
        "sheets": SHEETS,
        "runs": runs,
    }
    (tmp / "job.json").write_text(json.dumps(job))
    subprocess.run(
        [LO_PYTHON, str(HELPER), str(tmp / "job.json"), str(tmp / "out.json")],
        check=True,
        timeout=240,
    )
    return json.loads((tmp / "out.json").read_text())


# --- the tracer itself -----------------------------------------------------------


def test_number_text_round_trips():
    for x in (1e-06, 0.1, 2000.0, 1e12, 0.035, 1 / 3, 123456789.125):
        assert float(number_text(x)) == x
    assert number_text(2000.0) == "2000"


def test_a_hand_worked_formula():
    x = prepare(pd.DataFrame([SEED_VARIANTS["Baseline"]]))
    leaves = {k: np.asarray(a)[:1] for k, a in x.items()}
    leaves["num_chiplets"] = Expr.leaf("$A$1", 4)
    leaves["sms_per_chiplet"] = Expr.leaf("$A$2", 16)
    out = trace(leaves, ["total_sms", "peak_fp16_tflops", "ridge_fp16_flop_per_byte"])
    assert out["total_sms"].cell_formula() == "=$A$1*$A$2"
    assert out["total_sms"].value == 64
    peak = out["peak_fp16_tflops"]
    # 4 x 16 SMs x 4 TC x 128 ops x 2000 MHz x 1e-6 = 65.536 TFLOPS
    assert peak.cell_formula() == "=$A$1*$A$2*4*128*2000*1e-06"
    assert peak.value == pytest.approx(65.536, rel=1e-15)
    # the ridge divides by a constant: no error branch needed
    assert "IFERROR" not in out["ridge_fp16_flop_per_byte"].cell_formula()


def test_traced_values_are_the_engines_bit_for_bit():
    v = seed_study().variants
    x = prepare(v)
    m = evaluate(v)
    for i, name in enumerate(v.index):
        leaves = {}
        for k, a in x.items():
            a = np.asarray(a)[i : i + 1]
            leaves[k] = Expr.leaf(f"$X${k}", a[0]) if a.dtype.kind == "f" else a
        out = trace(leaves, METRIC_NAMES[:60])
        for metric, e in out.items():
            want = m.loc[name, metric]
            got = e.value if isinstance(e, Expr) else e
            if e is None:
                continue
            if metric in COST_NAMES:
                # cost.py computes arrays in place and scalars directly: the
                # traced (scalar) path rounds apart from the array path
                assert got == pytest.approx(want, rel=1e-14, nan_ok=True), metric
                continue
            assert got == want or (np.isnan(want) and np.isnan(got)), (name, metric)


def test_leakage_feedback_is_guarded_or_left_as_a_value():
    x = prepare(pd.DataFrame([{"leakage_temp_coeff_per_c": 0.0}]))
    leaves = {k: np.asarray(a)[:1] for k, a in x.items()}
    leaves["leakage_temp_coeff_per_c"] = Expr.leaf("$B$1", 0.0)
    tj = trace(leaves, ["junction_temp_c"])["junction_temp_c"]
    assert tj.cell_formula().startswith("=IF(NOT($B$1>0),")
    assert tj.cell_formula().endswith(",NA())")
    # with feedback on, the iterative solution has no formula: a plain value
    leaves["leakage_temp_coeff_per_c"] = Expr.leaf("$B$1", 0.01)
    leaves["leakage_w_per_mm2"] = np.array([0.05])
    assert trace(leaves, ["junction_temp_c"])["junction_temp_c"] is None


def test_the_cost_equations_trace_to_the_engines_values():
    v = seed_study().variants
    x = prepare(v)
    m = evaluate(v)
    names = [
        "chiplet_die_area_mm2",
        "dies_per_wafer",
        "die_yield",
        "package_yield",
        "cost_per_good_package_usd",
        "unit_cost_usd",
        "usd_per_tflops",
    ]
    for i, name in enumerate(v.index):
        leaves = {}
        for k, a in x.items():
            a = np.asarray(a)[i : i + 1]
            leaves[k] = Expr.leaf(f"$X${k}", a[0]) if a.dtype.kind == "f" else a
        out = trace(leaves, names)
        for metric in names:
            e = out[metric]
            assert isinstance(e, Expr), (name, metric)
            # the engine's array path and the traced scalar path round apart
            assert e.value == pytest.approx(m.loc[name, metric], rel=1e-14)
        # one die beyond the reticle: the monolithic figures are NaN, not formulas
        mono = trace(leaves, ["monolithic_cost_per_good_package_usd"])
        assert np.isnan(mono["monolithic_cost_per_good_package_usd"])


def test_a_hand_worked_cost_formula():
    x = prepare(pd.DataFrame([SEED_VARIANTS["Baseline"]]))
    leaves = {k: np.asarray(a)[:1] for k, a in x.items()}
    leaves["mask_set_usd"] = Expr.leaf("$A$1", 2.5e7)
    leaves["design_nre_usd"] = Expr.leaf("$A$2", 0.0)
    leaves["volume_units"] = Expr.leaf("$A$3", 1e5)
    nre = trace(leaves, ["nre_per_unit_usd"])["nre_per_unit_usd"]
    # (mask set + design NRE) / volume = 25e6 / 1e5 = 250 USD, under the guards
    # of the cost rule's decisions (wafer-test coverage below 1; one die beyond
    # the reticle)
    assert "($A$1+$A$2)/$A$3" in nre.cell_formula()
    assert nre.value == 250.0


def test_an_opaque_input_keeps_only_the_metrics_that_use_it_values():
    x = prepare(pd.DataFrame([SEED_VARIANTS["Baseline"]]))
    leaves = {}
    for k, a in x.items():
        a = np.asarray(a)[:1]
        leaves[k] = Expr.leaf(f"$X${k}", a[0]) if a.dtype.kind == "f" else a
    leaves["wafer_price_usd"] = Expr.opaque(20000.0, "a node-table value")
    out = trace(leaves, ["dies_per_wafer", "die_yield", "cost_per_good_die_usd"])
    assert isinstance(out["dies_per_wafer"], Expr)
    assert isinstance(out["die_yield"], Expr)
    assert out["cost_per_good_die_usd"] is None


def test_sub_formulas_are_replaced_only_where_they_are_whole_operands():
    def e(f):
        return Expr(f, np.float64(1.0))

    cells = {"a": "$Z$1", "b": "$Z$2"}
    formulas = {
        "a": e("$A$1+$A$2"),
        "b": e("EXP($A$3)"),
        "c": e("MIN($A$1+$A$2,1)*EXP($A$3)^2"),
        "d": e("$A$0-$A$1+$A$2"),  # (A0 - A1) + A2: not A0 - (A1 + A2)
        "f": e("($A$1+$A$2)*3+XEXP($A$3)"),
    }
    out = live.shorten(formulas, cells)
    assert out["a"].f == "$A$1+$A$2"  # never itself
    assert out["c"].f == "MIN($Z$1,1)*$Z$2^2"
    assert out["d"].f == "$A$0-$A$1+$A$2"
    assert out["f"].f == "($Z$1)*3+XEXP($A$3)"


class _Cells:
    """A worksheet that records the formulas written to it."""

    def __init__(self):
        self.cells = {}

    def write_formula(self, row, col, formula, fmt, value):
        self.cells[(row, col)] = (formula, value)


class _Formats:
    def fmt(self, **props):
        return props


def test_a_formula_too_long_for_excel_keeps_its_value():
    ws = _Cells()
    short = Expr("$A$1*2", np.float64(4.0))
    long = Expr("+".join(["$A$1"] * 2000), np.float64(4.0))  # 9,999 characters
    assert live.write(_Formats(), ws, 0, 0, short, 4.0, "0.0")
    assert not live.write(_Formats(), ws, 1, 0, long, 4.0, "0.0")
    assert ws.cells == {(0, 0): ("=$A$1*2", 4.0)}
    # an input shown on a result sheet refers to its cell; without one, a value
    assert live.write_input(_Formats(), ws, 2, 0, "'Targets'!$B$6", 500.0, "0")
    assert not live.write_input(_Formats(), ws, 3, 0, None, 500.0, "0")
    assert ws.cells[(2, 0)] == ("='Targets'!$B$6", 500.0)


# --- the computed template ---------------------------------------------------------


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("live")
    book = tmp / "t.xlsx"
    write_template(book)
    compute(book)
    return book


def _banner(formula: str) -> bool:
    """The stale-results banner: a formula, but not a result."""
    return "xlmodel state" in formula


def _formula_cells(book: Path) -> dict:
    wb = openpyxl.load_workbook(book)
    cached = openpyxl.load_workbook(book, data_only=True)
    out = {}
    for sheet in SHEETS:
        for row in wb[sheet].iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, str) and v.startswith("=") and not _banner(v):
                    out[(sheet, c.row - 1, c.column - 1)] = (
                        c.value,
                        cached[sheet].cell(c.row, c.column).value,
                    )
    return out


def test_formulas_use_portable_functions_and_point_at_input_cells(computed):
    cells = _formula_cells(computed)
    assert len(cells) > 300
    rows = variant_rows()
    for (sheet, r, c), (f, cached) in cells.items():
        assert cached is not None, (sheet, r, c)
        names = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", f))
        assert names <= ALLOWED, (sheet, r, c, names - ALLOWED)
        assert len(f) < 8192 and ";" not in f
        for sh, _col, row in re.findall(r"'([^']+)'!\$([A-Z]+)\$(\d+)", f):
            assert sh in ("Variants", "Targets", "Coefficients", "Cost"), f
            if sh == "Variants":
                assert int(row) - 1 in rows.values()
    # the peak of Baseline reads its own column D of Variants
    wb = openpyxl.load_workbook(computed)
    peak = wb["Performance"]["E14"].value  # FP16 peak block, first variant
    sms = f"'Variants'!$D${rows['sms_per_chiplet'] + 1}"
    assert sms in peak, peak
    with zipfile.ZipFile(computed) as z:
        assert 'fullCalcOnLoad="1"' in z.read("xl/workbook.xml").decode()
    # the Summary's checks compare its own cells with the Targets cells
    ws = wb["Summary"]
    header = _header_row(ws, "Within power budget")
    col = {c.value: c.column_letter for c in ws[header]}
    first = header + 1
    check = ws[f"{col['Within power budget']}{first}"].value
    power = f"${col['Power at 100 % (W)']}${first}"
    budget = ws[f"{col['Power budget (W)']}{first}"].value
    assert (
        power in check
        and budget == f"='Targets'!$B${targets.rows()['power_budget_w'] + 1}"
    )
    assert ws[f"{col['Rank']}{first}"].data_type == "n"  # a value
    # node-table fills (the template leaves wafer price, D0 and mask set blank):
    # the die's area and dies per wafer follow the inputs, its yield is a value
    ws = wb["Cost"]
    col = {c.value: c.column_letter for c in ws[4]}
    assert ws[f"{col['Gross dies per wafer']}5"].value.startswith("=")
    assert ws[f"{col['Chiplet die (mm²)']}5"].value.startswith("=")
    assert not isinstance(ws[f"{col['Die yield (%)']}5"].value, str)
    assert "Live (formulas over the input cells)" in ws["A11"].value


def _header_row(ws, heading: str) -> int:
    """The 1-based row of the table header holding ``heading``."""
    for row in ws.iter_rows():
        if any(c.value == heading for c in row):
            return row[0].row
    raise AssertionError(heading)


@needs_lo
def test_libreoffice_recalculates_the_cached_values(computed, tmp_path):
    cells = _formula_cells(computed)
    (after,) = recalc(tmp_path, computed, [{"set": []}])
    seen = 0
    for sheet in SHEETS:
        for r, c, f, v, text, err in after[sheet]:
            if _banner(f):
                continue
            assert err == 0, (sheet, r, c, f)
            cached = cells[(sheet, r, c)][1]
            if isinstance(cached, str):
                assert text == cached, (sheet, r, c)
            else:
                assert close(v, cached), (sheet, r, c, v, cached)
            seen += 1
    assert seen == len(cells)


@needs_lo
def test_power_budget_on_targets_flips_the_checks(computed, tmp_path):
    wb = openpyxl.load_workbook(computed, data_only=True)
    ws = wb["Power"]
    header = [c.value for c in ws[4]]
    col = {h: i for i, h in enumerate(header)}
    total_col, check_col = col["Total (W)"], col["Within power budget"]
    totals = [row[total_col].value for row in ws.iter_rows(min_row=5) if row[0].value]
    budget = float(np.median(totals))
    r_budget = targets.rows()["power_budget_w"]
    r_beta = coefficients.rows()["leakage_temp_coeff_per_c"]
    runs = [
        {"set": [["Targets", r_budget, 1, budget]]},
        {"set": [["Coefficients", r_beta, 1, 0.01]]},
    ]
    flipped, guarded = recalc(tmp_path, computed, runs)
    power = {(r, c): (v, text, err) for r, c, _, v, text, err in flipped["Power"]}
    passes = fails = 0
    for i, total in enumerate(totals):
        want = "PASS" if total <= budget else "FAIL"
        assert power[(4 + i, check_col)][1] == want
        assert power[(4 + i, col["Power budget (W)"])][0] == budget
        passes += want == "PASS"
        fails += want == "FAIL"
    assert passes and fails
    # the Summary's checks flip with the same budget (its power at 100 %)
    ws = wb["Summary"]
    head = _header_row(ws, "Within power budget")
    scol = {c.value: c.column - 1 for c in ws[head]}
    cells = {(r, c): (v, text) for r, c, _, v, text, err in flipped["Summary"]}
    rows = []
    for row in ws.iter_rows(min_row=head + 1):  # the table: up to its first blank
        if not row[0].value:
            break
        rows.append(row)
    assert len(rows) == 5
    flips = set()
    for row in rows:
        r = row[0].row - 1
        power = row[scol["Power at 100 % (W)"]].value
        was = row[scol["Within power budget"]].value
        want = "PASS" if power <= budget else "FAIL"
        assert cells[(r, scol["Within power budget"])][1] == want, row[0].value
        assert cells[(r, scol["Power budget (W)"])][0] == budget
        ratio = cells[(r, scol["Power vs budget (% of budget)"])][0]
        assert close(ratio, power / budget)
        density_ok = row[scol["Density target met"]].value == "PASS"
        tj_ok = row[scol["Tj within max"]].value == "PASS"
        all_ok = "PASS" if density_ok and tj_ok and want == "PASS" else "FAIL"
        assert cells[(r, scol["All targets met"])][1] == all_ok
        flips.add(was != want)
    assert flips == {True, False}  # some flipped, some did not
    # leakage feedback switched on: the thermal cells say #N/A until a compute
    after = {(r, c): err for r, c, _, v, text, err in guarded["Power"]}
    assert after[(4, col["Tj (°C)"])] != 0
    assert after[(4, col["SM (W)"])] == 0


# --- live: inputs typed in afterwards ---------------------------------------------

VARIANTS_DRAWN = [
    p for p in BY_NAME.values() if p.section == "variant" and p.numeric and p.used
]
#: Node parameters given for every variant (blank, the node table's values would
#: keep the cost figures values)
NODE_GIVEN = {
    "wafer_price_usd": 20000.0,
    "defect_density_per_cm2": 0.1,
    "mask_set_usd": 2.5e7,
}
COEFFICIENTS_DRAWN = [
    "sm_power_w",
    "sm_power_ref_clock_mhz",
    "sm_power_clock_exponent",
    "sm_power_ref_fp16_flop_per_cycle",
    "sm_power_throughput_exponent",
    "l2_power_w_per_mb",
    "l2_power_utilization_exponent",
    "hbm_power_w_per_stack",
    "static_power_w_per_chiplet",
    "interconnect_power_w",
    "io_power_w",
    "vf_v0_v",
    "vf_slope_v_per_ghz",
    "vf_vmin_v",
    "hbm_energy_pj_per_bit",
    "leakage_w_per_mm2",
    "d2d_energy_pj_per_bit",
    "d2d_remote_share",
    "d2d_links_per_chiplet",
    "ambient_c",
    "theta_ja_c_per_w",
    "junction_to_case_k_mm2_per_w",
    "hotspot_factor",
]


def _draw(rng, p):
    lo, hi = float(p.minimum), float(p.maximum)
    low = lo if lo > 0 else min(1.0, hi)
    if lo <= 0 and rng.random() < 0.1:
        x = lo
    elif hi / low > 100:  # wide ranges: every decade as likely
        x = math.exp(rng.uniform(math.log(low), math.log(hi)))
    else:
        x = rng.uniform(lo, hi)
    if p.kind == "int":
        x = min(max(round(x), lo), hi)
    return float(x)


def _layout(book: Path):
    """Performance and Power cells by (variant, metric) / (row's variant, u)."""
    wb = openpyxl.load_workbook(book, data_only=True)
    perf = wb["Performance"]
    where = {}
    head = None
    block = ""
    main = {
        "Total SMs": "total_sms",
        "Total compute area (mm²)": "total_area_mm2",
        "HBM bandwidth (TB/s)": "hbm_bandwidth_tbps",
        "FP16 FLOP per cycle per SM (FLOP/cycle/SM)": "fp16_flop_per_cycle_per_sm",
    }
    prefix = {
        "Peak ": "target_peak_tflops",
        "Density ": "target_density_tflops_per_mm2",
        "Ridge point ": "target_ridge_flop_per_byte",
        "Bytes per FLOP ": "bytes_per_flop",
    }
    kinds = {
        "Peak": "peak_{}_tflops",
        "Density": "density_{}_tflops_per_mm2",
        "Ridge point": "ridge_{}_flop_per_byte",
    }
    keys = {p.value.lower() for p in PRECISIONS}
    for row in perf.iter_rows():
        a = row[0].value
        if a == "Variant":
            head = {}
            for i, c in enumerate(row[1:], 1):
                h = c.value or ""
                if not block:
                    key = main.get(h) or next(
                        (m for pre, m in prefix.items() if h.startswith(pre)), None
                    )
                else:
                    k = h.split(" ")[0].lower()
                    key = kinds[block].format(k) if k in keys else None
                head[i] = key
            continue
        if isinstance(a, str) and a.endswith(")") and " by precision " in a:
            block = a.split(" by precision")[0]
            head = None
            continue
        if head and a:
            for i, key in head.items():
                if key:
                    where[("Performance", row[0].row - 1, i)] = (str(a), key, 1.0)
    power = wb["Power"]
    header = [c.value for c in power[4]]
    pmap = {
        "SM (W)": "power_sm_w",
        "L2 (W)": "power_l2_w",
        "HBM (W)": "power_hbm_w",
        "D2D (W)": "power_d2d_w",
        "Static (W)": "power_static_w",
        "Interconnect (W)": "power_interconnect_w",
        "I/O (W)": "power_io_w",
        "Total (W)": "power_total_w",
        "Within power budget": "meets_power_budget",
        "Tj (°C)": "junction_temp_c",
        "Tj within max": "meets_tj_max",
    }
    for row in power.iter_rows(min_row=5):
        if not row[0].value or row[1].value is None:
            continue
        for i, h in enumerate(header):
            if h in pmap:
                where[("Power", row[0].row - 1, i)] = (
                    str(row[0].value),
                    pmap[h],
                    float(row[1].value),
                )
    _summary_layout(wb["Summary"], where)
    _cost_layout(wb["Cost"], where)
    return where


# Summary column -> what it shows: a metric, an input, or the sheet's equation
SUMMARY_SHOWS = {
    "peak": "target_peak_tflops",
    "density": "target_density_tflops_per_mm2",
    "density_target": ("input", "density_target_tflops_per_mm2"),
    "density_ratio": "density_margin",
    "density_ok": "meets_density_target",
    "power": "power_total_w",
    "budget": ("input", "power_budget_w"),
    "power_ratio": ("ratio", "power_total_w", "power_budget_w"),
    "power_ok": "meets_power_budget",
    "tflops_per_w": "tflops_per_w",
    "unit_cost": "unit_cost_usd",
    "tflops_per_usd": ("ratio", "target_peak_tflops", "unit_cost_usd"),
    "tj": "junction_temp_c",
    "tj_max": ("input", "tj_max_c"),
    "tj_headroom": ("minus", "tj_max_c", "junction_temp_c"),
    "tj_ok": "meets_tj_max",
    "all_ok": "meets_all_targets",
    "area": "total_area_mm2",
}


def _summary_layout(ws, where: dict) -> None:
    from xlmodel.workbook.results.summary import _columns

    head = _header_row(ws, "Within power budget")
    by_header = {c.header: c.key for c in _columns("FP16", "TFLOPS")}
    keys = {c.column - 1: by_header.get(c.value) for c in ws[head]}
    for row in ws.iter_rows(min_row=head + 1):
        if not row[0].value:
            break
        for i, key in keys.items():
            if key in SUMMARY_SHOWS:
                where[("Summary", row[0].row - 1, i)] = (
                    str(row[0].value),
                    SUMMARY_SHOWS[key],
                    1.0,
                )


def _cost_layout(ws, where: dict) -> None:
    by_header = {c.header: c.key for c in cost_sheet._breakdown_columns("FP16")}
    keys = {c.column - 1: by_header.get(c.value) for c in ws[4]}
    inputs = {"num_chiplets", "hbm_stacks", "wafer_price_usd", "defect_density_per_cm2"}
    for row in ws.iter_rows(min_row=5):
        if not row[0].value:
            break
        for i, key in keys.items():
            if key is None or key in ("variant", "process_node", "package_type"):
                continue
            if key in inputs:
                shows = ("input", key)
            elif key == "tflops_per_usd":
                shows = ("ratio", "target_peak_tflops", "unit_cost_usd")
            else:
                shows = key
            # the monolithic figures rest on the decision whether the one die
            # fits the reticle: #N/A once that decision changes
            decided = key in cost_sheet._MONOLITHIC
            where[("Cost", row[0].row - 1, i)] = (
                str(row[0].value),
                shows,
                1.0,
                decided,
            )


def _expected(shows, metrics: pd.Series, inputs: pd.Series):
    """The engine's number (or truth value) for what a cell shows."""

    def one(name):
        return inputs[name] if name in inputs.index else metrics[name]

    if isinstance(shows, str):
        return metrics[shows]
    kind, *names = shows
    if kind == "input":
        return float(inputs[names[0]])
    a, b = (float(one(n)) for n in names)
    if not math.isfinite(b):
        # a spreadsheet has no infinity: an infinite cost (a package nobody can
        # build) is n/a, and so is a figure over it (the engine's 0 per USD)
        return np.nan
    with np.errstate(all="ignore"):
        return np.float64(a) / b if kind == "ratio" else np.float64(a) - b


@needs_lo
def test_inputs_typed_afterwards_recalculate_to_the_engine(tmp_path):
    rng = np.random.default_rng(20260101)
    n_columns, batches = 50, 4  # 200 variants
    book = tmp_path / "many.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    # half the variants fit one die within the reticle at compute time (the
    # monolithic figures formulas), half do not
    initial = {
        f"V{j:02d}": {**NODE_GIVEN, "num_chiplets": 2, "chiplet_area_mm2": 300.0}
        if j % 2 == 0
        else dict(NODE_GIVEN)
        for j in range(n_columns)
    }
    fill_workbook(wb, initial)
    wb.close()
    compute(book)
    where = _layout(book)
    rows, crow = variant_rows(), coefficients.rows()
    first = VARIANT_LABEL_COLUMNS
    runs, frames = [], []
    for _ in range(batches):
        coeffs = {k: _draw(rng, BY_NAME[k]) for k in COEFFICIENTS_DRAWN}
        cells = [["Coefficients", crow[k], 1, v] for k, v in coeffs.items()]
        table = {}
        for j in range(n_columns):
            values = {p.name: _draw(rng, p) for p in VARIANTS_DRAWN}
            table[f"V{j:02d}"] = {**DEFAULTS, **coeffs, **values}
            cells += [["Variants", rows[k], first + j, v] for k, v in values.items()]
        runs.append({"set": cells})
        frames.append(pd.DataFrame.from_dict(table, orient="index"))
    results = recalc(tmp_path, book, runs)
    reticle = DEFAULTS["reticle_limit_mm2"]
    fits_then = {
        name: {**DEFAULTS, **given}["num_chiplets"]
        * {**DEFAULTS, **given}["chiplet_area_mm2"]
        <= reticle
        for name, given in initial.items()
    }
    checked = guarded = 0
    seen = set()
    for frame, result in zip(frames, results):
        expected = {}
        for _key, (_, _, u, *_) in where.items():
            if u not in expected:
                expected[u] = evaluate(frame, utilization=u)
        for sheet in SHEETS:
            for r, c, _f, v, text, err in result[sheet]:
                if (sheet, r, c) not in where:
                    continue
                variant, metric, u, *decided = where[(sheet, r, c)]
                row = frame.loc[variant]
                if decided and decided[0]:
                    fits = row["num_chiplets"] * row["chiplet_area_mm2"] <= reticle
                    if bool(fits) != fits_then[variant]:
                        # the cost rule's decision changed: no number until a compute
                        assert err != 0 or text == "n/a", (sheet, r, c, text)
                        guarded += 1
                        continue
                metrics = expected[u].loc[variant]
                want = _expected(metric, metrics, row)
                seen.add(sheet)
                if sheet == "Cost" and not np.isfinite(
                    metrics["cost_per_good_package_usd"]
                ):
                    # a package nobody can build (its cost beyond the float
                    # range): the spreadsheet has no infinity, the figures
                    # over it are n/a (the engine's 0 x inf = 0 parts too)
                    assert err == 0 and (text == "n/a" or close(v, float(want)))
                    checked += 1
                    continue
                if isinstance(want, (bool, np.bool_)):
                    assert text == ("PASS" if want else "FAIL"), (sheet, r, c)
                elif not np.isfinite(want):
                    assert text == "n/a", (sheet, r, c, metric, text)
                else:
                    assert err == 0 and v is not None, (sheet, r, c, metric, text)
                    assert close(v, float(want)), (sheet, r, c, metric, v, want)
                checked += 1
    assert checked >= batches * n_columns * 40
    assert seen == set(SHEETS) and guarded > 0


def test_a_formula_cell_never_takes_a_format_of_optional_decimals(tmp_path):
    # A format whose decimals are all optional (#,##0.# for mm²) shows a whole
    # number with a bare point in Excel ("1,400."). A plain cell holds its one
    # value; a formula cell's value changes when an input does, so it takes the
    # whole form (#,##0) for a whole saved value and fixed decimals (#,##0.0)
    # for a fraction: Baseline's 4 x 350.3 mm² = 1,401.2 mm² of compute area.
    from xlmodel.workbook.results.formats import live_format, whole_form

    assert live_format("#,##0.#", 1401.2) == "#,##0.0"
    assert live_format("#,##0.#", 1400.0) == "#,##0"
    assert live_format("0.##", 7.5) == "0.00"
    assert live_format("0.000", 7.0) == "0.000"
    table = {k: dict(v) for k, v in SEED_VARIANTS.items()}
    table["Baseline"]["chiplet_area_mm2"] = 350.3
    book = tmp_path / "fraction.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    fill_workbook(wb, table)
    wb.close()
    compute(book, export_dir=None)
    formulas = openpyxl.load_workbook(book)
    cached = openpyxl.load_workbook(book, data_only=True)
    fixed = 0
    for ws in formulas.worksheets:
        if ws.title == "xlmodel state":
            continue
        for row in ws.iter_rows():
            for c in row:
                if not (isinstance(c.value, str) and c.value.startswith("=")):
                    continue
                assert whole_form(c.number_format) is None, (
                    ws.title,
                    c.coordinate,
                    c.number_format,
                )
                v = cached[ws.title][c.coordinate].value
                if c.number_format == "#,##0.0" and v == pytest.approx(1401.2):
                    fixed += 1
    assert fixed >= 1  # the area, in fixed decimals
