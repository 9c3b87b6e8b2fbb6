"""Edits of the workbook part and of its relationships.

Owns the splice's changes to ``xl/workbook.xml`` and its relationships part: the
relationships of removed parts dropped and the new sheets' (and a new styles
part's) added; the owned ``<sheet>`` entries removed and the new ones appended;
sheet-local defined names moved with their sheets, the results' copied and the
ownership marker (:data:`OWNED_NAME`) set on every new sheet; the book views'
active and first tabs; and recalculation on load when the new sheets hold
formulas. Every edit is made in the text, so the rest of the part keeps its bytes.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from .draft import Draft
from .ooxml import NS_DOC_REL, NS_MAIN, NS_PKG_REL, RT_STYLES, fold, q
from .ownership import OWNED_NAME, marker_value
from .parts import relative, rels_name
from .xmltext import (
    ROOT_RE,
    Xml,
    as_int,
    esc_attr,
    esc_text,
    find_element,
    insert_point,
    iter_elements,
    set_attr,
    tag_attrs,
    xml_text,
)

# Children of <workbook> that precede <definedNames>, in schema order.
_BEFORE_DEFINED_NAMES = ("sheets", "functionGroups", "externalReferences")


def rewrite_workbook_rels(draft: Draft, part_map: dict[str, str]) -> list[str]:
    """Drop relationships of removed parts, add the new sheets'.

    Returns the relationship ids of the new sheets, in order.
    """
    book = draft.book
    rels_part = draft.orig.find(rels_name(book.part))
    if rels_part is None:
        raise draft.orig.fail(f"{book.part} has no relationships part")
    xml = xml_text(draft.orig.read(rels_part), rels_part)
    prefix = xml.prefix_for(NS_PKG_REL) or ""
    text = xml.text
    drop = {
        rel.rid
        for rel in book.rels
        if rel.part is not None and rel.part in draft.removed
    }
    # Ids of dropped relationships are free again: a re-run numbers the new
    # sheets' relationships as the previous run did.
    existing = {rel.rid for rel in book.rels if rel.rid not in drop}
    pieces, pos = [], 0
    root = ROOT_RE.search(text)
    assert root is not None
    for span in iter_elements(text, prefix, "Relationship", root.end(), len(text)):
        if tag_attrs(span.tag).get("Id") in drop:
            pieces.append(text[pos : span.start])
            pos = span.end
    pieces.append(text[pos:])
    text = "".join(pieces)

    numbers = [
        int(m.group(1)) for rid in existing if (m := re.fullmatch(r"rId(\d+)", rid))
    ]
    counter = max(numbers, default=0)
    qual = (prefix + ":") if prefix else ""
    added, new_rids = [], []
    targets = [
        (part_map[s.rel.part], s.rel.type)
        for s in draft.rbook.sheets
        if s.rel is not None and s.rel.part is not None
    ]
    if draft.new_styles_part is not None:
        targets.append((draft.new_styles_part, RT_STYLES))
    for target, rel_type in targets:
        counter += 1
        while f"rId{counter}" in existing:
            counter += 1
        rid = f"rId{counter}"
        existing.add(rid)
        new_rids.append(rid)
        added.append(
            f'<{qual}Relationship Id="{rid}" Type="{esc_attr(rel_type)}" '
            f'Target="{esc_attr(relative(book.part, target))}"/>'
        )
    close = text.rfind(f"</{qual}Relationships")
    if close < 0:
        raise draft.orig.fail(f"{rels_part} is not laid out as expected")
    text = text[:close] + "".join(added) + text[close:]
    xml.text = text
    draft.replaced[rels_part] = xml.encode()
    return new_rids[: len(draft.rbook.sheets)]


def active_tabs(
    draft: Draft, owned: set[int]
) -> tuple[list[tuple[int, int]], int | None]:
    """New (activeTab, firstSheet) per book view, and the active new sheet."""
    book = draft.book
    sheets = [book.sheets[i] for i in draft.kept] + draft.rbook.sheets
    position = {old: new for new, old in enumerate(draft.kept)}
    offset = len(draft.kept)
    views = draft.book.root.iterfind(
        f"{q(NS_MAIN, 'bookViews')}/{q(NS_MAIN, 'workbookView')}"
    )
    result = []
    active_new = None
    for view in views:
        active = as_int(view.get("activeTab"))
        first = as_int(view.get("firstSheet"))
        if active in position and sheets[position[active]].visible:
            new_active = position[active]
        else:
            new_active = None
            if 0 <= active < len(book.sheets):
                folded = fold(book.sheets[active].name)
                for j, sheet in enumerate(draft.rbook.sheets):
                    if fold(sheet.name) == folded and sheet.visible:
                        new_active = offset + j
            if new_active is None and active in owned:
                new_active = next(
                    (offset + j for j, s in enumerate(draft.rbook.sheets) if s.visible),
                    None,
                )
            if new_active is None:
                new_active = next((j for j, s in enumerate(sheets) if s.visible), 0)
        new_first = position.get(first, 0)
        new_first = min(new_first, new_active)
        result.append((new_active, new_first))
        if active_new is None and new_active >= offset:
            active_new = new_active - offset
    return result, active_new


def rewrite_workbook(
    draft: Draft,
    owned: set[int],
    new_rids: list[str],
    views: list[tuple[int, int]],
    has_formulas: bool,
) -> None:
    """Edit sheets, defined names, book views and calcPr of the workbook.

    ``views`` holds the new (activeTab, firstSheet) of each book view, from
    :func:`active_tabs`; ``has_formulas`` whether a new sheet holds a formula.
    """
    book = draft.book
    part = book.part
    xml = xml_text(draft.orig.read(part), part)
    prefix = xml.prefix_for(NS_MAIN)
    if prefix is None:
        raise draft.orig.fail(f"{part} does not declare the spreadsheet namespace")
    qual = (prefix + ":") if prefix else ""
    text = xml.text
    position = {old: new for new, old in enumerate(draft.kept)}
    offset = len(draft.kept)
    text = _edit_book_views(text, prefix, views)
    text = _edit_sheets(draft, xml, text, owned, new_rids)
    new_names = _new_defined_names(draft, qual, offset)
    text = _edit_defined_names(text, prefix, owned, position, new_names)
    # Formulas of the new sheets are not in the calculation chain: have
    # spreadsheet applications recalculate when they open the file.
    if has_formulas:
        text = _full_calc_on_load(text, prefix)
    xml.text = text
    draft.replaced[part] = xml.encode()


def _edit_book_views(text: str, prefix: str, views: list[tuple[int, int]]) -> str:
    """Set the new activeTab and firstSheet of each book view."""
    span = find_element(text, prefix, "bookViews")
    if span is not None and not span.empty:
        elements = iter_elements(
            text, prefix, "workbookView", span.tag_end, span.inner_end
        )
        pieces, pos = [], 0
        for view, (active, first) in zip(elements, views):
            tag = view.tag
            attrs = tag_attrs(tag)
            if as_int(attrs.get("activeTab")) != active:
                tag = set_attr(tag, "activeTab", str(active))
            if as_int(attrs.get("firstSheet")) != first:
                tag = set_attr(tag, "firstSheet", str(first))
            pieces.append(text[pos : view.start] + tag)
            pos = view.tag_end
        pieces.append(text[pos:])
        text = "".join(pieces)
    return text


def _edit_sheets(
    draft: Draft, xml: Xml, text: str, owned: set[int], new_rids: list[str]
) -> str:
    """Remove the owned <sheet> entries and append the new sheets'."""
    book = draft.book
    part = book.part
    prefix = xml.prefix_for(NS_MAIN)
    assert prefix is not None
    qual = (prefix + ":") if prefix else ""
    span = find_element(text, prefix, "sheets")
    if span is None or span.empty:
        raise draft.orig.fail(f"{part} has no <sheets>")
    entries = iter_elements(text, prefix, "sheet", span.tag_end, span.inner_end)
    if len(entries) != len(book.sheets):
        raise draft.orig.fail(f"{part} is not laid out as expected")
    r_prefix = xml.prefix_for(NS_DOC_REL)
    # Ids of removed sheets are free again (their calcChain entries are gone):
    # a re-run numbers the new sheets as the previous run did.
    next_id = max(
        (s.sheet_id for i, s in enumerate(book.sheets) if i not in owned),
        default=0,
    )
    added = []
    for sheet, rid in zip(draft.rbook.sheets, new_rids):
        next_id += 1
        attrs = f'name="{esc_attr(sheet.name)}" sheetId="{next_id}"'
        if sheet.state != "visible":
            attrs += f' state="{esc_attr(sheet.state)}"'
        if r_prefix:
            attrs += f' {r_prefix}:id="{rid}"'
        else:
            attrs += f' xmlns:r="{NS_DOC_REL}" r:id="{rid}"'
        added.append(f"<{qual}sheet {attrs}/>")
    pieces, pos = [], span.tag_end
    pieces.append(text[: span.tag_end])
    for index, entry in enumerate(entries):
        if index in owned:
            pieces.append(text[pos : entry.start])
            pos = entry.end
    pieces.append(text[pos : span.inner_end] + "".join(added))
    pieces.append(text[span.inner_end :])
    return "".join(pieces)


