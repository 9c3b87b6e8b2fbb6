"""What the sheet readers read, and where: for the stale banner and the Changes sheet.

:func:`record` turns the cells a :class:`~.context.Context` read (every value
cell goes through :meth:`Context.raw <.context.Context.raw>`) into an
:class:`InputRecord`: the cells one by one (:class:`~xlmodel.studies.changes.InputCell`,
for the list of changed inputs) and, per input sheet, one rectangle
(:class:`InputRange`) over every cell read there, widened by
:data:`ROWS_BELOW` rows and :data:`COLUMNS_RIGHT` columns so that a row or a
variant column added next to a table counts as a change too, with every value
it holds. The result sheets keep a copy of those rectangles
(:mod:`xlmodel.workbook.results.state`) and compare it with the sheets by formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...studies.changes import InputCell
from ..grid import cell_name, column_letter
from .context import Context

#: Sheet-scoped defined name at the state sheet's A1 (results/state.py writes it).
STATE_NAME = "_xlmodel_state"
#: The state sheet's cell (zero-based row, column) saying whether the compute
#: trusted the saved results of the input formulas, and its label beside it.
TRUSTED_CELL = (2, 1)
TRUSTED_LABEL = "saved results of input formulas trusted"

#: Rows below the last cell read that a range includes (rows added to a table).
ROWS_BELOW = 20
#: Columns right of the last cell read that a range includes (variants added).
COLUMNS_RIGHT = 10
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384


@dataclass(frozen=True)
class InputRange:
    """A rectangle of an input sheet and the values it held when it was read.

    ``row`` and ``col`` are the zero-based top left cell; ``values`` one tuple
    per row, every row as wide as the rectangle (None: a blank cell).
    """

    sheet: str
    row: int
    col: int
    values: tuple[tuple, ...]

    @property
    def height(self) -> int:
        return len(self.values)

    @property
    def width(self) -> int:
        return len(self.values[0]) if self.values else 0

    @property
    def ref(self) -> str:
        """The rectangle in absolute A1 form, ``$D$3:$R$80``."""
        return absolute(self.row, self.col, self.height, self.width)


@dataclass
class InputRecord:
    """Every input cell read, and one range per input sheet covering them."""

    cells: list[InputCell] = field(default_factory=list)
    ranges: list[InputRange] = field(default_factory=list)
    #: Whether the saved results of formulas were trusted (the file did not
    #: ask for a recalculation, or the last compute had trusted them).
    trusted: bool = True


def absolute(row: int, col: int, height: int, width: int) -> str:
    """``$A$1:$B$2`` for a rectangle of ``height`` x ``width`` cells at (row, col)."""
    first = f"${column_letter(col + 1)}${row + 1}"
    last = f"${column_letter(col + width)}${row + height}"
    return f"{first}:{last}"


def record(ctx: Context) -> InputRecord:
    """What ``ctx`` read: the cells in reading order and a range per sheet."""
    out = InputRecord(trusted=not ctx.book.recalc)
    by_sheet: dict[str, list[tuple[int, int]]] = {}
    for (title, r, c), (where, value) in ctx.read.items():
        out.cells.append(
            InputCell(
                where.sheet or title,
                where.cell or cell_name(r, c),
                where.parameter,
                where.variant or "",
                value,
            )
        )
        by_sheet.setdefault(title, []).append((r, c))
    for title, cells in by_sheet.items():
        grid = ctx.book.sheet(title)
        if grid is None:
            continue
        r0 = min(r for r, _ in cells)
        c0 = min(c for _, c in cells)
        r1 = min(max(r for r, _ in cells) + ROWS_BELOW, _MAX_ROWS - 1)
        c1 = min(max(c for _, c in cells) + COLUMNS_RIGHT, _MAX_COLUMNS - 1)
        rows = []
        for r in range(r0, r1 + 1):
            row = []
            for c in range(c0, c1 + 1):
                got = ctx.read.get((title, r, c))
                row.append(got[1] if got is not None else grid.raw(r, c))
            rows.append(tuple(row))
        out.ranges.append(InputRange(title, r0, c0, tuple(rows)))
    return out


def trusted_by_last_compute(book) -> bool:
    """Whether the state sheet of the last compute says it trusted the saved
    results of the input formulas.

    xlmodel asks for a recalculation on opening (``fullCalcOnLoad``) whenever
    its result sheets hold formulas, and keeps every other part as it was: a
    file that asks for one only since then still holds the results its
    formulas had when they were trusted, and a formula's saved 0 is no
    placeholder. A workbook that asked for a recalculation before (a script's
    placeholders) stays untrusted, compute after compute.
    """
    found = book.sheet_name_ref(STATE_NAME)
    if found is None:
        return False
    grid = book.sheet(found[0])
    if grid is None:
        return False
    r, c = TRUSTED_CELL
    return grid.raw(r, c - 1) == TRUSTED_LABEL and grid.raw(r, c) is True
