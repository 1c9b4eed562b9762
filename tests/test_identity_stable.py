"""The identities a ledger keeps (event_id, event_name, person_id, person_name) stay the
hashes earlier versions wrote: a run recognises the same person and event in an old ledger
only when it hashes them as it did (the values below are those identity.py gave before it
took names and dates from models.plain and models.iso_date)."""

from __future__ import annotations

from datetime import date

from cchc_letters import identity
from cchc_letters.models import Birth, Death, Kind, Marriage, Person, SourceRef

COMMON = dict(
    number="05",
    book="01/2026",
    registration_date=date(2026, 11, 20),
    source=SourceRef("a.csv", None, 2),
)


def _parts(registration):
    return identity.event(registration).parts(), identity.subject(registration).parts()


def test_a_birth_is_its_child_by_id_and_by_name_and_date():
    child = Person("Nguyễn  Gia BẢO", birth_date=date(2026, 11, 12), personal_id="079226000001")
    birth = Birth(kind=Kind("birth"), child=child, **COMMON)
    assert _parts(birth) == (
        ("29c3dd78702923664c26", "0b8a97c4aa894cd655c3"),
        ("e0e6dbbbedb37ad96bab", "19ff8419a6af00553423"),
    )


def test_a_death_is_its_deceased_and_the_date_of_death():
    deceased = Person("Trần Văn Ẩn", birth_year=1940)
    death = Death(kind=Kind("death"), deceased=deceased, death_date=date(2026, 11, 1), **COMMON)
    assert _parts(death) == ((None, "9a5fa98eadc66e3e8ac5"), (None, None))


def test_a_marriage_is_both_spouses_with_a_date_or_a_year_of_birth():
    husband = Person("Lê Minh", birth_date=date(1995, 2, 3), personal_id="1")
    wife = Person("Phạm Thị Hoa", birth_year=1997, personal_id="2")
    marriage = Marriage(kind=Kind("marriage"), husband=husband, wife=wife, **COMMON)
    assert _parts(marriage) == (("68d5240db3b2d64a1aa7", "b66c3eb0345444ca3576"), (None, None))
    unborn = Marriage(kind=Kind("marriage"), husband=Person("Lê Minh"), wife=wife, **COMMON)
    assert _parts(unborn) == ((None, None), (None, None))  # a spouse's birth unknown: no name
