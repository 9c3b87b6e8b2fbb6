"""Where a result table may hold a non-finite cost, by definition (shared by tests).

The monolithic equivalent (and the saving and ratio against it) is n/a (NaN) where
one die of that silicon would exceed the reticle limit. A cost is +inf (and a
saving or ratio of two such costs NaN) only where die yield x package yield is
below 1e-290 (for the monolithic equivalent: its die yield squared x the package
yield), i.e. where the true cost exceeds the float range: a package nobody can
build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Below this product of yields a cost may exceed the float range.
TINY = 1e-290
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

    def column(name):
        v = table.get(name)
        return np.ones(len(table)) if v is None else v.to_numpy(dtype=float)

    beyond = area > limit
    package = column("package_yield")
    small = column("die_yield") * package < TINY
    mono_small = column("monolithic_die_yield") ** 2 * package < TINY
    mono = np.array([c in MONOLITHIC for c in numbers])
    cost = np.array(
        [c.startswith(("cost_", "usd_per_")) or c == "unit_cost_usd" for c in numbers]
    )
    ok |= (beyond | small | mono_small)[:, None] & mono[None, :]
    ok |= small[:, None] & cost[None, :]
    return ok
