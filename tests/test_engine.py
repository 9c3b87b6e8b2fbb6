"""The engine against the seed's published figures, hand-worked values and physics."""

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlmodel
from xlmodel.engine import METRICS, evaluate
from xlmodel.schema import (
    PARAMETERS,
    SEED_SWEEPS,
    SEED_VARIANTS,
    SEED_WORKLOADS,
)
from xlmodel.studies import sensitivity as sens
from xlmodel.studies import standard as studies


@pytest.fixture(scope="module")
def seed():
    frame = pd.DataFrame.from_dict(SEED_VARIANTS, orient="index")
    return frame, evaluate(frame)


# Hand-worked: peak = 4 chiplets x SMs x TC x ops x clock; power = 1.5 W x SMs
# + 0.05 W/MB x L2 + 15 W x 8 stacks + 5 W x 4 + 20 + 10.
HAND = {
    "Baseline": (4 * 16 * 4 * 128 * 2000e-6, 4 * 400, 1.5 * 64 + 0.05 * 24 + 170),
    "Realistic Optimized": (
        4 * 32 * 6 * 192 * 2300e-6,
        4 * 350,
        1.5 * 128 + 0.05 * 28 + 170,
    ),
    "High SM Density": (
        4 * 40 * 4 * 160 * 2200e-6,
        4 * 320,
        1.5 * 160 + 0.05 * 32 + 170,
    ),
    "Aggressive Optimized": (
        4 * 48 * 8 * 256 * 2500e-6,
        4 * 300,
        1.5 * 192 + 0.05 * 32 + 170,
    ),
    "Power Optimized": (
        4 * 24 * 4 * 128 * 1800e-6,
        4 * 380,
        1.5 * 96 + 0.05 * 24 + 170,
    ),
}
# Published by the seed (variants.md), at the precision it printed.
PUBLISHED = {
    "Baseline": (65.5, 0.041, 267),
    "Realistic Optimized": (339, 0.242, 363),
    "High SM Density": (225, 0.176, 412),
    "Aggressive Optimized": (983, 0.819, 460),
    "Power Optimized": (88.5, 0.058, 315),
}


@pytest.mark.parametrize("name", list(HAND))
def test_seed_variants_match_hand_worked_values(seed, name):
    _, r = seed
    peak, area, power = HAND[name]
    assert_allclose(r.loc[name, "peak_fp16_tflops"], peak, rtol=1e-12)
    assert_allclose(r.loc[name, "density_fp16_tflops_per_mm2"], peak / area, rtol=1e-12)
    assert_allclose(r.loc[name, "power_total_w"], power, rtol=1e-12)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_seed_variants_reproduce_published_figures(seed, name):
    _, r = seed
    tflops, density, power = PUBLISHED[name]
    digits = 1 if tflops < 100 else 0
    assert round(r.loc[name, "peak_fp16_tflops"], digits) == tflops
    assert round(r.loc[name, "density_fp16_tflops_per_mm2"], 3) == density
    assert round(r.loc[name, "power_total_w"]) == power


def test_baseline_bandwidth_efficiency_and_eight_chiplets(seed):
    _, r = seed
    b = r.loc["Baseline"]
    assert round(b["hbm_bandwidth_tbps"], 2) == 1.02
    assert_allclose(b["hbm_bandwidth_tbps"], 1.024)
    assert round(b["tflops_per_w"], 2) == 0.25
    assert_allclose(b["junction_temp_c"], 25 + 267.2 * 0.1)
    eight = evaluate({"num_chiplets": 8, "hbm_stacks": 16}).iloc[0]
    assert_allclose(eight["power_total_w"], 1.5 * 128 + 0.05 * 48 + 15 * 16 + 40 + 30)
    assert round(eight["power_total_w"]) == 504
    assert not eight["meets_power_budget"]


def test_all_precisions_of_baseline(seed):
    _, r = seed
    b = r.loc["Baseline"]
    for p, ops in [
        ("fp4", 512),
        ("fp8", 256),
        ("int8", 256),
        ("fp16", 128),
        ("bf16", 128),
        ("fp32", 64),
    ]:
        assert_allclose(b[f"peak_{p}_tflops"], 4 * 16 * 4 * ops * 2000e-6)


