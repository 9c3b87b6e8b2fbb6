"""The Uncertainty setup sheet: Monte Carlo settings and the spreads of inputs.

Four blocks side by side: the settings (draws per variant, seed;
``xlmodel_uncertainty``), the spreads (parameter, distribution, spread %;
``xlmodel_spreads``), the target limits the probabilities are judged at
(``xlmodel_uncertainty_limits``: blank = the Targets value, which the template
leaves; a number typed there overrides it for the Monte Carlo) and the outputs
summarised by percentiles (``xlmodel_uncertainty_outputs``: engine metrics;
blank = the default four), with the list of metrics it may name at the right.
The template preloads spreads on the power and thermal coefficients, the clock,
the wafer price and the defect density (the usual cost risks), and the default
outputs with the unit cost. The reader returns an
:class:`~xlmodel.studies.uncertainty.Uncertainty`, or None when the spreads are
blank (no Monte Carlo, silently).
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ...engine.model import METRIC_UNITS, METRICS
from ...schema import BY_NAME, Parameter
from ...studies.explore import Constraint
from ...studies.limits import TARGET_LIMITS, LimitSource
from ...studies.uncertainty import DISTRIBUTIONS, QUANTITIES, Spread, Uncertainty
from ..grid import cell_name
from ..values import CellError, shown
from . import variants
from .context import INVALID, Context, Where
from .formats import (
    Formats,
    header,
    pick,
    ref,
    validation,
    write_title,
    write_value,
)
from .layout import SPARE_ROWS, Block
from .setup import (
    MAX_SAMPLES,
    MAX_SEED,
    choice_cell,
    filled_rows,
    parameter_cell,
    read_settings,
    setting_rows,
)

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

SETTINGS = Block(
    "uncertainty",
    "xlmodel_uncertainty",
    "Uncertainty setup",
    2,
    0,
    ("uncertainty setting", "value", "unit", "description"),
)
SPREADS = Block(
    "spreads",
    "xlmodel_spreads",
    "Uncertainty setup",
    2,
    5,
    ("uncertain parameter", "distribution", "spread %", "unit"),
)
LIMITS = Block(
    "uncertainty_limits",
    "xlmodel_uncertainty_limits",
    "Uncertainty setup",
    2,
    10,
    ("judged at target", "limit", "unit", "description"),
)
OUTPUTS = Block(
    "uncertainty_outputs",
    "xlmodel_uncertainty_outputs",
    "Uncertainty setup",
    2,
    15,
    ("Monte Carlo output", "unit", "description"),
)
BLOCKS = (SETTINGS, SPREADS, LIMITS, OUTPUTS)
#: Column of the list of metrics an output may name.
METRIC_LIST_COL = OUTPUTS.col + 4

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
_UNCERTAINTY = {p.name: p for p in UNCERTAINTY_SETTINGS}

# --- the preloaded example --------------------------------------------------------

#: parameter -> (distribution, spread %)
EXAMPLE_SPREADS: dict[str, tuple[str, float]] = {
    "sm_power_w": ("normal", 10),
    "static_power_w_per_chiplet": ("uniform", 30),
    "hbm_power_w_per_stack": ("uniform", 15),
    "clock_mhz": ("normal", 3),
    "theta_ja_c_per_w": ("uniform", 10),
    # cost risks: drawn after the others, so the figures above keep their draws
    "wafer_price_usd": ("uniform", 15),
    "defect_density_per_cm2": ("uniform", 30),
}
#: The outputs the template lists: the default quantities and the unit cost.
EXAMPLE_OUTPUTS: tuple[str, ...] = (*QUANTITIES, "unit_cost_usd")


def output_metrics() -> list[tuple[str, str, str]]:
    """What an output may name: every numeric engine metric (name, unit, text)."""
    return [(m.name, m.unit, m.description) for m in METRICS if m.unit != "bool"]


# --- writing ----------------------------------------------------------------------


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Uncertainty setup sheet: Monte Carlo settings and spreads."""
    settings, spreads = SETTINGS, SPREADS
    write_title(
        ws,
        fmt,
        "Uncertainty: spreads of the inputs",
        "Each listed parameter varies around every variant's value; compute reports "
        "P10/P50/P90 of each output listed at the right (unit cost among them) "
        "and the probability of meeting each target (at the Targets values, or at "
        "a limit typed at the right). Clear the spreads to switch it off.",
    )
    for block in (settings, spreads):
        header(ws, fmt, block)
    c, r0 = settings.col, settings.row + 1
    for i, p in enumerate(UNCERTAINTY_SETTINGS):
        r = r0 + i
        ws.write_string(r, c, p.name, fmt.key)
        write_value(ws, r, c + 1, p.default, p, fmt)
        ws.write_string(r, c + 2, p.unit)
        ws.write_string(r, c + 3, p.description)
        ws.data_validation(r, c + 1, r, c + 1, validation(p))

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
        pick(
            variants.keys_source(),
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
    opts = validation(SPREAD_PERCENT)
    opts.update(criteria="between", minimum=0, maximum=99.999)
    ws.data_validation(r0, c + 2, last, c + 2, opts)
    _write_limits(ws, fmt)
    _write_outputs(ws, fmt)
    widths = ((0, 20), (1, 12), (2, 9), (3, 50), (4, 2), (5, 30), (6, 13), (7, 10))
    more = ((8, 12), (9, 2), (10, 30), (11, 9), (12, 11), (13, 44), (14, 2))
    outs = ((15, 32), (16, 12), (17, 50), (18, 2), (19, 36), (20, 12), (21, 60))
    for col, width in (*widths, *more, *outs):
        ws.set_column(col, col, width)
    ws.freeze_panes(settings.row + 1, 0)
    # a printout holds the inputs; the list of metrics is for the screen
    rows = max(len(EXAMPLE_SPREADS), len(EXAMPLE_OUTPUTS)) + 8
    ws.print_area(0, 0, SPREADS.row + rows, OUTPUTS.col + 2)


def _write_limits(ws: Worksheet, fmt: Formats) -> None:
    """The target limits, blank: the probabilities follow Targets."""
    header(ws, fmt, LIMITS)
    c, r0 = LIMITS.col, LIMITS.row + 1
    for i, (quantity, (op, target)) in enumerate(TARGET_LIMITS.items()):
        p = BY_NAME[target]
        ws.write_string(r0 + i, c, target, fmt.key)
        ws.write_blank(r0 + i, c + 1, None, fmt.input(p))
        ws.write_string(r0 + i, c + 2, p.unit)
        ws.write_string(
            r0 + i,
            c + 3,
            f"P({quantity} {op} limit); blank: the Targets value",
        )
        opts = validation(p)
        opts["input_message"] = (
            "Blank: the Targets value. A number typed here replaces it for the "
            "probabilities of the Monte Carlo (every variant)."
        )
        ws.data_validation(r0 + i, c + 1, r0 + i, c + 1, opts)


def _write_outputs(ws: Worksheet, fmt: Formats) -> None:
    """The outputs (default quantities and unit cost), the list they may name."""
    header(ws, fmt, OUTPUTS)
    c, r = METRIC_LIST_COL, OUTPUTS.row
    for k, label in enumerate(("metric an output may name", "unit", "description")):
        ws.write_string(r, c + k, label, fmt.header)
    listed = output_metrics()
    for i, (name, unit, text) in enumerate(listed):
        ws.write_string(r + 1 + i, c, name, fmt.key)
        ws.write_string(r + 1 + i, c + 1, unit)
        ws.write_string(r + 1 + i, c + 2, text)
    source = "=" + ref(OUTPUTS.sheet, r + 1, c, r + len(listed))
    c, r0 = OUTPUTS.col, OUTPUTS.row + 1
    for i, name in enumerate(EXAMPLE_OUTPUTS):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, METRIC_UNITS[name])
        ws.write_string(r0 + i, c + 2, _description(name))
    last = r0 + len(EXAMPLE_OUTPUTS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        pick(
            source,
            "Monte Carlo output",
            "An engine metric (list at the right) summarised by P10/P50/P90 on the "
            "Uncertainty sheet. Blank list: the default four.",
        ),
    )


