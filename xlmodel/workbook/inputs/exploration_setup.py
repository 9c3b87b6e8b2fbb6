"""The Exploration setup sheet: settings, ranges, constraints and objectives.

Four blocks side by side: the settings (method, samples, seed, base variant,
top designs, Sobol samples; ``xlmodel_exploration``), the parameter ranges
(``xlmodel_ranges``), the constraints (``xlmodel_constraints``) and the
objectives (``xlmodel_objectives``), with the list of quantities they may name at
the right. The template preloads an example: six parameters around Baseline on a
21,504-point grid under the power budget, the reticle limit and Tj max. A blank
constraint limit on power, Tj or density takes the base variant's Targets value
(:data:`~xlmodel.studies.design_space.TARGET_LIMITS`); the template leaves the
power and Tj limits blank, so the exploration follows Targets. The
reader returns an :class:`~xlmodel.studies.design_space.ExplorationSetup`, or
None when the ranges are blank (no exploration, silently). The Sobol indices
(global sensitivity) have no block of their own: ``sobol_samples`` is a setting.

About 600 lines: the sheet has four blocks, each with its writer and its reader,
kept together as one module per sheet; the pieces shared with the other setup
sheets are in :mod:`.setup`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ...engine.model import METRIC_UNITS, METRICS
from ...errors import listing, quoted
from ...schema import BY_NAME, DEFAULTS, PARAMETERS, Parameter
from ...studies.design_space import ExplorationSetup
from ...studies.explore import (
    METHODS,
    OPERATORS,
    SENSES,
    Constraint,
    Objective,
    Problem,
    Range,
    quantity_unit,
)
from ...studies.limits import TARGET_LIMITS, LimitSource, target_limit
from ..grid import cell_name
from ..values import CellError, blank, expectation, shown
from . import variants
from .context import INVALID, Context, Where
from .formats import Formats, header, pick, ref, validation, write_title, write_value
from .layout import SPARE_ROWS, Block
from .setup import (
    MAX_SAMPLES,
    MAX_SEED,
    Settings,
    choice_cell,
    filled_rows,
    number_cell,
    parameter_cell,
    read_settings,
)

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

EXPLORATION_SHEET = "Exploration setup"
SETTINGS = Block(
    "exploration",
    "xlmodel_exploration",
    EXPLORATION_SHEET,
    2,
    0,
    ("exploration setting", "value", "unit", "description"),
)
RANGES = Block(
    "ranges",
    "xlmodel_ranges",
    EXPLORATION_SHEET,
    2,
    5,
    ("range parameter", "low", "high", "grid points", "unit"),
)
CONSTRAINTS = Block(
    "constraints",
    "xlmodel_constraints",
    EXPLORATION_SHEET,
    2,
    11,
    ("constraint", "operator", "limit", "unit"),
)
OBJECTIVES = Block(
    "objectives",
    "xlmodel_objectives",
    EXPLORATION_SHEET,
    2,
    16,
    ("objective", "sense", "unit"),
)
BLOCKS = (SETTINGS, RANGES, CONSTRAINTS, OBJECTIVES)

#: Most grid points of one range.
MAX_GRID_POINTS = 10_000

EXPLORATION_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "method",
        "exploration",
        "Exploration",
        "text",
        "grid",
        0,
        0,
        "grid: every combination; lhs: Latin hypercube; random: uniform points",
        kind="choice",
        choices=METHODS,
    ),
    Parameter(
        "samples",
        "exploration",
        "Exploration",
        "points",
        100_000,
        1,
        MAX_SAMPLES,
        "Points of lhs and random sampling (not used by grid)",
        kind="int",
    ),
    Parameter(
        "seed",
        "exploration",
        "Exploration",
        "",
        1,
        0,
        MAX_SEED,
        "Seed of sampling and Sobol indices: same seed, same points",
        kind="int",
    ),
    Parameter(
        "base_variant",
        "exploration",
        "Exploration",
        "text",
        "Baseline",
        0,
        0,
        "Variant whose other parameters every point keeps",
        kind="text",
    ),
    Parameter(
        "top_k",
        "exploration",
        "Exploration",
        "designs",
        20,
        1,
        1000,
        "Best feasible designs (by the objectives in order) besides the front",
        kind="int",
    ),
    Parameter(
        "sobol_samples",
        "exploration",
        "Exploration",
        "samples",
        4096,
        0,
        1_000_000,
        "Sobol base samples (runs = samples x (ranges + 2)); 0 = none",
        kind="int",
    ),
)
GRID_POINTS = Parameter(
    "grid_points",
    "exploration",
    "Exploration",
    "points",
    5,
    1,
    MAX_GRID_POINTS,
    "Grid values from low to high inclusive (whole-number parameters are rounded)",
    kind="int",
)
_EXPLORATION = {p.name: p for p in EXPLORATION_SETTINGS}

# --- the preloaded example --------------------------------------------------------

#: parameter -> (low, high, grid points)
EXAMPLE_RANGES: dict[str, tuple[float, float, int]] = {
    "sms_per_chiplet": (16, 64, 7),
    "clock_mhz": (1500, 2800, 6),
    "tensor_cores_per_sm": (2, 8, 4),
    "fp16_ops_per_cycle": (64, 256, 4),
    "chiplet_area_mm2": (250, 950, 8),
    "num_chiplets": (2, 8, 4),
}
#: (quantity, operator, limit): power budget, reticle limit, junction temperature;
#: None: blank, the Targets value
EXAMPLE_CONSTRAINTS: tuple[tuple[str, str, float | None], ...] = (
    ("power_total_w", "<=", None),
    ("chiplet_area_mm2", "<=", 858),
    ("junction_temp_c", "<=", None),
)
_LIMIT_HELP = (
    "The limit, in the quantity's unit. Blank: the Targets value ("
    + "; ".join(f"{q} {op} {t}" for q, (op, t) in TARGET_LIMITS.items())
    + "); a number typed here overrides it for the exploration."
)
EXAMPLE_OBJECTIVES: tuple[tuple[str, str], ...] = (
    ("target_density_tflops_per_mm2", "max"),
    ("power_total_w", "min"),
)


def quantities() -> list[tuple[str, str, str]]:
    """What constraints and objectives may name: (name, unit, description).

    Every numeric engine metric, then every numeric variant parameter.
    """
    out = [(m.name, m.unit, m.description) for m in METRICS if m.unit != "bool"]
    out += [
        (p.name, p.unit, p.description)
        for p in PARAMETERS
        if p.section == "variant" and p.numeric and p.used
    ]
    return out


# --- writing ----------------------------------------------------------------------


def write(ws: Worksheet, fmt: Formats, template_variants: Mapping) -> None:
    """Fill the Exploration setup sheet: settings, ranges, constraints, objectives.

    Parameters
    ----------
    ws : xlsxwriter.worksheet.Worksheet
    fmt : formats.Formats
    template_variants : mapping
        The template's variants (the base variant defaults to Baseline or the first).
    """
    write_title(
        ws,
        fmt,
        "Design-space exploration",
        "Every point of the ranges is evaluated around the base variant; the "
        "feasible Pareto front and the top designs go to the Exploration result "
        "sheet. A blank constraint limit takes the Targets value. Clear the ranges "
        "to switch it off.",
    )
    for block in BLOCKS:
        header(ws, fmt, block)
    keys, quantity_list = _lists(ws, fmt)
    _write_settings(ws, fmt, template_variants)
    _write_ranges(ws, fmt, keys)
    _write_constraints(ws, fmt, quantity_list)
    _write_objectives(ws, fmt, quantity_list)
    widths = {
        0: 19, 1: 12, 2: 9, 3: 58, 4: 2, 5: 28, 6: 9, 7: 9, 8: 11, 9: 10, 10: 2,
        11: 30, 12: 9, 13: 9, 14: 11, 15: 2, 16: 30, 17: 8, 18: 11, 19: 2, 20: 30,
        21: 12, 22: 60,
    }  # fmt: skip
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.freeze_panes(SETTINGS.row + 1, 0)
    # a printout holds the inputs; the list of quantities is for the screen
    ws.print_area(0, 0, SETTINGS.row + len(EXAMPLE_RANGES) + 12, OBJECTIVES.col + 2)


def _write_settings(ws: Worksheet, fmt: Formats, template_variants: Mapping) -> None:
    """The settings at their defaults; the base variant from the template's."""
    c, r0 = SETTINGS.col, SETTINGS.row + 1
    names = variants.names_source()
    for i, p in enumerate(EXPLORATION_SETTINGS):
        r = r0 + i
        ws.write_string(r, c, p.name, fmt.key)
        value = p.default
        if p.name == "base_variant" and value not in template_variants:
            value = next(iter(template_variants), value)
        write_value(ws, r, c + 1, value, p, fmt)
        ws.write_string(r, c + 2, "" if p.unit == "text" else p.unit)
        ws.write_string(r, c + 3, p.description)
        opts = validation(p)
        if p.name == "base_variant":
            opts.update(validate="list", source=names, error_type="warning")
        ws.data_validation(r, c + 1, r, c + 1, opts)


