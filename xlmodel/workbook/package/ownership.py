"""Which sheets of a workbook are xlmodel's, and names for new result sheets.

Owns the reading of the workbook part as a list of sheets (:class:`Workbook`,
:class:`Sheet`), the marker that makes a sheet one of xlmodel's result sheets
(:data:`OWNED_NAME`, a sheet-scoped defined name), the summary of a package that
the pipeline plans with (:class:`PackageInfo`, :func:`inspect_package`) and the
choice of result sheet names that never replace a user sheet
(:func:`plan_sheet_names`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from xlmodel.errors import PackageError

from .ooxml import NS_DOC_REL, NS_MAIN, NS_STRICT_MAIN, fold, q
from .parts import Package, Rel
from .xmltext import as_int

#: Sheet-scoped defined name that marks a sheet as one of xlmodel's result sheets.
OWNED_NAME = "_xlmodel_result"

_MAX_SHEET_NAME = 31


@dataclass(frozen=True)
class PackageInfo:
    """What a workbook package holds, as far as splicing results is concerned.

    Attributes
    ----------
    sheet_names : tuple of str
        Every sheet (worksheets and chart sheets), in workbook order.
    owned : frozenset of str
        Names of the sheets that carry ``OWNED_NAME`` (results of an earlier run).
    macro_enabled : bool
        Whether the main part has a macro-enabled content type (``.xlsm``).
    """

    sheet_names: tuple[str, ...]
    owned: frozenset[str]
    macro_enabled: bool


def inspect_package(path: str | os.PathLike[str]) -> PackageInfo:
    """Check that a file is a workbook package and list its sheets.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` or ``.xlsm`` file.

    Returns
    -------
    PackageInfo
        The sheets in workbook order, which of them are xlmodel's own, and
        whether the workbook is macro-enabled.

    Raises
    ------
    PackageError
        If the file cannot be read, is not a zip package, is a damaged or
        truncated zip, is password-protected or a legacy ``.xls`` file, holds
        unsafe part names, would decompress to an unreasonable size, or holds
        no spreadsheet workbook part.
    """
    with Package.open(path, "workbook") as pkg:
        book = Workbook.read(pkg)
        return PackageInfo(
            sheet_names=tuple(s.name for s in book.sheets),
            owned=frozenset(book.sheets[i].name for i in book.owned),
            macro_enabled="macroenabled" in book.content_type.lower(),
        )


def plan_sheet_names(info: PackageInfo, wanted: list[str]) -> dict[str, str]:
    """Choose the name of each result sheet so that no user sheet is replaced.

    A wanted name is used as is when no sheet has it, or when the sheet that has
    it is owned (it will be replaced). When a user sheet has it (compared
    case-insensitively, as Excel does), ``"<name> (xlmodel)"`` is tried, then
    ``"<name> (xlmodel 2)"`` and so on, with ``<name>`` shortened so that the
    result fits Excel's 31-character limit.

    Parameters
    ----------
    info : PackageInfo
        The workbook the results will be spliced into.
    wanted : list of str
        The result sheet names the report would like to use, in order.

    Returns
    -------
    dict of str to str
        Each wanted name mapped to the name to use. Names never clash with a
        user sheet or with each other; a name repeated in ``wanted`` is planned
        once.
    """
    taken = {fold(n) for n in info.sheet_names if n not in info.owned}
    plan: dict[str, str] = {}
    for name in wanted:
        if name in plan:
            continue
        candidate = name
        number = 1
        while fold(candidate) in taken:
            suffix = " (xlmodel)" if number == 1 else f" (xlmodel {number})"
            candidate = name[: _MAX_SHEET_NAME - len(suffix)] + suffix
            number += 1
        taken.add(fold(candidate))
        plan[name] = candidate
    return plan


@dataclass
class Sheet:
    """One <sheet> entry of a workbook part."""

    name: str
    sheet_id: int
    rid: str
    state: str
    rel: Rel | None

    @property
    def visible(self) -> bool:
        return self.state not in ("hidden", "veryHidden")


@dataclass
class Workbook:
    """The parsed main part of a package."""

    pkg: Package
    part: str
    content_type: str
    root: Element
    sheets: list[Sheet]
    owned: list[int]
    rels: list[Rel] = field(default_factory=list)

    @classmethod
    def read(cls, pkg: Package) -> Workbook:
        part = pkg.main_part()
        where = f"{os.fspath(pkg.path)}: {part}"
        content_type, _ = pkg.content_type(part)
        root = pkg.xml(part)
        if root.tag == q(NS_STRICT_MAIN, "workbook"):
            raise pkg.fail(
                "Strict Open XML workbooks are not supported; save it as an "
                "Excel Workbook (.xlsx)"
            )
        if root.tag != q(NS_MAIN, "workbook"):
            raise pkg.fail(f"{part} is not a spreadsheet workbook part")
        if content_type is None or (
            "spreadsheetml" not in content_type and "ms-excel" not in content_type
        ):
            raise pkg.fail(f"{part} does not have a workbook content type")
        rels = pkg.rels(part)
        by_id = {r.rid: r for r in rels}
        sheets = []
        for el in root.iterfind(f"{q(NS_MAIN, 'sheets')}/{q(NS_MAIN, 'sheet')}"):
            name = el.get("name")
            rid = el.get(q(NS_DOC_REL, "id"))
            if not name or rid is None:
                raise PackageError(f"{where}: a sheet has no name or no r:id")
            sheets.append(
                Sheet(
                    name,
                    as_int(el.get("sheetId")),
                    rid,
                    el.get("state", "visible"),
                    by_id.get(rid),
                )
            )
        owned = []
        for el in root.iterfind(
            f"{q(NS_MAIN, 'definedNames')}/{q(NS_MAIN, 'definedName')}"
        ):
            local = el.get("localSheetId")
            if fold(el.get("name", "")) == fold(OWNED_NAME) and local is not None:
                index = as_int(local, -1)
                if 0 <= index < len(sheets) and index not in owned:
                    owned.append(index)
        return cls(pkg, part, content_type, root, sheets, sorted(owned), rels)
