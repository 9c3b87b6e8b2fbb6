"""Result sheets: the engine's tables as formatted Excel sheets with native charts.

:func:`write_results` writes a new workbook that holds only the result sheets
(Summary, Performance, Power, Cost, Roofline, Inference, Scaling, Sensitivity,
Global sensitivity, Exploration, Uncertainty, Reality check, Changes, Run and
the very hidden xlmodel state; Inference and the three after Sensitivity only
when the study asked for them); the package module splices them into the
user's workbook. Every value is a number or a string, or a formula with its
cached result, so any reader sees it without recalculating: on Performance and
Power (:mod:`xlmodel.workbook.results.live`) formulas over the input cells traced
from the engine, the stale-results banners (:mod:`.results.banner`) and the
state sheet's counts of changed inputs. Every result sheet
carries the sheet-scoped defined name ``OWNED_NAME`` by which xlmodel
recognises its own sheets on the next run.

This module is the orchestrator: it registers the sheet modules of
:mod:`xlmodel.workbook.results` in order, names the sheets and runs the
writers. Each sheet's layout and charts are in its own module there. After
xlsxwriter has closed the package (in memory),
:func:`xlmodel.workbook.chart_xml.explicit_entries` writes out every chart
property the parts leave implicit, so that every reader draws the charts as
designed whatever program saved the user's workbook.

Charts show at most ``CHART_VARIANT_LIMIT`` variants (ranked: all targets met,
then within the power budget, then by target density); a note on the sheet says
so when variants are left out, and the tables always hold every variant. Values
Excel cannot store (infinite ridge points without HBM, NaN sensitivities) are
written as the text ``n/a`` in tables and as blanks in chart cells.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import re
import threading
import zipfile

import xlsxwriter
import xlsxwriter.workbook
import xlsxwriter.worksheet
from xlsxwriter.exceptions import XlsxFileError
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet

from ..errors import PackageError
from ..studies.run import Results
from . import assembly
from .chart_xml import explicit_entries, write_entries
from .package import OWNED_NAME, marker_value  # one marker for writer and splice
from .results import (
    changes,
    cost,
    exploration,
    global_sensitivity,
    inference,
    inference_charts,
    performance,
    power,
    reality_check,
    roofline,
    run,
    scaling,
    sensitivity,
    state,
    summary,
    uncertainty,
)
from .results.context import (
    CHART_LABEL_CHARS,
    CHART_VARIANT_LIMIT,
    Context,
    chart_labels,
    chart_variants,
)
from .results.exploration import MAX_DESIGN_ROWS
from .results.formats import GENERAL, UNIT_FORMATS
from .results.roofline import WORKLOAD_LABELS
from .results.sensitivity import SWEEP_TARGET_SCALE
from .results.sheet import ResultSheet, Sheet
from .results.summary import SUMMARY_WARNING_LINES

__all__ = [
    "CHART_LABEL_CHARS",
    "CHART_VARIANT_LIMIT",
    "FIXED_CREATED",
    "GENERAL",
    "MAX_DESIGN_ROWS",
    "OWNED_NAME",
    "SHEETS",
    "SUMMARY_WARNING_LINES",
    "SWEEP_TARGET_SCALE",
    "UNIT_FORMATS",
    "WORKLOAD_LABELS",
    "chart_labels",
    "chart_variants",
    "resolve_sheet_names",
    "sheets_for",
    "write_results",
]

# The result sheets, in workbook order.
_REGISTRY: tuple[ResultSheet, ...] = (
    summary.SHEET,
    performance.SHEET,
    power.SHEET,
    cost.SHEET,
    roofline.SHEET,
    inference.SHEET,
    inference_charts.SHEET,
    scaling.SHEET,
    sensitivity.SHEET,
    global_sensitivity.SHEET,
    exploration.SHEET,
    uncertainty.SHEET,
    reality_check.SHEET,
    changes.SHEET,
    run.SHEET,
    state.SHEET,
)
SHEETS: tuple[str, ...] = tuple(entry.name for entry in _REGISTRY)
FIXED_CREATED = dt.datetime(2000, 1, 1)

# Every name xlsxwriter's formula preparation rewrites when future functions are
# off (``\SINGLE\(`` in its patterns matches any character before "INGLE("),
# matched anywhere: a formula without any of them comes out of that preparation
# as it went in, less its leading "=".
_REWRITTEN = re.compile(
    r"(?:ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|"
    r"LAMBDA|MAKEARRAY|MAP|RANDARRAY|REDUCE|SCAN|INGLE|SEQUENCE|SORT|SORTBY|"
    r"SWITCH|TAKE|TEXTSPLIT|TOCOL|TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP)\("
)


_STORING = threading.Lock()

#: Functions xlsxwriter never rewrites nor writes as an array formula (none is a
#: dynamic array or future function; tests/test_speed.py checks each against
#: the writer): a formula calling only these is stored as it is written.
_PLAIN_FUNCTIONS = frozenset(
    "ABS AND AVERAGE CEILING CHOOSE COUNT COUNTA COUNTIF EXP FLOOR IF IFERROR "
    "INDEX INT ISBLANK ISERROR ISNUMBER LN LOG LOG10 MATCH MAX MIN MOD NA NOT OR "
    "POWER ROUND ROUNDDOWN ROUNDUP SQRT SUM SUMPRODUCT TRUNC".split()
)
# what may be a function's name before its parenthesis: any run of capitals,
# digits, dots and underscores, so that every name xlsxwriter would rewrite is
# one of the runs found or inside one (never a plain function's whole name)
_CALLED = re.compile(r"[A-Z][A-Z0-9._]*(?=\()")
_FORMULA_RECORD = getattr(xlsxwriter.worksheet, "CellFormulaTuple", None)


def _plain_calls(formula: str) -> bool:
    """Whether ``formula`` calls only :data:`_PLAIN_FUNCTIONS` (no other name
    before a parenthesis)."""
    if "(" not in formula:
        return True
    return _PLAIN_FUNCTIONS.issuperset(_CALLED.findall(formula))


#: The cached values xlsxwriter writes as a formula's error (``t="e"``).
_ERROR_CODES = frozenset(
    ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
)


class _Buffer(io.BytesIO):
    """The writer's in-memory package: never closed, only dropped.

    When the writer fails inside its close, its zip file object is left open
    on this buffer; collected later, it finishes writing there. Closed first
    (the garbage collector frees the two in either order), the buffer would make
    that last write fail, and Python would print the error on the way out.
    """

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _stored_entries():
    """xlsxwriter's package entries uncompressed while it closes a workbook.

    xlsxwriter always deflates; the results workbook is finished in memory and
    written once more (:func:`write_results`), so that first compression would
    be undone at once. Its packager reads the module's ``ZIP_DEFLATED`` when it
    opens the zip: stored in its place for the close, one close at a time.
    """
    module = xlsxwriter.workbook
    if getattr(module, "ZIP_DEFLATED", None) != zipfile.ZIP_DEFLATED:
        yield  # another version of the writer: it deflates, the result is the same
        return
    with _STORING:
        deflated = module.ZIP_DEFLATED
        module.ZIP_DEFLATED = zipfile.ZIP_STORED
        try:
            yield
        finally:
            module.ZIP_DEFLATED = deflated


def _formula_type(value) -> str | None:
    """The type attribute of a formula cell holding ``value`` as its result,
    as xlsxwriter writes it (``' t="str"'`` for text, nothing for a number);
    None for a value it writes otherwise (a boolean, an error code, empty
    text, another type)."""
    if value.__class__ is bool:
        return None
    if isinstance(value, str):
        if value == "" or value in _ERROR_CODES:
            return None
        return ' t="str"'
    if isinstance(value, int | float):
        return ""
    return None


class _Worksheet(Worksheet):
    """xlsxwriter's worksheet, without the 29 rewriting passes over a formula
    that names none of the functions they rewrite (the live tables write
    thousands of formulas), and with its rows written from the cells they hold
    (xlsxwriter visits every column of the sheet's width in every row, twice)
    and their common cells, a number, shared string or formula with a format,
    written in one step; the same cells either way (tests/test_speed.py
    compares the sheet parts)."""

    #: Set while the sheet is written in final form (:class:`assembly.Final`).
    final = None

    def _write_cell(self, row, col, cell):
        final = self.final
        if final is not None:
            xml = self._final_cell_xml(row, col, cell, final)
            if xml is None:
                xml = final.rewrite(self._captured(super()._write_cell, row, col, cell))
            self.fh.write(xml)
            return
        xml = self._cell_xml(row, col, cell)
        if xml is None:
            super()._write_cell(row, col, cell)
        else:
            self.fh.write(xml)

    def _write_row(self, row, spans, row_info=None, empty_row=False):
        final = self.final
        if final is None or row_info is None or not row_info.row_format:
            super()._write_row(row, spans, row_info, empty_row)
            return
        text = self._captured(super()._write_row, row, spans, row_info, empty_row)
        self.fh.write(final.rewrite(text))

    def _captured(self, write, *args) -> str:
        """What ``write(*args)`` writes to the sheet, as text."""
        fh = self.fh
        self.fh = io.StringIO()
        try:
            write(*args)
            return self.fh.getvalue()
        finally:
            self.fh = fh

    def _final_cell_xml(self, row, col, cell, final) -> str | None:
        """:meth:`_cell_xml` in final form (the splice's rewriting of it):
        the merged style index, a shared string inline; None for any other
        cell (written by the writer, then rewritten)."""
        fmt = cell.format
        if fmt:
            xf = fmt._get_xf_index()
            styles = final.styles
            style = styles[xf] if xf < len(styles) else None
            if style is None:
                return None
        else:
            info = self.row_info.get(row)
            if info is not None and info.row_format:
                return None  # the row's format
            info = self.col_info.get(col)
            if info is not None and info.column_format is not None:
                return None  # the column's
            style = ""
        kind = cell.__class__.__name__
        if kind == "Blank":
            return f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style}/>'
        return self._common_cell_xml(row, col, cell, kind, style, final.inline)

    def _cell_xml(self, row, col, cell) -> str | None:
        """A cell's XML as xlsxwriter writes it, for the common kinds of cell
        (with a format: its index, and neither a cell reference nor an index
        needs escaping); None for any other."""
        fmt = cell.format
        if not fmt:
            return None
        kind = cell.__class__.__name__  # xlsxwriter's own test of the kind
        if kind == "String" and self.constant_memory:  # an in-line string
            return None
        style = f' s="{fmt._get_xf_index()}"'
        return self._common_cell_xml(row, col, cell, kind, style, None)

    def _common_cell_xml(self, row, col, cell, kind, style, inline) -> str | None:
        """A number, string or formula cell's XML with the style attribute
        ``style``: a string shared (``inline`` None) or inline (``inline``:
        :attr:`assembly.Final.inline`); None for any other cell."""
        if kind == "Number" or kind == "Datetime":
            ref = xl_rowcol_to_cell_fast(row, col)
            return f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>'
        if kind == "String":
            index = cell.string
            ref = xl_rowcol_to_cell_fast(row, col)
            if inline is None:
                return f'<c r="{ref}"{style} t="s"><v>{index}</v></c>'
            if index.__class__ is not int or not 0 <= index < len(inline):
                return None
            return f'<c r="{ref}"{style}{inline[index]}'
        if kind == "Formula":
            value = cell.value
            typed = _formula_type(value)
            if typed is None:
                return None
            ref = xl_rowcol_to_cell_fast(row, col)
            escape = self._escape_data
            return (
                f'<c r="{ref}"{style}{typed}><f>{escape(cell.formula)}</f>'
                f"<v>{escape(value)}</v></c>"
            )
        return None

    def _calculate_spans(self) -> None:
        # xlsxwriter's spans (the first and last column holding a cell in
        # each block of 16 rows), from each row's cells
        if self.comments:
            super()._calculate_spans()
            return
        low, high = self.dim_rowmin, self.dim_rowmax
        blocks: dict[int, list[int]] = {}
        for row, cells in self.table.items():
            if cells and low <= row <= high:
                first, last = min(cells), max(cells)
                block = blocks.get(row // 16)
                if block is None:
                    blocks[row // 16] = [first, last]
                else:
                    block[0] = min(block[0], first)
                    block[1] = max(block[1], last)
        self.row_spans = {b: f"{lo + 1}:{hi + 1}" for b, (lo, hi) in blocks.items()}

    def _write_rows(self) -> None:
        if self.constant_memory or self.comments:
            super()._write_rows()
            return
        self._calculate_spans()
        low, high = self.dim_rowmin, self.dim_rowmax
        table, row_info, spans = self.table, self.row_info, self.row_spans
        rows = sorted(
            r
            for r in {*(r for r, cells in table.items() if cells), *row_info}
            if low <= r <= high
        )
        if self.final is not None:
            self._write_final_rows(rows)
            return
        write_cell = self._write_cell
        for row in rows:
            span = spans.get(row // 16)
            cells = table.get(row)
            if not cells:  # a row with attributes only
                self._write_empty_row(row, span, row_info.get(row))
                continue
            self._write_row(row, span, row_info.get(row))
            for col in sorted(cells):
                write_cell(row, col, cells[col])
            self.fh.write("</row>")

    def _write_final_rows(self, rows) -> None:
        """:meth:`_write_rows` in final form: each row's cells as
        :meth:`_final_cell_xml` writes them, joined and written once; a
        number or shared string with a format (most cells) written here, with
        its format's style attribute and its column's letters found once per
        sheet (the same text, in fewer steps)."""
        final, table, row_info, spans = (
            self.final,
            self.table,
            self.row_info,
            self.row_spans,
        )
        fh, styles, inline = self.fh, final.styles, final.inline
        count, strings = len(styles), len(inline)
        style_of: dict = {}  # format (by identity) -> its attribute, or None
        letters = _Letters()
        for row in rows:
            info = row_info.get(row)
            cells = table.get(row)
            if not cells:  # a row with attributes only
                self._write_empty_row(row, spans.get(row // 16), info)
                continue
            self._write_row(row, spans.get(row // 16), info)
            number = str(row + 1)
            out = []
            append = out.append
            for col in sorted(cells):
                cell = cells[col]
                kind = cell.__class__.__name__  # xlsxwriter's own test of the kind
                fmt = cell.format
                if fmt and (kind == "Number" or kind == "String"):
                    style = style_of.get(fmt, False)
                    if style is False:
                        xf = fmt._get_xf_index()
                        style = style_of[fmt] = styles[xf] if xf < count else None
                    if style is not None:
                        if kind == "Number":
                            append(
                                f'<c r="{letters[col]}{number}"{style}>'
                                f"<v>{cell.number:.16G}</v></c>"
                            )
                            continue
                        index = cell.string
                        if index.__class__ is int and 0 <= index < strings:
                            append(
                                f'<c r="{letters[col]}{number}"{style}{inline[index]}'
                            )
                            continue
                xml = self._final_cell_xml(row, col, cell, final)
                if xml is None:  # written by the writer, then rewritten
                    xml = final.rewrite(
                        self._captured(Worksheet._write_cell, self, row, col, cell)
                    )
                append(xml)
            append("</row>")
            fh.write("".join(out))

    def write_formula(self, row, col, formula, cell_format=None, value=0):
        """xlsxwriter's ``write_formula``; a formula that calls only functions
        xlsxwriter never rewrites (:data:`_PLAIN_FUNCTIONS`; the live tables'
        formulas, thousands of them) is stored as that call stores it without
        its two scans for the functions it rewrites (a third of the time)."""
        if (
            _FORMULA_RECORD is not None
            and row.__class__ is int
            and col.__class__ is int
            and formula
            and not self.constant_memory
            and not self.use_future_functions
            and formula[0] != "{"
            and formula[-1] != "}"  # xlsxwriter cuts a closing brace
            and _plain_calls(formula)
        ):
            if self._check_dimensions(row, col):
                return -1
            body = formula[1:] if formula[0] == "=" else formula
            self.table[row][col] = _FORMULA_RECORD(body, cell_format, value)
            return 0
        return super().write_formula(row, col, formula, cell_format, value)

    def _prepare_formula(self, formula, expand_future_functions=False):
        if (
            self.use_future_functions
            or expand_future_functions
            or _REWRITTEN.search(formula)
        ):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


class _Letters(dict):
    """Column index -> its letters, each worked out once."""

    def __missing__(self, col: int) -> str:
        letters = self[col] = xl_col_to_name(col)
        return letters


def write_results(
    results: Results,
    path,
    sheet_names: dict[str, str] | None = None,
    run_info: dict | None = None,
    stored: bool = False,
) -> None:
    """Write the result sheets of ``results`` to a new workbook at ``path``.

    Parameters
    ----------
    results : xlmodel.studies.run.Results
        Output of :func:`xlmodel.studies.run.run`.
    path : str or path-like
        The ``.xlsx`` file to create (replaced if it exists). It holds only the
        result sheets, in ``SHEETS`` order.
    sheet_names : dict of str to str, optional
        Default sheet name -> name to use (e.g. ``{"Summary": "Summary (xlmodel)"}``
        when a user sheet owns "Summary"); chart series reference the final names.
        Names not given keep their default.
    run_info : dict, optional
        For the Run sheet: ``version``, ``input_file``, ``input_sha256``, ``time``
        (ISO 8601 string; also the workbook's created property) and ``warnings``
        (list of str). For the Changes and state sheets: ``record`` (the
        reader's :class:`~xlmodel.workbook.inputs.record.InputRecord`; with it
        the state sheet keeps the inputs and every sheet that needs it carries
        the stale banner), ``snapshot`` (this run's
        :class:`~xlmodel.studies.changes.Snapshot`), ``changes``
        (:class:`~xlmodel.studies.changes.Changes` against the previous run, or
        None) and ``previous_note`` (why there is none). Without it the created property is a fixed date, so the
        same results give the same file.
    stored : bool
        Write the zip entries uncompressed (the same part bytes): for a
        workbook that is only read back, as the compute pipeline's splice
        reads the results workbook, compressing it would be time lost.

    Raises
    ------
    ValueError
        ``sheet_names`` has an unknown key, or a name Excel cannot use, or two
        result sheets would share a name.
    xlmodel.errors.PackageError
        The file cannot be written.
    """
    parts, _ = results_parts(results, sheet_names, run_info)
    packing = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    try:
        write_entries(path, [(i, data, None) for i, data in parts], packing)
    except OSError as exc:
        raise PackageError(f"{path}: cannot write the result sheets ({exc})") from exc


def results_parts(
    results: Results,
    sheet_names: dict[str, str] | None = None,
    run_info: dict | None = None,
    final_styles=NotImplemented,
) -> tuple[list[tuple[zipfile.ZipInfo, bytes]], tuple | None]:
    """:func:`write_results` in memory: the results workbook's entries and
    their bytes, in order (for
    :meth:`~xlmodel.workbook.package.Package.in_memory`), and the style maps
    of the final form (or None).

    ``final_styles``: the styles part of the workbook the results will be
    spliced into (None: it has none). The result sheets' cells and rows are
    then laid out as the splice would rewrite them (merged style indices,
    inline strings), so that it copies them as they are; the maps returned
    go to :func:`~xlmodel.workbook.package.splice_results` as ``final``.
    None where they could not be laid out so (the writer's own form, as
    without ``final_styles``)."""
    names = resolve_sheet_names(sheet_names)
    info = dict(run_info or {})
    with _collector_paused():
        if final_styles is not NotImplemented:
            try:
                return _write(results, names, dict(info), final_styles)
            except assembly.FinalFormMissed:
                pass  # written again in the writer's own form
        return _write(results, names, info)


@contextlib.contextmanager
def _collector_paused():
    """Python's collector of reference cycles paused while the sheets are
    written.

    The sheets are hundreds of thousands of small records (one per cell) that
    live until the workbook closes; the collector would go through all of
    them again and again as they pile up (a fifth of the time of the result
    sheets at 1000 variants) to find almost nothing: the records hold no
    cycles, and what is no longer used is freed as it always is, when the last
    reference goes (the cells, once the workbook is closed:
    :meth:`assembly.Workbook.close`). Measured, the peak memory is no higher
    (docs/benchmarks.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write(
    results: Results,
    names: dict[str, str],
    info: dict,
    final_styles=NotImplemented,
):
    """:func:`results_parts` with the names resolved and the collector
    paused."""
    buffer = _Buffer()  # the package is finished in memory, written once
    workbook = assembly.Workbook(
        buffer,
        {
            "in_memory": True,
            "nan_inf_to_errors": True,  # safety net; cells avoid inf/NaN anyway
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {"title": "xlmodel results", "created": _created(info.get("time"))}
    )
    if info.get("record") is not None:  # the stale banners read the state sheet
        info["state_sheet"] = names[state.NAME]
    ctx = Context(workbook, results, info)
    written = [entry for entry in _REGISTRY if entry.present(results)]
    for entry in written:
        name = names[entry.name]
        sheet = Sheet(ctx, workbook.add_worksheet(name, _Worksheet), name)
        entry.write(ctx, sheet)
        sheet.finish()
    for name in (names[entry.name] for entry in written):
        marker = "=" + marker_value(name)
        if workbook.define_name(f"'{name}'!{OWNED_NAME}", marker) != 0:
            raise ValueError(f"sheet {name!r}: cannot carry the result marker")
    workbook.worksheets()[0].activate()
    workbook.final_styles = final_styles
    try:
        with _stored_entries():
            workbook.close()
    except (XlsxFileError, OSError) as exc:
        raise PackageError(f"cannot write the result sheets ({exc})") from exc
    # every chart property written out, so no reader fills in its own
    with zipfile.ZipFile(buffer) as package:
        entries = explicit_entries(package)
    parts = [(info, data if new is None else new) for info, data, new in entries]
    return parts, workbook.final_maps


def sheets_for(results: Results) -> list[str]:
    """The result sheets ``results`` fills, in ``SHEETS`` order.

    Inference, Global sensitivity, Exploration and Uncertainty appear only when
    the study asked for them; every other sheet always.
    """
    return [entry.name for entry in _REGISTRY if entry.present(results)]


def resolve_sheet_names(sheet_names: dict[str, str] | None = None) -> dict[str, str]:
    """Default sheet name -> final name, checked the way Excel checks sheet names.

    Parameters
    ----------
    sheet_names : dict of str to str, optional
        Overrides of some defaults.

    Returns
    -------
    dict of str to str
        One entry per name of ``SHEETS``, in order.

    Raises
    ------
    ValueError
        Unknown key, invalid name or a name used twice (case-insensitive).
    """
    given = dict(sheet_names or {})
    unknown = sorted(set(given) - set(SHEETS))
    if unknown:
        raise ValueError(
            f"unknown result sheet(s) {unknown}; expected some of {SHEETS}"
        )
    names = {key: str(given.get(key, key)) for key in SHEETS}
    for name in names.values():
        bad = set("[]:*?/\\!") & set(name)
        if not name or len(name) > 31 or bad or name[0] == "'" or name[-1] == "'":
            raise ValueError(
                f"sheet name {name!r}: expected 1-31 characters, none of "
                "[ ] : * ? / \\ !, not starting or ending with an apostrophe"
            )
    folded = [n.casefold() for n in names.values()]
    if len(set(folded)) != len(folded):
        raise ValueError(f"result sheet names are not unique: {list(names.values())}")
    return names


def _created(time) -> dt.datetime:
    if not time:
        return FIXED_CREATED
    try:
        t = dt.datetime.fromisoformat(str(time))
    except ValueError:
        return FIXED_CREATED
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t
