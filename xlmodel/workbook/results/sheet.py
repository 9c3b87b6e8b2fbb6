"""The worksheet writer every result sheet uses, and the registry entry of a sheet.

:class:`Sheet` writes titles, headings, notes, numbers (``n/a`` when not finite)
and tables (:class:`Col` per column; :class:`Table` says where the cells went,
for chart series), inserts charts, sets the page up (landscape, one page wide)
and, in :meth:`Sheet.finish`, sizes columns and wrapped rows and sets the print
area over cells and charts. :class:`ResultSheet` is what each sheet module
exposes to the orchestrator.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...studies.run import Results
from ..charts import Layout, Span
from .context import Context
from .formats import (
    CELL_POINTS,
    FAIL,
    GENERAL,
    HEAD_FILL,
    NA_TEXT,
    PASS,
    TABLE_BEST,
    TABLE_BORDER,
    TITLE_COLOR,
    shown_format,
    whole_form,
)
from .paging import MARGIN_LR_IN, MARGIN_TB_IN, Block, column_layout, print_layout
from .text_fit import column_px, text_lines


def _always(results: Results) -> bool:
    return True


@dataclass(frozen=True)
class ResultSheet:
    """One result sheet: its default name, its writer, whether results call for it.

    ``write(ctx, sheet)`` fills the sheet; ``present(results)`` is False when the
    study asked for nothing the sheet shows (the sheet is then left out).
    """

    name: str
    write: Callable[[Context, Sheet], None]
    present: Callable[[Results], bool] = _always


@dataclass(frozen=True)
class Col:
    """One table column: frame key, header with unit, and how to write values.

    ``fmt`` is a number format, or ``"text"``, ``"pass"`` (PASS/FAIL) or
    ``"yes"`` (yes/no) for strings and booleans.
    """

    key: str
    header: str
    fmt: str = GENERAL
    wrap: bool = False
    center: bool = False


@dataclass
class Table:
    """Where a written table's cells are."""

    header_row: int
    first_row: int
    last_row: int
    cols: dict[str, int]

    def span(self, key: str, r0: int | None = None, r1: int | None = None) -> Span:
        c = self.cols[key]
        return Span(
            self.first_row if r0 is None else r0, c, self.last_row if r1 is None else r1
        )

    def head(self, key: str) -> Span:
        return Span(self.header_row, self.cols[key])

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1


#: Columns a page is widened to, at most, for text running over empty cells.
MIN_TEXT_COLUMNS = 16


