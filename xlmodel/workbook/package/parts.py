"""The zip package: opened after screening, its parts read on demand.

Owns :class:`Package` (a validated zip package: part names compared as OPC does,
parts read and cached, relationships with targets resolved, content types, the main
workbook part, the graph of relationships) and the part-name arithmetic around it:
the relationships part of a part, a target resolved against its source, a target
written relative to a new source, and the parts reachable through relationships.
"""

from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from xlmodel.errors import PackageError

from .ooxml import (
    CONTENT_TYPES,
    NS_CT,
    NS_PKG_REL,
    ROOT_RELS,
    RT_OFFICE_DOCUMENT,
    error,
    fold,
    q,
)
from .screen import screen_zip
from .xmltext import parse

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Rel:
    """One relationship of a part."""

    rid: str
    type: str
    target: str
    external: bool
    part: str | None


def rels_name(part: str) -> str:
    """Name of the relationships part of a part ('' is the package)."""
    if part == "":
        return ROOT_RELS
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source: str, target: str) -> str | None:
    """Part name a relationship target points at, or None if outside."""
    target = target.split("#", 1)[0]
    if not target:
        return None
    if target.startswith("/"):
        path = target[1:]
    else:
        path = posixpath.join(posixpath.dirname(source), target)
    path = posixpath.normpath(path)
    if path in (".", "..") or path.startswith("../"):
        return None
    return path


def workbook_part(archive: zipfile.ZipFile) -> str | None:
    """The spreadsheet workbook part a zip package's root relationships name.

    Follows the ``officeDocument`` relationship of ``_rels/.rels`` wherever it
    points (``xl/workbook.xml`` or any other folder); None when there is none,
    or when the part it names is missing or has no spreadsheet content type
    (a Word or PowerPoint package, say). The archive should have been screened
    (:func:`~.screen.screen_zip`) first.
    """
    by_fold = {fold(n): n for n in archive.namelist() if not n.endswith("/")}
    rels_part = by_fold.get(fold(ROOT_RELS))
    types_part = by_fold.get(fold(CONTENT_TYPES))
    if rels_part is None or types_part is None:
        return None
    try:
        rels = parse(archive.read(rels_part), rels_part)
        types = parse(archive.read(types_part), types_part)
    except (PackageError, zipfile.BadZipFile, zlib.error, OSError, EOFError):
        return None
    for el in rels.iter(q(NS_PKG_REL, "Relationship")):
        if not el.get("Type", "").endswith("/officeDocument"):
            continue
        if el.get("TargetMode", "Internal") == "External":
            continue
        name = resolve("", el.get("Target", ""))
        found = by_fold.get(fold(name)) if name else None
        if found is None and name and "%" in name:
            found = by_fold.get(fold(unquote(name)))
        if found is None:
            continue
        content_type = ""
        for override in types.iter(q(NS_CT, "Override")):
            if fold(override.get("PartName", "").lstrip("/")) == fold(found):
                content_type = override.get("ContentType", "")
        if not content_type and "." in posixpath.basename(found):
            ext = fold(found.rsplit(".", 1)[-1])
            for default in types.iter(q(NS_CT, "Default")):
                if fold(default.get("Extension", "")) == ext:
                    content_type = default.get("ContentType", "")
        if "spreadsheetml" in content_type or "ms-excel" in content_type:
            return found
    return None


def relative(source: str, target: str) -> str:
    """Target of a relationship from ``source`` to ``target``."""
    return posixpath.relpath("/" + target, "/" + (posixpath.dirname(source) or ""))


