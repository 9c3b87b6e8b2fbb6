"""Exploration and uncertainty in the workbook: template, reader, result sheets, CLI,
adopt."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import libreoffice_convert
from make_input_corpus import BLANK, _a1, write

import xlmodel.studies.explore as ex
from xlmodel.cli import main
from xlmodel.cli.console import Progress
from xlmodel.errors import InputProblems, XlmodelError
from xlmodel.studies.run import run, seed_study
from xlmodel.workbook.adopt import adopt_design
from xlmodel.workbook.designs import DESIGNS_NAME
from xlmodel.workbook.inputs.exploration_setup import (
    EXAMPLE_CONSTRAINTS,
    EXAMPLE_RANGES,
)
from xlmodel.workbook.inputs.uncertainty_setup import EXAMPLE_SPREADS
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import BLOCKS

SETUP = "Exploration setup"
SPREADS = "Uncertainty setup"


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# --- the workbook ---------------------------------------------------------------------


def setup_cell(block: str, row: int, field: int) -> str:
    b = BLOCKS[block]
    return _a1(b.row + 1 + row, b.col + field)


def blank_ranges() -> dict:
    return {
        setup_cell("ranges", i, k): BLANK
        for i in range(len(EXAMPLE_RANGES))
        for k in range(5)
    }


def test_template_example_reads_back(tmp_path):
    study = read_study(write(tmp_path / "t.xlsx"))
    setup = study.exploration
    assert setup.base_variant == "Baseline" and setup.problem.method == "grid"
    assert [r.name for r in setup.problem.ranges] == list(EXAMPLE_RANGES)
    assert setup.problem.size == 7 * 6 * 4 * 4 * 8 * 4
    # blank limits take the Targets values (power budget 500 W, Tj max 105 °C)
    assert [(c.quantity, c.op) for c in setup.problem.constraints] == [
        (q, op) for q, op, _ in EXAMPLE_CONSTRAINTS
    ]
    assert [c.limit for c in setup.problem.constraints] == [500, 858, 105]
    assert [x.typed for x in setup.limits] == [False, True, False]
    assert [s.name for s in study.uncertainty.spreads] == list(EXAMPLE_SPREADS)
    assert not [w for w in study.warnings if "xploration" in w or "ncertain" in w]


def test_blank_tables_ask_for_nothing(tmp_path):
    spreads = {
        setup_cell("spreads", i, k): BLANK
        for i in range(len(EXAMPLE_SPREADS))
        for k in range(4)
    }
    edits = {SETUP: blank_ranges(), SPREADS: spreads}
    study = read_study(write(tmp_path / "t.xlsx", edits))
    assert study.exploration is None and study.uncertainty is None
    assert not [w for w in study.warnings if "xploration" in w or "ncertain" in w]


def test_old_workbooks_without_the_sheets_still_compute(tmp_path, runner):
    path = write(tmp_path / "old.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb[SETUP], wb[SPREADS]
    for name in list(wb.defined_names):
        if name in (
            "xlmodel_exploration",
            "xlmodel_ranges",
            "xlmodel_constraints",
            "xlmodel_objectives",
            "xlmodel_uncertainty",
            "xlmodel_spreads",
        ):
            del wb.defined_names[name]  # fmt: skip
    wb.save(path)
    study = read_study(path)
    assert study.exploration is None and study.uncertainty is None
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Exploration" not in names and "Uncertainty" not in names
    r = runner.invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 2 and "asks for no exploration" in r.output


@pytest.mark.parametrize(
    "sheet, edits, fragments",
    [
        (SETUP, {setup_cell("ranges", 0, 0): "sms_per_chiplt"},
         ["range parameter: 'sms_per_chiplt' is not a parameter",
          "did you mean sms_per_chiplet"]),
        (SETUP, {setup_cell("ranges", 1, 1): 3000, setup_cell("ranges", 1, 2): 2000},
         ["clock_mhz low: 3000 is above the high 2000"]),
        (SETUP, {setup_cell("ranges", 1, 2): 9000},
         ["clock_mhz high: 9000 is above the valid range"]),
        (SETUP, {setup_cell("ranges", 0, 3): BLANK}, ["grid points: '' is blank"]),
        (SETUP, {setup_cell("constraints", 0, 0): "power_w"},
         ["constraint: 'power_w' is not a metric or numeric parameter"]),
        (SETUP, {setup_cell("constraints", 0, 1): "<"},
         ["operator: '<' is not an operator: expected one of <=, >="]),
        (SETUP, {setup_cell("constraints", 0, 2): "lots"}, ["limit: 'lots' is not"]),
        (SETUP, {setup_cell("objectives", 0, 1): "up"}, ["sense: 'up' is not a sense"]),
        (SETUP, {setup_cell("objectives", 1, 0): "target_density_tflops_per_mm2"},
         ["is listed twice"]),
        (SETUP, {setup_cell("objectives", i, k): BLANK for i in range(2)
                 for k in range(3)}, ["no objectives"]),
        (SETUP, {setup_cell("exploration", 3, 1): "Nope"},
         ["base_variant: 'Nope' is not a variant name"]),
        (SETUP, {setup_cell("exploration", 0, 1): "sobol"}, ["method: 'sobol'"]),
        (SPREADS, {setup_cell("spreads", 0, 1): "lognormal"},
         ["distribution: 'lognormal' is not a distribution"]),
        (SPREADS, {setup_cell("spreads", 0, 2): 150}, ["spread %: 150"]),
        (SPREADS, {setup_cell("spreads", 1, 0): "sm_power_w"}, ["listed twice"]),
    ],
)  # fmt: skip
def test_setup_problems_name_their_cells(tmp_path, sheet, edits, fragments):
    with pytest.raises(InputProblems) as info:
        read_study(write(tmp_path / "bad.xlsx", {sheet: edits}))
    text = "\n".join(str(p) for p in info.value.problems)
    assert text.count(f"{sheet}!") >= 1, text
    for f in fragments:
        assert f in text, text


def test_too_many_grid_points_is_a_problem(tmp_path):
    edits = {setup_cell("ranges", i, 3): 10_000 for i in (1, 4)}  # clock, area
    with pytest.raises(InputProblems, match="use fewer grid points"):
        read_study(write(tmp_path / "big.xlsx", {SETUP: edits}))


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The template, computed: its exploration example and Monte Carlo included."""
    folder = tmp_path_factory.mktemp("computed")
    path = write(folder / "variants.xlsx")
    before = folder / "before.xlsx"
    before.write_bytes(path.read_bytes())
    from click.testing import CliRunner

    r = CliRunner().invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    return path, r.output


