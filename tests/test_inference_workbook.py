"""LLM inference in the workbook: Models and Serving setup in, the Inference sheet out.

The template computes an Inference sheet for its five variants; the sheet is read
back (pandas, openpyxl) and set beside ``xlmodel.serve``; a model row a user adds
is served; bad model and scenario rows are one line each with exit status 2 and
the file untouched; a workbook from before the sheets existed computes as before.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from make_input_corpus import BLANK, modify, write
from openpyxl.utils.cell import range_boundaries
from test_hardening import _FUZZ, CELL_VALUES, _compute_checked
from test_report import chart_parts, formulas

import xlmodel
from xlmodel.cli import main
from xlmodel.errors import InputProblems
from xlmodel.studies.inference import (
    DEFAULT_SCENARIOS,
    SCENARIO_FIELDS,
    batch_sweep,
    load_models,
)
from xlmodel.studies.run import run
from xlmodel.workbook.inputs import serving_setup
from xlmodel.workbook.inputs.models import BLOCK as MODELS
from xlmodel.workbook.inputs.serving_setup import SCENARIOS, SERVED, SETTINGS
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.report import SHEETS, sheets_for

VARIANTS = [
    "Baseline",
    "Realistic Optimized",
    "High SM Density",
    "Aggressive Optimized",
    "Power Optimized",
]
MODELS_SHIPPED = ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b"]
HEADER_ROW = 5  # zero-based header row of the Inference table
# A small mixture of experts a user might add (no published count).
TINY_MOE = {
    "layers": 4,
    "hidden_size": 1024,
    "attention_heads": 16,
    "kv_heads": 4,
    "head_dim": 64,
    "ffn_size": 2816,
    "ffn_matrices": 3,
    "vocab_size": 32000,
    "tied_embeddings": 1,
    "experts": 4,
    "active_experts": 2,
}


def a1(row: int, col: int) -> str:
    """A1 name of a zero-based cell."""
    return f"{openpyxl.utils.get_column_letter(col + 1)}{row + 1}"


def model_cell(row: int, field: str) -> str:
    """A1 name on Models of data row ``row`` (0: the first) in column ``field``."""
    return a1(MODELS.row + 1 + row, MODELS.col + MODELS.header.index(field))


def scenario_cell(row: int, field: str) -> str:
    return a1(SCENARIOS.row + 1 + row, SCENARIOS.col + SCENARIOS.header.index(field))


def setting_cell(name: str) -> str:
    k = [p.name for p in serving_setup.MERIT_SETTINGS].index(name)
    return a1(SETTINGS.row + 1 + k, SETTINGS.col + 1)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compute(path: Path, *args: str):
    return CliRunner().invoke(main, ["compute", str(path), *args])


def inference_sheet(path: Path) -> pd.DataFrame:
    """The Inference table as pandas reads it (header row, one row per line)."""
    frame = pd.read_excel(
        path, sheet_name="Inference", header=HEADER_ROW, keep_default_na=False
    )  # "n/a" is a written value, not a missing one
    frame = frame.loc[:, ~frame.columns.astype(str).str.startswith("Unnamed")]
    return frame[frame["Variant"] != ""].reset_index(drop=True)


def side_table(ws, title: str) -> list[tuple]:
    """Rows of the side table below the heading ``title`` (openpyxl, until blank)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == title:
                r, c = cell.row + 2, cell.column
                out = []
                while ws.cell(r, c).value is not None:
                    width = 0
                    while ws.cell(cell.row + 1, c + width).value is not None:
                        width += 1
                    out.append(tuple(ws.cell(r, c + k).value for k in range(width)))
                    r += 1
                return out
    raise AssertionError(f"{title!r} not on {ws.title}")


def find_prefix(ws, prefix: str) -> str:
    for row in ws.iter_rows(values_only=True):
        for v in row:
            if isinstance(v, str) and v.startswith(prefix):
                return v
    raise AssertionError(f"no cell starting {prefix!r} on {ws.title}")


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inference")
    path = write(folder / "variants.xlsx")
    export = folder / "out"
    result = compute(path, "--export-dir", str(export))
    assert result.exit_code == 0, result.output
    return path, export


