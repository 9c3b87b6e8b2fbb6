"""The workbook reader: every broken input reported with its cell, never a traceback."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from cost_cases import cost_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_input_corpus import (
    BLANK,
    CASES,
    LOCKED,
    Formula,
    cell,
    header,
    modify,
    sweep_cell,
    value_cell,
    write,
)
from openpyxl.utils import get_column_letter

from xlmodel.engine import evaluate
from xlmodel.errors import InputProblems, PackageError
from xlmodel.schema import BY_NAME, SEED_VARIANTS, VARIANT_PARAMETERS
from xlmodel.studies.run import run
from xlmodel.workbook.formula import Arithmetic as _Arithmetic
from xlmodel.workbook.formula import FormulaError as _FormulaError
from xlmodel.workbook.formula import tokens as _tokens
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
    edits = {"Variants": {header(0): Formula('="V"&1', 0)}}
    with pytest.raises(InputProblems, match="formula has no cached value"):
        read_study(write(tmp_path / "header.xlsx", edits))


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


def _calc(text: str, cells: dict | None = None) -> float:
    cells = cells or {}

    def resolve(ref):
        if ref not in cells:
            raise _FormulaError("missing")
        return cells[ref]

    return _Arithmetic(_tokens(text), resolve).run()


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
        ("=A1*2", 20),
        ("=$B$2+'My Sheet'!C3", 5),
        ("=Other!A1", 7),
    ],
)
def test_simple_formulas_are_evaluated(text, expected):
    cells = {
        (None, 0, 0): 10.0,
        (None, 1, 1): 2.0,
        ("My Sheet", 2, 2): 3.0,
        ("Other", 0, 0): 7.0,
    }
    assert _calc(text, cells) == expected


@pytest.mark.parametrize(
    "text",
    [
        "=SUM(A1:A3)",
        "=A1:A3",
        "=50%",
        "=1+",
        "=(1+2",
        "=1/0",
        "=10^400",
        "=(-8)^(1/3)",
        "=my_name*2",
        '="a"&"b"',
        "=" + "(" * 300 + "1" + ")" * 300,
        "=" + "-" * 300 + "1",
    ],
)
def test_other_formulas_are_not_evaluated(text):
    with pytest.raises(_FormulaError):
        _calc(text)


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
