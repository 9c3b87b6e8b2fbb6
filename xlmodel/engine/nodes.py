"""Per-process-node defaults: wafer price, defect density and mask set cost.

A variant names its process node in ``process_node`` (text). Where one of
``NODE_PARAMETERS`` is blank (NaN) for a variant, the value comes from the process
node table: the shipped ``xlmodel/data/process_nodes.csv`` (every row with its
source and date), or a table the caller passes (the workbook's Cost setup sheet,
which users extend). A value given for the variant always wins.

Nodes match by their label or one of its aliases (``;``-separated), ignoring case
and repeated spaces: ``"tsmc  n3e"`` finds the ``TSMC 3nm`` row.

- A blank cell whose node is not in the table (or whose row leaves that parameter
  blank) is an error naming the node and the parameter.
- A parameter the caller did not give at all (no column) is looked up too; an
  unknown node then leaves it NaN, so that variant's cost metrics are NaN (n/a)
  and everything else is computed as before.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a DataFrame is built
    import pandas as pd

from ..schema import BY_NAME
from .table import Table

#: Parameters a process node supplies when a variant leaves them blank.
NODE_PARAMETERS: tuple[str, ...] = (
    "wafer_price_usd",
    "defect_density_per_cm2",
    "mask_set_usd",
)
#: Columns of the table besides the parameters (the key, its aliases, provenance).
KEY = "process_node"
ALIASES = "aliases"


def node_key(label) -> str:
    """The matching key of a node label: case-folded, spaces collapsed."""
    return " ".join(str(label).split()).casefold()


class NodeTable:
    """A checked process node table, ready for vectorised look-ups.

    Parameters
    ----------
    table : pandas.DataFrame or Table
        Column ``process_node`` (labels), optional ``aliases`` (``;``-separated
        labels) and any of ``NODE_PARAMETERS`` (numbers, blank allowed); other
        columns (``source``, ``as_of``, notes) are carried but not used.

    Raises
    ------
    ValueError
        A missing ``process_node`` column, an empty or repeated label or alias, or
        a value that is not a number inside the parameter's valid range; the
        message names the row and the column.
    """

    def __init__(self, table: pd.DataFrame | Table):
        if KEY not in table.columns:
            raise ValueError("process node table lacks column: process_node")
        self.table = table
        self.rows: dict[str, int] = {}
        labels = list(table[KEY])
        given = list(table[ALIASES]) if ALIASES in table.columns else None
        for i, (label, aliases) in enumerate(
            zip(labels, given if given is not None else [""] * len(labels))
        ):
            if not isinstance(label, str) or not label.strip():
                raise ValueError(
                    f"process node table row {i + 1}: process_node {label!r} is not "
                    "a label"
                )
            names = [label]
            if isinstance(aliases, str):
                names += [a for a in aliases.split(";") if a.strip()]
            for name in names:
                key = node_key(name)
                if key in self.rows and self.rows[key] != i:
                    raise ValueError(
                        f"process node table row {i + 1}: {name!r} also names row "
                        f"{self.rows[key] + 1} ({labels[self.rows[key]]!r})"
                    )
                self.rows[key] = i
        self.values: dict[str, np.ndarray] = {}
        for name in NODE_PARAMETERS:
            if name not in table.columns:
                self.values[name] = np.full(len(labels), np.nan)
                continue
            p = BY_NAME[name]
            raws = list(table[name])
            col = np.array([_number(raw) for raw in raws], dtype=np.float64)
            for i, (raw, v) in enumerate(zip(raws, col)):
                blank = raw is None or (isinstance(raw, float) and np.isnan(raw))
                if isinstance(raw, str) and not raw.strip():
                    blank = True
                if blank:
                    continue
                if isinstance(raw, bool) or not (p.minimum <= v <= p.maximum):
                    raise ValueError(
                        f"process node table row {i + 1} ({labels[i]}): "
                        f"{name} {raw!r} is not a number in {p.minimum:g}-"
                        f"{p.maximum:g} {p.unit}"
                    )
            self.values[name] = col

    def row(self, label) -> int | None:
        """Row of a node label or alias (None: not in the table)."""
        return self.rows.get(node_key(label))

    def lookup(self, name: str, nodes: Sequence) -> np.ndarray:
        """``name`` for each node label; NaN for unknown nodes and blank cells."""
        nodes = np.asarray(nodes, dtype=object)
        if len(nodes) == 0:
            return np.empty(0)
        column = self.values[name]
        first = nodes[0]
        if (nodes == first).all():  # one node for every row: one look-up
            i = self.row(first)  # a read-only broadcast view: no memory per row
            value = np.float64(np.nan if i is None else column[i])
            return np.broadcast_to(value, (len(nodes),))
        try:  # one look-up per distinct label
            uniques, codes = np.unique(nodes, return_inverse=True)
        except TypeError:  # labels of mixed types (text and a number): no order
            keys: dict[object, int] = {}
            codes = np.array([keys.setdefault(v, len(keys)) for v in nodes])
            uniques = list(keys)
        per = np.array(
            [np.nan if (i := self.row(u)) is None else column[i] for u in uniques]
        )
        return per[codes]


def _number(raw) -> float:
    # A cell's number, NaN for a blank or what is not one (``pandas.to_numeric``
    # with errors="coerce", without pandas).
    if isinstance(raw, (int, float, np.number)):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return np.nan
    return np.nan


@functools.lru_cache(maxsize=1)
def _shipped() -> NodeTable:
    # Read with the csv module: validating a workbook does not import pandas.
    data = resources.files("xlmodel.data").joinpath("process_nodes.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(data)))
    columns = list(rows[0])
    return NodeTable(
        Table({c: [r[c] if r[c] != "" else None for r in rows] for c in columns})
    )


@functools.lru_cache(maxsize=1)
def _shipped_frame():
    import pandas as pd

    with resources.files("xlmodel.data").joinpath("process_nodes.csv").open("rb") as f:
        table = pd.read_csv(f, dtype={KEY: str, ALIASES: str})
    NodeTable(table)
    return table


def load_process_nodes(path=None) -> pd.DataFrame:
    """The process node table: the shipped one (default) or a CSV at ``path``.

    Returns
    -------
    pandas.DataFrame
        Columns ``process_node``, ``aliases``, the node parameters (wafer price
        USD, defect density per cm², mask set USD), ``as_of`` and ``source``.

    Raises
    ------
    ValueError
        An unreadable file or a table :class:`NodeTable` refuses.
    """

    if path is None:
        return _shipped_frame().copy()
    from ..csvfile import read_user_csv

    table = read_user_csv(
        path,
        "the process node table",
        "process_nodes.csv",
        dtype={KEY: str, ALIASES: str},
    )
    NodeTable(table)
    return table


def node_table(table: pd.DataFrame | Table | NodeTable | None = None) -> NodeTable:
    """A :class:`NodeTable` from a table, the shipped one for None."""
    if table is None:
        return _shipped()
    if isinstance(table, NodeTable):
        return table
    return NodeTable(table)


def fill_blanks(
    name: str,
    values: np.ndarray | None,
    nodes: np.ndarray,
    table: NodeTable,
    labels: Sequence | None = None,
) -> np.ndarray:
    """``values`` of one node parameter with blanks (NaN) taken from the table.

    Parameters
    ----------
    name : str
        One of ``NODE_PARAMETERS``.
    values : numpy.ndarray or None
        The variants' own values (NaN = blank); None when the caller gave none:
        every row is looked up and an unknown node gives NaN.
    nodes : numpy.ndarray
        Each variant's ``process_node`` label.
    table : NodeTable
    labels : sequence, optional
        Row labels for error messages (default: positions).

    Raises
    ------
    ValueError
        A blank value whose node is not in the table, or whose row is blank for
        ``name``: the message names the row, the node and the parameter.
    """
    if values is None:
        return table.lookup(name, nodes)
    blank = np.isnan(values)
    if not blank.any():
        return values
    where = np.flatnonzero(blank)
    found = table.lookup(name, nodes[where])
    missing = np.isnan(found)
    if missing.any():
        k = where[int(np.argmax(missing))]
        label = labels[k] if labels is not None else k
        if isinstance(label, np.generic):
            label = label.item()
        node = nodes[k]
        why = (
            "is not in the process node table"
            if table.row(node) is None
            else f"has no {name} in the process node table"
        )
        raise ValueError(
            f"{name}: blank (row {label!r}) and process_node {node!r} {why}; "
            f"give {name} or add the node to the table"
        )
    out = np.array(values, dtype=np.float64)
    out[where] = found
    return out


def fill_process_nodes(
    variants: pd.DataFrame, table: pd.DataFrame | NodeTable | None = None
) -> pd.DataFrame:
    """``variants`` with every blank node parameter taken from ``table``.

    The Study's way to apply the workbook's table before any study runs: a blank
    (NaN or None) cell of ``NODE_PARAMETERS`` takes its node's value and an absent
    column counts as blank in every row; a blank whose node is unknown is an error
    (see :func:`fill_blanks`). Other cells are left as they are (checked later by
    :func:`~xlmodel.engine.inputs.prepare`). Returns a new frame.
    """
    import pandas as pd

    t = node_table(table)
    default = BY_NAME[KEY].default
    nodes = (
        variants[KEY].to_numpy(dtype=object)
        if KEY in variants
        else np.full(len(variants), default, dtype=object)
    )
    out = variants.copy()
    labels = list(variants.index)
    for name in NODE_PARAMETERS:
        if name not in variants:
            out[name] = fill_blanks(
                name, np.full(len(variants), np.nan), nodes, t, labels
            )
            continue
        blank = variants[name].isna().to_numpy()
        if not blank.any():
            continue
        filled = fill_blanks(name, np.where(blank, np.nan, 0.0), nodes, t, labels)
        column = variants[name].astype(object).to_numpy().copy()
        column[blank] = filled[blank]
        out[name] = pd.Series(column, index=variants.index).infer_objects()
    return out
