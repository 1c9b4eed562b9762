"""Options shared by several commands, defined once, and the error boundary of the CLI."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from cchc_letters import kinds
from cchc_letters.errors import CchcError

KIND_NAMES = kinds.help_text()  # "birth, marriage or death (khai sinh / kết hôn / khai tử)"

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON object on stdout, nothing else.")
]
ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Commune profile (TOML). Default: the shipped demo profile of UBND xã Ngãi Giao.",
        dir_okay=False,
    ),
]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Letter date YYYY-MM-DD, used for every date computation (default: today).",
        metavar="YYYY-MM-DD",
    ),
]


def parse_date_option(value: str | None, option: str = "--date") -> date:
    """Return the date given as YYYY-MM-DD, or today when None; a usage error otherwise."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def print_json(payload: dict[str, Any]) -> None:
    """Write one JSON object (UTF-8, Vietnamese kept readable) on stdout."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def error(message: str) -> None:
    """Write an error line on stderr."""
    typer.echo(f"Lỗi (error): {message}", err=True)


@contextmanager
def user_errors(
    log: logging.Logger | None = None,
    *,
    json_output: bool = False,
    json_fields: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Turn a CchcError (or an OSError: a fault of the machine) into a one-line message and
    its exit code; no traceback.

    With ``log`` (the day's log file), the error is also logged there. With ``json_output``
    the error is still one JSON object on stdout (``error``, ``hint``, ``exit_code`` and
    ``json_fields``: the command's usual keys, empty), so a script reading stdout always
    gets an answer; a usage mistake found here (exit 2) is reported the same way.
    """
    try:
        try:
            yield
        except OSError as exc:  # a fault of the machine (disk full, …): a message, no traceback
            from cchc_letters.errors import write_failed

            raise write_failed(exc, str(exc.filename or "")) from None
    except CchcError as exc:
        if log:
            log.error("%s (exit %d)", exc.message, int(exc.exit_code))
        error(exc.message)
        if exc.hint:
            typer.echo(f"Gợi ý (hint): {exc.hint}", err=True)
        if json_output:
            # An error that happened after a batch was written carries the batch's fields.
            fields = {**(json_fields or {}), **getattr(exc, "details", {})}
            print_json(_error_json(exc.message, exc.hint, int(exc.exit_code), fields))
        raise typer.Exit(int(exc.exit_code)) from None
    except typer.BadParameter as exc:  # an option's own check found a usage mistake
        if json_output:
            print_json(_error_json(exc.format_message(), None, exc.exit_code, json_fields))
        raise


def _error_json(
    message: str, hint: str | None, exit_code: int, fields: dict[str, Any] | None
) -> dict[str, Any]:
    return {"error": message, "hint": hint, **(fields or {}), "exit_code": exit_code}


InputsArgument = Annotated[
    list[Path],
    typer.Argument(
        help="CSV/XLSX/XLS files of registrations, or folders of them.",
        metavar="INPUT...",
        exists=True,
        show_default=False,
    ),
]
KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help=f"Treat every input as this register: {KIND_NAMES}. "
        "Default: recognised from title, columns or a kind column.",
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="Extra column headings (TOML, same format as data/columns.toml).",
        exists=True,
        dir_okay=False,
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option("--encoding", help="Force the CSV text encoding (utf-8, utf-16, cp1258, …)."),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option("--delimiter", help="Force the CSV delimiter (',', ';' or 'tab')."),
]


ScheduleOption = Annotated[
    str | None,
    typer.Option(
        "--schedule",
        help="Use this vaccination schedule version (see `schedule --list`).",
        metavar="ID",
    ),
]
PerFileOption = Annotated[
    int,
    typer.Option(
        "--per-file",
        min=1,
        help="Letters per print file (DOCX); more go to the next file "
        "(khai-sinh-001.docx, -002, …). Small files open quickly in Word.",
    ),
]
PdfOption = Annotated[
    bool,
    typer.Option(
        "--pdf",
        help="Also write a PDF of each print file through LibreOffice (soffice on PATH, "
        "in its usual install folder, or the program named by $CCHC_SOFFICE). Without "
        "LibreOffice the DOCX batch is still written and a message says so.",
    ),
]

NoDeliverySheetOption = Annotated[
    bool,
    typer.Option(
        "--no-delivery-sheet",
        help="Do not write the batch's delivery sheet (giao-thu.docx and giao-thu.csv: the "
        "letters by hamlet, with a column for the recipient's signature).",
    ),
]


# ---- unattended runs and the ledger (issue 6) ----
LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help="Ledger of printed letters (SQLite). Default: OUT/ledger.sqlite3.",
        dir_okay=False,
    ),
]
NoLedgerOption = Annotated[
    bool,
    typer.Option(
        "--no-ledger",
        help="One-off run: neither skip already printed letters nor record these.",
    ),
]
NewLedgerOption = Annotated[
    bool,
    typer.Option(
        "--new-ledger",
        help="Accept a new or empty ledger although --out holds batch folders it does not "
        "record (a lost ledger): their letters may be printed again. Without it such a run "
        "stops; `ledger rebuild` is usually the better way out.",
    ),
]
ReprintChangedOption = Annotated[
    bool,
    typer.Option(
        "--reprint-changed",
        help="Reprint registrations corrected since their letter was printed "
        "(otherwise they are only listed, in changed.csv).",
    ),
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="Wait this long for another run writing into the same --out, then exit with 4.",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing when all went well (exit 0, nothing corrected): for cron.",
    ),
]


def input_settings(
    *,
    kind: str | None,
    mapping: Path | None,
    encoding: str | None,
    delimiter: str | None,
    schedule: str | None,
) -> dict[str, Any]:
    """Return the BatchOptions fields of the input options shared by generate and watch, as
    typed: BatchOptions checks them (cchc_letters.options, a UsageError naming the option)."""
    return {
        "kind": kind,
        "mapping": mapping,
        "encoding": encoding,
        "delimiter": delimiter,
        "schedule_id": schedule,
    }
