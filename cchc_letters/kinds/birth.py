"""The birth letter (thư chúc mừng khai sinh): row, context with the child's schedule, samples."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from cchc_letters.enrich import (
    letter_address_line,
    names_line,
    person_context,
    profile_value,
    sessions_text,
)
from cchc_letters.kinds import DATE, ROWS, TEXT, TEXT_LIST, YES_NO, Variable, from_data
from cchc_letters.models import Birth, Kind, Person, Sex
from cchc_letters.profile import Profile
from cchc_letters.validate import RowProblem, RowReader
from cchc_letters.variables import person_variables, sample_residence, sample_source
from cchc_letters.vietnamese import place_text

# The long birth samples' ages (days) on the letter date. The first is the one preview --long
# shows: registered late, about six months old, the age with the longest schedule
# notes (rotavirus past its deadline: the catch-up sentence; the HepB birth dose; Tết) beside
# doses due now, which fill one visit up to the doses-per-visit limit. The second, a newborn,
# has the most schedule rows (longest with a profile that adds local vaccines). The page
# check renders both.
LONG_CHILD_AGES_DAYS = (180, 15)


# Births of a batch name the same few birth places (the district's hospitals) again and again.
_birth_place = functools.lru_cache(maxsize=1024)(place_text)


def build(read: RowReader, common: dict[str, Any]) -> Birth | None:
    """Return the birth registration of a row (child, parents, informant); None when the
    reader noted a problem."""
    dob = read.date("child_birth_date")
    reg_date = common["registration_date"]
    if dob is not None and reg_date is not None and dob > reg_date:
        read.note(
            RowProblem(
                "birth_after_registration",
                "Ngày sinh của trẻ sau ngày đăng ký khai sinh.",
                "child_birth_date",
            )
        )
    child = read.person("child", birth_field="child_birth_date", required=True)
    parents_limit = (dob, "ngày sinh của con", "parent_born_after_child")
    mother = read.person("mother", sex=Sex.FEMALE, not_after=parents_limit)
    father = read.person("father", sex=Sex.MALE, not_after=parents_limit)
    if read.problems:
        return None
    assert child is not None
    return Birth(
        **common,
        child=child,
        birth_place=read.text("child_birth_place") or None,
        mother=mother,
        father=father,
        informant_name=read.name("informant_name") or None,
        informant_relation=read.text("informant_relation") or None,
        phone=read.text("phone") or None,
    )


def context(reg: Birth, profile: Profile, letter_date: date, schedule: Any) -> dict[str, Any]:
    """Return the birth letter's own values: child, parents, health station, schedule.

    Honorifics: the child by the child rules, the parents as adults on the letter date
    (the mother's sex is female and the father's male when the record leaves it empty).
    """
    from cchc_letters.schedule import child_schedule

    assert reg.child.birth_date is not None  # validate guarantees it for births
    child = person_context(reg.child, role="child", on=letter_date, profile=profile)
    mother = person_context(
        reg.mother, role="adult", on=letter_date, profile=profile, sex=Sex.FEMALE
    )
    father = person_context(reg.father, role="adult", on=letter_date, profile=profile, sex=Sex.MALE)
    plan = child_schedule(reg.child.birth_date, letter_date, profile, schedule)
    addressee = names_line(father, mother) or f"Gia đình {child['honorific']} {child['name']}"
    return {
        "child": child,
        "mother": mother,
        "father": father,
        "birth_place": _birth_place(reg.birth_place),
        "addressee": addressee,
        "address": letter_address_line(reg),
        "station": profile_value(profile, "birth.station", _station_context),
        "schedule": _schedule_context(plan),
    }


def _station_context(profile: Profile) -> dict[str, Any]:
    station = profile.health_station
    return {
        "name": station.name,
        "address": station.address,
        "phone": station.phone,
        "sessions": sessions_text(profile),
    }


# A plan is the same object for every child born on the same day (schedule.child_schedule
# remembers it), and so is its part of the context: shared by those letters (read-only, as
# templates render in the immutable sandbox). Kept with the plan itself, so that its id is
# not reused while the entry is here.
_schedules: dict[int, tuple[Any, dict[str, Any]]] = {}
_SCHEDULES_KEPT = 4096


def _schedule_context(plan: Any) -> dict[str, Any]:
    """Return the ``schedule`` values of a child's plan (schedule.ChildSchedule)."""
    from cchc_letters.schedule import AT_SCHOOL

    kept = _schedules.get(id(plan))
    if kept is not None and kept[0] is plan:
        return kept[1]
    value = {
        "id": plan.version_id,
        "legal_basis": plan.legal_basis,
        "visits": [
            {
                "label": visit.label,
                "vaccines": visit.vaccines_text,
                "due": visit.due,
                "session": visit.session,
                "where": visit.where,
                "status": visit.status,
                "due_now": visit.status == "due_now",
                "at_school": visit.where == AT_SCHOOL,
            }
            for visit in plan.visits
        ],
        "notes": list(plan.notes),
    }
    if len(_schedules) >= _SCHEDULES_KEPT:
        _schedules.clear()
    _schedules[id(plan)] = (plan, value)
    return value


