"""Write the input template workbook (Guide, Variants, Targets, ...) from the schema.

Every row, unit, input message and validation range comes from
:mod:`xlmodel.schema`; this module only lays them out. The layout (sheet names,
anchor cells, header labels and the study settings that are not model parameters)
is defined here once and read back by :mod:`xlmodel.workbook.reader`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_range_abs, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..schema import (
    BY_NAME,
    COEFFICIENTS,
    DEFAULTS,
    SEED_HBM_STACKS_PER_CHIPLET,
    SEED_SCALING_COUNTS,
    SEED_SWEEPS,
    SEED_TORNADO_PERCENT,
    SEED_UTILIZATIONS,
    SEED_VARIANTS,
    SEED_WORKLOADS,
    TARGETS,
    VARIANT_PARAMETERS,
    Parameter,
)
from ..studies.reference import REFERENCE_COLUMNS, load_chips
from ..studies.sensitivity import DEFAULT_PARAMETERS

# --- layout ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One input table: where its header row starts and what the header says.

    Attributes
    ----------
    key : str
        Short name used in code (``"variants"``).
    defined_name : str
        Workbook-level defined name pointing at the header anchor cell; Excel and
        LibreOffice rewrite it when the sheet is renamed or rows are inserted.
    sheet : str
        Sheet title in the template (fallback when the defined name is missing).
    row, col : int
        Zero-based position of the anchor cell (first header cell).
    header : tuple of str
        Header labels from the anchor cell rightwards; the first is the anchor label.
    """

    key: str
    defined_name: str
    sheet: str
    row: int
    col: int
    header: tuple[str, ...]

    @property
    def anchor(self) -> str:
        """The anchor as an absolute reference, e.g. ``'Variants'!$A$3``."""
        cell = xl_rowcol_to_cell(self.row, self.col, row_abs=True, col_abs=True)
        return f"'{self.sheet}'!{cell}"


BLOCKS: dict[str, Block] = {
    b.key: b
    for b in (
        Block(
            "variants",
            "xlmodel_variants",
            "Variants",
            2,
            0,
            ("parameter", "unit", "description"),
        ),
        Block(
            "targets",
            "xlmodel_targets",
            "Targets",
            2,
            0,
            ("target", "value", "unit", "description"),
        ),
        Block(
            "workloads",
            "xlmodel_workloads",
            "Workloads",
            2,
            0,
            ("workload", "arithmetic intensity", "unit"),
        ),
        Block(
            "scaling",
            "xlmodel_scaling",
            "Scaling setup",
            2,
            0,
            ("setting", "unit", "description", "values"),
        ),
        Block(
            "sensitivity",
            "xlmodel_sensitivity",
            "Sensitivity setup",
            2,
            0,
            ("setting", "value", "unit", "description"),
        ),
        Block(
            "sweeps",
            "xlmodel_sweeps",
            "Sensitivity setup",
            2,
            5,
            ("sweep parameter", "start", "stop", "step", "unit"),
        ),
        Block(
            "tornado",
            "xlmodel_tornado",
            "Sensitivity setup",
            2,
            11,
            ("tornado parameter", "unit"),
        ),
        Block(
            "exploration",
            "xlmodel_exploration",
            "Exploration setup",
            2,
            0,
            ("exploration setting", "value", "unit", "description"),
        ),
        Block(
            "ranges",
            "xlmodel_ranges",
            "Exploration setup",
            2,
            5,
            ("range parameter", "low", "high", "grid points", "unit"),
        ),
        Block(
            "constraints",
            "xlmodel_constraints",
            "Exploration setup",
            2,
            11,
            ("constraint", "operator", "limit", "unit"),
        ),
        Block(
            "objectives",
            "xlmodel_objectives",
            "Exploration setup",
            2,
            16,
            ("objective", "sense", "unit"),
        ),
        Block(
            "uncertainty",
            "xlmodel_uncertainty",
            "Uncertainty setup",
            2,
            0,
            ("uncertainty setting", "value", "unit", "description"),
        ),
        Block(
            "spreads",
            "xlmodel_spreads",
            "Uncertainty setup",
            2,
            5,
            ("uncertain parameter", "distribution", "spread %", "unit"),
        ),
        Block(
            "coefficients",
            "xlmodel_coefficients",
            "Coefficients",
            2,
            0,
            ("coefficient", "value", "unit", "description"),
        ),
        Block(
            "references",
            "xlmodel_references",
            "References",
            2,
            0,
            tuple(c[0] for c in REFERENCE_COLUMNS),
        ),
    )
}

