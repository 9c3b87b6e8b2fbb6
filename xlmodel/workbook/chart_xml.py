"""Chart parts that state every property they mean, whatever program reads them.

A DrawingML chart may leave a property out, and then the reader decides. Excel
reads an absent element the way Excel 2007 wrote its files (no smoothing, no
data-label flag set, no minor tick marks, blanks as gaps ...); LibreOffice does so
only for a workbook whose ``docProps/app.xml`` names Excel 12 as the program that
saved it, and otherwise applies the defaults of the OOXML specification, which
differ (smoothed lines, every label showing the series name *and* value *and* the
legend key, crossed minor tick marks, blanks as zeros, inverted negative bars).
The architect's workbook has almost always been saved by a newer Excel or by
another program, and the result sheets are spliced into it, so the same chart
parts would render differently from one workbook to the next.

:func:`explicit_chart` writes, into one chart part, every such property that the
part leaves out, with the value Excel gives it when it is absent: what the chart
means when read by Excel, stated for every reader. Nothing present is changed,
with one addition of xlmodel's own: data labels are one line (``wrap="none"``),
since their positions are chosen for one-line boxes; and children xlsxwriter
writes out of the schema's order (a legend's ``spPr`` after its ``txPr``) are put
in order.
:func:`explicit_package` does this for every chart part of a workbook file (the
result workbook xlsxwriter has just closed). Both are deterministic: the same
bytes in give the same bytes out, and a part already explicit comes back as is.

The element orders are the sequences of ECMA-376 Part 1, ``dml-chart.xsd``.
"""

from __future__ import annotations

import io
import os
import re
import xml.parsers.expat as expat
import zipfile
from pathlib import Path

from .package.xmltext import refuse_declarations

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"

#: The typeface of chart text that names none (the result sheets' cell font).
CHART_FONT = "Calibri"

_CHART_PART = re.compile(r"xl/charts/chart\d+\.xml")

# Child order of each parent (local names in the chart namespace), per the schema.
_CHART_SPACE = (
    "date1904",
    "lang",
    "roundedCorners",
    "AlternateContent",
    "style",
    "clrMapOvr",
    "pivotSource",
    "protection",
    "chart",
    "spPr",
    "txPr",
    "externalData",
    "printSettings",
    "userShapes",
    "extLst",
)
_CHART = (
    "title",
    "autoTitleDeleted",
    "pivotFmts",
    "view3D",
    "floor",
    "sideWall",
    "backWall",
    "plotArea",
    "legend",
    "plotVisOnly",
    "dispBlanksAs",
    "showDLblsOverMax",
    "extLst",
)
_TITLE = ("tx", "layout", "overlay", "spPr", "txPr", "extLst")
_LEGEND = ("legendPos", "legendEntry", "layout", "overlay", "spPr", "txPr", "extLst")
_GROUPS = {
    "barChart": (
        "barDir",
        "grouping",
        "varyColors",
        "ser",
        "dLbls",
        "gapWidth",
        "overlap",
        "serLines",
        "axId",
        "extLst",
    ),
    "lineChart": (
        "grouping",
        "varyColors",
        "ser",
        "dLbls",
        "dropLines",
        "hiLowLines",
        "upDownBars",
        "marker",
        "smooth",
        "axId",
        "extLst",
    ),
    "scatterChart": ("scatterStyle", "varyColors", "ser", "dLbls", "axId", "extLst"),
}
_SERIES = {
    "barChart": (
        "idx",
        "order",
        "tx",
        "spPr",
        "invertIfNegative",
        "pictureOptions",
        "dPt",
        "dLbls",
        "trendline",
        "errBars",
        "cat",
        "val",
        "shape",
        "extLst",
    ),
    "lineChart": (
        "idx",
        "order",
        "tx",
        "spPr",
        "marker",
        "dPt",
        "dLbls",
        "trendline",
        "errBars",
        "cat",
        "val",
        "smooth",
        "extLst",
    ),
    "scatterChart": (
        "idx",
        "order",
        "tx",
        "spPr",
        "marker",
        "dPt",
        "dLbls",
        "trendline",
        "errBars",
        "xVal",
        "yVal",
        "smooth",
        "extLst",
    ),
}
_LABEL_FLAGS = (
    "showLegendKey",
    "showVal",
    "showCatName",
    "showSerName",
    "showPercent",
    "showBubbleSize",
)
_DLBLS = (
    "dLbl",
    "delete",
    "numFmt",
    "spPr",
    "txPr",
    "dLblPos",
    *_LABEL_FLAGS,
    "separator",
    "showLeaderLines",
    "leaderLines",
    "extLst",
)
_DLBL = (
    "idx",
    "delete",
    "layout",
    "tx",
    "numFmt",
    "spPr",
    "txPr",
    "dLblPos",
    *_LABEL_FLAGS,
    "separator",
    "extLst",
)
_AXIS_HEAD = (
    "axId",
    "scaling",
    "delete",
    "axPos",
    "majorGridlines",
    "minorGridlines",
    "title",
    "numFmt",
    "majorTickMark",
    "minorTickMark",
    "tickLblPos",
    "spPr",
    "txPr",
    "crossAx",
    "crosses",
    "crossesAt",
)
_AXES = {
    "valAx": (
        *_AXIS_HEAD,
        "crossBetween",
        "majorUnit",
        "minorUnit",
        "dispUnits",
        "extLst",
    ),
    "catAx": (
        *_AXIS_HEAD,
        "auto",
        "lblAlgn",
        "lblOffset",
        "tickLblSkip",
        "tickMarkSkip",
        "noMultiLvlLbl",
        "extLst",
    ),
    "dateAx": (
        *_AXIS_HEAD,
        "auto",
        "lblOffset",
        "baseTimeUnit",
        "majorUnit",
        "majorTimeUnit",
        "minorUnit",
        "minorTimeUnit",
        "extLst",
    ),
}


