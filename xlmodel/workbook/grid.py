"""Opening a workbook for reading: sheets as plain grids of values and formulas.

The only module of xlmodel that imports openpyxl. A :class:`Book` opens the
workbook's bytes twice in read-only mode: once for the values Excel or LibreOffice
cached (``data_only=True``) and once for the formulas, and loads each worksheet on
demand into a :class:`Grid` (rows of raw values and rows of formulas). A block of
the template (a header row) is located through its workbook-level defined name
(``xlmodel_variants`` ...), falling back to the template's sheet and cell and then
to a search for its header row. Failures inside openpyxl become one
:class:`~xlmodel.errors.PackageError` line (:func:`translated`). The file is never
written. Cell names (``B7``) and column letters come from here too.

Two things are read from the package directly, not through openpyxl. The main
part's root says whether the workbook is Strict Open XML (refused with how to
save it as an ordinary workbook: openpyxl would find no sheets in it), and its
``<calcPr>`` says whether the file asks for a full recalculation on opening
(openpyxl reports that as true when the attribute is absent, and neither Excel
nor LibreOffice writes it). And a cell value openpyxl cannot convert (text or
``NaN`` in a numeric cell, ``yes`` in a boolean one, as scripts write them) is
read as the text it holds, so that the input's check names it, instead of
failing the whole file (:class:`_TolerantParser`).
"""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import openpyxl
import openpyxl.worksheet._read_only as _read_only
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet._reader import VALUE_TAG, WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula

from ..errors import InputProblems, PackageError
from .values import CellError, blank, folded

#: Refuse input sheets larger than this many rows (a stray cell far below, say).
MAX_ROWS = 100_000

#: A sheet whose <dimension> declares at least this many cells has its two
#: parses (values, formulas) run at once, the values' in a forked child.
PARALLEL_CELLS = 5_000

_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships/"
_OFFICE_DOCUMENT = "/officeDocument"  # the end of the main part's relationship type
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
STRICT_ADVICE = (
    "is a Strict Open XML workbook (ISO/IEC 29500 strict), which xlmodel does not "
    "read: save it as an ordinary workbook (File > Save As > Excel Workbook (.xlsx), "
    'not "Strict Open XML Spreadsheet")'
)


class _TolerantParser(WorkSheetParser):
    """openpyxl's sheet parser, reading a value it cannot convert as its text.

    openpyxl converts ``<v>`` by the cell's ``t`` attribute and fails on the whole
    file when that is impossible: ``<v>fast</v>`` or ``<v>NaN</v>`` in a numeric
    cell (``int('fast')``), ``<v>yes</v>`` in a boolean one, a shared-string index
    that is not a number or out of range. Such a cell is read as the text it holds
    (``'fast'``, ``'NaN'``), which the input's check then reports with its cell.
    Well-formed cells are parsed exactly as openpyxl does.
    """

    def parse_cell(self, element):
        counter = self.col_counter
        try:
            return super().parse_cell(element)
        except (ValueError, TypeError, IndexError, KeyError, OverflowError):
            text = element.findtext(VALUE_TAG, None) or ""
            for key in ("t", "s"):
                element.attrib.pop(key, None)
            for child in element.findall(VALUE_TAG):
                element.remove(child)
            self.col_counter = counter
            cell = super().parse_cell(element)  # its position, as openpyxl finds it
            cell["value"], cell["data_type"] = text, "s"
            return cell


# The read-only worksheets openpyxl hands out build their parser by this name.
_read_only.WorkSheetParser = _TolerantParser


def column_letter(number: int) -> str:
    """Letters of the one-based column ``number`` (1 -> ``A``)."""
    return get_column_letter(number)


def column_number(letters: str) -> int:
    """One-based number of the column ``letters`` (``A`` -> 1)."""
    return column_index_from_string(letters)


def cell_name(r: int, c: int) -> str:
    """The A1 name of the zero-based cell (``cell_name(0, 1)`` is ``B1``)."""
    return f"{get_column_letter(c + 1)}{r + 1}"


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Run openpyxl calls; any failure on a malformed package is one PackageError.

    openpyxl's own warnings (unsupported extensions it would drop on save, date
    serials out of range) concern writing or are caught by the reader's checks;
    the workbook is only read here, so they are silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            yield
        except (PackageError, InputProblems, CellError):
            raise
        except Exception as e:  # noqa: BLE001 - translate any parser failure
            if _refused_entities(e):
                raise PackageError(
                    f"{path}: declares XML document types or entities, which "
                    "workbooks never hold; refused for safety"
                ) from None
            detail = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
            raise PackageError(
                f"{path}: corrupt or unreadable workbook ({detail}); open it in Excel "
                "or LibreOffice and save it again"
            ) from None


def _refused_entities(e: BaseException) -> bool:
    # openpyxl parses with defusedxml, which refuses DTDs and entities; openpyxl
    # may wrap that refusal in an error of its own.
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, DefusedXmlException):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


