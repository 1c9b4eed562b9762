"""Vaccination session days at the commune health station, moved around weekends and holidays."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

from cchc_letters.errors import ScheduleError
from cchc_letters.profile import SessionDays

# How far to look back for a session moved forward past ``start`` (Tết and a weekend can
# close an office for about ten days), and how far ahead a session must be found.
_LOOK_BACK = timedelta(days=21)
_LOOK_AHEAD = timedelta(days=400)


# What the holidays package reads to choose the language of holiday names (is_tet reads them).
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


class _VietnamHolidays:
    """Vietnam's public holidays (``holidays.country_holidays("VN")``), a year at a time.

    Importing ``holidays`` imports every country it knows (a tenth of a second, more than a
    daily batch's letters), so each year's dates and names are kept in the start-up cache
    (cache.py), keyed by the installed package and the locale it names holidays in.
    """

    def __init__(self) -> None:
        self._years: dict[int, dict[date, str]] = {}

    def _year(self, year: int) -> dict[date, str]:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._load(year)
        return found

    def _load(self, year: int) -> dict[date, str]:
        import os

        from cchc_letters import cache

        key = cache.key_of(
            "vn-holidays-1",
            str(year),
            cache.installed("holidays"),
            *(f"{name}={os.environ.get(name, '')}" for name in _LOCALE_VARIABLES),
        )
        cached = cache.lookup("holidays", key)
        if isinstance(cached, dict):
            return {date.fromisoformat(day): name for day, name in cached.items()}
        import holidays

        days = dict(holidays.country_holidays("VN", years=year).items())
        cache.store("holidays", key, {day.isoformat(): name for day, name in days.items()})
        return days

    def __contains__(self, day: date) -> bool:
        return day in self._year(day.year)

    def get(self, day: date) -> str | None:
        return self._year(day.year).get(day)


@lru_cache(maxsize=1)
def _vietnam_holidays() -> _VietnamHolidays:
    return _VietnamHolidays()


def is_holiday(day: date) -> bool:
    """Return True when ``day`` is a Vietnamese public holiday (Tết days included)."""
    return day in _vietnam_holidays()


def is_tet(day: date) -> bool:
    """Return True when ``day`` is one of the Lunar New Year (Tết Nguyên đán) holidays."""
    name = _vietnam_holidays().get(day) or ""
    return "Lunar New Year" in name or "Tết" in name


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


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@lru_cache(maxsize=8192)
def held_on(day: date, sessions: SessionDays) -> date | None:
    """Return the day the session scheduled on ``day`` is held, or None when it is not held.

    A public holiday follows ``holiday_rule`` ("next_session": not held, the children come
    to the next session; "next_working_day": held on the next working day). A Saturday or
    Sunday follows ``weekend_rule`` ("keep": held that day; "next_working_day" /
    "previous_working_day": held on the working day after / before; "next_session": not
    held). ``day`` must be a session day (``is_session_day``).
    """
    if is_holiday(day):
        return _next_working_day(day) if sessions.holiday_rule == "next_working_day" else None
    if day.weekday() >= 5 and sessions.weekend_rule != "keep":
        if sessions.weekend_rule == "next_working_day":
            return _next_working_day(day)
        if sessions.weekend_rule == "previous_working_day":
            return _previous_working_day(day)
        return None
    return day


@lru_cache(maxsize=8192)  # a batch asks the same few hundred days again and again
def next_session(start: date, sessions: SessionDays) -> date:
    """Return the first session held on or after ``start`` (see ``held_on``).

    A moved session may fall on or after ``start`` although the day it was scheduled for is
    before it (the 5 Feb session in Tết held on 11 Feb is still ahead of a child due on 8 Feb).
    Raises ScheduleError when the profile gives no session within a year.
    """
    day = start - _LOOK_BACK
    end = start + _LOOK_AHEAD
    best: date | None = None
    while day <= end and (best is None or day <= best + _LOOK_BACK):
        if is_session_day(day, sessions):
            held = held_on(day, sessions)
            if held is not None and held >= start and (best is None or held < best):
                best = held
        day += timedelta(days=1)
    if best is None:
        raise ScheduleError(
            f"không có buổi tiêm chủng nào trong vòng một năm sau {start:%d/%m/%Y} "
            "(no vaccination session within a year)",
            hint="Kiểm tra [vaccination_sessions] trong hồ sơ xã.",
        )
    return best


def tet_cancelled(start: date, session: date, sessions: SessionDays) -> date | None:
    """Return the session day Tết took from a child, when Tết moves it to a later month.

    That is the first scheduled session day in [start, session) that falls in the Tết
    holidays and is not held before ``session``, when ``session`` is in a later month;
    None otherwise (the letter then needs no sentence about it).
    """
    day = start
    while day < session:
        if is_session_day(day, sessions) and is_tet(day):
            held = held_on(day, sessions)
            if (held is None or held >= session) and (session.year, session.month) > (
                day.year,
                day.month,
            ):
                return day
        day += timedelta(days=1)
    return None
