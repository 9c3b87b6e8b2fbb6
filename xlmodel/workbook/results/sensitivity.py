"""The Sensitivity sheet: one parameter at a time around the sweep base.

Left, one below the other: the normalised sensitivity of each sweep, the tornado
table, one table per sweep and the elasticities at every variant. Right of them:
the tornado chart, then the sweep charts (density and power on two axes, with
the target and the budget) in a grid of two.
"""

from __future__ import annotations

import numpy as np

from ...schema import BY_NAME
from ...studies.sensitivity import SEED_METRICS
from .. import charts as ch
from ..charts import Layout, Series
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, unit_format, with_unit
from .geometry import GAP_PX
from .sheet import Col, ResultSheet, Sheet, Table

# A sweep chart leaves out the density target line when the target is more than
# this many times the highest density of the sweep (it would flatten the curve).
SWEEP_TARGET_SCALE = 3.0
_CHART_W, _CHART_H = 520, 320  # pixels, every chart of the sheet
_CHANGE = "+0.0%;-0.0%;0.0%"
# A tornado parameter whose swing is below this share of the base has no effect.
_NO_EFFECT = 1e-12

# A written sweep: parameter, its unit, its table, the highest density in it.
_Sweep = tuple[str, str, Table, float]


def write(ctx: Context, sh: Sheet) -> None:
    """The tables on the left, the charts to their right."""
    study = ctx.results.study
    p = ctx.precision
    base = str(study.sweep_base)
    heads = _metric_heads(p, ctx.ops)
    sh.title(
        0,
        f"Sensitivity around {base}",
        f"One parameter at a time around the sweep base {base}; density, peak and "
        f"{ctx.ops}/W at {p}, power at 100 % utilisation.",
    )
    sh.page(1, freeze_col=0, repeat=False)
    stale_banner(ctx, sh)
    row, width_1 = _sweep_summary(ctx, sh, heads, 3)
    row, tornado, width_2 = _tornado_table(ctx, sh, row)
    row, sweeps, width_3 = _sweep_tables(ctx, sh, heads, row)
    width_4 = _elasticities(ctx, sh, heads, row)
    right = max(width_1, width_2, width_3, width_4, 1) + 1
    # the charts may print on pages of their own, from the empty column before
    sh.band_cols.append(right - 1)
    slot_y = 0
    if tornado is not None:
        table, effective, idle = tornado
        if idle:
            sh.note(2, right, _no_effect_note(ctx, idle, effective), 1, italic=True)
        if effective:
            slot_y = _tornado_chart(ctx, sh, table, effective, right) + GAP_PX
    _sweep_charts(ctx, sh, sweeps, right, slot_y)


SHEET = ResultSheet("Sensitivity", write)


def _metric_heads(p: str, o: str) -> dict[str, tuple[str, str]]:
    """Metric key -> (column title, unit)."""
    return {
        "target_density_tflops_per_mm2": ("Density", f"{o}/mm²"),
        "power_total_w": ("Power", "W"),
        "target_peak_tflops": (f"Peak {p}", o),
        "tflops_per_w": (f"{o}/W", f"{o}/W"),
    }


def _param_unit(name: str) -> str:
    p = BY_NAME.get(name)
    return p.unit if p is not None and p.unit not in ("", "text") else ""


def _sweep_summary(ctx: Context, sh: Sheet, heads: dict, row: int) -> tuple[int, int]:
    """Normalised sensitivity per sweep; returns the next row and the columns used."""
    sh.heading(
        row,
        0,
        "Normalised sensitivity of each sweep (% change of metric per % change of "
        "parameter, end to end)",
    )
    summary = ctx.results.sweep_summary
    if summary is None or summary.empty:
        sh.note(row + 1, 0, "No sweeps in this study.", 1)
        return row + 3, 0
    cols = [Col("parameter", "Parameter", "text")]
    cols += [
        Col(mk, f"{heads[mk][0]} (dimensionless)", unit_format(""))
        for mk in SEED_METRICS
        if mk in summary
    ]
    t = sh.table(row + 1, 0, summary, cols, cap_width=30)
    return t.last_row + 2, len(cols)


