"""The result sheets' XML written on both cores.

xlsxwriter writes every cell of a workbook when it closes it, sheet after sheet:
about a sixth of a compute with many variants (170,000 cells at 200 variants,
760,000 at 1000). Each sheet's XML depends only on that sheet and on what the
workbook settled before (format indices, shared strings, drawing and table
ids), so sheets can be written apart. :class:`Workbook` writes about half of
the cells in a forked child (:class:`~xlmodel.studies.background.Background`)
while this process writes the rest; the child sends back each sheet's text and
every attribute of the sheet that its writing changed (a hyperlink's
relationship, say, which the packager reads afterwards), and the package is put
together here in xlsxwriter's order: the same bytes as a serial close
(``tests/test_assembly.py`` compares every part).

Serial, as xlsxwriter does it, whenever a child is not to be had (not Linux,
another thread running: see :mod:`~xlmodel.studies.background`), for a
workbook too small to gain from it, for a writer set to constant memory or
temporary files, with a version of the writer other than those of
:data:`WRITER_VERSIONS`, and when the child dies without an answer (the child's sheets
are then written here). Should a sheet's writing number a format the settling
missed (another version of the writer, asking for formats otherwise), the
close starts again serially, the numbering as it was.
"""

from __future__ import annotations

import copy
import functools
import os
from io import StringIO

import xlsxwriter
from xlsxwriter.packager import Packager

from ..studies import background
from .package.result_parts import inline_endings, string_inners

#: Below this many cells in all, a serial close (forking costs a few ms).
MIN_CELLS = 20_000

#: The child's side of the split starts this share of all the cells heavier:
#: besides its cells it pays for its fork, its first touch of each page of
#: the parent's memory and sending its XML back. Measured at 1000 variants
#: with the rows written in final form: 0.05 left the parent waiting
#: 0.12-0.16 s for the child, 0.15 0.06-0.08 s (docs/benchmarks.md).
CHILD_HEAD = 0.15

#: True: split when a child can be had; False: always serial (for comparisons).
PARALLEL = True

#: The writer's versions whose order of numbering formats :func:`settle_formats`
#: follows (the suite compares every part with a serial close's); with any
#: other version the close is serial.
WRITER_VERSIONS = ("3.3.",)

