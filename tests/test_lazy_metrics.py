"""Metrics on demand: the engine computes only what is asked, the same values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlmodel.engine import METRICS, evaluate, prepare
from xlmodel.engine import model as engine_model
from xlmodel.engine.model import METRIC_NAMES, MetricEvaluation, evaluate_arrays
from xlmodel.schema import BY_NAME, PARAMETERS
from xlmodel.studies.explore import evaluate_points
from xlmodel.studies.run import seed_study

NUMERIC = [p.name for p in PARAMETERS if p.numeric]


def random_variants(n: int, seed: int) -> pd.DataFrame:
    """n variants with every numeric parameter drawn across its valid range."""
    rng = np.random.default_rng(seed)
    cols = {}
    for p in PARAMETERS:
        if p.numeric:
            hi = min(p.maximum, p.minimum + 1e5)
            v = rng.uniform(p.minimum, hi, n)
            cols[p.name] = np.round(v) if p.kind == "int" else v
        elif p.kind == "choice":
            cols[p.name] = rng.choice(list(p.choices), n)
    return pd.DataFrame(cols)


def test_every_metric_has_a_rule_and_the_full_evaluation_keeps_their_order():
    x = prepare(seed_study().variants)
    out = evaluate_arrays(x, 1.0)
    assert list(out) == [m.name for m in METRICS] == list(METRIC_NAMES)
    ev = MetricEvaluation(x, 1.0)
    assert list(ev) == list(METRIC_NAMES) and len(ev) == len(METRICS)
    assert "power_total_w" in ev and "num_chiplets" not in ev
    with pytest.raises(KeyError, match="not a metric"):
        ev["num_chiplets"]


@pytest.mark.parametrize("u", [1.0, 0.37])
def test_each_metric_alone_equals_the_full_evaluation_bit_for_bit(u):
    x = prepare(random_variants(400, 1))
    full = evaluate_arrays(x, u)
    for name in METRIC_NAMES:
        one = evaluate_arrays(x, u, [name])
        assert list(one) == [name]
        assert one[name].dtype == full[name].dtype
        np.testing.assert_array_equal(one[name], full[name])


def test_only_what_is_asked_is_computed(monkeypatch):
    calls = []
    for name, rule in list(engine_model._RULES.items()):

        def spy(ev, rule=rule, name=name):
            calls.append(name)
            return rule(ev)

        monkeypatch.setitem(engine_model._RULES, name, spy)
    x = prepare(seed_study().variants)
    evaluate_arrays(x, 1.0, ["target_density_tflops_per_mm2"])
    # the target's peak and the area, nothing of power, D2D or the other precisions
    assert sorted(calls) == sorted(
        [
            "target_density_tflops_per_mm2",
            "target_peak_tflops",
            "peak_fp16_tflops",
            "total_area_mm2",
        ]
    )
    calls.clear()
    ev = MetricEvaluation(x, 1.0)
    a = ev["junction_temp_c"]
    # Tj and power are solved together (the leakage-temperature loop): one pass
    assert "_thermal" in calls and "power_dynamic_w" in calls
    assert "peak_fp16_tflops" not in calls
    n = len(calls)
    assert ev["junction_temp_c"] is a
    assert len(calls) == n  # each computed once
    assert ev["power_total_w"] is not None and calls.count("_thermal") == 1


def test_mixed_target_precisions_pick_each_rows_peak():
    frame = random_variants(50, 2)
    out = evaluate_arrays(prepare(frame), 1.0, ["target_peak_tflops"])
    full = evaluate(frame)
    for i, t in enumerate(frame["target_precision"]):
        want = full[f"peak_{t.lower()}_tflops"].iloc[i]
        assert out["target_peak_tflops"][i] == want


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=6, unique=True),
    st.integers(0, 2**16),
)
# a substrate price near its valid maximum: the cost parts summed past the
# float limit, outside the guard of the lines above them (a warning, an error)
@example(varied=["substrate_cost_usd_per_mm2"], seed=20732)
def test_points_around_a_base_equal_the_public_evaluate(varied, seed):
    # evaluate_points computes what depends on fixed parameters once; the
    # values must be those of evaluating every point as a full row
    rng = np.random.default_rng(seed)
    base_row = random_variants(1, seed)
    n = 300
    points = {}
    for name in varied:
        p = BY_NAME[name]
        hi = min(p.maximum, p.minimum + 1e5)
        v = rng.uniform(p.minimum, hi, n)
        points[name] = np.round(v) if p.kind == "int" else v
    metrics, inputs = evaluate_points(prepare(base_row), points)
    frame = pd.concat([base_row] * n, ignore_index=True)
    for name, v in points.items():
        frame[name] = v
    want = evaluate(frame)
    assert list(metrics) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert metrics[name].shape == (n,)
        np.testing.assert_array_equal(metrics[name], want[name].to_numpy())
    for name in NUMERIC:
        np.testing.assert_array_equal(inputs[name], frame[name].to_numpy(float))
