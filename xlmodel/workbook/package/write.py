"""Writing the merged package: a temporary file beside the target, then a rename.

Owns :class:`Merged` (the output package: the original's entries, some replaced,
then the new parts), the names of xlmodel's temporary files (:func:`temp_prefix`),
the refusal to replace a workbook that a spreadsheet application has open (its
lock file lies beside it) and the atomic write itself: zip to a temporary file,
fsync, keep the permission bits, rename over the target, fsync the folder. The
zip is packed by :func:`pack`: the zip writer's bytes, its large parts
compressed on several cores.
"""

from __future__ import annotations

import errno
import io
import os
import struct
import tempfile
import time
import zipfile
import zlib
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


#: The workbooks this process has written (each path as given, once its
#: replace is done): what an error afterwards must not call unchanged.
WRITTEN: list[str] = []


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
            entries = []
            for info in merged.infos:
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                entry.external_attr = info.external_attr
                entries.append((entry, merged.data[info.filename]))
            now = time.localtime(time.time())[:6]
            for name, data in merged.new:
                entry = zipfile.ZipInfo(name, now)
                entry.external_attr = 0o644 << 16
                entries.append((entry, data))
            packed = pack(entries)
            handle.write(packed)
            del packed, entries
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
        WRITTEN.append(os.fspath(out_path))
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


#: Parts at least this large are compressed on a thread of their own.
_THREADED_BYTES = 256 * 1024
# The zip format's limits without its 64-bit extension (zipfile's, the same).
_ZIP32_BYTES = (1 << 31) - 1
_ZIP32_ENTRIES = 0xFFFF


def pack(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """A zip file of ``entries`` (each a name, date and permissions, and its
    bytes), every one compressed (deflate): the bytes Python's zip writer
    writes for them, its large parts compressed on several cores.

    zlib compresses without holding the interpreter, so the large parts are
    compressed on threads, side by side (most of the time of the write of a
    workbook with many variants), while the others are compressed here; the
    container is then written as the zip writer writes it: a local header and
    the data per entry, the central directory, its end record. A package
    beyond the plain format's limits (2 GiB, 65,535 entries) is written by
    the zip writer itself, with its 64-bit records.
    """
    if len(entries) > _ZIP32_ENTRIES or sum(len(d) for _, d in entries) > (
        _ZIP32_BYTES // 2
    ):
        return _pack_serially(entries)
    big = [i for i, (_, data) in enumerate(entries) if len(data) >= _THREADED_BYTES]
    done: dict[int, tuple[int, bytes]] = {}
    workers = min(len(big), os.cpu_count() or 1, 4)
    if workers >= 2:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            futures = {i: pool.submit(_deflate, entries[i][1]) for i in big}
            for i, (_, data) in enumerate(entries):
                if i not in futures:
                    done[i] = _deflate(data)
            for i, future in futures.items():
                done[i] = future.result()
    else:
        done = {i: _deflate(data) for i, (_, data) in enumerate(entries)}
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for i, (info, data) in enumerate(entries):
        crc, packed = done[i]
        name, flags = _encoded_name(info)
        dt = info.date_time
        dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
        dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
        sizes = (crc, len(packed), len(data), len(name))
        local = struct.pack(
            "<4s2B4HL2L2H",
            b"PK\x03\x04",
            zipfile.DEFAULT_VERSION,
            0,
            flags,
            zipfile.ZIP_DEFLATED,
            dostime,
            dosdate,
            *sizes,
            0,
        )
        central.append(
            struct.pack(
                "<4s4B4HL2L5H2L",
                b"PK\x01\x02",
                zipfile.DEFAULT_VERSION,
                info.create_system,
                zipfile.DEFAULT_VERSION,
                0,
                flags,
                zipfile.ZIP_DEFLATED,
                dostime,
                dosdate,
                *sizes,
                0,
                0,
                0,
                0,
                info.external_attr or 0o600 << 16,
                offset,
            )
            + name
        )
        chunks += (local, name, packed)
        offset += len(local) + len(name) + len(packed)
    directory = b"".join(central)
    if offset + len(directory) > _ZIP32_BYTES:
        return _pack_serially(entries)
    n = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), offset, 0)
    return b"".join((*chunks, directory, end))


def _deflate(data: bytes) -> tuple[int, bytes]:
    """The CRC-32 of ``data`` and its raw deflate stream, as the zip writer
    compresses a part (zlib's default level)."""
    squeeze = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return zlib.crc32(data), squeeze.compress(data) + squeeze.flush()


def _encoded_name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    """The entry's name as stored, and its flags (UTF-8 names flagged)."""
    try:
        return info.filename.encode("ascii"), 0
    except UnicodeEncodeError:
        return info.filename.encode("utf-8"), 0x800


def _pack_serially(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """:func:`pack` by the zip writer alone, one part after the other."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    return packed.getvalue()