# Attributes a sheet's writing changes that are of no use afterwards, or cannot
# travel: its file handle, and the cell table (read, never changed).
_NOT_SENT = frozenset({"fh", "internal_fh", "table"})


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook, its sheets' XML written on two cores on close,
    its charts' point caches of numbers written in one step each.

    With ``final_styles`` set (the bytes of the styles part the results will
    be merged into, or None for a workbook without one) before it closes, its
    sheets' cells and rows are laid out in final form (:class:`Final`): the
    style indices the merged styles give them and inline strings, as the
    splice would rewrite them; ``final_maps`` then holds the style maps used
    (left None when the close could not lay them out so: the writer's form).
    """

    final_styles: bytes | None | type = NotImplemented  # NotImplemented: off
    final_maps: tuple[dict[int, int], dict[int, int]] | None = None

    def _get_packager(self):
        return _Packager()

    def close(self) -> None:
        """xlsxwriter's close; then the sheets' cells let go of.

        The writer's workbook, its sheets and its packager refer to one
        another, so the cell records (hundreds of thousands) would wait for
        Python's collector of reference cycles, which goes through every one
        of them to find them unused (a quarter of a second at 1000
        variants); let go here, they are freed at once.
        """
        try:
            super().close()
        finally:
            for sheet in self.worksheets():
                table = getattr(sheet, "table", None)
                if isinstance(table, dict):
                    table.clear()

    def add_chart(self, options):
        chart = super().add_chart(options)
        if chart is not None and xlsxwriter.__version__.startswith(WRITER_VERSIONS):
            chart.__class__ = _fast_caches(chart.__class__)
        return chart


class _NumberCaches:
    """A chart's ``c:numCache`` written as one text: what xlsxwriter's
    element by element writing of each point writes (a number cell's text as
    it is, escaped where it holds what needs escaping; a formula's cached
    number as its ``str``; text as 0); a cache holding any other object is
    written by the writer itself (``tests/test_assembly.py`` compares the
    chart parts)."""

    def _write_num_cache(self, data) -> None:
        count = len(data) if data else 0
        points = []
        for i in range(count):
            token = data[i]
            if token is None:
                continue
            if isinstance(token, str):  # a number cell's text (%.16g)
                try:
                    float(token)
                except ValueError:  # text: 0, as the writer writes it
                    token = 0
                else:
                    if not (token.isascii() and token.isprintable()):
                        token = self._escape_control_characters(
                            self._escape_data(token)
                        )
            elif not isinstance(token, int | float):
                super()._write_num_cache(data)
                return
            points.append(f'<c:pt idx="{i}"><c:v>{token}</c:v></c:pt>')
        self.fh.write(
            '<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="'
            f'{count}"/>{"".join(points)}</c:numCache>'
        )


@functools.cache
def _fast_caches(kind: type) -> type:
    """The chart class ``kind`` with :class:`_NumberCaches`'s writing."""
    return type(kind.__name__, (_NumberCaches, kind), {})


def settle_formats(sheets) -> list[int]:
    """Give each format its style index in the order a serial close would;
    return each sheet's weight (its cells, a formula counted as four: about
    what each costs to write).

    xlsxwriter numbers a format when a sheet's writing first asks for it: each
    sheet in turn, its column formats (by column), then row by row the row's
    format and its cells' formats (by column). Sheets written apart would
    number them in another order; numbered here first, in that order, they
    keep their serial numbers whoever writes them.
    """
    seen: set = set()  # formats compare and hash by identity
    is_formula: dict[type, bool] = {}
    order = []
    weights = []
    for sheet in sheets:
        for col in sorted(sheet.col_info):
            fmt = sheet.col_info[col].column_format
            if fmt is not None and fmt not in seen:
                seen.add(fmt)
                order.append(fmt)
        if sheet.dim_rowmin is None:  # no cells: no rows are written
            weights.append(0)
            continue
        low, high = sheet.dim_rowmin, sheet.dim_rowmax
        table, row_info = sheet.table, sheet.row_info
        cells = formulas = 0
        for row in sorted(set(table) | set(row_info)):
            if not low <= row <= high:
                continue
            info = row_info.get(row)
            if info is not None and info.row_format and info.row_format not in seen:
                seen.add(info.row_format)
                order.append(info.row_format)
            line = table.get(row)
            if not line:
                continue
            cells += len(line)
            new = {}
            for col, cell in line.items():
                kind = cell.__class__
                heavy = is_formula.get(kind)
                if heavy is None:  # the writer's cell records, by their names
                    heavy = is_formula[kind] = kind.__name__ in _FORMULAS
                if heavy:
                    formulas += 1
                fmt = cell.format
                if fmt and fmt not in seen and (fmt not in new or col < new[fmt]):
                    new[fmt] = col
            for fmt in sorted(new, key=new.__getitem__):
                seen.add(fmt)
                order.append(fmt)
        weights.append(cells + 3 * formulas)
    for fmt in order:
        fmt._get_xf_index()
    return weights


_SCALARS = (int, float, str, bool, type(None))
_FORMULAS = ("Formula", "ArrayFormula")


def _fingerprint(sheet) -> dict[str, tuple]:
    """Each attribute's identity and size (its value, for a scalar): what a
    sheet's writing changes by rebinding an attribute, growing or shrinking a
    container (a hyperlink's relationship appended) or counting (ids)."""
    out = {}
    for key, value in vars(sheet).items():
        if key in _NOT_SENT:
            continue
        if isinstance(value, _SCALARS):
            out[key] = (id(value), value)
        else:
            try:
                size = len(value)
            except TypeError:
                size = None
            out[key] = (id(value), size)
    return out


def _state(sheet) -> dict:
    """A sheet's attributes, its containers copied (the cell table is only
    read, never changed, by writing the sheet)."""
    return {
        key: copy.copy(value) if isinstance(value, list | dict | set) else value
        for key, value in vars(sheet).items()
        if key not in _NOT_SENT
    }


def _write_sheets(
    sheets, parent: int, indices: dict, progress=None
) -> tuple[list[tuple[str, dict]], int]:
    """Each sheet's XML (in a child, with the attributes its writing changed),
    and how many style indices the workbook then has."""
    away = os.getpid() != parent
    answers = []
    for sheet in sheets:
        before = _fingerprint(sheet) if away else None
        text = StringIO()
        sheet._set_xml_writer(text)
        sheet._assemble_xml_file()
        changed = {}
        if away:
            for key, mark in _fingerprint(sheet).items():
                if before.get(key) != mark:
                    changed[key] = getattr(sheet, key)
        answers.append((text.getvalue(), changed))
    return answers, len(indices)


class FinalFormMissed(Exception):
    """A sheet's writing numbered a format the settling missed: the sheets
    laid out in final form may hold wrong style indices (the workbook is to
    be written again in the writer's own form)."""


class Final:
    """What a sheet needs to lay out its cells and rows in final form:
    ``styles[i]``, the ``s`` attribute of result format ``i`` (its merged
    index; None: a format the merge does not know), ``inline[k]``, the end of
    a cell holding shared string ``k`` once inline
    (:func:`~.package.result_parts.inline_endings`), and the maps; ``size``,
    the formats the results number (an empty map keeps every index)."""

    def __init__(self, xf_map: dict[int, int], inline: list[str], size: int):
        self.xf_map = xf_map
        if xf_map:
            top = max(xf_map) + 1
            self.styles = [
                f' s="{xf_map[i]}"' if i in xf_map else None for i in range(top)
            ]
        else:
            self.styles = [f' s="{i}"' for i in range(size)]
        self.inline = inline
        self._by_index: dict[str | None, str] | None = None

    def rewrite(self, text: str) -> str:
        """Cells or a row the writer wrote in its own form, in final form;
        :class:`FinalFormMissed` for any the splice would refuse."""
        from .package.ooxml import PackageError
        from .package.result_parts import by_written_index, final_cells

        if self._by_index is None:
            self._by_index = by_written_index(self.inline)
        try:
            return final_cells(text, self.xf_map, self._by_index)
        except PackageError:
            raise FinalFormMissed from None


# What preparing the formats for the styles part sets on the workbook.
_PREPARED = (
    "xf_formats",
    "dxf_formats",
    "font_count",
    "num_formats",
    "border_count",
    "fill_count",
)


class _Packager(Packager):
    _sst_text: str | None = None

    def _final_form(self, sheets) -> list[int] | None:
        """Settle the formats' numbers, work out the styles and shared
        strings the package will hold and the maps of their merge into
        ``final_styles``, and give each sheet its :class:`Final`; the sheets'
        weights (:func:`settle_formats`). None (the writer's form) for a
        writer that streams or writes temporary files, another version of
        the writer, or styles that cannot be merged (the splice says why)."""
        from xlsxwriter.sharedstrings import SharedStrings
        from xlsxwriter.styles import Styles

        from .package import style_maps
        from .package.ooxml import PackageError

        book = self.workbook
        target = getattr(book, "final_styles", NotImplemented)
        if (
            target is NotImplemented
            or not self.in_memory
            or any(s.constant_memory for s in sheets)
            or not xlsxwriter.__version__.startswith(WRITER_VERSIONS)
        ):
            return None
        weights = settle_formats(sheets)
        # the styles part as the packager will write it; what preparing it
        # changes on the formats and the workbook is put back, so the close
        # prepares them as ever
        kept = [dict(vars(f)) for f in book.formats]
        kept_book = {k: getattr(book, k, None) for k in _PREPARED}
        try:
            book._prepare_format_properties()
            styles = Styles()
            styles._set_style_properties(
                [
                    book.xf_formats,
                    book.palette,
                    book.font_count,
                    book.num_formats,
                    book.border_count,
                    book.fill_count,
                    book.custom_colors,
                    book.dxf_formats,
                    book.has_comments,
                ]
            )
            text = StringIO()
            styles._set_xml_writer(text)
            styles._assemble_xml_file()
            styles_xml = text.getvalue()
        finally:
            for fmt, attrs in zip(book.formats, kept, strict=True):
                vars(fmt).clear()
                vars(fmt).update(attrs)
            for key, value in kept_book.items():
                setattr(book, key, value)
        try:
            maps = style_maps(target, styles_xml.encode("utf-8"))
        except PackageError:
            return None
        strings: list[str] = []
        if book.str_table.count:
            sst = SharedStrings()
            sst.string_table = book.str_table
            text = StringIO()
            sst._set_xml_writer(text)
            sst._assemble_xml_file()
            self._sst_text = text.getvalue()
            strings = string_inners(self._sst_text)
        final = Final(maps[0], inline_endings(strings), len(book.xf_format_indices) + 1)
        for sheet in sheets:
            sheet.final = final
        book.final_maps = maps
        return weights

    def _write_shared_strings_file(self) -> None:
        if self._sst_text is None:
            super()._write_shared_strings_file()
            return
        self._filename("xl/sharedStrings.xml").write(self._sst_text)

    def _write_worksheet_files(self) -> None:
        sheets = [s for s in self.workbook.worksheets() if not s.is_chartsheet]
        weights = self._final_form(sheets)
        if weights is not None:
            settled = len(self.workbook.xf_format_indices)
            try:
                self._write_sheets(sheets, weights)
            finally:
                for sheet in sheets:
                    sheet.final = None
            if len(self.workbook.xf_format_indices) != settled:
                raise FinalFormMissed
            return
        self._write_sheets(sheets, None)

    def _write_sheets(self, sheets, weights) -> None:
        if (
            not PARALLEL
            or not self.in_memory
            or any(s.constant_memory for s in sheets)
            or len(sheets) < 2
            or sum(len(row) for s in sheets for row in s.table.values()) < MIN_CELLS
            or not xlsxwriter.__version__.startswith(WRITER_VERSIONS)
            or not background.can_fork()
        ):
            super()._write_worksheet_files()
            return
        book = self.workbook
        indices = book.xf_format_indices
        saved = dict(indices), [(f, f.xf_index) for f in book.formats]
        away = background.split(
            settle_formats(sheets) if weights is None else weights, CHILD_HEAD
        )
        settled = len(indices)
        first = len(self.filenames)
        files = [
            self._filename(f"xl/worksheets/sheet{i + 1}.xml")
            for i in range(len(sheets))
        ]
        theirs = [sheets[i] for i in sorted(away)]
        # what writing a sheet changes, kept to undo it should the close start
        # again (writing a sheet twice would count its hyperlinks twice)
        kept = [_state(sheet) for sheet in sheets]
        here = os.getpid()
        with background.Background(
            _write_sheets, (theirs, here, indices), mode="process", fallback="serial"
        ) as child:
            for i, sheet in enumerate(sheets):
                if i not in away:
                    sheet._set_xml_writer(files[i])
                    sheet._assemble_xml_file()
            try:
                answers, numbered = child.result()
            except Exception:  # noqa: BLE001 - an answer that could not travel
                answers, numbered = _write_sheets(theirs, here, indices)
        if numbered != settled or len(indices) != settled:
            # a format first numbered while a sheet was written: one the
            # settling missed (a writer that asks for formats otherwise); its
            # number may differ from a serial close's, so start again serially
            indices.clear()
            indices.update(saved[0])
            for fmt, index in saved[1]:
                fmt.xf_index = index
            for sheet, state in zip(sheets, kept, strict=True):
                vars(sheet).update(state)
            del self.filenames[first:]
            super()._write_worksheet_files()
            return
        for i, (text, changed) in zip(sorted(away), answers, strict=True):
            files[i].write(text)
            for key, value in changed.items():
                setattr(sheets[i], key, value)
