"""The expanded-immunization schedule: legal versions as data, and one child's own doses.

Pure: the letter date and the profile are passed in; nothing here reads the clock or prints.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, Unpack

from cchc_letters.errors import ProfileError, ScheduleError
from cchc_letters.profile import Profile
from cchc_letters.resources import data_dir
from cchc_letters.schedule_data import CONFIDENCES, ScheduleRow, Span, nfc_tree, parse_row
from cchc_letters.sessions import session_calendar

# due_now / planned: the dose has a date (or a place, see Dose.where); catch_up: no date —
# the child is past its target group, or an earlier dose it depends on has none, so the
# letter sends the family to the station for a catch-up plan (tiêm bù); switched_off: the
# commune profile says the province does not give it.
Status = Literal["due_now", "planned", "catch_up", "switched_off"]
UNDATED = ("catch_up", "switched_off")

DUE_NOW_LABEL = "Cần tiêm ngay"
# Dose.where / Visit.where when there is no planned session (session is None):
AT_BIRTH_PLACE = "tại nơi sinh"  # a birth-facility dose (HepB within 24 hours), still in time
CONTACT_STATION = "liên hệ trạm y tế"  # deadline still ahead but no session day before it
AT_SCHOOL = "tại trường"  # a school-campaign dose (Td at 7 years): its age, not a session date
# How many later sessions a dose may be moved to (doses-per-visit limit, antigen and live
# vaccine rules) before the letter gives up on dating it and asks the station.
_MAX_MOVES = 24
_ONE_DAY = timedelta(days=1)


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
    # Two live injected vaccines not given at one visit are at least this far apart.
    live_vaccine_interval: Span | None = None
    # Every version of the folder it was loaded with, oldest first (set by load_versions):
    # each dose takes its row from the version in force when it falls due. Just this one
    # when an officer forces a version (version_for's override) or it was loaded alone.
    history: tuple[ScheduleVersion, ...] = field(default=(), compare=False, repr=False)

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
    # Where it is given when ``session`` is None: AT_BIRTH_PLACE (a birth-facility dose),
    # AT_SCHOOL (a school-campaign dose, at its age) or CONTACT_STATION (its deadline is
    # still ahead but falls before the next session day, so the family asks the station
    # now); "" when it has a session or no date at all.
    where: str = ""
    version: str = ""  # id of the schedule version whose row this is
    # When the schedule says it falls due (age and intervals, before any session is
    # chosen): the version in force on that day is the one that applies to the dose.
    falls_due: date | None = None
    target_group: str = ""  # "trẻ dưới 1 tuổi"
    latest: date | None = None  # last day within the target group (and deadline), if any
    why: tuple[str, ...] = ()  # how the date (or no date) was reached, for the officer
    postponed: str = ""  # why it is at a later session than the first it could have had


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
    legal_basis: str  # as printed: true for the letter date and the later doses' versions
    doses: tuple[Dose, ...]
    visits: tuple[Visit, ...]
    notes: tuple[str, ...]
    versions: tuple[str, ...] = ()  # ids of the versions the doses come from


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
    "live_vaccine_interval",
}


def load_version(path: Path) -> ScheduleVersion:
    """Return the version read from one TOML file; ScheduleError naming the file if broken."""
    try:
        from cchc_letters import cache

        raw = nfc_tree(cache.load_toml(path))
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
    live_interval = None
    if "live_vaccine_interval" in raw:
        try:
            live_interval = Span.parse(raw["live_vaccine_interval"])
        except ValueError as exc:
            raise fail(f"live_vaccine_interval: {exc}") from None
    known = set(keys)
    for row in rows:
        for rule in row.after:
            if rule.key not in known:
                raise fail(
                    f"{row.vaccine} {row.dose}: after names {rule.vaccine} {rule.dose}, "
                    "which is not a dose of this file"
                )
    return ScheduleVersion(
        live_vaccine_interval=live_interval,
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
    # A run asks several times (lint's samples, the batch, --schedule): parse each state of
    # the folder once. The key is every file's size and modification time, so an edited,
    # added or removed file is read again.
    stamps = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            stamps.append((path, -1, -1))
        else:
            stamps.append((path, stat.st_size, stat.st_mtime_ns))
    return list(_load_files(tuple(stamps)))


@functools.lru_cache(maxsize=8)
def _load_files(stamps: tuple[tuple[Path, int, int], ...]) -> tuple[ScheduleVersion, ...]:
    """Return the versions of these files (see load_versions), oldest first."""
    files = [path for path, _, _ in stamps]
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
    for version in versions:  # frozen: set once, here, before anyone sees the versions
        object.__setattr__(version, "history", tuple(versions))
    return tuple(versions)


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
                # Forced: every dose follows this version, whenever it falls due.
                return dataclasses.replace(version, history=(version,))
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
    place; any other local row is appended. Rows the profile switches off stay in (the
    child's plan lists them as "switched_off").
    """
    local = {row.key: row for row in profile.local_vaccines}
    rows = [local.pop(row.key, row) for row in version.rows]
    rows.extend(row for row in profile.local_vaccines if row.key in local)
    return tuple(rows)


