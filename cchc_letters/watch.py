"""The inbox watcher, library side: each completed export becomes a batch, then is moved
to ``INBOX/processed/YYYY-MM-DD/`` — or, if it could not be read at all, to ``INBOX/failed/``
with a ``.reason.txt`` beside it. Inputs are never deleted or overwritten. Never prints.
"""

from __future__ import annotations

import fnmatch
import gc
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cchc_letters.errors import CchcError, ExitCode, InputError
from cchc_letters.ingest import SUPPORTED_SUFFIXES
from cchc_letters.logs import mask_ids
from cchc_letters.pipeline import BatchOptions, BatchResult, run_batch

PROCESSED = "processed"
FAILED = "failed"
UNMOVED = "unmoved"  # made into a batch, but could not be moved: tried again next pass
REASON_SUFFIX = ".reason.txt"
# Names of files still being written or saved by another program: Excel's owner file
# (~$name.xlsx), browser and copy-tool partial downloads, editor temp files, hidden files
# (our own lock file among them).
TEMPORARY_NAMES = ("~$*", "~*", ".*", "*.part", "*.partial", "*.tmp", "*.crdownload", "*.download")

log = logging.getLogger("cchc_letters.watch")


@dataclass
class FileOutcome:
    """What happened to one file of the inbox."""

    source: Path
    status: str  # PROCESSED, FAILED or UNMOVED
    moved_to: Path
    result: BatchResult | None = None
    reason: str | None = None


@dataclass
class InboxPass:
    """One look at the inbox: files processed or failed, files left for later, a stop."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)  # still being written: next pass
    error: CchcError | None = None  # a failure not of one file's making (profile, lock)

    @property
    def exit_code(self) -> ExitCode:
        if self.error:
            return self.error.exit_code
        failed = any(
            o.status != PROCESSED or (o.result and o.result.exit_code) for o in self.outcomes
        )
        return ExitCode.REJECTED if failed else ExitCode.OK


def is_temporary(path: Path) -> bool:
    """Return True for names that belong to a file still being written (see TEMPORARY_NAMES)."""
    return any(fnmatch.fnmatch(path.name.lower(), pattern) for pattern in TEMPORARY_NAMES)


def candidates(inbox: Path) -> list[Path]:
    """Return the export files lying in the inbox (not in its subfolders), oldest first."""
    files = [
        p
        for p in inbox.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not is_temporary(p)
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _snapshot(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _can_open(path: Path) -> bool:
    # Windows refuses to open a file another program is still copying (sharing violation).
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False


# A file that still looks cut short (see looks_complete) after this long unchanged is taken
# as it is: an exporter that writes no final newline must not wait forever.
INCOMPLETE_GRACE = 600.0  # seconds


def looks_complete(path: Path) -> bool:
    """Return True when ``path`` can be read as a whole: an XLSX/XLSM/ODS zip with its end
    record, an XLS (OLE) file of whole 512-byte sectors, a text export whose last line ends.

    A copy that pauses (a network share, a USB stick) looks stable for a while although it is
    half-written; read then, its last rows would be silently lost.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xlsb", ".ods"):
            return zipfile.is_zipfile(path)  # finds the end-of-central-directory record
        size = path.stat().st_size
        if suffix == ".xls":
            return size >= 1024 and size % 512 == 0
        with path.open("rb") as fh:
            head = fh.read(2)
            fh.seek(max(size - 2, 0))
            tail = fh.read(2)
    except OSError:
        return False
    if head == b"\xff\xfe":  # UTF-16 LE: a line ends with 0A 00
        return tail in (b"\n\x00", b"\r\x00")
    if head == b"\xfe\xff":  # UTF-16 BE: 00 0A
        return tail in (b"\x00\n", b"\x00\r")
    return tail[-1:] in (b"\n", b"\r")


