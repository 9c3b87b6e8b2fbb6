"""The Roofline sheet: attainable performance per variant and workload, log-log chart.

The table of every variant and workload, the ridge points of every variant, and
right of them the chart data (roof curves, workload points, ridge points; only
values > 0, for the log axes) and the roofline chart of the charted variants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .. import charts as ch
from ..charts import Layout, Series, Span
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, unit_format
from .geometry import chart_rows, decade_bounds, legend_px, positive
from .sheet import Col, ResultSheet, Sheet, Table

WORKLOAD_LABELS = 12  # most workloads named on the roofline chart
_CHART_W = 720  # pixels
_DATA_ROW = 3  # the chart data's heading


@dataclass(frozen=True)
class _Frame:
    """The chart's size (pixels) and axis bounds, for placing point labels."""

    size: tuple[int, int]
    x_bounds: tuple[float, float]
    y_bounds: tuple[float, float]


# A part of the chart data: variant, kind (roof, workloads, ridge), first and last
# row (0-based, within the data).
_Part = tuple[str, str, int, int]


def write(ctx: Context, sh: Sheet) -> None:
    """The table, then right of it the ridge points, the chart data and the chart."""
    rf = ctx.results.roofline.copy()
    rf["variant"] = rf["variant"].astype(str)
    p = ctx.precision
    cols = [
        Col("variant", "Variant", "text"),
        Col("workload", "Workload", "text"),
        Col(
            "arithmetic_intensity_flop_per_byte",
            "Arithmetic intensity (FLOP/byte)",
            unit_format("FLOP/byte"),
        ),
        Col("peak_tflops", f"Peak {p} ({ctx.ops})", unit_format(ctx.ops)),
        Col(
            "attainable_tflops",
            f"Attainable {p} ({ctx.ops})",
            unit_format(ctx.ops),
        ),
        Col("efficiency_percent", "Share of peak (%)", unit_format("%")),
        Col("bottleneck", "Bottleneck", "text", center=True),
        Col("ridge_flop_per_byte", "Ridge point (FLOP/byte)", unit_format("FLOP/byte")),
    ]
    sh.title(
        0,
        f"Roofline at {p}",
        "Attainable = min(peak, arithmetic intensity x HBM bandwidth); a workload "
        "left of the ridge point is memory-bound.",
    )
    stale_banner(ctx, sh)
    table = sh.table(3, 0, rf, cols, cap_width=28)
    sh.page(table.header_row)

    right = len(cols) + 1
    # the chart may print on pages of its own, from the empty column before
    sh.band_cols.append(right - 1)
    chw, chh = _CHART_W, 440 + legend_px(len(ctx.plotted), per_row=4)
    chart_row = table.header_row + 1  # not in the header row printed on every page
    row = chart_row + chart_rows(chh) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The chart"), 8, italic=True)
        row += 2
    ridge = _ridge_points(ctx)
    rtable = _ridge_table(ctx, sh, ridge, row, right)

    # The chart data: right of everything printed, from the top, not printed.
    data_col = max(right + len(rtable.cols), sh.col_after(right, chw)) + 1
    x_lo, x_hi, grid = _x_axis(ctx.results.study.workloads)
    sh.heading(_DATA_ROW, data_col, "Chart data: roofs, workloads and ridge points")
    data, parts = _chart_data(ctx, rf, ridge, x_lo, x_hi, grid)
    dtable = sh.table(
        _DATA_ROW + 1,
        data_col,
        data,
        [
            Col("variant", "Variant", "text"),
            Col("point", "Point", "text"),
            Col("ai", "Arithmetic intensity (FLOP/byte)", GENERAL),
            Col("tflops", f"{p} ({ctx.ops})", GENERAL),
        ],
        cap_width=40,
        wrap_header=False,
    )
    sh.print_limit = (max(table.last_row, rtable.last_row), data_col - 2)
    ys = [v for v in data["tflops"] if v is not None]
    y_lo, y_hi = decade_bounds(ys) if ys else (0.01, 1e4)
    frame = _Frame((chw, chh), (x_lo, x_hi), (y_lo, y_hi))
    layout = Layout(
        f"Roofline at {p}: lines = roofs, ▲ = workloads, ◆ = ridge points",
        x_title="Arithmetic intensity (FLOP/byte, log scale)",
        y_title=f"Attainable {p} {ctx.ops} (log scale)",
        series=_series(ctx, dtable, data, parts, frame),
        x_bounds=(x_lo, x_hi),
        y_bounds=(y_lo, y_hi),
        x_log=True,
        y_log=True,
        width=chw,
        height=chh,
        number_format="#,##0.##",
        x_number_format="#,##0.##",
    )
    sh.chart(ch.add_roofline_chart, layout, chart_row, right)


