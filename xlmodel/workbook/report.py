"""Result sheets: the engine's tables as formatted Excel sheets with native charts.

:func:`write_results` writes a new workbook that holds only the result sheets
(Summary, Performance, Power, Roofline, Scaling, Sensitivity, Run); the package
module splices them into the user's workbook. Every value is a number or a string,
never a formula, so any reader sees it without recalculating. Every result sheet
carries the sheet-scoped defined name ``OWNED_NAME`` by which xlmodel recognises
its own sheets on the next run.

Charts show at most ``CHART_VARIANT_LIMIT`` variants (ranked: all targets met,
then within the power budget, then by target density); a note on the sheet says
so when variants are left out, and the tables always hold every variant. Values
Excel cannot store (infinite ridge points without HBM, NaN sensitivities) are
written as the text ``n/a`` in tables and as blanks in chart cells.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import XlsxFileError

from .. import __version__
from ..errors import PackageError
from ..schema import BY_NAME, COEFFICIENTS, PRECISIONS, TARGETS
from ..studies.run import Results
from ..studies.sensitivity import SEED_METRICS
from . import charts as ch
from .charts import Layout, Series, Span

try:  # one constant for the writer and the splice
    from .package import OWNED_NAME
except ImportError:  # the package module is optional for writing result sheets
    OWNED_NAME = "_xlmodel_result"

SHEETS: tuple[str, ...] = (
    "Summary",
    "Performance",
    "Power",
    "Roofline",
    "Scaling",
    "Sensitivity",
    "Global sensitivity",
    "Exploration",
    "Uncertainty",
    "Reality check",
    "Run",
)
CHART_VARIANT_LIMIT = 12
CHART_LABEL_CHARS = 24  # longer variant names are shortened in charts
WORKLOAD_LABELS = 12  # most workloads named on the roofline chart
SUMMARY_WARNING_LINES = 5
# A sweep chart leaves out the density target line when the target is more than
# this many times the highest density of the sweep (it would flatten the curve).
SWEEP_TARGET_SCALE = 3.0
FIXED_CREATED = dt.datetime(2000, 1, 1)

# Number format per unit.
UNIT_FORMATS: dict[str, str] = {
    "TFLOPS": "#,##0.00",
    "TFLOPS/mm²": "0.0000",
    "TFLOPS/W": "0.000",
    "W": "#,##0.0",
    "°C": "0.0",
    "TB/s": "0.000",
    "GB/s": "#,##0.0",
    "FLOP/byte": "#,##0.0##",
    "byte/FLOP": "0.00000",
    "FLOP/cycle/SM": "#,##0",
    "mm²": "#,##0.#",
    "SMs": "#,##0",
    "chiplets": "0",
    "stacks": "0.##",
    "%": "0.0",
    "": "0.000",
}
GENERAL = "#,##0.####"
_ROW_PX = 20  # default row height, pixels
_GAP_PX = 16  # between charts

_BLUE = "#1F3A5F"
_HEAD_FILL = "#DCE6F1"
_BEST_FILL = "#FFF2CC"
_PASS = {"bg_color": "#C6EFCE", "font_color": "#006100"}
_FAIL = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}


def write_results(
    results: Results,
    path,
    sheet_names: dict[str, str] | None = None,
    run_info: dict | None = None,
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
        (list of str). Without it the created property is a fixed date, so the
        same results give the same file.

    Raises
    ------
    ValueError
        ``sheet_names`` has an unknown key, or a name Excel cannot use, or two
        result sheets would share a name.
    xlmodel.errors.PackageError
        The file cannot be written.
    """
    names = resolve_sheet_names(sheet_names)
    info = dict(run_info or {})
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "nan_inf_to_errors": True,  # safety net; cells avoid inf/NaN anyway
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {"title": "xlmodel results", "created": _created(info.get("time"))}
    )
    ctx = _Context(workbook, results, info)
    writers = {
        "Summary": _summary,
        "Performance": _performance,
        "Power": _power,
        "Roofline": _roofline,
        "Scaling": _scaling,
        "Sensitivity": _sensitivity,
        "Reality check": _reality,
        "Run": _run,
    }
    from . import report_explore  # its sheets build on this module's helpers

    writers.update(
        {
            "Global sensitivity": report_explore.global_sensitivity_sheet,
            "Exploration": report_explore.exploration_sheet,
            "Uncertainty": report_explore.uncertainty_sheet,
        }
    )
    written = sheets_for(results)
    for key in written:
        sheet = _Sheet(ctx, workbook.add_worksheet(names[key]), names[key])
        writers[key](ctx, sheet)
        sheet.finish()
    for name in (names[key] for key in written):
        if workbook.define_name(f"'{name}'!{OWNED_NAME}", '="xlmodel"') != 0:
            raise ValueError(f"sheet {name!r}: cannot carry the result marker")
    workbook.worksheets()[0].activate()
    try:
        workbook.close()
    except (XlsxFileError, OSError) as exc:
        raise PackageError(f"{path}: cannot write the result sheets ({exc})") from exc


def sheets_for(results: Results) -> list[str]:
    """The result sheets ``results`` fills, in ``SHEETS`` order.

    Global sensitivity, Exploration and Uncertainty appear only when the study
    asked for them; every other sheet always.
    """
    from . import report_explore

    optional = report_explore.present(results)
    return [key for key in SHEETS if optional.get(key, True)]


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


