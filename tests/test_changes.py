"""Stale results flagged in the workbook, and what changed since the last compute.

Hand-worked Shapley shares, the state sheet's snapshot read back, two computes
of the template with inputs edited in the package XML in between (the Changes
sheet lists exactly the edited cells, the shares of each moved metric sum to
its change, the user's sheets keep their bytes), ``xlmodel diff``, and the
banner recalculated by LibreOffice: on after an edit, off after a compute.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import has_uno, libreoffice_edit

from xlmodel import pipeline
from xlmodel.cli.app import main
from xlmodel.engine import evaluate
from xlmodel.errors import InputProblems as InputProblemsError
from xlmodel.studies import changes
from xlmodel.studies.changes import InputCell, attribute, compare, snapshot
from xlmodel.studies.run import seed_study
from xlmodel.workbook import reader
from xlmodel.workbook.inputs import targets
from xlmodel.workbook.inputs.variants import variant_rows
from xlmodel.workbook.results import banner, state
from xlmodel.workbook.template import write_template

# LibreOffice writes extensions of its own that openpyxl warns it would drop when
# it reads the converted workbook back; only its values are read here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*extension is not supported:UserWarning"
)

ROOT = Path(__file__).resolve().parents[1]


def _baseline() -> pd.DataFrame:
    return seed_study().variants.loc[["Baseline"]]


# --- attribution ------------------------------------------------------------------


def test_shapley_shares_of_a_product_hand_worked():
    # Peak = num_chiplets x sms_per_chiplet x (per-SM rate): f = K s c. With s x3
    # and c x2: f(s1,c0) = 3 f0, f(s0,c1) = 2 f0, f1 = 6 f0, so
    # share(s) = ((3-1) + (6-2)) / 2 f0 = 3 f0 and share(c) = ((2-1) + (6-3)) / 2 f0
    # = 2 f0: 60 % and 40 % of the change 5 f0.
    old = _baseline()
    new = old.copy()
    new["sms_per_chiplet"] = old["sms_per_chiplet"] * 3
    new["num_chiplets"] = old["num_chiplets"] * 2
    f0 = float(evaluate(old)["target_peak_tflops"].iloc[0])
    f1 = float(evaluate(new)["target_peak_tflops"].iloc[0])
    assert f1 == pytest.approx(6 * f0)
    shares, method = attribute(
        old, new, ["sms_per_chiplet", "num_chiplets"], ["target_peak_tflops"]
    )
    assert method == changes.SHAPLEY
    got = shares["target_peak_tflops"]
    assert got["sms_per_chiplet"] == pytest.approx(3 * f0)
    assert got["num_chiplets"] == pytest.approx(2 * f0)


def test_shapley_shares_sum_to_the_change_exactly():
    old = _baseline()
    new = old.copy()
    edits = {
        "clock_mhz": 1500.0,
        "sms_per_chiplet": 24,
        "hbm_stacks": 6,
        "chiplet_area_mm2": 300.0,
    }
    for k, v in edits.items():
        new[k] = new[k].astype(type(v)) if isinstance(v, float) else new[k]
        new[k] = v
    metrics = ["power_total_w", "junction_temp_c", "effective_tflops_per_w"]
    shares, method = attribute(old, new, list(edits), metrics)
    assert method == changes.SHAPLEY
    before, after = evaluate(old), evaluate(new)
    for m in metrics:
        delta = float(after[m].iloc[0] - before[m].iloc[0])
        assert delta != 0
        assert sum(shares[m].values()) == pytest.approx(delta, rel=1e-12, abs=1e-12)


def test_one_at_a_time_beyond_the_shapley_limit(monkeypatch):
    monkeypatch.setattr(changes, "MAX_SHAPLEY", 1)
    old = _baseline()
    new = old.copy()
    new["sms_per_chiplet"] = old["sms_per_chiplet"] * 3
    new["num_chiplets"] = old["num_chiplets"] * 2
    shares, method = attribute(
        old, new, ["sms_per_chiplet", "num_chiplets"], ["target_peak_tflops"]
    )
    f0 = float(evaluate(old)["target_peak_tflops"].iloc[0])
    got = shares["target_peak_tflops"]
    assert method == changes.ONE_AT_A_TIME
    assert got["sms_per_chiplet"] == pytest.approx(2 * f0)  # 3 f0 - f0
    assert got["num_chiplets"] == pytest.approx(1 * f0)  # 2 f0 - f0
    assert got["interaction"] == pytest.approx(2 * f0)  # 6 f0 - f0 - 3 f0


def test_compare_lists_changed_inputs_and_removed_variants():
    study = seed_study()
    cells = [
        InputCell("Variants", "D3", "", "", "Baseline"),
        InputCell("Variants", "D18", "sms_per_chiplet", "Baseline", 16),
        InputCell("Targets", "B5", "density_target_tflops_per_mm2", "", 0.5),
    ]
    old = snapshot(cells, study.variants)
    frame = study.variants.drop(index="Power Optimized").copy()
    frame.loc["Baseline", "sms_per_chiplet"] = 20
    new_cells = [
        cells[0],
        InputCell("Variants", "D18", "sms_per_chiplet", "Baseline", 20),
        cells[2],
    ]
    got = compare(old, snapshot(new_cells, frame))
    assert got.inputs[["cell", "old", "new"]].values.tolist() == [["D18", 16, 20]]
    assert got.removed == ["Power Optimized"] and got.added == []
    assert set(got.metrics["variant"]) == {"Baseline"}
    moved = got.metrics.set_index("metric")
    peak = moved.loc["target_peak_tflops"]
    assert peak["new"] / peak["old"] == pytest.approx(20 / 16)
    rows = got.shares[got.shares["metric"] == "target_peak_tflops"]
    assert rows["parameter"].tolist() == ["sms_per_chiplet"]
    assert rows["cells"].tolist() == ["Variants!D18"]
    assert rows["share"].sum() == pytest.approx(peak["delta"])


def test_a_variant_added_or_removed_is_one_row_at_its_names_cell():
    study = seed_study()
    base = study.variants.loc[["Baseline"]]
    both = study.variants.loc[["Baseline", "Power Optimized"]]
    one = [
        InputCell("Variants", "D3", "", "", "Baseline"),
        InputCell("Variants", "D18", "sms_per_chiplet", "Baseline", 16),
    ]
    two = [
        *one,
        InputCell("Variants", "E3", "", "", "Power Optimized"),
        InputCell("Variants", "E5", "cuda_cores_per_sm", "Power Optimized", 128),
        InputCell("Variants", "E18", "sms_per_chiplet", "Power Optimized", 24),
    ]
    added = compare(snapshot(one, base), snapshot(two, both))
    assert added.inputs[["cell", "parameter", "item", "new"]].values.tolist() == [
        ["E3", "variant added", "Power Optimized", "Power Optimized"]
    ]
    removed = compare(snapshot(two, both), snapshot(one, base))
    assert removed.inputs[["cell", "parameter", "item", "old"]].values.tolist() == [
        ["E3", "variant removed", "Power Optimized", "Power Optimized"]
    ]


def test_moving_a_variants_column_is_not_a_change():
    """Two variants' columns swapped (names and values moved together): the
    name cells are matched by the name they hold, the other cells by parameter
    and variant, so nothing changed; a renamed variant is removed and added."""
    study = seed_study()
    both = study.variants.loc[["Baseline", "Power Optimized"]]

    sms = {"Baseline": 16, "Power Optimized": 24, "Low Power": 24}

    def cells(first, second):
        return [
            InputCell("Variants", "D3", "", "", first),
            InputCell("Variants", "D18", "sms_per_chiplet", first, sms[first]),
            InputCell("Variants", "E3", "", "", second),
            InputCell("Variants", "E18", "sms_per_chiplet", second, sms[second]),
        ]

    old = snapshot(cells("Baseline", "Power Optimized"), both)
    swapped = compare(old, snapshot(cells("Power Optimized", "Baseline"), both))
    assert swapped.inputs.empty and swapped.metrics.empty
    assert swapped.added == [] and swapped.removed == []
    renamed = both.rename(index={"Power Optimized": "Low Power"})
    got = compare(old, snapshot(cells("Baseline", "Low Power"), renamed))
    assert got.inputs[["cell", "parameter", "item"]].values.tolist() == [
        ["E3", "variant added", "Low Power"],
        ["E3", "variant removed", "Power Optimized"],
    ]


def test_snapshot_text_reads_back_equal():
    study, record = reader.read_recorded(ROOT / "templates" / "variants.xlsx")
    cells = [
        *record.cells,
        InputCell("Variants", "D7", "clock_mhz", "Baseline", 0.1 + 0.2),
        InputCell("Guide", "B2", "flag", "", True),
        InputCell("Guide", "B3", "blank", "", None),
    ]
    s = snapshot(cells, study.variants, info={"time": "t", "version": "v"})
    back = state.decode(state.encode(s))
    assert back.inputs == s.inputs
    assert back.inputs[-3].value == 0.1 + 0.2
    assert back.info == s.info
    pd.testing.assert_frame_equal(back.parameters, s.parameters, check_dtype=True)
    pd.testing.assert_frame_equal(back.metrics, s.metrics)


def test_copied_numbers_keep_every_digit():
    assert f"{state._Exact(0.1 + 0.2):.16G}" == "0.30000000000000004"
    assert float(f"{state._Exact(1e-300 / 3):.16G}") == 1e-300 / 3
    assert f"{state._Exact(128):.16G}" == "128.0"


def test_banner_formula_has_no_volatile_function_and_a_short_constant():
    f = banner.formula("xlmodel state", 'limits "typed" ' * 40)
    assert f.startswith("=IF('xlmodel state'!$B$2>0,")
    assert all(len(c) <= 255 for c in re.findall(r'"((?:[^"]|"")*)"', f))
    for name in ("NOW(", "TODAY(", "INDIRECT(", "OFFSET(", "RAND("):
        assert name not in f


# --- two computes of a workbook ---------------------------------------------------


def _sheet_part(z: zipfile.ZipFile, name: str) -> str:
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(name)}"[^>]*r:id="([^"]+)"', wb)
    rid = rid.group(1)
    t = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    return "xl/" + t.group(1).lstrip("/").removeprefix("xl/")


def _edit(src: Path, dst: Path, edits: list[tuple[str, str, str]]) -> None:
    """Copy ``src`` to ``dst`` with cached values replaced in the sheet XML."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        parts = {_sheet_part(zin, sheet): [] for sheet, _, _ in edits}
        for sheet, cell, value in edits:
            parts[_sheet_part(zin, sheet)].append((cell, value))
        for item in zin.infolist():
            data = zin.read(item.filename)
            for cell, value in parts.get(item.filename, []):
                text, n = re.subn(
                    rf'(<c r="{cell}"[^>]*>)<v>[^<]*</v>',
                    rf"\g<1><v>{value}</v>",
                    data.decode(),
                )
                assert n == 1, (item.filename, cell)
                data = text.encode()
            zout.writestr(item, data)


