"""What changed between two runs: the inputs, the headline metrics, and why.

A :class:`Snapshot` is what one run read and found: every input cell read
(:class:`InputCell`: sheet, cell, parameter, the variant or row it belongs to,
value), the parameters of every variant (the Study's frame) and the headline
metrics (:data:`HEADLINE`) per variant. :func:`compare` lists the inputs that
changed, the headline metrics that moved, and for each moved metric the share of
its change due to each changed parameter of that variant.

The shares are exact Shapley values: a variant whose parameters ``S`` changed
is evaluated (:func:`xlmodel.engine.evaluate`) on every row that takes the
new values of a subset of ``S`` and the old values of the rest; a parameter's
share is its average effect over every order of applying the changes, so the
shares sum to the change of the metric computed from the two sets of
parameters. With more than :data:`MAX_SHAPLEY` changed parameters (2^k rows)
each share is one at a time from the old inputs, and what the one-at-a-time
effects leave of the change is one more row, "interaction". A change of the
metric that the parameters do not explain (another xlmodel version's
equations, say) is a row of its own. No I/O here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from ..engine import evaluate
from ..engine.model import METRIC_UNITS
from ..engine.nodes import fill_process_nodes
from ..lazy import pd
from .reference import apply_power_preset

#: Headline metrics compared per variant (every one a number; units in METRICS).
HEADLINE: tuple[str, ...] = (
    "effective_tflops",
    "target_peak_tflops",
    "target_density_tflops_per_mm2",
    "power_total_w",
    "junction_temp_c",
    "effective_tflops_per_w",
    "total_area_mm2",
    "hbm_bandwidth_tbps",
    "unit_cost_usd",
)
#: Most changed parameters of one variant whose shares are exact Shapley values
#: (2^k evaluations); beyond, one at a time from the old inputs.
MAX_SHAPLEY = 10
#: A metric "moved" when it changed by more than this share of its size.
RELATIVE_TOLERANCE = 1e-9
SHAPLEY = "Shapley (exact)"
ONE_AT_A_TIME = "one at a time from the previous inputs"
ONLY = "the only changed parameter"


@dataclass(frozen=True)
class InputCell:
    """One input cell read: ``Sheet!cell``, its parameter and row or variant.

    ``parameter`` is the quantity the cell holds (a schema parameter, or the
    sheet's label such as ``sweep_base``; "" for a header cell such as a variant
    name); ``item`` the variant, model or row it belongs to ("" when none).
    ``value`` is what the reader took from the cell (number, text, bool, None).
    """

    sheet: str
    cell: str
    parameter: str
    item: str
    value: object


@dataclass
class Snapshot:
    """What one run read and found.

    Attributes
    ----------
    inputs : list of InputCell
        Every input cell read, in reading order.
    parameters : pandas.DataFrame
        Index: variant names; one column per schema parameter (the Study's frame).
    metrics : pandas.DataFrame
        Index: variant names; the :data:`HEADLINE` metrics, in their units.
    info : dict
        ``time`` (ISO 8601), ``version`` (of xlmodel), ``input_file``.
    """

    inputs: list[InputCell]
    parameters: pd.DataFrame
    metrics: pd.DataFrame
    info: dict = field(default_factory=dict)


@dataclass
class Changes:
    """Two snapshots compared (every table may be empty).

    Attributes
    ----------
    inputs : pandas.DataFrame
        ``sheet, cell, parameter, item, old, new``: one row per input that
        changed (a variant added or removed is one row, its name's cell).
    metrics : pandas.DataFrame
        ``variant, metric, unit, old, new, delta, delta_percent``: the headline
        metrics that moved, of the variants in both runs.
    shares : pandas.DataFrame
        ``variant, metric, unit, parameter, cells, old, new, share,
        share_percent, method``: each moved metric's change split over the
        changed parameters of its variant (``cells``: the changed input cells of
        that parameter, ``Sheet!D18``; "" when it changed through another
        input, a process node, say); the shares of one metric sum to its
        ``delta``. A changed parameter without effect on a metric (share 0)
        has no row for it.
    added, removed : list of str
        Variants only in the new run, only in the old one.
    previous : dict
        The old snapshot's ``info``.
    """

    inputs: pd.DataFrame
    metrics: pd.DataFrame
    shares: pd.DataFrame
    added: list[str]
    removed: list[str]
    previous: dict


INPUT_COLUMNS = ["sheet", "cell", "parameter", "item", "old", "new"]
METRIC_COLUMNS = ["variant", "metric", "unit", "old", "new", "delta", "delta_percent"]
SHARE_COLUMNS = [
    "variant",
    "metric",
    "unit",
    "parameter",
    "cells",
    "old",
    "new",
    "share",
    "share_percent",
    "method",
]


def headline_metrics(
    parameters: pd.DataFrame, process_nodes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The :data:`HEADLINE` metrics of every row of ``parameters``.

    Evaluated as :func:`xlmodel.studies.run.run` evaluates its metrics: the
    power preset applied, blank node parameters from ``process_nodes``.
    """
    v = fill_process_nodes(apply_power_preset(parameters), process_nodes)
    return evaluate(v)[list(HEADLINE)]


def snapshot(
    inputs: list[InputCell],
    parameters: pd.DataFrame,
    process_nodes: pd.DataFrame | None = None,
    info: dict | None = None,
) -> Snapshot:
    """A Snapshot of one run: its inputs, parameters and headline metrics."""
    return Snapshot(
        list(inputs),
        parameters.copy(),
        headline_metrics(parameters, process_nodes),
        dict(info or {}),
    )


def compare(
    old: Snapshot, new: Snapshot, process_nodes: pd.DataFrame | None = None
) -> Changes:
    """What changed from ``old`` to ``new``: inputs, metrics, shares.

    ``process_nodes`` is the new run's node table (blank node parameters of the
    rows evaluated take their values from it).
    """
    added, removed = _added_removed(old.parameters.index, new.parameters.index)
    only_new = set(added)
    inputs = _changed_inputs(old.inputs, new.inputs, only_new, set(removed))
    metric_rows, share_rows = [], []
    for name in (str(v) for v in new.parameters.index if str(v) not in only_new):
        m_rows, s_rows = _variant_changes(old, new, name, process_nodes)
        metric_rows += m_rows
        for row in s_rows:
            row.insert(4, _cells_of(inputs, row[3], name))
        share_rows += s_rows
    return Changes(
        pd.DataFrame(inputs, columns=INPUT_COLUMNS),
        pd.DataFrame(metric_rows, columns=METRIC_COLUMNS),
        pd.DataFrame(share_rows, columns=SHARE_COLUMNS),
        added,
        removed,
        dict(old.info),
    )


# --- inputs ---------------------------------------------------------------------


def _added_removed(old_names, new_names) -> tuple[list[str], list[str]]:
    """The variants only in ``new_names``, and those only in ``old_names``."""
    old, new = [str(v) for v in old_names], [str(v) for v in new_names]
    in_old, in_new = set(old), set(new)
    return [v for v in new if v not in in_old], [v for v in old if v not in in_new]


def changed_inputs(old: Snapshot, cells: list[InputCell], names) -> list[list]:
    """The input cells that changed from the run ``old`` to the cells ``cells``
    read now, of a workbook whose variants are ``names``: rows as
    :attr:`Changes.inputs` (``sheet, cell, parameter, item, old, new``)."""
    added, removed = _added_removed(old.parameters.index, names)
    return _changed_inputs(old.inputs, list(cells), set(added), set(removed))


def _cells_of(inputs: list[list], parameter: str, variant: str) -> str:
    """The changed cells holding ``parameter`` for ``variant`` (or for every
    variant: a Targets or Coefficients cell)."""
    cells = [
        f"{sheet}!{cell}"
        for sheet, cell, param, item, _, _ in inputs
        if param == parameter and item in (variant, "")
    ]
    return ", ".join(cells)


def same(a, b) -> bool:
    """Two input values are the same: equal, both blank, or both NaN."""
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (datetime, date, time, timedelta)) or isinstance(
        b, (datetime, date, time, timedelta)
    ):
        return str(a) == str(b)
    return type(a) is type(b) and a == b


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and v == "")


