"""The Run sheet: what produced these result sheets.

The version, the input file and its hash, the time, the targets and study
settings, whether the coefficients are the seed's, which result sheets of the
previous run this compute replaced and which copies of result sheets it kept as
the user's; then every coefficient and
target as used (one value, or "varies by variant" with the range), the roofline
workloads and every warning.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import __version__
from ...schema import COEFFICIENTS, TARGETS
from .context import Context
from .formats import GENERAL, HEAD_FILL, TABLE_BORDER
from .sheet import Col, ResultSheet, Sheet

_PARAMETER_COLUMNS = [
    Col("parameter", "Parameter", "text"),
    Col("unit", "Unit", "text"),
    Col("value", "Value used", GENERAL),
    Col("min", "Min over variants", GENERAL),
    Col("max", "Max over variants", GENERAL),
    Col("default", "Seed default", GENERAL),
    Col("description", "Description", "text", wrap=True),
]


def write(ctx: Context, sh: Sheet) -> None:
    """Items, parameters, workloads, warnings, one block below the other."""
    study = ctx.results.study
    v = study.variants
    sh.title(0, "Run information", "What produced these result sheets.")
    row = _items_table(ctx, sh, _items(ctx))
    for heading, params in (("Coefficients", COEFFICIENTS), ("Targets", TARGETS)):
        sh.heading(row, 0, heading)
        ft = _parameter_rows(v, params)
        t = sh.table(row + 1, 0, ft, _PARAMETER_COLUMNS, cap_width=70)
        row = t.last_row + 2

    sh.heading(row, 0, "Roofline workloads")
    wl = pd.DataFrame(
        {
            "name": list(study.workloads),
            "ai": [float(a) for a in study.workloads.values()],
        }
    )
    t = sh.table(
        row + 1,
        0,
        wl,
        [
            Col("name", "Workload", "text"),
            Col("ai", "Arithmetic intensity (FLOP/byte)", GENERAL),
        ],
    )
    _warnings(ctx, sh, t.last_row + 2)
    # Descriptions wrap in a fixed width.
    sh.widths[6] = 60


SHEET = ResultSheet("Run", write)


def _preset(v: pd.DataFrame) -> str:
    """Whether the coefficients are the seed's, naming those that differ."""
    differs = []
    for prm in COEFFICIENTS:
        if prm.name in v and (v[prm.name].astype(str) != str(prm.default)).any():
            if prm.numeric:
                vals = v[prm.name].astype(float)
                if np.allclose(vals, float(prm.default)):
                    continue
            differs.append(prm.name)
    if not differs:
        return "seed defaults"
    return (
        f"custom: {len(differs)} coefficient(s) differ from the seed ("
        + ", ".join(differs)
        + ")"
    )


def _items(ctx: Context) -> list[tuple[str, object]]:
    """(item, value) of the run: provenance, targets and study settings."""
    study = ctx.results.study
    info = ctx.info
    v = study.variants
    preset = _preset(v)
    return [
        ("xlmodel version", str(info.get("version") or __version__)),
        ("Input file", str(info.get("input_file") or "")),
        ("Input SHA-256", str(info.get("input_sha256") or "")),
        ("Time", str(info.get("time") or "")),
        ("Variants", len(v)),
        ("Target precision", ctx.precision),
        (
            f"Density target ({ctx.ops}/mm²)",
            _limit(ctx, "density_target_tflops_per_mm2", ctx.density_target),
        ),
        ("Power budget (W)", _limit(ctx, "power_budget_w", ctx.budget)),
        ("Tj max (°C)", _limit(ctx, "tj_max_c", ctx.tj_max)),
        ("Sweep base", str(study.sweep_base)),
        ("Tornado swing (± %)", float(study.tornado_percent)),
        ("Power table utilisations", ", ".join(f"{u:.0%}" for u in study.utilizations)),
        ("Scaling chiplet counts", ", ".join(str(c) for c in study.scaling_counts)),
        ("HBM stacks per chiplet (scaling)", float(study.hbm_stacks_per_chiplet)),
        ("Coefficient preset", preset),
        ("Result sheets replaced", _sheet_list(info.get("replaced"), "none")),
        (
            "Kept as yours",
            _sheet_list(info.get("kept_copies"), "none")
            + (
                " (copies or renames of result sheets: xlmodel never changes them)"
                if info.get("kept_copies")
                else ""
            ),
        ),
        (
            "Your formulas reading results",
            _sheet_list(info.get("readers"), "none")
            + (
                ": Excel recalculates them on opening (the workbook asks it to); "
                "in LibreOffice press Ctrl+Shift+F9 (Data > Calculate > Recalculate "
                "Hard) unless Tools > Options > LibreOffice Calc > Formula > "
                "Recalculation on file load is set to Always"
                if info.get("readers")
                else ""
            ),
        ),
    ]