@pytest.fixture(scope="module")
def sheet(computed) -> pd.DataFrame:
    return inference_sheet(computed[0])


@pytest.fixture(scope="module")
def study(computed):
    return read_study(computed[0])


# --- the template's inputs ----------------------------------------------------------


def test_template_holds_the_shipped_models_and_default_scenarios(tmp_path):
    study = read_study(write(tmp_path / "t.xlsx"))
    s = study.serving
    shipped = load_models()
    pd.testing.assert_frame_equal(
        s.models.drop(columns="source"),
        shipped.drop(columns="source"),
        check_names=False,
    )
    assert list(s.models["source"]) == list(shipped["source"])
    expected = DEFAULT_SCENARIOS.reindex(columns=list(SCENARIO_FIELDS))
    assert list(s.scenarios.index) == list(expected.index)
    for f in ("input_tokens", "output_tokens", "batch", "tp"):
        np.testing.assert_array_equal(s.scenarios[f], expected[f].astype(float))
    assert list(s.scenarios["precision"]) == ["FP8"] * 5
    assert s.scenarios["kv_precision"].isna().all()
    assert s.served == [] and s.served_models == MODELS_SHIPPED
    assert s.merit == ("llama-3.1-70b", "chat")
    # every shipped definition is within 2 % of its published count: no warning
    assert not any("published" in w for w in study.warnings)


# --- the Inference sheet of the template --------------------------------------------


def test_template_computes_an_inference_sheet_after_roofline(computed):
    path, _ = computed
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Inference" in SHEETS
    assert names.index("Inference") == names.index("Roofline") + 1
    assert names.index("Inference charts") == names.index("Inference") + 1
    assert names[names.index("Summary") :] == list(SHEETS)


def test_inference_prints_its_naming_columns_on_every_band_and_nothing_beside(
    computed,
):
    """The table is wider than a page: each later band repeats Variant, Model
    and Scenario, and no chart or side table shares the sheet (they would print
    beside a column of names that are not theirs)."""
    ws = openpyxl.load_workbook(computed[0])["Inference"]
    assert ws.print_title_cols == "$A:$C"
    assert not ws._charts
    areas = str(ws.print_area).split(",")
    assert len(areas) >= 2  # bands of columns
    last = range_boundaries(areas[-1].split("!")[-1])[2]
    assert last == len(inference_sheet(computed[0]).columns)  # the table's own
    charts = openpyxl.load_workbook(computed[0])["Inference charts"]
    assert len(charts._charts) == 2 and charts.print_title_cols is None


def test_one_row_per_variant_model_and_scenario(sheet):
    assert len(sheet) == 5 * 4 * 5
    assert list(dict.fromkeys(sheet["Variant"])) == VARIANTS
    assert list(dict.fromkeys(sheet["Model"])) == MODELS_SHIPPED
    assert list(dict.fromkeys(sheet["Scenario"])) == list(DEFAULT_SCENARIOS.index)
    for header in (
        "TTFT (s)",
        "TPOT (ms)",
        "Output tokens/s, tp packages",
        "Output tokens/s per package",
        "Output tokens/s per W",
        "Max batch (sequences)",
        "Prefill bound by",
        "Decode bound by",
        "Fits",
    ):
        assert header in sheet.columns, header


def test_a_model_that_does_not_fit_is_said_in_words(sheet):
    # 405e9 weights at one byte each (FP8) cannot fit 8 stacks x 24 GB x 1.02 =
    # 195.84 GB: every 405B row says so, with n/a where nothing is served.
    big = sheet[sheet["Model"] == "llama-3.1-405b"]
    assert len(big) == 25 and set(big["Fits"]) == {"does not fit"}
    assert (big["Weights per package (GB)"] > 405).all()
    assert np.allclose(big["Usable HBM per package (GB)"], 8 * 24 * 1.02)
    for col in ("TTFT (s)", "TPOT (ms)", "Output tokens/s, tp packages"):
        assert set(big[col]) == {"n/a"}, col
    assert set(big["Max batch (sequences)"]) == {0}
    assert set(sheet.loc[sheet["Model"] != "llama-3.1-405b", "Fits"]) == {"yes"}


