"""Work run beside the rest of a compute, on the machine's other core.

:class:`Background` starts a function and hands its value over when asked. A
compute uses it three times: the Monte Carlo beside the other studies and
the writing of the result sheets until the Uncertainty sheet asks for it (it
depends only on the variants and its setup, and is the largest single study
of a workbook with many variants), half of the result sheets' XML
(:mod:`xlmodel.workbook.assembly`) and the values' parse of a large input
sheet beside its formulas' (:mod:`xlmodel.workbook.grid`). It runs the
function:

- on Linux, in a forked child process when this process runs no other thread
  (:func:`can_fork`): the child shares the parent's memory as it was (nothing
  is copied or pickled on the way in), runs on another core with no lock
  shared with the parent, and sends back its value and its progress through a
  pipe;
- elsewhere, or beside other threads (forking a process that runs threads can
  leave a lock held forever in the child), in a thread (the Monte Carlo's
  numpy work releases the interpreter lock, so some of it still overlaps) or,
  for work that must not share this process's objects while it goes on with
  them, here, at once.

Either way the value is that of a serial run (the Monte Carlo's random streams
are its own, seeded per variant, whoever runs it). A child that dies without
an answer (killed, out of memory) is not an error of the user's: the function
is then run here, serially. When the compute fails or is interrupted first,
the child is ended and a thread stops at its next progress report. A child
ends with its parent, even a parent killed, and holds none of its locks (the
workbook's write lock is let go in every forked child).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a name for the annotations only: the module stays light
    from .design_space import StageProgress

#: "process", "thread" or "serial": how :class:`Background` runs when not told.
#: "process" falls back to a thread where forking is not safe (see the module).
DEFAULT_MODE = "process"


class _Cancelled(Exception):
    """The compute the study belongs to has failed or was interrupted."""


class Background:
    """``fn(*args, progress)`` started on entering, its value from :meth:`result`.

    Parameters
    ----------
    fn : callable or None
        The study; None: nothing to run, :meth:`result` returns None.
    args : tuple
        Its arguments before ``progress``; a thread gets them as they are, so the
        caller passes copies of anything it goes on changing.
    progress : callable, optional
        ``progress(stage, done, total)``, called in this process (from a thread
        of its own while the study runs elsewhere).
    mode : str, optional
        "process", "thread" or "serial" (run on entering, as before); default
        :data:`DEFAULT_MODE`.
    fallback : str, optional
        How a "process" runs when no child can be had: "thread" (default) or
        "serial" (for work that must not share this process's objects while
        it goes on with them).

    Use as a context manager: leaving it by an exception ends the study.
    """

    def __init__(
        self,
        fn: Callable | None,
        args: tuple,
        progress: StageProgress | None = None,
        mode: str | None = None,
        fallback: str = "thread",
    ) -> None:
        if mode is None:
            mode = DEFAULT_MODE
        if mode not in ("process", "thread", "serial"):
            raise ValueError(f"mode {mode!r}: expected process, thread or serial")
        if fallback not in ("thread", "serial"):
            raise ValueError(f"fallback {fallback!r}: expected thread or serial")
        self._fallback = fallback
        if mode == "process" and not can_fork():
            mode = fallback
        self.fn, self.args, self.progress = fn, args, progress
        self.mode = mode if fn is not None else "serial"
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = None
        self._answer: tuple | None = None  # ("value", v) or ("error", exc)

    # --- starting -------------------------------------------------------------

    def __enter__(self) -> Background:
        if self.fn is None:
            return self
        if self.mode == "process" and self._start_process():
            return self
        if self.mode == "process":
            self.mode = self._fallback
        if self.mode == "thread":
            self._thread = threading.Thread(
                target=self._in_thread, name="xlmodel-background", daemon=True
            )
            self._thread.start()
            return self
        self._answer = ("value", self.fn(*self.args, self.progress))
        return self

    def _start_process(self) -> bool:
        ctx = multiprocessing.get_context("fork")
        try:
            receive, send = ctx.Pipe(duplex=False)
        except OSError:
            return False
        process = ctx.Process(
            target=_child,
            args=(send, self.fn, self.args, self.progress is not None, os.getpid()),
            name="xlmodel-background",
            daemon=True,
        )
        try:
            process.start()
        except OSError:  # no process to be had (limits): a thread then
            receive.close()
            send.close()
            return False
        send.close()
        self._process = process
        # the child's messages read as they come, so its progress shows live
        self._thread = threading.Thread(
            target=self._listen, args=(receive,), name="xlmodel-listen", daemon=True
        )
        self._thread.start()
        return True

    # --- running ----------------------------------------------------------------

    def _in_thread(self) -> None:
        def progress(stage, done, total):
            if self._cancel.is_set():
                raise _Cancelled
            if self.progress is not None:
                self.progress(stage, done, total)

        try:
            self._answer = ("value", self.fn(*self.args, progress))
        except BaseException as exc:  # handed over by result()
            self._answer = ("error", exc)

    def _listen(self, receive) -> None:
        try:
            while True:
                message = receive.recv()
                if message[0] == "progress":
                    if self.progress is not None and not self._cancel.is_set():
                        self.progress(*message[1:])
                    continue
                self._answer = message
                return
        except (EOFError, OSError):  # the child died without an answer
            self._answer = None
        except BaseException as exc:  # a progress callback's own failure
            self._answer = ("error", exc)
        finally:
            receive.close()

    # --- the answer -------------------------------------------------------------

    def result(self):
        """The study's value (waits for it); None when there was no study.

        Raises what the study raised.
        """
        if self.fn is None:
            return None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._process is not None:
            self._process.join()
            self._process = None
            if self._answer is None:  # lost with its child: run here
                self.mode = "serial"
                self._answer = ("value", self.fn(*self.args, self.progress))
        kind, value = self._answer
        if kind == "error":
            raise value
        return value

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            return
        self.cancel()

    def cancel(self) -> None:
        """End the study: a child is ended, a thread stops at its next progress
        report; its value is not to be asked for after."""
        self._cancel.set()
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._process = None


def split(weights: list[float], head: float = 0.05) -> set[int]:
    """Indices of the pieces of work for a child, from their weights: the
    heaviest first, each to the lighter side, the child's side started
    ``head`` of all the weight heavier (its first touch of each page of the
    parent's memory copies it, and it sends its answer back: the lighter the
    work per weight, the larger that share)."""
    child, here = head * sum(weights), 0.0
    chosen: set[int] = set()
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        if child < here:
            chosen.add(i)
            child += weights[i]
        else:
            here += weights[i]
    return chosen


def can_fork() -> bool:
    """True when a forked child is safe here: on Linux, with no other thread.

    fork is the default start method on Linux only (macOS's system libraries
    are not safe in a forked child, Windows has no fork).
    """
    return sys.platform.startswith("linux") and threading.active_count() == 1


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """End this child when its parent ends, even killed (it would run on for
    nothing, holding a core)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux's libc
        pass  # the child then ends at its next report, on the closed pipe
    if os.getppid() != parent:  # the parent ended before the call above
        os._exit(1)


def _child(send, fn, args, report: bool, parent: int) -> None:
    """The study in the forked child; its value or its error sent back."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides

    def progress(stage, done, total):
        if report:
            send.send(("progress", stage, done, total))

    try:
        answer = ("value", fn(*args, progress))
    except Exception as exc:
        answer = ("error", exc)
    try:
        send.send(answer)
    except Exception as exc:  # an answer that cannot be pickled
        send.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        send.close()
