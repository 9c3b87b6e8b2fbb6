"""The Cost setup sheet: the process node table variants take node defaults from.

One row per process node, the columns of ``xlmodel/data/process_nodes.csv``
(:data:`COLUMNS`): the node's label, its aliases (``;``-separated), wafer price,
defect density and mask set (blank allowed), and where the numbers come from.
The template lists the shipped table and leaves spare rows for the user's own
nodes; the reader returns the table (a checked
:class:`~xlmodel.engine.nodes.NodeTable`, for
:attr:`xlmodel.studies.run.Study.process_nodes`), or the shipped one when the
sheet is missing or holds no rows. Every bad cell is
one problem line (cell, column, value, expectation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...engine.nodes import (
    ALIASES,
    KEY,
    NodeTable,
    load_process_nodes,
    node_key,
    node_table,
)
from ...engine.table import Table
from ...errors import quoted
from ...schema import BY_NAME
from ..grid import Grid, cell_name
from ..values import CellError, blank, folded, number_from_text, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, write_title
from .layout import SPARE_ROWS, Block

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

#: Columns of the table, in order: (name, kind, description).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    (KEY, "text", "Node label that variants name in process_node (required)"),
    (ALIASES, "text", "Other labels of the node, separated by ; (optional)"),
    ("wafer_price_usd", "number", BY_NAME["wafer_price_usd"].description),
    ("defect_density_per_cm2", "number", BY_NAME["defect_density_per_cm2"].description),
    ("mask_set_usd", "number", BY_NAME["mask_set_usd"].description),
    ("as_of", "text", "Year or date the numbers refer to"),
    ("source", "text", "Where the numbers come from"),
)

BLOCK = Block(
    "process_nodes",
    "xlmodel_process_nodes",
    "Cost setup",
    2,
    0,
    tuple(c[0] for c in COLUMNS),
)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Cost setup sheet with the shipped node table, columns validated."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Cost setup: process nodes",
        "A variant whose wafer_price_usd, defect_density_per_cm2 or mask_set_usd "
        "is blank takes its process_node's value from this table (a value given "
        "for the variant wins). Add rows for your own nodes; keep the sources.",
    )
    header(ws, fmt, block)
    nodes = load_process_nodes()
    r0, c0 = block.row + 1, block.col
    last = r0 + len(nodes) + SPARE_ROWS - 1
    for j, (name, kind, text) in enumerate(COLUMNS):
        c = c0 + j
        for i, v in enumerate(nodes[name] if name in nodes else []):
            if kind == "number" and v == v:
                ws.write_number(r0 + i, c, float(v), fmt.input_float)
            elif kind == "text" and v == v and str(v):
                ws.write_string(r0 + i, c, _as_text(v), fmt.input_text)
            else:
                ws.write_blank(r0 + i, c, None, fmt.input(BY_NAME["wafer_price_usd"]))
        if kind == "number":
            p = BY_NAME[name]
            opts = {
                "validate": "decimal",
                "criteria": "between",
                "minimum": p.minimum,
                "maximum": p.maximum,
            }
            unit = f" ({p.unit})"
        else:
            opts = {
                "validate": "length",
                "criteria": "between",
                "minimum": 0,
                "maximum": 255 if name != "source" else 2000,
            }
            unit = ""
        opts.update(input_title=name[:32], input_message=(text + unit)[:255])
        ws.data_validation(r0, c, last, c, opts)
        width = {KEY: 14, ALIASES: 30, "as_of": 8, "source": 90}.get(name, 16)
        ws.set_column(c, c, width)
    ws.freeze_panes(block.row + 1, 1)


def read(ctx: Context) -> NodeTable | None:
    """The Cost setup sheet as a process node table (shipped one when absent).

    The shipped table is :func:`~xlmodel.engine.nodes.node_table` ``()`` itself.

    None when the sheet has problems (recorded): variants are then not looked
    up, so that one bad node cell is one line, not one per variant using it.
    """
    before = len(ctx.problems)
    table = _read(ctx)
    return None if len(ctx.problems) > before else table


def _read(ctx: Context) -> NodeTable:
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the shipped process node table "
            "(xlmodel init writes the sheet, with its sources)"
        )
        return node_table()
    grid, r0, c0 = found
    sheet = grid.title
    columns = _columns(ctx, grid, r0, c0)
    if KEY not in columns:
        ctx.problem(
            Where(sheet, cell_name(r0, c0), KEY),
            "",
            "required column missing from the header row",
        )
        return node_table()
    rows: list[dict] = []
    names: dict[str, str] = {}  # node key -> cell that names it
    for r in range(r0 + 1, grid.rows):
        if not any(grid.filled(r, c) for c in columns.values()):
            continue
        row = _node(ctx, grid, r, columns, names)
        if row is not None:
            rows.append(row)
    if not rows:
        if not ctx.problems:
            ctx.warn(f"{sheet}: no process nodes; using the shipped table")
        return node_table()
    table = Table.from_rows(rows, [c[0] for c in COLUMNS])
    try:
        return NodeTable(table)
    except ValueError as e:  # guarded above; kept as a last check
        ctx.problem(Where(sheet, cell_name(r0, c0), KEY), "", str(e))
        return node_table()


def _as_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _columns(ctx: Context, grid: Grid, r0: int, c0: int) -> dict[str, int]:
    # Column name -> zero-based column, from the header row.
    known = {c[0] for c in COLUMNS}
    columns: dict[str, int] = {}
    for c in range(c0, c0 + grid.width(r0)):
        head = folded(grid.raw(r0, c))
        if head is None:
            continue
        key = head.strip().casefold()
        if key in known and key not in columns:
            columns[key] = c
        else:
            ctx.warn(
                f"{grid.title}!{cell_name(r0, c)}: column {quoted(head)} is not a "
                "process node column; ignored"
            )
    return columns


def _node(ctx: Context, grid: Grid, r: int, columns: dict, names: dict):
    # One node's row, or None when it has a problem (recorded).
    sheet = grid.title
    where = Where(sheet, cell_name(r, columns[KEY]), KEY)
    label = _text(ctx, grid, r, columns[KEY], where)
    if label is INVALID:
        return None
    if not label:
        ctx.problem(where, "", "is blank: type the node's label or clear the row")
        return None
    ok = True
    row: dict[str, object] = {KEY: label}
    labels = [(label, where)]
    for name, kind, _ in COLUMNS[1:]:
        if name not in columns:
            row[name] = np.nan if kind == "number" else ""
            continue
        cw = Where(sheet, cell_name(r, columns[name]), name, label)
        v = (
            _number(ctx, grid, r, columns[name], cw, BY_NAME[name])
            if kind == "number"
            else _text(ctx, grid, r, columns[name], cw)
        )
        if v is INVALID:
            ok = False
            continue
        row[name] = v
        if name == ALIASES and v:
            labels += [(a.strip(), cw) for a in str(v).split(";") if a.strip()]
    for text, w in labels:
        k = node_key(text)
        if k in names and names[k] != f"{sheet}!{where.cell}":
            ctx.problem(w, text, f"names another node too (row at {names[k]})")
            ok = False
        else:
            names[k] = f"{sheet}!{where.cell}"
    return row if ok else None


def _number(ctx: Context, grid: Grid, r: int, c: int, where: Where, p):
    # A number within the parameter's range, NaN when blank, else INVALID.
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return INVALID
    if blank(raw):
        return np.nan
    num = (
        raw
        if isinstance(raw, (int, float)) and not isinstance(raw, bool)
        else number_from_text(raw)
        if isinstance(raw, str)
        else None
    )
    if num is None or not math.isfinite(num) or not p.minimum <= num <= p.maximum:
        ctx.problem(
            where,
            shown(raw),
            f"is not a number in {p.minimum:g}-{p.maximum:g} {p.unit} "
            "(blank: no value for this node)",
        )
        return INVALID
    return float(num)


def _text(ctx: Context, grid: Grid, r: int, c: int, where: Where):
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return INVALID
    return "" if blank(raw) else _as_text(shown(raw)).strip()
