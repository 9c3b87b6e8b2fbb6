"""Cost and serving as figures of merit: the Summary, the recommendation, the Monte Carlo.

Each case is the template with a few cells changed, computed through the CLI and
read back; the winners are checked against figures taken from the Cost and
Inference sheets of the same workbook (unit cost, tokens/s), so the choice of the
figure of merit is checked by hand against what the user sees.
"""

from __future__ import annotations

import hashlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
from make_input_corpus import BLANK, _a1, cell, write
from test_summary_advice import (
    AGG,
    REAL,
    cell_with,
    computed,
    merge,
    summary_table,
    target,
)

import xlmodel
from xlmodel import evaluate
from xlmodel.cli import main
from xlmodel.engine import prepare
from xlmodel.studies.run import run, seed_study, with_merit
from xlmodel.studies.uncertainty import QUANTITIES, Uncertainty, monte_carlo
from xlmodel.workbook.inputs.serving_setup import SCENARIOS
from xlmodel.workbook.inputs.uncertainty_setup import (
    EXAMPLE_OUTPUTS,
    EXAMPLE_SPREADS,
    OUTPUTS,
)
from xlmodel.workbook.reader import read_study

HSD = "High SM Density"
#: Density target 0.15 TFLOPS/mm²: Realistic (0.242), High SM Density (0.176) and
#: Aggressive (0.819) meet every target (power 363, 412, 460 W within 500 W).
THREE_MEET = target("density_target_tflops_per_mm2", 0.15)
MEETING = (REAL, HSD, AGG)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cost_sheet(path) -> pd.DataFrame:
    raw = pd.read_excel(path, sheet_name="Cost", header=None)
    head = int(np.flatnonzero(raw[0].astype(str) == "Variant")[0])
    frame = pd.read_excel(path, sheet_name="Cost", header=head)
    end = np.flatnonzero(frame["Variant"].isna())
    return (frame.iloc[: end[0]] if len(end) else frame).set_index("Variant")


def inference_rows(path, model: str, scenario: str) -> pd.DataFrame:
    frame = pd.read_excel(path, sheet_name="Inference", header=5)
    rows = frame[(frame["Model"] == model) & (frame["Scenario"] == scenario)]
    return rows.set_index("Variant")


def scenario_cell(row: int, field: str) -> str:
    return _a1(SCENARIOS.row + 1 + row, SCENARIOS.col + SCENARIOS.header.index(field))


# --- unit cost and TFLOPS per dollar on the Summary ---------------------------------


def test_summary_shows_unit_cost_and_tflops_per_usd_from_the_cost_sheet(
    tmp_path, runner
):
    path, _ = computed(tmp_path, runner)
    t = summary_table(path)
    c = cost_sheet(path)
    for name in t.index:
        unit = c.loc[name, "Unit cost (USD)"]
        # unit cost = cost per good package + NRE per unit, as the Cost sheet has it
        assert unit == pytest.approx(
            c.loc[name, "Cost per good package (USD)"]
            + c.loc[name, "NRE per unit (USD)"]
        )
        assert t.loc[name, "Unit cost (USD per good package)"] == pytest.approx(unit)
        assert t.loc[name, "FP16 TFLOPS per USD (TFLOPS/USD)"] == pytest.approx(
            t.loc[name, "Peak FP16 (TFLOPS)"] / unit
        )
    # the assumptions are the line under the table: TSMC 3nm $20,000, 0.1 /cm²,
    # NRE $25M mask set over 1,000,000 units = $25 per unit
    note = cell_with(openpyxl.load_workbook(path)["Summary"], "Unit cost = ").value
    assert "TSMC 3nm wafer $20,000, 0.1 defects/cm²" in note
    assert "NRE per unit $25 = (mask set + design NRE) / 1,000,000 units" in note
    assert "Cost setup" in note


def test_int8_reads_tops_per_usd(tmp_path, runner):
    edits = merge(
        target("target_precision", "INT8"),
        target("figure_of_merit", "tflops_per_usd"),
        THREE_MEET,
    )
    path, _ = computed(tmp_path, runner, edits)
    t = summary_table(path)
    assert "INT8 TOPS per USD (TOPS/USD)" in t.columns
    why = cell_with(openpyxl.load_workbook(path)["Summary"], f"{AGG}: meets").value
    assert "TOPS per USD" in why and "TOPS/USD" in why and "TFLOPS" not in why


