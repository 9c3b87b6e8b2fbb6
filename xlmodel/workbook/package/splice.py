"""The splice: result sheets replace the owned ones in the user's package.

Owns :func:`splice_results` and the order of its steps. The original and the
results package are read and checked; the owned sheets and the parts only they use
are planned out (:mod:`.removal`); the results' styles are merged
(:mod:`.styles`) and their parts copied in under free names (:mod:`.result_parts`);
the workbook part and its relationships (:mod:`.workbook_xml`), the content types
and the extended properties (:mod:`.manifest`) are edited; every rewritten part is
parsed once more, and the merged package is written atomically (:mod:`.write`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection

from xlmodel.errors import PackageError

from .draft import Draft
from .manifest import rewrite_app_properties, rewrite_content_types
from .ooxml import EXTENSIONS, NS_CT, error, fold
from .ownership import Workbook, result_readers
from .parts import Package
from .removal import plan_removal
from .result_parts import copy_result_parts, result_strings
from .styles import merge_styles
from .workbook_xml import (
    active_tabs,
    clear_user_selection,
    rewrite_workbook,
    rewrite_workbook_rels,
    selected_user_sheets,
)
from .write import Merged, refuse_if_locked, write_atomically
from .xmltext import parse, read_part

#: Main-part content types by (macro-enabled, template), and the extension
#: Excel opens each kind under.
_MAIN_TYPES = {
    (False, False): "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ".sheet.main+xml",
    (True, False): "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    (False, True): "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ".template.main+xml",
    (True, True): "application/vnd.ms-excel.template.macroEnabled.main+xml",
}


def splice_results(
    original_path: str | os.PathLike[str],
    results_path: str | os.PathLike[str] | Package,
    out_path: str | os.PathLike[str],
    legacy_names: Collection[str] = (),
    open_on: str | None = None,
    deselect: bool = False,
    final: tuple[dict[int, int], dict[int, int]] | None = None,
) -> None:
    """Write the original workbook with its result sheets replaced by new ones.

    Every owned sheet of the original is removed together with the parts only
    it uses, its sheet-local defined names and its calculation-chain entries.
    Every sheet of ``results_path`` is appended after the user's sheets, in
    order, with its drawings, charts and other parts; its styles are merged into
    the original styles and its shared strings become inline strings. Every
    other part of the original keeps its exact bytes.

    Parameters
    ----------
    original_path : str or os.PathLike
        The user's workbook (``.xlsx`` or ``.xlsm``).
    results_path : str or os.PathLike or Package
        A workbook holding only result sheets, each carrying ``OWNED_NAME``,
        written with names chosen by :func:`plan_sheet_names`. Its global
        defined names are not copied; its sheet-local ones are. A
        :class:`~.parts.Package` made by :meth:`~.parts.Package.in_memory`
        is taken as it is (the results just written, never on disk).
    out_path : str or os.PathLike
        Where to write; may be ``original_path``. The file is written to a
        temporary file in the same directory and moved into place, so the
        target is either fully written or untouched. The permission bits of
        the original are kept; a symbolic link is written through.

    Raises
    ------
    PackageError
        If either input is not a usable workbook package, a result sheet name
        clashes with a user sheet, the target's extension is not the one Excel
        opens this kind of workbook under (a macro-enabled workbook as
        ``.xlsx``, a plain one as ``.xlsm``), the target is open in Excel or
        LibreOffice (its lock file lies beside it or beside the file a link
        points to), or the output cannot be written.

    ``open_on`` names a new sheet the workbook opens on when none of the
    user's sheets is selected (nothing of theirs changes); a selected one would
    be grouped with it in Excel, so the workbook then opens where it was left.
    With ``deselect`` it opens on ``open_on`` always: the user's sheets are
    deselected (their sheet views lose ``tabSelected``, the one change to
    their parts).

    ``final``: the style maps the results were written with, their cells and
    rows already in final form (merged style indices, inline strings; see
    :func:`xlmodel.workbook.package.styles.style_maps`): their cell data is
    copied as it is. Maps other than the splice's own (the workbook's styles
    changed since they were taken) raise :class:`StaleStyles`, nothing
    written.
    """
    with Package.open(original_path, "workbook") as original:
        original.read_all()
    if isinstance(results_path, Package):
        results = results_path
    else:
        with Package.open(results_path, "results workbook") as results:
            results.read_all()
    book = Workbook.read(original, legacy_names)
    main_type = main_type_for(book.content_type, out_path)
    refuse_if_locked(out_path)
    merged = _merge(original, book, results, main_type, open_on, deselect, final)
    mode = stat.S_IMODE(os.stat(original_path).st_mode)
    write_atomically(out_path, merged, mode)


def _merge(
    original: Package,
    book: Workbook,
    results: Package,
    main_type: str | None,
    open_on: str | None = None,
    deselect: bool = False,
    final: tuple[dict[int, int], dict[int, int]] | None = None,
) -> Merged:
    """Compute every part of the output package; ``main_type``: a new main type."""
    draft = Draft(original, book, results, Workbook.read(results))
    owned = set(book.owned)
    _check_sheets(draft, owned)
    plan_removal(draft, owned)
    draft.taken = {fold(n) for n in draft.orig.names if n not in draft.removed}
    xf_map, dxf_map = merge_styles(draft)
    if final is not None and final != (xf_map, dxf_map):
        raise StaleStyles(
            f"{os.fspath(original.path)}: its styles changed while the results "
            "were written"
        )
    strings = [] if final is not None else result_strings(draft)
    if open_on is not None and not deselect and selected_user_sheets(draft):
        open_on = None  # opening elsewhere would group the user's sheet with it
    views, active_new = active_tabs(draft, owned, open_on)
    if open_on is not None and active_new is not None and deselect:
        clear_user_selection(draft)
    part_map, has_formulas = copy_result_parts(
        draft, xf_map, dxf_map, strings, active_new, final is not None
    )
    new_rids = rewrite_workbook_rels(draft, part_map)
    names = [sheet.name for sheet in draft.rbook.sheets]
    recalc = has_formulas or bool(result_readers(book, draft.kept, names))
    rewrite_workbook(draft, owned, new_rids, views, recalc)
    rewrite_content_types(draft)
    if main_type is not None:
        _retype_main_part(draft, main_type)
    rewrite_app_properties(draft)

    for name, data in draft.replaced.items():
        parse(data, f"{os.fspath(draft.orig.path)}: rewritten {name}")
    infos = [i for i in draft.orig.infos if i.filename not in draft.removed]
    data = {
        i.filename: draft.replaced.get(i.filename, draft.orig.data.get(i.filename, b""))
        for i in infos
    }
    return Merged(infos, data, list(draft.new_parts.items()))


class StaleStyles(PackageError):
    """The results were laid out for styles the workbook no longer has: to be
    written again in the writer's own form."""


