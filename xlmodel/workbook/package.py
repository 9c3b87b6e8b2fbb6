"""Lossless OOXML package merge: splice result sheets into a user's workbook file.

The user's workbook is never loaded and re-saved by a spreadsheet library, because
that loses text boxes, sparklines, x14 extensions and rewrites charts. Instead the
result sheets are written into a separate workbook, and their parts are copied into
the original zip package. Every part of the original that does not have to change
comes back byte-identical (same decompressed bytes under the same part name).

Only these parts of the original are rewritten, by careful string edits that keep
namespace prefixes and declarations: the workbook part (sheets, defined names, book
views, recalculation on load), its relationships, ``[Content_Types].xml``, the styles part (new formats are
appended), the calculation chain (entries of removed sheets dropped) and the
extended properties (sheet titles). Parts reachable only from a removed result sheet
are dropped. The file is written atomically next to its target.
"""

from __future__ import annotations

import codecs
import copy
import errno
import os
import posixpath
import re
import stat
import tempfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from xlmodel.errors import PackageError

__all__ = [
    "OWNED_NAME",
    "PackageInfo",
    "inspect_package",
    "plan_sheet_names",
    "screen_zip",
    "splice_results",
    "temp_prefix",
]

#: Sheet-scoped defined name that marks a sheet as one of xlmodel's result sheets.
OWNED_NAME = "_xlmodel_result"

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_NS_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_NS_XML = "http://www.w3.org/XML/1998/namespace"
_NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_NS_EXT_PROPS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
)

_RT_OFFICE_DOCUMENT = _NS_DOC_REL + "/officeDocument"
_RT_WORKSHEET = _NS_DOC_REL + "/worksheet"
_RT_STYLES = _NS_DOC_REL + "/styles"
_RT_CALC_CHAIN = _NS_DOC_REL + "/calcChain"
_RT_EXT_PROPS = _NS_DOC_REL + "/extended-properties"
_RT_TABLE = _NS_DOC_REL + "/table"
_CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

_CONTENT_TYPES = "[Content_Types].xml"
_ROOT_RELS = "_rels/.rels"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
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
_MAX_SHEET_NAME = 31

# Children of <styleSheet> in schema order, and of <workbook> after <sheets>.
_STYLE_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)
_BEFORE_DEFINED_NAMES = ("sheets", "functionGroups", "externalReferences")