@pytest.mark.parametrize(
    "figure, column, lowest",
    [
        ("unit_cost", "Unit cost (USD per good package)", True),
        ("tflops_per_usd", "FP16 TFLOPS per USD (TFLOPS/USD)", False),
    ],
)
def test_the_cost_figures_pick_the_winner_by_hand(
    tmp_path, runner, figure, column, lowest
):
    edits = merge(THREE_MEET, target("figure_of_merit", figure))
    path, _ = computed(tmp_path, runner, edits)
    t = summary_table(path)
    values = t.loc[list(MEETING), column]
    # Aggressive: 5,371 USD, 0.183 TFLOPS/USD; Realistic 6,035 USD, 0.0562;
    # High SM Density 5,627 USD, 0.0400: the cheapest is also the best per dollar
    best = values.idxmin() if lowest else values.idxmax()
    assert best == AGG
    order = values.sort_values(ascending=lowest).index
    assert [t.loc[n, "Rank"] for n in order] == [1, 2, 3]
    ws = openpyxl.load_workbook(path)["Summary"]
    assert cell_with(ws, "Recommended variant:").value == f"Recommended variant: {AGG}"
    why = cell_with(ws, f"{AGG}: meets every target").value
    word = "lowest" if lowest else "best"
    assert f"has the {word} " in why and "of the 3 that do" in why
    assert f"(next: {order[1]}, " in why


@pytest.mark.parametrize(
    "figure, winner",
    [
        ("throughput_per_watt", "dear"),  # a tie: the first in input order
        ("unit_cost", "cheap"),
        ("tflops_per_usd", "cheap"),
    ],
)
def test_nre_alone_decides_on_the_cost_figures(figure, winner):
    # two copies of Aggressive Optimized, one with 1e9 USD of design NRE over the
    # 1,000,000 units: it costs 1,000 USD more per unit, nothing else differs
    study = seed_study()
    agg = study.variants.loc[AGG]
    v = pd.DataFrame([agg, agg], index=["dear", "cheap"]).infer_objects()
    v.loc["dear", "design_nre_usd"] = 1e9
    v["density_target_tflops_per_mm2"] = 0.5
    v["figure_of_merit"] = figure
    res = run(type(study)(v, sweep_base="cheap"))
    s = res.advice.scores
    assert s.loc["dear", "unit_cost_usd"] - s.loc["cheap", "unit_cost_usd"] == (
        pytest.approx(1e9 / float(agg["volume_units"]))
    )
    assert s.loc["dear", "mix_tflops_per_w"] == s.loc["cheap", "mix_tflops_per_w"]
    assert res.advice.recommended == winner
    assert bool(s["meets_all"].all())


@pytest.mark.parametrize("figure", ["unit_cost", "tflops_per_usd", "tokens_per_s"])
def test_closest_and_what_it_would_take_work_with_each_figure(tmp_path, figure):
    # default targets: no variant meets the 2 TFLOPS/mm² density target
    res = run(read_study(write(tmp_path / "c.xlsx", target("figure_of_merit", figure))))
    a = res.advice
    assert a.recommended is None and a.closest == AGG
    assert a.reach["reachable"].any()
    assert any(line.startswith("To meet the density target") for line in a.reach_lines)
    assert any(a.figure.label in line for line in a.lines)


def test_an_implausible_wafer_price_marks_the_unit_cost(tmp_path, runner):
    edits = merge(
        THREE_MEET,
        target("figure_of_merit", "unit_cost"),
        {"Variants": {cell("wafer_price_usd", 3): 90_000}},  # Aggressive
    )
    path, _ = computed(tmp_path, runner, edits)
    res = run(read_study(path))
    conf = res.advice.confidence
    assert "wafer_price_usd" in conf.flagged(AGG)
    assert {"unit_cost_usd", "tflops_per_usd"} <= set(conf.marked(AGG))
    assert "power_w" not in conf.marked(AGG)
    ws = openpyxl.load_workbook(path)["Summary"]
    # 90,000 USD wafers make Aggressive dearer than High SM Density
    t = summary_table(path)
    unit = t.loc[list(MEETING), "Unit cost (USD per good package)"]
    best = unit.idxmin()
    assert best == HSD
    assert cell_with(ws, "Recommended variant:").value == f"Recommended variant: {HSD}"
    warned = [w for w in res.study.warnings if "wafer_price_usd" in w]
    assert warned and "unit cost" in warned[0]


# --- serving figures ---------------------------------------------------------------


