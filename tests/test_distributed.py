"""The exploration on a Dask cluster of two worker processes equals the serial run."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from make_input_corpus import BLANK, _a1, write

import xlmodel.studies.explore as ex
from xlmodel.cli import main
from xlmodel.engine import prepare
from xlmodel.studies import distributed as dist
from xlmodel.studies.explore import Constraint, Objective, Problem, Range, explore
from xlmodel.studies.run import seed_study
from xlmodel.workbook.inputs.exploration_setup import EXPLORATION_SETTINGS
from xlmodel.workbook.inputs.uncertainty_setup import EXAMPLE_SPREADS
from xlmodel.workbook.template import BLOCKS

pytest.importorskip("distributed")

CONSTRAINTS = (
    Constraint("power_total_w", "<=", 700),
    Constraint("junction_temp_c", "<=", 100),
)
THREE = (
    Objective("target_density_tflops_per_mm2"),
    Objective("power_total_w", "min"),
    Objective("tflops_per_w"),
)


@pytest.fixture(scope="module")
def client():
    client, cluster = dist.start_client(workers=2)
    yield client
    client.close()
    cluster.close()


def base_inputs():
    return prepare(seed_study().variants.loc[["Baseline"]])


def assert_same(a: ex.Exploration, b: ex.Exploration) -> None:
    assert (a.points, a.feasible, a.front_size) == (b.points, b.feasible, b.front_size)
    for name in ("designs", "constraints", "cloud"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_two_workers_give_the_serial_result_whatever_the_window(client, monkeypatch):
    # default chunks (the workers' own CHUNK_POINTS): 3 Latin-hypercube chunks
    problem = Problem(
        (
            Range("sms_per_chiplet", 16, 160),
            Range("clock_mhz", 1200, 2800),
            Range("num_chiplets", 1, 8),
            Range("chiplet_area_mm2", 250, 900),
        ),
        THREE,
        CONSTRAINTS,
        "lhs",
        2 * ex.CHUNK_POINTS + 1000,
        seed=11,
        top_k=25,
    )
    base = base_inputs()
    monkeypatch.setattr(ex, "THREADS", 1)
    serial = explore(problem, base)
    assert serial.front_size > 50 and problem.chunks == 3
    for window in (1, None):
        runner = dist.DaskRunner(client, window)
        assert_same(explore(problem, base, chunks=runner(problem, base)), serial)


def test_a_grid_and_the_context_backend(client, monkeypatch):
    problem = Problem(
        (
            Range("sms_per_chiplet", 16, 160, 100),
            Range("clock_mhz", 1200, 2800, 61),
            Range("num_chiplets", 1, 8, 8),
            Range("hbm_stacks", 2, 8, 7),
        ),
        THREE[:2],
        CONSTRAINTS,
        top_k=10,
    )
    base = base_inputs()
    serial = explore(problem, base)
    assert problem.chunks == 2
    with ex.chunks_run_by(dist.DaskRunner(client)):
        assert_same(explore(problem, base), serial)
    assert ex.chunk_runner is None


def test_workers_keep_glibcs_own_memory_trimming(client):
    import os

    env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert len(env) == 2 and set(env.values()) == {None}


def exploration_sheet(path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="Exploration", header=None)


def lhs_workbook(path, samples: int):
    """The template exploring a Latin hypercube; no Sobol indices, no Monte Carlo."""
    block = BLOCKS["exploration"]
    rows = {p.name: i for i, p in enumerate(EXPLORATION_SETTINGS)}
    setting = {
        _a1(block.row + 1 + rows[name], block.col + 1): value
        for name, value in (
            ("method", "lhs"),
            ("samples", samples),
            ("sobol_samples", 0),
        )
    }
    spreads = BLOCKS["spreads"]
    blank = {
        _a1(spreads.row + 1 + i, spreads.col + k): BLANK
        for i in range(len(EXAMPLE_SPREADS))
        for k in range(4)
    }
    return write(path, {block.sheet: setting, spreads.sheet: blank})


def test_cli_on_the_cluster_writes_what_the_serial_run_writes(
    client, tmp_path, runner, monkeypatch
):
    path = lhs_workbook(tmp_path / "v.xlsx", ex.CHUNK_POINTS + 5000)
    serial, remote, local = (tmp_path / f"{n}.xlsx" for n in ("s", "r", "l"))
    r = runner.invoke(main, ["explore", str(path), "-o", str(serial), "--no-export"])
    assert r.exit_code == 0, r.output
    address = client.scheduler.address
    args = ["explore", str(path), "-o", str(remote), "--no-export"]
    r = runner.invoke(main, [*args, "--scheduler", address])
    assert r.exit_code == 0, r.output
    assert f"exploring on the Dask cluster at {address}" in r.output
    pd.testing.assert_frame_equal(exploration_sheet(remote), exploration_sheet(serial))
    # --workers N starts a LocalCluster of N processes (here: lent the fixture's)
    asked = []

    def lend(workers=None, scheduler=None):
        asked.append((workers, scheduler))
        return client, None

    monkeypatch.setattr(dist, "start_client", lend)
    monkeypatch.setattr(dist._OnFirstUse, "close", lambda self: None)
    args = ["explore", str(path), "-o", str(local), "--no-export", "--workers", "2"]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    assert asked == [(2, None)]
    pd.testing.assert_frame_equal(exploration_sheet(local), exploration_sheet(serial))
    assert f"{ex.CHUNK_POINTS + 5000:,} points (lhs)" in r.output


def test_cli_refuses_bad_backend_options(tmp_path, runner, monkeypatch):
    path = write(tmp_path / "v.xlsx")
    both = ["explore", str(path), "--workers", "2", "--scheduler", "tcp://x:1"]
    r = runner.invoke(main, both)
    assert r.exit_code == 2 and "not both" in r.output
    r = runner.invoke(main, ["explore", str(path), "--workers", "0"])
    assert r.exit_code == 2
    monkeypatch.setattr(dist, "CONNECT_TIMEOUT_S", 1)
    r = runner.invoke(main, ["explore", str(path), "--scheduler", "tcp://127.0.0.1:9"])
    assert r.exit_code == 2, r.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.output
    assert "Traceback" not in r.output


def test_without_dask_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(dist.BackendError, match=r"pip install 'xlmodel\[dask\]'"):
        dist.start_client(workers=2)
    with pytest.raises(dist.BackendError, match="either"):
        dist.start_client()
