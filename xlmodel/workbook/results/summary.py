"""The Summary sheet: every variant against the targets, the recommendation, charts.

A headline (the advice of :mod:`.advice`: the banner, the recommendation or the
ranking, what it would take, the power model and the implausible inputs, the
seed's statements as facts; then the first warnings), one table of every variant
against the density target, the power budget and Tj max with its peak and its
workload-mix throughput, the table of one-parameter changes, and four charts in
a grid of two: density vs target, power vs budget, TFLOPS/W, and area vs peak.
When the charts leave variants out or shorten their names, a chart-data block of
the plotted variants follows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...engine.symbolic import Expr
from ...studies.advice import figure_words
from ...studies.run import Results
from .. import charts as ch
from ..charts import Layout, Series, Span
from . import advice, cost, live
from .banner import stale_banner
from .context import Context
from .formats import BEST_FILL, unit_format
from .geometry import GAP_PX, chart_rows, chart_width, padded_bounds
from .sheet import Col, ResultSheet, Sheet, Table

SUMMARY_WARNING_LINES = 5


def write(ctx: Context, sh: Sheet) -> None:
    """Headline, the table of every variant, then the charts below it."""
    frame = _frame(ctx.results).assign(**advice.frame_columns(ctx))
    cols = _columns(ctx.precision, ctx.ops, ctx.results.advice.merit)
    row = _headline(ctx, sh, len(cols))
    stale_banner(ctx, sh)
    table = _table(ctx, sh, frame, cols, row + 1)
    live_cells = _live(ctx, sh, frame, cols, table)
    advice.mark_implausible(ctx, sh, table, frame)
    note = LIVE_NOTE if live_cells else VALUES_NOTE
    sh.note(table.last_row + 2, 0, note, len(cols), italic=True)
    row = advice.cost_note(ctx, sh, table.last_row + 3, len(cols))
    row = advice.table_note(ctx, sh, row, len(cols))
    row = advice.reach_table(ctx, sh, row + 1)
    _charts(ctx, sh, frame, cols, table, row)


SHEET = ResultSheet("Summary", write)

#: The line saying which cells follow the inputs.
LIVE_NOTE = (
    "Live (formulas over the input cells): peak, density, power, TFLOPS/W, unit "
    "cost, TFLOPS per USD, Tj, area, targets, margins, PASS/FAIL; the rest are values."
)
VALUES_NOTE = "Every figure on this sheet is a value of the last compute."

# table column -> the metric it shows (at 100 % utilisation)
_METRIC_OF = {
    "peak": "target_peak_tflops",
    "density": "target_density_tflops_per_mm2",
    "density_ratio": "density_margin",
    "density_ok": "meets_density_target",
    "power": "power_total_w",
    "power_ok": "meets_power_budget",
    "tflops_per_w": "tflops_per_w",
    "unit_cost": "unit_cost_usd",
    "tj": "junction_temp_c",
    "tj_ok": "meets_tj_max",
    "all_ok": "meets_all_targets",
    "area": "total_area_mm2",
}
# table column -> the input parameter it shows
_INPUT_OF = {
    "density_target": "density_target_tflops_per_mm2",
    "budget": "power_budget_w",
    "tj_max": "tj_max_c",
}


def _power_ratio(power, budget):
    """Total power as a share of the power budget (1 = at the budget)."""
    return power / budget


def _tj_headroom(tj_max, tj):
    """Tj max minus Tj (°C)."""
    return tj_max - tj


def _live(ctx: Context, sh: Sheet, frame: pd.DataFrame, cols: list[Col], t: Table):
    """The figures closed-form in the inputs as formulas over the input cells,
    the engine's values cached; returns whether any cell went live.

    A figure shown in the row stands in for its equation in the others (the
    checks compare the row's density, power and Tj with its targets); the unit
    cost refers to the Cost sheet's cell when that sheet is live. The ratios,
    the Tj headroom and TFLOPS per USD are the sheet's own equations over the
    row's cells.
    """
    if len(frame) > live.ROW_LIMIT:
        return False
    lv = live.Live.of(ctx)
    fmt = {c.key: c.fmt for c in cols}
    best = advice.subject_rows(ctx, frame)
    column = {k: frame[k].to_numpy() for k in frame.columns}  # cell by cell below
    on_cost = cost.live_breakdown(ctx)
    cost_row = {}
    if on_cost:
        order = [str(v) for v in ctx.results.cost.breakdown.index]
        cost_row = {name: i for i, name in enumerate(order)}
    wrote = False
    variants = list(frame["variant"])
    metrics = [m for k, m in _METRIC_OF.items() if k in t.cols]
    requests = []
    for i, variant in enumerate(variants):
        r = t.first_row + i
        # an input's cell: a formula or the value used
        shown = {param: live.cell(r, t.cols[key]) for key, param in _INPUT_OF.items()}
        cells = {
            m: live.cell(r, t.cols[k])
            for k, m in _METRIC_OF.items()
            if not m.startswith("meets_") and k in t.cols
        }
        requests.append((variant, metrics, cells, 1.0, shown))
    for i, formulas in enumerate(lv.formulas_many(requests)):
        variant = variants[i]
        shown = requests[i][4]
        r = t.first_row + i
        props = {"bold": True, "bg_color": BEST_FILL} if i in best else {}
        refs = lv.sources.get(variant, {})
        for key, param in _INPUT_OF.items():
            live.write_input(
                ctx,
                sh.ws,
                r,
                t.cols[key],
                refs.get(param),
                column[key][i],
                fmt[key],
                props,
            )
        unit = formulas.get("unit_cost_usd")
        if variant in cost_row and isinstance(unit, Expr):
            # the Cost sheet's cell holds the same formula: refer to it, as it
            # is (its n/a or #N/A shows through); a unit cost that stays a value
            # there (a node-table fill) stays one here, and so does TFLOPS per USD
            ref = cost.breakdown_cell(cost_row[variant], "unit_cost_usd", "Cost")
            formulas["unit_cost_usd"] = Expr(ref, unit.value)
        out = {k: formulas.get(m) for k, m in _METRIC_OF.items() if k in t.cols}
        mine = {k: _at(live.cell(r, t.cols[k]), e) for k, e in out.items()}
        mine = {k: e for k, e in mine.items() if e is not None}
        for key, param in _INPUT_OF.items():
            mine[key] = Expr.leaf(shown[param], column[key][i])
        if "power" in mine and "budget" in mine:
            out["power_ratio"] = _power_ratio(mine["power"], mine["budget"])
        if "tj" in mine and "tj_max" in mine:
            out["tj_headroom"] = _tj_headroom(mine["tj_max"], mine["tj"])
        if "peak" in mine and "unit_cost" in mine and "tflops_per_usd" in t.cols:
            # the scores' equation where the unit cost is positive (always: a
            # cost of 0 is n/a both ways)
            out["tflops_per_usd"] = cost.per_usd(mine["peak"], mine["unit_cost"])
        for key, e in out.items():
            wrote |= live.write(
                ctx, sh.ws, r, t.cols[key], e, column[key][i], fmt[key], props
            )
    return wrote


def _at(ref: str, e) -> Expr | None:
    """The cell ``ref`` showing ``e`` (its value, guards and error branch);
    None when ``e`` is not a formula."""
    if not isinstance(e, Expr):
        return None
    return Expr(ref, e.value, guards=e.guards, fallible=e.fallible)


def _frame(r: Results) -> pd.DataFrame:
    """One row per variant: the figures judged and how they compare to the targets."""
    t = r.comparison.table
    v = r.study.variants
    m = r.metrics
    dtarget = v["density_target_tflops_per_mm2"].astype(float).to_numpy()
    budget = v["power_budget_w"].astype(float).to_numpy()
    tjmax = v["tj_max_c"].astype(float).to_numpy()
    density = t["target_density_tflops_per_mm2"].to_numpy(dtype=float)
    power = t["power_total_w"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_ratio = np.where(
            dtarget > 0, density / np.where(dtarget > 0, dtarget, 1), np.nan
        )
        p_ratio = _power_ratio(power, budget)
    return pd.DataFrame(
        {
            "variant": [str(x) for x in t.index],
            "peak": t["target_peak_tflops"].to_numpy(dtype=float),
            "density": density,
            "density_target": dtarget,
            "density_ratio": d_ratio,
            "density_ok": t["meets_density_target"].to_numpy(),
            "power": power,
            "budget": budget,
            "power_ratio": p_ratio,
            "power_ok": t["meets_power_budget"].to_numpy(),
            "tflops_per_w": t["tflops_per_w"].to_numpy(dtype=float),
            "tj": t["junction_temp_c"].to_numpy(dtype=float),
            "tj_max": tjmax,
            "tj_headroom": _tj_headroom(
                tjmax, t["junction_temp_c"].to_numpy(dtype=float)
            ),
            "tj_ok": t["meets_tj_max"].to_numpy(),
            "all_ok": t["meets_all_targets"].to_numpy(),
            "area": m["total_area_mm2"].to_numpy(dtype=float),
        }
    )


def _columns(p: str, o: str, merit: tuple[str, str] | None = None) -> list[Col]:
    """The table's columns, at precision ``p`` (``o``: TFLOPS or TOPS), with the
    serving figures of ``merit`` (model, scenario) when the study serves models."""
    more = advice.columns(p, o, merit)
    serving = [more[k] for k in ("tokens_per_s", "tokens_per_s_per_usd") if k in more]
    return [
        Col("variant", "Variant", "text"),
        Col("peak", f"Peak {p} ({o})", unit_format(o)),
        more["mix"],
        more["mix_share"],
        Col("density", f"Density {p} ({o}/mm²)", unit_format(f"{o}/mm²")),
        Col("density_target", f"Density target ({o}/mm²)", unit_format(f"{o}/mm²")),
        Col("density_ratio", "Density vs target (% of target)", '0%" of target"'),
        Col("density_ok", "Density target met", "pass"),
        Col("power", "Power at 100 % (W)", unit_format("W")),
        more["power_model"],
        more["power_other"],
        Col("budget", "Power budget (W)", unit_format("W")),
        Col("power_ratio", "Power vs budget (% of budget)", "0%"),
        Col("power_ok", "Within power budget", "pass"),
        Col("tflops_per_w", f"{p} {o}/W", unit_format(f"{o}/W")),
        more["mix_per_w"],
        more["unit_cost"],
        more["tflops_per_usd"],
        *serving,
        Col("tj", "Tj (°C)", unit_format("°C")),
        Col("tj_max", "Tj max (°C)", unit_format("°C")),
        Col("tj_headroom", "Tj headroom (°C)", unit_format("°C")),
        Col("tj_ok", "Tj within max", "pass"),
        Col("all_ok", "All targets met", "pass"),
        more["shortfall"],
        Col("area", "Total compute area (mm²)", unit_format("mm²")),
        more["rank"],
        more["recommended"],
        more["caveats"],
    ]


def _headline(ctx: Context, sh: Sheet, width: int) -> int:
    """Title, the advice and the warnings; returns the next free row."""
    r = ctx.results
    n = len(r.comparison.table)
    p = ctx.precision
    a = r.advice
    mix = (
        f"equal shares of {len(a.shares)} workloads"
        if len(set(a.shares.values())) <= 1
        else f"{len(a.shares)} weighted workloads"
    )
    label = figure_words(a, r.study.variants)[0]
    sub = (
        f"{n} variant{'s' if n != 1 else ''} · judged at {p} · density target "
        f"{ctx.limit_text('density_target_tflops_per_mm2', ctx.ops + '/mm²')} · "
        f"power budget {ctx.limit_text('power_budget_w', 'W')} · "
        f"Tj max {ctx.limit_text('tj_max_c', '°C')} · figure of merit: {label} · "
        f"workload mix: {mix}"
    )
    sh.title(0, "Architecture comparison", sub)
    row = advice.headline(ctx, sh, 3, width)
    return _warnings(sh, row, list(r.study.warnings), width)


def _warnings(sh: Sheet, row: int, warnings: list[str], width: int) -> int:
    """The first ``SUMMARY_WARNING_LINES`` warnings; returns the next free row."""
    if not warnings:
        sh.note(row, 0, "Warnings: none.", 1)
        return row + 1
    sh.note(row, 0, f"Warnings ({len(warnings)}):", 1, bold=True, font_color="#9C5700")
    row += 1
    shown = warnings[:SUMMARY_WARNING_LINES]
    for w in shown:
        sh.note(row, 0, f"• {w}", width, font_color="#9C5700")
        row += 1
    if len(warnings) > len(shown):
        more = len(warnings) - len(shown)
        sh.note(row, 0, f"… and {more} more: see the Run sheet.", width)
        row += 1
    return row


def _table(
    ctx: Context, sh: Sheet, frame: pd.DataFrame, cols: list[Col], row: int
) -> Table:
    """The table at ``row``: the recommended or closest row highlighted, PASS/FAIL,
    density bars."""
    best_rows = advice.subject_rows(ctx, frame)
    table = sh.table(row, 0, frame, cols, highlight=best_rows, cap_width=30)
    sh.pass_fail(table, ["density_ok", "power_ok", "tj_ok", "all_ok"])
    if table.rows > 0:
        c = table.cols["density"]
        sh.ws.conditional_format(
            table.first_row,
            c,
            table.last_row,
            c,
            {
                "type": "data_bar",
                "bar_color": "#63BE7B",
                "data_bar_2010": False,  # no x14 extension: every reader knows it
                "min_type": "num",
                "min_value": 0,
            },
        )
    sh.page(table.header_row)
    return table


def _charts(
    ctx: Context,
    sh: Sheet,
    frame: pd.DataFrame,
    cols: list[Col],
    table: Table,
    row: int,
) -> None:
    """The four charts from ``row``, on the table or on a chart-data block."""
    width = len(cols)
    if ctx.capped:
        sh.note(row, 0, ctx.cap_note("The charts below"), width, italic=True)
        row += 1
    cw = chart_width(sh, range(width), lo=460, hi=680)
    chh = 330
    grid_row = row
    row += 2 * chart_rows(chh) + 1
    if ctx.capped or ctx.shortened:
        sh.heading(row, 0, "Chart data: the plotted variants, with short chart labels")
        keep = [i for i, x in enumerate(frame["variant"]) if x in set(ctx.plotted)]
        block = frame.iloc[keep].reset_index(drop=True)
        block["label"] = [ctx.labels[x] for x in block["variant"]]
        data = sh.table(row + 1, 0, block, [*cols, Col("label", "Chart label", "text")])
        cat = data.span("label")
        names = list(block["variant"])
    else:
        data = table
        cat = data.span("variant")
        names = list(frame["variant"])
    panels = _column_panels(
        ctx.precision,
        ctx.ops,
        data,
        cat,
        cw,
        chh,
        ctx.varies("density_target_tflops_per_mm2"),
        ctx.varies("power_budget_w"),
    )
    panels.append(_area_panel(ctx, frame, data, cat, names, cw, chh))
    builders = [ch.add_column_chart, ch.add_column_chart, ch.add_column_chart]
    builders.append(ch.add_scatter_chart)
    for k, (builder, layout) in enumerate(zip(builders, panels)):
        x = (k % 2) * (cw + GAP_PX)
        y = (k // 2) * (chh + GAP_PX)
        sh.chart(builder, layout, grid_row, 0, x, y)


def _column_panels(
    p: str,
    o: str,
    data: Table,
    cat: Span,
    cw: int,
    chh: int,
    targets_vary: bool = False,
    budgets_vary: bool = False,
) -> list[Layout]:
    """Density vs target, power vs budget, TFLOPS/W: one column per variant
    (a target or budget that differs per variant: a dash at each column)."""
    return [
        Layout(
            f"Compute density vs target ({p})",
            y_title=f"{o}/mm²",
            series=(
                Series(
                    data.span("density"), data.head("density"), cat, color=ch.PALETTE[0]
                ),
                Series(
                    data.span("density_target"),
                    data.head("density_target"),
                    cat,
                    kind="reference",
                    color=ch.TARGET_COLOR,
                    line_style="round_dot",
                    steps=targets_vary,
                ),
            ),
            width=cw,
            height=chh,
            number_format="0.00",
        ),
        Layout(
            "Power vs budget (100 % utilisation)",
            y_title="Power (W)",
            series=(
                Series(
                    data.span("power"), data.head("power"), cat, color=ch.PALETTE[1]
                ),
                Series(
                    data.span("budget"),
                    data.head("budget"),
                    cat,
                    kind="reference",
                    color=ch.BUDGET_COLOR,
                    steps=budgets_vary,
                ),
            ),
            width=cw,
            height=chh,
            number_format="#,##0",
        ),
        Layout(
            f"Power efficiency ({p} {o}/W)",
            y_title=f"{o}/W",
            series=(
                Series(
                    data.span("tflops_per_w"),
                    data.head("tflops_per_w"),
                    cat,
                    color=ch.PALETTE[2],
                ),
            ),
            width=cw,
            height=chh,
            number_format="0.00",
        ),
    ]


def _area_panel(
    ctx: Context,
    frame: pd.DataFrame,
    data: Table,
    cat: Span,
    names: list[str],
    cw: int,
    chh: int,
) -> Layout:
    """Area vs peak: one labelled point per charted variant."""
    p = ctx.precision
    by_name = frame.set_index("variant")
    xy = [(float(by_name.at[n, "area"]), float(by_name.at[n, "peak"])) for n in names]
    x_bounds = padded_bounds([x for x, _ in xy if math.isfinite(x)], 0.2, 0.3)
    y_bounds = padded_bounds([y for _, y in xy if math.isfinite(y)], 0.1, 0.15)
    where = ["right"] * len(names)
    if x_bounds and y_bounds:
        where = ch.place_labels(
            [(x, y, ctx.labels.get(n, n)) for (x, y), n in zip(xy, names)],
            (cw, chh),
            x_bounds,
            y_bounds,
        )
    points = tuple(
        Series(
            Span(data.first_row + i, data.cols["peak"]),
            Span(data.first_row + i, cat.c0),
            Span(data.first_row + i, data.cols["area"]),
            kind="marker",
            color=ctx.colors.get(name),
            label=True,
            label_position=where[i],
            legend=False,
        )
        for i, name in enumerate(names)
    )
    return Layout(
        f"Area vs performance ({p})",
        x_title="Total compute area (mm²)",
        y_title=f"Peak {p} ({ctx.ops})",
        series=points,
        x_bounds=x_bounds,
        y_bounds=y_bounds,
        width=cw,
        height=chh,
        number_format="#,##0",
        x_number_format="#,##0",
    )