def _rows(path: Path, sheet: str) -> list[list]:
    wb = openpyxl.load_workbook(path)
    return [
        [v for v in row if v is not None]
        for row in wb[sheet].iter_rows(values_only=True)
        if any(v is not None for v in row)
    ]


def _table(path: Path, sheet: str, header: str) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    rows = list(ws.iter_rows(values_only=True))
    r0 = next(i for i, r in enumerate(rows) if r[0] == header)
    head = [h for h in rows[r0] if h is not None]
    out = []
    for r in rows[r0 + 1 :]:
        if r[0] is None:
            break
        out.append(list(r[: len(head)]))
    return pd.DataFrame(out, columns=head)


SMS = f"D{variant_rows()['sms_per_chiplet'] + 1}"  # Baseline's column
CLOCK = f"D{variant_rows()['clock_mhz'] + 1}"
DENSITY = f"B{targets.rows()['density_target_tflops_per_mm2'] + 1}"
EDITS = [
    ("Variants", SMS, "24"),
    ("Variants", CLOCK, "1500"),
    ("Targets", DENSITY, "0.75"),
]


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    d = tmp_path_factory.mktemp("changes")
    first = d / "first.xlsx"
    write_template(first)
    pipeline.compute(first)
    edited = d / "edited.xlsx"
    _edit(first, edited, EDITS)
    second = d / "second.xlsx"
    pipeline.compute(edited, second)
    return first, edited, second


