"""Tests of the lossless package merge that splices result sheets into a workbook."""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.dom import minidom
from xml.etree import ElementTree as ET

import make_package_corpus as corpus_lib
import openpyxl
import pandas as pd
import pytest
from forking import in_fresh_python
from hypothesis import given, settings
from hypothesis import strategies as st

from xlmodel.errors import PackageError
from xlmodel.workbook.package import (
    OWNED_NAME,
    PackageInfo,
    inspect_package,
    plan_sheet_names,
    splice_results,
)
from xlmodel.workbook.package import write as package_write

# openpyxl warns that it would drop the x14 extensions (sparklines, data bars) of
# the user's sheets when it reads them; keeping those is the point of the merge.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*extension is not supported:UserWarning"
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
NO_SOFFICE = "LibreOffice (soffice) is not installed"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
ALLOWED_TO_CHANGE = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "xl/calcChain.xml",
    "docProps/app.xml",
}
RESULT_SHEETS = ["Summary", "Roofline"]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _parts(path: Path) -> dict[str, bytes]:
    """Every part of a package by name (directories left out)."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


def _order(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if not n.endswith("/")]


def _rels_name(part: str) -> str:
    if part == "":
        return "_rels/.rels"
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _relationships(data: dict[str, bytes], source: str) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved target) of the internal relationships of a part."""
    name = _rels_name(source)
    if name not in data:
        return []
    found = []
    for el in ET.fromstring(data[name]).iter(f"{{{REL}}}Relationship"):
        if el.get("TargetMode") == "External":
            continue
        target = el.get("Target", "")
        if target.startswith("/"):
            resolved = target[1:]
        else:
            resolved = posixpath.normpath(
                posixpath.join(posixpath.dirname(source), target)
            )
        found.append((el.get("Id", ""), el.get("Type", ""), resolved))
    return found


def _check_graph(path: Path) -> None:
    """No orphan part, no dangling relationship, every part has a content type."""
    data = _parts(path)
    reachable = {"[Content_Types].xml", "_rels/.rels"}
    todo = [""]
    while todo:
        source = todo.pop()
        if source and _rels_name(source) in data:
            reachable.add(_rels_name(source))
        for _, _, target in _relationships(data, source):
            assert target in data, f"{source} points at missing {target}"
            if target not in reachable:
                reachable.add(target)
                todo.append(target)
    assert set(data) - reachable == set(), "orphan parts"
    types = ET.fromstring(data["[Content_Types].xml"])
    defaults = {
        el.get("Extension", "").lower() for el in types.iter(f"{{{CT}}}Default")
    }
    overrides = {
        el.get("PartName", "").lower() for el in types.iter(f"{{{CT}}}Override")
    }
    for name in data:
        if name == "[Content_Types].xml":
            continue
        assert (
            "/" + name.lower() in overrides
            or name.rsplit(".", 1)[-1].lower() in defaults
        ), f"{name} has no content type"
    for name in overrides:
        assert name[1:] in {n.lower() for n in data}, f"override of missing {name}"