def _key(c: InputCell) -> tuple:
    """(sheet, parameter, item); a header cell (no parameter, no item, a
    variant's name) by the name it holds, so moving a variant's column is not
    a change of its name cell."""
    if not c.parameter and not c.item and isinstance(c.value, str) and c.value.strip():
        return (c.sheet.casefold(), "", c.value.strip())
    return (c.sheet.casefold(), c.parameter, c.item)


def _keyed(cells: list[InputCell]) -> dict[tuple, InputCell]:
    """Cells by :func:`_key`, robust to moved rows and columns; by cell when
    that key is not unique in the run (or the cell has no parameter and holds
    no name)."""
    counts: dict[tuple, int] = {}
    for c in cells:
        k = _key(c)
        counts[k] = counts.get(k, 0) + 1
    out: dict[tuple, InputCell] = {}
    for c in cells:
        k = _key(c)
        if (not c.parameter and not k[2]) or counts[k] > 1:
            k = (c.sheet.casefold(), c.parameter, c.item, c.cell)
        out.setdefault(k, c)
    return out


def _name_cells(cells: list[InputCell], names: set[str]) -> dict[str, InputCell]:
    """The cell holding each variant name of ``names``: a header cell (no
    parameter, no item) on the sheet of that variant's other cells."""
    sheets = {c.item: c.sheet.casefold() for c in cells if c.item in names}
    out: dict[str, InputCell] = {}
    for c in cells:
        if c.parameter or c.item or not isinstance(c.value, str):
            continue
        name = c.value.strip()
        if name in sheets and sheets[name] == c.sheet.casefold():
            out.setdefault(name, c)
    return out


