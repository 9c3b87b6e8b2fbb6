"""Sensitivity: the seed's one-at-a-time sweeps, local elasticities and a tornado table.

All three are more rows through the vectorised core: a sweep of K points is K rows,
the elasticities of V variants over P parameters are 2 x V x P rows, evaluated at
once. Parameters are treated as continuous (a count perturbed by 20 % becomes 12.8),
which is what an elasticity means; sweep points themselves are whatever the caller
asks for.
"""

from __future__ import annotations

import numpy as np

from ..engine.inputs import prepare
from ..engine.model import evaluate_arrays
from ..lazy import pd
from ..schema import BY_NAME

# The seed's four sensitivity metrics (engine metric names).
SEED_METRICS: tuple[str, ...] = (
    "target_density_tflops_per_mm2",
    "power_total_w",
    "target_peak_tflops",
    "tflops_per_w",
)

# Parameters the elasticity and tornado tables cover by default.
DEFAULT_PARAMETERS: tuple[str, ...] = (
    "sms_per_chiplet",
    "chiplet_area_mm2",
    "clock_mhz",
    "tensor_cores_per_sm",
    "fp16_ops_per_cycle",
    "l2_cache_mb",
    "num_chiplets",
    "hbm_stacks",
    "hbm_bandwidth_gbps_per_stack",
)


def _numeric(name: str) -> None:
    p = BY_NAME.get(name)
    if p is None or not p.numeric:
        raise ValueError(f"{name!r} is not a numeric model parameter")


def _repeat(base: pd.DataFrame, times: int) -> dict[str, np.ndarray]:
    checked = prepare(base)
    return {k: np.repeat(v, times) for k, v in checked.items()}


def sweep_points(start: float, stop: float, step: float) -> np.ndarray:
    """Points start, start+step, ... up to stop inclusive (the seed's ranges)."""
    if not (np.isfinite([start, stop, step]).all() and step > 0 and stop >= start):
        raise ValueError(
            f"sweep range {start!r}..{stop!r} step {step!r}: expected "
            "start <= stop and step > 0"
        )
    span = (stop - start) / step
    if not np.isfinite(span) or span > 1e7:
        raise ValueError(
            f"sweep range {start!r}..{stop!r} step {step!r}: too many points"
        )
    count = int(np.floor(span + 1e-9)) + 1
    return start + step * np.arange(count)


def sweep(
    base: pd.DataFrame,
    parameter: str,
    values,
    metrics=SEED_METRICS,
    utilization: float = 1.0,
) -> pd.DataFrame:
    """One-at-a-time sweep of ``parameter`` around a one-row ``base`` variant.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``value`` (in the parameter's unit) and one per metric.
    """
    _numeric(parameter)
    values = np.asarray(values, dtype=np.float64)
    x = _repeat(base.iloc[:1], len(values))
    x[parameter] = values
    prepare(pd.DataFrame({parameter: _as_kind(parameter, values)}))  # range check
    out = evaluate_arrays(x, utilization)
    table = pd.DataFrame({"parameter": parameter, "value": values})
    for m in metrics:
        table[m] = out[m]
    return table


def _as_kind(parameter: str, values: np.ndarray):
    return values if BY_NAME[parameter].kind == "float" else values.round()


def normalised_sensitivity(table: pd.DataFrame, metric: str) -> float:
    """The seed's figure: ((m_last - m_first)/m_first) / ((p_last - p_first)/p_first)."""
    m0, m1 = table[metric].iloc[0], table[metric].iloc[-1]
    p0, p1 = table["value"].iloc[0], table["value"].iloc[-1]
    if m0 == 0 or p0 == 0 or p1 == p0 or not (np.isfinite(m0) and np.isfinite(m1)):
        return float("nan")  # undefined (a sweep end in thermal runaway included)
    return float(((m1 - m0) / m0) / ((p1 - p0) / p0))


