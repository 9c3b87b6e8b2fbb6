"""Exact Pareto fronts: O(N log N) for two or three objectives, O(N log^(M-2) N) beyond.

Scores are an (N, M) array of finite values, every column to be maximised. Row j
dominates row i when it is at least as large in every column and larger in one;
equal rows do not dominate each other, so copies of a row are all kept or all
dropped. :func:`pareto_mask` returns the non-dominated rows.

The method, for M >= 2:

0. Two exact filters drop rows that are plainly dominated, so that what follows
   sees few rows when the front is small: rows dominated by a few pivots (each
   the best remaining row under a positive weighting of the scaled scores), then
   rows whose cell of a grid (about 2^20 cells, equal steps per axis) lies below
   an occupied cell on every axis. Neither can drop a front row, and dropping a
   dominated row changes nothing (whatever it dominates, its dominator does too).
1. Every column is replaced by its dense rank (integers that keep every
   comparison, ties included). Equal rows are merged into one, and the distinct
   rows are put in lexicographically descending order. A row that dominates
   another is lexicographically larger, so it comes first; and since the rows
   are distinct, a row is dominated exactly when some row before it is at least
   as large in columns 2..M (column 1 is then no smaller, by the order).
2. "Is some earlier row at least as large in k columns?" is answered by divide
   and conquer over the order, after Kung, Luccio and Preparata (JACM 22(4),
   1975): split the order into halves; each row of the right half is checked
   against the left half, where the order no longer matters, so both halves are
   sorted by the first of the k columns (descending, left before right at ties)
   and the same question is asked with k - 1 columns; then recurse into each
   half. One column is a running maximum. Each level of the recursion is done for
   every half at once with whole-array numpy operations, and the halves stay
   sorted from one level to the next by a stable split, not by sorting again.
   Rows found dominated leave the top-level recursion at once (what they
   dominate, their dominator does too), so a small front is found fast.

Cost: the filters O(N M) plus the grid; one sort per column; then O(N) for two
objectives (k = 1), O(N log N) for three (k = 2) and O(N log^(M-2) N) for M
objectives: O(N log^2 N) for four. Memory is O(N) integers whatever M, and the
grid (at most about 2^20 booleans).
"""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_mask"]

_INT_BITS = 63  # packed sort keys are non-negative int64


