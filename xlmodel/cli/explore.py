"""``xlmodel explore`` and ``xlmodel adopt``: wiring and printing only."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from .console import Progress, format_studies, warn
from .options import output_options


@click.command()
@output_options
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Run the chunks on a local Dask cluster of N worker processes "
    "(needs xlmodel[dask]).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run the chunks on the existing Dask cluster whose scheduler is at "
    "ADDRESS (e.g. tcp://10.0.0.5:8786).",
)
def explore(
    path: Path,
    output: Path | None,
    export_dir: Path | None,
    no_export: bool,
    workers: int | None,
    scheduler: str | None,
):
    """Explore the design space set up on PATH's Exploration setup sheet.

    Every point of the ranges is evaluated around the base variant; the feasible
    Pareto front, the top designs, how often each constraint binds and a chart go
    to the Exploration result sheet (with every other result sheet). With
    --workers or --scheduler the chunks run on Dask workers and only their
    summaries come back; the results are the same as without.
    """
    from ..export import default_export_dir
    from ..pipeline import compute as run_compute

    if workers is not None and scheduler is not None:
        raise click.UsageError("give --workers or --scheduler, not both")
    progress = Progress()
    export_dir = export_dir or default_export_dir(output or path)
    if workers is None and scheduler is None:
        backend = contextlib.nullcontext()
    else:
        from ..studies.distributed import dask_backend

        def started(what: str, seconds: float) -> None:
            click.echo(f"exploring on {what} (started in {seconds:.1f} s)", err=True)
            progress.last = progress.clock()  # the rate leaves the start-up out

        backend = dask_backend(workers, scheduler, started)
    with backend:
        results = run_compute(
            path,
            output,
            None if no_export else export_dir,
            progress=progress,
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
    warn(done.warnings)
    click.echo(
        f"added {done.name!r} (design {done.design}, around {done.base_variant}) as "
        f"column {done.column} of {done.sheet} in {output or path}; run "
        f"'xlmodel compute {output or path}' to evaluate it"
    )
