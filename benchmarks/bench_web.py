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
import socket
import statistics
import subprocess
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


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(out: Path) -> tuple[subprocess.Popen, str, float]:
    """Start `serve`; return the process, its URL and the seconds to its first page."""
    import httpx2

    port = _port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cchc_letters",
            "serve",
            "--no-browser",
            "--port",
            str(port),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx2.get(url + "/batch", timeout=5).raise_for_status()
            return process, url, time.perf_counter() - began
        except httpx2.TransportError:
            if process.poll() is not None:
                raise SystemExit("serve did not start") from None
            time.sleep(0.01)


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
            process, url, seconds = start_server(folder / f"web-{n}")
            starts.append(seconds)
            try:
                upload_seconds, generate_seconds = web_batch(url, export)
            finally:
                process.terminate()
                process.wait(timeout=30)
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
