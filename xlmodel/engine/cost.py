"""Cost and yield: dies per wafer, die and package yield, cost per good package.

Vectorised over N variants, numpy only. Units: areas in mm², defect densities per
cm², money in USD. With A a die's area and D its defect density, the expected
number of killer defects per die is x = A D / 100 (mm² to cm²).

Gross dies per wafer (the classical estimate, e.g. de Vries, "Investigation of
gross die per wafer formulas", IEEE Trans. Semicond. Manuf. 18(1), 2005; Hennessy
and Patterson's textbook; the form Chiplet Actuary and ttm-cas use):

    d = wafer diameter - 2 x edge exclusion          usable diameter, mm
    S = (sqrt(A) + scribe)²                           die pitch area (square die)
    N = pi d² / (4 S) - pi d / sqrt(2 S)              area term - edge loss

N is kept fractional (an expected count, smooth for sweeps). Where the edge term
swallows the area term (dies of a few thousand mm²) N is floored at min(1, d²/(2S)):
one die while a square of side sqrt(S) fits in the usable circle (S <= d²/2), the
share of that largest square beyond; so N > 0 for every input and never negative
(the quirk of the anchors, whose N turns negative and costs with it).

Die yield (each in (0, 1] for D >= 0; computed as log-yields, which never
underflow, then clipped to [0, 1]):

    poisson             Y = exp(-x)
    murphy              Y = ((1 - exp(-x)) / x)²            (1 at x = 0)
    seeds               Y = 1 / (1 + x)
    negative_binomial   Y = (1 + x / alpha)^-alpha           -> poisson as alpha grows,
                                                             = seeds at alpha 1
    bose_einstein       Y = (1 + x / n)^-n, D shared over n critical layers
                        (D / n per layer), so D means the same under every model;
                        the same form as negative_binomial with alpha = n

Known good die test: wafer test probes every die and catches a share c
(``kgd_test_coverage``) of the defective ones. A die passes with probability
p = Y + (1 - Y)(1 - c); a passing die is good with probability q = Y / p. Escapes
(1 - q) are assembled and kill their package.

Package yield (one assembly attempt succeeds):

    Y_pkg = q^n x y_bond^(n + h) x Y_interposer x y_bridge^B

n compute chiplets, h HBM stacks (known good, bought tested), y_bond the bonding
yield per die or stack; Y_interposer (silicon interposer only) from the yield model
at the interposer's area and defect density (interposers are not tested before the
dies are bonded, so a defect scraps the dies on it); B bridges (bridge packages
only): n x links per chiplet / 2 die-to-die bridges (none for one chiplet) plus one
per HBM stack.

Cost per good package: every attempt costs K, 1 / Y_pkg attempts make one good
package. With r = wafer price / N the raw cost of a die:

    raw dies               n r
    defective dies         n r (1/p - 1)           dies scrapped at wafer test
    package                substrate + interposer + bridges + assembly
    package defects        package x (1/Y_pkg - 1)
    good dies lost         n r / p x (1/Y_pkg - 1) dies scrapped with failed packages
    HBM                    h x GB/stack x USD/GB / Y_pkg
    test                   (n x die test / p + package test) / Y_pkg
    cost per good package  the sum = K / Y_pkg

Areas: chiplet die = chiplet_area_mm2 + d2d_phy_area_mm2 (the PHY only when there
is more than one chiplet); silicon footprint = n x die + h x HBM footprint;
interposer = interposer_area_factor x footprint; substrate = substrate_area_factor
x (interposer, or footprint). The monolithic equivalent is the same silicon as one
die (n x chiplet_area_mm2, no die-to-die PHY) in the same package with the same
HBM; n/a (NaN) beyond the reticle limit. NRE per unit = (mask set + design) /
volume.

Costs are finite wherever die yield x package yield is above 1e-290 (for every
valid input); below, where the true cost exceeds the float range (e.g. a thousand
chiplets of 10,000 mm² at 10 defects/cm²: a package nobody can build), a cost is
+inf rather than a clamped number.
"""

