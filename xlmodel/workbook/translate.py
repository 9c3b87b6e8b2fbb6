"""Moving a formula's relative references: the copies of an Excel shared formula.

Excel stores a formula filled down or across once, in its first cell (``<f
t="shared" ref=... si="0">A1*2</f>``); each copy says only ``<f t="shared"
si="0"/>`` and means the first cell's formula with every relative reference
moved by the copy's offset (``A2*2`` one row down). :func:`translate` gives
that text, as openpyxl's ``Translator`` does, so that the sheet reader
(:mod:`.xlsx`) reads a filled-down workbook itself and gives the same formula
text openpyxl would (``tests/test_translate.py`` holds the two equal on random
formulas).

The formula is split as openpyxl's tokenizer splits it: strings (``"a""b"``),
quoted sheet names (``'My sheet'!A1``), brackets, error literals, operators,
separators, whitespace (a run of spaces kept as one, as openpyxl keeps it) and
parentheses; what is left between them is an operand. An operand that is not a
number, TRUE or FALSE is a reference or a name: ``A1``, ``$A1``, ``A1:B2``,
``A:C``, ``3:4``, each with an optional ``Sheet!`` prefix; its parts without a
``$`` move; a name (anything else) stays. What that tokenizer would refuse
(an unmatched parenthesis or quote, an unknown ``#`` code) and a move off the
sheet's top or left edge raise :class:`Untranslatable`, and so does a line
break next to an operand (openpyxl reorders those): the reader then leaves the
sheet to openpyxl.
"""

from __future__ import annotations

import re

#: Characters that end an operand (openpyxl's TOKEN_ENDERS).
_ENDERS = frozenset(",;}) +-*/^&=><%")
_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
_ERRORS += ("#GETTING_DATA",)
_STRINGS = {
    '"': re.compile('"(?:[^"]*"")*[^"]*"(?!")'),
    "'": re.compile("'(?:[^']*'')*[^']*'(?!')"),
}
_SPACES = re.compile(r"[ \n]+")
_SCIENTIFIC = re.compile(r"[1-9](\.[0-9]+)?[Ee]")
_ROW_RANGE = re.compile(r"(\$?[1-9][0-9]{0,6}):(\$?[1-9][0-9]{0,6})")
_COL_RANGE = re.compile(r"(\$?[A-Za-z]{1,3}):(\$?[A-Za-z]{1,3})")
_CELL = re.compile(r"(\$?[A-Za-z]{1,3})(\$?[1-9][0-9]{0,6})")
#: Columns a reference may name: A .. ZZZ (three letters).
_MAX_COLUMN = 18278


class Untranslatable(ValueError):
    """A formula the translation does not take on (see the module docstring)."""


def translate(formula: str, rows: int, cols: int) -> str:
    """``formula`` (``=...``) with its relative references moved.

    Parameters
    ----------
    formula : str
        The shared formula's text as its first cell holds it, with the ``=``.
    rows, cols : int
        The copy's offset from that cell: rows down, columns right (negative:
        up, left).

    Raises
    ------
    Untranslatable
        The formula is malformed for the tokenizer, or a reference would move
        above row 1 or left of column A.
    """
    if not formula.startswith("="):
        return formula
    out = ["="]
    token: list[str] = []
    stack: list[str] = []
    i, n = 1, len(formula)

    def save() -> None:
        if token:
            out.append(_operand("".join(token), rows, cols))
            token.clear()

    while i < n:
        ch = formula[i]
        if ch in "+-" and token and _SCIENTIFIC.fullmatch("".join(token)):
            token.append(ch)  # 1E+3: the sign belongs to the number
            i += 1
            continue
        if ch in _ENDERS:
            save()
        if ch in _STRINGS:
            if token and token[-1] != ":":
                raise Untranslatable(f"a quote inside an operand: {formula}")
            m = _STRINGS[ch].match(formula, i)
            if m is None:
                raise Untranslatable(f"an unterminated quote: {formula}")
            if ch == '"':
                out.append(m.group())  # a text operand
            else:
                token.append(m.group())  # a quoted sheet name
            i = m.end()
        elif ch == "[":
            end = _bracket_end(formula, i)
            token.append(formula[i:end])
            i = end
        elif ch == "#":
            if token and token[-1] != "!":
                raise Untranslatable(f"a # inside an operand: {formula}")
            err = next((e for e in _ERRORS if formula.startswith(e, i)), None)
            if err is None:
                raise Untranslatable(f"an unknown error code: {formula}")
            out.append("".join(token) + err)
            token.clear()
            i += len(err)
        elif ch in " \n":
            if token:  # a line break right after an operand (a space saved it)
                raise Untranslatable(f"a line break after an operand: {formula}")
            out.append(ch)
            i = _SPACES.match(formula, i).end()
        elif ch in "({":
            if ch == "{" and token:
                raise Untranslatable(f"a brace inside an operand: {formula}")
            out.append("".join(token) + ch)  # a function's name and its (
            token.clear()
            stack.append(ch)
            i += 1
        elif ch in ")}":
            if not stack or stack.pop() != {")": "(", "}": "{"}[ch]:
                raise Untranslatable(f"unmatched {ch}: {formula}")
            out.append(ch)
            i += 1
        elif ch in _ENDERS or ch in "+-*/^&=><%":
            out.append(ch)  # operators and separators, as they are
            i += 1
        else:
            token.append(ch)
            i += 1
    save()
    return "".join(out)


def _bracket_end(formula: str, start: int) -> int:
    # Index after the ] that closes the [ at ``start`` (nested brackets count).
    depth = 0
    for k in range(start, len(formula)):
        if formula[k] == "[":
            depth += 1
        elif formula[k] == "]":
            depth -= 1
            if depth == 0:
                return k + 1
    raise Untranslatable(f"an unmatched [: {formula}")


def _operand(value: str, rows: int, cols: int) -> str:
    # Numbers and TRUE/FALSE as they are; anything else is a reference or a name.
    if value in ("TRUE", "FALSE"):
        return value
    try:
        float(value)
    except ValueError:
        return _range(value, rows, cols)
    return value


def _range(text: str, rows: int, cols: int) -> str:
    # openpyxl's Translator.translate_range: a sheet prefix kept, then a row
    # range, a column range, a chain of pieces around ':', one cell, or a name.
    sheet = ""
    if "!" in text:
        prefix, text = text.rsplit("!", 1)
        sheet = prefix + "!"
    m = _ROW_RANGE.fullmatch(text)
    if m is not None:
        return f"{sheet}{_row(m.group(1), rows)}:{_row(m.group(2), rows)}"
    m = _COL_RANGE.fullmatch(text)
    if m is not None:
        return f"{sheet}{_col(m.group(1), cols)}:{_col(m.group(2), cols)}"
    if ":" in text:
        return sheet + ":".join(_range(piece, rows, cols) for piece in text.split(":"))
    m = _CELL.fullmatch(text)
    if m is None:
        return text  # a defined name
    return f"{sheet}{_col(m.group(1), cols)}{_row(m.group(2), rows)}"


def _row(text: str, rows: int) -> str:
    if text.startswith("$"):
        return text
    row = int(text) + rows
    if row <= 0:
        raise Untranslatable("a reference moved above row 1")
    return str(row)


def _col(text: str, cols: int) -> str:
    if text.startswith("$"):
        return text
    n = 0
    for ch in text.upper():
        n = n * 26 + ord(ch) - 64
    n += cols
    if not 1 <= n <= _MAX_COLUMN:
        raise Untranslatable("a reference moved left of column A")
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
