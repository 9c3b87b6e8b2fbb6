"""The designs table of the last exploration, as its result sheet holds it.

:mod:`xlmodel.workbook.report_explore` writes the table with a sheet-scoped
defined name :data:`DESIGNS_NAME` at its header and the base variant's name
beside :data:`BASE_LABEL` above it; :func:`read_designs` reads it back for
``xlmodel adopt`` from a workbook opened by :mod:`xlmodel.workbook.grid`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import PackageError
from ..lazy import pd
from ..schema import BY_NAME
from .grid import Book
from .values import blank

#: Sheet-scoped defined name of the designs table on the Exploration result sheet.
DESIGNS_NAME = "_xlmodel_designs"
#: Label left of the base variant's name above the designs table.
BASE_LABEL = "Base variant"


@dataclass
class Designs:
    """The designs table of the last exploration, as written on its result sheet.

    Attributes
    ----------
    sheet : str
        The result sheet's title.
    base_variant : str
        The variant the exploration ran around.
    table : pandas.DataFrame
        Index: design number. Columns: the header keys (``sms_per_chiplet``,
        ``On front``, ...), values as written.
    parameters : list of str
        The explored parameters (columns of ``table``).
    """

    sheet: str
    base_variant: str
    table: pd.DataFrame
    parameters: list[str]


def read_designs(path: Path, book: Book) -> Designs:
    """The designs table of the last exploration written into ``book``.

    Raises
    ------
    PackageError
        No exploration results in the workbook, or the table is damaged.
    """
    found = book.sheet_name_ref(DESIGNS_NAME)
    if found is None:
        raise PackageError(
            f"{path}: holds no exploration results: run 'xlmodel explore "
            f"{path.name}' first"
        )
    title, ref = found
    grid = book.sheet(title)
    r0, c0 = _a1(ref)
    base = None
    for r in range(max(0, r0 - 4), r0):
        if grid.raw(r, c0) == BASE_LABEL:
            base = grid.raw(r, c0 + 1)
    headers = []
    c = c0
    while c < grid.width(r0) and not blank(grid.raw(r0, c)):
        headers.append(str(grid.raw(r0, c)))
        c += 1
    keys = [h.split(" (")[0] for h in headers]
    rows = []
    r = r0 + 1
    while r < grid.rows and isinstance(grid.raw(r, c0), (int, float)):
        rows.append([grid.raw(r, c0 + k) for k in range(len(headers))])
        r += 1
    if not rows or base is None or not keys or keys[0] != "Design":
        raise PackageError(
            f"{path}: the designs table on {grid.title!r} is damaged: run "
            f"'xlmodel explore {path.name}' again"
        )
    table = pd.DataFrame(rows, columns=keys).set_index("Design")
    table.index = table.index.astype(int)
    params = [k for k in keys if k in BY_NAME and BY_NAME[k].numeric]
    return Designs(grid.title, str(base), table, params)


def _a1(ref: str) -> tuple[int, int]:
    # "$A$10" -> (9, 0)
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?([0-9]+)", ref.split(":")[0])
    if m is None:
        raise PackageError(f"designs table reference {ref!r} is not a cell")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1
