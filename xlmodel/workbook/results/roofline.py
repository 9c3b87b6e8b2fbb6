"""The Roofline sheet: attainable performance per variant and workload, log-log chart.

The table of every variant and workload, the ridge points of every variant, and
right of them the chart data (roof curves, workload points, ridge points; only
values > 0, for the log axes) and the roofline chart of the charted variants.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import charts as ch
from ..charts import Layout, Series, Span
from .context import Context
from .formats import GENERAL, unit_format
from .geometry import chart_rows, legend_px, positive
from .sheet import Col, ResultSheet, Sheet, Table

WORKLOAD_LABELS = 12  # most workloads named on the roofline chart

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
        Col("peak_tflops", f"Peak {p} (TFLOPS)", unit_format("TFLOPS")),
        Col("attainable_tflops", f"Attainable {p} (TFLOPS)", unit_format("TFLOPS")),
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
    table = sh.table(3, 0, rf, cols, cap_width=28)
    sh.page(table.header_row)

    right = len(cols) + 1
    chh = 440 + legend_px(len(ctx.plotted) + 1, per_row=4)
    chart_row = table.header_row
    row = chart_row + chart_rows(chh) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The chart"), 8, italic=True)
        row += 2
    ridge = _ridge_points(ctx)
    rtable = _ridge_table(ctx, sh, ridge, row, right)
    row = rtable.last_row + 2

    x_lo, x_hi, grid = _x_axis(ctx.results.study.workloads)
    sh.heading(row, right, "Chart data: roofs, workloads and ridge points")
    data, parts = _chart_data(ctx, rf, ridge, x_lo, x_hi, grid)
    dtable = sh.table(
        row + 1,
        right,
        data,
        [
            Col("variant", "Variant", "text"),
            Col("point", "Point", "text"),
            Col("ai", "Arithmetic intensity (FLOP/byte)", GENERAL),
            Col("tflops", f"{p} (TFLOPS)", GENERAL),
        ],
        cap_width=40,
        wrap_header=False,
    )
    series = _series(ctx, dtable, parts)
    ys = [v for v in data["tflops"] if v is not None]
    y_lo = 10 ** math.floor(math.log10(min(ys))) if ys else 0.01
    y_hi = 10 ** math.ceil(math.log10(max(ys))) if ys else 1e4
    if y_hi <= y_lo:
        y_hi = y_lo * 10
    layout = Layout(
        f"Roofline at {p}: lines = roofs, ▲ = workloads, ◆ = ridge points",
        x_title="Arithmetic intensity (FLOP/byte, log scale)",
        y_title=f"Attainable {p} TFLOPS (log scale)",
        series=series,
        x_bounds=(x_lo, x_hi),
        y_bounds=(y_lo, y_hi),
        x_log=True,
        y_log=True,
        width=720,
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
        Col("peak", f"Peak {p} (TFLOPS)", unit_format("TFLOPS")),
        Col("bw", "HBM bandwidth (TB/s)", unit_format("TB/s")),
        Col("ridge", "Ridge point (FLOP/byte)", unit_format("FLOP/byte")),
    ]
    return sh.table(row + 1, col, ridge, rcols, cap_width=40, wrap_header=False)


def _x_axis(workloads: dict) -> tuple[float, float, list[float]]:
    """Bounds of the intensity axis (whole decades) and a roof point per decade."""
    ai_values = [float(a) for a in workloads.values() if a > 0]
    lo = min([0.01, *ai_values])
    hi = max([1e4, *ai_values])
    x_lo = 10 ** math.floor(math.log10(lo))
    x_hi = 10 ** math.ceil(math.log10(hi))
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


def _series(ctx: Context, dtable: Table, parts: list[_Part]) -> tuple[Series, ...]:
    """Roofs first (one per variant, in the legend), then the workload and ridge marks.

    The first variant's workloads are one series each, labelled by name, when
    there are fewer than ``WORKLOAD_LABELS``.
    """
    series: list[Series] = []
    markers: list[Series] = []
    labelled = False
    for name, kind, r0, r1 in parts:
        r0, r1 = dtable.first_row + r0, dtable.first_row + r1
        x, y = dtable.span("ai", r0, r1), dtable.span("tflops", r0, r1)
        if kind == "roof":
            name_cell = ctx.series_name(name, Span(r0, dtable.cols["variant"]))
            series.append(Series(y, name_cell, x, color=ctx.colors[name]))
        elif kind == "workloads" and not labelled and r1 - r0 < WORKLOAD_LABELS:
            labelled = True
            markers += _named_workloads(ctx, dtable, name, r0, r1)
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
            markers.append(
                Series(
                    y,
                    "Ridge points",
                    x,
                    kind="marker",
                    marker="diamond",
                    color="#000000",
                )
            )
    return tuple(series + markers)


def _named_workloads(
    ctx: Context, dtable: Table, name: str, r0: int, r1: int
) -> list[Series]:
    """One labelled marker per workload of variant ``name`` (data rows r0..r1)."""
    return [
        Series(
            dtable.span("tflops", k, k),
            Span(k, dtable.cols["point"]),
            dtable.span("ai", k, k),
            kind="marker",
            marker="triangle",
            color=ctx.colors[name],
            legend=False,
            label=True,
        )
        for k in range(r0, r1 + 1)
    ]
