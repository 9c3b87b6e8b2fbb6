"""The compute job: read and check a workbook, run every study, write results back.

read (workbook.reader) -> run (study) -> report (workbook.report, a separate
xlsxwriter file) -> splice into the original package (workbook.package, atomic)
-> export CSV and PNG. The CLI calls these functions and only prints.

A compute holds an exclusive advisory lock (``flock``) on a lock file beside the
workbook it writes, ``.~xlmodel.<name>.lock``, from before it reads until after
it has written: a second compute of the same workbook waits for the first (at
most ``LOCK_WAIT_S`` seconds), then reads what the first wrote. Holding the lock,
it removes temporary files of that workbook left by a compute that was killed
mid-write (the kernel releases a dead process's lock). The lock file is removed
afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: computes are not serialised
    fcntl = None  # type: ignore[assignment]

from typing import TYPE_CHECKING

from . import __version__
from .errors import PackageError
from .workbook import reader

if TYPE_CHECKING:  # bound at run time by _load() (below)
    from .export import export
    from .studies import changes
    from .studies.design_space import require_exploration
    from .studies.run import Results, run
    from .workbook import package, report
    from .workbook.results import state

# What only a compute needs (the studies, the writer, the splice, the export) is
# imported on its first use, so that ``validate`` starts without it: ``_LAZY``
# names -> their module and attribute (None: the module itself).
_LAZY = {
    "export": ("xlmodel.export", "export"),
    "changes": ("xlmodel.studies.changes", None),
    "require_exploration": ("xlmodel.studies.design_space", "require_exploration"),
    "Results": ("xlmodel.studies.run", "Results"),
    "run": ("xlmodel.studies.run", "run"),
    "package": ("xlmodel.workbook.package", None),
    "report": ("xlmodel.workbook.report", None),
    "state": ("xlmodel.workbook.results.state", None),
}


def __getattr__(name: str):
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(spec[0])
    value = module if spec[1] is None else getattr(module, spec[1])
    globals()[name] = value  # later uses, and a test's replacement, are plain
    return value


def _load() -> None:
    """Bind every lazily imported name (one already bound is kept)."""
    for name in _LAZY:
        if name not in globals():
            __getattr__(name)


#: Seconds a compute waits for another compute writing the same workbook.
LOCK_WAIT_S = 120.0
_LOCK_POLL_S = 0.05


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


def check(path):
    """Read and check ``path`` without building its tables (no pandas): the
    variant names and the warnings (:class:`~xlmodel.workbook.reader.Checked`;
    raises InputProblems/PackageError as :func:`validate`)."""
    return reader.check_study(path)


def compute(
    path,
    out=None,
    export_dir=None,
    now: datetime | None = None,
    progress=None,
    explore: bool = False,
    open_on_summary: bool = False,
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
        and the Monte Carlo (see :func:`xlmodel.studies.run.run`).
    explore : bool
        Refuse a workbook whose Exploration setup asks for no exploration.
    open_on_summary : bool
        Make the workbook open on the Summary even when a sheet of the user's
        is selected: the user's sheets lose their selection flag
        (``tabSelected``), the one change made to their parts. Otherwise the
        workbook opens on the Summary only when none of the user's sheets is
        selected (the shipped template; a workbook saved on a result sheet),
        and else where it was left.

    Returns
    -------
    Results
    """
    _load()
    path = Path(path)
    out = Path(out) if out is not None else path
    reader.check_not_open(path)
    if out != path and out.exists():
        reader.check_not_open(out)
    _check_writable(out)
    if export_dir is not None:
        _check_export_dir(Path(export_dir))
    package.check_replaceable(path, out, report.SHEETS)
    with _write_lock(out):
        study, record = reader.read_recorded(path)
        if explore:
            require_exploration(study, path)
        # what the last compute kept, read before the results are replaced
        previous, previous_note = state.read_previous(path)
        info = package.inspect_package(path, report.SHEETS)
        # a target the workbook cannot be written to, refused before the studies
        package.main_type_for(info.content_type, out)
        results = run(study, progress)  # the Monte Carlo may still run
        try:
            names = package.plan_sheet_names(info, list(report.SHEETS))
            readers = package.sheets_reading_results(
                path, list(names.values()), report.SHEETS
            )
            run_info = {
                "version": __version__,
                "input_file": path.name,
                "input_sha256": file_sha256(path),
                "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
                "warnings": list(study.warnings),
                "replaced": sorted(info.owned, key=info.sheet_names.index),
                "kept_copies": sorted(info.copies, key=info.sheet_names.index),
                "readers": readers,
            }
            current = changes.snapshot(
                record.cells,
                study.variants,
                study.process_nodes,
                {k: run_info[k] for k in ("time", "version", "input_file")},
            )
            run_info.update(
                record=record,
                snapshot=current,
                changes=None
                if previous is None
                else changes.compare(previous, current, study.process_nodes),
                previous_note=previous_note,
            )
            _check_writable(out)

            # the results handed to the splice in memory, in final form for
            # the workbook's styles as read
            def splice(parts, maps=None) -> None:
                package.splice_results(
                    path,
                    parts,
                    out,
                    report.SHEETS,
                    open_on=names.get("Summary"),
                    deselect=open_on_summary,
                    final=maps,
                )

            try:
                splice(*_results_parts(results, names, run_info, info.styles))
            except package.StaleStyles:
                # the styles changed since they were read: the results
                # written again in the writer's own form
                splice(*_results_parts(results, names, run_info))
        except BaseException:
            results.abandon()  # a failed compute ends its Monte Carlo
            raise
    if export_dir is not None:
        export(results, export_dir)
    return results


