"""What it would take: the smallest one-parameter change that meets a missed target.

For one variant, each target it misses and each parameter asked about, the
parameter is moved away from its value in both directions along its valid range
(a scan of about 200 points each way, denser near the current value), the first
point meeting the target brackets the boundary, and bisection narrows it (to a
relative 1e-9, or to consecutive whole numbers for a count). The nearer of the two
directions (relative change) is the answer; a parameter whose whole valid range
misses the target is "not reachable within the valid range". Every candidate is
evaluated by the engine under the variant's own power preset, all parameters and
directions at once (one engine pass per bisection step).

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
        scores, frame = self.scores(names, values)
        goals = np.asarray(goals, dtype=object)
        out = np.zeros(len(goals), dtype=bool)
        for g in dict.fromkeys(goals):
            sel = goals == g
            out[sel] = _met(self.goals_of[g], scores, frame)[sel]
        return out


def _first_met(search: _Search, jobs) -> list:
    """Per job (goal, parameter, up): (fail side, met side) or None."""
    names, values, owner = [], [], []
    scans = []
    for j, (_, name, up) in enumerate(jobs):
        xs = scan_values(name, float(search.row[name]), up)
        scans.append(xs)
        names += [name] * len(xs)
        values += list(xs)
        owner += [j] * len(xs)
    if not names:
        return [None] * len(jobs)
    owner = np.asarray(owner)
    met = search.met([jobs[j][0] for j in owner], names, values)
    out = []
    for j, (_, name, _) in enumerate(jobs):
        ok = met[owner == j]
        if not ok.any():
            out.append(None)
            continue
        k = int(np.argmax(ok))
        x0 = float(search.row[name])
        out.append((x0 if k == 0 else float(scans[j][k - 1]), float(scans[j][k])))
    return out


def _bisect(search: _Search, jobs, brackets) -> list:
    """Narrow each bracket (fail, met) to the boundary; returns the met side."""
    live = [i for i, b in enumerate(brackets) if b is not None]
    a = {i: brackets[i][0] for i in live}
    b = {i: brackets[i][1] for i in live}
    for _ in range(BISECT_STEPS):
        todo, mids = [], []
        for i in live:
            name = jobs[i][1]
            integer = BY_NAME[name].kind == "int"
            if integer and abs(b[i] - a[i]) <= 1:
                continue
            if not integer and abs(b[i] - a[i]) <= 1e-9 * max(abs(b[i]), 1e-300):
                continue
            mid = (a[i] + b[i]) / 2
            if integer:
                mid = float(math.floor(mid) if a[i] < b[i] else math.ceil(mid))
            todo.append(i)
            mids.append(mid)
        if not todo:
            break
        ok = search.met([jobs[i][0] for i in todo], [jobs[i][1] for i in todo], mids)
        for i, m, good in zip(todo, mids, ok):
            if good:
                b[i] = m
            else:
                a[i] = m
    return [b.get(i) for i in range(len(jobs))]


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
        reachable), ``change_percent`` (of ``now``), ``reachable``, ``status``,
        ``outside_plausible`` (the value is outside the parameter's plausible
        range), ``others_missed`` (labels of the other targets missed at
        ``value``, "; "-joined). Reachable rows first, smallest change first.
    """
    params = [p for p in dict.fromkeys(parameters) if BY_NAME[p].numeric]
    goals_of = {c.label: (c,) for c in missed}
    if len(missed) > 1 or not missed:
        goals_of[EVERY_TARGET] = tuple(checks)
    if not missed or not params:
        return _empty()
    search = _Search(row, workloads, shares, goals_of)
    jobs = [(g, p, up) for g in goals_of for p in params for up in (True, False)]
    found = _bisect(search, jobs, _first_met(search, jobs))
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
                "status": NOT_REACHABLE,
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
    order = np.lexsort((size.to_numpy(), ~table["reachable"].to_numpy()))
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