def _tornado_table(ctx: Context, sh: Sheet, row: int) -> tuple[int, tuple | None, int]:
    """The tornado table; returns the next row, the tornado and the columns used.

    The tornado is None without tornado parameters, else (the table, the number
    of its first rows whose parameter moves the density, the parameters that do
    not). Parameters without effect are the table's last rows: a bar of length
    zero is not a result to chart.
    """
    r = ctx.results
    study = r.study
    p = ctx.precision
    base = str(study.sweep_base)
    tornado = r.tornado.copy()
    pct = float(study.tornado_percent)
    sh.heading(
        row,
        0,
        f"Tornado: {p} density at -{pct:g} % and +{pct:g} % of each parameter "
        f"around {base}",
    )
    if tornado.empty:
        sh.note(row + 1, 0, "No tornado parameters in this study.", 1)
        return row + 3, None, 0
    tornado["unit"] = [_param_unit(x) for x in tornado["parameter"]]
    base_metric = np.abs(tornado["base_metric"].to_numpy(dtype=float))
    swing = np.abs(tornado["swing"].to_numpy(dtype=float))
    idle = ~(swing > _NO_EFFECT * np.where(np.isfinite(base_metric), base_metric, 0))
    tornado = tornado.assign(_idle=idle).sort_values("_idle", kind="stable")
    tornado = tornado.reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = tornado["base_metric"].to_numpy(dtype=float)
        okb = b != 0
        for key, src in (("d_low", "metric_low"), ("d_high", "metric_high")):
            change = tornado[src].to_numpy(dtype=float) / np.where(okb, b, 1) - 1
            # rounded so that rounding noise does not show as "-0.0 %"
            tornado[key] = np.where(okb, np.round(change, 12), np.nan)
    o = ctx.ops
    density = unit_format(f"{o}/mm²")
    cols = [
        Col("rank", "Rank", "0"),
        Col("parameter", "Parameter", "text"),
        Col("unit", "Unit", "text"),
        Col("low_value", f"Value at -{pct:g} %", GENERAL),
        Col("high_value", f"Value at +{pct:g} %", GENERAL),
        Col("metric_low", f"Density at low ({o}/mm²)", density),
        Col("metric_high", f"Density at high ({o}/mm²)", density),
        Col("base_metric", f"Density of {base} ({o}/mm²)", density),
        Col("swing", f"Swing |high - low| ({o}/mm²)", density),
        Col("d_low", f"Change at -{pct:g} % (% of base)", _CHANGE),
        Col("d_high", f"Change at +{pct:g} % (% of base)", _CHANGE),
    ]
    table = sh.table(row + 1, 0, tornado, cols, cap_width=30)
    idle_names = [str(x) for x in tornado.loc[tornado["_idle"], "parameter"]]
    effective = len(tornado) - len(idle_names)
    return table.last_row + 2, (table, effective, idle_names), len(cols)


def _no_effect_note(ctx: Context, idle: list[str], effective: int) -> str:
    pct = float(ctx.results.study.tornado_percent)
    names = ", ".join(idle)
    verb = "has" if len(idle) == 1 else "have"
    where = "not charted" if effective else "so there is no tornado chart"
    return (
        f"No effect on {ctx.precision} density at ±{pct:g} %: {names} {verb} none "
        f"({where}; the table lists {'it' if len(idle) == 1 else 'them'} last)."
    )


def _sweep_tables(
    ctx: Context, sh: Sheet, heads: dict, row: int
) -> tuple[int, list[_Sweep], int]:
    """One table per sweep; returns the next row, the sweeps and the columns used."""
    sweeps: list[_Sweep] = []
    width = 0
    points = ctx.results.sweep_points
    if points is None or points.empty:
        return row, sweeps, width
    for name, g in points.groupby("parameter", sort=False):
        g = g.reset_index(drop=True).copy()
        g["density_target"] = _base_limit(ctx, "density_target_tflops_per_mm2")
        g["budget"] = _base_limit(ctx, "power_budget_w")
        unit = _param_unit(str(name))
        sh.heading(row, 0, f"Sweep of {name}" + (f" ({unit})" if unit else ""))
        cols = [
            Col("value", with_unit(str(name), unit), GENERAL),
            *(
                Col(
                    mk, with_unit(heads[mk][0], heads[mk][1]), unit_format(heads[mk][1])
                )
                for mk in SEED_METRICS
                if mk in g
            ),
            Col(
                "density_target",
                f"Density target ({ctx.ops}/mm²)",
                unit_format(f"{ctx.ops}/mm²"),
            ),
            Col("budget", "Power budget (W)", unit_format("W")),
        ]
        t = sh.table(row + 1, 0, g, cols, cap_width=30)
        top = g["target_density_tflops_per_mm2"].max()
        sweeps.append((str(name), unit, t, top))
        row = t.last_row + 2
        width = max(width, len(cols))
    return row, sweeps, width


