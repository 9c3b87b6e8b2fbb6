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

The modules, each importing only those listed before it:

- :mod:`.ooxml`: namespaces, relationship and content types, name comparison,
  one-line errors naming the file.
- :mod:`.screen`: :func:`screen_zip`, the checks made before anything is unpacked.
- :mod:`.xmltext`: XML parts read and edited as text.
- :mod:`.parts`: the zip package, its parts, relationships and content types.
- :mod:`.ownership`: the workbook part's sheets, which are xlmodel's
  (:data:`OWNED_NAME`), :func:`inspect_package` and :func:`plan_sheet_names`.
- :mod:`.write`: the merged package written atomically; :func:`temp_prefix`.
- :mod:`.draft`: the output package while a splice plans it.
- :mod:`.removal`: the parts that leave with the owned sheets; the calc chain.
- :mod:`.styles`: the results' styles merged into the user's.
- :mod:`.result_parts`: the parts copied in from the results, rewritten.
- :mod:`.workbook_xml`: edits of the workbook part and its relationships.
- :mod:`.manifest`: edits of the content types and extended properties.
- :mod:`.splice`: :func:`splice_results`, the order of the steps.

This module only re-exports the names the rest of xlmodel uses.
"""

from .ownership import (
    OWNED_NAME,
    PackageInfo,
    check_replaceable,
    inspect_package,
    marker_value,
    plan_sheet_names,
    sheets_reading_results,
)
from .parts import Package
from .screen import screen_zip
from .splice import StaleStyles, main_type_for, splice_results
from .styles import style_maps
from .write import temp_prefix

__all__ = [
    "OWNED_NAME",
    "Package",
    "PackageInfo",
    "StaleStyles",
    "check_replaceable",
    "inspect_package",
    "main_type_for",
    "marker_value",
    "plan_sheet_names",
    "sheets_reading_results",
    "screen_zip",
    "splice_results",
    "style_maps",
    "temp_prefix",
]
