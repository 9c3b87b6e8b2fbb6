"""Live cells: a result written as a formula over the input cells, with its value.

The formulas come from the engine (:func:`xlmodel.engine.symbolic.trace` runs the
metric rules over the cells the reader read each input from, ``Study.sources``),
and every cell carries the engine's number as its cached value, so a reader that
does not calculate (pandas, a viewer) sees the figures, and a spreadsheet that
does follows the inputs. Where an input has no cell of its own (a blank that took
its default, a blank wafer price filled from the process node table, a number
typed as text) the formula holds the number used, inline.

What stays a plain value: a metric that cannot be traced (the leakage-temperature
feedback, solved iteratively), every power figure of a variant on the physical
power preset (its coefficients are fitted from the variant's own inputs, not read
from cells), every cost figure that rests on a wafer price, defect density or
mask set the process node table filled in (a change of node would not follow),
a formula longer than Excel's ``FORMULA_LIMIT`` characters, and every cell of a
table longer than ``ROW_LIMIT`` rows.
A formula that would need another equation after an input
change (leakage feedback switched on) shows ``#N/A`` until the next compute; a
choice (target precision, topology, cooling, preset) is the one read at compute
time: the sheet's banner (:mod:`.banner`, ``live=True``) turns red when such an
input changes.

Used by the result sheet modules: :class:`Live` traces one variant's metrics in
the cells of a table row, :func:`write` puts a formula and its cached value in a
cell, in the format the table gave it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

from ...engine import prepare, symbolic
from ...engine.nodes import fill_process_nodes
from ...engine.symbolic import Expr, trace, trace_each
from ...schema import PARAMETERS
from ...studies.reference import apply_power_preset
from .context import Context
from .formats import NA_TEXT, TABLE_BORDER, live_format

#: Tables of more rows than this keep plain values. Traced one by one a row
#: cost about 5 ms, and a sheet of thousands of variants took minutes to write;
#: traced together (:meth:`Live.formulas_many`) a row costs about 0.2 ms, and
#: what is left is the formulas' size: a formula cell's XML is about 3 times a
#: number cell's at the median and 13 times at the 90th percentile (a
#: 50-variant workbook), for the writer, the file and the spreadsheet that
#: recalculates it.
ROW_LIMIT = 2000

#: Longest formula Excel takes (characters, the leading ``=`` included).
FORMULA_LIMIT = 8192

#: Inputs the process node table fills when a variant leaves them blank.
NODE_FILLED = ("wafer_price_usd", "defect_density_per_cm2", "mask_set_usd")

#: The border every table cell carries (:class:`.sheet.Sheet` tables).
BORDER = TABLE_BORDER
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

    @classmethod
    def of(cls, ctx: Context) -> Live:
        """The run's one :class:`Live`, shared by the sheets (its leaves are made
        once per variant for all of them)."""
        made = ctx.shared.get(cls)
        if made is None:
            made = ctx.shared[cls] = cls(ctx)
        return made

    def __init__(self, ctx: Context):
        study = ctx.results.study
        v = fill_process_nodes(apply_power_preset(study.variants), study.process_nodes)
        self.inputs = prepare(v, check=False)
        self.row = {str(name): i for i, name in enumerate(v.index)}
        self.sources = {str(k): dict(s) for k, s in study.sources.items()}
        # a node parameter without a cell of its own took the node table's value
        self.node_filled = {
            name: {k for k in NODE_FILLED if k not in self.sources.get(name, {})}
            for name in self.row
        }
        self._leaves: dict[str, dict] = {}
        # each input: its name, its array over the variants, whether it holds
        # numbers, whether it is a coefficient
        self._columns = [
            (name, a, a.dtype.kind == "f", name in _COEFFICIENTS)
            for name, a in ((n, np.asarray(v)) for n, v in self.inputs.items())
        ]
        self._signatures: dict[str, tuple] = {}
        preset = v["power_preset"] if "power_preset" in v else None
        self.physical = {
            str(name)
            for name, p in (preset.items() if preset is not None else ())
            if p == "physical"
        }

    def leaves(self, variant: str) -> dict:
        """One variant's engine inputs: a leaf per numeric input with a cell, the
        number used otherwise; text and codes as one-element arrays.

        Made once per variant (a sheet traces a variant's row at every
        utilisation); each call returns a dict of its own, the leaves shared
        (nothing changes a leaf or an input array)."""
        made = self._leaves.get(variant)
        if made is None:
            made = self._leaves[variant] = self._make_leaves(variant)
        return dict(made)

    def _make_leaves(self, variant: str) -> dict:
        i = self.row[variant]
        refs = self.sources.get(variant, {})
        physical = variant in self.physical
        filled = self.node_filled.get(variant, set())
        j = i + 1
        out = {}
        for name, column, numeric, coefficient in self._columns:
            a = column[i:j]
            if not numeric:
                out[name] = np.array(a)  # text, choices, codes: read at compute time
            elif physical and coefficient:
                out[name] = Expr.opaque(a[0], "a coefficient of the physical preset")
            elif name in filled:
                out[name] = Expr.opaque(a[0], "a value of the process node table")
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
        x = self._with_inputs(self.leaves(variant), inputs)
        return _traced(x, list(names), dict(cells or {}), utilization)

    def formulas_many(self, requests: Iterable[tuple]) -> list[dict]:
        """``[self.formulas(*r) for r in requests]``, formula for formula.

        Each request is the arguments of :meth:`formulas` (variant, names and
        optionally cells, utilization, inputs). Requests alike (the same
        metrics, cells and shown inputs, every input a cell or the same number
        or choice, the utilisation a cell or the same number) are traced
        together, once: the variants' cells are tokens of one trace over all
        their values (:func:`xlmodel.engine.symbolic.batch`), rendered for
        each. Where their decisions differ the batch splits on the decision
        and is traced again; where it cannot say, each is traced alone.
        """
        requests = [_padded(r) for r in requests]
        out: list = [None] * len(requests)
        groups: dict = {}
        for k, req in enumerate(requests):
            key, x, texts = self._plan(*req)
            groups.setdefault(key, []).append((k, x, texts))
        for members in groups.values():
            self._batch(requests, members, out)
        return out

    @staticmethod
    def _with_inputs(x: dict, inputs: Mapping[str, str] | None) -> dict:
        """Leaves ``x`` with each input of ``inputs`` read from its shown cell."""
        for name, ref in (inputs or {}).items():
            now = x[name]
            if isinstance(now, Expr):
                if now.f is not None:
                    x[name] = Expr.leaf(ref, now.value)
            else:
                x[name] = Expr.leaf(ref, now[0])
        return x

    def _signature(self, variant: str) -> tuple[list, list, dict]:
        """The kind of each of a variant's leaves (a cell, an opaque value, or
        the number or text used), the text of each cell leaf (None for the
        others) and each input's position: made once per variant, as its
        leaves are."""
        made = self._signatures.get(variant)
        if made is None:
            kinds, texts, position = [], [], {}
            for i, (name, a) in enumerate(self.leaves(variant).items()):
                position[name] = i
                text = None
                if type(a) is Expr:
                    if a.f is not None:
                        kinds.append((name, "cell"))
                        text = a.f
                    else:
                        kinds.append((name, "opaque", a.why))
                elif a.dtype.kind in "fbiu":
                    kinds.append((name, a.dtype.str, a.tobytes()))
                else:
                    kinds.append((name, a.dtype.str, tuple(a.tolist())))
                texts.append(text)
            made = self._signatures[variant] = (kinds, texts, position)
        return made

    def _plan(self, variant, names, cells, utilization, inputs):
        """A request's batch key, its leaves and its texts (one per cell it reads,
        in the order of the key's slots)."""
        x = self._with_inputs(self.leaves(variant), inputs)
        kinds, texts, position = self._signature(variant)
        if inputs:  # a shown input is read from its cell (see _with_inputs)
            kinds, texts = list(kinds), list(texts)
            for name in inputs:
                a = x[name]
                if a.f is not None:
                    kinds[position[name]] = (name, "cell")
                    texts[position[name]] = a.f
        texts = [t for t in texts if t is not None]
        if isinstance(utilization, Expr):
            u = ("cell",)
            texts.append(utilization.f)
        else:
            u = (type(utilization).__name__, np.float64(utilization).tobytes())
        texts.extend(cells.values())
        return (tuple(names), tuple(cells), tuple(kinds), u), x, texts

    def _batch(self, requests: list, members: list, out: list) -> None:
        """Trace the requests ``members`` (alike: see :meth:`_plan`) together."""
        if len(members) == 1:
            k, x, _ = members[0]
            _, names, cells, utilization, _ = requests[k]
            out[k] = _traced(x, names, cells, utilization)
            return
        first, x0, _ = members[0]
        _, names, cells, utilization, _ = requests[first]
        j = 0
        x = {}
        for name, a in x0.items():
            if type(a) is Expr:
                values = np.array([m[1][name].value for m in members], np.float64)
                if a.f is not None:
                    x[name] = Expr(symbolic.token(j), values)
                    j += 1
                else:
                    x[name] = Expr(None, values, why=a.why)
            else:
                x[name] = a
        if isinstance(utilization, Expr):
            values = [requests[k][3].value for k, _, _ in members]
            utilization = Expr(symbolic.token(j), np.array(values, np.float64))
            j += 1
        cells = {m: symbolic.token(j + i) for i, m in enumerate(cells)}
        try:
            with symbolic.batch(len(members)):
                traced = _traced(x, names, cells, utilization)
        except symbolic.Disagree as d:
            mask = d.mask
            if mask is None or mask.all() or not mask.any():
                for member in members:
                    self._batch(requests, [member], out)
            else:
                self._batch(requests, [m for m, t in zip(members, mask) if t], out)
                self._batch(requests, [m for m, t in zip(members, mask) if not t], out)
            return
        for i, (k, _, texts) in enumerate(members):
            texts, done = tuple(texts), {}
            out[k] = {n: symbolic.render(e, texts, i, done) for n, e in traced.items()}


