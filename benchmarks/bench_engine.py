"""Engine speed: one million variants in one vectorised call vs the per-object seed API.

Run: python benchmarks/bench_engine.py [N]. Prints points per second (best of two
calls after a first one, whose time is printed too), peak traced memory and the
ratio against evaluating variants one by one through the object API
(measured on a sample in the same run and extrapolated).
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from xlmodel import (
    ChipletConfig,
    PerformanceModel,
    PowerModel,
    Precision,
    SMConfig,
    SoCConfig,
    evaluate,
)


def random_variants(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sms_per_chiplet": rng.integers(8, 129, n),
            "chiplet_area_mm2": rng.uniform(200, 850, n),
            "clock_mhz": rng.uniform(1200, 3000, n),
            "tensor_cores_per_sm": rng.integers(2, 9, n),
            "fp16_ops_per_cycle": rng.integers(64, 1025, n),
            "l2_cache_mb": rng.uniform(2, 64, n),
            "num_chiplets": rng.integers(1, 17, n),
            "hbm_stacks": rng.integers(2, 17, n),
        }
    )


def per_object(row) -> dict:
    sm = SMConfig(
        tensor_cores=int(row.tensor_cores_per_sm),
        clock_mhz=row.clock_mhz,
        tensor_core_ops_per_cycle={
            Precision.FP16: int(row.fp16_ops_per_cycle),
            Precision.BF16: int(row.fp16_ops_per_cycle),
        },
    )
    chip = ChipletConfig(
        num_sms=int(row.sms_per_chiplet),
        l2_cache_mb=row.l2_cache_mb,
        area_mm2=row.chiplet_area_mm2,
        sm_config=sm,
    )
    soc = SoCConfig(
        num_chiplets=int(row.num_chiplets),
        hbm3e_stacks=int(row.hbm_stacks),
        chiplet_config=chip,
    )
    perf, power = PerformanceModel(soc), PowerModel(soc)
    out = {}
    for p in Precision:
        out[p.value] = (
            perf.peak_compute(p),
            perf.compute_density(p),
            perf.arithmetic_intensity_roof(p),
        )
    out["power"] = power.breakdown(1.0)
    out["tj"] = power.thermal_estimate()
    out["eff"] = power.power_efficiency(Precision.FP16)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = random_variants(n)
    evaluate(frame.head(1000))  # warm up imports and caches

    # the first call of this size pays for its memory's first touch (the
    # process grows by some 700 MiB); the calls after it reuse that memory
    t0 = time.perf_counter()
    out = evaluate(frame)
    cold_s = time.perf_counter() - t0
    del out
    vec_s = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        out = evaluate(frame)
        vec_s = min(vec_s, time.perf_counter() - t0)
        del out
    # memory in a second call: tracing slows allocation, so it is not timed
    tracemalloc.start()
    out = evaluate(frame)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(out) == n and np.isfinite(out["power_total_w"]).all()

    sample = frame.head(200)
    t0 = time.perf_counter()
    for row in sample.itertuples():
        per_object(row)
    obj_s_per_point = (time.perf_counter() - t0) / len(sample)

    vec_rate = n / vec_s
    obj_rate = 1 / obj_s_per_point
    print(
        f"vectorised evaluate: {n:,} variants x {out.shape[1]} metrics "
        f"in {vec_s:.3f} s = {vec_rate:,.0f} variants/s (best of 2; the first "
        f"call, memory touched for the first time: {cold_s:.3f} s); "
        f"peak traced memory {peak / 2**20:,.0f} MiB"
    )
    print(
        f"per-object seed API (sample of {len(sample)}): {obj_rate:,.0f} variants/s; "
        f"{n:,} would take {n * obj_s_per_point:,.0f} s"
    )
    print(f"ratio vectorised / per-object: {vec_rate / obj_rate:,.0f}x")


if __name__ == "__main__":
    main()
