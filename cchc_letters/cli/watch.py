"""`cchc-letters watch`: an inbox of exports made into batches, for cron or Task Scheduler."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cchc_letters.cli.app import EXIT_CODES_HELP, app
from cchc_letters.cli.common import (
    DateOption,
    DelimiterOption,
    EncodingOption,
    KindOption,
    LedgerOption,
    MappingOption,
    NewLedgerOption,
    NoDeliverySheetOption,
    PdfOption,
    PerFileOption,
    ProfileOption,
    QuietOption,
    ScheduleOption,
    WaitOption,
    input_settings,
    parse_date_option,
    user_errors,
)
from cchc_letters.cli.present import present_batch

if TYPE_CHECKING:
    from datetime import date

    from cchc_letters.pipeline import BatchOptions
    from cchc_letters.watch import InboxPass


@app.command("watch", epilog=EXIT_CODES_HELP)
def watch(
    inbox: Annotated[
        Path,
        typer.Argument(
            help="Folder where exports arrive.", exists=True, file_okay=False, show_default=False
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder: batches, ledger.sqlite3, logs/.")
    ],
    profile: ProfileOption = None,
    letter_date: DateOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is there now and exit (for cron).")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1, metavar="SECONDS", help="Seconds between looks.")
    ] = 30.0,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            min=0,
            metavar="SECONDS",
            help="A file counts as complete when its size and time stay unchanged this long.",
        ),
    ] = 2.0,
    kind: KindOption = None,
    mapping: MappingOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
    schedule: ScheduleOption = None,
    per_file: PerFileOption = 200,
    pdf: PdfOption = False,
    no_delivery_sheet: NoDeliverySheetOption = False,
    ledger: LedgerOption = None,
    new_ledger: NewLedgerOption = False,
    wait: WaitOption = 600.0,
    quiet: QuietOption = False,
) -> None:
    """Make a batch of each export file that arrives in INBOX, then move the file to
    INBOX/processed/YYYY-MM-DD/ (or INBOX/failed/ with a .reason.txt if it cannot be read).

    The processed/ folder is named by the day the file was processed (the computer's clock),
    not by --date.

    Files still being copied, and temporary names (~$*.xlsx, *.part, *.tmp), are left for a
    later look; a file still empty after --settle goes to failed/. Every letter is printed
    once across runs (the ledger in --out). The input options (--mapping, --kind, …) apply
    to every file, as in `generate`.
    """
    from cchc_letters.pipeline import BatchOptions

    with user_errors():
        template = BatchOptions(
            inputs=[],
            out_dir=out,
            letter_date=parse_date_option(letter_date),  # replaced per pass unless --date
            profile_path=profile,
            **input_settings(
                kind=kind,
                mapping=mapping,
                encoding=encoding,
                delimiter=delimiter,
                schedule=schedule,
            ),
            per_file=per_file,
            pdf=pdf,
            delivery_sheet=not no_delivery_sheet,
            ledger=ledger,
            new_ledger=new_ledger,
            wait=wait,
        )
    try:
        _watch_loop(inbox, template, letter_date is not None, once, interval, settle, quiet)
    except KeyboardInterrupt:
        typer.echo("Đã dừng (stopped).", err=True)
        raise typer.Exit(130) from None


def _watch_loop(
    inbox: Path,
    template: BatchOptions,
    fixed_date: bool,
    once: bool,
    interval: float,
    settle: float,
    quiet: bool,
) -> None:
    from dataclasses import replace

    from cchc_letters.logs import day_log
    from cchc_letters.pipeline import local_now
    from cchc_letters.watch import process_inbox

    wait = template.wait
    while True:
        now = local_now()
        letter_day = template.letter_date if fixed_date else now.date()

        def options_for(path: Path, letter_day: date = letter_day) -> BatchOptions:
            return replace(template, inputs=[path], letter_date=letter_day)

        with user_errors(), day_log(template.out_dir, now):  # --out a file: exit 1, no traceback
            inbox_pass = process_inbox(
                inbox, options_for, today=now.date(), settle=settle, wait=wait if once else 0
            )
        _present(inbox_pass, quiet)
        error = inbox_pass.error
        if once or (error and error.exit_code != 4):  # a held lock: try again next look
            raise typer.Exit(int(inbox_pass.exit_code))
        time.sleep(interval)


def _present(inbox_pass: InboxPass, quiet: bool) -> None:
    echo = typer.echo
    for outcome in inbox_pass.outcomes:
        result = outcome.result
        if outcome.status != "processed":
            echo(f"Lỗi (error): {outcome.source.name}: {outcome.reason}", err=True)
            if outcome.moved_to != outcome.source:
                echo(f"  → {outcome.moved_to}", err=True)
        if result is None:
            continue  # failed before it became a batch (a processed file always has one)
        if quiet and not (result.exit_code or result.changed):
            continue
        present_batch(result, source=outcome.source.name)
    if inbox_pass.waiting and not quiet:
        names = ", ".join(p.name for p in inbox_pass.waiting)
        echo(f"Đang được chép, để lần sau (still being written): {names}")
    if inbox_pass.error:
        echo(f"Lỗi (error): {inbox_pass.error.message}", err=True)
        if inbox_pass.error.hint:
            echo(f"Gợi ý (hint): {inbox_pass.error.hint}", err=True)
