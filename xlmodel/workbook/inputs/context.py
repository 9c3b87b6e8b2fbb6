"""What the sheet readers share while reading one workbook.

A :class:`Context` holds the open :class:`~xlmodel.workbook.grid.Book`, the
problems (each with its sheet, cell, parameter and expectation) and the warnings,
in the order the sheets are read; it reads a cell's value (cached, or computed
from a simple formula with a warning) and converts it for a parameter. A
:class:`Where` names a cell in those lines; :data:`INVALID` marks an input that
was read but is invalid (its problem is recorded).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import CellProblem, quoted, shortened
from ...schema import PARAMETERS, Parameter
from ..formula import FormulaError, evaluate, uncached
from ..grid import Book, Grid, column_letter
from ..values import CellError, blank, convert, fmt_number
from ..xlsx import Damaged

FORMULA_ADVICE = "open and save the file in Excel or LibreOffice, or type the value"
#: Group headings of the schema (rows of headings are skipped), case-folded.
GROUPS = frozenset(p.group.casefold() for p in PARAMETERS)
#: Every parameter by its case-folded name.
NAMES_FOLDED = {p.name.casefold(): p for p in PARAMETERS}


@dataclass
class Where:
    """A cell in a problem or warning line: ``Sheet!B7 parameter (variant)``."""

    sheet: str
    cell: str
    parameter: str
    variant: str | None = None

    def __str__(self) -> str:
        who = f" ({shortened(self.variant)})" if self.variant else ""
        name = f" {self.parameter}" if self.parameter else ""
        return f"{self.sheet}!{self.cell}{name}{who}"


class _Invalid:
    """Marker of an input that was read but is invalid (a problem is recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = _Invalid()


def cell_ref(sheet: str, r: int, c: int) -> str:
    """Absolute reference of a zero-based cell for a formula: ``'Targets'!$B$5``."""
    quoted = sheet.replace("'", "''")
    return f"'{quoted}'!${column_letter(c + 1)}${r + 1}"


def cell_of(ref: str | None) -> tuple[str, str] | None:
    """:func:`cell_ref` undone: ``'Targets'!$B$5`` -> (``Targets``, ``B5``);
    None for none."""
    if not ref or "!" not in ref:
        return None
    sheet, cell = ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cell.replace("$", "")


def numeric_cell(grid: Grid, r: int, c: int) -> bool:
    """True when the cell holds a number (typed, or a formula's cached number):
    a cell a result formula may refer to for the value read from it."""
    v = grid.raw(r, c)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Context:
    """Collects problems and warnings while reading the blocks of one workbook."""

    def __init__(self, book: Book):
        self.book = book
        self.problems: list[CellProblem] = []
        self.warnings: list[str] = []
        # parameter -> reference of the Targets or Coefficients cell its value
        # was read from (a number in the cell; defaults have none)
        self.sources: dict[str, str] = {}
        #: Every cell read through :meth:`raw`, first reading only: (sheet title,
        #: zero-based row, column) -> (where, value read). The stale-results
        #: banner and the Changes sheet take the inputs from it
        #: (:mod:`xlmodel.workbook.inputs.record`).
        self.read: dict[tuple[str, int, int], tuple[Where, object]] = {}

    def problem(self, where: Where, value, expected: str) -> None:
        self.problems.append(
            CellProblem(where.sheet, where.cell, where.parameter, value, expected)
        )

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def raw(self, grid: Grid, r: int, c: int, where: Where):
        """A cell's value: saved, or computed from its formula; None if blank.

        A formula's saved value is trusted unless there is none, or the file asks
        for a recalculation and holds 0 (a script's placeholder): then the formula
        is evaluated, with a warning when the result differs from what was saved.
        Raises CellError for a formula that has no value xlmodel can trust.
        """
        v, f = grid.raw(r, c), grid.formula(r, c)
        if v.__class__ is Damaged:
            raise CellError(str(v), v.why)
        if f is None or not uncached(self.book, v):
            self.read.setdefault((grid.title, r, c), (where, v))
            return v
        lacks = "has no saved value"
        if v is not None and v != "":
            lacks += " (only the placeholder 0 of a program that does not calculate)"
        try:
            x = evaluate(self.book, grid, f, 0, {(grid.title, r, c)})
        except RecursionError:
            raise CellError(
                f,
                f"formula {lacks} and is nested too deeply; {FORMULA_ADVICE}",
            ) from None
        except FormulaError as e:
            if e.code:
                raise CellError(
                    f,
                    f"formula gives {e.code} ({str(e).partition(': ')[2]}): "
                    "fix the formula or type the value",
                ) from None
            why = f" and {e}" if str(e) else ""
            raise CellError(f, f"formula {lacks}{why}; {FORMULA_ADVICE}") from None
        self.read.setdefault((grid.title, r, c), (where, x))
        if v is not None and v != "" and _same(x, v):
            return x  # the saved 0 was right
        self.warn(
            f"{where}: formula {quoted(f)} had no saved value; xlmodel evaluated it "
            f"to {_shown(x)} (save the file in Excel or LibreOffice to keep the result)"
        )
        return x

    def value(self, p: Parameter, grid: Grid, r: int, c: int, where: Where):
        """Read and convert one input; None when blank, INVALID (problem noted)."""
        try:
            raw = self.raw(grid, r, c, where)
            if blank(raw):
                return None
            got = convert(p, raw)
        except CellError as e:
            self.problem(where, e.value, e.expected)
            return INVALID
        if got.note:
            self.warn(f"{where}: {got.note}")
        return got.value


def _same(x, v) -> bool:
    # An evaluated result and a saved value are the same number, text or bool.
    if isinstance(x, bool) or isinstance(v, bool):
        return x is v
    return x == v


def _shown(x) -> str:
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    return fmt_number(x) if isinstance(x, float) else quoted(x)
