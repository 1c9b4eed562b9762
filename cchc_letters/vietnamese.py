"""Vietnamese text and dates: NFC names in title case, administrative and lunar dates, honorifics."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from babel.dates import format_date

from cchc_letters.models import Sex

VIETNAM_TIME_ZONE = 7.0  # the Vietnamese lunar calendar is computed at UTC+7, not UTC+8
_NOT_KEY = re.compile(r"[^a-z0-9]+")
_SYLLABLE_START = re.compile(r"(^|[\s\-'’(])(\w)")  # \w is str.isalnum() or "_"
_NAME_MARKS = re.compile(r"[\-'’(]")


def clean_text(value: str) -> str:
    """Return ``value`` in NFC with runs of white space collapsed to one space."""
    # str.split() splits on exactly the characters the regex \s matches (str.isspace).
    return " ".join(unicodedata.normalize("NFC", value).split())


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Return ``text`` folded for matching: no accents, case, punctuation or spacing.

    "Họ, chữ đệm và tên" -> "hochudemvaten". Cached: a register repeats the same few
    values (headings, "Nam"/"Nữ", places) thousands of times.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        # Dropping what is not ASCII after NFD drops the accents (combining marks) and
        # letters that have no ASCII base, which the [a-z0-9] filter would drop anyway.
        text = text.encode("ascii", "ignore").decode("ascii")
    return _NOT_KEY.sub("", text.lower())


def title_case_name(value: str) -> str:
    """Return a personal name in Vietnamese title case: "NGUYỄN thị ngọc DIỆP" -> "Nguyễn Thị Ngọc Diệp".

    Every syllable (also after a hyphen or apostrophe) starts upper case, the rest is lower case.
    """
    text = clean_text(value).lower()
    if not text or _NAME_MARKS.search(text):
        return _SYLLABLE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    # Most names are syllables between single spaces (clean_text left no other white
    # space): the same result without calling a function per syllable.
    return " ".join(
        w[0].upper() + w[1:] if w[0].isalnum() or w[0] == "_" else w for w in text.split(" ")
    )


def admin_date(value: date) -> str:
    """Return the Decree 30 date form "ngày 05 tháng 02 năm 2026".

    Days below 10 and the months 1 and 2 take a leading zero; other months do not.
    """
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return f"ngày {value.day:02d} tháng {month} năm {value.year}"


def short_date(value: date) -> str:
    """Return "05/02/2026"."""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"  # 3x strftime: ~20 per letter


def weekday_name(value: date) -> str:
    """Return the Vietnamese weekday name ("thứ Tư", "Chủ nhật") from Babel's locale data."""
    return format_date(value, "EEEE", locale="vi")


def lunar_parts(value: date) -> tuple[int, int, int, bool]:
    """Return (day, month, year, leap) of ``value`` in the Vietnamese lunar calendar (UTC+7)."""
    from vnlunar import convert_solar_to_lunar

    lunar = convert_solar_to_lunar(value.day, value.month, value.year, VIETNAM_TIME_ZONE)
    return lunar["day"], lunar["month"], lunar["year"], bool(lunar["leap"])


def can_chi_year(lunar_year: int) -> str:
    """Return the sexagenary name of a lunar year: 2024 -> "Giáp Thìn"."""
    from vnlunar import get_year_can_chi

    return get_year_can_chi(lunar_year)


def lunar_month_name(month: int, leap: bool = False) -> str:
    """Return "Giêng" for 1, "Chạp" for 12, else the number; "6 nhuận" for a leap month."""
    name = {1: "Giêng", 12: "Chạp"}.get(month, str(month))
    return f"{name} nhuận" if leap else name


def lunar_date(value: date) -> str:
    """Return the lunar date for letters: "ngày 25 tháng Giêng năm Giáp Thìn".

    Days 1–10 are written "mùng 5", as the lunar calendar is spoken.
    """
    day, month, year, leap = lunar_parts(value)
    day_text = f"mùng {day}" if day <= 10 else str(day)
    return f"ngày {day_text} tháng {lunar_month_name(month, leap)} năm {can_chi_year(year)}"


def lunar_year_name(value: date) -> str:
    """Return the can-chi name of the lunar year containing ``value``: 05/03/2024 -> "Giáp Thìn".

    A date in January before Tết belongs to the previous lunar year.
    """
    return can_chi_year(lunar_parts(value)[2])


def age_on(birth: date | None, on: date, birth_year: int | None = None) -> int | None:
    """Return completed years of age on ``on``; from the year alone when no full date."""
    if birth is not None:
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if birth_year is not None:
        return on.year - birth_year
    return None


def honorific(
    sex: Sex | None,
    age: int | None,
    *,
    role: str,
    elder_age: int = 50,
    very_old_age: int = 80,
) -> str:
    """Return the honorific for a person in a letter (lower case; capitalise at sentence start).

    role: "child" -> "cháu"; "deceased" -> "cụ" from ``very_old_age``, else "ông"/"bà";
    "adult" (parents, couples) -> "ông"/"bà" from ``elder_age``, else "anh"/"chị".
    Unknown sex gives the neutral "ông/bà" or "anh/chị".
    """
    if role == "child":
        return "cháu"
    if role == "deceased" and age is not None and age >= very_old_age:
        return "cụ"
    elder = role == "deceased" or (age is not None and age >= elder_age)
    male, female = ("ông", "bà") if elder else ("anh", "chị")
    if sex is Sex.MALE:
        return male
    if sex is Sex.FEMALE:
        return female
    return f"{male}/{female}"


def longevity_word(age: int | None, threshold: int) -> str:
    """Return "hưởng thọ" for an age at death from ``threshold``, else "hưởng dương"."""
    return "hưởng thọ" if age is not None and age >= threshold else "hưởng dương"
