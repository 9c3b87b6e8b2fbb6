"""The physical preset: fitted on reference TDPs, honest errors, consistent engine."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from xlmodel import evaluate
from xlmodel.cli import main
from xlmodel.studies.calibrate import PRIORS, TDP_COLUMNS, fit_power
from xlmodel.studies.reality import area_warnings, reality_table
from xlmodel.studies.reference import (
    load_chips,
    node_class,
    physical_fit,
    power_features,
    tdp_kinds,
    with_physical_preset,
)
from xlmodel.studies.run import run, seed_study


@pytest.fixture(scope="module")
def full_fit():
    return fit_power(power_features(load_chips()))


def test_fit_explains_references_and_reports_leave_one_out(full_fit):
    fit = full_fit
    chips = load_chips()
    assert set(fit.per_chip.index) == set(chips.index[chips["tdp_w"] > 0])
    assert len(fit.per_chip) >= 10
    # Regression bounds of this model on the shipped table (14.9 % and 16.3 % when
    # written), not the 10 % / 12 % target, which it does not reach
    # (docs/physical-preset.md: the measured dense-GEMM clocks of MI300X and MI325X
    # show the model optimistic for them by 32 % and 42 %).
    assert fit.median_abs_error_percent <= 15.5
    assert fit.loo_median_abs_error_percent <= 17.0
    # the medians are over what the table says: every chip, and the draws (at
    # the quoted clock or at a measured one)
    assert fit.median_abs_error_percent == pytest.approx(
        np.median(np.abs(fit.per_chip["error_percent"]))
    )
    assert fit.loo_median_abs_error_percent == pytest.approx(
        np.median(np.abs(fit.per_chip["loo_error_percent"]))
    )
    draws = fit.per_chip[fit.per_chip["rule"] != "limit"]
    assert len(draws) >= 10
    assert fit.draw_median_abs_error_percent <= 15.5
    assert fit.draw_loo_median_abs_error_percent <= 17.0
    assert fit.draw_median_abs_error_percent == pytest.approx(
        np.median(np.abs(draws["error_percent"]))
    )
    assert fit.draw_loo_median_abs_error_percent == pytest.approx(
        np.median(np.abs(draws["loo_error_percent"]))
    )
    # leave-one-out is never better than in-sample, as a median either
    assert fit.loo_median_abs_error_percent >= fit.median_abs_error_percent
    assert fit.draw_loo_median_abs_error_percent >= fit.draw_median_abs_error_percent
    # leave-one-out refits everything without the chip: never much better
    assert (
        fit.per_chip["loo_error_percent"].abs()
        >= fit.per_chip["error_percent"].abs() - 1.0
    ).all()
    # every fitted coefficient is physical and inside its plausible range
    assert fit.priors["in_range"].all()
    assert all(v > 0 for v in fit.coefficients.values())
    # no shipping chip runs away at its own TDP and cooling
    assert np.isfinite(fit.per_chip["predicted_w"]).all()
    assert (fit.per_chip["junction_temp_c"] < 110).all()
    # the cached preset is the same fit, without the leave-one-out refits
    cached = physical_fit()
    assert cached.coefficients == pytest.approx(fit.coefficients, rel=1e-9)
    assert cached.per_chip["loo_error_percent"].isna().all()


def test_fit_recovers_known_coefficients_from_synthetic_chips():
    # the shipped chips with board powers made by known coefficients: the fit
    # gets them back (the loop through the engine, V-f curve and Tj included)
    truth = {
        "e_flop_pj_n7": 0.7,
        "e_flop_pj_n5": 0.28,
        "e_flop_pj_n3": 0.2,
        "hbm_pj_per_bit": 3.1,
        "leak_w_per_mm2": 0.02,
        "io_w": 45.0,
        "vf_slope_v_per_ghz": 0.5,
        "throughput_exponent": 0.75,
    }
    assert set(truth) == set(PRIORS.index)
    feats = power_features(load_chips())
    # a chip with a measured dense-GEMM clock draws its TDP at that clock: the
    # fit gets the truth back only if it evaluates the chip there
    rows = feats.drop(columns=list(TDP_COLUMNS))
    rows["clock_mhz"] = feats["dense_clock_mhz"].fillna(feats["clock_mhz"])
    assert (rows["clock_mhz"] != feats["clock_mhz"]).sum() == 2
    # and on its die's curve, which tops out at the die's fastest quoted clock
    made = evaluate(with_physical_preset(rows, _fit(truth), feats["vf_top_clock_mhz"]))
    feats["tdp_w"] = made["power_total_w"].to_numpy()
    feats["tdp_kind"] = "draw"
    fit = fit_power(feats, prior_weight=1e-6, loo=False)
    for k, v in truth.items():
        assert fit.coefficients[k] == pytest.approx(v, rel=1e-6), k
    assert fit.median_abs_error_percent < 1e-6


def _top(feats, rows):
    """The top of each row's die curve (MHz), as the fit takes it."""
    return feats.loc[rows.index, "vf_top_clock_mhz"]


