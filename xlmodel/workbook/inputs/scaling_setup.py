"""The Scaling setup sheet: chiplet counts, HBM stacks per chiplet, utilisations.

Three settings rows, each with its values from column D rightwards. The settings
are described with the schema's :class:`~xlmodel.schema.Parameter` (ranges from
the schema) so that the reader checks them like any input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...schema import (
    BY_NAME,
    SEED_HBM_STACKS_PER_CHIPLET,
    SEED_SCALING_COUNTS,
    SEED_UTILIZATIONS,
    Parameter,
)
from ..grid import cell_name
from ..values import listed, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, validation, write_title
from .layout import SPARE_VALUE_COLUMNS, Block
from .setup import setting_rows

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

BLOCK = Block(
    "scaling",
    "xlmodel_scaling",
    "Scaling setup",
    2,
    0,
    ("setting", "unit", "description", "values"),
)

_CHIPLETS = BY_NAME["num_chiplets"]
_STACKS = BY_NAME["hbm_stacks"]
SCALING_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "chiplet_counts",
        "scaling",
        "Scaling",
        "chiplets",
        0,
        _CHIPLETS.minimum,
        _CHIPLETS.maximum,
        "Chiplet counts of the scaling study, one per cell left to right",
        kind="int",
    ),
    Parameter(
        "hbm_stacks_per_chiplet",
        "scaling",
        "Scaling",
        "stacks/chiplet",
        SEED_HBM_STACKS_PER_CHIPLET,
        0,
        _STACKS.maximum,
        "HBM stacks per chiplet in the scaling study (stacks = count x this)",
    ),
    Parameter(
        "utilizations",
        "scaling",
        "Scaling",
        "fraction",
        0,
        0,
        1,
        "Utilisations of the power table, 0 excluded to 1, one per cell",
    ),
)


SCALING_DEFAULTS: dict[str, tuple[float, ...]] = {
    "chiplet_counts": SEED_SCALING_COUNTS,
    "hbm_stacks_per_chiplet": (SEED_HBM_STACKS_PER_CHIPLET,),
    "utilizations": SEED_UTILIZATIONS,
}
_SCALING = {p.name: p for p in SCALING_SETTINGS}


def rows() -> dict[str, int]:
    """Zero-based row of every setting; its values from column D rightwards."""
    return {p.name: BLOCK.row + 1 + i for i, p in enumerate(SCALING_SETTINGS)}


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Scaling setup sheet with the default settings."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Scaling study and power table",
        "One value per cell from column D rightwards; add cells to the right for "
        "more chiplet counts or utilisations.",
    )
    header(ws, fmt, block)
    at = rows()
    c = block.col
    first = c + 3
    for p in SCALING_SETTINGS:
        r = at[p.name]
        ws.write_string(r, c, p.name, fmt.key)
        ws.write_string(r, c + 1, p.unit)
        ws.write_string(r, c + 2, p.description)
        values = SCALING_DEFAULTS[p.name]
        for j, v in enumerate(values):
            ws.write_number(r, first + j, v, fmt.input(p))
        last = first if len(values) == 1 else first + SPARE_VALUE_COLUMNS - 1
        ws.data_validation(r, first, r, last, validation(p))
    ws.set_column(c, c, 26)
    ws.set_column(c + 1, c + 1, 14)
    ws.set_column(c + 2, c + 2, 64)
    ws.set_column(first, first + SPARE_VALUE_COLUMNS - 1, 9)
    ws.freeze_panes(block.row + 1, first)


def read(ctx: Context) -> tuple[list[int], float, list[float]]:
    """Chiplet counts, HBM stacks per chiplet and utilisations."""
    block = BLOCK
    defaults = {k: list(v) for k, v in SCALING_DEFAULTS.items()}
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the default chiplet counts, HBM stacks "
            "per chiplet and utilisations"
        )
        return (
            [int(x) for x in defaults["chiplet_counts"]],
            float(defaults["hbm_stacks_per_chiplet"][0]),
            [float(x) for x in defaults["utilizations"]],
        )
    grid, r0, c0 = found
    sheet = grid.title
    first = c0 + 3
    at = setting_rows(ctx, grid, r0, c0, _SCALING)
    got: dict[str, list] = {}
    where_of: dict[str, Where] = {}
    for name, p in _SCALING.items():
        r = at.get(name)
        if r is None:
            ctx.warn(
                f"{sheet}: no row {name}; using the default {listed(defaults[name], p)}"
            )
            got[name] = defaults[name]
            continue
        vals, invalid = [], False
        for c in range(first, grid.width(r)):
            where = Where(sheet, cell_name(r, c), name)
            v = ctx.value(p, grid, r, c, where)
            if v is INVALID:
                invalid = True
            elif v is not None:
                if v in vals:
                    ctx.problem(where, shown(v), "is repeated in this row")
                    invalid = True
                vals.append(v)
                where_of.setdefault(name, where)
        if not vals:  # blank (warned) or invalid (a problem is recorded)
            if not invalid:
                ctx.warn(
                    f"{sheet}!{cell_name(r, first)} {name}: blank; using the default "
                    f"{listed(defaults[name], p)}"
                )
            vals = defaults[name]
        if name == "hbm_stacks_per_chiplet" and len(vals) > 1:
            ctx.problem(
                where_of[name], shown(vals[0]), "expects one value; clear the rest"
            )
        got[name] = vals
    counts = [int(x) for x in got["chiplet_counts"]]
    stacks = float(got["hbm_stacks_per_chiplet"][0])
    _check_stacks(ctx, counts, stacks, where_of.get("hbm_stacks_per_chiplet"))
    return counts, stacks, [float(x) for x in got["utilizations"]]


def _check_stacks(ctx: Context, counts: list[int], stacks: float, where) -> None:
    hbm = BY_NAME["hbm_stacks"]
    for n in counts:
        total = n * stacks
        if not (float(total).is_integer() and hbm.minimum <= total <= hbm.maximum):
            where = where or Where("Scaling setup", "", "hbm_stacks_per_chiplet")
            ctx.problem(
                where,
                shown(stacks),
                f"gives {total:g} HBM stacks at {n} chiplets: stacks per chiplet "
                f"x chiplet count must be a whole number of stacks, "
                f"{hbm.minimum:g}-{hbm.maximum:g}",
            )
            return
