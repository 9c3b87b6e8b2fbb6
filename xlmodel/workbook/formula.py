"""Evaluating the common formulas that have no saved value.

A workbook written by a script (or saved by a program that does not calculate)
holds formulas without results. The reader evaluates the common ones, with
Excel's semantics: numbers, text in quotes, TRUE/FALSE, error literals;
``+ - * / ^``, unary signs, ``%``, ``&``, the comparisons ``= <> < > <= >=``;
references to cells and ranges on this sheet or another (``'My sheet'!B3:B9``)
and to defined names; MIN, MAX, SUM, AVERAGE, ABS, ROUND, IF, AND, OR, NOT.
A blank counts as 0 in arithmetic (and as "" in text), text that spells a
number counts as that number, other text gives ``#VALUE!``; error values
(``#DIV/0!``...) propagate and end as a :class:`FormulaError` naming their
cause. :func:`tokens` is a small tokenizer, :class:`Parser` a recursive-descent
parser (Excel's precedence) building tuples, :class:`Evaluator` walks them,
evaluating the referenced cells that have no saved value in turn. Anything
else (another function, a whole-column reference), a circular reference, or a
formula nested beyond the limits raises :class:`FormulaError`, whose message
(possibly empty) says why. A little over 600 lines: the tokenizer, the parser,
the evaluator and the functions are one piece, split only at the cost of
circular imports.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ..errors import quoted
from .grid import Book, Grid, cell_name, column_number
from .values import ERROR_VALUES, number_from_text

#: Formulas longer than this, nesting deeper or ranges larger are not evaluated.
MAX_FORMULA_CHARS = 1_000
MAX_FORMULA_DEPTH = 20  # references followed from one cell to the next
MAX_FORMULA_NESTING = 40  # parentheses, signs and calls within one formula
MAX_RANGE_CELLS = 100_000  # cells of one range (within the used part of its sheet)
MAX_CELLS_VISITED = 200_000  # cells read while evaluating one formula

_CELL = r"\$?(?P<col{k}>[A-Za-z]{{1,3}})\$?(?P<row{k}>[1-9]\d{{0,6}})"
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"]|"")*")
    | (?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
    | (?P<ref>(?:(?:'(?P<qsheet>(?:[^']|'')+)'|(?P<sheet>[^\W\d][\w.]*))!)?"""
    + _CELL.format(k=1)
    + "(?::"
    + _CELL.format(k=2)
    + r""")?(?![\w(!.:]))
    | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<func>[^\W\d][\w.]*)\s*\(
    | (?P<name>[^\W\d][\w.]*)(?![!\w])
    | (?P<op><>|<=|>=|[-+*/^&=<>%(),])
    )""",
    re.VERBOSE,
)
#: Functions evaluated, with their least and most numbers of arguments.
FUNCTIONS = {
    "MIN": (1, 255), "MAX": (1, 255), "SUM": (1, 255), "AVERAGE": (1, 255),
    "ABS": (1, 1), "ROUND": (2, 2), "IF": (1, 3), "AND": (1, 255), "OR": (1, 255),
    "NOT": (1, 1), "TRUE": (0, 0), "FALSE": (0, 0),
}  # fmt: skip
_ARITHMETIC = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "^": math.pow,
}  # fmt: skip
_COMPARE = {
    "=": lambda k: k == 0, "<>": lambda k: k != 0, "<": lambda k: k < 0,
    ">": lambda k: k > 0, "<=": lambda k: k <= 0, ">=": lambda k: k >= 0,
}  # fmt: skip


class FormulaError(Exception):
    """A formula this reader does not evaluate, or whose evaluation failed.

    ``code`` is the Excel error value the formula gives (``#DIV/0!``), or "" when
    the formula is not evaluated at all.
    """

    def __init__(self, why: str, code: str = ""):
        super().__init__(why)
        self.code = code


@dataclass(frozen=True)
class ExcelError:
    """An error value (``#DIV/0!``) and its cause, in words."""

    code: str
    why: str