def test_first_compute_says_there_is_no_previous_run(computed):
    first, _, _ = computed
    text = " ".join(str(v) for row in _rows(first, "Changes") for v in row)
    assert "No previous run: this is the first xlmodel compute" in text
    wb = openpyxl.load_workbook(first)
    assert wb["xlmodel state"].sheet_state == "veryHidden"


def test_second_compute_lists_exactly_the_edited_inputs(computed):
    first, _, second = computed
    t = _table(second, "Changes", "Sheet")
    got = sorted(zip(t["Sheet"], t["Cell"], t["Previous value"], t["New value"]))
    old = openpyxl.load_workbook(first, data_only=True)
    want = sorted(
        (sheet, cell, old[sheet][cell].value, float(value))
        for sheet, cell, value in EDITS
    )
    assert [(s, c, o) for s, c, o, _ in got] == [(s, c, o) for s, c, o, _ in want]
    assert [float(n) for *_, n in got] == [n for *_, n in want]
    assert set(t["Parameter"]) == {
        "sms_per_chiplet",
        "clock_mhz",
        "density_target_tflops_per_mm2",
    }


def test_shares_sum_to_each_moved_metric(computed):
    _, _, second = computed
    moved = _table(second, "Changes", "Variant")
    assert set(moved["Variant"]) == {"Baseline"}  # the only variant edited
    assert "target_peak_tflops" in set(moved["Metric"])
    wb = openpyxl.load_workbook(second)
    rows = list(wb["Changes"].iter_rows(values_only=True))
    r0 = next(i for i, r in enumerate(rows) if r[3] == "Changed parameter")
    shares = pd.DataFrame(
        [r[:10] for r in rows[r0 + 1 :] if r[0] is not None],
        columns=[h for h in rows[r0][:10]],
    )
    assert set(shares["Method"]) == {changes.SHAPLEY}
    for rec in moved.itertuples(index=False):
        mine = shares[shares["Metric"] == rec.Metric]
        # the density target moves no headline metric: left out
        assert set(mine["Changed parameter"]) <= {"sms_per_chiplet", "clock_mhz"}
        total = mine["Share of the change (metric's unit)"].sum()
        assert total == pytest.approx(rec.Change, rel=1e-9, abs=1e-12)
    peak = shares[shares["Metric"] == "target_peak_tflops"].set_index(
        "Changed parameter"
    )
    # peak = K s c with s x 1.5 and clock x 0.75: f(s1) = 1.5 f0, f(c1) = 0.75 f0,
    # f1 = 1.125 f0, so share(s) = ((1.5 - 1) + (1.125 - 0.75)) / 2 f0 = 0.4375 f0
    # and share(clock) = ((0.75 - 1) + (1.125 - 1.5)) / 2 f0 = -0.3125 f0
    f0 = moved.set_index("Metric").loc["target_peak_tflops", "Previous"]
    assert peak.loc["sms_per_chiplet", "Share of the change (metric's unit)"] == (
        pytest.approx(0.4375 * f0)
    )
    assert peak.loc["clock_mhz", "Share of the change (metric's unit)"] == (
        pytest.approx(-0.3125 * f0)
    )
    assert "density_target_tflops_per_mm2" not in peak.index
    assert peak.loc["sms_per_chiplet", "Input cells"] == f"Variants!{SMS}"