def _dose_text(row: ScheduleRow | Dose) -> str:
    """Return "Lao BCG (1 mũi)": the short name as in the table, first letter capitalised."""
    name = row.short_name or row.name
    return f"{name[:1].upper()}{name[1:]} ({row.dose})"


def _plain_dose_text(dose: Dose) -> str:
    """Return "lao BCG (1 mũi)": the short name as written in the data, for running text."""
    return f"{dose.short_name or dose.name} ({dose.dose})"


@functools.lru_cache(maxsize=8192)  # a batch's letters write the same few thousand days
def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


_UNITS_VI = {"hours": "giờ", "days": "ngày", "weeks": "tuần", "months": "tháng", "years": "năm"}


def span_text(span: Span) -> str:
    """Return a span in Vietnamese: "28 ngày", "6 tháng"; whole weeks of days as "4 tuần"."""
    if span.unit == "days" and span.count and span.count % 7 == 0:
        return f"{span.count // 7} tuần"
    return f"{span.count} {_UNITS_VI[span.unit]}"


def _contact_note(row: ScheduleRow, due: date, deadline: date, letter_date: date) -> str:
    """Return the note for a dose whose deadline is ahead but before the next session day."""
    start = "" if due <= letter_date else f"từ ngày {_d(due)} và "
    return (
        f"{_dose_text(row)}: cần tiêm {start}chậm nhất ngày {_d(deadline)}, trước buổi "
        "tiêm định kỳ tiếp theo — gia đình liên hệ ngay trạm y tế để được tiêm."
    )


def _late_note(row: ScheduleRow, due: date, latest: date, session: date) -> str:
    """Return the note for a dose whose next session is after its recommended window."""
    return (
        f"{_dose_text(row)}: nên tiêm trong khoảng {_d(due)} – {_d(latest)} "
        f"({row.age_label[:1].lower()}{row.age_label[1:]}), nhưng buổi tiêm định kỳ tiếp theo "
        f"là ngày {_d(session)}; gia đình hỏi trạm y tế để được hẹn tiêm sớm hơn."
    )


DEFAULT_CATCH_UP_NOTE = (
    "Nếu cháu chưa được tiêm {vaccines}, gia đình vui lòng đưa cháu cùng sổ tiêm chủng đến "
    "{station} để được tư vấn tiêm bù."
)


def _catch_up_note(undated: list[Dose], all_doses: list[Dose], profile: Profile) -> str:
    """Return the one kind sentence for the doses the letter gives no date (tiêm bù).

    A vaccine all of whose doses are undated is named alone ("5 trong 1"); otherwise with
    the undated doses ("5 trong 1 (mũi 3)"). The wording is the profile's
    [local_schedule] catch_up_note when it gives one.
    """
    by_vaccine: dict[str, list[Dose]] = {}
    for dose in undated:
        by_vaccine.setdefault(dose.vaccine, []).append(dose)
    names = []
    for vaccine, doses in by_vaccine.items():
        name = doses[0].short_name or doses[0].name
        every = [d for d in all_doses if d.vaccine == vaccine and d.status != "switched_off"]
        names.append(
            name if len(doses) == len(every) else f"{name} ({', '.join(d.dose for d in doses)})"
        )
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]
    vaccines = f"{'mũi' if len(undated) == 1 else 'các mũi'} {listed}"
    template = profile.local_schedule.catch_up_note or DEFAULT_CATCH_UP_NOTE
    text = template.replace("{vaccines}", vaccines).replace(
        "{station}", profile.health_station.name
    )
    return text[:1].upper() + text[1:]


