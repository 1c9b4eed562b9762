"""The health station's session lists: for each vaccination session of a month, the children
due at it, by hamlet, with a count per vaccine (what the station must order); the station's
feedback (given / moved away); SMS reminders for the next session.

The children and the plan are the ledger's (ledger_people.py): each child's plan is the one
its birth letter gave (schedule.child_schedule, the same engine, on the letter's date and
schedule version). A dose is on a session's list when its planned date (session, or due date
when it had none) is on or before the session, its deadline (the end of its target age) is
not past, the station has not reported it given, and it is the first dose of its vaccine not
yet given; a later dose of a vaccine whose earlier dose was given waits at least the gap the
plan put between them, counted from the day it was given.
"""

from __future__ import annotations

import calendar
import csv
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cchc_letters.errors import ExitCode, InputError
from cchc_letters.hamlets import HamletIndex
from cchc_letters.ledger_people import ChildRecord
from cchc_letters.profile import Profile

FOLDER = "sessions"
TITLE = "DANH SÁCH TRẺ ĐẾN HẠN TIÊM CHỦNG"
SMS_LIMIT = 160
GIVEN, MOVED = "given", "moved"
# The station's words for each status, compared folded (see hamlets.fold).
FEEDBACK_STATUSES = {
    "da tiem": GIVEN,
    "tiem roi": GIVEN,
    "given": GIVEN,
    "chuyen di": MOVED,
    "moved": MOVED,
}
FEEDBACK_KEY_HEADINGS = ("registration_key", "ma ho so", "khoa", "ma dang ky", "key")
FEEDBACK_STATUS_HEADINGS = ("status", "trang thai", "ket qua")
FEEDBACK_DATE_HEADINGS = ("session_date", "ngay tiem", "buoi tiem", "ngay")
XLSX_COLUMNS = (
    "Buổi tiêm",
    "Ấp / khu phố",
    "STT",
    "Họ tên trẻ",
    "Ngày sinh",
    "Giới tính",
    "Họ tên mẹ",
    "Họ tên cha",
    "Địa chỉ",
    "Điện thoại",
    "Mũi cần tiêm",
    "registration_key",
    "status",
)


# ---- the sessions of a month --------------------------------------------------------------


@dataclass(frozen=True)
class SessionDay:
    """A session held on ``held``, standing for the scheduled days ``scheduled`` (a day that
    falls on a holiday is held later, or its children come to the next session)."""

    held: date
    scheduled: tuple[date, ...]

    @property
    def moved(self) -> tuple[date, ...]:
        return tuple(d for d in self.scheduled if d != self.held)

    def note(self) -> str:
        """Return the sentence saying a session moved ('' when none did)."""
        from cchc_letters.sessions import is_holiday

        if not self.moved:
            return ""
        days = ", ".join(f"{d:%d/%m/%Y}" for d in self.moved)
        why = "nghỉ Tết / ngày lễ" if any(is_holiday(d) for d in self.moved) else "ngày nghỉ"
        return f"Buổi tiêm ngày {days} không tổ chức ({why}); trẻ đến buổi tiêm ngày {self.held:%d/%m/%Y}."


def month_sessions(year: int, month: int, profile: Profile) -> list[SessionDay]:
    """Return the sessions standing for the session days of a month, in date order: each
    scheduled day of the month, moved by the profile's holiday rule (sessions.next_session),
    so a session pushed past Tết into the next month is still this month's list."""
    from cchc_letters.sessions import is_session_day, next_session

    held: dict[date, list[date]] = {}
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        scheduled = date(year, month, day)
        if is_session_day(scheduled, profile.sessions):
            held.setdefault(next_session(scheduled, profile.sessions), []).append(scheduled)
    return [SessionDay(h, tuple(days)) for h, days in sorted(held.items())]


# ---- who is due --------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDose:
    key: str  # "vaccine/dose", as given_doses stores it
    vaccine: str
    name: str  # short name, e.g. "5 trong 1"
    dose: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.dose})"


@dataclass
class ListedChild:
    child: ChildRecord
    hamlet: str
    doses: list[DueDose]


