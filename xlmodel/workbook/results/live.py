"""Live cells: a result written as a formula over the input cells, with its value.

The formulas come from the engine (:func:`xlmodel.engine.symbolic.trace` runs the
metric rules over the cells the reader read each input from, ``Study.sources``),
and every cell carries the engine's number as its cached value, so a reader that
does not calculate (pandas, a viewer) sees the figures, and a spreadsheet that
does follows the inputs. Where an input has no cell of its own (a blank that took
its default, a blank wafer price filled from the process node table, a number
typed as text) the formula holds the number used, inline.

What stays a plain value: a metric that cannot be traced (the leakage-temperature
feedback, solved iteratively), and every power figure of a variant on the
physical power preset (its coefficients are fitted from the variant's own inputs,
not read from cells); and every cell of a table longer than ``ROW_LIMIT`` rows.
A formula that would need another equation after an input
change (leakage feedback switched on) shows ``#N/A`` until the next compute; a
choice (target precision, topology, cooling, preset) is the one read at compute
time.

Used by the result sheet modules: :class:`Live` traces one variant's metrics in
the cells of a table row, :func:`write` puts a formula and its cached value in a
cell, in the format the table gave it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from ...engine import prepare
from ...engine.nodes import fill_process_nodes
from ...engine.symbolic import Expr, trace, trace_each
from ...schema import PARAMETERS
from ...studies.reference import apply_power_preset
from .context import Context

#: Tables of more rows than this keep plain values: tracing costs about 5 ms a
#: row, and a sheet of thousands of variants would take minutes to write.
ROW_LIMIT = 2000

#: The border every table cell carries (:class:`.sheet.Sheet` tables).
BORDER = {"bottom": 1, "bottom_color": "#E0E0E0"}
_COEFFICIENTS = frozenset(p.name for p in PARAMETERS if p.section == "coefficient")


def cell(row: int, col: int, sheet: str | None = None) -> str:
    """Absolute reference of a zero-based cell, on ``sheet`` or the same sheet."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    ref = f"${letters}${row + 1}"
    if sheet is None:
        return ref
    return "'" + sheet.replace("'", "''") + "'!" + ref


class Live:
    """The inputs of every variant as formula leaves, and their traced metrics."""

    def __init__(self, ctx: Context):
        study = ctx.results.study
        v = fill_process_nodes(apply_power_preset(study.variants), study.process_nodes)
        self.inputs = prepare(v, check=False)
        self.row = {str(name): i for i, name in enumerate(v.index)}
        self.sources = {str(k): dict(s) for k, s in study.sources.items()}
        preset = v["power_preset"] if "power_preset" in v else None
        self.physical = {
            str(name)
            for name, p in (preset.items() if preset is not None else ())
            if p == "physical"
        }

    def leaves(self, variant: str) -> dict:
        """One variant's engine inputs: a leaf per numeric input with a cell, the
        number used otherwise; text and codes as one-element arrays."""
        i = self.row[variant]
        refs = self.sources.get(variant, {})
        physical = variant in self.physical
        out = {}
        for name, arr in self.inputs.items():
            a = np.asarray(arr)[i : i + 1]
            if a.dtype.kind != "f":
                out[name] = np.array(a)  # text, choices, codes: read at compute time
            elif physical and name in _COEFFICIENTS:
                out[name] = Expr.opaque(a[0], "a coefficient of the physical preset")
            elif name in refs:
                out[name] = Expr.leaf(refs[name], a[0])
            else:
                out[name] = np.array(a)  # the number used, inline
        return out

    def formulas(
        self,
        variant: str,
        names: Iterable[str],
        cells: Mapping[str, str] | None = None,
        utilization=1.0,
        inputs: Mapping[str, str] | None = None,
    ) -> dict:
        """The formula of each metric of ``names`` for ``variant``.

        ``cells`` maps metrics already on the sheet (same variant, same
        utilisation) to their cells: another metric's formula refers to that cell
        instead of repeating its equation. ``inputs`` maps parameters to a cell
        of the sheet that shows them (itself a formula over the input cell).
        ``utilization`` is a number or an :class:`Expr` (the row's utilisation
        cell). Returns metric -> Expr, or a plain number or None where the cell
        keeps its value.
        """
        x = self.leaves(variant)
        for name, ref in (inputs or {}).items():
            now = x[name]
            if isinstance(now, Expr):
                if now.f is not None:
                    x[name] = Expr.leaf(ref, now.value)
            else:
                x[name] = Expr.leaf(ref, now[0])
        cells = dict(cells or {})
        names = list(names)
        plain = trace(x, list(dict.fromkeys([*names, *cells])), utilization)
        known = {}
        for m, ref in cells.items():
            e = plain.get(m)
            if isinstance(e, Expr):
                known[m] = Expr(ref, e.value, guards=e.guards, fallible=e.fallible)
        if not known:
            return {name: plain[name] for name in names}
        # each formula over the other metrics' cells (one trace per metric, the
        # intermediates shared between them)
        again = trace_each(
            x, [n for n in names if isinstance(plain[n], Expr)], utilization, known
        )
        return {name: again.get(name, plain[name]) for name in names}


class Cached(float):
    """A formula's cached number, written with the digits a number cell gets
    (``%.16G``), so that the cell and the chart caches read from it keep the
    text they had when the cell held the plain number."""

    def __str__(self) -> str:
        return f"{float(self):.16G}"

    __repr__ = __str__


def write(ctx: Context, ws, row: int, col: int, e, cached, num_format: str) -> bool:
    """A formula cell with its cached value, in its table format; False (nothing
    written) when ``e`` is not a formula.

    ``cached`` is the engine's value: a number (``n/a`` text when not finite,
    as the formula's error branch says), or a truth value written as PASS/FAIL
    when ``num_format`` is ``"pass"``.
    """
    if not isinstance(e, Expr):
        return False
    if num_format == "pass":
        # an error in the comparison is a failed check, as numpy's NaN compares
        body = e.cell_formula(on_error="FALSE")[1:]
        fmt = ctx.fmt(align="center", **BORDER)
        ws.write_formula(
            row,
            col,
            f'=IF({body},"PASS","FAIL")',
            fmt,
            "PASS" if bool(cached) else "FAIL",
        )
        return True
    x = float(cached)
    if math.isfinite(x):
        fmt = ctx.fmt(num_format=num_format, **BORDER)
        ws.write_formula(row, col, e.cell_formula(), fmt, Cached(x))
    else:
        fmt = ctx.fmt(align="right", font_color="#7F7F7F", **BORDER)
        ws.write_formula(row, col, e.cell_formula(), fmt, "n/a")
    return True
