"""The Cost sheet: cost per good package per variant, and why chiplets.

The breakdown table (one row per variant: node, die, yields, the seven components
of the cost per good package, NRE, unit cost, USD per TFLOPS and the monolithic
equivalent), a stacked column chart of the components per variant, the table of
the same silicon cut into the scaling study's chiplet counts with a line chart of
the cost per good package against the count (the monolithic value beside it, at
one die), and a note of the main assumptions and where the defaults come from.
Formulas in :mod:`xlmodel.engine.cost`; tables from :mod:`xlmodel.studies.cost`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...engine.model import METRIC_UNITS
from ...engine.nodes import node_table
from ...engine.symbolic import Expr, number_text
from ...studies.run import Results
from .. import charts as ch
from ..charts import Layout, Series
from . import live
from .banner import stale_banner
from .context import Context
from .formats import WIDE_TABLE_CAP, unit_format
from .geometry import GAP_PX, chart_rows, legend_px
from .sheet import Col, ResultSheet, Sheet, Table

USD = "#,##0.00"
USD_WHOLE = "#,##0"
YIELD = "0.0%"

#: The components of the cost per good package, with their chart labels.
COST_PARTS: tuple[tuple[str, str], ...] = (
    ("cost_raw_dies_usd", "Raw dies"),
    ("cost_defective_dies_usd", "Defective dies"),
    ("cost_package_usd", "Package"),
    ("cost_package_defects_usd", "Package defects"),
    ("cost_lost_good_dies_usd", "Good dies lost"),
    ("cost_hbm_usd", "HBM"),
    ("cost_test_usd", "Test"),
)


def present(results: Results) -> bool:
    return getattr(results, "cost", None) is not None


def write(ctx: Context, sh: Sheet) -> None:
    """The breakdown table, its chart, the versus-chiplets table and chart, notes."""
    r = ctx.results
    p = ctx.precision
    bd = r.cost.breakdown.reset_index()
    bd["variant"] = bd["variant"].astype(str)
    with np.errstate(divide="ignore", invalid="ignore"):
        bd["tflops_per_usd"] = per_usd(bd["target_peak_tflops"], bd["unit_cost_usd"])
    sh.title(
        0,
        "Cost per good package, and why chiplets",
        "Manufacturing cost of one good package in USD (its seven parts sum to "
        "it), NRE per unit, unit cost and USD per TFLOPS; the monolithic "
        "equivalent is the same silicon as one die (n/a beyond the reticle).",
    )
    stale_banner(ctx, sh, live=True)  # what the live formulas do not follow
    cols = _breakdown_columns(p)
    table = sh.table(_HEADER_ROW, 0, bd, cols, cap_width=WIDE_TABLE_CAP)
    live_cells = _live(ctx, sh, bd, cols, table)
    sh.page(table.header_row, repeat=False)
    row = table.last_row + 2
    sh.note(row, 0, LIVE_NOTE if live_cells else VALUES_NOTE, 12, italic=True)
    row += 1
    reticle = float(r.study.variants["reticle_limit_mm2"].iloc[0])
    beyond = bd[~np.isfinite(bd["monolithic_cost_per_good_package_usd"])]
    if len(beyond):
        areas = beyond["monolithic_area_mm2"].to_numpy(dtype=float)
        sh.note(
            row,
            0,
            f"Monolithic equivalent n/a for {len(beyond)} of {len(bd)} variants: "
            f"their silicon as one die ({_range(areas)} mm²) exceeds the "
            f"{reticle:,.0f} mm² reticle limit, so one die cannot be printed.",
            12,
            italic=True,
        )
        row += 1
    if ctx.capped:
        sh.note(row, 0, ctx.cap_note("The charts"), 12, italic=True)
        row += 1
    chart_row = row + 1
    chh = 360 + legend_px(len(ctx.plotted) * 2, per_row=3)
    cw = 600
    below = chart_row + chart_rows(chh) + 1
    versus = _versus_table(ctx, sh, below)
    row = _assumptions(ctx, sh, versus.last_row + 2)
    vdata = _versus_data(ctx, sh, row)
    row = vdata.last_row + 2
    _breakdown_chart(ctx, sh, bd, cols, table, chart_row, cw, chh, row)
    _versus_chart(ctx, sh, vdata, chart_row, cw, chh)


SHEET = ResultSheet("Cost", write, present)

#: The line saying which cells follow the inputs.
LIVE_NOTE = (
    "Live (formulas over the input cells): this table, except figures resting on "
    "a process-node-table fill; the rest of the sheet are values."
)
VALUES_NOTE = "Every figure on this sheet is a value of the last compute."

#: Inputs the breakdown table shows; they refer to their input cells.
_SHOWN_INPUTS = (
    "num_chiplets",
    "hbm_stacks",
    "wafer_price_usd",
    "defect_density_per_cm2",
)


def per_usd(peak, unit):
    """Target-precision TFLOPS per USD of unit cost."""
    return peak / unit


def breakdown_cell(row: int, key: str, sheet: str | None = None) -> str:
    """Reference of the breakdown table's cell of ``key`` in variant row ``row``
    (zero-based, in the table's variant order)."""
    keys = [c.key for c in _breakdown_columns("")]
    return live.cell(_FIRST_ROW + row, keys.index(key), sheet)


# the breakdown table's header row, and its first variant's row
_HEADER_ROW = 3
_FIRST_ROW = _HEADER_ROW + 1


def live_breakdown(ctx: Context) -> bool:
    """Whether the breakdown table carries live formulas."""
    return present(ctx.results) and len(ctx.results.cost.breakdown) <= live.ROW_LIMIT


def _live(ctx: Context, sh: Sheet, bd: pd.DataFrame, cols: list[Col], t: Table):
    """The breakdown's figures as formulas over the input cells, the engine's
    values cached; a figure shown in the row stands in for its formula in the
    others (the yields in every cost). Returns whether any cell went live."""
    if not live_breakdown(ctx):
        return False
    lv = live.Live.of(ctx)
    fmt = {c.key: c.fmt for c in cols}
    metrics = [c.key for c in cols if c.key in METRIC_UNITS and c.key in t.cols]
    metrics = [m for m in metrics if m not in _SHOWN_INPUTS]
    column = {k: bd[k].to_numpy() for k in bd.columns}  # cell by cell below
    wrote = False
    variants = list(bd["variant"])
    requests, input_refs = [], []
    for i, variant in enumerate(variants):
        r = t.first_row + i
        refs = lv.sources.get(variant, {})
        filled = lv.node_filled.get(variant, set())
        # each shown input's own cell, None where the node table filled it
        mine = {k: refs.get(k) if k not in filled else None for k in _SHOWN_INPUTS}
        shown = {
            k: live.cell(r, t.cols[k])
            for k, ref in mine.items()
            if live.shown_input(ref, column[k][i])
        }
        input_refs.append(mine)
        requests.append((variant, metrics, None, 1.0, shown))
    for i, traced in enumerate(lv.formulas_many(requests)):
        variant = variants[i]
        r = t.first_row + i
        for key, ref in input_refs[i].items():
            live.write_input(ctx, sh.ws, r, t.cols[key], ref, column[key][i], fmt[key])
        cells = {m: live.cell(r, t.cols[m]) for m in metrics}
        formulas = _reticle_free(lv, variant, traced)
        peak, unit = formulas.get("target_peak_tflops"), formulas.get("unit_cost_usd")
        if isinstance(peak, Expr) and isinstance(unit, Expr):
            formulas["tflops_per_usd"] = per_usd(
                _at(cells["target_peak_tflops"], peak),
                _at(cells["unit_cost_usd"], unit),
            )
            cells["tflops_per_usd"] = live.cell(r, t.cols["tflops_per_usd"])
        formulas = live.shorten(formulas, cells)
        for key, e in formulas.items():
            wrote |= live.write(ctx, sh.ws, r, t.cols[key], e, column[key][i], fmt[key])
    return wrote


#: The figures that the decision whether the monolithic die fits the reticle
#: gives; :func:`xlmodel.engine.cost.cost_metrics` computes every other cost
#: figure before that decision (tests/test_live_formulas.py checks the figures
#: after it changes).
_MONOLITHIC = frozenset(
    {
        "monolithic_die_yield",
        "monolithic_cost_per_good_package_usd",
        "chiplet_saving_usd",
        "chiplet_cost_ratio",
    }
)


def _reticle_free(lv: live.Live, variant: str, formulas: dict) -> dict:
    """``formulas`` with the reticle decision's guard only on the monolithic
    figures: the cost rule decides for all its figures at once, but only those
    depend on it, so crossing the reticle limit blanks only them."""
    area = formulas.get("monolithic_area_mm2")
    if not isinstance(area, Expr):
        return formulas
    reticle = lv.leaves(variant)["reticle_limit_mm2"]
    limit = reticle.f if isinstance(reticle, Expr) else number_text(reticle[0])
    if limit is None:
        return formulas
    fits = f"{area.f}<={limit}"
    decided = {fits, f"NOT({fits})"}
    out = {}
    for key, e in formulas.items():
        if isinstance(e, Expr) and key not in _MONOLITHIC and e.guards & decided:
            e = Expr(e.f, e.value, e.prec, e.guards - decided, e.fallible)
        out[key] = e
    return out


def _at(ref: str, e: Expr) -> Expr:
    """The cell ``ref`` showing ``e``: its value, guards and error branch."""
    return Expr(ref, e.value, guards=e.guards, fallible=e.fallible)


def _breakdown_columns(p: str) -> list[Col]:
    return [
        Col("variant", "Variant", "text"),
        Col("process_node", "Process node", "text"),
        Col("package_type", "Package", "text"),
        Col("num_chiplets", "Chiplets", unit_format("chiplets")),
        Col("chiplet_die_area_mm2", "Chiplet die (mm²)", unit_format("mm²")),
        Col("hbm_stacks", "HBM stacks", unit_format("stacks")),
        Col("wafer_price_usd", "Wafer price (USD)", USD_WHOLE),
        Col("defect_density_per_cm2", "Defect density (per cm²)", "0.000"),
        Col("dies_per_wafer", "Gross dies per wafer", "#,##0.0"),
        Col("die_yield", "Die yield (%)", YIELD),
        Col("cost_per_good_die_usd", "Cost per good die (USD)", USD),
        Col("interposer_yield", "Interposer yield (%)", YIELD),
        Col("package_yield", "Package yield (%)", YIELD),
        *(Col(k, f"{label} (USD)", USD) for k, label in COST_PARTS),
        Col("cost_per_good_package_usd", "Cost per good package (USD)", USD),
        Col("nre_per_unit_usd", "NRE per unit (USD)", USD),
        Col("unit_cost_usd", "Unit cost (USD)", USD),
        Col("target_peak_tflops", f"Peak {p} (TFLOPS)", unit_format("TFLOPS")),
        Col("usd_per_tflops", f"USD per {p} TFLOPS (USD/TFLOPS)", USD),
        Col("tflops_per_usd", f"{p} TFLOPS per USD (TFLOPS/USD)", "0.00000"),
        Col("monolithic_area_mm2", "Monolithic die (mm²)", unit_format("mm²")),
        Col("monolithic_die_yield", "Monolithic die yield (%)", YIELD),
        Col(
            "monolithic_cost_per_good_package_usd",
            "Monolithic cost per good package (USD)",
            USD,
        ),
        Col("chiplet_saving_usd", "Chiplet saving (USD)", USD),
        Col("chiplet_cost_ratio", "Chiplet / monolithic cost (ratio)", "0.000"),
    ]


def _range(values: np.ndarray) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:,.0f}" if math.isclose(lo, hi) else f"{lo:,.0f}-{hi:,.0f}"


