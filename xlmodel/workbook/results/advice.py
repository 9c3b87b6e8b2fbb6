"""The Summary's advice blocks: banner, recommendation, what it would take, confidence.

Written by :mod:`.summary` from :class:`xlmodel.studies.advice.Advice`: the
banner (green only when a variant meets every target and is recommended), the
recommendation or the ranking in words, what it would take, the power model and
the inputs flagged implausible, the seed's statements as facts; the per-variant
columns the Summary table adds; the amber marks on the cells computed from
implausible inputs; and the table of one-parameter changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

from ...studies.advice import tied
from ...studies.confidence import labels
from ...studies.reach import EVERY_TARGET, NO_EFFECT
from .context import Context
from .formats import unit_format
from .sheet import Col, Sheet, Table

#: Score columns of the advice -> the Summary table's keys.
MARKED_KEYS = {
    "peak_tflops": "peak",
    "density_tflops_per_mm2": "density",
    "mix_tflops": "mix",
    "power_w": "power",
    "tflops_per_w": "tflops_per_w",
    "mix_tflops_per_w": "mix_per_w",
    "tj_c": "tj",
    "unit_cost_usd": "unit_cost",
    "tflops_per_usd": "tflops_per_usd",
}
IMPLAUSIBLE_FILL = "#FCE4D6"
IMPLAUSIBLE_FONT = "#9C5700"
_GREEN = {"font_color": "#006100", "bg_color": "#E2EFDA"}
_RED = {"font_color": "#9C0006", "bg_color": "#FCE4D6"}
# a recommendation by column order only (the figure of merit ties)
_AMBER = {"font_color": "#7F6000", "bg_color": "#FFF2CC"}


def frame_columns(ctx: Context) -> dict[str, list]:
    """The advice's per-variant columns of the Summary table, in variant order."""
    a = ctx.results.advice
    s = a.scores
    conf = a.confidence
    names = list(s.index)
    subject = {a.recommended: "yes", a.closest: "closest"}
    return {
        "mix": s["mix_tflops"].to_numpy(float),
        "mix_share": s["mix_share_of_peak"].to_numpy(float),
        "mix_per_w": s["mix_tflops_per_w"].to_numpy(float),
        "power_model": [conf.presets[n] for n in names],
        "power_other": conf.other_power_w.reindex(s.index).to_numpy(float),
        "shortfall": s["shortfall"].to_numpy(float),
        "rank": s["rank"].to_numpy(),
        "recommended": [subject.get(n, "") for n in names],
        "caveats": [", ".join(conf.flagged(n)) for n in names],
        "unit_cost": s["unit_cost_usd"].to_numpy(float),
        "tflops_per_usd": s["tflops_per_usd"].to_numpy(float),
        **{
            k: s[k].to_numpy(float)
            for k in ("tokens_per_s", "tokens_per_s_per_usd")
            if k in s
        },
    }


def columns(p: str, o: str = "TFLOPS", merit: tuple[str, str] | None = None):
    """The advice's columns of the Summary table, by key (``o``: TFLOPS or TOPS;
    ``merit``: the serving figure's model and scenario, None: no serving columns).
    """
    serving = {}
    if merit is not None:
        model, scenario = merit
        serving = {
            "tokens_per_s": Col(
                "tokens_per_s",
                f"Output tokens/s, {model} {scenario} (tokens/s)",
                "#,##0",
            ),
            "tokens_per_s_per_usd": Col(
                "tokens_per_s_per_usd",
                f"Output tokens/s per USD, {model} {scenario} (tokens/s/USD)",
                "0.0000",
            ),
        }
    return {
        **serving,
        "unit_cost": Col("unit_cost", "Unit cost (USD per good package)", "#,##0"),
        "tflops_per_usd": Col(
            "tflops_per_usd", f"{p} {o} per USD ({o}/USD)", "0.00000"
        ),
        "rank": Col("rank", "Rank", "0", center=True),
        "mix": Col("mix", f"Workload-mix {p} (TFLOPS)", unit_format("TFLOPS")),
        "mix_share": Col("mix_share", "Workload mix (% of peak)", "0%"),
        "mix_per_w": Col("mix_per_w", "Workload-mix TFLOPS/W", unit_format("TFLOPS/W")),
        "power_model": Col("power_model", "Power model (preset)", "text", center=True),
        "power_other": Col("power_other", "Power, other preset (W)", unit_format("W")),
        "shortfall": Col("shortfall", "Shortfall (sum of shares)", "0.000"),
        "recommended": Col("recommended", "Recommended", "text", center=True),
        "caveats": Col(
            "caveats", "Implausible inputs (amber: results computed from them)", "text"
        ),
    }


