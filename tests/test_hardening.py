"""Hardening, end to end through the CLI: anything can be in a workbook.

Every problem is one ``error:`` line and exit status 2, never a traceback; the
user's file is never harmed and no temporary file is left behind. Covered here:
the reader corpus (make_input_corpus.py) and the hostile corpus
(make_hostile_corpus.py) through ``validate`` and ``compute``; arbitrary values
in every input (hypothesis); XML entities, zip bombs and absurd sizes; faults
mid-write (exceptions, a full disk, SIGKILL at random moments); two computes at
once; idempotence; read-only files and folders; a workbook open elsewhere.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import hashlib
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from cost_cases import cost_cases
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from make_hostile_corpus import EXIT_STATUS, HOSTILE, SECRET_FILE, SECRET_MARKER
from make_input_corpus import (
    BLANK,
    CASES,
    LOCKED,
    Formula,
    cell,
    header,
    sweep_cell,
    value_cell,
    write,
)

from xlmodel import pipeline
from xlmodel.cli import main
from xlmodel.errors import PackageError
from xlmodel.schema import COEFFICIENTS, TARGETS, VARIANT_PARAMETERS
from xlmodel.workbook import package, reader, report
from xlmodel.workbook.inputs.scaling_setup import SCALING_SETTINGS
from xlmodel.workbook.inputs.sensitivity_setup import SENSITIVITY_SETTINGS
from xlmodel.workbook.package import parts as package_parts
from xlmodel.workbook.package import write as package_write
from xlmodel.workbook.template import BLOCKS

ALL_CASES = (*CASES, *HOSTILE)
# A stage that runs longer than a second prints a progress line on stderr (how
# long it runs depends on the machine's load): not an error, and not a message.
PROGRESS_LINE = re.compile(r"(exploring|Sobol indices|Monte Carlo): [\d,]+ / [\d,]+ ")
BY_NAME = {c.name: c for c in (*ALL_CASES, *LOCKED)}
RESULT_SHEETS = tuple(report.SHEETS)


# --- helpers --------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a file's SHA-256, or what else it is."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            p = Path(root, name)
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                out[rel] = "link -> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "folder"
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "special"
    return out


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error: ")]


def assert_clean_failure(result, case=None) -> list[str]:
    """Exit 2, no exception, stderr only of ``error:`` lines (and their count)."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    assert "Traceback" not in result.output
    errors = error_lines(result.stderr)
    assert errors, result.stderr
    other = [
        ln
        for ln in result.stderr.splitlines()
        if not ln.startswith("error: ")
        and not re.fullmatch(r"\d+ problem\(s\); nothing was written\.", ln)
        and not PROGRESS_LINE.match(ln)
    ]
    assert not other, other
    if case is not None:
        text = "\n".join(errors)
        for fragment in case.fragments:
            assert fragment in text, f"{fragment!r} not in:\n{text}"
        if case.outcome == "package":
            assert len(errors) == 1, errors
        elif case.lines is not None:
            assert len(errors) == case.lines, errors
    return errors


def owned_sheets(path: Path) -> list[str]:
    info = package.inspect_package(path)
    return [n for n in info.sheet_names if n in info.owned]


def assert_valid_with_results(path: Path) -> None:
    """A complete workbook: every zip entry intact, openpyxl loads it, one result set."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        names = wb.sheetnames
    finally:
        wb.close()
    assert len(names) == len(set(names)), names
    owned = owned_sheets(path)
    assert {"Summary", "Run"} <= set(owned), owned
    assert set(owned) <= set(RESULT_SHEETS), owned


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the CLI in a new interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "xlmodel.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> its part name, from the workbook part and its relationships."""
    data = parts(path)
    rels = {
        el.get("Id"): el.get("Target")
        for el in fromstring(data["xl/_rels/workbook.xml.rels"]).iter(
            _PKG + "Relationship"
        )
    }
    out = {}
    for el in fromstring(data["xl/workbook.xml"]).iter(_MAIN + "sheet"):
        target = rels[el.get(_REL_ID)]
        out[el.get("name")] = (
            target.lstrip("/") if target.startswith("/") else "xl/" + target
        )
    return out


def stray_files(folder: Path, keep: set[str]) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n not in keep)


@pytest.fixture(scope="module")
def template_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("template") / "variants.xlsx"
    write(path)
    return path.read_bytes()


@pytest.fixture
def workbook(tmp_path, template_bytes) -> Path:
    path = tmp_path / "variants.xlsx"
    path.write_bytes(template_bytes)
    return path


