"""Calibrate the serving model on H100 only, then judge it on the other chips.

``inference_measurements.csv`` (xlmodel/data) lists published maximum-throughput
measurements, each with its source and exact scenario (chip, model, precision, KV
precision, input and output tokens, tensor parallel degree, the engine's cap on
concurrent sequences where stated). Rows marked ``fit`` (H100 SXM5 only) fit the
coefficients ``FITTED``; rows marked ``holdout`` (H200, A100, B200, MI300X) are never
seen by the fit and measure the unchanged model.

The fit minimises the sum of squared log errors, log(predicted / measured), by
Nelder-Mead inside the coefficients' bounds. A measurement the model says cannot be
served (the model does not fit) counts as an error of log(1/10).

Run ``python -m xlmodel.studies.inference_calibration`` to print the fit and the
per-measurement table.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..csvfile import grouping_hint, is_blank, lines, read_user_csv, shown_value
from ..engine import prepare
from ..engine.inference import BYTES_PER_ELEMENT, MODEL_FIELDS, serve_arrays
from ..errors import did_you_mean, listing
from ..lazy import pd
from ..schema import BY_NAME, DEFAULTS
from .inference import (
    LINK_COLUMNS,
    load_links,
    load_models,
    model_definition,
    reference_chips,
    scenario_arrays,
)
from .reference import PEAK_COLUMNS, apply_power_preset, load_chips

FIT_CHIP = "H100 SXM5"
# The coefficients the fit moves, with the bounds it keeps them in.
# Not fitted: inference_step_overhead_us (the data cannot tell it from memory
# efficiency), inference_hbm_usable_fraction (derived from the capacity an H100
# reports), the chunk size and batch cap (the engine's documented defaults).
FITTED: dict[str, tuple[float, float]] = {
    "inference_compute_efficiency": (0.05, 1.0),
    "inference_memory_efficiency": (0.05, 1.0),
    "inference_link_efficiency": (0.05, 1.0),
    "inference_sequence_overhead_us": (0.0, 100.0),
    "inference_allreduce_latency_us": (0.0, 500.0),
}
# Error counted for a measured scenario the model says does not fit (log ratio).
NO_FIT_LOG_ERROR = np.log(0.1)


def load_measurements(path=None) -> pd.DataFrame:
    """Read the measurement table (default: the shipped inference_measurements.csv).

    A user's table is read as Excel saves it in any region
    (:func:`xlmodel.csvfile.read_user_csv`); :func:`check_measurements` says what
    in it the model cannot take.
    """
    if path is None:
        name = "inference_measurements.csv"
        with resources.files("xlmodel.data").joinpath(name).open("rb") as f:
            return pd.read_csv(f)
    return read_user_csv(path, "the measurements", "inference_measurements.csv")


#: Columns a measurement needs; ``kv_precision`` (blank: the precision),
#: ``batch`` and ``max_batch`` (blank: the largest that fits, the default cap)
#: may be left out or blank.
MEASUREMENT_COLUMNS = (
    "chip",
    "model",
    "precision",
    "input_tokens",
    "output_tokens",
    "tp",
    "measured_output_tokens_per_s",
)
_WHOLE = ("input_tokens", "output_tokens", "tp", "batch", "max_batch")


def check_measurements(
    table: pd.DataFrame,
    chips: pd.DataFrame | None = None,
    models: pd.DataFrame | None = None,
    chips_source: str = "chips.csv",
    models_source: str = "models.csv",
) -> list[tuple[int, str, object, str]]:
    """What the model cannot take in a measurement table: (line of the file,
    column, value, what is expected), one per problem; empty when every row
    can be predicted. ``chips`` is the reference table the chips are looked up
    in (default: the shipped one, named ``chips_source`` in the messages),
    ``models`` the model table (default: the shipped models.csv; named
    ``models_source``). A chip measured at a precision whose dense peak its
    table leaves blank, or whose HBM capacity it leaves blank, is a problem:
    the model would serve it with a default that is no chip's. A column
    missing: ValueError."""
    missing = [c for c in MEASUREMENT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"column(s) missing from the header line: {', '.join(missing)} (a "
            f"measurement needs {', '.join(MEASUREMENT_COLUMNS)})"
        )
    raw = load_chips() if chips is None else chips
    known = set(reference_chips(chips).index)
    names = set((load_models() if models is None else models).index)
    table = resolve_names(table, chips, models)
    hint = (
        ""
        if models is not None
        else "; define it in a CSV or a workbook's Models sheet and give it with --models"
    )
    out = []
    told: set = set()  # (chip, column) of a chip's blank already reported
    for line, row in zip(lines(table), table.to_dict("records"), strict=True):
        chip, model = (
            "" if is_blank(row[c]) else str(row[c]) for c in ("chip", "model")
        )
        if chip not in known:
            out.append(
                (
                    line,
                    "chip",
                    chip,
                    f"is not a reference chip ({chips_source})" + _hint(chip, known),
                )
            )
        elif _not_given(raw, chip, "hbm_capacity_gb") and (chip, "hbm") not in told:
            told.add((chip, "hbm"))
            out.append(
                (
                    line,
                    "chip",
                    chip,
                    f"has no hbm_capacity_gb in {chips_source}: serving needs the "
                    "memory the package holds",
                )
            )
        if model not in names:
            out.append(
                (
                    line,
                    "model",
                    model,
                    f"is not a model of {models_source}" + _hint(model, names) + hint,
                )
            )
        if chip in known:
            out += _peak_problems(raw, chip, row, line, chips_source, told)
            out += _link_problems(raw, chip, line, chips_source, told)
        for col in ("precision", "kv_precision"):
            v = row.get(col)
            if col == "kv_precision" and is_blank(v):
                continue
            if str(v).upper() not in BYTES_PER_ELEMENT:
                out.append(
                    (
                        line,
                        col,
                        shown_value(v),
                        f"is not a precision: expected one of "
                        f"{', '.join(BYTES_PER_ELEMENT)}",
                    )
                )
        for col in _WHOLE:
            v = row.get(col)
            if col in ("batch", "max_batch") and (v is None or pd.isna(v)):
                continue
            x = pd.to_numeric(v, errors="coerce")
            if not (pd.notna(x) and float(x).is_integer() and x >= 1):
                out.append(
                    (
                        line,
                        col,
                        shown_value(v),
                        "is not a whole number, 1 or more" + grouping_hint(v),
                    )
                )
        v = row.get("measured_output_tokens_per_s")
        x = pd.to_numeric(v, errors="coerce")
        if not (pd.notna(x) and np.isfinite(x) and x > 0):
            out.append(
                (
                    line,
                    "measured_output_tokens_per_s",
                    shown_value(v),
                    "is not a rate above 0 "
                    "(output tokens per second of the tp packages)" + grouping_hint(v),
                )
            )
    return out


def _hint(name: str, known) -> str:
    """The names meant by ``name``, if it is close to a few; else every
    name, at most eight."""
    meant = did_you_mean(name, sorted(known), several=True)
    return meant or f": expected one of {listing(sorted(known))}"


def resolve_names(
    table: pd.DataFrame,
    chips: pd.DataFrame | None = None,
    models: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``table`` with each chip and model spelled as its table spells it,
    where it names one but for case and surrounding spaces ("llama-3.1-8B",
    "h100 sxm5 "); other names as they are."""
    out = table.copy()
    for col, names in (
        ("chip", reference_chips(chips).index),
        ("model", (load_models() if models is None else models).index),
    ):
        if col not in out.columns:
            continue
        canon = {str(n).strip().casefold(): str(n) for n in names}
        out[col] = [
            canon.get(v.strip().casefold(), v) if isinstance(v, str) else v
            for v in out[col]
        ]
    return out


