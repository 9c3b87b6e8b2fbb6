"""The Summary's advice: recommendation, what it would take, confidence, limits.

Every case is a workbook written from the template with a few cells changed,
computed (through the CLI where the sheet is read back) and checked against
figures worked out here by hand or with the engine directly.
"""

from __future__ import annotations

import hashlib
import math
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from make_input_corpus import BLANK, _a1, value_cell, write

from xlmodel import evaluate
from xlmodel.cli import main
from xlmodel.schema import BY_NAME, SEED_WORKLOADS
from xlmodel.studies.reach import EVERY_TARGET, NO_EFFECT, NOT_REACHABLE
from xlmodel.studies.reference import apply_power_preset, with_physical_preset
from xlmodel.studies.run import run
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import BLOCKS

T = "Targets"
SETUP = "Exploration setup"
MC = "Uncertainty setup"
AGG, REAL = "Aggressive Optimized", "Realistic Optimized"
# seed densities (FP16, TFLOPS/mm²): peak / (chiplets x area)
DENSITY = {
    "Baseline": 65.536 / 1600,
    REAL: 339.1488 / 1400,
    "High SM Density": 225.28 / 1280,
    AGG: 983.04 / 1200,
    "Power Optimized": 88.4736 / 1520,
}


def target(name: str, value) -> dict:
    return {T: {value_cell("target", name): value}}


def merge(*edits: dict) -> dict:
    out: dict = {}
    for e in edits:
        for sheet, cells in e.items():
            out.setdefault(sheet, {}).update(cells)
    return out


def block_cell(block: str, row: int, field: int) -> str:
    b = BLOCKS[block]
    return _a1(b.row + 1 + row, b.col + field)


def computed(tmp_path, runner, edits=None, name="case.xlsx"):
    """Compute a workbook through the CLI; (path, CLI output)."""
    path = write(tmp_path / name, edits)
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    return path, r.output


def texts(path, sheet="Summary") -> list[str]:
    """Every text a reader sees on a sheet (a formula's cached result included)."""
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def cell_with(ws, prefix: str):
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(prefix):
                return c
    raise AssertionError(f"no cell starting {prefix!r} on {ws.title}")


def summary_table(path) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path)["Summary"]
    row = next(c.row for c in ws["A"] if c.value == "Variant")
    frame = pd.read_excel(path, sheet_name="Summary", header=row - 1)
    end = frame.index[frame["Variant"].isna()]
    return (frame.iloc[: end[0]] if len(end) else frame).set_index("Variant")


def results_of(tmp_path, edits=None, name="case.xlsx"):
    return run(read_study(write(tmp_path / name, edits)))


# --- the recommendation ---------------------------------------------------------------


def test_no_variant_meets_every_target(tmp_path, runner):
    path, out = computed(tmp_path, runner)
    ws = openpyxl.load_workbook(path)["Summary"]
    banner = cell_with(ws, "No variant meets every target")
    assert banner.value == "No variant meets every target: none is recommended."
    assert banner.fill.fgColor.rgb.endswith("FCE4D6")  # not the green banner
    with pytest.raises(AssertionError):
        cell_with(ws, "Recommended variant:")
    # shortfall = (target - density) / target: the only target missed is density
    t = summary_table(path)
    for name, d in DENSITY.items():
        assert t.loc[name, "Shortfall (sum of shares)"] == pytest.approx((2 - d) / 2)
    order = sorted(DENSITY, key=lambda n: (2 - DENSITY[n]) / 2)
    assert [t.loc[n, "Rank"] for n in order] == [1, 2, 3, 4, 5]
    assert t.loc[AGG, "Recommended"] == "closest"
    assert cell_with(ws, "Closest: ").value.startswith(
        f"Closest: {AGG}, shortfall {(2 - DENSITY[AGG]) / 2:.3g} (density 0.8192"
    )
    ranking = cell_with(ws, "Then, by shortfall: ").value
    assert ranking.startswith(
        "Then, by shortfall: "
        + "; ".join(
            f"{k}. {n} {(2 - DENSITY[n]) / 2:.3g}"
            for k, n in enumerate(order[1:], start=2)
        )
    )
    # the seed's statements, as facts beside the advice, on the sheet and the console
    facts = [
        f"Best variant within the 500 W budget: {AGG} (0.819 TFLOPS/mm² FP16, 460 W).",
        "No variant meets the 2.0 TFLOPS/mm² FP16 density target (best 0.819, 41 % "
        "of it).",
    ]
    found = texts(path)
    for f in facts:
        assert f in found
        assert f in out
    assert "The seed's statements (facts, not the recommendation)" in found
    assert not any("0.5-1.0" in x for x in found)  # no canned advice


