"""Test code run in a fresh interpreter, for the paths that fork.

A forked child is only taken when the process runs no other thread
(:func:`xlmodel.studies.background.can_fork`), which a test worker
(pytest-xdist) may not be.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).parent


def in_fresh_python(code: str) -> str:
    """Run ``code`` (dedented) in a new interpreter that imports the tests'
    helpers (this module among them); its standard output. A non-zero exit
    fails the calling test with what the code printed."""
    prelude = f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def record_runs() -> list[tuple]:
    """From now on, each :class:`~xlmodel.studies.background.Background`
    entered in this process, as (the background, its mode on entering, its
    child's pid or None); ``background.mode`` is its mode in the end."""
    from xlmodel.studies import background

    runs: list[tuple] = []
    enter = background.Background.__enter__

    def spy(self):
        entered = enter(self)
        child = self._process.pid if self._process is not None else None
        runs.append((self, self.mode, child))
        return entered

    background.Background.__enter__ = spy
    return runs


def dying_in_a_child(fn):
    """``fn``, but a forked child calling it dies at once without an answer
    (exit status 3); this process calls ``fn`` itself."""
    import os

    parent = os.getpid()

    def wrapper(*args, **kwargs):
        if os.getpid() != parent:
            os._exit(3)
        return fn(*args, **kwargs)

    return wrapper