def test_explore_writes_its_sheets_and_charts(computed):
    path, output = computed
    assert "Pareto front of 7 design(s)" in output
    assert "xlmodel adopt" in output and "P(budget)" in output
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    for sheet in ("Global sensitivity", "Exploration", "Uncertainty"):
        assert sheet in names
    assert names.index("Sensitivity") < names.index("Exploration") < names.index("Run")
    ws = wb["Exploration"]
    assert DESIGNS_NAME in ws.defined_names
    ((_, ref),) = list(ws.defined_names[DESIGNS_NAME].destinations)
    header = ws[ref.replace("$", "")]
    assert header.value == "Design"
    row = header.row + 1
    first = {ws.cell(header.row, c).value: ws.cell(row, c).value for c in range(1, 20)}
    assert first["Design"] == 1 and first["On front"] == "yes"
    assert first["sms_per_chiplet (SMs)"] == 64
    assert first["target_density_tflops_per_mm2 (TFLOPS/mm²)"] == pytest.approx(
        64 * 8 * 256 * 2800e6 / 1e12 / 250
    )
    # charts: the cloud with the front and the binding bars; Sobol bars; CDFs
    with zipfile.ZipFile(path) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if "charts/chart" in n]
    assert any("Pareto front" in c and "Infeasible (sample" in c for c in charts)
    assert sum("ST: with interactions" in c for c in charts) == 3
    # power, density, TFLOPS/W and the unit cost (among the template's outputs)
    assert sum("Cumulative distribution" in c for c in charts) == 4
    u = pd.read_excel(path, sheet_name="Uncertainty", header=4, nrows=5)
    assert list(u["Variant"]) == list(seed_study().variants.index)
    assert (u["P(within power budget)"] <= 1).all()


def test_exploration_results_match_the_engine(computed):
    path, _ = computed
    study = read_study(path)
    results = run(study)
    designs = results.exploration.designs
    sheet = pd.read_excel(path, sheet_name="Exploration", header=None)
    flat = sheet.to_numpy().ravel().tolist()
    for v in designs["power_total_w"].head(5):
        assert any(isinstance(x, float) and abs(x - v) < 1e-9 for x in flat)


