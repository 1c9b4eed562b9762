"""`cchc-letters generate`: the daily batch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cchc_letters.cli.app import EXIT_CODES_HELP, app
from cchc_letters.cli.common import (
    DateOption,
    DelimiterOption,
    EncodingOption,
    InputsArgument,
    JsonOption,
    KindOption,
    LedgerOption,
    MappingOption,
    NewLedgerOption,
    NoDeliverySheetOption,
    NoLedgerOption,
    PdfOption,
    PerFileOption,
    ProfileOption,
    QuietOption,
    ReprintChangedOption,
    ScheduleOption,
    WaitOption,
    input_settings,
    parse_date_option,
    print_json,
    user_errors,
)
from cchc_letters.cli.present import present_batch
from cchc_letters.errors import CchcError

if TYPE_CHECKING:
    from cchc_letters.pipeline import BatchOptions, BatchResult

PROGRESS_THRESHOLD = 50  # letters; smaller daily batches finish before a bar would help


@app.command("generate", epilog=EXIT_CODES_HELP)
def generate(
    inputs: InputsArgument,
    out: Annotated[
        Path, typer.Option("--out", help="Output folder; each run adds a batch folder inside it.")
    ],
    profile: ProfileOption = None,
    letter_date: DateOption = None,
    json_output: JsonOption = False,
    pdf: PdfOption = False,
    no_delivery_sheet: NoDeliverySheetOption = False,
    kind: KindOption = None,
    mapping: MappingOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
    schedule: ScheduleOption = None,
    per_file: PerFileOption = 200,
    per_letter: Annotated[
        bool,
        typer.Option(
            "--per-letter",
            help="One DOCX per letter (khai-sinh-thu-00001.docx, …) instead of print files, "
            "for e-mail or archiving.",
        ),
    ] = False,
    ledger: LedgerOption = None,
    no_ledger: NoLedgerOption = False,
    reprint_changed: ReprintChangedOption = False,
    new_ledger: NewLedgerOption = False,
    wait: WaitOption = 600.0,
    quiet: QuietOption = False,
) -> None:
    """Turn registrations into print-ready letters: one DOCX per kind, a letter per page.

    Letters already printed into the same --out (its ledger) are skipped; a registration
    corrected since its letter was printed is listed, not reprinted, unless --reprint-changed.
    """
    import gc

    from cchc_letters.logs import day_log, log_batch
    from cchc_letters.pipeline import (
        BATCH_GC_THRESHOLDS,
        BatchOptions,
        BatchResult,
        local_now,
        run_batch,
    )

    with user_errors(json_output=json_output, json_fields=BatchResult.failed_json()):
        options = BatchOptions(
            inputs=inputs,
            out_dir=out,
            letter_date=parse_date_option(letter_date),
            profile_path=profile,
            **input_settings(
                kind=kind,
                mapping=mapping,
                encoding=encoding,
                delimiter=delimiter,
                schedule=schedule,
            ),
            per_file=per_file,
            per_letter=per_letter,
            pdf=pdf,
            delivery_sheet=not no_delivery_sheet,
            ledger=ledger,
            use_ledger=not no_ledger,
            reprint_changed=reprint_changed,
            new_ledger=new_ledger,
            wait=wait,
        )
        # This process ends with its batch: it keeps the batch's collector thresholds to the
        # end. Restoring CPython's after it (run_batch does, for the office app) made the
        # next allocation scan the batch's objects once more: 10 ms of a daily batch.
        gc.set_threshold(*BATCH_GC_THRESHOLDS)
        with day_log(out, local_now()) as log:
            try:
                if json_output or quiet or not sys.stdout.isatty():
                    result = run_batch(options)
                else:
                    result = _run_with_progress(options)
            except CchcError as exc:  # a user mistake: reported below, logged here
                log.error("%s (exit %d)", exc.message, int(exc.exit_code))
                raise
            except Exception:
                log.exception("unexpected error")
                raise
            log_batch(log, ", ".join(str(p) for p in inputs), result)
    if json_output:
        print_json(result.to_json())
    elif not (quiet and result.exit_code == 0 and not result.changed and not result.do_not_deliver):
        present_batch(result)
    raise typer.Exit(int(result.exit_code))


def _run_with_progress(options: BatchOptions) -> BatchResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

    from cchc_letters.pipeline import run_batch

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task: TaskID | None = None

        def advance(done: int, total: int) -> None:
            nonlocal task
            if total < PROGRESS_THRESHOLD:
                return
            if task is None:
                task = bar.add_task("Đang tạo thư", total=total)
            bar.update(task, completed=done)

        pdf_task: TaskID | None = None

        def converted(done: int, total: int) -> None:
            # --pdf takes seconds per print file: shown however small the batch
            nonlocal pdf_task
            if pdf_task is None:
                pdf_task = bar.add_task("Đang tạo PDF (LibreOffice)", total=total)
            bar.update(pdf_task, completed=done)

        return run_batch(options, progress=advance, pdf_progress=converted)
