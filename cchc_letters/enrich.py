"""Registration -> the context a letter template sees: plain values, dates, honorifics, schedule."""

from __future__ import annotations

from datetime import date
from typing import Any

from cchc_letters.models import Birth, Death, Marriage, Person, Registration, Sex
from cchc_letters.profile import Profile
from cchc_letters.vietnamese import (
    address_case,
    age_on,
    age_text,
    couple_honorific,
    death_age,
    honorific,
    longevity_word,
    place_text,
    short_date,
    weekday_name,
)


def sessions_text(profile: Profile) -> str:
    """Return when the health station vaccinates, for running text.

    e.g. "buổi sáng các ngày 5 và 6 hằng tháng" or "buổi sáng thứ Tư hằng tuần".
    """
    sessions = profile.sessions
    parts = []
    if sessions.days_of_month:
        days = [str(d) for d in sessions.days_of_month]
        listed = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " và " + days[-1]
        parts.append(f"{'ngày' if len(days) == 1 else 'các ngày'} {listed} hằng tháng")
    if sessions.weekdays:
        # 2024-01-01 was a Monday: day n of that week has weekday n.
        names = [weekday_name(date(2024, 1, 1 + w)) for w in sessions.weekdays]
        names = [n[:1].lower() + n[1:] for n in names]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]
        parts.append(f"{listed} hằng tuần")
    text = " và ".join(parts)
    return f"{sessions.time_of_day} {text}".strip() if sessions.time_of_day else text


def person_context(
    person: Person | None,
    *,
    role: str,
    on: date,
    profile: Profile,
    sex: Sex | None = None,
) -> dict:
    """Return a person's template values; the honorific is the override or chosen by age/sex.

    ``sex`` is the one the role implies (mother, father, wife, husband), used when the record
    leaves it empty. The residence is in letter case (``address_case``).
    """
    if person is None:
        return {
            "name": "",
            "honorific": "",
            "sex": "",
            "birth_date": None,
            "birth_year": None,
            "age": None,
            "residence": "",
            "present": False,
        }
    age = age_on(person.birth_date, on, person.birth_year)
    title = person.honorific or honorific(
        person.sex or sex,
        age,
        role=role,
        elder_age=profile.elder_age,
        very_old_age=profile.very_old_age,
        child_age=profile.child_age,
    )
    return {
        "name": person.full_name,
        "honorific": title,
        "sex": person.sex.vietnamese if person.sex else "",
        "birth_date": person.birth_date,
        "birth_year": person.year_of_birth,
        "age": age,
        "residence": address_case(person.residence) if person.residence else "",
        "present": True,
    }


def called(person: dict) -> str:
    """Return "honorific name" ("chị Phạm Thị Ngọc Diệp"), or the name alone without one."""
    return f"{person['honorific']} {person['name']}" if person["honorific"] else person["name"]


def _names(*people: dict) -> str:
    text = " và ".join(called(p) for p in people if p["present"])
    return text[:1].upper() + text[1:]


def common_context(registration: Registration, profile: Profile, letter_date: date) -> dict:
    """Return the values every letter has: commune, header, signer, dates, registration."""
    return {
        "commune": {
            "name": profile.commune_name,
            "title": profile.commune_title,
            "committee": profile.committee_name,
            "place_name": profile.place_name,
            "province": profile.province,
        },
        "header": {
            "parent_lines": list(profile.parent_lines),
            "agency_lines": list(profile.agency_lines),
        },
        "signer": {
            "authority": profile.signer_authority,
            "title": profile.signer_title,
            "name": profile.signer_name,
        },
        "letter_date": letter_date,
        "registration": {
            "number": registration.number,
            "book": registration.book,
            "date": registration.registration_date,
            "kind": registration.kind.vietnamese,
        },
        "note": registration.note or "",
    }