def explicit_chart(xml: bytes) -> bytes:
    """One chart part with every property it leaves out written as Excel reads it.

    Parameters
    ----------
    xml : bytes
        A chart part (``c:chartSpace``), UTF-8.

    Returns
    -------
    bytes
        The part with the properties added; every element and value already in it
        kept, in place. The same input always gives the same output, and the
        output is a fixed point (explicit twice = explicit once).

    Raises
    ------
    ValueError
        ``xml`` is not a chart part.
    """
    xml, caches = _cut_caches(xml)
    top = _parse(xml)
    space = next((n for n in top if isinstance(n, _Element)), None)
    if space is None or space.uri != C or space.local != "chartSpace":
        raise ValueError("not a chart part: the root is not c:chartSpace")
    prefix = space.prefix or "c"
    e = _Editor(prefix, _declared_prefix(space, A) or "a")
    e.ensure(space, _CHART_SPACE, "roundedCorners", "0")
    chart = e.child(space, "chart")
    if chart is None:
        raise ValueError("not a chart part: no c:chart")
    _chart(e, chart)
    _text_defaults(e, space)
    e.reorder(space, _CHART_SPACE)
    # every part of the package declares itself standalone
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    for node in top:
        _write(node, out)
    return _put_caches("".join(out).encode("utf-8"), caches)


