"""Screening of a zip package before anything in it is unpacked or parsed.

Owns :func:`screen_zip` and its limits: the checks made from the zip directory
alone (unsafe part names, encryption, duplicate parts, part count, unpacked size,
compression ratios) and the search of each XML part's start for a document type or
entity declaration. The reader and the writer both call it, so they refuse the
same packages.
"""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
import zlib

from .ooxml import error, fold

_MAX_TOTAL_SIZE = 1 << 30
_MAX_RATIO = 200
_RATIO_MIN_SIZE = 10 * (1 << 20)
# The package as a whole: a zip bomb spread over many parts that are each small.
_MAX_TOTAL_RATIO = 100
_TOTAL_RATIO_MIN_SIZE = 64 * (1 << 20)
_MAX_PARTS = 50_000
# How much of each part is searched for a document type declaration.
_PROLOG_BYTES = 64 * 1024
_DTD_RE = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)")


def screen_zip(path: str | os.PathLike[str], archive: zipfile.ZipFile) -> None:
    """Refuse a zip package that is unsafe to unpack or to parse, before either.

    Checked from the zip directory alone: part names that are absolute, carry a
    drive letter, a backslash, a NUL or a ``..`` segment (path traversal);
    encrypted entries; a part present twice (names compared case-insensitively,
    as OPC does); more than 50,000 parts; a total unpacked size above 1 GiB; a
    part above 10 MiB that unpacks to more than 200 times its packed size, or a
    package above 64 MiB unpacked that does so 100 times over (zip bombs). Then
    the start of every XML part is read (at most 64 KiB of it): a document type
    declaration or an entity declaration, which Office Open XML forbids and
    which XML external entity and entity expansion attacks need, is refused.
    The XML parsers behind this refuse them too (defusedxml); this check only
    names the cause before any parser runs.

    Parameters
    ----------
    path : str or os.PathLike
        The file, for messages.
    archive : zipfile.ZipFile
        The package, open for reading.

    Raises
    ------
    PackageError
        One line naming the file and what is wrong.
    """
    infos = archive.infolist()
    if len(infos) > _MAX_PARTS:
        raise error(path, f"holds {len(infos):,} parts, more than {_MAX_PARTS:,}")
    seen: set[str] = set()
    total = packed = 0
    for info in infos:
        name = info.filename
        segments = name.split("/")
        if (
            name.startswith("/")
            or "\\" in name
            or "\x00" in name
            or re.match(r"^[A-Za-z]:", name)
            or ".." in segments
        ):
            raise error(path, f"holds an unsafe part name {name!r}")
        if info.flag_bits & 0x1:
            raise error(path, "holds encrypted zip entries")
        if name.endswith("/"):
            continue
        if fold(name) in seen:
            raise error(path, f"holds the part {name!r} twice")
        seen.add(fold(name))
        total += info.file_size
        packed += info.compress_size
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > _MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise error(path, f"part {name!r} has a suspicious compression ratio")
    if total > _MAX_TOTAL_SIZE:
        raise error(path, "would decompress to more than 1 GiB")
    if total > _TOTAL_RATIO_MIN_SIZE and total > _MAX_TOTAL_RATIO * max(packed, 1):
        raise error(path, "has a suspicious compression ratio (a zip bomb?)")
    for info in infos:
        if not info.filename.endswith("/") and _declares_dtd(archive, info):
            raise error(
                path,
                f"part {info.filename!r} declares an XML document type or entities, "
                "which workbooks never hold; refused for safety",
            )


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the start of an XML part holds <!DOCTYPE or <!ENTITY.

    Parts named like XML (``.xml``, ``.rels``, ``.vml`` or no extension) are
    searched, in UTF-8 (or any ASCII-compatible encoding) and UTF-16; binary
    parts (images, embedded objects, macros) may hold those bytes legitimately.
    """
    base = posixpath.basename(info.filename)
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if ext not in ("", "xml", "rels", "vml"):
        return False
    try:
        with archive.open(info) as handle:
            head = handle.read(_PROLOG_BYTES)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
    ):
        return False  # damage is reported by whoever reads the part
    texts = [head.decode("latin-1")]
    if b"\x00" in head[:512]:
        texts += [head.decode(c, errors="ignore") for c in ("utf-16-le", "utf-16-be")]
    return any(_DTD_RE.search(t) for t in texts)
