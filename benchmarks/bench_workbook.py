"""Workbook round trip: compute on a 200-variant workbook vs merely loading and saving it.

Run: python benchmarks/bench_workbook.py [VARIANTS]. Builds the workbook from the
template (variant columns copied and perturbed), then times, in the same run,
(a) openpyxl load + save of that workbook (the floor any Excel round trip pays) and
(b) ``xlmodel compute`` end to end (read, validate, every study, result sheets with
charts, lossless splice, atomic write; no CSV/PNG export), and prints both and the
ratio.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter
from openpyxl import load_workbook

from xlmodel.pipeline import compute
from xlmodel.schema import SEED_VARIANTS
from xlmodel.workbook.template import fill_workbook


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "variants.xlsx"
        build(src, n)
        work = Path(d) / "work.xlsx"

        def load_save():
            wb = load_workbook(src)
            wb.save(work)

        def run_compute():
            shutil.copy(src, work)
            compute(work, export_dir=None)

        base = best_of(load_save)
        ours = best_of(run_compute)
    print(
        f"{n} variants: openpyxl load+save {base:.2f} s; xlmodel compute "
        f"{ours:.2f} s; ratio compute / load+save = {ours / base:.1f}x"
    )


if __name__ == "__main__":
    main()
