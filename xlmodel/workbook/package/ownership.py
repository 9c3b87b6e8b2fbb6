"""Which sheets of a workbook are xlmodel's, and names for new result sheets.

Owns the reading of the workbook part as a list of sheets (:class:`Workbook`,
:class:`Sheet`), the marker that makes a sheet one of xlmodel's result sheets
(:data:`OWNED_NAME`, a sheet-scoped defined name), the summary of a package that
the pipeline plans with (:class:`PackageInfo`, :func:`inspect_package`) and the
choice of result sheet names that never replace a user sheet
(:func:`plan_sheet_names`).

Ownership is by identity, not by the marker alone. The marker is sheet-scoped, so
it travels with a sheet that a user copies ("Summary (2)") or renames ("Summary
Q3"). Its value is the name xlmodel gave the sheet (:func:`marker_value`): a sheet
is xlmodel's only while it carries the marker *and* still has that name. A copy
cannot have the name of its original, and a renamed sheet no longer has it, so both
are the user's: never removed, never overwritten. Markers written before names were
recorded hold ``"xlmodel"``; such a sheet is xlmodel's when its name is one xlmodel
gives result sheets (``legacy_names``, or one of them with the `` (xlmodel)``
suffix of :func:`plan_sheet_names`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from xlmodel.errors import PackageError

from .ooxml import (
    EXTENSIONS,
    NS_DOC_REL,
    NS_MAIN,
    NS_STRICT_MAIN,
    RT_STYLES,
    RT_WORKSHEET,
    fold,
    q,
)
from .parts import Package, Rel
from .xmltext import as_int

#: Sheet-scoped defined name that marks a sheet as one of xlmodel's result sheets.
OWNED_NAME = "_xlmodel_result"

_MAX_SHEET_NAME = 31

#: Value of the marker written before the marker recorded the sheet's name.
_LEGACY_VALUE = "xlmodel"
_SUFFIX_RE = re.compile(r"(.+) \(xlmodel(?: \d+)?\)")


def marker_value(name: str) -> str:
    """The formula text of the marker of result sheet ``name``: the name as a string.

    An Excel string constant: the name in double quotes, inner double quotes
    doubled. :func:`read_marker` reads it back.
    """
    return '"' + name.replace('"', '""') + '"'


def read_marker(text: str | None) -> str | None:
    """The sheet name a marker records, or None when it is not a string constant."""
    value = (text or "").strip()
    if value.startswith("="):
        value = value[1:].strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return None
    inner = value[1:-1]
    if '"' in inner.replace('""', ""):
        return None
    return inner.replace('""', '"')


def _is_owned(name: str, recorded: str | None, legacy_names: Collection[str]) -> bool:
    """Whether a marked sheet called ``name`` is still the one xlmodel wrote."""
    if recorded is None:
        return False
    if recorded != _LEGACY_VALUE or name == _LEGACY_VALUE:
        return recorded == name
    legacy = {fold(n) for n in legacy_names}
    if fold(name) in legacy:
        return True
    match = _SUFFIX_RE.fullmatch(name)
    return bool(match) and any(n.startswith(fold(match.group(1))) for n in legacy)


@dataclass(frozen=True)
class PackageInfo:
    """What a workbook package holds, as far as splicing results is concerned.

    Attributes
    ----------
    sheet_names : tuple of str
        Every sheet (worksheets and chart sheets), in workbook order.
    owned : frozenset of str
        Names of the result sheets of an earlier run: they carry ``OWNED_NAME``
        and still have the name xlmodel gave them. The next compute replaces them.
    macro_enabled : bool
        Whether the main part has a macro-enabled content type (``.xlsm``).
    copies : frozenset of str
        Sheets that carry the marker under another name than the one xlmodel
        gave: copies or renames of result sheets, which are the user's.
    content_type : str
        The main part's content type (which extensions it may be written to).
    styles : bytes or None
        The bytes of the workbook's styles part (None: it has none): what the
        results' formats will be merged into.
    """

    sheet_names: tuple[str, ...]
    owned: frozenset[str]
    macro_enabled: bool
    copies: frozenset[str] = frozenset()
    content_type: str = ""
    styles: bytes | None = field(default=None, repr=False, compare=False)


def check_replaceable(path, out, legacy_names: Collection[str] = ()) -> None:
    """Refuse an output (``-o``) without a workbook's extension (Excel would not
    open it), or one that exists and is not a workbook holding results of an
    earlier compute: a file of the user's, which replacing would lose (a target
    xlmodel wrote before is replaced, as a compute in place replaces its
    results).

    Raises
    ------
    PackageError
        One line naming ``out``.
    """
    path, out = os.fspath(path), os.fspath(out)
    if out == path or _same_file(out, path):
        return
    suffix = os.path.splitext(out)[1]
    if suffix.lower() not in EXTENSIONS:
        named = f"ends in {suffix}" if suffix else "has no extension"
        raise PackageError(
            f"{out}: the output {named}, and xlmodel writes an Excel workbook, "
            "which Excel opens only under a workbook's extension: give -o a name "
            "ending in .xlsx (or .xlsm, .xltx, .xltm)"
        )
    if not os.path.exists(out):
        return
    try:
        owned = inspect_package(out, legacy_names).owned
    except (OSError, PackageError):
        owned = frozenset()
    if not owned:
        raise PackageError(
            f"{out}: exists and holds no results of an earlier compute (a file "
            "of yours, not one xlmodel wrote); left as it is: give -o another "
            "path, or move the file away first"
        )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def inspect_package(
    path: str | os.PathLike[str], legacy_names: Collection[str] = ()
) -> PackageInfo:
    """Check that a file is a workbook package and list its sheets.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` or ``.xlsm`` file.
    legacy_names : collection of str
        The names xlmodel gives result sheets: a sheet with a marker of an older
        xlmodel (which did not record the name) is owned only under one of them.

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
        book = Workbook.read(pkg, legacy_names)
        return PackageInfo(
            sheet_names=tuple(s.name for s in book.sheets),
            owned=frozenset(book.sheets[i].name for i in book.owned),
            macro_enabled="macroenabled" in book.content_type.lower(),
            copies=frozenset(book.sheets[i].name for i in book.copies),
            content_type=book.content_type,
            styles=next(
                (
                    pkg.read(rel.part)
                    for rel in book.rels
                    if rel.type == RT_STYLES and rel.part is not None
                ),
                None,
            ),
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
    copies: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, pkg: Package, legacy_names: Collection[str] = ()) -> Workbook:
        """Parse the main part; ``legacy_names`` as for :func:`inspect_package`."""
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
        owned: set[int] = set()
        marked: set[int] = set()
        for el in root.iterfind(
            f"{q(NS_MAIN, 'definedNames')}/{q(NS_MAIN, 'definedName')}"
        ):
            local = el.get("localSheetId")
            if fold(el.get("name", "")) == fold(OWNED_NAME) and local is not None:
                index = as_int(local, -1)
                if not 0 <= index < len(sheets):
                    continue
                marked.add(index)
                recorded = read_marker(el.text)
                if _is_owned(sheets[index].name, recorded, legacy_names):
                    owned.add(index)
        return cls(
            pkg,
            part,
            content_type,
            root,
            sheets,
            sorted(owned),
            rels,
            sorted(marked - owned),
        )


def sheet_reference(name: str) -> re.Pattern[bytes]:
    """A reference to sheet ``name`` in a formula, as it appears in sheet XML.

    Matches ``Name!`` and ``'Name'!`` (inner quotes doubled), the quote also
    written as ``&apos;`` or ``&#39;``, case-insensitively; the name XML-escaped.
    """
    quote = rb"(?:'|&apos;|&#39;|&#x27;)"
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    parts = [re.escape(p.encode("utf-8")) for p in escaped.split("'")]
    quoted_name = (quote + quote).join(parts)
    bare = re.escape(escaped.encode("utf-8"))
    return re.compile(
        rb"(?:" + quote + quoted_name + quote + rb"|(?<![\w.'])" + bare + rb")!",
        re.IGNORECASE,
    )


def result_readers(book: Workbook, kept: Collection[int], names: Collection[str]):
    """The user's sheets (and defined names) whose formulas read result sheets.

    ``kept`` are the indices of the sheets that stay, ``names`` the result
    sheets about to be written. Such a formula shows the value it had before
    the compute until a reader recalculates. The search is over the bytes of
    the kept worksheet parts and over the user's defined names; it errs
    towards finding (a cell text that looks like a reference also counts),
    which costs a recalculation, never a stale number.

    Returns
    -------
    list of str
        Sheet names in workbook order, then ``"defined name <name>"`` entries.
    """
    if not names:
        return []
    patterns = [sheet_reference(n) for n in names]
    found = []
    for index in sorted(kept):
        sheet = book.sheets[index]
        rel = sheet.rel
        if rel is None or rel.part is None or rel.type != RT_WORKSHEET:
            continue
        data = book.pkg.read(rel.part)
        if b"!" in data and any(p.search(data) for p in patterns):
            found.append(sheet.name)
    gone = set(range(len(book.sheets))) - set(kept)
    for el in book.root.iterfind(
        f"{q(NS_MAIN, 'definedNames')}/{q(NS_MAIN, 'definedName')}"
    ):
        if as_int(el.get("localSheetId"), -1) in gone:
            continue  # a name of a replaced result sheet (its print area)
        text = (el.text or "").encode("utf-8")
        if any(p.search(text) for p in patterns):
            found.append(f"defined name {el.get('name', '')}")
    return found


def sheets_reading_results(
    path: str | os.PathLike[str],
    names: Collection[str],
    legacy_names: Collection[str] = (),
) -> list[str]:
    """:func:`result_readers` of the workbook at ``path``, its owned sheets gone."""
    with Package.open(path, "workbook") as pkg:
        book = Workbook.read(pkg, legacy_names)
        kept = [i for i in range(len(book.sheets)) if i not in set(book.owned)]
        return result_readers(book, kept, names)