def _padded(request) -> tuple:
    """A request of :meth:`Live.formulas_many` as (variant, list of names, dict
    of cells, utilization, inputs), its defaults filled in."""
    defaults = (None, None, None, 1.0, None)
    variant, names, cells, utilization, inputs = (*request, *defaults[len(request) :])
    return variant, list(names), dict(cells or {}), utilization, inputs


def _traced(x: dict, names: list, cells: dict, utilization) -> dict:
    """:meth:`Live.formulas` over the leaves ``x``."""
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


def write(
    ctx: Context,
    ws,
    row: int,
    col: int,
    e,
    cached,
    num_format: str,
    props: Mapping | None = None,
) -> bool:
    """A formula cell with its cached value, in its table format; False (nothing
    written) when ``e`` is not a formula or its formula is too long for Excel.

    ``cached`` is the engine's value: a number (``n/a`` text when not finite,
    as the formula's error branch says), or a truth value written as PASS/FAIL
    when ``num_format`` is ``"pass"``. ``props`` are format properties beyond
    the table's border (a highlighted row's bold and fill).
    """
    if not isinstance(e, Expr):
        return False
    props = {**BORDER, **(props or {})}
    if num_format == "pass":
        # an error in the comparison is a failed check, as numpy's NaN compares
        body = e.cell_formula(on_error="FALSE")[1:]
        formula = f'=IF({body},"PASS","FAIL")'
        if len(formula) > FORMULA_LIMIT:
            return False
        fmt = ctx.fmt(align="center", **props)
        ws.write_formula(row, col, formula, fmt, "PASS" if bool(cached) else "FAIL")
        return True
    formula = e.cell_formula()
    if len(formula) > FORMULA_LIMIT:
        return False
    x = float(cached)
    if math.isfinite(x):
        fmt = ctx.fmt(num_format=live_format(num_format, x), **props)
        ws.write_formula(row, col, formula, fmt, Cached(x))
    else:
        fmt = ctx.fmt(**NA_TEXT, **props)
        ws.write_formula(row, col, formula, fmt, "n/a")
    return True


