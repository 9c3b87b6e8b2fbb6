"""The package's inventory parts: content types, and the extended properties.

Owns the splice's edits of ``[Content_Types].xml`` (overrides of removed and
replaced parts dropped, the new parts' defaults and overrides added) and of
``docProps/app.xml`` (the worksheet titles and their heading-pair count, rewritten
only when they list the workbook's worksheets as they stand). Both are edited as
text, keeping the rest of their bytes.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

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
    q,
)
from .ownership import Workbook
from .xmltext import (
    ROOT_RE,
    Xml,
    as_int,
    esc_attr,
    esc_text,
    find_element,
    iter_elements,
    set_attr,
    tag_attrs,
    xml_text,
)


def rewrite_content_types(draft: Draft) -> None:
    """Drop content types of removed parts, add those of new parts."""
    xml = xml_text(draft.orig.read(CONTENT_TYPES), CONTENT_TYPES)
    prefix = xml.prefix_for(NS_CT) or ""
    qual = (prefix + ":") if prefix else ""
    text = xml.text
    root = ROOT_RE.search(text)
    assert root is not None
    removed = {fold(name) for name in draft.removed}
    added = {fold(name) for name, _, _ in draft.new_types}
    pieces, pos = [], 0
    for span in iter_elements(text, prefix, "Override", root.end(), len(text)):
        name = fold(tag_attrs(span.tag).get("PartName", "").lstrip("/"))
        if name in removed or name in added:
            pieces.append(text[pos : span.start])
            pos = span.end
    pieces.append(text[pos:])
    text = "".join(pieces)

    defaults, _ = draft.orig.content_types()
    defaults = dict(defaults)
    new_defaults, overrides = [], []
    for name, content_type, override in draft.new_types:
        ext = fold(name.rsplit(".", 1)[-1])
        if not override and ext not in defaults:
            defaults[ext] = content_type
            new_defaults.append(
                f'<{qual}Default Extension="{esc_attr(name.rsplit(".", 1)[-1])}"'
                f' ContentType="{esc_attr(content_type)}"/>'
            )
        elif override or defaults.get(ext) != content_type:
            overrides.append(
                f'<{qual}Override PartName="/{esc_attr(name)}" '
                f'ContentType="{esc_attr(content_type)}"/>'
            )
    if new_defaults:
        root = ROOT_RE.search(text)
        assert root is not None
        text = text[: root.end()] + "".join(new_defaults) + text[root.end() :]
    close = text.rfind(f"</{qual}Types")
    if close < 0:
        raise draft.orig.fail(f"{CONTENT_TYPES} is not laid out as expected")
    text = text[:close] + "".join(overrides) + text[close:]
    xml.text = text
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
        root = draft.orig.xml(part)
    except PackageError:
        return
    layout = _title_groups(root, draft.book)
    if layout is None:
        return
    names, groups, start, group = layout
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

    xml = xml_text(draft.orig.read(part), part)
    text = _retitled(xml, names, groups, start, group, new_sheets)
    if text is None:
        return
    xml.text = text
    draft.replaced[part] = xml.encode()


def _title_groups(
    root: Element, book: Workbook
) -> tuple[list[str], list[int], int, int] | None:
    """The sheet titles, the heading groups' sizes, and the group of worksheets.

    Returns the titles, the number of titles of each group, the index of the
    first title of the group that lists exactly the workbook's worksheets and
    that group's index; None when the properties are not laid out so.
    """
    pairs = root.find(f"{q(NS_EXT_PROPS, 'HeadingPairs')}/{q(NS_VT, 'vector')}")
    titles = root.find(f"{q(NS_EXT_PROPS, 'TitlesOfParts')}/{q(NS_VT, 'vector')}")
    if pairs is None or titles is None:
        return None
    variants = list(pairs)
    groups = []
    for i in range(0, len(variants) - 1, 2):
        label = variants[i].find(q(NS_VT, "lpstr"))
        count = variants[i + 1].find(q(NS_VT, "i4"))
        if label is None or count is None:
            return None
        groups.append(as_int(count.text))
    names = [el.text or "" for el in titles]
    if any(el.tag != q(NS_VT, "lpstr") for el in titles):
        return None
    worksheets = [
        s.name for s in book.sheets if s.rel is not None and s.rel.type == RT_WORKSHEET
    ]
    start = 0
    group = None
    for g, count in enumerate(groups):
        if names[start : start + count] == worksheets and count:
            group = g
            break
        start += count
    if group is None:
        return None
    return names, groups, start, group


def _retitled(
    xml: Xml,
    names: list[str],
    groups: list[int],
    start: int,
    group: int,
    new_sheets: list[str],
) -> str | None:
    """The properties' text with the worksheets' group listing ``new_sheets``.

    None when the text is not laid out as the parsed part said.
    """
    vt = xml.prefix_for(NS_VT)
    main = xml.prefix_for(NS_EXT_PROPS)
    if vt is None or main is None:
        return None
    vq = (vt + ":") if vt else ""
    text = xml.text
    tops = find_element(text, main, "TitlesOfParts")
    heads = find_element(text, main, "HeadingPairs")
    if tops is None or heads is None or tops.empty or heads.empty:
        return None
    # Titles first (it comes after the heading pairs, so offsets stay valid).
    vec = find_element(text, vt, "vector", tops.tag_end, tops.inner_end)
    if vec is None or vec.empty:
        return None
    items = iter_elements(text, vt, "lpstr", vec.tag_end, vec.inner_end)
    if len(items) != len(names):
        return None
    first, last = items[start], items[start + groups[group] - 1]
    body = "".join(f"<{vq}lpstr>{esc_text(n)}</{vq}lpstr>" for n in new_sheets)
    size = len(names) - groups[group] + len(new_sheets)
    vec_tag = set_attr(vec.tag, "size", str(size))
    text = (
        text[: vec.start]
        + vec_tag
        + text[vec.tag_end : first.start]
        + body
        + text[last.end :]
    )
    if tops.start < heads.start:
        return None
    vec = find_element(text, vt, "vector", heads.tag_end, heads.inner_end)
    if vec is None:
        return None
    counts = iter_elements(text, vt, "i4", vec.tag_end, vec.inner_end)
    if len(counts) != len(groups):
        return None
    target = counts[group]
    text = text[: target.tag_end] + str(len(new_sheets)) + text[target.inner_end :]
    return text
