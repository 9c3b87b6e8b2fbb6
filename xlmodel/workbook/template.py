"""Write the input template workbook (Guide, Variants, Targets, ...) from the schema.

The orchestrator of the input side's writing: it creates the workbook, its
sheets in order (:data:`SHEETS`) and properties, calls each sheet module of
:mod:`xlmodel.workbook.inputs` and defines the names of every block
(:data:`BLOCKS`). Every row, unit, input message and validation range comes from
:mod:`xlmodel.schema`; the sheet modules lay them out and
:mod:`xlmodel.workbook.reader` reads them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..schema import SEED_VARIANTS
from .inputs import (
    coefficients,
    cost_setup,
    exploration_setup,
    guide,
    models,
    references,
    scaling_setup,
    sensitivity_setup,
    serving_setup,
    targets,
    uncertainty_setup,
    workloads,
)
from .inputs import variants as variants_sheet
from .inputs.formats import Formats, describe, input_message
from .inputs.layout import Block
from .inputs.variants import variant_rows

__all__ = [
    "BLOCKS",
    "CREATED",
    "SHEETS",
    "describe",
    "fill_workbook",
    "input_message",
    "main",
    "value_rows",
    "variant_rows",
    "write_template",
]

#: Every input table by its key, in the order the template defines their names.
BLOCKS: dict[str, Block] = {
    b.key: b
    for b in (
        variants_sheet.BLOCK,
        targets.BLOCK,
        workloads.BLOCK,
        models.BLOCK,
        *serving_setup.BLOCKS,
        scaling_setup.BLOCK,
        *sensitivity_setup.BLOCKS,
        *exploration_setup.BLOCKS,
        *uncertainty_setup.BLOCKS,
        coefficients.BLOCK,
        references.BLOCK,
        cost_setup.BLOCK,
    )
}

#: Sheets of the template, in order.
SHEETS: tuple[str, ...] = (
    "Guide",
    "Variants",
    "Targets",
    "Workloads",
    "Models",
    "Serving setup",
    "Scaling setup",
    "Sensitivity setup",
    "Exploration setup",
    "Uncertainty setup",
    "Coefficients",
    "References",
    "Cost setup",
)

#: Fixed document creation time so that two runs give identical bytes.
CREATED = dt.datetime(2025, 1, 1, 0, 0, 0)

_VALUE_ROWS = {
    "target": targets.rows,
    "coefficient": coefficients.rows,
    "scaling": scaling_setup.rows,
    "sensitivity": sensitivity_setup.rows,
}


def value_rows(section: str) -> dict[str, int]:
    """Zero-based row of every parameter of ``section`` on its template sheet.

    Parameters
    ----------
    section : str
        ``"target"``, ``"coefficient"``, ``"scaling"`` or ``"sensitivity"``.

    Returns
    -------
    dict of str to int
        Parameter name -> row index; the value sits in column B (Targets,
        Coefficients, Sensitivity) or from column D rightwards (Scaling).
    """
    return _VALUE_ROWS[section]()


def write_template(path: str | Path) -> None:
    """Write the input template with the seed's five variants to ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination ``.xlsx`` file; overwritten. Two calls write identical bytes.
    """
    wb = xlsxwriter.Workbook(str(path))
    wb.worksheet_class = _Unselected  # the writer's hook for its sheets' class
    try:
        fill_workbook(wb)
    finally:
        wb.close()


class _Unselected(Worksheet):
    """A sheet whose view is never marked selected (``tabSelected``).

    The writer selects the first sheet; the template selects none, and opens
    on its Guide as the active tab all the same. So a compute of a workbook
    nobody has saved since can open it on the Summary without changing a
    byte of the user's sheets (a selected one would be grouped with it).
    """

    selected = property(lambda self: 0, lambda self, value: None)


def fill_workbook(
    wb: Workbook, variants: Mapping[str, Mapping[str, object]] | None = None
) -> dict[str, Worksheet]:
    """Add the template's sheets, names and properties to an open xlsxwriter workbook.

    Parameters
    ----------
    wb : xlsxwriter.Workbook
        A new, empty workbook.
    variants : mapping of str to mapping, optional
        Variant name -> parameter overrides (others at their defaults); the seed's
        five variants by default.

    Returns
    -------
    dict of str to xlsxwriter.worksheet.Worksheet
        The sheets by title, for callers that add or overwrite cells before closing.
    """
    chosen = SEED_VARIANTS if variants is None else variants
    fmt = Formats(wb)
    wb.set_properties(
        {
            "title": "xlmodel variants",
            "subject": "Inputs of a chiplet accelerator architecture model",
            "comments": "Edit the input cells; run xlmodel validate, xlmodel compute.",
            "created": CREATED,
        }
    )
    sheets = {name: wb.add_worksheet(name) for name in SHEETS}
    for ws in sheets.values():  # a printout or PDF is one page wide
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
    guide.write(sheets["Guide"], fmt)
    variants_sheet.write(sheets["Variants"], fmt, chosen)
    targets.write(sheets["Targets"], fmt)
    workloads.write(sheets["Workloads"], fmt)
    models.write(sheets["Models"], fmt)
    serving_setup.write(sheets["Serving setup"], fmt)
    scaling_setup.write(sheets["Scaling setup"], fmt)
    sensitivity_setup.write(sheets["Sensitivity setup"], fmt, chosen)
    exploration_setup.write(sheets["Exploration setup"], fmt, chosen)
    uncertainty_setup.write(sheets["Uncertainty setup"], fmt)
    coefficients.write(sheets["Coefficients"], fmt)
    references.write(sheets["References"], fmt)
    cost_setup.write(sheets["Cost setup"], fmt)
    for block in BLOCKS.values():
        wb.define_name(block.defined_name, "=" + block.anchor)
    return sheets


def main(argv: list[str] | None = None) -> int:
    """Write the template to the path given as the only argument.

    Regenerates the committed ``templates/variants.xlsx`` after a schema change:
    ``python -m xlmodel.workbook.template templates/variants.xlsx``.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m xlmodel.workbook.template PATH", file=sys.stderr)
        return 2
    write_template(args[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
