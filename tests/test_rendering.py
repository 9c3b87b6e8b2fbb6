"""Rendering fidelity: the result sheets look the same whatever program saved the
workbook, and they read well on screen and on paper.

Without LibreOffice: the chart parts state every property (xlmodel.workbook.chart_xml),
point labels are placed clear of each other (charts.place_labels), the print layout
(results.paging), what the result sheets say instead of an empty or redundant chart,
TOPS for integer precisions, and where the exports go. With LibreOffice (marked
``libreoffice``): the template saved by four programs renders pixel for pixel alike,
Gnumeric reads the Summary's values, and every result sheet prints on A4 and Letter.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import subprocess
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import SOFFICE
from defusedxml.minidom import parseString

from xlmodel.cli import main
from xlmodel.pipeline import compute
from xlmodel.studies.run import run, seed_study
from xlmodel.workbook import charts as ch
from xlmodel.workbook.chart_xml import C, explicit_chart
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.report import write_results
from xlmodel.workbook.results.paging import (
    PAGE_H_PX,
    PAGE_W_PX,
    Block,
    column_bands,
    print_layout,
    row_breaks,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "variants.xlsx"
SSCONVERT = shutil.which("ssconvert")
PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
FIXED_TIME = datetime(2026, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------


def chart_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {
            n: z.read(n)
            for n in z.namelist()
            if re.fullmatch(r"xl/charts/chart\d+\.xml", n)
        }


def children(node, name=None):
    return [
        n
        for n in node.childNodes
        if n.nodeType == 1 and (name is None or n.localName == name)
    ]


def child(node, name):
    found = children(node, name)
    return found[0] if found else None


def val(node, name):
    c = child(node, name)
    return None if c is None else c.getAttribute("val")


def sheet_text(path: Path, sheet: str) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = [
        str(v)
        for row in wb[sheet].iter_rows(values_only=True)
        for v in row
        if isinstance(v, str)
    ]
    wb.close()
    return out


def chart_titles(xml: bytes) -> str:
    return " ".join(re.findall(r"<a:t>([^<]*)</a:t>", xml.decode()))


def sheet_charts(path: Path) -> dict[str, list[bytes]]:
    """Sheet name -> its chart parts, through the package relationships."""
    import posixpath

    z = zipfile.ZipFile(path)
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = {
        m.group(1): m.group(2)
        for m in re.finditer(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels)
    }
    targets.update(
        {
            m.group(2): m.group(1)
            for m in re.finditer(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)
        }
    )
    out = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*r:id="(rId\d+)"', wb):
        part = posixpath.join("xl", targets[rid])
        rel = posixpath.join(
            posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels"
        )
        out[name] = []
        if rel not in z.namelist():
            continue
        for d in re.findall(r'Target="([^"]+drawing\d+\.xml)"', z.read(rel).decode()):
            drawing = posixpath.normpath(posixpath.join(posixpath.dirname(part), d))
            drel = posixpath.join(
                posixpath.dirname(drawing),
                "_rels",
                posixpath.basename(drawing) + ".rels",
            )
            for c in re.findall(
                r'Target="([^"]+chart\d+\.xml)"', z.read(drel).decode()
            ):
                out[name].append(
                    z.read(
                        posixpath.normpath(
                            posixpath.join(posixpath.dirname(drawing), c)
                        )
                    )
                )
    return out


@pytest.fixture(scope="module")
def template_results():
    return run(read_study(TEMPLATE))


@pytest.fixture(scope="module")
def template_written(template_results, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rendering") / "results.xlsx"
    write_results(template_results, path)
    return path


# --------------------------------------------------------------------------------
# chart parts that state every property
# --------------------------------------------------------------------------------

_BARE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"'
    b' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    b' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<c:lang val="en-US"/><c:chart><c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r>'
    b"<a:t>T</a:t></a:r></a:p></c:rich></c:tx></c:title><c:plotArea><c:layout/>"
    b'<c:scatterChart><c:scatterStyle val="lineMarker"/>'
    b'<c:ser><c:idx val="0"/><c:order val="0"/>'
    b"<c:dLbls><c:txPr><a:bodyPr/><a:p><a:endParaRPr/></a:p></c:txPr>"
    b'<c:showSerName val="1"/></c:dLbls>'
    b"<c:xVal><c:numLit/></c:xVal><c:yVal><c:numLit/></c:yVal></c:ser>"
    b'<c:axId val="1"/><c:axId val="2"/></c:scatterChart>'
    b'<c:barChart><c:barDir val="bar"/><c:grouping val="stacked"/>'
    b'<c:ser><c:idx val="1"/><c:order val="1"/><c:val><c:numLit/></c:val></c:ser>'
    b'<c:axId val="3"/><c:axId val="4"/></c:barChart>'
    b'<c:valAx><c:axId val="1"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    b'<c:axPos val="b"/><c:crossAx val="2"/></c:valAx>'
    b'<c:catAx><c:axId val="3"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
    b'<c:axPos val="l"/><c:majorTickMark val="cross"/><c:crossAx val="4"/></c:catAx>'
    b'</c:plotArea><c:legend><c:legendPos val="b"/></c:legend></c:chart>'
    b"</c:chartSpace>"
)


def test_explicit_chart_writes_what_excel_assumes():
    doc = parseString(explicit_chart(_BARE))
    space = doc.documentElement
    assert val(space, "roundedCorners") == "0"
    chart = child(space, "chart")
    assert val(chart, "autoTitleDeleted") == "0"
    assert val(child(chart, "title"), "overlay") == "0"
    assert val(chart, "plotVisOnly") == "1"
    assert val(chart, "dispBlanksAs") == "gap"
    assert val(child(chart, "legend"), "overlay") == "0"
    plot = child(chart, "plotArea")
    scatter, bar = child(plot, "scatterChart"), child(plot, "barChart")
    assert val(scatter, "varyColors") == "0" and val(bar, "varyColors") == "0"
    ser = child(scatter, "ser")
    assert val(ser, "smooth") == "0"
    assert val(child(ser, "marker"), "symbol") == "auto"  # Excel's reading
    labels = child(ser, "dLbls")
    flags = {
        n.localName: n.getAttribute("val")
        for n in children(labels)
        if n.localName.startswith("show")
    }
    assert flags == {
        "showLegendKey": "0",
        "showVal": "0",
        "showCatName": "0",
        "showSerName": "1",  # kept as written
        "showPercent": "0",
        "showBubbleSize": "0",
        "showLeaderLines": "0",
    }
    assert val(labels, "dLblPos") == "r"
    body = child(child(labels, "txPr"), "bodyPr")
    assert body.getAttribute("wrap") == "none"
    # stacked bars: overlapped, no inverted negatives
    assert val(bar, "gapWidth") == "150" and val(bar, "overlap") == "100"
    assert val(child(bar, "ser"), "invertIfNegative") == "0"
    val_ax, cat_ax = child(plot, "valAx"), child(plot, "catAx")
    assert val(val_ax, "majorTickMark") == "out"
    assert val(val_ax, "minorTickMark") == "none"
    assert val(cat_ax, "majorTickMark") == "cross"  # present: kept
    assert val(val_ax, "delete") == "0" and val(val_ax, "crosses") == "autoZero"
    assert val(cat_ax, "noMultiLvlLbl") == "0"
    latin = doc.getElementsByTagName("a:latin")
    assert [n.getAttribute("typeface") for n in latin] == ["Calibri"]


# The child order of the elements touched, from ECMA-376 dml-chart.xsd.
_ORDERS = {
    "chartSpace": "date1904 lang roundedCorners AlternateContent style clrMapOvr "
    "pivotSource protection chart spPr txPr externalData printSettings userShapes "
    "extLst",
    "chart": "title autoTitleDeleted pivotFmts view3D floor sideWall backWall "
    "plotArea legend plotVisOnly dispBlanksAs showDLblsOverMax extLst",
    "scatterChart": "scatterStyle varyColors ser dLbls axId extLst",
    "barChart": "barDir grouping varyColors ser dLbls gapWidth overlap serLines "
    "axId extLst",
    "lineChart": "grouping varyColors ser dLbls dropLines hiLowLines upDownBars "
    "marker smooth axId extLst",
    "dLbls": "dLbl delete numFmt spPr txPr dLblPos showLegendKey showVal "
    "showCatName showSerName showPercent showBubbleSize separator showLeaderLines "
    "leaderLines extLst",
    "valAx": "axId scaling delete axPos majorGridlines minorGridlines title numFmt "
    "majorTickMark minorTickMark tickLblPos spPr txPr crossAx crosses crossesAt "
    "crossBetween majorUnit minorUnit dispUnits extLst",
    "catAx": "axId scaling delete axPos majorGridlines minorGridlines title numFmt "
    "majorTickMark minorTickMark tickLblPos spPr txPr crossAx crosses crossesAt "
    "auto lblAlgn lblOffset tickLblSkip tickMarkSkip noMultiLvlLbl extLst",
    "title": "tx layout overlay spPr txPr extLst",
    "legend": "legendPos legendEntry layout overlay spPr txPr extLst",
}
_SERIES_ORDER = {
    "scatterChart": "idx order tx spPr marker dPt dLbls trendline errBars xVal yVal "
    "smooth extLst",
    "barChart": "idx order tx spPr invertIfNegative pictureOptions dPt dLbls "
    "trendline errBars cat val shape extLst",
    "lineChart": "idx order tx spPr marker dPt dLbls trendline errBars cat val "
    "smooth extLst",
}


def _in_schema_order(node) -> None:
    name = node.localName
    order = _ORDERS.get(name)
    if name == "ser":
        order = _SERIES_ORDER[node.parentNode.localName]
    if order is not None:
        ranks = [order.split().index(c.localName) for c in children(node)]
        assert ranks == sorted(ranks), (name, [c.localName for c in children(node)])
    for c in children(node):
        if c.namespaceURI == C:
            _in_schema_order(c)


def test_every_chart_written_is_explicit_and_in_schema_order(template_written):
    parts = chart_xml(template_written)
    assert len(parts) >= 20
    for name, xml in parts.items():
        assert explicit_chart(xml) == xml, name  # already explicit: a fixed point
        doc = parseString(xml)
        _in_schema_order(doc.documentElement)
        for ser in doc.getElementsByTagName("c:ser"):
            group = ser.parentNode.localName
            if group in ("scatterChart", "lineChart"):
                assert val(ser, "smooth") == "0", name
                assert child(ser, "marker") is not None, name
            else:
                assert val(ser, "invertIfNegative") == "0", name
            labels = child(ser, "dLbls")
            if labels is not None:
                shown = [f for f in _LABEL_FLAGS if val(labels, f) is not None]
                assert shown == list(_LABEL_FLAGS), name
                assert val(labels, "showSerName") == "1", name
                assert val(labels, "showVal") == "0", name
                assert val(labels, "showLegendKey") == "0", name
        for ax in (
            *doc.getElementsByTagName("c:valAx"),
            *doc.getElementsByTagName("c:catAx"),
        ):
            assert val(ax, "majorTickMark") == "out", name
            assert val(ax, "minorTickMark") == "none", name
        assert b'<c:dispBlanksAs val="gap"/>' in xml, name
        assert b'<c:varyColors val="0"/>' in xml, name


_LABEL_FLAGS = (
    "showLegendKey",
    "showVal",
    "showCatName",
    "showSerName",
    "showPercent",
    "showBubbleSize",
)


def test_explicit_chart_keeps_everything_present_and_refuses_other_parts():
    once = explicit_chart(_BARE)
    assert explicit_chart(once) == once

    # every element of the input is still there, in the same order
    def tags(xml):
        return [m for m in re.findall(rb"<([a-z]+:[A-Za-z]+)", xml)]

    before, after = tags(_BARE), tags(once)
    it = iter(after)
    assert all(any(t == u for u in it) for t in before)
    with pytest.raises(ValueError, match="not a chart part"):
        explicit_chart(b'<?xml version="1.0"?><worksheet xmlns="urn:x"/>')


def test_a_chart_part_declaring_entities_is_refused_not_expanded():
    from defusedxml import DefusedXmlException

    from xlmodel.workbook import chart_xml as cx

    head, body = _BARE.split(b"?>", 1)
    bomb = (
        head
        + b'?><!DOCTYPE c [<!ENTITY e "SECRET">]>'
        + body.replace(b'<c:axId val="3"/>', b'<c:axId val="3"/><c:x>&e;</c:x>', 1)
    )
    with pytest.raises(DefusedXmlException):
        cx.explicit_chart(bomb)
    with pytest.raises(DefusedXmlException):  # a document type alone, too
        cx.explicit_chart(head + b"?><!DOCTYPE c>" + body)


def test_a_part_is_written_back_as_a_dom_writes_it():
    """Comments, processing instructions, escaped and non-ASCII text, quotes,
    a namespace declared on a child, CDATA: the part written is the one a DOM
    (an independent reader and writer) makes of it, byte for byte."""
    extra = (
        b"<!-- a note --><?keep this?>"
        b'<c:extLst><c:ext uri="{x&amp;y}" xmlns:q="urn:q"><q:v q:a="&lt;&quot;">'
        b"caf\xc3\xa9 &amp; &gt; 'it' \"q\"<![CDATA[<raw>]]></q:v></c:ext></c:extLst>"
    )
    xml = _BARE.replace(b"</c:chartSpace>", extra + b"</c:chartSpace>")
    out = explicit_chart(xml)
    dom = parseString(out).toxml(encoding="UTF-8")
    head = b'<?xml version="1.0" encoding="UTF-8"?>'
    assert dom.startswith(head)
    assert (
        out
        == b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + dom[len(head) :]
    )
    assert b"<!-- a note -->" in out and b"<?keep this?>" in out
    assert "café".encode() in out and b"&lt;raw&gt;" in out


@pytest.mark.parametrize(
    "cache",
    [
        b'<c:ptCount val="2"/><c:pt idx="0"><c:v>1.5</c:v></c:pt>'
        b'<c:pt idx="1"><c:v>\xc3\xa9 x</c:v></c:pt>',
        b'<c:pt idx="0"><c:v>a&amp;b &gt; c</c:v></c:pt>',
        b'<c:pt idx="0"><c:v>say "hi"</c:v></c:pt>',
        b'<c:pt idx="0"><c:v>it\'s</c:v></c:pt>',
        b'<c:pt idx="0"><c:v></c:v></c:pt>',
        b'<c:pt idx="0"><c:v>1\r\n2</c:v></c:pt>',
        b'<c:pt idx="0" x="a&amp;b"><c:v>1</c:v></c:pt>',
        b"xlmodel-cache-0",
    ],
)
def test_point_caches_come_back_as_a_whole_parse_writes_them(cache, monkeypatch):
    """The point caches are set aside while a chart part is parsed: the bytes are
    those of the part parsed and written whole, whatever the caches hold."""
    series = (
        b'<c:ser><c:idx val="2"/><c:order val="2"/><c:tx><c:strRef><c:f>S!$A$1</c:f>'
        b"<c:strCache>" + cache + b"</c:strCache></c:strRef></c:tx>"
        b"<c:val><c:numRef><c:f>S!$B$1</c:f><c:numCache>" + cache + b"</c:numCache>"
        b"</c:numRef></c:val></c:ser>"
    )
    xml = _BARE.replace(b'<c:axId val="3"/>', series + b'<c:axId val="3"/>', 1)
    fast = explicit_chart(xml)
    from xlmodel.workbook import chart_xml as cx

    monkeypatch.setattr(cx, "_cut_caches", lambda x: (x, []))
    assert fast == explicit_chart(xml)
    assert cache in xml and fast.count(b"<c:numCache>") == 1


def test_compute_leaves_the_users_app_properties_alone(tmp_path):
    src = tmp_path / "variants.xlsx"
    _stamp(TEMPLATE, src, "16.0300")
    out = tmp_path / "out.xlsx"
    compute(src, out, now=FIXED_TIME)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        app_in, app_out = a.read("docProps/app.xml"), b.read("docProps/app.xml")
    assert b"<AppVersion>16.0300</AppVersion>" in app_out
    assert re.sub(
        rb"<TitlesOfParts>.*</TitlesOfParts>|<HeadingPairs>.*</HeadingPairs>",
        b"",
        app_in,
    ) == re.sub(
        rb"<TitlesOfParts>.*</TitlesOfParts>|<HeadingPairs>.*</HeadingPairs>",
        b"",
        app_out,
    )


def _stamp(src: Path, dst: Path, version: str) -> None:
    """A copy of ``src`` whose app.xml names another Excel version, nothing else."""
    with (
        zipfile.ZipFile(src) as zin,
        zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/app.xml":
                data, n = re.subn(
                    rb"<AppVersion>[^<]*</AppVersion>",
                    f"<AppVersion>{version}</AppVersion>".encode(),
                    data,
                )
                assert n == 1
            zout.writestr(info, data)


# --------------------------------------------------------------------------------
# point labels placed from the data
# --------------------------------------------------------------------------------


def _boxes(points, where, size, xb, yb, x_log=False, y_log=False):
    to_px = ch._pixels(size, xb, yb, x_log, y_log)
    return [
        ch.label_box(*to_px(x, y), text, pos)
        for (x, y, text), pos in zip(points, where)
    ]


def _overlap(a, b):
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(
        0, min(a[3], b[3]) - max(a[1], b[1])
    )


def test_labels_of_neighbours_go_to_different_sides():
    # Power Optimized and Baseline on the Summary's area chart: 80 mm² apart
    points = [(1600, 65.5, "Baseline"), (1520, 88.5, "Power Optimized")]
    size, xb, yb = (680, 330), (1000, 1800), (0, 1200)
    where = ch.place_labels(points, size, xb, yb)
    assert where == ["right", "left"]
    a, b = _boxes(points, where, size, xb, yb)
    assert _overlap(a, b) == 0
    # alone, a label goes right; the rule is deterministic
    assert ch.place_labels(points[:1], size, xb, yb) == ["right"]
    assert ch.place_labels(points, size, xb, yb) == where


def test_labels_stay_inside_the_plot_and_off_other_points():
    size, xb, yb = (560, 340), (0, 10), (0, 10)
    where = ch.place_labels([(9.9, 5, "a long label")], size, xb, yb)
    assert where == ["left"]  # right of it is outside the plot
    where = ch.place_labels(
        [(5, 5, "label")], size, xb, yb, obstacles=[(5.5, 5), (5, 5.6)]
    )
    assert where == ["left"]  # a point sits right, another above
    assert ch.place_labels([(None, 1, "x"), (float("nan"), 1, "y")], size, xb, yb) == [
        "right",
        "right",
    ]


def test_label_positions_on_the_template_charts(template_written):
    charts = sheet_charts(template_written)

    def positions(xml: bytes) -> dict[str, str]:
        doc = parseString(xml)
        out = {}
        for ser in doc.getElementsByTagName("c:ser"):
            labels = child(ser, "dLbls")
            if labels is None or val(labels, "showSerName") != "1":
                continue
            name = "".join(
                t.firstChild.data
                for t in ser.getElementsByTagName("c:v")[:1]
                if t.firstChild is not None
            )
            tx = child(ser, "tx")
            if child(tx, "v") is not None:
                name = child(tx, "v").firstChild.data
            out[name] = val(labels, "dLblPos")
        return out

    area = positions(charts["Summary"][3])
    assert {area["Power Optimized"], area["Baseline"]} == {"l", "r"}
    reality = positions(charts["Reality check"][0])
    assert reality["H100 SXM5"] != reality["H200 SXM"]
    # the four A100 boards sit almost on one point: each label takes its own side
    a100 = ("A100 SXM4 80GB", "A100 SXM4 40GB", "A100 PCIe 40GB", "A100 PCIe 80GB")
    assert len({reality[c] for c in a100}) == 4
    # and the axes are logarithmic: the variants' densities and the references'
    # span two decades, and on linear axes the variants' labels covered each other
    assert charts["Reality check"][0].count(b'<c:logBase val="10"/>') == 2
    roof = positions(charts["Roofline"][0])
    assert roof["GEMM (optimized)"] != roof["FlashAttention"]
    assert {"ridge 64", "ridge 86", "ridge 220", "ridge 331", "ridge 960"} <= set(roof)
    # ridges 64 and 86 lie 0.13 decade apart on the diagonal: not both right
    assert (roof["ridge 64"], roof["ridge 86"]) != ("r", "r")


# --------------------------------------------------------------------------------
# what the sheets say instead of an empty or redundant chart
# --------------------------------------------------------------------------------


def test_identical_scaling_lines_are_said_in_words(template_written, tmp_path):
    text = sheet_text(template_written, "Scaling")
    words = [t for t in text if t.startswith("The same for every variant")]
    assert words, "the HBM bandwidth is the same for every variant: said in words"
    body = " ".join(t for t in text if "TB/s at" in t or "chiplets." in t)
    assert "0.512 TB/s at 2" in body and "2.048 TB/s at 8" in body
    titles = [chart_titles(x) for x in sheet_charts(template_written)["Scaling"]]
    assert not any("HBM bandwidth" in t for t in titles)
    assert len(titles) == 3
    # different stacks per variant: the bandwidth lines differ, so a chart
    study = read_study(TEMPLATE)
    study.variants.loc["Baseline", "hbm_bandwidth_gbps_per_stack"] = 1200.0
    path = tmp_path / "differ.xlsx"
    write_results(run(study), path)
    titles = [chart_titles(x) for x in sheet_charts(path)["Scaling"]]
    assert any("HBM bandwidth" in t for t in titles)
    assert not any(
        t.startswith("The same for every variant") for t in sheet_text(path, "Scaling")
    )


def test_tornado_lists_parameters_without_effect_instead_of_zero_bars(
    template_written, template_results
):
    tornado = template_results.tornado
    idle = list(tornado.loc[tornado["swing"] == 0, "parameter"])
    assert idle == [
        "l2_cache_mb",
        "num_chiplets",
        "hbm_stacks",
        "hbm_bandwidth_gbps_per_stack",
    ]
    note = next(
        t
        for t in sheet_text(template_written, "Sensitivity")
        if t.startswith("No effect")
    )
    for name in idle:
        assert name in note
    xml = next(
        x for x in sheet_charts(template_written)["Sensitivity"] if b"<c:barChart>" in x
    )
    doc = parseString(xml)
    cats = doc.getElementsByTagName("c:cat")[0]
    shown = [v.firstChild.data for v in cats.getElementsByTagName("c:v")]
    assert shown == [p for p in tornado["parameter"] if p not in idle]
    assert len(shown) == 5


def test_reality_check_says_which_references_are_not_charted(template_written):
    note = next(
        t
        for t in sheet_text(template_written, "Reality check")
        if "not on the chart" in t
    )
    from xlmodel.studies.reference import load_chips

    chips = load_chips()
    missing = chips.index[chips["die_area_mm2_each"].isna()].tolist()
    assert missing and all(c in note.split(" are not on the chart")[0] for c in missing)
    assert "no die area is published" in note
    (xml,) = sheet_charts(template_written)["Reality check"]
    # every reference with a published die area and every variant
    assert xml.count(b"<c:ser>") == len(chips) - len(missing) + 5


def test_integer_precision_reads_in_tops(tmp_path):
    study = seed_study()
    study.variants["target_precision"] = "INT8"
    res = run(study)
    path = tmp_path / "int8.xlsx"
    write_results(res, path)
    wb = openpyxl.load_workbook(path, read_only=True)
    offenders = []
    for ws in wb.worksheets:
        if ws.title == "Reality check":  # FP16 throughout, by design
            continue
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str) and "INT8" in v and "TFLOPS" in v:
                    offenders.append((ws.title, v))
    wb.close()
    assert not offenders, offenders
    summary = sheet_text(path, "Summary")
    assert "Peak INT8 (TOPS)" in summary and "Density INT8 (TOPS/mm²)" in summary
    assert "INT8 TOPS/W" in summary
    assert "INT8 (TOPS)" in sheet_text(path, "Performance")  # the by-precision block
    for xml in chart_xml(path).values():
        text = chart_titles(xml)
        assert not ("INT8" in text and "TFLOPS" in text), text


# --------------------------------------------------------------------------------
# print layout
# --------------------------------------------------------------------------------


def test_one_band_when_legible_and_bands_at_the_charts_otherwise():
    narrow = [70] * 10
    assert column_bands(narrow) == ([], 0)
    # a table of 14 columns, an empty one, then charts (1,000 px of them)
    table, charts = [80] * 14, [20] + [100] * 10
    breaks, repeat = column_bands(
        table + charts, keep_cols=[(15, 24)], prefer_cols=[14]
    )
    assert breaks == [14] and repeat == 0
    # a band never begins where a chart does (it may be drawn a little left)
    breaks, _ = column_bands(table + charts, keep_cols=[(15, 24)], prefer_cols=[15])
    assert 15 not in breaks
    # a table too wide for one band: cut in two, names repeated
    wide = [90] * 20
    breaks, repeat = column_bands(wide)
    assert len(breaks) == 1 and 8 <= breaks[0] <= 12 and repeat == 1
    # bands at the charts that cut a table naming its rows repeat the names
    breaks, repeat = column_bands(
        table + charts, keep_cols=[(15, 24)], prefer_cols=[14], name_tables=[(0, 24)]
    )
    assert breaks == [14] and repeat == 1
    # never inside a chart
    breaks, _ = column_bands(wide, keep_cols=[(6, 12)])
    assert breaks and all(not 6 < b <= 12 for b in breaks)


def test_bands_repeat_every_naming_column_and_print_equally_wide():
    """A table named by three columns (variant, model, scenario) cut in two:
    the later band repeats all three, so the cut leaves the first band the
    wider by their width and both print equally wide."""
    wide = [300, 150, 150] + [90] * 17  # 2,130 px: two bands
    breaks, repeat = column_bands(wide, name_cols=3)
    assert repeat == 3 and len(breaks) == 1
    (b,) = breaks
    first, later = sum(wide[:b]), sum(wide[:3]) + sum(wide[b:])
    assert abs(first - later) <= 90  # within one column of equal
    # with one naming column repeated (300 px) the cut lies further left
    (one,), _ = column_bands(wide)
    assert one < b
    # never a band of names alone, nor one between them
    assert b > 3
    breaks, _ = column_bands([400, 400, 400] + [90] * 12, name_cols=3)
    assert not {1, 2} & set(breaks)


def test_page_breaks_cut_no_chart_and_strand_no_row():
    rows = [20] * 100
    page = 30 * 20 + 5  # 30 rows a page
    # a table of rows 2-40 (header at 2): a plain page break at 30
    # (the header is printed again on each later page: 29 rows of the table)
    assert row_breaks(rows, [Block(2, 40, split=True)], page, repeat_row=2) == [
        30,
        59,
        88,
    ]
    # a table ending at row 30 would leave its last row alone: two rows go over
    (first, *_) = row_breaks(rows, [Block(2, 30, split=True)], page, None)
    assert first == 29
    # a chart over rows 25-40 is not cut: the page ends before it
    assert row_breaks(rows[:50], [Block(25, 40)], page, None) == [25]
    # a small table that fits on the next page goes there whole
    assert row_breaks(rows[:50], [Block(24, 40, split=True)], page, None) == [24]


def test_print_layout_scale_fits_the_widest_band():
    layout = print_layout([100] * 12, [20] * 10, [])
    assert layout.col_breaks == () and layout.row_breaks == ()
    assert layout.scale == int(PAGE_W_PX / 1200 * 100)
    assert PAGE_W_PX < (279.4 / 25.4 - 0.8) * 96  # within Letter's printable width
    assert PAGE_H_PX < (210 / 25.4 - 1.2) * 96  # within A4's printable height


def _state_part(z: zipfile.ZipFile) -> str | None:
    """The part of the very hidden state sheet of a results package, if any."""
    book = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    match = re.search(r'<sheet [^>]*state="veryHidden"[^>]*r:id="(rId\d+)"', book)
    if not match:
        return None
    target = re.search(rf'Id="{match.group(1)}"[^>]*Target="([^"]+)"', rels)
    return "xl/" + target.group(1) if target else None


def test_every_result_sheet_has_a_print_layout(template_written):
    with zipfile.ZipFile(template_written) as z:
        names = [
            n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
        ]
        for n in names:
            xml = z.read(n).decode()
            if n == _state_part(z):
                continue  # the very hidden state xlmodel keeps is never printed
            setup = re.search(r"<pageSetup [^>]*>", xml).group(0)
            assert 'orientation="landscape"' in setup
            scale = int(re.search(r'scale="(\d+)"', setup).group(1))
            # legible: 10 pt prints at 5.5 pt or more, a wide table cut into
            # bands of columns with its names repeated
            assert 55 <= scale <= 100, (n, scale)
            assert "paperSize" not in setup  # the printer's paper: A4 or Letter
            assert "fitToPage" not in xml  # a fixed scale: Excel keeps page breaks


# --------------------------------------------------------------------------------
# exports beside the workbook
# --------------------------------------------------------------------------------


def test_exports_go_beside_the_workbook_written(tmp_path, runner, monkeypatch):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    a, b = tmp_path / "a" / "lab.xlsx", tmp_path / "b" / "lab.xlsx"
    for p in (a, b):
        p.parent.mkdir()
        shutil.copy(TEMPLATE, p)
    out = tmp_path / "c" / "lab results.xlsx"
    out.parent.mkdir()
    for args in (["compute", str(a)], ["compute", str(b), "-o", str(out)]):
        r = runner.invoke(main, args)
        assert r.exit_code == 0, r.output
    assert (tmp_path / "a" / "outputs" / "lab" / "metrics.csv").exists()
    assert (tmp_path / "c" / "outputs" / "lab results" / "metrics.csv").exists()
    assert not (tmp_path / "b" / "outputs").exists()  # -o: beside the output
    assert list(cwd.iterdir()) == []  # never the current folder
    assert "tables and figures to" in r.output and "lab results" in r.output
    # a workbook already in an outputs folder: no outputs/outputs
    d = tmp_path / "outputs"
    d.mkdir()
    r = runner.invoke(main, ["compute", str(a), "-o", str(d / "v.xlsx")])
    assert r.exit_code == 0 and (d / "v" / "metrics.csv").exists()
    # --export-dir still chooses: tests/test_cli.py


# --------------------------------------------------------------------------------
# LibreOffice and Gnumeric: the template saved four ways
# --------------------------------------------------------------------------------

PRODUCERS = ("shipped", "excel16", "libreoffice", "openpyxl")
RENDER_DPI = 40
SINGLE_PAGE = (
    'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
)


def _soffice(files: list[Path], fmt: str, outdir: Path, env=None) -> list[Path]:
    """Convert ``files`` with one headless LibreOffice run (its own profile)."""
    profile = Path("/tmp") / f"xlmodel-lo-{uuid.uuid4().hex}"
    try:
        proc = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = fmt.split(":")[0]
    out = [outdir / f"{f.stem}.{ext}" for f in files]
    assert proc.returncode == 0 and all(p.exists() for p in out), (
        proc.stdout,
        proc.stderr,
    )
    return out


def _calibri_metrics_env(folder: Path) -> dict | None:
    """An environment in which LibreOffice draws Calibri with Calibri's metrics.

    Column widths and text follow the font; without Carlito (metric-compatible
    with Calibri; Debian package fonts-crosextra-carlito, installed by .ci/run)
    LibreOffice falls back to a wider face and no page layout made for Excel
    holds. The system's Carlito, else the one of the Python package
    rinoh-typeface-carlito, if installed, through a private fontconfig file.
    """
    env = dict(os.environ)
    match = subprocess.run(
        ["fc-match", "Calibri"], capture_output=True, text=True
    ).stdout
    if "Carlito" in match:
        return env
    spec = importlib.util.find_spec("rinoh_typeface_carlito")
    if spec is None or not spec.submodule_search_locations:
        return None
    fonts = Path(list(spec.submodule_search_locations)[0])
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{fonts}</dir>\n  <cachedir>{folder / 'fc-cache'}</cachedir>\n"
        '  <alias binding="same"><family>Calibri</family>'
        "<accept><family>Carlito</family></accept></alias>\n</fontconfig>\n"
    )
    env["FONTCONFIG_FILE"] = str(conf)
    return env


def _paper_copies(src: Path, folder: Path) -> list[Path]:
    """Copies of ``src`` whose result sheets ask for A4 and for Letter paper."""
    out = []
    for name, code in (("a4", b"9"), ("letter", b"1")):
        dst = folder / f"{name}.xlsx"
        with (
            zipfile.ZipFile(src) as zin,
            zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout,
        ):
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename.startswith("xl/worksheets/sheet"):
                    data = data.replace(
                        b"<pageSetup ", b'<pageSetup paperSize="' + code + b'" '
                    )
                zout.writestr(info, data)
        out.append(dst)
    return out


@pytest.fixture(scope="module")
def producers(tmp_path_factory):
    """The template as shipped, stamped Excel 16, re-saved by LibreOffice and by
    openpyxl; each computed (same run time) and rendered one page per sheet; the
    as-shipped result also printed on A4 and Letter."""
    if not (SOFFICE and PDFTOPPM and PDFTOTEXT):
        pytest.skip("LibreOffice and poppler (pdftoppm, pdftotext) are needed")
    root = tmp_path_factory.mktemp("producers")
    inputs = {}
    for name in PRODUCERS:
        (root / name).mkdir()
        inputs[name] = root / name / "variants.xlsx"
    shutil.copy(TEMPLATE, inputs["shipped"])
    _stamp(TEMPLATE, inputs["excel16"], "16.0300")
    wb = openpyxl.load_workbook(TEMPLATE)
    wb.save(inputs["openpyxl"])
    (saved,) = _soffice([TEMPLATE], "xlsx:Calc MS Excel 2007 XML", root / "lo-saved")
    shutil.move(saved, inputs["libreoffice"])
    computed, results = {}, {}
    for name, src in inputs.items():
        computed[name] = root / f"{name}.xlsx"
        results[name] = compute(src, computed[name], now=FIXED_TIME)
    papers = root / "papers"
    papers.mkdir()
    paper_files = _paper_copies(computed["shipped"], papers)
    fonts = _calibri_metrics_env(papers)
    with ThreadPoolExecutor(2) as pool:
        printed = pool.submit(
            lambda: _soffice(paper_files, "pdf", papers, fonts) if fonts else None
        )
        pdfs = _soffice(list(computed.values()), SINGLE_PAGE, root / "pdf")
        book = openpyxl.load_workbook(computed["shipped"], read_only=True)
        # the very hidden state xlmodel keeps is not a page a reader looks at
        sheets = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
        first = sheets.index("Summary") + 1
        last = len(sheets)

        def png(pdf: Path) -> list[Path]:
            prefix = pdf.with_suffix("")
            subprocess.run(
                [
                    PDFTOPPM,
                    "-png",
                    "-r",
                    str(RENDER_DPI),
                    "-f",
                    str(first),
                    "-l",
                    str(last),
                    str(pdf),
                    str(prefix),
                ],
                check=True,
            )
            return sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))

        pngs = dict(zip(PRODUCERS, pool.map(png, pdfs)))
        printed = printed.result()
    return {
        "computed": computed,
        "results": results,
        "pdf": dict(zip(PRODUCERS, pdfs)),
        "png": pngs,
        "sheets": sheets[first - 1 :],
        "first_page": first,
        "printed": printed,
    }


def _image(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    return np.round(mpimg.imread(path)[..., :3] * 255).astype(np.int16)


def _word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """Every word on ``page`` with its box in points (pdftotext -bbox)."""
    html = subprocess.run(
        [PDFTOTEXT, "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (w, float(a), float(b), float(c), float(d))
        for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            html,
        )
    ]


def _result_page_setup(path: Path, sheets: list[str]) -> dict[str, str]:
    """Sheet -> its print settings (page setup, margins, header and footer, breaks)."""
    book = openpyxl.load_workbook(path, read_only=True)
    names = book.sheetnames
    book.close()
    out = {}
    with zipfile.ZipFile(path) as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        for sheet, rid in re.findall(
            r'<sheet name="([^"]+)"[^>]*r:id="(rId\d+)"', wb_xml
        ):
            if sheet not in sheets:
                continue
            m = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
                rf'Target="([^"]+)"[^>]*Id="{rid}"', rels
            )
            xml = z.read("xl/" + m.group(1).lstrip("/").removeprefix("xl/")).decode()
            out[sheet] = "".join(
                re.findall(
                    r"<(?:pageMargins|pageSetup|headerFooter|rowBreaks|colBreaks)\b"
                    r".*?(?:/>|</(?:headerFooter|rowBreaks|colBreaks)>)",
                    xml,
                )
            )
    assert set(out) == set(sheets) and set(sheets) <= set(names)
    return out


@pytest.mark.libreoffice
def test_every_result_sheet_renders_alike_whatever_saved_the_workbook(producers):
    pngs, sheets = producers["png"], producers["sheets"]
    # the print settings of the result sheets survive every producer's package
    # (the page header included: "&L&BSummary&Rxlmodel")
    setups = {
        name: _result_page_setup(producers["computed"][name], sheets)
        for name in PRODUCERS
    }
    for name in PRODUCERS[1:]:
        assert setups[name] == setups["shipped"], name
    assert all("<oddHeader>&amp;L&amp;B" in v for v in setups["shipped"].values())
    assert all(len(p) == len(sheets) for p in pngs.values()), {
        k: len(v) for k, v in pngs.items()
    }
    for k, sheet in enumerate(sheets):
        base = _image(pngs["shipped"][k])
        mask = np.zeros(base.shape[:2], dtype=bool)
        if sheet == "Run":
            # The Run sheet shows the SHA-256 of the file read: the four inputs
            # differ byte for byte by construction, so only that value may.
            page = producers["first_page"] + k
            scale = RENDER_DPI / 72
            for name in PRODUCERS:
                for w, x0, y0, x1, y1 in _word_boxes(producers["pdf"][name], page):
                    if re.fullmatch(r"[0-9a-f]{64}", w):
                        mask[
                            int(y0 * scale) - 2 : int(y1 * scale) + 3,
                            int(x0 * scale) - 2 : int(x1 * scale) + 3,
                        ] = True
            assert mask.any(), "the input's SHA-256 is on the Run sheet"
        for name in PRODUCERS[1:]:
            other = _image(pngs[name][k])
            assert other.shape == base.shape, (sheet, name)
            differ = (np.abs(other - base).max(axis=-1) > 0) & ~mask
            assert not differ.any(), (
                f"{sheet}: {int(differ.sum())} pixels differ between the template "
                f"as shipped and {name}"
            )


@pytest.mark.libreoffice
def test_no_wrapped_text_runs_into_the_next_row(producers):
    """Every row of wrapped text is tall enough for its lines as LibreOffice lays
    them out: a line of text at the sheet's left edge (the notes, the column A
    cells) ends above the next one starts. A row too low draws its last line over
    the next row's text (the Cost sheet's node sources and the Inference sheet's
    calibration note did, with row heights from a character count)."""
    pdf = producers["pdf"]["shipped"]
    crowded = []
    for k, sheet in enumerate(producers["sheets"]):
        words = _word_boxes(pdf, producers["first_page"] + k)
        left = min(x0 for _, x0, _, _, _ in words)
        lines: dict[tuple[float, float], list] = {}
        for w, x0, y0, _, y1 in words:
            lines.setdefault((round(y0, 1), round(y1, 1)), []).append((x0, w))
        starts = sorted(
            (y0, y1, " ".join(w for _, w in sorted(ws)))
            for (y0, y1), ws in lines.items()
            if min(ws)[0] < left + 3
        )
        assert len(starts) >= 2, sheet  # the title and subtitle at least
        for (a0, a1, a), (b0, _, b) in zip(starts, starts[1:]):
            if b0 < a1 - 0.25 * (a1 - a0):  # more than a quarter of a line
                crowded.append(f"{sheet}: {a[:40]!r} runs into {b[:40]!r}")
    assert not crowded, crowded


@pytest.mark.libreoffice
def test_gnumeric_reads_the_summary_values(producers, tmp_path):
    if SSCONVERT is None:
        if os.environ.get("XLMODEL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("Gnumeric (ssconvert) is required here but missing")
        pytest.skip("Gnumeric (ssconvert) is not installed")
    for name in PRODUCERS:
        out = tmp_path / f"{name}.csv"
        proc = subprocess.run(
            [
                SSCONVERT,
                "--export-type=Gnumeric_stf:stf_csv",
                "-O",
                "sheet=Summary",
                str(producers["computed"][name]),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
        head = next(i for i, r in enumerate(rows) if r and r[0] == "Variant")
        header = rows[head]
        got = {}
        for r in rows[head + 1 :]:
            if not r or not r[0]:
                break
            got[r[0]] = dict(zip(header, r))
        t = producers["results"][name].comparison.table
        assert list(got) == [str(v) for v in t.index], name
        for variant, row in t.iterrows():
            g = got[str(variant)]
            for column, key in (
                ("Peak FP16 (TFLOPS)", "target_peak_tflops"),
                ("Density FP16 (TFLOPS/mm²)", "target_density_tflops_per_mm2"),
                ("Power at 100 % (W)", "power_total_w"),
                ("FP16 TFLOPS/W", "tflops_per_w"),
                ("Tj (°C)", "junction_temp_c"),
            ):
                assert float(g[column]) == pytest.approx(row[key], rel=1e-12), (
                    name,
                    variant,
                    column,
                )
            assert g["Within power budget"] == (
                "PASS" if row["meets_power_budget"] else "FAIL"
            )
            advice = producers["results"][name].advice
            want = (
                "yes"
                if variant == advice.recommended
                else "closest"
                if variant == advice.closest
                else ""
            )
            assert g["Recommended"] == want


def _breaks(xml: str, tag: str) -> list[int]:
    """The manual page breaks of a worksheet part (first row or column after)."""
    block = re.search(rf"<{tag}\b.*?</{tag}>", xml)
    return (
        [int(x) for x in re.findall(r'<brk id="(\d+)"', block.group(0))]
        if block
        else []
    )


def _pages_by_sheet(pdf: Path, sheets: list[str]) -> dict[str, list[int]]:
    """Result sheet -> its pages, by the page header (sheet name left)."""
    count = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True
            ).stdout,
        ).group(1)
    )
    out: dict[str, list[int]] = {s: [] for s in sheets}
    for page in range(1, count + 1):
        text = subprocess.run(
            [PDFTOTEXT, "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
        ).stdout
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if first.rstrip().endswith("xlmodel"):
            name = first.strip()[: -len("xlmodel")].strip()
            if name in out:
                out[name].append(page)
    return out


@pytest.mark.libreoffice
def test_every_result_sheet_prints_on_a4_and_letter(producers):
    if producers["printed"] is None:
        if os.environ.get("XLMODEL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("no font with Calibri's metrics (Carlito) for LibreOffice")
        pytest.skip("no font with Calibri's metrics (Carlito) for LibreOffice")
    a4, letter = producers["printed"]
    sheets = producers["sheets"]
    pages = {
        p: _pages_by_sheet(pdf, sheets) for p, pdf in (("a4", a4), ("letter", letter))
    }
    path = producers["computed"]["shipped"]
    with zipfile.ZipFile(path) as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        parts = {}
        for sheet, rid in re.findall(
            r'<sheet name="([^"]+)"[^>]*r:id="(rId\d+)"', wb_xml
        ):
            target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
                rf'Target="([^"]+)"[^>]*Id="{rid}"', rels
            )
            parts[sheet] = z.read("xl/" + target.group(1)).decode()
    book = openpyxl.load_workbook(path)
    for sheet in sheets:
        xml = parts[sheet]
        rows, cols = _breaks(xml, "rowBreaks"), _breaks(xml, "colBreaks")
        planned = (len(rows) + 1) * (len(cols) + 1)
        got_a4, got_letter = pages["a4"][sheet], pages["letter"][sheet]
        # the same pages on both papers, and no more than planned: no column
        # spills onto a page of its own, no row onto an unplanned page
        assert len(got_a4) == len(got_letter), (sheet, got_a4, got_letter)
        assert 1 <= len(got_a4) <= planned, (sheet, len(got_a4), planned)
        for paper, pdf in (("a4", a4), ("letter", letter)):
            size = subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True
            ).stdout
            w, h = map(
                float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", size).groups()
            )
            assert w > h  # landscape
            # notes merged over a wide table end with the first band: no
            # word runs past the page. Known gap: on A4 an invisible legend
            # word of the Uncertainty's charts is placed 1.4 pt below the
            # first page's bottom edge (measured; nothing visible is cut)
            slack = 0.0
            low = 2.0 if sheet == "Uncertainty" else 0.0
            for page in pages[paper][sheet]:
                for word, x0, y0, x1, y1 in _word_boxes(pdf, page):
                    assert 0 <= x0 and x1 <= w + slack and 0 <= y0 and y1 <= h + low, (
                        sheet,
                        paper,
                        word,
                    )
        # a table that runs over pages keeps its header and leaves no row alone
        ws = book[sheet]
        titles = ws.print_title_rows
        if not titles:
            continue
        header = int(titles.split(":")[0].lstrip("$")) - 1  # 0-based
        last = header + 1
        while ws.cell(last + 2, 1).value not in (None, ""):
            last += 1
        head_text = str(ws.cell(header + 1, 1).value)
        inside = [b for b in rows if header < b <= last]
        assert inside, f"{sheet}: a header printed on every page, for a table on one"
        for b in inside:
            assert b - header - 1 >= 2 and last - b + 1 >= 2, (sheet, b, header, last)
        names = [str(ws.cell(r + 1, 1).value) for r in range(header + 1, last + 1)]
        # pages print down, then over: the table's next pages follow its first
        for page in got_a4[1 : len(inside) + 1]:
            text = subprocess.run(
                [PDFTOTEXT, "-layout", "-f", str(page), "-l", str(page), str(a4), "-"],
                capture_output=True,
                text=True,
            ).stdout
            assert any(re.search(rf"^\s*{re.escape(n)}\s", text, re.M) for n in names)
            assert re.search(rf"^\s*{re.escape(head_text)}\b", text, re.M), (
                sheet,
                page,
            )


@pytest.mark.libreoffice
def test_later_bands_print_their_table_not_the_notes_cut(producers):
    """A wide sheet's later bands of columns print from their table's header:
    the repeated first column does not show the title and notes above it, cut
    to its width (they print once, whole, in the first band)."""
    if producers["printed"] is None:
        pytest.skip("no font with Calibri's metrics (Carlito) for LibreOffice")
    a4, _ = producers["printed"]
    pages = _pages_by_sheet(a4, producers["sheets"])
    book = openpyxl.load_workbook(producers["computed"]["shipped"])
    checked = []
    for sheet in producers["sheets"]:
        ws = book[sheet]
        areas = (ws.print_area or "").split(",")
        if len(areas) < 2 or not ws.print_title_cols:
            continue
        firsts = [int(re.search(r"\$(\d+):", a).group(1)) for a in areas]
        assert firsts[0] == 1, (sheet, areas)  # the first band: the whole height
        if min(firsts[1:]) <= 2:
            continue  # a band that holds a chart keeps the whole height
        # the subtitle under the title, merged over the first band
        title = str(ws.cell(2, 1).value or ws.cell(1, 1).value)
        words = r"\s+".join(map(re.escape, title.split()[:3]))
        on = [
            p
            for p in pages[sheet]
            if re.search(
                rf"^\s*{words}",
                subprocess.run(
                    [PDFTOTEXT, "-layout", "-f", str(p), "-l", str(p), str(a4), "-"],
                    capture_output=True,
                    text=True,
                ).stdout,
                re.M,
            )
        ]
        assert len(on) == 1, (sheet, title, on)  # once, on the first page
        checked.append(sheet)
    assert {"Summary", "Cost"} <= set(checked), checked
