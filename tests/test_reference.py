"""Reference silicon through the model reproduces its published peaks within 1 %."""

import numpy as np
import pandas as pd
import pytest

from xlmodel import evaluate
from xlmodel.studies.calibrate import NODE_VOLTAGE, TDP_COLUMNS
from xlmodel.studies.reference import (
    PEAK_COLUMNS,
    load_chips,
    physical_fit,
    power_features,
    to_variants,
    top_clocks,
    with_physical_preset,
)

CHIPS = load_chips()


@pytest.mark.parametrize("chip", list(CHIPS.index))
def test_reference_reproduces_published_peaks_within_one_percent(chip):
    params = to_variants(CHIPS.loc[[chip]])
    area_known = params["chiplet_area_mm2"].notna().all()
    if not area_known:
        params = params.drop(columns="chiplet_area_mm2")
    r = evaluate(params).iloc[0]
    row = CHIPS.loc[chip]
    checked = 0
    for col, prec in PEAK_COLUMNS.items():
        published = pd.to_numeric(row.get(col), errors="coerce")
        if col in ("tf32_dense_tflops",) or not np.isfinite(published):
            continue
        assert r[f"peak_{prec}_tflops"] == pytest.approx(published, rel=0.01), col
        checked += 1
    assert checked >= 3  # FP16, BF16 and INT8 at least
    assert r["hbm_bandwidth_tbps"] == pytest.approx(row["hbm_bw_tbps"], rel=0.01)
    if area_known:
        published_density = row["fp16_dense_tflops"] / (
            row["die_area_mm2_each"] * row["compute_dies"]
        )
        assert r["density_fp16_tflops_per_mm2"] == pytest.approx(
            published_density, rel=0.01
        )


def test_h100_density_is_about_1_2_not_0_5():
    r = evaluate(to_variants(CHIPS.loc[["H100 SXM5"]])).iloc[0]
    assert round(r["density_fp16_tflops_per_mm2"], 2) == 1.22
    assert r["fp16_flop_per_cycle_per_sm"] == 4096


def test_bad_reference_csv(tmp_path):
    p = tmp_path / "chips.csv"
    p.write_text("chip,compute_dies\nX,1\n")
    with pytest.raises(ValueError, match="lacks column"):
        load_chips(p)
    CHIPS.reset_index().assign(clock_mhz=["fast"] + [1] * (len(CHIPS) - 1)).to_csv(
        p, index=False
    )
    with pytest.raises(ValueError, match="clock_mhz: 'fast'"):
        load_chips(p)


def test_a_peak_too_large_for_whole_ops_leaves_the_chip_out_by_name():
    from xlmodel.schema import DEFAULTS
    from xlmodel.studies.reality import check_references

    chips = CHIPS.astype({"sms_or_cus": float})
    chips.loc["H100 SXM5", "fp16_dense_tflops"] = 1e308  # ops per cycle: inf
    chips.loc["H200 SXM", "sms_or_cus"] = 1e300  # beyond an integer
    params = to_variants(chips)
    assert params["fp16_ops_per_cycle"].dtype == float
    assert np.isinf(params.at["H100 SXM5", "fp16_ops_per_cycle"])
    kept, warnings = check_references(chips, pd.Series(DEFAULTS))
    assert "H100 SXM5" not in kept.index and "H200 SXM" not in kept.index
    assert len(kept) == len(chips) - 2
    assert any("H100 SXM5" in w and "fp16_ops_per_cycle" in w for w in warnings)
    assert any("H200 SXM" in w and "sms_per_chiplet" in w for w in warnings)
    # the others keep whole numbers
    assert to_variants(CHIPS)["fp16_ops_per_cycle"].dtype.kind == "i"


