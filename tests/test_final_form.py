"""Result sheets laid out in final form give the workbook the splice gave.

The results workbook's sheets may be written with the merged style indices and
inline strings (final form), so that the splice copies their cell data as it
is. Every part of the output is compared with the output of the writer's own
form, rewritten by the splice, on workbooks whose styles differ: the template,
a computed template (its styles already hold the results'), one without a
styles part, one with many formats of its own, one at Excel's limit of
formats that already holds the results', styles written otherwise (UTF-16,
comments, prefixes), a workbook outside ``xl/`` and a computed workbook saved
again by LibreOffice and by Gnumeric. The two ways back to the
writer's form are proved the same way: styles that changed between their
reading and the splice, and a sheet that numbers a format the settling missed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import make_package_corpus as corpus
import pytest
from conftest import libreoffice_convert

from xlmodel import pipeline
from xlmodel.workbook import assembly
from xlmodel.workbook.package import inspect_package

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Workbook contains no default style:UserWarning",
)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _compute(src: Path, folder: Path) -> Path:
    """``src`` computed as ``folder/book.xlsx`` (the same name in every folder:
    the Run sheet names the input file)."""
    folder.mkdir()
    path = folder / "book.xlsx"
    shutil.copy(src, path)
    pipeline.compute(path, now=NOW)
    return path


def _writers_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compute's results written in the writer's own form from now on."""
    plain = pipeline._results_parts

    def write(results, names, run_info, styles=NotImplemented):
        return plain(results, names, run_info)

    monkeypatch.setattr(pipeline, "_results_parts", write)


def _noting_maps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Compute's results written as ever; the style maps of each write (None:
    the writer's form) noted in the list returned."""
    plain = pipeline._results_parts
    maps: list[object] = []

    def noted(results, names, run_info, styles=NotImplemented):
        got = plain(results, names, run_info, styles)
        maps.append(got[1])
        return got

    monkeypatch.setattr(pipeline, "_results_parts", noted)
    return maps


def _assert_writers_bytes(
    got: Path, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``got``, computed from ``src``, holds every part ``src`` computed in
    the writer's own form holds, in order, byte for byte (what the test
    patched undone first)."""
    monkeypatch.undo()
    _writers_form(monkeypatch)
    own = _compute(src, tmp_path / "own")
    a, b = _parts(got), _parts(own)
    assert list(a) == list(b)
    assert [n for n in a if a[n] != b[n]] == []


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("final-inputs")
    computed = folder / "computed.xlsx"
    shutil.copy(TEMPLATE, computed)
    pipeline.compute(computed, now=NOW)
    return {
        "template": TEMPLATE,
        "computed": computed,
        "no-styles": corpus.template_without_styles(TEMPLATE, folder / "none.xlsx"),
        "many-formats": corpus.template_with_cell_formats(
            TEMPLATE, folder / "many.xlsx", 3_000
        ),
        # the results' formats already there, after 64,000 of the user's
        "full-styles": corpus.template_with_cell_formats(
            TEMPLATE, folder / "full.xlsx", 64_000, styles_from=computed
        ),
        # styles part (and the other edited parts) in UTF-16, with comments,
        # instructions, CDATA, prefixes, odd quotes and whitespace
        "utf-16": corpus.write_variant(TEMPLATE, folder / "u16.xlsx", "utf-16").path,
        "everything": corpus.write_variant(
            TEMPLATE, folder / "every.xlsx", "everything"
        ).path,
        "outside-xl": corpus.template_outside_xl(TEMPLATE, folder / "outside.xlsx"),
    }


CASES = [
    "template",
    "computed",
    "no-styles",
    "many-formats",
    "full-styles",
    "utf-16",
    "everything",
    "outside-xl",
]


@pytest.mark.parametrize("case", CASES)
def test_final_form_is_the_splices_rewrite(
    inputs: dict[str, Path],
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _noting_maps(monkeypatch)
    final = _compute(inputs[case], tmp_path / "final")
    assert len(calls) == 1 and calls[0] is not None, "not written in final form"
    _assert_writers_bytes(final, inputs[case], tmp_path, monkeypatch)


def test_styles_changed_before_the_splice_are_written_again(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maps worked out for other styles: the splice refuses them, the
    results are written again in the writer's form, the output the same."""
    other = inspect_package(inputs["many-formats"]).styles
    assert other is not None
    plain = pipeline._results_parts
    given: list[object] = []

    def stale(results, names, run_info, styles=NotImplemented):
        given.append(styles)
        if styles is NotImplemented:
            return plain(results, names, run_info)
        got = plain(results, names, run_info, other)
        assert got[1] is not None
        return got

    monkeypatch.setattr(pipeline, "_results_parts", stale)
    got = _compute(TEMPLATE, tmp_path / "stale")
    assert len(given) == 2 and given[1] is NotImplemented
    _assert_writers_bytes(got, TEMPLATE, tmp_path, monkeypatch)


def test_a_format_numbered_while_writing_falls_back_to_the_writers_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet that numbers a format after the settling: the final form's
    indices may be wrong, so the results are written again in the writer's
    form (no maps), and the output is the writer's."""
    write = assembly._Packager._write_sheets
    missed: list[bool] = []

    def numbering(self, sheets, weights):
        write(self, sheets, weights)
        if weights is not None:  # the final form: a format numbered late
            indices = self.workbook.xf_format_indices
            indices[("late", len(indices))] = len(indices) + 1
            missed.append(True)

    monkeypatch.setattr(assembly._Packager, "_write_sheets", numbering)
    maps = _noting_maps(monkeypatch)
    got = _compute(TEMPLATE, tmp_path / "missed")
    assert missed == [True] and maps == [None]
    _assert_writers_bytes(got, TEMPLATE, tmp_path, monkeypatch)


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", ["LibreOffice", "Gnumeric"])
def test_a_workbook_saved_by_another_spreadsheet_gets_the_same_bytes(
    inputs: dict[str, Path],
    saved_by: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A computed workbook saved again by LibreOffice or Gnumeric (their own
    styles parts) is computed in final form, to the same bytes as in the
    writer's form."""
    if saved_by == "LibreOffice":
        src = libreoffice_convert(inputs["computed"], "xlsx", tmp_path / "lo")
    else:
        if not shutil.which("ssconvert"):
            if os.environ.get("XLMODEL_REQUIRE_LIBREOFFICE") == "1":
                pytest.fail("Gnumeric (ssconvert) is required here but missing")
            pytest.skip("Gnumeric (ssconvert) is not installed")
        src = tmp_path / "gnumeric.xlsx"
        subprocess.run(
            ["ssconvert", str(inputs["computed"]), str(src)],
            capture_output=True,
            timeout=180,
            check=True,
        )
    maps = _noting_maps(monkeypatch)
    final = _compute(src, tmp_path / "final")
    assert [m is not None for m in maps] == [True], "not written in final form"
    _assert_writers_bytes(final, src, tmp_path, monkeypatch)