def _not_given(chips: pd.DataFrame, chip: str, column: str) -> bool:
    """Whether ``chips`` (the raw reference table) leaves ``column`` of ``chip``
    out or blank."""
    if column not in chips.columns:
        return True
    value = pd.to_numeric(pd.Series([chips.loc[chip, column]]), errors="coerce")
    return not np.isfinite(value.iloc[0])


def _peak_problems(chips, chip, row, line, source, told) -> list:
    """A problem per precision a measurement computes at (its weights', its
    attention's: the KV precision, FP8 for an FP4 cache) whose dense peak the
    chip's row leaves blank; each (chip, precision) once."""
    out = []
    weights = str(row.get("precision")).upper()
    kv = row.get("kv_precision")
    kv = weights if is_blank(kv) else str(kv).upper()
    needed = {"precision": weights, "kv_precision": "FP8" if kv == "FP4" else kv}
    for col, precision in needed.items():
        column = _PEAK_OF.get(precision)
        if (
            column is None
            or (chip, column) in told
            or not _not_given(chips, chip, column)
        ):
            continue
        told.add((chip, column))
        has = [p for p, c in _PEAK_OF.items() if not _not_given(chips, chip, c)]
        out.append(
            (
                line,
                col,
                precision if is_blank(row.get(col)) else row.get(col),
                f"{chip} has no {column} in {source}: the model has no "
                f"{precision} rate for it (give it, or measure at "
                f"{listing(has) if has else 'a precision whose peak is given'})",
            )
        )
    return out


