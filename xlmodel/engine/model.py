"""The vectorised core: a table of N variants in, a table of N rows of metrics out.

One numpy pass evaluates every variant; sweeps, elasticities, the scaling study and
the seed's object API are all just more rows through :func:`evaluate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import PRECISIONS
from . import performance as perf
from . import power as pw
from . import scaling as sc
from . import thermal as th
from .inputs import Inputs, prepare


@dataclass(frozen=True)
class Metric:
    """One output column: its name, unit and meaning."""

    name: str
    unit: str
    description: str


def _per_precision() -> list[Metric]:
    out = []
    for p in PRECISIONS:
        k = p.value.lower()
        out += [
            Metric(f"peak_{k}_tflops", "TFLOPS", f"Peak dense {p.value} throughput"),
            Metric(
                f"density_{k}_tflops_per_mm2",
                "TFLOPS/mm²",
                f"{p.value} peak over total compute-die area",
            ),
            Metric(
                f"ridge_{k}_flop_per_byte",
                "FLOP/byte",
                f"{p.value} roofline ridge point (peak / HBM bandwidth)",
            ),
        ]
    return out


METRICS: tuple[Metric, ...] = (
    Metric("total_sms", "SMs", "Streaming multiprocessors in the package"),
    Metric("total_area_mm2", "mm²", "Total compute-die area (chiplets x area)"),
    Metric("hbm_bandwidth_gbps", "GB/s", "Total HBM bandwidth (1e9 bytes/s)"),
    Metric("hbm_bandwidth_tbps", "TB/s", "Total HBM bandwidth (1e12 bytes/s)"),
    Metric(
        "fp16_flop_per_cycle_per_sm",
        "FLOP/cycle/SM",
        "FP16 tensor FLOP per clock per SM",
    ),
    *_per_precision(),
    Metric("target_peak_tflops", "TFLOPS", "Peak at the target precision"),
    Metric(
        "target_density_tflops_per_mm2", "TFLOPS/mm²", "Density at the target precision"
    ),
    Metric(
        "target_ridge_flop_per_byte", "FLOP/byte", "Ridge point at the target precision"
    ),
    Metric(
        "bytes_per_flop", "byte/FLOP", "HBM bandwidth per FLOP at the target precision"
    ),
    Metric("utilization", "0-1", "Utilisation at which power is evaluated"),
    Metric("power_sm_w", "W", "SM dynamic power"),
    Metric("power_l2_w", "W", "L2 cache power"),
    Metric("power_hbm_w", "W", "HBM power"),
    Metric("power_d2d_w", "W", "Die-to-die (UCIe) traffic power"),
    Metric("power_static_w", "W", "Leakage power"),
    Metric("power_interconnect_w", "W", "Fixed interconnect power (UCIe, NVLink)"),
    Metric("power_io_w", "W", "Fixed I/O power (PCIe, misc)"),
    Metric("power_dynamic_w", "W", "SM + L2 + HBM + D2D power"),
    Metric("power_total_w", "W", "Total package power"),
    Metric(
        "junction_temp_c",
        "°C",
        "Junction temperature: coolant + P x case-to-coolant resistance + die term, "
        "leakage feedback solved (seed: ambient + P x theta_ja)",
    ),
    Metric(
        "tflops_per_w",
        "TFLOPS/W",
        "Target-precision peak over total power (at this utilisation)",
    ),
    Metric("core_voltage_v", "V", "Core voltage on the voltage-frequency curve"),
    Metric(
        "power_die_w",
        "W",
        "Power dissipated in the compute dies (SM, L2, D2D, leakage)",
    ),
    Metric(
        "power_density_w_per_mm2",
        "W/mm²",
        "Compute-die power over total compute-die area",
    ),
    Metric(
        "leakage_temperature_factor",
        "ratio",
        "Leakage at Tj over leakage at its reference temperature",
    ),
    Metric(
        "thermal_loop_gain",
        "0-1",
        "Leakage-temperature loop gain at the operating point (1 = runaway "
        "threshold; inf in runaway)",
    ),
    Metric(
        "thermal_runaway",
        "bool",
        "No junction temperature balances the leakage it causes",
    ),
    Metric("d2d_avg_hops", "hops", "Mean D2D hops between two chiplets"),
    Metric("d2d_link_traffic_gbps", "GB/s", "Die-to-die link traffic, all chiplets"),
    Metric(
        "scaling_efficiency",
        "0-1",
        "Share of ideal linear throughput the D2D links allow",
    ),
    Metric("effective_tflops", "TFLOPS", "Target-precision peak x scaling efficiency"),
    Metric(
        "effective_tflops_per_w",
        "TFLOPS/W",
        "Effective TFLOPS (after D2D scaling) over total power",
    ),
    Metric("density_margin", "ratio", "Target density reached / target"),
    Metric("power_margin_w", "W", "Power budget minus total power"),
    Metric("meets_density_target", "bool", "Density target met"),
    Metric("meets_power_budget", "bool", "Total power within budget"),
    Metric("meets_tj_max", "bool", "Junction temperature within its maximum"),
    Metric("meets_all_targets", "bool", "Density, power and Tj targets all met"),
)
METRIC_UNITS: dict[str, str] = {m.name: m.unit for m in METRICS}

_PRECISION_INDEX = {p.value: i for i, p in enumerate(PRECISIONS)}


def evaluate(variants: pd.DataFrame | Mapping, utilization=1.0) -> pd.DataFrame:
    """Evaluate every variant in one vectorised pass.

    Parameters
    ----------
    variants : pandas.DataFrame or mapping
        One row per variant, columns named after ``xlmodel.schema`` parameters; a
        missing column takes its default (the seed's value). A ``name`` column is
        carried along.
    utilization : float or array-like
        Utilisation (0-1) at which power is evaluated; scalar or one per row.

    Returns
    -------
    pandas.DataFrame
        One row per variant (same index), one column per entry of ``METRICS``.

    Raises
    ------
    ValueError
        A parameter or utilisation is of the wrong kind, not finite or out of range.
    """
    frame = variants if isinstance(variants, pd.DataFrame) else None
    inputs = prepare(variants)
    n = len(next(iter(inputs.values())))
    u = np.broadcast_to(np.asarray(utilization, dtype=np.float64), (n,))
    if not (np.isfinite(u).all() and (u >= 0).all() and (u <= 1).all()):
        raise ValueError(f"utilization: {utilization!r} is not a number from 0 to 1")
    out = evaluate_arrays(inputs, u)
    index = frame.index if frame is not None else None
    # copy=False keeps one block per column instead of stacking 49 arrays
    return pd.DataFrame(out, index=index, copy=False)


def evaluate_arrays(x: Inputs, utilization) -> dict[str, np.ndarray]:
    """The equations over checked inputs (see :func:`prepare`); returns metric arrays.

    Every array is float64 of length N except the ``meets_*`` booleans.
    """
    u = np.asarray(utilization, dtype=np.float64)
    n_chip = x["num_chiplets"]
    total_sms = n_chip * x["sms_per_chiplet"]
    area = n_chip * x["chiplet_area_mm2"]
    bw = perf.hbm_bandwidth_gbps(x["hbm_stacks"], x["hbm_bandwidth_gbps_per_stack"])
    out: dict[str, np.ndarray] = {
        "total_sms": total_sms,
        "total_area_mm2": area,
        "hbm_bandwidth_gbps": bw,
        "hbm_bandwidth_tbps": bw * 1e-3,
        "fp16_flop_per_cycle_per_sm": x["tensor_cores_per_sm"]
        * x["fp16_ops_per_cycle"],
    }
    peaks = []
    for p in PRECISIONS:
        k = p.value.lower()
        peak = perf.peak_tflops(
            n_chip,
            x["sms_per_chiplet"],
            x["tensor_cores_per_sm"],
            x[p.ops_param],
            x["clock_mhz"],
        )
        peaks.append(peak)
        out[f"peak_{k}_tflops"] = peak
        out[f"density_{k}_tflops_per_mm2"] = peak / area
        out[f"ridge_{k}_flop_per_byte"] = perf.ridge_flop_per_byte(peak, bw)

    target = x["target_precision"]
    if len(target) and (target == target[0]).all():
        target_peak = peaks[_PRECISION_INDEX[target[0]]]
    else:
        idx = np.array([_PRECISION_INDEX[t] for t in target], dtype=np.int64)
        target_peak = np.choose(idx, peaks)
    out["target_peak_tflops"] = target_peak
    out["target_density_tflops_per_mm2"] = target_density = target_peak / area
    out["target_ridge_flop_per_byte"] = perf.ridge_flop_per_byte(target_peak, bw)
    out["bytes_per_flop"] = bw * 1e9 / (target_peak * 1e12)

    # die-to-die traffic and scaling efficiency
    hops = sc.average_hops(x["d2d_topology_code"], n_chip)
    demand = sc.d2d_demand_gbps_per_chiplet(n_chip, bw, x["d2d_remote_share"], hops, u)
    eff = sc.scaling_efficiency(
        demand, x["d2d_links_per_chiplet"], x["ucie_bandwidth_gbps"]
    )
    link_traffic = demand * eff * n_chip  # links carry what throughput allows

    vr = pw.voltage_ratio(
        x["clock_mhz"],
        x["sm_power_ref_clock_mhz"],
        x["vf_v0_v"],
        x["vf_slope_v_per_ghz"],
        x["vf_vmin_v"],
    )
    p_sm = pw.sm_power_w(
        total_sms,
        u,
        x["sm_power_w"],
        x["clock_mhz"],
        x["sm_power_ref_clock_mhz"],
        x["sm_power_clock_exponent"],
        out["fp16_flop_per_cycle_per_sm"],
        x["sm_power_ref_fp16_flop_per_cycle"],
        x["sm_power_throughput_exponent"],
    ) * (vr * vr)
    p_l2 = pw.l2_power_w(
        n_chip,
        x["l2_cache_mb"],
        u,
        x["l2_power_w_per_mb"],
        x["l2_power_utilization_exponent"],
    )
    p_hbm = pw.hbm_power_w(
        x["hbm_stacks"],
        u,
        x["hbm_power_w_per_stack"],
        x["hbm_energy_pj_per_bit"],
        x["hbm_bandwidth_gbps_per_stack"],
    )
    p_d2d = pw.d2d_power_w(link_traffic, x["d2d_energy_pj_per_bit"])
    leak_ref = (
        pw.static_power_w(
            n_chip,
            x["static_power_w_per_chiplet"],
            area,
            x["leakage_w_per_mm2"],
        )
        * vr
    )
    p_dyn = p_sm + p_l2 + p_hbm + p_d2d
    fixed = x["interconnect_power_w"] + x["io_power_w"]
    die_dyn = p_sm + p_l2 + p_d2d
    t_cool, r_cc = th.coolant(
        x["cooling_code"],
        x["ambient_c"],
        x["theta_ja_c_per_w"],
        x["air_inlet_c"],
        x["air_case_to_coolant_c_per_w"],
        x["liquid_inlet_c"],
        x["liquid_case_to_coolant_c_per_w"],
    )
    g_die = th.die_k_per_w(x["hotspot_factor"], x["junction_to_case_k_mm2_per_w"], area)
    beta = x["leakage_temp_coeff_per_c"]
    n = len(total_sms)
    if (beta > 0).any():
        tj_fb, p_static, gain, runaway = th.solve_junction(
            t_cool,
            r_cc,
            g_die,
            p_dyn + fixed,
            die_dyn,
            leak_ref,
            beta,
            x["leakage_ref_temp_c"],
        )
    else:  # no feedback: the closed form is the plain sum (the seed's Tj)
        p_static, gain = leak_ref, np.zeros(n)
        runaway = np.zeros(n, dtype=bool)
    total = p_dyn + p_static + x["interconnect_power_w"] + x["io_power_w"]
    p_die = die_dyn + p_static
    with np.errstate(invalid="ignore"):
        tj = t_cool + total * r_cc + g_die * p_die
    if (beta > 0).any():
        tj = np.where(beta > 0, tj_fb, tj)
    with np.errstate(divide="ignore", invalid="ignore"):
        leak_factor = np.where(leak_ref > 0, p_static / leak_ref, 1.0)
        leak_factor = np.where(runaway, np.inf, leak_factor)
    out.update(
        {
            "utilization": np.broadcast_to(u, n_chip.shape).astype(np.float64),
            "power_sm_w": p_sm,
            "power_l2_w": p_l2,
            "power_hbm_w": p_hbm,
            "power_d2d_w": p_d2d,
            "power_static_w": p_static,
            "power_interconnect_w": x["interconnect_power_w"],
            "power_io_w": x["io_power_w"],
            "power_dynamic_w": p_dyn,
            "power_total_w": total,
            "junction_temp_c": tj,
            "tflops_per_w": target_peak / total,
            "core_voltage_v": pw.core_voltage_v(
                x["clock_mhz"], x["vf_v0_v"], x["vf_slope_v_per_ghz"], x["vf_vmin_v"]
            ),
            "power_die_w": p_die,
            "power_density_w_per_mm2": p_die / area,
            "leakage_temperature_factor": leak_factor,
            "thermal_loop_gain": gain,
            "thermal_runaway": runaway,
            "d2d_avg_hops": hops,
            "d2d_link_traffic_gbps": link_traffic,
            "scaling_efficiency": eff,
            "effective_tflops": target_peak * eff,
            "effective_tflops_per_w": target_peak * eff / total,
        }
    )
    density_target = x["density_target_tflops_per_mm2"]
    with np.errstate(divide="ignore"):
        out["density_margin"] = np.divide(target_density, density_target)
    out["power_margin_w"] = x["power_budget_w"] - total
    out["meets_density_target"] = target_density >= density_target
    out["meets_power_budget"] = total <= x["power_budget_w"]
    out["meets_tj_max"] = tj <= x["tj_max_c"]
    out["meets_all_targets"] = (
        out["meets_density_target"] & out["meets_power_budget"] & out["meets_tj_max"]
    )
    return out
