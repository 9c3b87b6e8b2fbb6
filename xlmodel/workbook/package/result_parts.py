"""The parts copied in from the results workbook, and how each is rewritten.

Owns the copy step of a splice: every part reachable from a result sheet is copied
under a free name (drawings, charts, tables, their relationships), its
relationships pointed at the copied targets; a result sheet has its style indices
remapped to the merged styles, its shared strings made inline (the user's
shared-strings part is not touched), its tab selection set and the GUIDs of its
conditional formats made its own; a copied table gets an id no kept table has.

The result sheets are the writer's own output, so their cells are rewritten in
one pass that relies on the writer's layout (:data:`_CELL_RE`); that every cell
is laid out so is checked, and a sheet with any other cell is refused.
"""

from __future__ import annotations

import posixpath
import re
import uuid

from xlmodel.errors import PackageError
from xlmodel.studies import background

from .draft import Draft
from .ooxml import CT_RELS, NS_MAIN, NS_PKG_REL, RT_TABLE, fold, q
from .ownership import Workbook
from .parts import Package, relative, rels_name, resolve
from .xmltext import (
    ATTRS,
    XmlPart,
    as_int,
    del_attr,
    set_attr,
    start_tag_re,
    tag_attrs,
    xml_text,
)

_FORMULA_RE = re.compile(rb"<f[\s/>]")
_GUID_ID_RE = re.compile(
    r"<(?:[\w.-]+:)?id>\s*(\{[0-9A-Fa-f-]{36}\})\s*</(?:[\w.-]+:)?id>"
)
# A cell of a result sheet as the writer lays it out: the reference, the style
# index, then either a shared string (t="s" and its index in <v>, nothing else)
# or the rest of a start tag whose attributes are all known. Every <c> of the
# part must be one whole match (checked: the splice refuses the part otherwise),
# so a cell laid out in any other way cannot slip through unchanged.
_CELL_RE = re.compile(
    r'(<c r="[A-Z]{1,3}[0-9]{1,7}")(?: s="([0-9]{1,9})")?'
    r'(?: t="s"><v>([0-9]{1,9})</v></c>'
    r'|((?: cm="[0-9]{1,9}")?(?: t="(?:b|e|n|d|str|inlineStr)")?'
    r'(?: vm="[0-9]{1,9}")?/?>))'
)
# Every start tag of a <c> element, however written.
_ANY_CELL_RE = re.compile(r"<c[\s/>]")
_ROW_RE = start_tag_re("", "row")
_S_ATTR_RE = re.compile(r"\ss\s*=")

#: Below this many bytes of result sheets, every sheet is rewritten here (a
#: child costs a few ms to fork and sends its sheets back).
MIN_PARALLEL_BYTES = 2_000_000


def result_strings(draft: Draft) -> list[str]:
    """Inner XML of every shared string of the results, by index."""
    part = None
    for rel in draft.rbook.rels:
        if rel.type.endswith("/sharedStrings") and rel.part is not None:
            part = rel.part
    if part is None:
        return []
    root = draft.res.xml(part)
    xml = xml_text(draft.res.read(part), part)
    if xml.prefix_for(NS_MAIN) != "":
        raise draft.res.fail(f"{part} is not laid out as expected")
    found = string_inners(xml.text)
    if len(found) != len(root.findall(q(NS_MAIN, "si"))):
        raise draft.res.fail(f"{part} is not laid out as expected")
    return found


_SI_RE = re.compile(r"<si(?=[\s/>])" + ATTRS + r"(?:(?<=/)>|>(.*?)</si\s*>)", re.S)


def string_inners(text: str) -> list[str]:
    """The inner XML of every ``<si>`` of a shared-strings part's text, in order."""
    return [match.group(1) or "" for match in _SI_RE.finditer(text)]


def inline_endings(strings: list[str]) -> list[str]:
    """What ends a shared-string cell once inline, by the string's index
    (``strings``: :func:`string_inners`): the cell ``<c r="A1" s="3"
    t="s"><v>7</v></c>`` becomes ``<c r="A1" s="M"`` and ``inline_endings(...)[7]``."""
    return [' t="inlineStr"><is>' + xml + "</is></c>" for xml in strings]


