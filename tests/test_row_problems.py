"""Every problem of a row is reported, not only the first; dates written in words are read."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_validate import LETTER_DATE, birth, death

from cchc_letters.datewords import date_in_words, number_in_words
from cchc_letters.validate import DateProblem, parse_date, validate_rows

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def say(n: int) -> str:
    """Vietnamese words for 0..9999, written independently of the reader under test."""
    if n >= 1000:
        rest = n % 1000
        head = f"{DIGITS[n // 1000]} nghìn"
        if rest == 0:
            return head
        return f"{head} {say_hundreds(rest, full=True)}"
    return say_hundreds(n, full=False)


def say_hundreds(n: int, *, full: bool) -> str:
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    parts = []
    if hundreds or full:
        parts.append(f"{DIGITS[hundreds]} trăm")
    if tens == 0:
        if units:
            parts.append(("linh " if parts else "") + DIGITS[units])
    elif tens == 1:
        parts.append("mười" + ("" if units == 0 else " lăm" if units == 5 else f" {DIGITS[units]}"))
    else:
        unit = {0: "", 1: " mốt", 4: " tư", 5: " lăm"}.get(units, f" {DIGITS[units]}")
        parts.append(f"{DIGITS[tens]} mươi{unit}")
    return " ".join(parts) or "không"


@given(st.integers(min_value=0, max_value=9999))
def test_numbers_in_words(n):
    assert number_in_words(say(n)) == n


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.booleans(), st.booleans()
)
def test_dates_in_words_are_read(day, mung, strip):
    text = (
        f"ngày {'mùng ' if mung else ''}{say(day.day)} tháng {say(day.month)} năm {say(day.year)}"
    )
    if strip:  # typed without accents
        import unicodedata

        text = "".join(
            c
            for c in unicodedata.normalize("NFD", text.replace("đ", "d"))
            if not unicodedata.combining(c)
        ).upper()
    assert parse_date(text) == day


def test_the_issue_example_and_mixed_forms():
    assert parse_date("ngày mùng chín tháng mười một năm hai nghìn không trăm hai mươi sáu") == (
        date(2026, 11, 9)
    )
    assert parse_date("Ngày 9 tháng mười một năm 2026") == date(2026, 11, 9)
    assert parse_date("mồng một tháng giêng năm hai nghìn không trăm hai mươi bảy") == date(
        2027, 1, 1
    )
    assert date_in_words("ngày ba mươi hai tháng một năm 2026") == (2026, 1, 32)
    with pytest.raises(DateProblem) as excinfo:
        parse_date("ngày ba mươi tháng hai năm hai nghìn không trăm hai mươi sáu")
    assert excinfo.value.impossible
    with pytest.raises(DateProblem):
        parse_date("ngày hôm qua")


def test_time_written_before_the_date_of_death():
    assert parse_date("10 giờ 30 phút, ngày 05 tháng 02 năm 2026") == date(2026, 2, 5)
    assert parse_date("lúc 7h15 ngày 05/02/2026") == date(2026, 2, 5)
    [reg] = validate_rows(
        [death(death_date="08 giờ 05 phút, ngày 20/11/2026")], letter_date=LETTER_DATE
    ).registrations
    assert reg.death_date == date(2026, 11, 20) and reg.death_time == "08 giờ 05 phút"


def test_every_problem_of_a_row_is_reported():
    bad = birth(
        registration_date="31/02/2026",  # not on the calendar
        child_sex="X",  # not Nam/Nữ
        child_birth_date="hôm qua",  # unreadable
        mother_birth="2030",  # born after the child? the child's date is unknown: not checked
        child_personal_id="12345",  # too short
    )
    result = validate_rows([bad, birth(line=6, registration_number="02")], letter_date=LETTER_DATE)
    issues = [(i.code, i.column) for i in result.issues if i.source.row == 5]
    assert issues == [
        ("impossible_date", "Ngày đăng ký"),
        ("unparseable_date", "Ngày sinh"),
        ("invalid_sex", "Giới tính"),
        ("invalid_personal_id", "Số định danh cá nhân"),
    ]
    assert len(result.registrations) == 1 and result.rejected == 1


def test_problems_of_several_people_in_one_row():
    bad = birth(child_birth_date="12/11/2026", mother_birth="2027", registration_date="01/11/2026")
    codes = [i.code for i in validate_rows([bad], letter_date=LETTER_DATE).issues]
    assert codes == ["birth_after_registration", "parent_born_after_child"]
    dead = death(deceased_sex="", death_date="24/11/2026", registration_date="23/11/2026")
    codes = [i.code for i in validate_rows([dead], letter_date=LETTER_DATE).issues]
    assert codes == ["death_after_registration", "missing_sex"]
