"""Native Excel chart builders for the result sheets: one signature, own-sheet ranges.

Every builder is ``add_<kind>_chart(workbook, sheet_name, layout) -> Chart``. The
:class:`Layout` says what to draw and where its cells are (:class:`Span`, 0-based,
always on ``sheet_name``), so a chart can only reference its own sheet. Ranges are
passed to xlsxwriter in its list form ``[sheet, r0, c0, r1, c1]``; xlsxwriter quotes
the sheet name. The caller inserts the returned chart with
``worksheet.insert_chart``.

Series roles (``Series.kind``):

``"data"``
    the quantity charted (column, bar, line or roof);
``"reference"``
    a target or budget drawn as a dashed line;
``"marker"``
    points only, no line (workloads, ridge points, one variant in a scatter);
``"cloud"``
    many small points, no line, no border (a sample of explored designs).

Every text names its typeface, axes their tick marks and lines, the chart area its
fill: nothing is left to a reader's defaults (the rest is written by
:mod:`xlmodel.workbook.chart_xml`). :func:`place_labels` chooses a side per point
label from the data so that neighbouring labels do not collide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook

from .results.formats import tick_format

# Distinct colours, one per charted variant (the same variant keeps its colour).
PALETTE: tuple[str, ...] = (
    "#1F77B4",
    "#FF7F0E",
    "#2CA02C",
    "#9467BD",
    "#8C564B",
    "#E377C2",
    "#17BECF",
    "#BCBD22",
    "#7F7F7F",
    "#393B79",
    "#AD494A",
    "#637939",
)
TARGET_COLOR = "#1F3A93"
BUDGET_COLOR = "#C0392B"

# Every chart text names its typeface (the result sheets' cell font), so that no
# reader substitutes the theme's or its own; see also xlmodel.workbook.chart_xml.
FONT = "Calibri"
_TITLE_FONT = {"name": FONT, "size": 12, "bold": True}
_AXIS_FONT = {"name": FONT, "size": 9, "bold": False}
_NUM_FONT = {"name": FONT, "size": 8}
_LEGEND_FONT = {"name": FONT, "size": 8}
_LABEL_FONT = {"name": FONT, "size": 8}
_GRID = {"visible": True, "line": {"color": "#D9D9D9", "width": 0.5}}
_AXIS_LINE = {"color": "#868686", "width": 0.75}
_TICKS = {"major_tick_mark": "outside", "minor_tick_mark": "none", "line": _AXIS_LINE}


@dataclass(frozen=True)
class Span:
    """A rectangle of cells on the chart's own sheet (0-based, inclusive).

    A single cell is ``Span(r, c)``; a column run is ``Span(r0, c, r1)``.
    """

    r0: int
    c0: int
    r1: int | None = None
    c1: int | None = None

    def ref(self, sheet_name: str) -> list:
        """The xlsxwriter list form ``[sheet, r0, c0, r1, c1]`` of this span."""
        r1 = self.r0 if self.r1 is None else self.r1
        c1 = self.c0 if self.c1 is None else self.c1
        return [sheet_name, self.r0, self.c0, r1, c1]


@dataclass(frozen=True)
class Series:
    """One chart series.

    Attributes
    ----------
    values : Span
        Y values (or bar lengths).
    name : Span or str
        The series name: a cell (preferred, so the legend follows the sheet) or a
        literal.
    categories : Span or None
        Categories (column, bar, line) or X values (scatter).
    kind : str
        ``"data"``, ``"reference"`` or ``"marker"`` (see the module docstring).
    color : str or None
        Line or fill colour, ``#RRGGBB``.
    secondary : bool
        Plot against the secondary value axis.
    label : bool
        Label each point with the series name.
    label_position : str
        Where the label sits: ``"right"``, ``"left"``, ``"above"`` or ``"below"``
        the point (see :func:`place_labels`).
    label_fill : bool
        Draw the label on a white box (over a cloud of points).
    legend : bool
        Show in the legend.
    marker : str
        Marker type of a ``"marker"`` series (xlsxwriter names: circle, diamond,
        triangle, square, x).
    dash : bool
        Draw a ``"data"`` line dashed (e.g. throughput after die-to-die losses).
    line_style : str
        Dash type of a ``"reference"`` line (xlsxwriter names: dash, round_dot,
        long_dash...).
    steps : bool
        A ``"reference"`` over categories whose value differs between them (a
        target per variant): a dash marker at each, no line joining them.
    """

    values: Span
    name: Span | str = ""
    categories: Span | None = None
    kind: str = "data"
    color: str | None = None
    secondary: bool = False
    label: bool = False
    label_position: str = "right"
    label_fill: bool = False
    legend: bool = True
    marker: str = "circle"
    dash: bool = False
    line_style: str = "dash"
    steps: bool = False


@dataclass(frozen=True)
class Layout:
    """What one chart draws: titles (with units), series and axis settings.

    Attributes
    ----------
    title : str
        Chart title.
    x_title, y_title, y2_title : str
        Axis titles, with units, e.g. ``"Power (W)"``.
    series : tuple of Series
        Drawn in order.
    x_bounds, y_bounds : (float, float) or None
        Fixed axis limits (value axes only).
    x_log, y_log : bool
        Logarithmic (base 10) axis.
    width, height : int
        Chart size in pixels.
    number_format : str
        Number format of the value-axis labels.
    x_number_format : str
        Number format of the X-axis labels of a scatter chart.
    """

    title: str
    x_title: str = ""
    y_title: str = ""
    series: tuple[Series, ...] = field(default_factory=tuple)
    y2_title: str = ""
    x_bounds: tuple[float, float] | None = None
    y_bounds: tuple[float, float] | None = None
    x_log: bool = False
    y_log: bool = False
    width: int = 560
    height: int = 340
    number_format: str = "General"
    x_number_format: str = "General"


# ---------------------------------------------------------------------------------
# Public API: the builders (one signature)
# ---------------------------------------------------------------------------------


def add_column_chart(workbook: Workbook, sheet_name: str, layout: Layout) -> Chart:
    """Clustered columns per category, with reference lines (target, budget).

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        ``"data"`` series become columns; ``"reference"`` series become dashed
        lines over the same categories.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    return _columns(workbook, sheet_name, layout, subtype=None)