def copy_result_parts(
    draft: Draft,
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    strings: list[str],
    active_new: int | None,
    final: bool = False,
) -> tuple[dict[str, str], bool]:
    """Copy every part reachable from the result sheets under free names.

    Returns the new name of each copied part, and whether a copied sheet holds
    a formula. ``final``: the result sheets' cells and rows are already laid
    out with the merged style indices and inline strings (the writer was
    given the user's styles); only the rest of each sheet is rewritten.
    """
    res = draft.res
    order, sheet_parts = _copy_order(res, draft.rbook)
    has_formulas = False
    part_map = {part: draft.free_name(_rebased(draft, part)) for part in order}
    table_ids = _table_ids(draft)
    inline = _inline_strings(strings)
    jobs = [
        (
            part,
            res.read(part),
            active_new is not None and sheet_parts.index(part) == active_new,
            part_map[part],
        )
        for part in order
        if part in sheet_parts
    ]
    if final:
        rewritten = {
            part: _rewrite_final_sheet(data, part, xf_map, dxf_map, selected, salt)
            for part, data, selected, salt in jobs
        }
    else:
        rewritten = _rewrite_sheets(jobs, xf_map, dxf_map, inline)
    for part in order:
        if part in rewritten:
            data = rewritten[part]
            has_formulas |= _FORMULA_RE.search(data) is not None
        elif any(
            r.type == RT_TABLE and r.part == part
            for src in order
            for r in res.rels(src)
        ):
            data, table_ids = _renumber_table(res.read(part), part, table_ids)
        else:
            data = res.read(part)
        new_name = part_map[part]
        draft.new_parts[new_name] = data
        content_type, override = res.content_type(part)
        if content_type is None:
            raise res.fail(f"{part} has no content type")
        draft.new_types.append((new_name, content_type, override))
        rels_part = res.find(rels_name(part))
        if rels_part is not None:
            new_rels = rels_name(new_name)
            draft.taken.add(fold(new_rels))
            draft.new_parts[new_rels] = _retarget_rels(
                res.read(rels_part), rels_part, part, new_name, part_map
            )
            draft.new_types.append((new_rels, CT_RELS, False))
    return part_map, has_formulas


def _rewrite_sheets(
    jobs: list[tuple[str, bytes, bool, str]],
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    inline: dict[str | None, str],
) -> dict[str, bytes]:
    """Each result sheet of ``jobs`` (part, bytes, selected, salt) rewritten by
    :func:`_rewrite_result_sheet`: by part.

    With :data:`MIN_PARALLEL_BYTES` or more of sheets, and a child to be had
    (:func:`xlmodel.studies.background.can_fork`), about half of the bytes are
    rewritten in a forked child while this process rewrites the rest (each
    sheet's rewriting depends only on it and on the maps): the same bytes as
    one after the other. A child that dies, or an answer that cannot travel:
    its sheets are rewritten here.
    """
    total = sum(len(data) for _, data, _, _ in jobs)
    if total < MIN_PARALLEL_BYTES or len(jobs) < 2 or not background.can_fork():
        return _rewrite_many(jobs, xf_map, dxf_map, inline)
    away = background.split([len(data) for _, data, _, _ in jobs])
    theirs = [job for i, job in enumerate(jobs) if i in away]
    mine = [job for i, job in enumerate(jobs) if i not in away]
    with background.Background(
        _rewrite_many,
        (theirs, xf_map, dxf_map, inline),
        mode="process",
        fallback="serial",
    ) as child:
        out = _rewrite_many(mine, xf_map, dxf_map, inline)
        try:
            out.update(child.result())
        except PackageError:
            raise
        except Exception:  # noqa: BLE001 - an answer that could not travel
            out.update(_rewrite_many(theirs, xf_map, dxf_map, inline))
    return out


def _rewrite_many(jobs, xf_map, dxf_map, inline, progress=None) -> dict[str, bytes]:
    return {
        part: _rewrite_result_sheet(
            data, part, xf_map, dxf_map, inline, selected=selected, salt=salt
        )
        for part, data, selected, salt in jobs
    }


def _rebased(draft: Draft, part: str) -> str:
    """Where a part of the results goes: at the same place relative to the
    user's workbook part as it has relative to the results' one."""
    res_folder = posixpath.dirname(draft.rbook.part)
    book_folder = posixpath.dirname(draft.book.part)
    if res_folder == book_folder:
        return part
    inside = posixpath.relpath(part, res_folder or ".")
    if inside.startswith("../"):
        return part
    return posixpath.normpath(posixpath.join(book_folder, inside))


def _copy_order(res: Package, rbook: Workbook) -> tuple[list[str], list[str | None]]:
    """Parts reachable from the result sheets, breadth first; and the sheets'.

    A result sheet that refers to a workbook-level part (other than a sheet)
    cannot be copied alone: refused.
    """
    forbidden = {rbook.part} | {r.part for r in rbook.rels if r.part is not None}
    sheet_parts = [s.rel.part for s in rbook.sheets if s.rel is not None]
    order: list[str] = []
    todo = [p for p in sheet_parts if p is not None]
    while todo:
        part = todo.pop(0)
        if part in order:
            continue
        order.append(part)
        for rel in res.rels(part):
            if rel.part is None:
                continue
            if rel.part in forbidden and rel.part not in sheet_parts:
                raise res.fail(f"{part} refers to a workbook-level part {rel.part!r}")
            todo.append(rel.part)
    return order, sheet_parts


