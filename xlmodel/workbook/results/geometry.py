"""Chart geometry on a result sheet: sizes in pixels and rows, and axis bounds.

How many rows a chart covers, how wide a chart beside a table may be, room for a
bottom legend, round axis bounds around some values, whole decades for a log axis,
chart cells for a log axis,
and an axis number format that suits the values.
"""

from __future__ import annotations

import math

import numpy as np

from .sheet import Sheet

ROW_PX = 20  # default row height, pixels
GAP_PX = 16  # between charts


def positive(values) -> list:
    """Chart cells of a log axis: the value when finite and > 0, else None (blank)."""
    out = []
    for v in values:
        x = float(v)
        out.append(x if math.isfinite(x) and x > 0 else None)
    return out


def legend_px(entries: int, per_row: int) -> int:
    """Room for a bottom legend of ``entries`` short labels, ``per_row`` a line."""
    return 18 * math.ceil(entries / per_row)


def chart_rows(height: int) -> int:
    """Rows a chart ``height`` pixels high covers, and one more."""
    return math.ceil(height / ROW_PX) + 1


def chart_width(sheet: Sheet, cols: range, lo=420, hi=640) -> int:
    """Width of a chart in a grid of two beside ``cols``, within ``lo``..``hi`` px."""
    px = sum(sheet.widths.get(c, 8.43) * 7 + 5 for c in cols)
    return int(max(lo, min(hi, px / 2 - GAP_PX)))


def padded_bounds(values: list[float], low: float = 0.08, high: float = 0.3):
    """Round axis bounds around ``values``, with room right of the points for labels.

    Returns None (automatic axis) without values.
    """
    if not values:
        return None
    lo, hi = min(values), max(values)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    raw = span * (1 + low + high) / 5
    step = 10 ** math.floor(math.log10(raw))
    step *= next(k for k in (1, 2, 2.5, 5, 10) if k * step >= raw)
    a = math.floor((lo - low * span) / step) * step
    b = math.ceil((hi + high * span) / step) * step
    if lo >= 0:
        a = max(a, 0.0)
    return (a, b)


def decade_bounds(values) -> tuple[float, float]:
    """Log-axis bounds: the powers of ten around ``values`` (positive), at least
    one decade apart."""
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    return lo, hi if hi > lo else lo * 10


def axis_format(values) -> str:
    """Number format of axis labels: fewer decimals for larger finite values."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    top = float(np.abs(v).max()) if len(v) else 1.0
    return "#,##0" if top >= 100 else "0.0" if top >= 10 else "0.00"
