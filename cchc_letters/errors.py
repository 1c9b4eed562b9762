"""The one base error for user-facing failures, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes, documented in --help and the README."""

    OK = 0  # every row became a letter
    FATAL = 1  # no letters written (bad profile, broken template, unreadable everything)
    USAGE = 2  # wrong options (Typer/Click's own code)
    REJECTED = 3  # batch finished, but some rows or files could not be used
    LOCKED = 4  # another run holds the lock and --wait ran out
    UNRECORDED = 5  # the batch is complete and in place, but the ledger could not record it


class CchcError(Exception):
    """A failure the user can fix; its message is shown without a traceback."""

    exit_code: ExitCode = ExitCode.FATAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CchcError):
    """An option given a value it cannot take (exit 2, as the CLI's own usage errors).

    ``option`` is the option as the user typed it ("--encoding"); the message starts with it.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, option: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{option}: {message}", hint=hint)
        self.option = option


class ProfileError(CchcError):
    """The commune profile is missing, unreadable or incomplete."""


class TemplateProblem(CchcError):
    """A letter template cannot be used (syntax, unknown names, layout)."""


class InputError(CchcError):
    """No input could be used at all."""


class OutputFolderError(CchcError):
    """The output folder (--out) is a file, or cannot be created or written."""


class ScheduleError(CchcError):
    """No vaccination schedule version applies, or a schedule file is broken."""


class LockTimeout(CchcError):
    """Another run holds the batch lock for longer than --wait."""

    exit_code = ExitCode.LOCKED


class WriteFailed(CchcError):
    """The machine failed while writing (disk full, device error, folder read-only): not the
    input's fault. Nothing half-written is left looking finished; the ledger is unchanged."""


class BatchNotRecorded(CchcError):
    """The batch folder is complete and in place but the ledger commit failed (disk full):
    its letters exist and are to be printed; the next run records them from its manifest.
    ``details`` holds the batch's ``--json`` fields."""

    exit_code = ExitCode.UNRECORDED

    def __init__(
        self, message: str, *, hint: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message, hint=hint)
        self.details = details or {}


def write_failed(exc: OSError, what: str) -> WriteFailed:
    """Return the WriteFailed for an OSError met while writing ``what`` (a path or a name)."""
    import errno

    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        reason = "ổ đĩa đã đầy (disk full: no space left on the device)"
        hint = "Giải phóng chỗ trống trên ổ đĩa rồi chạy lại; lần chạy sau tự dọn phần dở dang."
    elif exc.errno == errno.EROFS or isinstance(exc, PermissionError):
        reason = f"không có quyền ghi ({exc.strerror or exc}) (disk write refused)"
        hint = "Kiểm tra quyền ghi của thư mục đầu ra rồi chạy lại."
    else:
        reason = f"lỗi ổ đĩa: {exc.strerror or exc} (disk or device error while writing)"
        hint = "Kiểm tra ổ đĩa (hoặc ổ mạng) rồi chạy lại; lần chạy sau tự dọn phần dở dang."
    return WriteFailed(
        f"không ghi được {what}: {reason}; chưa có thư nào được ghi vào sổ theo dõi "
        "(nothing was recorded in the ledger)",
        hint=hint,
    )