def explicit_package(path) -> int:
    """Make every chart part of the workbook file at ``path`` explicit, in place.

    Every other part keeps its bytes; the zip entries keep their order, names,
    dates and compression. The file is replaced atomically (a temporary file
    beside it, then a rename).

    Parameters
    ----------
    path : str or path-like
        An ``.xlsx`` file.

    Returns
    -------
    int
        Number of chart parts rewritten.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as zin:
        entries = explicit_entries(zin)
    changed = sum(new is not None for _, _, new in entries)
    if not changed:
        return 0
    tmp = path.with_name(f".{path.name}.charts.tmp")
    try:
        write_entries(tmp, entries)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return changed


def explicit_entries(
    archive: zipfile.ZipFile,
) -> list[tuple[zipfile.ZipInfo, bytes, bytes | None]]:
    """Every entry of an open package with its bytes and, for a chart part that
    :func:`explicit_chart` changes, its new bytes (None for every other entry)."""
    out = []
    for info in archive.infolist():
        data = archive.read(info)
        new = None
        if _CHART_PART.fullmatch(info.filename):
            new = explicit_chart(data)
            if new == data:
                new = None
        out.append((info, data, new))
    return out


def write_entries(target, entries, compression: int | None = None) -> None:
    """Write the entries of :func:`explicit_entries` (the new bytes where there
    are some) as a zip file at ``target``, in their order, with their names and
    dates; each with its own compression, or ``compression`` for every one."""
    # packed in memory, then written: a write that fails (a full disk) fails
    # outside the zip writer, which never holds a broken file
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zout:
        for info, data, new in entries:
            if compression is not None:
                info.compress_type = compression
            zout.writestr(info, data if new is None else new)
    with open(target, "wb") as handle:
        handle.write(packed.getbuffer())


# ---------------------------------------------------------------------------------
# Private API
# ---------------------------------------------------------------------------------


# The point caches of the series (``c:numCache``, ``c:strCache``), most of a
# chart part's bytes and nothing the editor reads or changes, are taken out
# before the part is parsed and put back after it is written. Only a cache whose
# text :func:`_write` would write back as it reads it is taken out: elements of the
# chart prefix, attribute values and text without a character it escapes
# or expat normalises, no element written as a start and an end tag with nothing
# between (written back as one empty-element tag); any other stays in.
_C_DECLARED = b'xmlns:c="' + C.encode() + b'"'
_CACHE = re.compile(rb"<c:(numCache|strCache)>(.*?)</c:\1>", re.S)
_PLAIN_CACHE = re.compile(
    rb'(?:<c:[A-Za-z]+(?: [A-Za-z]+="[^"&<>\t\n\r]*+")*+/?>|</c:[A-Za-z]+>'
    rb'|[^<>&"\r]++)*+'
)
_EMPTY_PAIR = re.compile(rb"<c:[A-Za-z]+(?: [^<>]*)?(?<!/)></")
_CUT = b"xlmodel-cache-"


class _Element:
    """One element of a chart part: its name as written (``prefix:local``), its
    namespace and local name, its attributes in order (namespace declarations
    first, as a DOM holds them) and its children (elements, text as str, and
    comments or processing instructions as :class:`_Markup`)."""

    __slots__ = ("name", "prefix", "local", "uri", "attrs", "children")

    def __init__(self, name: str, uri: str | None, attrs: dict[str, str]):
        self.name = name
        self.prefix, _, self.local = name.rpartition(":")
        self.uri = uri
        self.attrs = attrs
        self.children: list = []


class _Markup(str):
    """A comment or processing instruction, written as it reads."""


def _parse(xml: bytes) -> list:
    """The part's top-level nodes (the root element among them), parsed by
    expat with every declaration refused (a document type, an entity: see
    :func:`~xlmodel.workbook.package.xmltext.refuse_declarations`), namespaces
    resolved the way XML scopes them.

    Raises
    ------
    defusedxml.DefusedXmlException
        The part declares a document type or entities (a package part never
        may); nothing is expanded.
    xml.parsers.expat.ExpatError
        The part is not well-formed XML.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.namespace_prefixes = True  # names come as "uri local prefix"
    parser.ordered_attributes = True
    parser.buffer_text = True
    refuse_declarations(parser)
    top: list = []
    stack: list = [top]
    declared: dict[str, str] = {}  # the next element's namespace declarations

    def declare(prefix: str | None, uri: str | None) -> None:
        declared["xmlns:" + prefix if prefix else "xmlns"] = uri or ""

    def start(name: str, flat: list) -> None:
        uri, _, rest = name.partition(" ")
        if rest:
            local, _, prefix = rest.partition(" ")
            name = f"{prefix}:{local}" if prefix else local
        else:
            uri = None
        attrs = dict(declared) if declared else {}
        declared.clear()
        for i in range(0, len(flat), 2):
            key = flat[i]
            if " " in key:  # a namespaced attribute: "uri local prefix"
                _, local, prefix = key.split(" ")
                key = f"{prefix}:{local}"
            attrs[key] = flat[i + 1]
        node = _Element(name, uri, attrs)
        stack[-1].append(node)
        stack.append(node.children)

    def end(name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        siblings = stack[-1]
        if siblings and type(siblings[-1]) is str:
            siblings[-1] += data
        elif stack[-1] is not top:
            siblings.append(data)

    def comment(data: str) -> None:
        stack[-1].append(_Markup(f"<!--{data}-->"))

    def instruction(target: str, data: str) -> None:
        stack[-1].append(_Markup(f"<?{target} {data}?>"))

    parser.StartNamespaceDeclHandler = declare
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.CommentHandler = comment
    parser.ProcessingInstructionHandler = instruction
    parser.Parse(xml, True)
    return top


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace(">", "&gt;")
    )


def _write(node, out: list[str]) -> None:
    """``node`` as XML text, appended to ``out`` (an element without children
    as one empty-element tag)."""
    if type(node) is str:
        out.append(_escape(node))
        return
    if isinstance(node, _Markup):
        out.append(node)
        return
    out.append("<" + node.name)
    for key, value in node.attrs.items():
        out.append(f' {key}="{_escape(value)}"')
    if not node.children:
        out.append("/>")
        return
    out.append(">")
    for child in node.children:
        _write(child, out)
    out.append(f"</{node.name}>")


