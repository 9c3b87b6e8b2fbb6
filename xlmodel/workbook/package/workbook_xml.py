"""Edits of the workbook part and of its relationships.

Owns the splice's changes to ``xl/workbook.xml`` and its relationships part: the
relationships of removed parts dropped and the new sheets' (and a new styles
part's) added; the owned ``<sheet>`` entries removed and the new ones appended;
sheet-local defined names moved with their sheets, the results' copied and the
ownership marker (:data:`OWNED_NAME`) set on every new sheet; the book views'
active and first tabs; and recalculation on load when the new sheets hold
formulas. Both parts are parsed (:class:`~.xmltext.XmlPart`) and edited at the
edges of the elements that change, so the rest of each keeps its bytes.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from .draft import Draft
from .ooxml import NS_DOC_REL, NS_MAIN, NS_PKG_REL, RT_STYLES, fold, q
from .ownership import OWNED_NAME, marker_value
from .parts import relative, rels_name
from .xmltext import (
    Node,
    XmlPart,
    as_int,
    esc_attr,
    esc_text,
    qualified,
    read_part,
)

# Children of <workbook> that precede <definedNames>, in schema order.
_BEFORE_DEFINED_NAMES = ("sheets", "functionGroups", "externalReferences")


def rewrite_workbook_rels(draft: Draft, part_map: dict[str, str]) -> list[str]:
    """Drop relationships of removed parts, add the new sheets'.

    Returns the relationship ids of the new sheets, in order. A new styles
    part's relationship is numbered before the sheets': on the next run it is
    one of the user's, and the sheets' are numbered after it as they were.
    """
    book = draft.book
    rels_part = draft.orig.find(rels_name(book.part))
    if rels_part is None:
        raise draft.orig.fail(f"{book.part} has no relationships part")
    xml = read_part(
        draft.orig.read(rels_part),
        f"{draft.orig.path}: {rels_part}",
        NS_PKG_REL,
        "Relationships",
    )
    root = xml.root
    drop = {
        rel.rid
        for rel in book.rels
        if rel.part is not None and rel.part in draft.removed
    }
    # Ids of dropped relationships are free again: a re-run numbers the new
    # sheets' relationships as the previous run did.
    existing = {rel.rid for rel in book.rels if rel.rid not in drop}
    for node in root.findall(NS_PKG_REL, "Relationship"):
        if node.get("Id") in drop:
            xml.remove(node)

    numbers = [
        int(m.group(1)) for rid in existing if (m := re.fullmatch(r"rId(\d+)", rid))
    ]
    counter = max(numbers, default=0)
    qname, xmlns = qualified(root, NS_PKG_REL, "Relationship")
    targets = []
    if draft.new_styles_part is not None:
        targets.append((draft.new_styles_part, RT_STYLES))
    targets += [
        (part_map[s.rel.part], s.rel.type)
        for s in draft.rbook.sheets
        if s.rel is not None and s.rel.part is not None
    ]
    added, new_rids = [], []
    for target, rel_type in targets:
        counter += 1
        while f"rId{counter}" in existing:
            counter += 1
        rid = f"rId{counter}"
        existing.add(rid)
        new_rids.append(rid)
        added.append(
            f'<{qname}{xmlns} Id="{rid}" Type="{esc_attr(rel_type)}" '
            f'Target="{esc_attr(relative(book.part, target))}"/>'
        )
    xml.append(root, "".join(added))
    draft.replaced[rels_part] = xml.encode()
    if draft.new_styles_part is not None:
        new_rids = new_rids[1:]
    return new_rids[: len(draft.rbook.sheets)]


def active_tabs(
    draft: Draft, owned: set[int], open_on: str | None = None
) -> tuple[list[tuple[int, int]], int | None]:
    """New (activeTab, firstSheet) per book view, and the active new sheet.

    ``open_on``: the name of a new sheet every view opens on (when it is
    visible); otherwise a view stays on the user's sheet it was on, or on the
    new sheet of the name it was on.
    """
    book = draft.book
    sheets = [book.sheets[i] for i in draft.kept] + draft.rbook.sheets
    position = {old: new for new, old in enumerate(draft.kept)}
    offset = len(draft.kept)
    views = draft.book.root.iterfind(
        f"{q(NS_MAIN, 'bookViews')}/{q(NS_MAIN, 'workbookView')}"
    )
    result = []
    active_new = None
    chosen = next(
        (
            offset + j
            for j, sheet in enumerate(draft.rbook.sheets)
            if open_on is not None
            and fold(sheet.name) == fold(open_on)
            and sheet.visible
        ),
        None,
    )
    for view in views:
        active = as_int(view.get("activeTab"))
        first = as_int(view.get("firstSheet"))
        if chosen is not None:
            new_active = chosen
        elif active in position and sheets[position[active]].visible:
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
    xml = read_part(
        draft.orig.read(part), f"{draft.orig.path}: {part}", NS_MAIN, "workbook"
    )
    position = {old: new for new, old in enumerate(draft.kept)}
    offset = len(draft.kept)
    _edit_book_views(xml, views)
    _edit_sheets(draft, xml, owned, new_rids)
    parent = xml.root.find(NS_MAIN, "definedNames") or xml.root
    qual, xmlns = qualified(parent, NS_MAIN, "definedName")
    new_names = _new_defined_names(draft, qual + xmlns, qual, offset)
    _edit_defined_names(xml, owned, position, new_names)
    # Formulas of the new sheets are not in the calculation chain: have
    # spreadsheet applications recalculate when they open the file.
    if has_formulas:
        _full_calc_on_load(xml)
    draft.replaced[part] = xml.encode()


def _edit_book_views(xml: XmlPart, views: list[tuple[int, int]]) -> None:
    """Set the new activeTab and firstSheet of each book view."""
    span = xml.root.find(NS_MAIN, "bookViews")
    if span is None:
        return
    for view, (active, first) in zip(span.findall(NS_MAIN, "workbookView"), views):
        if as_int(view.get("activeTab")) != active:
            xml.set_attr(view, "activeTab", str(active))
        if as_int(view.get("firstSheet")) != first:
            xml.set_attr(view, "firstSheet", str(first))


def _edit_sheets(
    draft: Draft, xml: XmlPart, owned: set[int], new_rids: list[str]
) -> None:
    """Remove the owned <sheet> entries and append the new sheets'."""
    book = draft.book
    part = book.part
    span = xml.root.find(NS_MAIN, "sheets")
    if span is None:
        raise draft.orig.fail(f"{part} has no <sheets>")
    entries = span.findall(NS_MAIN, "sheet")
    if len(entries) != len(book.sheets):
        raise draft.orig.fail(f"{part} holds more than one list of sheets")
    qual, xmlns = qualified(span, NS_MAIN, "sheet")
    r_prefix = span.prefix_for(NS_DOC_REL)
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
        added.append(f"<{qual}{xmlns} {attrs}/>")
    for index, entry in enumerate(entries):
        if index in owned:
            xml.remove(entry)
    xml.append(span, "".join(added))


