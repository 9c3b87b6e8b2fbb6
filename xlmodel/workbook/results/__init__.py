"""The result sheets: one module per sheet, and the small modules they share.

A sheet module (summary, performance, power, roofline, inference,
inference_charts, scaling,
sensitivity, global_sensitivity, exploration, uncertainty, reality_check, run) owns that
sheet's layout and charts and exposes ``SHEET``, a :class:`.sheet.ResultSheet`
(name, writer, whether the results call for it). Shared: :mod:`.formats` (number
formats and colours), :mod:`.context` (what every sheet of one run shares: the
variants to chart, their colours and labels, the cell-format cache),
:mod:`.sheet` (the worksheet writer: tables, notes, charts, page setup) and
:mod:`.geometry` (chart sizes and axis bounds). The orchestrator is
:mod:`xlmodel.workbook.report`; no module here imports it.
"""
