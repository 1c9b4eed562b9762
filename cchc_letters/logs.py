"""The day's log file in the output folder, with personal ID numbers masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cchc_letters.pipeline import BatchResult

LOGGER_NAME = "cchc_letters"
LOG_DIR = "logs"

# A 12-digit số định danh cá nhân (or a 9-digit old CMND) standing alone, not inside a
# longer number or a hex hash — in every form validation accepts: its digits may be
# separated by spaces or dots ("079 226 000 202", "079.226.000.202", validate._personal_id).
_GAP = r"(?:[^\S\r\n]|\.)*"
_ID_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])(?:\d(?:{_GAP}\d){{11}}|\d(?:{_GAP}\d){{8}})(?![0-9A-Za-z])"
)


def _masked(match: re.Match[str]) -> str:
    """Return the ID with every digit but the last three as "*", separators kept."""
    text = match[0]
    keep = len(text)
    for _ in range(3):
        keep = max(i for i in range(keep) if text[i].isdigit())
    return "".join("*" if c.isdigit() else c for c in text[:keep]) + text[keep:]


def mask_ids(text: str) -> str:
    """Return ``text`` with personal ID numbers masked but for their last 3 digits."""
    return _ID_NUMBER.sub(_masked, text)


class MaskingFormatter(logging.Formatter):
    """A formatter that masks ID numbers in the message and in any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_ids(super().format(record))


class _LogFile(logging.FileHandler):
    """The day's log file. A line that cannot be written (disk full) is dropped quietly:
    the run reports the fault itself; the logging module would print a traceback."""

    finished = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass

    def emit(self, record: logging.LogRecord) -> None:
        # Another thread (the office app's server) may hand us a record just after the run
        # closed this handler; logging.FileHandler would then reopen the file and leak it.
        if not self.finished:
            super().emit(record)

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # emit runs under the same lock
            self.finished = True
        super().close()


def log_path(out_dir: Path, now: datetime) -> Path:
    """Return the log file of the day ``now`` falls on: ``OUT/logs/cchc-letters-DATE.log``."""
    return out_dir / LOG_DIR / f"cchc-letters-{now.date().isoformat()}.log"


@contextmanager
def day_log(out_dir: Path, now: datetime) -> Iterator[logging.Logger]:
    """Append what happens (the ``cchc_letters`` logger, INFO and up) to the day's log.

    Raises OutputFolderError (exit 1, no traceback) when ``out_dir`` is a file or cannot be
    written.
    """
    from cchc_letters.errors import OutputFolderError
    from cchc_letters.output import ensure_out_dir

    path = log_path(ensure_out_dir(out_dir), now)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _LogFile(path, encoding="utf-8")
    except OSError as exc:
        raise OutputFolderError(
            f"không ghi được nhật ký {path}: {exc.strerror or exc} (cannot write the log)",
            hint="Kiểm tra quyền ghi của thư mục --out và thư mục logs/ trong đó.",
        ) from None
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()


def log_batch(logger: logging.Logger, inputs: str, result: BatchResult) -> None:
    """Write a finished batch's summary to ``logger``: counts, keys and row numbers only —
    never names (rejected rows are logged by location and reason code)."""
    counts = " ".join(f"{k.value}={n}" for k, n in result.letters.items()) or "none"
    logger.info(
        "batch %s from %s: letters %s; skipped already printed %d; changed %d; rejected %d; "
        "exit %d",
        result.batch_dir or "(nothing new: no batch folder)",
        inputs,
        counts,
        result.skipped_already_printed,
        len(result.changed),
        result.rejected,
        int(result.exit_code),
    )
    if result.rejects_file:
        logger.info("rejected rows and reasons: %s", result.rejects_file)
    if result.changed_file:
        logger.info("records changed since printed: %s", result.changed_file)
    for path in result.removed_incomplete:
        logger.warning("removed the unfinished folder of a run that died: %s", path)
    for path in result.recovered:
        logger.warning("recorded in the ledger a batch whose run died after writing it: %s", path)
    for changed in result.changed:
        previous = changed.previous
        logger.warning(
            "changed since printed: %s (printed %s in %s/%s #%d); %s",
            changed.key,
            previous.printed_at,
            previous.batch,
            previous.print_file,
            previous.position,
            "reprinted" if changed.reprinted else "NOT reprinted (use --reprint-changed)",
        )
    for issue in result.issues:
        logger.warning("rejected %s: [%s]", issue.source or issue.file or "", issue.code)
