"""Exports beside the workbook: every result table as CSV, the seed's four figures as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PackageError
from .studies.run import Results


def default_export_dir(workbook) -> Path:
    """Where the exports of ``workbook`` go by default: ``outputs/<stem>/`` beside it.

    Beside the workbook written, never the current folder, and one folder per
    workbook, so that two workbooks never overwrite each other's files. A
    workbook already in a folder called ``outputs`` gets ``<stem>/`` beside it
    (``outputs/variants.xlsx`` -> ``outputs/variants/``, not
    ``outputs/outputs/variants/``).
    """
    w = Path(workbook)
    if w.parent.name == "outputs":
        return w.parent / w.stem
    return w.parent / "outputs" / w.stem


def export(results: Results, export_dir) -> list[Path]:
    """Write every result table as CSV and the seed's four figures as PNG.

    Returns the paths written: <table>.csv for each of ``Results.tables()``, and
    roofline_fp16.png, chiplet_scaling.png, architecture_comparison.png,
    sensitivity_analysis.png.
    """
    d = Path(export_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
        written = []
        for name, table in results.tables().items():
            p = d / f"{name}.csv"
            _csv_safe(table).to_csv(p, index=False)
            written.append(p)
        written += _figures(results, d)
    except OSError as err:
        raise PackageError(
            f"{d}: cannot write the CSV and PNG exports ({err.strerror or err}); "
            "the workbook itself was written"
        ) from None
    return written


# Text a spreadsheet would run as a formula when it opens the CSV.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(table):
    """A copy fit for CSV: formula-like text quoted with ', infinities blank."""
    out = table.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(
                lambda v: (
                    "'" + v
                    if isinstance(v, str) and v.startswith(_FORMULA_START)
                    else v
                )
            )
        elif col.dtype.kind == "f":
            out[c] = col.where(np.isfinite(col.to_numpy()))
    return out


def _figures(results: Results, d: Path) -> list[Path]:
    from . import plots

    written = []
    study = results.study
    budget = float(study.targets["power_budget_w"])
    shown = results.metrics.head(12)
    figures = {
        "roofline_fp16.png": lambda p: plots.roofline_figure(
            shown, "FP16", p, results.study.workloads
        ),
        "chiplet_scaling.png": lambda p: plots.scaling_figure(
            results.scaling[results.scaling["variant"].isin(shown.index)],
            p,
            None if study.target_spread("power_budget_w") else budget,
        ),
        "architecture_comparison.png": lambda p: plots.comparison_figure(
            results.metrics,
            _own(results, "density_target_tflops_per_mm2"),
            _own(results, "power_budget_w"),
            p,
        ),
        "sensitivity_analysis.png": lambda p: plots.sensitivity_figure(
            results.sweep_points,
            study.target_of("density_target_tflops_per_mm2", study.sweep_base),
            study.target_of("power_budget_w", study.sweep_base),
            p,
        ),
    }
    plots.missing_characters.clear()
    for name, draw in figures.items():
        p = d / name
        draw(p)
        written.append(p)
    if plots.missing_characters:
        shown = " ".join(sorted(plots.missing_characters)[:10])
        more = len(plots.missing_characters) - 10
        results.study.warnings.append(
            f"PNG figures in {d}: the characters {shown}"
            + (f" and {more} more" if more > 0 else "")
            + " of the names are in no installed font and show as boxes there "
            "(the workbook's charts use the fonts of the program that opens it)"
        )
    return written


def _own(results: Results, name: str):
    """A target per variant, in the metrics' order."""
    own = results.study.own_targets(name)
    return own.reindex(results.metrics.index).to_numpy(dtype=float)
