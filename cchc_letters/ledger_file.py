"""The ledger as a file: whether it is as this program's last commit left it, and its copy.

Two things a run did to the whole file, however small its batch: ``PRAGMA quick_check``
read every page before the ledger was trusted, and the backup copied every page after each
batch. For a ledger of 100,000 letters (114 MB) that was 0.2 s and 0.6 s (the copy written
whole and synced), and a daily batch of ten letters into it took 1.2-1.6 s, not 0.3 s;
every page of the ledger's web pages paid the check too. Both now cost what changed:

- **Checked when it is not as we left it.** After each commit this program makes (and after
  each check that passed), the file's fingerprint is kept beside it
  (``ledger.sqlite3.checked``): its size, modification and change times, which file it is,
  and SQLite's header (whose change counter every commit moves). A ledger whose fingerprint
  is not the kept one (written by anything else, copied over, restored from a backup, cut
  short, or no fingerprint at all) is checked page by page before it is used, as always. One
  that matches holds only what was checked and what SQLite's own commits wrote since.
- **The backup is brought up to date in place.** The copy is compared with the ledger a
  megabyte at a time (both files are read; reading is cheap, writing and syncing 114 MB was
  not) and only the pages that differ are written, then synced. While it is being updated
  it is named ``ledger.sqlite3.bak.updating``, so a run cut off there leaves no file named
  as a good copy; the next batch's update finishes it.

No library does either (SQLite's backup API copies every page; rsync-like tools are
programs, not a few lines under our lock), hence by hand.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# The unit of the backup's comparison, and of its writes within a differing unit.
_COMPARE_BYTES = 1 << 20
_WRITE_BYTES = 4096  # SQLite's default page size: a changed page is written, not its megabyte


def fingerprint_path(path: Path) -> Path:
    """Return where the fingerprint of the ledger at ``path`` is kept."""
    return path.with_name(path.name + ".checked")


def fingerprint(path: Path) -> str | None:
    """Return what identifies the ledger file's present state; None when it cannot be read.

    The change time (``st_ctime_ns`` on POSIX) moves with every write and every change of
    the other times, so a file put back with its old modification time does not pass."""
    try:
        status = os.stat(path)
        with path.open("rb") as file:
            header = file.read(100)  # SQLite's header: change counter, page count …
    except OSError:
        return None
    return ":".join(
        str(part)
        for part in (
            status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino,
            status.st_dev, hashlib.sha256(header).hexdigest(),
        )
    )  # fmt: skip


def is_as_left(path: Path) -> bool:
    """True when the ledger at ``path`` is in the state this program last checked or
    committed (its kept fingerprint is its present one)."""
    try:
        kept = fingerprint_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return kept != "" and kept == fingerprint(path)


def remember(path: Path) -> None:
    """Keep the present fingerprint of the ledger at ``path`` (call right after a check
    passed or a commit). Best effort: a fingerprint not kept only means the next run checks
    the ledger page by page."""
    present = fingerprint(path)
    target = fingerprint_path(path)
    partial = target.with_name(target.name + ".part")
    try:
        if present is None:
            target.unlink(missing_ok=True)
            return
        partial.write_text(present + "\n", encoding="ascii")
        partial.replace(target)
    except OSError:
        partial.unlink(missing_ok=True)


@contextmanager
def read_locked(db: sqlite3.Connection) -> Iterator[None]:
    """Hold a read transaction of ``db`` for the block: in SQLite's rollback-journal modes no
    commit can write to the file meanwhile."""
    db.execute("BEGIN")
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read lock
        yield
    finally:
        if db.in_transaction:
            db.execute("COMMIT")


def refresh_copy(db: sqlite3.Connection, path: Path, target: Path) -> None:
    """Make ``target`` a copy of the ledger at ``path`` (open as ``db``), writing only the
    pages that differ from the copy already there, then syncing it.

    The file is read under a read transaction of ``db``: in SQLite's rollback-journal modes
    no commit can write to the file meanwhile, so the bytes are one committed state. A
    ledger in another journal mode (WAL, set by hand) is copied with SQLite's backup API.
    Raises OSError (a full disk); the copy is then left as ``….updating``.
    """
    mode = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    if mode not in ("delete", "truncate", "persist"):
        copy_whole(db, target)
        return
    updating = target.with_name(target.name + ".updating")
    with read_locked(db):
        if target.exists():
            target.replace(updating)
        with path.open("rb") as source, _open_for_update(updating) as copy:
            _copy_differences(source, copy)
            copy.truncate(source.tell())
            copy.flush()
            os.fsync(copy.fileno())
    updating.replace(target)


def _open_for_update(path: Path) -> BinaryIO:
    """Open ``path`` to be read and written in place, creating it when missing."""
    try:
        return path.open("r+b")
    except FileNotFoundError:
        return path.open("w+b")


def _copy_differences(source: BinaryIO, copy: BinaryIO) -> None:
    """Write into ``copy`` each page of ``source`` that it does not already hold."""
    offset = 0
    while True:
        new = source.read(_COMPARE_BYTES)
        if not new:
            return
        copy.seek(offset)
        old = copy.read(len(new))
        if old != new:
            for start in range(0, len(new), _WRITE_BYTES):
                page = new[start : start + _WRITE_BYTES]
                if old[start : start + _WRITE_BYTES] != page:
                    copy.seek(offset + start)
                    copy.write(page)
        offset += len(new)


def copy_whole(db: sqlite3.Connection, target: Path) -> None:
    """Copy the ledger ``db`` to ``target`` with SQLite's backup API (every page), under a
    partial name until it is complete."""
    partial = target.with_name(target.name + ".part")
    try:
        copy = sqlite3.connect(partial)
        try:
            db.backup(copy)
        finally:
            copy.close()
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
