"""Read a variants workbook into a validated Study; each problem named with its cell.

The orchestrator of the input side's reading. It checks that the file is a
workbook xlmodel may open (size, kind, the package screening of
:mod:`xlmodel.workbook.package`), opens it as grids
(:class:`~xlmodel.workbook.grid.Book`, read-only, cached values and formulas)
and calls each sheet module of :mod:`xlmodel.workbook.inputs` in order, sharing
one :class:`~xlmodel.workbook.inputs.context.Context`. Blocks are found through
the template's defined names (``xlmodel_variants`` ...), falling back to the
sheet names; rows are found by the key in their first column, never by row
number. Every problem is collected and raised once as :class:`InputProblems`;
files that are not readable workbooks raise :class:`PackageError`. The file is
never written. :func:`read_for_adopt` adds what ``xlmodel adopt`` needs.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import engine
from ..engine.nodes import load_process_nodes, node_table
from ..engine.table import Table
from ..errors import CellProblem, InputProblems, PackageError
from ..schema import TARGETS
from ..studies.study import Study
from .grid import Book
from .inputs import (
    coefficients,
    cost_setup,
    exploration_setup,
    models,
    references,
    scaling_setup,
    sensitivity_setup,
    serving_setup,
    targets,
    uncertainty_setup,
    variants,
    workloads,
)
from .inputs.context import Context
from .inputs.plausibility import warn_implausible
from .inputs.record import InputRecord, record, trusted_by_last_compute
from .inputs.variants import VariantLayout, read_layout
from .package import screen_zip
from .package.parts import workbook_part

if TYPE_CHECKING:
    from .designs import Designs

#: Refuse workbook files larger than this many bytes (before unpacking).
MAX_FILE_BYTES = 512 << 20

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --- public API -----------------------------------------------------------------------


def check_not_open(path: str | Path) -> None:
    """Refuse a workbook that Excel or LibreOffice has open (its lock file exists).

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook about to be written.

    Raises
    ------
    PackageError
        When ``~$<name>`` (Excel) or ``.~lock.<name>#`` (LibreOffice) exists beside
        the workbook or, when it is a symbolic link, beside the file it points to.
    """
    path = Path(path)
    # Beside the name given and, for a symbolic link, beside the file it points to.
    files = dict.fromkeys([path, Path(os.path.realpath(path))])
    for file, lock, app in (
        (where, lock, app)
        for where in files
        for lock, app in (
            (f"~${where.name}", "Excel"),
            (f".~lock.{where.name}#", "LibreOffice"),
        )
    ):
        if (file.parent / lock).exists():
            raise PackageError(
                f"{path}: the workbook is open in {app} (lock file {lock}): close it "
                "first (if it is not open, delete the lock file)"
            )


def check_study(path: str | Path) -> Checked:
    """Read and validate a variants workbook, without building its tables.

    What ``xlmodel validate`` runs: every check of :func:`read_study` (which is
    this, then :meth:`Checked.study`), without pandas.

    Raises
    ------
    PackageError, InputProblems
        As :func:`read_study`.
    """
    path = Path(path)
    data = load_bytes(path)
    with Book(path, data) as book:
        _trust(book)
        return _check(book)


def read_study(path: str | Path) -> Study:
    """Read and validate a variants workbook.

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.xlsx`` or ``.xlsm`` workbook laid out like the template.

    Returns
    -------
    Study
        Variants (index = names, a column per schema parameter), workloads, the
        scaling, power and sensitivity settings, and warnings (one line each:
        blanks that took defaults, numbers stored as text, evaluated formulas,
        unknown rows, missing sheets, implausible values).

    Raises
    ------
    PackageError
        The file is missing, not an ``.xlsx``/``.xlsm`` workbook, corrupt, or
        absurdly large.
    InputProblems
        Every invalid input, each with its sheet, cell, parameter and expectation.
    """
    return check_study(path).study()


def read_recorded(path: str | Path) -> tuple[Study, InputRecord]:
    """:func:`read_study`, and what was read where (for the stale-results banner
    and the Changes sheet: :mod:`xlmodel.workbook.inputs.record`).

    Raises
    ------
    PackageError, InputProblems
        As :func:`read_study`.
    """
    path = Path(path)
    data = load_bytes(path)
    with Book(path, data) as book:
        _trust(book)
        ctx = Context(book)
        study = _read(book, ctx)
        return study, record(ctx)


def read_for_adopt(
    path: str | Path,
) -> tuple[Study, Designs, VariantLayout, InputRecord]:
    """What ``xlmodel adopt`` needs, from one reading of the workbook.

    Returns
    -------
    (Study, Designs, VariantLayout, InputRecord)
        The validated inputs, the last exploration's designs, where the
        Variants table lies, and what was read where (to tell inputs edited
        since the exploration).

    Raises
    ------
    PackageError
        Not a readable workbook, or no exploration results in it.
    InputProblems
        The inputs have problems (as ``xlmodel validate`` lists them).
    """
    path = Path(path)
    data = load_bytes(path)
    with Book(path, data) as book:
        _trust(book)
        from .designs import read_designs

        ctx = Context(book)
        study = _read(book, ctx)
        return study, read_designs(path, book), read_layout(path, book), record(ctx)


def _trust(book: Book) -> None:
    """Trust saved formula results where only xlmodel's own compute asked for
    a recalculation (:func:`.inputs.record.trusted_by_last_compute`)."""
    if book.recalc and trusted_by_last_compute(book):
        book.recalc = False


# --- the sheets, in order -------------------------------------------------------------


@dataclass
class Checked:
    """A workbook's inputs, read and checked, before any DataFrame is built.

    What :func:`check_study` returns (``xlmodel validate`` needs no more, and
    no pandas); :meth:`study` turns it into the :class:`Study` the studies run.

    Attributes
    ----------
    names : list of str
        The variants, in order.
    warnings : list of str
        One line each (blanks that took defaults, numbers stored as text,
        implausible values ...).
    """

    names: list[str]
    warnings: list[str]
    _frame: Table
    _settings: dict

    def study(self) -> Study:
        """The Study, its tables as DataFrames (imports pandas)."""
        s = dict(self._settings)
        nodes = s.pop("process_nodes")
        return Study(
            variants=self._frame.to_frame(),
            references=references.to_frame(s.pop("references")),
            serving=serving_setup.to_frames(s.pop("serving")),
            process_nodes=(
                load_process_nodes()
                if nodes is node_table()
                else nodes.table.to_frame()
            ),
            warnings=self.warnings,
            **s,
        )


def _read(book: Book, ctx: Context | None = None) -> Study:
    return _check(book, ctx).study()


def _check(book: Book, ctx: Context | None = None) -> Checked:
    ctx = ctx or Context(book)
    table = variants.read(ctx)
    names = table.names if table else []
    target_values = targets.read(ctx)
    coefficient_values = coefficients.read(ctx)
    workload_intensities, workload_weights = workloads.read(ctx)
    model_table = models.read(ctx)
    serving = serving_setup.read(ctx, model_table, len(names))
    targets.check_merit(ctx, target_values, serving, model_table)
    chips = references.read(ctx)
    nodes = cost_setup.read(ctx)
    counts, stacks, utils = scaling_setup.read(ctx)
    base, percent, sweeps, tornado = sensitivity_setup.read(ctx, names)
    frame = None
    cells: dict[str, dict[str, str]] = {}
    if table is not None and table.names:
        frame = variants.build_frame(table, {**target_values, **coefficient_values})
        frame = variants.fill_nodes(ctx, table, frame, nodes)
        cells = variants.sources(table, ctx.sources)
        variants.check_headroom(ctx, table, frame, cells)
    targets_of = _targets_of(frame, target_values)
    exploration = exploration_setup.read(ctx, names, targets_of, target_values)
    own = {}  # a target that differs between the variants: its lowest and highest
    for p in TARGETS if frame is not None else ():
        if p.name in frame:
            numbers = [float(x) for x in frame[p.name] if isinstance(x, int | float)]
            if numbers and min(numbers) != max(numbers):
                own[p.name] = (min(numbers), max(numbers))
    uncertainty = uncertainty_setup.read(ctx, len(names), target_values, own)
    if ctx.problems or frame is None:  # no frame: a problem says why
        raise InputProblems(ctx.problems)
    try:
        engine.prepare(frame)
    except ValueError as e:
        sheet = table.sheet if table else "Variants"
        first = str(e).splitlines()[0][:300]
        raise InputProblems(
            [CellProblem(sheet, "", "", first, "rejected by the engine's check")]
        ) from None
    warn_implausible(ctx, table, frame)
    for moved in book.searched:
        old, new = moved.split(" -> ")
        ctx.warn(
            f"{new}: read as the {old} table (found by its header row; the "
            "defined names xlmodel_* are missing)"
        )
    return Checked(
        names=list(names),
        warnings=ctx.warnings,
        _frame=frame,
        _settings=dict(
            workloads=workload_intensities,
            scaling_counts=counts,
            hbm_stacks_per_chiplet=stacks,
            utilizations=utils,
            sweep_base=base,
            sweeps=sweeps,
            tornado_parameters=tornado,
            tornado_percent=percent,
            references=chips,
            exploration=exploration,
            uncertainty=uncertainty,
            serving=serving,
            process_nodes=nodes,
            workload_weights=workload_weights,
            sources=cells,
        ),
    )


def _targets_of(frame: Table | None, target_values: dict):
    """``f(name)``: a variant's target values (a per-variant row on Variants wins;
    the Targets sheet's for an unknown name or without variants)."""
    keys = [p.name for p in TARGETS]

    def of(name: str) -> dict:
        if frame is None or name not in frame.index:
            return dict(target_values)
        row = frame.row(name)
        return {k: _scalar(row[k]) for k in keys}

    return of


