"""What the ledger keeps for the health station's session lists (schema v4), and no more.

For each child whose birth letter was printed: name, date of birth, sex, the parents' names,
the address, the family's phone when the export had one, the schedule version and the letter
date (the plan the family was given), until a retention date from the profile. For each child
whose death was registered: only keyed digests to recognise the same child, and the date.
Per session list: which doses each child was listed for, and what the station reported back
(given, moved away).

Personal ID numbers are never stored: only an HMAC-SHA256 digest under a random key kept in
the ledger, so equal IDs can be matched without the number being readable. An ID number has
only 12 digits, so whoever holds the ledger file and its key could test candidates: the
ledger file itself must stay as protected as the registry export it came from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cchc_letters.ledger import indexes_built_after
from cchc_letters.models import iso_date

ACTIVE = "active"
MOVED = "moved"  # the station reported "chuyển đi"
DEAD = "dead"  # a death of the same child is registered

SCHEMA_V4 = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS children (
    registration_key TEXT PRIMARY KEY,
    child_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL DEFAULT '',
    mother_name TEXT NOT NULL DEFAULT '',
    father_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    schedule_version TEXT NOT NULL DEFAULT '',
    letter_date TEXT NOT NULL,
    id_digest TEXT,
    person_digest TEXT NOT NULL,
    keep_until TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    status_at TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deaths (
    registration_key TEXT PRIMARY KEY,
    id_digest TEXT,
    person_digest TEXT,
    death_date TEXT NOT NULL,
    keep_until TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session_entries (
    session_date TEXT NOT NULL,
    registration_key TEXT NOT NULL,
    doses TEXT NOT NULL,
    listed_at TEXT NOT NULL,
    PRIMARY KEY (session_date, registration_key)
);
CREATE TABLE IF NOT EXISTS given_doses (
    registration_key TEXT NOT NULL,
    dose TEXT NOT NULL,
    given_on TEXT NOT NULL,
    PRIMARY KEY (registration_key, dose)
);
CREATE INDEX IF NOT EXISTS children_by_person ON children(person_digest);
CREATE INDEX IF NOT EXISTS children_by_id ON children(id_digest);
"""


def create_v4(db: sqlite3.Connection) -> None:
    """Create the session-list tables (new ledgers, and the v3 -> v4 migration: a ledger
    written before v4 holds no names, so its children appear on lists from their next
    letter on; nothing already recorded changes)."""
    for statement in SCHEMA_V4.split(";"):
        if statement.strip():
            db.execute(statement)


@dataclass(slots=True)
class ChildRecord:
    """A child as the session lists need it. ``personal_id`` is only carried in memory, to
    be digested; the ledger never stores it.

    Not frozen: a batch makes one per birth, and a frozen one sets each of its thirteen
    fields through ``object.__setattr__`` (most of making it)."""

    key: str
    name: str
    birth_date: date
    sex: str = ""
    mother: str = ""
    father: str = ""
    address: str = ""
    phone: str = ""
    schedule_version: str = ""
    letter_date: date | None = None
    keep_until: date | None = None
    personal_id: str | None = field(default=None, repr=False)
    status: str = ACTIVE


@dataclass(frozen=True)
class DeathRecord:
    """A registered death of a child: only what recognises the same child."""

    key: str
    name: str = field(repr=False)
    birth_date: date | None
    death_date: date
    keep_until: date
    personal_id: str | None = field(default=None, repr=False)


@dataclass
class People:
    """The people of one batch to record with its letters."""

    children: list[ChildRecord] = field(default_factory=list)
    deaths: list[DeathRecord] = field(default_factory=list)


class _Digests:
    """The keyed digests of one batch's people: HMAC-SHA256 under the ledger's key of
    "person:<folded name>:<date of birth>" and of "id:<the ID's digits>".

    Each distinct text is digested once and each distinct name folded once: a batch of
    10,000 births holds ~6,200 distinct names (measured on the 10,000-birth reference).
    The memos are bounded (``TextMemo``): a province's year of 100,000 births, nearly every
    text of which is its own, held 25 MB of them until the batch's commit.
    """

    def __init__(self, key: bytes) -> None:
        from cchc_letters.hamlets import fold
        from cchc_letters.memo import TextMemo

        # keyed once: a copy of it digests a text in half the time hmac.digest takes (which
        # looks the algorithm up and keys it again for every text)
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._folded = TextMemo(fold)
        self._digests = TextMemo(self._compute)

    def _compute(self, text: str) -> str:
        mac = self._keyed.copy()
        mac.update(text.encode("utf-8"))
        return mac.hexdigest()

    def person(self, name: str, birth: str | None) -> str | None:
        """Return the digest of a person by name and date of birth (ISO), or None when
        the date is unknown."""
        if birth is None:
            return None
        return self._digests[f"person:{self._folded[name]}:{birth}"]

    def id(self, personal_id: str | None) -> str | None:
        """Return the digest of a personal ID's digits, or None when it has none."""
        if not personal_id:
            return None
        digits = "".join(c for c in personal_id if c.isdigit())
        return self._digests[f"id:{digits}"] if digits else None


