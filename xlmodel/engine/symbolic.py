"""The engine's equations as spreadsheet formulas, traced from the equations themselves.

:class:`Expr` is a symbolic operand: a formula text (a cell reference such as
``'Variants'!$D$5`` at a leaf) with the number it stands for today. Arithmetic,
comparisons and the numpy functions the equations use (``minimum``, ``maximum``,
``where``, ``power``, ``sqrt``, ``exp``, ``divide``, ``trunc``, ``broadcast_to``,
``choose`` ...) build bigger formulas through ``__array_ufunc__`` and
``__array_function__``, computing the number alongside with the same numpy
operation. :func:`trace` runs the metric rules of :mod:`xlmodel.engine.model` over
such operands, so a formula is the engine's equation written out, never a second
copy kept beside it; its value is the engine's, operation for operation.

The formulas use only what Excel 2010 and LibreOffice both have (``+ - * / ^``,
comparisons, ``IF``, ``AND``, ``OR``, ``NOT``, ``MIN``, ``MAX``, ``SQRT``, ``EXP``,
``LN``, ``ABS``, ``INT``, ``TRUNC``, ``CHOOSE``, ``IFERROR``, ``NA``), nothing
volatile, English names and comma separators.

Structure that the numbers decide (whether leakage feeds back on temperature: a
Python ``if`` over today's values) is traced with today's value and becomes a
guard: the formula reads ``IF(guard, formula, NA())``, so a change that would need
another equation shows ``#N/A`` until the next compute instead of a wrong number.
What cannot be traced at all (the iterative Lambert-W solution of the leakage
loop, a table look-up by a counted quantity) raises :class:`Untraceable`;
:func:`trace` then returns None for that metric and its cell keeps a plain value.
An operand marked opaque makes what is computed from it opaque, so that only the
metrics that use it keep values (a rule computing many metrics at once, the cost
rule, keeps formulas for the others).

The cost equations (:mod:`xlmodel.engine.cost`) convert operands with
``np.asarray(..., dtype=np.float64)`` and fill ``np.full`` arrays, which numpy
cannot do for a symbolic operand; while a trace runs they see numpy through
:class:`_EngineNumpy`, which passes an :class:`Expr` through both. ``log1p`` is
written ``LN(1+x)`` and ``expm1`` ``(EXP(x)-1)`` (a few units of the last place
apart for the arguments the yields meet); ``isnan`` of a formula is today's
answer, False, since a NaN is a spreadsheet error that the cell's error branch
shows as ``n/a``; an operation with a NaN constant that is NaN for every other
operand is that NaN, not a formula. The traced cost figures are the engine's
within a few units of the last place (the engine's array path computes in place,
in another order), not bit for bit as the other metrics.

Variants whose inputs are alike (each input a cell for all, or the same number
or choice) are traced together inside :func:`batch`: a leaf's formula is a
:func:`token` and its value the array of the variants' values, every operation
computes all of them at once, and :func:`render` writes one variant's result
with its own cell for each token. A decision is taken once for all of them; where
the variants' values decide differently it raises :class:`Disagree` with each
variant's side, and the caller traces each side apart. One trace then serves a
whole table of variants alike: a 200-variant workbook's four live sheets took
2.0-2.5 s traced variant by variant, 0.4-0.6 s together.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Iterable, Mapping

import numpy as np

from .model import METRIC_UNITS, MetricEvaluation


class Untraceable(Exception):
    """An operation the formula language (or this tracer) cannot express."""


class Disagree(Exception):
    """Variants traced together (:func:`batch`) took different decisions.

    ``mask`` holds, per variant of the batch, the truth of the decision that
    differed (the variants to trace apart from the others), or is None when
    the batch cannot say (trace each variant on its own).
    """

    def __init__(self, mask=None):
        super().__init__("the variants of a batch took different decisions")
        self.mask = mask


# Precedence of what a formula text is, for parentheses: an atom (a reference, a
# non-negative number, a function call) binds tightest.
_ATOM, _POW, _MUL, _ADD, _CMP = 9, 7, 5, 4, 2

# a guard frame per rule being traced (see _Tracing.__getitem__)
_FRAMES: list[list[str]] = []
# non-empty while trace() runs under np.errstate(all="ignore"): an operation
# then need not set it again (the engine's own errstate blocks only ignore more)
_QUIET: list[bool] = []
# the number of variants of the batch being traced (see batch()), while one is
_BATCH: list[int] = []


def _truth(value) -> bool:
    """Today's truth of a decision: one value, or every variant's of a batch,
    which must agree (else :class:`Disagree`, with each variant's truth)."""
    if type(value) is np.ndarray:
        if value.all():
            return True
        if not value.any():
            return False
        raise Disagree(value.astype(bool))
    return bool(value)


def _agreed(value):
    """One value that every variant of a batch has (else :class:`Disagree`)."""
    if type(value) is np.ndarray:
        if (value == value[0]).all():
            return value[0]
        raise Disagree(value == value[0])
    return value


def number_text(v) -> str:
    """A float as formula text, round-tripping exactly (``1e-06``, ``2000.0``)."""
    x = float(v)
    if not math.isfinite(x):
        raise Untraceable(f"the constant {x!r} has no formula text")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


class Expr:
    """A formula (``f``, without the leading ``=``) and the value it has today.

    ``value`` is a numpy float64 or bool computed with the engine's own operation;
    ``guards`` are conditions (formula texts) under which the formula is the
    engine's equation; ``fallible`` is True when the formula may give a spreadsheet
    error where numpy gives inf or NaN (a division by an operand, a root, a power).
    An opaque operand (``f`` None) raises :class:`Untraceable` when used.
    """

    __slots__ = ("f", "value", "prec", "guards", "fallible", "why")
    __array_priority__ = 1000

    def __init__(
        self,
        f: str | None,
        value,
        prec: int = _ATOM,
        guards: frozenset = frozenset(),
        fallible: bool = False,
        why: str = "",
    ):
        self.f, self.value, self.prec = f, value, prec
        self.guards, self.fallible, self.why = guards, fallible, why

    @classmethod
    def leaf(cls, ref: str, value) -> Expr:
        """An input cell ``ref`` holding ``value``."""
        return cls(ref, np.float64(value))

    @classmethod
    def opaque(cls, value, why: str) -> Expr:
        """A value that has no formula (its use makes a metric untraceable)."""
        return cls(None, np.float64(value), why=why)

    def __repr__(self) -> str:
        return f"Expr({self.f!r}, {self.value!r})"

    # -- the formula as a whole cell ---------------------------------------------

    def cell_formula(self, on_error: str = '"n/a"') -> str:
        """The cell's formula, ``=`` included: guards, then errors as ``on_error``."""
        body = self.f
        if self.fallible:
            body = f"IFERROR({body},{on_error})"
        if self.guards:
            g = sorted(self.guards)
            cond = g[0] if len(g) == 1 else f"AND({','.join(g)})"
            body = f"IF({cond},{body},NA())"
        return "=" + body

    # -- Python operators --------------------------------------------------------

    def __add__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.add, self, o)
        return np.add(self, o)

    def __radd__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.add, o, self)
        return np.add(o, self)

    def __sub__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.subtract, self, o)
        return np.subtract(self, o)

    def __rsub__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.subtract, o, self)
        return np.subtract(o, self)

    def __mul__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.multiply, self, o)
        return np.multiply(self, o)

    def __rmul__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.multiply, o, self)
        return np.multiply(o, self)

    def __truediv__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.true_divide, self, o)
        return np.true_divide(self, o)

    def __rtruediv__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.true_divide, o, self)
        return np.true_divide(o, self)

    def __pow__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.power, self, o)
        return np.power(self, o)

    def __rpow__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.power, o, self)
        return np.power(o, self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return np.absolute(self)

    def __lt__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.less, self, o)
        return np.less(self, o)

    def __le__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.less_equal, self, o)
        return np.less_equal(self, o)

    def __gt__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.greater, self, o)
        return np.greater(self, o)

    def __ge__(self, o):
        if type(o) in _DIRECT:
            return _binop(np.greater_equal, self, o)
        return np.greater_equal(self, o)

    def __eq__(self, o):  # noqa: D105 - a formula, not an identity test
        return np.equal(self, o)

    def __ne__(self, o):
        return np.not_equal(self, o)

    __hash__ = object.__hash__

    def __and__(self, o):
        return np.logical_and(self, o)

    def __rand__(self, o):
        return np.logical_and(o, self)

    def __or__(self, o):
        return np.logical_or(self, o)

    def __ror__(self, o):
        return np.logical_or(o, self)

    def __invert__(self):
        return np.logical_not(self)

    def __bool__(self) -> bool:
        """Today's truth value, kept as a guard of the rule being traced."""
        if not _FRAMES or self.f is None:
            raise Untraceable("a decision outside a traced rule")
        truth = _truth(self.value)
        _FRAMES[-1].append(self.f if truth else f"NOT({self.f})")
        return truth

    def __float__(self):
        raise Untraceable("a conversion to a plain number")

    # array-like methods the equations call
    def any(self, *args, **kwargs):
        return self

    def all(self, *args, **kwargs):
        return self

    def astype(self, *args, **kwargs):
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return (1,)

    # one value: no axes of its own (the engine's scalar branches), length one
    ndim = 0

    def __len__(self) -> int:
        return 1

    # -- numpy protocols ---------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            raise Untraceable(f"numpy {ufunc.__name__}.{method}")
        name = ufunc.__name__
        rule = _UFUNCS.get(name)
        if rule is None:
            raise Untraceable(f"numpy {name}")
        # one pass over the operands: each as an Expr or a plain number, its
        # value, the first opaque one, and whether a plain one is NaN
        args = []
        values = []
        opaque = None
        nan = False
        for a in inputs:
            if type(a) is not Expr:
                a = _operand(a, opaque=True)
            if type(a) is Expr:
                if a.f is None and opaque is None:
                    opaque = a
                values.append(a.value)
            else:
                if a is not True and a is not False and a != a:
                    nan = True  # a NaN constant (a float64: NaN is not itself)
                values.append(a)
            args.append(a)
        if opaque is not None and name != "isnan":
            # an opaque operand makes the result opaque: the metrics that use
            # it keep values, the others of the same rule stay formulas
            if _QUIET:
                value = ufunc(*values)
            else:
                with np.errstate(all="ignore"):
                    value = ufunc(*values)
            return Expr.opaque(value, opaque.why)
        if nan and name in _NAN_PROPAGATING:
            # NaN whatever the other operands: the number, as numpy has it
            # (one NaN for all the variants of a batch)
            with np.errstate(all="ignore"):
                value = ufunc(*values)
            return value[0] if type(value) is np.ndarray else value
        if _QUIET:  # inside trace(): numpy's floating-point errors already ignored
            op = _SCALAR_MATH.get(name)
            if (
                op is not None
                and type(values[0]) is np.float64
                and type(values[1]) is np.float64
            ):
                # numpy's scalar arithmetic: the same IEEE operation as the
                # ufunc's, without the ufunc's dispatch
                value = op(values[0], values[1])
            else:
                value = ufunc(*values)
        else:
            with np.errstate(all="ignore"):
                value = ufunc(*values)
        return rule(value, *args)

    def __array_function__(self, func, types, args, kwargs):
        handler = _FUNCTIONS.get(func.__name__)
        if handler is None:
            raise Untraceable(f"numpy {func.__name__}")
        return handler(*args, **kwargs)


