"""The very hidden state sheet: what the last compute read, kept for the next one.

xlmodel owns this sheet like every result sheet (it is replaced on every compute).
It holds

* a copy of every input range the reader read (:mod:`xlmodel.workbook.inputs.record`),
  to the right from column :data:`COPY_COLUMN`, and per range a formula counting
  the cells of the input sheet that no longer match the copy; cell
  :data:`COUNT_CELL` sums them. The banner of each result sheet
  (:mod:`.banner`) reads that cell: no volatile function, only functions Excel 2010
  and LibreOffice share, cached results written (0: nothing changed);
* the snapshot of the run (:class:`xlmodel.studies.changes.Snapshot`: the input
  cells, the parameters and headline metrics per variant, when, which file) as
  JSON text split over cells of column A below :data:`SNAPSHOT_LABEL`, which
  :func:`read_previous` reads back before the next compute replaces the sheet.

Numbers are copied with every digit (xlsxwriter writes 16 significant digits;
a copy must compare equal to the cell it copies, so 17 are written where needed).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from ...errors import PackageError
from ...schema import BY_NAME
from ...studies.changes import InputCell, Snapshot
from ..grid import Book, cell_name, column_number
from ..inputs.record import (
    STATE_NAME,
    TRUSTED_CELL,
    TRUSTED_LABEL,
    InputRange,
    InputRecord,
    absolute,
)
from .context import Context
from .live import NODE_FILLED, cell
from .sheet import ResultSheet, Sheet

NAME = "xlmodel state"
#: The cell holding the number of input cells changed since the compute.
COUNT_CELL = "$B$2"
#: The cell holding how many of them the live formulas do not follow.
UNFOLLOWED_CELL = "$E$2"
#: Zero-based column of the per-cell checks that cell sums.
_UNFOLLOWED_COLUMN = 4
#: Label above the snapshot's JSON parts in column A.
SNAPSHOT_LABEL = "snapshot (JSON, in parts)"
#: Zero-based column from which the copies of the input ranges lie.
COPY_COLUMN = 7
_HEADER_ROW = 3
_PART_CHARS = 30_000  # a cell holds at most 32,767 characters
FORMAT_VERSION = 1


class _Exact(float):
    """A float xlsxwriter writes with every digit it needs to read back equal."""

    def __format__(self, spec: str) -> str:
        if spec.upper().endswith("G"):
            return repr(float(self)).upper()
        return float.__format__(self, spec)


def quoted(sheet: str) -> str:
    """A sheet name as a formula writes it: ``'Cost setup'``."""
    return "'" + sheet.replace("'", "''") + "'"


def count_formula(source: InputRange, copy_row: int) -> str:
    """Cells of ``source`` that differ from its copy at ``copy_row``: blank against
    filled (a 0 typed into a blank cell too), or another value; an error counts
    as a change. Text compares as spreadsheets compare it, ignoring case (EXACT
    does not compare ranges alike in Excel and LibreOffice)."""
    a = f"{quoted(source.sheet)}!{source.ref}"
    b = absolute(copy_row, COPY_COLUMN, source.height, source.width)
    return f"=IFERROR(SUMPRODUCT(({a}<>{b})+(ISBLANK({a})<>ISBLANK({b}))),1)"


def write(ctx: Context, sh: Sheet) -> None:
    """The copies and their counts, the snapshot; very hidden."""
    ws = sh.ws
    # The result sheets' text rewriting (TFLOPS -> TOPS) must not touch copies.
    ws.__dict__.pop("_write_string", None)
    ws.very_hidden()
    record: InputRecord | None = ctx.info.get("record")
    ranges = list(record.ranges) if record is not None else []
    ws.write_string(0, 0, "xlmodel state: what the last compute read; do not edit")
    ws.write_string(1, 0, "input cells changed since that compute")
    r, c = TRUSTED_CELL
    ws.write_string(r, c - 1, TRUSTED_LABEL)
    ws.write_boolean(r, c, record is not None and record.trusted)
    ws.write_string(_HEADER_ROW, 0, "sheet")
    ws.write_string(_HEADER_ROW, 1, "range")
    ws.write_string(_HEADER_ROW, 2, "copy")
    ws.write_string(_HEADER_ROW, 3, "cells changed")
    copy_row = 0
    for i, source in enumerate(ranges):
        r = _HEADER_ROW + 1 + i
        ws.write_string(r, 0, source.sheet)
        ws.write_string(r, 1, source.ref)
        ws.write_string(
            r, 2, absolute(copy_row, COPY_COLUMN, source.height, source.width)
        )
        ws.write_formula(r, 3, count_formula(source, copy_row), None, 0)
        _copy(ws, source, copy_row)
        copy_row += source.height + 1
    if ranges:
        first, last = _HEADER_ROW + 2, _HEADER_ROW + 1 + len(ranges)
        ws.write_formula(1, 1, f"=SUM($D${first}:$D${last})", None, 0)
    else:
        ws.write_number(1, 1, 0)
    _write_unfollowed(ws, ranges, unfollowed_cells(ctx, record))
    row = _HEADER_ROW + 2 + len(ranges)
    ws.write_string(row, 0, SNAPSHOT_LABEL)
    current: Snapshot | None = ctx.info.get("snapshot")
    if current is not None:
        text = encode(current)
        for k in range(0, len(text), _PART_CHARS):
            row += 1
            ws.write_string(row, 0, text[k : k + _PART_CHARS])
    ctx.workbook.define_name(
        f"{quoted(sh.name)}!{STATE_NAME}", f"={quoted(sh.name)}!$A$1"
    )


def unfollowed_cells(ctx: Context, record: InputRecord | None) -> list[tuple[str, str]]:
    """(sheet, cell) of every input the live formulas do not follow.

    The live formulas (:mod:`.live`) refer to the cells the engine's numeric
    inputs came from (``Study.sources``); every other cell read on the sheets
    those come from, or on the process node table, is fixed at compute time: a
    choice (precision, cooling, preset, topology, process node, figure of
    merit), a blank that took its default, a number of the node table, every
    input of a variant on the physical preset. Labels (variant names) are not
    inputs of a figure.
    """
    if record is None:
        return []
    study = ctx.results.study
    preset = study.variants.get("power_preset")
    physical = {
        str(n)
        for n, p in (preset.items() if preset is not None else ())
        if p == "physical"
    }
    followed: set[tuple[str, str]] = set()
    sheets: dict[str, str] = {}  # a reference's sheet part -> the sheet's name
    for variant, refs in study.sources.items():
        if str(variant) in physical:
            continue
        for name, ref in refs.items():
            if name in NODE_FILLED:
                continue  # its cost figures stay values where a node fills it
            # 'Variants'!$D$5 -> ("Variants", "D5"), each sheet's name once
            part, _, at = ref.rpartition("!")
            sheet = sheets.get(part)
            if sheet is None:
                sheet = sheets[part] = _sheet_name(part)
            followed.add((sheet, at.replace("$", "")))
    feeding = {sheet for sheet, _ in followed}
    feeding |= {c.sheet for c in record.cells if c.parameter in NODE_FILLED and c.item}
    return [
        (c.sheet, c.cell)
        for c in record.cells
        if c.sheet in feeding
        and c.parameter
        and (c.sheet, c.cell.replace("$", "")) not in followed
    ]


def _sheet_name(part: str) -> str:
    """A reference's sheet part as the sheet's name: ``'Variants'`` -> Variants."""
    if part.startswith("'") and part.endswith("'"):
        return part[1:-1].replace("''", "'")
    return part


def _write_unfollowed(ws, ranges: list[InputRange], cells) -> None:
    """One check per unfollowed input cell (1 when it no longer matches its
    copy), in column E from the first range's row; their sum in
    :data:`UNFOLLOWED_CELL`."""
    ws.write_string(1, _UNFOLLOWED_COLUMN - 1, "of them, not followed by live formulas")
    where: dict[str, tuple[InputRange, int]] = {}
    top = 0
    for source in ranges:
        where.setdefault(source.sheet, (source, top))
        top += source.height + 1
    row = _HEADER_ROW + 1
    first = row
    for sheet, name in cells:
        found = where.get(sheet)
        if found is None:
            continue
        source, top = found
        r, c = _cell_index(name)
        i, j = r - source.row, c - source.col
        if not (0 <= i < source.height and 0 <= j < source.width):
            continue
        a = cell(source.row + i, source.col + j, sheet)
        b = cell(top + i, COPY_COLUMN + j)
        ws.write_formula(
            row,
            _UNFOLLOWED_COLUMN,
            f"=IFERROR(({a}<>{b})+(ISBLANK({a})<>ISBLANK({b})),1)",
            None,
            0,
        )
        row += 1
    letter = chr(ord("A") + _UNFOLLOWED_COLUMN)
    if row > first:
        ws.write_formula(
            1,
            _UNFOLLOWED_COLUMN,
            f"=SUM(${letter}${first + 1}:${letter}${row})",
            None,
            0,
        )
    else:
        ws.write_number(1, _UNFOLLOWED_COLUMN, 0)


def _cell_index(name: str) -> tuple[int, int]:
    """``D5`` -> (4, 3), zero-based."""
    letters = name.rstrip("0123456789")
    return int(name[len(letters) :]) - 1, column_number(letters) - 1


def _copy(ws, source: InputRange, top: int) -> None:
    for i, values in enumerate(source.values):
        for j, v in enumerate(values):
            r, c = top + i, COPY_COLUMN + j
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, (int, float)):
                if math.isfinite(v):
                    ws.write_number(r, c, _Exact(v))
            elif isinstance(v, (datetime, date, time, timedelta)):
                ws.write_datetime(r, c, v)
            else:
                ws.write_string(r, c, str(v))


SHEET = ResultSheet(NAME, write)


# --- the snapshot as text ---------------------------------------------------------


def _plain(v):
    if isinstance(v, (datetime, date, time, timedelta)):
        return str(v)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _frame(frame: pd.DataFrame) -> dict:
    return {
        "index": [str(v) for v in frame.index],
        "columns": {
            str(c): [_plain(v) for v in frame[c].tolist()] for c in frame.columns
        },
    }


def encode(s: Snapshot) -> str:
    """The snapshot as JSON text (floats exact; NaN as NaN)."""
    return json.dumps(
        {
            "format": FORMAT_VERSION,
            "info": s.info,
            "inputs": [
                [c.sheet, c.cell, c.parameter, c.item, _plain(c.value)]
                for c in s.inputs
            ],
            "parameters": _frame(s.parameters),
            "metrics": _frame(s.metrics),
        },
        separators=(",", ":"),
        default=str,
    )


def _unframe(d: dict, typed: bool) -> pd.DataFrame:
    index = pd.Index([str(v) for v in d["index"]])
    columns = {}
    for name, values in d["columns"].items():
        p = BY_NAME.get(name) if typed else None
        if p is not None and p.kind == "int":
            columns[name] = pd.array(values, dtype="int64").to_numpy()
        elif p is not None and p.numeric or not typed:
            columns[name] = [math.nan if v is None else float(v) for v in values]
        elif p is not None:
            columns[name] = [str(v) for v in values]
        else:
            columns[name] = values
    frame = pd.DataFrame(columns, index=index)
    if not typed:
        frame = frame.astype("float64")
    return frame


def decode(text: str) -> Snapshot:
    """A snapshot from :func:`encode`'s text (ValueError when it is not one)."""
    try:
        d = json.loads(text)
        if d.get("format") != FORMAT_VERSION:
            raise ValueError(f"state format {d.get('format')!r}")
        inputs = [InputCell(*map(str, c[:4]), c[4]) for c in d["inputs"]]
        return Snapshot(
            inputs,
            _unframe(d["parameters"], typed=True),
            _unframe(d["metrics"], typed=False),
            dict(d.get("info") or {}),
        )
    except (KeyError, TypeError, IndexError, AttributeError) as e:
        raise ValueError(f"damaged state ({type(e).__name__})") from None


