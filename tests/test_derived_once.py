"""Each derived value of a registration is computed once per row in a batch (issue 17):
the content hash, its fields' meaning, the key and the identities are asked for by the
manifest, the ledger, the selection and the delivery sheet, and were computed up to 16
times per row."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

from cchc_letters import identity, models
from cchc_letters.pipeline import BatchOptions, run_batch

LETTER_DATE = date(2026, 11, 27)
HEADER = "kind,registration_number,book_number,registration_date,child_name,child_sex,child_birth_date,mother_name,mother_residence\n"
ROWS = [
    f"khai sinh,{n:02d},01/2026,20/11/2026,Nguyễn Gia Bảo {n},Nam,12/11/2026,Phạm Thị Diệp,"
    '"Ấp Suối Nghệ, xã Ngãi Giao"'
    for n in range(1, 6)
]


def _counting(monkeypatch, owner, name: str, calls: Counter) -> None:
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_a_batch_computes_each_derived_value_once_per_letter(tmp_path: Path, monkeypatch):
    source = tmp_path / "input.csv"
    source.write_text(HEADER + "".join(r + "\n" for r in ROWS), encoding="utf-8")
    calls: Counter = Counter()
    _counting(monkeypatch, models.Registration, "_packed_hash", calls)
    _counting(monkeypatch, models.Registration, "_meaning", calls)
    _counting(monkeypatch, identity, "_event", calls)
    _counting(monkeypatch, identity, "_subject", calls)
    _counting(monkeypatch, models.RegistrationKey, "__post_init__", calls)
    result = run_batch(
        BatchOptions(inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE)
    )
    assert sum(result.letters.values()) == len(ROWS)
    # keys: each registration's once, within the commune (validation compares the key's
    # parts without making one); the ledger takes those (it parses no key back from its text)
    assert calls == {
        "_packed_hash": 5,
        "_meaning": 5,
        "_event": 5,
        "_subject": 5,
        "__post_init__": 5,
    }
    assert (result.batch_dir / "manifest.csv").read_text(encoding="utf-8").count("m1:") == 5


def test_a_remembered_value_is_no_field():
    registration = models.Birth(
        kind=models.Kind("birth"),
        number="05",
        book="01/2026",
        registration_date=LETTER_DATE,
        source=models.SourceRef("a.csv", None, 2),
        raw={"registration_number": "05", "child_name": "AN"},
        child=models.Person("An"),
    )
    fresh = replace(registration)
    first = registration.content_hash()
    assert registration.key("x") is registration.key("x")
    assert registration == fresh and repr(registration) == repr(fresh)
    changed = replace(registration, raw={"registration_number": "06", "child_name": "AN"})
    assert changed.content_hash() != first  # replace() starts with nothing remembered
    assert registration.meaning() is not registration.meaning()  # each caller its own dict


def test_forked_writers_leave_this_process_the_manifest_work_to_do_meanwhile(
    tmp_path: Path, monkeypatch
):
    """With worker processes, the hashes and identities are computed here while they
    write: all of them before the first print file comes back."""
    from cchc_letters import writing

    monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", 1)
    monkeypatch.setattr(writing, "worker_count", lambda letters: 2)
    source = tmp_path / "input.csv"
    source.write_text(HEADER + "".join(r + "\n" for r in ROWS), encoding="utf-8")
    calls: Counter = Counter()
    _counting(monkeypatch, models.Registration, "_packed_hash", calls)
    _counting(monkeypatch, identity, "_event", calls)
    seen_at_first_letter: list[Counter] = []

    def progress(done: int, total: int) -> None:
        if done == 1:
            seen_at_first_letter.append(Counter(calls))

    options = BatchOptions(
        inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE, per_file=2
    )
    result = run_batch(options, progress=progress)
    assert len(result.files) == 3
    assert seen_at_first_letter == [Counter({"_packed_hash": 5, "_event": 5})]
    assert calls == {"_packed_hash": 5, "_event": 5}


def test_each_birth_dates_schedule_is_planned_before_the_writers_start(tmp_path: Path, monkeypatch):
    """Planned before the writers fork (they inherit the plans; so do the session lists
    after them): all of them before the first letter is written, once per birth date."""
    from cchc_letters import schedule

    rows = [
        row.replace("12/11/2026", f"{day:02d}/11/2026")
        for row, day in zip(ROWS, (1, 2, 2, 3, 1), strict=True)
    ]
    source = tmp_path / "input.csv"
    source.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(schedule, "_memo", None)
    ours = {date(2026, 11, day) for day in (1, 2, 3)}  # (the template check plans samples)
    planned: list[date] = []
    original = schedule._child_schedule

    def counted(dob, *args):
        if dob in ours:
            planned.append(dob)
        return original(dob, *args)

    monkeypatch.setattr(schedule, "_child_schedule", counted)
    at_first_letter: list[int] = []

    def progress(done: int, total: int) -> None:
        if done == 1:
            at_first_letter.append(len(planned))

    run_batch(
        BatchOptions(inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE),
        progress=progress,
    )
    assert at_first_letter == [3] and sorted(planned) == sorted(ours)


def test_a_batch_runs_with_few_collections_and_restores_the_collector(tmp_path: Path):
    """The cyclic collector rescans a batch's long-lived objects far less often while it runs
    (pipeline.BATCH_GC_THRESHOLDS); afterwards the process has its own thresholds back, also
    when the batch fails (the office app and watch run batch after batch)."""
    import gc

    from cchc_letters.errors import CchcError
    from cchc_letters.pipeline import BATCH_GC_THRESHOLDS

    source = tmp_path / "input.csv"
    source.write_text(HEADER + "".join(r + "\n" for r in ROWS), encoding="utf-8")
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        run_batch(
            BatchOptions(inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE),
            step=lambda name: seen.append(gc.get_threshold()),
        )
        assert seen and set(seen) == {BATCH_GC_THRESHOLDS}
        assert gc.get_threshold() == (700, 10, 10)
        missing = tmp_path / "missing.csv"
        try:
            run_batch(
                BatchOptions(inputs=[missing], out_dir=tmp_path / "o2", letter_date=LETTER_DATE)
            )
        except CchcError:
            pass
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
