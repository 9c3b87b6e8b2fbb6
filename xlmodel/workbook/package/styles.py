"""Merging the results' styles into the user's styles part, and s= remapping.

Owns the style merge of a splice: the number formats, fonts, fills, borders, cell
formats and differential formats of the results workbook are appended to the
original styles part, and the maps from result indices to merged indices are
returned for the copied sheets' ``s=``, ``style=`` and ``dxfId=`` attributes.

A format the user's styles already hold is reused, not appended: a number format
with the same code, a font, fill, border or differential format with the same
content, and a cell format (``xf``) that looks the same (same number format code,
font, fill, border, alignment, protection, cell style and apply flags, whatever
their indices). What must still be appended may not take a list past what Excel
opens without repair (:data:`LIMITS`); then the splice is refused, the file
untouched. The new elements are inserted into the parsed original
(:class:`~.xmltext.XmlPart`), in schema order and with the prefix in scope there,
so every other byte of the styles part stays.
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
from .xmltext import (
    XmlPart,
    as_int,
    esc_attr,
    esc_text,
    parse,
    qualified,
    read_part,
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

#: Most entries a styles list may hold after the merge, per list, and what they are.
#: Cell formats: Excel's implementer notes of the standard (MS-OI29500, cellXfs) put
#: the limit at 65,430 cell formats and non-built-in cell-style formats together,
#: its published specifications at 65,490 unique cell formats (64,000 for Excel
#: 2007 and 2010); 64,000 is kept, which leaves 1,430 for the cell styles. Fonts:
#: 512 per workbook (published specifications). Custom number formats: 200 to 250
#: depending on the language version (specifications), 206 (implementer notes,
#: numFmts); 200 is kept. Fills, borders and differential formats: no limit is
#: published for the entries of the styles part (the "256 fill styles" and "256
#: line styles" of the specifications are the kinds of pattern and line), so none
#: is enforced.
LIMITS = {
    "cellXfs": (64_000, "cell formats"),
    "fonts": (512, "fonts"),
    "numFmts": (200, "custom number formats"),
}

_FIRST_CUSTOM_FORMAT = 164
_XF_FLAGS = (
    "applyNumberFormat",
    "applyFont",
    "applyFill",
    "applyBorder",
    "applyAlignment",
    "applyProtection",
    "quotePrefix",
    "pivotButton",
)


def merge_styles(draft: Draft) -> tuple[dict[int, int], dict[int, int]]:
    """Append the results' formats to the original styles.

    Returns the maps from result cell-format and differential-format indices
    to indices in the merged styles.

    Raises
    ------
    PackageError
        When the formats the results need would take a styles list of the
        workbook past :data:`LIMITS`.
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
        # The next run merges the results into this very copy, where the first
        # of identical formats is found for each: map to it now already, so
        # that run writes the sheets as this one does.
        merge = _StyleMerge(res_root, res_root)
        xf_map, dxf_map = merge.run()
        if any(merge.inserts.values()):
            raise draft.res.fail(f"{res_part} cannot be merged into itself")
        return xf_map, dxf_map

    xml = read_part(
        draft.orig.read(orig_part),
        f"{draft.orig.path}: {orig_part}",
        NS_MAIN,
        "styleSheet",
    )
    merge = _StyleMerge(xml.root.el, res_root)
    xf_map, dxf_map = merge.run()
    _check_limits(draft, orig_part, xml.root.el, merge.inserts)
    if any(merge.inserts.values()):
        _insert_styles(xml, merge.inserts)
        draft.replaced[orig_part] = xml.encode()
    return xf_map, dxf_map


def style_maps(
    original: bytes | None, results: bytes
) -> tuple[dict[int, int], dict[int, int]]:
    """The maps :func:`merge_styles` returns, from the styles parts' bytes
    alone: ``original``, the user's styles part (None: the workbook has
    none), and ``results``, the results'.

    For a writer that lays out the result sheets in their final form (merged
    style indices) before the splice; the splice checks that its own maps are
    these. Raises PackageError where :func:`merge_styles` would fail to parse.
    """
    res_root = parse(results, "results: styles")
    if original is None:
        return _StyleMerge(res_root, res_root).run()
    xml = read_part(original, "workbook: styles", NS_MAIN, "styleSheet")
    return _StyleMerge(xml.root.el, res_root).run()


def _check_limits(
    draft: Draft, part: str, root: Element, inserts: dict[str, list[Element]]
) -> None:
    """Refuse a merge that would take a styles list past Excel's limits."""
    for local, (limit, what) in LIMITS.items():
        added = len(inserts.get(local, []))
        if not added:
            continue
        present = _children(root, local)
        if local == "numFmts":
            present = [
                el
                for el in present
                if as_int(el.get("numFmtId")) >= _FIRST_CUSTOM_FORMAT
            ]
        total = len(present) + added
        if total > limit:
            raise draft.orig.fail(
                f"{part} holds {len(present):,} {what}; the results need "
                f"{added:,} more, {total:,} in all, past the {limit:,} Excel opens "
                f"without repair: remove unused {what} from the workbook and "
                "compute again"
            )


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
        xf_map = self._cell_formats()
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

    def _cell_formats(self) -> dict[int, int]:
        """Map each result cell format to one that looks the same, or a new one.

        The first (the default format every styles part has) maps to itself.
        """
        originals = _children(self.orig_root, "cellXfs")
        user = _Lookup(self.orig_root, self.has_style_xfs)
        # An appended result format takes cell style 0: it is compared as one.
        res = _Lookup(self.res_root, False)
        keys: dict[tuple, int] = {}
        for index, el in enumerate(originals):
            keys.setdefault(user.xf_key(el), index)
        mapping: dict[int, int] = {}
        added = self.inserts.setdefault("cellXfs", [])
        for index, el in enumerate(_children(self.res_root, "cellXfs")):
            if index == 0 and originals:
                mapping[index] = index
                continue
            key = res.xf_key(el)
            if key not in keys:
                new = copy.deepcopy(el)
                self._fix_xf(new)
                keys[key] = len(originals) + len(added)
                added.append(new)
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