def _fit(coefficients):
    """A stand-in Fit holding only coefficients (what the preset reads)."""
    from xlmodel.studies.calibrate import Fit

    return Fit(dict(coefficients), pd.DataFrame(), np.nan, np.nan, PRIORS)


def test_engine_under_physical_preset_reproduces_fit_predictions(full_fit):
    feats = power_features(load_chips())
    per = full_fit.per_chip
    rows = feats.drop(columns=list(TDP_COLUMNS))
    rows["clock_mhz"] = per["fit_clock_mhz"]  # the measured clock where there is one
    r = evaluate(with_physical_preset(rows, full_fit, _top(feats, rows)))
    assert_allclose(r["power_total_w"], per["predicted_w"], rtol=1e-12)
    assert_allclose(r["junction_temp_c"], per["junction_temp_c"], rtol=1e-12)
    # and the Reality check, at the quoted clocks, shows each reference at exactly
    # that power, or more where the fit took a lower measured clock
    real = reality_table(seed_study().variants, load_chips())
    quoted = per["rule"] != "measured"
    assert_allclose(
        real.loc[per.index[quoted], "power_physical_w"],
        per.loc[quoted, "predicted_w"],
        rtol=1e-12,
    )
    assert (
        real.loc[per.index[~quoted], "power_physical_w"]
        > per.loc[~quoted, "predicted_w"]
    ).all()


def test_seed_preset_unchanged_and_physical_differs():
    res = run(seed_study())
    assert round(res.metrics.loc["Aggressive Optimized", "power_total_w"]) == 460
    assert round(res.metrics.loc["Baseline", "density_fp16_tflops_per_mm2"], 3) == 0.041
    real = res.reality
    assert real.loc["Baseline", "power_w"] == pytest.approx(267.2)
    # the physical preset is another model: near the seed's figure for the
    # Baseline (within 3 % after the refit on measured clocks), far from it for
    # the Aggressive design (460 W under the seed)
    assert real.loc["Baseline", "power_physical_w"] != pytest.approx(267.2, rel=1e-3)
    assert real.loc["Aggressive Optimized", "power_physical_w"] > 1.2 * 459.6
    # H100 is the yardstick
    assert real.loc["H100 SXM5", "density_x_h100"] == pytest.approx(1.0)
    assert real.loc["Aggressive Optimized", "peak_x_h100"] == pytest.approx(
        983.04 / 989.43, rel=1e-3
    )
    assert np.isnan(real.loc["B200 (HGX)", "density_fp16_tflops_per_mm2"])
    assert real.loc["H100 SXM5", "fp16_flop_per_cycle_per_sm"] == 4096
    assert any("physical preset" in w for w in res.study.warnings)


def test_node_classes():
    assert node_class("TSMC 4N") == "n5"
    assert node_class("TSMC N7") == "n7"
    assert node_class("TSMC 3nm") == "n3"
    assert node_class("TSMC N5 (XCD) + N6 (IOD)") == "n5"
    assert node_class("unknown") is None
    # nodes named in ångströms: 1.8, 2.0, 1.6 and 1.4 nm (they were read as 18,
    # 20, 16 and 14 nm, the N7 class); N5A is TSMC's automotive 5 nm
    for label in ("Intel 18A", "Intel 20A", "TSMC A16", "TSMC A14", "Intel 14A"):
        assert node_class(label) == "n3", label
    assert node_class("TSMC N5A") == "n5"
    assert node_class("TSMC 16nm") == "n7"


def test_area_plausibility_warns_with_numbers():
    v = seed_study().variants
    assert area_warnings(v) == []
    small = v.loc[["Aggressive Optimized"]].copy()
    small["fp16_ops_per_cycle"] = 2048  # 16k FLOP/clk per SM on 48 SMs
    small["chiplet_area_mm2"] = 100.0
    (w,) = area_warnings(small)
    assert "Aggressive Optimized" in w and "100 mm²" in w and "N3" in w


