"""Voltage, leakage, heat and die-to-die costs: the physical preset's physics.

Every term is a coefficient whose seed value switches it off (the seed figures are
asserted in test_engine.py); here each term is switched on and checked against a
hand-worked value or an invariant, and the physical preset is checked for the
behaviour an architect relies on: an optimal clock, hot small dies, leakage
feedback, chiplet scaling that costs power, thermal runaway as a result.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from xlmodel import evaluate
from xlmodel.engine import thermal as th
from xlmodel.schema import BY_NAME, DEFAULTS, SEED_VARIANTS
from xlmodel.studies import standard
from xlmodel.studies.calibrate import FIXED
from xlmodel.studies.design_space import base_inputs
from xlmodel.studies.explore import Constraint, Objective, Problem, Range, explore
from xlmodel.studies.reference import apply_power_preset, with_physical_preset
from xlmodel.studies.run import seed_study


def _physical(name="Baseline", **changes) -> pd.DataFrame:
    """One seed variant (every parameter filled) under the physical preset."""
    v = seed_study().variants.loc[[name]].copy()
    for k, val in changes.items():
        v[k] = val
    return with_physical_preset(v)


def _rows(base: pd.DataFrame, name: str, values) -> pd.DataFrame:
    t = pd.concat([base] * len(values), ignore_index=True)
    t[name] = values
    return t


# --- voltage and frequency ------------------------------------------------------------


def test_voltage_curve_has_a_floor_and_energy_goes_as_v_squared():
    v = pd.DataFrame(
        {
            "clock_mhz": [500.0, 1000.0, 2000.0, 3000.0],
            "vf_v0_v": 0.3,
            "vf_slope_v_per_ghz": 0.25,
            "vf_vmin_v": 0.6,
            "sm_power_ref_clock_mhz": 2000.0,
            "sm_power_clock_exponent": 1.0,
        }
    )
    r = evaluate(v)
    # V = max(0.6, 0.3 + 0.25 f): 0.6, 0.6, 0.8, 1.05 V; V at the 2 GHz ref is 0.8
    assert_allclose(r["core_voltage_v"], [0.6, 0.6, 0.8, 1.05])
    ratio = np.array([0.6, 0.6, 0.8, 1.05]) / 0.8
    f = v["clock_mhz"].to_numpy() / 2000
    # 64 SMs x 1.5 W at the reference, x f (fixed voltage) x (V / V_ref)^2
    assert_allclose(r["power_sm_w"], 64 * 1.5 * f * ratio**2)
    # leakage (4 chiplets x 5 W) scales as V / V_ref
    assert_allclose(r["power_static_w"], 20 * ratio)


def test_seed_slope_zero_leaves_sm_power_exactly_as_the_seed():
    clocks = np.linspace(100, 6000, 25)
    seed = evaluate(pd.DataFrame({"clock_mhz": clocks}))
    other = evaluate(
        pd.DataFrame({"clock_mhz": clocks, "vf_v0_v": 1.7, "vf_vmin_v": 0.2})
    )
    # slope 0: V is constant whatever V0 and the floor, so nothing changes
    assert (seed["power_total_w"] == other["power_total_w"]).all()
    assert (seed["power_total_w"] == 267.2).all()


def test_tflops_per_w_peaks_at_a_clock_inside_the_valid_range():
    p = BY_NAME["clock_mhz"]
    clocks = np.arange(p.minimum, p.maximum + 1, 10.0)
    for name in SEED_VARIANTS:
        r = evaluate(_rows(_physical(name), "clock_mhz", clocks))
        eff = r["tflops_per_w"].to_numpy()
        i = int(np.argmax(eff))
        assert 0 < i < len(clocks) - 1, name
        # ... and inside the clocks shipping parts run at
        lo, hi = p.plausible
        assert lo < clocks[i] < hi, (name, clocks[i])
        # below it the voltage floor makes fixed power dominate, above it V² does
        assert eff[0] < eff[i] > eff[-1]
    # the seed's model has no such clock: its efficiency rises to the top
    seed = evaluate(_rows(seed_study().variants.loc[["Baseline"]], "clock_mhz", clocks))
    assert int(np.argmax(seed["tflops_per_w"].to_numpy())) == len(clocks) - 1


def test_power_optimized_is_power_optimised_under_the_physical_preset():
    v = apply_power_preset(seed_study().variants.assign(power_preset="physical"))
    r = evaluate(v)
    # per FLOP, the 1.8 GHz design spends less SM energy than the 2.5 GHz one
    sm_pj = r["power_sm_w"] / (r["peak_fp16_tflops"] * 1e12) * 1e12
    assert sm_pj["Power Optimized"] < sm_pj["Aggressive Optimized"]
    assert (
        r.loc["Power Optimized", "core_voltage_v"]
        < r.loc["Aggressive Optimized", "core_voltage_v"]
    )


# --- heat ----------------------------------------------------------------------------


def test_seed_junction_temperature_is_ambient_plus_p_theta():
    r = evaluate(seed_study().variants)
    expected = 25 + r["power_total_w"] * 0.1
    assert (r["junction_temp_c"] == expected).all()
    assert (r["thermal_loop_gain"] == 0).all() and not r["thermal_runaway"].any()


def test_air_and_liquid_cooling_by_hand():
    base = {
        "junction_to_case_k_mm2_per_w": 12.0,
        "hotspot_factor": 1.5,
        "chiplet_area_mm2": 200.0,
    }
    r = evaluate(pd.DataFrame([{**base, "cooling": c} for c in ("air", "liquid")]))
    p = r["power_total_w"].to_numpy()
    die = r["power_die_w"].to_numpy()
    # Baseline: SM 96 + L2 1.2 + leakage 20 W in the dies, 800 mm²
    assert_allclose(die, [117.2, 117.2])
    assert_allclose(r["power_density_w_per_mm2"], 117.2 / 800)
    assert_allclose(
        r["junction_temp_c"],
        [35 + p[0] * 0.035 + 1.5 * 12 * 117.2 / 800, 40 + p[1] * 0.02 + 18 * 0.1465],
    )


def test_at_equal_power_a_smaller_die_runs_hotter():
    # leakage per mm² off, so power does not depend on area: only heat does
    areas = np.array([150.0, 250.0, 400.0, 800.0])
    t = _rows(_physical(), "chiplet_area_mm2", areas)
    t["leakage_w_per_mm2"] = 0.0
    r = evaluate(t)
    assert np.ptp(r["power_total_w"]) == 0
    tj = r["junction_temp_c"].to_numpy()
    assert (np.diff(tj) < 0).all()
    # the difference is the die term alone: h x r_jc x P_die x (1/A1 - 1/A2)
    g = DEFAULTS["hotspot_factor"] * FIXED["junction_to_case_k_mm2_per_w"]
    die = r["power_die_w"].iloc[0]
    n = t["num_chiplets"].iloc[0]
    assert_allclose(tj[0] - tj[-1], g * die * (1 / (n * 150) - 1 / (n * 800)))
    # the thermal solver agrees at equal power with leakage feedback on, too
    tj_small, *_ = th.solve_junction(35, 0.035, 18 / 300, 400, 300, 20, 0.023, 25)
    tj_large, *_ = th.solve_junction(35, 0.035, 18 / 900, 400, 300, 20, 0.023, 25)
    assert tj_small > tj_large


def test_leakage_feedback_raises_tj_above_the_value_without_it():
    v = _physical("Realistic Optimized")
    cold = v.copy()
    cold["leakage_temp_coeff_per_c"] = 0.0  # leakage frozen at its 25 °C value
    hot, frozen = evaluate(v).iloc[0], evaluate(cold).iloc[0]
    assert hot["junction_temp_c"] > frozen["junction_temp_c"]
    assert hot["power_static_w"] > frozen["power_static_w"]
    assert hot["power_total_w"] > frozen["power_total_w"]
    # the operating point balances: leakage at Tj, and Tj from that leakage
    beta, t_ref = v["leakage_temp_coeff_per_c"].iloc[0], FIXED["leakage_ref_temp_c"]
    factor = math.exp(beta * (hot["junction_temp_c"] - t_ref))
    assert hot["leakage_temperature_factor"] == pytest.approx(factor, rel=1e-12)
    assert hot["power_static_w"] == pytest.approx(
        frozen["power_static_w"] * factor, rel=1e-12
    )
    area = hot["total_area_mm2"]
    g = v["hotspot_factor"].iloc[0] * v["junction_to_case_k_mm2_per_w"].iloc[0]
    tj = 35 + hot["power_total_w"] * 0.035 + g * hot["power_die_w"] / area
    assert hot["junction_temp_c"] == pytest.approx(tj, rel=1e-12)
    assert 0 < hot["thermal_loop_gain"] < 1


@settings(max_examples=200, deadline=None)
@given(
    t0=st.floats(-20, 60),
    r=st.floats(0.001, 0.2),
    g=st.floats(0.0, 0.2),
    p_other=st.floats(0.0, 3000.0),
    leak0=st.floats(0.0, 300.0),
    beta=st.floats(0.0, 0.1),
)
def test_closed_form_is_the_fixed_point_or_a_runaway(t0, r, g, p_other, leak0, beta):
    die_other = 0.7 * p_other
    tj, leak, gain, runaway = th.solve_junction(
        t0, r, g, p_other, die_other, leak0, beta, 25.0
    )
    if runaway:
        assert tj == leak == gain == np.inf
        # past the threshold: beta c L0 exp(beta (a - T_ref)) > 1/e
        a = t0 + r * p_other + g * die_other
        assert beta * (r + g) * leak0 * math.exp(beta * (a - 25)) > math.exp(-1)
        return
    assert leak == pytest.approx(leak0 * math.exp(beta * (tj - 25)), rel=1e-9)
    heat = t0 + r * (p_other + leak) + g * (die_other + leak)
    assert tj == pytest.approx(heat, rel=1e-9, abs=1e-9)
    assert 0 <= gain <= 1 + 1e-9


@settings(max_examples=200, deadline=None)
@given(z=st.floats(-math.exp(-1), 0.0))
def test_lambert_w0_inverts_w_exp_w(z):
    w = float(th.lambert_w0(z))
    assert -1.0 <= w <= 0.0
    assert w * math.exp(w) == pytest.approx(z, abs=1e-14)


def test_thermal_runaway_is_a_result_not_an_error():
    # leakage of 2 W/mm² at 25 °C doubling every 14 °C: no temperature balances it
    v = _physical("Aggressive Optimized")
    v["leakage_w_per_mm2"], v["leakage_temp_coeff_per_c"] = 2.0, 0.05
    r = evaluate(pd.concat([v, _physical("Baseline")], ignore_index=True))
    bad, ok = r.iloc[0], r.iloc[1]
    assert bool(bad["thermal_runaway"]) and not bool(ok["thermal_runaway"])
    assert bad["junction_temp_c"] == bad["power_total_w"] == np.inf
    assert bad["thermal_loop_gain"] == np.inf
    assert not bad["meets_tj_max"] and not bad["meets_power_budget"]
    assert bad["tflops_per_w"] == 0.0
    assert np.isfinite(ok["power_total_w"])
    # the threshold by hand: gain beta c L = 1 exactly at beta q = 1/e
    t0, c, beta = 35.0, 0.05, 0.05
    a = 60.0
    q_star = math.exp(-1) / beta  # beta q = 1/e
    leak_star = q_star / (c * math.exp(beta * (a - 25)))
    for scale, runs_away in ((0.99999, False), (1.00001, True)):
        tj, _, gain, away = th.solve_junction(
            t0, c, 0.0, (a - t0) / c, 0.0, leak_star * scale, beta, 25.0
        )
        assert bool(away) is runs_away
        if not runs_away:
            assert gain == pytest.approx(1.0, abs=0.05)
            assert tj == pytest.approx(a + 1 / beta, rel=0.01)


def test_thermal_runaway_in_studies_is_reported_not_raised():
    # the template's exploration under the physical preset reaches runaway at its
    # multi-kilowatt corners; the Sobol indices of power are then undefined (NaN)
    from xlmodel.studies import global_sensitivity as gsa

    prob = _template_problem()
    base = base_inputs(_physical_variants(), "Baseline")
    res = explore(prob, base)
    assert res.points == 21504 and res.feasible > 0
    table = gsa.exploration_sobol(prob, base, 64, ["power_total_w"])
    assert table["S1"].isna().all()


# --- die-to-die -----------------------------------------------------------------------


def test_chiplet_scaling_costs_efficiency_and_d2d_power():
    # HBM3E stacks of 1.2 TB/s, two per chiplet, fully interleaved over UCIe
    v = _physical(hbm_bandwidth_gbps_per_stack=1200.0)
    assert v["d2d_remote_share"].iloc[0] == 1.0
    assert v["d2d_energy_pj_per_bit"].iloc[0] == 0.5
    s = standard.scaling_study(v, [1, 2, 4, 6, 8], 2)
    eff = s["scaling_efficiency"].to_numpy()
    d2d = s["power_d2d_w"].to_numpy()
    assert eff[0] == 1 and d2d[0] == 0  # one chiplet: nothing crosses a die
    assert (np.diff(eff) < 0).all() and (np.diff(d2d) > 0).all()
    # by hand at 4 chiplets: demand 3/4 x 2400 GB/s = 1800 GB/s per chiplet
    # against 4 links x 256 GB/s; links carry 1024 GB/s each, 0.5 pJ/bit
    four = s[s["num_chiplets"] == 4].iloc[0]
    assert four["scaling_efficiency"] == pytest.approx(1024 / 1800)
    assert four["power_d2d_w"] == pytest.approx(4 * 1024e9 * 8 * 0.5e-12)
    # effective TFLOPS per watt falls with the count: scaling costs efficiency
    assert (np.diff(s["effective_tflops_per_w"].to_numpy()) < 0).all()
    # the seed's model scales ideally and pays nothing for it
    seed = standard.scaling_study(
        seed_study()
        .variants.loc[["Baseline"]]
        .assign(hbm_bandwidth_gbps_per_stack=1200.0),
        [2, 4, 8],
        2,
    )
    assert (seed["scaling_efficiency"] == 1).all()


# --- the exploration ------------------------------------------------------------------


def _physical_variants() -> pd.DataFrame:
    return apply_power_preset(seed_study().variants.assign(power_preset="physical"))


def _template_problem() -> Problem:
    from xlmodel.workbook.inputs.exploration_setup import (
        EXAMPLE_CONSTRAINTS,
        EXAMPLE_OBJECTIVES,
        EXAMPLE_RANGES,
    )

    return Problem(
        ranges=[Range(n, lo, hi, k) for n, (lo, hi, k) in EXAMPLE_RANGES.items()],
        objectives=[Objective(q, s) for q, s in EXAMPLE_OBJECTIVES],
        # blank limits follow the Targets: the template's 500 W and 105 °C
        constraints=[
            Constraint(q, o, TARGETS_OF_TEMPLATE.get(q) if lim is None else lim)
            for q, o, lim in EXAMPLE_CONSTRAINTS
        ],
    )


TARGETS_OF_TEMPLATE = {"power_total_w": 500.0, "junction_temp_c": 105.0}


def test_physical_front_is_not_all_at_the_top_clock():
    prob = _template_problem()
    top = max(r.high for r in prob.ranges if r.name == "clock_mhz")
    physical = explore(prob, base_inputs(_physical_variants(), "Baseline"))
    front = physical.designs[physical.designs["on_front"]]
    assert len(front) > 1
    assert (front["clock_mhz"] < top).any()
    # lower power along the front is bought with clock, not only with SMs
    assert front["clock_mhz"].nunique() > 2
    assert front.sort_values("power_total_w")["clock_mhz"].iloc[0] < top
    # the seed's coefficients put every front design at the top clock
    seed = explore(prob, base_inputs(seed_study().variants, "Baseline"))
    seed_front = seed.designs[seed.designs["on_front"]]
    assert (seed_front["clock_mhz"] == top).all()


# --- the seed stays the seed ---------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    clock=st.floats(100, 6000),
    sms=st.integers(1, 256),
    chiplets=st.integers(1, 64),
    stacks=st.integers(0, 64),
    area=st.floats(1, 10_000),
    u=st.floats(0, 1),
)
def test_new_terms_at_their_defaults_keep_the_seed_formulas(
    clock, sms, chiplets, stacks, area, u
):
    v = pd.DataFrame(
        [
            {
                "clock_mhz": clock,
                "sms_per_chiplet": sms,
                "num_chiplets": chiplets,
                "hbm_stacks": stacks,
                "chiplet_area_mm2": area,
            }
        ]
    )
    r = evaluate(v, utilization=u).iloc[0]
    total_sms = sms * chiplets
    sm = total_sms * u * 1.5
    l2 = chiplets * 6 * 0.05 * u**0.5
    total = sm + l2 + stacks * 15 * u + chiplets * 5 + 20 + 10
    assert r["power_sm_w"] == pytest.approx(sm, rel=1e-12, abs=1e-12)
    assert r["power_total_w"] == pytest.approx(total, rel=1e-12)
    assert r["junction_temp_c"] == 25 + r["power_total_w"] * 0.1
    assert r["power_d2d_w"] == 0 and r["scaling_efficiency"] == 1
    assert r["leakage_temperature_factor"] == 1 and not r["thermal_runaway"]


def test_clock_sweep_names_the_most_efficient_clock():
    v = apply_power_preset(seed_study().variants.assign(power_preset="physical"))
    clocks = np.arange(800, 3501, 20.0)
    sweep = standard.clock_sweep(v, clocks)
    best = standard.best_clocks(sweep)
    assert list(best.index) == list(v.index)
    for name in v.index:
        r = evaluate(_rows(v.loc[[name]], "clock_mhz", clocks))
        i = int(np.argmax(r["tflops_per_w"].to_numpy()))
        assert best.loc[name, "most_efficient_clock_mhz"] == clocks[i]
        assert best.loc[name, "best_tflops_per_w"] == r["tflops_per_w"].iloc[i]
        assert not best.loc[name, "at_range_end"]
        ok = r["meets_power_budget"] & r["meets_tj_max"]
        fastest = clocks[ok.to_numpy()].max() if ok.any() else np.nan
        assert best.loc[name, "fastest_within_limits_mhz"] == pytest.approx(
            fastest, nan_ok=True
        )
    # the seed's model: the most efficient clock is the top of any range
    seed = standard.best_clocks(standard.clock_sweep(seed_study().variants, clocks))
    assert (seed["most_efficient_clock_mhz"] == clocks[-1]).all()
    assert seed["at_range_end"].all()
