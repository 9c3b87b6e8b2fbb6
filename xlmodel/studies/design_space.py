"""The studies beyond the variants: design-space exploration, Sobol indices, Monte Carlo.

Glue between a validated :class:`~xlmodel.study.Study` and the pure engines
(:mod:`xlmodel.engine.explore`, :mod:`~xlmodel.engine.global_sensitivity`,
:mod:`~xlmodel.engine.uncertainty`): which variant is the base design, which
quantities are decomposed, progress reporting. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..engine.inputs import prepare
from ..engine.model import METRIC_UNITS
from ..errors import CellProblem, InputProblems
from ..lazy import pd
from ..schema import BY_NAME, ops_param_of
from . import global_sensitivity as gsa
from .explore import Exploration, Problem, explore
from .limits import LimitSource, limits_line
from .uncertainty import Uncertainty, UncertaintyResult, monte_carlo

#: progress(stage, done, total): stage is "explore", "sobol" or "uncertainty".
StageProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExplorationSetup:
    """What the Exploration setup sheet asks for.

    Attributes
    ----------
    problem : xlmodel.engine.explore.Problem
        Ranges, sampling, constraints, objectives, top K.
    base_variant : str
        Variant (a name on Variants) whose other parameters every point keeps.
    sobol_samples : int
        Base samples of the Sobol indices over the ranges; 0: none.
    limits : tuple of LimitSource
        Where each constraint's limit came from, in constraint order.
    cells : tuple of str
        Where each range's parameter is named (``Exploration setup!A14``), in
        range order; empty for a setup not read from a workbook.
    """

    problem: Problem
    base_variant: str
    sobol_samples: int = 0
    limits: tuple[LimitSource, ...] = ()
    cells: tuple[str, ...] = ()

    def limits_line(self) -> str:
        """Which constraint limits follow Targets and which were typed (one line)."""
        return limits_line(self.limits, "Exploration setup")


def base_inputs(variants: pd.DataFrame, name: str) -> dict:
    """The checked inputs of one variant (a row of ``Study.variants``)."""
    return prepare(variants.loc[[name]])


def sobol_quantities(problem: Problem) -> list[str]:
    """Metrics whose variance is decomposed: objectives, then constraint metrics."""
    names = [o.quantity for o in problem.objectives]
    names += [c.quantity for c in problem.constraints]
    return [q for q in dict.fromkeys(names) if q in METRIC_UNITS]


def run_exploration(
    variants: pd.DataFrame,
    setup: ExplorationSetup,
    progress: StageProgress | None = None,
) -> tuple[Exploration, pd.DataFrame | None]:
    """Explore the design space around the base variant; Sobol indices if asked.

    Returns
    -------
    (Exploration, DataFrame or None)
        The exploration and the Sobol table of
        :func:`xlmodel.engine.global_sensitivity.exploration_sobol` (None when
        ``sobol_samples`` is 0 or no objective or constraint is a metric).
    """
    base = base_inputs(variants, setup.base_variant)
    result = explore(setup.problem, base, _stage(progress, "explore"))
    indices = None
    quantities = sobol_quantities(setup.problem)
    if setup.sobol_samples >= 2 and quantities:
        indices = gsa.exploration_sobol(
            setup.problem,
            base,
            setup.sobol_samples,
            quantities,
            _stage(progress, "sobol"),
        )
    return result, indices


def exploration_warnings(
    setup: ExplorationSetup, idle: Sequence[str], precision: str
) -> list[str]:
    """One warning per explored parameter in ``idle``, those that change no
    objective and no constraint (:func:`~xlmodel.studies.explore.idle_parameters`),
    at its cell, with what to do; ``precision`` is the target precision (an
    other precision's rate is named with the one that counts)."""
    problem = setup.problem
    if not idle:
        return []
    judged = list(
        dict.fromkeys(
            [o.quantity for o in problem.objectives]
            + [c.quantity for c in problem.constraints]
        )
    )
    at = f"; target precision {precision.upper()}" if precision else ""
    out = []
    for name in idle:
        k = problem.names.index(name)
        r = problem.ranges[k]
        where = setup.cells[k] + " " if k < len(setup.cells) else "Exploration setup "
        unit = BY_NAME[name].unit
        unit = "" if unit in ("", "text") else f" {unit}"
        if problem.method == "grid":
            effect = (
                f"its {len(r.grid())} values only repeat each design, and the "
                "repeats crowd the Pareto front and the top designs"
            )
        else:
            effect = (
                "it only adds a dimension that changes nothing: the front and the "
                "top designs carry arbitrary values of it"
            )
        hint = ""
        own = ops_param_of(precision)
        if name.endswith("_ops_per_cycle") and own not in (None, name):
            hint = f" or explore {own}, the rate {precision.upper()} counts"
        out.append(
            f"{where}{name}: changes none of the exploration's objectives and "
            f"constraints ({', '.join(judged)}{at}) over its range "
            f"{r.low:g}-{r.high:g}{unit}: {effect}; fix it (low = high){hint}"
        )
    return out


def run_uncertainty(
    variants: pd.DataFrame,
    spec: Uncertainty,
    progress: StageProgress | None = None,
) -> UncertaintyResult:
    """Monte Carlo of every variant under ``spec`` (seeded per variant name)."""
    return monte_carlo(
        prepare(variants), list(variants.index), spec, _stage(progress, "uncertainty")
    )


def _stage(progress: StageProgress | None, stage: str):
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def require_exploration(study, path) -> None:
    """Refuse a study whose workbook asks for no exploration (blank ranges).

    Raises
    ------
    xlmodel.errors.InputProblems
        One problem naming the Exploration setup sheet.
    """
    if study.exploration is None:
        raise InputProblems(
            [
                CellProblem(
                    "Exploration setup",
                    "",
                    "",
                    Path(path).name,
                    "asks for no exploration: list parameter ranges and objectives "
                    "on the Exploration setup sheet (xlmodel init writes an example)",
                )
            ]
        )
