"""Hostile and mistaken files for the hardening tests (a script to keep them too).

The reader corpus (make_input_corpus.py) holds workbooks with wrong or odd inputs;
this one holds what should never be parsed as a workbook at all, or only with
care: a password-protected (encrypted) file and a legacy .xls file as real OLE
compound files, .xlsb, .ods (made by LibreOffice when it is installed), CSV, HTML
and XML given by mistake, XML external entities and entity expansion, zip bombs,
unsafe part names, encrypted zip entries, absurdly many rows or parts, pipes and
devices. Every file is generated here, nothing is kept as a binary.

Each case is a ``make_input_corpus.Case``: ``"package"`` cases must end with one
``error:`` line holding every fragment and exit status 2, ``"ok"`` cases with exit
status 0 (see ``EXIT_STATUS``). Cases that plant a secret for an external entity
to steal write it to ``SECRET_FILE`` in the case folder; its content,
``SECRET_MARKER``, must never appear in any output.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from make_input_corpus import Case, write_cases
from make_input_corpus import write as write_workbook

#: Exit status of the CLI for each outcome of a case.
EXIT_STATUS = {"ok": 0, "problems": 2, "package": 2}

SECRET_MARKER = "XLMODEL-SECRET-5d1e0c"
SECRET_FILE = "secret.txt"

_SHEET = "xl/worksheets/sheet2.xml"  # Variants in the template
_STRINGS = "xl/sharedStrings.xml"
_WORKBOOK = "xl/workbook.xml"
_XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_OLE_REFUSED = "legacy .xls or password-protected workbook: save as .xlsx"
_DTD_REFUSED = "declares an XML document type or entities"


# --- OLE compound files (what Office writes for encrypted and legacy files) ---------

_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE compound file (MS-CFB version 3) holding ``streams`` in its root.

    Streams shorter than 4096 bytes are padded to that size so that none goes
    to the mini stream; at most 3 streams, at most 127 sectors in all.

    Parameters
    ----------
    streams : dict of str to bytes
        Stream name -> content.

    Returns
    -------
    bytes
        The file.
    """
    names = list(streams)
    assert 1 <= len(names) <= 3
    datas = [streams[n].ljust(4096, b"\0") for n in names]
    sector = 512
    chains: list[tuple[int, int]] = []
    nxt = 2  # sector 0: FAT, sector 1: directory
    for data in datas:
        count = -(-len(data) // sector)
        chains.append((nxt, count))
        nxt += count
    assert nxt <= 128, "one FAT sector maps 128 sectors"
    fat = [_FREE] * 128
    fat[0], fat[1] = _FAT_SECTOR, _END
    for start, count in chains:
        for k in range(count):
            fat[start + k] = start + k + 1 if k < count - 1 else _END

    def entry(name, kind, color, left, right, child, start, size) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, color)
            + struct.pack("<III", left, right, child)
            + bytes(16 + 4 + 8 + 8)
            + struct.pack("<IQ", start, size)
        )

    # The directory is a red-black tree ordered by name length, then name: a
    # chain of right siblings, the first black and the others red.
    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))
    right = {order[k]: order[k + 1] + 1 for k in range(len(order) - 1)}
    directory = entry("Root Entry", 5, 1, _NO_STREAM, _NO_STREAM, order[0] + 1, _END, 0)
    for i, name in enumerate(names):
        directory += entry(
            name,
            2,
            1 if i == order[0] else 0,
            _NO_STREAM,
            right.get(i, _NO_STREAM),
            _NO_STREAM,
            chains[i][0],
            len(datas[i]),
        )
    while len(directory) < sector:
        directory += entry("", 0, 0, _NO_STREAM, _NO_STREAM, _NO_STREAM, 0, 0)
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    assert len(header) == sector
    body = struct.pack("<128I", *fat) + directory
    for data in datas:
        body += data.ljust(-(-len(data) // sector) * sector, b"\0")
    return header + body


def _pseudo_random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def encrypted_workbook() -> bytes:
    """What Excel writes for a workbook with a password to open: an OLE file
    with EncryptionInfo (agile encryption, version 4.4) and EncryptedPackage."""
    info = (
        struct.pack("<HHI", 4, 4, 0x40)
        + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" '
        b'hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
        b"</encryption>"
    )
    package = struct.pack("<Q", 20432) + _pseudo_random(20480, 1)
    return compound_file({"EncryptionInfo": info, "EncryptedPackage": package})


def legacy_xls() -> bytes:
    """An Excel 97-2003 file: an OLE file with a Workbook stream of BIFF8 records."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6)
    eof = struct.pack("<HH", 0x000A, 0)
    return compound_file({"Workbook": bof + eof})


# --- zip packages built from the template ------------------------------------------


def _template(folder: Path) -> Path:
    path = folder / "_template.xlsx"
    if not path.exists():
        write_workbook(path)
    return path


def _rewrite(
    folder: Path,
    name: str,
    changes: dict[str, Callable[[bytes], bytes]] | None = None,
    extra: dict[str, bytes] | None = None,
    extra_method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """The template with some parts changed and some added, written to ``name``."""
    out = folder / name
    with (
        zipfile.ZipFile(_template(folder)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if changes and info.filename in changes:
                data = changes[info.filename](data)
            dst.writestr(info.filename, data)
        for part, data in (extra or {}).items():
            dst.writestr(zipfile.ZipInfo(part), data, compress_type=extra_method)
    return out


def _plant_secret(folder: Path) -> str:
    secret = folder / SECRET_FILE
    secret.write_text(SECRET_MARKER + "\n")
    return secret.resolve().as_uri()


def _with_doctype(doctype: bytes, old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        assert data.startswith(_XML_DECL) and old in data
        return _XML_DECL + doctype + data[len(_XML_DECL) :].replace(old, new, 1)

    return change


def _xxe(part: str, root: str, old: bytes, new: bytes):
    def build(folder: Path) -> Path:
        uri = _plant_secret(folder)
        doctype = f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{uri}">]>'.encode()
        return _rewrite(
            folder, f"xxe_{root}.xlsx", {part: _with_doctype(doctype, old, new)}
        )

    return build


def _xxe_parameter_entity(folder: Path) -> Path:
    uri = _plant_secret(folder)
    doctype = f'<!DOCTYPE Types [<!ENTITY % remote SYSTEM "{uri}">%remote;]>'.encode()
    change = _with_doctype(doctype, b"<Types", b"<Types")
    return _rewrite(folder, "xxe_param.xlsx", {"[Content_Types].xml": change})


def _xxe_utf16(folder: Path) -> Path:
    uri = _plant_secret(folder)

    def change(data: bytes) -> bytes:
        text = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        decl_end = text.index("?>") + 2
        text = (
            text[:decl_end]
            + f'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "{uri}">]>'
            + text[decl_end:].replace("<t>Baseline</t>", "<t>&xxe;</t>", 1)
        )
        return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")

    return _rewrite(folder, "xxe_utf16.xlsx", {_STRINGS: change})


def _xxe_after_long_prolog(folder: Path) -> Path:
    # The declaration sits behind 100 KB of comment, past what the package
    # screening reads: the XML parser's own protection must refuse it.
    uri = _plant_secret(folder)
    comment = b"<!--" + b" padding " * 12_000 + b"-->"
    doctype = comment + f'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "{uri}">]>'.encode()
    change = _with_doctype(doctype, b"<t>Baseline</t>", b"<t>&xxe;</t>")
    return _rewrite(folder, "xxe_late.xlsx", {_STRINGS: change})


def _billion_laughs(folder: Path) -> Path:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10)
    )
    doctype = b"<!DOCTYPE sst [" + entities + b"]>"
    change = _with_doctype(doctype, b"<t>Baseline</t>", b"<t>&lol9;</t>")
    return _rewrite(folder, "laughs.xlsx", {_STRINGS: change})


def _quadratic_blowup(folder: Path) -> Path:
    doctype = b'<!DOCTYPE sst [<!ENTITY big "' + b"x" * 50_000 + b'">]>'
    change = _with_doctype(
        doctype, b"<t>Baseline</t>", b"<t>" + b"&big;" * 20_000 + b"</t>"
    )
    return _rewrite(folder, "quadratic.xlsx", {_STRINGS: change})


def _zip_bomb_part(folder: Path) -> Path:
    # 200 MB of zeros in one part packs to about 200 KB.
    return _rewrite(
        folder, "bomb.xlsx", extra={"xl/media/image9.png": bytes(200 << 20)}
    )


def _zip_bomb_sheet(folder: Path) -> Path:
    # The Variants sheet itself, valid XML padded with 200 MB of blanks.
    def change(data: bytes) -> bytes:
        return data.replace(b"<sheetData>", b"<sheetData>" + b" " * (200 << 20), 1)

    return _rewrite(folder, "bombsheet.xlsx", {_SHEET: change})


def _zip_bomb_spread(folder: Path) -> Path:
    # Eight parts of 9 MB each: every part is below the per-part limit.
    extra = {f"xl/media/image{i}.png": bytes(9 << 20) for i in range(1, 9)}
    return _rewrite(folder, "bombspread.xlsx", extra=extra)


def _unsafe_name(part: str, name: str):
    return lambda folder: _rewrite(folder, name, extra={part: b"<x/>"})


def _duplicate_part(folder: Path) -> Path:
    # The same part under two spellings: which one a reader takes is undefined.
    def change(data: bytes) -> bytes:
        return data

    return _rewrite(
        folder,
        "twice.xlsx",
        {_WORKBOOK: change},
        extra={"XL/Workbook.xml": b"<workbook/>"},
    )


def _encrypted_entry(folder: Path) -> Path:
    # Set the "encrypted" flag of the first entry, in its local header and in the
    # central directory (ZipCrypto, a password on the zip itself).
    path = _rewrite(folder, "zipcrypto.xlsx")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
    data[first.header_offset + 6] |= 0x01
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x01
    path.write_bytes(bytes(data))
    return path


def _declared_dimension(folder: Path) -> Path:
    def change(data: bytes) -> bytes:
        old = data[
            data.index(b"<dimension ") : data.index(b"/>", data.index(b"<dimension "))
            + 2
        ]
        return data.replace(old, b'<dimension ref="A1:XFD1048576"/>', 1)

    return _rewrite(folder, "dimension.xlsx", {_SHEET: change})


def _many_rows(folder: Path) -> Path:
    # 120,000 filled rows below the Variants table.
    def change(data: bytes) -> bytes:
        rows = b"".join(
            b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r)
            for r in range(1000, 121_000)
        )
        return data.replace(b"</sheetData>", rows + b"</sheetData>", 1)

    return _rewrite(folder, "manyrows.xlsx", {_SHEET: change})


def _beyond_grid(folder: Path) -> Path:
    # A cell at row 5,000,000: past the 1,048,576 rows any spreadsheet has.
    def change(data: bytes) -> bytes:
        row = b'<row r="5000000"><c r="A5000000"><v>1</v></c></row>'
        return data.replace(b"</sheetData>", row + b"</sheetData>", 1)

    return _rewrite(folder, "beyondgrid.xlsx", {_SHEET: change})


def _many_parts(folder: Path) -> Path:
    path = folder / "manyparts.xlsx"
    shutil.copy(_template(folder), path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        for i in range(50_001):
            zf.writestr(f"customXml/item{i}.bin", b"")
    return path


def _garbage_sheet(folder: Path) -> Path:
    return _rewrite(
        folder, "garbage.xlsx", {_SHEET: lambda d: d[: len(d) // 2] + b"<<&&>>"}
    )


_STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
}


def _strict(folder: Path) -> Path:
    # What Excel writes for "Strict Open XML Spreadsheet": the ISO/IEC 29500
    # strict namespaces in every part and relationship type.
    path = folder / "strict.xlsx"
    with (
        zipfile.ZipFile(_template(folder)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith((".xml", ".rels")):
                for old, new in _STRICT.items():
                    data = data.replace(old, new)
            dst.writestr(info.filename, data)
    return path


def _missing_sheet_part(folder: Path) -> Path:
    path = folder / "nosheet.xlsx"
    with (
        zipfile.ZipFile(_template(folder)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != _SHEET:
                dst.writestr(info.filename, src.read(info.filename))
    return path


# --- other kinds of file given by mistake --------------------------------------------


def _bytes(name: str, data: bytes | Callable[[Path], bytes]):
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data(folder) if callable(data) else data)
        return path

    return build


def _plain_zip(entries: dict[str, bytes], first_stored: str | None = None):
    def data(folder: Path) -> bytes:
        path = folder / f"_zip_{uuid.uuid4().hex}.bin"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, content in entries.items():
                method = zipfile.ZIP_STORED if name == first_stored else None
                zf.writestr(name, content, compress_type=method)
        out = path.read_bytes()
        path.unlink()
        return out

    return data


_XLSB_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary'
    b'.macroEnabled.main"/><Default Extension="rels" ContentType="application/'
    b'vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/>'
    b"</Types>"
)
_XLSB_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    b'.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook'
    b'.bin"/></Relationships>'
)


def _ods(folder: Path) -> Path:
    """The template saved as .ods by LibreOffice, or a minimal .ods without it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    source = _template(folder)
    out = folder / "_template.ods"
    if soffice:
        profile = folder / "_lo_profile"
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile.resolve().as_uri()}",
                "--headless",
                "--convert-to",
                "ods",
                "--outdir",
                str(folder),
                str(source),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
        shutil.rmtree(profile, ignore_errors=True)
    if not out.exists():
        out.write_bytes(
            _plain_zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<office:document-content/>",
                    "META-INF/manifest.xml": b"<manifest:manifest/>",
                },
                first_stored="mimetype",
            )(folder)
        )
    path = folder / "variants.ods"
    out.rename(path)
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.xlsx"
    os.mkfifo(path)
    return path


