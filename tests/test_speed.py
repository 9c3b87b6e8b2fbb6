"""The faster paths give what the plain ones gave, bit for bit and byte for byte.

Percentiles from one sort against ``np.percentile``; the Monte Carlo's chunked
rows of draws (inputs without a spread as columns) against ``np.repeat`` and one
evaluation of every draw; each live formula traced with shared intermediates against one trace per metric;
xlsxwriter's formula preparation with and without the shortcut.
"""

from __future__ import annotations

import numpy as np
import pytest
from xlsxwriter.worksheet import Worksheet

from xlmodel.engine import prepare
from xlmodel.engine.model import METRIC_NAMES, evaluate_arrays
from xlmodel.engine.symbolic import Expr, trace, trace_each
from xlmodel.schema import SEED_VARIANTS
from xlmodel.studies import uncertainty as unc
from xlmodel.workbook.report import _plain_calls, _Worksheet

WANTED = np.concatenate([unc.PERCENTILES, unc.CDF_PERCENTILES])


def bits(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.uint64)


@pytest.mark.parametrize("seed", range(6))
def test_percentiles_from_one_sort_are_numpys(seed):
    rng = np.random.default_rng(seed)
    for n in (2, 3, 7, 50, 101, 10_000):
        values = rng.lognormal(size=(4, n)) * 10 ** rng.uniform(-6, 6)
        if seed % 2:
            values = np.round(values, 2) + 0.5  # ties, no zeros
        values[0] = values[0, 0]  # a constant row
        got = unc._percentiles(values, WANTED)
        assert np.array_equal(bits(got), bits(np.percentile(values, WANTED, axis=1)))


def test_percentiles_with_zeros_and_infinities_take_numpys_path():
    v = np.array([[0.0, -0.0, 1.0, 2.0], [1.0, 2.0, np.inf, np.inf]])
    got = unc._percentiles(v, WANTED)
    zeros = np.percentile(v[:1], WANTED, axis=1)[:, 0]
    assert np.array_equal(bits(got[:, 0]), bits(zeros))
    p0 = WANTED.tolist().index(0.0)
    assert got[-1, 1] == np.inf and got[p0, 1] == 1.0  # P100 of a runaway; P0


def test_the_rows_of_draws_broadcast_to_numpys_repeat():
    x = {
        "a": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        "c": np.broadcast_to(7.0, (5,)),  # a default: one value, no rows of its own
        "z": np.array([0.0, -0.0, 0.0, -0.0, 0.0]),
        "k": np.array([1, 1, 2, 2, 2]),
        "s": np.array(["x", "y", "x", "y", "x"], dtype=object),
    }
    drawn = np.empty((2, 3))
    for start, stop in ((0, 2), (2, 4), (4, 5)):
        g = stop - start
        got = unc._rows(x, start, stop, {"a": drawn[:g]})
        assert got["a"] is not None and got["a"].shape == (g, 3)  # for the draws
        for k in ("c", "z", "k", "s"):
            want = np.repeat(x[k][start:stop], 3)
            full = np.broadcast_to(got[k], (g, 3)).ravel()
            assert got[k].shape == (g, 1) and full.dtype == want.dtype
            if want.dtype.kind == "f":
                assert np.array_equal(bits(full), bits(want)), k
            else:
                assert list(full) == list(want), k


def test_monte_carlo_is_the_same_with_default_inputs_over_chunks():
    # inputs prepare() fills with defaults are broadcasts of one value
    inputs = prepare({"clock_mhz": [1500.0, 1700.0, 1900.0]})
    spec = unc.Uncertainty(
        (unc.Spread("clock_mhz", "normal", 5.0),),
        samples=40,
        seed=1,
        quantities=("power_total_w", "unit_cost_usd", "chiplet_cost_ratio"),
    )
    old_chunk = unc.CHUNK_ROWS
    try:
        unc.CHUNK_ROWS = 80  # two variants a chunk, then one
        chunked = unc.monte_carlo(inputs, ["a", "b", "c"], spec)
    finally:
        unc.CHUNK_ROWS = old_chunk
    whole = unc.monte_carlo(inputs, ["a", "b", "c"], spec)
    assert np.array_equal(
        bits(chunked.summary.to_numpy(dtype=float)),
        bits(whole.summary.to_numpy(dtype=float)),
    )


