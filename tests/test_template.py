"""The input template: current with the schema, validated, and read back as the seed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import libreoffice_convert
from make_input_corpus import cell, modify

from xlmodel.schema import (
    COEFFICIENTS,
    PARAMETERS,
    TARGETS,
    VARIANT_PARAMETERS,
)
from xlmodel.studies.run import seed_study
from xlmodel.workbook.inputs.formats import UNUSED_NOTE
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import (
    BLOCKS,
    SHEETS,
    write_template,
)

COMMITTED = Path(__file__).resolve().parent.parent / "templates" / "variants.xlsx"
INPUT_FONT = "FF0000FF"
METADATA = ("docProps/app.xml", "docProps/core.xml")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "variants.xlsx"
    write_template(path)
    return path


@pytest.fixture(scope="module")
def book(fresh):
    return openpyxl.load_workbook(fresh)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n not in METADATA}


def test_committed_template_is_current(fresh):
    assert COMMITTED.is_file(), "templates/variants.xlsx is missing"
    committed, now = _parts(COMMITTED), _parts(fresh)
    assert sorted(committed) == sorted(now)
    stale = [name for name in now if committed[name] != now[name]]
    assert not stale, (
        f"templates/variants.xlsx is out of date ({', '.join(stale)}): run "
        "python -m xlmodel.workbook.template templates/variants.xlsx"
    )


def test_two_writes_give_identical_bytes(fresh, tmp_path):
    again = tmp_path / "again.xlsx"
    write_template(again)
    assert again.read_bytes() == fresh.read_bytes()


def test_sheets_in_order(book):
    assert book.sheetnames == list(SHEETS)


def _is_input(c) -> bool:
    return (
        c.font is not None
        and c.font.color is not None
        and (c.font.color.rgb == INPUT_FONT)
    )


def test_every_input_cell_has_validation_with_input_message(book):
    inputs = 0
    for ws in book.worksheets:
        rules = ws.data_validations.dataValidation
        for row in ws.iter_rows():
            for c in row:
                if not _is_input(c) or ws.title == "Guide":
                    continue
                inputs += 1
                covering = [dv for dv in rules if c.coordinate in dv.sqref]
                assert len(covering) == 1, (ws.title, c.coordinate)
                dv = covering[0]
                assert dv.showInputMessage and dv.prompt and dv.promptTitle, (
                    ws.title,
                    c.coordinate,
                )
                assert len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32
                assert c.fill.fgColor.rgb == "FFFFF2CC", (ws.title, c.coordinate)
    assert inputs > 5 * len(VARIANT_PARAMETERS)


def test_numeric_validation_matches_the_schema(book):
    ws = book["Variants"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for p in VARIANT_PARAMETERS:
        ref = f"D{rows[p.name]}"
        (dv,) = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
        assert dv.promptTitle == p.name
        assert p.description.rstrip(".") in dv.prompt
        if p.numeric:
            assert dv.type == ("whole" if p.kind == "int" else "decimal")
            assert (float(dv.formula1), float(dv.formula2)) == (p.minimum, p.maximum)
            assert p.unit in dv.prompt
        elif p.kind == "choice":
            assert dv.type == "list"


def test_no_formulas_in_input_sheets(book):
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v.startswith("=") for v in row)


def test_sections_on_their_sheets(book):
    def keys(title: str) -> set[str]:
        ws = book[title]
        return {v for (v,) in ws.iter_rows(min_col=1, max_col=1, values_only=True)}

    names = {p.name for p in PARAMETERS}
    assert keys("Variants") & names == {p.name for p in VARIANT_PARAMETERS}
    assert keys("Targets") & names == {p.name for p in TARGETS}
    assert keys("Coefficients") & names == {p.name for p in COEFFICIENTS}


def test_unused_parameters_are_marked(book):
    ws = book["Variants"]
    for p in VARIANT_PARAMETERS:
        row = next(r for r in ws.iter_rows() if r[0].value == p.name)
        description = row[2]
        if p.used:
            assert not description.font.i
        else:
            assert description.font.i and description.font.color.rgb == "FF808080"
            text = description.value
            assert UNUSED_NOTE in text or "no metric uses it" in text


def test_frozen_panes(book):
    expected = {
        "Variants": "D4",
        "Targets": "B4",
        "Coefficients": "B4",
        "Workloads": "A4",
        "Scaling setup": "D4",
        "Sensitivity setup": "A4",
    }
    for title, ref in expected.items():
        assert book[title].freeze_panes == ref, title


def test_defined_names_point_at_the_headers(book):
    for block in BLOCKS.values():
        dn = book.defined_names[block.defined_name]
        ((sheet, ref),) = list(dn.destinations)
        assert sheet == block.sheet
        assert book[sheet][ref.replace("$", "")].value == block.header[0]


def test_template_reads_back_as_the_seed(fresh):
    study, seed = read_study(fresh), seed_study()
    got = study.variants
    assert list(got.index) == list(seed.variants.index)
    assert set(got.columns) == {p.name for p in PARAMETERS}
    pd.testing.assert_frame_equal(
        got, seed.variants[got.columns], check_dtype=False, check_exact=True
    )
    for attr in (
        "workloads",
        "scaling_counts",
        "hbm_stacks_per_chiplet",
        "utilizations",
        "sweep_base",
        "sweeps",
        "tornado_parameters",
        "tornado_percent",
    ):
        assert getattr(study, attr) == getattr(seed, attr), attr
    # The seed's values draw plausibility warnings, nothing else.
    assert all(("plausible" in w or "shipping part" in w) for w in study.warnings)


@pytest.mark.libreoffice
def test_libreoffice_round_trip(tmp_path):
    # A formula without a cached value: LibreOffice computes and caches it on save.
    source = modify(
        tmp_path / "in.xlsx",
        lambda wb: wb["Variants"].__setitem__(cell("clock_mhz"), "=SUM(1000,1234)"),
    )
    saved = libreoffice_convert(source, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    study = read_study(saved)
    assert study.variants.loc["Baseline", "clock_mhz"] == 2234
    seed = seed_study().variants
    got = study.variants.drop(columns="clock_mhz")
    pd.testing.assert_frame_equal(got, seed[got.columns], check_dtype=False)
