"""Cost and yield: hand-worked formulas, yield-model limits, invariants, a published
figure, the process node table and the studies that use the cost metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cost_cases import TINY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlmodel
from xlmodel.engine import cost as cs
from xlmodel.engine import prepare
from xlmodel.engine.model import METRIC_UNITS, METRICS
from xlmodel.engine.nodes import (
    NODE_PARAMETERS,
    NodeTable,
    fill_process_nodes,
    load_process_nodes,
)
from xlmodel.schema import BY_NAME, DEFAULTS, PARAMETERS, PRECISIONS
from xlmodel.studies import sensitivity as sens
from xlmodel.studies.cost import (
    BREAKDOWN_COLUMNS,
    VERSUS_COLUMNS,
    cost_study,
    cost_versus_chiplets,
)
from xlmodel.studies.explore import Constraint, Objective, Problem, Range, explore
from xlmodel.studies.run import Study, run, seed_study
from xlmodel.studies.uncertainty import QUANTITIES, Spread, Uncertainty, monte_carlo

CODE = cs.YIELD_MODEL_CODES
COST_METRICS = [m.name for m in METRICS if m.unit == "USD" or m.unit == "USD/TFLOPS"]
YIELD_METRICS = ["die_yield", "interposer_yield", "package_yield"]
# Everything about the package that is not the dies: off, to compare silicon alone.
NEUTRAL_PACKAGE = dict(
    substrate_cost_usd_per_mm2=0.0,
    assembly_cost_usd=0.0,
    die_test_cost_usd=0.0,
    package_test_cost_usd=0.0,
    bonding_yield_per_die=1.0,
    kgd_test_coverage=1.0,
    hbm_stacks=0,
    package_type="organic_substrate",
)


def one(**values) -> pd.Series:
    """The metrics of one variant (defaults elsewhere)."""
    frame = pd.DataFrame({k: [v] for k, v in values.items()}, index=[0])
    return xlmodel.evaluate(frame).iloc[0]


# --- dies per wafer ---------------------------------------------------------------


def test_dies_per_wafer_textbook_examples():
    # Hennessy and Patterson, Computer Architecture (5th ed., section 1.6): on a
    # 300 mm wafer a 1.5 cm square die gives about 270 dies, a 1.0 cm die 640
    # (no edge exclusion, no scribe).
    got = cs.gross_dies_per_wafer(np.array([225.0, 100.0]), 300, 0, 0)
    assert got[0] == pytest.approx(269.7, abs=0.1)
    assert got[1] == pytest.approx(640.2, abs=0.1)
    # by hand: pi 150² / 225 - pi 300 / sqrt(450)
    assert got[0] == pytest.approx(math.pi * 150**2 / 225 - math.pi * 300 / 450**0.5)


def test_dies_per_wafer_with_edge_exclusion_and_scribe():
    # d = 300 - 2 x 3 = 294 mm; pitch (sqrt(100) + 0.1)² = 102.01 mm²
    expected = math.pi * 294**2 / (4 * 102.01) - math.pi * 294 / math.sqrt(2 * 102.01)
    assert cs.gross_dies_per_wafer(100.0, 300, 3, 0.1) == pytest.approx(expected)
    assert expected == pytest.approx(600.83, abs=0.01)
    # through the engine with the same coefficients
    m = one(chiplet_area_mm2=100, num_chiplets=1)
    assert m["dies_per_wafer"] == pytest.approx(expected)


def test_dies_per_wafer_never_negative_for_huge_dies():
    d = 294.0
    # the textbook formula is negative here; one die still fits (side 200 mm,
    # diagonal 283 mm < 294 mm) ...
    assert math.pi * d * d / (4 * 40_000) - math.pi * d / math.sqrt(80_000) < 0
    assert cs.gross_dies_per_wafer(40_000.0, 300, 3, 0) == 1.0
    # ... and beyond the largest inscribed square, the share of that square
    assert cs.gross_dies_per_wafer(86_436.0, 300, 3, 0) == pytest.approx(0.5)
    areas = np.geomspace(0.01, 1e7, 400)
    n = cs.gross_dies_per_wafer(areas, 300, 3, 0.1)
    assert (n > 0).all() and (np.diff(n) <= 0).all()  # positive, non-increasing


# --- yield models -----------------------------------------------------------------


@pytest.mark.parametrize(
    "model, expected",
    [
        # A = 100 mm², D = 0.5 /cm²: x = 0.5 expected defects per die
        ("poisson", math.exp(-0.5)),  # 0.606531
        ("murphy", ((1 - math.exp(-0.5)) / 0.5) ** 2),  # 0.619272
        ("seeds", 1 / 1.5),  # 0.666667
        ("negative_binomial", 1.25**-2),  # alpha 2: 0.64
        ("bose_einstein", 1.1**-5),  # 5 layers of D/5 each: 0.620921
    ],
)
def test_yield_models_by_hand(model, expected):
    y = cs.die_yield(CODE[model], 100.0, 0.5, alpha=2.0, layers=5.0)
    assert y == pytest.approx(expected, rel=1e-12)
    m = one(
        chiplet_area_mm2=100,
        num_chiplets=1,
        defect_density_per_cm2=0.5,
        yield_model=model,
        yield_alpha=2,
        critical_layers=5,
    )
    assert m["die_yield"] == pytest.approx(expected, rel=1e-12)


def test_negative_binomial_limits():
    x_area = np.linspace(0, 2000, 41)
    poisson = cs.die_yield(CODE["poisson"], x_area, 0.2)
    seeds = cs.die_yield(CODE["seeds"], x_area, 0.2)
    nb = CODE["negative_binomial"]
    # alpha 1 is Seeds exactly
    np.testing.assert_allclose(cs.die_yield(nb, x_area, 0.2, alpha=1.0), seeds)
    # the gap to Poisson shrinks as alpha grows, and vanishes in the limit
    gaps = [
        np.abs(cs.die_yield(nb, x_area, 0.2, alpha=a) - poisson).max()
        for a in (1, 10, 100, 1e4, 1e8)
    ]
    assert all(b < a for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] < 1e-7
    # larger alpha (less clustering) never yields more at the same defect density
    ys = [cs.die_yield(nb, 500.0, 0.2, alpha=a) for a in (0.5, 1, 3, 10, 1e6)]
    assert all(b < a for a, b in zip(ys, ys[1:]))
    # Bose-Einstein over n layers is the negative binomial with alpha = n
    np.testing.assert_allclose(
        cs.die_yield(CODE["bose_einstein"], x_area, 0.2, layers=7.0),
        cs.die_yield(nb, x_area, 0.2, alpha=7.0),
    )


def test_yield_without_defects_is_one_and_murphy_is_smooth_at_zero():
    for code in CODE.values():
        assert cs.die_yield(code, 800.0, 0.0) == 1.0
        assert cs.die_yield(code, 0.0, 0.3) == 1.0
    tiny = cs.die_yield(CODE["murphy"], 1e-9, 1.0)  # x = 1e-11: 1 - x + ...
    assert tiny == pytest.approx(1 - 1e-11, abs=1e-14)


def test_yield_never_underflows_in_log_space():
    # 10,000 mm² at 10 /cm² is 1000 expected defects: Poisson exp(-1000) underflows
    # to 0 as a yield, but its log stays exact
    log_y = cs.log_yield(CODE["poisson"], 10_000.0, 10.0, 3.0, 10.0)
    assert log_y == pytest.approx(-1000.0)
    assert cs.die_yield(CODE["poisson"], 10_000.0, 10.0) == 0.0


# --- the package ------------------------------------------------------------------


def test_cost_per_good_package_by_hand():
    # Two 100 mm² dies and one HBM stack on an organic substrate.
    v = dict(
        num_chiplets=2,
        chiplet_area_mm2=100,
        hbm_stacks=1,
        package_type="organic_substrate",
        wafer_price_usd=10_000,
        defect_density_per_cm2=0.5,
        yield_model="poisson",
        wafer_diameter_mm=300,
        edge_exclusion_mm=0,
        scribe_mm=0,
        kgd_test_coverage=1.0,
        bonding_yield_per_die=0.99,
        substrate_area_factor=2,
        substrate_cost_usd_per_mm2=0.01,
        hbm_footprint_mm2=110,
        assembly_cost_usd=20,
        hbm_capacity_gb_per_stack=24,
        hbm_price_usd_per_gb=10,
        die_test_cost_usd=1,
        package_test_cost_usd=2,
        mask_set_usd=25e6,
        design_nre_usd=75e6,
        volume_units=1_000_000,
    )
    m = one(**v)
    n_dies = math.pi * 150**2 / 100 - math.pi * 300 / math.sqrt(200)  # 640.215
    raw = 10_000 / n_dies  # 15.620 per die
    y = math.exp(-0.5)  # Poisson, x = 0.5
    # full coverage: every defective die is caught, every passing die is good
    y_pkg = 0.99**3  # two dies and one stack bonded
    substrate = 2 * (2 * 100 + 110) * 0.01  # 620 mm² of substrate
    package = substrate + 20
    extra = 1 / y_pkg - 1
    expected = {
        "dies_per_wafer": n_dies,
        "die_yield": y,
        "raw_die_cost_usd": raw,
        "cost_per_good_die_usd": raw / y,
        "package_yield": y_pkg,
        "cost_raw_dies_usd": 2 * raw,
        "cost_defective_dies_usd": 2 * raw * (1 / y - 1),
        "cost_package_usd": package,
        "cost_package_defects_usd": package * extra,
        "cost_lost_good_dies_usd": 2 * raw / y * extra,
        "cost_hbm_usd": 24 * 10 / y_pkg,
        "cost_test_usd": (2 * 1 / y + 2) / y_pkg,
        "nre_per_unit_usd": 100.0,
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, rel=1e-12), name
    total = (2 * raw / y + package + 240 + 2 / y + 2) / y_pkg
    assert m["cost_per_good_package_usd"] == pytest.approx(total, rel=1e-12)
    assert total == pytest.approx(332.89, abs=0.01)
    assert m["unit_cost_usd"] == pytest.approx(total + 100, rel=1e-12)
    assert sum(m[c] for c in cs.COST_COMPONENTS) == pytest.approx(total, rel=1e-12)
    assert m["interposer_area_mm2"] == 0 and m["interposer_yield"] == 1
    assert m["bridge_count"] == 0


def test_known_good_die_coverage_trades_scrap_for_escapes():
    base = dict(
        num_chiplets=4,
        chiplet_area_mm2=300,
        hbm_stacks=0,
        package_type="organic_substrate",
        bonding_yield_per_die=1.0,
        defect_density_per_cm2=0.2,
    )
    none_ = one(**base, kgd_test_coverage=0.0)
    half = one(**base, kgd_test_coverage=0.5)
    full = one(**base, kgd_test_coverage=1.0)
    y = full["die_yield"]
    # no test: every die is assembled, bad ones kill the package (Y^4)
    assert none_["package_yield"] == pytest.approx(y**4)
    assert none_["cost_defective_dies_usd"] == 0
    # half coverage: p = Y + (1 - Y) / 2 of the dies pass; Y / p of those are good
    p = y + (1 - y) * 0.5
    assert half["package_yield"] == pytest.approx((y / p) ** 4)
    raw4 = 4 * half["raw_die_cost_usd"]
    assert half["cost_defective_dies_usd"] == pytest.approx(raw4 * (1 / p - 1))
    # full coverage: scrap at wafer test only
    assert full["package_yield"] == 1.0
    assert full["cost_defective_dies_usd"] == pytest.approx(raw4 * (1 / y - 1))
    assert full["cost_lost_good_dies_usd"] == 0
    # testing pays when packages are dear: with HBM, full coverage is cheapest
    dear = {**base, "hbm_stacks": 8}
    costs = [
        one(**dear, kgd_test_coverage=c)["cost_per_good_package_usd"]
        for c in (0, 0.5, 1)
    ]
    assert costs[0] > costs[1] > costs[2]


def test_silicon_interposer_by_hand():
    m = one(
        num_chiplets=2,
        chiplet_area_mm2=300,
        hbm_stacks=4,
        package_type="silicon_interposer",
        interposer_area_factor=1.2,
        hbm_footprint_mm2=100,
        interposer_wafer_price_usd=2000,
        interposer_defect_density_per_cm2=0.05,
        yield_model="poisson",
        bonding_yield_per_die=0.98,
        kgd_test_coverage=1.0,
        substrate_area_factor=3,
        substrate_cost_usd_per_mm2=0.02,
        assembly_cost_usd=30,
    )
    area = 1.2 * (2 * 300 + 4 * 100)  # 1200 mm²
    assert m["interposer_area_mm2"] == pytest.approx(area)
    y_int = math.exp(-area / 100 * 0.05)  # Poisson, 0.6 defects
    assert m["interposer_yield"] == pytest.approx(y_int)
    assert m["package_yield"] == pytest.approx(0.98**6 * y_int)
    n_int = cs.gross_dies_per_wafer(area, 300, 3, 0.1)
    package = 2000 / n_int + 3 * area * 0.02 + 30
    assert m["cost_package_usd"] == pytest.approx(package)


def test_bridges_per_link_and_hbm_stack():
    m = one(
        num_chiplets=4, hbm_stacks=8, package_type="bridge", d2d_links_per_chiplet=4
    )
    assert m["bridge_count"] == 4 * 4 / 2 + 8
    assert m["interposer_area_mm2"] == 0
    single = one(num_chiplets=1, hbm_stacks=2, package_type="bridge", bridge_yield=0.9)
    assert single["bridge_count"] == 2  # no die-to-die bridge for one die
    no_bridge = one(num_chiplets=1, hbm_stacks=2, package_type="bridge", bridge_yield=1)
    assert single["package_yield"] == pytest.approx(no_bridge["package_yield"] * 0.81)
    pricier = one(
        num_chiplets=4, hbm_stacks=8, package_type="bridge", bridge_cost_usd=15
    )
    assert pricier["cost_package_usd"] - m["cost_package_usd"] == pytest.approx(16 * 10)


def test_usd_per_tflops_at_every_precision():
    m = one(target_precision="FP8")
    assert m["usd_per_tflops"] == pytest.approx(
        m["unit_cost_usd"] / m["peak_fp8_tflops"]
    )
    for p in PRECISIONS:
        k = p.value.lower()
        assert m[f"usd_per_{k}_tflops"] == pytest.approx(
            m["unit_cost_usd"] / m[f"peak_{k}_tflops"]
        )


def test_monolithic_equivalent_is_the_same_silicon_as_one_die():
    chiplets = one(num_chiplets=4, chiplet_area_mm2=150, d2d_phy_area_mm2=10)
    mono = one(num_chiplets=1, chiplet_area_mm2=600, d2d_phy_area_mm2=10)
    assert chiplets["chiplet_die_area_mm2"] == 160  # the PHY is added per chiplet
    assert mono["chiplet_die_area_mm2"] == 600  # ... but not to a single die
    assert chiplets["monolithic_area_mm2"] == 600
    cost = mono["cost_per_good_package_usd"]
    assert chiplets["monolithic_cost_per_good_package_usd"] == pytest.approx(cost)
    assert chiplets["monolithic_die_yield"] == pytest.approx(mono["die_yield"])
    assert chiplets["chiplet_saving_usd"] == pytest.approx(
        cost - chiplets["cost_per_good_package_usd"]
    )
    assert chiplets["chiplet_cost_ratio"] == pytest.approx(
        chiplets["cost_per_good_package_usd"] / cost
    )
    assert mono["chiplet_saving_usd"] == 0 and mono["chiplet_cost_ratio"] == 1
    # beyond the reticle: n/a
    big = one(num_chiplets=4, chiplet_area_mm2=300)  # 1200 mm² > 858 mm²
    for name in (
        "monolithic_die_yield",
        "monolithic_cost_per_good_package_usd",
        "chiplet_saving_usd",
        "chiplet_cost_ratio",
    ):
        assert math.isnan(big[name]), name
    assert math.isfinite(big["cost_per_good_package_usd"])
    assert math.isfinite(
        one(num_chiplets=4, chiplet_area_mm2=214.5)["chiplet_cost_ratio"]
    )
    high_na = one(num_chiplets=2, chiplet_area_mm2=300, reticle_limit_mm2=429)
    assert math.isnan(high_na["monolithic_cost_per_good_package_usd"])


def test_d2d_phy_area_costs_silicon_but_leaves_density_alone():
    plain = one(num_chiplets=4, chiplet_area_mm2=300)
    phy = one(num_chiplets=4, chiplet_area_mm2=300, d2d_phy_area_mm2=30)
    assert phy["chiplet_die_area_mm2"] == 330
    assert phy["cost_per_good_die_usd"] > plain["cost_per_good_die_usd"]
    assert phy["die_yield"] < plain["die_yield"]
    for name in ("total_area_mm2", "target_density_tflops_per_mm2", "power_total_w"):
        assert phy[name] == plain[name]


def test_cost_inputs_leave_every_other_metric_as_it_was():
    study = seed_study()
    before = xlmodel.evaluate(study.variants)
    changed = study.variants.assign(
        wafer_price_usd=5000.0,
        defect_density_per_cm2=0.7,
        yield_model="murphy",
        package_type="bridge",
        d2d_phy_area_mm2=40.0,
        hbm_price_usd_per_gb=25.0,
        kgd_test_coverage=0.3,
        process_node="TSMC 7nm",
    )
    after = xlmodel.evaluate(changed)
    cost_names = {m.name for m in METRICS[METRICS.index(_first_cost()) :]}
    for m in METRICS:
        if m.name not in cost_names:
            pd.testing.assert_series_equal(before[m.name], after[m.name])
    # the seed's published figures, for the record
    assert before["target_density_tflops_per_mm2"].round(3).tolist() == [
        0.041,
        0.242,
        0.176,
        0.819,
        0.058,
    ]
    assert before["power_total_w"].round().tolist() == [267, 363, 412, 460, 315]


def _first_cost():
    return next(m for m in METRICS if m.name == "chiplet_die_area_mm2")


def test_every_cost_metric_has_a_unit():
    names = [m.name for m in METRICS[METRICS.index(_first_cost()) :]]
    assert {"dies_per_wafer", "die_yield", "cost_per_good_die_usd"} <= set(names)
    assert {"package_yield", "cost_per_good_package_usd", "nre_per_unit_usd"} <= set(
        names
    )
    assert {"unit_cost_usd", "usd_per_tflops"} <= set(names)
    assert {"monolithic_cost_per_good_package_usd", "chiplet_saving_usd"} <= set(names)
    assert set(cs.COST_COMPONENTS) <= set(names)
    for name in names:
        assert METRIC_UNITS[name], name


# --- a published figure -----------------------------------------------------------


def test_amd_isscc_2021_four_chiplets_cost_059_of_one_monolithic_die():
    """AMD (Naffziger et al., ISSCC 2021): four 213 mm² 14 nm chiplets, 852 mm² in
    all, against a hypothetical 777 mm² monolithic 32-core die; "the final cost of
    the quad-chiplet design is only approximately 0.59 of the monolithic approach
    despite consuming approximately 10% more total silicon" (AMD-internal yield
    modelling, historical defect density of a mature process).

    Assumptions: the shipped "GF 14nm" row (CSET's 16/12 nm-class wafer price,
    0.08 defects/cm² as in Chiplet Actuary), the default yield model (negative
    binomial, alpha 3), 300 mm wafers with the default edge and scribe; each
    chiplet is 777/4 mm² of logic plus 18.75 mm² of die-to-die PHY (213 mm² in
    all), the monolithic die the 777 mm² of logic alone; the comparison is of
    known-good silicon (full wafer test, package and test costs off), which is
    what the yield argument is about. Agreement within +/- 0.08.
    """
    m = one(
        process_node="GF 14nm",
        num_chiplets=4,
        chiplet_area_mm2=777 / 4,
        d2d_phy_area_mm2=213 - 777 / 4,
        **NEUTRAL_PACKAGE,
    )
    assert m["chiplet_die_area_mm2"] == pytest.approx(213)
    assert m["monolithic_area_mm2"] == pytest.approx(777)
    ratio = m["chiplet_cost_ratio"]
    assert ratio == pytest.approx(0.59, abs=0.08)
    # with the package neutral, it is the ratio of known-good silicon
    mono = one(process_node="GF 14nm", num_chiplets=1, chiplet_area_mm2=777)
    assert ratio == pytest.approx(
        4 * m["cost_per_good_die_usd"] / mono["cost_per_good_die_usd"]
    )
    assert m["die_yield"] > 0.8 > 0.6 > m["monolithic_die_yield"] > 0.5


# --- invariants -------------------------------------------------------------------


def _valid(p):
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    ends = st.sampled_from(sorted({p.minimum, p.maximum}))
    if p.kind == "int":
        return st.one_of(ends.map(int), st.integers(int(p.minimum), int(p.maximum)))
    return st.one_of(ends, st.floats(p.minimum, p.maximum, allow_nan=False))


_COST_INPUTS = [
    p
    for p in PARAMETERS
    if p.group.startswith("Cost")
    or p.name
    in (
        "num_chiplets",
        "chiplet_area_mm2",
        "hbm_stacks",
        "hbm_capacity_gb_per_stack",
        "d2d_links_per_chiplet",
    )
]


def _check_costs(m: pd.Series) -> None:
    """Yields in [0, 1]; costs never NaN, never negative, the totals positive;
    finite wherever the yields leave the true cost inside the float range."""
    for name in YIELD_METRICS:
        assert 0.0 <= m[name] <= 1.0, name
    representable = m["die_yield"] * m["package_yield"] >= TINY
    for name in COST_METRICS:
        if name.startswith(("monolithic", "chiplet_")):
            continue
        v = m[name]
        assert not math.isnan(v), name
        assert v >= 0, name
        if representable:
            assert math.isfinite(v), name
    for name in ("cost_per_good_die_usd", "cost_per_good_package_usd", "unit_cost_usd"):
        assert m[name] > 0, name
    if representable:
        parts = sum(m[c] for c in cs.COST_COMPONENTS)
        assert parts == pytest.approx(m["cost_per_good_package_usd"], rel=1e-9)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({p.name: _valid(p) for p in _COST_INPUTS}))
def test_any_valid_inputs_give_yields_in_0_1_and_positive_costs(values):
    m = one(**values)
    _check_costs(m)
    mono = m["monolithic_cost_per_good_package_usd"]
    if m["monolithic_area_mm2"] > values["reticle_limit_mm2"]:
        assert math.isnan(mono)
    else:
        assert 0 <= m["monolithic_die_yield"] <= 1
        assert mono > 0
        if m["monolithic_die_yield"] ** 2 * m["package_yield"] >= TINY:
            assert math.isfinite(mono)


# Inside the plausible region every cost is a finite number.
_PLAUSIBLE = {
    "num_chiplets": st.integers(1, 64),
    "chiplet_area_mm2": st.floats(20, 858),
    "hbm_stacks": st.integers(0, 16),
    "defect_density_per_cm2": st.floats(0, 1),
    "yield_alpha": st.floats(0.3, 20),
    "bonding_yield_per_die": st.floats(0.9, 1),
    "bridge_yield": st.floats(0.9, 1),
    "interposer_defect_density_per_cm2": st.floats(0, 0.2),
    "kgd_test_coverage": st.floats(0, 1),
    "yield_model": st.sampled_from(BY_NAME["yield_model"].choices),
    "package_type": st.sampled_from(BY_NAME["package_type"].choices),
    "wafer_price_usd": st.floats(1000, 60_000),
    "d2d_phy_area_mm2": st.floats(0, 100),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(_PLAUSIBLE))
def test_plausible_inputs_give_finite_costs(values):
    m = one(**values)
    _check_costs(m)
    for name in COST_METRICS:
        if not name.startswith(("monolithic", "chiplet_")):
            assert math.isfinite(m[name]), name


def test_costs_move_the_right_way():
    base = one()
    assert one(wafer_price_usd=40_000)["cost_per_good_die_usd"] == pytest.approx(
        2 * base["cost_per_good_die_usd"]
    )
    assert one(defect_density_per_cm2=0.3)["die_yield"] < base["die_yield"]
    assert one(hbm_price_usd_per_gb=20)["cost_hbm_usd"] == pytest.approx(
        2 * base["cost_hbm_usd"]
    )
    assert one(volume_units=2_000_000)["nre_per_unit_usd"] == pytest.approx(
        base["nre_per_unit_usd"] / 2
    )
    assert one(scribe_mm=0.5)["dies_per_wafer"] < base["dies_per_wafer"]
    assert one(edge_exclusion_mm=6)["dies_per_wafer"] < base["dies_per_wafer"]
    assert one(wafer_diameter_mm=450)["dies_per_wafer"] > 2 * base["dies_per_wafer"]


# --- the process node table -------------------------------------------------------


def test_shipped_table_has_a_source_and_date_per_row_and_valid_values():
    table = load_process_nodes()
    assert len(table) >= 8
    for _, row in table.iterrows():
        assert isinstance(row["source"], str) and len(row["source"]) > 20, row
        assert str(row["as_of"]).strip(), row
        for name in NODE_PARAMETERS:
            p = BY_NAME[name]
            assert p.minimum <= row[name] <= p.maximum, (row["process_node"], name)
    # the schema's defaults are the default node's row
    t = NodeTable(table)
    default = BY_NAME["process_node"].default
    for name in NODE_PARAMETERS:
        assert t.values[name][t.row(default)] == DEFAULTS[name], name


def test_variants_take_their_nodes_values_when_blank():
    frame = pd.DataFrame(
        {
            "process_node": ["TSMC 5nm", "tsmc  n4p", "TSMC N7", "TSMC 3nm"],
            "wafer_price_usd": [np.nan, np.nan, 12_000.0, np.nan],
            "defect_density_per_cm2": [np.nan, 0.3, np.nan, np.nan],
        },
        index=["five", "four", "seven", "three"],
    )
    x = prepare(frame)
    # blank -> the node's row (by label or alias, any case and spacing)
    assert x["wafer_price_usd"].tolist() == [16988, 16988, 12_000, 20_000]
    assert x["defect_density_per_cm2"].tolist() == [0.10, 0.3, 0.09, 0.10]
    # no column at all: looked up per row too
    assert x["mask_set_usd"].tolist() == [15e6, 15e6, 12e6, 25e6]
    m = xlmodel.evaluate(frame)
    assert m.loc["seven", "raw_die_cost_usd"] == pytest.approx(
        12_000 / m.loc["seven", "dies_per_wafer"]
    )
    # None counts as blank
    none = prepare(
        pd.DataFrame({"process_node": ["TSMC 7nm"], "wafer_price_usd": [None]})
    )
    assert none["wafer_price_usd"][0] == 9346


def test_unknown_node_with_a_blank_cell_is_an_error_naming_both():
    frame = pd.DataFrame(
        {
            "process_node": ["TSMC 3nm", "Intel 18A"],
            "wafer_price_usd": [np.nan, np.nan],
        },
        index=["ok", "new"],
    )
    with pytest.raises(ValueError) as err:
        xlmodel.evaluate(frame)
    text = str(err.value)
    assert "wafer_price_usd" in text and "'Intel 18A'" in text and "'new'" in text
    assert "not in the process node table" in text
    # a value given for it wins: no look-up, no error
    given = frame.assign(wafer_price_usd=[np.nan, 25_000.0])
    m = xlmodel.evaluate(given)
    assert m.loc["new", "raw_die_cost_usd"] * m.loc[
        "new", "dies_per_wafer"
    ] == pytest.approx(25_000)


def test_unknown_node_without_the_columns_leaves_cost_na_only():
    m = xlmodel.evaluate(pd.DataFrame({"process_node": ["Intel 18A", "TSMC 3nm"]}))
    assert math.isnan(m["cost_per_good_package_usd"].iloc[0])
    assert math.isfinite(m["cost_per_good_package_usd"].iloc[1])
    assert m["power_total_w"].iloc[0] == m["power_total_w"].iloc[1]
    assert m["target_peak_tflops"].iloc[0] == m["target_peak_tflops"].iloc[1]


def test_a_users_table_overrides_the_shipped_one():
    table = pd.concat(
        [
            load_process_nodes(),
            pd.DataFrame(
                {
                    "process_node": ["Intel 18A"],
                    "aliases": ["18A"],
                    "wafer_price_usd": [22_000],
                    "defect_density_per_cm2": [0.2],
                    "mask_set_usd": [np.nan],  # blank: an error only where needed
                    "as_of": ["2025"],
                    "source": ["mine"],
                }
            ),
        ],
        ignore_index=True,
    )
    frame = pd.DataFrame({"process_node": ["18a"], "wafer_price_usd": [np.nan]})
    x = prepare(frame, process_nodes=table)
    assert x["wafer_price_usd"][0] == 22_000
    assert x["defect_density_per_cm2"][0] == 0.2
    assert math.isnan(x["mask_set_usd"][0])  # no column, blank row: n/a
    m = xlmodel.evaluate(frame, process_nodes=table)
    assert math.isfinite(m["cost_per_good_package_usd"][0])
    assert math.isnan(m["unit_cost_usd"][0])  # NRE unknown
    with pytest.raises(ValueError, match="has no mask_set_usd"):
        prepare(frame.assign(mask_set_usd=np.nan), process_nodes=table)
    with pytest.raises(ValueError, match="'18a' is not in the process node table"):
        prepare(frame)  # the shipped table does not know it


def test_the_studys_table_reaches_every_study():
    study = seed_study()
    v = study.variants.copy()
    v["process_node"] = "Custom 1nm"
    v["wafer_price_usd"] = np.nan
    v["defect_density_per_cm2"] = np.nan
    v["mask_set_usd"] = np.nan
    study.variants = v
    study.process_nodes = pd.DataFrame(
        {
            "process_node": ["Custom 1nm"],
            "wafer_price_usd": [40_000],
            "defect_density_per_cm2": [0.15],
            "mask_set_usd": [50e6],
        }
    )
    r = run(study)
    assert (r.cost.breakdown["wafer_price_usd"] == 40_000).all()
    assert (r.metrics["nre_per_unit_usd"] == 50.0).all()
    assert np.isfinite(r.cost.versus_chiplets["cost_per_good_package_usd"]).all()
    with pytest.raises(ValueError, match="Custom 1nm"):
        run(Study(v))  # the shipped table does not know it


def test_fill_process_nodes_keeps_given_values_and_fills_blanks():
    frame = pd.DataFrame(
        {"process_node": ["TSMC 7nm", "TSMC 7nm"], "wafer_price_usd": [np.nan, 1.5e4]}
    )
    out = fill_process_nodes(frame)
    assert out["wafer_price_usd"].tolist() == [9346, 15_000]
    assert out["mask_set_usd"].tolist() == [12e6, 12e6]
    assert frame["wafer_price_usd"].isna().sum() == 1  # the input is unchanged


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"wafer_price_usd": 1}], "lacks column: process_node"),
        ([{"process_node": "A"}, {"process_node": " a "}], "also names row 1"),
        ([{"process_node": "A", "aliases": "x"}, {"process_node": "X"}], "also names"),
        ([{"process_node": "A", "wafer_price_usd": -5}], "wafer_price_usd -5"),
        ([{"process_node": "A", "defect_density_per_cm2": "lots"}], "'lots'"),
        ([{"process_node": ""}], "is not a label"),
    ],
)
def test_a_bad_table_is_refused_with_its_row(rows, message):
    with pytest.raises(ValueError, match=message):
        NodeTable(pd.DataFrame(rows))


# --- the cost metrics in the studies ----------------------------------------------


def test_cost_study_tables():
    study = seed_study()
    tables = cost_study(study.variants, (1, 2, 4, 8))
    b, vs = tables.breakdown, tables.versus_chiplets
    assert list(b.columns) == list(BREAKDOWN_COLUMNS) and b.index.name == "variant"
    assert list(vs.columns) == list(VERSUS_COLUMNS)
    m = xlmodel.evaluate(study.variants)
    np.testing.assert_allclose(
        b[list(cs.COST_COMPONENTS)].sum(axis=1), b["cost_per_good_package_usd"]
    )
    np.testing.assert_allclose(b["unit_cost_usd"], m["unit_cost_usd"])
    # the same silicon at every count; the variant's own count is its own cost
    for name, group in vs.groupby("variant"):
        silicon = (
            study.variants.loc[name, "num_chiplets"]
            * study.variants.loc[name, "chiplet_area_mm2"]
        )
        np.testing.assert_allclose(
            group["chiplet_area_mm2"] * group["num_chiplets"], silicon
        )
        own = group[group["num_chiplets"] == 4]["cost_per_good_package_usd"].iloc[0]
        assert own == pytest.approx(m.loc[name, "cost_per_good_package_usd"])
        # one die of 1,200-1,600 mm² is beyond the reticle: n/a and outside it
        assert group["monolithic_cost_per_good_package_usd"].isna().all()
        assert not group[group["num_chiplets"] == 1]["within_reticle"].any()
        assert group[group["num_chiplets"] == 8]["within_reticle"].all()
    # smaller chiplets yield better
    base = vs[vs["variant"] == "Baseline"]
    assert (np.diff(base["die_yield"]) > 0).all()


def test_cost_versus_chiplets_within_the_reticle_has_the_monolithic_beside_it():
    v = pd.DataFrame({"num_chiplets": [4], "chiplet_area_mm2": [200.0]}, index=["v"])
    vs = cost_versus_chiplets(v, (1, 2, 4))
    one_die = vs[vs["num_chiplets"] == 1]
    mono = vs["monolithic_cost_per_good_package_usd"]
    assert (mono == mono.iloc[0]).all() and math.isfinite(mono.iloc[0])
    assert one_die["cost_per_good_package_usd"].iloc[0] == pytest.approx(mono.iloc[0])
    assert one_die["chiplet_saving_usd"].iloc[0] == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="chiplet counts"):
        cost_versus_chiplets(v, (0, 2))


def test_results_carry_the_cost_tables():
    r = run(seed_study())
    tables = r.tables()
    assert list(tables["cost_breakdown"].columns) == ["variant", *BREAKDOWN_COLUMNS]
    assert list(tables["cost_vs_chiplets"].columns) == list(VERSUS_COLUMNS)
    assert set(tables["cost_vs_chiplets"]["num_chiplets"]) == {2, 4, 6, 8}


def test_explore_with_unit_cost_as_objective_and_constraint():
    base = prepare(seed_study().variants.loc[["Baseline"]])
    problem = Problem(
        ranges=(
            Range("num_chiplets", 1, 8, 8),
            Range("chiplet_area_mm2", 100, 400, 4),
        ),
        objectives=(
            Objective("target_peak_tflops", "max"),
            Objective("unit_cost_usd", "min"),
        ),
        constraints=(
            Constraint("unit_cost_usd", "<=", 7000),
            Constraint("chiplet_die_area_mm2", "<=", 858),
        ),
        top_k=5,
    )
    result = explore(problem, base)
    d = result.designs
    assert len(d) and (d["unit_cost_usd"] <= 7000).all()
    # brute force over the same grid through the public API
    frame = pd.concat([seed_study().variants.loc[["Baseline"]]] * 32, ignore_index=True)
    frame["num_chiplets"] = np.repeat(np.arange(1, 9), 4)
    frame["chiplet_area_mm2"] = np.tile([100.0, 200.0, 300.0, 400.0], 8)
    m = xlmodel.evaluate(frame)
    feasible = (m["unit_cost_usd"] <= 7000) & (m["chiplet_die_area_mm2"] <= 858)
    assert result.feasible == int(feasible.sum())
    best = m[feasible]["target_peak_tflops"].max()
    assert d["target_peak_tflops"].iloc[0] == pytest.approx(best)


def test_monte_carlo_over_wafer_price_and_defect_density():
    study = seed_study()
    spec = Uncertainty(
        (
            Spread("wafer_price_usd", "uniform", 20),
            Spread("defect_density_per_cm2", "normal", 30),
        ),
        4000,
        seed=2,
        quantities=("unit_cost_usd", "cost_per_good_die_usd", *QUANTITIES),
    )
    result = monte_carlo(prepare(study.variants), study.variants.index, spec)
    s = result.summary
    nominal = xlmodel.evaluate(study.variants)
    for q in ("unit_cost_usd", "cost_per_good_die_usd"):
        assert (s[f"{q}_p10"] < s[f"{q}_p50"]).all() and (
            s[f"{q}_p50"] < s[f"{q}_p90"]
        ).all()
        np.testing.assert_allclose(s[f"{q}_nominal"], nominal[q])
        assert set(result.cdf) >= {q}
    # the power figures do not move with wafer price or defect density
    np.testing.assert_allclose(s["power_total_w_p10"], s["power_total_w_p90"])
    # a uniform +/-20 % wafer price alone: cost per good die spans +/-16 % at P10/P90
    alone = Uncertainty(
        (Spread("wafer_price_usd", "uniform", 20),),
        20_000,
        seed=1,
        quantities=("cost_per_good_die_usd",),
    )
    r = monte_carlo(prepare(study.variants), study.variants.index, alone).summary
    ratio = r["cost_per_good_die_usd_p90"] / r["cost_per_good_die_usd_nominal"]
    np.testing.assert_allclose(ratio, 1.16, atol=0.01)
    assert Uncertainty((Spread("clock_mhz", "normal", 3),)).quantities == QUANTITIES
    with pytest.raises(ValueError, match="meets_power_budget"):
        Uncertainty(
            (Spread("clock_mhz", "normal", 3),), quantities=("meets_power_budget",)
        )


def test_tornado_and_elasticities_of_cost():
    base = seed_study().variants.loc[["Baseline"]]
    t = sens.tornado(
        base,
        ("wafer_price_usd", "defect_density_per_cm2", "hbm_price_usd_per_gb"),
        20,
        metric="unit_cost_usd",
    )
    assert set(t["parameter"]) == {
        "wafer_price_usd",
        "defect_density_per_cm2",
        "hbm_price_usd_per_gb",
    }
    assert (t["swing"] > 0).all()
    e = sens.elasticities(
        base,
        ("wafer_price_usd", "volume_units"),
        metrics=("cost_per_good_die_usd", "nre_per_unit_usd"),
    )
    e = e.set_index("parameter")
    assert e.loc["wafer_price_usd", "cost_per_good_die_usd"] == pytest.approx(
        1.0, abs=1e-9
    )
    assert e.loc["volume_units", "nre_per_unit_usd"] == pytest.approx(-1.0, abs=1e-6)
