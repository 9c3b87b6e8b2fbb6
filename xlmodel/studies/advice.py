"""The Summary's advice: the recommendation, what it would take, how sure it is.

:func:`advise` scores and ranks every variant (:mod:`.scores`): among those that
meet every target the best by the figure of merit chosen on Targets is
recommended; when none does, none is, and the variants are ranked by normalised
shortfall, the first being the closest. For the recommended or closest variant it
searches the smallest one-parameter change meeting each target it misses, over
the parameters of the sensitivity setup (:mod:`.reach`), and the exploration's
front design nearest to it that meets every target; it gathers the confidence in
the figures (:mod:`.confidence`). Every sentence of the advice is built from
these numbers and the reference chips; the seed's own statements (best within
budget, the density target) are kept beside it as facts. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..engine import evaluate
from ..lazy import pd
from ..schema import BY_NAME, FIGURES_OF_MERIT, ops_param_of, ops_unit
from . import reality
from .confidence import Confidence, confidence
from .reach import (
    EVERY_TARGET,
    NO_EFFECT,
    NOT_REACHABLE,
    closest_front_design,
    what_it_would_take,
)
from .scores import (
    FIGURES,
    SCORE_LABELS,
    SHORTFALL_DEFINITION,
    TARGET_CHECKS,
    FigureOfMerit,
    judge,
    score_table,
    workload_shares,
)

#: Most parameters named per target in the advice text (the table has them all).
NAMED_CHANGES = 4


@dataclass
class Advice:
    """The recommendation and what stands behind it.

    Attributes
    ----------
    figure : FigureOfMerit
    shares : dict of str to float
        Each workload's share of run time.
    scores : pandas.DataFrame
        :func:`xlmodel.studies.scores.judge` of every variant (index = variant).
    recommended : str or None
        Best by the figure of merit among the variants meeting every target.
    closest : str or None
        When none meets every target: the smallest total shortfall.
    reach : pandas.DataFrame
        What it would take (:func:`xlmodel.studies.reach.what_it_would_take`) for
        the recommended or closest variant; empty when it misses nothing.
    front : dict or None
        The exploration's front design closest to that variant meeting every
        target (:func:`xlmodel.studies.reach.closest_front_design`).
    confidence : xlmodel.studies.confidence.Confidence
    merit : tuple of (str, str) or None
        (model, scenario) of the serving figures of merit; None without a
        serving study.
    lines : list of str
        The recommendation in words; the first is the banner.
    reach_lines : list of str
        What it would take, in words.
    facts : list of str
        The seed's statements (best within budget, the density target).
    """

    figure: FigureOfMerit
    shares: dict[str, float]
    scores: pd.DataFrame
    recommended: str | None
    closest: str | None
    reach: pd.DataFrame
    front: dict | None
    confidence: Confidence
    merit: tuple[str, str] | None = None
    lines: list[str] = field(default_factory=list)
    reach_lines: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str | None:
        """The variant the advice is about: the recommended one, else the closest."""
        return self.recommended if self.recommended is not None else self.closest

    def tables(self) -> dict[str, pd.DataFrame]:
        """The advice's tables by file-friendly name, for CSV export."""
        return {
            "recommendation": self.scores.reset_index(names="variant"),
            "what_it_would_take": self.reach,
        }


def figure_of(targets: Mapping) -> FigureOfMerit:
    """The figure of merit the Targets name (default: the schema's first)."""
    return FIGURES[str(targets.get("figure_of_merit", FIGURES_OF_MERIT[0]))]


def in_ops(text: str, precision) -> str:
    """``text`` with TFLOPS read as TOPS at an integer precision (INT8)."""
    return text.replace("TFLOPS", ops_unit(precision))