# --- 1. the corpus through the CLI ----------------------------------------------------


def test_the_corpus_is_large_and_states_outcomes():
    assert len(ALL_CASES) + len(LOCKED) >= 40
    assert len({c.name for c in (*ALL_CASES, *LOCKED)}) == len(ALL_CASES) + len(LOCKED)
    for case in (*ALL_CASES, *LOCKED):
        assert case.outcome in EXIT_STATUS
        if case.outcome != "ok":
            assert case.fragments, f"{case.name} states no expected message"


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_corpus_through_validate_and_compute(case, tmp_path, runner):
    path = case.build(tmp_path)
    before = snapshot(tmp_path)
    status = EXIT_STATUS[case.outcome]

    checked = runner.invoke(main, ["validate", str(path)])
    computed = runner.invoke(main, ["compute", str(path), "--no-export"])

    if status == 2:
        for result in (checked, computed):
            assert_clean_failure(result, case)
        assert snapshot(tmp_path) == before, "a refused file or its folder changed"
        return
    for result in (checked, computed):
        assert result.exit_code == 0, result.output
        assert result.exception is None, result.exception
        assert not error_lines(result.stderr)
    after = snapshot(tmp_path)
    assert sorted(after) == sorted(before), "files appeared or vanished"
    assert after[path.name] != before[path.name]
    assert_valid_with_results(path)


@pytest.mark.parametrize("case", LOCKED, ids=lambda c: c.name)
def test_open_workbook_is_read_but_never_written(case, tmp_path, runner):
    path = case.build(tmp_path)
    before = snapshot(tmp_path)
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(main, ["compute", str(path), "--no-export"])
    (line,) = assert_clean_failure(result, case)
    assert "lock file" in line and "close it" in line
    assert snapshot(tmp_path) == before


def test_open_output_is_not_replaced(workbook, runner, tmp_path):
    out = tmp_path / "results.xlsx"
    out.write_bytes(workbook.read_bytes())
    (tmp_path / ".~lock.results.xlsx#").write_text("someone,host,\n")
    before = snapshot(tmp_path)
    result = runner.invoke(main, ["compute", str(workbook), "-o", str(out)])
    (line,) = assert_clean_failure(result)
    assert "open in LibreOffice" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "name",
    [
        "text_in_number",
        "many_problems_all_reported",
        "truncated_zip",
        "password_protected",
        "xlsb",
        "xxe_shared_strings",
        "zip_bomb_sheet",
        "named_pipe",
    ],
)
def test_no_traceback_reaches_a_user(name, tmp_path):
    case = BY_NAME[name]
    path = case.build(tmp_path)
    before = snapshot(tmp_path)
    for command in ("validate", "compute"):
        proc = cli(command, str(path), cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        errors = error_lines(proc.stderr)
        lines = [ln for ln in proc.stderr.splitlines() if ln not in errors]
        assert all(
            re.fullmatch(r"\d+ problem\(s\); nothing was written\.", ln) for ln in lines
        )
        for fragment in case.fragments:
            assert any(fragment in e for e in errors), (fragment, errors)
    assert snapshot(tmp_path) == before


# --- 2. arbitrary values in every input ------------------------------------------------


def _tornado_cells() -> list[tuple[str, str]]:
    b = BLOCKS["tornado"]
    col = openpyxl.utils.get_column_letter(b.col + 1)
    return [("Sensitivity setup", f"{col}{b.row + 2 + k}") for k in range(10)]


INPUT_CELLS = (
    [("Variants", cell(p.name, j)) for p in VARIANT_PARAMETERS for j in range(6)]
    + [("Variants", header(j)) for j in range(7)]
    + [("Targets", value_cell("target", p.name)) for p in TARGETS]
    + [("Coefficients", value_cell("coefficient", p.name)) for p in COEFFICIENTS]
    + [
        ("Scaling setup", value_cell("scaling", p.name, k))
        for p in SCALING_SETTINGS
        for k in range(5)
    ]
    + [
        ("Sensitivity setup", value_cell("sensitivity", p.name))
        for p in SENSITIVITY_SETTINGS
    ]
    + [("Sensitivity setup", sweep_cell(r, f)) for r in range(7) for f in range(4)]
    + _tornado_cells()
    + [("Workloads", f"{c}{r}") for c in "AB" for r in range(4, 13)]
)

_ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]
CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 2, 0.5, 1e-300, 1e300, -1, 7, 128, 2000, 4096, 1e6]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from(
        [
            "2000",
            " 2,000 ",
            "2000 MHz",
            "1.5e3",
            "-0",
            "inf",
            "NaN",
            "Baseline",
            "ring",
            "mesh",
            "FP16",
            "=1+",
            "clock_mhz",
            "tensor_cores_per_sm",
        ]
    ),  # fmt: skip
    st.builds(
        lambda e: Formula("=1/0" if e == "#DIV/0!" else "=NA()", e),
        st.sampled_from(_ERRORS),
    ),
    st.builds(
        lambda v: Formula(f"={v}+0", v),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9),
    ),
    st.sampled_from(
        [Formula("=2*1000"), Formula("=SUM(1,2)"), Formula(f"={cell('clock_mhz')}*2")]
    ),
    st.datetimes(
        min_value=datetime.datetime(1900, 3, 1),
        max_value=datetime.datetime(9999, 1, 1),
    ),
)