_POSTPONE_REASONS = {
    "cap": "Để mỗi buổi không quá {n} mũi",
    "antigen": "Vì không tiêm hai mũi cùng thành phần trong một buổi",
    "live": "Vì hai vắc xin sống không tiêm cùng buổi phải cách nhau ít nhất {live}",
}


def _postponed_note(reason: str, doses: list[Dose], profile: Profile, live: Span | None) -> str:
    """Return the sentence saying which doses moved to a later session, and why."""
    moved = [f"{_plain_dose_text(d)} ngày {_d(d.session)}" for d in doses if d.session]
    listed = ", ".join(moved[:-1]) + " và " + moved[-1] if len(moved) > 1 else ""
    lead = _POSTPONE_REASONS[reason].format(
        n=profile.local_schedule.max_doses_per_visit, live=span_text(live) if live else ""
    )
    if len(doses) == 1:
        moved_to = doses[0].session
        assert moved_to is not None  # a postponed dose was moved to a later session
        return f"{lead}, {_plain_dose_text(doses[0])} được hẹn sang ngày {_d(moved_to)}."
    return f"{lead}, các mũi sau được hẹn sang buổi sau: {listed}."


def _tet_note(cancelled: date, moved_to: date) -> str:
    """Return the sentence for a session Tết moved into a later month."""
    return (
        f"Buổi tiêm ngày {_d(cancelled)} trùng dịp nghỉ Tết Nguyên đán nên cháu được hẹn "
        f"sang ngày {_d(moved_to)}."
    )


def _legal_basis(letter_version: ScheduleVersion, used: list[ScheduleVersion]) -> str:
    """Return the legal basis as printed: the letter date's version, then later ones used.

    "Thông tư 52/2025/TT-BYT; từ 01/07/2026: Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế"
    for a letter dated in June 2026 whose child has doses falling due after 01/07/2026.
    """
    parts = [letter_version.legal_basis]
    # As set(used), without hashing: a version's hash is all its rows' (``used`` may hold
    # equal versions that are distinct objects).
    distinct: list[ScheduleVersion] = []
    for version in {id(v): v for v in used}.values():
        if not any(version == other for other in distinct):
            distinct.append(version)
    for version in sorted(distinct, key=lambda v: v.valid_from):
        if version.valid_from > letter_version.valid_from:
            parts.append(f"từ {_d(version.valid_from)}: {version.legal_basis}")
    return "; ".join(parts)


def child_schedule(
    dob: date, letter_date: date, profile: Profile, version: ScheduleVersion
) -> ChildSchedule:
    """Return the child's doses and visits as seen on ``letter_date``.

    ``version`` is the version in force on the letter date (or one an officer forced);
    each dose takes its row from the version in force when it falls due (its age and
    intervals, before any session is chosen), among ``version.history``.

    Memoised: a batch has many children born on the same day and the result depends only on
    the arguments (all frozen), so each birth date is computed once per profile and version.

    A dose is due at its age, its minimum interval after the previous dose of its vaccine
    and each ``after`` rule's interval after that dose (all at their planned dates). It is
    planned at the first session on or after the later of its due date and the letter date
    where the visit has fewer than ``max_doses_per_visit`` doses, no dose sharing one of its
    antigens, and no live vaccine less than ``live_vaccine_interval`` away (unless at the
    same visit); a move to a later session is said in a note.

    A dose gets no date ("catch_up") when no such session falls within its target group
    (before ``target_until``) or deadline, or an earlier dose it depends on has none: the
    letter then says, in one sentence, to bring the child and the vaccination book to the
    station for a catch-up plan. A dose whose deadline (not target group) is still ahead but
    before the next session is offered with ``where`` CONTACT_STATION and a note. A
    school-campaign dose has ``where`` AT_SCHOOL and no session; a birth-facility dose
    AT_BIRTH_PLACE while still in time. When Tết takes a session and moves the child into
    the next month, a note says so.
    """
    global _memo
    if _memo is None or _memo[0] is not profile or _memo[1] is not version:
        # Keyed by identity: hashing a frozen Profile and version (all their rows) for every
        # letter would cost more than the cache saves.
        _check_switched_off(profile, version)
        _memo = (profile, version, {}, _version_rows(version, profile))
    plans = _memo[2]
    plan = plans.get((dob, letter_date))
    if plan is None:
        if len(plans) >= _MEMO_SIZE:
            plans.clear()
        plan = plans[(dob, letter_date)] = _child_schedule(
            dob, letter_date, profile, version, _memo[3]
        )
    return plan


