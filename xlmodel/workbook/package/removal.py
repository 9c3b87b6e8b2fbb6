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
from .xmltext import ROOT_RE, as_int, iter_elements, tag_attrs, xml_text


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
    xml = xml_text(draft.orig.read(part), part)
    draft.orig.xml(part)
    root_match = ROOT_RE.search(xml.text)
    assert root_match is not None
    prefix = xml.prefix_for(NS_MAIN)
    if prefix is None:
        return None
    spans = iter_elements(xml.text, prefix, "c", root_match.end(), len(xml.text))
    # An entry without i= belongs to the sheet of the entry before it, so
    # it is dropped or kept together with that one: kept entries need no edit.
    pieces = []
    pos = 0
    current = 0
    kept = 0
    changed = False
    for span in spans:
        attrs = tag_attrs(span.tag)
        if "i" in attrs:
            current = as_int(attrs["i"])
        if current in removed_sheet_ids:
            pieces.append(xml.text[pos : span.start])
            pos = span.end
            changed = True
        else:
            kept += 1
    if not changed:
        return None
    if kept == 0:
        return "remove"
    pieces.append(xml.text[pos:])
    xml.text = "".join(pieces)
    draft.replaced[part] = xml.encode()
    return "rewritten"
