"""The Inference charts sheet: the Inference sheet's two charts and what they rest on.

A clustered bar chart of output tokens/s per model and variant in the
figure-of-merit scenario, and a latency-throughput chart (tokens/s per user
against total tokens/s over a batch sweep of the figure-of-merit model); below
them the scenarios, the models' parameter counts beside the published ones and
the charts' data. A sheet of its own: beside the Inference table, which prints
in bands of columns with its naming columns repeated, they would print beside
a column of unrelated names. Written when the Inference sheet is.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import charts as ch
from ..charts import Layout, Series, Span
from .banner import stale_banner
from .context import Context
from .formats import GENERAL, WIDE_TABLE_CAP
from .geometry import GAP_PX, chart_rows, legend_px, positive
from .inference import DOES_NOT_FIT, present
from .sheet import Col, ResultSheet, Sheet, Table

_CHART_W = 720
_CHART_ROW = 3


def write(ctx: Context, sh: Sheet) -> None:
    """Title, the two charts, then the scenarios, the models and the chart data."""
    r = ctx.results
    serving = r.study.serving
    model, scenario = serving.merit
    sh.title(
        0,
        "LLM inference charts: tokens/s per model, latency vs throughput",
        f"In the figure of merit's scenario ({scenario}) and model ({model}), set on "
        "Targets; every variant, model and scenario is on the Inference sheet.",
    )
    stale_banner(ctx, sh)
    sh.page(1, freeze_col=0, repeat=False)
    n = len(ctx.plotted)
    bar_h = 360 + legend_px(n, per_row=4)
    line_h = 400 + legend_px(n, per_row=4)
    row = _CHART_ROW + chart_rows(bar_h + GAP_PX + line_h) + 1
    if ctx.capped:
        sh.note(row, 0, ctx.cap_note("The charts"), 8, italic=True)
        row += 2
    stable = _scenario_table(sh, serving, row, 0)
    mtable = _model_table(sh, r.inference_models, stable.last_row + 2, 0)
    row = mtable.last_row + 2
    bars, row = _bar_data(ctx, sh, r.inference, scenario, row, 0)
    sweep, row = _sweep_data(ctx, sh, r.inference_sweep, model, scenario, row, 0)
    _bar_chart(ctx, sh, serving, scenario, bars, _CHART_ROW, 0, bar_h)
    y = bar_h + GAP_PX
    _sweep_chart(ctx, sh, serving, model, scenario, sweep, _CHART_ROW, 0, y, line_h)


SHEET = ResultSheet("Inference charts", write, present)


# --- the scenarios and the models ------------------------------------------------------


def _scenario_table(sh: Sheet, serving, row: int, col: int) -> Table:
    s = serving.scenarios
    frame = pd.DataFrame(
        {
            "scenario": [str(x) for x in s.index],
            "input_tokens": s["input_tokens"].to_numpy(float),
            "output_tokens": s["output_tokens"].to_numpy(float),
            "batch": [
                "largest that fits" if pd.isna(b) else float(b) for b in s["batch"]
            ],
            "precision": s["precision"].astype(str).to_numpy(),
            "kv_precision": [
                str(k) if isinstance(k, str) and k else str(p) + " (as weights)"
                for k, p in zip(s["kv_precision"], s["precision"])
            ],
            "activation_precision": [
                str(a) if isinstance(a, str) and a else "default"
                for a in s["activation_precision"]
            ],
            "tp": s["tp"].to_numpy(float),
        }
    )
    sh.heading(row, col, "Scenarios")
    return sh.table(
        row + 1,
        col,
        frame,
        [
            Col("scenario", "Scenario", "text"),
            Col("input_tokens", "Input tokens", "#,##0"),
            Col("output_tokens", "Output tokens", "#,##0"),
            Col("batch", "Batch (sequences)", "#,##0"),
            Col("precision", "Weights and GEMMs", "text", center=True),
            Col("kv_precision", "KV cache", "text", center=True),
            Col("activation_precision", "Activations", "text", center=True),
            Col("tp", "TP (packages)", "0"),
        ],
        cap_width=WIDE_TABLE_CAP,
    )


def _model_table(sh: Sheet, check: pd.DataFrame, row: int, col: int) -> Table:
    frame = check.copy()
    frame.insert(0, "model", [str(x) for x in check.index])
    frame["within"] = [
        "not published" if pd.isna(p) else ("yes" if ok else "NO")
        for p, ok in zip(frame["published_params_b"], frame["within_tolerance"])
    ]
    sh.heading(
        row,
        col,
        "Models: parameter count of the definition beside the published one",
    )
    table = sh.table(
        row + 1,
        col,
        frame,
        [
            Col("model", "Model", "text"),
            Col("served", "Served", "yes"),
            Col("computed_params_b", "Parameters, definition (B)", "#,##0.00"),
            Col("active_params_b", "Active per token (B)", "#,##0.00"),
            Col("published_params_b", "Parameters, published (B)", "#,##0.0#"),
            Col("error_percent", "Difference (%)", "+0.0;-0.0;0.0"),
            Col("within", "Within tolerance", "text", center=True),
        ],
        cap_width=WIDE_TABLE_CAP,
    )
    sh.mark(table, "within", "NO")
    return table


# --- chart data and charts ---------------------------------------------------------------


def _bar_data(
    ctx: Context, sh: Sheet, t: pd.DataFrame, scenario: str, row: int, col: int
):
    """Output tokens/s per model (rows) and charted variant (columns) in ``scenario``."""
    part = t[t["scenario"] == scenario]
    models = list(dict.fromkeys(part["model"]))
    data: dict[str, list] = {}
    cols = [Col("model", "Model", "text")]
    for k, name in enumerate(ctx.plotted):
        rows = part[part["variant"].astype(str) == name].set_index("model")
        values = []
        for m in models:
            ok = bool(rows.loc[m, "fits"]) if m in rows.index else False
            values.append(float(rows.loc[m, "output_tokens_per_s"]) if ok else None)
        data[f"v{k}"] = values
        cols.append(Col(f"v{k}", name, "#,##0"))
    # a model no charted variant can hold says so under its empty category
    empty = [all(data[key][i] is None for key in data) for i in range(len(models))]
    data = {
        "model": [
            f"{m} ({DOES_NOT_FIT})" if e else str(m) for m, e in zip(models, empty)
        ],
        **data,
    }
    sh.heading(
        row,
        col,
        f"Chart data: output tokens/s of the tp packages in scenario {scenario} "
        "(blank: does not fit)",
    )
    frame = pd.DataFrame(data).astype(object)
    frame = frame.where(frame.notna(), None)  # a blank cell: no bar
    table = sh.table(row + 1, col, frame, cols, cap_width=WIDE_TABLE_CAP)
    return table, table.last_row + 2


def _sweep_data(ctx, sh, sweep, model: str, scenario: str, row: int, col: int):
    """The batches of the sweep that fit, per charted variant, in variant order."""
    s = sweep[sweep["fits"].astype(bool)].copy()
    s["variant"] = s["variant"].astype(str)
    s = s[s["variant"].isin(ctx.plotted)]
    order = {name: i for i, name in enumerate(ctx.plotted)}
    s = s.assign(_o=s["variant"].map(order)).sort_values(["_o", "batch"], kind="stable")
    s = s.reset_index(drop=True)
    sh.heading(
        row,
        col,
        f"Chart data: {model} in scenario {scenario} at batches "
        f"{int(sweep['batch'].min())} to {int(sweep['batch'].max())} (those that fit)",
    )
    table = sh.table(
        row + 1,
        col,
        s,
        [
            Col("variant", "Variant", "text"),
            Col("batch", "Batch (sequences)", "#,##0"),
            Col("output_tokens_per_s", "Output tokens/s, tp packages", GENERAL),
            Col("output_tokens_per_s_per_user", "Tokens/s per user (1/TPOT)", GENERAL),
            Col("ttft_s", "TTFT (s)", GENERAL),
            Col("decode_bound", "Decode bound by", "text", center=True),
        ],
        cap_width=WIDE_TABLE_CAP,
    )
    parts = {
        name: (table.first_row + int(g.index[0]), table.first_row + int(g.index[-1]))
        for name, g in s.groupby("variant", sort=False)
    }
    return (table, parts, s), table.last_row + 2


def _describe(serving, scenario: str, batch: bool = True) -> str:
    """A scenario in a few words: lengths, precision, batch, tensor parallelism."""
    s = serving.scenarios.loc[scenario]
    words = [
        f"{int(s['input_tokens']):,} in / {int(s['output_tokens']):,} out",
        str(s["precision"]),
    ]
    if batch:
        words.append(
            "largest batch" if pd.isna(s["batch"]) else f"batch {int(s['batch'])}"
        )
    words.append(f"tp {int(s['tp'])}")
    return ", ".join(words)


def _bar_chart(ctx, sh, serving, scenario, bars: Table, row, col, height) -> None:
    series = []
    for k, name in enumerate(ctx.plotted):
        key = f"v{k}"
        series.append(
            Series(
                bars.span(key),
                ctx.series_name(name, bars.head(key)),
                bars.span("model"),
                color=ctx.colors[name],
            )
        )
    if not series or bars.rows <= 0:
        return
    layout = Layout(
        f"Output tokens/s per model and variant: {scenario} "
        f"({_describe(serving, scenario)})",
        x_title="Model",
        y_title="Output tokens/s, tp packages",
        series=tuple(series),
        width=_CHART_W,
        height=height,
        number_format="#,##0",
    )
    sh.chart(ch.add_column_chart, layout, row, col)


def _sweep_chart(ctx, sh, serving, model, scenario, sweep, row, col, y, height) -> None:
    table, parts, s = sweep
    if not parts:
        sh.note(
            row + chart_rows(y),
            col,
            f"No batch of {model} fits on any charted variant in scenario "
            f"{scenario}: no latency-throughput chart.",
            width=8,
            italic=True,
        )
        return
    series = []
    for name in ctx.plotted:
        if name not in parts:
            continue
        r0, r1 = parts[name]
        series.append(
            Series(
                table.span("output_tokens_per_s_per_user", r0, r1),
                ctx.series_name(name, Span(r0, table.cols["variant"])),
                table.span("output_tokens_per_s", r0, r1),
                color=ctx.colors[name],
            )
        )
    xs = positive(s["output_tokens_per_s"])
    ys = positive(s["output_tokens_per_s_per_user"])
    layout = Layout(
        f"Latency vs throughput: {model}, {scenario} "
        f"({_describe(serving, scenario, batch=False)}), batches 1, 2, 4 ...",
        x_title="Output tokens/s of the tp packages (log scale)",
        y_title="Tokens/s per user = 1/TPOT (log scale)",
        series=tuple(series),
        x_bounds=_decades(xs),
        y_bounds=_decades(ys),
        x_log=True,
        y_log=True,
        width=_CHART_W,
        height=height,
        number_format="#,##0.#",
        x_number_format="#,##0",
    )
    sh.chart(ch.add_scatter_chart, layout, row, col, 0, y)


def _decades(values) -> tuple[float, float] | None:
    """Whole decades around the positive values (a log axis)."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    lo = 10 ** math.floor(math.log10(min(v)))
    hi = 10 ** math.ceil(math.log10(max(v)))
    return (lo, hi if hi > lo else lo * 10)
