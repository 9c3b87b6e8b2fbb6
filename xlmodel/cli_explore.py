"""Command line: ``xlmodel explore`` and ``xlmodel adopt``; progress and summaries.

Wiring and printing only, like :mod:`xlmodel.cli`, which registers these commands.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import click

from .cli_options import output_options

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
    a stage that printed ends.
    """

    def __init__(self, after: float = 1.0, every: float = 1.0, clock=time.monotonic):
        self.after, self.every, self.clock = after, every, clock
        self.stage: str | None = None
        self.start = self.last = self.shown = clock()
        self.printed = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            self.stage, self.start, self.printed = stage, self.last, False
        self.last = now
        spent = now - self.start
        finished = done >= total
        gap = max(self.every, 0.1 * spent)
        due = spent > self.after and (not self.printed or now - self.shown >= gap)
        if not (due or (finished and self.printed)):
            return
        self.printed, self.shown = True, now
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
    """P10/P50/P90 of power and the probabilities of meeting the targets."""
    u = results.uncertainty
    if u is None:
        return ""
    s = u.summary
    lines = [
        f"uncertainty ({u.spec.samples:,} draws per variant, seed {u.spec.seed}):",
        f"  {'variant':<24} {'power P10/P50/P90 W':>21} {'density P50':>11} "
        f"{'P(budget)':>9} {'P(all)':>7}",
    ]
    for name, r in s.head(20).iterrows():
        lines.append(
            f"  {str(name)[:24]:<24} {r['power_total_w_p10']:>6.0f} "
            f"{r['power_total_w_p50']:>6.0f} {r['power_total_w_p90']:>7.0f} "
            f"{r['target_density_tflops_per_mm2_p50']:>11.3f} "
            f"{r['p_meets_power_budget']:>9.1%} {r['p_meets_all_targets']:>7.1%}"
        )
    if len(s) > 20:
        lines.append(f"  ... and {len(s) - 20} more (see the Uncertainty sheet)")
    return "\n".join(lines)


def format_studies(results) -> str:
    """The exploration and uncertainty summaries, when the study had them."""
    parts = [format_exploration(results), format_uncertainty(results)]
    return "\n\n".join(p for p in parts if p)


@click.command()
@output_options
def explore(path: Path, output: Path | None, export_dir: Path, no_export: bool):
    """Explore the design space set up on PATH's Exploration setup sheet.

    Every point of the ranges is evaluated around the base variant; the feasible
    Pareto front, the top designs, how often each constraint binds and a chart go
    to the Exploration result sheet (with every other result sheet).
    """
    from .cli import _warn
    from .pipeline import compute as run_compute

    results = run_compute(
        path,
        output,
        None if no_export else export_dir,
        progress=Progress(),
        explore=True,
    )
    _warn(results.study.warnings)
    click.echo(format_studies(results))
    click.echo(f"\nwrote result sheets to {output or path}")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-d",
    "--design",
    type=int,
    required=True,
    help="Design number on the Exploration result sheet.",
)
@click.option("--name", help="Name of the new variant (default: 'Design N').")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the workbook here instead of in place.",
)
def adopt(path: Path, design: int, name: str | None, output: Path | None):
    """Copy design N of the last exploration into Variants as a new column.

    Explored parameters take the design's values, every other row the base
    variant's. Only the Variants sheet changes; run compute to evaluate it.
    """
    from .workbook.adopt import adopt_design

    done = adopt_design(path, design, name, output)
    click.echo(
        f"added {done.name!r} (design {done.design}, around {done.base_variant}) as "
        f"column {done.column} of {done.sheet} in {output or path}; run "
        f"'xlmodel compute {output or path}' to evaluate it"
    )
