"""Least-squares fit of a physical power preset to reference chips' board power (TDP).

Model of board power at full load, per chip i (W):

    P_i = E[node_i] x FP16 FLOP/s_i x (f_i / f_ref)^d     tensor work, E in pJ/FLOP
        + e_hbm x HBM bits/s_i                             HBM traffic, pJ/bit
        + leak x SMs_i                                     leakage, W per SM
        + io                                               I/O and board, W
        + fixed_i                                          L2 and die-to-die (not fitted)

Few shared coefficients, never one per chip. The unknowns are fitted on relative
errors (P_i - TDP_i) / TDP_i, with a Gaussian prior per coefficient taken from public
energy figures (ridge toward the prior), because six chips cannot pin five
coefficients alone. The DVFS exponent d is chosen from a small grid by the same
penalised objective. TDP is a board limit, not a measurement, so the fit reports its
errors rather than tuning them away, with leave-one-out errors beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Unknowns, their prior mean and spread (public figures, order of magnitude):
# board power / dense FP16 peak is 1.28 pJ/FLOP (A100, N7) and 0.44-0.71 (N5-class)
# including memory and I/O, so the tensor share is about half; HBM3/3E 3-3.5 pJ/bit.
PRIORS = pd.DataFrame(
    {
        "mean": [0.8, 0.35, 3.5, 0.5, 60.0],
        "sd": [0.5, 0.25, 1.0, 0.5, 40.0],
        "unit": ["pJ/FLOP", "pJ/FLOP", "pJ/bit", "W/SM", "W"],
    },
    index=["e_flop_pj_n7", "e_flop_pj_n5", "hbm_pj_per_bit", "leak_w_per_sm", "io_w"],
)
REF_CLOCK_MHZ = 1800.0
DVFS_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)


@dataclass
class Fit:
    """A fitted preset and how well it explains the references.

    Attributes
    ----------
    coefficients : dict
        ``e_flop_pj_n7``, ``e_flop_pj_n5`` (pJ per FP16 FLOP at ``REF_CLOCK_MHZ``),
        ``hbm_pj_per_bit``, ``leak_w_per_sm`` (W), ``io_w`` (W), ``dvfs_exponent``.
    per_chip : pandas.DataFrame
        Index chip; ``tdp_w``, ``predicted_w``, ``error_percent``,
        ``loo_predicted_w`` and ``loo_error_percent`` (fitted without that chip).
    median_abs_error_percent, loo_median_abs_error_percent : float
    """

    coefficients: dict
    per_chip: pd.DataFrame
    median_abs_error_percent: float
    loo_median_abs_error_percent: float


def _design(flops, hbm_bits, sms, clock_mhz, is_n7, d):
    x = flops * (clock_mhz / REF_CLOCK_MHZ) ** d * 1e-12
    return np.column_stack(
        [
            np.where(is_n7, x, 0.0),
            np.where(is_n7, 0.0, x),
            hbm_bits * 1e-12,
            sms,
            np.ones_like(x),
        ]
    )


def _solve(a, tdp, fixed, prior_weight):
    mean, sd = PRIORS["mean"].to_numpy(), PRIORS["sd"].to_numpy()
    rows = a / tdp[:, None]
    target = (tdp - fixed) / tdp
    a2 = np.vstack([rows, np.diag(prior_weight / sd)])
    y2 = np.concatenate([target, prior_weight * mean / sd])
    theta, *_ = np.linalg.lstsq(a2, y2, rcond=None)
    theta = np.maximum(theta, 0.0)  # energies and powers are never negative
    cost = np.sum((rows @ theta - target) ** 2) + np.sum(
        (prior_weight * (theta - mean) / sd) ** 2
    )
    return theta, cost


def fit_power(
    chips: pd.DataFrame, prior_weight: float = 1.0, dvfs_grid=DVFS_GRID
) -> Fit:
    """Fit the preset to ``chips`` (columns: flops, hbm_bits_per_s, sms, clock_mhz,
    is_n7, fixed_w, tdp_w; index: chip name; see ``reference.power_features``)."""
    flops = chips["flops"].to_numpy(float)
    bits = chips["hbm_bits_per_s"].to_numpy(float)
    sms = chips["sms"].to_numpy(float)
    clock = chips["clock_mhz"].to_numpy(float)
    n7 = chips["is_n7"].to_numpy(bool)
    fixed = chips["fixed_w"].to_numpy(float)
    tdp = chips["tdp_w"].to_numpy(float)
    if len(tdp) < 2 or not np.all(tdp > 0):
        raise ValueError("calibration needs at least two chips with a positive TDP")

    best = None
    for d in dvfs_grid:
        a = _design(flops, bits, sms, clock, n7, d)
        theta, cost = _solve(a, tdp, fixed, prior_weight)
        if best is None or cost < best[2]:
            best = (d, theta, cost)
    d, theta, _ = best
    a = _design(flops, bits, sms, clock, n7, d)
    pred = a @ theta + fixed
    loo = np.empty_like(pred)
    for i in range(len(tdp)):
        keep = np.arange(len(tdp)) != i
        th, _ = _solve(a[keep], tdp[keep], fixed[keep], prior_weight)
        loo[i] = a[i] @ th + fixed[i]
    per_chip = pd.DataFrame(
        {
            "tdp_w": tdp,
            "predicted_w": pred,
            "error_percent": 100 * (pred - tdp) / tdp,
            "loo_predicted_w": loo,
            "loo_error_percent": 100 * (loo - tdp) / tdp,
        },
        index=chips.index,
    )
    coefficients = dict(zip(PRIORS.index, map(float, theta)))
    coefficients["dvfs_exponent"] = float(d)
    return Fit(
        coefficients,
        per_chip,
        float(np.median(np.abs(per_chip["error_percent"]))),
        float(np.median(np.abs(per_chip["loo_error_percent"]))),
    )
