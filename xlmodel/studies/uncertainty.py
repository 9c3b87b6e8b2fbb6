"""Uncertainty: Monte Carlo around each variant, percentiles and target probabilities.

Each uncertain parameter gets a relative spread: ``uniform`` p % draws the value
from x (1 + U(-p, p) / 100), ``normal`` p % from x (1 + N(0, p) / 100), p being one
standard deviation. Draws are clipped to the parameter's valid range and treated as
continuous. Every variant gets ``samples`` draws from a generator seeded with
``(seed, crc32(variant name))``, so a variant's outcome repeats and does not change
when other variants are added or moved. No I/O here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.inputs import Inputs
from ..engine.model import METRIC_UNITS, evaluate_arrays
from ..lazy import pd
from ..schema import BY_NAME
from .limits import LimitSource, limits_line

DISTRIBUTIONS = ("uniform", "normal")
#: Quantities summarised by percentiles (engine metric names).
QUANTITIES = (
    "target_density_tflops_per_mm2",
    "power_total_w",
    "tflops_per_w",
    "junction_temp_c",
)
#: Target checks (engine booleans) whose probability is reported.
TARGET_CHECKS = (
    "meets_density_target",
    "meets_power_budget",
    "meets_tj_max",
    "meets_all_targets",
)
PERCENTILES = (10.0, 50.0, 90.0)
#: Percentiles of the CDF tables (0, 2, ..., 100).
CDF_PERCENTILES = tuple(float(p) for p in range(0, 101, 2))
#: Rows evaluated at once (variants x samples).
CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class Spread:
    """Relative spread of one parameter: ``distribution`` and ``percent``."""

    name: str
    distribution: str
    percent: float

    def draw(self, x: float, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values around ``x``, clipped to the parameter's valid range."""
        p = self.percent / 100.0
        if self.distribution == "uniform":
            e = rng.uniform(-p, p, n)
        else:
            e = rng.normal(0.0, p, n)
        prm = BY_NAME[self.name]
        return np.clip(x * (1.0 + e), prm.minimum, prm.maximum)


@dataclass(frozen=True)
class Uncertainty:
    """Spreads and sampling settings, validated when built.

    Attributes
    ----------
    spreads : tuple of Spread
    samples : int
        Draws per variant.
    seed : int
    quantities : tuple of str
        Engine metrics summarised by percentiles and CDFs (default
        ``QUANTITIES``; any numeric metric, e.g. ``unit_cost_usd``).
    limits : tuple of LimitSource
        The target limits the probabilities are judged at; one typed on the
        Uncertainty setup (``typed``) replaces its target for every variant, the
        others follow Targets.
    """

    spreads: tuple[Spread, ...]
    samples: int = 10_000
    seed: int = 0
    quantities: tuple[str, ...] = QUANTITIES
    limits: tuple[LimitSource, ...] = ()

    @property
    def overrides(self) -> dict[str, float]:
        """Target parameter -> the limit typed on the Uncertainty setup."""
        return {s.target: s.limit for s in self.limits if s.typed and s.target}

    def limits_line(self) -> str:
        """Which target limits follow Targets and which were typed (one line)."""
        return limits_line(self.limits, "Uncertainty setup")

    def __post_init__(self):
        object.__setattr__(self, "spreads", tuple(self.spreads))
        object.__setattr__(self, "quantities", tuple(self.quantities))
        for q in self.quantities:
            if METRIC_UNITS.get(q, "bool") == "bool":
                raise ValueError(f"{q!r} is not a numeric engine metric")
        if len(set(self.quantities)) != len(self.quantities):
            raise ValueError(f"a quantity is listed twice: {self.quantities}")
        if not self.spreads:
            raise ValueError("no uncertain parameters")
        names = [s.name for s in self.spreads]
        if len(set(names)) != len(names):
            raise ValueError(f"a parameter has two spreads: {names}")
        for s in self.spreads:
            p = BY_NAME.get(s.name)
            if p is None or not p.numeric:
                raise ValueError(f"{s.name!r} is not a numeric model parameter")
            if s.distribution not in DISTRIBUTIONS:
                raise ValueError(f"{s.name}: distribution {s.distribution!r}")
            if not 0 <= s.percent < 100:
                raise ValueError(f"{s.name}: spread {s.percent!r} % not in [0, 100)")
        if self.samples < 2:
            raise ValueError("at least 2 samples per variant")


@dataclass
class UncertaintyResult:
    """Outcome of :func:`monte_carlo`.

    Attributes
    ----------
    spec : Uncertainty
    summary : pandas.DataFrame
        One row per variant (index): ``<quantity>_p10``, ``_p50``, ``_p90`` for each
        of ``spec.quantities`` (default ``QUANTITIES``; their units), ``<quantity>_nominal`` (no spread), and
        ``p_<check>`` (probability 0-1) for each of ``TARGET_CHECKS``.
    cdf : dict of str to pandas.DataFrame
        Per quantity: index = percentile (``CDF_PERCENTILES``), one column per
        variant.
    """

    spec: Uncertainty
    summary: pd.DataFrame
    cdf: dict[str, pd.DataFrame]


def variant_seed(seed: int, name) -> list[int]:
    """Seed sequence of one variant: (seed, crc32 of its name)."""
    return [int(seed), zlib.crc32(str(name).encode("utf-8"))]


