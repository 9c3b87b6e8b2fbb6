"""Writing the merged package: a temporary file beside the target, then a rename.

Owns :class:`Merged` (the output package: the original's entries, some replaced,
then the new parts), the names of xlmodel's temporary files (:func:`temp_prefix`),
the refusal to replace a workbook that a spreadsheet application has open (its
lock file lies beside it) and the atomic write itself: zip to a temporary file,
fsync, keep the permission bits, rename over the target, fsync the folder.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass

from .ooxml import error


@dataclass
class Merged:
    """The output package: original entries (some replaced) then new parts."""

    infos: list[zipfile.ZipInfo]
    data: dict[str, bytes]
    new: list[tuple[str, bytes]]


#: What a failed write most likely means, by errno.
_WRITE_FAILURES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is too large for this file system",
}


def temp_prefix(name: str) -> str:
    """Start of the names of xlmodel's temporary files beside a workbook ``name``.

    The merged package is written to ``<prefix><random>.tmp`` and renamed over
    the workbook; the compute pipeline writes its results workbook to
    ``<prefix><random>.results.xlsx`` and locks ``<prefix>lock``. A process
    killed mid-write leaves such a file; the next compute of the same workbook
    removes it (see ``xlmodel.pipeline``).
    """
    return f".~xlmodel.{name}."


def refuse_if_locked(out_path: str | os.PathLike[str]) -> None:
    """Refuse to replace a workbook that Excel or LibreOffice has open.

    The lock file lies beside the file the program opened: beside the name
    given and, for a symbolic link, beside the file it points to.
    """
    given = os.path.abspath(os.fspath(out_path))
    places = dict.fromkeys([given, os.path.realpath(given)])
    for folder, name in (os.path.split(p) for p in places):
        for lock in (f"~${name}", f".~lock.{name}#"):
            if os.path.lexists(os.path.join(folder, lock)):
                raise error(
                    out_path,
                    f"is open in another program (lock file {lock!r}); close it, "
                    "or delete the lock file if no program has it open",
                )


def write_atomically(
    out_path: str | os.PathLike[str], merged: Merged, mode: int
) -> None:
    """Write the merged package to a temporary file, then move it into place."""
    target = os.path.realpath(os.fspath(out_path))
    folder = os.path.dirname(target)
    try:
        fd, temp = tempfile.mkstemp(
            dir=folder, prefix=temp_prefix(os.path.basename(target)), suffix=".tmp"
        )
    except OSError as exc:
        raise error(out_path, f"cannot write here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            # packed in memory, then written: a write that fails (a full disk)
            # fails outside the zip writer, which never holds a broken file
            packed = io.BytesIO()
            with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
                for info in merged.infos:
                    entry = zipfile.ZipInfo(info.filename, info.date_time)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    entry.external_attr = info.external_attr
                    out.writestr(entry, merged.data[info.filename])
                now = time.localtime(time.time())[:6]
                for name, data in merged.new:
                    entry = zipfile.ZipInfo(name, now)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    entry.external_attr = 0o644 << 16
                    out.writestr(entry, data)
            handle.write(packed.getbuffer())
            del packed
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            cause = _WRITE_FAILURES.get(
                exc.errno or 0, "is it open in another program?"
            )
            raise error(
                out_path,
                f"cannot write the workbook ({exc.strerror or exc}); {cause}; "
                "it was not changed",
            ) from exc
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
