"""The previous rewrite of the results' sheets, kept to time beside the current one.

A copy of the code before the one-pass rewrite: one regular expression per cell
and the start tags parsed into attribute dictionaries, every cell's style index
remapped and its shared string made inline one at a time. ``bench_splice.py``
runs the splice with it in place of the current rewrite and checks that both
write the same bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from xlmodel.errors import PackageError
from xlmodel.workbook.package import result_parts
from xlmodel.workbook.package.ooxml import NS_MAIN
from xlmodel.workbook.package.xmltext import (
    ATTRS,
    as_int,
    del_attr,
    set_attr,
    start_tag_re,
    tag_attrs,
    xml_text,
)

_GUID_ID_RE = re.compile(
    r"<(?:[\w.-]+:)?id>\s*(\{[0-9A-Fa-f-]{36}\})\s*</(?:[\w.-]+:)?id>"
)
_CELL_RE = re.compile(r"<c(?=[\s/>])(" + ATTRS + r")>(?:(?<=/>)|(.*?)</c\s*>)", re.S)
_V_RE = re.compile(r"<v(?:\s[^>]*)?>\s*([0-9]+)\s*</v\s*>")


def rewrite_result_sheet(
    data: bytes,
    part: str,
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    strings: list[str],
    selected: bool,
    salt: str,
) -> bytes:
    """The previous ``_rewrite_result_sheet``, as it was."""
    xml = xml_text(data, part)
    if xml.nsmap.get("") not in (NS_MAIN, None) or xml.prefix:
        raise PackageError(f"result sheet {part} is not laid out as expected")
    text = xml.text

    def remap(tag: str, attr: str, table: dict[int, int]) -> str:
        value = tag_attrs(tag).get(attr)
        if value is None or not table:
            return tag
        index = as_int(value, -1)
        if index not in table:
            raise PackageError(f"result sheet {part} uses unknown style {value}")
        return set_attr(tag, attr, str(table[index]))

    def cell(match: re.Match[str]) -> str:
        whole = match.group(0)
        tag_end = len("<c") + len(match.group(1)) + 1
        tag = remap(whole[:tag_end], "s", xf_map)
        body = match.group(2)
        if tag_attrs(tag).get("t") == "s" and body is not None:
            found = _V_RE.search(body)
            if not found or int(found.group(1)) >= len(strings):
                raise PackageError(f"result sheet {part} has a bad shared string")
            tag = set_attr(tag, "t", "inlineStr")
            return f"{tag}<is>{strings[int(found.group(1))]}</is></c>"
        return tag + whole[tag_end:]

    text = _CELL_RE.sub(cell, text)
    text = start_tag_re("", "row").sub(lambda m: remap(m.group(0), "s", xf_map), text)
    text = start_tag_re("", "col").sub(
        lambda m: remap(m.group(0), "style", xf_map), text
    )
    text = start_tag_re("", "cfRule").sub(
        lambda m: remap(m.group(0), "dxfId", dxf_map), text
    )

    def view(match: re.Match[str]) -> str:
        tag = del_attr(match.group(0), "tabSelected")
        return set_attr(tag, "tabSelected", "1") if selected else tag

    text = start_tag_re("", "sheetView").sub(view, text)
    for old in sorted(set(_GUID_ID_RE.findall(text))):
        new = uuid.uuid5(uuid.NAMESPACE_URL, f"xlmodel:{salt}:{old.upper()}")
        text = text.replace(old, "{" + str(new).upper() + "}")
    xml.text = text
    return xml.encode()


@contextmanager
def previous_rewrite() -> Iterator[None]:
    """The splice with the previous rewrite of the results' sheets, meanwhile."""
    saved = result_parts._rewrite_result_sheet, result_parts._inline_strings
    result_parts._rewrite_result_sheet = rewrite_result_sheet
    result_parts._inline_strings = lambda strings: strings
    try:
        yield
    finally:
        result_parts._rewrite_result_sheet, result_parts._inline_strings = saved
