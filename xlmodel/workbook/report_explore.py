"""Result sheets of the studies beyond the variants: Exploration, Global sensitivity,
Uncertainty.

Written by :func:`xlmodel.workbook.report.write_results` through the same sheet
helpers as the other result sheets (tables, number formats, native charts on the
sheet's own cells, one-page-wide printing). The Exploration sheet's designs table
carries the sheet-scoped defined name ``DESIGNS_NAME`` at its header, which
``xlmodel adopt`` reads back.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ..schema import BY_NAME
from ..studies.explore import ACTIVE_TOLERANCE, quantity_unit
from ..studies.uncertainty import CDF_PERCENTILES, QUANTITIES
from . import charts as ch
from .charts import Layout, Series, Span
from .reader_explore import BASE_LABEL, DESIGNS_NAME
from .report import (
    _GAP_PX,
    GENERAL,
    _chart_rows,
    _Col,
    _Context,
    _fmt,
    _Sheet,
)

#: Most designs written on the Exploration sheet (the top K and the front thinned).
MAX_DESIGN_ROWS = 1000
_FRONT_COLOR = "#C0392B"
_FEASIBLE_COLOR = "#9DC3E6"
_INFEASIBLE_COLOR = "#C9C9C9"
_S1_COLOR = "#1F3A5F"
_ST_COLOR = "#9DC3E6"


def present(results) -> dict[str, bool]:
    """Which of this module's sheets the results call for."""
    return {
        "Global sensitivity": results.global_sensitivity is not None,
        "Exploration": results.exploration is not None,
        "Uncertainty": results.uncertainty is not None,
    }


def _label(ctx: _Context, name: str) -> str:
    """A quantity as an axis or column title, with its unit."""
    p = ctx.precision
    known = {
        "target_density_tflops_per_mm2": f"{p} density",
        "target_peak_tflops": f"Peak {p}",
        "tflops_per_w": f"{p} TFLOPS/W",
        "power_total_w": "Power",
        "junction_temp_c": "Tj",
        "total_area_mm2": "Total compute area",
    }
    unit = quantity_unit(name)
    text = known.get(name, name)
    if name == "tflops_per_w":
        return text
    return f"{text} ({unit})" if unit else text


def _key_head(name: str) -> str:
    unit = quantity_unit(name)
    return f"{name} ({unit})" if unit else name


def _num(name: str) -> str:
    p = BY_NAME.get(name)
    if p is not None and p.kind == "int":
        return "#,##0"
    return _fmt(quantity_unit(name))


def _values(ctx: _Context, name: str) -> np.ndarray:
    """A quantity at every variant (a metric, else a parameter)."""
    r = ctx.results
    frame = r.metrics if name in r.metrics else r.study.variants
    return frame[name].to_numpy(dtype=np.float64)


def _axis_format(values) -> str:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    top = float(np.abs(v).max()) if len(v) else 1.0
    return "#,##0" if top >= 100 else "0.0" if top >= 10 else "0.00"


# --- Exploration --------------------------------------------------------------------


