"""The cost workbook: the Cost result sheet, the Cost setup sheet, node blanks."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from xlmodel.cli import main
from xlmodel.engine import evaluate
from xlmodel.engine.nodes import load_process_nodes
from xlmodel.studies.run import run
from xlmodel.workbook.reader import read_study

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"
PARTS = (
    "Raw dies (USD)",
    "Defective dies (USD)",
    "Package (USD)",
    "Package defects (USD)",
    "Good dies lost (USD)",
    "HBM (USD)",
    "Test (USD)",
)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def key_cells(ws, keys: set[str], column: int = 3) -> dict[str, str]:
    """Parameter -> cell of the first variant (column D) on Variants."""
    out = {}
    for row in ws.iter_rows():
        if row[0].value in keys:
            out[row[0].value] = row[column].coordinate
    return out


def breakdown(path: Path) -> pd.DataFrame:
    """The Cost sheet's first table, read with pandas (header: 'Variant' in A)."""
    raw = pd.read_excel(path, sheet_name="Cost", header=None)
    head = int(np.flatnonzero(raw[0].astype(str) == "Variant")[0])
    frame = pd.read_excel(path, sheet_name="Cost", header=head)
    end = np.flatnonzero(frame["Variant"].isna())
    return frame.iloc[: end[0]] if len(end) else frame


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    from click.testing import CliRunner

    d = tmp_path_factory.mktemp("cost")
    wb = d / "variants.xlsx"
    shutil.copy(TEMPLATE, wb)
    out = d / "out.xlsx"
    r = CliRunner().invoke(main, ["compute", str(wb), "-o", str(out), "--no-export"])
    assert r.exit_code == 0, r.output
    return wb, out


def test_template_leaves_node_cells_blank_and_reads_the_node_values():
    ws = load_workbook(TEMPLATE)["Variants"]
    names = {"wafer_price_usd", "defect_density_per_cm2", "mask_set_usd"}
    rows = [row for row in ws.iter_rows() if row[0].value in names]
    assert len(rows) == 3
    for row in rows:
        assert all(c.value is None for c in row[3:8]), row[0].value
    study = read_study(TEMPLATE)
    assert not any("wafer_price_usd" in w or "mask_set" in w for w in study.warnings)
    # every seed variant is on TSMC 3nm: $20,000, 0.10 /cm², $25M (the csv row)
    v = study.variants
    assert (v["wafer_price_usd"] == 20000).all()
    assert (v["defect_density_per_cm2"] == 0.10).all()
    assert (v["mask_set_usd"] == 25_000_000).all()


def test_cost_setup_sheet_holds_the_shipped_table():
    study = read_study(TEMPLATE)
    shipped = load_process_nodes()
    got = study.process_nodes
    assert list(got["process_node"]) == list(shipped["process_node"])
    assert list(got["aliases"]) == list(shipped["aliases"])
    assert list(got["source"]) == list(shipped["source"])
    for c in ("wafer_price_usd", "defect_density_per_cm2", "mask_set_usd"):
        assert np.allclose(got[c].astype(float), shipped[c].astype(float))


def test_template_computes_a_cost_sheet_equal_to_the_engine(computed):
    wb, out = computed
    assert "Cost" in load_workbook(out, read_only=True).sheetnames
    table = breakdown(out).set_index("Variant")
    study = read_study(wb)
    m = evaluate(study.variants)
    assert list(table.index) == list(study.variants.index)
    for col, metric in (
        ("Cost per good package (USD)", "cost_per_good_package_usd"),
        ("Unit cost (USD)", "unit_cost_usd"),
        ("Raw dies (USD)", "cost_raw_dies_usd"),
        ("HBM (USD)", "cost_hbm_usd"),
        ("Gross dies per wafer", "dies_per_wafer"),
        ("Die yield (%)", "die_yield"),
    ):
        assert np.allclose(table[col].astype(float), m[metric]), col
    # the seven parts sum to the cost per good package, row by row
    parts = table[list(PARTS)].astype(float).sum(axis=1)
    assert np.allclose(parts, table["Cost per good package (USD)"].astype(float))
    # 4 x 400 mm² = 1,600 mm² as one die is beyond the 858 mm² reticle: n/a
    assert table["Monolithic cost per good package (USD)"].isna().all()
    ws = load_workbook(out, read_only=True)["Cost"]
    texts = [c.value for row in ws.iter_rows(max_row=12) for c in row]
    assert texts.count("n/a") >= 5 * 4  # monolithic yield, cost, saving, ratio


