"""The ledger on its own: recording, reading back, forgetting, migrating, reconciling."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest
from ledger_helpers import key

from cchc_letters.errors import CchcError
from cchc_letters.ledger import (
    ABANDONED,
    ALREADY_FORGOTTEN,
    FORGOTTEN,
    NOT_FOUND,
    PRINTED,
    RECOVERED,
    SCHEMA_VERSION,
    SUPERSEDED,
    Ledger,
    LedgerError,
    LetterRecord,
    parse_key,
    recover_pending,
)
from cchc_letters.models import Kind

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 27, 8, 30, tzinfo=ICT)


def letter(n: int, content: str = "h", position: int | None = None) -> LetterRecord:
    return LetterRecord(key(n), f"{content}{n}", "khai-sinh-001.docx", position or n)


def test_a_new_ledger_records_a_batch_and_reads_it_back(tmp_path):
    with Ledger.open(tmp_path / "ledger.sqlite3") as book:
        assert book.version == SCHEMA_VERSION
        batch = book.begin_batch(tmp_path / "batch-2026-11-27-001", now=NOW)
        book.record_batch(batch, [letter(1), letter(2)], now=NOW)
        printed = book.printed([key(1), key(2), key(3)])
    assert set(printed) == {key(1), key(2)}
    entry = printed[key(2)]
    assert (entry.batch, entry.print_file, entry.position) == (
        "batch-2026-11-27-001",
        "khai-sinh-001.docx",
        2,
    )
    assert entry.content_hash == "h2" and entry.state == PRINTED
    assert entry.printed_at == "2026-11-27T08:30:00+07:00"


def test_a_reprint_supersedes_and_forget_frees_a_key_but_history_stays(tmp_path):
    later = NOW + timedelta(days=1)
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        book.record_batch(book.begin_batch(tmp_path / "b1", now=NOW), [letter(1)], now=NOW)
        book.record_batch(book.begin_batch(tmp_path / "b2", now=later), [letter(1, "x")], now=later)
        assert book.printed([key(1)])[key(1)].content_hash == "x1"
        assert book.forget([key(1), key(9)], now=later) == {key(1): FORGOTTEN, key(9): NOT_FOUND}
        assert book.forget([key(1)], now=later) == {key(1): ALREADY_FORGOTTEN}
        assert book.printed([key(1)]) == {}
        assert [e.state for e in book.history(key(1))] == [SUPERSEDED, FORGOTTEN]
        assert [e.batch for e in book.entries(since=date(2026, 11, 28))] == ["b2"]
        assert book.entries(kind=Kind.DEATH) == []


def test_a_batch_supersedes_its_own_earlier_letters_as_if_recorded_one_by_one(tmp_path):
    """A manifest may list a key twice, or a correction of a key printed earlier in it."""
    later = NOW + timedelta(days=1)
    corrected = LetterRecord(key(4), "c4", "khai-sinh-002.docx", 1, supersedes=key(2))
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        book.record_batch(
            book.begin_batch(tmp_path / "b1", now=NOW), [letter(1), letter(3)], now=NOW
        )
        letters = [letter(1, "x"), letter(2), letter(1, "y"), corrected]
        book.record_batch(book.begin_batch(tmp_path / "b2", now=later), letters, now=later)
        ones = book.history(key(1))
        assert [(e.content_hash, e.state) for e in ones] == [
            ("h1", SUPERSEDED),
            ("x1", SUPERSEDED),
            ("y1", PRINTED),
        ]
        assert [e.ended_at for e in ones] == [later.isoformat(), later.isoformat(), None]
        assert [(e.batch, e.state) for e in book.history(key(2))] == [("b2", SUPERSEDED)]
        keys = [key(n) for n in range(1, 6)]
        assert set(book.printed(keys)) == {key(1), key(3), key(4)}
        assert book.printed_keys(keys) == book.printed(keys)


def test_keys_are_checked():
    assert parse_key(" 26575:birth:2026:-:7 ") == "26575:birth:2026:-:7"
    with pytest.raises(LedgerError):
        parse_key("26575:birth:2026")
    with pytest.raises(LedgerError):
        parse_key("26575:funeral:2026:1:7")


def test_a_v1_ledger_is_migrated_not_discarded(tmp_path):
    """v1 kept one row per key in a table ``printed``; its rows must survive the upgrade."""
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE printed (
            registration_key TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL,
            batch TEXT NOT NULL,
            print_file TEXT NOT NULL,
            position INTEGER NOT NULL,
            printed_at TEXT NOT NULL
        );
        INSERT INTO printed VALUES
            ('26575:birth:2026:01/2026:01', 'aaa', 'batch-2026-11-20-001', 'khai-sinh-001.docx', 1, '2026-11-20T09:00:00+07:00'),
            ('26575:birth:2026:01/2026:02', 'bbb', 'batch-2026-11-20-001', 'khai-sinh-001.docx', 2, '2026-11-20T09:00:00+07:00'),
            ('26575:death:2026:-:05', 'ccc', 'batch-2026-11-21-001', 'khai-tu-001.docx', 1, '2026-11-21T09:00:00+07:00');
        PRAGMA user_version = 1;
        """
    )
    db.close()

    with Ledger.open(path) as book:
        assert book.version == SCHEMA_VERSION
        printed = book.printed([key(1), key(2), "26575:death:2026:-:5"])
        assert {k: e.content_hash for k, e in printed.items()} == {
            key(1): "aaa",
            key(2): "bbb",
            "26575:death:2026:-:5": "ccc",
        }
        assert printed[key(2)].batch == "batch-2026-11-20-001"
        assert printed[key(2)].position == 2
        assert [e.key for e in book.entries(kind=Kind.DEATH)] == ["26575:death:2026:-:5"]
        # and the migrated ledger keeps working
        book.record_batch(book.begin_batch(tmp_path / "b", now=NOW), [letter(3)], now=NOW)
    backup = tmp_path / "ledger.sqlite3.v1.bak"
    assert backup.exists()
    with sqlite3.connect(backup) as old:
        assert old.execute("SELECT count(*) FROM printed").fetchone()[0] == 3
    old.close()
    with Ledger.open(path) as book:  # opening again does not migrate twice
        assert len(book.entries()) == 4