def test_ctrl_c_leaves_the_workbook_untouched(tmp_path, runner, monkeypatch):
    path = write(tmp_path / "v.xlsx")
    before = sha(path)

    def interrupt(problem, base, index):
        raise KeyboardInterrupt

    monkeypatch.setattr(ex, "summarise_chunk", interrupt)
    r = runner.invoke(main, ["explore", str(path), "--no-export"])
    assert r.exit_code == 130 and "not changed" in r.output
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.xlsx"]


def test_progress_lines_only_for_slow_stages(capsys):
    now = [0.0]
    p = Progress(clock=lambda: now[0])
    for done in range(1, 5):  # fast: nothing printed
        now[0] += 0.1
        p("explore", done * 10, 40)
    for done in range(1, 6):  # slow: a line per second and a last one
        now[0] += 0.6
        p("sobol", done * 100, 500)
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("Sobol indices:") for line in err)
    assert "500 / 500 model runs (100 %)" in err[-1] and len(err) <= 3


# --- adopt ----------------------------------------------------------------------------


def test_adopt_adds_a_column_and_keeps_every_other_part(computed, tmp_path):
    src, _ = computed
    path = tmp_path / "v.xlsx"
    path.write_bytes(src.read_bytes())
    done = adopt_design(path, 3, "Explored 3")
    assert (done.sheet, done.column, done.base_variant) == ("Variants", "I", "Baseline")
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(path) as b:
        assert a.namelist() == b.namelist()
        changed = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert changed == ["xl/worksheets/sheet2.xml"]
    study = read_study(path)
    assert list(study.variants.index)[-1] == "Explored 3"
    new, base = study.variants.loc["Explored 3"], study.variants.loc["Baseline"]
    designs = run(read_study(src)).exploration.designs
    for name in EXAMPLE_RANGES:
        assert new[name] == designs.loc[3, name]
    for name in ("l2_cache_mb", "hbm_stacks", "fp32_ops_per_cycle", "process_node"):
        assert new[name] == base[name]
    # the new column looks like the others
    ws = openpyxl.load_workbook(path)["Variants"]
    assert ws["I3"].font.color.rgb == ws["H3"].font.color.rgb
    with pytest.raises(XlmodelError, match="already a variant"):
        adopt_design(path, 3, "explored 3")
    with pytest.raises(XlmodelError, match="no design 999"):
        adopt_design(path, 999)


def test_adopt_through_the_cli(computed, tmp_path, runner):
    src, _ = computed
    path = tmp_path / "v.xlsx"
    path.write_bytes(src.read_bytes())
    r = runner.invoke(main, ["adopt", str(path), "--design", "1"])
    assert r.exit_code == 0 and "'Design 1'" in r.output, r.output
    r = runner.invoke(main, ["validate", str(path)])
    assert r.exit_code == 0 and "6 variant(s)" in r.output, r.output


def test_adopt_warns_when_the_inputs_changed_since_the_exploration(
    computed, tmp_path, runner
):
    """Another variant (one adopted before, say) is no change of the
    exploration; the base variant's cells and a sheet's own are, named."""
    src, _ = computed
    path = tmp_path / "v.xlsx"
    path.write_bytes(src.read_bytes())
    for design in (1, 2):  # the second adopt sees the first's column: no warning
        r = runner.invoke(main, ["adopt", str(path), "-d", str(design)])
        assert r.exit_code == 0 and "warning" not in r.output, r.output
    book = openpyxl.load_workbook(path)
    ws = book["Variants"]
    (row,) = [c.row for c in ws["A"] if c.value == "clock_mhz"]
    ws.cell(row, 4).value = 2100  # Baseline, the exploration's base
    ws.cell(row, 5).value = 2400  # another variant
    book["Targets"]["B5"].value = 0.7
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    r = runner.invoke(main, ["adopt", str(edited), "-d", "3"])
    assert r.exit_code == 0, r.output
    (line,) = [ln for ln in r.output.splitlines() if ln.startswith("warning:")]
    assert (
        f"2 input cell(s) changed since the exploration was computed (Variants!D{row}, Targets!B5)"
        in line
    )
    assert "'Baseline'" in line and "xlmodel explore" in line
    assert "'Design 3'" in r.output
    r = runner.invoke(main, ["adopt", str(path), "-d", "4", "--name", ""])
    assert r.exit_code == 2 and "'' is empty" in r.output, r.output
    r = runner.invoke(main, ["adopt", str(path), "-d", "4", "--name", "x" * 101])
    assert r.exit_code == 2 and "is 101 characters long, above 100" in r.output