def sample(letter_date: date, *, long: bool = False, child_age_days: int | None = None) -> Birth:
    """Return the sample birth (see ``variables.sample_registration``); ``child_age_days``
    gives the long child another age."""
    registered = letter_date - timedelta(days=7)
    residence = sample_residence(long)
    return Birth(
        kind=Kind.BIRTH,
        number="07" if not long else "1207",
        book="01/2026",
        registration_date=registered,
        source=sample_source(Kind.BIRTH),
        note="Đăng ký khai sinh quá hạn" if long else None,
        child=Person(
            "Tôn Nữ Hoàng Phương Thảo Nguyên" if long else "Nguyễn Phạm Gia Bảo",
            Sex.FEMALE if long else Sex.MALE,
            birth_date=(
                letter_date - timedelta(days=child_age_days or LONG_CHILD_AGES_DAYS[0])
                if long
                else registered - timedelta(days=8)
            ),
        ),
        birth_place=(
            "Bệnh viện Bà Rịa, phường Long Tâm, Thành phố Hồ Chí Minh"
            if long
            else "Trung tâm Y tế khu vực Châu Đức"
        ),
        mother=Person(
            "Huỳnh Nguyễn Thị Phương Thảo" if long else "Phạm Thị Ngọc Diệp",
            Sex.FEMALE,
            birth_year=1996,
            residence=residence,
        ),
        father=Person(
            "Tôn Thất Hoàng Minh Khôi" if long else "Nguyễn Văn Trưởng",
            Sex.MALE,
            birth_year=1994,
            residence=residence,
        ),
        informant_name="Nguyễn Văn Trưởng",
        informant_relation="cha",
    )


def samples(letter_date: date, long: bool) -> list[Birth]:
    """Return the sample; long: both worst cases (most notes, most schedule rows)."""
    if not long:
        return [sample(letter_date)]
    return [sample(letter_date, long=True, child_age_days=d) for d in LONG_CHILD_AGES_DAYS]


BIRTH = (Kind.BIRTH,)
VARIABLES = (
    *person_variables("child", BIRTH, "cháu bé", "the child"),
    *person_variables("mother", BIRTH, "người mẹ", "the mother"),
    *person_variables("father", BIRTH, "người cha", "the father"),
    Variable("birth_place", BIRTH, TEXT, "Nơi sinh", "Place of birth"),
    Variable("station.name", BIRTH, TEXT, "Tên trạm y tế", "Health station"),
    Variable("station.address", BIRTH, TEXT, "Địa chỉ trạm y tế", "Its address"),
    Variable("station.phone", BIRTH, TEXT, "Điện thoại trạm y tế", "Its phone"),
    Variable("station.sessions", BIRTH, TEXT, "Ngày tiêm chủng của trạm", "When it vaccinates"),
    Variable("schedule.id", BIRTH, TEXT, "Mã phiên bản lịch tiêm", "Schedule version id"),
    Variable("schedule.legal_basis", BIRTH, TEXT, "Căn cứ pháp lý của lịch tiêm", "Legal basis"),
    Variable(
        "schedule.visits",
        BIRTH,
        ROWS,
        "Các lần tiêm của cháu (dùng {%tr for visit in schedule.visits %})",
        "The child's visits (use {%tr for visit in schedule.visits %})",
    ),
    Variable("schedule.visits[].label", BIRTH, TEXT, "Thời điểm tiêm", "When (age)"),
    Variable("schedule.visits[].vaccines", BIRTH, TEXT, "Vắc xin, mũi tiêm", "Vaccines"),
    Variable("schedule.visits[].due", BIRTH, DATE, "Tiêm từ ngày", "Due from"),
    Variable(
        "schedule.visits[].session",
        BIRTH,
        DATE,
        "Buổi tiêm dự kiến (có thể trống)",
        "Planned session (may be empty)",
    ),
    Variable(
        "schedule.visits[].where",
        BIRTH,
        TEXT,
        "Khi không có buổi tiêm: tiêm ở đâu (tại nơi sinh, tại trường, liên hệ trạm y tế)",
        "Where, when there is no session date",
    ),
    Variable(
        "schedule.visits[].status",
        BIRTH,
        TEXT,
        "Trạng thái: due_now (cần tiêm ngay) hoặc planned (theo lịch)",
        "Status code",
    ),
    Variable("schedule.visits[].due_now", BIRTH, YES_NO, "Đã đến hạn", "Due now"),
    Variable(
        "schedule.visits[].at_school",
        BIRTH,
        YES_NO,
        "Mũi tiêm trong đợt tiêm chủng tại trường (Td lúc 7 tuổi): in tuổi và “tại trường”, "
        "không in ngày",
        "A school-campaign dose (Td at 7): print the age and 'tại trường', no date",
    ),
    Variable("schedule.notes", BIRTH, TEXT_LIST, "Ghi chú của lịch tiêm", "Schedule notes"),
)

ENTRY = from_data(
    "birth",
    build=build,
    context=context,
    samples=samples,
    variables=VARIABLES,
    uses_schedule=True,
    addressed=lambda reg: (reg.mother, reg.father),
)
