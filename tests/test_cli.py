"""The CLI end to end: init, validate, compute, exports, errors and re-runs."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from xlmodel.cli import main
from xlmodel.workbook.report import SHEETS

RESULT_SHEETS = list(SHEETS)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def workbook(tmp_path, runner):
    path = tmp_path / "variants.xlsx"
    r = runner.invoke(main, ["init", str(path)])
    assert r.exit_code == 0, r.output
    return path


def test_init_refuses_to_overwrite(workbook, runner):
    before = sha(workbook)
    r = runner.invoke(main, ["init", str(workbook)])
    assert r.exit_code == 2 and "exists" in r.output
    assert sha(workbook) == before


def test_validate_template_warns_about_seed_units(workbook, runner):
    r = runner.invoke(main, ["validate", str(workbook)])
    assert r.exit_code == 0, r.output
    assert "5 variant(s), inputs OK" in r.output
    assert "hbm_bandwidth_gbps_per_stack" in r.output  # 128 GB/s: a unit slip?


def test_compute_writes_seed_figures_and_exports(workbook, runner, tmp_path):
    export = tmp_path / "out"
    r = runner.invoke(main, ["compute", str(workbook), "--export-dir", str(export)])
    assert r.exit_code == 0, r.output
    # the console shows the seed's comparison, the advice and the seed's statements
    assert "Aggressive Optimized" in r.output
    assert "0.819" in r.output and "460" in r.output
    assert "No variant meets every target: none is recommended." in r.output
    assert "Best variant within the 500 W budget: Aggressive Optimized" in r.output
    assert "No variant meets the 2.0 TFLOPS/mm² FP16 density target" in r.output
    wb = load_workbook(workbook, read_only=True)
    names = wb.sheetnames
    wb.close()
    assert names[-len(RESULT_SHEETS) :] == RESULT_SHEETS
    assert "Variants" in names
    perf = pd.read_excel(workbook, sheet_name="Performance", header=None)
    flat = perf.to_numpy().ravel().tolist()
    for value in (65.536, 339.1488, 225.28, 983.04, 88.4736):
        assert any(isinstance(v, float) and abs(v - value) < 1e-9 for v in flat), value
    for name in (
        "roofline_fp16.png",
        "chiplet_scaling.png",
        "architecture_comparison.png",
        "sensitivity_analysis.png",
    ):
        assert (export / name).read_bytes()[:4] == b"\x89PNG"
    metrics = pd.read_csv(export / "metrics.csv").set_index("variant")
    assert round(metrics.loc["Baseline", "power_total_w"], 1) == 267.2
    assert (
        round(metrics.loc["Power Optimized", "density_fp16_tflops_per_mm2"], 3) == 0.058
    )


def test_compute_twice_replaces_results_and_keeps_inputs(workbook, runner, tmp_path):
    r1 = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert r1.exit_code == 0, r1.output
    with zipfile.ZipFile(workbook) as z:
        first = {n: z.read(n) for n in z.namelist()}
    r2 = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert r2.exit_code == 0, r2.output
    with zipfile.ZipFile(workbook) as z:
        second = {n: z.read(n) for n in z.namelist()}
    assert sorted(first) == sorted(second)
    wb = load_workbook(workbook, read_only=True)
    assert wb.sheetnames.count("Summary") == 1
    wb.close()


def test_compute_to_other_file_leaves_input_untouched(workbook, runner, tmp_path):
    before = sha(workbook)
    out = tmp_path / "results.xlsx"
    r = runner.invoke(main, ["compute", str(workbook), "-o", str(out), "--no-export"])
    assert r.exit_code == 0, r.output
    assert sha(workbook) == before
    with zipfile.ZipFile(workbook) as a, zipfile.ZipFile(out) as b:
        for name in a.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert a.read(name) == b.read(name), name


def test_bad_input_exit_2_one_line_each_file_untouched(workbook, runner, tmp_path):
    wb = load_workbook(workbook)
    ws = wb["Variants"]
    cells = {}
    for row in ws.iter_rows():
        key = row[0].value
        if key in ("clock_mhz", "num_chiplets"):
            cells[key] = row[3].coordinate
    ws[cells["clock_mhz"]] = "fast"
    ws[cells["num_chiplets"]] = -4
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    before = sha(bad)
    r = runner.invoke(main, ["compute", str(bad)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2, r.output
    assert any(f"Variants!{cells['clock_mhz']} clock_mhz: 'fast'" in e for e in errors)
    assert any(
        f"Variants!{cells['num_chiplets']} num_chiplets: -4" in e for e in errors
    )
    assert sha(bad) == before


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"not a workbook at all", "not"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    ],
)
def test_not_a_workbook(tmp_path, runner, content, fragment):
    p = tmp_path / "x.xlsx"
    p.write_bytes(content)
    r = runner.invoke(main, ["compute", str(p)])
    assert r.exit_code == 2, r.output
    assert fragment in r.output and "Traceback" not in r.output
    assert p.read_bytes() == content


def test_open_in_excel_refuses_to_write(workbook, runner):
    lock = workbook.parent / ("~$" + workbook.name)
    lock.write_bytes(b"owner")
    before = sha(workbook)
    r = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert r.exit_code == 2
    assert "open" in r.output.lower()
    assert sha(workbook) == before


def test_missing_file(tmp_path, runner):
    r = runner.invoke(main, ["validate", str(tmp_path / "nope.xlsx")])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_csv_export_is_safe_to_open(tmp_path):
    from xlmodel.pipeline import export
    from xlmodel.studies.run import run, seed_study

    study = seed_study()
    study.variants = study.variants.rename(index={"Baseline": "=HYPERLINK(1)"})
    study.sweep_base = "=HYPERLINK(1)"
    study.variants["density_target_tflops_per_mm2"] = 0.0  # margin = inf
    export(run(study), tmp_path)
    text = (tmp_path / "metrics.csv").read_text()
    assert "'=HYPERLINK(1)" in text
    assert "\n=HYPERLINK" not in text
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert metrics["density_margin"].isna().all()  # inf written blank
    assert "inf" not in text


def test_export_folder_that_cannot_be_made(workbook, runner, tmp_path):
    # refused before any work (it failed after the workbook was written)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    before = workbook.read_bytes()
    r = runner.invoke(
        main, ["compute", str(workbook), "--export-dir", str(blocker / "sub")]
    )
    assert r.exit_code == 2, r.output
    assert f"{blocker}: is not a folder; cannot make the export folder" in r.output
    assert "Traceback" not in r.output
    assert workbook.read_bytes() == before


def test_console_tables_keep_long_names_apart(tmp_path, runner):
    # two names alike in their first 24 characters: the console's comparison
    # and uncertainty tables cut them to labels that still tell them apart
    import xlsxwriter

    from xlmodel.schema import SEED_VARIANTS
    from xlmodel.workbook.template import fill_workbook

    seeds = list(SEED_VARIANTS.values())
    names = [
        "Baseline",
        "Eight-chiplet N3 HBM3E variant, twelve-high stacks",
        "Eight-chiplet N3 HBM3E variant, eight-high stacks",
    ]
    path = tmp_path / "long.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    fill_workbook(wb, {n: dict(seeds[i]) for i, n in enumerate(names)})
    wb.close()
    r = runner.invoke(main, ["compute", str(path)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("variant "))
    table = [x[:24].rstrip() for x in lines[start + 2 : start + 5]]
    assert table[0] == "Baseline"
    assert table[1] != table[2]
    for label, name in zip(table[1:], names[1:]):
        assert "…" in label and len(label) <= 24
        assert name.startswith(label.split("…")[0])
    u = next(i for i, x in enumerate(lines) if x.startswith("uncertainty ("))
    start = next(i for i in range(u, len(lines)) if lines[i].startswith("  variant"))
    drawn = [x[2:26].rstrip() for x in lines[start + 1 : start + 4]]
    assert drawn == table


def test_a_reader_that_stops_reading_leaves_the_work_done(workbook):
    """``xlmodel compute x.xlsx | head -1``: the reader closes the pipe before
    the summary is printed; the results stand, no error, exit 0."""
    import subprocess
    import sys

    p = subprocess.Popen(
        [sys.executable, "-m", "xlmodel.cli", "compute", str(workbook), "--no-export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()  # before anything is printed
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert "error" not in err and "Traceback" not in err
    assert "Summary" in load_workbook(workbook, read_only=True).sheetnames


def test_an_error_after_the_write_does_not_call_the_workbook_unchanged(
    workbook, runner, monkeypatch
):
    from xlmodel.cli import workbook as commands

    def broken(results):
        raise RuntimeError("printing failed")

    monkeypatch.setattr(commands, "format_comparison", broken)
    r = runner.invoke(main, ["compute", str(workbook), "--no-export"])
    assert r.exit_code == 1
    assert f"the results were written to {workbook} before it" in r.output
    assert "was not changed" not in r.output
    assert "Summary" in load_workbook(workbook, read_only=True).sheetnames
    # the next command of the same process starts with nothing written
    r = runner.invoke(main, ["validate", str(workbook.parent / "missing.xlsx")])
    assert "written" not in r.output


def test_output_never_replaces_a_file_xlmodel_did_not_write(workbook, runner, tmp_path):
    mine = tmp_path / "notes.xlsx"
    mine.write_bytes(b"my precious data")
    other = tmp_path / "other.xlsx"
    other.write_bytes(workbook.read_bytes())  # a workbook of inputs, no results
    for target in (mine, other):
        before = sha(target)
        r = runner.invoke(main, ["compute", str(workbook), "-o", str(target)])
        assert r.exit_code == 2, r.output
        (line,) = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
        assert f"{target}: exists and holds no results of an earlier compute" in line
        assert sha(target) == before
    # a target an earlier compute wrote is replaced, as in place
    out = tmp_path / "out.xlsx"
    for _ in range(2):
        r = runner.invoke(
            main, ["compute", str(workbook), "-o", str(out), "--no-export"]
        )
        assert r.exit_code == 0, r.output
    assert "Summary" in load_workbook(out, read_only=True).sheetnames
    # adopt's -o as compute's
    before = sha(mine)
    r = runner.invoke(main, ["adopt", str(out), "-d", "1", "-o", str(mine)])
    assert r.exit_code == 2 and "holds no results" in r.output, r.output
    assert sha(mine) == before


def test_output_without_a_workbooks_extension_is_refused(workbook, runner, tmp_path):
    """Excel opens a workbook only under a workbook's extension: ``-o x.csv``
    or ``-o results`` is refused before any work, nothing written; a
    macro-enabled or template name is a workbook's."""
    for name, named in (("out.csv", "ends in .csv"), ("results", "has no extension")):
        target = tmp_path / name
        for command in (
            ["compute", str(workbook), "--no-export"],
            ["adopt", str(workbook), "-d", "1"],
        ):
            r = runner.invoke(main, [*command, "-o", str(target)])
            assert r.exit_code == 2, r.output
            (line,) = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
            assert f"{target}: the output {named}" in line and ".xlsx" in line
            assert not target.exists()
    out = tmp_path / "Results.XLSM"
    r = runner.invoke(main, ["compute", str(workbook), "-o", str(out), "--no-export"])
    assert r.exit_code == 0, r.output
    assert "Summary" in load_workbook(out, read_only=True).sheetnames


