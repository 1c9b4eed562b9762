"""Who a registration is about, apart from its key: the same person and the same event.

The registry's key (số, quyển, năm) changes when a typo in it is corrected; the person does
not. A person is recognised by the personal ID (số định danh) when both records have one,
else by name and date of birth; an event by its kind and its person(s) — a birth by the
child, a death by the deceased and the date of death, a marriage by both spouses.

Identities are kept as short hashes (the ledger holds no names or ID numbers in clear).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from cchc_letters.models import Birth, Death, Marriage, Person, Registration, iso_date, plain


@dataclass(frozen=True, slots=True)  # many per batch: no __dict__ each
class Identity:
    """One person or event: by personal ID(s) when known, and by name and date."""

    by_id: str | None
    by_name: str | None

    def parts(self) -> tuple[str | None, str | None]:
        """Return ``(by_id, by_name)`` (``dataclasses.astuple`` deep-copies: slow per row)."""
        return (self.by_id, self.by_name)

    def same(self, other: Identity) -> bool:
        """Return True when both name the same person or event: IDs decide when both have
        them; otherwise name and date must be known and equal."""
        if self.by_id and other.by_id:
            return self.by_id == other.by_id
        return bool(self.by_name) and self.by_name == other.by_name


_T = TypeVar("_T")


class Known(Generic[_T]):
    """Values, each of an identity, found by an identity without comparing it with each
    one: a year's batch against a year's ledger asked ``Identity.same`` of every pair
    (3 million calls for 2,600 corrected keys against the year, 6.5 s)."""

    def __init__(self, pairs: Iterable[tuple[Identity, _T]]) -> None:
        self._pairs = list(pairs)
        self._by_id: dict[str, list[int]] = {}
        self._by_name: dict[str, list[int]] = {}
        for n, (who, _) in enumerate(self._pairs):
            if who.by_id:
                self._by_id.setdefault(who.by_id, []).append(n)
            if who.by_name:
                self._by_name.setdefault(who.by_name, []).append(n)

    def same(self, who: Identity) -> Iterator[_T]:
        """Yield, in the order given, the values whose identity is ``who``'s (``same``)."""
        # `same` holds only for a shared ID or a shared name: those are all to compare
        near = self._by_id.get(who.by_id or "", []) + self._by_name.get(who.by_name or "", [])
        for n in sorted(set(near)):
            other, value = self._pairs[n]
            if who.same(other):
                yield value


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _name(person: Person) -> str:
    # NFC, case folded, spaces collapsed: as a name means in a content hash (folding a
    # character never makes or removes a space, so the order of the steps is free)
    return plain(person.full_name)


def _born(person: Person) -> str:
    """Return a person's date of birth (ISO), else year of birth, as text ('' unknown)."""
    if person.birth_date:
        return iso_date(person.birth_date)
    return str(person.birth_year) if person.birth_year else ""


def person(who: Person) -> Identity:
    """Return the identity of a person: personal ID, else name and full date of birth."""
    return Identity(
        _hash("person", who.personal_id) if who.personal_id else None,
        _hash("person", _name(who), iso_date(who.birth_date)) if who.birth_date else None,
    )


def subject(registration: Registration) -> Identity:
    """Return the person a letter is about: the child of a birth, the deceased of a death
    (a marriage has two: none here). Computed once per registration."""
    return registration._once("_memo_subject", lambda: _subject(registration))


def _subject(registration: Registration) -> Identity:
    if isinstance(registration, Birth):
        return person(registration.child)
    if isinstance(registration, Death):
        return person(registration.deceased)
    return Identity(None, None)


def event(registration: Registration) -> Identity:
    """Return the identity of the event a registration records (its kind and people),
    computed once per registration."""
    return registration._once("_memo_event", lambda: _event(registration))


def _event(registration: Registration) -> Identity:
    kind = registration.kind.value
    if isinstance(registration, Birth):
        child = registration.child
        return Identity(
            _hash(kind, child.personal_id) if child.personal_id else None,
            _hash(kind, _name(child), iso_date(child.birth_date)) if child.birth_date else None,
        )
    if isinstance(registration, Death):
        dead = registration.deceased
        return Identity(
            _hash(kind, dead.personal_id) if dead.personal_id else None,
            _hash(kind, _name(dead), iso_date(registration.death_date)),
        )
    if isinstance(registration, Marriage):
        husband, wife = registration.husband, registration.wife
        his, hers = husband.personal_id, wife.personal_id
        born = _born(husband), _born(wife)
        return Identity(
            _hash(kind, his, hers) if his and hers else None,
            _hash(kind, _name(husband), born[0], _name(wife), born[1]) if all(born) else None,
        )
    return Identity(None, None)
