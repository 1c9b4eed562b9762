"""The expanded-immunization schedule: legal versions as data, and one child's own doses.

Pure: the letter date and the profile are passed in; nothing here reads the clock or prints.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from cchc_letters.errors import ScheduleError
from cchc_letters.profile import Profile
from cchc_letters.resources import data_dir
from cchc_letters.schedule_data import CONFIDENCES, ScheduleRow, nfc_tree, parse_row
from cchc_letters.sessions import next_session

Status = Literal["due_now", "planned", "missed_deadline"]

DUE_NOW_LABEL = "Cần tiêm ngay"
# Dose.where / Visit.where when there is no planned session (session is None):
AT_BIRTH_PLACE = "tại nơi sinh"  # a birth-facility dose (HepB within 24 hours), still in time
CONTACT_STATION = "liên hệ trạm y tế"  # deadline still ahead but no session day before it


def default_schedules_dir() -> Path:
    """Return the shipped folder of schedule versions."""
    return data_dir() / "vaccination_schedules"


@dataclass(frozen=True)
class ScheduleVersion:
    """One legal version of the national schedule, in force from valid_from to valid_to."""

    id: str
    legal_basis: str
    valid_from: date
    valid_to: date | None  # None: still in force (no later version known)
    rows: tuple[ScheduleRow, ...]
    title: str = ""
    dates_confidence: str = "V"
    notes: tuple[str, ...] = ()  # for the officer (what is unknown), not printed
    path: Path | None = None

    def in_force(self, day: date) -> bool:
        """Return True when this version is in force on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Dose:
    """One dose for one child, with its dates."""

    vaccine: str
    name: str
    dose: str
    age_label: str
    due: date  # earliest date: age reached and minimum interval after the previous dose
    session: date | None  # planned session at the health station; None: see ``where``
    deadline: date | None  # last day it may be given
    status: Status
    confidence: str
    short_name: str = ""
    local: bool = False  # added or changed by the commune profile
    # Where it is given when ``session`` is None: AT_BIRTH_PLACE (a birth-facility dose) or
    # CONTACT_STATION (its deadline is still ahead but falls before the next session day, so
    # the family asks the station now); "" when it has a session.
    where: str = ""


@dataclass(frozen=True)
class Visit:
    """The doses given at one session, as one row of the letter's table.

    ``session`` is the planned session day; None means there is no session for these doses
    and ``where`` says what to print instead of a date: AT_BIRTH_PLACE ("tại nơi sinh",
    the HepB birth dose within 24 hours) or CONTACT_STATION ("liên hệ trạm y tế", a dose
    whose deadline is still ahead but before the next session day). ``where`` is "" when
    ``session`` is set. A template prints
    ``{% if visit.session %}{{ visit.session|short_date }}{% else %}{{ visit.where }}{% endif %}``.
    """

    label: str
    due: date
    session: date | None
    status: Status
    doses: tuple[Dose, ...]
    vaccines_text: str
    where: str = ""


@dataclass(frozen=True)
class ChildSchedule:
    """A child's schedule under one version; missed doses are in ``doses`` but not in visits."""

    version_id: str
    legal_basis: str
    doses: tuple[Dose, ...]
    visits: tuple[Visit, ...]
    notes: tuple[str, ...]


# --------------------------------------------------------------------------- loading

_VERSION_KEYS = {
    "id",
    "legal_basis",
    "title",
    "valid_from",
    "valid_to",
    "dates_confidence",
    "notes",
    "doses",
}