@dataclass(frozen=True)
class Ref:
    """A reference: the cells from (r1, c1) to (r2, c2) of a sheet, zero-based."""

    grid: Grid
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def single(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    def __str__(self) -> str:
        first = f"{self.grid.title}!{cell_name(self.r1, self.c1)}"
        return first if self.single else f"{first}:{cell_name(self.r2, self.c2)}"


def tokens(text: str) -> list[tuple[str, object]]:
    """The tokens of a formula (``=...``): (kind, value) pairs.

    Kinds: ``lit`` (a number, text, or error value), ``ref`` ((sheet or None, r1,
    c1, r2, c2), zero-based), ``func`` (its name, upper case), ``name``, ``op``.
    """
    body, pos, out = text[1:], 0, []
    while pos < len(body):
        if not body[pos:].strip():
            break
        m = _TOKEN.match(body, pos)
        if m is None or m.end() == pos:
            raise FormulaError("")
        pos = m.end()
        if m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1].replace('""', '"')))
        elif m.group("err"):
            code = m.group("err")
            out.append(("lit", ExcelError(code, f"the formula holds {code}")))
        elif m.group("ref"):
            out.append(("ref", _reference(m)))
        elif m.group("num"):
            out.append(("lit", float(m.group("num"))))
        elif m.group("func"):
            out.append(("func", m.group("func").upper().removeprefix("_XLFN.")))
        elif m.group("name"):
            out.append(("name", m.group("name")))
        else:
            out.append(("op", m.group("op")))
    return out


def _reference(m: re.Match) -> tuple:
    sheet = m.group("qsheet")
    sheet = sheet.replace("''", "'") if sheet else m.group("sheet")
    r1, c1 = int(m.group("row1")) - 1, column_number(m.group("col1").upper()) - 1
    r2, c2 = r1, c1
    if m.group("col2"):
        r2, c2 = int(m.group("row2")) - 1, column_number(m.group("col2").upper()) - 1
    if max(c1, c2) >= 16_384 or max(r1, r2) >= 1_048_576:
        raise FormulaError("it refers to a cell beyond the sheet's last column or row")
    return sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


