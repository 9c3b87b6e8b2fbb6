"""The Inference sheet: LLM serving per variant, model and scenario.

One row per variant x served model x scenario (TTFT, TPOT, output tokens/s of the
tensor-parallel group and per package, tokens/s per user, per watt and per USD of
unit cost of the tp packages, the batch and the largest that fits, the binding
resource of each phase, whether the model fits), the calibration stated above
it. The table is wider than a page: its later bands of printed pages repeat the
three columns that name a row. Its charts, the scenarios and the models' check
are on the Inference charts sheet (:mod:`.inference_charts`), so that nothing
prints beside the repeated names. Written only when the study serves models
(Serving setup).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...schema import DEFAULTS
from ...studies.inference_calibration import FITTED
from ...studies.run import Results
from .banner import stale_banner
from .context import Context
from .sheet import Col, ResultSheet, Sheet

DOES_NOT_FIT = "does not fit"
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
    """Calibration lines, then the table; the charts are on :mod:`.inference_charts`."""
    r = ctx.results
    sh.title(
        0,
        "LLM inference: tokens per second, latency and the binding resource",
        "Each variant serves each model in each scenario (Serving setup): the batch "
        "is prefilled together (TTFT, no queueing), then decoded together (TPOT); "
        "throughput is the steady state of the tp packages together. Dense peaks; "
        "efficiencies from the Coefficients sheet. Charts: the Inference charts sheet.",
    )
    width = len(_COLUMNS)
    for k, line in enumerate(calibration_lines(r)):
        sh.note(2 + k, 0, line, width, italic=True)
    stale_banner(ctx, sh, row=_HEADER_ROW - 1)
    table = sh.table(_HEADER_ROW, 0, _main_frame(r.inference), _COLUMNS, cap_width=22)
    sh.mark(table, "fits_text", DOES_NOT_FIT)
    sh.page(table.header_row, freeze_col=3)
    sh.name_cols = 3  # variant, model and scenario name a row on every band


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
