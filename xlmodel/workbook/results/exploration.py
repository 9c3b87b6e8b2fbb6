"""The Exploration sheet: the Pareto front and top designs, and the cloud chart.

At the top, the chart of the explored cloud (a sample of feasible and infeasible
points, the front, the constraint limits on its axes, the charted variants) and,
beside it, how often each constraint binds. Below: the constraints table, the
ranges explored and the designs (front and top K, front thinned to
``MAX_DESIGN_ROWS``), whose header carries the sheet-scoped defined name
``DESIGNS_NAME`` that ``xlmodel adopt`` reads back. The chart data sit right of
the designs table. Written only when the study asked for an exploration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ...schema import BY_NAME
from ...studies.explore import ACTIVE_TOLERANCE, quantity_unit
from ...studies.run import Results
from .. import charts as ch
from ..charts import Layout, Series, Span
from ..designs import BASE_LABEL, DESIGNS_NAME
from .banner import stale_banner
from .context import Context
from .formats import (
    GENERAL,
    SHARE_PART_COLOR,
    SHARE_TOTAL_COLOR,
    unit_format,
    with_unit,
)
from .geometry import GAP_PX, axis_format, chart_rows, padded_bounds
from .sheet import Col, ResultSheet, Sheet, Table

#: Most designs written on the Exploration sheet (the top K and the front thinned).
MAX_DESIGN_ROWS = 1000
_FRONT_COLOR = "#C0392B"
_FEASIBLE_COLOR = "#9DC3E6"
_INFEASIBLE_COLOR = "#C9C9C9"
_CHART_ROW = 3  # both charts
_CLOUD_W, _CLOUD_H = 700, 440  # pixels
_SHARE_W = 460


def present(results: Results) -> bool:
    return results.exploration is not None


def write(ctx: Context, sh: Sheet) -> None:
    """The front and the top designs, constraint counts, the cloud chart."""
    _title(ctx, sh)
    sh.page(1, freeze_col=0, repeat=False)
    row = _CHART_ROW + chart_rows(_CLOUD_H) + 1
    row, ctable = _constraints(ctx, sh, row)
    row = _ranges(ctx, sh, row)
    dtable, shown, data_col = _designs(ctx, sh, row)
    cloud = _cloud_data(ctx, sh, shown, data_col)
    sh.chart(ch.add_cloud_chart, _cloud_layout(ctx, cloud), _CHART_ROW, 0)
    if ctable is not None:
        x = _CLOUD_W + GAP_PX
        sh.chart(ch.add_share_chart, _share_layout(ctable), _CHART_ROW, 0, x, 0)
    sh.print_limit = (dtable.last_row, data_col - 2)


SHEET = ResultSheet("Exploration", write, present)


def _key_head(name: str) -> str:
    return with_unit(name, quantity_unit(name))


def _num(name: str) -> str:
    p = BY_NAME.get(name)
    if p is not None and p.kind == "int":
        return "#,##0"
    return unit_format(quantity_unit(name))


def _values(ctx: Context, name: str) -> np.ndarray:
    """A quantity at every variant (a metric, else a parameter)."""
    r = ctx.results
    frame = r.metrics if name in r.metrics else r.study.variants
    return frame[name].to_numpy(dtype=np.float64)


def _title(ctx: Context, sh: Sheet) -> None:
    ex = ctx.results.exploration
    prob = ex.problem
    how = {
        "grid": "full grid",
        "lhs": f"Latin hypercube, seed {prob.seed}",
        "random": f"uniform random, seed {prob.seed}",
    }[prob.method]
    share = ex.feasible / max(ex.points, 1)
    objectives = ", ".join(
        f"{o.sense} {ctx.quantity_label(o.quantity)}" for o in prob.objectives
    )
    sh.title(
        0,
        f"Design-space exploration around {ctx.results.study.exploration.base_variant}",
        f"{ex.points:,} points ({how}) · {ex.feasible:,} feasible ({share:.1%}) · "
        f"Pareto front of {ex.front_size:,} design{'s' * (ex.front_size != 1)} · "
        f"objectives: {objectives}",
    )
    stale_banner(ctx, sh, note=ctx.results.study.exploration.limits_line())


def _constraints(ctx: Context, sh: Sheet, row: int) -> tuple[int, Table | None]:
    """Constraints and how often they bind; returns the next row and the table."""
    ex = ctx.results.exploration
    sh.heading(row, 0, "Constraints: how often each one binds")
    cons = ex.constraints
    if not len(cons):
        sh.note(row + 1, 0, "No constraints: every point with finite objectives is "
                "feasible.", 1)  # fmt: skip
        return row + 3, None
    cols = [
        Col("constraint", "Constraint", "text"),
        Col("violated", "Points violating it", "#,##0"),
        Col("violated_share", "Share of all points", "0.0%"),
        Col("alone", "Points failing only this one", "#,##0"),
        Col("alone_share", "Share failing only this one", "0.0%"),
        Col(
            "active_on_front",
            f"Front designs at the limit (±{ACTIVE_TOLERANCE:.0%})",
            "#,##0",
        ),
    ]
    frame = cons.assign(alone_share=cons["alone"] / max(ex.points, 1))
    ctable = sh.table(row + 1, 0, frame, cols, cap_width=30)
    return ctable.last_row + 2, ctable


#: The ranges table's word for a parameter that changes no objective and no
#: constraint (the Summary's warnings say what to do).
IDLE_TEXT = "none: its values only repeat designs (warnings: Run sheet)"


def _ranges(ctx: Context, sh: Sheet, row: int) -> int:
    """The ranges explored; returns the next row."""
    prob = ctx.results.exploration.problem
    idle = set(ctx.results.idle_ranges)
    sh.heading(row, 0, "Ranges explored")
    ranges = pd.DataFrame(
        {
            "parameter": prob.names,
            "unit": [quantity_unit(n) for n in prob.names],
            "low": [rg.low for rg in prob.ranges],
            "high": [rg.high for rg in prob.ranges],
            "values": [
                len(rg.grid()) if prob.method == "grid" else "" for rg in prob.ranges
            ],
            "effect": [IDLE_TEXT if n in idle else "" for n in prob.names],
        }
    )
    rcols = [
        Col("parameter", "Parameter", "text"),
        Col("unit", "Unit", "text"),
        Col("low", "Low", GENERAL),
        Col("high", "High", GENERAL),
        Col("values", "Grid values", "#,##0"),
    ]
    if idle:
        rcols.append(Col("effect", "Effect on the objectives and constraints", "text"))
    t = sh.table(row + 1, 0, ranges, rcols, cap_width=30)
    return t.last_row + 2


def _designs(ctx: Context, sh: Sheet, row: int) -> tuple[Table, pd.DataFrame, int]:
    """The designs (front and top K) and their defined name.

    Returns the table, the designs written (one row each) and the first column
    of the chart data, right of the table.
    """
    ex = ctx.results.exploration
    prob = ex.problem
    designs = _shown_designs(ex.designs)
    thinned = len(designs) < len(ex.designs)
    sh.heading(
        row,
        0,
        f"Pareto front and top {prob.top_k} designs, best first by "
        f"{ctx.quantity_label(prob.objectives[0].quantity)}",
    )
    sh.note(
        row + 1,
        0,
        "Copy a design into Variants as a new column:  xlmodel adopt FILE --design N"
        + (
            f"  (front thinned to {len(designs):,} of {len(ex.designs):,} rows)"
            if thinned
            else ""
        ),
        1,
        italic=True,
    )
    sh.ws.write_string(row + 2, 0, BASE_LABEL, ctx.fmt(bold=True))
    sh.ws.write_string(
        row + 2, 1, ctx.results.study.exploration.base_variant, ctx.fmt()
    )
    shown = designs.reset_index()
    shown["on_front"] = shown["on_front"].astype(bool)
    shown["top_rank"] = [int(v) if v > 0 else "" for v in shown["top_rank"]]
    dcols = [
        Col("design", "Design", "0"),
        Col("on_front", "On front", "yes", center=True),
        Col("top_rank", "Top rank", "0"),
    ]
    params = prob.names
    dcols += [Col(n, _key_head(n), _num(n)) for n in params]
    dcols += [
        Col(q, _key_head(q), _num(q))
        for q in designs.columns
        if q not in params and q not in ("point", "on_front", "top_rank")
    ]
    dcols.append(Col("point", "Point #", "0"))
    front_rows = set(np.flatnonzero(shown["on_front"].to_numpy()))
    dtable = sh.table(row + 3, 0, shown, dcols, highlight=front_rows, cap_width=22)
    anchor = "=" + quote_sheetname(sh.name) + "!"
    anchor += xl_rowcol_to_cell(dtable.header_row, 0, row_abs=True, col_abs=True)
    if ctx.workbook.define_name(f"'{sh.name}'!{DESIGNS_NAME}", anchor) != 0:
        raise ValueError(f"sheet {sh.name!r}: cannot name the designs table")
    return dtable, shown, len(dcols) + 2


def _shown_designs(designs: pd.DataFrame) -> pd.DataFrame:
    """All designs, or the top ones and the front thinned evenly to the row cap."""
    if len(designs) <= MAX_DESIGN_ROWS:
        return designs
    top = designs["top_rank"].to_numpy() > 0
    room = max(MAX_DESIGN_ROWS - int(top.sum()), 0)
    rest = np.flatnonzero(~top)
    keep = rest[np.linspace(0, len(rest) - 1, room).round().astype(int)] if room else []
    mask = top.copy()
    mask[keep] = True
    return designs[mask]


@dataclass
class _Cloud:
    """The cloud chart's data as written: blocks, variant points, limit lines."""

    blocks: dict[str, Table]  # "ok", "bad" (the sampled cloud), "front"
    front: pd.DataFrame
    variants: Table
    limits: list  # (constraint, its line's table)
    xs: np.ndarray  # every variant's X and Y quantity
    ys: np.ndarray
    allx: np.ndarray  # every finite X and Y charted
    ally: np.ndarray


