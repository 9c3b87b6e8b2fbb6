"""The vocabulary of Office Open XML packages, as the package layer uses it.

Owns the namespace URIs, relationship and content types and well-known part names
that the other modules of the package layer refer to, and the three helpers every
one of them needs: a namespaced tag (:func:`q`), how part and sheet names compare
(:func:`fold`, case-insensitively as OPC and Excel do) and how a failure names the
file (:func:`error`).
"""

from __future__ import annotations

import os

from xlmodel.errors import PackageError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_XML = "http://www.w3.org/XML/1998/namespace"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
NS_EXT_PROPS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
)

#: The workbook extensions: (macro-enabled, template) of each.
EXTENSIONS = {
    ".xlsx": (False, False),
    ".xlsm": (True, False),
    ".xltx": (False, True),
    ".xltm": (True, True),
}

RT_OFFICE_DOCUMENT = NS_DOC_REL + "/officeDocument"
RT_WORKSHEET = NS_DOC_REL + "/worksheet"
RT_STYLES = NS_DOC_REL + "/styles"
RT_CALC_CHAIN = NS_DOC_REL + "/calcChain"
RT_EXT_PROPS = NS_DOC_REL + "/extended-properties"
RT_TABLE = NS_DOC_REL + "/table"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

CONTENT_TYPES = "[Content_Types].xml"
ROOT_RELS = "_rels/.rels"


def q(namespace: str, local: str) -> str:
    """The ElementTree tag of ``local`` in ``namespace``."""
    return f"{{{namespace}}}{local}"


def fold(name: str) -> str:
    """A part or sheet name in the form names are compared in."""
    return name.casefold()


def error(path: object, message: str) -> PackageError:
    """A one-line PackageError naming the file."""
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    text = f"{where}: {message}"
    return PackageError(text.replace("\r", " ").replace("\n", " "))