SPREADS = {
    "power": (
        unc.Spread("clock_mhz", "normal", 5.0),
        unc.Spread("sm_power_w", "uniform", 10.0),
    ),
    "cost": (
        unc.Spread("defect_density_per_cm2", "uniform", 30.0),
        unc.Spread("bonding_yield_per_die", "uniform", 1.0),
        unc.Spread("chiplet_area_mm2", "normal", 10.0),
    ),
}
COST_QUANTITIES = (
    "unit_cost_usd",
    "package_yield",
    "monolithic_cost_per_good_package_usd",
    "chiplet_cost_ratio",
)


@pytest.mark.parametrize("kind", sorted(SPREADS))
def test_monte_carlo_equals_one_evaluation_of_every_draw(kind):
    variants = {k: dict(v) for k, v in list(SEED_VARIANTS.items())[:3]}
    import pandas as pd

    frame = pd.DataFrame(variants).T
    if kind == "cost":  # one variant's single die fits the reticle, not the others'
        frame["num_chiplets"] = [1, 4, 2]
        frame["chiplet_area_mm2"] = [400.0, 600.0, 700.0]
    inputs = prepare(frame)
    spec = unc.Uncertainty(
        SPREADS[kind],
        samples=50,
        seed=3,
        quantities=unc.QUANTITIES if kind == "power" else COST_QUANTITIES,
    )
    old_chunk = unc.CHUNK_ROWS
    try:
        unc.CHUNK_ROWS = 100  # two variants a chunk, then one: buffers reused
        res = unc.monte_carlo(inputs, list(frame.index), spec)
    finally:
        unc.CHUNK_ROWS = old_chunk
    # by hand: every variant's draws, every metric, numpy's percentiles
    for i, name in enumerate(frame.index):
        x = {k: np.repeat(a[i : i + 1], 50) for k, a in inputs.items()}
        rng = np.random.default_rng(unc.variant_seed(3, name))
        for sp in spec.spreads:
            x[sp.name] = sp.draw(float(inputs[sp.name][i]), rng, 50)
        out = evaluate_arrays(x, 1.0)
        for q in spec.quantities:
            p10, p50, p90 = np.percentile(out[q], unc.PERCENTILES)
            row = res.summary.loc[name]
            assert bits(
                [row[f"{q}_p10"], row[f"{q}_p50"], row[f"{q}_p90"]]
            ).tolist() == (bits([p10, p50, p90]).tolist())
            cdf = np.percentile(out[q], unc.CDF_PERCENTILES)
            assert np.array_equal(bits(res.cdf[q][name].to_numpy()), bits(cdf))
        for c in unc.TARGET_CHECKS:
            assert res.summary.loc[name, f"p_{c}"] == out[c].mean()


def test_trace_each_is_one_trace_per_metric():
    inputs = prepare(dict(SEED_VARIANTS["Baseline"]))
    x = {
        k: Expr.leaf(f"'Variants'!$D${i + 3}", a[0]) if a.dtype.kind == "f" else a
        for i, (k, a) in enumerate(inputs.items())
    }
    util = Expr.leaf("$B$5", 0.7)
    names = [m for m in METRIC_NAMES if not m.startswith("meets_")][:30]
    plain = trace(x, names, util)
    known = {
        m: Expr(f"$Z${j + 1}", e.value, guards=e.guards, fallible=e.fallible)
        for j, (m, e) in enumerate(plain.items())
        if isinstance(e, Expr)
    }
    wanted = [*known, "meets_power_budget", "meets_tj_max"]
    each = trace_each(x, wanted, util, known)
    for m in wanted:
        others = {k: v for k, v in known.items() if k != m}
        one = trace(x, [m], util, known=others)[m]
        assert type(each[m]) is type(one)
        if isinstance(one, Expr):
            assert each[m].cell_formula() == one.cell_formula(), m
            assert bits(each[m].value) == bits(one.value)