#: Sheets of the template, in order.
SHEETS: tuple[str, ...] = (
    "Guide",
    "Variants",
    "Targets",
    "Workloads",
    "Scaling setup",
    "Sensitivity setup",
    "Exploration setup",
    "Uncertainty setup",
    "Coefficients",
    "References",
)

#: Columns of Variants before the first variant column: parameter, unit, description.
VARIANT_LABEL_COLUMNS = 3

#: Cells beyond the preloaded ones that carry data validation (and so input
#: messages), so that added variants, workloads or sweeps get them too.
VALIDATED_VARIANT_COLUMNS = 50
SPARE_ROWS = 40
SPARE_VALUE_COLUMNS = 20

#: Suffix marking parameters that no metric uses.
UNUSED_NOTE = "(not used by any metric)"

# Study settings that are not model parameters: described with the same Parameter
# type so the reader checks them the same way. Their ranges derive from the schema.
_CHIPLETS = BY_NAME["num_chiplets"]
_STACKS = BY_NAME["hbm_stacks"]
SCALING_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "chiplet_counts",
        "scaling",
        "Scaling",
        "chiplets",
        0,
        _CHIPLETS.minimum,
        _CHIPLETS.maximum,
        "Chiplet counts of the scaling study, one per cell left to right",
        kind="int",
    ),
    Parameter(
        "hbm_stacks_per_chiplet",
        "scaling",
        "Scaling",
        "stacks/chiplet",
        SEED_HBM_STACKS_PER_CHIPLET,
        0,
        _STACKS.maximum,
        "HBM stacks per chiplet in the scaling study (stacks = count x this)",
    ),
    Parameter(
        "utilizations",
        "scaling",
        "Scaling",
        "fraction",
        0,
        0,
        1,
        "Utilisations of the power table, 0 excluded to 1, one per cell",
    ),
)
SCALING_DEFAULTS: dict[str, tuple[float, ...]] = {
    "chiplet_counts": SEED_SCALING_COUNTS,
    "hbm_stacks_per_chiplet": (SEED_HBM_STACKS_PER_CHIPLET,),
    "utilizations": SEED_UTILIZATIONS,
}
SENSITIVITY_SETTINGS: tuple[Parameter, ...] = (
    Parameter(
        "sweep_base",
        "sensitivity",
        "Sensitivity",
        "text",
        "Baseline",
        0,
        0,
        "Variant (a name on Variants) the sweeps and the tornado run around",
        kind="text",
    ),
    Parameter(
        "tornado_percent",
        "sensitivity",
        "Sensitivity",
        "%",
        SEED_TORNADO_PERCENT,
        0,
        100,
        "Tornado swing: each parameter moves by -/+ this percent, 0 and 100 excluded",
    ),
)
WORKLOAD_INTENSITY = Parameter(
    "arithmetic_intensity",
    "workload",
    "Workloads",
    "FLOP/byte",
    1,
    0,
    1e9,
    "Arithmetic intensity of the workload: FLOP per byte of HBM traffic, above 0",
)


def variant_groups() -> Iterator[tuple[str, tuple[Parameter, ...]]]:
    """Groups of the Variants sheet in schema order: (heading, parameters).

    Yields
    ------
    (str, tuple of Parameter)
        The group heading and its variant parameters.
    """
    yield from _groups(VARIANT_PARAMETERS)


def variant_rows() -> dict[str, int]:
    """Zero-based row of every variant parameter on the template's Variants sheet.

    Returns
    -------
    dict of str to int
        Parameter name -> row index (the reader does not rely on it; tests do).
    """
    return dict(_table_rows(VARIANT_PARAMETERS, BLOCKS["variants"].row + 1))


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
    params, block = _SECTION_TABLES[section]
    if section in ("target", "coefficient"):
        return dict(_table_rows(params, BLOCKS[block].row + 1))
    return {p.name: BLOCKS[block].row + 1 + i for i, p in enumerate(params)}


_SECTION_TABLES = {
    "target": (TARGETS, "targets"),
    "coefficient": (COEFFICIENTS, "coefficients"),
    "scaling": (SCALING_SETTINGS, "scaling"),
    "sensitivity": (SENSITIVITY_SETTINGS, "sensitivity"),
}


