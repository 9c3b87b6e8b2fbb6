"""The Targets sheet: design targets every variant is judged against.

Laid out, written and read as a values table (:mod:`.value_table`); a target can
also be set per variant by a row on Variants. :func:`check_merit` checks the
serving figure of merit (``merit_model``, ``merit_scenario``, a ``tokens_per_s``
figure) against the Models and Serving setup sheets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...schema import SERVING_FIGURES, TARGETS
from ...studies.study import Serving
from ..grid import cell_name
from ..values import blank, did_you_mean, shown
from . import value_table
from .context import INVALID, Context, Where
from .formats import Formats
from .layout import Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

BLOCK = Block(
    "targets",
    "xlmodel_targets",
    "Targets",
    2,
    0,
    ("target", "value", "unit", "description"),
)
NOTE = (
    "Design targets every variant is judged against. A target can also be set per "
    "variant by adding its name as a row on Variants."
)


def rows() -> dict[str, int]:
    """Zero-based row of every target on the template's Targets sheet."""
    return value_table.rows(TARGETS, BLOCK)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Targets sheet with the default targets."""
    value_table.write(ws, fmt, BLOCK, TARGETS, NOTE)


def read(ctx: Context) -> dict[str, object]:
    """Every target: the sheet's value, or the default (with a warning)."""
    return value_table.read(ctx, BLOCK, TARGETS, "Targets")


def where(ctx: Context, name: str) -> Where:
    """The value cell of target ``name`` on the Targets sheet (no cell if absent)."""
    found = ctx.book.locate(BLOCK)
    if found is not None:
        grid, r0, c0 = found
        for r in range(r0 + 1, grid.rows):
            raw = grid.raw(r, c0)
            if not blank(raw) and str(shown(raw)).strip().casefold() == name:
                return Where(grid.title, cell_name(r, c0 + 1), name)
    return Where(BLOCK.sheet, "", name)


def check_merit(ctx: Context, values: dict, serving: Serving | None, models) -> None:
    """Problems with the serving figure of merit the Targets ask for.

    ``values`` are the Targets sheet's; ``serving`` what the Serving setup sheet
    gave (None: no serving study); ``models`` the Models sheet's table (``INVALID``
    or None when it has problems or is missing). A serving figure without a
    serving study, and a ``merit_model`` or ``merit_scenario`` that the study does
    not serve, are one problem each; nothing is checked when the Models or
    Serving setup sheets already have problems.
    """
    sheets = {"Models", "Serving setup"}
    if models is INVALID or any(p.sheet in sheets for p in ctx.problems):
        return
    figure = str(values.get("figure_of_merit") or "")
    if serving is None:
        if figure in SERVING_FIGURES:
            ctx.problem(
                where(ctx, "figure_of_merit"),
                figure,
                "ranks by LLM serving, but the workbook serves no models (Models "
                "and Serving setup sheets): choose another figure of merit or add "
                "models and scenarios",
            )
        return
    for key, names, what in (
        ("merit_model", serving.served_models, "a model served (Models sheet)"),
        (
            "merit_scenario",
            [str(x) for x in serving.scenarios.index],
            "a scenario of the Serving setup sheet",
        ),
    ):
        text = str(values.get(key) or "").strip()
        if not text or any(n.casefold() == text.casefold() for n in names):
            continue
        listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        hint = did_you_mean(text, names)
        ctx.problem(
            where(ctx, key), text, f"is not {what}: expected one of {listed}{hint}"
        )