def _cloud_data(ctx: Context, sh: Sheet, shown: pd.DataFrame, col: int) -> _Cloud:
    """Chart data from column ``col``: the cloud, the front, the variants, limits."""
    ex = ctx.results.exploration
    prob = ex.problem
    xq, yq = prob.axes()
    sh.heading(_CHART_ROW, col, "Chart data")
    c = col
    blocks = {}
    cloud = ex.cloud
    for key, feasible, label in (
        ("ok", True, "Feasible (sample)"),
        ("bad", False, "Infeasible (sample)"),
    ):
        part = cloud[cloud["feasible"] == feasible]
        blocks[key] = _xy_block(sh, c, part, f"{label}: x")
        c += 3
    front = shown[shown["on_front"]].sort_values(xq, kind="stable")
    blocks["front"] = sh.table(
        _CHART_ROW + 1,
        c,
        front,
        [Col(xq, "Front: x", GENERAL), Col(yq, "y", GENERAL)],
        wrap_header=False,
    )
    c += 3
    xs = _values(ctx, xq)
    ys = _values(ctx, yq)
    vtable = _variant_block(ctx, sh, c, xs, ys)
    c += 4
    allx = np.concatenate([cloud["x"].to_numpy(float), xs, front[xq].to_numpy(float)])
    ally = np.concatenate([cloud["y"].to_numpy(float), ys, front[yq].to_numpy(float)])
    allx, ally = allx[np.isfinite(allx)], ally[np.isfinite(ally)]
    limits = []
    for con in prob.constraints:
        if con.quantity not in (xq, yq) or not len(allx):
            continue
        if con.quantity == yq:
            line = pd.DataFrame(
                {"x": [allx.min(), allx.max()], "y": [con.limit, con.limit]}
            )
        else:
            line = pd.DataFrame(
                {"x": [con.limit, con.limit], "y": [ally.min(), ally.max()]}
            )
        limits.append((con, _xy_block(sh, c, line, f"{con.label}: x")))
        c += 3
    return _Cloud(blocks, front, vtable, limits, xs, ys, allx, ally)


