"""The result sheets' XML written on two cores: the same package as a serial close.

The split only happens in a process running no other thread, which a test worker
may not be: the parallel close is therefore run in a fresh interpreter.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
import zipfile

import pytest
from forking import in_fresh_python

from xlmodel.studies import background
from xlmodel.workbook import assembly


def random_workbook(seed: int, rows: int = 60, settle: bool = False) -> bytes:
    """A workbook written in a random order: formats shared between sheets, two
    formats alike, column and row formats, blank formatted cells, strings,
    formulas and links (one to a web page: a relationship of its sheet)."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    wb = assembly.Workbook(buffer, {"in_memory": True})
    wb.set_properties({"created": dt.datetime(2000, 1, 1)})  # the same bytes
    props = [
        {"num_format": "0.00"},
        {"bold": True},
        {"bg_color": "#FFEE99"},
        {"num_format": "0%", "italic": True},
        {"border": 1},
        {"font_color": "#993300"},
        {"num_format": "0.00"},  # alike the first: one style between them
        {"align": "center"},
    ]
    formats = [wb.add_format(p) for p in props]
    rng.shuffle(formats)
    sheets = [wb.add_worksheet(f"S{i}") for i in range(rng.randint(2, 5))]
    cells = [
        (s, r, c)
        for s in range(len(sheets))
        for r in range(rows if s else 3)
        for c in range(rng.randint(1, 12))
    ]
    rng.shuffle(cells)
    for s, r, c in cells:
        ws = sheets[s]
        fmt = rng.choice([None, *formats])
        kind = rng.random()
        if kind < 0.5:
            ws.write_number(r, c, rng.uniform(-1e6, 1e6), fmt)
        elif kind < 0.75:
            ws.write_string(r, c, f"t{rng.randint(0, 50)}&<", fmt)
        elif kind < 0.85:
            ws.write_formula(r, c, f"=A1+{rng.randint(1, 9)}", fmt)
        elif kind < 0.95:
            ws.write_blank(r, c, None, rng.choice(formats))
        elif kind < 0.97:
            ws.write_url(r, c, f"https://example.com/{rng.randint(0, 9)}", fmt)
        else:
            ws.write_url(r, c, "internal:'S0'!A1", fmt)
    for ws in sheets:
        for _ in range(rng.randint(0, 3)):
            col = rng.randint(0, 14)
            ws.set_column(
                col, col + rng.randint(0, 2), rng.uniform(5, 20), rng.choice(formats)
            )
        for _ in range(rng.randint(0, 4)):
            ws.set_row(rng.randint(0, rows + 5), None, rng.choice(formats))
    if settle:
        assembly.settle_formats([s for s in wb.worksheets() if not s.is_chartsheet])
    wb.close()
    return buffer.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("seed", range(12))
def test_formats_settled_first_get_the_serial_style_numbers(seed, monkeypatch):
    # serial both times: settling first must not change a byte of any part
    monkeypatch.setattr(assembly, "PARALLEL", False)
    serial = parts(random_workbook(seed))
    settled = parts(random_workbook(seed, settle=True))
    assert settled == serial


def test_formats_are_numbered_by_first_use_sheet_by_sheet():
    # created a, b, c, d; first used: in the first sheet the column format d,
    # then row 0's format c, then the cells by column (b at A2 before a at B2,
    # though a was written first); the second sheet's cells come after
    buffer = io.BytesIO()
    wb = assembly.Workbook(buffer, {"in_memory": True})
    a, b, c, d, e = (wb.add_format({"font_size": 9 + i}) for i in range(5))
    first, second = wb.add_worksheet(), wb.add_worksheet()
    second.write(0, 0, 1, e)
    first.write(1, 1, 2, a)
    first.write(1, 0, 3, b)
    first.set_row(0, None, c)
    first.set_column(5, 5, 10, d)
    first.write(0, 0, 4)
    assembly.settle_formats([first, second])
    assert [f.xf_index for f in (d, c, b, a, e)] == [1, 2, 3, 4, 5]