_MEMO_SIZE = 2048  # ~8 kB each: 17 MB at most; five years of distinct birth dates
# (profile, version, plans by (birth date, letter date), _version_rows(version, profile))
_memo: (
    tuple[
        Profile,
        ScheduleVersion,
        dict[tuple[date, date], ChildSchedule],
        tuple[tuple[ScheduleVersion, tuple[_Row, ...]], ...],
    ]
    | None
) = None


def _check_switched_off(profile: Profile, version: ScheduleVersion) -> None:
    """Raise ProfileError when [local_schedule] switched_off names no row of any version."""
    known = set()
    for each in version.history or (version,):
        for row in schedule_rows(each, profile):
            known.update({row.vaccine, f"{row.vaccine}/{row.dose}"})
    unknown = [code for code in profile.local_schedule.switched_off if code not in known]
    if unknown:
        codes = sorted(k for k in known if "/" not in k)
        raise ProfileError(
            f"{profile.path}: [local_schedule] switched_off: không có vắc xin "
            f"{', '.join(unknown)} trong lịch tiêm (mã có: {', '.join(codes)})",
            hint=f"Xem {default_schedules_dir() / 'README.md'}",
        )


class _Row:
    """One row of one version under one profile, with what every child's dose of it shares.

    Worked out once per version and profile (child_schedule's memo) rather than once per
    dose: a batch plans some twenty doses for each of hundreds of birth dates, each of
    which read the same profile flags and rebuilt the same texts.
    """

    __slots__ = (
        "row",
        "version",
        "key",
        "vaccine",
        "age",
        "min_interval",
        "nominal_after",
        "switched_off",
        "fields",
        "plain_text",
        "version_why",
        "age_why",
        "interval_text",
        "rules",
        "antigens",
        "live_interval",
    )

    def __init__(self, row: ScheduleRow, version: ScheduleVersion, profile: Profile) -> None:
        self.row, self.version, self.key, self.vaccine = row, version, row.key, row.vaccine
        self.age, self.min_interval = row.age, row.min_interval
        # (key, min_interval) of each ``after`` rule: what the nominal dates need of them
        self.nominal_after = tuple((rule.key, rule.min_interval) for rule in row.after)
        self.switched_off = profile.local_schedule.is_off(row.vaccine, row.dose)
        self.fields: _RowFields = {
            "vaccine": row.vaccine,
            "name": row.name,
            "dose": row.dose,
            "age_label": row.age_label,
            "confidence": row.confidence,
            "short_name": row.short_name,
            "local": row.key in {r.key for r in profile.local_vaccines},
            "version": version.id,
            "target_group": row.target_group,
        }
        self.plain_text = f"{row.short_name or row.name} ({row.dose})"  # _plain_dose_text
        self.version_why = f"theo {version.legal_basis}, có hiệu lực ngày đến hạn "
        self.age_why = f"tuổi theo lịch ({row.age_label}): từ "
        self.interval_text = span_text(row.min_interval) if row.min_interval is not None else ""
        # Each ``after`` rule: its key, interval, the interval's text and the "why" line
        # for when the dose it names is not in the schedule.
        self.rules = tuple(
            (
                rule.key,
                rule.min_interval,
                span_text(rule.min_interval),
                f"không có {rule.vaccine} ({rule.dose}) trong lịch: bỏ qua điều kiện",
            )
            for rule in row.after
        )
        self.antigens = row.antigen_set
        self.live_interval = version.live_vaccine_interval if row.live else None