@pytest.mark.parametrize(
    "formula",
    [
        "=1+2",
        "=IF($A$1>0,EXP(2),NA())",
        "{=SUM(A1:A3)}",
        "='x SORT(1)'!$A$1*2",
        "=_xlfn.FOO(1)",
        "=ASINGLE(1)",
        "=XOR(1)",
        "=IFERROR(1/'Variants'!$D$5,\"n/a\")",
        *(f"=1+{n}(A1)" for n in ("FILTER", "UNIQUE", "LAMBDA", "SEQUENCE", "MAP")),
    ],
)
def test_formula_preparation_is_xlsxwriters(formula):
    assert _Worksheet()._prepare_formula(formula) == Worksheet()._prepare_formula(
        formula
    )


def _sheet_part(tmp_path, worksheet_class) -> bytes:
    """The sheet part of a workbook with cells of every kind written through
    ``worksheet_class``."""
    import datetime
    import zipfile

    import xlsxwriter

    path = tmp_path / f"{worksheet_class.__name__}.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S", worksheet_class=worksheet_class)
    fmt = wb.add_format({"num_format": "0.00", "bottom": 1})
    ws.set_row(30, None, wb.add_format({"bold": True}))
    ws.set_column(6, 6, None, wb.add_format({"italic": True}))
    numbers = [0.0, -0.0, 5e-324, 1 / 3, 123456789.123456789, 1e20, 2.0**53 + 2]
    for i, x in enumerate([*numbers, -7.0, 1e-300, 12.5]):
        ws.write_number(i, 0, x, fmt)
        ws.write_number(i, 1, x)  # no format of its own
        ws.write_number(30, i, x)  # the row's format
        ws.write_number(i, 6, x)  # the column's format
    texts = ["n/a", "  padded ", 'a <b> & "c"', "tab\there", "é 🙂", ""]
    for i, text in enumerate(texts):
        ws.write_string(i, 2, text, fmt)
        ws.write_string(i, 3, text)
    ws.write_datetime(0, 4, datetime.datetime(2026, 12, 2, 18, 30), fmt)
    ws.write_formula(1, 4, "=A1+1", fmt, 1.0)
    # formulas with every kind of cached value, escaping in formula and value
    values = [2.5, np.float64(-0.0), 3, "PASS", "a<b & c", "", "#N/A", True, False]
    for i, value in enumerate(values):
        ws.write_formula(40 + i, 5, '=IF(A1<2,"x&y",A2)', fmt, value)
        ws.write_formula(40 + i, 7 + i, "=B1", None, value)  # no format of its own
    ws.set_row(20, 30)  # a row with attributes only
    ws.set_row(61, 12, None, {"hidden": True})
    ws.write_number(99, 3, 1.5, fmt)  # a block of 16 rows on its own
    ws.write_string(99, 40, "far", fmt)
    ws.write_number(200, 0, 2.0, fmt)
    ws.set_row(300, 40)  # past the last cell: not written
    ws.write_boolean(2, 4, True, fmt)
    ws.write_blank(3, 4, None, fmt)
    wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml") + z.read("xl/sharedStrings.xml")


def test_the_one_step_cell_writer_writes_xlsxwriters_cells(tmp_path):
    ours = _sheet_part(tmp_path, _Worksheet)
    assert ours == _sheet_part(tmp_path, Worksheet)
    assert b'<c r="A1" s="2"><v>0</v></c>' in ours  # written in one step
    assert b'<row r="100" spans="4:41">' in ours
    assert b't="str"><f>IF(A1&lt;2,"x&amp;y",A2)</f><v>a&lt;b &amp; c</v>' in ours


_EDGES = [0.0, -0.0, -0.004, 0.004, 0.996, 9.995, -9.995, 999.5, 1e-320, -1e-320]
_EDGES += [123456.789, -123456.789, 1e15, 2.5e300, -2.5e300, 1.7e308]


