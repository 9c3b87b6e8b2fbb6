"""The exact Pareto front (xlmodel.studies.pareto) against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xlmodel.studies.pareto as pareto
from xlmodel.studies.explore import pareto_mask as explore_pareto_mask
from xlmodel.studies.pareto import pareto_mask


def brute_front(scores: np.ndarray) -> np.ndarray:
    """Non-dominated rows by comparing every pair (the definition)."""
    s = np.asarray(scores, dtype=np.float64)
    ge = (s[:, None, :] >= s[None, :, :]).all(axis=2)
    gt = (s[:, None, :] > s[None, :, :]).any(axis=2)
    return ~(ge & gt).any(axis=0)


def brute_large(scores: np.ndarray) -> np.ndarray:
    """The same, one row at a time (memory O(N) for a few thousand rows)."""
    s = np.asarray(scores, dtype=np.float64)
    out = np.ones(len(s), dtype=bool)
    for i, row in enumerate(s):
        ge = (s >= row).all(axis=1)
        gt = (s > row).any(axis=1)
        out[i] = not (ge & gt).any()
    return out


@st.composite
def score_sets(draw, min_m=1, max_m=5):
    """Score tables with many ties and duplicate rows, or none."""
    m = draw(st.integers(min_m, max_m))
    n = draw(st.integers(0, 150))
    levels = draw(st.sampled_from([2, 3, 5, 50, 0]))
    if levels:
        elements = st.integers(0, levels - 1).map(float)
    else:
        elements = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    s = draw(arrays(np.float64, (n, m), elements=elements))
    if n and draw(st.booleans()):  # duplicate some rows
        idx = draw(st.lists(st.integers(0, n - 1), max_size=n))
        s = np.concatenate([s, s[idx]])
    return s


@settings(max_examples=300, deadline=None)
@given(score_sets())
def test_matches_brute_force_with_ties_and_duplicates(s):
    assert (pareto_mask(s) == brute_front(s)).all()


@settings(max_examples=150, deadline=None)
@given(score_sets(min_m=2, max_m=4))
def test_matches_brute_force_with_every_fallback_taken(s):
    # with 8-bit sort keys, packed keys give way to the lexicographic sorts and
    # column pairs are re-ranked; and both filters run on a handful of rows, with
    # a coarse grid whose cell borders fall on the tied values: other paths, the
    # same front
    names = ("_INT_BITS", "_PIVOT_MIN_ROWS", "_GRID_MIN_ROWS", "_GRID_CELLS")
    saved = {k: getattr(pareto, k) for k in names}
    for k, v in zip(names, (8, 2, 2, 4 ** s.shape[1])):
        setattr(pareto, k, v)
    try:
        got = pareto_mask(s)
    finally:
        for k, v in saved.items():
            setattr(pareto, k, v)
    assert (got == brute_front(s)).all()


@pytest.mark.parametrize("m", [2, 3, 4])
@pytest.mark.parametrize("kind", ["uniform", "sphere", "grid"])
def test_matches_brute_force_on_thousands_of_points(m, kind):
    # enough rows for the pivot filter and many levels of the recursion
    rng = np.random.default_rng(m)
    n = 2500
    if kind == "uniform":
        s = rng.random((n, m))
    elif kind == "sphere":  # every point on the front, nearly
        d = np.abs(rng.standard_normal((n, m)))
        s = d / np.linalg.norm(d, axis=1, keepdims=True)
        s *= 1 - 0.01 * rng.random((n, 1))
    else:  # few values: ties everywhere, many copies
        s = rng.integers(0, 6, (n, m)).astype(float)
    want = brute_large(s)
    assert (pareto_mask(s) == want).all()
    assert want.sum() > 0


def test_mixed_senses_as_explore_builds_them():
    # explore negates minimised objectives; -0.0 and 0.0 are the same value
    s = np.array([[0.0, -0.0], [-0.0, 0.0], [1.0, -1.0], [0.0, -1.0]])
    assert pareto_mask(s).tolist() == [True, True, True, False]
    assert (pareto_mask(s) == brute_front(s)).all()


def test_edges():
    assert pareto_mask(np.empty((0, 3))).shape == (0,)
    assert pareto_mask(np.ones((4, 0))).all()
    assert pareto_mask(np.array([[1.0], [3.0], [3.0]])).tolist() == [False, True, True]
    assert pareto_mask(np.full((70, 3), 2.0)).all()  # every row a copy
    s = np.array([[np.inf, 0.0], [1.0, 1.0], [-np.inf, 2.0], [-np.inf, 1.0]])
    assert pareto_mask(s).tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="2-D"):
        pareto_mask(np.ones(3))


def test_one_point_dominates_the_rest():
    rng = np.random.default_rng(3)
    s = rng.random((5000, 3))
    s[1234] = 2.0
    mask = pareto_mask(s)
    assert np.flatnonzero(mask).tolist() == [1234]


def test_explore_uses_this_front():
    assert explore_pareto_mask is pareto_mask


def test_scores_whose_range_is_subnormal():
    # a range below the smallest normal float once overflowed 1 / range
    s = np.zeros((max(pareto._PIVOT_MIN_ROWS, 2) * 2, 2))
    s[0, 0] = 2.22507386e-313
    assert (pareto_mask(s) == brute_front(s)).all()
    assert pareto_mask(s)[0] and not pareto_mask(s)[1:].any()


def test_subnormal_ranges_through_every_fallback(monkeypatch):
    # the grid and pivot filters on a handful of rows, one range subnormal
    for name, value in (("_PIVOT_MIN_ROWS", 2), ("_GRID_MIN_ROWS", 2)):
        monkeypatch.setattr(pareto, name, value)
    monkeypatch.setattr(pareto, "_GRID_CELLS", 4**4)
    s = np.zeros((2, 4))
    s[0, 0], s[1, 1] = 1.0, 2.22507386e-309
    assert (pareto_mask(s) == brute_front(s)).all()
