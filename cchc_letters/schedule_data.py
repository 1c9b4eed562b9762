"""Schedule rows as data: ages like "2 months", and one dose row read from a TOML table.

Shared by the national schedule files (data/vaccination_schedules/) and the commune
profile's [[local_vaccines]]; it imports only the standard library, so profile.py and
schedule.py can both use it without a cycle.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

UNITS = ("hours", "days", "weeks", "months", "years")
CONFIDENCES = ("V", "S", "U")
PLACES = ("health_station", "birth_facility")

_SPAN = re.compile(r"^\s*(\d+)\s*(hour|day|week|month|year)s?\s*$", re.IGNORECASE)


def add_months(start: date, months: int) -> date:
    """Return the same day ``months`` calendar months later, clamped to the month's end."""
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


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
        if self.unit == "months":
            return add_months(start, self.count)
        if self.unit == "years":
            return add_months(start, 12 * self.count)
        if self.unit == "weeks":
            return start + timedelta(weeks=self.count)
        if self.unit == "days":
            return start + timedelta(days=self.count)
        return start + timedelta(days=-(-self.count // 24))

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
    place: str = "health_station"  # or "birth_facility": no session is planned
    confidence: str = "S"
    source: str = ""  # where the row comes from (free text, for the officer)

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
}
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
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string, not {value!r}")
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


def nfc_tree(value: Any) -> Any:
    """Return TOML data with every string stripped and in NFC (files may be saved as NFD)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    if isinstance(value, list):
        return [nfc_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: nfc_tree(v) for k, v in value.items()}
    return value
