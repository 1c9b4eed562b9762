"""The ledger: an SQLite record of every letter written, so each registration prints once.

One row per letter written (``letters``) and one per batch attempted (``batches``). A batch is
registered as ``writing`` before its folder is renamed into place and its letters are recorded
in one transaction afterwards; a batch still ``writing`` on the next run is reconciled from
its folder (see ``recover_pending``). Rows are never deleted: a reprint supersedes the earlier
row and ``forget`` marks it forgotten, so the history of a registration stays readable.

The schema is versioned with ``PRAGMA user_version``; an older ledger is migrated in place (a
copy of it is kept beside it first), never discarded.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_letters import ledger_file
from cchc_letters.errors import CchcError
from cchc_letters.models import Kind, Registration, RegistrationKey

if TYPE_CHECKING:
    from cchc_letters.identity import Identity

DEFAULT_NAME = "ledger.sqlite3"
SCHEMA_VERSION = 6
# The page cache of an open ledger (see Ledger.open): a first batch of 10,000 letters fits
# (12 MB). 64 MB held 51 MB more at 100,000 letters (441 against 390 MB, the largest
# process), in no less time (three turns each: 31.8-43.9 s against 29.0-33.5 s).
LEDGER_CACHE_KIB = 16 * 1024

# Batch states.
WRITING = "writing"  # registered, files not yet (known to be) in place
COMPLETE = "complete"  # folder in place and letters recorded by the run itself
RECOVERED = "recovered"  # folder was in place; letters recorded from its manifest later
ABANDONED = "abandoned"  # the run died before its folder was renamed into place
UNRECORDED = "unrecorded"  # a folder in place the ledger never recorded, accepted as such
REBUILT = "rebuilt"  # letters recorded from the folder's manifest by `ledger rebuild`

# Letter states.
PRINTED = "printed"
SUPERSEDED = "superseded"  # reprinted later (--reprint-changed) — see the newer row
FORGOTTEN = "forgotten"  # `ledger forget`: may be printed again

# What `forget` did to a key (besides FORGOTTEN).
ALREADY_FORGOTTEN = "already_forgotten"  # no printed letter left: forgotten earlier
NOT_FOUND = "not_found"  # never printed from this ledger


class LedgerError(CchcError):
    """The ledger cannot be opened, is from a newer version, or a key is malformed."""


@dataclass(slots=True)
class LetterRecord:
    """One letter to record: which registration, with what content, where it was printed.

    Made for ``Ledger.record_batch`` to read (10,000 of them a batch), so not frozen: its
    ten fields set through ``object.__setattr__`` were two thirds of making one."""

    key: str
    content_hash: str
    print_file: str
    position: int
    event_id: str | None = None  # identity.event(...) of the registration, as hashes
    event_name: str | None = None
    supersedes: str | None = None  # the key it was printed under before a key correction
    person_id: str | None = None  # identity.person(...) of the child / the deceased
    person_name: str | None = None
    # ``key`` already parsed (the registration's own RegistrationKey, whose str() is
    # ``key``), so that recording a batch need not parse and canonicalise it again.
    parsed_key: RegistrationKey | None = field(default=None, compare=False, repr=False)
    # The registration printed, when the record is made from it (a batch's own letters):
    # its content hash is then written out as its row goes in, not held by each of the
    # batch's records until the commit (41 MB of texts at 100,000 letters).
    registration: Registration | None = field(default=None, compare=False, repr=False)

    def stored_hash(self) -> str:
        """Return the content hash to store: ``content_hash``, else the registration's."""
        if self.content_hash or self.registration is None:
            return self.content_hash
        return self.registration.content_hash()


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row as read back."""

    key: str
    kind: str
    content_hash: str
    batch: str
    batch_dir: str
    print_file: str
    position: int
    printed_at: str
    state: str
    ended_at: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "kind": self.kind,
            "content_hash": self.content_hash,
            "batch": self.batch,
            "batch_dir": self.batch_dir,
            "print_file": self.print_file,
            "position": self.position,
            "printed_at": self.printed_at,
            "state": self.state,
            "ended_at": self.ended_at,
        }


@dataclass(frozen=True)
class PendingBatch:
    id: int
    dir: Path
    started_at: str


def default_path(out_dir: Path) -> Path:
    """Return the ledger that belongs to an output folder: ``OUT/ledger.sqlite3``."""
    return out_dir / DEFAULT_NAME


def backup_path(path: Path) -> Path:
    """Return the copy of the ledger kept after each successful batch: ``ledger.sqlite3.bak``."""
    return path.with_name(path.name + ".bak")


def rebuild_command(path: Path) -> str:
    """Return the command that rebuilds the ledger at ``path`` from the batch folders."""
    if path.name == DEFAULT_NAME:
        return f'cchc-letters ledger rebuild --out "{path.parent}"'
    return f'cchc-letters ledger rebuild --out THƯ_MỤC_ĐẦU_RA --ledger "{path}"'


def damaged(path: Path, detail: str) -> LedgerError:
    """Return the error for a ledger that cannot be read: fatal, with the ways out."""
    backup = backup_path(path)
    restore = (
        f"chép {backup} (bản sao của lần chạy tốt gần nhất) đè lên nó, hoặc "
        if backup.exists()
        else ""
    )
    return LedgerError(
        f"sổ theo dõi {path} bị hỏng, không đọc được ({detail}) (the ledger is damaged); "
        "không tạo sổ mới tự động vì mọi thư sẽ bị in lại (no new ledger is made: every "
        "letter would be printed again)",
        hint=f"Giữ lại tệp hỏng; {restore}dựng lại sổ từ manifest.csv của các lô thư: "
        f"{rebuild_command(path)}",
    )


# ---- schema and migrations -------------------------------------------------------------

_SCHEMA_V2 = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    dir TEXT NOT NULL,  -- a number freed by an abandoned batch is used again
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    letters INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE letters (
    id INTEGER PRIMARY KEY,
    registration_key TEXT NOT NULL,
    commune TEXT NOT NULL,
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    book TEXT NOT NULL,
    number TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    print_file TEXT NOT NULL,
    position INTEGER NOT NULL,
    printed_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'printed',
    ended_at TEXT
);
CREATE INDEX letters_by_key ON letters(registration_key, state);
CREATE INDEX letters_by_time ON letters(printed_at);
"""