def _device_link(folder: Path) -> Path:
    path = folder / "zeros.xlsx"
    path.symlink_to("/dev/zero")
    return path


def _template_as_csv(folder: Path) -> bytes:
    rows = ["parameter,unit,Baseline,Realistic Optimized"]
    rows += ["clock_mhz,MHz,2000,2200", "num_chiplets,chiplets,1,2"]
    return ("\n".join(rows) + "\n").encode()


def _zipped_workbook(folder: Path) -> bytes:
    return _plain_zip({"variants.xlsx": _template(folder).read_bytes()})(folder)


_HTML_TABLE = (
    b"<html><body><table><tr><td>parameter</td><td>Baseline</td></tr>"
    b"<tr><td>clock_mhz</td><td>2000</td></tr></table></body></html>"
)
_SPREADSHEET_2003 = (
    b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
    b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
    b'<Worksheet ss:Name="Variants"/></Workbook>'
)
_NOT_XLSX = "is not an Excel workbook"

HOSTILE: tuple[Case, ...] = (
    # Files that are not xlsx, given by mistake.
    Case(
        "password_protected",
        _bytes("protected.xlsx", encrypted_workbook()),
        "package",
        (_OLE_REFUSED,),
    ),
    Case("legacy_xls", _bytes("old.xls", legacy_xls()), "package", (_OLE_REFUSED,)),
    Case(
        "xlsb",
        _bytes(
            "variants.xlsb",
            _plain_zip(
                {
                    "[Content_Types].xml": _XLSB_TYPES,
                    "_rels/.rels": _XLSB_RELS,
                    "xl/workbook.bin": bytes.fromhex("8301 00") + bytes(64),
                    "xl/worksheets/sheet1.bin": bytes(64),
                }
            ),
        ),
        "package",
        ("is a binary Excel workbook (.xlsb)",),
    ),
    Case("ods", _ods, "package", ("is an OpenDocument spreadsheet (.ods)",)),
    Case(
        "csv_named_xlsx",
        _bytes("variants.xlsx", _template_as_csv),
        "package",
        ("is a CSV (plain text) file, not an Excel workbook",),
    ),
    Case(
        "csv_utf16",
        _bytes(
            "variants.csv",
            lambda f: (
                "\ufeff".encode("utf-16-le")
                + _template_as_csv(f).decode().encode("utf-16-le")
            ),
        ),
        "package",
        (_NOT_XLSX,),
    ),
    Case(
        "html_as_xls",
        _bytes("export.xls", _HTML_TABLE),
        "package",
        ("is an HTML or XML file",),
    ),
    Case(
        "spreadsheet_2003_xml",
        _bytes("variants.xml", _SPREADSHEET_2003),
        "package",
        ("is an HTML or XML file",),
    ),
    Case(
        "png_named_xlsx",
        _bytes("chart.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        "package",
        (_NOT_XLSX,),
    ),
    Case(
        "zipped_workbook",
        _bytes("variants.zip", _zipped_workbook),
        "package",
        ("is a zip archive, not an Excel workbook",),
    ),
    Case(
        "pptx_named_xlsx",
        _bytes(
            "slides.xlsx",
            _plain_zip(
                {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}
            ),
        ),
        "package",
        ("is a PowerPoint file, not an Excel workbook",),
    ),
    Case("named_pipe", _fifo, "package", ("is not a regular file",)),
    Case("device_link", _device_link, "package", ("is not a regular file",)),
    # XML external entities and entity expansion.
    Case(
        "xxe_shared_strings",
        _xxe(_STRINGS, "sst", b"<t>Baseline</t>", b"<t>&xxe;</t>"),
        "package",
        (_DTD_REFUSED, "xl/sharedStrings.xml"),
    ),
    Case(
        "xxe_workbook",
        _xxe(_WORKBOOK, "workbook", b'name="Guide"', b'name="&xxe;"'),
        "package",
        (_DTD_REFUSED, "xl/workbook.xml"),
    ),
    Case(
        "xxe_sheet",
        _xxe(_SHEET, "worksheet", b"<sheetData>", b"<sheetData>"),
        "package",
        (_DTD_REFUSED, _SHEET),
    ),
    Case("xxe_parameter_entity", _xxe_parameter_entity, "package", (_DTD_REFUSED,)),
    Case("xxe_utf16", _xxe_utf16, "package", (_DTD_REFUSED,)),
    Case(
        "xxe_after_long_prolog",
        _xxe_after_long_prolog,
        "package",
        ("declares XML document types or entities",),
    ),
    Case("billion_laughs", _billion_laughs, "package", (_DTD_REFUSED,)),
    Case("quadratic_blowup", _quadratic_blowup, "package", (_DTD_REFUSED,)),
    # Zip bombs, unsafe part names, damaged packages.
    Case(
        "zip_bomb_part",
        _zip_bomb_part,
        "package",
        ("part 'xl/media/image9.png' has a suspicious compression ratio",),
    ),
    Case(
        "zip_bomb_sheet",
        _zip_bomb_sheet,
        "package",
        (f"part '{_SHEET}' has a suspicious compression ratio",),
    ),
    Case(
        "zip_bomb_spread",
        _zip_bomb_spread,
        "package",
        ("has a suspicious compression ratio (a zip bomb?)",),
    ),
    Case(
        "path_traversal",
        _unsafe_name("../../evil.xml", "traversal.xlsx"),
        "package",
        ("holds an unsafe part name '../../evil.xml'",),
    ),
    Case(
        "nested_traversal",
        _unsafe_name("xl/../../evil.xml", "nested.xlsx"),
        "package",
        ("holds an unsafe part name",),
    ),
    Case(
        "absolute_part_name",
        _unsafe_name("/tmp/evil.xml", "absolute.xlsx"),
        "package",
        ("holds an unsafe part name",),
    ),
    Case(
        "backslash_part_name",
        _unsafe_name("..\\evil.xml", "backslash.xlsx"),
        "package",
        ("holds an unsafe part name",),
    ),
    Case(
        "drive_letter_part_name",
        _unsafe_name("C:/evil.xml", "drive.xlsx"),
        "package",
        ("holds an unsafe part name",),
    ),
    Case(
        "duplicate_part",
        _duplicate_part,
        "package",
        ("holds the part 'XL/Workbook.xml' twice",),
    ),
    Case(
        "encrypted_zip_entry",
        _encrypted_entry,
        "package",
        ("holds encrypted zip entries",),
    ),
    Case(
        "too_many_parts",
        _many_parts,
        "package",
        ("parts, more than 50,000",),
    ),
    Case(
        "garbage_sheet_xml",
        _garbage_sheet,
        "package",
        ("corrupt or unreadable workbook",),
    ),
    Case(
        "strict_open_xml",
        _strict,
        "package",
        (
            "is a Strict Open XML workbook",
            'File > Save As > Excel Workbook (.xlsx), not "Strict Open XML '
            'Spreadsheet"',
        ),
    ),
    Case(
        "missing_sheet_part",
        _missing_sheet_part,
        "problems",
        ("has no Variants sheet",),
        lines=1,
    ),
    # Absurd sizes inside a valid workbook: refused or read within bounds.
    Case("declared_dimension_huge", _declared_dimension, "ok"),
    Case(
        "many_rows",
        _many_rows,
        "package",
        ("has data beyond row 100,000",),
    ),
    Case(
        "beyond_the_grid",
        _beyond_grid,
        "package",
        ("has data beyond row 100,000",),
    ),
)


def main(argv: list[str]) -> int:
    """Write every hostile file into the folder given as the only argument."""
    return write_cases(argv, HOSTILE)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
