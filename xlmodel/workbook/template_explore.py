"""The Exploration setup and Uncertainty setup input sheets of the template.

Layout (blocks, defined names) lives with the other blocks in
:mod:`xlmodel.workbook.template`; this module holds the settings of the two sheets
(described with the schema's :class:`~xlmodel.schema.Parameter` so the reader
checks them the same way), the preloaded example, and the sheet writers. The
example explores six parameters around Baseline on a 21,504-point grid under the
power budget, the reticle limit and Tj max, and puts spreads on the power and
thermal coefficients.
"""

from __future__ import annotations

from collections.abc import Mapping

from xlsxwriter.worksheet import Worksheet

from ..engine.model import METRICS
from ..schema import BY_NAME, PARAMETERS, Parameter
from ..studies.explore import METHODS, OPERATORS, SENSES, quantity_unit
from ..studies.uncertainty import DISTRIBUTIONS
from .template import (
    BLOCKS,
    SPARE_ROWS,
    VALIDATED_VARIANT_COLUMNS,
    VARIANT_LABEL_COLUMNS,
    _Formats,
    _header,
    _ref,
    _validation,
    _write_title,
    _write_value,
    variant_rows,
)

EXPLORATION_SHEET = "Exploration setup"
UNCERTAINTY_SHEET = "Uncertainty setup"

