"""Vaccination session days at the commune health station, moved around weekends and holidays."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
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
    return day.day in _month_session_days(day.year, day.month, sessions)[1]


@lru_cache(maxsize=1024)
def _month_session_days(
    year: int, month: int, sessions: SessionDays
) -> tuple[tuple[date, ...], frozenset[int]]:
    """Return the scheduled session days of one month (``is_session_day``), in order, and
    their days of the month: the planner walks a month's few session days instead of
    testing its every day."""
    last = calendar.monthrange(year, month)[1]
    days = {min(d, last) for d in sessions.days_of_month}
    if sessions.weekdays:
        first = date(year, month, 1).weekday()
        days.update(d for d in range(1, last + 1) if (first + d - 1) % 7 in sessions.weekdays)
    return tuple(date(year, month, d) for d in sorted(days)), frozenset(days)


def _session_days(first: date, last: date, sessions: SessionDays) -> Iterator[date]:
    """Yield the scheduled session days from ``first`` to ``last`` (both included), in order."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        for day in _month_session_days(year, month, sessions)[0]:
            if first <= day <= last:
                yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


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
    """Return the first session held on or after ``start`` (see ``_next_session``)."""
    return _next_session(start, sessions)


def _next_session(start: date, sessions: SessionDays) -> date:
    """Return the first session held on or after ``start`` (see ``held_on``).

    A moved session may fall on or after ``start`` although the day it was scheduled for is
    before it (the 5 Feb session in Tết held on 11 Feb is still ahead of a child due on 8 Feb).
    Raises ScheduleError when the profile gives no session within a year.
    """
    best: date | None = None
    for day in _session_days(start - _LOOK_BACK, start + _LOOK_AHEAD, sessions):
        if best is not None and day > best + _LOOK_BACK:
            break
        held = held_on(day, sessions)
        if held is not None and held >= start and (best is None or held < best):
            best = held
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
    if session <= start:
        return None
    for day in _session_days(start, session - timedelta(days=1), sessions):
        if is_tet(day):
            held = held_on(day, sessions)
            if (held is None or held >= session) and (session.year, session.month) > (
                day.year,
                day.month,
            ):
                return day
    return None


class SessionCalendar:
    """``next_session`` and ``tet_cancelled`` of one profile's session days, each answer
    kept by date: a batch's planner asks the same few hundred days for every child, and
    keying a shared cache by the (frozen, unhashed) SessionDays would hash it each time."""

    def __init__(self, sessions: SessionDays) -> None:
        self.sessions = sessions
        self._next: dict[date, date] = {}
        self._tet: dict[tuple[date, date], date | None] = {}

    def next_session(self, start: date) -> date:
        """Return ``next_session(start, self.sessions)``."""
        found = self._next.get(start)
        if found is None:
            found = self._next[start] = _next_session(start, self.sessions)
        return found

    def tet_cancelled(self, start: date, session: date) -> date | None:
        """Return ``tet_cancelled(start, session, self.sessions)``."""
        key = (start, session)
        if key in self._tet:
            return self._tet[key]
        found = self._tet[key] = tet_cancelled(start, session, self.sessions)
        return found


@lru_cache(maxsize=8)
def session_calendar(sessions: SessionDays) -> SessionCalendar:
    """Return the (shared) SessionCalendar of ``sessions``."""
    return SessionCalendar(sessions)