@pytest.mark.parametrize(
    "figure, column", [("tokens_per_s", "Output tokens/s, tp packages")]
)
def test_tokens_per_s_follows_the_chosen_model_and_scenario(
    tmp_path, runner, figure, column
):
    # scenario "interactive" (row 4) on 2 packages; model llama-3.1-8b
    edits = merge(
        THREE_MEET,
        target("figure_of_merit", figure),
        target("merit_model", "llama-3.1-8b"),
        target("merit_scenario", "interactive"),
        {"Serving setup": {scenario_cell(4, "tp"): 2}},
    )
    path, _ = computed(tmp_path, runner, edits)
    rows = inference_rows(path, "llama-3.1-8b", "interactive")
    unit = cost_sheet(path)["Unit cost (USD)"]
    per_usd = rows["Output tokens/s per USD (tokens/s / (tp x unit cost))"]
    for name in rows.index:
        assert per_usd[name] == pytest.approx(rows.loc[name, column] / (2 * unit[name]))
    t = summary_table(path)
    head = "Output tokens/s, llama-3.1-8b interactive (tokens/s)"
    assert t[head].to_numpy() == pytest.approx(rows.loc[t.index, column].to_numpy())
    winner = rows.loc[list(MEETING), column].idxmax()
    ws = openpyxl.load_workbook(path)["Summary"]
    assert (
        cell_with(ws, "Recommended variant:").value == f"Recommended variant: {winner}"
    )
    why = cell_with(ws, f"{winner}: meets every target").value
    assert "output tokens/s of llama-3.1-8b in interactive" in why
    assert "Figure of merit (Targets figure_of_merit)" in why
    # the Inference sheet's charts follow the Targets' choice
    study = run(read_study(path)).study
    assert study.serving.merit == ("llama-3.1-8b", "interactive")


def test_tokens_per_s_per_usd_picks_by_hand(tmp_path, runner):
    edits = merge(THREE_MEET, target("figure_of_merit", "tokens_per_s_per_usd"))
    path, _ = computed(tmp_path, runner, edits)
    # blank merit: the Serving setup's choice, llama-3.1-70b in chat
    rows = inference_rows(path, "llama-3.1-70b", "chat")
    per_usd = rows["Output tokens/s per USD (tokens/s / (tp x unit cost))"]
    unit = cost_sheet(path)["Unit cost (USD)"]
    tokens = rows["Output tokens/s, tp packages"]
    assert per_usd.to_numpy() == pytest.approx((tokens / unit[rows.index]).to_numpy())
    winner = per_usd[list(MEETING)].idxmax()
    ws = openpyxl.load_workbook(path)["Summary"]
    assert (
        cell_with(ws, "Recommended variant:").value == f"Recommended variant: {winner}"
    )
    t = summary_table(path)
    head = "Output tokens/s per USD, llama-3.1-70b chat (tokens/s/USD)"
    assert t.loc[winner, head] == pytest.approx(per_usd[winner])
    assert t.loc[winner, "Rank"] == 1


def test_tokens_per_s_beats_throughput_per_watt_where_they_disagree(tmp_path):
    results = {}
    for figure in ("throughput_per_watt", "tokens_per_s"):
        edits = merge(
            target("density_target_tflops_per_mm2", 0.2),
            target("figure_of_merit", figure),
        )
        results[figure] = run(read_study(write(tmp_path / f"{figure}.xlsx", edits)))
    # Realistic and Aggressive meet; per watt Realistic wins (same mix, less power),
    # on llama-3.1-70b chat tokens/s Aggressive does
    assert results["throughput_per_watt"].advice.recommended == REAL
    merit = results["tokens_per_s"].serving_merit()
    assert (
        merit.loc[AGG, "output_tokens_per_s"] > merit.loc[REAL, "output_tokens_per_s"]
    )
    assert results["tokens_per_s"].advice.recommended == AGG


@pytest.mark.parametrize(
    "edits, fragment",
    [
        (
            target("merit_model", "gpt-5"),
            "merit_model: 'gpt-5' is not a model served (Models sheet): expected "
            "one of llama-3.1-8b, llama-3.1-70b",
        ),
        (
            target("merit_scenario", "batch job"),
            "merit_scenario: 'batch job' is not a scenario of the Serving setup "
            "sheet: expected one of chat, summarise",
        ),
        (
            merge(
                target("figure_of_merit", "tokens_per_s"),
                {
                    "Serving setup": {
                        scenario_cell(r, f): BLANK
                        for r in range(5)
                        for f in SCENARIOS.header
                    }
                },
            ),
            "figure_of_merit: 'tokens_per_s' ranks by LLM serving, but the workbook "
            "serves no models",
        ),
    ],
    ids=["model", "scenario", "no-serving"],
)
def test_bad_merit_is_one_line_and_exit_2(tmp_path, runner, edits, fragment):
    path = write(tmp_path / "m.xlsx", edits)
    before = sha(path)
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 2, r.output
    assert r.output.count("error:") == 1
    line = next(x for x in r.output.splitlines() if x.startswith("error:"))
    assert line.startswith("error: Targets!B") and fragment in line
    assert "Traceback" not in r.output
    assert sha(path) == before


def test_blank_merit_targets_warn_about_nothing(tmp_path):
    study = read_study(write(tmp_path / "t.xlsx"))
    assert study.targets["merit_model"] == "" == study.targets["merit_scenario"]
    assert not [w for w in study.warnings if "merit_" in w]


