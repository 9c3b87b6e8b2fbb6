"""Reading the Exploration setup and Uncertainty setup sheets, and the designs table.

Part of the workbook reader (:mod:`xlmodel.workbook.reader` calls :func:`read`):
the same cell conversion, the same one-line problems with their cells, the same
warnings. A workbook without these sheets, or with their tables left blank, asks
for no exploration and no Monte Carlo, silently. :func:`read_for_adopt` reads what
``xlmodel adopt`` needs: the inputs, the last exploration's designs table and where
the Variants table lies.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..engine.model import METRIC_UNITS
from ..errors import PackageError
from ..schema import BY_NAME, PARAMETERS, Parameter
from ..studies.design_space import ExplorationSetup
from ..studies.explore import (
    Constraint,
    Objective,
    Problem,
    Range,
)
from ..studies.run import Study
from ..studies.uncertainty import DISTRIBUTIONS, Spread, Uncertainty
from . import reader as rd
from .template import BLOCKS, VARIANT_LABEL_COLUMNS
from .template_explore import (
    EXPLORATION_SETTINGS,
    GRID_POINTS,
    MAX_SAMPLES,
    SPREAD_PERCENT,
    UNCERTAINTY_SETTINGS,
)

_EXPLORATION = {p.name: p for p in EXPLORATION_SETTINGS}
_UNCERTAINTY = {p.name: p for p in UNCERTAINTY_SETTINGS}
_OPERATORS = {"<=": "<=", "≤": "<=", "=<": "<=", ">=": ">=", "≥": ">=", "=>": ">="}
_SENSES = {
    "max": "max",
    "maximise": "max",
    "maximize": "max",
    "min": "min",
    "minimise": "min",
    "minimize": "min",
}
#: Sheet-scoped defined name of the designs table on the Exploration result sheet.
DESIGNS_NAME = "_xlmodel_designs"
#: Label left of the base variant's name above the designs table.
BASE_LABEL = "Base variant"


def read(sr, names: list[str]) -> tuple[ExplorationSetup | None, Uncertainty | None]:
    """The exploration and the uncertainty asked for by a workbook (None: none).

    Parameters
    ----------
    sr : reader._StudyReader
        Collects problems and warnings.
    names : list of str
        Variant names (the base variant must be one of them).
    """
    return _read_exploration(sr, names), _read_uncertainty(sr, len(names))


# --- Exploration setup ----------------------------------------------------------------


def _read_exploration(sr, names: list[str]) -> ExplorationSetup | None:
    found = sr.book.locate(BLOCKS["ranges"])
    if found is None:
        return None
    before = len(sr.problems)
    settings = _settings(sr, BLOCKS["exploration"], _EXPLORATION)
    method = settings.values["method"]
    ranges = _ranges(sr, found, method == "grid")
    if not ranges and len(sr.problems) == before:
        return None  # blank ranges: no exploration
    for name, note in settings.notes.items():
        if name != "samples" or method != "grid":
            sr.warn(note)
    constraints = _constraints(sr)
    objectives = _objectives(sr)
    base = _base_variant(sr, settings, names)
    if len(sr.problems) > before:
        return None
    v = settings.values
    size = (
        math.prod(len(r.grid()) for r, _ in ranges)
        if method == "grid"
        else v["samples"]
    )
    if size > MAX_SAMPLES:
        sr.problem(
            ranges[0][1],
            f"{size:,} points",
            f"is more than {MAX_SAMPLES:,}: use fewer grid points, or method lhs or "
            "random with a sample count",
        )
        return None
    try:
        problem = Problem(
            ranges=tuple(r for r, _ in ranges),
            objectives=tuple(objectives),
            constraints=tuple(constraints),
            method=method,
            samples=int(v["samples"]),
            seed=int(v["seed"]),
            top_k=int(v["top_k"]),
        )
    except ValueError as e:
        sr.problem(
            rd._Where(found[0].title, "", ""), str(e), "rejected by the exploration"
        )
        return None
    return ExplorationSetup(problem, base, int(v["sobol_samples"]))


@dataclass
class _Settings:
    """Settings read from a block: values (defaults where blank), cells, warnings."""

    values: dict
    where: dict
    notes: dict  # setting -> warning, emitted only when the setting matters


def _settings(sr, block, known: dict[str, Parameter]) -> _Settings:
    out = _Settings({n: p.default for n, p in known.items()}, {}, {})
    found = sr.book.locate(block)
    if found is None:
        out.notes[""] = f"{block.sheet}: settings table not found; using the defaults"
        return out
    grid, r0, c0 = found
    rows = sr._setting_rows(grid, r0, c0, known)
    for name, p in known.items():
        r = rows.get(name)
        if r is None:
            out.notes[name] = (
                f"{grid.title}: no row {name}; using the default {_shown_default(p)}"
            )
            continue
        where = rd._Where(grid.title, rd._cell(r, c0 + 1), name)
        out.where[name] = where
        v = sr.value(p, grid, r, c0 + 1, where)
        if v is None:
            out.notes[name] = f"{where}: blank; using the default {_shown_default(p)}"
        elif v is not rd._INVALID:
            out.values[name] = v
    return out


def _shown_default(p: Parameter) -> str:
    return repr(p.default) if isinstance(p.default, str) else f"{p.default:,}"


def _base_variant(sr, settings: _Settings, names: list[str]) -> str:
    name = str(settings.values["base_variant"])
    match = next((n for n in names if n.casefold() == name.casefold()), None)
    if match is not None:
        return match
    where = settings.where.get("base_variant")
    if (where is None or "base_variant" in settings.notes) and names:
        sr.warn(
            f"Exploration setup base_variant: no variant {name!r}; exploring around "
            f"{names[0]!r}"
        )
        return names[0]
    if names:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        sr.problem(where, name, f"is not a variant name: expected one of {shown}")
    return ""


def _rows(grid, r0: int, c0: int, width: int):
    for r in range(r0 + 1, grid.rows):
        if any(grid.filled(r, c0 + k) for k in range(width)):
            yield r


def _number(sr, grid, r: int, c: int, where, what: str) -> float | None:
    try:
        raw = sr.raw(grid, r, c, where)
        if rd._blank(raw):
            raise rd._CellError("", f"is blank: type the {what}")
        got = rd._convert(_ANY_NUMBER, raw, bounded=False)
    except rd._CellError as e:
        sr.problem(where, e.value, e.expected)
        return None
    if got.note:
        sr.warn(f"{where}: {got.note}")
    return float(got.value)


_ANY_NUMBER = Parameter("limit", "exploration", "", "", 0, -math.inf, math.inf, "")


def _ranges(sr, found, grid_method: bool) -> list[tuple[Range, object]]:
    grid, r0, c0 = found
    sheet = grid.title
    out: list[tuple[Range, object]] = []
    seen: list[str] = []
    for r in _rows(grid, r0, c0, 4):
        p = sr._parameter_cell(grid, r, c0, "range parameter", seen)
        if p is None:
            continue
        seen.append(p.name)
        w_lo = rd._Where(sheet, rd._cell(r, c0 + 1), f"{p.name} low")
        w_hi = rd._Where(sheet, rd._cell(r, c0 + 2), f"{p.name} high")
        w_n = rd._Where(sheet, rd._cell(r, c0 + 3), f"{p.name} grid points")
        lo = _number(sr, grid, r, c0 + 1, w_lo, "range low")
        hi = _number(sr, grid, r, c0 + 2, w_hi, "range high")
        points = 1
        if grid_method:
            v = sr.value(GRID_POINTS, grid, r, c0 + 3, w_n)
            if v is None:
                sr.problem(w_n, "", f"is blank: type the {GRID_POINTS.expectation}")
                continue
            if v is rd._INVALID:
                continue
            points = int(v)
        if lo is None or hi is None:
            continue
        bad = len(sr.problems)
        expect = rd._expectation(p)
        if lo < p.minimum:
            sr.problem(w_lo, rd._shown(lo), f"is below the valid range: {expect}")
        if hi > p.maximum:
            sr.problem(w_hi, rd._shown(hi), f"is above the valid range: {expect}")
        if lo > hi:
            sr.problem(w_lo, rd._shown(lo), f"is above the high {hi:g}: low <= high")
        if p.kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
            sr.problem(w_lo, rd._shown(lo), f"{p.name} takes whole numbers")
        if len(sr.problems) == bad:
            out.append((Range(p.name, lo, hi, points), w_n))
    return out


def _quantity_cell(sr, grid, r: int, c: int, label: str, seen: list[str]):
    where = rd._Where(grid.title, rd._cell(r, c), label)
    try:
        raw = sr.raw(grid, r, c, where)
    except rd._CellError as e:
        sr.problem(where, e.value, e.expected)
        return None
    if rd._blank(raw):
        sr.problem(where, "", f"{label} missing: type a metric or parameter name")
        return None
    text = str(rd._shown(raw)).strip()
    name = next((q for q in _QUANTITIES if q.casefold() == text.casefold()), None)
    if name is None:
        close = difflib.get_close_matches(text, _QUANTITIES, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        sr.problem(
            where,
            text,
            f"is not a metric or numeric parameter{hint}; see the list of "
            "quantities on the Exploration setup sheet",
        )
        return None
    if label == "objective" and name in seen:
        sr.problem(where, text, "is listed twice; keep one row")
        return None
    return name


_QUANTITIES = [m for m, u in METRIC_UNITS.items() if u != "bool"] + [
    p.name for p in PARAMETERS if p.numeric
]


def _choice(sr, grid, r: int, c: int, where, table: dict, what: str):
    try:
        raw = sr.raw(grid, r, c, where)
    except rd._CellError as e:
        sr.problem(where, e.value, e.expected)
        return None
    text = "" if rd._blank(raw) else str(rd._shown(raw)).strip()
    key = table.get(text.casefold())
    if key is None:
        options = ", ".join(dict.fromkeys(table.values()))
        sr.problem(where, text, f"is not {what}: expected one of {options}")
    return key


def _constraints(sr) -> list[Constraint]:
    found = sr.book.locate(BLOCKS["constraints"])
    if found is None:
        return []
    grid, r0, c0 = found
    out = []
    for r in _rows(grid, r0, c0, 3):
        name = _quantity_cell(sr, grid, r, c0, "constraint", [])
        w_op = rd._Where(grid.title, rd._cell(r, c0 + 1), "operator")
        op = _choice(sr, grid, r, c0 + 1, w_op, _OPERATORS, "an operator")
        w_lim = rd._Where(grid.title, rd._cell(r, c0 + 2), f"{name or ''} limit")
        limit = _number(sr, grid, r, c0 + 2, w_lim, "limit")
        if name and op and limit is not None:
            out.append(Constraint(name, op, limit))
    return out


def _objectives(sr) -> list[Objective]:
    block = BLOCKS["objectives"]
    found = sr.book.locate(block)
    if found is None:
        sr.problem(
            rd._Where(block.sheet, "", "objective"),
            "",
            "no objectives table: restore it from the template (xlmodel init)",
        )
        return []
    grid, r0, c0 = found
    out: list[Objective] = []
    before = len(sr.problems)
    for r in _rows(grid, r0, c0, 2):
        name = _quantity_cell(sr, grid, r, c0, "objective", [o.quantity for o in out])
        w = rd._Where(grid.title, rd._cell(r, c0 + 1), f"{name or 'objective'} sense")
        sense = _choice(sr, grid, r, c0 + 1, w, _SENSES, "a sense")
        if name and sense:
            out.append(Objective(name, sense))
    if not out and len(sr.problems) == before:
        sr.problem(
            rd._Where(grid.title, rd._cell(r0 + 1, c0), "objective"),
            "",
            "no objectives: add at least one row (a metric and max or min), or clear "
            "the ranges to skip the exploration",
        )
    return out


# --- Uncertainty setup ----------------------------------------------------------------


def _read_uncertainty(sr, variants: int) -> Uncertainty | None:
    found = sr.book.locate(BLOCKS["spreads"])
    if found is None:
        return None
    grid, r0, c0 = found
    before = len(sr.problems)
    spreads: list[Spread] = []
    seen: list[str] = []
    for r in _rows(grid, r0, c0, 3):
        p = sr._parameter_cell(grid, r, c0, "uncertain parameter", seen)
        if p is None:
            continue
        seen.append(p.name)
        w_d = rd._Where(grid.title, rd._cell(r, c0 + 1), f"{p.name} distribution")
        dist = _choice(
            sr, grid, r, c0 + 1, w_d, {d: d for d in DISTRIBUTIONS}, "a distribution"
        )
        w_s = rd._Where(grid.title, rd._cell(r, c0 + 2), f"{p.name} spread %")
        pct = sr.value(SPREAD_PERCENT, grid, r, c0 + 2, w_s)
        if pct is None:
            sr.problem(w_s, "", "is blank: type the spread in percent, 0 to below 100")
            continue
        if pct is rd._INVALID:
            continue
        if pct >= 100:
            sr.problem(w_s, rd._shown(pct), "is out of range: expected 0 to below 100")
            continue
        if dist:
            spreads.append(Spread(p.name, dist, float(pct)))
    if not spreads or len(sr.problems) > before:
        return None
    settings = _settings(sr, BLOCKS["uncertainty"], _UNCERTAINTY)
    for note in settings.notes.values():
        sr.warn(note)
    v = settings.values
    draws = int(v["samples"]) * variants
    if draws > MAX_SAMPLES:
        sr.problem(
            settings.where.get("samples") or rd._Where(grid.title, "", "samples"),
            int(v["samples"]),
            f"draws per variant x {variants:,} variants = {draws:,} draws, more "
            f"than {MAX_SAMPLES:,}: use fewer draws",
        )
        return None
    return Uncertainty(tuple(spreads), samples=int(v["samples"]), seed=int(v["seed"]))


# --- adopt: the designs table and the Variants layout -------------------------------


@dataclass
class Designs:
    """The designs table of the last exploration, as written on its result sheet.

    Attributes
    ----------
    sheet : str
        The result sheet's title.
    base_variant : str
        The variant the exploration ran around.
    table : pandas.DataFrame
        Index: design number. Columns: the header keys (``sms_per_chiplet``,
        ``On front``, ...), values as written.
    parameters : list of str
        The explored parameters (columns of ``table``).
    """

    sheet: str
    base_variant: str
    table: pd.DataFrame
    parameters: list[str]


@dataclass
class VariantLayout:
    """Where the Variants table is: enough to add a column to it.

    Attributes
    ----------
    sheet : str
        Sheet title.
    header_row : int
        Zero-based row of the variant names.
    rows : dict of str to int
        Parameter -> zero-based row.
    columns : dict of str to int
        Variant name -> zero-based column.
    next_column : int
        Zero-based column after the last used one of the table.
    """

    sheet: str
    header_row: int
    rows: dict[str, int]
    columns: dict[str, int]
    next_column: int


def read_for_adopt(path: str | Path) -> tuple[Study, Designs, VariantLayout]:
    """What ``xlmodel adopt`` needs, from one reading of the workbook.

    Returns
    -------
    (Study, Designs, VariantLayout)
        The validated inputs, the last exploration's designs and where the
        Variants table lies.

    Raises
    ------
    PackageError
        Not a readable workbook, or no exploration results in it.
    InputProblems
        The inputs have problems (as ``xlmodel validate`` lists them).
    """
    path = Path(path)
    data = rd._load_bytes(path)
    with rd._Book(path, data) as book:
        study = rd._StudyReader(book).read()
        return study, _read_designs(path, book), _read_layout(path, book)


def _read_designs(path: Path, book) -> Designs:
    with rd._translated(path):
        for title in book.titles:
            names = getattr(book.values[title], "defined_names", None) or {}
            if DESIGNS_NAME in names:
                _, ref = next(iter(names[DESIGNS_NAME].destinations))
                break
        else:
            raise PackageError(
                f"{path}: holds no exploration results: run 'xlmodel explore "
                f"{path.name}' first"
            )
    grid = book.sheet(title)
    r0, c0 = _a1(ref)
    base = None
    for r in range(max(0, r0 - 4), r0):
        if grid.raw(r, c0) == BASE_LABEL:
            base = grid.raw(r, c0 + 1)
    headers = []
    c = c0
    while c < grid.width(r0) and not rd._blank(grid.raw(r0, c)):
        headers.append(str(grid.raw(r0, c)))
        c += 1
    keys = [h.split(" (")[0] for h in headers]
    rows = []
    r = r0 + 1
    while r < grid.rows and isinstance(grid.raw(r, c0), (int, float)):
        rows.append([grid.raw(r, c0 + k) for k in range(len(headers))])
        r += 1
    if not rows or base is None or not keys or keys[0] != "Design":
        raise PackageError(
            f"{path}: the designs table on {grid.title!r} is damaged: run "
            f"'xlmodel explore {path.name}' again"
        )
    table = pd.DataFrame(rows, columns=keys).set_index("Design")
    table.index = table.index.astype(int)
    params = [k for k in keys if k in BY_NAME and BY_NAME[k].numeric]
    return Designs(grid.title, str(base), table, params)


def _a1(ref: str) -> tuple[int, int]:
    # "$A$10" -> (9, 0)
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?([0-9]+)", ref.split(":")[0])
    if m is None:
        raise PackageError(f"designs table reference {ref!r} is not a cell")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _read_layout(path: Path, book) -> VariantLayout:
    sr = rd._StudyReader(book)
    block = BLOCKS["variants"]
    found = book.locate(block)
    if found is None:  # read_study would have said so
        raise PackageError(f"{path}: has no Variants sheet")
    grid, r0, c0 = found
    first = c0 + VARIANT_LABEL_COLUMNS
    rows = sr._key_rows(grid, r0, c0, first, grid.title)
    columns = sr._variant_columns(grid, r0, first, rows)
    used = [r0, *rows.values()]
    last = max((grid.width(r) for r in used), default=first)
    while last > first and not any(grid.filled(r, last - 1) for r in used):
        last -= 1
    return VariantLayout(
        grid.title, r0, rows, {n: c for c, n in columns}, max(last, first)
    )
