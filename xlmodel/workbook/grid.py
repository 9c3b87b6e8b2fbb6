"""Opening a workbook for reading: sheets as plain grids of values and formulas.

A :class:`Book` opens the workbook's bytes and loads each worksheet on demand
into a :class:`Grid`: rows of the values Excel or LibreOffice cached and rows of
the formulas. A block of the template (a header row) is located through its
workbook-level defined name (``xlmodel_variants`` ...), falling back to the
template's sheet and cell and then to a search for its header row. The file is
never written. Cell names (``B7``) and column letters come from here too.

The sheets are read by :mod:`xlmodel.workbook.xlsx` (one pass over a sheet's
XML for both views, openpyxl not imported). Whatever that reader leaves to
openpyxl (:class:`~xlmodel.workbook.xlsx.Unusual`: a shared formula
:mod:`~xlmodel.workbook.translate` does not move, a missing part...) is read through openpyxl's read-only mode, the
same values by construction, and this is the only module that imports it.
Failures inside openpyxl become one :class:`~xlmodel.errors.PackageError` line
(:func:`translated`).

Two things are read from the package directly. The main part's root says
whether the workbook is Strict Open XML (refused with how to save it as an
ordinary workbook: openpyxl would find no sheets in it), and its ``<calcPr>``
says whether the file asks for a full recalculation on opening (openpyxl
reports that as true when the attribute is absent, and neither Excel nor
LibreOffice writes it). And a cell value that cannot be converted (text or
``NaN`` in a numeric cell, ``yes`` in a boolean one, as scripts write them) is
read as the text it holds, so that the input's check names it, instead of
failing the whole file.
"""

from __future__ import annotations

import functools
import io
import posixpath
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from defusedxml.ElementTree import fromstring

from ..errors import InputProblems, PackageError
from . import xlsx
from .values import CellError, blank, folded

#: Refuse input sheets larger than this many rows (a stray cell far below, say).
MAX_ROWS = 100_000

_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships/"
_OFFICE_DOCUMENT = "/officeDocument"  # the end of the main part's relationship type
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
STRICT_ADVICE = (
    "is a Strict Open XML workbook (ISO/IEC 29500 strict), which xlmodel does not "
    "read: save it as an ordinary workbook (File > Save As > Excel Workbook (.xlsx), "
    'not "Strict Open XML Spreadsheet")'
)