def _rows_of(version: ScheduleVersion, profile: Profile) -> tuple[_Row, ...]:
    return tuple(_Row(row, version, profile) for row in schedule_rows(version, profile))


def _nominal(dob: date, rows: tuple[_Row, ...]) -> dict[tuple[str, str], date]:
    nominal: dict[tuple[str, str], date] = {}
    previous: dict[str, date] = {}
    for row in rows:
        day = row.age.after(dob)
        vaccine, min_interval = row.vaccine, row.min_interval
        if min_interval is not None and vaccine in previous:
            day = max(day, min_interval.after(previous[vaccine]))
        for rule_key, interval in row.nominal_after:
            if rule_key in nominal:
                day = max(day, interval.after(nominal[rule_key]))
        nominal[row.key] = previous[vaccine] = day
    return nominal


def _version_rows(
    version: ScheduleVersion, profile: Profile
) -> tuple[tuple[ScheduleVersion, tuple[_Row, ...]], ...]:
    """Return each version of ``version.history`` with its rows (``schedule_rows``)."""
    return tuple((each, _rows_of(each, profile)) for each in version.history or (version,))


def applicable_rows(
    dob: date, version: ScheduleVersion, profile: Profile
) -> list[tuple[ScheduleRow, ScheduleVersion, date]]:
    """Return (row, its version, the day it falls due) for one child, in order of that day.

    Each row comes from the version in force on the day it falls due under that version
    (the later one if two are); a dose no version in force then lists is not in the
    child's schedule (the Td booster for a child whose 7th birthday is under TT 38/2017).
    A dose falling due before the oldest version (children born before 2018) follows the
    oldest version that has it.
    """
    return [
        (row.row, row.version, day)
        for row, day in _applicable_rows(dob, _version_rows(version, profile))
    ]


def _applicable_rows(
    dob: date, versions: tuple[tuple[ScheduleVersion, tuple[_Row, ...]], ...]
) -> list[tuple[_Row, date]]:
    chosen: dict[tuple[str, str], tuple[_Row, date, int]] = {}
    fallback: dict[tuple[str, str], tuple[_Row, date, int]] = {}
    alone = len(versions) == 1
    oldest_from = versions[0][0].valid_from
    for each, rows in versions:
        if not alone and each.valid_to is not None and each.valid_to < dob:
            # Ended before the child was born: no row of it can apply (each falls due on or
            # after the birth date, no age being negative, so after this version's end and
            # after the oldest one's start), so its dates are not worked out.
            continue
        nominal = _nominal(dob, rows)
        for index, row in enumerate(rows):
            day = nominal[row.key]
            if alone or each.in_force(day):
                chosen[row.key] = (row, day, index)  # oldest first: a later one wins
            elif day < oldest_from and row.key not in fallback:
                fallback[row.key] = (row, day, index)
    for key, value in fallback.items():
        chosen.setdefault(key, value)
    ordered = sorted(chosen.values(), key=lambda item: (item[1], item[2]))
    return [(row, day) for row, day, _ in ordered]


