"""The seed's analysis classes, each a thin view on the vectorised engine.

``PerformanceModel``, ``PowerModel`` and ``ScalingModel`` answer the seed's questions
for one configuration by evaluating one row (or a few) through
:func:`xlmodel.evaluate`; they hold no equations of their own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine import performance as perf
from ..engine.model import evaluate
from ..schema import Precision
from ..studies.standard import scaling_study
from .config import ChipletConfig, SoCConfig


def _row(soc: SoCConfig, utilization: float = 1.0, **overrides) -> pd.Series:
    params = soc.to_params()
    params.update(overrides)
    return evaluate(params, utilization).iloc[0]


def _key(precision) -> str:
    return Precision(precision).value.lower()


class PerformanceModel:
    """Peak compute, density, bandwidth and roofline of one SoC configuration."""

    def __init__(self, soc: SoCConfig):
        self.soc = soc
        self._m = _row(soc)

    def peak_compute(self, precision: Precision) -> float:
        """Peak throughput, TFLOPS."""
        return float(self._m[f"peak_{_key(precision)}_tflops"])

    def compute_density(self, precision: Precision) -> float:
        """Peak over total compute-die area, TFLOPS/mm²."""
        return float(self._m[f"density_{_key(precision)}_tflops_per_mm2"])

    def memory_bandwidth_tbps(self) -> float:
        """Total HBM bandwidth, TB/s (1e12 bytes/s)."""
        return float(self._m["hbm_bandwidth_tbps"])

    def arithmetic_intensity_roof(self, precision: Precision) -> float:
        """Ridge point, FLOP/byte (bandwidth in bytes/s, unlike the seed's /8)."""
        return float(self._m[f"ridge_{_key(precision)}_flop_per_byte"])

    def roofline_performance(self, ai_array, precision: Precision) -> np.ndarray:
        """Attainable TFLOPS at each arithmetic intensity (FLOP/byte)."""
        return perf.attainable_tflops(
            np.asarray(ai_array, dtype=np.float64),
            self.peak_compute(precision),
            float(self._m["hbm_bandwidth_gbps"]),
        )

    def analyze_workload(
        self, precision: Precision, arithmetic_intensity: float
    ) -> dict:
        """One workload: attainable TFLOPS, % of peak and the bottleneck."""
        peak = self.peak_compute(precision)
        ridge = self.arithmetic_intensity_roof(precision)
        achieved = float(self.roofline_performance(arithmetic_intensity, precision))
        return {
            "precision": Precision(precision).value,
            "arithmetic_intensity": arithmetic_intensity,
            "peak_tflops": peak,
            "achieved_tflops": achieved,
            "efficiency_percent": 100.0 * achieved / peak,
            "bottleneck": "compute" if arithmetic_intensity >= ridge else "memory",
            "ridge_point": ridge,
        }

    def plot_roofline(self, precision: Precision, save_path=None):
        """Draw the roofline (log-log) with the seed's workloads; save a PNG if asked."""
        from ..plots import roofline_figure

        return roofline_figure({"SoC": self}, Precision(precision), save_path)


class PowerModel:
    """Power breakdown, efficiency and junction temperature of one configuration."""

    def __init__(self, soc: SoCConfig):
        self.soc = soc

    def breakdown(self, utilization: float = 1.0) -> dict:
        """Power per component, W (sm, l2, hbm, d2d, static, interconnect, io, total)."""
        m = _row(self.soc, utilization)
        keys = ("sm", "l2", "hbm", "d2d", "static", "interconnect", "io", "total")
        return {k: float(m[f"power_{k}_w"]) for k in keys}

    def dynamic_power(self, utilization: float = 1.0) -> float:
        """SM + L2 + HBM + D2D power, W."""
        return float(_row(self.soc, utilization)["power_dynamic_w"])

    def static_power(self) -> float:
        """Leakage power, W."""
        return float(_row(self.soc)["power_static_w"])

    def total_power(self, utilization: float = 1.0) -> float:
        """Total package power, W."""
        return float(_row(self.soc, utilization)["power_total_w"])

    def power_efficiency(self, precision: Precision, utilization: float = 1.0) -> float:
        """Peak TFLOPS at ``precision`` over total power, TFLOPS/W."""
        m = _row(self.soc, utilization, target_precision=Precision(precision).value)
        return float(m["tflops_per_w"])

    def thermal_estimate(
        self, utilization: float = 1.0, ambient_c: float = 25.0, theta_ja: float = 0.1
    ) -> float:
        """Junction temperature, °C: ambient + P x theta_ja (°C/W)."""
        m = _row(self.soc, utilization, ambient_c=ambient_c, theta_ja_c_per_w=theta_ja)
        return float(m["junction_temp_c"])


class ScalingModel:
    """Chiplet-count scaling of one chiplet design, 2 HBM stacks per chiplet."""

    HBM_STACKS_PER_CHIPLET = 2

    def __init__(
        self,
        base_chiplet_config: ChipletConfig | None = None,
        soc: SoCConfig | None = None,
    ):
        self.base_chiplet_config = base_chiplet_config or ChipletConfig()
        template = soc or SoCConfig()
        self.soc = SoCConfig(
            **{**template.__dict__, "chiplet_config": self.base_chiplet_config}
        )

    def _study(self, counts, precision=Precision.FP16, utilization=1.0) -> pd.DataFrame:
        params = self.soc.to_params()
        params["target_precision"] = Precision(precision).value
        frame = pd.DataFrame([params], index=["SoC"])
        return scaling_study(
            frame, list(counts), self.HBM_STACKS_PER_CHIPLET, utilization
        )

    def compute_scaling(self, chiplet_counts, precision: Precision) -> list[float]:
        """Peak TFLOPS at each chiplet count (ideal, as the seed)."""
        return self._study(chiplet_counts, precision)["compute_tflops"].tolist()

    def memory_scaling(self, chiplet_counts) -> list[float]:
        """HBM bandwidth at each count, TB/s."""
        return self._study(chiplet_counts)["memory_tbps"].tolist()

    def power_scaling(self, chiplet_counts, utilization: float = 1.0) -> list[float]:
        """Total power at each count, W."""
        return self._study(chiplet_counts, utilization=utilization)["power_w"].tolist()

    def efficiency_analysis(self, chiplet_counts, precision: Precision) -> dict:
        """{count: {compute_tflops, memory_tbps, power_watts, tflops_per_watt,
        compute_per_area (TFLOPS/mm²), scaling_efficiency, effective_tflops}}."""
        t = self._study(chiplet_counts, precision)
        return {
            int(r.num_chiplets): {
                "compute_tflops": r.compute_tflops,
                "memory_tbps": r.memory_tbps,
                "power_watts": r.power_w,
                "tflops_per_watt": r.tflops_per_w,
                "compute_per_area": r.density_tflops_per_mm2,
                "scaling_efficiency": r.scaling_efficiency,
                "effective_tflops": r.effective_tflops,
            }
            for r in t.itertuples()
        }

    def plot_scaling(self, chiplet_counts, precision: Precision, save_path=None):
        """Draw compute, bandwidth, power and TFLOPS/W against chiplet count."""
        from ..plots import scaling_figure

        return scaling_figure(self._study(chiplet_counts, precision), save_path)
