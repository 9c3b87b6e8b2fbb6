"""``xlmodel calibrate``: refit the physical power preset and print the fit;
with ``--serving``, judge the serving model on measurements of one's own."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import CellProblem, InputProblems, XlmodelError
from .console import format_fit, format_serving_check, warn


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
    help="Measured LLM serving throughputs (the columns of the shipped "
    "inference_measurements.csv): print the serving model's error on each.",
)
def calibrate(csv_path: Path | None, serving_path: Path | None):
    """Fit the physical power preset to reference chips and print the fit.

    CSV_PATH has the columns of the shipped reference table (chip, process_node,
    sms_or_cus, clock_mhz, fp16_dense_tflops, hbm_bw_tbps, tdp_w, ...); without it
    the shipped table is used. With --serving FILE, the serving model (its
    shipped coefficients, fitted on H100 only) predicts each measurement of
    FILE instead, on the chips of CSV_PATH or the shipped ones, and the errors
    are printed: nothing is refitted.
    """
    from ..studies.calibrate import PRIORS, fit_power
    from ..studies.reference import load_chips, power_features

    try:
        chips = load_chips(csv_path) if csv_path is not None else None
    except ValueError as err:
        raise XlmodelError(f"{csv_path}: {err}") from None
    if serving_path is not None:
        click.echo(_serving(serving_path, chips))
        return
    try:
        fit = fit_power(power_features(load_chips() if chips is None else chips))
    except ValueError as err:
        raise XlmodelError(f"{csv_path or 'chips.csv'}: {err}") from None
    click.echo(format_fit(fit, PRIORS, csv_path or "shipped chips.csv"))


def _serving(path: Path, chips) -> str:
    """The serving model's errors on the measurements at ``path``, as text."""
    from ..studies import inference_calibration as cal

    try:
        table = cal.load_measurements(path)
    except ValueError as err:
        raise XlmodelError(f"{path}: {err}") from None
    try:
        problems = cal.check_measurements(table, chips)
    except ValueError as err:
        raise XlmodelError(f"{path}: {err}") from None
    if problems:
        raise InputProblems(
            [
                CellProblem(f"{path.name} line {line}", "", column, value, expected)
                for line, column, value, expected in problems
            ]
        )
    if not len(table):
        raise XlmodelError(f"{path}: no measurements below the header line")
    try:
        predicted = cal.predict(table, chips=chips)
    except ValueError as err:
        raise XlmodelError(f"{path}: {' '.join(str(err).split())}") from None
    warn(cal.link_warnings(table))
    return format_serving_check(predicted, path)
