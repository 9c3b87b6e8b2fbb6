"""The output package while a splice plans it: what goes, what comes, under which names.

Owns :class:`Draft`, the state the steps of a splice share: the two packages and
their workbook parts, the parts of the original that are replaced or removed, the
parts added with their content types, and the part names already taken (so that a
copied part never lands on a name in use, :meth:`Draft.free_name`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .ooxml import fold
from .ownership import Workbook
from .parts import Package, rels_name


@dataclass
class Draft:
    """What the merged package will be, built step by step.

    Attributes
    ----------
    orig, book : Package, Workbook
        The user's package and its workbook part.
    res, rbook : Package, Workbook
        The results package and its workbook part.
    kept : list of int
        Indices (in ``book.sheets``) of the sheets that stay, in order.
    replaced : dict of str to bytes
        New bytes of original parts that are edited.
    removed : set of str
        Original parts that are dropped.
    new_parts : dict of str to bytes
        Parts added, in the order they are written.
    new_types : list of (str, str, bool)
        Part name, content type and whether it needs an Override, per new part.
    taken : set of str
        Folded names of every part of the output so far.
    new_styles_part : str or None
        The styles part added when the original has none.
    """

    orig: Package
    book: Workbook
    res: Package
    rbook: Workbook
    kept: list[int] = field(default_factory=list)
    replaced: dict[str, bytes] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    new_parts: dict[str, bytes] = field(default_factory=dict)
    new_types: list[tuple[str, str, bool]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    new_styles_part: str | None = None

    def free_name(self, wanted: str) -> str:
        """A part name like ``wanted`` that no part (or its rels) uses yet."""
        if fold(wanted) not in self.taken and fold(rels_name(wanted)) not in self.taken:
            self.taken.add(fold(wanted))
            return wanted
        folder, base = posixpath.split(wanted)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        stem = stem.rstrip("0123456789")
        suffix = f".{ext}" if dot else ""
        number = 1
        while True:
            candidate = posixpath.join(folder, f"{stem}{number}{suffix}")
            if (
                fold(candidate) not in self.taken
                and fold(rels_name(candidate)) not in self.taken
            ):
                self.taken.add(fold(candidate))
                return candidate
            number += 1
