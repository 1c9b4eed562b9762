"""Vietnamese text and dates: NFC names in title case, administrative and lunar dates, honorifics."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from cchc_letters.models import Sex

VIETNAM_TIME_ZONE = 7.0  # the Vietnamese lunar calendar is computed at UTC+7, not UTC+8
# ... since 1968. Before that Vietnam used the calendar computed at UTC+8 (as China's); vnlunar's
# tables of Hồ Ngọc Đức's published calendar (1800–2199) hold it, so dates before this day are
# looked up there instead of computed at UTC+7 (837 days in 1903–1967 differ).
UTC7_CALENDAR_FROM = date(1968, 1, 1)
_NOT_KEY = re.compile(r"[^a-z0-9]+")
_SYLLABLE_START = re.compile(r"(^|[\s\-'’(])(\w)")  # \w is str.isalnum() or "_"
_NAME_MARKS = re.compile(r"[\-'’(]")


def _title_safe() -> re.Pattern[str]:
    """Return a pattern for names that ``str.title()`` capitalises as ``title_case_name``
    does: words of lower-case letters (Latin, with Vietnamese's accents) between single
    spaces. Only letters whose title case is their one-letter upper case are let in; a
    digit, mark or other sign (after which title() would capitalise again) is not."""
    letters = [
        c
        for c in map(chr, [*range(0x61, 0x7B), *range(0xDF, 0x250), *range(0x1E00, 0x1F00)])
        if c.islower() and c.isalpha() and len(c.upper()) == 1 and c.title() == c.upper()
    ]
    word = "[" + re.escape("".join(letters)) + "]+"
    return re.compile(f"{word}(?: {word})*")


_TITLE_SAFE = _title_safe()


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


def title_case_name(value: str, *, cleaned: bool = False) -> str:
    """Return a personal name in Vietnamese title case: "NGUYỄN thị ngọc DIỆP" -> "Nguyễn Thị Ngọc Diệp".

    Every syllable (also after a hyphen or apostrophe) starts upper case, the rest is lower case.
    ``cleaned``: ``value`` is already ``clean_text``'s (as validation reads every cell), so
    it is not cleaned again (a fifth of validating a person's fields).
    """
    text = (value if cleaned else clean_text(value)).lower()
    if _TITLE_SAFE.fullmatch(text):
        # Lower-case letters and single spaces only (almost every name): str.title() gives
        # what the rule below gives, in one call. A name already in title case (most) is
        # given back itself: a registration holds it as its raw text already.
        titled = text.title()
        return value if titled == value else titled
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
    return _weekday_names()[value.weekday()]


@functools.lru_cache(maxsize=1)
def _weekday_names() -> tuple[str, ...]:
    """Return Babel's seven Vietnamese weekday names, Monday first.

    Importing babel.dates and loading its Vietnamese data cost more than a daily batch's
    letters, so the names are kept in the start-up cache (cache.py), keyed by the installed
    Babel.
    """
    from cchc_letters import cache

    key = cache.key_of("vi-weekdays-1", cache.installed("babel"))
    stored = cache.lookup("babel", key)
    if isinstance(stored, list) and len(stored) == 7 and all(isinstance(n, str) for n in stored):
        return tuple(stored)
    from babel.dates import format_date

    monday = date(2024, 1, 1)
    names = tuple(
        format_date(date.fromordinal(monday.toordinal() + day), "EEEE", locale="vi")
        for day in range(7)
    )
    cache.store("babel", key, list(names))
    return names


def lunar_parts(value: date) -> tuple[int, int, int, bool]:
    """Return (day, month, year, leap) of ``value`` in the Vietnamese lunar calendar in use then.

    From 1968 the calendar computed at UTC+7; before 1968 the one Vietnam used then (UTC+8),
    from vnlunar's historical tables (``get_lunar_date`` without a time zone), falling back to
    UTC+7 only outside the tables (before 1800).
    """
    from vnlunar import convert_solar_to_lunar, get_lunar_date

    if value < UTC7_CALENDAR_FROM:
        lunar = get_lunar_date(value.day, value.month, value.year)
    else:
        # Computed, not looked up: the tables differ from the UTC+7 computation on a few
        # future months (2054, 2072, 2077) and the computation is what the calendar follows.
        lunar = convert_solar_to_lunar(value.day, value.month, value.year, VIETNAM_TIME_ZONE)
    return lunar["day"], lunar["month"], lunar["year"], bool(lunar["leap"])


def can_chi_year(lunar_year: int) -> str:
    """Return the sexagenary name of a lunar year: 2024 -> "Giáp Thìn"."""
    from vnlunar import get_year_can_chi

    name: str = get_year_can_chi(lunar_year)  # (vnlunar has no type hints)
    return name


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


NEUTRAL = ""  # what ``honorific`` returns when sex is unknown: no honorific, the name alone


def honorific(
    sex: Sex | None,
    age: int | None,
    *,
    role: str,
    elder_age: int = 50,
    very_old_age: int = 80,
    child_age: int = 16,
) -> str:
    """Return the honorific for a person in a letter (lower case; capitalise at sentence start).

    role: "child" -> "cháu"; "deceased" -> "cháu" below ``child_age``, "cụ" from
    ``very_old_age``, "ông"/"bà" from ``elder_age`` (or when the age is unknown), else
    "anh"/"chị"; "adult" (parents, couples) -> "ông"/"bà" from ``elder_age``, else "anh"/"chị".
    Unknown sex (when the honorific depends on it) returns ``NEUTRAL`` (""), never a slashed
    "ông/bà": templates then print the name alone (``{% if x.honorific %}``).
    """
    if role == "child":
        return "cháu"
    if role == "deceased" and age is not None and age < child_age:
        return "cháu"
    if role == "deceased" and age is not None and age >= very_old_age:
        return "cụ"
    # A deceased person of unknown age is "ông"/"bà" (the respectful form); a known age below
    # elder_age is "anh"/"chị", as for the living: a man of 28 is never "ông".
    elder = (age is None and role == "deceased") or (age is not None and age >= elder_age)
    male, female = ("ông", "bà") if elder else ("anh", "chị")
    if sex is Sex.MALE:
        return male
    if sex is Sex.FEMALE:
        return female
    return NEUTRAL


_ELDER_TITLES = frozenset({"ông", "bà", "cụ"})


def couple_honorific(
    ages: tuple[int | None, ...], overrides: tuple[str | None, ...] = (), *, elder_age: int = 50
) -> str:
    """Return the one form a couple is called by in running text: "ông bà" or "anh chị".

    "ông bà" when either spouse reaches ``elder_age`` (a missing age decides nothing: the
    other spouse's decides) or an officer's override calls either "ông", "bà" or "cụ";
    otherwise "anh chị" (also when no age is known).
    """
    elder = any(age is not None and age >= elder_age for age in ages) or any(
        (title or "").lower() in _ELDER_TITLES for title in overrides
    )
    return "ông bà" if elder else "anh chị"


def age_text(birth: date | None, on: date, birth_year: int | None = None) -> str:
    """Return the age for "hưởng dương/thọ …": "85 tuổi", "5 tháng tuổi", or "".

    From one year: completed years ("2 tuổi"). Under one year with a full date of birth:
    completed months ("5 tháng tuổi"). Under one month, or under one year known only from
    the year of birth: "" (the letter leaves the age out; it never prints "0 tuổi").
    """
    years = age_on(birth, on, birth_year)
    if years is None:
        return ""
    if years >= 1:
        return f"{years} tuổi"
    if birth is None:
        return ""
    months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    return f"{months} tháng tuổi" if months >= 1 else ""


_LEADING_TAI = re.compile(r"^tại\s+", re.IGNORECASE)


def without_preposition(value: str) -> str:
    """Return a place without its leading "tại" ("Tại nhà" -> "nhà"), for text that says "tại"."""
    text = clean_text(value)
    stripped = _LEADING_TAI.sub("", text)
    return stripped if stripped else text


# Administrative and place words written lower case inside an address ("Tổ 3, ấp Bình Ba,
# xã Ngãi Giao"); "Thành phố" is kept capitalised (Thành phố Hồ Chí Minh). Longest first.
_UNIT_WORDS = (
    "tổ dân phố",
    "khu dân cư",
    "khu phố",
    "thị trấn",
    "thị xã",
    "đặc khu",
    "xã",
    "phường",
    "huyện",
    "quận",
    "tỉnh",
    "ấp",
    "thôn",
    "xóm",
    "khóm",
    "bản",
    "tổ",
    "đường",
    "số",
)
# Common nouns at the start of a place name, in the form letters use ("Bệnh viện Bà Rịa").
_PLACE_NOUNS = (
    "trung tâm y tế",
    "trạm y tế",
    "bệnh viện đa khoa",
    "bệnh viện",
    "nhà hộ sinh",
    "phòng khám",
    "nhà riêng",
    "nhà",
)
_PLACE_NOUN_FORMS = {
    "trung tâm y tế": "Trung tâm Y tế",
    "trạm y tế": "Trạm Y tế",
    "bệnh viện đa khoa": "Bệnh viện Đa khoa",
}


def _starts_with(words: list[str], phrase: str) -> bool:
    return words[: len(phrase.split())] == phrase.split()


def address_case(value: str) -> str:
    """Return an address or place written ALL IN CAPITALS in the usual letter form.

    "ẤP SUỐI NGHỆ, XÃ NGÃI GIAO, THÀNH PHỐ HỒ CHÍ MINH" ->
    "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh": the address starts with a capital,
    every name word is capitalised, administrative words (xã, phường, ấp, tổ, …) are lower
    case except at the very start, and "Thành phố" keeps its capital. Text that is not
    entirely upper case (an officer typed it with care) is returned as written (in NFC).
    """
    text = clean_text(value)
    # Most addresses were typed with care: found at their first lower-case letter instead of
    # looking at every character (half the time of a birth letter's context).
    if not text.isupper() and any(c.isalpha() and not c.isupper() for c in text):
        return text
    letters = [c for c in text if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return text
    parts = []
    for index, part in enumerate(text.split(",")):
        words = part.strip().lower().split(" ")
        if not part.strip():
            parts.append(part.strip())
            continue
        out: list[str] = []
        position = 0
        while position < len(words):
            rest = words[position:]
            noun = next((n for n in _PLACE_NOUNS if _starts_with(rest, n)), None)
            unit = next((u for u in _UNIT_WORDS if _starts_with(rest, u)), None)
            if noun and position == 0:
                form = _PLACE_NOUN_FORMS.get(noun, noun)
                out.append(form[:1].upper() + form[1:])
                position += len(noun.split())
            elif _starts_with(rest, "thành phố"):
                out.append("Thành phố")
                position += 2
            elif unit:
                out.append(unit)  # capitalised below when it starts the address
                position += len(unit.split())
            else:
                out.append(title_case_name(words[position]))
                position += 1
        joined = " ".join(out)
        parts.append(joined[:1].upper() + joined[1:] if index == 0 else joined)
    return ", ".join(parts)


_HOME = re.compile(r"^Nhà( riêng)?(?=$|,)")


def place_text(value: str | None) -> str:
    """Return a place of birth or death for "… tại {place}": no leading "tại", letter case.

    "Tại Trạm Y tế xã Ngãi Giao" -> "Trạm Y tế xã Ngãi Giao"; "TẠI NHÀ" -> "nhà".
    """
    if not value:
        return ""
    text = without_preposition(value)
    cased = address_case(text)
    if text != clean_text(value) or cased != text:
        # "nhà" / "nhà riêng" is a common noun, written lower case after "tại".
        cased = _HOME.sub(lambda m: m[0].lower(), cased)
    return cased


AGE_COUNTS = ("completed_years", "lunar_years")


def lunar_age(birth: date | None, on: date, birth_year: int | None = None) -> int | None:
    """Return the age in tuổi âm (tuổi mụ): lunar year of ``on`` - lunar year of birth + 1.

    With only a year of birth, that year is taken as the lunar year of birth (the family
    gives the year they count from).
    """
    if birth is not None:
        born = lunar_parts(birth)[2]
    elif birth_year is not None:
        born = birth_year
    else:
        return None
    return lunar_parts(on)[2] - born + 1


def death_age(
    birth: date | None, on: date, birth_year: int | None = None, count: str = "completed_years"
) -> int | None:
    """Return the age at death counted as the profile says: completed years or tuổi âm."""
    if count == "lunar_years":
        return lunar_age(birth, on, birth_year)
    return age_on(birth, on, birth_year)


def longevity_word(age: int | None, threshold: int) -> str:
    """Return "hưởng thọ" for an age at death from ``threshold``, else "hưởng dương"."""
    return "hưởng thọ" if age is not None and age >= threshold else "hưởng dương"
