"""The batch lock: one run at a time writes into an output folder, and one at a time uses a
ledger — the lock belongs to the ledger, so two output folders sharing one ledger (``--ledger``)
never both print. An inbox has a lock of its own name, so ``watch INBOX --out INBOX`` works.

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
INBOX_LOCK_NAME = ".cchc-letters-inbox.lock"


def lock_path_for(folder: Path) -> Path:
    """Return the lock file of an output folder."""
    return folder / LOCK_NAME


def inbox_lock_path(inbox: Path) -> Path:
    """Return the lock file of a watched inbox (not the output folder's, even when the
    inbox is also the output folder)."""
    return inbox / INBOX_LOCK_NAME


def ledger_lock_path(ledger: Path) -> Path:
    """Return the lock file of a ledger: ``ledger.sqlite3.lock`` beside it."""
    return ledger.with_name(ledger.name + ".lock")


def batch_locks(out_dir: Path, ledger: Path | None) -> dict[Path, str]:
    """Return the locks a batch holds, each with what it protects (for the message when
    another run holds it): its output folder's and, when it uses one, its ledger's
    (wherever the ledger is, even inside the output folder)."""
    locks = {lock_path_for(out_dir): f"thư mục {out_dir}"}
    if ledger is not None:
        locks[ledger_lock_path(ledger)] = f"sổ theo dõi {ledger}"
    return locks


@contextmanager
def hold(
    paths: list[Path] | dict[Path, str],
    *,
    wait: float,
    what: str = "",
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold every lock file in ``paths`` (taken in a fixed order), waiting at most ``wait``
    seconds in all; raise LockTimeout naming what the held lock protects (the value of
    ``paths`` when it is a dict, else ``what``) when another run keeps one longer."""
    from filelock import FileLock, Timeout

    protects = {p.resolve(): (paths[p] if isinstance(paths, dict) else what) for p in paths}
    deadline = monotonic() + max(wait, 0)
    with ExitStack() as stack:
        for path in sorted(protects):
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(path)
            try:
                lock.acquire(timeout=max(deadline - monotonic(), 0), poll_interval=0.1)
            except Timeout:
                raise LockTimeout(
                    f"một lần chạy khác đang dùng {protects[path]}; đã chờ {wait:g} giây "
                    f"(another run holds {path}; waited {wait:g} s)",
                    hint="Chờ lần chạy kia xong rồi chạy lại, hoặc đặt --wait dài hơn.",
                ) from None
            stack.callback(lock.release)
        yield