def monte_carlo(
    inputs: Inputs,
    names,
    spec: Uncertainty,
    progress: Callable[[int, int], None] | None = None,
) -> UncertaintyResult:
    """Percentiles and target probabilities of every variant under ``spec``.

    Parameters
    ----------
    inputs : dict of str to numpy.ndarray
        Checked variants (:func:`xlmodel.engine.prepare`), V rows.
    names : sequence
        The V variant names (seeds and labels).
    spec : Uncertainty
    progress : callable, optional
        ``progress(draws_done, draws_total)``.

    Returns
    -------
    UncertaintyResult
    """
    names = list(names)
    quantities = spec.quantities
    v, n = len(names), spec.samples
    inputs = dict(inputs)
    for target, value in spec.overrides.items():
        inputs[target] = np.full(v, float(value))
    per_chunk = max(1, CHUNK_ROWS // n)
    rows, cdfs = [], {q: {} for q in quantities}
    nominal = evaluate_arrays(inputs, 1.0, quantities)
    used = list(dict.fromkeys([*quantities, *TARGET_CHECKS]))
    pct = np.array(CDF_PERCENTILES)
    spread = {sp.name for sp in spec.spreads}
    draws = {k: np.empty((per_chunk, n)) for k in spread}
    if progress is not None:  # started: it may run beside another stage
        progress(0, v * n)
    for s in range(0, v, per_chunk):
        group = range(s, min(s + per_chunk, v))
        g = len(group)
        x = _rows(inputs, s, group.stop, {k: b[:g] for k, b in draws.items()})
        for j, i in enumerate(group):
            rng = np.random.default_rng(variant_seed(spec.seed, names[i]))
            for sp in spec.spreads:
                x[sp.name][j] = sp.draw(float(inputs[sp.name][i]), rng, n)
        out = evaluate_arrays(x, 1.0, used)
        # one percentile call per quantity for the whole group: rows = variants
        wanted = np.concatenate([PERCENTILES, pct])
        stats = {q: _percentiles(_full(out[q], g, n), wanted) for q in quantities}
        shares = {c: _full(out[c], g, n).mean(axis=1) for c in TARGET_CHECKS}
        k = len(PERCENTILES)
        for j, i in enumerate(group):
            row: dict = {}
            for q in quantities:
                lo, mid, hi = stats[q][:k, j]
                row[f"{q}_p10"], row[f"{q}_p50"], row[f"{q}_p90"] = lo, mid, hi
                row[f"{q}_nominal"] = float(nominal[q][i])
                cdfs[q][names[i]] = stats[q][k:, j]
            for c in TARGET_CHECKS:
                row[f"p_{c}"] = float(shares[c][j])
            rows.append(row)
        if progress is not None:
            progress(group.stop * n, v * n)
    summary = pd.DataFrame(rows, index=pd.Index(names, name="variant"))
    cdf = {
        q: pd.DataFrame(cols, index=pd.Index(pct, name="percentile"))
        for q, cols in cdfs.items()
    }
    return UncertaintyResult(spec, summary, cdf)


def _rows(
    inputs: Inputs, start: int, stop: int, drawn: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The inputs of variants ``start:stop`` as rows of draws: an input without
    a spread is one column (a view, each variant's value once), which numpy
    broadcasts over the draws; a drawn one is ``drawn``'s (variants x draws)
    buffer, left for the draws to fill. Each metric is then computed once per
    variant where no draw enters it, and its value per draw is the same
    operation on the same numbers as over every draw repeated."""
    return {
        k: drawn[k] if k in drawn else a[start:stop, None] for k, a in inputs.items()
    }


def _full(a: np.ndarray, g: int, n: int) -> np.ndarray:
    """A metric over rows of draws, as variants x draws (a column broadcast)."""
    return np.broadcast_to(a, (g, n))


def _percentiles(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Percentiles along axis 1 (linear interpolation); +inf where the draws
    there are +inf (a draw in thermal runaway has no finite power or Tj).

    The result is ``np.percentile(values, wanted, axis=1)`` bit for bit: the draws
    are sorted once and every percentile interpolated between its neighbours the
    way numpy does, instead of one partial sort per percentile. Draws that hold a
    zero (0.0 and -0.0 tie, and a sort may order them otherwise than numpy's
    partition) or a non-finite value take numpy's own path.
    """
    if np.isfinite(values).all():
        s = np.sort(values, axis=1)
        if not (s == 0).any():
            return _sorted_percentiles(s, wanted)
        return np.percentile(values, wanted, axis=1)
    with np.errstate(invalid="ignore"):
        linear = np.percentile(values, wanted, axis=1)
    higher = np.percentile(values, wanted, axis=1, method="higher")
    return np.where(np.isnan(linear), higher, linear)


def _sorted_percentiles(s: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """numpy's linear percentiles (its index, weight and interpolation formulas,
    step for step) of rows ``s`` already sorted along axis 1."""
    n = s.shape[1]
    virtual = (n - 1) * np.true_divide(np.asarray(wanted, dtype=np.float64), 100)
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = -1
    nxt[above] = -1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = np.asarray(virtual - prev, dtype=virtual.dtype).reshape(-1, 1)
    a, b = s[:, prev].T, s[:, nxt].T
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out
