"""Recalculate workbooks in LibreOffice headless and dump cells (run by a Python with uno).

    python3 tests/lo_recalc.py JOB.json OUT.json

JOB.json: {"profile": dir, "file": path, "sheets": [names], "runs": [run, ...]}
where a run is {"set": [[sheet, row, col, value], ...]} (zero-based cells; the
values are typed in, as a user would, before calculateAll). For every run OUT.json
holds, per sheet, every used cell as [row, col, formula, value, text, error].
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(profile: str):
    pipe = f"xlmodel_{os.getpid()}"
    proc = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    for _ in range(300):
        try:
            ctx = resolver.resolve(
                f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext"
            )
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    else:
        proc.kill()
        raise SystemExit("LibreOffice did not start")
    desktop = ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.Desktop", ctx
    )
    return proc, desktop


def _dump(doc, names):
    out = {}
    sheets = doc.Sheets
    for name in names:
        sh = sheets.getByName(name)
        cur = sh.createCursor()
        cur.gotoEndOfUsedArea(False)
        last_row, last_col = cur.RangeAddress.EndRow, cur.RangeAddress.EndColumn
        rng = sh.getCellRangeByPosition(0, 0, last_col, last_row)
        formulas = rng.getFormulaArray()
        data = rng.getDataArray()
        cells = []
        for r in range(last_row + 1):
            for c in range(last_col + 1):
                f = formulas[r][c]
                if not f.startswith("="):
                    continue
                cell = sh.getCellByPosition(c, r)
                err = cell.getError()
                v = data[r][c]
                cells.append(
                    [
                        r,
                        c,
                        f,
                        v if isinstance(v, float) else None,
                        cell.getString(),
                        err,
                    ]
                )
        out[name] = cells
    return out


def main() -> None:
    job = json.load(open(sys.argv[1]))
    proc, desktop = _connect(job["profile"])
    try:
        url = uno.systemPathToFileUrl(os.path.abspath(job["file"]))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", True),))
        results = []
        for run in job["runs"]:
            for sheet, r, c, v in run.get("set", []):
                cell = doc.Sheets.getByName(sheet).getCellByPosition(c, r)
                if isinstance(v, str):
                    cell.setString(v)
                else:
                    cell.setValue(float(v))
            doc.calculateAll()
            results.append(_dump(doc, job["sheets"]))
        doc.close(True)
        json.dump(results, open(sys.argv[2], "w"))
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge closes as it quits
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
