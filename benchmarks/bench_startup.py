"""Start-up: wall time of the ``xlmodel`` command in a fresh interpreter.

Run: python benchmarks/bench_startup.py [REPEAT]. Times, best of REPEAT (default
5), in the same run: an empty interpreter, ``import openpyxl`` and an openpyxl
load + save of the shipped template (the baseline), then ``xlmodel --help`` and
``xlmodel validate templates/variants.xlsx``; prints each and the ratio of
validate to the baseline. The goal for validate is under 0.8 s.

Every command runs once untimed first, with bytecode caching on whatever the
calling environment says (PYTHONDONTWRITEBYTECODE removed): an installed
xlmodel, like its dependencies, starts from compiled bytecode, and a figure
that recompiles every module on every start is not what a user waits for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(args: list[str], repeat: int) -> float:
    subprocess.run(args, check=True, capture_output=True, env=ENV)  # caches warm
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=ENV)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        save = (
            "from openpyxl import load_workbook; "
            f"load_workbook({str(TEMPLATE)!r}).save({str(Path(d) / 's.xlsx')!r})"
        )
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("import openpyxl", [py, "-c", "import openpyxl"]),
            ("openpyxl load+save (baseline)", [py, "-c", save]),
            ("xlmodel --help", [py, "-m", "xlmodel.cli", "--help"]),
            ("xlmodel validate", [py, "-m", "xlmodel.cli", "validate", str(TEMPLATE)]),
        ]
        times = {label: wall(args, repeat) for label, args in rows}
    for label, t in times.items():
        print(f"{label:<32} {t:6.3f} s")
    base = times["openpyxl load+save (baseline)"]
    print(
        f"validate / baseline = {times['xlmodel validate'] / base:.2f}x "
        f"(goal: validate under 0.8 s wall)"
    )


if __name__ == "__main__":
    main()