# The attribute part of a start tag: anything up to '>' outside quoted values.
_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_ATTR_RE = re.compile(r"""([^\s=/<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_ROOT_RE = re.compile(r"<(?![?!])(?:([\w.-]+):)?([\w.-]+)(" + _ATTRS + ")>")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageInfo:
    """What a workbook package holds, as far as splicing results is concerned.

    Attributes
    ----------
    sheet_names : tuple of str
        Every sheet (worksheets and chart sheets), in workbook order.
    owned : frozenset of str
        Names of the sheets that carry ``OWNED_NAME`` (results of an earlier run).
    macro_enabled : bool
        Whether the main part has a macro-enabled content type (``.xlsm``).
    """

    sheet_names: tuple[str, ...]
    owned: frozenset[str]
    macro_enabled: bool


def inspect_package(path: str | os.PathLike[str]) -> PackageInfo:
    """Check that a file is a workbook package and list its sheets.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` or ``.xlsm`` file.

    Returns
    -------
    PackageInfo
        The sheets in workbook order, which of them are xlmodel's own, and
        whether the workbook is macro-enabled.

    Raises
    ------
    PackageError
        If the file cannot be read, is not a zip package, is a damaged or
        truncated zip, is password-protected or a legacy ``.xls`` file, holds
        unsafe part names, would decompress to an unreasonable size, or holds
        no spreadsheet workbook part.
    """
    with _Package.open(path, "workbook") as pkg:
        book = _Workbook.read(pkg)
        return PackageInfo(
            sheet_names=tuple(s.name for s in book.sheets),
            owned=frozenset(book.sheets[i].name for i in book.owned),
            macro_enabled="macroenabled" in book.content_type.lower(),
        )


def plan_sheet_names(info: PackageInfo, wanted: list[str]) -> dict[str, str]:
    """Choose the name of each result sheet so that no user sheet is replaced.

    A wanted name is used as is when no sheet has it, or when the sheet that has
    it is owned (it will be replaced). When a user sheet has it (compared
    case-insensitively, as Excel does), ``"<name> (xlmodel)"`` is tried, then
    ``"<name> (xlmodel 2)"`` and so on, with ``<name>`` shortened so that the
    result fits Excel's 31-character limit.

    Parameters
    ----------
    info : PackageInfo
        The workbook the results will be spliced into.
    wanted : list of str
        The result sheet names the report would like to use, in order.

    Returns
    -------
    dict of str to str
        Each wanted name mapped to the name to use. Names never clash with a
        user sheet or with each other; a name repeated in ``wanted`` is planned
        once.
    """
    taken = {_fold(n) for n in info.sheet_names if n not in info.owned}
    plan: dict[str, str] = {}
    for name in wanted:
        if name in plan:
            continue
        candidate = name
        number = 1
        while _fold(candidate) in taken:
            suffix = " (xlmodel)" if number == 1 else f" (xlmodel {number})"
            candidate = name[: _MAX_SHEET_NAME - len(suffix)] + suffix
            number += 1
        taken.add(_fold(candidate))
        plan[name] = candidate
    return plan


def splice_results(
    original_path: str | os.PathLike[str],
    results_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
) -> None:
    """Write the original workbook with its result sheets replaced by new ones.

    Every owned sheet of the original is removed together with the parts only
    it uses, its sheet-local defined names and its calculation-chain entries.
    Every sheet of ``results_path`` is appended after the user's sheets, in
    order, with its drawings, charts and other parts; its styles are merged into
    the original styles and its shared strings become inline strings. Every
    other part of the original keeps its exact bytes.

    Parameters
    ----------
    original_path : str or os.PathLike
        The user's workbook (``.xlsx`` or ``.xlsm``).
    results_path : str or os.PathLike
        A workbook holding only result sheets, each carrying ``OWNED_NAME``,
        written with names chosen by :func:`plan_sheet_names`. Its global
        defined names are not copied; its sheet-local ones are.
    out_path : str or os.PathLike
        Where to write; may be ``original_path``. The file is written to a
        temporary file in the same directory and moved into place, so the
        target is either fully written or untouched. The permission bits of
        the original are kept; a symbolic link is written through.

    Raises
    ------
    PackageError
        If either input is not a usable workbook package, a result sheet name
        clashes with a user sheet, a macro-enabled workbook would be written
        with an ``.xlsx`` name, the target is open in Excel or LibreOffice (its
        lock file lies beside it), or the output cannot be written.
    """
    with _Package.open(original_path, "workbook") as original:
        original.read_all()
    with _Package.open(results_path, "results workbook") as results:
        results.read_all()
    book = _Workbook.read(original)
    macro = "macroenabled" in book.content_type.lower()
    suffix = os.path.splitext(os.fspath(out_path))[1].lower()
    if macro and suffix == ".xlsx":
        raise _error(out_path, "a macro-enabled workbook must keep its .xlsm name")
    _refuse_if_locked(out_path)
    merged = _Splice(original, book, results).run()
    mode = stat.S_IMODE(os.stat(original_path).st_mode)
    _write_atomically(out_path, merged, mode)


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
        raise _error(path, f"holds {len(infos):,} parts, more than {_MAX_PARTS:,}")
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
            raise _error(path, f"holds an unsafe part name {name!r}")
        if info.flag_bits & 0x1:
            raise _error(path, "holds encrypted zip entries")
        if name.endswith("/"):
            continue
        if _fold(name) in seen:
            raise _error(path, f"holds the part {name!r} twice")
        seen.add(_fold(name))
        total += info.file_size
        packed += info.compress_size
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > _MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise _error(path, f"part {name!r} has a suspicious compression ratio")
    if total > _MAX_TOTAL_SIZE:
        raise _error(path, "would decompress to more than 1 GiB")
    if total > _TOTAL_RATIO_MIN_SIZE and total > _MAX_TOTAL_RATIO * max(packed, 1):
        raise _error(path, "has a suspicious compression ratio (a zip bomb?)")
    for info in infos:
        if not info.filename.endswith("/") and _declares_dtd(archive, info):
            raise _error(
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


# ---------------------------------------------------------------------------
# Small helpers: errors, XML text and attributes
# ---------------------------------------------------------------------------


def _fold(name: str) -> str:
    return name.casefold()


def _error(path: object, message: str) -> PackageError:
    """A one-line PackageError naming the file."""
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    text = f"{where}: {message}"
    return PackageError(text.replace("\r", " ").replace("\n", " "))


def _unescape(value: str) -> str:
    """Resolve the predefined entities and character references of XML text."""

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _ENTITIES[ref]

    return _ENTITY_RE.sub(repl, value)


def _esc_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(value: str) -> str:
    return (
        _esc_text(value)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _tag_attrs(tag: str) -> dict[str, str]:
    """Attributes of a start tag string, values unescaped."""
    body = re.sub(r"^<[^\s/>]+", "", tag)
    return {
        m.group(1): _unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTR_RE.finditer(body)
    }


def _attr_span(tag: str, name: str) -> re.Match[str] | None:
    return re.search(r"(\s)" + re.escape(name) + r"""\s*=\s*("[^"]*"|'[^']*')""", tag)


def _set_attr(tag: str, name: str, value: str) -> str:
    """Set (or add) an attribute in a start tag string."""
    match = _attr_span(tag, name)
    quoted = '"' + _esc_attr(value) + '"'
    if match:
        return tag[: match.start(2)] + quoted + tag[match.end(2) :]
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + f" {name}={quoted}" + tag[end:]


def _del_attr(tag: str, name: str) -> str:
    """Remove an attribute from a start tag string."""
    match = _attr_span(tag, name)
    if not match:
        return tag
    return tag[: match.start()] + tag[match.end() :]


def _start_tag_re(prefix: str, local: str) -> re.Pattern[str]:
    """Pattern of the start tags of one element name, with that prefix."""
    qname = (re.escape(prefix) + ":" if prefix else "") + re.escape(local)
    return re.compile("<" + qname + r"(?=[\s/>])" + _ATTRS + ">")


@dataclass
class _Span:
    """Where an element sits in a text: start tag, content and end."""

    start: int
    tag_end: int
    inner_end: int
    end: int
    tag: str

    @property
    def empty(self) -> bool:
        return self.tag.endswith("/>")


def _find_element(
    text: str, prefix: str, local: str, start: int = 0, end: int | None = None
) -> _Span | None:
    """First element of that name in ``text[start:end]``, or None.

    Only for elements that do not nest inside themselves.
    """
    match = _start_tag_re(prefix, local).search(
        text, start, len(text) if end is None else end
    )
    if not match:
        return None
    tag = match.group(0)
    if tag.endswith("/>"):
        return _Span(match.start(), match.end(), match.end(), match.end(), tag)
    qname = (prefix + ":" if prefix else "") + local
    close = re.compile("</" + re.escape(qname) + r"\s*>").search(text, match.end())
    if not close:
        return None
    return _Span(match.start(), match.end(), close.start(), close.end(), tag)


def _iter_elements(
    text: str, prefix: str, local: str, start: int, end: int
) -> list[_Span]:
    """Every element of that name in ``text[start:end]``, in order."""
    spans = []
    pos = start
    while True:
        span = _find_element(text, prefix, local, pos, end)
        if span is None or span.end > end:
            return spans
        spans.append(span)
        pos = span.end


@dataclass
class _Xml:
    """An XML part as text plus what is needed to edit it and write it back."""

    text: str
    encoding: str
    prefix: str
    nsmap: dict[str, str]

    def encode(self) -> bytes:
        if self.encoding == "utf-8-sig":
            return codecs.BOM_UTF8 + self.text.encode("utf-8")
        return self.text.encode(self.encoding, errors="xmlcharrefreplace")

    def prefix_for(self, namespace: str) -> str | None:
        for prefix, uri in self.nsmap.items():
            if uri == namespace:
                return prefix
        return None


def _decode(data: bytes, where: str) -> tuple[str, str]:
    """Text of an XML part and the encoding to write it back with."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    declared = re.match(rb"""<\?xml[^>]*encoding\s*=\s*["']([\w.-]+)["']""", data)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        return data.decode(encoding), encoding
    except (LookupError, UnicodeDecodeError) as exc:
        raise PackageError(f"{where}: cannot decode the XML text ({exc})") from None


def _xml_text(data: bytes, where: str) -> _Xml:
    """An XML part as editable text, with its root prefix and namespaces."""
    text, encoding = _decode(data, where)
    root = _ROOT_RE.search(text)
    if not root:
        raise PackageError(f"{where}: no XML root element")
    nsmap: dict[str, str] = {}
    for name, value in _tag_attrs(root.group(0)).items():
        if name == "xmlns":
            nsmap[""] = value
        elif name.startswith("xmlns:"):
            nsmap[name[6:]] = value
    return _Xml(text, encoding, root.group(1) or "", nsmap)


def _parse(data: bytes | str, where: str) -> Element:
    """Parse XML with DTDs and entities forbidden; damage is a PackageError."""
    try:
        return _defused_fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PackageError(f"{where}: damaged XML ({message})") from None


def _q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# ---------------------------------------------------------------------------
# The zip package
# ---------------------------------------------------------------------------


@dataclass
class _Rel:
    """One relationship of a part."""

    rid: str
    type: str
    target: str
    external: bool
    part: str | None


def _rels_name(part: str) -> str:
    """Name of the relationships part of a part ('' is the package)."""
    if part == "":
        return _ROOT_RELS
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source: str, target: str) -> str | None:
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


def _relative(source: str, target: str) -> str:
    """Target of a relationship from ``source`` to ``target``."""
    return posixpath.relpath("/" + target, "/" + (posixpath.dirname(source) or ""))


class _Package:
    """A validated zip package; parts are read on demand and cached."""

    def __init__(self, path: str | os.PathLike[str], role: str):
        self.path = path
        self.role = role
        self.zip: zipfile.ZipFile | None = None
        self.infos: list[zipfile.ZipInfo] = []
        self.by_fold: dict[str, str] = {}
        self.data: dict[str, bytes] = {}
        self._rels: dict[str, list[_Rel]] = {}
        self._types: tuple[dict[str, str], dict[str, str]] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], role: str) -> _Package:
        pkg = cls(path, role)
        pkg._open()
        return pkg

    def __enter__(self) -> _Package:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()
            self.zip = None

    def fail(self, message: str) -> PackageError:
        return _error(self.path, message)

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
                self.by_fold[_fold(info.filename)] = info.filename
        if _CONTENT_TYPES not in self.by_fold.values():
            raise self.fail(f"is not an Office Open XML package (no {_CONTENT_TYPES})")

    @property
    def names(self) -> list[str]:
        return [i.filename for i in self.infos if not i.filename.endswith("/")]

    def find(self, name: str | None) -> str | None:
        if name is None:
            return None
        found = self.by_fold.get(_fold(name))
        if found is None and "%" in name:
            found = self.by_fold.get(_fold(unquote(name)))
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
        return _parse(self.read(name), f"{os.fspath(self.path)}: {name}")

    def rels(self, source: str) -> list[_Rel]:
        """Relationships of a part ('' for the package), targets resolved."""
        if source in self._rels:
            return self._rels[source]
        found: list[_Rel] = []
        rels_part = self.find(_rels_name(source))
        if rels_part is not None:
            root = self.xml(rels_part)
            for el in root.iter(_q(_NS_PKG_REL, "Relationship")):
                target = el.get("Target", "")
                external = el.get("TargetMode", "Internal") == "External"
                part = None if external else self.find(_resolve(source, target))
                found.append(
                    _Rel(el.get("Id", ""), el.get("Type", ""), target, external, part)
                )
        self._rels[source] = found
        return found

    def content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        """Defaults by folded extension and overrides by folded part name."""
        if self._types is None:
            root = self.xml(_CONTENT_TYPES)
            defaults = {
                _fold(el.get("Extension", "")): el.get("ContentType", "")
                for el in root.iter(_q(_NS_CT, "Default"))
            }
            overrides = {
                _fold(el.get("PartName", "").lstrip("/")): el.get("ContentType", "")
                for el in root.iter(_q(_NS_CT, "Override"))
            }
            self._types = (defaults, overrides)
        return self._types

    def content_type(self, name: str) -> tuple[str | None, bool]:
        """Content type of a part, and whether it comes from an Override."""
        defaults, overrides = self.content_types()
        if _fold(name) in overrides:
            return overrides[_fold(name)], True
        ext = _fold(name.rsplit(".", 1)[-1]) if "." in posixpath.basename(name) else ""
        return defaults.get(ext), False

    def main_part(self) -> str:
        """Name of the workbook part (the package's office document)."""
        for rel in self.rels(""):
            if rel.type == _RT_OFFICE_DOCUMENT or rel.type.endswith("/officeDocument"):
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


def _reach(
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


# ---------------------------------------------------------------------------
# The workbook part
# ---------------------------------------------------------------------------


@dataclass
class _Sheet:
    """One <sheet> entry of a workbook part."""

    name: str
    sheet_id: int
    rid: str
    state: str
    rel: _Rel | None

    @property
    def visible(self) -> bool:
        return self.state not in ("hidden", "veryHidden")


@dataclass
class _Workbook:
    """The parsed main part of a package."""

    pkg: _Package
    part: str
    content_type: str
    root: Element
    sheets: list[_Sheet]
    owned: list[int]
    rels: list[_Rel] = field(default_factory=list)

    @classmethod
    def read(cls, pkg: _Package) -> _Workbook:
        part = pkg.main_part()
        where = f"{os.fspath(pkg.path)}: {part}"
        content_type, _ = pkg.content_type(part)
        root = pkg.xml(part)
        if root.tag == _q(_NS_STRICT_MAIN, "workbook"):
            raise pkg.fail(
                "Strict Open XML workbooks are not supported; save it as an "
                "Excel Workbook (.xlsx)"
            )
        if root.tag != _q(_NS_MAIN, "workbook"):
            raise pkg.fail(f"{part} is not a spreadsheet workbook part")
        if content_type is None or (
            "spreadsheetml" not in content_type and "ms-excel" not in content_type
        ):
            raise pkg.fail(f"{part} does not have a workbook content type")
        rels = pkg.rels(part)
        by_id = {r.rid: r for r in rels}
        sheets = []
        for el in root.iterfind(f"{_q(_NS_MAIN, 'sheets')}/{_q(_NS_MAIN, 'sheet')}"):
            name = el.get("name")
            rid = el.get(_q(_NS_DOC_REL, "id"))
            if not name or rid is None:
                raise PackageError(f"{where}: a sheet has no name or no r:id")
            sheets.append(
                _Sheet(
                    name,
                    _int(el.get("sheetId")),
                    rid,
                    el.get("state", "visible"),
                    by_id.get(rid),
                )
            )
        owned = []
        for el in root.iterfind(
            f"{_q(_NS_MAIN, 'definedNames')}/{_q(_NS_MAIN, 'definedName')}"
        ):
            local = el.get("localSheetId")
            if _fold(el.get("name", "")) == _fold(OWNED_NAME) and local is not None:
                index = _int(local, -1)
                if 0 <= index < len(sheets) and index not in owned:
                    owned.append(index)
        return cls(pkg, part, content_type, root, sheets, sorted(owned), rels)


# ---------------------------------------------------------------------------
# The merge
# ---------------------------------------------------------------------------


@dataclass
class _Merged:
    """The output package: original entries (some replaced) then new parts."""

    infos: list[zipfile.ZipInfo]
    data: dict[str, bytes]
    new: list[tuple[str, bytes]]


class _Splice:
    """Builds the merged package from an original and a results package."""

    def __init__(self, original: _Package, book: _Workbook, results: _Package):
        self.orig = original
        self.book = book
        self.res = results
        self.rbook = _Workbook.read(results)
        self.replaced: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.new_parts: dict[str, bytes] = {}
        self.new_types: list[tuple[str, str, bool]] = []
        self.taken: set[str] = set()
        self.new_styles_part: str | None = None
        self.kept: list[int] = []
        self.views: list[tuple[int, int]] = []
        self.removed_sheet_ids: set[int] = set()
        self.has_formulas = False

    # -- driver -------------------------------------------------------------

    def run(self) -> _Merged:
        """Compute every part of the output package."""
        book = self.book
        owned = set(book.owned)
        kept = [i for i in range(len(book.sheets)) if i not in owned]
        self.kept = kept
        kept_names = {_fold(book.sheets[i].name) for i in kept}
        new_names: set[str] = set()
        for sheet in self.rbook.sheets:
            if _fold(sheet.name) in kept_names or _fold(sheet.name) in new_names:
                raise self.orig.fail(
                    f"result sheet {sheet.name!r} clashes with a sheet of the "
                    "workbook (choose names with plan_sheet_names)"
                )
            new_names.add(_fold(sheet.name))
            if sheet.rel is None or sheet.rel.part is None:
                raise self.res.fail(f"sheet {sheet.name!r} has no part")
        if not kept and not self.rbook.sheets:
            raise self.orig.fail("the workbook would have no sheets left")

        self._plan_removal(owned)
        self.taken = {_fold(n) for n in self.orig.names if n not in self.removed}
        xf_map, dxf_map = self._merge_styles()
        strings = self._result_strings()
        active_new = self._active_tabs(owned)[1]
        part_map = self._copy_result_parts(xf_map, dxf_map, strings, active_new)
        new_rids = self._rewrite_workbook_rels(part_map)
        self._rewrite_workbook(owned, new_rids)
        self._rewrite_content_types()
        self._rewrite_app_properties()

        for name, data in self.replaced.items():
            _parse(data, f"{os.fspath(self.orig.path)}: rewritten {name}")
        infos = [i for i in self.orig.infos if i.filename not in self.removed]
        data = {
            i.filename: self.replaced.get(
                i.filename, self.orig.data.get(i.filename, b"")
            )
            for i in infos
        }
        return _Merged(infos, data, list(self.new_parts.items()))

    # -- removal --------------------------------------------------------------

    def _plan_removal(self, owned: set[int]) -> None:
        """Find the parts only owned sheets (or an emptied calcChain) use."""
        book = self.book
        edges = self.orig.graph()
        owned_parts = {
            book.sheets[i].rel.part
            for i in owned
            if book.sheets[i].rel is not None and book.sheets[i].rel.part is not None
        }
        skip = {(book.part, p) for p in owned_parts if p is not None}
        roots = edges.get("", [])
        alive = _reach(edges, roots, skip)
        doomed = _reach(edges, [p for p in owned_parts if p], set()) - alive
        self.removed_sheet_ids = {book.sheets[i].sheet_id for i in owned}
        if self._rewrite_calc_chain() == "remove":
            chain = self._calc_chain_part()
            if chain is not None:
                doomed |= _reach(edges, [chain], set()) - _reach(
                    edges, roots, skip | {(book.part, chain)}
                )
        for part in list(doomed):
            rels = self.orig.find(_rels_name(part))
            if rels is not None:
                doomed.add(rels)
        self.removed = doomed

    def _calc_chain_part(self) -> str | None:
        for rel in self.book.rels:
            if rel.type == _RT_CALC_CHAIN and rel.part is not None:
                return rel.part
        return None

    def _rewrite_calc_chain(self) -> str | None:
        """Drop calcChain entries of removed sheets; 'remove' if none remain."""
        part = self._calc_chain_part()
        if part is None or not self.removed_sheet_ids:
            return None
        xml = _xml_text(self.orig.read(part), part)
        self.orig.xml(part)
        root_match = _ROOT_RE.search(xml.text)
        assert root_match is not None
        prefix = xml.prefix_for(_NS_MAIN)
        if prefix is None:
            return None
        spans = _iter_elements(xml.text, prefix, "c", root_match.end(), len(xml.text))
        # An entry without i= belongs to the sheet of the entry before it, so
        # it is dropped or kept together with that one: kept entries need no edit.
        pieces = []
        pos = 0
        current = 0
        kept = 0
        changed = False
        for span in spans:
            attrs = _tag_attrs(span.tag)
            if "i" in attrs:
                current = _int(attrs["i"])
            if current in self.removed_sheet_ids:
                pieces.append(xml.text[pos : span.start])
                pos = span.end
                changed = True
            else:
                kept += 1
        if not changed:
            return None
        if kept == 0:
            return "remove"
        pieces.append(xml.text[pos:])
        xml.text = "".join(pieces)
        self.replaced[part] = xml.encode()
        return "rewritten"

    # -- styles ---------------------------------------------------------------

    @staticmethod
    def _style_part(book: _Workbook) -> str | None:
        for rel in book.rels:
            if rel.type == _RT_STYLES and rel.part is not None:
                return rel.part
        return None

    def _merge_styles(self) -> tuple[dict[int, int], dict[int, int]]:
        """Append the results' formats to the original styles.

        Returns the maps from result cell-format and differential-format indices
        to indices in the merged styles.
        """
        res_part = self._style_part(self.rbook)
        orig_part = self._style_part(self.book)
        if res_part is None:
            return {}, {}
        res_root = self.res.xml(res_part)
        if orig_part is None:
            name = self._free_name(
                posixpath.join(posixpath.dirname(self.book.part), "styles.xml")
            )
            self.new_parts[name] = self.res.read(res_part)
            self.new_types.append((name, _CT_STYLES, True))
            self.new_styles_part = name
            count = len(self._children(res_root, "cellXfs"))
            dxfs = len(self._children(res_root, "dxfs"))
            return {i: i for i in range(count)}, {i: i for i in range(dxfs)}

        orig_root = self.orig.xml(orig_part)
        inserts: dict[str, list[Element]] = {}

        # Number formats: reuse an identical code, else keep or renumber the id.
        fmt_code = {
            _int(el.get("numFmtId")): el.get("formatCode", "")
            for el in self._children(orig_root, "numFmts")
        }
        by_code = {code: fid for fid, code in fmt_code.items()}
        used = set(fmt_code)
        fmt_map: dict[int, int] = {}
        for el in self._children(res_root, "numFmts"):
            rid, code = _int(el.get("numFmtId")), el.get("formatCode", "")
            if code in by_code:
                fmt_map[rid] = by_code[code]
                continue
            nid = rid if rid not in used else max(used | {163}) + 1
            used.add(nid)
            by_code[code] = nid
            fmt_map[rid] = nid
            new = copy.deepcopy(el)
            new.set("numFmtId", str(nid))
            inserts.setdefault("numFmts", []).append(new)

        def merge(local: str, reserved: int, fix=None) -> dict[int, int]:
            originals = self._children(orig_root, local)
            keys: dict[tuple, int] = {}
            for index, el in enumerate(originals):
                keys.setdefault(_canon(el), index)
            mapping: dict[int, int] = {}
            added = inserts.setdefault(local, [])
            for index, el in enumerate(self._children(res_root, local)):
                if index < reserved and len(originals) >= reserved:
                    mapping[index] = index
                    continue
                el = copy.deepcopy(el)
                if fix is not None:
                    fix(el)
                key = _canon(el)
                if key not in keys:
                    keys[key] = len(originals) + len(added)
                    added.append(el)
                mapping[index] = keys[key]
            return mapping

        font_map = merge("fonts", 1)
        fill_map = merge("fills", 2)
        border_map = merge("borders", 1)
        has_style_xfs = bool(self._children(orig_root, "cellStyleXfs"))

        def fix_xf(el: Element) -> None:
            for attr, table in (
                ("numFmtId", fmt_map),
                ("fontId", font_map),
                ("fillId", fill_map),
                ("borderId", border_map),
            ):
                value = el.get(attr)
                if value is not None and _int(value) in table:
                    el.set(attr, str(table[_int(value)]))
            if has_style_xfs:
                el.set("xfId", "0")
            elif "xfId" in el.attrib:
                del el.attrib["xfId"]

        def fix_dxf(el: Element) -> None:
            for fmt in el.iter(_q(_NS_MAIN, "numFmt")):
                value = _int(fmt.get("numFmtId"), -1)
                if value in fmt_map:
                    fmt.set("numFmtId", str(fmt_map[value]))

        xf_map = merge("cellXfs", 1, fix_xf)
        dxf_map = merge("dxfs", 0, fix_dxf)
        if any(inserts.values()):
            self.replaced[orig_part] = self._insert_styles(
                orig_part, orig_root, inserts
            )
        return xf_map, dxf_map

    @staticmethod
    def _children(root: Element, local: str) -> list[Element]:
        container = root.find(_q(_NS_MAIN, local))
        return list(container) if container is not None else []

    def _insert_styles(
        self, part: str, root: Element, inserts: dict[str, list[Element]]
    ) -> bytes:
        """Insert new styles elements into the original styles text."""
        xml = _xml_text(self.orig.read(part), part)
        prefix = xml.prefix_for(_NS_MAIN)
        if prefix is None:
            raise self.orig.fail(f"{part} does not declare the spreadsheet namespace")
        xmlns = "" if xml.nsmap.get("") == _NS_MAIN else _NS_MAIN
        text = xml.text
        qual = (prefix + ":") if prefix else ""
        for local in _STYLE_ORDER:
            added = inserts.get(local)
            if not added:
                continue
            body = "".join(_serialize(el, xmlns) for el in added)
            total = len(self._children(root, local)) + len(added)
            span = _find_element(text, prefix, local)
            if span is not None and not span.empty:
                tag = _set_attr(span.tag, "count", str(total))
                text = (
                    text[: span.start]
                    + tag
                    + text[span.tag_end : span.inner_end]
                    + body
                    + text[span.inner_end :]
                )
                continue
            if span is not None:
                tag = _set_attr(span.tag, "count", str(total))[:-2].rstrip() + ">"
                text = (
                    text[: span.start]
                    + tag
                    + body
                    + f"</{qual}{local}>"
                    + text[span.end :]
                )
                continue
            at = self._insert_point(
                text, prefix, _STYLE_ORDER[: _STYLE_ORDER.index(local)]
            )
            element = f'<{qual}{local} count="{total}">{body}</{qual}{local}>'
            text = text[:at] + element + text[at:]
        xml.text = text
        return xml.encode()

    @staticmethod
    def _insert_point(text: str, prefix: str, earlier: Iterable[str]) -> int:
        """Offset just after the last of the given top-level elements present.

        Falls back to just after the root start tag. Only element names that
        occur nowhere but at the top level may be given.
        """
        root = _ROOT_RE.search(text)
        assert root is not None
        best = root.end()
        for local in earlier:
            span = _find_element(text, prefix, local, root.end())
            if span is not None:
                best = max(best, span.end)
        return best

    # -- result parts -----------------------------------------------------------

    def _result_strings(self) -> list[str]:
        """Inner XML of every shared string of the results, by index."""
        part = None
        for rel in self.rbook.rels:
            if rel.type.endswith("/sharedStrings") and rel.part is not None:
                part = rel.part
        if part is None:
            return []
        root = self.res.xml(part)
        xml = _xml_text(self.res.read(part), part)
        if xml.prefix_for(_NS_MAIN) != "":
            raise self.res.fail(f"{part} is not laid out as expected")
        found = []
        for match in re.finditer(
            r"<si(?=[\s/>])" + _ATTRS + r"(?:(?<=/)>|>(.*?)</si\s*>)",
            xml.text,
            re.S,
        ):
            found.append(match.group(1) or "")
        if len(found) != len(root.findall(_q(_NS_MAIN, "si"))):
            raise self.res.fail(f"{part} is not laid out as expected")
        return found

    def _free_name(self, wanted: str) -> str:
        """A part name like ``wanted`` that no part (or its rels) uses yet."""
        if (
            _fold(wanted) not in self.taken
            and _fold(_rels_name(wanted)) not in self.taken
        ):
            self.taken.add(_fold(wanted))
            return wanted
        folder, base = posixpath.split(wanted)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        stem = stem.rstrip("0123456789")
        suffix = f".{ext}" if dot else ""
        number = 1
        while True:
            candidate = posixpath.join(folder, f"{stem}{number}{suffix}")
            if (
                _fold(candidate) not in self.taken
                and _fold(_rels_name(candidate)) not in self.taken
            ):
                self.taken.add(_fold(candidate))
                return candidate
            number += 1

    def _copy_result_parts(
        self,
        xf_map: dict[int, int],
        dxf_map: dict[int, int],
        strings: list[str],
        active_new: int | None,
    ) -> dict[str, str]:
        """Copy every part reachable from the result sheets under free names."""
        res = self.res
        forbidden = {self.rbook.part} | {
            r.part for r in self.rbook.rels if r.part is not None
        }
        sheet_parts = [s.rel.part for s in self.rbook.sheets if s.rel is not None]
        order: list[str] = []
        todo = [p for p in sheet_parts if p is not None]
        while todo:
            part = todo.pop(0)
            if part in order:
                continue
            order.append(part)
            for rel in res.rels(part):
                if rel.part is None:
                    continue
                if rel.part in forbidden and rel.part not in sheet_parts:
                    raise res.fail(
                        f"{part} refers to a workbook-level part {rel.part!r}"
                    )
                todo.append(rel.part)
        part_map = {part: self._free_name(part) for part in order}
        table_ids = self._table_ids()
        for part in order:
            data = res.read(part)
            if part in sheet_parts:
                data = _rewrite_result_sheet(
                    data,
                    part,
                    xf_map,
                    dxf_map,
                    strings,
                    selected=active_new is not None
                    and sheet_parts.index(part) == active_new,
                    salt=part_map[part],
                )
                self.has_formulas |= _FORMULA_RE.search(data) is not None
            elif any(
                r.type == _RT_TABLE and r.part == part
                for src in order
                for r in res.rels(src)
            ):
                data, table_ids = _renumber_table(data, part, table_ids)
            new_name = part_map[part]
            self.new_parts[new_name] = data
            content_type, override = res.content_type(part)
            if content_type is None:
                raise res.fail(f"{part} has no content type")
            self.new_types.append((new_name, content_type, override))
            rels_part = res.find(_rels_name(part))
            if rels_part is not None:
                new_rels = _rels_name(new_name)
                self.taken.add(_fold(new_rels))
                self.new_parts[new_rels] = _retarget_rels(
                    res.read(rels_part), rels_part, part, new_name, part_map
                )
                self.new_types.append((new_rels, _CT_RELS, False))
        return part_map

    def _table_ids(self) -> set[int]:
        """Ids of the table parts the output keeps."""
        ids = set()
        for name in self.orig.names:
            if name in self.removed or not name.lower().endswith(".xml"):
                continue
            ctype, _ = self.orig.content_type(name)
            if ctype and ctype.endswith("spreadsheetml.table+xml"):
                ids.add(_int(self.orig.xml(name).get("id")))
        return ids

    # -- workbook part and its relationships ------------------------------------

    def _rewrite_workbook_rels(self, part_map: dict[str, str]) -> list[str]:
        """Drop relationships of removed parts, add the new sheets'.

        Returns the relationship ids of the new sheets, in order.
        """
        book = self.book
        rels_part = self.orig.find(_rels_name(book.part))
        if rels_part is None:
            raise self.orig.fail(f"{book.part} has no relationships part")
        xml = _xml_text(self.orig.read(rels_part), rels_part)
        prefix = xml.prefix_for(_NS_PKG_REL) or ""
        text = xml.text
        drop = {
            rel.rid
            for rel in book.rels
            if rel.part is not None and rel.part in self.removed
        }
        # Ids of dropped relationships are free again: a re-run numbers the new
        # sheets' relationships as the previous run did.
        existing = {rel.rid for rel in book.rels if rel.rid not in drop}
        pieces, pos = [], 0
        root = _ROOT_RE.search(text)
        assert root is not None
        for span in _iter_elements(text, prefix, "Relationship", root.end(), len(text)):
            if _tag_attrs(span.tag).get("Id") in drop:
                pieces.append(text[pos : span.start])
                pos = span.end
        pieces.append(text[pos:])
        text = "".join(pieces)

        numbers = [
            int(m.group(1)) for rid in existing if (m := re.fullmatch(r"rId(\d+)", rid))
        ]
        counter = max(numbers, default=0)
        qual = (prefix + ":") if prefix else ""
        added, new_rids = [], []
        targets = [
            (part_map[s.rel.part], s.rel.type)
            for s in self.rbook.sheets
            if s.rel is not None and s.rel.part is not None
        ]
        if self.new_styles_part is not None:
            targets.append((self.new_styles_part, _RT_STYLES))
        for target, rel_type in targets:
            counter += 1
            while f"rId{counter}" in existing:
                counter += 1
            rid = f"rId{counter}"
            existing.add(rid)
            new_rids.append(rid)
            added.append(
                f'<{qual}Relationship Id="{rid}" Type="{_esc_attr(rel_type)}" '
                f'Target="{_esc_attr(_relative(book.part, target))}"/>'
            )
        close = text.rfind(f"</{qual}Relationships")
        if close < 0:
            raise self.orig.fail(f"{rels_part} is not laid out as expected")
        text = text[:close] + "".join(added) + text[close:]
        xml.text = text
        self.replaced[rels_part] = xml.encode()
        return new_rids[: len(self.rbook.sheets)]

    def _active_tabs(self, owned: set[int]) -> tuple[list[tuple[int, int]], int | None]:
        """New (activeTab, firstSheet) per book view, and the active new sheet."""
        book = self.book
        sheets = [book.sheets[i] for i in self.kept] + self.rbook.sheets
        position = {old: new for new, old in enumerate(self.kept)}
        offset = len(self.kept)
        views = self.book.root.iterfind(
            f"{_q(_NS_MAIN, 'bookViews')}/{_q(_NS_MAIN, 'workbookView')}"
        )
        result = []
        active_new = None
        for view in views:
            active = _int(view.get("activeTab"))
            first = _int(view.get("firstSheet"))
            if active in position and sheets[position[active]].visible:
                new_active = position[active]
            else:
                new_active = None
                if 0 <= active < len(book.sheets):
                    folded = _fold(book.sheets[active].name)
                    for j, sheet in enumerate(self.rbook.sheets):
                        if _fold(sheet.name) == folded and sheet.visible:
                            new_active = offset + j
                if new_active is None and active in owned:
                    new_active = next(
                        (
                            offset + j
                            for j, s in enumerate(self.rbook.sheets)
                            if s.visible
                        ),
                        None,
                    )
                if new_active is None:
                    new_active = next((j for j, s in enumerate(sheets) if s.visible), 0)
            new_first = position.get(first, 0)
            new_first = min(new_first, new_active)
            result.append((new_active, new_first))
            if active_new is None and new_active >= offset:
                active_new = new_active - offset
        self.views = result
        return result, active_new

    def _rewrite_workbook(self, owned: set[int], new_rids: list[str]) -> None:
        """Edit sheets, defined names, book views and calcPr of the workbook."""
        book = self.book
        part = book.part
        xml = _xml_text(self.orig.read(part), part)
        prefix = xml.prefix_for(_NS_MAIN)
        if prefix is None:
            raise self.orig.fail(f"{part} does not declare the spreadsheet namespace")
        qual = (prefix + ":") if prefix else ""
        text = xml.text
        position = {old: new for new, old in enumerate(self.kept)}
        offset = len(self.kept)

        # Book views.
        span = _find_element(text, prefix, "bookViews")
        if span is not None and not span.empty:
            views = _iter_elements(
                text, prefix, "workbookView", span.tag_end, span.inner_end
            )
            pieces, pos = [], 0
            for view, (active, first) in zip(views, self.views):
                tag = view.tag
                attrs = _tag_attrs(tag)
                if _int(attrs.get("activeTab")) != active:
                    tag = _set_attr(tag, "activeTab", str(active))
                if _int(attrs.get("firstSheet")) != first:
                    tag = _set_attr(tag, "firstSheet", str(first))
                pieces.append(text[pos : view.start] + tag)
                pos = view.tag_end
            pieces.append(text[pos:])
            text = "".join(pieces)

        # Sheets.
        span = _find_element(text, prefix, "sheets")
        if span is None or span.empty:
            raise self.orig.fail(f"{part} has no <sheets>")
        entries = _iter_elements(text, prefix, "sheet", span.tag_end, span.inner_end)
        if len(entries) != len(book.sheets):
            raise self.orig.fail(f"{part} is not laid out as expected")
        r_prefix = xml.prefix_for(_NS_DOC_REL)
        # Ids of removed sheets are free again (their calcChain entries are gone):
        # a re-run numbers the new sheets as the previous run did.
        next_id = max(
            (s.sheet_id for i, s in enumerate(book.sheets) if i not in owned),
            default=0,
        )
        added = []
        for sheet, rid in zip(self.rbook.sheets, new_rids):
            next_id += 1
            attrs = f'name="{_esc_attr(sheet.name)}" sheetId="{next_id}"'
            if sheet.state != "visible":
                attrs += f' state="{_esc_attr(sheet.state)}"'
            if r_prefix:
                attrs += f' {r_prefix}:id="{rid}"'
            else:
                attrs += f' xmlns:r="{_NS_DOC_REL}" r:id="{rid}"'
            added.append(f"<{qual}sheet {attrs}/>")
        pieces, pos = [], span.tag_end
        pieces.append(text[: span.tag_end])
        for index, entry in enumerate(entries):
            if index in owned:
                pieces.append(text[pos : entry.start])
                pos = entry.end
        pieces.append(text[pos : span.inner_end] + "".join(added))
        pieces.append(text[span.inner_end :])
        text = "".join(pieces)

        # Defined names.
        new_names = []
        seen_owned = set()
        for el in self.rbook.root.iterfind(
            f"{_q(_NS_MAIN, 'definedNames')}/{_q(_NS_MAIN, 'definedName')}"
        ):
            local = el.get("localSheetId")
            index = _int(local, -1)
            if local is None or not 0 <= index < len(self.rbook.sheets):
                continue
            if _fold(el.get("name", "")) == _fold(OWNED_NAME):
                seen_owned.add(index)
            new_names.append(_defined_name(qual, el, offset + index))
        for index in range(len(self.rbook.sheets)):
            if index not in seen_owned:
                new_names.append(
                    f'<{qual}definedName name="{OWNED_NAME}" '
                    f'localSheetId="{offset + index}">"xlmodel"</{qual}definedName>'
                )
        span = _find_element(text, prefix, "definedNames")
        if span is not None:
            pieces: list[str] = []
            pos = 0
            names = (
                []
                if span.empty
                else _iter_elements(
                    text, prefix, "definedName", span.tag_end, span.inner_end
                )
            )
            remaining = 0
            for name in names:
                local = _tag_attrs(name.tag).get("localSheetId")
                index = _int(local, -1)
                if local is not None and index in owned:
                    pieces.append(text[pos : name.start])
                    pos = name.end
                    continue
                remaining += 1
                if local is not None and index in position and position[index] != index:
                    pieces.append(
                        text[pos : name.start]
                        + _set_attr(name.tag, "localSheetId", str(position[index]))
                    )
                    pos = name.tag_end
            if remaining == 0 and not new_names:
                pieces = [text[: span.start]]
                pos = span.end
            elif span.empty:
                pieces.append(
                    text[pos : span.start]
                    + span.tag[:-2].rstrip()
                    + ">"
                    + "".join(new_names)
                    + f"</{qual}definedNames>"
                )
                pos = span.end
            else:
                pieces.append(text[pos : span.inner_end] + "".join(new_names))
                pos = span.inner_end
            pieces.append(text[pos:])
            text = "".join(pieces)
        elif new_names:
            at = self._insert_point(text, prefix, _BEFORE_DEFINED_NAMES)
            block = (
                f"<{qual}definedNames>" + "".join(new_names) + f"</{qual}definedNames>"
            )
            text = text[:at] + block + text[at:]

        # Formulas of the new sheets are not in the calculation chain: have
        # spreadsheet applications recalculate when they open the file.
        if self.has_formulas:
            span = _find_element(text, prefix, "calcPr")
            if span is not None:
                tag = _set_attr(span.tag, "fullCalcOnLoad", "1")
                text = text[: span.start] + tag + text[span.tag_end :]
            else:
                at = self._insert_point(
                    text, prefix, (*_BEFORE_DEFINED_NAMES, "definedNames")
                )
                text = text[:at] + f'<{qual}calcPr fullCalcOnLoad="1"/>' + text[at:]
        xml.text = text
        self.replaced[part] = xml.encode()

    # -- content types and document properties ----------------------------------

    def _rewrite_content_types(self) -> None:
        """Drop content types of removed parts, add those of new parts."""
        xml = _xml_text(self.orig.read(_CONTENT_TYPES), _CONTENT_TYPES)
        prefix = xml.prefix_for(_NS_CT) or ""
        qual = (prefix + ":") if prefix else ""
        text = xml.text
        root = _ROOT_RE.search(text)
        assert root is not None
        removed = {_fold(name) for name in self.removed}
        added = {_fold(name) for name, _, _ in self.new_types}
        pieces, pos = [], 0
        for span in _iter_elements(text, prefix, "Override", root.end(), len(text)):
            name = _fold(_tag_attrs(span.tag).get("PartName", "").lstrip("/"))
            if name in removed or name in added:
                pieces.append(text[pos : span.start])
                pos = span.end
        pieces.append(text[pos:])
        text = "".join(pieces)

        defaults, _ = self.orig.content_types()
        defaults = dict(defaults)
        new_defaults, overrides = [], []
        for name, content_type, override in self.new_types:
            ext = _fold(name.rsplit(".", 1)[-1])
            if not override and ext not in defaults:
                defaults[ext] = content_type
                new_defaults.append(
                    f'<{qual}Default Extension="{_esc_attr(name.rsplit(".", 1)[-1])}"'
                    f' ContentType="{_esc_attr(content_type)}"/>'
                )
            elif override or defaults.get(ext) != content_type:
                overrides.append(
                    f'<{qual}Override PartName="/{_esc_attr(name)}" '
                    f'ContentType="{_esc_attr(content_type)}"/>'
                )
        if new_defaults:
            root = _ROOT_RE.search(text)
            assert root is not None
            text = text[: root.end()] + "".join(new_defaults) + text[root.end() :]
        close = text.rfind(f"</{qual}Types")
        if close < 0:
            raise self.orig.fail(f"{_CONTENT_TYPES} is not laid out as expected")
        text = text[:close] + "".join(overrides) + text[close:]
        xml.text = text
        self.replaced[_CONTENT_TYPES] = xml.encode()

    def _rewrite_app_properties(self) -> None:
        """Update the sheet titles in the extended properties when they match."""
        part = None
        for rel in self.orig.rels(""):
            if rel.type == _RT_EXT_PROPS and rel.part is not None:
                part = rel.part
        if part is None or part in self.removed:
            return
        try:
            root = self.orig.xml(part)
        except PackageError:
            return
        pairs = root.find(f"{_q(_NS_EXT_PROPS, 'HeadingPairs')}/{_q(_NS_VT, 'vector')}")
        titles = root.find(
            f"{_q(_NS_EXT_PROPS, 'TitlesOfParts')}/{_q(_NS_VT, 'vector')}"
        )
        if pairs is None or titles is None:
            return
        variants = list(pairs)
        groups = []
        for i in range(0, len(variants) - 1, 2):
            label = variants[i].find(_q(_NS_VT, "lpstr"))
            count = variants[i + 1].find(_q(_NS_VT, "i4"))
            if label is None or count is None:
                return
            groups.append(_int(count.text))
        names = [el.text or "" for el in titles]
        if any(el.tag != _q(_NS_VT, "lpstr") for el in titles):
            return
        worksheets = [
            s.name
            for s in self.book.sheets
            if s.rel is not None and s.rel.type == _RT_WORKSHEET
        ]
        start = 0
        group = None
        for g, count in enumerate(groups):
            if names[start : start + count] == worksheets and count:
                group = g
                break
            start += count
        if group is None:
            return
        new_sheets = [
            self.book.sheets[i].name
            for i in self.kept
            if self.book.sheets[i].rel is not None
            and self.book.sheets[i].rel.type == _RT_WORKSHEET
        ]
        new_sheets += [
            s.name
            for s in self.rbook.sheets
            if s.rel is not None and s.rel.type == _RT_WORKSHEET
        ]

        xml = _xml_text(self.orig.read(part), part)
        vt = xml.prefix_for(_NS_VT)
        main = xml.prefix_for(_NS_EXT_PROPS)
        if vt is None or main is None:
            return
        vq = (vt + ":") if vt else ""
        text = xml.text
        tops = _find_element(text, main, "TitlesOfParts")
        heads = _find_element(text, main, "HeadingPairs")
        if tops is None or heads is None or tops.empty or heads.empty:
            return
        # Titles first (it comes after the heading pairs, so offsets stay valid).
        vec = _find_element(text, vt, "vector", tops.tag_end, tops.inner_end)
        if vec is None or vec.empty:
            return
        items = _iter_elements(text, vt, "lpstr", vec.tag_end, vec.inner_end)
        if len(items) != len(names):
            return
        first, last = items[start], items[start + groups[group] - 1]
        body = "".join(f"<{vq}lpstr>{_esc_text(n)}</{vq}lpstr>" for n in new_sheets)
        size = len(names) - groups[group] + len(new_sheets)
        vec_tag = _set_attr(vec.tag, "size", str(size))
        text = (
            text[: vec.start]
            + vec_tag
            + text[vec.tag_end : first.start]
            + body
            + text[last.end :]
        )
        if tops.start < heads.start:
            return
        vec = _find_element(text, vt, "vector", heads.tag_end, heads.inner_end)
        if vec is None:
            return
        counts = _iter_elements(text, vt, "i4", vec.tag_end, vec.inner_end)
        if len(counts) != len(groups):
            return
        target = counts[group]
        text = text[: target.tag_end] + str(len(new_sheets)) + text[target.inner_end :]
        xml.text = text
        self.replaced[part] = xml.encode()


def _canon(el: Element) -> tuple:
    """Comparable form of a styles element (for reusing identical ones)."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_canon(child) for child in el),
    )


def _serialize(el: Element, xmlns: str = "", top: bool = True) -> str:
    """Write an element of the spreadsheet namespace as unprefixed XML."""
    tag = el.tag
    if not tag.startswith("{" + _NS_MAIN + "}"):
        raise PackageError(f"unexpected element {tag} in result styles")
    local = tag.split("}", 1)[1]
    attrs = []
    if xmlns:
        attrs.append(f' xmlns="{xmlns}"')
    for key, value in el.attrib.items():
        if key.startswith("{" + _NS_XML + "}"):
            key = "xml:" + key.split("}", 1)[1]
        elif key.startswith("{"):
            raise PackageError(f"unexpected attribute {key} in result styles")
        attrs.append(f' {key}="{_esc_attr(value)}"')
    inner = _esc_text(el.text or "") + "".join(_serialize(c, "", False) for c in el)
    tail = "" if top else _esc_text(el.tail or "")
    if not inner:
        return f"<{local}{''.join(attrs)}/>{tail}"
    return f"<{local}{''.join(attrs)}>{inner}</{local}>{tail}"


def _defined_name(qual: str, el: Element, local_id: int) -> str:
    """A sheet-local defined name of the results, moved to ``local_id``."""
    attrs = [f'name="{_esc_attr(el.get("name", ""))}"', f'localSheetId="{local_id}"']
    for key, value in el.attrib.items():
        if key not in ("name", "localSheetId") and not key.startswith("{"):
            attrs.append(f'{key}="{_esc_attr(value)}"')
    text = _esc_text(el.text or "")
    return f"<{qual}definedName {' '.join(attrs)}>{text}</{qual}definedName>"


_FORMULA_RE = re.compile(rb"<f[\s/>]")
_GUID_ID_RE = re.compile(
    r"<(?:[\w.-]+:)?id>\s*(\{[0-9A-Fa-f-]{36}\})\s*</(?:[\w.-]+:)?id>"
)
_CELL_RE = re.compile(r"<c(?=[\s/>])(" + _ATTRS + r")>(?:(?<=/>)|(.*?)</c\s*>)", re.S)
_V_RE = re.compile(r"<v(?:\s[^>]*)?>\s*([0-9]+)\s*</v\s*>")


def _rewrite_result_sheet(
    data: bytes,
    part: str,
    xf_map: dict[int, int],
    dxf_map: dict[int, int],
    strings: list[str],
    selected: bool,
    salt: str,
) -> bytes:
    """Remap style ids, inline shared strings and fix tab selection of a sheet.

    The GUIDs that tie a conditional format to its x14 extension are replaced
    by ones derived from ``salt`` (the new part name): the writer derives them
    from the sheet's position, so they could repeat a user sheet's.
    """
    xml = _xml_text(data, part)
    if xml.nsmap.get("") not in (_NS_MAIN, None) or xml.prefix:
        raise PackageError(f"result sheet {part} is not laid out as expected")
    text = xml.text

    def remap(tag: str, attr: str, table: dict[int, int]) -> str:
        value = _tag_attrs(tag).get(attr)
        if value is None or not table:
            return tag
        index = _int(value, -1)
        if index not in table:
            raise PackageError(f"result sheet {part} uses unknown style {value}")
        return _set_attr(tag, attr, str(table[index]))

    def cell(match: re.Match[str]) -> str:
        whole = match.group(0)
        tag_end = len("<c") + len(match.group(1)) + 1
        tag = remap(whole[:tag_end], "s", xf_map)
        body = match.group(2)
        if _tag_attrs(tag).get("t") == "s" and body is not None:
            found = _V_RE.search(body)
            if not found or int(found.group(1)) >= len(strings):
                raise PackageError(f"result sheet {part} has a bad shared string")
            tag = _set_attr(tag, "t", "inlineStr")
            return f"{tag}<is>{strings[int(found.group(1))]}</is></c>"
        return tag + whole[tag_end:]

    text = _CELL_RE.sub(cell, text)
    text = _start_tag_re("", "row").sub(lambda m: remap(m.group(0), "s", xf_map), text)
    text = _start_tag_re("", "col").sub(
        lambda m: remap(m.group(0), "style", xf_map), text
    )
    text = _start_tag_re("", "cfRule").sub(
        lambda m: remap(m.group(0), "dxfId", dxf_map), text
    )

    def view(match: re.Match[str]) -> str:
        tag = _del_attr(match.group(0), "tabSelected")
        return _set_attr(tag, "tabSelected", "1") if selected else tag

    text = _start_tag_re("", "sheetView").sub(view, text)
    for old in sorted(set(_GUID_ID_RE.findall(text))):
        new = uuid.uuid5(uuid.NAMESPACE_URL, f"xlmodel:{salt}:{old.upper()}")
        text = text.replace(old, "{" + str(new).upper() + "}")
    xml.text = text
    return xml.encode()


def _renumber_table(data: bytes, part: str, used: set[int]) -> tuple[bytes, set[int]]:
    """Give a copied table part an id no other table uses."""
    xml = _xml_text(data, part)
    root = _ROOT_RE.search(xml.text)
    assert root is not None
    attrs = _tag_attrs(root.group(0))
    table_id = _int(attrs.get("id"))
    if table_id in used:
        table_id = max(used) + 1
        tag = _set_attr(root.group(0), "id", str(table_id))
        xml.text = xml.text[: root.start()] + tag + xml.text[root.end() :]
    return xml.encode(), used | {table_id}


def _retarget_rels(
    data: bytes, rels_part: str, source: str, new_source: str, part_map: dict[str, str]
) -> bytes:
    """Point the relationships of a copied part at the copied targets."""
    xml = _xml_text(data, rels_part)
    prefix = xml.prefix_for(_NS_PKG_REL) or ""

    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)
        attrs = _tag_attrs(tag)
        if attrs.get("TargetMode") == "External":
            return tag
        target = _resolve(source, attrs.get("Target", ""))
        if target is None or target not in part_map:
            return tag
        return _set_attr(tag, "Target", _relative(new_source, part_map[target]))

    xml.text = _start_tag_re(prefix, "Relationship").sub(fix, xml.text)
    return xml.encode()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


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


def _refuse_if_locked(out_path: str | os.PathLike[str]) -> None:
    """Refuse to replace a workbook that Excel or LibreOffice has open."""
    folder, name = os.path.split(os.path.abspath(os.fspath(out_path)))
    for lock in (f"~${name}", f".~lock.{name}#"):
        if os.path.lexists(os.path.join(folder, lock)):
            raise _error(
                out_path,
                f"is open in another program (lock file {lock!r}); close it, or "
                "delete the lock file if no program has it open",
            )


def _write_atomically(
    out_path: str | os.PathLike[str], merged: _Merged, mode: int
) -> None:
    """Write the merged package to a temporary file, then move it into place."""
    target = os.path.realpath(os.fspath(out_path))
    folder = os.path.dirname(target)
    try:
        fd, temp = tempfile.mkstemp(
            dir=folder, prefix=temp_prefix(os.path.basename(target)), suffix=".tmp"
        )
    except OSError as exc:
        raise _error(out_path, f"cannot write here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as out:
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
            raise _error(
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