def _groups(params) -> Iterator[tuple[str, tuple[Parameter, ...]]]:
    order: dict[str, list[Parameter]] = {}
    for p in params:
        order.setdefault(p.group, []).append(p)
    for group, members in order.items():
        yield group, tuple(members)


def _table_rows(params, first_row: int) -> Iterator[tuple[str, int]]:
    # One heading row per group, then one row per parameter.
    row = first_row
    for _, members in _groups(params):
        row += 1
        for p in members:
            yield p.name, row
            row += 1


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


# --- writing -------------------------------------------------------------------------

#: Fixed document creation time so that two runs give identical bytes.
CREATED = dt.datetime(2025, 1, 1, 0, 0, 0)

#: Input cells: blue font on light yellow, the usual spreadsheet-model convention.
_INPUT = {
    "font_color": "#0000FF",
    "bg_color": "#FFF2CC",
    "border": 1,
    "border_color": "#BFBFBF",
}


class _Formats:
    """The template's cell formats, created once per workbook."""

    def __init__(self, wb: Workbook):
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.header = wb.add_format(
            {"bold": True, "bg_color": "#D9D9D9", "bottom": 1, "valign": "top"}
        )
        self.header_input = wb.add_format({**_INPUT, "bold": True, "bottom": 2})
        self.group = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self.label = wb.add_format({})
        self.key = wb.add_format({"font_name": "Consolas"})
        self.unused = wb.add_format({"italic": True, "font_color": "#808080"})
        self.unused_key = wb.add_format(
            {"italic": True, "font_color": "#808080", "font_name": "Consolas"}
        )
        self.input_int = wb.add_format({**_INPUT, "num_format": "0"})
        self.input_float = wb.add_format({**_INPUT, "num_format": "General"})
        self.input_text = wb.add_format({**_INPUT, "num_format": "@"})
        self.bold = wb.add_format({"bold": True})

    def input(self, p: Parameter):
        """Input format for a parameter's kind."""
        if p.kind == "int":
            return self.input_int
        return self.input_float if p.numeric else self.input_text


def write_template(path: str | Path) -> None:
    """Write the input template with the seed's five variants to ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination ``.xlsx`` file; overwritten. Two calls write identical bytes.
    """
    wb = xlsxwriter.Workbook(str(path))
    try:
        fill_workbook(wb)
    finally:
        wb.close()


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
    variants = SEED_VARIANTS if variants is None else variants
    fmt = _Formats(wb)
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
    _guide(sheets["Guide"], fmt)
    _variants(sheets["Variants"], fmt, variants)
    _values(sheets["Targets"], fmt, BLOCKS["targets"], TARGETS, _TARGETS_NOTE)
    _workloads(sheets["Workloads"], fmt)
    _scaling(sheets["Scaling setup"], fmt)
    _sensitivity(sheets["Sensitivity setup"], fmt, variants)
    from . import template_explore

    template_explore.write_exploration(sheets["Exploration setup"], fmt, variants)
    template_explore.write_uncertainty(sheets["Uncertainty setup"], fmt)
    _values(
        sheets["Coefficients"],
        fmt,
        BLOCKS["coefficients"],
        COEFFICIENTS,
        _COEFFICIENTS_NOTE,
    )
    _references(sheets["References"], fmt)
    for block in BLOCKS.values():
        wb.define_name(block.defined_name, "=" + block.anchor)
    return sheets


_GUIDE = (
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
    ("text", "Targets: density target, power budget, Tj max, target precision."),
    ("text", "Workloads: roofline workloads and their arithmetic intensity."),
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
        "of the design-space exploration (xlmodel explore FILE); clear the ranges "
        "to skip it.",
    ),
    (
        "text",
        "Uncertainty setup: spreads (± % uniform or normal) of inputs; compute "
        "reports P10/P50/P90 and target probabilities; clear the spreads to skip it.",
    ),
    ("text", "Coefficients: power, die-to-die and thermal model coefficients."),
    (
        "text",
        "References: shipping chips the variants are compared with; add your own.",
    ),
)


def _guide(ws: Worksheet, fmt: _Formats) -> None:
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 105)
    legend = (
        ("2000", fmt.input_float, "input: type or change the value"),
        ("clock_mhz", fmt.key, "key or label: leave as it is"),
        ("SoC", fmt.group, "group heading"),
        ("pcie_lanes", fmt.unused_key, f"parameter {UNUSED_NOTE}"),
    )
    row = 0
    for kind, text in _GUIDE:
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