class Package:
    """A validated zip package; parts are read on demand and cached."""

    def __init__(self, path: str | os.PathLike[str], role: str):
        self.path = path
        self.role = role
        self.zip: zipfile.ZipFile | None = None
        self.infos: list[zipfile.ZipInfo] = []
        self.by_fold: dict[str, str] = {}
        self.data: dict[str, bytes] = {}
        self._rels: dict[str, list[Rel]] = {}
        self._types: tuple[dict[str, str], dict[str, str]] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], role: str) -> Package:
        pkg = cls(path, role)
        pkg._open()
        return pkg

    @classmethod
    def in_memory(
        cls, label: str, role: str, parts: list[tuple[zipfile.ZipInfo, bytes]]
    ) -> Package:
        """A package held in memory, its parts (entry, bytes) in order: the
        results xlmodel has just written, handed to the splice without a
        file in between; ``label`` names it in messages."""
        pkg = cls(label, role)
        pkg.infos = [info for info, _ in parts]
        for info, data in parts:
            if not info.filename.endswith("/"):
                pkg.by_fold[fold(info.filename)] = info.filename
                pkg.data[info.filename] = data
        if CONTENT_TYPES not in pkg.by_fold.values():
            raise pkg.fail(f"is not an Office Open XML package (no {CONTENT_TYPES})")
        return pkg

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()
            self.zip = None

    def fail(self, message: str) -> PackageError:
        return error(self.path, message)

    def _open(self) -> None:
        """Open the zip and refuse files that are not safe workbook packages."""
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(8)
        except IsADirectoryError:
            raise self.fail("is a directory, not a workbook file") from None
        except OSError as exc:
            raise self.fail(f"cannot read the file ({exc.strerror or exc})") from None
        if head.startswith(_OLE_MAGIC):
            raise self.fail(
                "is password-protected or legacy .xls (an OLE compound file); "
                "save it as an unprotected .xlsx or .xlsm workbook"
            )
        try:
            self.zip = zipfile.ZipFile(self.path)
            self.infos = self.zip.infolist()
        except zipfile.BadZipFile:
            raise self.fail(
                f"is not a valid {self.role} file (not a zip package, or a "
                "damaged or truncated one)"
            ) from None
        except (OSError, EOFError, ValueError) as exc:
            raise self.fail(f"cannot read the zip package ({exc})") from None
        screen_zip(self.path, self.zip)
        for info in self.infos:
            if not info.filename.endswith("/"):
                self.by_fold[fold(info.filename)] = info.filename
        if CONTENT_TYPES not in self.by_fold.values():
            raise self.fail(f"is not an Office Open XML package (no {CONTENT_TYPES})")

    @property
    def names(self) -> list[str]:
        return [i.filename for i in self.infos if not i.filename.endswith("/")]

    def find(self, name: str | None) -> str | None:
        if name is None:
            return None
        found = self.by_fold.get(fold(name))
        if found is None and "%" in name:
            found = self.by_fold.get(fold(unquote(name)))
        return found

    def read(self, name: str) -> bytes:
        if name not in self.data:
            if self.zip is None:
                raise self.fail(f"part {name!r} was not loaded")
            try:
                self.data[name] = self.zip.read(name)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                OSError,
                NotImplementedError,
                KeyError,
            ) as exc:
                raise self.fail(f"damaged zip entry {name!r} ({exc})") from None
        return self.data[name]

    def read_all(self) -> None:
        for name in self.names:
            self.read(name)

    def xml(self, name: str) -> Element:
        return parse(self.read(name), f"{os.fspath(self.path)}: {name}")

    def rels(self, source: str) -> list[Rel]:
        """Relationships of a part ('' for the package), targets resolved."""
        if source in self._rels:
            return self._rels[source]
        found: list[Rel] = []
        rels_part = self.find(rels_name(source))
        if rels_part is not None:
            root = self.xml(rels_part)
            for el in root.iter(q(NS_PKG_REL, "Relationship")):
                target = el.get("Target", "")
                external = el.get("TargetMode", "Internal") == "External"
                part = None if external else self.find(resolve(source, target))
                found.append(
                    Rel(el.get("Id", ""), el.get("Type", ""), target, external, part)
                )
        self._rels[source] = found
        return found

    def content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        """Defaults by folded extension and overrides by folded part name."""
        if self._types is None:
            root = self.xml(CONTENT_TYPES)
            defaults = {
                fold(el.get("Extension", "")): el.get("ContentType", "")
                for el in root.iter(q(NS_CT, "Default"))
            }
            overrides = {
                fold(el.get("PartName", "").lstrip("/")): el.get("ContentType", "")
                for el in root.iter(q(NS_CT, "Override"))
            }
            self._types = (defaults, overrides)
        return self._types

    def content_type(self, name: str) -> tuple[str | None, bool]:
        """Content type of a part, and whether it comes from an Override."""
        defaults, overrides = self.content_types()
        if fold(name) in overrides:
            return overrides[fold(name)], True
        ext = fold(name.rsplit(".", 1)[-1]) if "." in posixpath.basename(name) else ""
        return defaults.get(ext), False

    def main_part(self) -> str:
        """Name of the workbook part (the package's office document)."""
        for rel in self.rels(""):
            if rel.type == RT_OFFICE_DOCUMENT or rel.type.endswith("/officeDocument"):
                if rel.part is not None:
                    return rel.part
        fallback = self.find("xl/workbook.xml")
        if fallback is None:
            if self.find("xl/workbook.bin") is not None:
                raise self.fail("binary workbooks (.xlsb) are not supported")
            raise self.fail("is not an Excel workbook (no xl/workbook.xml)")
        return fallback

    def graph(self) -> dict[str, list[str]]:
        """Internal relationship targets of every part (and of the package)."""
        edges: dict[str, list[str]] = {}
        for source in ["", *self.names]:
            if source.endswith(".rels") and "/_rels/" in "/" + source:
                continue
            targets = [r.part for r in self.rels(source) if r.part is not None]
            if targets:
                edges[source] = targets
        return edges


def reach(
    edges: dict[str, list[str]], starts: Iterable[str], skip: set[tuple[str, str]]
) -> set[str]:
    """Parts reachable from ``starts`` without following ``skip`` edges."""
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        part = todo.pop()
        if part in seen:
            continue
        seen.add(part)
        todo.extend(t for t in edges.get(part, []) if (part, t) not in skip)
    return seen
