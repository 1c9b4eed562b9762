"""Schedule rows as data: ages like "2 months", and one dose row read from a TOML table.

Shared by the national schedule files (data/vaccination_schedules/) and the commune
profile's [[local_vaccines]]; it imports only the standard library, so profile.py and
schedule.py can both use it without a cycle.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

UNITS = ("hours", "days", "weeks", "months", "years")
CONFIDENCES = ("V", "S", "U")
PLACES = ("health_station", "birth_facility", "school")

_SPAN = re.compile(r"^\s*(\d+)\s*(hour|day|week|month|year)s?\s*$", re.IGNORECASE)


def add_months(start: date, months: int) -> date:
    """Return the same day ``months`` calendar months later, clamped to the month's end."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    day = start.day
    if day > 28:  # only then can the month be too short (calendar.monthrange is slow)
        day = min(day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@functools.lru_cache(maxsize=16384)  # a batch's children share birth and session dates
def _after(count: int, unit: str, start: date) -> date:
    """Return the date ``count`` ``unit`` after ``start`` (Span.after)."""
    if unit == "months":
        return add_months(start, count)
    if unit == "years":
        return add_months(start, 12 * count)
    if unit == "weeks":
        return start + timedelta(weeks=count)
    if unit == "days":
        return start + timedelta(days=count)
    return start + timedelta(days=-(-count // 24))


@dataclass(frozen=True)
class Span:
    """An age or interval: a count of hours, days, weeks, months or years."""

    count: int
    unit: str  # one of UNITS

    @classmethod
    def parse(cls, text: str) -> Span:
        """Return the span written as e.g. "24 hours", "2 months", "1 year".

        Raises ValueError for anything else.
        """
        match = _SPAN.match(str(text))
        if not match:
            raise ValueError(
                f"{text!r} is not an age/interval like '24 hours', '28 days', '2 weeks', "
                "'2 months' or '7 years'"
            )
        return cls(int(match.group(1)), match.group(2).lower() + "s")

    def after(self, start: date) -> date:
        """Return the date this span after ``start``.

        Months and years are calendar months clamped to the month's end (31 Dec + 2 months
        is 28 Feb, or 29 Feb in a leap year); weeks and days are exact; hours are rounded
        up to whole days, because the time of birth is not known (24 hours -> next day).
        """
        return _after(self.count, self.unit, start)

    def last_day_before(self, dob: date) -> date:
        """Return the last date on which a dose with this deadline may still be given.

        "24 hours" ends on the day after birth (the hour of birth is unknown, so that day may
        still be within 24 hours); any other span means "before the child reaches this age",
        so the last day is the day before (rotavirus before 6 months: born 15/01 -> 14/07).
        """
        if self.unit == "hours":
            return self.after(dob)
        return self.after(dob) - timedelta(days=1)

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"


@dataclass(frozen=True)
class Requirement:
    """A rule between series: this dose only ``min_interval`` after another vaccine's dose.

    e.g. the DPT booster at least 6 months after 5 trong 1 mũi 3; MR at least 28 days after
    measles mũi 1. Written in a row as
    ``after = [{ vaccine = "measles", dose = "mũi 1", min_interval = "28 days" }]``.
    """

    vaccine: str
    dose: str
    min_interval: Span

    @property
    def key(self) -> tuple[str, str]:
        """Return (vaccine, dose) of the dose that must come first."""
        return (self.vaccine, self.dose)


@dataclass(frozen=True)
class ScheduleRow:
    """One dose of the schedule as written in a data file (before any child's dates)."""

    vaccine: str  # short code, e.g. "dtp-hepb-hib"; doses of one vaccine form a series
    name: str  # printed name, e.g. "5 trong 1 (DPT-VGB-Hib)"
    short_name: str  # in the visit line, e.g. "5 trong 1"
    dose: str  # "mũi 1", "lần 2", "nhắc lại"
    age: Span  # due at this age
    age_label: str  # printed, e.g. "2 tháng tuổi"
    min_interval: Span | None = None  # after the previous dose of the same vaccine
    # Recommended at most this long after the previous dose ("1–2 tuần sau mũi 1": 14 days);
    # when the next session is later, the letter notes that the station may arrange it.
    max_interval: Span | None = None
    deadline: Span | None = None  # must be given before this age
    deadline_label: str = ""  # printed in the note when missed
    missed_note: str = ""  # the whole note when missed (overrides the generic one)
    place: str = "health_station"  # "birth_facility" or "school": no session is planned
    confidence: str = "S"
    source: str = ""  # where the row comes from (free text, for the officer)
    # The target group (đối tượng): children under ``target_until`` ("1 year": under one).
    # No dose is dated on or after it; the family is sent to the station for a catch-up plan.
    target_until: Span | None = None
    target_group: str = ""  # printed / shown, e.g. "trẻ dưới 1 tuổi"
    after: tuple[Requirement, ...] = ()  # rules between series
    antigens: tuple[str, ...] = ()  # never two doses sharing one in a visit (default: vaccine)
    live: bool = False  # a live injected vaccine: the version's live_vaccine_interval applies

    @property
    def antigen_set(self) -> frozenset[str]:
        """Return the antigens of this dose (its vaccine code when the row names none)."""
        return frozenset(self.antigens or (self.vaccine,))

    @property
    def key(self) -> tuple[str, str]:
        """Return (vaccine, dose): a local row with the same key replaces a national one."""
        return (self.vaccine, self.dose)


_ROW_KEYS = {
    "vaccine",
    "name",
    "short_name",
    "dose",
    "age",
    "age_label",
    "min_interval",
    "max_interval",
    "deadline",
    "deadline_label",
    "missed_note",
    "place",
    "confidence",
    "source",
    "target_until",
    "target_group",
    "after",
    "antigens",
    "live",
}
_NOT_TEXT = {"after", "antigens", "live"}
_REQUIRED = ("vaccine", "name", "dose", "age", "age_label")


def parse_row(table: dict[str, Any], *, default_confidence: str = "S") -> ScheduleRow:
    """Return the row described by one TOML table; raise ValueError saying what is wrong."""
    if not isinstance(table, dict):
        raise ValueError("each dose must be a table ([[doses]])")
    unknown = sorted(set(table) - _ROW_KEYS)
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_ROW_KEYS))})"
        )
    missing = [k for k in _REQUIRED if not table.get(k)]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}")
    for key, value in table.items():
        if key not in _NOT_TEXT and not isinstance(value, str):
            raise ValueError(f"{key} must be a string, not {value!r}")
    if not isinstance(table.get("live", False), bool):
        raise ValueError(f"live must be true or false, not {table['live']!r}")
    antigens = table.get("antigens", [])
    if not isinstance(antigens, list) or not all(isinstance(a, str) and a for a in antigens):
        raise ValueError(f'antigens must be a list of names like ["measles"], not {antigens!r}')
    confidence = table.get("confidence", default_confidence)
    if confidence not in CONFIDENCES:
        raise ValueError(f"confidence must be one of {', '.join(CONFIDENCES)}, not {confidence!r}")
    place = table.get("place", "health_station")
    if place not in PLACES:
        raise ValueError(f"place must be one of {', '.join(PLACES)}, not {place!r}")

    def span(key: str) -> Span | None:
        value = table.get(key)
        if not value:
            return None
        try:
            return Span.parse(value)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None

    age = span("age")
    assert age is not None
    return ScheduleRow(
        target_until=span("target_until"),
        target_group=table.get("target_group", ""),
        after=_requirements(table.get("after", [])),
        antigens=tuple(antigens),
        live=table.get("live", False),
        vaccine=table["vaccine"],
        name=table["name"],
        short_name=table.get("short_name") or table["name"],
        dose=table["dose"],
        age=age,
        age_label=table["age_label"],
        min_interval=span("min_interval"),
        max_interval=span("max_interval"),
        deadline=span("deadline"),
        deadline_label=table.get("deadline_label", ""),
        missed_note=table.get("missed_note", ""),
        place=place,
        confidence=confidence,
        source=table.get("source", ""),
    )


def _requirements(value: Any) -> tuple[Requirement, ...]:
    """Return the ``after`` rules of a row; raise ValueError saying what is wrong."""
    example = '[{ vaccine = "measles", dose = "mũi 1", min_interval = "28 days" }]'
    if not isinstance(value, list):
        raise ValueError(f"after must be a list like {example}")
    rules = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"vaccine", "dose", "min_interval"}
            or not all(isinstance(v, str) and v for v in item.values())
        ):
            raise ValueError(f"after: each rule needs vaccine, dose and min_interval: {example}")
        try:
            interval = Span.parse(item["min_interval"])
        except ValueError as exc:
            raise ValueError(f"after: {exc}") from None
        rules.append(Requirement(item["vaccine"], item["dose"], interval))
    return tuple(rules)


def nfc_tree(value: Any) -> Any:
    """Return TOML data with every string stripped and in NFC (files may be saved as NFD)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    if isinstance(value, list):
        return [nfc_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc_tree(v) for k, v in value.items()}
    return value
