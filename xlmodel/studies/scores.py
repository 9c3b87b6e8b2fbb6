"""Scores of the recommendation: workload-mix throughput, targets, figures of merit.

Every variant is scored (:func:`score_table`): peak and density at the target
precision, its attainable throughput on the Workloads mix (:func:`mix_throughput`),
power, TFLOPS/W, mix throughput per watt and Tj. Each target of ``TARGET_CHECKS``
is checked, with the normalised shortfall of a miss; :func:`judge` ranks the
variants: those meeting every target by the figure of merit chosen on Targets
(``FIGURES``), then the rest by total shortfall. No I/O here.

The cost columns (``unit_cost_usd``, ``tflops_per_usd``) come from the engine's
cost metrics through ``EXTRA_SCORES``, so every score table has them; the serving
columns (``tokens_per_s``, ``tokens_per_s_per_usd`` of the figure-of-merit model
and scenario) are added per call (``score_table``'s ``extras``) by the advice,
which has the serving study: no target reads them, so the searches of
:mod:`.reach` do not need them.

Extension points
----------------
* A figure of merit (cost per unit, tokens per second): add its name to
  ``xlmodel.schema.FIGURES_OF_MERIT`` and a :class:`FigureOfMerit` to ``FIGURES``
  reading a column of the score table. A column computed outside the engine (a
  cost model, a serving study) is a function appended to ``EXTRA_SCORES``:
  ``f(variants, metrics) -> {column: array}``; every score table, including the
  candidates of the searches in :mod:`.reach`, then carries it.
* A target: add a target parameter to the schema and a :class:`TargetCheck` to
  ``TARGET_CHECKS`` (its quantity is a score-table column).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import evaluate
from ..engine import performance as perf
from ..lazy import pd
from ..schema import FIGURES_OF_MERIT, SERVING_FIGURES
from .reference import apply_power_preset

# --- the mix ----------------------------------------------------------------------


def workload_shares(
    workloads: Mapping[str, float], weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Each workload's share of run time: its weight over the sum of weights.

    ``weights`` None means equal shares. Raises ValueError when the weights do not
    name exactly the workloads, are negative or sum to 0.
    """
    names = list(workloads)
    if weights is None:
        return {n: 1.0 / len(names) for n in names} if names else {}
    if set(weights) != set(names):
        raise ValueError(
            f"workload weights name {sorted(weights)}, the workloads are {names}"
        )
    w = np.array([float(weights[n]) for n in names])
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValueError(f"workload weights {list(w)}: expected >= 0, sum above 0")
    return dict(zip(names, w / w.sum()))


def mix_throughput(
    peak_tflops, hbm_bandwidth_gbps, workloads: Mapping[str, float], shares
) -> np.ndarray:
    """Attainable throughput on the workload mix, TFLOPS (time-weighted roofline).

    T_mix = sum_i s_i x min(P, I_i x B)

    with P the peak at the target precision (TFLOPS), B the HBM bandwidth (TB/s =
    GB/s x 1e-3), I_i workload i's arithmetic intensity (FLOP/byte) and s_i its
    share of run time (weights scaled to sum to 1). In share s_i of the time the
    chip runs workload i at its roofline's attainable rate, so T_mix is the FLOP
    done over the run time. Broadcasts over variants (``peak`` of shape (N,)).
    """
    ai = np.asarray(list(workloads.values()), dtype=np.float64)
    s = np.asarray([shares[n] for n in workloads], dtype=np.float64)
    peak = np.asarray(peak_tflops, dtype=np.float64)[:, None]
    bw = np.asarray(hbm_bandwidth_gbps, dtype=np.float64)[:, None]
    if not len(ai):
        return np.full(peak.shape[0], np.nan)
    return (perf.attainable_tflops(ai[None, :], peak, bw) * s[None, :]).sum(axis=1)


# --- scores, targets, figures of merit -------------------------------------------

#: Score-table columns a result on the Summary is read from: column -> label.
SCORE_LABELS: dict[str, str] = {
    "peak_tflops": "peak",
    "density_tflops_per_mm2": "density",
    "mix_tflops": "workload-mix throughput",
    "power_w": "power",
    "tflops_per_w": "TFLOPS/W",
    "mix_tflops_per_w": "throughput per watt",
    "tj_c": "Tj",
    "unit_cost_usd": "unit cost",
    "tflops_per_usd": "TFLOPS per USD",
}


#: Functions ``f(variants, metrics) -> {column: array}`` adding score columns
#: computed outside the engine (see the module's extension points).
EXTRA_SCORES: list[Callable[[pd.DataFrame, pd.DataFrame], dict]] = []