def test_exactly_one_meets_every_target(tmp_path, runner):
    # density target 0.8: only Aggressive Optimized (0.8192) reaches it, within
    # the 500 W budget (460 W) and Tj max (71 °C)
    path, out = computed(tmp_path, runner, target("density_target_tflops_per_mm2", 0.8))
    ws = openpyxl.load_workbook(path)["Summary"]
    banner = cell_with(ws, "Recommended variant:")
    assert banner.value == f"Recommended variant: {AGG}"
    assert banner.fill.fgColor.rgb.endswith("E2EFDA")  # green
    assert cell_with(ws, f"{AGG}: the only variant that meets every target")
    assert cell_with(ws, f"{AGG} meets every target, nothing to change")
    t = summary_table(path)
    assert t.loc[AGG, "Recommended"] == "yes"
    assert t.loc[AGG, "Shortfall (sum of shares)"] == 0
    assert f"Recommended variant: {AGG}" in out


def _mix(peak: float, bw_tbps: float, weights: dict[str, float]) -> float:
    """Time-weighted roofline by hand: sum of share x min(peak, AI x bandwidth)."""
    total = sum(weights.values())
    return sum(
        w / total * min(peak, SEED_WORKLOADS[n] * bw_tbps) for n, w in weights.items()
    )


@pytest.mark.parametrize(
    "figure, best",
    [("throughput_per_watt", REAL), ("peak_density", AGG), (BLANK, REAL)],
)
def test_two_meet_and_the_figure_of_merit_decides(tmp_path, runner, figure, best):
    # density target 0.2: Realistic (0.242) and Aggressive (0.819) meet every target.
    # Both are memory-bound on every workload (1.024 TB/s): the same mix throughput,
    # so per watt the lower-power Realistic wins; by peak density Aggressive does.
    edits = merge(
        target("density_target_tflops_per_mm2", 0.2), target("figure_of_merit", figure)
    )
    path, _ = computed(tmp_path, runner, edits)
    t = summary_table(path)
    equal = {n: 1.0 for n in SEED_WORKLOADS}
    mix = _mix(339.1488, 1.024, equal)
    assert mix == pytest.approx(_mix(983.04, 1.024, equal)) == pytest.approx(28.416)
    assert t.loc[REAL, "Workload-mix FP16 (TFLOPS)"] == pytest.approx(mix)
    assert t.loc[REAL, "Workload-mix TFLOPS/W"] == pytest.approx(mix / 363.4)
    assert t.loc[AGG, "Workload-mix TFLOPS/W"] == pytest.approx(mix / 459.6)
    ws = openpyxl.load_workbook(path)["Summary"]
    assert cell_with(ws, "Recommended variant:").value == f"Recommended variant: {best}"
    other = AGG if best == REAL else REAL
    why = cell_with(ws, f"{best}: meets every target and has the best").value
    assert "of the 2 that do" in why and f"(next: {other}" in why
    assert t.loc[best, "Rank"] == 1 and t.loc[other, "Rank"] == 2


def test_workload_weights_drive_the_mix(tmp_path, runner):
    # weights 3:1 on GEMM (optimized) and GEMM (naive), 0 elsewhere
    weights = dict.fromkeys(SEED_WORKLOADS, 0.0)
    weights["GEMM (optimized)"], weights["GEMM (naive)"] = 3.0, 1.0
    b = BLOCKS["workloads"]
    cells = {_a1(b.row + 1 + i, b.col + 3): w for i, w in enumerate(weights.values())}
    path, _ = computed(tmp_path, runner, {"Workloads": cells})
    t = summary_table(path)
    # Baseline: 0.75 x min(65.536, 102.4) + 0.25 x min(65.536, 10.24) = 51.712
    assert _mix(65.536, 1.024, weights) == pytest.approx(51.712)
    assert t.loc["Baseline", "Workload-mix FP16 (TFLOPS)"] == pytest.approx(51.712)
    assert t.loc[AGG, "Workload-mix FP16 (TFLOPS)"] == pytest.approx(
        0.75 * 102.4 + 0.25 * 10.24
    )
    assert t.loc["Baseline", "Workload mix (% of peak)"] == pytest.approx(
        51.712 / 65.536
    )