SHEET = ResultSheet("Roofline", write)


def _ridge_points(ctx: Context) -> pd.DataFrame:
    """Peak, HBM bandwidth and ridge point of every variant at the target precision."""
    m = ctx.results.metrics
    k = ctx.precision.lower()
    return pd.DataFrame(
        {
            "variant": [str(x) for x in m.index],
            "peak": m[f"peak_{k}_tflops"].to_numpy(dtype=float),
            "bw": m["hbm_bandwidth_tbps"].to_numpy(dtype=float),
            "ridge": m[f"ridge_{k}_flop_per_byte"].to_numpy(dtype=float),
        }
    )


def _ridge_table(
    ctx: Context, sh: Sheet, ridge: pd.DataFrame, row: int, col: int
) -> Table:
    p = ctx.precision
    sh.heading(row, col, "Ridge points")
    rcols = [
        Col("variant", "Variant", "text"),
        Col("peak", f"Peak {p} ({ctx.ops})", unit_format(ctx.ops)),
        Col("bw", "HBM bandwidth (TB/s)", unit_format("TB/s")),
        Col("ridge", "Ridge point (FLOP/byte)", unit_format("FLOP/byte")),
    ]
    return sh.table(row + 1, col, ridge, rcols, cap_width=40, wrap_header=False)


def _x_axis(workloads: dict) -> tuple[float, float, list[float]]:
    """Bounds of the intensity axis (whole decades) and a roof point per decade."""
    ai_values = [float(a) for a in workloads.values() if a > 0]
    lo = min([0.01, *ai_values])
    hi = max([1e4, *ai_values])
    x_lo, x_hi = decade_bounds([lo, hi])
    grid = [
        10.0**e for e in range(round(math.log10(x_lo)), round(math.log10(x_hi)) + 1)
    ]
    return x_lo, x_hi, grid


def _chart_data(
    ctx: Context,
    rf: pd.DataFrame,
    ridge: pd.DataFrame,
    x_lo: float,
    x_hi: float,
    grid: list[float],
) -> tuple[pd.DataFrame, list[_Part]]:
    """Roof curves and workload points per charted variant, then the ridge points.

    Returns the rows (variant, point, ai, tflops; None where a log axis cannot
    show the value) and where each part lies in them.
    """
    rows: list[tuple[str, str, float | None, float | None]] = []
    parts: list[_Part] = []
    by_variant = {name: g for name, g in rf.groupby("variant", sort=False)}
    sel = ridge.set_index("variant")
    for name in ctx.plotted:
        peak = float(sel.loc[name, "peak"])
        bw = float(sel.loc[name, "bw"])  # TB/s
        rp = float(sel.loc[name, "ridge"])
        knee = {rp} if math.isfinite(rp) and x_lo < rp < x_hi else set()
        xs = sorted(set(grid) | knee)
        start = len(rows)
        rows += [
            (name, "roof", x, y)
            for x, y in zip(xs, positive([min(peak, x * bw) for x in xs]))
        ]
        parts.append((name, "roof", start, len(rows) - 1))
        g = by_variant.get(name)
        if g is not None and len(g):
            start = len(rows)
            ai = positive(g["arithmetic_intensity_flop_per_byte"])
            att = positive(g["attainable_tflops"])
            rows += [(name, str(w), x, y) for w, x, y in zip(g["workload"], ai, att)]
            parts.append((name, "workloads", start, len(rows) - 1))
    start = len(rows)
    for name in ctx.plotted:
        peak = float(sel.loc[name, "peak"])
        rp = float(sel.loc[name, "ridge"])
        ok = math.isfinite(rp) and rp > 0 and peak > 0
        rows.append((name, "ridge", rp if ok else None, peak if ok else None))
    if ctx.plotted:
        parts.append(("", "ridge", start, len(rows) - 1))
    data = pd.DataFrame(rows, columns=["variant", "point", "ai", "tflops"])
    data = data.astype(object).where(data.notna(), None)
    return data, parts


