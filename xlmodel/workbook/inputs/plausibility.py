"""Warnings about read values that are valid but implausible.

Each parameter with a plausible range (from the schema) warns once per distinct
odd value, naming the first variant and how many more share it. The dense FP16
FLOP per clock per SM (tensor cores x FLOP per cycle) is compared with the
shipping chips of ``xlmodel/data/chips.csv``.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

import numpy as np

from ...engine.table import Table
from ...schema import PARAMETERS
from ..values import with_unit
from .context import Context
from .variants import VariantTable


def warn_implausible(ctx: Context, table: VariantTable, frame: Table) -> None:
    """Warn about values outside the plausible range of their parameter."""
    for p in PARAMETERS:
        if not p.plausible or not p.numeric:
            continue
        if p.section != "variant" and p.name not in table.cells:
            continue
        lo, hi = p.plausible
        col = np.asarray(frame[p.name], dtype=np.float64)
        odd: dict[float, list[int]] = {}
        for i, x in enumerate(col):
            if not lo <= x <= hi:
                odd.setdefault(float(x), []).append(i)
        for x, idx in odd.items():
            cells = table.cells.get(p.name)
            place = _place(table, cells, idx, p.name)
            ctx.warn(
                f"{place}: {with_unit(p, x)} is outside the plausible "
                f"{lo:g}-{hi:g} {p.unit}: {p.plausible_note}"
            )
    _fp16_per_sm(ctx, table, frame)


def _place(table: VariantTable, cells, idx: list[int], name: str) -> str:
    who = table.names[idx[0]]
    more = f" and {len(idx) - 1} more" if len(idx) > 1 else ""
    cell = f"!{cells[idx[0]]}" if cells else ""
    return f"{table.sheet}{cell} {name} ({who}{more})"


def _fp16_per_sm(ctx: Context, table: VariantTable, frame: Table) -> None:
    refs = reference_fp16_per_sm()
    if not refs:
        return
    lo_v, hi_v = min(v for _, v in refs), max(v for _, v in refs)
    lo_chips = "/".join(c for c, v in refs if v <= lo_v * 1.02)
    hi_chips = "/".join(c for c, v in refs if v >= hi_v * 0.98)
    tc = np.asarray(frame["tensor_cores_per_sm"], dtype=np.float64)
    ops = np.asarray(frame["fp16_ops_per_cycle"], dtype=np.float64)
    per_sm = tc * ops
    odd: dict[tuple[float, bool], list[int]] = {}
    for i, x in enumerate(per_sm):
        if x < lo_v / 2 or x > hi_v * 2:
            odd.setdefault((float(x), x < lo_v / 2), []).append(i)
    cells = table.cells.get("fp16_ops_per_cycle") or table.cells.get(
        "tensor_cores_per_sm"
    )
    for (x, low), idx in odd.items():
        i = idx[0]
        where = _place(table, cells, idx, "fp16_ops_per_cycle")
        side = (
            f"below half the smallest shipping part ({lo_chips}: {lo_v:,.0f})"
            if low
            else f"above twice the largest shipping part ({hi_chips}: {hi_v:,.0f})"
        )
        ctx.warn(
            f"{where}: {tc[i]:g} tensor cores x {ops[i]:g} FLOP/cycle = {x:,.0f} "
            f"dense FP16 FLOP per clock per SM is {side}; check "
            "tensor_cores_per_sm and fp16_ops_per_cycle (per tensor core)"
        )


@functools.lru_cache(maxsize=1)
def reference_fp16_per_sm() -> tuple[tuple[str, float], ...]:
    """Dense FP16 FLOP per clock per SM (or CU) of the reference chips in chips.csv.

    peak (FLOP/s) / (SMs x clock (Hz)) = fp16_dense_tflops x 1e12 /
    (sms_or_cus x clock_mhz x 1e6).
    """
    text = (resources.files("xlmodel") / "data" / "chips.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        try:
            tflops = float(row["fp16_dense_tflops"])
            sms = float(row["sms_or_cus"])
            mhz = float(row["clock_mhz"])
        except (KeyError, TypeError, ValueError):
            continue
        if sms > 0 and mhz > 0:
            out.append((row["chip"], tflops * 1e12 / (sms * mhz * 1e6)))
    return tuple(out)