def _owned_parts(path: Path) -> set[str]:
    """Parts of a package that only its owned sheets use (allowed to go)."""
    data = _parts(path)
    info = inspect_package(path)
    book = ET.fromstring(data["xl/workbook.xml"])
    rels = {rid: target for rid, _, target in _relationships(data, "xl/workbook.xml")}
    rid_attr = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    owned = {
        rels[el.get(rid_attr, "")]
        for el in book.iter(f"{{{MAIN}}}sheet")
        if el.get("name") in info.owned
    }

    def reach(starts: set[str], skip: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(starts)
        while todo:
            part = todo.pop()
            if part in seen:
                continue
            seen.add(part)
            for _, _, target in _relationships(data, part):
                if part == "xl/workbook.xml" and target in skip:
                    continue
                todo.append(target)
        return seen

    roots = {target for _, _, target in _relationships(data, "")}
    doomed = reach(owned, set()) - reach(roots, owned)
    return doomed | {_rels_name(p) for p in doomed if _rels_name(p) in data}


def _assert_user_parts_identical(original: Path, output: Path) -> None:
    """Every part of the original keeps its bytes, unless it may change or go."""
    before, after = _parts(original), _parts(output)
    removable = _owned_parts(original)
    for name, data in before.items():
        if name in ALLOWED_TO_CHANGE or name in removable:
            continue
        assert after.get(name) == data, f"{name} changed"
    kept = [n for n in _order(original) if n not in removable]
    assert [n for n in _order(output) if n in kept] == kept
    assert _order(output)[: len(kept)] == kept, "original entry order changed"


def _check_results(path: Path, names: dict[str, str] | None = None) -> None:
    """The result sheets read back with the values written into them."""
    names = {"Summary": "Summary", "Roofline": "Roofline", **(names or {})}
    wb = openpyxl.load_workbook(path)
    summary = wb[names["Summary"]]
    assert summary["A1"].value == "Design variants"
    rows = [
        [c.value for c in row]
        for row in summary.iter_rows(min_row=2, max_row=6, max_col=5)
    ]
    assert rows == corpus_lib.SUMMARY_ROWS
    assert summary["A8"].value == "Peak is cores x clock x 16."
    assert summary["D9"].value == "=MAX(D3:D6)"
    assert "A1:E1" in {str(r) for r in summary.merged_cells.ranges}
    roof = wb[names["Roofline"]]
    rows = [[c.value for c in row] for row in roof.iter_rows(max_row=6, max_col=4)]
    assert rows == corpus_lib.ROOFLINE_ROWS
    for sheet in names.values():
        assert OWNED_NAME in wb[sheet].defined_names
    frame = pd.read_excel(path, sheet_name=names["Roofline"])
    assert list(frame.columns) == corpus_lib.ROOFLINE_ROWS[0]
    assert frame.to_numpy().tolist() == corpus_lib.ROOFLINE_ROWS[1:]
    frame = pd.read_excel(path, sheet_name=names["Summary"], header=1, nrows=4)
    assert frame["Variant"].tolist() == ["base", "wide", "fast", "tiny"]


def _splice(original: Path, tmp: Path, name: str = "out.xlsx") -> Path:
    """Plan names, write results with them and splice them into the original."""
    info = inspect_package(original)
    plan = plan_sheet_names(info, RESULT_SHEETS)
    results = corpus_lib.make_results_workbook(tmp / f"results-{name}.xlsx", plan)
    out = tmp / name
    splice_results(original, results, out)
    return out


def _soffice(source: Path, fmt: str, outdir: Path, profile: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        fmt,
        "--outdir",
        str(outdir),
        str(source),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    out = outdir / (source.stem + "." + fmt.split(":")[0])
    assert run.returncode == 0 and out.exists(), run.stdout + run.stderr
    return out


def _zip_with(path: Path, out: Path, changes: dict[str, bytes | None]) -> Path:
    """Copy a package, replacing, adding (bytes) or dropping (None) parts."""
    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in src.namelist():
            if name in changes:
                if changes[name] is not None:
                    dst.writestr(name, changes[name])
            else:
                dst.writestr(name, src.read(name))
        for name, data in changes.items():
            if name not in src.namelist() and data is not None:
                dst.writestr(name, data)
    return out


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    user = corpus_lib.make_user_workbook(folder / "user.xlsx")
    return {
        "xlsxwriter": user,
        "pretty": _prettify(user, folder / "pretty.xlsx"),
        "openpyxl": corpus_lib.make_openpyxl_workbook(folder / "openpyxl.xlsx"),
        "summary": corpus_lib.make_user_workbook(
            folder / "user-summary.xlsx", summary_sheet=True
        ),
        "macro": corpus_lib.make_macro_workbook(folder / "macro.xlsm"),
        "interleaved": corpus_lib.make_interleaved_workbook(
            folder / "interleaved.xlsx"
        ),
    }


PRETTY_PARTS = (
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
)


def _prettify(path: Path, out: Path) -> Path:
    """Re-indent the parts the merge edits (CRLF, a BOM on the workbook part)."""
    data = _parts(path)
    changes: dict[str, bytes | None] = {}
    for name in PRETTY_PARTS:
        text = minidom.parseString(data[name]).toprettyxml(indent="  ", newl="\r\n")
        encoded = text.encode("utf-8")
        changes[name] = b"\xef\xbb\xbf" + encoded if name.endswith("k.xml") else encoded
    return _zip_with(path, out, changes)


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if SOFFICE is None:
        pytest.skip(NO_SOFFICE)
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture(scope="module")
def lo_original(
    corpus: dict[str, Path], lo_profile: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The user workbook re-saved by LibreOffice."""
    folder = tmp_path_factory.mktemp("lo-original")
    source = folder / "user-lo.xlsx"
    shutil.copy(corpus["xlsxwriter"], source)
    return _soffice(source, "xlsx", folder / "converted", lo_profile)


@pytest.fixture
def original(request: pytest.FixtureRequest, corpus: dict[str, Path]) -> Path:
    if request.param == "libreoffice":
        return request.getfixturevalue("lo_original")
    return corpus[request.param]


ORIGINALS = [
    "xlsxwriter",
    "pretty",
    "openpyxl",
    "macro",
    "interleaved",
    pytest.param("libreoffice", marks=pytest.mark.libreoffice),
]


# ---------------------------------------------------------------------------
# inspect_package and plan_sheet_names
# ---------------------------------------------------------------------------


def test_inspect_lists_sheets_owned_and_macro(corpus: dict[str, Path]) -> None:
    info = inspect_package(corpus["xlsxwriter"])
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert info == PackageInfo(
        ("Inputs", "Secrets", "Notes"), frozenset(), False, content_type=main
    )
    macro = inspect_package(corpus["macro"])
    assert macro.macro_enabled
    assert macro.content_type == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    info = inspect_package(corpus["interleaved"])
    assert info.sheet_names == ("Data", "Summary", "Notes")
    assert info.owned == frozenset({"Summary"})


def test_plan_keeps_free_and_owned_names_and_avoids_user_sheets() -> None:
    info = PackageInfo(
        ("Inputs", "summary", "Roofline", "Old", "CHART", "Chart (xlmodel)"),
        frozenset({"Roofline", "Old"}),
        False,
    )
    plan = plan_sheet_names(info, ["Summary", "Roofline", "New", "Chart"])
    assert plan == {
        "Summary": "Summary (xlmodel)",
        "Roofline": "Roofline",
        "New": "New",
        "Chart": "Chart (xlmodel 2)",
    }


def test_plan_truncates_to_31_characters_and_never_repeats() -> None:
    long = "A very long result sheet name!"  # 30 characters
    info = PackageInfo((long, long[:20] + " (xlmodel)"), frozenset(), False)
    plan = plan_sheet_names(info, [long, long[:20] + " (xlmodel)"])
    chosen = list(plan.values())
    assert all(len(name) <= 31 for name in chosen)
    assert plan[long] == long[:21] + " (xlmodel)"
    assert len({name.casefold() for name in chosen}) == len(chosen)
    assert not {n.casefold() for n in chosen} & {n.casefold() for n in info.sheet_names}


SHEET_NAME = st.text(
    alphabet=st.sampled_from("abAB xX()-1&'ß"), min_size=1, max_size=31
).filter(lambda n: n.strip() and not n.startswith("'") and not n.endswith("'"))


@settings(max_examples=200, deadline=None)
@given(
    sheets=st.lists(SHEET_NAME, max_size=8, unique_by=str.casefold),
    owned_mask=st.lists(st.booleans(), min_size=8, max_size=8),
    wanted=st.lists(SHEET_NAME, min_size=1, max_size=6),
)
def test_plan_properties(sheets: list[str], owned_mask: list[bool], wanted: list[str]):
    owned = frozenset(n for n, o in zip(sheets, owned_mask, strict=False) if o)
    info = PackageInfo(tuple(sheets), owned, False)
    plan = plan_sheet_names(info, wanted)
    assert list(plan) == list(dict.fromkeys(wanted))
    user = {n.casefold() for n in sheets if n not in owned}
    chosen = [name.casefold() for name in plan.values()]
    assert len(set(chosen)) == len(chosen)
    assert not set(chosen) & user
    for name, final in plan.items():
        assert len(final) <= 31
        if name.casefold() not in user and final != name:
            # Only an earlier wanted name can have taken it.
            assert name.casefold() in {
                v.casefold() for k, v in plan.items() if k != name
            }


def test_plan_reuses_owned_renamed_sheet(corpus: dict[str, Path], tmp_path: Path):
    first = _splice(corpus["summary"], tmp_path, "first.xlsx")
    info = inspect_package(first)
    assert "Summary (xlmodel)" in info.owned
    assert plan_sheet_names(info, RESULT_SHEETS)["Summary"] == "Summary (xlmodel)"


def _bad_zip(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name in names:
            z.writestr(name, b"<x/>")
    return path


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("text", "not a zip"),
        ("truncated", "truncated"),
        ("ole", "password-protected or legacy .xls"),
        ("traversal", "unsafe part name"),
        ("absolute", "unsafe part name"),
        ("no-workbook", "no xl/workbook.xml"),
        ("bomb", "compression ratio"),
        ("missing", "cannot read"),
    ],
)
def test_inspect_refuses_bad_files(
    corpus: dict[str, Path], tmp_path: Path, kind: str, expected: str
) -> None:
    path = tmp_path / "bad.xlsx"
    if kind == "text":
        path.write_text("name,value\nclock,2.0\n")
    elif kind == "truncated":
        data = corpus["xlsxwriter"].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "ole":
        path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(2000))
    elif kind == "traversal":
        _bad_zip(path, ["[Content_Types].xml", "../evil", "xl/workbook.xml"])
    elif kind == "absolute":
        _bad_zip(path, ["[Content_Types].xml", "/etc/evil", "xl/workbook.xml"])
    elif kind == "no-workbook":
        ct = (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"/>'
        )
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", ct)
            z.writestr("word/document.xml", "<w/>")
    elif kind == "bomb":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", bytes(11 * 1024 * 1024))
    with pytest.raises(PackageError) as caught:
        inspect_package(path)
    message = str(caught.value)
    assert "\n" not in message and expected in message


def test_splice_refuses_bad_original_and_leaves_no_temp(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(PackageError):
        splice_results(bad, results, bad)
    assert sorted(os.listdir(tmp_path)) == before
    assert bad.read_bytes() == b"\xd0\xcf\x11\xe0" + bytes(100)


# ---------------------------------------------------------------------------
# splice_results
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("original", ORIGINALS, indirect=True)
def test_splice_keeps_user_parts_and_adds_results(
    original: Path, tmp_path: Path
) -> None:
    out = _splice(original, tmp_path, "out" + original.suffix)
    _assert_user_parts_identical(original, out)
    _check_graph(out)
    before = inspect_package(original)
    user = [n for n in before.sheet_names if n not in before.owned]
    info = inspect_package(out)
    assert list(info.sheet_names) == user + RESULT_SHEETS
    assert info.owned == frozenset(RESULT_SHEETS)
    _check_results(out)


def test_splice_repeated_replaces_results(corpus: dict[str, Path], tmp_path: Path):
    original = corpus["xlsxwriter"]
    first = _splice(original, tmp_path, "first.xlsx")
    second = _splice(first, tmp_path, "second.xlsx")
    third = _splice(second, tmp_path, "third.xlsx")
    names = [inspect_package(p).sheet_names for p in (first, second, third)]
    assert names[0] == names[1] == names[2]
    assert sorted(_order(second)) == sorted(_order(third))
    assert _parts(second)["xl/styles.xml"] == _parts(third)["xl/styles.xml"]
    for path in (second, third):
        _check_graph(path)
        _check_results(path)
        _assert_user_parts_identical(original, path)
    # The user's own text box, sparklines, x14 data bar and comment are intact.
    data = _parts(third)
    assert b"this text box must survive" in data["xl/drawings/drawing1.xml"]
    sheet = data["xl/worksheets/sheet1.xml"]
    assert b"x14:sparklineGroups" in sheet and b"x14:dataBar" in sheet
    assert b"Reference design" in data["xl/comments1.xml"]


def test_user_sheet_named_like_a_result_is_kept(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    original = corpus["summary"]
    plan = plan_sheet_names(inspect_package(original), RESULT_SHEETS)
    assert plan == {"Summary": "Summary (xlmodel)", "Roofline": "Roofline"}
    out = _splice(original, tmp_path)
    _assert_user_parts_identical(original, out)
    _check_results(out, plan)
    wb = openpyxl.load_workbook(out)
    assert wb["Summary"]["A1"].value == "The user's own summary"
    assert wb.sheetnames[-2:] == ["Summary (xlmodel)", "Roofline"]
    chart = _parts(out)
    assert any(
        b"'Summary (xlmodel)'!$D$3:$D$6" in data
        for name, data in chart.items()
        if name.startswith("xl/charts/")
    )


def test_awkward_sheet_names_are_escaped(corpus: dict[str, Path], tmp_path: Path):
    original = corpus["xlsxwriter"]
    names = {"Summary": 'R&D <"q">', "Roofline": "Roof'line ß"}
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx", names)
    out = tmp_path / "out.xlsx"
    splice_results(original, results, out)
    _check_graph(out)
    _check_results(out, names)
    assert inspect_package(out).owned == frozenset(names.values())
    app = _parts(out)["docProps/app.xml"].decode()
    assert '<vt:lpstr>R&amp;D &lt;"q"&gt;</vt:lpstr>' in app
    again = _splice(out, tmp_path, "again.xlsx")
    assert inspect_package(again).sheet_names[-2:] == ("Summary", "Roofline")


def test_result_name_clashing_with_user_sheet_is_refused(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    with pytest.raises(PackageError, match="clashes"):
        splice_results(corpus["summary"], results, tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_owned_sheet_between_user_sheets(corpus: dict[str, Path], tmp_path: Path):
    original = corpus["interleaved"]
    out = _splice(original, tmp_path)
    data = _parts(out)
    # The old result's parts (chart, drawing, comments, vml) are gone.
    assert not any(b"old result comment" in v for v in data.values())
    # Only the (untouched) shared string table still holds the old text.
    assert [n for n, v in data.items() if b"stale result" in v] == [
        "xl/sharedStrings.xml"
    ]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Data", "Notes", "Summary", "Roofline"]
    notes = wb["Notes"]
    assert notes.defined_names["LocalNote"].attr_text == "Notes!$A$1"
    assert "_xlnm.Print_Area" not in wb["Summary"].defined_names
    assert not wb["Summary"].print_area
    assert wb.defined_names["GlobalData"].attr_text == "Data!$A$1:$A$3"
    assert "Intensity" in wb["Roofline"].defined_names
    # The active tab still shows the user's Notes sheet, and only that one.
    assert wb.active.title == "Notes"
    root = ET.fromstring(data["xl/workbook.xml"])
    view = root.find(f"{{{MAIN}}}bookViews/{{{MAIN}}}workbookView")
    assert view is not None and view.get("activeTab") == "1"
    selected = [
        name
        for name in data
        if name.startswith("xl/worksheets/sheet") and b'tabSelected="1"' in data[name]
    ]
    assert len(selected) == 1
    app = data["docProps/app.xml"].decode()
    assert "<vt:lpstr>Roofline</vt:lpstr>" in app and "<vt:i4>4</vt:i4>" in app


def test_styles_are_merged_and_remapped(corpus: dict[str, Path], tmp_path: Path):
    out = _splice(corpus["xlsxwriter"], tmp_path)
    wb = openpyxl.load_workbook(out)
    summary = wb["Summary"]
    assert summary["C3"].number_format == '0.00 "GHz"'
    assert summary["D3"].number_format == "#,##0.0"
    assert summary["D3"].font.i
    head = summary["A2"]
    assert head.font.b and head.fill.fgColor.rgb == "FF1F4E79"
    assert head.border.left.style == "thin"
    assert summary["A1"].alignment.horizontal == "center"
    rules = [
        rule
        for cf in summary.conditional_formatting
        for rule in cf.rules
        if rule.type == "cellIs"
    ]
    assert rules and rules[0].dxf.font.color.rgb == "FF9C0006"
    # The user's own formats did not move.
    inputs = wb["Inputs"]
    assert inputs["D2"].number_format == "#,##0.00 [$EUR]"
    assert inputs["A1"].font.b


def test_calc_chain_loses_entries_of_removed_sheets(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    spliced = _splice(corpus["interleaved"], tmp_path, "spliced.xlsx")
    root = ET.fromstring(_parts(spliced)["xl/workbook.xml"])
    ids = {el.get("name"): el.get("sheetId") for el in root.iter(f"{{{MAIN}}}sheet")}
    chain = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<calcChain xmlns="{MAIN}">'
        f'<c r="A1" i="{ids["Data"]}"/><c r="A2"/>'
        f'<c r="B1" i="{ids["Summary"]}"/><c r="B2"/>'
        f'<c r="C1" i="{ids["Notes"]}" l="1"/>'
        f'<c r="D1" i="{ids["Roofline"]}"/><c r="D2"/><c r="D3" s="1"/>'
        "</calcChain>"
    )
    with_chain = _add_calc_chain(spliced, tmp_path / "chain.xlsx", chain)
    out = _splice(with_chain, tmp_path, "out.xlsx")
    _assert_user_parts_identical(with_chain, out)
    _check_graph(out)
    kept = ET.fromstring(_parts(out)["xl/calcChain.xml"])
    entries = [(c.get("r"), c.get("i")) for c in kept]
    assert entries == [("A1", ids["Data"]), ("A2", None), ("C1", ids["Notes"])]

    only_results = (
        f'<calcChain xmlns="{MAIN}"><c r="B1" i="{ids["Summary"]}"/><c r="B2"/>'
        "</calcChain>"
    )
    with_chain = _add_calc_chain(spliced, tmp_path / "chain2.xlsx", only_results)
    out = _splice(with_chain, tmp_path, "out2.xlsx")
    _check_graph(out)
    data = _parts(out)
    assert "xl/calcChain.xml" not in data
    assert b"calcChain" not in data["[Content_Types].xml"]
    assert b"calcChain" not in data["xl/_rels/workbook.xml.rels"]


def _add_calc_chain(path: Path, out: Path, chain: str) -> Path:
    data = _parts(path)
    rels = (
        data["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rId999" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
            "</Relationships>",
        )
    )
    types = (
        data["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/calcChain.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
        )
    )
    return _zip_with(
        path,
        out,
        {
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "[Content_Types].xml": types.encode(),
            "xl/calcChain.xml": chain.encode(),
        },
    )


def _minimal_package(path: Path, with_styles: bool) -> Path:
    """A hand-written workbook using an 'x:' prefix for the spreadsheet namespace."""
    ns = f'xmlns:x="{MAIN}"'
    r_ns = (
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": (
            f'<Types xmlns="{CT}">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            + (
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                if with_styles
                else ""
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{REL}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f"<x:workbook {ns} {r_ns}><x:sheets>"
            '<x:sheet name="Data" sheetId="1" r:id="rId1"/>'
            "</x:sheets></x:workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{REL}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (
                f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
                if with_styles
                else ""
            )
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<x:worksheet {ns}><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr">'
            "<x:is><x:t>hand made</x:t></x:is></x:c></x:row></x:sheetData>"
            "</x:worksheet>"
        ),
    }
    if with_styles:
        files["xl/styles.xml"] = (
            f'<x:styleSheet {ns}><x:fonts count="1"><x:font><x:sz val="10"/>'
            '<x:name val="Arial"/></x:font></x:fonts><x:fills count="2"><x:fill>'
            '<x:patternFill patternType="none"/></x:fill><x:fill><x:patternFill '
            'patternType="gray125"/></x:fill></x:fills><x:borders count="1">'
            '<x:border/></x:borders><x:cellXfs count="1"><x:xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0"/></x:cellXfs></x:styleSheet>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def _excel_like_package(path: Path) -> Path:
    """A workbook part by part in the form Excel itself writes them."""
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ms = "http://schemas.microsoft.com/office/spreadsheetml"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    ctype = "application/vnd.openxmlformats-officedocument"
    props = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
    files = {
        "[Content_Types].xml": (
            f'{decl}<Types xmlns="{CT}"><Default Extension="rels" '
            f'ContentType="{CT_RELS}"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{ctype}.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{ctype}.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            f'ContentType="{ctype}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/calcChain.xml" '
            f'ContentType="{ctype}.spreadsheetml.calcChain+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            f'ContentType="{ctype}.extended-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{decl}<Relationships xmlns="{REL}"><Relationship Id="rId2" '
            f'Type="{rel}/extended-properties" Target="docProps/app.xml"/>'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f'{decl}<Properties xmlns="{props}" '
            'xmlns:vt="http://schemas.openxmlformats.org/'
            'officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel'
            '</Application><HeadingPairs><vt:vector size="2" baseType="variant">'
            "<vt:variant><vt:lpstr>Arbeitsbl\u00e4tter</vt:lpstr></vt:variant>"
            "<vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            '<TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>Data'
            "</vt:lpstr></vt:vector></TitlesOfParts></Properties>"
        ),
        "xl/workbook.xml": (
            f'{decl}<workbook xmlns="{MAIN}" xmlns:r="{rel}" xmlns:mc="{mc}" '
            'mc:Ignorable="x15 xr xr6 xr10 xr2" '
            f'xmlns:x15="{ms}/2010/11/main" xmlns:xr="{ms}/2014/revision" '
            f'xmlns:xr6="{ms}/2016/revision6" xmlns:xr10="{ms}/2016/revision10" '
            f'xmlns:xr2="{ms}/2015/revision2"><fileVersion appName="xl" '
            'lastEdited="7" lowestEdited="7" rupBuild="27425"/><workbookPr '
            'defaultThemeVersion="166925"/><xr:revisionPtr revIDLastSave="0" '
            'documentId="8_{11111111-2222-3333-4444-555555555555}" '
            'xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" '
            'xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}"/>'
            '<bookViews><workbookView xWindow="-120" yWindow="-120" '
            'windowWidth="29040" windowHeight="15840" '
            'xr2:uid="{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}"/></bookViews>'
            '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets>'
            '<calcPr calcId="191029"/><extLst><ext '
            'uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}" '
            f'xmlns:x15="{ms}/2010/11/main"><x15:workbookPr '
            'chartTrackingRefBase="1"/></ext></extLst></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{decl}<Relationships xmlns="{REL}"><Relationship Id="rId3" '
            f'Type="{rel}/styles" Target="styles.xml"/><Relationship Id="rId4" '
            f'Type="{rel}/calcChain" Target="calcChain.xml"/><Relationship '
            f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'{decl}<worksheet xmlns="{MAIN}" xmlns:r="{rel}" xmlns:mc="{mc}" '
            f'mc:Ignorable="x14ac" xmlns:x14ac="{ms}/2009/9/ac"><sheetViews>'
            '<sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
            '<sheetData><row r="1"><c r="A1"><v>2</v></c><c r="B1" s="1"><f>A1*2'
            "</f><v>4</v></c></row></sheetData></worksheet>"
        ),
        "xl/calcChain.xml": (
            f'{decl}<calcChain xmlns="{MAIN}"><c r="B1" i="1" l="1"/></calcChain>'
        ),
        "xl/styles.xml": (
            f'{decl}<styleSheet xmlns="{MAIN}" xmlns:mc="{mc}" '
            f'mc:Ignorable="x14ac x16r2" xmlns:x14ac="{ms}/2009/9/ac" '
            'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/'
            '02/main"><fonts count="1" x14ac:knownFonts="1"><font><sz val="11"/>'
            '<color theme="1"/><name val="Aptos Narrow"/><family val="2"/>'
            '<scheme val="minor"/></font></fonts><fills count="2"><fill>'
            '<patternFill patternType="none"/></fill><fill><patternFill '
            'patternType="gray125"/></fill></fills><borders count="1"><border>'
            "<left/><right/><top/><bottom/><diagonal/></border></borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="2" '
            'fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
            'builtinId="0"/></cellStyles><tableStyles count="0" '
            'defaultTableStyle="TableStyleMedium2" '
            'defaultPivotStyle="PivotStyleLight16"/><extLst><ext '
            'uri="{46F421CA-312F-682f-3DD2-61675219B42D}" '
            f'xmlns:x14="{ms}/2009/9/main"><x14:dxfs count="0"/></ext>'
            "</extLst></styleSheet>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))
    return path


def test_excel_written_workbook(tmp_path: Path) -> None:
    original = _excel_like_package(tmp_path / "excel.xlsx")
    out = _splice(original, tmp_path)
    _assert_user_parts_identical(original, out)
    _check_graph(out)
    _check_results(out)
    data = _parts(out)
    # The calculation chain of the user's sheet is kept as it was.
    assert data["xl/calcChain.xml"] == _parts(original)["xl/calcChain.xml"]
    styles = data["xl/styles.xml"].decode()
    # dxfs went between cellStyles and tableStyles, not into the x14 extension.
    assert styles.index("</cellStyles><dxfs count=") < styles.index("<tableStyles")
    assert '<x14:dxfs count="0"/>' in styles
    assert 'x14ac:knownFonts="1"' in styles
    root = ET.fromstring(data["xl/workbook.xml"])
    assert [el.tag.split("}")[1] for el in root][-4:] == [
        "sheets",
        "definedNames",
        "calcPr",
        "extLst",
    ]
    assert root.find(f"{{{MAIN}}}calcPr").get("fullCalcOnLoad") == "1"
    assert b'mc:Ignorable="x15 xr xr6 xr10 xr2"' in data["xl/workbook.xml"]
    app = data["docProps/app.xml"].decode()
    assert "<vt:i4>3</vt:i4>" in app and "<vt:lpstr>Roofline</vt:lpstr>" in app
    wb = openpyxl.load_workbook(out)
    assert wb["Data"]["B1"].number_format == "0.00"
    assert wb.active.title == "Data"


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
@pytest.mark.parametrize("with_styles", [True, False])
def test_hand_written_prefixed_workbook(tmp_path: Path, with_styles: bool) -> None:
    original = _minimal_package(tmp_path / "minimal.xlsx", with_styles)
    out = _splice(original, tmp_path)
    _assert_user_parts_identical(original, out)
    _check_graph(out)
    _check_results(out)
    wb = openpyxl.load_workbook(out)
    assert wb["Data"]["A1"].value == "hand made"
    assert wb["Summary"]["C3"].number_format == '0.00 "GHz"'
    again = _splice(out, tmp_path, "again.xlsx")
    assert inspect_package(again).sheet_names == ("Data", "Summary", "Roofline")
    _check_graph(again)


def test_in_place_write_keeps_permissions(corpus: dict[str, Path], tmp_path: Path):
    target = tmp_path / "book.xlsm"
    shutil.copy(corpus["macro"], target)
    os.chmod(target, 0o640)
    vba = _parts(target)["xl/vbaProject.bin"]
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    splice_results(target, results, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert _parts(target)["xl/vbaProject.bin"] == vba
    assert inspect_package(target).macro_enabled
    _check_results(target)
    assert sorted(os.listdir(tmp_path)) == ["book.xlsm", "results.xlsx"]


@pytest.mark.parametrize("lock", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_open_workbook_is_not_replaced(
    corpus: dict[str, Path], tmp_path: Path, lock: str
) -> None:
    target = tmp_path / "book.xlsx"
    shutil.copy(corpus["xlsxwriter"], target)
    (tmp_path / lock).write_bytes(b"owner")
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    with pytest.raises(PackageError, match="open in another program"):
        splice_results(target, results, target)
    assert target.read_bytes() == corpus["xlsxwriter"].read_bytes()


def test_symlinked_workbook_stays_a_link(corpus: dict[str, Path], tmp_path: Path):
    real = tmp_path / "store" / "book.xlsx"
    real.parent.mkdir()
    shutil.copy(corpus["xlsxwriter"], real)
    link = tmp_path / "book.xlsx"
    link.symlink_to(real)
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    splice_results(link, results, link)
    assert link.is_symlink()
    assert inspect_package(real).owned == frozenset(RESULT_SHEETS)


def test_macro_workbook_is_not_written_as_xlsx(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    with pytest.raises(PackageError, match=r"\.xlsm"):
        splice_results(corpus["macro"], results, tmp_path / "out.xlsx")


@pytest.mark.parametrize("failure", ["replace", "fsync"])
def test_failed_write_leaves_target_untouched(
    corpus: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    target = tmp_path / "book.xlsx"
    shutil.copy(corpus["xlsxwriter"], target)
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx")
    before_bytes = target.read_bytes()
    before_files = sorted(os.listdir(tmp_path))

    def refuse(*args: object, **kwargs: object) -> None:
        if failure == "replace":
            raise PermissionError(13, "Permission denied")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(package_write.os, failure, refuse)
    expected = PackageError if failure == "replace" else RuntimeError
    with pytest.raises(expected) as caught:
        splice_results(target, results, target)
    assert "\n" not in str(caught.value)
    monkeypatch.undo()
    assert target.read_bytes() == before_bytes
    assert sorted(os.listdir(tmp_path)) == before_files


# ---------------------------------------------------------------------------
# LibreOffice opens what we write
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lo_converted(
    corpus: dict[str, Path],
    lo_original: Path,
    lo_profile: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """Spliced outputs converted by LibreOffice to xlsx, csv and pdf."""
    folder = tmp_path_factory.mktemp("lo-check")
    spliced = _splice(corpus["xlsxwriter"], folder, "spliced.xlsx")
    spliced_lo = _splice(lo_original, folder, "spliced-lo.xlsx")
    return {
        "xlsx": _soffice(spliced, "xlsx", folder / "xlsx", lo_profile),
        "xlsx-lo": _soffice(spliced_lo, "xlsx", folder / "xlsx", lo_profile),
        "csv": _soffice(spliced, "csv", folder / "csv", lo_profile),
        "pdf": _soffice(spliced, "pdf", folder / "pdf", lo_profile),
    }


@pytest.mark.libreoffice
def test_libreoffice_converts_spliced_output(lo_converted: dict[str, Path]) -> None:
    assert lo_converted["pdf"].read_bytes().startswith(b"%PDF")
    assert "Variant" in lo_converted["csv"].read_text(errors="replace")
    for key in ("xlsx", "xlsx-lo"):
        converted = lo_converted[key]
        _check_results(converted)
        data = _parts(converted)
        assert any(
            b"this text box must survive" in v
            for n, v in data.items()
            if n.startswith("xl/drawings/")
        )
        assert any(
            b"Reference design" in v
            for n, v in data.items()
            if n.startswith("xl/comments")
        )
        charts = [v for n, v in data.items() if n.startswith("xl/charts/chart")]
        assert any(b"Summary" in v and b"$D$3:$D$6" in v for v in charts)
        assert any(b"Roofline" in v for v in charts)


# ---------------------------------------------------------------------------
# The one-pass rewrite of the results' cells
# ---------------------------------------------------------------------------


def test_cells_rewritten_in_one_pass_exactly() -> None:
    from xlmodel.workbook.package.result_parts import _inline_strings, _rewrite_cells

    text = (
        '<row r="1" spans="1:4"><c r="A1" s="3" t="s"><v>1</v></c>'
        '<c r="B1" s="0"><v>2.5</v></c><c r="C1" s="3"/><c r="D1" t="s"><v>0</v></c>'
        '<c r="E1" s="0" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>'
        '<c r="F1" s="03"><v>1</v></c></row>'
    )
    inline = _inline_strings(
        ["<t>a</t>", '<r><rPr><b/></rPr><t xml:space="preserve"> b</t></r>']
    )
    out = _rewrite_cells(text, "sheet1.xml", {0: 10, 3: 13}, inline)
    assert out == (
        '<row r="1" spans="1:4"><c r="A1" s="13" t="inlineStr"><is><r><rPr><b/>'
        '</rPr><t xml:space="preserve"> b</t></r></is></c>'
        '<c r="B1" s="10"><v>2.5</v></c><c r="C1" s="13"/>'
        '<c r="D1" t="inlineStr"><is><t>a</t></is></c>'
        '<c r="E1" s="10" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>'
        '<c r="F1" s="13"><v>1</v></c></row>'
    )
    # no style map: the indices stay as written
    kept = _rewrite_cells('<c r="A1" s="7"/>', "sheet1.xml", {}, inline)
    assert kept == '<c r="A1" s="7"/>'


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ('<c r="A1" s="9"><v>1</v></c>', "uses unknown style 9"),
        ('<c r="A1" t="s"><v>5</v></c>', "has a bad shared string"),
        # laid out otherwise than the writer does: refused, not passed through
        ('<c r="A1" t="s" s="0"><v>0</v></c>', "has 1 of its 1 cells not laid out"),
        ('<c r="A1" s="0" t="s"><f>A2</f><v>0</v></c>', "has 1 of its 1 cells"),
        (
            '<c r="A1"/><c  r="B1"/><c\nr="C1"/>',
            "has 2 of its 3 cells not laid out .* the first: '<c  r=\"B1\"/>'$",
        ),
    ],
)
def test_cells_not_as_the_writer_lays_them_out_are_refused(
    cells: str, message: str
) -> None:
    from xlmodel.workbook.package.result_parts import _inline_strings, _rewrite_cells

    with pytest.raises(PackageError, match=f"result sheet sheet1.xml {message}"):
        _rewrite_cells(cells, "sheet1.xml", {0: 4}, _inline_strings(["<t>a</t>"]))


def test_splice_refuses_result_sheet_with_unexpected_cells(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    original = tmp_path / "user.xlsx"
    shutil.copy(corpus["xlsxwriter"], original)
    before = original.read_bytes()
    plan = plan_sheet_names(inspect_package(original), RESULT_SHEETS)
    results = corpus_lib.make_results_workbook(tmp_path / "results.xlsx", plan)
    with zipfile.ZipFile(results) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b' t="s"><v>' in sheet
    odd = sheet.replace(b' t="s"><v>', b' t="s" ph="1"><v>', 1)
    bad = _zip_with(results, tmp_path / "odd.xlsx", {"xl/worksheets/sheet1.xml": odd})
    with pytest.raises(PackageError, match="not laid out as the splice expects"):
        splice_results(original, bad, original)
    assert original.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "odd.xlsx",
        "results.xlsx",
        "user.xlsx",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_result_sheets_rewritten_on_two_cores_are_those_rewritten_here(tmp_path):
    # in a fresh interpreter (one thread: the child is taken); a results
    # workbook of 60 variants spliced with every size of split, a child that
    # dies, and a sheet the splice refuses in the child's half; the results
    # written in the writer's own form (their cells rewritten by the splice)
    out = in_fresh_python(
        f"""
        import os, shutil, sys, zipfile
        from forking import dying_in_a_child, record_runs
        from xlmodel import pipeline
        from xlmodel.errors import PackageError
        from xlmodel.pipeline import compute
        from xlmodel.schema import SEED_VARIANTS
        from xlmodel.workbook.package import result_parts as rp
        from xlmodel.workbook.template import fill_workbook
        import xlsxwriter
        plain = pipeline._results_parts
        def writers_form(results, names, info, styles=NotImplemented):
            return plain(results, names, info)
        pipeline._results_parts = writers_form
        tmp = {str(tmp_path)!r}
        table = {{f"V{{j}}": dict(SEED_VARIANTS["Baseline"], clock_mhz=1000 + j)
                 for j in range(60)}}
        wb = xlsxwriter.Workbook(tmp + "/src.xlsx")
        fill_workbook(wb, table)
        wb.close()

        def parts(path):
            with zipfile.ZipFile(path) as z:
                return {{n: z.read(n) for n in z.namelist()
                        if "worksheets/sheet" in n}}

        def run(name):
            shutil.copy(tmp + "/src.xlsx", tmp + f"/{{name}}.xlsx")
            compute(tmp + f"/{{name}}.xlsx", now=None)
            return parts(tmp + f"/{{name}}.xlsx")

        used = record_runs()
        rp.MIN_PARALLEL_BYTES = 10**12
        here = run("here")
        assert not [u for u in used if u[0].fn is rp._rewrite_many]
        rp.MIN_PARALLEL_BYTES = 0
        split = run("split")
        forked = [u for u in used if u[0].fn is rp._rewrite_many]
        assert forked and forked[0][1] == "process" and forked[0][2], used
        timed = [n for n in here if here[n] != split[n]]
        assert here.keys() == split.keys() and len(timed) <= 2, timed

        many = rp._rewrite_many
        rp._rewrite_many = dying_in_a_child(many)
        assert run("dies") .keys() == here.keys()
        rp._rewrite_many = many

        rewrite = rp._rewrite_result_sheet
        parent = os.getpid()
        def refused(data, part, *args, **kwargs):
            if os.getpid() != parent:
                raise PackageError(f"result sheet {{part}} is not laid out as expected")
            return rewrite(data, part, *args, **kwargs)
        rp._rewrite_result_sheet = refused
        before = open(tmp + "/src.xlsx", "rb").read()
        shutil.copy(tmp + "/src.xlsx", tmp + "/refused.xlsx")
        try:
            compute(tmp + "/refused.xlsx")
        except PackageError as exc:
            assert "not laid out as expected" in str(exc)
        else:
            raise AssertionError("no error")
        assert open(tmp + "/refused.xlsx", "rb").read() == before
        print("ok")
        """
    )
    assert out.strip() == "ok"


def _entries(spec):
    out = []
    for name, when, mode, data in spec:
        info = zipfile.ZipInfo(name, when)
        info.external_attr = mode
        out.append((info, data))
    return out


def test_the_package_is_packed_as_the_zip_writer_packs_it():
    """Parts large enough to be compressed on threads, small ones, an empty
    one, names beyond ASCII, permissions given or not, any date: the same
    bytes as Python's zip writer, one part after the other; read back whole."""
    import random

    rng = random.Random(7)
    words = [
        bytes(rng.choices(b"abcdefgh <>/=\"'", k=rng.randint(1, 12)))
        for _ in range(500)
    ]
    big = b" ".join(rng.choices(words, k=200_000))  # compressible, ~1.3 MB
    noise = rng.randbytes(600_000)  # incompressible
    spec = [
        ("[Content_Types].xml", (2024, 1, 2, 3, 4, 6), 0o644 << 16, b"<Types/>"),
        ("xl/worksheets/sheet1.xml", (1980, 1, 1, 0, 0, 0), 0, big),
        ("xl/media/image1.png", (2107, 12, 31, 23, 59, 58), 0o600 << 16, noise),
        ("xl/empty.bin", (2026, 12, 4, 12, 0, 1), 0o644 << 16, b""),
        (
            "xl/charts/tableau \u00e9t\u00e9.xml",
            (2026, 6, 1, 9, 30, 0),
            0,
            big[:300_000],
        ),
        ("docProps/app.xml", (2026, 6, 1, 9, 30, 0), 0o755 << 16, b"<x/>" * 99),
    ]
    packed = package_write.pack(_entries(spec))
    assert packed == package_write._pack_serially(_entries(spec))
    with zipfile.ZipFile(io.BytesIO(packed)) as z:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == [s[0] for s in spec]
        for (name, when, _, data), info in zip(spec, z.infolist()):
            assert z.read(name) == data
            two_seconds = (*when[:5], when[5] // 2 * 2)  # the format's resolution
            assert info.date_time == two_seconds
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_a_package_beyond_the_plain_zip_limits_is_packed_with_64_bit_records():
    """More entries than the plain format counts (65,535): the zip writer's
    own 64-bit records, every entry read back; parts beyond 1 GiB in all
    (the limit lowered here) are packed by the zip writer too."""
    when = (2026, 12, 5, 6, 0, 0)
    many = [(f"xl/part{i}.xml", when, 0o644 << 16, b"<x/>") for i in range(66_000)]
    packed = package_write.pack(_entries(many))
    assert b"PK\x06\x06" in packed[-200:]  # the zip64 end of central directory
    with zipfile.ZipFile(io.BytesIO(packed)) as z:
        infos = z.infolist()
        assert len(infos) == 66_000
        assert infos[-1].filename == "xl/part65999.xml"
        assert z.read("xl/part31337.xml") == b"<x/>"
    # beyond 1 GiB of parts (the limit lowered here): the zip writer's own
    few = [
        ("a.xml", when, 0, b"<a/>" * 5000),
        ("b.xml", when, 0, bytes(range(256)) * 40),
    ]
    serial = package_write._pack_serially
    calls = []
    limit = package_write._ZIP32_BYTES
    try:
        package_write._ZIP32_BYTES = 2 * 30_000
        package_write._pack_serially = lambda e: calls.append(len(e)) or serial(e)
        packed = package_write.pack(_entries(few))
    finally:
        package_write._ZIP32_BYTES = limit
        package_write._pack_serially = serial
    assert calls == [2]
    with zipfile.ZipFile(io.BytesIO(packed)) as z:
        assert z.read("a.xml") == few[0][3] and z.read("b.xml") == few[1][3]
