"""The result-sheet writer: values read back, owned names, charts, odd inputs, LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import math
import posixpath
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import libreoffice_convert

from xlmodel.studies.run import Study, run, seed_study
from xlmodel.workbook.report import (
    CHART_VARIANT_LIMIT,
    OWNED_NAME,
    SHEETS,
    SUMMARY_WARNING_LINES,
    chart_labels,
    chart_variants,
    resolve_sheet_names,
    sheets_for,
    write_results,
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RUN_INFO = {
    "version": "9.9.9",
    "input_file": "variants.xlsx",
    "input_sha256": "0123456789abcdef" * 4,
    "time": "2024-05-01T10:00:00+00:00",
    "warnings": ["Variants!C7 clock_mhz: 5000 is outside 800-3500 (a check)"],
}
# Charts of the seed study: Summary 4, Power 1, Cost 2, Roofline 1, Scaling 3 (HBM
# bandwidth is the same for every variant: said in words, not drawn), Sensitivity
# 1 tornado + 1 per sweep (5), Reality check 1.
SEED_CHARTS = 4 + 1 + 2 + 1 + 3 + 1 + 5 + 1


# --------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------


def find(ws, text: str) -> tuple[int, int]:
    """(row, column), 1-based, of the first cell whose value is ``text``."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.row, cell.column
    raise AssertionError(f"{text!r} not found on {ws.title}")


def find_prefix(ws, prefix: str) -> str:
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(prefix):
                return cell.value
    raise AssertionError(f"no cell starting {prefix!r} on {ws.title}")


def table(path: Path, sheet: str, header_row: int, col: int = 1, nrows=None):
    """The table whose header is on 1-based ``header_row``, from column ``col``."""
    frame = pd.read_excel(path, sheet_name=sheet, header=header_row - 1, nrows=nrows)
    frame = frame.iloc[:, col - 1 :]
    return frame


def main_table(path: Path, sheet: str) -> pd.DataFrame:
    """The first table of a sheet: header row = the first 'Variant' in column A."""
    wb = openpyxl.load_workbook(path, read_only=False)
    row, _ = find(wb[sheet], "Variant")
    frame = table(path, sheet, row)
    end = frame.index[frame["Variant"].isna()]
    return frame.iloc[: end[0]] if len(end) else frame


def side_table(ws, title: str, header: str = "Variant") -> list[list]:
    """Rows under the header that follows the heading ``title`` (right-hand blocks)."""
    r, c = find(ws, title)
    assert ws.cell(r + 1, c).value == header
    out = []
    row = r + 2
    while ws.cell(row, c).value not in (None, ""):
        out.append([ws.cell(row, c + k).value for k in range(8)])
        row += 1
    return out


def chart_parts(path: Path) -> dict[str, list[str]]:
    """Sheet name -> XML of its charts, following the package relationships."""
    z = zipfile.ZipFile(path)
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    targets.update(
        {a: b for b, a in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)}
    )
    out: dict[str, list[str]] = {}
    for name, rid in re.findall(
        r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', wb
    ):
        name = name.replace("&amp;", "&").replace("&apos;", "'")
        sheet = posixpath.join("xl", targets[rid])
        out[name] = []
        srel = posixpath.join(
            posixpath.dirname(sheet), "_rels", posixpath.basename(sheet) + ".rels"
        )
        if srel not in z.namelist():
            continue
        for t in re.findall(r'Target="([^"]+drawing\d+\.xml)"', z.read(srel).decode()):
            drawing = posixpath.normpath(posixpath.join(posixpath.dirname(sheet), t))
            drel = posixpath.join(
                posixpath.dirname(drawing),
                "_rels",
                posixpath.basename(drawing) + ".rels",
            )
            for c in re.findall(
                r'Target="([^"]+chart\d+\.xml)"', z.read(drel).decode()
            ):
                chart = posixpath.normpath(
                    posixpath.join(posixpath.dirname(drawing), c)
                )
                out[name].append(z.read(chart).decode())
    return out