def _cut_caches(xml: bytes) -> tuple[bytes, list[bytes]]:
    """``xml`` with the contents of its plain point caches replaced by numbered
    markers, and those contents (see :func:`_put_caches`)."""
    if _CUT in xml or _C_DECLARED not in xml[:2000]:
        return xml, []
    caches: list[bytes] = []

    def cut(m: re.Match) -> bytes:
        inner = m.group(2)
        if not _PLAIN_CACHE.fullmatch(inner) or _EMPTY_PAIR.search(inner):
            return m.group(0)
        caches.append(inner)
        kind = m.group(1)
        return b"<c:%s>%s%d</c:%s>" % (kind, _CUT, len(caches) - 1, kind)

    return _CACHE.sub(cut, xml), caches


def _put_caches(xml: bytes, caches: list[bytes]) -> bytes:
    """The written part with the point caches :func:`_cut_caches` took out back."""
    if not caches:
        return xml
    parts = xml.split(_CUT)
    out = [parts[0]]
    for part in parts[1:]:
        digits = len(part) - len(part.lstrip(b"0123456789"))
        out.append(caches[int(part[:digits])])
        out.append(part[digits:])
    return b"".join(out)


def _declared_prefix(node: _Element, uri: str) -> str | None:
    """The prefix ``node`` declares for namespace ``uri``, if any."""
    for name, value in node.attrs.items():
        if name.startswith("xmlns:") and value == uri:
            return name[6:]
    return None


class _Editor:
    """Finds and inserts chart-namespace children in schema order."""

    def __init__(self, prefix: str, a_prefix: str):
        self.prefix, self.a = prefix, a_prefix

    def children(self, parent: _Element, name: str | None = None) -> list[_Element]:
        return [
            n
            for n in parent.children
            if type(n) is _Element and n.uri == C and (name is None or n.local == name)
        ]

    def child(self, parent: _Element, name: str) -> _Element | None:
        for n in parent.children:
            if type(n) is _Element and n.local == name and n.uri == C:
                return n
        return None

    def ensure(
        self, parent: _Element, order: tuple[str, ...], name: str, val: str | None
    ) -> _Element:
        """The child ``name`` of ``parent``; created (``val``) in order if absent."""
        found = self.child(parent, name)
        if found is not None:
            return found
        node = _Element(f"{self.prefix}:{name}", C, {} if val is None else {"val": val})
        rank = order.index(name)
        siblings = parent.children
        for k, n in enumerate(siblings):
            if type(n) is not _Element:
                continue
            if n.local in order and order.index(n.local) > rank:
                siblings.insert(k, node)
                break
        else:
            siblings.append(node)
        return node

    def reorder(self, parent: _Element, order: tuple[str, ...]) -> None:
        """Children of ``parent`` in schema order (stable; others keep their place
        among the elements, text before them all).

        xlsxwriter writes a few children out of order (a legend's spPr after its
        txPr); strict readers refuse or ignore such an element.
        """
        nodes = [n for n in parent.children if type(n) is _Element]
        known = [n for n in nodes if n.local in order]
        ranked = sorted(known, key=lambda n: order.index(n.local))
        if all(a is b for a, b in zip(ranked, known)):
            return
        slots = iter(ranked)
        rest = [n for n in parent.children if type(n) is not _Element]
        parent.children = rest + [next(slots) if n.local in order else n for n in nodes]

    def a_element(self, name: str, **attrs: str) -> _Element:
        return _Element(f"{self.a}:{name}", A, dict(attrs))


def _chart(e: _Editor, chart: _Element) -> None:
    title = e.child(chart, "title")
    e.ensure(chart, _CHART, "autoTitleDeleted", "0" if title is not None else "1")
    if title is not None:
        e.ensure(title, _TITLE, "overlay", "0")
        e.reorder(title, _TITLE)
    e.ensure(chart, _CHART, "plotVisOnly", "1")
    e.ensure(chart, _CHART, "dispBlanksAs", "gap")
    e.reorder(chart, _CHART)
    legend = e.child(chart, "legend")
    if legend is not None:
        e.ensure(legend, _LEGEND, "overlay", "0")
        e.reorder(legend, _LEGEND)
    plot = e.child(chart, "plotArea")
    if plot is None:
        return
    for group in e.children(plot):
        kind = group.local
        if kind in _GROUPS:
            _group(e, group, kind)
        elif kind in _AXES:
            _axis(e, group, kind)


