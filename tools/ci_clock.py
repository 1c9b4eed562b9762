"""Print the clock CI sets for its second test run: mùng 2 Tết, two years after today.

    faketime "$(python tools/ci_clock.py)" python -m pytest

Two years ahead, on a day of the Lunar New Year (when vaccination sessions move and offices
close), so that a test which reads today's date instead of passing one fails in CI. Computed
each run, so the clock stays ahead as the years go by.
"""

from __future__ import annotations

from datetime import date, timedelta

from vnlunar import convert_lunar_to_solar


def ci_clock(today: date) -> str:
    """Return the faketime timestamp for the Tết day two years after ``today``."""
    day, month, year = convert_lunar_to_solar(1, 1, today.year + 2, 0, 7.0)  # UTC+7: Vietnam
    second_day = date(year, month, day) + timedelta(days=1)
    return f"{second_day.isoformat()} 10:00:00"


if __name__ == "__main__":
    print(ci_clock(date.today()))
