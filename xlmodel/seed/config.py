"""The seed's configuration dataclasses, as thin views on the parameter table.

``SMConfig``, ``ChipletConfig`` and ``SoCConfig`` keep the seed's names and defaults
so the seed's examples run unchanged; ``SoCConfig.to_params()`` turns one into the
schema's parameter names, which is all the engine sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import DEFAULTS, SEED_OPS_PER_CYCLE, Precision


@dataclass
class SMConfig:
    """One streaming multiprocessor.

    cuda_cores (cores), tensor_cores (per SM), l1_cache_kb / shared_memory_kb /
    register_file_kb (KB), clock_mhz (MHz), tensor_core_ops_per_cycle
    (dict Precision -> FLOP per clock per tensor core; seed table by default).
    """

    cuda_cores: int = 128
    tensor_cores: int = 4
    l1_cache_kb: int = 128
    shared_memory_kb: int = 128
    register_file_kb: int = 256
    clock_mhz: float = 2000
    tensor_core_ops_per_cycle: dict | None = None

    def __post_init__(self):
        ops = dict(SEED_OPS_PER_CYCLE)
        for k, v in (self.tensor_core_ops_per_cycle or {}).items():
            ops[Precision(k)] = v
        self.tensor_core_ops_per_cycle = ops

    def peak_tflops(self, precision: Precision) -> float:
        """Peak of one SM, TFLOPS: TC x ops/cycle x clock_mhz x 1e6 / 1e12."""
        p = Precision(precision)
        return (
            self.tensor_cores
            * self.tensor_core_ops_per_cycle[p]
            * self.clock_mhz
            * 1e-6
        )


@dataclass
class ChipletConfig:
    """One compute chiplet: num_sms, l2_cache_mb (MB), ucIe_bandwidth_gbps (GB/s per
    direction), area_mm2 (mm²), process_node (label), sm_config."""

    num_sms: int = 16
    l2_cache_mb: float = 6
    ucIe_bandwidth_gbps: float = 256
    area_mm2: float = 400
    process_node: str = "TSMC 3nm"
    sm_config: SMConfig | None = None

    def __post_init__(self):
        if self.sm_config is None:
            self.sm_config = SMConfig()


@dataclass
class SoCConfig:
    """The package: chiplets, HBM3E stacks at GB/s each, NVLink and PCIe (GB/s)."""

    num_chiplets: int = 4
    hbm3e_stacks: int = 8
    hbm3e_bandwidth_gbps_per_stack: float = 128
    nvlink_lanes: int = 6
    nvlink_bandwidth_gbps_per_lane: float = 100
    pcie_gen: int = 6
    pcie_lanes: int = 16
    pcie_bandwidth_gbps: float = 128
    chiplet_config: ChipletConfig | None = None
    coefficients: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.chiplet_config is None:
            self.chiplet_config = ChipletConfig()

    @property
    def total_sms(self) -> int:
        """SMs in the package."""
        return self.num_chiplets * self.chiplet_config.num_sms

    @property
    def total_hbm_bandwidth_gbps(self) -> float:
        """Total HBM bandwidth, GB/s (1e9 bytes/s)."""
        return self.hbm3e_stacks * self.hbm3e_bandwidth_gbps_per_stack

    @property
    def total_area_mm2(self) -> float:
        """Total compute-die area, mm² (chiplets x chiplet area)."""
        return self.num_chiplets * self.chiplet_config.area_mm2

    def to_params(self) -> dict:
        """This configuration in the schema's parameter names (plus coefficients)."""
        c, s = self.chiplet_config, self.chiplet_config.sm_config
        params = {
            "cuda_cores_per_sm": s.cuda_cores,
            "tensor_cores_per_sm": s.tensor_cores,
            "clock_mhz": s.clock_mhz,
            **{p.ops_param: s.tensor_core_ops_per_cycle[p] for p in Precision},
            "l1_cache_kb": s.l1_cache_kb,
            "shared_memory_kb": s.shared_memory_kb,
            "register_file_kb": s.register_file_kb,
            "sms_per_chiplet": c.num_sms,
            "l2_cache_mb": c.l2_cache_mb,
            "ucie_bandwidth_gbps": c.ucIe_bandwidth_gbps,
            "chiplet_area_mm2": c.area_mm2,
            "process_node": c.process_node,
            "num_chiplets": self.num_chiplets,
            "hbm_stacks": self.hbm3e_stacks,
            "hbm_bandwidth_gbps_per_stack": self.hbm3e_bandwidth_gbps_per_stack,
            "nvlink_lanes": self.nvlink_lanes,
            "nvlink_bandwidth_gbps_per_lane": self.nvlink_bandwidth_gbps_per_lane,
            "pcie_gen": self.pcie_gen,
            "pcie_lanes": self.pcie_lanes,
            "pcie_bandwidth_gbps": self.pcie_bandwidth_gbps,
        }
        unknown = set(self.coefficients) - set(DEFAULTS)
        if unknown:
            raise ValueError("unknown coefficient(s): " + ", ".join(sorted(unknown)))
        params.update(self.coefficients)
        return params