def test_cost_sheet_versus_table_matches_the_study(computed):
    wb, out = computed
    ws = load_workbook(out)["Cost"]
    row = next(
        r
        for r in range(1, ws.max_row + 1)
        if str(ws.cell(r, 1).value).startswith("The same silicon cut into")
    )
    got = []
    r = row + 2
    while ws.cell(r, 1).value:
        got.append((ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 8).value))
        r += 1
    res = run(read_study(wb))
    vs = res.cost.versus_chiplets
    assert len(got) == len(vs)
    for (name, n, cost), (_, e) in zip(got, vs.iterrows()):
        assert name == e["variant"] and n == e["num_chiplets"]
        assert math.isclose(cost, e["cost_per_good_package_usd"], rel_tol=1e-12)


def test_cost_sheet_charts_are_native_and_stacked(computed):
    import re
    import zipfile

    _, out = computed
    z = zipfile.ZipFile(out)
    xml = [z.read(n).decode() for n in z.namelist() if re.match(r"xl/charts/", n)]
    stacked = [x for x in xml if "Cost per good package by part" in x]
    assert len(stacked) == 1
    assert '<c:grouping val="stacked"/>' in stacked[0]
    assert stacked[0].count("<c:ser>") == 7
    versus = [x for x in xml if "Cost per good package vs chiplets" in x]
    assert len(versus) == 1 and "<c:scatterChart>" in versus[0]
    assert versus[0].count("<c:ser>") == 5  # a line per variant, no monolithic


def _with_node(tmp_path: Path, cells: dict) -> Path:
    """The template with a node row added on Cost setup and Baseline's cells set."""
    wb = load_workbook(TEMPLATE)
    cs = wb["Cost setup"]
    r = cs.max_row + 1
    while cs.cell(r - 1, 1).value is None:
        r -= 1
    for c, v in enumerate(
        ["MyFab 4nm", "MF4", 40000, 0.2, 10_000_000, 2026, "our quote"], start=1
    ):
        cs.cell(r, c).value = v
    ws = wb["Variants"]
    where = key_cells(ws, {"process_node", *cells})
    ws[where["process_node"]] = "mf4"
    for k, v in cells.items():
        ws[where[k]] = v
    path = tmp_path / "node.xlsx"
    wb.save(path)
    return path


def test_a_user_added_node_is_used_by_a_variant_naming_it(tmp_path):
    path = _with_node(tmp_path, {})
    study = read_study(path)
    base = study.variants.loc["Baseline"]
    assert base["wafer_price_usd"] == 40000
    assert base["defect_density_per_cm2"] == 0.2
    assert base["mask_set_usd"] == 10_000_000
    other = study.variants.loc["Realistic Optimized"]
    assert other["wafer_price_usd"] == 20000
    # NRE per unit: $10M mask set over 1,000,000 units, no design NRE
    m = evaluate(study.variants)
    assert math.isclose(m.loc["Baseline", "nre_per_unit_usd"], 10.0)


def test_a_value_given_for_the_variant_wins_over_the_node(tmp_path):
    path = _with_node(tmp_path, {"wafer_price_usd": 12345})
    study = read_study(path)
    assert study.variants.loc["Baseline", "wafer_price_usd"] == 12345
    assert study.variants.loc["Baseline", "defect_density_per_cm2"] == 0.2


