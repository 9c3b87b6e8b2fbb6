"""The ``xlmodel`` command group: every XlmodelError becomes one line per problem
and exit status 2, never a traceback. The commands live beside it, one module per
family (workbook, explore, calibrate); this module only registers them."""

from __future__ import annotations

import os
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


def _workbook_state() -> str:
    """What became of the workbook: unchanged, or already written (an error
    after the write, while printing)."""
    write = sys.modules.get("xlmodel.workbook.package.write")
    written = getattr(write, "WRITTEN", None)
    if written:
        return f"the results were written to {written[-1]} before it"
    return "the workbook was not changed"


def _stdout_closed() -> bool:
    """Whether the reader of standard output went away (``| head``)."""
    try:
        import select

        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        events = poll.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll: the likeliest
        return True
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in events)


class _Group(click.Group):
    """Turns every XlmodelError into one line per problem and exit status 2."""

    def invoke(self, ctx):
        write = sys.modules.get("xlmodel.workbook.package.write")
        if write is not None:  # a command run before in this process
            write.WRITTEN.clear()
        try:
            return super().invoke(ctx)
        except XlmodelError as err:
            _fail(err)
        except KeyboardInterrupt:
            click.echo(f"interrupted; {_workbook_state()}.", err=True)
            sys.exit(130)
        except click.UsageError as err:
            # a mistyped command line: one line, as every other problem
            msg = " ".join(err.format_message().split())
            where = err.ctx.command_path if err.ctx is not None else "xlmodel"
            click.echo(f"error: {msg} (see '{where} --help')", err=True)
            sys.exit(EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError as err:
            if not _stdout_closed():
                self._internal(err)
            # the reader stopped reading (``| head``): the work stands, the
            # rest of what it prints goes nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except Exception as err:  # a defect of ours: one line, never a traceback
            self._internal(err)

    @staticmethod
    def _internal(err: Exception) -> None:
        msg = " ".join(str(err).split())[:500]
        click.echo(
            f"error: internal error ({type(err).__name__}: {msg}); "
            f"{_workbook_state()}. Please report this with the workbook.",
            err=True,
        )
        sys.exit(1)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="xlmodel")
def main():
    """Compare chiplet-based AI accelerator variants from an Excel workbook."""


for _command in (init, validate, compute, calibrate, explore, adopt, diff):
    main.add_command(_command)