def seed_sweeps(
    base: pd.DataFrame, sweeps: dict, metrics=SEED_METRICS, utilization: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every sweep of ``sweeps`` (parameter -> (start, stop, step)).

    Returns
    -------
    (points, summary)
        ``points``: all sweep rows stacked; ``summary``: one row per parameter with
        the normalised sensitivity of each metric (dimensionless).
    """
    tables, rows = [], []
    for name, (start, stop, step) in sweeps.items():
        t = sweep(base, name, sweep_points(start, stop, step), metrics, utilization)
        tables.append(t)
        rows.append(
            {"parameter": name, **{m: normalised_sensitivity(t, m) for m in metrics}}
        )
    points = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return points, pd.DataFrame(rows)


def elasticities(
    variants: pd.DataFrame,
    parameters=DEFAULT_PARAMETERS,
    metrics=SEED_METRICS,
    rel_step: float = 1e-3,
    utilization: float = 1.0,
) -> pd.DataFrame:
    """Local elasticities d ln(metric) / d ln(parameter) at every variant.

    Central differences at parameter x (1 +/- rel_step). Returns a long table with
    columns ``variant`` (the index of ``variants``), ``parameter`` and one column
    per metric (dimensionless: % change of metric per % change of parameter).
    """
    for p in parameters:
        _numeric(p)
    v, k = len(variants), len(parameters)
    x = _repeat(variants, 2 * k)  # row order: variant, parameter, (down, up)
    factor = np.tile(np.repeat([[1 - rel_step, 1 + rel_step]], k, axis=0).ravel(), v)
    which = np.tile(np.repeat(np.arange(k), 2), v)
    for j, p in enumerate(parameters):
        sel = which == j
        x[p] = np.where(sel, x[p] * factor, x[p])
    out = evaluate_arrays(x, utilization)
    d_ln_p = np.log1p(rel_step) - np.log1p(-rel_step)
    table = pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(variants.index), k),
            "parameter": np.tile(np.asarray(parameters, dtype=object), v),
        }
    )
    for m in metrics:
        vals = out[m].reshape(v * k, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            table[m] = (np.log(vals[:, 1]) - np.log(vals[:, 0])) / d_ln_p
    return table


def tornado(
    base: pd.DataFrame,
    parameters=DEFAULT_PARAMETERS,
    percent: float = 20.0,
    metric: str = "target_density_tflops_per_mm2",
    utilization: float = 1.0,
) -> pd.DataFrame:
    """Metric swing when each parameter moves by -percent and +percent around ``base``.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``low_value``/``high_value`` (parameter, its unit),
        ``metric_low``/``metric_high`` (metric, its unit), ``base_metric``,
        ``swing`` (|high - low|, metric unit), ``rank`` (1 = largest swing); sorted.
    """
    if not (np.isfinite(percent) and 0 < percent < 100):
        raise ValueError(f"tornado percent: {percent!r} is not a number in (0, 100)")
    for p in parameters:
        _numeric(p)
    k = len(parameters)
    x = _repeat(base.iloc[:1], 2 * k + 1)
    f = percent / 100.0
    lows, highs = [], []
    for j, p in enumerate(parameters):
        v = x[p][0]
        lows.append(v * (1 - f))
        highs.append(v * (1 + f))
        x[p][2 * j] = lows[-1]
        x[p][2 * j + 1] = highs[-1]
    m = evaluate_arrays(x, utilization)[metric]
    table = pd.DataFrame(
        {
            "parameter": list(parameters),
            "low_value": lows,
            "high_value": highs,
            "metric_low": m[0 : 2 * k : 2],
            "metric_high": m[1 : 2 * k : 2],
            "base_metric": m[-1],
        }
    )
    table["swing"] = (table["metric_high"] - table["metric_low"]).abs()
    table = table.sort_values("swing", ascending=False, kind="stable")
    table["rank"] = np.arange(1, k + 1)
    return table.reset_index(drop=True)