@functools.lru_cache(maxsize=4096)
def column_letter(number: int) -> str:
    """Letters of the one-based column ``number`` (1 -> ``A``)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """One-based number of the column ``letters`` (``A`` -> 1)."""
    return xlsx.column_index(letters)


def cell_name(r: int, c: int) -> str:
    """The A1 name of the zero-based cell (``cell_name(0, 1)`` is ``B1``)."""
    return f"{column_letter(c + 1)}{r + 1}"


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
        except (PackageError, InputProblems, CellError, xlsx.Unusual, xlsx.TooManyRows):
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
    from defusedxml import DefusedXmlException

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
        if isinstance(f, xlsx.ArrayFormula):
            return str(f)
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
    """One workbook's sheets (loaded on demand) and defined names."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self._data = data
        self._grids: dict[str, Grid] = {}
        self.searched: list[str] = []  # blocks found by searching the sheets
        # Files written by scripts ask for a full recalculation on opening and
        # carry 0 as a placeholder result of every formula (see recalculation).
        self.recalc = recalculation(path, data)
        self._zip: zipfile.ZipFile | None = None
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self._src: xlsx.Package | _Openpyxl = xlsx.open_package(self._zip)
        except (xlsx.Unusual, zipfile.BadZipFile, OSError, ValueError, EOFError):
            self._src = _Openpyxl(path, data)  # its own message for a broken file
        self.titles = list(self._src.sheets)
        self.names = {k.casefold(): v for k, v in self._src.names.items()}

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc) -> None:
        if isinstance(self._src, _Openpyxl):
            self._src.close()
        if self._zip is not None:
            self._zip.close()

    def _openpyxl(self) -> None:
        """Read the rest through openpyxl (the fast reader met something
        :class:`~xlmodel.workbook.xlsx.Unusual`)."""
        if not isinstance(self._src, _Openpyxl):
            self._src = _Openpyxl(self.path, self._data)
        self.names = {k.casefold(): v for k, v in self._src.names.items()}

    def _fast_first(self, read, *args):
        """``read(*args)``, once more through openpyxl when the fast reader
        finds the workbook :class:`~xlmodel.workbook.xlsx.Unusual`."""
        try:
            return read(*args)
        except xlsx.Unusual:
            self._openpyxl()
            return read(*args)

    def sheet(self, title: str) -> Grid | None:
        """A worksheet by title (case-insensitive, as Excel compares them)."""
        match = next((t for t in self.titles if t.casefold() == title.casefold()), None)
        if match is None:
            return None
        if match not in self._grids:
            if self._src.sheets[match] is None:  # a chart sheet
                return None
            values, formulas = self._fast_first(self._rows, match)
            self._grids[match] = Grid(match, values, formulas)
        return self._grids[match]

    def _rows(self, title: str) -> tuple[list, list]:
        try:
            with translated(self.path):
                values, formulas = self._src.rows(title, MAX_ROWS)
        except xlsx.TooManyRows:
            raise PackageError(
                f"{self.path}: sheet {title!r} has data beyond row {MAX_ROWS:,}; "
                "xlmodel reads at most that many rows of an input sheet (delete "
                "stray cells far below the tables)"
            ) from None
        for rows in (values, formulas):
            while rows and not any(v is not None for v in rows[-1]):
                rows.pop()
        return values, formulas

    def defined(self, name: str, title: str) -> str | None:
        """The formula text of the defined ``name`` seen from sheet ``title``.

        A name local to that sheet wins over the workbook's; None when undefined.
        The text is what the name refers to (``Variants!$D$7``, ``0.5``).
        """
        local = self._src.local.get(title, {}) if title in self.titles else {}
        for key, dn in local.items():
            if key.casefold() == name.casefold():
                return dn.text
        dn = self.names.get(name.casefold())
        return None if dn is None else dn.text

    def sheet_name_ref(self, name: str) -> tuple[str, str] | None:
        """The first sheet holding the sheet-scoped defined ``name``, and its ref.

        Returns
        -------
        (str, str) or None
            Sheet title and the reference (``$A$10``), in sheet order.
        """
        return self._fast_first(self._sheet_name_ref, name)

    def _sheet_name_ref(self, name: str) -> tuple[str, str] | None:
        with translated(self.path):
            for title in self.titles:
                names = self._src.local.get(title, {})
                if name in names:
                    found = names[name].destination()
                    if found is None:  # openpyxl fails on it: its message
                        raise xlsx.Unusual("a sheet name that is no reference")
                    return title, found[1]
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
        try:
            found = self._fast_first(self._destination, name)
        except PackageError:
            raise
        except Exception:  # noqa: BLE001 - #REF! or a malformed name: fall back
            return None
        if found is None:
            return None
        sheet, ref = found
        m = xlsx.COORDINATE.fullmatch(ref.split(":")[0])
        if m is None or int(m.group(2)) == 0:
            return None
        grid = self.sheet(sheet.replace("''", "'"))
        if grid is None:
            return None
        return grid, int(m.group(2)) - 1, xlsx.column_index(m.group(1)) - 1

    def _destination(self, name: str) -> tuple[str, str] | None:
        dn = self.names.get(name.casefold())
        return None if dn is None else dn.destination()