def add_stacked_column_chart(
    workbook: Workbook, sheet_name: str, layout: Layout
) -> Chart:
    """Stacked columns (one ``"data"`` series per component) with reference lines.

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        Components stack in series order; ``"reference"`` series are dashed lines.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    return _columns(workbook, sheet_name, layout, subtype="stacked")


def add_scatter_chart(workbook: Workbook, sheet_name: str, layout: Layout) -> Chart:
    """XY chart: ``"data"`` series as lines with markers, ``"marker"`` series as points.

    Used for area vs performance (one labelled point per variant), the scaling
    curves and the budget line (a ``"reference"`` series of two points).

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        ``categories`` of each series are its X values.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    chart = workbook.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for i, s in enumerate(layout.series):
        chart.add_series(_xy_series(sheet_name, s, i))
    _finish(chart, layout, category_axis=False)
    return chart


def add_roofline_chart(workbook: Workbook, sheet_name: str, layout: Layout) -> Chart:
    """Log-log roofline: roofs as lines without markers, workloads and ridges as points.

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        ``"data"`` series are roofs (X: arithmetic intensity, FLOP/byte; Y:
        TFLOPS); ``"marker"`` series are workload or ridge points. Set ``x_log``
        and ``y_log`` and bounds that hold only positive numbers.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    chart = workbook.add_chart({"type": "scatter", "subtype": "straight"})
    for i, s in enumerate(layout.series):
        options = _xy_series(sheet_name, s, i)
        if s.kind == "data":
            options["marker"] = {"type": "none"}
            options["line"] = {"color": _color(s, i), "width": 2}
        chart.add_series(options)
    _finish(chart, layout, category_axis=False)
    return chart


# Names for what a chart shows; the XY builders above draw them. Series roles,
# secondary axes and reference lines all come from the Layout.
add_dual_axis_chart = add_scatter_chart  # sensitivity curves: power on a second axis
add_cloud_chart = add_scatter_chart  # explored cloud, Pareto front, variants
add_curve_chart = add_roofline_chart  # cumulative distributions: lines, no markers


def add_share_chart(workbook: Workbook, sheet_name: str, layout: Layout) -> Chart:
    """Horizontal bars of shares per category, the second series drawn over the first.

    Sobol indices: the total-order index (first series, light) with the first-order
    index over it (second series, dark); the light part that shows is the share
    of variance due to interactions. First category on top.

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        Two ``"data"`` series over the same categories.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    return add_tornado_chart(workbook, sheet_name, layout)


