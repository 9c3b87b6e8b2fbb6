"""The Changes sheet: what changed since the previous compute, and why numbers moved.

Three tables from :class:`xlmodel.studies.changes.Changes` (the run information
carries it): the inputs that changed (sheet, cell, parameter, old, new), the
headline metrics per variant that moved (old, new, delta), and for each moved
metric the share of its change due to each changed parameter of its variant,
with the method stated. On a first compute (no state kept in the workbook) a
sentence says there is no previous run.
"""

from __future__ import annotations

from ...studies.changes import MAX_SHAPLEY, Changes
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, TABLE_BORDER, unit_format
from .sheet import Col, ResultSheet, Sheet

NAME = "Changes"
#: Most rows a table of the sheet shows (a note says how many are left out).
MAX_ROWS = 5_000
METHOD_NOTE = (
    "Shares: each changed parameter's exact Shapley value, its average effect on "
    "the metric over every order of applying the changes, each row evaluated "
    "with xlmodel's equations (one changed parameter: the whole change); the "
    "shares of a metric sum to its change; a changed parameter without effect on a "
    "metric is left out. A variant with more than "
    f"{MAX_SHAPLEY} changed parameters: one at a time from the previous inputs, "
    "the rest shown as interaction."
)

_INPUTS = [
    Col("sheet", "Sheet", "text"),
    Col("cell", "Cell", "text", center=True),
    Col("parameter", "Parameter", "text"),
    Col("item", "Variant or row", "text"),
    Col("old", "Previous value", GENERAL),
    Col("new", "New value", GENERAL),
]


_METRICS = [
    Col("variant", "Variant", "text"),
    Col("metric", "Metric", "text"),
    Col("unit", "Unit", "text", center=True),
    Col("old", "Previous", GENERAL),
    Col("new", "New", GENERAL),
    Col("delta", "Change", GENERAL),
    Col("delta_percent", "Change (%)", "0.00"),
]


_SHARES = [
    Col("variant", "Variant", "text"),
    Col("metric", "Metric", "text"),
    Col("unit", "Unit", "text", center=True),
    Col("parameter", "Changed parameter", "text"),
    Col("cells", "Input cells", "text"),
    Col("old", "Previous value", GENERAL),
    Col("new", "New value", GENERAL),
    Col("share", "Share of the change (metric's unit)", "#,##0.000###"),
    Col("share_percent", "Share (%)", "0.0"),
    Col("method", "Method", "text", wrap=True),
]


def write(ctx: Context, sh: Sheet) -> None:
    """The three tables, or the sentence of a first compute."""
    changes: Changes | None = ctx.info.get("changes")
    note = ctx.info.get("previous_note") or (
        "no previous run: this is the first xlmodel compute of this workbook"
    )
    sub = "Inputs compared with the previous compute's, cell by cell; headline "
    sub += "metrics per variant; each moved metric split over the changed inputs."
    sh.title(0, "What changed since the previous compute", sub)
    stale_banner(ctx, sh)
    sh.page(4, freeze_col=0, repeat=False)
    if changes is None:
        sh.note(3, 0, note[:1].upper() + note[1:] + ".", 8, italic=True)
        sh.fit(0, 14)
        return
    prev = changes.previous
    sh.note(
        3,
        0,
        f"Previous compute: {prev.get('time') or 'time unknown'}, "
        f"{prev.get('input_file') or 'file unknown'}, xlmodel "
        f"{prev.get('version') or '?'}." + _variants_note(changes),
        8,
        italic=True,
    )
    n_in, n_m = len(changes.inputs), len(changes.metrics)
    row = _table(
        sh,
        5,
        f"Inputs that changed ({n_in:,})",
        changes.inputs,
        _INPUTS,
        "No input changed.",
    )
    row = _table(
        sh,
        row + 1,
        f"Headline metrics that moved ({n_m:,})",
        changes.metrics,
        _METRICS,
        "No headline metric moved.",
        ("old", "new", "delta"),
    )
    sh.heading(row + 1, 0, "Share of each change")
    sh.note(row + 2, 0, METHOD_NOTE, 8, italic=True)
    _table(sh, row + 3, "", changes.shares, _SHARES, "No metric moved.", ("share",))


def _variants_note(changes: Changes) -> str:
    parts = []
    if changes.added:
        parts.append(f" Variants added: {', '.join(changes.added)}.")
    if changes.removed:
        parts.append(f" Variants removed: {', '.join(changes.removed)}.")
    return "".join(parts)


def _table(
    sh: Sheet,
    row: int,
    heading: str,
    frame,
    cols: list[Col],
    empty: str,
    in_unit: tuple[str, ...] = (),
) -> int:
    """A heading and a table (at most MAX_ROWS rows); returns the next free row.

    The ``in_unit`` columns take the number format of each row's unit.
    """
    if heading:
        sh.heading(row, 0, heading)
        row += 1
    if frame.empty:
        sh.note(row, 0, empty, 1, italic=True)
        return row + 1
    shown = frame.iloc[:MAX_ROWS]
    table = sh.table(row, 0, shown, cols, cap_width=40)
    border = TABLE_BORDER
    for i, unit in enumerate(shown["unit"] if in_unit else ()):
        fmt = unit_format(str(unit))
        for key in in_unit:
            v = shown[key].iloc[i]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                sh.value(table.first_row + i, table.cols[key], v, fmt, **border)
    end = table.last_row + 1
    if len(frame) > MAX_ROWS:
        sh.note(end, 0, f"{len(frame) - MAX_ROWS:,} more rows not shown.", 1)
        end += 1
    return end


SHEET = ResultSheet(NAME, write)
