"""Roofline per workload, the chiplet-scaling study and the variant comparison."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import performance as perf
from ..engine.inputs import prepare
from ..engine.model import evaluate_arrays
from ..lazy import pd
from ..schema import ops_unit
from .study import value_spread


def roofline(
    results: pd.DataFrame, workloads: dict[str, float], precision: str = "FP16"
) -> pd.DataFrame:
    """Each workload on each variant's roofline.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`xlmodel.evaluate` (index = variant).
    workloads : dict of str to float
        Workload name -> arithmetic intensity, FLOP/byte.
    precision : str
        Precision of the roof.

    Returns
    -------
    pandas.DataFrame
        One row per (variant, workload): ``arithmetic_intensity_flop_per_byte``,
        ``peak_tflops``, ``attainable_tflops``, ``efficiency_percent`` (of peak),
        ``bottleneck`` ('compute' or 'memory'), ``ridge_flop_per_byte``.
    """
    k = precision.lower()
    peak = results[f"peak_{k}_tflops"].to_numpy()[:, None]
    bw = results["hbm_bandwidth_gbps"].to_numpy()[:, None]
    ridge = results[f"ridge_{k}_flop_per_byte"].to_numpy()[:, None]
    ai = np.asarray(list(workloads.values()), dtype=np.float64)[None, :]
    att = perf.attainable_tflops(ai, peak, bw)
    v, w = att.shape
    return pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(results.index), w),
            "workload": np.tile(np.asarray(list(workloads), dtype=object), v),
            "precision": precision,
            "arithmetic_intensity_flop_per_byte": np.broadcast_to(ai, (v, w)).ravel(),
            "peak_tflops": np.broadcast_to(peak, (v, w)).ravel(),
            "attainable_tflops": att.ravel(),
            "efficiency_percent": (100.0 * att / peak).ravel(),
            "bottleneck": perf.bottleneck(ai, ridge).ravel(),
            "ridge_flop_per_byte": np.broadcast_to(ridge, (v, w)).ravel(),
        }
    )


def scaling_study(
    variants: pd.DataFrame,
    counts=(2, 4, 6, 8),
    hbm_stacks_per_chiplet: float = 2,
    utilization: float = 1.0,
) -> pd.DataFrame:
    """Every variant at every chiplet count, with HBM stacks = count x per-chiplet.

    Returns
    -------
    pandas.DataFrame
        One row per (variant, count): ``num_chiplets``, ``hbm_stacks``,
        ``compute_tflops`` (target precision, ideal), ``effective_tflops`` (after
        D2D scaling efficiency), ``memory_tbps``, ``power_w``, ``tflops_per_w``,
        ``density_tflops_per_mm2``, ``scaling_efficiency``, ``within_budget``;
        then ``power_d2d_w``, ``effective_tflops_per_w``, ``junction_temp_c`` and
        ``thermal_runaway`` (what die-to-die traffic and heat cost per count).
    """
    counts = np.asarray(counts, dtype=np.float64)
    x0 = prepare(variants)
    v, c = len(variants), len(counts)
    x = {k: np.repeat(a, c) for k, a in x0.items()}
    x["num_chiplets"] = np.tile(counts, v)
    x["hbm_stacks"] = x["num_chiplets"] * hbm_stacks_per_chiplet
    prepare(
        pd.DataFrame({"num_chiplets": x["num_chiplets"], "hbm_stacks": x["hbm_stacks"]})
    )  # range check
    out = evaluate_arrays(x, utilization)
    return pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(variants.index), c),
            "num_chiplets": x["num_chiplets"].astype(np.int64),
            "hbm_stacks": x["hbm_stacks"],
            "compute_tflops": out["target_peak_tflops"],
            "effective_tflops": out["effective_tflops"],
            "memory_tbps": out["hbm_bandwidth_tbps"],
            "power_w": out["power_total_w"],
            "tflops_per_w": out["tflops_per_w"],
            "density_tflops_per_mm2": out["target_density_tflops_per_mm2"],
            "scaling_efficiency": out["scaling_efficiency"],
            "within_budget": out["meets_power_budget"],
            "power_d2d_w": out["power_d2d_w"],
            "effective_tflops_per_w": out["effective_tflops_per_w"],
            "junction_temp_c": out["junction_temp_c"],
            "thermal_runaway": out["thermal_runaway"],
        }
    )


def largest_count_within_budget(study: pd.DataFrame) -> pd.Series:
    """Per variant, the largest chiplet count whose power is within budget (0: none)."""
    ok = study[study["within_budget"]]
    best = ok.groupby("variant", sort=False)["num_chiplets"].max()
    return best.reindex(study["variant"].unique(), fill_value=0)


def clock_sweep(
    variants: pd.DataFrame, clocks, utilization: float = 1.0
) -> pd.DataFrame:
    """Every variant at every clock (MHz): what a clock costs and delivers.

    Returns
    -------
    pandas.DataFrame
        One row per (variant, clock): ``clock_mhz``, ``core_voltage_v``,
        ``target_peak_tflops``, ``power_total_w``, ``tflops_per_w``,
        ``junction_temp_c``, ``thermal_runaway``, ``meets_power_budget``,
        ``meets_tj_max``. Under the seed's coefficients TFLOPS/W only rises with
        the clock; with a voltage-frequency curve (the physical preset) it peaks.
    """
    clocks = np.asarray(clocks, dtype=np.float64)
    x0 = prepare(variants)
    v, c = len(variants), len(clocks)
    x = {k: np.repeat(a, c) for k, a in x0.items()}
    x["clock_mhz"] = np.tile(clocks, v)
    prepare(pd.DataFrame({"clock_mhz": x["clock_mhz"]}))  # range check
    out = evaluate_arrays(x, utilization)
    table = pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(variants.index), c),
            "clock_mhz": x["clock_mhz"],
        }
    )
    for m in (
        "core_voltage_v",
        "target_peak_tflops",
        "power_total_w",
        "tflops_per_w",
        "junction_temp_c",
        "thermal_runaway",
        "meets_power_budget",
        "meets_tj_max",
    ):
        table[m] = out[m]
    return table


def best_clocks(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per variant of a :func:`clock_sweep`: the clock of highest TFLOPS/W and the
    highest clock within the power budget and Tj max (NaN: none).

    Returns
    -------
    pandas.DataFrame
        Index variant; ``most_efficient_clock_mhz``, ``best_tflops_per_w``,
        ``at_range_end`` (the best clock is the sweep's first or last: the optimum
        may lie outside), ``fastest_within_limits_mhz``.
    """
    rows = {}
    for name, g in sweep.groupby("variant", sort=False):
        eff = g["tflops_per_w"].to_numpy()
        i = int(np.argmax(np.where(np.isfinite(eff), eff, -np.inf)))
        ok = g[g["meets_power_budget"] & g["meets_tj_max"]]
        rows[name] = {
            "most_efficient_clock_mhz": float(g["clock_mhz"].iloc[i]),
            "best_tflops_per_w": float(eff[i]),
            "at_range_end": i in (0, len(g) - 1),
            "fastest_within_limits_mhz": float(ok["clock_mhz"].max())
            if len(ok)
            else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")


@dataclass
class Comparison:
    """The verdict on a set of variants.

    Attributes
    ----------
    table : pandas.DataFrame
        Per variant: peak and density at the target precision, power (W),
        TFLOPS/W, Tj (°C) and pass/fail of each target.
    best : str | None
        Highest target density among variants within the power budget: the seed's
        pick, a fact beside the recommendation (xlmodel.studies.advice), not it.
    messages : list of str
        The seed's statements in words: the best within budget, who meets every
        target, and whether any variant meets the density target.
    """

    table: pd.DataFrame
    best: str | None
    messages: list[str] = field(default_factory=list)


def compare(
    results: pd.DataFrame,
    density_target: float,
    power_budget_w: float,
    precision: str = "FP16",
    budgets: pd.Series | None = None,
    density_targets: pd.Series | None = None,
) -> Comparison:
    """Targets checked per variant, the best within budget and the seed's statements.

    ``budgets`` and ``density_targets`` (W and TFLOPS/mm², by variant) are the
    variants' own targets when they differ (a row of the target's name on
    Variants): the statements then speak of each variant's own, with their range,
    where the seed's name one number."""
    budget_range = _spread(budgets)
    target_range = _spread(density_targets)
    # TOPS (1e12 op/s) at an integer precision, as the sheets count it
    flops = ops_unit(precision)
    table = results[
        [
            "target_peak_tflops",
            "target_density_tflops_per_mm2",
            "power_total_w",
            "tflops_per_w",
            "junction_temp_c",
            "meets_density_target",
            "meets_power_budget",
            "meets_tj_max",
            "meets_all_targets",
        ]
    ].copy()
    within = table[table["meets_power_budget"]]
    best = None if within.empty else within["target_density_tflops_per_mm2"].idxmax()
    msgs: list[str] = []
    if best is None and budget_range:
        msgs.append(
            f"No variant is within its own power budget ({budget_range} W, per "
            "variant)."
        )
    elif best is None:
        msgs.append(f"No variant is within the {power_budget_w:g} W power budget.")
    elif budget_range:
        b = table.loc[best]
        msgs.append(
            f"Best variant within its own power budget ({budget_range} W, per "
            f"variant): {best} ({b['target_density_tflops_per_mm2']:.3f} {flops}/mm² "
            f"{precision}, {b['power_total_w']:.0f} W of its "
            f"{float(budgets.loc[best]):g} W)."
        )
    else:
        b = table.loc[best]
        msgs.append(
            f"Best variant within the {power_budget_w:g} W budget: {best} "
            f"({b['target_density_tflops_per_mm2']:.3f} {flops}/mm² {precision}, "
            f"{b['power_total_w']:.0f} W)."
        )
    meeting = table.index[table["meets_all_targets"]].tolist()
    if meeting:
        msgs.append("Meeting every target: " + ", ".join(map(str, meeting)) + ".")
    if not table["meets_density_target"].any() and target_range:
        top = table["target_density_tflops_per_mm2"].max()
        msgs.append(
            f"No variant meets its own density target ({target_range} {flops}/mm² "
            f"{precision}, per variant; best {top:.3f})."
        )
    elif not table["meets_density_target"].any():
        top = table["target_density_tflops_per_mm2"].max()
        msgs.append(
            f"No variant meets the {_target(density_target)} {flops}/mm² {precision} "
            f"density target (best {top:.3f}, {100 * top / density_target:.0f} % "
            "of it)."
        )
    return Comparison(table, best, msgs)


def _spread(values: pd.Series | None) -> str:
    """``300-700`` for values that differ; empty for none or one value."""
    spread = value_spread(values)
    return "" if spread is None else f"{spread[0]:g}-{spread[1]:g}"


def _target(x: float) -> str:
    """A target as the seed wrote it: ``2.0``, ``0.75``."""
    return f"{x:.1f}" if float(x).is_integer() else f"{x:g}"
