"""The Coefficients sheet: model coefficients for every variant.

Laid out, written and read as a values table (:mod:`.value_table`); a coefficient can
also be set per variant by a row on Variants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...schema import COEFFICIENTS
from . import value_table
from .context import Context
from .formats import Formats
from .layout import Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

BLOCK = Block(
    "coefficients",
    "xlmodel_coefficients",
    "Coefficients",
    2,
    0,
    ("coefficient", "value", "unit", "description"),
)
NOTE = (
    "Model coefficients for every variant. Any coefficient may also be given per "
    "variant by adding its name as a row on Variants (that row wins for that variant)."
)


def rows() -> dict[str, int]:
    """Zero-based row of every coefficient on the template's Coefficients sheet."""
    return value_table.rows(COEFFICIENTS, BLOCK)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Coefficients sheet with the default coefficients."""
    value_table.write(ws, fmt, BLOCK, COEFFICIENTS, NOTE)


def read(ctx: Context) -> dict[str, object]:
    """Every coefficient: the sheet's value, or the default (with a warning)."""
    return value_table.read(ctx, BLOCK, COEFFICIENTS, "Coefficients")