def _group(e: _Editor, group: _Element, kind: str) -> None:
    order = _GROUPS[kind]
    e.ensure(group, order, "varyColors", "0")
    stacked = False
    if kind == "barChart":
        grouping = e.ensure(group, order, "grouping", "clustered")
        stacked = grouping.attrs.get("val", "") in ("stacked", "percentStacked")
        e.ensure(group, order, "gapWidth", "150")
        e.ensure(group, order, "overlap", "100" if stacked else "0")
    elif kind == "lineChart":
        e.ensure(group, order, "grouping", "standard")
        e.ensure(group, order, "marker", "1")
    else:
        e.ensure(group, order, "scatterStyle", "lineMarker")
    e.reorder(group, order)
    for ser in e.children(group, "ser"):
        _series(e, ser, kind, stacked)


def _series(e: _Editor, ser: _Element, kind: str, stacked: bool) -> None:
    order = _SERIES[kind]
    if kind == "barChart":
        e.ensure(ser, order, "invertIfNegative", "0")
        position = "ctr" if stacked else "outEnd"
    else:
        if e.child(ser, "marker") is None:
            marker = e.ensure(ser, order, "marker", None)
            e.ensure(marker, ("symbol", "size", "spPr", "extLst"), "symbol", "auto")
        e.ensure(ser, order, "smooth", "0")
        position = "r"
    e.reorder(ser, order)
    labels = e.child(ser, "dLbls")
    if labels is None:
        return
    for one in e.children(labels, "dLbl"):
        if e.child(one, "delete") is None:
            _label_flags(e, one, _DLBL, None)
    if e.child(labels, "delete") is None:
        _label_flags(e, labels, _DLBLS, position)


def _label_flags(e: _Editor, node: _Element, order, position: str | None) -> None:
    if position is not None:
        e.ensure(node, order, "dLblPos", position)
    # A label is one line: where it goes is chosen for its one-line box
    # (xlmodel.workbook.charts.place_labels); readers wrap long labels otherwise.
    text = e.child(node, "txPr")
    if text is not None:
        for body in text.children:
            if (
                type(body) is _Element
                and body.uri == A
                and body.local == "bodyPr"
                and "wrap" not in body.attrs
            ):
                body.attrs["wrap"] = "none"
    for flag in _LABEL_FLAGS:
        e.ensure(node, order, flag, "0")
    if "showLeaderLines" in order:
        e.ensure(node, order, "showLeaderLines", "0")
    e.reorder(node, order)


def _axis(e: _Editor, axis: _Element, kind: str) -> None:
    order = _AXES[kind]
    e.ensure(axis, order, "delete", "0")
    e.ensure(axis, order, "majorTickMark", "out")
    e.ensure(axis, order, "minorTickMark", "none")
    e.ensure(axis, order, "tickLblPos", "nextTo")
    if e.child(axis, "crossesAt") is None:
        e.ensure(axis, order, "crosses", "autoZero")
    title = e.child(axis, "title")
    if title is not None:
        e.ensure(title, _TITLE, "overlay", "0")
        e.reorder(title, _TITLE)
    if kind == "catAx":
        e.ensure(axis, order, "auto", "1")
        e.ensure(axis, order, "lblAlgn", "ctr")
        e.ensure(axis, order, "lblOffset", "100")
        e.ensure(axis, order, "noMultiLvlLbl", "0")
    e.reorder(axis, order)


def _text_defaults(e: _Editor, space: _Element) -> None:
    """A chart-wide text default naming the typeface, unless the part has one.

    Text that names no typeface takes the theme's font in Excel and a program
    default in other readers; the chart-wide default makes it one typeface.
    """
    if e.child(space, "txPr") is not None:
        return
    body = e.ensure(space, _CHART_SPACE, "txPr", None)
    para = e.a_element("p")
    ppr = e.a_element("pPr")
    run = e.a_element("defRPr")
    for script in ("latin", "ea", "cs"):
        run.children.append(e.a_element(script, typeface=CHART_FONT))
    ppr.children.append(run)
    para.children += [ppr, e.a_element("endParaRPr", lang="en-US")]
    body.children += [e.a_element("bodyPr"), e.a_element("lstStyle"), para]