def _breakdown_chart(
    ctx: Context,
    sh: Sheet,
    bd: pd.DataFrame,
    cols: list[Col],
    table: Table,
    chart_row: int,
    cw: int,
    chh: int,
    data_row: int,
) -> None:
    """Stacked components per variant, on the table or on a chart-data block."""
    if bd.empty:
        return
    if ctx.capped or ctx.shortened:
        keep = bd[bd["variant"].isin(set(ctx.plotted))].reset_index(drop=True)
        keep["label"] = [ctx.labels[x] for x in keep["variant"]]
        sh.heading(data_row, 0, "Chart data: cost per good package by part")
        parts = [c for c in cols if c.key in dict(COST_PARTS)]
        data = sh.table(
            data_row + 1,
            0,
            keep,
            [Col("label", "Chart label", "text"), *parts],
            cap_width=WIDE_TABLE_CAP,
        )
        cat = data.span("label")
    else:
        data = table
        cat = data.span("variant")
    series = [
        Series(data.span(k), data.head(k), cat, color=ch.PALETTE[i])
        for i, (k, _) in enumerate(COST_PARTS)
    ]
    layout = Layout(
        "Cost per good package by part",
        y_title="Cost per good package (USD)",
        series=tuple(series),
        width=cw,
        height=chh,
        number_format="#,##0",
    )
    sh.chart(ch.add_stacked_column_chart, layout, chart_row, 0)


