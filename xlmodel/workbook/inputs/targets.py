"""The Targets sheet: design targets every variant is judged against.

Laid out, written and read as a values table (:mod:`.value_table`); a target can
also be set per variant by a row on Variants.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...schema import TARGETS
from . import value_table
from .context import Context
from .formats import Formats
from .layout import Block

BLOCK = Block(
    "targets",
    "xlmodel_targets",
    "Targets",
    2,
    0,
    ("target", "value", "unit", "description"),
)
NOTE = (
    "Design targets every variant is judged against. A target can also be set per "
    "variant by adding its name as a row on Variants."
)


def rows() -> dict[str, int]:
    """Zero-based row of every target on the template's Targets sheet."""
    return value_table.rows(TARGETS, BLOCK)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Targets sheet with the default targets."""
    value_table.write(ws, fmt, BLOCK, TARGETS, NOTE)


def read(ctx: Context) -> dict[str, object]:
    """Every target: the sheet's value, or the default (with a warning)."""
    return value_table.read(ctx, BLOCK, TARGETS, "Targets")