def _child_schedule(
    dob: date,
    letter_date: date,
    profile: Profile,
    version: ScheduleVersion,
    versions: tuple[tuple[ScheduleVersion, tuple[_Row, ...]], ...] | None = None,
) -> ChildSchedule:
    planner = _Planner(dob, letter_date, profile)
    for row, falls_due in _applicable_rows(dob, versions or _version_rows(version, profile)):
        planner.plan(row, falls_due)
    doses, used = planner.doses, list(planner.used.values())
    notes: list[str] = []
    notes.extend(planner.missed_notes.values())
    undated = [
        d
        for d in doses
        if d.status == "catch_up" and (d.vaccine, d.dose) not in planner.missed_notes
    ]
    if undated:
        notes.append(_catch_up_note(undated, doses, profile))
    notes.extend(planner.notes)
    for reason in _POSTPONE_REASONS:
        moved = [d for d in doses if d.postponed == reason]
        if moved:
            live = next((v.live_vaccine_interval for v in used if v.live_vaccine_interval), None)
            notes.append(_postponed_note(reason, moved, profile, live))
    notes.extend(_tet_note(*pair) for pair in dict.fromkeys(planner.tet))
    visits = group_visits(doses)  # in the order of falling due within a visit
    doses.sort(key=lambda d: d.due)  # stable: the order of falling due within a day
    return ChildSchedule(
        version_id=version.id,
        legal_basis=_legal_basis(version, used),
        doses=tuple(doses),
        visits=visits,
        notes=tuple(notes),
        versions=tuple(dict.fromkeys(v.id for v in sorted(used, key=lambda v: v.valid_from))),
    )


class _RowFields(TypedDict):
    """The fields of a Dose that come from its schedule row and version alone (_Row)."""

    vaccine: str
    name: str
    dose: str
    age_label: str
    confidence: str
    short_name: str
    local: bool
    version: str
    target_group: str


class _DoseRow(_RowFields):
    """The fields of a Dose that come from its schedule row, whatever its date."""

    falls_due: date


class _DoseDates(_DoseRow):
    """A dose's row fields with the dates every dated or undated outcome shares."""

    due: date
    deadline: date | None
    latest: date | None


class _DoseFields(_DoseDates):
    """Every field of a Dose, as _dose takes them (the ones with a default may be left out)."""

    session: date | None
    status: Status
    where: NotRequired[str]
    why: NotRequired[tuple[str, ...]]
    postponed: NotRequired[str]


# The defaults of Dose's fields, for _dose.
_DOSE_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Dose) if f.default is not dataclasses.MISSING
}


def _dose(**fields: Unpack[_DoseFields]) -> Dose:
    """Return ``Dose(**fields)``, made without the frozen dataclass's ``__init__``.

    That ``__init__`` sets its 19 fields one by one through ``object.__setattr__``; filling
    the instance's ``__dict__`` at once (Dose has no ``__post_init__`` and no slots) saves
    15 % of the instructions of planning a batch's schedules (callgrind, 10k.xlsx's dates).
    """
    dose = object.__new__(Dose)
    dose.__dict__.update(_DOSE_DEFAULTS, **fields)
    return dose