def _table_ids(draft: Draft) -> set[int]:
    """Ids of the table parts the output keeps."""
    ids = set()
    for name in draft.orig.names:
        if name in draft.removed or not name.lower().endswith(".xml"):
            continue
        ctype, _ = draft.orig.content_type(name)
        if ctype and ctype.endswith("spreadsheetml.table+xml"):
            ids.add(as_int(draft.orig.xml(name).get("id")))
    return ids


def _rewrite_result_sheet(
    data: bytes,
    part: str,
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    inline: dict[str | None, str],
    selected: bool,
    salt: str,
) -> bytes:
    """Remap style ids, inline shared strings and fix tab selection of a sheet.

    ``inline``: the shared strings of the results, from :func:`_inline_strings`.

    The GUIDs that tie a conditional format to its x14 extension are replaced
    by ones derived from ``salt`` (the new part name): the writer derives them
    from the sheet's position, so they could repeat a user sheet's.
    """
    xml = xml_text(data, part)
    if xml.nsmap.get("") not in (NS_MAIN, None) or xml.prefix:
        raise PackageError(f"result sheet {part} is not laid out as expected")
    text = xml.text

    text = _rewrite_cells(text, part, xf_map, inline)
    text = remap_rows(text, part, xf_map)
    text = start_tag_re("", "col").sub(
        lambda m: _remap(m.group(0), "style", xf_map, part), text
    )
    text = start_tag_re("", "cfRule").sub(
        lambda m: _remap(m.group(0), "dxfId", dxf_map, part), text
    )

    def view(match: re.Match[str]) -> str:
        tag = del_attr(match.group(0), "tabSelected")
        return set_attr(tag, "tabSelected", "1") if selected else tag

    text = start_tag_re("", "sheetView").sub(view, text)
    for old in sorted(_guids(text)):
        new = uuid.uuid5(uuid.NAMESPACE_URL, f"xlmodel:{salt}:{old.upper()}")
        text = text.replace(old, "{" + str(new).upper() + "}")
    xml.text = text
    return xml.encode()


def _remap(tag: str, attr: str, table: dict[int, int], part: str) -> str:
    """A start tag with its style index ``attr`` remapped by ``table`` (an
    empty table, or no such attribute: the tag as it is); an index the table
    does not know is refused."""
    value = tag_attrs(tag).get(attr)
    if value is None or not table:
        return tag
    index = as_int(value, -1)
    if index not in table:
        raise PackageError(f"result sheet {part} uses unknown style {value}")
    return set_attr(tag, attr, str(table[index]))


def remap_rows(text: str, part: str, xf_map: dict[int, int]) -> str:
    """Every ``<row>`` start tag of ``text`` with its style index (``s``)
    remapped to the merged styles (an empty ``xf_map``: kept)."""
    if not xf_map:
        return text
    return _ROW_RE.sub(
        lambda m: (
            _remap(m.group(0), "s", xf_map, part)
            if _S_ATTR_RE.search(m.group(0))
            else m.group(0)
        ),
        text,
    )


def final_cells(
    text: str, xf_map: dict[int, int], inline: dict[str | None, str]
) -> str:
    """Cells and rows written by the writer (``text``) laid out in final form,
    as the splice would rewrite them: style indices remapped, shared strings
    inline (``inline``: by index as written, as :func:`_inline_strings`).
    Raises PackageError for a cell the splice would refuse."""
    return remap_rows(
        _rewrite_cells(text, "results", xf_map, inline), "results", xf_map
    )


def _rewrite_final_sheet(
    data: bytes,
    part: str,
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    selected: bool,
    salt: str,
) -> bytes:
    """:func:`_rewrite_result_sheet` of a sheet whose cell data is already in
    its final form: the sheet around its ``<sheetData>`` (columns, views,
    conditional formats, GUIDs) rewritten, the cell data copied as it is."""
    start = data.find(b"<sheetData")
    opened = data.find(b">", start) + 1 if start >= 0 else 0
    close = data.rfind(b"</sheetData>")
    if start < 0 or close < opened or data[opened - 2 : opened] == b"/>":
        return _rewrite_result_sheet(
            data, part, xf_map, dxf_map, {None: ""}, selected, salt
        )
    shell = _rewrite_result_sheet(
        data[:opened] + data[close:], part, xf_map, dxf_map, {None: ""}, selected, salt
    )
    at = shell.find(b">", shell.find(b"<sheetData")) + 1
    return shell[:at] + data[opened:close] + shell[at:]


