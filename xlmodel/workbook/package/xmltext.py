"""XML parts read and edited as text, so that every byte not edited stays as it was.

Owns the helpers the package layer edits XML with: decoding a part with its
encoding and writing it back the same way (:class:`Xml`), escaping, the attributes
of a start tag (read, set, remove), finding elements by prefixed name
(:func:`find_element`, :func:`iter_elements`, :func:`insert_point`), and parsing
with DTDs and entities forbidden (:func:`parse`). Edits keep namespace prefixes and
declarations as the part has them.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from xlmodel.errors import PackageError

# The attribute part of a start tag: anything up to '>' outside quoted values.
ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_ATTR_RE = re.compile(r"""([^\s=/<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
ROOT_RE = re.compile(r"<(?![?!])(?:([\w.-]+):)?([\w.-]+)(" + ATTRS + ")>")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(value: str) -> str:
    """Resolve the predefined entities and character references of XML text."""

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _ENTITIES[ref]

    return _ENTITY_RE.sub(repl, value)


def esc_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(value: str) -> str:
    return (
        esc_text(value)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def tag_attrs(tag: str) -> dict[str, str]:
    """Attributes of a start tag string, values unescaped."""
    body = re.sub(r"^<[^\s/>]+", "", tag)
    return {
        m.group(1): _unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTR_RE.finditer(body)
    }


def _attr_span(tag: str, name: str) -> re.Match[str] | None:
    return re.search(r"(\s)" + re.escape(name) + r"""\s*=\s*("[^"]*"|'[^']*')""", tag)


def set_attr(tag: str, name: str, value: str) -> str:
    """Set (or add) an attribute in a start tag string."""
    match = _attr_span(tag, name)
    quoted = '"' + esc_attr(value) + '"'
    if match:
        return tag[: match.start(2)] + quoted + tag[match.end(2) :]
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + f" {name}={quoted}" + tag[end:]


def del_attr(tag: str, name: str) -> str:
    """Remove an attribute from a start tag string."""
    match = _attr_span(tag, name)
    if not match:
        return tag
    return tag[: match.start()] + tag[match.end() :]


def start_tag_re(prefix: str, local: str) -> re.Pattern[str]:
    """Pattern of the start tags of one element name, with that prefix."""
    qname = (re.escape(prefix) + ":" if prefix else "") + re.escape(local)
    return re.compile("<" + qname + r"(?=[\s/>])" + ATTRS + ">")


@dataclass
class Span:
    """Where an element sits in a text: start tag, content and end."""

    start: int
    tag_end: int
    inner_end: int
    end: int
    tag: str

    @property
    def empty(self) -> bool:
        return self.tag.endswith("/>")


def find_element(
    text: str, prefix: str, local: str, start: int = 0, end: int | None = None
) -> Span | None:
    """First element of that name in ``text[start:end]``, or None.

    Only for elements that do not nest inside themselves.
    """
    match = start_tag_re(prefix, local).search(
        text, start, len(text) if end is None else end
    )
    if not match:
        return None
    tag = match.group(0)
    if tag.endswith("/>"):
        return Span(match.start(), match.end(), match.end(), match.end(), tag)
    qname = (prefix + ":" if prefix else "") + local
    close = re.compile("</" + re.escape(qname) + r"\s*>").search(text, match.end())
    if not close:
        return None
    return Span(match.start(), match.end(), close.start(), close.end(), tag)


def iter_elements(
    text: str, prefix: str, local: str, start: int, end: int
) -> list[Span]:
    """Every element of that name in ``text[start:end]``, in order."""
    spans = []
    pos = start
    while True:
        span = find_element(text, prefix, local, pos, end)
        if span is None or span.end > end:
            return spans
        spans.append(span)
        pos = span.end


def insert_point(text: str, prefix: str, earlier: Iterable[str]) -> int:
    """Offset just after the last of the given top-level elements present.

    Falls back to just after the root start tag. Only element names that
    occur nowhere but at the top level may be given.
    """
    root = ROOT_RE.search(text)
    assert root is not None
    best = root.end()
    for local in earlier:
        span = find_element(text, prefix, local, root.end())
        if span is not None:
            best = max(best, span.end)
    return best


@dataclass
class Xml:
    """An XML part as text plus what is needed to edit it and write it back."""

    text: str
    encoding: str
    prefix: str
    nsmap: dict[str, str]

    def encode(self) -> bytes:
        if self.encoding == "utf-8-sig":
            return codecs.BOM_UTF8 + self.text.encode("utf-8")
        return self.text.encode(self.encoding, errors="xmlcharrefreplace")

    def prefix_for(self, namespace: str) -> str | None:
        for prefix, uri in self.nsmap.items():
            if uri == namespace:
                return prefix
        return None


def _decode(data: bytes, where: str) -> tuple[str, str]:
    """Text of an XML part and the encoding to write it back with."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    declared = re.match(rb"""<\?xml[^>]*encoding\s*=\s*["']([\w.-]+)["']""", data)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        return data.decode(encoding), encoding
    except (LookupError, UnicodeDecodeError) as exc:
        raise PackageError(f"{where}: cannot decode the XML text ({exc})") from None


def xml_text(data: bytes, where: str) -> Xml:
    """An XML part as editable text, with its root prefix and namespaces."""
    text, encoding = _decode(data, where)
    root = ROOT_RE.search(text)
    if not root:
        raise PackageError(f"{where}: no XML root element")
    nsmap: dict[str, str] = {}
    for name, value in tag_attrs(root.group(0)).items():
        if name == "xmlns":
            nsmap[""] = value
        elif name.startswith("xmlns:"):
            nsmap[name[6:]] = value
    return Xml(text, encoding, root.group(1) or "", nsmap)


def parse(data: bytes | str, where: str) -> Element:
    """Parse XML with DTDs and entities forbidden; damage is a PackageError."""
    try:
        return _defused_fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PackageError(f"{where}: damaged XML ({message})") from None


def as_int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
