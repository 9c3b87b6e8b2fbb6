"""Reference silicon: public specifications of shipping accelerators as model inputs.

``chips.csv`` (shipped in xlmodel/data) lists dense peaks, clocks, SM counts, HBM
and board power of H100, H200, B200, A100, MI300X and MI325X. ``to_variants`` turns
each row into the model's own parameters, so the engine can be checked against
published peaks and a variant can be judged as a multiple of a real chip.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import DEFAULTS
from .calibrate import REF_CLOCK_MHZ, fit_power

# Published columns (chips.csv) -> the precision whose tensor ops they give.
PEAK_COLUMNS = {
    "fp16_dense_tflops": "fp16",
    "bf16_dense_tflops": "bf16",
    "fp8_dense_tflops": "fp8",
    "int8_dense_tops": "int8",
    "tf32_dense_tflops": "fp32",  # the model's FP32 is the tensor-core rate (TF32)
    "fp4_dense_tflops": "fp4",
}
# Every column of the reference table: (name, kind, required, description); kind is
# "text", "count" (whole number > 0) or "number" (> 0). The template's References
# sheet and its reader follow this list.
REFERENCE_COLUMNS: tuple[tuple[str, str, bool, str], ...] = (
    ("chip", "text", True, "Chip name (unique)"),
    ("vendor", "text", False, "Vendor"),
    ("process_node", "text", True, "Process node label, e.g. TSMC 4N"),
    ("compute_dies", "count", True, "Compute dies (chiplets)"),
    (
        "die_area_mm2_each",
        "number",
        False,
        "Area of one compute die, mm² (blank: not published)",
    ),
    ("sms_or_cus", "count", True, "SMs or CUs in the package"),
    ("tensor_cores_per_sm", "count", True, "Tensor (matrix) cores per SM or CU"),
    ("clock_mhz", "number", True, "Clock at which the peaks are quoted, MHz"),
    ("fp16_dense_tflops", "number", True, "Dense FP16 peak, TFLOPS"),
    ("bf16_dense_tflops", "number", False, "Dense BF16 peak, TFLOPS"),
    ("fp8_dense_tflops", "number", False, "Dense FP8 peak, TFLOPS"),
    ("int8_dense_tops", "number", False, "Dense INT8 peak, TOPS"),
    ("tf32_dense_tflops", "number", False, "Dense TF32 tensor peak, TFLOPS"),
    ("fp32_vector_tflops", "number", False, "FP32 vector peak, TFLOPS"),
    ("fp4_dense_tflops", "number", False, "Dense FP4 peak, TFLOPS"),
    ("hbm_generation", "text", False, "HBM generation"),
    ("hbm_stacks", "count", True, "HBM stacks"),
    ("hbm_capacity_gb", "number", False, "HBM capacity, GB"),
    ("hbm_bw_tbps", "number", True, "Total HBM bandwidth, TB/s (1e12 bytes/s)"),
    ("tdp_w", "number", False, "Board power limit, W (blank: not used in the fit)"),
    ("l2_mb", "number", False, "L2 cache, MB"),
    ("confidence", "text", False, "How solid the row is"),
    ("notes", "text", False, "Derivation and caveats"),
)
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
        try:
            chips = pd.read_csv(Path(path))
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"not a readable CSV file ({first})") from None
    if "chip" not in chips.columns:
        raise ValueError("reference CSV lacks column(s): chip")
    chips["chip"] = chips["chip"].astype(str)
    if chips["chip"].duplicated().any():
        dup = chips["chip"][chips["chip"].duplicated()].iloc[0]
        raise ValueError(f"reference CSV names chip {dup!r} twice")
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
            out[name] = ops.round().fillna(DEFAULTS[name]).clip(lower=1).astype(int)
        else:
            out[name] = DEFAULTS[name]
    out["hbm_stacks"] = chips["hbm_stacks"].astype(int)
    out["hbm_bandwidth_gbps_per_stack"] = (
        chips["hbm_bw_tbps"] * 1000 / chips["hbm_stacks"]
    )
    area = chips["die_area_mm2_each"] if "die_area_mm2_each" in chips else np.nan
    out["chiplet_area_mm2"] = pd.to_numeric(area, errors="coerce")
    if "l2_mb" in chips.columns:  # unpublished: the default per chiplet
        l2 = pd.to_numeric(chips["l2_mb"], errors="coerce") / out["num_chiplets"]
        out["l2_cache_mb"] = l2.fillna(DEFAULTS["l2_cache_mb"])
    if "process_node" in chips.columns:
        out["process_node"] = chips["process_node"].astype(str)
    return out


# --- the physical power preset, fitted on reference chips ---------------------------

# N3-class energy per FLOP relative to N5-class: foundry figures quote 25-35 % lower
# power at the same speed; no reference chip is on N3, so this is not fitted.
N3_ENERGY_SCALE = 0.7
# Die-to-die energy of the physical preset: UCIe on standard packages, 0.5-0.6 pJ/bit
# (public figure; no reference publishes its die-to-die traffic, so not fitted).
PHYSICAL_D2D_PJ_PER_BIT = 0.5
# Reference point at which the preset states SM power (FP16 FLOP per clock per SM).
_REF_FLOP_PER_CYCLE = 1024


def node_class(label: str) -> str | None:
    """'n7', 'n5' or 'n3' from a process-node label ('TSMC 4N' -> 'n5'); None if
    the label names no number of nanometres."""
    m = re.search(r"(\d+(?:\.\d+)?)", str(label))
    if not m:
        return None
    nm = float(m.group(1))
    return "n7" if nm >= 6 else "n5" if nm >= 4 else "n3"


def power_features(chips: pd.DataFrame) -> pd.DataFrame:
    """The inputs of :func:`xlmodel.engine.calibrate.fit_power` for each chip.

    Rows without a TDP are dropped. ``fixed_w`` is the L2 power at the seed's
    0.05 W/MB (not fitted).
    """
    c = chips[pd.to_numeric(chips.get("tdp_w"), errors="coerce") > 0]
    l2 = pd.to_numeric(c["l2_mb"], errors="coerce").fillna(0) if "l2_mb" in c else 0
    return pd.DataFrame(
        {
            "flops": c["fp16_dense_tflops"] * 1e12,
            "hbm_bits_per_s": c["hbm_bw_tbps"] * 1e12 * 8,
            "sms": c["sms_or_cus"],
            "clock_mhz": c["clock_mhz"],
            "is_n7": [node_class(n) == "n7" for n in c.get("process_node", "")],
            "fixed_w": DEFAULTS["l2_power_w_per_mb"] * l2,
            "tdp_w": pd.to_numeric(c["tdp_w"]),
        },
        index=c.index,
    )


@functools.lru_cache(maxsize=1)
def physical_fit():
    """The physical preset fitted on the shipped chips.csv (cached)."""
    return fit_power(power_features(load_chips()))


def physical_coefficients(variants: pd.DataFrame, fit=None) -> pd.DataFrame:
    """Coefficient columns of the physical preset for each row of ``variants``.

    SM power becomes energy per FLOP x FP16 FLOP/s x (clock / 1800 MHz)^d, with the
    energy of the row's process-node class; HBM power is pJ/bit x bandwidth; leakage
    is W per SM; I/O is fitted; the fixed interconnect term is dropped (die-to-die
    traffic costs PHYSICAL_D2D_PJ_PER_BIT instead). Columns are schema names.
    """
    fit = fit or physical_fit()
    k = fit.coefficients

    def column(name):
        if name in variants:
            return variants[name].to_numpy()
        return np.full(len(variants), DEFAULTS[name], dtype=object)

    nodes = [node_class(n) or "n5" for n in column("process_node")]
    scale = {"n7": 1.0, "n5": 1.0, "n3": N3_ENERGY_SCALE}
    energy = np.array(
        [
            (k["e_flop_pj_n7"] if n == "n7" else k["e_flop_pj_n5"]) * scale[n]
            for n in nodes
        ]
    )
    bw = column("hbm_bandwidth_gbps_per_stack").astype(float)
    sms = column("sms_per_chiplet").astype(float)
    return pd.DataFrame(
        {
            "sm_power_w": energy * 1e-12 * _REF_FLOP_PER_CYCLE * REF_CLOCK_MHZ * 1e6,
            "sm_power_ref_clock_mhz": REF_CLOCK_MHZ,
            "sm_power_clock_exponent": 1.0 + k["dvfs_exponent"],
            "sm_power_ref_fp16_flop_per_cycle": float(_REF_FLOP_PER_CYCLE),
            "sm_power_throughput_exponent": 1.0,
            "hbm_power_w_per_stack": k["hbm_pj_per_bit"] * 1e-12 * bw * 1e9 * 8,
            "static_power_w_per_chiplet": k["leak_w_per_sm"] * sms,
            "interconnect_power_w": 0.0,
            "io_power_w": k["io_w"],
            "d2d_energy_pj_per_bit": PHYSICAL_D2D_PJ_PER_BIT,
        },
        index=variants.index,
    )


def with_physical_preset(variants: pd.DataFrame, fit=None) -> pd.DataFrame:
    """``variants`` with the physical preset's coefficients in place of its own."""
    out = variants.copy()
    for name, col in physical_coefficients(variants, fit).items():
        out[name] = col
    return out


def apply_power_preset(variants: pd.DataFrame, fit=None) -> pd.DataFrame:
    """Rows whose ``power_preset`` is "physical" take the physical preset's
    coefficients; other rows (the seed preset) are returned as given."""
    if "power_preset" not in variants:
        return variants
    physical = (variants["power_preset"] == "physical").to_numpy()
    if not physical.any():
        return variants
    out = variants.copy()
    coeffs = physical_coefficients(variants.loc[physical], fit)
    for name, col in coeffs.items():
        values = (
            np.array(out[name], dtype=float)
            if name in out
            else np.full(len(out), float(DEFAULTS[name]))
        )
        values[physical] = col.to_numpy(dtype=float)
        out[name] = values
    return out