def dose_key(dose: Any) -> str:
    return f"{dose.vaccine}/{dose.dose}"


def due_doses(
    child: ChildRecord, session: date, profile: Profile, version: Any, given: dict[str, date]
) -> list[DueDose]:
    """Return the doses ``child`` is due at ``session`` (see the module docstring)."""
    from cchc_letters.schedule import AT_BIRTH_PLACE, child_schedule

    assert child.letter_date is not None
    plan = child_schedule(child.birth_date, child.letter_date, profile, version)
    due: list[DueDose] = []
    seen: set[str] = set()
    previous: dict[str, tuple[date, date | None]] = {}  # vaccine -> (planned, given) of the last
    for dose in plan.doses:  # in due-date order
        planned = dose.session or dose.due
        key = dose_key(dose)
        last = previous.get(dose.vaccine)
        previous[dose.vaccine] = (planned, given.get(key))
        if key in given or dose.vaccine in seen:
            continue
        if dose.where == AT_BIRTH_PLACE:
            continue
        if planned > session or (dose.deadline is not None and dose.deadline < session):
            continue
        if last is not None:
            last_planned, last_given = last
            if last_given is None or session < last_given + (planned - last_planned):
                seen.add(dose.vaccine)
                continue
        seen.add(dose.vaccine)
        due.append(DueDose(key, dose.vaccine, dose.short_name or dose.name, dose.dose))
    return due


# ---- the command -------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionsOptions:
    out_dir: Path
    year: int
    month: int
    today: date
    profile_path: Path | None = None
    ledger: Path | None = None
    feedback: Path | None = None
    reminders: Path | None = None
    wait: float = 600.0
    clock: Any = None  # () -> datetime; default local time


@dataclass
class SessionList:
    session: SessionDay
    children: list[ListedChild]
    docx: Path | None = None
    xlsx: Path | None = None

    def counts(self) -> dict[str, int]:
        """Return the doses to give per vaccine (short name), in schedule order."""
        counts: dict[str, int] = {}
        for listed in self.children:
            for dose in listed.doses:
                counts[dose.name] = counts.get(dose.name, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "session_date": self.session.held.isoformat(),
            "scheduled": [d.isoformat() for d in self.session.scheduled],
            "note": self.session.note(),
            "children": len(self.children),
            "doses": self.counts(),
            "docx": str(self.docx) if self.docx else None,
            "xlsx": str(self.xlsx) if self.xlsx else None,
        }


@dataclass
class FeedbackIssue:
    file: str
    row: int
    message: str
    value: str = ""


@dataclass
class SessionsResult:
    month: str
    lists: list[SessionList] = field(default_factory=list)
    feedback_applied: int = 0
    feedback_issues: list[FeedbackIssue] = field(default_factory=list)
    reminders: Path | None = None
    reminder_rows: int = 0
    reminder_session: date | None = None

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.REJECTED if self.feedback_issues else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "sessions": [s.to_json() for s in self.lists],
            "feedback_applied": self.feedback_applied,
            "feedback_rejected": [
                {"file": i.file, "row": i.row, "value": i.value, "reason": i.message}
                for i in self.feedback_issues
            ],
            "reminders": str(self.reminders) if self.reminders else None,
            "reminder_rows": self.reminder_rows,
            "reminder_session": self.reminder_session.isoformat()
            if self.reminder_session
            else None,
            "exit_code": int(self.exit_code),
        }

    @classmethod
    def failed_json(cls) -> dict[str, Any]:
        payload = cls("").to_json()
        del payload["exit_code"]
        return payload


