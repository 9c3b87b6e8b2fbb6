"""Reading a workbook's sheets, defined names and cells straight from its XML.

The fast path of :class:`xlmodel.workbook.grid.Book`. One expat pass over a
worksheet's XML yields both views the reader needs, the cached values and the
formulas, where openpyxl's read-only mode parses the sheet twice through its
object model; and no part of openpyxl is imported (its import alone costs a
third of a second). What is read is what openpyxl 3.1 reads in read-only mode,
cell for cell (a test compares the two on every workbook of the suite's
corpus): values converted by the cell's type (``t``) and style (a number in a
date format becomes a date, time or duration, in the workbook's 1900 or 1904
calendar), shared and inline strings as plain text, rows and columns placed by
their ``r`` attributes or counted, gaps filled with None. One difference, on
damaged files only: a shared-string index that is not one of the strings is
:class:`Damaged` (openpyxl fails on it, or takes -1 for the last string).

Whatever this reader does not take on itself raises :class:`Unusual`, and the
grid reads the workbook through openpyxl instead, with openpyxl's own messages:
a part or relationship missing or malformed, a shared formula whose copies
:mod:`.translate` does not move (their text is the first cell's formula with
its references moved, as openpyxl gives it; most are moved here), a data
table formula, an ISO 8601 date cell, a cell reference it cannot place, a
defined name more complex than one reference. Workbooks Excel, LibreOffice and
xlsxwriter write for a parameter sheet take the fast path.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from xml.parsers import expat

from .translate import Untranslatable, translate

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types}"
_WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
_SHARED_STRINGS = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_STYLES = "xl/styles.xml"  # openpyxl reads the stylesheet from this name only

# Excel's serial dates: day 0 of each calendar, and seconds per day.
WINDOWS_EPOCH = datetime(1899, 12, 30)
MAC_EPOCH = datetime(1904, 1, 1)
_SECONDS_PER_DAY = 86400

# The built-in number formats (ECMA-376 18.8.30) that openpyxl knows by id; an id
# not listed has no format code and is never a date.
_BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)", 38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)", 40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}  # fmt: skip

# A format is a date when its first section, without quoted text and bracketed
# codes other than elapsed hours/minutes/seconds, has a d m h y or s not escaped.
_FORMAT_NOISE = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_LETTER = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(
    r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I
)
COORDINATE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")  # a cell's r: no $ (openpyxl)
# A defined name that is one reference to cells of a sheet (quoted or not).
_REFERENCE = re.compile(
    r"(?:'(?P<quoted>(?:[^']|'')*)'|(?P<plain>[^'^ !]*))!"
    r"(?P<cells>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)"
)
# A defined name that refers to no cells at all: a number, a text, an error.
_CONSTANT = re.compile(r'[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|"[^"]*"|#REF!.*')
_RESERVED_LOCAL = re.compile(
    r"_xlnm\.(Print_Area|Print_Titles|Criteria|_FilterDatabase|Extract|"
    r"Consolidate_Area|Sheet_Title)"
)
_RESERVED_GLOBAL = ("_xlnm.Print_Titles", "_xlnm.Print_Area", "_xlnm._FilterDatabase")


class Unusual(Exception):
    """Something this reader leaves to openpyxl (the grid reads the workbook
    through it instead)."""


class TooManyRows(Exception):
    """A sheet has data beyond the row limit the caller set."""


class Damaged(str):
    """A cell's value the file cannot give: a shared-string index that is not a
    number or not in the shared strings. Text (the index as written), so any
    reading of it is as before; the input's check reports the cell (``why``)
    instead of taking the index for the value."""

    why: str

    def __new__(cls, text: str, why: str) -> Damaged:
        self = super().__new__(cls, text)
        self.why = why
        return self


def shared_string(strings, text: str) -> str:
    """The shared string a cell's index ``text`` names, or :class:`Damaged`
    when it names none of ``strings`` (openpyxl took -1 for the last)."""
    try:
        index = int(text)
    except ValueError:
        index = -1
    if 0 <= index < len(strings):
        return strings[index]
    return Damaged(
        text,
        f"refers to shared string {text}, which is not one of the workbook's "
        f"{len(strings)}: the file is damaged; open it in Excel or LibreOffice, "
        "retype the cell and save it",
    )


class ArrayFormula(str):
    """The text (``=...``) of an array formula's anchor cell."""


