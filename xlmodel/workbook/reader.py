"""Read a variants workbook into a validated Study; each problem named with its cell.

The workbook is opened twice with openpyxl in read-only mode: once for the values
Excel or LibreOffice cached (``data_only=True``) and once for the formulas. Blocks are
found through the template's defined names (``xlmodel_variants`` ...), falling back
to the sheet names; rows are found by the key in their first column, never by row
number. Every problem is collected and raised once as :class:`InputProblems`; files
that are not readable workbooks raise :class:`PackageError`. The file is never
written.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from defusedxml import DefusedXmlException
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet.formula import ArrayFormula

from .. import engine
from ..errors import CellProblem, InputProblems, PackageError
from ..schema import (
    BY_NAME,
    COEFFICIENTS,
    PARAMETERS,
    SEED_SWEEPS,
    SEED_WORKLOADS,
    TARGETS,
    Parameter,
)
from ..studies.reference import REFERENCE_COLUMNS, load_chips
from ..studies.run import Study
from ..studies.sensitivity import DEFAULT_PARAMETERS
from .package import screen_zip
from .template import (
    BLOCKS,
    SCALING_DEFAULTS,
    SCALING_SETTINGS,
    SENSITIVITY_SETTINGS,
    VARIANT_LABEL_COLUMNS,
    WORKLOAD_INTENSITY,
    Block,
)

#: Refuse input sheets larger than this many rows (a stray cell far below, say).
MAX_ROWS = 100_000
#: Refuse workbook files larger than this many bytes (before unpacking).
MAX_FILE_BYTES = 512 << 20
#: Refuse more variant columns than this.
MAX_VARIANTS = 10_000
#: Refuse a sweep of more points than this.
MAX_SWEEP_POINTS = 10_000
#: Formulas longer than this, or nesting references deeper, are not evaluated.
MAX_FORMULA_CHARS = 1_000
MAX_FORMULA_DEPTH = 20
MAX_FORMULA_NESTING = 40

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
     "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!")
)  # fmt: skip
_FORMULA_ADVICE = "open and save the file in Excel or LibreOffice, or type the value"
_SCALING = {p.name: p for p in SCALING_SETTINGS}
_SENSITIVITY = {p.name: p for p in SENSITIVITY_SETTINGS}
# Bounds that exclude their end points, and how to say so.
_OPEN_RANGES = {
    "utilizations": "number (fraction, above 0, at most 1)",
    "tornado_percent": "number (%, above 0 and below 100)",
    "arithmetic_intensity": "number (FLOP/byte, above 0)",
}
_GROUPS = frozenset(p.group.casefold() for p in PARAMETERS)
_NAMES_FOLDED = {p.name.casefold(): p for p in PARAMETERS}


# --- public API -----------------------------------------------------------------------


def check_not_open(path: str | Path) -> None:
    """Refuse a workbook that Excel or LibreOffice has open (its lock file exists).

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook about to be written.

    Raises
    ------
    PackageError
        When ``~$<name>`` (Excel) or ``.~lock.<name>#`` (LibreOffice) exists beside
        the workbook.
    """
    path = Path(path)
    for lock, app in (
        (f"~${path.name}", "Excel"),
        (f".~lock.{path.name}#", "LibreOffice"),
    ):
        if (path.parent / lock).exists():
            raise PackageError(
                f"{path}: the workbook is open in {app} (lock file {lock}): close it "
                "first (if it is not open, delete the lock file)"
            )


def read_study(path: str | Path) -> Study:
    """Read and validate a variants workbook.

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.xlsx`` or ``.xlsm`` workbook laid out like the template.

    Returns
    -------
    Study
        Variants (index = names, a column per schema parameter), workloads, the
        scaling, power and sensitivity settings, and warnings (one line each:
        blanks that took defaults, numbers stored as text, evaluated formulas,
        unknown rows, missing sheets, implausible values).

    Raises
    ------
    PackageError
        The file is missing, not an ``.xlsx``/``.xlsm`` workbook, corrupt, or
        absurdly large.
    InputProblems
        Every invalid input, each with its sheet, cell, parameter and expectation.
    """
    path = Path(path)
    data = _load_bytes(path)
    with _Book(path, data) as book:
        return _StudyReader(book).read()


# --- the package ----------------------------------------------------------------------


def _load_bytes(path: Path) -> bytes:
    if not path.exists():
        raise PackageError(f"{path}: no such file")
    if path.is_dir():
        raise PackageError(f"{path}: is a folder, not a workbook")
    # A pipe or a device (a link to /dev/zero, say) would never end or never fill.
    if not path.is_file():
        raise PackageError(f"{path}: is not a regular file (a pipe or a device?)")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise PackageError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(data) > MAX_FILE_BYTES:
        raise PackageError(
            f"{path}: is larger than {MAX_FILE_BYTES >> 20:,} MiB, too large for a "
            "workbook xlmodel reads"
        )
    _sniff(path, data)
    return data


def _sniff(path: Path, data: bytes) -> None:
    # Say what the file is when it is not an xlsx/xlsm package.
    if not data:
        raise PackageError(f"{path}: is empty (0 bytes), not a workbook")
    if data.startswith(_OLE_MAGIC):
        raise PackageError(
            f"{path}: legacy .xls or password-protected workbook: save as .xlsx "
            "(Excel Workbook) without a password"
        )
    if not data.startswith(b"PK"):
        raise PackageError(f"{path}: {_describe_non_zip(path, data[:4096])}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise PackageError(
            f"{path}: corrupt or truncated zip file, not a readable workbook "
            "(copy it again or save it again from Excel)"
        ) from None
    if b"opendocument" in mimetype:
        raise PackageError(
            f"{path}: is an OpenDocument spreadsheet (.ods): save it as Excel "
            ".xlsx (File > Save As > Excel 2007-365)"
        )
    if "xl/workbook.bin" in names:
        raise PackageError(
            f"{path}: is a binary Excel workbook (.xlsb): save it as .xlsx "
            "(Excel Workbook) or .xlsm"
        )
    if "[Content_Types].xml" not in names or not any(
        n.startswith("xl/") for n in names
    ):
        what = (
            "a Word document"
            if any(n.startswith("word/") for n in names)
            else "a PowerPoint file"
            if any(n.startswith("ppt/") for n in names)
            else "a zip archive"
        )
        raise PackageError(f"{path}: is {what}, not an Excel workbook (.xlsx)")
    # Unsafe part names, zip bombs, XML entity declarations: refused before openpyxl
    # unpacks or parses anything.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        screen_zip(path, zf)


def _describe_non_zip(path: Path, head: bytes) -> str:
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return "is not an Excel workbook (.xlsx or .xlsm expected)"
    start = text.lstrip().lower()
    if start.startswith("<"):
        return (
            "is an HTML or XML file, not an .xlsx workbook: open it in Excel or "
            "LibreOffice and save as .xlsx"
        )
    if path.suffix.lower() in (".csv", ".tsv", ".txt") or _looks_like_csv(text):
        return (
            "is a CSV (plain text) file, not an Excel workbook: start from the "
            "template (xlmodel init) or save it as .xlsx"
        )
    return "is a text file, not an Excel workbook (.xlsx expected)"


def _looks_like_csv(text: str) -> bool:
    try:
        csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        return False
    return True


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    # openpyxl's own warnings (unsupported extensions it would drop on save, date
    # serials out of range) concern writing or are caught by the checks below; the
    # workbook is only read here, so they are silenced. Any failure inside openpyxl
    # on a malformed package becomes one PackageError line.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        try:
            yield
        except (PackageError, InputProblems, _CellError):
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
class _Grid:
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
        return not _blank(self.raw(r, c)) or self.formula(r, c) is not None

    def width(self, r: int) -> int:
        row = self.values[r] if 0 <= r < len(self.values) else ()
        return max(len(row), len(self.formulas[r]) if r < len(self.formulas) else 0)


class _Book:
    """Both openpyxl views of one workbook, with sheets loaded on demand."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self._grids: dict[str, _Grid] = {}
        self.searched: list[str] = []  # blocks found by searching the sheets
        with _translated(path):
            self.values = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True
            )
            self.formulas = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=False
            )
            calc = getattr(self.values, "calculation", None)
            # Files written by scripts ask for a full recalculation on opening and
            # carry 0 as a placeholder result of every formula.
            self.recalc = bool(getattr(calc, "fullCalcOnLoad", False))
            self.titles = list(self.values.sheetnames)
            self.names = {
                k.casefold(): v for k, v in dict(self.values.defined_names).items()
            }

    def __enter__(self) -> _Book:
        return self

    def __exit__(self, *exc) -> None:
        for wb in (self.values, self.formulas):
            try:
                wb.close()
            except Exception:  # noqa: BLE001 - closing must not mask the result
                pass

    def sheet(self, title: str) -> _Grid | None:
        """A worksheet by title (case-insensitive, as Excel compares them)."""
        match = next((t for t in self.titles if t.casefold() == title.casefold()), None)
        if match is None:
            return None
        if match not in self._grids:
            with _translated(self.path):
                ws_v, ws_f = self.values[match], self.formulas[match]
                if not hasattr(ws_v, "iter_rows"):  # a chart sheet
                    return None
                self._grids[match] = _Grid(
                    match, self._rows(ws_v, match), self._rows(ws_f, match)
                )
        return self._grids[match]

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

    def locate(self, block: Block) -> tuple[_Grid, int, int] | None:
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
        if _text(grid.raw(r, c)) != label:
            for rr in range(min(grid.rows, 60)):
                for cc in range(min(grid.width(rr), 40)):
                    if _text(grid.raw(rr, cc)) == label:
                        return grid, rr, cc
        return found

    def _search(self, block: Block) -> tuple[_Grid, int, int] | None:
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
                        _text(grid.raw(r, c + k)) == label
                        for k, label in enumerate(labels)
                    ):
                        self.searched.append(f"{block.sheet} -> {title}")
                        return grid, r, c
        return None

    def _by_name(self, name: str) -> tuple[_Grid, int, int] | None:
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