def _versus_table(ctx: Context, sh: Sheet, row: int) -> Table:
    """The same silicon at the scaling study's chiplet counts."""
    r = ctx.results
    vs = r.cost.versus_chiplets.copy()
    vs["variant"] = vs["variant"].astype(str)
    sh.heading(
        row,
        0,
        "The same silicon cut into "
        f"{', '.join(str(c) for c in r.study.scaling_counts)} chiplets "
        "(everything else as the variant has it)",
    )
    cols = [
        Col("variant", "Variant", "text"),
        Col("num_chiplets", "Chiplets", unit_format("chiplets")),
        Col("total_silicon_mm2", "Total silicon (mm²)", unit_format("mm²")),
        Col("chiplet_die_area_mm2", "Chiplet die (mm²)", unit_format("mm²")),
        Col("die_yield", "Die yield (%)", YIELD),
        Col("package_yield", "Package yield (%)", YIELD),
        Col("cost_per_good_die_usd", "Cost per good die (USD)", USD),
        Col("cost_per_good_package_usd", "Cost per good package (USD)", USD),
        Col(
            "monolithic_cost_per_good_package_usd",
            "Monolithic cost per good package (USD)",
            USD,
        ),
        Col("chiplet_saving_usd", "Chiplet saving (USD)", USD),
        Col("within_reticle", "Chiplet die within reticle", "yes"),
    ]
    return sh.table(row + 1, 0, vs, cols, cap_width=WIDE_TABLE_CAP)