def _finite_results(results) -> None:
    """Every number of every result table is finite, but for documented cases.

    A ridge point is +inf exactly when a variant has no HBM bandwidth (by
    definition); a normalised sensitivity is NaN (shown blank) when its sweep
    starts at 0 or the metric is 0 there (the seed's formula divides by both);
    the density margin is +inf when the density target is 0; the reality check
    holds published chip data, some of it blank; an inference row (or batch) whose
    model does not fit has no latencies (NaN), and a model without a published
    parameter count no difference from it; the cost cases of cost_cases; what it
    would take has no value (NaN, shown n/a) exactly where a target is not
    reachable within the valid range, and no relative change where the parameter
    is now 0. With leakage-temperature feedback on (leakage_temp_coeff_per_c > 0),
    a design can be in thermal runaway: no junction temperature balances its
    leakage, so its power, Tj and what derives from them are +inf (NaN in
    sensitivities and Monte Carlo percentiles of such points); the metrics flag it
    (thermal_runaway). Cells never show any of these as a number or an error value
    (see _no_error_cells).
    """
    import numpy as np

    no_hbm = set(
        results.metrics.index[(results.metrics["hbm_bandwidth_gbps"] == 0).to_numpy()]
    )
    feedback = (results.study.variants["leakage_temp_coeff_per_c"] > 0).any()
    runaway = set(results.metrics.index[results.metrics["thermal_runaway"].to_numpy()])
    for name, table in results.tables().items():
        if name == "reality_check":
            continue
        if feedback and name not in ("summary", "metrics"):
            continue  # perturbed, scaled or drawn points may run away too
        if name in ("summary", "metrics") and runaway:
            table = table[~table["variant"].isin(runaway).to_numpy()]
        if name == "sensitivity_summary":
            table = table[_sweeps_defined(results, table)]
        if name.startswith("inference") and "fits" in table:
            table = table[table["fits"].astype(bool)]
        if name == "inference_models":
            table = table[table["published_params_b"].notna()]
        if name == "what_it_would_take":
            off = ~table["reachable"].to_numpy(bool)
            assert np.isnan(table["value"].to_numpy(float)[off]).all()
            table = table[~off & (table["now"] != 0)]
        numbers = table.select_dtypes("number")
        values = numbers.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        ridge = np.array([c.startswith(("ridge_", "target_ridge")) for c in numbers])
        if "variant" in table:
            rows = table["variant"].isin(no_hbm).to_numpy()
        else:
            rows = table.index.isin(no_hbm)
        bad &= ~(rows[:, None] & ridge[None, :] & (values == np.inf))
        if "density_margin" in numbers:
            # A density target of 0 is met by any density: the margin is +inf.
            zero = (
                results.study.variants["density_target_tflops_per_mm2"] == 0
            ).to_numpy()
            margin = np.array([c == "density_margin" for c in numbers])
            if len(zero) == len(values):
                bad &= ~(zero[:, None] & margin[None, :] & (values == np.inf))
        bad &= ~cost_cases(table, numbers, results.study.variants)
        assert not bad.any(), (name, list(numbers.columns[bad.any(axis=0)]))


def _sweeps_defined(results, summary):
    """Rows of the sensitivity summary whose formula is defined (start above 0,
    every metric non-zero at the start)."""
    points = results.sweep_points
    ok = []
    for parameter in summary["parameter"]:
        first = points[points["parameter"] == parameter].iloc[0]
        metrics = [c for c in summary.columns if c != "parameter"]
        ok.append(first["value"] != 0 and all(first[m] != 0 for m in metrics))
    return ok