class Parser:
    """Recursive-descent parser of formula tokens into nested tuples.

    Precedence as in Excel, loosest first: comparisons, ``&``, ``+ -``, ``* /``,
    ``^`` (left to right), ``%``, unary signs (so ``=-2^2`` is 4). Nodes:
    ``("lit", v)``, ``("ref", sheet, r1, c1, r2, c2)``, ``("name", text)``,
    ``("neg", x)``, ``("pct", x)``, ``("op", op, a, b)``, ``("call", NAME, args)``.
    """

    def __init__(self, toks: list[tuple[str, object]]):
        self.toks, self.i, self.depth = toks, 0, 0

    def parse(self) -> tuple:
        if not self.toks:
            raise FormulaError("")
        node = self.binary(0)
        if self.i != len(self.toks):
            raise FormulaError("")
        return node

    def peek(self) -> tuple[str | None, object]:
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take_op(self, ops) -> str | None:
        kind, v = self.peek()
        if kind == "op" and v in ops:
            self.i += 1
            return v
        return None

    _LEVELS = (tuple(_COMPARE), ("&",), ("+", "-"), ("*", "/"), ("^",))

    def binary(self, level: int) -> tuple:
        if level == len(self._LEVELS):
            return self.percent()
        node = self.binary(level + 1)
        while (op := self.take_op(self._LEVELS[level])) is not None:
            node = ("op", op, node, self.binary(level + 1))
        return node

    def percent(self) -> tuple:
        node = self.unary()
        while self.take_op("%") is not None:
            node = ("pct", node)
        return node

    def unary(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_FORMULA_NESTING:
            raise FormulaError("it is nested too deeply")
        try:
            if (op := self.take_op("+-")) is not None:
                node = self.unary()
                return ("neg", node) if op == "-" else node
            return self.primary()
        finally:
            self.depth -= 1

    def primary(self) -> tuple:
        kind, v = self.peek()
        if kind in ("lit", "ref", "name", "func"):
            self.i += 1
        if kind == "lit":
            return ("lit", v)
        if kind == "ref":
            return ("ref", *v)
        if kind == "name":
            upper = str(v).upper()
            return ("lit", upper == "TRUE") if upper in ("TRUE", "FALSE") else (kind, v)
        if kind == "func":
            return self.call(str(v))
        if self.take_op("(") is not None:
            node = self.binary(0)
            if self.take_op(")") is None:
                raise FormulaError("")
            return node
        raise FormulaError("")

    def call(self, name: str) -> tuple:
        if name not in FUNCTIONS:
            raise FormulaError(f"it uses {name}, which xlmodel does not evaluate")
        args: list[tuple] = []
        if self.take_op(")") is None:
            while True:
                kind, v = self.peek()
                empty = kind == "op" and v in (",", ")")
                args.append(("lit", None) if empty else self.binary(0))
                if self.take_op(")") is not None:
                    break
                if self.take_op(",") is None:
                    raise FormulaError("")
        least, most = FUNCTIONS[name]
        if not least <= len(args) <= most:
            raise FormulaError(f"it calls {name} with {len(args)} arguments")
        return ("call", name, args)


def uncached(book: Book, v) -> bool:
    """True when a formula cell's saved value ``v`` is no result to trust.

    No value at all, or a 0 in a workbook that asks for a full recalculation on
    opening (the placeholder scripts write; see :func:`grid.recalculation`).
    """
    if v is None or v == "":
        return True
    return book.recalc and not isinstance(v, bool) and v == 0


def evaluate(book: Book, grid: Grid, text: str, depth: int, seen: set):
    """The value (number, text or TRUE/FALSE) formula ``text`` of ``grid`` computes.

    ``seen`` holds the cells (title, row, column) being evaluated, to refuse
    circular references; ``depth`` counts the references followed so far.
    Raises FormulaError, with ``code`` set when the result is an error value.
    """
    result = Evaluator(book, grid, depth, frozenset(seen)).formula(text)
    if isinstance(result, ExcelError):
        raise FormulaError(f"its result is {result.code}: {result.why}", result.code)
    return 0.0 if result is None else result


class Evaluator:
    """Evaluates parsed formulas of one sheet; shared memory of evaluated cells.

    ``memo`` holds the values of cells evaluated already and ``visits`` counts
    the cells read, both shared by every evaluator one top-level formula starts.
    """

    def __init__(
        self, book: Book, grid: Grid, depth: int, seen: frozenset, shared=None
    ):
        self.book, self.grid, self.depth, self.seen = book, grid, depth, seen
        self.shared = shared if shared is not None else {"memo": {}, "visits": 0}

    def formula(self, text: str):
        """The value of ``text`` (``=...``): a number, text, bool, None or ExcelError."""
        if len(text) > MAX_FORMULA_CHARS:
            raise FormulaError(f"it is longer than {MAX_FORMULA_CHARS:,} characters")
        if self.depth > MAX_FORMULA_DEPTH:
            raise FormulaError("its references are nested too deeply")
        return self.value(Parser(tokens(text)).parse())

    def nested(self, grid: Grid, key) -> Evaluator:
        return Evaluator(
            self.book, grid, self.depth + 1, self.seen | {key}, self.shared
        )

    # --- nodes ------------------------------------------------------------------

    def any(self, node: tuple):
        """A node's value, or a :class:`Ref` for a reference."""
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ref":
            sheet, r1, c1, r2, c2 = node[1:]
            target = self.grid if sheet is None else self.book.sheet(sheet)
            if target is None:
                raise FormulaError(f"it refers to a missing sheet {quoted(sheet)}")
            return Ref(target, r1, c1, r2, c2)
        if kind == "name":
            return self.name(node[1])
        if kind == "neg":
            x = self.number(node[1])
            return x if isinstance(x, ExcelError) else -x
        if kind == "pct":
            x = self.number(node[1])
            return x if isinstance(x, ExcelError) else x / 100
        if kind == "op":
            return self.operation(*node[1:])
        return FUNCTION_RULES[node[1]](self, node[2])

    def value(self, node: tuple):
        """A node's single value (a one-cell reference gives its cell's value)."""
        return self.deref(self.any(node))

    def deref(self, v):
        """``v``, or for a reference the value of its one cell."""
        if not isinstance(v, Ref):
            return v
        if not v.single:
            return ExcelError(
                "#VALUE!", f"the range {v} stands where one value is expected"
            )
        return self.cell(v.grid, v.r1, v.c1)

    def number(self, node: tuple):
        """A node's value as a number (blank 0, TRUE 1), or an ExcelError."""
        v = self.any(node)
        where = f"{v} holds " if isinstance(v, Ref) and v.single else "the value "
        return to_number(self.deref(v), where)

    def operation(self, op: str, a: tuple, b: tuple):
        if op in _COMPARE:
            x, y = self.value(a), self.value(b)
            for v in (x, y):
                if isinstance(v, ExcelError):
                    return v
            return _COMPARE[op](compare(x, y))
        if op == "&":
            x, y = self.value(a), self.value(b)
            for v in (x, y):
                if isinstance(v, ExcelError):
                    return v
            return as_text(x) + as_text(y)
        x = self.number(a)
        if isinstance(x, ExcelError):
            return x
        y = self.number(b)
        if isinstance(y, ExcelError):
            return y
        return arithmetic(op, x, y)

    def name(self, name: str):
        text = self.book.defined(name, self.grid.title)
        if text is None:
            return ExcelError("#NAME?", f"no defined name {quoted(name)}")
        key = ("name", name.casefold())
        if key in self.seen:
            raise FormulaError(f"the name {quoted(name)} refers back to itself")
        return self.nested(self.grid, key).parsed("=" + text.removeprefix("="))

    def parsed(self, text: str):
        if self.depth > MAX_FORMULA_DEPTH:
            raise FormulaError("its references are nested too deeply")
        return self.any(Parser(tokens(text)).parse())

    # --- cells ------------------------------------------------------------------

    def cell(self, grid: Grid, r: int, c: int):
        """The value of one cell: saved, or evaluated from its formula."""
        key = (grid.title, r, c)
        name = f"{grid.title}!{cell_name(r, c)}"
        if key in self.seen:
            raise FormulaError(f"it refers back to {name} (a circular reference)")
        memo = self.shared["memo"]
        if key in memo:
            return memo[key]
        self.shared["visits"] += 1
        if self.shared["visits"] > MAX_CELLS_VISITED:
            raise FormulaError(f"it reads more than {MAX_CELLS_VISITED:,} cells")
        v, f = grid.raw(r, c), grid.formula(r, c)
        if f is not None and uncached(self.book, v):
            v = self.nested(grid, key).formula(f)
        elif isinstance(v, str) and v.strip() in ERROR_VALUES:
            v = ExcelError(v.strip(), f"{name} holds {v.strip()}")
        elif isinstance(v, (datetime, date, time, timedelta)):
            v = ExcelError("#VALUE!", f"{name} holds a date or time, not a number")
        elif isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        memo[key] = v
        return v

    def cells(self, ref: Ref):
        """The values of a range's cells within the used part of its sheet."""
        grid = ref.grid
        last_row = min(ref.r2, grid.rows - 1)
        count = sum(
            max(0, min(ref.c2, grid.width(r) - 1) - ref.c1 + 1)
            for r in range(ref.r1, last_row + 1)
        )
        if count > MAX_RANGE_CELLS:
            raise FormulaError(
                f"its range {ref} has more than {MAX_RANGE_CELLS:,} cells"
            )
        for r in range(ref.r1, last_row + 1):
            for c in range(ref.c1, min(ref.c2, grid.width(r) - 1) + 1):
                yield self.cell(grid, r, c)


# --- values ---------------------------------------------------------------------------


def arithmetic(op: str, x: float, y: float):
    """``x op y`` for ``+ - * / ^``, with Excel's error values."""
    if op == "/" and y == 0:
        return ExcelError("#DIV/0!", "it divides by zero")
    if op == "^" and x == 0 and y <= 0:
        if y == 0:
            return ExcelError("#NUM!", "it raises 0 to the power 0")
        return ExcelError("#DIV/0!", "it raises 0 to a negative power")
    try:
        z = _ARITHMETIC[op](x, y)
    except (OverflowError, ValueError):
        return ExcelError("#NUM!", "its power is not a real number or too large")
    if not math.isfinite(z):
        return ExcelError("#NUM!", "its result is too large")
    return z


def to_number(v, where: str = "the value "):
    """A value as arithmetic reads it: blank 0, TRUE 1, text spelling a number
    that number; other text gives #VALUE! (``where`` names the cell)."""
    if isinstance(v, (ExcelError, float)):
        return v
    if v is None or isinstance(v, (bool, int)):
        return float(v or 0)
    x = number_from_text(v) if isinstance(v, str) else None
    if x is None:
        what = quoted(v) if isinstance(v, str) else "a date or time"
        return ExcelError("#VALUE!", f"{where}{what}, not a number")
    return x


def compare(x, y) -> int:
    """-1, 0 or 1 as Excel orders ``x`` and ``y``: numbers < text < TRUE/FALSE;
    text without regard to case; a blank is 0, "" or FALSE beside the other."""

    def rank(v) -> int:
        return 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 0

    if x is None:
        x = "" if isinstance(y, str) else False if isinstance(y, bool) else 0.0
    if y is None:
        y = "" if isinstance(x, str) else False if isinstance(x, bool) else 0.0
    if rank(x) != rank(y):
        return -1 if rank(x) < rank(y) else 1
    if isinstance(x, str):
        x, y = x.casefold(), y.casefold()
    return (x > y) - (x < y)


def as_text(v) -> str:
    """A value as ``&`` joins it: numbers as Excel shows them in General format."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.15g}".replace("e", "E")
    if isinstance(v, str):
        return v
    return str(v)


def logical(v):
    """A value as IF, AND, OR and NOT read it: a bool, or an ExcelError."""
    if isinstance(v, ExcelError) or isinstance(v, bool):
        return v
    if v is None:
        return False
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str) and v.strip().upper() in ("TRUE", "FALSE"):
        return v.strip().upper() == "TRUE"
    return ExcelError("#VALUE!", f"{quoted(as_text(v))} is not TRUE or FALSE")


# --- functions ------------------------------------------------------------------------


def _gathered(ev: Evaluator, args: list[tuple], logicals: bool):
    """The numbers (or, for AND/OR, the truth values) of a function's arguments.

    In a reference only numbers count (and TRUE/FALSE for AND/OR); text and
    blanks are skipped. A value typed in the formula counts as itself.
    """
    out: list = []
    for node in args:
        v = ev.any(node)
        if isinstance(v, Ref):
            for x in ev.cells(v):
                if isinstance(x, ExcelError):
                    return x
                if isinstance(x, bool):
                    if logicals:
                        out.append(x)
                elif isinstance(x, (int, float)):
                    out.append(x != 0 if logicals else float(x))
            continue
        x = logical(v) if logicals else to_number(v)
        if isinstance(x, ExcelError):
            return x
        out.append(x)
    return out


def _aggregate(rule):
    def run(ev: Evaluator, args: list[tuple]):
        xs = _gathered(ev, args, logicals=False)
        return xs if isinstance(xs, ExcelError) else rule(xs)

    return run


def _average(xs: list[float]):
    if not xs:
        return ExcelError("#DIV/0!", "AVERAGE has no numbers to average")
    return sum(xs) / len(xs)


def _connective(rule):
    def run(ev: Evaluator, args: list[tuple]):
        xs = _gathered(ev, args, logicals=True)
        if isinstance(xs, ExcelError):
            return xs
        if not xs:
            return ExcelError("#VALUE!", "it has no TRUE or FALSE values to combine")
        return rule(xs)

    return run


def _abs(ev: Evaluator, args: list[tuple]):
    x = ev.number(args[0])
    return x if isinstance(x, ExcelError) else abs(x)


def _round(ev: Evaluator, args: list[tuple]):
    x, n = ev.number(args[0]), ev.number(args[1])
    for v in (x, n):
        if isinstance(v, ExcelError):
            return v
    digits = int(n)  # Excel truncates the number of digits
    if digits > 15:
        return x
    try:
        step = Decimal(1).scaleb(-digits)
        return float(Decimal(repr(x)).quantize(step, rounding=ROUND_HALF_UP))
    except InvalidOperation:  # more digits than a Decimal holds: nothing to round
        return x


def _if(ev: Evaluator, args: list[tuple]):
    test = logical(ev.value(args[0]))
    if isinstance(test, ExcelError):
        return test
    if test:
        return ev.any(args[1]) if len(args) > 1 else True
    return ev.any(args[2]) if len(args) > 2 else False


def _not(ev: Evaluator, args: list[tuple]):
    test = logical(ev.value(args[0]))
    return test if isinstance(test, ExcelError) else not test


FUNCTION_RULES = {
    "MIN": _aggregate(lambda xs: min(xs, default=0.0)),
    "MAX": _aggregate(lambda xs: max(xs, default=0.0)),
    "SUM": _aggregate(lambda xs: math.fsum(xs)),
    "AVERAGE": _aggregate(_average),
    "ABS": _abs,
    "ROUND": _round,
    "IF": _if,
    "AND": _connective(all),
    "OR": _connective(any),
    "NOT": _not,
    "TRUE": lambda ev, args: True,
    "FALSE": lambda ev, args: False,
}