def _new_defined_names(draft: Draft, qual: str, offset: int) -> list[str]:
    """The results' sheet-local defined names, and the marker of every new sheet.

    The marker records the name the sheet is written under (:func:`marker_value`),
    whatever the results workbook said, so ownership follows that name. The
    names are sorted by name, then sheet, as Excel writes them: LibreOffice
    drops sheet-local names on saving when they are not (it re-saves the
    workbook without the markers, and every result sheet would become a user
    sheet).
    """
    new_names: list[tuple[tuple[str, int], str]] = []
    for el in draft.rbook.root.iterfind(
        f"{q(NS_MAIN, 'definedNames')}/{q(NS_MAIN, 'definedName')}"
    ):
        local = el.get("localSheetId")
        index = as_int(local, -1)
        if local is None or not 0 <= index < len(draft.rbook.sheets):
            continue
        name = el.get("name", "")
        if fold(name) == fold(OWNED_NAME):
            continue
        new_names.append(
            ((fold(name), offset + index), _defined_name(qual, el, offset + index))
        )
    for index, sheet in enumerate(draft.rbook.sheets):
        new_names.append(
            (
                (fold(OWNED_NAME), offset + index),
                f'<{qual}definedName name="{OWNED_NAME}" '
                f'localSheetId="{offset + index}">'
                f"{esc_text(marker_value(sheet.name))}</{qual}definedName>",
            )
        )
    return [text for _, text in sorted(new_names)]


