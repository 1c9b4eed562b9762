"""A registration's content hash is over its normalised meaning, not over whichever columns
happened to be mapped; ledgers written by earlier versions keep working."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ingest import read_inputs
from cchc_letters.models import MEANING_PREFIX
from cchc_letters.validate import validate_rows

runner = CliRunner()
FIXTURE = Path(__file__).parent / "fixtures" / "ledger-0.1"
EXPORTS = [FIXTURE / "sample.csv", FIXTURE / "sample.xlsx", FIXTURE / "births-extra-columns.csv"]
LETTER_DATE = "2026-11-27"


def generate(inputs, out: Path, *extra: str) -> dict:
    args = ["generate", *map(str, inputs), "--out", str(out), "--date", LETTER_DATE, "--json"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code in (0, 3), result.output  # 3: the sample has one bad row
    return json.loads(result.stdout)


def restore_legacy_ledger(out: Path) -> Path:
    out.mkdir()
    ledger = out / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:
        db.executescript((FIXTURE / "ledger.sql").read_text(encoding="utf-8"))
    db.close()
    return ledger


def test_a_ledger_written_by_0_1_finds_every_letter_already_printed(tmp_path):
    out = tmp_path / "out"
    restore_legacy_ledger(out)
    # The fixture has columns 0.1 ignored; they are read now, and still nothing is "changed".
    checked = read_inputs([FIXTURE / "births-extra-columns.csv"])
    mapped = dict(checked.files[0].tables[0].columns)
    assert mapped["Dân tộc người mẹ"] == "mother_ethnicity"
    assert mapped["Nơi thường trú/tạm trú của mẹ"] == "mother_residence"
    again = generate(EXPORTS, out)
    assert again["changed"] == []
    assert again["skipped_already_printed"] == 11
    assert sum(again["letters"].values()) == 0


def test_a_0_1_ledger_still_sees_a_real_correction(tmp_path):
    out = tmp_path / "out"
    restore_legacy_ledger(out)
    text = (FIXTURE / "births-extra-columns.csv").read_text(encoding="utf-8")
    corrected = tmp_path / "births-extra-columns.csv"
    corrected.write_text(text.replace("LÊ MINH KHOA", "LÊ MINH KHOA ANH"), encoding="utf-8")
    again = generate([FIXTURE / "sample.csv", FIXTURE / "sample.xlsx", corrected], out)
    assert [c["key"].split(":")[-1] for c in again["changed"]] == ["11"]


def births(
    path: Path,
    *,
    extra_heading: str = "Nghề nghiệp của mẹ",
    name: str = "LÊ MINH KHOA",
    born: str = "10/11/2026",
) -> Path:
    path.write_text(
        "Số,Quyển số,Ngày đăng ký,Họ và tên,Giới tính,Ngày sinh,Họ tên mẹ,"
        f"{extra_heading}\n"
        f"11,02/2026,20/11/2026,{name},Nam,{born},NGÔ THỊ LAN,Giáo viên\n",
        encoding="utf-8",
    )
    return path


def test_recognising_one_more_column_is_no_correction(tmp_path):
    out = tmp_path / "out"
    first = generate([births(tmp_path / "a.csv", extra_heading="Nghề của mẹ")], out)
    assert first["letters"]["birth"] == 1
    # A newer vocabulary (here: a mapping added) reads the extra column as the mother's
    # residence: the registration did not change.
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[fields.mother_residence]\nheadings = ["Nghề của mẹ"]\n', encoding="utf-8")
    again = generate(
        [births(tmp_path / "a.csv", extra_heading="Nghề của mẹ")], out, "--mapping", str(mapping)
    )
    assert again["changed"] == [] and again["skipped_already_printed"] == 1


def test_the_same_meaning_written_differently_is_no_correction(tmp_path):
    out = tmp_path / "out"
    generate([births(tmp_path / "a.csv")], out)
    # capitals -> title case, a date as an Excel serial number, spaces doubled
    again = generate([births(tmp_path / "b.csv", name="Lê  Minh Khoa", born="46336")], out)
    assert again["changed"] == [] and again["skipped_already_printed"] == 1


def test_a_changed_value_is_a_correction(tmp_path):
    out = tmp_path / "out"
    generate([births(tmp_path / "a.csv")], out)
    renamed = generate([births(tmp_path / "b.csv", name="LÊ MINH KHÔI")], out)
    assert len(renamed["changed"]) == 1
    reborn = generate([births(tmp_path / "c.csv", born="11/11/2026")], out)
    assert len(reborn["changed"]) == 1


def test_an_emptied_cell_is_a_correction_a_missing_column_is_not(tmp_path):
    rows = read_inputs([births(tmp_path / "a.csv")]).rows
    [full] = validate_rows(rows, letter_date=date(2026, 11, 27)).registrations
    emptied = replace(full, raw={**full.raw, "mother_name": ""}, mother=None)
    fewer = replace(full, raw={k: v for k, v in full.raw.items() if k != "mother_name"})
    stored = full.content_hash()
    assert stored.startswith(MEANING_PREFIX)
    assert full.same_content(stored)
    assert not emptied.same_content(stored)
    assert fewer.same_content(stored)


def test_a_hash_of_no_fields_says_nothing_and_matches_nothing(tmp_path):
    rows = read_inputs([births(tmp_path / "a.csv")]).rows
    [full] = validate_rows(rows, letter_date=date(2026, 11, 27)).registrations
    nothing = replace(full, raw={})
    assert nothing.content_hash() == MEANING_PREFIX
    assert not nothing.same_content(nothing.content_hash())
    assert not full.same_content(MEANING_PREFIX)


def _hash_by_the_rule(registration) -> str:
    """The content hash as its docstring states it: the prefix, then each field's name and
    the first ten hex digits of the SHA-256 of its meaning, in the fields' sorted order."""
    import hashlib

    meaning = registration.meaning()
    return MEANING_PREFIX + ",".join(
        f"{name}={hashlib.sha256(meaning[name].encode()).hexdigest()[:10]}"
        for name in sorted(meaning)
    )