def run_sessions(options: SessionsOptions) -> SessionsResult:
    """Read the ledger of OUT, apply the station's feedback, write each session's list of the
    month (DOCX + XLSX in OUT/sessions/) and, when asked, the reminders CSV."""
    from cchc_letters import locking, output
    from cchc_letters.ledger import Ledger, default_path
    from cchc_letters.profile import load_profile
    from cchc_letters.schedule import load_versions

    profile = load_profile(options.profile_path)
    versions = {v.id: v for v in load_versions()}
    clock = options.clock or (lambda: datetime.now().astimezone())
    out_dir = output.ensure_out_dir(options.out_dir)
    ledger_path = options.ledger or default_path(out_dir)
    result = SessionsResult(f"{options.year:04d}-{options.month:02d}")
    feedback_rows = read_feedback(options.feedback, result) if options.feedback else []
    sessions = month_sessions(options.year, options.month, profile)
    index = HamletIndex(profile.hamlets)
    with (
        locking.hold([locking.lock_path_for(out_dir)], wait=options.wait, what=str(out_dir)),
        Ledger.open(ledger_path, create=False) as ledger,
    ):
        people = ledger.people
        result.feedback_applied = apply_feedback(people, feedback_rows, result, clock())
        folder = out_dir / FOLDER
        folder.mkdir(exist_ok=True)
        given = people.given()
        for session in sessions:
            listed = []
            for child in people.children(on=session.held):
                version = versions.get(child.schedule_version) or _version_on(
                    child, list(versions.values())
                )
                doses = due_doses(child, session.held, profile, version, given.get(child.key, {}))
                if doses:
                    listed.append(ListedChild(child, index.group(child.address), doses))
            listed.sort(key=lambda c: (index.order(c.hamlet), c.child.birth_date, c.child.key))
            session_list = SessionList(session, listed)
            write_session_list(folder, session_list, profile, options.today)
            people.record_session(
                session.held, {c.child.key: [d.key for d in c.doses] for c in listed}, now=clock()
            )
            result.lists.append(session_list)
    if options.reminders:
        upcoming = [s for s in result.lists if s.session.held >= options.today]
        if upcoming:
            result.reminder_session = upcoming[0].session.held
            result.reminder_rows = write_reminders(options.reminders, upcoming[0], profile)
            result.reminders = options.reminders
        else:
            result.reminder_rows = write_reminders(options.reminders, None, profile)
            result.reminders = options.reminders
    return result


def _version_on(child: ChildRecord, versions: list[Any]) -> Any:
    from cchc_letters.schedule import version_for

    assert child.letter_date is not None
    return version_for(child.letter_date, versions)


# ---- the station's feedback --------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackRow:
    file: str
    row: int
    key: str
    status: str
    session: date | None


def read_feedback(path: Path, result: SessionsResult) -> list[FeedbackRow]:
    """Return the rows of the station's CSV (registration key, status, optional session
    date); a row that cannot be used is a FeedbackIssue in ``result``. InputError when the
    file cannot be read or lacks the two columns."""
    from cchc_letters.hamlets import fold
    from cchc_letters.ledger import LedgerError, parse_key
    from cchc_letters.validate import parse_date

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: không đọc được tệp phản hồi của trạm y tế: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: tệp phản hồi không phải UTF-8 (save the CSV as UTF-8)",
            hint="Trong Excel: Lưu thành > CSV UTF-8.",
        ) from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(), dialect)
    header = next(reader, [])
    names = [fold(h) for h in header]

    def column(headings: tuple[str, ...]) -> int | None:
        wanted = {fold(h) for h in headings}
        return next((i for i, n in enumerate(names) if n in wanted), None)

    key_at, status_at = column(FEEDBACK_KEY_HEADINGS), column(FEEDBACK_STATUS_HEADINGS)
    date_at = column(FEEDBACK_DATE_HEADINGS)
    if key_at is None or status_at is None:
        raise InputError(
            f"{path}: cần cột registration_key và status (need the columns registration_key "
            "and status)",
            hint="Dùng tệp danh-sach-tiem-….xlsx: điền cột status (đã tiêm / chuyển đi), lưu CSV.",
        )
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        raw_status = cells[status_at].strip()
        if not raw_status:
            continue  # a child the station has not filled in yet
        status = FEEDBACK_STATUSES.get(fold(raw_status))
        if status is None:
            result.feedback_issues.append(
                FeedbackIssue(
                    path.name, number, "trạng thái phải là đã tiêm hoặc chuyển đi", raw_status
                )  # fmt: skip
            )
            continue
        try:
            key = parse_key(cells[key_at])
        except LedgerError:
            result.feedback_issues.append(
                FeedbackIssue(path.name, number, "khoá hồ sơ không đúng dạng", cells[key_at])
            )
            continue
        session = None
        if date_at is not None and cells[date_at].strip():
            try:
                session = parse_date(cells[date_at].strip())
            except ValueError:  # validate.DateProblem
                result.feedback_issues.append(
                    FeedbackIssue(path.name, number, "ngày tiêm không hiểu được", cells[date_at])
                )
                continue
        rows.append(FeedbackRow(path.name, number, key, status, session))
    return rows


