"""Edit a workbook with LibreOffice itself, through its Python UNO bridge.

Run with the system Python that has ``uno`` (not the project's virtualenv):

    python3 tests/lo_uno.py IN.xlsx OUT.xlsx OPS.json

OPS.json is a list of operations applied in order, then the document is
recalculated and stored as an Excel 2007-365 workbook:

- ``["copy", "Summary", "Summary (2)"]``: LibreOffice's "Copy sheet", the copy
  placed right after the original;
- ``["rename", "Cost", "Cost Q3"]``: rename a sheet;
- ``["formula", "Notes", "B2", "=$Summary.B5"]``: set a cell's formula, in
  LibreOffice's own syntax (English function names, ``$Sheet.A1`` references),
  creating the sheet at the end when it does not exist;
- ``["value", "Variants", "C5", 1234.5]``: set a cell's number;
- ``["text", "Targets", "B3", "FP8"]``: set a cell's text.

Exit status 0 on success; any failure prints one line and exits 1. The
LibreOffice profile is a fresh temporary folder, so runs do not share state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid


def _connect(pipe: str, deadline: float):
    import uno  # noqa: PLC0415 - only the system Python has it

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    while True:
        try:
            return resolver.resolve(
                f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def _prop(name: str, value):
    from com.sun.star.beans import PropertyValue  # noqa: PLC0415

    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def _apply(doc, ops) -> None:
    sheets = doc.Sheets
    for op in ops:
        kind = op[0]
        if kind == "copy":
            _, source, target = op
            names = list(sheets.ElementNames)
            sheets.copyByName(source, target, names.index(source) + 1)
        elif kind == "rename":
            _, source, target = op
            sheets.getByName(source).Name = target
        elif kind == "text":
            _, name, cell, content = op
            sheets.getByName(name).getCellRangeByName(cell).String = str(content)
        elif kind in ("formula", "value"):
            _, name, cell, content = op
            if not sheets.hasByName(name):
                sheets.insertNewByName(name, sheets.Count)
            target = sheets.getByName(name).getCellRangeByName(cell)
            if kind == "formula":
                target.Formula = content
            else:
                target.Value = float(content)
        else:
            raise ValueError(f"unknown operation {kind!r}")
    doc.calculateAll()


def main(argv: list[str]) -> int:
    source, target, ops_path = argv[1:4]
    with open(ops_path, encoding="utf-8") as f:
        ops = json.load(f)
    profile = tempfile.mkdtemp(prefix="lo-uno-")
    pipe = "xlmodel" + uuid.uuid4().hex
    proc = subprocess.Popen(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ctx = _connect(pipe, time.monotonic() + 60)
        desktop = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", ctx
        )
        url = "file://" + os.path.abspath(source)
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
        try:
            _apply(doc, ops)
            doc.storeToURL(
                "file://" + os.path.abspath(target),
                (_prop("FilterName", "Calc MS Excel 2007 XML"),),
            )
        finally:
            doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
        return 0
    except Exception as exc:
        print(f"LibreOffice edit failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