def test_adopt_writes_through_the_package_layers_atomic_write(
    computed, tmp_path, runner, monkeypatch
):
    """adopt's write is compute's: a full disk is said to be one, the
    workbook keeps its bytes and no temporary file is left; a temporary file
    carries the prefix the next compute clears after a crash."""
    import errno
    import os

    from xlmodel.workbook.package import write

    src, _ = computed
    path = tmp_path / "v.xlsx"
    path.write_bytes(src.read_bytes())
    before = sha(path)
    names = []
    real_replace = os.replace

    def replace(a, b):
        names.append(os.path.basename(a))
        return real_replace(a, b)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write.os, "fsync", full)
    r = runner.invoke(main, ["adopt", str(path), "-d", "1"])
    assert r.exit_code == 2 and "the disk is full" in r.output, r.output
    assert sha(path) == before and os.listdir(tmp_path) == ["v.xlsx"]
    monkeypatch.undo()
    monkeypatch.setattr(write.os, "replace", replace)
    r = runner.invoke(main, ["adopt", str(path), "-d", "1"])
    assert r.exit_code == 0, r.output
    assert names and names[0].startswith(write.temp_prefix("v.xlsx")), names


@pytest.mark.libreoffice
def test_libreoffice_opens_an_adopted_workbook(computed, tmp_path):
    src, _ = computed
    path = tmp_path / "v.xlsx"
    path.write_bytes(src.read_bytes())
    adopt_design(path, 1)
    saved = libreoffice_convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    study = read_study(saved)
    assert study.variants.loc["Design 1", "clock_mhz"] == 2800


def test_adopt_needs_an_exploration(tmp_path, runner):
    path = write(tmp_path / "v.xlsx")
    before = sha(path)
    r = runner.invoke(main, ["adopt", str(path), "-d", "1"])
    assert r.exit_code == 2 and "no exploration results" in r.output
    assert sha(path) == before


# --- a range that changes nothing -----------------------------------------------------

FP16_RANGE = list(EXAMPLE_RANGES).index("fp16_ops_per_cycle")


def _int8(**setup) -> dict:
    from make_input_corpus import value_cell

    return {"Targets": {value_cell("target", "target_precision"): "INT8"}, SETUP: setup}


def _front(results) -> pd.DataFrame:
    d = results.exploration.designs
    return d[d["on_front"]]


def test_a_range_that_changes_no_objective_is_said_at_its_cell(tmp_path, runner):
    # At an INT8 target the objectives (INT8 density, power) and the constraints
    # (power, chiplet area, Tj) never read the FP16 rate (the power's throughput
    # exponent is 0): the 4 grid values of fp16_ops_per_cycle repeat every
    # design 4 times, so the front is 4 times the front with the rate fixed.
    path = write(tmp_path / "int8.xlsx", _int8())
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    cell = setup_cell("ranges", FP16_RANGE, 0)
    lines = [x for x in r.output.splitlines() if f"{SETUP}!{cell}" in x]
    assert len(lines) == 1, r.output
    line = lines[0]
    assert line.startswith(f"warning: {SETUP}!{cell} fp16_ops_per_cycle: changes none")
    assert "its 4 values only repeat each design, and the repeats crowd" in line
    assert "explore int8_ops_per_cycle" in line
    assert line.endswith("(affects: the Exploration sheet)")
    # an input to change comes before the model's comparisons (the Summary
    # shows the first five warnings)
    said = [x for x in r.output.splitlines() if x.startswith("warning: ")]
    preset = [i for i, x in enumerate(said) if "physical preset" in x]
    assert preset and said.index(line) < min(preset)
    results = run(read_study(path))
    assert results.idle_ranges == ("fp16_ops_per_cycle",)
    front = _front(results)
    objectives = ["target_density_tflops_per_mm2", "power_total_w"]
    counts = front.groupby(objectives).size()
    assert set(counts) == {4}
    assert sorted(front["fp16_ops_per_cycle"].unique()) == [64, 128, 192, 256]
    fixed = {setup_cell("ranges", FP16_RANGE, 1): 256}
    fixed_results = run(read_study(write(tmp_path / "fixed.xlsx", _int8(**fixed))))
    assert fixed_results.idle_ranges == ()  # one value: fixed on purpose
    assert len(front) == 4 * len(_front(fixed_results))
    assert not [w for w in fixed_results.study.warnings if "changes none" in w]
    # the Exploration sheet's ranges table says which range does nothing
    ws = openpyxl.load_workbook(path)["Exploration"]
    head = next(
        c
        for row in ws.iter_rows()
        for c in row
        if c.value == "Effect on the objectives and constraints"
    )
    said = {
        ws.cell(k, 1).value: ws.cell(k, head.column).value
        for k in range(head.row + 1, head.row + 1 + len(EXAMPLE_RANGES))
    }
    from xlmodel.workbook.results.exploration import IDLE_TEXT

    assert said["fp16_ops_per_cycle"] == IDLE_TEXT
    assert [k for k, v in said.items() if v] == ["fp16_ops_per_cycle"]


