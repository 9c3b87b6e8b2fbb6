"""The workbook reader: every broken input reported with its cell, never a traceback."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from cost_cases import cost_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_input_corpus import (
    BLANK,
    CASES,
    EXCEL_CALC_PR,
    LOCKED,
    WORKBOOK_PART,
    Formula,
    calc_pr,
    cell,
    header,
    modify,
    rewrite_parts,
    sweep_cell,
    value_cell,
    write,
)
from openpyxl.utils import get_column_letter

from xlmodel.engine import evaluate
from xlmodel.errors import InputProblems, PackageError
from xlmodel.schema import BY_NAME, SEED_VARIANTS, VARIANT_PARAMETERS
from xlmodel.studies.run import run
from xlmodel.workbook.formula import FormulaError as _FormulaError
from xlmodel.workbook.formula import evaluate as _evaluate
from xlmodel.workbook.grid import Grid as _Grid
from xlmodel.workbook.inputs.plausibility import (
    reference_fp16_per_sm as _reference_fp16_per_sm,
)
from xlmodel.workbook.reader import check_not_open, read_study


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus(case, tmp_path):
    path = case.build(tmp_path)
    before = _digest(path)
    if case.outcome == "ok":
        study = read_study(path)
        text = "\n".join(study.warnings)
        for fragment in case.fragments:
            assert fragment in text, f"{fragment!r} not in warnings:\n{text}"
        if case.check:
            case.check(study)
    else:
        kind = InputProblems if case.outcome == "problems" else PackageError
        with pytest.raises(kind) as info:
            read_study(path)
        text = str(info.value)
        for fragment in case.fragments:
            assert fragment in text, f"{fragment!r} not in:\n{text}"
        if case.lines is not None:
            assert len(text.splitlines()) == case.lines, text
            assert len(info.value.problems) == case.lines
        if kind is PackageError:
            assert len(text.splitlines()) == 1, text
    assert _digest(path) == before, "reading changed the file"


@pytest.mark.parametrize("case", LOCKED, ids=lambda c: c.name)
def test_check_not_open_refuses_locked(case, tmp_path):
    path = case.build(tmp_path)
    with pytest.raises(PackageError, match=case.fragments[0]):
        check_not_open(path)
    read_study(path)  # reading a locked workbook is fine


def test_check_not_open_passes_unlocked(tmp_path):
    path = write(tmp_path / "free.xlsx")
    (tmp_path / "~$other.xlsx").write_text("x")
    check_not_open(path)


def test_problem_line_format(tmp_path):
    path = write(tmp_path / "fast.xlsx", {"Variants": {cell("clock_mhz"): "fast"}})
    with pytest.raises(InputProblems) as info:
        read_study(path)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"Variants!{cell('clock_mhz')} clock_mhz: 'fast' is not a number "
        "(MHz, 100-6000)"
    )
    assert (problem.sheet, problem.parameter, problem.value) == (
        "Variants",
        "clock_mhz",
        "fast",
    )


def test_every_variant_column_is_read_with_types(tmp_path):
    path = write(tmp_path / "types.xlsx")
    v = read_study(path).variants
    assert list(v.index) == list(SEED_VARIANTS)
    for p in BY_NAME.values():
        assert p.name in v.columns
        kind = v[p.name].dtype.kind
        assert kind == {"int": "i", "float": "f"}.get(p.kind, kind), p.name
        if not p.numeric:
            assert all(isinstance(x, str) for x in v[p.name])


def test_many_blanks_in_one_row_are_summarised(tmp_path):
    names = {f"V{i}": {} for i in range(8)}
    edits = {"Variants": {cell("l2_cache_mb", i): BLANK for i in range(8)}}
    study = read_study(write(tmp_path / "blanks.xlsx", edits, variants=names))
    lines = [w for w in study.warnings if "l2_cache_mb" in w]
    assert len(lines) == 1 and "blank for 8 variants" in lines[0], lines


def test_unparseable_header_formula_is_a_problem(tmp_path):
    edits = {"Variants": {header(0): Formula('=CONCAT("V",1)', 0)}}
    with pytest.raises(
        InputProblems,
        match=r"formula has no saved value \(only the placeholder 0 .*\) and it uses CONCAT",
    ):
        read_study(write(tmp_path / "header.xlsx", edits))


def test_header_formula_without_a_value_is_evaluated(tmp_path):
    edits = {"Variants": {header(1): Formula('="V"&1', 0)}}
    study = read_study(write(tmp_path / "header.xlsx", edits))
    assert study.variants.index[1] == "V1"


def test_zero_times_one_gives_no_warning(tmp_path):
    # The formula's saved 0 in a file that does not ask for recalculation.
    path = rewrite_parts(
        write(
            tmp_path / "zero.xlsx",
            {"Variants": {cell("d2d_phy_area_mm2"): Formula("=0*1", 0)}},
        ),
        {WORKBOOK_PART: calc_pr(EXCEL_CALC_PR)},
    )
    study = read_study(path)
    assert study.variants["d2d_phy_area_mm2"].iloc[0] == 0
    assert not [w for w in study.warnings if "formula" in w or "0*1" in w], (
        study.warnings
    )


def test_problem_lines_quote_long_values_shortened(tmp_path):
    case = next(c for c in CASES if c.name == "very_long_variant_name")
    with pytest.raises(InputProblems) as info:
        read_study(case.build(tmp_path))
    lines = str(info.value).splitlines()
    assert len(lines) == 3 and all(len(line) < 300 for line in lines), [
        line[:300] for line in lines
    ]


def test_sweep_whole_numbers_and_duplicates(tmp_path):
    edits = {
        "Sensitivity setup": {
            sweep_cell(3, 3): 0.5,  # tensor_cores_per_sm step 0.5
            sweep_cell(4, 0): "clock_mhz",  # listed twice
        }
    }
    with pytest.raises(InputProblems) as info:
        read_study(write(tmp_path / "sweeps.xlsx", edits))
    text = str(info.value)
    assert "tensor_cores_per_sm takes whole numbers" in text
    assert "'clock_mhz' is listed twice" in text


def test_sweep_base_matches_ignoring_case(tmp_path):
    edits = {
        "Sensitivity setup": {
            value_cell("sensitivity", "sweep_base"): "power optimized"
        }
    }
    study = read_study(write(tmp_path / "base.xlsx", edits))
    assert study.sweep_base == "Power Optimized"
    run(study)


def test_blank_sweep_base_falls_back_with_warning(tmp_path):
    edits = {"Sensitivity setup": {value_cell("sensitivity", "sweep_base"): BLANK}}
    names = {"A": {}, "B": {}}
    study = read_study(write(tmp_path / "base.xlsx", edits, variants=names))
    assert study.sweep_base == "A"
    assert any("sweeping around 'A'" in w for w in study.warnings)


def test_fp16_references_come_from_the_chip_table():
    refs = dict(_reference_fp16_per_sm())
    assert refs["H100 SXM5"] == pytest.approx(4096, rel=1e-3)
    assert refs["A100 SXM4 80GB"] == pytest.approx(2048, rel=1e-3)
    assert refs["MI300X"] == pytest.approx(2048, rel=1e-3)


def test_two_hundred_variants_read(tmp_path):
    # speed is measured by benchmarks/bench_workbook.py, not asserted here
    names = {f"Variant {i:03d}": {"clock_mhz": 1000 + i} for i in range(200)}
    path = write(tmp_path / "wide.xlsx", variants=names)
    study = read_study(path)
    assert len(study.variants) == 200
    assert list(study.variants.index) == list(names)
    assert study.variants["clock_mhz"].iloc[-1] == 1199


def test_results_run_on_what_was_read(tmp_path):
    results = run(read_study(write(tmp_path / "run.xlsx")))
    assert len(results.metrics) == len(SEED_VARIANTS)


# --- property: any value in any input cell -> a Study or a clean error ----------------

_INPUT_CELLS = (
    [("Variants", cell(p.name, j)) for p in VARIANT_PARAMETERS for j in range(5)]
    + [("Variants", header(j)) for j in range(6)]
    + [("Targets", value_cell("target", n)) for n in ("power_budget_w", "tj_max_c")]
    + [
        ("Coefficients", value_cell("coefficient", n))
        for n in ("sm_power_w", "theta_ja_c_per_w", "d2d_topology", "ambient_c")
    ]
    + [("Scaling setup", value_cell("scaling", "chiplet_counts", k)) for k in range(5)]
    + [("Scaling setup", value_cell("scaling", "hbm_stacks_per_chiplet"))]
    + [("Scaling setup", value_cell("scaling", "utilizations", k)) for k in range(4)]
    + [("Sensitivity setup", value_cell("sensitivity", n)) for n in ("sweep_base",)]
    + [("Sensitivity setup", value_cell("sensitivity", "tornado_percent"))]
    + [("Sensitivity setup", sweep_cell(r, f)) for r in range(6) for f in range(4)]
    + [("Workloads", f"{c}{r}") for c in "AB" for r in range(4, 12)]
)

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 2, 0.5, 1e-9, 1e300, -1, 128, 2000, 4096]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
        max_size=12,
    ),
    st.sampled_from(["2000", " 2,000 ", "2000 MHz", "#N/A", "=1+", "Baseline", "ring"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.sampled_from(_INPUT_CELLS), _VALUES), max_size=6))
def test_any_input_gives_a_study_or_a_clean_error(tmp_path, edits):
    sheets: dict[str, dict] = {}
    for (sheet, ref), value in edits:
        sheets.setdefault(sheet, {})[ref] = BLANK if value is None else value
    path = write(tmp_path / "fuzz.xlsx", sheets)
    try:
        study = read_study(path)
    except (InputProblems, PackageError) as e:
        assert str(e).strip()
        return
    metrics = evaluate(study.variants)
    numeric = metrics.select_dtypes("number")
    finite = np.isfinite(numeric.to_numpy(dtype=np.float64))
    # With no HBM the roofline ridge point is infinite by definition.
    no_hbm = (metrics["hbm_bandwidth_gbps"] == 0).to_numpy()[:, None]
    ridge = np.array([c.startswith(("ridge_", "target_ridge")) for c in numeric])
    # The monolithic equivalent is n/a beyond the reticle (see cost_cases).
    costs = cost_cases(metrics, numeric, study.variants)
    assert (finite | (no_hbm & ridge[None, :]) | costs).all()
    run(study)


# --- the evaluator of formulas without a cached value -------------------------------


class _Book:
    """The part of a Book the evaluator uses: sheets, defined names, recalc."""

    def __init__(self, grids, names, recalc=False):
        self.grids = {g.title.casefold(): g for g in grids}
        self.names, self.recalc = names, recalc

    def sheet(self, title):
        return self.grids.get(title.casefold())

    def defined(self, name, title):
        return self.names.get(name.casefold())


def _grid(title, rows, formulas=None):
    formulas = formulas or {}
    width = max(len(r) for r in rows)
    values = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    f = [[None] * width for _ in rows]
    for (r, c), text in formulas.items():
        f[r][c] = text
    return _Grid(title, values, [tuple(row) for row in f])


# S!A1=10 B1=2 C1='x' D1 blank; A2=1 B2='3' C2=TRUE D2=#N/A; A3 a formula (no value)
_SHEET = _grid(
    "S",
    [(10, 2, "x", None), (1, "3", True, "#N/A"), (None,)],
    {(2, 0): "=A1*B1+1"},
)
_BOOK = _Book(
    [_SHEET, _grid("My Sheet", [(7,)]), _grid("Other", [(0.25,)])],
    {"rate": "S!$A$1", "half": "0.5", "cells": "S!$A$1:$B$2", "loop": "loop+1"},
)


def _calc(text: str):
    return _evaluate(_BOOK, _SHEET, text, 0, set())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("=2*1000", 2000),
        ("= 1 + 2 * 3", 7),
        ("=(1+2)*3", 9),
        ("=-2^2", 4),  # Excel: negation binds tighter than ^
        ("=2^3^2", 64),  # Excel: ^ is left-associative
        ("=10/4", 2.5),
        ("=1e3+.5", 1000.5),
        ("=+5--3", 8),
        ("=50%", 0.5),
        ("=200%^2", 4),  # % before ^
        ("=A1*2", 20),
        ("=$B$1+'My Sheet'!A1", 9),
        ("=Other!A1*4", 1),
        ("=A3", 21),  # a formula without a value, evaluated in turn
        ("=Z99", 0),  # a blank is 0
        ("=Z99+1", 1),
        ("=B2*2", 6),  # text spelling a number
        ("=C2+1", 2),  # TRUE is 1
        ('="a"&"b"&1&TRUE&Z99', "ab1TRUE"),
        ('="x"&0.5', "x0.5"),
        ("=1<2", True),
        ('="abc"="ABC"', True),  # text compares without regard to case
        ('=1<"a"', True),  # numbers sort before text
        ("=Z99=0", True),
        ('=Z99=""', True),
        ("=2<>2", False),
        ("=1+1>=2", True),
        ("=MIN(0,1)", 0),
        ("=MIN(A1:B2)", 1),  # text '3' and TRUE in a range are skipped
        ("=MAX(A1:C2,25)", 25),
        ("=SUM(A1:D1)", 12),
        ("=SUM(A1:B2)", 13),
        ('=SUM("3",TRUE,1)', 5),  # typed in: text number and TRUE count
        ("=SUM(Z90:Z99)", 0),
        ("=AVERAGE(A1:B1)", 6),
        ("=ABS(-3.5)", 3.5),
        ("=ROUND(2.675,2)", 2.68),  # the decimal digits, as Excel rounds them
        ("=ROUND(-2.5,0)", -3),  # half away from zero
        ("=ROUND(1234,-2)", 1200),
        ("=IF(1>2,1,0)", 0),
        ('=IF(A1>5,"big")', "big"),
        ("=IF(A1>50,1)", False),
        ("=IF(0,1/0,7)", 7),  # the branch not taken is not evaluated
        ("=IF(TRUE,,1)", 0),
        ("=AND(TRUE,1,C2)", True),
        ("=AND(A1:C2)", True),
        ("=OR(FALSE,0)", False),
        ("=NOT(Z99)", True),
        ("=rate*half", 5),
        ("=SUM(cells)", 13),
        ("=0*1", 0),
    ],
)
def test_common_formulas_are_evaluated(text, expected):
    got = _calc(text)
    assert type(got) is type(expected) if isinstance(expected, (bool, str)) else True
    assert (
        got == pytest.approx(expected)
        if isinstance(expected, float)
        else got == expected
    )


@pytest.mark.parametrize(
    "text, code, why",
    [
        ("=1/0", "#DIV/0!", "it divides by zero"),
        ("=C1*2", "#VALUE!", "S!C1 holds 'x', not a number"),
        ("=D2+1", "#N/A", "S!D2 holds #N/A"),
        ("=SUM(A1:D2)", "#N/A", "S!D2 holds #N/A"),
        ("=#REF!*2", "#REF!", "the formula holds #REF!"),
        ("=10^400", "#NUM!", "too large"),
        ("=(-8)^(1/3)", "#NUM!", "not a real number"),
        ("=0^0", "#NUM!", "the power 0"),
        ("=AVERAGE(C1:D1)", "#DIV/0!", "no numbers to average"),
        ("=my_name*2", "#NAME?", "no defined name 'my_name'"),
        ("=A1:B2+1", "#VALUE!", "the range S!A1:B2 stands where one value"),
        ('=IF("maybe",1,2)', "#VALUE!", "'maybe' is not TRUE or FALSE"),
        ("=AND(C1:D1)", "#VALUE!", "no TRUE or FALSE values"),
        ("=ABS(1/0)", "#DIV/0!", "it divides by zero"),
    ],
)
def test_error_values_propagate_with_their_cause(text, code, why):
    with pytest.raises(_FormulaError) as info:
        _calc(text)
    assert info.value.code == code
    assert why in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "text, why",
    [
        ("=VLOOKUP(1,A1:B2,2)", "it uses VLOOKUP, which xlmodel does not evaluate"),
        ("=ROUND(1)", "it calls ROUND with 1 arguments"),
        ("=A:A", ""),
        ("=1+", ""),
        ("=(1+2", ""),
        ("=loop", "the name 'loop' refers back to itself"),
        ("=Missing!A1", "it refers to a missing sheet 'Missing'"),
        ("=" + "(" * 300 + "1" + ")" * 300, "nested too deeply"),
        ("=" + "-" * 300 + "1", "nested too deeply"),
        ("=1+" + "1+" * 600 + "1", "longer than 1,000 characters"),
    ],
)
def test_other_formulas_are_not_evaluated(text, why):
    with pytest.raises(_FormulaError) as info:
        _calc(text)
    assert info.value.code == ""
    assert why in str(info.value)


def test_circular_references_are_refused():
    grid = _grid("S", [(None, None)], {(0, 0): "=B1+1", (0, 1): "=SUM(A1:A1)"})
    with pytest.raises(_FormulaError, match=r"refers back to S!A1 \(a circular"):
        _evaluate(_Book([grid], {}), grid, "=B1+1", 0, {("S", 0, 0)})


def test_a_saved_zero_is_evaluated_only_when_the_file_asks_for_it():
    # A1 holds a formula whose saved value is 0.
    grid = _grid("S", [(0,)], {(0, 0): "=2+3"})
    assert _evaluate(_Book([grid], {}, recalc=False), grid, "=A1*2", 0, set()) == 0
    assert _evaluate(_Book([grid], {}, recalc=True), grid, "=A1*2", 0, set()) == 10


def test_shared_references_are_evaluated_once():
    # Each cell adds the one to its right twice: 2^25 paths, 26 cells.
    width = 26
    formulas = {
        (0, c): f"={get_column_letter(c + 2)}1+{get_column_letter(c + 2)}1"
        for c in range(width - 1)
    }
    grid = _grid("S", [(None,) * (width - 1) + (1,)], formulas)
    book = _Book([grid], {})
    with pytest.raises(_FormulaError, match="nested too deeply"):
        _evaluate(book, grid, "=A1", 0, set())
    assert _evaluate(book, grid, f"={get_column_letter(8)}1", 0, set()) == 2**18


def test_deep_reference_chain_is_refused(tmp_path):
    # D7 = E7+1, E7 = F7+1, ... a chain longer than the evaluator follows.
    def change(wb):
        ws = wb["Variants"]
        row = int(cell("clock_mhz")[1:])
        for col in range(4, 60):
            left, right = get_column_letter(col), get_column_letter(col + 1)
            ws[f"{left}{row}"] = f"={right}{row}+1"
        ws[f"{get_column_letter(60)}{row}"] = 1000

    with pytest.raises(InputProblems, match="nested too deeply"):
        read_study(modify(tmp_path / "chain.xlsx", change))


def _row_of(path: Path, sheet: str, key: str) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)  # holds the file open: closed below
    try:
        rows = wb[sheet].iter_rows(min_col=1, max_col=1, values_only=True)
        for r, (value,) in enumerate(rows):
            if value == key:
                return r + 1
    finally:
        wb.close()
    raise AssertionError(key)


def test_tj_max_not_above_the_ambient_is_one_problem_at_its_cell(tmp_path):
    template = write(tmp_path / "t.xlsx")
    tj_row = _row_of(template, "Targets", "tj_max_c")
    air_row = _row_of(template, "Coefficients", "ambient_c")
    # on Targets: every variant's, one line for all
    path = write(tmp_path / "tj.xlsx", {"Targets": {f"B{tj_row}": 25}})
    with pytest.raises(InputProblems) as info:
        read_study(path)
    (problem,) = info.value.problems
    assert str(problem) == (
        f"Targets!B{tj_row} tj_max_c: 25 is not above ambient_c (25 °C, "
        f"Coefficients!B{air_row}) for Baseline and 4 more: the junction limit "
        "must be above the air the package stands in (°C)"
    )
    # per variant, on a row of Variants: that variant's cell only
    last = _row_of(template, "Variants", "design_nre_usd") + 1
    col = cell("clock_mhz", 1).rstrip("0123456789")
    path = write(
        tmp_path / "row.xlsx",
        {"Variants": {f"A{last}": "tj_max_c", f"{col}{last}": 20.5}},
    )
    with pytest.raises(InputProblems) as info:
        read_study(path)
    (problem,) = info.value.problems
    assert (problem.sheet, problem.cell, problem.value) == (
        "Variants",
        f"{col}{last}",
        20.5,
    )
    assert f"for {list(SEED_VARIANTS)[1]}:" in str(problem)
    # above the ambient by any margin: read
    read_study(write(tmp_path / "ok.xlsx", {"Targets": {f"B{tj_row}": 25.5}}))


def test_a_choice_typed_almost_right_names_the_one_meant(tmp_path, runner):
    # one line per cell, exit 2, the file untouched; the choice the text holds,
    # is held in, or is close to, named after the expectation
    from make_input_corpus import cell, value_cell, write

    from xlmodel.cli import main

    edits = {
        "Variants": {cell("package_type", 1): "interposer"},
        "Targets": {
            value_cell("target", "target_precision"): "FP 8",
            value_cell("target", "figure_of_merit"): "tokens per s",
            value_cell("target", "merit_model"): "llama 70b",
        },
        "Exploration setup": {"B4": "latin hypercube"},
    }
    path = write(tmp_path / "typo.xlsx", edits)
    before = path.read_bytes()
    r = runner.invoke(main, ["validate", str(path)])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert lines[-1] == "5 problem(s); nothing was written."
    assert all(line.startswith("error: ") for line in lines[:-1])
    hints = {re.match(r"error: (.+?!\S+)", line).group(1): line for line in lines[:-1]}
    assert hints[f"Variants!{cell('package_type', 1)}"].endswith(
        "'interposer' is not one of organic_substrate, silicon_interposer, bridge "
        "(did you mean silicon_interposer?)"
    )
    assert hints[f"Targets!{value_cell('target', 'target_precision')}"].endswith(
        "(did you mean FP8?)"
    )
    assert hints[f"Targets!{value_cell('target', 'figure_of_merit')}"].endswith(
        "(did you mean tokens_per_s?)"
    )
    assert hints[f"Targets!{value_cell('target', 'merit_model')}"].endswith(
        "(did you mean llama-3.1-70b?)"
    )
    # nothing close to 'latin hypercube' among grid, lhs, random: no guess
    assert hints["Exploration setup!B4"].endswith("is not one of grid, lhs, random")
    assert path.read_bytes() == before
