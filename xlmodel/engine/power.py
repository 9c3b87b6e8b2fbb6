"""Power breakdown and junction temperature, as array equations (watts, °C).

The seed's model (1.5 W per SM, 0.05 W/MB of L2 scaled by sqrt(utilisation), 15 W
per HBM stack, 5 W leakage per chiplet, 20 W interconnect, 10 W I/O) is the default.
Two coefficients make SM power physical: a DVFS clock exponent (P ~ f V², and V
follows f, so P ~ f^3 at the top of the curve) and a tensor-throughput exponent; one
makes die-to-die traffic cost energy (pJ/bit). All three default to 0: the seed.

The physical terms (issue 14) are coefficients that default to off as well: a
voltage-frequency curve V = max(Vmin, V0 + k f) whose ratio to the voltage at the
reference clock scales SM energy per op as V² and leakage as V (k = 0: the ratio is
1), and an HBM energy per bit (0 by default) beside the per-stack watts. Leakage's
temperature term and the junction temperature are in :mod:`xlmodel.engine.thermal`.
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


def core_voltage_v(clock_mhz, v0_v, slope_v_per_ghz, vmin_v):
    """Core voltage on the voltage-frequency curve, V: max(Vmin, V0 + k x f[GHz])."""
    return np.maximum(vmin_v, v0_v + slope_v_per_ghz * clock_mhz * 1e-3)


def voltage_ratio(clock_mhz, ref_clock_mhz, v0_v, slope_v_per_ghz, vmin_v):
    """V(clock) / V(reference clock): 1 exactly when the slope is 0 (the seed)."""
    return core_voltage_v(clock_mhz, v0_v, slope_v_per_ghz, vmin_v) / core_voltage_v(
        ref_clock_mhz, v0_v, slope_v_per_ghz, vmin_v
    )


def l2_power_w(num_chiplets, l2_cache_mb, utilization, w_per_mb, utilization_exponent):
    """L2 power, W: chiplets x MB x W/MB x u^exponent (seed: exponent 0.5)."""
    return (
        num_chiplets
        * l2_cache_mb
        * w_per_mb
        * np.power(utilization, utilization_exponent)
    )


def hbm_power_w(
    hbm_stacks, utilization, w_per_stack, pj_per_bit=0.0, gbps_per_stack=0.0
):
    """HBM power, W: stacks x (W/stack + pJ/bit x GB/s per stack x 8e-3) x u.

    The energy term is bandwidth x 8 bit/B x pJ/bit (1 GB/s at 1 pJ/bit = 8 mW);
    with 0 pJ/bit this is the seed's stacks x W/stack x u.
    """
    per_stack = w_per_stack + pj_per_bit * gbps_per_stack * 8e-3
    return hbm_stacks * per_stack * utilization


def d2d_power_w(link_traffic_gbps, energy_pj_per_bit):
    """Die-to-die power, W: link traffic (GB/s, summed over hops) x 8 bit/B x pJ/bit."""
    return link_traffic_gbps * 1e9 * 8 * energy_pj_per_bit * 1e-12


def static_power_w(num_chiplets, w_per_chiplet, die_area_mm2=0.0, w_per_mm2=0.0):
    """Leakage power at the reference voltage and temperature, W:
    chiplets x W/chiplet + die area x W/mm² (independent of utilisation)."""
    return num_chiplets * w_per_chiplet + die_area_mm2 * w_per_mm2