@pytest.mark.parametrize(
    "variant, model, scenario",
    [
        ("Baseline", "llama-3.1-70b", "chat"),
        ("Aggressive Optimized", "mixtral-8x7b", "balanced"),
        ("Power Optimized", "llama-3.1-8b", "interactive"),
        ("High SM Density", "llama-3.1-8b", "long context"),
    ],
)
def test_sheet_cells_match_serve(sheet, study, variant, model, scenario):
    sc = DEFAULT_SCENARIOS.loc[scenario]
    batch = None if pd.isna(sc["batch"]) else int(sc["batch"])
    want = xlmodel.serve(
        study.variants.loc[[variant]],
        model,
        int(sc["input_tokens"]),
        int(sc["output_tokens"]),
        "FP8",
        batch=batch,
        tp=1,
    ).iloc[0]
    (got,) = [
        row
        for _, row in sheet.iterrows()
        if (row["Variant"], row["Model"], row["Scenario"]) == (variant, model, scenario)
    ]
    assert got["Fits"] == "yes" and bool(want["fits"])
    pairs = {
        "TTFT (s)": want["ttft_s"],
        "TPOT (ms)": want["tpot_s"] * 1e3,
        "Output tokens/s, tp packages": want["output_tokens_per_s"],
        "Output tokens/s per package": want["output_tokens_per_s_per_package"],
        "Tokens/s per user (1/TPOT)": 1 / want["tpot_s"],
        "Output tokens/s per W": want["tokens_per_s_per_w"],
        "Batch (sequences)": want["batch"],
        "Max batch (sequences)": want["max_batch"],
    }
    for col, value in pairs.items():
        assert float(got[col]) == pytest.approx(float(value), rel=1e-12), col
    assert got["Prefill bound by"] == want["prefill_bound"]
    assert got["Decode bound by"] == want["decode_bound"]
    # throughput is the batch's output over a request's life
    life = want["ttft_s"] + (sc["output_tokens"] - 1) * want["tpot_s"]
    assert float(got["Output tokens/s, tp packages"]) == pytest.approx(
        want["batch"] * sc["output_tokens"] / life, rel=1e-12
    )


def test_calibration_is_stated_on_the_sheet(computed):
    ws = openpyxl.load_workbook(computed[0])["Inference"]
    line = find_prefix(ws, "Calibration: ")
    assert "79 published H100 SXM5 measurements only" in line
    assert re.search(r"175 published measurements of other chips is \d+\.\d %", line)
    spread = find_prefix(ws, "Median per chip: ")
    assert "within 10 % on H200 SXM" in spread and "optimistic on" in spread


def test_models_table_sets_the_count_beside_the_published_one(computed):
    ws = openpyxl.load_workbook(computed[0])["Inference charts"]
    rows = side_table(
        ws, "Models: parameter count of the definition beside the published one"
    )
    by = {r[0]: r for r in rows}
    assert list(by) == MODELS_SHIPPED
    # Llama 3.1 8B by hand: 32 layers x (4096 x 4096 x 2 + 2 x 4096 x 1024
    # + 3 x 4096 x 14336 + 2 x 4096) + 2 x 128256 x 4096 + 4096
    layer = 4096 * 4096 * 2 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    total = 32 * layer + 2 * 128256 * 4096 + 4096
    name, served, computed_b, active_b, published, diff, within = by["llama-3.1-8b"]
    assert served == "yes" and within == "yes"
    assert computed_b == pytest.approx(total / 1e9, rel=1e-12)
    assert published == 8 and diff == pytest.approx((total / 8e9 - 1) * 100)
    assert by["mixtral-8x7b"][3] < by["mixtral-8x7b"][2] / 3  # 2 of 8 experts