def _no_error_cells(path: Path) -> None:
    data = parts(path)
    for sheet, part in sheet_parts(path).items():
        if sheet in owned_sheets(path):
            xml = data[part].decode("utf-8")
            assert 't="e"' not in xml, f"{sheet} holds an error cell"


def _compute_checked(folder: Path, sheets: dict, monkeypatch, fuzz=True) -> int:
    """Compute a template with ``sheets`` edits through the CLI; check the outcome.

    Exit 0 or 2 and nothing else; on 2 one line per problem and the folder as it
    was; on 0 every result finite and no error cell in any result sheet.
    """
    path = write(folder / "fuzz.xlsx", sheets)
    before = snapshot(folder)
    captured = []
    real_run = pipeline.run

    def run_and_keep(*args, **kwargs):
        results = real_run(*args, **kwargs)
        captured.append(results)
        return results

    monkeypatch.setattr(pipeline, "run", run_and_keep)
    try:
        result = CliRunner().invoke(main, ["compute", str(path), "--no-export"])
    finally:
        monkeypatch.undo()
    if fuzz:
        event(f"exit status {result.exit_code}")
    assert result.exit_code in (0, 2), (
        result.exit_code,
        result.output,
        result.exception,
    )
    if result.exit_code == 2:
        assert_clean_failure(result)
        assert snapshot(folder) == before
        return 2
    assert result.exception is None
    assert sorted(snapshot(folder)) == sorted(before)
    (results,) = captured
    _finite_results(results)
    _no_error_cells(path)
    return 0


# Each example is a whole compute (about a second): no shrinking, so that a
# failure is reported at once (with its example) and the suite stays bounded;
# derandomized, so that a run of the suite is reproducible (explore further with
# a larger max_examples locally).
_FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_FUZZ
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(INPUT_CELLS), CELL_VALUES), min_size=1, max_size=8
    )
)
def test_any_values_compute_or_fail_cleanly(edits, tmp_path_factory, monkeypatch):
    sheets: dict[str, dict] = {}
    for (sheet, ref), value in edits:
        sheets.setdefault(sheet, {})[ref] = BLANK if value is None else value
    _compute_checked(tmp_path_factory.mktemp("fuzz"), sheets, monkeypatch)


def _valid(p) -> st.SearchStrategy:
    """Values a parameter accepts, its range's ends drawn often."""
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "text":
        return st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")))
    top = p.maximum
    ends = st.sampled_from(sorted({p.minimum, top}))
    if p.kind == "int":
        return st.one_of(ends.map(int), st.integers(int(p.minimum), int(top)))
    return st.one_of(ends, st.floats(p.minimum, top, allow_nan=False))


VALID_CELLS = (
    [("Variants", cell(p.name, j), p) for p in VARIANT_PARAMETERS for j in range(5)]
    + [("Targets", value_cell("target", p.name), p) for p in TARGETS]
    + [("Coefficients", value_cell("coefficient", p.name), p) for p in COEFFICIENTS]
)


@_FUZZ
@given(data=st.data())
def test_valid_extremes_give_finite_results(data, tmp_path_factory, monkeypatch):
    sheets: dict[str, dict] = {}
    picks = data.draw(st.lists(st.sampled_from(VALID_CELLS), min_size=1, max_size=12))
    for sheet, ref, p in picks:
        value = data.draw(_valid(p), label=f"{sheet}!{ref} {p.name}")
        sheets.setdefault(sheet, {})[ref] = value
    _compute_checked(tmp_path_factory.mktemp("valid"), sheets, monkeypatch)


@pytest.mark.parametrize(
    "name, value",
    [("hbm_bandwidth_gbps_per_stack", 100_000), ("num_chiplets", 1024)],
)
def test_largest_valid_values(name, value, tmp_path, monkeypatch):
    # Each ended in an internal error once (a derived coefficient out of its
    # range; a perturbed chiplet count past a table).
    edits = {"Variants": {cell(name, k): value for k in range(5)}}
    assert _compute_checked(tmp_path, edits, monkeypatch, fuzz=False) == 0


def test_single_point_sweep_is_a_problem(tmp_path, runner):
    # Its normalised sensitivity (last vs first point) would be undefined.
    edits = {"Sensitivity setup": {sweep_cell(2, 1): 1500, sweep_cell(2, 3): 2000}}
    path = write(tmp_path / "sweep.xlsx", edits)
    result = runner.invoke(main, ["validate", str(path)])
    (line,) = assert_clean_failure(result)
    assert f"Sensitivity setup!{sweep_cell(2, 2)} clock_mhz sweep stop" in line
    assert "gives a single point from 1500 in steps of 2000" in line