class _Planner:
    """Places one child's doses one by one, in the order they fall due (see child_schedule)."""

    def __init__(self, dob: date, letter_date: date, profile: Profile) -> None:
        self.dob, self.letter_date, self.profile = dob, letter_date, profile
        self.doses: list[Dose] = []
        self.notes: list[str] = []  # contact-station and late-window notes, in order
        self.missed_notes: dict[tuple[str, str], str] = {}  # undated doses' own notes
        self.tet: list[tuple[date, date]] = []
        # The versions the dated doses come from, each once (by identity), in the order
        # first used: a list with one per dose was deduplicated and sorted per child.
        self.used: dict[int, ScheduleVersion] = {}
        self.placed: dict[tuple[str, str], Dose] = {}
        self.plain: dict[tuple[str, str], str] = {}  # _plain_dose_text of each placed dose
        self.given: dict[tuple[str, str], date] = {}  # the day each dated dose is given
        self.previous: dict[str, tuple[str, str]] = {}  # vaccine -> key of its latest dose
        self.at_session: dict[date, list[_Row]] = {}
        self.live_days: list[date] = []
        self.calendar = session_calendar(profile.sessions)
        self.max_per_visit = profile.local_schedule.max_doses_per_visit

    # -- one dose

    def plan(self, planned: _Row, falls_due: date) -> None:
        row, version = planned.row, planned.version
        dob, letter_date = self.dob, self.letter_date
        if planned.switched_off:
            dose = _dose(
                **planned.fields,
                falls_due=falls_due,
                due=falls_due,
                session=None,
                deadline=None,
                latest=None,
                status="switched_off",
                why=("hồ sơ xã: tỉnh không triển khai ([local_schedule] switched_off)",),
            )
            self._keep(planned, dose, None)
            return
        if id(version) not in self.used:
            self.used[id(version)] = version
        why = [planned.version_why + _d(falls_due)]
        due = planned.age.after(dob)
        why.append(planned.age_why + _d(due))
        blocked = ""
        earlier = self.previous.get(planned.vaccine)
        if earlier is not None:
            given_earlier = self.given.get(earlier)
            if given_earlier is None:
                blocked = f"mũi trước ({self.plain[earlier]}) chưa có ngày"
            elif planned.min_interval is None:
                if due <= given_earlier:
                    # Catch-up the data does not describe: the previous dose came late and
                    # this row gives no interval to keep after it.
                    blocked = (
                        f"không có khoảng cách tối thiểu sau {self.plain[earlier]} trong dữ liệu"
                    )
            else:
                after = planned.min_interval.after(given_earlier)
                why.append(
                    f"cách {self.plain[earlier]} ít nhất {planned.interval_text}: từ {_d(after)}"
                )
                due = max(due, after)
        for rule_key, interval, interval_text, not_in_schedule in planned.rules:
            prior = self.placed.get(rule_key)
            if prior is None or prior.status == "switched_off":
                why.append(not_in_schedule)
            elif rule_key not in self.given:
                blocked = blocked or f"{self.plain[rule_key]} chưa có ngày"
            else:
                after = interval.after(self.given[rule_key])
                why.append(f"sau {self.plain[rule_key]} ít nhất {interval_text}: từ {_d(after)}")
                due = max(due, after)
        deadline = row.deadline.last_day_before(dob) if row.deadline else None
        target_end = row.target_until.after(dob) - _ONE_DAY if row.target_until else None
        latest = deadline if target_end is None else target_end
        if deadline is not None and target_end is not None:
            latest = min(deadline, target_end)
        status: Status = "due_now" if due <= letter_date else "planned"
        start = max(due, letter_date)
        common: _DoseDates = {
            **planned.fields,
            "falls_due": falls_due,
            "due": due,
            "deadline": deadline,
            "latest": latest,
        }

        def undated(reason: str) -> None:
            dose = _dose(**common, session=None, status="catch_up", why=(*why, reason))
            if row.missed_note:
                self.missed_notes[planned.key] = row.missed_note
            self._keep(planned, dose, None)

        if blocked:
            undated(f"{blocked}: không ghi ngày, trạm y tế lập kế hoạch tiêm bù")
            return
        if latest is not None and start > latest:
            group = f" ({row.target_group})" if row.target_group else ""
            undated(
                f"quá độ tuổi/thời hạn tiêm{group}, đến hết {_d(latest)}: không ghi ngày, "
                "trạm y tế lập kế hoạch tiêm bù"
            )
            return
        if row.place == "birth_facility":
            why.append("tiêm tại nơi sinh")
            dose = _dose(
                **common, session=None, status=status, where=AT_BIRTH_PLACE, why=tuple(why)
            )
            self._keep(planned, dose, start)
            return
        if row.place == "school":
            why.append(f"tiêm trong đợt tiêm chủng tại trường khi trẻ {row.age_label.lower()}")
            dose = _dose(**common, session=None, status=status, where=AT_SCHOOL, why=tuple(why))
            self._keep(planned, dose, due)
            return
        first = self.calendar.next_session(start)
        session: date | None = None  # stays None: past the latest day, or moved too often
        candidate = first
        postponed = ""
        for _ in range(_MAX_MOVES):
            if latest is not None and candidate > latest:
                break
            clash = self._clash(planned, candidate)
            if not clash:
                session = candidate
                break
            postponed = clash  # the last reason is the one that set the date
            why.append(f"buổi {_d(candidate)}: {self._clash_text(clash)}, hẹn buổi sau")
            candidate = self.calendar.next_session(candidate + _ONE_DAY)
        if session is None:
            if deadline is not None and latest == deadline and target_end != latest:
                # still in time, but no session day (with room) before the deadline
                why.append(f"không có buổi tiêm trước hạn {_d(deadline)}: liên hệ trạm y tế")
                dose = _dose(
                    **common, session=None, status=status, where=CONTACT_STATION, why=tuple(why)
                )
                self.notes.append(_contact_note(row, due, deadline, letter_date))
                self._keep(planned, dose, deadline)
                return
            undated(
                f"không còn buổi tiêm nào trước {_d(latest or start)} "
                f"({row.target_group or 'hết độ tuổi'}): trạm y tế lập kế hoạch tiêm bù"
            )
            return
        why.append(f"buổi tiêm đầu tiên phù hợp từ {_d(start)}: {_d(session)}")
        cancelled = self.calendar.tet_cancelled(start, first)
        if cancelled is not None:
            self.tet.append((cancelled, first))
            why.append(f"buổi {_d(cancelled)} nghỉ Tết: chuyển sang {_d(first)}")
        if row.max_interval is not None and earlier is not None:
            window_end = row.max_interval.after(self.given[earlier])
            if session > window_end >= due:  # (a window that closed before the due date: no note)
                self.notes.append(_late_note(row, due, window_end, session))
        dose = _dose(
            **common,
            session=session,
            status=status,
            why=tuple(why),
            postponed=postponed,
        )
        self.at_session.setdefault(session, []).append(planned)
        if row.live:
            self.live_days.append(session)
        self._keep(planned, dose, session)

    def _keep(self, planned: _Row, dose: Dose, given: date | None) -> None:
        key = planned.key
        self.doses.append(dose)
        self.placed[key] = dose
        self.plain[key] = planned.plain_text
        if dose.status != "switched_off":
            self.previous[planned.vaccine] = key
        if given is not None:
            self.given[key] = given

    # -- the rules of one visit

    def _clash(self, planned: _Row, session: date) -> str:
        """Return why ``planned`` cannot be given at ``session`` ("cap", "antigen", "live"),
        or ""."""
        members = self.at_session.get(session, ())
        if len(members) >= self.max_per_visit:
            return "cap"
        antigens = planned.antigens
        for other in members:
            if not antigens.isdisjoint(other.antigens):
                return "antigen"
        interval = planned.live_interval  # None unless live, with a live_vaccine_interval
        if interval is not None:
            for day in self.live_days:
                if (
                    day != session
                    and day < interval.after(session)
                    and session < interval.after(day)
                ):
                    return "live"
        return ""

    def _clash_text(self, clash: str) -> str:
        return {
            "cap": f"đã đủ {self.profile.local_schedule.max_doses_per_visit} mũi",
            "antigen": "đã có mũi cùng thành phần vắc xin",
            "live": "gần một vắc xin sống khác",
        }[clash]


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
        if dose.status in UNDATED:
            continue
        key = (dose.where, dose.session or dose.due)
        groups.setdefault(key, []).append(dose)
    visits = []
    for members in groups.values():
        # One pass over the visit's doses for its status, labels, due date and text: four
        # generator expressions were 3 % of planning a batch's schedules (callgrind).
        status: Status = "planned"
        labels: dict[str, None] = {}  # in order, each once
        texts = []
        due = members[0].due  # the latest: every dose can be given from it
        for dose in members:
            if dose.status == "due_now":
                status = "due_now"
            labels[_upper_first(dose.age_label)] = None
            texts.append(f"{dose.short_name or dose.name} ({dose.dose})")
            if dose.due > due:
                due = dose.due
        if status == "due_now":
            only = next(iter(labels)) if len(labels) == 1 else None
            label = DUE_NOW_LABEL + (f" ({_lower_first(only)})" if only is not None else "")
        else:
            label = " / ".join(labels)
        visits.append(
            Visit(
                label=label,
                due=due,
                session=members[0].session,
                status=status,
                doses=tuple(members),
                vaccines_text=", ".join(texts),
                where=members[0].where,
            )
        )
    visits.sort(key=lambda v: (v.status != "due_now", v.session or v.due, v.due))
    return tuple(visits)
