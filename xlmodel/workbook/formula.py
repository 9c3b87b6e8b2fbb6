"""Evaluating the simple formulas that have no cached value.

A workbook written by a script (or saved by a program that does not calculate)
holds formulas without results. The reader evaluates the simple ones: numbers,
references to cells (on this sheet or another), ``+ - * / ^``, parentheses and
unary signs, with Excel's precedence. Anything else, a circular reference, a
reference to text or a blank, or nesting beyond the limits raises
:class:`FormulaError`, whose message (possibly empty) says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .grid import Book, Grid, cell_name, column_number
from .values import blank, shown

#: Formulas longer than this, or nesting references deeper, are not evaluated.
MAX_FORMULA_CHARS = 1_000
MAX_FORMULA_DEPTH = 20
MAX_FORMULA_NESTING = 40

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<ref>(?:(?:'(?P<qsheet>(?:[^']|'')+)'|(?P<sheet>[A-Za-z_][\w.]*))!)?
              \$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[1-9]\d{0,6})(?![\w(:!.]))
    | (?P<op>[-+*/^()])
    )""",
    re.VERBOSE,
)


class FormulaError(Exception):
    """A formula this reader does not evaluate, or whose evaluation failed."""


def tokens(text: str) -> list[tuple[str, object]]:
    """The tokens of a formula (``=...``): numbers, cell references, operators."""
    body, pos, out = text[1:], 0, []
    while pos < len(body):
        if not body[pos:].strip():
            break
        m = _TOKEN.match(body, pos)
        if m is None or m.end() == pos:
            raise FormulaError("")
        pos = m.end()
        if m.group("num"):
            out.append(("num", float(m.group("num"))))
        elif m.group("ref"):
            sheet = m.group("qsheet")
            sheet = sheet.replace("''", "'") if sheet else m.group("sheet")
            col = column_number(m.group("col").upper()) - 1
            out.append(("ref", (sheet, int(m.group("row")) - 1, col)))
        else:
            out.append(("op", m.group("op")))
    return out


class Arithmetic:
    """Recursive-descent evaluator of + - * / ^, parentheses and unary signs.

    Precedence as in Excel: unary minus, then ^ (left to right), then * /, then + -.
    ``resolve`` returns the number held by a referenced cell.
    """

    def __init__(self, tokens, resolve: Callable[[object], float]):
        self.tokens, self.i, self.resolve, self.depth = tokens, 0, resolve, 0

    def run(self) -> float:
        if not self.tokens:
            raise FormulaError("")
        value = self.expr()
        if self.i != len(self.tokens):
            raise FormulaError("")
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
            value = checked(value + rhs if op == "+" else value - rhs)
        return value

    def term(self) -> float:
        value = self.power()
        while (op := self.take_op("*/")) is not None:
            rhs = self.power()
            if op == "/" and rhs == 0:
                raise FormulaError("it divides by zero")
            value = checked(value * rhs if op == "*" else value / rhs)
        return value

    def power(self) -> float:
        value = self.unary()
        while self.take_op("^") is not None:
            rhs = self.unary()
            try:
                value = checked(math.pow(value, rhs))
            except (OverflowError, ValueError, ZeroDivisionError):
                raise FormulaError("its power is not a real number") from None
        return value

    def unary(self) -> float:
        self.depth += 1
        if self.depth > MAX_FORMULA_NESTING:
            raise FormulaError("it is nested too deeply")
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
                raise FormulaError("")
            return value
        raise FormulaError("")


def checked(x: float) -> float:
    """``x`` if finite; else FormulaError (the result is too large)."""
    if not math.isfinite(x):
        raise FormulaError("its result is too large")
    return x


def uncached(book: Book, v) -> bool:
    """True when a formula cell's cached value ``v`` is no result to trust."""
    if v is None or v == "":
        return True
    return book.recalc and not isinstance(v, bool) and v == 0


def evaluate(book: Book, grid: Grid, text: str, depth: int, seen: set) -> float:
    """The number formula ``text`` of a cell of ``grid`` computes.

    ``seen`` holds the cells (title, row, column) being evaluated, to refuse
    circular references; ``depth`` counts the references followed so far.
    """
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError("")
    if depth > MAX_FORMULA_DEPTH:
        raise FormulaError("its references are nested too deeply")
    found = tokens(text)

    def resolve(ref) -> float:
        sheet, r, c = ref
        target = grid if sheet is None else book.sheet(sheet)
        if target is None:
            raise FormulaError(f"it refers to a missing sheet {sheet!r}")
        key = (target.title, r, c)
        name = f"{target.title}!{cell_name(r, c)}"
        if key in seen:
            raise FormulaError(f"it refers back to {name} (a circular reference)")
        v, f = target.raw(r, c), target.formula(r, c)
        if f is not None and uncached(book, v):
            return evaluate(book, target, f, depth + 1, seen | {key})
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            held = "a blank" if blank(v) else repr(shown(v))
            raise FormulaError(f"it refers to {name}, which holds {held}")
        return checked(float(v))

    return Arithmetic(found, resolve).run()