def letter_address(registration: Registration) -> str:
    """Return the residence a letter is taken to, as the record writes it ('' when none):
    the mother's (else the father's) for a birth, the husband's (else the wife's) for a
    marriage, the deceased's last residence for a death."""
    if isinstance(registration, Birth):
        people = (registration.mother, registration.father)
    elif isinstance(registration, Marriage):
        people = (registration.husband, registration.wife)
    elif isinstance(registration, Death):
        people = (registration.deceased,)
    else:
        people = ()
    return next((p.residence for p in people if p is not None and p.residence), "")


def _letter_address(registration: Registration) -> str:
    address = letter_address(registration)
    return address_case(address) if address else ""


def birth_context(reg: Birth, profile: Profile, letter_date: date, schedule: Any) -> dict:
    """Return the birth letter's own values: child, parents, health station, schedule."""
    from cchc_letters.schedule import AT_SCHOOL, child_schedule

    assert reg.child.birth_date is not None  # validate guarantees it for births
    child = person_context(reg.child, role="child", on=letter_date, profile=profile)
    mother = person_context(
        reg.mother, role="adult", on=letter_date, profile=profile, sex=Sex.FEMALE
    )
    father = person_context(reg.father, role="adult", on=letter_date, profile=profile, sex=Sex.MALE)
    plan = child_schedule(reg.child.birth_date, letter_date, profile, schedule)
    addressee = _names(father, mother) or f"Gia đình {child['honorific']} {child['name']}"
    station = profile.health_station
    return {
        "child": child,
        "mother": mother,
        "father": father,
        "birth_place": place_text(reg.birth_place),
        "addressee": addressee,
        "address": _letter_address(reg),
        "station": {
            "name": station.name,
            "address": station.address,
            "phone": station.phone,
            "sessions": sessions_text(profile),
        },
        "schedule": {
            "id": plan.version_id,
            "legal_basis": plan.legal_basis,
            "visits": [
                {
                    "label": visit.label,
                    "vaccines": visit.vaccines_text,
                    "due": visit.due,
                    "session": visit.session,
                    "where": visit.where,
                    "status": visit.status,
                    "due_now": visit.status == "due_now",
                    "at_school": visit.where == AT_SCHOOL,
                }
                for visit in plan.visits
            ],
            "notes": list(plan.notes),
        },
    }


def marriage_context(reg: Marriage, profile: Profile, letter_date: date) -> dict:
    """Return the marriage letter's own values: the couple."""
    husband = person_context(
        reg.husband, role="adult", on=letter_date, profile=profile, sex=Sex.MALE
    )
    wife = person_context(reg.wife, role="adult", on=letter_date, profile=profile, sex=Sex.FEMALE)
    # One form for the two of them in running text, chosen once: never "ông chị".
    together = couple_honorific(
        (husband["age"], wife["age"]),
        (reg.husband.honorific, reg.wife.honorific),
        elder_age=profile.elder_age,
    )
    return {
        "husband": husband,
        "wife": wife,
        "couple": {"honorific": together},
        "addressee": _names(husband, wife),
        "address": _letter_address(reg),
    }


def death_context(reg: Death, profile: Profile, letter_date: date) -> dict:
    """Return the condolence letter's own values: the deceased, the death, the family."""
    deceased = person_context(reg.deceased, role="deceased", on=reg.death_date, profile=profile)
    deceased.update(deceased_wording(reg, profile, deceased["age"]))
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
        "address": _letter_address(reg),
    }


def deceased_wording(reg: Death, profile: Profile, age: int | None) -> dict[str, Any]:
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


def letter_context(
    registration: Registration, profile: Profile, letter_date: date, schedule: Any = None
) -> dict[str, Any]:
    """Return everything a template of the registration's kind may use."""
    context = common_context(registration, profile, letter_date)
    if isinstance(registration, Birth):
        context.update(birth_context(registration, profile, letter_date, schedule))
    elif isinstance(registration, Marriage):
        context.update(marriage_context(registration, profile, letter_date))
    elif isinstance(registration, Death):
        context.update(death_context(registration, profile, letter_date))
    return context


def addressee_names(context: dict[str, Any]) -> str:
    """Return the addressee line of a rendered context, for the manifest."""
    return str(context.get("addressee", ""))


__all__ = ["letter_context", "letter_address", "sessions_text", "person_context", "Sex"]