def test_the_sheets_are_split_about_evenly():
    rng = random.Random(3)
    for _ in range(200):
        sizes = [rng.randint(0, 50_000) for _ in range(rng.randint(2, 16))]
        child = background.split(sizes)
        mine = sum(sizes[i] for i in child)
        # largest first, each to the lighter side: within the largest sheet
        assert abs(mine - (sum(sizes) - mine)) <= max(sizes) + 0.05 * sum(sizes)
        assert child and len(child) <= len(sizes)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_sheets_written_in_a_child_give_the_serial_package():
    out = in_fresh_python(
        """
        from forking import dying_in_a_child, record_runs
        from test_assembly import parts, random_workbook
        from xlmodel.workbook import assembly

        runs = record_runs()
        assembly.MIN_CELLS = 0
        for seed in range(8):
            assembly.PARALLEL = False
            serial = parts(random_workbook(seed, rows=400))
            assembly.PARALLEL = True
            split = parts(random_workbook(seed, rows=400))
            assert split == serial, seed
        assert [mode for _, mode, _ in runs] == ["process"] * 8, runs

        # a child that dies: its sheets written here, the same bytes
        original = assembly._write_sheets
        assembly._write_sheets = dying_in_a_child(original)
        runs.clear()
        assert parts(random_workbook(7, rows=400)) == serial
        (run, mode, _), = runs
        assert mode == "process" and run.mode == "serial", (mode, run.mode)
        assembly._write_sheets = original

        # formats the settling missed (a writer numbering otherwise):
        # the close starts again serially, the numbering undone
        def settles_nothing(sheets):
            return [sum(len(r) for r in s.table.values()) for s in sheets]
        assembly.settle_formats = settles_nothing
        for seed in (1, 2):
            assembly.PARALLEL = False
            serial = parts(random_workbook(seed, rows=400))
            assembly.PARALLEL = True
            runs.clear()
            assert parts(random_workbook(seed, rows=400)) == serial, seed
            assert [mode for _, mode, _ in runs] == ["process"], runs
        print("ok")
        """
    )
    assert out.strip() == "ok"


def _chart_parts(workbook_class) -> dict[str, bytes]:
    import numpy as np

    from xlmodel.workbook.results.live import Cached

    buffer = io.BytesIO()
    wb = workbook_class(buffer, {"in_memory": True})
    ws = wb.add_worksheet("S")
    columns = [
        [1.5, -0.0, 1e-300, 12345678901234567.0, 3, True],  # plain numbers
        [Cached(0.1 + 0.2), Cached(2.0), np.float64(7.25), None, 0.5, -2],
        ["n/a", 1.0, None, "x<y", 2.0, 3.0],  # text: the writer's own path
    ]
    for c, values in enumerate(columns):
        for r, v in enumerate(values):
            if isinstance(v, Cached):  # a formula and its cached value
                ws.write_formula(r, c, f"={float(v)!r}", None, v)
            elif v is not None:
                ws.write(r, c, v)
    for k, kind in enumerate(("scatter", "line", "bar")):
        chart = wb.add_chart({"type": kind})
        for c in range(len(columns)):
            chart.add_series(
                {"categories": ["S", 0, 0, 5, 0], "values": ["S", 0, c, 5, c]}
            )
        ws.insert_chart(10 + 16 * k, 0, chart)
    wb.close()
    with zipfile.ZipFile(buffer) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/charts/")}


def test_the_charts_number_caches_are_the_writers():
    """Numbers of every kind (floats, integers, truth values, a formula's
    cached value, numpy's), blanks, and a cache holding text (the writer's
    own path): the chart parts xlsxwriter writes, byte for byte."""
    import xlsxwriter

    fast = _chart_parts(assembly.Workbook)
    plain = _chart_parts(xlsxwriter.Workbook)
    assert len(fast) == 3 and fast == plain
    first = fast["xl/charts/chart1.xml"]
    assert first.count(b"<c:numCache>") >= 3 and b"<c:v>7.25</c:v>" in first
