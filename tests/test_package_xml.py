"""Compute on templates whose edited parts are legal XML written otherwise.

Each case of ``make_package_corpus`` is computed as a user would: the template
with comments, processing instructions, CDATA, other prefixes, a redeclared
default namespace, single quotes, odd whitespace, reordered attributes or UTF-16
in its workbook part, relationships, content types, styles and extended
properties; a template with no styles part; one whose workbook lies outside
``xl/``; and styles at Excel's limits. The proofs: every user part that is not
edited comes back byte-identical, an edited part keeps every byte outside the
elements a compute edits (its comments and processing instructions included),
the result sheets read back with the values and formats of the ordinary
template's, a second compute changes nothing but the Run sheet, and LibreOffice
converts the outputs.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import make_package_corpus as corpus
import openpyxl
import pytest

from xlmodel import pipeline
from xlmodel.workbook.template import write_template

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*extension is not supported:UserWarning",
    "ignore:Workbook contains no default style:UserWarning",
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# A stage that runs longer than a second prints a progress line on stderr.
PROGRESS_LINE = re.compile(r"(exploring|Sobol indices|Monte Carlo): [\d,]+ / [\d,]+ ")
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


def _rels(parts: dict[str, bytes], source: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, resolved target) of a part's relationships."""
    folder, base = posixpath.split(source)
    name = posixpath.join(folder, "_rels", base + ".rels") if source else "_rels/.rels"
    out = {}
    for el in ET.fromstring(parts[name]).iter(f"{REL}Relationship"):
        target = el.get("Target", "")
        if el.get("TargetMode") != "External":
            target = posixpath.normpath(
                target[1:] if target.startswith("/") else posixpath.join(folder, target)
            )
        out[el.get("Id")] = (el.get("Type", ""), target)
    return out


def _workbook_part(parts: dict[str, bytes]) -> str:
    return next(
        t for ty, t in _rels(parts, "").values() if ty.endswith("/officeDocument")
    )


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name -> part name, from the workbook part and its relationships."""
    book = _workbook_part(parts)
    rels = _rels(parts, book)
    root = ET.fromstring(parts[book])
    return {el.get("name"): rels[el.get(R_ID)][1] for el in root.iter(f"{MAIN}sheet")}


def _compute(src: Path, out: Path) -> Path:
    """Compute ``src`` as ``out/book.xlsx``, in place: a copy keeps the first output.

    Every case is computed under the same file name, in place, so that what the
    result sheets record of the file read (its name) is the same for all.
    """
    out.mkdir(parents=True, exist_ok=True)
    book = out / "book.xlsx"
    shutil.copy(src, book)
    pipeline.compute(book, now=NOW)
    first = out / "first.xlsx"
    shutil.copy(book, first)
    return first


def _compute_again(first: Path) -> Path:
    """Compute the output of :func:`_compute` once more, in place."""
    book = first.with_name("book.xlsx")
    pipeline.compute(book, now=NOW)
    second = first.with_name("second.xlsx")
    shutil.copy(book, second)
    return second


def _by_role(path: Path) -> dict[str, bytes]:
    """Parts by sheet name for sheets, else by name below the workbook's folder."""
    parts = _parts(path)
    folder = posixpath.dirname(_workbook_part(parts))
    sheets = {part: name for name, part in _sheet_parts(parts).items()}
    out = {}
    for name, data in parts.items():
        if name in sheets:
            key = "sheet " + sheets[name]
        elif folder and name.startswith(folder + "/"):
            key = name[len(folder) + 1 :]
        else:
            key = name
        out[key] = data
    return out


def _changed(first: Path, second: Path) -> set[str]:
    a, b = _by_role(first), _by_role(second)
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)} - {"sheet Run"}