#: Each precision's dense peak column in the reference table.
_PEAK_OF = {prec.upper(): col for col, prec in PEAK_COLUMNS.items()}


@dataclass
class _Problem:
    """Measurements turned into engine rows once, so a fit only swaps coefficients."""

    table: pd.DataFrame
    x: dict
    m: dict
    s: dict


def link_warnings(
    table: pd.DataFrame,
    chips: pd.DataFrame | None = None,
    chips_source: str = "chips.csv",
) -> list[str]:
    """A warning per chip measured across packages (tp > 1) whose package links
    neither ``chips`` (its optional link columns) nor chip_links.csv give:
    the defaults stand in for them."""
    known = set(load_links().index)
    own = _own_links(chips)
    tp = pd.to_numeric(table["tp"], errors="coerce")
    names = dict.fromkeys(str(c) for c in table.loc[tp > 1, "chip"])
    where = "chip_links.csv" if chips is None else f"chip_links.csv or {chips_source}"
    return [
        f"{chip}: no package links in {where}; its rows at tp > 1 take the "
        f"defaults, {DEFAULTS['nvlink_lanes']} links x "
        f"{DEFAULTS['nvlink_bandwidth_gbps_per_lane']:g} GB/s per direction"
        + (
            f" (give {' and '.join(LINK_COLUMNS)} in {chips_source})"
            if chips is not None
            else ""
        )
        for chip in names
        if chip not in known and chip not in own
    ]


def _own_links(chips: pd.DataFrame | None) -> set[str]:
    """The chips whose links ``chips`` gives itself (both link columns > 0)."""
    if chips is None or not all(c in chips.columns for c in LINK_COLUMNS):
        return set()
    given = np.ones(len(chips), bool)
    for col in LINK_COLUMNS:
        v = pd.to_numeric(chips[col], errors="coerce").to_numpy(float)
        given &= np.isfinite(v) & (v > 0)
    return {str(c) for c in chips.index[given]}


def _link_problems(chips, chip, line, source, told) -> list:
    """A problem per link column of ``chip`` in ``chips`` that holds something
    other than a number above 0 (blank: chip_links.csv or the default)."""
    out = []
    for col in LINK_COLUMNS:
        if col not in chips.columns or (chip, col) in told:
            continue
        raw = chips.loc[chip, col]
        if is_blank(raw):
            continue
        x = pd.to_numeric(pd.Series([raw]), errors="coerce").iloc[0]
        if not (np.isfinite(x) and x > 0):
            told.add((chip, col))
            out.append(
                (
                    line,
                    "chip",
                    chip,
                    f"has {col} {raw!r} in {source}: expected a number above 0",
                )
            )
    return out


def _problem(
    measurements: pd.DataFrame,
    chips: pd.DataFrame | None = None,
    models: pd.DataFrame | None = None,
) -> _Problem:
    measurements = resolve_names(measurements, chips, models)
    for optional in ("kv_precision", "batch", "max_batch"):  # blank: the defaults
        if optional not in measurements.columns:
            measurements[optional] = np.nan
    chips = reference_chips(chips)
    unknown = sorted(set(measurements["chip"]) - set(chips.index))
    if unknown:
        raise ValueError(f"measurements name unknown chip(s): {', '.join(unknown)}")
    frame = chips.loc[measurements["chip"]].reset_index(drop=True)
    cap = pd.to_numeric(measurements.get("max_batch"), errors="coerce")
    frame["inference_max_batch"] = (
        cap.fillna(DEFAULTS["inference_max_batch"]).astype(int).to_numpy()
    )
    x = prepare(apply_power_preset(frame))
    names = list(dict.fromkeys(measurements["model"]))
    defs = [
        model_definition(name if models is None else models.loc[name]) for name in names
    ]
    mj = measurements["model"].map({k: i for i, k in enumerate(names)}).to_numpy()
    m = {f: np.array([d[f] for d in defs], float)[mj] for f in MODEL_FIELDS}
    scen = measurements[
        ["input_tokens", "output_tokens", "batch", "precision", "kv_precision", "tp"]
    ].reset_index(drop=True)
    scen["batch"] = pd.to_numeric(scen["batch"], errors="coerce")
    return _Problem(measurements.reset_index(drop=True), x, m, scenario_arrays(scen))


