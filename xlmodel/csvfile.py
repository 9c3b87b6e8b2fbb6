"""A table a user saved as CSV, read as the spreadsheet that saved it wrote it.

Excel saves CSV in the conventions of the machine's region: "CSV UTF-8" or the
older "CSV (Comma delimited)" in the Windows code page (1252 in Western
Europe and the Americas: ``°`` and ``²`` are single bytes there), and, where
the decimal separator is a comma (Germany, France, ...), fields separated by
semicolons with decimal commas (``3,35``). :func:`read_user_csv` reads all of
them: UTF-8 (with or without its byte-order mark), else code page 1252; the
separator that splits the header line most (comma, semicolon or tab); decimal
commas when semicolons separate and the numbers have them. A number formatted
with thousands separators is saved as shown, ``"6,543.2"``: where commas
separate and the file's decimals are points, a comma inside a number groups
its thousands (without a decimal point anywhere, ``"1,000"`` could be either,
and is left for the reader to refuse).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from .lazy import pd

# The first bytes of a workbook (xlsx, a zip package; xls, an OLE file).
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_SEPARATORS = (",", ";", "\t")
# A field that is a number with a decimal comma: 3,35 or -0,5
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
# a number with a decimal point, its thousands grouped or not: 3.35, 6,543.2
_DECIMAL_POINT = re.compile(r"^\s*-?(\d{1,3}(,\d{3})+|\d+)\.\d+\s*$")
# pandas' words for a row with more fields than the header
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}
# pandas' words for a quoted field the file ends inside
_OPEN_QUOTE = re.compile(r"EOF inside string")


def read_user_csv(path, what: str, shipped: str, **options) -> pd.DataFrame:
    """The CSV table at ``path`` (``what`` names it in messages, "the reference
    table", and ``shipped`` the file it is modelled on, "chips.csv");
    ``options`` go to :func:`pandas.read_csv`.

    Raises
    ------
    ValueError
        The file cannot be read, is a workbook, or is not a table CSV can hold;
        the message says which in one line.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ValueError(f"cannot read the file ({err.strerror or err})") from None
    if data.startswith(_WORKBOOK_MAGIC):  # as is_workbook tells it
        raise ValueError(
            f"is a workbook, not a CSV file: save {what} as CSV (comma-separated, "
            f"with the columns of the shipped {shipped})"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    counts = {s: _outside_quotes(header).count(s) for s in _SEPARATORS}
    sep = max(_SEPARATORS, key=lambda s: counts[s])
    if sep == ";" and _has_decimal_commas(text):
        options.setdefault("decimal", ",")
    elif sep == "," and _has_decimal_points(text, sep):
        # a number Excel wrote as shown: "6,543.2" (the file's decimals are
        # points, so a comma in a number groups thousands)
        options.setdefault("thousands", ",")
    if not text.strip():
        raise ValueError("is empty: a CSV table starts with its header line")
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, **options)
    except (ValueError, pd.errors.ParserError) as err:
        m = _FIELDS.search(str(err))
        if m:
            expected, line, saw = m.groups()
            raise ValueError(
                f"line {line} has {saw} fields where the header has {expected}: "
                f"a field holding the separator ({_NAMES[sep]}) needs double quotes"
            ) from None
        m = _OPEN_QUOTE.search(str(err))
        if m:
            line = _unclosed_quote_line(text)
            raise ValueError(
                f"line {line} opens a double-quoted field that never closes: "
                "close the quote (a double quote inside a field is written twice)"
            ) from None
        raise ValueError(
            "not a readable CSV table: save it from the spreadsheet as CSV, one "
            "header line and one line per row"
        ) from None
    # a row of separators only (Excel saves rows it once formatted so) is no
    # row; the others keep their places, so that a row's label + 2 is its line
    return table.loc[~table.isna().all(axis=1)]


def _unclosed_quote_line(text: str) -> int:
    """The line (1-based) where a double-quoted field opens and never closes."""
    inside, start = False, 1
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if char == '"':
                inside = not inside
                if inside:
                    start = number
    return start


def _outside_quotes(line: str) -> str:
    """``line`` without its quoted parts (a note may hold commas)."""
    return re.sub(r'"[^"]*"', "", line)


def _has_decimal_points(text: str, sep: str) -> bool:
    """Whether ``text`` writes a number with a decimal point (3.35, 6,543.2)."""
    return _any_field(text, sep, _DECIMAL_POINT)


def _has_decimal_commas(text: str) -> bool:
    """Whether a semicolon-separated ``text`` writes numbers with decimal commas."""
    return _any_field(text, ";", _DECIMAL_COMMA)


def _any_field(text: str, sep: str, pattern: re.Pattern) -> bool:
    """Whether a field of the first 200 rows of ``text`` matches ``pattern``."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    for k, row in enumerate(rows):
        if k > 200:
            break
        if any(pattern.match(field) for field in row):
            return True
    return False


# --- a row of a table read here, for a problem line -----------------------------------


def is_blank(value) -> bool:
    """Whether a field is blank: empty text, None or NaN (pandas' blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return not isinstance(value, str) and bool(pd.isna(value))


def shown_value(value):
    """A field as a problem line quotes it: ``''`` for a blank one, ``8`` for
    the 8.0 pandas reads."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def lines(table: pd.DataFrame) -> list[int]:
    """Each row's line in its file: :func:`read_user_csv` (and a sheet read as
    one) labels each row by its position, so label + 2 (the header is line 1);
    a table labelled otherwise is numbered in order."""
    labels = table.index.tolist()
    if all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in labels):
        return [int(x) + 2 for x in labels]
    return list(range(2, len(labels) + 2))


_GROUPED = re.compile(r"\s*\d{1,3}(,\d{3})+\s*")


def grouping_hint(value) -> str:
    """A hint for a number written with a thousands separator ("1,000") in a
    file whose decimals cannot tell it from a decimal comma; else nothing."""
    if isinstance(value, str) and _GROUPED.fullmatch(value):
        return (
            ": write it without thousands separators (in this file a comma in a "
            "number could also be a decimal comma)"
        )
    return ""


def is_workbook(path) -> bool:
    """Whether the file at ``path`` is a workbook, not a CSV: by its name
    (.xlsx, .xlsm, .xls) or its first bytes."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(8).startswith(_WORKBOOK_MAGIC)
    except OSError:
        return False