def subject_rows(ctx: Context, frame: pd.DataFrame) -> set[int]:
    """Table rows to highlight: the recommended or the closest variant."""
    subject = ctx.results.advice.subject
    return {i for i, x in enumerate(frame["variant"]) if x == str(subject)}


def headline(ctx: Context, sh: Sheet, row: int, width: int) -> int:
    """Banner, recommendation, what it would take, confidence, facts; next row."""
    a = ctx.results.advice
    if a.recommended is None:
        colors = _RED
    elif len(tied(a)) > 1:
        colors = _AMBER
    else:
        colors = _GREEN
    sh.note(row, 0, a.lines[0], width, bold=True, font_size=13, **colors)
    row += 1
    for line in a.lines[1:]:
        sh.note(row, 0, line, width)
        row += 1
    sh.heading(row, 0, "What it would take")
    row += 1
    for line in a.reach_lines:
        sh.note(row, 0, line, width)
        row += 1
    sh.heading(row, 0, "How sure: power model and implausible inputs")
    row += 1
    for line in (power_model_line(ctx), implausible_line(ctx)):
        sh.note(row, 0, line, width)
        row += 1
    sh.heading(row, 0, "The seed's statements (facts, not the recommendation)")
    row += 1
    for msg in ctx.results.comparison.messages:
        sh.note(row, 0, msg, width)
        row += 1
    return row


def power_model_line(ctx: Context) -> str:
    """Which preset gave the power figures, and the other preset's power."""
    conf = ctx.results.advice.confidence
    s = ctx.results.advice.scores
    parts = []
    for preset, other, what in (
        ("seed", "physical", "the workbook's power coefficients as given"),
        ("physical", "seed", "the preset fitted on shipping chips"),
    ):
        names = [n for n in s.index if conf.presets[n] == preset]
        if not names:
            continue
        here = s.loc[names, "power_w"].to_numpy(float)
        there = conf.other_power_w[names].to_numpy(float)
        who = (
            f"all {len(names)} variants"
            if len(names) == len(s)
            else (", ".join(map(str, names[:4])) + (" ..." if len(names) > 4 else ""))
        )
        parts.append(
            f"the {preset} preset ({what}) for {who}: {_span(here)} W; the "
            f"{other} preset would give {_span(there)} W"
        )
    return (
        "Power model: "
        + "; ".join(parts)
        + " (column 'Power, other preset'; switch with power_preset on Coefficients)."
    )


def _span(x: np.ndarray) -> str:
    x = x[np.isfinite(x)]
    if not len(x):
        return "n/a"
    lo, hi = float(x.min()), float(x.max())
    return f"{lo:,.0f}" if round(lo) == round(hi) else f"{lo:,.0f}-{hi:,.0f}"


def implausible_line(ctx: Context) -> str:
    """The inputs flagged implausible and the results they undermine."""
    flags = ctx.results.advice.confidence.flags
    if not len(flags):
        return "No input is flagged implausible."
    n = len(ctx.results.advice.scores)
    parts = []
    for param, group in flags.groupby("parameter", sort=False):
        who = group["variant"].astype(str).tolist()
        at = (
            f"all {n} variants"
            if len(who) == n
            else ", ".join(who[:4]) + (" ..." if len(who) > 4 else "")
        )
        values = sorted(set(group["value"]))
        shown = "/".join(f"{v:g}" for v in values[:3])
        cols = [c for cols in group["affects"] for c in cols]
        parts.append(
            f"{param} {shown} at {at} ({group['why'].iloc[0]}) -> "
            f"{labels(cols) or 'no result'}"
        )
    return (
        "Computed from inputs flagged implausible (amber cells in the table): "
        + "; ".join(parts)
        + "."
    )


