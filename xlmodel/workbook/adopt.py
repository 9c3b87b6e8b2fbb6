"""Copy an explored design into the Variants sheet as a new column, losslessly.

The user's workbook is never re-saved by a spreadsheet library. Adopting a design
edits one part of the package, the Variants worksheet XML: a cell is added to the
header row (the name) and to every parameter row (the design's value for explored
parameters, the base variant's value for the rest), in a column after the table,
each styled like the same row's last variant cell. The sheet's ``<dimension>`` and
the rows' ``spans`` hints are widened to cover the new column. Strings are inline,
so the shared-strings part is untouched; every other part keeps its bytes. The
file is written by the package layer's atomic write (a temporary file beside the
target, renamed over it).
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from ..errors import PackageError, XlmodelError
from ..schema import BY_NAME
from .grid import column_letter, column_number
from .package import check_replaceable
from .package.write import Merged, write_atomically
from .reader import check_not_open, read_for_adopt

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = _NS_REL + "/officeDocument"

_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""


@dataclass(frozen=True)
class Adopted:
    """Where a design went: the variant name, its sheet and column letter."""

    name: str
    sheet: str
    column: str
    design: int
    base_variant: str
    warnings: tuple[str, ...] = ()


def adopt_design(path, design: int, name: str | None = None, out=None) -> Adopted:
    """Add design ``design`` of the last exploration to Variants as a new column.

    Parameters
    ----------
    path : path-like
        The workbook, with an Exploration result sheet from ``xlmodel explore``.
    design : int
        Design number (column "Design" of the designs table).
    name : str, optional
        Name of the new variant; default ``"Design <n>"``.
    out : path-like, optional
        Where to write; default: ``path`` itself.

    Returns
    -------
    Adopted

    Raises
    ------
    XlmodelError
        No such design, a name already taken, or inputs with problems.
    PackageError
        The workbook cannot be read or written.
    """
    path = Path(path)
    out = Path(out) if out is not None else path
    check_not_open(path)
    if out != path and out.exists():
        check_not_open(out)
    check_replaceable(path, out)
    study, designs, layout, record = read_for_adopt(path)
    if design not in designs.table.index:
        numbers = designs.table.index
        raise XlmodelError(
            f"{path}: no design {design} in the last exploration (designs "
            f"{numbers.min()}-{numbers.max()} on sheet {designs.sheet!r})"
        )
    base = designs.base_variant
    if base not in study.variants.index:
        raise XlmodelError(
            f"{path}: the exploration ran around variant {base!r}, which is no "
            "longer on Variants: run 'xlmodel explore' again"
        )
    name = f"Design {design}" if name is None else name.strip()
    taken = {n.casefold() for n in study.variants.index}
    why = (
        "empty"
        if not name
        else "already a variant"
        if name.casefold() in taken
        else f"{len(name)} characters long, above 100"
        if len(name) > 100
        else ""
    )
    if why:
        raise XlmodelError(
            f"{path}: {name!r} is {why}: choose another name with --name"
        )
    row = designs.table.loc[design]
    values: dict[int, object] = {}
    for param, r in layout.rows.items():
        if param in designs.parameters:
            values[r] = float(row[param])
        else:
            values[r] = study.variants.loc[base, param]
        p = BY_NAME[param]
        if p.kind == "int":
            values[r] = int(round(float(values[r])))
    column = layout.next_column
    style_column = max(layout.columns.values()) if layout.columns else None
    cells = {layout.header_row: name, **values}
    warnings = _edited_since(path, study, record, design, base)
    _rewrite_sheet(path, out, layout.sheet, column, style_column, cells)
    return Adopted(name, layout.sheet, _letters(column), design, base, warnings)


def _edited_since(path, study, record, design: int, base: str) -> tuple[str, ...]:
    """A warning when inputs changed since the compute that wrote the
    exploration (its snapshot on the state sheet): the base variant's, or a
    sheet's own (Targets, Coefficients, the setup sheets); none without a
    snapshot."""
    from ..studies.changes import changed_inputs
    from .results.state import read_previous

    previous, _ = read_previous(path)
    if previous is None:
        return ()
    # other variants (one adopted before, say) do not change the exploration
    others = {str(v) for v in (*previous.parameters.index, *study.variants.index)}
    others.discard(base)
    rows = [
        r
        for r in changed_inputs(previous, record.cells, study.variants.index)
        if r[3] not in others
    ]
    if not rows:
        return ()
    cells = [f"{sheet}!{cell}" for sheet, cell, *_ in rows]
    shown = ", ".join(cells[:3]) + (
        f" and {len(cells) - 3} more" if len(cells) > 3 else ""
    )
    return (
        f"{path}: {len(cells)} input cell(s) changed since the exploration was "
        f"computed ({shown}): design {design} was found with the earlier inputs, "
        f"and its rows that were not explored take the current values of {base!r}; "
        f"run 'xlmodel explore {path}' again to explore the current inputs",
    )


# --- the package ------------------------------------------------------------------


def _rewrite_sheet(path, out, sheet, column, style_column, cells) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            part = _sheet_part(zf, sheet)
            data = {i.filename: zf.read(i.filename) for i in infos}
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise PackageError(
            f"{path}: cannot read the workbook package ({exc})"
        ) from None
    data[part] = _add_column(data[part], column, style_column, cells, path)
    # the package layer's atomic write (its temporary files, which the next
    # compute removes after a crash; its messages for a full disk)
    write_atomically(out, Merged(infos, data, []), stat.S_IMODE(os.stat(path).st_mode))


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    rels = fromstring(zf.read("_rels/.rels"))
    book = next(
        r.get("Target")
        for r in rels.iter(f"{{{_NS_PKG}}}Relationship")
        if r.get("Type") == _OFFICE_DOCUMENT
    ).lstrip("/")
    root = fromstring(zf.read(book))
    rid = None
    for el in root.iter(f"{{{_NS_MAIN}}}sheet"):
        if el.get("name") == sheet:
            rid = el.get(f"{{{_NS_REL}}}id")
    if rid is None:
        raise KeyError(f"sheet {sheet!r} not in the workbook part")
    folder, name = posixpath.split(book)
    book_rels = fromstring(zf.read(posixpath.join(folder, "_rels", name + ".rels")))
    target = next(
        r.get("Target")
        for r in book_rels.iter(f"{{{_NS_PKG}}}Relationship")
        if r.get("Id") == rid
    )
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


# --- the worksheet XML ------------------------------------------------------------


def _letters(col: int) -> str:
    """Zero-based column index -> letters (0 -> A, 26 -> AA)."""
    return column_letter(col + 1)


def _col_index(letters: str) -> int:
    return column_number(letters) - 1


def _cell_xml(prefix: str, ref: str, value, style: str | None) -> str:
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, str):
        text = escape(value)
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return (
            f'<{prefix}c r="{ref}"{s} t="inlineStr"><{prefix}is>'
            f"<{prefix}t{space}>{text}</{prefix}t></{prefix}is></{prefix}c>"
        )
    number = repr(int(value)) if float(value).is_integer() else repr(float(value))
    return f'<{prefix}c r="{ref}"{s}><{prefix}v>{number}</{prefix}v></{prefix}c>'


def _add_column(xml: bytes, column: int, style_column, cells: dict, path) -> bytes:
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(f"{path}: the Variants sheet is not UTF-8 XML") from None
    m = re.search(r"<(\w+:)?sheetData\b(" + _ATTRS + r")>", text)
    if m is None or m.group(0).endswith("/>"):
        raise PackageError(f"{path}: the Variants sheet has no cells")
    prefix = m.group(1) or ""
    body_start = m.end()
    body_end = text.index(f"</{prefix}sheetData>", body_start)
    body = text[body_start:body_end]
    row_re = re.compile(
        rf"<{re.escape(prefix)}row\b({_ATTRS})(?:/>|>(.*?)</{re.escape(prefix)}row\s*>)",
        re.S,
    )
    rows = [(int(_attr(r.group(1), "r") or 0), r) for r in row_re.finditer(body)]
    if any(n == 0 for n, _ in rows):
        raise PackageError(f"{path}: the Variants sheet has rows without numbers")
    pieces, pos = [], 0
    wanted = sorted((r + 1, v) for r, v in cells.items())
    i = 0
    for n, r in rows:
        while i < len(wanted) and wanted[i][0] < n:  # a row that does not exist yet
            pieces.append(body[pos : r.start()])
            pos = r.start()
            pieces.append(_new_row(prefix, wanted[i][0], column, wanted[i][1]))
            i += 1
        if i < len(wanted) and wanted[i][0] == n:
            pieces.append(body[pos : r.start()])
            pieces.append(_extend_row(prefix, r, n, column, style_column, wanted[i][1]))
            pos = r.end()
            i += 1
    pieces.append(body[pos:])
    for n, v in wanted[i:]:
        pieces.append(_new_row(prefix, n, column, v))
    text = text[:body_start] + "".join(pieces) + text[body_end:]
    text = _widen_dimension(text, prefix, column)
    return text.encode("utf-8")


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'(?:^|\s){name}\s*=\s*("([^"]*)"|\'([^\']*)\')', attrs)
    if m is None:
        return None
    return m.group(2) if m.group(2) is not None else m.group(3)


def _set_attr(attrs: str, name: str, value: str | None) -> str:
    m = re.search(rf'(\s){name}\s*=\s*("[^"]*"|\'[^\']*\')', attrs)
    if m is None:
        return attrs if value is None else f'{attrs} {name}="{value}"'
    if value is None:
        return attrs[: m.start()] + attrs[m.end() :]
    return attrs[: m.start()] + f'{m.group(1)}{name}="{value}"' + attrs[m.end() :]


def _new_row(prefix: str, n: int, column: int, value) -> str:
    ref = f"{_letters(column)}{n}"
    return f'<{prefix}row r="{n}">{_cell_xml(prefix, ref, value, None)}</{prefix}row>'


def _extend_row(prefix, match, n: int, column: int, style_column, value) -> str:
    attrs, inner = match.group(1), match.group(2) or ""
    cell_re = re.compile(
        rf"<{re.escape(prefix)}c\b({_ATTRS})(?:/>|>(.*?)</{re.escape(prefix)}c\s*>)",
        re.S,
    )
    style = None
    insert_at, replace = len(inner), None
    for c in cell_re.finditer(inner):
        ref = _attr(c.group(1), "r") or ""
        letters = re.match(r"[A-Za-z]+", ref)
        col = _col_index(letters.group(0)) if letters else -1
        if col == style_column:
            style = _attr(c.group(1), "s")
        if col == column:
            if (c.group(2) or "").strip():
                raise PackageError(
                    f"cell {_letters(column)}{n} of the Variants sheet is not empty"
                )
            style = _attr(c.group(1), "s") or style
            insert_at, replace = c.start(), c
            break
        if col > column:
            insert_at = c.start()
            break
    cell = _cell_xml(prefix, f"{_letters(column)}{n}", value, style)
    end = replace.end() if replace is not None else insert_at
    inner = inner[:insert_at] + cell + inner[end:]
    spans = _attr(attrs, "spans")
    if spans is not None:
        m = re.fullmatch(r"\s*(\d+):(\d+)\s*", spans)
        widened = (
            f"{min(int(m.group(1)), column + 1)}:{max(int(m.group(2)), column + 1)}"
            if m
            else None
        )
        attrs = _set_attr(attrs, "spans", widened)
    return f"<{prefix}row{attrs}>{inner}</{prefix}row>"


def _widen_dimension(text: str, prefix: str, column: int) -> str:
    m = re.search(rf"<{re.escape(prefix)}dimension\b({_ATTRS})/>", text)
    if m is None:
        return text
    ref = _attr(m.group(1), "ref") or ""
    parts = re.fullmatch(r"([A-Za-z]+)(\d+)(?::([A-Za-z]+)(\d+))?", ref)
    if parts is None:
        return text
    c0, r0 = parts.group(1), parts.group(2)
    c1, r1 = parts.group(3) or c0, parts.group(4) or r0
    c1 = _letters(max(_col_index(c1), column))
    attrs = _set_attr(m.group(1), "ref", f"{c0}{r0}:{c1}{r1}")
    return text[: m.start()] + f"<{prefix}dimension{attrs}/>" + text[m.end() :]
