"""Result sheets are xlmodel's by identity; copies and renames are the user's.

A result sheet carries a sheet-scoped marker whose value is the name xlmodel gave
it. The marker travels with a copy ("Summary (2)") and a rename ("Cost Q3"), but
the name does not: such a sheet is the user's, kept byte-identical, and the Run
sheet says what was replaced and what was kept. Also here: the request for a
recalculation when a user formula reads a result sheet, the main part's content
type following the target's extension, and the lock file of a linked workbook.

Copy and rename are made twice: by editing the package, and by LibreOffice itself
through its UNO bridge (``tests/lo_uno.py``, run by the system Python).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import has_uno, libreoffice_edit

from xlmodel import pipeline
from xlmodel.cli import main
from xlmodel.workbook import package, report
from xlmodel.workbook.package.ownership import sheet_reference

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "variants.xlsx"


# --- reading and editing packages -------------------------------------------------


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def _write(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> its part name, read from the workbook part and its rels."""
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = {}
    for rel in re.findall(r"<Relationship [^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', rel).group(1)
        target = re.search(r'Target="([^"]+)"', rel).group(1)
        targets[rid] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    out = {}
    for tag in re.findall(r"<sheet [^>]*>", book):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        rid = re.search(r'r:id="([^"]+)"', tag).group(1)
        out[name.replace("&amp;", "&")] = targets[rid]
    return out


def _add_sheet(
    parts: dict[str, bytes], name: str, xml: bytes, rels: bytes | None, marker: str
) -> dict[str, bytes]:
    """Append a worksheet ``name`` (with a marker recording ``marker``, if any)."""
    parts = dict(parts)
    number = 1 + max(
        int(m) for p in parts for m in re.findall(r"^xl/worksheets/sheet(\d+)\.xml$", p)
    )
    part = f"xl/worksheets/sheet{number}.xml"
    parts[part] = xml
    if rels is not None:
        parts[f"xl/worksheets/_rels/sheet{number}.xml.rels"] = rels
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace(
        "</Types>",
        f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    )
    parts["[Content_Types].xml"] = ct.encode()
    rels_text = parts["xl/_rels/workbook.xml.rels"].decode()
    rid = "rId900"
    rels_text = rels_text.replace(
        "</Relationships>",
        f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{number}.xml"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = rels_text.encode()
    book = parts["xl/workbook.xml"].decode()
    index = len(re.findall(r"<sheet ", book))
    book = book.replace(
        "</sheets>",
        f'<sheet name="{name}" sheetId="{900 + index}" r:id="{rid}"/></sheets>',
    )
    if marker:
        book = book.replace(
            "</definedNames>",
            f'<definedName name="_xlmodel_result" localSheetId="{index}">'
            f'"{marker}"</definedName></definedNames>',
        )
    parts["xl/workbook.xml"] = book.encode()
    return parts


def _rename(parts: dict[str, bytes], old: str, new: str) -> dict[str, bytes]:
    """Rename a sheet as a spreadsheet program does: the entry and its references."""
    parts = dict(parts)
    book = parts["xl/workbook.xml"].decode()
    book = book.replace(f'<sheet name="{old}"', f'<sheet name="{new}"')
    quoted = "'" + new.replace("'", "''") + "'"
    book = re.sub(rf"(?<=>)'?{re.escape(old)}'?!", f"{quoted}!", book)
    parts["xl/workbook.xml"] = book.encode()
    return parts


def _run_items(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    items = {
        str(row[0]): str(row[1])
        for row in wb["Run"].iter_rows(min_row=4, max_col=2, values_only=True)
        if row[0]
    }
    wb.close()
    return items


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template after one compute: result sheets with today's markers."""
    path = tmp_path_factory.mktemp("owned") / "book.xlsx"
    shutil.copy(TEMPLATE, path)
    pipeline.compute(path)
    return path


def _compute(path: Path, runner, *extra: str):
    return runner.invoke(main, ["compute", str(path), "--no-export", *extra])


# --- copies and renames, by editing the package -----------------------------------


def test_copy_and_rename_are_kept_byte_identical(computed, runner, tmp_path):
    parts = _parts(computed)
    sheets = _sheet_parts(parts)
    summary = sheets["Summary"]
    summary_rels = summary.replace("worksheets/", "worksheets/_rels/") + ".rels"
    # "Copy sheet": the same cells and drawing, the marker travels with it.
    parts = _add_sheet(
        parts, "Summary (2)", parts[summary], parts.get(summary_rels), "Summary"
    )
    parts = _rename(parts, "Cost", "Cost Q3")
    book = _write(tmp_path / "book.xlsx", parts)
    before = _parts(book)
    before_sheets = _sheet_parts(before)

    info = package.inspect_package(book, report.SHEETS)
    assert "Summary (2)" not in info.owned and "Cost Q3" not in info.owned
    assert {"Summary (2)", "Cost Q3"} <= info.copies
    assert "Summary" in info.owned

    result = _compute(book, runner)
    assert result.exit_code == 0, result.output
    after = _parts(book)
    after_sheets = _sheet_parts(after)
    for kept in ("Summary (2)", "Cost Q3"):
        assert after[after_sheets[kept]] == before[before_sheets[kept]], kept
    # fresh result sheets under their own names, next to the user's copies
    assert {"Summary", "Cost"} <= set(after_sheets)
    assert after_sheets["Summary"] != after_sheets["Summary (2)"]
    owned = package.inspect_package(book, report.SHEETS).owned
    assert "Summary" in owned and "Cost" in owned
    assert not {"Summary (2)", "Cost Q3"} & owned
    items = _run_items(book)
    assert "Summary" in items["Result sheets replaced"]
    assert "Cost Q3" not in items["Result sheets replaced"]
    kept_names = items["Kept as yours"].split(" (copies")[0].split(", ")
    assert sorted(kept_names) == ["Cost Q3", "Summary (2)"]

    # and again: the copies stay, nothing of the user's moves
    again = _compute(book, runner)
    assert again.exit_code == 0, again.output
    final = _parts(book)
    final_sheets = _sheet_parts(final)
    for kept in ("Summary (2)", "Cost Q3"):
        assert final[final_sheets[kept]] == before[before_sheets[kept]], kept


def test_a_user_sheet_given_a_result_name_is_not_taken(computed, runner, tmp_path):
    """Rename Summary away, then name a new sheet of one's own "Summary"."""
    parts = _rename(_parts(computed), "Summary", "Summary Q3")
    own = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"'
        b' t="inlineStr"><is><t>my notes</t></is></c></row></sheetData></worksheet>'
    )
    parts = _add_sheet(parts, "Summary", own, None, "")
    book = _write(tmp_path / "book.xlsx", parts)
    result = _compute(book, runner)
    assert result.exit_code == 0, result.output
    after = _parts(book)
    names = _sheet_parts(after)
    assert after[names["Summary"]] == own
    assert "Summary (xlmodel)" in names and "Summary Q3" in names


def test_markers_of_older_versions(computed, tmp_path):
    """A marker that says only "xlmodel" owns a sheet under a result sheet name."""
    parts = _parts(computed)
    summary = _sheet_parts(parts)["Summary"]
    parts = _add_sheet(parts, "Summary (2)", parts[summary], None, "xlmodel")
    book_xml = parts["xl/workbook.xml"].decode()
    book_xml = re.sub(
        r'(<definedName name="_xlmodel_result" localSheetId="\d+">)"[^"<]*"',
        r'\1"xlmodel"',
        book_xml,
    )
    parts["xl/workbook.xml"] = book_xml.encode()
    book = _write(tmp_path / "legacy.xlsx", parts)
    info = package.inspect_package(book, report.SHEETS)
    assert "Summary" in info.owned and "Run" in info.owned
    assert "Summary (2)" not in info.owned
    assert info.copies == frozenset({"Summary (2)"})


# --- copies and renames by LibreOffice itself ---------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(not has_uno(), reason="LibreOffice's Python UNO bridge is missing")
def test_libreoffice_copy_rename_and_a_formula_reading_results(
    computed, runner, tmp_path
):
    """Copy Summary, rename Cost, read a result in a user formula; compute again.

    LibreOffice saves without asking for a recalculation; xlmodel must ask for
    one, because the user's formula reads a result sheet it replaced. The
    converted CSV (a load, no explicit recalculation) shows the new value.
    """
    book = tmp_path / "book.xlsx"
    shutil.copy(computed, book)
    wb = openpyxl.load_workbook(book, read_only=True, data_only=True)
    ws = wb["Performance"]
    cell, old_value = None, None
    for row in ws.iter_rows(min_row=1, max_row=40):
        for c in row:
            if cell is None and str(c.value or "").startswith("Peak FP16"):
                below = ws.cell(row=c.row + 1, column=c.column)
                cell, old_value = below.coordinate, float(below.value)
    wb.close()
    assert cell is not None
    variants = openpyxl.load_workbook(book, read_only=True)["Variants"]
    clock_row = next(
        r
        for r, row in enumerate(variants.iter_rows(max_col=1, values_only=True), 1)
        if row[0] == "clock_mhz"
    )
    ops = [
        ["copy", "Summary", "Summary (2)"],
        ["rename", "Cost", "Cost Q3"],
        ["formula", "Notes", "A1", f"=$Performance.{cell}"],
        ["value", "Variants", f"D{clock_row}", 3000],
        ["value", "Variants", f"E{clock_row}", 3000],
        ["value", "Variants", f"F{clock_row}", 3000],
        ["value", "Variants", f"G{clock_row}", 3000],
        ["value", "Variants", f"H{clock_row}", 3000],
    ]
    saved = libreoffice_edit(book, tmp_path / "saved.xlsx", ops)
    before = _parts(saved)
    before_sheets = _sheet_parts(before)
    assert 'fullCalcOnLoad="1"' not in before["xl/workbook.xml"].decode()

    result = _compute(saved, runner)
    assert result.exit_code == 0, result.output
    after = _parts(saved)
    after_sheets = _sheet_parts(after)
    for kept in ("Summary (2)", "Cost Q3", "Notes"):
        assert after[after_sheets[kept]] == before[before_sheets[kept]], kept
    assert {"Summary", "Cost", "Performance"} <= set(after_sheets)
    assert "Summary (xlmodel)" not in after_sheets
    assert re.search(
        r'<calcPr [^>]*fullCalcOnLoad="1"', after["xl/workbook.xml"].decode()
    )

    wb = openpyxl.load_workbook(saved, read_only=True, data_only=True)
    new_value = float(wb["Performance"][cell].value)
    wb.close()
    assert new_value == pytest.approx(old_value * 3000 / 2000)
    items = _run_items(saved)
    readers = items["Your formulas reading results"].split(": Excel recalc")[0]
    # Notes reads Performance; the copy of the Summary and the renamed Cost keep
    # their stale banners, which read the state xlmodel keeps
    assert readers.split(", ") == ["Summary (2)", "Cost Q3", "Notes"]
    # LibreOffice, recalculating (it does not on load unless its options say
    # so), finds the reference intact on the new sheet and the new number.
    again = libreoffice_edit(saved, tmp_path / "recalculated.xlsx", [])
    wb = openpyxl.load_workbook(again, read_only=True, data_only=True)
    assert float(wb["Notes"]["A1"].value) == pytest.approx(new_value, rel=1e-9)
    wb.close()


# --- recalculation on load ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("Summary", b"<f>Summary!B5*2</f>", True),
        ("Summary", b"<f>SUM(summary!B5:B9)</f>", True),
        ("Summary", b"<f>'Summary'!B5</f>", True),
        ("Summary", b"<f>&apos;Summary&apos;!B5</f>", True),
        ("Summary", b"<f>MySummary!B5</f>", False),
        ("Summary", b"<f>'Summary (2)'!B5</f>", False),
        ("Summary", b"<f>Summary.B5</f>", False),
        ("Cost Q3", b"<f>'Cost Q3'!A1</f>", True),
        ("It's", b"<f>'It''s'!A1</f>", True),
        ("It's", b"<f>&apos;It&apos;&apos;s&apos;!A1</f>", True),
        ("R&D", b"<f>'R&amp;D'!A1</f>", True),
    ],
)
def test_references_to_result_sheets_are_found(name, text, found):
    assert bool(sheet_reference(name).search(text)) is found