def exploration_sheet(ctx: _Context, sh: _Sheet) -> None:
    """The front and the top designs, constraint counts, the cloud chart."""
    r = ctx.results
    ex, setup = r.exploration, r.study.exploration
    prob = ex.problem
    base = setup.base_variant
    xq, yq = prob.axes()
    how = {
        "grid": "full grid",
        "lhs": f"Latin hypercube, seed {prob.seed}",
        "random": f"uniform random, seed {prob.seed}",
    }[prob.method]
    share = ex.feasible / max(ex.points, 1)
    objectives = ", ".join(
        f"{o.sense} {_label(ctx, o.quantity)}" for o in prob.objectives
    )
    sh.title(
        0,
        f"Design-space exploration around {base}",
        f"{ex.points:,} points ({how}) · {ex.feasible:,} feasible ({share:.1%}) · "
        f"Pareto front of {ex.front_size:,} design{'s' * (ex.front_size != 1)} · "
        f"objectives: {objectives}",
    )
    sh.page(1, freeze_col=0, repeat=False)
    cw, chh = 700, 440
    bw = 460
    chart_row = 3
    row = chart_row + _chart_rows(chh) + 1

    # Constraints and how often they bind.
    sh.heading(row, 0, "Constraints: how often each one binds")
    cons = ex.constraints
    ctable = None
    if len(cons):
        cols = [
            _Col("constraint", "Constraint", "text"),
            _Col("violated", "Points violating it", "#,##0"),
            _Col("violated_share", "Share of all points", "0.0%"),
            _Col("alone", "Points failing only this one", "#,##0"),
            _Col("alone_share", "Share failing only this one", "0.0%"),
            _Col(
                "active_on_front",
                f"Front designs at the limit (±{ACTIVE_TOLERANCE:.0%})",
                "#,##0",
            ),
        ]
        frame = cons.assign(alone_share=cons["alone"] / max(ex.points, 1))
        ctable = sh.table(row + 1, 0, frame, cols, cap_width=30)
        row = ctable.last_row + 2
    else:
        sh.note(row + 1, 0, "No constraints: every point with finite objectives is "
                "feasible.", 1)  # fmt: skip
        row += 3

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
        }
    )
    rcols = [
        _Col("parameter", "Parameter", "text"),
        _Col("unit", "Unit", "text"),
        _Col("low", "Low", GENERAL),
        _Col("high", "High", GENERAL),
        _Col("values", "Grid values", "#,##0"),
    ]
    t = sh.table(row + 1, 0, ranges, rcols, cap_width=30)
    row = t.last_row + 2

    # The designs: front and top K.
    designs = _shown_designs(ex.designs)
    thinned = len(designs) < len(ex.designs)
    sh.heading(
        row,
        0,
        f"Pareto front and top {prob.top_k} designs, best first by "
        f"{_label(ctx, prob.objectives[0].quantity)}",
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
    sh.ws.write_string(row + 2, 1, base, ctx.fmt())
    shown = designs.reset_index()
    shown["on_front"] = shown["on_front"].astype(bool)
    shown["top_rank"] = [int(v) if v > 0 else "" for v in shown["top_rank"]]
    dcols = [
        _Col("design", "Design", "0"),
        _Col("on_front", "On front", "yes", center=True),
        _Col("top_rank", "Top rank", "0"),
    ]
    params = prob.names
    dcols += [_Col(n, _key_head(n), _num(n)) for n in params]
    dcols += [
        _Col(q, _key_head(q), _num(q))
        for q in designs.columns
        if q not in params and q not in ("point", "on_front", "top_rank")
    ]
    dcols.append(_Col("point", "Point #", "0"))
    front_rows = set(np.flatnonzero(shown["on_front"].to_numpy()))
    dtable = sh.table(row + 3, 0, shown, dcols, highlight=front_rows, cap_width=22)
    anchor = "=" + quote_sheetname(sh.name) + "!"
    anchor += xl_rowcol_to_cell(dtable.header_row, 0, row_abs=True, col_abs=True)
    if ctx.workbook.define_name(f"'{sh.name}'!{DESIGNS_NAME}", anchor) != 0:
        raise ValueError(f"sheet {sh.name!r}: cannot name the designs table")
    data_col = len(dcols) + 2

    # Chart data, right of the designs table.
    sh.heading(chart_row, data_col, "Chart data")
    c = data_col
    blocks = {}
    cloud = ex.cloud
    for key, feasible, label in (
        ("ok", True, "Feasible (sample)"),
        ("bad", False, "Infeasible (sample)"),
    ):
        part = cloud[cloud["feasible"] == feasible]
        blocks[key] = sh.table(
            chart_row + 1,
            c,
            part,
            [_Col("x", f"{label}: x", GENERAL), _Col("y", "y", GENERAL)],
            wrap_header=False,
        )
        c += 3
    front = shown[shown["on_front"]].sort_values(xq, kind="stable")
    blocks["front"] = sh.table(
        chart_row + 1,
        c,
        front,
        [_Col(xq, "Front: x", GENERAL), _Col(yq, "y", GENERAL)],
        wrap_header=False,
    )
    c += 3
    names = ctx.plotted
    xs = _values(ctx, xq)
    ys = _values(ctx, yq)
    where = {v: i for i, v in enumerate(ctx.variants)}
    var = pd.DataFrame(
        {
            "name": [ctx.labels[n] for n in names],
            "x": [xs[where[n]] for n in names],
            "y": [ys[where[n]] for n in names],
        }
    )
    vtable = sh.table(
        chart_row + 1,
        c,
        var,
        [
            _Col("name", "Variant", "text"),
            _Col("x", "x", GENERAL),
            _Col("y", "y", GENERAL),
        ],
        wrap_header=False,
    )
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
        lt = sh.table(
            chart_row + 1,
            c,
            line,
            [_Col("x", f"{con.label}: x", GENERAL), _Col("y", "y", GENERAL)],
            wrap_header=False,
        )
        limits.append((con, lt))
        c += 3

    series = [
        Series(
            blocks["bad"].span("y"),
            f"Infeasible (sample of {blocks['bad'].rows:,})",
            blocks["bad"].span("x"),
            kind="cloud",
            color=_INFEASIBLE_COLOR,
        ),
        Series(
            blocks["ok"].span("y"),
            f"Feasible (sample of {blocks['ok'].rows:,})",
            blocks["ok"].span("x"),
            kind="cloud",
            color=_FEASIBLE_COLOR,
        ),
    ]
    series = [s for s, t in zip(series, (blocks["bad"], blocks["ok"])) if t.rows > 0]
    if len(front):
        # two objectives: the front is a curve in the chart's plane; more: a set
        # of points whose projection is not monotone, so no line
        series.append(
            Series(
                blocks["front"].span(yq),
                "Pareto front",
                blocks["front"].span(xq),
                kind="data" if len(prob.objectives) == 2 else "marker",
                color=_FRONT_COLOR,
            )
        )
    for con, lt in limits:
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
    for i, n in enumerate(names):
        if not (math.isfinite(xs[where[n]]) and math.isfinite(ys[where[n]])):
            continue
        rr = vtable.first_row + i
        series.append(
            Series(
                Span(rr, vtable.cols["y"]),
                Span(rr, vtable.cols["name"]),
                Span(rr, vtable.cols["x"]),
                kind="marker",
                color=ctx.colors[n],
                marker="diamond",
                label=True,
                legend=False,
            )
        )
    note = (
        " (front in all objectives, shown in the first two)"
        if len(prob.objectives) > 2
        else ""
    )
    layout = Layout(
        f"Explored designs: {_label(ctx, yq).split(' (')[0]} vs "
        f"{_label(ctx, xq).split(' (')[0]}{note}",
        x_title=_label(ctx, xq),
        y_title=_label(ctx, yq),
        series=tuple(series),
        width=cw,
        height=chh,
        number_format=_axis_format(ally),
        x_number_format=_axis_format(allx),
    )
    sh.chart(ch.add_cloud_chart, layout, chart_row, 0)

    if ctable is not None:
        share_layout = Layout(
            "How often each constraint binds",
            x_title="Share of all points",
            series=(
                Series(
                    ctable.span("violated_share"),
                    "Violating it",
                    ctable.span("constraint"),
                    color=_ST_COLOR,
                ),
                Series(
                    ctable.span("alone_share"),
                    "Failing only this one",
                    ctable.span("constraint"),
                    color=_S1_COLOR,
                ),
            ),
            width=bw,
            height=max(220, 110 + 34 * ctable.rows),
            number_format="0%",
        )
        sh.chart(ch.add_share_chart, share_layout, chart_row, 0, cw + _GAP_PX, 0)
    sh.print_limit = (dtable.last_row, data_col - 2)


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


# --- Global sensitivity -------------------------------------------------------------


def global_sensitivity_sheet(ctx: _Context, sh: _Sheet) -> None:
    """Sobol first- and total-order indices per quantity, with bar charts."""
    r = ctx.results
    gs, setup = r.global_sensitivity, r.study.exploration
    prob = setup.problem
    n, k = setup.sobol_samples, len(prob.ranges)
    sh.title(
        0,
        f"Global sensitivity around {setup.base_variant}: Sobol indices",
        f"Every explored parameter varies at once, uniformly over its range "
        f"(Exploration setup): {n:,} base samples, {n * (k + 2):,} model runs, "
        f"seed {prob.seed}; whole-number parameters are treated as continuous.",
    )
    sh.note(
        2,
        0,
        "S1: share of the variance the parameter explains alone. ST: including its "
        "interactions with the others. ST - S1: what only interactions explain, "
        "which the one-at-a-time sweeps and the tornado (Sensitivity) cannot see. "
        "± is a 95 % bootstrap half-width.",
        10,
        italic=True,
    )
    sh.page(1, freeze_col=0, repeat=False)
    bounds = {rg.name: (rg.low, rg.high) for rg in prob.ranges}
    row = 4
    cols = [
        _Col("parameter", "Parameter", "text"),
        _Col("low", "Low", GENERAL),
        _Col("high", "High", GENERAL),
        _Col("S1", "S1 (first order)", "0.000"),
        _Col("S1_conf", "± S1", "0.000"),
        _Col("ST", "ST (total order)", "0.000"),
        _Col("ST_conf", "± ST", "0.000"),
        _Col("interaction", "ST - S1 (interactions)", "0.000"),
    ]
    tables = []
    for q, g in gs.groupby("quantity", sort=False):
        g = g.sort_values("ST", ascending=False, kind="stable").copy()
        g["low"] = [bounds[p][0] for p in g["parameter"]]
        g["high"] = [bounds[p][1] for p in g["parameter"]]
        sh.heading(row, 0, _label(ctx, str(q)))
        t = sh.table(row + 1, 0, g, cols, cap_width=24)
        tables.append((str(q), t))
        row = t.last_row + 2
    right = len(cols) + 1
    y = 0
    for q, t in tables:
        height = max(220, 100 + 30 * t.rows)
        layout = Layout(
            f"Sobol indices of {_label(ctx, q).split(' (')[0]}",
            x_title="Share of variance",
            series=(
                Series(
                    t.span("ST"),
                    "ST: with interactions",
                    t.span("parameter"),
                    color=_ST_COLOR,
                ),
                Series(t.span("S1"), "S1: alone", t.span("parameter"), color=_S1_COLOR),
            ),  # fmt: skip
            width=520,
            height=height,
            number_format="0.0",
        )
        sh.chart(ch.add_share_chart, layout, 4, right, 0, y)
        y += height + _GAP_PX


# --- Uncertainty --------------------------------------------------------------------


def uncertainty_sheet(ctx: _Context, sh: _Sheet) -> None:
    """P10/P50/P90 and target probabilities per variant, with CDF charts."""
    r = ctx.results
    u = r.uncertainty
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
    s = u.summary.copy()
    s.insert(0, "variant", [str(v) for v in s.index])
    heads = {
        "target_density_tflops_per_mm2": (f"{ctx.precision} density", "TFLOPS/mm²"),
        "power_total_w": ("Power", "W"),
        "tflops_per_w": (f"{ctx.precision} TFLOPS/W", "TFLOPS/W"),
        "junction_temp_c": ("Tj", "°C"),
    }
    cols = [_Col("variant", "Variant", "text")]
    for q in QUANTITIES:
        label, unit = heads[q]
        for p in ("p10", "p50", "p90"):
            head = f"{label} {p.upper()}" + (
                "" if label.endswith(unit) else f" ({unit})"
            )
            cols.append(_Col(f"{q}_{p}", head, _fmt(unit)))
    cols += [
        _Col("p_meets_density_target", "P(density target met)", "0.0%"),
        _Col("p_meets_power_budget", "P(within power budget)", "0.0%"),
        _Col("p_meets_tj_max", "P(Tj within max)", "0.0%"),
        _Col("p_meets_all_targets", "P(all targets met)", "0.0%"),
    ]
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
            _Col("parameter", "Parameter", "text"),
            _Col("unit", "Unit", "text"),
            _Col("distribution", "Distribution", "text"),
            _Col("percent", "Spread (±%, or 1 σ)", "0.0"),
        ],
    )
    row = t.last_row + 2

    # CDF chart data, right of the tables: a column per charted variant, a row
    # per percentile.
    charts_row = row
    cw, chh = 520, 320
    data_row, data_col = 3, len(cols) + 1
    limits = {
        "power_total_w": ("Power budget", ctx.budget),
        "target_density_tflops_per_mm2": ("Density target", ctx.density_target),
        "tflops_per_w": None,
    }
    names = ctx.plotted
    for k, q in enumerate(("power_total_w", "target_density_tflops_per_mm2",
                           "tflops_per_w")):  # fmt: skip
        cdf = u.cdf[q]
        frame = pd.DataFrame({"prob": np.asarray(CDF_PERCENTILES) / 100.0})
        for n in names:
            frame[n] = cdf[n].to_numpy(dtype=np.float64)
        label, unit = heads[q]
        sh.heading(
            data_row, data_col, f"Chart data: cumulative distribution of {label}"
        )
        ccols = [_Col("prob", "Cumulative probability", "0%")]
        ccols += [_Col(n, ctx.labels[n], _fmt(unit)) for n in names]
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
        limit = limits.get(q)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        if limit is not None and lo - (hi - lo) <= limit[1] <= hi + (hi - lo):
            line = pd.DataFrame({"x": [limit[1]] * 2, "y": [0.0, 1.0]})
            lt = sh.table(
                data_row,
                data_col,
                line,
                [_Col("x", f"{limit[0]}: x", GENERAL), _Col("y", "y", "0%")],
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
            width=cw,
            height=chh + 18 * math.ceil((len(series)) / 3),
            number_format="0%",
            x_number_format=_axis_format(values),
        )
        sh.chart(ch.add_curve_chart, layout, charts_row, 0, k * (cw + _GAP_PX), 0)
    sh.print_limit = (row, data_col - 2)