# --- operands ----------------------------------------------------------------------


def _binop(ufunc, a, b):
    """``Expr.__array_ufunc__(ufunc, "__call__", a, b)`` for a Python operator.

    Its common case inside a trace, two operands each an Expr with a formula or
    a float64 (or float, int) that is not NaN, is done here without the generic
    dispatch; the same rule on the same values, the same result. Any other case
    goes through ``__array_ufunc__``.
    """
    if _QUIET:
        pa = _plain_operand(a)
        pb = _plain_operand(b) if pa is not None else None
        if pb is not None:
            (a, va), (b, vb) = pa, pb
            name, rule, op = _OPERATOR_RULES[ufunc]
            if op is not None and type(va) is np.float64 and type(vb) is np.float64:
                value = op(va, vb)
            else:
                value = ufunc(va, vb)
            return rule(value, a, b)
    return Expr.__array_ufunc__(a if type(a) is Expr else b, ufunc, "__call__", a, b)


def _plain_operand(x):
    """(operand, value) of an operand :func:`_binop` handles itself (an Expr with
    a formula, or a float64, float or int that is not NaN, as float64), else None."""
    t = type(x)
    if t is Expr:
        return (x, x.value) if x.f is not None else None
    if t is np.float64 or t is float or t is int:
        v = np.float64(x)
        return (v, v) if v == v else None
    return None


