"""What the commands print: warnings, progress lines, and the console summaries."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import click

from ..labels import short_labels
from ..schema import ops_unit

#: Widest variant name in a console table, in characters (longer ones are cut
#: to a unique label, as on the charts).
NAME_CHARS = 24
_UNITS = {"explore": "points", "sobol": "model runs", "uncertainty": "draws"}
_TITLES = {
    "explore": "exploring",
    "sobol": "Sobol indices",
    "uncertainty": "Monte Carlo",
}


class Progress:
    """Progress lines on stderr for a stage that runs longer than ``after`` seconds.

    Called as ``progress(stage, done, total)``; prints at most one line per
    ``every`` seconds, or per tenth of the time spent so far when that is longer
    (a long run prints a few dozen lines, not one a second), and a last line when
    a stage that printed ends. Two stages may run at once (the Monte Carlo runs
    beside the exploration) and report from two threads: each keeps its own
    clock and its own lines.
    """

    def __init__(self, after: float = 1.0, every: float = 1.0, clock=time.monotonic):
        self.after, self.every, self.clock = after, every, clock
        self.last = clock()  # the last report of any stage
        self._stages: dict[str, _Stage] = {}
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            now = self.clock()
            s = self._stages.get(stage)
            if s is None:  # from its report of none done, or the last of any stage
                s = self._stages[stage] = _Stage(now if done == 0 else self.last)
            self.last = now
            spent = now - s.start
            finished = done >= total
            if finished:  # a stage run again starts afresh
                del self._stages[stage]
            gap = max(self.every, 0.1 * spent)
            due = spent > self.after and (not s.printed or now - s.shown >= gap)
            if not (due or (finished and s.printed)):
                return
            s.printed, s.shown = True, now
            rate = done / spent if spent > 0 else math.inf
            unit = _UNITS.get(stage, "")
            line = (
                f"{_TITLES.get(stage, stage)}: {done:,} / {total:,} {unit} "
                f"({100 * done / max(total, 1):.0f} %), {rate:,.0f} {unit}/s"
            )
            if not finished and rate > 0:
                line += f", about {(total - done) / rate:,.0f} s left"
            elif finished:
                line += f", {spent:,.1f} s"
            click.echo(line, err=True)


@dataclass
class _Stage:
    start: float
    shown: float = 0.0
    printed: bool = False


def format_exploration(results, limit: int = 10) -> str:
    """The exploration in a few lines: counts, binding constraints, best designs."""
    ex = results.exploration
    if ex is None:
        return ""
    setup = results.study.exploration
    prob = ex.problem
    share = ex.feasible / max(ex.points, 1)
    lines = [
        f"exploration around {setup.base_variant}: {ex.points:,} points "
        f"({prob.method}), {ex.feasible:,} feasible ({share:.1%}), Pareto front of "
        f"{ex.front_size:,} design(s), {ex.seconds:.2f} s "
        f"({ex.points / max(ex.seconds, 1e-9):,.0f} points/s)"
    ]
    if line := setup.limits_line():
        lines.append(f"  {line}")
    for _, c in ex.constraints.iterrows():
        lines.append(
            f"  {c['constraint']}: violated by {c['violated_share']:.1%} of points, "
            f"{c['alone'] / max(ex.points, 1):.1%} by it alone; "
            f"{c['active_on_front']} front design(s) at the limit"
        )
    front = ex.designs[ex.designs["on_front"]]
    names = prob.names
    objs = [o.quantity for o in prob.objectives]
    if len(front):
        lines.append(f"  front, best first (first {min(limit, len(front))}):")
        for d, row in front.head(limit).iterrows():
            params = ", ".join(f"{n} {row[n]:g}" for n in names)
            goals = ", ".join(f"{q} {row[q]:.4g}" for q in objs)
            lines.append(f"  design {d}: {goals} | {params}")
        lines.append(
            "  copy one into Variants: xlmodel adopt FILE --design N [--name NAME]"
        )
    else:
        lines.append("  no feasible design: relax a constraint or widen the ranges")
    return "\n".join(lines)


def format_uncertainty(results) -> str:
    """P10/P50/P90 of power, density and unit cost P50 (n/a when not among the
    outputs) and the probabilities of meeting the targets."""
    u = results.uncertainty
    if u is None:
        return ""
    s = u.summary
    cost = "unit_cost_usd" in u.spec.quantities
    lines = [
        f"uncertainty ({u.spec.samples:,} draws per variant, seed {u.spec.seed}):",
        f"  {'variant':<24} {'power P10/P50/P90 W':>21} {'density P50':>11} "
        + (f"{'unit cost P50 USD':>17} " if cost else "")
        + f"{'P(budget)':>9} {'P(all)':>7}",
    ]
    if line := u.spec.limits_line():
        lines.insert(1, f"  {line}")

    def num(r, key: str, width: int, spec: str) -> str:
        v = r.get(key)
        return f"{'n/a':>{width}}" if v is None else f"{v:>{width}{spec}}"

    shown = s.head(20)
    labels = short_labels([str(n) for n in shown.index], NAME_CHARS)
    for name, r in shown.iterrows():
        lines.append(
            f"  {labels[str(name)]:<24} {num(r, 'power_total_w_p10', 6, '.0f')} "
            f"{num(r, 'power_total_w_p50', 6, '.0f')} "
            f"{num(r, 'power_total_w_p90', 7, '.0f')} "
            f"{num(r, 'target_density_tflops_per_mm2_p50', 11, '.3f')} "
            + (f"{num(r, 'unit_cost_usd_p50', 17, ',.0f')} " if cost else "")
            + f"{r['p_meets_power_budget']:>9.1%} {r['p_meets_all_targets']:>7.1%}"
        )
    if len(s) > 20:
        lines.append(f"  ... and {len(s) - 20} more (see the Uncertainty sheet)")
    return "\n".join(lines)


def format_studies(results) -> str:
    """The exploration and uncertainty summaries, when the study had them."""
    parts = [format_exploration(results), format_uncertainty(results)]
    return "\n\n".join(p for p in parts if p)


def warn(warnings) -> None:
    """One ``warning:`` line per warning, on stderr."""
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


def format_fit(fit, priors, source) -> str:
    """The fitted coefficients beside their priors and plausible ranges, the fixed
    public figures, and the per-chip errors against published TDP."""
    from ..schema import DEFAULTS
    from ..studies.calibrate import FIXED, NODE_VOLTAGE

    k = fit.coefficients
    lines = [
        f"physical power preset fitted on {len(fit.per_chip)} chips ({source})",
        "",
        f"  {'coefficient':<20} {'fitted':>9}  {'unit':<8} {'prior':<16} "
        f"{'plausible':<13} ",
    ]
    for name, row in priors.iterrows():
        inside = row["low"] <= k[name] <= row["high"]
        prior = f"{row['mean']:g} +/- {row['sd']:g}"
        plausible = f"{row['low']:g}-{row['high']:g}"
        lines.append(
            f"  {name:<20} {k[name]:>9.4g}  {row['unit']:<8} {prior:<16} "
            f"{plausible:<13} {'in range' if inside else 'OUTSIDE'}"
        )
    volts = ", ".join(
        f"{n.upper()} {v:.2f} V (floor {f:.2f})" for n, (v, f) in NODE_VOLTAGE.items()
    )
    lines += [
        "",
        "  fixed public figures (not fitted):",
        f"    leakage x exp({FIXED['leakage_temp_coeff_per_c']:g} /°C x (Tj - "
        f"{FIXED['leakage_ref_temp_c']:g} °C)); junction-to-case "
        f"{FIXED['junction_to_case_k_mm2_per_w']:g} K·mm²/W x hotspot "
        f"{DEFAULTS['hotspot_factor']:g}",
        f"    air {DEFAULTS['air_inlet_c']:g} °C inlet, "
        f"{DEFAULTS['air_case_to_coolant_c_per_w']:g} °C/W; liquid "
        f"{DEFAULTS['liquid_inlet_c']:g} °C, "
        f"{DEFAULTS['liquid_case_to_coolant_c_per_w']:g} °C/W; UCIe "
        f"{FIXED['d2d_energy_pj_per_bit']:g} pJ/bit per hop, remote share "
        f"{FIXED['d2d_remote_share']:g}",
        f"    voltage at the top of a die's curve (top MHz; a variant's at 1.8 GHz): "
        f"{volts}",
        "",
        f"{'chip':<18} {'TDP W':>7} {'rule':<8} {'top MHz':>7} {'GEMM MHz':>8} "
        f"{'weight':>6} "
        f"{'model W':>8} {'error':>7} {'leave-one-out':>14} {'Tj °C':>6} "
        f"{'leak W':>7} {'clock at TDP':>12}",
    ]
    per = fit.per_chip

    def finite(r, key):
        v = r.get(key, math.nan)
        return v if isinstance(v, (int, float)) and math.isfinite(v) else None

    for chip, r in per.iterrows():
        loo = finite(r, "loo_error_percent")
        loo_text = f"{loo:>+13.1f}%" if loo is not None else f"{'n/a':>14}"
        clock = finite(r, "sustained_clock_mhz")
        clock_text = f"{clock:>8.0f} MHz" if clock is not None else f"{'':>12}"
        quoted = finite(r, "quoted_clock_mhz")
        if clock is None and quoted is not None and r.get("rule") != "draw":
            # the model draws less than the TDP even at the quoted clock
            clock_text = f"{'> ' + format(quoted, '.0f'):>8} MHz"
        gemm = finite(r, "dense_clock_mhz")
        gemm_text = f"{gemm:>8.0f}" if gemm is not None else f"{'':>8}"
        rule = r.get("rule", r.get("tdp_kind", "draw"))
        top = finite(r, "top_clock_mhz")
        top_text = f"{top:>7.0f}" if top is not None else f"{'':>7}"
        lines.append(
            f"{str(chip)[:18]:<18} {r['tdp_w']:>7.0f} {rule:<8} {top_text} {gemm_text} "
            f"{r.get('fit_weight', 1.0):>6.2f} {r['predicted_w']:>8.0f} "
            f"{r['error_percent']:>+6.1f}% {loo_text} "
            f"{r['junction_temp_c']:>6.1f} {r['leakage_w']:>7.0f} {clock_text}"
        )
    key = "rule" if "rule" in per else "tdp_kind" if "tdp_kind" in per else None
    rules = list(per[key]) if key else ["draw"] * len(per)
    n_limit, n_measured = rules.count("limit"), rules.count("measured")
    draws = len(per) - n_limit
    lines += [
        "",
        f"median absolute error {fit.median_abs_error_percent:.1f} %, "
        f"leave-one-out {fit.loo_median_abs_error_percent:.1f} % "
        f"({len(per)} chips)",
    ]
    if n_limit or n_measured:
        lines.append(
            f"over the {draws} boards whose TDP is a draw"
            + (f" ({n_measured} at a measured clock)" if n_measured else "")
            + f": {fit.draw_median_abs_error_percent:.1f} %, leave-one-out "
            f"{fit.draw_loo_median_abs_error_percent:.1f} %"
        )
    if n_measured:
        lines.append(
            "measured: the TDP is the draw at the clock measured under dense "
            "tensor GEMM at that TDP (GEMM MHz, chips.csv dense_clock_mhz); the "
            "model is evaluated there, and 'clock at TDP' is the clock at which "
            "the model itself draws the TDP ('> quoted': not even at the quoted "
            "clock)."
        )
    if n_limit:
        lines.append(
            "limit: the same compute at the same clock ships at a higher TDP, so "
            "this board throttles; the fit asks only that its power at the quoted "
            "clock be at least its TDP, and 'clock at TDP' is the clock the model "
            "gives it there."
        )
    lines.append(
        "TDP is a board power limit, not a measurement: errors are reported, "
        "not tuned away."
    )
    return "\n".join(lines)


def format_serving_check(predicted, source) -> str:
    """The serving model's error on each measurement, per chip and model, and in
    all (``predicted``: :func:`xlmodel.studies.inference_calibration.predict`)."""
    from ..studies.inference_calibration import FIT_CHIP, summary

    t = predicted
    err = t["error_percent"]
    fits = t["fits"].astype(bool)
    lines = [
        f"serving model on {len(t)} measurement(s) ({source}), its shipped "
        f"coefficients (fitted on {FIT_CHIP} only; nothing refitted)",
        "",
        f"  {'chip':24} {'model':18} {'prec':>4} {'tp':>3} {'in':>6} {'out':>6} "
        f"{'measured':>10} {'model':>10} {'error':>8}  decode bound by",
    ]
    for r in t.itertuples():
        model = f"{r.predicted_output_tokens_per_s:10,.0f}" if r.fits else "  no fit"
        e = f"{r.error_percent:+7.1f}%" if r.fits else "     n/a"
        lines.append(
            f"  {str(r.chip)[:24]:24} {str(r.model)[:18]:18} "
            f"{str(r.precision).upper():>4} "
            f"{int(r.tp):>3} {int(r.input_tokens):>6} {int(r.output_tokens):>6} "
            f"{r.measured_output_tokens_per_s:10,.0f} {model} {e}  "
            f"{r.decode_bound if r.fits else ''}"
        )
    groups = summary(t[fits]) if fits.any() else None
    lines.append("")
    if groups is not None:
        lines.append(
            f"  {'chip':24} {'model':18} {'rows':>5} {'median |error|':>15} "
            f"{'median error':>13}"
        )
        for (chip, model), g in groups.iterrows():
            lines.append(
                f"  {str(chip)[:24]:24} {str(model)[:18]:18} "
                f"{int(g['measurements']):>5} "
                f"{g['median_abs_error_percent']:14.1f}% "
                f"{g['median_error_percent']:+12.1f}%"
            )
        lines.append("")
    if (~fits).any():
        lines.append(
            f"{int((~fits).sum())} measurement(s) the model says cannot be served "
            "(the model does not fit at that tp, or a phase never ends): no error "
            "is given for them."
        )
    if fits.any():
        lines.append(
            f"median absolute error {err[fits].abs().median():.1f} %, median error "
            f"{err[fits].median():+.1f} % over {int(fits.sum())} measurement(s). "
            "Positive: the model is optimistic (more tokens/s than measured); "
            "negative: pessimistic."
        )
    return "\n".join(lines)


def format_serving_refit(fit, source) -> str:
    """A refit of the serving coefficients (``fit``:
    :func:`xlmodel.studies.inference_calibration.refit`): each coefficient
    shipped and refitted, and the error on rows the refit did not see beside
    the shipped coefficients' on the same rows."""
    from ..schema import BY_NAME, DEFAULTS
    from ..studies.inference_calibration import FIT_CHIP, FITTED

    held = len(fit.held_out)
    how = {
        "holdout": f"judged on the {held} row(s) whose use is holdout, never fitted on",
        "by pair": f"judged by {fit.folds}-fold cross-validation by chip and "
        "model: each row predicted by a refit that saw no row of its chip and "
        "model",
    }.get(
        fit.method,
        f"judged by {fit.folds}-fold cross-validation: each row predicted by a "
        "refit on the other folds",
    )
    lines = [
        f"serving model refitted on {fit.fit_rows} measurement(s) of {source}; {how}",
        "",
        f"  {'coefficient':34} {'unit':>5} {'shipped':>9} {'refit':>9}  range",
    ]
    for name, (low, high) in FITTED.items():
        unit = {"0-1": "share"}.get(BY_NAME[name].unit, BY_NAME[name].unit)
        value = fit.coefficients[name]
        if name in fit.kept:
            shown, note = (
                f"{'kept':>9}",
                f"  kept at the shipped value: {fit.kept[name]}",
            )
        else:
            shown = f"{value:9.4g}"
            edge = min(value - low, high - value) <= 1e-3 * (high - low)
            note = "  at a bound of its range: the data push it there" if edge else ""
        lines.append(
            f"  {name:34} {unit:>5} {DEFAULTS[name]:9.4g} {shown}  "
            f"{low:g}-{high:g}{note}"
        )
    lines += [
        "",
        f"median absolute error on the {fit.fit_rows} fit row(s): "
        f"{fit.fit_median_abs_error_percent:.1f} % (in-sample: what the refit was "
        "chosen for)",
        f"median absolute error on rows the refit did not see: refit "
        f"{fit.held_out_median_abs_error_percent:.1f} %, shipped coefficients "
        f"(fitted on {FIT_CHIP}) {fit.shipped_median_abs_error_percent:.1f} % "
        f"({held} row(s); a row the model cannot serve counts as -90 %)",
    ]
    gain = fit.shipped_median_abs_error_percent - fit.held_out_median_abs_error_percent
    if gain > 0.1:
        lines.append(
            "The refit predicts rows it did not see better than the shipped "
            "coefficients: to use it, type the refit values on the Coefficients "
            "sheet (every variant) or as rows on Variants (one variant)."
        )
    elif gain < -0.1:
        lines.append(
            "The refit predicts rows it did not see worse than the shipped "
            "coefficients: keep the shipped ones, or measure more scenarios."
        )
    else:
        lines.append(
            "The refit predicts rows it did not see as well as the shipped "
            "coefficients (within 0.1 point): nothing to change."
        )
    lines.append(
        "The refit holds for the software and chips measured; other stacks reach "
        "other shares of their peaks."
    )
    return "\n".join(lines)