def _changed_inputs(
    old: list[InputCell], new: list[InputCell], added: set[str], removed: set[str]
) -> list[list]:
    a, b = _keyed(old), _keyed(new)
    # a variant added or removed is one row, at its name's cell
    new_names, old_names = _name_cells(new, added), _name_cells(old, removed)
    rows: list[list] = []
    seen_variants: set[str] = set()
    for key, cell in b.items():
        if cell in new_names.values():
            continue  # the name of a variant added: its row below
        if cell.item in added:
            if cell.item not in seen_variants:  # one line per variant added
                seen_variants.add(cell.item)
                at = new_names.get(cell.item, cell)
                rows.append(
                    [at.sheet, at.cell, "variant added", cell.item, None, cell.item]
                )
            continue
        before = a.get(key)
        if before is None:
            if not _blank(cell.value):
                rows.append(
                    [cell.sheet, cell.cell, cell.parameter, cell.item, None, cell.value]
                )
            continue
        if not same(before.value, cell.value):
            rows.append(
                [
                    cell.sheet,
                    cell.cell,
                    cell.parameter,
                    cell.item,
                    before.value,
                    cell.value,
                ]
            )
    for key, cell in a.items():
        if cell in old_names.values():
            continue  # the name of a variant removed: its row below
        if cell.item in removed:
            if cell.item not in seen_variants:
                seen_variants.add(cell.item)
                at = old_names.get(cell.item, cell)
                rows.append(
                    [
                        at.sheet,
                        at.cell,
                        "variant removed",
                        cell.item,
                        cell.item,
                        None,
                    ]
                )
            continue
        if key not in b and not _blank(cell.value):
            rows.append(
                [cell.sheet, cell.cell, cell.parameter, cell.item, cell.value, None]
            )
    return rows


# --- metrics and their shares ---------------------------------------------------


def _variant_changes(old: Snapshot, new: Snapshot, name: str, nodes) -> tuple:
    """Moved metrics of one variant and the shares of its changed parameters."""
    m_old, m_new = old.metrics, new.metrics
    moved = []
    for metric in HEADLINE:
        if metric not in m_old.columns or metric not in m_new.columns:
            continue
        a, b = float(m_old.at[name, metric]), float(m_new.at[name, metric])
        if _moved(a, b):
            moved.append((metric, a, b))
    if not moved:
        return [], []
    metric_rows = [
        [
            name,
            metric,
            METRIC_UNITS.get(metric, ""),
            a,
            b,
            b - a,
            (b - a) / abs(a) * 100 if a != 0 and math.isfinite(a) else math.nan,
        ]
        for metric, a, b in moved
    ]
    p_old, p_new = _aligned(old.parameters.loc[[name]], new.parameters.loc[[name]])
    first_old, first_new = p_old.iloc[0], p_new.iloc[0]
    changed = [
        c for c in p_new.columns if not same(_py(first_old[c]), _py(first_new[c]))
    ]
    metrics = [m for m, _, _ in moved]
    try:
        shares, method = attribute(p_old, p_new, changed, metrics, nodes)
    except ValueError as e:  # a mix of old and new values the engine refuses
        reason = str(e).splitlines()[0][:200]
        shares, method = None, f"not attributable: {reason}"
    share_rows = []
    for metric, a, b in moved:
        delta = b - a
        explained = 0.0
        if shares is not None:
            for param, value in shares[metric].items():
                explained += value
                if value == 0:  # a changed parameter this metric does not use
                    continue
                share_rows.append(
                    _share_row(name, metric, param, p_old, p_new, value, delta, method)
                )
        rest = delta - explained
        scale = max(abs(a), abs(b), 1e-300)
        if shares is None or abs(rest) > RELATIVE_TOLERANCE * scale:
            label = (
                method
                if shares is None
                else "not explained by the variant's parameters (the equations "
                "of another xlmodel version, or the process node table)"
            )
            unit = METRIC_UNITS.get(metric, "")
            share_rows.append(
                [name, metric, unit, "(other)", None, None, rest, _percent(rest, delta)]
                + [label]
            )
    return metric_rows, share_rows


