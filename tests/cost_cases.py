"""Where a result table may hold a non-finite cost, by definition (shared by tests).

The monolithic equivalent (and the saving and ratio against it) is n/a (NaN) where
one die of that silicon would exceed the reticle limit. A cost is +inf (and a
saving or ratio of two such costs NaN) only where a yield is below float range
(under 1e-300): a package nobody can build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONOLITHIC = (
    "monolithic_die_yield",
    "monolithic_cost_per_good_package_usd",
    "chiplet_saving_usd",
    "chiplet_cost_ratio",
)


def cost_cases(
    table: pd.DataFrame, numbers: pd.DataFrame, variants: pd.DataFrame
) -> np.ndarray:
    """Boolean mask over ``numbers`` (the numeric columns of ``table``) of the
    cells allowed to be non-finite; ``variants`` gives each variant's reticle
    limit (rows are matched by a ``variant`` column or the index)."""
    ok = np.zeros(numbers.shape, dtype=bool)
    area = table.get("monolithic_area_mm2", table.get("total_silicon_mm2"))
    if area is None:
        return ok
    names = table["variant"] if "variant" in table else pd.Series(table.index)
    limit = names.map(variants["reticle_limit_mm2"]).to_numpy(dtype=float)
    area = np.asarray(area, dtype=float)

    def tiny(column):
        v = table.get(column)
        return np.zeros(len(table), bool) if v is None else v.to_numpy() < 1e-300

    beyond = area > limit
    small = tiny("die_yield") | tiny("package_yield")
    mono = np.array([c in MONOLITHIC for c in numbers])
    cost = np.array(
        [c.startswith(("cost_", "usd_per_")) or c == "unit_cost_usd" for c in numbers]
    )
    ok |= (beyond | small | tiny("monolithic_die_yield"))[:, None] & mono[None, :]
    ok |= small[:, None] & cost[None, :]
    return ok
