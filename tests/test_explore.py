"""Design-space exploration, Monte Carlo and Sobol indices: the engine."""

from __future__ import annotations

import itertools
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import xlmodel.studies.explore as ex
from xlmodel import evaluate
from xlmodel.engine import prepare
from xlmodel.studies import global_sensitivity as gsa
from xlmodel.studies.explore import (
    Constraint,
    Objective,
    Problem,
    Range,
    explore,
    pareto_mask,
    sample_chunk,
)
from xlmodel.studies.run import seed_study
from xlmodel.studies.uncertainty import Spread, Uncertainty, monte_carlo

SPREADS = (
    Spread("sm_power_w", "normal", 10),
    Spread("static_power_w_per_chiplet", "uniform", 30),
    Spread("clock_mhz", "normal", 3),
)


def base_inputs(name: str = "Baseline") -> dict:
    return prepare(seed_study().variants.loc[[name]])


def brute_front(scores: np.ndarray) -> np.ndarray:
    """Non-dominated rows by comparing every pair."""
    ge = (scores[:, None, :] >= scores[None, :, :]).all(axis=2)
    gt = (scores[:, None, :] > scores[None, :, :]).any(axis=2)
    return ~(ge & gt).any(axis=0)


def brute_force(problem: Problem) -> tuple[pd.DataFrame, np.ndarray]:
    """Every grid point through the public evaluate(); feasible mask."""
    base = seed_study().variants.loc[["Baseline"]]
    grid = list(itertools.product(*(r.grid() for r in problem.ranges)))
    frame = pd.concat([base] * len(grid), ignore_index=True)
    for j, r in enumerate(problem.ranges):
        frame[r.name] = [g[j] for g in grid]
    metrics = evaluate(frame)
    values = pd.concat([frame[problem.names], metrics], axis=1)
    ok = np.ones(len(frame), dtype=bool)
    for c in problem.constraints:
        q = values[c.quantity].to_numpy(float)
        ok &= q <= c.limit if c.op == "<=" else q >= c.limit
    return values, ok


def scores(problem: Problem, values: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [
            values[o.quantity].to_numpy(float) * (1 if o.sense == "max" else -1)
            for o in problem.objectives
        ]
    )


def small_problem(objectives, **kw) -> Problem:
    return Problem(
        ranges=(
            Range("sms_per_chiplet", 16, 64, 5),
            Range("clock_mhz", 1500, 2800, 4),
            Range("num_chiplets", 1, 8, 8),
            Range("chiplet_area_mm2", 250, 900, 3),
        ),
        objectives=objectives,
        constraints=(
            Constraint("power_total_w", "<=", 450),
            Constraint("junction_temp_c", "<=", 100),
            Constraint("chiplet_area_mm2", "<=", 858),
        ),
        **kw,
    )


TWO = (Objective("target_density_tflops_per_mm2"), Objective("power_total_w", "min"))
THREE = (*TWO, Objective("tflops_per_w"))


# --- Pareto front ---------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_pareto_mask_matches_brute_force_with_ties(m):
    rng = np.random.default_rng(m)
    for _ in range(25):
        s = rng.integers(0, 5, (200, m)).astype(float)  # many ties and duplicates
        assert (pareto_mask(s) == brute_front(s)).all()
    s = rng.random((3000, m))
    assert (pareto_mask(s) == brute_front(s)).all()


