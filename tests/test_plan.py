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


def test_only_registrations_sharing_an_event_are_walked_and_the_duplicates_are_the_same():
    """_same_in_run sorts and walks only the registrations whose event ID or name another
    one has: the outcome is the rule's own, walking every registration (as written here)."""
    import random
    from dataclasses import dataclass, replace

    from cchc_letters.identity import Identity
    from cchc_letters.models import SourceRef
    from cchc_letters.plan import DUPLICATE, NEW, Plan, Planned, _same_in_run

    @dataclass(frozen=True)
    class Row:  # what the rule reads of a registration
        registration_date: date
        source: SourceRef
        number: str

    def every_row(plan: Plan, fresh: list[int], events: dict[int, Identity]) -> None:
        rows = plan.rows
        order = sorted(
            fresh, key=lambda i: (rows[i].registration.registration_date, i), reverse=True
        )
        by_id: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        for i in order:
            event = events[i]
            kept = by_id.get(event.by_id) if event.by_id else None
            if kept is None and event.by_name:
                kept = next(
                    (j for j in by_name.get(event.by_name, ()) if event.same(events[j])), None
                )
            if kept is None:
                if event.by_id:
                    by_id[event.by_id] = i
                if event.by_name:
                    by_name.setdefault(event.by_name, []).append(i)
                continue
            rows[i] = replace(rows[i], status=DUPLICATE, previous=kept)

    chance = random.Random(17)
    for _ in range(30):
        count = chance.randint(1, 60)
        events = {
            i: Identity(
                chance.choice([None, *(f"id{n}" for n in range(count // 2 + 1))]),
                chance.choice([None, *(f"name{n}" for n in range(count // 2 + 1))]),
            )
            for i in range(count)
        }
        rows = [
            Row(date(2026, 11, chance.randint(1, 3)), SourceRef("a.csv", None, i + 2), str(i))
            for i in range(count)
        ]
        fresh = [i for i in range(count) if chance.random() < 0.9]
        ours, theirs = Plan(), Plan()
        for plan in (ours, theirs):
            plan.rows = [Planned(str(i), r, NEW) for i, r in enumerate(rows)]  # type: ignore[arg-type]
        _same_in_run(ours, fresh, events)
        every_row(theirs, fresh, events)
        assert [r.status for r in ours.rows] == [r.status for r in theirs.rows]
        kept_by = {r.key: r.issue.message for r in ours.rows if r.issue}
        named = {r.key: str(r.previous) for r in theirs.rows if r.status == DUPLICATE}
        assert all(f"và {named[k]})" in kept_by[k] for k in named)  # the same kept row
