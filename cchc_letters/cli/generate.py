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
    MappingOption,
    ProfileOption,
    parse_date_option,
    parse_kind_option,
    print_json,
    user_errors,
)

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
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF of each print file (needs LibreOffice).")
    ] = False,
    kind: KindOption = None,
    mapping: MappingOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule", help="Use this vaccination schedule version (see `schedule --list`)."
        ),
    ] = None,
    per_file: Annotated[
        int,
        typer.Option(
            "--per-file",
            min=1,
            help="Letters per print file (DOCX); more go to the next file "
            "(khai-sinh-001.docx, -002, …). Small files open quickly in Word.",
        ),
    ] = 200,
    per_letter: Annotated[
        bool,
        typer.Option(
            "--per-letter",
            help="One DOCX per letter (khai-sinh-thu-00001.docx, …) instead of print files, "
            "for e-mail or archiving.",
        ),
    ] = False,
) -> None:
    """Turn registrations into print-ready letters: one DOCX per kind, a letter per page."""
    from cchc_letters.pipeline import BatchOptions, run_batch

    options = BatchOptions(
        inputs=inputs,
        out_dir=out,
        letter_date=parse_date_option(letter_date),
        profile_path=profile,
        kind=parse_kind_option(kind),
        mapping=mapping,
        encoding=encoding,
        delimiter="\t" if delimiter == "tab" else delimiter,
        schedule_id=schedule,
        per_file=per_file,
        per_letter=per_letter,
        pdf=pdf,
    )
    with user_errors():
        if json_output or not sys.stdout.isatty():
            result = run_batch(options)
        else:
            result = _run_with_progress(options, run_batch)
    if json_output:
        print_json(result.to_json())
    else:
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

        return run_batch(options, progress=advance)


def _present(result) -> None:
    from cchc_letters.models import Kind

    echo = typer.echo
    if result.profile_is_default:
        echo(f"Hồ sơ xã: dùng hồ sơ mẫu {result.profile_path} (đặt --profile cho xã của bạn)")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Lô thư {result.batch_dir.name}")
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
