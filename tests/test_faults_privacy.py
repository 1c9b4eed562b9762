"""ID numbers in logs and failed/*.reason.txt (issue 11, item 15): every form validation
accepts is masked, wherever it appears (also in the file's name, the reason's first line)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cchc_letters.logs import day_log, mask_ids
from cchc_letters.pipeline import BatchOptions
from cchc_letters.validate import _personal_id
from cchc_letters.watch import FAILED, process_inbox

ID = "079226000202"
FORMS = [
    "079226000202",
    "079 226 000 202",
    "079.226.000.202",
    "0792 2600 0202",
    "079 226000202",
    "079  226\t000 202",
    "079. 226. 000. 202",
    "CCCD số 079226000202, cấp ngày 01/02/2021",
]


@pytest.mark.parametrize("form", FORMS)
def test_every_form_validation_accepts_is_masked(form):
    assert _personal_id(form) == ID  # validation reads this form as the ID
    masked = mask_ids(f"dòng 5: {form} (x)")
    digits = re.sub(r"\D", "", masked.split(": ", 1)[1])
    assert "079226" not in digits and "226000" not in digits, masked
    assert masked.count("*") == 9 and "202" in masked


def test_what_is_not_an_id_is_left_alone():
    text = "2026-11-27 10:00:01,123 hash a079226000202b 0912 345 678 dòng 12345"
    assert mask_ids(text) == text


def test_a_failed_file_named_by_an_id_is_masked_in_its_reason_and_the_log(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    name = "CCCD 079 226 000 202.csv"
    (inbox / name).write_bytes(b"")  # empty: goes to failed/

    def options_for(path: Path) -> BatchOptions:
        return BatchOptions(inputs=[path], out_dir=out, letter_date=date(2026, 11, 27))

    now = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    with day_log(out, now):
        done = process_inbox(
            inbox, options_for, today=date(2026, 11, 27), settle=0, sleep=lambda s: 0
        )
    assert [o.status for o in done.outcomes] == [FAILED]
    reason = (inbox / FAILED / f"{name}.reason.txt").read_text(encoding="utf-8")
    first_line = reason.splitlines()[0]
    assert "*** *** *** 202" in first_line and "079" not in reason
    [log] = (out / "logs").glob("*.log")
    text = log.read_text(encoding="utf-8")
    assert "202.csv" in text and "079 226" not in text