def _description(name: str) -> str:
    return next(text for n, _, text in output_metrics() if n == name)


# --- reading ----------------------------------------------------------------------


def read(
    ctx: Context,
    n_variants: int,
    targets: dict | None = None,
    own: dict[str, tuple[float, float]] | None = None,
) -> Uncertainty | None:
    """The Monte Carlo a workbook asks for; None: none (blank spreads, no sheet).

    ``n_variants`` is the number of variants (the draws are per variant);
    ``targets`` the Targets sheet's values (what a blank limit follows);
    ``own`` the targets that differ between the variants (a row of their name
    on Variants), with their lowest and highest value: a blank limit follows
    each variant's own, and says so.
    """
    found = ctx.book.locate(SPREADS)
    if found is None:
        return None
    grid, r0, c0 = found
    before = len(ctx.problems)
    spreads: list[Spread] = []
    seen: list[str] = []
    for r in filled_rows(grid, r0, c0, 3):
        p = parameter_cell(ctx, grid, r, c0, "uncertain parameter", seen)
        if p is None:
            continue
        seen.append(p.name)
        w_d = Where(grid.title, cell_name(r, c0 + 1), f"{p.name} distribution")
        dist = choice_cell(
            ctx, grid, r, c0 + 1, w_d, {d: d for d in DISTRIBUTIONS}, "a distribution"
        )
        w_s = Where(grid.title, cell_name(r, c0 + 2), f"{p.name} spread %")
        pct = ctx.value(SPREAD_PERCENT, grid, r, c0 + 2, w_s)
        if pct is None:
            ctx.problem(w_s, "", "is blank: type the spread in percent, 0 to below 100")
            continue
        if pct is INVALID:
            continue
        if pct >= 100:
            ctx.problem(w_s, shown(pct), "is out of range: expected 0 to below 100")
            continue
        if dist:
            spreads.append(Spread(p.name, dist, float(pct)))
    if not spreads or len(ctx.problems) > before:
        return None
    settings = read_settings(ctx, SETTINGS, _UNCERTAINTY)
    for note in settings.notes.values():
        ctx.warn(note)
    v = settings.values
    draws = int(v["samples"]) * n_variants
    if draws > MAX_SAMPLES:
        ctx.problem(
            settings.where.get("samples") or Where(grid.title, "", "samples"),
            int(v["samples"]),
            f"draws per variant x {n_variants:,} variants = {draws:,} draws, more "
            f"than {MAX_SAMPLES:,}: use fewer draws",
        )
        return None
    limits = _limits(ctx, targets or {}, own)
    outputs = _outputs(ctx)
    if len(ctx.problems) > before:
        return None
    return Uncertainty(
        tuple(spreads),
        samples=int(v["samples"]),
        seed=int(v["seed"]),
        quantities=outputs or QUANTITIES,
        limits=limits,
    )


