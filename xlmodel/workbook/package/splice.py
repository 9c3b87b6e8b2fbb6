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

from .draft import Draft
from .manifest import rewrite_app_properties, rewrite_content_types
from .ooxml import error, fold
from .ownership import Workbook
from .parts import Package
from .removal import plan_removal
from .result_parts import copy_result_parts, result_strings
from .styles import merge_styles
from .workbook_xml import active_tabs, rewrite_workbook, rewrite_workbook_rels
from .write import Merged, refuse_if_locked, write_atomically
from .xmltext import parse


def splice_results(
    original_path: str | os.PathLike[str],
    results_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
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
    results_path : str or os.PathLike
        A workbook holding only result sheets, each carrying ``OWNED_NAME``,
        written with names chosen by :func:`plan_sheet_names`. Its global
        defined names are not copied; its sheet-local ones are.
    out_path : str or os.PathLike
        Where to write; may be ``original_path``. The file is written to a
        temporary file in the same directory and moved into place, so the
        target is either fully written or untouched. The permission bits of
        the original are kept; a symbolic link is written through.

    Raises
    ------
    PackageError
        If either input is not a usable workbook package, a result sheet name
        clashes with a user sheet, a macro-enabled workbook would be written
        with an ``.xlsx`` name, the target is open in Excel or LibreOffice (its
        lock file lies beside it), or the output cannot be written.
    """
    with Package.open(original_path, "workbook") as original:
        original.read_all()
    with Package.open(results_path, "results workbook") as results:
        results.read_all()
    book = Workbook.read(original)
    macro = "macroenabled" in book.content_type.lower()
    suffix = os.path.splitext(os.fspath(out_path))[1].lower()
    if macro and suffix == ".xlsx":
        raise error(out_path, "a macro-enabled workbook must keep its .xlsm name")
    refuse_if_locked(out_path)
    merged = _merge(original, book, results)
    mode = stat.S_IMODE(os.stat(original_path).st_mode)
    write_atomically(out_path, merged, mode)


def _merge(original: Package, book: Workbook, results: Package) -> Merged:
    """Compute every part of the output package."""
    draft = Draft(original, book, results, Workbook.read(results))
    owned = set(book.owned)
    _check_sheets(draft, owned)
    plan_removal(draft, owned)
    draft.taken = {fold(n) for n in draft.orig.names if n not in draft.removed}
    xf_map, dxf_map = merge_styles(draft)
    strings = result_strings(draft)
    views, active_new = active_tabs(draft, owned)
    part_map, has_formulas = copy_result_parts(
        draft, xf_map, dxf_map, strings, active_new
    )
    new_rids = rewrite_workbook_rels(draft, part_map)
    rewrite_workbook(draft, owned, new_rids, views, has_formulas)
    rewrite_content_types(draft)
    rewrite_app_properties(draft)

    for name, data in draft.replaced.items():
        parse(data, f"{os.fspath(draft.orig.path)}: rewritten {name}")
    infos = [i for i in draft.orig.infos if i.filename not in draft.removed]
    data = {
        i.filename: draft.replaced.get(i.filename, draft.orig.data.get(i.filename, b""))
        for i in infos
    }
    return Merged(infos, data, list(draft.new_parts.items()))


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