def _create_v2(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V2.split(";"):
        if statement.strip():
            db.execute(statement)


@contextmanager
def indexes_built_after(db: sqlite3.Connection, table: str) -> Iterator[None]:
    """Around a bulk insert into ``table``, inside a transaction: when the table holds no
    row yet, its indexes are dropped for the insert and created again after it, from the
    very SQL the schema stores, so the ledger ends with the same indexes over the same rows.

    Sorting once beats inserting 10,000 random digests one by one into each index (a first
    batch of 10,000 births: record_batch 1.92 -> 1.61 billion instructions under valgrind,
    0.13 of them for the letters' indexes, 0.18 for the children's). An error inside rolls the
    whole transaction back, the dropped indexes with it. A table with rows keeps its
    indexes (building them again would sort every earlier row too).
    """
    assert db.in_transaction, "drop and create again only inside the batch's transaction"
    rebuilt: list[tuple[str, str]] = []
    if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:
        # (sql is NULL for the index SQLite keeps for a PRIMARY KEY or UNIQUE: kept)
        rebuilt = db.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY rowid",
            (table,),
        ).fetchall()
        for name, _ in rebuilt:
            db.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in rebuilt:
        db.execute(sql)


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    """Return the rowid an INSERT just gave (sqlite3 types it as possibly None)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _migrate_v1_to_v2(db: sqlite3.Connection) -> None:
    """v1 (cchc-letters 0.0.x) kept one row per key in ``printed`` and batch names only.

    Each v1 batch name becomes a complete batch (its folder path is unknown, so the name
    stands in for it); each row becomes a printed letter with its key split into parts.
    """
    _create_v2(db)
    batches: dict[str, int] = {}
    # (keys are made canonical by the v2 -> v3 step that follows)
    rows = db.execute(
        "SELECT registration_key, content_hash, batch, print_file, position, printed_at "
        "FROM printed ORDER BY printed_at, rowid"
    ).fetchall()
    for key_text, content_hash, batch, print_file, position, printed_at in rows:
        if batch not in batches:
            batches[batch] = _inserted_id(
                db.execute(
                    "INSERT INTO batches (name, dir, state, started_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (batch, batch, COMPLETE, printed_at, printed_at),
                )
            )
        key = _parse_key(key_text)
        db.execute(
            "INSERT INTO letters (registration_key, commune, kind, year, book, number, "
            "content_hash, batch_id, print_file, position, printed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key_text, key.commune, key.kind.value, key.year, key.book, key.number,
             content_hash, batches[batch], print_file, position, printed_at),
        )  # fmt: skip
    db.execute(
        "UPDATE batches SET letters = (SELECT count(*) FROM letters WHERE batch_id = batches.id)"
    )
    db.execute("DROP TABLE printed")


def _migrate_v2_to_v3(db: sqlite3.Connection) -> None:
    """v2 stored số and quyển as written ("…:2026:01:05"); v3 stores the canonical key
    (``models.canonical_register_id``: "…:2026:1:5"), so a registration exported once as
    05 and once as 5 is one registration. The registry's own spelling is in each batch's
    manifest.csv; rows are rewritten in place, none is dropped.
    """
    rows = db.execute("SELECT id, registration_key FROM letters").fetchall()
    for row_id, key_text in rows:
        key = _parse_key(key_text)
        db.execute(
            "UPDATE letters SET registration_key = ?, book = ?, number = ? WHERE id = ?",
            (str(key), key.book, key.number, row_id),
        )
    # Two rows of one registration both "printed" (it was printed once as 05, once as 5):
    # the later one is the current letter, the earlier is superseded.
    db.execute(
        "UPDATE letters SET state = ?, ended_at = printed_at WHERE state = ? AND EXISTS ("
        "SELECT 1 FROM letters newer WHERE newer.registration_key = letters.registration_key "
        "AND newer.state = ? AND newer.id > letters.id)",
        (SUPERSEDED, PRINTED, PRINTED),
    )


_IDENTITY_V5 = """
ALTER TABLE letters ADD COLUMN event_id TEXT;
ALTER TABLE letters ADD COLUMN event_name TEXT;
ALTER TABLE letters ADD COLUMN person_id TEXT;
ALTER TABLE letters ADD COLUMN person_name TEXT;
CREATE INDEX letters_by_person_id ON letters(person_id);
CREATE INDEX letters_by_person_name ON letters(person_name);
CREATE INDEX letters_by_event_id ON letters(event_id);
CREATE INDEX letters_by_event_name ON letters(event_name)
"""


def _migrate_v4_to_v5(db: sqlite3.Connection) -> None:
    """v5 keeps each letter's event identity (identity.py: who and what, as hashes), so a
    correction that changes the key is recognised. Older rows have none (their manifests
    hold no names): a key correction of a letter printed before v5 is not recognised."""
    have = {row[1] for row in db.execute("PRAGMA table_info(letters)")}
    if "event_id" in have:  # made by this version's own schema already
        return
    for statement in _IDENTITY_V5.split(";"):
        db.execute(statement)


def _migrate_v5_to_v6(db: sqlite3.Connection) -> None:
    """v6 indexes the letters by kind: whether any death letter is printed (``any_printed``,
    asked by every batch of births) was a scan of every letter, 0.03-0.1 s and the page
    cache filled for a ledger of 100,000 births."""
    db.execute("CREATE INDEX IF NOT EXISTS letters_by_kind ON letters(kind, state)")


# version found -> step that brings it to version + 1
def _migrate_v3_to_v4(db: sqlite3.Connection) -> None:
    """v4 adds what the health station's session lists need (see ledger_people.py)."""
    from cchc_letters.ledger_people import create_v4

    create_v4(db)


