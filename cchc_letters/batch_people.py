"""Who a batch's printed letters name, as the ledger keeps them for the health station's
session lists (session_lists.py): each child with the plan its letter gave, and each child's
death. Apart from session_lists.py so that a batch does not import the lists' own code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from cchc_letters.ledger_people import ChildRecord, DeathRecord, People
from cchc_letters.models import Birth, Death, Sex
from cchc_letters.profile import Profile


def keep_until(birth_date: date, letter_date: date, profile: Profile, version: Any) -> date:
    """Return the day the ledger may forget a child: the profile's months after birth, or
    the last date of the child's schedule (its last dose's deadline, session or due date)."""
    if profile.retention_months is not None:
        from cchc_letters.schedule_data import add_months

        return add_months(birth_date, profile.retention_months)
    from cchc_letters.schedule import child_schedule

    plan = child_schedule(birth_date, letter_date, profile, version)
    dates = [d.deadline or d.session or d.due for d in plan.doses]
    return max(dates, default=birth_date)


def people_of_batch(
    printed: Sequence[Any], profile: Profile, letter_date: date, schedule_version: Any
) -> People:
    """Return the children (births) and children's deaths of a batch's printed letters, as
    the ledger keeps them for the session lists."""
    from cchc_letters.delivery import letter_addresses
    from cchc_letters.vietnamese import age_on

    people = People()
    # keep_until of each birth date (the same for every child born that day)
    kept: dict[date, date] = {}
    registrations = [letter.registration for letter in printed]
    # each child's enrich.letter_address (without a kind's lookup per letter)
    addresses = letter_addresses(registrations) if schedule_version is not None else []
    addresses += [""] * (len(registrations) - len(addresses))
    sex_names = {sex: sex.vietnamese for sex in Sex}  # (the property costs 0.2 µs a child)
    for letter, registration, address in zip(printed, registrations, addresses, strict=True):
        if isinstance(registration, Birth) and schedule_version is not None:
            child = registration.child
            assert child.birth_date is not None
            people.children.append(
                ChildRecord(
                    key=letter.key,
                    name=child.full_name,
                    birth_date=child.birth_date,
                    sex=sex_names[child.sex] if child.sex else "",
                    mother=registration.mother.full_name if registration.mother else "",
                    father=registration.father.full_name if registration.father else "",
                    address=address,
                    phone=normalise_phone(registration.phone),
                    schedule_version=schedule_version.id,
                    letter_date=letter_date,
                    keep_until=kept.get(child.birth_date)
                    or kept.setdefault(
                        child.birth_date,
                        keep_until(child.birth_date, letter_date, profile, schedule_version),
                    ),
                    personal_id=child.personal_id,
                )
            )
        elif isinstance(registration, Death):
            person = registration.deceased
            age = age_on(person.birth_date, registration.death_date, person.birth_year)
            if age is None or age >= profile.child_age:
                continue  # only a child's death can take a name off a session list
            born = person.birth_date or date(
                person.year_of_birth or registration.death_date.year, 1, 1
            )
            until = (
                keep_until(born, registration.death_date, profile, schedule_version)
                if schedule_version is not None
                else registration.death_date + timedelta(days=366)
            )
            people.deaths.append(
                DeathRecord(
                    key=letter.key,
                    name=person.full_name,
                    birth_date=person.birth_date,
                    death_date=registration.death_date,
                    keep_until=max(until, registration.death_date + timedelta(days=366)),
                    personal_id=person.personal_id,
                )
            )
    return people


def normalise_phone(text: str | None) -> str:
    """Return a phone number as its digits in the national form ("+84 912 …" and "84912…"
    become "0912…"), '' when none is given."""
    if not text:
        return ""
    digits = "".join(c for c in text if c.isdigit())
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits
