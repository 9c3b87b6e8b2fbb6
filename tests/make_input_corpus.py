"""Broken and edited input workbooks for the reader tests (a script to keep them too).

Every file starts from the template written by xlmodel, then cells are overwritten
with xlsxwriter before the file is closed (cached formula results, error values,
dates, booleans) or the saved file is edited with openpyxl (renamed, hidden or
deleted sheets, inserted rows, merged cells, formulas without a cached value).
Each case says what reading it must give: a Study (with warning fragments), input
problems (message fragments, optionally their exact count) or a package error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.workbook.defined_name import DefinedName

from xlmodel.engine.nodes import NODE_PARAMETERS
from xlmodel.schema import SEED_VARIANTS
from xlmodel.workbook.inputs.variants import VARIANT_LABEL_COLUMNS
from xlmodel.workbook.template import (
    BLOCKS,
    fill_workbook,
    value_rows,
    variant_rows,
    write_template,
)

BLANK = object()  # overwrite a cell with an empty one


@dataclass(frozen=True)
class Formula:
    """A formula to write; ``value`` is the cached result (None: xlsxwriter's 0)."""

    text: str
    value: object = None


def cell(name: str, variant: int = 0) -> str:
    """A1 reference of a parameter's cell on Variants for the n-th variant column.

    Parameters
    ----------
    name : str
        Variant parameter name.
    variant : int
        Zero-based variant column.

    Returns
    -------
    str
    """
    block = BLOCKS["variants"]
    return _a1(variant_rows()[name], block.col + VARIANT_LABEL_COLUMNS + variant)


def header(variant: int) -> str:
    """A1 reference of a variant's name cell on Variants.

    Parameters
    ----------
    variant : int
        Zero-based variant column.

    Returns
    -------
    str
    """
    block = BLOCKS["variants"]
    return _a1(block.row, block.col + VARIANT_LABEL_COLUMNS + variant)


def value_cell(section: str, name: str, k: int = 0) -> str:
    """A1 reference of a Targets, Coefficients, Scaling or Sensitivity value.

    Parameters
    ----------
    section : str
        ``"target"``, ``"coefficient"``, ``"scaling"`` or ``"sensitivity"``.
    name : str
        Parameter or setting name.
    k : int
        Zero-based value position (Scaling rows hold several values).

    Returns
    -------
    str
    """
    offset = 3 + k if section == "scaling" else 1
    return _a1(value_rows(section)[name], offset)


def sweep_cell(row: int, field: int) -> str:
    """A1 reference of a cell in the sweeps table on Sensitivity.

    Parameters
    ----------
    row : int
        Zero-based sweep row.
    field : int
        0 parameter, 1 start, 2 stop, 3 step.

    Returns
    -------
    str
    """
    block = BLOCKS["sweeps"]
    return _a1(block.row + 1 + row, block.col + field)


def _a1(row: int, col: int) -> str:
    return f"{openpyxl.utils.get_column_letter(col + 1)}{row + 1}"


def write(
    path: Path,
    edits: dict[str, dict[str, object]] | None = None,
    variants=None,
) -> Path:
    """Write the template to ``path`` with some cells overwritten.

    Parameters
    ----------
    path : pathlib.Path
        Destination workbook.
    edits : dict of sheet -> {A1 reference: value}
        Values: numbers, str, bool, datetime, :class:`Formula` or ``BLANK``.
    variants : mapping, optional
        Variant name -> parameter overrides, instead of the seed's five.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    wb = xlsxwriter.Workbook(str(path))
    sheets = fill_workbook(wb, variants)
    plain = wb.add_format()
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for sheet, cells in (edits or {}).items():
        ws = sheets[sheet]
        for ref, v in cells.items():
            if v is BLANK:
                ws.write_blank(ref, None, plain)
            elif isinstance(v, Formula):
                ws.write_formula(ref, v.text, None, 0 if v.value is None else v.value)
            elif isinstance(v, datetime):
                ws.write_datetime(ref, v, day)
            elif isinstance(v, bool):
                ws.write_boolean(ref, v)
            elif isinstance(v, str):
                ws.write_string(ref, v)
            else:
                ws.write_number(ref, v)
    wb.close()
    return path


def rival_chip(**changes) -> dict:
    """A reference chip of one's own (References sheet or chips.csv columns):
    96 SMs x 4 tensor cores x 1024 FLOP/clock x 1.8 GHz = 707.8 TFLOPS FP16,
    one N5 die, six stacks, 600 W; ``changes`` override its fields."""
    return {
        "chip": "Rival X",
        "process_node": "TSMC N5",
        "compute_dies": 1,
        "sms_or_cus": 96,
        "tensor_cores_per_sm": 4,
        "clock_mhz": 1800,
        "fp16_dense_tflops": 707.8,
        "hbm_stacks": 6,
        "hbm_bw_tbps": 4.8,
        "tdp_w": 600,
        **changes,
    }


def with_node(path: Path, node: list, variant: int, label: str) -> Path:
    """The template written to ``path`` with one more process node on Cost setup
    (``node``: its cells, in the table's column order) and variant ``variant``
    (0-based) of that node (its process_node set to ``label``)."""
    probe = write(path.with_name(f"{path.stem}-probe.xlsx"))
    row = openpyxl.load_workbook(probe)["Cost setup"].max_row + 1
    columns = "ABCDEFG"[: len(node)]
    edits = {
        "Cost setup": {f"{c}{row}": v for c, v in zip(columns, node, strict=True)},
        "Variants": {cell("process_node", variant): label},
    }
    return write(path, edits)


def modify(path: Path, change: Callable, edits=None) -> Path:
    """Write the template (with ``edits``), then load, change and save it with openpyxl.

    openpyxl saves formulas without cached values, as a script would.

    Parameters
    ----------
    path : pathlib.Path
        Destination workbook.
    change : callable
        ``change(workbook)`` edits the openpyxl workbook in place.
    edits : dict, optional
        Cell edits applied first, as for :func:`write`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    write(path, edits)
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


@dataclass(frozen=True)
class Case:
    """One corpus workbook and what reading it must give.

    Attributes
    ----------
    name : str
    build : callable
        ``build(folder) -> path`` writes the workbook (and any lock file).
    outcome : str
        ``"ok"`` (a Study), ``"problems"`` (InputProblems) or ``"package"``
        (PackageError).
    fragments : tuple of str
        Text expected in the problem lines, the package error, or (``"ok"``) the
        warnings.
    lines : int or None
        Exact number of problem lines, when it matters.
    check : callable or None
        ``check(study)`` for ``"ok"`` cases: assertions on the values read.
    """

    name: str
    build: Callable[[Path], Path]
    outcome: str
    fragments: tuple[str, ...] = ()
    lines: int | None = None
    check: Callable | None = None


def _edits(name: str, edits: dict, suffix: str = ".xlsx"):
    return lambda folder: write(folder / f"{name}{suffix}", edits)


def _modified(name: str, change: Callable, edits=None):
    return lambda folder: modify(folder / f"{name}.xlsx", change, edits)


def _raw(name: str, data: bytes | Callable[[Path], bytes]):
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data(folder) if callable(data) else data)
        return path

    return build


def _template_bytes(folder: Path) -> bytes:
    path = folder / "_source.xlsx"
    write_template(path)
    return path.read_bytes()


def _zip(entries: dict[str, bytes]) -> Callable[[Path], bytes]:
    def data(folder: Path) -> bytes:
        path = folder / "_zip.bin"
        with zipfile.ZipFile(path, "w") as zf:
            for name, content in entries.items():
                zf.writestr(name, content)
        return path.read_bytes()

    return data


def _corrupt_member(folder: Path) -> bytes:
    # Damage the compressed data of the Variants sheet, keeping the zip directory.
    data = bytearray(_template_bytes(folder))
    with zipfile.ZipFile(folder / "_source.xlsx") as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 20, start + min(info.compress_size, 400)):
        data[i] ^= 0x5A
    return bytes(data)


