"""The ``xlmodel`` command group: every XlmodelError becomes one line per problem
and exit status 2, never a traceback. The commands live beside it, one module per
family (workbook, explore, calibrate); this module only registers them."""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import InputProblems, XlmodelError
from .calibrate import calibrate
from .diff import diff
from .explore import adopt, explore
from .workbook import compute, init, validate

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


for _command in (init, validate, compute, calibrate, explore, adopt, diff):
    main.add_command(_command)
