"""The sheet reader of our own (workbook/xlsx.py) reads what openpyxl reads.

openpyxl's read-only mode is the oracle: every workbook of the reader's corpora
(the input cases, the hostile cases, a user workbook full of features), the
template as Excel-like producers save it (LibreOffice, Gnumeric), a computed
workbook and random cells of every kind are opened twice, by the fast path
and through openpyxl, and every sheet's values and formulas, the sheet titles
and the defined names must be the same, type for type. The fast path must also
be the one taken for what Excel, LibreOffice and xlmodel write, and a shared
formula must still be read (through openpyxl) with its translated text.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import xlsxwriter
from conftest import libreoffice_convert
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_hostile_corpus import HOSTILE
from make_input_corpus import CASES, rewrite_parts
from make_package_corpus import make_user_workbook

from xlmodel.errors import PackageError
from xlmodel.pipeline import compute
from xlmodel.workbook import grid, xlsx
from xlmodel.workbook.template import write_template


def _views(book: grid.Book) -> dict:
    out = {
        "titles": list(book.titles),
        "names": {k: v.text for k, v in book.names.items()},
    }
    for title in book.titles:
        local = book._src.local.get(title, {})
        out[f"local {title}"] = {k: v.text for k, v in local.items()}
        try:
            g = book.sheet(title)
        except PackageError as e:
            out[title] = ("PackageError", str(e))
            continue
        # repr: 1 and 1.0, a str and a subclass, NaN and NaN told apart or equal
        out[title] = None if g is None else (repr(g.values), repr(g.formulas))
    for name in out["names"]:
        found = book._by_name(name)
        out[f"at {name}"] = found and found[1:]
    return out


def _read(path: Path, slow: bool = False):
    """(views, fast path taken) or ("PackageError", message)."""
    data = path.read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        if slow:

            def unusual(zf):
                raise xlsx.Unusual("forced")

            mp.setattr(xlsx, "open_package", unusual)
        try:
            with grid.Book(path, data) as book:
                views = _views(book)
                return views, not isinstance(book._src, grid._Openpyxl)
        except PackageError as e:
            return ("PackageError", str(e)), None


def _same(path: Path) -> bool:
    """Assert both readers agree on ``path``; return whether the fast one ran."""
    fast, took_fast = _read(path)
    slow, _ = _read(path, slow=True)
    if isinstance(slow, tuple) and not isinstance(fast, tuple):
        # openpyxl refuses some damage the fast reader never looks at (the
        # properties, a chart sheet's XML): the reader's tests cover the message.
        return bool(took_fast)
    assert fast == slow
    return bool(took_fast)


def _zip_ok(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "[Content_Types].xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


CORPUS = CASES + HOSTILE


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_corpus_read_as_openpyxl_reads_it(case, tmp_path):
    path = case.build(tmp_path)
    if not path.is_file() or not _zip_ok(path):
        pytest.skip("not a zip package: refused before any sheet is read")
    _same(path)


def test_template_user_workbook_and_computed_workbook_take_the_fast_path(tmp_path):
    template = tmp_path / "t.xlsx"
    write_template(template)
    assert _same(template)
    user = make_user_workbook(tmp_path / "user.xlsx")
    assert _same(user)
    out = tmp_path / "out.xlsx"
    compute(template, out, None)
    assert _same(out)


def test_copies_saved_by_libreoffice_and_gnumeric_read_alike(tmp_path):
    template = tmp_path / "template.xlsx"
    write_template(template)
    out = tmp_path / "computed.xlsx"
    compute(template, out, None)
    saved = libreoffice_convert(out, "xlsx", tmp_path / "lo")
    assert _same(saved)  # what LibreOffice writes: the fast path
    if shutil.which("ssconvert"):
        gnumeric = tmp_path / "gnumeric.xlsx"
        subprocess.run(
            ["ssconvert", str(template), str(gnumeric)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        _same(gnumeric)


def test_a_shared_formula_is_read_with_its_translated_text(tmp_path):
    """Excel writes a filled-down formula once (shared); its copies' text is the
    master's with references moved, as openpyxl's translator gives it, and the
    reader moves them itself."""
    path = tmp_path / "shared.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Data")
    for r in range(3):
        ws.write_number(r, 0, r + 1)
        ws.write_formula(r, 1, f"=A{r + 1}*2", None, 2 * (r + 1))
    wb.close()

    def share(xml: bytes) -> bytes:
        xml = xml.replace(b"<f>A1*2</f>", b'<f t="shared" ref="B1:B3" si="0">A1*2</f>')
        for r in (2, 3):
            xml = xml.replace(f"<f>A{r}*2</f>".encode(), b'<f t="shared" si="0"/>')
        return xml

    rewrite_parts(path, {"xl/worksheets/sheet1.xml": share})
    with grid.Book(path, path.read_bytes()) as book:
        g = book.sheet("Data")
        assert not isinstance(book._src, grid._Openpyxl)  # moved by the reader
        assert [g.formula(r, 1) for r in range(3)] == ["=A1*2", "=A2*2", "=A3*2"]
        assert [g.raw(r, 1) for r in range(3)] == [2, 4, 6]
    _same(path)


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12
)
_CELL = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    _TEXT,
    st.booleans(),
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!"]),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1)),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 1, 1)),
    st.times(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=900)),
    st.tuples(st.just("formula"), st.integers(1, 5), _TEXT),
    st.tuples(st.just("array"), st.integers(1, 9)),
    st.tuples(st.just("rich"), _TEXT, _TEXT),
    st.tuples(st.just("date_style"), st.floats(-10, 3e6)),
)


def _write_random(path: Path, cells: dict, date1904: bool) -> None:
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "date_1904": date1904})
    ws = wb.add_worksheet("Random")
    bold = wb.add_format({"bold": True})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    clock = wb.add_format({"num_format": "hh:mm:ss.000"})
    span = wb.add_format({"num_format": "[h]:mm:ss"})
    quoted = wb.add_format({"num_format": '0.00" d"'})
    for (r, c), v in cells.items():
        if isinstance(v, tuple) and v[0] == "formula":
            ws.write_formula(r, c, f"=A1*{v[1]}", None, v[2])
        elif isinstance(v, tuple) and v[0] == "array":
            ws.write_array_formula(r, c, r, c, f"{{=SUM(A1:A{v[1]})}}", None, v[1])
        elif isinstance(v, tuple) and v[0] == "rich":
            if v[1] and v[2]:
                ws.write_rich_string(r, c, v[1], bold, v[2])
            else:
                ws.write_string(r, c, v[1] + v[2])
        elif isinstance(v, tuple) and v[0] == "date_style":
            ws.write_number(r, c, v[1], (stamp, quoted)[int(v[1]) % 2])
        elif isinstance(v, timedelta):
            ws.write_datetime(r, c, v, span)
        elif isinstance(v, time):
            ws.write_datetime(r, c, v, clock)
        elif isinstance(v, (datetime, date)):
            ws.write_datetime(r, c, v, stamp)
        elif isinstance(v, str) and v.startswith("#"):
            ws.write_formula(r, c, "=NA()", None, v)
        elif isinstance(v, bool):
            ws.write_boolean(r, c, v)
        elif isinstance(v, str):
            ws.write_string(r, c, v)
        else:
            ws.write_number(r, c, v)
    wb.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cells=st.dictionaries(
        st.tuples(st.integers(0, 30), st.integers(0, 12)), _CELL, max_size=40
    ),
    date1904=st.booleans(),
    inline=st.booleans(),
)
def test_random_cells_read_as_openpyxl_reads_them(tmp_path, cells, date1904, inline):
    path = tmp_path / "random.xlsx"
    _write_random(path, cells, date1904)
    if inline:  # as openpyxl and some scripts write text: inline strings
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        buf = io.BytesIO()
        strings = parts.get("xl/sharedStrings.xml")
        if strings is not None:  # leave the table, mark one cell inline
            sheet = parts["xl/worksheets/sheet1.xml"]
            sheet = sheet.replace(
                b'<c r="A1" t="s"><v>0</v></c>',
                b'<c r="A1" t="inlineStr"><is><t xml:space="preserve"> in\nline </t>'
                b'<rPh sb="0" eb="1"><t>x</t></rPh></is></c>',
            )
            parts["xl/worksheets/sheet1.xml"] = sheet
        with zipfile.ZipFile(buf, "w") as zf:
            for n, b in parts.items():
                zf.writestr(n, b)
        path.write_bytes(buf.getvalue())
    assert _same(path)


_EDGE_ROWS = (
    # serial dates around the 1900 calendar's fictitious 29 February and out of range
    '<row r="1"><c r="A1" s="1"><v>0</v></c><c r="B1" s="1"><v>0.5</v></c>'
    '<c r="C1" s="1"><v>59</v></c><c r="D1" s="1"><v>60</v></c>'
    '<c r="E1" s="1"><v>61</v></c><c r="F1" s="1"><v>1e9</v></c>'
    '<c r="G1" s="1"><v>-1</v></c><c r="H1" s="2"><v>1.000011574</v></c>'
    '<c r="I1" s="3"><v>2.5</v></c><c r="J1" s="1"><v>NaN</v></c></row>'
    # text that cannot be converted, indexes out of range, booleans
    '<row r="2"><c r="A2"><v>fast</v></c><c r="B2" t="s"><v>99</v></c>'
    '<c r="C2" t="s"><v>-1</v></c><c r="D2" t="b"><v>yes</v></c>'
    '<c r="E2" t="b"><v>0</v></c><c r="F2" t="e"><v>#N/A</v></c>'
    '<c r="G2" t="str"><v> 12 </v></c><c r="H2"><v></v></c>'
    '<c r="I2"><v>12</v></c><c r="J2"><v>1.5E3</v></c></row>'
    # cells without a reference, a cell placed twice, a column far right
    '<row r="4"><c><v>1</v></c><c><v>2</v></c><c r="B4"><v>3</v></c>'
    '<c r="AB4"><v>4</v></c></row>'
    # a row repeated and one out of order (openpyxl drops them), a row after
    '<row r="4"><c r="A4"><v>5</v></c></row><row r="3"><c r="A3"><v>6</v></c></row>'
    # formulas: plain, empty, array, a text that looks like one, inline strings
    '<row r="7"><c r="A7"><f>B7+1</f><v>3</v></c><c r="B7"><f></f><v>2</v></c>'
    '<c r="C7"><f t="array" ref="C7">SUM(A1:A2)</f><v>1</v></c>'
    '<c r="D7" t="s"><v>0</v></c>'
    '<c r="E7" t="inlineStr"><is><r><t> a</t></r><r><rPr/><t>b </t></r>'
    '<rPh sb="0" eb="1"><t>ignored</t></rPh></is></c>'
    '<c r="F7" t="inlineStr"><v>1</v></c></row>'
    "<row><c><v>7</v></c></row>"
)
_EDGE_STRINGS = (
    '<si><t xml:space="preserve">=A1 </t></si><si><r><t>x005F_</t></r><r><t>y</t>'
    "</r></si><si><t/></si>"
)


@pytest.mark.parametrize("date1904", [False, True])
def test_edge_cells_read_as_openpyxl_reads_them(tmp_path, date1904):
    """Cells that exercise each conversion rule, hand-written as XML."""
    path = tmp_path / "edges.xlsx"
    wb = xlsxwriter.Workbook(path, {"date_1904": date1904})
    ws = wb.add_worksheet("Edges")
    for k, fmt in enumerate(("yyyy-mm-dd hh:mm", "[h]:mm:ss", '"day" 0.0;@')):
        ws.write_number(10, 10 + k, 1, wb.add_format({"num_format": fmt}))
    ws.write_string(11, 11, "s")
    wb.close()

    def sheet(xml: bytes) -> bytes:
        head, _, rest = xml.partition(b"<sheetData>")
        return (
            head
            + b"<sheetData>"
            + _EDGE_ROWS.encode()
            + rest.partition(b"</sheetData>")[1]
            + rest.partition(b"</sheetData>")[2]
        )

    def strings(xml: bytes) -> bytes:
        head = xml.partition(b"<si>")[0]
        return head + _EDGE_STRINGS.encode() + b"</sst>"

    rewrite_parts(
        path, {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": strings}
    )
    assert _same(path)
    with grid.Book(path, path.read_bytes()) as book:
        g = book.sheet("Edges")
    epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 31)
    assert g.raw(0, 0) == time(0) and g.raw(0, 1) == time(12)
    assert g.raw(0, 4) == epoch + timedelta(days=60 if not date1904 else 61)
    assert g.raw(0, 5) == "#VALUE!" and g.raw(0, 9) == "NaN"
    assert g.raw(0, 7) == timedelta(days=1, seconds=1)
    assert g.raw(0, 8) == 2.5  # a quoted "day" is no date
    assert [g.raw(1, c) for c in range(10)] == [
        "fast", "99", "-1", "yes", False, "#N/A", " 12 ",
        None, 12, 1500.0,
    ]  # fmt: skip
    # a shared-string index out of range (openpyxl took -1 for the last
    # string) is damage, the index kept as its text for the check to report
    for c in (1, 2):
        assert g.raw(1, c).__class__ is xlsx.Damaged
        assert "refers to shared string" in g.raw(1, c).why
    assert g.raw(3, 1) == 3 and g.raw(3, 27) == 4 and g.raw(2, 0) is None
    assert g.formula(6, 0) == "=B7+1" and g.formula(6, 1) is None
    assert g.formula(6, 2) == "=SUM(A1:A2)" and g.raw(6, 3) == "=A1 "
    assert g.formula(6, 3) is None and g.raw(6, 4) == " ab " and g.raw(6, 5) is None
    assert g.raw(7, 0) == 7


def test_bytes_that_are_no_zip_get_the_corrupt_workbook_line(tmp_path):
    path = tmp_path / "broken.xlsx"
    with pytest.raises(PackageError, match="corrupt or unreadable workbook"):
        grid.Book(path, b"PK\x03\x04 not really a zip")


@pytest.mark.parametrize("slow", [False, True], ids=["fast", "openpyxl"])
def test_a_damaged_shared_string_is_a_problem_at_its_cell(tmp_path, slow, monkeypatch):
    """A variant's name cell whose shared-string index is beyond the strings
    was read as the index's text, a variant named "99999"; now it is one
    problem at the cell, on either reading path, and the file is unchanged."""
    import re

    from xlmodel.errors import InputProblems
    from xlmodel.workbook.reader import read_study

    path = tmp_path / "v.xlsx"
    write_template(path)

    def damage(xml: bytes) -> bytes:
        return re.sub(
            rb'(<c r="D3"[^>]*t="s"[^>]*><v>)\d+(</v>)', rb"\g<1>99999\2", xml
        )

    rewrite_parts(path, {"xl/worksheets/sheet2.xml": damage})
    before = path.read_bytes()
    if slow:

        def unusual(zf):
            raise xlsx.Unusual("forced")

        monkeypatch.setattr(xlsx, "open_package", unusual)
    with pytest.raises(InputProblems) as e:
        read_study(path)
    lines = [str(p) for p in e.value.problems]
    assert lines[0].startswith("Variants!D3: '99999' refers to shared string 99999")
    assert "the file is damaged" in lines[0]
    assert not any("expected one of 99999" in x for x in lines), lines
    assert path.read_bytes() == before