def test_the_hash_kept_packed_reads_as_the_rule_says(tmp_path):
    rows = read_inputs([births(tmp_path / "a.csv")]).rows
    [full] = validate_rows(rows, letter_date=date(2026, 11, 27)).registrations
    one = replace(full, raw={"child_name": full.raw["child_name"]})
    for registration in (full, one):
        assert len(registration.meaning()) == (len(full.raw) if registration is full else 1)
        assert registration.content_hash() == _hash_by_the_rule(registration)
        assert registration.content_hash() == _hash_by_the_rule(registration)  # kept, again


def test_a_batch_keeps_each_rows_hash_in_a_fraction_of_its_text(tmp_path):
    # A batch keeps every letter's content hash from its writing to its commit: packed, it
    # takes well under the 440 bytes its text took (41 MB of a province's year).
    import gc
    import sys
    import tracemalloc

    body = "".join(
        f"{n},02/2026,20/11/2026,LÊ MINH KHOA {n},Nam,10/11/2026,NGÔ THỊ LAN {n},Giáo viên\n"
        for n in range(1, 2001)
    )
    source = tmp_path / "a.csv"
    source.write_text(
        "Số,Quyển số,Ngày đăng ký,Họ và tên,Giới tính,Ngày sinh,Họ tên mẹ,Nghề của mẹ\n" + body,
        encoding="utf-8",
    )
    registrations = validate_rows(
        read_inputs([source]).rows, letter_date=date(2026, 11, 27)
    ).registrations
    assert len(registrations) == 2000
    text = registrations[0].content_hash()
    for copy in map(replace, registrations):  # (the memos of each distinct text, filled)
        copy.remember_content()
    gc.collect()
    tracemalloc.start()
    try:
        for registration in registrations[1:]:
            registration.remember_content()
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_row = kept / (len(registrations) - 1)
    # (the text of these seven fields: 228 bytes; packed: about 130)
    assert per_row < 0.7 * sys.getsizeof(text), (per_row, sys.getsizeof(text))
    assert [r.content_hash() for r in registrations] == list(map(_hash_by_the_rule, registrations))