# Operand kinds a Python operator hands straight to Expr.__array_ufunc__ (numpy
# would call it with the same inputs: none of them overrides a ufunc)
_DIRECT = frozenset({Expr, float, int, bool, np.float64, np.bool_, np.ndarray})


def _operand(a, opaque: bool = False):
    """An Expr, or a plain number (one-element arrays unwrapped); an opaque Expr
    raises :class:`Untraceable` unless ``opaque``."""
    if isinstance(a, Expr):
        if a.f is None and not opaque:
            raise Untraceable(a.why or "an opaque operand")
        return a
    kind = type(a)
    if kind is float or kind is np.float64 or kind is int:
        return np.float64(a)  # what the array path below makes of them
    if kind is bool:
        return a
    arr = np.asarray(a)
    if arr.size != 1:
        if _BATCH and arr.size == _BATCH[-1]:
            raise Disagree()  # a batch's values, out of their Expr: trace apart
        raise Untraceable(f"an array of {arr.size} values")
    item = arr.reshape(()).item() if arr.dtype != object else arr.reshape(())[()]
    if isinstance(item, Expr):
        return _operand(item, opaque)
    if isinstance(item, (bool, np.bool_)):
        return bool(item)
    if isinstance(item, (int, float, np.number)):
        return np.float64(item)
    raise Untraceable(f"the operand {item!r}")