@pytest.mark.parametrize("objectives", [TWO, THREE], ids=["2 objectives", "3"])
@pytest.mark.parametrize("chunk", [7, 1 << 18], ids=["many chunks", "one chunk"])
def test_front_of_a_small_grid_matches_brute_force(objectives, chunk, monkeypatch):
    monkeypatch.setattr(ex, "CHUNK_POINTS", chunk)
    problem = small_problem(objectives, top_k=15)
    result = explore(problem, base_inputs())
    values, ok = brute_force(problem)
    assert result.points == len(values) == problem.size == 5 * 4 * 8 * 3
    assert result.feasible == ok.sum() > 0
    s = scores(problem, values)
    front = np.flatnonzero(ok)[brute_front(s[ok])]
    want = {tuple(values.loc[i, problem.names]) for i in front}
    designs = result.designs
    got = {tuple(r) for r in designs[designs["on_front"]][problem.names].to_numpy()}
    assert got == want and result.front_size == len(want)
    # the top designs: the best feasible by the objectives in priority order
    order = np.lexsort(tuple(-s[ok][:, j] for j in reversed(range(s.shape[1]))))
    best = [tuple(r) for r in s[ok][order[: problem.top_k]]]
    top = designs[designs["top_rank"] > 0].sort_values("top_rank")
    assert [tuple(r) for r in scores(problem, top)] == best
    # how often each constraint binds
    fails = np.zeros(len(values), dtype=int)
    masks = []
    for c in problem.constraints:
        q = values[c.quantity].to_numpy(float)
        bad = ~(q <= c.limit)
        masks.append(bad)
        fails += bad
    for (_, row), bad in zip(result.constraints.iterrows(), masks):
        assert row["violated"] == bad.sum()
        assert row["alone"] == (bad & (fails == 1)).sum()


def test_front_designs_are_feasible_and_non_dominated():
    problem = small_problem(THREE, method="lhs", samples=5000, seed=4)
    result = explore(problem, base_inputs())
    front = result.designs[result.designs["on_front"]]
    assert len(front) == result.front_size > 1
    # re-evaluated from the design's parameters alone
    frame = pd.concat([seed_study().variants.loc[["Baseline"]]] * len(front))
    for name in problem.names:
        frame[name] = front[name].to_numpy()
    m = evaluate(frame)
    assert (m["power_total_w"] <= 450).all() and (m["junction_temp_c"] <= 100).all()
    assert (frame["chiplet_area_mm2"] <= 858).all()
    np.testing.assert_allclose(
        m["power_total_w"].to_numpy(), front["power_total_w"].to_numpy()
    )
    s = scores(problem, front)
    assert brute_front(s).all()
    assert not (
        (s[:, None, :] >= s[None, :, :]).all(axis=2)
        & (s[:, None, :] > s[None, :, :]).any(axis=2)
    ).any()


def test_sampling_is_seeded_stratified_and_inside_the_ranges():
    problem = small_problem(TWO, method="lhs", samples=1000, seed=7)
    a, b = sample_chunk(problem, 0), sample_chunk(problem, 0)
    for name in problem.names:
        np.testing.assert_array_equal(a[name], b[name])
    other = sample_chunk(
        Problem(problem.ranges, TWO, problem.constraints, "lhs", 1000, 8), 0
    )
    assert not np.array_equal(a["clock_mhz"], other["clock_mhz"])
    clock = a["clock_mhz"]  # continuous: one point in each of the 1000 strata
    strata = np.floor((clock - 1500) / 1300 * 1000).astype(int)
    assert sorted(strata) == list(range(1000))
    sms = a["sms_per_chiplet"]  # whole numbers, every value reached
    assert (sms == np.round(sms)).all() and set(sms) == set(range(16, 65))
    rnd = sample_chunk(Problem(problem.ranges, TWO, (), "random", 500, 1), 0)
    for r in problem.ranges:
        assert r.low <= rnd[r.name].min() and rnd[r.name].max() <= r.high
    x = explore(problem, base_inputs())
    y = explore(problem, base_inputs())
    pd.testing.assert_frame_equal(x.designs, y.designs)
    pd.testing.assert_frame_equal(x.cloud, y.cloud)


def test_problem_is_checked_when_built():
    good = small_problem(TWO)
    with pytest.raises(ValueError, match="not inside"):
        Problem((Range("clock_mhz", 50, 2000, 3),), TWO)
    with pytest.raises(ValueError, match="not a numeric"):
        Problem((Range("process_node", 1, 2, 2),), TWO)
    with pytest.raises(ValueError, match="no objectives"):
        Problem(good.ranges, ())
    with pytest.raises(ValueError, match="objective"):
        Problem(good.ranges, (Objective("watts"),))
    with pytest.raises(ValueError, match="constraint"):
        Problem(good.ranges, TWO, (Constraint("power_total_w", "<", 5),))
    with pytest.raises(ValueError, match="samples"):
        Problem(good.ranges, TWO, method="lhs", samples=0)


