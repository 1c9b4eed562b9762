"""Finding printed letters by name, registration key or date: the ledger joined with the
manifests of the batch folders (the ledger itself keeps no names)."""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path

from cchc_letters.kept import Kept, file_stamp
from cchc_letters.ledger import Ledger, LedgerEntry

MAX_RESULTS = 500


@dataclass(frozen=True)
class FoundLetter:
    """A ledger row with what its batch's manifest says about it."""

    entry: LedgerEntry
    addressee: str = ""
    registration_number: str = ""
    registration_date: str = ""  # ISO, as in the manifest
    folded_addressee: str = ""  # (fold(addressee), for matching)
    kind: str = ""  # as in the manifest: birth, marriage, death


@dataclass(frozen=True)
class ManifestLetter:
    """A letter as its batch's manifest lists it (the office app's batch and letter pages)."""

    print_file: str
    position: int
    addressee: str
    kind: str
    registration_number: str


@dataclass(frozen=True)
class LettersPage:
    """One page of a batch's letters (``batch_letters``)."""

    total: int  # letters in the batch
    page: int  # this page's number, from 1
    pages: int  # pages in all (1 for an empty batch)
    letters: list[ManifestLetter]


def fold(text: str) -> str:
    """Return ``text`` lower-cased without diacritics (đ → d) and without extra spaces."""
    if not text.isascii():  # (a registration key is)
        bare = text.translate(_BARE)
        text = bare if bare.isascii() else _bare_by_rule(text)
    return " ".join(text.lower().split())


def _bare_by_rule(text: str) -> str:
    """``text`` without its combining marks after NFD, đ as d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Each letter of the Latin blocks (Vietnamese's among them) and each combining mark, mapped to
# what ``_bare_by_rule`` leaves of it: one str.translate folds a Vietnamese name, where the
# rule's NFD and a test per character took half as long again over a province's 97,365
# addressees (0.6 s against 0.38 s, in turns). A text with anything else left goes by the rule.
_BARE = {
    code: _bare_by_rule(chr(code)) or None
    for block in (range(0xC0, 0x250), range(0x300, 0x370), range(0x1E00, 0x1F00))
    for code in block
    if _bare_by_rule(chr(code)) != chr(code)
}


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def query_date(text: str) -> date | None:
    """Return the date written as YYYY-MM-DD or DD/MM/YYYY, else None."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    found = _DMY.match(text)
    if found:
        try:
            return date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            return None
    return None


# What is kept of each manifest row: (addressee, registration number, date, the addressee
# folded for matching, kind), by (print file, position), in the manifest's order.
_Said = tuple[str, str, str, str, str]
_NOTHING: _Said = ("", "", "", "", "")
_Rows = dict[tuple[str, int], _Said]
_COLUMNS = (
    "print_file", "position", "addressee", "registration_number", "registration_date", "kind"
)  # fmt: skip

# Manifests read, kept between searches: the office app searches again and again, and a
# batch folder's manifest does not change once the folder is in place (a province's year is
# one 61 MB manifest, 0.7 s to read). Each is kept with the size and modification time it
# was read at, and read again when they differ; at most this many letters are kept (about
# 40 MB), the longest unused dropped first. The office app asks from several threads at once
# (its pages run outside the event loop): a manifest asked for by two pages at once is read
# once, and a page asking for another batch's does not wait behind that read (kept.Kept).
MANIFEST_CACHE_LETTERS = 200_000


class _Kept(Kept[Path, _Rows]):
    """Manifests read, by path, with the (size, modification time) each was read at."""

    def __init__(self) -> None:
        super().__init__(MANIFEST_CACHE_LETTERS, weight=len)

    @property
    def limit(self) -> int:
        return MANIFEST_CACHE_LETTERS  # read when a manifest is kept (tests lower it)

    def rows(self, path: Path) -> _Rows:
        """Return ``_read_manifest(path)``, read again only when the file has changed."""
        stamp = file_stamp(path)
        return {} if stamp is None else self.get(path, stamp, lambda: _read_manifest(path))


_kept = _Kept()


def _manifest_rows(batch_dir: Path) -> dict[tuple[str, int], _Said]:
    """Return what the batch's manifest says of each letter, by (print file, position)."""
    from cchc_letters.output import MANIFEST_NAME

    return _kept.rows(batch_dir / MANIFEST_NAME)