def cost_scores(variants, metrics) -> dict[str, np.ndarray]:
    """``unit_cost_usd`` (USD per good package + NRE per unit; NaN: unknown) and
    ``tflops_per_usd`` (peak TFLOPS at the target precision / unit cost)."""
    unit = np.asarray(metrics["unit_cost_usd"], dtype=np.float64)
    peak = np.asarray(metrics["target_peak_tflops"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_usd = np.where(unit > 0, peak / np.where(unit > 0, unit, 1), np.nan)
    return {"unit_cost_usd": unit, "tflops_per_usd": per_usd}


EXTRA_SCORES.append(cost_scores)


def score_table(
    variants: pd.DataFrame,
    metrics: pd.DataFrame,
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
    extras: Sequence[Callable[[pd.DataFrame, pd.DataFrame], dict]] = (),
) -> pd.DataFrame:
    """Per variant (index of ``metrics``): the figures the recommendation uses.

    ``metrics`` is ``evaluate`` of ``variants`` at 100 % utilisation (or the
    engine's arrays, with ``variants`` its input arrays). Columns:
    ``peak_tflops`` and ``density_tflops_per_mm2`` (target precision),
    ``mix_tflops`` (:func:`mix_throughput`), ``mix_share_of_peak`` (0-1),
    ``power_w`` (100 % utilisation), ``tflops_per_w`` (peak / power),
    ``mix_tflops_per_w`` (mix throughput / power at 100 %: the operating point the
    power budget is judged at), ``tj_c``; then the columns of ``EXTRA_SCORES``.
    """

    def col(name):
        return np.asarray(metrics[name], dtype=np.float64)

    peak, power = col("target_peak_tflops"), col("power_total_w")
    mix = mix_throughput(peak, col("hbm_bandwidth_gbps"), workloads, shares)
    index = metrics.index if isinstance(metrics, pd.DataFrame) else None
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "peak_tflops": peak,
                "density_tflops_per_mm2": col("target_density_tflops_per_mm2"),
                "mix_tflops": mix,
                "mix_share_of_peak": mix / peak,
                "power_w": power,
                "tflops_per_w": peak / power,
                "mix_tflops_per_w": mix / power,
                "tj_c": col("junction_temp_c"),
            },
            index=index,
        )
    for extra in (*EXTRA_SCORES, *extras):
        for name, col in extra(variants, metrics).items():
            out[name] = np.asarray(col)
    return out


@dataclass(frozen=True)
class TargetCheck:
    """One target: ``quantity op limit`` and how a miss is normalised.

    Attributes
    ----------
    name : str
        Short key (``density``).
    label : str
        In words (``density target``).
    quantity : str
        Score-table column judged.
    op : str
        ``">="`` (at least the limit) or ``"<="`` (at most).
    limit : str
        Target parameter holding the limit (a column of the variants).
    unit : str
    scale : callable or None
        ``scale(variants) -> array``: what a miss is divided by; None: the limit.
    """

    name: str
    label: str
    quantity: str
    op: str
    limit: str
    unit: str
    scale: Callable[[pd.DataFrame], np.ndarray] | None = None

    def limits(self, variants) -> np.ndarray:
        """The limit per row of ``variants`` (a frame or the engine's arrays)."""
        return np.asarray(variants[self.limit], dtype=np.float64)

    def met(self, scores: pd.DataFrame, variants) -> np.ndarray:
        v = scores[self.quantity].to_numpy(dtype=np.float64)
        lim = self.limits(variants)
        return v >= lim if self.op == ">=" else v <= lim

    def shortfall(self, scores: pd.DataFrame, variants: pd.DataFrame) -> np.ndarray:
        """The miss as a share of the scale (0 when met; inf when not finite)."""
        v = scores[self.quantity].to_numpy(dtype=np.float64)
        lim = self.limits(variants)
        miss = lim - v if self.op == ">=" else v - lim
        scale = np.abs(lim) if self.scale is None else self.scale(variants)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(scale > 0, miss / np.where(scale > 0, scale, 1), np.inf)
        s = np.where(miss > 0, s, 0.0)
        s = np.where(np.isnan(miss), np.inf, s)  # no figure: as far as can be
        return np.where(np.isfinite(s) | (s == 0), s, np.inf)

    def describe(self, variants: pd.DataFrame | None = None) -> str:
        """``density >= 2 TFLOPS/mm²`` at the first variant's limit."""
        what = SCORE_LABELS.get(self.quantity, self.quantity)
        if variants is None:
            return f"{what} {self.op} {self.limit}"
        return f"{what} {self.op} {self.limits(variants)[0]:g} {self.unit}"


def _thermal_headroom(variants) -> np.ndarray:
    tj_max = np.asarray(variants["tj_max_c"], dtype=np.float64)
    return tj_max - np.asarray(variants["ambient_c"], dtype=np.float64)


