"""Limits of the studies that follow Targets: a blank limit cell takes the target.

The Exploration setup's constraints and the Uncertainty setup's target limits
name a quantity; when their limit cell is blank they take the Targets value
(:data:`TARGET_LIMITS`), and a number typed there overrides it. :class:`LimitSource`
records which, so the result sheets can say so in one line (:func:`limits_line`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

#: Constraint quantities whose blank limit takes a Targets value:
#: quantity -> (operator, target parameter).
TARGET_LIMITS: dict[str, tuple[str, str]] = {
    "target_density_tflops_per_mm2": (">=", "density_target_tflops_per_mm2"),
    "power_total_w": ("<=", "power_budget_w"),
    "junction_temp_c": ("<=", "tj_max_c"),
}


@dataclass(frozen=True)
class LimitSource:
    """Where one limit of a study came from: the Targets sheet or a typed cell.

    Attributes
    ----------
    label : str
        What is limited, e.g. ``power_total_w <= 500 W``.
    target : str
        The target parameter the limit follows or overrides ("" for none).
    target_value : float
        That target's value (nan when there is none).
    typed : bool
        True: typed on the setup sheet; False: taken from Targets (cell blank).
    limit : float
        The limit used.
    """

    label: str
    target: str
    target_value: float
    typed: bool
    limit: float


def limits_line(sources: tuple[LimitSource, ...], sheet: str) -> str:
    """One line: which limits follow Targets, which were typed, what they override."""
    follow = [s.label for s in sources if not s.typed]
    parts = []
    if follow:
        parts.append(", ".join(follow) + " from Targets (limit cells left blank)")
    for s in sources:
        if not s.typed:
            continue
        if s.target and math.isfinite(s.target_value) and s.target_value != s.limit:
            parts.append(
                f"{s.label} typed on {sheet}, overriding the Targets "
                f"{s.target} {s.target_value:g}"
            )
        elif s.target:
            parts.append(f"{s.label} typed on {sheet} (the Targets value too)")
        else:
            parts.append(f"{s.label} typed on {sheet}")
    return "Limits: " + "; ".join(parts) + "." if parts else ""


def target_limit(
    quantity: str, op: str, targets: Mapping[str, float]
) -> tuple[str, float] | None:
    """(target parameter, value) a blank limit of ``quantity op`` takes, or None."""
    known = TARGET_LIMITS.get(quantity)
    if known is None or known[0] != op or known[1] not in targets:
        return None
    return known[1], float(targets[known[1]])
