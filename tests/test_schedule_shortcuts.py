"""The planner's shortcuts for speed give what the plain computation gives.

The planner skips the dates of versions that ended before a child was born, works out a
row's texts and flags once per version and profile, and makes its doses without the
dataclass's ``__init__`` (schedule._dose): each is checked here against the plain way.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from test_schedule_properties import PROFILES

from cchc_letters.profile import Profile
from cchc_letters.schedule import (
    Dose,
    ScheduleVersion,
    applicable_rows,
    child_schedule,
    load_versions,
    schedule_rows,
    version_for,
)
from cchc_letters.schedule_data import ScheduleRow

VERSIONS = load_versions()


def _plain_applicable_rows(
    dob: date, version: ScheduleVersion, profile: Profile
) -> list[tuple[ScheduleRow, str, date]]:
    """Return applicable_rows as its docstring says, every version's dates worked out."""
    versions = version.history or (version,)
    chosen: dict[tuple[str, str], tuple[ScheduleRow, ScheduleVersion, date, int]] = {}
    fallback: dict[tuple[str, str], tuple[ScheduleRow, ScheduleVersion, date, int]] = {}
    for each in versions:
        nominal: dict[tuple[str, str], date] = {}
        previous: dict[str, date] = {}
        for index, row in enumerate(schedule_rows(each, profile)):
            day = row.age.after(dob)
            if row.min_interval is not None and row.vaccine in previous:
                day = max(day, row.min_interval.after(previous[row.vaccine]))
            for rule in row.after:
                if rule.key in nominal:
                    day = max(day, rule.min_interval.after(nominal[rule.key]))
            nominal[row.key] = previous[row.vaccine] = day
            if len(versions) == 1 or each.in_force(day):
                chosen[row.key] = (row, each, day, index)
            elif day < versions[0].valid_from and row.key not in fallback:
                fallback[row.key] = (row, each, day, index)
    for key, value in fallback.items():
        chosen.setdefault(key, value)
    ordered = sorted(chosen.values(), key=lambda item: (item[2], item[3]))
    return [(row, each.id, day) for row, each, day, _ in ordered]


def _birth_dates() -> list[date]:
    """Every 11th day from 2015 to 2027, and the days around each version's start and end."""
    days = {date(2015, 1, 1) + timedelta(days=n) for n in range(0, 12 * 366, 11)}
    for version in VERSIONS:
        for edge in (version.valid_from, version.valid_to):
            if edge is not None:
                days.update(edge + timedelta(days=n) for n in range(-3, 4))
    return sorted(days)


@pytest.mark.parametrize("forced", [None, "tt38-2017", "tt10-2024"])
@pytest.mark.parametrize("profile_index", range(len(PROFILES)))
def test_skipped_versions_are_ones_no_dose_could_come_from(profile_index, forced):
    profile = PROFILES[profile_index]
    version = version_for(date(2026, 11, 27), VERSIONS, forced)
    for dob in _birth_dates():
        fast = [(row, each.id, day) for row, each, day in applicable_rows(dob, version, profile)]
        assert fast == _plain_applicable_rows(dob, version, profile), dob


def test_doses_made_without_init_are_the_dataclass_doses():
    """Every outcome (switched off, catch-up, at the birth place, at school, contact the
    station, at a session, postponed) has exactly the fields Dose() would give it."""
    names = {field.name for field in dataclasses.fields(Dose)}
    seen = set()
    for profile in PROFILES:
        for letter_date in (date(2026, 11, 27), date(2027, 6, 30)):
            version = version_for(letter_date, VERSIONS)
            for days in range(0, 8 * 365, 29):
                plan = child_schedule(
                    letter_date - timedelta(days=days), letter_date, profile, version
                )
                for dose in plan.doses:
                    assert type(dose) is Dose
                    assert set(vars(dose)) == names
                    assert vars(Dose(**vars(dose))) == vars(dose)
                    assert hash(Dose(**vars(dose))) == hash(dose)
                    seen.add((dose.status, dose.where, bool(dose.postponed)))
    assert {status for status, _, _ in seen} == {"due_now", "planned", "catch_up", "switched_off"}
    assert {where for _, where, _ in seen} >= {
        "",
        "tại nơi sinh",
        "tại trường",
        "liên hệ trạm y tế",
    }
    assert (("planned", "", True) in seen) or (("due_now", "", True) in seen)


def test_each_profile_gets_its_own_rows_when_plans_alternate():
    """A row's flags (switched off, local) come from the profile the plan is for, also when
    plans for different profiles alternate (each change of profile starts the memo afresh)."""
    demo, wednesdays, weekend = PROFILES  # weekend: rota switched off, a local MR campaign
    letter_date = date(2026, 11, 27)
    version = version_for(letter_date, VERSIONS)
    dob = date(2026, 10, 20)
    for _ in range(2):
        plan = child_schedule(dob, letter_date, demo, version)
        assert not any(d.local for d in plan.doses)
        assert {d.status for d in plan.doses if d.vaccine == "rota"} == {"planned"}
        plan = child_schedule(dob, letter_date, weekend, version)
        assert {d.status for d in plan.doses if d.vaccine == "rota"} == {"switched_off"}
        assert [d.vaccine for d in plan.doses if d.local] == ["mr-campaign"]
        plan = child_schedule(dob, letter_date, wednesdays, version)
        assert [(d.vaccine, d.dose) for d in plan.doses if d.local] == [("mr", "mũi 1")]
