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
underflow and are clipped at 0, so that Y = exp(log Y) is in [0, 1] whatever the
rounding):

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
    shape = np.broadcast(area, d, np.asarray(scribe_mm)).shape
    if not shape:  # scalars
        pitch = (np.sqrt(area) + scribe_mm) ** 2
        n = np.pi * d * d / (4.0 * pitch) - np.pi * d / np.sqrt(2.0 * pitch)
        return np.maximum(n, np.minimum(1.0, d * d / (2.0 * pitch)))
    # in place on arrays of our own: a million rows per call
    pitch = np.sqrt(np.broadcast_to(area, shape))
    pitch += scribe_mm
    pitch *= pitch  # (sqrt(A) + s)²
    half_d2 = d * d / 2.0
    fits = half_d2 / pitch  # d² / (2 S): > 1 while a die fits
    edge = np.sqrt(2.0 * pitch)
    np.divide(np.pi * d, edge, out=edge)  # pi d / sqrt(2 S)
    n = fits * (np.pi / 2.0)  # pi d² / (4 S)
    n -= edge
    np.minimum(fits, 1.0, out=fits)
    return np.maximum(n, fits)


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
    return np.minimum(np.broadcast_to(out, np.broadcast(out, x, code).shape), 0.0)


def die_yield(model_code, area_mm2, defect_density_per_cm2, alpha=3.0, layers=10.0):
    """Die yield in [0, 1] under the given model (see the module doc)."""
    y = np.exp(log_yield(model_code, area_mm2, defect_density_per_cm2, alpha, layers))
    return np.clip(y, 0.0, 1.0)


def _times(a, factor):
    # a x factor, zero when either is zero (even if the other is infinite)
    with np.errstate(invalid="ignore"):
        r = a * factor
    nan = np.isnan(r)
    if not np.any(nan):
        return r
    zero = (np.asarray(a) == 0) | (np.asarray(factor) == 0)
    return np.where(nan & zero, 0.0, r)


def _compact(a):
    # A read-only broadcast of one value (a default, a coefficient) as a scalar, so
    # that arithmetic on it costs nothing per row; arrays as they are.
    a = np.asarray(a)
    if a.ndim == 1 and a.size and a.strides[0] == 0:
        return a[0]
    if a.ndim >= 1 and a.size and a.dtype.kind in "iub":
        flat = a.ravel()  # a Monte Carlo's are a column per variant
        if (flat == flat[0]).all():
            return flat[0]  # codes: one choice for every row
    return a


def _take(a, rows: np.ndarray) -> np.ndarray:
    # rows of an input; a broadcast of one value stays one (cheaply)
    a = np.asarray(a)
    if a.ndim == 1 and a.size and a.strides[0] == 0:
        return np.broadcast_to(a[:1], (len(rows),))
    return a[rows]


def _full(v, shape: tuple) -> np.ndarray:
    # An output of the rows' shape (a scalar becomes a read-only broadcast view)
    v = np.asarray(v, dtype=np.float64)
    return np.broadcast_to(v, shape) if v.shape != shape else v