def test_charts_bars_per_model_and_latency_against_throughput(computed):
    path, _ = computed
    charts = chart_parts(path)["Inference charts"]
    assert len(charts) == 2
    bars = next(x for x in charts if "<c:barChart>" in x)
    curve = next(x for x in charts if "<c:scatterChart>" in x)
    assert '<c:barDir val="col"/>' in bars and '<c:grouping val="clustered"/>' in bars
    assert bars.count("<c:ser>") == 5 and curve.count("<c:ser>") == 5
    assert curve.count('<c:logBase val="10"/>') == 2
    assert "Latency vs throughput: llama-3.1-70b, chat" in curve
    for xml in charts:
        assert all(f.startswith("'Inference charts'!$") for f in formulas(xml))
    ws = openpyxl.load_workbook(path)["Inference charts"]
    title = next(
        v
        for row in ws.iter_rows(values_only=True)
        for v in row
        if isinstance(v, str) and v.startswith("Chart data: output tokens/s")
    )
    data = side_table(ws, title)
    assert [r[0] for r in data] == [
        "llama-3.1-8b",
        "llama-3.1-70b",
        "llama-3.1-405b (does not fit)",
        "mixtral-8x7b",
    ]
    assert data[2][1:] == (None,) * 5  # no bar where the model does not fit
    sheet = inference_sheet(path)
    chat = sheet[(sheet["Scenario"] == "chat") & (sheet["Model"] == "llama-3.1-70b")]
    assert list(data[1][1:]) == list(chat["Output tokens/s, tp packages"])


def test_latency_chart_data_is_the_batch_sweep(computed, study):
    ws = openpyxl.load_workbook(computed[0])["Inference charts"]
    title = find_prefix(ws, "Chart data: llama-3.1-70b in scenario chat")
    rows = side_table(ws, title)
    sweep = batch_sweep(study.variants, "llama-3.1-70b", 128, 2048, "FP8")
    fits = sweep[sweep["fits"]]
    assert len(rows) == len(fits) > 5 * 5
    for (variant, batch, total, per_user, *_), (_, want) in zip(rows, fits.iterrows()):
        assert (variant, batch) == (want["variant"], want["batch"])
        assert total == pytest.approx(want["output_tokens_per_s"], rel=1e-12)
        assert per_user == pytest.approx(1 / want["tpot_s"], rel=1e-12)
    # a larger batch serves each user no faster; the largest charted batch is the
    # largest power of two within the max batch (345 for 70B at 128 + 2048 tokens)
    for variant in VARIANTS:
        speeds = [r[3] for r in rows if r[0] == variant]
        assert speeds == sorted(speeds, reverse=True), variant
    assert max(r[1] for r in rows) == 256


def test_inference_table_exported_as_csv(computed):
    _, export = computed
    table = pd.read_csv(export / "inference.csv")
    assert len(table) == 100
    assert {"variant", "model", "scenario", "ttft_s", "tpot_s", "fits"} <= set(table)
    big = table[table["model"] == "llama-3.1-405b"]
    assert big["ttft_s"].isna().all() and (big["output_tokens_per_s"] == 0).all()
    assert not table.loc[table["fits"], "ttft_s"].isna().any()
    sweep = pd.read_csv(export / "inference_batch_sweep.csv")
    assert len(sweep) == 5 * 12
    models = pd.read_csv(export / "inference_models.csv")
    assert list(models["model"]) == MODELS_SHIPPED


def test_merit_rows_for_the_summary(study):
    results = run(study)
    merit = results.serving_merit()
    assert list(merit.index) == VARIANTS
    assert set(merit["model"]) == {"llama-3.1-70b"} and set(merit["scenario"]) == {
        "chat"
    }
    t = results.inference
    row = t[
        (t["variant"] == "Baseline")
        & (t["model"] == "llama-3.1-70b")
        & (t["scenario"] == "chat")
    ].iloc[0]
    assert merit.loc["Baseline", "output_tokens_per_s"] == row["output_tokens_per_s"]


# --- what users change ----------------------------------------------------------------


def _add_model(ws, row: int, name: str, values: dict, published=None) -> None:
    r = MODELS.row + 1 + row
    ws.cell(r + 1, MODELS.col + 1, name)
    for f, v in values.items():
        ws.cell(r + 1, MODELS.col + 1 + MODELS.header.index(f), v)
    if published is not None:
        ws.cell(
            r + 1, MODELS.col + 1 + MODELS.header.index("published_params_b"), published
        )