def test_calibrate_cli_prints_fit_and_refuses_bad_csv(runner, tmp_path):
    r = runner.invoke(main, ["calibrate"])
    assert r.exit_code == 0, r.output
    assert "median absolute error" in r.output and "leave-one-out" in r.output
    for name in PRIORS.index:
        assert name in r.output
    assert "plausible" in r.output and "MI355X" in r.output
    # each chip's die top; a measured board the model cannot bring to its TDP
    # even at its quoted clock says so
    lines = {ln.split("  ")[0]: ln for ln in r.output.splitlines()}
    assert "top MHz" in r.output
    assert lines["H100 PCIe"].split()[4] == "1830"  # GH100's top, not its 1620
    assert lines["MI350X"].split()[3] == "2400"
    assert lines["MI325X"].rstrip().endswith("> 2100 MHz")
    assert lines["MI300X"].rstrip().endswith("1917 MHz")
    bad = tmp_path / "chips.csv"
    bad.write_text("chip,clock_mhz\nX,fast\n")
    r = runner.invoke(main, ["calibrate", str(bad)])
    assert r.exit_code == 2 and "lacks column" in r.output
    assert "Traceback" not in r.output
    # refit on a subset: works and reports that many chips
    sub = tmp_path / "sub.csv"
    load_chips().iloc[:4].reset_index().to_csv(sub, index=False)
    r = runner.invoke(main, ["calibrate", str(sub)])
    assert r.exit_code == 0 and "fitted on 4 chips" in r.output


def test_a_tdp_the_fit_cannot_take_is_one_line_on_calibrate(runner, tmp_path):
    chips = load_chips().reset_index()
    cases = {
        "no column": (chips.drop(columns="tdp_w"), "lacks column(s): tdp_w"),
        "huge": (
            chips.assign(tdp_w=[1e308] + list(chips["tdp_w"].iloc[1:])),
            "row 'H100 SXM5' tdp_w: 1e+308 is not a TDP (W, above 0 and at most "
            "100,000) or blank",
        ),
        "text": (
            chips.astype({"tdp_w": object}).assign(
                tdp_w=["lots"] + list(chips["tdp_w"].iloc[1:])
            ),
            "row 'H100 SXM5' tdp_w: 'lots' is not a TDP",
        ),
        "infinite clock": (
            chips.astype({"clock_mhz": object}).assign(
                clock_mhz=["inf"] + list(chips["clock_mhz"].iloc[1:])
            ),
            "row 'H100 SXM5' clock_mhz: inf is not a positive number",
        ),
    }
    for name, (table, expected) in cases.items():
        p = tmp_path / f"{name}.csv"
        table.to_csv(p, index=False)
        before = p.read_bytes()
        r = runner.invoke(main, ["calibrate", str(p)])
        assert r.exit_code == 2, (name, r.output)
        assert expected in r.output, (name, r.output)
        lines = [ln for ln in r.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), r.output
        assert "Traceback" not in r.output and "Warning" not in r.output
        assert p.read_bytes() == before


