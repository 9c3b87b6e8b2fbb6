"""The Guide sheet: how to use the workbook, its rules, colours, units and sheets.

Written into the template only; the reader does not read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formats import UNUSED_NOTE, Formats

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written
    from xlsxwriter.worksheet import Worksheet

#: The Guide's rows: (kind, text); kind is title, head, text, legend or blank.
GUIDE = (
    ("title", "xlmodel variants workbook"),
    ("", ""),
    (
        "text",
        "The inputs of a performance, power and scaling model of chiplet-based AI "
        "accelerators: design variants, targets, workloads, studies, coefficients.",
    ),
    ("", ""),
    ("head", "How to use it"),
    ("text", "1. Edit the input cells (blue on light yellow). Labels are black."),
    (
        "text",
        "2. Variants: one column per design variant. Rename a variant in the header "
        "row; add one by typing a name in the next free header cell and its values "
        "below.",
    ),
    ("text", "3. Check the inputs:  xlmodel validate FILE  (lists every problem)."),
    (
        "text",
        "4. Compute:  xlmodel compute FILE  adds the result sheets with charts to this "
        "workbook.",
    ),
    (
        "text",
        "Result sheets belong to xlmodel and are replaced on each run; everything else "
        "is kept. Add your own sheets, notes and charts freely.",
    ),
    ("", ""),
    ("head", "Rules"),
    (
        "text",
        "Column A holds each row's key (the parameter name). Rows are found by key, so "
        "rows may be moved or inserted; do not edit the keys.",
    ),
    (
        "text",
        "Sheets may be renamed: the defined names xlmodel_* follow them. Keep those "
        "names.",
    ),
    ("text", "A blank input takes the default value, reported as a warning."),
    (
        "text",
        "Type plain numbers in the unit of the row (2000, not 2000 MHz). No formulas "
        "needed; if you use one, save the file in Excel or LibreOffice before running.",
    ),
    (
        "text",
        "Any coefficient or target can be set per variant: add a row on Variants with "
        "its name in column A; that row wins for that variant.",
    ),
    ("", ""),
    ("head", "Colours"),
    ("legend", ""),
    ("", ""),
    ("head", "Units"),
    ("text", "GB/s = 1e9 bytes/s; TB/s = 1e12 bytes/s (decimal, not GiB)."),
    ("text", "TFLOPS = 1e12 FLOP/s; 1 tensor-core op = 1 FLOP; MHz = 1e6 cycles/s."),
    (
        "text",
        "FLOP/cycle/TC: operations per clock per tensor core; FLOP/byte: arithmetic "
        "intensity (FLOP per byte of HBM traffic).",
    ),
    ("text", "Areas in mm²; power in W; temperatures in °C."),
    ("", ""),
    ("head", "Sheets"),
    ("text", "Variants: SM, chiplet and SoC parameters of each variant."),
    (
        "text",
        "Targets: density target, power budget, Tj max, target precision, and the "
        "figure of merit that picks the recommended variant.",
    ),
    (
        "text",
        "Workloads: roofline workloads, their arithmetic intensity and share of run "
        "time (the Summary's workload-mix throughput).",
    ),
    (
        "text",
        "Models: transformer definitions (layers, heads, KV heads, FFN, experts) "
        "for LLM inference; add your own rows.",
    ),
    (
        "text",
        "Serving setup: inference scenarios (tokens in and out, batch, precisions, "
        "tensor parallel), the models served and the Summary's tokens/s figure of "
        "merit; clear the scenarios to skip it.",
    ),
    (
        "text",
        "Scaling setup: chiplet counts, HBM stacks per chiplet, power utilisations.",
    ),
    (
        "text",
        "Sensitivity setup: sweep base, sweeps, tornado percent and parameters.",
    ),
    (
        "text",
        "Exploration setup: parameter ranges, sampling, constraints and objectives "
        "of the design-space exploration (xlmodel explore FILE); a blank limit takes "
        "the Targets value; clear the ranges to skip it.",
    ),
    (
        "text",
        "Uncertainty setup: spreads (± % uniform or normal) of inputs; compute "
        "reports P10/P50/P90 and the probabilities of meeting the targets (blank "
        "limits: the Targets values); clear the spreads to skip it.",
    ),
    ("text", "Coefficients: power, die-to-die and thermal model coefficients."),
    (
        "text",
        "References: shipping chips the variants are compared with; add your own.",
    ),
    (
        "text",
        "Cost setup: wafer price, defect density and mask set per process node, "
        "with sources; a variant whose cells for them are blank takes its node's "
        "values. Add rows for your own nodes.",
    ),
)


def write(ws: Worksheet, fmt: Formats) -> None:
    """Fill the Guide sheet: how to use the workbook, rules, colours, units."""
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 105)
    legend = (
        ("2000", fmt.input_float, "input: type or change the value"),
        ("clock_mhz", fmt.key, "key or label: leave as it is"),
        ("SoC", fmt.group, "group heading"),
        ("pcie_lanes", fmt.unused_key, f"parameter {UNUSED_NOTE}"),
    )
    row = 0
    for kind, text in GUIDE:
        if kind == "title":
            ws.write_string(row, 0, text, fmt.title)
        elif kind == "head":
            ws.write_string(row, 0, text, fmt.bold)
        elif kind == "text":
            ws.write_string(row, 1, text)
        elif kind == "legend":
            for sample, style, meaning in legend:
                ws.write_string(row, 0, sample, style)
                ws.write_string(row, 1, meaning)
                row += 1
            continue
        row += 1
    ws.hide_gridlines(2)
