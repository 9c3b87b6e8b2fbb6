"""The Sensitivity setup sheet: sweep base and tornado percent, sweeps, tornado list.

Three blocks side by side: the settings (``xlmodel_sensitivity``), the sweeps
(parameter, start, stop, step; ``xlmodel_sweeps``) and the tornado parameters
(``xlmodel_tornado``). The template preloads the seed's sweeps and the default
tornado parameters; the reader checks every sweep as a whole (inside the
parameter's range, at least two and at most :data:`MAX_SWEEP_POINTS` points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ...errors import listing, quoted
from ...schema import BY_NAME, SEED_SWEEPS, SEED_TORNADO_PERCENT, Parameter
from ...studies.sensitivity import DEFAULT_PARAMETERS
from ..grid import cell_name
from ..values import CellError, blank, convert, expectation, fmt_number, shown
from . import variants
from .context import INVALID, Context, Where
from .formats import Formats, header, validation, write_title, write_value
from .layout import SPARE_ROWS, Block
from .setup import parameter_cell, setting_rows

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

SETTINGS = Block(
    "sensitivity",
    "xlmodel_sensitivity",
    "Sensitivity setup",
    2,
    0,
    ("setting", "value", "unit", "description"),
)
SWEEPS = Block(
    "sweeps",
    "xlmodel_sweeps",
    "Sensitivity setup",
    2,
    5,
    ("sweep parameter", "start", "stop", "step", "unit"),
)
TORNADO = Block(
    "tornado",
    "xlmodel_tornado",
    "Sensitivity setup",
    2,
    11,
    ("tornado parameter", "unit"),
)
BLOCKS = (SETTINGS, SWEEPS, TORNADO)
#: Refuse a sweep of more points than this.
MAX_SWEEP_POINTS = 10_000

SENSITIVITY_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "sweep_base",
        "sensitivity",
        "Sensitivity",
        "text",
        "Baseline",
        0,
        0,
        "Variant (a name on Variants) the sweeps and the tornado run around",
        kind="text",
    ),
    Parameter(
        "tornado_percent",
        "sensitivity",
        "Sensitivity",
        "%",
        SEED_TORNADO_PERCENT,
        0,
        100,
        "Tornado swing: each parameter moves by -/+ this percent, 0 and 100 excluded",
    ),
)


_SENSITIVITY = {p.name: p for p in SENSITIVITY_SETTINGS}


def rows() -> dict[str, int]:
    """Zero-based row of every setting; its value in column B."""
    return {p.name: SETTINGS.row + 1 + i for i, p in enumerate(SENSITIVITY_SETTINGS)}


# --- writing ---------------------------------------------------------------------


def write(ws: Worksheet, fmt: Formats, template_variants: Mapping) -> None:
    """Fill the Sensitivity setup sheet: settings, the seed's sweeps, tornado list.

    ``template_variants`` are the template's variants (the sweep base defaults to
    Baseline or the first).
    """
    write_title(
        ws,
        fmt,
        "Sensitivity studies",
        "Sweeps: one parameter at a time from start to stop (inclusive) around the "
        "base variant. Tornado: each listed parameter moved by -/+ the percent.",
    )
    for block in BLOCKS:
        header(ws, fmt, block)
    _write_settings(ws, fmt, template_variants)
    # Lists offered in drop-downs: the keys on Variants.
    param_dv = _write_sweeps(ws, fmt, variants.keys_source())
    _write_tornado(ws, fmt, param_dv)
    widths = ((0, 18), (1, 16), (2, 8), (3, 60), (4, 3), (5, 30), (6, 9), (7, 9))
    for col, width in (*widths, (8, 9), (9, 14), (10, 3), (11, 30), (12, 14)):
        ws.set_column(col, col, width)
    ws.freeze_panes(SETTINGS.row + 1, 0)


def _write_settings(ws: Worksheet, fmt: Formats, template_variants: Mapping) -> None:
    """The sweep base (a drop-down of variant names) and the tornado percent."""
    variant_names = variants.names_source()
    c, values = SETTINGS.col, rows()
    for p in SENSITIVITY_SETTINGS:
        r = values[p.name]
        ws.write_string(r, c, p.name, fmt.key)
        ws.write_string(r, c + 2, p.unit)
        ws.write_string(r, c + 3, p.description)
        value = p.default
        if p.name == "sweep_base" and value not in template_variants:
            value = next(iter(template_variants), value)
        write_value(ws, r, c + 1, value, p, fmt)
        opts = validation(p)
        if p.name == "sweep_base":
            opts.update(validate="list", source=variant_names, error_type="warning")
        ws.data_validation(r, c + 1, r, c + 1, opts)


def _write_sweeps(ws: Worksheet, fmt: Formats, keys: str) -> dict:
    """The seed's sweeps; returns the validation of a parameter cell (``keys``)."""
    c, r0 = SWEEPS.col, SWEEPS.row + 1
    for i, (name, (start, stop, step)) in enumerate(SEED_SWEEPS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        for k, v in enumerate((start, stop, step)):
            ws.write_number(r0 + i, c + 1 + k, v, fmt.input_float)
        ws.write_string(r0 + i, c + 4, BY_NAME[name].unit)
    last = r0 + len(SEED_SWEEPS) + SPARE_ROWS - 1
    param_dv = {
        "validate": "list",
        "source": keys,
        "error_type": "warning",
        "input_title": "Sweep parameter",
        "input_message": "A numeric parameter name (a key in column A of Variants, "
        "or a coefficient). Its start, stop and step go to the right.",
    }
    ws.data_validation(r0, c, last, c, param_dv)
    for k, (label, msg) in enumerate(
        (
            ("Sweep start", "First value, in the parameter's unit."),
            ("Sweep stop", "Last value (inclusive), at least start."),
            ("Sweep step", "Step between values, above 0."),
        )
    ):
        opts = {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "input_title": label,
            "input_message": msg + " The range must lie inside the parameter's "
            "valid range; at most 10000 points.",
        }
        if k == 2:
            opts.update(criteria="greater than", value=0)
            del opts["minimum"], opts["maximum"]
        ws.data_validation(r0, c + 1 + k, last, c + 1 + k, opts)
    return param_dv


def _write_tornado(ws: Worksheet, fmt: Formats, param_dv: dict) -> None:
    """The default tornado parameters, validated like the sweep parameters."""
    c, r0 = TORNADO.col, TORNADO.row + 1
    for i, name in enumerate(DEFAULT_PARAMETERS):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, BY_NAME[name].unit)
    last = r0 + len(DEFAULT_PARAMETERS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        {
            **param_dv,
            "input_title": "Tornado parameter",
            "input_message": "A numeric parameter of the elasticity and tornado "
            "tables (a key in column A of Variants, or a coefficient).",
        },
    )


