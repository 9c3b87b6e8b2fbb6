"""A small table of named columns without pandas: what the input checks read.

The workbook readers build their tables (variants, process nodes, models,
serving scenarios, reference chips) as :class:`Table` and check them before any
study runs, so that ``xlmodel validate`` never imports pandas (about a third of
its start-up). The studies get DataFrames from :meth:`Table.to_frame`.

A Table offers the part of the DataFrame interface the checks use, with the
same meaning, so that a check works on either: ``columns``, ``index``,
``len(t)``, ``t.empty``, ``name in t`` (a column), ``t[name]`` (the column as
stored: a list or a numpy array; read it with ``numpy.asarray``) and
``t.get(name)``. Rows are ``t.row(label)`` (a dict) or ``t.records()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np


class Table:
    """Columns of equal length and one label per row.

    Parameters
    ----------
    columns : mapping of str to sequence
        Column name -> values, in order; every sequence as long as ``index``.
        Lists keep Python values (pandas infers their dtype as it does for
        rows of dicts); numpy arrays keep their dtype.
    index : sequence, optional
        Row labels (default: 0 .. n-1).
    index_name : str, optional
        Name of the index in :meth:`to_frame`.

    Raises
    ------
    ValueError
        Columns of different lengths, or an index of another length.
    """

    def __init__(
        self,
        columns: Mapping[str, Sequence],
        index: Sequence | None = None,
        index_name: str | None = None,
    ):
        self._columns = dict(columns)
        lengths = {len(v) for v in self._columns.values()}
        if len(lengths) > 1:
            raise ValueError("all columns must be of the same length")
        n = lengths.pop() if lengths else (0 if index is None else len(index))
        self._range = index is None  # the default labels: a RangeIndex in pandas
        self.index = list(range(n)) if index is None else list(index)
        if len(self.index) != n:
            raise ValueError(
                f"index of {len(self.index)} label(s) for {n} row(s) of columns"
            )
        self.index_name = index_name

    @classmethod
    def from_rows(
        cls, rows: Sequence[Mapping], columns: Sequence[str], key: str | None = None
    ) -> Table:
        """A table of ``rows`` (dicts); ``key``'s values become the index.

        A row without a column gets NaN there, as ``pandas.DataFrame(rows)``
        gives.
        """
        data = {c: [r.get(c, np.nan) for r in rows] for c in columns if c != key}
        index = [r[key] for r in rows] if key is not None else None
        return cls(data, index, index_name=key)

    @classmethod
    def from_mapping(cls, values: Mapping) -> Table:
        """A table of name -> scalar or sequence: scalars fill every row.

        All scalars (or nothing): one row. Sequences of different lengths raise
        ValueError, as ``pandas.DataFrame`` does.
        """
        values = dict(values)
        lengths = {len(v) for v in values.values() if np.ndim(v) > 0}
        if len(lengths) > 1:
            raise ValueError("all arrays must be of the same length")
        n = lengths.pop() if lengths else 1
        return cls({k: (v if np.ndim(v) > 0 else [v] * n) for k, v in values.items()})

    # --- the DataFrame-like part -----------------------------------------------------

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._columns)

    @property
    def empty(self) -> bool:
        """No rows (or no columns), as ``DataFrame.empty``."""
        return not self.index or not self._columns

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> Sequence:
        return self._columns[name]

    def __setitem__(self, name: str, values: Sequence) -> None:
        if len(values) != len(self.index):
            raise ValueError(f"column {name!r} of {len(values)} for {len(self)} rows")
        self._columns[name] = values

    def get(self, name: str, default=None):
        """A column, or ``default`` when the table has none of that name."""
        return self._columns.get(name, default)

    def copy(self) -> Table:
        """A table sharing no column list with this one (arrays are copied)."""
        out = Table(
            {
                k: (v.copy() if isinstance(v, np.ndarray) else list(v))
                for k, v in self._columns.items()
            },
            self.index,
            self.index_name,
        )
        out._range = self._range
        return out

    def row(self, label) -> dict:
        """The row labelled ``label`` as column -> value (KeyError: no such row)."""
        i = self.index.index(label)
        return {k: v[i] for k, v in self._columns.items()}

    def records(self) -> Iterator[tuple[object, dict]]:
        """(label, row dict) for every row, in order."""
        for i, label in enumerate(self.index):
            yield label, {k: v[i] for k, v in self._columns.items()}

    def to_frame(self):
        """The table as a pandas DataFrame (imports pandas)."""
        import pandas as pd

        index = (
            pd.RangeIndex(len(self.index), name=self.index_name)
            if self._range
            else pd.Index(self.index, name=self.index_name)
        )
        if not self._columns:
            return pd.DataFrame(index=index)
        return pd.DataFrame(self._columns, index=index)
