"""The package's inventory parts: content types, and the extended properties.

Owns the splice's edits of ``[Content_Types].xml`` (overrides of removed and
replaced parts dropped, the new parts' defaults and overrides added) and of
``docProps/app.xml`` (the worksheet titles and their heading-pair count, rewritten
only when they list the workbook's worksheets as they stand). Both are edited as
text, keeping the rest of their bytes.
"""

from __future__ import annotations

from xlmodel.errors import PackageError

from .draft import Draft
from .ooxml import (
    CONTENT_TYPES,
    NS_CT,
    NS_EXT_PROPS,
    NS_VT,
    RT_EXT_PROPS,
    RT_WORKSHEET,
    fold,
)
from .ownership import Workbook
from .xmltext import Node, XmlPart, as_int, esc_attr, esc_text, qualified, read_part


def rewrite_content_types(draft: Draft) -> None:
    """Drop content types of removed parts, add those of new parts."""
    xml = read_part(
        draft.orig.read(CONTENT_TYPES),
        f"{draft.orig.path}: {CONTENT_TYPES}",
        NS_CT,
        "Types",
    )
    root = xml.root
    removed = {fold(name) for name in draft.removed}
    added = {fold(name) for name, _, _ in draft.new_types}
    for node in root.findall(NS_CT, "Override"):
        name = fold((node.get("PartName") or "").lstrip("/"))
        if name in removed or name in added:
            xml.remove(node)

    defaults, _ = draft.orig.content_types()
    defaults = dict(defaults)
    new_defaults, overrides = [], []
    default_name, default_ns = qualified(root, NS_CT, "Default")
    override_name, override_ns = qualified(root, NS_CT, "Override")
    for name, content_type, override in draft.new_types:
        ext = fold(name.rsplit(".", 1)[-1])
        if not override and ext not in defaults:
            defaults[ext] = content_type
            new_defaults.append(
                f"<{default_name}{default_ns} "
                f'Extension="{esc_attr(name.rsplit(".", 1)[-1])}"'
                f' ContentType="{esc_attr(content_type)}"/>'
            )
        elif override or defaults.get(ext) != content_type:
            overrides.append(
                f'<{override_name}{override_ns} PartName="/{esc_attr(name)}" '
                f'ContentType="{esc_attr(content_type)}"/>'
            )
    if new_defaults:
        xml.insert_after(root, NS_CT, (), "".join(new_defaults))
    xml.append(root, "".join(overrides))
    draft.replaced[CONTENT_TYPES] = xml.encode()


def rewrite_app_properties(draft: Draft) -> None:
    """Update the sheet titles in the extended properties when they match."""
    part = None
    for rel in draft.orig.rels(""):
        if rel.type == RT_EXT_PROPS and rel.part is not None:
            part = rel.part
    if part is None or part in draft.removed:
        return
    try:
        xml = read_part(
            draft.orig.read(part),
            f"{draft.orig.path}: {part}",
            NS_EXT_PROPS,
            "Properties",
        )
    except PackageError:
        return
    layout = _title_groups(xml.root, draft.book)
    if layout is None:
        return
    new_sheets = [
        draft.book.sheets[i].name
        for i in draft.kept
        if draft.book.sheets[i].rel is not None
        and draft.book.sheets[i].rel.type == RT_WORKSHEET
    ]
    new_sheets += [
        s.name
        for s in draft.rbook.sheets
        if s.rel is not None and s.rel.type == RT_WORKSHEET
    ]
    _retitle(xml, layout, new_sheets)
    draft.replaced[part] = xml.encode()


class _Layout:
    """Where the worksheets' titles and their count lie in the properties."""

    def __init__(
        self, titles: Node, items: list[Node], start: int, size: int, count: Node
    ):
        self.titles = titles
        self.items = items
        self.start = start
        self.size = size
        self.count = count


def _title_groups(root: Node, book: Workbook) -> _Layout | None:
    """The group of titles that lists exactly the workbook's worksheets.

    None when the properties are not laid out so (then they are left alone).
    """
    heads = root.find(NS_EXT_PROPS, "HeadingPairs")
    tops = root.find(NS_EXT_PROPS, "TitlesOfParts")
    if heads is None or tops is None:
        return None
    pairs = heads.find(NS_VT, "vector")
    titles = tops.find(NS_VT, "vector")
    if pairs is None or titles is None:
        return None
    variants = pairs.children
    groups: list[tuple[int, Node]] = []
    for i in range(0, len(variants) - 1, 2):
        label = variants[i].find(NS_VT, "lpstr")
        count = variants[i + 1].find(NS_VT, "i4")
        if label is None or count is None:
            return None
        groups.append((as_int(count.el.text), count))
    items = titles.children
    if any(not el.is_(NS_VT, "lpstr") for el in items):
        return None
    names = [el.el.text or "" for el in items]
    worksheets = [
        s.name for s in book.sheets if s.rel is not None and s.rel.type == RT_WORKSHEET
    ]
    start = 0
    for size, count in groups:
        if size and names[start : start + size] == worksheets:
            return _Layout(titles, items, start, size, count)
        start += size
    return None


def _retitle(xml: XmlPart, layout: _Layout, new_sheets: list[str]) -> None:
    """Have the worksheets' group of titles list ``new_sheets``.

    Titles are rewritten one by one (only those that change), extra ones
    removed and new ones added after the group's last: comments or other
    markup between them stay where they are.
    """
    titles = layout.titles
    group = layout.items[layout.start : layout.start + layout.size]
    for item, name in zip(group, new_sheets):
        if (item.el.text or "") != name:
            xml.set_text(item, name)
    for item in group[len(new_sheets) :]:
        xml.remove(item)
    extra = new_sheets[len(group) :]
    if extra:
        qual, xmlns = qualified(titles, NS_VT, "lpstr")
        body = "".join(f"<{qual}{xmlns}>{esc_text(n)}</{qual}>" for n in extra)
        xml.insert(group[-1].end, body)
    size = len(layout.items) - layout.size + len(new_sheets)
    if as_int(titles.get("size"), -1) != size:
        xml.set_attr(titles, "size", str(size))
    if as_int(layout.count.el.text, -1) != len(new_sheets):
        xml.set_text(layout.count, str(len(new_sheets)))
