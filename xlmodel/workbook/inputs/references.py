"""The References sheet: shipping chips the variants are compared with.

One row per chip, the columns of :data:`~xlmodel.studies.reference.REFERENCE_COLUMNS`
(the layout of ``xlmodel/data/chips.csv``). The template lists the shipped chips
and leaves spare rows for the user's own; the reader returns the chips table,
or None for the shipped one when the sheet is missing or empty.
"""

from __future__ import annotations

import csv
import io
import math
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from ...engine.table import Table
from ...errors import quoted
from ...studies.reference import (
    DENSE_CLOCK_PRECISIONS,
    REFERENCE_COLUMNS,
    REFERENCE_MAXIMA,
    beyond_maximum,
    load_chips,
    node_class,
)
from ..grid import Grid, cell_name
from ..values import CellError, blank, folded, number_from_text, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, write_title
from .layout import SPARE_ROWS, Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

#: Text columns that take one of a few words: column -> (words, what is expected).
CHOICES = {
    "tdp_kind": (
        ("draw", "limit"),
        "is not draw, limit or blank (draw: the board draws its TDP at the quoted "
        "clock; limit: the TDP caps it below that clock; blank: decided from the "
        "table)",
    ),
    "dense_clock_precision": (
        DENSE_CLOCK_PRECISIONS,
        f"is not {', '.join(DENSE_CLOCK_PRECISIONS)} or blank (the precision of the "
        "dense GEMM the clock was measured under)",
    ),
}

BLOCK = Block(
    "references",
    "xlmodel_references",
    "References",
    2,
    0,
    tuple(c[0] for c in REFERENCE_COLUMNS),
)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the References sheet with the shipped chips, columns validated."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Reference silicon",
        "Public specifications of shipping accelerators (dense peaks, no sparsity; "
        "an FMA counts as two FLOPs). Add rows for your own chips (a competitor, "
        "last generation); leave unpublished values blank.",
    )
    header(ws, fmt, block)
    chips = load_chips().reset_index()
    r0, c0 = block.row + 1, block.col
    last = r0 + len(chips) + SPARE_ROWS - 1
    for j, (name, kind, required, text) in enumerate(REFERENCE_COLUMNS):
        c = c0 + j
        for i, v in enumerate(chips[name]):
            if kind == "text":
                if isinstance(v, str) and v:
                    ws.write_string(r0 + i, c, v, fmt.input_text)
                else:
                    ws.write_blank(r0 + i, c, None, fmt.input_text)
            elif v == v:  # not NaN
                ws.write_number(r0 + i, c, float(v), fmt.input_float)
            else:
                ws.write_blank(r0 + i, c, None, fmt.input_float)
        title = name[:32]
        message = (text + (" (required)" if required else " (optional)"))[:255]
        if kind == "text":
            opts = {
                "validate": "length",
                "criteria": "between",
                "minimum": 0,
                "maximum": 255,
            }
        else:
            opts = {
                "validate": "integer" if kind == "count" else "decimal",
                "criteria": "greater than",
                "value": 0,
            }
        opts.update(input_title=title, input_message=message)
        ws.data_validation(r0, c, last, c, opts)
        width = 40 if name == "notes" else 22 if kind == "text" else 12
        ws.set_column(c, c, width)
    ws.freeze_panes(block.row + 1, 1)


def read(ctx: Context) -> Table | None:
    """The References sheet as a chips table (layout of xlmodel/data/chips.csv).

    A :class:`~xlmodel.engine.table.Table` (index: chip; :func:`to_frame` gives
    the DataFrame); None: the shipped chips (the sheet is missing, has no rows,
    or its header lacks a required column).
    """
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the shipped reference chips"
        )
        return None
    grid, r0, c0 = found
    sheet = grid.title
    spec = {name: (kind, required) for name, kind, required, _ in REFERENCE_COLUMNS}
    columns = _columns(ctx, grid, r0, c0, spec)
    missing = [n for n, (_, req) in spec.items() if req and n not in columns]
    if missing:
        ctx.problem(
            Where(sheet, cell_name(r0, c0), "references"),
            ", ".join(missing),
            "required column(s) missing from the header row",
        )
        return None
    rows, seen = [], {}
    for r in range(r0 + 1, grid.rows):
        if not any(grid.filled(r, c) for c in columns.values()):
            continue
        row = _chip(ctx, grid, r, columns, spec, seen)
        if row is not None:
            rows.append(row)
    if not rows:
        if not ctx.problems:
            ctx.warn(f"{sheet}: no reference chips; using the shipped ones")
        return None
    frame = Table.from_rows(rows, [n for n, *_ in REFERENCE_COLUMNS], key="chip")
    if "silicon" not in columns:
        _shipped_silicon(ctx, sheet, frame)
    return frame


def to_frame(table: Table | None):
    """The chips table the studies use: the shipped one for None."""
    return load_chips() if table is None else table.to_frame()