def _series(
    ctx: Context,
    dtable: Table,
    data: pd.DataFrame,
    parts: list[_Part],
    frame: _Frame,
) -> tuple[Series, ...]:
    """Roofs first (one per variant, in the legend), then the workload and ridge marks.

    The first variant's workloads are one series each, labelled by name, when
    there are fewer than ``WORKLOAD_LABELS``; every ridge point is one series,
    labelled with its ridge. Labels are placed so that they do not collide
    (:func:`xlmodel.workbook.charts.place_labels`).
    """
    series: list[Series] = []
    markers: list[Series] = []
    labelled: list[int] = []  # data rows whose point carries a label
    texts: dict[int, str] = {}
    named = False
    for _name, kind, r0, r1 in parts:
        if kind == "workloads" and not named and r1 - r0 < WORKLOAD_LABELS:
            named = True
            labelled += range(r0, r1 + 1)
            texts.update({k: str(data["point"].iloc[k]) for k in range(r0, r1 + 1)})
        elif kind == "ridge":
            for k in range(r0, r1 + 1):
                if data["ai"].iloc[k] is not None:
                    labelled.append(k)
                    texts[k] = f"ridge {float(data['ai'].iloc[k]):,.0f}"
    drawn = [
        k
        for _, kind, r0, r1 in parts
        if kind != "roof"
        for k in range(r0, r1 + 1)
        if k not in texts
    ]
    where = dict(
        zip(
            labelled,
            ch.place_labels(
                [
                    (data["ai"].iloc[k], data["tflops"].iloc[k], texts[k])
                    for k in labelled
                ],
                frame.size,
                frame.x_bounds,
                frame.y_bounds,
                x_log=True,
                y_log=True,
                obstacles=[(data["ai"].iloc[k], data["tflops"].iloc[k]) for k in drawn],
            ),
        )
    )
    first = dtable.first_row
    for name, kind, r0, r1 in parts:
        x = dtable.span("ai", first + r0, first + r1)
        y = dtable.span("tflops", first + r0, first + r1)
        if kind == "roof":
            cell = Span(first + r0, dtable.cols["variant"])
            series.append(
                Series(y, ctx.series_name(name, cell), x, color=ctx.colors[name])
            )
        elif kind == "workloads" and r0 in where:
            markers += [
                _point(dtable, k, Span(first + k, dtable.cols["point"]), where[k],
                       "triangle", ctx.colors[name])
                for k in range(r0, r1 + 1)
            ]  # fmt: skip
        elif kind == "workloads":
            markers.append(
                Series(
                    y,
                    f"{ctx.labels[name]} workloads",
                    x,
                    kind="marker",
                    marker="triangle",
                    color=ctx.colors[name],
                    legend=False,
                )
            )
        else:
            markers += [
                _point(dtable, k, texts[k], where[k], "diamond", "#000000")
                for k in range(r0, r1 + 1)
                if k in where
            ]
    return tuple(series + markers)


def _point(
    dtable: Table, k: int, name: Span | str, where: str, marker: str, color: str
) -> Series:
    """The labelled marker of chart-data row ``k`` (0-based in the data)."""
    r = dtable.first_row + k
    return Series(
        dtable.span("tflops", r, r),
        name,
        dtable.span("ai", r, r),
        kind="marker",
        marker=marker,
        color=color,
        legend=False,
        label=True,
        label_position=where,
    )