def test_a_ledger_from_a_newer_version_or_another_program_is_refused(tmp_path):
    newer = tmp_path / "newer.sqlite3"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger.open(newer)
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(LedgerError):
        Ledger.open(other)
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database at all, just some text" * 100)
    with pytest.raises(CchcError):
        Ledger.open(broken)
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger.open(tmp_path / "missing.sqlite3", create=False)


def test_recovery_records_a_batch_in_place_and_abandons_one_that_never_was(tmp_path):
    done = tmp_path / "batch-2026-11-27-001"
    done.mkdir()
    (done / "manifest.csv").write_text(
        "\ufeffkind,registration_key,print_file,position,content_hash\n"
        f"birth,{key(1)},khai-sinh-001.docx,1,h1\n"
        f"birth,{key(2)},khai-sinh-001.docx,2,h2\n",
        encoding="utf-8",
    )
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        book.begin_batch(done, now=NOW)
        book.begin_batch(tmp_path / "batch-2026-11-27-002", now=NOW)  # died before rename
        recovery = recover_pending(book, now=NOW, manifest_name="manifest.csv")
        assert recovery.recovered == [done.resolve()]
        assert recovery.abandoned == [(tmp_path / "batch-2026-11-27-002").resolve()]
        assert set(book.printed([key(1), key(2)])) == {key(1), key(2)}
        states = dict(book._db.execute("SELECT name, state FROM batches"))
        assert states == {"batch-2026-11-27-001": RECOVERED, "batch-2026-11-27-002": ABANDONED}
        assert book.pending_batches() == []


def test_an_unreadable_manifest_stops_recovery_until_the_folder_is_set_aside(tmp_path):
    batch = tmp_path / "batch-2026-11-27-001"
    batch.mkdir()
    (batch / "manifest.csv").write_text("garbage\n1,2\n", encoding="utf-8")
    with Ledger.open(tmp_path / "l.sqlite3") as book:
        book.begin_batch(batch, now=NOW)
        with pytest.raises(LedgerError, match="manifest"):
            recover_pending(book, now=NOW, manifest_name="manifest.csv")
        batch.rename(tmp_path / "batch-2026-11-27-001-hong")
        recovery = recover_pending(book, now=NOW, manifest_name="manifest.csv")
        assert recovery.abandoned == [batch.resolve()] and book.printed([key(1)]) == {}


def test_canonical_keys_ignore_leading_zeros_case_and_spaces():
    assert parse_key("26575:birth:2026:01/2026:05") == "26575:birth:2026:1/2026:5"
    assert parse_key("26575:birth:2026: Quyển 01 /2026:005") == "26575:birth:2026:quyển1/2026:5"
    assert parse_key("26575:death:2026:-:0") == "26575:death:2026:-:0"


def test_a_v2_ledger_with_keys_as_written_is_migrated_to_canonical_keys(tmp_path):
    """v2 stored "…:01/2026:05"; after the upgrade the same registration exported as 5 is
    found, and a registration printed under two spellings has one current letter."""
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path) as book:
        batch = book.begin_batch(tmp_path / "b1", now=NOW)
        book.record_batch(batch, [letter(1), letter(2)], now=NOW)
    db = sqlite3.connect(path)
    db.executescript(
        """
        UPDATE letters SET registration_key = '26575:birth:2026:01/2026:05', book = '01/2026',
            number = '05' WHERE position = 1;
        UPDATE letters SET registration_key = '26575:birth:2026:1/2026:5', book = '1/2026',
            number = '5' WHERE position = 2;
        PRAGMA user_version = 2;
        """
    )
    db.close()
    with Ledger.open(path) as book:
        assert book.version == SCHEMA_VERSION
        rows = book.history("26575:birth:2026:1/2026:5")
        assert [e.state for e in rows] == [SUPERSEDED, PRINTED]
        assert set(book.printed(["26575:birth:2026:01/2026:005"])) == {"26575:birth:2026:1/2026:5"}
    assert (tmp_path / "ledger.sqlite3.v2.bak").exists()
