"""Design-space exploration at scale: a million points end to end, and 100 M chunked.

Run: python benchmarks/bench_explore.py [--points N] [--huge [M]]

1. Builds the template with its Exploration setup switched to a Latin hypercube of
   N points (default 1,000,000) around Baseline, then times ``xlmodel explore`` on
   it twice: in this process (``pipeline.compute``: read and check the workbook,
   every study including the exploration, Sobol indices and Monte Carlo, result
   sheets with charts, lossless splice, atomic write; no CSV/PNG export), with the
   stages broken down, and as a fresh ``xlmodel explore`` process (Python start-up
   and imports included), whose peak resident memory is reported.
2. Measures a per-point Python loop over the seed-style object API (SoCConfig,
   PerformanceModel, PowerModel: density, power, TFLOPS/W, Tj, constraint checks)
   on a sample in the same run and extrapolates it to N points; prints the ratio.
3. With --huge, explores M points (default 100,000,000) the same way in a fresh
   process, printing progress, throughput and peak memory: the chunks keep memory
   bounded whatever M is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xlsxwriter

from xlmodel import (
    ChipletConfig,
    PerformanceModel,
    PowerModel,
    Precision,
    SMConfig,
    SoCConfig,
)
from xlmodel.pipeline import compute
from xlmodel.studies.explore import CHUNK_POINTS
from xlmodel.studies.run import run
from xlmodel.workbook.inputs.exploration_setup import (
    EXAMPLE_RANGES,
    EXPLORATION_SETTINGS,
)
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import BLOCKS, fill_workbook


def build(path: Path, points: int) -> None:
    """The template with its exploration example sampled by a Latin hypercube."""
    wb = xlsxwriter.Workbook(str(path))
    try:
        sheets = fill_workbook(wb)
        ws = sheets[BLOCKS["exploration"].sheet]
        block = BLOCKS["exploration"]
        rows = {p.name: block.row + 1 + i for i, p in enumerate(EXPLORATION_SETTINGS)}
        ws.write_string(rows["method"], block.col + 1, "lhs")
        ws.write_number(rows["samples"], block.col + 1, points)
    finally:
        wb.close()


def per_object(
    sms_per_chiplet,
    clock_mhz,
    tensor_cores_per_sm,
    fp16_ops_per_cycle,
    chiplet_area_mm2,
    num_chiplets,
) -> tuple:
    """One design through the seed's object API: the same questions as explore."""
    sms, clock, tc, ops = (
        sms_per_chiplet,
        clock_mhz,
        tensor_cores_per_sm,
        fp16_ops_per_cycle,
    )
    area, chiplets = chiplet_area_mm2, num_chiplets
    sm = SMConfig(
        tensor_cores=int(tc),
        clock_mhz=float(clock),
        tensor_core_ops_per_cycle={Precision.FP16: int(ops), Precision.BF16: int(ops)},
    )
    chip = ChipletConfig(num_sms=int(sms), area_mm2=float(area), sm_config=sm)
    soc = SoCConfig(num_chiplets=int(chiplets), chiplet_config=chip)
    perf, power = PerformanceModel(soc), PowerModel(soc)
    density = perf.compute_density(Precision.FP16)
    watts = power.breakdown(1.0)["total"]
    tj = power.thermal_estimate()
    eff = power.power_efficiency(Precision.FP16)
    feasible = watts <= 500 and area <= 858 and tj <= 105
    return density, watts, eff, feasible


def object_seconds_per_point(sample: int = 200) -> float:
    rng = np.random.default_rng(0)
    lows = [v[0] for v in EXAMPLE_RANGES.values()]
    highs = [v[1] for v in EXAMPLE_RANGES.values()]
    pts = rng.uniform(lows, highs, (sample, len(lows))).round()
    names = list(EXAMPLE_RANGES)
    per_object(**dict(zip(names, pts[0])))  # warm up
    t0 = time.perf_counter()
    for row in pts:
        per_object(**dict(zip(names, row)))
    return (time.perf_counter() - t0) / sample


_CHILD = """
import resource, sys
from xlmodel.cli import main
try:
    main(sys.argv[1:])
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak_rss_kib {peak}", file=sys.stderr)
"""


def run_cli(path: Path) -> tuple[float, float, str]:
    """``xlmodel explore`` in a fresh process: wall seconds, its peak RSS (MiB), log."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "explore", str(path), "--no-export"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    peak = next(
        int(line.split()[1])
        for line in proc.stderr.splitlines()
        if line.startswith("peak_rss_kib")
    )
    return seconds, peak / 1024, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--huge", nargs="?", type=int, const=100_000_000, default=0)
    args = ap.parse_args()
    n = args.points

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = folder / "explore.xlsx"
        build(book, n)
        out = folder / "out.xlsx"
        compute(book, out, None, explore=True)  # warm up imports and caches
        t0 = time.perf_counter()
        results = compute(book, out, None, explore=True)
        total = time.perf_counter() - t0
        ex = results.exploration
        assert ex.points == n
        # the stages, once more, one by one
        t0 = time.perf_counter()
        study = read_study(book)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        run(study)
        t_run = time.perf_counter() - t0
        cli_s, cli_mib, _ = run_cli(book)

        obj = object_seconds_per_point()
        print(
            f"{n:,} design points (Latin hypercube, {len(ex.problem.ranges)} ranges, "
            f"{len(ex.problem.constraints)} constraints, "
            f"{len(ex.problem.objectives)} objectives; chunks of {CHUNK_POINTS:,})"
        )
        print(
            f"  exploration (sample + evaluate + constraints + Pareto): "
            f"{ex.seconds:.2f} s = {n / ex.seconds:,.0f} points/s; "
            f"{ex.feasible:,} feasible, front of {ex.front_size}"
        )
        print(
            f"  end to end in process: {total:.2f} s = read and check the workbook "
            f"{t_read:.2f} s + every study {t_run:.2f} s (exploration "
            f"{ex.seconds:.2f} s, Sobol indices, Monte Carlo, the rest) + result "
            f"sheets, splice and atomic write {total - t_read - t_run:.2f} s"
        )
        print(
            f"  end to end as 'xlmodel explore' (fresh process, imports included): "
            f"{cli_s:.2f} s, peak resident memory {cli_mib:,.0f} MiB"
        )
        print(
            f"per-point Python loop over the object API: {1 / obj:,.0f} points/s "
            f"(sample of 200); {n:,} points would take {n * obj:,.0f} s for the "
            "evaluation alone"
        )
        print(
            f"ratio: object loop (extrapolated) / xlmodel explore end to end = "
            f"{n * obj / cli_s:,.0f}x (in process: {n * obj / total:,.0f}x)"
        )

        if args.huge:
            m = args.huge
            big = folder / "huge.xlsx"
            build(big, m)
            print(f"\n{m:,} points, chunked, in a fresh process (progress below):")
            huge_s, huge_mib, log = run_cli(big)
            lines = log.splitlines()
            steps = [x for x in lines if x.startswith("exploring:")]
            for line in [*steps[:2], "...", *steps[-2:]]:
                print("  " + line)
            print("  " + next(x for x in lines if x.startswith("exploration around")))
            print(
                f"  end to end {huge_s:,.1f} s = {m / huge_s:,.0f} points/s; peak "
                f"resident memory {huge_mib:,.0f} MiB (the 1M run: {cli_mib:,.0f} MiB)"
            )


if __name__ == "__main__":
    main()