# --- the target's extension ------------------------------------------------------


def test_plain_workbook_written_as_xlsm_becomes_macro_enabled(runner, tmp_path):
    book = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, book)
    out = tmp_path / "book.xlsm"
    result = _compute(book, runner, "-o", str(out))
    assert result.exit_code == 0, result.output
    types = _parts(out)["[Content_Types].xml"].decode()
    assert re.search(
        r'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.'
        r'macroEnabled.main\+xml"',
        types,
    )
    assert package.inspect_package(out).macro_enabled
    assert book.read_bytes() == TEMPLATE.read_bytes()


def test_macro_workbook_is_not_written_as_xlsx(runner, tmp_path, monkeypatch):
    book = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, book)
    macro = tmp_path / "book.xlsm"
    assert _compute(book, runner, "-o", str(macro)).exit_code == 0
    data = macro.read_bytes()

    def studies(*args, **kwargs):
        raise AssertionError("the studies ran for a workbook that cannot be written")

    pipeline._load()
    monkeypatch.setattr(pipeline, "run", studies)  # refused before them
    result = _compute(macro, runner, "-o", str(tmp_path / "plain.xlsx"))
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "holds macros" in lines[0] and "plain.xlsm" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "plain.xlsx").exists()
    assert macro.read_bytes() == data


