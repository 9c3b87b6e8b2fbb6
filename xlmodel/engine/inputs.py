"""Turn a table of variants into checked numpy arrays, one per parameter.

The one data contract between callers (DataFrame users, the seed API, the Excel
reader) and the equations: every parameter of the schema present as a float64 array
(text parameters as object arrays; the D2D topology, yield model and package type
also as integer codes), every value finite, of the right kind and inside its valid
range. Blank (NaN) wafer prices, defect densities and mask set costs take their
process node's value from the process node table (see :mod:`.nodes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a DataFrame is built
    import pandas as pd

from ..schema import BY_NAME, PARAMETERS, TOPOLOGY_CODES, Parameter
from .cost import PACKAGE_TYPE_CODES, YIELD_MODEL_CODES
from .nodes import NODE_PARAMETERS, NodeTable, fill_blanks, node_table
from .table import Table

# Numeric code of each cooling choice, as the vectorised engine carries it.
COOLING_CODES = {name: i for i, name in enumerate(BY_NAME["cooling"].choices)}

# Columns a variant table may carry besides parameters; they are not model inputs.
LABEL_COLUMNS = ("name", "variant")

Inputs = dict[str, np.ndarray]

# Choice parameters the equations use as integer codes: name -> {choice: code}.
CHOICE_CODES = {
    "d2d_topology": TOPOLOGY_CODES,
    "yield_model": YIELD_MODEL_CODES,
    "package_type": PACKAGE_TYPE_CODES,
    "cooling": COOLING_CODES,
}
_BLANK_OK = frozenset(NODE_PARAMETERS)
#: Up to this many rows, the numeric columns are checked as one stack (a copy
#: of them); a longer table, where a column's check costs more than the call,
#: column by column in place.
_STACKED_ROWS = 4096


def prepare(
    variants: pd.DataFrame | Table | Mapping,
    *,
    check: bool = True,
    process_nodes: pd.DataFrame | Table | NodeTable | None = None,
) -> Inputs:
    """Check a variant table and return one array per schema parameter.

    Parameters
    ----------
    variants : pandas.DataFrame, Table or mapping
        One row per variant, columns named after schema parameters; a missing
        column takes the parameter's default. A mapping of name -> scalar or
        sequence is accepted for a single variant or a few. Read through
        ``columns``, ``index`` and ``variants[name]`` only: pandas is not needed.
    check : bool
        Check kinds and ranges (default). Internal callers that perturb already
        checked inputs (sweeps, elasticities) pass False.
    process_nodes : pandas.DataFrame, Table or NodeTable, optional
        The process node table blank node parameters are taken from (default:
        the shipped ``xlmodel/data/process_nodes.csv``). A blank (NaN) value of
        ``wafer_price_usd``, ``defect_density_per_cm2`` or ``mask_set_usd`` takes
        the row's node's value; a value given wins; a missing column is looked up
        per row, NaN for a node the table does not hold (its cost metrics are NaN).

    Returns
    -------
    dict of str to numpy.ndarray
        Every parameter of the schema, length N; ``d2d_topology_code``,
        ``yield_model_code``, ``package_type_code`` and ``cooling_code`` added.

    Raises
    ------
    ValueError
        Naming every bad parameter, the offending value and its row; a blank node
        parameter whose node the table does not hold, naming the node.
    """
    frame = variants if _is_table(variants) else _frame(variants)
    unknown = [c for c in frame.columns if c not in BY_NAME and c not in LABEL_COLUMNS]
    if unknown:
        raise ValueError(
            "unknown parameter(s): "
            + ", ".join(map(str, unknown))
            + " (see xlmodel.schema.PARAMETERS for the names)"
        )
    n = len(frame)
    out: Inputs = {}
    problems: list[str] = []
    labels = list(frame.index)
    columns = _arrays(frame)
    present = set(columns)
    checked = _numbers_checked(columns) if check and n <= _STACKED_ROWS else {}
    for p in PARAMETERS:
        if p.name in checked:
            arr = checked[p.name]
        elif p.name in present:
            arr, problem = _column(
                p, columns[p.name], labels, check, p.name in _BLANK_OK
            )
            if problem:
                problems.append(problem)
                continue
        elif p.numeric:  # a read-only broadcast view: no memory per row
            arr = np.broadcast_to(np.float64(p.default), (n,))
        else:
            arr = np.broadcast_to(np.array(p.default, dtype=object), (n,))
        out[p.name] = arr
    if problems:
        raise ValueError("; ".join(problems))
    table = node_table(process_nodes)
    for name in NODE_PARAMETERS:
        given = out[name] if name in present else None
        out[name] = fill_blanks(name, given, out["process_node"], table, labels)
    for name, codes in CHOICE_CODES.items():
        out[f"{name}_code"] = _codes(out[name], codes)
    return out


def _arrays(frame) -> dict[str, np.ndarray]:
    """The frame's parameter columns as numpy gives them (object for mixed or
    text cells), by name.

    A pandas DataFrame hands its columns over as arrays in one pass (asking
    for each column builds a Series: a third of the time of a small table's
    preparation); any other table, a column at a time.
    """
    names = [c for c in frame.columns if c in BY_NAME]
    whole = getattr(type(frame), "_iter_column_arrays", None)
    if whole is not None and len(set(frame.columns)) == len(frame.columns):
        arrays = dict(zip(frame.columns, whole(frame), strict=True))
        return {
            name: arrays[name]
            if isinstance(arrays[name], np.ndarray)
            else arrays[name].to_numpy()
            for name in names
        }
    out = {}
    for name in names:
        col = frame[name]  # a Series: to_numpy (asarray probes attributes)
        out[name] = col.to_numpy() if hasattr(col, "to_numpy") else np.asarray(col)
    return out


def _numbers_checked(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The numeric columns held as numbers, checked at once, when every one of
    them is valid: name -> float64 array; {} when any is not (each column is
    then checked on its own, for its message).

    One check over a stack of the columns does what a check per column does
    (finite or, for a node parameter, blank; within range; whole where the
    parameter is an integer) without a hundred small passes.
    """
    params = [
        BY_NAME[name]
        for name, col in columns.items()
        if BY_NAME[name].numeric and col.dtype.kind in "iuf"
    ]
    if not params:
        return {}
    stack = np.array([columns[p.name] for p in params], dtype=np.float64, ndmin=2)
    low = np.array([[p.minimum] for p in params], dtype=np.float64)
    high = np.array([[p.maximum] for p in params], dtype=np.float64)
    whole = np.array([[p.kind == "int"] for p in params])
    blank_ok = np.array([[p.name in _BLANK_OK] for p in params])
    with np.errstate(invalid="ignore"):
        good = (np.isfinite(stack) | (np.isnan(stack) & blank_ok)) & ~(
            (stack < low) | (stack > high) | (whole & (stack != np.round(stack)))
        )
    if not good.all():
        return {}
    return {p.name: stack[i] for i, p in enumerate(params)}