def _v(name: str, study, variant: str = "Baseline"):
    return study.variants.loc[variant, name]


def _check(**expected) -> Callable:
    def check(study) -> None:
        for key, value in expected.items():
            name, _, variant = key.partition("__")
            got = _v(name, study, variant.replace("_", " ") or "Baseline")
            assert got == value, (key, got, value)

    return check


# --- openpyxl edits -------------------------------------------------------------------


def _rename_variants(wb) -> None:
    wb["Variants"].title = "Designs"
    # What Excel and LibreOffice do to a defined name when its sheet is renamed.
    wb.defined_names["xlmodel_variants"].attr_text = "'Designs'!$A$3"


def _delete_targets(wb) -> None:
    del wb["Targets"]
    wb.defined_names["xlmodel_targets"].attr_text = "#REF!$A$3"


def _delete_variants(wb) -> None:
    del wb["Variants"]
    del wb.defined_names["xlmodel_variants"]


def _delete_optional(wb) -> None:
    for title in (
        "Targets",
        "Workloads",
        "Scaling setup",
        "Sensitivity setup",
        "Coefficients",
    ):
        del wb[title]
    for name in list(wb.defined_names):
        if name != "xlmodel_variants":
            del wb.defined_names[name]


def _no_names(wb) -> None:
    for name in list(wb.defined_names):
        del wb.defined_names[name]


def _insert_rows(wb) -> None:
    ws = wb["Variants"]
    ws.insert_rows(1, 2)  # above the header: openpyxl leaves the names stale
    ws.insert_rows(12, 3)  # inside the table
    ws["A13"] = "my notes on the next rows"


def _swap_rows(wb) -> None:
    ws = wb["Variants"]
    a, b = variant_rows()["clock_mhz"] + 1, variant_rows()["num_chiplets"] + 1
    for col in range(1, 10):
        x, y = ws.cell(a, col), ws.cell(b, col)
        x.value, y.value = y.value, x.value


def _delete_clock_row(wb) -> None:
    wb["Variants"].delete_rows(variant_rows()["clock_mhz"] + 1)


def _rename_without_names(wb) -> None:
    wb["Variants"].title = "My designs"
    _no_names(wb)


def _hide_variants(wb) -> None:
    wb["Variants"].sheet_state = "hidden"
    wb.active = 0


def _merge(wb) -> None:
    ws = wb["Variants"]
    ws[cell("clock_mhz", 0)] = 2100
    ws.merge_cells(f"{cell('clock_mhz', 0)}:{cell('clock_mhz', 1)}")


def _uncached(refs: dict[str, str]) -> Callable:
    def change(wb) -> None:
        for ref, text in refs.items():
            wb["Variants"][ref] = text

    return change


