"""Recording a batch cheaply changes nothing the ledger holds: the people's digests are the
same HMAC values, a first batch's indexes are built after its rows and end as the schema
has them, and a batch that fails leaves the ledger as it was."""

from __future__ import annotations

import hmac
import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest
from ledger_helpers import key

from cchc_letters.hamlets import fold
from cchc_letters.identity import Identity
from cchc_letters.ledger import LEDGER_CACHE_KIB, Ledger, LedgerError, LetterRecord
from cchc_letters.ledger_people import ChildRecord, DeathRecord, People
from cchc_letters.models import Kind, RegistrationKey

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 27, 8, 30, tzinfo=ICT)
LETTER_DAY = date(2026, 11, 27)
KEEP = date(2033, 1, 1)


def letter(n: int, *, position: int | None = None, parsed: bool = False) -> LetterRecord:
    text = key(n)
    return LetterRecord(
        text, f"h{n}", "khai-sinh-001.docx", n if position is None else position,
        f"eid{n % 3}", f"ename{n}", None, f"pid{n % 3}", f"pname{n}",
        parsed_key=RegistrationKey.parse(text) if parsed else None,
    )  # fmt: skip


def child(n: int, name: str, born: date, personal_id: str | None = None) -> ChildRecord:
    return ChildRecord(
        key(n), name, born, letter_date=LETTER_DAY, keep_until=KEEP, personal_id=personal_id
    )