def _versus_data(ctx: Context, sh: Sheet, row: int) -> Table:
    """The versus chart's data at ``row``: blanks where n/a or beyond the reticle."""
    vs = ctx.results.cost.versus_chiplets.copy()
    vs["variant"] = vs["variant"].astype(str)
    # Chart data: per charted variant, one die (monolithic) then each count;
    # blanks where a value is n/a or a chiplet die exceeds the reticle.
    rows = []
    for name in ctx.plotted:
        g = vs[vs["variant"] == name]
        if g.empty:
            continue
        mono = float(g["monolithic_cost_per_good_package_usd"].iloc[0])
        rows.append(
            {
                "label": ctx.labels[name],
                "x": 1.0,
                "chiplets": None,
                "monolithic": mono if math.isfinite(mono) else None,
            }
        )
        for _, v in g.iterrows():
            cost = float(v["cost_per_good_package_usd"])
            ok = bool(v["within_reticle"]) and math.isfinite(cost)
            rows.append(
                {
                    "label": ctx.labels[name],
                    "x": float(v["num_chiplets"]),
                    "chiplets": cost if ok else None,
                    "monolithic": None,
                }
            )
    keys = ["label", "x", "chiplets", "monolithic"]
    frame = pd.DataFrame(
        {k: pd.Series([d[k] for d in rows], dtype=object) for k in keys}
    )
    sh.heading(
        row, 0, "Chart data: cost per good package (blank: n/a or beyond the reticle)"
    )
    data = sh.table(
        row + 1,
        0,
        frame,
        [
            Col("label", "Chart label", "text"),
            Col("x", "Dies", "0"),
            Col("chiplets", "Chiplets (USD)", USD),
            Col("monolithic", "Monolithic (USD)", USD),
        ],
        cap_width=WIDE_TABLE_CAP,
    )
    return data