def _far_row(wb) -> None:
    wb["Variants"].cell(200_000, 1, "stray")


def _far_column(wb) -> None:
    wb["Variants"].cell(BLOCKS["variants"].row + 1, 10_010, "far")


def _add_rows(rows: dict[str, list]) -> Callable:
    # Rows appended below the Variants table: key -> values per variant column.
    def change(wb) -> None:
        ws = wb["Variants"]
        r = ws.max_row + 2
        for key, values in rows.items():
            ws.cell(r, 1, key)
            for j, v in enumerate(values):
                if v is not None:
                    ws.cell(r, 1 + VARIANT_LABEL_COLUMNS + j, v)
            r += 1

    return change


def _new_variant(wb) -> None:
    ws = wb["Variants"]
    col = 1 + VARIANT_LABEL_COLUMNS + 5
    ws.cell(BLOCKS["variants"].row + 1, col, "Sixth")
    for name, row in variant_rows().items():
        value = SEED_VARIANTS["Baseline"].get(name)
        if value is not None:
            ws.cell(row + 1, col, value)
    ws.cell(variant_rows()["clock_mhz"] + 1, col, 2600)


def _clear_variants(wb) -> None:
    ws = wb["Variants"]
    first = 1 + VARIANT_LABEL_COLUMNS
    for row in ws.iter_rows(min_row=BLOCKS["variants"].row + 1, min_col=first):
        for c in row:
            c.value = None


def _sixth_blanks() -> str:
    # The new column fills the seed's Baseline parameters and the clock: every
    # other variant parameter is a blank that takes its default (the node
    # parameters' blanks take their process node's value, without a warning).
    rows = variant_rows()
    given = set(SEED_VARIANTS["Baseline"]) | {"clock_mhz", *NODE_PARAMETERS}
    blank = [name for name in rows if name not in given]
    col = chr(ord("A") + VARIANT_LABEL_COLUMNS + 5)
    first, last = min(rows[n] for n in blank) + 1, max(rows[n] for n in blank) + 1
    return (
        f"Variants!{col}{first}:{col}{last} (Sixth): {len(blank)} blank inputs "
        "take their defaults"
    )


def _six_variants(study) -> None:
    assert list(study.variants.index)[-1] == "Sixth", study.variants.index
    assert len(study.variants) == 6
    _check(clock_mhz__Sixth=2600, sms_per_chiplet__Sixth=16)(study)


def _xlsm(folder: Path) -> Path:
    path = folder / "macro.xlsm"
    write(path, {"Variants": {cell("clock_mhz"): 2222}})
    return path


# --- edits of the package's XML (what other programs write) --------------------------

VARIANTS_PART = "xl/worksheets/sheet2.xml"  # the Variants sheet in the template
WORKBOOK_PART = "xl/workbook.xml"
#: What Excel and LibreOffice write: no fullCalcOnLoad attribute.
EXCEL_CALC_PR = b'<calcPr calcId="191029"/>'
LIBREOFFICE_CALC_PR = (
    b'<calcPr iterateCount="100" refMode="A1" iterate="false" iterateDelta="0.0001"/>'
)


