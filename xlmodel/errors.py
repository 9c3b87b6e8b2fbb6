"""Errors a user can cause; the CLI prints each as one line and exits with status 2."""

from __future__ import annotations

from dataclasses import dataclass


class XlmodelError(Exception):
    """Base class of every error xlmodel reports to a user (never a traceback)."""


@dataclass(frozen=True)
class CellProblem:
    """One problem found in one cell of a workbook.

    Rendered as ``Sheet!A1 parameter: 'value' <expectation>``.
    """

    sheet: str
    cell: str
    parameter: str
    value: object
    expected: str

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        name = f" {self.parameter}" if self.parameter else ""
        return f"{where}{name}: {self.value!r} {self.expected}"


class InputProblems(XlmodelError):
    """Every problem found in a workbook's inputs, reported together."""

    def __init__(self, problems: list[CellProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PackageError(XlmodelError):
    """The file is not a workbook xlmodel can read or write (not xlsx, corrupt, locked)."""
