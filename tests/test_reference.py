"""Reference silicon through the model reproduces its published peaks within 1 %."""

import numpy as np
import pandas as pd
import pytest

from xlmodel import evaluate
from xlmodel.studies.reference import PEAK_COLUMNS, load_chips, to_variants

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