@pytest.mark.parametrize("num_format", ["0.00", "#,##0", "0.0%", '0.0" W"', "0"])
@pytest.mark.parametrize("seed", range(3))
def test_the_widest_number_of_a_column_is_every_cells_widest(num_format, seed):
    from xlmodel.workbook.results.sheet import _shown_len, _widest_shown

    rng = np.random.default_rng(seed)
    x = np.concatenate([_EDGES, rng.normal(0, 10.0 ** rng.integers(-3, 9), 200)])
    x = rng.permutation(x)[: rng.integers(1, len(x))]
    for column in (x, -x, x[x <= 0], np.abs(x)):  # the widest on either side
        want = max((_shown_len(v, num_format) for v in column.tolist()), default=0)
        assert _widest_shown(column, num_format, False) == want
        assert _widest_shown(column, num_format, True) == max(want, 3)


def _table_parts(tmp_path, frame, name: str, cols=None) -> bytes:
    """The sheet, styles and shared strings parts of a workbook holding
    ``frame`` as a table."""
    import zipfile

    import xlsxwriter

    from xlmodel.studies.run import run, seed_study
    from xlmodel.workbook.results.context import Context
    from xlmodel.workbook.results.sheet import Col, Sheet

    path = tmp_path / f"{name}.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ctx = Context(wb, run(seed_study()), {})
    sh = Sheet(ctx, wb.add_worksheet("T"), "T")
    cols = cols or [
        Col("a", "A (W)", "0.0"),
        Col("b", "B (%)", "0.0%"),
        Col("c", "C", "#,##0"),
    ]
    sh.table(2, 1, frame, cols, highlight={1, 4})
    sh.ws.set_column(1, 3, sh.widths[1])
    laid_out = repr((sh.wrapped, sh.widths)).encode()  # what the sheet lays out
    wb.close()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        strings = (
            z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
        )
        sheet = z.read("xl/worksheets/sheet1.xml")
        return sheet + z.read("xl/styles.xml") + strings + laid_out


def test_a_column_of_numbers_is_written_as_cell_by_cell(tmp_path):
    import pandas as pd

    a = [np.nan, 1.25, -0.0, np.inf, 1e9, -3.5, 0.004]
    frame = pd.DataFrame(
        {"a": a, "b": [0.5, np.nan, 1.0, 2.0, -0.25, 0.0, 1e-9], "c": range(7)}
    )
    # object columns take the cell-by-cell path, numbers the column path
    loose = frame.astype(object)
    assert _table_parts(tmp_path, frame, "columns") == _table_parts(
        tmp_path, loose, "cells"
    )


def test_a_column_of_text_is_written_as_cell_by_cell(tmp_path, monkeypatch):
    import pandas as pd

    from xlmodel.workbook.results import sheet
    from xlmodel.workbook.results.sheet import Col

    long = "x" * 20_000  # past half of Excel's limit: the writer's own call
    frame = pd.DataFrame(
        {
            "name": ["Baseline", "B", "Baseline", long, "a <b> & c", "", "B"],
            "mixed": ["n/a", 1.5, "largest that fits", 2.0, None, "w " * 40, 3],
            "ok": [True, False, None, True, True, False, True],
        }
    )
    frame["note"] = ["short", "a longer note that needs wrapping " * 3, None] + [
        "x"
    ] * 4
    frame["fits"] = [False, True, True, None, False, True, True]
    cols = [
        Col("name", "Variant", "text"),
        Col("mixed", "Mixed (W)", "0.0"),
        Col("ok", "Within", "pass"),
        Col("note", "Note", "text"),
        Col("fits", "Fits", "yes", center=True),
    ]
    fast = _table_parts(tmp_path, frame, "fast", cols)
    alone = _table_parts(tmp_path, frame[["name"]], "alone", cols[:1])  # text only

    def cell_by_cell(self, row, col, text, fmt):
        self.ws.write_string(row, col, text, fmt)

    monkeypatch.setattr(sheet._StringColumn, "__call__", cell_by_cell)
    monkeypatch.setattr(sheet, "TEXT_COLUMNS", False)  # the loop of mixed columns
    assert fast == _table_parts(tmp_path, frame, "slow", cols)
    assert alone == _table_parts(tmp_path, frame[["name"]], "alone_slow", cols[:1])
    assert b'count="' in fast  # the shared strings' count, the same


