"""The Workloads sheet: roofline workloads, their arithmetic intensity and weight.

A list of rows (name, FLOP per byte of HBM traffic, unit, run-time weight). The
template preloads the seed's workloads at equal weights; the reader checks names
for duplicates, every intensity against :data:`WORKLOAD_INTENSITY` and every
weight against :data:`WORKLOAD_WEIGHT`. The weights are each workload's share of
run time (relative: scaled to sum to 1); the attainable throughput on the mix is
:func:`xlmodel.studies.advice.mix_throughput`. A sheet without the weight column
(from an older template) or with every weight blank means equal shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...schema import SEED_WORKLOADS, Parameter
from ..grid import cell_name
from ..values import CellError, blank, expectation, folded, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, validation, write_title
from .layout import SPARE_ROWS, Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

BLOCK = Block(
    "workloads",
    "xlmodel_workloads",
    "Workloads",
    2,
    0,
    ("workload", "arithmetic intensity", "unit"),
)
WORKLOAD_INTENSITY = Parameter(
    "arithmetic_intensity",
    "workload",
    "Workloads",
    "FLOP/byte",
    1,
    0,
    1e9,
    "Arithmetic intensity of the workload: FLOP per byte of HBM traffic, above 0",
)
#: Header of the weight column, right of the unit (outside the block's header, so
#: that an older sheet without it is still found by its header row).
WEIGHT_HEADER = "run-time weight"
WORKLOAD_WEIGHT = Parameter(
    "run_time_weight",
    "workload",
    "Workloads",
    "",
    1,
    0,
    1e9,
    "Share of run time spent in this workload, relative (the weights are scaled to "
    "sum to 1; 0 leaves it out of the mix); blank in every row = equal shares",
)
MIX_NOTE = (
    "Workload-mix throughput (Summary) = sum over workloads of share x min(peak, "
    "intensity x HBM bandwidth), share = weight / sum of weights: the time-weighted "
    "mean of the roofline's attainable TFLOPS."
)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Workloads sheet with the seed's workloads."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Workloads",
        "Roofline workloads: name, arithmetic intensity (FLOP per byte of HBM "
        "traffic) and run-time weight (share of run time; blank everywhere = equal). "
        "Add rows below; delete a row to drop a workload.",
    )
    header(ws, fmt, block)
    ws.write_string(block.row, block.col + 3, WEIGHT_HEADER, fmt.header)
    ws.merge_range(block.row, block.col + 5, block.row + 3, block.col + 5, MIX_NOTE,
                   fmt.note_wrap)  # fmt: skip
    r0, c = block.row + 1, block.col
    for i, (name, ai) in enumerate(SEED_WORKLOADS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_number(r0 + i, c + 1, ai, fmt.input_float)
        ws.write_string(r0 + i, c + 2, WORKLOAD_INTENSITY.unit)
        ws.write_number(r0 + i, c + 3, WORKLOAD_WEIGHT.default, fmt.input_float)
    last = r0 + len(SEED_WORKLOADS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        {
            "validate": "length",
            "criteria": "between",
            "minimum": 1,
            "maximum": 255,
            "input_title": "Workload name",
            "input_message": "A unique workload name; its intensity goes to the right.",
        },
    )
    opts = validation(WORKLOAD_INTENSITY)
    opts.update(criteria="greater than", value=0)
    del opts["minimum"], opts["maximum"]
    ws.data_validation(r0, c + 1, last, c + 1, opts)
    ws.data_validation(r0, c + 3, last, c + 3, validation(WORKLOAD_WEIGHT))
    ws.set_column(c, c, 28)
    ws.set_column(c + 1, c + 1, 20)
    ws.set_column(c + 2, c + 2, 12)
    ws.set_column(c + 3, c + 3, 16)
    ws.set_column(c + 5, c + 5, 60)
    ws.freeze_panes(block.row + 1, 0)


def read(ctx: Context) -> tuple[dict[str, float], dict[str, float] | None]:
    """(workload name -> arithmetic intensity (FLOP/byte), name -> weight or None).

    The weights are as typed (not yet scaled); None means equal shares (no weight
    column, or every weight blank).
    """
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the default workloads"
        )
        return dict(SEED_WORKLOADS), None
    grid, r0, c0 = found
    sheet, p = grid.title, WORKLOAD_INTENSITY
    has_weights = folded(grid.raw(r0, c0 + 3)) == WEIGHT_HEADER
    out: dict[str, float] = {}
    weights: dict[str, tuple[float | None, Where]] = {}
    seen: dict[str, str] = {}
    before = len(ctx.problems)
    for r in range(r0 + 1, grid.rows):
        if not (grid.filled(r, c0) or grid.filled(r, c0 + 1)):
            continue
        name_where = Where(sheet, cell_name(r, c0), "workload")
        try:
            name_raw = ctx.raw(grid, r, c0, name_where)
        except CellError as e:
            ctx.problem(name_where, e.value, e.expected)
            continue
        name = "" if blank(name_raw) else str(shown(name_raw)).strip()
        where = Where(sheet, cell_name(r, c0 + 1), f"{name or 'workload'} intensity")
        v = ctx.value(p, grid, r, c0 + 1, where)
        if not name:
            ctx.problem(
                name_where,
                "",
                "workload name missing: type a name or clear the row",
            )
            continue
        if name.casefold() in seen:
            ctx.problem(
                name_where,
                name,
                f"is a duplicate workload (also {seen[name.casefold()]})",
            )
            continue
        seen[name.casefold()] = f"{sheet}!{name_where.cell}"
        if v is None:
            ctx.problem(
                where, "", f"is blank: type the {expectation(p)} or clear the row"
            )
        elif v is not INVALID:
            out[name] = float(v)
        if has_weights:
            w_where = Where(sheet, cell_name(r, c0 + 3), f"{name} run-time weight")
            w = ctx.value(WORKLOAD_WEIGHT, grid, r, c0 + 3, w_where)
            if w is not INVALID:
                weights[name] = (None if w is None else float(w), w_where)
    if not out and len(ctx.problems) == before:
        ctx.problem(
            Where(sheet, cell_name(r0 + 1, c0), "workload"),
            "",
            "no workloads: add at least one row (name, arithmetic intensity)",
        )
    return out, _weights(ctx, {k: weights[k] for k in out if k in weights})


def _weights(ctx: Context, weights: dict) -> dict[str, float] | None:
    """The typed weights, or None (equal shares) when every one is blank."""
    typed = {k: w for k, (w, _) in weights.items() if w is not None}
    if not typed:
        return None
    for _, (w, where) in weights.items():
        if w is None:
            ctx.problem(
                where,
                "",
                "is blank while other workloads have weights: type its weight (0 "
                "leaves it out of the mix) or clear every weight for equal shares",
            )
    if len(typed) == len(weights) and sum(typed.values()) <= 0:
        where = next(iter(weights.values()))[1]
        ctx.problem(
            where,
            0,
            "every run-time weight is 0: give at least one workload a weight above 0",
        )
    return typed