from __future__ import annotations

import numpy as np

from ..schema import BY_NAME

YIELD_MODEL_CODES = {n: i for i, n in enumerate(BY_NAME["yield_model"].choices)}
PACKAGE_TYPE_CODES = {n: i for i, n in enumerate(BY_NAME["package_type"].choices)}
_POISSON, _MURPHY, _SEEDS, _NEG_BINOMIAL, _BOSE_EINSTEIN = (
    YIELD_MODEL_CODES[k]
    for k in ("poisson", "murphy", "seeds", "negative_binomial", "bose_einstein")
)
_SUBSTRATE, _INTERPOSER, _BRIDGE = (
    PACKAGE_TYPE_CODES[k] for k in ("organic_substrate", "silicon_interposer", "bridge")
)


def gross_dies_per_wafer(
    die_area_mm2, wafer_diameter_mm=300.0, edge_exclusion_mm=0.0, scribe_mm=0.0
):
    """Gross (untested) dies per wafer, fractional, > 0 (formula in the module doc)."""
    area = np.asarray(die_area_mm2, dtype=np.float64)
    d = np.asarray(wafer_diameter_mm, dtype=np.float64) - 2.0 * np.asarray(
        edge_exclusion_mm, dtype=np.float64
    )
    side = np.sqrt(area) + scribe_mm
    pitch = side * side
    n = np.pi * d * d / (4.0 * pitch) - np.pi * d / np.sqrt(2.0 * pitch)
    return np.maximum(n, np.minimum(1.0, d * d / (2.0 * pitch)))


def _murphy_log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        v = 2.0 * (np.log(-np.expm1(-x)) - np.log(x))
    return np.where(x > 0, v, 0.0)


def _one_model_log(code: int, x, alpha, layers):
    if code == _POISSON:
        return -x
    if code == _MURPHY:
        return _murphy_log(x)
    if code == _SEEDS:
        return -np.log1p(x)
    if code == _NEG_BINOMIAL:
        return -alpha * np.log1p(x / alpha)
    return -layers * np.log1p(x / layers)


def log_yield(model_code, area_mm2, defect_density_per_cm2, alpha, layers):
    """Natural log of the die yield (<= 0; never underflows).

    Parameters
    ----------
    model_code : int or numpy.ndarray
        Code of ``yield_model`` (``YIELD_MODEL_CODES``).
    area_mm2, defect_density_per_cm2 : array-like
        Die area (mm²) and killer defect density (per cm²).
    alpha : array-like
        Clustering of the negative binomial model (> 0).
    layers : array-like
        Critical layers of the Bose-Einstein model (>= 1).
    """
    x = (
        np.asarray(area_mm2, dtype=np.float64)
        * np.asarray(defect_density_per_cm2, dtype=np.float64)
        / 100.0
    )
    code = np.asarray(model_code, dtype=np.int64)
    alpha = np.asarray(alpha, dtype=np.float64)
    layers = np.asarray(layers, dtype=np.float64)
    flat = code.ravel()
    if flat.size == 0 or (flat == flat[0]).all():
        c = int(flat[0]) if flat.size else _NEG_BINOMIAL
        out = _one_model_log(c, x, alpha, layers)
    else:
        per = [
            _one_model_log(c, x, alpha, layers) for c in range(len(YIELD_MODEL_CODES))
        ]
        out = np.choose(code, np.broadcast_arrays(*per))
    return np.minimum(np.broadcast_to(out, np.broadcast(x, code).shape), 0.0)


def die_yield(model_code, area_mm2, defect_density_per_cm2, alpha=3.0, layers=10.0):
    """Die yield in [0, 1] under the given model (see the module doc)."""
    y = np.exp(log_yield(model_code, area_mm2, defect_density_per_cm2, alpha, layers))
    return np.clip(y, 0.0, 1.0)


def _times(a, factor):
    # a x factor, zero when either is zero (even if the other is infinite)
    with np.errstate(invalid="ignore"):
        return np.where((a == 0) | (factor == 0), 0.0, a * factor)


