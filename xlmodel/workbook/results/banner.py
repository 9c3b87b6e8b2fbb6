"""The stale-results banner every result sheet whose numbers need Python carries.

One formula cell, :data:`BANNER_TEXT` when the inputs no longer match the copy
the last compute kept on the state sheet (:mod:`.state`, its cell
:data:`~.state.COUNT_CELL` counts the cells changed), else "". Its cached
result is "" (the inputs match right after a compute); a conditional format
fills it red when it is not empty. Written only when the run read a workbook
(the run information carries the state sheet's name). A sheet whose own note
occupies the banner's cell passes the note: the cell shows it, after the
banner when the inputs changed.
"""

from __future__ import annotations

from ..grid import column_letter
from .context import Context
from .sheet import Sheet
from .state import COUNT_CELL, UNFOLLOWED_CELL, quoted

BANNER_TEXT = (
    "inputs changed since the last xlmodel compute: run it again to refresh this sheet"
)
#: The banner of a sheet of live formulas: what they do not follow changed.
LIVE_BANNER_TEXT = (
    "an input these formulas do not follow changed since the last xlmodel compute "
    "(a choice such as the precision, cooling, preset or process node, a blank "
    "left to its default, the process node table): run it again to refresh this sheet"
)
#: Dark red text; the light red fill is the conditional format's (Excel's own pair).
_TEXT = {"bold": True, "font_color": "#9C0006"}
_FILL_COLUMNS = 8
_FILL = {"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}


def formula(state_sheet: str, note: str = "", live: bool = False) -> str:
    """The banner's formula, reading the state sheet's count of changed cells
    (``live``: of the changed cells the live formulas do not follow);
    ``note`` (a sheet's own line in that cell) follows the banner."""
    count = f"{quoted(state_sheet)}!{UNFOLLOWED_CELL if live else COUNT_CELL}"
    banner = _chunks(LIVE_BANNER_TEXT if live else BANNER_TEXT)
    if not note:
        return f'=IF({count}>0,{banner},"")'
    return f'=IF({count}>0,{banner}&" · ","")&{_chunks(note)}'


def _chunks(text: str) -> str:
    """``text`` as formula text constants joined by ``&``: a constant holds at
    most 255 characters."""
    text = text.replace('"', '""')
    return "&".join(f'"{text[k : k + 200]}"' for k in range(0, len(text), 200))


def stale_banner(
    ctx: Context,
    sh: Sheet,
    row: int = 2,
    col: int = 0,
    note: str = "",
    live: bool = False,
) -> None:
    """Write the banner at (``row``, ``col``) of ``sh`` (zero-based; default A3).

    ``note``: a line the sheet writes in that cell (in italics), shown after the
    banner when the inputs changed. Without a state sheet (results written
    without reading a workbook) only the note is written.
    """
    state_sheet = ctx.info.get("state_sheet")
    if not state_sheet:
        if note:
            sh.note(row, col, note, 1, italic=True)
        return
    style = dict(_TEXT, italic=True) if note else _TEXT
    text = formula(state_sheet, note, live)
    sh.ws.write_formula(row, col, text, ctx.fmt(**style), note)
    cell = f"${column_letter(col + 1)}${row + 1}"
    # the banner's start (a constant of a formula holds at most 255 characters)
    start = LIVE_BANNER_TEXT[:60] if live else BANNER_TEXT
    test = f'=LEFT({cell},{len(start)})="{start}"'
    # the fill spans the cells the text runs over (empty ones on these sheets)
    rule = {"type": "formula", "criteria": test, "format": ctx.fmt(**_FILL)}
    sh.ws.conditional_format(row, col, row, col + _FILL_COLUMNS - 1, rule)
    sh.text_rows.add(row)
