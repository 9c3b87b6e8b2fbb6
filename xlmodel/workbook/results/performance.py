"""The Performance sheet: peaks, densities and ridge points per variant.

One table at the target precision, then one block per quantity (peak, density,
ridge point) with a column per precision. No charts. Every figure is a live
formula over the input cells with the engine's value cached (:mod:`.live`).
"""

from __future__ import annotations

from ...schema import PRECISIONS
from . import live
from .banner import stale_banner
from .context import Context
from .formats import at_precision, unit_format
from .sheet import Col, ResultSheet, Sheet, Table


def write(ctx: Context, sh: Sheet) -> None:
    """The table at the target precision, then the blocks by precision."""
    r = ctx.results
    m = r.metrics
    p, o = ctx.precision, ctx.ops
    frame = m.copy()
    frame.insert(0, "variant", [str(x) for x in m.index])
    sh.title(
        0,
        "Performance per variant",
        "Dense tensor-core peak; density = peak / total compute-die area; ridge "
        "point = peak / HBM bandwidth (n/a without HBM). TFLOPS = 1e12 FLOP/s, "
        "TB/s = 1e12 bytes/s.",
    )
    cols = [
        Col("variant", "Variant", "text"),
        Col("total_sms", "Total SMs", unit_format("SMs")),
        Col("total_area_mm2", "Total compute area (mm²)", unit_format("mm²")),
        Col("hbm_bandwidth_tbps", "HBM bandwidth (TB/s)", unit_format("TB/s")),
        Col(
            "fp16_flop_per_cycle_per_sm",
            "FP16 FLOP per cycle per SM (FLOP/cycle/SM)",
            unit_format("FLOP/cycle/SM"),
        ),
        Col("target_peak_tflops", f"Peak {p} ({o})", unit_format(o)),
        Col(
            "target_density_tflops_per_mm2",
            f"Density {p} ({o}/mm²)",
            unit_format(f"{o}/mm²"),
        ),
        Col(
            "target_ridge_flop_per_byte",
            f"Ridge point {p} (FLOP/byte)",
            unit_format("FLOP/byte"),
        ),
        Col(
            "bytes_per_flop",
            f"Bytes per FLOP {p} (byte/FLOP)",
            unit_format("byte/FLOP"),
        ),
    ]
    stale_banner(ctx, sh, live=True)  # what the live formulas do not follow
    sh.heading(3, 0, f"Per variant, at the target precision {p}")
    table = sh.table(4, 0, frame, cols, cap_width=30)
    tables = [(table, cols)]
    # Blocks follow below: a repeated print title would sit over the wrong header.
    sh.page(table.header_row, repeat=False)
    row = table.last_row + 2
    # One block per quantity, a column per precision: narrow enough to print.
    for key, label, unit in (
        ("peak_{}_tflops", "Peak", "TFLOPS"),
        ("density_{}_tflops_per_mm2", "Density", "TFLOPS/mm²"),
        ("ridge_{}_flop_per_byte", "Ridge point", "FLOP/byte"),
    ):
        # the column of an integer precision says its own unit (TOPS)
        sh.heading(row, 0, f"{label} by precision ({unit})")
        block = [Col("variant", "Variant", "text")]
        for q in PRECISIONS:
            u = at_precision(unit, q.value)
            block.append(
                Col(key.format(q.value.lower()), f"{q.value} ({u})", unit_format(u))
            )
        t = sh.table(row + 1, 0, frame, block, cap_width=30)
        tables.append((t, block))
        row = t.last_row + 2
    _live(ctx, sh, frame, tables)


def _live(ctx: Context, sh: Sheet, frame, tables: list[tuple[Table, list[Col]]]):
    """Every metric cell as a formula over the inputs, the engine's value cached;
    a metric shown twice is computed once, its other cells refer to it."""
    if len(frame) > live.ROW_LIMIT:
        return
    lv = live.Live.of(ctx)
    column = {k: frame[k].to_numpy() for k in frame.columns}  # cell by cell below
    requests = []
    rows = []
    for i, variant in enumerate(frame["variant"]):
        places: dict[str, tuple[int, int, str]] = {}
        for t, cols in tables:
            for c in cols:
                if c.key != "variant" and c.key not in places:
                    places[c.key] = (t.first_row + i, t.cols[c.key], c.fmt)
        cells = {k: live.cell(r, c) for k, (r, c, _) in places.items()}
        rows.append(places)
        requests.append((variant, list(places), cells))
    for i, (places, formulas) in enumerate(zip(rows, lv.formulas_many(requests))):
        for key, (r, c, fmt) in places.items():
            live.write(ctx, sh.ws, r, c, formulas[key], column[key][i], fmt)


SHEET = ResultSheet("Performance", write)
