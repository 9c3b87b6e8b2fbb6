"""The one parameter table: name, section, unit, default, valid range and help text.

Everything that reads, checks, documents or lays out a model input uses this table:
the engine (defaults, range checks), the Excel template (rows, units, data
validation, input messages), the reader (which row is which parameter) and the docs.

Units follow one convention: a name ends with its unit (``clock_mhz``,
``chiplet_area_mm2``, ``hbm_bandwidth_gbps_per_stack``). Bandwidths are in
GB/s = 1e9 bytes/s everywhere; TB/s = 1e12 bytes/s; TFLOPS = 1e12 FLOP/s.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Precision(str, enum.Enum):
    """Numeric precision of a tensor-core operation (values are the seed's strings)."""

    FP4 = "FP4"
    FP8 = "FP8"
    INT8 = "INT8"
    FP16 = "FP16"
    BF16 = "BF16"
    FP32 = "FP32"

    @property
    def ops_param(self) -> str:
        """Name of the parameter holding this precision's ops per cycle per tensor core."""
        return f"{self.value.lower()}_ops_per_cycle"


PRECISIONS: tuple[Precision, ...] = tuple(Precision)

#: Figures of merit the recommendation may rank by (the target ``figure_of_merit``).
#: Each is computed in :mod:`xlmodel.studies.advice` (``FIGURES``): to add one (cost
#: per unit, tokens per second), add its name here and its entry there.
FIGURES_OF_MERIT: tuple[str, ...] = (
    "throughput_per_watt",
    "workload_throughput",
    "peak_density",
)

# Seed defaults of the tensor-core operations per cycle per tensor core (FLOP/cycle).
SEED_OPS_PER_CYCLE = {
    Precision.FP4: 512,
    Precision.FP8: 256,
    Precision.INT8: 256,
    Precision.FP16: 128,
    Precision.BF16: 128,
    Precision.FP32: 64,
}


@dataclass(frozen=True)
class Parameter:
    """One model input.

    Attributes
    ----------
    name : str
        Identifier, ending with its unit where it has one.
    section : str
        ``"variant"`` (one value per variant column), ``"coefficient"`` (model
        coefficient, one value for the workbook, overridable per variant) or
        ``"target"`` (design target).
    group : str
        Heading under which the template lists the parameter.
    unit : str
        Unit as shown to users ("" for a pure number, "text" for a label).
    default : float | int | str
        Value taken when the input is blank; the seed's value.
    minimum, maximum : float
        Valid range, inclusive; a value outside is an error.
    description : str
        One line of help.
    kind : str
        ``"int"``, ``"float"``, ``"text"`` or ``"choice"``.
    choices : tuple[str, ...]
        Allowed values of a ``"choice"`` parameter.
    used : bool
        False for parameters the seed carries but no metric uses.
    plausible : tuple[float, float] | None
        Range outside which a legal value draws a plausibility warning.
    plausible_note : str
        Why a value outside ``plausible`` is suspicious.
    """

    name: str
    section: str
    group: str
    unit: str
    default: float | int | str
    minimum: float
    maximum: float
    description: str
    kind: str = "float"
    choices: tuple[str, ...] = ()
    used: bool = True
    plausible: tuple[float, float] | None = None
    plausible_note: str = ""

    @property
    def numeric(self) -> bool:
        """True when the parameter holds a number."""
        return self.kind in ("int", "float")

    @property
    def expectation(self) -> str:
        """What a valid value looks like, for error messages, e.g. ``number (MHz, 100-6000)``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "text":
            return "text"
        what = "whole number" if self.kind == "int" else "number"
        unit = f"{self.unit}, " if self.unit else ""
        return f"{what} ({unit}{_fmt(self.minimum)}-{_fmt(self.maximum)})"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _ops(p: Precision) -> Parameter:
    return Parameter(
        p.ops_param,
        "variant",
        "Streaming multiprocessor",
        "FLOP/cycle/TC",
        SEED_OPS_PER_CYCLE[p],
        1,
        1_000_000,
        f"{p.value} tensor-core operations per clock per tensor core (1 op = 1 FLOP)",
        kind="int",
    )


PARAMETERS: tuple[Parameter, ...] = (
    # --- streaming multiprocessor -----------------------------------------------
    Parameter(
        "cuda_cores_per_sm",
        "variant",
        "Streaming multiprocessor",
        "cores",
        128,
        0,
        100_000,
        "CUDA (vector) cores per SM; no metric uses it",
        kind="int",
        used=False,
    ),
    Parameter(
        "tensor_cores_per_sm",
        "variant",
        "Streaming multiprocessor",
        "TC/SM",
        4,
        1,
        1024,
        "Tensor cores per SM",
        kind="int",
    ),
    Parameter(
        "clock_mhz",
        "variant",
        "Streaming multiprocessor",
        "MHz",
        2000,
        100,
        6000,
        "SM clock frequency",
        plausible=(800, 3500),
        plausible_note="shipping accelerators clock 1.0-2.6 GHz",
    ),
    *(_ops(p) for p in PRECISIONS),
    Parameter(
        "l1_cache_kb",
        "variant",
        "Streaming multiprocessor",
        "KB",
        128,
        0,
        1_000_000,
        "L1 cache per SM; no metric uses it",
        used=False,
    ),
    Parameter(
        "shared_memory_kb",
        "variant",
        "Streaming multiprocessor",
        "KB",
        128,
        0,
        1_000_000,
        "Shared memory per SM; no metric uses it",
        used=False,
    ),
    Parameter(
        "register_file_kb",
        "variant",
        "Streaming multiprocessor",
        "KB",
        256,
        0,
        1_000_000,
        "Register file per SM; no metric uses it",
        used=False,
    ),
    # --- chiplet -------------------------------------------------------------------
    Parameter(
        "sms_per_chiplet",
        "variant",
        "Chiplet",
        "SMs",
        16,
        1,
        4096,
        "Streaming multiprocessors per chiplet",
        kind="int",
    ),
    Parameter(
        "l2_cache_mb", "variant", "Chiplet", "MB", 6, 0, 100_000, "L2 cache per chiplet"
    ),
    Parameter(
        "ucie_bandwidth_gbps",
        "variant",
        "Chiplet",
        "GB/s",
        256,
        0.001,
        1_000_000,
        "UCIe die-to-die bandwidth per link, per direction (GB/s = 1e9 B/s)",
    ),
    Parameter(
        "chiplet_area_mm2",
        "variant",
        "Chiplet",
        "mm²",
        400,
        1,
        10_000,
        "Compute die area of one chiplet",
        plausible=(20, 858),
        plausible_note="a single die cannot exceed the 858 mm² reticle limit",
    ),
    Parameter(
        "process_node",
        "variant",
        "Chiplet",
        "text",
        "TSMC 3nm",
        0,
        0,
        "Process node (a label)",
        kind="text",
        used=False,
    ),
    # --- SoC -----------------------------------------------------------------------
    Parameter(
        "num_chiplets",
        "variant",
        "SoC",
        "chiplets",
        4,
        1,
        1024,
        "Compute chiplets in the package",
        kind="int",
    ),
    Parameter(
        "hbm_stacks", "variant", "SoC", "stacks", 8, 0, 1024, "HBM3E stacks", kind="int"
    ),
    Parameter(
        "hbm_bandwidth_gbps_per_stack",
        "variant",
        "SoC",
        "GB/s",
        128,
        1,
        100_000,
        "Bandwidth of one HBM stack (GB/s = 1e9 B/s)",
        plausible=(400, 4000),
        plausible_note=(
            "a real HBM3E stack gives about 1200 GB/s (1024 bits x 9.6 Gb/s); "
            "the seed's 128 looks like a unit slip (Gbit vs GByte, or per pin)"
        ),
    ),
    Parameter(
        "nvlink_lanes",
        "variant",
        "SoC",
        "lanes",
        6,
        0,
        1024,
        "NVLink lanes; no metric uses it",
        kind="int",
        used=False,
    ),
    Parameter(
        "nvlink_bandwidth_gbps_per_lane",
        "variant",
        "SoC",
        "GB/s",
        100,
        0,
        100_000,
        "NVLink bandwidth per lane; no metric uses it",
        used=False,
    ),
    Parameter(
        "pcie_gen",
        "variant",
        "SoC",
        "gen",
        6,
        1,
        10,
        "PCIe generation; no metric uses it",
        kind="int",
        used=False,
    ),
    Parameter(
        "pcie_lanes",
        "variant",
        "SoC",
        "lanes",
        16,
        0,
        128,
        "PCIe lanes; no metric uses it",
        kind="int",
        used=False,
    ),
    Parameter(
        "pcie_bandwidth_gbps",
        "variant",
        "SoC",
        "GB/s",
        128,
        0,
        100_000,
        "PCIe bandwidth; no metric uses it",
        used=False,
    ),
    # --- power coefficients ----------------------------------------------------------
    Parameter(
        "power_preset",
        "coefficient",
        "Power",
        "text",
        "seed",
        0,
        0,
        "seed: the power coefficients below as given (the seed's model); physical: "
        "SM, HBM, leakage, I/O and D2D power from the preset fitted on shipping "
        "chips (xlmodel calibrate), in place of those coefficients",
        kind="choice",
        choices=("seed", "physical"),
    ),
    Parameter(
        "sm_power_w",
        "coefficient",
        "Power",
        "W/SM",
        1.5,
        0,
        1000,
        "SM dynamic power at full utilisation, at the reference clock and throughput",
    ),
    Parameter(
        "sm_power_ref_clock_mhz",
        "coefficient",
        "Power",
        "MHz",
        2000,
        100,
        6000,
        "Clock at which sm_power_w applies",
    ),
    Parameter(
        "sm_power_clock_exponent",
        "coefficient",
        "Power",
        "",
        0,
        0,
        4,
        "DVFS: SM power scales as (clock/ref)^exponent; 0 = seed (no clock "
        "term), 1 = fixed voltage, ~3 = voltage follows frequency",
    ),
    Parameter(
        "sm_power_ref_fp16_flop_per_cycle",
        "coefficient",
        "Power",
        "FLOP/cycle/SM",
        512,
        1,
        1_000_000,
        "FP16 tensor FLOP per clock per SM at which sm_power_w applies",
    ),
    Parameter(
        "sm_power_throughput_exponent",
        "coefficient",
        "Power",
        "",
        0,
        0,
        2,
        "SM power scales as (FP16 FLOP per clock per SM / ref)^exponent; "
        "0 = seed, 1 = power proportional to tensor throughput",
    ),
    Parameter(
        "l2_power_w_per_mb",
        "coefficient",
        "Power",
        "W/MB",
        0.05,
        0,
        100,
        "L2 power per MB at full utilisation",
    ),
    Parameter(
        "l2_power_utilization_exponent",
        "coefficient",
        "Power",
        "",
        0.5,
        0,
        2,
        "L2 power scales as utilisation^exponent (seed: sqrt)",
    ),
    Parameter(
        "hbm_power_w_per_stack",
        "coefficient",
        "Power",
        "W/stack",
        15,
        0,
        100_000,
        "HBM power per stack at full utilisation",
    ),
    Parameter(
        "static_power_w_per_chiplet",
        "coefficient",
        "Power",
        "W/chiplet",
        5,
        0,
        10_000,
        "Leakage power per chiplet",
    ),
    Parameter(
        "interconnect_power_w",
        "coefficient",
        "Power",
        "W",
        20,
        0,
        10_000,
        "Fixed interconnect power (UCIe + NVLink PHYs)",
    ),
    Parameter(
        "io_power_w",
        "coefficient",
        "Power",
        "W",
        10,
        0,
        10_000,
        "Fixed I/O power (PCIe, misc)",
    ),
    Parameter(
        "d2d_energy_pj_per_bit",
        "coefficient",
        "Die-to-die",
        "pJ/bit",
        0,
        0,
        100,
        "Energy per bit per D2D hop; 0 = seed; UCIe 0.25-0.6 pJ/bit",
    ),
    Parameter(
        "d2d_remote_share",
        "coefficient",
        "Die-to-die",
        "",
        0,
        0,
        1,
        "Share of memory traffic that is not chiplet-local under full "
        "interleaving: remote fraction = share x (1 - 1/chiplets); 0 = seed",
    ),
    Parameter(
        "d2d_topology",
        "coefficient",
        "Die-to-die",
        "text",
        "all_to_all",
        0,
        0,
        "How chiplets are linked: all_to_all (1 hop), ring, or mesh (2-D)",
        kind="choice",
        choices=("all_to_all", "ring", "mesh"),
    ),
    Parameter(
        "d2d_links_per_chiplet",
        "coefficient",
        "Die-to-die",
        "links",
        4,
        1,
        64,
        "UCIe links per chiplet (each ucie_bandwidth_gbps per direction)",
        kind="int",
    ),
    # --- thermal -----------------------------------------------------------------------
    Parameter(
        "ambient_c", "coefficient", "Thermal", "°C", 25, -60, 150, "Ambient temperature"
    ),
    Parameter(
        "theta_ja_c_per_w",
        "coefficient",
        "Thermal",
        "°C/W",
        0.1,
        0.0001,
        100,
        "Junction-to-ambient thermal resistance",
    ),
    # --- targets ---------------------------------------------------------------------
    Parameter(
        "density_target_tflops_per_mm2",
        "target",
        "Targets",
        "TFLOPS/mm²",
        2.0,
        0,
        1000,
        "Compute density target at the target precision",
    ),
    Parameter(
        "power_budget_w",
        "target",
        "Targets",
        "W",
        500,
        1,
        1_000_000,
        "Package power budget at full utilisation",
    ),
    Parameter(
        "tj_max_c",
        "target",
        "Targets",
        "°C",
        105,
        0,
        300,
        "Maximum junction temperature",
    ),
    Parameter(
        "target_precision",
        "target",
        "Targets",
        "text",
        "FP16",
        0,
        0,
        "Precision at which density and TFLOPS/W are judged",
        kind="choice",
        choices=tuple(p.value for p in PRECISIONS),
    ),
    Parameter(
        "figure_of_merit",
        "target",
        "Targets",
        "text",
        "throughput_per_watt",
        0,
        0,
        "What picks the recommended variant among those meeting every target: "
        "throughput_per_watt (workload-mix throughput per watt at 100 % "
        "utilisation), workload_throughput (attainable TFLOPS on the Workloads "
        "mix) or peak_density (peak TFLOPS/mm²)",
        kind="choice",
        choices=FIGURES_OF_MERIT,
    ),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
VARIANT_PARAMETERS = tuple(p for p in PARAMETERS if p.section == "variant")
COEFFICIENTS = tuple(p for p in PARAMETERS if p.section == "coefficient")
TARGETS = tuple(p for p in PARAMETERS if p.section == "target")
DEFAULTS: dict[str, float | int | str] = {p.name: p.default for p in PARAMETERS}

# Numeric code of each D2D topology, as the vectorised engine carries it.
TOPOLOGY_CODES = {name: i for i, name in enumerate(BY_NAME["d2d_topology"].choices)}


# --- the seed's five variants (arch_exploration.py) -----------------------------------
SEED_VARIANTS: dict[str, dict[str, float]] = {
    "Baseline": dict(
        sms_per_chiplet=16,
        chiplet_area_mm2=400,
        clock_mhz=2000,
        tensor_cores_per_sm=4,
        fp16_ops_per_cycle=128,
        l2_cache_mb=6,
        fp32_ops_per_cycle=64,
    ),
    "Realistic Optimized": dict(
        sms_per_chiplet=32,
        chiplet_area_mm2=350,
        clock_mhz=2300,
        tensor_cores_per_sm=6,
        fp16_ops_per_cycle=192,
        l2_cache_mb=7,
        fp32_ops_per_cycle=96,
    ),
    "High SM Density": dict(
        sms_per_chiplet=40,
        chiplet_area_mm2=320,
        clock_mhz=2200,
        tensor_cores_per_sm=4,
        fp16_ops_per_cycle=160,
        l2_cache_mb=8,
        fp32_ops_per_cycle=80,
    ),
    "Aggressive Optimized": dict(
        sms_per_chiplet=48,
        chiplet_area_mm2=300,
        clock_mhz=2500,
        tensor_cores_per_sm=8,
        fp16_ops_per_cycle=256,
        l2_cache_mb=8,
        fp32_ops_per_cycle=128,
    ),
    "Power Optimized": dict(
        sms_per_chiplet=24,
        chiplet_area_mm2=380,
        clock_mhz=1800,
        tensor_cores_per_sm=4,
        fp16_ops_per_cycle=128,
        l2_cache_mb=6,
        fp32_ops_per_cycle=64,
    ),
}
for _v in SEED_VARIANTS.values():  # BF16 equals FP16 in every seed variant
    _v["bf16_ops_per_cycle"] = _v["fp16_ops_per_cycle"]

# --- the seed's roofline workloads (performance_model.py), FLOP/byte ----------------
SEED_WORKLOADS: dict[str, float] = {
    "GEMM (optimized)": 100.0,
    "GEMM (naive)": 10.0,
    "FlashAttention": 50.0,
    "Attention (naive)": 5.0,
    "Elementwise": 0.5,
    "Reduction": 1.0,
}

# --- the seed's studies -----------------------------------------------------------------
SEED_SCALING_COUNTS: tuple[int, ...] = (2, 4, 6, 8)
SEED_HBM_STACKS_PER_CHIPLET = 2
SEED_UTILIZATIONS: tuple[float, ...] = (1.0, 0.75, 0.5)

# One-at-a-time sweeps around Baseline: parameter -> (start, stop, step), inclusive.
SEED_SWEEPS: dict[str, tuple[float, float, float]] = {
    "sms_per_chiplet": (16, 64, 4),
    "chiplet_area_mm2": (250, 440, 10),
    "clock_mhz": (1500, 2900, 100),
    "tensor_cores_per_sm": (2, 10, 1),
    "fp16_ops_per_cycle": (64, 304, 16),
}
SEED_TORNADO_PERCENT = 20.0