def _read_manifest(path: Path) -> dict[tuple[str, int], _Said]:
    rows: dict[tuple[str, int], _Said] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            heading = next(reader, [])
            at = [heading.index(c) if c in heading else None for c in _COLUMNS]
            whole = itemgetter(*at) if None not in at else None  # (every column there)
            for row in reader:
                try:
                    if whole is None:
                        raise IndexError
                    file, position, addressee, number, registered, kind = whole(row)
                except IndexError:  # a column missing, or a short row
                    file, position, addressee, number, registered, kind = (
                        row[i] if i is not None and i < len(row) else "" for i in at
                    )
                try:
                    rows[(file, int(position or 0))] = (
                        addressee, number, registered, fold(addressee), kind
                    )  # fmt: skip
                except ValueError:
                    continue
    except (OSError, csv.Error, UnicodeDecodeError):
        pass
    return rows


class _Manifests:
    """The manifests of the batch folders, each read when one of its letters is first asked
    about (a search that has its results early reads no more of them)."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[tuple[str, int], _Said]] = {}

    def said(self, entry: LedgerEntry) -> _Said:
        """Return what the manifest of ``entry``'s batch says of it."""
        rows = self._rows.get(entry.batch_dir)
        if rows is None:
            rows = self._rows[entry.batch_dir] = _manifest_rows(Path(entry.batch_dir))
        return rows.get((entry.print_file, entry.position), _NOTHING)

    def found(self, entry: LedgerEntry) -> FoundLetter:
        """Return ``entry`` with the addressee, number and date its batch's manifest gives."""
        return FoundLetter(entry, *self.said(entry))


def with_manifests(entries: list[LedgerEntry]) -> list[FoundLetter]:
    """Return ``entries`` with the addressee, number and date read from their manifests."""
    manifests = _Manifests()
    return [manifests.found(entry) for entry in entries]


def search_letters(ledger: Ledger, query: str, *, limit: int = MAX_RESULTS) -> list[FoundLetter]:
    """Return the letters (newest first) whose addressee contains ``query`` (accents and case
    ignored), whose registration key contains it, or — for a date — that were registered or
    printed that day. An empty query returns the newest letters.

    The ledger is read newest first and the search stops at ``limit`` letters; a manifest is
    read only for a letter that its ledger row alone does not settle (a ledger of 100,000
    letters took 4-8 s a search when every row and manifest was read first).
    """
    text = query.strip()
    day = query_date(text) if text else None
    wanted = fold(text)
    manifests = _Manifests()
    hits: list[FoundLetter] = []
    for entry in ledger.newest_first():
        if not text or _row_matches(entry, day, wanted):
            hits.append(manifests.found(entry))
        elif _manifest_matches(manifests.said(entry), day, wanted):
            hits.append(manifests.found(entry))
        if len(hits) >= limit:
            break
    return hits


def _row_matches(entry: LedgerEntry, day: date | None, wanted: str) -> bool:
    """True when the ledger row matches by itself: printed on ``day``, or a key with ``wanted``."""
    if day is not None:
        return entry.printed_at[:10] == day.isoformat()
    return wanted in fold(entry.key)


def _manifest_matches(said: _Said, day: date | None, wanted: str) -> bool:
    """True when the manifest's row matches: registered on ``day``, or an addressee with
    ``wanted``."""
    if day is not None:
        return said[2] == day.isoformat()
    return wanted in said[3]


def batch_letters(batch_dir: Path, page: int, per_page: int) -> LettersPage:
    """Return page ``page`` (from 1; the last one when ``page`` is past it) of the batch's
    letters, ``per_page`` to a page, in the manifest's order (a province's year is 100,000
    letters: the office app shows them a page at a time). The count and the letters come
    from one reading of the manifest."""
    rows = _manifest_rows(batch_dir)
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    chosen = itertools.islice(rows.items(), start, start + per_page)
    return LettersPage(len(rows), page, pages, [_letter(place, said) for place, said in chosen])


def letter_in_batch(
    batch_dir: Path, print_file: str, position: int
) -> tuple[ManifestLetter | None, int]:
    """Return the letter at ``position`` of ``print_file`` (None when the manifest does not
    list it) and how many letters that print file holds."""
    rows = _manifest_rows(batch_dir)
    said = rows.get((print_file, position))
    in_file = sum(1 for file, _ in rows if file == print_file)
    return (None if said is None else _letter((print_file, position), said)), in_file


def _letter(place: tuple[str, int], said: _Said) -> ManifestLetter:
    return ManifestLetter(place[0], place[1], said[0], said[4], said[1])


def read_csv_rows(path: Path, limit: int = 100_000) -> list[dict[str, str]]:
    """Return the first ``limit`` rows of a CSV the batch writer made (manifest, rejects,
    changed); [] when the file is not there."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(itertools.islice(csv.DictReader(fh), limit))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []


def count_csv_rows(path: Path) -> int:
    """Return how many rows (below its heading) a CSV the batch writer made has; 0 when the
    file is not there."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return max(0, sum(1 for _ in csv.reader(fh)) - 1)
    except (OSError, csv.Error, UnicodeDecodeError):
        return 0