# --- 3. hostile packages -----------------------------------------------------------------

XXE_CASES = [c for c in HOSTILE if c.name.startswith("xxe_")]


def _every_output(folder: Path) -> bytes:
    """All bytes under ``folder`` but the planted secret, zip members unpacked."""
    chunks = []
    for p in folder.rglob("*"):
        if p.name == SECRET_FILE or not p.is_file() or p.is_symlink():
            continue
        data = p.read_bytes()
        chunks.append(data)
        if data[:2] == b"PK":
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    chunks.extend(zf.read(i) for i in zf.infolist())
            except (zipfile.BadZipFile, OSError, ValueError):
                pass
    return b"".join(chunks)


@pytest.mark.parametrize("case", XXE_CASES, ids=lambda c: c.name)
def test_external_entities_never_leak(case, tmp_path, runner):
    path = case.build(tmp_path)
    assert (tmp_path / SECRET_FILE).read_text().strip() == SECRET_MARKER
    exports = tmp_path / "exports"
    out = tmp_path / "out.xlsx"
    seen = ""
    for args in (
        ["validate", str(path)],
        ["compute", str(path), "--export-dir", str(exports)],
        ["compute", str(path), "-o", str(out), "--export-dir", str(exports)],
    ):
        result = runner.invoke(main, args)
        assert_clean_failure(result, case)
        seen += result.output + result.stderr
    assert SECRET_MARKER not in seen
    assert SECRET_MARKER.encode() not in _every_output(tmp_path)
    assert not out.exists() and not exports.exists()


@pytest.mark.parametrize("case", XXE_CASES[:4], ids=lambda c: c.name)
def test_parsers_refuse_entities_without_the_screening(case, tmp_path, monkeypatch):
    # Defence in depth: with the package screening switched off, the XML parsers
    # (defusedxml under openpyxl, and the package's own) still refuse.
    path = case.build(tmp_path)
    monkeypatch.setattr(reader, "screen_zip", lambda *a: None)
    monkeypatch.setattr(package_parts, "screen_zip", lambda *a: None)
    with pytest.raises(PackageError) as caught:
        reader.read_study(path)
    assert SECRET_MARKER not in str(caught.value)
    assert "\n" not in str(caught.value)
    if case.name in ("xxe_workbook", "xxe_parameter_entity"):
        with pytest.raises(PackageError) as caught:
            package.inspect_package(path)
        assert SECRET_MARKER not in str(caught.value)


def _run_measured(args: list[str], cwd: Path) -> tuple[int, str, int]:
    """Exit status, stderr and peak resident memory (KiB) of a CLI process."""
    err_path = cwd / "_stderr.txt"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "xlmodel.cli", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = err_path.read_text()
    err_path.unlink()
    return proc.returncode, text, usage.ru_maxrss


@pytest.mark.parametrize("name", ["zip_bomb_part", "zip_bomb_sheet"])
def test_zip_bomb_is_refused_without_unpacking(name, tmp_path):
    # The 200 MB part is never unpacked: the process that refuses it needs no
    # more memory than one that refuses a typo.
    path = BY_NAME[name].build(tmp_path)
    typo = BY_NAME["text_in_number"].build(tmp_path)
    code, _, baseline = _run_measured(["compute", str(typo)], tmp_path)
    assert code == 2
    code, err, peak = _run_measured(["compute", str(path)], tmp_path)
    assert code == 2 and "suspicious compression ratio" in err, err
    assert peak < baseline + 64 * 1024, (peak, baseline)


def test_screening_limits_are_those_of_the_package_module(tmp_path):
    # The reader and the writer refuse the same packages: one screening function.
    path = BY_NAME["path_traversal"].build(tmp_path)
    with pytest.raises(PackageError, match="unsafe part name"):
        reader.read_study(path)
    with pytest.raises(PackageError, match="unsafe part name"):
        package.inspect_package(path)


# --- 4. faults mid-write --------------------------------------------------------------


def _assert_untouched(folder: Path, path: Path, original: bytes) -> None:
    assert path.read_bytes() == original
    assert stray_files(folder, {path.name}) == []
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None


def _later_run_succeeds(runner, path: Path) -> None:
    result = runner.invoke(main, ["compute", str(path), "--no-export"])
    assert result.exit_code == 0, result.output
    assert stray_files(path.parent, {path.name}) == []
    assert_valid_with_results(path)


