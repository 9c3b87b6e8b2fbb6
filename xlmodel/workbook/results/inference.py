"""The Inference sheet: LLM serving per variant, model and scenario, with two charts.

One row per variant x served model x scenario (TTFT, TPOT, output tokens/s of the
tensor-parallel group and per package, tokens/s per user, per watt and per USD of
unit cost of the tp packages, the batch and the largest that fits, the binding
resource of each phase, whether the model fits), the calibration stated above it. Right of the table: a clustered bar chart
of output tokens/s per model and variant in the figure-of-merit scenario, a
latency-throughput chart (tokens/s per user against total tokens/s over a batch
sweep of the figure-of-merit model), and below them the scenarios, the models'
parameter counts beside the published ones and the charts' data. Written only
when the study serves models (Serving setup).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...schema import DEFAULTS
from ...studies.inference_calibration import FITTED
from ...studies.run import Results
from .. import charts as ch
from ..charts import Layout, Series, Span
from .context import Context
from .formats import FAIL, GENERAL
from .geometry import GAP_PX, chart_rows, legend_px, positive
from .sheet import Col, ResultSheet, Sheet, Table

DOES_NOT_FIT = "does not fit"
_CHART_W = 720
_HEADER_ROW = 5

_COLUMNS = [
    Col("variant", "Variant", "text"),
    Col("model", "Model", "text"),
    Col("scenario", "Scenario", "text"),
    Col("fits_text", "Fits", "text", center=True),
    Col("batch", "Batch (sequences)", "#,##0"),
    Col("max_batch", "Max batch (sequences)", "#,##0"),
    Col("ttft_s", "TTFT (s)", "#,##0.000"),
    Col("tpot_ms", "TPOT (ms)", "#,##0.00"),
    Col("output_tokens_per_s", "Output tokens/s, tp packages", "#,##0"),
    Col("output_tokens_per_s_per_package", "Output tokens/s per package", "#,##0"),
    Col("output_tokens_per_s_per_user", "Tokens/s per user (1/TPOT)", "#,##0.0"),
    Col("tokens_per_s_per_w", "Output tokens/s per W", "0.000"),
    Col(
        "output_tokens_per_s_per_usd",
        "Output tokens/s per USD (tokens/s / (tp x unit cost))",
        "0.0000",
    ),
    Col("prefill_bound", "Prefill bound by", "text", center=True),
    Col("decode_bound", "Decode bound by", "text", center=True),
    Col("power_average_w", "Power per package, average (W)", "#,##0"),
    Col("weights_gb_per_package", "Weights per package (GB)", "#,##0.0"),
    Col("kv_cache_gb_per_package", "KV cache of the batch per package (GB)", "#,##0.0"),
    Col("hbm_usable_gb_per_package", "Usable HBM per package (GB)", "#,##0.0"),
]
# Served only when the model fits: n/a (not 0) where it does not.
_IF_FITS = (
    "output_tokens_per_s",
    "output_tokens_per_s_per_package",
    "tokens_per_s_per_w",
    "output_tokens_per_s_per_usd",
)


def present(results: Results) -> bool:
    return results.inference is not None


def write(ctx: Context, sh: Sheet) -> None:
    """Calibration lines, the table, then right of it the charts and side tables."""
    r = ctx.results
    serving = r.study.serving
    model, scenario = serving.merit
    sh.title(
        0,
        "LLM inference: tokens per second, latency and the binding resource",
        "Each variant serves each model in each scenario (Serving setup): the batch "
        "is prefilled together (TTFT, no queueing), then decoded together (TPOT); "
        "throughput is the steady state of the tp packages together. Dense peaks; "
        "efficiencies from the Coefficients sheet.",
    )
    width = len(_COLUMNS)
    for k, line in enumerate(calibration_lines(r)):
        sh.note(2 + k, 0, line, width, italic=True)
    table = sh.table(_HEADER_ROW, 0, _main_frame(r.inference), _COLUMNS, cap_width=22)
    _mark(ctx, sh, table, "fits_text", DOES_NOT_FIT)
    sh.page(table.header_row, freeze_col=3)

    right = width + 1
    sh.band_cols.append(right - 1)  # on paper the charts go on pages of their own
    n = len(ctx.plotted)
    bar_h = 360 + legend_px(n, per_row=4)
    line_h = 400 + legend_px(n, per_row=4)
    row = table.header_row + chart_rows(bar_h + GAP_PX + line_h) + 1
    if ctx.capped:
        sh.note(row, right, ctx.cap_note("The charts"), 8, italic=True)
        row += 2
    stable = _scenario_table(sh, serving, row, right)
    mtable = _model_table(ctx, sh, r.inference_models, stable.last_row + 2, right)
    row = mtable.last_row + 2
    bars, row = _bar_data(ctx, sh, r.inference, scenario, row, right)
    sweep, row = _sweep_data(ctx, sh, r.inference_sweep, model, scenario, row, right)
    _bar_chart(ctx, sh, serving, scenario, bars, table.header_row, right, bar_h)
    y = bar_h + GAP_PX
    _sweep_chart(
        ctx, sh, serving, model, scenario, sweep, table.header_row, right, y, line_h
    )


SHEET = ResultSheet("Inference", write, present)


# --- the statement of calibration ----------------------------------------------------


def calibration_lines(results: Results) -> list[str]:
    """One or two lines: where the coefficients come from and how well they hold."""
    cal = results.inference_calibration
    if cal is None or cal.empty:
        return []
    fit = cal[cal["use"] == "fit"]
    hold = cal[(cal["use"] == "holdout") & (cal["chip"] != "all")]
    total = cal[(cal["use"] == "holdout") & (cal["chip"] == "all")]
    lines = []
    if len(fit) and len(total):
        f, t = fit.iloc[0], total.iloc[0]
        lines.append(
            f"Calibration: the serving efficiencies were fitted on "
            f"{int(fit['measurements'].sum())} published {', '.join(fit['chip'])} "
            f"measurements only (median error {f['median_abs_error_percent']:.1f} %); "
            f"unchanged, the model's median error on {int(t['measurements'])} "
            f"published measurements of other chips is "
            f"{t['median_abs_error_percent']:.1f} %."
        )
    close = hold[hold["median_abs_error_percent"] <= 10]
    far = hold[hold["median_abs_error_percent"] > 10]
    parts = []
    if len(close):
        parts.append("within 10 % on " + ", ".join(close["chip"]))

    def listed(rows):
        return ", ".join(
            f"{c} {e:+.0f} %"
            for c, e in zip(rows["chip"], rows["median_error_percent"])
        )

    high = far[far["median_error_percent"] > 0]
    low = far[far["median_error_percent"] <= 0]
    if len(high):
        parts.append("optimistic on " + listed(high))
    if len(low):
        parts.append("pessimistic on " + listed(low))
    if parts:
        lines.append(
            "Median per chip: "
            + "; ".join(parts)
            + ". The efficiencies are those of the fit's FP8 software on Hopper; "
            "other precisions, software stacks and generations reach other shares of "
            "their peaks (README, Calibration)." + _changed(results)
        )
    return lines


def _changed(results: Results) -> str:
    # The workbook's own serving coefficients, where they differ from the fit.
    v = results.study.variants
    moved = [
        name
        for name in FITTED
        if name in v and not np.allclose(v[name].astype(float), float(DEFAULTS[name]))
    ]
    if not moved:
        return ""
    return (
        f" This workbook changes {', '.join(moved)}: the errors above are the "
        "shipped fit's."
    )


# --- the table -----------------------------------------------------------------------


def _main_frame(t: pd.DataFrame) -> pd.DataFrame:
    f = t.copy()
    f["variant"] = f["variant"].astype(str)
    fits = f["fits"].to_numpy(bool)
    f["fits_text"] = np.where(fits, "yes", DOES_NOT_FIT)
    f["tpot_ms"] = f["tpot_s"] * 1e3
    # served only when it fits and both phases end (no zero-bandwidth link)
    times = f[["ttft_s", "tpot_s"]].to_numpy(float)
    served = fits & np.isfinite(times).all(axis=1)
    for key in _IF_FITS:
        f[key] = f[key].where(served)
    return f


def _mark(ctx: Context, sh: Sheet, table: Table, key: str, word: str) -> None:
    """Red fill on the cells of column ``key`` that say ``word``."""
    if table.rows <= 0:
        return
    c = table.cols[key]
    sh.ws.conditional_format(
        table.first_row,
        c,
        table.last_row,
        c,
        {
            "type": "cell",
            "criteria": "==",
            "value": f'"{word}"',
            "format": ctx.fmt(**FAIL),
        },
    )


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
        cap_width=22,
        wrap_header=False,
    )


def _model_table(ctx: Context, sh: Sheet, check: pd.DataFrame, row: int, col: int):
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
        cap_width=22,
        wrap_header=False,
    )
    _mark(ctx, sh, table, "within", "NO")
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
    table = sh.table(row + 1, col, frame, cols, wrap_header=False)
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
        wrap_header=False,
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