def _sheet_list(names, empty: str) -> str:
    """Sheet names for the Run sheet, in workbook order, or ``empty``."""
    names = [str(n) for n in (names or [])]
    return ", ".join(names) if names else empty


def _items_table(ctx: Context, sh: Sheet, items: list[tuple[str, object]]) -> int:
    """Item and value (merged over six columns) per row; returns the next row."""
    hf = ctx.fmt(bold=True, bg_color=HEAD_FILL, bottom=1, valign="bottom")
    sh.ws.write_string(3, 0, "Item", hf)
    sh.ws.merge_range(3, 1, 3, 6, "Value", hf)
    border = TABLE_BORDER
    for i, (key, val) in enumerate(items):
        r = 4 + i
        sh.ws.write_string(r, 0, key, ctx.fmt(**border))
        f = ctx.fmt(align="left", **border)
        sh.ws.merge_range(r, 1, r, 6, "", f)
        sh.value(r, 1, val, GENERAL, align="left", **border)
    sh.fit(0, max(len(k) for k, _ in items) + 2)
    sh.page(3, freeze_col=0)
    return 4 + len(items) + 1


def _parameter_rows(v: pd.DataFrame, params) -> pd.DataFrame:
    """Each parameter as used: its one value, or "varies by variant" and the range."""
    rows = []
    for prm in params:
        if prm.name not in v:
            continue
        col = v[prm.name]
        if prm.numeric:
            vals = col.astype(float).to_numpy()
            same = bool(np.all(vals == vals[0])) if len(vals) else True
            rows.append(
                {
                    "parameter": prm.name,
                    "unit": prm.unit,
                    "value": float(vals[0]) if same else "varies by variant",
                    "min": float(vals.min()) if len(vals) else math.nan,
                    "max": float(vals.max()) if len(vals) else math.nan,
                    "default": float(prm.default),
                    "description": prm.description,
                }
            )
        else:
            uniq = list(dict.fromkeys(str(x) for x in col))
            rows.append(
                {
                    "parameter": prm.name,
                    "unit": "" if prm.unit == "text" else prm.unit,
                    "value": uniq[0] if len(uniq) == 1 else "varies by variant",
                    "min": ", ".join(uniq) if len(uniq) > 1 else "",
                    "max": "",
                    "default": str(prm.default),
                    "description": prm.description,
                }
            )
    return pd.DataFrame(rows)


def _warnings(ctx: Context, sh: Sheet, row: int) -> None:
    """Every warning: those of the read and those of the study, once each."""
    info_warnings = ctx.info.get("warnings") or []
    warnings = list(dict.fromkeys([*info_warnings, *ctx.results.study.warnings]))
    sh.heading(row, 0, f"Warnings ({len(warnings)})")
    row += 1
    if not warnings:
        sh.note(row, 0, "None.", 1)
    for w in warnings:
        sh.note(row, 0, str(w), 7)
        row += 1


def _limit(ctx: Context, name: str, value: float) -> float | str:
    """A target: its number, or its range in words when it differs per variant."""
    spread = ctx.results.study.target_spread(name)
    if spread is None:
        return value
    return f"{spread[0]:g}-{spread[1]:g} (per variant)"