def _new_defined_names(
    draft: Draft, open_name: str, qual: str, offset: int
) -> list[str]:
    """The results' sheet-local defined names, and the marker of every new sheet.

    ``open_name`` is what a new name's start tag opens with (its qualified name,
    and a namespace declaration if it needs one), ``qual`` its qualified name.
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
            (
                (fold(name), offset + index),
                _defined_name(open_name, qual, el, offset + index),
            )
        )
    for index, sheet in enumerate(draft.rbook.sheets):
        new_names.append(
            (
                (fold(OWNED_NAME), offset + index),
                f'<{open_name} name="{OWNED_NAME}" '
                f'localSheetId="{offset + index}">'
                f"{esc_text(marker_value(sheet.name))}</{qual}>",
            )
        )
    return [text for _, text in sorted(new_names)]


def _edit_defined_names(
    xml: XmlPart,
    owned: set[int],
    position: dict[int, int],
    new_names: list[str],
) -> None:
    """Drop the owned sheets' names, move the kept ones', add ``new_names``."""
    root = xml.root
    span = root.find(NS_MAIN, "definedNames")
    if span is None:
        if new_names:
            qual, xmlns = qualified(root, NS_MAIN, "definedNames")
            block = f"<{qual}{xmlns}>" + "".join(new_names) + f"</{qual}>"
            xml.insert_after(root, NS_MAIN, _BEFORE_DEFINED_NAMES, block)
        return
    remaining = 0
    edits: list[tuple[Node, str | None]] = []
    for name in span.findall(NS_MAIN, "definedName"):
        local = name.get("localSheetId")
        index = as_int(local, -1)
        if local is not None and index in owned:
            edits.append((name, None))
            continue
        remaining += 1
        if local is not None and index in position and position[index] != index:
            edits.append((name, str(position[index])))
    if remaining == 0 and not new_names and not _other_content(xml, span):
        xml.remove(span)
        return
    for name, value in edits:
        if value is None:
            xml.remove(name)
        else:
            xml.set_attr(name, "localSheetId", value)
    xml.append(span, "".join(new_names))


def _other_content(xml: XmlPart, span: Node) -> bool:
    """Whether an element holds anything but its own definedName children."""
    return any(not c.is_(NS_MAIN, "definedName") for c in span.children)


def _full_calc_on_load(xml: XmlPart) -> None:
    """Set fullCalcOnLoad on calcPr, adding the element if there is none."""
    span = xml.root.find(NS_MAIN, "calcPr")
    if span is not None:
        if span.get("fullCalcOnLoad") not in ("1", "true"):
            xml.set_attr(span, "fullCalcOnLoad", "1")
        return
    qual, xmlns = qualified(xml.root, NS_MAIN, "calcPr")
    xml.insert_after(
        xml.root,
        NS_MAIN,
        (*_BEFORE_DEFINED_NAMES, "definedNames"),
        f'<{qual}{xmlns} fullCalcOnLoad="1"/>',
    )


def _defined_name(open_name: str, qual: str, el: Element, local_id: int) -> str:
    """A sheet-local defined name of the results, moved to ``local_id``."""
    attrs = [f'name="{esc_attr(el.get("name", ""))}"', f'localSheetId="{local_id}"']
    for key, value in el.attrib.items():
        if key not in ("name", "localSheetId") and not key.startswith("{"):
            attrs.append(f'{key}="{esc_attr(value)}"')
    text = esc_text(el.text or "")
    return f"<{open_name} {' '.join(attrs)}>{text}</{qual}>"


_SHEET_VIEW_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetView\b[^>]*>")
_TAB_SELECTED_RE = re.compile(rb"""\s+tabSelected\s*=\s*(?:"[^"]*"|'[^']*')""")
_SHEET_DATA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")


