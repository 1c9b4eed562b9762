"""The office app's two speed targets, measured on this machine:

- `cchc-letters serve` answers its first page in under a second;
- a 1,000-letter batch from the browser takes no longer than `generate` plus a second.

    python benchmarks/bench_web.py [--letters 1000] [--repeat 3]

The browser's part is played by an HTTP client (httpx2, in the test extra) doing what the
pages do: upload, the check page, generate, poll the progress until the batch is written.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_spec = importlib.util.spec_from_file_location("bench_batch", HERE / "bench_batch.py")
bench_batch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_batch)
LETTER_DATE = bench_batch.LETTER_DATE
sys.path.insert(0, str(ROOT / "tests"))
from serve_helpers import serve_process  # noqa: E402 - the tests' way to start `serve`


def web_batch(url: str, export: Path) -> tuple[float, float]:
    """Return (seconds for upload + check page, seconds from 'generate' to the batch page)."""
    import httpx2

    with httpx2.Client(base_url=url, timeout=600, follow_redirects=True) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/batch").text)[1]
        began = time.perf_counter()
        with export.open("rb") as fh:
            checked = client.post(
                "/batch/upload", data={"csrf": token}, files={"files": (export.name, fh)}
            )
        checked.raise_for_status()
        upload_seconds = time.perf_counter() - began
        began = time.perf_counter()
        started = client.post(
            checked.url.path + "/generate",
            data={"csrf": token, "letter_date": LETTER_DATE.isoformat()},
            follow_redirects=False,
        )
        job = started.headers["location"]
        while client.get(job + "/status").json()["state"] == "running":
            time.sleep(0.1)
        page = client.get(job)
        page.raise_for_status()
        assert "/batches/batch-" in str(page.url), page.text[:500]
        return upload_seconds, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cchc-bench-web-") as tmp:
        folder = Path(tmp)
        export = bench_batch.write_xlsx(folder / "khai-sinh.xlsx", args.letters)
        starts, cli, uploads, web = [], [], [], []
        for n in range(args.repeat):
            run = bench_batch.run_tool(export, folder / f"cli-{n}")
            cli.append(bench_batch._seconds(run))
            with serve_process(folder / f"web-{n}") as server:
                starts.append(server.started_in)
                upload_seconds, generate_seconds = web_batch(server.url, export)
            uploads.append(upload_seconds)
            web.append(generate_seconds)
    median = statistics.median
    print(f"serve, first page:                 {median(starts):6.2f} s (target < 1 s)")
    print(f"generate {args.letters} letters, CLI:         {median(cli):6.2f} s")
    print(
        f"generate {args.letters} letters, browser:     {median(web):6.2f} s (target ≤ CLI + 1 s)"
    )
    print(f"upload + check page (before that): {median(uploads):6.2f} s")


if __name__ == "__main__":
    main()
