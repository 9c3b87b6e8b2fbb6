"""One study: the validated inputs of a workbook, and every result table computed from them.

``Study`` is the data contract between the workbook reader and the engine; ``run``
turns a Study into ``Results`` (pandas tables) for the report writer, the CSV and PNG
exports and the console. No I/O here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..engine import evaluate
from ..engine.nodes import fill_process_nodes
from . import cost as cost_study
from . import reality
from . import sensitivity as sens
from . import standard as studies
from .advice import Advice, advise
from .background import Background
from .confidence import annotate
from .design_space import (
    StageProgress,
    base_inputs,
    exploration_warnings,
    run_exploration,
    run_uncertainty,
)
from .explore import Exploration, idle_parameters
from .inference import batch_sweep, inference_table, parameter_check
from .inference_calibration import load_measurements, predict
from .reference import apply_power_preset
from .study import Serving, Study, seed_study  # noqa: F401 (re-exported)
from .uncertainty import UncertaintyResult


@dataclass
class Results:
    """Every result table of one study (pandas; units in column names or METRICS).

    Attributes
    ----------
    study : Study
    metrics : DataFrame
        ``evaluate`` at 100 % utilisation, index = variant.
    power : DataFrame
        Power breakdown (W) and Tj (°C) per variant and utilisation.
    roofline : DataFrame
        Each workload on each variant's roof at the target precision.
    scaling : DataFrame
        Every variant at every chiplet count.
    max_chiplets_within_budget : Series
        Per variant, the largest studied count within the power budget (0: none).
    sweep_points, sweep_summary : DataFrame
        The one-at-a-time sweeps around ``study.sweep_base`` and their normalised
        sensitivities.
    elasticities : DataFrame
        d ln(metric) / d ln(parameter) at every variant.
    tornado : DataFrame
        Target-density swing at +/- tornado_percent around the sweep base.
    comparison : studies.Comparison
        Targets checked; the seed's statements (best variant within budget, the
        density target), kept as facts beside the recommendation.
    reality : DataFrame
        Variants beside the reference chips under both power presets
        (see xlmodel.reality).
    exploration : xlmodel.engine.explore.Exploration or None
        Feasible Pareto front, top designs, constraint counts, chart cloud.
    global_sensitivity : DataFrame or None
        Sobol indices over the exploration ranges (quantity, parameter, S1, ST...).
    uncertainty : xlmodel.engine.uncertainty.UncertaintyResult or None
        Percentiles and target probabilities of every variant (a property:
        the first read waits for the Monte Carlo, which runs beside the rest).
    inference : DataFrame or None
        One row per variant x served model x scenario
        (:func:`xlmodel.studies.inference.inference_table`: the scenario's fields,
        then ``SERVE_METRICS``); None without a serving study.
    inference_sweep : DataFrame or None
        Every variant at batches 1, 2, 4 ... 2048 of the figure-of-merit model and
        scenario (:func:`xlmodel.studies.inference.batch_sweep`), for the
        latency-throughput chart.
    inference_models : DataFrame or None
        Every model of the study: its definition's parameter count beside the
        published one (:func:`xlmodel.studies.inference.parameter_check`) and
        whether it is served.
    inference_calibration : DataFrame or None
        The shipped serving coefficients against the published measurements
        (:func:`serving_calibration`), for the statement on the Inference sheet.
    cost : xlmodel.studies.cost.CostTables or None
        Cost breakdown per variant and cost per good package against chiplet
        count (the scaling study's counts) beside the monolithic equivalent.
    advice : xlmodel.studies.advice.Advice or None
        The recommendation, what it would take, the confidence in the figures.
    idle_ranges : tuple of str
        Explored parameters that change no objective and no constraint
        (:func:`xlmodel.studies.explore.idle_parameters`).
    """

    study: Study
    metrics: pd.DataFrame
    power: pd.DataFrame
    roofline: pd.DataFrame
    scaling: pd.DataFrame
    max_chiplets_within_budget: pd.Series
    sweep_points: pd.DataFrame
    sweep_summary: pd.DataFrame
    elasticities: pd.DataFrame
    tornado: pd.DataFrame
    comparison: studies.Comparison
    reality: pd.DataFrame
    exploration: Exploration | None = None
    global_sensitivity: pd.DataFrame | None = None
    # the Monte Carlo's result, or the Background still computing it
    _uncertainty: UncertaintyResult | Background | None = field(
        default=None, repr=False
    )
    inference: pd.DataFrame | None = None
    inference_sweep: pd.DataFrame | None = None
    inference_models: pd.DataFrame | None = None
    inference_calibration: pd.DataFrame | None = None
    cost: cost_study.CostTables | None = None
    idle_ranges: tuple[str, ...] = ()

    @property
    def uncertainty(self) -> UncertaintyResult | None:
        """The Monte Carlo's percentiles and target probabilities, or None.

        The Monte Carlo runs beside the other studies and beside the writing
        of the result sheets (only the Uncertainty sheet reads it): the first
        read waits for it and raises what it raised.
        """
        value = self._uncertainty
        if isinstance(value, Background):
            value = self._uncertainty = value.result()
        return value

    def abandon(self) -> None:
        """End the Monte Carlo if it still runs (the compute it belongs to has
        failed); :attr:`uncertainty` is then None."""
        value = self._uncertainty
        if isinstance(value, Background):
            self._uncertainty = None
            value.cancel()

    def serving_merit(self) -> pd.DataFrame | None:
        """The figure-of-merit rows of ``inference``: one per variant (index: the
        variant), the study's chosen model in its chosen scenario; None without a
        serving study."""
        if self.inference is None or self.study.serving is None:
            return None
        return _merit_rows(self.inference, self.study.serving)

    # --- the Summary's advice (xlmodel.studies.advice) ---
    advice: Advice | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file-friendly name, for CSV export."""
        return {**self._base_tables(), **self._study_tables()}

    def _study_tables(self) -> dict[str, pd.DataFrame]:
        out = {}
        if self.exploration is not None:
            out["exploration_designs"] = self.exploration.designs.reset_index()
            out["exploration_constraints"] = self.exploration.constraints
        if self.global_sensitivity is not None:
            out["global_sensitivity"] = self.global_sensitivity
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.summary.reset_index()
        if self.inference is not None:
            out["inference"] = self.inference
            out["inference_batch_sweep"] = self.inference_sweep
            out["inference_models"] = self.inference_models.reset_index(names="model")
            out["inference_calibration"] = self.inference_calibration
        if self.cost is not None:
            out["cost_breakdown"] = self.cost.breakdown.reset_index()
            out["cost_vs_chiplets"] = self.cost.versus_chiplets
        if self.advice is not None:
            out.update(self.advice.tables())
        return out

    def _base_tables(self) -> dict[str, pd.DataFrame]:
        return {
            "summary": self.comparison.table.reset_index(names="variant"),
            "metrics": self.metrics.reset_index(names="variant"),
            "power": self.power,
            "roofline": self.roofline,
            "scaling": self.scaling,
            "sensitivity_sweeps": self.sweep_points,
            "sensitivity_summary": self.sweep_summary,
            "elasticities": self.elasticities,
            "tornado": self.tornado,
            "reality_check": self.reality.reset_index(names="name"),
        }


POWER_COLUMNS = (
    "power_sm_w",
    "power_l2_w",
    "power_hbm_w",
    "power_d2d_w",
    "power_static_w",
    "power_interconnect_w",
    "power_io_w",
    "power_total_w",
    "junction_temp_c",
    "meets_tj_max",
)


def run(study: Study, progress: StageProgress | None = None) -> Results:
    """Evaluate every variant and every study of ``study``; one engine pass each.

    Model-level warnings (chiplet area below what its content needs, workbook
    coefficients far from the physical preset) are added to the returned
    ``results.study.warnings``; the given Study is not changed. The exploration
    and the Monte Carlo run in chunks and report ``progress(stage, done, total)``.
    The Monte Carlo runs beside the rest and may still be running when this
    returns: ``results.uncertainty`` waits for it (and raises what it raised);
    ``results.abandon()`` ends it.
    """
    v = fill_process_nodes(apply_power_preset(study.variants), study.process_nodes)
    # the Monte Carlo on the machine's other core while the rest is computed
    with Background(
        run_uncertainty if study.uncertainty is not None else None,
        (v.copy(deep=True), study.uncertainty),
        progress,
    ) as monte_carlo:
        return _run(study, v, progress, monte_carlo)


def _run(study: Study, v: pd.DataFrame, progress, monte_carlo) -> Results:
    metrics = evaluate(v)
    targets = study.targets
    precision = str(targets["target_precision"])

    n, u = len(v), study.utilizations
    stacked = pd.concat([v] * len(u))
    util = [x for x in u for _ in range(n)]
    p = evaluate(stacked, utilization=util)
    power = pd.DataFrame({"variant": stacked.index, "utilization": util})
    for c in POWER_COLUMNS:
        power[c] = p[c].to_numpy()

    roof = studies.roofline(metrics, study.workloads, precision)
    scaling = studies.scaling_study(
        v, study.scaling_counts, study.hbm_stacks_per_chiplet
    )
    base = v.loc[[study.sweep_base]]
    points, summary = sens.seed_sweeps(base, study.sweeps)
    elast = sens.elasticities(v, study.tornado_parameters)
    tornado = sens.tornado(base, study.tornado_parameters, study.tornado_percent)
    comparison = studies.compare(
        metrics,
        float(targets["density_target_tflops_per_mm2"]),
        float(targets["power_budget_w"]),
        precision,
        v["power_budget_w"],
        v["density_target_tflops_per_mm2"],
    )
    refs, ref_warnings = reality.check_references(study.references, v.iloc[0])
    real = reality.reality_table(v, refs)
    study = with_merit(study)
    serving = _serving(study)
    model_warnings = (
        ref_warnings
        + reality.node_warnings(v)
        + reality.area_warnings(v, metrics)
        + reality.preset_warnings(real)
        + _serving_warnings(serving[0])
    )
    explored, indices = _exploration(study, v, progress)
    idle: tuple[str, ...] = ()
    said: list[str] = []
    if study.exploration is not None:
        setup = study.exploration
        idle = tuple(idle_parameters(setup.problem, base_inputs(v, setup.base_variant)))
        said = exploration_warnings(setup, idle, precision)
    # the inputs' warnings first, each at a cell to change (the Summary shows
    # the first few), then the model's comparisons with shipping silicon
    study = replace(study, warnings=list(study.warnings) + said + model_warnings)
    # the advice re-evaluates the variants' own parameters: node values filled in
    filled = replace(
        study, variants=fill_process_nodes(study.variants, study.process_nodes)
    )
    merit = None if serving[0] is None else _merit_rows(serving[0], study.serving)
    advice = advise(
        filled, metrics, v, list(comparison.messages), real, explored, merit
    )
    study.warnings = annotate(
        study.warnings, filled.variants, study.workloads, advice.shares
    )
    return Results(
        study,
        metrics,
        power,
        roof,
        scaling,
        studies.largest_count_within_budget(scaling),
        points,
        summary,
        elast,
        tornado,
        comparison,
        real,
        explored,
        indices,
        monte_carlo if study.uncertainty is not None else None,
        *serving,
        cost=cost_study.cost_study(v, study.scaling_counts, metrics),
        advice=advice,
        idle_ranges=idle,
    )


def _exploration(study: Study, variants: pd.DataFrame, progress) -> tuple:
    if study.exploration is None:
        return None, None
    return run_exploration(variants, study.exploration, progress)


@functools.lru_cache(maxsize=1)
def _calibration() -> pd.DataFrame:
    meas = load_measurements()
    t = predict(meas)  # the schema's default coefficients: the shipped fit
    t = t.assign(abs_error=t["error_percent"].abs())
    parts = [t[t["use"] == "fit"], t[t["use"] == "holdout"]]
    rows = []
    for part in parts:
        groups = [(chip, g) for chip, g in part.groupby("chip", sort=False)]
        if len(part) and part["use"].iloc[0] == "holdout":
            groups.append(("all", part))
        for chip, g in groups:
            rows.append(
                {
                    "use": g["use"].iloc[0],
                    "chip": chip,
                    "measurements": len(g),
                    "median_abs_error_percent": g["abs_error"].median(),
                    "median_error_percent": g["error_percent"].median(),
                }
            )
    return pd.DataFrame(rows)


def serving_calibration() -> pd.DataFrame:
    """The shipped serving coefficients against every published measurement.

    One row per chip of the fit (``use`` "fit": H100 SXM5 only) and of the
    hold-out (``use`` "holdout"; every other chip, then ``chip`` "all"):
    ``measurements``, ``median_abs_error_percent``, ``median_error_percent``
    (positive: the model is optimistic). See
    :mod:`xlmodel.studies.inference_calibration`.
    """
    return _calibration().copy()


def with_merit(study: Study) -> Study:
    """``study`` with its serving figure of merit taken from Targets
    (``merit_model``, ``merit_scenario``) where they name one; blank keeps the
    Serving setup's choice.

    Raises
    ------
    ValueError
        A name that is not a model served or not a scenario of the study.
    """
    s = study.serving
    targets = study.targets
    picked = {
        key: str(targets.get(key) or "").strip()
        for key in ("merit_model", "merit_scenario")
    }
    if s is None or s.models.empty or s.scenarios.empty:
        return study
    names = {
        "merit_model": s.served_models,
        "merit_scenario": [str(x) for x in s.scenarios.index],
    }
    found = {}
    for key, text in picked.items():
        if not text:
            continue
        match = next((n for n in names[key] if n.casefold() == text.casefold()), None)
        if match is None:
            what = "a model served" if key == "merit_model" else "a scenario"
            raise ValueError(
                f"{key}: {text!r} is not {what}; expected one of "
                + ", ".join(names[key][:8])
            )
        found[key] = match
    if not found:
        return study
    return replace(study, serving=replace(s, **found))


def _merit_rows(table: pd.DataFrame, serving: Serving) -> pd.DataFrame:
    """The inference rows of the figure-of-merit model and scenario, by variant."""
    model, scenario = serving.merit
    rows = table[(table["model"] == model) & (table["scenario"] == scenario)]
    return rows.set_index("variant")


def _serving(study: Study) -> tuple:
    """(inference table, batch sweep, model check, calibration), or Nones without a
    serving study.

    The variants go in as the study holds them, their node values filled: the
    inference study applies their power preset itself.
    """
    s = study.serving
    if s is None or s.models.empty or s.scenarios.empty:
        return None, None, None, None
    served = s.served_models
    defs = [{"name": name, **s.models.loc[name].to_dict()} for name in served]
    # node values filled from the study's table: the cost per USD follows it
    variants = fill_process_nodes(study.variants, study.process_nodes)
    table = inference_table(variants, defs, s.scenarios)
    model, scenario = s.merit
    row = s.scenarios.loc[scenario]
    sweep = batch_sweep(
        variants,
        {"name": model, **s.models.loc[model].to_dict()},
        row["input_tokens"],
        row["output_tokens"],
        row["precision"],
        tp=row.get("tp", 1),
        kv_precision=row.get("kv_precision"),
        activation_precision=row.get("activation_precision"),
    )
    check = parameter_check(s.models)
    check.insert(0, "served", [str(m) in served for m in s.models.index])
    return table, sweep, check, serving_calibration()


def _serving_warnings(table: pd.DataFrame | None) -> list[str]:
    """A model that fits but never finishes a phase: a link or a bandwidth is 0."""
    if table is None:
        return []
    times = table[["ttft_s", "tpot_s"]].to_numpy(float)
    stuck = table["fits"].to_numpy(bool) & ~np.isfinite(times).all(axis=1)
    if not stuck.any():
        return []
    first = table[stuck].iloc[0]
    return [
        f"Inference: {int(stuck.sum())} row(s) fit but never finish a phase (e.g. "
        f"{first['variant']}, {first['model']}, scenario {first['scenario']}, tp "
        f"{first['tp']:g}): a resource they need has no bandwidth (tp > 1 needs "
        "package links, nvlink_lanes x nvlink_bandwidth_gbps_per_lane above 0); "
        "their times and rates are n/a"
    ]
