"""Reference silicon: public specifications of shipping accelerators as model inputs.

``chips.csv`` (shipped in xlmodel/data) lists dense peaks, clocks, SM counts, HBM
and board power of H100, H200, B200, A100, MI300X and MI325X. ``to_variants`` turns
each row into the model's own parameters, so the engine can be checked against
published peaks and a variant can be judged as a multiple of a real chip.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import DEFAULTS

# Published columns (chips.csv) -> the precision whose tensor ops they give.
PEAK_COLUMNS = {
    "fp16_dense_tflops": "fp16",
    "bf16_dense_tflops": "bf16",
    "fp8_dense_tflops": "fp8",
    "int8_dense_tops": "int8",
    "tf32_dense_tflops": "fp32",  # the model's FP32 is the tensor-core rate (TF32)
    "fp4_dense_tflops": "fp4",
}
REQUIRED = (
    "chip",
    "compute_dies",
    "sms_or_cus",
    "tensor_cores_per_sm",
    "clock_mhz",
    "fp16_dense_tflops",
    "hbm_stacks",
    "hbm_bw_tbps",
)


def load_chips(path=None) -> pd.DataFrame:
    """Read a reference CSV (default: the shipped chips.csv); index = chip name.

    Raises
    ------
    ValueError
        A required column is missing or a required value is not a positive number.
    """
    if path is None:
        with resources.files("xlmodel.data").joinpath("chips.csv").open("rb") as f:
            chips = pd.read_csv(f)
    else:
        chips = pd.read_csv(Path(path))
    missing = [c for c in REQUIRED if c not in chips.columns]
    if missing:
        raise ValueError(f"reference CSV lacks column(s): {', '.join(missing)}")
    for c in REQUIRED[1:]:
        v = pd.to_numeric(chips[c], errors="coerce")
        bad = ~(v > 0)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} {c}: "
                f"{chips[c].iloc[i]!r} is not a positive number"
            )
        chips[c] = v
    return chips.set_index("chip")


def to_variants(chips: pd.DataFrame) -> pd.DataFrame:
    """Each chip in the model's parameters (one row per chip, index = chip name).

    Tensor ops per clock per tensor core are the published dense peak over
    (SMs x tensor cores x clock), rounded to a whole number (they are powers of two
    on every shipping part); a precision without a published peak keeps the
    schema default. Chiplets = compute dies; SMs per chiplet = SMs / dies; HBM
    bandwidth per stack = published TB/s / stacks; chiplet area = published die
    area, or blank (NaN) where it is not published.
    """
    sms = chips["sms_or_cus"].astype(float)
    tc = chips["tensor_cores_per_sm"].astype(float)
    clock = chips["clock_mhz"].astype(float)
    out = pd.DataFrame(index=chips.index)
    out["num_chiplets"] = chips["compute_dies"].astype(int)
    out["sms_per_chiplet"] = (sms / out["num_chiplets"]).round().astype(int)
    out["tensor_cores_per_sm"] = tc.astype(int)
    out["clock_mhz"] = clock
    for col, prec in PEAK_COLUMNS.items():
        name = f"{prec}_ops_per_cycle"
        if col in chips.columns:
            ops = pd.to_numeric(chips[col], errors="coerce") * 1e6 / (sms * tc * clock)
            out[name] = ops.round().fillna(DEFAULTS[name]).astype(int)
        else:
            out[name] = DEFAULTS[name]
    out["hbm_stacks"] = chips["hbm_stacks"].astype(int)
    out["hbm_bandwidth_gbps_per_stack"] = (
        chips["hbm_bw_tbps"] * 1000 / chips["hbm_stacks"]
    )
    area = chips["die_area_mm2_each"] if "die_area_mm2_each" in chips else np.nan
    out["chiplet_area_mm2"] = pd.to_numeric(area, errors="coerce")
    if "l2_mb" in chips.columns:
        out["l2_cache_mb"] = (
            pd.to_numeric(chips["l2_mb"], errors="coerce") / out["num_chiplets"]
        )
    if "process_node" in chips.columns:
        out["process_node"] = chips["process_node"].astype(str)
    return out