def test_a_user_added_model_row_is_served(tmp_path):
    def change(wb):
        _add_model(wb["Models"], 4, "tiny-moe", TINY_MOE)
        _add_model(wb["Models"], 5, "wrong-count", TINY_MOE, published=9)

    path = modify(tmp_path / "user.xlsx", change)
    result = compute(path, "--no-export")
    assert result.exit_code == 0, result.output
    # the wrong published count is a warning naming its cell, not a problem
    cell = model_cell(5, "published_params_b")
    assert f"Models!{cell} published_params_b (wrong-count): 9 B published" in (
        result.output
    )
    sheet = inference_sheet(path)
    tiny = sheet[sheet["Model"] == "tiny-moe"]
    assert len(tiny) == 5 * 5
    study = read_study(path)
    want = xlmodel.serve(
        study.variants.loc[["Realistic Optimized"]], TINY_MOE, 1000, 1000, "FP8"
    ).iloc[0]
    got = tiny[
        (tiny["Variant"] == "Realistic Optimized") & (tiny["Scenario"] == "balanced")
    ].iloc[0]
    assert float(got["Output tokens/s, tp packages"]) == pytest.approx(
        want["output_tokens_per_s"], rel=1e-12
    )
    assert float(got["TTFT (s)"]) == pytest.approx(want["ttft_s"], rel=1e-12)
    ws = openpyxl.load_workbook(path)["Inference charts"]
    rows = side_table(
        ws, "Models: parameter count of the definition beside the published one"
    )
    by = {r[0]: r for r in rows}
    assert by["tiny-moe"][6] == "not published"
    assert by["wrong-count"][6] == "NO" and by["wrong-count"][4] == 9


def test_served_models_and_merit_choose_what_runs(tmp_path):
    def change(wb):
        ws = wb["Serving setup"]
        ws.cell(SERVED.row + 2, SERVED.col + 1, "MIXTRAL-8x7b")  # case-insensitive
        ws[setting_cell("summary_model")] = None  # blank: the first served
        ws[setting_cell("summary_scenario")] = "balanced"

    path = modify(tmp_path / "served.xlsx", change)
    study = read_study(path)
    assert study.serving.served_models == ["mixtral-8x7b"]
    assert study.serving.merit == ("mixtral-8x7b", "balanced")
    results = run(study)
    assert set(results.inference["model"]) == {"mixtral-8x7b"}
    assert len(results.inference) == 5 * 5
    assert set(results.inference_sweep["variant"]) == set(VARIANTS)
    assert list(results.inference_models["served"]) == [False, False, False, True]


def test_bad_model_rows_are_one_line_each_and_exit_2(tmp_path):
    def change(wb):
        ws = wb["Models"]
        _add_model(ws, 4, "bad-text", {**TINY_MOE, "hidden_size": "big"})
        _add_model(ws, 5, "bad-experts", {**TINY_MOE, "active_experts": 5})
        _add_model(ws, 6, "llama-3.1-8B", TINY_MOE)  # a duplicate, any case
        _add_model(ws, 7, "bad-gqa", {**TINY_MOE, "kv_heads": 5})
        _add_model(ws, 8, "bad-blank", {**TINY_MOE, "layers": None})
        _add_model(ws, 9, "bad-fraction", {**TINY_MOE, "ffn_size": 2816.5})
        # served and chosen for the Summary: no second line for the same row
        serving = wb["Serving setup"]
        serving.cell(SERVED.row + 2, SERVED.col + 1, "bad-text")
        serving[setting_cell("summary_model")] = "bad-text"

    path = modify(tmp_path / "bad.xlsx", change)
    before = sha(path)
    for command in ("validate", "compute"):
        result = CliRunner().invoke(main, [command, str(path)])
        assert result.exit_code == 2, result.output
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
        expected = [
            f"Models!{model_cell(4, 'hidden_size')} hidden_size (bad-text): 'big' "
            "is not a whole number",
            f"Models!{model_cell(5, 'active_experts')} active_experts (bad-experts): "
            "5 is more than experts (4)",
            f"Models!{model_cell(6, 'model')} model: 'llama-3.1-8B' is a duplicate "
            f"model (also Models!{model_cell(0, 'model')})",
            f"Models!{model_cell(7, 'kv_heads')} kv_heads (bad-gqa): 5 does not "
            "divide attention_heads (16)",
            f"Models!{model_cell(8, 'layers')} layers (bad-blank): '' is blank",
            f"Models!{model_cell(9, 'ffn_size')} ffn_size (bad-fraction): 2816.5 is "
            "not a whole number",
        ]
        assert len(errors) == len(expected), errors
        for line, fragment in zip(errors, expected):
            assert fragment in line, (fragment, line)
        assert "Traceback" not in result.output
    assert sha(path) == before