def test_ridge_point_uses_bytes_not_bits(seed):
    _, r = seed
    # 65.536 TFLOPS / 1.024 TB/s = 64 FLOP/byte (the seed divided by 8 here only)
    assert_allclose(r.loc["Baseline", "ridge_fp16_flop_per_byte"], 64.0)
    roof = studies.roofline(r.loc[["Baseline"]], SEED_WORKLOADS).set_index("workload")
    assert roof.loc["GEMM (optimized)", "bottleneck"] == "compute"
    assert_allclose(roof.loc["GEMM (optimized)", "efficiency_percent"], 100)
    assert_allclose(roof.loc["FlashAttention", "efficiency_percent"], 50 / 64 * 100)
    assert round(roof.loc["FlashAttention", "efficiency_percent"]) == 78
    assert_allclose(roof.loc["Elementwise", "attainable_tflops"], 0.5 * 1.024)
    assert round(roof.loc["Elementwise", "efficiency_percent"], 1) == 0.8
    assert (roof.drop("GEMM (optimized)")["bottleneck"] == "memory").all()


def test_power_breakdown_at_partial_utilisation():
    r = evaluate({}, utilization=0.5).iloc[0]
    assert_allclose(r["power_sm_w"], 1.5 * 64 * 0.5)
    assert_allclose(r["power_l2_w"], 0.05 * 24 * math.sqrt(0.5))
    assert_allclose(r["power_hbm_w"], 15 * 8 * 0.5)
    assert_allclose(r["power_static_w"], 20)
    assert_allclose(r["power_total_w"], 48 + 1.2 * math.sqrt(0.5) + 60 + 20 + 30)
    parts = [
        "power_sm_w",
        "power_l2_w",
        "power_hbm_w",
        "power_d2d_w",
        "power_static_w",
        "power_interconnect_w",
        "power_io_w",
    ]
    assert_allclose(r[parts].sum(), r["power_total_w"])


def test_comparison_keeps_the_seeds_statements_as_facts(seed):
    _, r = seed
    c = studies.compare(r, 2.0, 500)
    assert c.best == "Aggressive Optimized"
    assert not r["meets_density_target"].any()
    assert c.messages == [
        "Best variant within the 500 W budget: Aggressive Optimized "
        "(0.819 TFLOPS/mm² FP16, 460 W).",
        "No variant meets the 2.0 TFLOPS/mm² FP16 density target (best 0.819, "
        "41 % of it).",
    ]  # facts only: no canned advice (the advice is xlmodel.studies.advice's)


def test_scaling_study_is_seed_linear_by_default():
    base = pd.DataFrame([{}], index=["Baseline"])
    s = studies.scaling_study(base, [2, 4, 6, 8], 2)
    assert_allclose(s["compute_tflops"], 65.536 / 4 * np.array([2, 4, 6, 8]))
    assert_allclose(s["memory_tbps"], [0.512, 1.024, 1.536, 2.048])
    assert_allclose(s["scaling_efficiency"], 1.0)
    assert round(s["power_w"].iloc[-1]) == 504
    assert studies.largest_count_within_budget(s)["Baseline"] == 6


def test_dvfs_makes_power_superlinear_in_clock():
    clocks = np.array([1500.0, 2000.0, 2500.0, 3000.0])
    seed_p = evaluate(pd.DataFrame({"clock_mhz": clocks}))["power_sm_w"]
    assert_allclose(seed_p, 96.0)  # the seed: no clock term at all
    dvfs = evaluate(pd.DataFrame({"clock_mhz": clocks, "sm_power_clock_exponent": 3.0}))
    p = dvfs["power_sm_w"].to_numpy()
    assert_allclose(p, 96.0 * (clocks / 2000) ** 3)
    # faster than linear: power per MHz rises with clock
    assert np.all(np.diff(p / clocks) > 0)
    assert_allclose(p[1], 96.0)  # reduces to the seed at the reference clock


def test_throughput_exponent_scales_sm_power():
    r = evaluate(
        pd.DataFrame(
            {
                "fp16_ops_per_cycle": [128, 256],
                "sm_power_throughput_exponent": [1.0, 1.0],
            }
        )
    )
    assert_allclose(r["power_sm_w"], [96.0, 192.0])