def _xy_block(sh: Sheet, col: int, frame: pd.DataFrame, x_head: str) -> Table:
    """Columns x and y of ``frame`` below the chart-data heading."""
    return sh.table(
        _CHART_ROW + 1,
        col,
        frame,
        [Col("x", x_head, GENERAL), Col("y", "y", GENERAL)],
        wrap_header=False,
    )


def _variant_block(
    ctx: Context, sh: Sheet, col: int, xs: np.ndarray, ys: np.ndarray
) -> Table:
    """Label, X and Y of each charted variant."""
    where = {v: i for i, v in enumerate(ctx.variants)}
    names = ctx.plotted
    var = pd.DataFrame(
        {
            "name": [ctx.labels[n] for n in names],
            "x": [xs[where[n]] for n in names],
            "y": [ys[where[n]] for n in names],
        }
    )
    return sh.table(
        _CHART_ROW + 1,
        col,
        var,
        [
            Col("name", "Variant", "text"),
            Col("x", "x", GENERAL),
            Col("y", "y", GENERAL),
        ],
        wrap_header=False,
    )


def _cloud_layout(ctx: Context, cloud: _Cloud) -> Layout:
    """The cloud chart: samples, front, limit lines, then one point per variant."""
    prob = ctx.results.exploration.problem
    xq, yq = prob.axes()
    note = (
        " (front in all objectives, shown in the first two)"
        if len(prob.objectives) > 2
        else ""
    )
    x_title, y_title = ctx.quantity_label(xq), ctx.quantity_label(yq)
    x_bounds = padded_bounds(cloud.allx.tolist(), 0.05, 0.1)
    y_bounds = padded_bounds(cloud.ally.tolist(), 0.05, 0.1)
    return Layout(
        f"Explored designs: {y_title.split(' (')[0]} vs {x_title.split(' (')[0]}{note}",
        x_title=x_title,
        y_title=y_title,
        series=(
            *_cloud_series(ctx, cloud),
            *_variant_points(ctx, cloud, x_bounds, y_bounds),
        ),
        x_bounds=x_bounds,
        y_bounds=y_bounds,
        width=_CLOUD_W,
        height=_CLOUD_H,
        number_format=axis_format(cloud.ally),
        x_number_format=axis_format(cloud.allx),
    )


