"""Reference silicon: public specifications of shipping accelerators as model inputs.

``chips.csv`` (shipped in xlmodel/data) lists dense peaks, clocks, SM counts, HBM,
board power and cooling of sixteen NVIDIA and AMD accelerators (A100, H100, H200
and B200 boards; MI210, MI250X, MI300X, MI325X, MI350X and MI355X), several of them
the same silicon at different power and clock points. ``to_variants`` turns each
row into the model's own parameters, so the engine can be checked against published
peaks and a variant can be judged as a multiple of a real chip.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from ..csvfile import lines, read_user_csv
from ..engine.area import NODE_AREA_SCALE, typical_chiplet_area_mm2
from ..lazy import pd
from ..schema import BY_NAME, DEFAULTS
from .calibrate import CONFIDENCE_WEIGHT, fit_power, node_class, preset_columns

__all__ = [
    "PEAK_COLUMNS",
    "REFERENCE_COLUMNS",
    "REFERENCE_MAXIMA",
    "beyond_maximum",
    "apply_power_preset",
    "load_chips",
    "node_class",
    "physical_coefficients",
    "physical_fit",
    "power_features",
    "tdp_kinds",
    "to_variants",
    "top_clocks",
    "with_physical_preset",
]

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
    (
        "silicon",
        "text",
        False,
        "The die the chip is built from, e.g. GH100 (blank: its own); chips of one "
        "die share one voltage-frequency curve, topping out at the highest clock "
        "any of them quotes",
    ),
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
    (
        "cooling",
        "text",
        False,
        "Cooling at that board power: air or liquid (blank: air)",
    ),
    (
        "tdp_kind",
        "text",
        False,
        "draw: the board's power at its quoted clock; limit: a cap it throttles "
        "under (blank: limit where the same compute at the same clock ships at a "
        "higher TDP)",
    ),
    (
        "dense_clock_mhz",
        "number",
        False,
        "Clock measured under dense tensor GEMM at the board's TDP, MHz (blank: "
        "not measured); where given, the fit takes the TDP as the draw at it",
    ),
    (
        "dense_clock_precision",
        "text",
        False,
        "Precision of that GEMM: fp16, bf16, fp8, int8, fp32 or fp4 (blank: not "
        "stated)",
    ),
    ("l2_mb", "number", False, "L2 cache, MB"),
    ("confidence", "text", False, "How solid the row is"),
    ("notes", "text", False, "Derivation and caveats"),
)
#: The largest value a reference row may state in each numeric column: beyond
#: any package built (a whole 300 mm wafer is 70,686 mm²; the largest
#: wafer-scale chip quotes about 125,000 dense FP16 TFLOPS, 900,000 cores,
#: 44 GB of on-chip memory and 23 kW, vendor data 2024), low enough that the
#: fits' sums and the per-clock rates derived from a row stay finite. A value
#: above is a slip of units or digits, refused at its cell.
REFERENCE_MAXIMA: dict[str, float] = {
    "compute_dies": 10_000,
    "die_area_mm2_each": 100_000,
    "sms_or_cus": 10_000_000,
    "tensor_cores_per_sm": 10_000,
    "clock_mhz": 100_000,
    **dict.fromkeys(
        (
            "fp16_dense_tflops",
            "bf16_dense_tflops",
            "fp8_dense_tflops",
            "int8_dense_tops",
            "tf32_dense_tflops",
            "fp32_vector_tflops",
            "fp4_dense_tflops",
        ),
        10_000_000,
    ),
    "hbm_stacks": 1_000,
    "hbm_capacity_gb": 1_000_000,
    "hbm_bw_tbps": 1_000_000,
    "tdp_w": 100_000,
    "dense_clock_mhz": 100_000,
    "l2_mb": 1_000_000,
}


def beyond_maximum(column: str) -> str:
    """What a value of ``column`` above its :data:`REFERENCE_MAXIMA` is told."""
    return (
        f"is above {REFERENCE_MAXIMA[column]:,.0f}, beyond any package built (the "
        "largest wafer-scale chip stays below it): a slip of units or digits?"
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


def _text(column: pd.Series) -> pd.Series:
    """A text column stripped and lower-cased, blank (NaN, None) as ""."""
    return (
        column.astype(object)
        .where(column.notna(), "")
        .astype(str)
        .str.strip()
        .str.lower()
    )


def _shown(cell) -> str:
    """A CSV cell as the user wrote it: a number plainly, text quoted."""
    if isinstance(cell, int | float | np.number) and not isinstance(cell, bool):
        return f"{float(cell):g}"
    return repr(str(cell))


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
        chips = read_user_csv(path, "the reference table", "chips.csv")
    if "chip" not in chips.columns:
        raise ValueError("reference CSV lacks column(s): chip")
    blank = chips["chip"].isna() | (chips["chip"].astype(str).str.strip() == "")
    if blank.any():
        line = lines(chips)[int(np.argmax(blank.to_numpy()))]
        raise ValueError(
            f"reference CSV line {line}: the chip name is blank: type its name, or "
            "clear the row"
        )
    chips["chip"] = chips["chip"].astype(str)
    if chips["chip"].duplicated().any():
        dup = chips["chip"][chips["chip"].duplicated()].iloc[0]
        raise ValueError(f"reference CSV names chip {dup!r} twice")
    missing = [c for c in REQUIRED if c not in chips.columns]
    if missing:
        raise ValueError(f"reference CSV lacks column(s): {', '.join(missing)}")
    for c in REQUIRED[1:]:
        v = pd.to_numeric(chips[c], errors="coerce")
        bad = ~((v > 0) & np.isfinite(v))
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} {c}: "
                f"{_shown(chips[c].iloc[i])} is not a positive number"
            )
        chips[c] = v
    for c, top in REFERENCE_MAXIMA.items():
        if c not in chips.columns or c == "tdp_w":  # the power fit checks its TDPs
            continue
        v = pd.to_numeric(chips[c], errors="coerce")
        bad = v > top
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} {c}: "
                f"{_shown(chips[c].iloc[i])} {beyond_maximum(c)}"
            )
    if "tdp_kind" in chips.columns:
        kind = _text(chips["tdp_kind"])
        bad = ~kind.isin(["", "draw", "limit"])
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} tdp_kind: "
                f"{_shown(chips['tdp_kind'].iloc[i])} is not draw, limit or blank"
            )
    _check_dense_clock(chips)
    return chips.set_index("chip")


# Precisions a measured dense-GEMM clock may be stated in (chips.csv words).
DENSE_CLOCK_PRECISIONS = tuple(dict.fromkeys(["bf16", *PEAK_COLUMNS.values()]))


def _check_dense_clock(chips: pd.DataFrame) -> None:
    """The measured dense-GEMM clock: blank or a clock the model takes (MHz, within
    the schema's clock range); its precision blank or one of
    ``DENSE_CLOCK_PRECISIONS``. Converts the clock column to numbers in place."""
    if "dense_clock_mhz" in chips.columns:
        raw = chips["dense_clock_mhz"]
        v = pd.to_numeric(raw, errors="coerce")
        p = BY_NAME["clock_mhz"]
        given = raw.notna() & (raw.astype(str).str.strip() != "")
        bad = given & ~((v >= p.minimum) & (v <= p.maximum))
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            cell = raw.iloc[i]
            shown = _shown(cell)
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} dense_clock_mhz: "
                f"{shown} is not a clock of {p.minimum:g}-{p.maximum:g} MHz or blank"
            )
        chips["dense_clock_mhz"] = v
    if "dense_clock_precision" in chips.columns:
        words = _text(chips["dense_clock_precision"])
        bad = ~words.isin(["", *DENSE_CLOCK_PRECISIONS])
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"reference CSV row {chips['chip'].iloc[i]!r} dense_clock_precision: "
                f"{_shown(chips['dense_clock_precision'].iloc[i])} is not "
                f"{', '.join(DENSE_CLOCK_PRECISIONS)} or blank"
            )


def _whole(values: pd.Series) -> pd.Series:
    """Whole numbers as integers; left as floats when any is not finite or
    beyond what an integer holds (a published peak of 1e308 TFLOPS, say), so
    the parameters' check names the chip instead of a cast failing."""
    v = values.to_numpy(float)
    if np.isfinite(v).all() and (np.abs(v) < 2.0**53).all():
        return values.astype(int)
    return values.astype(float)


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
    out["num_chiplets"] = _whole(chips["compute_dies"].astype(float))
    out["sms_per_chiplet"] = _whole((sms / out["num_chiplets"]).round())
    out["tensor_cores_per_sm"] = _whole(tc)
    out["clock_mhz"] = clock
    for col, prec in PEAK_COLUMNS.items():
        name = f"{prec}_ops_per_cycle"
        if col in chips.columns:
            ops = pd.to_numeric(chips[col], errors="coerce") * 1e6 / (sms * tc * clock)
            out[name] = _whole(ops.round().fillna(DEFAULTS[name]).clip(lower=1))
        else:
            out[name] = DEFAULTS[name]
    out["hbm_stacks"] = _whole(chips["hbm_stacks"].astype(float))
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
    choices = BY_NAME["cooling"].choices
    if "cooling" in chips.columns:  # blank or unknown: the seed's (air, physically)
        cooling = chips["cooling"].fillna("").astype(str).str.strip().str.lower()
        out["cooling"] = [c if c in choices else "seed" for c in cooling]
    return out


def fill_unknown_areas(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (model parameters) with an unpublished chiplet area (NaN) replaced
    by the area a shipping-class die of that content needs (xlmodel.engine.area):
    the physical preset's die power density and Tj need an area."""
    missing = rows["chiplet_area_mm2"].isna()
    if not missing.any():
        return rows
    out = rows.copy()
    m = out.loc[missing]

    def col(name):
        return m[name] if name in m else pd.Series(DEFAULTS[name], index=m.index)

    nodes = [node_class(n) or "n5" for n in col("process_node")]
    typical = typical_chiplet_area_mm2(
        col("sms_per_chiplet").to_numpy(float),
        (col("tensor_cores_per_sm") * col("fp16_ops_per_cycle")).to_numpy(float),
        col("l2_cache_mb").to_numpy(float),
        (col("hbm_stacks") / col("num_chiplets")).to_numpy(float),
        np.array([NODE_AREA_SCALE[n] for n in nodes]),
    )
    out.loc[missing, "chiplet_area_mm2"] = np.round(typical)
    return out


# --- the physical power preset, fitted on reference chips ---------------------------


# Columns that identify a chip's compute: rows equal in all of them are the same
# silicon configured alike (the clock is compared separately).
SAME_COMPUTE = (
    "process_node",
    "compute_dies",
    "sms_or_cus",
    "tensor_cores_per_sm",
)
# Quoted clocks this close (relative) are the same clock.
SAME_CLOCK = 0.005


def tdp_kinds(chips: pd.DataFrame) -> pd.Series:
    """ "draw" or "limit" per chip: the row's ``tdp_kind`` where it says one, else
    "limit" where another row has the same compute (``SAME_COMPUTE``), quotes its
    peaks at the same clock and has a higher TDP (the same silicon at the same
    clock draws the same power, bar memory, so this board's TDP caps it below its
    quoted clock), else "draw".

    The rule reads only published specifications, never the model's errors.
    """
    tdp = pd.to_numeric(chips.get("tdp_w"), errors="coerce")
    given = (
        _text(chips["tdp_kind"])
        if "tdp_kind" in chips
        else pd.Series("", index=chips.index)
    )
    out = {}
    for chip in chips.index:
        if given[chip] in ("draw", "limit"):
            out[chip] = given[chip]
            continue
        row = chips.loc[chip]
        same = np.ones(len(chips), dtype=bool)
        for col in SAME_COMPUTE:
            if col in chips:
                same &= (chips[col].astype(str) == str(row[col])).to_numpy()
        clock = chips["clock_mhz"].to_numpy(float)
        higher = (
            same
            & (np.abs(clock / float(row["clock_mhz"]) - 1.0) <= SAME_CLOCK)
            & (tdp.to_numpy(float) > float(tdp[chip]))
        )
        out[chip] = "limit" if higher.any() else "draw"
    return pd.Series(out, name="tdp_kind")


def top_clocks(chips: pd.DataFrame) -> pd.Series:
    """Per chip, the top of its die's voltage-frequency curve, MHz: the highest
    quoted clock among the rows naming the same ``silicon`` (case and spaces
    ignored), or the row's own clock where it names none.

    A die is one design: every product made from it (an SXM and a PCIe board, a
    bin at a lower clock and power) is a point on one curve, which reaches the
    node's voltage at the fastest clock the die ships at. Like :func:`tdp_kinds`
    it reads only published specifications.
    """
    clock = chips["clock_mhz"].astype(float)
    if "silicon" not in chips:
        return clock.rename("vf_top_clock_mhz")
    die = _text(chips["silicon"]).str.replace(r"\s+", " ", regex=True)
    top = clock.groupby(die).transform("max")
    return clock.where(die == "", top).rename("vf_top_clock_mhz")


#: The largest board power a reference row may state (W): well above any
#: accelerator package's (about 1-2 kW in 2025), low enough that the power fit's
#: sums stay finite.
MAX_TDP_W = float(REFERENCE_MAXIMA["tdp_w"])


def power_features(
    chips: pd.DataFrame, weigh_by_confidence: bool = False
) -> pd.DataFrame:
    """The chips with a TDP as full model rows (every schema parameter at its
    default but the chip's own, unpublished die areas from the area model), a
    ``tdp_w`` column, ``tdp_kind`` (:func:`tdp_kinds`), ``vf_top_clock_mhz``
    (:func:`top_clocks`), ``dense_clock_mhz`` (the
    clock measured under dense tensor GEMM at the TDP, MHz; NaN when not measured)
    and ``fit_weight``: 1, or with ``weigh_by_confidence`` the row's confidence
    (``CONFIDENCE_WEIGHT``; blank: medium). The input of
    :func:`xlmodel.studies.calibrate.fit_power`."""
    if "tdp_w" not in chips.columns:
        raise ValueError(
            "reference CSV lacks column(s): tdp_w (the power fit's target)"
        )
    raw = chips["tdp_w"]
    tdp = pd.to_numeric(raw, errors="coerce")
    given = raw.notna() & (raw.astype(str).str.strip() != "")
    bad = given & ~((tdp > 0) & (tdp <= MAX_TDP_W))
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise ValueError(
            f"reference CSV row {chips.index[i]!r} tdp_w: {_shown(raw.iloc[i])} is not "
            f"a TDP (W, above 0 and at most {MAX_TDP_W:,.0f}) or blank"
        )
    c = chips[tdp > 0]
    params = fill_unknown_areas(to_variants(c))
    rows = pd.DataFrame({k: [v] * len(c) for k, v in DEFAULTS.items()}, index=c.index)
    for name in params.columns:
        rows[name] = params[name]
    rows["tdp_w"] = pd.to_numeric(c["tdp_w"]).astype(float)
    rows["tdp_kind"] = tdp_kinds(c)
    # every row names its die's clocks, with a TDP or not
    rows["vf_top_clock_mhz"] = top_clocks(chips).loc[c.index]
    rows["dense_clock_mhz"] = (
        pd.to_numeric(c["dense_clock_mhz"], errors="coerce").astype(float)
        if "dense_clock_mhz" in c
        else np.nan
    )
    conf = _text(c["confidence"]) if "confidence" in c else pd.Series("", index=c.index)
    rows["fit_weight"] = [
        CONFIDENCE_WEIGHT.get(v, CONFIDENCE_WEIGHT["medium"])
        if weigh_by_confidence
        else 1.0
        for v in conf
    ]
    return rows


@functools.lru_cache(maxsize=1)
def physical_fit():
    """The physical preset fitted on the shipped chips.csv (cached; without the
    leave-one-out refits, which ``xlmodel calibrate`` reports)."""
    return fit_power(power_features(load_chips()), loo=False)


def physical_coefficients(
    variants: pd.DataFrame, fit=None, top_clock_mhz=None
) -> pd.DataFrame:
    """Coefficient columns of the physical preset for each row of ``variants``.

    SM power becomes energy per FLOP x FP16 FLOP/s x (V / V_ref)^2 on the row's
    process-node voltage-frequency curve; HBM power pJ/bit x bandwidth; leakage W
    per SM x V / V_ref, growing with junction temperature; I/O fitted; the fixed
    interconnect term is dropped (die-to-die traffic costs pJ/bit instead); Tj
    from the cooling (seed read as air) and the die's power density. Each row's
    voltage-frequency curve tops out at ``top_clock_mhz`` (one per row, MHz: a
    reference chip's :func:`top_clocks`), at 1.8 GHz where None or NaN (a
    variant). Columns are schema names (see
    xlmodel.studies.calibrate.preset_columns).
    """
    fit = fit or physical_fit()
    return preset_columns(variants, fit.coefficients, top_clock_mhz)


def with_physical_preset(
    variants: pd.DataFrame, fit=None, top_clock_mhz=None
) -> pd.DataFrame:
    """``variants`` with the physical preset's coefficients in place of its own
    (``top_clock_mhz``: see :func:`physical_coefficients`)."""
    out = variants.copy()
    for name, col in physical_coefficients(variants, fit, top_clock_mhz).items():
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
        if BY_NAME[name].numeric:
            values = (
                np.array(out[name], dtype=float)
                if name in out
                else np.full(len(out), float(DEFAULTS[name]))
            )
            values[physical] = col.to_numpy(dtype=float)
        else:
            values = (
                np.array(out[name], dtype=object)
                if name in out
                else np.full(len(out), DEFAULTS[name], dtype=object)
            )
            values[physical] = col.to_numpy(dtype=object)
        out[name] = values
    return out