class Sheet:
    """A worksheet being written: tracks column widths and wrapped rows."""

    def __init__(self, ctx: Context, ws, name: str):
        self.ctx, self.ws, self.name = ctx, ws, name
        self.widths: dict[int, float] = {}
        # wrapped texts: row, column, text, columns spanned, (points, bold, italic)
        self.wrapped: list[tuple[int, int, str, int, tuple[float, bool, bool]]] = []
        self.heights: dict[int, float] = {}
        # charts to insert when the row heights are known: chart, row, col, x, y
        self._pending: list[tuple] = []
        # where the charts went: row, col, x, y, width, height
        self.charts: list[tuple[int, int, int, int, int, int]] = []
        # last row and column to print, when chart data lies beyond them
        self.print_limit: tuple[int, int] | None = None
        self.tables: list[Table] = []
        self.text_rows: set[int] = set()  # rows of headings and notes
        # notes merged over columns, merged by finish within a band: row, col,
        # columns, text, format, font (as in wrapped)
        self._merges: list[tuple[int, int, int, str, object, tuple]] = []
        self._subtitle: tuple[int, str] | None = None
        # single-cell text that may run over the cells to its right: col, chars
        self.overflow: list[tuple[int, float]] = []
        self.band_cols: list[int] = []  # where a band of printed pages may begin
        self.repeat_row: int | None = None
        #: columns that name a wide table's rows, repeated left of its later bands
        self.name_cols = 1
        self.paged = False
        self._marker_col: int | None = None  # the print area's end marker
        ws.hide_gridlines(2)
        if ctx.ops != "TFLOPS" and name != "Reality check":  # FP16 throughout there
            _integer_ops(ws, ctx.precision, ctx.ops)

    # -- plain cells -------------------------------------------------------------

    def title(self, row: int, text: str, subtitle: str = "") -> None:
        f = self.ctx.fmt(
            bold=True, font_size=15, font_color=TITLE_COLOR, valign="vcenter"
        )
        self.ws.write_string(row, 0, text, f)
        self.ws.set_row(row, 24)
        self.heights[row] = 24
        self.overflow.append((0, len(text) * 15 / 11))
        if subtitle:  # written by finish: wrapped in the first band if cut
            self._subtitle = (row + 1, subtitle)
            self.overflow.append((0, len(subtitle)))

    def heading(self, row: int, col: int, text: str) -> None:
        f = self.ctx.fmt(bold=True, font_size=11, font_color=TITLE_COLOR)
        self.ws.write_string(row, col, text, f)
        self.text_rows.add(row)
        self.overflow.append((col, len(text)))

    def note(self, row: int, col: int, text: str, width: int = 0, **props) -> None:
        """Text, wrapped over ``width`` columns (merged) when ``width`` > 1.

        The merge is written by :meth:`finish`, ending where the printed band of
        columns of ``col`` ends if that is sooner: a note is never cut by a page.
        """
        f = self.ctx.fmt(text_wrap=width > 1, **props)
        self.text_rows.add(row)
        if width > 1:
            self._merges.append((row, col, width, text, f, _font(props)))
        else:
            self.ws.write_string(row, col, text, f)
            self.overflow.append((col, len(text)))

    def value(self, row: int, col: int, v, num_format: str = GENERAL, **props):
        """A number (``n/a`` when not finite) or a string; returns its shown length."""
        if v is None:
            self.ws.write_blank(row, col, None, self.ctx.fmt(**props))
            return 0
        if isinstance(v, (bool, np.bool_)):
            v = "yes" if v else "no"
        if isinstance(v, str):
            self.ws.write_string(row, col, v, self.ctx.fmt(**props))
            return len(v)
        try:
            x = float(v)
        except (TypeError, ValueError):  # pandas NA and other non-numbers
            x = math.nan
        if not math.isfinite(x):
            self.ws.write_string(
                row,
                col,
                "n/a",
                self.ctx.fmt(**NA_TEXT, **props),
            )
            return 3
        shown = shown_format(num_format, x)
        self.ws.write_number(row, col, x, self.ctx.fmt(num_format=shown, **props))
        return _shown_len(x, shown)

    def fit(self, col: int, chars: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0), chars)

    # -- tables ------------------------------------------------------------------

    def table(
        self,
        row: int,
        col: int,
        frame: pd.DataFrame,
        cols: list[Col],
        highlight: set[int] | None = None,
        cap_width: float = 36,
        wrap_header: bool = True,
    ) -> Table:
        """Write ``frame`` as a table with one header row; returns where it went.

        ``wrap_header=False`` keeps headers on one line (for blocks beside another
        table, whose rows they share).
        """
        highlight = highlight or set()
        places = {}
        for j, c in enumerate(cols):
            cc = col + j
            places[c.key] = cc
            text_col = int(c.fmt == "text" and j > 0 and not c.center)
            self._table_header(row, cc, c, text_col, cap_width, wrap_header)
            numeric = None
            if c.key in frame and c.fmt not in ("pass", "yes", "text"):
                numeric = _float_column(frame[c.key])
            if numeric is not None:
                widest = self._number_column(row + 1, cc, c, numeric, highlight)
            else:
                values = frame[c.key].to_list() if c.key in frame else []
                widest = self._table_column(
                    row + 1, cc, c, values, text_col, highlight, cap_width
                )
            self.fit(cc, min(max(widest + 2, 6), cap_width))
        table = Table(row, row + 1, row + len(frame), places)
        self.tables.append(table)
        return table

    def _table_header(self, row, cc, c: Col, text_col, cap_width, wrap_header):
        head = {"bold": True, "bg_color": HEAD_FILL, "bottom": 1, "valign": "bottom"}
        self.ws.write_string(
            row,
            cc,
            c.header,
            self.ctx.fmt(text_wrap=wrap_header, indent=text_col, **head),
        )
        if wrap_header:
            self.wrapped.append((row, cc, c.header, 1, _font({"bold": True})))
            longest = max((len(w) for w in c.header.split()), default=4)
        else:
            longest = len(c.header)
        self.fit(cc, min(max(_chars(longest) + 1, 8), cap_width))

    def _table_column(self, first, cc, c: Col, values, text_col, highlight, cap_width):
        """A column's cells from row ``first``; returns the widest shown length."""
        ctx, ws = self.ctx, self.ws
        border, bright = TABLE_BORDER, TABLE_BEST
        widest = 0
        formats: dict = {}
        numbers = c.fmt not in ("pass", "yes", "text")
        if not numbers and TEXT_COLUMNS:
            return self._text_column(
                first, cc, c, values, text_col, highlight, cap_width
            )
        number = self._number
        write_string = _StringColumn(ws)
        for i, v in enumerate(values):
            r = first + i
            if numbers and not isinstance(v, str):
                # a number cell: its properties only read, never changed
                shown = number(
                    r, cc, v, c.fmt, bright if i in highlight else border, formats
                )
                if shown > widest:
                    widest = shown
                continue
            hl = i in highlight
            if c.fmt in ("pass", "yes"):
                yes, no = ("PASS", "FAIL") if c.fmt == "pass" else ("yes", "no")
                text = "" if _missing(v) else (yes if bool(v) else no)
                f = formats.get(("center", hl))
                if f is None:
                    props = bright if hl else border
                    f = formats[("center", hl)] = ctx.fmt(align="center", **props)
                write_string(r, cc, text, f)
                widest = max(widest, 5)
            else:  # text, or a string in a column of numbers
                text = "" if _missing(v) else str(v)
                wrap = c.wrap or _chars(len(text)) > cap_width
                f = formats.get(("text", hl, wrap))
                if f is None:
                    props = dict(bright if hl else border)
                    if c.center:
                        props["align"] = "center"
                    elif c.fmt != "text":
                        # a word in a column of numbers ("largest that fits")
                        # lines up with them, not against the number to its left
                        props["align"] = "right"
                    elif text_col:
                        props["indent"] = 1
                    f = formats[("text", hl, wrap)] = ctx.fmt(text_wrap=wrap, **props)
                write_string(r, cc, text, f)
                if wrap:
                    self.wrapped.append((r, cc, text, 1, _font({"bold": hl})))
                widest = max(widest, _chars(len(text)) + text_col)
        write_string.finish()
        return widest

    def _text_column(self, first, cc, c: Col, values, text_col, highlight, cap_width):
        """:meth:`_table_column` of a column of text or of PASS/FAIL, yes/no
        (no numbers among them): each cell's text and format worked out first,
        then the cells stored in one pass; the same cells, formats (first
        asked for in the same order) and wrapped texts."""
        ctx = self.ctx
        border, bright = TABLE_BORDER, TABLE_BEST
        formats: dict = {}
        n = len(values)
        lit = [i in highlight for i in range(n)] if highlight else [False] * n
        if c.fmt in ("pass", "yes"):
            yes, no = ("PASS", "FAIL") if c.fmt == "pass" else ("yes", "no")
            texts = ["" if _missing(v) else (yes if bool(v) else no) for v in values]
            fmts = []
            for hl in lit:
                f = formats.get(hl)
                if f is None:
                    props = bright if hl else border
                    f = formats[hl] = ctx.fmt(align="center", **props)
                fmts.append(f)
            widest = 5 if n else 0
        else:
            texts = ["" if _missing(v) else str(v) for v in values]
            fmts = []
            widest = 0
            for i, (text, hl) in enumerate(zip(texts, lit)):
                shown = _chars(len(text))
                wrap = c.wrap or shown > cap_width
                f = formats.get((hl, wrap))
                if f is None:
                    props = dict(bright if hl else border)
                    if c.center:
                        props["align"] = "center"
                    elif text_col:
                        props["indent"] = 1
                    f = formats[(hl, wrap)] = ctx.fmt(text_wrap=wrap, **props)
                fmts.append(f)
                if wrap:
                    self.wrapped.append((first + i, cc, text, 1, _font({"bold": hl})))
                if shown + text_col > widest:
                    widest = shown + text_col
        write_string = _StringColumn(self.ws)
        write_string.fill(first, cc, texts, fmts)
        write_string.finish()
        return widest

    def _number_column(self, first, cc, c: Col, x: np.ndarray, highlight) -> int:
        """A column of numbers (``x``, float64; NaN or infinite is ``n/a``) from
        row ``first``; returns the widest shown length. The cells, formats and
        width of :meth:`_table_column`, with the checks done over the column."""
        finite = np.isfinite(x)
        hl = np.zeros(len(x), bool)
        if highlight:
            rows = [i for i in highlight if 0 <= i < len(x)]
            hl[rows] = True
        # the formats in the order the cells first ask for them (a workbook's
        # formats keep the order they were made in)
        kind = np.where(finite, 0, 2) + hl
        whole = whole_form(c.fmt)
        if whole is not None:  # whole numbers without a bare decimal point
            with np.errstate(invalid="ignore"):
                shows_whole = finite & (np.round(x, whole[1]) == np.round(x))
            kind = kind + 4 * shows_whole
        _, firsts = np.unique(kind, return_index=True)
        formats = {}
        for k in kind[np.sort(firsts)].tolist():
            props = TABLE_BEST if k & 1 else TABLE_BORDER
            if k & 2:
                formats[k] = self.ctx.fmt(**NA_TEXT, **props)
            else:
                shown = whole[0] if k & 4 else c.fmt
                formats[k] = self.ctx.fmt(num_format=shown, **props)
        _write_numbers(self.ws, first, cc, x.tolist(), kind.tolist(), formats)
        return _widest_shown(x[finite], c.fmt, bool((~finite).any()))

    def _number(self, row, col, v, num_format, props, formats) -> int:
        """:meth:`value` of a table cell, its formats looked up once per column
        (``formats``: (kind, highlighted) -> format, filled in the order
        :meth:`value` would first ask for them, so the workbook's formats keep
        their order)."""
        hl = "bold" in props
        if v is None or isinstance(v, (bool, np.bool_)):
            return self.value(row, col, v, num_format, **props)
        try:
            x = float(v)
        except (TypeError, ValueError):  # pandas NA and other non-numbers
            x = math.nan
        if not math.isfinite(x):
            f = formats.get(("n/a", hl))
            if f is None:
                f = formats[("n/a", hl)] = self.ctx.fmt(**NA_TEXT, **props)
            self.ws.write_string(row, col, "n/a", f)
            return 3
        shown = shown_format(num_format, x)
        f = formats.get(("number", hl, shown))
        if f is None:
            f = formats[("number", hl, shown)] = self.ctx.fmt(num_format=shown, **props)
        self.ws.write_number(row, col, x, f)
        return _shown_len(x, shown)

    def pass_fail(self, table: Table, keys: list[str]) -> None:
        """Green PASS / red FAIL conditional formats on the given columns."""
        for k in keys:
            self.mark(table, k, "PASS", PASS)
            self.mark(table, k, "FAIL", FAIL)

    def mark(self, table: Table, key: str, word: str, props: dict = FAIL) -> None:
        """A conditional format (red by default) on the cells of column ``key``
        of ``table`` that say ``word``."""
        if table.rows <= 0:
            return
        c = table.cols[key]
        self.ws.conditional_format(
            table.first_row,
            c,
            table.last_row,
            c,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{word}"',
                "format": self.ctx.fmt(**props),
            },
        )

    # -- charts ------------------------------------------------------------------

    def chart(
        self, builder, layout: Layout, row: int, col: int, x: int = 0, y: int = 0
    ):
        """A chart ``x``, ``y`` pixels from the top left of cell (``row``, ``col``).

        It is inserted by :meth:`finish`, when the row heights are known, at the
        first row boundary at or below that point (and below the chart above it),
        so that a page may break between charts.
        """
        chart = builder(self.ctx.workbook, self.name, layout)
        self._pending.append((chart, row, col, x, y, layout.width, layout.height))
        return chart

    # -- page --------------------------------------------------------------------

    def page(self, header_row: int, freeze_col: int = 1, repeat: bool = True) -> None:
        """Landscape on the printer's paper, header row repeated, panes frozen.

        The scale and page breaks are set by :meth:`finish` (:mod:`.paging`):
        every band of columns one page wide on A4 and Letter alike.
        """
        ws = self.ws
        self.paged = True
        ws.set_landscape()
        ws.set_margins(
            left=MARGIN_LR_IN, right=MARGIN_LR_IN, top=MARGIN_TB_IN, bottom=MARGIN_TB_IN
        )
        if repeat:  # printed on every page if the table runs over pages
            self.repeat_row = header_row
        ws.freeze_panes(header_row + 1, freeze_col)
        ws.set_header(f"&L&B{_header_text(self.name)}&R{_header_text('xlmodel')}")
        ws.set_footer("&CPage &P of &N")

    def finish(self) -> None:
        for c, w in self.widths.items():
            self.ws.set_column(c, c, round(w, 1))
        hidden = bool(self.ws.hidden)
        area_col = self._area_col() if self.paged and not hidden else None
        breaks = []
        if area_col is not None:
            breaks = self._bands(area_col)[0]
        if self._subtitle is not None:
            row, text = self._subtitle
            if breaks:  # over the first band, wrapped: no page cuts it
                f = self.ctx.fmt(italic=True, text_wrap=True, valign="top")
                self._merges.append(
                    (row, 0, breaks[0], text, f, _font({"italic": True}))
                )
            else:
                self.ws.write_string(row, 0, text, self.ctx.fmt(italic=True))
        for row, col, width, text, f, font in self._merges:
            end = min([col + width, *(b for b in breaks if b > col)])
            if end - col > 1:
                self.ws.merge_range(row, col, row, end - 1, text, f)
            else:
                self.ws.write_string(row, col, text, f)
            self.wrapped.append((row, col, text, end - col, font))
        heights: dict[int, int] = {}
        for row, col, text, span, (points, bold, italic) in self.wrapped:
            px = sum(column_px(self.widths.get(col + k, 8.43)) for k in range(span))
            lines = text_lines(text, px, points, bold, italic)
            heights[row] = max(heights.get(row, 1), lines)
        for row, lines in heights.items():
            if lines > 1:
                self.ws.set_row(row, 13.5 * lines + 3)
                self.heights[row] = 13.5 * lines + 3
        self._insert_charts()
        if hidden:  # a reader prints a hidden sheet that has a print area
            return
        last_row, last_col = self._print_area(area_col)
        if self.paged:
            self._paginate(last_row, last_col)

    def _area_col(self) -> int:
        """The print area's last column, from the cells, the merged notes as
        asked for, the charts and the text that runs over empty cells."""
        last_col = max(
            [self.ws.dim_colmax or 0, *(c + w - 1 for _, c, w, *_ in self._merges)]
        )
        if self.print_limit is not None:  # cells beyond it are chart data
            last_col = min(last_col, self.print_limit[1])
        for *_, c1 in self._chart_cols():
            last_col = max(last_col, c1)
        return max(last_col, self._text_col(last_col))

    def _text_col(self, last_col: int) -> int:
        text_col = last_col
        for col, chars in self.overflow:
            if col > last_col:
                continue  # chart data beyond the print area
            end, room = col, self.widths.get(col, 8.43)
            while room < chars and end < MIN_TEXT_COLUMNS - 1:
                end += 1
                room += self.widths.get(end, 8.43)
            text_col = max(text_col, end)
        return text_col

    def _chart_cols(self) -> list[tuple[int, int, int, int]]:
        """(0, 0, first column, last column) of every chart, placed or pending."""
        out = []
        for _, _, col, x, _, w, _ in self._pending:
            out.append(
                (0, 0, self.col_after(col, x + 1) - 1, self.col_after(col, x + w) - 1)
            )
        return out

    def _name_tables(self, last_col: int) -> list[tuple[int, int]]:
        return [
            (min(t.cols.values()), max(t.cols.values()))
            for t in self.tables
            if t.cols and min(t.cols.values()) <= last_col
        ]

    def _bands(self, last_col: int) -> tuple[list[int], int, float]:
        """Column bands of the print area up to ``last_col`` (:func:`.paging.column_layout`)."""
        return column_layout(
            [self._col_px(c) for c in range(last_col + 1)],
            keep_cols=[(c0, c1) for _, _, c0, c1 in self._chart_cols()],
            prefer_cols=self.band_cols,
            name_tables=self._name_tables(last_col),
            name_cols=self.name_cols,
        )

    def _insert_charts(self) -> None:
        """Insert the charts, each at a row boundary, in the order of their tops."""
        # lowest chart bottom (pixels) per horizontal span (left, right), pixels
        bottoms: dict[tuple[float, float], float] = {}
        order = sorted(self._pending, key=lambda p: (self._top_px(p[1]) + p[4], p[3]))
        for chart, row, col, x, y, w, h in order:
            want = self._top_px(row) + y
            # below any chart above it in the same columns, by the gap
            left_px = self._left_px(col) + x
            for (c0, c1), bottom in bottoms.items():
                if c0 < left_px + w and left_px < c1:
                    want = max(want, bottom + 8)
            r = row
            while self._top_px(r) < want - 0.5:
                r += 1
            rr = self.repeat_row
            if rr is not None and r <= rr and self._top_px(r) + h > self._top_px(rr):
                r = rr + 1  # a chart in the repeated row would print on every page
            self.ws.insert_chart(
                r, col, chart, {"x_offset": x, "y_offset": 0, "object_position": 2}
            )
            self.charts.append((r, col, x, 0, w, h))
            span = (left_px, left_px + w)
            bottoms[span] = max(bottoms.get(span, 0), self._top_px(r) + h)

    def _top_px(self, row: int) -> float:
        return sum(self._row_px(r) for r in range(row))

    def _left_px(self, col: int) -> float:
        return sum(self._col_px(c) for c in range(col))

    def _chart_cells(self) -> list[tuple[int, int, int, int]]:
        """First and last row and column each chart covers."""
        out = []
        for row, col, x, y, w, h in self.charts:
            right, bottom = col, row
            px = x + w
            while px > 0:
                px -= self._col_px(right)
                right += 1
            py = y + h
            while py > 0:
                py -= self._row_px(bottom)
                bottom += 1
            # the loops stop one past the last column and row the chart touches
            first_col = col
            px = x
            while px >= self._col_px(first_col):
                px -= self._col_px(first_col)
                first_col += 1
            out.append((row, bottom - 1, first_col, right - 1))
        return out

    def _print_area(self, area_col: int | None = None) -> tuple[int, int]:
        """Print area over the cells and every chart; returns its last row, column.

        Text that runs over the empty cells to its right widens a narrow area
        up to ``MIN_TEXT_COLUMNS`` columns. The area's last column holds a
        space where no value reaches it (a note merged over columns): a reader that sizes a page to the cells holding values
        (LibreOffice's one-page-per-sheet PDF) would otherwise cut such text.
        """
        last_row, last_col = self.ws.dim_rowmax or 0, self.ws.dim_colmax or 0
        if self.print_limit is not None:  # cells beyond it are chart data
            last_row = min(last_row, self.print_limit[0])
            last_col = min(last_col, self.print_limit[1])
        for _, r1, _, c1 in self._chart_cells():
            last_row, last_col = max(last_row, r1), max(last_col, c1)
        last_col = max(last_col, self._text_col(last_col))
        if area_col is not None:  # as wide as the bands were cut for
            last_col = max(last_col, area_col)
        valued = max(
            (_last_valued(cells) for cells in self.ws.table.values()), default=-1
        )
        if valued < last_col and last_col not in self.ws.table.get(0, {}):
            self.ws.write_string(0, last_col, " ")
            self._marker_col = last_col
        self.ws.print_area(0, 0, last_row, last_col)
        return last_row, last_col

    def _paginate(self, last_row: int, last_col: int) -> None:
        """Scale, bands of columns and page breaks (:func:`.paging.print_layout`)."""
        charts = self._chart_cells()
        blocks = [Block(r0, r1) for r0, r1, _, _ in charts]
        for t in self.tables:
            if min(t.cols.values(), default=0) > last_col:
                continue  # chart data, not printed
            r0 = t.header_row
            while r0 - 1 in self.text_rows and r0 - 1 > 0:
                r0 -= 1  # its heading and notes go with it
            blocks.append(Block(r0, min(t.last_row, last_row), split=True))
        layout = print_layout(
            [self._col_px(c) for c in range(last_col + 1)],
            [self._row_px(r) for r in range(last_row + 1)],
            blocks,
            keep_cols=[(c0, c1) for _, _, c0, c1 in charts],
            prefer_cols=self.band_cols,
            repeat_row=self.repeat_row,
            name_tables=self._name_tables(last_col),
            name_cols=self.name_cols,
        )
        ws = self.ws
        ws.set_print_scale(layout.scale)
        if self.repeat_row is not None:
            table = next(
                (t for t in self.tables if t.header_row == self.repeat_row), None
            )
            end = table.last_row if table is not None else -1
            if any(self.repeat_row < b <= end for b in layout.row_breaks):
                ws.repeat_rows(self.repeat_row)
        if layout.row_breaks:
            ws.set_h_pagebreaks(list(layout.row_breaks))
        if layout.col_breaks:
            ws.set_v_pagebreaks(list(layout.col_breaks))
        if layout.repeat_cols:
            ws.repeat_columns(0, layout.repeat_cols - 1)
            self._band_areas(last_row, last_col, layout.col_breaks)
        self.printed = layout

    def _band_areas(self, last_row: int, last_col: int, breaks) -> None:
        """One print area per band, the later ones over their own rows only.

        The first column repeats at the left of every later band. Over the rows
        of the title and of the notes above a wide table (merged over the first
        band) it would print them cut to its width: so a later band's area runs
        from the first to the last row that holds something in its columns.
        Excel and LibreOffice print the areas in order, each from a new page. A
        band holding a chart keeps the whole height.
        """
        charts = self._chart_cells()
        starts, ends = [0, *breaks], [*(b - 1 for b in breaks), last_col]
        areas = [(0, 0, last_row, ends[0])]
        for c0, c1 in zip(starts[1:], ends[1:]):
            marker = self._marker_col  # the area's end marker, in row 0
            rows = {
                r
                for r, cells in self.ws.table.items()
                if r <= last_row
                and _valued_within(cells, c0, c1, marker if r == 0 else None)
            }
            if any(k0 <= c1 and c0 <= k1 for _, _, k0, k1 in charts):
                # LibreOffice misplaces charts in an area that does not begin
                # at the sheet's top (measured: a legend drawn past the page)
                rows = {0, last_row}
            if rows:
                areas.append((min(rows), c0, max(rows), c1))
        ranges = []
        for area in areas:
            self.ws.print_area(*area)
            ranges.append(self.ws.print_area_range)
        # the writer takes one range; the defined name takes a list of them
        self.ws.print_area_range = ",".join(ranges)

    def col_after(self, col: int, px: float) -> int:
        """The first column right of ``px`` pixels that start at column ``col``."""
        while px > 0:
            px -= self.col_px(col)
            col += 1
        return col

    def col_px(self, col: int) -> int:
        """Width of column ``col`` in pixels, as set so far."""
        return self._col_px(col)

    def _col_px(self, col: int) -> int:
        # xlsxwriter's column width to pixels (max digit width 7, padding 5).
        return int(self.widths.get(col, 8.43) * 7 + 0.5) + 5

    def _row_px(self, row: int) -> int:
        return int(4 / 3 * self.heights.get(row, 15))


