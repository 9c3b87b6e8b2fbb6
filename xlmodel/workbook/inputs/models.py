"""The Models sheet: transformer definitions the Inference sheet serves.

One row per model, the columns of ``xlmodel/data/models.csv`` (name, the
definition fields of :data:`~xlmodel.engine.inference.MODEL_FIELDS`, the
published parameter count and its source; defined name ``xlmodel_models``).
The template lists the shipped models and leaves spare rows for the user's own.
The reader checks every field of every row (a whole number in its range, experts
and heads consistent), warns where the parameter count of a definition is more
than :data:`~xlmodel.studies.inference.PARAMS_TOLERANCE` from the published one,
and returns the model table; None when the sheet is missing (a workbook from
before the sheet existed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...engine.inference import MODEL_FIELDS
from ...engine.table import Table
from ...errors import quoted
from ...lazy import pd
from ...schema import Parameter
from ...studies.inference import count_mismatches, load_models
from ..grid import Grid, cell_name
from ..values import CellError, blank, fmt_number, folded, shown
from .context import INVALID, Context, Where
from .formats import Formats, header, ref, validation, write_title
from .layout import SPARE_ROWS, Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

#: Most models one Models sheet may define.
MAX_MODELS = 1_000


def _field(name, unit, low, high, text) -> Parameter:
    return Parameter(name, "model", "Models", unit, 1, low, high, text, kind="int")


#: The definition fields, checked as inputs: (name, unit, range, description).
FIELDS: tuple[Parameter, ...] = (
    _field("layers", "layers", 1, 10_000, "Transformer layers (blocks)"),
    _field("hidden_size", "", 1, 1_000_000, "Hidden (model) dimension"),
    _field("attention_heads", "heads", 1, 100_000, "Query heads per layer"),
    _field(
        "kv_heads",
        "heads",
        1,
        100_000,
        "Key/value heads per layer (grouped-query attention; = attention_heads "
        "for multi-head attention); divides attention_heads",
    ),
    _field("head_dim", "", 1, 100_000, "Dimension of one attention head"),
    _field(
        "ffn_size", "", 1, 10_000_000, "FFN intermediate size (of one expert for MoE)"
    ),
    _field(
        "ffn_matrices",
        "matrices",
        1,
        4,
        "Weight matrices per FFN: 3 for SwiGLU (gate, up, down), 2 for a GELU MLP",
    ),
    _field("vocab_size", "tokens", 1, 10_000_000, "Vocabulary size"),
    Parameter(
        "tied_embeddings",
        "model",
        "Models",
        "",
        0,
        0,
        1,
        "1: the LM head shares the embedding matrix; 0: it has its own",
        kind="int",
    ),
    _field("experts", "experts", 1, 100_000, "FFN experts per layer (1: dense)"),
    _field(
        "active_experts",
        "experts",
        1,
        100_000,
        "Experts each token is routed to (1: dense); at most experts",
    ),
)
PUBLISHED = Parameter(
    "published_params_b",
    "model",
    "Models",
    "B",
    1,
    0,
    1e6,
    "Published total parameter count, billions; the Inference sheet sets the "
    "definition's count beside it (blank: not checked)",
)
SOURCE = Parameter(
    "source",
    "model",
    "Models",
    "text",
    "",
    0,
    0,
    "Where the definition comes from (optional)",
    kind="text",
)

BLOCK = Block(
    "models",
    "xlmodel_models",
    "Models",
    2,
    0,
    ("model", *MODEL_FIELDS, PUBLISHED.name, SOURCE.name),
)


# --- writing ----------------------------------------------------------------------


def names_source() -> str:
    """Drop-down source listing the model names (column A of Models, spare rows too)."""
    r0 = BLOCK.row + 1
    last = r0 + len(load_models()) + SPARE_ROWS - 1
    return "=" + ref(BLOCK.sheet, r0, BLOCK.col, last)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Models sheet with the shipped models, every column validated."""
    block = BLOCK
    write_title(
        ws,
        fmt,
        "Models: transformer definitions",
        "One row per model (public config.json values). Add rows for your own; "
        "the Inference sheet sets each definition's parameter count beside the "
        "published one. Serving setup chooses which models run.",
    )
    header(ws, fmt, block)
    models = load_models()
    r0, c0 = block.row + 1, block.col
    last = r0 + len(models) + SPARE_ROWS - 1
    for i, (name, row) in enumerate(models.iterrows()):
        ws.write_string(r0 + i, c0, str(name), fmt.input_text)
        for j, p in enumerate(FIELDS):
            ws.write_number(r0 + i, c0 + 1 + j, float(row[p.name]), fmt.input_int)
        c = c0 + 1 + len(FIELDS)
        pub = row.get(PUBLISHED.name)
        if pd.notna(pub):
            ws.write_number(r0 + i, c, float(pub), fmt.input_float)
        else:
            ws.write_blank(r0 + i, c, None, fmt.input_float)
        ws.write_string(r0 + i, c + 1, str(row.get(SOURCE.name, "")), fmt.input_text)
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
            "input_title": "Model name",
            "input_message": "A unique model name (Serving setup and the Inference "
            "sheet use it); its definition goes to the right.",
        },
    )
    for j, p in enumerate((*FIELDS, PUBLISHED)):
        opts = validation(p)
        if p is PUBLISHED:
            opts.update(criteria="greater than", value=0)
            del opts["minimum"], opts["maximum"]
        ws.data_validation(r0, c0 + 1 + j, last, c0 + 1 + j, opts)
        ws.set_column(c0 + 1 + j, c0 + 1 + j, max(len(p.name) + 2, 9))
    c = c0 + 1 + len(FIELDS) + 1
    ws.data_validation(r0, c, last, c, validation(SOURCE))
    ws.set_column(c0, c0, 20)
    ws.set_column(c, c, 60)
    ws.freeze_panes(block.row + 1, 1)


