"""The batch lock: one run at a time writes into an output folder, and one at a time uses a
ledger — the lock belongs to the ledger, so two output folders sharing one ledger (``--ledger``)
never both print. An inbox has a lock of its own name, so ``watch INBOX --out INBOX`` works.

A lock file (``flock`` on Linux/macOS, as filelock takes it; filelock's msvcrt lock on
Windows) that the operating system releases when the process dies, even by SIGKILL or a power
cut, so a stale lock never blocks the next run.
"""

from __future__ import annotations

import functools
import os
import sys
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
    protects = {p.resolve(): (paths[p] if isinstance(paths, dict) else what) for p in paths}
    deadline = monotonic() + max(wait, 0)
    with ExitStack() as stack:
        for path in sorted(protects):
            path.parent.mkdir(parents=True, exist_ok=True)
            release = _flocked(path, deadline, monotonic)
            if release is _ELSEWHERE:
                release = _filelocked(path, deadline, monotonic)
            if release is None:
                raise LockTimeout(
                    f"một lần chạy khác đang dùng {protects[path]}; đã chờ {wait:g} giây "
                    f"(another run holds {path}; waited {wait:g} s)",
                    hint="Chờ lần chạy kia xong rồi chạy lại, hoặc đặt --wait dài hơn.",
                )
            stack.callback(release)
        yield


POLL_INTERVAL = 0.1  # seconds between two tries of a lock another run holds


def _filelocked(
    path: Path, deadline: float, monotonic: Callable[[], float]
) -> Callable[[], None] | None:
    """Take ``path``'s lock with filelock; return its release, or None after ``deadline``."""
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    try:
        lock.acquire(timeout=max(deadline - monotonic(), 0), poll_interval=POLL_INTERVAL)
    except Timeout:
        return None
    return lock.release


def _elsewhere() -> None:
    """Marks a lock _flocked leaves to filelock."""


_ELSEWHERE: Callable[[], None] = _elsewhere


def _flocked(
    path: Path, deadline: float, monotonic: Callable[[], float]
) -> Callable[[], None] | None:
    """Take ``path``'s lock with ``flock``, as filelock's lock on Linux and macOS does (so
    each excludes the other); return its release, or None after ``deadline``. Anything but
    that plain case (Windows, a file system without flock, a lock file that cannot be opened
    for writing or is a symbolic link) returns _ELSEWHERE: filelock decides.

    Hand-written because importing filelock (its options, soft locks, registries) took
    8 ms of a daily batch, more than this whole function ever runs.
    """
    if sys.platform == "win32":
        return _ELSEWHERE
    import errno
    import fcntl

    busy = {errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK}  # filelock's "held by another"
    flags = os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    while True:
        created = True
        try:
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)  # filelock's mode
            except FileExistsError:
                created = False
                fd = os.open(path, flags)
        except OSError:
            return _ELSEWHERE
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in busy:
                # ENOSYS: filelock's soft lock, any other error is its too; a lock file made
                # here goes (filelock takes only a file it made itself for its soft lock)
                if created:
                    path.unlink(missing_ok=True)
                return _ELSEWHERE
            left = deadline - monotonic()
            if left <= 0:
                return None
            time.sleep(min(POLL_INTERVAL, left))
            continue
        return functools.partial(_unflock, fd, os.getpid())


def _unflock(fd: int, owner: int) -> None:
    """Release a lock taken by _flocked: unlocked by the process that took it (a forked
    writer shares the descriptor and must not unlock its parent's lock), closed in any."""
    import fcntl

    try:
        if os.getpid() == owner:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
