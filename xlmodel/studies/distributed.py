"""The exploration's chunks on a Dask cluster: summaries travel, points never do.

``xlmodel explore FILE --workers N`` starts a ``dask.distributed`` LocalCluster of
N worker processes on this machine; ``--scheduler ADDRESS`` uses an existing
cluster (``dask scheduler`` and ``dask worker`` on other machines, or any Dask
deployment). Either way every chunk is one task,
:func:`~xlmodel.studies.explore.summarise_chunk` ``(problem, base, i)`` on some
worker, which samples and evaluates its points there and sends back only its
:class:`~xlmodel.studies.explore.ChunkSummary` (counts, chunk front, top K, cloud
sample: kilobytes). The client merges the summaries in chunk order, exactly as
the serial loop does, so the exploration is bit-identical to the serial run
whatever the number of workers or the order in which the tasks finish: chunk
``i`` draws its points from a generator seeded with ``(seed, i)`` (the seed
sequence of the problem's seed and the chunk index), whichever worker runs it.
Identical means the same numpy on the same kind of CPU: a different build may
round a power function differently in the last bit.

At most ``window`` tasks are in flight (default: twice the cluster's threads), so
the client holds a bounded number of summaries however many chunks there are.

Dask is an optional dependency (``pip install 'xlmodel[dask]'``), imported only
when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..engine.inputs import Inputs
from ..errors import XlmodelError
from . import explore as ex

#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT_S = 10


class BackendError(XlmodelError):
    """A cluster cannot be started or reached, or Dask is not installed."""


@dataclass(frozen=True)
class _Job:
    problem: ex.Problem
    base: Inputs


def _summarise(job: _Job, index: int) -> ex.ChunkSummary:
    return ex.summarise_chunk(job.problem, job.base, index)


class DaskRunner:
    """Runs an exploration's chunks as tasks of a ``distributed.Client``.

    Call it as ``runner(problem, base)``: the chunk summaries, in chunk order.
    Give it to :func:`xlmodel.studies.explore.chunks_run_by`, or pass its output
    as ``explore(problem, base, chunks=runner(problem, base))``.

    Parameters
    ----------
    client : distributed.Client
    window : int, optional
        Most tasks in flight; default twice the cluster's worker threads.
    """

    def __init__(self, client, window: int | None = None):
        self.client = client
        self.window = window

    def threads(self) -> int:
        """Worker threads of the cluster now."""
        return max(1, sum(self.client.nthreads().values()))

    def __call__(self, problem: ex.Problem, base: Inputs) -> Iterator[ex.ChunkSummary]:
        client = self.client
        window = self.window or 2 * self.threads()
        # hash=False: a key of this run's own, so that releasing it at the end never
        # takes the data of another run of the same problem on the same client
        job = client.scatter(_Job(problem, base), broadcast=True, hash=False)
        tag = uuid.uuid4().hex[:12]
        pending: deque = deque()
        try:
            for i in itertools.chain(range(problem.chunks), [None]):
                if i is not None:
                    pending.append(
                        client.submit(_summarise, job, i, key=f"xlmodel-{tag}-{i}")
                    )
                # the oldest first: merged in chunk order whatever finished first
                while pending and (i is None or len(pending) >= window):
                    yield pending.popleft().result()
        finally:
            if pending:
                client.cancel(list(pending))
            job.release()


def start_client(workers: int | None = None, scheduler: str | None = None):
    """A ``distributed.Client``: on a new LocalCluster of ``workers`` processes
    (one thread each), or connected to the scheduler at ``scheduler``.

    Returns ``(client, cluster)``; ``cluster`` is None for an existing scheduler.

    Raises
    ------
    BackendError
        Dask is not installed, both or neither of the arguments given, or the
        scheduler does not answer.
    """
    if (workers is None) == (scheduler is None):
        raise BackendError("give either a number of workers or a scheduler address")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BackendError(
            "a Dask cluster needs dask.distributed: pip install 'xlmodel[dask]'"
        ) from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError) as err:
            raise BackendError(
                f"cannot reach the Dask scheduler at {scheduler} ({err})"
            ) from None
    if workers < 1:
        raise BackendError(f"--workers {workers}: at least 1")
    import dask

    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in their workers, which
    # makes glibc map and unmap every array of a chunk afresh: measured, that
    # costs the chunk 1.8x its CPU time. The other variables are kept.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


class _OnFirstUse:
    """A DaskRunner whose client is started when the first exploration asks."""

    def __init__(self, workers, scheduler, started=None):
        self.workers, self.scheduler = workers, scheduler
        self.started = started
        self.client = self.cluster = None

    def __call__(self, problem: ex.Problem, base: Inputs):
        if self.client is None:
            t0 = time.perf_counter()
            self.client, self.cluster = start_client(self.workers, self.scheduler)
            if self.started is not None:
                self.started(self.describe(), time.perf_counter() - t0)
        return DaskRunner(self.client)(problem, base)

    def describe(self) -> str:
        """E.g. 'a local Dask cluster of 2 worker processes'."""
        threads = DaskRunner(self.client).threads() if self.client else 0
        if self.cluster is not None:
            return f"a local Dask cluster of {self.workers} worker process(es)"
        return f"the Dask cluster at {self.scheduler} ({threads} worker thread(s))"

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


@contextlib.contextmanager
def dask_backend(
    workers: int | None = None,
    scheduler: str | None = None,
    started: Callable[[str, float], None] | None = None,
):
    """Within the block, :func:`~xlmodel.studies.explore.explore` runs on Dask.

    ``workers``: a LocalCluster of that many processes, closed at the end;
    ``scheduler``: an existing cluster (left running). The cluster is started
    or reached when the first exploration needs it, so a workbook with an input
    problem fails at once. Neither argument: nothing changes (the chunks run in
    this process) and Dask is not imported. ``started(description, seconds)``
    is called once the cluster is up.
    """
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise BackendError("give either a number of workers or a scheduler address")
    runner = _OnFirstUse(workers, scheduler, started)
    try:
        with ex.chunks_run_by(runner):
            yield runner
    finally:
        runner.close()