def format_comparison(results, limit: int = 20) -> str:
    """The seed's console table: one line per variant, then the recommendation."""
    t = results.comparison.table
    prec = results.study.targets["target_precision"]
    ops = ops_unit(prec)
    head = (
        f"{'variant':<24} {prec + ' ' + ops:>12} {ops + '/mm²':>11} "
        f"{'power W':>8} {ops + '/W':>9} {'Tj °C':>6}  targets"
    )
    lines = [head, "-" * len(head)]
    shown = t.head(limit)
    labels = short_labels([str(n) for n in shown.index], NAME_CHARS)
    for name, r in shown.iterrows():
        ok = "".join(
            [
                "D" if r["meets_density_target"] else "-",
                "P" if r["meets_power_budget"] else "-",
                "T" if r["meets_tj_max"] else "-",
            ]
        )
        lines.append(
            f"{labels[str(name)]:<24} {r['target_peak_tflops']:>12.1f} "
            f"{r['target_density_tflops_per_mm2']:>11.3f} {r['power_total_w']:>8.0f} "
            f"{r['tflops_per_w']:>9.3f} {r['junction_temp_c']:>6.1f}  {ok}"
        )
    if len(t) > limit:
        lines.append(f"... and {len(t) - limit} more (see the Summary sheet)")
    lines.append("targets: D density, P power budget, T junction temperature")
    advice = results.advice
    if advice is not None:
        lines.append("")
        lines.extend(advice.lines)
        lines.extend(advice.reach_lines)
    lines.append("")
    lines.append("The seed's statements (facts, not the recommendation):")
    lines.extend(f"  {m}" for m in results.comparison.messages)
    return "\n".join(lines)