def test_no_feasible_point_gives_an_empty_front():
    problem = Problem(
        (Range("clock_mhz", 1500, 2000, 3),),
        TWO,
        (Constraint("power_total_w", "<=", 1),),
    )
    result = explore(problem, base_inputs())
    assert result.feasible == 0 and result.front_size == 0 and result.designs.empty
    assert result.constraints.loc[0, "violated"] == 3


# --- Monte Carlo ----------------------------------------------------------------------


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_percentiles_match_the_analytic_linear_case(distribution):
    # power = c + SMs x sm_power_w (seed exponents 0): linear in sm_power_w
    study = seed_study()
    spec = Uncertainty((Spread("sm_power_w", distribution, 20),), 200_000, seed=3)
    result = monte_carlo(prepare(study.variants), study.variants.index, spec)
    v = study.variants
    slope = (v["sms_per_chiplet"] * v["num_chiplets"]).to_numpy(float)  # W per W/SM
    nominal = evaluate(v)["power_total_w"].to_numpy()
    for q, col in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        z = (
            0.2 * (2 * q - 1)
            if distribution == "uniform"
            else 0.2 * NormalDist().inv_cdf(q)
        )
        expected = nominal + slope * 1.5 * z
        got = result.summary[f"power_total_w_{col}"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=2e-3)
    # P(power <= budget) against the distribution of the linear form
    budget = 500.0
    z = (budget - nominal) / (slope * 1.5 * 0.2)
    p = np.clip((z + 1) / 2, 0, 1) if distribution == "uniform" else [
        NormalDist().cdf(x) for x in z
    ]  # fmt: skip
    np.testing.assert_allclose(result.summary["p_meets_power_budget"], p, atol=5e-3)


def test_monte_carlo_is_seeded_per_variant_name():
    study = seed_study()
    spec = Uncertainty(SPREADS, 2000, seed=1)
    x = prepare(study.variants)
    a = monte_carlo(x, study.variants.index, spec).summary
    b = monte_carlo(x, study.variants.index, spec).summary
    pd.testing.assert_frame_equal(a, b)
    two = study.variants.iloc[[3, 0]]
    c = monte_carlo(prepare(two), two.index, spec).summary
    pd.testing.assert_frame_equal(c, a.loc[two.index])


# --- Sobol ----------------------------------------------------------------------------


def test_sobol_indices_of_the_ishigami_function():
    pi = np.pi
    got = gsa.sobol(gsa.ishigami, [(-pi, pi)] * 3, 2**15, seed=11)
    want = gsa.ishigami_indices()
    np.testing.assert_allclose(got["S1"], want["S1"], atol=0.03)
    np.testing.assert_allclose(got["ST"], want["ST"], atol=0.03)
    assert (got["S1_conf"] > 0).all() and (got["S1_conf"] < 0.03).all()


def _bootstrap_one_at_a_time(f_a, f_b, f_ab, seed, bootstrap):
    """The confidence half-widths of gsa.indices, one resample at a time."""
    rng = np.random.default_rng(seed)
    k, n = f_ab.shape
    s1_b, st_b = np.empty((bootstrap, k)), np.empty((bootstrap, k))
    for r in range(bootstrap):
        i = rng.integers(0, n, n)
        s1_b[r], st_b[r] = gsa._estimate(f_a[i], f_b[i], f_ab[:, i])
    return gsa.Z95 * s1_b.std(axis=0, ddof=1), gsa.Z95 * st_b.std(axis=0, ddof=1)


@pytest.mark.parametrize("at_once", [1, 7, 10**9])
@pytest.mark.parametrize("seed", range(3))
def test_bootstrap_of_resamples_together_is_one_at_a_time(seed, at_once, monkeypatch):
    rng = np.random.default_rng(seed)
    k, n = int(rng.integers(1, 6)), int(rng.integers(2, 300))
    f_a, f_b = rng.normal(size=n), rng.normal(3, 2, size=n)
    f_ab = f_a + rng.normal(size=(k, n)) * rng.random((k, 1))
    if seed == 1:  # ties: few distinct values
        f_a, f_b, f_ab = (np.round(v) for v in (f_a, f_b, f_ab))
    f_a, f_b, f_ab = f_a + 1e4, f_b + 1e4, f_ab + 1e4  # an offset loses no digits
    monkeypatch.setattr(gsa, "RESAMPLE_VALUES", at_once * n)
    got = gsa.indices(f_a, f_b, f_ab, seed=seed, bootstrap=23)
    s1_c, st_c = _bootstrap_one_at_a_time(f_a, f_b, f_ab, seed, 23)
    np.testing.assert_allclose(got["S1_conf"], s1_c, rtol=1e-9)
    np.testing.assert_allclose(got["ST_conf"], st_c, rtol=1e-9)
    assert np.isfinite(s1_c).all()