# --- a lock file beside the file a link points to ----------------------------------


@pytest.mark.parametrize("lock", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_lock_beside_the_real_file_of_a_link(lock, runner, tmp_path):
    real_dir, link_dir = tmp_path / "real", tmp_path / "link"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "book.xlsx"
    shutil.copy(TEMPLATE, real)
    link = link_dir / "linked.xlsx"
    os.symlink(real, link)
    (real_dir / lock).write_text("user,host\n")
    result = _compute(link, runner)
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lock in lines[0], result.output
    assert real.read_bytes() == TEMPLATE.read_bytes()


# --- opening on the Summary ----------------------------------------------------------


def _selected(parts: dict[str, bytes]) -> list[str]:
    return [
        name
        for name, part in _sheet_parts(parts).items()
        if re.search(rb"<sheetView\b[^>]*\btabSelected=\"1\"", parts[part])
    ]


def _saved_on(tmp_path: Path, sheet: str) -> Path:
    """The template as a program saves it while ``sheet`` is shown: that sheet
    active and its view selected."""
    parts = _parts(TEMPLATE)
    names = list(_sheet_parts(parts))
    part = _sheet_parts(parts)[sheet]
    parts[part] = parts[part].replace(
        b' workbookViewId="0"', b' tabSelected="1" workbookViewId="0"', 1
    )
    view = re.search(rb"<workbookView\b[^>]*?(?=/?>)", parts["xl/workbook.xml"])
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        view.group(0), view.group(0) + b' activeTab="%d"' % names.index(sheet), 1
    )
    return _write(tmp_path / "book.xlsx", parts)


