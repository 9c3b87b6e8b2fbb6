"""Command line: ``xlmodel init | validate | compute | explore | adopt``; wiring and
printing only (explore and adopt live in :mod:`xlmodel.cli_explore`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .cli_options import output_options
from .errors import InputProblems, XlmodelError

EXIT_INPUT = 2  # the user's input is at fault; nothing was written


def _fail(err: XlmodelError) -> None:
    lines = (
        [str(p) for p in err.problems]
        if isinstance(err, InputProblems)
        else [" ".join(str(err).split())]
    )
    for line in lines:
        click.echo(f"error: {line}", err=True)
    if isinstance(err, InputProblems):
        click.echo(f"{len(lines)} problem(s); nothing was written.", err=True)
    sys.exit(EXIT_INPUT)


def _warn(warnings) -> None:
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


class _Group(click.Group):
    """Turns every XlmodelError into one line per problem and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except XlmodelError as err:
            _fail(err)
        except KeyboardInterrupt:
            click.echo("interrupted; the workbook was not changed.", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:  # a defect of ours: one line, never a traceback
            msg = " ".join(str(err).split())[:500]
            click.echo(
                f"error: internal error ({type(err).__name__}: {msg}); the workbook "
                "was not changed. Please report this with the workbook.",
                err=True,
            )
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="xlmodel")
def main():
    """Compare chiplet-based AI accelerator variants from an Excel workbook."""


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, force: bool):
    """Write a new variants workbook (the seed's five variants) to PATH."""
    from .workbook.template import write_template

    if path.exists() and not force:
        raise XlmodelError(f"{path} exists; use --force to overwrite it")
    write_template(path)
    click.echo(
        f"wrote {path}: edit the Variants sheet, then run 'xlmodel compute {path}'"
    )


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path):
    """Check PATH's inputs; print every problem (exit 2) or the warnings (exit 0)."""
    from .pipeline import validate as run_validate

    study = run_validate(path)
    _warn(study.warnings)
    click.echo(
        f"{path}: {len(study.variants)} variant(s), inputs OK"
        + (f", {len(study.warnings)} warning(s)" if study.warnings else "")
    )


@main.command()
@output_options
def compute(path: Path, output: Path | None, export_dir: Path, no_export: bool):
    """Compute every variant of PATH and write result sheets and charts into it."""
    from .cli_explore import Progress, format_studies
    from .pipeline import compute as run_compute

    results = run_compute(
        path, output, None if no_export else export_dir, progress=Progress()
    )
    _warn(results.study.warnings)
    click.echo(format_comparison(results))
    if studies := format_studies(results):
        click.echo("\n" + studies)
    target = output or path
    click.echo(
        f"\nwrote result sheets to {target}"
        + ("" if no_export else f"; tables and figures to {export_dir}/")
    )


@main.command()
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
    from .engine.calibrate import PRIORS, fit_power
    from .reference import load_chips, power_features

    try:
        chips = load_chips(csv_path)
        fit = fit_power(power_features(chips))
    except ValueError as err:
        raise XlmodelError(f"{csv_path or 'chips.csv'}: {err}") from None
    click.echo(format_fit(fit, PRIORS, csv_path or "shipped chips.csv"))


def format_fit(fit, priors, source) -> str:
    """The fitted coefficients and the per-chip errors against published TDP."""
    k = fit.coefficients
    lines = [
        f"physical power preset fitted on {len(fit.per_chip)} chips ({source})",
        "",
    ]
    for name, row in priors.iterrows():
        lines.append(
            f"  {name:<16} {k[name]:>9.3f} {row['unit']:<8} "
            f"(prior {row['mean']:g} +/- {row['sd']:g})"
        )
    lines.append(
        f"  {'dvfs_exponent':<16} {k['dvfs_exponent']:>9.2f}          "
        "(energy per FLOP ~ clock^d, chosen from a grid)"
    )
    lines += [
        "",
        f"{'chip':<18} {'TDP W':>7} {'model W':>8} {'error':>7} {'leave-one-out':>14}",
    ]
    for chip, r in fit.per_chip.iterrows():
        lines.append(
            f"{str(chip)[:18]:<18} {r['tdp_w']:>7.0f} {r['predicted_w']:>8.0f} "
            f"{r['error_percent']:>+6.1f}% {r['loo_error_percent']:>+13.1f}%"
        )
    lines += [
        "",
        f"median absolute error {fit.median_abs_error_percent:.1f} %, "
        f"leave-one-out {fit.loo_median_abs_error_percent:.1f} %",
        "TDP is a board power limit, not a measurement: errors are reported, "
        "not tuned away.",
    ]
    return "\n".join(lines)


def format_comparison(results, limit: int = 20) -> str:
    """The seed's console table: one line per variant, then the recommendation."""
    t = results.comparison.table
    prec = results.study.targets["target_precision"]
    head = (
        f"{'variant':<24} {prec + ' TFLOPS':>12} {'TFLOPS/mm²':>11} "
        f"{'power W':>8} {'TFLOPS/W':>9} {'Tj °C':>6}  targets"
    )
    lines = [head, "-" * len(head)]
    for name, r in t.head(limit).iterrows():
        ok = "".join(
            [
                "D" if r["meets_density_target"] else "-",
                "P" if r["meets_power_budget"] else "-",
                "T" if r["meets_tj_max"] else "-",
            ]
        )
        lines.append(
            f"{str(name)[:24]:<24} {r['target_peak_tflops']:>12.1f} "
            f"{r['target_density_tflops_per_mm2']:>11.3f} {r['power_total_w']:>8.0f} "
            f"{r['tflops_per_w']:>9.3f} {r['junction_temp_c']:>6.1f}  {ok}"
        )
    if len(t) > limit:
        lines.append(f"... and {len(t) - limit} more (see the Summary sheet)")
    lines.append("targets: D density, P power budget, T junction temperature")
    lines.append("")
    lines.extend(results.comparison.messages)
    return "\n".join(lines)


def _register() -> None:
    from .cli_explore import adopt, explore

    main.add_command(explore)
    main.add_command(adopt)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