_PACKAGE_INPUTS = (
    "yield_model_code",
    "package_type_code",
    "yield_alpha",
    "critical_layers",
    "wafer_diameter_mm",
    "edge_exclusion_mm",
    "scribe_mm",
    "wafer_price_usd",
    "defect_density_per_cm2",
    "kgd_test_coverage",
    "hbm_footprint_mm2",
    "interposer_area_factor",
    "interposer_wafer_price_usd",
    "interposer_defect_density_per_cm2",
    "d2d_links_per_chiplet",
    "substrate_area_factor",
    "substrate_cost_usd_per_mm2",
    "bridge_cost_usd",
    "assembly_cost_usd",
    "bonding_yield_per_die",
    "bridge_yield",
    "hbm_capacity_gb_per_stack",
    "hbm_price_usd_per_gb",
    "die_test_cost_usd",
    "package_test_cost_usd",
)


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
    size = np.broadcast(
        *(np.asarray(x[k]) for k in _PACKAGE_INPUTS),
        np.asarray(num_chiplets),
        np.asarray(die_area_mm2),
        np.asarray(hbm_stacks),
    ).shape
    g = {k: _compact(x[k]) for k in _PACKAGE_INPUTS}
    n = _compact(np.asarray(num_chiplets, dtype=np.float64))
    area = _compact(np.asarray(die_area_mm2, dtype=np.float64))
    h = _compact(np.asarray(hbm_stacks, dtype=np.float64))
    model, alpha, layers = g["yield_model_code"], g["yield_alpha"], g["critical_layers"]

    def gross(a):
        return gross_dies_per_wafer(
            a, g["wafer_diameter_mm"], g["edge_exclusion_mm"], g["scribe_mm"]
        )

    def model_log(a, d0):
        return log_yield(model, a, d0, alpha, layers)

    dpw = gross(area)
    raw = g["wafer_price_usd"] / dpw
    log_y = model_log(area, g["defect_density_per_cm2"])
    y = np.exp(log_y)  # in [0, 1]: log_y <= 0
    c = g["kgd_test_coverage"]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # p: share passing wafer test; q: share of those that are good (both <= 1:
        # the minimum clips rounding)
        if np.ndim(c) == 0 and c < 1:  # p >= 1 - c > 0: no underflow to fear
            p = np.minimum((1.0 - c) + c * y, 1.0)
            log_p = np.log(p)
            inv_p = 1.0 / p
        else:
            log_p = np.minimum(np.logaddexp(np.log1p(-c), np.log(c) + log_y), 0.0)
            inv_p = np.exp(-log_p)
        log_q = np.minimum(log_y - log_p, 0.0)
        cost_good_die = raw * np.exp(-log_y)

    ptype = g["package_type_code"]
    is_si = ptype == _INTERPOSER
    is_bridge = ptype == _BRIDGE
    footprint = n * area + h * g["hbm_footprint_mm2"]
    int_area = log_int = int_cost = 0.0
    if np.ndim(is_si) == 0 and is_si:  # one package type for every row
        int_area = g["interposer_area_factor"] * footprint
        int_cost = g["interposer_wafer_price_usd"] / gross(int_area)
        log_int = model_log(int_area, g["interposer_defect_density_per_cm2"])
    elif np.any(is_si):
        full = g["interposer_area_factor"] * footprint
        si_area = np.where(is_si, full, 1.0)  # 1.0: a placeholder where none
        int_area = np.where(is_si, full, 0.0)
        int_cost = np.where(is_si, g["interposer_wafer_price_usd"] / gross(si_area), 0)
        d0 = g["interposer_defect_density_per_cm2"]
        log_int = np.where(is_si, model_log(si_area, d0), 0.0)
    bridges = 0.0
    if np.any(is_bridge):
        d2d = np.where(n > 1, n * g["d2d_links_per_chiplet"] / 2.0, 0.0)
        bridges = np.where(is_bridge, d2d + h, 0.0)
    if np.ndim(is_si) == 0:
        carried = int_area if is_si else footprint
    else:
        carried = np.where(is_si, int_area, footprint)
    package = (
        g["substrate_area_factor"] * g["substrate_cost_usd_per_mm2"]
    ) * carried + (int_cost + bridges * g["bridge_cost_usd"] + g["assembly_cost_usd"])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pkg = n * log_q
        if np.ndim(log_pkg) > 1 and np.shape(log_pkg) != size:
            # a Monte Carlo's column: the sum below takes the draws' shape
            log_pkg = np.broadcast_to(log_pkg, size).copy()
        log_pkg += (n + h) * np.log(g["bonding_yield_per_die"])
        log_pkg += log_int
        log_pkg += _times(bridges, np.log(g["bridge_yield"]))
        inv_pkg = np.exp(-log_pkg)
        mul = mul_p = _times  # 0 x inf: nothing of an impossible package
        extra = inv_pkg - 1.0  # attempts beyond the first, per good package
        raw_dies = n * raw
        passing = raw_dies * inv_p  # silicon of the dies that pass wafer test
        defective = passing - raw_dies
        hbm = h * (g["hbm_capacity_gb_per_stack"] * g["hbm_price_usd_per_gb"])
        tests = mul_p(n * g["die_test_cost_usd"], inv_p) + g["package_test_cost_usd"]
        parts = {
            "cost_raw_dies_usd": raw_dies,
            "cost_defective_dies_usd": defective,
            "cost_package_usd": package,
            "cost_package_defects_usd": mul(package, extra),
            "cost_lost_good_dies_usd": mul(passing, extra),
            "cost_hbm_usd": mul(hbm, inv_pkg),
            "cost_test_usd": mul(tests, inv_pkg),
        }
        # parts near the float limit (extreme but valid inputs) sum to inf: an
        # impossible package, as where a yield is 0
        total = sum(parts.values())
    out = {  # exp of a log-yield <= 0 is in [0, 1]
        "dies_per_wafer": dpw,
        "die_yield": y,
        "raw_die_cost_usd": raw,
        "cost_per_good_die_usd": cost_good_die,
        "interposer_area_mm2": int_area,
        "interposer_yield": np.exp(log_int),
        "bridge_count": bridges,
        "package_yield": np.exp(log_pkg),
        **parts,
        "cost_per_good_package_usd": total,
    }
    if not size:  # every input a scalar: scalars out
        return {k: np.float64(v) for k, v in out.items()}
    return {k: _full(v, size) for k, v in out.items()}


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
    # Inputs fixed for every row may arrive as length-1 arrays (the exploration
    # passes its fixed parameters once); broadcast them, cheaply, to the rows.
    rows = max((np.size(v) for v in x.values() if np.ndim(v) == 1), default=1)
    x = {
        k: np.repeat(v, rows) if np.ndim(v) == 1 and np.size(v) == 1 else v
        for k, v in x.items()
    }
    n = x["num_chiplets"]
    area = chiplet_die_area_mm2(x)
    out = {"chiplet_die_area_mm2": np.asarray(area, dtype=np.float64)}
    pkg = package_cost(x, n, area, x["hbm_stacks"])
    out.update(pkg)
    out["good_dies_per_wafer"] = pkg["dies_per_wafer"] * pkg["die_yield"]
    nre = (_compact(x["mask_set_usd"]) + _compact(x["design_nre_usd"])) / _compact(
        x["volume_units"]
    )
    unit = pkg["cost_per_good_package_usd"] + nre
    out["nre_per_unit_usd"] = _full(nre, np.shape(unit))
    out["unit_cost_usd"] = unit
    out["usd_per_tflops"] = unit / target_peak
    for k, peak in peaks.items():
        out[f"usd_per_{k}_tflops"] = unit / peak

    chiplet = pkg["cost_per_good_package_usd"]
    if np.ndim(unit) > 1:  # a Monte Carlo's variants x draws
        out.update(_monolithic_draws(x, chiplet, np.shape(unit)))
    else:
        out.update(_monolithic(x, chiplet))
    return out