#: Result sheets whose numbers need Python: their banner is in A3.
_STALE_SHEETS = (
    "Summary",
    "Roofline",
    "Inference charts",
    "Scaling",
    "Sensitivity",
    "Reality check",
    "Changes",
)


def test_user_sheets_keep_their_bytes_and_banners_are_off(computed):
    _, edited, second = computed
    with zipfile.ZipFile(edited) as a, zipfile.ZipFile(second) as b:
        for sheet in ("Variants", "Targets", "Coefficients", "Guide", "Cost setup"):
            assert a.read(_sheet_part(a, sheet)) == b.read(_sheet_part(b, sheet))
    wb = openpyxl.load_workbook(second)
    for sheet in _STALE_SHEETS:
        assert wb[sheet]["A3"].value == banner.formula("xlmodel state")
    assert wb["Inference"]["A5"].value == banner.formula("xlmodel state")
    values = openpyxl.load_workbook(second, data_only=True)
    assert values["xlmodel state"]["B2"].value == 0
    for sheet in ("Summary", "Roofline", "Sensitivity"):
        assert values[sheet]["A3"].value in (None, "")


def test_state_copies_what_the_reader_read(computed):
    _, _, second = computed
    wb = openpyxl.load_workbook(second)
    ws = wb["xlmodel state"]
    ranges = {}
    for r in range(5, 40):
        if ws.cell(r, 1).value is None:
            break
        ranges[ws.cell(r, 1).value] = (ws.cell(r, 2).value, ws.cell(r, 3).value)
    assert {"Variants", "Targets", "Coefficients", "Workloads"} <= set(ranges)
    source, copy = ranges["Variants"]
    assert source.startswith("$D$3:")  # the variant names and their values
    (src,) = [wb["Variants"][source]]
    (dst,) = [ws[copy]]
    for a_row, b_row in zip(src, dst):
        assert [c.value for c in a_row] == [c.value for c in b_row]


