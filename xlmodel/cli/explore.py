"""``xlmodel explore`` and ``xlmodel adopt``: wiring and printing only."""

from __future__ import annotations

from pathlib import Path

import click

from .console import Progress, format_studies, warn
from .options import output_options


@click.command()
@output_options
def explore(path: Path, output: Path | None, export_dir: Path | None, no_export: bool):
    """Explore the design space set up on PATH's Exploration setup sheet.

    Every point of the ranges is evaluated around the base variant; the feasible
    Pareto front, the top designs, how often each constraint binds and a chart go
    to the Exploration result sheet (with every other result sheet).
    """
    from ..export import default_export_dir
    from ..pipeline import compute as run_compute

    export_dir = export_dir or default_export_dir(output or path)
    results = run_compute(
        path,
        output,
        None if no_export else export_dir,
        progress=Progress(),
        explore=True,
    )
    warn(results.study.warnings)
    click.echo(format_studies(results))
    click.echo(
        f"\nwrote result sheets to {output or path}"
        + ("" if no_export else f"; tables and figures to {export_dir}/")
    )


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
    from ..workbook.adopt import adopt_design

    done = adopt_design(path, design, name, output)
    click.echo(
        f"added {done.name!r} (design {done.design}, around {done.base_variant}) as "
        f"column {done.column} of {done.sheet} in {output or path}; run "
        f"'xlmodel compute {output or path}' to evaluate it"
    )
