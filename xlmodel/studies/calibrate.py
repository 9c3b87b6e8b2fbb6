"""The physical power preset and its fit to reference chips' board power (TDP).

Under the preset the engine computes, for a chip at full load (W):

    P = E[node] x FP16 FLOP/s x (V / V_ref)^2                tensor work, E in pJ/FLOP
      + e_hbm x HBM bits/s                                    HBM traffic, pJ/bit
      + leak x d x A_die x (V / V_ref) x exp(beta (Tj - 25 °C))  leakage, W/mm²
      + io                                                    I/O and board, W
      + L2 (0.05 W/MB) + die-to-die (0.5 pJ/bit per hop)      not fitted

    V  = max(Vmin[node], V_ref[node] + k x (f - f_top))       voltage-frequency curve
    Tj = inlet + P x R_cooling + h x r_jc x P_die / A_die     solved with the leakage

f_top is the top of the die's curve: for a reference chip the highest clock any
chip of the same ``silicon`` quotes (:func:`xlmodel.studies.reference.top_clocks`;
H100 SXM, PCIe and NVL and the H200s are one GH100 curve topping out at 1830 MHz,
MI350X a point below MI355X's 2.4 GHz on theirs), for a variant 1.8 GHz
(``REF_CLOCK_MHZ``). E[node] is the energy per FLOP at V_ref, the node's voltage at
the top of the curve; leakage is
stated per mm² of N5-class die and scales with transistor density d (1 / the area
model's node scale: N7 0.5, N3 1.33), so it follows transistor count. Eight
coefficients are fitted, shared by every chip, never one per chip: E for N7-, N5-
and N3-class nodes, e_hbm, leak, io, the slope k of the voltage-frequency curve and
the throughput exponent b (SM power as (F / 4096)^b with the FP16 FLOP per clock
per SM F, not shown above).
The rest are public figures, not fitted (``NODE_VOLTAGE``, ``FIXED``): each node's
voltage and floor, the leakage temperature coefficient, the junction-to-case
resistance, cooling, UCIe energy and the share of memory traffic crossing dies.

The fit minimises relative errors (P_i - TDP_i) / TDP_i with a Huber loss (errors
beyond ``HUBER_DELTA`` count linearly) plus a Gaussian prior per coefficient from
public energy figures (a ridge toward the priors): sixteen board limits cannot pin
seven coefficients alone, and TDP is a limit, not a measurement. A board whose
``tdp_kind`` is "limit" (the same compute at the same clock ships at a higher TDP:
:func:`xlmodel.studies.reference.tdp_kinds`) cannot hold its quoted clock at its
TDP, so its power at that clock is at least the TDP: the fit counts only a
shortfall there (``_Chips.misfit``) and reports the clock at which the model draws
the TDP; its error against TDP is reported in full. A board with a measured
dense-GEMM clock (``dense_clock_mhz``: the clock it sustains under dense tensor GEMM
at its TDP, e.g. AMD's max-achievable-FLOPs measurements) is a draw at that clock
whatever its ``tdp_kind``: the fit evaluates it there (SM power at the FLOP/s that
clock gives, voltage from the V-f curve at it, leakage at that voltage and the
resulting Tj; memory and I/O as at full load) and counts its full error. The rule
per chip (``measured``, ``draw`` or ``limit``) is in ``Fit.per_chip["rule"]``; it
reads only the table, never the errors. The Huber loss keeps the
remaining outliers from dragging the shared coefficients. Leave-one-out errors refit everything without the chip, so they are the
honest measure of what the preset predicts for a chip it has not seen.

Every prediction is the engine's own: the fit evaluates the reference chips through
:func:`xlmodel.engine.evaluate_arrays` with :func:`preset_columns`, so the preset a
variant gets is exactly the one that was fitted.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from ..engine import thermal as th
from ..engine.area import NODE_AREA_SCALE
from ..engine.inputs import prepare
from ..engine.model import evaluate_arrays
from ..lazy import pd

# Clock at which the preset states energies and voltages, MHz.
REF_CLOCK_MHZ = 1800.0
# FP16 FLOP per clock per SM at which the preset states SM power.
REF_FLOP_PER_CYCLE = 4096.0


# Fitted coefficients: prior mean and spread (public figures, order of magnitude)
# and the range a physically plausible value falls in.
#   Board power / dense FP16 peak: A100 1.28, H100 0.71, MI300X 0.57, B200 0.44 pJ/FLOP
#   including memory, I/O and leakage, so the tensor share at the node's voltage is
#   about half; N3 vs N5: 25-35 % less power at the same speed (TSMC), N5 vs N7 the
#   same again. HBM3/3E 3-3.5 pJ/bit, HBM2 about 3.9. Leakage about 10-25 % of TDP
#   at operating temperature, a third of that at 25 °C (H100: some 30 W over
#   814 mm², 0.04 W/mm²). Voltage-frequency slopes
#   of shipping GPUs near their top clock: about 0.3-0.6 V/GHz.
@functools.lru_cache(maxsize=1)
def _priors():
    # PRIORS, built at its first use so that importing this module needs no pandas.
    return pd.DataFrame(
        {
            "mean": [0.8, 0.35, 0.25, 3.5, 0.04, 60.0, 0.4, 0.8],
            "sd": [0.5, 0.25, 0.18, 1.0, 0.04, 40.0, 0.2, 0.15],
            "low": [0.3, 0.15, 0.1, 2.0, 0.005, 20.0, 0.15, 0.5],
            "high": [1.5, 0.7, 0.5, 5.0, 0.12, 150.0, 0.8, 1.0],
            "unit": [
                "pJ/FLOP",
                "pJ/FLOP",
                "pJ/FLOP",
                "pJ/bit",
                "W/mm²",
                "W",
                "V/GHz",
                "",
            ],
            "schema": [
                "sm_power_w",
                "sm_power_w",
                "sm_power_w",
                "hbm_energy_pj_per_bit",
                "leakage_w_per_mm2",
                "io_power_w",
                "vf_slope_v_per_ghz",
                "sm_power_throughput_exponent",
            ],
        },
        index=[
            "e_flop_pj_n7",
            "e_flop_pj_n5",
            "e_flop_pj_n3",
            "hbm_pj_per_bit",
            "leak_w_per_mm2",
            "io_w",
            "vf_slope_v_per_ghz",
            "throughput_exponent",
        ],
    )


def __getattr__(name: str):
    # PRIORS (PEP 562): the prior table, a DataFrame built on first use.
    if name == "PRIORS":
        return _priors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Voltage at the top of a die's curve (REF_CLOCK_MHZ for a variant) and floor, V,
# per process-node class: FinFET logic
# nominal 0.75 V with floors of 0.6-0.7 V; GPUs run near 0.8-0.9 V at 1.8 GHz on
# N7/N5 and lower on N3 (assumed public-figure magnitudes, not fitted).
NODE_VOLTAGE = {"n7": (0.90, 0.70), "n5": (0.80, 0.65), "n3": (0.75, 0.60)}
# Terms of the preset taken from public figures, not fitted (schema names).
FIXED = {
    # leakage doubles every ~30 °C (0.023 /°C), stated at 25 °C
    "leakage_temp_coeff_per_c": 0.023,
    "leakage_ref_temp_c": 25.0,
    # silicon + TIM + lid of a lidded accelerator, K·mm²/W
    "junction_to_case_k_mm2_per_w": 12.0,
    # UCIe 1.0 targets 0.25 pJ/bit on advanced and 0.5 on standard packages; 0.5
    # covers the PHY plus adapter and protocol layers
    "d2d_energy_pj_per_bit": 0.5,
    # memory interleaved over every chiplet's HBM (MI300X SPX/NPS1 mode): a share
    # 1 - 1/n of the traffic crosses dies
    "d2d_remote_share": 1.0,
    "sm_power_clock_exponent": 1.0,
    "sm_power_ref_fp16_flop_per_cycle": REF_FLOP_PER_CYCLE,
    "hbm_power_w_per_stack": 0.0,
    "static_power_w_per_chiplet": 0.0,
    "interconnect_power_w": 0.0,
}
# Errors beyond this share of TDP count linearly in the fit (Huber loss).
HUBER_DELTA = 0.10
# Weight of a chip's error in the fit by its row's source confidence, when asked
# for (reference.power_features(weigh_by_confidence=True)): a vendor datasheet or
# whitepaper (high) counts twice a figure reported by third parties (medium). Off
# by default: a row's confidence rates all of its sourcing (die area, stack count),
# not its TDP, and on the shipped table it worsens the leave-one-out median (16.7 %
# against 14.9 %; docs/physical-preset.md).
CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.5, "low": 0.25}
# What a chip's TDP is: the board's draw at its quoted clock under full tensor load
# ("draw"), or a limit below it ("limit": the board cannot hold its quoted clock at
# that power, so its power at the quoted clock is at least the TDP).
TDP_KINDS = ("draw", "limit")
# How the fit reads each chip's TDP (Fit.per_chip["rule"]): "measured" a draw at
# the measured dense-GEMM clock (overrides the kind), "draw" a draw at the quoted
# clock, "limit" a floor on the power at the quoted clock.
FIT_RULES = ("measured", "draw", "limit")
# Columns of the fit's input that describe the reference (its TDP, the clock
# measured at it, its die's curve top), not the model's parameters.
TDP_COLUMNS = (
    "tdp_w",
    "tdp_kind",
    "fit_weight",
    "dense_clock_mhz",
    "vf_top_clock_mhz",
)
# Relative error per unit of log excess past the runaway threshold, for a chip the
# fit's trial coefficients send into thermal runaway.
RUNAWAY_SLOPE = 1.0


def node_class(label: str) -> str | None:
    """'n7', 'n5' or 'n3' from a process-node label ('TSMC 4N' -> 'n5'); None if
    the label names no number of nanometres. A number of ångströms ('Intel
    18A', 'TSMC A16': 1.8 and 1.6 nm) counts as its tenth."""
    text = str(label)
    # two digits or more: N5A and N4A are 5 and 4 nm parts for cars
    angstrom = re.search(r"(?i)(?<![\d.])(\d{2,})A\b|\bA(\d{2,})\b", text)
    if angstrom:
        nm = float(angstrom.group(1) or angstrom.group(2)) / 10
    else:
        m = re.search(r"(\d+(?:\.\d+)?)", text)
        if not m:
            return None
        nm = float(m.group(1))
    return "n7" if nm >= 6 else "n5" if nm >= 4 else "n3"


def _node_terms(process_nodes, top_clock=None) -> dict[str, np.ndarray]:
    """Per row: node class, voltage at the top of the curve, floor, transistor
    density and the top clock (MHz; ``top_clock``, REF_CLOCK_MHZ where None)."""
    nodes = np.array([node_class(n) or "n5" for n in process_nodes], dtype=object)
    top = np.full(len(nodes), REF_CLOCK_MHZ)
    if top_clock is not None:
        given = np.asarray(top_clock, dtype=float)
        top = np.where(np.isfinite(given) & (given > 0), given, REF_CLOCK_MHZ)
    return {
        "node": nodes,
        "top_mhz": top,
        "vref": np.array([NODE_VOLTAGE[n][0] for n in nodes]),
        "vmin": np.array([NODE_VOLTAGE[n][1] for n in nodes]),
        "density": np.array([1.0 / NODE_AREA_SCALE[n] for n in nodes]),
    }


def _fitted_columns(terms: dict, coefficients: dict) -> dict[str, np.ndarray]:
    """The preset's columns that depend on the fitted coefficients (float arrays)."""
    energy = np.array([coefficients[f"e_flop_pj_{n}"] for n in terms["node"]])
    n = len(energy)
    k = float(coefficients["vf_slope_v_per_ghz"])
    top = terms["top_mhz"]
    return {
        # SM power stated at the top of the curve, where V = V_ref
        "sm_power_w": energy * 1e-12 * REF_FLOP_PER_CYCLE * top * 1e6,
        "sm_power_ref_clock_mhz": top,
        "vf_v0_v": terms["vref"] - k * top * 1e-3,
        "vf_slope_v_per_ghz": np.full(n, k),
        "sm_power_throughput_exponent": np.full(
            n, float(coefficients["throughput_exponent"])
        ),
        "hbm_energy_pj_per_bit": np.full(n, float(coefficients["hbm_pj_per_bit"])),
        "leakage_w_per_mm2": float(coefficients["leak_w_per_mm2"]) * terms["density"],
        "io_power_w": np.full(n, float(coefficients["io_w"])),
    }


def preset_columns(
    variants: pd.DataFrame, coefficients: dict, top_clock_mhz=None
) -> pd.DataFrame:
    """Coefficient columns (schema names) of the physical preset for each row.

    ``coefficients`` holds the fitted values (``PRIORS.index``). The row's
    process-node class picks the energy per FLOP, the voltage curve and the
    transistor density of leakage; a cooling of "seed" becomes "air". The curve
    of each row tops out at ``top_clock_mhz`` (MHz, one per row; for reference
    chips :func:`xlmodel.studies.reference.top_clocks`), at REF_CLOCK_MHZ where
    it is None or NaN. Columns absent from ``variants`` take schema defaults.
    """
    from ..schema import DEFAULTS

    def column(name):
        if name in variants:
            return variants[name].to_numpy()
        return np.full(len(variants), DEFAULTS[name], dtype=object)

    terms = _node_terms(column("process_node"), top_clock_mhz)
    cooling = np.array(
        ["air" if c == "seed" else c for c in column("cooling")], dtype=object
    )
    return pd.DataFrame(
        {
            **_fitted_columns(terms, coefficients),
            "vf_vmin_v": terms["vmin"],
            **FIXED,
            "cooling": cooling,
        },
        index=variants.index,
    )


@dataclass
class Fit:
    """A fitted preset and how well it explains the references.

    Attributes
    ----------
    coefficients : dict
        The fitted values, keyed as ``PRIORS.index`` (units in ``PRIORS``).
    per_chip : pandas.DataFrame
        Index chip; ``tdp_w``, ``tdp_kind`` (the table's), ``rule`` (how the fit
        read the TDP: ``FIT_RULES``), ``dense_clock_mhz`` (measured, NaN if not),
        ``fit_clock_mhz`` (the clock the TDP is compared at: the measured one, else
        the quoted one), ``quoted_clock_mhz`` (the clock its peaks are quoted
        at), ``top_clock_mhz`` (the top of the die's
        voltage-frequency curve), ``predicted_w`` (at that clock), ``error_percent``,
        ``loo_predicted_w``, ``loo_error_percent`` (fitted without that chip; NaN
        when the fit was asked for no leave-one-out), ``junction_temp_c`` and
        ``leakage_w`` at the fitted point, ``sustained_clock_mhz`` (for limit and
        measured chips: the clock at which the fitted model draws the TDP, NaN
        where it draws less at the quoted clock).
    draw_median_abs_error_percent, draw_loo_median_abs_error_percent : float
        The medians over the chips whose TDP is a draw (rule measured or draw).
    median_abs_error_percent, loo_median_abs_error_percent : float
    priors : pandas.DataFrame
        ``PRIORS`` with a ``fitted`` column and ``in_range`` (within low-high).
    """

    coefficients: dict
    per_chip: pd.DataFrame
    median_abs_error_percent: float
    loo_median_abs_error_percent: float
    priors: pd.DataFrame
    draw_median_abs_error_percent: float = np.nan
    draw_loo_median_abs_error_percent: float = np.nan


class _Chips:
    """The reference chips as prepared engine inputs; power under coefficients.

    Several coefficient sets are evaluated in one engine pass (the rows stacked),
    so a Jacobian costs about one evaluation.
    """

    def __init__(self, features: pd.DataFrame):
        rows = features.drop(columns=list(TDP_COLUMNS), errors="ignore")
        self.tdp = features["tdp_w"].to_numpy(float)
        n = len(self.tdp)
        kind = features["tdp_kind"] if "tdp_kind" in features else ["draw"] * n
        measured = (
            features["dense_clock_mhz"].to_numpy(float)
            if "dense_clock_mhz" in features
            else np.full(n, np.nan)
        )
        self.measured_clock = measured
        self.measured = np.isfinite(measured)
        self.limit = (np.asarray(kind, dtype=object) == "limit") & ~self.measured
        self.rule = np.where(
            self.measured, "measured", np.where(self.limit, "limit", "draw")
        )
        self.quoted_clock = rows["clock_mhz"].to_numpy(float)
        # the clock each TDP is compared at: a measured chip's power is its draw
        # at the measured clock, the throughput and voltage following it
        rows["clock_mhz"] = np.where(self.measured, measured, self.quoted_clock)
        self.fit_clock = rows["clock_mhz"].to_numpy(float)
        self.weight = (
            features["fit_weight"].to_numpy(float)
            if "fit_weight" in features
            else np.ones(n)
        )
        self.rows = rows
        self.terms = _node_terms(rows["process_node"], features.get("vf_top_clock_mhz"))
        self.top_clock = self.terms["top_mhz"]
        preset = preset_columns(rows, _priors()["mean"].to_dict(), self.top_clock)
        for name, col in preset.items():
            rows[name] = col
        self.x = prepare(rows)
        self._stacked: dict[int, dict] = {}

    def _inputs(self, m: int) -> dict:
        if m not in self._stacked:
            self._stacked[m] = {k: np.tile(v, m) for k, v in self.x.items()}
        return self._stacked[m]

    def evaluate_many(self, coefficient_sets: list[dict], x=None) -> dict:
        """Engine metrics for each coefficient set, rows stacked set after set."""
        x = dict(x if x is not None else self._inputs(len(coefficient_sets)))
        cols = [_fitted_columns(self.terms, c) for c in coefficient_sets]
        for name in cols[0]:
            x[name] = np.concatenate([c[name] for c in cols])
        return evaluate_arrays(x, 1.0)

    def evaluate(self, coefficients: dict) -> dict:
        return self.evaluate_many([coefficients])

    def power(self, coefficients: dict) -> np.ndarray:
        return self.evaluate(coefficients)["power_total_w"]

    def fit_errors(self, coefficient_sets: list[dict]) -> np.ndarray:
        """Relative error per set and chip (m x n), continued into thermal runaway.

        A chip in runaway has no operating point (+inf power). For the fit it
        counts as its power at the runaway threshold (leakage 1 / (beta c), see
        xlmodel.engine.thermal) plus RUNAWAY_SLOPE x ln(e beta q), the log of how
        far past the threshold it is: continuous at the threshold and rising
        beyond, so the fit sees which way leads out.
        """
        m, n = len(coefficient_sets), len(self.tdp)
        tdp = np.tile(self.tdp, m)
        with np.errstate(all="ignore"):
            rel = (self.evaluate_many(coefficient_sets)["power_total_w"] - tdp) / tdp
        away = ~np.isfinite(rel)
        if away.any():
            x = self._inputs(m)
            beta = x["leakage_temp_coeff_per_c"]
            cold = self.evaluate_many(
                coefficient_sets, {**x, "leakage_temp_coeff_per_c": np.zeros(m * n)}
            )
            _, r_cc = th.coolant(
                x["cooling_code"],
                x["ambient_c"],
                x["theta_ja_c_per_w"],
                x["air_inlet_c"],
                x["air_case_to_coolant_c_per_w"],
                x["liquid_inlet_c"],
                x["liquid_case_to_coolant_c_per_w"],
            )
            c = r_cc + th.die_k_per_w(
                x["hotspot_factor"],
                x["junction_to_case_k_mm2_per_w"],
                cold["total_area_mm2"],
            )
            leak0 = cold["power_static_w"]
            a = cold["junction_temp_c"] - c * leak0  # Tj without any leakage
            with np.errstate(all="ignore"):
                log_excess = (
                    1.0
                    + np.log(beta * c * leak0)
                    + beta * (a - x["leakage_ref_temp_c"])
                )
                at_threshold = cold["power_total_w"] - leak0 + 1.0 / (beta * c)
                cont = (at_threshold - tdp) / tdp + RUNAWAY_SLOPE * np.maximum(
                    log_excess, 0.0
                )
            rel = np.where(away, cont, rel)
        return rel.reshape(m, n)

    def fit_error(self, coefficients: dict) -> np.ndarray:
        return self.fit_errors([coefficients])[0]

    def misfit(self, rel: np.ndarray) -> np.ndarray:
        """What the fit counts of relative errors ``rel`` (... x chips): the error
        itself for a draw, only a shortfall for a limit (a board that cannot hold
        its quoted clock at its TDP draws at least its TDP at that clock)."""
        return np.where(self.limit, np.minimum(rel, 0.0), rel)

    def clock_at_power(self, coefficients: dict, power_w, low_mhz: float) -> np.ndarray:
        """Clock (MHz) at which each chip's power equals ``power_w`` under
        ``coefficients``, by bisection between ``low_mhz`` and its quoted clock
        (power rises with clock); NaN where the quoted clock already draws less."""
        high = self.quoted_clock.copy()
        low = np.minimum(np.full_like(high, low_mhz), high)

        def power(clock):
            x = {**self._inputs(1), "clock_mhz": clock}
            with np.errstate(all="ignore"):
                p = self.evaluate_many([coefficients], x)["power_total_w"]
            return np.where(np.isfinite(p), p, np.inf)

        above = power(high) > power_w
        lo, hi = low.copy(), high.copy()
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            over = power(mid) > power_w
            hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
        return np.where(above, 0.5 * (lo + hi), np.nan)


def _theta(s: np.ndarray) -> dict:
    """Coefficients from scaled values s = (theta - mean) / sd (never negative)."""
    mean, sd = _priors()["mean"].to_numpy(), _priors()["sd"].to_numpy()
    return dict(zip(_priors().index, np.maximum(mean + sd * s, 1e-6)))


def _solve(chips: _Chips, keep: np.ndarray, prior_weight: float, delta: float):
    """Scaled coefficients minimising the Huber + prior objective over ``keep``.

    Levenberg-Marquardt on the scaled coefficients with a forward-difference
    Jacobian of the engine's power; the Huber loss by iteratively reweighted least
    squares (weights refreshed every iteration).
    """
    k = len(_priors())

    conf = chips.weight[keep]

    def residuals(s):
        return chips.misfit(chips.fit_error(_theta(s)))[keep]

    def huber_weights(rel):
        a = np.abs(rel)
        return np.sqrt(conf) * np.where(
            a <= delta, 1.0, np.sqrt(delta / np.maximum(a, 1e-300))
        )

    def objective(rel, s):
        a = np.abs(rel)
        loss = np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))
        return float(np.sum(conf * loss) + 0.5 * prior_weight**2 * np.sum(s * s))

    s = np.zeros(k)
    rel = residuals(s)
    cost = objective(rel, s)
    mu = 1e-3
    for _ in range(200):
        w = huber_weights(rel)
        h = 1e-5
        shifted = chips.misfit(chips.fit_errors([_theta(s + h * e) for e in np.eye(k)]))
        jac = ((shifted[:, keep] - rel) / h).T
        a = np.vstack([w[:, None] * jac, prior_weight * np.eye(k)])
        r = np.concatenate([w * rel, prior_weight * s])
        g = a.T @ r
        hess = a.T @ a
        improved = False
        for _ in range(30):
            step = np.linalg.solve(hess + mu * np.diag(np.diag(hess) + 1e-12), -g)
            trial = s + step
            rel_t = residuals(trial)
            cost_t = objective(rel_t, trial)
            if cost_t < cost:
                s, rel, improved = trial, rel_t, cost - cost_t
                cost, mu = cost_t, max(mu / 3, 1e-9)
                break
            mu *= 4
        if not improved or improved < 1e-12 * max(cost, 1e-12):
            break
    return s