def test_calibrate_on_a_workbook_fits_its_references_sheet(runner, tmp_path):
    # the template's References sheet lists the shipped chips: the same fit,
    # line for line, as the shipped table; a chip added there joins the fit
    import shutil
    from pathlib import Path

    import openpyxl

    template = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"
    r = runner.invoke(main, ["calibrate", str(template)])
    assert r.exit_code == 0, r.output
    shipped = runner.invoke(main, ["calibrate"])
    first, rest = r.output.split("\n", 1)
    assert first == (
        "physical power preset fitted on 16 chips (the References sheet of "
        "variants.xlsx)"
    )
    assert rest == shipped.output.split("\n", 1)[1]
    book = tmp_path / "mine.xlsx"
    shutil.copy(template, book)
    wb = openpyxl.load_workbook(book)
    ws = wb["References"]
    header = [c.value for c in ws[3]]
    row = ws.max_row + 1
    while ws.cell(row - 1, 1).value is None:
        row -= 1
    from make_input_corpus import rival_chip

    mine = rival_chip()
    for name, value in mine.items():
        ws.cell(row, header.index(name) + 1, value)
    wb.save(book)
    before = book.read_bytes()
    r = runner.invoke(main, ["calibrate", str(book)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("physical power preset fitted on 17 chips")
    assert any(ln.startswith("Rival X ") for ln in r.output.splitlines())
    assert book.read_bytes() == before
    # a problem on the sheet is one line at its cell, as compute says it
    ws.cell(row, header.index("tdp_w") + 1, "hot")
    wb.save(book)
    r = runner.invoke(main, ["calibrate", str(book)])
    assert r.exit_code == 2
    assert r.output.startswith("error: References!")
    assert "tdp_w: 'hot'" in r.output


def test_a_chip_csv_skips_rows_of_separators_only_and_names_a_blank_chip(
    tmp_path, runner
):
    head = (
        "chip,process_node,compute_dies,sms_or_cus,tensor_cores_per_sm,clock_mhz,"
        "fp16_dense_tflops,hbm_stacks,hbm_bw_tbps,tdp_w\r\n"
    )
    rows = (
        "A,TSMC N5,1,100,4,1800,737,6,4,700\r\nB,TSMC N5,1,120,4,1800,884,6,4,800\r\n"
    )
    plain = tmp_path / "plain.csv"
    plain.write_bytes((head + rows).encode())
    padded = tmp_path / "padded.csv"
    padded.write_bytes((head + rows + ",,,,,,,,,\r\n" * 2).encode())
    r0 = runner.invoke(main, ["calibrate", str(plain)])
    r1 = runner.invoke(main, ["calibrate", str(padded)])
    assert r0.exit_code == r1.exit_code == 0, r1.output
    assert r1.output.split("\n", 1)[1] == r0.output.split("\n", 1)[1]
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_bytes((head + rows.replace("B,", ",", 1)).encode())
    r = runner.invoke(main, ["calibrate", str(unnamed)])
    assert r.exit_code == 2
    assert r.output.strip() == (
        f"error: {unnamed}: reference CSV line 3: the chip name is blank: type its "
        "name, or clear the row"
    )


def test_power_features_skip_chips_without_tdp():
    chips = load_chips()
    chips.loc["H100 SXM5", "tdp_w"] = np.nan
    assert "H100 SXM5" not in power_features(chips).index


def test_reality_table_without_h100_has_no_multiples():
    chips = load_chips().drop(index="H100 SXM5")
    t = reality_table(seed_study().variants, chips)
    assert t["peak_x_h100"].isna().all()


def test_power_preset_physical_in_the_workbook(tmp_path, runner):
    import openpyxl

    from xlmodel.workbook.reader import read_study
    from xlmodel.workbook.template import BLOCKS, write_template

    path = tmp_path / "v.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    ws = wb[BLOCKS["coefficients"].sheet]
    (row,) = [
        r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "power_preset"
    ]
    assert ws.cell(row, 2).value == "seed"
    ws.cell(row, 2).value = "physical"
    wb.save(path)
    res = run(read_study(path))
    expected = evaluate(with_physical_preset(seed_study().variants))
    assert_allclose(res.metrics["power_total_w"], expected["power_total_w"].to_numpy())
    assert res.metrics.loc["Aggressive Optimized", "power_total_w"] != pytest.approx(
        459.6
    )
    # the seed figures stay the default
    assert run(seed_study()).metrics.loc[
        "Aggressive Optimized", "power_total_w"
    ] == pytest.approx(459.6)


def test_tdp_is_a_limit_where_the_same_compute_at_the_same_clock_has_more():
    chips = load_chips()
    kinds = tdp_kinds(chips)
    # the table's own evidence: A100 SXM4 at 400 W, H200 NVL at 600 W and MI325X
    # at 1000 W hold the same clocks on the same compute
    assert set(kinds[kinds == "limit"].index) == {
        "A100 PCIe 40GB",
        "A100 PCIe 80GB",
        "H100 NVL",
        "MI300X",
    }
    # a lower clock on the same compute explains a lower TDP: H200 NVL (1545 MHz)
    # beside H200 SXM (1830 MHz), MI350X (2.2 GHz) beside MI355X (2.4 GHz)
    assert kinds["H200 NVL"] == kinds["MI350X"] == "draw"
    # a clock 1 % apart is another clock; the row's own tdp_kind wins
    two = chips.loc[["A100 SXM4 40GB", "A100 PCIe 40GB"]].copy()
    two["clock_mhz"] = two["clock_mhz"].astype(float)
    two["tdp_kind"] = two["tdp_kind"].astype(object)
    two.loc["A100 SXM4 40GB", "clock_mhz"] = 1410 * 1.01
    assert list(tdp_kinds(two)) == ["draw", "draw"]
    two.loc["A100 PCIe 40GB", "tdp_kind"] = "limit"
    two.loc["A100 SXM4 40GB", "tdp_kind"] = " Limit "
    assert list(tdp_kinds(two)) == ["limit", "limit"]


def test_limit_board_counts_only_when_the_model_falls_short_of_its_tdp(full_fit):
    feats = power_features(load_chips())
    without = fit_power(feats.drop(index="A100 PCIe 40GB"), loo=False)
    # a cap far below the model's power: no information, the same fit
    low = fit_power(
        feats.assign(
            tdp_w=feats["tdp_w"].where(feats.index != "A100 PCIe 40GB", 100.0)
        ),
        loo=False,
    )
    for k, v in without.coefficients.items():
        assert low.coefficients[k] == pytest.approx(v, rel=1e-6), k
    # a cap above the model's power at the quoted clock is a shortfall: it pulls
    high = fit_power(
        feats.assign(
            tdp_w=feats["tdp_w"].where(feats.index != "A100 PCIe 40GB", 600.0)
        ),
        loo=False,
    )
    assert high.coefficients["e_flop_pj_n7"] > without.coefficients["e_flop_pj_n7"]
    # every limit board's model power at its quoted clock meets its cap, and the
    # engine at the clock the fit reports draws exactly the TDP
    lim = full_fit.per_chip[full_fit.per_chip["rule"] == "limit"]
    assert (lim["predicted_w"] >= lim["tdp_w"]).all()
    assert (
        full_fit.per_chip.loc[
            full_fit.per_chip["rule"] == "draw", "sustained_clock_mhz"
        ]
        .isna()
        .all()
    )
    rows = feats.loc[lim.index].drop(columns=list(TDP_COLUMNS))
    assert (lim["sustained_clock_mhz"] < rows["clock_mhz"]).all()
    rows["clock_mhz"] = lim["sustained_clock_mhz"]
    at = evaluate(with_physical_preset(rows, full_fit, _top(feats, rows)))
    assert_allclose(at["power_total_w"], lim["tdp_w"], rtol=1e-9)


def test_confidence_weights_only_when_asked_and_a_zero_weight_is_no_chip():
    chips = load_chips()
    assert (power_features(chips)["fit_weight"] == 1.0).all()
    w = power_features(chips, weigh_by_confidence=True)["fit_weight"]
    assert w["H100 SXM5"] == 1.0 and w["MI325X"] == 0.5  # high, medium
    feats = power_features(chips)
    zero = fit_power(
        feats.assign(fit_weight=np.where(feats.index == "MI350X", 0.0, 1.0)), loo=False
    )
    gone = fit_power(feats.drop(index="MI350X"), loo=False)
    for k, v in gone.coefficients.items():
        assert zero.coefficients[k] == pytest.approx(v, rel=1e-6), k


def test_bad_tdp_kind_is_one_line(tmp_path):
    p = tmp_path / "chips.csv"
    load_chips().reset_index().assign(
        tdp_kind=["cap"] + [""] * (len(load_chips()) - 1)
    ).to_csv(p, index=False)
    with pytest.raises(ValueError) as err:
        load_chips(p)
    assert str(err.value) == (
        "reference CSV row 'H100 SXM5' tdp_kind: 'cap' is not draw, limit or blank"
    )


# --- measured dense-GEMM clocks -----------------------------------------------------


def test_measured_dense_clock_is_read_and_checked(tmp_path):
    chips = load_chips()
    # AMD's max-achievable-FLOPs measurements (BF16, at the default power limit)
    assert chips.loc["MI300X", "dense_clock_mhz"] == 1207
    assert chips.loc["MI325X", "dense_clock_mhz"] == 1447
    assert (chips.loc[["MI300X", "MI325X"], "dense_clock_precision"] == "bf16").all()
    assert "Max-Achievable FLOPs" in chips.loc["MI300X", "notes"]
    assert chips["dense_clock_mhz"].notna().sum() == 2
    feats = power_features(chips)
    assert feats.loc["MI300X", "dense_clock_mhz"] == 1207.0
    assert np.isnan(feats.loc["H100 SXM5", "dense_clock_mhz"])
    # bad values: one line naming the row, the column, the value and what is wanted
    base = chips.reset_index()
    for column, value, expected in [
        ("dense_clock_mhz", "fast", "is not a clock of 100-6000 MHz or blank"),
        ("dense_clock_mhz", 50, "is not a clock of 100-6000 MHz or blank"),
        ("dense_clock_precision", "fp12", "is not bf16, fp16, fp8, int8, fp32, fp4"),
    ]:
        p = tmp_path / "chips.csv"
        bad = base.copy()
        bad[column] = bad[column].astype(object)
        bad.loc[bad["chip"] == "MI210", column] = value
        bad.to_csv(p, index=False)
        with pytest.raises(ValueError) as err:
            load_chips(p)
        line = str(err.value)
        assert "\n" not in line
        assert line.startswith(f"reference CSV row 'MI210' {column}: {value!r} ")
        assert expected in line
    # a table without the columns is read as before: no chip measured
    p = tmp_path / "old.csv"
    base.drop(columns=["dense_clock_mhz", "dense_clock_precision"]).to_csv(
        p, index=False
    )
    old = power_features(load_chips(p))
    assert old["dense_clock_mhz"].isna().all()
    assert set(fit_power(old, loo=False).per_chip["rule"]) == {"draw", "limit"}


def test_measured_chip_is_a_draw_at_its_measured_clock_by_hand(full_fit):
    per = full_fit.per_chip
    # the rule per chip reads the table only: measured overrides the kind
    assert per.loc["MI300X", "tdp_kind"] == "limit"  # MI325X: same compute, more W
    assert list(per.loc[["MI300X", "MI325X"], "rule"]) == ["measured", "measured"]
    assert set(per.loc[per["dense_clock_mhz"].isna(), "rule"]) == {"draw", "limit"}
    assert (per["rule"] == "limit").sum() == 3
    assert_allclose(per.loc[["MI300X", "MI325X"], "fit_clock_mhz"], [1207, 1447])
    other = per["rule"] != "measured"
    feats = power_features(load_chips())
    assert_allclose(per.loc[other, "fit_clock_mhz"], feats.loc[other, "clock_mhz"])

    # MI300X at 1207 MHz, by hand: N5-class node, 304 CUs of 2048 FP16 FLOP/clk
    k = full_fit.coefficients
    slope = k["vf_slope_v_per_ghz"]
    # V-f curve of the MI300 die: 0.80 V (N5 class) at its top, the 2100 MHz
    # MI300X and MI325X quote
    assert per.loc["MI300X", "top_clock_mhz"] == 2100
    v = max(0.65, 0.80 + slope * (1.207 - 2.1))
    # SM power is stated per SM of 4096 FP16 FLOP/clk at the top clock and scales
    # linearly with the clock, as (2048 / 4096)^b with the CU's FLOP per clock
    sm_w = (
        k["e_flop_pj_n5"]
        * 1e-12
        * (304 * 4096 * 1207e6)
        * 0.5 ** k["throughput_exponent"]
        * (v / 0.80) ** 2
    )
    hbm_w = k["hbm_pj_per_bit"] * 5300 * 8e-3  # 5.3 TB/s
    rows = feats.loc[["MI300X"]].drop(columns=list(TDP_COLUMNS))
    rows["clock_mhz"] = 1207.0
    r = evaluate(with_physical_preset(rows, full_fit, _top(feats, rows))).iloc[0]
    assert r["core_voltage_v"] == pytest.approx(v, rel=1e-12)
    assert r["power_sm_w"] == pytest.approx(sm_w, rel=1e-9)
    assert r["power_hbm_w"] == pytest.approx(hbm_w, rel=1e-9)
    assert r["power_io_w"] == pytest.approx(k["io_w"], rel=1e-12)
    leak_w = (
        k["leak_w_per_mm2"]  # per mm² of N5-class die: density 1
        * r["total_area_mm2"]
        * (v / 0.80)
        * np.exp(0.023 * (r["junction_temp_c"] - 25.0))
    )
    assert r["power_static_w"] == pytest.approx(leak_w, rel=1e-9)
    total = sm_w + hbm_w + k["io_w"] + leak_w + r["power_l2_w"] + r["power_d2d_w"]
    assert per.loc["MI300X", "predicted_w"] == pytest.approx(total, rel=1e-9)
    assert per.loc["MI300X", "error_percent"] == pytest.approx(
        100 * (total - 750) / 750, rel=1e-9
    )
    # at its quoted 2100 MHz the same chip draws far more: the rule changed the
    # point of comparison, not the chip
    rows["clock_mhz"] = 2100.0
    at_boost = evaluate(with_physical_preset(rows, full_fit, _top(feats, rows))).iloc[0]
    assert at_boost["power_total_w"] > 1.5 * total
    # 'clock at TDP' is where the fitted model draws the TDP (below the quoted
    # clock, and above the measured one: the model is optimistic for this chip)
    f = per.loc["MI300X", "sustained_clock_mhz"]
    assert 1207 < f < 2100
    rows["clock_mhz"] = f
    assert evaluate(with_physical_preset(rows, full_fit, _top(feats, rows))).iloc[0][
        "power_total_w"
    ] == pytest.approx(750, rel=1e-9)


def test_leave_one_out_of_a_measured_chip_is_its_power_at_its_measured_clock(
    full_fit,
):
    # honest: the held-out chip's measured clock is an input, its TDP is what
    # is predicted, by coefficients fitted without it
    feats = power_features(load_chips())
    without = fit_power(feats.drop(index="MI325X"), loo=False)
    rows = feats.loc[["MI325X"]].drop(columns=list(TDP_COLUMNS))
    rows["clock_mhz"] = 1447.0
    p = evaluate(with_physical_preset(rows, without, _top(feats, rows)))[
        "power_total_w"
    ].iloc[0]
    assert full_fit.per_chip.loc["MI325X", "loo_predicted_w"] == pytest.approx(
        p, rel=1e-6
    )
    # and its TDP moves neither that prediction nor the coefficients it is
    # predicted by (the TDP is not an input of its own leave-one-out)
    other = feats.assign(tdp_w=feats["tdp_w"].where(feats.index != "MI325X", 5000.0))
    again = fit_power(other.drop(index="MI325X"), loo=False)
    assert again.coefficients == pytest.approx(without.coefficients, rel=1e-12)


def test_calibrate_prints_the_measured_clock_and_the_fit_figures(runner, full_fit):
    r = runner.invoke(main, ["calibrate"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    head = next(line for line in lines if line.startswith("chip "))
    assert "rule" in head and "GEMM MHz" in head
    (mi300x,) = [line for line in lines if line.startswith("MI300X ")]
    assert " measured " in mi300x and " 1207 " in mi300x
    fit = full_fit
    assert (
        f"median absolute error {fit.median_abs_error_percent:.1f} %, "
        f"leave-one-out {fit.loo_median_abs_error_percent:.1f} % (16 chips)"
    ) in r.output
    assert (
        "over the 13 boards whose TDP is a draw (2 at a measured clock): "
        f"{fit.draw_median_abs_error_percent:.1f} %, leave-one-out "
        f"{fit.draw_loo_median_abs_error_percent:.1f} %"
    ) in r.output
    for chip, row in fit.per_chip.iterrows():
        (line,) = [x for x in lines if x.startswith(f"{chip[:18]:<18} ")]
        assert f"{row['error_percent']:+.1f}%" in line
        assert f"{row['loo_error_percent']:+.1f}%" in line


def test_calibrate_reads_a_csv_as_excel_saves_it_in_any_region(tmp_path, runner):
    # Excel's "CSV UTF-8" (a byte-order mark), and where the decimal separator
    # is a comma, "CSV" in code page 1252 with semicolons and decimal commas
    # (3,35), and numbers saved as a thousands format shows them ("1,978.9"):
    # the same table, the same fit, to the last digit printed
    import csv
    import re
    from importlib import resources

    shipped = resources.files("xlmodel.data").joinpath("chips.csv")
    rows = list(csv.reader(shipped.read_text(encoding="utf-8").splitlines()))
    notes = rows[0].index("notes")
    rows[1][notes] += " (814 mm², 35 °C inlet)"  # single bytes in code page 1252
    number = re.compile(r"^-?\d+\.\d+$")
    european = [
        [x.replace(".", ",") if number.match(x) else x for x in r] for r in rows
    ]
    plain = tmp_path / "plain.csv"
    with open(plain, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    bom = tmp_path / "bom.csv"
    with open(bom, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)
    semi = tmp_path / "semi.csv"
    with open(semi, "w", newline="", encoding="cp1252") as f:
        csv.writer(f, delimiter=";").writerows(european)
    assert semi.read_bytes().count(b";") > semi.read_bytes().count(b",")
    # numbers formatted with thousands separators, saved as shown: "1,978.9"
    whole = re.compile(r"^\d{4,}(\.\d+)?$")

    def grouped(x: str) -> str:
        head, dot, tail = x.partition(".")
        return f"{int(head):,}{dot}{tail}"

    shown = [[grouped(x) if whole.match(x) else x for x in r] for r in rows]
    assert sum(x.count(",") for r in shown for x in r) > 20
    thousands = tmp_path / "thousands.csv"
    with open(thousands, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(shown)
    outputs = {}
    for p in (plain, bom, semi, thousands):
        r = runner.invoke(main, ["calibrate", str(p)])
        assert r.exit_code == 0, r.output
        outputs[p.name] = r.output.split("\n", 1)[1]  # the first line names it
    assert outputs["bom.csv"] == outputs["plain.csv"]
    assert outputs["semi.csv"] == outputs["plain.csv"]
    assert outputs["thousands.csv"] == outputs["plain.csv"]
    pd.testing.assert_frame_equal(load_chips(semi), load_chips(plain))
    pd.testing.assert_frame_equal(load_chips(thousands), load_chips(plain))
    assert load_chips(semi)["notes"].iloc[0].endswith("(814 mm², 35 °C inlet)")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "is empty: a CSV table starts with its header line"),
        (
            "chip,tdp_w\nH100,700\nH200,700,air\n",
            "line 3 has 3 fields where the header has 2: a field holding the "
            "separator (a comma) needs double quotes",
        ),
        (
            'chip,tdp_w,notes\nH100,700,"fine"\nH200,700,"cut short\nH20,400,x\n',
            "line 3 opens a double-quoted field that never closes: close the "
            "quote (a double quote inside a field is written twice)",
        ),
    ],
    ids=["empty", "unquoted-separator", "unclosed-quote"],
)
def test_a_csv_calibrate_cannot_read_is_one_line_of_ours(
    tmp_path, runner, text, expected
):
    p = tmp_path / "chips.csv"
    p.write_text(text, encoding="utf-8")
    r = runner.invoke(main, ["calibrate", str(p)])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == f"error: {p}: {expected}"


def test_a_process_node_without_a_size_is_a_warning(tmp_path, runner):
    # a node of one's own on Cost setup, named without nm or Å: its cost comes
    # from its row, but the area check and the physical preset need a size and
    # took 5 nm silently
    from make_input_corpus import with_node, write

    node = ["Acme Next", "", 25000, 0.15, 30_000_000, "2026", "mine"]
    path = with_node(tmp_path / "acme.xlsx", node, 2, "Acme Next")
    probe = write(tmp_path / "plain.xlsx")
    r = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert r.exit_code == 0, r.output
    lines = [x for x in r.output.splitlines() if "Acme Next" in x]
    assert lines == [
        "warning: process_node 'Acme Next' (High SM Density) names no size in nm "
        "or Å: the area check and the physical power preset take it as a 5 "
        "nm-class node (voltage and transistor density); put the size in its "
        "label, e.g. 'Acme Next 3nm' (affects: the chiplet area check, and under "
        "the physical preset power, TFLOPS/W and Tj)"
    ]
    # the shipped nodes all name a size: the template has no such warning
    r = runner.invoke(main, ["compute", str(probe), "--no-export"])
    assert "names no size" not in r.output


def test_the_readme_calibration_table_is_the_fit(full_fit):
    # README's table of the physical preset's fit, and its medians, are what
    # the fit gives today (docs drifted from the model before; this keeps the
    # README's from doing so unseen)
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    per_chip = full_fit.per_chip
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 8 and cells[0] in per_chip.index:
            rows[cells[0]] = cells
    assert set(rows) == set(per_chip.index)
    for chip, cells in rows.items():
        r = per_chip.loc[chip]
        assert float(cells[1]) == r["tdp_w"], chip
        assert cells[2] == r["rule"], chip
        assert int(cells[5]) == round(r["predicted_w"]), chip
        assert cells[6] == f"{r['error_percent']:+.1f} %", chip
        assert cells[7] == f"{r['loo_error_percent']:+.1f} %", chip
    text = " ".join(readme.split())
    m = re.search(
        r"Median \|error\| ([\d.]+) %, leave-one-out ([\d.]+) % \((\d+) chips\); "
        r"([\d.]+) % and ([\d.]+) % over the (\d+) draws",
        text,
    )
    assert m
    assert float(m[1]) == round(full_fit.median_abs_error_percent, 1)
    assert float(m[2]) == round(full_fit.loo_median_abs_error_percent, 1)
    assert int(m[3]) == len(per_chip)
    assert float(m[4]) == round(full_fit.draw_median_abs_error_percent, 1)
    assert float(m[5]) == round(full_fit.draw_loo_median_abs_error_percent, 1)
    assert int(m[6]) == (per_chip["rule"] != "limit").sum()  # draws, measured ones too