def package_cost(
    x: dict, num_chiplets, die_area_mm2, hbm_stacks
) -> dict[str, np.ndarray]:
    """Yields and the cost per good package of ``num_chiplets`` dies of one area.

    Parameters
    ----------
    x : dict of str to numpy.ndarray
        Checked inputs (:func:`xlmodel.engine.prepare`), with the codes
        ``yield_model_code`` and ``package_type_code``.
    num_chiplets, die_area_mm2, hbm_stacks : array-like
        Dies in the package, the area of each (mm²) and HBM stacks.

    Returns
    -------
    dict of str to numpy.ndarray
        ``dies_per_wafer``, ``die_yield``, ``raw_die_cost_usd``,
        ``cost_per_good_die_usd``, ``interposer_area_mm2``, ``interposer_yield``,
        ``bridge_count``, ``package_yield``, the seven ``cost_*_usd`` components and
        ``cost_per_good_package_usd`` (their sum).
    """
    n = np.asarray(num_chiplets, dtype=np.float64)
    area = np.asarray(die_area_mm2, dtype=np.float64)
    h = np.asarray(hbm_stacks, dtype=np.float64)
    model = x["yield_model_code"]
    alpha, layers = x["yield_alpha"], x["critical_layers"]

    def gross(a):
        return gross_dies_per_wafer(
            a, x["wafer_diameter_mm"], x["edge_exclusion_mm"], x["scribe_mm"]
        )

    dpw = gross(area)
    raw = x["wafer_price_usd"] / dpw
    log_y = log_yield(model, area, x["defect_density_per_cm2"], alpha, layers)
    y = np.clip(np.exp(log_y), 0.0, 1.0)
    c = x["kgd_test_coverage"]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # pass wafer test; a passing die is good (both <= 1: clip the rounding)
        log_p = np.minimum(np.logaddexp(np.log1p(-c), np.log(c) + log_y), 0.0)
        log_q = np.minimum(log_y - log_p, 0.0)
        inv_p = np.exp(-log_p)
        cost_good_die = raw * np.exp(-log_y)

    ptype = x["package_type_code"]
    is_si = ptype == _INTERPOSER
    is_bridge = ptype == _BRIDGE
    footprint = n * area + h * x["hbm_footprint_mm2"]
    int_area = np.where(is_si, x["interposer_area_factor"] * footprint, 0.0)
    si_area = np.where(is_si, int_area, 1.0)  # a placeholder where there is none
    int_cost = np.where(is_si, x["interposer_wafer_price_usd"] / gross(si_area), 0.0)
    log_int = np.where(
        is_si,
        log_yield(
            model, si_area, x["interposer_defect_density_per_cm2"], alpha, layers
        ),
        0.0,
    )
    bridges = np.where(
        is_bridge, np.where(n > 1, n * x["d2d_links_per_chiplet"] / 2.0, 0.0) + h, 0.0
    )
    substrate_area = x["substrate_area_factor"] * np.where(is_si, int_area, footprint)
    package = (
        substrate_area * x["substrate_cost_usd_per_mm2"]
        + int_cost
        + bridges * x["bridge_cost_usd"]
        + x["assembly_cost_usd"]
    )
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pkg = (
            _times(n, log_q)
            + (n + h) * np.log(x["bonding_yield_per_die"])
            + log_int
            + _times(bridges, np.log(x["bridge_yield"]))
        )
        inv_pkg = np.exp(-log_pkg)
        extra = inv_pkg - 1.0  # attempts beyond the first, per good package
        raw_dies = n * raw
        defective = raw_dies * (inv_p - 1.0)
        passing = raw_dies * inv_p  # silicon of the dies that pass wafer test
        out = {
            "dies_per_wafer": dpw,
            "die_yield": y,
            "raw_die_cost_usd": raw,
            "cost_per_good_die_usd": cost_good_die,
            "interposer_area_mm2": int_area,
            "interposer_yield": np.clip(np.exp(log_int), 0.0, 1.0),
            "bridge_count": bridges,
            "package_yield": np.clip(np.exp(log_pkg), 0.0, 1.0),
            "cost_raw_dies_usd": raw_dies,
            "cost_defective_dies_usd": defective,
            "cost_package_usd": package,
            "cost_package_defects_usd": _times(package, extra),
            "cost_lost_good_dies_usd": _times(passing, extra),
            "cost_hbm_usd": _times(
                h * x["hbm_capacity_gb_per_stack"] * x["hbm_price_usd_per_gb"], inv_pkg
            ),
            "cost_test_usd": _times(
                _times(n * x["die_test_cost_usd"], inv_p) + x["package_test_cost_usd"],
                inv_pkg,
            ),
        }
    out["cost_per_good_package_usd"] = (
        out["cost_raw_dies_usd"]
        + out["cost_defective_dies_usd"]
        + out["cost_package_usd"]
        + out["cost_package_defects_usd"]
        + out["cost_lost_good_dies_usd"]
        + out["cost_hbm_usd"]
        + out["cost_test_usd"]
    )
    return out


