"""The Serving setup sheet: LLM serving scenarios, the models served, the merit.

Three blocks: the scenarios (name, input and output tokens, batch or blank for
the largest that fits, weight/compute, KV-cache and activation precision, tensor
parallel degree; ``xlmodel_scenarios``), preloaded with
:data:`~xlmodel.studies.inference.DEFAULT_SCENARIOS`; right of them the settings
(the Summary's figure of merit: a model and a scenario; ``xlmodel_serving``)
and the models to serve (blank: every model on the Models sheet;
``xlmodel_served_models``). The reader returns a
:class:`~xlmodel.studies.run.Serving`, or None when the scenarios are blank or
the sheet is missing (no Inference sheet, silently).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ...engine.inference import BYTES_PER_ELEMENT
from ...engine.table import Table
from ...errors import listing
from ...lazy import pd
from ...schema import Parameter
from ...studies import inference
from ...studies.inference import SCENARIO_FIELDS, load_models
from ...studies.study import Serving
from ..grid import Grid, cell_name
from ..values import CellError, blank, shown
from . import models as models_sheet
from .context import INVALID, Context, Where
from .formats import Formats, header, pick, ref, validation, write_title
from .layout import SPARE_ROWS, Block
from .setup import filled_rows, read_settings

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

SERVING_SHEET = "Serving setup"
SCENARIOS = Block(
    "scenarios",
    "xlmodel_scenarios",
    SERVING_SHEET,
    2,
    0,
    ("scenario", *SCENARIO_FIELDS),
)
SERVED = Block(
    "served_models",
    "xlmodel_served_models",
    SERVING_SHEET,
    2,
    9,
    ("model to serve",),
)
SETTINGS = Block(
    "serving",
    "xlmodel_serving",
    SERVING_SHEET,
    2,
    11,
    ("serving setting", "value", "description"),
)
BLOCKS = (SCENARIOS, SERVED, SETTINGS)

#: Most rows of the inference table (variants x models x scenarios).
MAX_ROWS = 100_000

_PRECISIONS = tuple(BYTES_PER_ELEMENT)


def _count(name, unit, default, high, text) -> Parameter:
    return Parameter(
        name, "serving", SERVING_SHEET, unit, default, 1, high, text, kind="int"
    )


def _precision(name, text) -> Parameter:
    return Parameter(
        name,
        "serving",
        SERVING_SHEET,
        "",
        "FP8",
        0,
        0,
        text,
        kind="choice",
        choices=_PRECISIONS,
    )


#: The scenario columns after the name, checked as inputs.
FIELDS: tuple[Parameter, ...] = (
    _count("input_tokens", "tokens", 128, 10_000_000, "Prompt tokens of every request"),
    _count("output_tokens", "tokens", 2048, 10_000_000, "Tokens generated per request"),
    _count(
        "batch",
        "sequences",
        1,
        1_000_000,
        "Requests prefilled and decoded together; blank: the largest batch whose "
        "weights + KV cache fit in HBM (up to inference_max_batch)",
    ),
    _precision("precision", "Weights and GEMMs"),
    _precision("kv_precision", "KV cache; blank: as precision"),
    _precision(
        "activation_precision",
        "Activations, embeddings and LM head; blank: BF16 (FP32 with FP32 weights)",
    ),
    _count(
        "tp",
        "packages",
        1,
        1024,
        "Packages serving one model together (tensor parallel)",
    ),
)
_FIELD = {p.name: p for p in FIELDS}
#: Blank means something documented (not a default with a warning).
_OPTIONAL = ("batch", "kv_precision", "activation_precision")

MERIT_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "summary_model",
        "serving",
        SERVING_SHEET,
        "text",
        "",
        0,
        0,
        "Model of the Summary's tokens/s figure of merit and of the Inference "
        "sheet's latency-throughput chart (blank: the first model served)",
        kind="text",
    ),
    Parameter(
        "summary_scenario",
        "serving",
        SERVING_SHEET,
        "text",
        "",
        0,
        0,
        "Scenario of the Summary's tokens/s figure of merit and of the Inference "
        "sheet's charts (blank: the first scenario)",
        kind="text",
    ),
)


_MERIT = {p.name: p for p in MERIT_SETTINGS}
#: The template's figure of merit.
EXAMPLE_MERIT = {"summary_model": "llama-3.1-70b", "summary_scenario": "chat"}


# --- writing ----------------------------------------------------------------------


def scenario_names_source() -> str:
    """Drop-down source listing the scenario names (spare rows too)."""
    r0 = SCENARIOS.row + 1
    last = r0 + len(inference.DEFAULT_SCENARIOS) + SPARE_ROWS - 1
    return "=" + ref(SERVING_SHEET, r0, SCENARIOS.col, last)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Serving setup sheet: scenarios, the figure of merit, models served."""
    write_title(
        ws,
        fmt,
        "Serving setup: LLM inference scenarios",
        "Every variant serves every model below in every scenario (Inference sheet): "
        "batch requests of input tokens prefilled together, then output tokens "
        "decoded together. List models to serve (blank: every model on the Models "
        "sheet). Clear the scenarios to switch it off.",
    )
    for block in BLOCKS:
        header(ws, fmt, block)
    _write_scenarios(ws, fmt)
    c, r0 = SETTINGS.col, SETTINGS.row + 1
    sources = {
        "summary_model": models_sheet.names_source(),
        "summary_scenario": scenario_names_source(),
    }
    for i, p in enumerate(MERIT_SETTINGS):
        r = r0 + i
        ws.write_string(r, c, p.name, fmt.key)
        ws.write_string(r, c + 1, EXAMPLE_MERIT[p.name], fmt.input_text)
        ws.write_string(r, c + 2, p.description)
        ws.data_validation(
            r, c + 1, r, c + 1, pick(sources[p.name], p.name, p.description)
        )
    c, r0 = SERVED.col, SERVED.row + 1
    ws.data_validation(
        r0,
        c,
        r0 + SPARE_ROWS - 1,
        c,
        pick(
            models_sheet.names_source(),
            "Model to serve",
            "A model name of the Models sheet, one per row. Leave the list blank to "
            "serve every model there.",
        ),
    )
    for col, width in ((0, 16), (8, 3), (9, 22), (10, 3), (11, 18), (12, 16), (13, 70)):
        ws.set_column(col, col, width)
    ws.freeze_panes(SCENARIOS.row + 1, 1)


