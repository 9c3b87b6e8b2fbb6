"""The input sheets of the workbook, one module per sheet.

Each sheet module (guide, variants, targets, workloads, models, serving_setup,
scaling_setup, sensitivity_setup, exploration_setup, uncertainty_setup,
coefficients, references)
owns its layout (blocks, defined names, rows), its template writer (xlsxwriter)
and its reader (working on :class:`xlmodel.workbook.grid.Grid`). Shared pieces:
:mod:`.layout` (the Block type, row helpers), :mod:`.formats` (template cell
formats and validation), :mod:`.context` (problems, warnings, reading a cell),
:mod:`.setup` (tables shared by the setup sheets) and :mod:`.value_table` (the
layout Targets and Coefficients share). :mod:`xlmodel.workbook.template` and
:mod:`xlmodel.workbook.reader` call the sheets in order.
"""
