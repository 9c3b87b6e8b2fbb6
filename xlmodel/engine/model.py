"""The vectorised core: a table of N variants in, a table of N rows of metrics out.

One numpy pass evaluates every variant; sweeps, elasticities, the scaling study and
the seed's object API are all just more rows through :func:`evaluate`. Each metric
is one rule over the inputs and other metrics, computed when first needed, so a
caller that needs a few metrics (the exploration: its objectives and constraints)
asks :func:`evaluate_arrays` for those and pays for nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..lazy import pd
from ..schema import PRECISIONS
from . import cost as cs
from . import performance as perf
from . import power as pw
from . import scaling as sc
from . import thermal as th
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


# Cost and yield metrics (xlmodel.engine.cost has the formulas and their sources);
# one pass of that module computes them all.
COST_METRICS: tuple[Metric, ...] = (
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
    Metric("cost_per_good_die_usd", "USD", "Wafer price / (dies per wafer x yield)"),
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
)


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
    *COST_METRICS,
)
METRIC_UNITS: dict[str, str] = {m.name: m.unit for m in METRICS}
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)

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


def evaluate_arrays(
    x: Inputs, utilization, names: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """The equations over checked inputs (see :func:`prepare`); returns metric arrays.

    Every array is float64 of length N except the ``meets_*`` booleans.

    Parameters
    ----------
    x : dict of str to numpy.ndarray
        Checked inputs, one array per parameter.
    utilization : float or array-like
        Utilisation (0-1) at which power is evaluated.
    names : iterable of str, optional
        Only these metrics (each computed from what it needs, nothing more); default
        every metric of ``METRICS``, in that order. The values are the same either
        way, bit for bit: one set of equations serves both.

    Raises
    ------
    KeyError
        A name that is not a metric.
    """
    ev = MetricEvaluation(x, utilization)
    return {name: ev[name] for name in (METRIC_NAMES if names is None else names)}


class MetricEvaluation(Mapping):
    """The metrics of some inputs, each computed when first asked for, then kept.

    A read-only mapping over every name of ``METRICS``: ``ev["power_total_w"]``
    evaluates the power equations and what they depend on (HBM bandwidth, D2D
    traffic, ...) and nothing else; asking again returns the same array.
    """

    def __init__(self, x: Inputs, utilization):
        self.x = x
        self.u = np.asarray(utilization, dtype=np.float64)
        self._done: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        done = self._done
        if name not in done:
            rule = _RULES.get(name)
            if rule is None:
                raise KeyError(f"{name!r} is not a metric")
            done[name] = rule(self)
        return done[name]

    def __iter__(self):
        return iter(METRIC_NAMES)

    def __len__(self) -> int:
        return len(METRIC_NAMES)

    def __contains__(self, name) -> bool:
        return name in METRIC_UNITS


# --- the equations, one rule per metric (and a few intermediate quantities) --------
# A rule computes one array from the inputs (ev.x), the utilisation (ev.u) and other
# rules (ev[name]). Names starting with "_" are intermediates, not metrics.

_RULES: dict[str, Callable[[MetricEvaluation], np.ndarray]] = {}


def _rule(name: str):
    def register(fn):
        _RULES[name] = fn
        return fn

    return register


@_rule("total_sms")
def _total_sms(ev):
    return ev.x["num_chiplets"] * ev.x["sms_per_chiplet"]


@_rule("total_area_mm2")
def _total_area(ev):
    return ev.x["num_chiplets"] * ev.x["chiplet_area_mm2"]


@_rule("hbm_bandwidth_gbps")
def _hbm_bandwidth(ev):
    x = ev.x
    return perf.hbm_bandwidth_gbps(x["hbm_stacks"], x["hbm_bandwidth_gbps_per_stack"])


@_rule("hbm_bandwidth_tbps")
def _hbm_bandwidth_tbps(ev):
    return ev["hbm_bandwidth_gbps"] * 1e-3


@_rule("fp16_flop_per_cycle_per_sm")
def _fp16_flop_per_cycle(ev):
    return ev.x["tensor_cores_per_sm"] * ev.x["fp16_ops_per_cycle"]


def _precision_rules(p) -> None:
    k = p.value.lower()

    @_rule(f"peak_{k}_tflops")
    def _peak(ev):
        x = ev.x
        return perf.peak_tflops(
            x["num_chiplets"],
            x["sms_per_chiplet"],
            x["tensor_cores_per_sm"],
            x[p.ops_param],
            x["clock_mhz"],
        )

    @_rule(f"density_{k}_tflops_per_mm2")
    def _density(ev):
        return ev[f"peak_{k}_tflops"] / ev["total_area_mm2"]

    @_rule(f"ridge_{k}_flop_per_byte")
    def _ridge(ev):
        return perf.ridge_flop_per_byte(
            ev[f"peak_{k}_tflops"], ev["hbm_bandwidth_gbps"]
        )


for _p in PRECISIONS:
    _precision_rules(_p)

_PEAKS = [f"peak_{p.value.lower()}_tflops" for p in PRECISIONS]


@_rule("target_peak_tflops")
def _target_peak(ev):
    target = ev.x["target_precision"]
    flat = np.ravel(target)  # the Monte Carlo's are a column per variant
    if len(flat) and (flat == flat[0]).all():
        return ev[_PEAKS[_PRECISION_INDEX[flat[0]]]]
    idx = np.array([_PRECISION_INDEX[t] for t in flat], dtype=np.int64)
    return np.choose(idx.reshape(np.shape(target)), [ev[name] for name in _PEAKS])


@_rule("target_density_tflops_per_mm2")
def _target_density(ev):
    return ev["target_peak_tflops"] / ev["total_area_mm2"]


@_rule("target_ridge_flop_per_byte")
def _target_ridge(ev):
    return perf.ridge_flop_per_byte(ev["target_peak_tflops"], ev["hbm_bandwidth_gbps"])


@_rule("bytes_per_flop")
def _bytes_per_flop(ev):
    return ev["hbm_bandwidth_gbps"] * 1e9 / (ev["target_peak_tflops"] * 1e12)


# die-to-die traffic and scaling efficiency


@_rule("d2d_avg_hops")
def _hops(ev):
    return sc.average_hops(ev.x["d2d_topology_code"], ev.x["num_chiplets"])


@_rule("_d2d_demand_gbps_per_chiplet")
def _demand(ev):
    x = ev.x
    return sc.d2d_demand_gbps_per_chiplet(
        x["num_chiplets"],
        ev["hbm_bandwidth_gbps"],
        x["d2d_remote_share"],
        ev["d2d_avg_hops"],
        ev.u,
    )


@_rule("scaling_efficiency")
def _efficiency(ev):
    x = ev.x
    return sc.scaling_efficiency(
        ev["_d2d_demand_gbps_per_chiplet"],
        x["d2d_links_per_chiplet"],
        x["ucie_bandwidth_gbps"],
    )


@_rule("d2d_link_traffic_gbps")
def _link_traffic(ev):
    # links carry what throughput allows
    return (
        ev["_d2d_demand_gbps_per_chiplet"]
        * ev["scaling_efficiency"]
        * ev.x["num_chiplets"]
    )


# power and temperature


@_rule("utilization")
def _utilization(ev):
    return np.broadcast_to(ev.u, ev.x["num_chiplets"].shape).astype(np.float64)


@_rule("_voltage_ratio")
def _voltage_ratio(ev):
    x = ev.x
    return pw.voltage_ratio(
        x["clock_mhz"],
        x["sm_power_ref_clock_mhz"],
        x["vf_v0_v"],
        x["vf_slope_v_per_ghz"],
        x["vf_vmin_v"],
    )


@_rule("core_voltage_v")
def _core_voltage(ev):
    x = ev.x
    return pw.core_voltage_v(
        x["clock_mhz"], x["vf_v0_v"], x["vf_slope_v_per_ghz"], x["vf_vmin_v"]
    )


@_rule("power_sm_w")
def _power_sm(ev):
    x = ev.x
    vr = ev["_voltage_ratio"]
    return pw.sm_power_w(
        ev["total_sms"],
        ev.u,
        x["sm_power_w"],
        x["clock_mhz"],
        x["sm_power_ref_clock_mhz"],
        x["sm_power_clock_exponent"],
        ev["fp16_flop_per_cycle_per_sm"],
        x["sm_power_ref_fp16_flop_per_cycle"],
        x["sm_power_throughput_exponent"],
    ) * (vr * vr)


@_rule("power_l2_w")
def _power_l2(ev):
    x = ev.x
    return pw.l2_power_w(
        x["num_chiplets"],
        x["l2_cache_mb"],
        ev.u,
        x["l2_power_w_per_mb"],
        x["l2_power_utilization_exponent"],
    )


@_rule("power_hbm_w")
def _power_hbm(ev):
    x = ev.x
    return pw.hbm_power_w(
        x["hbm_stacks"],
        ev.u,
        x["hbm_power_w_per_stack"],
        x["hbm_energy_pj_per_bit"],
        x["hbm_bandwidth_gbps_per_stack"],
    )


@_rule("power_d2d_w")
def _power_d2d(ev):
    return pw.d2d_power_w(ev["d2d_link_traffic_gbps"], ev.x["d2d_energy_pj_per_bit"])


@_rule("power_interconnect_w")
def _power_interconnect(ev):
    return ev.x["interconnect_power_w"]


@_rule("power_io_w")
def _power_io(ev):
    return ev.x["io_power_w"]


@_rule("power_dynamic_w")
def _power_dynamic(ev):
    return ev["power_sm_w"] + ev["power_l2_w"] + ev["power_hbm_w"] + ev["power_d2d_w"]


@_rule("_thermal")
def _thermal(ev):
    """Leakage, junction temperature and the leakage-temperature loop, solved
    together (xlmodel.engine.thermal); a dict of the arrays its metrics take."""
    area = ev["total_area_mm2"]
    p_dyn = ev["power_dynamic_w"]
    die_dyn = ev["power_sm_w"] + ev["power_l2_w"] + ev["power_d2d_w"]
    vr = ev["_voltage_ratio"]
    names = (
        "num_chiplets",
        "static_power_w_per_chiplet",
        "leakage_w_per_mm2",
        "interconnect_power_w",
        "io_power_w",
        "cooling_code",
        "ambient_c",
        "theta_ja_c_per_w",
        "air_inlet_c",
        "air_case_to_coolant_c_per_w",
        "liquid_inlet_c",
        "liquid_case_to_coolant_c_per_w",
        "hotspot_factor",
        "junction_to_case_k_mm2_per_w",
        "leakage_temp_coeff_per_c",
        "leakage_ref_temp_c",
    )
    # rows: inputs an exploration fixes arrive once, the Monte Carlo's without
    # a spread once per variant (a column); the loop takes them per row
    shape = np.broadcast_shapes(
        (1,),
        *(np.shape(a) for a in (area, p_dyn, die_dyn, vr)),
        *(np.shape(ev.x[k]) for k in names),
    )

    def rows(a):
        # np.shape and np.broadcast_to, not np.asarray: symbolic operands
        # (xlmodel.engine.symbolic) pass through them
        return np.broadcast_to(a, shape) if np.shape(a) != shape else a

    x = {k: rows(ev.x[k]) for k in names}
    area, p_dyn, die_dyn, vr = rows(area), rows(p_dyn), rows(die_dyn), rows(vr)
    leak_ref = (
        pw.static_power_w(
            x["num_chiplets"],
            x["static_power_w_per_chiplet"],
            area,
            x["leakage_w_per_mm2"],
        )
        * vr
    )
    fixed = x["interconnect_power_w"] + x["io_power_w"]
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
    feedback = bool((beta > 0).any())
    if feedback:
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
        p_static, gain = leak_ref, np.zeros(shape)
        runaway = np.zeros(shape, dtype=bool)
    total = p_dyn + p_static + x["interconnect_power_w"] + x["io_power_w"]
    p_die = die_dyn + p_static
    with np.errstate(invalid="ignore"):
        tj = t_cool + total * r_cc + g_die * p_die
    if feedback:
        tj = np.where(beta > 0, tj_fb, tj)
    with np.errstate(divide="ignore", invalid="ignore"):
        leak_factor = np.where(leak_ref > 0, p_static / leak_ref, 1.0)
        leak_factor = np.where(runaway, np.inf, leak_factor)
    return {
        "power_static_w": p_static,
        "power_total_w": total,
        "junction_temp_c": tj,
        "power_die_w": p_die,
        "leakage_temperature_factor": leak_factor,
        "thermal_loop_gain": gain,
        "thermal_runaway": runaway,
    }


def _share(source: str, names) -> None:
    """Rules for ``names``, each the entry of that name in the dict that the
    intermediate rule ``source`` computes once for all of them."""
    for name in names:
        _RULES[name] = lambda ev, name=name: ev[source][name]


_share(
    "_thermal",
    (
        "power_static_w",
        "power_total_w",
        "junction_temp_c",
        "power_die_w",
        "leakage_temperature_factor",
        "thermal_loop_gain",
        "thermal_runaway",
    ),
)


@_rule("power_density_w_per_mm2")
def _power_density(ev):
    return ev["power_die_w"] / ev["total_area_mm2"]


@_rule("effective_tflops_per_w")
def _effective_tflops_per_w(ev):
    return ev["target_peak_tflops"] * ev["scaling_efficiency"] / ev["power_total_w"]


@_rule("tflops_per_w")
def _tflops_per_w(ev):
    return ev["target_peak_tflops"] / ev["power_total_w"]


@_rule("effective_tflops")
def _effective_tflops(ev):
    return ev["target_peak_tflops"] * ev["scaling_efficiency"]


# margins and target checks


@_rule("density_margin")
def _density_margin(ev):
    with np.errstate(divide="ignore"):
        return np.divide(
            ev["target_density_tflops_per_mm2"], ev.x["density_target_tflops_per_mm2"]
        )


@_rule("power_margin_w")
def _power_margin(ev):
    return ev.x["power_budget_w"] - ev["power_total_w"]


@_rule("meets_density_target")
def _meets_density(ev):
    return ev["target_density_tflops_per_mm2"] >= ev.x["density_target_tflops_per_mm2"]


@_rule("meets_power_budget")
def _meets_power(ev):
    return ev["power_total_w"] <= ev.x["power_budget_w"]


@_rule("meets_tj_max")
def _meets_tj(ev):
    return ev["junction_temp_c"] <= ev.x["tj_max_c"]


@_rule("meets_all_targets")
def _meets_all(ev):
    return ev["meets_density_target"] & ev["meets_power_budget"] & ev["meets_tj_max"]


# --- cost and yield: one pass of xlmodel.engine.cost, shared by its metrics --------


@_rule("_cost")
def _cost(ev):
    peaks = {p.value.lower(): ev[f"peak_{p.value.lower()}_tflops"] for p in PRECISIONS}
    return cs.cost_metrics(ev.x, peaks, ev["target_peak_tflops"])


_share("_cost", [m.name for m in COST_METRICS])
