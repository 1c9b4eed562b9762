"""Finding printed letters by name, registration key or date: the ledger joined with the
manifests of the batch folders (the ledger itself keeps no names)."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cchc_letters.ledger import Ledger, LedgerEntry

MAX_RESULTS = 500


@dataclass(frozen=True)
class FoundLetter:
    """A ledger row with what its batch's manifest says about it."""

    entry: LedgerEntry
    addressee: str = ""
    registration_number: str = ""
    registration_date: str = ""  # ISO, as in the manifest


def fold(text: str) -> str:
    """Return ``text`` lower-cased without diacritics (đ → d) and without extra spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


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


def _manifest_rows(batch_dir: Path) -> dict[tuple[str, int], dict[str, str]]:
    from cchc_letters.output import MANIFEST_NAME

    path = batch_dir / MANIFEST_NAME
    rows: dict[tuple[str, int], dict[str, str]] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    rows[(row.get("print_file", ""), int(row.get("position") or 0))] = row
                except ValueError:
                    continue
    except OSError:
        pass
    return rows


def with_manifests(entries: list[LedgerEntry]) -> list[FoundLetter]:
    """Return ``entries`` with the addressee, number and date read from their manifests."""
    manifests: dict[str, dict[tuple[str, int], dict[str, str]]] = {}
    found = []
    for entry in entries:
        if entry.batch_dir not in manifests:
            manifests[entry.batch_dir] = _manifest_rows(Path(entry.batch_dir))
        row = manifests[entry.batch_dir].get((entry.print_file, entry.position), {})
        found.append(
            FoundLetter(
                entry,
                addressee=row.get("addressee", ""),
                registration_number=row.get("registration_number", ""),
                registration_date=row.get("registration_date", ""),
            )
        )
    return found


def search_letters(ledger: Ledger, query: str, *, limit: int = MAX_RESULTS) -> list[FoundLetter]:
    """Return the letters (newest first) whose addressee contains ``query`` (accents and case
    ignored), whose registration key contains it, or — for a date — that were registered or
    printed that day. An empty query returns the newest letters."""
    letters = with_manifests(ledger.entries())
    letters.reverse()
    text = query.strip()
    if not text:
        return letters[:limit]
    day = query_date(text)
    wanted = fold(text)
    hits = []
    for letter in letters:
        if day is not None:
            match = day.isoformat() in (
                letter.registration_date,
                letter.entry.printed_at[:10],
            )
        else:
            match = wanted in fold(letter.addressee) or wanted in fold(letter.entry.key)
        if match:
            hits.append(letter)
            if len(hits) >= limit:
                break
    return hits


def read_csv_rows(path: Path, limit: int = 100_000) -> list[dict[str, str]]:
    """Return the rows of a CSV the batch writer made (manifest, rejects, changed); [] when
    the file is not there."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = []
            for row in csv.DictReader(fh):
                rows.append(row)
                if len(rows) >= limit:
                    break
            return rows
    except OSError:
        return []
