"""Searching printed letters (lookup.py, the office app's ledger page): newest first, by name,
key or date, reading the ledger newest first and a manifest only when it is needed."""

from __future__ import annotations

import json
import unicodedata
from datetime import date

import pytest
from fault_helpers import generate_args
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import write_births
from typer.testing import CliRunner

from cchc_letters import lookup
from cchc_letters.cli import app
from cchc_letters.ledger import Ledger, default_path

runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """An output folder of four batches: births 1-6, then 7-12, 13-18 and 19-24."""
    tmp = tmp_path_factory.mktemp("lookup")
    out = tmp / "out"
    for first in (1, 7, 13, 19):
        export = write_births(tmp / f"d{first}.csv", range(1, first + 6))  # cumulative
        result = runner.invoke(app, generate_args([export], out, "--json"))
        assert result.exit_code == 0, result.output
        assert sum(json.loads(result.stdout)["letters"].values()) == 6
    return out


def everything(book: Ledger, query: str) -> list[lookup.FoundLetter]:
    """The search done the plain way: every letter with its manifest, newest first, kept
    when its addressee or key contains the query, or it was registered or printed that day."""
    letters = lookup.with_manifests(book.entries())[::-1]
    text = query.strip()
    if not text:
        return letters
    day = lookup.query_date(text)
    if day is not None:
        iso = day.isoformat()
        return [x for x in letters if iso in (x.registration_date, x.entry.printed_at[:10])]
    wanted = lookup.fold(text)
    return [
        x
        for x in letters
        if wanted in lookup.fold(x.addressee) or wanted in lookup.fold(x.entry.key)
    ]


def test_the_search_finds_what_reading_every_letter_finds(out):
    with Ledger.open(default_path(out), create=False) as book:
        printed_on = date.fromisoformat(book.entries()[0].printed_at[:10])
        queries = [
            "", "nguyen van an", "NGUYỄN VĂN ÂN", "Lê Thị Hồng", "2026:1/2026:1", "khong co ai",
            "05/11/2026", "2026-11-20", printed_on.strftime("%d/%m/%Y"),
        ]  # fmt: skip
        for query in queries:
            for limit in (1, 5, 500):
                expected = everything(book, query)[:limit]
                assert lookup.search_letters(book, query, limit=limit) == expected, query
        assert len(lookup.search_letters(book, "")) == 24
        assert lookup.search_letters(book, "05/11/2026")[0].registration_number == "05"


@pytest.fixture
def read(monkeypatch) -> list[str]:
    """The batch folders whose manifest was read, in order (from now on)."""
    names: list[str] = []
    reading = lookup._read_manifest

    def counting(path):
        names.append(path.parent.name)
        return reading(path)

    monkeypatch.setattr(lookup, "_read_manifest", counting)
    return names


def test_the_newest_letters_need_only_the_newest_manifests(out, read, monkeypatch):
    monkeypatch.setattr(lookup, "_kept", lookup._Kept())
    with Ledger.open(default_path(out), create=False) as book:
        newest = lookup.search_letters(book, "", limit=6)
        assert [x.entry.batch for x in newest] == ["batch-2026-11-27-004"] * 6
        assert read == ["batch-2026-11-27-004"]
        lookup.search_letters(book, "khong co ai")  # every letter looked at …
        assert sorted(read) == [f"batch-2026-11-27-00{n}" for n in (1, 2, 3, 4)]
        lookup.search_letters(book, "khong co ai")  # … and the manifests kept for the next
        assert len(read) == 4
        manifest = out / "batch-2026-11-27-002" / "manifest.csv"
        before = manifest.read_bytes()
        manifest.write_bytes(before + b"\n")  # a manifest that changed is read again
        try:
            lookup.search_letters(book, "khong co ai")
        finally:
            manifest.write_bytes(before)
        assert len(read) == 5 and read[-1] == "batch-2026-11-27-002"


def test_the_kept_manifests_stay_under_their_limit_the_longest_unused_dropped(
    out, read, monkeypatch
):
    monkeypatch.setattr(lookup, "MANIFEST_CACHE_LETTERS", 12)  # two batches of six letters
    kept = lookup._Kept()
    batches = [out / f"batch-2026-11-27-00{n}" / "manifest.csv" for n in (1, 2, 3, 4)]
    for path in batches[:2]:
        kept.rows(path)
    kept.rows(batches[0])  # batch 1 used last: batch 2 is now the longest unused
    assert read == ["batch-2026-11-27-001", "batch-2026-11-27-002"]
    assert len(kept.rows(batches[2])) == 6  # over the limit: batch 2 dropped
    kept.rows(batches[0])
    assert read[-1] == "batch-2026-11-27-003"  # batch 1 was kept …
    kept.rows(batches[1])
    assert read[-1] == "batch-2026-11-27-002"  # … batch 2 read again
    monkeypatch.setattr(lookup, "MANIFEST_CACHE_LETTERS", 1)  # smaller than any manifest:
    assert len(kept.rows(batches[3])) == 6  # the one asked for is still kept
    kept.rows(batches[3])
    assert read.count("batch-2026-11-27-004") == 1


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)
NAMES = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " \t\n-'", max_size=40)


@settings(max_examples=400, deadline=None)
@given(st.one_of(NAMES, NAMES.map(lambda t: unicodedata.normalize("NFD", t)), st.text()))
def test_folding_is_the_rule_itself(text):
    """fold's one translation gives what the rule gives: NFD, every combining mark dropped,
    đ as d, lower case, runs of white space as one space (a name typed decomposed, and any
    text at all, too)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert lookup.fold(text) == " ".join(bare.lower().split())


def test_a_batchs_letters_a_page_at_a_time_the_page_asked_for_kept_in_range(out):
    batch = sorted(p for p in out.iterdir() if p.name.startswith("batch-"))[0]
    every = lookup.batch_letters(batch, 1, 100).letters
    assert [letter.position for letter in every] == [1, 2, 3, 4, 5, 6]
    pages = {asked: lookup.batch_letters(batch, asked, 4) for asked in (-1, 0, 1, 2, 3, 99)}
    for asked, shown in pages.items():
        assert (shown.total, shown.pages) == (6, 2)
        first = asked < 2
        assert shown.page == (1 if first else 2)
        assert shown.letters == (every[:4] if first else every[4:])