@pytest.mark.parametrize("topology", ["all_to_all", "ring", "mesh"])
def test_interconnect_makes_scaling_sublinear(topology):
    base = pd.DataFrame(
        [
            {
                "hbm_bandwidth_gbps_per_stack": 1200,
                "d2d_remote_share": 1.0,
                "d2d_topology": topology,
                "d2d_links_per_chiplet": 2,
                "ucie_bandwidth_gbps": 256,
                "d2d_energy_pj_per_bit": 0.5,
            }
        ],
        index=["v"],
    )
    s = studies.scaling_study(base, [1, 2, 4, 8, 16], 2)
    eff = s["scaling_efficiency"].to_numpy()
    assert eff[0] == 1.0
    assert eff[-1] < 1.0
    assert np.all(np.diff(eff) <= 1e-12)
    assert (s["effective_tflops"] < s["compute_tflops"] + 1e-9).all()
    assert s["effective_tflops"].iloc[-1] < s["compute_tflops"].iloc[-1]


def test_d2d_power_and_hops_hand_worked():
    # 4 chiplets, ring: distances from one node 1, 2, 1 -> mean 4/3 hops
    r = evaluate(
        {
            "d2d_remote_share": 1.0,
            "d2d_topology": "ring",
            "d2d_energy_pj_per_bit": 0.5,
            "d2d_links_per_chiplet": 64,
        }
    ).iloc[0]
    assert_allclose(r["d2d_avg_hops"], 4 / 3)
    demand = 1024 / 4 * 0.75 * (4 / 3)  # GB/s per chiplet over links
    assert_allclose(r["d2d_link_traffic_gbps"], demand * 4)
    assert_allclose(r["power_d2d_w"], demand * 4 * 1e9 * 8 * 0.5e-12)
    # 2-D mesh 2x2: mean distance between distinct nodes = (1+1+2)/3
    m = evaluate({"d2d_topology": "mesh"}).iloc[0]
    assert_allclose(m["d2d_avg_hops"], 4 / 3)
    m6 = evaluate({"d2d_topology": "mesh", "num_chiplets": 6}).iloc[0]
    # 2x3 mesh: sum over ordered distinct pairs of Manhattan distance / 30
    pts = [(i, j) for i in range(2) for j in range(3)]
    d = [abs(a - c) + abs(b - e) for a, b in pts for c, e in pts if (a, b) != (c, e)]
    assert_allclose(m6["d2d_avg_hops"], sum(d) / len(d))


def test_seed_sweeps_and_normalised_sensitivity():
    base = pd.DataFrame([{}], index=["Baseline"])
    points, summary = sens.seed_sweeps(base, SEED_SWEEPS)
    counts = points.groupby("parameter", sort=False).size()
    assert counts.to_dict() == {
        "sms_per_chiplet": 13,
        "chiplet_area_mm2": 20,
        "clock_mhz": 15,
        "tensor_cores_per_sm": 9,
        "fp16_ops_per_cycle": 16,
    }
    s = summary.set_index("parameter")
    assert_allclose(s.loc["sms_per_chiplet", "target_density_tflops_per_mm2"], 1.0)
    power_change = (267.2 + 1.5 * 4 * 48 - 267.2) / 267.2
    assert_allclose(s.loc["sms_per_chiplet", "power_total_w"], power_change / 3)
    d0, d1 = 65.536 / 1000, 65.536 / 1760
    assert_allclose(
        s.loc["chiplet_area_mm2", "target_density_tflops_per_mm2"],
        ((d1 - d0) / d0) / (190 / 250),
    )
    assert_allclose(s.loc["clock_mhz", "power_total_w"], 0.0)  # the seed's model


def test_elasticities_and_tornado():
    frame = pd.DataFrame.from_dict(SEED_VARIANTS, orient="index")
    e = sens.elasticities(frame).set_index(["variant", "parameter"])
    assert_allclose(
        e.loc[("Baseline", "clock_mhz"), "target_peak_tflops"], 1.0, rtol=1e-6
    )
    assert_allclose(
        e.loc[("Baseline", "chiplet_area_mm2"), "target_density_tflops_per_mm2"],
        -1.0,
        rtol=1e-6,
    )
    # d ln P / d ln SMs at Baseline = SM power share = 96 / 267.2
    assert_allclose(
        e.loc[("Baseline", "sms_per_chiplet"), "power_total_w"], 96 / 267.2, rtol=1e-6
    )
    t = sens.tornado(frame.loc[["Baseline"]], percent=20)
    assert t.iloc[0]["parameter"] == "chiplet_area_mm2"  # 1/0.8 - 1/1.2 > 0.4
    assert_allclose(t.iloc[0]["swing"], 65.536 / 1600 * (1 / 0.8 - 1 / 1.2))
    assert list(t["rank"]) == list(range(1, len(t) + 1))


