"""Chunk summaries: the fast path equals the plain one; threads and runners change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xlmodel.studies.explore as ex
from xlmodel.engine import prepare
from xlmodel.studies.explore import (
    Constraint,
    Objective,
    Problem,
    Range,
    best_order,
    best_rows,
    chunks_run_by,
    explore,
    local_summaries,
    sample_chunk,
    summarise_chunk,
)
from xlmodel.studies.run import seed_study

RANGES = (
    Range("sms_per_chiplet", 16, 160, 5),
    Range("clock_mhz", 1200, 2800, 4),
    Range("num_chiplets", 1, 8, 8),
    Range("chiplet_area_mm2", 250, 900, 3),
)
CONSTRAINTS = (
    Constraint("power_total_w", "<=", 700),
    Constraint("junction_temp_c", "<=", 100),
    Constraint("chiplet_area_mm2", "<=", 858),
)
TWO = (Objective("target_density_tflops_per_mm2"), Objective("power_total_w", "min"))
THREE = (*TWO, Objective("tflops_per_w"))
# objectives on parameters: many exact ties in every column
TIES = (
    Objective("num_chiplets", "min"),
    Objective("sms_per_chiplet"),
    Objective("meets_tj_max"),
)


def base_inputs():
    return prepare(seed_study().variants.loc[["Baseline"]])


def plain_summary(problem: Problem, base, index: int) -> ex.ChunkSummary:
    """A chunk reduced the plain way: every metric, full sorts, masks."""
    points = sample_chunk(problem, index)
    metrics, inputs = ex.evaluate_points(base, points)
    n = len(next(iter(points.values())))
    quantities = {o.quantity for o in problem.objectives}
    quantities |= {c.quantity for c in problem.constraints} | set(problem.axes())
    values = {q: ex.quantity(q, metrics, inputs) for q in quantities}
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
    where = np.flatnonzero(ok)
    kept = ex._Kept(
        index * ex.CHUNK_POINTS + where,
        np.column_stack([points[r.name][where] for r in problem.ranges]),
        scores[where],
    )
    keys = np.random.default_rng([problem.seed, index, 1]).random(n)
    x, y = (values[q] for q in problem.axes())
    empty = (np.empty(0),) * 3
    return ex.ChunkSummary(
        n,
        len(where),
        np.array([int((~m).sum()) for m in masks], dtype=np.int64),
        np.array([int((~m & (fails == 1)).sum()) for m in masks], dtype=np.int64),
        kept.take(ex.pareto_mask(kept.scores)),
        kept.take(best_order(kept.scores)[: problem.top_k]),
        ex._bottom_k((keys[ok], x[ok], y[ok]), empty),
        ex._bottom_k((keys[~ok], x[~ok], y[~ok]), empty),
    )


def assert_same_summary(a: ex.ChunkSummary, b: ex.ChunkSummary) -> None:
    assert (a.points, a.feasible) == (b.points, b.feasible)
    for name in ("violated", "alone"):
        got, want = getattr(a, name), getattr(b, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    for name in ("front", "top"):
        for part in ("index", "params", "scores"):
            got = getattr(getattr(a, name), part)
            want = getattr(getattr(b, name), part)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    for name in ("cloud_ok", "cloud_bad"):
        for got, want in zip(getattr(a, name), getattr(b, name)):
            np.testing.assert_array_equal(got, want)  # same points, same order


def assert_same_exploration(a: ex.Exploration, b: ex.Exploration) -> None:
    assert (a.points, a.feasible, a.front_size) == (b.points, b.feasible, b.front_size)
    for name in ("designs", "constraints", "cloud"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize(
    "objectives, constraints, method",
    [
        (TWO, CONSTRAINTS, "lhs"),
        (THREE, CONSTRAINTS[:1], "random"),
        (TIES, CONSTRAINTS, "grid"),
        (THREE, (), "lhs"),
        (TWO[:1], CONSTRAINTS, "random"),
    ],
    ids=["two lhs", "three random", "ties grid", "unconstrained", "one objective"],
)
def test_summaries_equal_the_plain_reduction(
    objectives, constraints, method, monkeypatch
):
    monkeypatch.setattr(ex, "CHUNK_POINTS", 4096)
    problem = Problem(RANGES, objectives, constraints, method, 10_000, seed=3, top_k=7)
    base = base_inputs()
    for i in range(problem.chunks):
        assert_same_summary(
            summarise_chunk(problem, base, i), plain_summary(problem, base, i)
        )


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 80), st.integers(1, 3)),
        elements=st.integers(0, 4).map(float),
    ),
    st.integers(1, 30),
)
def test_best_rows_is_the_head_of_the_full_sort(scores, k):
    np.testing.assert_array_equal(best_rows(scores, k), best_order(scores)[:k])


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_change_nothing(threads, monkeypatch):
    monkeypatch.setattr(ex, "CHUNK_POINTS", 2000)
    problem = Problem(RANGES, THREE, CONSTRAINTS, "lhs", 15_000, seed=9, top_k=12)
    base = base_inputs()
    monkeypatch.setattr(ex, "THREADS", 1)
    serial = explore(problem, base)
    monkeypatch.setattr(ex, "THREADS", threads)
    assert_same_exploration(explore(problem, base), serial)
    done = []
    for i, s in enumerate(local_summaries(problem, base, threads)):
        assert_same_summary(s, summarise_chunk(problem, base, i))
        done.append(i)
    assert done == list(range(problem.chunks))


def test_a_runner_that_finishes_chunks_out_of_order_changes_nothing(monkeypatch):
    monkeypatch.setattr(ex, "CHUNK_POINTS", 3000)
    problem = Problem(RANGES, TWO, CONSTRAINTS, "random", 20_000, seed=2)
    base = base_inputs()
    serial = explore(problem, base)
    asked = []

    def backwards(p, b):
        asked.append(p)
        done = {i: summarise_chunk(p, b, i) for i in reversed(range(p.chunks))}
        return (done[i] for i in range(p.chunks))

    with chunks_run_by(backwards):
        assert ex.chunk_runner is backwards
        result = explore(problem, base)
    assert ex.chunk_runner is None and asked == [problem]
    assert_same_exploration(result, serial)


def test_a_failing_chunk_stops_the_threads(monkeypatch):
    monkeypatch.setattr(ex, "CHUNK_POINTS", 1000)
    monkeypatch.setattr(ex, "THREADS", 2)
    problem = Problem(RANGES, TWO, CONSTRAINTS, "lhs", 20_000, seed=1)
    real = ex.summarise_chunk

    def fail_at_3(p, b, i):
        if i == 3:
            raise KeyboardInterrupt
        return real(p, b, i)

    monkeypatch.setattr(ex, "summarise_chunk", fail_at_3)
    seen = []
    with pytest.raises(KeyboardInterrupt):
        explore(problem, base_inputs(), progress=lambda d, t: seen.append(d))
    assert seen == [1000, 2000, 3000]
