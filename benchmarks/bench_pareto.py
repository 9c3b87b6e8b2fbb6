"""Exact Pareto fronts at scale: the divide and conquer beside the previous algorithm.

Run: python benchmarks/bench_pareto.py [--points N] [--old-points M] [--repeat R]

Point sets with conflicting objectives: random directions on the positive unit
sphere, each point pulled inwards by up to a share ``t`` of its length (a shell),
so that a large share of the points is non-dominated; ``t`` is set per number of
objectives for a front of about 50,000 or more in a million points.

1. ``pareto_mask`` on N points (default 1,000,000) with 2, 3 and 4 objectives:
   seconds (median of R runs, wall and CPU) and the front's size.
2. The previous algorithm (benchmarks/baseline.py: a block-nested loop against
   the front so far, O(N x front) for three objectives or more) on M points
   (default 100,000, where it still finishes), beside the new one on the same
   points, in the same run: seconds of each and the ratio; both fronts must be
   the same.

Wall times on a shared machine vary with its load; the CPU time (the process's
own) is the steadier figure, and both runs of a comparison share the conditions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import old_pareto_mask  # noqa: E402

from xlmodel.studies.pareto import pareto_mask  # noqa: E402

#: shell thickness per number of objectives: a front of 50,000+ in 10^6 points
THICKNESS = {2: 0.0002, 3: 0.05, 4: 0.3}


def shell(n: int, m: int, seed: int = 0) -> np.ndarray:
    """n points to maximise in m objectives that conflict (see the module doc)."""
    rng = np.random.default_rng(seed)
    d = np.abs(rng.standard_normal((n, m)))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return d * (1 - THICKNESS[m] * rng.random((n, 1)))


def timed(fn, scores, repeat: int):
    """(mask, median wall seconds, median CPU seconds) of ``fn(scores)``."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        mask = fn(scores)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return mask, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--old-points", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    n = args.points
    print(f"exact Pareto front of {n:,} points (median of {args.repeat}):")
    for m in (2, 3, 4):
        s = shell(n, m)
        mask, wall, cpu = timed(pareto_mask, s, args.repeat)
        print(
            f"  {m} objectives: front of {int(mask.sum()):,} points, "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU "
            f"({n / wall / 1e6:.2f} M points/s)"
        )

    k = args.old_points
    print(f"\nthe previous algorithm on {k:,} points, the new one beside it:")
    for m in (3, 4):
        s = shell(k, m, seed=1)
        old, old_wall, old_cpu = timed(old_pareto_mask, s, 1)
        new, new_wall, new_cpu = timed(pareto_mask, s, args.repeat)
        assert (old == new).all(), "the two fronts differ"
        print(
            f"  {m} objectives, front of {int(new.sum()):,}: previous "
            f"{old_wall:.2f} s wall ({old_cpu:.2f} s CPU), new {new_wall:.3f} s "
            f"({new_cpu:.3f} s CPU): ratio {old_wall / new_wall:,.0f}x wall, "
            f"{old_cpu / new_cpu:,.0f}x CPU"
        )


if __name__ == "__main__":
    main()
