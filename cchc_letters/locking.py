"""The batch lock: one run at a time writes into an output folder (and its ledger).

A lock file (filelock: fcntl on Linux/macOS, msvcrt on Windows) that the operating system
releases when the process dies, even by SIGKILL or a power cut, so a stale lock never blocks
the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from cchc_letters.errors import LockTimeout

LOCK_NAME = ".cchc-letters.lock"


def lock_path_for(folder: Path) -> Path:
    """Return the lock file of an output folder (or of an inbox)."""
    return folder / LOCK_NAME


@contextmanager
def hold(
    paths: list[Path],
    *,
    wait: float,
    what: str,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold every lock file in ``paths`` (taken in a fixed order), waiting at most ``wait``
    seconds in all; raise LockTimeout naming ``what`` when another run keeps one longer."""
    from filelock import FileLock, Timeout

    deadline = monotonic() + max(wait, 0)
    with ExitStack() as stack:
        for path in sorted({p.resolve() for p in paths}):
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(path)
            try:
                lock.acquire(timeout=max(deadline - monotonic(), 0), poll_interval=0.1)
            except Timeout:
                raise LockTimeout(
                    f"một lần chạy khác đang ghi vào {what}; đã chờ {wait:g} giây "
                    f"(another run holds {path}; waited {wait:g} s)",
                    hint="Chờ lần chạy kia xong rồi chạy lại, hoặc đặt --wait dài hơn.",
                ) from None
            stack.callback(lock.release)
        yield