def _shipped_silicon(ctx: Context, sheet: str, frame: Table) -> None:
    """A References sheet without the silicon column (the layout before it):
    each chip the shipped table holds under the same name takes its die from
    there, said in one warning; any other is its own die."""
    text = (resources.files("xlmodel") / "data" / "chips.csv").read_text("utf-8")
    by_name = {
        row["chip"].casefold(): row.get("silicon") or ""
        for row in csv.DictReader(io.StringIO(text))
    }
    dies = [by_name.get(str(chip).casefold(), "") for chip in frame.index]
    frame["silicon"] = dies
    known = sum(1 for d in dies if d)
    others = len(dies) - known
    rest = (
        f"; the other {others} are each their own die on the Reality check"
        if others
        else ""
    )
    ctx.warn(
        f"{sheet}: no silicon column (a layout from before it): the die of {known} "
        f"of the {len(dies)} chips taken from the shipped reference table, where "
        f"they have the same name{rest}; add the column (xlmodel init writes it) "
        "to name each chip's die"
    )


def _columns(ctx: Context, grid: Grid, r0: int, c0: int, spec: dict) -> dict:
    # Reference column -> zero-based column, from the header row.
    columns: dict[str, int] = {}
    for c in range(c0, c0 + grid.width(r0)):
        head = folded(grid.raw(r0, c))
        if head is None:
            continue
        key = head.strip().casefold()
        if key in spec and key not in columns:
            columns[key] = c
        elif key not in spec:
            ctx.warn(
                f"{grid.title}!{cell_name(r0, c)}: column {quoted(head)} is not a "
                "reference column; ignored"
            )
    return columns


def _chip(ctx: Context, grid: Grid, r: int, columns: dict, spec: dict, seen: dict):
    # One chip's row, or None when it has a problem (recorded).
    sheet = grid.title
    chip_where = Where(sheet, cell_name(r, columns["chip"]), "chip")
    chip = _text(ctx, grid, r, columns["chip"], chip_where)
    if not chip:
        ctx.problem(chip_where, "", "chip name missing: type a name or clear the row")
        return None
    if chip.casefold() in seen:
        ctx.problem(
            chip_where,
            chip,
            f"is a duplicate chip (also {seen[chip.casefold()]})",
        )
        return None
    seen[chip.casefold()] = f"{sheet}!{chip_where.cell}"
    row: dict[str, object] = {}
    ok = True
    for name, (kind, required) in spec.items():
        if name == "chip":
            continue
        if name not in columns:
            row[name] = "" if kind == "text" else np.nan
            continue
        c = columns[name]
        where = Where(sheet, cell_name(r, c), f"{chip} {name}")
        if kind == "text":
            row[name] = _text(ctx, grid, r, c, where) or ""
            if required and not row[name]:
                ctx.problem(where, "", "is blank: required text")
                ok = False
            elif name == "process_node" and node_class(row[name]) is None:
                ctx.warn(
                    f"{sheet}!{where.cell} process_node ({chip}): "
                    f"{quoted(row[name])} names no size in nm or Å: the physical "
                    "power preset takes it as a 5 nm-class node (voltage and "
                    "transistor density; the chip's Power, physical preset on the "
                    "Reality check); put the size in its label, e.g. "
                    f"'{row[name]} 5nm'"
                )
            elif name in CHOICES and row[name]:
                value = str(row[name]).casefold()
                if value not in CHOICES[name][0]:
                    ctx.problem(where, row[name], CHOICES[name][1])
                    ok = False
                row[name] = value
            continue
        value = _number(ctx, grid, r, c, where, kind, required)
        top = REFERENCE_MAXIMA.get(name)
        if value is not INVALID and top is not None and value > top:
            ctx.problem(where, shown(value), beyond_maximum(name))
            value = INVALID
        if value is INVALID:
            ok = False
            continue
        row[name] = value
    return {"chip": chip, **row} if ok else None


def _number(ctx: Context, grid: Grid, r: int, c: int, where: Where, kind, required):
    # A number above 0 (whole for a count), NaN when blank, else INVALID.
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return INVALID
    if blank(raw):
        if required:
            ctx.problem(where, "", "is blank: a number above 0 is required")
            return INVALID
        return np.nan
    num = (
        raw
        if isinstance(raw, (int, float)) and not isinstance(raw, bool)
        else number_from_text(raw)
        if isinstance(raw, str)
        else None
    )
    whole = kind != "count" or (num is not None and float(num).is_integer())
    if num is None or not math.isfinite(num) or num <= 0 or not whole:
        what = "a whole number above 0" if kind == "count" else ("a number above 0")
        ctx.problem(where, shown(raw), f"is not {what}")
        return INVALID
    return float(num)


def _text(ctx: Context, grid: Grid, r: int, c: int, where: Where) -> str:
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return ""
    return "" if blank(raw) else str(shown(raw)).strip()