def _user_sheet_heads(draft: Draft):
    """(name, part, its bytes, the end of its head) of every user sheet kept:
    the head runs to the cells, where the schema puts the sheet views."""
    for index in draft.kept:
        sheet = draft.book.sheets[index]
        part = sheet.rel.part if sheet.rel is not None else None
        if part is None or part not in draft.orig.data:
            continue
        data = draft.orig.read(part)
        end = _SHEET_DATA_RE.search(data)
        yield sheet.name, part, data, end.start() if end else len(data)


_SELECTED_RE = re.compile(
    rb"""\btabSelected\s*=\s*(?:"\s*(?:1|true)\s*"|'\s*(?:1|true)\s*')"""
)


def selected_user_sheets(draft: Draft) -> list[str]:
    """The user's sheets whose view is selected (``tabSelected`` true)."""
    return [
        name
        for name, _, data, end in _user_sheet_heads(draft)
        if any(
            _SELECTED_RE.search(m.group(0))
            for m in _SHEET_VIEW_RE.finditer(data, 0, end)
        )
    ]


def clear_user_selection(draft: Draft) -> list[str]:
    """Take the selection off the user's sheets (``tabSelected``); returns
    the names of the sheets whose part changed.

    Only when the workbook is made to open on a new sheet: a sheet selected
    beside the active one is grouped with it in Excel, and what is typed then
    goes into both. The attribute is removed from the sheet views (before the
    cells, where the schema puts them); every other byte stays.
    """
    changed = []
    for name, part, data, end in _user_sheet_heads(draft):
        head = data[:end]
        new = _SHEET_VIEW_RE.sub(lambda m: _TAB_SELECTED_RE.sub(b"", m.group(0)), head)
        if new != head:
            draft.replaced[part] = new + data[end:]
            changed.append(name)
    return changed
