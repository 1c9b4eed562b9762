"""`cchc-letters sessions`: the health station's lists of children due at each session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import (
    DateOption,
    JsonOption,
    LedgerOption,
    ProfileOption,
    WaitOption,
    parse_date_option,
    print_json,
    user_errors,
)

SESSIONS_EXIT_HELP = (
    "Exit codes: 0 lists written; 1 fatal error (no ledger, bad profile), nothing written; "
    "2 usage error; 3 lists written, but some feedback rows could not be used; "
    "4 another run holds the lock longer than --wait."
)


def _month(value: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in value.split("-"))
        if len(value) == 7 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    raise typer.BadParameter(f"{value!r} is not a month YYYY-MM", param_hint="--month")


@app.command("sessions", epilog=SESSIONS_EXIT_HELP)
def sessions(
    month: Annotated[
        str, typer.Option("--month", metavar="YYYY-MM", help="The month whose sessions to list.")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="The output folder of `generate` (its ledger is read)."),
    ],
    profile: ProfileOption = None,
    today: DateOption = None,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            exists=True,
            dir_okay=False,
            help="The station's CSV: registration_key, status (đã tiêm / chuyển đi), and "
            "optionally session_date; taken into account before the lists are written.",
        ),
    ] = None,
    reminders: Annotated[
        Path | None,
        typer.Option(
            "--reminders",
            dir_okay=False,
            help="Also write this CSV: one row per family due at the next session (phone, "
            "message in Vietnamese of at most 160 characters, the same without diacritics).",
        ),
    ] = None,
    ledger: LedgerOption = None,
    wait: WaitOption = 600.0,
    json_output: JsonOption = False,
) -> None:
    """Write OUT/sessions/danh-sach-tiem-YYYY-MM-DD.docx and .xlsx for each vaccination
    session of the month: the children due, by hamlet, with parents, address and phone, and
    the number of doses per vaccine at the top. Children whose death is registered, or whom
    the station reported moved away, are left out; doses reported given are not listed again.
    """
    from cchc_letters.session_lists import SessionsOptions, SessionsResult, run_sessions

    with user_errors(json_output=json_output, json_fields=SessionsResult.failed_json()):
        year, number = _month(month)
        options = SessionsOptions(
            out_dir=out,
            year=year,
            month=number,
            today=parse_date_option(today),
            profile_path=profile,
            ledger=ledger,
            feedback=feedback,
            reminders=reminders,
            wait=wait,
        )
        result = run_sessions(options)
    if json_output:
        print_json(result.to_json())
        raise typer.Exit(int(result.exit_code))
    echo = typer.echo
    if result.feedback_applied:
        echo(f"Đã ghi {result.feedback_applied} phản hồi của trạm y tế (feedback applied).")
    for issue in result.feedback_issues:
        echo(f"  {issue.file}:{issue.row}: {issue.message}: {issue.value!r}", err=True)
    if not result.lists:
        echo(f"Tháng {month} không có buổi tiêm nào theo hồ sơ xã (no session this month).")
    for session_list in result.lists:
        note = session_list.session.note()
        if note:
            echo(note)
        counts = ", ".join(f"{name}: {n}" for name, n in session_list.counts().items())
        echo(
            f"Buổi tiêm {session_list.session.held:%d/%m/%Y}: {len(session_list.children)} trẻ"
            + (f" ({counts})" if counts else "")
        )
        echo(f"  {session_list.docx}")
        echo(f"  {session_list.xlsx}")
    if result.reminders:
        echo(f"Tin nhắn nhắc lịch: {result.reminders} ({result.reminder_rows} gia đình)")
    raise typer.Exit(int(result.exit_code))
