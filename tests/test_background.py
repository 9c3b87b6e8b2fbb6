"""The Monte Carlo beside the rest of a compute: the same numbers however it runs.

A forked child is only taken when the process runs no other thread, which a test
worker may not be; the process path is therefore run in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from forking import in_fresh_python

from xlmodel.cli.console import Progress
from xlmodel.engine import prepare
from xlmodel.studies import background, run
from xlmodel.studies.background import Background
from xlmodel.studies.design_space import run_uncertainty
from xlmodel.studies.uncertainty import Spread, Uncertainty
from xlmodel.workbook.reader import read_study
from xlmodel.workbook.template import write_template

SPEC = Uncertainty(
    spreads=(
        Spread("sm_power_w", "normal", 10.0),
        Spread("defect_density_per_cm2", "uniform", 30.0),
    ),
    samples=500,
    seed=7,
)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    path = tmp_path_factory.mktemp("bg") / "t.xlsx"
    write_template(path)
    return read_study(path)


def test_a_thread_and_a_serial_run_give_the_same_monte_carlo(study):
    v = run.fill_process_nodes(study.variants, study.process_nodes)
    with Background(run_uncertainty, (v, SPEC), mode="serial") as s:
        serial = s.result()
    with Background(run_uncertainty, (v.copy(), SPEC), mode="thread") as t:
        assert t.mode == "thread"
        threaded = t.result()
    assert serial.summary.equals(threaded.summary)
    for q, cdf in serial.cdf.items():
        assert cdf.equals(threaded.cdf[q])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_compute_runs_its_monte_carlo_in_a_child_with_the_serial_numbers(tmp_path):
    # the whole run, in a fresh interpreter (one thread: the child is taken),
    # against the same run with the Monte Carlo serial
    out = in_fresh_python(
        f"""
        import os, pickle
        from xlmodel.studies import background, run
        from xlmodel.workbook.template import write_template
        from xlmodel.workbook.reader import read_study
        write_template({str(tmp_path / "t.xlsx")!r})
        study = read_study({str(tmp_path / "t.xlsx")!r})
        from forking import record_runs
        used = record_runs()
        calls = []
        child = run.run(study, lambda *a: calls.append(a))
        background.DEFAULT_MODE = "serial"
        serial = run.run(study)
        _, mode, pid = used[0]
        assert mode == "process" and pid and pid != os.getpid(), used
        assert used[1][1] == "serial", used
        assert child.uncertainty.summary.equals(serial.uncertainty.summary)
        for q, cdf in serial.uncertainty.cdf.items():
            assert cdf.equals(child.uncertainty.cdf[q])
        mc = [c for c in calls if c[0] == "uncertainty"]
        assert mc[0][1] == 0 and mc[-1][1] == mc[-1][2] > 0, mc
        print("ok", len(mc))
        """
    )
    assert out.startswith("ok")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_the_result_sheets_are_written_while_the_monte_carlo_runs(tmp_path):
    # a Monte Carlo slower than the rest: run() returns while it runs, the
    # sheets before Uncertainty are written meanwhile, the workbook is the one
    # a serial Monte Carlo gives; a compute that fails ends it
    out = in_fresh_python(
        f"""
        import shutil, time, zipfile
        from xlmodel import pipeline
        from xlmodel.studies import background, run
        from xlmodel.workbook import report
        from xlmodel.workbook.template import write_template
        from forking import record_runs
        src = {str(tmp_path / "t.xlsx")!r}
        write_template(src)
        slow = run.run_uncertainty
        def slowly(*args):
            time.sleep(2.0)
            return slow(*args)
        run.run_uncertainty = slowly
        order, failing = [], []
        for entry in report._REGISTRY:
            def spy(ctx, sh, write=entry.write, name=entry.name):
                order.append((name, time.monotonic()))
                if name in failing:
                    raise OSError(28, "No space left on device")
                write(ctx, sh)
            object.__setattr__(entry, "write", spy)
        used = record_runs()
        parts = {{}}
        for mode in ("process", "serial"):
            background.DEFAULT_MODE = mode
            work = {str(tmp_path)!r} + f"/{{mode}}.xlsx"
            shutil.copy(src, work)
            t0 = time.monotonic()
            results = pipeline.compute(work, now=None)
            with zipfile.ZipFile(work) as z:
                parts[mode] = {{n: z.read(n) for n in z.namelist()}}
            if mode == "process":
                names = [n for n, _ in order]
                first = dict(order)
                # the sheets before Uncertainty began before the Monte Carlo ended
                assert first["Summary"] - t0 < 1.9, order
                assert names.index("Uncertainty") > names.index("Summary")
                assert used[0][1] == "process" and used[0][2], used
            order.clear()
        assert parts["process"].keys() == parts["serial"].keys()
        differ = [n for n in parts["serial"] if parts["serial"][n] != parts["process"][n]]
        assert len(differ) <= 3, differ  # the Run, Changes and state sheets: the time

        background.DEFAULT_MODE = "process"
        failing.append("Performance")  # a write that fails before Uncertainty
        used.clear()
        work = {str(tmp_path)!r} + "/fails.xlsx"
        shutil.copy(src, work)
        before = open(work, "rb").read()
        t0 = time.monotonic()
        try:
            pipeline.compute(work)
        except Exception:
            pass
        else:
            raise AssertionError("no error")
        assert open(work, "rb").read() == before
        child = used[0][0]
        assert child._process is None and child._cancel.is_set(), used
        assert time.monotonic() - t0 < 60
        print("ok")
        """
    )
    assert out.strip() == "ok"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_child_forwards_progress_and_errors_and_is_replaced_when_it_dies():
    out = in_fresh_python(
        """
        import os, sys, time
        from xlmodel.studies.background import Background
        parent = os.getpid()

        def counts(n, progress):
            for i in range(n + 1):
                progress("uncertainty", i, n)
            return os.getpid()

        seen = []
        with Background(counts, (3,), lambda *a: seen.append(a)) as b:
            assert b.mode == "process"
            pid = b.result()
        assert pid != parent and seen == [("uncertainty", i, 3) for i in range(4)]

        def fails(progress):
            raise ValueError("sm_power_w: spread out of range")

        with Background(fails, ()) as b:
            try:
                b.result()
            except ValueError as exc:
                assert "spread out of range" in str(exc)
            else:
                raise AssertionError("no error")

        def dies_in_a_child(progress):
            if os.getpid() != parent:
                os._exit(3)
            return "computed here"

        with Background(dies_in_a_child, ()) as b:
            assert b.mode == "process"
            assert b.result() == "computed here" and b.mode == "serial"

        def sleeps(progress):
            time.sleep(60)

        t = time.monotonic()
        try:
            with Background(sleeps, ()) as b:
                child = b._process
                raise KeyError("the compute failed")
        except KeyError:
            pass
        assert time.monotonic() - t < 20 and not child.is_alive()
        print("ok")
        """
    )
    assert out.strip() == "ok"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_a_child_holds_no_write_lock_and_ends_with_its_parent_killed(tmp_path):
    # a parent holding the workbook's write lock starts a child, reports the
    # child's pid and what the child sees of the lock, then is killed
    pidfile = tmp_path / "child.pid"
    code = f"""
        import os, pathlib, time
        from xlmodel import pipeline
        from xlmodel.studies.background import Background

        def waits(progress):
            fds = sorted(pipeline._HELD_LOCKS)
            open_fds = set(os.listdir("/proc/self/fd"))
            held = [fd for fd in fds if str(fd) in open_fds]
            pathlib.Path({str(pidfile)!r}).write_text(f"{{os.getpid()}} {{held}}")
            time.sleep(120)

        pipeline._load()
        with pipeline._write_lock(pathlib.Path({str(tmp_path / "w.xlsx")!r})):
            assert pipeline._HELD_LOCKS, "the lock is not recorded as held"
            with Background(waits, ()) as b:
                assert b.mode == "process"
                time.sleep(120)
        """
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)])
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() or " " not in pidfile.read_text():
            assert parent.poll() is None, "the parent ended early"
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        pid, held = pidfile.read_text().split(" ", 1)
        assert held == "[]", f"the child holds the parent's lock descriptors {held}"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while True:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            break
        # a zombie is ended; its parent (the killed one) is gone
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        assert time.monotonic() < deadline, "the child outlived its killed parent"
        time.sleep(0.05)


def test_a_thread_stops_at_its_next_report_when_the_compute_fails():
    reports = []
    started = threading.Event()

    def long_study(progress):
        for i in range(10_000):
            started.set()
            progress("uncertainty", i, 10_000)
            reports.append(i)
            time.sleep(0.001)
        return "finished"

    with pytest.raises(KeyError):
        with Background(long_study, (), mode="thread") as b:
            started.wait(5)
            raise KeyError("the compute failed")
    b._thread.join(10)
    assert not b._thread.is_alive() and len(reports) < 10_000
    with pytest.raises(background._Cancelled):
        b.result()


def test_without_a_study_there_is_nothing_to_wait_for():
    with Background(None, (), mode="process") as b:
        assert b.result() is None and b.mode == "serial"
    with pytest.raises(ValueError, match="expected process, thread or serial"):
        Background(None, (), mode="fork")


def test_a_process_is_not_forked_beside_other_threads():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        b = Background(lambda progress: os.getpid(), (), mode="process")
        assert b.mode == "thread"
        with b:
            assert b.result() == os.getpid()
    finally:
        stop.set()
        other.join()


def test_two_stages_reporting_at_once_keep_their_own_lines(capsys):
    now = [0.0]
    p = Progress(clock=lambda: now[0])
    p("uncertainty", 0, 300)  # the Monte Carlo starts beside the exploration
    for i in range(1, 4):
        now[0] += 0.7
        p("explore", i * 100, 300)
        p("uncertainty", i * 100, 300)
    lines = capsys.readouterr().err.splitlines()
    mc = [line for line in lines if line.startswith("Monte Carlo:")]
    ex = [line for line in lines if line.startswith("exploring:")]
    assert len(mc) + len(ex) == len(lines)
    # each timed from its own start: 300 draws in 2.1 s, 300 points in 2.1 s
    assert mc[-1].endswith("300 / 300 draws (100 %), 143 draws/s, 2.1 s")
    assert ex[-1].endswith("300 / 300 points (100 %), 143 points/s, 2.1 s")


def test_the_monte_carlo_reports_its_start(study):
    calls = []
    x = prepare(run.fill_process_nodes(study.variants, study.process_nodes))
    from xlmodel.studies.uncertainty import monte_carlo

    monte_carlo(x, study.variants.index, SPEC, lambda *a: calls.append(a))
    total = len(study.variants) * SPEC.samples
    assert calls[0] == (0, total) and calls[-1] == (total, total)