def _write_scenarios(ws: Worksheet, fmt: Formats) -> None:
    r0, c0 = SCENARIOS.row + 1, SCENARIOS.col
    last = r0 + len(inference.DEFAULT_SCENARIOS) + SPARE_ROWS - 1
    for i, (name, row) in enumerate(inference.DEFAULT_SCENARIOS.iterrows()):
        ws.write_string(r0 + i, c0, str(name), fmt.input_text)
        for j, p in enumerate(FIELDS):
            v, c = row[p.name], c0 + 1 + j
            if v is None or (not isinstance(v, str) and math.isnan(v)):
                ws.write_blank(r0 + i, c, None, fmt.input(p))
            elif p.numeric:
                ws.write_number(r0 + i, c, float(v), fmt.input(p))
            else:
                ws.write_string(r0 + i, c, str(v), fmt.input(p))
    ws.data_validation(
        r0,
        c0,
        last,
        c0,
        {
            "validate": "length",
            "criteria": "between",
            "minimum": 1,
            "maximum": 255,
            "input_title": "Scenario name",
            "input_message": "A unique scenario name; its lengths, batch, precisions "
            "and tensor-parallel degree go to the right.",
        },
    )
    for j, p in enumerate(FIELDS):
        ws.data_validation(r0, c0 + 1 + j, last, c0 + 1 + j, validation(p))
        ws.set_column(c0 + 1 + j, c0 + 1 + j, max(len(p.name) + 2, 10))


# --- reading ----------------------------------------------------------------------


def read(ctx: Context, models: pd.DataFrame | None, n_variants: int) -> Serving | None:
    """The serving study a workbook asks for; None: none (blank scenarios, no sheet).

    ``models`` is the Models sheet's table (None: no Models sheet, then the shipped
    models are served, with a warning; ``INVALID``: the Models sheet has problems,
    then only the scenarios are checked); ``n_variants`` bounds the table's rows.
    """
    found = ctx.book.locate(SCENARIOS)
    if found is None:
        return None
    before = len(ctx.problems)
    scenarios = _read_scenarios(ctx, *found)
    if scenarios is None or len(ctx.problems) > before or models is INVALID:
        return None
    if models is None:
        ctx.warn(
            f"{models_sheet.BLOCK.sheet}: sheet not found (nor the defined name "
            f"{models_sheet.BLOCK.defined_name}); serving the shipped models"
        )
        models = load_models()
    if models.empty:
        ctx.warn(
            f"{models_sheet.BLOCK.sheet}: no models; the scenarios of "
            f"{found[0].title} are not served (no Inference sheet)"
        )
        return None
    served = _read_served(ctx, models)
    merit = _read_merit(ctx, models, served, scenarios)
    if len(ctx.problems) > before:
        return None
    grid, r0, c0 = found
    n_served = len(served) or len(models)
    rows = n_variants * n_served * len(scenarios)
    if rows > MAX_ROWS:
        ctx.problem(
            Where(grid.title, cell_name(r0, c0), "scenarios"),
            rows,
            f"rows of the inference table ({n_variants:,} variants x {n_served:,} "
            f"models x {len(scenarios):,} scenarios), more than {MAX_ROWS:,}: serve "
            "fewer models or scenarios",
        )
        return None
    return Serving(models, scenarios, served, *merit)