#: True: a column without numbers written by :meth:`Sheet._text_column`;
#: False: cell by cell, as a column that mixes numbers and text (for comparisons).
TEXT_COLUMNS = True


def _header_text(text: str) -> str:
    return text.replace("&", "&&")


def _chars(n: int) -> float:
    """Column width (in digit widths) that shows ``n`` characters of text."""
    return n * 1.1 + 1


def _font(props: dict) -> tuple[float, bool, bool]:
    """Points, bold and italic of a cell written with format ``props``."""
    return (
        props.get("font_size", CELL_POINTS),
        bool(props.get("bold")),
        bool(props.get("italic")),
    )


def _last_valued(cells: dict) -> int:
    """The last column of a row's ``cells`` holding a value (not a blank
    cell that holds only a format); -1 for none."""
    if not cells:
        return -1
    top = max(cells)
    if type(cells[top]).__name__ != "Blank":
        return top
    return max(
        (c for c, cell in cells.items() if type(cell).__name__ != "Blank"), default=-1
    )


def _valued_within(cells: dict, c0: int, c1: int, skip: int | None) -> bool:
    """Whether a row's ``cells`` hold a value (not a blank) in columns ``c0``
    to ``c1``, column ``skip`` aside."""
    if len(cells) > c1 - c0 + 1:  # fewer columns to look up than cells
        found = (c for c in range(c0, c1 + 1) if c in cells)
    else:
        found = (c for c in cells if c0 <= c <= c1)
    return any(c != skip and type(cells[c]).__name__ != "Blank" for c in found)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _write_numbers(ws, first: int, cc: int, values, kinds, formats) -> None:
    """Column ``cc`` from row ``first``: each value a number cell (kind 0, 1, 4 or 5)
    or ``n/a`` (kind 2 or 3), in the format of its kind (see :class:`_Column`)."""
    numbers, na = _NumberColumn(ws), _StringColumn(ws)
    numbers.fill(first, cc, values, kinds, formats, na)
    numbers.finish()
    na.finish()