_MIGRATIONS = {
    1: _migrate_v1_to_v2,
    2: _migrate_v2_to_v3,
    3: _migrate_v3_to_v4,
    4: _migrate_v4_to_v5,
    5: _migrate_v5_to_v6,
}


def _parse_key(text: str) -> RegistrationKey:
    try:
        return RegistrationKey.parse(text)
    except ValueError:
        raise LedgerError(
            f"{text!r} không phải khoá đăng ký (not a registration key)",
            hint="Khoá có dạng xã:loại:năm:quyển:số, ví dụ 26575:birth:2026:01/2026:01",
        ) from None


def parse_key(text: str) -> str:
    """Return ``text`` as a canonical registration key; LedgerError when malformed."""
    return str(_parse_key(text.strip()))


# The page cache while the pages are checked. quick_check reads every page once; with the
# batch's cache (LEDGER_CACHE_KIB) a large ledger's pages stayed in memory for the rest of the
# run (a daily batch of ten letters into a ledger of 100,000: 111 MB, against 38 MB).
CHECK_CACHE_KIB = 2 * 1024


def _check_pages(db: sqlite3.Connection, path: Path) -> bool:
    """Check every page of the ledger ``db`` (the file ``path``) unless the file is as this
    program's last check or commit left it (``ledger_file.is_as_left``); return True when it
    was checked. Raises the damaged ledger's LedgerError (or SQLite's DatabaseError)."""
    with ledger_file.read_locked(db):  # (no commit changes the file between the two looks)
        if ledger_file.is_as_left(path):
            return False
        db.execute(f"PRAGMA cache_size = {-CHECK_CACHE_KIB}")
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise damaged(path, "; ".join(problems))
    return True


# ---- the ledger ------------------------------------------------------------------------


class Ledger:
    """An open ledger. Use ``Ledger.open(path)`` as a context manager."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @property
    def people(self) -> Any:  # -> ledger_people.PeopleStore
        """The session lists' tables: children, deaths, list entries, reported doses."""
        from cchc_letters.ledger_people import PeopleStore

        return PeopleStore(self._db, self._transaction)

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Ledger:
        """Open (creating or migrating as needed) the ledger at ``path``."""
        if not create and not path.exists():
            raise LedgerError(
                f"không có sổ theo dõi tại {path} (no ledger there)",
                hint="Dùng --out THƯ_MỤC của lệnh generate, hoặc --ledger TỆP.",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        db = None
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous = FULL")  # a power cut must not lose a commit
            db.execute("PRAGMA foreign_keys = ON")
            # The header alone can look right over pages of junk: check every page before
            # trusting what the ledger says was printed, unless the file is as this
            # program's last check or commit left it (ledger_file).
            checked = _check_pages(db, path)
            # A batch's transaction dirties every page it adds (a first batch of 10,000
            # letters: ~12 MB). SQLite's default 2 MB page cache spills them to the file
            # mid-transaction and reads them back (strace: 3,036 page reads for that batch,
            # 15 with this cache; record_batch 0.46 -> 0.33 s CPU). Memory only: what is
            # written at the commit, and how durably (synchronous = FULL), is unchanged.
            db.execute(f"PRAGMA cache_size = {-LEDGER_CACHE_KIB}")
            ledger = cls(db, path)
            ledger._upgrade()
            if checked:
                ledger_file.remember(path)
        except (sqlite3.Error, LedgerError) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, LedgerError):
                raise
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError
            ):
                raise damaged(path, str(exc)) from None
            raise LedgerError(
                f"không mở được sổ theo dõi {path}: {exc} (cannot open the ledger)",
                hint="Kiểm tra chỗ trống và quyền ghi của thư mục rồi chạy lại; nếu tệp bị hỏng: "
                f"{rebuild_command(path)}",
            ) from None
        return ledger

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        return version

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:  # disk full, read-only folder, locked too long …
            raise LedgerError(
                f"không ghi được sổ theo dõi {self.path}: {exc} (cannot write the ledger)",
                hint="Kiểm tra chỗ trống và quyền ghi của thư mục, rồi chạy lại.",
            ) from None
        ledger_file.remember(self.path)  # a state SQLite's commit wrote from a checked one

    def _upgrade(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"sổ theo dõi {self.path} do phiên bản mới hơn tạo (schema {version} > "
                f"{SCHEMA_VERSION}; written by a newer cchc-letters)",
                hint="Cập nhật cchc-letters rồi chạy lại.",
            )
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            with self._transaction() as db:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise LedgerError(
                        f"{self.path} không phải sổ theo dõi của cchc-letters "
                        "(an SQLite file without a ledger schema)"
                    )
                _create_v2(db)
                _migrate_v3_to_v4(db)
                _migrate_v4_to_v5(db)
                _migrate_v5_to_v6(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        self._backup(self.path.with_name(f"{self.path.name}.v{version}.bak"))
        while version < SCHEMA_VERSION:
            with self._transaction() as db:
                _MIGRATIONS[version](db)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")

    def _backup(self, target: Path) -> None:
        if not target.exists():
            ledger_file.copy_whole(self._db, target)

    # ---- reading ----

    _ENTRY_SQL = (
        "SELECT l.registration_key, l.kind, l.content_hash, b.name, b.dir, l.print_file, "
        "l.position, l.printed_at, l.state, l.ended_at FROM letters l "
        "JOIN batches b ON b.id = l.batch_id"
    )

    def printed(self, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return the current (printed, not superseded or forgotten) entry of each key."""
        wanted = {parse_key(k) for k in keys}
        found: dict[str, LedgerEntry] = {}
        rows = self._db.execute(
            f"{self._ENTRY_SQL} WHERE l.state = ? ORDER BY l.id", (PRINTED,)
        ).fetchall()
        for row in rows:
            if row[0] in wanted:
                found[row[0]] = LedgerEntry(*row)
        return found

    def any_printed(self, kind: Kind | None = None) -> bool:
        """Return True when the ledger has a current letter (of ``kind``)."""
        sql, params = "SELECT 1 FROM letters WHERE state = ?", [PRINTED]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind.value)
        return self._db.execute(sql + " LIMIT 1", params).fetchone() is not None

    def printed_keys(self, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return ``printed(keys)`` for keys already canonical (``str(RegistrationKey)``, as
        a batch's registrations give them): not parsed again, and only their rows read."""
        if not self.any_printed():
            return {}
        found = self._printed_rows(
            f"SELECT l.id, {self._ENTRY_SQL[7:]}", "l.registration_key", sorted(set(keys))
        )
        return {row[1]: LedgerEntry(*row[1:]) for _, row in sorted(found.items())}

    def _printed_rows(
        self, select: str, column: str, values: Sequence[str], found: dict[int, Any] | None = None
    ) -> dict[int, tuple[Any, ...]]:
        """Return ``found`` (ledger id -> row of ``select``) with the printed letters whose
        ``column`` is one of ``values`` added, asked in chunks: a first batch of 100,000
        registrations must not pass SQLite's limit on the parameters of one statement."""
        found = {} if found is None else found
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            for row in self._db.execute(
                f"{select} WHERE l.state = ? AND {column} IN ({','.join('?' * len(chunk))})",
                (PRINTED, *chunk),
            ):
                found[row[0]] = row
        return found

    def printed_events(self, identities: Iterable[Identity]) -> list[tuple[LedgerEntry, Identity]]:
        """Return the current letters whose event identity (``identity.Identity``) is one of
        ``identities`` by ID or by name, each with its stored identity."""
        return self._printed_by("event", identities)

    def printed_people(
        self, identities: Iterable[Identity], kind: Kind
    ) -> list[tuple[LedgerEntry, Identity]]:
        """Return the current ``kind`` letters about a person (the child of a birth, the
        deceased of a death) whose ``identity.person`` is one of ``identities``."""
        return [r for r in self._printed_by("person", identities) if r[0].kind == kind.value]

    def _printed_by(
        self, what: str, identities: Iterable[Identity]
    ) -> list[tuple[LedgerEntry, Identity]]:
        from cchc_letters.identity import Identity

        if not self.any_printed():
            return []
        wanted = list(identities)
        select = f"SELECT l.id, l.{what}_id, l.{what}_name, {self._ENTRY_SQL[7:]}"
        found = self._printed_rows(
            select, f"l.{what}_id", sorted({i.by_id for i in wanted if i.by_id})
        )
        found = self._printed_rows(
            select, f"l.{what}_name", sorted({i.by_name for i in wanted if i.by_name}), found
        )
        return [
            (LedgerEntry(*row[3:]), Identity(row[1], row[2])) for _, row in sorted(found.items())
        ]

    def newest_first(self) -> Iterator[LedgerEntry]:
        """Yield every row, newest first, as it is read (a search stops when it has enough)."""
        for row in self._db.execute(self._ENTRY_SQL + " ORDER BY l.id DESC"):
            yield LedgerEntry(*row)

    def entries(self, *, since: date | None = None, kind: Kind | None = None) -> list[LedgerEntry]:
        """Return every row, oldest first, printed on or after ``since`` and of ``kind``."""
        where, params = [], []
        if since:
            where.append("substr(l.printed_at, 1, 10) >= ?")
            params.append(since.isoformat())
        if kind:
            where.append("l.kind = ?")
            params.append(kind.value)
        sql = self._ENTRY_SQL + (" WHERE " + " AND ".join(where) if where else "")
        return [LedgerEntry(*r) for r in self._db.execute(sql + " ORDER BY l.id", params)]

    def history(self, key: str) -> list[LedgerEntry]:
        """Return every row of one registration key, oldest first."""
        sql = f"{self._ENTRY_SQL} WHERE l.registration_key = ? ORDER BY l.id"
        return [LedgerEntry(*r) for r in self._db.execute(sql, (key,))]

    def pending_batches(self) -> list[PendingBatch]:
        """Return the batches registered but never confirmed (a run died around its end)."""
        rows = self._db.execute(
            "SELECT id, dir, started_at FROM batches WHERE state = ? ORDER BY id", (WRITING,)
        ).fetchall()
        return [PendingBatch(i, Path(d), s) for i, d, s in rows]

    # ---- writing ----

    def begin_batch(self, batch_dir: Path, *, now: datetime) -> int:
        """Register a batch about to be renamed into place; return its id."""
        with self._transaction() as db:
            return _inserted_id(
                db.execute(
                    "INSERT INTO batches (name, dir, state, started_at) VALUES (?, ?, ?, ?)",
                    (batch_dir.name, str(batch_dir.resolve()), WRITING, now.isoformat()),
                )
            )

    def record_batch(
        self,
        batch_id: int,
        letters: Sequence[LetterRecord],
        *,
        now: datetime,
        state: str = COMPLETE,
        people: Any = None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Record every letter of a batch whose folder is in place, in one transaction.

        A key already printed is superseded by the new row (a deliberate reprint).
        ``people`` (ledger_people.People) are the batch's children and deaths for the
        session lists, recorded in the same transaction. ``before_commit()`` is called
        inside it, once every row is in and before it commits (the pipeline puts the batch
        folder in place there); what it raises rolls the transaction back.
        """
        stamp = now.isoformat()
        # canonical, even from an old manifest; a letter's own parsed_key prints as its key
        keys: list[RegistrationKey] = []
        texts: list[str] = []
        for letter in letters:
            if letter.parsed_key is not None:
                keys.append(letter.parsed_key)
                texts.append(letter.key)
            else:
                keys.append(_parse_key(letter.key))
                texts.append(str(keys[-1]))
        # As if each letter in turn superseded the printed letters of its key (and of the
        # key it corrects) and was then inserted: the letters printed before this batch
        # are superseded first, all at once; a letter of this batch whose key a later
        # letter of it prints again or corrects is inserted superseded.
        later: set[str] = set()
        superseded = [False] * len(letters)
        for i in range(len(letters) - 1, -1, -1):
            superseded[i] = texts[i] in later
            later.add(texts[i])
            corrects = letters[i].supersedes
            if corrects:
                later.add(corrects)

        def rows() -> Iterator[tuple[Any, ...]]:  # one at a time: no 10,000 rows kept alive
            current, ended_now = (PRINTED, None), (SUPERSEDED, stamp)
            for letter, key, text, ended in zip(letters, keys, texts, superseded, strict=True):
                yield (
                    text, key.commune, key.kind.value, key.year, key.book, key.number,
                    letter.stored_hash(), batch_id, letter.print_file, letter.position, stamp,
                    letter.event_id, letter.event_name, letter.person_id, letter.person_name,
                    *(ended_now if ended else current),
                )  # fmt: skip

        with self._transaction() as db:
            if self.any_printed():
                db.executemany(
                    "UPDATE letters SET state = ?, ended_at = ? "
                    "WHERE registration_key = ? AND state = ?",
                    ((SUPERSEDED, stamp, text, PRINTED) for text in later),
                )
            with indexes_built_after(db, "letters"):
                db.executemany(
                    "INSERT INTO letters (registration_key, commune, kind, year, book, number, "
                    "content_hash, batch_id, print_file, position, printed_at, event_id, "
                    "event_name, person_id, person_name, state, ended_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows(),
                )
            db.execute(
                "UPDATE batches SET state = ?, finished_at = ?, letters = ? WHERE id = ?",
                (state, stamp, len(letters), batch_id),
            )
            if people is not None:
                self.people.record(db, people, now=now)
            if before_commit is not None:
                before_commit()
        self.keep_backup()

    def keep_backup(self) -> None:
        """Bring ``ledger.sqlite3.bak`` up to date with the ledger as just committed
        (``ledger_file.refresh_copy``: the pages that differ). Best effort: a full disk
        leaves the copy as ``….bak.updating``, which the next batch's copy finishes."""
        try:
            ledger_file.refresh_copy(self._db, self.path, backup_path(self.path))
        except (sqlite3.Error, OSError):
            pass

    def batch_names(self) -> set[str]:
        """Return the name of every batch the ledger knows, in any state."""
        return {row[0] for row in self._db.execute("SELECT name FROM batches")}

    def accept_unrecorded(self, folders: Sequence[Path], *, now: datetime) -> None:
        """Record ``folders`` as batches the ledger never recorded (``--new-ledger``): known
        from now on, their letters not counted as printed."""
        with self._transaction() as db:
            for folder in folders:
                db.execute(
                    "INSERT INTO batches (name, dir, state, started_at, finished_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (folder.name, str(folder.resolve()), UNRECORDED, now.isoformat(),
                     now.isoformat()),
                )  # fmt: skip

    def abandon_batch(self, batch_id: int, *, now: datetime) -> None:
        """Mark a registered batch as never completed (its folder was not renamed)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE batches SET state = ?, finished_at = ? WHERE id = ? AND state = ?",
                (ABANDONED, now.isoformat(), batch_id, WRITING),
            )

    def forget(self, keys: Iterable[str], *, now: datetime) -> dict[str, str]:
        """Mark the current letter of each key forgotten, so it is printed again.

        Return what happened to each key: FORGOTTEN (done now), ALREADY_FORGOTTEN (its last
        letter was forgotten before: nothing to do, it will be printed again) or NOT_FOUND
        (never printed from this ledger).
        """
        outcome: dict[str, str] = {}
        with self._transaction() as db:
            for key in keys:
                done = db.execute(
                    "UPDATE letters SET state = ?, ended_at = ? "
                    "WHERE registration_key = ? AND state = ?",
                    (FORGOTTEN, now.isoformat(), key, PRINTED),
                ).rowcount
                if done:
                    outcome[key] = FORGOTTEN
                    continue
                last = db.execute(
                    "SELECT state FROM letters WHERE registration_key = ? ORDER BY id DESC",
                    (key,),
                ).fetchone()
                outcome[key] = ALREADY_FORGOTTEN if last else NOT_FOUND
        return outcome


# ---- reconciliation --------------------------------------------------------------------


@dataclass
class Recovery:
    """What reconciling the ledger with the output folder found."""

    recovered: list[Path]  # complete folders whose letters were recorded from the manifest
    abandoned: list[Path]  # batches whose run died before the folder was in place


def recover_pending(ledger: Ledger, *, now: datetime, manifest_name: str) -> Recovery:
    """Settle batches left ``writing`` by a run that died (call under the batch lock).

    The folder rename is the commit point of a batch: a folder in place under its final name
    holds a complete manifest and complete print files, so its letters are recorded from the
    manifest (they exist and will be printed); a batch without its folder never happened.
    """
    recovery = Recovery([], [])
    for batch in ledger.pending_batches():
        manifest = batch.dir / manifest_name
        if batch.dir.is_dir() and manifest.is_file():
            try:
                letters = read_manifest(manifest)
            except (OSError, KeyError, ValueError, csv.Error, UnicodeDecodeError):
                raise LedgerError(
                    f"lô thư {batch.dir} bị ngắt giữa chừng và không đọc được manifest.csv "
                    "(a batch interrupted at its end has an unreadable manifest)",
                    hint="Kiểm tra các tệp in trong thư mục đó; nếu cần in lại cả lô, đổi tên "
                    "thư mục (ví dụ thêm -hong) rồi chạy lại.",
                ) from None
            ledger.record_batch(batch.id, letters, now=now, state=RECOVERED)
            recovery.recovered.append(batch.dir)
        else:
            ledger.abandon_batch(batch.id, now=now)
            recovery.abandoned.append(batch.dir)
    return recovery


def read_manifest(path: Path) -> list[LetterRecord]:
    """Return the letters listed in a batch's manifest.csv."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [
            LetterRecord(
                key=row["registration_key"],
                content_hash=row["content_hash"],
                print_file=row["print_file"],
                position=int(row["position"]),
                # identity hashes: absent from manifests written before schema 4
                event_id=row.get("event_id") or None,
                event_name=row.get("event_name") or None,
                person_id=row.get("person_id") or None,
                person_name=row.get("person_name") or None,
            )
            for row in csv.DictReader(fh)
        ]


# ---- a ledger that does not match its output folder ---------------------------------------

ONE_OFF_MARK = ".no-ledger"  # in a batch folder written with --no-ledger


def batch_folders(out_dir: Path) -> list[Path]:
    """Return the finished batch folders of ``out_dir`` that a ledger should know (a
    manifest, not written with ``--no-ledger``), oldest first."""
    if not out_dir.is_dir():
        return []
    return sorted(
        p
        for p in out_dir.glob("batch-*")
        if p.is_dir() and (p / "manifest.csv").is_file() and not (p / ONE_OFF_MARK).exists()
    )


def check_folder(ledger: Ledger, out_dir: Path, *, accept: bool, now: datetime) -> list[Path]:
    """Refuse a ledger that does not know every batch folder of ``out_dir`` (call under the
    lock): a new, empty, deleted-and-recreated or older ledger beside existing batches would
    print their letters again. With ``accept`` (``--new-ledger``) the folders are recorded as
    unrecorded and returned. Raises LedgerError otherwise.
    """
    known = ledger.batch_names()
    unknown = [p for p in batch_folders(out_dir) if p.name not in known]
    if not unknown:
        return []
    if accept:
        ledger.accept_unrecorded(unknown, now=now)
        return unknown
    names = ", ".join(p.name for p in unknown[:5]) + (" …" if len(unknown) > 5 else "")
    state = "trống hoặc mới tạo (empty or new)" if not known else "cũ hơn (older)"
    raise LedgerError(
        f"sổ theo dõi {ledger.path} {state} không ghi nhận {len(unknown)} lô thư đã có trong "
        f"{out_dir}: {names} (the ledger does not record batch folders that exist; the ledger "
        "was lost, replaced or restored from an older copy)",
        hint=f"Ghi các lô đó vào sổ từ manifest.csv: {rebuild_command(ledger.path)} ; hoặc, "
        "nếu thật sự muốn bắt đầu sổ mới (thư trong các lô đó có thể bị in lại), chạy lại "
        "với --new-ledger.",
    )


@dataclass
class Rebuild:
    """What ``rebuild`` did."""

    ledger: Path
    damaged_copy: Path | None  # where an unreadable ledger was set aside
    batches: list[Path]  # folders whose letters were recorded from their manifest
    letters: int


def rebuild(path: Path, out_dir: Path, *, now: datetime) -> Rebuild:
    """Record in the ledger at ``path`` every batch folder of ``out_dir`` it does not know,
    from the folders' manifests, oldest first (a key printed in two batches ends as the later
    one). A ledger that cannot be read is set aside as ``…damaged-YYYYMMDD-HHMMSS`` (kept,
    never deleted) and a new one is built. Call under the batch lock.

    What manifests do not hold cannot come back: a letter forgotten (``ledger forget``) is
    printed again only after it is forgotten again.
    """
    damaged_copy = None
    try:
        ledger = Ledger.open(path)
    except LedgerError:
        if not path.exists():
            raise
        damaged_copy = path.with_name(f"{path.name}.damaged-{now:%Y%m%d-%H%M%S}")
        path.replace(damaged_copy)
        for suffix in ("-journal", "-wal", "-shm"):  # a damaged file's journal is not ours
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.replace(damaged_copy.with_name(damaged_copy.name + suffix))
        ledger = Ledger.open(path)
    added, letters = [], 0
    with ledger:
        known = ledger.batch_names()
        for folder in batch_folders(out_dir):
            if folder.name in known:
                continue
            manifest = folder / "manifest.csv"
            try:
                records = read_manifest(manifest)
            except (OSError, KeyError, ValueError, csv.Error, UnicodeDecodeError):
                raise LedgerError(
                    f"không đọc được {manifest} (a batch's manifest cannot be read)",
                    hint="Đổi tên thư mục lô đó (ví dụ thêm -hong) rồi chạy lại lệnh.",
                ) from None
            written = datetime.fromtimestamp(manifest.stat().st_mtime).astimezone()
            batch_id = ledger.begin_batch(folder, now=written)
            ledger.record_batch(batch_id, records, now=written, state=REBUILT)
            added.append(folder)
            letters += len(records)
    return Rebuild(path, damaged_copy, added, letters)
