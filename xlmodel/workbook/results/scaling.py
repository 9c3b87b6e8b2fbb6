"""The Scaling sheet: every variant at several chiplet counts, and four charts.

The table of every variant and chiplet count, the largest count within the power
budget per variant, the budget line's chart data, and a grid of four charts
(compute, with the after-D2D line when die-to-die links lose throughput; HBM
bandwidth; power against the budget; TFLOPS/W) of the charted variants.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from .. import charts as ch
from ..charts import Layout, Series, Span
from .banner import stale_banner
from .context import Context
from .formats import TITLE_COLOR, unit_format
from .geometry import GAP_PX, ROW_PX, chart_rows, legend_px
from .sheet import Col, ResultSheet, Sheet, Table


def write(ctx: Context, sh: Sheet) -> None:
    """The table, then right of it the side tables and the grid of charts."""
    r = ctx.results
    sc = r.scaling.copy()
    sc["variant"] = sc["variant"].astype(str)
    order = {name: i for i, name in enumerate(ctx.variants)}
    sc["_order"] = sc["variant"].map(order)
    sc = sc.sort_values(["_order", "num_chiplets"], kind="stable").reset_index(
        drop=True
    )
    sh.title(
        0,
        "Chiplet scaling",
        f"Every variant at {', '.join(str(c) for c in r.study.scaling_counts)} "
        f"chiplets with {r.study.hbm_stacks_per_chiplet:g} HBM stacks per chiplet, "
        "100 % utilisation.",
    )
    cols = _columns(ctx.precision, ctx.ops)
    stale_banner(ctx, sh)
    table = sh.table(3, 0, sc, cols, cap_width=28)
    sh.pass_fail(table, ["within_budget"])
    sh.page(table.header_row)

    right = len(cols) + 1
    # the charts may print on pages of their own, from the empty column before
    sh.band_cols.append(right - 1)
    d2d = bool((sc["scaling_efficiency"] < 1).any())  # adds "after D2D" lines
    chh = 290 + legend_px(len(ctx.plotted) * (1 + d2d) + 1, per_row=3)
    chart_row = table.header_row + 1  # not in the header row printed on every page
    row = chart_row + 2 * chart_rows(chh) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The charts"), 10, italic=True)
        row += 2
    btable = _side_tables(ctx, sh, sc, row, right)
    _charts(ctx, sh, sc, table, btable, chart_row, right, chh)


SHEET = ResultSheet("Scaling", write)


def _columns(p: str, o: str) -> list[Col]:
    return [
        Col("variant", "Variant", "text"),
        Col("num_chiplets", "Chiplets", unit_format("chiplets")),
        Col("hbm_stacks", "HBM stacks", unit_format("stacks")),
        Col("compute_tflops", f"Compute {p} ({o})", unit_format(o)),
        Col(
            "effective_tflops",
            f"Effective {p} after D2D ({o})",
            unit_format(o),
        ),
        Col("memory_tbps", "HBM bandwidth (TB/s)", unit_format("TB/s")),
        Col("power_w", "Power (W)", unit_format("W")),
        Col("tflops_per_w", f"{p} {o}/W", unit_format(f"{o}/W")),
        Col(
            "density_tflops_per_mm2",
            f"Density {p} ({o}/mm²)",
            unit_format(f"{o}/mm²"),
        ),
        Col("scaling_efficiency", "Scaling efficiency", "0.0%"),
        Col("within_budget", "Within power budget", "pass"),
    ]


def _side_tables(
    ctx: Context, sh: Sheet, sc: pd.DataFrame, row: int, col: int
) -> Table | None:
    """Largest count within the budget, then the budget line; returns the line's
    (None when the budget differs per variant: no one line is every variant's)."""
    mx = ctx.results.max_chiplets_within_budget
    best = pd.DataFrame(
        {"variant": [str(x) for x in mx.index], "count": mx.to_numpy(dtype=float)}
    )
    if ctx.varies("power_budget_w"):
        budget = "each variant's power budget (" + ctx.limit_text(
            "power_budget_w", "W"
        ).removesuffix(" (per variant)")
        sh.heading(row, col, f"Largest chiplet count within {budget})")
    else:
        sh.heading(
            row, col, f"Largest chiplet count within the {ctx.budget:g} W budget"
        )
    mtable = sh.table(
        row + 1,
        col,
        best,
        [Col("variant", "Variant", "text"), Col("count", "Chiplets (0: none)", "0")],
        wrap_header=False,
    )
    row = mtable.last_row + 2
    if ctx.varies("power_budget_w"):
        return None

    # Budget line: two points spanning the studied counts.
    counts = sc["num_chiplets"].to_numpy(dtype=float)
    sh.heading(row, col, "Chart data: power budget line")
    line = pd.DataFrame(
        {
            "x": [counts.min(), counts.max()] if len(counts) else [0.0, 0.0],
            "y": [ctx.budget, ctx.budget],
        }
    )
    return sh.table(
        row + 1,
        col,
        line,
        [Col("x", "Chiplets", "0"), Col("y", "Power budget (W)", unit_format("W"))],
        wrap_header=False,
    )


def _charts(
    ctx: Context,
    sh: Sheet,
    sc: pd.DataFrame,
    table: Table,
    btable: Table | None,
    chart_row: int,
    col: int,
    chh: int,
) -> None:
    """Four charts in a grid of two, one line per charted variant."""
    p, o = ctx.precision, ctx.ops
    cw = 520
    groups = {name: g.index for name, g in sc.groupby("variant", sort=False)}
    panels = [
        ("compute_tflops", f"Compute vs chiplets ({p})", f"{p} {o}", "#,##0"),
        ("memory_tbps", "HBM bandwidth vs chiplets", "Bandwidth (TB/s)", "0.0"),
        ("power_w", "Power vs chiplets (100 % utilisation)", "Power (W)", "#,##0"),
        ("tflops_per_w", f"Power efficiency vs chiplets ({p})", f"{o}/W", "0.00"),
    ]
    for k, (key, title, ytitle, nf) in enumerate(panels):
        x = (k % 2) * (cw + GAP_PX)
        y = (k // 2) * (chh + GAP_PX)
        same = _same_for_all(ctx, sc, groups, key)
        if same is not None:
            _in_words(sh, title, ytitle, same, chart_row, col, x, y, cw)
            continue
        series = _variant_lines(ctx, sc, table, groups, key)
        if key == "power_w" and btable is not None:
            series.append(
                Series(
                    btable.span("y"),
                    btable.head("y"),
                    btable.span("x"),
                    kind="reference",
                    color=ch.BUDGET_COLOR,
                )
            )
        layout = Layout(
            title,
            x_title="Chiplets",
            y_title=ytitle,
            series=tuple(series),
            width=cw,
            height=chh,
            number_format=nf,
            x_number_format="0",
        )
        sh.chart(ch.add_scatter_chart, layout, chart_row, col, x, y)


def _same_for_all(
    ctx: Context, sc: pd.DataFrame, groups: dict, key: str
) -> pd.DataFrame | None:
    """The one curve of ``key`` when every charted variant has it, else None.

    Returns chiplet counts and values (one row each) when there are at least two
    charted variants and their lines would be drawn over each other.
    """
    names = [n for n in ctx.plotted if n in groups and len(groups[n])]
    if len(names) < 2:
        return None
    first = sc.loc[groups[names[0]], ["num_chiplets", key]].to_numpy(dtype=float)
    for n in names[1:]:
        other = sc.loc[groups[n], ["num_chiplets", key]].to_numpy(dtype=float)
        if other.shape != first.shape or not np.allclose(
            other, first, rtol=1e-9, atol=0, equal_nan=True
        ):
            return None
    return pd.DataFrame(first, columns=["chiplets", "value"])


def _in_words(
    sh: Sheet,
    title: str,
    ytitle: str,
    same: pd.DataFrame,
    row: int,
    col: int,
    x: int,
    y: int,
    cw: int,
) -> None:
    """In place of a chart of identical lines, a sentence with the values."""
    at = sh.col_after(col, x) if x else col
    r = row + 1 + round(y / ROW_PX)
    unit = ytitle.split("(")[-1].rstrip(")") if "(" in ytitle else ytitle
    values = ", ".join(
        f"{v:,.4g} {unit} at {c:g}" for c, v in zip(same["chiplets"], same["value"])
    )
    sh.note(r, at, title, 1, bold=True, font_color=TITLE_COLOR)
    text = (
        "The same for every variant, so no chart (the lines would lie on top of "
        f"each other): {values} chiplets."
    )
    # one short line per row: no merged or wrapped cell changes a row's height
    for k, line in enumerate(textwrap.wrap(text, max(int(cw / 7.5), 20))):
        sh.note(r + 1 + k, at, line, 1, italic=True)


def _variant_lines(
    ctx: Context, sc: pd.DataFrame, table: Table, groups: dict, key: str
) -> list[Series]:
    """A line of ``key`` per charted variant (and its after-D2D line for compute)."""
    series: list[Series] = []
    for name in ctx.plotted:
        idx = groups.get(name)
        if idx is None or len(idx) == 0:
            continue
        r0, r1 = table.first_row + int(idx[0]), table.first_row + int(idx[-1])
        x = table.span("num_chiplets", r0, r1)
        name_cell = ctx.series_name(name, Span(r0, table.cols["variant"]))
        series.append(
            Series(table.span(key, r0, r1), name_cell, x, color=ctx.colors[name])
        )
        if key == "compute_tflops" and (sc.loc[idx, "scaling_efficiency"] < 1).any():
            series.append(
                Series(
                    table.span("effective_tflops", r0, r1),
                    f"{ctx.labels[name]} after D2D",
                    x,
                    color=ctx.colors[name],
                    dash=True,
                )
            )
    return series
