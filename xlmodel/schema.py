"""The one parameter table: name, section, unit, default, valid range and help text.

Everything that reads, checks, documents or lays out a model input uses this table:
the engine (defaults, range checks), the Excel template (rows, units, data
validation, input messages), the reader (which row is which parameter) and the docs.

Units follow one convention: a name ends with its unit (``clock_mhz``,
``chiplet_area_mm2``, ``hbm_bandwidth_gbps_per_stack``). Bandwidths are in
GB/s = 1e9 bytes/s everywhere; TB/s = 1e12 bytes/s; TFLOPS = 1e12 FLOP/s.

Longer than the ~600-line guide on purpose: it is one table, a record per input,
and splitting it would scatter what must be read together.
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


def ops_unit(precision) -> str:
    """``TOPS`` for an integer precision (INT8), ``TFLOPS`` for a floating-point
    one: 1e12 operations per second, as every sheet and line names them."""
    return "TOPS" if str(precision).upper().startswith("INT") else "TFLOPS"


def ops_param_of(precision) -> str | None:
    """The ops-per-cycle parameter of ``precision`` (``int8_ops_per_cycle``);
    None for text that names no precision."""
    try:
        return Precision(str(precision).upper()).ops_param
    except ValueError:
        return None


#: Figures of merit the recommendation may rank by (the target ``figure_of_merit``).
#: Each is defined in :mod:`xlmodel.studies.scores` (``FIGURES``): to add one, add
#: its name here and its entry there.
FIGURES_OF_MERIT: tuple[str, ...] = (
    "throughput_per_watt",
    "workload_throughput",
    "peak_density",
    "unit_cost",
    "tflops_per_usd",
    "tokens_per_s",
    "tokens_per_s_per_usd",
)
#: Figures of merit read from the LLM serving study (Models and Serving setup).
SERVING_FIGURES: tuple[str, ...] = ("tokens_per_s", "tokens_per_s_per_usd")

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
        "Process node; picks wafer price, defect density and mask set cost from "
        "the process node table where those are blank",
        kind="text",
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
        "hbm_capacity_gb_per_stack",
        "variant",
        "SoC",
        "GB",
        24,
        1,
        512,
        "Capacity of one HBM stack (GB = 1e9 bytes); HBM3E 8-high 24 GB, 12-high 36 GB",
        plausible=(8, 64),
        plausible_note="HBM3/3E stacks hold 16-36 GB",
    ),
    Parameter(
        "nvlink_lanes",
        "variant",
        "SoC",
        "lanes",
        6,
        0,
        1024,
        "Package-to-package links (NVLink, Infinity Fabric); inference uses them "
        "for tensor-parallel all-reduce across packages",
        kind="int",
    ),
    Parameter(
        "nvlink_bandwidth_gbps_per_lane",
        "variant",
        "SoC",
        "GB/s",
        100,
        0,
        100_000,
        "Bandwidth of one package-to-package link, per direction (GB/s = 1e9 "
        "B/s); H100 NVLink4 25, B200 NVLink5 50",
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
        "SM, HBM, leakage, I/O and D2D power, the voltage-frequency curve and the "
        "die's heat from the preset fitted on shipping chips (xlmodel calibrate), "
        "in place of those coefficients",
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
    # --- LLM inference (issue 13): serving coefficients ------------------------------
    # Efficiencies are the least-squares fit on H100 SXM5 measurements only
    # (TensorRT-LLM v0.17 perf-overview, xlmodel/data/inference_measurements.csv);
    # xlmodel/studies/inference_calibration.py refits them and reports the error on
    # the other chips.
    Parameter(
        "inference_compute_efficiency",
        "coefficient",
        "Inference",
        "0-1",
        0.581,
        0.01,
        1,
        "Share of the dense tensor peak that transformer GEMMs and attention reach "
        "(fitted on H100 SXM5, TensorRT-LLM v0.17)",
    ),
    Parameter(
        "inference_memory_efficiency",
        "coefficient",
        "Inference",
        "0-1",
        0.789,
        0.01,
        1,
        "Share of the HBM bandwidth that weight and KV-cache reads reach "
        "(fitted on H100 SXM5, TensorRT-LLM v0.17)",
    ),
    Parameter(
        "inference_link_efficiency",
        "coefficient",
        "Inference",
        "0-1",
        0.643,
        0.01,
        1,
        "Share of the die-to-die and package-link bandwidth that tensor-parallel "
        "all-reduce reaches (fitted on H100 SXM5 at TP 2-8, TensorRT-LLM v0.17)",
    ),
    Parameter(
        "inference_step_overhead_us",
        "coefficient",
        "Inference",
        "us",
        0.0,
        0,
        1_000_000,
        "Fixed time of one forward pass (launch, synchronisation), microseconds; "
        "not fitted: the H100 data cannot tell it from memory efficiency",
    ),
    Parameter(
        "inference_sequence_overhead_us",
        "coefficient",
        "Inference",
        "us",
        6.28,
        0,
        100_000,
        "Fixed time per sequence in one forward pass (host scheduling, sampling, "
        "per-request kernel work), microseconds (fitted on H100 SXM5, "
        "TensorRT-LLM v0.17)",
    ),
    Parameter(
        "inference_allreduce_latency_us",
        "coefficient",
        "Inference",
        "us",
        74.7,
        0,
        100_000,
        "Fixed time of one all-reduce across packages (tp > 1), microseconds "
        "(fitted on H100 SXM5 at TP 2-8, TensorRT-LLM v0.17)",
    ),
    Parameter(
        "inference_hbm_usable_fraction",
        "coefficient",
        "Inference",
        "0-1",
        1.02,
        0.05,
        1.2,
        "Weights + KV cache may fill this share of the stated HBM capacity: HBM 'GB' "
        "are binary (an H100 '80 GB' holds 85.5e9 B, nvidia-smi), less ~3 GB of "
        "runtime and activations, the KV cache 0.95 of what is free (TensorRT-LLM)",
    ),
    Parameter(
        "inference_prefill_chunk_tokens",
        "coefficient",
        "Inference",
        "tokens",
        8192,
        1,
        10_000_000,
        "Tokens one prefill forward pass holds (weights are read once per pass); "
        "TensorRT-LLM max_num_tokens default 8192",
        kind="int",
    ),
    Parameter(
        "inference_max_batch",
        "coefficient",
        "Inference",
        "sequences",
        4096,
        1,
        10_000_000,
        "Most sequences decoded at once when the batch is left blank (the engine's "
        "limit; trtllm-bench runtime max batch 4096)",
        kind="int",
    ),
    Parameter(
        "inference_chiplet_mode",
        "coefficient",
        "Inference",
        "text",
        "tensor_parallel",
        0,
        0,
        "tensor_parallel: every chiplet holds 1/chiplets of each layer in its own "
        "HBM and the chiplets all-reduce over UCIe; unified: the package is one "
        "device (memory interleaved, as H100, B200 and MI300X present themselves), "
        "no all-reduce between chiplets, D2D cost through d2d_remote_share",
        kind="choice",
        choices=("tensor_parallel", "unified"),
    ),
    # --- cost and yield (issue 12: cost per good package, and why chiplets) ---------
    # Sources and dates of every default are in the help text; the per-node values
    # (wafer price, defect density, mask set) are in xlmodel/data/process_nodes.csv,
    # each row with its source. The schema default of those three is the default
    # node's row (TSMC 3nm); a blank (NaN) cell takes the variant's node's row.
    Parameter(
        "package_type",
        "variant",
        "Cost",
        "text",
        "silicon_interposer",
        0,
        0,
        "organic_substrate (dies side by side on the substrate), silicon_interposer "
        "(2.5D, CoWoS-S class: H100, MI300X) or bridge (silicon bridges in the "
        "substrate, EMIB / CoWoS-L class)",
        kind="choice",
        choices=("organic_substrate", "silicon_interposer", "bridge"),
    ),
    Parameter(
        "d2d_phy_area_mm2",
        "variant",
        "Cost",
        "mm²",
        0,
        0,
        1000,
        "Die-to-die PHY area added to each chiplet die for cost (not for density); "
        "AMD's 213 mm² Zeppelin chiplets carried about 10 % for it (ISSCC 2021); "
        "0 = the seed's areas",
        plausible=(0, 100),
        plausible_note="UCIe and MCM PHYs take a few to some tens of mm² per die",
    ),
    Parameter(
        "wafer_price_usd",
        "variant",
        "Cost",
        "USD",
        20_000,
        1,
        1_000_000,
        "Price of one processed 300 mm logic wafer; blank: the process node table "
        "(TSMC 3nm about $20,000, DigiTimes Nov 2022)",
        plausible=(1000, 60_000),
        plausible_note="foundry wafers sell for about $2,000 (28 nm) to $30,000 (2 nm)",
    ),
    Parameter(
        "defect_density_per_cm2",
        "variant",
        "Cost",
        "defects/cm²",
        0.1,
        0,
        10,
        "Killer defect density D0 of the die's process; blank: the process node "
        "table (TSMC N5 0.10 in 2020, N3E like N5 in 2024, TSMC symposia)",
        plausible=(0.01, 1),
        plausible_note="foundries ramp below 0.5 and run mature nodes near 0.1",
    ),
    Parameter(
        "mask_set_usd",
        "variant",
        "Cost",
        "USD",
        25_000_000,
        0,
        1e10,
        "Mask set of the chiplet die (NRE); blank: the process node table (estimates, "
        "e.g. about $12M at 7 nm: ~80 masks at ~$150k)",
    ),
    Parameter(
        "design_nre_usd",
        "variant",
        "Cost",
        "USD",
        0,
        0,
        1e11,
        "Design cost (NRE) besides masks: your budget; 0 = none (IBS's widely "
        "quoted $542M for a 5 nm SoC, 2018, is judged inflated by SemiEngineering, "
        "Nov 2023)",
    ),
    Parameter(
        "wafer_diameter_mm",
        "coefficient",
        "Cost: wafer and yield",
        "mm",
        300,
        200,
        450,
        "Wafer diameter (300 mm: the logic standard, SEMI M1)",
    ),
    Parameter(
        "edge_exclusion_mm",
        "coefficient",
        "Cost: wafer and yield",
        "mm",
        3,
        0,
        10,
        "Unusable rim of the wafer; 3 mm as in google/chiplets-cost-model (2022)",
    ),
    Parameter(
        "scribe_mm",
        "coefficient",
        "Cost: wafer and yield",
        "mm",
        0.1,
        0,
        1,
        "Scribe (saw street) width added to each die side; 0.1 mm as in "
        "google/chiplets-cost-model (2022), 0.2 in Chiplet Actuary (2022)",
    ),
    Parameter(
        "reticle_limit_mm2",
        "coefficient",
        "Cost: wafer and yield",
        "mm²",
        858,
        100,
        10_000,
        "Largest die one exposure prints (26 x 33 mm field); beyond it the "
        "monolithic equivalent is n/a (High-NA EUV halves it to 429)",
    ),
    Parameter(
        "yield_model",
        "coefficient",
        "Cost: wafer and yield",
        "text",
        "negative_binomial",
        0,
        0,
        "Die yield from defects: poisson exp(-AD), murphy ((1-exp(-AD))/AD)^2, "
        "seeds 1/(1+AD), negative_binomial (1+AD/alpha)^-alpha, bose_einstein "
        "(1+AD/n)^-n over n critical layers",
        kind="choice",
        choices=("poisson", "murphy", "seeds", "negative_binomial", "bose_einstein"),
    ),
    Parameter(
        "yield_alpha",
        "coefficient",
        "Cost: wafer and yield",
        "α",
        3,
        0.01,
        1e9,
        "Defect clustering of the negative binomial model: 1 = Seeds, large = "
        "Poisson; 3 as in LLMCompass/ttm-cas (2023)",
        plausible=(0.3, 20),
        plausible_note="measured clustering parameters lie between about 0.3 and 5",
    ),
    Parameter(
        "critical_layers",
        "coefficient",
        "Cost: wafer and yield",
        "layers",
        10,
        1,
        1000,
        "Critical layers of the Bose-Einstein model (the defect density is shared "
        "over them); 10 as in Chiplet Actuary (2022)",
        kind="int",
    ),
    Parameter(
        "interposer_area_factor",
        "coefficient",
        "Cost: package",
        "ratio",
        1.1,
        1,
        10,
        "Silicon interposer area / (compute dies + HBM footprints); 1.1 as in "
        "Chiplet Actuary (2022)",
    ),
    Parameter(
        "hbm_footprint_mm2",
        "coefficient",
        "Cost: package",
        "mm²",
        110,
        0,
        1000,
        "Footprint of one HBM stack on the interposer or substrate (estimate: an "
        "HBM2E/3 cube is about 10-11 mm on a side)",
    ),
    Parameter(
        "interposer_wafer_price_usd",
        "coefficient",
        "Cost: package",
        "USD",
        1937,
        0,
        1_000_000,
        "Price of one 300 mm interposer wafer (65 nm class: $1,937 in CSET's AI "
        "Chips, Apr 2020, as priced in Chiplet Actuary)",
    ),
    Parameter(
        "interposer_defect_density_per_cm2",
        "coefficient",
        "Cost: package",
        "defects/cm²",
        0.02,
        0,
        10,
        "Defect density of the passive interposer (sparse wiring, small critical "
        "area): an estimate putting a 2,500 mm² one near 60 % yield; Chiplet "
        "Actuary (2022) uses 0.06, which gives 27 % at the seed's 2,728 mm²",
    ),
    Parameter(
        "bonding_yield_per_die",
        "coefficient",
        "Cost: package",
        "0-1",
        0.99,
        0.01,
        1,
        "Probability that bonding one die or HBM stack succeeds; 0.99 as in "
        "Chiplet Actuary (2022) and google/chiplets-cost-model (2022)",
    ),
    Parameter(
        "bridge_yield",
        "coefficient",
        "Cost: package",
        "0-1",
        0.99,
        0.01,
        1,
        "Yield of one embedded silicon bridge (package_type bridge); an assumption, "
        "no public figure",
    ),
    Parameter(
        "bridge_cost_usd",
        "coefficient",
        "Cost: package",
        "USD",
        5,
        0,
        100_000,
        "Cost of one embedded silicon bridge (package_type bridge); an assumption, "
        "no public figure",
    ),
    Parameter(
        "substrate_cost_usd_per_mm2",
        "coefficient",
        "Cost: package",
        "USD/mm²",
        0.01,
        0,
        100,
        "Organic substrate price per mm²; google/chiplets-cost-model (2022) prices "
        "a 68.5 x 68.5 mm substrate at $50",
    ),
    Parameter(
        "substrate_area_factor",
        "coefficient",
        "Cost: package",
        "ratio",
        4,
        1,
        100,
        "Substrate area / what it carries (the interposer, or the dies and HBM); "
        "4 as in Chiplet Actuary (2022)",
    ),
    Parameter(
        "assembly_cost_usd",
        "coefficient",
        "Cost: package",
        "USD",
        20,
        0,
        1_000_000,
        "Assembly cost of one package; $20 as in google/chiplets-cost-model (2022)",
    ),
    Parameter(
        "kgd_test_coverage",
        "coefficient",
        "Cost: test, memory, NRE",
        "0-1",
        0.9,
        0,
        1,
        "Share of defective dies wafer test catches (known good die); escapes kill "
        "packages; 0.9 as in nanocad-lab/cost_model_chiplets (2023)",
    ),
    Parameter(
        "die_test_cost_usd",
        "coefficient",
        "Cost: test, memory, NRE",
        "USD",
        1.67,
        0,
        100_000,
        "Wafer test per die probed; google/chiplets-cost-model (2022): 30 s at $200/h",
    ),
    Parameter(
        "package_test_cost_usd",
        "coefficient",
        "Cost: test, memory, NRE",
        "USD",
        2.07,
        0,
        100_000,
        "Final and system-level test per package; google/chiplets-cost-model (2022): "
        "$1.74 + $0.33",
    ),
    Parameter(
        "hbm_price_usd_per_gb",
        "coefficient",
        "Cost: test, memory, NRE",
        "USD/GB",
        10,
        0,
        1000,
        "HBM price per GB (known-good stacks); HBM3E about $8-10/GB (trade press, "
        "2025), $7 in LLMCompass (Oct 2023)",
        plausible=(2, 40),
        plausible_note="HBM sells for several times DDR5's $2-3 per GB",
    ),
    Parameter(
        "volume_units",
        "coefficient",
        "Cost: test, memory, NRE",
        "units",
        1_000_000,
        1,
        1e12,
        "Packages over which masks and design (NRE) are spread; an assumption",
        kind="int",
    ),
    # --- physical power, voltage, leakage and heat (issue 14) --------------------------
    # Every default below switches its term off (the seed's model) or is used only
    # once another one is switched on; the physical preset (xlmodel calibrate) sets
    # the voltage, leakage and junction-to-case terms from reference silicon.
    Parameter(
        "vf_v0_v",
        "coefficient",
        "Power",
        "V",
        0.8,
        -2,
        2,
        "Voltage-frequency curve V = max(vf_vmin_v, vf_v0_v + vf_slope_v_per_ghz x "
        "clock in GHz) (the intercept may be negative: the floor applies); SM energy "
        "per op scales as (V / V at sm_power_ref_clock_mhz)^2, leakage as V / V there",
    ),
    Parameter(
        "vf_slope_v_per_ghz",
        "coefficient",
        "Power",
        "V/GHz",
        0,
        0,
        2,
        "Slope of the voltage-frequency curve; 0 = seed (voltage independent of "
        "clock); shipping GPUs gain about 0.3-0.6 V per GHz near their top clock",
    ),
    Parameter(
        "vf_vmin_v",
        "coefficient",
        "Power",
        "V",
        0.65,
        0.1,
        2,
        "Voltage floor of the curve: below the clock where V0 + slope x f reaches it, "
        "voltage no longer falls (FinFET logic floors at about 0.6-0.75 V)",
    ),
    Parameter(
        "hbm_energy_pj_per_bit",
        "coefficient",
        "Power",
        "pJ/bit",
        0,
        0,
        100,
        "HBM energy per bit moved at full utilisation, added to hbm_power_w_per_stack; "
        "0 = seed; HBM3/3E about 3-3.5 pJ/bit, HBM2 about 3.9 (public figures)",
    ),
    Parameter(
        "leakage_w_per_mm2",
        "coefficient",
        "Power",
        "W/mm²",
        0,
        0,
        100,
        "Leakage per mm² of compute die at the reference voltage and "
        "leakage_ref_temp_c, added to static_power_w_per_chiplet; 0 = seed",
    ),
    Parameter(
        "leakage_temp_coeff_per_c",
        "coefficient",
        "Power",
        "1/°C",
        0,
        0,
        0.2,
        "Leakage (both terms) grows as exp(coefficient x (Tj - leakage_ref_temp_c)), "
        "solved with Tj per variant (thermal runaway is reported, not an error); "
        "0 = seed (no feedback); 0.02-0.03 = doubling every 25-35 °C",
    ),
    Parameter(
        "leakage_ref_temp_c",
        "coefficient",
        "Power",
        "°C",
        25,
        -60,
        200,
        "Junction temperature at which the leakage coefficients apply",
    ),
    Parameter(
        "cooling",
        "coefficient",
        "Thermal",
        "text",
        "seed",
        0,
        0,
        "seed: Tj = ambient_c + P x theta_ja_c_per_w; air or liquid: Tj = inlet + "
        "package power x case-to-coolant resistance of that cooling, plus the die "
        "term below (the physical preset reads seed as air)",
        kind="choice",
        choices=("seed", "air", "liquid"),
    ),
    Parameter(
        "air_inlet_c",
        "coefficient",
        "Thermal",
        "°C",
        35,
        -60,
        150,
        "Air inlet temperature of air cooling (ASHRAE TC 9.9 class A2 allows up to "
        "35 °C)",
    ),
    Parameter(
        "air_case_to_coolant_c_per_w",
        "coefficient",
        "Thermal",
        "°C/W",
        0.035,
        0.0001,
        100,
        "Case-to-air resistance of an air heat sink, including the air's own heating; "
        "about 0.03-0.05 °C/W for 700-1000 W accelerator modules (0.035 keeps every "
        "air-cooled reference chip stable below 105 °C at its TDP)",
    ),
    Parameter(
        "liquid_inlet_c",
        "coefficient",
        "Thermal",
        "°C",
        40,
        -60,
        150,
        "Coolant inlet temperature of a cold plate (ASHRAE liquid class W40: up to "
        "40 °C)",
    ),
    Parameter(
        "liquid_case_to_coolant_c_per_w",
        "coefficient",
        "Thermal",
        "°C/W",
        0.02,
        0.0001,
        100,
        "Case-to-coolant resistance of a cold plate, including the coolant's heating; "
        "about 0.01-0.03 °C/W",
    ),
    Parameter(
        "junction_to_case_k_mm2_per_w",
        "coefficient",
        "Thermal",
        "K·mm²/W",
        0,
        0,
        10_000,
        "Junction-to-case resistance per unit of die area (silicon, TIM, lid): adds "
        "die power density x this x hotspot_factor to Tj; 0 = seed; lidded "
        "accelerators about 10-20 K·mm²/W",
    ),
    Parameter(
        "hotspot_factor",
        "coefficient",
        "Thermal",
        "ratio",
        1.5,
        1,
        10,
        "Peak over mean power density of the compute dies (tensor arrays run hotter "
        "than caches and I/O); used with junction_to_case_k_mm2_per_w",
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
        "mix), peak_density (peak TFLOPS/mm²), unit_cost (USD per good package "
        "with NRE per unit; lowest wins), tflops_per_usd (peak TFLOPS at the "
        "target precision per USD of unit cost), tokens_per_s (output tokens/s "
        "of merit_model in merit_scenario) or tokens_per_s_per_usd (those "
        "tokens/s over tp x unit cost)",
        kind="choice",
        choices=FIGURES_OF_MERIT,
    ),
    Parameter(
        "merit_model",
        "target",
        "Targets",
        "text",
        "",
        0,
        0,
        "Model (a name on Models, served) of the tokens_per_s figures of merit and "
        "of the Inference sheet's charts; blank: the Serving setup's summary_model, "
        "else the first model served",
        kind="text",
    ),
    Parameter(
        "merit_scenario",
        "target",
        "Targets",
        "text",
        "",
        0,
        0,
        "Scenario (a name on Serving setup) of the tokens_per_s figures of merit "
        "and of the Inference sheet's charts; blank: the Serving setup's "
        "summary_scenario, else the first scenario",
        kind="text",
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