@pytest.mark.parametrize(
    "weights, fragment",
    [
        ({0: 1, 1: BLANK}, "Workloads!D5 GEMM (naive) run-time weight: '' is blank "
         "while other workloads have weights"),
        (dict.fromkeys(range(6), 0), "every run-time weight is 0"),
        ({2: -1}, "Workloads!D6 FlashAttention run-time weight: -1"),
    ],
)  # fmt: skip
def test_bad_weights_are_one_line_each(tmp_path, runner, weights, fragment):
    b = BLOCKS["workloads"]
    cells = {_a1(b.row + 1 + i, b.col + 3): w for i, w in weights.items()}
    path = write(tmp_path / "w.xlsx", {"Workloads": cells})
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 2, r.output
    assert fragment in r.output
    assert r.output.count("error:") == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_blank_weights_mean_equal_shares(tmp_path):
    b = BLOCKS["workloads"]
    cells = {_a1(b.row + 1 + i, b.col + 3): BLANK for i in range(len(SEED_WORKLOADS))}
    study = read_study(write(tmp_path / "w.xlsx", {"Workloads": cells}))
    assert study.workload_weights is None
    res = run(study)
    assert res.advice.shares == pytest.approx(
        dict.fromkeys(SEED_WORKLOADS, 1 / len(SEED_WORKLOADS))
    )


# --- what it would take -----------------------------------------------------------------


def test_a_changed_target_changes_the_advice(tmp_path, runner):
    # SMs per chiplet for Aggressive Optimized to reach density D:
    # 4 x S x 8 x 256 x 2500e6 / 1e12 / 1200 >= D  ->  S >= D x 1200 / 20.48
    texts_at = {}
    for density in (2.0, 1.0):
        path, _ = computed(
            tmp_path,
            runner,
            target("density_target_tflops_per_mm2", density),
            f"d{density}.xlsx",
        )
        ws = openpyxl.load_workbook(path)["Summary"]
        texts_at[density] = cell_with(ws, "To meet the density target").value
        sms = math.ceil(density * 1200 / 20.48)
        assert f"sms_per_chiplet {sms} SMs (now 48" in texts_at[density]
    assert texts_at[2.0] != texts_at[1.0]
    assert "118 SMs" in texts_at[2.0] and "59 SMs" in texts_at[1.0]
    # density 1.0: front designs reach it within 500 W; the advice names one
    assert cell_with(ws, "Exploration: design ")


def _judge(row: pd.Series, goal: str) -> bool:
    """Whether ``row`` meets ``goal``, judged here with the engine directly."""
    m = evaluate(apply_power_preset(row.to_frame().T.infer_objects())).iloc[0]
    checks = {
        "density target": m["target_density_tflops_per_mm2"]
        >= row["density_target_tflops_per_mm2"],
        "power budget": m["power_total_w"] <= row["power_budget_w"],
        "Tj max": m["junction_temp_c"] <= row["tj_max_c"],
    }
    return all(checks.values()) if goal == EVERY_TARGET else bool(checks[goal])