def pareto_mask(scores) -> np.ndarray:
    """Non-dominated rows of ``scores`` (N x M, every column to be maximised).

    Row j dominates row i when it is at least as large in every column and larger
    in one; equal rows do not dominate each other, so both are kept. One column:
    the rows equal to its maximum.

    Parameters
    ----------
    scores : array-like
        Finite values, shape (N, M).

    Returns
    -------
    numpy.ndarray
        Boolean mask of length N.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (N x M), not of shape {s.shape}")
    n, m = s.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 0:
        return np.ones(n, dtype=bool)
    if m == 1:
        return s[:, 0] == s[:, 0].max()
    cand = _not_dominated_by_pivots(s)
    cand = cand[_not_dominated_by_cells(s[cand])]
    sub = s[cand]
    ranks = [_dense_rank(sub[:, j]) for j in range(m)]
    rows, where = _distinct_rows_descending(ranks)
    dominated = _earlier_at_least(rows[1:], top=True)
    mask = np.zeros(n, dtype=bool)
    mask[cand[~dominated[where]]] = True
    return mask


#: Most cells of the grid filter (about 2^20: 1024 per axis for two objectives,
#: 101 for three, 32 for four), and the fewest rows it is tried on.
_GRID_CELLS = 1 << 20
_GRID_MIN_ROWS = 1024


def _not_dominated_by_cells(s: np.ndarray) -> np.ndarray:
    """Rows not in a grid cell below some occupied cell in every axis (exact).

    Each axis is cut into G equal cells between its minimum and maximum. A row
    whose cell is below another row's cell on every axis is below that row in
    every score, so it is dominated; the test is a suffix OR over the grid of
    occupied cells, O(N + G^M).
    """
    n, m = s.shape
    if n < _GRID_MIN_ROWS:
        return np.arange(n)
    per_axis = int(_GRID_CELLS ** (1.0 / m))
    if per_axis < 4:
        return np.arange(n)
    lo, hi = s.min(axis=0), s.max(axis=0)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return np.arange(n)
    width = np.where(hi > lo, hi - lo, 1.0)
    flat = np.zeros(n, dtype=np.int64)
    for j in range(m):
        # floor((x - lo) / width * G) never decreases as x grows: a higher cell
        # means a larger score; divided first, so a subnormal width cannot
        # overflow G / width
        cell = np.floor((s[:, j] - lo[j]) / width[j] * per_axis).astype(np.int64)
        np.clip(cell, 0, per_axis - 1, out=cell)
        flat *= per_axis
        flat += cell
    shape = (per_axis,) * m
    above = np.zeros(per_axis**m, dtype=bool)
    above[flat] = True
    above = above.reshape(shape)
    for axis in range(m):  # any occupied cell at or above, on every axis
        flipped = np.flip(above, axis)
        np.logical_or.accumulate(flipped, axis=axis, out=flipped)
    # strictly above on every axis: the suffix OR one cell up on each
    strict = np.zeros(shape, dtype=bool)
    strict[(slice(0, -1),) * m] = above[(slice(1, None),) * m]
    return np.flatnonzero(~strict.reshape(-1)[flat])


#: Weighted sums whose best rows serve as pivots, and when to stop trying more.
_PIVOTS = 8
_PIVOT_MIN_ROWS = 64
_PIVOT_TRIAL = 4
_PIVOT_GAIN = 0.1


def _pivot_weights(m: int) -> np.ndarray:
    """Positive weights (m x _PIVOTS): equal, near each axis, then fixed random."""
    near_axes = np.eye(m) + 1e-3
    rng = np.random.default_rng(0)
    extra = rng.dirichlet(np.ones(m), max(0, _PIVOTS - 1 - m)) + 1e-3
    return np.vstack([np.ones((1, m)), near_axes, extra])[:_PIVOTS].T


def _not_dominated_by_pivots(s: np.ndarray) -> np.ndarray:
    """Rows not dominated by a few strong rows (an exact test); the others are off.

    Pivot i is the remaining row with the largest sum of range-scaled scores
    under the i-th positive weighting, so it is on the front of the remaining
    rows. A row a pivot dominates is off the front, and dropping it changes
    nothing (whatever it dominates, the pivot dominates too). Each pivot is
    chosen among the rows left by the previous ones; stops early when the first
    pivots drop little (a front that is most of the points).
    """
    n, m = s.shape
    cand = np.arange(n)
    if n < _PIVOT_MIN_ROWS:
        return cand
    cols = [np.ascontiguousarray(s[:, j]) for j in range(m)]
    lo = np.array([c.min() for c in cols])
    hi = np.array([c.max() for c in cols])
    # a range below the smallest normal number (subnormal scores) would overflow
    # 1 / range: any positive finite weight keeps the pivots on the front
    scale = 1.0 / np.where(hi > lo, np.maximum(hi - lo, np.finfo(np.float64).tiny), 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        for i, w in enumerate(_pivot_weights(m).T):
            total = (cols[0] - lo[0]) * (scale[0] * w[0])
            for j in range(1, m):
                total += (cols[j] - lo[j]) * (scale[j] * w[j])
            v = [c[int(np.argmax(total))] for c in cols]
            at_most = cols[0] <= v[0]
            for c, x in zip(cols[1:], v[1:]):
                at_most &= c <= x
            # copies of the pivot are not dominated by it: few, found by column 1
            copies = np.flatnonzero(cols[0] == v[0])
            for c, x in zip(cols[1:], v[1:]):
                copies = copies[c[copies] == x]
            at_most[copies] = False
            keep = np.flatnonzero(~at_most)
            if len(keep) < len(cand):
                cand = cand[keep]
                cols = [c[keep] for c in cols]
            if i + 1 == _PIVOT_TRIAL and len(cand) > (1 - _PIVOT_GAIN) * n:
                break
    return cand


def _dense_rank(col: np.ndarray) -> np.ndarray:
    """0 for the smallest value, +1 for each larger distinct value (int64)."""
    order = np.argsort(col)
    v = col[order]
    step = np.empty(len(v), dtype=np.int64)
    step[0] = 0
    np.not_equal(v[1:], v[:-1], out=step[1:], casting="unsafe")
    rank = np.empty(len(v), dtype=np.int64)
    rank[order] = np.cumsum(step)
    return rank


def _bits(a: np.ndarray) -> int:
    return max(1, int(a.max()).bit_length()) if len(a) else 1


def _distinct_rows_descending(ranks: list[np.ndarray]):
    """Distinct rows in lexicographically descending order, and each row's place.

    Returns ``(columns, where)``: one int64 array per column of the distinct rows,
    and for every input row the index of its distinct row.
    """
    n = len(ranks[0])
    # One sortable integer per row: ranks packed side by side; while they need
    # more than 63 bits, the first two columns are replaced by the dense rank of
    # their pair (the same order, fewer bits).
    packed = list(ranks)
    while sum(_bits(r) for r in packed) > _INT_BITS:
        a, b = packed[0], packed[1]
        packed[:2] = [_dense_rank((a << _bits(b)) | b)]
    key = np.zeros(n, dtype=np.int64)
    for r in packed:
        key <<= _bits(r)
        key |= r
    order = np.argsort(key)
    k = key[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(k[1:], k[:-1], out=new[1:])
    ascending = np.cumsum(new) - 1
    count = int(ascending[-1]) + 1
    where = np.empty(n, dtype=np.int64)
    where[order] = count - 1 - ascending
    first = order[new][::-1]
    return [r[first] for r in ranks], where


def _group_ids(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of runs of equal keys in array order; and where each run starts."""
    n = len(keys[0])
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    return np.cumsum(new) - 1, np.flatnonzero(new)