def _write_ranges(ws: Worksheet, fmt: Formats, keys: str) -> None:
    """The example's ranges, validated against the parameter keys ``keys``."""
    c, r0 = RANGES.col, RANGES.row + 1
    for i, (name, (low, high, points)) in enumerate(EXAMPLE_RANGES.items()):
        p = BY_NAME[name]
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_number(r0 + i, c + 1, low, fmt.input(p))
        ws.write_number(r0 + i, c + 2, high, fmt.input(p))
        ws.write_number(r0 + i, c + 3, points, fmt.input_int)
        ws.write_string(r0 + i, c + 4, p.unit)
    last = r0 + len(EXAMPLE_RANGES) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        pick(
            keys,
            "Range parameter",
            "A numeric parameter (a key in column A of Variants, or a coefficient). "
            "Its low, high and grid points go to the right.",
        ),
    )
    for k, (label, msg) in enumerate(
        (
            ("Range low", "Lowest value, in the parameter's unit."),
            ("Range high", "Highest value, at least low."),
        )
    ):
        ws.data_validation(
            r0,
            c + 1 + k,
            last,
            c + 1 + k,
            {
                "validate": "decimal",
                "criteria": "between",
                "minimum": -1e15,
                "maximum": 1e15,
                "input_title": label,
                "input_message": msg + " Inside the parameter's valid range.",
            },
        )
    ws.data_validation(r0, c + 3, last, c + 3, validation(GRID_POINTS))


