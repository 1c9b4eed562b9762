"""The marriage letter (thư chúc mừng kết hôn): row, the couple's context, samples."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cchc_letters.enrich import letter_address_line, names_line, person_context
from cchc_letters.kinds import TEXT, Variable, from_data
from cchc_letters.models import Kind, Marriage, Person, Sex
from cchc_letters.profile import Profile
from cchc_letters.validate import RowReader
from cchc_letters.variables import person_variables, sample_residence, sample_source
from cchc_letters.vietnamese import couple_honorific


def build(read: RowReader, common: dict[str, Any]) -> Marriage | None:
    """Return the marriage registration of a row (husband and wife, born before it); None
    when the reader noted a problem."""
    limit = (common["registration_date"], "ngày đăng ký kết hôn", "birth_after_registration")
    husband = read.person("husband", sex=Sex.MALE, required=True, not_after=limit)
    wife = read.person("wife", sex=Sex.FEMALE, required=True, not_after=limit)
    if read.problems:
        return None
    assert husband is not None and wife is not None
    return Marriage(**common, husband=husband, wife=wife)


def context(reg: Marriage, profile: Profile, letter_date: date, schedule: Any) -> dict[str, Any]:
    """Return the marriage letter's own values: the couple.

    Honorifics: each as an adult on the letter date, and one form for the two of them in
    running text ("ông bà" / "anh chị"), chosen once: never "ông chị".
    """
    husband = person_context(
        reg.husband, role="adult", on=letter_date, profile=profile, sex=Sex.MALE
    )
    wife = person_context(reg.wife, role="adult", on=letter_date, profile=profile, sex=Sex.FEMALE)
    together = couple_honorific(
        (husband["age"], wife["age"]),
        (reg.husband.honorific, reg.wife.honorific),
        elder_age=profile.elder_age,
    )
    return {
        "husband": husband,
        "wife": wife,
        "couple": {"honorific": together},
        "addressee": names_line(husband, wife),
        "address": letter_address_line(reg),
    }


def sample(letter_date: date, *, long: bool = False) -> Marriage:
    """Return the sample marriage (see ``variables.sample_registration``)."""
    residence = sample_residence(long)
    return Marriage(
        kind=Kind.MARRIAGE,
        number="03" if not long else "1203",
        book="01/2026",
        registration_date=letter_date - timedelta(days=7),
        source=sample_source(Kind.MARRIAGE),
        note="Kết hôn lần đầu" if long else None,
        husband=Person(
            "Tôn Thất Hoàng Minh Khôi" if long else "Lê Văn Hùng",
            Sex.MALE,
            birth_date=date(1998, 3, 14),
            residence=residence,
        ),
        wife=Person(
            "Huỳnh Nguyễn Thị Phương Thảo" if long else "Huỳnh Thị Kim Ngân",
            Sex.FEMALE,
            birth_date=date(2000, 9, 2),
            residence=residence,
        ),
    )


MARRIAGE = (Kind.MARRIAGE,)
VARIABLES = (
    *person_variables("husband", MARRIAGE, "người chồng", "the husband"),
    *person_variables("wife", MARRIAGE, "người vợ", "the wife"),
    Variable(
        "couple.honorific",
        MARRIAGE,
        TEXT,
        "Danh xưng chung của đôi vợ chồng trong lời văn: “ông bà” khi một người từ tuổi "
        "[letters] elder_age của hồ sơ xã (hoặc cán bộ ghi ông/bà), còn lại “anh chị”",
        "One form for the couple in running text: 'ông bà' when either reaches the profile's "
        "elder_age (or is overridden as ông/bà), else 'anh chị'",
    ),
)

ENTRY = from_data(
    "marriage",
    build=build,
    context=context,
    samples=lambda letter_date, long: [sample(letter_date, long=long)],
    variables=VARIABLES,
    addressed=lambda reg: (reg.husband, reg.wife),
)