def _versus_chart(
    ctx: Context, sh: Sheet, data: Table, chart_row: int, cw: int, chh: int
) -> None:
    """A line per charted variant against the count, its monolithic point at 1."""
    frame_rows = data.rows
    if frame_rows <= 0:
        return
    series: list[Series] = []
    labels = ctx.results.cost.versus_chiplets
    counts = len(ctx.results.study.scaling_counts)
    r0 = data.first_row
    mono_shown = 0
    for name in ctx.plotted:
        if not (labels["variant"].astype(str) == name).any():
            continue
        color = ctx.colors[name]
        label = ctx.labels[name]
        first, last = r0 + 1, r0 + counts
        series.append(
            Series(
                data.span("chiplets", first, last),
                label,
                data.span("x", first, last),
                color=color,
            )
        )
        mono = ctx.results.cost.breakdown.loc[
            [v for v in ctx.results.cost.breakdown.index if str(v) == name][0],
            "monolithic_cost_per_good_package_usd",
        ]
        if math.isfinite(float(mono)):
            series.append(
                Series(
                    data.span("monolithic", r0, r0),
                    f"{label} monolithic",
                    data.span("x", r0, r0),
                    kind="marker",
                    marker="diamond",
                    color=color,
                )
            )
            mono_shown += 1
        r0 += counts + 1
    title = "Cost per good package vs chiplets"
    if mono_shown == 0:
        title += " (monolithic n/a: beyond the reticle)"
    layout = Layout(
        title,
        x_title="Dies per package (1 = monolithic)",
        y_title="Cost per good package (USD)",
        series=tuple(series),
        width=cw,
        height=chh,
        number_format="#,##0",
        x_number_format="0",
        x_bounds=(0.0, float(max(ctx.results.study.scaling_counts)) + 1.0),
    )
    sh.chart(ch.add_scatter_chart, layout, chart_row, 0, cw + GAP_PX, 0)


def _assumptions(ctx: Context, sh: Sheet, row: int) -> int:
    """Main assumptions, the sources of the defaults, where the model is kind;
    returns the first free row below."""
    r = ctx.results
    x = r.study.variants.iloc[0]
    sh.heading(row, 0, "Assumptions and sources")
    lines = [
        f"Die yield: {x['yield_model']} model (alpha {float(x['yield_alpha']):g}, "
        f"{float(x['critical_layers']):g} critical layers for Bose-Einstein); "
        f"gross dies per {float(x['wafer_diameter_mm']):g} mm wafer with "
        f"{float(x['edge_exclusion_mm']):g} mm edge exclusion and "
        f"{float(x['scribe_mm']):g} mm scribe. Wafer test catches "
        f"{float(x['kgd_test_coverage']):.0%} of defective dies; escapes kill "
        "their package.",
        f"Package: bonding yield {float(x['bonding_yield_per_die']):.1%} per die or "
        f"HBM stack; interposer wafer ${float(x['interposer_wafer_price_usd']):,.0f} "
        f"at {float(x['interposer_defect_density_per_cm2']):g} defects/cm² "
        f"(area x{float(x['interposer_area_factor']):g}); substrate "
        f"${float(x['substrate_cost_usd_per_mm2']):g}/mm²; assembly "
        f"${float(x['assembly_cost_usd']):g}; HBM "
        f"${float(x['hbm_price_usd_per_gb']):g}/GB; NRE spread over "
        f"{float(x['volume_units']):,.0f} units. Each default's source is in its "
        "description on the Coefficients sheet.",
    ]
    table = node_table(r.study.process_nodes)
    used = []
    for node in dict.fromkeys(str(v) for v in r.study.variants["process_node"]):
        i = table.row(node)
        if i is None:
            used.append(f"{node}: not in the process node table (values as given).")
            continue
        t = table.table.iloc[i]
        used.append(
            f"{t['process_node']} (as of {_text(t.get('as_of'))}): "
            f"{_text(t.get('source'))}"
        )
    lines += [
        "Node defaults (wafer price, defect density, mask set) come from the "
        "process node table (Cost setup sheet, else the shipped "
        "xlmodel/data/process_nodes.csv) where a variant leaves them blank; a "
        "value given for the variant wins. Nodes used:",
        *used,
        "Where the model is optimistic: the interposer is priced as a plain 65 nm "
        "wafer, leaving out TSV, RDL and micro-bump processing; wafer prices are "
        "public estimates, not negotiated prices; defect densities are for mature "
        "volume production (early ramps are worse); package yield covers bonding, "
        "interposer and escapes but not warpage, thermal or rework losses; design "
        "NRE is 0 unless you give it, and software, IP licences and margins are "
        "left out.",
    ]
    for k, text in enumerate(lines):
        sh.note(row + 1 + k, 0, text, 14)
    return row + len(lines) + 2


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
