"""What the template's input sheets share when written: formats, labels, validation.

The cell formats (:class:`Formats`, created once per workbook), the title and
header rows of a sheet, an input cell's value, its data validation and input
message (from the schema's :class:`~xlmodel.schema.Parameter`), the description
beside a parameter and absolute range references for drop-down lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...schema import Parameter
from .layout import Block

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet


#: Suffix marking parameters that no metric uses.
UNUSED_NOTE = "(not used by any metric)"

#: Input cells: blue font on light yellow, the usual spreadsheet-model convention.
INPUT = {
    "font_color": "#0000FF",
    "bg_color": "#FFF2CC",
    "border": 1,
    "border_color": "#BFBFBF",
}


class Formats:
    """The template's cell formats, created once per workbook."""

    def __init__(self, wb: Workbook):
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.note_wrap = wb.add_format(
            {
                "italic": True,
                "font_color": "#595959",
                "text_wrap": True,
                "valign": "top",
            }
        )
        self.header = wb.add_format(
            {"bold": True, "bg_color": "#D9D9D9", "bottom": 1, "valign": "top"}
        )
        self.header_input = wb.add_format({**INPUT, "bold": True, "bottom": 2})
        self.group = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self.label = wb.add_format({})
        self.label_wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.key = wb.add_format({"font_name": "Consolas"})
        self.unused = wb.add_format({"italic": True, "font_color": "#808080"})
        self.unused_key = wb.add_format(
            {"italic": True, "font_color": "#808080", "font_name": "Consolas"}
        )
        self.input_int = wb.add_format({**INPUT, "num_format": "0"})
        self.input_float = wb.add_format({**INPUT, "num_format": "General"})
        self.input_text = wb.add_format({**INPUT, "num_format": "@"})
        self.bold = wb.add_format({"bold": True})

    def input(self, p: Parameter):
        """Input format for a parameter's kind."""
        if p.kind == "int":
            return self.input_int
        return self.input_float if p.numeric else self.input_text


def describe(p: Parameter) -> str:
    """The description shown beside a parameter, marking unused ones.

    Parameters
    ----------
    p : Parameter

    Returns
    -------
    str
    """
    if p.used or "no metric uses it" in p.description:
        return p.description
    return f"{p.description} {UNUSED_NOTE}"


def input_message(p: Parameter) -> str:
    """Help text of an input cell: description, unit, valid range, default.

    Parameters
    ----------
    p : Parameter

    Returns
    -------
    str
        At most 255 characters (Excel's limit for an input message).
    """
    lines = [p.description.rstrip(".") + "."]
    if p.numeric:
        what = "Whole number" if p.kind == "int" else "Number"
        unit = f" {p.unit}" if p.unit else ""
        lines.append(f"{what}{unit}, {p.minimum:g} to {p.maximum:g}.")
        if p.plausible:
            lines.append(f"Typical: {p.plausible[0]:g}-{p.plausible[1]:g}.")
    elif p.kind == "choice":
        lines.append("One of: " + ", ".join(p.choices) + ".")
    else:
        lines.append("Any text.")
    if not p.used:
        lines.append("Not used by any metric.")
    text = "\n".join(lines)
    return text if len(text) <= 255 else text[:254] + "…"


def write_title(ws: Worksheet, fmt: Formats, title: str, note: str) -> None:
    """The sheet's title (A1) and the note below it (A2)."""
    ws.write_string(0, 0, title, fmt.title)
    ws.write_string(1, 0, note, fmt.note)


def header(ws: Worksheet, fmt: Formats, block: Block) -> None:
    """The header labels of ``block`` from its anchor cell rightwards."""
    for i, label in enumerate(block.header):
        ws.write_string(block.row, block.col + i, label, fmt.header)


def validation(p: Parameter) -> dict:
    """xlsxwriter data validation options of an input cell of ``p``."""
    # Excel limits: title 32 characters, message 255 (input_message respects it).
    opts: dict = {"input_title": p.name[:32], "input_message": input_message(p)}
    if p.numeric:
        opts.update(
            validate="integer" if p.kind == "int" else "decimal",
            criteria="between",
            minimum=p.minimum,
            maximum=p.maximum,
            error_title="Out of range",
            error_message=f"{p.name}: {p.expectation}"[:255],
        )
    elif p.kind == "choice":
        opts.update(validate="list", source=list(p.choices))
    else:
        opts.update(validate="any")
    return opts


def pick(source: str, title: str, message: str) -> dict:
    """Validation of a cell that names something from the list ``source``."""
    return {
        "validate": "list",
        "source": source,
        "error_type": "warning",
        "input_title": title,
        "input_message": message,
    }


def write_value(ws: Worksheet, row: int, col: int, value, p: Parameter, fmt) -> None:
    """An input value of ``p``: a number or a text cell in its input format."""
    if p.numeric:
        ws.write_number(row, col, value, fmt.input(p))
    else:
        ws.write_string(row, col, str(value), fmt.input(p))


def ref(sheet: str, r0: int, c0: int, r1: int, c1: int | None = None) -> str:
    """Absolute reference of a range, ``'Sheet'!$A$4:$A$80``."""
    c1 = c0 if c1 is None else c1
    from xlsxwriter.utility import xl_range_abs

    return f"'{sheet}'!{xl_range_abs(r0, c0, r1, c1)}"
