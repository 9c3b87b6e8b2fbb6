"""Junction temperature with cooling, die power density and leakage feedback (°C, W).

Heat leaves the junction through the die (silicon, TIM, lid) and then the package's
cooling:

    Tj = T_coolant + P_package x R_cc + h x r_jc x P_die / A_die

T_coolant and R_cc are the cooling's inlet temperature (°C) and case-to-coolant
resistance (°C/W); the seed's cooling is ambient_c and theta_ja_c_per_w, so with
r_jc = 0 this is the seed's Tj = ambient + P x theta_ja. r_jc is a junction-to-case
resistance per unit of die area (K·mm²/W), h a hotspot factor (peak over mean
power density), P_die the power dissipated in the compute dies (SM, L2, D2D and
leakage; HBM, interconnect and I/O are elsewhere in the package) and A_die their
total area (mm²).

Leakage L grows with temperature, L = L0 x exp(beta (Tj - T_ref)), and heats the
junction in turn. With a = Tj without leakage and c = R_cc + h r_jc / A_die the
kelvin per watt of leakage, the operating point solves

    x = q exp(beta x),   x = Tj - a,   q = c L0 exp(beta (a - T_ref))

in closed form: x = -W0(-beta q) / beta = q exp(-W0(-beta q)), W0 the principal
branch of Lambert's W.
A solution exists while beta q <= 1/e; beyond it no temperature balances the
leakage it causes: thermal runaway, reported as Tj = leakage = +inf and a flag,
never as an exception. At the solution the loop gain dL/dTj x c = -W0 lies in
[0, 1]; it reaches 1 at the runaway threshold.
"""

from __future__ import annotations

import numpy as np

_INV_E = float(np.exp(-1.0))


def lambert_w0(z) -> np.ndarray:
    """Principal branch W0 of Lambert's W on [-1/e, 0] (w e^w = z, w >= -1).

    Halley iterations from a branch-point series (exact at -1/e) or from z itself
    near 0; converged to about 1e-15 in at most a dozen steps. Values below -1/e
    are clipped to it.
    """
    z = np.maximum(np.asarray(z, dtype=np.float64), -_INV_E)
    p = np.sqrt(np.maximum(2.0 * (np.e * z + 1.0), 0.0))
    w = np.where(z < -0.25, -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p**3, z)
    for _ in range(12):
        ew = np.exp(w)
        f = w * ew - z
        wp1 = w + 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
        step = np.where(np.isfinite(step) & (np.abs(wp1) > 1e-12), step, 0.0)
        w = np.maximum(w - step, -1.0)
        if not (np.abs(step) > 1e-15 * np.maximum(1.0, np.abs(w))).any():
            break
    return w


def coolant(cooling_code, ambient_c, theta_ja, air_c, air_r, liquid_c, liquid_r):
    """(T_coolant °C, R_cc °C/W) of each variant's cooling: 0 seed, 1 air, 2 liquid."""
    code = np.asarray(cooling_code)
    if not code.any():  # the seed everywhere
        return ambient_c, theta_ja
    t = np.choose(
        code, [np.broadcast_to(v, code.shape) for v in (ambient_c, air_c, liquid_c)]
    )
    r = np.choose(
        code, [np.broadcast_to(v, code.shape) for v in (theta_ja, air_r, liquid_r)]
    )
    return t, r


def die_k_per_w(hotspot_factor, r_jc_k_mm2_per_w, die_area_mm2):
    """Kelvin per watt dissipated in the compute dies: h x r_jc / area."""
    return hotspot_factor * r_jc_k_mm2_per_w / die_area_mm2


def solve_junction(
    t_coolant_c,
    r_cc_c_per_w,
    die_c_per_w,
    package_other_w,
    die_other_w,
    leakage_ref_w,
    beta_per_c,
    t_ref_c,
):
    """Junction temperature and leakage at the operating point (see module text).

    Parameters
    ----------
    t_coolant_c, r_cc_c_per_w : array-like
        Coolant (or ambient) temperature, °C; case-to-coolant resistance, °C/W.
    die_c_per_w : array-like
        h x r_jc / die area, °C per watt dissipated in the compute dies.
    package_other_w, die_other_w : array-like
        Package power and compute-die power without leakage, W.
    leakage_ref_w : array-like
        Leakage at T_ref (already scaled for voltage), W.
    beta_per_c, t_ref_c : array-like
        Leakage temperature coefficient, 1/°C (0: no feedback); its reference, °C.

    Returns
    -------
    (tj, leakage, loop_gain, runaway)
        Tj °C and leakage W (+inf in runaway), the loop gain 0-1 (+inf in runaway)
        and the runaway flag.
    """
    a = t_coolant_c + r_cc_c_per_w * package_other_w + die_c_per_w * die_other_w
    c = r_cc_c_per_w + die_c_per_w
    beta = np.asarray(beta_per_c, dtype=np.float64)
    cl0 = c * leakage_ref_w
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        q = np.where(cl0 > 0, cl0 * np.exp(beta * (a - t_ref_c)), 0.0)
        bq = beta * q
        runaway = ~(bq <= _INV_E)  # NaN (inf x 0 cannot occur: q is 0 or finite/inf)
        w = lambert_w0(-np.where(runaway, 0.0, bq))
        # x = -w / beta = q exp(-w) (w e^w = -beta q): exact, and stable as beta
        # goes to 0, where w -> 0 and x -> q, the plain sum
        x = q * np.exp(-w)
        tj = np.where(runaway, np.inf, a + x)
        factor = np.where(runaway, np.inf, np.exp(beta * (tj - t_ref_c)))
        leakage = np.where(leakage_ref_w > 0, leakage_ref_w * factor, 0.0)
        gain = np.where(runaway, np.inf, -w)
    return tj, leakage, gain, runaway