@dataclass
class Grid:
    """The cached values and the formulas of one worksheet, row by row."""

    title: str
    values: list[tuple]
    formulas: list[tuple]

    @property
    def rows(self) -> int:
        return len(self.values)

    def raw(self, r: int, c: int):
        row = self.values[r] if 0 <= r < len(self.values) else ()
        return row[c] if 0 <= c < len(row) else None

    def formula(self, r: int, c: int) -> str | None:
        """The formula of a cell (``=...``), or None for a plain value."""
        row = self.formulas[r] if 0 <= r < len(self.formulas) else ()
        f = row[c] if 0 <= c < len(row) else None
        if isinstance(f, ArrayFormula):
            return f.text if isinstance(f.text, str) else None
        if isinstance(f, str) and f.startswith("=") and len(f) > 1:
            # A text cell may hold "=..." literally: then it equals its value.
            return None if f == self.raw(r, c) else f
        return None

    def filled(self, r: int, c: int) -> bool:
        return not blank(self.raw(r, c)) or self.formula(r, c) is not None

    def width(self, r: int) -> int:
        row = self.values[r] if 0 <= r < len(self.values) else ()
        return max(len(row), len(self.formulas[r]) if r < len(self.formulas) else 0)


class BlockLike(Protocol):
    """Where the template puts a block (see :class:`inputs.layout.Block`)."""

    defined_name: str
    sheet: str
    row: int
    col: int
    header: tuple[str, ...]


