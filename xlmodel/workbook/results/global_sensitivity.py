"""The Global sensitivity sheet: Sobol indices per quantity, with bar charts.

Every explored parameter (Exploration setup) varies at once; one table per
quantity (S1, ST, their bootstrap half-widths and ST - S1) and, right of the
tables, one share chart per quantity (ST light, S1 dark over it). Written only
when the study asked for Sobol indices.
"""

from __future__ import annotations

from ...studies.run import Results
from .. import charts as ch
from ..charts import Layout, Series
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, SHARE_PART_COLOR, SHARE_TOTAL_COLOR
from .geometry import GAP_PX
from .sheet import Col, ResultSheet, Sheet

_COLUMNS = [
    Col("parameter", "Parameter", "text"),
    Col("low", "Low", GENERAL),
    Col("high", "High", GENERAL),
    Col("S1", "S1 (first order)", "0.000"),
    Col("S1_conf", "± S1", "0.000"),
    Col("ST", "ST (total order)", "0.000"),
    Col("ST_conf", "± ST", "0.000"),
    Col("interaction", "ST - S1 (interactions)", "0.000"),
]


def present(results: Results) -> bool:
    return results.global_sensitivity is not None


def write(ctx: Context, sh: Sheet) -> None:
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
    stale_banner(ctx, sh, 3)
    bounds = {rg.name: (rg.low, rg.high) for rg in prob.ranges}
    row = 4
    tables = []
    for q, g in gs.groupby("quantity", sort=False):
        g = g.sort_values("ST", ascending=False, kind="stable").copy()
        g["low"] = [bounds[p][0] for p in g["parameter"]]
        g["high"] = [bounds[p][1] for p in g["parameter"]]
        sh.heading(row, 0, ctx.quantity_label(str(q)))
        t = sh.table(row + 1, 0, g, _COLUMNS, cap_width=24)
        tables.append((str(q), t))
        row = t.last_row + 2
    right = len(_COLUMNS) + 1
    # the charts may print on pages of their own, from the empty column before
    sh.band_cols.append(right - 1)
    y = 0
    for q, t in tables:
        height = max(220, 100 + 30 * t.rows)
        layout = Layout(
            f"Sobol indices of {ctx.quantity_label(q).split(' (')[0]}",
            x_title="Share of variance",
            series=(
                Series(
                    t.span("ST"),
                    "ST: with interactions",
                    t.span("parameter"),
                    color=SHARE_TOTAL_COLOR,
                ),
                Series(
                    t.span("S1"),
                    "S1: alone",
                    t.span("parameter"),
                    color=SHARE_PART_COLOR,
                ),
            ),
            width=520,
            height=height,
            number_format="0.0",
        )
        sh.chart(ch.add_share_chart, layout, 4, right, 0, y)
        y += height + GAP_PX


SHEET = ResultSheet("Global sensitivity", write, present)