def shown_input(ref: str | None, cached) -> bool:
    """Whether :func:`write_input` writes the input's formula (a cell and a
    finite value)."""
    return ref is not None and math.isfinite(float(cached))


def write_input(
    ctx: Context,
    ws,
    row: int,
    col: int,
    ref: str | None,
    cached,
    num_format: str,
    props: Mapping | None = None,
) -> bool:
    """An input shown on a result sheet as a formula ``=ref`` of its input cell,
    its value cached; False (nothing written) without a cell or a finite value."""
    if not shown_input(ref, cached):
        return False
    x = float(cached)
    fmt = ctx.fmt(num_format=live_format(num_format, x), **{**BORDER, **(props or {})})
    ws.write_formula(row, col, "=" + ref, fmt, Cached(x))
    return True


# a function call at the start of a formula text
_CALL = re.compile(r"[A-Z][A-Z0-9.]*\(")
_NAME_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._$"
)


def _closes_at_end(text: str, start: int) -> bool:
    """Whether the parenthesis at ``start`` closes at the end of ``text``."""
    depth = 0
    quoted = False
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "\"'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def _replace_whole(f: str, text: str, ref: str) -> str:
    """``f`` with every occurrence of the formula ``text`` that is a whole operand
    (a function call or parenthesised group anywhere, anything else only as a
    whole argument or group: after ``(`` or ``,`` and before ``)`` or ``,``)
    replaced by ``ref``. Such an occurrence parses to the same expression as
    ``text`` alone, so the replacement keeps the formula's value."""
    m = _CALL.match(text)
    atom = (m is not None and _closes_at_end(text, m.end() - 1)) or (
        text.startswith("(") and _closes_at_end(text, 0)
    )
    out = []
    i = 0
    while True:
        j = f.find(text, i)
        if j < 0:
            break
        k = j + len(text)
        before = f[j - 1] if j else ""
        after = f[k] if k < len(f) else ""
        if atom:
            whole = before not in _NAME_CHARS
        else:
            whole = before in ("", "(", ",") and after in ("", ")", ",")
        if whole:
            out.append(f[i:j])
            out.append(ref)
            i = k
        else:
            out.append(f[i : j + 1])
            i = j + 1
    out.append(f[i:])
    return "".join(out)