def chart_variants(results: Results, limit: int = CHART_VARIANT_LIMIT) -> list[str]:
    """The variants the charts show, in input order: all, or the ``limit`` best.

    Parameters
    ----------
    results : xlmodel.studies.run.Results
    limit : int
        Most variants a chart shows.

    Returns
    -------
    list of str
        Every variant when there are at most ``limit``; otherwise the ``limit``
        ranked first by: every target met, within the power budget, highest
        target density.
    """
    t = results.comparison.table
    if len(t) <= limit:
        return [str(v) for v in t.index]
    key = pd.DataFrame(
        {
            "all": t["meets_all_targets"].astype(bool),
            "budget": t["meets_power_budget"].astype(bool),
            "density": t["target_density_tflops_per_mm2"].fillna(-np.inf),
            "order": np.arange(len(t)),
        },
        index=t.index,
    )
    ranked = key.sort_values(
        ["all", "budget", "density", "order"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    chosen = ranked.iloc[:limit].sort_values("order")
    return [str(v) for v in chosen.index]


def chart_labels(names: list[str], limit: int = CHART_LABEL_CHARS) -> dict[str, str]:
    """Unique chart labels: a name, or a name cut to ``limit`` characters with "…".

    Parameters
    ----------
    names : list of str
        Variant names (unique).
    limit : int
        Longest label.

    Returns
    -------
    dict of str to str
        Name -> label; labels are unique (a clash gets a "#n" suffix, n = position).
    """

    def cut(n: str) -> str:
        if len(n) <= limit:
            return n
        tail = (limit - 1) * 2 // 5  # keep the end too: names often differ there
        return n[: limit - 1 - tail].rstrip() + "…" + n[-tail:].lstrip()

    labels = {n: cut(n) for n in names}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    for i, n in enumerate(names):
        if seen[labels[n]] > 1 and labels[n] != n:
            tag = f"… #{i + 1}"
            labels[n] = n[: limit - len(tag)].rstrip() + tag
    return labels


# ---------------------------------------------------------------------------------
# Private API: cell writing
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Col:
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
class _Table:
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


@dataclass
class _Context:
    workbook: xlsxwriter.Workbook
    results: Results
    info: dict
    formats: dict = field(default_factory=dict)

    def __post_init__(self):
        r = self.results
        self.precision = str(r.study.targets["target_precision"])
        self.plotted = chart_variants(r)
        self.colors = {
            v: ch.PALETTE[i % len(ch.PALETTE)] for i, v in enumerate(self.plotted)
        }
        self.variants = [str(v) for v in r.metrics.index]
        self.capped = len(self.plotted) < len(self.variants)
        self.labels = chart_labels(self.plotted)
        self.shortened = any(self.labels[v] != v for v in self.plotted)
        t = r.study.targets
        self.density_target = float(t["density_target_tflops_per_mm2"])
        self.budget = float(t["power_budget_w"])
        self.tj_max = float(t["tj_max_c"])

    def series_name(self, name: str, cell: Span) -> Span | str:
        """The legend name of a variant's series: its cell, or its short label."""
        label = self.labels.get(name, name)
        return cell if label == name else label

    def fmt(self, **props):
        """A cached cell format with ``props`` (xlsxwriter format properties)."""
        key = tuple(sorted(props.items()))
        if key not in self.formats:
            base = {"font_size": 10, "valign": "top"}
            base.update(props)
            self.formats[key] = self.workbook.add_format(base)
        return self.formats[key]

    def cap_note(self, what: str) -> str:
        return (
            f"{what} show {len(self.plotted)} of {len(self.variants)} variants: "
            "those meeting every target, then within the power budget, then by "
            "target density. The tables hold every variant."
        )


class _Sheet:
    """A worksheet being written: tracks column widths and wrapped rows."""

    def __init__(self, ctx: _Context, ws, name: str):
        self.ctx, self.ws, self.name = ctx, ws, name
        self.widths: dict[int, float] = {}
        # row, col, text, columns spanned, characters per width unit
        self.wrapped: list[tuple[int, int, str, int, float]] = []
        self.heights: dict[int, float] = {}
        self.charts: list[tuple[int, int, int, int, int, int]] = []
        # last row and column to print, when chart data lies beyond them
        self.print_limit: tuple[int, int] | None = None
        ws.hide_gridlines(2)

    # -- plain cells -------------------------------------------------------------

    def title(self, row: int, text: str, subtitle: str = "") -> None:
        f = self.ctx.fmt(bold=True, font_size=15, font_color=_BLUE, valign="vcenter")
        self.ws.write_string(row, 0, text, f)
        self.ws.set_row(row, 24)
        self.heights[row] = 24
        if subtitle:
            self.ws.write_string(row + 1, 0, subtitle, self.ctx.fmt(italic=True))

    def heading(self, row: int, col: int, text: str) -> None:
        f = self.ctx.fmt(bold=True, font_size=11, font_color=_BLUE)
        self.ws.write_string(row, col, text, f)

    def note(self, row: int, col: int, text: str, width: int = 0, **props) -> None:
        """Text, wrapped over ``width`` columns (merged) when ``width`` > 1."""
        f = self.ctx.fmt(text_wrap=width > 1, **props)
        if width > 1:
            self.ws.merge_range(row, col, row, col + width - 1, text, f)
            self.wrapped.append((row, col, text, width, 1.45))
        else:
            self.ws.write_string(row, col, text, f)

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
                self.ctx.fmt(align="right", font_color="#7F7F7F", **props),
            )
            return 3
        self.ws.write_number(row, col, x, self.ctx.fmt(num_format=num_format, **props))
        return _shown_len(x, num_format)

    def fit(self, col: int, chars: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0), chars)

    # -- tables ------------------------------------------------------------------

    def table(
        self,
        row: int,
        col: int,
        frame: pd.DataFrame,
        cols: list[_Col],
        highlight: set[int] | None = None,
        cap_width: float = 36,
        wrap_header: bool = True,
    ) -> _Table:
        """Write ``frame`` as a table with one header row; returns where it went.

        ``wrap_header=False`` keeps headers on one line (for blocks beside another
        table, whose rows they share).
        """
        ctx, ws = self.ctx, self.ws
        head = {"bold": True, "bg_color": _HEAD_FILL, "bottom": 1, "valign": "bottom"}
        border = {"bottom": 1, "bottom_color": "#E0E0E0"}
        highlight = highlight or set()
        places = {}
        for j, c in enumerate(cols):
            cc = col + j
            places[c.key] = cc
            text_col = int(c.fmt == "text" and j > 0 and not c.center)
            ws.write_string(
                row,
                cc,
                c.header,
                ctx.fmt(text_wrap=wrap_header, indent=text_col, **head),
            )
            if wrap_header:
                self.wrapped.append((row, cc, c.header, 1, 1.2))
                longest = max((len(w) for w in c.header.split()), default=4)
            else:
                longest = len(c.header)
            self.fit(cc, min(max(_chars(longest) + 1, 8), cap_width))
            values = frame[c.key].to_list() if c.key in frame else []
            widest = 0
            for i, v in enumerate(values):
                r = row + 1 + i
                props = dict(border)
                if i in highlight:
                    props.update(bold=True, bg_color=_BEST_FILL)
                if c.fmt in ("pass", "yes"):
                    yes, no = ("PASS", "FAIL") if c.fmt == "pass" else ("yes", "no")
                    text = "" if _missing(v) else (yes if bool(v) else no)
                    ws.write_string(r, cc, text, ctx.fmt(align="center", **props))
                    widest = max(widest, 5)
                elif c.fmt == "text" or isinstance(v, str):
                    text = "" if _missing(v) else str(v)
                    wrap = c.wrap or _chars(len(text)) > cap_width
                    if c.center:
                        props["align"] = "center"
                    elif text_col:
                        props["indent"] = 1
                    ws.write_string(r, cc, text, ctx.fmt(text_wrap=wrap, **props))
                    if wrap:
                        self.wrapped.append((r, cc, text, 1, 1.45))
                    widest = max(widest, _chars(len(text)) + text_col)
                else:
                    widest = max(widest, self.value(r, cc, v, c.fmt, **props))
            self.fit(cc, min(max(widest + 2, 6), cap_width))
        return _Table(row, row + 1, row + len(frame), places)

    def pass_fail(self, table: _Table, keys: list[str]) -> None:
        """Green PASS / red FAIL conditional formats on the given columns."""
        if table.rows <= 0:
            return
        good = self.ctx.fmt(**_PASS)
        bad = self.ctx.fmt(**_FAIL)
        for k in keys:
            c = table.cols[k]
            rng = (table.first_row, c, table.last_row, c)
            for word, f in (('"PASS"', good), ('"FAIL"', bad)):
                self.ws.conditional_format(
                    *rng, {"type": "cell", "criteria": "==", "value": word, "format": f}
                )

    # -- charts ------------------------------------------------------------------

    def chart(
        self, builder, layout: Layout, row: int, col: int, x: int = 0, y: int = 0
    ):
        chart = builder(self.ctx.workbook, self.name, layout)
        self.ws.insert_chart(
            row, col, chart, {"x_offset": x, "y_offset": y, "object_position": 2}
        )
        self.charts.append((row, col, x, y, layout.width, layout.height))
        return chart

    # -- page --------------------------------------------------------------------

    def page(self, header_row: int, freeze_col: int = 1, repeat: bool = True) -> None:
        """Landscape, one page wide, header row repeated, panes frozen below it."""
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        if repeat:
            ws.repeat_rows(header_row)
        ws.freeze_panes(header_row + 1, freeze_col)
        ws.set_header(f"&L&B{_header_text(self.name)}&R{_header_text('xlmodel')}")
        ws.set_footer("&CPage &P of &N")

    def finish(self) -> None:
        for c, w in self.widths.items():
            self.ws.set_column(c, c, round(w, 1))
        heights: dict[int, int] = {}
        for row, col, text, span, per_unit in self.wrapped:
            width = sum(self.widths.get(col + k, 8.43) for k in range(span))
            lines = len(textwrap.wrap(text, max(int(width * per_unit) - 1, 4))) or 1
            heights[row] = max(heights.get(row, 1), lines)
        for row, lines in heights.items():
            if lines > 1:
                self.ws.set_row(row, 13.5 * lines + 3)
                self.heights[row] = 13.5 * lines + 3
        self._print_area()

    def _print_area(self) -> None:
        """Print area over the cells and every chart, so a printout fits them in."""
        last_row, last_col = self.ws.dim_rowmax or 0, self.ws.dim_colmax or 0
        if self.print_limit is not None:  # cells beyond it are chart data
            last_row = min(last_row, self.print_limit[0])
            last_col = min(last_col, self.print_limit[1])
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
            last_row, last_col = max(last_row, bottom - 1), max(last_col, right - 1)
        self.ws.print_area(0, 0, last_row, last_col)

    def _col_px(self, col: int) -> int:
        # xlsxwriter's column width to pixels (max digit width 7, padding 5).
        return int(self.widths.get(col, 8.43) * 7 + 0.5) + 5

    def _row_px(self, row: int) -> int:
        return int(4 / 3 * self.heights.get(row, 15))


