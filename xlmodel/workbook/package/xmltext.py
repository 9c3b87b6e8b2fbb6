"""XML parts parsed into element spans, and edited as byte splices at their edges.

Owns how the package layer reads and edits the XML parts of the user's package.
:class:`XmlPart` parses a part with a real XML parser (expat, namespaces
resolved; document types, entity declarations and external entities refused,
as :mod:`defusedxml` does) into a light tree of :class:`Node` spans: for every
element its namespace and local name, the prefix it is written with, the
namespaces in scope, where its start tag, content and end tag lie in the part's
bytes, and the :class:`~xml.etree.ElementTree.Element` with its attributes and
text. Elements are found by namespace, local name and parent, never by searching
the text, so comments, processing instructions, CDATA sections, any prefix (or a
default namespace redeclared on a child), attribute order, quotes and whitespace
are all read as XML reads them. Edits (:meth:`XmlPart.remove`,
:meth:`XmlPart.set_attr`, :meth:`XmlPart.append`, ...) are splices at element
boundaries, written with the prefix in scope where they land; every byte outside
the edited elements stays as it was, in the part's own encoding.

Also the one-shot checked parse (:func:`parse`), escaping, and the text helpers
the copy of the results' own sheets uses (:func:`tag_attrs`, :func:`set_attr`,
:func:`start_tag_re`, :func:`xml_text`, :func:`find_element`, ...): those parts
are written by xlmodel's writer, whose layout is known, not by the user.
"""

from __future__ import annotations