# --- reading ---------------------------------------------------------------------


def read(ctx: Context, names: list[str]):
    """(sweep base, tornado percent, sweeps, tornado parameters).

    ``names`` are the variant names read from Variants (the base must be one).
    """
    base_p, pct_p = _SENSITIVITY["sweep_base"], _SENSITIVITY["tornado_percent"]
    block = SETTINGS
    found = ctx.book.locate(block)
    base, percent, base_where = None, float(pct_p.default), None
    if found is None:
        ctx.warn(
            f"{block.sheet}: sheet not found (nor the defined name "
            f"{block.defined_name}); using the default sweeps and tornado"
        )
        sweeps = {k: tuple(map(float, v)) for k, v in SEED_SWEEPS.items()}
        tornado = list(DEFAULT_PARAMETERS)
    else:
        grid, r0, c0 = found
        at = setting_rows(ctx, grid, r0, c0, _SENSITIVITY)
        if (r := at.get("tornado_percent")) is not None:
            where = Where(grid.title, cell_name(r, c0 + 1), "tornado_percent")
            v = ctx.value(pct_p, grid, r, c0 + 1, where)
            if v is None:
                ctx.warn(f"{where}: blank; using the default {pct_p.default:g} %")
            elif v is not INVALID:
                percent = float(v)
        else:
            ctx.warn(
                f"{grid.title}: no row tornado_percent; using the default "
                f"{pct_p.default:g} %"
            )
        if (r := at.get("sweep_base")) is not None:
            base_where = Where(grid.title, cell_name(r, c0 + 1), "sweep_base")
            v = ctx.value(base_p, grid, r, c0 + 1, base_where)
            base = v if isinstance(v, str) else None
            if v is INVALID:
                base = INVALID
        sweeps = _read_sweeps(ctx)
        tornado = _read_tornado(ctx)
    return _sweep_base(ctx, base, base_where, names), percent, sweeps, tornado