def test_a_bootstrap_resample_that_does_not_vary_has_no_index():
    f_a, f_b = np.array([1e6, 1e6, 5.0]), np.array([1e6, 1e6, 7.0])
    f_ab = np.stack([f_a * 1.5, f_a + 1.0])
    # the first resample draws the first two points only: flat, however offset
    counts = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    s1, st = gsa._estimate_weighted(f_a, f_b, f_ab, counts)
    assert np.isnan(s1[0]).all() and np.isnan(st[0]).all()
    want = gsa._estimate(f_a, f_b, f_ab)
    np.testing.assert_allclose(s1[1], want[0], rtol=1e-9)
    np.testing.assert_allclose(st[1], want[1], rtol=1e-9)


def test_sobol_sees_the_interaction_of_a_product():
    # y = x1 x2, x1 ~ U(2, 8), x2 ~ U(16, 64): V1 = V2 = 4800, V12 = 576
    got = gsa.sobol(lambda x: x[:, 0] * x[:, 1], [(2, 8), (16, 64)], 2**15, seed=2)
    np.testing.assert_allclose(got["S1"], [4800 / 10176] * 2, atol=0.02)
    np.testing.assert_allclose(got["ST"], [5376 / 10176] * 2, atol=0.02)


def test_sobol_over_the_exploration_ranges():
    problem = small_problem(TWO)
    table = gsa.exploration_sobol(
        problem, base_inputs(), 2048, ["target_density_tflops_per_mm2"]
    )
    t = table.set_index("parameter")
    # density = peak / area: chiplet count does not change it at all
    assert abs(t.loc["num_chiplets", "ST"]) < 1e-12
    assert t.loc["chiplet_area_mm2", "ST"] > 0.2
    assert (t["interaction"] >= 0).all()


def test_a_range_is_idle_only_when_no_objective_or_constraint_reads_it():
    # density = chiplets x SMs x TCs x ops x clock / (chiplets x area): the L2
    # and the chiplet count do not enter it, the clock does; the L2's power
    # (l2_power_w_per_mb x MB x u^0.5) enters the power, so a power constraint
    # or objective makes it count
    ranges = (
        Range("clock_mhz", 1500, 2800, 4),
        Range("l2_cache_mb", 2, 64, 5),
        Range("num_chiplets", 1, 8, 8),
        Range("hbm_stacks", 4, 4, 1),  # one value: fixed on purpose
    )
    density = (Objective("target_density_tflops_per_mm2"),)
    alone = Problem(ranges=ranges, objectives=density)
    assert ex.idle_parameters(alone, base_inputs()) == ["l2_cache_mb", "num_chiplets"]
    powered = Problem(
        ranges=ranges,
        objectives=density,
        constraints=(Constraint("power_total_w", "<=", 500),),
    )
    assert ex.idle_parameters(powered, base_inputs()) == []
    sampled = Problem(ranges, density, (), "lhs", 1000, 3)
    assert ex.idle_parameters(sampled, base_inputs()) == ["l2_cache_mb", "num_chiplets"]
    # the claim behind the warning: on the grid, every design repeats once per
    # value of an idle range and the repeats crowd the front: the L2 (which
    # the density never reads) 5 times exactly; the chiplet count cancels out
    # of it up to rounding, which keeps 7 of its 8 counts here
    result = explore(alone, base_inputs())
    front = result.designs[result.designs["on_front"]]
    assert len(front) > 5 and len(front) % 5 == 0
    assert front.groupby("num_chiplets")["l2_cache_mb"].nunique().eq(5).all()
    d = front["target_density_tflops_per_mm2"].to_numpy()
    assert np.allclose(d, d[0], rtol=1e-12, atol=0)
