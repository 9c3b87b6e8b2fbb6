"""What leaves the package with the owned sheets.

Owns the removal plan of a splice: the parts reachable only from the owned (result)
sheets of an earlier run, their relationships parts, and the calculation chain,
whose entries of removed sheets are dropped (and which goes too, with what only it
uses, when no entry remains).
"""

from __future__ import annotations

from .draft import Draft
from .ooxml import NS_MAIN, RT_CALC_CHAIN
from .ownership import Workbook
from .parts import reach, rels_name
from .xmltext import XmlPart, as_int


def plan_removal(draft: Draft, owned: set[int]) -> None:
    """Find the parts only owned sheets (or an emptied calcChain) use."""
    book = draft.book
    edges = draft.orig.graph()
    owned_parts = {
        book.sheets[i].rel.part
        for i in owned
        if book.sheets[i].rel is not None and book.sheets[i].rel.part is not None
    }
    skip = {(book.part, p) for p in owned_parts if p is not None}
    roots = edges.get("", [])
    alive = reach(edges, roots, skip)
    doomed = reach(edges, [p for p in owned_parts if p], set()) - alive
    removed_sheet_ids = {book.sheets[i].sheet_id for i in owned}
    if _rewrite_calc_chain(draft, removed_sheet_ids) == "remove":
        chain = _calc_chain_part(book)
        if chain is not None:
            doomed |= reach(edges, [chain], set()) - reach(
                edges, roots, skip | {(book.part, chain)}
            )
    for part in list(doomed):
        rels = draft.orig.find(rels_name(part))
        if rels is not None:
            doomed.add(rels)
    draft.removed = doomed


def _calc_chain_part(book: Workbook) -> str | None:
    """The calculation chain part of a workbook, if it has one."""
    for rel in book.rels:
        if rel.type == RT_CALC_CHAIN and rel.part is not None:
            return rel.part
    return None


def _rewrite_calc_chain(draft: Draft, removed_sheet_ids: set[int]) -> str | None:
    """Drop calcChain entries of removed sheets; 'remove' if none remain."""
    part = _calc_chain_part(draft.book)
    if part is None or not removed_sheet_ids:
        return None
    xml = XmlPart(draft.orig.read(part), f"{draft.orig.path}: {part}")
    if not xml.root.is_(NS_MAIN, "calcChain"):
        return None
    # An entry without i= belongs to the sheet of the entry before it, so
    # it is dropped or kept together with that one: kept entries need no edit.
    current = 0
    kept = 0
    changed = False
    for node in xml.root.findall(NS_MAIN, "c"):
        if node.get("i") is not None:
            current = as_int(node.get("i"))
        if current in removed_sheet_ids:
            xml.remove(node)
            changed = True
        else:
            kept += 1
    if not changed:
        return None
    if kept == 0:
        return "remove"
    draft.replaced[part] = xml.encode()
    return "rewritten"
