"""Workbook round trip: compute and validate vs merely loading and saving the workbook.

Run: python benchmarks/bench_workbook.py [VARIANTS ...] (default 200 1000). Builds
each workbook from the template (variant columns copied and perturbed), then
times, in the same run,
(a) openpyxl load + save of that workbook (the floor any Excel round trip pays),
(b) ``xlmodel compute`` end to end (read, validate, every study, result sheets with
charts, lossless splice, atomic write; no CSV/PNG export), with the time of each
stage, and
(c) ``xlmodel validate`` (read and check only) of the shipped template beside
openpyxl load + save of the template,
and prints the figures and the ratios.

Beside (a), two floors of what compute writes rather than of what it reads
(the computed workbook holds 15-25 times the input's cells): (d) openpyxl
load + save of the computed workbook (once; openpyxl drops its charts, so this
is a floor for its cells alone), and (e) xlsxwriter writing as many cells of
each kind (numbers, strings, formulas with their values), each with a format,
into one workbook: the price of the cells alone, with no study, chart, style
merge or splice.
"""

from __future__ import annotations

import functools
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook

from xlmodel import pipeline
from xlmodel.pipeline import compute, validate
from xlmodel.schema import SEED_VARIANTS
from xlmodel.workbook.template import fill_workbook

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"
#: pipeline function -> stage name, timed during the compute runs
STAGES = {
    "read_recorded": "read",
    "run": "studies",
    "_results_parts": "result sheets",
    "splice_results": "splice",
}


def build(path: Path, variants: int) -> None:
    """A template-styled workbook with ``variants`` columns (seed variants, perturbed)."""
    seeds = list(SEED_VARIANTS.values())
    table = {"Baseline": SEED_VARIANTS["Baseline"]}
    for j in range(1, variants):
        v = dict(seeds[j % len(seeds)])
        v["clock_mhz"] = v["clock_mhz"] + j  # no two variants alike
        table[f"Variant {j + 1:03d}"] = v
    wb = xlsxwriter.Workbook(str(path))
    try:
        fill_workbook(wb, table)
    finally:
        wb.close()


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


class StageClock:
    """Seconds spent in each pipeline stage during the last compute."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        if hasattr(pipeline, "_load"):  # the lazily imported stages, bound now
            pipeline._load()
        owners = {"splice_results": pipeline.package, "read_recorded": pipeline.reader}
        for fn, stage in STAGES.items():
            owner = owners.get(fn, pipeline)
            setattr(owner, fn, self._timed(getattr(owner, fn), stage))

    def _timed(self, fn, stage: str):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] = time.perf_counter() - t0

        return timed


def round_trip(n: int, clock: StageClock) -> None:
    repeat = 3 if n <= 200 else 1
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "variants.xlsx"
        build(src, n)
        work = Path(d) / "work.xlsx"

        def load_save():
            wb = load_workbook(src)
            wb.save(work)

        stages: dict[str, float] = {}

        def run_compute():
            shutil.copy(src, work)
            t0 = time.perf_counter()
            compute(work, export_dir=None)
            total = time.perf_counter() - t0
            if not stages or total < sum(stages.values()):
                stages.clear()
                stages.update(clock.seconds)

        base = best_of(load_save)
        ours = best_of(run_compute, repeat)
        kinds = written_cells(src, work)
        t0 = time.perf_counter()
        load_workbook(work).save(Path(d) / "resaved.xlsx")
        output_trip = time.perf_counter() - t0
        cells_only = best_of(lambda: write_cells(Path(d) / "cells.xlsx", kinds), 1)
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    print(
        f"{n} variants: openpyxl load+save {base:.2f} s; xlmodel compute "
        f"{ours:.2f} s ({parts}); ratio compute / load+save = {ours / base:.1f}x"
    )
    counts = ", ".join(f"{v:,} {k}" for k, v in kinds.items())
    print(
        f"  what compute writes: {sum(kinds.values()):,} cells ({counts}); "
        f"openpyxl load+save of the computed workbook {output_trip:.2f} s "
        f"(compute / that = {ours / output_trip:.2f}x); xlsxwriter writing as many "
        f"cells alone {cells_only:.2f} s (compute / that = {ours / cells_only:.1f}x)"
    )


_CELL = re.compile(rb"<c [^>]*?(?:/>|>(.*?)</c>)", re.S)


def written_cells(source: Path, computed: Path) -> dict[str, int]:
    """Cells of each kind in the sheets compute added (the computed workbook's
    sheet parts less the input's, which come back as they were)."""
    kinds = {"numbers": 0, "strings": 0, "formulas": 0}

    def count(path: Path, sign: int) -> None:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                    continue
                for m in _CELL.finditer(z.read(name)):
                    body = m.group(1) or b""
                    if b"<f" in body:
                        kinds["formulas"] += sign
                    elif b"<is>" in body or b't="s"' in m.group(0):
                        kinds["strings"] += sign
                    elif b"<v>" in body:
                        kinds["numbers"] += sign

    count(computed, 1)
    count(source, -1)
    return kinds


def write_cells(path: Path, kinds: dict[str, int]) -> None:
    """``kinds`` cells written by xlsxwriter, 60 columns wide, each with one of
    a few formats."""
    wb = xlsxwriter.Workbook(str(path))
    try:
        fmts = [wb.add_format({"num_format": "0.00", "border": b}) for b in (1, 2)]
        ws = wb.add_worksheet()
        cell = 0
        for kind, count in kinds.items():
            for i in range(count):
                row, col = divmod(cell, 60)
                fmt = fmts[i & 1]
                if kind == "numbers":
                    ws.write_number(row, col, i * 0.5, fmt)
                elif kind == "strings":
                    ws.write_string(row, col, f"text {i % 997}", fmt)
                else:
                    ws.write_formula(row, col, f"=A1*{i % 97}", fmt, i * 0.5)
                cell += 1
    finally:
        wb.close()


def template_validate() -> None:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "saved.xlsx"
        base = best_of(lambda: load_workbook(TEMPLATE).save(out), 5)
        ours = best_of(lambda: validate(TEMPLATE), 5)
    print(
        f"template: openpyxl load+save {base:.3f} s; xlmodel validate {ours:.3f} s "
        f"(in process); ratio validate / load+save = {ours / base:.2f}x"
    )


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200, 1000]
    validate(TEMPLATE)  # imports and first-use caches out of the figures
    template_validate()
    clock = StageClock()
    for n in sizes:
        round_trip(n, clock)


if __name__ == "__main__":
    main()