def add_tornado_chart(workbook: Workbook, sheet_name: str, layout: Layout) -> Chart:
    """Horizontal bars of the low and high swing per parameter, first category on top.

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
    sheet_name : str
        Sheet holding every cell the layout references.
    layout : Layout
        Two ``"data"`` series (change at the low and the high value) over the
        ranked parameters; ``x_title`` names the change and its unit.

    Returns
    -------
    xlsxwriter.chart.Chart
    """
    chart = workbook.add_chart({"type": "bar"})
    for i, s in enumerate(layout.series):
        options = _series(sheet_name, s)
        options["fill"] = {"color": _color(s, i)}
        options["border"] = {"none": True}
        if i == 0:
            options["overlap"] = 100
            options["gap"] = 40
        chart.add_series(options)
    _titles(chart, layout)
    # In a bar chart the category axis is vertical: xlsxwriter calls it y.
    chart.set_y_axis(
        {
            "name": layout.y_title,
            "name_font": _AXIS_FONT,
            "num_font": _NUM_FONT,
            "reverse": True,
            "label_position": "low",
            "crossing": "max",  # keeps the value axis at the bottom when reversed
            **_TICKS,
        }
    )
    chart.set_x_axis(
        {
            "name": layout.x_title,
            "name_font": _AXIS_FONT,
            "num_font": _NUM_FONT,
            "num_format": tick_format(layout.number_format),
            "major_gridlines": _GRID,
            **_TICKS,
        }
    )
    return chart


# ---------------------------------------------------------------------------------
# Label placement
# ---------------------------------------------------------------------------------

#: Where a point label may sit, in order of preference (xlsxwriter names).
LABEL_POSITIONS: tuple[str, ...] = ("right", "left", "above", "below")
LABEL_CHAR_PX = 6.2  # width of one character of an 8 pt label (a wide sans face)
LABEL_LINE_PX = 13.0  # height of one label line
_LABEL_GAP_PX = 6.0  # from the point's centre to the near edge of its label
_MARKER_PX = 8.0
# Where the plot area lies inside a chart, in pixels from each edge (title on top,
# axis labels and title below and left; no legend).
_PLOT_INSET = {"left": 64, "right": 16, "top": 40, "bottom": 58}


def label_box(x: float, y: float, text: str, position: str) -> tuple:
    """The box (x0, y0, x1, y1), pixels, y down, of ``text`` at ``position`` of (x, y)."""
    w = len(text) * LABEL_CHAR_PX + 4
    h = LABEL_LINE_PX
    g = _LABEL_GAP_PX
    if position == "right":
        return (x + g, y - h / 2, x + g + w, y + h / 2)
    if position == "left":
        return (x - g - w, y - h / 2, x - g, y + h / 2)
    if position == "above":
        return (x - w / 2, y - g - h, x + w / 2, y - g)
    if position == "below":
        return (x - w / 2, y + g, x + w / 2, y + g + h)
    raise ValueError(f"unknown label position {position!r}")