#: Most grid points of one range, and most points of one exploration.
MAX_GRID_POINTS = 10_000
MAX_SAMPLES = 1_000_000_000
MAX_SEED = 2**31 - 1

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
UNCERTAINTY_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "samples",
        "uncertainty",
        "Uncertainty",
        "draws",
        10_000,
        2,
        1_000_000,
        "Monte Carlo draws per variant",
        kind="int",
    ),
    Parameter(
        "seed",
        "uncertainty",
        "Uncertainty",
        "",
        1,
        0,
        MAX_SEED,
        "Seed of the draws: the same seed, the same percentiles",
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
SPREAD_PERCENT = Parameter(
    "spread_percent",
    "uncertainty",
    "Uncertainty",
    "%",
    10,
    0,
    100,
    "uniform: +/- this percent; normal: one standard deviation, in percent",
)

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
#: (quantity, operator, limit): power budget, reticle limit, junction temperature
EXAMPLE_CONSTRAINTS: tuple[tuple[str, str, float], ...] = (
    ("power_total_w", "<=", 500),
    ("chiplet_area_mm2", "<=", 858),
    ("junction_temp_c", "<=", 105),
)
EXAMPLE_OBJECTIVES: tuple[tuple[str, str], ...] = (
    ("target_density_tflops_per_mm2", "max"),
    ("power_total_w", "min"),
)
#: parameter -> (distribution, spread %)
EXAMPLE_SPREADS: dict[str, tuple[str, float]] = {
    "sm_power_w": ("normal", 10),
    "static_power_w_per_chiplet": ("uniform", 30),
    "hbm_power_w_per_stack": ("uniform", 15),
    "clock_mhz": ("normal", 3),
    "theta_ja_c_per_w": ("uniform", 10),
}


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


def write_exploration(ws: Worksheet, fmt: _Formats, variants: Mapping) -> None:
    """Fill the Exploration setup sheet: settings, ranges, constraints, objectives.

    Parameters
    ----------
    ws : xlsxwriter.worksheet.Worksheet
    fmt : template._Formats
    variants : mapping
        The template's variants (the base variant defaults to Baseline or the first).
    """
    settings, ranges = BLOCKS["exploration"], BLOCKS["ranges"]
    constraints, objectives = BLOCKS["constraints"], BLOCKS["objectives"]
    _write_title(
        ws,
        fmt,
        "Design-space exploration",
        "Every point of the ranges is evaluated around the base variant; the "
        "feasible Pareto front and the top designs go to the Exploration result "
        "sheet. Clear the ranges to switch it off.",
    )
    for block in (settings, ranges, constraints, objectives):
        _header(ws, fmt, block)
    keys, quantity_list = _lists(ws, fmt)

    c, r0 = settings.col, settings.row + 1
    var = BLOCKS["variants"]
    first = var.col + VARIANT_LABEL_COLUMNS
    names = "=" + _ref(
        var.sheet, var.row, first, var.row, first + VALIDATED_VARIANT_COLUMNS - 1
    )
    for i, p in enumerate(EXPLORATION_SETTINGS):
        r = r0 + i
        ws.write_string(r, c, p.name, fmt.key)
        value = p.default
        if p.name == "base_variant" and value not in variants:
            value = next(iter(variants), value)
        _write_value(ws, r, c + 1, value, p, fmt)
        ws.write_string(r, c + 2, "" if p.unit == "text" else p.unit)
        ws.write_string(r, c + 3, p.description)
        opts = _validation(p)
        if p.name == "base_variant":
            opts.update(validate="list", source=names, error_type="warning")
        ws.data_validation(r, c + 1, r, c + 1, opts)

    c, r0 = ranges.col, ranges.row + 1
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
        _pick(
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
    ws.data_validation(r0, c + 3, last, c + 3, _validation(GRID_POINTS))

    c, r0 = constraints.col, constraints.row + 1
    for i, (name, op, limit) in enumerate(EXAMPLE_CONSTRAINTS):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, op, fmt.input_text)
        ws.write_number(r0 + i, c + 2, limit, fmt.input_float)
        ws.write_string(r0 + i, c + 3, _unit(name))
    last = r0 + len(EXAMPLE_CONSTRAINTS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        _pick(
            quantity_list,
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
            "input_message": "The limit, in the quantity's unit.",
        },
    )

    c, r0 = objectives.col, objectives.row + 1
    for i, (name, sense) in enumerate(EXAMPLE_OBJECTIVES):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, sense, fmt.input_text)
        ws.write_string(r0 + i, c + 2, _unit(name))
    last = r0 + len(EXAMPLE_OBJECTIVES) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        _pick(
            quantity_list,
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
    widths = {
        0: 19, 1: 12, 2: 9, 3: 58, 4: 2, 5: 28, 6: 9, 7: 9, 8: 11, 9: 10, 10: 2,
        11: 30, 12: 9, 13: 9, 14: 11, 15: 2, 16: 30, 17: 8, 18: 11, 19: 2, 20: 30,
        21: 12, 22: 60,
    }  # fmt: skip
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.freeze_panes(settings.row + 1, 0)
    # a printout holds the inputs; the list of quantities is for the screen
    ws.print_area(0, 0, settings.row + len(EXAMPLE_RANGES) + 12, objectives.col + 2)


def _lists(ws: Worksheet, fmt: _Formats) -> tuple[str, str]:
    # The reference list of quantities at the right; returns the sources of the
    # parameter and quantity drop-downs.
    c, r = BLOCKS["objectives"].col + 4, BLOCKS["objectives"].row
    for k, label in enumerate(("quantity you may name", "unit", "description")):
        ws.write_string(r, c + k, label, fmt.header)
    listed = quantities()
    for i, (name, unit, text) in enumerate(listed):
        ws.write_string(r + 1 + i, c, name, fmt.key)
        ws.write_string(r + 1 + i, c + 1, unit)
        ws.write_string(r + 1 + i, c + 2, text)
    names = "=" + _ref(EXPLORATION_SHEET, r + 1, c, r + len(listed))
    return _variant_keys(), names


def _variant_keys() -> str:
    var, rows = BLOCKS["variants"], variant_rows()
    return "=" + _ref(var.sheet, min(rows.values()), var.col, max(rows.values()))


def _pick(source: str, title: str, message: str) -> dict:
    return {
        "validate": "list",
        "source": source,
        "error_type": "warning",
        "input_title": title,
        "input_message": message,
    }


def _unit(name: str) -> str:
    return quantity_unit(name)


def write_uncertainty(ws: Worksheet, fmt: _Formats) -> None:
    """Fill the Uncertainty setup sheet: Monte Carlo settings and spreads."""
    settings, spreads = BLOCKS["uncertainty"], BLOCKS["spreads"]
    _write_title(
        ws,
        fmt,
        "Uncertainty: spreads of the inputs",
        "Each listed parameter varies around every variant's value; compute reports "
        "P10/P50/P90 and the probability of meeting each target. Clear the spreads "
        "to switch it off.",
    )
    for block in (settings, spreads):
        _header(ws, fmt, block)
    c, r0 = settings.col, settings.row + 1
    for i, p in enumerate(UNCERTAINTY_SETTINGS):
        r = r0 + i
        ws.write_string(r, c, p.name, fmt.key)
        _write_value(ws, r, c + 1, p.default, p, fmt)
        ws.write_string(r, c + 2, p.unit)
        ws.write_string(r, c + 3, p.description)
        ws.data_validation(r, c + 1, r, c + 1, _validation(p))

    c, r0 = spreads.col, spreads.row + 1
    for i, (name, (dist, pct)) in enumerate(EXAMPLE_SPREADS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, dist, fmt.input_text)
        ws.write_number(r0 + i, c + 2, pct, fmt.input_float)
        ws.write_string(r0 + i, c + 3, BY_NAME[name].unit)
    last = r0 + len(EXAMPLE_SPREADS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        _pick(
            _variant_keys(),
            "Uncertain parameter",
            "A numeric parameter (a key in column A of Variants, or a coefficient). "
            "Its distribution and spread go to the right.",
        ),
    )
    ws.data_validation(
        r0,
        c + 1,
        last,
        c + 1,
        {
            "validate": "list",
            "source": list(DISTRIBUTIONS),
            "input_title": "Distribution",
            "input_message": "uniform: value x (1 + U(-s, s)); normal: value x "
            "(1 + N(0, s)), s = spread / 100. Clipped to the valid range.",
        },
    )
    opts = _validation(SPREAD_PERCENT)
    opts.update(criteria="between", minimum=0, maximum=99.999)
    ws.data_validation(r0, c + 2, last, c + 2, opts)
    widths = ((0, 20), (1, 12), (2, 9), (3, 50), (4, 2), (5, 30), (6, 13), (7, 10))
    for col, width in (*widths, (8, 12)):
        ws.set_column(col, col, width)
    ws.freeze_panes(settings.row + 1, 0)