import codecs
import re
import xml.parsers.expat as expat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.common import (
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import fromstring as _defused_fromstring

from xlmodel.errors import PackageError

# The attribute part of a start tag: anything up to '>' outside quoted values.
ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_ATTR_RE = re.compile(r"""([^\s=/<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
ROOT_RE = re.compile(r"<(?![?!])(?:([\w.-]+):)?([\w.-]+)(" + ATTRS + ")>")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

# Within a start tag that the parser has accepted: its name, then each attribute.
_TAG_NAME_RE = re.compile(rb"<([^\s/>]+)")
_TAG_ATTR_RE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
_TAG_CLOSE_RE = re.compile(rb"\s*(/?)>")
_NS_XML = "http://www.w3.org/XML/1998/namespace"


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


# ---------------------------------------------------------------------------
# The parsed part
# ---------------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """One element of a parsed part: names, namespaces in scope and byte spans.

    ``start`` is the offset of its ``<``, ``tag_end`` just after its start tag,
    ``inner_end`` the offset of its end tag (``tag_end`` for an empty element
    ``<x/>``) and ``end`` just after the element, all in the part's UTF-8 bytes.
    """

    ns: str
    local: str
    prefix: str
    scope: dict[str, str]
    start: int
    tag_end: int = 0
    inner_end: int = 0
    end: int = 0
    empty: bool = False
    el: Element = field(default_factory=lambda: Element("x"))
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    # Raw attribute name -> (start, end) of its quoted value, in the part's bytes.
    attr_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    attrs_end: int = 0

    def is_(self, ns: str, local: str) -> bool:
        return self.ns == ns and self.local == local

    def find(self, ns: str, local: str) -> Node | None:
        """First child element of that name."""
        return next((c for c in self.children if c.is_(ns, local)), None)

    def findall(self, ns: str, local: str) -> list[Node]:
        """Every child element of that name, in order."""
        return [c for c in self.children if c.is_(ns, local)]

    def get(self, name: str, default: str | None = None) -> str | None:
        """An attribute, by local name (no namespace) or ``{namespace}local``."""
        return self.el.get(name, default)

    def prefix_for(self, ns: str) -> str | None:
        """The prefix bound to ``ns`` here ('' for the default), None if none is."""
        if self.ns == ns and self.scope.get(self.prefix) == ns:
            return self.prefix
        if self.scope.get("") == ns:
            return ""
        for prefix, uri in self.scope.items():
            if uri == ns:
                return prefix
        return None

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.iter()


def qualified(node: Node, ns: str, local: str) -> tuple[str, str]:
    """Name to write a new child of ``node`` with, and the declaration it needs.

    The prefix in scope at ``node`` is used; when ``ns`` is not in scope, the
    element declares it as its default namespace (returned as `` xmlns="..."``).
    """
    prefix = node.prefix_for(ns)
    if prefix is None:
        return local, f' xmlns="{esc_attr(ns)}"'
    return (f"{prefix}:{local}" if prefix else local), ""


def refuse_declarations(parser) -> None:
    """Set an expat parser to refuse what defusedxml refuses: a document type,
    an entity declaration, an external entity (each raises its
    :class:`~defusedxml.DefusedXmlException`), before anything is expanded or
    fetched."""
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)


def _refuse_dtd(*args: object) -> None:
    raise DTDForbidden(None, None, None)


def _refuse_entity(*args: object) -> None:
    raise EntitiesForbidden(None, None, None, None, None, None)


def _refuse_external(*args: object) -> None:
    raise ExternalReferenceForbidden(None, None, None, None)


class XmlPart:
    """An XML part parsed into element spans, with the edits made to it.

    Edits are collected and applied by :meth:`encode`; they must not overlap.
    The part is worked on in UTF-8 (a part in another encoding is converted, and
    converted back when written), so offsets are byte offsets into
    :attr:`data`.
    """

    def __init__(self, data: bytes, where: str):
        self.where = where
        self.bom = b""
        self.codec = "utf-8"
        self.data = self._utf8(data)
        self.root = self._parse()
        self._edits: list[tuple[int, int, int, bytes]] = []

    # -- reading -----------------------------------------------------------

    def _utf8(self, data: bytes) -> bytes:
        """The part as UTF-8 bytes, noting its byte-order mark and encoding."""
        if data.startswith(codecs.BOM_UTF8):
            self.bom = codecs.BOM_UTF8
            return data[3:]
        for bom, codec in (
            (codecs.BOM_UTF16_LE, "utf-16-le"),
            (codecs.BOM_UTF16_BE, "utf-16-be"),
        ):
            if data.startswith(bom):
                self.bom, self.codec = bom, codec
                return self._recode(data[2:], codec)
        declared = re.match(
            rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", data
        )
        if declared:
            name = declared.group(1).decode("ascii")
            try:
                codec = codecs.lookup(name).name
            except LookupError:
                raise self.fail(f"unknown XML encoding {name!r}") from None
            if codec != "utf-8":
                self.codec = codec
                return self._recode(data, codec)
        return data

    def _recode(self, data: bytes, codec: str) -> bytes:
        try:
            return data.decode(codec).encode("utf-8")
        except UnicodeError as exc:
            raise self.fail(f"cannot decode the XML text ({exc})") from None

    def fail(self, message: str) -> PackageError:
        return PackageError(f"{self.where}: {message}")

    def _parse(self) -> Node:
        parser = expat.ParserCreate("utf-8", " ")
        parser.namespace_prefixes = True
        parser.buffer_text = True
        refuse_declarations(parser)
        builder = TreeBuilder()
        data = self.data
        stack: list[Node] = []
        pending: dict[str, str] = {}
        found: list[Node] = []

        def declare(prefix: str | None, uri: str | None) -> None:
            pending[prefix or ""] = uri or ""

        def start(name: str, attrs: dict[str, str]) -> None:
            ns, local, prefix = _split(name)
            scope = dict(stack[-1].scope) if stack else {"xml": _NS_XML}
            scope.update(pending)
            pending.clear()
            el = builder.start(
                f"{{{ns}}}{local}" if ns else local,
                {_clark(k): v for k, v in attrs.items()},
            )
            node = Node(ns, local, prefix, scope, parser.CurrentByteIndex, el=el)
            self._lex_start_tag(node)
            if stack:
                node.parent = stack[-1]
                stack[-1].children.append(node)
            else:
                found.append(node)
            stack.append(node)

        def end(name: str) -> None:
            ns, local, _ = _split(name)
            builder.end(f"{{{ns}}}{local}" if ns else local)
            node = stack.pop()
            if node.empty:
                node.inner_end = node.end = node.tag_end
            else:
                node.inner_end = parser.CurrentByteIndex
                close = data.index(b">", node.inner_end)
                node.end = close + 1

        parser.StartNamespaceDeclHandler = declare
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = builder.data
        try:
            parser.Parse(data, True)
        except DefusedXmlException:
            raise self.fail(
                "declares an XML document type or entities, which workbooks "
                "never hold; refused for safety"
            ) from None
        except (expat.ExpatError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.fail(f"damaged XML ({message})") from None
        if not found:
            raise self.fail("no XML root element")
        builder.close()
        return found[0]

    def _lex_start_tag(self, node: Node) -> None:
        """Spans of the start tag of ``node`` (already accepted by the parser)."""
        data = self.data
        name = _TAG_NAME_RE.match(data, node.start)
        if name is None:
            raise self.fail("damaged XML (a start tag cannot be read)")
        pos = name.end()
        while True:
            attr = _TAG_ATTR_RE.match(data, pos)
            if attr is None:
                break
            node.attr_spans[attr.group(1).decode("utf-8")] = attr.span(2)
            pos = attr.end()
        node.attrs_end = pos
        close = _TAG_CLOSE_RE.match(data, pos)
        if close is None:
            raise self.fail("damaged XML (a start tag cannot be read)")
        node.empty = close.group(1) == b"/"
        node.tag_end = close.end()

    def text(self, start: int, end: int) -> str:
        """The original text between two offsets."""
        return self.data[start:end].decode("utf-8")

    # -- editing -----------------------------------------------------------

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace the original bytes ``[start, end)`` by ``text``."""
        self._edits.append((start, end, len(self._edits), text.encode("utf-8")))

    def insert(self, at: int, text: str) -> None:
        self.replace(at, at, text)

    def remove(self, node: Node) -> None:
        """Drop an element (the text around it stays)."""
        self.replace(node.start, node.end, "")

    def set_attr(self, node: Node, name: str, value: str) -> None:
        """Set an attribute of ``node`` (its raw name, as written), or add it.

        An existing value keeps its quote character; a new attribute goes after
        the last one.
        """
        span = node.attr_spans.get(name)
        if span is not None:
            quote = self.data[span[0] : span[0] + 1].decode("ascii")
            escaped = esc_attr(value)
            if quote == "'":
                escaped = escaped.replace("'", "&apos;")
            self.replace(span[0], span[1], quote + escaped + quote)
        else:
            self.insert(node.attrs_end, f' {name}="{esc_attr(value)}"')

    def set_text(self, node: Node, text: str) -> None:
        """Replace the content of ``node`` by (escaped) ``text``."""
        self.set_content(node, esc_text(text))

    def set_content(self, node: Node, xml: str) -> None:
        """Replace the content of ``node`` by the markup ``xml``."""
        if node.empty:
            self._open_empty(node, xml)
        else:
            self.replace(node.tag_end, node.inner_end, xml)

    def append(self, node: Node, xml: str) -> None:
        """Add the markup ``xml`` at the end of the content of ``node``."""
        if not xml:
            return
        if node.empty:
            self._open_empty(node, xml)
        else:
            self.insert(node.inner_end, xml)

    def _open_empty(self, node: Node, xml: str) -> None:
        """Write an empty element ``<x .../>`` as ``<x ...>xml</x>``."""
        qname = (node.prefix + ":" if node.prefix else "") + node.local
        slash = self.data.rindex(b"/", node.start, node.tag_end)
        self.replace(slash, node.tag_end, f">{xml}</{qname}>")

    def insert_after(
        self, parent: Node, ns: str, earlier: Iterable[str], xml: str
    ) -> None:
        """Insert ``xml`` into ``parent`` after its last child named in ``earlier``.

        Children are matched by namespace and local name; with none of them
        present, the markup goes first in ``parent``.
        """
        names = set(earlier)
        at = None
        for child in parent.children:
            if child.ns == ns and child.local in names:
                at = child.end
        if at is None:
            if parent.empty:
                self._open_empty(parent, xml)
                return
            at = parent.tag_end
        self.insert(at, xml)

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def encode(self) -> bytes:
        """The part with every edit applied, in its own encoding."""
        pieces, pos = [], 0
        for start, end, _, text in sorted(self._edits):
            if start < pos:
                raise self.fail("overlapping edits (internal error)")
            pieces.append(self.data[pos:start])
            pieces.append(text)
            pos = end
        pieces.append(self.data[pos:])
        out = b"".join(pieces)
        if self.codec != "utf-8":
            out = out.decode("utf-8").encode(self.codec, errors="xmlcharrefreplace")
        return self.bom + out


def _split(name: str) -> tuple[str, str, str]:
    """Namespace, local name and prefix of an expat name triplet."""
    parts = name.split(" ")
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return parts[0], parts[1], ""
    return parts[0], parts[1], parts[2]


def _clark(name: str) -> str:
    ns, local, _ = _split(name)
    return f"{{{ns}}}{local}" if ns else local


def read_part(data: bytes, where: str, ns: str, local: str) -> XmlPart:
    """Parse a part whose root element must be ``local`` in ``ns``."""
    part = XmlPart(data, where)
    if not part.root.is_(ns, local):
        raise part.fail(f"the root element is not <{local}> of {ns}")
    return part


# ---------------------------------------------------------------------------
# Checked parsing, and the start-tag helpers for the results' own parts
# ---------------------------------------------------------------------------


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

    A text search: only for parts xlmodel's writer produced, and for elements
    that do not nest inside themselves. The user's parts are read with
    :class:`XmlPart`.
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
    """A part as text plus what is needed to edit it and write it back."""

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
    """A part as text, with its root prefix and namespaces, to edit start tags in.

    For parts xlmodel's writer produced (the results' sheets and shared
    strings), whose layout is known. The user's parts are read with
    :class:`XmlPart`; code that still edits one of them as text should move to it.
    """
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


__all__ = [
    "ATTRS",
    "ROOT_RE",
    "Node",
    "Span",
    "Xml",
    "XmlPart",
    "as_int",
    "del_attr",
    "esc_attr",
    "esc_text",
    "find_element",
    "insert_point",
    "iter_elements",
    "parse",
    "qualified",
    "read_part",
    "set_attr",
    "start_tag_re",
    "tag_attrs",
    "xml_text",
]