def test_a_name_no_font_can_draw_is_one_warning_not_a_python_message(tmp_path, runner):
    # U+10FFFD (a private-use character no font draws) in a variant's name: the
    # PNG figures show a box for it, matplotlib warns per character and figure;
    # the console gets one line of ours instead (the suite turns any Python
    # warning into an error, which failed the compute before)
    from xlmodel.workbook.template import write_template

    odd = "Chip \U0010fffd"
    path = tmp_path / "odd.xlsx"
    write_template(path)
    wb = load_workbook(path)
    ws = wb["Variants"]
    row = next(r for r in range(1, 10) if ws.cell(r, 4).value == "Baseline")
    ws.cell(row, 5).value = odd
    wb.save(path)
    export = tmp_path / "out"
    r = runner.invoke(main, ["compute", str(path), "--export-dir", str(export)])
    assert r.exit_code == 0, r.output
    assert "UserWarning" not in r.output and "Glyph" not in r.output
    lines = [x for x in r.output.splitlines() if "show as boxes" in x]
    assert lines == [
        f"warning: PNG figures in {export}: the characters \U0010fffd of the names "
        "are in no installed font and show as boxes there (the workbook's charts "
        "use the fonts of the program that opens it)"
    ]
    assert (export / "architecture_comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert odd in pd.read_csv(export / "metrics.csv")["variant"].tolist()


def test_the_comparison_figure_marks_targets_of_their_own_over_each_bar():
    # budgets of 300-700 W, one per variant: a dash over each bar at its own
    # (the figure drew one line at the first variant's 300 W); one budget for
    # all: the seed's line across the panel
    from matplotlib.collections import LineCollection

    from xlmodel import plots
    from xlmodel.studies.run import run, seed_study

    metrics = run(seed_study()).metrics
    own = np.array([300.0, 400.0, 500.0, 600.0, 700.0])
    fig = plots.comparison_figure(metrics, 2.0, own)
    power = fig.axes[1]
    (dashes,) = [c for c in power.collections if isinstance(c, LineCollection)]
    heights = sorted(float(seg[0][1]) for seg in dashes.get_segments())
    assert heights == own.tolist()
    shared = plots.comparison_figure(metrics, 2.0, np.full(5, 500.0))
    lines = [ln for ln in shared.axes[1].get_lines() if ln.get_linestyle() == "--"]
    assert [tuple(ln.get_ydata()) for ln in lines] == [(500.0, 500.0)]
    assert not [c for c in shared.axes[1].collections if isinstance(c, LineCollection)]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["compute"], "error: Missing argument 'PATH'. (see 'xlmodel compute --help')"),
        (
            ["adopt", "v.xlsx", "--design", "x"],
            "error: Invalid value for '-d' / '--design': 'x' is not a valid integer. "
            "(see 'xlmodel adopt --help')",
        ),
        (
            ["compute", "v.xlsx", "--exprt-dir", "x"],
            "error: No such option '--exprt-dir'. (Did you mean one of: "
            "'--export-dir', '--no-export'?) (see 'xlmodel compute --help')",
        ),
        (["frobnicate"], "error: No such command 'frobnicate'. (see 'xlmodel --help')"),
    ],
    ids=["missing-path", "not-a-number", "mistyped-option", "no-such-command"],
)
def test_a_mistyped_command_line_is_one_line_exit_2(runner, args, expected):
    # click printed three lines (usage, a hint, the error) for these
    r = runner.invoke(main, args, prog_name="xlmodel")
    assert r.exit_code == 2, r.output
    assert r.output.strip() == expected


