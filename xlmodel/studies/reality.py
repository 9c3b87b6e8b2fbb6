"""Reality check: every variant beside reference silicon, under both power presets.

Pure tables (no I/O): peak and density as multiples of H100, FP16 FLOP per clock per
SM, power and TFLOPS/W under the workbook's coefficients (the seed preset by default)
and under the physical preset fitted on the references, bytes per FLOP, ridge point;
plus warnings where the two presets disagree and where a chiplet's area is below
what its content needs.
"""

from __future__ import annotations

import numpy as np

from ..engine import evaluate, prepare
from ..engine.area import NODE_AREA_SCALE, minimum_chiplet_area_mm2
from ..lazy import pd
from .reference import (
    fill_unknown_areas,
    node_class,
    to_variants,
    top_clocks,
    with_physical_preset,
)

YARDSTICK = "H100 SXM5"
# Presets disagreeing by more than this (relative) draw a warning.
PRESET_GAP = 0.25
# More warnings of one kind than this are summarised in one line.
MAX_LINES = 5

COLUMNS = (
    "kind",
    "peak_fp16_tflops",
    "density_fp16_tflops_per_mm2",
    "peak_x_h100",
    "density_x_h100",
    "fp16_flop_per_cycle_per_sm",
    "power_w",
    "power_physical_w",
    "published_tdp_w",
    "tflops_per_w",
    "tflops_per_w_physical",
    "bytes_per_flop",
    "ridge_fp16_flop_per_byte",
)


def reference_variants(references: pd.DataFrame, like: pd.Series) -> pd.DataFrame:
    """References as full parameter rows: chip parameters over ``like``'s
    coefficients and targets. An unpublished die area (``area_known`` False) takes
    the area model's typical area for the chip's content, as in the physical
    preset's fit, so its power density and Tj are those the fit saw."""
    chips = to_variants(references)
    known = chips["chiplet_area_mm2"].notna()
    rows = pd.DataFrame([like] * len(chips), index=chips.index)
    for c in chips.columns:
        rows[c] = chips[c]
    rows = fill_unknown_areas(rows)
    rows["area_known"] = known
    return rows


def check_references(references: pd.DataFrame, like: pd.Series):
    """Split ``references`` into chips the model can express and warnings for the rest.

    A chip whose derived parameters fall outside the schema's ranges (e.g. a clock
    of 50 MHz, fewer SMs than dies) is left out, with one warning line naming it.

    Returns
    -------
    (pandas.DataFrame, list of str)
    """
    rows = reference_variants(references, like).drop(columns="area_known")
    keep, warnings = [], []
    for chip in rows.index:
        try:
            prepare(rows.loc[[chip]])
            keep.append(chip)
        except ValueError as err:
            first = str(err).split("; expected")[0]
            warnings.append(
                f"References: {chip!s} cannot be expressed in the model's parameters "
                f"({first}); left out of the reality check"
            )
    return references.loc[keep], warnings