def _guids(text: str) -> set[str]:
    """The GUIDs in ``<id>`` elements of a result sheet (the x14 extensions').

    The cells are not searched when they hold no ``id>`` at all, which the
    writer's never do (a search of them is most of the time of a search).
    """
    start = text.find("<sheetData")
    end = text.rfind("</sheetData>")
    if start < 0 or end < start or text.find("id>", start, end) >= 0:
        return set(_GUID_ID_RE.findall(text))
    return set(_GUID_ID_RE.findall(text, 0, start)) | set(
        _GUID_ID_RE.findall(text, end)
    )


def _inline_strings(strings: list[str]) -> dict[str | None, str]:
    """What ends a shared-string cell once inline, by its index as written."""
    return by_written_index(inline_endings(strings))


def by_written_index(endings: list[str]) -> dict[str | None, str]:
    """The endings of :func:`inline_endings` by the index as a cell writes
    it (``"7"``); None: a cell that holds no shared string."""
    inline: dict[str | None, str] = {str(k): end for k, end in enumerate(endings)}
    inline[None] = ""
    return inline


def _rewrite_cells(
    text: str, part: str, xf_map: dict[int, int], inline: dict[str | None, str]
) -> str:
    """Every cell of a result sheet with its style index remapped to the merged
    styles and its shared string made an inline string, in one pass.

    A cell ``<c r="A1" s="3" t="s"><v>7</v></c>`` becomes ``<c r="A1" s="M"
    t="inlineStr"><is>STRING</is></c>`` (M: ``xf_map[3]``, STRING: the inner XML
    of shared string 7, ``inline`` from :func:`_inline_strings`); any other cell
    keeps every byte but its style index. With an empty ``xf_map`` the style
    indices stay as they are.
    """
    # text, then per cell: reference, style index, shared string index, rest
    pieces = _CELL_RE.split(text)
    cells = len(pieces) // 5
    written = len(_ANY_CELL_RE.findall(text))
    if cells != written:
        first = next(
            m.start()
            for m in _ANY_CELL_RE.finditer(text)
            if not _CELL_RE.match(text, m.start())
        )
        tag = text[first : text.find(">", first, first + 200) + 1 or first + 200]
        raise PackageError(
            f"result sheet {part} has {written - cells} of its {written} cells "
            f"not laid out as the splice expects, the first: {tag!r}"
        )
    styles: dict[str | None, str] = {
        str(old): f' s="{new}"' for old, new in xf_map.items()
    }
    styles[None] = ""

    def style(value: str | None) -> str:
        if value in styles:
            return styles[value]
        assert value is not None
        if not xf_map:
            return f' s="{value}"'
        if int(value) in xf_map:  # written with leading zeros
            return f' s="{xf_map[int(value)]}"'
        raise PackageError(f"result sheet {part} uses unknown style {value}")

    def shared(value: str | None) -> str:
        if value in inline:
            return inline[value]
        assert value is not None
        if str(int(value)) in inline:  # written with leading zeros
            return inline[str(int(value))]
        raise PackageError(f"result sheet {part} has a bad shared string")

    try:
        pieces[2::5] = map(styles.__getitem__, pieces[2::5])
    except KeyError:
        pieces[2::5] = map(style, pieces[2::5])
    try:
        pieces[3::5] = map(inline.__getitem__, pieces[3::5])
    except KeyError:
        pieces[3::5] = map(shared, pieces[3::5])
    pieces[4::5] = ["" if rest is None else rest for rest in pieces[4::5]]
    return "".join(pieces)


def _renumber_table(data: bytes, part: str, used: set[int]) -> tuple[bytes, set[int]]:
    """Give a copied table part an id no other table uses."""
    xml = XmlPart(data, part)
    table_id = as_int(xml.root.get("id"))
    if table_id in used:
        table_id = max(used) + 1
        xml.set_attr(xml.root, "id", str(table_id))
    return xml.encode(), used | {table_id}


def _retarget_rels(
    data: bytes, rels_part: str, source: str, new_source: str, part_map: dict[str, str]
) -> bytes:
    """Point the relationships of a copied part at the copied targets."""
    xml = XmlPart(data, rels_part)
    for node in xml.root.findall(NS_PKG_REL, "Relationship"):
        if node.get("TargetMode") == "External":
            continue
        target = resolve(source, node.get("Target") or "")
        if target is None or target not in part_map:
            continue
        xml.set_attr(node, "Target", relative(new_source, part_map[target]))
    return xml.encode()