def test_an_unknown_node_with_blank_cells_is_one_line_per_cell(tmp_path, runner):
    wb = load_workbook(TEMPLATE)
    ws = wb["Variants"]
    where = key_cells(ws, {"process_node", "wafer_price_usd"})
    ws[where["process_node"]] = "Nowhere 1nm"
    path = tmp_path / "unknown.xlsx"
    wb.save(path)
    before = sha(path)
    r = runner.invoke(main, ["compute", str(path)])
    assert r.exit_code == 2
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3, r.output  # wafer price, defect density, mask set
    assert any(
        e.startswith(f"error: Variants!{where['wafer_price_usd']} wafer_price_usd")
        and "(Baseline) and process_node 'Nowhere 1nm' is not in the process" in e
        for e in errors
    ), errors
    assert sha(path) == before


@pytest.mark.parametrize(
    ("column", "value", "expect"),
    [
        (3, "cheap", "wafer_price_usd: 'cheap'"),
        (4, -1, "defect_density_per_cm2: -1"),
    ],
)
def test_a_bad_node_table_cell_is_one_clear_line_and_exit_2(
    tmp_path, runner, column, value, expect
):
    wb = load_workbook(TEMPLATE)
    cs = wb["Cost setup"]
    cs.cell(6, column).value = value  # the third node (TSMC 5nm)
    cell = cs.cell(6, column).coordinate
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    before = sha(path)
    r = runner.invoke(main, ["compute", str(path)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, r.output
    assert f"Cost setup!{cell} {expect}" in errors[0]
    assert "is not a number in" in errors[0]
    assert sha(path) == before


def test_a_repeated_node_label_is_refused(tmp_path, runner):
    wb = load_workbook(TEMPLATE)
    cs = wb["Cost setup"]
    cs.cell(6, 2).value = "N3"  # TSMC 5nm's aliases now claim TSMC 3nm's N3
    path = tmp_path / "dup.xlsx"
    wb.save(path)
    r = runner.invoke(main, ["validate", str(path)])
    assert r.exit_code == 2
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Cost setup!B6" in errors[0], r.output


def test_a_workbook_without_cost_setup_uses_the_shipped_table(tmp_path):
    wb = load_workbook(TEMPLATE)
    del wb["Cost setup"]
    path = tmp_path / "old.xlsx"
    wb.save(path)
    study = read_study(path)
    assert list(study.process_nodes["process_node"]) == list(
        load_process_nodes()["process_node"]
    )
    assert (study.variants["wafer_price_usd"] == 20000).all()
    # said, not silent: the prices are the shipped table's
    assert any(
        w.startswith("Cost setup: sheet not found")
        and "using the shipped process node table" in w
        for w in study.warnings
    ), study.warnings


def test_a_node_of_ones_own_with_a_date_cell_is_sourced_as_a_date(tmp_path, runner):
    # a row added to the Cost setup table, its as_of typed as a date (Excel
    # stores a date cell as a day number with a date format): the Cost sheet's
    # sources name it "as of 2025-06-01", as the cell shows it, not with the
    # time of day the reader's datetime carries
    import datetime as dt

    from make_input_corpus import with_node

    node = [
        "Intel 18A",
        "18A",
        25000,
        0.15,
        30_000_000,
        dt.datetime(2025, 6, 1),
        "mine",
    ]
    path = with_node(tmp_path / "node.xlsx", node, 2, "18a")
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    texts = [
        v
        for row in load_workbook(path)["Cost"].iter_rows(values_only=True)
        for v in row
        if isinstance(v, str)
    ]
    assert any("Intel 18A (as of 2025-06-01): mine" in t for t in texts), texts
    assert not any("00:00:00" in t for t in texts)
    study = read_study(path)
    assert study.variants.loc["High SM Density", "wafer_price_usd"] == 25000