def _write_title(ws: Worksheet, fmt: _Formats, title: str, note: str) -> None:
    ws.write_string(0, 0, title, fmt.title)
    ws.write_string(1, 0, note, fmt.note)


def _header(ws: Worksheet, fmt: _Formats, block: Block) -> None:
    for i, label in enumerate(block.header):
        ws.write_string(block.row, block.col + i, label, fmt.header)


def _validation(p: Parameter) -> dict:
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


def _variants(ws: Worksheet, fmt: _Formats, variants: Mapping) -> None:
    block = BLOCKS["variants"]
    first = block.col + VARIANT_LABEL_COLUMNS
    last = first + max(len(variants), VALIDATED_VARIANT_COLUMNS) - 1
    _write_title(
        ws,
        fmt,
        "Variants: one column per design variant",
        "Edit the blue cells. Add a variant: type its name in the next free cell of "
        "row 3 and fill its column. Column A is the key xlmodel reads.",
    )
    _header(ws, fmt, block)
    names_dv = {
        "validate": "length",
        "criteria": "between",
        "minimum": 1,
        "maximum": 100,
        "input_title": "Variant name",
        "input_message": "A unique name for this variant (its column below holds "
        "its parameters). Add a variant by typing a name in the next free cell.",
    }
    for j, name in enumerate(variants):
        ws.write_string(block.row, first + j, str(name), fmt.header_input)
    ws.data_validation(block.row, first, block.row, last, names_dv)
    rows = variant_rows()
    for group, members in variant_groups():
        heading = rows[members[0].name] - 1
        ws.write_string(heading, block.col, group, fmt.group)
        for c in range(block.col + 1, block.col + VARIANT_LABEL_COLUMNS):
            ws.write_blank(heading, c, None, fmt.group)
        for p in members:
            r = rows[p.name]
            ws.write_string(
                r, block.col, p.name, fmt.unused_key if not p.used else fmt.key
            )
            label = fmt.label if p.used else fmt.unused
            ws.write_string(r, block.col + 1, p.unit, label)
            ws.write_string(r, block.col + 2, describe(p), label)
            for j, values in enumerate(variants.values()):
                _write_value(ws, r, first + j, values.get(p.name, p.default), p, fmt)
            ws.data_validation(r, first, r, last, _validation(p))
    ws.set_column(block.col, block.col, 32)
    ws.set_column(block.col + 1, block.col + 1, 14)
    ws.set_column(block.col + 2, block.col + 2, 50)
    ws.set_column(first, last, 20)
    ws.freeze_panes(block.row + 1, first)


def _write_value(ws: Worksheet, row: int, col: int, value, p: Parameter, fmt) -> None:
    if p.numeric:
        ws.write_number(row, col, value, fmt.input(p))
    else:
        ws.write_string(row, col, str(value), fmt.input(p))


_TARGETS_NOTE = (
    "Design targets every variant is judged against. A target can also be set per "
    "variant by adding its name as a row on Variants."
)
_COEFFICIENTS_NOTE = (
    "Model coefficients for every variant. Any coefficient may also be given per "
    "variant by adding its name as a row on Variants (that row wins for that variant)."
)


def _values(ws: Worksheet, fmt: _Formats, block: Block, params, note: str) -> None:
    _write_title(ws, fmt, block.sheet, note)
    _header(ws, fmt, block)
    rows = dict(_table_rows(params, block.row + 1))
    c = block.col
    for group, members in _groups(params):
        ws.write_string(rows[members[0].name] - 1, c, group, fmt.group)
        for k in range(1, len(block.header)):
            ws.write_blank(rows[members[0].name] - 1, c + k, None, fmt.group)
        for p in members:
            r = rows[p.name]
            ws.write_string(r, c, p.name, fmt.key if p.used else fmt.unused_key)
            _write_value(ws, r, c + 1, DEFAULTS[p.name], p, fmt)
            ws.data_validation(r, c + 1, r, c + 1, _validation(p))
            ws.write_string(r, c + 2, p.unit)
            ws.write_string(r, c + 3, describe(p))
    ws.set_column(c, c, 34)
    ws.set_column(c + 1, c + 1, 14)
    ws.set_column(c + 2, c + 2, 16)
    ws.set_column(c + 3, c + 3, 90)
    ws.freeze_panes(block.row + 1, c + 1)


