"""The Reality check sheet: the variants beside shipping silicon, and a scatter.

One table of every variant and reference chip (FP16 peaks and densities, also as
multiples of the H100, power and TFLOPS/W with the workbook's coefficients and
with the physical preset) and a chart of density against efficiency: one
labelled point per charted variant and per reference with a known die area.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import charts as ch
from ..charts import Layout, Series, Span
from .banner import stale_banner
from .context import Context
from .formats import unit_format
from .geometry import decade_bounds
from .sheet import Col, ResultSheet, Sheet, Table

_COLUMNS = [
    Col("name", "Variant or chip", "text"),
    Col("kind", "Kind", "text"),
    Col("peak_fp16_tflops", "Peak FP16 (TFLOPS)", unit_format("TFLOPS")),
    Col("peak_x_h100", "Peak (x H100)", "0.00"),
    Col(
        "density_fp16_tflops_per_mm2",
        "Density FP16 (TFLOPS/mm²)",
        unit_format("TFLOPS/mm²"),
    ),
    Col("density_x_h100", "Density (x H100)", "0.00"),
    Col(
        "fp16_flop_per_cycle_per_sm",
        "FP16 FLOP per clock per SM",
        unit_format("FLOP/cycle/SM"),
    ),
    Col("power_w", "Power, workbook coefficients (W)", unit_format("W")),
    Col("power_physical_w", "Power, physical preset (W)", unit_format("W")),
    Col("published_tdp_w", "Published TDP (W)", unit_format("W")),
    Col("tflops_per_w", "TFLOPS/W, workbook", unit_format("TFLOPS/W")),
    Col("tflops_per_w_physical", "TFLOPS/W, physical", unit_format("TFLOPS/W")),
    Col("bytes_per_flop", "HBM bytes per FLOP (byte/FLOP)", unit_format("byte/FLOP")),
    Col(
        "ridge_fp16_flop_per_byte",
        "Ridge point FP16 (FLOP/byte)",
        unit_format("FLOP/byte"),
    ),
]


def write(ctx: Context, sh: Sheet) -> None:
    """The table, then the chart below it."""
    real = ctx.results.reality
    frame = real.copy()
    frame.insert(0, "name", [str(x) for x in real.index])
    sh.title(
        0,
        "Reality check: variants beside shipping silicon",
        "FP16 dense peaks; power and TFLOPS/W with the workbook's coefficients and "
        "with the physical preset fitted on the references' TDP (xlmodel calibrate). "
        "Density n/a where a die area is not published.",
    )
    stale_banner(ctx, sh)
    sh.heading(3, 0, "Variants and reference chips")
    table = sh.table(4, 0, frame, _COLUMNS, cap_width=30)
    sh.page(table.header_row)
    row = table.last_row + 2
    if ctx.capped:
        sh.note(row - 1, 0, ctx.cap_note("The chart does"), 8)
    left_out = _left_out(real)
    if left_out:
        sh.note(row, 0, left_out, 8, italic=True)
        row += 1
    rows = _charted(ctx, real)
    if not rows:
        return
    width, height = 760, 420
    xs = [float(real["tflops_per_w_physical"].iloc[i]) for i in rows]
    ys = [float(real["density_fp16_tflops_per_mm2"].iloc[i]) for i in rows]
    # both span decades (a seed variant at 0.04 TFLOPS/mm², MI355X at 2.9): on
    # linear axes the variants crowd one corner and their labels cover each other
    x_bounds, y_bounds = decade_bounds(xs), decade_bounds(ys)
    names = [str(real.index[i]) for i in rows]
    where = ch.place_labels(
        [(x, y, n) for x, y, n in zip(xs, ys, names)],
        (width, height),
        x_bounds,
        y_bounds,
        x_log=True,
        y_log=True,
    )
    layout = Layout(
        "Density vs efficiency (physical preset): variants ●, references ◆",
        x_title="FP16 TFLOPS/W (physical preset)",
        y_title="FP16 density (TFLOPS/mm²)",
        series=tuple(_point(ctx, real, table, i, pos) for i, pos in zip(rows, where)),
        x_bounds=x_bounds,
        y_bounds=y_bounds,
        x_log=True,
        y_log=True,
        width=width,
        height=height,
        number_format="0.0##",
        x_number_format="0.0##",
    )
    sh.chart(ch.add_scatter_chart, layout, row + 1, 0)


SHEET = ResultSheet("Reality check", write)


def _charted(ctx: Context, real: pd.DataFrame) -> list[int]:
    """Rows charted: every reference and charted variant with both coordinates."""
    out = []
    for i, name in enumerate(str(x) for x in real.index):
        if real["kind"].iloc[i] == "variant" and name not in ctx.plotted:
            continue
        x = float(real["tflops_per_w_physical"].iloc[i])
        y = float(real["density_fp16_tflops_per_mm2"].iloc[i])
        if math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0:  # log axes
            out.append(i)
    return out


def _left_out(real: pd.DataFrame) -> str:
    """Which references the chart leaves out and why ("" when none)."""
    refs = real[real["kind"] != "variant"]
    no_area = [
        str(n)
        for n, d in zip(refs.index, refs["density_fp16_tflops_per_mm2"])
        if not math.isfinite(float(d))
    ]
    no_power = [
        str(n)
        for n, d, w in zip(
            refs.index,
            refs["density_fp16_tflops_per_mm2"],
            refs["tflops_per_w_physical"],
        )
        if math.isfinite(float(d)) and not (math.isfinite(float(w)) and float(w) > 0)
    ]
    parts = []
    if no_area:
        parts.append(
            f"{_names(no_area)} {'is' if len(no_area) == 1 else 'are'} not on the "
            "chart: no die area is published, so the density is unknown"
        )
    if no_power:
        parts.append(
            f"{_names(no_power)} {'is' if len(no_power) == 1 else 'are'} not on the "
            "chart: the physical preset gives no TFLOPS/W"
        )
    return "; ".join(parts) + "." if parts else ""


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _point(ctx: Context, real: pd.DataFrame, table: Table, i: int, where: str):
    """The labelled marker of row ``i`` of the table."""
    name = str(real.index[i])
    row = table.first_row + i
    return Series(
        Span(row, table.cols["density_fp16_tflops_per_mm2"]),
        Span(row, table.cols["name"]),
        Span(row, table.cols["tflops_per_w_physical"]),
        kind="marker",
        color=ctx.colors.get(name, "#7F7F7F"),
        marker="circle" if real["kind"].iloc[i] == "variant" else "diamond",
        label=True,
        label_position=where,
        legend=False,
    )