class _Column:
    """One of xlsxwriter's cell calls for the cells of a table's column, the
    same cells stored in fewer steps.

    The first cell goes through the call; the cells after it are stored as the
    record that call made (of fields ``FIELDS``: the number, or the string's
    shared index, and the format), and :meth:`finish` widens the sheet's
    dimensions to the last one, as its own call would have (rows only grow
    down a column). A writer that streams its rows (``direct`` false), a
    record of another kind, or a cell the call would change: every cell
    through the call.
    """

    FIELDS: tuple[str, ...] = ()

    def __init__(self, ws):
        self.ws = ws
        self.direct = not ws.constant_memory
        self.record = None  # the kind of cell the call stores, once known
        self.last: tuple[int, int] | None = None

    def call(self, row: int, col: int, value, fmt) -> None:
        raise NotImplementedError

    def holds(self, made, value) -> bool:
        """Whether the call's record ``made`` holds ``value``."""
        return True

    def __call__(self, row: int, col: int, value, fmt) -> None:
        record = self.record
        if record:
            self.ws.table[row][col] = tuple.__new__(record, (value, fmt))
            self.last = (row, col)
            return
        self.call(row, col, value, fmt)
        if record is None:
            made = self.ws.table.get(row, {}).get(col) if self.direct else None
            fields = getattr(type(made), "_fields", ())
            same = fields == self.FIELDS and self.holds(made, value)
            self.record = type(made) if same else False

    def finish(self) -> None:
        """The sheet's dimensions, as the cells' own calls would have set them."""
        if self.last is not None:
            self.ws._check_dimensions(*self.last)
            self.last = None


