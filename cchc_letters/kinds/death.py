"""The condolence letter (thư chia buồn): row, the deceased and the family, samples."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypedDict

from cchc_letters.enrich import PersonContext, called, letter_address_line, person_context
from cchc_letters.kinds import DATE, TEXT, YES_NO, Variable, from_data
from cchc_letters.models import Death, Kind, Person, Sex
from cchc_letters.profile import Profile
from cchc_letters.validate import RowProblem, RowReader, time_in
from cchc_letters.variables import person_variables, sample_residence, sample_source
from cchc_letters.vietnamese import (
    age_text,
    death_age,
    longevity_word,
    place_text,
    short_date,
)


def build(read: RowReader, common: dict[str, Any]) -> Death | None:
    """Return the death registration of a row (the deceased, the death, the informant);
    None when the reader noted a problem."""
    death_date = read.date("death_date")
    reg_date = common["registration_date"]
    if death_date is not None and reg_date is not None and death_date > reg_date:
        read.note(
            RowProblem(
                "death_after_registration", "Ngày chết sau ngày đăng ký khai tử.", "death_date"
            )
        )
    deceased = read.person("deceased", required=True)
    if deceased is not None and deceased.sex is None and not deceased.honorific:
        # The letter addresses "Gia đình ông …" or "Gia đình bà …": without the sex it
        # would print "ông/bà", which no commune would sign.
        read.note(
            RowProblem(
                "missing_sex",
                "Thiếu giới tính người chết (cần để chọn cách xưng hô); "
                "điền Giới tính hoặc cột deceased_honorific.",
                "deceased_sex",
            )
        )
    if (
        deceased is not None
        and death_date is not None
        and (
            (deceased.birth_date and death_date < deceased.birth_date)
            or (deceased.birth_year and death_date.year < deceased.birth_year)
        )
    ):
        read.note(RowProblem("death_before_birth", "Ngày chết trước ngày sinh.", "death_date"))
    if read.problems:
        return None
    assert deceased is not None and death_date is not None
    return Death(
        **common,
        deceased=deceased,
        death_date=death_date,
        death_time=read.text("death_time") or time_in(read.text("death_date")),
        death_place=read.text("death_place") or None,
        informant_name=read.name("informant_name") or None,
        informant_relation=read.text("informant_relation") or None,
    )


def context(reg: Death, profile: Profile, letter_date: date, schedule: Any) -> dict[str, Any]:
    """Return the condolence letter's own values: the deceased, the death, the family.

    Honorifics: the deceased's by age on the date of death (not the letter date); the age
    and birth worded as ``deceased_wording`` says.
    """
    person = person_context(reg.deceased, role="deceased", on=reg.death_date, profile=profile)
    deceased: DeceasedContext = {**person, **deceased_wording(reg, profile, person["age"])}
    return {
        "deceased": deceased,
        "death": {
            "date": reg.death_date,
            "time": reg.death_time or "",
            "place": place_text(reg.death_place),
            "verb": "qua đời" if deceased["is_child"] else "từ trần",
        },
        "informant": {"name": reg.informant_name or "", "relation": reg.informant_relation or ""},
        "addressee": f"Gia đình {called(deceased)}",
        "address": letter_address_line(reg),
    }


class DeceasedWording(TypedDict):
    """How the condolence letter speaks of the deceased's birth and age."""

    is_child: bool
    longevity: str  # "hưởng thọ" / "hưởng dương"; "" for a child
    age_text: str  # "85 tuổi", "5 tháng tuổi"
    age_phrase: str  # "hưởng thọ 85 tuổi", "khi mới 5 tháng tuổi"
    born_text: str  # "sinh năm 1941", "sinh ngày 10/06/2026"


class DeceasedContext(PersonContext, DeceasedWording):
    """``{{ deceased.… }}``: the person's values and their wording."""


def deceased_wording(reg: Death, profile: Profile, age: int | None) -> DeceasedWording:
    """Return how the condolence letter speaks of the deceased's birth and age.

    An adult: "sinh năm 1941" and "hưởng thọ 85 tuổi" / "hưởng dương 40 tuổi", the age
    counted as the profile's ``age_count`` says (completed years by default, or tuổi âm).
    A child (below ``child_age``): "sinh ngày 10/06/2026" when the full date of birth is
    known, and "khi mới 5 tháng tuổi" / "khi mới 2 tuổi" — never "hưởng dương" for a baby;
    a newborn under one month gets no age at all (its date of birth says it).
    """
    person = reg.deceased
    is_child = age is not None and age < profile.child_age
    if is_child:
        counted = age_text(person.birth_date, reg.death_date, person.birth_year)
        longevity = ""
        phrase = f"khi mới {counted}" if counted else ""
    else:
        years = death_age(person.birth_date, reg.death_date, person.birth_year, profile.age_count)
        counted = f"{years} tuổi" if years is not None and years >= 1 else ""
        longevity = longevity_word(years, profile.longevity_age)
        phrase = f"{longevity} {counted}" if counted else ""
    if is_child and person.birth_date is not None:
        born = f"sinh ngày {short_date(person.birth_date)}"
    elif person.year_of_birth:
        born = f"sinh năm {person.year_of_birth}"
    else:
        born = ""
    return {
        "is_child": is_child,
        "longevity": longevity,
        "age_text": counted,
        "age_phrase": phrase,
        "born_text": born,
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
    Variable(
        "deceased.is_child",
        DEATH,
        YES_NO,
        "Người mất là trẻ em (dưới tuổi [letters] child_age của hồ sơ xã)",
        "The deceased is a child (below the profile's child_age)",
    ),
    Variable(
        "deceased.age_phrase",
        DEATH,
        TEXT,
        "Cụm tuổi khi mất, đã viết sẵn: người lớn “hưởng thọ 85 tuổi” / “hưởng dương 40 tuổi” "
        "(tuổi tính theo [letters] age_count của hồ sơ xã); trẻ em “khi mới 5 tháng tuổi”, "
        "không bao giờ “hưởng dương” cho em bé; trẻ dưới 1 tháng thì trống",
        "The age at death, worded: adults 'hưởng thọ 85 tuổi' / 'hưởng dương 40 tuổi' (counted "
        "as the profile's age_count says); children 'khi mới 5 tháng tuổi', never 'hưởng "
        "dương' for a baby; empty under one month",
    ),
    Variable(
        "deceased.born_text",
        DEATH,
        TEXT,
        "“sinh ngày 10/06/2026” cho trẻ em khi biết đủ ngày sinh, còn lại “sinh năm 1941”; "
        "trống khi không biết năm sinh",
        "'sinh ngày 10/06/2026' for a child whose full date of birth is known, else "
        "'sinh năm 1941'; empty without a year of birth",
    ),
    Variable("death.date", DEATH, DATE, "Ngày mất", "Date of death"),
    Variable(
        "death.verb",
        DEATH,
        TEXT,
        "“từ trần” (người lớn) hoặc “qua đời” (trẻ em)",
        "'từ trần' (adults) or 'qua đời' (children)",
    ),
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
    addressed=lambda reg: (reg.deceased,),
)