TARGET_CHECKS: tuple[TargetCheck, ...] = (
    TargetCheck(
        "density",
        "density target",
        "density_tflops_per_mm2",
        ">=",
        "density_target_tflops_per_mm2",
        "TFLOPS/mm²",
    ),
    TargetCheck("power", "power budget", "power_w", "<=", "power_budget_w", "W"),
    TargetCheck("tj", "Tj max", "tj_c", "<=", "tj_max_c", "°C", _thermal_headroom),
)
SHORTFALL_DEFINITION = (
    "Shortfall = the sum over the targets missed of how far short, as a share: "
    "density (target - density) / target; power (power - budget) / budget; Tj "
    "(Tj - Tj max) / (Tj max - ambient). 0 = every target met."
)


@dataclass(frozen=True)
class FigureOfMerit:
    """What ranks the variants meeting every target: a score-table column."""

    name: str
    label: str
    column: str
    unit: str
    higher_is_better: bool = True
    definition: str = ""
    serving: bool = False  # read from the serving study (Models, Serving setup)

    @property
    def best(self) -> str:
        """``best`` or ``lowest``: how the Summary words the winner."""
        return "best" if self.higher_is_better else "lowest"

    def key(self, scores: pd.DataFrame) -> np.ndarray:
        """Larger is better (NaN last)."""
        v = scores[self.column].to_numpy(dtype=np.float64)
        v = v if self.higher_is_better else -v
        return np.where(np.isnan(v), -np.inf, v)


FIGURES: dict[str, FigureOfMerit] = {
    "throughput_per_watt": FigureOfMerit(
        "throughput_per_watt",
        "workload-mix throughput per watt",
        "mix_tflops_per_w",
        "TFLOPS/W",
        definition="attainable TFLOPS on the Workloads mix over power at 100 % "
        "utilisation",
    ),
    "workload_throughput": FigureOfMerit(
        "workload_throughput",
        "workload-mix throughput",
        "mix_tflops",
        "TFLOPS",
        definition="attainable TFLOPS on the Workloads mix (time-weighted roofline)",
    ),
    "peak_density": FigureOfMerit(
        "peak_density",
        "peak density",
        "density_tflops_per_mm2",
        "TFLOPS/mm²",
        definition="peak TFLOPS per mm² of compute die",
    ),
    "unit_cost": FigureOfMerit(
        "unit_cost",
        "unit cost",
        "unit_cost_usd",
        "USD",
        higher_is_better=False,
        definition="USD per good package plus NRE per unit (Cost sheet; node "
        "values from Cost setup), the lowest wins",
    ),
    "tflops_per_usd": FigureOfMerit(
        "tflops_per_usd",
        "TFLOPS per USD",
        "tflops_per_usd",
        "TFLOPS/USD",
        definition="peak TFLOPS at the target precision over the unit cost (USD "
        "per good package plus NRE per unit)",
    ),
    "tokens_per_s": FigureOfMerit(
        "tokens_per_s",
        "output tokens/s",
        "tokens_per_s",
        "tokens/s",
        definition="output tokens per second of the tp packages serving the "
        "merit model in the merit scenario (Inference sheet)",
        serving=True,
    ),
    "tokens_per_s_per_usd": FigureOfMerit(
        "tokens_per_s_per_usd",
        "output tokens/s per USD",
        "tokens_per_s_per_usd",
        "tokens/s/USD",
        definition="output tokens/s of the merit model in the merit scenario "
        "over tp x unit cost (Inference sheet)",
        serving=True,
    ),
}
assert set(FIGURES) == set(FIGURES_OF_MERIT), "schema and advice disagree"
assert {n for n, f in FIGURES.items() if f.serving} == set(SERVING_FIGURES)


def evaluate_scores(
    variants: pd.DataFrame,
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
) -> pd.DataFrame:
    """:func:`score_table` of raw variant rows, each under its own power preset."""
    applied = apply_power_preset(variants)
    return score_table(applied, evaluate(applied), workloads, shares)


def judge(
    scores: pd.DataFrame,
    variants: pd.DataFrame,
    figure: FigureOfMerit,
    checks=TARGET_CHECKS,
) -> pd.DataFrame:
    """``scores`` with each target's verdict and shortfall, the total and the rank.

    Adds ``met_<check>`` and ``shortfall_<check>`` per check, ``meets_all``,
    ``shortfall`` (sum), ``figure_of_merit`` (the figure's value) and ``rank``
    (1 = best): the variants meeting every target by the figure of merit, then the
    rest by shortfall (ties by the figure of merit, then input order).
    """
    out = scores.copy()
    total = np.zeros(len(out))
    meets = np.ones(len(out), dtype=bool)
    for c in checks:
        met = c.met(scores, variants)
        out[f"met_{c.name}"] = met
        s = c.shortfall(scores, variants)
        out[f"shortfall_{c.name}"] = s
        total = total + s
        meets &= met
    out["meets_all"] = meets
    out["shortfall"] = total
    out["figure_of_merit"] = scores[figure.column].to_numpy()
    key = figure.key(scores)
    order = np.lexsort((np.arange(len(out)), -key, total, ~meets))
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    return out