def _codes(values: np.ndarray, codes: dict[str, int]) -> np.ndarray:
    # One code per row; a single choice for every row is one look-up.
    n = len(values)
    if n and (values == values[0]).all():
        return np.full(n, codes[values[0]], dtype=np.int64)
    return np.array([codes[v] for v in values], dtype=np.int64)


def _is_table(variants) -> bool:
    # A DataFrame or a Table: named columns and row labels (a plain mapping has
    # neither attribute).
    return hasattr(variants, "columns") and hasattr(variants, "index")


def _frame(mapping: Mapping) -> Table:
    values = dict(mapping)
    if not values:  # no overrides: one variant of defaults
        return Table({}, index=[0])
    return Table.from_mapping(values)


def _bad(p: Parameter, value: object, row: object, what: str) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(row, np.generic):
        row = row.item()
    return f"{p.name}: {value!r} (row {row!r}) {what}; expected {p.expectation}"


def _column(
    p: Parameter, col: np.ndarray, labels: list, check: bool, blank_ok: bool = False
) -> tuple[np.ndarray, str]:
    # ``col``: the column as numpy gives it (object for mixed or text cells).
    if not p.numeric:
        arr = col.astype(object, copy=False)
        if check:
            for label, v in zip(labels, arr):
                if not isinstance(v, str) or (
                    p.kind == "choice" and v not in p.choices
                ):
                    return arr, _bad(p, v, label, "is not valid")
        return arr, ""
    if not check:
        return col.astype(np.float64, copy=False), ""
    given, kind = col, col.dtype.kind
    if kind == "b":
        return col, _bad(p, bool(col[0]), labels[0], "is a boolean")
    if kind not in "iuf":
        for label, v in zip(labels, col):
            if blank_ok and v is None:
                continue
            if isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (int, float, np.number)
            ):
                return col, _bad(p, v, label, "is not a number")
        col = np.array([np.nan if v is None else v for v in col], dtype=np.float64)
    arr = col.astype(np.float64, copy=False)
    finite = np.isfinite(arr) | (np.isnan(arr) if blank_ok else False)
    bad = ~finite | (arr < p.minimum) | (arr > p.maximum)
    if p.kind == "int":
        bad |= arr != np.round(arr)
    if bad.any():
        i = int(np.argmax(bad))
        v = arr[i]
        what = (
            "is not finite"
            if not np.isfinite(v)
            else "is out of range"
            if v < p.minimum or v > p.maximum
            else "is not a whole number"
        )
        return arr, _bad(p, given[i], labels[i], what)
    return arr, ""
