"""The Workloads sheet: roofline workloads and their arithmetic intensity.

A list of rows (name, FLOP per byte of HBM traffic, unit). The template preloads
the seed's workloads; the reader checks names for duplicates and every intensity
against :data:`WORKLOAD_INTENSITY`.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from ...schema import SEED_WORKLOADS, Parameter
from ..grid import cell_name
from ..values import CellError, blank, expectation, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, validation, write_title
from .layout import SPARE_ROWS, Block

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


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Workloads sheet with the seed's workloads."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Workloads",
        "Roofline workloads: name and arithmetic intensity (FLOP per byte of HBM "
        "traffic). Add rows below; delete a row to drop a workload.",
    )
    header(ws, fmt, block)
    r0, c = block.row + 1, block.col
    for i, (name, ai) in enumerate(SEED_WORKLOADS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_number(r0 + i, c + 1, ai, fmt.input_float)
        ws.write_string(r0 + i, c + 2, WORKLOAD_INTENSITY.unit)
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
    ws.set_column(c, c, 28)
    ws.set_column(c + 1, c + 1, 20)
    ws.set_column(c + 2, c + 2, 12)
    ws.freeze_panes(block.row + 1, 0)


def read(ctx: Context) -> dict[str, float]:
    """Workload name -> arithmetic intensity (FLOP/byte)."""
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the default workloads"
        )
        return dict(SEED_WORKLOADS)
    grid, r0, c0 = found
    sheet, p = grid.title, WORKLOAD_INTENSITY
    out: dict[str, float] = {}
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
    if not out and len(ctx.problems) == before:
        ctx.problem(
            Where(sheet, cell_name(r0 + 1, c0), "workload"),
            "",
            "no workloads: add at least one row (name, arithmetic intensity)",
        )
    return out