def load_version(path: Path) -> ScheduleVersion:
    """Return the version read from one TOML file; ScheduleError naming the file if broken."""
    try:
        with path.open("rb") as fh:
            raw = nfc_tree(tomllib.load(fh))
    except OSError as exc:
        raise ScheduleError(f"{path}: không đọc được tệp lịch tiêm chủng: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: tệp lịch tiêm chủng không đúng cú pháp TOML: {exc}") from None

    def fail(message: str) -> ScheduleError:
        return ScheduleError(
            f"{path}: {message}", hint=f"Xem hướng dẫn: {default_schedules_dir() / 'README.md'}"
        )

    unknown = sorted(set(raw) - _VERSION_KEYS)
    if unknown:
        raise fail(f"khóa không rõ (unknown keys): {', '.join(unknown)}")
    for key in ("id", "legal_basis"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise fail(f"thiếu {key} (missing {key})")
    if not isinstance(raw.get("valid_from"), date):
        raise fail("thiếu valid_from (a date such as 2024-08-01, without quotes)")
    valid_to = raw.get("valid_to")
    if valid_to is not None and not isinstance(valid_to, date):
        raise fail("valid_to phải là một ngày (a date such as 2026-02-14, without quotes)")
    if valid_to is not None and valid_to < raw["valid_from"]:
        raise fail("valid_to trước valid_from")
    dates_confidence = raw.get("dates_confidence", "V")
    if dates_confidence not in CONFIDENCES:
        raise fail(f"dates_confidence phải là một trong {', '.join(CONFIDENCES)}")
    tables = raw.get("doses")
    if not isinstance(tables, list) or not tables:
        raise fail("không có mũi tiêm nào ([[doses]])")
    rows = []
    for number, table in enumerate(tables, start=1):
        try:
            rows.append(parse_row(table))
        except ValueError as exc:
            raise fail(f"[[doses]] thứ {number}: {exc}") from None
    keys = [row.key for row in rows]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise fail(f"mũi tiêm trùng (duplicate vaccine+dose): {duplicates}")
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise fail("notes phải là danh sách chuỗi")
    return ScheduleVersion(
        id=raw["id"],
        legal_basis=raw["legal_basis"],
        valid_from=raw["valid_from"],
        valid_to=valid_to,
        rows=tuple(rows),
        title=str(raw.get("title", "")),
        dates_confidence=dates_confidence,
        notes=tuple(notes),
        path=path,
    )


def load_versions(folder: Path | None = None) -> list[ScheduleVersion]:
    """Return every version in ``folder`` (default: the shipped one), oldest first.

    Raises ScheduleError naming the file for a broken file, a repeated id, or two versions
    in force on the same day.
    """
    folder = Path(folder) if folder else default_schedules_dir()
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ScheduleError(f"{folder}: không có tệp lịch tiêm chủng nào (*.toml)")
    versions = sorted((load_version(p) for p in files), key=lambda v: v.valid_from)
    seen: dict[str, Path | None] = {}
    for version in versions:
        if version.id in seen:
            raise ScheduleError(
                f"{version.path}: id {version.id!r} đã dùng trong {seen[version.id]}"
            )
        seen[version.id] = version.path
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
            raise ScheduleError(
                f"{later.path}: hiệu lực từ {later.valid_from:%d/%m/%Y} chồng lên "
                f"{earlier.id} ({earlier.path}); đặt valid_to của bản trước "
                "(in-force ranges overlap)"
            )
    return versions


def version_for(
    letter_date: date, versions: list[ScheduleVersion], override_id: str | None = None
) -> ScheduleVersion:
    """Return the version in force on ``letter_date``, or the one named by ``override_id``.

    Raises ScheduleError when the id is unknown or no version is in force on that date.
    """
    known = ", ".join(v.id for v in versions)
    if override_id:
        for version in versions:
            if version.id == override_id:
                return version
        raise ScheduleError(f"không có lịch tiêm chủng {override_id!r} (known: {known})")
    for version in versions:
        if version.in_force(letter_date):
            return version
    raise ScheduleError(
        f"không có lịch tiêm chủng nào có hiệu lực ngày {letter_date:%d/%m/%Y}",
        hint=f"Chọn một bản bằng --schedule ({known}).",
    )


# --------------------------------------------------------------------------- one child


def schedule_rows(version: ScheduleVersion, profile: Profile) -> tuple[ScheduleRow, ...]:
    """Return the national rows with the profile's local vaccines applied.

    A local row with the same vaccine code and dose label as a national row replaces it in
    place; any other local row is appended.
    """
    local = {row.key: row for row in profile.local_vaccines}
    rows = [local.pop(row.key, row) for row in version.rows]
    rows.extend(row for row in profile.local_vaccines if row.key in local)
    return tuple(rows)


def _dose_text(row: ScheduleRow) -> str:
    """Return "Lao BCG (1 mũi)": the short name as in the table, first letter capitalised."""
    name = row.short_name or row.name
    return f"{name[:1].upper()}{name[1:]} ({row.dose})"


def _missed_note(row: ScheduleRow, deadline: date, letter_date: date) -> str:
    """Return the note for a dose not offered: its deadline passed, or it cannot be reached."""
    if row.missed_note:
        return row.missed_note
    when = row.deadline_label or f"trước {deadline:%d/%m/%Y}"
    what = "đã quá hạn tiêm" if deadline < letter_date else "không còn kịp tiêm"
    return (
        f"{_dose_text(row)}: {what} ({when}, hạn cuối {deadline:%d/%m/%Y}) "
        "nên không đưa vào lịch; gia đình hỏi ý kiến trạm y tế."
    )


def _contact_note(row: ScheduleRow, due: date, deadline: date, letter_date: date) -> str:
    """Return the note for a dose whose deadline is ahead but before the next session day."""
    start = "" if due <= letter_date else f"từ ngày {due:%d/%m/%Y} và "
    return (
        f"{_dose_text(row)}: cần tiêm {start}chậm nhất ngày {deadline:%d/%m/%Y}, trước buổi "
        "tiêm định kỳ tiếp theo — gia đình liên hệ ngay trạm y tế để được tiêm."
    )


def child_schedule(
    dob: date, letter_date: date, profile: Profile, version: ScheduleVersion
) -> ChildSchedule:
    """Return the child's doses and visits under ``version`` as seen on ``letter_date``.

    Memoised: a batch has many children born on the same day and the result depends only on
    the arguments (all frozen), so each birth date is computed once per profile and version.

    Each dose is due when the child reaches its age and, if it has a minimum interval, that
    long after the previous dose of the same vaccine at its planned session. Its session is
    the first session on or after the later of its due date and the letter date, so a dose
    whose date has passed (late registration) is "due_now" at the next session.

    A dose with a deadline (the last day it may be given):

    - deadline before the letter date, or before its due date: "missed_deadline", kept in
      ``doses``, left out of ``visits`` and explained in ``notes`` ("đã quá hạn …");
    - deadline still ahead but the next session day after it: still offered, "due_now" (or
      "planned" while its due date is ahead), with ``session`` None and ``where``
      CONTACT_STATION, and a note asking the family to contact the station now. A later
      dose of the same vaccine is counted from the deadline (the latest it can be given).

    A dose with a ``max_interval`` (JE mũi 2, "1–2 tuần sau mũi 1") keeps its session, the
    first one at least ``min_interval`` after the previous dose; when that session is later
    than ``max_interval`` after the previous dose, a note gives the recommended window.
    """
    global _memo
    if _memo is None or _memo[0] is not profile or _memo[1] is not version:
        # Keyed by identity: hashing a frozen Profile and version (all their rows) for every
        # letter would cost more than the cache saves.
        _memo = (profile, version, {})
    plans = _memo[2]
    plan = plans.get((dob, letter_date))
    if plan is None:
        if len(plans) >= _MEMO_SIZE:
            plans.clear()
        plan = plans[(dob, letter_date)] = _child_schedule(dob, letter_date, profile, version)
    return plan


_MEMO_SIZE = 2048  # ~8 kB each: 17 MB at most; five years of distinct birth dates
_memo: tuple[Profile, ScheduleVersion, dict[tuple[date, date], ChildSchedule]] | None = None


def _late_note(row: ScheduleRow, due: date, latest: date, session: date) -> str:
    """Return the note for a dose whose next session is after its recommended window."""
    return (
        f"{_dose_text(row)}: nên tiêm trong khoảng {due:%d/%m/%Y} – {latest:%d/%m/%Y} "
        f"({row.age_label[:1].lower()}{row.age_label[1:]}), nhưng buổi tiêm định kỳ tiếp theo "
        f"là ngày {session:%d/%m/%Y}; gia đình hỏi trạm y tế để được hẹn tiêm sớm hơn."
    )


def _child_schedule(
    dob: date, letter_date: date, profile: Profile, version: ScheduleVersion
) -> ChildSchedule:
    local_keys = {row.key for row in profile.local_vaccines}
    previous: dict[str, date] = {}  # vaccine -> planned date of its latest dose
    doses: list[Dose] = []
    notes: list[str] = []
    for row in schedule_rows(version, profile):
        due = row.age.after(dob)
        if row.min_interval is not None and row.vaccine in previous:
            due = max(due, row.min_interval.after(previous[row.vaccine]))
        start = max(due, letter_date)
        at_station = row.place == "health_station"
        session = next_session(start, profile.sessions) if at_station else None
        where = "" if at_station else AT_BIRTH_PLACE
        given = session or start
        deadline = row.deadline.last_day_before(dob) if row.deadline else None
        status: Status = "due_now" if due <= letter_date else "planned"
        if deadline is not None and start > deadline:
            status = "missed_deadline"
            notes.append(_missed_note(row, deadline, letter_date))
        elif deadline is not None and given > deadline:
            # Still in time, but no session day before the deadline: the station is asked.
            session, where, given = None, CONTACT_STATION, deadline
            notes.append(_contact_note(row, due, deadline, letter_date))
        if (
            row.max_interval is not None
            and row.vaccine in previous
            and session is not None
            and status != "missed_deadline"
        ):
            latest = row.max_interval.after(previous[row.vaccine])
            if session > latest >= due:  # (a window that closed before the due date: no note)
                notes.append(_late_note(row, due, latest, session))
        previous[row.vaccine] = given
        doses.append(
            Dose(
                vaccine=row.vaccine,
                name=row.name,
                dose=row.dose,
                age_label=row.age_label,
                due=due,
                session=session,
                deadline=deadline,
                status=status,
                confidence=row.confidence,
                short_name=row.short_name,
                local=row.key in local_keys,
                where=where if status != "missed_deadline" else "",
            )
        )
    visits = group_visits(doses)  # in the data file's order within a visit
    doses.sort(key=lambda d: d.due)  # stable: the data file's order within a day
    return ChildSchedule(
        version_id=version.id,
        legal_basis=version.legal_basis,
        doses=tuple(doses),
        visits=visits,
        notes=tuple(notes),
    )


def _upper_first(text: str) -> str:
    """Return ``text`` with its first letter capitalised ("trong tháng đầu" -> "Trong …")."""
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """Return ``text`` with its first letter in lower case, unless it starts an acronym.

    "Trong tháng đầu sau sinh" -> "trong tháng đầu sau sinh"; "BCG sơ sinh" stays.
    """
    if text[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def group_visits(doses: list[Dose] | tuple[Dose, ...]) -> tuple[Visit, ...]:
    """Return the doses that can still be given grouped by session, due-now visits first.

    Doses without a session form a visit of their own per place (``where``) and due date.
    A visit's label is its doses' age label ("2 tháng tuổi"); doses of different ages at one
    session (a dose pushed back by its minimum interval) give "4 tháng tuổi / 5 tháng tuổi";
    a visit with a dose already due is labelled DUE_NOW_LABEL, followed by its age label
    with a small first letter ("Cần tiêm ngay (trong tháng đầu sau sinh)") when it has only
    one; a label always starts with a capital or a digit. A visit's ``due`` is the
    latest due date of its doses, the day from which every one of them can be given; its
    session (each dose's first session on or after its own due date) is never before it.
    """
    groups: dict[tuple[str, date], list[Dose]] = {}
    for dose in doses:
        if dose.status == "missed_deadline":
            continue
        key = (dose.where, dose.session or dose.due)
        groups.setdefault(key, []).append(dose)
    visits = []
    for members in groups.values():
        status: Status = "due_now" if any(d.status == "due_now" for d in members) else "planned"
        labels = list(dict.fromkeys(_upper_first(d.age_label) for d in members))
        if status == "due_now":
            label = DUE_NOW_LABEL + (f" ({_lower_first(labels[0])})" if len(labels) == 1 else "")
        else:
            label = " / ".join(labels)
        visits.append(
            Visit(
                label=label,
                due=max(d.due for d in members),  # every dose can be given from it
                session=members[0].session,
                status=status,
                doses=tuple(members),
                vaccines_text=", ".join(f"{d.short_name or d.name} ({d.dose})" for d in members),
                where=members[0].where,
            )
        )
    visits.sort(key=lambda v: (v.status != "due_now", v.session or v.due, v.due))
    return tuple(visits)
