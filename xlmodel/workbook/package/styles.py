"""Merging the results' styles into the user's styles part, and s= remapping.

Owns the style merge of a splice: the number formats, fonts, fills, borders, cell
formats and differential formats of the results workbook are appended to the
original styles part (an identical one already there is reused, number format ids
are renumbered when taken), and the maps from result indices to merged indices are
returned for the copied sheets' ``s=``, ``style=`` and ``dxfId=`` attributes. The
new elements are inserted into the original text, in schema order, so every other
byte of the styles part stays.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from xml.etree.ElementTree import Element

from xlmodel.errors import PackageError

from .draft import Draft
from .ooxml import CT_STYLES, NS_MAIN, NS_XML, RT_STYLES, q
from .ownership import Workbook
from .parts import Package
from .xmltext import (
    as_int,
    esc_attr,
    esc_text,
    find_element,
    insert_point,
    set_attr,
    xml_text,
)

# Children of <styleSheet> in schema order.
_STYLE_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)


def merge_styles(draft: Draft) -> tuple[dict[int, int], dict[int, int]]:
    """Append the results' formats to the original styles.

    Returns the maps from result cell-format and differential-format indices
    to indices in the merged styles.
    """
    res_part = _style_part(draft.rbook)
    orig_part = _style_part(draft.book)
    if res_part is None:
        return {}, {}
    res_root = draft.res.xml(res_part)
    if orig_part is None:
        name = draft.free_name(
            posixpath.join(posixpath.dirname(draft.book.part), "styles.xml")
        )
        draft.new_parts[name] = draft.res.read(res_part)
        draft.new_types.append((name, CT_STYLES, True))
        draft.new_styles_part = name
        count = len(_children(res_root, "cellXfs"))
        dxfs = len(_children(res_root, "dxfs"))
        return {i: i for i in range(count)}, {i: i for i in range(dxfs)}

    orig_root = draft.orig.xml(orig_part)
    merge = _StyleMerge(orig_root, res_root)
    xf_map, dxf_map = merge.run()
    if any(merge.inserts.values()):
        draft.replaced[orig_part] = _insert_styles(
            draft.orig, orig_part, orig_root, merge.inserts
        )
    return xf_map, dxf_map


def _style_part(book: Workbook) -> str | None:
    for rel in book.rels:
        if rel.type == RT_STYLES and rel.part is not None:
            return rel.part
    return None


def _children(root: Element, local: str) -> list[Element]:
    container = root.find(q(NS_MAIN, local))
    return list(container) if container is not None else []


class _StyleMerge:
    """The elements the results add to each styles list, and the index maps.

    ``inserts`` holds, per list (``numFmts``, ``fonts``, ...), the new elements to
    append to the original's, already renumbered to point at merged indices.
    """

    def __init__(self, orig_root: Element, res_root: Element):
        self.orig_root = orig_root
        self.res_root = res_root
        self.inserts: dict[str, list[Element]] = {}
        self.fmt_map: dict[int, int] = {}
        self.xf_fixes: tuple[tuple[str, dict[int, int]], ...] = ()
        self.has_style_xfs = False

    def run(self) -> tuple[dict[int, int], dict[int, int]]:
        """Merge every list; return the cell-format and differential-format maps."""
        self.fmt_map = self._number_formats()
        font_map = self._merge("fonts", 1)
        fill_map = self._merge("fills", 2)
        border_map = self._merge("borders", 1)
        self.has_style_xfs = bool(_children(self.orig_root, "cellStyleXfs"))
        self.xf_fixes = (
            ("numFmtId", self.fmt_map),
            ("fontId", font_map),
            ("fillId", fill_map),
            ("borderId", border_map),
        )
        xf_map = self._merge("cellXfs", 1, self._fix_xf)
        dxf_map = self._merge("dxfs", 0, self._fix_dxf)
        return xf_map, dxf_map

    def _number_formats(self) -> dict[int, int]:
        """Number formats: reuse an identical code, else keep or renumber the id."""
        fmt_code = {
            as_int(el.get("numFmtId")): el.get("formatCode", "")
            for el in _children(self.orig_root, "numFmts")
        }
        by_code = {code: fid for fid, code in fmt_code.items()}
        used = set(fmt_code)
        fmt_map: dict[int, int] = {}
        for el in _children(self.res_root, "numFmts"):
            rid, code = as_int(el.get("numFmtId")), el.get("formatCode", "")
            if code in by_code:
                fmt_map[rid] = by_code[code]
                continue
            nid = rid if rid not in used else max(used | {163}) + 1
            used.add(nid)
            by_code[code] = nid
            fmt_map[rid] = nid
            new = copy.deepcopy(el)
            new.set("numFmtId", str(nid))
            self.inserts.setdefault("numFmts", []).append(new)
        return fmt_map

    def _merge(
        self,
        local: str,
        reserved: int,
        fix: Callable[[Element], None] | None = None,
    ) -> dict[int, int]:
        """Map each result element of a list to an identical or appended one.

        The first ``reserved`` entries (the defaults every styles part has) map to
        themselves when the original has them.
        """
        originals = _children(self.orig_root, local)
        keys: dict[tuple, int] = {}
        for index, el in enumerate(originals):
            keys.setdefault(_canon(el), index)
        mapping: dict[int, int] = {}
        added = self.inserts.setdefault(local, [])
        for index, el in enumerate(_children(self.res_root, local)):
            if index < reserved and len(originals) >= reserved:
                mapping[index] = index
                continue
            el = copy.deepcopy(el)
            if fix is not None:
                fix(el)
            key = _canon(el)
            if key not in keys:
                keys[key] = len(originals) + len(added)
                added.append(el)
            mapping[index] = keys[key]
        return mapping

    def _fix_xf(self, el: Element) -> None:
        for attr, table in self.xf_fixes:
            value = el.get(attr)
            if value is not None and as_int(value) in table:
                el.set(attr, str(table[as_int(value)]))
        if self.has_style_xfs:
            el.set("xfId", "0")
        elif "xfId" in el.attrib:
            del el.attrib["xfId"]

    def _fix_dxf(self, el: Element) -> None:
        for fmt in el.iter(q(NS_MAIN, "numFmt")):
            value = as_int(fmt.get("numFmtId"), -1)
            if value in self.fmt_map:
                fmt.set("numFmtId", str(self.fmt_map[value]))


def _insert_styles(
    orig: Package, part: str, root: Element, inserts: dict[str, list[Element]]
) -> bytes:
    """Insert new styles elements into the original styles text."""
    xml = xml_text(orig.read(part), part)
    prefix = xml.prefix_for(NS_MAIN)
    if prefix is None:
        raise orig.fail(f"{part} does not declare the spreadsheet namespace")
    xmlns = "" if xml.nsmap.get("") == NS_MAIN else NS_MAIN
    text = xml.text
    qual = (prefix + ":") if prefix else ""
    for local in _STYLE_ORDER:
        added = inserts.get(local)
        if not added:
            continue
        body = "".join(_serialize(el, xmlns) for el in added)
        total = len(_children(root, local)) + len(added)
        span = find_element(text, prefix, local)
        if span is not None and not span.empty:
            tag = set_attr(span.tag, "count", str(total))
            text = (
                text[: span.start]
                + tag
                + text[span.tag_end : span.inner_end]
                + body
                + text[span.inner_end :]
            )
            continue
        if span is not None:
            tag = set_attr(span.tag, "count", str(total))[:-2].rstrip() + ">"
            text = (
                text[: span.start] + tag + body + f"</{qual}{local}>" + text[span.end :]
            )
            continue
        at = insert_point(text, prefix, _STYLE_ORDER[: _STYLE_ORDER.index(local)])
        element = f'<{qual}{local} count="{total}">{body}</{qual}{local}>'
        text = text[:at] + element + text[at:]
    xml.text = text
    return xml.encode()


def _canon(el: Element) -> tuple:
    """Comparable form of a styles element (for reusing identical ones)."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_canon(child) for child in el),
    )


def _serialize(el: Element, xmlns: str = "", top: bool = True) -> str:
    """Write an element of the spreadsheet namespace as unprefixed XML."""
    tag = el.tag
    if not tag.startswith("{" + NS_MAIN + "}"):
        raise PackageError(f"unexpected element {tag} in result styles")
    local = tag.split("}", 1)[1]
    attrs = []
    if xmlns:
        attrs.append(f' xmlns="{xmlns}"')
    for key, value in el.attrib.items():
        if key.startswith("{" + NS_XML + "}"):
            key = "xml:" + key.split("}", 1)[1]
        elif key.startswith("{"):
            raise PackageError(f"unexpected attribute {key} in result styles")
        attrs.append(f' {key}="{esc_attr(value)}"')
    inner = esc_text(el.text or "") + "".join(_serialize(c, "", False) for c in el)
    tail = "" if top else esc_text(el.tail or "")
    if not inner:
        return f"<{local}{''.join(attrs)}/>{tail}"
    return f"<{local}{''.join(attrs)}>{inner}</{local}>{tail}"