def _monolithic_draws(x: dict, chiplet_cost, shape: tuple) -> dict[str, np.ndarray]:
    """:func:`_monolithic` over rows of draws (``shape``: variants x draws),
    each value what the plain path gives the same row."""
    keys = (*_PACKAGE_INPUTS, "hbm_stacks", "num_chiplets", "chiplet_area_mm2")
    keys += ("reticle_limit_mm2",)
    shape = np.broadcast_shapes(shape, *(np.shape(x[k]) for k in keys))
    mono_area = np.asarray(x["num_chiplets"] * x["chiplet_area_mm2"], np.float64)
    if (mono_area <= x["reticle_limit_mm2"]).any():  # the plain path, row by row
        rows = {k: np.broadcast_to(x[k], shape).ravel() for k in keys}
        cost = np.broadcast_to(chiplet_cost, shape).ravel()
        return {k: v.reshape(shape) for k, v in _monolithic(rows, cost).items()}
    # no one die fits the reticle: n/a throughout, as the plain path has it
    none = np.full(shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "monolithic_area_mm2": np.broadcast_to(mono_area, shape),
            "monolithic_die_yield": none,
            "monolithic_cost_per_good_package_usd": none,
            "chiplet_saving_usd": none - chiplet_cost,
            "chiplet_cost_ratio": chiplet_cost / none,
        }


def _monolithic(x: dict, chiplet_cost) -> dict[str, np.ndarray]:
    """The monolithic equivalent's metrics, and its comparison with the
    chiplets' cost per good package ``chiplet_cost``."""
    out = {}
    n = x["num_chiplets"]
    mono_area = np.asarray(n * x["chiplet_area_mm2"], dtype=np.float64)
    fits = mono_area <= x["reticle_limit_mm2"]
    mono_cost = np.full(len(mono_area), np.nan)
    mono_yield = np.full(len(mono_area), np.nan)
    if fits.all():
        mono = package_cost(x, 1.0, mono_area, x["hbm_stacks"])
        mono_cost[:], mono_yield[:] = (
            mono["cost_per_good_package_usd"],
            mono["die_yield"],
        )
    elif fits.any():  # only the rows whose one die fits the reticle
        keep = np.flatnonzero(fits)
        sub = {k: _take(x[k], keep) for k in (*_PACKAGE_INPUTS, "hbm_stacks")}
        mono = package_cost(sub, 1.0, mono_area[keep], sub["hbm_stacks"])
        mono_cost[keep] = mono["cost_per_good_package_usd"]
        mono_yield[keep] = mono["die_yield"]
    out["monolithic_area_mm2"] = mono_area
    out["monolithic_die_yield"] = mono_yield
    out["monolithic_cost_per_good_package_usd"] = mono_cost
    with np.errstate(divide="ignore", invalid="ignore"):  # inf - inf: NaN
        out["chiplet_saving_usd"] = mono_cost - chiplet_cost
        out["chiplet_cost_ratio"] = chiplet_cost / mono_cost
    return out