def _references(ws: Worksheet, fmt: _Formats) -> None:
    block = BLOCKS["references"]
    _write_title(
        ws,
        fmt,
        "Reference silicon",
        "Public specifications of shipping accelerators (dense peaks, no sparsity; "
        "an FMA counts as two FLOPs). Add rows for your own chips (a competitor, "
        "last generation); leave unpublished values blank.",
    )
    _header(ws, fmt, block)
    chips = load_chips().reset_index()
    r0, c0 = block.row + 1, block.col
    last = r0 + len(chips) + SPARE_ROWS - 1
    for j, (name, kind, required, text) in enumerate(REFERENCE_COLUMNS):
        c = c0 + j
        for i, v in enumerate(chips[name]):
            if kind == "text":
                if isinstance(v, str) and v:
                    ws.write_string(r0 + i, c, v, fmt.input_text)
                else:
                    ws.write_blank(r0 + i, c, None, fmt.input_text)
            elif v == v:  # not NaN
                ws.write_number(r0 + i, c, float(v), fmt.input_float)
            else:
                ws.write_blank(r0 + i, c, None, fmt.input_float)
        title = name[:32]
        message = (text + (" (required)" if required else " (optional)"))[:255]
        if kind == "text":
            opts = {
                "validate": "length",
                "criteria": "between",
                "minimum": 0,
                "maximum": 255,
            }
        else:
            opts = {
                "validate": "integer" if kind == "count" else "decimal",
                "criteria": "greater than",
                "value": 0,
            }
        opts.update(input_title=title, input_message=message)
        ws.data_validation(r0, c, last, c, opts)
        width = 40 if name == "notes" else 22 if kind == "text" else 12
        ws.set_column(c, c, width)
    ws.freeze_panes(block.row + 1, 1)


