"""The previous exploration path, kept as the baseline the benchmarks measure against.

Copied from xlmodel/studies/explore.py as it was before the exact Pareto module, the
metrics on demand and the partial selections (same results, slower): a Pareto
front that sorts by a normalised sum and compares blocks of candidates against
the front so far (O(N x front) for three objectives or more), every metric of the
engine for every point, a full sort for the top designs, and the chart cloud drawn
through boolean masks. Not used by xlmodel itself.
"""

from __future__ import annotations

import numpy as np

from xlmodel.engine.model import evaluate_arrays
from xlmodel.studies import explore as ex


def old_pareto_mask(scores: np.ndarray) -> np.ndarray:
    """Non-dominated rows of ``scores`` (N x M, every column to be maximised).

    Row j dominates row i when it is at least as large in every column and larger
    in one; equal rows do not dominate each other, so both are kept. Two columns:
    one sort, O(N log N). More: sort by the sum of range-normalised scores, drop
    what a few leading points dominate, then a block-nested loop over the rest.

    Parameters
    ----------
    scores : numpy.ndarray
        Finite values, shape (N, M).

    Returns
    -------
    numpy.ndarray
        Boolean mask of length N.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n, m = scores.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return scores[:, 0] == scores[:, 0].max()
    if m == 2:
        return _front_2d(scores[:, 0], scores[:, 1])
    return _front_nd(scores)


def _front_2d(f1: np.ndarray, f2: np.ndarray) -> np.ndarray:
    n = len(f1)
    order = np.lexsort((-f2, -f1))  # f1 descending, then f2 descending
    a, b = f1[order], f2[order]
    new = np.ones(n, dtype=bool)
    new[1:] = a[1:] != a[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    best_before = np.empty(n)
    best_before[0] = -np.inf
    best_before[1:] = np.maximum.accumulate(b)[:-1]
    # dominated by a point of larger f1 and no smaller f2, or of equal f1 and
    # larger f2 (the first of its equal-f1 group has the group's largest f2)
    dominated = (best_before[start] >= b) | (b[start] > b)
    mask = np.empty(n, dtype=bool)
    mask[order] = ~dominated
    return mask


def _dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # d[i, j]: row i of a dominates row j of b (column by column: no 3-D arrays)
    ge = np.ones((len(a), len(b)), dtype=bool)
    gt = np.zeros((len(a), len(b)), dtype=bool)
    for j in range(a.shape[1]):
        x, y = a[:, j, None], b[None, :, j]
        ge &= x >= y
        gt |= x > y
    return ge & gt


def _dominated_by(
    front: np.ndarray, x: np.ndarray, budget: int = 1 << 20
) -> np.ndarray:
    # rows of x dominated by some row of front; about `budget` pairs at a time
    out = np.zeros(len(x), dtype=bool)
    if len(front) == 0:
        return out
    step = max(1, budget // len(front))
    for s in range(0, len(x), step):
        out[s : s + step] = _dominates(front, x[s : s + step]).any(axis=0)
    return out


def _front_nd(scores: np.ndarray, block: int = 1024, pivots: int = 256) -> np.ndarray:
    n, m = scores.shape
    lo, hi = scores.min(axis=0), scores.max(axis=0)
    normed = (scores - lo) / np.where(hi > lo, hi - lo, 1.0)
    total = normed.sum(axis=1)
    # A dominating row has a larger sum, or an equal sum and is lexicographically
    # larger: in this order it always comes first.
    keys = tuple(-scores[:, j] for j in reversed(range(m))) + (-total,)
    order = np.lexsort(keys)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    # Cheap pre-filter: drop what the front of a few strong points dominates
    # (the best by the sum and the best by each objective).
    strong = [order[:pivots]]
    for j in range(m):
        strong.append(np.argpartition(-scores[:, j], min(32, n - 1))[:32])
    head = np.unique(np.concatenate(strong))
    head = head[_pairwise_front(scores[head])]
    keep = ~_dominated_by(scores[head], scores)
    candidates = np.flatnonzero(keep)
    candidates = candidates[np.argsort(rank[candidates])]
    front_idx: list[np.ndarray] = []
    front = np.empty((0, m))
    for s in range(0, len(candidates), block):
        idx = candidates[s : s + block]
        x = scores[idx]
        keep = ~_dominated_by(front, x)
        idx, x = idx[keep], x[keep]
        keep = _pairwise_front(x)
        front_idx.append(idx[keep])
        front = np.concatenate([front, x[keep]])
    mask = np.zeros(n, dtype=bool)
    if front_idx:
        mask[np.concatenate(front_idx)] = True
    return mask


def _pairwise_front(x: np.ndarray) -> np.ndarray:
    return ~_dominates(x, x).any(axis=0)


def old_evaluate_points(base, points, utilization=1.0):
    """Every metric, every input broadcast to full length."""
    n = len(next(iter(points.values())))
    x = {k: np.broadcast_to(v[:1], (n,)) for k, v in base.items()}
    for k, v in points.items():
        x[k] = np.asarray(v, dtype=np.float64)
    return evaluate_arrays(x, utilization), x


def old_summarise_chunk(problem, base, index: int) -> ex.ChunkSummary:
    """A chunk reduced as before (the same summary as ``ex.summarise_chunk``)."""
    points = ex.sample_chunk(problem, index)
    metrics, inputs = old_evaluate_points(base, points)
    n = len(next(iter(points.values())))
    values = {
        q: ex.quantity(q, metrics, inputs)
        for q in {
            *(o.quantity for o in problem.objectives),
            *(c.quantity for c in problem.constraints),
            *problem.axes(),
        }
    }
    ok = np.ones(n, dtype=bool)
    fails = np.zeros(n, dtype=np.int64)
    masks = []
    for c in problem.constraints:
        m = c.satisfied(values[c.quantity])
        masks.append(m)
        ok &= m
        fails += ~m
    scores = np.column_stack(
        [
            values[o.quantity] if o.sense == "max" else -values[o.quantity]
            for o in problem.objectives
        ]
    )
    ok &= np.isfinite(scores).all(axis=1)
    violated = np.array([int((~m).sum()) for m in masks], dtype=np.int64)
    alone = np.array([int((~m & (fails == 1)).sum()) for m in masks], dtype=np.int64)
    start = index * ex.CHUNK_POINTS
    where = np.flatnonzero(ok)
    kept = ex._Kept(
        start + where,
        np.column_stack([points[r.name][where] for r in problem.ranges]),
        scores[where],
    )
    front = kept.take(old_pareto_mask(kept.scores))
    top = kept.take(ex.best_order(kept.scores)[: problem.top_k])
    keys = np.random.default_rng([problem.seed, index, 1]).random(n)
    xq, yq = problem.axes()
    x, y = values[xq], values[yq]
    empty = (np.empty(0),) * 3
    return ex.ChunkSummary(
        n,
        len(where),
        violated,
        alone,
        front,
        top,
        ex._bottom_k((keys[ok], x[ok], y[ok]), empty),
        ex._bottom_k((keys[~ok], x[~ok], y[~ok]), empty),
    )


def old_chunks(problem, base):
    """Every chunk, in order, one after the other, the old way."""
    return (old_summarise_chunk(problem, base, i) for i in range(problem.chunks))