def test_every_range_of_the_template_changes_something(computed, tmp_path):
    # at FP16 the rate sets the density: no warning, no effect column
    path, output = computed
    assert "changes none of the exploration's" not in output
    ws = openpyxl.load_workbook(path)["Exploration"]
    texts = {c.value for row in ws.iter_rows() for c in row}
    assert "Effect on the objectives and constraints" not in texts
    # nor when the INT8 rate is the one explored at INT8
    edits = {setup_cell("ranges", FP16_RANGE, 0): "int8_ops_per_cycle"}
    assert (
        run(read_study(write(tmp_path / "i8.xlsx", _int8(**edits)))).idle_ranges == ()
    )


def test_a_sampled_range_that_changes_nothing_is_said_so_too(tmp_path):
    method = {setup_cell("exploration", 0, 1): "lhs"}
    study = read_study(write(tmp_path / "lhs.xlsx", _int8(**method)))
    assert study.exploration.problem.method == "lhs"
    results = run(study)
    assert results.idle_ranges == ("fp16_ops_per_cycle",)
    (line,) = [w for w in results.study.warnings if "changes none" in w]
    assert "it only adds a dimension that changes nothing" in line


def test_the_docs_physical_exploration_is_the_models(tmp_path):
    # docs/exploration.md describes the template's exploration under the
    # physical preset; its figures must be the model's today (it said 43
    # designs at 119-494 W up to 2.54 GHz and 19.5 % in thermal runaway, figures
    # of an earlier fit)
    import re

    import numpy as np
    from make_input_corpus import value_cell

    docs = (Path(__file__).resolve().parents[1] / "docs" / "exploration.md").read_text()
    text = " ".join(docs.split())
    m = re.search(
        r"the front holds (\d+) designs from ([\d.]+) to ([\d.]+) TFLOPS/mm² at "
        r"(\d+)-(\d+) W and clocks from ([\d.]+) to ([\d.]+) GHz \(none at the 2.8 "
        r"GHz top; (\d+) at the bottom of the range\), and ([\d.]+) % of the grid",
        text,
    )
    assert m, "the sentence moved: update this test with it"
    edits = {"Coefficients": {value_cell("coefficient", "power_preset"): "physical"}}
    results = run(read_study(write(tmp_path / "physical.xlsx", edits)))
    ex = results.exploration
    front = ex.designs[ex.designs["on_front"]]
    d = front["target_density_tflops_per_mm2"]
    p = front["power_total_w"]
    clock = front["clock_mhz"] / 1000
    assert int(m[1]) == len(front)
    assert (float(m[2]), float(m[3])) == (round(d.min(), 2), round(d.max(), 2))
    assert (int(m[4]), int(m[5])) == (round(p.min()), round(p.max()))
    assert (float(m[6]), float(m[7])) == (round(clock.min(), 2), round(clock.max(), 2))
    assert (clock == 2.8).sum() == 0 and int(m[8]) == (clock == 1.5).sum()
    tj = ex.constraints.set_index("quantity").loc["junction_temp_c"]
    assert float(m[9]) == round(100 * tj["violated"] / ex.points, 1)
    assert tj["alone"] == 0  # "Tj binds there, but never alone"
    assert np.isfinite(d).all()