def _running_hits(c, gid, data, query) -> np.ndarray:
    """Queries with an earlier data element of their group at least as large in c.

    ``c`` holds integers >= 0, ``gid`` non-decreasing group ids; ``data`` and
    ``query`` are masks (None: every element).
    """
    width = int(c.max()) + 2
    base = gid * width
    v = c if data is None else np.where(data, c, -1)
    run = np.maximum.accumulate(v + base)
    before = np.empty_like(run)
    before[0] = -1
    before[1:] = run[:-1]
    # a running maximum from an earlier group is below this group's base - 1
    hit = before - base >= c
    return hit if query is None else hit & query


def _sorted_by(seg: np.ndarray | None, col: np.ndarray) -> np.ndarray:
    """Element order by (segment, col descending, position)."""
    n = len(col)
    desc = int(col.max()) - col
    pos_bits = max(1, (n - 1).bit_length())
    seg_bits = 0 if seg is None else _bits(seg)
    if seg_bits + _bits(desc) + pos_bits <= _INT_BITS:
        key = desc << pos_bits
        if seg is not None:
            key |= seg << (pos_bits + _bits(desc))
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        return key & ((1 << pos_bits) - 1)
    keys = (desc,) if seg is None else (desc, seg)
    return np.lexsort(keys)  # stable: equal keys keep their positions


def _stable_split(order, gid, starts, bit) -> np.ndarray:
    """Within each group of ``order``, the elements whose bit is 0 first (stably)."""
    n = len(order)
    zero = bit == 0
    zeros_incl = np.cumsum(zero)
    zeros_before = zeros_incl - zero
    first = starts[gid]  # position of each element's group start
    zeros_in_group = zeros_before - zeros_before[first]
    totals = np.add.reduceat(zero, starts) if n else np.zeros(0, dtype=np.int64)
    ones_in_group = (np.arange(n) - first) - zeros_in_group
    dest = first + np.where(zero, zeros_in_group, totals[gid] + ones_in_group)
    out = np.empty_like(order)
    out[dest] = order
    return out


