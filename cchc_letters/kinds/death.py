"""The condolence letter (thư chia buồn): row, the deceased and the family, samples."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cchc_letters.enrich import called, person_context
from cchc_letters.kinds import DATE, TEXT, Variable, from_data
from cchc_letters.models import Death, Kind, Person, Sex
from cchc_letters.profile import Profile
from cchc_letters.validate import RowProblem, RowReader
from cchc_letters.variables import person_variables, sample_residence, sample_source
from cchc_letters.vietnamese import age_text, longevity_word, place_text, title_case_name


def build(read: RowReader, common: dict[str, Any]) -> Death:
    """Return the death registration of a row (the deceased, the death, the informant)."""
    death_date = read.date("death_date")
    if death_date > common["registration_date"]:
        raise RowProblem(
            "death_after_registration", "Ngày chết sau ngày đăng ký khai tử.", "death_date"
        )
    deceased = read.person("deceased", required=True)
    assert deceased is not None
    if deceased.sex is None and not deceased.honorific:
        # The letter addresses "Gia đình ông …" or "Gia đình bà …": without the sex it
        # would print "ông/bà", which no commune would sign.
        raise RowProblem(
            "missing_sex",
            "Thiếu giới tính người chết (cần để chọn cách xưng hô); "
            "điền Giới tính hoặc cột deceased_honorific.",
            "deceased_sex",
        )
    if (deceased.birth_date and death_date < deceased.birth_date) or (
        deceased.birth_year and death_date.year < deceased.birth_year
    ):
        raise RowProblem("death_before_birth", "Ngày chết trước ngày sinh.", "death_date")
    return Death(
        **common,
        deceased=deceased,
        death_date=death_date,
        death_time=read.text("death_time") or None,
        death_place=read.text("death_place") or None,
        informant_name=title_case_name(read.text("informant_name")) or None,
        informant_relation=read.text("informant_relation") or None,
    )


def context(reg: Death, profile: Profile, letter_date: date, schedule: Any) -> dict[str, Any]:
    """Return the condolence letter's own values: the deceased, the death, the family.

    Honorifics: the deceased's by age on the date of death (not the letter date), with
    "hưởng thọ" / "hưởng dương" from the profile's longevity age.
    """
    deceased = person_context(reg.deceased, role="deceased", on=reg.death_date, profile=profile)
    deceased["longevity"] = longevity_word(deceased["age"], profile.longevity_age)
    person = reg.deceased
    deceased["age_text"] = age_text(person.birth_date, reg.death_date, person.birth_year)
    return {
        "deceased": deceased,
        "death": {
            "date": reg.death_date,
            "time": reg.death_time or "",
            "place": place_text(reg.death_place),
        },
        "informant": {"name": reg.informant_name or "", "relation": reg.informant_relation or ""},
        "addressee": f"Gia đình {called(deceased)}",
        "address": deceased["residence"],
    }


def sample(letter_date: date, *, long: bool = False) -> Death:
    """Return the sample death (see ``variables.sample_registration``)."""
    registered = letter_date - timedelta(days=7)
    return Death(
        kind=Kind.DEATH,
        number="05" if not long else "1205",
        book="01/2026",
        registration_date=registered,
        source=sample_source(Kind.DEATH),
        note="Có giấy báo tử" if long else None,
        deceased=Person(
            "Công Tằng Tôn Nữ Thị Hoàng Lan" if long else "Nguyễn Văn Tám",
            Sex.FEMALE if long else Sex.MALE,
            birth_date=date(1941, 2, 3),
            residence=sample_residence(long),
        ),
        death_date=registered - timedelta(days=3),
        death_time="14 giờ 30 phút",
        death_place="Tại nhà riêng" if not long else "Bệnh viện Bà Rịa, Thành phố Hồ Chí Minh",
        informant_name="Nguyễn Văn Tâm",
        informant_relation="con",
    )


DEATH = (Kind.DEATH,)
VARIABLES = (
    *person_variables("deceased", DEATH, "người mất", "the deceased"),
    Variable(
        "deceased.longevity",
        DEATH,
        TEXT,
        "“hưởng thọ” từ tuổi [letters] longevity_age của hồ sơ xã, dưới tuổi đó “hưởng dương”",
        "'hưởng thọ' from the profile's longevity_age, else 'hưởng dương'",
    ),
    Variable(
        "deceased.age_text",
        DEATH,
        TEXT,
        "Tuổi khi mất để in sau hưởng thọ/hưởng dương: “85 tuổi”; dưới 1 tuổi tính bằng tháng "
        "(“5 tháng tuổi”); dưới 1 tháng (hoặc chỉ biết năm sinh mà chưa tròn 1 tuổi) thì trống "
        "và thư bỏ phần tuổi — không bao giờ in “0 tuổi”",
        "Age at death for after hưởng thọ/dương: '85 tuổi'; under one year in months "
        "('5 tháng tuổi'); under one month (or under one year from the birth year alone) empty, "
        "and the letter leaves the age out — never '0 tuổi'",
    ),
    Variable("death.date", DEATH, DATE, "Ngày mất", "Date of death"),
    Variable("death.time", DEATH, TEXT, "Giờ mất (có thể trống)", "Time of death"),
    Variable("death.place", DEATH, TEXT, "Nơi mất (có thể trống)", "Place of death"),
    Variable("informant.name", DEATH, TEXT, "Người đi khai tử", "Informant"),
    Variable("informant.relation", DEATH, TEXT, "Quan hệ với người mất", "Their relationship"),
)

ENTRY = from_data(
    "death",
    build=build,
    context=context,
    samples=lambda letter_date, long: [sample(letter_date, long=long)],
    variables=VARIABLES,
)
