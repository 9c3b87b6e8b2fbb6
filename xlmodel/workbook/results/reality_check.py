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
from .context import Context
from .formats import unit_format
from .geometry import padded_bounds
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
    sh.heading(3, 0, "Variants and reference chips")
    table = sh.table(4, 0, frame, _COLUMNS, cap_width=30)
    sh.page(table.header_row)
    points, xs = _points(ctx, real, table)
    if not points:
        return
    layout = Layout(
        "Density vs efficiency (physical preset): variants ●, references ◆",
        x_title="FP16 TFLOPS/W (physical preset)",
        y_title="FP16 density (TFLOPS/mm²)",
        series=tuple(points),
        x_bounds=padded_bounds(xs),
        width=760,
        height=420,
        number_format="0.00",
        x_number_format="0.0",
    )
    sh.chart(ch.add_scatter_chart, layout, table.last_row + 2, 0)
    if ctx.capped:
        sh.note(table.last_row + 1, 0, ctx.cap_note("The chart does"), 8)


SHEET = ResultSheet("Reality check", write)


def _points(
    ctx: Context, real: pd.DataFrame, table: Table
) -> tuple[list[Series], list[float]]:
    """One marker per charted variant and per reference with a known die area.

    Returns the series and their X values (TFLOPS/W, physical preset).
    """
    names = [str(x) for x in real.index]
    kinds = list(real["kind"])
    density = real["density_fp16_tflops_per_mm2"].to_numpy(float)
    points, xs = [], []
    for i, (name, kind) in enumerate(zip(names, kinds)):
        if not math.isfinite(density[i]):
            continue
        if kind == "variant" and name not in ctx.plotted:
            continue
        row = table.first_row + i
        xs.append(float(real["tflops_per_w_physical"].iloc[i]))
        points.append(
            Series(
                Span(row, table.cols["density_fp16_tflops_per_mm2"]),
                Span(row, table.cols["name"]),
                Span(row, table.cols["tflops_per_w_physical"]),
                kind="marker",
                color=ctx.colors.get(name, "#7F7F7F"),
                marker="circle" if kind == "variant" else "diamond",
                label=True,
                legend=False,
            )
        )
    return points, xs