def apply_feedback(
    people: Any, rows: Sequence[FeedbackRow], result: SessionsResult, now: datetime
) -> int:
    """Record the station's feedback; return the rows applied. "đã tiêm" marks the doses of
    the child's latest list (on or before the given session date) given on that session."""
    applied = 0
    for row in rows:
        if people.status(row.key) is None:
            result.feedback_issues.append(
                FeedbackIssue(row.file, row.row, "không có trẻ này trong sổ theo dõi", row.key)
            )
            continue
        if row.status == MOVED:
            people.mark_moved(row.key, now=now)
            applied += 1
            continue
        listed = people.listed(row.key, on_or_before=row.session)
        if listed is None:
            result.feedback_issues.append(
                FeedbackIssue(
                    row.file, row.row, "trẻ chưa có trong danh sách buổi tiêm nào", row.key
                )
            )
            continue
        session, doses = listed
        people.mark_given(row.key, doses, row.session or session)
        applied += 1
    return applied


# ---- writing the lists -------------------------------------------------------------------


def file_stem(session: date) -> str:
    return f"danh-sach-tiem-{session.isoformat()}"


def _parents(child: ChildRecord) -> str:
    return "; ".join(
        f"{role} {name}" for role, name in (("Mẹ", child.mother), ("Cha", child.father)) if name
    )


def write_session_list(
    folder: Path, session_list: SessionList, profile: Profile, today: date
) -> None:
    """Write danh-sach-tiem-YYYY-MM-DD.docx and .xlsx: the count per vaccine first, then
    each hamlet on its own page."""
    from cchc_letters.listdoc import Column, ListPage, write_list_docx
    from cchc_letters.vietnamese import address_case, short_date

    session = session_list.session
    station = profile.health_station
    when = f"{profile.sessions.time_of_day} ngày {short_date(session.held)}".strip()
    heading = f"Buổi tiêm {when} tại {station.name}"
    notes = [n for n in (session.note(),) if n]
    counts = session_list.counts()
    summary = ListPage(
        heading=heading,
        notes=[*notes, f"{len(session_list.children)} trẻ đến hạn; {sum(counts.values())} liều."],
        columns=(Column("Vắc xin", 12.0), Column("Số liều cần", 6.0)),
        rows=[(name, count) for name, count in counts.items()] or [("(không có trẻ đến hạn)", 0)],
    )
    columns = (
        Column("STT", 1.1),
        Column("Họ tên trẻ", 3.6),
        Column("Ngày sinh", 2.2),
        Column("Giới", 1.2),
        Column("Cha, mẹ", 4.2),
        Column("Địa chỉ", 4.2),
        Column("Điện thoại", 2.3),
        Column("Mũi cần tiêm", 3.6),
        Column("Kết quả", 2.8),
    )
    groups: dict[str, list[ListedChild]] = {}
    for listed in session_list.children:
        groups.setdefault(listed.hamlet, []).append(listed)
    pages = [summary]
    for hamlet, members in groups.items():
        pages.append(
            ListPage(
                heading=f"{hamlet} — {heading}",
                notes=[f"{len(members)} trẻ"],
                columns=columns,
                rows=[
                    (
                        number,
                        m.child.name,
                        short_date(m.child.birth_date),
                        m.child.sex,
                        _parents(m.child),
                        address_case(m.child.address) if m.child.address else "",
                        m.child.phone,
                        ", ".join(d.label for d in m.doses),
                        "",
                    )
                    for number, m in enumerate(members, start=1)
                ],
            )
        )
    stem = file_stem(session.held)
    session_list.docx = write_list_docx(
        folder / f"{stem}.docx", profile=profile, letter_date=today, title=TITLE, pages=pages
    )
    session_list.xlsx = _write_xlsx(folder / f"{stem}.xlsx", session_list, counts, notes)


