"""Session days: days of the month, weekdays, month ends and Vietnamese public holidays."""

from __future__ import annotations

from datetime import date

import pytest

from cchc_letters.profile import SessionDays
from cchc_letters.schedule_data import Span
from cchc_letters.sessions import is_holiday, next_session

D = date.fromisoformat
WED = 2


@pytest.mark.parametrize(
    ("start", "span", "expected"),
    [
        ("2027-12-31", "2 months", "2028-02-29"),  # leap year: clamped to 29 Feb
        ("2026-12-31", "2 months", "2027-02-28"),  # clamped to 28 Feb
        ("2026-01-31", "1 month", "2026-02-28"),
        ("2026-08-31", "3 months", "2026-11-30"),
        ("2028-02-29", "1 year", "2029-02-28"),
        ("2028-02-29", "7 years", "2035-02-28"),
        ("2026-03-10", "2 weeks", "2026-03-24"),  # exact days
        ("2026-03-10", "28 days", "2026-04-07"),
        ("2026-03-10", "24 hours", "2026-03-11"),  # hours rounded up to days
        ("2026-03-10", "0 hours", "2026-03-10"),
    ],
)
def test_span_after(start, span, expected):
    assert Span.parse(span).after(D(start)) == D(expected)


@pytest.mark.parametrize(
    ("dob", "deadline", "last_day"),
    [
        ("2026-01-15", "6 months", "2026-07-14"),  # "before 6 months"
        ("2026-01-31", "1 month", "2026-02-27"),  # first month ends at 28 Feb, exclusive
        ("2026-03-10", "24 hours", "2026-03-11"),  # the hour of birth is unknown
    ],
)
def test_deadline_last_day(dob, deadline, last_day):
    assert Span.parse(deadline).last_day_before(D(dob)) == D(last_day)


@pytest.mark.parametrize("text", ["2 month later", "", "two months", "3 fortnights", "-1 days"])
def test_span_rejects(text):
    with pytest.raises(ValueError):
        Span.parse(text)


def test_real_vietnamese_holidays_include_tet():
    assert is_holiday(D("2027-02-05"))  # Tết Đinh Mùi eve
    assert is_holiday(D("2026-02-17"))  # Tết Bính Ngọ
    assert is_holiday(D("2026-09-02"))
    assert not is_holiday(D("2027-03-05"))


MONTHLY_5_6 = SessionDays(days_of_month=(5, 6))
MONTHLY_5_6_WORKDAY = SessionDays(days_of_month=(5, 6), holiday_rule="next_working_day")
WEDNESDAYS = SessionDays(weekdays=(WED,))
WEDNESDAYS_WORKDAY = SessionDays(weekdays=(WED,), holiday_rule="next_working_day")


@pytest.mark.parametrize(
    ("sessions", "start", "expected"),
    [
        (MONTHLY_5_6, "2026-11-27", "2026-12-05"),
        (MONTHLY_5_6, "2026-12-05", "2026-12-05"),  # on the day itself
        (MONTHLY_5_6, "2026-12-06", "2026-12-06"),
        (MONTHLY_5_6, "2026-12-07", "2027-01-05"),
        # Tết 2027: 4–10 Feb are holidays, so 5 and 6 Feb are cancelled
        (MONTHLY_5_6, "2027-01-10", "2027-03-05"),  # next session day
        (MONTHLY_5_6_WORKDAY, "2027-01-10", "2027-02-11"),  # next working day (Thursday)
        # the 5 Feb session moved to 11 Feb is still ahead of someone due on 8 Feb
        (MONTHLY_5_6_WORKDAY, "2027-02-08", "2027-02-11"),
        (MONTHLY_5_6, "2027-02-08", "2027-03-05"),
        # day 31 in a 30-day month is held on the month's last day
        (SessionDays(days_of_month=(31,)), "2026-06-02", "2026-06-30"),
        (SessionDays(days_of_month=(31,)), "2026-07-01", "2026-07-31"),
        (SessionDays(days_of_month=(30,)), "2027-02-12", "2027-02-28"),
        (SessionDays(days_of_month=(29,)), "2028-02-12", "2028-02-29"),
        # 30 April 2026 is a holiday: the day-31 session of April moves to 31 May
        (SessionDays(days_of_month=(31,)), "2026-04-02", "2026-05-31"),
        # weekday sessions
        (WEDNESDAYS, "2026-11-27", "2026-12-02"),
        (WEDNESDAYS, "2026-12-02", "2026-12-02"),
        (WEDNESDAYS, "2027-02-04", "2027-02-17"),  # Wed 10 Feb 2027 is the 5th day of Tết
        (WEDNESDAYS_WORKDAY, "2027-02-04", "2027-02-11"),
        (WEDNESDAYS, "2026-08-27", "2026-09-09"),  # Wed 2 Sep 2026: National Day
        (WEDNESDAYS_WORKDAY, "2026-08-27", "2026-09-03"),
        # days of the month and weekdays together
        (SessionDays(days_of_month=(5,), weekdays=(WED,)), "2026-12-03", "2026-12-05"),
    ],
)
def test_next_session(sessions, start, expected):
    assert next_session(D(start), sessions) == D(expected)