def place_labels(
    points,
    size: tuple[int, int],
    x_bounds: tuple[float, float],
    y_bounds: tuple[float, float],
    x_log: bool = False,
    y_log: bool = False,
    obstacles=(),
) -> list[str]:
    """A position per point label so that labels cover no label, point or edge.

    A deterministic greedy rule: the points are taken from the most crowded to
    the least (ties in input order); each label takes the first of
    ``LABEL_POSITIONS`` with the least overlap, in pixels of the chart's plot
    area, with the labels placed before it, with every point's marker and with
    the outside of the plot area.

    Parameters
    ----------
    points : sequence of (x, y, text)
        Data coordinates and label text; a point whose x or y is None or not
        finite (not drawn) gets ``"right"``.
    size : (int, int)
        Chart width and height in pixels.
    x_bounds, y_bounds : (float, float)
        The axis limits.
    x_log, y_log : bool
        Logarithmic axes.
    obstacles : sequence of (x, y)
        Other drawn points (no label) that labels should not cover.

    Returns
    -------
    list of str
        One of ``LABEL_POSITIONS`` per point, in input order.
    """
    to_px = _pixels(size, x_bounds, y_bounds, x_log, y_log)
    plot = (
        _PLOT_INSET["left"],
        _PLOT_INSET["top"],
        size[0] - _PLOT_INSET["right"],
        size[1] - _PLOT_INSET["bottom"],
    )
    px = [to_px(x, y) for x, y, _ in points]
    markers = [p for p in px if p is not None]
    markers += [p for p in (to_px(x, y) for x, y in obstacles) if p is not None]
    m = _MARKER_PX / 2
    marker_boxes = [(a - m, b - m, a + m, b + m) for a, b in markers]

    def crowd(i: int) -> int:
        a = px[i]
        reach = 4 * LABEL_LINE_PX
        return sum(
            1
            for j, b in enumerate(px)
            if j != i and b is not None and abs(a[0] - b[0]) + abs(a[1] - b[1]) < reach
        )

    drawn = [i for i, p in enumerate(px) if p is not None]
    order = sorted(drawn, key=lambda i: (-crowd(i), i))
    placed: list[tuple] = []
    out = ["right"] * len(points)
    for i in order:
        (x, y), text = px[i], str(points[i][2])
        own = (x - m, y - m, x + m, y + m)
        best, best_cost = LABEL_POSITIONS[0], math.inf
        for pos in LABEL_POSITIONS:
            box = label_box(x, y, text, pos)
            cost = 3 * sum(_overlap(box, b) for b in placed)
            cost += 2 * sum(_overlap(box, b) for b in marker_boxes if b != own)
            cost += 4 * (_area(box) - _overlap(box, plot))
            if cost < best_cost - 1e-9:
                best, best_cost = pos, cost
        out[i] = best
        placed.append(label_box(x, y, text, best))
    return out


def _pixels(size, x_bounds, y_bounds, x_log, y_log):
    """Data (x, y) -> pixel (x, y down) inside a chart of ``size``, or None."""
    left, top = _PLOT_INSET["left"], _PLOT_INSET["top"]
    w = size[0] - _PLOT_INSET["left"] - _PLOT_INSET["right"]
    h = size[1] - _PLOT_INSET["top"] - _PLOT_INSET["bottom"]

    def scale(v, lo, hi, log):
        if log:
            if v <= 0 or lo <= 0 or hi <= 0:
                return None
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return (v - lo) / (hi - lo) if hi > lo else 0.5

    def to_px(x, y):
        if x is None or y is None:
            return None
        x, y = float(x), float(y)
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        fx = scale(x, *x_bounds, x_log)
        fy = scale(y, *y_bounds, y_log)
        if fx is None or fy is None:
            return None
        return (left + fx * w, top + (1 - fy) * h)

    return to_px