def formulas(chart_xml: str) -> list[str]:
    return re.findall(r"<c:f>([^<]*)</c:f>", chart_xml)


def quoted(sheet: str) -> str:
    """How a chart formula names ``sheet``."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def perturbed_study(n: int, hbm_zero_every: int = 0, long_every: int = 0) -> Study:
    """``n`` variants made from the seed's five, with unique (some long) names."""
    base = seed_study().variants
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        r = base.iloc[i % len(base)].copy()
        r["clock_mhz"] = float(r["clock_mhz"]) * (0.8 + 0.4 * rng.random())
        r["sms_per_chiplet"] = int(r["sms_per_chiplet"]) + int(rng.integers(0, 16))
        if hbm_zero_every and i % hbm_zero_every == 1:
            r["hbm_stacks"] = 0
        name = f"{base.index[i % len(base)]} #{i:03d}"
        if long_every and i % long_every == 0:
            name += " — a long descriptive name that will not fit a chart axis"
        r.name = name
        rows.append(r)
    return Study(pd.DataFrame(rows), sweep_base=rows[0].name)


# --------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results():
    return run(seed_study())


@pytest.fixture(scope="module")
def written(results, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "r.xlsx"
    write_results(results, path, run_info=RUN_INFO)
    return path


@pytest.fixture(scope="module")
def book(written):
    return openpyxl.load_workbook(written)


# --------------------------------------------------------------------------------
# the seed study, read back
# --------------------------------------------------------------------------------


def test_sheets_in_order(book, results):
    # the seed study asks for no serving, exploration, Sobol indices or Monte Carlo
    optional = {
        "Inference",
        "Inference charts",
        "Global sensitivity",
        "Exploration",
        "Uncertainty",
    }
    assert book.sheetnames == [s for s in SHEETS if s not in optional]
    assert book.sheetnames == sheets_for(results)


def test_every_sheet_carries_the_owned_name(book):
    for ws in book.worksheets:
        assert OWNED_NAME in ws.defined_names, ws.title
        # the marker records the name xlmodel gave the sheet
        assert ws.defined_names[OWNED_NAME].attr_text == f'"{ws.title}"'
    assert OWNED_NAME not in book.defined_names  # sheet-scoped only


LIVE_SHEETS = ("Performance", "Power", "Summary", "Cost")


def test_values_are_numbers_never_errors_formulas_only_where_live(book, written):
    # Performance, Power, Summary and Cost hold live formulas
    # (tests/test_live_formulas.py); every other cell is a number or a string, and
    # every formula has its value
    cached = openpyxl.load_workbook(written, data_only=True)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "e", (ws.title, cell.coordinate)
                if cell.data_type == "f":
                    assert ws.title in LIVE_SHEETS, (ws.title, cell.coordinate)
                    value = cached[ws.title][cell.coordinate].value
                    assert value is not None, (ws.title, cell.coordinate)
                elif isinstance(cell.value, str):
                    assert not cell.value.startswith("="), (ws.title, cell.coordinate)
                    assert cell.value not in ("inf", "nan", "#NUM!")


def test_summary_recommends_and_explains(book, results):
    # the seed meets no density target: no recommendation, the closest named, and
    # the seed's statements kept as facts (issue 11 changed the banner on purpose)
    ws = book["Summary"]
    find(ws, "No variant meets every target: none is recommended.")
    with pytest.raises(AssertionError):
        find_prefix(ws, "Recommended variant:")
    assert find_prefix(ws, "Closest: Aggressive Optimized, shortfall 0.59")
    for message in results.comparison.messages:
        find(ws, message)
    find(ws, "Best variant within the 500 W budget: Aggressive Optimized "
         "(0.819 TFLOPS/mm² FP16, 460 W).")  # fmt: skip
    warnings = results.study.warnings
    assert warnings  # the seed's coefficients are far from the physical preset
    find(ws, f"Warnings ({len(warnings)}):")
    find(ws, f"• {warnings[0]}")


def test_summary_table_values(written, results):
    t = main_table(written, "Summary").set_index("Variant")
    assert list(t.index) == list(results.metrics.index)
    agg = t.loc["Aggressive Optimized"]
    assert agg["Density FP16 (TFLOPS/mm²)"] == pytest.approx(0.8192)
    assert agg["Power at 100 % (W)"] == pytest.approx(459.6)
    assert agg["Peak FP16 (TFLOPS)"] == pytest.approx(983.04)
    assert agg["Density target (TFLOPS/mm²)"] == 2.0
    assert agg["Density vs target (% of target)"] == pytest.approx(0.4096)
    assert agg["Power vs budget (% of budget)"] == pytest.approx(459.6 / 500)
    assert agg["FP16 TFLOPS/W"] == pytest.approx(983.04 / 459.6)
    assert agg["Tj (°C)"] == pytest.approx(70.96)
    assert agg["Recommended"] == "closest"  # meets no density target (issue 11)
    assert agg["Rank"] == 1
    assert (t["Density target met"] == "FAIL").all()
    assert (t["Within power budget"] == "PASS").all()
    assert (t["Tj within max"] == "PASS").all()
    assert t.loc["Baseline", "Density FP16 (TFLOPS/mm²)"] == pytest.approx(0.04096)
    assert t.loc["Baseline", "Power at 100 % (W)"] == pytest.approx(267.2)


def test_summary_formats_and_highlights(book):
    ws = book["Summary"]
    row, _ = find(ws, "Variant")
    assert ws.freeze_panes == f"B{row + 1}"
    assert ws.page_setup.orientation == "landscape"
    # a fixed scale that fits the width (Excel keeps page breaks only with one)
    setup = ws.sheet_properties.pageSetUpPr
    assert setup is None or not setup.fitToPage
    # known gap: with the advice columns the Summary prints at about a third
    assert 30 <= ws.page_setup.scale <= 100
    # five variants fit on the first page: no header repeated over the charts
    assert ws.print_title_rows is None
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any(r.type == "dataBar" for r in rules)
    assert any(r.type == "cellIs" and r.formula == ['"PASS"'] for r in rules)
    assert any(r.type == "cellIs" and r.formula == ['"FAIL"'] for r in rules)
    best, _ = find(ws, "Aggressive Optimized")
    assert ws.cell(best, 1).font.b
    _, density = find(ws, "Density FP16 (TFLOPS/mm²)")
    assert ws.cell(best, density).number_format == "0.0000"
    _, ratio = find(ws, "Density vs target (% of target)")
    assert ws.cell(best, ratio).number_format == '0%" of target"'


def test_performance_values(written, book, results):
    t = main_table(written, "Performance").set_index("Variant")
    m = results.metrics
    assert t.loc["Baseline", "Ridge point FP16 (FLOP/byte)"] == 64
    assert t.loc["Baseline", "Peak FP16 (TFLOPS)"] == pytest.approx(65.536)
    assert t.loc["Baseline", "HBM bandwidth (TB/s)"] == pytest.approx(1.024)
    assert t.loc["Baseline", "Bytes per FLOP FP16 (byte/FLOP)"] == pytest.approx(1 / 64)
    assert t.loc["Aggressive Optimized", "Total SMs"] == 192
    ws = book["Performance"]
    for label, key, unit in (
        ("Peak", "peak_{}_tflops", "TFLOPS"),
        ("Density", "density_{}_tflops_per_mm2", "TFLOPS/mm²"),
        ("Ridge point", "ridge_{}_flop_per_byte", "FLOP/byte"),
    ):
        rows = side_table(ws, f"{label} by precision ({unit})")
        assert [r[0] for r in rows] == list(m.index)
        for j, p in enumerate(("fp4", "fp8", "int8", "fp16", "bf16", "fp32")):
            np.testing.assert_allclose(
                [r[1 + j] for r in rows], m[key.format(p)], rtol=1e-12
            )
    peaks = {r[0]: r for r in side_table(ws, "Peak by precision (TFLOPS)")}
    assert peaks["Aggressive Optimized"][1] == pytest.approx(1966.08)


def test_power_values(written, results):
    t = main_table(written, "Power")
    assert len(t) == len(results.power)
    full = t[t["Utilisation"] == 1.0].set_index("Variant")
    assert full.loc["Aggressive Optimized", "Total (W)"] == pytest.approx(459.6)
    assert full.loc["Baseline", "SM (W)"] == pytest.approx(96.0)
    assert full.loc["Baseline", "HBM (W)"] == pytest.approx(120.0)
    np.testing.assert_allclose(
        t["Total (W)"].to_numpy(dtype=float), results.power["power_total_w"]
    )


def test_roofline_values(written, book, results):
    t = main_table(written, "Roofline")
    assert len(t) == len(results.roofline)
    np.testing.assert_allclose(
        t["Attainable FP16 (TFLOPS)"].to_numpy(dtype=float),
        results.roofline["attainable_tflops"],
    )
    base = t[t["Variant"] == "Baseline"]
    assert (base["Ridge point (FLOP/byte)"] == 64).all()
    gemm = base.set_index("Workload").loc["GEMM (optimized)"]
    assert gemm["Bottleneck"] == "compute"
    ridges = {r[0]: r[3] for r in side_table(book["Roofline"], "Ridge points")}
    assert ridges["Baseline"] == 64
    assert ridges["Aggressive Optimized"] == pytest.approx(960)


def test_roofline_chart_data_has_the_knee(book):
    rows = side_table(book["Roofline"], "Chart data: roofs, workloads and ridge points")
    roof = [(r[2], r[3]) for r in rows if r[0] == "Baseline" and r[1] == "roof"]
    xs = [x for x, _ in roof]
    assert xs == sorted(xs) and xs[0] == 0.01 and xs[-1] == 10_000
    assert (64, pytest.approx(65.536)) in roof  # the ridge point exactly
    assert dict(roof)[1] == pytest.approx(1.024)  # bandwidth slope, TB/s


def test_scaling_values(written, book):
    t = main_table(written, "Scaling")
    b8 = t[(t["Variant"] == "Baseline") & (t["Chiplets"] == 8)].iloc[0]
    assert b8["Power (W)"] == pytest.approx(504.4)
    assert b8["Within power budget"] == "FAIL"
    assert b8["Compute FP16 (TFLOPS)"] == pytest.approx(131.072)
    best = {
        r[0]: r[1]
        for r in side_table(
            book["Scaling"], "Largest chiplet count within the 500 W budget"
        )
    }
    assert best == {
        "Baseline": 6,
        "Realistic Optimized": 4,
        "High SM Density": 4,
        "Aggressive Optimized": 4,
        "Power Optimized": 6,
    }


def test_sensitivity_values(written, book, results):
    ws = book["Sensitivity"]
    r, _ = find(ws, "Rank")
    t = table(written, "Sensitivity", r, nrows=len(results.tornado))
    assert t.loc[0, "Rank"] == 1
    assert t.loc[0, "Parameter"] == "chiplet_area_mm2"
    assert t.loc[0, "Change at -20 % (% of base)"] == pytest.approx(0.25)
    assert t.loc[0, "Change at +20 % (% of base)"] == pytest.approx(-1 / 6)
    r, _ = find(ws, "clock_mhz (MHz)")
    sweep = table(written, "Sensitivity", r, nrows=15)
    assert list(sweep["clock_mhz (MHz)"]) == list(range(1500, 3000, 100))
    assert sweep.loc[0, "Power budget (W)"] == 500
    find(ws, "Elasticities at every variant: d ln(metric) / d ln(parameter)")
    r, _ = find(ws, "Variant")
    el = table(written, "Sensitivity", r, nrows=len(results.elasticities))
    np.testing.assert_allclose(
        el["Density (dimensionless)"].to_numpy(dtype=float),
        results.elasticities["target_density_tflops_per_mm2"],
    )


def test_run_sheet(book):
    ws = book["Run"]

    def value(item):
        r, c = find(ws, item)
        return ws.cell(r, c + 1).value

    assert value("xlmodel version") == "9.9.9"
    assert value("Input file") == "variants.xlsx"
    assert value("Input SHA-256") == RUN_INFO["input_sha256"]
    assert value("Time") == RUN_INFO["time"]
    assert value("Coefficient preset") == "seed defaults"
    assert value("Target precision") == "FP16"
    r, c = find(ws, "sm_power_w")
    assert ws.cell(r, c + 2).value == 1.5
    r, c = find(ws, "d2d_topology")
    assert ws.cell(r, c + 2).value == "all_to_all"
    find(ws, RUN_INFO["warnings"][0])


def test_expected_charts_with_log_roofline(written):
    z = zipfile.ZipFile(written)
    charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == SEED_CHARTS
    per_sheet = chart_parts(written)
    assert {k: len(v) for k, v in per_sheet.items()} == {
        "Summary": 4,
        "Performance": 0,
        "Power": 1,
        "Cost": 2,
        "Roofline": 1,
        "Scaling": 3,
        "Sensitivity": 6,
        "Reality check": 1,
        "Changes": 0,
        "Run": 0,
    }
    (roof,) = per_sheet["Roofline"]
    assert roof.count('<c:logBase val="10"/>') == 2
    # workloads named on the first variant's points (one series each), and
    # each variant's ridge point labelled with its ridge
    assert roof.count('<c:showSerName val="1"/>') == 6 + 5
    for ridge in ("ridge 64", "ridge 331", "ridge 220", "ridge 960", "ridge 86"):
        assert f"<c:v>{ridge}</c:v>" in roof or f">{ridge}<" in roof
    assert "<c:scatterChart>" in roof


def test_no_number_shows_a_bare_decimal_point(written):
    """In a format whose decimals are all optional (``#,##0.#``) Excel and
    Gnumeric write 400 as "400.": a whole number (once rounded to the
    format's places) takes the format's whole form, a cell of a formula by
    its saved value, and a chart axis such a format reads General."""
    from xlmodel.workbook.results.formats import shown_format, whole_form

    assert whole_form("#,##0.#") == ("#,##0", 1) and whole_form("0.##") == ("0", 2)
    assert whole_form("0.0##") is None and whole_form('0%" of target"') is None
    assert shown_format("#,##0.#", 400.0) == "#,##0"
    assert shown_format("#,##0.#", 399.96) == "#,##0"  # shown as 400 too
    assert shown_format("#,##0.#", 266.7) == "#,##0.#"
    assert shown_format("0.000", 4.0) == "0.000"
    seen = 0
    for ws in openpyxl.load_workbook(written, data_only=True).worksheets:
        for row in ws.iter_rows():
            for c in row:
                v, whole = c.value, whole_form(c.number_format)
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    continue
                seen += whole is not None
                assert whole is None or round(v, whole[1]) != round(v), (
                    ws.title,
                    c.coordinate,
                    v,
                    c.number_format,
                )
    assert seen > 100  # the optional decimals are still used where they show
    for charts in chart_parts(written).values():
        for xml in charts:
            for code in re.findall(r'<c:numFmt formatCode="([^"]*)"', xml):
                assert whole_form(code) is None, code


def test_charts_reference_only_their_own_sheet(written):
    for sheet, charts in chart_parts(written).items():
        for xml in charts:
            refs = formulas(xml)
            assert refs, sheet
            for f in refs:
                assert f.startswith(quoted(sheet) + "!$"), (sheet, f)


def test_charts_have_titles_and_axis_titles(written):
    for sheet, charts in chart_parts(written).items():
        for xml in charts:
            assert xml.count("<c:title>") >= 2, sheet  # chart + at least one axis


def test_deterministic_without_run_time(results, tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_results(results, a)
    write_results(results, b)
    assert a.read_bytes() == b.read_bytes()
    created = openpyxl.load_workbook(a).properties.created
    assert created == dt.datetime(2000, 1, 1)


def test_stored_results_hold_the_same_parts_uncompressed(results, tmp_path):
    packed, stored = tmp_path / "packed.xlsx", tmp_path / "stored.xlsx"
    write_results(results, packed)
    write_results(results, stored, stored=True)
    with zipfile.ZipFile(packed) as a, zipfile.ZipFile(stored) as b:
        assert a.namelist() == b.namelist()
        assert {i.compress_type for i in a.infolist()} == {zipfile.ZIP_DEFLATED}
        assert {i.compress_type for i in b.infolist()} == {zipfile.ZIP_STORED}
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
    assert stored.stat().st_size > 2 * packed.stat().st_size


def test_created_property_follows_run_time(book):
    assert book.properties.created == dt.datetime(2024, 5, 1, 10, 0, 0)


# --------------------------------------------------------------------------------
# names, sizes and odd inputs
# --------------------------------------------------------------------------------


def test_renamed_sheets_are_used_by_charts_and_names(results, tmp_path):
    names = {"Summary": "Summary (xlmodel)", "Scaling": "Lab's scaling"}
    path = tmp_path / "renamed.xlsx"
    write_results(results, path, sheet_names=names)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Summary (xlmodel)"
    assert wb.sheetnames[5] == "Lab's scaling"
    for ws in wb.worksheets:
        assert OWNED_NAME in ws.defined_names
    per_sheet = chart_parts(path)
    assert len(per_sheet["Summary (xlmodel)"]) == 4
    for xml in per_sheet["Summary (xlmodel)"]:
        assert "'Summary (xlmodel)'!$" in xml
        assert "Summary!" not in xml
    assert len(per_sheet["Lab's scaling"]) == 3  # bandwidth: the same for all
    for xml in per_sheet["Lab's scaling"]:
        assert all(f.startswith("'Lab''s scaling'!$") for f in formulas(xml))


@pytest.mark.parametrize(
    "names",
    [
        {"Nope": "x"},
        {"Summary": "bad/name"},
        {"Summary": "x" * 32},
        {"Summary": "Power"},
        {"Summary": "power"},
        {"Summary": "'quoted'"},
        {"Summary": ""},
    ],
)
def test_bad_sheet_names_are_refused(results, tmp_path, names):
    with pytest.raises(ValueError):
        write_results(results, tmp_path / "x.xlsx", sheet_names=names)
    assert not (tmp_path / "x.xlsx").exists()


def test_resolve_sheet_names_defaults():
    assert resolve_sheet_names(None) == {s: s for s in SHEETS}


def test_chart_labels_are_short_and_unique():
    names = [
        "Aggressive Optimized variant 003",
        "Aggressive Optimized variant 004",
        "short",
        "A very long name that ends the same way xyz",
        "A very long name that ends the same way xyz!",
    ]
    labels = chart_labels(names)
    assert labels["short"] == "short"
    assert len(set(labels.values())) == len(names)
    assert all(len(v) <= 24 for v in labels.values())
    assert labels["Aggressive Optimized variant 003"].endswith("003")


def test_two_hundred_variants(tmp_path):
    study = perturbed_study(200, hbm_zero_every=17, long_every=9)
    study.warnings = [f"warning {k}" for k in range(9)]
    res = run(study)
    path = tmp_path / "big.xlsx"
    write_results(res, path, run_info=RUN_INFO)
    t = main_table(path, "Summary")
    assert len(t) == 200
    np.testing.assert_allclose(
        t["Power at 100 % (W)"].to_numpy(dtype=float),
        res.metrics["power_total_w"].to_numpy(),
    )
    wb = openpyxl.load_workbook(path)
    head, _ = find(wb["Summary"], "Variant")
    assert wb["Summary"].print_title_rows == f"${head}:${head}"  # over pages
    note = find_prefix(wb["Summary"], "The charts below show")
    assert f"{CHART_VARIANT_LIMIT} of 200 variants" in note
    more = len(res.study.warnings) - SUMMARY_WARNING_LINES
    find_prefix(wb["Summary"], f"… and {more} more")
    per_sheet = chart_parts(path)
    (roof,) = per_sheet["Roofline"]
    # per charted variant a roof and its workloads (the first variant's one series
    # per workload, named), and one labelled ridge point per variant with HBM
    workloads = len(study.workloads)
    plotted = chart_variants(res)
    ridges = int(
        np.isfinite(res.metrics.loc[plotted, "ridge_fp16_flop_per_byte"]).sum()
    )
    assert ridges < CHART_VARIANT_LIMIT  # some charted variants have no HBM
    assert roof.count("<c:ser>") == 2 * CHART_VARIANT_LIMIT - 1 + workloads + ridges
    for xml in per_sheet["Scaling"]:
        assert xml.count("<c:ser>") <= 2 * CHART_VARIANT_LIMIT + 1
    for xml in per_sheet["Summary"][:3]:
        # categories are the charted variants only
        cat = re.search(
            r"<c:cat>.*?<c:f>[^!]+!\$[A-Z]+\$(\d+):\$[A-Z]+\$(\d+)</c:f>", xml
        )
        assert int(cat.group(2)) - int(cat.group(1)) + 1 == CHART_VARIANT_LIMIT
    plotted = chart_variants(res)
    assert len(plotted) == CHART_VARIANT_LIMIT
    best = res.comparison.best
    assert best in plotted


def test_zero_hbm_stacks_give_na_not_inf(tmp_path):
    study = seed_study()
    study.variants.loc["Baseline", "hbm_stacks"] = 0
    res = run(study)
    assert math.isinf(res.metrics.loc["Baseline", "ridge_fp16_flop_per_byte"])
    path = tmp_path / "nohbm.xlsx"
    write_results(res, path)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "e", (ws.title, cell.coordinate)
    ws = wb["Performance"]
    r, _ = find(ws, "Baseline")
    _, c = find(ws, "Ridge point FP16 (FLOP/byte)")
    assert ws.cell(r, c).value == "n/a"
    ridges = {r[0]: r for r in side_table(ws, "Ridge point by precision (FLOP/byte)")}
    assert ridges["Baseline"][1:7] == ["n/a"] * 6
    t = main_table(path, "Performance").set_index("Variant")
    ridge = "Ridge point FP16 (FLOP/byte)"
    assert math.isnan(t.loc["Baseline", ridge])  # pandas reads n/a as NaN
    assert t.loc["Realistic Optimized", ridge] == pytest.approx(331.2)
    rows = side_table(wb["Roofline"], "Chart data: roofs, workloads and ridge points")
    base = [r for r in rows if r[0] == "Baseline"]
    assert base and all(r[3] is None for r in base)  # nothing for a log axis


@pytest.mark.parametrize("count", [1, 50])
def test_workload_counts(tmp_path, count):
    study = seed_study()
    study.workloads = {f"Kernel {k}": 0.25 * 1.25**k for k in range(count)}
    res = run(study)
    path = tmp_path / f"w{count}.xlsx"
    write_results(res, path)
    t = main_table(path, "Roofline")
    assert len(t) == 5 * count


def test_single_variant_without_sweeps(tmp_path):
    study = seed_study()
    study.variants = study.variants.loc[["Power Optimized"]]
    study.sweep_base = "Power Optimized"
    study.sweeps = {}
    study.tornado_parameters = ["clock_mhz"]
    res = run(study)
    path = tmp_path / "one.xlsx"
    write_results(res, path)
    wb = openpyxl.load_workbook(path)
    # it misses the density target: not recommended, but the closest (issue 11)
    find(wb["Summary"], "No variant meets every target: none is recommended.")
    assert find_prefix(wb["Summary"], "Closest: Power Optimized")
    find(wb["Sensitivity"], "No sweeps in this study.")
    per_sheet = chart_parts(path)
    assert len(per_sheet["Sensitivity"]) == 1  # the tornado alone


def test_other_precision_partial_utilisation_and_d2d_losses(tmp_path):
    study = seed_study()
    v = study.variants
    v["target_precision"] = "FP8"
    v["d2d_remote_share"] = 0.8
    v["d2d_energy_pj_per_bit"] = 0.5
    v["ucie_bandwidth_gbps"] = 20.0
    study.utilizations = [0.5, 0.8]
    res = run(study)
    assert (res.scaling["scaling_efficiency"] < 1).any()
    path = tmp_path / "alt.xlsx"
    write_results(res, path)
    t = main_table(path, "Summary").set_index("Variant")
    assert t.loc["Aggressive Optimized", "Peak FP8 (TFLOPS)"] == pytest.approx(
        res.metrics.loc["Aggressive Optimized", "peak_fp8_tflops"]
    )
    charts = chart_parts(path)
    (power,) = charts["Power"]
    assert "at 80% utilisation" in power  # the highest utilisation studied
    compute = charts["Scaling"][0]
    assert compute.count("<c:ser>") == 2 * len(v)  # ideal and after D2D
    assert 'prstDash val="dash"' in compute


# --------------------------------------------------------------------------------
# LibreOffice: a second reader and renderer
# --------------------------------------------------------------------------------


def soffice(src: Path, fmt: str, outdir: Path) -> Path:
    return libreoffice_convert(src, fmt, outdir)


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_renders_pdf(written, results, tmp_path):
    pdf = soffice(written, "pdf", tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= len(sheets_for(results))


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_summary_values(written, results, tmp_path):
    # UTF-8, raw values (not as shown), first sheet = Summary
    out = soffice(
        written,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false",
        tmp_path,
    )
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Variant")
    header = rows[head]
    got = {}
    for r in rows[head + 1 :]:
        if not r or not r[0]:
            break
        got[r[0]] = dict(zip(header, r))
    t = results.comparison.table
    assert list(got) == list(t.index)
    for name, row in t.iterrows():
        g = got[name]
        assert float(g["Peak FP16 (TFLOPS)"]) == pytest.approx(
            row["target_peak_tflops"]
        )
        assert float(g["Density FP16 (TFLOPS/mm²)"]) == pytest.approx(
            row["target_density_tflops_per_mm2"]
        )
        assert float(g["Power at 100 % (W)"]) == pytest.approx(row["power_total_w"])
        assert float(g["FP16 TFLOPS/W"]) == pytest.approx(row["tflops_per_w"])
        assert float(g["Tj (°C)"]) == pytest.approx(row["junction_temp_c"])
        expected = "PASS" if row["meets_power_budget"] else "FAIL"
        assert g["Within power budget"] == expected
    cells = [c for r in rows for c in r]
    assert "No variant meets every target: none is recommended." in cells
    assert any(
        c.startswith("Best variant within the 500 W budget: Aggressive Optimized")
        for c in cells
    )


def test_reality_check_sheet_values(written, results):
    real = results.reality
    wb = openpyxl.load_workbook(written, read_only=False)
    row, _ = find(wb["Reality check"], "Variant or chip")
    t = table(written, "Reality check", row).iloc[: len(real)]
    t = t.set_index("Variant or chip")
    assert list(t.index) == [str(x) for x in real.index]
    np.testing.assert_allclose(
        t["Peak FP16 (TFLOPS)"].to_numpy(float), real["peak_fp16_tflops"]
    )
    assert t.loc["H100 SXM5", "Published TDP (W)"] == 700
    assert t.loc["B200 (HGX)", "Density FP16 (TFLOPS/mm²)"] in (
        "n/a",
        None,
    ) or np.isnan(t.loc["B200 (HGX)", "Density FP16 (TFLOPS/mm²)"])
    np.testing.assert_allclose(
        t.loc["Aggressive Optimized", "Power, physical preset (W)"],
        real.loc["Aggressive Optimized", "power_physical_w"],
    )
    (chart,) = chart_parts(written)["Reality check"]
    assert "<c:scatterChart>" in chart
    # one series per variant and per reference with a published die area
    known = int(results.study.references["die_area_mm2_each"].notna().sum())
    assert known >= 3  # H100, H200, A100 at least
    assert chart.count("<c:ser>") == 5 + known