_OPERANDS = [
    Expr("'Variants'!$D$5", np.float64(1.7)),
    Expr("'Variants'!$E$5", np.float64(-0.0)),
    Expr("'Variants'!$F$5", np.float64(3e-300)),
    np.float64(0.1),
    np.float64(-2.5),
    np.float64(0.0),
    np.float64(np.nan),
    2,
    1.0,
    True,
    np.array([7.25]),
]
_OPERATORS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "**": np.power,
    "<": np.less,
    ">=": np.greater_equal,
}


@pytest.mark.parametrize("symbol", list(_OPERATORS))
def test_operators_and_scalar_arithmetic_give_what_numpy_dispatch_gives(symbol):
    # a Python operator calls the ufunc protocol directly, and in a trace two
    # float64 values are combined with numpy's scalar arithmetic: the same
    # formula, the same value bit for bit, as the ufunc through numpy
    from xlmodel.engine import symbolic

    ufunc = _OPERATORS[symbol]
    op = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "**": lambda a, b: a**b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
    }[symbol]
    pairs = [
        (a, b)
        for a in _OPERANDS
        for b in _OPERANDS
        if isinstance(a, Expr) or (isinstance(b, Expr) and symbol not in "<>=")
    ]  # (a plain number before a comparison is Python's reflected comparison)
    for quiet in (False, True):
        for a, b in pairs:
            with np.errstate(all="ignore"):
                if quiet:
                    symbolic._QUIET.append(True)
                try:
                    got, want = _outcome(op, a, b), _outcome(ufunc, a, b)
                finally:
                    if quiet:
                        symbolic._QUIET.pop()
            assert type(got) is type(want), (a, symbol, b)
            if isinstance(want, Exception):  # a NaN constant in a comparison
                assert str(got) == str(want)
                continue
            if isinstance(want, Expr):
                assert got.f == want.f and got.prec == want.prec
                assert (got.guards, got.fallible) == (want.guards, want.fallible)
                got, want = got.value, want.value
            g, w = np.asarray(got), np.asarray(want)
            assert g.dtype == w.dtype and g.tobytes() == w.tobytes(), (a, symbol, b)


def _outcome(fn, a, b):
    try:
        return fn(a, b)
    except Exception as exc:  # the same refusal either way
        return exc


def _writer_calls_it_dynamic(formula: str) -> bool:
    """The writer's own test of a dynamic array function (a pattern up to
    3.3.1, a function from 3.3.4)."""
    import xlsxwriter.worksheet as writer

    pattern = getattr(writer, "re_dynamic_function", None)
    if pattern is not None:
        return bool(pattern.search(formula))
    return writer._has_dynamic_function(formula)


def test_no_plain_function_is_one_the_writer_rewrites():
    from xlmodel.workbook.report import _PLAIN_FUNCTIONS

    assert _writer_calls_it_dynamic("=FILTER(A1:A3,A1:A3>0)")  # the test tests
    for name in _PLAIN_FUNCTIONS:
        formula = f"={name}(A1)"
        assert not _writer_calls_it_dynamic(formula)
        assert Worksheet()._prepare_formula(formula) == formula[1:]
        future = Worksheet()
        future.use_future_functions = True
        assert future._prepare_formula(formula) == formula[1:]


_PIECES = ["A1", "'S'!$B$2", "2", '"x(y)"', "{1,2}", "}", "_xlfn.", ".", " ", "+"]
_CALLS = ["IF(", "MAX(", "FILTER(", "A.SORT(", "XSORT(", "SINGLE(", "AINGLE(", "("]


@pytest.mark.parametrize("seed", range(4))
def test_formulas_are_stored_as_xlsxwriter_stores_them(seed):
    rng = np.random.default_rng(seed)
    ours, theirs = _Worksheet(), Worksheet()
    for sheet in (ours, theirs):
        sheet.str_table = None  # no strings here
    fast = 0
    for i in range(300):
        parts = rng.choice(_PIECES + _CALLS, size=rng.integers(1, 8)).tolist()
        formula = "=" * int(rng.integers(0, 2)) + "".join(parts)
        if rng.random() < 0.1:
            formula = "{" + formula + "}"
        assert ours.write_formula(i, 0, formula, None, 1.5) == theirs.write_formula(
            i, 0, formula, None, 1.5
        )
        assert ours.table[i][0] == theirs.table[i][0], formula
        assert type(ours.table[i][0]) is type(theirs.table[i][0])
        fast += _plain_calls(formula)
    assert (ours.dim_rowmax, ours.dim_colmax) == (theirs.dim_rowmax, theirs.dim_colmax)
    assert 30 < fast < 270  # both paths taken