def _share_row(name, metric, param, p_old, p_new, value, delta, method) -> list:
    if param == "interaction":
        old_v = new_v = None
    else:
        old_v, new_v = _py(p_old.iloc[0][param]), _py(p_new.iloc[0][param])
    return [
        name,
        metric,
        METRIC_UNITS.get(metric, ""),
        param,
        old_v,
        new_v,
        value,
        _percent(value, delta),
        method,
    ]


def _percent(part: float, whole: float) -> float:
    return part / whole * 100 if whole != 0 else math.nan


def _moved(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return False
    if not (math.isfinite(a) and math.isfinite(b)):
        return a != b
    return abs(b - a) > RELATIVE_TOLERANCE * max(abs(a), abs(b))


def _aligned(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both rows over the new run's columns (a column the old run lacked takes the
    new value: it is not a change of the inputs)."""
    old = old.copy()
    for c in new.columns:
        if c not in old.columns:
            old[c] = new[c].to_numpy()
    return old[list(new.columns)], new


def _py(v):
    """A plain Python value of a frame cell (NaN stays NaN)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def attribute(
    old: pd.DataFrame,
    new: pd.DataFrame,
    changed: list[str],
    metrics: list[str],
    process_nodes: pd.DataFrame | None = None,
) -> tuple[dict[str, dict[str, float]], str]:
    """Split the change of each metric over the ``changed`` parameters.

    Parameters
    ----------
    old, new : pandas.DataFrame
        One row each: a variant's parameters in the old and the new run.
    changed : list of str
        The parameters whose values differ.
    metrics : list of str
        Metrics to split (names of ``METRICS``).

    Returns
    -------
    (dict, str)
        metric -> parameter -> share (in the metric's unit), and the method. The
        shares of a metric sum to f(new) - f(old) exactly for Shapley; one at a
        time, an ``interaction`` entry holds the rest.

    Raises
    ------
    ValueError
        The engine refuses a row mixing old and new values.
    """
    k = len(changed)
    if k == 0:
        return {m: {} for m in metrics}, ONLY
    if k > MAX_SHAPLEY:
        masks = [0] + [1 << i for i in range(k)] + [(1 << k) - 1]
    else:
        masks = list(range(1 << k))
    rows = pd.concat([old] * len(masks), ignore_index=True)
    new_row = new.iloc[0]
    for j, mask in enumerate(masks):
        for i, p in enumerate(changed):
            if mask >> i & 1:
                rows.at[j, p] = new_row[p]
    for c in old.columns:  # keep each column's kind after the assignments
        rows[c] = rows[c].astype(old[c].dtype)
    values = headline_metrics(rows, process_nodes)
    f = {m: values[m].to_numpy(dtype=np.float64) for m in metrics}
    out: dict[str, dict[str, float]] = {}
    if k > MAX_SHAPLEY:
        for m in metrics:
            base, full = f[m][0], f[m][-1]
            one = {p: float(f[m][1 + i] - base) for i, p in enumerate(changed)}
            one["interaction"] = float(full - base - sum(one.values()))
            out[m] = one
        return out, ONE_AT_A_TIME
    weights = [
        math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
        for s in range(k)
    ]
    sizes = [bin(mask).count("1") for mask in masks]
    for m in metrics:
        y = f[m]
        shares = {}
        for i, p in enumerate(changed):
            bit = 1 << i
            total = 0.0
            for mask in masks:
                if not mask & bit:
                    total += weights[sizes[mask]] * (y[mask | bit] - y[mask])
            shares[p] = float(total)
        out[m] = shares
    return out, SHAPLEY if k > 1 else ONLY
