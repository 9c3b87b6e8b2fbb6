"""Shared fixtures: a CLI runner and LibreOffice (the second implementation) headless."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# The property tests draw the same examples on every run, so a run of the suite
# (and so a landing) does not hang on what one draw happens to find; the
# examples found so far are kept with @example. HYPOTHESIS_PROFILE=explore
# draws new, random ones: run it to look for new defects.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _close_read_only_workbooks(monkeypatch):
    """Close, after each test, every workbook openpyxl opened read-only in it.

    A read-only workbook holds its file open until closed; one a test left
    open warned (an error here) in whichever later test the collector
    happened to run in."""
    from openpyxl.reader.excel import ExcelReader

    opened = []
    read = ExcelReader.read

    def reading(self):
        read(self)
        if self.read_only:
            opened.append(self.wb)

    monkeypatch.setattr(ExcelReader, "read", reading)
    yield
    for wb in opened:
        wb.close()


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
#: The system Python, which has LibreOffice's UNO bridge (tests/lo_uno.py).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/usr/local/bin")


def has_uno() -> bool:
    """Whether LibreOffice can be driven through its Python UNO bridge."""
    if not (SOFFICE and SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return probe.returncode == 0


def libreoffice_edit(source: Path, target: Path, ops: list) -> Path:
    """``source`` edited by LibreOffice (tests/lo_uno.py), recalculated, saved."""
    import json

    ops_file = target.with_suffix(".ops.json")
    ops_file.write_text(json.dumps(ops))
    proc = subprocess.run(
        [
            SYSTEM_PYTHON,
            str(Path(__file__).parent / "lo_uno.py"),
            source,
            target,
            ops_file,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def pytest_collection_modifyitems(config, items):
    if SOFFICE:
        return
    if os.environ.get("XLMODEL_REQUIRE_LIBREOFFICE") == "1":
        raise pytest.UsageError("LibreOffice is required here but soffice is missing")
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def runner():
    return CliRunner()


def libreoffice_convert(src: Path, fmt: str, outdir: Path, timeout: int = 180) -> Path:
    """Convert ``src`` with headless LibreOffice; return the converted file's path."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = Path("/tmp") / f"xlmodel-lo-{uuid.uuid4().hex}"
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = fmt.split(":")[0]
    out = outdir / f"{src.stem}.{ext}"
    assert proc.returncode == 0 and out.exists(), (proc.stdout, proc.stderr)
    return out