# --- reading ----------------------------------------------------------------------


def read(ctx: Context):
    """The Models sheet as a model table (index: name; layout of models.csv).

    A :class:`~xlmodel.engine.table.Table` (:func:`to_frame` gives the
    DataFrame :func:`~xlmodel.studies.inference.load_models` would). None when
    the sheet is missing (a workbook from before it existed); an empty
    table when it lists no model; ``INVALID`` when a row or the header has a
    problem. Problems and warnings go to ``ctx``.
    """
    block = BLOCK
    found = ctx.book.locate(block)
    if found is None:
        return None
    before = len(ctx.problems)
    frame = _read(ctx, *found)
    return INVALID if len(ctx.problems) > before else frame


def _read(ctx: Context, grid: Grid, r0: int, c0: int) -> Table | None:
    sheet = grid.title
    columns = _columns(ctx, grid, r0, c0)
    missing = [n for n in ("model", *MODEL_FIELDS) if n not in columns]
    if missing:
        ctx.problem(
            Where(sheet, cell_name(r0, c0), "models"),
            ", ".join(missing),
            "required column(s) missing from the header row",
        )
        return None
    rows, cells, seen = [], [], {}
    for r in range(r0 + 1, grid.rows):
        if not any(grid.filled(r, c) for c in columns.values()):
            continue
        if len(rows) >= MAX_MODELS:
            ctx.problem(
                Where(sheet, cell_name(r, c0), "model"),
                "",
                f"more than {MAX_MODELS:,} models: serve fewer",
            )
            return None
        row = _model(ctx, grid, r, columns, seen)
        if row is not None:
            rows.append(row)
            cells.append(r)
    frame = _frame(rows)
    _check_counts(ctx, sheet, frame, cells, columns)
    return frame


def _frame(rows: list[dict]) -> Table:
    cols = [*MODEL_FIELDS, PUBLISHED.name, SOURCE.name]
    return Table.from_rows(rows, ["name", *cols], key="name")


def to_frame(table):
    """The model table as the DataFrame the studies use (a DataFrame: itself).

    Index ``name``; ``MODEL_FIELDS`` as int64, ``published_params_b`` float,
    ``source``.
    """
    if isinstance(table, pd.DataFrame):
        return table
    cols = [*MODEL_FIELDS, PUBLISHED.name, SOURCE.name]
    if table.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="name"))
    frame = table.to_frame()
    for f in MODEL_FIELDS:
        frame[f] = frame[f].astype("int64")
    frame[PUBLISHED.name] = frame[PUBLISHED.name].astype(float)
    return frame[cols]