def shorten(formulas: Mapping[str, object], cells: Mapping[str, str]) -> dict:
    """Each formula with the formulas of the other metrics shown in ``cells``
    (metric -> cell) replaced by their cells, wherever one is a whole operand.

    The traces write an intermediate out in full in every formula that uses it
    (the yields in every cost); a cell that shows it stands in for it, which
    keeps the cost formulas within Excel's length and readable. Longer formulas
    are replaced first; a formula is never replaced in itself or by an equal
    one (no cell refers to itself, directly or not: a replaced text is always
    shorter than the formula it is replaced in).
    """
    subs = []
    seen = set()
    for m, ref in cells.items():
        e = formulas.get(m)
        if not isinstance(e, Expr) or e.f in seen or len(e.f) <= len(ref):
            continue
        if not any(ch in e.f for ch in "()+-*/^<>=,"):
            continue  # a bare reference: nothing to gain
        seen.add(e.f)
        subs.append((e.f, ref))
    subs.sort(key=lambda t: -len(t[0]))
    out = {}
    for name, e in formulas.items():
        if not isinstance(e, Expr):
            out[name] = e
            continue
        f = e.f
        for text, ref in subs:
            if len(text) < len(e.f) and text in f:
                f = _replace_whole(f, text, ref)
        out[name] = e if f == e.f else Expr(f, e.value, e.prec, e.guards, e.fallible)
    return out
