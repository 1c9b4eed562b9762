"""plan.ledger_plan says, without writing, what the next batch prints: the same rule as
run_batch's selection under the lock."""

from __future__ import annotations

from datetime import date

from ledger_helpers import write_births

from cchc_letters.ingest import read_inputs
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.plan import ledger_plan
from cchc_letters.validate import validate_rows

DAY = date(2026, 11, 27)


def registrations(path):
    return validate_rows(read_inputs([path]).rows, letter_date=DAY).registrations


def test_plan_matches_what_the_next_batch_does(tmp_path):
    out = tmp_path / "out"
    export = tmp_path / "births.csv"
    write_births(export, [1, 2, 3])
    plan = ledger_plan(registrations(export), out_dir=out)
    assert [r.registration.number for r in plan.new] == ["01", "02", "03"]
    assert not (out / "ledger.sqlite3").exists()  # asking writes nothing
    run_batch(BatchOptions(inputs=[export], out_dir=out, letter_date=DAY))
    # a cumulative export: 1-3 printed, 2 corrected, 4 new
    write_births(export, [1, 2, 3, 4], names={2: "Nguyễn Văn Sửa Tên"})
    plan = ledger_plan(registrations(export), out_dir=out)
    assert [r.registration.number for r in plan.new] == ["04"]
    assert [r.registration.number for r in plan.printed] == ["01", "03"]
    assert [r.registration.number for r in plan.changed] == ["02"]
    assert plan.changed[0].previous.batch == "batch-2026-11-27-001"
    result = run_batch(BatchOptions(inputs=[export], out_dir=out, letter_date=DAY))
    assert [p.registration.number for p in result.printed] == ["04"]
    assert result.skipped_already_printed == len(plan.printed)
    assert [c.key for c in result.changed] == [r.key for r in plan.changed]