# ufuncs of two float64 operands that numpy's scalar operators compute alike
_SCALAR_MATH = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
}


def _value(a):
    return a.value if isinstance(a, Expr) else a


def _text(a, need: int, strict: bool = False) -> str:
    """Formula text of ``a`` inside an operator of precedence ``need``."""
    if type(a) is Expr:
        f, prec = a.f, a.prec
    elif isinstance(a, bool):
        f, prec = ("TRUE" if a else "FALSE"), _ATOM
    else:
        known = _NUMBERS.get(a)
        if known is None:
            known = _NUMBERS[a] = (number_text(a), _ATOM if float(a) >= 0 else _ADD)
            if len(_NUMBERS) > 4096:  # constants of the equations, and inputs
                _NUMBERS.clear()
        f, prec = known
    if prec < need or (strict and prec == need):
        return f"({f})"
    return f


# text and precedence of the plain numbers met (a float64's text, computed once;
# 0.0 and -0.0, which are equal keys, have the same text "0" and precedence)
_NUMBERS: dict = {}


_NO_GUARDS: frozenset = frozenset()


def _meta(*args) -> tuple[frozenset, bool]:
    guards: frozenset = _NO_GUARDS
    fallible = False
    for a in args:
        if type(a) is Expr:
            if a.guards:
                guards = a.guards if not guards else guards | a.guards
            fallible |= a.fallible
    return guards, fallible


def _is_expr(a) -> bool:
    return type(a) is Expr


def _binary(symbol: str, prec: int, associative: bool):
    def rule(value, a, b):
        # _meta(a, b), written out for the two operands
        guards, fallible = _NO_GUARDS, False
        if type(a) is Expr:
            guards, fallible = a.guards, a.fallible
        if type(b) is Expr:
            if b.guards:
                guards = b.guards if not guards else guards | b.guards
            fallible |= b.fallible
        f = (
            _text(a, prec, strict=prec == _POW)
            + symbol
            + _text(b, prec, strict=not associative)
        )
        return Expr(f, value, prec, guards, fallible)

    return rule


_TIMES = _binary("*", _MUL, True)
_OVER = _binary("/", _MUL, False)


def _multiply(value, a, b):
    # x * 1 is x, bit for bit: no "*1" in the formula
    if type(a) is not Expr and not isinstance(a, bool) and float(a) == 1.0:
        return b
    if type(b) is not Expr and not isinstance(b, bool) and float(b) == 1.0:
        return a
    return _TIMES(value, a, b)


def _divide(value, a, b):
    e = _OVER(value, a, b)
    if _is_expr(b) or float(b) == 0:
        e.fallible = True
    return e