class Book:
    """Both openpyxl views of one workbook, with sheets loaded on demand."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self._grids: dict[str, Grid] = {}
        self.searched: list[str] = []  # blocks found by searching the sheets
        # Files written by scripts ask for a full recalculation on opening and
        # carry 0 as a placeholder result of every formula (see recalculation).
        self.recalc = recalculation(path, data)
        with translated(path):
            self.values = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True
            )
            self.formulas = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=False
            )
            self.titles = list(self.values.sheetnames)
            self.names = {
                k.casefold(): v for k, v in dict(self.values.defined_names).items()
            }

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc) -> None:
        for wb in (self.values, self.formulas):
            try:
                wb.close()
            except Exception:  # noqa: BLE001 - closing must not mask the result
                pass

    def sheet(self, title: str) -> Grid | None:
        """A worksheet by title (case-insensitive, as Excel compares them)."""
        match = next((t for t in self.titles if t.casefold() == title.casefold()), None)
        if match is None:
            return None
        if match not in self._grids:
            with translated(self.path):
                ws_v, ws_f = self.values[match], self.formulas[match]
                if not hasattr(ws_v, "iter_rows"):  # a chart sheet
                    return None
                values, formulas = self._both(ws_v, ws_f, match)
                self._grids[match] = Grid(match, values, formulas)
        return self._grids[match]

    def _both(self, ws_v, ws_f, title: str) -> tuple[list[tuple], list[tuple]]:
        """A sheet's values and formulas: two parses of its XML, the values'
        in a forked child for a large sheet (the Variants sheet of many
        variants), where one can be had (see :mod:`xlmodel.studies.background`;
        elsewhere one parse after the other).

        Whatever goes wrong in the child (an error of the sheet's, a child
        lost), the values are parsed here, so the user sees this process's
        own message, as in a serial read.
        """
        declared = (ws_v.max_row or 0) * (ws_v.max_column or 0)  # <dimension>
        if declared < PARALLEL_CELLS:
            return self._rows(ws_v, title), self._rows(ws_f, title)
        from ..studies import background  # only for a large sheet: start-up

        with background.Background(
            _rows_in_child, (self, ws_v, title), mode="process", fallback="serial"
        ) as child:
            formulas = self._rows(ws_f, title)
            try:
                values = child.result()
            except Exception:  # noqa: BLE001 - an answer that could not travel
                values = None
        if values is None:
            values = self._rows(ws_v, title)
        return values, formulas

    def _rows(self, ws, title: str) -> list[tuple]:
        ws.reset_dimensions()  # a wrong <dimension> would pad every row
        rows = []
        for row in ws.iter_rows(values_only=True):
            if len(rows) >= MAX_ROWS:
                raise PackageError(
                    f"{self.path}: sheet {title!r} has data beyond row {MAX_ROWS:,}; "
                    "xlmodel reads at most that many rows of an input sheet (delete "
                    "stray cells far below the tables)"
                )
            rows.append(row)
        while rows and not any(v is not None for v in rows[-1]):
            rows.pop()
        return rows

    def defined(self, name: str, title: str) -> str | None:
        """The formula text of the defined ``name`` seen from sheet ``title``.

        A name local to that sheet wins over the workbook's; None when undefined.
        The text is what the name refers to (``Variants!$D$7``, ``0.5``).
        """
        with translated(self.path):
            ws = self.values[title] if title in self.titles else None
            local = getattr(ws, "defined_names", None) or {}
            for key, dn in local.items():
                if key.casefold() == name.casefold():
                    return dn.attr_text
            dn = self.names.get(name.casefold())
            return None if dn is None else dn.attr_text

    def sheet_name_ref(self, name: str) -> tuple[str, str] | None:
        """The first sheet holding the sheet-scoped defined ``name``, and its ref.

        Returns
        -------
        (str, str) or None
            Sheet title and the reference (``$A$10``), in sheet order.
        """
        with translated(self.path):
            for title in self.titles:
                names = getattr(self.values[title], "defined_names", None) or {}
                if name in names:
                    _, ref = next(iter(names[name].destinations))
                    return title, ref
        return None

    def locate(self, block: BlockLike) -> tuple[Grid, int, int] | None:
        """The sheet and zero-based header cell of a block, or None when absent.

        The defined name wins (it follows renamed sheets and inserted rows); then the
        template's sheet name and cell. If the anchor cell does not hold the block's
        header label, the top of the sheet is searched for it.
        """
        found = self._by_name(block.defined_name)
        if found is None:
            grid = self.sheet(block.sheet)
            if grid is None:
                return self._search(block)
            found = (grid, block.row, block.col)
        grid, r, c = found
        label = block.header[0].casefold()
        if folded(grid.raw(r, c)) != label:
            for rr in range(min(grid.rows, 60)):
                for cc in range(min(grid.width(rr), 40)):
                    if folded(grid.raw(rr, cc)) == label:
                        return grid, rr, cc
        return found

    def _search(self, block: BlockLike) -> tuple[Grid, int, int] | None:
        # Neither the defined name nor the sheet name: look for the block's whole
        # header row (e.g. parameter | unit | description) on every worksheet.
        labels = [h.casefold() for h in block.header]
        for title in self.titles:
            try:
                grid = self.sheet(title)
            except PackageError:  # a huge sheet of the user's: not ours
                continue
            if grid is None:
                continue
            for r in range(min(grid.rows, 60)):
                for c in range(min(grid.width(r), 40)):
                    if all(
                        folded(grid.raw(r, c + k)) == label
                        for k, label in enumerate(labels)
                    ):
                        self.searched.append(f"{block.sheet} -> {title}")
                        return grid, r, c
        return None

    def _by_name(self, name: str) -> tuple[Grid, int, int] | None:
        dn = self.names.get(name.casefold())
        if dn is None:
            return None
        try:
            sheet, ref = next(iter(dn.destinations))
            col, row = coordinate_from_string(ref.replace("$", "").split(":")[0])
        except Exception:  # noqa: BLE001 - #REF! or a malformed name: fall back
            return None
        grid = self.sheet(sheet.replace("''", "'"))
        if grid is None:
            return None
        return grid, row - 1, column_index_from_string(col) - 1


def _rows_in_child(book: Book, ws, title: str, progress=None) -> list[tuple] | None:
    """The values' rows, parsed in the child; None on any error (the parent
    parses them again, to raise its own message)."""
    try:
        with translated(book.path):
            return book._rows(ws, title)
    except Exception:  # noqa: BLE001 - see above
        return None


def recalculation(path: Path, data: bytes) -> bool:
    """True when the workbook says its saved formula results are not to be trusted.

    That is ``fullCalcOnLoad="1"`` on the main part's ``<calcPr>``, which scripts
    (xlsxwriter, openpyxl) write beside a 0 placeholder for every formula; Excel
    and LibreOffice never write it. A calculation chain (``calcChain.xml``) is
    written only by an application that calculated the formulas: then the flag
    was set afterwards by a program keeping the values (xlmodel's own results)
    and the values stand. Raises PackageError for a Strict Open XML workbook.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            part = _main_part(zf, names)
            if part is None:
                return False
            root = fromstring(zf.read(part))
    except _Strict:
        raise PackageError(f"{path}: {STRICT_ADVICE}") from None
    except Exception:  # noqa: BLE001 - openpyxl reports a broken package
        return False
    if root.tag.startswith("{" + _STRICT_MAIN + "}"):
        raise PackageError(f"{path}: {STRICT_ADVICE}")
    calc = next((el for el in root if el.tag.rpartition("}")[2] == "calcPr"), None)
    full = calc is not None and calc.get("fullCalcOnLoad", "") in ("1", "true")
    chain = any(n.rpartition("/")[2].casefold() == "calcchain.xml" for n in names)
    return full and not chain


def _main_part(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    # The workbook part: the officeDocument relationship of the package.
    if "_rels/.rels" not in names:
        return "xl/workbook.xml" if "xl/workbook.xml" in names else None
    for rel in fromstring(zf.read("_rels/.rels")).iter(f"{_RELS_NS}Relationship"):
        kind = rel.get("Type", "")
        if kind.endswith(_OFFICE_DOCUMENT):
            part = posixpath.normpath(rel.get("Target", "").lstrip("/"))
            if _STRICT_RELS in kind:
                raise _Strict()
            return part if part in names else None
    return None


class _Strict(Exception):
    """The package's relationships are those of Strict Open XML."""
