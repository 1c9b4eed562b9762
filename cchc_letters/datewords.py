"""Dates written in words, as the civil-status forms ask for beside the digits:
"ngày mùng chín tháng mười một năm hai nghìn không trăm hai mươi sáu" -> 09/11/2026.

Hand-written: Babel and the date libraries format Vietnamese number words but none reads
them. Words are compared without diacritics (an export typed without accents is common),
so "mười" and "mươi" are told apart by position, as a reader does: "mười" starts a number
(10 to 19), "mươi" follows a digit word (hai mươi = 20).
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {
    "khong": 0,
    "mot": 1,  # một; also mốt in "hai mươi mốt"
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,  # tư in "hai mươi tư"
    "nam": 5,
    "lam": 5,  # lăm in "mười lăm"
    "nham": 5,  # nhăm, northern "hai mươi nhăm"
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
_ZERO_TENS = {"linh", "le"}  # "hai nghìn linh năm" = 2005
_THOUSAND = {"nghin", "ngan"}
_DAY_PREFIX = {"mung", "mong"}  # "mùng chín", "mồng một"
_MONTH_NAMES = {"gieng": 1, "chap": 12}  # "tháng giêng", "tháng chạp" (only as month names)
_DATE = re.compile(r"^(?:ngay\s+)?(?P<d>.+?)\s+thang\s+(?P<m>.+?)\s+nam\s+(?P<y>.+)$")


def _plain(text: str) -> str:
    """Lower case, no diacritics, đ -> d, words separated by single spaces."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _below_hundred(words: list[str]) -> int | None:
    if not words:
        return 0
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    if words[0] in _ZERO_TENS:
        rest = words[1:]
        return _DIGITS.get(rest[0]) if len(rest) == 1 else None
    if words[0] == "muoi":  # mười, mười một … mười chín
        if len(words) == 1:
            return 10
        if len(words) == 2 and words[1] in _DIGITS and words[1] != "khong":
            return 10 + _DIGITS[words[1]]
        return None
    if words[0] not in _DIGITS:
        return None
    first = _DIGITS[words[0]]
    if len(words) == 1:
        return first
    if words[1] != "muoi" or first < 2:
        return None
    if len(words) == 2:
        return first * 10
    if len(words) == 3 and words[2] in _DIGITS and words[2] != "khong":
        return first * 10 + _DIGITS[words[2]]
    return None


def _below_thousand(words: list[str]) -> int | None:
    if "tram" in words:
        i = words.index("tram")
        if i != 1 or words[0] not in _DIGITS:
            return None
        rest = _below_hundred(words[2:])
        return None if rest is None else _DIGITS[words[0]] * 100 + rest
    return _below_hundred(words)


def number_in_words(text: str) -> int | None:
    """Return the number 0–9999 written in Vietnamese words (or digits), None if it is not one.

    "hai nghìn không trăm hai mươi sáu" -> 2026, "mười một" -> 11, "ba mươi mốt" -> 31.
    """
    words = _plain(text).split()
    if not words:
        return None
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    thousands = [i for i, w in enumerate(words) if w in _THOUSAND]
    if len(thousands) > 1:
        return None
    if thousands:
        i = thousands[0]
        high = _below_thousand(words[:i]) if i else None
        low = _below_thousand(words[i + 1 :])
        if high is None or low is None or not 1 <= high <= 9:
            return None
        return high * 1000 + low
    return _below_thousand(words)


def date_in_words(text: str) -> tuple[int, int, int] | None:
    """Return (year, month, day) of a date written in words, None when ``text`` is not one.

    "ngày mùng chín tháng mười một năm hai nghìn không trăm hai mươi sáu" -> (2026, 11, 9).
    Digits may stand for any part ("ngày 9 tháng mười một năm 2026"). The caller checks
    that the date exists.
    """
    m = _DATE.match(_plain(text))
    if not m:
        return None
    day_words = m["d"].split()
    if day_words and day_words[0] in _DAY_PREFIX:
        day_words = day_words[1:]
    day = number_in_words(" ".join(day_words))
    month = _MONTH_NAMES.get(m["m"]) or number_in_words(m["m"])
    year = number_in_words(m["y"])
    if day is None or month is None or year is None or year < 1000:
        return None
    return year, month, day
