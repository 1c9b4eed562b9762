"""A real `cchc-letters serve` on a free port: for tests/test_serve.py, tests/test_web_browser.py
and benchmarks/bench_web.py (one way to start it, wait for its first page and stop it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cchc_letters.web.security import PASSWORD_ENV

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server: its process, base URL and port, the seconds from start to its first
    page, and (with ``capture``) what it printed, once stopped."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    started_in: float = 0.0
    output: str = ""


@contextmanager
def serve_process(out: Path, *, capture: bool = False, wait: float = 120) -> Iterator[Server]:
    """Run ``python -m cchc_letters serve --no-browser`` on a free port with ``--out out`` (no
    password in its environment), wait until /batch answers, yield it; stop it at the end.

    RuntimeError when it exits or does not answer within ``wait`` seconds.
    """
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(PASSWORD_ENV, None)
    command = [sys.executable, "-m", "cchc_letters", "serve", "--no-browser", "--port", str(port),
               "--out", str(out)]  # fmt: skip
    stream = subprocess.PIPE if capture else subprocess.DEVNULL
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=stream,
        stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
    )
    server = Server(process, f"http://127.0.0.1:{port}", port)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(server.url + "/batch", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not answer on port {port}") from None
                time.sleep(0.01)
        server.started_in = time.perf_counter() - began
        yield server
    finally:
        process.terminate()
        if capture:
            server.output = process.communicate(timeout=30)[0].decode("utf-8")
        else:
            process.wait(timeout=30)
