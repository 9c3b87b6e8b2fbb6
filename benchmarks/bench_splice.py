"""The splice alone, and a part-by-part digest of what compute writes.

Run: python benchmarks/bench_splice.py DIR [VARIANTS ...] (default 200 1000).

For the template and for each size, a workbook is built once into DIR (kept
there, so that runs of different code read the very same input files), then

(a) ``compute`` writes it with the time fixed (``now=``), and the SHA-256 of
    every part of the output is recorded in DIR/digest-<label>.json: the same
    inputs under different code must give the same digest, part for part
    (``--against OTHER_DIR`` compares with the digests another run wrote
    there, and exits 1 on a difference);
(b) the results workbook that compute spliced (its sheets in final form) is
    kept, and ``splice_results`` alone is timed on it and the input workbook,
    best of 3, beside the splice of the same results in the writer's own form
    with the previous rewrite of the result sheets (``previous_splice.py``;
    best of 3, of 1 above 200 variants), whose output must be the same bytes,
    and beside openpyxl's load and save of the input workbook.

The template's output is also computed again in place and digested (its
Changes sheet then compares two computes; its Run sheet, which records the hash
of the file read, is masked). The template case and 200 variants are
digested; larger sizes are timed only (``--digest-all`` digests them too).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from bench_workbook import TEMPLATE, best_of, build
from openpyxl import load_workbook
from previous_splice import previous_rewrite

from xlmodel import pipeline
from xlmodel.pipeline import compute

FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _inputs(folder: Path, label: str, variants: int | None) -> Path:
    """The input workbook of a case, built once and kept."""
    src = folder / f"input-{label}.xlsx"
    if not src.exists():
        if variants is None:
            shutil.copy(TEMPLATE, src)
        else:
            build(src, variants)
    return src


def _digest(path: Path, prefix: str = "", mask_run: bool = False) -> dict[str, str]:
    """SHA-256 of every part of a package, by part name.

    With ``mask_run`` the Run sheet's part is named but not hashed: it records
    the SHA-256 of the file read, and a package written by a compute holds the
    time of writing in its zip entries.
    """
    with zipfile.ZipFile(path) as z:
        run = _run_sheet_part(z) if mask_run else None
        return {
            prefix + n: "masked (Run sheet: input hash)"
            if n == run
            else hashlib.sha256(z.read(n)).hexdigest()
            for n in z.namelist()
        }


def _run_sheet_part(z: zipfile.ZipFile) -> str:
    """Part name of the sheet called Run, from the workbook and its relationships."""
    book = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(r'<sheet [^>]*name="Run"[^>]*r:id="([^"]+)"', book)
    assert rid, "no Run sheet"
    for rel in re.findall(r"<Relationship [^>]*>", rels):
        if f'Id="{rid.group(1)}"' in rel:
            target = re.search(r'Target="([^"]+)"', rel)
            assert target
            return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
    raise AssertionError("the Run sheet has no part")


def _capture(
    src: Path, folder: Path, label: str, again: bool
) -> tuple[tuple[Path, object, Path], dict, float]:
    """Compute ``src`` with the time fixed; keep the results workbook; digest.

    Returns the results the splice read (kept in DIR: the results workbook in
    final form, the style maps it was written with, and the same results in
    the writer's own form, from a second compute that writes them so), the
    digest and the seconds of the (first) compute.

    With ``again``, the output is computed once more in place (its Changes
    against the first compute's state) and digested too.
    """
    pipeline._load()
    package = pipeline.package
    final_kept = folder / f"results-{label}.xlsx"
    own_kept = folder / f"results-{label}-writers-form.xlsx"
    real, plain = package.splice_results, pipeline._results_parts
    maps: list[object] = []

    def keeping(original, results, out, legacy=(), **options):
        target = final_kept if options.get("final") is not None else own_kept
        maps.append(options.get("final"))
        _save(results, target)
        return real(original, results, out, legacy, **options)

    def writers_form(results, names, run_info, styles=NotImplemented):
        return plain(results, names, run_info)

    with tempfile.TemporaryDirectory() as d:
        work = Path(d) / "work.xlsx"
        out = Path(d) / "out.xlsx"
        shutil.copy(src, work)
        package.splice_results = keeping
        t0 = time.perf_counter()
        try:
            compute(work, out, export_dir=None, now=FIXED_NOW)
            seconds = time.perf_counter() - t0
            pipeline._results_parts = writers_form
            compute(work, Path(d) / "own.xlsx", export_dir=None, now=FIXED_NOW)
        finally:
            package.splice_results = real
            pipeline._results_parts = plain
        digest = _digest(out)
        if again:
            compute(out, export_dir=None, now=FIXED_NOW)
            digest.update(_digest(out, "computed again in place: ", mask_run=True))
    return (final_kept, maps[0], own_kept), digest, seconds


def _save(results, target: Path) -> None:
    """The results the splice was given (a path, or a package in memory) as
    a workbook file at ``target``."""
    if isinstance(results, (str, Path)):
        shutil.copy(results, target)
        return
    with zipfile.ZipFile(target, "w") as z:
        for info in results.infos:
            z.writestr(info, results.data.get(info.filename, b""))


def _time_splice(
    original: Path, results: tuple[Path, object, Path], repeat_previous: int
) -> tuple[float, float, float]:
    """Seconds of the splice alone (best of 3) of the results in final form,
    as compute splices them, and of the splice of the results in the
    writer's own form with the previous rewrite of their sheets (best of
    ``repeat_previous``), and of openpyxl load + save (best of 3); the two
    splices must write the same parts, byte for byte."""
    from xlmodel.workbook.package import splice_results
    from xlmodel.workbook.report import SHEETS

    final, maps, own = results
    with tempfile.TemporaryDirectory() as d:
        out, old = Path(d) / "out.xlsx", Path(d) / "previous.xlsx"
        splice = best_of(
            lambda: splice_results(original, final, out, SHEETS, final=maps)
        )
        with previous_rewrite():
            previous = best_of(
                lambda: splice_results(original, own, old, SHEETS),
                repeat_previous,
            )
        new_parts, old_parts = _digest(out), _digest(old)
        if new_parts != old_parts:
            differ = sorted(set(new_parts.items()) ^ set(old_parts.items()))
            raise SystemExit(f"the two splices differ: {differ}")
        base = best_of(lambda: load_workbook(original).save(out))
    return splice, previous, base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("sizes", type=int, nargs="*")
    ap.add_argument("--against", type=Path, help="a digest folder to compare with")
    ap.add_argument("--digest-all", action="store_true")
    a = ap.parse_args()
    a.folder.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, int | None]] = [("template", None)]
    cases += [(f"{n}-variants", n) for n in a.sizes or [200, 1000]]
    bad = 0
    for label, variants in cases:
        src = _inputs(a.folder, label, variants)
        results, digest, total = _capture(src, a.folder, label, variants is None)
        repeat = 3 if variants is None or variants <= 200 else 1
        splice, previous, base = _time_splice(src, results, repeat)
        print(
            f"{label}: openpyxl load+save {base:.3f} s; splice alone {splice:.3f} s "
            f"({splice / base:.1f}x load+save), the writer's form with the previous "
            f"rewrite of the sheets {previous:.3f} s ({previous / base:.1f}x; best of {repeat}), "
            f"the same bytes; compute (one run) {total:.2f} s "
            f"({total / base:.1f}x)"
        )
        if not (variants is None or variants <= 200 or a.digest_all):
            continue
        name = f"digest-{label}.json"
        (a.folder / name).write_text(json.dumps(digest, indent=1, sort_keys=True))
        if a.against is not None:
            before = json.loads((a.against / name).read_text())
            differ = sorted(
                p for p in set(before) | set(digest) if before.get(p) != digest.get(p)
            )
            for part in differ:
                print(f"  {label}: {part} differs")
            print(f"  {label}: {len(digest)} parts compared, {len(differ)} differ")
            bad += len(differ)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