def _assert_internal_error(result, message: str) -> None:
    # A defect of ours, not the user's fault: exit 1, still one line.
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # Progress lines of a stage that ran long on a busy machine aside.
    lines = [ln for ln in result.stderr.splitlines() if not PROGRESS_LINE.match(ln)]
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("error: internal error") and message in line
    assert "the workbook was not changed" in line


def test_exception_while_writing_results(workbook, runner, monkeypatch):
    original = workbook.read_bytes()
    real = report.results_parts

    def half_then_fail(*args, **kwargs):
        real(*args, **kwargs)  # the results written, then a failure
        raise RuntimeError("report failed")

    monkeypatch.setattr(pipeline.report, "results_parts", half_then_fail)
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    _assert_internal_error(result, "report failed")
    _assert_untouched(workbook.parent, workbook, original)
    monkeypatch.setattr(pipeline.report, "results_parts", real)
    _later_run_succeeds(runner, workbook)


def test_exception_midway_through_the_zip(workbook, runner, monkeypatch):
    original = workbook.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = []

    def writestr(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("crash mid-write")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(package_write.zipfile.ZipFile, "writestr", writestr)
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    _assert_internal_error(result, "crash mid-write")
    monkeypatch.undo()
    _assert_untouched(workbook.parent, workbook, original)
    _later_run_succeeds(runner, workbook)


class _FullDisk(io.RawIOBase):
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, handle, room: int):
        self.handle, self.room = handle, room

    def writable(self):
        return True

    def write(self, data):
        if self.room < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.handle.write(data)

    def flush(self):
        self.handle.flush()

    def fileno(self):
        return self.handle.fileno()

    def close(self):
        if not self.closed:
            super().close()
            self.handle.close()

    def seekable(self):
        return self.handle.seekable()

    def seek(self, offset, whence=io.SEEK_SET):
        return self.handle.seek(offset, whence)

    def tell(self):
        return self.handle.tell()


@pytest.mark.parametrize("where", ["zip", "fsync", "results"])
def test_full_disk(where, workbook, runner, monkeypatch):
    original = workbook.read_bytes()
    if where == "zip":
        real_fdopen = os.fdopen

        def fdopen(fd, *args, **kwargs):
            handle = real_fdopen(fd, *args, **kwargs)
            name = os.readlink(f"/proc/self/fd/{fd}")
            if os.path.basename(name).startswith(".~xlmodel.") and name.endswith(
                ".tmp"
            ):
                return _FullDisk(handle, room=8192)  # the package being written
            return handle

        monkeypatch.setattr(package_write.os, "fdopen", fdopen)
    elif where == "fsync":

        def fsync(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(package_write.os, "fsync", fsync)
    else:
        import xlsxwriter.workbook

        class FullZip(zipfile.ZipFile):
            def write(self, *args, **kwargs):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            writestr = write

        monkeypatch.setattr(xlsxwriter.workbook, "ZipFile", FullZip)
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    (line,) = assert_clean_failure(result)
    assert "No space left on device" in line
    if where != "results":
        assert "the disk is full; it was not changed" in line
    monkeypatch.undo()
    _assert_untouched(workbook.parent, workbook, original)
    _later_run_succeeds(runner, workbook)


def test_interrupt_while_writing(workbook, runner, monkeypatch):
    original = workbook.read_bytes()

    def fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(package_write.os, "fsync", fsync)
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert result.exit_code == 130
    assert "the workbook was not changed" in result.stderr
    monkeypatch.undo()
    _assert_untouched(workbook.parent, workbook, original)
    _later_run_succeeds(runner, workbook)


@pytest.fixture(scope="module")
def big_workbook(tmp_path_factory) -> bytes:
    """300 variants: a compute long enough that a kill lands inside a write."""
    path = tmp_path_factory.mktemp("big") / "big.xlsx"
    names = {f"Variant {i:03d}": {"clock_mhz": 1000 + 3 * i} for i in range(300)}
    write(path, variants=names)
    return path.read_bytes()


def _start_compute(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "xlmodel.cli", "compute", str(path), "--no-export"],
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_when(proc: subprocess.Popen, folder: Path, suffix: str) -> bool:
    """SIGKILL the process as soon as a temporary file ``*suffix`` appears."""
    while proc.poll() is None:
        if any(
            n.startswith(".~xlmodel.") and n.endswith(suffix)
            for n in os.listdir(folder)
        ):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.0005)
    return False