def test_the_collector_is_paused_while_the_sheets_are_written(tmp_path, monkeypatch):
    import dataclasses
    import gc

    from xlmodel.studies.run import run, seed_study
    from xlmodel.workbook import report

    results = run(seed_study())
    first = report._REGISTRY[0]
    seen = []

    def with_writer(write):
        entry = dataclasses.replace(first, write=write)
        monkeypatch.setattr(report, "_REGISTRY", (entry, *report._REGISTRY[1:]))

    def spy(ctx, sh):
        seen.append(gc.isenabled())
        first.write(ctx, sh)

    def fails(ctx, sh):
        raise RuntimeError("a sheet that fails")

    with_writer(spy)
    assert gc.isenabled()
    report.write_results(results, tmp_path / "r.xlsx")
    assert seen == [False] and gc.isenabled()
    with_writer(fails)
    with pytest.raises(RuntimeError):
        report.write_results(results, tmp_path / "r.xlsx")
    assert gc.isenabled()  # on again, whatever happened
    with_writer(spy)
    gc.disable()
    try:  # and left off when it was off
        report.write_results(results, tmp_path / "r.xlsx")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _column_by_column(frame, monkeypatch):
    from xlmodel.engine import inputs

    with monkeypatch.context() as m:
        m.setattr(inputs, "_STACKED_ROWS", -1)  # every column checked on its own
        try:
            return prepare(frame), None
        except ValueError as exc:
            return None, str(exc)


@pytest.mark.parametrize("seed", range(6))
def test_the_stacked_check_is_the_check_column_by_column(seed, monkeypatch):
    """Valid tables give the same arrays; a table with a bad value anywhere
    (out of range, not whole, infinite, a blank where none may be, text) gives
    the same message, naming the first bad parameter and row."""
    import pandas as pd

    from xlmodel.schema import BY_NAME

    rng = np.random.default_rng(seed)
    rows = [dict(v) for v in SEED_VARIANTS.values()] * 3
    frame = pd.DataFrame(rows, index=[f"v{i}" for i in range(len(rows))])
    frame["clock_mhz"] = frame["clock_mhz"] + rng.integers(0, 50, len(frame))
    frame["wafer_price_usd"] = np.where(
        rng.random(len(frame)) < 0.5, np.nan, 17000.0
    )  # blanks: the node's price
    cases = [frame]
    numeric = [
        c for c in frame.columns if BY_NAME[c].numeric and c != "wafer_price_usd"
    ]
    for _ in range(4):
        bad = frame.copy()
        name = numeric[rng.integers(len(numeric))]
        row = int(rng.integers(len(bad)))
        p = BY_NAME[name]
        value = rng.choice(
            [p.maximum * 2 + 1, -abs(p.minimum) - 1, np.inf, np.nan]
            + ([1.5] if p.kind == "int" else [])
        )
        bad[name] = bad[name].astype(float)
        bad.iloc[row, bad.columns.get_loc(name)] = value
        cases.append(bad)
    text = frame.astype({"clock_mhz": object})
    text.iloc[1, text.columns.get_loc("clock_mhz")] = "fast"
    cases.append(text)
    for case in cases:
        want, want_error = _column_by_column(case, monkeypatch)
        try:
            got, got_error = prepare(case), None
        except ValueError as exc:
            got, got_error = None, str(exc)
        assert got_error == want_error
        if want is not None:
            assert got.keys() == want.keys()
            for key in want:
                assert got[key].dtype == want[key].dtype, key
                floats = want[key].dtype.kind == "f"
                assert np.array_equal(got[key], want[key], equal_nan=floats), key
    assert _column_by_column(cases[1], monkeypatch)[1]  # the bad ones are bad