def _scalar(value):
    # A number as a Python float or int (a DataFrame row's to_dict gives those).
    return value.item() if isinstance(value, np.generic) else value


# --- the package ----------------------------------------------------------------------


def load_bytes(path: Path) -> bytes:
    """The bytes of the workbook at ``path``, screened: a missing file, a
    folder, a device, a file too large, empty or not an xlsx package is a
    PackageError that says which."""
    if not path.exists():
        raise PackageError(f"{path}: no such file")
    if path.is_dir():
        raise PackageError(f"{path}: is a folder, not a workbook")
    # A pipe or a device (a link to /dev/zero, say) would never end or never fill.
    if not path.is_file():
        raise PackageError(f"{path}: is not a regular file (a pipe or a device?)")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise PackageError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(data) > MAX_FILE_BYTES:
        raise PackageError(
            f"{path}: is larger than {MAX_FILE_BYTES >> 20:,} MiB, too large for a "
            "workbook xlmodel reads"
        )
    _sniff(path, data)
    return data


def _sniff(path: Path, data: bytes) -> None:
    # Say what the file is when it is not an xlsx/xlsm package.
    if not data:
        raise PackageError(f"{path}: is empty (0 bytes), not a workbook")
    if data.startswith(_OLE_MAGIC):
        raise PackageError(
            f"{path}: legacy .xls or password-protected workbook: save as .xlsx "
            "(Excel Workbook) without a password"
        )
    if not data.startswith(b"PK"):
        raise PackageError(f"{path}: {_describe_non_zip(path, data[:4096])}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise PackageError(
            f"{path}: corrupt or truncated zip file, not a readable workbook "
            "(copy it again or save it again from Excel)"
        ) from None
    if b"opendocument" in mimetype:
        raise PackageError(
            f"{path}: is an OpenDocument spreadsheet (.ods): save it as Excel "
            ".xlsx (File > Save As > Excel 2007-365)"
        )
    if "xl/workbook.bin" in names:
        raise PackageError(
            f"{path}: is a binary Excel workbook (.xlsb): save it as .xlsx "
            "(Excel Workbook) or .xlsm"
        )
    if "[Content_Types].xml" not in names or not (
        any(n.startswith("xl/") for n in names) or _workbook_elsewhere(path, data)
    ):
        what = (
            "a Word document"
            if any(n.startswith("word/") for n in names)
            else "a PowerPoint file"
            if any(n.startswith("ppt/") for n in names)
            else "a zip archive"
        )
        raise PackageError(f"{path}: is {what}, not an Excel workbook (.xlsx)")
    # Unsafe part names, zip bombs, XML entity declarations: refused before openpyxl
    # unpacks or parses anything.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        screen_zip(path, zf)


def _workbook_elsewhere(path: Path, data: bytes) -> bool:
    """Whether the root relationships name a workbook part outside ``xl/``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        screen_zip(path, zf)
        return workbook_part(zf) is not None


def _describe_non_zip(path: Path, head: bytes) -> str:
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return "is not an Excel workbook (.xlsx or .xlsm expected)"
    start = text.lstrip().lower()
    if start.startswith("<"):
        return (
            "is an HTML or XML file, not an .xlsx workbook: open it in Excel or "
            "LibreOffice and save as .xlsx"
        )
    if path.suffix.lower() in (".csv", ".tsv", ".txt") or _looks_like_csv(text):
        return (
            "is a CSV (plain text) file, not an Excel workbook: start from the "
            "template (xlmodel init) or save it as .xlsx"
        )
    return "is a text file, not an Excel workbook (.xlsx expected)"


def _looks_like_csv(text: str) -> bool:
    try:
        csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        return False
    return True
