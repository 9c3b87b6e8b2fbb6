"""The compute job: read and check a workbook, run every study, write results back.

read (workbook.reader) -> run (study) -> report (workbook.report, a separate
xlsxwriter file) -> splice into the original package (workbook.package, atomic)
-> export CSV and PNG. The CLI calls these functions and only prints.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .errors import PackageError
from .exploration import require_exploration
from .study import Results, run
from .workbook import package, reader, report


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def validate(path):
    """Read and check ``path``; return the Study (raises InputProblems/PackageError)."""
    return reader.read_study(path)


def compute(
    path,
    out=None,
    export_dir=None,
    now: datetime | None = None,
    progress=None,
    explore: bool = False,
) -> Results:
    """Compute every result of the workbook at ``path`` and write them back.

    Parameters
    ----------
    path : path-like
        The user's .xlsx or .xlsm; never modified unless ``out`` is None (in place).
    out : path-like, optional
        Where to write the workbook with results; default: ``path`` itself.
    export_dir : path-like, optional
        Folder for CSV tables and the seed's four PNG figures; None: no export.
    now : datetime, optional
        Time recorded on the Run sheet (default: the current UTC time).
    progress : callable, optional
        ``progress(stage, done, total)`` during the exploration, the Sobol indices
        and the Monte Carlo (see :func:`xlmodel.study.run`).
    explore : bool
        Refuse a workbook whose Exploration setup asks for no exploration.

    Returns
    -------
    Results
    """
    path = Path(path)
    out = Path(out) if out is not None else path
    reader.check_not_open(path)
    if out != path and out.exists():
        reader.check_not_open(out)
    study = reader.read_study(path)
    if explore:
        require_exploration(study, path)
    results = run(study, progress)
    info = package.inspect_package(path)
    names = package.plan_sheet_names(info, list(report.SHEETS))
    run_info = {
        "version": __version__,
        "input_file": path.name,
        "input_sha256": file_sha256(path),
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "warnings": list(study.warnings),
    }
    _check_writable(out)
    fd, tmp = tempfile.mkstemp(
        suffix=".xlsx", prefix=".xlmodel-results-", dir=out.parent
    )
    os.close(fd)
    try:
        report.write_results(results, tmp, names, run_info)
        package.splice_results(path, tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if export_dir is not None:
        export(results, export_dir)
    return results


def _check_writable(out: Path) -> None:
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise PackageError(f"{folder}: folder does not exist; cannot write {out.name}")
    if not os.access(folder, os.W_OK):
        raise PackageError(f"{folder}: folder is read-only; cannot write {out.name}")
    if out.exists() and not os.access(out, os.W_OK):
        raise PackageError(f"{out}: file is read-only; nothing was written")


def export(results: Results, export_dir) -> list[Path]:
    """Write every result table as CSV and the seed's four figures as PNG.

    Returns the paths written: <table>.csv for each of ``Results.tables()``, and
    roofline_fp16.png, chiplet_scaling.png, architecture_comparison.png,
    sensitivity_analysis.png.
    """
    from . import plots

    d = Path(export_dir)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in results.tables().items():
        p = d / f"{name}.csv"
        table.to_csv(p, index=False)
        written.append(p)
    t = results.study.targets
    budget = float(t["power_budget_w"])
    density = float(t["density_target_tflops_per_mm2"])
    shown = results.metrics.head(12)
    figures = {
        "roofline_fp16.png": lambda p: plots.roofline_figure(
            shown, "FP16", p, results.study.workloads
        ),
        "chiplet_scaling.png": lambda p: plots.scaling_figure(
            results.scaling[results.scaling["variant"].isin(shown.index)], p, budget
        ),
        "architecture_comparison.png": lambda p: plots.comparison_figure(
            results.metrics, density, budget, p
        ),
        "sensitivity_analysis.png": lambda p: plots.sensitivity_figure(
            results.sweep_points, density, budget, p
        ),
    }
    for name, draw in figures.items():
        p = d / name
        draw(p)
        written.append(p)
    return written