def test_a_folder_given_as_the_workbook_is_one_line(tmp_path, runner):
    folder = tmp_path / "d.xlsx"
    folder.mkdir()
    r = runner.invoke(main, ["validate", str(folder)], prog_name="xlmodel")
    assert r.exit_code == 2
    assert r.output.strip() == (
        f"error: Invalid value for 'PATH': File '{folder}' is a directory. "
        "(see 'xlmodel validate --help')"
    )


def test_the_scaling_figure_draws_one_budget_only_when_every_variant_has_it(
    tmp_path, monkeypatch
):
    # budgets of their own: no line across the panel (it was the first
    # variant's 300 W over every variant's curve); one budget: the seed's line
    from xlmodel import plots
    from xlmodel.pipeline import export
    from xlmodel.studies.run import run, seed_study

    drawn = []
    scaling = plots.scaling_figure

    def spy(study, save_path=None, power_budget_w=None):
        drawn.append(power_budget_w)
        return scaling(study, save_path, power_budget_w)

    monkeypatch.setattr(plots, "scaling_figure", spy)
    study = seed_study()
    export(run(study), tmp_path / "shared")
    study.variants["power_budget_w"] = [300.0, 400.0, 500.0, 600.0, 700.0]
    export(run(study), tmp_path / "own")
    assert drawn == [500.0, None]