def test_diff_command_prints_the_same_changes(computed):
    first, edited, _ = computed
    runner = CliRunner()
    got = runner.invoke(main, ["diff", str(first), str(edited)])
    assert got.exit_code == 0, got.output
    assert "Inputs that changed: 3" in got.output
    assert f"Variants!{SMS} sms_per_chiplet (Baseline): 16 -> 24" in got.output
    assert "Baseline target_peak_tflops" in got.output
    bad = runner.invoke(main, ["diff", str(first), str(first.with_name("none.xlsx"))])
    assert bad.exit_code == 2
    assert "no such file" in bad.output and "Traceback" not in bad.output


# --- LibreOffice recalculates the banner ------------------------------------------

_RECALC = (
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
)


def _recalculated(src: Path, out: Path, profile: Path) -> openpyxl.Workbook:
    """``src`` opened by LibreOffice (every formula recalculated on loading) and
    saved again as .xlsx; the cached values read back."""
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items '
        'xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + _RECALC
        + "</oor:items>\n"
    )
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(src),
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    return openpyxl.load_workbook(out / src.name, data_only=True)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_banner_turns_on_after_an_edit_and_off_after_compute(computed, tmp_path):
    first, edited, second = computed
    profile = tmp_path / "lo-profile"
    text = banner.BANNER_TEXT
    sheets = _STALE_SHEETS
    wb = _recalculated(first, tmp_path / "a", profile)
    assert wb["xlmodel state"]["B2"].value == 0
    assert all(wb[s]["A3"].value in (None, "") for s in sheets)
    wb = _recalculated(edited, tmp_path / "b", profile)
    assert wb["xlmodel state"]["B2"].value == len(EDITS)
    assert all(wb[s]["A3"].value == text for s in sheets)
    wb = _recalculated(second, tmp_path / "c", profile)
    assert wb["xlmodel state"]["B2"].value == 0
    assert all(wb[s]["A3"].value in (None, "") for s in sheets)


# --- the live sheets' banner: what their formulas do not follow ---------------------

_LIVE_SHEETS = ("Performance", "Power", "Cost")


def _uno_edit(source: Path, target: Path, ops: list) -> openpyxl.Workbook:
    """``source`` edited by LibreOffice; its cached values read back."""
    return openpyxl.load_workbook(libreoffice_edit(source, target, ops), data_only=True)


def test_unfollowed_inputs_are_the_choices_defaults_and_node_table(computed):
    first, _, _ = computed
    wb = openpyxl.load_workbook(first)
    ws = wb["xlmodel state"]
    assert ws["E2"].value.startswith("=SUM($E$5:")
    checks = [
        ws.cell(r, 5).value
        for r in range(5, ws.max_row + 1)
        if isinstance(ws.cell(r, 5).value, str)
    ]
    text = " ".join(checks)
    precision = f"'Targets'!$B${targets.rows()['target_precision'] + 1}"
    assert precision in text  # a choice: the formulas were traced for it
    assert f"'Variants'!${CLOCK[0]}${CLOCK[1:]}" not in text  # followed
    assert "'Cost setup'!" in text  # the node table fills blank cost inputs
    for sheet in _LIVE_SHEETS:
        assert wb[sheet]["A3"].value == banner.formula("xlmodel state", live=True)