def _power(value, a, b):
    guards, fallible = _meta(a, b)
    if not _is_expr(b) and float(b) == 1:
        return a if _is_expr(a) else value
    if not _is_expr(b) and float(b) == 0:
        # numpy's x^0 is 1 for every x (the spreadsheet's 0^0 is an error)
        return np.float64(1.0)
    if not _is_expr(a) and float(a) == 1:
        return np.float64(1.0)  # 1^x is 1 for every x
    f = _text(a, _POW, strict=True) + "^" + _text(b, _POW, strict=True)
    if _is_expr(b) and _is_expr(a):
        f = f"IF({_text(b, _CMP, strict=True)}=0,1,{f})"
        return Expr(f, value, _ATOM, guards, True)
    return Expr(f, value, _POW, guards, fallible or _is_expr(a) or _is_expr(b))


def _function(name: str, fallible: bool = False):
    def rule(value, *args):
        guards, fall = _meta(*args)
        inner = ",".join(_text(a, 0) for a in args)
        return Expr(f"{name}({inner})", value, _ATOM, guards, fall or fallible)

    return rule


def _negative(value, a):
    guards, fallible = _meta(a)
    return Expr("-" + _text(a, _POW, strict=True), value, _ADD, guards, fallible)


def _log1p(value, a):
    # LN(1+x): exact to a few units of the last place for the x the yields meet
    guards, fallible = _meta(a)
    return Expr(f"LN(1+{_text(a, _ADD)})", value, _ATOM, guards, True)


def _expm1(value, a):
    guards, fallible = _meta(a)
    return Expr(f"(EXP({_text(a, 0)})-1)", value, _ATOM, guards, True)


def _isnan(value, a):
    # A NaN is a spreadsheet error, which the cell's error branch shows as n/a:
    # whether a formula is NaN is today's answer where it is not (a plain False).
    # (An opaque operand's answer is today's too: what uses it keeps a value.)
    if _is_expr(a) and a.f is not None and _truth(value):
        raise Untraceable("a NaN operand")
    return np.bool_(_agreed(value))


_UFUNCS = {
    "add": _binary("+", _ADD, True),
    "subtract": _binary("-", _ADD, False),
    "multiply": _multiply,
    "divide": _divide,
    "true_divide": _divide,
    "power": _power,
    "float_power": _power,
    "negative": _negative,
    "positive": lambda value, a: a,
    "minimum": _function("MIN"),
    "maximum": _function("MAX"),
    "fmin": _function("MIN"),
    "fmax": _function("MAX"),
    "sqrt": _function("SQRT", fallible=True),
    "exp": _function("EXP", fallible=True),
    "log": _function("LN", fallible=True),
    "absolute": _function("ABS"),
    "floor": _function("INT"),
    "trunc": _function("TRUNC"),
    "greater": _binary(">", _CMP, False),
    "greater_equal": _binary(">=", _CMP, False),
    "less": _binary("<", _CMP, False),
    "less_equal": _binary("<=", _CMP, False),
    "equal": _binary("=", _CMP, False),
    "not_equal": _binary("<>", _CMP, False),
    "log1p": _log1p,
    "expm1": _expm1,
    "isnan": _isnan,
    "logical_and": _function("AND"),
    "logical_or": _function("OR"),
    "logical_not": _function("NOT"),
    "bitwise_and": _function("AND"),
    "bitwise_or": _function("OR"),
    "invert": _function("NOT"),
}


# ufunc -> (name, rule, scalar operation or None), for _binop
_OPERATOR_RULES = {
    u: (u.__name__, _UFUNCS[u.__name__], _SCALAR_MATH.get(u.__name__))
    for u in (
        np.add,
        np.subtract,
        np.multiply,
        np.true_divide,
        np.power,
        np.less,
        np.less_equal,
        np.greater,
        np.greater_equal,
    )
}


# operations whose result is NaN whenever a plain operand is (np.nan - x is NaN
# for every x): no formula needed
_NAN_PROPAGATING = frozenset(
    "add subtract multiply divide true_divide negative minimum maximum sqrt exp "
    "log log1p expm1 absolute".split()
)


# --- numpy functions ---------------------------------------------------------------


def _where(cond, a=None, b=None):
    if a is None or b is None:
        raise Untraceable("numpy where with one argument")
    c, x, y = _operand(cond), _operand(a), _operand(b)
    if not _is_expr(c):
        return x if c else y
    value = np.where(c.value, _value(x), _value(y))[()]
    guards, fallible = _meta(c, x, y)
    f = f"IF({_text(c, 0)},{_text(x, 0)},{_text(y, 0)})"
    return Expr(f, value, _ATOM, guards, fallible)


