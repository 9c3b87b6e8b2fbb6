"""The parsed element spans that the package layer edits the user's XML parts with."""

from __future__ import annotations

import codecs

import pytest

from xlmodel.errors import PackageError
from xlmodel.workbook.package.xmltext import XmlPart, qualified, read_part

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

BOOK = (
    '<?xml version="1.0"?>\n<!-- <sheets><sheet name="Ghost"/></sheets> -->'
    f"<x:workbook xmlns:x='{MAIN}' xmlns:r='{REL}'>"
    "<?keep <sheet/>?>"
    f'<sheets xmlns="{MAIN}"  >\n  <sheet name="A" r:id=\'rId1\' sheetId="1"/>'
    "<!-- <sheet name='B'/> --><sheet\tsheetId = '2'\n name='B&apos;s' r:id='rId2' />"
    "</sheets >"
    "<x:definedNames><x:definedName name='n'><![CDATA['A'!$A$1<]]></x:definedName>"
    "</x:definedNames><x:calcPr/></x:workbook>"
)


def test_elements_are_found_by_namespace_not_by_text() -> None:
    part = read_part(BOOK.encode(), "book.xml", MAIN, "workbook")
    sheets = part.root.find(MAIN, "sheets")
    assert sheets is not None
    assert [s.get("name") for s in sheets.findall(MAIN, "sheet")] == ["A", "B's"]
    assert [s.get(f"{{{REL}}}id") for s in sheets.findall(MAIN, "sheet")] == [
        "rId1",
        "rId2",
    ]
    name = part.root.find(MAIN, "definedNames").find(MAIN, "definedName")
    assert name.el.text == "'A'!$A$1<"
    # The prefix in scope: the default namespace redeclared on <sheets>.
    assert sheets.prefix_for(MAIN) == ""
    assert part.root.prefix_for(MAIN) == "x"
    assert qualified(sheets, MAIN, "sheet") == ("sheet", "")
    assert qualified(part.root, "urn:other", "thing") == (
        "thing",
        ' xmlns="urn:other"',
    )
    # Spans: each element's bytes are exactly its markup.
    data = part.data
    first, second = sheets.findall(MAIN, "sheet")
    assert (
        data[first.start : first.end] == b'<sheet name="A" r:id=\'rId1\' sheetId="1"/>'
    )
    assert data[second.start : second.end].startswith(b"<sheet\tsheetId")
    assert data[sheets.inner_end : sheets.end] == b"</sheets >"


def test_edits_change_only_the_edited_elements() -> None:
    part = read_part(BOOK.encode(), "book.xml", MAIN, "workbook")
    sheets = part.root.find(MAIN, "sheets")
    first, second = sheets.findall(MAIN, "sheet")
    part.remove(first)
    part.set_attr(second, "sheetId", "7")
    part.set_attr(second, "state", "hidden")
    part.append(sheets, '<sheet name="C"/>')
    part.append(part.root.find(MAIN, "calcPr"), "")
    calc = part.root.find(MAIN, "calcPr")
    part.set_attr(calc, "fullCalcOnLoad", "1")
    out = part.encode().decode()
    expected = (
        BOOK.replace('<sheet name="A" r:id=\'rId1\' sheetId="1"/>', "")
        .replace("sheetId = '2'", "sheetId = '7'")
        .replace("r:id='rId2'", "r:id='rId2' state=\"hidden\"")
        .replace("</sheets >", '<sheet name="C"/></sheets >')
        .replace("<x:calcPr/>", '<x:calcPr fullCalcOnLoad="1"/>')
    )
    assert out == expected


def test_single_quoted_values_stay_single_quoted() -> None:
    part = XmlPart(b"<a v='1' w=\"2\"/>", "a.xml")
    part.set_attr(part.root, "v", "it's <")
    part.set_attr(part.root, "w", 'say "x"')
    assert part.encode() == b"<a v='it&apos;s &lt;' w=\"say &quot;x&quot;\"/>"


def test_an_empty_element_is_opened_to_take_children() -> None:
    part = XmlPart(f'<p:r xmlns:p="{MAIN}" k="1" />'.encode(), "r.xml")
    part.append(part.root, "<p:c/>")
    assert part.encode() == f'<p:r xmlns:p="{MAIN}" k="1" ><p:c/></p:r>'.encode()


def test_overlapping_edits_are_refused() -> None:
    part = XmlPart(b"<a><b/></a>", "a.xml")
    part.remove(part.root)
    part.remove(part.root.children[0])
    with pytest.raises(PackageError, match="overlapping"):
        part.encode()


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("windows-1252", b""),
        ("iso-8859-1", b""),
    ],
)
def test_a_part_keeps_its_encoding(codec: str, bom: bytes) -> None:
    declared = "UTF-16" if codec.startswith("utf-16") else codec.upper()
    text = (
        f'<?xml version="1.0" encoding="{declared}"?>'
        '<a n="Arbeitsbl\u00e4tter"><!-- caf\u00e9 --><b>\u00e9</b></a>'
    )
    data = bom + text.encode(codec)
    part = XmlPart(data, "a.xml")
    b = part.root.children[0]
    assert b.el.text == "\u00e9" and part.root.get("n") == "Arbeitsbl\u00e4tter"
    part.set_text(b, "\u00fc")
    out = part.encode()
    assert out == bom + text.replace("<b>\u00e9</b>", "<b>\u00fc</b>").encode(codec)


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        b"<a>&undeclared;</a>",
        b"<a><b></a>",
        b"",
    ],
)
def test_damaged_or_dangerous_xml_is_one_clear_line(data: bytes) -> None:
    with pytest.raises(PackageError) as caught:
        XmlPart(data, "x.xml")
    message = str(caught.value)
    assert message.startswith("x.xml: ") and "\n" not in message
    if b"DOCTYPE" in data:
        assert "refused for safety" in message
    else:
        assert "damaged XML" in message


def test_the_root_must_be_the_expected_element() -> None:
    with pytest.raises(PackageError, match="root element is not <workbook>"):
        read_part(f'<worksheet xmlns="{MAIN}"/>'.encode(), "w.xml", MAIN, "workbook")
