"""The Power sheet: power by component per variant and utilisation, and its chart.

One table (every variant at every utilisation studied: the components, the
total against the budget, Tj against Tj max) and a stacked column chart of the
components at full utilisation (or the highest studied) against the budget.
Every figure and check is a live formula over the input cells (and the row's
utilisation) with the engine's value cached (:mod:`.live`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...engine.symbolic import Expr
from .. import charts as ch
from ..charts import Layout, Series
from . import live
from .banner import stale_banner
from .context import Context
from .formats import live_format, unit_format
from .geometry import chart_rows
from .sheet import Col, ResultSheet, Sheet, Table

_POWER_PARTS = (
    ("power_sm_w", "SM"),
    ("power_l2_w", "L2"),
    ("power_hbm_w", "HBM"),
    ("power_d2d_w", "D2D"),
    ("power_static_w", "Static"),
    ("power_interconnect_w", "Interconnect"),
    ("power_io_w", "I/O"),
)


def write(ctx: Context, sh: Sheet) -> None:
    """The table, then the chart to its right."""
    r = ctx.results
    pw = r.power.copy()
    pw["variant"] = pw["variant"].astype(str)
    budgets = r.study.variants["power_budget_w"].astype(float)
    budgets.index = budgets.index.astype(str)
    pw["budget"] = pw["variant"].map(budgets).to_numpy(dtype=float)
    pw["within_budget"] = pw["power_total_w"] <= pw["budget"]
    tjmax = r.study.variants["tj_max_c"].astype(float)
    tjmax.index = tjmax.index.astype(str)
    pw["tj_max"] = pw["variant"].map(tjmax).to_numpy(dtype=float)
    cols = [
        Col("variant", "Variant", "text"),
        Col("utilization", "Utilisation", "0%"),
        *(Col(k, f"{label} (W)", unit_format("W")) for k, label in _POWER_PARTS),
        Col("power_total_w", "Total (W)", unit_format("W")),
        Col("budget", "Power budget (W)", unit_format("W")),
        Col("within_budget", "Within power budget", "pass"),
        Col("junction_temp_c", "Tj (°C)", unit_format("°C")),
        Col("tj_max", "Tj max (°C)", unit_format("°C")),
        Col("meets_tj_max", "Tj within max", "pass"),
    ]
    sh.title(
        0,
        "Power breakdown per variant and utilisation",
        "Package power in W by component; Tj = ambient + power x theta_ja (°C).",
    )
    stale_banner(ctx, sh, live=True)  # what the live formulas do not follow
    table = sh.table(3, 0, pw, cols, cap_width=30)
    _live(ctx, sh, pw, cols, table)
    sh.pass_fail(table, ["within_budget", "meets_tj_max"])
    sh.page(table.header_row)
    if not pw.empty:
        _chart(ctx, sh, pw, cols, table)


SHEET = ResultSheet("Power", write)

# table column -> the metric it shows
_METRIC_OF = {
    **{k: k for k, _ in _POWER_PARTS},
    "power_total_w": "power_total_w",
    "within_budget": "meets_power_budget",
    "junction_temp_c": "junction_temp_c",
    "meets_tj_max": "meets_tj_max",
}
# table column -> the input parameter it shows
_INPUT_OF = {"budget": "power_budget_w", "tj_max": "tj_max_c"}


def _live(ctx: Context, sh: Sheet, pw: pd.DataFrame, cols: list[Col], t: Table):
    """Each row's figures as formulas over the inputs and the row's utilisation;
    budget and Tj max refer to their input cells, the checks to the row's cells."""
    if len(pw) > live.ROW_LIMIT:
        return
    lv = live.Live.of(ctx)
    fmt = {c.key: c.fmt for c in cols}
    ucol = t.cols["utilization"]
    column = {k: pw[k].to_numpy() for k in pw.columns}  # cell by cell below
    variants = list(pw["variant"])
    requests = []
    for i, (variant, u) in enumerate(zip(variants, pw["utilization"])):
        r = t.first_row + i
        shown = {param: live.cell(r, t.cols[key]) for key, param in _INPUT_OF.items()}
        cells = {
            m: live.cell(r, t.cols[k])
            for k, m in _METRIC_OF.items()
            if not m.startswith("meets_")
        }
        util = Expr.leaf(live.cell(r, ucol), u)
        requests.append((variant, list(_METRIC_OF.values()), cells, util, shown))
    for i, formulas in enumerate(lv.formulas_many(requests)):
        r = t.first_row + i
        refs = lv.sources.get(variants[i], {})
        for key, param in _INPUT_OF.items():
            if param in refs:
                sh.ws.write_formula(
                    r,
                    t.cols[key],
                    "=" + refs[param],
                    ctx.fmt(
                        num_format=live_format(fmt[key], column[key][i]),
                        **live.BORDER,
                    ),
                    live.Cached(column[key][i]),
                )
        for key, metric in _METRIC_OF.items():
            live.write(
                ctx, sh.ws, r, t.cols[key], formulas[metric], column[key][i], fmt[key]
            )


def _chart(
    ctx: Context, sh: Sheet, pw: pd.DataFrame, cols: list[Col], table: Table
) -> None:
    """Stacked components at one utilisation, on the table or a chart-data block.

    The table serves when its rows at that utilisation are contiguous and every
    variant is charted under its own name; otherwise a block of the charted
    variants, with their chart labels, is written below the chart.
    """
    util = pw["utilization"].to_numpy(dtype=float)
    u = 1.0 if np.isclose(util, 1.0).any() else float(util.max())
    rows = np.flatnonzero(np.isclose(util, u))
    block = pw.iloc[rows]
    at = table.first_row + int(rows[0])
    contiguous = bool((np.diff(rows) == 1).all()) if len(rows) > 1 else True
    right = table.cols["meets_tj_max"] + 2
    # the chart may print on a page of its own, from the empty column before
    sh.band_cols.append(right - 1)
    chh = 380
    cw = 640
    chart_row = table.header_row + 1  # not in the header row printed on every page
    note_row = chart_row + chart_rows(chh) + 1
    if ctx.capped or ctx.shortened or not contiguous:
        keep = block[block["variant"].isin(set(ctx.plotted))].reset_index(drop=True)
        keep["label"] = [ctx.labels[x] for x in keep["variant"]]
        if ctx.capped:
            sh.note(note_row, right, ctx.cap_note("The chart"), 8, italic=True)
            note_row += 1
        sh.heading(note_row, right, f"Chart data: power at {u:.0%} utilisation")
        label = Col("label", "Chart label", "text")
        data = sh.table(
            note_row + 1, right, keep, [label, *cols[2:11]], wrap_header=False
        )
        first, last = data.first_row, data.last_row
        cat = data.span("label", first, last)
    else:
        data = table
        first, last = at, at + len(rows) - 1
        cat = data.span("variant", first, last)
    series = [
        Series(data.span(k, first, last), data.head(k), cat, color=ch.PALETTE[i])
        for i, (k, _) in enumerate(_POWER_PARTS)
    ]
    series.append(
        Series(
            data.span("budget", first, last),
            data.head("budget"),
            cat,
            kind="reference",
            color=ch.BUDGET_COLOR,
            steps=ctx.varies("power_budget_w"),
        )
    )
    layout = Layout(
        f"Power breakdown at {u:.0%} utilisation vs budget",
        y_title="Power (W)",
        series=tuple(series),
        width=cw,
        height=chh,
        number_format="#,##0",
    )
    sh.chart(ch.add_stacked_column_chart, layout, chart_row, right)