def _cloud_series(ctx: Context, cloud: _Cloud) -> list[Series]:
    """The sampled cloud (infeasible under feasible), the front, the limit lines."""
    prob = ctx.results.exploration.problem
    xq, yq = prob.axes()
    bad, ok, front = cloud.blocks["bad"], cloud.blocks["ok"], cloud.blocks["front"]
    series = [
        Series(
            bad.span("y"),
            f"Infeasible (sample of {bad.rows:,})",
            bad.span("x"),
            kind="cloud",
            color=_INFEASIBLE_COLOR,
        ),
        Series(
            ok.span("y"),
            f"Feasible (sample of {ok.rows:,})",
            ok.span("x"),
            kind="cloud",
            color=_FEASIBLE_COLOR,
        ),
    ]
    series = [s for s, t in zip(series, (bad, ok)) if t.rows > 0]
    if len(cloud.front):
        # two objectives: the front is a curve in the chart's plane; more: a set
        # of points whose projection is not monotone, so no line
        series.append(
            Series(
                front.span(yq),
                "Pareto front",
                front.span(xq),
                kind="data" if len(prob.objectives) == 2 else "marker",
                color=_FRONT_COLOR,
            )
        )
    for con, lt in cloud.limits:
        series.append(
            Series(
                lt.span("y"),
                con.label,
                lt.span("x"),
                kind="reference",
                color=ch.BUDGET_COLOR,
                line_style="dash",
            )
        )
    return series


def _variant_points(ctx: Context, cloud: _Cloud, x_bounds, y_bounds) -> list[Series]:
    """A labelled diamond per charted variant with finite X and Y.

    Labels are placed clear of each other and of the front's points.
    """
    where = {v: i for i, v in enumerate(ctx.variants)}
    vtable = cloud.variants
    shown = [
        (i, n)
        for i, n in enumerate(ctx.plotted)
        if math.isfinite(cloud.xs[where[n]]) and math.isfinite(cloud.ys[where[n]])
    ]
    xq, yq = ctx.results.exploration.problem.axes()
    sides = ["right"] * len(shown)
    if x_bounds and y_bounds:
        sides = ch.place_labels(
            [(cloud.xs[where[n]], cloud.ys[where[n]], ctx.labels[n]) for _, n in shown],
            (_CLOUD_W, _CLOUD_H - 40),  # less the legend
            x_bounds,
            y_bounds,
            obstacles=list(zip(cloud.front[xq], cloud.front[yq])),
        )
    points = []
    for (i, n), side in zip(shown, sides):
        rr = vtable.first_row + i
        points.append(
            Series(
                Span(rr, vtable.cols["y"]),
                Span(rr, vtable.cols["name"]),
                Span(rr, vtable.cols["x"]),
                kind="marker",
                color=ctx.colors[n],
                marker="diamond",
                label=True,
                label_position=side,
                label_fill=True,  # over the cloud
                legend=False,
            )
        )
    return points


def _share_layout(ctable: Table) -> Layout:
    """How often each constraint binds: violating it, and failing only it."""
    return Layout(
        "How often each constraint binds",
        x_title="Share of all points",
        series=(
            Series(
                ctable.span("violated_share"),
                "Violating it",
                ctable.span("constraint"),
                color=SHARE_TOTAL_COLOR,
            ),
            Series(
                ctable.span("alone_share"),
                "Failing only this one",
                ctable.span("constraint"),
                color=SHARE_PART_COLOR,
            ),
        ),
        width=_SHARE_W,
        height=max(220, 110 + 34 * ctable.rows),
        number_format="0%",
    )