def _run(problem: _Problem, coefficients: dict | None, with_power=False):
    x = dict(problem.x)
    n = len(problem.table)
    for name, value in (coefficients or {}).items():
        x[name] = np.full(n, float(value))
    return serve_arrays(x, problem.m, problem.s, with_power=with_power)


def _table(problem: _Problem, res) -> pd.DataFrame:
    out = problem.table.copy()
    out["predicted_output_tokens_per_s"] = res["output_tokens_per_s"]
    measured = out["measured_output_tokens_per_s"].to_numpy(float)
    out["error_percent"] = (res["output_tokens_per_s"] / measured - 1) * 100
    for name in ("fits", "batch", "max_batch", "prefill_bound", "decode_bound"):
        out[name] = res[name]
    return out


def predict(
    measurements: pd.DataFrame,
    coefficients: dict | None = None,
    chips: pd.DataFrame | None = None,
    models: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The model's serving metrics for each measurement's scenario and chip.

    The chip is its :func:`xlmodel.studies.inference.reference_chips` row, the
    engine's cap on sequences the measurement's ``max_batch`` (blank: the default);
    ``coefficients`` override the schema defaults (the shipped fit). Returns the
    measurement's columns plus ``predicted_output_tokens_per_s``, ``error_percent``,
    ``fits``, ``batch``, ``max_batch``, ``prefill_bound``, ``decode_bound``.
    ``chips``: the reference table the chips are looked up in (default: the
    shipped one); ``models`` the model table the models are looked up in
    (default: the shipped models.csv).
    """
    problem = _problem(measurements, chips, models)
    return _table(problem, _run(problem, coefficients))


def log_errors(predicted, measured) -> np.ndarray:
    """log(predicted / measured); ``NO_FIT_LOG_ERROR`` where the model cannot serve."""
    pred = np.asarray(predicted, float)
    meas = np.asarray(measured, float)
    with np.errstate(divide="ignore"):
        err = np.log(pred / meas)
    return np.where(np.isfinite(err) & (pred > 0), err, NO_FIT_LOG_ERROR)


def _nelder_mead(f, x0, step, iters=400, tol=1e-7):
    """Minimise f from x0 (a small Nelder-Mead; bounds are applied inside f)."""
    n = len(x0)
    simplex = [np.asarray(x0, float)]
    for i in range(n):
        x = np.array(x0, float)
        x[i] += step[i]
        simplex.append(x)
    values = [f(x) for x in simplex]
    for _ in range(iters):
        order = np.argsort(values)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        if abs(values[-1] - values[0]) < tol:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        worst = simplex[-1]
        xr = centroid + (centroid - worst)
        fr = f(xr)
        if fr < values[0]:
            xe = centroid + 2 * (centroid - worst)
            fe = f(xe)
            simplex[-1], values[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (worst - centroid)
            fc = f(xc)
            if fc < values[-1]:
                simplex[-1], values[-1] = xc, fc
            else:
                best = simplex[0]
                simplex = [best + 0.5 * (x - best) for x in simplex]
                values = [f(x) for x in simplex]
    i = int(np.argmin(values))
    return simplex[i], values[i]


@dataclass
class InferenceFit:
    """The H100 fit and what it predicts.

    Attributes
    ----------
    coefficients : dict
        Fitted value of each coefficient in ``FITTED``.
    fit_table, holdout_table : pandas.DataFrame
        :func:`predict` with the fitted coefficients on the fit rows (H100) and on the
        hold-out rows (other chips).
    fit_median_abs_error_percent, holdout_median_abs_error_percent : float
    """

    coefficients: dict
    fit_table: pd.DataFrame
    holdout_table: pd.DataFrame
    fit_median_abs_error_percent: float
    holdout_median_abs_error_percent: float


def _fit(problem: _Problem, names: list[str], fixed: dict | None = None) -> dict:
    """The coefficients ``names`` (of ``FITTED``) that minimise the sum of squared
    log errors on ``problem``'s rows, inside their bounds; ``fixed`` gives the
    other coefficients (default: the schema's). Returns every coefficient of
    ``FITTED``, fitted or fixed."""
    # scale each coefficient to its range so one simplex step fits all
    lows = np.array([FITTED[n][0] for n in names])
    spans = np.array([FITTED[n][1] - FITTED[n][0] for n in names])
    held = {
        n: float((fixed or {}).get(n, DEFAULTS[n])) for n in FITTED if n not in names
    }
    measured = problem.table["measured_output_tokens_per_s"].to_numpy(float)

    def coefficients(z) -> dict:
        values = lows + z * spans
        out = dict(held)
        for name, v in zip(names, values, strict=True):
            out[name] = float(np.clip(v, *FITTED[name]))
        return out

    def objective(z):
        penalty = float(np.sum(np.square(z - np.clip(z, 0, 1))))
        pred = _run(problem, coefficients(z))["output_tokens_per_s"]
        return float(np.sum(np.square(log_errors(pred, measured)))) + penalty

    # from the middle of every range, so the shipped values do not steer the fit
    z0 = np.full(len(names), 0.5)
    best_z, _ = _nelder_mead(objective, z0, np.full(len(z0), 0.15), iters=2000)
    found = coefficients(best_z)
    return {n: found[n] for n in FITTED}


def fit_h100(measurements: pd.DataFrame | None = None) -> InferenceFit:
    """Fit ``FITTED`` on the ``fit`` rows (H100 only) and judge the hold-out rows."""
    meas = load_measurements() if measurements is None else measurements
    fit_rows = meas[meas["use"] == "fit"]
    if (fit_rows["chip"] != FIT_CHIP).any():
        raise ValueError(f"fit rows must all be {FIT_CHIP}")
    hold = meas[meas["use"] == "holdout"]

    problem = _problem(fit_rows)
    coeffs = _fit(problem, list(FITTED))
    fit_table = _table(problem, _run(problem, coeffs))
    hold_table = predict(hold, coeffs)
    return InferenceFit(
        coefficients=coeffs,
        fit_table=fit_table,
        holdout_table=hold_table,
        fit_median_abs_error_percent=float(fit_table["error_percent"].abs().median()),
        holdout_median_abs_error_percent=float(
            hold_table["error_percent"].abs().median()
        ),
    )


#: Coefficients only rows across packages (tp > 1) can tell.
_LINK_TERMS = ("inference_link_efficiency", "inference_allreduce_latency_us")
#: Most folds of a cross-validation.
FOLDS = 5


@dataclass
class ServingRefit:
    """The serving coefficients refitted on measurements of one's own, and their
    error on rows the refit did not see.

    Attributes
    ----------
    coefficients : dict
        Each coefficient of ``FITTED``: refitted on every fit row, or the
        shipped value where ``kept`` says why not.
    kept : dict
        Coefficient -> why the data cannot tell it (kept at the shipped value).
    fit_rows : int
        Rows the coefficients are fitted on.
    method : str
        How the held-out error is measured: ``"holdout"`` (the rows whose
        ``use`` is holdout, never fitted on), ``"by pair"`` (each row predicted
        by a refit that saw no row of its chip and model) or ``"k-fold"``
        (each row predicted by a refit on the other folds of rows).
    folds : int
        Folds of the cross-validation (0 for ``"holdout"``).
    fit_table : pandas.DataFrame
        :func:`predict` of the fit rows with ``coefficients`` (in-sample).
    held_out : pandas.DataFrame
        The held-out rows predicted by coefficients that did not see them.
    shipped : pandas.DataFrame
        The same rows predicted by the shipped coefficients.
    """

    coefficients: dict
    kept: dict
    fit_rows: int
    method: str
    folds: int
    fit_table: pd.DataFrame
    held_out: pd.DataFrame
    shipped: pd.DataFrame

    @property
    def fit_median_abs_error_percent(self) -> float:
        return _median_abs(self.fit_table)

    @property
    def held_out_median_abs_error_percent(self) -> float:
        return _median_abs(self.held_out)

    @property
    def shipped_median_abs_error_percent(self) -> float:
        return _median_abs(self.shipped)


def _median_abs(table: pd.DataFrame) -> float:
    """Median |error| (%) of a :func:`predict` table; a row the model cannot
    serve counts as -90 % (``NO_FIT_LOG_ERROR``'s share)."""
    fits = table["fits"].to_numpy(bool)
    err = np.where(fits, table["error_percent"].to_numpy(float), -90.0)
    return float(np.median(np.abs(err)))


def _untold(problem: _Problem) -> dict[str, str]:
    """The coefficients of ``FITTED`` the rows of ``problem`` cannot tell, each
    with why: moved alone to either end of its range (the others shipped), it
    changes no row's prediction by 0.1 % or more. The link terms so at tp 1."""
    base = _run(problem, None)["output_tokens_per_s"]
    tp = np.asarray(problem.s["tp"], float)
    out = {}
    for name, (low, high) in FITTED.items():
        moved = 0.0
        for end in (low, high):
            pred = _run(problem, {name: end})["output_tokens_per_s"]
            with np.errstate(divide="ignore", invalid="ignore"):
                change = np.abs(pred / base - 1)
            changed = np.where(np.isfinite(change), change, 1.0)  # fit <-> no fit
            moved = max(moved, float(np.max(changed, initial=0.0)))
        if moved < 1e-3:
            out[name] = (
                "no fit row runs across packages (tp > 1)"
                if name in _LINK_TERMS and not (tp > 1).any()
                else "it moves no fit row's prediction by 0.1 % across its range"
            )
    return out


def _folds(rows: pd.DataFrame, need: int):
    """How to cross-validate a refit on ``rows``: (method, folds, each row's
    fold), or (None, 0, None) when too few rows. Rows of three or more chip
    and model pairs are folded by pair ("by pair": each row predicted by a
    refit that saw no row of its chip and model; a pair per fold up to
    ``FOLDS`` pairs, else pair i in fold i mod ``FOLDS``); otherwise row i is
    in fold i mod ``FOLDS`` ("k-fold"), one row per fold where a refit would
    see fewer than ``need`` rows. Every refit must see ``need`` rows."""
    n = len(rows)
    pairs = list(zip(rows["chip"].astype(str), rows["model"].astype(str), strict=True))
    order = {pair: i for i, pair in enumerate(dict.fromkeys(pairs))}
    if len(order) >= 3:
        count = min(len(order), FOLDS)
        fold = np.array([order[p] % count for p in pairs])
        if all((fold != k).sum() >= need for k in range(count)):
            return "by pair", count, fold
    if n - 1 < need:
        return None, 0, None
    count = FOLDS if n - -(-n // FOLDS) >= need else n  # else leave one out
    return "k-fold", count, np.arange(n) % count


def refit(
    measurements: pd.DataFrame,
    chips: pd.DataFrame | None = None,
    models: pd.DataFrame | None = None,
) -> ServingRefit:
    """Refit ``FITTED`` on measurements of one's own (:func:`check_measurements`
    finds nothing in them) and measure the refit's error on rows it did not see.

    Rows whose ``use`` is ``holdout`` are held out and every other row is
    fitted on; without such rows every row is fitted on and the error is a
    cross-validation (:func:`_folds`: by chip and model pair where the rows
    hold three or more pairs, so each row is predicted by a refit that never
    saw its chip and model; else ``FOLDS``-fold by row). A coefficient the fit rows cannot tell (moved alone across
    its range it moves no prediction by 0.1 %: the link terms where no row
    runs across packages) is kept at its shipped value. ``chips`` and ``models`` as
    for :func:`predict`.

    Raises
    ------
    ValueError
        Fewer fit rows than coefficients to fit, plus one.
    """
    table = measurements.reset_index(drop=True)
    use = (
        table["use"].fillna("").astype(str).str.strip().str.lower()
        if "use" in table.columns
        else pd.Series("", index=table.index)
    )
    hold = use == "holdout"
    fit_rows = table[~hold]
    problem = _problem(fit_rows, chips, models)
    kept = _untold(problem)
    names = [n for n in FITTED if n not in kept]
    need = len(names) + 1
    if not names:
        raise ValueError(
            "no serving coefficient moves any prediction of these measurements: "
            "nothing to refit"
        )
    if len(fit_rows) < need:
        raise ValueError(
            f"a refit of {len(names)} coefficients needs at least {need} "
            f"measurements to fit on; the file has {len(fit_rows)}"
        )
    coeffs = _fit(problem, names)
    fit_table = _table(problem, _run(problem, coeffs))
    if hold.any():
        method, folds = "holdout", 0
        held = predict(table[hold], coeffs, chips, models)
    else:
        method, folds, fold = _folds(resolve_names(fit_rows, chips, models), need)
        if method is None:
            raise ValueError(
                f"a cross-validated refit of {len(names)} coefficients needs at "
                f"least {need + 1} measurements (each fitted on {need} or more "
                f"and judged on another); the file has {len(fit_rows)}: add rows"
            )
        parts = []
        for k in range(folds):
            train = fit_rows[fold != k]
            test = fit_rows[fold == k]
            found = _fit(_problem(train, chips, models), names)
            parts.append(predict(test, found, chips, models).set_index(test.index))
        held = pd.concat(parts).sort_index().reset_index(drop=True)
    shipped = predict(
        table[hold] if hold.any() else fit_rows, None, chips, models
    ).reset_index(drop=True)
    return ServingRefit(
        coefficients=coeffs,
        kept=kept,
        fit_rows=len(fit_rows),
        method=method,
        folds=folds,
        fit_table=fit_table,
        held_out=held.reset_index(drop=True),
        shipped=shipped,
    )


def holdout_report(measurements: pd.DataFrame | None = None) -> pd.DataFrame:
    """The shipped (unchanged) model on the hold-out rows: :func:`predict` with the
    schema's default coefficients."""
    meas = load_measurements() if measurements is None else measurements
    return predict(meas[meas["use"] == "holdout"])


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Median and mean absolute error, bias (median signed error) and count per chip
    and model, and over all rows."""
    t = table.assign(abs_error=table["error_percent"].abs())
    groups = t.groupby(["chip", "model"], sort=False)
    out = pd.DataFrame(
        {
            "measurements": groups.size(),
            "median_abs_error_percent": groups["abs_error"].median(),
            "median_error_percent": groups["error_percent"].median(),
        }
    )
    total = pd.DataFrame(
        {
            "measurements": [len(t)],
            "median_abs_error_percent": [t["abs_error"].median()],
            "median_error_percent": [t["error_percent"].median()],
        },
        index=pd.MultiIndex.from_tuples([("all", "all")], names=["chip", "model"]),
    )
    return pd.concat([out, total])


def per_measurement_table(table: pd.DataFrame) -> str:
    """Plain-text table of every measurement: scenario, measured, predicted, error."""
    cols = [
        "chip",
        "model",
        "precision",
        "tp",
        "input_tokens",
        "output_tokens",
        "measured_output_tokens_per_s",
        "predicted_output_tokens_per_s",
        "error_percent",
        "batch",
        "decode_bound",
    ]
    t = table[cols].copy()
    t["measured_output_tokens_per_s"] = t["measured_output_tokens_per_s"].round(0)
    t["predicted_output_tokens_per_s"] = t["predicted_output_tokens_per_s"].round(0)
    t["error_percent"] = t["error_percent"].round(1)
    return t.to_string(index=False)


def main() -> None:  # pragma: no cover - a report for people
    fit = fit_h100()
    print("H100 fit (shipped defaults in xlmodel/schema.py):")
    for name, value in fit.coefficients.items():
        print(f"  {name} = {value:.4g} {BY_NAME[name].unit}")
    print(
        f"fit median |error| {fit.fit_median_abs_error_percent:.1f} % on "
        f"{len(fit.fit_table)} H100 measurements"
    )
    hold = holdout_report()
    print(
        f"hold-out median |error| {hold['error_percent'].abs().median():.1f} % on "
        f"{len(hold)} measurements of other chips (shipped coefficients)\n"
    )
    print(summary(hold).round(1).to_string())
    print()
    print(per_measurement_table(hold))


if __name__ == "__main__":  # pragma: no cover
    main()
