"""Global sensitivity: Sobol indices over the exploration ranges (Saltelli sampling).

Where the one-at-a-time sweeps move one parameter around one design, Sobol indices
vary every parameter at once over its whole range and split the variance of a
metric into what each parameter explains alone (first order, S1) and with every
interaction it takes part in (total order, ST). ``ST - S1`` is the share of variance
a parameter explains only through interactions, which one-at-a-time sweeps cannot
see.

Estimators: two independent N x k sample matrices A and B, and for each parameter
i the matrix AB_i (A with column i taken from B); N (k + 2) model runs.

    V    = Var([f(A), f(B)])
    S1_i = mean((f(B) - m) (f(AB_i) - f(A))) / V                (Saltelli 2010)
    ST_i = mean((f(A) - f(AB_i))^2) / (2 V)                     (Jansen 1999)

with m the mean of [f(A), f(B)]: centring keeps S1 consistent and removes the
estimator's dependence on an offset of the output. 95 % confidence half-widths
come from a seeded bootstrap over the N rows. Parameters are sampled uniformly over
their ranges and treated as continuous (a whole-number parameter may take 37.4), as
the elasticities are. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine.inputs import Inputs
from ..lazy import pd
from .explore import CHUNK_POINTS, Problem, evaluate_points, quantity

#: Bootstrap resamples of the confidence intervals.
BOOTSTRAP = 200
#: Normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054

#: At most this many counts (resamples x points) of the bootstrap at a time:
#: 16 MB of float64.
RESAMPLE_VALUES = 2_000_000


def sample(bounds, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The two independent base matrices A and B, each (n, k), uniform in ``bounds``.

    Parameters
    ----------
    bounds : sequence of (low, high)
        One pair per parameter.
    n : int
        Rows of each matrix (base samples).
    seed : int

    Returns
    -------
    (A, B) : tuple of numpy.ndarray
    """
    b = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    if n < 2 or not np.isfinite(b).all() or (b[:, 0] > b[:, 1]).any():
        raise ValueError("Sobol sampling needs n >= 2 and finite low <= high bounds")
    rng = np.random.default_rng(seed)
    u = rng.random((2, n, len(b)))
    x = b[:, 0] + u * (b[:, 1] - b[:, 0])
    return x[0], x[1]