def _area(box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


# ---------------------------------------------------------------------------------
# Private API
# ---------------------------------------------------------------------------------


def _color(s: Series, i: int) -> str:
    return s.color or PALETTE[i % len(PALETTE)]


def _series(sheet_name: str, s: Series) -> dict:
    options: dict = {"values": s.values.ref(sheet_name)}
    if isinstance(s.name, Span):
        options["name"] = s.name.ref(sheet_name)
    elif s.name:
        options["name"] = s.name
    if s.categories is not None:
        options["categories"] = s.categories.ref(sheet_name)
    if s.secondary:
        options["y2_axis"] = True
    if s.label:
        options["data_labels"] = {
            "series_name": True,
            "position": s.label_position,
            "font": _LABEL_FONT,
        }
        if s.label_fill:
            options["data_labels"]["fill"] = {"color": "#FFFFFF", "transparency": 15}
            options["data_labels"]["border"] = {"none": True}
    return options


def _reference_line(s: Series) -> dict:
    return {
        "color": s.color or BUDGET_COLOR,
        "width": 1.75,
        "dash_type": s.line_style,
    }


def _xy_series(sheet_name: str, s: Series, i: int) -> dict:
    options = _series(sheet_name, s)
    color = _color(s, i)
    if s.kind == "reference":
        options["line"] = _reference_line(s)
        options["marker"] = {"type": "none"}
    elif s.kind == "cloud":
        options["line"] = {"none": True}
        options["marker"] = {
            "type": "circle",
            "size": 3,
            "fill": {"color": color},
            "border": {"none": True},
        }
    elif s.kind == "marker":
        options["line"] = {"none": True}
        options["marker"] = {
            "type": s.marker,
            "size": 7,
            "fill": {"color": color},
            "border": {"color": "#404040", "width": 0.75},
        }
    else:
        line = {"color": color, "width": 2}
        if s.dash:
            line["dash_type"] = "dash"
        options["line"] = line
        options["marker"] = {
            "type": "circle",
            "size": 5,
            "fill": {"color": color},
            "border": {"color": color},
        }
    return options


def _columns(workbook, sheet_name, layout, subtype):
    options = {"type": "column"}
    if subtype:
        options["subtype"] = subtype
    chart = workbook.add_chart(options)
    lines = None
    count = 0
    for i, s in enumerate(layout.series):
        if s.kind == "reference":
            if lines is None:
                lines = workbook.add_chart({"type": "line"})
            opts = _series(sheet_name, s)
            opts["line"] = _reference_line(s)
            if s.steps:
                opts["line"] = {"none": True}
            if s.steps or s.values.r1 is None or s.values.r1 == s.values.r0:
                # A one-category line has no length, and a line joining
                # different values would slope between the categories: a dash
                # marker at each.
                opts["marker"] = {
                    "type": "dash",
                    "size": 14,
                    "fill": {"color": s.color or BUDGET_COLOR},
                    "border": {"color": s.color or BUDGET_COLOR},
                }
            else:
                opts["marker"] = {"type": "none"}
            lines.add_series(opts)
        else:
            opts = _series(sheet_name, s)
            opts["fill"] = {"color": _color(s, i)}
            opts["border"] = {"none": True}
            if count == 0:
                opts["gap"] = 60
                if subtype:
                    opts["overlap"] = 100
            count += 1
            chart.add_series(opts)
    if lines is not None:
        chart.combine(lines)
    _finish(chart, layout, category_axis=True)
    return chart


def _titles(chart, layout):
    chart.set_title({"name": layout.title, "name_font": _TITLE_FONT})
    chart.set_size({"width": layout.width, "height": layout.height})
    hidden = [i for i, s in enumerate(layout.series) if not s.legend]
    legend = {
        "position": "bottom",
        "font": _LEGEND_FONT,
        "fill": {"none": True},
        "border": {"none": True},
    }
    if hidden:
        legend["delete_series"] = hidden
    if len(hidden) == len(layout.series):
        legend = {"none": True}
    chart.set_legend(legend)
    chart.set_chartarea({"border": {"color": "#BFBFBF"}, "fill": {"color": "#FFFFFF"}})
    chart.set_plotarea({"border": {"none": True}, "fill": {"none": True}})


def _axis(name, bounds, log, num_format, gridlines=True):
    axis: dict = {
        "name": name,
        "name_font": _AXIS_FONT,
        "num_font": _NUM_FONT,
        "num_format": tick_format(num_format),
        **_TICKS,
    }
    if gridlines:
        axis["major_gridlines"] = _GRID
    if bounds is not None:
        axis["min"], axis["max"] = bounds
    if log:
        axis["log_base"] = 10
        axis["crossing"] = "min"
    return axis


def _finish(chart, layout, category_axis):
    _titles(chart, layout)
    if category_axis:
        chart.set_x_axis(
            {
                "name": layout.x_title,
                "name_font": _AXIS_FONT,
                "num_font": {**_NUM_FONT, "rotation": -30},
                **_TICKS,
            }
        )
    else:
        x = _axis(layout.x_title, layout.x_bounds, layout.x_log, layout.x_number_format)
        chart.set_x_axis(x)
    y = _axis(layout.y_title, layout.y_bounds, layout.y_log, layout.number_format)
    chart.set_y_axis(y)
    if any(s.secondary for s in layout.series):
        chart.set_y2_axis(
            _axis(layout.y2_title, None, False, layout.number_format, gridlines=False)
        )