def test_every_metric_has_a_unit():
    assert all(m.unit for m in METRICS)
    out = evaluate({})
    assert set(out.columns) == {m.name for m in METRICS}
    for p in PARAMETERS:
        assert p.unit or p.kind != "float" or "exponent" in p.name or "share" in p.name


@pytest.mark.parametrize(
    "value", [0, -4, float("nan"), float("inf"), "four", True, 2.5]
)
def test_bad_values_raise_naming_parameter_and_value(value):
    with pytest.raises(ValueError) as e:
        evaluate({"num_chiplets": value})
    assert "num_chiplets" in str(e.value)
    assert repr(value) in str(e.value) or str(value) in str(e.value)


def test_bad_value_in_any_dataframe_row_is_named():
    frame = pd.DataFrame(
        {"clock_mhz": [2000, 2100, np.nan, 1900]}, index=["a", "b", "c", "d"]
    )
    with pytest.raises(ValueError, match=r"clock_mhz: nan \(row 'c'\)"):
        evaluate(frame)
    mixed = pd.DataFrame({"hbm_stacks": [8, "eight"]}, index=["x", "y"])
    with pytest.raises(ValueError, match=r"hbm_stacks: 'eight' \(row 'y'\)"):
        evaluate(mixed)
    with pytest.raises(ValueError, match="unknown parameter"):
        evaluate({"clok_mhz": 2000})
    with pytest.raises(ValueError, match="d2d_topology"):
        evaluate({"d2d_topology": "torus"})
    with pytest.raises(ValueError, match="utilization"):
        evaluate({}, utilization=1.5)


def test_seed_library_example_runs(tmp_path):
    from xlmodel import (
        ChipletConfig,
        PerformanceModel,
        PowerModel,
        Precision,
        ScalingModel,
        SoCConfig,
    )

    soc = SoCConfig(
        num_chiplets=4, hbm3e_stacks=8, chiplet_config=ChipletConfig(num_sms=16)
    )
    perf_model = PerformanceModel(soc)
    assert f"{perf_model.peak_compute(Precision.FP16):.1f}" == "65.5"
    assert f"{PowerModel(soc).total_power(utilization=1.0):.1f}" == "267.2"
    png = tmp_path / "roofline.png"
    perf_model.plot_roofline(Precision.FP16, save_path=str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    w = perf_model.analyze_workload(Precision.FP16, 50)
    assert w["bottleneck"] == "memory" and round(w["efficiency_percent"]) == 78
    assert soc.total_sms == 64 and soc.total_area_mm2 == 1600
    assert soc.total_hbm_bandwidth_gbps == 1024
    assert_allclose(PowerModel(soc).power_efficiency(Precision.FP16), 65.536 / 267.2)
    scal = ScalingModel(ChipletConfig())
    eff = scal.efficiency_analysis([2, 4, 6, 8], Precision.FP16)
    assert round(eff[8]["power_watts"]) == 504
    assert_allclose(scal.compute_scaling([2, 8], Precision.FP16), [32.768, 131.072])
    assert xlmodel.SMConfig().peak_tflops(Precision.FP16) == pytest.approx(1.024)


def test_studies_at_the_valid_extremes():
    # the largest valid count: elasticities and a +50 % tornado step past it
    big = pd.DataFrame(
        [{"num_chiplets": 1024, "d2d_topology": "mesh", "d2d_remote_share": 1.0}],
        index=["big"],
    )
    e = sens.elasticities(big)
    assert np.isfinite(e.drop(columns=["variant", "parameter"]).to_numpy()).all()
    t = sens.tornado(big, percent=50)
    assert np.isfinite(t["swing"]).all()
    # the physical preset at the largest valid HBM bandwidth stays in range (its
    # 22 kW of HBM power heat the package past any balance: a thermal runaway,
    # reported as a result)
    from xlmodel.studies.reference import with_physical_preset

    v = pd.DataFrame([{"hbm_bandwidth_gbps_per_stack": 100_000}], index=["v"])
    for p in PARAMETERS:
        if p.name not in v:
            v[p.name] = p.default
    r = evaluate(with_physical_preset(v))
    assert r["power_hbm_w"].iloc[0] > 20_000
    assert (np.isfinite(r["power_total_w"]) | r["thermal_runaway"]).all()
