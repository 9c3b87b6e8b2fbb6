"""What it would take: the smallest one-parameter change that meets a missed target.

For one variant, each target it misses and each parameter asked about, the
parameter is moved away from its value in both directions along its valid range
(a scan of about 200 points each way, denser near the current value), the first
point meeting the target brackets the boundary, and bisection narrows it (to a
relative 1e-9, or to consecutive whole numbers for a count). The nearer of the two
directions (relative change) is the answer; a parameter whose whole valid range
misses the target is "not reachable within the valid range", and one that
leaves the target's figure as it is across its whole valid range (the chiplet
count for density, an FP16 rate at an INT8 target) has "no effect" on it. Every
candidate is evaluated by the engine under the variant's own power preset, all
parameters and directions at once (one engine pass per LEVELS bisection steps).

:func:`closest_front_design` finds, among the exploration's Pareto front, the
design meeting every target nearest to the variant. No I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..engine import evaluate_arrays, prepare
from ..lazy import pd
from ..schema import BY_NAME
from .scores import TARGET_CHECKS, TargetCheck, evaluate_scores, score_table

#: Scan points per direction: geometric in the ratio and in the distance to the bound.
SCAN_POINTS = 100
#: Bisection steps (a float bracket shrinks to 2**-60 of the scan step).
BISECT_STEPS = 60
#: Significant digits of a reported value (more when fewer would not meet the target).
DIGITS = 4
#: Relative step short of a float value that must miss the target again.
STEP_SHORT = 1e-3
#: Pseudo-target of a change that meets every target at once.
EVERY_TARGET = "every target"
NOT_REACHABLE = "not reachable within the valid range"
NO_EFFECT = "no effect within the valid range"
#: Relative difference below which a candidate's figure is the variant's own.
SAME_FIGURE = 1e-9

REACH_COLUMNS = (
    "target",
    "parameter",
    "unit",
    "now",
    "value",
    "change_percent",
    "reachable",
    "status",
    "outside_plausible",
    "others_missed",
)


def _bounds(name: str) -> tuple[float, float, bool]:
    p = BY_NAME[name]
    integer = p.kind == "int"
    lo, hi = float(p.minimum), float(p.maximum)
    if integer:
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
    return lo, hi, integer


def scan_values(name: str, x0: float, up: bool) -> np.ndarray:
    """Values from ``x0`` (excluded) to the valid bound (included), nearest first."""
    lo, hi, integer = _bounds(name)
    bound = hi if up else lo
    if (up and x0 >= hi) or (not up and x0 <= lo):
        return np.empty(0)
    dist = np.geomspace(1e-6, 1.0, SCAN_POINTS) * abs(bound - x0)
    parts = [x0 + np.sign(bound - x0) * dist]
    if x0 > 0 and bound > 0:  # ratio steps: 0.1 % apart near x0
        ratio = bound / x0
        parts.append(x0 * np.geomspace(1 + (1e-3 if up else -1e-3), ratio, SCAN_POINTS))
    values = np.concatenate([*parts, [bound]])
    values = np.clip(values, lo, hi)
    if integer:
        values = np.round(values)
    values = np.unique(values[values > x0] if up else values[values < x0])
    return values if up else values[::-1]


def _met(checks: Sequence[TargetCheck], scores, frame) -> np.ndarray:
    ok = np.ones(len(scores), dtype=bool)
    for c in checks:
        ok &= c.met(scores, frame)
    return ok


def _rows(row: pd.Series, names: Sequence[str], values) -> pd.DataFrame:
    """Copies of ``row``, the i-th with parameter ``names[i]`` set to ``values[i]``."""
    one = row.to_frame().T.infer_objects()
    frame = one.iloc[np.zeros(len(names), dtype=np.int64)].reset_index(drop=True)
    values = np.asarray(values, dtype=np.float64)
    names = np.asarray(names, dtype=object)
    for name in dict.fromkeys(names):
        col = frame[name].to_numpy(dtype=np.float64).copy()
        sel = names == name
        col[sel] = values[sel]
        frame[name] = col
    return frame


class _Search:
    """One variant's searches: engine calls over candidate rows.

    A variant on the seed preset is evaluated from its checked input arrays
    (candidates stay inside the valid ranges by construction); one on the
    physical preset through a frame, since that preset's coefficients follow
    the variant's parameters.
    """

    def __init__(self, row: pd.Series, workloads, shares, goals_of):
        self.row, self.workloads, self.shares = row, workloads, shares
        self.goals_of = goals_of
        self.physical = str(row.get("power_preset", "seed")) == "physical"
        one = row.to_frame().T.infer_objects()
        self.base = None if self.physical else prepare(one)
        self._own = None  # the variant's own (scores, inputs)

    def scores(self, names, values):
        """(scores, inputs) of the candidate rows."""
        if self.physical:
            frame = _rows(self.row, names, values)
            return evaluate_scores(frame, self.workloads, self.shares), frame
        n = len(names)
        x = {k: np.broadcast_to(v[:1], (n,)) for k, v in self.base.items()}
        names = np.asarray(names, dtype=object)
        values = np.asarray(values, dtype=np.float64)
        for name in dict.fromkeys(names):
            col = np.array(x[name], dtype=np.float64)
            sel = names == name
            col[sel] = values[sel]
            x[name] = col
        out = evaluate_arrays(x, 1.0)
        return score_table(x, out, self.workloads, self.shares), x

    def met(self, goals: Sequence[str], names, values) -> np.ndarray:
        """Whether row i (``names[i]`` at ``values[i]``) meets goal ``goals[i]``."""
        return self.judged(goals, names, values)[0]

    def judged(self, goals: Sequence[str], names, values):
        """(met, moved): whether row i meets goal ``goals[i]``, and whether it
        differs from the variant itself in what that goal judges (a figure
        its checks compare, or whether they are met)."""
        scores, frame = self.scores(names, values)
        goals = np.asarray(goals, dtype=object)
        met = np.zeros(len(goals), dtype=bool)
        moved = np.zeros(len(goals), dtype=bool)
        if not len(goals):
            return met, moved
        if self._own is None:
            self._own = self.scores([names[0]], [float(self.row[names[0]])])
        own, own_frame = self._own
        for g in dict.fromkeys(goals):
            sel = goals == g
            checks = self.goals_of[g]
            ok = _met(checks, scores, frame)
            met[sel] = ok[sel]
            change = ok != _met(checks, own, own_frame)[0]
            for c in checks:
                v = scores[c.quantity].to_numpy(dtype=np.float64)
                v0 = own[c.quantity].to_numpy(dtype=np.float64)[0]
                same = np.isclose(v, v0, rtol=SAME_FIGURE, atol=0.0)
                change |= ~(same | (np.isnan(v) & np.isnan(v0)))
            moved[sel] = change[sel]
        return met, moved


def _first_met(search: _Search, jobs) -> tuple[list, list[bool]]:
    """Per job (goal, parameter, up): (fail side, met side) or None; and
    whether any value of its scan moved what the goal judges."""
    names, values, owner = [], [], []
    scans = []
    for j, (_, name, up) in enumerate(jobs):
        xs = scan_values(name, float(search.row[name]), up)
        scans.append(xs)
        names += [name] * len(xs)
        values += list(xs)
        owner += [j] * len(xs)
    if not names:
        return [None] * len(jobs), [False] * len(jobs)
    owner = np.asarray(owner)
    met, moved = search.judged([jobs[j][0] for j in owner], names, values)
    out, moves = [], []
    for j, (_, name, _) in enumerate(jobs):
        ok = met[owner == j]
        moves.append(bool(moved[owner == j].any()))
        if not ok.any():
            out.append(None)
            continue
        k = int(np.argmax(ok))
        x0 = float(search.row[name])
        out.append((x0 if k == 0 else float(scans[j][k - 1]), float(scans[j][k])))
    return out, moves


def _bisect(search: _Search, jobs, brackets) -> list:
    """Narrow each bracket (fail, met) to the boundary; returns the met side.

    Bisection proper (each step halves the bracket at its midpoint, the
    midpoint's result choosing the half), :data:`LEVELS` steps per engine pass:
    every midpoint the next steps could ask for is evaluated at once, and the
    steps then follow the results down that tree. The same midpoints, the same
    decisions, the same answer as one step per pass, in a sixth of the passes.
    """
    a = {i: b[0] for i, b in enumerate(brackets) if b is not None}
    b = {i: b[1] for i, b in enumerate(brackets) if b is not None}
    integer = {i: BY_NAME[jobs[i][1]].kind == "int" for i in a}
    live = list(a)
    steps = 0
    while live and steps < BISECT_STEPS:
        depth = min(LEVELS, BISECT_STEPS - steps)
        trees = {i: _midpoints(a[i], b[i], integer[i], depth) for i in live}
        owners = [i for i in live for _ in trees[i]]
        ok = search.met(
            [jobs[i][0] for i in owners],
            [jobs[i][1] for i in owners],
            [m for i in live for m in trees[i].values()],
        )
        results = iter(ok)
        for i in live:
            good = {path: bool(next(results)) for path in trees[i]}
            path = ""
            while path in trees[i]:  # one bisection step per level
                mid = trees[i][path]
                if good[path]:
                    b[i], path = mid, path + "m"
                else:
                    a[i], path = mid, path + "f"
        live = [i for i in live if not _narrow(a[i], b[i], integer[i])]
        steps += depth
    return [b.get(i) for i in range(len(jobs))]


#: Bisection steps evaluated in one engine pass (2**LEVELS - 1 midpoints a bracket).
LEVELS = 6


def _narrow(a: float, b: float, integer: bool) -> bool:
    """Whether the bracket (a, b) needs no further step."""
    if integer:
        return abs(b - a) <= 1
    return abs(b - a) <= 1e-9 * max(abs(b), 1e-300)


def _midpoint(a: float, b: float, integer: bool) -> float:
    mid = (a + b) / 2
    if integer:
        mid = float(math.floor(mid) if a < b else math.ceil(mid))
    return mid


def _midpoints(a: float, b: float, integer: bool, depth: int) -> dict[str, float]:
    """Every midpoint the next ``depth`` steps of bisecting (a, b) may ask for,
    by the path to it ("m": the step's midpoint met the goal, "f": it did not),
    in breadth order; a bracket narrow enough asks for none below it."""
    out: dict[str, float] = {}
    level = [("", a, b)]
    for _ in range(depth):
        below = []
        for path, lo, hi in level:
            if _narrow(lo, hi, integer):
                continue
            mid = out[path] = _midpoint(lo, hi, integer)
            below += [(path + "m", lo, mid), (path + "f", mid, hi)]
        level = below
    return out


def _rounded(search: _Search, goal, name: str, x0: float, exact: float) -> float:
    """``exact`` at DIGITS significant digits, away from ``x0``, when that still
    meets the goal and one step short of it does not (else more digits)."""
    if BY_NAME[name].kind == "int":
        return exact
    lo, hi, _ = _bounds(name)
    up = exact > x0
    tries = []
    for digits in (DIGITS, DIGITS + 1, DIGITS + 2):
        if exact == 0:
            break
        q = 10.0 ** (math.floor(math.log10(abs(exact))) - digits + 1)
        r = (math.ceil(exact / q) if up else math.floor(exact / q)) * q
        r = float(min(max(r, lo), hi))
        tries.append(r)
    if not tries:
        return exact
    short = [r - math.copysign(STEP_SHORT * abs(r), r - x0) for r in tries]
    ok = search.met([goal] * (2 * len(tries)), [name] * (2 * len(tries)), tries + short)
    for k, r in enumerate(tries):
        if ok[k] and not ok[len(tries) + k]:
            return r
    return exact


def what_it_would_take(
    row: pd.Series,
    missed: Sequence[TargetCheck],
    parameters: Sequence[str],
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
    checks: Sequence[TargetCheck] = TARGET_CHECKS,
) -> pd.DataFrame:
    """The smallest one-parameter change meeting each missed target.

    Parameters
    ----------
    row : pandas.Series
        One variant's raw parameters (a row of ``Study.variants``; its power
        preset is applied to every candidate).
    missed : sequence of TargetCheck
        The targets it misses; with two or more, :data:`EVERY_TARGET` (all
        ``checks`` at once) is searched too.
    parameters : sequence of str
        Numeric parameters to move, one at a time.
    workloads, shares : mapping
        The Workloads mix (see :func:`xlmodel.studies.scores.mix_throughput`).

    Returns
    -------
    pandas.DataFrame
        One row per (target, parameter), columns ``REACH_COLUMNS``: ``target``
        (a check's label or "every target"), ``now``, ``value`` (nan when not
        reachable), ``change_percent`` (of ``now``), ``reachable``, ``status``
        ("reachable", :data:`NOT_REACHABLE`, or :data:`NO_EFFECT` when no value
        of the valid range changes what the target judges), ``outside_plausible``
        (the value is outside the parameter's plausible range), ``others_missed`` (labels of the other targets missed at
        ``value``, "; "-joined). Reachable rows first, smallest change first;
        then those not reachable, then those without effect.
    """
    params = [p for p in dict.fromkeys(parameters) if BY_NAME[p].numeric]
    goals_of = {c.label: (c,) for c in missed}
    if len(missed) > 1 or not missed:
        goals_of[EVERY_TARGET] = tuple(checks)
    if not missed or not params:
        return _empty()
    search = _Search(row, workloads, shares, goals_of)
    jobs = [(g, p, up) for g in goals_of for p in params for up in (True, False)]
    brackets, moves = _first_met(search, jobs)
    found = _bisect(search, jobs, brackets)
    moving = {(g, n) for (g, n, _), m in zip(jobs, moves, strict=True) if m}
    best: dict[tuple[str, str], float] = {}
    for (goal, name, _), x in zip(jobs, found):
        if x is None:
            continue
        x0 = float(row[name])
        prev = best.get((goal, name))
        if prev is None or _change(x, x0) < _change(prev, x0):
            best[(goal, name)] = x
    keys = list(best)
    values = [_rounded(search, g, n, float(row[n]), best[(g, n)]) for g, n in keys]
    scores, frame = search.scores([n for _, n in keys], values) if keys else (0, 0)
    out = []
    for goal in goals_of:
        for name in params:
            x0 = float(row[name])
            p = BY_NAME[name]
            rec = {
                "target": goal,
                "parameter": name,
                "unit": "" if p.unit == "text" else p.unit,
                "now": x0,
                "value": math.nan,
                "change_percent": math.nan,
                "reachable": False,
                "status": NOT_REACHABLE if (goal, name) in moving else NO_EFFECT,
                "outside_plausible": False,
                "others_missed": "",
            }
            if (goal, name) in best:
                k = keys.index((goal, name))
                x = values[k]
                lo, hi = p.plausible or (-math.inf, math.inf)
                others = [c.label for c in checks if not c.met(scores, frame)[k]]
                rec.update(
                    value=x,
                    change_percent=100 * (x - x0) / x0 if x0 else math.nan,
                    reachable=True,
                    status="reachable",
                    outside_plausible=not lo <= x <= hi,
                    others_missed="; ".join(others),
                )
            out.append(rec)
    table = pd.DataFrame(out, columns=list(REACH_COLUMNS))
    size = table["change_percent"].abs().fillna(np.inf)
    no_effect = (table["status"] == NO_EFFECT).to_numpy()
    order = np.lexsort((size.to_numpy(), no_effect, ~table["reachable"].to_numpy()))
    goal_order = {g: i for i, g in enumerate(goals_of)}
    table = table.iloc[order]
    table = table.iloc[
        np.argsort([goal_order[g] for g in table["target"]], kind="stable")
    ]
    return table.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    """The table with no rows, its columns typed as when it has some."""
    kinds = {"now": float, "value": float, "change_percent": float}
    kinds.update(reachable=bool, outside_plausible=bool)
    return pd.DataFrame(
        {c: pd.Series(dtype=kinds.get(c, object)) for c in REACH_COLUMNS}
    )


def _change(x: float, x0: float) -> float:
    return abs(x - x0) / abs(x0) if x0 else abs(x - x0)


# --- the exploration's front ------------------------------------------------------


def closest_front_design(
    exploration,
    base_row: pd.Series,
    row: pd.Series,
    workloads: Mapping[str, float],
    shares: Mapping[str, float],
    checks: Sequence[TargetCheck] = TARGET_CHECKS,
) -> dict | None:
    """The front design meeting every target nearest to the variant ``row``.

    Each front design is the exploration's base variant (``base_row``) with the
    explored parameters set; it is re-evaluated under the base's power preset and
    judged against ``row``'s targets. Distance: the root mean square, over the
    explored parameters, of (design - variant) / (range high - range low).

    Returns
    -------
    dict or None
        None without an exploration. Else ``design`` (its number, or None when no
        front design meets every target), ``front`` (designs on the front),
        ``meeting`` (how many meet every target), ``distance``, ``changes``
        (parameter -> (variant's value, design's value)) and ``best`` (the
        front's largest value of each check's quantity, when none meets).
    """
    if exploration is None:
        return None
    prob = exploration.problem
    front = exploration.designs[exploration.designs["on_front"]]
    names = prob.names
    out = {"design": None, "front": len(front), "meeting": 0}
    if not len(front):
        return out
    frame = _rows(base_row, [names[0]] * len(front), front[names[0]])
    frame.index = front.index
    for n in names:
        frame[n] = front[n].to_numpy(dtype=np.float64)
    for c in checks:  # judged at the variant's targets
        frame[c.limit] = row[c.limit]
    scores = evaluate_scores(frame, workloads, shares)
    ok = _met(checks, scores, frame)
    out["meeting"] = int(ok.sum())
    if not ok.any():
        out["best"] = {
            c.name: float(
                scores[c.quantity].max() if c.op == ">=" else scores[c.quantity].min()
            )
            for c in checks
        }
        return out
    width = np.array([max(r.high - r.low, 1e-12) for r in prob.ranges])
    at = np.array([float(row[n]) for n in names])
    x = frame.loc[ok, names].to_numpy(dtype=np.float64)
    dist = np.sqrt((((x - at) / width) ** 2).mean(axis=1))
    k = int(np.argmin(dist))
    design = frame.index[ok][k]
    out.update(
        design=int(design),
        distance=float(dist[k]),
        changes={
            n: (float(row[n]), float(x[k, j]))
            for j, n in enumerate(names)
            if x[k, j] != float(row[n])
        },
    )
    return out
