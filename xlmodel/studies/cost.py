"""The cost study: what each variant costs, and what the same silicon would cost cut
into other chiplet counts or left as one die.

Two tables for the Cost sheet, both from the vectorised engine (formulas and sources
in :mod:`xlmodel.engine.cost`); no I/O here. Money in USD, areas in mm², yields 0-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.cost import COST_COMPONENTS
from ..engine.inputs import prepare
from ..engine.model import evaluate, evaluate_arrays
from ..lazy import pd
from ..schema import BY_NAME, SEED_SCALING_COUNTS

#: Columns of :attr:`CostTables.breakdown` after its ``variant`` index, in order.
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    "process_node",
    "package_type",
    "num_chiplets",
    "chiplet_die_area_mm2",
    "hbm_stacks",
    "wafer_price_usd",
    "defect_density_per_cm2",
    "dies_per_wafer",
    "die_yield",
    "cost_per_good_die_usd",
    "interposer_yield",
    "package_yield",
    *COST_COMPONENTS,
    "cost_per_good_package_usd",
    "nre_per_unit_usd",
    "unit_cost_usd",
    "target_peak_tflops",
    "usd_per_tflops",
    "monolithic_area_mm2",
    "monolithic_die_yield",
    "monolithic_cost_per_good_package_usd",
    "chiplet_saving_usd",
    "chiplet_cost_ratio",
)

#: Columns of :attr:`CostTables.versus_chiplets`, in order.
VERSUS_COLUMNS: tuple[str, ...] = (
    "variant",
    "num_chiplets",
    "total_silicon_mm2",
    "chiplet_area_mm2",
    "chiplet_die_area_mm2",
    "die_yield",
    "package_yield",
    "cost_per_good_die_usd",
    *COST_COMPONENTS,
    "cost_per_good_package_usd",
    "monolithic_cost_per_good_package_usd",
    "chiplet_saving_usd",
    "chiplet_cost_ratio",
    "within_reticle",
)


@dataclass
class CostTables:
    """What the Cost sheet shows.

    Attributes
    ----------
    breakdown : pandas.DataFrame
        One row per variant (index ``variant``), columns ``BREAKDOWN_COLUMNS``: the
        variant's node and package, its die (area, dies per wafer, yield, cost per
        good die), the package yield, the seven components of the cost per good
        package (a stacked bar each; they sum to ``cost_per_good_package_usd``),
        NRE per unit, unit cost, USD per target-precision TFLOPS and the monolithic
        equivalent (NaN beyond the reticle limit) with the chiplet saving.
    versus_chiplets : pandas.DataFrame
        One row per (variant, chiplet count), columns ``VERSUS_COLUMNS``: the
        variant's total silicon (chiplets x chiplet area) cut into ``num_chiplets``
        equal chiplets (plus the D2D PHY area each), everything else as the
        variant has it (HBM stacks, node, package); the cost per good package and
        its components, beside the monolithic equivalent (the same for every count
        of a variant, NaN beyond the reticle limit); ``within_reticle`` is True
        where one chiplet die fits the reticle limit.
    """

    breakdown: pd.DataFrame
    versus_chiplets: pd.DataFrame


def cost_breakdown(
    variants: pd.DataFrame, metrics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The breakdown table of :class:`CostTables` (``metrics``: ``evaluate(variants)``,
    computed when not given)."""
    if metrics is None:
        metrics = evaluate(variants)
    x = prepare(variants)
    table = pd.DataFrame(index=pd.Index(variants.index, name="variant"))
    for c in BREAKDOWN_COLUMNS:
        table[c] = metrics[c].to_numpy() if c in metrics else x[c]
    table["num_chiplets"] = table["num_chiplets"].astype(np.int64)
    table["hbm_stacks"] = table["hbm_stacks"].astype(np.int64)
    return table


def cost_versus_chiplets(
    variants: pd.DataFrame, counts: Sequence[int] = SEED_SCALING_COUNTS
) -> pd.DataFrame:
    """The versus-chiplets table of :class:`CostTables` (one engine pass).

    Raises
    ------
    ValueError
        A count outside the valid chiplet range.
    """
    counts = np.asarray(list(counts), dtype=np.float64)
    p = BY_NAME["num_chiplets"]
    if not (
        np.isfinite(counts).all()
        and (counts == np.round(counts)).all()
        and ((counts >= p.minimum) & (counts <= p.maximum)).all()
    ):
        raise ValueError(
            f"chiplet counts {counts.tolist()!r}: expected whole numbers "
            f"{p.minimum:g}-{p.maximum:g}"
        )
    x0 = prepare(variants)
    v, c = len(variants), len(counts)
    x = {k: np.repeat(a, c) for k, a in x0.items()}
    silicon = x["num_chiplets"] * x["chiplet_area_mm2"]
    x["num_chiplets"] = np.tile(counts, v)
    x["chiplet_area_mm2"] = silicon / x["num_chiplets"]
    out = evaluate_arrays(x, 1.0)
    table = pd.DataFrame(
        {
            "variant": np.repeat(np.asarray(variants.index), c),
            "num_chiplets": x["num_chiplets"].astype(np.int64),
            "total_silicon_mm2": silicon,
            "chiplet_area_mm2": x["chiplet_area_mm2"],
        }
    )
    for col in VERSUS_COLUMNS[4:-1]:
        table[col] = out[col]
    table["within_reticle"] = out["chiplet_die_area_mm2"] <= x["reticle_limit_mm2"]
    return table


def cost_study(
    variants: pd.DataFrame,
    counts: Sequence[int] = SEED_SCALING_COUNTS,
    metrics: pd.DataFrame | None = None,
) -> CostTables:
    """Both tables of the Cost sheet for checked, node-filled ``variants``
    (see :func:`xlmodel.engine.nodes.fill_process_nodes`)."""
    return CostTables(
        cost_breakdown(variants, metrics), cost_versus_chiplets(variants, counts)
    )
