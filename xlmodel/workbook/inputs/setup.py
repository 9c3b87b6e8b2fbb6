"""Reading what the setup sheets share: settings tables, parameter and choice cells.

The Scaling, Sensitivity, Exploration and Uncertainty setup sheets hold settings
tables (a key in the first column, the value to its right) and lists whose rows
name a parameter or a choice. These readers record problems and warnings on a
:class:`~.context.Context` in the order they meet the cells.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from ...errors import quoted
from ...schema import PARAMETERS, Parameter
from ..grid import Grid, cell_name
from ..values import CellError, blank, convert, did_you_mean, folded, shown
from .context import INVALID, NAMES_FOLDED, Context, Where
from .layout import Block

#: Most points of one exploration, and most Monte Carlo draws of one study.
MAX_SAMPLES = 1_000_000_000
#: Largest seed of sampling and of Monte Carlo draws.
MAX_SEED = 2**31 - 1


def setting_rows(ctx: Context, grid: Grid, r0: int, c0: int, known: dict) -> dict:
    """Row of every known setting below the header at (r0, c0), by its key."""
    rows: dict[str, int] = {}
    for r in range(r0 + 1, grid.rows):
        text = folded(grid.raw(r, c0))
        if text is None:
            continue
        match = next((k for k in known if k.casefold() == text), None)
        if match is None:
            if grid.filled(r, c0 + 1) or grid.filled(r, c0 + 3):
                close = difflib.get_close_matches(text, known, n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                ctx.warn(
                    f"{grid.title}!{cell_name(r, c0)}: {quoted(grid.raw(r, c0))} is not a "
                    f"setting{hint}; row ignored"
                )
            continue
        if match in rows:
            ctx.problem(
                Where(grid.title, cell_name(r, c0), match),
                match,
                f"appears twice: also in row {rows[match] + 1}; delete one",
            )
            continue
        rows[match] = r
    return rows


def parameter_cell(ctx: Context, grid: Grid, r: int, c: int, label: str, seen):
    """The numeric parameter a list cell names, or None (a problem is recorded)."""
    where = Where(grid.title, cell_name(r, c), label)
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return None
    if blank(raw):
        ctx.problem(where, "", f"{label} missing: type a parameter name")
        return None
    text = str(shown(raw)).strip()
    p = NAMES_FOLDED.get(text.casefold())
    if p is None or not p.numeric:
        numeric = [q.name for q in PARAMETERS if q.numeric]
        close = difflib.get_close_matches(text, numeric, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        what = "not a numeric parameter" if p else "not a parameter"
        ctx.problem(where, text, f"is {what}{hint}")
        return None
    if p.name in seen:
        ctx.problem(where, text, "is listed twice; keep one row")
        return None
    return p


@dataclass
class Settings:
    """Settings read from a block: values (defaults where blank), cells, warnings."""

    values: dict
    where: dict
    notes: dict  # setting -> warning, emitted only when the setting matters


def read_settings(ctx: Context, block: Block, known: dict[str, Parameter]) -> Settings:
    """The settings of ``block``; warnings are kept in ``notes``, not yet emitted."""
    out = Settings({n: p.default for n, p in known.items()}, {}, {})
    found = ctx.book.locate(block)
    if found is None:
        out.notes[""] = f"{block.sheet}: settings table not found; using the defaults"
        return out
    grid, r0, c0 = found
    rows = setting_rows(ctx, grid, r0, c0, known)
    for name, p in known.items():
        r = rows.get(name)
        if r is None:
            out.notes[name] = (
                f"{grid.title}: no row {name}; using the default {_shown_default(p)}"
            )
            continue
        where = Where(grid.title, cell_name(r, c0 + 1), name)
        out.where[name] = where
        v = ctx.value(p, grid, r, c0 + 1, where)
        if v is None:
            out.notes[name] = f"{where}: blank; using the default {_shown_default(p)}"
        elif v is not INVALID:
            out.values[name] = v
    return out


def _shown_default(p: Parameter) -> str:
    return repr(p.default) if isinstance(p.default, str) else f"{p.default:,}"


def filled_rows(grid: Grid, r0: int, c0: int, width: int):
    """Rows below the header at (r0, c0) with a filled cell among ``width`` columns."""
    for r in range(r0 + 1, grid.rows):
        if any(grid.filled(r, c0 + k) for k in range(width)):
            yield r


_ANY_NUMBER = Parameter("limit", "exploration", "", "", 0, -math.inf, math.inf, "")


def number_cell(ctx: Context, grid: Grid, r: int, c: int, where, what: str):
    """Any finite number in a cell, or None (a problem is recorded)."""
    try:
        raw = ctx.raw(grid, r, c, where)
        if blank(raw):
            raise CellError("", f"is blank: type the {what}")
        got = convert(_ANY_NUMBER, raw, bounded=False)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return None
    if got.note:
        ctx.warn(f"{where}: {got.note}")
    return float(got.value)


def choice_cell(ctx: Context, grid: Grid, r: int, c: int, where, table: dict, what):
    """The choice ``table`` maps a cell's text to, or None (a problem is recorded)."""
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return None
    text = "" if blank(raw) else str(shown(raw)).strip()
    key = table.get(text.casefold())
    if key is None:
        choices = list(dict.fromkeys(table.values()))
        hint = did_you_mean(text, choices) if text else ""
        options = ", ".join(choices)
        ctx.problem(where, text, f"is not {what}: expected one of {options}{hint}")
    return key