def _values(path: Path, sheets: list[str]) -> dict[str, list[tuple]]:
    """Every cell of the given sheets: value, number format, bold, fill colour."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for name in sheets:
        rows = []
        for row in wb[name].iter_rows():
            for c in row:
                if c.value is not None:
                    fill = c.fill.fgColor.rgb if c.fill and c.fill.fgColor else None
                    rows.append(
                        (c.coordinate, c.value, c.number_format, c.font.b, fill)
                    )
        out[name] = rows
    return out


def _assert_idempotent(first: Path, plain_changes: set[str]) -> None:
    """A second compute changes what it changes for the ordinary template, no more.

    For the ordinary template a second compute changes nothing but the Run sheet
    (which records the time and the hash of the file read) and what the results
    record of the compute before them, if anything.
    """
    second = _compute_again(first)
    assert sorted(_by_role(first)) == sorted(_by_role(second))
    extra = _changed(first, second) - plain_changes
    assert not extra, f"a second compute changed {sorted(extra)}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xml-cases")


@pytest.fixture(scope="module")
def template(folder: Path) -> Path:
    path = folder / "template.xlsx"
    write_template(path)
    return path


@pytest.fixture(scope="module")
def plain(template: Path, folder: Path) -> Path:
    """The ordinary template, computed: what every variant must come to."""
    return _compute(template, folder / "plain")


@pytest.fixture(scope="module")
def plain_changes(plain: Path) -> set[str]:
    """What a second compute of the ordinary template changes (not the Run sheet)."""
    return _changed(plain, _compute_again(plain))


@pytest.fixture(scope="module")
def result_sheets(plain: Path, template: Path) -> list[str]:
    before = set(_sheet_parts(_parts(template)))
    return [n for n in _sheet_parts(_parts(plain)) if n not in before and n != "Run"]


@pytest.fixture(scope="module")
def expected(plain: Path, result_sheets: list[str]) -> dict[str, list[tuple]]:
    return _values(plain, result_sheets)


@pytest.fixture(scope="module")
def outputs(folder: Path) -> dict[str, Path]:
    """Outputs of the cases, for LibreOffice to convert at once."""
    return {}


@pytest.mark.parametrize("case", list(corpus.WRITINGS))
def test_variant_computes_and_keeps_every_byte_outside_its_edits(
    case: str,
    template: Path,
    folder: Path,
    result_sheets: list[str],
    expected: dict[str, list[tuple]],
    outputs: dict[str, Path],
    plain_changes: set[str],
) -> None:
    variant = corpus.write_variant(template, folder / f"{case}.xlsx", case)
    out = _compute(variant.path, folder / case)
    outputs[case] = out
    before, after = _parts(variant.path), _parts(out)
    for name, data in before.items():
        if name not in corpus.EDITABLE:
            assert after[name] == data, f"{name} changed"
    for name, pieces in variant.keep.items():
        data = after[name]
        assert data != before[name], f"{name} was not edited"
        pos = 0
        for piece in pieces:
            found = data.find(piece, pos)
            assert found >= 0, f"{name}: {piece[:80]!r} is gone or moved"
            pos = found + len(piece)
        if variant.writing.comments:
            assert data.count(corpus.COMMENT.encode()) == before[name].count(
                corpus.COMMENT.encode()
            )
        if variant.writing.pis:
            assert data.count(corpus.PI.encode()) == before[name].count(
                corpus.PI.encode()
            )
        if variant.writing.encoding == "utf-16":
            assert data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff")
    assert _values(out, result_sheets) == expected
    _assert_idempotent(out, plain_changes)


def test_comments_with_markup_are_read_as_comments(
    template: Path, folder: Path
) -> None:
    """The ghost sheet in a comment is neither a sheet nor removed."""
    variant = corpus.write_variant(template, folder / "ghost.xlsx", "everything")
    out = _compute(variant.path, folder / "ghost")
    names = list(_sheet_parts(_parts(out)))
    assert "Ghost" not in names
    assert names[:2] == ["Guide", "Variants"] and "Run" in names
    book = _parts(out)["xl/workbook.xml"].decode()
    # The new sheets use the prefix in scope where they land (a default namespace
    # redeclared on <sheets>), not the root's x:.
    sheets = book[book.index("<sheets\n") : book.rindex("</sheets")]
    assert "<sheet " in sheets and "<x:sheet " not in sheets
    assert "<x:definedNames" not in book


def test_no_styles_part_is_added_once(
    template: Path,
    folder: Path,
    result_sheets: list[str],
    outputs: dict[str, Path],
    plain_changes: set[str],
) -> None:
    src = corpus.template_without_styles(template, folder / "no-styles.xlsx")
    out = _compute(src, folder / "no-styles")
    outputs["no-styles"] = out
    data = _parts(out)
    styles = [t for ty, t in _rels(data, "xl/workbook.xml").values() if "styles" in ty]
    assert styles == ["xl/styles.xml"] and "xl/styles.xml" in data
    wb = openpyxl.load_workbook(out)
    assert set(result_sheets) <= set(wb.sheetnames)
    _assert_idempotent(out, plain_changes)


def test_workbook_outside_xl(
    template: Path,
    plain: Path,
    folder: Path,
    result_sheets: list[str],
    outputs: dict[str, Path],
    plain_changes: set[str],
) -> None:
    src = corpus.template_outside_xl(template, folder / "outside.xlsx")
    out = _compute(src, folder / "outside")
    outputs["outside-xl"] = out
    before, after = _parts(src), _parts(out)
    edited = {
        "[Content_Types].xml",
        "book/workbook.xml",
        "book/_rels/workbook.xml.rels",
        "book/styles.xml",
        "docProps/app.xml",
    }
    for name, data in before.items():
        if name not in edited:
            assert after[name] == data, f"{name} changed"
    assert not any(n.startswith("xl/") for n in after), "parts were put under xl/"
    # Every relationship of every part points at a part that is there.
    for source in ["", *after]:
        if source.endswith(".rels"):
            continue
        folder_, base = posixpath.split(source)
        rels = posixpath.join(folder_, "_rels", base + ".rels") if source else ""
        if source and rels not in after:
            continue
        for rel_type, target in _rels(after, source).values():
            if "hyperlink" not in rel_type:
                assert target in after, f"{source} -> {target} is missing"
    sheets = _sheet_parts(after)
    assert all(sheets[n].startswith("book/worksheets/") for n in result_sheets)
    types = after["[Content_Types].xml"].decode()
    assert f'PartName="/{sheets["Run"]}"' in types
    # openpyxl reads styles from xl/styles.xml only (the input fails the same
    # way when fully loaded): its read-only mode, which needs no styles, opens it.
    wb = openpyxl.load_workbook(out, read_only=True)
    assert set(result_sheets) <= set(wb.sheetnames)
    summary = [r for r in wb[result_sheets[0]].iter_rows(values_only=True)]
    reference = openpyxl.load_workbook(plain, read_only=True)
    assert summary == list(reference[result_sheets[0]].iter_rows(values_only=True))
    _assert_idempotent(out, plain_changes)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "xlmodel.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _count(data: bytes, local: str) -> int:
    root = ET.fromstring(data)
    return len(root.find(f"{MAIN}{local}"))


@pytest.mark.parametrize(
    ("case", "what"),
    [
        ("cellXfs", "cell formats"),
        ("fonts", "fonts"),
        ("numFmts", "custom number formats"),
    ],
)
def test_styles_at_excels_limit_are_refused_cleanly(
    template: Path, folder: Path, case: str, what: str
) -> None:
    path = folder / f"limit-{case}.xlsx"
    if case == "cellXfs":
        corpus.template_with_cell_formats(template, path, 64_000)
    elif case == "fonts":
        corpus.template_with_fonts(template, path, 512)
    else:
        corpus.template_with_number_formats(template, path, 200)
    before = path.read_bytes()
    run = _cli("compute", str(path), "--no-export")
    assert run.returncode == 2, run.stdout + run.stderr
    # Under load a stage that takes more than a second prints a progress line.
    lines = [line for line in run.stderr.splitlines() if not PROGRESS_LINE.match(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert what in lines[0] and "Excel" in lines[0] and "Traceback" not in run.stderr
    assert path.read_bytes() == before
    leftovers = [n for n in os.listdir(folder) if n.startswith(".~xlmodel.")]
    assert [n for n in leftovers if not n.endswith(".lock")] == []


def test_formats_already_in_the_styles_are_reused(
    template: Path,
    plain: Path,
    folder: Path,
    result_sheets: list[str],
    expected: dict[str, list[tuple]],
    outputs: dict[str, Path],
) -> None:
    """At 64,000 cell formats, those the results need are found, none added."""
    path = folder / "full-styles.xlsx"
    corpus.template_with_cell_formats(template, path, 64_000, styles_from=plain)
    styles_before = _parts(path)["xl/styles.xml"]
    out = _compute(path, folder / "full-styles")
    outputs["full-styles"] = out
    styles_after = _parts(out)["xl/styles.xml"]
    assert _count(styles_after, "cellXfs") == 64_000
    assert styles_after == styles_before, "the styles part was edited"
    assert _values(out, result_sheets) == expected


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_every_case(
    outputs: dict[str, Path], folder: Path, result_sheets: list[str]
) -> None:
    wanted = {*corpus.WRITINGS, "outside-xl", "no-styles", "full-styles"}
    if set(outputs) != wanted:
        pytest.skip("the compute tests of this module did not all run")
    profile = folder / "lo-profile"
    target = folder / "lo"
    inputs = folder / "lo-in"
    inputs.mkdir()
    named = {case: inputs / f"{case}.xlsx" for case in outputs}
    for case, out in outputs.items():
        shutil.copy(out, named[case])
    command = [
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(target),
        *map(str, named.values()),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for case, out in named.items():
        converted = target / out.name
        assert converted.exists(), f"{case}: {run.stdout}{run.stderr}"
        wb = openpyxl.load_workbook(converted)
        assert set(result_sheets) <= set(wb.sheetnames), case
        assert wb["Variants"]["A1"].value is not None, case
