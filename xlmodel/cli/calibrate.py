"""``xlmodel calibrate``: refit the physical power preset and print the fit;
with ``--serving``, judge the serving model on measurements of one's own."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..csvfile import is_workbook
from ..errors import CellProblem, InputProblems, XlmodelError
from .console import format_fit, format_serving_check, format_serving_refit, warn


@click.command()
@click.argument(
    "csv_path",
    required=False,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@click.option(
    "--serving",
    "serving_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Measured LLM serving throughputs, a CSV with the columns of the "
    "shipped inference_measurements.csv or a workbook whose sheet has them in "
    "a header row: print the serving model's error on each.",
)
@click.option(
    "--models",
    "models_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="With --serving: models of one's own, a CSV with the columns of the "
    "shipped models.csv or a workbook whose Models sheet defines them; added to "
    "the shipped models (one of the same name replaces it).",
)
@click.option(
    "--refit",
    is_flag=True,
    help="With --serving: refit the serving coefficients on FILE's rows and "
    "print them with their error on rows the refit did not see (FILE's rows "
    "whose use is holdout, else a cross-validation).",
)
def calibrate(
    csv_path: Path | None,
    serving_path: Path | None,
    models_path: Path | None,
    refit: bool,
):
    """Fit the physical power preset to reference chips and print the fit.

    CSV_PATH has the columns of the shipped reference table (chip, process_node,
    sms_or_cus, clock_mhz, fp16_dense_tflops, hbm_bw_tbps, tdp_w, ...), or is a
    workbook whose References sheet lists the chips; without it the shipped
    table is used. With --serving FILE, the serving model (its
    shipped coefficients, fitted on H100 only) predicts each measurement of
    FILE instead, on the chips of CSV_PATH or the shipped ones and the models
    of models.csv and --models, and the errors are printed, nothing refitted;
    with --refit as well, the serving coefficients are instead refitted on
    FILE's rows and judged on rows the refit did not see.
    """
    from ..studies.calibrate import PRIORS, fit_power
    from ..studies.reference import load_chips, power_features

    read: dict = {}  # workbooks read so far (CSV_PATH and --models may be one)
    # the chips, and how the messages name where they come from
    if csv_path is None:
        chips, source, fitted_on = None, "chips.csv", "shipped chips.csv"
    elif is_workbook(csv_path):
        chips = _workbook_study(csv_path, "References", read).references
        source = fitted_on = f"the References sheet of {csv_path.name}"
    else:
        try:
            chips = load_chips(csv_path)
        except ValueError as err:
            raise XlmodelError(f"{csv_path}: {err}") from None
        warn(_node_warnings(chips, csv_path))
        source, fitted_on = csv_path.name, csv_path
    if serving_path is not None:
        models = _models(models_path, read) if models_path is not None else None
        click.echo(_serving(serving_path, chips, source, models, models_path, refit))
        return
    if models_path is not None:
        raise click.UsageError("--models needs --serving: the power fit uses no model")
    if refit:
        raise click.UsageError(
            "--refit needs --serving: it refits the serving coefficients on "
            "measurements"
        )
    try:
        fit = fit_power(power_features(load_chips() if chips is None else chips))
    except ValueError as err:
        raise XlmodelError(f"{csv_path or 'chips.csv'}: {err}") from None
    click.echo(format_fit(fit, PRIORS, fitted_on))


def _workbook_study(path: Path, sheet: str, read: dict):
    """The workbook at ``path`` read and checked as compute reads it (every
    problem of it, at its cell, stops the command), once per command: ``read``
    holds those read so far. The warnings of its ``sheet`` are said (those
    about its variants are not this command's)."""
    from ..pipeline import validate

    key = Path(path).resolve()
    if key not in read:
        read[key] = validate(path)
    study = read[key]
    warn([w for w in study.warnings if re.match(rf"{re.escape(sheet)}[!:]", w)])
    return study


def _node_warnings(chips, path: Path) -> list[str]:
    """A warning per chip of the user's table whose process node label names
    no size: the preset and the fit take it as a 5 nm-class node."""
    from ..studies.reference import node_class

    return [
        f"{path.name}: {chip} process_node {label!r} names no size in nm or Å: "
        "taken as a 5 nm-class node (voltage and transistor density); put the "
        f"size in its label, e.g. '{label} 5nm'"
        for chip, label in chips["process_node"].astype(str).items()
        if node_class(label) is None
    ]


def _serving(path: Path, chips, chips_source, models, models_path, refit) -> str:
    """The serving model's errors on the measurements at ``path``, as text."""
    from ..studies import inference_calibration as cal

    label = "line"
    try:
        if is_workbook(path):
            from ..workbook.table_sheet import read_table

            table, title = read_table(
                path,
                cal.MEASUREMENT_COLUMNS,
                "the measurements",
                ("kv_precision", "batch", "max_batch", "use"),
            )
            label = f"{title} row"
        else:
            table = cal.load_measurements(path)
    except ValueError as err:
        raise XlmodelError(f"{path}: {err}") from None
    sources = {
        "chips_source": chips_source,
        "models_source": f"models.csv or {models_path.name}"
        if models_path
        else "models.csv",
    }
    try:
        problems = cal.check_measurements(table, chips, models, **sources)
    except ValueError as err:
        raise XlmodelError(f"{path}: {err}") from None
    _raise(problems, path, label)
    if not len(table):
        raise XlmodelError(f"{path}: no measurements below the header line")
    warn(cal.link_warnings(table, chips, chips_source))
    try:
        if refit:
            return format_serving_refit(cal.refit(table, chips, models), path)
        predicted = cal.predict(table, chips=chips, models=models)
    except ValueError as err:
        raise XlmodelError(f"{path}: {' '.join(str(err).split())}") from None
    return format_serving_check(predicted, path)


def _raise(problems, path: Path, label: str = "line") -> None:
    """Raise InputProblems for (line, column, value, expected) problems of the
    file at ``path``, if any; ``label`` names a line ("line", or "Sheet1 row"
    for a workbook's sheet)."""
    if problems:
        raise InputProblems(
            [
                CellProblem(f"{path.name} {label} {line}", "", column, value, expected)
                for line, column, value, expected in problems
            ]
        )


def _models(path: Path, read: dict):
    """The user's models at ``path`` (a CSV, or a workbook's Models sheet)
    before the shipped ones not named there: the model table the serving check
    looks models up in."""
    from ..lazy import pd
    from ..studies.inference import (
        load_models,
        model_problems,
        model_warnings,
        read_user_models,
    )

    if is_workbook(path):
        from ..workbook.inputs.models import to_frame

        serving = _workbook_study(path, "Models", read).serving
        if serving is None or not len(serving.models):
            raise XlmodelError(
                f"{path}: the workbook has no Models sheet or it lists no model"
            )
        own = to_frame(serving.models)
    else:
        try:
            table = read_user_models(path)
        except ValueError as err:
            raise XlmodelError(f"{path}: {err}") from None
        _raise(model_problems(table), path)
        if not len(table):
            raise XlmodelError(f"{path}: no models below the header line")
        table["name"] = table["name"].astype(str).str.strip()
        warn(model_warnings(table, path.name))
        own = table.set_index("name")
    shipped = load_models()
    return pd.concat([own, shipped.loc[~shipped.index.isin(own.index)]])
