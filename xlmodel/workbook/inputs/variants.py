"""The Variants sheet: one column per design variant, one row per parameter.

Owns the Variants block (defined name ``xlmodel_variants``), its grouped rows
(one heading per schema group), the template writer (the seed's variants with
names, values and validation) and the reader: rows found by the key in column A,
variant columns by their header names, blanks reported compactly. Also the
drop-down sources other sheets take from it (variant names, parameter keys),
the frame of all parameters per variant (:func:`build_frame`) and where the table
lies for ``xlmodel adopt`` (:func:`read_layout`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...engine.nodes import KEY as NODE_KEY
from ...engine.nodes import NODE_PARAMETERS, NodeTable
from ...engine.table import Table
from ...errors import CellProblem, PackageError, quoted, shortened
from ...schema import BY_NAME, PARAMETERS, VARIANT_PARAMETERS, Parameter
from ..grid import Book, Grid, cell_name, column_letter
from ..values import ERROR_VALUES, CellError, blank, shown, with_unit
from .context import (
    GROUPS,
    INVALID,
    NAMES_FOLDED,
    Context,
    Where,
    cell_of,
    cell_ref,
    numeric_cell,
)
from .formats import (
    Formats,
    describe,
    header,
    ref,
    validation,
    write_title,
    write_value,
)
from .layout import Block, groups, table_rows

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

BLOCK = Block(
    "variants",
    "xlmodel_variants",
    "Variants",
    2,
    0,
    ("parameter", "unit", "description"),
)
#: Columns of Variants before the first variant column: parameter, unit, description.
VARIANT_LABEL_COLUMNS = 3
#: Variant columns that carry data validation (and so input messages), so that
#: added variants get them too.
VALIDATED_VARIANT_COLUMNS = 50
#: Refuse more variant columns than this.
MAX_VARIANTS = 10_000


def variant_groups() -> Iterator[tuple[str, tuple[Parameter, ...]]]:
    """Groups of the Variants sheet in schema order: (heading, parameters).

    Yields
    ------
    (str, tuple of Parameter)
        The group heading and its variant parameters.
    """
    yield from groups(VARIANT_PARAMETERS)


def variant_rows() -> dict[str, int]:
    """Zero-based row of every variant parameter on the template's Variants sheet.

    Returns
    -------
    dict of str to int
        Parameter name -> row index (the reader does not rely on it; tests do).
    """
    return dict(table_rows(VARIANT_PARAMETERS, BLOCK.row + 1))


def names_source() -> str:
    """Drop-down source listing the variant names (the header cells of Variants)."""
    first = BLOCK.col + VARIANT_LABEL_COLUMNS
    return "=" + ref(
        BLOCK.sheet, BLOCK.row, first, BLOCK.row, first + VALIDATED_VARIANT_COLUMNS - 1
    )


def keys_source() -> str:
    """Drop-down source listing the parameter keys (column A of Variants)."""
    rows = variant_rows()
    return "=" + ref(BLOCK.sheet, min(rows.values()), BLOCK.col, max(rows.values()))


# --- writing ---------------------------------------------------------------------


def write(ws: Worksheet, fmt: Formats, variants: Mapping) -> None:
    """Fill the Variants sheet: a column per variant, a row per parameter."""
    block = BLOCK
    first = block.col + VARIANT_LABEL_COLUMNS
    last = first + max(len(variants), VALIDATED_VARIANT_COLUMNS) - 1
    write_title(
        ws,
        fmt,
        "Variants: one column per design variant",
        "Edit the blue cells. Add a variant: type its name in the next free cell of "
        "row 3 and fill its column. Column A is the key xlmodel reads.",
    )
    header(ws, fmt, block)
    names_dv = {
        "validate": "length",
        "criteria": "between",
        "minimum": 1,
        "maximum": 100,
        "input_title": "Variant name",
        "input_message": "A unique name for this variant (its column below holds "
        "its parameters). Add a variant by typing a name in the next free cell.",
    }
    for j, name in enumerate(variants):
        ws.write_string(block.row, first + j, str(name), fmt.header_input)
    ws.data_validation(block.row, first, block.row, last, names_dv)
    rows = variant_rows()
    for group, members in variant_groups():
        heading = rows[members[0].name] - 1
        ws.write_string(heading, block.col, group, fmt.group)
        for c in range(block.col + 1, block.col + VARIANT_LABEL_COLUMNS):
            ws.write_blank(heading, c, None, fmt.group)
        for p in members:
            r = rows[p.name]
            ws.write_string(
                r, block.col, p.name, fmt.unused_key if not p.used else fmt.key
            )
            label = fmt.label if p.used else fmt.unused
            ws.write_string(r, block.col + 1, p.unit, label)
            if p.name in NODE_PARAMETERS and p.used:
                # its variant cells are blank: wrap rather than spill over them
                ws.write_string(r, block.col + 2, describe(p), fmt.label_wrap)
                ws.set_row(r, 45)
            else:
                ws.write_string(r, block.col + 2, describe(p), label)
            for j, values in enumerate(variants.values()):
                if p.name in NODE_PARAMETERS and values.get(p.name) is None:
                    # blank: the process node table (Cost setup) supplies it
                    ws.write_blank(r, first + j, None, fmt.input(p))
                    continue
                write_value(ws, r, first + j, values.get(p.name, p.default), p, fmt)
            ws.data_validation(r, first, r, last, validation(p))
    ws.set_column(block.col, block.col, 32)
    ws.set_column(block.col + 1, block.col + 1, 14)
    ws.set_column(block.col + 2, block.col + 2, 50)
    ws.set_column(first, last, 20)
    ws.freeze_panes(block.row + 1, first)


# --- reading ---------------------------------------------------------------------


@dataclass
class VariantTable:
    """What was read from Variants: names, values and cells per parameter."""

    names: list[str] = field(default_factory=list)
    values: dict[str, list] = field(default_factory=dict)  # parameter -> per variant
    cells: dict[str, list[str]] = field(default_factory=dict)  # parameter -> cells
    sheet: str = "Variants"
    # parameter -> per variant, the absolute reference of a cell holding the
    # number read ("" for a blank, text or invalid cell)
    refs: dict[str, list[str]] = field(default_factory=dict)


def read(ctx: Context) -> VariantTable | None:
    """The variants table, or None when the sheet is missing (a problem says so)."""
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        ctx.problems.append(
            CellProblem(
                block.sheet,
                "",
                "",
                ctx.book.path.name,
                f"has no {block.sheet} sheet (nor the defined name "
                f"{block.defined_name}): restore it, or start from the template "
                "(xlmodel init)",
            )
        )
        return None
    grid, r0, c0 = found
    table = VariantTable(sheet=grid.title)
    rows = key_rows(ctx, grid, r0, c0, c0 + VARIANT_LABEL_COLUMNS, table.sheet)
    columns = variant_columns(ctx, grid, r0, c0 + VARIANT_LABEL_COLUMNS, rows)
    table.names = [name for _, name in columns]
    blanks: list[tuple[Parameter, Where]] = []
    for p in PARAMETERS:
        r = rows.get(p.name)
        if r is None:
            if p.name in NODE_PARAMETERS:
                ctx.warn(
                    f"{table.sheet}: no row {p.name}; every variant takes its "
                    "process node's value (Cost setup)"
                )
            elif p.section == "variant":
                ctx.warn(
                    f"{table.sheet}: no row {p.name}; every variant takes the "
                    f"default {with_unit(p, p.default)}"
                )
            continue
        vals, cells, refs = [], [], []
        for c, name in columns:
            where = Where(table.sheet, cell_name(r, c), p.name, name)
            v = ctx.value(p, grid, r, c, where)
            if v is None and p.section == "variant" and p.name not in NODE_PARAMETERS:
                blanks.append((p, where))
            vals.append(v)
            cells.append(where.cell)
            live = v is not None and v is not INVALID and p.numeric
            refs.append(
                cell_ref(table.sheet, r, c) if live and numeric_cell(grid, r, c) else ""
            )
        table.values[p.name], table.cells[p.name] = vals, cells
        table.refs[p.name] = refs
    _blank_warnings(ctx, blanks)
    return table


def _blank_warnings(ctx: Context, blanks: list[tuple[Parameter, Where]]) -> None:
    # One line per blank cell, but one per row or per variant column when many
    # blanks share it (a new variant column, a row cleared across variants).
    many = 5
    by_row: dict[str, list[tuple[Parameter, Where]]] = {}
    for p, where in blanks:
        by_row.setdefault(p.name, []).append((p, where))
    rest = []
    for items in by_row.values():
        if len(items) <= many:
            rest.extend(items)
            continue
        p, first = items[0]
        ctx.warn(
            f"{first.sheet}!{first.cell}:{items[-1][1].cell} {p.name}: blank for "
            f"{len(items)} variants; using the default {with_unit(p, p.default)}"
        )
    by_column: dict[str, list[tuple[Parameter, Where]]] = {}
    for p, where in rest:
        by_column.setdefault(where.variant or "", []).append((p, where))
    for variant, items in by_column.items():
        if len(items) <= many:
            for p, where in items:
                ctx.warn(f"{where}: blank; using the default {with_unit(p, p.default)}")
            continue
        first, last = items[0][1], items[-1][1]
        names = ", ".join(p.name for p, _ in items[:4])
        ctx.warn(
            f"{first.sheet}!{first.cell}:{last.cell} ({variant}): {len(items)} "
            f"blank inputs take their defaults ({names}, ...)"
        )


def key_rows(
    ctx: Context, grid: Grid, r0: int, c0: int, first_value: int, sheet: str
) -> dict[str, int]:
    """Parameter rows by the key in the block's first column."""
    rows: dict[str, int] = {}
    for r in range(r0 + 1, grid.rows):
        key = grid.raw(r, c0)
        width = grid.width(r)
        has_values = any(grid.filled(r, c) for c in range(first_value, width))
        if blank(key):
            if has_values:
                ctx.warn(
                    f"{sheet}!{cell_name(r, c0)}: row {r + 1} has values but no "
                    "parameter name in its first column; row ignored"
                )
            continue
        text = str(shown(key)).strip()
        p = NAMES_FOLDED.get(text.casefold())
        if p is not None:
            if p.name in rows:
                ctx.problem(
                    Where(sheet, cell_name(r, c0), p.name),
                    text,
                    f"appears twice: also in row {rows[p.name] + 1}; delete one",
                )
                continue
            rows[p.name] = r
        elif text.casefold() in GROUPS and not has_values:
            continue
        else:
            close = difflib.get_close_matches(text, BY_NAME, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if has_values or close:
                ctx.warn(
                    f"{sheet}!{cell_name(r, c0)}: {quoted(text)} is not a parameter{hint}; "
                    "row ignored"
                )
    return rows


def _last_column(grid: Grid, r0: int, first: int, rows: dict[str, int]) -> int:
    # One past the last column with a filled cell in the header or a key row.
    used = [r0, *rows.values()]
    last = max((grid.width(r) for r in used), default=0)
    while last > first and not any(grid.filled(r, last - 1) for r in used):
        last -= 1
    return last


def variant_columns(
    ctx: Context, grid: Grid, r0: int, first: int, rows: dict[str, int]
) -> list[tuple[int, str]]:
    """(column, name) of every variant column, names checked for duplicates."""
    sheet = grid.title
    last = _last_column(grid, r0, first, rows)
    if last - first > MAX_VARIANTS:
        raise PackageError(
            f"{ctx.book.path}: {sheet} has more than {MAX_VARIANTS:,} variant "
            f"columns (up to column {column_letter(last)}); delete stray "
            "cells to the right of the table"
        )
    columns: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    bad_header = False
    for c in range(first, last):
        where = Where(sheet, cell_name(r0, c), "")
        has_values = any(grid.filled(r, c) for r in rows.values())
        try:
            raw = ctx.raw(grid, r0, c, where)
            if isinstance(raw, str) and raw.strip() in ERROR_VALUES:
                raise CellError(raw, "is an error value, not a variant name")
            if isinstance(raw, (bool, datetime, date, time, timedelta)):
                raise CellError(shown(raw), "is not a variant name: type text")
        except CellError as e:
            ctx.problem(where, e.value, e.expected)
            bad_header = True
            continue
        if blank(raw):
            if has_values:
                ctx.problem(
                    where,
                    "",
                    f"variant name missing: column {column_letter(c + 1)} "
                    "has values; type a name in this header cell or clear the "
                    "column",
                )
                bad_header = True
            continue
        name = str(shown(raw)).strip()
        fold = name.casefold()
        if fold in seen:
            ctx.problem(
                where,
                name,
                f"is a duplicate variant name (also {seen[fold]}); names must "
                "be unique, ignoring case",
            )
            bad_header = True
            continue
        seen[fold] = f"{sheet}!{where.cell}"
        columns.append((c, name))
    if not columns and not bad_header:
        ctx.problem(
            Where(sheet, cell_name(r0, first), ""),
            "",
            "no variants: type a variant name in the header row from column "
            f"{column_letter(first + 1)} and its values below",
        )
    return columns


def build_frame(table: VariantTable, sheet_values: dict) -> Table:
    """Every parameter per variant: the variant's cell, else the sheet's value.

    A :class:`~xlmodel.engine.table.Table` (index: the variant names), checked
    without pandas; ``to_frame()`` gives the Study's DataFrame.

    ``sheet_values`` holds the values read from Targets and Coefficients; a
    parameter given on neither takes its schema default, except the node
    parameters (``NODE_PARAMETERS``): blank is NaN, for :func:`fill_nodes`.
    """
    n = len(table.names)
    columns: dict[str, object] = {}
    for p in PARAMETERS:
        given = table.values.get(p.name, [None] * n)
        fallback = sheet_values.get(p.name, p.default)
        if p.name in NODE_PARAMETERS:
            fallback = np.nan
        vals = [fallback if (v is None or v is INVALID) else v for v in given]
        if p.kind == "int":
            columns[p.name] = np.array([int(v) for v in vals], dtype=np.int64)
        elif p.numeric:
            columns[p.name] = np.array([float(v) for v in vals], dtype=np.float64)
        else:
            columns[p.name] = [str(v) for v in vals]
    return Table(columns, index=table.names)


def sources(table: VariantTable, sheet_sources: dict[str, str]) -> dict:
    """Where each variant's numbers come from: variant -> parameter -> reference.

    A variant's own cell, else the Targets or Coefficients cell (``sheet_sources``)
    its value fell back to; parameters that took a default or a process node's
    value have no entry (the result formulas inline the number used).
    """
    out: dict[str, dict[str, str]] = {}
    for j, name in enumerate(table.names):
        mine: dict[str, str] = {}
        for p in PARAMETERS:
            if not p.numeric:
                continue
            given = table.values.get(p.name)
            own = table.refs.get(p.name)
            if given is not None and given[j] is not None and given[j] is not INVALID:
                if own and own[j]:
                    mine[p.name] = own[j]
                continue
            if p.name in NODE_PARAMETERS:
                continue
            if p.name in sheet_sources:
                mine[p.name] = sheet_sources[p.name]
        out[name] = mine
    return out


def fill_nodes(
    ctx: Context, table: VariantTable, frame: Table, nodes: NodeTable | None
) -> Table:
    """``frame`` with its blank node parameters taken from the node table ``nodes``.

    A blank whose process node is not in the table (or whose row leaves that
    parameter blank) is a problem at the blank cell (or at the variant's
    process_node cell when the sheet has no row for the parameter). ``nodes``
    None: the Cost setup sheet has problems (reported); nothing is looked up.
    """
    if nodes is None:
        return frame
    t = nodes
    out = frame.copy()
    labels = np.asarray(frame[NODE_KEY], dtype=object)
    for name in NODE_PARAMETERS:
        col = np.array(out[name], dtype=np.float64)
        blank_rows = np.flatnonzero(np.isnan(col))
        if len(blank_rows) == 0:
            continue
        found = t.lookup(name, labels[blank_rows])
        for i, v in zip(blank_rows, found):
            if np.isfinite(v):
                col[i] = v
                continue
            node = labels[i]
            cells = table.cells.get(name) or table.cells.get(NODE_KEY)
            cell = cells[i] if cells else ""
            why = (
                "is not in the process node table"
                if t.row(node) is None
                else f"has no {name} in the process node table"
            )
            ctx.problem(
                Where(table.sheet, cell, name, table.names[i]),
                "",
                f"is blank ({shortened(table.names[i])}) and process_node {quoted(node)} {why}: "
                f"give {name} here or add the node on the Cost setup sheet",
            )
        out[name] = col
    return out


def check_headroom(
    ctx: Context, table: VariantTable, frame: Table, cells: dict[str, dict[str, str]]
) -> None:
    """Tj max above the ambient, for every variant: a Tj miss is measured as a
    share of that headroom (Tj max - ambient), which must be above 0. One
    problem per Tj max cell (the Targets cell is every variant's), naming the
    ambient's cell."""
    tj = np.asarray(frame["tj_max_c"], dtype=np.float64)
    air = np.asarray(frame["ambient_c"], dtype=np.float64)
    found: dict[tuple[str, str], list[int]] = {}
    for j in np.flatnonzero(tj <= air):
        at = cell_of(cells.get(table.names[j], {}).get("tj_max_c"))
        found.setdefault(at or (table.sheet, ""), []).append(int(j))
    for (sheet, cell), rows in found.items():
        j = rows[0]
        air_at = cell_of(cells.get(table.names[j], {}).get("ambient_c"))
        at = f", {air_at[0]}!{air_at[1]}" if air_at else ""
        who = shortened(table.names[j])
        if len(rows) > 1:
            who += f" and {len(rows) - 1} more"
        ctx.problem(
            Where(sheet, cell, "tj_max_c"),
            _plain(tj[j]),
            f"is not above ambient_c ({_plain(air[j]):g} °C{at}) for {who}: the "
            "junction limit must be above the air the package stands in (°C)",
        )


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


# --- where the table lies, for adopt --------------------------------------------


@dataclass
class VariantLayout:
    """Where the Variants table is: enough to add a column to it.

    Attributes
    ----------
    sheet : str
        Sheet title.
    header_row : int
        Zero-based row of the variant names.
    rows : dict of str to int
        Parameter -> zero-based row.
    columns : dict of str to int
        Variant name -> zero-based column.
    next_column : int
        Zero-based column after the last used one of the table.
    """

    sheet: str
    header_row: int
    rows: dict[str, int]
    columns: dict[str, int]
    next_column: int


def read_layout(path: Path, book: Book) -> VariantLayout:
    """Where the Variants table of ``book`` lies (its problems are not reported)."""
    ctx = Context(book)
    found = book.locate(BLOCK)
    if found is None:  # read_study would have said so
        raise PackageError(f"{path}: has no Variants sheet")
    grid, r0, c0 = found
    first = c0 + VARIANT_LABEL_COLUMNS
    rows = key_rows(ctx, grid, r0, c0, first, grid.title)
    columns = variant_columns(ctx, grid, r0, first, rows)
    last = _last_column(grid, r0, first, rows)
    return VariantLayout(
        grid.title, r0, rows, {n: c for c, n in columns}, max(last, first)
    )
