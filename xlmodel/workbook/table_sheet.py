"""A table a user keeps on a sheet of a workbook of their own (measurements,
say), read as a CSV file of it would be: a header row, then a row per record.

:func:`read_table` finds the first worksheet with a row that holds every
required column name (the header, anywhere on the sheet) and returns the rows
below it. Each row keeps its place: its label + 2 is its row number on the
sheet, as a CSV row's label + 2 is its line (:mod:`xlmodel.csvfile`), so the
same checks name the same place. Rows with every cell blank are left out.
"""

from __future__ import annotations

from pathlib import Path

from ..lazy import pd
from .grid import Book
from .values import blank, folded


def read_table(
    path: Path, required, what: str, optional=()
) -> tuple[pd.DataFrame, str]:
    """(the table, its sheet's title) of the workbook at ``path``: the first
    sheet with a header row holding every name of ``required`` (compared as
    Excel compares text: case and spaces aside). A header cell that names a
    column of ``required`` or ``optional`` is spelled as they spell it; any
    other is kept as typed. ``what`` names the table in the message when no
    sheet has one.

    Raises
    ------
    ValueError
        No sheet has such a header row (one line, naming the columns).
    PackageError
        The file is not a workbook that can be read (said as ``validate``
        says it).
    """
    from .reader import load_bytes

    data = load_bytes(Path(path))  # screened as a variants workbook is
    wanted = [str(c).casefold() for c in required]
    with Book(Path(path), data) as book:
        for title in book.titles:
            grid = book.sheet(title)
            if grid is None:
                continue
            for r in range(grid.rows):
                heads = [
                    (c, str(folded(grid.raw(r, c)) or "").strip())
                    for c in range(grid.width(r))
                ]
                names = {h.casefold() for _, h in heads if h}
                if not all(w in names for w in wanted):
                    continue
                columns = [(c, h) for c, h in heads if h]
                records, labels = [], []
                for below in range(r + 1, grid.rows):
                    values = [grid.raw(below, c) for c, _ in columns]
                    if all(blank(v) for v in values):
                        continue
                    records.append([None if blank(v) else v for v in values])
                    labels.append(below + 1 - 2)  # its row on the sheet, less 2
                frame = pd.DataFrame(
                    records, columns=[h for _, h in columns], index=labels
                )
                spelled = {str(n).casefold(): str(n) for n in (*optional, *required)}
                frame.columns = [spelled.get(h.casefold(), h) for h in frame.columns]
                return frame, title
    raise ValueError(
        f"no sheet has a header row with the columns of {what}: " + ", ".join(required)
    )
