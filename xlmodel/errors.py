"""Errors a user can cause; the CLI prints each as one line and exits with status 2."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: Text longer than this is shortened in messages (see :func:`shortened`).
MAX_SHOWN_CHARS = 60


def shortened(text: str) -> str:
    """``text`` for a message: past 60 characters, its start, ``...`` and its length.

    A variant name may be 32,767 characters long; a line quoting it stays short:
    ``shortened("N" * 32767)`` is 60 N, then ``... (32,767 characters)``.
    """
    if len(text) <= MAX_SHOWN_CHARS:
        return text
    return f"{text[:MAX_SHOWN_CHARS]}... ({len(text):,} characters)"


def quoted(value) -> str:
    """A user's value quoted for a message (``'fast'``, ``2000``), long text shortened.

    Every message that quotes what a user typed goes through here (or through
    :func:`shortened` for text shown without quotes).
    """
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        return f"{value[:MAX_SHOWN_CHARS] + '...'!r} ({len(value):,} characters)"
    text = repr(value)
    return shortened(text)


def did_you_mean(text: str, choices, several: bool = False) -> str:
    """`` (did you mean silicon_interposer?)`` for the one choice that holds
    the text typed (``interposer``) or is held in it (``air cooled``), letters
    and digits alone compared, or one close to it (``brige``); else nothing.
    With ``several``, a few choices that hold it are named together (``H100``:
    `` (did you mean one of H100 SXM5, H100 PCIe, H100 NVL?)``)."""
    key = _letters(text)
    if not key:
        return ""
    folded = {_letters(c): c for c in choices}
    holding = [c for k, c in folded.items() if key in k or (len(k) >= 3 and k in key)]
    if len(holding) == 1:
        return f" (did you mean {holding[0]}?)"
    if several and 1 < len(holding) <= 4:
        return f" (did you mean one of {', '.join(holding)}?)"
    close = difflib.get_close_matches(key, list(folded), 1, 0.75)
    return f" (did you mean {folded[close[0]]}?)" if close else ""


def _letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


class XlmodelError(Exception):
    """Base class of every error xlmodel reports to a user (never a traceback)."""


def listing(names, most: int = 8) -> str:
    """Names for a message, comma-separated: at most ``most``, each shortened."""
    names = list(names)
    more = ", ..." if len(names) > most else ""
    return ", ".join(shortened(str(n)) for n in names[:most]) + more


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
        return f"{where}{name}: {quoted(self.value)} {self.expected}"


class InputProblems(XlmodelError):
    """Every problem found in a workbook's inputs, reported together."""

    def __init__(self, problems: list[CellProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PackageError(XlmodelError):
    """The file is not a workbook xlmodel can read or write (not xlsx, corrupt, locked)."""
