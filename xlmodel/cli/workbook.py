"""``xlmodel init | validate | compute``: wiring and printing only."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import XlmodelError
from .console import Progress, format_comparison, format_studies, warn
from .options import output_options


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, force: bool):
    """Write a new variants workbook (the seed's five variants) to PATH."""
    from ..workbook.template import write_template

    if path.exists() and not force:
        raise XlmodelError(f"{path} exists; use --force to overwrite it")
    write_template(path)
    click.echo(
        f"wrote {path}: edit the Variants sheet, then run 'xlmodel compute {path}'"
    )


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def validate(path: Path):
    """Check PATH's inputs; print every problem (exit 2) or the warnings (exit 0)."""
    from ..pipeline import check

    checked = check(path)
    warn(checked.warnings)
    click.echo(
        f"{path}: {len(checked.names)} variant(s), inputs OK"
        + (f", {len(checked.warnings)} warning(s)" if checked.warnings else "")
    )


@click.command()
@output_options
@click.option(
    "--open-on-summary",
    is_flag=True,
    help="Make the workbook open on the Summary even when it was saved on a "
    "sheet of yours (without it, it does only when none of yours is selected). "
    "Your sheets are deselected (Excel would group them with it): the one "
    "change to them.",
)
def compute(
    path: Path,
    output: Path | None,
    export_dir: Path | None,
    no_export: bool,
    open_on_summary: bool,
):
    """Compute every variant of PATH and write result sheets and charts into it."""
    from ..export import default_export_dir
    from ..pipeline import compute as run_compute

    export_dir = export_dir or default_export_dir(output or path)
    results = run_compute(
        path,
        output,
        None if no_export else export_dir,
        progress=Progress(),
        open_on_summary=open_on_summary,
    )
    warn(results.study.warnings)
    click.echo(format_comparison(results))
    if studies := format_studies(results):
        click.echo("\n" + studies)
    target = output or path
    click.echo(
        f"\nwrote result sheets to {target}"
        + ("" if no_export else f"; tables and figures to {export_dir}/")
    )