def _sweep_base(ctx: Context, base, where: Where | None, names: list[str]) -> str:
    if base is INVALID:
        return ""
    if base is not None:
        match = next((n for n in names if n.casefold() == base.casefold()), None)
        if match is None:
            if names:
                listed = listing(names)
                ctx.problem(
                    where,
                    base,
                    f"is not a variant name: expected one of {listed}",
                )
            return ""
        return match
    default = str(_SENSITIVITY["sweep_base"].default)
    match = next((n for n in names if n.casefold() == default.casefold()), None)
    chosen = match or (names[0] if names else default)
    if names and (where is not None or match is None):
        place = str(where) if where else "Sensitivity setup sweep_base"
        ctx.warn(f"{place}: blank or missing; sweeping around {quoted(chosen)}")
    return chosen


def _read_sweeps(ctx: Context) -> dict[str, tuple[float, float, float]]:
    block = SWEEPS
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(f"{block.sheet}: sweeps table not found; using the default sweeps")
        return {k: tuple(map(float, v)) for k, v in SEED_SWEEPS.items()}
    grid, r0, c0 = found
    sheet = grid.title
    out: dict[str, tuple[float, float, float]] = {}
    for r in range(r0 + 1, grid.rows):
        if not any(grid.filled(r, c0 + k) for k in range(4)):
            continue
        p = parameter_cell(ctx, grid, r, c0, "sweep parameter", out)
        if p is None:
            continue
        nums = []
        for k, label in enumerate(("start", "stop", "step"), start=1):
            where = Where(sheet, cell_name(r, c0 + k), f"{p.name} sweep {label}")
            try:
                raw = ctx.raw(grid, r, c0 + k, where)
                if blank(raw):
                    raise CellError("", f"is blank: type the sweep {label}")
                got = convert(p, raw, bounded=False)
            except CellError as e:
                ctx.problem(where, e.value, e.expected)
                continue
            if got.note:
                ctx.warn(f"{where}: {got.note}")
            nums.append((got.value, where))
        if len(nums) == 3 and _check_sweep(ctx, p, nums):
            out[p.name] = tuple(float(v) for v, _ in nums)
    return out


def _check_sweep(ctx: Context, p: Parameter, nums) -> bool:
    (start, w0), (stop, w1), (step, w2) = nums
    unit = f" {p.unit}" if p.unit else ""
    bad = len(ctx.problems)
    if step <= 0:
        ctx.problem(w2, shown(step), "is not above 0: the step must be positive")
    if start > stop:
        ctx.problem(w0, shown(start), f"is above the stop {stop:g}: start <= stop")
    if start < p.minimum:
        ctx.problem(
            w0,
            shown(start),
            f"is below the valid range of {p.name}: {expectation(p)}",
        )
    if stop > p.maximum:
        ctx.problem(
            w1,
            shown(stop),
            f"is above the valid range of {p.name}: {expectation(p)}",
        )
    if p.kind == "int" and not (float(start).is_integer() and step.is_integer()):
        ctx.problem(
            w0,
            shown(start),
            f"{p.name} takes whole numbers: start and step must be whole",
        )
    if len(ctx.problems) > bad:
        return False
    span = (stop - start) / step  # may overflow to inf for a tiny step
    count = math.floor(span + 1e-9) + 1 if math.isfinite(span) else math.inf
    if count < 2:
        # Sensitivity compares the first and the last point of a sweep.
        ctx.problem(
            w1,
            shown(stop),
            f"gives a single point from {fmt_number(start)} in steps of {fmt_number(step)}"
            f"{unit}: a sweep needs two or more; make the stop at least start "
            "+ step",
        )
        return False
    if count > MAX_SWEEP_POINTS:
        ctx.problem(
            w2,
            shown(step),
            f"gives {count:,} points from {fmt_number(start)} to {fmt_number(stop)}{unit}: "
            f"at most "
            f"{MAX_SWEEP_POINTS:,} per sweep; use a larger step",
        )
        return False
    return True


def _read_tornado(ctx: Context) -> list[str]:
    block = TORNADO
    found = ctx.book.locate(block)
    if found is None:
        ctx.warn(
            f"{block.sheet}: tornado parameter list not found; using the default "
            "parameters"
        )
        return list(DEFAULT_PARAMETERS)
    grid, r0, c0 = found
    out: list[str] = []
    before = len(ctx.problems)
    for r in range(r0 + 1, grid.rows):
        if not grid.filled(r, c0):
            continue
        p = parameter_cell(ctx, grid, r, c0, "tornado parameter", out)
        if p is not None:
            out.append(p.name)
    if not out and len(ctx.problems) == before:
        ctx.problem(
            Where(grid.title, cell_name(r0 + 1, c0), "tornado parameter"),
            "",
            "no tornado parameters: list at least one numeric parameter",
        )
    return out
