"""`cchc-letters schedule`: a child's vaccination schedule, or the list of legal versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import (
    DateOption,
    JsonOption,
    ProfileOption,
    parse_date_option,
    print_json,
    user_errors,
)

STATUS_TEXT = {
    "due_now": "cần tiêm ngay",
    "planned": "theo lịch",
    "catch_up": "không ghi ngày: trạm y tế lập kế hoạch tiêm bù",
    "switched_off": "tỉnh không triển khai",
}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _vn(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else "—"


@app.command("schedule")
def schedule_command(
    *,
    dob: Annotated[
        str | None,
        typer.Option("--dob", help="The child's date of birth.", metavar="YYYY-MM-DD"),
    ] = None,
    letter_date: DateOption = None,
    profile: ProfileOption = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Use this schedule version (e.g. tt10-2024) instead of the one in force "
            "on the letter date; see --list.",
            metavar="ID",
        ),
    ] = None,
    list_versions: Annotated[
        bool, typer.Option("--list", help="List the schedule versions and their in-force dates.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Lịch tiêm chủng của trẻ — a child's own immunization schedule, with session dates."""
    from cchc_letters.profile import load_profile
    from cchc_letters.schedule import child_schedule, load_versions, version_for

    with user_errors(json_output=json_output):
        versions = load_versions()
        if list_versions:
            _show_versions(versions, json_output)
            return
        if dob is None:
            raise typer.BadParameter("is required (or use --list)", param_hint="--dob")
        birth = parse_date_option(dob, "--dob")
        on = parse_date_option(letter_date)
        if birth > on:
            raise typer.BadParameter(
                f"{birth:%d/%m/%Y} is after the letter date {on:%d/%m/%Y}", param_hint="--dob"
            )
        from cchc_letters.options import schedule_option

        version = version_for(on, versions, schedule_option(schedule))
        result = child_schedule(birth, on, load_profile(profile), version)
    if json_output:
        print_json(_schedule_json(result, version, on))
    else:
        _show_schedule(result, version, birth, on)


def _schedule_json(result: Any, version: Any, on: date) -> dict[str, Any]:
    return {
        "schedule": result.version_id,
        "legal_basis": result.legal_basis,
        "versions": list(result.versions),
        "valid_from": _iso(version.valid_from),
        "valid_to": _iso(version.valid_to),
        "letter_date": on.isoformat(),
        "doses": [
            {
                "vaccine": d.vaccine,
                "name": d.name,
                "dose": d.dose,
                "version": d.version,
                "target_group": d.target_group,
                "falls_due": _iso(d.falls_due),
                "due": _iso(d.due),
                "latest": _iso(d.latest),
                "session": _iso(d.session),
                "status": d.status,
                "why": list(d.why),
                "postponed": d.postponed or None,
                "age_label": d.age_label,
                "deadline": _iso(d.deadline),
                "confidence": d.confidence,
                "local": d.local,
                "where": d.where,
            }
            for d in result.doses
        ],
        "visits": [
            {
                "label": v.label,
                "vaccines": v.vaccines_text,
                "due": _iso(v.due),
                "session": _iso(v.session),
                "where": v.where,
                "status": v.status,
            }
            for v in result.visits
        ],
        "notes": list(result.notes),
    }


def _show_versions(versions: list[Any], json_output: bool) -> None:
    if json_output:
        print_json(
            {
                "versions": [
                    {
                        "id": v.id,
                        "legal_basis": v.legal_basis,
                        "valid_from": _iso(v.valid_from),
                        "valid_to": _iso(v.valid_to),
                        "dates_confidence": v.dates_confidence,
                        "doses": len(v.rows),
                        "file": str(v.path),
                    }
                    for v in versions
                ]
            }
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Các phiên bản lịch tiêm chủng mở rộng")
    for heading in ("ID", "Căn cứ", "Hiệu lực từ", "đến", "Số mũi"):
        table.add_column(heading)
    for v in versions:
        to = _vn(v.valid_to) if v.valid_to else "nay"
        table.add_row(v.id, v.legal_basis, _vn(v.valid_from), to, str(len(v.rows)))
    Console().print(table)


def _show_schedule(result: Any, version: Any, birth: date, on: date) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"Lịch tiêm chủng — sinh ngày {_vn(birth)}, tính đến {_vn(on)}",
        caption=f"{result.legal_basis} ({result.version_id})",
    )
    for heading in ("Tuổi", "Vắc xin", "Từ ngày", "Buổi tiêm", "Tình trạng"):
        table.add_column(heading)
    for visit in result.visits:
        session = _vn(visit.session) if visit.session else visit.where
        table.add_row(
            visit.label, visit.vaccines_text, _vn(visit.due), session, STATUS_TEXT[visit.status]
        )
    console.print(table)
    for dose in result.doses:
        if dose.status in ("catch_up", "switched_off"):
            reason = dose.why[-1] if dose.why else STATUS_TEXT[dose.status]
            console.print(f"Không ghi ngày: {dose.name} ({dose.dose}) — {reason}", highlight=False)
    for note in result.notes:
        console.print(f"Ghi chú: {note}", highlight=False)
