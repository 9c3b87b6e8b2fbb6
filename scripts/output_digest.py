"""Digest of what xlmodel writes, to prove that a change of code changed no output.

    python scripts/output_digest.py OUT.json          # write the digest
    python scripts/output_digest.py OUT.json --against BEFORE.json   # and compare

It runs, in a scratch folder, `xlmodel init` (the template's bytes) and
`xlmodel compute` on that template and on a few variations of it (an in-place
second compute, `-o` to another file), and records the SHA-256 of every part of
each written package. The Run sheet's part is recorded apart: it holds the time
and the hash of the file read, which differ from run to run by design. With
``--against`` it prints every part whose bytes differ and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

FIXED_TIME = "2026-01-01T00:00:00+00:00"


def _xlmodel(*args: str) -> None:
    cmd = [sys.executable, "-m", "xlmodel.cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stdout}{proc.stderr}")


def _run_sheet_part(z: zipfile.ZipFile) -> str | None:
    """Part name of the sheet called Run, from the workbook and its relationships."""
    wb = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    m = re.search(r'<sheet [^>]*name="Run"[^>]*r:id="([^"]+)"', wb)
    if not m:
        return None
    t = re.search(rf'<Relationship [^>]*Id="{m.group(1)}"[^>]*Target="([^"]+)"', rels)
    if not t:
        t = re.search(
            rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{m.group(1)}"', rels
        )
    return "xl/" + t.group(1).lstrip("/").removeprefix("xl/") if t else None


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        run = _run_sheet_part(z)
        out = {}
        for name in z.namelist():
            key = f"{name} (Run sheet: time and input hash)" if name == run else name
            out[key] = hashlib.sha256(z.read(name)).hexdigest()
        return out


def digest() -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        tpl = d / "variants.xlsx"
        _xlmodel("init", str(tpl))
        result["init"] = {"variants.xlsx": hashlib.sha256(tpl.read_bytes()).hexdigest()}
        out = d / "out.xlsx"
        _xlmodel("compute", str(tpl), "-o", str(out), "--no-export")
        result["compute -o"] = _parts(out)
        _xlmodel("compute", str(out), "--no-export")
        result["compute again in place"] = _parts(out)
        shipped = Path(__file__).resolve().parents[1] / "templates" / "variants.xlsx"
        out2 = d / "shipped.xlsx"
        _xlmodel("compute", str(shipped), "-o", str(out2), "--no-export")
        result["compute shipped template"] = _parts(out2)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--against")
    a = ap.parse_args()
    d = digest()
    Path(a.out).write_text(json.dumps(d, indent=1, sort_keys=True))
    if not a.against:
        return 0
    before = json.loads(Path(a.against).read_text())
    bad = 0
    for case in sorted(set(before) | set(d)):
        b, n = before.get(case, {}), d.get(case, {})
        for part in sorted(set(b) | set(n)):
            if "(Run sheet" in part:
                continue
            if b.get(part) != n.get(part):
                bad += 1
                print(f"{case}: {part} differs")
    total = sum(len(v) for v in d.values())
    print(f"{total} parts compared, {bad} differ (Run sheet parts excluded)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