def reality_table(variants: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """Variants and references side by side (index: name; columns: ``COLUMNS``).

    Densities of references without a published die area are NaN; multiples of
    H100 are NaN when H100 is not among the references.
    """
    refs = reference_variants(references, variants.iloc[0])
    known = refs.pop("area_known").to_numpy()
    both = pd.concat([variants, refs[variants.columns]])
    kind = ["variant"] * len(variants) + ["reference"] * len(refs)
    seed = evaluate(both)
    # each reference on its die's voltage-frequency curve, as the fit has it
    top = np.concatenate([np.full(len(variants), np.nan), top_clocks(references)])
    phys = evaluate(with_physical_preset(both, top_clock_mhz=top))
    density = seed["density_fp16_tflops_per_mm2"].to_numpy().copy()
    density[len(variants) :][~known] = np.nan
    table = pd.DataFrame(
        {
            "kind": kind,
            "peak_fp16_tflops": seed["peak_fp16_tflops"].to_numpy(),
            "density_fp16_tflops_per_mm2": density,
            "fp16_flop_per_cycle_per_sm": seed["fp16_flop_per_cycle_per_sm"].to_numpy(),
            "power_w": seed["power_total_w"].to_numpy(),
            "power_physical_w": phys["power_total_w"].to_numpy(),
            "tflops_per_w": seed["peak_fp16_tflops"].to_numpy()
            / seed["power_total_w"].to_numpy(),
            "tflops_per_w_physical": phys["peak_fp16_tflops"].to_numpy()
            / phys["power_total_w"].to_numpy(),
            "bytes_per_flop": seed["hbm_bandwidth_gbps"].to_numpy()
            * 1e9
            / (seed["peak_fp16_tflops"].to_numpy() * 1e12),
            "ridge_fp16_flop_per_byte": seed["ridge_fp16_flop_per_byte"].to_numpy(),
        },
        index=both.index,
    )
    tdp = pd.to_numeric(references.get("tdp_w"), errors="coerce")
    table["published_tdp_w"] = np.concatenate(
        [np.full(len(variants), np.nan), np.asarray(tdp, float)]
    )
    if YARDSTICK in references.index:
        h = table.loc[YARDSTICK]
        table["peak_x_h100"] = table["peak_fp16_tflops"] / h["peak_fp16_tflops"]
        table["density_x_h100"] = (
            table["density_fp16_tflops_per_mm2"] / h["density_fp16_tflops_per_mm2"]
        )
    else:
        table["peak_x_h100"] = np.nan
        table["density_x_h100"] = np.nan
    return table[list(COLUMNS)]


def preset_warnings(table: pd.DataFrame) -> list[str]:
    """One line per variant whose workbook-coefficient power is far from the
    physical preset's (optimistic: lower than physical; pessimistic: higher)."""
    out, names = [], []
    v = table[table["kind"] == "variant"]
    gap = v["power_w"] / v["power_physical_w"] - 1
    for name, g in gap.items():
        if not np.isfinite(g) or not np.isfinite(v.at[name, "power_physical_w"]):
            names.append(name)
            which = (
                "the workbook's coefficients"
                if not np.isfinite(v.at[name, "power_w"])
                else "the physical preset"
            )
            out.append(
                f"{name}: thermal runaway with {which}: no junction temperature "
                "balances the leakage it causes (power and Tj are n/a)"
            )
        elif abs(g) > PRESET_GAP:
            names.append(name)
            word = "optimistic" if g < 0 else "pessimistic"
            out.append(
                f"{name}: power {v.at[name, 'power_w']:.0f} W with the workbook's "
                f"coefficients vs {v.at[name, 'power_physical_w']:.0f} W with the "
                f"physical preset fitted on shipping chips: the coefficients look "
                f"{word} by {abs(g) * 100:.0f} %"
            )
    return _summarised(out, names, "differ from the physical preset's power")


def _summarised(lines: list[str], names: list[str], what: str) -> list[str]:
    """The lines themselves when few; one line naming the first variants when many."""
    if len(lines) <= MAX_LINES:
        return lines
    shown = ", ".join(map(str, names[:MAX_LINES]))
    return [
        f"{len(lines)} variants {what} ({shown} and {len(lines) - MAX_LINES} "
        f"more); first: {lines[0]}"
    ]


def node_warnings(variants: pd.DataFrame) -> list[str]:
    """One line per process node label that names no size (nm or Å): the area
    check and the physical preset take it as a 5 nm-class node."""
    out = []
    labels = variants["process_node"].astype(str)
    for label in dict.fromkeys(labels):
        if node_class(label) is not None:
            continue
        names = [str(n) for n in variants.index[labels == label]]
        who = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
        out.append(
            f"process_node {label!r} ({who}) names no size in nm or Å: the area "
            "check and the physical power preset take it as a 5 nm-class node "
            f"(voltage and transistor density); put the size in its label, e.g. "
            f"'{label} 3nm'"
        )
    return out


def area_warnings(
    variants: pd.DataFrame, metrics: pd.DataFrame | None = None
) -> list[str]:
    """One line per variant whose chiplet area is below the coarse minimum for its
    SMs, tensor throughput, L2 and HBM PHYs (see xlmodel.engine.area).

    ``metrics`` is ``evaluate(variants)`` when the caller has it already.
    """
    r = evaluate(variants) if metrics is None else metrics
    nodes = [node_class(n) or "n5" for n in variants["process_node"]]
    scale = np.array([NODE_AREA_SCALE[n] for n in nodes])
    phys = variants["hbm_stacks"].to_numpy(float) / variants["num_chiplets"].to_numpy(
        float
    )
    minimum = minimum_chiplet_area_mm2(
        variants["sms_per_chiplet"].to_numpy(float),
        r["fp16_flop_per_cycle_per_sm"].to_numpy(),
        variants["l2_cache_mb"].to_numpy(float),
        phys,
        scale,
    )
    area = variants["chiplet_area_mm2"].to_numpy(float)
    out, names = [], []
    for name, a, m, n in zip(variants.index, area, minimum, nodes):
        if a < m:
            names.append(name)
            out.append(
                f"{name}: chiplet_area_mm2 {a:g} mm² is below the {m:.0f} mm² a "
                f"{n.upper()}-class die needs for its SMs, L2 and HBM PHYs (half of "
                "what shipping parts use): check the area or the per-SM throughput"
            )
    return _summarised(out, names, "have a chiplet area below the plausible minimum")