def test_bad_scenarios_are_one_line_each(tmp_path):
    path = write(
        tmp_path / "bad.xlsx",
        {
            "Serving setup": {
                scenario_cell(0, "precision"): "FP9",
                scenario_cell(1, "input_tokens"): 0,
                scenario_cell(2, "scenario"): "CHAT",
                scenario_cell(3, "batch"): 2.5,
                setting_cell("summary_scenario"): "nightly",
            }
        },
    )
    with pytest.raises(InputProblems) as e:
        read_study(path)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 4, lines  # the merit is checked once the scenarios are
    assert lines[0].startswith(f"Serving setup!{scenario_cell(0, 'precision')} ")
    assert "'FP9' is not one of FP4, FP8, INT8, FP16, BF16, FP32" in lines[0]
    assert "input_tokens (summarise): 0 is out of range" in lines[1]
    assert "'CHAT' is a duplicate scenario" in lines[2]
    assert "batch (long context): 2.5 is not a whole number" in lines[3]
    fixed = write(
        tmp_path / "merit.xlsx",
        {"Serving setup": {setting_cell("summary_scenario"): "nightly"}},
    )
    with pytest.raises(InputProblems) as e:
        read_study(fixed)
    (line,) = [str(p) for p in e.value.problems]
    assert line.startswith(f"Serving setup!{setting_cell('summary_scenario')} ")
    assert "'nightly' is not a scenario: expected one of chat, summarise" in line


def test_too_many_rows_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(serving_setup, "MAX_ROWS", 99)
    with pytest.raises(InputProblems) as e:
        read_study(write(tmp_path / "big.xlsx"))
    (line,) = [str(p) for p in e.value.problems]
    assert line.startswith(f"Serving setup!{a1(SCENARIOS.row, SCENARIOS.col)} ")
    assert (
        "scenarios: 100 rows of the inference table (5 variants x 4 models x 5 "
        "scenarios), more than 99" in line
    )


# --- asking for nothing ---------------------------------------------------------------


def test_blank_scenarios_ask_for_nothing(tmp_path):
    edits = {
        scenario_cell(r, f): BLANK
        for r in range(len(DEFAULT_SCENARIOS))
        for f in SCENARIOS.header
    }
    path = write(tmp_path / "blank.xlsx", {"Serving setup": edits})
    study = read_study(path)
    assert study.serving is None
    results = run(study)
    assert results.inference is None and "Inference" not in sheets_for(results)
    assert not any("inference" in name for name in results.tables())


def test_a_workbook_from_before_the_sheets_computes_as_before(tmp_path, computed):
    def old(wb):
        for title in ("Models", "Serving setup"):
            del wb[title]
        for name in list(wb.defined_names):
            if name in (
                "xlmodel_models",
                *(b.defined_name for b in serving_setup.BLOCKS),
            ):
                del wb.defined_names[name]

    path = modify(tmp_path / "old.xlsx", old)
    assert "Models" not in openpyxl.load_workbook(path, read_only=True).sheetnames
    study = read_study(path)
    assert study.serving is None
    assert not any("Models" in w or "Serving" in w for w in study.warnings)
    result = compute(path, "--no-export")
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Inference" not in names and "Inference charts" not in names
    assert names[names.index("Summary") :] == [
        s for s in SHEETS if not s.startswith("Inference")
    ]
    # every other result as the template's (the Run sheet records the time)
    for title in ("Performance", "Power", "Roofline", "Scaling", "Sensitivity"):
        a = pd.read_excel(path, sheet_name=title, header=None)
        b = pd.read_excel(computed[0], sheet_name=title, header=None)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_models_sheet_missing_serves_the_shipped_models(tmp_path):
    def no_models(wb):
        del wb["Models"]
        del wb.defined_names["xlmodel_models"]

    study = read_study(modify(tmp_path / "nomodels.xlsx", no_models))
    assert list(study.serving.models.index) == MODELS_SHIPPED
    assert any(
        w.startswith("Models: sheet not found") and "shipped models" in w
        for w in study.warnings
    )