class _Openpyxl:
    """The workbook as openpyxl's read-only mode reads it, with the interface
    of :class:`xlmodel.workbook.xlsx.Package` (sheets, names, local, rows)."""

    def __init__(self, path: Path, data: bytes):
        import openpyxl  # only here: a third of a second to import

        _tolerate()
        self.path = path
        with translated(path):
            self.values = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True
            )
            self.formulas = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=False
            )
            self.sheets = {
                t: (None if not hasattr(self.values[t], "iter_rows") else t)
                for t in self.values.sheetnames
            }
            self.names = {
                k: _OpenpyxlName(v) for k, v in dict(self.values.defined_names).items()
            }
            self.local = {
                t: {
                    k: _OpenpyxlName(v)
                    for k, v in (
                        getattr(self.values[t], "defined_names", None) or {}
                    ).items()
                }
                for t in self.values.sheetnames
            }

    def close(self) -> None:
        for wb in (self.values, self.formulas):
            try:
                wb.close()
            except Exception:  # noqa: BLE001 - closing must not mask the result
                pass

    def rows(self, title: str, max_rows: int) -> tuple[list, list]:
        from openpyxl.worksheet.formula import ArrayFormula

        out = []
        for ws in (self.values[title], self.formulas[title]):
            ws.reset_dimensions()  # a wrong <dimension> would pad every row
            rows = []
            for row in ws.iter_rows(values_only=True):
                if len(rows) >= max_rows:
                    raise xlsx.TooManyRows()
                if any(isinstance(v, ArrayFormula) for v in row):
                    row = tuple(
                        v
                        if not isinstance(v, ArrayFormula)
                        else xlsx.ArrayFormula(v.text)
                        if isinstance(v.text, str)
                        else None
                        for v in row
                    )
                rows.append(row)
            out.append(rows)
        return out[0], out[1]


@dataclass
class _OpenpyxlName:
    """An openpyxl defined name with the interface of :class:`xlsx.Name`."""

    dn: object

    @property
    def text(self) -> str | None:
        return self.dn.attr_text

    def destination(self) -> tuple[str, str]:
        return next(iter(self.dn.destinations))


_TOLERANT = []


def _tolerate() -> None:
    """Make openpyxl's read-only sheets read a value it cannot convert (text or
    ``NaN`` in a numeric cell, ``yes`` in a boolean one) as the text it holds,
    and a shared-string index that is not one of the strings (openpyxl takes
    -1 for the last) as :class:`~xlmodel.workbook.xlsx.Damaged`, as the fast
    reader does; the input's check then reports the cell instead of failing on
    the whole file. Well-formed cells are parsed exactly as openpyxl does."""
    if _TOLERANT:
        return
    import openpyxl.worksheet._read_only as read_only
    from openpyxl.worksheet._reader import VALUE_TAG, WorkSheetParser

    class TolerantParser(WorkSheetParser):
        def parse_cell(self, element):
            counter = self.col_counter
            text = element.findtext(VALUE_TAG, None)
            if element.get("t") == "s" and text:
                value = xlsx.shared_string(self.shared_strings, text)
                if value.__class__ is xlsx.Damaged:  # as the fast reader reads it
                    cell = self.parse_cell(_without_value(element))
                    cell["value"], cell["data_type"] = value, "s"
                    return cell
            try:
                return super().parse_cell(element)
            except (ValueError, TypeError, IndexError, KeyError, OverflowError):
                text = element.findtext(VALUE_TAG, None) or ""
                for key in ("t", "s"):
                    element.attrib.pop(key, None)
                for child in element.findall(VALUE_TAG):
                    element.remove(child)
                self.col_counter = counter
                cell = super().parse_cell(element)  # its position, as openpyxl has it
                cell["value"], cell["data_type"] = text, "s"
                return cell

    def _without_value(element):
        # the cell without its type and value: parsed for its position only
        element.attrib.pop("t", None)
        for child in element.findall(VALUE_TAG):
            element.remove(child)
        return element

    # The read-only worksheets openpyxl hands out build their parser by this name.
    read_only.WorkSheetParser = TolerantParser
    _TOLERANT.append(TolerantParser)


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
