"""Design-space exploration: sample, evaluate in chunks, keep the feasible Pareto front.

A :class:`Problem` is plain data (SALib style): parameter ranges, how to sample them
(a full grid, a Latin hypercube or uniform random points, seeded), constraints and
objectives, each on an engine metric or a model parameter. :func:`explore` walks the
points in fixed chunks of ``CHUNK_POINTS``; each chunk is sampled, evaluated in one
:func:`~xlmodel.engine.model.evaluate_arrays` pass (only the metrics the problem
names), filtered by the constraints and reduced to what must be kept: its exact
Pareto front (:mod:`xlmodel.studies.pareto`), its best ``top_k`` designs, a few
random points for a chart and counts per constraint. Every reduction is mergeable
(front of fronts, best of bests, bottom-k of random keys), so memory stays bounded
whatever the number of points, and chunks can run anywhere in any order: chunk
``i`` depends only on ``(problem, i)``. They run on ``THREADS`` threads here, or
wherever ``chunk_runner`` sends them (:mod:`xlmodel.studies.distributed`: Dask);
the summaries are merged in chunk order, so the result is the same either way.

No I/O here; units are those of the quantities named (see ``METRICS`` and the
schema).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..engine.inputs import Inputs
from ..engine.model import METRIC_UNITS, evaluate_arrays
from ..lazy import pd
from ..schema import BY_NAME
from .pareto import pareto_mask

#: Points evaluated per chunk: 2 MB per array, full speed in bounded memory.
CHUNK_POINTS = 1 << 18
#: Points of each kind (feasible, infeasible) kept for the chart cloud.
CLOUD_POINTS = 1500
#: Most grid points or samples one problem may ask for.
MAX_POINTS = 10**10
#: Chunks explored at once in this process, one per thread (see local_summaries).
THREADS = max(1, min(4, os.cpu_count() or 1))
#: A front design is "active" on a constraint when within this share of its limit.
ACTIVE_TOLERANCE = 0.01

METHODS = ("grid", "lhs", "random")
SENSES = ("max", "min")
OPERATORS = ("<=", ">=")
#: Quantities every design table shows besides objectives and constraints.
KEY_METRICS = (
    "target_peak_tflops",
    "target_density_tflops_per_mm2",
    "tflops_per_w",
    "power_total_w",
    "junction_temp_c",
    "total_area_mm2",
)

Progress = Callable[[int, int], None]


def quantity_unit(name: str) -> str:
    """Unit of a metric or a parameter (``""`` for a pure number or a label)."""
    if name in METRIC_UNITS:
        return METRIC_UNITS[name]
    p = BY_NAME.get(name)
    return "" if p is None or p.unit == "text" else p.unit


def is_quantity(name: str) -> bool:
    """True for an engine metric or a numeric model parameter."""
    p = BY_NAME.get(name)
    return name in METRIC_UNITS or (p is not None and p.numeric)


@dataclass(frozen=True)
class Range:
    """One explored parameter: inclusive bounds and the number of grid points.

    Attributes
    ----------
    name : str
        A numeric schema parameter.
    low, high : float
        Bounds in the parameter's unit, ``low <= high``, inside its valid range.
    points : int
        Grid values from ``low`` to ``high`` (evenly spaced, rounded and de-duplicated
        for whole-number parameters); ignored by Latin hypercube and random sampling.
    """

    name: str
    low: float
    high: float
    points: int = 2

    @property
    def integer(self) -> bool:
        """True for a whole-number parameter (sampled as integers)."""
        return BY_NAME[self.name].kind == "int"

    def grid(self) -> np.ndarray:
        """The grid values of this range, ascending."""
        n = 1 if self.low == self.high else self.points
        values = np.linspace(self.low, self.high, n)
        return np.unique(np.round(values)) if self.integer else values

    def scale(self, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Map uniform numbers in [0, 1) onto the range (integers: equally likely).

        ``out`` (may be ``u`` itself) receives the values instead of a new array.
        """
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            v = np.multiply(u, hi - lo + 1, out=out)
            v += lo
            np.floor(v, out=v)
            return np.minimum(v, hi, out=v)
        v = np.multiply(u, self.high - self.low, out=out)
        v += self.low
        return v