def ready_files(
    inbox: Path,
    *,
    settle: float,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> tuple[list[Path], list[Path]]:
    """Return (ready, still being written): a file is ready when its size and modification
    time did not change across ``settle`` seconds, it can be opened and it can be read as a
    whole (``looks_complete``; or it has not changed for ``INCOMPLETE_GRACE`` seconds).

    An empty file that stayed empty across ``settle`` is ready too (``process_inbox`` sends
    it to ``failed/``): left waiting, a 0-byte export would be "still being written" forever
    and a ``--quiet`` cron job would never say a word about it.
    """
    first = {p: _snapshot(p) for p in candidates(inbox)}
    if not first:
        return [], []
    sleep(settle)
    ready, waiting = [], []
    for path, before in first.items():
        after = _snapshot(path)
        if after is None:
            continue  # moved away meanwhile
        settled = before == after and _can_open(path)
        if settled and (
            after[0] == 0  # empty: judged (failed/) by process_inbox
            or looks_complete(path)
            or now() - after[1] / 1e9 > INCOMPLETE_GRACE
        ):
            ready.append(path)
        else:
            waiting.append(path)
    return ready, waiting


def _unique(target: Path) -> Path:
    """Return ``target``, or ``name-2.ext``, ``name-3.ext`` … when taken (never overwrite)."""
    candidate, n = target, 1
    while candidate.exists() or candidate.with_name(candidate.name + REASON_SUFFIX).exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


def _move(path: Path, folder: Path, sleep: Callable[[float], None] = time.sleep) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique(folder / path.name)
    for attempt in range(3):
        try:
            os.replace(path, target)
            return target
        except PermissionError:
            # Windows will not move a file a reader still holds open (an Excel workbook
            # not yet garbage-collected); collect and try again before giving up.
            if attempt == 2:
                raise
            gc.collect()
            sleep(0.5)
    return target


def move_processed(path: Path, inbox: Path, today: date) -> Path:
    """Move an export made into a batch to ``INBOX/processed/YYYY-MM-DD/`` (never over
    another file); return where it went. Used by ``process_inbox`` and the office app."""
    return _move(path, inbox / PROCESSED / today.isoformat())


def _fail(path: Path, inbox: Path, reason: str, today: date) -> FileOutcome:
    target = _move(path, inbox / FAILED)
    # Masked whole: an ID can be in the file's name (the first line) as well as the reason.
    target.with_name(target.name + REASON_SUFFIX).write_text(
        mask_ids(f"{today.isoformat()} {path.name}\n{reason}\n\n")
        + "Sửa tệp rồi chép lại vào thư mục nhận (fix the file and copy it into the inbox again).\n",
        encoding="utf-8",
    )
    log.error("failed %s -> %s: %s", path.name, target, reason)
    return FileOutcome(path, FAILED, target, reason=reason)


ATTEMPTS_NAME = ".cchc-letters-attempts.json"
MAX_ATTEMPTS = 2


class _Attempts:
    """Files a pass started on, kept in ``INBOX/.cchc-letters-attempts.json`` until the pass
    is done with them: an entry still there on the next pass means the process died on that
    file (a native crash, memory exhausted, killed). Keyed by name, size and time, so a file
    copied in again (fixed) starts afresh."""

    def __init__(self, inbox: Path) -> None:
        import json

        self.path = inbox / ATTEMPTS_NAME
        try:
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            assert isinstance(self.entries, dict)
        except (OSError, ValueError, AssertionError):
            self.entries = {}

    @staticmethod
    def _stamp(path: Path) -> list[int]:
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]

    def tries(self, path: Path) -> int:
        entry = self.entries.get(path.name)
        if not isinstance(entry, dict) or entry.get("file") != self._stamp(path):
            return 0
        return int(entry.get("tries", 0))

    def start(self, path: Path) -> None:
        self.entries[path.name] = {"file": self._stamp(path), "tries": self.tries(path) + 1}
        self._save()

    def done(self, path: Path) -> None:
        if self.entries.pop(path.name, None) is not None:
            self._save()

    def _save(self) -> None:
        import json

        partial = self.path.with_name(self.path.name + ".part")
        try:
            if not self.entries:
                self.path.unlink(missing_ok=True)
                return
            partial.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:  # a full inbox disk: the count is lost, nothing else
            pass


def process_inbox(
    inbox: Path,
    options_for: Callable[[Path], BatchOptions],
    *,
    today: date,
    settle: float = 2.0,
    wait: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> InboxPass:
    """Make a batch of each completed export in ``inbox``, one file at a time, and move it.

    ``options_for(path)`` returns the batch options for one file; ``today`` names the
    ``processed/`` subfolder. A file that cannot be read at all goes to ``failed/``; a failure
    that is not the file's (profile, template, another run holding the lock) stops the pass
    and leaves the file where it is, for the next pass.
    """
    from cchc_letters import locking
    from cchc_letters.logs import log_batch

    inbox_pass = InboxPass()
    try:
        with locking.hold([locking.inbox_lock_path(inbox)], wait=wait, what=str(inbox)):
            ready, inbox_pass.waiting = ready_files(inbox, settle=settle, sleep=sleep)
            for path in inbox_pass.waiting:
                log.info("still being written, left for the next pass: %s", path.name)
            attempts = _Attempts(inbox)
            # A file on which an earlier pass died goes last, so it cannot hold the others
            # up; after MAX_ATTEMPTS such deaths it goes to failed/.
            for path in sorted(ready, key=attempts.tries):
                if (tries := attempts.tries(path)) >= MAX_ATTEMPTS:
                    reason = (
                        f"cchc-letters đã dừng đột ngột {tries} lần khi xử lý tệp này (the tool "
                        f"stopped {tries} times while processing this file: it may be damaged "
                        "or far too large)"
                    )
                    inbox_pass.outcomes.append(_fail(path, inbox, reason, today))
                    attempts.done(path)
                    continue
                if path.stat().st_size == 0:
                    reason = (
                        f"tệp rỗng (0 byte) sau {settle:g} giây chờ: bản xuất không có dữ liệu "
                        "hoặc bị chép lỗi (empty file)"
                    )
                    inbox_pass.outcomes.append(_fail(path, inbox, reason, today))
                    continue
                attempts.start(path)
                try:
                    result = run_batch(options_for(path))
                except InputError as exc:
                    attempts.done(path)
                    inbox_pass.outcomes.append(_fail(path, inbox, exc.message, today))
                    continue
                except CchcError:  # not the file's fault (profile, lock, disk full): it stays
                    attempts.done(path)
                    raise
                except Exception as exc:  # a file our readers choke on is still the file's
                    attempts.done(path)
                    log.exception("unexpected error on %s", path.name)
                    reason = f"lỗi không lường trước ({type(exc).__name__}: {exc})"
                    inbox_pass.outcomes.append(_fail(path, inbox, reason, today))
                    continue
                attempts.done(path)
                log_batch(log, path.name, result)
                try:
                    target = move_processed(path, inbox, today)
                except OSError as exc:  # letters are in the ledger: the next pass skips them
                    log.error("processed %s but could not move it: %s", path.name, exc)
                    reason = f"đã tạo thư nhưng không chuyển được tệp ({exc})"
                    inbox_pass.outcomes.append(FileOutcome(path, UNMOVED, path, result, reason))
                    continue
                inbox_pass.outcomes.append(FileOutcome(path, PROCESSED, target, result))
    except CchcError as exc:
        log.error("%s (exit %d)", exc.message, int(exc.exit_code))
        inbox_pass.error = exc
    return inbox_pass
