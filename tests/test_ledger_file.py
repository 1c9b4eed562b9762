"""The ledger as a file (ledger_file.py): checked page by page only when it is not as this
program left it, and its backup brought up to date by writing what changed."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from ledger_helpers import key

from cchc_letters import ledger_file
from cchc_letters.ledger import SCHEMA_VERSION, Ledger, LedgerError, LetterRecord, backup_path
from cchc_letters.models import Kind

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=timezone(timedelta(hours=7)))


def record(path, numbers) -> None:
    """Record one batch of letters ``numbers`` in the ledger at ``path`` (and its backup)."""
    with Ledger.open(path) as book:
        batch = book.begin_batch(path.parent / f"batch-{min(numbers)}", now=NOW)
        records = [LetterRecord(key(n), f"h{n}", "khai-sinh-001.docx", n) for n in numbers]
        book.record_batch(batch, records, now=NOW)


@pytest.fixture
def statements(monkeypatch):
    """The SQL every ledger connection opened from now on runs, in order."""
    seen: list[str] = []
    connect = sqlite3.connect

    def tracing(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(seen.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", tracing)
    return seen


def checks(statements: list[str]) -> int:
    return sum("quick_check" in s for s in statements)


def test_a_ledger_as_its_last_commit_left_it_is_not_read_page_by_page_again(tmp_path, statements):
    path = tmp_path / "ledger.sqlite3"
    record(path, range(1, 4))  # a new ledger: checked (empty), then committed
    assert checks(statements) == 1
    statements.clear()
    with Ledger.open(path) as book:
        assert sorted(e.key for e in book.entries()) == [key(n) for n in range(1, 4)]
    assert checks(statements) == 0  # as left: only what SQLite's commits wrote since the check


@pytest.mark.parametrize(
    "change",
    ["written by another program", "copied over", "times put back", "fingerprint lost"],
)
def test_a_ledger_changed_by_anything_else_is_checked_again(tmp_path, statements, change):
    path = tmp_path / "ledger.sqlite3"
    record(path, range(1, 4))
    status = os.stat(path)
    if change == "written by another program":
        with sqlite3.connect(path) as other:
            other.execute("UPDATE letters SET content_hash = 'x'")
    elif change == "copied over":
        shutil.copyfile(path, tmp_path / "copy")
        (tmp_path / "copy").replace(path)
    elif change == "times put back":  # the same bytes and modification time: the change time moves
        path.write_bytes(path.read_bytes())
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    else:
        ledger_file.fingerprint_path(path).unlink()
    statements.clear()
    Ledger.open(path).close()
    assert checks(statements) == 1
    statements.clear()
    Ledger.open(path).close()  # checked, and remembered as checked
    assert checks(statements) == 0


def test_junk_under_a_good_header_with_the_times_put_back_is_found(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    record(path, range(1, 200))
    status = os.stat(path)
    data = path.read_bytes()
    page, junk = 4096, b"\x00junk" * 819  # (4,095 bytes of the third page)
    path.write_bytes(data[: 2 * page] + junk + data[2 * page + len(junk) :])
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert os.stat(path).st_size == status.st_size
    with pytest.raises(LedgerError, match="bị hỏng"):
        Ledger.open(path)


def test_the_backup_is_the_ledger_after_every_batch(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    backup = backup_path(path)
    for first in (1, 100, 1000):
        record(path, range(first, first + 50))
        assert backup.read_bytes() == path.read_bytes()
    assert not list(tmp_path.glob("*.updating")) and not list(tmp_path.glob("*.part"))
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM letters").fetchone() == (150,)


def test_an_update_of_the_backup_writes_only_the_pages_that_changed(tmp_path):
    page = 4096
    old = bytearray(os.urandom(3 << 20))
    new = bytearray(old)
    new[5 * page + 7] ^= 0xFF  # one byte of page 5
    new[700 * page : 701 * page] = os.urandom(page)  # all of page 700
    new += os.urandom(page // 2)  # and a longer file

    class Counting(io.BytesIO):
        written = 0

        def write(self, data):  # type: ignore[override]
            Counting.written += len(data)
            return super().write(data)

    copy = Counting(bytes(old))
    source = io.BytesIO(bytes(new))
    ledger_file._copy_differences(source, copy)
    assert copy.getvalue() == bytes(new)
    assert Counting.written == page + page + page // 2


def test_a_backup_left_half_updated_is_finished_by_the_next_batch(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    backup = backup_path(path)
    record(path, range(1, 100))
    updating = backup.with_name(backup.name + ".updating")
    backup.replace(updating)  # a run cut off while it updated the copy …
    torn = bytearray(updating.read_bytes())
    torn[4096:8192] = os.urandom(4096)
    updating.write_bytes(bytes(torn) + os.urandom(1 << 20))  # … half written, and longer
    record(path, range(100, 120))
    assert backup.read_bytes() == path.read_bytes() and not updating.exists()


def test_the_damaged_ledger_message_names_the_backup_only_when_there_is_one(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    record(path, range(1, 5))
    data = path.read_bytes()
    path.write_bytes(data[:100] + os.urandom(len(data) - 100))
    with pytest.raises(LedgerError) as named:
        Ledger.open(path)
    assert str(backup_path(path)) in (named.value.hint or "")
    backup_path(path).replace(path.with_name("elsewhere"))
    with pytest.raises(LedgerError) as unnamed:
        Ledger.open(path)
    assert str(backup_path(path)) not in (unnamed.value.hint or "")


def test_a_ledger_of_schema_5_gets_its_letters_indexed_by_kind(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    record(path, range(1, 4))
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX letters_by_kind")
        db.execute("PRAGMA user_version = 5")
    with Ledger.open(path) as book:
        assert book.version == SCHEMA_VERSION == 6
        assert book.any_printed(Kind.BIRTH) and not book.any_printed(Kind.DEATH)
        plan = book._db.execute(
            "EXPLAIN QUERY PLAN SELECT 1 FROM letters WHERE state = ? AND kind = ? LIMIT 1",
            ("printed", "death"),
        ).fetchall()
    assert "letters_by_kind" in str(plan)
    assert path.with_name("ledger.sqlite3.v5.bak").is_file()
