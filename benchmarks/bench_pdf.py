"""`--pdf` speed: LibreOffice converters in parallel against one soffice call for every file.

Usage (from a checkout, LibreOffice installed):

    python benchmarks/bench_pdf.py                 # 2,000 birth letters, 10 print files
    python benchmarks/bench_pdf.py --letters 1000 --per-file 100 --repeat 3

Writes the print files once with `cchc-letters generate`, then converts them, alternately,
with one converter (one soffice call over every file, as `--pdf` did before) and with one
converter per core (``pdf.convert_batch``), each time into a fresh folder and on fresh
LibreOffice profiles. Prints pages per second of each and their ratio, run by run.
Nothing here is asserted (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import LETTER_DATE, machine, write_xlsx  # noqa: E402

from cchc_letters import pdf  # noqa: E402
from cchc_letters.templatecheck import count_pdf_pages  # noqa: E402


def convert(files: list[Path], out: Path, workers: int) -> dict:
    out.mkdir(parents=True)
    start = time.perf_counter()
    done = pdf.convert_batch(files, out, workers=workers)
    seconds = time.perf_counter() - start
    if done.failed:
        raise SystemExit(done.message())
    pages = sum(count_pdf_pages(p) for p in done.pdfs)
    return {"workers": done.converters, "seconds": seconds, "pages": pages,
            "pages_per_s": pages / seconds}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--per-file", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if pdf.find_soffice() is None:
        raise SystemExit("LibreOffice (soffice) is not installed")
    print(f"Machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cchc-bench-pdf-") as tmp:
        work = Path(tmp)
        xlsx = write_xlsx(work / "births.xlsx", args.letters)
        generated = subprocess.run(
            [
                sys.executable,
                "-m",
                "cchc_letters",
                "generate",
                str(xlsx),
                "--out",
                str(work / "out"),
                "--date",
                LETTER_DATE.isoformat(),
                "--kind",
                "birth",
                "--per-file",
                str(args.per_file),
                "--json",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,  # fmt: skip
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        files = [Path(f) for f in json.loads(generated.stdout)["files"]]
        print(f"{args.letters} letters in {len(files)} print files", flush=True)
        runs: dict[str, list[dict]] = {"one call": [], "parallel": []}
        for n in range(args.repeat):
            for label, workers in (("one call", 1), ("parallel", os.cpu_count() or 1)):
                run = convert(files, work / f"pdf-{label.replace(' ', '-')}-{n}", workers)
                runs[label].append(run)
                print(
                    f"{label:<9} ({run['workers']} converter{'s' if run['workers'] > 1 else ''}): "
                    f"{run['seconds']:6.1f} s, {run['pages']} pages, "
                    f"{run['pages_per_s']:5.1f} pages/s",
                    flush=True,
                )
            ratio = runs["parallel"][-1]["pages_per_s"] / runs["one call"][-1]["pages_per_s"]
            print(f"  ratio, run {n + 1}: {ratio:.2f}x the pages per second of one call")
        ratios = [p["pages_per_s"] / o["pages_per_s"] for o, p in zip(*runs.values(), strict=True)]
        print(f"median ratio: {statistics.median(ratios):.2f}x; load now: {os.getloadavg()}")
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