def _workloads(ws: Worksheet, fmt: _Formats) -> None:
    block = BLOCKS["workloads"]
    _write_title(
        ws,
        fmt,
        "Workloads",
        "Roofline workloads: name and arithmetic intensity (FLOP per byte of HBM "
        "traffic). Add rows below; delete a row to drop a workload.",
    )
    _header(ws, fmt, block)
    r0, c = block.row + 1, block.col
    for i, (name, ai) in enumerate(SEED_WORKLOADS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_number(r0 + i, c + 1, ai, fmt.input_float)
        ws.write_string(r0 + i, c + 2, WORKLOAD_INTENSITY.unit)
    last = r0 + len(SEED_WORKLOADS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        {
            "validate": "length",
            "criteria": "between",
            "minimum": 1,
            "maximum": 255,
            "input_title": "Workload name",
            "input_message": "A unique workload name; its intensity goes to the right.",
        },
    )
    opts = _validation(WORKLOAD_INTENSITY)
    opts.update(criteria="greater than", value=0)
    del opts["minimum"], opts["maximum"]
    ws.data_validation(r0, c + 1, last, c + 1, opts)
    ws.set_column(c, c, 28)
    ws.set_column(c + 1, c + 1, 20)
    ws.set_column(c + 2, c + 2, 12)
    ws.freeze_panes(block.row + 1, 0)


def _scaling(ws: Worksheet, fmt: _Formats) -> None:
    block = BLOCKS["scaling"]
    _write_title(
        ws,
        fmt,
        "Scaling study and power table",
        "One value per cell from column D rightwards; add cells to the right for "
        "more chiplet counts or utilisations.",
    )
    _header(ws, fmt, block)
    rows = value_rows("scaling")
    c = block.col
    first = c + 3
    for p in SCALING_SETTINGS:
        r = rows[p.name]
        ws.write_string(r, c, p.name, fmt.key)
        ws.write_string(r, c + 1, p.unit)
        ws.write_string(r, c + 2, p.description)
        values = SCALING_DEFAULTS[p.name]
        for j, v in enumerate(values):
            ws.write_number(r, first + j, v, fmt.input(p))
        last = first if len(values) == 1 else first + SPARE_VALUE_COLUMNS - 1
        ws.data_validation(r, first, r, last, _validation(p))
    ws.set_column(c, c, 26)
    ws.set_column(c + 1, c + 1, 14)
    ws.set_column(c + 2, c + 2, 64)
    ws.set_column(first, first + SPARE_VALUE_COLUMNS - 1, 9)
    ws.freeze_panes(block.row + 1, first)


def _sensitivity(ws: Worksheet, fmt: _Formats, variants: Mapping) -> None:
    settings, sweeps, tornado = (
        BLOCKS["sensitivity"],
        BLOCKS["sweeps"],
        BLOCKS["tornado"],
    )
    _write_title(
        ws,
        fmt,
        "Sensitivity studies",
        "Sweeps: one parameter at a time from start to stop (inclusive) around the "
        "base variant. Tornado: each listed parameter moved by -/+ the percent.",
    )
    for block in (settings, sweeps, tornado):
        _header(ws, fmt, block)
    # Lists offered in drop-downs: the keys and the variant names on Variants.
    var = BLOCKS["variants"]
    rows = variant_rows()
    keys = "=" + _ref(var.sheet, min(rows.values()), var.col, max(rows.values()))
    first = var.col + VARIANT_LABEL_COLUMNS
    names = "=" + _ref(
        var.sheet, var.row, first, var.row, first + VALIDATED_VARIANT_COLUMNS - 1
    )

    c, values = settings.col, value_rows("sensitivity")
    for p in SENSITIVITY_SETTINGS:
        r = values[p.name]
        ws.write_string(r, c, p.name, fmt.key)
        ws.write_string(r, c + 2, p.unit)
        ws.write_string(r, c + 3, p.description)
        value = p.default
        if p.name == "sweep_base" and value not in variants:
            value = next(iter(variants), value)
        _write_value(ws, r, c + 1, value, p, fmt)
        opts = _validation(p)
        if p.name == "sweep_base":
            opts.update(validate="list", source=names, error_type="warning")
        ws.data_validation(r, c + 1, r, c + 1, opts)

    c, r0 = sweeps.col, sweeps.row + 1
    for i, (name, (start, stop, step)) in enumerate(SEED_SWEEPS.items()):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        for k, v in enumerate((start, stop, step)):
            ws.write_number(r0 + i, c + 1 + k, v, fmt.input_float)
        ws.write_string(r0 + i, c + 4, BY_NAME[name].unit)
    last = r0 + len(SEED_SWEEPS) + SPARE_ROWS - 1
    param_dv = {
        "validate": "list",
        "source": keys,
        "error_type": "warning",
        "input_title": "Sweep parameter",
        "input_message": "A numeric parameter name (a key in column A of Variants, "
        "or a coefficient). Its start, stop and step go to the right.",
    }
    ws.data_validation(r0, c, last, c, param_dv)
    for k, (label, msg) in enumerate(
        (
            ("Sweep start", "First value, in the parameter's unit."),
            ("Sweep stop", "Last value (inclusive), at least start."),
            ("Sweep step", "Step between values, above 0."),
        )
    ):
        opts = {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "input_title": label,
            "input_message": msg + " The range must lie inside the parameter's "
            "valid range; at most 10000 points.",
        }
        if k == 2:
            opts.update(criteria="greater than", value=0)
            del opts["minimum"], opts["maximum"]
        ws.data_validation(r0, c + 1 + k, last, c + 1 + k, opts)

    c, r0 = tornado.col, tornado.row + 1
    for i, name in enumerate(DEFAULT_PARAMETERS):
        ws.write_string(r0 + i, c, name, fmt.input_text)
        ws.write_string(r0 + i, c + 1, BY_NAME[name].unit)
    last = r0 + len(DEFAULT_PARAMETERS) + SPARE_ROWS - 1
    ws.data_validation(
        r0,
        c,
        last,
        c,
        {
            **param_dv,
            "input_title": "Tornado parameter",
            "input_message": "A numeric parameter of the elasticity and tornado "
            "tables (a key in column A of Variants, or a coefficient).",
        },
    )
    widths = ((0, 18), (1, 16), (2, 8), (3, 60), (4, 3), (5, 30), (6, 9), (7, 9))
    for col, width in (*widths, (8, 9), (9, 14), (10, 3), (11, 30), (12, 14)):
        ws.set_column(col, col, width)
    ws.freeze_panes(settings.row + 1, 0)


def _ref(sheet: str, r0: int, c0: int, r1: int, c1: int | None = None) -> str:
    c1 = c0 if c1 is None else c1
    return f"'{sheet}'!{xl_range_abs(r0, c0, r1, c1)}"


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