@pytest.mark.parametrize(
    "edits",
    [
        {},
        merge(target("power_budget_w", 400), target("tj_max_c", 60)),
        merge(
            target("power_budget_w", 300),
            {"Coefficients": {value_cell("coefficient", "power_preset"): "physical"}},
        ),
    ],
    ids=["seed", "power-and-tj", "physical-preset"],
)
def test_what_it_would_take_is_met_there_and_not_one_step_short(tmp_path, edits):
    res = results_of(tmp_path, edits)
    a = res.advice
    name = a.subject
    variant = res.study.variants.loc[name]
    reach = a.reach
    assert len(reach) and reach["reachable"].any()
    for r in reach.itertuples():
        p = BY_NAME[r.parameter]
        if not r.reachable:  # met at neither end of the valid range
            for bound in (math.ceil(p.minimum), math.floor(p.maximum)):
                row = variant.copy()
                row[r.parameter] = float(bound)
                assert not _judge(row, r.target), r
            continue
        row = variant.copy()
        row[r.parameter] = r.value
        assert _judge(row, r.target), r
        direction = np.sign(r.value - r.now)
        short = r.value - direction * (1 if p.kind == "int" else 1e-3 * abs(r.value))
        row[r.parameter] = short
        assert not _judge(row, r.target), r
        if p.kind == "int":
            assert float(r.value).is_integer()
    # the text quotes the table's figures
    text = " ".join(a.reach_lines)
    first = reach[reach["reachable"]].iloc[0]
    assert f"{first.parameter} " in text


_FIGURES = {
    "density target": ("target_density_tflops_per_mm2",),
    "power budget": ("power_total_w",),
    "Tj max": ("junction_temp_c",),
}
_FIGURES[EVERY_TARGET] = tuple(f for fs in list(_FIGURES.values()) for f in fs)


def _figures(row: pd.Series, goal: str) -> np.ndarray:
    m = evaluate(apply_power_preset(row.to_frame().T.infer_objects())).iloc[0]
    return np.array([m[f] for f in _FIGURES[goal]], dtype=float)