def read_previous(path: Path) -> tuple[Snapshot | None, str]:
    """The snapshot the last compute kept in ``path``, and why there is none.

    Returns
    -------
    (Snapshot or None, str)
        The previous run's snapshot ("" as the note), or None and a sentence
        for the Changes sheet (first compute, or a state that cannot be read).
    """
    first = "no previous run: this is the first xlmodel compute of this workbook"
    try:
        data = Path(path).read_bytes()
        with Book(Path(path), data) as book:
            found = book.sheet_name_ref(STATE_NAME)
            if found is None:
                return None, first
            grid = book.sheet(found[0])
            if grid is None:
                return None, first
            label = next(
                (r for r in range(grid.rows) if grid.raw(r, 0) == SNAPSHOT_LABEL), None
            )
            if label is None:
                return None, f"{found[0]}!A1: the previous run's state is damaged"
            parts = []
            r = label + 1
            while isinstance(grid.raw(r, 0), str) and grid.raw(r, 0):
                parts.append(grid.raw(r, 0))
                r += 1
            where = f"{found[0]}!{cell_name(label + 1, 0)}"
    except (OSError, PackageError):
        return None, first
    if not parts:
        return None, (
            "no previous run recorded: the last compute kept no inputs (it wrote "
            "results without reading a workbook)"
        )
    try:
        return decode("".join(parts)), ""
    except ValueError as e:
        return None, f"{where}: the previous run's state cannot be read ({e})"