def _edit_defined_names(
    text: str,
    prefix: str,
    owned: set[int],
    position: dict[int, int],
    new_names: list[str],
) -> str:
    """Drop the owned sheets' names, move the kept ones', add ``new_names``."""
    qual = (prefix + ":") if prefix else ""
    span = find_element(text, prefix, "definedNames")
    if span is not None:
        pieces: list[str] = []
        pos = 0
        names = (
            []
            if span.empty
            else iter_elements(
                text, prefix, "definedName", span.tag_end, span.inner_end
            )
        )
        remaining = 0
        for name in names:
            local = tag_attrs(name.tag).get("localSheetId")
            index = as_int(local, -1)
            if local is not None and index in owned:
                pieces.append(text[pos : name.start])
                pos = name.end
                continue
            remaining += 1
            if local is not None and index in position and position[index] != index:
                pieces.append(
                    text[pos : name.start]
                    + set_attr(name.tag, "localSheetId", str(position[index]))
                )
                pos = name.tag_end
        if remaining == 0 and not new_names:
            pieces = [text[: span.start]]
            pos = span.end
        elif span.empty:
            pieces.append(
                text[pos : span.start]
                + span.tag[:-2].rstrip()
                + ">"
                + "".join(new_names)
                + f"</{qual}definedNames>"
            )
            pos = span.end
        else:
            pieces.append(text[pos : span.inner_end] + "".join(new_names))
            pos = span.inner_end
        pieces.append(text[pos:])
        text = "".join(pieces)
    elif new_names:
        at = insert_point(text, prefix, _BEFORE_DEFINED_NAMES)
        block = f"<{qual}definedNames>" + "".join(new_names) + f"</{qual}definedNames>"
        text = text[:at] + block + text[at:]
    return text


def _full_calc_on_load(text: str, prefix: str) -> str:
    """Set fullCalcOnLoad on calcPr, adding the element if there is none."""
    qual = (prefix + ":") if prefix else ""
    span = find_element(text, prefix, "calcPr")
    if span is not None:
        tag = set_attr(span.tag, "fullCalcOnLoad", "1")
        text = text[: span.start] + tag + text[span.tag_end :]
    else:
        at = insert_point(text, prefix, (*_BEFORE_DEFINED_NAMES, "definedNames"))
        text = text[:at] + f'<{qual}calcPr fullCalcOnLoad="1"/>' + text[at:]
    return text


def _defined_name(qual: str, el: Element, local_id: int) -> str:
    """A sheet-local defined name of the results, moved to ``local_id``."""
    attrs = [f'name="{esc_attr(el.get("name", ""))}"', f'localSheetId="{local_id}"']
    for key, value in el.attrib.items():
        if key not in ("name", "localSheetId") and not key.startswith("{"):
            attrs.append(f'{key}="{esc_attr(value)}"')
    text = esc_text(el.text or "")
    return f"<{qual}definedName {' '.join(attrs)}>{text}</{qual}definedName>"
