"""Command-line options shared by more than one command."""

from __future__ import annotations

from pathlib import Path

import click


def output_options(command):
    """PATH, -o/--output, --export-dir and --no-export: shared by compute and explore."""
    for option in reversed(
        (
            click.argument("path", type=click.Path(dir_okay=False, path_type=Path)),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write the workbook with results here instead of in place.",
            ),
            click.option(
                "--export-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Folder for CSV tables and PNG figures  [default: "
                "outputs/<workbook name>/ beside the workbook written]",
            ),
            click.option(
                "--no-export", is_flag=True, help="Write no CSV or PNG files."
            ),
        )
    ):
        command = option(command)
    return command