class _NumberColumn(_Column):
    FIELDS = ("number", "format")

    def call(self, row, col, value, fmt) -> None:
        self.ws.write_number(row, col, value, fmt)

    def holds(self, made, value) -> bool:
        return made.number == value

    def fill(self, first: int, col: int, values, kinds, formats, na) -> None:
        """Cells from row ``first`` down: each value a number (kind 0, 1, 4
        or 5) or the text ``n/a`` through ``na`` (kind 2 or 3), in the format of
        its kind; the numbers after the first stored in one step each."""
        table, new, last = self.ws.table, tuple.__new__, None
        for row, v, k in zip(range(first, first + len(values)), values, kinds):
            if k & 2:
                na(row, col, "n/a", formats[k])
            elif self.record:
                table[row][col] = new(self.record, (v, formats[k]))
                last = row
            else:
                self(row, col, v, formats[k])
        if last is not None:
            self.last = (last, col)


class _StringColumn(_Column):
    """The record holds the string's shared index (counted once per cell, as
    the call counts it). A string long enough to be cut to Excel's limit, or
    a sheet whose text is rewritten on the way (``_integer_ops``), goes
    through the call."""

    FIELDS = ("string", "format")

    def __init__(self, ws):
        super().__init__(ws)
        self.direct = self.direct and "_write_string" not in vars(ws)
        self.limit = ws.xls_strmax // 2

    def __call__(self, row: int, col: int, value, fmt) -> None:
        if not self.record:  # the call (the record learnt from the first)
            super().__call__(row, col, value, fmt)
        elif len(value) <= self.limit:  # stored as the base stores, in one step
            index = self.ws.str_table._get_shared_string_index(value)
            self.ws.table[row][col] = tuple.__new__(self.record, (index, fmt))
            self.last = (row, col)
        else:
            self.call(row, col, value, fmt)

    def call(self, row, col, value, fmt) -> None:
        self.ws.write_string(row, col, value, fmt)

    def fill(self, first: int, col: int, texts, fmts) -> None:
        """Cells from row ``first`` down, each text in its format; those
        after the first stored in one step each, as :meth:`__call__` stores
        them."""
        table, new, limit = self.ws.table, tuple.__new__, self.limit
        index = self.ws.str_table._get_shared_string_index
        last = None
        for row, text, fmt in zip(range(first, first + len(texts)), texts, fmts):
            record = self.record
            if record and len(text) <= limit:
                table[row][col] = new(record, (index(text), fmt))
                last = row
            else:
                self(row, col, text, fmt)
        if last is not None and (self.last is None or self.last[0] < last):
            self.last = (last, col)


