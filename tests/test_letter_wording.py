"""What the default letters say: couple honorifics, deceased children, places, capitals."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest

from cchc_letters.enrich import letter_context
from cchc_letters.models import Birth, Death, Kind, Marriage, Person, Sex, SourceRef
from cchc_letters.profile import load_profile
from cchc_letters.render import LetterTemplate, template_path
from cchc_letters.vietnamese import address_case, age_text, honorific, place_text

LETTER_DATE = date(2026, 11, 27)
SOURCE = SourceRef("test.csv", None, 2)


def text_of(kind: Kind, registration) -> str:
    """Return the visible text of the default ``kind`` letter for ``registration``."""
    context = letter_context(registration, load_profile(None), LETTER_DATE, _schedule(kind))
    xml = LetterTemplate.load(template_path(kind)).render_body(context)
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", xml, re.DOTALL)
    return "\n".join("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in paragraphs)


def _schedule(kind: Kind):
    if kind is not Kind.BIRTH:
        return None
    from cchc_letters.schedule import load_versions, version_for

    return version_for(LETTER_DATE, load_versions())


def marriage(husband: Person, wife: Person) -> Marriage:
    return Marriage(
        kind=Kind.MARRIAGE,
        number="01",
        book="01/2026",
        registration_date=date(2026, 11, 20),
        source=SOURCE,
        husband=husband,
        wife=wife,
    )


def death(deceased: Person, died: date, place: str | None = None) -> Death:
    return Death(
        kind=Kind.DEATH,
        number="01",
        book="01/2026",
        registration_date=died,
        source=SOURCE,
        deceased=deceased,
        death_date=died,
        death_place=place,
    )


def birth(*, place: str | None, residence: str) -> Birth:
    return Birth(
        kind=Kind.BIRTH,
        number="01",
        book="01/2026",
        registration_date=date(2026, 11, 20),
        source=SOURCE,
        child=Person("Nguyễn Gia Bảo", Sex.MALE, birth_date=date(2026, 11, 12)),
        birth_place=place,
        mother=Person("Phạm Thị Diệp", Sex.FEMALE, birth_year=1996, residence=residence),
        father=Person("Nguyễn Văn Trưởng", Sex.MALE, birth_year=1994, residence=residence),
    )


# ---- 1. a couple is called by one form ---------------------------------------------------


def test_couple_of_different_generations_is_ong_ba_never_ong_chi():
    text = text_of(
        Kind.MARRIAGE,
        marriage(
            Person("Trần Văn Lớn", Sex.MALE, birth_year=1974),
            Person("Lê Thị Nhỏ", Sex.FEMALE, birth_year=1990),
        ),
    )
    assert "Kính gửi: Ông Trần Văn Lớn và chị Lê Thị Nhỏ" in text  # each their own
    assert "xin gửi tới ông bà và hai bên gia đình" in text
    assert "Chúc ông bà trăm năm hạnh phúc" in text
    assert "ông chị" not in text and "anh bà" not in text


def test_young_couple_is_anh_chi_and_a_missing_year_is_decided_by_the_other():
    young = marriage(
        Person("Lê Văn Hùng", Sex.MALE, birth_date=date(1998, 3, 14)),
        Person("Huỳnh Thị Kim Ngân", Sex.FEMALE),  # no year of birth
    )
    context = letter_context(young, load_profile(None), LETTER_DATE)
    assert context["couple"]["honorific"] == "anh chị"
    assert "Chúc anh chị trăm năm hạnh phúc" in text_of(Kind.MARRIAGE, young)
    older = marriage(
        Person("Trần Văn Lớn", Sex.MALE), Person("Lê Thị Nhỏ", Sex.FEMALE, birth_year=1970)
    )
    assert letter_context(older, load_profile(None), LETTER_DATE)["couple"]["honorific"] == "ông bà"


def test_an_override_keeps_its_own_name_and_makes_the_couple_ong_ba():
    reg = marriage(
        Person("Trần Văn Lớn", Sex.MALE, birth_year=1990, honorific="ông"),
        Person("Lê Thị Nhỏ", Sex.FEMALE, birth_year=1992),
    )
    text = text_of(Kind.MARRIAGE, reg)
    assert "Kính gửi: Ông Trần Văn Lớn và chị Lê Thị Nhỏ" in text
    assert "Chúc ông bà trăm năm" in text


# ---- 2. deceased children and babies -----------------------------------------------------


def test_deceased_girl_of_two_is_chau_and_never_hưởng_dương():
    text = text_of(
        Kind.DEATH, death(Person("Lê Thị Na", Sex.FEMALE, birth_year=2024), date(2026, 11, 20))
    )
    assert "Kính gửi: Gia đình cháu Lê Thị Na" in text
    assert "tin: Cháu Lê Thị Na, sinh năm 2024" in text
    assert "đã qua đời ngày 20/11/2026" in text
    assert "khi mới 2 tuổi." in text
    assert "hưởng dương" not in text and "từ trần" not in text
    assert "bà Lê Thị Na" not in text


def test_baby_is_worded_by_its_date_of_birth_not_hưởng_dương_in_months():
    months = death(Person("Lê Văn Tí", Sex.MALE, birth_date=date(2026, 6, 10)), date(2026, 11, 20))
    text = text_of(Kind.DEATH, months)
    assert "Gia đình cháu Lê Văn Tí" in text
    assert "Cháu Lê Văn Tí, sinh ngày 10/06/2026" in text  # the full date, not "sinh năm"
    assert "sinh năm" not in text
    assert "khi mới 5 tháng tuổi." in text
    assert "hưởng dương" not in text
    newborn = death(
        Person("Lê Văn Tèo", Sex.MALE, birth_date=date(2026, 11, 18)), date(2026, 11, 20)
    )
    text = text_of(Kind.DEATH, newborn)
    assert "Gia đình cháu Lê Văn Tèo" in text
    assert "sinh ngày 18/11/2026" in text
    assert "0 tuổi" not in text and "hưởng dương" not in text and "khi mới" not in text
    assert "(tức ngày" in text and ").\n" in text + "\n"


def test_adult_keeps_the_year_of_birth_and_hưởng_thọ():
    text = text_of(
        Kind.DEATH,
        death(Person("Nguyễn Văn Tám", Sex.MALE, birth_date=date(1941, 2, 3)), date(2026, 11, 17)),
    )
    assert "tin: Cụ Nguyễn Văn Tám, sinh năm 1941" in text
    assert "đã từ trần ngày 17/11/2026" in text
    assert "hưởng thọ 85 tuổi." in text


def test_young_deceased_man_is_anh_not_ông():
    """The issue's case: a 28-year-old man's family read "Gia đình ông …"."""
    reg = death(Person("Trần Văn Sơn", Sex.MALE, birth_date=date(1998, 5, 1)), date(2026, 11, 20))
    text = text_of(Kind.DEATH, reg)
    assert "Kính gửi: Gia đình anh Trần Văn Sơn" in text
    assert "tin: Anh Trần Văn Sơn" in text
    assert "ông Trần Văn Sơn" not in text
    assert "hưởng dương 28 tuổi." in text
    woman = death(Person("Lê Thị Hoa", Sex.FEMALE, birth_year=1980), date(2026, 11, 20))
    assert "Gia đình chị Lê Thị Hoa" in text_of(Kind.DEATH, woman)
    elder = death(Person("Lê Thị Hoa", Sex.FEMALE, birth_year=1970), date(2026, 11, 20))
    assert "Gia đình bà Lê Thị Hoa" in text_of(Kind.DEATH, elder)  # elder_age 50 reached
    unknown_age = death(Person("Lê Văn Ba", Sex.MALE), date(2026, 11, 20))
    assert "Gia đình ông Lê Văn Ba" in text_of(Kind.DEATH, unknown_age)


def test_child_age_is_a_profile_setting(tmp_path):
    profile = load_profile(None)
    assert profile.child_age == 16
    teen = Person("Lê Văn Tú", Sex.MALE, birth_date=date(2010, 1, 1))  # 16 at death
    assert honorific(Sex.MALE, 15, role="deceased") == "cháu"
    assert honorific(Sex.MALE, 16, role="deceased") == "anh"
    assert "Gia đình anh Lê Văn Tú" in text_of(Kind.DEATH, death(teen, date(2026, 11, 20)))


def _profile_with(tmp_path, line: str):
    """Return the demo profile with its ``age_count`` line replaced by ``line``."""
    from cchc_letters.profile import default_profile_path

    demo = default_profile_path().read_text(encoding="utf-8")
    assert 'age_count = "completed_years"' in demo
    text = demo.replace('age_count = "completed_years"', line, 1)
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


def test_age_count_default_is_completed_years_and_tuổi_âm_is_a_setting(tmp_path):
    # Born 20/12/1945 (lunar year Ất Dậu 1945), died 20/11/2026 (lunar year 2026):
    # 80 completed years, 82 tuổi âm (2026 - 1945 + 1).
    reg = death(Person("Lê Văn Lão", Sex.MALE, birth_date=date(1945, 12, 20)), date(2026, 11, 20))
    assert load_profile(None).age_count == "completed_years"
    context = letter_context(reg, load_profile(None), LETTER_DATE)
    assert context["deceased"]["age_phrase"] == "hưởng thọ 80 tuổi"
    lunar = _profile_with(tmp_path, 'age_count = "lunar_years"')
    context = letter_context(reg, lunar, LETTER_DATE)
    assert context["deceased"]["age_phrase"] == "hưởng thọ 82 tuổi"
    # the threshold compares the age as counted: 59 completed years, 61 tuổi âm
    near = death(Person("Lê Văn Vừa", Sex.MALE, birth_date=date(1966, 12, 30)), date(2026, 11, 20))
    assert letter_context(near, load_profile(None), LETTER_DATE)["deceased"]["age_phrase"] == (
        "hưởng dương 59 tuổi"
    )
    assert letter_context(near, lunar, LETTER_DATE)["deceased"]["age_phrase"] == (
        "hưởng thọ 61 tuổi"
    )


def test_age_count_setting_is_checked(tmp_path):
    from cchc_letters.errors import ProfileError

    with pytest.raises(ProfileError, match="age_count"):
        _profile_with(tmp_path, 'age_count = "tuổi mụ"')


@pytest.mark.parametrize(
    ("born", "died", "expected"),
    [
        (date(1941, 2, 3), date(2026, 11, 17), "85 tuổi"),
        (date(2025, 11, 20), date(2026, 11, 20), "1 tuổi"),
        (date(2025, 11, 21), date(2026, 11, 20), "11 tháng tuổi"),
        (date(2026, 10, 20), date(2026, 11, 20), "1 tháng tuổi"),
        (date(2026, 10, 21), date(2026, 11, 20), ""),
    ],
)
def test_age_text(born, died, expected):
    assert age_text(born, died) == expected


def test_age_text_from_the_year_alone_is_never_zero():
    assert age_text(None, date(2026, 11, 20), 2026) == ""
    assert age_text(None, date(2026, 11, 20), 2024) == "2 tuổi"


def test_unknown_sex_never_prints_a_slash_form():
    for role, age in (("adult", 30), ("adult", 70), ("deceased", 60)):
        assert honorific(None, age, role=role) == ""
    text = text_of(Kind.DEATH, death(Person("Lê Văn An"), date(2026, 11, 20)))
    assert "ông/bà" not in text and "anh/chị" not in text
    assert "Kính gửi: Gia đình Lê Văn An" in text
    assert "tin: Lê Văn An" in text


# ---- 3. "tại Tại nhà" --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tại nhà", "nhà"),
        ("tại Trạm Y tế xã Ngãi Giao", "Trạm Y tế xã Ngãi Giao"),
        ("TẠI NHÀ", "nhà"),
        ("TẠI TRẠM Y TẾ", "Trạm Y tế"),
        ("Bệnh viện Bà Rịa", "Bệnh viện Bà Rịa"),
        ("Tại", "Tại"),
    ],
)
def test_place_without_leading_tai(raw, expected):
    assert place_text(raw) == expected


def test_birth_letter_says_tai_once():
    text = text_of(Kind.BIRTH, birth(place="Tại Trạm Y tế xã Ngãi Giao", residence="Ấp Bình Ba"))
    assert "tại Trạm Y tế xã Ngãi Giao" in text
    assert "tại Tại" not in text and "tại tại" not in text


def test_death_place_without_leading_tai():
    reg = death(Person("Lê Văn An", Sex.MALE, birth_year=1950), date(2026, 11, 20), "Tại nhà")
    context = letter_context(reg, load_profile(None), LETTER_DATE)
    assert context["death"]["place"] == "nhà"


# ---- 4. addresses in capitals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "ẤP SUỐI NGHỆ, XÃ NGÃI GIAO, THÀNH PHỐ HỒ CHÍ MINH",
            "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        ),
        (
            "TỔ 12, ẤP SUỐI NGHỆ BẮC, XÃ SUỐI NGHỆ, HUYỆN CHÂU ĐỨC, TỈNH BÀ RỊA – VŨNG TÀU",
            "Tổ 12, ấp Suối Nghệ Bắc, xã Suối Nghệ, huyện Châu Đức, tỉnh Bà Rịa – Vũng Tàu",
        ),
        ("KHU PHỐ NGÃI GIAO, THỊ TRẤN NGÃI GIAO", "Khu phố Ngãi Giao, thị trấn Ngãi Giao"),
        ("SỐ 5 ĐƯỜNG LÊ LỢI, PHƯỜNG BÀ RỊA", "Số 5 đường Lê Lợi, phường Bà Rịa"),
        ("TỔ DÂN PHỐ 5, PHƯỜNG BÀ RỊA", "Tổ dân phố 5, phường Bà Rịa"),
        ("BỆNH VIỆN ĐA KHOA TỈNH", "Bệnh viện Đa khoa tỉnh"),
        # mixed case is the officer's own writing: kept as written
        ("Tổ 3 & 4, Ấp Bình Ba, xã Ngãi Giao", "Tổ 3 & 4, Ấp Bình Ba, xã Ngãi Giao"),
    ],
)
def test_address_in_capitals_in_letter_form(raw, expected):
    assert address_case(raw) == expected
    assert address_case(unicodedata.normalize("NFD", raw)) == expected  # NFD input too


def test_death_letter_residence_in_capitals_prints_in_letter_form():
    reg = death(
        Person(
            "Lê Văn An",
            Sex.MALE,
            birth_year=1950,
            residence=unicodedata.normalize("NFD", "ẤP SUỐI NGHỆ, XÃ NGÃI GIAO"),
        ),
        date(2026, 11, 20),
    )
    text = text_of(Kind.DEATH, reg)
    assert "cư trú tại Ấp Suối Nghệ, xã Ngãi Giao," in text
    assert "Địa chỉ: Ấp Suối Nghệ, xã Ngãi Giao" in text


def test_birth_letter_address_in_capitals():
    text = text_of(
        Kind.BIRTH, birth(place="BỆNH VIỆN BÀ RỊA", residence="ẤP BÌNH BA, XÃ NGÃI GIAO")
    )
    assert "Địa chỉ: Ấp Bình Ba, xã Ngãi Giao" in text
    assert "tại Bệnh viện Bà Rịa" in text
