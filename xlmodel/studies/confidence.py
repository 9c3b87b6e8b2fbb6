"""How far the headline figures can be trusted: implausible inputs, power presets.

* :func:`flagged_inputs`: the values outside their parameter's plausible range
  (the schema's ``plausible``) and the dense FP16 FLOP per clock per SM far from
  every shipping part, per variant (the rules of the reader's plausibility
  warnings).
* :func:`affected`: which Summary results each input moves, found with the engine
  (the input nudged, every score compared), so a flag says what it undermines.
* :func:`annotate`: each warning line with the results it affects appended.
* :class:`Confidence`: the flags with what they affect, the power model (preset)
  each variant used and its power under the other preset. No I/O here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import evaluate
from ..lazy import pd
from ..schema import BY_NAME, PARAMETERS
from .reference import load_chips, node_class, with_physical_preset
from .scores import SCORE_LABELS, TARGET_CHECKS, evaluate_scores

#: Dense FP16 FLOP per clock per SM below 1/F of the smallest shipping part, or
#: above F times the largest, is implausible (as the reader's warning says).
FP16_PER_SM_FACTOR = 2.0
#: Relative nudge of an input when tracing what it affects.
NUDGE = 0.01
_SHEET_RESULTS = {
    "Workloads": "the Roofline sheet and the workload-mix throughput",
    "Scaling setup": "the Scaling sheet",
    "Sensitivity setup": "the Sensitivity sheet and the what-it-would-take search",
    "Exploration setup": "the Exploration sheet",
    "Uncertainty setup": "the Uncertainty sheet",
    "References": "the Reality check sheet and the reference figures of the advice",
}
_NAMES = sorted((p.name for p in PARAMETERS), key=len, reverse=True)
_NAME_RE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(_NAMES) + r")(?![A-Za-z0-9_])")


@functools.lru_cache(maxsize=1)
def reference_fp16_per_sm() -> tuple[float, float]:
    """(smallest, largest) dense FP16 FLOP per clock per SM of the shipped chips."""
    c = load_chips()
    per_sm = c["fp16_dense_tflops"] * 1e12 / (c["sms_or_cus"] * c["clock_mhz"] * 1e6)
    return float(per_sm.min()), float(per_sm.max())


def fp16_per_sm_odd(per_sm, lo: float, hi: float):
    """True where FP16 FLOP per clock per SM is implausible against [lo, hi]."""
    x = np.asarray(per_sm, dtype=np.float64)
    return (x < lo / FP16_PER_SM_FACTOR) | (x > hi * FP16_PER_SM_FACTOR)


def flagged_inputs(variants: pd.DataFrame) -> pd.DataFrame:
    """Inputs flagged implausible: one row per (variant, parameter).

    Columns ``variant``, ``parameter``, ``value``, ``why``. Every parameter with a
    plausible range is checked at every variant; the FP16 FLOP per clock per SM
    (tensor cores x FP16 ops per cycle) is flagged on ``fp16_ops_per_cycle``.
    """
    rows = []
    for p in PARAMETERS:
        if not p.plausible or not p.numeric or p.name not in variants:
            continue
        lo, hi = p.plausible
        col = variants[p.name].to_numpy(dtype=np.float64)
        for name, x in zip(variants.index, col):
            if not lo <= x <= hi:
                why = f"outside the plausible {lo:g}-{hi:g} {p.unit}"
                rows.append((name, p.name, float(x), why))
    lo, hi = reference_fp16_per_sm()
    per_sm = variants["tensor_cores_per_sm"].to_numpy(np.float64) * variants[
        "fp16_ops_per_cycle"
    ].to_numpy(np.float64)
    for name, x, odd in zip(variants.index, per_sm, fp16_per_sm_odd(per_sm, lo, hi)):
        if odd:
            value = float(variants.loc[name, "fp16_ops_per_cycle"])
            why = (
                f"{x:,.0f} FP16 FLOP per clock per SM, beyond "
                f"{FP16_PER_SM_FACTOR:g}x of shipping parts ({lo:,.0f}-{hi:,.0f})"
            )
            rows.append((name, "fp16_ops_per_cycle", value, why))
    return pd.DataFrame(rows, columns=["variant", "parameter", "value", "why"])


def _nudged(name: str, x) -> list:
    """Values of parameter ``name`` near ``x``: 1 % (or one unit) away for a
    number, every other choice for a choice, another node class for a label."""
    p = BY_NAME[name]
    if p.kind == "choice":
        return [c for c in p.choices if c != x]
    if p.kind == "text":
        return ["TSMC 3nm" if node_class(x) != "n3" else "TSMC 7nm"]
    x = float(x)
    step = (
        1.0 if p.kind == "int" else (abs(x) * NUDGE or NUDGE * (p.maximum - p.minimum))
    )
    up = x + step
    return [up if up <= p.maximum else x - step]


def affected(
    variants: pd.DataFrame,
    pairs: Sequence[tuple[object, str]],
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
) -> list[list[str]]:
    """Per (variant, parameter) pair: the score columns the parameter moves there.

    The parameter is nudged at that variant (1 %, one unit for a count, the next
    choice, another node class for a label) and every score re-evaluated under
    the variant's power preset; a column whose value changes is affected. A
    numeric target affects its target's verdict (``met_<check>``), the figure of
    merit the ranking (``rank``).
    """
    if not pairs:
        return []
    base = evaluate_scores(variants, workloads, shares)
    cols = list(SCORE_LABELS)
    traced = [(v, n) for v, n in pairs if not _verdict_only(n)]
    changed = np.zeros((len(traced), len(cols)), dtype=bool)
    owner, names, values = [], [], []
    for i, (v, n) in enumerate(traced):
        for x in _nudged(n, variants.at[v, n]):
            owner.append(i)
            names.append(n)
            values.append(x)
    if owner:
        owner = np.asarray(owner)
        pos = variants.index.get_indexer([traced[i][0] for i in owner])
        rows = variants.iloc[pos].reset_index(drop=True)
        names = np.asarray(names, dtype=object)
        for n in dict.fromkeys(names):
            sel = np.flatnonzero(names == n)
            numeric = BY_NAME[n].numeric
            col = rows[n].to_numpy(dtype=np.float64 if numeric else object).copy()
            col[sel] = [values[j] for j in sel]
            rows[n] = col
        moved = evaluate_scores(rows, workloads, shares)[cols].to_numpy(np.float64)
        before = base[cols].to_numpy(np.float64)[pos]
        with np.errstate(invalid="ignore"):
            diff = ~np.isclose(before, moved, rtol=1e-9, atol=0, equal_nan=True)
        np.logical_or.at(changed, owner, diff)
    out, k = [], 0
    for _, n in pairs:
        if n == "figure_of_merit":
            out.append(["rank"])
        elif _verdict_only(n):
            checks = [c for c in TARGET_CHECKS if c.limit == n]
            out.append([f"met_{c.name}" for c in checks] or ["rank"])
        else:
            out.append([c for c, ch in zip(cols, changed[k]) if ch])
            k += 1
    return out


def _verdict_only(name: str) -> bool:
    """A numeric target (or the figure of merit): it moves verdicts, no figure."""
    p = BY_NAME[name]
    return name == "figure_of_merit" or (p.section == "target" and p.numeric)


def labels(columns: Sequence[str]) -> str:
    """Score columns in words: ``power, TFLOPS/W and Tj``."""
    names = []
    for c in columns:
        if c.startswith("met_"):
            check = next(t for t in TARGET_CHECKS if t.name == c[4:])
            names.append(f"the {check.label} verdict")
        elif c == "rank":
            names.append("the ranking and the recommendation")
        else:
            names.append(SCORE_LABELS.get(c, c))
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def preset_columns(variants, workloads, shares) -> list[str]:
    """Score columns that differ between the two power presets at any variant."""
    a = evaluate_scores(variants.assign(power_preset="seed"), workloads, shares)
    b = evaluate_scores(variants.assign(power_preset="physical"), workloads, shares)
    cols = list(SCORE_LABELS)
    changed = ~np.isclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-9)
    return [c for c, ch in zip(cols, changed.any(axis=0)) if ch]


def annotate(
    warnings: Sequence[str],
    variants: pd.DataFrame,
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
) -> list[str]:
    """Each warning with ``(affects: ...)`` appended: the results it undermines.

    A warning naming parameters affects what those parameters move at any
    variant (:func:`affected`); one comparing the power presets affects what the
    presets change; one about a setup sheet, that sheet's results.
    """
    named = [list(dict.fromkeys(_NAME_RE.findall(w))) for w in warnings]
    params = sorted({n for ns in named for n in ns})
    pairs = [(v, n) for n in params for v in variants.index]
    hit = affected(variants, pairs, workloads, shares)
    by_param: dict[str, dict[str, None]] = {}
    for (_, n), cols in zip(pairs, hit):
        by_param.setdefault(n, {}).update(dict.fromkeys(cols))
    preset = None
    out = []
    for w, ns in zip(warnings, named):
        if "physical preset" in w:
            preset = (
                preset_columns(variants, workloads, shares)
                if preset is None
                else preset
            )
            what = labels(preset)
        elif w.startswith("References"):
            what = _SHEET_RESULTS["References"]
        elif w.startswith("process_node "):  # a label that names no size
            what = (
                "the chiplet area check, and under the physical preset power, "
                "TFLOPS/W and Tj"
            )
        elif w.startswith("Exploration setup!"):  # a range's cell: that sheet's
            what = _SHEET_RESULTS["Exploration setup"]
        elif ns:
            cols = [c for n in ns for c in by_param.get(n, {})]
            what = labels(cols) if cols else "no result (no metric uses it here)"
        else:
            sheet = next((s for s in _SHEET_RESULTS if w.startswith(s)), None)
            what = _SHEET_RESULTS.get(sheet, "the results of the rows it names")
        out.append(f"{w} (affects: {what})")
    return out


@dataclass
class Confidence:
    """The flags and power presets behind the Summary's figures.

    Attributes
    ----------
    flags : pandas.DataFrame
        :func:`flagged_inputs` plus ``affects`` (list of score columns).
    presets : pandas.Series
        Power preset each variant used (``seed`` or ``physical``).
    other_power_w : pandas.Series
        Each variant's power (100 %) under the other preset.
    """

    flags: pd.DataFrame
    presets: pd.Series
    other_power_w: pd.Series

    def __post_init__(self):
        self._by_variant: dict = {}
        for r in self.flags.itertuples():
            self._by_variant.setdefault(r.variant, []).append(r)

    def flagged(self, variant) -> list[str]:
        """Parameters of ``variant`` flagged implausible."""
        return list(
            dict.fromkeys(r.parameter for r in self._by_variant.get(variant, []))
        )

    def marked(self, variant) -> list[str]:
        """Score columns of ``variant`` computed from inputs flagged implausible."""
        rows = self._by_variant.get(variant, [])
        return list(dict.fromkeys(c for r in rows for c in r.affects))


def other_preset_power(
    variants: pd.DataFrame, reality: pd.DataFrame | None = None
) -> pd.Series:
    """Each variant's power at 100 % under the preset it did not use.

    Seed-preset variants: the physical preset's power (the reality check's
    ``power_physical_w`` when given, rows in variant order); physical-preset
    variants: the workbook's own coefficients.
    """
    n = len(variants)
    if reality is not None:
        physical = reality["power_physical_w"].to_numpy(dtype=np.float64)[:n]
    else:
        physical = evaluate(with_physical_preset(variants))["power_total_w"].to_numpy()
    own = evaluate(variants)["power_total_w"].to_numpy()
    uses_physical = (variants["power_preset"] == "physical").to_numpy()
    return pd.Series(np.where(uses_physical, own, physical), index=variants.index)


def confidence(
    variants: pd.DataFrame,
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
    reality: pd.DataFrame | None = None,
) -> Confidence:
    """The flags with what they affect, the presets and the other preset's power."""
    flags = flagged_inputs(variants)
    pairs = list(zip(flags["variant"], flags["parameter"]))
    flags["affects"] = affected(variants, pairs, workloads, shares)
    presets = variants["power_preset"].astype(str)
    return Confidence(flags, presets, other_preset_power(variants, reality))
