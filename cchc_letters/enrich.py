"""Registration -> the context a letter template sees: the values every letter has, and the
helpers each kind's context builder (cchc_letters/kinds/) uses: people, honorifics, station."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypedDict

from cchc_letters.models import Person, Registration, Sex
from cchc_letters.profile import Profile
from cchc_letters.vietnamese import (
    address_case,
    age_on,
    honorific,
    weekday_name,
)

# The values a letter takes from the profile alone (commune, header, signer, station) are the
# same for every letter of a batch: made once per profile and shared by its letters' contexts
# (read-only: templates render in Jinja's immutable sandbox). A Profile is frozen; it is held
# here, so its identity is not reused while its values are.
_profile_values: tuple[Profile | None, dict[str, Any]] = (None, {})


def profile_value(profile: Profile, name: str, make: Callable[[Profile], Any]) -> Any:
    """Return ``make(profile)``, made once per profile (by identity) and ``name``."""
    global _profile_values
    held, values = _profile_values
    if held is not profile:
        values = {}
        _profile_values = (profile, values)
    value = values.get(name)
    if value is None:
        value = values[name] = make(profile)
    return value


# The letters of one household name the same residence two or three times (mother, father,
# the address): each is put in letter case once.
_letter_case = functools.lru_cache(maxsize=1024)(address_case)


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


class PersonContext(TypedDict):
    """A person's values in a template: ``{{ child.name }}``, ``{{ deceased.age }}``."""

    name: str
    honorific: str  # "chị", "ông", … ("" when none is known)
    sex: str  # in Vietnamese, "" when unknown
    birth_date: date | None
    birth_year: int | None
    age: int | None  # on the letter date (the death date for the deceased)
    residence: str  # in letter case
    present: bool  # False: the record has no such person (every value empty)


def person_context(
    person: Person | None,
    *,
    role: str,
    on: date,
    profile: Profile,
    sex: Sex | None = None,
) -> PersonContext:
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
        "residence": _letter_case(person.residence) if person.residence else "",
        "present": True,
    }


def called(person: PersonContext) -> str:
    """Return "honorific name" ("chị Phạm Thị Ngọc Diệp"), or the name alone without one."""
    return f"{person['honorific']} {person['name']}" if person["honorific"] else person["name"]


def names_line(*people: PersonContext) -> str:
    """Return the people present, called by honorific and name, joined by "và" (capitalised)."""
    text = " và ".join(called(p) for p in people if p["present"])
    return text[:1].upper() + text[1:]


def common_context(
    registration: Registration, profile: Profile, letter_date: date
) -> dict[str, Any]:
    """Return the values every letter has: commune, header, signer, dates, registration."""
    return {
        **profile_value(profile, "common", _profile_context),
        "letter_date": letter_date,
        "registration": {
            "number": registration.number,
            "book": registration.book,
            "date": registration.registration_date,
            "kind": registration.kind.vietnamese,
        },
        "note": registration.note or "",
    }


def _profile_context(profile: Profile) -> dict[str, Any]:
    """Return the common values that come from the profile alone (``common_context``)."""
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
    }


def letter_address(registration: Registration) -> str:
    """Return the residence a letter is taken to, as the record writes it ('' when none):
    the first resident its kind's entry names (``addressed``: the mother, else the father,
    for a birth; the husband, else the wife, for a marriage; the deceased's last residence
    for a death)."""
    from cchc_letters.kinds import entry

    people = entry(registration.kind).addressed(registration)
    return next((p.residence for p in people if p is not None and p.residence), "")


def letter_address_line(registration: Registration) -> str:
    """Return ``letter_address`` in letter case, for the letter's ``address``."""
    address = letter_address(registration)
    return _letter_case(address) if address else ""


def letter_context(
    registration: Registration, profile: Profile, letter_date: date, schedule: Any = None
) -> dict[str, Any]:
    """Return everything a template of the registration's kind may use: the common values
    and the kind's own (its registry entry's ``context``; LookupError for an unknown kind)."""
    from cchc_letters.kinds import entry

    context = common_context(registration, profile, letter_date)
    context.update(entry(registration.kind).context(registration, profile, letter_date, schedule))
    return context


def addressee_names(context: dict[str, Any]) -> str:
    """Return the addressee line of a rendered context, for the manifest."""
    return str(context.get("addressee", ""))


__all__ = ["letter_context", "letter_address", "sessions_text", "person_context", "Sex"]
