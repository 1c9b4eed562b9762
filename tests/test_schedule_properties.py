"""Properties of any child's schedule, over many dates of birth and letter dates (Hypothesis).

No visit holds two doses of one antigen or more doses than the profile allows; every
interval rule holds (series, rules between series, live vaccines); no dose is dated past
its target age or deadline; every session is a held session day and not a holiday; each
dose's version is the one in force on the day it falls due.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_letters.profile import default_profile_path, load_profile
from cchc_letters.schedule import (
    AT_BIRTH_PLACE,
    AT_SCHOOL,
    CONTACT_STATION,
    UNDATED,
    applicable_rows,
    child_schedule,
    load_versions,
    schedule_rows,
    version_for,
)
from cchc_letters.sessions import held_on, is_holiday, is_session_day, next_session

VERSIONS = load_versions()
BY_ID = {v.id: v for v in VERSIONS}


def _profile(tmp: Path, name: str, replace: dict[str, str]):
    text = default_profile_path().read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


LOCAL_MR = """
[[local_vaccines]]
vaccine = "mr-campaign"
name = "Sởi – Rubella (chiến dịch)"
short_name = "sởi – rubella chiến dịch"
dose = "mũi 1"
age = "9 months"
age_label = "9 tháng tuổi"
antigens = ["measles", "rubella"]
live = true
target_until = "2 years"
"""


EARLY_MR = """
[[local_vaccines]]
vaccine = "mr"
name = "Sởi – Rubella (MR)"
short_name = "sởi – rubella"
dose = "mũi 1"
age = "9 months"
age_label = "9 tháng tuổi"
antigens = ["measles", "rubella"]
live = true
target_until = "2 years"
after = [{ vaccine = "measles", dose = "mũi 1", min_interval = "28 days" }]
"""


def _profiles():
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="schedule-properties-"))
    return [
        load_profile(),  # 5th and 6th, next_session, weekends kept, at most 4 a visit
        _profile(
            tmp,
            "wednesdays",
            {
                "days_of_month = [5, 6]": "days_of_month = []",
                "weekdays = []": 'weekdays = ["wednesday"]',
                'holiday_rule = "next_session"': 'holiday_rule = "next_working_day"',
                "max_doses_per_visit = 4": "max_doses_per_visit = 2",
                # MR given at 9 months: its rule after measles mũi 1 sets its date
                "\n[letters]\n": "\n" + EARLY_MR + "\n[letters]\n",
            },
        ),
        _profile(
            tmp,
            "weekend",
            {
                "days_of_month = [5, 6]": "days_of_month = [1, 15]",
                'weekend_rule = "keep"': 'weekend_rule = "previous_working_day"',
                "switched_off = []": 'switched_off = ["rota"]',
                "max_doses_per_visit = 4": "max_doses_per_visit = 3",
                # a province's measles–rubella campaign dose at 9 months: it shares measles
                # with measles mũi 1 and is live, so the two must be apart
                "\n[letters]\n": "\n" + LOCAL_MR + "\n[letters]\n",
            },
        ),
    ]


PROFILES = _profiles()


def _row(dose, profile):
    version = BY_ID[dose.version]
    rows = schedule_rows(version, profile)
    (row,) = [r for r in rows if (r.vaccine, r.dose) == (dose.vaccine, dose.dose)]
    return row, version


def _given(dose, letter_date):
    """Return the day a dated dose is given, as the letter tells the family."""
    if dose.session is not None:
        return dose.session
    if dose.where == CONTACT_STATION:
        return dose.deadline
    if dose.where == AT_BIRTH_PLACE:
        return max(dose.due, letter_date)
    assert dose.where == AT_SCHOOL
    return dose.due


def _is_held_session(day, sessions) -> bool:
    """Return True when some scheduled session day is held on ``day`` (independent scan)."""
    return any(
        is_session_day(d, sessions) and held_on(d, sessions) == day
        for d in (day + timedelta(days=k) for k in range(-14, 15))
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dob=st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 31)),
    age_days=st.integers(min_value=0, max_value=1100),
    profile_index=st.integers(min_value=0, max_value=len(PROFILES) - 1),
)
def test_schedule_properties(dob, age_days, profile_index):
    profile = PROFILES[profile_index]
    letter_date = dob + timedelta(days=age_days)
    version = version_for(letter_date, VERSIONS)
    result = child_schedule(dob, letter_date, profile, version)
    given_on = {}
    for dose in sorted(result.doses, key=lambda d: d.falls_due):
        row, row_version = _row(dose, profile)
        # the version is the one in force on the day the dose falls due
        assert row_version.in_force(dose.falls_due) or dose.falls_due < VERSIONS[0].valid_from
        assert dose.due >= row.age.after(dob)
        if dose.status == "switched_off":
            assert profile.local_schedule.is_off(dose.vaccine, dose.dose)
            continue
        if dose.status in UNDATED:
            continue
        day = _given(dose, letter_date)
        given_on[(dose.vaccine, dose.dose)] = day
        assert day >= dose.due
        # never past the target group or the deadline
        if row.target_until is not None:
            assert day < row.target_until.after(dob)
        if row.deadline is not None:
            assert day <= row.deadline.last_day_before(dob)
        if dose.session is not None:
            assert dose.session >= letter_date
            assert not is_holiday(dose.session)
            assert _is_held_session(dose.session, profile.sessions)
            assert dose.session == next_session(dose.session, profile.sessions)
    # every interval rule holds between the dates given
    series: dict[str, tuple[str, str]] = {}
    for dose in sorted(result.doses, key=lambda d: d.falls_due):
        row, _ = _row(dose, profile)
        key = (dose.vaccine, dose.dose)
        if dose.status == "switched_off":
            continue
        earlier = series.get(dose.vaccine)
        series[dose.vaccine] = key
        if key not in given_on:
            continue
        if earlier is not None:
            assert earlier in given_on  # no dated dose after an undated one of its series
            assert given_on[key] > given_on[earlier]
            if row.min_interval is not None:
                assert given_on[key] >= row.min_interval.after(given_on[earlier])
        for rule in row.after:
            if rule.key in given_on:
                assert given_on[key] >= rule.min_interval.after(given_on[rule.key])
            else:  # the dose it follows has no date (or is switched off)
                first = [d for d in result.doses if (d.vaccine, d.dose) == rule.key]
                assert first and first[0].status == "switched_off"
    # one visit: not more doses than the profile allows, never two of one antigen
    for visit in result.visits:
        if visit.session is None:
            continue
        assert len(visit.doses) <= profile.local_schedule.max_doses_per_visit
        seen: set[str] = set()
        for dose in visit.doses:
            antigens = _row(dose, profile)[0].antigen_set
            assert not antigens & seen, (visit.session, visit.vaccines_text)
            seen |= antigens
    # live injected vaccines on different days are at least the version's interval apart
    live = sorted(
        (given_on[(d.vaccine, d.dose)], _row(d, profile)[1].live_vaccine_interval)
        for d in result.doses
        if (d.vaccine, d.dose) in given_on and _row(d, profile)[0].live
    )
    for (first, interval), (second, _) in zip(live, live[1:], strict=False):
        assert first == second or second >= interval.after(first)
    # what has no date is said: the catch-up sentence names the station
    if any(d.status == "catch_up" and not _row(d, profile)[0].missed_note for d in result.doses):
        assert any(profile.health_station.name in n and "tiêm bù" in n for n in result.notes)
    assert not [n for n in result.notes if "quá hạn" in n]


@settings(max_examples=200, deadline=None)
@given(dob=st.dates(min_value=date(2018, 1, 1), max_value=date(2032, 12, 31)))
def test_each_row_comes_from_the_version_in_force_when_it_falls_due(dob):
    version = VERSIONS[-1]
    rows = applicable_rows(dob, version, PROFILES[0])
    keys = [(row.vaccine, row.dose) for row, _, _ in rows]
    assert len(keys) == len(set(keys))  # each dose once
    for row, each, falls_due in rows:
        assert each.in_force(falls_due) or falls_due < VERSIONS[0].valid_from
        assert row in each.rows
    # a dose is missing only when no version in force on its day has it
    for each in VERSIONS:
        for row in each.rows:
            if (row.vaccine, row.dose) not in keys:
                day = row.age.after(dob)
                holder = version_for(max(day, VERSIONS[0].valid_from), VERSIONS)
                assert (row.vaccine, row.dose) not in {(r.vaccine, r.dose) for r in holder.rows}


def test_version_for_matches_in_force_for_every_day():
    day = date(2018, 1, 1)
    while day < date(2027, 1, 1):
        version = version_for(day, VERSIONS)
        assert version.in_force(day)
        assert sum(v.in_force(day) for v in VERSIONS) == 1
        day += timedelta(days=1)
