"""Faults the tests make themselves: real processes with injected pauses, a small disk."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ledger_helpers import LETTER_DATE, ROOT, python_process

RUNNER = ROOT / "tests" / "fault_runner.py"


def fault_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the CLI (tests/fault_runner.py) as a real process, faults set by ``env``."""
    return python_process(RUNNER, *args, env=env)


def generate_args(inputs, out: Path, *extra: str) -> list[str]:
    return ["generate", *map(str, inputs), "--out", str(out), "--date", LETTER_DATE, *extra]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """Run the CLI to its end; return (exit code, stdout, stderr)."""
    process = fault_process(*args, env=env)
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def one_json_object(stdout: str) -> dict:
    """stdout holds exactly one JSON object and nothing else."""
    return json.loads(stdout)


class Paused:
    """A real run held just before ``target`` (module:function) is called."""

    def __init__(self, tmp_path: Path, target: str, *args: str, env=None) -> None:
        self.signal = tmp_path / f"paused-{time.monotonic_ns()}"
        self.release_file = tmp_path / f"release-{time.monotonic_ns()}"
        self.process = fault_process(
            *args,
            env={
                "FAULT_PAUSE_AT": target,
                "FAULT_SIGNAL": str(self.signal),
                "FAULT_RELEASE": str(self.release_file),
                **(env or {}),
            },
        )

    def wait(self, timeout: float = 60) -> Paused:
        deadline = time.monotonic() + timeout
        while not self.signal.exists():
            if self.process.poll() is not None:
                pytest.fail(f"the run ended before pausing: {self.process.communicate()}")
            assert time.monotonic() < deadline, "the run never reached its pause"
            time.sleep(0.05)
        return self

    def release(self, timeout: float = 120) -> tuple[int, str, str]:
        self.release_file.touch()
        stdout, stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, stdout, stderr


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (e.g. "512k") at ``path`` for the test: a disk that fills.

    Skipped where mounting is impossible (not root, no tmpfs), but never under CI=true:
    there the test must run.
    """
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        message = f"cannot mount a small tmpfs here: {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` until at most ``leave`` bytes are free; return the filler file."""
    filler = disk / "filler.bin"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with filler.open("ab") as fh:
        try:
            fh.write(b"\0" * max(free - leave, 0))
            fh.flush()
            os.fsync(fh.fileno())
        except OSError:
            pass
    return filler
