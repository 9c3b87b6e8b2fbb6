"""Start-up: the command imports only what it needs; the public API still resolves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "numpy",
    "pandas",
    "openpyxl",
    "xlsxwriter",
    "matplotlib",
    "dask",
    "distributed",
)
TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"

_LOADED = """
import json, sys
{code}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))
"""


def loaded_after(code: str) -> list[str]:
    """Heavy top-level packages imported by ``code`` in a fresh interpreter."""
    script = _LOADED.format(code=code, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_the_package_and_the_command_group_import_nothing_heavy():
    assert loaded_after("import xlmodel, xlmodel.cli") == []


def test_help_and_version_import_nothing_heavy():
    code = (
        "from xlmodel.cli import main\n"
        "for args in (['--help'], ['--version'], ['explore', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0\n"
    )
    assert loaded_after(code) == []


def _validate(path: Path, status: int) -> str:
    return (
        "from xlmodel.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(path)!r}])\n"
        "except SystemExit as e:\n"
        f"    assert e.code == {status}, e.code\n"
    )


def test_validate_needs_numpy_only():
    # The checks read Tables, not DataFrames: no pandas, no writer, no openpyxl.
    assert loaded_after(_validate(TEMPLATE, 0)) == ["numpy"]


def test_validate_of_a_workbook_with_problems_needs_numpy_only(tmp_path):
    bad = tmp_path / "bad.xlsx"
    _with_text_in_a_number(TEMPLATE, bad)
    assert loaded_after(_validate(bad, 2)) == ["numpy"]


def _with_text_in_a_number(src: Path, dst: Path) -> None:
    # The template with one variant's tensor cores per SM typed as a word (an input problem).
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb["Variants"]
    for row in ws.iter_rows():
        if row[0].value == "tensor_cores_per_sm":
            row[3].value = "many"
            break
    else:  # pragma: no cover - the template has the row
        raise AssertionError("no tensor_cores_per_sm row")
    wb.save(dst)


def test_validate_leaves_out_the_writer_the_charts_and_the_export():
    code = (
        "import sys\n"
        "from xlmodel.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(TEMPLATE)!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('xlmodel'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "xlmodel.workbook.reader" in loaded
    for name in (
        "xlmodel.workbook.report",
        "xlmodel.workbook.charts",
        "xlmodel.workbook.chart_xml",
        "xlmodel.export",
        "xlmodel.plots",
    ):
        assert name not in loaded, name


def test_the_pipeline_binds_its_lazy_names_on_first_use():
    from xlmodel import pipeline
    from xlmodel.studies.run import run
    from xlmodel.workbook import report

    assert pipeline.report is report and pipeline.run is run
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pipeline.nope  # noqa: B018


def test_the_public_api_resolves_on_first_use():
    import xlmodel

    for name in xlmodel.__all__:
        assert getattr(xlmodel, name) is not None
    from xlmodel import SoCConfig, evaluate

    assert evaluate({})["total_sms"].iloc[0] == SoCConfig().total_sms
    assert xlmodel.engine.evaluate is evaluate and "evaluate" in dir(xlmodel)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        xlmodel.nope  # noqa: B018