def _assert_user_sheets_kept(before: dict, after: dict) -> None:
    """Every sheet part of ``before`` comes back byte-identical in ``after``."""
    old_parts, new_parts = _sheet_parts(before), _sheet_parts(after)
    for name, part in old_parts.items():
        assert after[new_parts[name]] == before[part], name


def test_the_template_opens_on_summary_and_no_sheet_of_the_users_changes(
    runner, tmp_path
):
    """No sheet of the shipped template is selected (it opens on its Guide as
    the active tab), so its compute opens on the Summary by default with every
    user sheet byte-identical."""
    book = tmp_path / "book.xlsx"
    shutil.copy(TEMPLATE, book)
    before = _parts(book)
    assert _selected(before) == []
    assert openpyxl.load_workbook(book).active.title == "Guide"
    result = _compute(book, runner)
    assert result.exit_code == 0, result.output
    after = _parts(book)
    assert _selected(after) == ["Summary"]
    assert openpyxl.load_workbook(book).active.title == "Summary"
    _assert_user_sheets_kept(before, after)


def test_open_on_summary_deselects_the_users_sheets_and_nothing_else(runner, tmp_path):
    book = _saved_on(tmp_path, "Variants")
    before = _parts(book)
    assert _selected(before) == ["Variants"]
    result = _compute(book, runner, "--open-on-summary")
    assert result.exit_code == 0, result.output
    after = _parts(book)
    assert _selected(after) == ["Summary"]  # one selected sheet: no group
    names = list(_sheet_parts(after))
    view = re.search(rb"<workbookView\b[^>]*>", after["xl/workbook.xml"]).group(0)
    assert int(re.search(rb'activeTab="(\d+)"', view).group(1)) == names.index(
        "Summary"
    )
    assert openpyxl.load_workbook(book).active.title == "Summary"
    old_parts, new_parts = _sheet_parts(before), _sheet_parts(after)
    for name, part in old_parts.items():
        old, new = before[part], after[new_parts[name]]
        if name == "Variants":  # the flag is the one change
            assert new != old
            assert new == old.replace(b' tabSelected="1"', b"", 1)
        else:
            assert new == old, name
    # computed again without the option, it stays on the Summary, and the
    # user's sheets come back byte-identical
    again = _compute(book, runner)
    assert again.exit_code == 0, again.output
    third = _parts(book)
    assert _selected(third) == ["Summary"]
    assert openpyxl.load_workbook(book).active.title == "Summary"
    for name in old_parts:
        assert third[_sheet_parts(third)[name]] == after[new_parts[name]], name


def test_a_workbook_saved_on_a_sheet_of_the_users_opens_there(runner, tmp_path):
    """Opening elsewhere would group the selected sheet with the Summary in
    Excel; without the option nothing of the user's is changed to avoid it."""
    book = _saved_on(tmp_path, "Variants")
    before = _parts(book)
    result = _compute(book, runner)
    assert result.exit_code == 0, result.output
    after = _parts(book)
    assert _selected(after) == ["Variants"]
    assert openpyxl.load_workbook(book).active.title == "Variants"
    _assert_user_sheets_kept(before, after)