@pytest.mark.libreoffice
@pytest.mark.skipif(not has_uno(), reason="LibreOffice's Python UNO bridge is missing")
def test_live_sheets_flag_a_changed_choice_not_a_followed_number(computed, tmp_path):
    first, _, _ = computed
    precision = f"B{targets.rows()['target_precision'] + 1}"
    wb = _uno_edit(
        first, tmp_path / "number.xlsx", [["value", "Variants", CLOCK, 1500]]
    )
    assert wb["xlmodel state"]["B2"].value == 1
    assert wb["xlmodel state"]["E2"].value == 0  # the live formulas follow it
    assert wb["Summary"]["A3"].value == banner.BANNER_TEXT
    assert all(wb[s]["A3"].value in (None, "") for s in _LIVE_SHEETS)
    wb = _uno_edit(
        first, tmp_path / "choice.xlsx", [["text", "Targets", precision, "FP8"]]
    )
    assert wb["xlmodel state"]["E2"].value == 1
    assert all(wb[s]["A3"].value == banner.LIVE_BANNER_TEXT for s in _LIVE_SHEETS)


# --- saved formula results, trusted from compute to compute -------------------------

L2 = f"D{variant_rows()['l2_cache_mb'] + 1}"  # Baseline's L2


def _rewrite(src: Path, dst: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """``src`` copied to ``dst``, each part named in ``edits`` with its one
    match of the pattern replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in edits:
                pattern, repl = edits[item.filename]
                text, n = re.subn(pattern, repl, data.decode())
                assert n == 1, (item.filename, pattern)
                data = text.encode()
            zout.writestr(item, data)
    return dst


def test_a_trusted_saved_zero_stays_trusted_after_computes(tmp_path):
    """An input formula whose saved result is 0, in a file that does not ask for
    a recalculation, is trusted; xlmodel's compute then asks for one on
    opening (its results hold formulas), and the next compute still trusts
    the 0: it is the result the formula had, not a script's placeholder. The
    formula uses a function xlmodel does not evaluate, so an untrusted 0 is
    refused."""
    src = tmp_path / "src.xlsx"
    write_template(src)
    with zipfile.ZipFile(src) as z:
        variants = _sheet_part(z, "Variants")
    zero = (rf'(<c r="{L2}"[^>]*>)<v>[^<]*</v>', r"\g<1><f>INT(0.4)</f><v>0</v>")
    excel = (r' fullCalcOnLoad="1"', "")  # as Excel saves it
    book = _rewrite(
        src, tmp_path / "book.xlsx", {variants: zero, "xl/workbook.xml": excel}
    )
    assert reader.read_study(book).variants.loc["Baseline", "l2_cache_mb"] == 0
    pipeline.compute(book)
    with zipfile.ZipFile(book) as z:
        assert b'fullCalcOnLoad="1"' in z.read("xl/workbook.xml")
        state_part = _sheet_part(z, "xlmodel state")
    assert openpyxl.load_workbook(book)["xlmodel state"]["B3"].value is True
    pipeline.compute(book)  # refused without the state's word
    assert reader.read_study(book).variants.loc["Baseline", "l2_cache_mb"] == 0
    # a workbook that asked for a recalculation itself keeps its 0 untrusted
    state = openpyxl.load_workbook(book)["xlmodel state"]
    assert state["A3"].value == "saved results of input formulas trusted"
    no = (r'(<c r="B3"[^>]*t="b"[^>]*>)<v>1</v>', r"\g<1><v>0</v>")
    untrusted = _rewrite(book, tmp_path / "untrusted.xlsx", {state_part: no})
    with pytest.raises(InputProblemsError, match="INT"):
        reader.read_study(untrusted)