def _write_constraints(ws: Worksheet, fmt: Formats, quantity_source: str) -> None:
    """The example's constraints, naming one of ``quantity_source``."""
    c, r0 = CONSTRAINTS.col, CONSTRAINTS.row + 1
    for i, (name, op, limit) in enumerate(EXAMPLE_CONSTRAINTS):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, op, fmt.input_text)
        if limit is None:
            ws.write_blank(r0 + i, c + 2, None, fmt.input_float)
        else:
            ws.write_number(r0 + i, c + 2, limit, fmt.input_float)
        ws.write_string(r0 + i, c + 3, quantity_unit(name))
    last = r0 + len(EXAMPLE_CONSTRAINTS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        pick(
            quantity_source,
            "Constrained quantity",
            "A metric or parameter (see the list at the right). A design is "
            "feasible when it meets every constraint.",
        ),
    )
    ws.data_validation(
        r0,
        c + 1,
        last,
        c + 1,
        {
            "validate": "list",
            "source": list(OPERATORS),
            "input_title": "Operator",
            "input_message": "<= (at most the limit) or >= (at least the limit).",
        },
    )
    ws.data_validation(
        r0,
        c + 2,
        last,
        c + 2,
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "input_title": "Limit",
            "input_message": _LIMIT_HELP[:255],
        },
    )


def _write_objectives(ws: Worksheet, fmt: Formats, quantity_source: str) -> None:
    """The example's objectives, naming one of ``quantity_source``."""
    c, r0 = OBJECTIVES.col, OBJECTIVES.row + 1
    for i, (name, sense) in enumerate(EXAMPLE_OBJECTIVES):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, sense, fmt.input_text)
        ws.write_string(r0 + i, c + 2, quantity_unit(name))
    last = r0 + len(EXAMPLE_OBJECTIVES) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        pick(
            quantity_source,
            "Objective",
            "A metric or parameter to maximise or minimise, in priority order: the "
            "first ranks the top designs and is the chart's X axis, the second Y.",
        ),
    )
    ws.data_validation(
        r0,
        c + 1,
        last,
        c + 1,
        {
            "validate": "list",
            "source": list(SENSES),
            "input_title": "Sense",
            "input_message": "max (larger is better) or min (smaller is better).",
        },
    )


def _lists(ws: Worksheet, fmt: Formats) -> tuple[str, str]:
    # The reference list of quantities at the right; returns the sources of the
    # parameter and quantity drop-downs.
    c, r = OBJECTIVES.col + 4, OBJECTIVES.row
    for k, label in enumerate(("quantity you may name", "unit", "description")):
        ws.write_string(r, c + k, label, fmt.header)
    listed = quantities()
    for i, (name, unit, text) in enumerate(listed):
        ws.write_string(r + 1 + i, c, name, fmt.key)
        ws.write_string(r + 1 + i, c + 1, unit)
        ws.write_string(r + 1 + i, c + 2, text)
    names = "=" + ref(EXPLORATION_SHEET, r + 1, c, r + len(listed))
    return variants.keys_source(), names


# --- reading ----------------------------------------------------------------------

