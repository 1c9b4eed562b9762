"""The one base error for user-facing failures, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in --help and the README."""

    OK = 0  # every row became a letter
    FATAL = 1  # no letters written (bad profile, broken template, unreadable everything)
    USAGE = 2  # wrong options (Typer/Click's own code)
    REJECTED = 3  # batch finished, but some rows or files could not be used
    LOCKED = 4  # another run holds the lock and --wait ran out


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