def _text(v) -> str | None:
    return v.strip().casefold() if isinstance(v, str) else None


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell(r: int, c: int) -> str:
    return f"{get_column_letter(c + 1)}{r + 1}"


# --- formulas without a cached value --------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<ref>(?:(?:'(?P<qsheet>(?:[^']|'')+)'|(?P<sheet>[A-Za-z_][\w.]*))!)?
              \$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[1-9]\d{0,6})(?![\w(:!.]))
    | (?P<op>[-+*/^()])
    )""",
    re.VERBOSE,
)


class _FormulaError(Exception):
    """A formula this reader does not evaluate, or whose evaluation failed."""


def _tokens(text: str) -> list[tuple[str, object]]:
    body, pos, out = text[1:], 0, []
    while pos < len(body):
        if not body[pos:].strip():
            break
        m = _TOKEN.match(body, pos)
        if m is None or m.end() == pos:
            raise _FormulaError("")
        pos = m.end()
        if m.group("num"):
            out.append(("num", float(m.group("num"))))
        elif m.group("ref"):
            sheet = m.group("qsheet")
            sheet = sheet.replace("''", "'") if sheet else m.group("sheet")
            col = column_index_from_string(m.group("col").upper()) - 1
            out.append(("ref", (sheet, int(m.group("row")) - 1, col)))
        else:
            out.append(("op", m.group("op")))
    return out


class _Arithmetic:
    """Recursive-descent evaluator of + - * / ^, parentheses and unary signs.

    Precedence as in Excel: unary minus, then ^ (left to right), then * /, then + -.
    ``resolve`` returns the number held by a referenced cell.
    """

    def __init__(self, tokens, resolve: Callable[[object], float]):
        self.tokens, self.i, self.resolve, self.depth = tokens, 0, resolve, 0

    def run(self) -> float:
        if not self.tokens:
            raise _FormulaError("")
        value = self.expr()
        if self.i != len(self.tokens):
            raise _FormulaError("")
        return value

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take_op(self, ops: str) -> str | None:
        kind, v = self.peek()
        if kind == "op" and v in ops:
            self.i += 1
            return v
        return None

    def expr(self) -> float:
        value = self.term()
        while (op := self.take_op("+-")) is not None:
            rhs = self.term()
            value = _checked(value + rhs if op == "+" else value - rhs)
        return value

    def term(self) -> float:
        value = self.power()
        while (op := self.take_op("*/")) is not None:
            rhs = self.power()
            if op == "/" and rhs == 0:
                raise _FormulaError("it divides by zero")
            value = _checked(value * rhs if op == "*" else value / rhs)
        return value

    def power(self) -> float:
        value = self.unary()
        while self.take_op("^") is not None:
            rhs = self.unary()
            try:
                value = _checked(math.pow(value, rhs))
            except (OverflowError, ValueError, ZeroDivisionError):
                raise _FormulaError("its power is not a real number") from None
        return value

    def unary(self) -> float:
        self.depth += 1
        if self.depth > MAX_FORMULA_NESTING:
            raise _FormulaError("it is nested too deeply")
        try:
            if (op := self.take_op("+-")) is not None:
                value = self.unary()
                return -value if op == "-" else value
            return self.primary()
        finally:
            self.depth -= 1

    def primary(self) -> float:
        kind, v = self.peek()
        if kind == "num":
            self.i += 1
            return float(v)
        if kind == "ref":
            self.i += 1
            return self.resolve(v)
        if self.take_op("(") is not None:
            value = self.expr()
            if self.take_op(")") is None:
                raise _FormulaError("")
            return value
        raise _FormulaError("")


def _checked(x: float) -> float:
    if not math.isfinite(x):
        raise _FormulaError("its result is too large")
    return x


# --- reading cells --------------------------------------------------------------------


class _CellError(Exception):
    """An invalid cell: what it holds and what was expected."""

    def __init__(self, value, expected: str):
        super().__init__(expected)
        self.value, self.expected = value, expected


@dataclass
class _Where:
    sheet: str
    cell: str
    parameter: str
    variant: str | None = None

    def __str__(self) -> str:
        who = f" ({self.variant})" if self.variant else ""
        name = f" {self.parameter}" if self.parameter else ""
        return f"{self.sheet}!{self.cell}{name}{who}"


def _expectation(p: Parameter) -> str:
    return _OPEN_RANGES.get(p.name, p.expectation)


_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([, \u00a0\u202f'])\d{3})(?:\1\d{3})*(?:\.\d+)?")
_WITH_UNIT = re.compile(
    r"([+-]?[\d.,\s\u00a0]*\d[\d.,]*)\s*((?:[^\W\d_]|[°µ%/]).*)", re.DOTALL
)


def _number_from_text(s: str) -> float | None:
    s = s.strip().replace("\u00a0", " ")
    if _PLAIN.fullmatch(s):
        return float(s)
    if _GROUPED.fullmatch(s):
        return float(re.sub(r"[, \u202f']", "", s))
    return None


def _shown(v):
    # A value as a user would recognise it in a message.
    if isinstance(v, (datetime, date, time)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 or not float(x).is_integer() else f"{x:,.0f}"


@dataclass
class _Value:
    """A converted cell value and the warning it raised (text number, formula)."""

    value: object
    note: str = ""


def _convert(p: Parameter, raw, bounded: bool = True) -> _Value:
    """Convert one non-blank cell value for parameter ``p``; raise _CellError.

    ``bounded=False`` accepts any finite number (sweep ranges, checked as a whole).
    """
    unit = f" ({p.unit})" if p.unit and p.unit != "text" else ""
    expect = _expectation(p) if bounded else f"number{unit}"
    a = "a " if p.numeric else ""
    if isinstance(raw, str) and raw.strip() in _ERROR_VALUES:
        raise _CellError(
            raw.strip(), f"is an error value: fix the formula or type a {expect}"
        )
    if isinstance(raw, bool):
        raise _CellError(raw, f"is TRUE/FALSE, not {a}{expect}")
    if isinstance(raw, (datetime, date, time, timedelta)):
        raise _CellError(
            _shown(raw),
            f"is a date or time, not {a}{expect}: format the cell as a number",
        )
    if not p.numeric:
        return _convert_text(p, raw)
    note = ""
    if isinstance(raw, str):
        x = _number_from_text(raw)
        if x is None:
            m = _WITH_UNIT.fullmatch(raw.strip())
            if m and _number_from_text(m.group(1)) is not None:
                unit = f" in {p.unit}" if p.unit else ""
                raise _CellError(
                    raw,
                    f"has a unit typed in: type the number alone{unit}; "
                    f"expected {expect}",
                )
            raise _CellError(raw, f"is not a {expect}")
        note = f"number stored as text {raw!r} read as {_fmt(x)}"
    elif isinstance(raw, (int, float, np.number)):
        x = float(raw)
    else:
        raise _CellError(str(raw), f"is not a {expect}")
    shown = _shown(raw if isinstance(raw, str) else x)
    if not math.isfinite(x):
        raise _CellError(shown, f"is not a finite {expect}")
    if not bounded:
        return _Value(x, note)
    if p.kind == "int" and not x.is_integer():
        raise _CellError(shown, f"is not a {expect}")
    low_ok = x > p.minimum if p.name in _OPEN_RANGES else x >= p.minimum
    high_ok = x < p.maximum if p.name == "tornado_percent" else x <= p.maximum
    if not (low_ok and high_ok):
        raise _CellError(shown, f"is out of range: expected {expect}")
    return _Value(int(x) if p.kind == "int" else x, note)


def _convert_text(p: Parameter, raw) -> _Value:
    if isinstance(raw, str):
        text = raw.strip()
    elif isinstance(raw, (int, float)) and math.isfinite(raw):
        text = str(_shown(float(raw)))
    else:
        raise _CellError(str(raw), f"is not {_article(p)}")
    if p.kind == "choice":
        match = next((c for c in p.choices if c.casefold() == text.casefold()), None)
        if match is None:
            raise _CellError(raw, f"is not {_article(p)}")
        return _Value(match)
    return _Value(text)


def _article(p: Parameter) -> str:
    return _expectation(p) if p.kind == "choice" else "text"


# --- reading the study ----------------------------------------------------------------


@dataclass
class _VariantTable:
    names: list[str] = field(default_factory=list)
    values: dict[str, list] = field(default_factory=dict)  # parameter -> per variant
    cells: dict[str, list[str]] = field(default_factory=dict)  # parameter -> cells
    sheet: str = "Variants"


class _StudyReader:
    """Collects problems and warnings while reading the blocks of one workbook."""

    def __init__(self, book: _Book):
        self.book = book
        self.problems: list[CellProblem] = []
        self.warnings: list[str] = []

    # -- cells --------------------------------------------------------------------

    def problem(self, where: _Where, value, expected: str) -> None:
        self.problems.append(
            CellProblem(where.sheet, where.cell, where.parameter, value, expected)
        )

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def raw(self, grid: _Grid, r: int, c: int, where: _Where):
        """A cell's value: cached, or computed from a simple formula; None if blank.

        Raises _CellError for a formula that has no value xlmodel can trust.
        """
        v, f = grid.raw(r, c), grid.formula(r, c)
        if f is None or not self._uncached(v):
            return v
        try:
            x = self._evaluate(grid, f, 0, {(grid.title, r, c)})
        except RecursionError:
            raise _CellError(
                f,
                f"formula has no cached value and is nested too deeply; "
                f"{_FORMULA_ADVICE}",
            ) from None
        except _FormulaError as e:
            why = f" and {e}" if str(e) else ""
            raise _CellError(
                f, f"formula has no cached value{why}; {_FORMULA_ADVICE}"
            ) from None
        self.warn(
            f"{where}: formula {f!r} had no cached value; xlmodel evaluated it to "
            f"{_fmt(x)} (save the file in Excel or LibreOffice to keep the result)"
        )
        return x

    def _uncached(self, v) -> bool:
        if v is None or v == "":
            return True
        return self.book.recalc and not isinstance(v, bool) and v == 0

    def _evaluate(self, grid: _Grid, text: str, depth: int, seen: set) -> float:
        if len(text) > MAX_FORMULA_CHARS:
            raise _FormulaError("")
        if depth > MAX_FORMULA_DEPTH:
            raise _FormulaError("its references are nested too deeply")
        tokens = _tokens(text)

        def resolve(ref) -> float:
            sheet, r, c = ref
            target = grid if sheet is None else self.book.sheet(sheet)
            if target is None:
                raise _FormulaError(f"it refers to a missing sheet {sheet!r}")
            key = (target.title, r, c)
            name = f"{target.title}!{_cell(r, c)}"
            if key in seen:
                raise _FormulaError(f"it refers back to {name} (a circular reference)")
            v, f = target.raw(r, c), target.formula(r, c)
            if f is not None and self._uncached(v):
                return self._evaluate(target, f, depth + 1, seen | {key})
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                held = "a blank" if _blank(v) else repr(_shown(v))
                raise _FormulaError(f"it refers to {name}, which holds {held}")
            return _checked(float(v))

        return _Arithmetic(tokens, resolve).run()

    def value(self, p: Parameter, grid: _Grid, r: int, c: int, where: _Where):
        """Read and convert one input; None when blank or invalid (problem noted)."""
        try:
            raw = self.raw(grid, r, c, where)
            if _blank(raw):
                return None
            got = _convert(p, raw)
        except _CellError as e:
            self.problem(where, e.value, e.expected)
            return _INVALID
        if got.note:
            self.warn(f"{where}: {got.note}")
        return got.value

    # -- the whole study ------------------------------------------------------------

    def read(self) -> Study:
        table = self.read_variants()
        targets = self.read_values("targets", TARGETS, "Targets")
        coefficients = self.read_values("coefficients", COEFFICIENTS, "Coefficients")
        workloads = self.read_workloads()
        references = self.read_references()
        counts, stacks, utils = self.read_scaling()
        base, percent, sweeps, tornado = self.read_sensitivity(table)
        from . import reader_explore  # it builds on this module

        exploration, uncertainty = reader_explore.read(
            self, table.names if table else []
        )
        frame = None
        if table is not None and table.names:
            frame = self.build_frame(table, {**targets, **coefficients})
        if self.problems or frame is None:  # no frame: a problem says why
            raise InputProblems(self.problems)
        try:
            engine.prepare(frame)
        except ValueError as e:
            sheet = table.sheet if table else "Variants"
            first = str(e).splitlines()[0][:300]
            raise InputProblems(
                [CellProblem(sheet, "", "", first, "rejected by the engine's check")]
            ) from None
        self.plausibility(table, frame)
        for moved in self.book.searched:
            old, new = moved.split(" -> ")
            self.warn(
                f"{new}: read as the {old} table (found by its header row; the "
                "defined names xlmodel_* are missing)"
            )
        return Study(
            variants=frame,
            workloads=workloads,
            scaling_counts=counts,
            hbm_stacks_per_chiplet=stacks,
            utilizations=utils,
            sweep_base=base,
            sweeps=sweeps,
            tornado_parameters=tornado,
            tornado_percent=percent,
            warnings=self.warnings,
            references=references,
            exploration=exploration,
            uncertainty=uncertainty,
        )

    # -- Variants ---------------------------------------------------------------------

    def read_variants(self) -> _VariantTable | None:
        block = BLOCKS["variants"]
        found = self.book.locate(block)
        if found is None:
            self.problems.append(
                CellProblem(
                    block.sheet,
                    "",
                    "",
                    self.book.path.name,
                    f"has no {block.sheet} sheet (nor the defined name "
                    f"{block.defined_name}): restore it, or start from the template "
                    "(xlmodel init)",
                )
            )
            return None
        grid, r0, c0 = found
        table = _VariantTable(sheet=grid.title)
        rows = self._key_rows(grid, r0, c0, c0 + VARIANT_LABEL_COLUMNS, table.sheet)
        columns = self._variant_columns(grid, r0, c0 + VARIANT_LABEL_COLUMNS, rows)
        table.names = [name for _, name in columns]
        blanks: list[tuple[Parameter, _Where]] = []
        for p in PARAMETERS:
            r = rows.get(p.name)
            if r is None:
                if p.section == "variant":
                    self.warn(
                        f"{table.sheet}: no row {p.name}; every variant takes the "
                        f"default {_with_unit(p, p.default)}"
                    )
                continue
            vals, cells = [], []
            for c, name in columns:
                where = _Where(table.sheet, _cell(r, c), p.name, name)
                v = self.value(p, grid, r, c, where)
                if v is None and p.section == "variant":
                    blanks.append((p, where))
                vals.append(v)
                cells.append(where.cell)
            table.values[p.name], table.cells[p.name] = vals, cells
        self._blank_warnings(blanks)
        return table

    def _blank_warnings(self, blanks: list[tuple[Parameter, _Where]]) -> None:
        # One line per blank cell, but one per row or per variant column when many
        # blanks share it (a new variant column, a row cleared across variants).
        many = 5
        by_row: dict[str, list[tuple[Parameter, _Where]]] = {}
        for p, where in blanks:
            by_row.setdefault(p.name, []).append((p, where))
        rest = []
        for items in by_row.values():
            if len(items) <= many:
                rest.extend(items)
                continue
            p, first = items[0]
            self.warn(
                f"{first.sheet}!{first.cell}:{items[-1][1].cell} {p.name}: blank for "
                f"{len(items)} variants; using the default {_with_unit(p, p.default)}"
            )
        by_column: dict[str, list[tuple[Parameter, _Where]]] = {}
        for p, where in rest:
            by_column.setdefault(where.variant or "", []).append((p, where))
        for variant, items in by_column.items():
            if len(items) <= many:
                for p, where in items:
                    self.warn(
                        f"{where}: blank; using the default {_with_unit(p, p.default)}"
                    )
                continue
            first, last = items[0][1], items[-1][1]
            names = ", ".join(p.name for p, _ in items[:4])
            self.warn(
                f"{first.sheet}!{first.cell}:{last.cell} ({variant}): {len(items)} "
                f"blank inputs take their defaults ({names}, ...)"
            )

    def _key_rows(
        self, grid: _Grid, r0: int, c0: int, first_value: int, sheet: str
    ) -> dict[str, int]:
        # Parameter rows by the key in the block's first column.
        rows: dict[str, int] = {}
        for r in range(r0 + 1, grid.rows):
            key = grid.raw(r, c0)
            width = grid.width(r)
            has_values = any(grid.filled(r, c) for c in range(first_value, width))
            if _blank(key):
                if has_values:
                    self.warn(
                        f"{sheet}!{_cell(r, c0)}: row {r + 1} has values but no "
                        "parameter name in its first column; row ignored"
                    )
                continue
            text = str(_shown(key)).strip()
            p = _NAMES_FOLDED.get(text.casefold())
            if p is not None:
                if p.name in rows:
                    self.problem(
                        _Where(sheet, _cell(r, c0), p.name),
                        text,
                        f"appears twice: also in row {rows[p.name] + 1}; delete one",
                    )
                    continue
                rows[p.name] = r
            elif text.casefold() in _GROUPS and not has_values:
                continue
            else:
                close = difflib.get_close_matches(text, BY_NAME, n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                if has_values or close:
                    self.warn(
                        f"{sheet}!{_cell(r, c0)}: {text!r} is not a parameter{hint}; "
                        "row ignored"
                    )
        return rows

    def _variant_columns(
        self, grid: _Grid, r0: int, first: int, rows: dict[str, int]
    ) -> list[tuple[int, str]]:
        sheet = grid.title
        used = [r0, *rows.values()]
        last = max((grid.width(r) for r in used), default=0)
        while last > first and not any(grid.filled(r, last - 1) for r in used):
            last -= 1
        if last - first > MAX_VARIANTS:
            raise PackageError(
                f"{self.book.path}: {sheet} has more than {MAX_VARIANTS:,} variant "
                f"columns (up to column {get_column_letter(last)}); delete stray "
                "cells to the right of the table"
            )
        columns: list[tuple[int, str]] = []
        seen: dict[str, str] = {}
        bad_header = False
        for c in range(first, last):
            where = _Where(sheet, _cell(r0, c), "")
            has_values = any(grid.filled(r, c) for r in rows.values())
            try:
                raw = self.raw(grid, r0, c, where)
                if isinstance(raw, str) and raw.strip() in _ERROR_VALUES:
                    raise _CellError(raw, "is an error value, not a variant name")
                if isinstance(raw, (bool, datetime, date, time, timedelta)):
                    raise _CellError(_shown(raw), "is not a variant name: type text")
            except _CellError as e:
                self.problem(where, e.value, e.expected)
                bad_header = True
                continue
            if _blank(raw):
                if has_values:
                    self.problem(
                        where,
                        "",
                        f"variant name missing: column {get_column_letter(c + 1)} "
                        "has values; type a name in this header cell or clear the "
                        "column",
                    )
                    bad_header = True
                continue
            name = str(_shown(raw)).strip()
            folded = name.casefold()
            if folded in seen:
                self.problem(
                    where,
                    name,
                    f"is a duplicate variant name (also {seen[folded]}); names must "
                    "be unique, ignoring case",
                )
                bad_header = True
                continue
            seen[folded] = f"{sheet}!{where.cell}"
            columns.append((c, name))
        if not columns and not bad_header:
            self.problem(
                _Where(sheet, _cell(r0, first), ""),
                "",
                "no variants: type a variant name in the header row from column "
                f"{get_column_letter(first + 1)} and its values below",
            )
        return columns

    # -- Targets and Coefficients ------------------------------------------------------

    def read_values(self, key: str, params, label: str) -> dict[str, object]:
        block = BLOCKS[key]
        out = {p.name: p.default for p in params}
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: sheet not found (nor the defined name "
                f"{block.defined_name}); using the default {label.lower()}"
            )
            return out
        grid, r0, c0 = found
        sheet = grid.title
        mine = {p.name for p in params}
        seen: dict[str, int] = {}
        for r in range(r0 + 1, grid.rows):
            key_raw = grid.raw(r, c0)
            if _blank(key_raw):
                continue
            text = str(_shown(key_raw)).strip()
            p = _NAMES_FOLDED.get(text.casefold())
            if p is None or p.name not in mine:
                if text.casefold() in _GROUPS:
                    continue
                if p is not None:
                    home = "Variants" if p.section == "variant" else p.section + "s"
                    self.warn(
                        f"{sheet}!{_cell(r, c0)}: {p.name} belongs on {home.title()}, "
                        "not here; row ignored"
                    )
                elif grid.filled(r, c0 + 1):
                    close = difflib.get_close_matches(text, mine, n=1, cutoff=0.75)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    self.warn(
                        f"{sheet}!{_cell(r, c0)}: {text!r} is not a "
                        f"{label.lower().rstrip('s')}{hint}; row ignored"
                    )
                continue
            where = _Where(sheet, _cell(r, c0 + 1), p.name)
            if p.name in seen:
                self.problem(
                    where, text, f"appears twice: also in row {seen[p.name] + 1}"
                )
                continue
            seen[p.name] = r
            v = self.value(p, grid, r, c0 + 1, where)
            if v is None:
                self.warn(
                    f"{where}: blank; using the default {_with_unit(p, p.default)}"
                )
            elif v is not _INVALID:
                out[p.name] = v
        for p in params:
            if p.name not in seen:
                self.warn(
                    f"{sheet}: no row {p.name}; using the default "
                    f"{_with_unit(p, p.default)}"
                )
        return out

    # -- Workloads ---------------------------------------------------------------------

    def read_workloads(self) -> dict[str, float]:
        block = BLOCKS["workloads"]
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: sheet not found (nor the defined name "
                f"{block.defined_name}); using the default workloads"
            )
            return dict(SEED_WORKLOADS)
        grid, r0, c0 = found
        sheet, p = grid.title, WORKLOAD_INTENSITY
        out: dict[str, float] = {}
        seen: dict[str, str] = {}
        before = len(self.problems)
        for r in range(r0 + 1, grid.rows):
            if not (grid.filled(r, c0) or grid.filled(r, c0 + 1)):
                continue
            name_where = _Where(sheet, _cell(r, c0), "workload")
            try:
                name_raw = self.raw(grid, r, c0, name_where)
            except _CellError as e:
                self.problem(name_where, e.value, e.expected)
                continue
            name = "" if _blank(name_raw) else str(_shown(name_raw)).strip()
            where = _Where(sheet, _cell(r, c0 + 1), f"{name or 'workload'} intensity")
            v = self.value(p, grid, r, c0 + 1, where)
            if not name:
                self.problem(
                    name_where,
                    "",
                    "workload name missing: type a name or clear the row",
                )
                continue
            if name.casefold() in seen:
                self.problem(
                    name_where,
                    name,
                    f"is a duplicate workload (also {seen[name.casefold()]})",
                )
                continue
            seen[name.casefold()] = f"{sheet}!{name_where.cell}"
            if v is None:
                self.problem(
                    where, "", f"is blank: type the {_expectation(p)} or clear the row"
                )
            elif v is not _INVALID:
                out[name] = float(v)
        if not out and len(self.problems) == before:
            self.problem(
                _Where(sheet, _cell(r0 + 1, c0), "workload"),
                "",
                "no workloads: add at least one row (name, arithmetic intensity)",
            )
        return out

    # -- References --------------------------------------------------------------------

    def read_references(self) -> pd.DataFrame:
        """The References sheet as a chips table (layout of xlmodel/data/chips.csv)."""
        block = BLOCKS["references"]
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: sheet not found (nor the defined name "
                f"{block.defined_name}); using the shipped reference chips"
            )
            return load_chips()
        grid, r0, c0 = found
        sheet = grid.title
        spec = {name: (kind, required) for name, kind, required, _ in REFERENCE_COLUMNS}
        columns: dict[str, int] = {}
        for c in range(c0, c0 + grid.width(r0)):
            head = _text(grid.raw(r0, c))
            if head is None:
                continue
            key = head.strip().casefold()
            if key in spec and key not in columns:
                columns[key] = c
            elif key not in spec:
                self.warn(
                    f"{sheet}!{_cell(r0, c)}: column {head!r} is not a "
                    "reference column; ignored"
                )
        missing = [n for n, (_, req) in spec.items() if req and n not in columns]
        if missing:
            self.problem(
                _Where(sheet, _cell(r0, c0), "references"),
                ", ".join(missing),
                "required column(s) missing from the header row",
            )
            return load_chips()
        rows, seen = [], {}
        for r in range(r0 + 1, grid.rows):
            if not any(grid.filled(r, c) for c in columns.values()):
                continue
            row: dict[str, object] = {}
            chip_where = _Where(sheet, _cell(r, columns["chip"]), "chip")
            chip = self._reference_text(grid, r, columns["chip"], chip_where)
            if not chip:
                self.problem(
                    chip_where, "", "chip name missing: type a name or clear the row"
                )
                continue
            if chip.casefold() in seen:
                self.problem(
                    chip_where,
                    chip,
                    f"is a duplicate chip (also {seen[chip.casefold()]})",
                )
                continue
            seen[chip.casefold()] = f"{sheet}!{chip_where.cell}"
            ok = True
            for name, (kind, required) in spec.items():
                if name == "chip":
                    continue
                if name not in columns:
                    row[name] = "" if kind == "text" else np.nan
                    continue
                c = columns[name]
                where = _Where(sheet, _cell(r, c), f"{chip} {name}")
                if kind == "text":
                    row[name] = self._reference_text(grid, r, c, where) or ""
                    if required and not row[name]:
                        self.problem(where, "", "is blank: required text")
                        ok = False
                    continue
                try:
                    raw = self.raw(grid, r, c, where)
                except _CellError as e:
                    self.problem(where, e.value, e.expected)
                    ok = False
                    continue
                if _blank(raw):
                    if required:
                        self.problem(
                            where, "", "is blank: a number above 0 is required"
                        )
                        ok = False
                    row[name] = np.nan
                    continue
                num = (
                    raw
                    if isinstance(raw, (int, float)) and not isinstance(raw, bool)
                    else _number_from_text(raw)
                    if isinstance(raw, str)
                    else None
                )
                whole = kind != "count" or (num is not None and float(num).is_integer())
                if num is None or not math.isfinite(num) or num <= 0 or not whole:
                    what = (
                        "a whole number above 0"
                        if kind == "count"
                        else ("a number above 0")
                    )
                    self.problem(where, _shown(raw), f"is not {what}")
                    ok = False
                    continue
                row[name] = float(num)
            if ok:
                rows.append({"chip": chip, **row})
        if not rows:
            if not self.problems:
                self.warn(f"{sheet}: no reference chips; using the shipped ones")
            return load_chips()
        frame = pd.DataFrame(rows).set_index("chip")
        return frame[[n for n, *_ in REFERENCE_COLUMNS if n != "chip"]]

    def _reference_text(self, grid: _Grid, r: int, c: int, where: _Where) -> str:
        try:
            raw = self.raw(grid, r, c, where)
        except _CellError as e:
            self.problem(where, e.value, e.expected)
            return ""
        return "" if _blank(raw) else str(_shown(raw)).strip()

    # -- Scaling -----------------------------------------------------------------------

    def read_scaling(self) -> tuple[list[int], float, list[float]]:
        block = BLOCKS["scaling"]
        defaults = {k: list(v) for k, v in SCALING_DEFAULTS.items()}
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: sheet not found (nor the defined name "
                f"{block.defined_name}); using the default chiplet counts, HBM stacks "
                "per chiplet and utilisations"
            )
            return (
                [int(x) for x in defaults["chiplet_counts"]],
                float(defaults["hbm_stacks_per_chiplet"][0]),
                [float(x) for x in defaults["utilizations"]],
            )
        grid, r0, c0 = found
        sheet = grid.title
        first = c0 + 3
        rows = self._setting_rows(grid, r0, c0, _SCALING)
        got: dict[str, list] = {}
        where_of: dict[str, _Where] = {}
        for name, p in _SCALING.items():
            r = rows.get(name)
            if r is None:
                self.warn(
                    f"{sheet}: no row {name}; using the default "
                    f"{_list(defaults[name], p)}"
                )
                got[name] = defaults[name]
                continue
            vals, invalid = [], False
            for c in range(first, grid.width(r)):
                where = _Where(sheet, _cell(r, c), name)
                v = self.value(p, grid, r, c, where)
                if v is _INVALID:
                    invalid = True
                elif v is not None:
                    if v in vals:
                        self.problem(where, _shown(v), "is repeated in this row")
                        invalid = True
                    vals.append(v)
                    where_of.setdefault(name, where)
            if not vals:  # blank (warned) or invalid (a problem is recorded)
                if not invalid:
                    self.warn(
                        f"{sheet}!{_cell(r, first)} {name}: blank; using the default "
                        f"{_list(defaults[name], p)}"
                    )
                vals = defaults[name]
            if name == "hbm_stacks_per_chiplet" and len(vals) > 1:
                self.problem(
                    where_of[name], _shown(vals[0]), "expects one value; clear the rest"
                )
            got[name] = vals
        counts = [int(x) for x in got["chiplet_counts"]]
        stacks = float(got["hbm_stacks_per_chiplet"][0])
        self._check_stacks(counts, stacks, where_of.get("hbm_stacks_per_chiplet"))
        return counts, stacks, [float(x) for x in got["utilizations"]]

    def _check_stacks(self, counts: list[int], stacks: float, where) -> None:
        hbm = BY_NAME["hbm_stacks"]
        for n in counts:
            total = n * stacks
            if not (float(total).is_integer() and hbm.minimum <= total <= hbm.maximum):
                where = where or _Where("Scaling setup", "", "hbm_stacks_per_chiplet")
                self.problem(
                    where,
                    _shown(stacks),
                    f"gives {total:g} HBM stacks at {n} chiplets: stacks per chiplet "
                    f"x chiplet count must be a whole number of stacks, "
                    f"{hbm.minimum:g}-{hbm.maximum:g}",
                )
                return

    def _setting_rows(self, grid: _Grid, r0: int, c0: int, known: dict) -> dict:
        rows: dict[str, int] = {}
        for r in range(r0 + 1, grid.rows):
            text = _text(grid.raw(r, c0))
            if text is None:
                continue
            match = next((k for k in known if k.casefold() == text), None)
            if match is None:
                if grid.filled(r, c0 + 1) or grid.filled(r, c0 + 3):
                    close = difflib.get_close_matches(text, known, n=1, cutoff=0.75)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    self.warn(
                        f"{grid.title}!{_cell(r, c0)}: {grid.raw(r, c0)!r} is not a "
                        f"setting{hint}; row ignored"
                    )
                continue
            if match in rows:
                self.problem(
                    _Where(grid.title, _cell(r, c0), match),
                    match,
                    f"appears twice: also in row {rows[match] + 1}; delete one",
                )
                continue
            rows[match] = r
        return rows

    # -- Sensitivity -------------------------------------------------------------------

    def read_sensitivity(self, table: _VariantTable | None):
        names = table.names if table else []
        base_p, pct_p = _SENSITIVITY["sweep_base"], _SENSITIVITY["tornado_percent"]
        block = BLOCKS["sensitivity"]
        found = self.book.locate(block)
        base, percent, base_where = None, float(pct_p.default), None
        if found is None:
            self.warn(
                f"{block.sheet}: sheet not found (nor the defined name "
                f"{block.defined_name}); using the default sweeps and tornado"
            )
            sweeps = {k: tuple(map(float, v)) for k, v in SEED_SWEEPS.items()}
            tornado = list(DEFAULT_PARAMETERS)
        else:
            grid, r0, c0 = found
            rows = self._setting_rows(grid, r0, c0, _SENSITIVITY)
            if (r := rows.get("tornado_percent")) is not None:
                where = _Where(grid.title, _cell(r, c0 + 1), "tornado_percent")
                v = self.value(pct_p, grid, r, c0 + 1, where)
                if v is None:
                    self.warn(f"{where}: blank; using the default {pct_p.default:g} %")
                elif v is not _INVALID:
                    percent = float(v)
            else:
                self.warn(
                    f"{grid.title}: no row tornado_percent; using the default "
                    f"{pct_p.default:g} %"
                )
            if (r := rows.get("sweep_base")) is not None:
                base_where = _Where(grid.title, _cell(r, c0 + 1), "sweep_base")
                v = self.value(base_p, grid, r, c0 + 1, base_where)
                base = v if isinstance(v, str) else None
                if v is _INVALID:
                    base = _INVALID
            sweeps = self.read_sweeps()
            tornado = self.read_tornado()
        return self._sweep_base(base, base_where, names), percent, sweeps, tornado

    def _sweep_base(self, base, where: _Where | None, names: list[str]) -> str:
        if base is _INVALID:
            return ""
        if base is not None:
            match = next((n for n in names if n.casefold() == base.casefold()), None)
            if match is None:
                if names:
                    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                    self.problem(
                        where,
                        base,
                        f"is not a variant name: expected one of {shown}",
                    )
                return ""
            return match
        default = str(_SENSITIVITY["sweep_base"].default)
        match = next((n for n in names if n.casefold() == default.casefold()), None)
        chosen = match or (names[0] if names else default)
        if names and (where is not None or match is None):
            place = str(where) if where else "Sensitivity setup sweep_base"
            self.warn(f"{place}: blank or missing; sweeping around {chosen!r}")
        return chosen

    def read_sweeps(self) -> dict[str, tuple[float, float, float]]:
        block = BLOCKS["sweeps"]
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: sweeps table not found; using the default sweeps"
            )
            return {k: tuple(map(float, v)) for k, v in SEED_SWEEPS.items()}
        grid, r0, c0 = found
        sheet = grid.title
        out: dict[str, tuple[float, float, float]] = {}
        for r in range(r0 + 1, grid.rows):
            if not any(grid.filled(r, c0 + k) for k in range(4)):
                continue
            p = self._parameter_cell(grid, r, c0, "sweep parameter", out)
            if p is None:
                continue
            nums = []
            for k, label in enumerate(("start", "stop", "step"), start=1):
                where = _Where(sheet, _cell(r, c0 + k), f"{p.name} sweep {label}")
                try:
                    raw = self.raw(grid, r, c0 + k, where)
                    if _blank(raw):
                        raise _CellError("", f"is blank: type the sweep {label}")
                    got = _convert(p, raw, bounded=False)
                except _CellError as e:
                    self.problem(where, e.value, e.expected)
                    continue
                if got.note:
                    self.warn(f"{where}: {got.note}")
                nums.append((got.value, where))
            if len(nums) == 3 and self._check_sweep(p, nums):
                out[p.name] = tuple(float(v) for v, _ in nums)
        return out

    def _check_sweep(self, p: Parameter, nums) -> bool:
        (start, w0), (stop, w1), (step, w2) = nums
        unit = f" {p.unit}" if p.unit else ""
        bad = len(self.problems)
        if step <= 0:
            self.problem(w2, _shown(step), "is not above 0: the step must be positive")
        if start > stop:
            self.problem(
                w0, _shown(start), f"is above the stop {stop:g}: start <= stop"
            )
        if start < p.minimum:
            self.problem(
                w0,
                _shown(start),
                f"is below the valid range of {p.name}: {_expectation(p)}",
            )
        if stop > p.maximum:
            self.problem(
                w1,
                _shown(stop),
                f"is above the valid range of {p.name}: {_expectation(p)}",
            )
        if p.kind == "int" and not (float(start).is_integer() and step.is_integer()):
            self.problem(
                w0,
                _shown(start),
                f"{p.name} takes whole numbers: start and step must be whole",
            )
        if len(self.problems) > bad:
            return False
        span = (stop - start) / step  # may overflow to inf for a tiny step
        count = math.floor(span + 1e-9) + 1 if math.isfinite(span) else math.inf
        if count < 2:
            # Sensitivity compares the first and the last point of a sweep.
            self.problem(
                w1,
                _shown(stop),
                f"gives a single point from {_fmt(start)} in steps of {_fmt(step)}"
                f"{unit}: a sweep needs two or more; make the stop at least start "
                "+ step",
            )
            return False
        if count > MAX_SWEEP_POINTS:
            self.problem(
                w2,
                _shown(step),
                f"gives {count:,} points from {_fmt(start)} to {_fmt(stop)}{unit}: "
                f"at most "
                f"{MAX_SWEEP_POINTS:,} per sweep; use a larger step",
            )
            return False
        return True

    def _parameter_cell(self, grid: _Grid, r: int, c: int, label: str, seen):
        where = _Where(grid.title, _cell(r, c), label)
        try:
            raw = self.raw(grid, r, c, where)
        except _CellError as e:
            self.problem(where, e.value, e.expected)
            return None
        if _blank(raw):
            self.problem(where, "", f"{label} missing: type a parameter name")
            return None
        text = str(_shown(raw)).strip()
        p = _NAMES_FOLDED.get(text.casefold())
        if p is None or not p.numeric:
            numeric = [q.name for q in PARAMETERS if q.numeric]
            close = difflib.get_close_matches(text, numeric, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            what = "not a numeric parameter" if p else "not a parameter"
            self.problem(where, text, f"is {what}{hint}")
            return None
        if p.name in seen:
            self.problem(where, text, "is listed twice; keep one row")
            return None
        return p

    def read_tornado(self) -> list[str]:
        block = BLOCKS["tornado"]
        found = self.book.locate(block)
        if found is None:
            self.warn(
                f"{block.sheet}: tornado parameter list not found; using the default "
                "parameters"
            )
            return list(DEFAULT_PARAMETERS)
        grid, r0, c0 = found
        out: list[str] = []
        before = len(self.problems)
        for r in range(r0 + 1, grid.rows):
            if not grid.filled(r, c0):
                continue
            p = self._parameter_cell(grid, r, c0, "tornado parameter", out)
            if p is not None:
                out.append(p.name)
        if not out and len(self.problems) == before:
            self.problem(
                _Where(grid.title, _cell(r0 + 1, c0), "tornado parameter"),
                "",
                "no tornado parameters: list at least one numeric parameter",
            )
        return out

    # -- the variants table ------------------------------------------------------------

    def build_frame(self, table: _VariantTable, sheet_values: dict) -> pd.DataFrame:
        n = len(table.names)
        columns: dict[str, object] = {}
        for p in PARAMETERS:
            given = table.values.get(p.name, [None] * n)
            fallback = sheet_values.get(p.name, p.default)
            vals = [fallback if (v is None or v is _INVALID) else v for v in given]
            if p.kind == "int":
                columns[p.name] = np.array([int(v) for v in vals], dtype=np.int64)
            elif p.numeric:
                columns[p.name] = np.array([float(v) for v in vals], dtype=np.float64)
            else:
                columns[p.name] = [str(v) for v in vals]
        return pd.DataFrame(columns, index=pd.Index(table.names))

    # -- plausibility ------------------------------------------------------------------

    def plausibility(self, table: _VariantTable, frame: pd.DataFrame) -> None:
        for p in PARAMETERS:
            if not p.plausible or not p.numeric:
                continue
            if p.section != "variant" and p.name not in table.cells:
                continue
            lo, hi = p.plausible
            col = frame[p.name].to_numpy(dtype=np.float64)
            odd: dict[float, list[int]] = {}
            for i, x in enumerate(col):
                if not lo <= x <= hi:
                    odd.setdefault(float(x), []).append(i)
            for x, idx in odd.items():
                cells = table.cells.get(p.name)
                place = self._place(table, cells, idx, p.name)
                self.warn(
                    f"{place}: {_with_unit(p, x)} is outside the plausible "
                    f"{lo:g}-{hi:g} {p.unit}: {p.plausible_note}"
                )
        self._fp16_per_sm(table, frame)

    def _place(self, table: _VariantTable, cells, idx: list[int], name: str) -> str:
        who = table.names[idx[0]]
        more = f" and {len(idx) - 1} more" if len(idx) > 1 else ""
        cell = f"!{cells[idx[0]]}" if cells else ""
        return f"{table.sheet}{cell} {name} ({who}{more})"

    def _fp16_per_sm(self, table: _VariantTable, frame: pd.DataFrame) -> None:
        refs = _reference_fp16_per_sm()
        if not refs:
            return
        lo_v, hi_v = min(v for _, v in refs), max(v for _, v in refs)
        lo_chips = "/".join(c for c, v in refs if v <= lo_v * 1.02)
        hi_chips = "/".join(c for c, v in refs if v >= hi_v * 0.98)
        tc = frame["tensor_cores_per_sm"].to_numpy(dtype=np.float64)
        ops = frame["fp16_ops_per_cycle"].to_numpy(dtype=np.float64)
        per_sm = tc * ops
        odd: dict[tuple[float, bool], list[int]] = {}
        for i, x in enumerate(per_sm):
            if x < lo_v / 2 or x > hi_v * 2:
                odd.setdefault((float(x), x < lo_v / 2), []).append(i)
        cells = table.cells.get("fp16_ops_per_cycle") or table.cells.get(
            "tensor_cores_per_sm"
        )
        for (x, low), idx in odd.items():
            i = idx[0]
            where = self._place(table, cells, idx, "fp16_ops_per_cycle")
            side = (
                f"below half the smallest shipping part ({lo_chips}: {lo_v:,.0f})"
                if low
                else f"above twice the largest shipping part ({hi_chips}: {hi_v:,.0f})"
            )
            self.warn(
                f"{where}: {tc[i]:g} tensor cores x {ops[i]:g} FLOP/cycle = {x:,.0f} "
                f"dense FP16 FLOP per clock per SM is {side}; check "
                "tensor_cores_per_sm and fp16_ops_per_cycle (per tensor core)"
            )


class _Invalid:
    """Marker of an input that was read but is invalid (a problem is recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID = _Invalid()


def _with_unit(p: Parameter, v) -> str:
    if isinstance(v, str):
        return repr(v)
    unit = p.unit if p.unit and p.unit != "text" else ""
    return f"{_fmt(float(v))} {unit}".rstrip()


def _list(values, p: Parameter) -> str:
    return ", ".join(_fmt(float(v)) for v in values) + (f" {p.unit}" if p.unit else "")


@functools.lru_cache(maxsize=1)
def _reference_fp16_per_sm() -> tuple[tuple[str, float], ...]:
    """Dense FP16 FLOP per clock per SM (or CU) of the reference chips in chips.csv.

    peak (FLOP/s) / (SMs x clock (Hz)) = fp16_dense_tflops x 1e12 /
    (sms_or_cus x clock_mhz x 1e6).
    """
    text = (resources.files("xlmodel") / "data" / "chips.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        try:
            tflops = float(row["fp16_dense_tflops"])
            sms = float(row["sms_or_cus"])
            mhz = float(row["clock_mhz"])
        except (KeyError, TypeError, ValueError):
            continue
        if sms > 0 and mhz > 0:
            out.append((row["chip"], tflops * 1e12 / (sms * mhz * 1e6)))
    return tuple(out)