def test_chips_of_one_die_share_the_top_of_its_curve():
    chips = load_chips()
    top = top_clocks(chips)
    # the fastest quoted clock of any chip of the die: GH100 at H100 SXM's 1830
    # MHz (PCIe 1620, NVL 1545), the MI350 die at MI355X's 2.4 GHz
    gh100 = chips.index[chips["silicon"] == "GH100"]
    assert len(gh100) == 5 and (top[gh100] == 1830).all()
    assert top["H100 PCIe"] == 1830 and chips.loc["H100 PCIe", "clock_mhz"] == 1620
    assert top["MI350X"] == top["MI355X"] == 2400
    assert top["MI210"] == top["MI250X"] == 1700
    # a die is named once however it is typed; a blank die is the row's own
    odd = chips.copy()
    odd.loc["H100 PCIe", "silicon"] = "  gh100 "
    odd.loc["H100 SXM5", "silicon"] = ""
    odd_top = top_clocks(odd)
    assert odd_top["H100 PCIe"] == 1830  # H200 SXM still quotes 1830
    assert odd_top["H100 SXM5"] == 1830  # its own
    odd.loc["H200 SXM", "silicon"] = None
    odd.loc["H100 NVL", "silicon"] = np.nan
    odd_top = top_clocks(odd)
    assert odd_top["H100 PCIe"] == 1620  # GH100 rows left: PCIe 1620, H200 NVL 1545
    assert odd_top["H100 NVL"] == 1545 and odd_top["H200 NVL"] == 1620
    # a table without the column: every chip is its own die
    assert (top_clocks(chips.drop(columns="silicon")) == chips["clock_mhz"]).all()


def test_a_chip_below_its_die_top_runs_at_a_lower_voltage():
    # MI350X (2.2 GHz) and MI355X (2.4 GHz) are one die: under the physical
    # preset MI355X sits at the N3 class's voltage, MI350X lower on the same curve
    fit = physical_fit()
    feats = power_features(load_chips()).loc[["MI350X", "MI355X"]]
    rows = feats.drop(columns=list(TDP_COLUMNS))
    r = evaluate(with_physical_preset(rows, fit, feats["vf_top_clock_mhz"]))
    v_top, floor = NODE_VOLTAGE["n3"]
    k = fit.coefficients["vf_slope_v_per_ghz"]
    assert r.loc["MI355X", "core_voltage_v"] == pytest.approx(v_top, rel=1e-12)
    expected = max(floor, v_top - k * 0.2)
    assert r.loc["MI350X", "core_voltage_v"] == pytest.approx(expected, rel=1e-12)
    assert r.loc["MI350X", "core_voltage_v"] < v_top
    # as a variant (no die named) the same chip's curve tops out at 1.8 GHz
    alone = evaluate(with_physical_preset(rows, fit))
    assert alone.loc["MI355X", "core_voltage_v"] == pytest.approx(
        v_top + k * 0.6, rel=1e-12
    )


def test_the_reality_check_puts_each_reference_on_its_die_curve():
    from xlmodel.studies.reality import reality_table
    from xlmodel.studies.run import seed_study

    variants = seed_study().variants
    chips = load_chips()
    fit = physical_fit()
    base = reality_table(variants, chips)
    # the shipped chips on their dies' curves: exactly the fit's predictions at
    # the quoted clocks (H100 PCIe below GH100's top, MI350X below MI355X's)
    for chip in ("H100 PCIe", "MI350X", "H100 SXM5"):
        assert base.loc[chip, "power_physical_w"] == pytest.approx(
            fit.per_chip.loc[chip, "predicted_w"], rel=1e-12
        )
    # a chip of the same die quoted faster (a user's row) lifts the die's top:
    # the others now sit lower on its curve and draw less at their clocks
    faster = chips.loc[["H100 SXM5"]].rename(index={"H100 SXM5": "GH100 at 1980"})
    faster["clock_mhz"] = 1980.0
    more = reality_table(variants, pd.concat([chips, faster]))
    for chip in chips.index[chips["silicon"] == "GH100"]:
        assert more.loc[chip, "power_physical_w"] < base.loc[chip, "power_physical_w"]
    other = chips.index[chips["silicon"] != "GH100"]
    assert (
        more.loc[other, "power_physical_w"] == base.loc[other, "power_physical_w"]
    ).all()
    # the variants name no die: untouched
    assert (
        more.loc[variants.index, "power_physical_w"]
        == base.loc[variants.index, "power_physical_w"]
    ).all()
