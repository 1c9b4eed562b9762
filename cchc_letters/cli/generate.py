"""`cchc-letters generate`: the daily batch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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
    ledger_settings,
    parse_date_option,
    print_json,
    user_errors,
)
from cchc_letters.errors import CchcError

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
    from cchc_letters.logs import day_log, log_batch
    from cchc_letters.pipeline import BatchOptions, BatchResult, local_now, run_batch

    with user_errors(json_output=json_output, json_fields=BatchResult.failed_json()):
        ledger_path, use_ledger = ledger_settings(ledger, no_ledger)
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
            ledger=ledger_path,
            use_ledger=use_ledger,
            reprint_changed=reprint_changed,
            new_ledger=new_ledger,
            wait=wait,
        )
        with day_log(out, local_now()) as log:
            try:
                if json_output or quiet or not sys.stdout.isatty():
                    result = run_batch(options)
                else:
                    result = _run_with_progress(options, run_batch)
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
        _present(result)
    raise typer.Exit(int(result.exit_code))


def _run_with_progress(options, run_batch):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = None

        def advance(done: int, total: int) -> None:
            nonlocal task
            if total < PROGRESS_THRESHOLD:
                return
            if task is None:
                task = bar.add_task("Đang tạo thư", total=total)
            bar.update(task, completed=done)

        pdf_task = None

        def converted(done: int, total: int) -> None:
            # --pdf takes seconds per print file: shown however small the batch
            nonlocal pdf_task
            if pdf_task is None:
                pdf_task = bar.add_task("Đang tạo PDF (LibreOffice)", total=total)
            bar.update(pdf_task, completed=done)

        return run_batch(options, progress=advance, pdf_progress=converted)


def _present(result) -> None:
    from cchc_letters.models import Kind

    echo = typer.echo
    if result.profile_is_default:
        echo(f"Hồ sơ xã: dùng hồ sơ mẫu {result.profile_path} (đặt --profile cho xã của bạn)")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        title = f"Lô thư {result.batch_dir.name}" if result.batch_dir else "Không có thư mới"
        table = Table(title=title)
        table.add_column("Loại thư")
        table.add_column("Số thư", justify="right")
        for kind in Kind:
            table.add_row(f"Thư {kind.vietnamese}", str(result.letters.get(kind, 0)))
        Console().print(table)
    else:
        for kind in Kind:
            echo(f"{kind.value}: {result.letters.get(kind, 0)} thư")
    echo(
        f"Đã đọc {result.rows_read} dòng; {sum(result.letters.values())} thư; "
        f"{result.rejected} dòng bị loại; {result.duplicates} dòng trùng lặp; "
        f"{result.skipped_already_printed} đã in trước đó."
    )
    for path in result.files:
        echo(f"In: {path}")
    _present_delivery(result.delivery)
    _present_ledger(result)
    for path in result.pdf_files:
        echo(f"PDF: {path}")
    if result.pdf_message:
        echo(f"PDF: {result.pdf_message}", err=True)
    if result.rejects_file:
        echo(f"Các dòng không dùng được và lý do: {result.rejects_file}", err=True)
        for issue in result.issues[:10]:
            where = issue.source or issue.file or ""
            column = f" [{issue.column}]" if issue.column else ""
            echo(f"  {where}{column}: {issue.message}", err=True)
        if len(result.issues) > 10:
            echo(f"  … và {len(result.issues) - 10} dòng khác (xem rejects.csv)", err=True)


def _present_delivery(sheet) -> None:
    """Say where the delivery sheet is; letters whose address names no hamlet (stderr)."""
    if sheet is None:
        return
    groups = ", ".join(f"{name}: {count}" for name, count in sheet.groups.items())
    typer.echo(f"Danh sách giao thư: {sheet.docx} ({groups})")
    if sheet.unplaced:
        typer.echo(
            f"{len(sheet.unplaced)} thư có địa chỉ không khớp ấp / khu phố nào trong hồ sơ xã, "
            "xếp vào nhóm Khác (address names no hamlet of the profile):",
            err=True,
        )
        for row in sheet.unplaced[:10]:
            typer.echo(f"  {row.key}: {row.address or '(không có địa chỉ)'}", err=True)
        typer.echo(
            "Gợi ý (hint): thêm tên hoặc cách viết khác vào [[hamlets]] của hồ sơ xã.", err=True
        )


def _present_ledger(result) -> None:
    """Say what the ledger settled: crashed runs cleaned up, corrected records (stderr)."""
    echo = typer.echo
    if result.batch_dir is None:
        echo("Không có thư mới: không tạo lô thư (no new letters, no batch folder).")
    for path in result.removed_incomplete:
        echo(f"Đã xoá thư mục dở dang của lần chạy bị ngắt: {path}", err=True)
    for path in result.recovered:
        echo(f"Đã ghi vào sổ theo dõi lô thư của lần chạy bị ngắt: {path}", err=True)
    for letter in result.do_not_deliver:
        echo(
            f"KHÔNG GIAO thư khai sinh {letter['key']} ({letter['batch']}/{letter['print_file']} "
            f"#{letter['position']}): trẻ đã được đăng ký khai tử ({letter['death_key']}) "
            "(do not deliver this birth letter: the child's death is registered)",
            err=True,
        )
    if not result.changed:
        return
    reprinted = sum(1 for c in result.changed if c.reprinted)
    echo(
        f"{len(result.changed)} hồ sơ đã in thư nhưng nay có nội dung khác "
        f"(changed since printed); in lại {reprinted}: {result.changed_file}",
        err=True,
    )
    for changed in result.changed[:10]:
        previous = changed.previous
        action = "in lại" if changed.reprinted else "CHƯA in lại"
        echo(
            f"  {changed.key} ({changed.registration.source}): đã in {previous.printed_at[:10]} "
            f"{previous.batch}/{previous.print_file} #{previous.position} — {action}",
            err=True,
        )
    if len(result.changed) > 10:
        echo(f"  … và {len(result.changed) - 10} hồ sơ khác (xem changed.csv)", err=True)
    if reprinted < len(result.changed):
        echo("Gợi ý (hint): kiểm tra rồi chạy lại với --reprint-changed để in lại.", err=True)
