"""``xlmodel calibrate``: refit the physical power preset and print the fit."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import XlmodelError
from .console import format_fit


@click.command()
@click.argument(
    "csv_path",
    required=False,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
def calibrate(csv_path: Path | None):
    """Fit the physical power preset to reference chips and print the fit.

    CSV_PATH has the columns of the shipped reference table (chip, process_node,
    sms_or_cus, clock_mhz, fp16_dense_tflops, hbm_bw_tbps, tdp_w, ...); without it
    the shipped table is used.
    """
    from ..studies.calibrate import PRIORS, fit_power
    from ..studies.reference import load_chips, power_features

    try:
        chips = load_chips(csv_path)
        fit = fit_power(power_features(chips))
    except ValueError as err:
        raise XlmodelError(f"{csv_path or 'chips.csv'}: {err}") from None
    click.echo(format_fit(fit, PRIORS, csv_path or "shipped chips.csv"))
