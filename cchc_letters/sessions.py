"""Vaccination session days at the commune health station, moved around public holidays."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

from cchc_letters.errors import ScheduleError
from cchc_letters.profile import SessionDays

# How far to look back for a holiday session moved forward past ``start`` (Tết and a weekend
# can close an office for about ten days), and how far ahead a session must be found.
_LOOK_BACK = timedelta(days=21)
_LOOK_AHEAD = timedelta(days=400)


@lru_cache(maxsize=1)
def _vietnam_holidays():  # -> holidays.HolidayBase, imported lazily (it is not small)
    import holidays

    return holidays.country_holidays("VN")


def is_holiday(day: date) -> bool:
    """Return True when ``day`` is a Vietnamese public holiday (Tết days included)."""
    return day in _vietnam_holidays()


def is_working_day(day: date) -> bool:
    """Return True for Monday to Friday when not a public holiday."""
    return day.weekday() < 5 and not is_holiday(day)


def is_session_day(day: date, sessions: SessionDays) -> bool:
    """Return True when ``day`` is a scheduled session day, before holidays are considered.

    A day of the month the month does not have (31 in April, 30 in February) falls on the
    month's last day: "ngày 31 hàng tháng" means the last day of every month.
    """
    if day.weekday() in sessions.weekdays:
        return True
    last = calendar.monthrange(day.year, day.month)[1]
    return any(min(d, last) == day.day for d in sessions.days_of_month)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=8192)  # a batch asks the same few hundred days again and again
def next_session(start: date, sessions: SessionDays) -> date:
    """Return the first session held on or after ``start``.

    A session day that is a public holiday is not held: with holiday_rule "next_session" the
    children come to the next session day; with "next_working_day" the session is held on
    the next day that is neither a weekend nor a holiday (which may fall after ``start`` even
    when the cancelled session day was before it).
    Raises ScheduleError when the profile gives no session within a year.
    """
    day = start - _LOOK_BACK
    end = start + _LOOK_AHEAD
    while day <= end:
        if is_session_day(day, sessions):
            if not is_holiday(day):
                if day >= start:
                    return day
            elif sessions.holiday_rule == "next_working_day":
                moved = _next_working_day(day)
                if moved >= start and not any(
                    is_session_day(d, sessions) and not is_holiday(d) and d >= start
                    for d in _days(start, moved)
                ):
                    return moved
        day += timedelta(days=1)
    raise ScheduleError(
        f"không có buổi tiêm chủng nào trong vòng một năm sau {start:%d/%m/%Y} "
        "(no vaccination session within a year)",
        hint="Kiểm tra [vaccination_sessions] trong hồ sơ xã.",
    )


def _days(first: date, before: date):
    day = first
    while day < before:
        yield day
        day += timedelta(days=1)