def _columns(ctx: Context, grid: Grid, r0: int, c0: int) -> dict[str, int]:
    # Column name -> zero-based column, from the header row.
    known = set(BLOCK.header)
    columns: dict[str, int] = {}
    for c in range(c0, c0 + grid.width(r0)):
        head = folded(grid.raw(r0, c))
        if head is None:
            continue
        if head in known and head not in columns:
            columns[head] = c
        elif head not in known:
            ctx.warn(
                f"{grid.title}!{cell_name(r0, c)}: column {quoted(grid.raw(r0, c))} is not "
                "a model column; ignored"
            )
    return columns


def _model(ctx: Context, grid: Grid, r: int, columns: dict, seen: dict):
    # One model's row, or None when it has a problem (recorded).
    sheet = grid.title
    name_where = Where(sheet, cell_name(r, columns["model"]), "model")
    name = _text(ctx, grid, r, columns["model"], name_where)
    if not name:
        ctx.problem(name_where, "", "model name missing: type a name or clear the row")
        return None
    if name.casefold() in seen:
        ctx.problem(
            name_where, name, f"is a duplicate model (also {seen[name.casefold()]})"
        )
        return None
    seen[name.casefold()] = f"{sheet}!{name_where.cell}"
    row: dict[str, object] = {"name": name}
    ok = True
    for p in FIELDS:
        c = columns[p.name]
        where = Where(sheet, cell_name(r, c), f"{p.name} ({name})")
        v = ctx.value(p, grid, r, c, where)
        if v is None:
            ctx.problem(where, "", f"is blank: type a {p.expectation}")
            ok = False
        elif v is INVALID:
            ok = False
        else:
            row[p.name] = int(v)
    row[PUBLISHED.name] = float("nan")
    if PUBLISHED.name in columns:
        c = columns[PUBLISHED.name]
        where = Where(sheet, cell_name(r, c), f"{PUBLISHED.name} ({name})")
        v = ctx.value(PUBLISHED, grid, r, c, where)
        if v is INVALID:
            ok = False
        elif v is not None and v <= 0:
            ctx.problem(
                where, shown(v), "is out of range: expected a number above 0 (B)"
            )
            ok = False
        elif v is not None:
            row[PUBLISHED.name] = float(v)
    row[SOURCE.name] = ""
    if SOURCE.name in columns:
        c = columns[SOURCE.name]
        where = Where(sheet, cell_name(r, c), f"{SOURCE.name} ({name})")
        row[SOURCE.name] = _text(ctx, grid, r, c, where)
    return row if ok and _consistent(ctx, sheet, r, columns, row) else None


def _consistent(ctx: Context, sheet: str, r: int, columns: dict, row: dict) -> bool:
    # Experts and heads that fit together; each problem on the cell to change.
    name, ok = row["name"], True
    if row["active_experts"] > row["experts"]:
        ctx.problem(
            Where(
                sheet,
                cell_name(r, columns["active_experts"]),
                f"active_experts ({name})",
            ),
            row["active_experts"],
            f"is more than experts ({row['experts']}): a token is routed to at most "
            "every expert",
        )
        ok = False
    heads, kv = row["attention_heads"], row["kv_heads"]
    if kv > heads or heads % kv:
        ctx.problem(
            Where(sheet, cell_name(r, columns["kv_heads"]), f"kv_heads ({name})"),
            kv,
            f"does not divide attention_heads ({heads}): grouped-query attention "
            "shares each KV head among a whole number of query heads",
        )
        ok = False
    return ok


def _check_counts(ctx: Context, sheet: str, frame, cells: list[int], columns) -> None:
    # A definition whose parameter count is far from the published one: a warning.
    if frame.empty:
        return
    c = columns.get(PUBLISHED.name, columns["model"])
    names = list(frame.index)
    for i, text in count_mismatches(frame, fmt_number):
        ctx.warn(
            f"{sheet}!{cell_name(cells[i], c)} {PUBLISHED.name} ({names[i]}): {text}"
        )


def _text(ctx: Context, grid: Grid, r: int, c: int, where: Where) -> str:
    try:
        raw = ctx.raw(grid, r, c, where)
    except CellError as e:
        ctx.problem(where, e.value, e.expected)
        return ""
    return "" if blank(raw) else str(shown(raw)).strip()
