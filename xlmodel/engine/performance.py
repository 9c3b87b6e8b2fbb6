"""Peak compute, density, memory bandwidth and the roofline, as array equations.

Units: TFLOPS = 1e12 FLOP/s; bandwidth in bytes/s throughout (GB/s = 1e9 B/s,
TB/s = 1e12 B/s); arithmetic intensity in FLOP/byte. The seed divided the bandwidth
by 8 in the ridge point only (GB/s read as Gbit/s); here one unit is used everywhere.
"""

from __future__ import annotations

import numpy as np


def peak_tflops(
    num_chiplets, sms_per_chiplet, tensor_cores_per_sm, ops_per_cycle, clock_mhz
):
    """Peak tensor throughput, TFLOPS.

    peak = chiplets x SMs/chiplet x TC/SM x ops/cycle/TC x clock_mhz x 1e6 / 1e12
    """
    return (
        num_chiplets
        * sms_per_chiplet
        * tensor_cores_per_sm
        * ops_per_cycle
        * clock_mhz
        * 1e-6
    )


def density_tflops_per_mm2(peak, num_chiplets, chiplet_area_mm2):
    """Compute density, TFLOPS/mm²: peak over total compute-die area (chiplets x area)."""
    return peak / (num_chiplets * chiplet_area_mm2)


def hbm_bandwidth_gbps(hbm_stacks, hbm_bandwidth_gbps_per_stack):
    """Total HBM bandwidth, GB/s (1e9 bytes/s)."""
    return hbm_stacks * hbm_bandwidth_gbps_per_stack


def ridge_flop_per_byte(peak, bandwidth_gbps):
    """Ridge point of the roofline, FLOP/byte: peak FLOP/s over bandwidth bytes/s.

    Infinite where there is no memory bandwidth.
    """
    with np.errstate(divide="ignore"):
        return np.divide(peak * 1e12, bandwidth_gbps * 1e9)


def attainable_tflops(ai_flop_per_byte, peak, bandwidth_gbps):
    """Roofline attainable performance, TFLOPS: min(peak, AI x bandwidth).

    Broadcasts: ``ai`` of shape (W,) against ``peak`` of shape (N, 1) gives (N, W).
    """
    return np.minimum(peak, ai_flop_per_byte * bandwidth_gbps * 1e-3)


def bottleneck(ai_flop_per_byte, ridge):
    """'compute' where AI >= ridge point, else 'memory' (string array)."""
    return np.where(ai_flop_per_byte >= ridge, "compute", "memory")