def mark_implausible(ctx: Context, sh: Sheet, table: Table, frame) -> None:
    """Amber cells: the table's results computed from implausible inputs (one
    conditional format per column, over runs of consecutive rows)."""
    conf = ctx.results.advice.confidence
    rows: dict[str, list[int]] = {}
    for i, name in enumerate(frame["variant"]):
        for score in conf.marked(name):
            key = MARKED_KEYS.get(score)
            if key is not None and key in table.cols:
                rows.setdefault(key, []).append(table.first_row + i)
    fmt = ctx.fmt(bg_color=IMPLAUSIBLE_FILL, font_color=IMPLAUSIBLE_FONT, italic=True)
    for key, marked in rows.items():
        c = table.cols[key]
        runs = _runs(marked)
        ranges = " ".join(
            xl_range(a, c, b, c) if b > a else xl_rowcol_to_cell(a, c) for a, b in runs
        )
        a, b = runs[0]
        sh.ws.conditional_format(
            a,
            c,
            b,
            c,
            {
                "type": "formula",
                "criteria": "=TRUE",
                "format": fmt,
                "multi_range": ranges,
            },
        )


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive numbers."""
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def cost_note(ctx: Context, sh: Sheet, row: int, width: int) -> int:
    """What the unit cost rests on: the nodes' wafer price and defect density,
    NRE and volume (from the Cost tables); returns the next row."""
    r = ctx.results
    if r.cost is None:
        return row
    bd = r.cost.breakdown
    v = r.study.variants
    nodes = []
    for node, g in bd.groupby("process_node", sort=False):
        wafer = g["wafer_price_usd"].astype(float)
        d0 = g["defect_density_per_cm2"].astype(float)
        nodes.append(f"{node} wafer {_money(wafer)}, {_span_g(d0)} defects/cm²")
    shown_nodes = "; ".join(nodes[:3]) + (
        f"; and {len(nodes) - 3} more" if len(nodes) > 3 else ""
    )
    volume = v["volume_units"].astype(float)
    nre = bd["nre_per_unit_usd"].astype(float)
    o = ctx.ops
    sh.note(
        row,
        0,
        f"Unit cost = cost per good package + NRE per unit (Cost sheet); {o} per "
        f"USD = peak {ctx.precision} {o} / unit cost. Assumptions: {shown_nodes} "
        "(the process node table of the Cost setup sheet, or the shipped one "
        "when the workbook has none; sources on the Cost sheet); NRE per unit "
        f"{_money(nre)} = (mask set + design NRE) / {_span_g(volume, ',.0f')} "
        "units.",
        width,
        italic=True,
    )
    return row + 1


def _money(x) -> str:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return "n/a"
    lo, hi = float(x.min()), float(x.max())
    return f"${lo:,.0f}" if round(lo) == round(hi) else f"${lo:,.0f}-${hi:,.0f}"


def _span_g(x, spec: str = "g") -> str:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return "n/a"
    lo, hi = float(x.min()), float(x.max())
    return format(lo, spec) if lo == hi else f"{lo:{spec}}-{hi:{spec}}"


def table_note(ctx: Context, sh: Sheet, row: int, width: int) -> int:
    """How the workload mix is computed and what amber means; returns the next row."""
    shares = ctx.results.advice.shares
    mix = ", ".join(f"{n} {100 * s:.0f} %" for n, s in list(shares.items())[:8])
    if len(shares) > 8:
        mix += f", and {len(shares) - 8} more"
    sh.note(
        row,
        0,
        "Workload-mix throughput = sum over the workloads of share of run time x "
        f"min(peak, arithmetic intensity x HBM bandwidth); shares: {mix}. Per watt: "
        "over the power at 100 %. Amber cells: computed from inputs flagged "
        "implausible (last column).",
        width,
        italic=True,
    )
    return row + 1


def reach_table(ctx: Context, sh: Sheet, row: int) -> int:
    """The one-parameter changes searched for the subject; returns the next row."""
    a = ctx.results.advice
    t = a.reach
    if not len(t):
        return row
    sh.heading(
        row,
        0,
        f"What it would take for {a.subject}: the smallest change of one parameter "
        "that meets each target it misses (found with the engine)",
    )
    shown = t.copy()
    shown["target"] = [
        "every target at once" if x == EVERY_TARGET else x for x in shown["target"]
    ]
    shown["outside_plausible"] = [
        "outside" if x else "" for x in shown["outside_plausible"]
    ]
    shown["reachable"] = [
        "yes" if ok else "no effect" if status == NO_EFFECT else "no"
        for ok, status in zip(shown["reachable"], shown["status"], strict=True)
    ]
    cols = [
        Col("parameter", "Parameter", "text"),
        Col("target", "To meet", "text"),
        Col("unit", "Unit", "text"),
        Col("now", "Now", "#,##0.####"),
        Col("value", "Meets it at", "#,##0.####"),
        Col("change_percent", "Change (%)", "0.0"),
        Col("reachable", "Reachable in the valid range", "text", center=True),
        Col("others_missed", "But then misses", "text"),
        Col("outside_plausible", "Plausible range", "text", center=True),
    ]
    table = sh.table(row + 1, 0, shown, cols, cap_width=30)
    return table.last_row + 2