_OPERATORS = {"<=": "<=", "≤": "<=", "=<": "<=", ">=": ">=", "≥": ">=", "=>": ">="}
_SENSES = {
    "max": "max",
    "maximise": "max",
    "maximize": "max",
    "min": "min",
    "minimise": "min",
    "minimize": "min",
}


def read(
    ctx: Context,
    names: list[str],
    targets: Callable[[str], Mapping] | None = None,
    sheet_targets: Mapping | None = None,
) -> ExplorationSetup | None:
    """The exploration a workbook asks for; None: none (blank ranges, no sheet).

    ``names`` are the variant names read from Variants (the base must be one);
    ``targets(name)`` gives a variant's target values (what blank limits take;
    default: the schema's targets).
    """
    found = ctx.book.locate(RANGES)
    if found is None:
        return None
    before = len(ctx.problems)
    settings = read_settings(ctx, SETTINGS, _EXPLORATION)
    method = settings.values["method"]
    ranges = _ranges(ctx, found, method == "grid")
    if not ranges and len(ctx.problems) == before:
        return None  # blank ranges: no exploration
    for name, note in settings.notes.items():
        if name != "samples" or method != "grid":
            ctx.warn(note)
    base = _base_variant(ctx, settings, names)
    values = targets(base) if targets is not None else DEFAULTS
    constraints, limits = _constraints(ctx, values, base, sheet_targets)
    objectives = _objectives(ctx)
    if len(ctx.problems) > before:
        return None
    v = settings.values
    size = (
        math.prod(len(r.grid()) for r, _, _ in ranges)
        if method == "grid"
        else v["samples"]
    )
    if size > MAX_SAMPLES:
        ctx.problem(
            ranges[0][1],
            f"{size:,} points",
            f"is more than {MAX_SAMPLES:,}: use fewer grid points, or method lhs or "
            "random with a sample count",
        )
        return None
    try:
        problem = Problem(
            ranges=tuple(r for r, _, _ in ranges),
            objectives=tuple(objectives),
            constraints=tuple(constraints),
            method=method,
            samples=int(v["samples"]),
            seed=int(v["seed"]),
            top_k=int(v["top_k"]),
        )
    except ValueError as e:
        ctx.problem(
            Where(found[0].title, "", ""), str(e), "rejected by the exploration"
        )
        return None
    return ExplorationSetup(
        problem,
        base,
        int(v["sobol_samples"]),
        tuple(limits),
        tuple(str(w) for _, _, w in ranges),
    )


def _base_variant(ctx: Context, settings: Settings, names: list[str]) -> str:
    name = str(settings.values["base_variant"])
    match = next((n for n in names if n.casefold() == name.casefold()), None)
    if match is not None:
        return match
    where = settings.where.get("base_variant")
    if (where is None or "base_variant" in settings.notes) and names:
        ctx.warn(
            f"Exploration setup base_variant: no variant {quoted(name)}; exploring "
            f"around {quoted(names[0])}"
        )
        return names[0]
    if names:
        options = listing(names)
        ctx.problem(where, name, f"is not a variant name: expected one of {options}")
    return ""


def _ranges(ctx: Context, found, grid_method: bool) -> list[tuple[Range, Where, Where]]:
    grid, r0, c0 = found
    sheet = grid.title
    out: list[tuple[Range, Where, Where]] = []
    seen: list[str] = []
    for r in filled_rows(grid, r0, c0, 4):
        p = parameter_cell(ctx, grid, r, c0, "range parameter", seen)
        if p is None:
            continue
        seen.append(p.name)
        w_lo = Where(sheet, cell_name(r, c0 + 1), f"{p.name} low")
        w_hi = Where(sheet, cell_name(r, c0 + 2), f"{p.name} high")
        w_n = Where(sheet, cell_name(r, c0 + 3), f"{p.name} grid points")
        lo = number_cell(ctx, grid, r, c0 + 1, w_lo, "range low")
        hi = number_cell(ctx, grid, r, c0 + 2, w_hi, "range high")
        points = 1
        if grid_method:
            v = ctx.value(GRID_POINTS, grid, r, c0 + 3, w_n)
            if v is None:
                ctx.problem(w_n, "", f"is blank: type the {GRID_POINTS.expectation}")
                continue
            if v is INVALID:
                continue
            points = int(v)
        if lo is None or hi is None:
            continue
        bad = len(ctx.problems)
        expect = expectation(p)
        if lo < p.minimum:
            ctx.problem(w_lo, shown(lo), f"is below the valid range: {expect}")
        if hi > p.maximum:
            ctx.problem(w_hi, shown(hi), f"is above the valid range: {expect}")
        if lo > hi:
            ctx.problem(w_lo, shown(lo), f"is above the high {hi:g}: low <= high")
        if p.kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
            ctx.problem(w_lo, shown(lo), f"{p.name} takes whole numbers")
        if len(ctx.problems) == bad:
            named = Where(sheet, cell_name(r, c0), "")
            out.append((Range(p.name, lo, hi, points), w_n, named))
    return out