def _write_xlsx(
    path: Path, session_list: SessionList, counts: dict[str, int], notes: list[str]
) -> Path:
    import os

    from openpyxl import Workbook

    from cchc_letters.output import spreadsheet_safe

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet
    sheet.title = "Danh sách"
    sheet.append(XLSX_COLUMNS)
    held = session_list.session.held
    for number, listed in enumerate(session_list.children, start=1):
        child = listed.child
        sheet.append(
            [
                spreadsheet_safe(v)
                for v in (
                    held.strftime("%d/%m/%Y"), listed.hamlet, number, child.name,
                    child.birth_date.strftime("%d/%m/%Y"), child.sex, child.mother, child.father,
                    child.address, child.phone, ", ".join(d.label for d in listed.doses),
                    child.key, "",
                )
            ]
        )  # fmt: skip
    sheet.freeze_panes = "A2"
    totals = book.create_sheet("Tổng hợp")
    totals.append(("Vắc xin", "Số liều cần"))
    for name, count in counts.items():
        totals.append((spreadsheet_safe(name), count))
    for note in notes:
        totals.append((spreadsheet_safe(note),))
    partial = path.with_name(path.name + ".part")
    book.save(partial)
    os.replace(partial, path)
    return path


# ---- reminders ---------------------------------------------------------------------------

REMINDER_COLUMNS = (
    "phone",
    "registration_keys",
    "children",
    "session_date",
    "message",
    "message_gsm7",
)


def without_diacritics(text: str) -> str:
    """Return ``text`` in plain letters (đ as d) for SMS gateways limited to GSM-7."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def reminder_message(children: Sequence[ListedChild], session: date, profile: Profile) -> str:
    """Return the reminder, at most SMS_LIMIT characters: the shortest form that fits."""
    from cchc_letters.vietnamese import short_date

    given_names = " và ".join(f"bé {c.child.name.split()[-1]}" for c in children)
    vaccines = ", ".join(dict.fromkeys(d.name for c in children for d in c.doses))
    station = profile.health_station.name
    when = f"{profile.sessions.time_of_day} {short_date(session)}".strip()
    sender = f"UBND {profile.commune_title}"
    forms = (
        f"{sender}: mời gia đình đưa {given_names} đến {station} {when} tiêm {vaccines}. "
        "Mang theo sổ tiêm chủng.",
        f"{sender}: mời gia đình đưa {given_names} đến {station} {when} để tiêm chủng. "
        "Mang sổ tiêm.",
        f"Mời gia đình đưa {given_names} đến {station} {when} để tiêm chủng.",
        f"Mời gia đình đưa trẻ đến trạm y tế {when} để tiêm chủng.",
    )
    return next((f for f in forms if len(f) <= SMS_LIMIT), forms[-1][:SMS_LIMIT])


def write_reminders(path: Path, session_list: SessionList | None, profile: Profile) -> int:
    """Write one row per family due at the session (children with the same phone, else the
    same child, are one family); return the rows written."""
    from cchc_letters.output import write_csv

    families: dict[str, list[ListedChild]] = {}
    for listed in session_list.children if session_list else []:
        families.setdefault(listed.child.phone or listed.child.key, []).append(listed)
    rows = []
    for members in families.values():
        assert session_list is not None
        message = reminder_message(members, session_list.session.held, profile)
        rows.append(
            (
                members[0].child.phone,
                " ".join(m.child.key for m in members),
                "; ".join(m.child.name for m in members),
                session_list.session.held.isoformat(),
                message,
                without_diacritics(message),
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, REMINDER_COLUMNS, rows)
    return len(rows)