def test_killed_at_random_moments(big_workbook, tmp_path, runner):
    """SIGKILL during compute: the workbook is the old one or a complete new one.

    A killed process cannot clean up: its temporary files stay until the next
    compute of the same workbook removes them.
    """
    path = tmp_path / "big.xlsx"
    path.write_bytes(big_workbook)
    rng = random.Random(20240601)
    # the one temporary file a compute writes: the new workbook, before it is
    # moved into place (the results reach the splice in memory)
    plan = [
        "temp:.tmp",
        *(rng.uniform(0.3, 3.5) for _ in range(5)),
    ]
    hit_mid_write = 0
    for step in plan:
        before = path.read_bytes()
        proc = _start_compute(path)
        if isinstance(step, str):
            hit_mid_write += _kill_when(proc, tmp_path, step.split(":", 1)[1])
        else:
            try:
                proc.wait(timeout=step)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        now = path.read_bytes()
        if now != before:
            assert_valid_with_results(path)
        else:
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None
        for name in stray_files(tmp_path, {path.name}):
            assert name.startswith(package.temp_prefix(path.name)), name
    assert hit_mid_write == 1, "the kill meant to land mid-write missed the window"
    _later_run_succeeds(runner, path)


def test_stale_temporary_files_are_removed(workbook, runner, tmp_path):
    prefix = package.temp_prefix(workbook.name)
    stale = [prefix + "abcd1234.tmp", prefix + "k_9zq0xw.results.xlsx", prefix + "lock"]
    others = [
        package.temp_prefix("other.xlsx") + "abcd1234.tmp",  # another workbook's
        prefix + "notes.txt",
        "abcd1234.tmp",
        "~$variants.xlsx.bak",
    ]
    for name in stale + others:
        (tmp_path / name).write_bytes(b"left over")
        os.utime(tmp_path / name, (time.time() - 3600, time.time() - 3600))
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert result.exit_code == 0, result.output
    assert stray_files(tmp_path, {workbook.name}) == sorted(others)


# --- concurrency ------------------------------------------------------------------------


def test_two_computes_at_once(tmp_path):
    path = tmp_path / "wide.xlsx"
    write(path, variants={f"V{i:02d}": {"clock_mhz": 1500 + 10 * i} for i in range(60)})
    procs = [_start_compute(path) for _ in range(2)]
    codes = [p.wait(timeout=600) for p in procs]
    assert codes == [0, 0]
    assert_valid_with_results(path)
    assert stray_files(tmp_path, {path.name}) == []


def test_a_compute_waits_for_the_lock(workbook, tmp_path):
    lock = tmp_path / (package.temp_prefix(workbook.name) + "lock")
    original = workbook.read_bytes()
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = _start_compute(workbook)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        # While the lock is held the other compute neither finishes nor writes.
        assert proc.poll() is None
        assert workbook.read_bytes() == original
    finally:
        lock.unlink()  # removed while held, as a compute does
        os.close(fd)
    assert proc.wait(timeout=600) == 0
    assert_valid_with_results(workbook)
    assert stray_files(tmp_path, {workbook.name}) == []


def test_a_compute_refuses_when_the_lock_stays_held(
    workbook, tmp_path, runner, monkeypatch
):
    lock = tmp_path / (package.temp_prefix(workbook.name) + "lock")
    original = workbook.read_bytes()
    monkeypatch.setattr(pipeline, "LOCK_WAIT_S", 0.0)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    finally:
        os.close(fd)
    (line,) = assert_clean_failure(result)
    assert "another xlmodel compute is writing this workbook" in line
    assert workbook.read_bytes() == original


# --- 5. idempotence, determinism, read-only --------------------------------------------


def _run_sheet_masked(xml: bytes) -> bytes:
    text = xml.decode("utf-8")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)?", "<time>", text)
    return re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text).encode()


#: Sheets that record when a compute ran and what it read: the Run sheet, the
#: Changes sheet (the previous compute's time) and the state xlmodel keeps.
_RUN_RECORDS = ("Run", "Changes", "xlmodel state")


def _compare_results(a: Path, b: Path, mask_hash: bool) -> None:
    pa, pb = parts(a), parts(b)
    assert list(pa) == list(pb), "different parts or part order"
    sa, sb = sheet_parts(a), sheet_parts(b)
    records = [sa[n] for n in _RUN_RECORDS if n in sa]
    assert records == [sb[n] for n in _RUN_RECORDS if n in sb]
    for name in pa:
        if name in records:
            continue
        assert pa[name] == pb[name], name
    for part in records:
        masked_a, masked_b = _run_sheet_masked(pa[part]), _run_sheet_masked(pb[part])
        if not mask_hash:
            assert re.findall(rb"[0-9a-f]{64}", pa[part]) == re.findall(
                rb"[0-9a-f]{64}", pb[part]
            )
        assert masked_a == masked_b, part