@dataclass(frozen=True)
class Constraint:
    """``quantity op limit``, e.g. ``power_total_w <= 500``."""

    quantity: str
    op: str
    limit: float

    def satisfied(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values that meet the constraint (NaN never does)."""
        if self.op == "<=":
            return values <= self.limit
        return values >= self.limit

    @property
    def label(self) -> str:
        unit = quantity_unit(self.quantity)
        return f"{self.quantity} {self.op} {self.limit:g}" + (
            f" {unit}" if unit else ""
        )


@dataclass(frozen=True)
class Objective:
    """Maximise or minimise one quantity."""

    quantity: str
    sense: str = "max"

    @property
    def label(self) -> str:
        return f"{self.sense} {self.quantity}"


@dataclass(frozen=True)
class Problem:
    """A design-space exploration, validated when built.

    Attributes
    ----------
    ranges : tuple of Range
        Explored parameters; every other parameter keeps the base design's value.
    objectives : tuple of Objective
        In priority order: the first ranks the top designs and is the chart's
        X axis, the second its Y axis.
    constraints : tuple of Constraint
        A design is feasible when it meets all of them.
    method : str
        ``"grid"`` (every combination), ``"lhs"`` (a Latin hypercube per chunk) or
        ``"random"`` (uniform).
    samples : int
        Points of ``"lhs"`` and ``"random"``.
    seed : int
        Seed of sampling and of the chart cloud; the same seed gives the same points.
    top_k : int
        Best feasible designs by the objectives in priority order.

    Raises
    ------
    ValueError
        Naming the first inconsistent field.
    """

    ranges: tuple[Range, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    method: str = "grid"
    samples: int = 0
    seed: int = 0
    top_k: int = 20

    def __post_init__(self):
        object.__setattr__(self, "ranges", tuple(self.ranges))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        if not self.ranges:
            raise ValueError("no parameter ranges to explore")
        names = [r.name for r in self.ranges]
        if len(set(names)) != len(names):
            raise ValueError(f"a parameter is ranged twice: {names}")
        for r in self.ranges:
            p = BY_NAME.get(r.name)
            if p is None or not p.numeric:
                raise ValueError(f"{r.name!r} is not a numeric model parameter")
            if not (p.minimum <= r.low <= r.high <= p.maximum):
                raise ValueError(
                    f"{r.name}: range {r.low:g}..{r.high:g} is not inside "
                    f"{p.minimum:g}..{p.maximum:g} with low <= high"
                )
            if r.integer and math.ceil(r.low) > math.floor(r.high):
                raise ValueError(f"{r.name}: no whole number in {r.low:g}..{r.high:g}")
            if self.method == "grid" and r.points < 1:
                raise ValueError(f"{r.name}: a grid needs at least 1 point")
        if self.method not in METHODS:
            raise ValueError(f"method {self.method!r}: expected one of {METHODS}")
        if self.method != "grid" and self.samples < 1:
            raise ValueError(f"{self.method} sampling needs samples >= 1")
        if not self.objectives:
            raise ValueError("no objectives")
        for o in self.objectives:
            if not is_quantity(o.quantity) or o.sense not in SENSES:
                raise ValueError(f"objective {o.label!r} is not valid")
        if len({o.quantity for o in self.objectives}) != len(self.objectives):
            raise ValueError("an objective is listed twice")
        for c in self.constraints:
            if (
                not is_quantity(c.quantity)
                or c.op not in OPERATORS
                or not math.isfinite(c.limit)
            ):
                raise ValueError(f"constraint {c.label!r} is not valid")
        if self.top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.size > MAX_POINTS:
            raise ValueError(f"{self.size:,} points: at most {MAX_POINTS:,}")

    @property
    def names(self) -> list[str]:
        """Explored parameter names, in order."""
        return [r.name for r in self.ranges]

    @property
    def size(self) -> int:
        """Number of points: the grid's combinations or ``samples``."""
        if self.method == "grid":
            return math.prod(len(r.grid()) for r in self.ranges)
        return int(self.samples)

    @property
    def chunks(self) -> int:
        """Number of chunks of at most ``CHUNK_POINTS`` points."""
        return -(-self.size // CHUNK_POINTS)

    def axes(self) -> tuple[str, str]:
        """Quantities on the chart's X and Y axes."""
        x = self.objectives[0].quantity
        if len(self.objectives) > 1:
            return x, self.objectives[1].quantity
        return x, "power_total_w" if x != "power_total_w" else "target_peak_tflops"


# --- sampling ----------------------------------------------------------------------


def sample_chunk(problem: Problem, index: int) -> dict[str, np.ndarray]:
    """Parameter values of chunk ``index`` (points ``index x CHUNK_POINTS`` onwards).

    Grid chunks are slices of the full grid in C order (the last range varies
    fastest). Random and Latin-hypercube chunks draw from a generator seeded with
    ``(seed, index)``, so a chunk is the same wherever and whenever it is drawn;
    each Latin-hypercube chunk stratifies every range into as many bins as it has
    points.
    """
    start = index * CHUNK_POINTS
    stop = min(start + CHUNK_POINTS, problem.size)
    if not 0 <= start < stop:
        raise IndexError(f"chunk {index} of {problem.chunks}")
    n = stop - start
    if problem.method == "grid":
        grids = [r.grid() for r in problem.ranges]
        flat = np.arange(start, stop, dtype=np.int64)
        idx = np.unravel_index(flat, tuple(len(g) for g in grids))
        return {r.name: g[i] for r, g, i in zip(problem.ranges, grids, idx)}
    rng = np.random.default_rng([problem.seed, index])
    out = {}
    for r in problem.ranges:
        u = rng.random(n)
        if problem.method == "lhs":
            u += rng.permutation(n)  # (permutation + u) / n, in place
            u /= n
        out[r.name] = r.scale(u, out=u)
    return out


def evaluate_points(
    base: Inputs,
    points: dict[str, np.ndarray],
    utilization: float = 1.0,
    metrics=None,
) -> tuple[dict[str, np.ndarray], Inputs]:
    """Evaluate the base design with some parameters replaced by arrays of values.

    Parameters
    ----------
    base : dict of str to numpy.ndarray
        One design, as returned by :func:`xlmodel.engine.prepare` (length 1).
    points : dict of str to numpy.ndarray
        Parameter -> values (equal lengths), already inside the valid ranges.
    metrics : iterable of str, optional
        Only these metrics (default: every one).

    Returns
    -------
    (metrics, inputs)
        The engine's metric arrays and the inputs they were computed from.
    """
    n = len(next(iter(points.values())))
    # Parameters not varied enter the equations as length-1 arrays, so what
    # depends on them alone is computed once (numpy broadcasts the rest); each
    # value is the same as with full-length inputs, element by element.
    x = {k: v[:1] for k, v in base.items()}
    for k, v in points.items():
        x[k] = np.asarray(v, dtype=np.float64)
    out = evaluate_arrays(x, utilization, metrics)
    for k, v in out.items():
        if np.shape(v) != (n,):
            out[k] = np.broadcast_to(v, (n,))
    inputs = {k: v if k in points else np.broadcast_to(v, (n,)) for k, v in x.items()}
    return out, inputs


def quantity(name: str, metrics: dict, inputs: dict) -> np.ndarray:
    """A metric or an input parameter by name, as float64."""
    v = metrics[name] if name in metrics else inputs[name]
    return np.asarray(v, dtype=np.float64)


#: Random points of the ranges at which :func:`idle_parameters` moves each
#: parameter, and the most values of its range it tries there.
IDLE_PROBES = 64
IDLE_VALUES = 8
#: Relative difference below which two values of a quantity are the same.
SAME_VALUE = 1e-9


def idle_parameters(problem: Problem, base: Inputs) -> list[str]:
    """Explored parameters that move no objective and no constraint.

    At each of :data:`IDLE_PROBES` points drawn in the ranges (seeded with the
    problem's seed), each parameter takes up to :data:`IDLE_VALUES` values of
    its range (its grid's, or evenly spaced for sampling) while the others stay;
    a parameter whose values give the same objectives and constraint quantities
    at every point (within a relative :data:`SAME_VALUE`) is idle: it only
    repeats each design once per value, and such repeats crowd the front (an
    FP16 rate when the objectives judge INT8). A range of one value is fixed on
    purpose and never idle.
    """
    rng = np.random.default_rng([problem.seed, len(problem.ranges), IDLE_PROBES])
    probes = {r.name: r.scale(rng.random(IDLE_PROBES)) for r in problem.ranges}
    tried: dict[str, np.ndarray] = {}
    for r in problem.ranges:
        values = r.grid() if problem.method == "grid" else None
        if values is None or len(values) > IDLE_VALUES:
            values = np.linspace(r.low, r.high, IDLE_VALUES)
            values = np.unique(np.round(values)) if r.integer else np.unique(values)
        if len(values) > 1:
            tried[r.name] = values
    if not tried:
        return []
    points: dict[str, list[np.ndarray]] = {n: [] for n in problem.names}
    for name, values in tried.items():
        for n in problem.names:
            if n == name:
                points[n].append(np.tile(values, IDLE_PROBES))
            else:
                points[n].append(np.repeat(probes[n], len(values)))
    joined = {n: np.concatenate(v) for n, v in points.items()}
    quantities = list(
        dict.fromkeys(
            [o.quantity for o in problem.objectives]
            + [c.quantity for c in problem.constraints]
        )
    )
    with np.errstate(all="ignore"):
        metrics, inputs = evaluate_points(
            base, joined, metrics=[q for q in quantities if q in METRIC_UNITS]
        )
        idle = []
        start = 0
        for name, values in tried.items():
            stop = start + IDLE_PROBES * len(values)
            same = True
            for q in quantities:
                v = quantity(q, metrics, inputs)[start:stop]
                v = v.reshape(IDLE_PROBES, len(values))
                first = v[:, :1]
                equal = np.isclose(v, first, rtol=SAME_VALUE, atol=0.0) | (
                    np.isnan(v) & np.isnan(first)
                )
                if not equal.all():
                    same = False
                    break
            if same:
                idle.append(name)
            start = stop
    return idle


# --- Pareto front and best designs -------------------------------------------------


def best_order(scores: np.ndarray) -> np.ndarray:
    """Row order best first: by the first column, ties by the next (descending)."""
    return np.lexsort(tuple(-scores[:, j] for j in reversed(range(scores.shape[1]))))


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """``best_order(scores)[:k]`` without sorting every row.

    Only rows at least as good in the first column as the k-th best can be among
    the k best; they are found by partial selection and sorted, in their original
    order (the sort is stable), so ties fall exactly as in the full sort.
    """
    n = len(scores)
    if n > k > 0:
        first = scores[:, 0]
        kth = np.partition(first, n - k)[n - k]
        cand = np.flatnonzero(first >= kth)
        if len(cand) < n:
            return cand[best_order(scores[cand])[:k]]
    return best_order(scores)[:k]


# --- the streaming exploration -----------------------------------------------------


@dataclass
class _Kept:
    """Points kept between chunks: global index, parameter values, scores."""

    index: np.ndarray
    params: np.ndarray  # (N, ranges)
    scores: np.ndarray  # (N, objectives)

    def take(self, sel) -> _Kept:
        return _Kept(self.index[sel], self.params[sel], self.scores[sel])

    def __add__(self, other: _Kept) -> _Kept:
        return _Kept(
            np.concatenate([self.index, other.index]),
            np.concatenate([self.params, other.params]),
            np.concatenate([self.scores, other.scores]),
        )


@dataclass
class ChunkSummary:
    """What one chunk contributes; :meth:`merge` combines two (associative).

    Attributes
    ----------
    points, feasible : int
        Points evaluated and feasible.
    violated, alone : numpy.ndarray
        Per constraint: points violating it, and points violating only it.
    front, top : _Kept
        Feasible non-dominated points; the best ``top_k`` feasible points.
    cloud_ok, cloud_bad : tuple of (keys, x, y)
        Bottom-k random-key samples of feasible and infeasible points (chart axes).
    """

    points: int
    feasible: int
    violated: np.ndarray
    alone: np.ndarray
    front: _Kept
    top: _Kept
    cloud_ok: tuple
    cloud_bad: tuple

    def merge(self, other: ChunkSummary, top_k: int) -> ChunkSummary:
        front = self.front + other.front
        front = front.take(pareto_mask(front.scores))
        top = self.top + other.top
        top = top.take(best_rows(top.scores, top_k))
        return ChunkSummary(
            self.points + other.points,
            self.feasible + other.feasible,
            self.violated + other.violated,
            self.alone + other.alone,
            front,
            top,
            _bottom_k(self.cloud_ok, other.cloud_ok),
            _bottom_k(self.cloud_bad, other.cloud_bad),
        )


def _bottom_k(a: tuple, b: tuple, k: int = CLOUD_POINTS) -> tuple:
    keys, x, y = (np.concatenate([p, q]) for p, q in zip(a, b))
    if len(keys) > k:
        sel = np.argpartition(keys, k)[:k]
        keys, x, y = keys[sel], x[sel], y[sel]
    return keys, x, y


def _cloud(keys, x, y, rows) -> tuple:
    """Bottom-k by key of the given rows: the same as ``_bottom_k`` of those rows."""
    k = keys[rows]
    if len(k) > CLOUD_POINTS:
        sel = np.argpartition(k, CLOUD_POINTS)[:CLOUD_POINTS]
        k, rows = k[sel], rows[sel]
    return k, x[rows], y[rows]


def needed_quantities(problem: Problem) -> list[str]:
    """What a chunk needs: objectives, constraint quantities and the chart axes."""
    return list(
        dict.fromkeys(
            [
                *(o.quantity for o in problem.objectives),
                *(c.quantity for c in problem.constraints),
                *problem.axes(),
            ]
        )
    )


def summarise_chunk(problem: Problem, base: Inputs, index: int) -> ChunkSummary:
    """Sample, evaluate and reduce chunk ``index``: the unit of work to distribute.

    Only the metrics the problem names are computed; the parameter values of a
    point are gathered only for the front and the top designs.
    """
    points = sample_chunk(problem, index)
    n = len(next(iter(points.values())))
    needed = needed_quantities(problem)
    metrics, inputs = evaluate_points(
        base, points, metrics=[q for q in needed if q in METRIC_UNITS]
    )
    values = {q: quantity(q, metrics, inputs) for q in needed}
    ok = np.ones(n, dtype=bool)
    fails = np.zeros(n, dtype=np.int32)
    masks = []
    for c in problem.constraints:
        m = c.satisfied(values[c.quantity])
        masks.append(m)
        ok &= m
        fails += ~m
    columns = [values[o.quantity] for o in problem.objectives]
    for col in columns:
        ok &= np.isfinite(col)
    violated = np.array([n - np.count_nonzero(m) for m in masks], dtype=np.int64)
    if len(masks) > 1:
        once = fails == 1
        alone = np.array([np.count_nonzero(once & ~m) for m in masks], dtype=np.int64)
    else:
        alone = violated.copy()

    start = index * CHUNK_POINTS
    where = np.flatnonzero(ok)
    scores = np.column_stack(
        [
            col[where] if o.sense == "max" else -col[where]
            for o, col in zip(problem.objectives, columns)
        ]
    )

    def kept(rows: np.ndarray) -> _Kept:
        at = where[rows]
        params = np.column_stack([points[r.name][at] for r in problem.ranges])
        return _Kept(start + at, params, scores[rows])

    front = kept(np.flatnonzero(pareto_mask(scores)))
    top = kept(best_rows(scores, problem.top_k))
    keys = np.random.default_rng([problem.seed, index, 1]).random(n)
    xq, yq = problem.axes()
    x, y = values[xq], values[yq]
    return ChunkSummary(
        n,
        len(where),
        violated,
        alone,
        front,
        top,
        _cloud(keys, x, y, where),
        _cloud(keys, x, y, np.flatnonzero(~ok)),
    )


@dataclass
class Exploration:
    """The outcome of :func:`explore`.

    Attributes
    ----------
    problem : Problem
    points, feasible : int
        Points evaluated; feasible ones (every constraint met, objectives finite).
    front_size : int
        Designs on the Pareto front of the feasible points.
    designs : pandas.DataFrame
        The front and the top ``top_k`` designs, best first by the objectives in
        priority order, numbered from 1 (index ``design``). Columns ``point``
        (global point number, 0-based), ``on_front`` (bool), ``top_rank`` (1 =
        best; 0 when not among the top), one per explored parameter, then the
        objectives, constraint quantities and ``KEY_METRICS``.
    constraints : pandas.DataFrame
        Per constraint: ``constraint`` (label), ``quantity``, ``op``, ``limit``,
        ``violated`` (points), ``violated_share`` (of all points), ``alone``
        (points failing only this constraint), ``active_on_front`` (front designs
        within ``ACTIVE_TOLERANCE`` of the limit).
    cloud : pandas.DataFrame
        Up to ``CLOUD_POINTS`` random feasible and infeasible points: ``x``, ``y``
        (the problem's chart axes), ``feasible``.
    seconds : float
        Wall time of the exploration.
    """

    problem: Problem
    points: int
    feasible: int
    front_size: int
    designs: pd.DataFrame
    constraints: pd.DataFrame
    cloud: pd.DataFrame
    seconds: float = 0.0


def local_summaries(
    problem: Problem, base: Inputs, threads: int | None = None
) -> Iterator[ChunkSummary]:
    """The summary of every chunk, in chunk order, computed in this process.

    With ``threads`` > 1 (default ``THREADS``) that many chunks are evaluated at
    once on threads (numpy releases the GIL inside the equations); at most
    ``threads + 1`` chunks are in flight, so memory stays bounded. The summaries
    are the same whatever the number of threads.
    """
    threads = THREADS if threads is None else threads
    if threads <= 1 or problem.chunks <= 1:
        for i in range(problem.chunks):
            yield summarise_chunk(problem, base, i)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="xlmodel-explore") as pool:
        pending: deque = deque()
        try:
            for i in range(problem.chunks):
                pending.append(pool.submit(summarise_chunk, problem, base, i))
                if len(pending) > threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


#: Runs the chunks of :func:`explore` when it is given no summaries: None (here,
#: one after the other) or a callable ``runner(problem, base)`` returning the
#: :class:`ChunkSummary` of every chunk in chunk order (see
#: :mod:`xlmodel.studies.distributed`). Set it with :func:`chunks_run_by`.
chunk_runner: Callable[[Problem, Inputs], Iterable[ChunkSummary]] | None = None


@contextlib.contextmanager
def chunks_run_by(runner):
    """Within the block, :func:`explore` runs its chunks with ``runner``."""
    global chunk_runner
    before, chunk_runner = chunk_runner, runner
    try:
        yield runner
    finally:
        chunk_runner = before


def explore(
    problem: Problem,
    base: Inputs,
    progress: Progress | None = None,
    chunks=None,
) -> Exploration:
    """Evaluate every point of ``problem`` around the design ``base``, chunk by chunk.

    Parameters
    ----------
    problem : Problem
    base : dict of str to numpy.ndarray
        One checked design (:func:`xlmodel.engine.prepare` of one row); the
        parameters not ranged keep its values.
    progress : callable, optional
        Called as ``progress(points_done, points_total)`` after each chunk.
    chunks : iterable of ChunkSummary, optional
        Chunk summaries computed elsewhere (e.g. by a distributed map of
        :func:`summarise_chunk`), merged in the order given; default: those of
        ``chunk_runner`` if one is set, else computed here, in order.

    Returns
    -------
    Exploration
    """
    if chunks is None and chunk_runner is not None:
        chunks = chunk_runner(problem, base)  # a cluster starts here, untimed
    elif chunks is None:
        chunks = local_summaries(problem, base)
    t0 = time.perf_counter()
    total = problem.size
    acc: ChunkSummary | None = None
    for part in chunks:
        acc = part if acc is None else acc.merge(part, problem.top_k)
        if progress is not None:
            progress(acc.points, total)
    if acc is None:
        raise ValueError("no points to explore")
    return _finish(problem, base, acc, time.perf_counter() - t0)


def _finish(problem: Problem, base: Inputs, acc: ChunkSummary, seconds: float):
    front, top = acc.front, acc.top
    # one row per point: front first, then top designs not on it
    index = np.concatenate([front.index, top.index])
    _, first = np.unique(index, return_index=True)
    first.sort()
    both = (front + top).take(first)
    on_front = np.isin(both.index, front.index)
    rank = np.zeros(len(both.index), dtype=np.int64)
    pos = {int(p): i + 1 for i, p in enumerate(top.index)}
    rank[:] = [pos.get(int(p), 0) for p in both.index]
    order = best_order(both.scores)
    both, on_front, rank = both.take(order), on_front[order], rank[order]

    points = {r.name: both.params[:, j] for j, r in enumerate(problem.ranges)}
    shown = list(
        dict.fromkeys(
            [
                *(o.quantity for o in problem.objectives),
                *(c.quantity for c in problem.constraints),
                *KEY_METRICS,
            ]
        )
    )
    shown = [q for q in shown if q not in points]
    if len(both.index):
        metrics, inputs = evaluate_points(base, points)
        values = {q: quantity(q, metrics, inputs) for q in shown}
    else:
        values = {q: np.empty(0) for q in shown}
    designs = pd.DataFrame(
        {"point": both.index, "on_front": on_front, "top_rank": rank, **points}
    )
    for q in shown:
        designs[q] = values[q]
    designs.index = pd.RangeIndex(1, len(designs) + 1, name="design")

    on = designs[designs["on_front"]]
    rows = []
    for i, c in enumerate(problem.constraints):
        v = on[c.quantity].to_numpy(dtype=np.float64) if len(on) else np.empty(0)
        tol = ACTIVE_TOLERANCE * max(abs(c.limit), 1e-12)
        rows.append(
            {
                "constraint": c.label,
                "quantity": c.quantity,
                "op": c.op,
                "limit": c.limit,
                "violated": int(acc.violated[i]),
                "violated_share": acc.violated[i] / max(acc.points, 1),
                "alone": int(acc.alone[i]),
                "active_on_front": int((np.abs(v - c.limit) <= tol).sum()),
            }
        )
    constraints = pd.DataFrame(
        rows,
        columns=[
            "constraint",
            "quantity",
            "op",
            "limit",
            "violated",
            "violated_share",
            "alone",
            "active_on_front",
        ],
    )
    cloud = pd.concat(
        [
            pd.DataFrame(
                {"x": acc.cloud_ok[1], "y": acc.cloud_ok[2], "feasible": True}
            ),
            pd.DataFrame(
                {"x": acc.cloud_bad[1], "y": acc.cloud_bad[2], "feasible": False}
            ),
        ],
        ignore_index=True,
    )
    return Exploration(
        problem,
        acc.points,
        acc.feasible,
        len(front.index),
        designs,
        constraints,
        cloud,
        seconds,
    )