def _elasticities(ctx: Context, sh: Sheet, heads: dict, row: int) -> int:
    """Elasticities of every variant; returns the columns used (0: none)."""
    el = ctx.results.elasticities
    sh.heading(row, 0, "Elasticities at every variant: d ln(metric) / d ln(parameter)")
    if el is None or el.empty:
        return 0
    el = el.copy()
    el["variant"] = el["variant"].astype(str)
    cols = [
        Col("variant", "Variant", "text"),
        Col("parameter", "Parameter", "text"),
    ]
    cols += [
        Col(mk, f"{heads[mk][0]} (dimensionless)", unit_format(""))
        for mk in SEED_METRICS
        if mk in el
    ]
    sh.table(row + 1, 0, el, cols, cap_width=30)
    return len(cols)


def _tornado_chart(ctx: Context, sh: Sheet, t: Table, rows: int, col: int) -> int:
    """The tornado chart of the table's first ``rows`` at the top right.

    Returns its height in pixels.
    """
    study = ctx.results.study
    pct = float(study.tornado_percent)
    base = str(study.sweep_base)
    last = t.first_row + rows - 1
    cat = t.span("parameter", r1=last)
    layout = Layout(
        f"Tornado: {ctx.precision} density change at ±{pct:g} % around {base}",
        x_title="Change of density from base (%)",
        y_title="",
        series=(
            Series(t.span("d_low", r1=last), t.head("d_low"), cat, color="#5B9BD5"),
            Series(t.span("d_high", r1=last), t.head("d_high"), cat, color="#ED7D31"),
        ),
        width=_CHART_W,
        height=max(_CHART_H, 80 + 26 * rows),
        number_format="0%",
    )
    sh.chart(ch.add_tornado_chart, layout, 3, col)
    return layout.height


def _sweep_charts(
    ctx: Context, sh: Sheet, sweeps: list[_Sweep], col: int, top_px: int
) -> None:
    """A chart per sweep in a grid of two, ``top_px`` below the sheet's row 4."""
    cw, chh = _CHART_W, _CHART_H
    for k, (name, unit, t, top) in enumerate(sweeps):
        layout = _sweep_layout(ctx, name, unit, t, top)
        col_x = (k % 2) * (cw + GAP_PX)
        row_y = top_px + (k // 2) * (chh + GAP_PX)
        sh.chart(ch.add_dual_axis_chart, layout, 3, col, col_x, row_y)


def _sweep_layout(ctx: Context, name: str, unit: str, t: Table, top: float) -> Layout:
    """Density (and its target) on the left axis, power and budget on the right."""
    x = t.span("value")
    # A target far above the curve would flatten it to the axis: say so instead.
    target = _base_limit(ctx, "density_target_tflops_per_mm2")
    off_scale = target > SWEEP_TARGET_SCALE * top
    target_line = Series(
        t.span("density_target"),
        t.head("density_target"),
        x,
        kind="reference",
        color=ch.TARGET_COLOR,
        line_style="round_dot",
    )
    series = (
        Series(
            t.span("target_density_tflops_per_mm2"),
            t.head("target_density_tflops_per_mm2"),
            x,
            color=ch.PALETTE[0],
        ),
        *(() if off_scale else (target_line,)),
        Series(
            t.span("power_total_w"),
            t.head("power_total_w"),
            x,
            color=ch.PALETTE[1],
            secondary=True,
        ),
        Series(
            t.span("budget"),
            t.head("budget"),
            x,
            kind="reference",
            color=ch.BUDGET_COLOR,
            secondary=True,
        ),
    )
    note = f" (density target {target:g} off scale)" if off_scale else ""
    return Layout(
        f"Sweep of {name}: density and power{note}",
        x_title=with_unit(name, unit),
        y_title=f"Density ({ctx.ops}/mm²)",
        y2_title="Power (W)",
        series=series,
        width=_CHART_W,
        height=_CHART_H,
        number_format="#,##0.##",
        x_number_format="#,##0.##",
    )


def _base_limit(ctx: Context, name: str) -> float:
    """A target of the sweeps' base variant (its own, when it has one)."""
    study = ctx.results.study
    return study.target_of(name, study.sweep_base)