def fit_power(
    features: pd.DataFrame,
    prior_weight: float = 1.0,
    huber_delta: float = HUBER_DELTA,
    loo: bool = True,
) -> Fit:
    """Fit the preset to ``features`` (one row per chip: model parameters, as
    :func:`xlmodel.studies.reference.power_features` builds them, and ``tdp_w``).

    Raises
    ------
    ValueError
        Fewer than two chips with a positive TDP.
    """
    tdp = features["tdp_w"].to_numpy(float)
    if len(tdp) < 2 or not np.all(tdp > 0):
        raise ValueError("calibration needs at least two chips with a positive TDP")
    chips = _Chips(features)
    everyone = np.ones(len(tdp), dtype=bool)
    s = _solve(chips, everyone, prior_weight, huber_delta)
    coefficients = {k: float(v) for k, v in _theta(s).items()}
    at_fit = chips.evaluate(coefficients)
    pred = at_fit["power_total_w"]
    loo_pred = np.full(len(tdp), np.nan)
    if loo:
        for i in range(len(tdp)):
            keep = everyone.copy()
            keep[i] = False
            th = _theta(_solve(chips, keep, prior_weight, huber_delta))
            loo_pred[i] = chips.power(th)[i]
    from ..schema import BY_NAME

    sustained = np.where(
        chips.limit | chips.measured,
        chips.clock_at_power(coefficients, tdp, float(BY_NAME["clock_mhz"].minimum)),
        np.nan,
    )
    kind = np.where(
        np.asarray(features.get("tdp_kind", "draw"), dtype=object) == "limit",
        "limit",
        "draw",
    )
    kind = np.broadcast_to(kind, tdp.shape)
    per_chip = pd.DataFrame(
        {
            "tdp_w": tdp,
            "tdp_kind": kind,
            "rule": chips.rule,
            "dense_clock_mhz": chips.measured_clock,
            "fit_clock_mhz": chips.fit_clock,
            "quoted_clock_mhz": chips.quoted_clock,
            "top_clock_mhz": chips.top_clock,
            "fit_weight": chips.weight,
            "predicted_w": pred,
            "error_percent": 100 * (pred - tdp) / tdp,
            "loo_predicted_w": loo_pred,
            "loo_error_percent": 100 * (loo_pred - tdp) / tdp,
            "junction_temp_c": at_fit["junction_temp_c"],
            "leakage_w": at_fit["power_static_w"],
            "sustained_clock_mhz": sustained,
        },
        index=features.index,
    )
    priors = _priors().copy()
    priors["fitted"] = [coefficients[k] for k in priors.index]
    priors["in_range"] = (priors["fitted"] >= priors["low"]) & (
        priors["fitted"] <= priors["high"]
    )
    draws = per_chip[~chips.limit]

    def median_abs(col):
        return float(np.median(np.abs(col))) if len(col) else np.nan

    return Fit(
        coefficients,
        per_chip,
        median_abs(per_chip["error_percent"]),
        median_abs(per_chip["loo_error_percent"]),
        priors,
        median_abs(draws["error_percent"]),
        median_abs(draws["loo_error_percent"]),
    )
