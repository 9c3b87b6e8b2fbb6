"""Design-space exploration at scale: 10 M points in process, on Dask, and end to end.

Run: python benchmarks/bench_explore.py [--explore-points N] [--points P]
     [--no-dask] [--huge [M]]

1. The exploration alone, in this process: the template's problem (six ranges,
   three constraints, two objectives) as a Latin hypercube of N points (default
   10,000,000) around Baseline, timed three ways in the same run: the previous
   path (benchmarks/baseline.py: every metric, full sorts, one chunk after the
   other) as the baseline, the current one on one thread, and the current one
   with its default threads; points/s of each and the ratio to the baseline. The
   three results must be identical. Then the peak resident memory of a fresh
   process exploring N/10 and N points (bounded: set by the chunk).
2. The same exploration on a Dask LocalCluster of 1 and of 2 worker processes
   (unless --no-dask): points/s, the cluster's start-up apart; identical again.
3. Builds the template with its Exploration setup switched to a Latin hypercube
   of P points (default 1,000,000), then times ``xlmodel explore`` on it twice:
   in this process (``pipeline.compute``: read and check the workbook, every
   study including the exploration, Sobol indices and Monte Carlo, result sheets
   with charts, lossless splice, atomic write; no CSV/PNG export), with the
   stages broken down, and as a fresh ``xlmodel explore`` process (Python
   start-up and imports included), whose peak resident memory is reported.
4. Measures a per-point Python loop over the seed-style object API (SoCConfig,
   PerformanceModel, PowerModel: density, power, TFLOPS/W, Tj, constraint checks)
   on a sample in the same run and extrapolates it to P points; prints the ratio.
5. With --huge, explores M points (default 100,000,000) the same way in a fresh
   process, printing progress, throughput and peak memory.

Wall times on a shared machine vary with its load: compare figures of one run.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from xlmodel.engine import prepare
from xlmodel.pipeline import compute
from xlmodel.studies import explore as ex
from xlmodel.studies.explore import CHUNK_POINTS
from xlmodel.studies.run import run, seed_study
from xlmodel.workbook.inputs.exploration_setup import (
    EXAMPLE_RANGES,
    EXPLORATION_SETTINGS,
)
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import BLOCKS, fill_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "variants.xlsx"
from baseline import old_chunks  # noqa: E402


def template_problem(points: int) -> ex.Problem:
    """The template's exploration example as a Latin hypercube of ``points``:
    its ranges, objectives and constraints as the reader gives them (a blank
    limit takes the Targets' value)."""
    problem = read_study(TEMPLATE).exploration.problem
    return dataclasses.replace(problem, method="lhs", samples=points, seed=1)


def baseline_inputs() -> dict:
    return prepare(seed_study().variants.loc[["Baseline"]])


def same(a: ex.Exploration, b: ex.Exploration) -> bool:
    return (
        (a.points, a.feasible, a.front_size) == (b.points, b.feasible, b.front_size)
        and a.designs.equals(b.designs)
        and a.constraints.equals(b.constraints)
        and a.cloud.equals(b.cloud)
    )


_MEMORY_CHILD = """
import resource, sys
sys.path.insert(0, {here!r})
from bench_explore import baseline_inputs, template_problem
from xlmodel.studies.explore import explore
r = explore(template_problem(int(sys.argv[1])), baseline_inputs())
print(r.points, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def explore_memory_mib(points: int) -> float:
    """Peak resident memory (MiB) of a fresh process exploring ``points``."""
    code = _MEMORY_CHILD.format(here=str(Path(__file__).resolve().parent))
    proc = subprocess.run(
        [sys.executable, "-c", code, str(points)],
        capture_output=True,
        text=True,
        check=True,
    )
    done, peak = proc.stdout.split()
    assert int(done) == points
    return int(peak) / 1024


def in_process(n: int, dask: bool) -> None:
    """Sections 1 and 2: the exploration alone, before and now, in process and on Dask."""
    problem, base = template_problem(n), baseline_inputs()
    warm = template_problem(CHUNK_POINTS)
    ex.explore(warm, base)  # warm up
    print(
        f"{n:,} design points explored in process (Latin hypercube, "
        f"{len(problem.ranges)} ranges, {len(problem.constraints)} constraints, "
        f"{len(problem.objectives)} objectives; {problem.chunks} chunks of "
        f"{CHUNK_POINTS:,}):"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    before = ex.explore(problem, base, chunks=old_chunks(problem, base))
    t_before, c_before = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"  baseline (the previous path): {t_before:.2f} s = "
        f"{n / t_before:,.0f} points/s ({c_before:.2f} s CPU)"
    )
    threads = ex.THREADS
    for label, count in (("now, 1 thread", 1), (f"now, {threads} threads", threads)):
        ex.THREADS = count
        t0, c0 = time.perf_counter(), time.process_time()
        now = ex.explore(problem, base)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert same(now, before), "the results differ from the baseline's"
        print(
            f"  {label}: {wall:.2f} s = {n / wall:,.0f} points/s "
            f"({t_before / wall:.1f}x the baseline; {cpu:.2f} s CPU, "
            f"{c_before / cpu:.1f}x less)"
        )
    ex.THREADS = threads
    print(
        f"  the same front ({before.front_size} designs), top {problem.top_k} and "
        f"cloud as the baseline; {before.feasible:,} feasible"
    )
    small, large = explore_memory_mib(n // 10), explore_memory_mib(n)
    print(
        f"  peak resident memory of a fresh process: {small:,.0f} MiB for "
        f"{n // 10:,} points, {large:,.0f} MiB for {n:,}"
    )
    if not dask:
        return
    from xlmodel.studies.distributed import DaskRunner, start_client

    print(f"\nthe same {n:,} points on a Dask LocalCluster (this machine):")
    for workers in (1, 2):
        t0 = time.perf_counter()
        client, cluster = start_client(workers=workers)
        up = time.perf_counter() - t0
        try:
            runner = DaskRunner(client)
            ex.explore(warm, base, chunks=runner(warm, base))
            t0 = time.perf_counter()
            result = ex.explore(problem, base, chunks=runner(problem, base))
            wall = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        assert same(result, before), "the cluster's results differ"
        print(
            f"  {workers} worker(s): {wall:.2f} s = {n / wall:,.0f} points/s "
            f"({t_before / wall:.1f}x the baseline; cluster started in {up:.1f} s); "
            "identical results"
        )


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
    ap.add_argument("--explore-points", type=int, default=10_000_000)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--huge", nargs="?", type=int, const=100_000_000, default=0)
    args = ap.parse_args()
    in_process(args.explore_points, not args.no_dask)
    print()
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