def _choose(a, choices, out=None, mode="raise"):
    code = _operand(a)
    picks = [_operand(c) for c in choices]
    if not _is_expr(code):
        return picks[int(code)]
    guards, fallible = _meta(code, *picks)
    value = picks[int(_agreed(code.value))]
    f = f"CHOOSE({_text(code, _ADD)}+1,{','.join(_text(p, 0) for p in picks)})"
    return Expr(f, _value(value), _ATOM, guards, fallible)


def _same(a, *args, **kwargs):
    return a


_FUNCTIONS = {
    "where": _where,
    "choose": _choose,
    "broadcast_to": _same,
    "shape": lambda a: (1,),
    "size": lambda a, axis=None: 1,
    "ndim": lambda a: 0,
    "repeat": _same,
    "clip": lambda a, lo, hi, **kw: np.minimum(np.maximum(a, lo), hi),
    "any": _same,
    "all": _same,
}


# --- tracing the metric rules --------------------------------------------------------


class _Tracing(MetricEvaluation):
    """The metric rules over symbolic inputs; each rule's decisions guard its result."""

    def __init__(self, x: Mapping, utilization):
        self.x = x
        self.u = utilization
        self._done = {}

    def __getitem__(self, name: str):
        if name in self._done:
            return self._done[name]
        _FRAMES.append([])
        try:
            out = super().__getitem__(name)
        finally:
            decided = _FRAMES.pop()
        if decided:
            out = _guarded(out, frozenset(decided))
            self._done[name] = out
        return out


def _guarded(out, guards: frozenset):
    if isinstance(out, dict):
        return {k: _guarded(v, guards) for k, v in out.items()}
    try:
        e = _operand(out)
    except Untraceable:
        return out
    if not _is_expr(e):
        # a number that a decision over the inputs chose: it holds under the guard
        if isinstance(e, bool):
            return Expr("TRUE" if e else "FALSE", e, _ATOM, guards)
        if not np.isfinite(e):
            return out
        return Expr(_text(e, _ATOM), e, _ADD if e < 0 else _ATOM, guards)
    return Expr(e.f, e.value, e.prec, e.guards | guards, e.fallible)


def trace(
    inputs: Mapping,
    names: Iterable[str],
    utilization=1.0,
    known: Mapping[str, Expr] | None = None,
) -> dict:
    """The formula of each metric of ``names`` over ``inputs``.

    Parameters
    ----------
    inputs : mapping of str to Expr or array
        Every parameter of the engine's inputs for one variant: an :class:`Expr`
        per numeric input (a leaf with its cell, or a plain one-element array for
        a constant), one-element arrays for text, choices and their codes (as
        :func:`xlmodel.engine.prepare` gives them).
    names : iterable of str
        Metric names (``xlmodel.engine.METRICS``).
    utilization : Expr or float
        Utilisation (0-1) at which power is evaluated.
    known : mapping of str to Expr, optional
        Metrics (or intermediates) taken as given, typically leaves for the cells
        that already show them: a rule that needs one uses it as it is.

    Returns
    -------
    dict of str to Expr, float, bool or None
        Per metric: an :class:`Expr` (its ``cell_formula()`` and ``value``), a
        plain number or truth value when the metric does not depend on any input
        cell, or None when it cannot be written as a formula.
    """
    ev = _Tracing(inputs, utilization)
    ev._done.update(known or {})
    out: dict = {}
    with _quiet():
        for name in names:
            if name not in METRIC_UNITS:
                raise KeyError(f"{name!r} is not a metric")
            try:
                r = _operand(ev[name])
            except Untraceable:
                r = None
            except (TypeError, ValueError, IndexError):
                r = _failed()
            out[name] = r
    return out


def _failed():
    """None for a metric whose rule failed on symbolic operands; in a batch the
    failure may be the batch's (its values are arrays): the variants are then
    traced one by one."""
    if _BATCH:
        raise Disagree() from None
    return None