def test_api_merit_and_serving_figure_without_serving():
    study = seed_study()
    with pytest.raises(ValueError, match="serves no models"):
        v = study.variants.assign(figure_of_merit="tokens_per_s_per_usd")
        run(type(study)(v))
    assert with_merit(study) is study  # no serving study: nothing to choose


def test_serve_gives_tokens_per_s_per_usd():
    v = seed_study().variants
    for tp in (1, 2):
        out = xlmodel.serve(v, "llama-3.1-8b", 128, 2048, "FP8", tp=tp)
        unit = evaluate(v)["unit_cost_usd"]
        assert out["output_tokens_per_s_per_usd"].to_numpy() == pytest.approx(
            (out["output_tokens_per_s"] / (tp * unit)).to_numpy()
        )


# --- cost in the Monte Carlo --------------------------------------------------------


def test_template_monte_carlo_outputs_the_unit_cost(tmp_path, runner):
    path, _ = computed(tmp_path, runner)
    study = read_study(path)
    assert study.uncertainty.quantities == EXAMPLE_OUTPUTS
    assert "unit_cost_usd" in EXAMPLE_OUTPUTS
    u = pd.read_excel(path, sheet_name="Uncertainty", header=4, nrows=5)
    u = u.set_index("Variant")
    res = run(study).uncertainty.summary
    for p in ("P10", "P50", "P90"):
        col = f"Unit cost {p} (USD)"
        assert u[col].to_numpy() == pytest.approx(
            res.loc[u.index, f"unit_cost_usd_{p.lower()}"].to_numpy()
        )
    # wafer price +/-15 % and defect density +/-30 % spread the unit cost around
    # its nominal value, the Cost sheet's
    unit = cost_sheet(path)["Unit cost (USD)"]
    assert (u["Unit cost P10 (USD)"] < unit[u.index]).all()
    assert (u["Unit cost P90 (USD)"] > unit[u.index]).all()


def test_the_cost_spreads_leave_the_other_figures_as_they_were(tmp_path):
    study = read_study(write(tmp_path / "t.xlsx"))
    spec = study.uncertainty
    res = run(study)
    without = Uncertainty(
        tuple(
            s for s in spec.spreads if "wafer" not in s.name and "defect" not in s.name
        ),
        spec.samples,
        spec.seed,
    )
    assert len(without.spreads) == len(EXAMPLE_SPREADS) - 2
    v = res.study.variants
    from xlmodel.engine.nodes import fill_process_nodes
    from xlmodel.studies.reference import apply_power_preset

    x = prepare(fill_process_nodes(apply_power_preset(v), study.process_nodes))
    alone = monte_carlo(x, list(v.index), without).summary
    for q in QUANTITIES:
        for p in ("p10", "p50", "p90"):
            np.testing.assert_array_equal(
                res.uncertainty.summary[f"{q}_{p}"].to_numpy(),
                alone[f"{q}_{p}"].to_numpy(),
            )


def _output_cell(i: int) -> str:
    return _a1(OUTPUTS.row + 1 + i, OUTPUTS.col)


def test_chosen_outputs_and_blank_outputs(tmp_path, runner):
    blank = {_output_cell(i): BLANK for i in range(len(EXAMPLE_OUTPUTS))}
    study = read_study(write(tmp_path / "b.xlsx", {"Uncertainty setup": blank}))
    assert study.uncertainty.quantities == QUANTITIES
    chosen = dict(blank)
    chosen[_output_cell(0)] = "cost_per_good_die_usd"
    chosen[_output_cell(1)] = "Power_Total_W"
    path, _ = computed(tmp_path, runner, {"Uncertainty setup": chosen}, "c.xlsx")
    assert read_study(path).uncertainty.quantities == (
        "cost_per_good_die_usd",
        "power_total_w",
    )
    heads = list(pd.read_excel(path, sheet_name="Uncertainty", header=4, nrows=1))
    assert "cost_per_good_die_usd P50 (USD)" in heads and "Power P50 (W)" in heads
    assert not any("density" in h for h in heads[:7])  # then P(density target met)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("unit_cost", "is not a numeric engine metric (did you mean unit_cost_usd?)"),
        ("meets_power_budget", "is not a numeric engine metric"),
        ("power_total_w", "is listed twice; keep one row"),
    ],
)
def test_a_bad_output_is_one_line(tmp_path, runner, value, fragment):
    k = len(EXAMPLE_OUTPUTS)
    path = write(tmp_path / "o.xlsx", {"Uncertainty setup": {_output_cell(k): value}})
    before = sha(path)
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 2, r.output
    assert r.output.count("error:") == 1
    assert f"error: Uncertainty setup!{_output_cell(k)} Monte Carlo output: " in (
        r.output
    )
    assert fragment in r.output
    assert sha(path) == before