def serving_scores(merit: pd.DataFrame | None):
    """``f(variants, metrics)`` adding ``tokens_per_s`` and ``tokens_per_s_per_usd``
    (of the figure-of-merit model and scenario; 0 where the model does not fit
    or never finishes a phase: that variant cannot serve it) from ``merit``: rows of the inference table
    indexed by variant (``Results.serving_merit``)."""

    def scores(variants, metrics) -> dict[str, np.ndarray]:
        rows = merit.reindex(metrics.index)
        fits = rows["fits"].fillna(False).to_numpy(dtype=bool)
        # served only when it fits and both phases end (no zero-bandwidth link)
        ends = np.isfinite(rows[["ttft_s", "tpot_s"]].to_numpy(float)).all(axis=1)
        fits = fits & ends
        out = {}
        for name, col in (
            ("tokens_per_s", "output_tokens_per_s"),
            ("tokens_per_s_per_usd", "output_tokens_per_s_per_usd"),
        ):
            out[name] = np.where(fits, rows[col].to_numpy(dtype=np.float64), 0.0)
        return out

    return scores


def search_parameters(study) -> list[str]:
    """The sensitivity setup's parameters: the sweeps', then the tornado's (a
    target itself is left out: moving it is not a design change)."""
    names = [*study.sweeps, *study.tornado_parameters]
    return [
        n
        for n in dict.fromkeys(names)
        if n in BY_NAME and BY_NAME[n].numeric and BY_NAME[n].section != "target"
    ]


def advise(
    study,
    metrics: pd.DataFrame,
    applied: pd.DataFrame,
    facts: list[str],
    real: pd.DataFrame | None = None,
    exploration=None,
    serving: pd.DataFrame | None = None,
) -> Advice:
    """The advice on ``study``'s variants.

    Parameters
    ----------
    study : xlmodel.studies.run.Study
    metrics : pandas.DataFrame
        ``evaluate`` of ``applied`` (100 % utilisation).
    applied : pandas.DataFrame
        ``study.variants`` with each variant's power preset applied.
    facts : list of str
        The seed's statements (:func:`xlmodel.studies.standard.compare`).
    real : pandas.DataFrame, optional
        The reality check (its physical-preset power is reused).
    exploration : xlmodel.studies.explore.Exploration, optional
    serving : pandas.DataFrame, optional
        The inference rows of the figure-of-merit model and scenario, one per
        variant (``Results.serving_merit``); required by a serving figure.

    Raises
    ------
    ValueError
        A serving figure of merit (tokens_per_s...) without a serving study.
    """
    raw = study.variants
    shares = workload_shares(study.workloads, study.workload_weights)
    figure = figure_of(study.targets)
    if figure.serving and serving is None:
        raise ValueError(
            f"figure_of_merit {figure.name} ranks by LLM serving, but the study "
            "serves no models (Models and Serving setup): choose another figure "
            "or add models and scenarios"
        )
    extras = () if serving is None else (serving_scores(serving),)
    table = score_table(applied, metrics, study.workloads, shares, extras)
    scores = judge(table, raw, figure)
    first = scores.index[int(np.argmin(scores["rank"].to_numpy()))]
    meets = bool(scores.loc[first, "meets_all"])
    recommended, closest = (first, None) if meets else (None, first)
    missed = [c for c in TARGET_CHECKS if not scores.loc[first, f"met_{c.name}"]]
    reach = what_it_would_take(
        raw.loc[first], missed, search_parameters(study), study.workloads, shares
    )
    front = None
    if exploration is not None and study.exploration is not None:
        base = raw.loc[study.exploration.base_variant]
        front = closest_front_design(
            exploration, base, raw.loc[first], study.workloads, shares
        )
        front["base"] = study.exploration.base_variant
    conf = confidence(raw, study.workloads, shares, real)
    merit = None
    if serving is not None and study.serving is not None:
        merit = study.serving.merit
    advice = Advice(
        figure,
        shares,
        scores,
        recommended,
        closest,
        reach,
        front,
        conf,
        merit=merit,
        facts=facts,
    )
    # at an integer precision the sheets count TOPS (1e12 op/s), the words too
    prec = study.targets.get("target_precision", "")
    advice.lines = [in_ops(x, prec) for x in recommendation_lines(advice, raw)]
    advice.reach_lines = [
        in_ops(x, prec) for x in reach_lines(advice, raw, study.references)
    ]
    return advice