@contextlib.contextmanager
def batch(size: int):
    """Trace ``size`` variants at once, inside the block.

    Their inputs are :class:`Expr` leaves whose ``value`` is an array of the
    variants' values (one per variant, in order) and whose formula is a
    :func:`token`; every other input is the same for all of them. The traces
    are then the variants' own with each token for the variant's text
    (:func:`render`) wherever the variants take the same decisions; where they
    do not, a trace raises :class:`Disagree`.
    """
    _BATCH.append(size)
    try:
        yield
    finally:
        _BATCH.pop()


def token(j: int) -> str:
    """The formula text standing for the ``j``-th text of :func:`render` in a batch."""
    return f"{{{j}}}"


def render(e, texts, i: int, done: dict[str, str] | None = None):
    """One variant's result of a batch trace: ``e`` (a result of :func:`trace`
    or :func:`trace_each`) with each :func:`token` for that variant's text of
    ``texts`` and its value the ``i``-th of the batch's.

    ``done`` keeps the variant's texts already rendered (formula or guard ->
    its text), for the other results of the same variant: the metrics of a
    row share most of their guards. Pass ``texts`` as a tuple (it is handed to
    each format as it is)."""
    if type(e) is not Expr:
        return e
    if done is None:
        done = {}
    value = e.value[i] if type(e.value) is np.ndarray else e.value
    f = e.f
    if f is not None:
        text = done.get(f)
        if text is None:
            text = done[f] = f.format(*texts)
        f = text
    guards = e.guards
    if guards:
        shown = []
        for g in guards:
            text = done.get(g)
            if text is None:
                text = done[g] = g.format(*texts)
            shown.append(text)
        guards = frozenset(shown)
    return Expr(f, value, e.prec, guards, e.fallible, e.why)


class _EngineNumpy:
    """numpy as the cost equations see it while they are traced.

    :mod:`xlmodel.engine.cost` converts its operands with ``np.asarray(a,
    dtype=np.float64)`` and fills the monolithic figures into ``np.full``
    arrays; numpy cannot hand a symbolic operand through either (it would ask
    for a plain number). Here an :class:`Expr` passes ``asarray`` as it is and
    ``full`` makes an array of objects; everything else is numpy's own.
    """

    def __getattr__(self, name: str):
        return getattr(np, name)

    @staticmethod
    def asarray(a, dtype=None, **kwargs):
        if isinstance(a, Expr):
            return a
        if isinstance(a, np.ndarray) and a.dtype == object:
            return a
        return np.asarray(a, dtype=dtype, **kwargs)

    @staticmethod
    def full(shape, fill_value, dtype=None, **kwargs):
        return np.full(shape, fill_value, dtype=object)


_NUMPY_SHIM = _EngineNumpy()


@contextlib.contextmanager
def _quiet():
    """numpy's floating-point errors ignored, once for a whole trace; the cost
    equations see numpy through :class:`_EngineNumpy`."""
    from . import cost

    with np.errstate(all="ignore"):
        _QUIET.append(True)
        plain = cost.np
        cost.np = _NUMPY_SHIM
        try:
            yield
        finally:
            cost.np = plain
            _QUIET.pop()


def trace_each(
    inputs: Mapping,
    names: Iterable[str],
    utilization=1.0,
    known: Mapping[str, Expr] | None = None,
) -> dict:
    """Each metric of ``names`` traced over the others of ``known``.

    The same as ``trace(inputs, [name], utilization, known=others)[name]`` for
    each name, ``others`` being ``known`` without ``name``, formula for formula;
    the intermediates one name's trace computes serve the next names. That is
    exact: whatever a metric's trace computes is something the metric depends
    on, hence depends neither on the metric itself nor on any metric whose trace
    asks for it (the rules form no cycle), so it is the same formula in every
    trace that uses it.

    Returns
    -------
    dict of str to Expr, float, bool or None
        As :func:`trace`.
    """
    known = dict(known or {})
    shared: dict = {}
    out: dict = {}
    with _quiet():
        for name in names:
            if name not in METRIC_UNITS:
                raise KeyError(f"{name!r} is not a metric")
            others = {m: e for m, e in known.items() if m != name}
            ev = _Tracing(inputs, utilization)
            ev._done.update(shared)
            ev._done.update(others)
            try:
                r = _operand(ev[name])
            except Untraceable:
                r = None
            except (TypeError, ValueError, IndexError):
                r = _failed()
            out[name] = r
            shared.update((k, v) for k, v in ev._done.items() if k not in others)
    return out
