"""Converting one cell's raw value into a parameter's value, and showing values.

What a cell may hold (a number, a number stored as text, text, an error value, a
date...) and what a parameter accepts (:class:`~xlmodel.schema.Parameter`: kind,
range, choices) meet here: :func:`convert` returns the value or raises
:class:`CellError` with the expectation the problem line states. The helpers
that show values in those lines (:func:`shown`, :func:`fmt_number`, :func:`with_unit`)
live here too. No workbook access: the raw values come from
:mod:`xlmodel.workbook.grid`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from ..errors import did_you_mean
from ..schema import Parameter

ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
     "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!")
)  # fmt: skip
# Bounds that exclude their end points, and how to say so.
OPEN_RANGES = {
    "utilizations": "number (fraction, above 0, at most 1)",
    "tornado_percent": "number (%, above 0 and below 100)",
    "arithmetic_intensity": "number (FLOP/byte, above 0)",
}


class CellError(Exception):
    """An invalid cell: what it holds and what was expected."""

    def __init__(self, value, expected: str):
        super().__init__(expected)
        self.value, self.expected = value, expected


@dataclass
class Value:
    """A converted cell value and the warning it raised (text number, formula)."""

    value: object
    note: str = ""


def folded(v) -> str | None:
    """Text stripped and case-folded (for comparing labels); None if not text."""
    return v.strip().casefold() if isinstance(v, str) else None


def blank(v) -> bool:
    """True for an empty cell or one holding only spaces."""
    return v is None or (isinstance(v, str) and not v.strip())


def expectation(p: Parameter) -> str:
    """What a valid value of ``p`` is, as a problem line says it."""
    return OPEN_RANGES.get(p.name, p.expectation)


_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([, \u00a0\u202f'])\d{3})(?:\1\d{3})*(?:\.\d+)?")
_WITH_UNIT = re.compile(
    r"([+-]?[\d.,\s\u00a0]*\d[\d.,]*)\s*((?:[^\W\d_]|[°µ%/]).*)", re.DOTALL
)


def number_from_text(s: str) -> float | None:
    """The number a text spells (``'2000'``, ``'1,024'``), or None."""
    s = s.strip().replace("\u00a0", " ")
    if _PLAIN.fullmatch(s):
        return float(s)
    if _GROUPED.fullmatch(s):
        return float(re.sub(r"[, \u202f']", "", s))
    return None


def shown(v):
    """A value as a user would recognise it in a message."""
    if isinstance(v, datetime) and v.time() == time() and v.tzinfo is None:
        return v.date().isoformat()  # a date cell, as Excel shows it: 2025-06-01
    if isinstance(v, (datetime, date, time)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def fmt_number(x: float) -> str:
    """A number in a message: ``2000``, ``0.25``, ``12,000,000``."""
    return f"{x:g}" if abs(x) < 1e6 or not float(x).is_integer() else f"{x:,.0f}"


def with_unit(p: Parameter, v) -> str:
    """A value of ``p`` with its unit (text values quoted)."""
    if isinstance(v, str):
        return repr(v)
    unit = p.unit if p.unit and p.unit != "text" else ""
    return f"{fmt_number(float(v))} {unit}".rstrip()


def listed(values, p: Parameter) -> str:
    """Several values of ``p``, comma-separated, with the unit once."""
    return ", ".join(fmt_number(float(v)) for v in values) + (
        f" {p.unit}" if p.unit else ""
    )


def convert(p: Parameter, raw, bounded: bool = True) -> Value:
    """Convert one non-blank cell value for parameter ``p``; raise CellError.

    ``bounded=False`` accepts any finite number (sweep ranges, checked as a whole).
    """
    if bounded and p.numeric and type(raw) in (int, float):
        # The common cell, a number in range: no message text built for it.
        x = float(raw)
        low_ok = x > p.minimum if p.name in OPEN_RANGES else x >= p.minimum
        high_ok = x < p.maximum if p.name == "tornado_percent" else x <= p.maximum
        whole = p.kind != "int" or x.is_integer()
        if low_ok and high_ok and whole and math.isfinite(x):
            return Value(int(x) if p.kind == "int" else x, "")
    unit = f" ({p.unit})" if p.unit and p.unit != "text" else ""
    expect = expectation(p) if bounded else f"number{unit}"
    a = "a " if p.numeric else ""
    if isinstance(raw, str) and raw.strip() in ERROR_VALUES:
        raise CellError(
            raw.strip(), f"is an error value: fix the formula or type a {expect}"
        )
    if isinstance(raw, bool):
        raise CellError(raw, f"is TRUE/FALSE, not {a}{expect}")
    if isinstance(raw, (datetime, date, time, timedelta)):
        raise CellError(
            shown(raw),
            f"is a date or time, not {a}{expect}: format the cell as a number",
        )
    if not p.numeric:
        return _convert_text(p, raw)
    note = ""
    if isinstance(raw, str):
        x = number_from_text(raw)
        if x is None:
            m = _WITH_UNIT.fullmatch(raw.strip())
            if m and number_from_text(m.group(1)) is not None:
                unit = f" in {p.unit}" if p.unit else ""
                raise CellError(
                    raw,
                    f"has a unit typed in: type the number alone{unit}; "
                    f"expected {expect}",
                )
            raise CellError(raw, f"is not a {expect}")
        note = f"number stored as text {raw!r} read as {fmt_number(x)}"
    elif isinstance(raw, (int, float, np.number)):
        x = float(raw)
    else:
        raise CellError(str(raw), f"is not a {expect}")
    seen = shown(raw if isinstance(raw, str) else x)
    if not math.isfinite(x):
        raise CellError(seen, f"is not a finite {expect}")
    if not bounded:
        return Value(x, note)
    if p.kind == "int" and not x.is_integer():
        raise CellError(seen, f"is not a {expect}")
    low_ok = x > p.minimum if p.name in OPEN_RANGES else x >= p.minimum
    high_ok = x < p.maximum if p.name == "tornado_percent" else x <= p.maximum
    if not (low_ok and high_ok):
        raise CellError(seen, f"is out of range: expected {expect}")
    return Value(int(x) if p.kind == "int" else x, note)


def _convert_text(p: Parameter, raw) -> Value:
    if isinstance(raw, str):
        text = raw.strip()
    elif isinstance(raw, (int, float)) and math.isfinite(raw):
        text = str(shown(float(raw)))
    else:
        raise CellError(str(raw), f"is not {_article(p)}")
    if p.kind == "choice":
        match = next((c for c in p.choices if c.casefold() == text.casefold()), None)
        if match is None:
            raise CellError(raw, f"is not {_article(p)}{did_you_mean(text, p.choices)}")
        return Value(match)
    return Value(text)


def _article(p: Parameter) -> str:
    return expectation(p) if p.kind == "choice" else "text"