def rewrite_parts(path: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """Rewrite the zip package at ``path`` with some parts changed.

    Parameters
    ----------
    path : pathlib.Path
        The workbook, rewritten in place.
    changes : dict of part name -> callable
        ``change(bytes) -> bytes`` for each part to change.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in parts:
            change = changes.get(info.filename)
            dst.writestr(info, change(data) if change else data)
    return path


def cell_xml(cells: dict[str, bytes]) -> Callable[[bytes], bytes]:
    """Replace whole ``<c>`` elements of a sheet part by raw XML, by reference."""

    def change(data: bytes) -> bytes:
        for ref, xml in cells.items():
            pattern = rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)'
            data, n = re.subn(pattern, xml, data, count=1, flags=re.DOTALL)
            assert n == 1, ref
        return data

    return change


def calc_pr(new: bytes) -> Callable[[bytes], bytes]:
    """Replace the workbook part's ``<calcPr .../>`` by ``new``."""

    def change(data: bytes) -> bytes:
        data, n = re.subn(rb"<calcPr[^>]*/>", new, data, count=1)
        assert n == 1
        return data

    return change


def _patched(name: str, changes: dict, edits=None):
    return lambda folder: rewrite_parts(write(folder / f"{name}.xlsx", edits), changes)


def _libreoffice_saved(edits: dict[str, dict[str, str]], fallback: dict):
    """The template with formulas (no values), opened and saved by LibreOffice.

    Without LibreOffice, the same formulas with the values LibreOffice saves
    (``fallback``) and its ``<calcPr>``.
    """

    def build(folder: Path) -> Path:
        path = folder / "libreoffice.xlsx"
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice:
            source = folder / "_source" / "libreoffice.xlsx"
            source.parent.mkdir()

            def change(wb) -> None:
                for sheet, cells in edits.items():
                    for ref, text in cells.items():
                        wb[sheet][ref] = text

            modify(source, change)
            profile, out = folder / "_lo_profile", folder / "_lo_out"
            subprocess.run(
                [soffice, f"-env:UserInstallation={profile.resolve().as_uri()}",
                 "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                 str(source)],
                capture_output=True, timeout=180, check=False,
            )  # fmt: skip
            if (out / source.name).exists():
                (out / source.name).rename(path)
            for tmp in (profile, out, source.parent):
                shutil.rmtree(tmp, ignore_errors=True)
        if not path.exists():
            cells = {
                sheet: {
                    ref: Formula(text, fallback.get(ref, 0)) for ref, text in c.items()
                }
                for sheet, c in edits.items()
            }
            rewrite_parts(
                write(path, cells), {WORKBOOK_PART: calc_pr(LIBREOFFICE_CALC_PR)}
            )
        return path

    return build


def _no_formula_warning(check: Callable) -> Callable:
    def both(study) -> None:
        check(study)
        noted = [w for w in study.warnings if "formula" in w]
        assert not noted, noted

    return both


def _define_name(name: str, ref: str) -> Callable:
    def change(wb) -> None:
        wb.defined_names[name] = DefinedName(name, attr_text=ref)

    return change


def _both(*changes: Callable) -> Callable:
    def change(wb) -> None:
        for one in changes:
            one(wb)

    return change


def _locked(app: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = write_template_at(folder / "locked.xlsx")
        lock = "~$locked.xlsx" if app == "Excel" else ".~lock.locked.xlsx#"
        (folder / lock).write_text("user,host\n")
        return path

    return build


def write_template_at(path: Path) -> Path:
    """Write the plain template to ``path``.

    Parameters
    ----------
    path : pathlib.Path

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    write_template(path)
    return path


V = "Variants"
LONG_NAME = "N" * 32_767
CASES: tuple[Case, ...] = (
    Case(
        "template",
        lambda folder: write_template_at(folder / "template.xlsx"),
        "ok",
        ("unit slip",),
        check=_check(clock_mhz=2000),
    ),
    Case(
        "text_in_number",
        _edits("text", {V: {cell("clock_mhz"): "fast"}}),
        "problems",
        (
            f"Variants!{cell('clock_mhz')} clock_mhz: 'fast' is not a number "
            "(MHz, 100-6000)",
        ),
        lines=1,
    ),
    Case(
        "numbers_as_text",
        _edits(
            "astext", {V: {cell("clock_mhz"): "2500", cell("clock_mhz", 1): " 2,000 "}}
        ),
        "ok",
        ("number stored as text '2500'", "' 2,000 ' read as 2000"),
        check=_check(clock_mhz=2500.0, clock_mhz__Realistic_Optimized=2000.0),
    ),
    Case(
        "unit_typed_in",
        _edits("unit", {V: {cell("clock_mhz"): "2000 MHz"}}),
        "problems",
        ("'2000 MHz' has a unit typed in: type the number alone in MHz",),
        lines=1,
    ),
    Case(
        "boolean",
        _edits("bool", {V: {cell("sms_per_chiplet"): True}}),
        "problems",
        (f"{cell('sms_per_chiplet')} sms_per_chiplet: True is TRUE/FALSE",),
        lines=1,
    ),
    Case(
        "date",
        _edits("date", {V: {cell("chiplet_area_mm2"): datetime(2024, 3, 1)}}),
        "problems",
        ("'2024-03-01' is a date or time", "format the cell as a number"),
        lines=1,
    ),
    Case(
        "div0_cached_error",
        _edits("div0", {V: {cell("clock_mhz"): Formula("=1/0", "#DIV/0!")}}),
        "problems",
        ("clock_mhz: '#DIV/0!' is an error value",),
        lines=1,
    ),
    Case(
        "ref_and_na_errors",
        _edits(
            "errors",
            {
                V: {
                    cell("l2_cache_mb"): Formula("=#REF!*2", "#REF!"),
                    cell("l2_cache_mb", 1): Formula("=NA()", "#N/A"),
                }
            },
        ),
        "problems",
        ("'#REF!' is an error value", "'#N/A' is an error value"),
        lines=2,
    ),
    Case(
        "formula_cached",
        _edits("cached", {V: {cell("clock_mhz"): Formula("=SUM(1000,1100)", 2100)}}),
        "ok",
        check=_check(clock_mhz=2100.0),
    ),
    Case(
        "formula_uncached_simple",
        _modified(
            "simple",
            _uncached(
                {
                    cell("clock_mhz"): "=2*1000+2^2-(3*-2)",
                    cell("clock_mhz", 1): f"={cell('clock_mhz')}+100",
                    cell("sms_per_chiplet", 2): "='Variants'!$D$18*2",
                }
            ),
        ),
        "ok",
        (
            "formula '=2*1000+2^2-(3*-2)' had no saved value; xlmodel evaluated it "
            "to 2010",
        ),
        check=_check(
            clock_mhz=2010.0,
            clock_mhz__Realistic_Optimized=2110.0,
            sms_per_chiplet__High_SM_Density=32,
        ),
    ),
    Case(
        "formula_uncached_function",
        _modified("function", _uncached({cell("clock_mhz"): "=VLOOKUP(1,D5:E6,2)"})),
        "problems",
        (
            "clock_mhz: '=VLOOKUP(1,D5:E6,2)' formula has no saved value and it uses "
            "VLOOKUP, which xlmodel does not evaluate; open and save the file in "
            "Excel or LibreOffice, or type the value",
        ),
        lines=1,
    ),
    Case(
        # Written by a script: formulas without values, every evaluated function,
        # references across sheets (a quoted name too) and a defined name.
        "formula_uncached_functions_evaluated",
        _modified(
            "functions",
            _both(
                _define_name("my_clock", "Variants!$D$7"),
                _uncached(
                    {
                        cell(
                            "clock_mhz"
                        ): "=IF(AND(D5>0,NOT(FALSE)),ROUND(1999.6,0),0)",
                        cell("clock_mhz", 1): "=MAX(D7,1500)+100",
                        cell("clock_mhz", 2): "=AVERAGE(D7:E7)",
                        cell("clock_mhz", 3): "=my_clock-ABS(-50)",
                        cell("clock_mhz", 4): '=IF(OR(D22="tsmc 3NM",D5<0),1800,0)',
                        cell("sms_per_chiplet"): "='Scaling setup'!$D$5*8",
                        cell("sms_per_chiplet", 1): "=SUM(D18,Targets!Z99,16)",
                        cell("l2_cache_mb"): "=1200%/2",
                        cell("l2_cache_mb", 1): "=MIN(D19:D19)+1",
                        cell("process_node", 1): '="TSMC "&3&"nm"',
                    }
                ),
            ),
        ),
        "ok",
        ("formula '=1200%/2' had no saved value; xlmodel evaluated it to 6",),
        check=_check(
            clock_mhz=2000.0,
            clock_mhz__Realistic_Optimized=2100.0,
            clock_mhz__High_SM_Density=2050.0,
            clock_mhz__Aggressive_Optimized=1950.0,
            clock_mhz__Power_Optimized=1800.0,
            sms_per_chiplet=16,
            sms_per_chiplet__Realistic_Optimized=32,
            l2_cache_mb=6.0,
            l2_cache_mb__Realistic_Optimized=7.0,
            process_node__Realistic_Optimized="TSMC 3nm",
        ),
    ),
    Case(
        "formula_uncached_error_result",
        _modified(
            "errorresult",
            _uncached(
                {
                    cell("clock_mhz"): "=AVERAGE(Z90:Z99)",
                    cell("clock_mhz", 1): "=IF(D7>0,1,2)",
                    cell("clock_mhz", 2): "=undefined_name*2",
                }
            ),
        ),
        "problems",
        (
            f"Variants!{cell('clock_mhz')} clock_mhz: '=AVERAGE(Z90:Z99)' formula "
            "gives #DIV/0! (AVERAGE has no numbers to average): fix the formula or "
            "type the value",
            f"Variants!{cell('clock_mhz', 1)} clock_mhz: '=IF(D7>0,1,2)' formula "
            "gives #DIV/0!",
            "gives #NAME? (no defined name 'undefined_name')",
        ),
        lines=3,
    ),
    Case(
        "formula_uncached_bad_reference",
        _modified(
            "badref",
            _uncached(
                {
                    cell("clock_mhz"): f"={cell('process_node')}*2",
                    cell("clock_mhz", 1): f"={cell('clock_mhz', 2)}",
                    cell("clock_mhz", 2): f"={cell('clock_mhz', 1)}",
                    cell("clock_mhz", 3): "=1/0",
                }
            ),
        ),
        "problems",
        (
            f"Variants!{cell('process_node')} holds 'TSMC 3nm', not a number",
            "(a circular reference)",
            "gives #DIV/0! (it divides by zero)",
        ),
        lines=4,
    ),
    Case(
        "script_written_zero_placeholder",
        _edits(
            "placeholder",
            {
                V: {
                    cell("clock_mhz"): Formula("=1000*2"),
                    cell("clock_mhz", 1): Formula("=MAX(1000,2000)"),
                }
            },
        ),
        "ok",
        ("formula '=MAX(1000,2000)' had no saved value; xlmodel evaluated it to 2000",),
        check=_check(clock_mhz=2000.0, clock_mhz__Realistic_Optimized=2000.0),
    ),
    Case(
        # Saved by Excel: calcPr without fullCalcOnLoad, so a saved 0 is a result.
        "excel_saved_zero_results",
        _patched(
            "excelzero",
            {WORKBOOK_PART: calc_pr(EXCEL_CALC_PR)},
            {
                V: {
                    cell("d2d_phy_area_mm2"): Formula("=0*1", 0),
                    cell("design_nre_usd"): Formula("=MIN(0,1)", 0),
                    cell("design_nre_usd", 1): Formula("=Z99", 0),
                    cell("design_nre_usd", 2): Formula("=SUMPRODUCT(D5:D6,D5:D6)*0", 0),
                },
                "Coefficients": {
                    value_cell("coefficient", "d2d_remote_share"): Formula(
                        "=IF(1>2,1,0)", 0
                    ),
                },
            },
        ),
        "ok",
        check=_no_formula_warning(
            _check(d2d_phy_area_mm2=0.0, design_nre_usd=0.0, d2d_remote_share=0.0)
        ),
    ),
    Case(
        "libreoffice_saved_zero_results",
        _libreoffice_saved(
            {
                V: {
                    cell("d2d_phy_area_mm2"): "=0*1",
                    cell("design_nre_usd"): "=IF(1>2,1,0)",
                    cell("design_nre_usd", 1): "=Z99",
                    cell("clock_mhz"): "=MIN(0,1)+2000",
                },
                "Coefficients": {
                    value_cell("coefficient", "d2d_remote_share"): "=MIN(0,1)"
                },
            },
            {cell("clock_mhz"): 2000},
        ),
        "ok",
        check=_no_formula_warning(
            _check(
                d2d_phy_area_mm2=0.0,
                design_nre_usd=0.0,
                d2d_remote_share=0.0,
                clock_mhz=2000.0,
            )
        ),
    ),
    Case(
        # What scripts and other generators write: text or NaN in a numeric cell
        # (no t attribute, or t="n"), a word in a boolean cell.
        "numeric_cell_holding_text",
        _patched(
            "numtext",
            {
                VARIANTS_PART: cell_xml(
                    {
                        cell(
                            "clock_mhz"
                        ): f'<c r="{cell("clock_mhz")}"><v>fast</v></c>'.encode(),
                        cell(
                            "clock_mhz", 1
                        ): f'<c r="{cell("clock_mhz", 1)}" t="n"><v>NaN</v></c>'.encode(),
                        cell(
                            "sms_per_chiplet"
                        ): f'<c r="{cell("sms_per_chiplet")}" s="3" t="n"><v>many</v></c>'.encode(),
                        cell(
                            "l2_cache_mb"
                        ): f'<c r="{cell("l2_cache_mb")}" t="b"><v>yes</v></c>'.encode(),
                    }
                )
            },
        ),
        "problems",
        (
            f"Variants!{cell('clock_mhz')} clock_mhz: 'fast' is not a number (MHz, 100-6000)",
            f"Variants!{cell('clock_mhz', 1)} clock_mhz: 'NaN' is not a number (MHz, 100-6000)",
            f"Variants!{cell('sms_per_chiplet')} sms_per_chiplet: 'many' is not a",
            f"Variants!{cell('l2_cache_mb')} l2_cache_mb: 'yes' is not a number",
        ),
        lines=4,
    ),
    Case(
        # Excel's longest cell text as a variant name: lines quote it shortened.
        "very_long_variant_name",
        lambda folder: write(
            folder / "longname.xlsx",
            {
                V: {header(0): LONG_NAME, cell("clock_mhz"): "fast" * 8000},
                "Sensitivity setup": {value_cell("sensitivity", "sweep_base"): "nope"},
            },
        ),
        "problems",
        (
            "'fastfastfast",
            "...' (32,000 characters) is not a number (MHz, 100-6000)",
            f"{LONG_NAME[:60]}... (32,767 characters)",
        ),
        lines=3,
    ),
    Case(
        "blank_takes_default",
        _edits("blank", {V: {cell("l2_cache_mb", 2): BLANK}}),
        "ok",
        (
            f"Variants!{cell('l2_cache_mb', 2)} l2_cache_mb (High SM Density): blank; "
            "using the default 6 MB",
        ),  # fmt: skip
        check=_check(l2_cache_mb__High_SM_Density=6.0),
    ),
    Case(
        "out_of_range",
        _edits("range", {V: {cell("clock_mhz"): 99999}}),
        "problems",
        ("clock_mhz: 99999 is out of range: expected number (MHz, 100-6000)",),
        lines=1,
    ),
    Case(
        "negative_count",
        _edits("negative", {V: {cell("sms_per_chiplet"): -4}}),
        "problems",
        ("sms_per_chiplet: -4 is out of range: expected whole number (SMs, 1-4096)",),
        lines=1,
    ),
    Case(
        "non_integer_count",
        _edits("fraction", {V: {cell("num_chiplets", 4): 2.5}}),
        "problems",
        ("num_chiplets: 2.5 is not a whole number (chiplets, 1-1024)",),
        lines=1,
    ),
    Case(
        "duplicate_variant_names",
        _edits("dupes", {V: {header(3): "baseline"}}),
        "problems",
        ("'baseline' is a duplicate variant name (also Variants!D3)",),
        lines=1,
    ),
    Case(
        "empty_variant_name_with_values",
        _edits("noname", {V: {header(1): BLANK}}),
        "problems",
        ("Variants!E3: '' variant name missing: column E has values",),
        lines=1,
    ),
    Case(
        "no_variants",
        _modified("novariants", _clear_variants),
        "problems",
        ("no variants: type a variant name in the header row",),
        lines=1,
    ),
    Case(
        "unknown_row_suggests",
        _modified("typo", _add_rows({"clok_mhz": [2100, 2100]})),
        "ok",
        ("'clok_mhz' is not a parameter (did you mean clock_mhz?); row ignored",),
        check=_check(clock_mhz=2000),
    ),
    Case(
        "coefficient_and_target_override",
        _modified(
            "override",
            _add_rows({"sm_power_w": [3.0, None], "power_budget_w": [None, 900]}),
        ),
        "ok",
        check=_check(
            sm_power_w=3.0,
            sm_power_w__Realistic_Optimized=1.5,
            power_budget_w=500,
            power_budget_w__Realistic_Optimized=900,
        ),
    ),
    Case(
        "renamed_variants_sheet",
        _modified("renamed", _rename_variants, {V: {cell("clock_mhz"): 2345}}),
        "ok",
        check=_check(clock_mhz=2345),
    ),
    Case(
        "no_defined_names",
        _modified("nonames", _no_names, {V: {cell("clock_mhz"): 2345}}),
        "ok",
        check=_check(clock_mhz=2345),
    ),
    Case(
        "renamed_sheet_without_names",
        _modified("lostnames", _rename_without_names, {V: {cell("clock_mhz"): 2345}}),
        "ok",
        ("My designs: read as the Variants table (found by its header row",),
        check=_check(clock_mhz=2345),
    ),
    Case(
        "inserted_and_reordered_rows",
        lambda f: modify(
            f / "inserted.xlsx",
            lambda wb: (_swap_rows(wb), _insert_rows(wb)),
            {V: {cell("clock_mhz"): 2345, cell("num_chiplets"): 6}},
        ),
        "ok",
        check=_check(clock_mhz=2345, num_chiplets=6),
    ),
    Case(
        "missing_row_takes_default",
        _modified("norow", _delete_clock_row),
        "ok",
        ("Variants: no row clock_mhz; every variant takes the default 2000 MHz",),
        check=_check(clock_mhz__Power_Optimized=2000),
    ),
    Case(
        "deleted_targets_sheet",
        _modified("notargets", _delete_targets),
        "ok",
        ("Targets: sheet not found",),
        check=_check(power_budget_w=500),
    ),
    Case(
        "deleted_optional_sheets",
        _modified("onlyvariants", _delete_optional),
        "ok",
        (
            "Targets: sheet not found",
            "Workloads: sheet not found",
            "Scaling setup: sheet not found",
            "Sensitivity setup: sheet not found",
            "Coefficients: sheet not found",
        ),
    ),
    Case(
        "missing_variants_sheet",
        _modified("novariantsheet", _delete_variants),
        "problems",
        ("has no Variants sheet (nor the defined name xlmodel_variants)",),
        lines=1,
    ),
    Case(
        "hidden_variants_sheet",
        _modified("hidden", _hide_variants, {V: {cell("clock_mhz"): 2345}}),
        "ok",
        check=_check(clock_mhz=2345),
    ),
    Case(
        "merged_cells",
        _modified("merged", _merge),
        "ok",
        (f"{cell('clock_mhz', 1)} clock_mhz (Realistic Optimized): blank",),
        check=_check(clock_mhz=2100, clock_mhz__Realistic_Optimized=2000),
    ),
    Case(
        "sixth_variant",
        _modified("sixth", _new_variant),
        "ok",
        (_sixth_blanks(),),
        check=_six_variants,
    ),
    Case("xlsm_copy", _xlsm, "ok", check=_check(clock_mhz=2222)),
    Case(
        "choices",
        _edits(
            "choices",
            {
                "Coefficients": {value_cell("coefficient", "d2d_topology"): "torus"},
                "Targets": {value_cell("target", "target_precision"): "fp8"},
            },
        ),
        "problems",
        ("d2d_topology: 'torus' is not one of all_to_all, ring, mesh",),
        lines=1,
    ),
    Case(
        "sensitivity_problems",
        _edits(
            "sensitivity",
            {
                "Sensitivity setup": {
                    value_cell("sensitivity", "sweep_base"): "Nope",
                    value_cell("sensitivity", "tornado_percent"): 150,
                    sweep_cell(0, 1): 70,  # start 70 > stop 64
                    sweep_cell(1, 3): 0,  # step 0
                    sweep_cell(2, 1): 50,  # clock below 100 MHz
                    sweep_cell(3, 0): "tensor_cores_per_smm",
                    sweep_cell(4, 2): 1_000_000,  # 62,497 points
                    _a1(BLOCKS["tornado"].row + 2, BLOCKS["tornado"].col): "procss",
                }
            },
        ),
        "problems",
        (
            "sweep_base: 'Nope' is not a variant name: expected one of Baseline",
            "tornado_percent: 150 is out of range: expected number (%, above 0 and "
            "below 100)",
            "sms_per_chiplet sweep start: 70 is above the stop 64",
            "chiplet_area_mm2 sweep step: 0 is not above 0",
            "clock_mhz sweep start: 50 is below the valid range of clock_mhz",
            "'tensor_cores_per_smm' is not a parameter (did you mean "
            "tensor_cores_per_sm?)",
            "fp16_ops_per_cycle sweep step: 16 gives 62,497 points from 64 to "
            "1,000,000 FLOP/cycle/TC: at most 10,000 per sweep",
            "tornado parameter: 'procss' is not a parameter",
        ),
        lines=8,
    ),
    Case(
        "workload_and_scaling_problems",
        _edits(
            "studies",
            {
                "Workloads": {"B4": -1, "B5": 0, "A6": BLANK, "A7": "GEMM (OPTIMIZED)"},
                "Scaling setup": {
                    value_cell("scaling", "chiplet_counts", 1): 2.5,
                    value_cell("scaling", "chiplet_counts", 2): 0,
                    value_cell("scaling", "utilizations", 0): 1.5,
                    value_cell("scaling", "utilizations", 1): 0,
                },
            },
        ),
        "problems",
        (
            "Workloads!B4 GEMM (optimized) intensity: -1 is out of range: "
            "expected number (FLOP/byte, above 0)",
            "Workloads!B5 GEMM (naive) intensity: 0 is out of range",
            "Workloads!A6 workload: '' workload name missing",
            "'GEMM (OPTIMIZED)' is a duplicate workload",
            "chiplet_counts: 2.5 is not a whole number",
            "chiplet_counts: 0 is out of range",
            "utilizations: 1.5 is out of range: expected number (fraction, above 0, "
            "at most 1)",
            "utilizations: 0 is out of range",
        ),
        lines=8,
    ),
    Case(
        "hbm_stacks_per_chiplet_not_whole",
        _edits(
            "stacks",
            {"Scaling setup": {value_cell("scaling", "hbm_stacks_per_chiplet"): 0.3}},
        ),
        "problems",
        ("gives 0.6 HBM stacks at 2 chiplets",),
        lines=1,
    ),
    Case(
        "plausibility_warnings",
        _edits(
            "plausible",
            {
                V: {
                    cell("chiplet_area_mm2", 1): 900,
                    cell("tensor_cores_per_sm", 2): 64,
                    cell("fp16_ops_per_cycle", 2): 1024,
                    cell("clock_mhz", 3): 5000,
                }
            },
        ),
        "ok",
        (
            f"Variants!{cell('chiplet_area_mm2', 1)} chiplet_area_mm2 (Realistic "
            "Optimized): 900 mm² is outside the plausible 20-858 mm²: a single die "
            "cannot exceed the 858 mm² reticle limit",
            "(High SM Density): 64 tensor cores x 1024 FLOP/cycle = 65,536 dense FP16 "
            "FLOP per clock per SM is above twice the largest shipping part (B200",
            "clock_mhz (Aggressive Optimized): 5000 MHz is outside the plausible",
            "hbm_bandwidth_gbps_per_stack (Baseline and 4 more): 128 GB/s",
        ),
    ),
    Case(
        "many_problems_all_reported",
        _edits(
            "many",
            {
                V: {
                    cell("clock_mhz"): "fast",
                    cell("sms_per_chiplet", 1): 16.5,
                    cell("hbm_stacks", 2): -1,
                    cell("process_node", 3): True,
                },
                "Targets": {value_cell("target", "power_budget_w"): "lots"},
                "Coefficients": {value_cell("coefficient", "ambient_c"): "25 C"},
            },
        ),
        "problems",
        (
            "'fast' is not a number",
            "16.5 is not a whole number",
            "-1 is out of range",
            "process_node: True is TRUE/FALSE, not text",
            "Targets!B6 power_budget_w: 'lots' is not a number",
            f"Coefficients!{value_cell('coefficient', 'ambient_c')} ambient_c: '25 C' "
            "has a unit typed in: type the number alone in °C; expected number "
            "(°C, -60-150)",
        ),
        lines=6,
    ),
    Case(
        "far_row_refused",
        _modified("farrow", _far_row),
        "package",
        ("has data beyond row 100,000",),
    ),
    Case(
        "far_column_refused",
        _modified("farcol", _far_column),
        "package",
        ("more than 10,000 variant columns",),
    ),
    Case("missing_file", lambda f: f / "nope.xlsx", "package", ("no such file",)),
    Case("empty_file", _raw("empty.xlsx", b""), "package", ("is empty (0 bytes)",)),
    Case(
        "not_a_zip",
        _raw("garbage.xlsx", bytes(range(256)) * 4),
        "package",
        ("is not an Excel workbook",),
    ),
    Case(
        "truncated_zip",
        _raw("truncated.xlsx", lambda f: _template_bytes(f)[:4000]),
        "package",
        ("corrupt or truncated zip file",),
    ),
    Case(
        "corrupt_member",
        _raw("corrupt.xlsx", _corrupt_member),
        "package",
        ("corrupt or unreadable workbook",),
    ),
    Case(
        "ole_header",
        _raw("legacy.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)),
        "package",
        ("legacy .xls or password-protected workbook: save as .xlsx",),
    ),
    Case(
        "csv_file",
        _raw("variants.csv", b"parameter,Baseline\nclock_mhz,2000\nsms,16\n"),
        "package",
        ("is a CSV (plain text) file, not an Excel workbook",),
    ),
    Case(
        "ods_file",
        _raw(
            "variants.ods",
            _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<office:document-content/>",
                }
            ),
        ),
        "package",
        ("is an OpenDocument spreadsheet (.ods)",),
    ),
    Case(
        "xlsb_file",
        _raw(
            "variants.xlsb",
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x00"}),
        ),
        "package",
        ("is a binary Excel workbook (.xlsb)",),
    ),
    Case(
        "docx_file",
        _raw(
            "report.xlsx",
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
        ),
        "package",
        ("is a Word document, not an Excel workbook",),
    ),
)

#: Workbooks Excel or LibreOffice holds open: check_not_open must refuse them.
LOCKED: tuple[Case, ...] = (
    Case("excel_lock", _locked("Excel"), "package", ("open in Excel",)),
    Case(
        "libreoffice_lock", _locked("LibreOffice"), "package", ("open in LibreOffice",)
    ),
)


def write_cases(argv: list[str], cases) -> int:
    """Write every case of ``cases`` into the folder given as the only argument.

    Parameters
    ----------
    argv : list of str
        The script name and the destination folder.
    cases : iterable of Case

    Returns
    -------
    int
        Exit status.
    """
    if len(argv) != 2:
        print(f"usage: {Path(argv[0]).name} FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        sub = folder / case.name
        sub.mkdir(exist_ok=True)
        case.build(sub)
    return 0


def main(argv: list[str]) -> int:
    """Write every corpus workbook into the folder given as the only argument."""
    return write_cases(argv, CASES + LOCKED)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