def _header_text(text: str) -> str:
    return text.replace("&", "&&")


def _chars(n: int) -> float:
    """Column width (in digit widths) that shows ``n`` characters of text."""
    return n * 1.1 + 1


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _shown_len(x: float, num_format: str) -> int:
    decimals = 0
    if "." in num_format:
        decimals = len(num_format.split(".")[1].split('"')[0].rstrip("%E+"))
    suffix = num_format.split('"')[1] if '"' in num_format else ""
    if "%" in num_format:
        x *= 100
    return len(f"{x:,.{min(decimals, 6)}f}") + len(suffix) + ("%" in num_format)


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


def _fmt(unit: str) -> str:
    return UNIT_FORMATS.get(unit, GENERAL)


def _head(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


def _positive(values) -> list:
    """Chart cells of a log axis: the value when finite and > 0, else None (blank)."""
    out = []
    for v in values:
        x = float(v)
        out.append(x if math.isfinite(x) and x > 0 else None)
    return out


def _legend_px(entries: int, per_row: int) -> int:
    """Room for a bottom legend of ``entries`` short labels, ``per_row`` a line."""
    return 18 * math.ceil(entries / per_row)


def _chart_rows(height: int) -> int:
    return math.ceil(height / _ROW_PX) + 1


def _chart_width(sheet: _Sheet, cols: range, lo=420, hi=640) -> int:
    px = sum(sheet.widths.get(c, 8.43) * 7 + 5 for c in cols)
    return int(max(lo, min(hi, px / 2 - _GAP_PX)))


# ---------------------------------------------------------------------------------
# Private API: the sheets
# ---------------------------------------------------------------------------------


def _summary(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    t = r.comparison.table
    v = r.study.variants
    m = r.metrics
    p = ctx.precision
    n = len(t)
    dtarget = v["density_target_tflops_per_mm2"].astype(float).to_numpy()
    budget = v["power_budget_w"].astype(float).to_numpy()
    tjmax = v["tj_max_c"].astype(float).to_numpy()
    density = t["target_density_tflops_per_mm2"].to_numpy(dtype=float)
    power = t["power_total_w"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_ratio = np.where(
            dtarget > 0, density / np.where(dtarget > 0, dtarget, 1), np.nan
        )
        p_ratio = power / budget
    best = r.comparison.best
    frame = pd.DataFrame(
        {
            "variant": [str(x) for x in t.index],
            "peak": t["target_peak_tflops"].to_numpy(dtype=float),
            "density": density,
            "density_target": dtarget,
            "density_ratio": d_ratio,
            "density_ok": t["meets_density_target"].to_numpy(),
            "power": power,
            "budget": budget,
            "power_ratio": p_ratio,
            "power_ok": t["meets_power_budget"].to_numpy(),
            "tflops_per_w": t["tflops_per_w"].to_numpy(dtype=float),
            "tj": t["junction_temp_c"].to_numpy(dtype=float),
            "tj_max": tjmax,
            "tj_headroom": tjmax - t["junction_temp_c"].to_numpy(dtype=float),
            "tj_ok": t["meets_tj_max"].to_numpy(),
            "all_ok": t["meets_all_targets"].to_numpy(),
            "area": m["total_area_mm2"].to_numpy(dtype=float),
            "recommended": ["yes" if str(x) == str(best) else "" for x in t.index],
        }
    )
    cols = [
        _Col("variant", "Variant", "text"),
        _Col("peak", f"Peak {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col("density", f"Density {p} (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
        _Col("density_target", "Density target (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
        _Col("density_ratio", "Density vs target (% of target)", '0%" of target"'),
        _Col("density_ok", "Density target met", "pass"),
        _Col("power", "Power at 100 % (W)", _fmt("W")),
        _Col("budget", "Power budget (W)", _fmt("W")),
        _Col("power_ratio", "Power vs budget (% of budget)", '0%" of budget"'),
        _Col("power_ok", "Within power budget", "pass"),
        _Col("tflops_per_w", f"{p} TFLOPS/W", _fmt("TFLOPS/W")),
        _Col("tj", "Tj (°C)", _fmt("°C")),
        _Col("tj_max", "Tj max (°C)", _fmt("°C")),
        _Col("tj_headroom", "Tj headroom (°C)", _fmt("°C")),
        _Col("tj_ok", "Tj within max", "pass"),
        _Col("all_ok", "All targets met", "pass"),
        _Col("area", "Total compute area (mm²)", _fmt("mm²")),
        _Col("recommended", "Recommended", "text", center=True),
    ]
    width = len(cols)
    sub = (
        f"{n} variant{'s' if n != 1 else ''} · judged at {p} · density target "
        f"{ctx.density_target:g} TFLOPS/mm² · power budget {ctx.budget:g} W · "
        f"Tj max {ctx.tj_max:g} °C"
    )
    sh.title(0, "Architecture comparison", sub)
    row = 3
    if best is not None:
        sh.note(
            row,
            0,
            f"Recommended variant: {best}",
            width,
            bold=True,
            font_size=13,
            font_color="#006100",
            bg_color="#E2EFDA",
        )
    else:
        sh.note(
            row,
            0,
            "No variant is recommended: none is within the power budget.",
            width,
            bold=True,
            font_size=13,
            font_color="#9C0006",
            bg_color="#FCE4D6",
        )
    row += 1
    for msg in r.comparison.messages:
        sh.note(row, 0, msg, width)
        row += 1
    warnings = list(r.study.warnings)
    if warnings:
        sh.note(
            row, 0, f"Warnings ({len(warnings)}):", 1, bold=True, font_color="#9C5700"
        )
        row += 1
        shown = warnings[:SUMMARY_WARNING_LINES]
        for w in shown:
            sh.note(row, 0, f"• {w}", width, font_color="#9C5700")
            row += 1
        if len(warnings) > len(shown):
            more = len(warnings) - len(shown)
            sh.note(row, 0, f"… and {more} more: see the Run sheet.", width)
            row += 1
    else:
        sh.note(row, 0, "Warnings: none.", 1)
        row += 1
    row += 1
    best_rows = {i for i, x in enumerate(frame["variant"]) if x == str(best)}
    table = sh.table(row, 0, frame, cols, highlight=best_rows, cap_width=30)
    sh.pass_fail(table, ["density_ok", "power_ok", "tj_ok", "all_ok"])
    if table.rows > 0:
        c = table.cols["density"]
        sh.ws.conditional_format(
            table.first_row,
            c,
            table.last_row,
            c,
            {
                "type": "data_bar",
                "bar_color": "#63BE7B",
                "data_bar_2010": False,  # no x14 extension: every reader knows it
                "min_type": "num",
                "min_value": 0,
            },
        )
    sh.page(table.header_row)
    row = table.last_row + 2

    # Charts: the table itself, or a chart-data block of the plotted variants.
    if ctx.capped:
        sh.note(row, 0, ctx.cap_note("The charts below"), width, italic=True)
        row += 1
    cw = _chart_width(sh, range(width), lo=460, hi=680)
    chh = 330
    grid_row = row
    row += 2 * _chart_rows(chh) + 1
    if ctx.capped or ctx.shortened:
        sh.heading(row, 0, "Chart data: the plotted variants, with short chart labels")
        keep = [i for i, x in enumerate(frame["variant"]) if x in set(ctx.plotted)]
        block = frame.iloc[keep].reset_index(drop=True)
        block["label"] = [ctx.labels[x] for x in block["variant"]]
        data = sh.table(
            row + 1, 0, block, [*cols, _Col("label", "Chart label", "text")]
        )
        cat = data.span("label")
        names = list(block["variant"])
    else:
        data = table
        cat = data.span("variant")
        names = list(frame["variant"])
    panels = [
        Layout(
            f"Compute density vs target ({p})",
            y_title="TFLOPS/mm²",
            series=(
                Series(
                    data.span("density"), data.head("density"), cat, color=ch.PALETTE[0]
                ),
                Series(
                    data.span("density_target"),
                    data.head("density_target"),
                    cat,
                    kind="reference",
                    color=ch.TARGET_COLOR,
                    line_style="round_dot",
                ),
            ),
            width=cw,
            height=chh,
            number_format="0.00",
        ),
        Layout(
            "Power vs budget (100 % utilisation)",
            y_title="Power (W)",
            series=(
                Series(
                    data.span("power"), data.head("power"), cat, color=ch.PALETTE[1]
                ),
                Series(
                    data.span("budget"),
                    data.head("budget"),
                    cat,
                    kind="reference",
                    color=ch.BUDGET_COLOR,
                ),
            ),
            width=cw,
            height=chh,
            number_format="#,##0",
        ),
        Layout(
            f"Power efficiency ({p} TFLOPS/W)",
            y_title="TFLOPS/W",
            series=(
                Series(
                    data.span("tflops_per_w"),
                    data.head("tflops_per_w"),
                    cat,
                    color=ch.PALETTE[2],
                ),
            ),
            width=cw,
            height=chh,
            number_format="0.00",
        ),
    ]
    points = tuple(
        Series(
            Span(data.first_row + i, data.cols["peak"]),
            Span(data.first_row + i, cat.c0),
            Span(data.first_row + i, data.cols["area"]),
            kind="marker",
            color=ctx.colors.get(name),
            label=True,
            legend=False,
        )
        for i, name in enumerate(names)
    )
    area_x = [float(a) for a in frame["area"] if math.isfinite(a)]
    panels.append(
        Layout(
            f"Area vs performance ({p})",
            x_title="Total compute area (mm²)",
            y_title=f"Peak {p} (TFLOPS)",
            series=points,
            x_bounds=_padded(area_x),
            width=cw,
            height=chh,
            number_format="#,##0",
            x_number_format="#,##0",
        )
    )
    builders = [ch.add_column_chart, ch.add_column_chart, ch.add_column_chart]
    builders.append(ch.add_scatter_chart)
    for k, (builder, layout) in enumerate(zip(builders, panels)):
        x = (k % 2) * (cw + _GAP_PX)
        y = (k // 2) * (chh + _GAP_PX)
        sh.chart(builder, layout, grid_row, 0, x, y)


def _padded(values: list[float], low: float = 0.08, high: float = 0.3):
    """Round axis bounds around ``values``, with room right of the points for labels.

    Returns None (automatic axis) without values.
    """
    if not values:
        return None
    lo, hi = min(values), max(values)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    raw = span * (1 + low + high) / 5
    step = 10 ** math.floor(math.log10(raw))
    step *= next(k for k in (1, 2, 2.5, 5, 10) if k * step >= raw)
    a = math.floor((lo - low * span) / step) * step
    b = math.ceil((hi + high * span) / step) * step
    if lo >= 0:
        a = max(a, 0.0)
    return (a, b)


def _performance(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    m = r.metrics
    p = ctx.precision
    frame = m.copy()
    frame.insert(0, "variant", [str(x) for x in m.index])
    sh.title(
        0,
        "Performance per variant",
        "Dense tensor-core peak; density = peak / total compute-die area; ridge "
        "point = peak / HBM bandwidth (n/a without HBM). TFLOPS = 1e12 FLOP/s, "
        "TB/s = 1e12 bytes/s.",
    )
    cols = [
        _Col("variant", "Variant", "text"),
        _Col("total_sms", "Total SMs", _fmt("SMs")),
        _Col("total_area_mm2", "Total compute area (mm²)", _fmt("mm²")),
        _Col("hbm_bandwidth_tbps", "HBM bandwidth (TB/s)", _fmt("TB/s")),
        _Col(
            "fp16_flop_per_cycle_per_sm",
            "FP16 FLOP per cycle per SM (FLOP/cycle/SM)",
            _fmt("FLOP/cycle/SM"),
        ),
        _Col("target_peak_tflops", f"Peak {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col(
            "target_density_tflops_per_mm2",
            f"Density {p} (TFLOPS/mm²)",
            _fmt("TFLOPS/mm²"),
        ),
        _Col(
            "target_ridge_flop_per_byte",
            f"Ridge point {p} (FLOP/byte)",
            _fmt("FLOP/byte"),
        ),
        _Col("bytes_per_flop", f"Bytes per FLOP {p} (byte/FLOP)", _fmt("byte/FLOP")),
    ]
    sh.heading(3, 0, f"Per variant, at the target precision {p}")
    table = sh.table(4, 0, frame, cols, cap_width=30)
    # Blocks follow below: a repeated print title would sit over the wrong header.
    sh.page(table.header_row, repeat=False)
    row = table.last_row + 2
    # One block per quantity, a column per precision: narrow enough to print.
    for key, label, unit in (
        ("peak_{}_tflops", "Peak", "TFLOPS"),
        ("density_{}_tflops_per_mm2", "Density", "TFLOPS/mm²"),
        ("ridge_{}_flop_per_byte", "Ridge point", "FLOP/byte"),
    ):
        sh.heading(row, 0, f"{label} by precision ({unit})")
        block = [_Col("variant", "Variant", "text")]
        block += [
            _Col(key.format(q.value.lower()), f"{q.value} ({unit})", _fmt(unit))
            for q in PRECISIONS
        ]
        t = sh.table(row + 1, 0, frame, block, cap_width=30)
        row = t.last_row + 2


_POWER_PARTS = (
    ("power_sm_w", "SM"),
    ("power_l2_w", "L2"),
    ("power_hbm_w", "HBM"),
    ("power_d2d_w", "D2D"),
    ("power_static_w", "Static"),
    ("power_interconnect_w", "Interconnect"),
    ("power_io_w", "I/O"),
)


def _power(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    pw = r.power.copy()
    pw["variant"] = pw["variant"].astype(str)
    budgets = r.study.variants["power_budget_w"].astype(float)
    budgets.index = budgets.index.astype(str)
    pw["budget"] = pw["variant"].map(budgets).to_numpy(dtype=float)
    pw["within_budget"] = pw["power_total_w"] <= pw["budget"]
    tjmax = r.study.variants["tj_max_c"].astype(float)
    tjmax.index = tjmax.index.astype(str)
    pw["tj_max"] = pw["variant"].map(tjmax).to_numpy(dtype=float)
    cols = [
        _Col("variant", "Variant", "text"),
        _Col("utilization", "Utilisation", "0%"),
        *(_Col(k, f"{label} (W)", _fmt("W")) for k, label in _POWER_PARTS),
        _Col("power_total_w", "Total (W)", _fmt("W")),
        _Col("budget", "Power budget (W)", _fmt("W")),
        _Col("within_budget", "Within power budget", "pass"),
        _Col("junction_temp_c", "Tj (°C)", _fmt("°C")),
        _Col("tj_max", "Tj max (°C)", _fmt("°C")),
        _Col("meets_tj_max", "Tj within max", "pass"),
    ]
    sh.title(
        0,
        "Power breakdown per variant and utilisation",
        "Package power in W by component; Tj = ambient + power x theta_ja (°C).",
    )
    table = sh.table(3, 0, pw, cols, cap_width=30)
    sh.pass_fail(table, ["within_budget", "meets_tj_max"])
    sh.page(table.header_row)

    if pw.empty:
        return
    util = pw["utilization"].to_numpy(dtype=float)
    u = 1.0 if np.isclose(util, 1.0).any() else float(util.max())
    rows = np.flatnonzero(np.isclose(util, u))
    block = pw.iloc[rows]
    at = table.first_row + int(rows[0])
    contiguous = bool((np.diff(rows) == 1).all()) if len(rows) > 1 else True
    right = table.cols["meets_tj_max"] + 2
    chh = 380
    cw = 640
    chart_row = table.header_row
    note_row = chart_row + _chart_rows(chh) + 1
    if ctx.capped or ctx.shortened or not contiguous:
        keep = block[block["variant"].isin(set(ctx.plotted))].reset_index(drop=True)
        keep["label"] = [ctx.labels[x] for x in keep["variant"]]
        if ctx.capped:
            sh.note(note_row, right, ctx.cap_note("The chart"), 8, italic=True)
            note_row += 1
        sh.heading(note_row, right, f"Chart data: power at {u:.0%} utilisation")
        label = _Col("label", "Chart label", "text")
        data = sh.table(
            note_row + 1, right, keep, [label, *cols[2:11]], wrap_header=False
        )
        first, last = data.first_row, data.last_row
        cat = data.span("label", first, last)
    else:
        data = table
        first, last = at, at + len(rows) - 1
        cat = data.span("variant", first, last)
    series = [
        Series(data.span(k, first, last), data.head(k), cat, color=ch.PALETTE[i])
        for i, (k, _) in enumerate(_POWER_PARTS)
    ]
    series.append(
        Series(
            data.span("budget", first, last),
            data.head("budget"),
            cat,
            kind="reference",
            color=ch.BUDGET_COLOR,
        )
    )
    layout = Layout(
        f"Power breakdown at {u:.0%} utilisation vs budget",
        y_title="Power (W)",
        series=tuple(series),
        width=cw,
        height=chh,
        number_format="#,##0",
    )
    sh.chart(ch.add_stacked_column_chart, layout, chart_row, right)


def _roofline(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    rf = r.roofline.copy()
    rf["variant"] = rf["variant"].astype(str)
    p = ctx.precision
    cols = [
        _Col("variant", "Variant", "text"),
        _Col("workload", "Workload", "text"),
        _Col(
            "arithmetic_intensity_flop_per_byte",
            "Arithmetic intensity (FLOP/byte)",
            _fmt("FLOP/byte"),
        ),
        _Col("peak_tflops", f"Peak {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col("attainable_tflops", f"Attainable {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col("efficiency_percent", "Share of peak (%)", _fmt("%")),
        _Col("bottleneck", "Bottleneck", "text", center=True),
        _Col("ridge_flop_per_byte", "Ridge point (FLOP/byte)", _fmt("FLOP/byte")),
    ]
    sh.title(
        0,
        f"Roofline at {p}",
        "Attainable = min(peak, arithmetic intensity x HBM bandwidth); a workload "
        "left of the ridge point is memory-bound.",
    )
    table = sh.table(3, 0, rf, cols, cap_width=28)
    sh.page(table.header_row)

    right = len(cols) + 1
    cw = 720
    chh = 440 + _legend_px(len(ctx.plotted) + 1, per_row=4)
    row = table.header_row
    chart_row = row
    row += _chart_rows(chh) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The chart"), 8, italic=True)
        row += 2

    # Ridge points of every variant.
    m = r.metrics
    k = p.lower()
    ridge = pd.DataFrame(
        {
            "variant": [str(x) for x in m.index],
            "peak": m[f"peak_{k}_tflops"].to_numpy(dtype=float),
            "bw": m["hbm_bandwidth_tbps"].to_numpy(dtype=float),
            "ridge": m[f"ridge_{k}_flop_per_byte"].to_numpy(dtype=float),
        }
    )
    sh.heading(row, right, "Ridge points")
    rcols = [
        _Col("variant", "Variant", "text"),
        _Col("peak", f"Peak {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col("bw", "HBM bandwidth (TB/s)", _fmt("TB/s")),
        _Col("ridge", "Ridge point (FLOP/byte)", _fmt("FLOP/byte")),
    ]
    rtable = sh.table(row + 1, right, ridge, rcols, cap_width=40, wrap_header=False)
    row = rtable.last_row + 2

    # Chart data: roof curves, workload points and ridge points (log axes: > 0 only).
    workloads = r.study.workloads
    ai_values = [float(a) for a in workloads.values() if a > 0]
    lo = min([0.01, *ai_values])
    hi = max([1e4, *ai_values])
    x_lo = 10 ** math.floor(math.log10(lo))
    x_hi = 10 ** math.ceil(math.log10(hi))
    grid = [
        10.0**e for e in range(round(math.log10(x_lo)), round(math.log10(x_hi)) + 1)
    ]
    sh.heading(row, right, "Chart data: roofs, workloads and ridge points")
    rows: list[tuple[str, str, float | None, float | None]] = []
    parts: list[tuple[str, str, int, int]] = []  # variant, kind, first, last (rows)
    by_variant = {name: g for name, g in rf.groupby("variant", sort=False)}
    sel = ridge.set_index("variant")
    for name in ctx.plotted:
        peak = float(sel.loc[name, "peak"])
        bw = float(sel.loc[name, "bw"])  # TB/s
        rp = float(sel.loc[name, "ridge"])
        knee = {rp} if math.isfinite(rp) and x_lo < rp < x_hi else set()
        xs = sorted(set(grid) | knee)
        start = len(rows)
        rows += [
            (name, "roof", x, y)
            for x, y in zip(xs, _positive([min(peak, x * bw) for x in xs]))
        ]
        parts.append((name, "roof", start, len(rows) - 1))
        g = by_variant.get(name)
        if g is not None and len(g):
            start = len(rows)
            ai = _positive(g["arithmetic_intensity_flop_per_byte"])
            att = _positive(g["attainable_tflops"])
            rows += [(name, str(w), x, y) for w, x, y in zip(g["workload"], ai, att)]
            parts.append((name, "workloads", start, len(rows) - 1))
    start = len(rows)
    for name in ctx.plotted:
        peak = float(sel.loc[name, "peak"])
        rp = float(sel.loc[name, "ridge"])
        ok = math.isfinite(rp) and rp > 0 and peak > 0
        rows.append((name, "ridge", rp if ok else None, peak if ok else None))
    if ctx.plotted:
        parts.append(("", "ridge", start, len(rows) - 1))
    data = pd.DataFrame(rows, columns=["variant", "point", "ai", "tflops"])
    data = data.astype(object).where(data.notna(), None)
    dtable = sh.table(
        row + 1,
        right,
        data,
        [
            _Col("variant", "Variant", "text"),
            _Col("point", "Point", "text"),
            _Col("ai", "Arithmetic intensity (FLOP/byte)", GENERAL),
            _Col("tflops", f"{p} (TFLOPS)", GENERAL),
        ],
        cap_width=40,
        wrap_header=False,
    )
    series: list[Series] = []
    markers: list[Series] = []
    labelled = False
    for name, kind, r0, r1 in parts:
        r0, r1 = dtable.first_row + r0, dtable.first_row + r1
        x, y = dtable.span("ai", r0, r1), dtable.span("tflops", r0, r1)
        if kind == "roof":
            name_cell = ctx.series_name(name, Span(r0, dtable.cols["variant"]))
            series.append(Series(y, name_cell, x, color=ctx.colors[name]))
        elif kind == "workloads" and not labelled and r1 - r0 < WORKLOAD_LABELS:
            # The first variant's workloads one series each, labelled by name.
            labelled = True
            for k in range(r0, r1 + 1):
                markers.append(
                    Series(
                        dtable.span("tflops", k, k),
                        Span(k, dtable.cols["point"]),
                        dtable.span("ai", k, k),
                        kind="marker",
                        marker="triangle",
                        color=ctx.colors[name],
                        legend=False,
                        label=True,
                    )
                )
        elif kind == "workloads":
            markers.append(
                Series(
                    y,
                    f"{ctx.labels[name]} workloads",
                    x,
                    kind="marker",
                    marker="triangle",
                    color=ctx.colors[name],
                    legend=False,
                )
            )
        else:
            markers.append(
                Series(
                    y,
                    "Ridge points",
                    x,
                    kind="marker",
                    marker="diamond",
                    color="#000000",
                )
            )
    ys = [v for v in data["tflops"] if v is not None]
    y_lo = 10 ** math.floor(math.log10(min(ys))) if ys else 0.01
    y_hi = 10 ** math.ceil(math.log10(max(ys))) if ys else 1e4
    if y_hi <= y_lo:
        y_hi = y_lo * 10
    layout = Layout(
        f"Roofline at {p}: lines = roofs, ▲ = workloads, ◆ = ridge points",
        x_title="Arithmetic intensity (FLOP/byte, log scale)",
        y_title=f"Attainable {p} TFLOPS (log scale)",
        series=tuple(series + markers),
        x_bounds=(x_lo, x_hi),
        y_bounds=(y_lo, y_hi),
        x_log=True,
        y_log=True,
        width=cw,
        height=chh,
        number_format="#,##0.##",
        x_number_format="#,##0.##",
    )
    sh.chart(ch.add_roofline_chart, layout, chart_row, right)


def _scaling(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    sc = r.scaling.copy()
    sc["variant"] = sc["variant"].astype(str)
    order = {name: i for i, name in enumerate(ctx.variants)}
    sc["_order"] = sc["variant"].map(order)
    sc = sc.sort_values(["_order", "num_chiplets"], kind="stable").reset_index(
        drop=True
    )
    p = ctx.precision
    cols = [
        _Col("variant", "Variant", "text"),
        _Col("num_chiplets", "Chiplets", _fmt("chiplets")),
        _Col("hbm_stacks", "HBM stacks", _fmt("stacks")),
        _Col("compute_tflops", f"Compute {p} (TFLOPS)", _fmt("TFLOPS")),
        _Col("effective_tflops", f"Effective {p} after D2D (TFLOPS)", _fmt("TFLOPS")),
        _Col("memory_tbps", "HBM bandwidth (TB/s)", _fmt("TB/s")),
        _Col("power_w", "Power (W)", _fmt("W")),
        _Col("tflops_per_w", f"{p} TFLOPS/W", _fmt("TFLOPS/W")),
        _Col("density_tflops_per_mm2", f"Density {p} (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
        _Col("scaling_efficiency", "Scaling efficiency", "0.0%"),
        _Col("within_budget", "Within power budget", "pass"),
    ]
    sh.title(
        0,
        "Chiplet scaling",
        f"Every variant at {', '.join(str(c) for c in r.study.scaling_counts)} "
        f"chiplets with {r.study.hbm_stacks_per_chiplet:g} HBM stacks per chiplet, "
        "100 % utilisation.",
    )
    table = sh.table(3, 0, sc, cols, cap_width=28)
    sh.pass_fail(table, ["within_budget"])
    sh.page(table.header_row)

    right = len(cols) + 1
    cw = 520
    d2d = bool((sc["scaling_efficiency"] < 1).any())  # adds "after D2D" lines
    chh = 290 + _legend_px(len(ctx.plotted) * (1 + d2d) + 1, per_row=3)
    chart_row = table.header_row
    row = chart_row + 2 * _chart_rows(chh) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The charts"), 10, italic=True)
        row += 2
    mx = r.max_chiplets_within_budget
    best = pd.DataFrame(
        {"variant": [str(x) for x in mx.index], "count": mx.to_numpy(dtype=float)}
    )
    sh.heading(row, right, f"Largest chiplet count within the {ctx.budget:g} W budget")
    mtable = sh.table(
        row + 1,
        right,
        best,
        [_Col("variant", "Variant", "text"), _Col("count", "Chiplets (0: none)", "0")],
        wrap_header=False,
    )
    row = mtable.last_row + 2

    # Budget line: two points spanning the studied counts.
    counts = sc["num_chiplets"].to_numpy(dtype=float)
    sh.heading(row, right, "Chart data: power budget line")
    line = pd.DataFrame(
        {
            "x": [counts.min(), counts.max()] if len(counts) else [0.0, 0.0],
            "y": [ctx.budget, ctx.budget],
        }
    )
    btable = sh.table(
        row + 1,
        right,
        line,
        [_Col("x", "Chiplets", "0"), _Col("y", "Power budget (W)", _fmt("W"))],
        wrap_header=False,
    )

    groups = {name: g.index for name, g in sc.groupby("variant", sort=False)}
    panels = [
        ("compute_tflops", f"Compute vs chiplets ({p})", f"{p} TFLOPS", "#,##0"),
        ("memory_tbps", "HBM bandwidth vs chiplets", "Bandwidth (TB/s)", "0.0"),
        ("power_w", "Power vs chiplets (100 % utilisation)", "Power (W)", "#,##0"),
        ("tflops_per_w", f"Power efficiency vs chiplets ({p})", "TFLOPS/W", "0.00"),
    ]
    for k, (key, title, ytitle, nf) in enumerate(panels):
        series: list[Series] = []
        for name in ctx.plotted:
            idx = groups.get(name)
            if idx is None or len(idx) == 0:
                continue
            r0, r1 = table.first_row + int(idx[0]), table.first_row + int(idx[-1])
            x = table.span("num_chiplets", r0, r1)
            name_cell = ctx.series_name(name, Span(r0, table.cols["variant"]))
            series.append(
                Series(table.span(key, r0, r1), name_cell, x, color=ctx.colors[name])
            )
            if (
                key == "compute_tflops"
                and (sc.loc[idx, "scaling_efficiency"] < 1).any()
            ):
                series.append(
                    Series(
                        table.span("effective_tflops", r0, r1),
                        f"{ctx.labels[name]} after D2D",
                        x,
                        color=ctx.colors[name],
                        dash=True,
                    )
                )
        if key == "power_w":
            series.append(
                Series(
                    btable.span("y"),
                    btable.head("y"),
                    btable.span("x"),
                    kind="reference",
                    color=ch.BUDGET_COLOR,
                )
            )
        layout = Layout(
            title,
            x_title="Chiplets",
            y_title=ytitle,
            series=tuple(series),
            width=cw,
            height=chh,
            number_format=nf,
            x_number_format="0",
        )
        x = (k % 2) * (cw + _GAP_PX)
        y = (k // 2) * (chh + _GAP_PX)
        sh.chart(ch.add_scatter_chart, layout, chart_row, right, x, y)


def _param_unit(name: str) -> str:
    p = BY_NAME.get(name)
    return p.unit if p is not None and p.unit not in ("", "text") else ""


def _sensitivity(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    study = r.study
    p = ctx.precision
    base = str(study.sweep_base)
    metric_heads = {
        "target_density_tflops_per_mm2": ("Density", "TFLOPS/mm²"),
        "power_total_w": ("Power", "W"),
        "target_peak_tflops": (f"Peak {p}", "TFLOPS"),
        "tflops_per_w": ("TFLOPS/W", "TFLOPS/W"),
    }
    sh.title(
        0,
        f"Sensitivity around {base}",
        f"One parameter at a time around the sweep base {base}; density, peak and "
        f"TFLOPS/W at {p}, power at 100 % utilisation.",
    )
    sh.page(1, freeze_col=0, repeat=False)
    row = 3
    left_cols = 0

    # Normalised sensitivity of each sweep.
    sh.heading(
        row,
        0,
        "Normalised sensitivity of each sweep (% change of metric per % change of "
        "parameter, end to end)",
    )
    summary = r.sweep_summary
    if summary is not None and not summary.empty:
        cols = [_Col("parameter", "Parameter", "text")]
        cols += [
            _Col(mk, f"{metric_heads[mk][0]} (dimensionless)", _fmt(""))
            for mk in SEED_METRICS
            if mk in summary
        ]
        t = sh.table(row + 1, 0, summary, cols, cap_width=30)
        row = t.last_row + 2
        left_cols = max(left_cols, len(cols))
    else:
        sh.note(row + 1, 0, "No sweeps in this study.", 1)
        row += 3

    # Tornado table.
    tornado = r.tornado.copy()
    pct = float(study.tornado_percent)
    sh.heading(
        row,
        0,
        f"Tornado: {p} density at -{pct:g} % and +{pct:g} % of each parameter "
        f"around {base}",
    )
    tornado_table = None
    if not tornado.empty:
        tornado["unit"] = [_param_unit(x) for x in tornado["parameter"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            b = tornado["base_metric"].to_numpy(dtype=float)
            okb = b != 0
            for key, src in (("d_low", "metric_low"), ("d_high", "metric_high")):
                change = tornado[src].to_numpy(dtype=float) / np.where(okb, b, 1) - 1
                # rounded so that rounding noise does not show as "-0.0 %"
                tornado[key] = np.where(okb, np.round(change, 12), np.nan)
        cols = [
            _Col("rank", "Rank", "0"),
            _Col("parameter", "Parameter", "text"),
            _Col("unit", "Unit", "text"),
            _Col("low_value", f"Value at -{pct:g} %", GENERAL),
            _Col("high_value", f"Value at +{pct:g} %", GENERAL),
            _Col("metric_low", "Density at low (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
            _Col("metric_high", "Density at high (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
            _Col("base_metric", f"Density of {base} (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
            _Col("swing", "Swing |high - low| (TFLOPS/mm²)", _fmt("TFLOPS/mm²")),
            _Col("d_low", f"Change at -{pct:g} % (% of base)", "+0.0%;-0.0%;0.0%"),
            _Col("d_high", f"Change at +{pct:g} % (% of base)", "+0.0%;-0.0%;0.0%"),
        ]
        tornado_table = sh.table(row + 1, 0, tornado, cols, cap_width=30)
        row = tornado_table.last_row + 2
        left_cols = max(left_cols, len(cols))
    else:
        sh.note(row + 1, 0, "No tornado parameters in this study.", 1)
        row += 3

    # Sweep blocks.
    sweeps = []
    points = r.sweep_points
    if points is not None and not points.empty:
        for name, g in points.groupby("parameter", sort=False):
            g = g.reset_index(drop=True).copy()
            g["density_target"] = ctx.density_target
            g["budget"] = ctx.budget
            unit = _param_unit(str(name))
            sh.heading(row, 0, f"Sweep of {name}" + (f" ({unit})" if unit else ""))
            cols = [
                _Col("value", _head(str(name), unit), GENERAL),
                *(
                    _Col(
                        mk,
                        _head(f"{metric_heads[mk][0]}", metric_heads[mk][1]),
                        _fmt(metric_heads[mk][1]),
                    )
                    for mk in SEED_METRICS
                    if mk in g
                ),
                _Col(
                    "density_target", "Density target (TFLOPS/mm²)", _fmt("TFLOPS/mm²")
                ),
                _Col("budget", "Power budget (W)", _fmt("W")),
            ]
            t = sh.table(row + 1, 0, g, cols, cap_width=30)
            top = g["target_density_tflops_per_mm2"].max()
            sweeps.append((str(name), unit, t, top))
            row = t.last_row + 2
            left_cols = max(left_cols, len(cols))

    # Elasticities of every variant.
    el = r.elasticities
    sh.heading(row, 0, "Elasticities at every variant: d ln(metric) / d ln(parameter)")
    if el is not None and not el.empty:
        el = el.copy()
        el["variant"] = el["variant"].astype(str)
        cols = [
            _Col("variant", "Variant", "text"),
            _Col("parameter", "Parameter", "text"),
        ]
        cols += [
            _Col(mk, f"{metric_heads[mk][0]} (dimensionless)", _fmt(""))
            for mk in SEED_METRICS
            if mk in el
        ]
        t = sh.table(row + 1, 0, el, cols, cap_width=30)
        left_cols = max(left_cols, len(cols))

    # Charts, to the right of the tables: the tornado, then one per sweep.
    right = max(left_cols, 1) + 1
    cw, chh = 520, 320
    slot = 0
    if tornado_table is not None:
        t = tornado_table
        cat = t.span("parameter")
        layout = Layout(
            f"Tornado: {p} density change at ±{pct:g} % around {base}",
            x_title="Change of density from base (%)",
            y_title="",
            series=(
                Series(t.span("d_low"), t.head("d_low"), cat, color="#5B9BD5"),
                Series(t.span("d_high"), t.head("d_high"), cat, color="#ED7D31"),
            ),
            width=cw,
            height=max(chh, 80 + 26 * t.rows),
            number_format="0%",
        )
        sh.chart(ch.add_tornado_chart, layout, 3, right)
        slot_y = layout.height + _GAP_PX
    else:
        slot_y = 0
    for k, (name, unit, t, top) in enumerate(sweeps):
        x = t.span("value")
        # A target far above the curve would flatten it to the axis: say so instead.
        off_scale = ctx.density_target > SWEEP_TARGET_SCALE * top
        target_line = Series(
            t.span("density_target"),
            t.head("density_target"),
            x,
            kind="reference",
            color=ch.TARGET_COLOR,
            line_style="round_dot",
        )
        series = (
            Series(
                t.span("target_density_tflops_per_mm2"),
                t.head("target_density_tflops_per_mm2"),
                x,
                color=ch.PALETTE[0],
            ),
            *(() if off_scale else (target_line,)),
            Series(
                t.span("power_total_w"),
                t.head("power_total_w"),
                x,
                color=ch.PALETTE[1],
                secondary=True,
            ),
            Series(
                t.span("budget"),
                t.head("budget"),
                x,
                kind="reference",
                color=ch.BUDGET_COLOR,
                secondary=True,
            ),
        )
        note = (
            f" (density target {ctx.density_target:g} off scale)" if off_scale else ""
        )
        layout = Layout(
            f"Sweep of {name}: density and power{note}",
            x_title=_head(name, unit),
            y_title="Density (TFLOPS/mm²)",
            y2_title="Power (W)",
            series=series,
            width=cw,
            height=chh,
            number_format="#,##0.##",
            x_number_format="#,##0.##",
        )
        col_x = (k % 2) * (cw + _GAP_PX)
        row_y = slot_y + (k // 2) * (chh + _GAP_PX)
        sh.chart(ch.add_dual_axis_chart, layout, 3, right, col_x, row_y)
        slot += 1


def _reality(ctx: _Context, sh: _Sheet) -> None:
    real = ctx.results.reality
    frame = real.copy()
    frame.insert(0, "name", [str(x) for x in real.index])
    sh.title(
        0,
        "Reality check: variants beside shipping silicon",
        "FP16 dense peaks; power and TFLOPS/W with the workbook's coefficients and "
        "with the physical preset fitted on the references' TDP (xlmodel calibrate). "
        "Density n/a where a die area is not published.",
    )
    cols = [
        _Col("name", "Variant or chip", "text"),
        _Col("kind", "Kind", "text"),
        _Col("peak_fp16_tflops", "Peak FP16 (TFLOPS)", _fmt("TFLOPS")),
        _Col("peak_x_h100", "Peak (x H100)", "0.00"),
        _Col(
            "density_fp16_tflops_per_mm2",
            "Density FP16 (TFLOPS/mm²)",
            _fmt("TFLOPS/mm²"),
        ),
        _Col("density_x_h100", "Density (x H100)", "0.00"),
        _Col(
            "fp16_flop_per_cycle_per_sm",
            "FP16 FLOP per clock per SM",
            _fmt("FLOP/cycle/SM"),
        ),
        _Col("power_w", "Power, workbook coefficients (W)", _fmt("W")),
        _Col("power_physical_w", "Power, physical preset (W)", _fmt("W")),
        _Col("published_tdp_w", "Published TDP (W)", _fmt("W")),
        _Col("tflops_per_w", "TFLOPS/W, workbook", _fmt("TFLOPS/W")),
        _Col("tflops_per_w_physical", "TFLOPS/W, physical", _fmt("TFLOPS/W")),
        _Col("bytes_per_flop", "HBM bytes per FLOP (byte/FLOP)", _fmt("byte/FLOP")),
        _Col(
            "ridge_fp16_flop_per_byte",
            "Ridge point FP16 (FLOP/byte)",
            _fmt("FLOP/byte"),
        ),
    ]
    sh.heading(3, 0, "Variants and reference chips")
    table = sh.table(4, 0, frame, cols, cap_width=30)
    sh.page(table.header_row)
    # one marker per plotted variant and per reference with a known die area
    names = [str(x) for x in real.index]
    kinds = list(real["kind"])
    density = real["density_fp16_tflops_per_mm2"].to_numpy(float)
    points, xs = [], []
    for i, (name, kind) in enumerate(zip(names, kinds)):
        if not math.isfinite(density[i]):
            continue
        if kind == "variant" and name not in ctx.plotted:
            continue
        row = table.first_row + i
        xs.append(float(real["tflops_per_w_physical"].iloc[i]))
        points.append(
            Series(
                Span(row, table.cols["density_fp16_tflops_per_mm2"]),
                Span(row, table.cols["name"]),
                Span(row, table.cols["tflops_per_w_physical"]),
                kind="marker",
                color=ctx.colors.get(name, "#7F7F7F"),
                marker="circle" if kind == "variant" else "diamond",
                label=True,
                legend=False,
            )
        )
    if not points:
        return
    layout = Layout(
        "Density vs efficiency (physical preset): variants ●, references ◆",
        x_title="FP16 TFLOPS/W (physical preset)",
        y_title="FP16 density (TFLOPS/mm²)",
        series=tuple(points),
        x_bounds=_padded(xs),
        width=760,
        height=420,
        number_format="0.00",
        x_number_format="0.0",
    )
    sh.chart(ch.add_scatter_chart, layout, table.last_row + 2, 0)
    if ctx.capped:
        sh.note(table.last_row + 1, 0, ctx.cap_note("The chart does"), 8)


def _run(ctx: _Context, sh: _Sheet) -> None:
    r = ctx.results
    study = r.study
    info = ctx.info
    v = study.variants
    sh.title(0, "Run information", "What produced these result sheets.")
    differs = []
    for prm in COEFFICIENTS:
        if prm.name in v and (v[prm.name].astype(str) != str(prm.default)).any():
            if prm.numeric:
                vals = v[prm.name].astype(float)
                if np.allclose(vals, float(prm.default)):
                    continue
            differs.append(prm.name)
    preset = (
        "seed defaults"
        if not differs
        else f"custom: {len(differs)} coefficient(s) differ from the seed ("
        + ", ".join(differs)
        + ")"
    )
    items = [
        ("xlmodel version", str(info.get("version") or __version__)),
        ("Input file", str(info.get("input_file") or "")),
        ("Input SHA-256", str(info.get("input_sha256") or "")),
        ("Time", str(info.get("time") or "")),
        ("Variants", len(v)),
        ("Target precision", ctx.precision),
        ("Density target (TFLOPS/mm²)", ctx.density_target),
        ("Power budget (W)", ctx.budget),
        ("Tj max (°C)", ctx.tj_max),
        ("Sweep base", str(study.sweep_base)),
        ("Tornado swing (± %)", float(study.tornado_percent)),
        ("Power table utilisations", ", ".join(f"{u:.0%}" for u in study.utilizations)),
        ("Scaling chiplet counts", ", ".join(str(c) for c in study.scaling_counts)),
        ("HBM stacks per chiplet (scaling)", float(study.hbm_stacks_per_chiplet)),
        ("Coefficient preset", preset),
    ]
    hf = ctx.fmt(bold=True, bg_color=_HEAD_FILL, bottom=1, valign="bottom")
    sh.ws.write_string(3, 0, "Item", hf)
    sh.ws.merge_range(3, 1, 3, 6, "Value", hf)
    border = {"bottom": 1, "bottom_color": "#E0E0E0"}
    for i, (key, val) in enumerate(items):
        r = 4 + i
        sh.ws.write_string(r, 0, key, ctx.fmt(**border))
        f = ctx.fmt(align="left", **border)
        sh.ws.merge_range(r, 1, r, 6, "", f)
        sh.value(r, 1, val, GENERAL, align="left", **border)
    sh.fit(0, max(len(k) for k, _ in items) + 2)
    sh.page(3, freeze_col=0)
    row = 4 + len(items) + 1

    def parameter_rows(params):
        rows = []
        for prm in params:
            if prm.name not in v:
                continue
            col = v[prm.name]
            if prm.numeric:
                vals = col.astype(float).to_numpy()
                same = bool(np.all(vals == vals[0])) if len(vals) else True
                rows.append(
                    {
                        "parameter": prm.name,
                        "unit": prm.unit,
                        "value": float(vals[0]) if same else "varies by variant",
                        "min": float(vals.min()) if len(vals) else math.nan,
                        "max": float(vals.max()) if len(vals) else math.nan,
                        "default": float(prm.default),
                        "description": prm.description,
                    }
                )
            else:
                uniq = list(dict.fromkeys(str(x) for x in col))
                rows.append(
                    {
                        "parameter": prm.name,
                        "unit": "" if prm.unit == "text" else prm.unit,
                        "value": uniq[0] if len(uniq) == 1 else "varies by variant",
                        "min": ", ".join(uniq) if len(uniq) > 1 else "",
                        "max": "",
                        "default": str(prm.default),
                        "description": prm.description,
                    }
                )
        return pd.DataFrame(rows)

    pcols = [
        _Col("parameter", "Parameter", "text"),
        _Col("unit", "Unit", "text"),
        _Col("value", "Value used", GENERAL),
        _Col("min", "Min over variants", GENERAL),
        _Col("max", "Max over variants", GENERAL),
        _Col("default", "Seed default", GENERAL),
        _Col("description", "Description", "text", wrap=True),
    ]
    for heading, params in (("Coefficients", COEFFICIENTS), ("Targets", TARGETS)):
        sh.heading(row, 0, heading)
        ft = parameter_rows(params)
        t = sh.table(row + 1, 0, ft, pcols, cap_width=70)
        row = t.last_row + 2

    sh.heading(row, 0, "Roofline workloads")
    wl = pd.DataFrame(
        {
            "name": list(study.workloads),
            "ai": [float(a) for a in study.workloads.values()],
        }
    )
    t = sh.table(
        row + 1,
        0,
        wl,
        [
            _Col("name", "Workload", "text"),
            _Col("ai", "Arithmetic intensity (FLOP/byte)", GENERAL),
        ],
    )
    row = t.last_row + 2

    warnings = list(dict.fromkeys([*(info.get("warnings") or []), *study.warnings]))
    sh.heading(row, 0, f"Warnings ({len(warnings)})")
    row += 1
    if not warnings:
        sh.note(row, 0, "None.", 1)
    for w in warnings:
        sh.note(row, 0, str(w), 7)
        row += 1
    # Descriptions wrap in a fixed width.
    sh.widths[6] = 60
