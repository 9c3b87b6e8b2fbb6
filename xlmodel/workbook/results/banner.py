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
from .state import COUNT_CELL, quoted

BANNER_TEXT = (
    "inputs changed since the last xlmodel compute: run it again to refresh this sheet"
)
#: Dark red text; the light red fill is the conditional format's (Excel's own pair).
_TEXT = {"bold": True, "font_color": "#9C0006"}
_FILL_COLUMNS = 8
_FILL = {"bg_color": "#FFC7CE", "font_color": "#9C0006", "bold": True}


def formula(state_sheet: str, note: str = "") -> str:
    """The banner's formula, reading the state sheet's count of changed cells;
    ``note`` (a sheet's own line in that cell) follows the banner."""
    count = f"{quoted(state_sheet)}!{COUNT_CELL}"
    if not note:
        return f'=IF({count}>0,"{BANNER_TEXT}","")'
    # a text constant of a formula holds at most 255 characters
    text = note.replace('"', '""')
    chunks = "&".join(f'"{text[k : k + 200]}"' for k in range(0, len(text), 200))
    return f'=IF({count}>0,"{BANNER_TEXT} · ","")&{chunks}'


def stale_banner(
    ctx: Context, sh: Sheet, row: int = 2, col: int = 0, note: str = ""
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
    sh.ws.write_formula(row, col, formula(state_sheet, note), ctx.fmt(**style), note)
    cell = f"${column_letter(col + 1)}${row + 1}"
    test = f'=LEFT({cell},{len(BANNER_TEXT)})="{BANNER_TEXT}"'
    # the fill spans the cells the text runs over (empty ones on these sheets)
    rule = {"type": "formula", "criteria": test, "format": ctx.fmt(**_FILL)}
    sh.ws.conditional_format(row, col, row, col + _FILL_COLUMNS - 1, rule)
    sh.text_rows.add(row)
