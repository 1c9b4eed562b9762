"""Vietnamese dates, lunar dates (UTC+7), names, honorifics and hưởng thọ / hưởng dương."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cchc_letters.models import Sex
from cchc_letters.vietnamese import (
    admin_date,
    age_on,
    clean_text,
    honorific,
    longevity_word,
    lunar_date,
    lunar_month_name,
    lunar_parts,
    lunar_year_name,
    short_date,
    title_case_name,
)


@pytest.mark.parametrize(
    ("solar", "expected"),
    [
        # Tết 1985 was 21/01/1985 in Vietnam (UTC+7) but 20/02/1985 in China (UTC+8).
        (date(1985, 1, 21), "ngày mùng 1 tháng Giêng năm Ất Sửu"),
        (date(1985, 2, 20), "ngày mùng 1 tháng 2 năm Ất Sửu"),
        # Tết 2007 (17/02, China 18/02) and Tết 2030 (02/02, China 03/02).
        (date(2007, 2, 17), "ngày mùng 1 tháng Giêng năm Đinh Hợi"),
        (date(2030, 2, 2), "ngày mùng 1 tháng Giêng năm Canh Tuất"),
        # 2025 has a leap sixth month: 01/08/2025 is day 8 of leap month 6, Ất Tỵ.
        (date(2025, 8, 1), "ngày mùng 8 tháng 6 nhuận năm Ất Tỵ"),
        # domain.md §5 examples
        (date(2024, 3, 5), "ngày 25 tháng Giêng năm Giáp Thìn"),
        (date(2019, 5, 22), "ngày 18 tháng 4 năm Kỷ Hợi"),
        # the last days before Tết belong to tháng Chạp of the old year
        (date(2026, 2, 16), "ngày 29 tháng Chạp năm Ất Tỵ"),
        (date(2026, 2, 17), "ngày mùng 1 tháng Giêng năm Bính Ngọ"),
    ],
)
def test_lunar_date_known_vietnamese_dates(solar, expected):
    assert lunar_date(solar) == expected


def test_lunar_parts_leap_flag():
    assert lunar_parts(date(2025, 8, 1)) == (8, 6, 2025, True)
    assert lunar_parts(date(2025, 7, 1))[3] is False


def test_lunar_dates_before_1968_follow_the_utc8_calendar_vietnam_used_then():
    # Tết Ất Tỵ 1965 was on 02/02/1965 on the calendar then in use (UTC+8); computed at
    # UTC+7 it would be 01/02/1965, a day early.
    assert lunar_parts(date(1965, 2, 1)) == (30, 12, 1964, False)
    assert lunar_date(date(1965, 2, 2)) == "ngày mùng 1 tháng Giêng năm Ất Tỵ"
    assert lunar_parts(date(1925, 1, 24)) == (30, 12, 1924, False)
    # From 1968 the UTC+7 calendar: Tết Mậu Thân 29/01/1968 (not 30/01 as at UTC+8).
    assert lunar_parts(date(1968, 1, 29)) == (1, 1, 1968, False)


def test_lunar_month_names():
    assert lunar_month_name(1) == "Giêng"
    assert lunar_month_name(12) == "Chạp"
    assert lunar_month_name(4, leap=True) == "4 nhuận"
    assert lunar_month_name(7) == "7"


def test_lunar_year_name_before_and_after_tet():
    assert lunar_year_name(date(2024, 3, 5)) == "Giáp Thìn"
    assert lunar_year_name(date(2026, 1, 20)) == "Ất Tỵ"  # before Tết 2026 (17/02)
    assert lunar_year_name(date(2026, 2, 17)) == "Bính Ngọ"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
        (date(2026, 1, 15), "ngày 15 tháng 01 năm 2026"),
        (date(2026, 11, 7), "ngày 07 tháng 11 năm 2026"),
        (date(2026, 3, 10), "ngày 10 tháng 3 năm 2026"),
    ],
)
def test_admin_date_leading_zeros(value, expected):
    assert admin_date(value) == expected


def test_short_date():
    assert short_date(date(2026, 2, 5)) == "05/02/2026"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NGUYỄN thị ngọc DIỆP", "Nguyễn Thị Ngọc Diệp"),
        ("  trần   quốc  khánh ", "Trần Quốc Khánh"),
        ("Nguye\u0302\u0303n Va\u0306n A", "Nguyễn Văn A"),  # NFD input
        ("h'hen niê", "H'Hen Niê"),
    ],
)
def test_title_case_name(raw, expected):
    assert title_case_name(raw) == expected


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậ ĐÊÔ'-\t\u0303", max_size=40))
def test_a_cleaned_name_is_title_cased_as_the_raw_one(text):
    # validation hands on its cells already cleaned (NFC, single spaces): not cleaned twice
    assert title_case_name(clean_text(text), cleaned=True) == title_case_name(text)


@given(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậ ĐÊÔ", max_size=40))
def test_title_case_name_is_idempotent(text):
    once = title_case_name(text)
    assert title_case_name(once) == once


@pytest.mark.parametrize(
    ("sex", "age", "role", "expected"),
    [
        (Sex.MALE, 0, "child", "cháu"),
        (Sex.FEMALE, 0, "child", "cháu"),
        (Sex.MALE, 85, "deceased", "cụ"),
        (Sex.FEMALE, 80, "deceased", "cụ"),
        (Sex.MALE, 79, "deceased", "ông"),
        (Sex.FEMALE, 40, "deceased", "chị"),  # below elder_age (50): as for the living
        (Sex.MALE, 28, "deceased", "anh"),
        (Sex.MALE, 50, "deceased", "ông"),
        (Sex.FEMALE, None, "deceased", "bà"),  # age unknown: the respectful form
        (Sex.MALE, 30, "adult", "anh"),
        (Sex.FEMALE, 26, "adult", "chị"),
        (Sex.MALE, 55, "adult", "ông"),
        (Sex.FEMALE, 50, "adult", "bà"),
        # unknown sex: no honorific (the name alone), never a slashed "anh/chị"
        (None, 30, "adult", ""),
        (None, None, "deceased", ""),
        # the deceased below the profile's child_age (default 16) are "cháu"
        (Sex.FEMALE, 2, "deceased", "cháu"),
        (None, 0, "deceased", "cháu"),
        (Sex.MALE, 16, "deceased", "anh"),
    ],
)
def test_honorific_by_age_and_sex(sex, age, role, expected):
    assert honorific(sex, age, role=role) == expected


def test_honorific_thresholds_come_from_the_caller():
    assert honorific(Sex.MALE, 45, role="adult", elder_age=40) == "ông"
    assert honorific(Sex.MALE, 75, role="deceased", very_old_age=70) == "cụ"


def test_longevity_word_by_threshold():
    assert longevity_word(60, 60) == "hưởng thọ"
    assert longevity_word(59, 60) == "hưởng dương"
    assert longevity_word(59, 50) == "hưởng thọ"
    assert longevity_word(None, 60) == "hưởng dương"


def test_age_on():
    assert age_on(date(1941, 2, 3), date(2026, 2, 2)) == 84
    assert age_on(date(1941, 2, 3), date(2026, 2, 3)) == 85
    assert age_on(None, date(2026, 1, 1), birth_year=1996) == 30
    assert age_on(None, date(2026, 1, 1)) is None


def _fold_by_definition(text: str) -> str:
    """The definition fold() is a faster form of: NFD, no combining marks, lower, a-z0-9."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Họ, chữ đệm và tên", "hochudemvaten"),
        ("NGÀY ĐĂNG KÝ", "ngaydangky"),
        ("Số định danh (CCCD)", "sodinhdanhcccd"),
        ("Ho\u0323 te\u0302n", "hoten"),  # NFD, as cp1258 text decodes
        ("\u212a\u0130", "ki"),  # Kelvin sign and dotted I lower-case to ASCII letters
        ("Nguyễn Văn Ø ß 東", "nguyenvan"),
    ],
)
def test_fold_examples(text, expected):
    from cchc_letters.vietnamese import fold

    assert fold(text) == expected == _fold_by_definition(text)


@given(st.text())
def test_fold_and_clean_text_match_their_definitions(text):
    import re
    import unicodedata

    from cchc_letters.vietnamese import clean_text, fold

    assert fold(text) == _fold_by_definition(text)
    assert clean_text(text) == re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


@given(st.text(alphabet=st.sampled_from("aăâđeêioôơuưyAĐ ẠỄỮ-'’(_.1ǆİß\u0301\t")))
def test_title_case_fast_path_matches_the_rule(text):
    import re

    from cchc_letters.vietnamese import clean_text

    rule = re.sub(
        r"(^|[\s\-'’(])(\w)", lambda m: m.group(1) + m.group(2).upper(), clean_text(text).lower()
    )
    assert title_case_name(text) == rule
