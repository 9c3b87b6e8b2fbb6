"""The layout vocabulary of the input sheets: blocks, groups, spare rows.

A :class:`Block` is one input table (its header row, where it starts, its
defined name); every sheet module declares its own. The grouped tables
(Variants, Targets, Coefficients) lay out one heading row per group, then one
row per parameter (:func:`groups`, :func:`table_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ...schema import Parameter
from ..grid import column_letter

#: Cells beyond the preloaded ones that carry data validation (and so input
#: messages), so that added workloads, sweeps or values get them too.
SPARE_ROWS = 40
SPARE_VALUE_COLUMNS = 20


@dataclass(frozen=True)
class Block:
    """One input table: where its header row starts and what the header says.

    Attributes
    ----------
    key : str
        Short name used in code (``"variants"``).
    defined_name : str
        Workbook-level defined name pointing at the header anchor cell; Excel and
        LibreOffice rewrite it when the sheet is renamed or rows are inserted.
    sheet : str
        Sheet title in the template (fallback when the defined name is missing).
    row, col : int
        Zero-based position of the anchor cell (first header cell).
    header : tuple of str
        Header labels from the anchor cell rightwards; the first is the anchor label.
    """

    key: str
    defined_name: str
    sheet: str
    row: int
    col: int
    header: tuple[str, ...]

    @property
    def anchor(self) -> str:
        """The anchor as an absolute reference, e.g. ``'Variants'!$A$3``."""
        cell = f"${column_letter(self.col + 1)}${self.row + 1}"
        return f"'{self.sheet}'!{cell}"


def groups(params) -> Iterator[tuple[str, tuple[Parameter, ...]]]:
    """Groups of ``params`` in their order: (heading, parameters)."""
    order: dict[str, list[Parameter]] = {}
    for p in params:
        order.setdefault(p.group, []).append(p)
    for group, members in order.items():
        yield group, tuple(members)


def table_rows(params, first_row: int) -> Iterator[tuple[str, int]]:
    """(name, zero-based row) of ``params``: a heading row per group, then a row each."""
    row = first_row
    for _, members in groups(params):
        row += 1
        for p in members:
            yield p.name, row
            row += 1
