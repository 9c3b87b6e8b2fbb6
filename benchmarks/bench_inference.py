"""Serving model: speed of the vectorised table, and its error against measurements.

Run: python benchmarks/bench_inference.py [N]. Evaluates N random variants (default
10,000) x the four shipped models x six scenarios in one call and prints rows per
second; then fits the coefficients on H100 only and prints the error of the shipped
(unchanged) model on every hold-out measurement of other chips, with its scenario.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from xlmodel.studies import inference_calibration as ic
from xlmodel.studies.inference import inference_table, load_models

SCENARIOS = pd.DataFrame(
    {
        "input_tokens": [128, 128, 2048, 1000, 5000, 20000],
        "output_tokens": [128, 2048, 128, 1000, 500, 2000],
        "precision": ["FP8", "FP8", "FP8", "FP16", "FP8", "FP8"],
        "tp": [1, 2, 4, 8, 8, 8],
    },
    index=["short", "chat", "summarise", "balanced", "long in", "long context"],
)


def random_variants(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num_chiplets": rng.integers(1, 9, n),
            "sms_per_chiplet": rng.integers(16, 160, n),
            "tensor_cores_per_sm": 4,
            "fp16_ops_per_cycle": rng.choice([512, 1024, 2048], n),
            "fp8_ops_per_cycle": rng.choice([1024, 2048, 4096], n),
            "clock_mhz": rng.uniform(1200, 2400, n),
            "hbm_stacks": rng.integers(4, 13, n),
            "hbm_bandwidth_gbps_per_stack": rng.uniform(600, 1600, n),
            "hbm_capacity_gb_per_stack": rng.choice([16, 24, 36, 48], n),
            "nvlink_lanes": 18,
            "nvlink_bandwidth_gbps_per_lane": rng.choice([25, 50], n),
        }
    )


def main(n: int) -> None:
    variants = random_variants(n)
    models = list(load_models().index)
    start = time.perf_counter()
    table = inference_table(variants, models, SCENARIOS)
    took = time.perf_counter() - start
    print(
        f"{len(table):,} rows ({n:,} variants x {len(models)} models x "
        f"{len(SCENARIOS)} scenarios) in {took:.2f} s: {len(table) / took:,.0f} rows/s"
    )
    fit = ic.fit_h100()
    print("\nH100 fit:", {k: round(v, 4) for k, v in fit.coefficients.items()})
    print(f"fit median |error| {fit.fit_median_abs_error_percent:.1f} %")
    hold = ic.holdout_report()
    print(
        f"hold-out median |error| {hold['error_percent'].abs().median():.1f} % "
        f"over {len(hold)} measurements of other chips\n"
    )
    print(ic.summary(hold).round(1).to_string())
    print()
    print(ic.per_measurement_table(hold))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