def _read_scenarios(ctx: Context, grid: Grid, r0: int, c0: int):
    # The scenario table (index: name), or None when blank.
    sheet = grid.title
    width = len(SCENARIOS.header)
    rows, seen = [], {}
    for r in filled_rows(grid, r0, c0, width):
        name_where = Where(sheet, cell_name(r, c0), "scenario")
        name = _text(ctx, grid, r, c0, name_where)
        if not name:
            ctx.problem(
                name_where, "", "scenario name missing: type a name or clear the row"
            )
            continue
        if name.casefold() in seen:
            ctx.problem(
                name_where,
                name,
                f"is a duplicate scenario (also {seen[name.casefold()]})",
            )
            continue
        seen[name.casefold()] = f"{sheet}!{name_where.cell}"
        row = {"name": name}
        for j, p in enumerate(FIELDS):
            c = c0 + 1 + j
            where = Where(sheet, cell_name(r, c), f"{p.name} ({name})")
            v = ctx.value(p, grid, r, c, where)
            if v is INVALID:
                continue
            if v is None and p.name in _OPTIONAL:
                v = np.nan if p.numeric else None
            elif v is None and p.name == "tp":
                ctx.warn(f"{where}: blank; using 1 (one package)")
                v = 1
            elif v is None:
                ctx.problem(where, "", f"is blank: type {_expected(p)}")
                continue
            row[p.name] = v
        rows.append(row)
    if not rows:
        return None
    return Table.from_rows(rows, ["name", *SCENARIO_FIELDS], key="name")


def scenarios_frame(table):
    """The scenario table as the DataFrame the studies use (index unnamed; token
    counts, batch and tp as floats); a DataFrame is returned as it is."""
    if isinstance(table, pd.DataFrame):
        return table
    frame = table.to_frame()
    frame.index.name = None
    for f in ("input_tokens", "output_tokens", "batch", "tp"):
        frame[f] = frame[f].astype(float)
    return frame


def to_frames(serving: Serving | None) -> Serving | None:
    """``serving`` with its model and scenario tables as DataFrames."""
    if serving is None:
        return None
    return replace(
        serving,
        models=models_sheet.to_frame(serving.models),
        scenarios=scenarios_frame(serving.scenarios),
    )


def _expected(p: Parameter) -> str:
    if p.kind == "choice":
        return "one of " + ", ".join(p.choices)
    return f"a {p.expectation}"


def _read_served(ctx: Context, models: pd.DataFrame) -> list[str]:
    # Models listed to serve, in order (empty: every model).
    found = ctx.book.locate(SERVED)
    if found is None:
        return []
    grid, r0, c0 = found
    names = {str(m).casefold(): str(m) for m in models.index}
    out: list[str] = []
    for r in filled_rows(grid, r0, c0, 1):
        where = Where(grid.title, cell_name(r, c0), "model to serve")
        text = _text(ctx, grid, r, c0, where)
        match = names.get(text.casefold())
        if match is None:
            ctx.problem(
                where,
                text,
                f"is not a model of the Models sheet: {_listed(names.values())}",
            )
        elif match in out:
            ctx.problem(where, text, "is listed twice; keep one row")
        else:
            out.append(match)
    return out


def _read_merit(ctx: Context, models, served: list[str], scenarios) -> tuple:
    # (model, scenario) of the Summary's figure of merit; None where blank.
    settings = read_settings(ctx, SETTINGS, _MERIT)
    serving = served or [str(m) for m in models.index]
    out = []
    for key, choices, what in (
        ("summary_model", serving, "a model served"),
        ("summary_scenario", [str(s) for s in scenarios.index], "a scenario"),
    ):
        text = str(settings.values.get(key) or "").strip()
        if not text:
            out.append(None)
            continue
        match = next((c for c in choices if c.casefold() == text.casefold()), None)
        if match is None:
            where = settings.where.get(key) or Where(SERVING_SHEET, "", key)
            ctx.problem(where, text, f"is not {what}: {_listed(choices)}")
        out.append(match)
    return tuple(out)


def _listed(names) -> str:
    names = list(names)
    return f"expected one of {listing(names)}"


def _text(ctx: Context, grid: Grid, r: int, c: int, where: Where) -> str:
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return ""
    return "" if blank(raw) else str(shown(raw)).strip()