def diff(old, new) -> changes.Changes:
    """What changed from the workbook ``old`` to the workbook ``new``.

    Both are read with the ordinary reader (nothing is written); the headline
    metrics are evaluated from each one's variants.

    Raises
    ------
    InputProblems, PackageError
        Either workbook cannot be read, or its inputs have problems.
    """
    _load()
    snaps = []
    for path in (Path(old), Path(new)):
        study, record = reader.read_recorded(path)
        snaps.append(
            (
                changes.snapshot(
                    record.cells,
                    study.variants,
                    study.process_nodes,
                    {"input_file": path.name},
                ),
                study,
            )
        )
    (a, _), (b, study) = snaps
    return changes.compare(a, b, study.process_nodes)


def _results_parts(results: Results, names, run_info: dict, styles=NotImplemented):
    """The results workbook in memory (:func:`report.results_parts`), as a
    package the splice takes, in final form for the workbook styles
    ``styles`` when given; and the style maps (or None)."""
    entries, maps = report.results_parts(results, names, run_info, styles)
    return package.Package.in_memory("results workbook", "results", entries), maps


#: The lock files' descriptors this process holds (see :func:`_write_lock`).
_HELD_LOCKS: set[int] = set()


def _close_held_locks() -> None:
    """In a forked child: let go of the parent's locks.

    An ``flock`` belongs to the open file, which a fork shares: a child that kept
    the descriptor would hold the lock after its parent ended (killed, say), and
    the next compute of the workbook would be refused while the child lives.
    """
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_held_locks)


@contextlib.contextmanager
def _write_lock(out: Path) -> Iterator[Path]:
    """Hold the exclusive lock on writing ``out``; yield its real path.

    The lock is ``flock`` on ``.~xlmodel.<name>.lock`` beside the real target (a
    symbolic link is followed, so both names lock the same file). Waits at most
    ``LOCK_WAIT_S`` seconds for another compute, then refuses. Holding the lock,
    temporary files of the target older than the lock are left-overs of a killed
    compute and are removed.
    """
    target = Path(os.path.realpath(out))
    lock = target.with_name(package.temp_prefix(target.name) + "lock")
    if fcntl is None:  # pragma: no cover
        yield target
        return
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PackageError(
                f"{target.parent}: cannot create the lock file {lock.name} "
                f"({exc.strerror or exc}); nothing was written"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise PackageError(
                    f"{out}: another xlmodel compute is writing this workbook (lock "
                    f"file {lock.name}); run again when it has finished"
                ) from None
            time.sleep(_LOCK_POLL_S)
            continue
        try:
            # The previous holder removes the lock file when it is done: a lock
            # taken on a file that is no longer at that name locks nothing.
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        except OSError:
            pass
        os.close(fd)
    _HELD_LOCKS.add(fd)
    try:
        # The lock file's fresh time stamp, by the file system's own clock.
        with contextlib.suppress(OSError):
            os.utime(fd)
        _remove_stale_temps(target, os.fstat(fd).st_mtime)
        yield target
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        _HELD_LOCKS.discard(fd)
        os.close(fd)


def _remove_stale_temps(target: Path, since: float) -> None:
    """Remove the target's temporary files written before ``since`` (a killed run)."""
    pattern = re.compile(
        re.escape(package.temp_prefix(target.name))
        + r"[a-z0-9_]{8}\.(?:tmp|results\.xlsx)"
    )
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime <= since:
                os.unlink(entry.path)


def _check_writable(out: Path) -> None:
    # A file or folder without any write permission bit is read-only even for
    # a user (root) whom the system would let write it: it was made so on purpose.
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise PackageError(f"{folder}: folder does not exist; cannot write {out.name}")
    if not _writable(folder):
        raise PackageError(f"{folder}: folder is read-only; cannot write {out.name}")
    if out.exists() and not out.is_file():
        raise PackageError(f"{out}: is not a regular file; nothing was written")
    if out.exists() and not _writable(out):
        raise PackageError(f"{out}: file is read-only; nothing was written")


def _check_export_dir(folder: Path) -> None:
    # The export folder, or the nearest folder above it that exists (where it
    # will be made), writable by the same rule as the workbook's, checked
    # before any work so that a refused export leaves the workbook unchanged.
    if folder.exists() and not folder.is_dir():
        raise PackageError(f"{folder}: is not a folder; cannot write the exports there")
    at = folder
    while not at.exists() and at != at.parent:
        at = at.parent
    if not at.is_dir():
        raise PackageError(
            f"{at}: is not a folder; cannot make the export folder {folder} in it"
        )
    if not _writable(at):
        what = "export folder" if at == folder else f"folder above {folder}"
        raise PackageError(
            f"{at}: {what} is read-only; cannot write the exports (nothing was written)"
        )


def _writable(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)