class PeopleStore:
    """The session-list tables of an open ledger (``Ledger.people``)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
    ) -> None:
        self._db = db
        self._transaction = transaction

    # ---- digests ----

    def _key(self, db: sqlite3.Connection) -> bytes:
        row = db.execute("SELECT value FROM meta WHERE name = 'id_key'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        key = secrets.token_bytes(32)
        db.execute("INSERT INTO meta (name, value) VALUES ('id_key', ?)", (key.hex(),))
        return key

    # ---- writing (inside the batch's transaction) ----

    def record(self, db: sqlite3.Connection, people: People, *, now: datetime) -> None:
        """Record a batch's children and deaths (call inside the ledger's transaction)."""
        digests = _Digests(self._key(db))
        stamp = now.isoformat()
        for death in people.deaths:
            id_digest = digests.id(death.personal_id)
            born = death.birth_date.isoformat() if death.birth_date else None
            person_digest = digests.person(death.name, born)
            db.execute(
                "INSERT OR REPLACE INTO deaths VALUES (?, ?, ?, ?, ?)",
                (death.key, id_digest, person_digest, death.death_date.isoformat(),
                 death.keep_until.isoformat()),
            )  # fmt: skip
            db.execute(
                "UPDATE children SET status = ?, status_at = ? WHERE status != ? AND "
                "((id_digest IS NOT NULL AND id_digest = ?) OR person_digest = ?)",
                (DEAD, stamp, DEAD, id_digest, person_digest),
            )
        if not people.children:
            return
        # The deaths recorded (this batch's too), as the sets of their digests: a child is
        # dead when its ID digest is one of them, or its person digest (SQL's rule, "id_digest
        # IS NOT NULL AND id_digest = ? OR person_digest = ?", once instead of per child).
        dead_ids: set[str] = set()
        dead_people: set[str] = set()
        for id_digest, person_digest in db.execute("SELECT id_digest, person_digest FROM deaths"):
            if id_digest is not None:
                dead_ids.add(id_digest)
            if person_digest is not None:
                dead_people.add(person_digest)
        died: list[tuple[str, str, str]] = []

        def rows() -> Iterator[tuple[Any, ...]]:  # one at a time: no 10,000 rows kept alive
            of_id, of_person = digests.id, digests.person
            for child in people.children:
                born = iso_date(child.birth_date)
                id_digest = of_id(child.personal_id)
                person_digest = of_person(child.name, born)
                dead = (id_digest is not None and id_digest in dead_ids) or (
                    person_digest is not None and person_digest in dead_people
                )
                assert child.letter_date is not None and child.keep_until is not None
                if dead:
                    died.append((DEAD, stamp, child.key))
                yield (
                    child.key, child.name, born, child.sex, child.mother,
                    child.father, child.address, child.phone, child.schedule_version,
                    iso_date(child.letter_date), id_digest, person_digest,
                    iso_date(child.keep_until), DEAD if dead else ACTIVE,
                    stamp if dead else None, stamp,
                )  # fmt: skip

        # A reprint (--reprint-changed) updates the child's data; what the station
        # reported (moved away) stays.
        with indexes_built_after(db, "children"):
            db.executemany(
                "INSERT INTO children (registration_key, child_name, birth_date, sex, "
                "mother_name, father_name, address, phone, schedule_version, letter_date, "
                "id_digest, person_digest, keep_until, status, status_at, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(registration_key) DO UPDATE SET child_name = excluded.child_name, "
                "birth_date = excluded.birth_date, sex = excluded.sex, "
                "mother_name = excluded.mother_name, father_name = excluded.father_name, "
                "address = excluded.address, phone = excluded.phone, "
                "schedule_version = excluded.schedule_version, "
                "letter_date = excluded.letter_date, id_digest = excluded.id_digest, "
                "person_digest = excluded.person_digest, keep_until = excluded.keep_until, "
                "recorded_at = excluded.recorded_at",
                rows(),
            )
        db.executemany(
            "UPDATE children SET status = ?, status_at = ? WHERE registration_key = ?", died
        )

    # ---- reading ----

    def children(self, *, on: date, include_all: bool = False) -> list[ChildRecord]:
        """Return the children still kept on ``on`` (retention not ended), oldest first;
        only active ones (not moved away, no death registered) unless ``include_all``."""
        rows = self._db.execute(
            "SELECT registration_key, child_name, birth_date, sex, mother_name, father_name, "
            "address, phone, schedule_version, letter_date, keep_until, status FROM children "
            "WHERE keep_until >= ? ORDER BY birth_date, registration_key",
            (on.isoformat(),),
        ).fetchall()
        found = []
        for row in rows:
            record = ChildRecord(
                key=row[0], name=row[1], birth_date=date.fromisoformat(row[2]), sex=row[3],
                mother=row[4], father=row[5], address=row[6], phone=row[7],
                schedule_version=row[8], letter_date=date.fromisoformat(row[9]),
                keep_until=date.fromisoformat(row[10]), status=row[11],
            )  # fmt: skip
            if include_all or record.status == ACTIVE:
                found.append(record)
        return found

    def given(self) -> dict[str, dict[str, date]]:
        """Return, per registration key, the doses the station reported given and when."""
        given: dict[str, dict[str, date]] = {}
        for key, dose, on in self._db.execute("SELECT * FROM given_doses"):
            given.setdefault(key, {})[dose] = date.fromisoformat(on)
        return given

    def listed(
        self, key: str, *, on_or_before: date | None = None
    ) -> tuple[date, list[str]] | None:
        """Return the latest session (on or before a date) a child was listed for, and the
        doses listed; None when never listed."""
        sql = "SELECT session_date, doses FROM session_entries WHERE registration_key = ?"
        params: list[object] = [key]
        if on_or_before:
            sql += " AND session_date <= ?"
            params.append(on_or_before.isoformat())
        row = self._db.execute(sql + " ORDER BY session_date DESC", params).fetchone()
        if row is None:
            return None
        return date.fromisoformat(row[0]), [d for d in row[1].split("\n") if d]

    def status(self, key: str) -> str | None:
        row = self._db.execute(
            "SELECT status FROM children WHERE registration_key = ?", (key,)
        ).fetchone()
        return row[0] if row else None

    # ---- session lists and the station's feedback ----

    def record_session(
        self, session: date, entries: dict[str, Sequence[str]], *, now: datetime
    ) -> None:
        """Record who a session's list holds and for which doses (replacing an earlier list
        of the same session)."""
        with self._transaction() as db:
            db.execute("DELETE FROM session_entries WHERE session_date = ?", (session.isoformat(),))
            db.executemany(
                "INSERT INTO session_entries VALUES (?, ?, ?, ?)",
                [
                    (session.isoformat(), key, "\n".join(doses), now.isoformat())
                    for key, doses in entries.items()
                ],
            )

    def mark_given(self, key: str, doses: Iterable[str], given_on: date) -> int:
        """Record doses as given on ``given_on``; return how many were new."""
        with self._transaction() as db:
            return sum(
                db.execute(
                    "INSERT OR IGNORE INTO given_doses VALUES (?, ?, ?)",
                    (key, dose, given_on.isoformat()),
                ).rowcount
                for dose in doses
            )

    def mark_moved(self, key: str, *, now: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE children SET status = ?, status_at = ? WHERE registration_key = ? "
                "AND status = ?",
                (MOVED, now.isoformat(), key, ACTIVE),
            )

    # ---- retention ----

    def purge(self, before: date) -> dict[str, int]:
        """Delete what the lists kept about children (and deaths) whose retention ended
        before ``before``, with their list entries and reported doses; return the counts.
        The letters' own record (keys, for printing once) is not touched."""
        day = before.isoformat()
        with self._transaction() as db:
            keys = [
                r[0]
                for r in db.execute(
                    "SELECT registration_key FROM children WHERE keep_until < ?", (day,)
                )
            ]
            entries = given = 0
            for key in keys:
                entries += db.execute(
                    "DELETE FROM session_entries WHERE registration_key = ?", (key,)
                ).rowcount
                given += db.execute(
                    "DELETE FROM given_doses WHERE registration_key = ?", (key,)
                ).rowcount
            children = db.execute("DELETE FROM children WHERE keep_until < ?", (day,)).rowcount
            deaths = db.execute("DELETE FROM deaths WHERE keep_until < ?", (day,)).rowcount
        return {
            "children": children,
            "deaths": deaths,
            "session_entries": entries,
            "given_doses": given,
        }