#: The components of ``cost_per_good_package_usd``, in stacking order.
COST_COMPONENTS: tuple[str, ...] = (
    "cost_raw_dies_usd",
    "cost_defective_dies_usd",
    "cost_package_usd",
    "cost_package_defects_usd",
    "cost_lost_good_dies_usd",
    "cost_hbm_usd",
    "cost_test_usd",
)


def chiplet_die_area_mm2(x: dict, num_chiplets=None):
    """Area of one chiplet die for cost: chiplet area + D2D PHY (when n > 1)."""
    n = x["num_chiplets"] if num_chiplets is None else num_chiplets
    return x["chiplet_area_mm2"] + np.where(n > 1, x["d2d_phy_area_mm2"], 0.0)


def cost_metrics(x: dict, peaks: dict, target_peak) -> dict[str, np.ndarray]:
    """Every cost metric of ``METRICS`` for checked inputs ``x``.

    Parameters
    ----------
    x : dict of str to numpy.ndarray
        Checked inputs.
    peaks : dict of str to numpy.ndarray
        Peak TFLOPS per precision key (``"fp16"``, ...).
    target_peak : numpy.ndarray
        Peak TFLOPS at the target precision.
    """
    n = x["num_chiplets"]
    area = chiplet_die_area_mm2(x)
    out = {"chiplet_die_area_mm2": np.asarray(area, dtype=np.float64)}
    pkg = package_cost(x, n, area, x["hbm_stacks"])
    out.update(pkg)
    out["good_dies_per_wafer"] = pkg["dies_per_wafer"] * pkg["die_yield"]
    nre = (x["mask_set_usd"] + x["design_nre_usd"]) / x["volume_units"]
    unit = pkg["cost_per_good_package_usd"] + nre
    out["nre_per_unit_usd"] = np.asarray(nre, dtype=np.float64)
    out["unit_cost_usd"] = unit
    out["usd_per_tflops"] = unit / target_peak
    for k, peak in peaks.items():
        out[f"usd_per_{k}_tflops"] = unit / peak

    mono_area = n * x["chiplet_area_mm2"]
    mono = package_cost(x, 1.0, mono_area, x["hbm_stacks"])
    fits = mono_area <= x["reticle_limit_mm2"]
    mono_cost = np.where(fits, mono["cost_per_good_package_usd"], np.nan)
    out["monolithic_area_mm2"] = np.asarray(mono_area, dtype=np.float64)
    out["monolithic_die_yield"] = np.where(fits, mono["die_yield"], np.nan)
    out["monolithic_cost_per_good_package_usd"] = mono_cost
    with np.errstate(divide="ignore", invalid="ignore"):  # inf - inf: NaN
        out["chiplet_saving_usd"] = mono_cost - pkg["cost_per_good_package_usd"]
        out["chiplet_cost_ratio"] = pkg["cost_per_good_package_usd"] / mono_cost
    return out
