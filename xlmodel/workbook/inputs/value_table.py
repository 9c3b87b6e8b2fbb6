"""The layout Targets and Coefficients share: one value per parameter, grouped.

Columns: key, value, unit, description; one heading row per schema group. The
writer fills the defaults with their validation; the reader finds rows by key,
warns about rows that belong elsewhere and blanks that take defaults.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ...errors import quoted
from ...schema import DEFAULTS
from ..grid import cell_name
from ..values import blank, shown, with_unit
from .context import (
    GROUPS,
    INVALID,
    NAMES_FOLDED,
    Context,
    Where,
    cell_ref,
    numeric_cell,
)
from .formats import Formats, describe, header, validation, write_title, write_value
from .layout import Block, groups, table_rows

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet


def rows(params, block: Block) -> dict[str, int]:
    """Zero-based row of every parameter of the table; the value is in column B."""
    return dict(table_rows(params, block.row + 1))


def write(ws: Worksheet, fmt: Formats, block: Block, params, note: str) -> None:
    """Fill a values sheet: the parameters' defaults by group."""
    write_title(ws, fmt, block.sheet, note)
    header(ws, fmt, block)
    at = rows(params, block)
    c = block.col
    for group, members in groups(params):
        ws.write_string(at[members[0].name] - 1, c, group, fmt.group)
        for k in range(1, len(block.header)):
            ws.write_blank(at[members[0].name] - 1, c + k, None, fmt.group)
        for p in members:
            r = at[p.name]
            ws.write_string(r, c, p.name, fmt.key if p.used else fmt.unused_key)
            write_value(ws, r, c + 1, DEFAULTS[p.name], p, fmt)
            ws.data_validation(r, c + 1, r, c + 1, validation(p))
            ws.write_string(r, c + 2, p.unit)
            ws.write_string(r, c + 3, describe(p))
    ws.set_column(c, c, 34)
    ws.set_column(c + 1, c + 1, 14)
    ws.set_column(c + 2, c + 2, 16)
    ws.set_column(c + 3, c + 3, 90)
    ws.freeze_panes(block.row + 1, c + 1)


def read(ctx: Context, block: Block, params, label: str) -> dict[str, object]:
    """Value of every parameter of ``params``: the sheet's, or the default."""
    out = {p.name: p.default for p in params}
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the default {label.lower()}"
        )
        return out
    grid, r0, c0 = found
    sheet = grid.title
    mine = {p.name for p in params}
    seen: dict[str, int] = {}
    for r in range(r0 + 1, grid.rows):
        key_raw = grid.raw(r, c0)
        if blank(key_raw):
            continue
        text = str(shown(key_raw)).strip()
        p = NAMES_FOLDED.get(text.casefold())
        if p is None or p.name not in mine:
            if text.casefold() in GROUPS:
                continue
            if p is not None:
                home = "Variants" if p.section == "variant" else p.section + "s"
                ctx.warn(
                    f"{sheet}!{cell_name(r, c0)}: {p.name} belongs on "
                    f"{home.title()}, not here; row ignored"
                )
            elif grid.filled(r, c0 + 1):
                close = difflib.get_close_matches(text, mine, n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                ctx.warn(
                    f"{sheet}!{cell_name(r, c0)}: {quoted(text)} is not a "
                    f"{label.lower().rstrip('s')}{hint}; row ignored"
                )
            continue
        where = Where(sheet, cell_name(r, c0 + 1), p.name)
        if p.name in seen:
            ctx.problem(where, text, f"appears twice: also in row {seen[p.name] + 1}")
            continue
        seen[p.name] = r
        v = ctx.value(p, grid, r, c0 + 1, where)
        if v is None and p.default == "":
            pass  # a blank text whose default is blank: nothing to warn about
        elif v is None:
            ctx.warn(f"{where}: blank; using the default {with_unit(p, p.default)}")
        elif v is not INVALID:
            out[p.name] = v
            if p.numeric and numeric_cell(grid, r, c0 + 1):
                ctx.sources[p.name] = cell_ref(sheet, r, c0 + 1)
    for p in params:
        if p.name not in seen and p.default != "":
            ctx.warn(
                f"{sheet}: no row {p.name}; using the default {with_unit(p, p.default)}"
            )
    return out