def _check_sheets(draft: Draft, owned: set[int]) -> None:
    """Note the kept sheets; refuse result sheet names that clash, or no sheets."""
    book = draft.book
    kept = [i for i in range(len(book.sheets)) if i not in owned]
    draft.kept = kept
    kept_names = {fold(book.sheets[i].name) for i in kept}
    new_names: set[str] = set()
    for sheet in draft.rbook.sheets:
        if fold(sheet.name) in kept_names or fold(sheet.name) in new_names:
            raise draft.orig.fail(
                f"result sheet {sheet.name!r} clashes with a sheet of the "
                "workbook (choose names with plan_sheet_names)"
            )
        new_names.add(fold(sheet.name))
        if sheet.rel is None or sheet.rel.part is None:
            raise draft.res.fail(f"sheet {sheet.name!r} has no part")
    if not kept and not draft.rbook.sheets:
        raise draft.orig.fail("the workbook would have no sheets left")


def main_type_for(current: str, out_path: str | os.PathLike[str]) -> str | None:
    """The main part's content type for the target's extension, the workbook's
    main part having the content type ``current``; None: keep it.

    Excel opens a workbook only under the extension of its kind. A plain
    workbook written to an ``.xlsm`` name becomes macro-enabled (it then has no
    macros, which Excel accepts), a template written to ``.xlsx`` a workbook and
    so on; a macro-enabled workbook keeps its macros, so an ``.xlsx`` or
    ``.xltx`` name for it is refused. Other extensions keep the content type.
    """
    suffix = os.path.splitext(os.fspath(out_path))[1].lower()
    wanted = EXTENSIONS.get(suffix)
    current = current.split(";")[0].strip()
    kind = next(
        (k for k, t in _MAIN_TYPES.items() if t.lower() == current.lower()), None
    )
    if wanted is None or kind is None or kind == wanted:
        return None
    if kind[0] and not wanted[0]:
        keep = next(e for e, k in EXTENSIONS.items() if k == (True, wanted[1]))
        stem = os.path.splitext(os.path.basename(os.fspath(out_path)))[0]
        raise error(
            out_path,
            f"the workbook holds macros, which a {suffix} file cannot: write it "
            f"to {stem}{keep}",
        )
    return _MAIN_TYPES[wanted]


def _retype_main_part(draft: Draft, content_type: str) -> None:
    """Give the main part ``content_type`` in the (rewritten) content types."""
    name = "[Content_Types].xml"
    data = draft.replaced.get(name, draft.orig.data.get(name, b""))
    xml = read_part(data, f"{draft.orig.path}: {name}", NS_CT, "Types")
    target = fold("/" + draft.book.part)
    for node in xml.root.findall(NS_CT, "Override"):
        if fold(node.get("PartName") or "") == target:
            xml.set_attr(node, "ContentType", content_type)
            draft.replaced[name] = xml.encode()
            return
    raise draft.orig.fail(f"{name} has no content type for {draft.book.part}")
