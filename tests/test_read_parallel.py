"""A large input sheet's two parses at once: what is read is what a serial read reads.

The values' parse is forked only in a process running no other thread, which a
test worker may not be: these run in a fresh interpreter.
"""

from __future__ import annotations

import sys

import pytest
from forking import in_fresh_python

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fork: Linux only"
)


PRELUDE = """
    from pathlib import Path
    from forking import dying_in_a_child, record_runs
    from make_input_corpus import BLANK, Formula, write
    from xlmodel.errors import PackageError
    from xlmodel.workbook import grid, reader

    runs = record_runs()

    def read(path, parallel):
        grid.PARALLEL_CELLS = 5_000 if parallel else 10**12
        with grid.Book(path, path.read_bytes()) as book:
            g = book.sheet("Variants")
            return g.values, g.formulas
"""


def test_a_large_sheet_read_in_two_processes_reads_the_same(tmp_path):
    out = in_fresh_python(
        PRELUDE
        + f"""
    path = Path({str(tmp_path / "big.xlsx")!r})
    names = {{f"V{{i:03d}}": {{"clock_mhz": 1000 + i}} for i in range(160)}}
    # a formula, a text, a date-like number and a blank among the numbers
    write(path, {{"Variants": {{"E7": Formula("=D7*2", 5), "F8": "text", "G9": BLANK}}}}, variants=names)
    serial = read(path, False)
    assert runs == []
    split = read(path, True)
    assert [mode for _, mode, _ in runs] == ["process"], runs
    assert split == serial
    assert sum(len(r) for r in serial[0]) >= 5_000
    assert any(f == "=D7*2" for row in serial[1] for f in row)

    # the whole study, both ways (a valid one: a formula in range)
    valid = Path({str(tmp_path / "valid.xlsx")!r})
    write(valid, {{"Variants": {{"E7": Formula("=1000+5", 1005)}}}}, variants=names)
    grid.PARALLEL_CELLS = 10**12
    a = reader.read_study(valid)
    grid.PARALLEL_CELLS = 5_000
    b = reader.read_study(valid)
    assert a.variants.equals(b.variants) and a.warnings == b.warnings

    # a child lost: the values parsed here
    original = grid._rows_in_child
    grid._rows_in_child = dying_in_a_child(original)
    runs.clear()
    assert read(path, True) == serial
    (run, mode, _), = runs
    assert mode == "process" and run.mode == "serial", (mode, run.mode)
    grid._rows_in_child = original

    # an error of the sheet's: the same message as a serial read
    grid.MAX_ROWS = 10
    messages = []
    for parallel in (False, True):
        try:
            read(path, parallel)
        except PackageError as exc:
            messages.append(str(exc))
    assert len(messages) == 2 and messages[0] == messages[1], messages
    assert "beyond row 10" in messages[0]
    print("ok")
    """
    )
    assert out.strip() == "ok"
