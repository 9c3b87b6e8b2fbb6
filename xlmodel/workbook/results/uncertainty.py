"""The Uncertainty sheet: outcomes under input spreads (Monte Carlo), CDF charts.

P10/P50/P90 of each output the study asked for (the Uncertainty setup's list;
default power, density, TFLOPS/W and Tj) and the probability of meeting each
target per variant, the spreads drawn, and a cumulative distribution chart of
each of power, density, TFLOPS/W and unit cost that is among the outputs (with
the budget or the target when it lies near the curves) whose data sit right of
the tables. Written only when the study asked for it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...studies.explore import quantity_unit
from ...studies.run import Results
from ...studies.uncertainty import CDF_PERCENTILES, QUANTITIES
from .. import charts as ch
from ..charts import Layout, Series, Span
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, at_precision, unit_format
from .geometry import GAP_PX, axis_format
from .paging import MIN_SCALE, PAGE_W_PX
from .sheet import Col, ResultSheet, Sheet

# The quantities charted when they are among the outputs, in chart order.
_CHARTED = (
    "power_total_w",
    "target_density_tflops_per_mm2",
    "tflops_per_w",
    "unit_cost_usd",
)
_CHART_W, _CHART_H = 520, 320  # pixels, at most
_CHART_MIN_W = 380


def present(results: Results) -> bool:
    # the study's setup, not its result: the Monte Carlo may still be running
    return results.study.uncertainty is not None


def write(ctx: Context, sh: Sheet) -> None:
    """P10/P50/P90 and target probabilities per variant, with CDF charts."""
    u = ctx.results.uncertainty
    spec = u.spec
    spreads = "; ".join(
        f"{s.name} ±{s.percent:g} % {s.distribution}" for s in spec.spreads
    )
    sh.title(
        0,
        "Uncertainty: outcomes under input spreads",
        f"{spec.samples:,} draws per variant, seed {spec.seed}; {spreads} "
        "(normal: one standard deviation).",
    )
    sh.page(4, freeze_col=1)
    stale_banner(ctx, sh, note=spec.limits_line())
    s = u.summary.copy()
    s.insert(0, "variant", [str(v) for v in s.index])
    heads = _heads(ctx.precision, ctx.ops, spec.quantities)
    cols = _columns(heads)
    sh.heading(3, 0, "Percentiles and probabilities of meeting each target")
    table = sh.table(4, 0, s, cols, cap_width=16)
    row = table.last_row + 2
    sh.heading(row, 0, "Spreads")
    sp = pd.DataFrame(
        {
            "parameter": [x.name for x in spec.spreads],
            "unit": [quantity_unit(x.name) for x in spec.spreads],
            "distribution": [x.distribution for x in spec.spreads],
            "percent": [x.percent for x in spec.spreads],
        }
    )
    t = sh.table(
        row + 1,
        0,
        sp,
        [
            Col("parameter", "Parameter", "text"),
            Col("unit", "Unit", "text"),
            Col("distribution", "Distribution", "text"),
            Col("percent", "Spread (±%, or 1 σ)", "0.0"),
        ],
    )
    row = t.last_row + 2
    _charts(ctx, sh, heads, row, len(cols))
    sh.print_limit = (row, len(cols) - 1)


SHEET = ResultSheet("Uncertainty", write, present)


def _heads(p: str, o: str, quantities=QUANTITIES) -> dict[str, tuple[str, str]]:
    """Quantity -> (title, unit), at precision ``p``, for each of ``quantities``
    in their order (a metric without a title here is titled by its name)."""
    known = {
        "target_density_tflops_per_mm2": (f"{p} density", f"{o}/mm²"),
        "power_total_w": ("Power", "W"),
        "tflops_per_w": (f"{p} {o}/W", f"{o}/W"),
        "junction_temp_c": ("Tj", "°C"),
        "unit_cost_usd": ("Unit cost", "USD"),
    }
    return {q: known.get(q, (q, at_precision(quantity_unit(q), p))) for q in quantities}


def _columns(heads: dict[str, tuple[str, str]]) -> list[Col]:
    cols = [Col("variant", "Variant", "text")]
    for q in heads:
        label, unit = heads[q]
        for p in ("p10", "p50", "p90"):
            head = f"{label} {p.upper()}" + (
                "" if label.endswith(unit) else f" ({unit})"
            )
            number = "#,##0" if unit == "USD" else unit_format(unit)
            cols.append(Col(f"{q}_{p}", head, number))
    cols += [
        Col("p_meets_density_target", "P(density target met)", "0.0%"),
        Col("p_meets_power_budget", "P(within power budget)", "0.0%"),
        Col("p_meets_tj_max", "P(Tj within max)", "0.0%"),
        Col("p_meets_all_targets", "P(all targets met)", "0.0%"),
    ]
    return cols


def _charts(ctx: Context, sh: Sheet, heads: dict, charts_row: int, table_cols: int):
    """The CDF charts at ``charts_row``, side by side in a grid as wide as the
    table above, or, when the table is too wide to print legibly on one page
    width, in a grid of two a row as wide as the half of the table the first
    band of printed pages shows (the table is cut into bands of columns there,
    the charts are not).

    Their data, not printed, lie right of the charts and of the table: a column
    per charted variant, a row per percentile, one block per quantity below the
    other from row 4.
    """
    table_px = sum(sh.col_px(c) for c in range(table_cols))
    charted = [q for q in _CHARTED if q in heads]
    n = max(len(charted), 1)
    per_row = n
    if table_px * MIN_SCALE > PAGE_W_PX and n > 2:
        per_row, table_px = 2, table_px / 2
    width = int(
        max(_CHART_MIN_W, min(_CHART_W, (table_px - (per_row - 1) * GAP_PX) / per_row))
    )
    grid_px = per_row * width + (per_row - 1) * GAP_PX
    data_col = max(table_cols, sh.col_after(0, grid_px)) + 1
    data_row = 3
    layouts = []
    for q in charted:
        data_row, layout = _cdf(ctx, sh, heads[q], q, data_row, data_col, width)
        layouts.append(layout)
    y = 0
    for k in range(0, len(layouts), per_row):
        row = layouts[k : k + per_row]
        for j, layout in enumerate(row):
            sh.chart(ch.add_curve_chart, layout, charts_row, 0, j * (width + GAP_PX), y)
        y += max(lay.height for lay in row) + GAP_PX


def _cdf(
    ctx: Context,
    sh: Sheet,
    head: tuple[str, str],
    q: str,
    data_row: int,
    data_col: int,
    width: int,
) -> tuple[int, Layout]:
    """Chart data of quantity ``q`` at ``data_row``, and its chart.

    A two-point limit line (the budget or the target) follows the block when the
    limit lies near the values. Returns the next free data row and the layout.
    """
    names = ctx.plotted
    cdf = ctx.results.uncertainty.cdf[q]
    frame = pd.DataFrame({"prob": np.asarray(CDF_PERCENTILES) / 100.0})
    for n in names:
        frame[n] = cdf[n].to_numpy(dtype=np.float64)
    label, unit = head
    sh.heading(data_row, data_col, f"Chart data: cumulative distribution of {label}")
    ccols = [Col("prob", "Cumulative probability", "0%")]
    ccols += [Col(n, ctx.labels[n], unit_format(unit)) for n in names]
    ct = sh.table(data_row + 1, data_col, frame, ccols, wrap_header=False)
    data_row = ct.last_row + 2
    series = [
        Series(
            ct.span("prob"),
            Span(ct.header_row, ct.cols[n]),
            ct.span(n),
            color=ctx.colors[n],
        )
        for n in names
    ]
    values = np.concatenate([frame[n].to_numpy() for n in names])
    limit = {
        "power_total_w": ("Power budget", ctx.budget, "power_budget_w"),
        "target_density_tflops_per_mm2": (
            "Density target",
            ctx.density_target,
            "density_target_tflops_per_mm2",
        ),
    }.get(q)
    if limit is not None and ctx.varies(limit[2]):
        limit = None  # one line would be one variant's: none
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if limit is not None and lo - (hi - lo) <= limit[1] <= hi + (hi - lo):
        line = pd.DataFrame({"x": [limit[1]] * 2, "y": [0.0, 1.0]})
        lt = sh.table(
            data_row,
            data_col,
            line,
            [Col("x", f"{limit[0]}: x", GENERAL), Col("y", "y", "0%")],
            wrap_header=False,
        )
        data_row = lt.last_row + 2
        series.append(
            Series(
                lt.span("y"),
                f"{limit[0]} ({limit[1]:g} {unit})",
                lt.span("x"),
                kind="reference",
                color=ch.BUDGET_COLOR if q == "power_total_w" else ch.TARGET_COLOR,
            )
        )
        values = np.append(values, limit[1])
    layout = Layout(
        f"Cumulative distribution of {label}",
        x_title=label if label.endswith(unit) else f"{label} ({unit})",
        y_title="Cumulative probability",
        series=tuple(series),
        y_bounds=(0.0, 1.0),
        width=width,
        height=_CHART_H + 18 * math.ceil((len(series)) / 3),
        number_format="0%",
        x_number_format=axis_format(values),
    )
    return data_row, layout