def test_compute_is_deterministic(workbook, runner, tmp_path):
    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    for out in (one, two):
        result = runner.invoke(
            main, ["compute", str(workbook), "-o", str(out), "--no-export"]
        )
        assert result.exit_code == 0, result.output
    _compare_results(one, two, mask_hash=False)


def test_compute_in_place_is_idempotent(workbook, runner, tmp_path):
    # The first compute adds the result sheets and the second replaces them (its
    # Run sheet names them): from then on every compute writes the same package.
    for _ in range(2):
        result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
        assert result.exit_code == 0
    first = tmp_path / "first.xlsx"
    shutil.copy(workbook, first)
    result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert result.exit_code == 0
    # The Run sheet records the time and the hash of the file it read, which
    # now holds the first run's results: only those two may differ.
    _compare_results(first, workbook, mask_hash=True)
    assert owned_sheets(workbook) == owned_sheets(first)


def _chattr(flag: str, path: Path) -> bool:
    if not shutil.which("chattr"):
        return False
    proc = subprocess.run(["chattr", flag, str(path)], capture_output=True)
    return proc.returncode == 0


@pytest.mark.parametrize("how", ["mode", "immutable", "access"])
@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_refuses_cleanly(what, how, workbook, runner, tmp_path, monkeypatch):
    """A read-only workbook or folder: exit 2, one line, nothing written.

    ``mode`` removes every write bit (refused even for root, who could write);
    ``immutable`` sets the file system's immutable flag, which binds root too
    (skipped where it cannot be set); ``access`` makes the permission check
    answer no, as it does for a user without write permission.
    """
    target = workbook if what == "file" else tmp_path
    original = workbook.read_bytes()
    names = sorted(os.listdir(tmp_path))
    mode = os.stat(target).st_mode
    undo = None
    if how == "mode":
        os.chmod(target, mode & ~0o222)
        undo = lambda: os.chmod(target, mode)  # noqa: E731
    elif how == "immutable":
        if not _chattr("+i", target):
            pytest.skip("the immutable flag cannot be set here")
        undo = lambda: _chattr("-i", target)  # noqa: E731
    else:
        real = os.access

        def access(path, flags, *args, **kwargs):
            if os.path.realpath(path) == os.path.realpath(target) and flags & os.W_OK:
                return False
            return real(path, flags, *args, **kwargs)

        monkeypatch.setattr(pipeline.os, "access", access)
    try:
        checked = runner.invoke(main, ["validate", str(workbook)])
        result = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    finally:
        if undo:
            undo()
    assert checked.exit_code == 0, checked.output  # reading is fine
    (line,) = assert_clean_failure(result)
    assert ("folder is read-only" if what == "folder" else "file is read-only") in line
    assert workbook.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == names


def test_exports_into_a_read_only_or_missing_folder_refused_first(
    workbook, runner, tmp_path
):
    """The export folder is checked before any work, by the workbook's rule
    (no write permission bit is read-only, even for root): refused, nothing is
    made and the workbook keeps its bytes. It was made and filled under a
    read-only folder, or failed after the workbook was written."""
    original = workbook.read_bytes()
    locked = tmp_path / "locked"
    locked.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    cases = {
        locked / "exports": "folder above",
        locked: "export folder is read-only",
        a_file / "exports": "is not a folder",
    }
    os.chmod(locked, 0o555)
    try:
        for target, said in cases.items():
            result = runner.invoke(
                main, ["compute", str(workbook), "--export-dir", str(target)]
            )
            (line,) = assert_clean_failure(result)
            assert said in line, (target, line)
            assert workbook.read_bytes() == original
            assert os.listdir(locked) == []
    finally:
        os.chmod(locked, 0o755)
    assert a_file.read_text() == "mine"


def test_output_into_read_only_folder(workbook, runner, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        result = runner.invoke(
            main,
            ["compute", str(workbook), "-o", str(folder / "out.xlsx"), "--no-export"],
        )
    finally:
        os.chmod(folder, 0o755)
    (line,) = assert_clean_failure(result)
    assert "folder is read-only" in line
    assert os.listdir(folder) == []