def is_date_format(code: str | None) -> bool:
    """Whether a number format code shows a date or a time (its first section)."""
    if code is None:
        return False
    return _DATE_LETTER.search(_FORMAT_NOISE.sub("", code.split(";")[0])) is not None


def is_elapsed_format(code: str | None) -> bool:
    """Whether a number format code shows elapsed time (``[h]:mm``): a duration."""
    return code is not None and _ELAPSED.search(code.split(";")[0]) is not None


def from_serial(value: float, epoch: datetime, elapsed: bool = False):
    """An Excel serial date as Python: a datetime, a time of day (serials in
    [0, 1) of whole milliseconds within the day) or, for an elapsed-time format,
    a timedelta. Milliseconds are rounded as Excel shows them; the 1900
    calendar's fictitious 29 February 1900 shifts serials below 60 by a day.

    Raises
    ------
    OverflowError, ValueError
        The serial is no date Python can hold (NaN, beyond year 9999).
    """
    if elapsed:
        span = timedelta(days=value)
        if span.microseconds:
            span = timedelta(
                seconds=span.total_seconds() // 1,
                microseconds=round(span.microseconds, -3),
            )
        return span
    day, fraction = divmod(value, 1)
    within = timedelta(milliseconds=round(fraction * _SECONDS_PER_DAY * 1000))
    if 0 <= value < 1 and within.days == 0:
        minutes, seconds = divmod(within.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return time(hours, minutes, seconds, within.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + timedelta(days=day) + within


def column_index(letters: str) -> int:
    """One-based number of the column ``letters`` (``A`` -> 1, ``ZZZ`` -> 18278)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _number(text: str):
    # An int unless the text has a point or an exponent (as openpyxl converts).
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


# --- XML -----------------------------------------------------------------------------


def _parser(start, end=None, chars=None) -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator="}")
    p.buffer_text = True
    p.StartElementHandler = start
    if end is not None:
        p.EndElementHandler = end
    if chars is not None:
        p.CharacterDataHandler = chars

    def refuse(*_):
        raise Unusual("document type declaration")

    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    return p


def _parse(p: expat.XMLParserType, data: bytes) -> None:
    try:
        p.Parse(data, True)
    except expat.ExpatError as e:
        raise Unusual(f"malformed XML ({e})") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Texts:
    """Collects the plain text of ``<si>`` or ``<is>`` elements as openpyxl
    reads rich text: the element's own ``<t>`` (the last one) then each run's
    ``<t>``; phonetic runs (``<rPh>``) left out. Element names are compared
    without their namespace, as openpyxl's object model does."""

    def __init__(self):
        self.path: list[str] = []  # local names below the <si>/<is>
        self.plain: str | None = None
        self.runs: list[str | None] = []
        self.text: list[str] | None = None  # the <t> being read
        self.fresh = False  # no child element met yet inside that <t>

    def start(self, local: str) -> None:
        self.fresh = False
        self.path.append(local)
        if local == "t" and (
            len(self.path) == 1 or (len(self.path) == 2 and self.path[0] == "r")
        ):
            self.text, self.fresh = [], True
        elif local == "r" and len(self.path) == 1:
            self.runs.append(None)

    def chars(self, data: str) -> None:
        if self.fresh:
            self.text.append(data)

    def end(self) -> None:
        local = self.path.pop()
        if local == "t" and self.text is not None and not self.path:
            self.plain = "".join(self.text)
        elif local == "t" and self.text is not None and self.path == ["r"]:
            self.runs[-1] = "".join(self.text)
        if local == "t":
            self.text, self.fresh = None, False
        else:
            self.fresh = False

    def content(self) -> str:
        parts = [self.plain] if self.plain is not None else []
        return "".join(parts + [r for r in self.runs if r is not None])


def _shared_strings(data: bytes) -> list[str]:
    strings: list[str] = []
    texts: list[_Texts | None] = [None]
    si = MAIN + "}si"

    def start(tag, attrs):
        if texts[0] is not None:
            texts[0].start(_local(tag))
        elif tag == si:
            texts[0] = _Texts()

    def end(tag):
        t = texts[0]
        if t is None:
            return
        if t.path:
            t.end()
        else:  # the </si>
            strings.append(t.content().replace("x005F_", ""))
            texts[0] = None

    def chars(data):
        if texts[0] is not None:
            texts[0].chars(data)

    _parse(_parser(start, end, chars), data)
    return strings


@dataclass
class Name:
    """A defined name: its text (``Variants!$D$7``) and where it points."""

    name: str
    text: str | None

    def destination(self) -> tuple[str, str] | None:
        """The (sheet, cells) of a name that is one reference, None for a
        constant or an error (``#REF!``); :class:`Unusual` for anything more."""
        text = self.text
        if text is None:
            raise Unusual("a defined name without text")
        m = _REFERENCE.fullmatch(text)
        if m:
            quoted = m.group("quoted")
            sheet = m.group("plain") if quoted is None else quoted
            return sheet, m.group("cells")
        if _CONSTANT.fullmatch(text.strip()):
            return None
        raise Unusual(f"defined name {self.name!r} is not one reference")


@dataclass
class Package:
    """What a workbook's package says, read once: its sheets in order (title and
    part, None for a chart sheet), its defined names, its styles' date formats,
    its calendar and its shared strings."""

    zf: zipfile.ZipFile
    sheets: dict[str, str | None] = field(default_factory=dict)
    names: dict[str, Name] = field(default_factory=dict)  # workbook scope
    local: dict[str, dict[str, Name]] = field(default_factory=dict)  # by title
    strings: list[str] = field(default_factory=list)
    dates: frozenset[int] = frozenset()  # cell style indexes in a date format
    elapsed: frozenset[int] = frozenset()  # ... in an elapsed-time format
    epoch: datetime = WINDOWS_EPOCH

    def read(self, part: str) -> bytes:
        try:
            return self.zf.read(part)
        except Exception:  # noqa: BLE001 - missing, encrypted, corrupt: openpyxl says
            raise Unusual(f"part {part} missing or unreadable") from None

    def rows(self, title: str, max_rows: int) -> tuple[list, list]:
        """A worksheet's (values, formulas) rows, as openpyxl's read-only
        ``iter_rows(values_only=True)`` yields them after ``reset_dimensions``
        (missing rows as ``[]``; trailing empty rows kept: the caller strips
        them). Raises TooManyRows past ``max_rows`` rows."""
        return _sheet_rows(self, self.read(self.sheets[title]), max_rows)


def open_package(zf: zipfile.ZipFile) -> Package:
    """Read the package's structure (not its sheets).

    Raises
    ------
    Unusual
        Anything left to openpyxl (see the module's docstring).
    """
    pkg = Package(zf)
    names = set(zf.namelist())
    overrides: dict[str, str] = {}  # content type -> first part name
    defaults: set[str] = set()

    def ct_start(tag, attrs):
        if tag == _CT + "Override":
            overrides.setdefault(attrs.get("ContentType", ""), attrs.get("PartName"))
        elif tag == _CT + "Default":
            defaults.add(attrs.get("ContentType", ""))

    _parse(_parser(ct_start), pkg.read("[Content_Types].xml"))
    found = next((overrides[t] for t in _WORKBOOK_TYPES if t in overrides), None)
    if found is None and not defaults & set(_WORKBOOK_TYPES):
        raise Unusual("no workbook part")
    main = found[1:] if found else "xl/workbook.xml"
    if overrides.get(_SHARED_STRINGS) is not None:
        pkg.strings = _shared_strings(pkg.read(overrides[_SHARED_STRINGS][1:]))

    # The workbook: sheets, names, calendar.
    sheets: list[tuple[str, str]] = []  # (title, relationship id)
    defined: list[tuple[str, str | None, list[str]]] = []  # name, localSheetId, text
    text: list[str] | None = None

    def wb_start(tag, attrs):
        nonlocal text
        if tag == MAIN + "}sheet":
            if attrs.get(_REL_ID):
                sheets.append((attrs.get("name"), attrs[_REL_ID]))
        elif tag == MAIN + "}definedName":
            text = []
            defined.append((attrs.get("name"), attrs.get("localSheetId"), text))
        elif tag == MAIN + "}workbookPr":
            v = attrs.get("date1904")
            if v is not None and v not in ("false", "f", "0") and v:
                pkg.epoch = MAC_EPOCH
        if text is not None and tag != MAIN + "}definedName":
            raise Unusual("a defined name with elements in it")

    def wb_end(tag):
        nonlocal text
        if tag == MAIN + "}definedName":
            text = None

    def wb_chars(data):
        if text is not None:
            text.append(data)

    _parse(_parser(wb_start, wb_end, wb_chars), pkg.read(main))
    rels = _relationships(pkg, main)
    for title, rid in sheets:
        if rid not in rels:
            raise Unusual(f"sheet {title!r} has no relationship")
        kind, target = rels[rid]
        if title is None or target not in names:
            continue  # openpyxl leaves out a sheet whose part is missing
        pkg.sheets[title] = None if "chartsheet" in kind else target
    titles = list(pkg.sheets)
    for name, local, parts in defined:
        if name is None:
            raise Unusual("a defined name without a name")
        value = "".join(parts) or None
        if local is None:
            if name not in _RESERVED_GLOBAL:
                pkg.names[name] = Name(name, value)
            continue
        try:
            title = titles[int(local)]
        except (ValueError, IndexError):
            raise Unusual(f"defined name {name!r} of an unknown sheet") from None
        if not _RESERVED_LOCAL.match(name):
            pkg.local.setdefault(title, {})[name] = Name(name, value)
    if _STYLES in names:
        pkg.dates, pkg.elapsed = _date_styles(pkg.read(_STYLES))
    return pkg


def _relationships(pkg: Package, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, target part name)."""
    folder, base = posixpath.split(part)
    data = pkg.read(posixpath.join(folder, "_rels", f"{base}.rels"))
    out: dict[str, tuple[str, str]] = {}
    rel = "http://schemas.openxmlformats.org/package/2006/relationships}Relationship"

    def start(tag, attrs):
        if tag != rel:
            return
        target = attrs.get("Target")
        if target is None or "Id" not in attrs or "Type" not in attrs:
            raise Unusual("a relationship without target, id or type")
        if attrs.get("TargetMode") != "External":
            target = (
                target[1:]
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
        out[attrs["Id"]] = (attrs["Type"], target)

    _parse(_parser(start), data)
    return out


def _date_styles(data: bytes) -> tuple[frozenset[int], frozenset[int]]:
    """The cell styles (indexes into ``<cellXfs>``) whose number format is a
    date or time, and those in an elapsed-time format."""
    custom: dict[int, str] = {}
    xfs: list[int] = []
    where: list[str] = []

    def start(tag, attrs):
        local = _local(tag)
        if local == "numFmt" and where[-1:] == ["numFmts"]:
            try:
                custom[int(attrs["numFmtId"])] = attrs["formatCode"]
            except (KeyError, ValueError):
                raise Unusual("a malformed number format") from None
        elif local == "xf" and where[-1:] == ["cellXfs"]:
            try:
                xfs.append(int(attrs.get("numFmtId", 0)))
            except ValueError:
                raise Unusual("a malformed cell style") from None
        where.append(local)

    def end(tag):
        where.pop()

    _parse(_parser(start, end), data)
    dates, elapsed = set(), set()
    for idx, fmt_id in enumerate(xfs):
        code = custom[fmt_id] if fmt_id in custom else _BUILTIN_FORMATS.get(fmt_id)
        if is_date_format(code):
            dates.add(idx)
        if is_elapsed_format(code):
            elapsed.add(idx)
    return frozenset(dates), frozenset(elapsed)


# --- a worksheet ---------------------------------------------------------------------

_ROW = MAIN + "}row"
_CELL = MAIN + "}c"
_V = MAIN + "}v"
_F = MAIN + "}f"
_IS = MAIN + "}is"


def _sheet_rows(pkg: Package, data: bytes, max_rows: int) -> tuple[list, list]:
    values: list = []
    formulas: list = []
    counter = 1  # the next row position to fill (openpyxl's counter)
    row_no = 0  # the current <row>'s number
    cells: list | None = None  # (column, value, formula) of the current row
    col = 0
    # the current cell
    cell: dict | None = None
    depth = 0  # elements open inside the current <c>
    capture: list[str] | None = None
    texts: _Texts | None = None
    shared: dict[str, tuple] = {}  # shared formula id -> (text, row, column)
    strings, dates, elapsed, epoch = pkg.strings, pkg.dates, pkg.elapsed, pkg.epoch

    def start(tag, attrs):
        nonlocal row_no, cells, col, cell, depth, capture, texts
        if cell is not None:
            depth += 1
            if texts is not None:
                texts.start(_local(tag))
            elif depth == 1 and tag == _V and "v" not in cell:
                capture = cell.setdefault("v", [])
            elif depth == 1 and tag == _F and "f" not in cell:
                cell["fattrs"] = attrs
                capture = cell.setdefault("f", [])
            elif depth == 1 and tag == _IS and "is" not in cell:
                texts = cell["is"] = _Texts()
            else:
                capture = None
            return
        if tag == _ROW:
            r = attrs.get("r")
            if r is None:
                row_no += 1
            else:
                try:
                    row_no = int(r)
                except ValueError:
                    raise Unusual(f"row number {r!r}") from None
            cells, col = [], 0
        elif tag == _CELL:
            if cells is None:
                raise Unusual("a cell outside a row")
            ref = attrs.get("r")
            if ref:
                m = _CELL_REF.fullmatch(ref)
                if m is None or int(m.group(2)) == 0:
                    raise Unusual(f"cell reference {ref!r}")
                col = column_index(m.group(1))
                at = (int(m.group(2)), col)
            else:
                col += 1
                at = None
            cell, depth = {"t": attrs.get("t", "n"), "s": attrs.get("s", 0)}, 0
            cell["col"], cell["at"] = col, at
        elif cells is not None:
            raise Unusual(f"{tag} inside a row")

    def end(tag):
        nonlocal cells, cell, depth, capture, texts, counter
        if cell is not None:
            if depth == 0:  # </c>
                cells.append(_cell(cell, strings, dates, elapsed, epoch, shared))
                cell = None
                return
            if texts is not None:
                if texts.path:
                    texts.end()
                else:
                    texts = None
            depth -= 1
            capture = None
            return
        if tag == _ROW:
            if counter <= row_no:
                if row_no > max_rows:
                    raise TooManyRows()
                while counter < row_no:
                    values.append([])
                    formulas.append([])
                    counter += 1
                v, f = _placed(cells)
                values.append(v)
                formulas.append(f)
                counter += 1
            cells = None

    def chars(data):
        if texts is not None:
            texts.chars(data)
        elif capture is not None:
            capture.append(data)

    p = _parser(start, end, chars)
    _parse(p, data)
    return values, formulas


def _placed(cells: list) -> tuple[tuple, tuple]:
    # A row as wide as its last cell's column; a cell placed twice keeps the last.
    if not cells:
        return (), ()
    width = cells[-1][0]
    v, f = [None] * width, [None] * width
    for c, value, formula in cells:
        if 1 <= c <= width:
            v[c - 1], f[c - 1] = value, formula
    return tuple(v), tuple(f)


def _cell(cell: dict, strings, dates, elapsed, epoch, shared) -> tuple:
    """(column, cached value, formula view) of a parsed ``<c>``."""
    kind, style = cell["t"], cell["s"]
    if style:
        try:
            style = int(style)
        except ValueError:
            raise Unusual(f"cell style {style!r}") from None
    text = "".join(cell["v"]) if "v" in cell else None
    if kind == "inlineStr":
        text = None
    value = _value(kind, text or None, style, cell, strings, dates, elapsed, epoch)
    if "f" not in cell:
        return cell["col"], value, value
    attrs = cell["fattrs"]
    formula = "=" + "".join(cell["f"])
    how = attrs.get("t")
    if how == "array":
        formula = ArrayFormula(formula)
    elif how == "shared":
        formula = _shared(formula, attrs.get("si"), cell["at"], shared)
    elif how == "dataTable":
        raise Unusual("a data table formula")
    return cell["col"], value, formula


def _shared(formula: str, si, at, shared: dict) -> str:
    # A shared formula's text: its first cell's as written (kept by ``si``),
    # each copy's moved by its offset from that cell, as openpyxl translates it.
    if at is None:
        raise Unusual("a shared formula in a cell without a reference")
    if si in shared:
        text, row, col = shared[si]
        try:
            return translate(text, at[0] - row, at[1] - col)
        except Untranslatable as e:
            raise Unusual(str(e)) from None
    if formula != "=":
        try:
            translate(formula, 0, 0)  # openpyxl's tokenizer would refuse it
        except Untranslatable as e:
            raise Unusual(str(e)) from None
        shared[si] = (formula, *at)
    return formula


def _value(kind, text, style, cell, strings, dates, elapsed, epoch):
    # A cell's value as openpyxl converts it; a value it cannot convert is read
    # as the text it holds (the grid's tolerant reading, see grid._TolerantParser).
    if text is None:
        if kind == "inlineStr" and "is" in cell:
            return cell["is"].content()
        return None
    try:
        if kind == "n":
            value = _number(text)
            if style in dates:
                try:
                    return from_serial(value, epoch, style in elapsed)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value
        if kind == "s":
            return shared_string(strings, text)
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            raise Unusual("an ISO 8601 date cell")
        return text
    except (ValueError, TypeError, IndexError, KeyError, OverflowError):
        return text