def indices(
    f_a: np.ndarray,
    f_b: np.ndarray,
    f_ab: np.ndarray,
    seed: int = 0,
    bootstrap: int = BOOTSTRAP,
) -> dict[str, np.ndarray]:
    """First- and total-order indices from model outputs.

    Parameters
    ----------
    f_a, f_b : numpy.ndarray
        Outputs at A and B, shape (n,).
    f_ab : numpy.ndarray
        Outputs at AB_i, shape (k, n).
    seed : int
        Seed of the bootstrap.
    bootstrap : int
        Resamples for the confidence half-widths (0: none, NaN).

    Returns
    -------
    dict
        ``S1``, ``ST``, ``S1_conf``, ``ST_conf`` (95 % half-widths), each (k,).
        All NaN when the output does not vary, or is not finite at every point
        (a design in thermal runaway has no operating point, so no variance).
    """
    f_a, f_b, f_ab = (np.asarray(v, dtype=np.float64) for v in (f_a, f_b, f_ab))
    s1, st = _estimate(f_a, f_b, f_ab)
    k, n = f_ab.shape
    s1_c = st_c = np.full(k, np.nan)
    if bootstrap > 0 and np.isfinite(s1).all():
        rng = np.random.default_rng(seed)
        s1_b = np.empty((bootstrap, k))
        st_b = np.empty((bootstrap, k))
        # each resample as the count of each point in it (the same draws as
        # indexing by them), its means as products with the points' values
        at_once = max(1, RESAMPLE_VALUES // n)
        for r0 in range(0, bootstrap, at_once):
            m = min(at_once, bootstrap - r0)
            counts = np.empty((m, n))
            for r in range(m):
                counts[r] = np.bincount(rng.integers(0, n, n), minlength=n)
            s1_b[r0 : r0 + m], st_b[r0 : r0 + m] = _estimate_weighted(
                f_a, f_b, f_ab, counts
            )
        s1_c = Z95 * s1_b.std(axis=0, ddof=1)
        st_c = Z95 * st_b.std(axis=0, ddof=1)
    return {"S1": s1, "ST": st, "S1_conf": s1_c, "ST_conf": st_c}


def _estimate(f_a, f_b, f_ab) -> tuple[np.ndarray, np.ndarray]:
    both = np.concatenate([f_a, f_b])
    if not (np.isfinite(both).all() and np.isfinite(f_ab).all()):
        k = f_ab.shape[0]
        return np.full(k, np.nan), np.full(k, np.nan)
    var = np.var(both)
    if not np.isfinite(var) or var <= 0:
        k = f_ab.shape[0]
        return np.full(k, np.nan), np.full(k, np.nan)
    # centring f(B) keeps S1 consistent (E[f(AB_i) - f(A)] = 0), independent of
    # an offset of the output and of smaller variance
    s1 = np.mean((f_b - both.mean()) * (f_ab - f_a), axis=1) / var
    st = 0.5 * np.mean((f_a - f_ab) ** 2, axis=1) / var
    return s1, st


def _estimate_weighted(f_a, f_b, f_ab, counts) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_estimate` of resamples given as ``counts`` (r, n): how often each
    point is drawn into each; every value finite. Returns S1 and ST, each (r, k).

    A resample's means are weighted means of the points, so every resample's
    sums are one matrix product over the n points (not a gathered copy of k n
    values per resample). The outputs are centred on their overall mean first
    (the indices do not depend on an offset), so the variance as the mean square
    less the squared mean loses no digits to a large offset; it agrees with
    :func:`_estimate` of the gathered resample to rounding (a part in 10^12).
    """
    n = f_a.shape[0]
    centre = np.concatenate([f_a, f_b]).mean()
    a, b = f_a - centre, f_b - centre
    d = f_ab - f_a  # (k, n)
    k = d.shape[0]
    means = (counts @ np.vstack([a, b, a * a, b * b, d, b * d, d * d]).T) / n
    mean_a, mean_b, mean_aa, mean_bb = means[:, :4].T
    mean_d, mean_bd, mean_dd = (means[:, 4 + j * k : 4 + (j + 1) * k] for j in range(3))
    mean_both = 0.5 * (mean_a + mean_b)
    square = 0.5 * (mean_aa + mean_bb)
    var = square - mean_both**2
    # a resample whose output does not vary: its variance is rounding only
    flat = ~(var > 64 * np.finfo(np.float64).eps * square)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = (mean_bd - mean_both[:, None] * mean_d) / var[:, None]
        st = 0.5 * mean_dd / var[:, None]
    s1[flat] = np.nan
    st[flat] = np.nan
    return s1, st


def sobol(
    func: Callable[[np.ndarray], np.ndarray],
    bounds,
    n: int,
    seed: int = 0,
    bootstrap: int = BOOTSTRAP,
) -> dict[str, np.ndarray]:
    """Sobol indices of ``func`` (an (m, k) array -> (m,) outputs) over ``bounds``.

    Returns the dict of :func:`indices`. ``func`` is called once on all
    n (k + 2) rows.
    """
    a, b = sample(bounds, n, seed)
    k = a.shape[1]
    rows = [a, b]
    for i in range(k):
        ab = a.copy()
        ab[:, i] = b[:, i]
        rows.append(ab)
    y = np.asarray(func(np.concatenate(rows)), dtype=np.float64)
    return indices(y[:n], y[n : 2 * n], y[2 * n :].reshape(k, n), seed, bootstrap)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami test function on [-pi, pi]^3 (known indices, see the tests)."""
    x = np.asarray(x, dtype=np.float64)
    return (
        np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    )


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Analytic first- and total-order Sobol indices of :func:`ishigami`."""
    pi = np.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {
        "S1": np.array([v1, v2, 0.0]) / v,
        "ST": np.array([v1 + v13, v2, v13]) / v,
    }


def exploration_sobol(
    problem: Problem,
    base: Inputs,
    n: int,
    quantities,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Sobol indices of ``quantities`` over the ranges of ``problem`` around ``base``.

    Parameters
    ----------
    problem : Problem
        Its ranges (uniform, continuous) and seed are used; grid points, method and
        constraints are not (indices describe the whole box, feasible or not).
    base : dict of str to numpy.ndarray
        The design whose other parameters are held (one checked row).
    n : int
        Base samples; the model runs n (k + 2) times, in chunks.
    quantities : sequence of str
        Metrics or parameters to decompose.
    progress : callable, optional
        ``progress(runs_done, runs_total)``.

    Returns
    -------
    pandas.DataFrame
        One row per (quantity, parameter): ``quantity``, ``parameter``, ``S1``,
        ``S1_conf``, ``ST``, ``ST_conf``, ``interaction`` (ST - S1, at least 0).
    """
    names = problem.names
    bounds = [(r.low, r.high) for r in problem.ranges]
    a, b = sample(bounds, n, problem.seed)
    k = len(names)
    total = n * (k + 2)
    outputs = {q: np.empty(total) for q in quantities}
    done = 0
    for block in range(k + 2):
        if block == 0:
            m = a
        elif block == 1:
            m = b
        else:
            m = a.copy()
            m[:, block - 2] = b[:, block - 2]
        for s in range(0, n, CHUNK_POINTS):
            part = m[s : s + CHUNK_POINTS]
            metrics, inputs = evaluate_points(
                base, {nm: part[:, j] for j, nm in enumerate(names)}
            )
            for q in quantities:
                outputs[q][block * n + s : block * n + s + len(part)] = quantity(
                    q, metrics, inputs
                )
            done += len(part)
            if progress is not None:
                progress(done, total)
    # fewer bootstrap resamples for very large samples (each resamples N (k + 2))
    boot = int(np.clip(2e8 // total, 20, BOOTSTRAP))
    frames = []
    for q in quantities:
        y = outputs[q]
        r = indices(y[:n], y[n : 2 * n], y[2 * n :].reshape(k, n), problem.seed, boot)
        frames.append(
            pd.DataFrame(
                {
                    "quantity": q,
                    "parameter": names,
                    "S1": r["S1"],
                    "S1_conf": r["S1_conf"],
                    "ST": r["ST"],
                    "ST_conf": r["ST_conf"],
                    "interaction": np.maximum(r["ST"] - r["S1"], 0.0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