def _earlier_at_least(
    cols, seg=None, data=None, query=None, top=False, _pruned=False
) -> np.ndarray:
    """For each query: is an earlier data element of its segment >= in every column?

    Elements are in time order within segments (``seg`` non-decreasing, None: one
    segment). ``top``: one segment, every element both data and query. Otherwise
    ``data`` and ``query`` are disjoint masks. A query found is settled and
    stops taking part; at the top level it also stops serving as data, since
    whatever it dominates its dominator does too.
    """
    n = len(cols[0])
    if n == 0:
        return np.zeros(0, dtype=bool)
    if len(cols) == 1:
        gid = np.zeros(n, dtype=np.int64) if seg is None else seg
        return _running_hits(cols[0], gid, data, query)
    if not top and not _pruned:
        # data after the last query of its segment, and queries before its
        # first data, take no part
        keep = _useful(seg, data, query)
        if not keep.all():
            out = np.zeros(n, dtype=bool)
            if keep.any():
                sub, _ = _group_ids([seg[keep]])
                out[keep] = _earlier_at_least(
                    [c[keep] for c in cols], sub, data[keep], query[keep], _pruned=True
                )
            return out
    if seg is None:
        time = np.arange(n, dtype=np.int64)
        longest = n
    else:
        _, starts = _group_ids([seg])
        time = np.arange(n, dtype=np.int64) - starts[seg]
        longest = int(np.diff(np.append(starts, n)).max())
    levels = (longest - 1).bit_length()
    dominated = np.zeros(n, dtype=bool)
    # by (segment, first column descending, time): the order of the top level
    active = _sorted_by(seg, cols[0])
    rest = cols[1:]
    for level in range(levels - 1, -1, -1):
        t = time[active]
        keys = [t >> (level + 1)] if seg is None else [seg[active], t >> (level + 1)]
        g, starts = _group_ids(keys)
        left = ((t >> level) & 1) == 0
        d = left if data is None else left & data[active]
        q = ~left if query is None else ~left & query[active]
        hits = _level_hits([c[active] for c in rest], g, d, q)
        dominated[active[hits]] = True
        if level == 0:
            break
        if hits.any():
            keep = ~hits
            active, t, g = active[keep], t[keep], g[keep]
            g, starts = _group_ids([g])
        active = _stable_split(active, g, starts, (t >> level) & 1)
    return dominated


def _useful(seg, data, query) -> np.ndarray:
    """Data with a query after it in its segment, and queries with data before."""
    n = len(seg)
    _, starts = _group_ids([seg])
    pos = np.arange(n)
    last_query = np.maximum.reduceat(np.where(query, pos, -1), starts)
    first_data = np.minimum.reduceat(np.where(data, pos, n), starts)
    return (data & (pos < last_query[seg])) | (query & (pos > first_data[seg]))


def _level_hits(cols, g, d, q) -> np.ndarray:
    """One level: queries of each group against its data, the rest of the columns."""
    if len(cols) == 1:
        return _running_hits(cols[0], g, d, q)
    n_groups = int(g[-1]) + 1
    has_d = np.bincount(g, weights=d, minlength=n_groups) > 0
    has_q = np.bincount(g, weights=q, minlength=n_groups) > 0
    keep = (d | q) & (has_d & has_q)[g]
    hits = np.zeros(len(g), dtype=bool)
    if not keep.any():
        return hits
    sub, _ = _group_ids([g[keep]])
    hits[keep] = _earlier_at_least(
        [c[keep] for c in cols], seg=sub, data=d[keep], query=q[keep]
    )
    return hits
