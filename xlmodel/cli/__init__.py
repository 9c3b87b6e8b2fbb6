"""Command line: ``xlmodel init | validate | compute | calibrate | explore | adopt``.

Wiring and printing only; the group is :mod:`xlmodel.cli.app`.
"""

from .app import EXIT_INPUT, main

__all__ = ["EXIT_INPUT", "main"]