class _Lookup:
    """The lists of one styles part, to say what a cell format looks like."""

    def __init__(self, root: Element, has_style_xfs: bool):
        self.codes = {
            as_int(el.get("numFmtId")): el.get("formatCode", "")
            for el in _children(root, "numFmts")
        }
        self.lists = {
            attr: [_canon(el) for el in _children(root, local)]
            for attr, local in (
                ("fontId", "fonts"),
                ("fillId", "fills"),
                ("borderId", "borders"),
            )
        }
        self.has_style_xfs = has_style_xfs

    def xf_key(self, el: Element) -> tuple:
        """What a cell format looks like, whatever the indices it uses.

        The cell style counts only where the part has cell styles; the apply
        flags count, as LibreOffice honours them.
        """
        number = as_int(el.get("numFmtId"))
        fmt = ("code", self.codes[number]) if number in self.codes else ("id", number)
        parts: list[object] = [fmt]
        for attr, table in self.lists.items():
            index = as_int(el.get(attr))
            parts.append(table[index] if 0 <= index < len(table) else ("?", index))
        children = tuple(
            sorted(_canon(child) for child in el if len(child.attrib) or len(child))
        )
        flags = tuple(
            (el.get(name) or "0").strip() in ("1", "true") for name in _XF_FLAGS
        )
        style = as_int(el.get("xfId")) if self.has_style_xfs else 0
        return (*parts, children, flags, style)


def _insert_styles(xml: XmlPart, inserts: dict[str, list[Element]]) -> None:
    """Insert new styles elements into the parsed original styles."""
    root = xml.root
    for local in _STYLE_ORDER:
        added = inserts.get(local)
        if not added:
            continue
        span = root.find(NS_MAIN, local)
        if span is not None:
            body = "".join(_serialize(el, span) for el in added)
            total = len(span.findall(NS_MAIN, _ITEM[local])) + len(added)
            xml.set_attr(span, "count", str(total))
            xml.append(span, body)
            continue
        qual, xmlns = qualified(root, NS_MAIN, local)
        element = f'<{qual}{xmlns} count="{len(added)}">'
        if xmlns:
            body = "".join(_serialize(el, None) for el in added)
        else:
            body = "".join(_serialize(el, root) for el in added)
        xml.insert_after(
            root,
            NS_MAIN,
            _STYLE_ORDER[: _STYLE_ORDER.index(local)],
            element + body + f"</{qual}>",
        )


#: The element each styles list holds.
_ITEM = {
    "numFmts": "numFmt",
    "fonts": "font",
    "fills": "fill",
    "borders": "border",
    "cellStyleXfs": "xf",
    "cellXfs": "xf",
    "cellStyles": "cellStyle",
    "dxfs": "dxf",
}


def _canon(el: Element) -> tuple:
    """Comparable form of a styles element (for reusing identical ones)."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_canon(child) for child in el),
    )


def _serialize(el: Element, parent: object, top: bool = True) -> str:
    """Write an element of the spreadsheet namespace as XML inside ``parent``.

    ``parent`` is the :class:`~.xmltext.Node` it goes into: the element takes the
    prefix in scope there. With None, it is written unprefixed (its enclosing new
    element declares the namespace as the default).
    """
    tag = el.tag
    if not tag.startswith("{" + NS_MAIN + "}"):
        raise PackageError(f"unexpected element {tag} in result styles")
    local = tag.split("}", 1)[1]
    if parent is None:
        qual, xmlns = local, ""
    else:
        qual, xmlns = qualified(parent, NS_MAIN, local)  # type: ignore[arg-type]
        if not top:
            xmlns = ""
    attrs = [xmlns] if xmlns else []
    for key, value in el.attrib.items():
        if key.startswith("{" + NS_XML + "}"):
            key = "xml:" + key.split("}", 1)[1]
        elif key.startswith("{"):
            raise PackageError(f"unexpected attribute {key} in result styles")
        attrs.append(f' {key}="{esc_attr(value)}"')
    child_parent = None if (parent is None or xmlns) else parent
    inner = esc_text(el.text or "") + "".join(
        _serialize(c, child_parent, False) for c in el
    )
    tail = "" if top else esc_text(el.tail or "")
    if not inner:
        return f"<{qual}{''.join(attrs)}/>{tail}"
    return f"<{qual}{''.join(attrs)}>{inner}</{qual}>{tail}"
