"""How a result sheet prints: one scale, page breaks and print titles for A4 and Letter.

A sheet prints landscape on either paper. Its print area is cut into bands of
columns, each one page wide (a single band when the whole area is legible on one
page width; otherwise bands at the columns the sheet prefers, such as where its
charts begin, or, inside a wide table, with the table's first column repeated),
and into pages of rows at the rows between blocks (a chart is never cut; a
table continues on the next page only when it cannot fit on one, with at least
two of its rows on each side of the break). One scale fits the widest band into
the narrower page (Letter) and the page rows into the lower one (A4), so the
same breaks hold on both papers.

Excel honours manual page breaks only with a fixed scale (``Adjust to``), not
with ``Fit to``; so the scale is computed here and the breaks are written with
it. Pure functions of pixel sizes: :func:`print_layout`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The printable area of a landscape page with the result sheets' margins (0.4 in
# left and right, 0.6 in top and bottom, header and footer inside them), pixels
# at 96 dpi: the width of Letter (279.4 mm) and the height of A4 (210 mm), the
# smaller of each, less a tenth: readers' fonts (Carlito for Calibri) and their
# rounding of column widths make a column up to some per cent wider than Excel's.
MARGIN_LR_IN, MARGIN_TB_IN = 0.4, 0.6
PAGE_W_PX = (279.4 / 25.4 - 2 * MARGIN_LR_IN) * 96 * 0.9
PAGE_H_PX = (210.0 / 25.4 - 2 * MARGIN_TB_IN) * 96 * 0.96
#: Below this scale one band of the whole width is not legible: split it.
MIN_SCALE = 0.55
#: The widest a band is made when a sheet is split into bands (as a scale).
BAND_SCALE = 0.7
_MIN_ROWS = 2  # rows of a table kept on each side of a page break
_WORTH_SPLITTING = 1.15  # bands must print this much larger than one band
_MIN_BAND_SHARE = 0.3  # and none narrower than this share of the widest


@dataclass(frozen=True)
class Block:
    """Rows that belong together on paper (0-based, inclusive).

    ``split``: a table, which may continue on the next page (heading and header
    row first); otherwise (a chart) the block is never cut.
    """

    r0: int
    r1: int
    split: bool = False


@dataclass(frozen=True)
class PrintLayout:
    """Scale (per cent), first column of each band after the first, page breaks
    (first row of each page after the first) and columns repeated at the left of
    every band after the first."""

    scale: int
    col_breaks: tuple[int, ...]
    row_breaks: tuple[int, ...]
    repeat_cols: int


def print_layout(
    col_px: list[int],
    row_px: list[int],
    blocks: list[Block],
    keep_cols: list[tuple[int, int]] = (),
    prefer_cols: list[int] = (),
    repeat_row: int | None = None,
    name_tables: list[tuple[int, int]] = (),
    name_cols: int = 1,
) -> PrintLayout:
    """The print layout of an area with these column widths and row heights.

    Parameters
    ----------
    col_px, row_px : list of int
        Width of every column and height of every row of the print area, pixels.
    blocks : list of Block
        Tables and charts.
    keep_cols : list of (int, int)
        Column spans (first, last) never cut into bands: the charts.
    prefer_cols : list of int
        Columns where a band should begin when the area needs more than one.
    repeat_row : int or None
        The header row printed at the top of every page.
    name_tables : list of (int, int)
        Column spans (first, last) of the tables whose first column names their
        rows: a band that begins inside one repeats that column (column 0).
    name_cols : int
        How many columns name the rows (a table keyed by variant, model and
        scenario: 3): the columns repeated at the left of the later bands.

    Returns
    -------
    PrintLayout
    """
    breaks, repeat, scale = column_layout(
        col_px, keep_cols, prefer_cols, name_tables, name_cols
    )
    percent = max(10, math.floor(scale * 100))
    page_h = PAGE_H_PX / (percent / 100)
    rows = row_breaks(row_px, blocks, page_h, repeat_row)
    return PrintLayout(percent, tuple(breaks), tuple(rows), repeat)


def column_layout(
    col_px: list[int], keep_cols=(), prefer_cols=(), name_tables=(), name_cols=1
) -> tuple[list[int], int, float]:
    """Bands of columns as printed: :func:`column_bands`, unless the bands
    would print hardly larger than one band or one would be a sliver; returns
    the breaks, the columns repeated and the scale (a fraction) that fits the
    widest band on the page width."""
    breaks, repeat = column_bands(
        col_px, keep_cols, prefer_cols, name_tables, name_cols
    )
    scale = _band_scale(col_px, breaks, repeat)
    edges = [0, *breaks, len(col_px)]
    widths = [sum(col_px[a:z]) for a, z in zip(edges, edges[1:])]
    if breaks and (
        scale < _band_scale(col_px, [], 0) * _WORTH_SPLITTING
        or min(widths) < _MIN_BAND_SHARE * max(widths)
    ):
        return [], 0, _band_scale(col_px, [], 0)  # hardly larger, or a sliver
    return breaks, repeat, scale


def _band_scale(col_px: list[int], breaks: list[int], repeat: int) -> float:
    """The scale that fits the widest band (with its repeated columns)."""
    edges = [0, *breaks, len(col_px)]
    widths = [
        sum(col_px[a:b]) + (sum(col_px[:repeat]) if k else 0)
        for k, (a, b) in enumerate(zip(edges, edges[1:]))
    ]
    return min(1.0, PAGE_W_PX / max(max(widths, default=1), 1))


def column_bands(
    col_px: list[int], keep_cols=(), prefer_cols=(), name_tables=(), name_cols=1
) -> tuple[list[int], int]:
    """Bands of columns: the first column of each band after the first, and how
    many columns are repeated at the left of the later bands (0 or
    ``name_cols``).

    One band when the area is legible at ``MIN_SCALE`` on one page width. Else
    the area is cut at the preferred columns (where the charts begin), and each
    part wider than ``PAGE_W_PX / BAND_SCALE`` into as few bands of about equal
    width as fit, at columns that cut no span of ``keep_cols``; a band beginning
    inside a table repeats its first ``name_cols`` columns (the names) on its
    left; no band begins between those columns.
    """
    n = len(col_px)
    if sum(col_px) * MIN_SCALE <= PAGE_W_PX or n < 2:
        return [], 0
    limit = PAGE_W_PX / BAND_SCALE
    # not inside a chart, nor just left of one: a reader may draw it a few
    # pixels left of its column, onto the band before
    inside = {b for c0, c1 in keep_cols for b in range(c0, c1 + 1)}
    inside |= set(range(1, name_cols))  # never between the names
    edges = [0, *sorted(b for b in set(prefer_cols) if 0 < b < n and b not in inside)]
    edges.append(n)
    breaks = edges[1:-1]
    cuts: list[int] = []
    names = sum(col_px[:name_cols])  # printed again left of every later band
    for a, z in zip(edges, edges[1:]):
        width = sum(col_px[a:z])
        parts = math.ceil(width / limit)
        if parts < 2:
            continue
        allowed = [b for b in range(a + 1, z) if b not in inside]
        # bands of equal printed width: from the sheet's left edge the first
        # band has no repeated names, each later one has them
        band = (width + (parts - 1) * names) / parts if a == 0 else width / parts
        for k in range(1, parts):
            ideal = a
            target = band + (k - 1) * (band - names) if a == 0 else band * k
            acc = 0.0
            while ideal < z and acc + col_px[ideal] / 2 < target:
                acc += col_px[ideal]
                ideal += 1
            near = min(allowed, key=lambda b: (abs(b - ideal), b), default=None)
            if near is not None and near not in cuts:
                cuts.append(near)
    breaks = sorted(set(breaks) | set(cuts))
    named = any(c0 == 0 and c0 < b <= c1 for b in breaks for c0, c1 in name_tables)
    return breaks, name_cols if (cuts or named) else 0


def row_breaks(
    row_px: list[int], blocks: list[Block], page_h: float, repeat_row: int | None
) -> list[int]:
    """First row of every page after the first.

    Each page takes the rows that fit; its last row is then moved up, within the
    lower half of the page, to a row that cuts no chart and, if there is one,
    leaves every table it cuts at least ``_MIN_ROWS`` rows on each side (a table
    that fits on a page whole, and whose header is not printed on every page, is
    not cut at all). Without a row that cuts no chart there, the page is full.
    """
    n = len(row_px)
    head = row_px[repeat_row] if repeat_row is not None and repeat_row < n else 0
    charts = [b for b in blocks if not b.split]
    tables = [b for b in blocks if b.split]
    tall = [sum(row_px[t.r0 : t.r1 + 1]) for t in tables]  # each table's height
    out: list[int] = []
    top = 0
    while True:
        avail = page_h - (head if repeat_row is not None and top > repeat_row else 0)
        used, end = 0.0, top
        while end < n and used + row_px[end] <= avail:
            used += row_px[end]
            end += 1
        if end >= n:
            return out
        end = max(end, top + 1)
        fill, good = 0.0, []
        for b in range(top + 1, end + 1):
            fill += row_px[b - 1]
            if fill >= avail / 2 and not any(c.r0 < b <= c.r1 for c in charts):
                good.append(b)
        b = end
        for whole in (True, False):  # a table kept whole if it can be, else split
            kept = [
                b
                for b in good
                if _keeps_tables(b, tables, tall, avail, repeat_row, whole)
            ]
            if kept:
                b = kept[-1]
                break
        else:
            b = good[-1] if good else end
        out.append(b)
        top = b


def _keeps_tables(b, tables, tall, avail, repeat_row, whole=True) -> bool:
    """Whether a page break before row ``b`` leaves every table it cuts readable.

    With ``whole``, a table that fits on a page, and whose header is not printed
    on every page, may not be cut at all. ``tall``: each table's height (px).
    """
    for t, height in zip(tables, tall):
        if not t.r0 < b <= t.r1:
            continue
        repeated = repeat_row is not None and t.r0 <= repeat_row <= t.r1
        if whole and not repeated and height <= avail:
            return False  # it fits on the next page whole
        header = (repeat_row - t.r0 + 1) if repeated else 2
        if b - t.r0 < header + _MIN_ROWS or t.r1 - b + 1 < _MIN_ROWS:
            return False
    return True
