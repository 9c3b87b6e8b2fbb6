"""The validated inputs of one workbook: :class:`Study` and its :class:`Serving`.

The data contract between the workbook reader and the studies
(:func:`xlmodel.studies.run.run` turns a Study into Results). Kept apart from
:mod:`.run` so that reading and checking a workbook imports none of the
studies' computations (nor pandas: the defaults that are tables are built on
first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..engine.nodes import load_process_nodes
from ..lazy import pd
from ..schema import (
    DEFAULTS,
    SEED_HBM_STACKS_PER_CHIPLET,
    SEED_SCALING_COUNTS,
    SEED_SWEEPS,
    SEED_TORNADO_PERCENT,
    SEED_UTILIZATIONS,
    SEED_VARIANTS,
    SEED_WORKLOADS,
    TARGETS,
)
from .sensitivity import DEFAULT_PARAMETERS

if TYPE_CHECKING:
    from .design_space import ExplorationSetup
    from .uncertainty import Uncertainty


def _shipped_chips():
    from .reference import load_chips

    return load_chips()


@dataclass
class Serving:
    """What the Models and Serving setup sheets ask for: models x scenarios served.

    Attributes
    ----------
    models : pandas.DataFrame
        Model definitions, index = unique names; columns ``MODEL_FIELDS`` of
        :mod:`xlmodel.engine.inference`, ``published_params_b`` (NaN: unknown) and
        ``source``, as :func:`xlmodel.studies.inference.load_models` returns them.
    scenarios : pandas.DataFrame
        Index = unique scenario names; columns ``SCENARIO_FIELDS`` of
        :mod:`xlmodel.studies.inference` (``batch`` NaN: the largest that fits;
        ``kv_precision`` and ``activation_precision`` None: the defaults).
    served : list of str
        Models served, in order (a subset of ``models.index``; empty: all).
    merit_model, merit_scenario : str or None
        The Summary's tokens/s figure of merit: this model in this scenario (None:
        the first served model, the first scenario); Targets ``merit_model`` and
        ``merit_scenario``, when given, replace them in :func:`run`. The
        Inference sheet's bar chart shows this scenario and its
        latency-throughput chart this model.
    """

    models: pd.DataFrame
    scenarios: pd.DataFrame
    served: list[str] = field(default_factory=list)
    merit_model: str | None = None
    merit_scenario: str | None = None

    @property
    def served_models(self) -> list[str]:
        """The models served: ``served``, or every model when it is empty."""
        return list(self.served) or [str(m) for m in self.models.index]

    @property
    def merit(self) -> tuple[str, str]:
        """(model, scenario) of the figure of merit, defaults resolved."""
        model = self.merit_model or self.served_models[0]
        scenario = self.merit_scenario or str(self.scenarios.index[0])
        return model, scenario


@dataclass
class Study:
    """Validated inputs of one workbook.

    Attributes
    ----------
    variants : pandas.DataFrame
        Index: unique variant names (str). Columns: every schema parameter (variant
        parameters, coefficients and targets), fully populated.
    workloads : dict of str to float
        Roofline workloads: name -> arithmetic intensity, FLOP/byte.
    scaling_counts : list of int
        Chiplet counts of the scaling study.
    hbm_stacks_per_chiplet : float
        HBM stacks per chiplet in the scaling study.
    utilizations : list of float
        Utilisations (0-1) of the power table.
    sweep_base : str
        Variant around which the one-at-a-time sweeps and the tornado are run.
    sweeps : dict of str to (start, stop, step)
        Parameter -> inclusive range, in the parameter's unit.
    tornado_parameters : list of str
        Parameters of the elasticity and tornado tables.
    tornado_percent : float
        Tornado swing, +/- percent.
    warnings : list of str
        Plausibility and reading warnings, one line each.
    references : pandas.DataFrame
        Reference chips in the layout of xlmodel/data/chips.csv, index = chip.
    exploration : ExplorationSetup or None
        Design-space exploration around a base variant (None: none asked for).
    uncertainty : Uncertainty or None
        Parameter spreads of the Monte Carlo around every variant (None: none).
    serving : Serving or None
        Models and scenarios of the LLM inference study (None: none asked for,
        or a workbook from before the Models and Serving setup sheets).
    process_nodes : pandas.DataFrame
        The process node table (xlmodel/data/process_nodes.csv layout: node,
        aliases, wafer price, defect density, mask set, as of, source) from which
        variants with a blank wafer price, defect density or mask set take their
        node's value; the shipped table by default, the Cost setup sheet's when a
        workbook has one.
    workload_weights : dict of str to float or None
        Workload name -> run-time weight (relative; None: equal shares), for the
        workload-mix throughput of the Summary (xlmodel.studies.scores).
    sources : dict of str to dict of str to str
        Variant -> parameter -> absolute reference of the workbook cell its
        number was read from (``'Variants'!$D$12``, ``'Targets'!$B$5``); a
        parameter that took a default or a process node's value has none. Empty
        for a study built without a workbook. The result sheets' formulas refer
        to these cells.
    """

    variants: pd.DataFrame
    workloads: dict[str, float] = field(default_factory=lambda: dict(SEED_WORKLOADS))
    scaling_counts: list[int] = field(default_factory=lambda: list(SEED_SCALING_COUNTS))
    hbm_stacks_per_chiplet: float = SEED_HBM_STACKS_PER_CHIPLET
    utilizations: list[float] = field(default_factory=lambda: list(SEED_UTILIZATIONS))
    sweep_base: str = "Baseline"
    sweeps: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: dict(SEED_SWEEPS)
    )
    tornado_parameters: list[str] = field(
        default_factory=lambda: list(DEFAULT_PARAMETERS)
    )
    tornado_percent: float = SEED_TORNADO_PERCENT
    warnings: list[str] = field(default_factory=list)
    references: pd.DataFrame = field(default_factory=_shipped_chips)
    exploration: ExplorationSetup | None = None
    uncertainty: Uncertainty | None = None
    serving: Serving | None = None
    process_nodes: pd.DataFrame = field(default_factory=load_process_nodes)
    # --- the Summary's advice (xlmodel.studies.advice) ---
    workload_weights: dict[str, float] | None = None
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def targets(self) -> dict:
        """Target values (the same for every variant: taken from the first row)."""
        first = self.variants.iloc[0]
        return {p.name: first.get(p.name, p.default) for p in TARGETS}

    def own_targets(self, name: str) -> pd.Series:
        """A numeric target per variant (float, by variant name): a variant's
        own, from a row of the target's name on Variants, else the Targets
        value."""
        if name in self.variants.columns:
            return pd.to_numeric(self.variants[name], errors="coerce").astype(float)
        return pd.Series(float(self.targets[name]), index=self.variants.index)

    def target_of(self, name: str, variant) -> float:
        """One variant's target ``name`` (the first variant's for a name that is
        not a variant)."""
        values = self.own_targets(name)
        if variant in values.index:
            return float(values.loc[variant])
        return float(self.targets[name])

    def target_spread(self, name: str) -> tuple[float, float] | None:
        """(lowest, highest) of a target that differs between the variants;
        None when they all share it."""
        return value_spread(self.own_targets(name))


def value_spread(values) -> tuple[float, float] | None:
    """(lowest, highest) of numbers that differ; None for none or one value."""
    if values is None or not len(values):
        return None
    x = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    lo, hi = float(x.min()), float(x.max())
    return None if lo == hi else (lo, hi)


def seed_study() -> Study:
    """The seed's five variants with every default: what the shipped template holds."""
    frame = pd.DataFrame.from_dict(SEED_VARIANTS, orient="index")
    for name, value in DEFAULTS.items():
        if name not in frame.columns:
            frame[name] = value
    return Study(frame)