def _outputs(ctx: Context) -> tuple[str, ...]:
    """The outputs listed (empty: none listed or no block, the defaults)."""
    found = ctx.book.locate(OUTPUTS)
    if found is None:
        return ()
    grid, r0, c0 = found
    names = {n.casefold(): n for n, _, _ in output_metrics()}
    out: list[str] = []
    for r in filled_rows(grid, r0, c0, 1):
        where = Where(grid.title, cell_name(r, c0), "Monte Carlo output")
        try:
            raw = ctx.raw(grid, r, c0, where)
        except CellError as e:
            ctx.problem(where, e.value, e.expected)
            continue
        text = str(shown(raw)).strip()
        name = names.get(text.casefold())
        if name is None:
            close = difflib.get_close_matches(text, list(names.values()), 1, 0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            ctx.problem(
                where,
                text,
                f"is not a numeric engine metric{hint}; see the list of metrics "
                "at the right of the Uncertainty setup sheet",
            )
        elif name in out:
            ctx.problem(where, text, "is listed twice; keep one row")
        else:
            out.append(name)
    return tuple(out)


def _limits(
    ctx: Context, targets: dict, own: dict[str, tuple[float, float]] | None = None
) -> tuple[LimitSource, ...]:
    """Each target limit: typed on the sheet, or (blank, no block) from Targets."""
    known = {t: BY_NAME[t] for _, t in TARGET_LIMITS.values()}
    found = ctx.book.locate(LIMITS)
    rows: dict[str, int] = {}
    if found is not None:
        grid, r0, c0 = found
        rows = setting_rows(ctx, grid, r0, c0, known)
    out = []
    for quantity, (op, target) in TARGET_LIMITS.items():
        value = float(targets.get(target, BY_NAME[target].default))
        typed = None
        if (r := rows.get(target)) is not None:
            where = Where(grid.title, cell_name(r, c0 + 1), f"{target} limit")
            typed = ctx.value(known[target], grid, r, c0 + 1, where)
            typed = None if typed is INVALID else typed
        limit = value if typed is None else float(typed)
        label = Constraint(quantity, op, limit).label
        if typed is None and own and target in own:
            lo, hi = own[target]
            unit = BY_NAME[target].unit
            label = f"{quantity} {op} each variant's own {lo:g}-{hi:g} {unit}"
        out.append(LimitSource(label, target, value, typed is not None, limit))
    return tuple(out)