# --- in words ---------------------------------------------------------------------


def fmt(x: float) -> str:
    """A figure in words: 4 significant digits, thousands separated."""
    if not np.isfinite(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def misses(scores: pd.DataFrame, name, variants: pd.DataFrame) -> list[str]:
    """Each target ``name`` misses: ``density 0.8192 TFLOPS/mm² vs ...``."""
    out = []
    row = scores.loc[name]
    for c in TARGET_CHECKS:
        if row[f"met_{c.name}"]:
            continue
        limit = float(variants.loc[name, c.limit])
        pct = 100 * row[f"shortfall_{c.name}"]
        what = SCORE_LABELS.get(c.quantity, c.quantity)
        word = "short" if c.op == ">=" else "over"
        out.append(
            f"{what} {fmt(row[c.quantity])} {c.unit} vs {c.label} {limit:g} "
            f"({pct:.0f} % {word})"
        )
    return out


def tied(advice: Advice) -> list:
    """The variants meeting every target whose figure of merit equals the
    recommended one's, it first; empty without a recommendation. More than
    one: the figure does not choose, column order does."""
    best = advice.recommended
    if best is None:
        return []
    s = advice.scores.sort_values("rank")
    meeting = s[s["meets_all"]]
    value = meeting["figure_of_merit"]
    return [n for n in meeting.index if value[n] == value[best]]


def recommendation_lines(advice: Advice, variants: pd.DataFrame) -> list[str]:
    """The banner, then why, or the ranking, in words."""
    s, f = advice.scores, advice.figure
    ranked = s.sort_values("rank")
    meeting = ranked[ranked["meets_all"]]
    value = ranked["figure_of_merit"]
    label, unit, rule = figure_words(advice, variants)
    if advice.recommended is not None:
        best = advice.recommended
        equal = tied(advice)
        banner = f"Recommended variant: {best}"
        if len(meeting) == 1:
            why = "the only variant that meets every target"
        elif f.serving and len(equal) == len(meeting) and value[best] == 0:
            # the merit model served by none of them: nothing to rank by
            banner += ", by column order only: the figure of merit ties at 0"
            why = (
                f"meets every target, as {len(meeting) - 1} other(s) do, and the "
                f"figure of merit cannot rank them: none of the {len(meeting)} "
                f"serves the merit model ({label} is 0: it does not fit, or a "
                "phase never ends; Inference sheet), so it comes first by column "
                "order only. Serve the model on more packages (tp on Serving "
                "setup), or choose another merit_model or figure_of_merit"
            )
        elif len(equal) > 1:
            others = ", ".join(str(n) for n in equal if n != best)
            banner += ", by column order among equals"
            why = (
                f"meets every target and ties with {others} on {label} "
                f"({fmt(value[best])} {unit}); it comes first by column order"
            )
        else:
            runner = meeting.index[1]
            why = (
                f"meets every target and has the {f.best} {label} of the "
                f"{len(meeting)} that do: {fmt(value[best])} {unit} (next: "
                f"{runner}, {fmt(value[runner])} {unit})"
            )
        lines = [banner, f"{best}: {why}. {rule}"]
        caveat = _caveat(advice, best)
        if caveat:
            lines[1] += " " + caveat
        rest = ranked[~ranked["meets_all"]]
        if len(rest):
            lines.append(
                "Not meeting every target: "
                + "; ".join(
                    f"{n} ({', '.join(misses(s, n, variants))})" for n in rest.index[:6]
                )
                + (f"; and {len(rest) - 6} more" if len(rest) > 6 else "")
                + "."
            )
        return lines
    close = advice.closest
    lines = [
        "No variant meets every target: none is recommended.",
        f"Closest: {close}, shortfall {s.loc[close, 'shortfall']:.3g} ("
        + "; ".join(misses(s, close, variants))
        + ").",
    ]
    others = ranked.index[1:]
    ranking = ""
    if len(others):
        ranking = (
            "Then, by shortfall: "
            + "; ".join(
                f"{k}. {n} {s.loc[n, 'shortfall']:.3g}"
                for k, n in enumerate(others[:9], start=2)
            )
            + (f"; and {len(others) - 9} more" if len(others) > 9 else "")
            + ". "
        )
    lines.append(ranking + SHORTFALL_DEFINITION)
    lines.append(rule + " It ranks the variants once at least one meets every target.")
    return lines


def figure_words(advice: Advice, variants: pd.DataFrame) -> tuple[str, str, str]:
    """(label, unit, rule line) of the figure of merit, TOPS at INT8, the serving
    figures naming their model and scenario."""
    f = advice.figure
    prec = variants["target_precision"].iloc[0] if len(variants) else ""
    label, unit = in_ops(f.label, prec), in_ops(f.unit, prec)
    definition = in_ops(f.definition, prec)
    if f.serving and advice.merit is not None:
        model, scenario = advice.merit
        label += f" of {model} in {scenario}"
        definition += (
            f"; model {model}, scenario {scenario} (Targets merit_model and "
            "merit_scenario)"
        )
    rule = f"Figure of merit (Targets figure_of_merit): {label}, {definition}."
    return label, unit, rule


def _caveat(advice: Advice, name) -> str:
    """A warning when the figure of merit rests on inputs flagged implausible."""
    if advice.figure.column not in advice.confidence.marked(name):
        return ""
    flagged = ", ".join(advice.confidence.flagged(name))
    return (
        f"Caution: its {advice.figure.label} is computed from inputs flagged "
        f"implausible ({flagged}); see How sure below."
    )


def _change_text(r) -> str:
    unit = f" {r.unit}" if r.unit else ""
    text = f"{r.parameter} {fmt(r.value)}{unit} (now {fmt(r.now)}"
    if np.isfinite(r.change_percent):
        text += f", {r.change_percent:+.0f} %"
    text += ")"
    if r.outside_plausible:
        lo, hi = BY_NAME[r.parameter].plausible
        text += f", outside the plausible {lo:g}-{hi:g}"
    if r.others_missed and r.target != EVERY_TARGET:
        text += f", but then misses the {r.others_missed.replace('; ', ' and the ')}"
    return text


def reach_lines(
    advice: Advice, variants: pd.DataFrame, references: pd.DataFrame
) -> list[str]:
    """What it would take for the subject variant, in words."""
    name = advice.subject
    s = advice.scores.loc[name]
    lines: list[str] = []
    if advice.recommended is not None:
        margins = []
        for c in TARGET_CHECKS:
            limit = float(variants.loc[name, c.limit])
            v = float(s[c.quantity])
            what = SCORE_LABELS.get(c.quantity, c.quantity)
            margins.append(f"{what} {fmt(v)} {c.unit} vs {c.label} {limit:g}")
        lines.append(
            f"{name} meets every target, nothing to change; margins: "
            + "; ".join(margins)
            + "."
        )
    table = advice.reach
    for target in dict.fromkeys(table["target"]):
        rows = table[table["target"] == target]
        ok = rows[rows["reachable"]]
        goal = "every target at once" if target == EVERY_TARGET else f"the {target}"
        if target != EVERY_TARGET:
            c = next(c for c in TARGET_CHECKS if c.label == target)
            limit = float(variants.loc[name, c.limit])
            goal += f" ({c.op} {limit:g} {c.unit}; now {fmt(s[c.quantity])})"
        if len(ok):
            shown = [_change_text(r) for r in ok.head(NAMED_CHANGES).itertuples()]
            line = f"To meet {goal}, {name} would need one of: " + "; ".join(shown)
            if len(ok) > NAMED_CHANGES:
                line += f"; or {len(ok) - NAMED_CHANGES} more (table below)"
        else:
            line = (
                f"No single change of the Sensitivity setup's parameters meets {goal}"
            )
        dead = rows[rows["status"] == NOT_REACHABLE]["parameter"].tolist()
        idle = rows[rows["status"] == NO_EFFECT]["parameter"].tolist()
        if dead and len(ok):
            line += f". Not reachable within the valid range: {', '.join(dead)}"
        if idle:
            if target == EVERY_TARGET:
                what = "any target"
            else:
                what = SCORE_LABELS.get(c.quantity, c.quantity)
            line += (
                f". No effect on {what} within their valid ranges: {', '.join(idle)}"
            )
            line += _rate_hint(idle, list(rows["parameter"]), variants.loc[name])
        lines.append(line + ".")
        if target != EVERY_TARGET:
            ref = _reference_line(c, name, s, variants, references)
            if ref:
                lines.append(ref)
    if advice.front is not None:
        lines.append(_front_line(advice.front, name))
    return lines


def _rate_hint(idle: list[str], searched: list[str], row: pd.Series) -> str:
    """Where an idle parameter is another precision's tensor rate: the rate the
    target precision counts, to add on Sensitivity setup (when it is not
    among the ``searched``)."""
    precision = str(row.get("target_precision", "")).upper()
    own = ops_param_of(precision)
    rates = [n for n in idle if n.endswith("_ops_per_cycle") and n != own]
    if not rates or own is None or own in searched:
        return ""
    return (
        f" (the target precision {precision} counts {own}: list it on "
        "Sensitivity setup to search it)"
    )


def _reference_scores(references: pd.DataFrame, like: pd.Series):
    """The reference chips' metrics at the variants' targets; area known or not."""
    if references is None or not len(references):
        return None, None
    try:
        refs = reality.reference_variants(references, like)
        known = refs.pop("area_known").to_numpy()
        m = evaluate(refs)
    except ValueError:  # a chip the model cannot express
        return None, None
    return m, known


def _reference_line(check, name, s, variants, references) -> str:
    m, known = _reference_scores(references, variants.loc[name])
    if m is None:
        return ""
    prec = variants.loc[name, "target_precision"]
    if check.name == "density" and known.any():
        d = m["target_density_tflops_per_mm2"].where(known)
        chip = d.idxmax()
        top = float(d.max())
        limit = float(variants.loc[name, check.limit])
        return (
            f"For scale: the densest reference chip with a published die area, "
            f"{chip}, has {fmt(top)} TFLOPS/mm² {prec}; the target is "
            f"{limit / top:.2g}x that; {name} has {fmt(s[check.quantity])} "
            f"({s[check.quantity] / top:.2g}x)."
        )
    if check.name == "power":
        tdp = pd.to_numeric(references.get("tdp_w"), errors="coerce")
        per_w = (m["target_peak_tflops"] / tdp.reindex(m.index)).dropna()
        if per_w.empty:
            return ""
        chip = per_w.idxmax()
        return (
            f"For scale: the most efficient reference chip, {chip}, gives "
            f"{fmt(per_w.max())} {prec} TFLOPS per published TDP watt "
            f"({fmt(tdp[chip])} W); {name} gives {fmt(s['tflops_per_w'])} at "
            f"{fmt(s['power_w'])} W."
        )
    return ""


def _front_line(front: dict, name) -> str:
    if front["design"] is None:
        if not front["front"]:
            return "Exploration: no feasible design, so no front to compare with."
        best = "; ".join(
            f"{SCORE_LABELS[c.quantity]} {'up' if c.op == '>=' else 'down'} to "
            f"{fmt(front['best'][c.name])} {c.unit}"
            for c in TARGET_CHECKS
        )
        return (
            f"Exploration: none of the {front['front']} designs on the Pareto front "
            f"meets every target (on the front: {best})."
        )
    changes = ", ".join(
        f"{p} {fmt(new)} (now {fmt(old)})" for p, (old, new) in front["changes"].items()
    )
    base = front["base"]
    other = "" if base == name else f"; its other parameters are {base}'s"
    return (
        f"Exploration: design {front['design']} on the Pareto front meets every "
        f"target and is the nearest to {name}: {changes or 'the same values'} "
        f"(explored around {base}{other}); copy it into Variants with xlmodel adopt "
        f"FILE --design {front['design']}."
    )
