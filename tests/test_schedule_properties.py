"""Properties of any child's schedule: sessions are real session days, intervals hold."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_letters.profile import load_profile
from cchc_letters.schedule import (
    AT_BIRTH_PLACE,
    CONTACT_STATION,
    child_schedule,
    load_versions,
    version_for,
)
from cchc_letters.sessions import is_holiday, is_session_day, next_session

VERSIONS = load_versions()
PROFILE = load_profile()


@settings(max_examples=150, deadline=None)
@given(
    dob=st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 12, 31)),
    age_days=st.integers(min_value=0, max_value=800),
    version_index=st.integers(min_value=0, max_value=len(VERSIONS) - 1),
)
def test_schedule_invariants(dob, age_days, version_index):
    letter_date = dob + timedelta(days=age_days)
    version = VERSIONS[version_index]
    result = child_schedule(dob, letter_date, PROFILE, version)
    rows = {row.key: row for row in version.rows}
    previous = {}
    late = 0  # doses after their max_interval window: one note each
    for dose in sorted(result.doses, key=lambda d: list(rows).index((d.vaccine, d.dose))):
        row = rows[(dose.vaccine, dose.dose)]
        assert dose.due >= row.age.after(dob)
        if row.min_interval and dose.vaccine in previous:
            assert dose.due >= row.min_interval.after(previous[dose.vaccine])
        if dose.session is not None:
            assert dose.session >= max(dose.due, letter_date)
            assert dose.session - max(dose.due, letter_date) < timedelta(days=70)
            assert not is_holiday(dose.session)
            assert is_session_day(dose.session, PROFILE.sessions)  # rule "next_session"
        assert (dose.status == "due_now") == (
            dose.due <= letter_date and dose.status != "missed_deadline"
        )
        if dose.status == "missed_deadline":
            # missed only when the deadline is before the letter date or the due date
            assert dose.deadline is not None
            assert dose.deadline < max(dose.due, letter_date)
        if dose.session is None and dose.status != "missed_deadline":
            assert dose.where in (AT_BIRTH_PLACE, CONTACT_STATION)
        if dose.where == CONTACT_STATION:
            assert dose.deadline is not None
            assert max(dose.due, letter_date) <= dose.deadline
            assert dose.deadline < next_session(max(dose.due, letter_date), PROFILE.sessions)
        if row.max_interval and dose.vaccine in previous and dose.session is not None:
            late += dose.session > row.max_interval.after(previous[dose.vaccine])
        previous[dose.vaccine] = dose.session or max(dose.due, letter_date)
    noted = sum(d.status == "missed_deadline" or d.where == CONTACT_STATION for d in result.doses)
    assert len(result.notes) == noted + late
    statuses = [v.status for v in result.visits]
    assert statuses == sorted(statuses, key=lambda s: s != "due_now")
    planned = [v.session or v.due for v in result.visits if v.status == "planned"]
    assert planned == sorted(planned)
    assert 1 <= len(result.visits) <= 13


def test_version_for_matches_in_force_for_every_day():
    day = date(2018, 1, 1)
    while day < date(2027, 1, 1):
        version = version_for(day, VERSIONS)
        assert version.in_force(day)
        assert sum(v.in_force(day) for v in VERSIONS) == 1
        day += timedelta(days=1)