def _float_column(column: pd.Series) -> np.ndarray | None:
    """A column of plain numbers as float64 (missing: NaN), or None when it
    holds anything else (text, truth values, blanks, objects)."""
    if column.dtype.kind in "fiu":  # numpy's or pandas' nullable numbers
        # float() of an integer beyond 2**53 rounds as numpy's conversion does
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _widest_shown(x: np.ndarray, num_format: str, any_na: bool) -> int:
    """The widest :func:`_shown_len` of the finite numbers ``x`` (3, ``n/a``,
    when ``any_na``); 0 for none.

    A number's shown text is a fixed-point rendering of its magnitude, whose
    length never falls as the magnitude grows, after a sign when its sign bit
    is set: the widest is that of the largest magnitude on either side of the
    sign (a percentage may overflow to infinity when scaled: then every number
    is measured).
    """
    widest = 3 if any_na else 0
    if not len(x):
        return widest
    if "%" in num_format and np.abs(x).max() > 1e300:
        return max(widest, max(_shown_len(v, num_format) for v in x.tolist()))
    negative = np.signbit(x)
    for side in (x[~negative], x[negative]):
        if len(side):
            v = float(side[np.argmax(np.abs(side))])
            widest = max(widest, _shown_len(v, num_format))
    return widest


def _shown_len(x: float, num_format: str) -> int:
    spec, extra, percent = _shown_format(num_format)
    if percent:
        x *= 100
    return len(format(x, spec)) + extra


@functools.lru_cache(maxsize=256)
def _shown_format(num_format: str) -> tuple[str, int, bool]:
    """(format spec, characters added, percent?) of how ``num_format`` shows a
    number, for :func:`_shown_len`."""
    decimals = 0
    if "." in num_format:
        decimals = len(num_format.split(".")[1].split('"')[0].rstrip("%E+"))
    suffix = num_format.split('"')[1] if '"' in num_format else ""
    percent = "%" in num_format
    return f",.{min(decimals, 6)}f", len(suffix) + percent, percent


def _integer_ops(ws, precision: str, ops: str) -> None:
    """Every text cell of ``ws`` that names ``precision`` (an integer precision,
    INT8) reads its throughput in ``ops`` (TOPS), not TFLOPS, whichever writer
    composed it: the one place the unit is decided for a sheet's text."""
    write = ws._write_string

    def written(row, col, string, cell_format=None):
        if precision in string and "TFLOPS" in string:
            string = string.replace("TFLOPS", ops)
        return write(row, col, string, cell_format)

    ws._write_string = written
