"""Power breakdown and junction temperature, as array equations (watts, °C).

The seed's model (1.5 W per SM, 0.05 W/MB of L2 scaled by sqrt(utilisation), 15 W
per HBM stack, 5 W leakage per chiplet, 20 W interconnect, 10 W I/O) is the default.
Two coefficients make SM power physical: a DVFS clock exponent (P ~ f V², and V
follows f, so P ~ f^3 at the top of the curve) and a tensor-throughput exponent; one
makes die-to-die traffic cost energy (pJ/bit). All three default to 0: the seed.
"""

from __future__ import annotations

import numpy as np


def sm_power_w(
    total_sms,
    utilization,
    sm_power_w_per_sm,
    clock_mhz,
    ref_clock_mhz,
    clock_exponent,
    fp16_flop_per_cycle_per_sm,
    ref_flop_per_cycle,
    throughput_exponent,
):
    """SM dynamic power, W.

    P = SMs x u x P_sm x (f / f_ref)^a x (F / F_ref)^b, where u is utilisation
    (0-1), P_sm the per-SM power at the reference point (W), f the clock (MHz),
    F the FP16 tensor FLOP per clock per SM, a the DVFS exponent and b the
    throughput exponent. With a = b = 0 this is the seed's 1.5 W x SMs x u.
    """
    clock_term = np.power(clock_mhz / ref_clock_mhz, clock_exponent)
    throughput_term = np.power(
        fp16_flop_per_cycle_per_sm / ref_flop_per_cycle, throughput_exponent
    )
    return total_sms * utilization * sm_power_w_per_sm * clock_term * throughput_term


def l2_power_w(num_chiplets, l2_cache_mb, utilization, w_per_mb, utilization_exponent):
    """L2 power, W: chiplets x MB x W/MB x u^exponent (seed: exponent 0.5)."""
    return (
        num_chiplets
        * l2_cache_mb
        * w_per_mb
        * np.power(utilization, utilization_exponent)
    )


def hbm_power_w(hbm_stacks, utilization, w_per_stack):
    """HBM power, W: stacks x W/stack x u."""
    return hbm_stacks * w_per_stack * utilization


def d2d_power_w(link_traffic_gbps, energy_pj_per_bit):
    """Die-to-die power, W: link traffic (GB/s, summed over hops) x 8 bit/B x pJ/bit."""
    return link_traffic_gbps * 1e9 * 8 * energy_pj_per_bit * 1e-12


def static_power_w(num_chiplets, w_per_chiplet):
    """Leakage power, W: chiplets x W/chiplet (independent of utilisation)."""
    return num_chiplets * w_per_chiplet


def junction_temp_c(total_power_w, ambient_c, theta_ja_c_per_w):
    """Junction temperature, °C: Tj = ambient + P x theta_ja."""
    return ambient_c + total_power_w * theta_ja_c_per_w
