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

from ...errors import CellProblem
from ...schema import PARAMETERS, Parameter
from ..formula import FormulaError, evaluate, uncached
from ..grid import Book, Grid
from ..values import CellError, blank, convert, fmt_number

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
        who = f" ({self.variant})" if self.variant else ""
        name = f" {self.parameter}" if self.parameter else ""
        return f"{self.sheet}!{self.cell}{name}{who}"


class _Invalid:
    """Marker of an input that was read but is invalid (a problem is recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = _Invalid()


class Context:
    """Collects problems and warnings while reading the blocks of one workbook."""

    def __init__(self, book: Book):
        self.book = book
        self.problems: list[CellProblem] = []
        self.warnings: list[str] = []
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
        """A cell's value: cached, or computed from a simple formula; None if blank.

        Raises CellError for a formula that has no value xlmodel can trust.
        """
        v, f = grid.raw(r, c), grid.formula(r, c)
        if f is None or not uncached(self.book, v):
            self.read.setdefault((grid.title, r, c), (where, v))
            return v
        try:
            x = evaluate(self.book, grid, f, 0, {(grid.title, r, c)})
        except RecursionError:
            raise CellError(
                f,
                f"formula has no cached value and is nested too deeply; "
                f"{FORMULA_ADVICE}",
            ) from None
        except FormulaError as e:
            why = f" and {e}" if str(e) else ""
            raise CellError(
                f, f"formula has no cached value{why}; {FORMULA_ADVICE}"
            ) from None
        self.read.setdefault((grid.title, r, c), (where, x))
        self.warn(
            f"{where}: formula {f!r} had no cached value; xlmodel evaluated it to "
            f"{fmt_number(x)} (save the file in Excel or LibreOffice to keep the result)"
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
