"""Cell formats of the result sheets: the number format per unit and the colours.

Cells only; the colours of chart series are in :mod:`xlmodel.workbook.charts`
(and, for one sheet's own series, in that sheet's module).
"""

from __future__ import annotations

import functools
import re

from ...schema import ops_unit

# Number format per unit.
UNIT_FORMATS: dict[str, str] = {
    "TFLOPS": "#,##0.00",
    "TFLOPS/mm²": "0.0000",
    "TFLOPS/W": "0.000",
    "W": "#,##0.0",
    "°C": "0.0",
    "TB/s": "0.000",
    "GB/s": "#,##0.0",
    "FLOP/byte": "#,##0.0##",
    "byte/FLOP": "0.00000",
    "FLOP/cycle/SM": "#,##0",
    "mm²": "#,##0.#",
    "SMs": "#,##0",
    "chiplets": "0",
    "stacks": "0.##",
    "%": "0.0",
    "": "0.000",
}
# Integer precisions count operations, not floating-point operations.
for _unit in ("TFLOPS", "TFLOPS/mm²", "TFLOPS/W"):
    UNIT_FORMATS[_unit.replace("TFLOPS", "TOPS")] = UNIT_FORMATS[_unit]
GENERAL = "#,##0.####"
# The result cells' font size, points (Calibri, the workbook's font).
CELL_POINTS = 10
# Widest a column of the Cost and Inference charts sheets' wide tables grows
# (digit widths): a variant name of 20 characters, such as "Aggressive
# Optimized", on one line in Excel.
WIDE_TABLE_CAP = 18

TITLE_COLOR = "#1F3A5F"  # sheet titles and headings
HEAD_FILL = "#DCE6F1"  # table header rows
BEST_FILL = "#FFF2CC"  # highlighted table rows
# The border every table cell carries, and a highlighted row's cells.
TABLE_BORDER = {"bottom": 1, "bottom_color": "#E0E0E0"}
TABLE_BEST = {**TABLE_BORDER, "bold": True, "bg_color": BEST_FILL}
# A figure that is not a number (``n/a``): grey, right-aligned as numbers are.
NA_TEXT = {"align": "right", "font_color": "#7F7F7F"}
PASS = {"bg_color": "#C6EFCE", "font_color": "#006100"}
FAIL = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
# Share charts (Sobol indices, constraint counts): the total, light, under its
# part, dark.
SHARE_PART_COLOR = "#1F3A5F"
SHARE_TOTAL_COLOR = "#9DC3E6"


# A number format whose decimals are all optional (``#,##0.#``): the whole part,
# the decimals.
_OPTIONAL_DECIMALS = re.compile(r"([#,]*0)\.(#+)")


@functools.lru_cache(maxsize=256)
def whole_form(num_format: str) -> tuple[str, int] | None:
    """(``#,##0``, 1) for ``#,##0.#``: the form and places of a format whose
    decimals are all optional, in which Excel and Gnumeric write a whole number
    with a bare decimal point (400 as ``400.``); None for any other format."""
    m = _OPTIONAL_DECIMALS.fullmatch(num_format)
    return (m.group(1), len(m.group(2))) if m else None


def shown_format(num_format: str, x: float) -> str:
    """The format to write ``x`` in: ``num_format``, or its whole form
    (:func:`whole_form`) when ``x`` shows no decimals in it."""
    whole = whole_form(num_format)
    if whole is not None and round(x, whole[1]) == round(x):
        return whole[0]
    return num_format


def live_format(num_format: str, x: float) -> str:
    """The format of a formula cell saved with ``x``, which the reader
    recalculates: never one whose decimals are all optional, since the value
    it will show is not known: the whole form for a whole ``x`` (a later
    fraction rounds to whole), else the decimals made fixed (``#,##0.0``: a
    later whole number reads ``400.0``, not ``400.``)."""
    whole = whole_form(num_format)
    if whole is None:
        return num_format
    form, places = whole
    if round(x, places) == round(x):
        return form
    return f"{form}.{'0' * places}"


def tick_format(num_format: str) -> str:
    """A chart axis's number format: ``General`` for one whose decimals are all
    optional (its ticks 1, 10, 100 would read ``1.``, ``10.``, ``100.``)."""
    return "General" if whole_form(num_format) else num_format


def unit_format(unit: str) -> str:
    """The number format of values in ``unit`` (``GENERAL`` for unknown units)."""
    return UNIT_FORMATS.get(unit, GENERAL)


def with_unit(label: str, unit: str) -> str:
    """A column or axis title: ``label (unit)``, or ``label`` without a unit."""
    return f"{label} ({unit})" if unit else label


def at_precision(unit: str, precision: str) -> str:
    """``unit`` of a quantity at ``precision``: TFLOPS... become TOPS... for INT8."""
    if unit.startswith("TFLOPS"):
        return ops_unit(precision) + unit[len("TFLOPS") :]
    return unit