def test_no_infinite_or_missing_number_where_a_model_fits(study):
    t = run(study).inference
    numbers = t.loc[t["fits"], t.select_dtypes("number").columns].to_numpy(float)
    assert np.isfinite(numbers).all()
    assert all(math.isfinite(x) for x in t["max_batch"])


# --- any value in the new sheets -------------------------------------------------------

SERVING_CELLS = (
    [("Models", model_cell(r, f)) for r in range(6) for f in MODELS.header]
    + [
        ("Serving setup", scenario_cell(r, f))
        for r in range(7)
        for f in SCENARIOS.header
    ]
    + [("Serving setup", a1(SERVED.row + 1 + r, SERVED.col)) for r in range(3)]
    + [("Serving setup", setting_cell(p.name)) for p in serving_setup.MERIT_SETTINGS]
)
VALID_VALUES = st.sampled_from(
    [1, 2, 3, 8, 64, 4096, 10_000_000, "FP4", "fp16", "FP32", "INT8", "chat", "x"]
)


@_FUZZ
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(SERVING_CELLS), st.one_of(CELL_VALUES, VALID_VALUES)),
        min_size=1,
        max_size=8,
    )
)
def test_any_values_in_models_and_serving_compute_or_fail_cleanly(
    edits, tmp_path_factory, monkeypatch
):
    # Through the CLI: exit 0 with every number finite (a row that does not fit
    # has no latencies) and no error cell, or exit 2 with only error lines and
    # the file untouched.
    sheets: dict[str, dict] = {}
    for (sheet, ref), value in edits:
        sheets.setdefault(sheet, {})[ref] = BLANK if value is None else value
    _compute_checked(tmp_path_factory.mktemp("fuzz"), sheets, monkeypatch)


@pytest.mark.parametrize(
    "edits",
    [
        {
            "Serving setup": {
                scenario_cell(0, "input_tokens"): 10_000_000,
                scenario_cell(0, "output_tokens"): 10_000_000,
                scenario_cell(0, "tp"): 1024,
                scenario_cell(0, "precision"): "FP4",
                scenario_cell(0, "kv_precision"): "FP4",
                scenario_cell(0, "activation_precision"): "FP32",
                scenario_cell(1, "output_tokens"): 1,
                scenario_cell(1, "batch"): 1_000_000,
            }
        },
        {
            "Models": {
                **{model_cell(0, f): 1 for f in MODELS.header[1:12]},
                model_cell(0, "tied_embeddings"): 0,
                model_cell(0, "published_params_b"): BLANK,
                model_cell(1, "experts"): 100_000,
                model_cell(1, "active_experts"): 100_000,
                model_cell(1, "vocab_size"): 10_000_000,
                model_cell(1, "ffn_matrices"): 4,
                model_cell(1, "tied_embeddings"): 1,
            }
        },
    ],
    ids=["extreme scenarios", "extreme models"],
)
def test_extreme_valid_definitions_compute(edits, tmp_path, monkeypatch):
    assert _compute_checked(tmp_path, edits, monkeypatch, fuzz=False) == 0


def test_a_blank_batch_reads_as_words_lined_up_with_the_numbers(computed):
    """The template's scenarios leave the batch blank but one (interactive, 8):
    "largest that fits" sits right-aligned in the number column like the 8, so
    it never reads as part of the output tokens beside it."""
    ws = openpyxl.load_workbook(computed[0])["Inference charts"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "Scenarios":
                head = cell.row + 1
    cols = {ws.cell(head, c).value: c for c in range(1, 12)}
    batch, out = cols["Batch (sequences)"], cols["Output tokens"]
    words = numbers = 0
    r = head + 1
    while ws.cell(r, 1).value is not None:
        cell = ws.cell(r, batch)
        if isinstance(cell.value, str):
            assert cell.value == "largest that fits"
            assert cell.alignment.horizontal == "right"
            words += 1
        else:
            assert cell.value == int(cell.value) > 0
            numbers += 1
        assert isinstance(ws.cell(r, out).value, (int, float))
        r += 1
    assert words >= 1 and numbers >= 1