def _quantity_cell(ctx: Context, grid, r: int, c: int, label: str, seen: list[str]):
    where = Where(grid.title, cell_name(r, c), label)
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return None
    if blank(raw):
        ctx.problem(where, "", f"{label} missing: type a metric or parameter name")
        return None
    text = str(shown(raw)).strip()
    name = next((q for q in _QUANTITIES if q.casefold() == text.casefold()), None)
    if name is None:
        close = difflib.get_close_matches(text, _QUANTITIES, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        ctx.problem(
            where,
            text,
            f"is not a metric or numeric parameter{hint}; see the list of "
            "quantities on the Exploration setup sheet",
        )
        return None
    if label == "objective" and name in seen:
        ctx.problem(where, text, "is listed twice; keep one row")
        return None
    return name


_QUANTITIES = [m for m, u in METRIC_UNITS.items() if u != "bool"] + [
    p.name for p in PARAMETERS if p.numeric
]


def _constraints(
    ctx: Context,
    targets: Mapping,
    base: str = "",
    sheet_targets: Mapping | None = None,
) -> tuple[list[Constraint], list[LimitSource]]:
    """The constraints, and where each limit came from (a blank: the Targets;
    the base variant's own target, when it differs from ``sheet_targets``, the
    Targets sheet's values, is said to be its own)."""
    found = ctx.book.locate(CONSTRAINTS)
    if found is None:
        return [], []
    grid, r0, c0 = found
    out, sources = [], []
    for r in filled_rows(grid, r0, c0, 3):
        name = _quantity_cell(ctx, grid, r, c0, "constraint", [])
        w_op = Where(grid.title, cell_name(r, c0 + 1), "operator")
        op = choice_cell(ctx, grid, r, c0 + 1, w_op, _OPERATORS, "an operator")
        w_lim = Where(grid.title, cell_name(r, c0 + 2), f"{name or ''} limit")
        follows = target_limit(name, op, targets) if name and op else None
        typed = not _blank_cell(ctx, grid, r, c0 + 2, w_lim)
        if typed:
            limit = number_cell(ctx, grid, r, c0 + 2, w_lim, "limit")
        elif follows is not None:
            limit = follows[1]
        else:
            if name and op:
                takes = ", ".join(f"{q} {o}" for q, (o, _) in TARGET_LIMITS.items())
                ctx.problem(
                    w_lim,
                    "",
                    f"is blank and no target gives {name} {op}: type a limit (a blank "
                    f"limit takes the Targets value only for {takes})",
                )
            continue
        if name and op and limit is not None:
            c = Constraint(name, op, limit)
            out.append(c)
            target, value = follows or ("", math.nan)
            label = c.label
            if (
                not typed
                and target
                and sheet_targets is not None
                and target in sheet_targets
                and float(sheet_targets[target]) != float(value)
            ):
                label += f" ({base}'s own)"
            sources.append(LimitSource(label, target, value, typed, limit))
    return out, sources


def _blank_cell(ctx: Context, grid, r: int, c: int, where) -> bool:
    """True when the cell is blank (a formula is read by number_cell)."""
    try:
        return blank(ctx.raw(grid, r, c, where))
    except CellError:
        return False


def _objectives(ctx: Context) -> list[Objective]:
    block = OBJECTIVES
    found = ctx.book.locate(block)
    if found is None:
        ctx.problem(
            Where(block.sheet, "", "objective"),
            "",
            "no objectives table: restore it from the template (xlmodel init)",
        )
        return []
    grid, r0, c0 = found
    out: list[Objective] = []
    before = len(ctx.problems)
    for r in filled_rows(grid, r0, c0, 2):
        name = _quantity_cell(ctx, grid, r, c0, "objective", [o.quantity for o in out])
        w = Where(grid.title, cell_name(r, c0 + 1), f"{name or 'objective'} sense")
        sense = choice_cell(ctx, grid, r, c0 + 1, w, _SENSES, "a sense")
        if name and sense:
            out.append(Objective(name, sense))
    if not out and len(ctx.problems) == before:
        ctx.problem(
            Where(grid.title, cell_name(r0 + 1, c0), "objective"),
            "",
            "no objectives: add at least one row (a metric and max or min), or clear "
            "the ranges to skip the exploration",
        )
    return out
