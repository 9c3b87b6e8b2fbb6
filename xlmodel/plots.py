"""PNG exports of the seed's four figures, drawn with matplotlib from engine tables.

roofline_fp16.png, chiplet_scaling.png, architecture_comparison.png and
sensitivity_analysis.png: the files the seed scripts wrote to outputs/.
"""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from .schema import SEED_WORKLOADS, Precision  # noqa: E402

#: Fonts, when installed, that draw what DejaVu Sans lacks (Chinese, Japanese,
#: Korean names), tried in this order for each character.
FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "Yu Gothic",
    "Malgun Gothic",
    "Arial Unicode MS",
)
_installed = {f.name for f in font_manager.fontManager.ttflist}
_fallbacks = [f for f in FALLBACK_FONTS if f in _installed]
if _fallbacks:
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", *_fallbacks]

# matplotlib's warning of a character no font has: "Glyph 19996 (...) missing
# from font(s) DejaVu Sans."
_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")

#: Characters of the last figures drawn that no installed font has (drawn as
#: boxes), collected by :func:`_save` instead of matplotlib's warning.
missing_characters: set[str] = set()


def _plottable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with infinite numbers (a design in thermal runaway has +inf power
    and Tj) as NaN, which matplotlib leaves out."""
    numbers = table.select_dtypes("float")
    if np.isfinite(numbers.to_numpy()).all():
        return table
    out = table.copy()
    out[numbers.columns] = numbers.where(np.isfinite(numbers))
    return out


def _save(fig, save_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.tight_layout()
        if save_path is not None:
            fig.savefig(save_path, dpi=120)
            plt.close(fig)
    for w in caught:
        m = _GLYPH.search(str(w.message))
        if m:
            missing_characters.add(chr(int(m.group(1))))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return fig


def roofline_figure(results, precision=Precision.FP16, save_path=None, workloads=None):
    """Log-log roofline per variant with workload markers and ridge points.

    ``results`` is an :func:`xlmodel.evaluate` table, or a dict of name ->
    PerformanceModel (the seed API).
    """
    if isinstance(results, dict):
        results = pd.DataFrame({k: m._m for k, m in results.items()}).T
    results = _plottable(results)
    workloads = SEED_WORKLOADS if workloads is None else workloads
    k = Precision(precision).value.lower()
    fig, ax = plt.subplots(figsize=(9, 6))
    ai = np.logspace(-2, 4, 200)
    for name, r in results.iterrows():
        peak = float(r[f"peak_{k}_tflops"])
        bw = float(r["hbm_bandwidth_gbps"])
        (line,) = ax.loglog(ai, np.minimum(peak, ai * bw * 1e-3), label=str(name))
        ridge = float(r[f"ridge_{k}_flop_per_byte"])
        ax.plot([ridge], [peak], "o", color=line.get_color())
    first = results.iloc[0]
    for wname, w in workloads.items():
        y = min(
            float(first[f"peak_{k}_tflops"]),
            w * float(first["hbm_bandwidth_gbps"]) * 1e-3,
        )
        ax.plot([w], [y], "k^")
        ax.annotate(
            wname, (w, y), textcoords="offset points", xytext=(4, -12), fontsize=8
        )
    ax.set_xlabel("Arithmetic intensity (FLOP/byte)")
    ax.set_ylabel(f"Attainable {Precision(precision).value} TFLOPS")
    ax.set_title("Roofline (bandwidth in bytes/s; dots = ridge points)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, save_path)


def scaling_figure(study: pd.DataFrame, save_path=None, power_budget_w=None):
    """Compute, bandwidth, power (with budget) and TFLOPS/W against chiplet count."""
    study = _plottable(study)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        ("compute_tflops", "Peak TFLOPS"),
        ("memory_tbps", "HBM bandwidth (TB/s)"),
        ("power_w", "Power (W)"),
        ("tflops_per_w", "TFLOPS/W"),
    ]
    for ax, (col, label) in zip(axes.ravel(), panels):
        for name, g in study.groupby("variant", sort=False):
            ax.plot(g["num_chiplets"], g[col], "o-", label=str(name))
            if col == "compute_tflops" and (g["scaling_efficiency"] < 1).any():
                ax.plot(
                    g["num_chiplets"],
                    g["effective_tflops"],
                    "x--",
                    label=f"{name} (after D2D)",
                )
        if col == "power_w" and power_budget_w is not None:
            ax.axhline(power_budget_w, color="r", ls="--", label="budget")
        ax.set_xlabel("Chiplets")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    fig.suptitle("Chiplet scaling (2 HBM stacks per chiplet)")
    return _save(fig, save_path)


def _limit_line(ax, x, limit, label: str) -> None:
    """A target across the bars, or a dash over each bar at its own."""
    values = np.atleast_1d(np.asarray(limit, dtype=float))
    if len(values) == len(x) and len(x) and values.min() != values.max():
        ax.hlines(values, x - 0.4, x + 0.4, colors="r", linestyles="--", label=label)
    else:
        ax.axhline(float(values[0]), color="r", ls="--", label=label)


def comparison_figure(
    results: pd.DataFrame, density_target, power_budget_w, save_path=None
):
    """The seed's four comparison panels: density, power, TFLOPS/W, area vs peak.

    ``density_target`` and ``power_budget_w`` are numbers, or one per variant
    (in the rows' order): a line across the panel, or a dash over each bar when
    they differ."""
    results = _plottable(results)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    names = [str(i) for i in results.index]
    x = np.arange(len(names))
    ax = axes[0, 0]
    ax.bar(x, results["target_density_tflops_per_mm2"])
    _limit_line(ax, x, density_target, "target")
    ax.set_ylabel("TFLOPS/mm²")
    ax.set_title("Compute density vs target")
    ax = axes[0, 1]
    ax.bar(x, results["power_total_w"], color="tab:orange")
    _limit_line(ax, x, power_budget_w, "budget")
    ax.set_ylabel("W")
    ax.set_title("Power vs budget")
    ax = axes[1, 0]
    ax.bar(x, results["tflops_per_w"], color="tab:green")
    ax.set_ylabel("TFLOPS/W")
    ax.set_title("Power efficiency")
    for a in (axes[0, 0], axes[0, 1], axes[1, 0]):
        a.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
        a.grid(True, axis="y", alpha=0.3)
    ax = axes[1, 1]
    ax.scatter(results["total_area_mm2"], results["target_peak_tflops"])
    for n, (a, p) in zip(
        names, zip(results["total_area_mm2"], results["target_peak_tflops"])
    ):
        ax.annotate(n, (a, p), fontsize=8, textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("Total area (mm²)")
    ax.set_ylabel("Peak TFLOPS")
    ax.set_title("Area vs performance")
    ax.grid(True, alpha=0.3)
    fig.suptitle("Architecture comparison")
    return _save(fig, save_path)


def sensitivity_figure(
    points: pd.DataFrame, density_target=None, power_budget_w=None, save_path=None
):
    """One panel per swept parameter: density and power against the parameter."""
    points = _plottable(points)
    params = list(dict.fromkeys(points["parameter"]))
    cols = 3
    rows = max(1, -(-len(params) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(14, 4 * rows), squeeze=False)
    for ax, p in zip(axes.ravel(), params):
        g = points[points["parameter"] == p]
        ax.plot(g["value"], g["target_density_tflops_per_mm2"], "o-", label="density")
        top = g["target_density_tflops_per_mm2"].max()
        if density_target is not None and density_target <= 3 * top:
            ax.axhline(density_target, color="b", ls=":", label="density target")
        elif density_target is not None:  # far above: it would flatten the curve
            ax.set_title(f"density target {density_target:g} off scale", fontsize=8)
        ax.set_xlabel(p)
        ax.set_ylabel("TFLOPS/mm²")
        ax2 = ax.twinx()
        ax2.plot(
            g["value"], g["power_total_w"], "s-", color="tab:orange", label="power"
        )
        if power_budget_w is not None:
            ax2.axhline(power_budget_w, color="r", ls="--", label="budget")
        ax2.set_ylabel("W")
        ax.grid(True, alpha=0.3)
    for ax in axes.ravel()[len(params) :]:
        ax.axis("off")
    fig.suptitle("One-at-a-time sensitivity (density left axis, power right axis)")
    return _save(fig, save_path)
