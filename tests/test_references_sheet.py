"""The References sheet: shipped chips in the template, user rows read and checked."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest

from xlmodel.cli import main
from xlmodel.errors import InputProblems
from xlmodel.studies.reference import REFERENCE_COLUMNS, load_chips
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import BLOCKS, write_template


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "variants.xlsx"
    write_template(path)
    return path


def _edit(path, out, rows):
    """Append ``rows`` (dicts of column -> value) to the References table."""
    wb = openpyxl.load_workbook(path)
    ws = wb["References"]
    block = BLOCKS["references"]
    header = block.row + 1
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    r = header + 1
    while ws.cell(r, 1).value not in (None, ""):
        r += 1
    for row in rows:
        for k, v in row.items():
            ws.cell(r, cols[k]).value = v
        r += 1
    wb.save(out)
    return out


def test_template_references_equal_shipped_chips(template):
    study = read_study(template)
    shipped = load_chips()
    assert list(study.references.index) == list(shipped.index)
    assert list(study.references.columns) == [c for c, *_ in REFERENCE_COLUMNS[1:]]
    assert study.references.loc["H100 SXM5", "fp16_dense_tflops"] == 989.4


def test_user_chip_joins_the_reality_check(template, tmp_path, runner):
    mine = {
        "chip": "Our last gen",
        "process_node": "TSMC N5",
        "compute_dies": 2,
        "die_area_mm2_each": 600,
        "sms_or_cus": 96,
        "tensor_cores_per_sm": 4,
        "clock_mhz": 1800,
        "fp16_dense_tflops": 96 * 4 * 1024 * 1.8e-6 * 1000,
        "hbm_stacks": 6,
        "hbm_bw_tbps": 4.8,
        "tdp_w": 600,
    }
    path = _edit(template, tmp_path / "mine.xlsx", [mine])
    study = read_study(path)
    assert "Our last gen" in study.references.index
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(path, read_only=True)
    values = [c for row in wb["Reality check"].iter_rows(values_only=True) for c in row]
    assert "Our last gen" in values
    # 96 SMs x 4 TC x 1024 FLOP/clk x 1.8 GHz = 707.8 TFLOPS, reproduced
    assert any(isinstance(v, float) and abs(v - 707.7888) < 1e-3 for v in values)


def test_a_reference_node_without_a_size_is_a_warning_at_its_cell(
    template, tmp_path, runner
):
    # a chip of one's own whose process node names no size: its physical
    # preset power took a 5 nm-class node without a word
    from make_input_corpus import rival_chip

    mine = rival_chip(process_node="Foundry next")
    path = _edit(template, tmp_path / "mine.xlsx", [mine])
    r = runner.invoke(main, ["validate", str(path)])
    assert r.exit_code == 0, r.output
    said = [x for x in r.output.splitlines() if "Rival X" in x]
    wb = openpyxl.load_workbook(path)
    ws = wb["References"]
    (cell,) = [c for row in ws.iter_rows() for c in row if c.value == "Foundry next"]
    assert said == [
        f"warning: References!{cell.coordinate} process_node (Rival X): 'Foundry "
        "next' names no size in nm or Å: the physical power preset takes it as a "
        "5 nm-class node (voltage and transistor density; the chip's Power, "
        "physical preset on the Reality check); put the size in its label, e.g. "
        "'Foundry next 5nm'"
    ]
    # the shipped chips all name a size
    r = runner.invoke(main, ["validate", str(template)])
    assert "names no size" not in r.output
    # the same chip in a CSV for calibrate: said there too
    table = load_chips().reset_index()
    import pandas as pd

    table = pd.concat([table, pd.DataFrame([mine])], ignore_index=True)
    csv = tmp_path / "chips.csv"
    table.to_csv(csv, index=False)
    r = runner.invoke(main, ["calibrate", str(csv)])
    assert r.exit_code == 0, r.output
    assert (
        "warning: chips.csv: Rival X process_node 'Foundry next' names no size in "
        "nm or Å: taken as a 5 nm-class node" in r.output
    )


def test_bad_reference_rows_are_problems_with_cells(template, tmp_path):
    rows = [
        {
            "chip": "Bad clock",
            "process_node": "N5",
            "compute_dies": 1,
            "sms_or_cus": 10,
            "tensor_cores_per_sm": 4,
            "clock_mhz": "fast",
            "fp16_dense_tflops": 10,
            "hbm_stacks": 1,
            "hbm_bw_tbps": 1,
        },
        {
            "chip": "H100 SXM5",
            "process_node": "N5",
            "compute_dies": 1,
            "sms_or_cus": 10,
            "tensor_cores_per_sm": 4,
            "clock_mhz": 1000,
            "fp16_dense_tflops": 10,
            "hbm_stacks": 1,
            "hbm_bw_tbps": 1,
        },
        {
            "chip": "Half dies",
            "process_node": "N5",
            "compute_dies": 1.5,
            "sms_or_cus": 10,
            "tensor_cores_per_sm": 4,
            "clock_mhz": 1000,
            "fp16_dense_tflops": 10,
            "hbm_stacks": 1,
            "hbm_bw_tbps": -1,
        },
    ]
    path = _edit(template, tmp_path / "bad.xlsx", rows)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputProblems) as e:
        read_study(path)
    lines = [str(p) for p in e.value.problems]
    assert any(
        "Bad clock clock_mhz: 'fast' is not a number above 0" in x for x in lines
    ), lines
    assert any("duplicate chip" in x for x in lines)
    assert any("Half dies compute_dies: 1.5 is not a whole number" in x for x in lines)
    assert any("Half dies hbm_bw_tbps: -1" in x for x in lines)
    assert all(x.startswith("References!") for x in lines)
    assert len(lines) == 4
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_figure_beyond_any_package_is_a_problem_at_its_cell(template, tmp_path):
    """A peak of 1e308 TFLOPS or a 2 km² die passed the reader and made the
    fits' sums infinite; such a value is a problem at its cell, and a
    wafer-scale chip's real figures (46,225 mm², 900,000 cores, 23 kW) are
    not."""
    chip = {
        "process_node": "TSMC N5",
        "compute_dies": 1,
        "sms_or_cus": 900_000,
        "tensor_cores_per_sm": 1,
        "clock_mhz": 1100,
        "fp16_dense_tflops": 125_000,
        "hbm_stacks": 1,
        "hbm_bw_tbps": 21_000,
        "die_area_mm2_each": 46_225,
        "tdp_w": 23_000,
    }
    rows = [
        {**chip, "chip": "Wafer"},
        {**chip, "chip": "Slip", "fp16_dense_tflops": 1e308, "die_area_mm2_each": 2e6},
        {**chip, "chip": "Hot", "tdp_w": 1e9},
    ]
    path = _edit(template, tmp_path / "huge.xlsx", rows)
    with pytest.raises(InputProblems) as e:
        read_study(path)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 3, lines
    assert any(
        "Slip fp16_dense_tflops: 1e+308 is above 10,000,000, beyond any package" in x
        for x in lines
    ), lines
    assert any("Slip die_area_mm2_each: 2000000 is above 100,000" in x for x in lines)
    assert any("Hot tdp_w: 1000000000 is above 100,000" in x for x in lines)
    assert all(x.startswith("References!") for x in lines)
    ok = _edit(template, tmp_path / "wafer.xlsx", rows[:1])
    assert read_study(ok).references.loc["Wafer", "sms_or_cus"] == 900_000
    # the same limit in a reference CSV
    csv = tmp_path / "chips.csv"
    load_chips().reset_index().assign(l2_mb=2e6).to_csv(csv, index=False)
    with pytest.raises(ValueError, match="l2_mb: 2e[+]06 is above 1,000,000"):
        load_chips(csv)


def test_missing_references_sheet_uses_shipped_chips_and_says_so(template, tmp_path):
    wb = openpyxl.load_workbook(template)
    del wb["References"]
    path = tmp_path / "norefs.xlsx"
    wb.save(path)
    study = read_study(path)
    assert list(study.references.index) == list(load_chips().index)
    assert any("References: sheet not found" in w for w in study.warnings)


def test_reference_outside_model_ranges_is_left_out_with_a_warning(template, tmp_path):
    odd = {
        "chip": "Slow part",
        "process_node": "N5",
        "compute_dies": 1,
        "sms_or_cus": 10,
        "tensor_cores_per_sm": 4,
        "clock_mhz": 50,
        "fp16_dense_tflops": 1,
        "hbm_stacks": 1,
        "hbm_bw_tbps": 1,
    }
    path = _edit(template, tmp_path / "odd.xlsx", [odd])
    from xlmodel.studies.run import run

    res = run(read_study(path))
    assert "Slow part" not in res.reality.index
    assert "H100 SXM5" in res.reality.index
    assert any(
        "Slow part cannot be expressed" in w and "clock_mhz: 50" in w
        for w in res.study.warnings
    )


#: A reference chip a user adds, with the columns every row needs.
_CHIP = {
    "chip": "My board",
    "process_node": "N5",
    "compute_dies": 1,
    "sms_or_cus": 100,
    "tensor_cores_per_sm": 4,
    "clock_mhz": 1500,
    "fp16_dense_tflops": 400,
    "hbm_stacks": 4,
    "hbm_bw_tbps": 3,
}


def test_tdp_kind_takes_draw_limit_or_blank(template, tmp_path):
    chip = dict(_CHIP)
    bad = _edit(template, tmp_path / "bad.xlsx", [{**chip, "tdp_kind": "cap"}])
    with pytest.raises(InputProblems) as e:
        read_study(bad)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 1, lines
    assert lines[0].startswith("References!") and "My board tdp_kind" in lines[0]
    assert "'cap' is not draw, limit or blank" in lines[0]
    good = _edit(template, tmp_path / "good.xlsx", [{**chip, "tdp_kind": "Limit"}])
    chips = read_study(good).references
    chips = chips.reset_index() if "chip" not in chips.columns else chips
    assert chips.set_index("chip").loc["My board", "tdp_kind"] == "limit"


def test_measured_dense_clock_on_the_sheet(template, tmp_path):
    # the shipped measurements are on the template and read back
    refs = read_study(template).references
    assert refs.loc["MI300X", "dense_clock_mhz"] == 1207
    assert refs.loc["MI325X", "dense_clock_precision"] == "bf16"
    chip = {**_CHIP, "dense_clock_mhz": 1200}
    bad = _edit(
        template, tmp_path / "bad.xlsx", [{**chip, "dense_clock_precision": "fp12"}]
    )
    with pytest.raises(InputProblems) as e:
        read_study(bad)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 1, lines
    assert "My board dense_clock_precision" in lines[0]
    assert "'fp12' is not bf16, fp16, fp8, int8, fp32, fp4 or blank" in lines[0]
    good = _edit(
        template, tmp_path / "good.xlsx", [{**chip, "dense_clock_precision": "BF16"}]
    )
    mine = read_study(good).references.loc["My board"]
    assert mine["dense_clock_mhz"] == 1200
    assert mine["dense_clock_precision"] == "bf16"


def test_a_references_sheet_without_silicon_takes_the_shipped_dies(template, tmp_path):
    from xlmodel.studies.reality import reality_table

    study = read_study(template)
    assert not [w for w in study.warnings if "silicon" in w]
    assert study.references.loc["H100 PCIe", "silicon"] == "GH100"
    # a References sheet of the layout before the column: its header cleared,
    # and a chip of the user's own added
    wb = openpyxl.load_workbook(template)
    ws = wb["References"]
    header = BLOCKS["references"].row + 1
    for c in range(1, ws.max_column + 1):
        if ws.cell(header, c).value == "silicon":
            ws.cell(header, c).value = None
    last = max(r for r in range(header, ws.max_row + 1) if ws.cell(r, 1).value)
    for c in range(1, ws.max_column + 1):
        ws.cell(last + 1, c).value = ws.cell(last, c).value
    ws.cell(last + 1, 1).value = "My board"
    old = tmp_path / "old.xlsx"
    wb.save(old)
    before = read_study(old)
    lines = [w for w in before.warnings if "silicon" in w]
    n = len(study.references)
    assert len(lines) == 1 and lines[0].startswith("References: no silicon column")
    assert f"the die of {n} of the {n + 1} chips taken from the shipped" in lines[0]
    assert "the other 1 are each their own die" in lines[0]
    # the shipped chips keep their dies, the user's is its own
    refs = before.references
    assert (refs["silicon"].drop("My board") == study.references["silicon"]).all()
    assert refs.loc["My board", "silicon"] == ""
    # so the Reality check is the same for the shipped chips as with the column
    new = reality_table(study.variants, study.references)
    was = reality_table(before.variants, refs.drop("My board"))
    assert was["power_physical_w"].equals(new["power_physical_w"])