def test_a_parameter_without_effect_on_a_target_is_said_to_have_none(tmp_path, runner):
    # density = chiplets x SMs x TCs x ops x clock / (chiplets x area): the chiplet
    # count, the HBM stacks and bandwidth and the L2 do not enter it; the clock
    # does, but Aggressive Optimized (0.8192 TFLOPS/mm² at 2,500 MHz) would need
    # 2500 x 2 / 0.8192 = 6,104 MHz, above the valid 6,000
    res = results_of(tmp_path)
    reach = res.advice.reach
    density = reach[reach["target"] == "density target"].set_index("parameter")
    idle = {"num_chiplets", "hbm_stacks", "hbm_bandwidth_gbps_per_stack", "l2_cache_mb"}
    assert set(density.index[density["status"] == NO_EFFECT]) == idle
    assert density.loc["clock_mhz", "status"] == NOT_REACHABLE
    assert 2500 * 2 / DENSITY[AGG] > BY_NAME["clock_mhz"].maximum
    # every row without effect: the same figures across its whole valid range;
    # every one not reachable: other figures somewhere in it
    variant = res.study.variants.loc[res.advice.subject]
    for r in reach[~reach["reachable"]].itertuples():
        p = BY_NAME[r.parameter]
        own = _figures(variant, r.target)
        spread = []
        for x in np.linspace(p.minimum, p.maximum, 7):
            row = variant.copy()
            row[r.parameter] = float(round(x) if p.kind == "int" else x)
            spread.append(np.allclose(_figures(row, r.target), own, rtol=1e-9))
        assert all(spread) == (r.status == NO_EFFECT), r
    # the rows without effect last; the text names them apart
    order = list(density["status"])
    assert order.index(NO_EFFECT) > max(
        i for i, st in enumerate(order) if st != NO_EFFECT
    )
    text = " ".join(res.advice.reach_lines)
    assert "Not reachable within the valid range: clock_mhz." in text
    assert (
        "No effect on density within their valid ranges: l2_cache_mb, num_chiplets, "
        "hbm_stacks, hbm_bandwidth_gbps_per_stack." in text
    )
    # at an INT8 target the FP16 rate has no effect either, and the Summary's
    # table says so in its own words
    path, _ = computed(tmp_path, runner, target("target_precision", "INT8"), "i8.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    head = cell_with(ws, "Reachable in the valid range")
    said = {}
    for row in range(head.row + 1, ws.max_row + 1):
        name = ws.cell(row, 1).value
        if not name:
            break
        said[name] = ws.cell(row, head.column).value
    assert said["fp16_ops_per_cycle"] == "no effect"
    assert {said[n] for n in idle} == {"no effect"}
    assert said["clock_mhz"] in ("yes", "no") and "yes" in said.values()
    # and the rate INT8 counts is named, to be searched
    text = " ".join(texts(path))
    assert (
        "(the target precision INT8 counts int8_ops_per_cycle: list it on "
        "Sensitivity setup to search it)" in text
    )


@pytest.mark.parametrize(
    "edits",
    [
        merge(target("power_budget_w", 400), target("tj_max_c", 60)),
        merge(
            target("power_budget_w", 300),
            {"Coefficients": {value_cell("coefficient", "power_preset"): "physical"}},
        ),
    ],
    ids=["power-and-tj", "physical-preset"],
)
def test_bisecting_several_steps_a_pass_is_bisecting_one_step_a_pass(
    tmp_path, monkeypatch, edits
):
    from xlmodel.studies import reach as reach_module

    study = read_study(write(tmp_path / "case.xlsx", edits))
    passes = []
    met = reach_module._Search.met

    def counted(self, goals, names, values):
        passes.append(len(goals))
        return met(self, goals, names, values)

    monkeypatch.setattr(reach_module._Search, "met", counted)
    several = run(study).advice.reach
    many = len(passes)
    monkeypatch.setattr(reach_module, "LEVELS", 1)
    passes.clear()
    one = run(study).advice.reach
    assert len(passes) > 3 * many  # one step a pass: many more passes
    pd.testing.assert_frame_equal(several, one, check_exact=True)
    assert several["reachable"].any()


def test_power_and_tj_misses_search_every_target_at_once(tmp_path):
    # budget 400 W, Tj max 60 °C: shortfalls (density + power + Tj, hand-worked)
    # Realistic 0.879 + 0 + (61.34 - 60) / 35 = 0.917 is the closest
    edits = merge(target("power_budget_w", 400), target("tj_max_c", 60))
    res = results_of(tmp_path, edits)
    s = res.advice.scores
    tj = 25 + 0.1 * 363.4
    assert s.loc[REAL, "shortfall"] == pytest.approx(
        (2 - DENSITY[REAL]) / 2 + (tj - 60) / 35
    )
    agg_tj = 25 + 0.1 * 459.6
    assert s.loc[AGG, "shortfall"] == pytest.approx(
        (2 - DENSITY[AGG]) / 2 + (459.6 - 400) / 400 + (agg_tj - 60) / 35
    )
    assert res.advice.closest == REAL
    targets = set(res.advice.reach["target"])
    assert targets == {"density target", "Tj max", EVERY_TARGET}


def test_front_design_nearest_meeting_every_target(tmp_path):
    res = results_of(tmp_path, target("density_target_tflops_per_mm2", 1.0))
    a = res.advice
    assert a.closest == AGG and a.front is not None and a.front["design"] is not None
    ex = res.exploration
    prob = ex.problem
    front = ex.designs[ex.designs["on_front"]]
    base = res.study.variants.loc[res.study.exploration.base_variant]
    rows = pd.DataFrame([base] * len(front), index=front.index).infer_objects()
    for n in prob.names:
        rows[n] = front[n].to_numpy(float)
    m = evaluate(rows)
    ok = m["meets_all_targets"].to_numpy()
    assert ok.sum() == a.front["meeting"] >= 1
    width = np.array([r.high - r.low for r in prob.ranges])
    at = res.study.variants.loc[AGG, prob.names].to_numpy(float)
    dist = np.sqrt((((rows[prob.names].to_numpy(float) - at) / width) ** 2).mean(1))
    dist[~ok] = np.inf
    assert a.front["design"] == front.index[int(np.argmin(dist))]
    line = next(x for x in a.reach_lines if x.startswith("Exploration: design"))
    assert f"design {a.front['design']} " in line


# --- confidence -------------------------------------------------------------------------


def test_warnings_name_the_results_they_affect(tmp_path, runner):
    path, out = computed(tmp_path, runner)
    res = results_of(tmp_path, name="again.xlsx")
    warnings = res.study.warnings
    assert warnings and all("(affects: " in w for w in warnings)
    hbm = next(w for w in warnings if "hbm_bandwidth_gbps_per_stack" in w)
    # the seed preset's HBM power is per stack: bandwidth moves throughput only
    assert hbm.endswith("(affects: workload-mix throughput and throughput per watt)")
    preset = next(w for w in warnings if "physical preset" in w)
    assert preset.endswith("(affects: power, TFLOPS/W, throughput per watt and Tj)")
    assert f"warning: {hbm}" in out
    # the Summary marks the cells computed from the implausible HBM bandwidth
    wb = openpyxl.load_workbook(path)
    ws = wb["Summary"]
    head = next(c.row for c in ws["A"] if c.value == "Variant")
    col = next(c.column for c in ws[head] if c.value == "Workload-mix FP16 (TFLOPS)")
    amber = [
        cf.sqref
        for cf in ws.conditional_formatting
        if any(rule.formula == ["TRUE"] for rule in cf.rules)
    ]

    def marked(coord: str) -> bool:
        return any(coord in ranges for ranges in amber)

    letter = openpyxl.utils.get_column_letter(col)
    for i in range(5):
        assert marked(f"{letter}{head + 1 + i}")
    peak = openpyxl.utils.get_column_letter(
        next(c.column for c in ws[head] if c.value == "Peak FP16 (TFLOPS)")
    )
    # FP16 FLOP per clock per SM is plausible for every seed variant: the reference
    # chips include MI250X and MI210 at 1,024 per CU, so Baseline's 512 is half of
    # the smallest shipping part, not below it: no peak cell is marked
    agg = next(c.row for c in ws["A"] if c.value == AGG and c.row > head)
    base = next(c.row for c in ws["A"] if c.value == "Baseline" and c.row > head)
    assert not marked(f"{peak}{agg}") and not marked(f"{peak}{base}")
    assert not any("fp16_ops_per_cycle" in w for w in warnings)
    t = summary_table(path)
    assert "hbm_bandwidth_gbps_per_stack" in t.loc[AGG].iloc[-1]


@pytest.mark.parametrize("preset", ["seed", "physical"])
def test_summary_states_the_power_model_and_the_other_presets_power(
    tmp_path, runner, preset
):
    edits = {"Coefficients": {value_cell("coefficient", "power_preset"): preset}}
    path, _ = computed(tmp_path, runner, edits)
    t = summary_table(path)
    study = read_study(path)
    v = study.variants
    seed_w = evaluate(v)["power_total_w"]
    physical_w = evaluate(with_physical_preset(v))["power_total_w"]
    used, other = (seed_w, physical_w) if preset == "seed" else (physical_w, seed_w)
    for name in v.index:
        assert t.loc[name, "Power model (preset)"] == preset
        assert t.loc[name, "Power at 100 % (W)"] == pytest.approx(used[name])
        assert t.loc[name, "Power, other preset (W)"] == pytest.approx(other[name])
    line = cell_with(openpyxl.load_workbook(path)["Summary"], "Power model: ").value
    assert f"the {preset} preset" in line
    assert f"{other.min():,.0f}-{other.max():,.0f} W" in line


# --- targets drive every study ----------------------------------------------------------


def _constraint_cell(i: int) -> str:
    return block_cell("constraints", i, 2)


def test_blank_exploration_limits_follow_targets_through_the_cli(tmp_path, runner):
    path = write(tmp_path / "x.xlsx", target("power_budget_w", 800))
    r = runner.invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    assert "power_total_w <= 800 W: violated by" in r.output
    assert "Limits: power_total_w <= 800 W, junction_temp_c <= 105 °C from Targets" in (
        r.output
    )
    wb = openpyxl.load_workbook(path)
    assert any(
        x.startswith("Limits: power_total_w <= 800 W, junction_temp_c <= 105 °C")
        for x in texts(path, "Exploration")
    )
    ws = wb["Exploration"]
    assert "power_total_w <= 800 W" in [c.value for c in ws["A"]]


def test_a_typed_exploration_limit_overrides_and_says_so(tmp_path, runner):
    edits = merge(target("power_budget_w", 800), {SETUP: {_constraint_cell(0): 450}})
    path = write(tmp_path / "x.xlsx", edits)
    r = runner.invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    assert "power_total_w <= 450 W: violated by" in r.output
    line = (
        "power_total_w <= 450 W typed on Exploration setup, overriding the Targets "
        "power_budget_w 800"
    )
    assert line in r.output
    assert any(line in x for x in texts(path, "Exploration"))


def test_a_blank_limit_without_a_target_is_a_problem(tmp_path, runner):
    path = write(tmp_path / "x.xlsx", {SETUP: {_constraint_cell(1): BLANK}})
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = runner.invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 2, r.output
    cell = _constraint_cell(1)
    assert (
        f"error: Exploration setup!{cell} chiplet_area_mm2 limit: '' is blank and no "
        "target gives chiplet_area_mm2 <=" in r.output
    )
    assert r.output.count("error:") == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_uncertainty_limits_follow_targets_unless_typed(tmp_path, runner):
    power_row = 1  # density, power, Tj
    follow = merge(target("power_budget_w", 800))
    typed = merge(follow, {MC: {block_cell("uncertainty_limits", power_row, 1): 450}})
    p_budget = {}
    for label, edits in (("follow", follow), ("typed", typed)):
        path, out = computed(tmp_path, runner, edits, f"{label}.xlsx")
        u = read_study(path).uncertainty
        src = u.limits[power_row]
        assert src.target == "power_budget_w" and src.target_value == 800
        assert src.typed == (label == "typed")
        found = texts(path, "Uncertainty")
        line = next(x for x in found if x.startswith("Limits: "))
        assert line in out
        p_budget[label] = run(read_study(path)).uncertainty.summary.loc[
            AGG, "p_meets_power_budget"
        ]
        if label == "typed":
            assert (
                "power_total_w <= 450 W typed on Uncertainty setup, overriding "
                "the Targets power_budget_w 800" in line
            )
        else:
            assert "power_total_w <= 800 W" in line and "from Targets" in line
    # nominal 460 W: always within 800 W, mostly not within 450 W
    assert p_budget["follow"] == 1.0
    assert p_budget["typed"] < 0.5


def test_targets_of_their_own_are_said_as_a_range_and_judged_per_variant(
    tmp_path, runner
):
    # Power budgets of 300-700 W, one per variant, and Baseline's own density
    # target 0.03 on rows of their names under the Variants table; Targets keeps
    # 2 TFLOPS/mm² and 500 W for the rest. Before, every sheet and statement
    # spoke of Baseline's 300 W: "Best variant within the 300 W budget:
    # Aggressive Optimized (..., 460 W)".
    probe = write(tmp_path / "probe.xlsx")
    last = openpyxl.load_workbook(probe)["Variants"].max_row
    budgets = dict(zip("DEFGH", (300, 400, 500, 600, 700), strict=True))
    cells = {f"A{last + 1}": "power_budget_w", f"B{last + 1}": "W"}
    cells.update({f"{c}{last + 1}": w for c, w in budgets.items()})
    cells.update(
        {f"A{last + 2}": "density_target_tflops_per_mm2", f"D{last + 2}": 0.03}
    )
    path, out = computed(tmp_path, runner, {"Variants": cells}, "own.xlsx")
    # Aggressive Optimized: 983.04 TFLOPS / 1200 mm² = 0.8192, 459.6 W of its
    # 600 W, the densest within its own budget; Baseline (0.041 >= 0.03, 267 W
    # of 300 W) the only one meeting every target
    assert (
        "Best variant within its own power budget (300-700 W, per variant): "
        "Aggressive Optimized (0.819 TFLOPS/mm² FP16, 460 W of its 600 W)." in out
    )
    assert "Recommended variant: Baseline" in out
    assert "within the 300 W budget" not in out
    wb = openpyxl.load_workbook(path)
    sub = wb["Summary"]["A2"].value
    assert (
        "density target 0.03-2 TFLOPS/mm² (per variant) · power budget 300-700 W "
        "(per variant) · Tj max 105 °C" in sub
    )
    run_sheet = {
        r[0]: r[1] for r in wb["Run"].iter_rows(values_only=True) if r and r[0]
    }
    assert run_sheet["Power budget (W)"] == "300-700 (per variant)"
    assert run_sheet["Tj max (°C)"] == 105
    scaling = texts(path, "Scaling")
    assert (
        "Largest chiplet count within each variant's power budget (300-700 W)"
        in scaling
    )
    assert "Chart data: power budget line" not in scaling
    # the exploration, around Baseline, takes Baseline's own budget
    assert "Limits: power_total_w <= 300 W (Baseline's own), junction_temp_c" in out
    # the Monte Carlo judges each variant by its own (a blank limit), and says so
    assert (
        "power_total_w <= each variant's own 300-700 W, junction_temp_c <= 105 °C "
        "from Targets" in out
    )
    assert any(
        "each variant's own 0.03-2 TFLOPS/mm²" in t for t in texts(path, "Uncertainty")
    )
    # the Summary's charts: a dash at each variant's own target, no line joining
    # them (a line sloped from 0.03 up to 2 between the first two columns)
    with zipfile.ZipFile(path) as z:
        charts = [
            z.read(n).decode()
            for n in z.namelist()
            if n.startswith("xl/charts/chart") and n.endswith(".xml")
        ]
    density = next(c for c in charts if "Compute density vs target" in c)
    line = density[density.index("<c:lineChart>") :]
    assert '<c:symbol val="dash"/>' in line
    assert "<a:ln><a:noFill/></a:ln>" in line.replace(" ", "")


def test_targets_shared_by_every_variant_keep_the_seeds_words(tmp_path, runner):
    path, out = computed(tmp_path, runner, name="shared.xlsx")
    assert "Best variant within the 500 W budget: Aggressive Optimized" in out
    sub = openpyxl.load_workbook(path)["Summary"]["A2"].value
    assert "density target 2 TFLOPS/mm² · power budget 500 W · Tj max 105 °C" in sub
    assert "Chart data: power budget line" in texts(path, "Scaling")


def test_a_figure_of_merit_that_cannot_rank_says_so_in_the_banner(tmp_path, runner):
    # llama-3.1-405b at FP8 is 405 GB of weights; a seed variant has 8 x 24 GB =
    # 192 GB of HBM: at tp 1 it fits on none, so its tokens/s is 0 for all five
    # variants, which all meet a 0.01 TFLOPS/mm² target. Before, Baseline was
    # "Recommended" as having "the best output tokens/s ...: 0 tokens/s".
    edits = merge(
        target("figure_of_merit", "tokens_per_s"),
        target("merit_model", "llama-3.1-405b"),
        target("density_target_tflops_per_mm2", 0.01),
    )
    path, out = computed(tmp_path, runner, edits, "405b.xlsx")
    assert 405 > 8 * 24  # GB of FP8 weights against a package's HBM
    banner = "Recommended variant: Baseline, by column order only: the figure of merit ties at 0"
    assert banner in out
    assert "the figure of merit cannot rank them: none of the 5 serves" in out
    assert "has the best output tokens/s" not in out
    ws = openpyxl.load_workbook(path)["Summary"]
    head = cell_with(ws, "Recommended variant: Baseline, by column order only")
    assert head.fill.fgColor.rgb.endswith("FFF2CC")  # amber, not the green
    # a figure that ranks keeps the seed's words
    _, ranked = computed(
        tmp_path,
        runner,
        merge(
            target("figure_of_merit", "tokens_per_s"),
            target("density_target_tflops_per_mm2", 0.01),
        ),
        "70b.xlsx",
    )
    assert "by column order" not in ranked
    assert "meets every target and has the best output tokens/s" in ranked


def test_at_int8_the_words_count_tops_as_the_sheets_do(tmp_path, runner):
    # 1e12 integer operations per second are TOPS on every result sheet; the
    # advice, the seed's statements and the console table said TFLOPS
    path, out = computed(
        tmp_path, runner, target("target_precision", "INT8"), "i8.xlsx"
    )
    assert "INT8 TOPS" in out and "TOPS/mm²" in out.splitlines()[0] + out
    head = next(x for x in out.splitlines() if x.startswith("variant "))
    assert "INT8 TOPS" in head and "TOPS/mm²" in head and "TOPS/W" in head
    assert "TFLOPS" not in head
    summary = [t for t in texts(path) if "density" in t and "/mm²" in t]
    advice = [
        t
        for t in summary
        if t.startswith(("Closest:", "To meet", "No variant meets the"))
    ]
    assert advice and all("TFLOPS" not in t for t in advice), advice
    assert any("TOPS/mm² INT8 density target" in t for t in summary)