def schema(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return sorted(db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def expected_digest(key_bytes: bytes, text: str) -> str:
    return hmac.new(key_bytes, text.encode("utf-8"), "sha256").hexdigest()


def test_the_digests_are_the_hmac_of_each_text_under_the_ledgers_key(tmp_path):
    # The same name twice (born on two days, and on one day, in capitals), a name that starts
    # as another, an ID written with dots.
    people = People(
        children=[
            child(1, "Nguyễn Văn An", date(2026, 11, 1)),
            child(2, "Nguyễn Văn An", date(2026, 11, 2)),
            child(3, "NGUYỄN VĂN AN", date(2026, 11, 1), personal_id="079.226.000.202"),
            child(4, "Trần Thị Đào", date(2026, 11, 1)),
            child(5, "Nguyễn Văn Anh", date(2026, 11, 1)),
        ],
        deaths=[
            DeathRecord(key(9), "Lê Văn Ba", date(2026, 10, 1), date(2026, 11, 3), KEEP, "0792"),
            DeathRecord(key(8), "Lê Văn Ba", None, date(2026, 11, 3), KEEP),
        ],
    )
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        book.record_batch(book.begin_batch(tmp_path / "b", now=NOW), [], now=NOW, people=people)
        db = book._db
        secret = bytes.fromhex(
            db.execute("SELECT value FROM meta WHERE name = 'id_key'").fetchone()[0]
        )
        children = dict(
            db.execute("SELECT registration_key, person_digest || ' ' || ifnull(id_digest, '') FROM children")
        )  # fmt: skip
        deaths = {r[0]: r[1:] for r in db.execute("SELECT * FROM deaths")}
    person = lambda name, born: expected_digest(secret, f"person:{fold(name)}:{born}")  # noqa: E731
    assert children == {
        key(1): person("Nguyễn Văn An", "2026-11-01") + " ",
        key(2): person("Nguyễn Văn An", "2026-11-02") + " ",
        key(3): person("NGUYỄN VĂN AN", "2026-11-01") + " "
        + expected_digest(secret, "id:079226000202"),
        key(4): person("Trần Thị Đào", "2026-11-01") + " ",
        key(5): person("Nguyễn Văn Anh", "2026-11-01") + " ",
    }  # fmt: skip
    assert children[key(1)] != children[key(2)] and children[key(1)] == children[key(3)][:65]
    assert deaths[key(9)][:2] == (
        expected_digest(secret, "id:0792"),
        person("Lê Văn Ba", "2026-10-01"),
    )
    assert deaths[key(8)][:2] == (None, None)  # no ID, no date of birth: nothing to match


def test_a_first_batch_builds_its_indexes_after_its_rows_as_the_schema_has_them(tmp_path):
    people = People(children=[child(n, f"Trẻ {n}", date(2026, 11, n % 28 + 1)) for n in range(300)])
    letters = [letter(n, parsed=n % 2 == 0) for n in range(300)]
    with Ledger.open(tmp_path / "first.sqlite3") as first:
        before = schema(first._db)
        batch = first.begin_batch(tmp_path / "b1", now=NOW)
        first.record_batch(batch, letters, now=NOW, people=people)
        assert schema(first._db) == before
        # every index holds every row of its table (SQLite compares them)
        assert first._db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # and the look-ups that use them find what they should
        found = first.printed_events([Identity("eid1", None), Identity(None, "ename8")])
        assert sorted(e.key for e, _ in found) == sorted(
            [key(n) for n in range(300) if n % 3 == 1] + [key(8)]
        )
        assert len(first.printed_people([Identity("pid2", None)], Kind.BIRTH)) == 100
        assert set(first.printed_keys([key(5), key(299), key(300)])) == {key(5), key(299)}
        first_rows = first._db.execute("SELECT * FROM letters ORDER BY id").fetchall()
        children_rows = first._db.execute("SELECT * FROM children ORDER BY rowid").fetchall()
    # The same batch into a ledger whose tables already have a row: indexes kept, same rows.
    with Ledger.open(tmp_path / "second.sqlite3") as second:
        earlier = People(children=[child(1000, "Trẻ", date(2026, 1, 1))])
        batch = second.begin_batch(tmp_path / "b0", now=NOW)
        second.record_batch(batch, [letter(1000)], now=NOW, people=earlier)
        batch = second.begin_batch(tmp_path / "b1", now=NOW)
        second.record_batch(batch, letters, now=NOW, people=people)
        assert schema(second._db) == before
        rows = second._db.execute("SELECT * FROM letters WHERE id > 1 ORDER BY id").fetchall()
        assert [(r[0] - 1, r[1:8], 1, *r[9:]) for r in rows] == [
            (r[0], r[1:8], 1, *r[9:]) for r in first_rows
        ]
        again = second._db.execute("SELECT * FROM children ORDER BY rowid").fetchall()[1:]
        digests = slice(10, 12)  # keyed by each ledger's own random key
        assert [r[:10] + r[12:] for r in again] == [r[:10] + r[12:] for r in children_rows]
        assert all(r[digests] != s[digests] for r, s in zip(again, children_rows, strict=True))


def test_a_first_batch_that_fails_leaves_the_ledger_with_its_indexes_and_no_row(tmp_path):
    bad = LetterRecord(key(2), "h2", "khai-sinh-001.docx", None)  # type: ignore[arg-type]
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        before = schema(book._db)
        batch = book.begin_batch(tmp_path / "b", now=NOW)
        with pytest.raises(LedgerError):
            book.record_batch(batch, [letter(1), bad], now=NOW)
        assert schema(book._db) == before
        assert book._db.execute("SELECT count(*) FROM letters").fetchone() == (0,)
        book.record_batch(batch, [letter(1)], now=NOW)
        assert set(book.printed_keys([key(1)])) == {key(1)}


def test_an_open_ledger_keeps_a_whole_batch_in_its_page_cache(tmp_path):
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        assert book._db.execute("PRAGMA cache_size").fetchone() == (-LEDGER_CACHE_KIB,)
        assert book._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL, as before


def test_a_batchs_digests_are_the_hmac_values_and_their_memo_stays_bounded():
    # A province's year is 100,000 children, nearly each a text of its own: the digests of
    # the texts seen are kept only up to TextMemo's size, not all of them until the commit.
    import hashlib

    from cchc_letters.ledger_people import _Digests
    from cchc_letters.memo import TextMemo

    secret = bytes(range(32))
    digests = _Digests(secret)
    for n in range(20_000):
        name = f"Lê Thị Ngọc {n}"
        expected = hmac.new(
            secret, f"person:{fold(name)}:2026-11-01".encode(), hashlib.sha256
        ).hexdigest()
        assert digests.person(name, "2026-11-01") == expected
        assert digests.person(name, "2026-11-01") == expected  # (from the memo)
    assert (
        digests.id("079 2260 12345") == hmac.new(secret, b"id:079226012345", "sha256").hexdigest()
    )
    bound = TextMemo(str)._size
    assert len(digests._digests) <= bound and len(digests._folded) <= bound
