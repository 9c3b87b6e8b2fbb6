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
from . import cost as cs
from . import performance as perf
from . import power as pw
from . import scaling as sc
from .inputs import Inputs, prepare
from .nodes import NodeTable


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
    Metric("junction_temp_c", "°C", "Junction temperature, ambient + P x theta_ja"),
    Metric(
        "tflops_per_w",
        "TFLOPS/W",
        "Target-precision peak over total power (at this utilisation)",
    ),
    Metric("d2d_avg_hops", "hops", "Mean D2D hops between two chiplets"),
    Metric("d2d_link_traffic_gbps", "GB/s", "Die-to-die link traffic, all chiplets"),
    Metric(
        "scaling_efficiency",
        "0-1",
        "Share of ideal linear throughput the D2D links allow",
    ),
    Metric("effective_tflops", "TFLOPS", "Target-precision peak x scaling efficiency"),
    Metric("density_margin", "ratio", "Target density reached / target"),
    Metric("power_margin_w", "W", "Power budget minus total power"),
    Metric("meets_density_target", "bool", "Density target met"),
    Metric("meets_power_budget", "bool", "Total power within budget"),
    Metric("meets_tj_max", "bool", "Junction temperature within its maximum"),
    Metric("meets_all_targets", "bool", "Density, power and Tj targets all met"),
    *(
        # cost and yield (xlmodel.engine.cost has the formulas and their sources)
        Metric(
            "chiplet_die_area_mm2",
            "mm²",
            "Area of one chiplet die for cost: chiplet area + D2D PHY (n > 1)",
        ),
        Metric(
            "dies_per_wafer",
            "dies",
            "Gross dies per wafer (scribe and edge exclusion; fractional)",
        ),
        Metric("die_yield", "0-1", "Share of dies free of killer defects"),
        Metric("good_dies_per_wafer", "dies", "Gross dies per wafer x die yield"),
        Metric("raw_die_cost_usd", "USD", "Wafer price / gross dies per wafer"),
        Metric(
            "cost_per_good_die_usd", "USD", "Wafer price / (dies per wafer x yield)"
        ),
        Metric(
            "interposer_area_mm2",
            "mm²",
            "Silicon interposer area (0 without an interposer)",
        ),
        Metric("interposer_yield", "0-1", "Silicon interposer yield (1 without)"),
        Metric("bridge_count", "bridges", "Embedded silicon bridges (bridge package)"),
        Metric(
            "package_yield",
            "0-1",
            "Share of assembled packages that work: test escapes, bonding, "
            "interposer, bridges",
        ),
        Metric("cost_raw_dies_usd", "USD", "Raw silicon of the package's dies"),
        Metric(
            "cost_defective_dies_usd",
            "USD",
            "Silicon of the dies scrapped at wafer test, per package",
        ),
        Metric(
            "cost_package_usd",
            "USD",
            "Substrate, interposer, bridges and assembly of one package",
        ),
        Metric(
            "cost_package_defects_usd",
            "USD",
            "Package cost of the failed packages, per good package",
        ),
        Metric(
            "cost_lost_good_dies_usd",
            "USD",
            "Tested dies scrapped with failed packages, per good package",
        ),
        Metric(
            "cost_hbm_usd",
            "USD",
            "HBM of a good package, with the stacks scrapped with failed ones",
        ),
        Metric(
            "cost_test_usd",
            "USD",
            "Wafer test of the dies and final test of the packages, per good package",
        ),
        Metric(
            "cost_per_good_package_usd",
            "USD",
            "Manufacturing cost of one good package (the sum of the cost_* parts)",
        ),
        Metric("nre_per_unit_usd", "USD", "(Mask set + design NRE) / volume"),
        Metric("unit_cost_usd", "USD", "Cost per good package + NRE per unit"),
        Metric(
            "usd_per_tflops",
            "USD/TFLOPS",
            "Unit cost / peak at the target precision",
        ),
        *(
            Metric(
                f"usd_per_{p.value.lower()}_tflops",
                "USD/TFLOPS",
                f"Unit cost / {p.value} peak",
            )
            for p in PRECISIONS
        ),
        Metric(
            "monolithic_area_mm2",
            "mm²",
            "The same silicon as one die: chiplets x chiplet area (no D2D PHY)",
        ),
        Metric(
            "monolithic_die_yield",
            "0-1",
            "Yield of that one die (n/a beyond the reticle limit)",
        ),
        Metric(
            "monolithic_cost_per_good_package_usd",
            "USD",
            "Cost per good package of the monolithic equivalent (n/a beyond the "
            "reticle limit)",
        ),
        Metric(
            "chiplet_saving_usd",
            "USD",
            "Monolithic minus chiplet cost per good package (n/a beyond the reticle)",
        ),
        Metric(
            "chiplet_cost_ratio",
            "ratio",
            "Chiplet / monolithic cost per good package (n/a beyond the reticle)",
        ),
    ),
)
METRIC_UNITS: dict[str, str] = {m.name: m.unit for m in METRICS}

_PRECISION_INDEX = {p.value: i for i, p in enumerate(PRECISIONS)}


def evaluate(
    variants: pd.DataFrame | Mapping,
    utilization=1.0,
    *,
    process_nodes: pd.DataFrame | NodeTable | None = None,
) -> pd.DataFrame:
    """Evaluate every variant in one vectorised pass.

    Parameters
    ----------
    variants : pandas.DataFrame or mapping
        One row per variant, columns named after ``xlmodel.schema`` parameters; a
        missing column takes its default (the seed's value). A ``name`` column is
        carried along.
    utilization : float or array-like
        Utilisation (0-1) at which power is evaluated; scalar or one per row.
    process_nodes : pandas.DataFrame or NodeTable, optional
        Process node table for blank (NaN) wafer prices, defect densities and
        mask set costs (default: the shipped table; see
        :func:`xlmodel.engine.prepare`).

    Returns
    -------
    pandas.DataFrame
        One row per variant (same index), one column per entry of ``METRICS``.

    Raises
    ------
    ValueError
        A parameter or utilisation is of the wrong kind, not finite or out of range;
        a blank node parameter whose process node the table does not hold.
    """
    frame = variants if isinstance(variants, pd.DataFrame) else None
    inputs = prepare(variants, process_nodes=process_nodes)
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
    peak_by_key = {}
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
        peak_by_key[k] = peak
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
    )
    p_l2 = pw.l2_power_w(
        n_chip,
        x["l2_cache_mb"],
        u,
        x["l2_power_w_per_mb"],
        x["l2_power_utilization_exponent"],
    )
    p_hbm = pw.hbm_power_w(x["hbm_stacks"], u, x["hbm_power_w_per_stack"])
    p_d2d = pw.d2d_power_w(link_traffic, x["d2d_energy_pj_per_bit"])
    p_static = pw.static_power_w(n_chip, x["static_power_w_per_chiplet"])
    p_dyn = p_sm + p_l2 + p_hbm + p_d2d
    total = p_dyn + p_static + x["interconnect_power_w"] + x["io_power_w"]
    tj = pw.junction_temp_c(total, x["ambient_c"], x["theta_ja_c_per_w"])
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
            "d2d_avg_hops": hops,
            "d2d_link_traffic_gbps": link_traffic,
            "scaling_efficiency": eff,
            "effective_tflops": target_peak * eff,
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
    out.update(cs.cost_metrics(x, peak_by_key, target_peak))
    return out
