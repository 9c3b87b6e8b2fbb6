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
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import time
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
    "_write_results": "result sheets",
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
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    print(
        f"{n} variants: openpyxl load+save {base:.2f} s; xlmodel compute "
        f"{ours:.2f} s ({parts}); ratio compute / load+save = {ours / base:.1f}x"
    )


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
