"""Faults of an unattended run (issue 11): kills, overlapping runs, a full disk, a damaged or
missing ledger, corrections that change the key, half-copied files in the inbox.

Each test makes its own fault: real processes killed or held at a step (tests/fault_runner.py
injects the pause from the test's side), a small tmpfs that fills up, files cut short.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from fault_helpers import (
    Paused,
    fault_process,
    fill,
    generate_args,
    one_json_object,
    run_cli,
    small_disk,
)
from ledger_helpers import (
    LETTER_DATE,
    completed_batches,
    key,
    printed_counts,
    printed_keys_of,
    write_births,
)
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ledger import Ledger

runner = CliRunner()
FINISH = "cchc_letters.output:finish_batch"  # the rename that makes a batch folder final


def generate(inputs, out: Path, *extra: str, code: int = 0) -> dict:
    result = runner.invoke(app, [*generate_args(inputs, out, "--json"), *extra])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def ledger_keys(ledger: Path) -> set[str]:
    return printed_keys_of(ledger)


def batch_files_match_manifest(out: Path) -> None:
    """Every file of every finished batch is one the run wrote: listed in its manifest, or
    one of the batch's own reports."""
    import csv

    for batch in completed_batches(out):
        with (batch / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
            listed = {row["print_file"] for row in csv.DictReader(fh)}
        own = {"manifest.csv", "rejects.csv", "changed.csv", "giao-thu.docx", "giao-thu.csv"}
        strays = {p.name for p in batch.iterdir()} - listed - own
        assert not strays, f"{batch.name} holds files its run did not write: {strays}"


# ---- 1. workers die with their parent; a run never adopts files it did not write --------


def _children(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX fork and SIGKILL")
def test_worker_processes_die_with_a_killed_run_and_the_rerun_prints_each_letter_once(tmp_path):
    import psutil

    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 401))
    args = generate_args([export], out, "--json", "--per-file", "20")
    env = {"FAULT_WORKERS": "2", "FAULT_SLOW_LETTER": "0.02"}
    run = fault_process(*args, env=env)
    deadline = time.monotonic() + 60
    while not list(out.glob(".incomplete-*/*.docx*")) or len(_children(run.pid)) < 2:
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the workers never started writing"
        time.sleep(0.05)
    workers = _children(run.pid)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)  # not communicate(): workers that outlive it keep its pipes open
    run.stdout.close()
    run.stderr.close()
    try:
        gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"{len(alive)} worker(s) outlived the killed run"
    finally:
        for process in workers:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass

    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    assert one_json_object(stdout)["letters"]["birth"] == 400
    batch_files_match_manifest(out)
    assert printed_counts(out) == {key(n): 1 for n in range(1, 401)}


@pytest.mark.slow
def test_a_file_dropped_into_a_batch_being_written_is_not_adopted(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 4))
    held = Paused(tmp_path, FINISH, *generate_args([export], out, "--json")).wait()
    [staging] = out.glob(".incomplete-*")
    # What a worker of an earlier, killed run writes late into a folder of the same name.
    (staging / "khai-sinh-009.docx").write_bytes(b"PK\x03\x04 a letter of another run")
    code, stdout, stderr = held.release()
    assert code == 0, stderr
    batch_files_match_manifest(out)
    assert printed_counts(out) == {key(n): 1 for n in range(1, 4)}


def test_each_run_stages_its_batch_in_a_folder_of_its_own(tmp_path):
    """A staging folder is never reused by name, so nothing still writing into a dead run's
    folder can land in the next run's batch."""
    from cchc_letters import output

    first, final = output.new_batch_dir(tmp_path, date_of(LETTER_DATE))
    first.rmdir()  # the next run cleaned up after a dead one
    second, final_again = output.new_batch_dir(tmp_path, date_of(LETTER_DATE))
    assert final == final_again and first != second


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)


# ---- 2. the lock belongs to the ledger ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("shared", ["first-out's own ledger", "a ledger elsewhere"])
def test_two_output_folders_sharing_one_ledger_never_both_print(tmp_path, shared):
    export = write_births(tmp_path / "export.csv", range(1, 6))
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    ledger = out_a / "ledger.sqlite3" if shared.startswith("first") else tmp_path / "l.sqlite3"
    first_args = generate_args([export], out_a, "--json")
    if not shared.startswith("first"):
        first_args += ["--ledger", str(ledger)]
    held = Paused(tmp_path, FINISH, *first_args).wait()

    code, _, stderr = run_cli(
        *generate_args([export], out_b, "--ledger", str(ledger), "--wait", "0")
    )
    assert code == 4, stderr
    # the message names what is held: the shared ledger, not the (free) second folder
    assert f"sổ theo dõi {ledger}" in stderr, stderr
    assert f"thư mục {out_b}" not in stderr

    waiting = fault_process(*generate_args([export], out_b, "--json", "--ledger", str(ledger)))
    time.sleep(1.0)
    assert waiting.poll() is None  # waits for the ledger
    code, stdout, stderr = held.release()
    assert code == 0, stderr
    second_out, second_err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, second_err
    assert one_json_object(second_out)["skipped_already_printed"] == 5
    assert printed_counts(out_a) + printed_counts(out_b) == {key(n): 1 for n in range(1, 6)}


# ---- 3. a damaged or missing ledger --------------------------------------------------------


@pytest.fixture
def printed_once(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 4))
    generate([export], out)
    return out, export


@pytest.mark.parametrize("damage", ["junk", "junk after a good header", "cut in half"])
def test_a_damaged_ledger_is_a_fatal_error_with_a_way_out(printed_once, damage):
    out, export = printed_once
    ledger = out / "ledger.sqlite3"
    data = ledger.read_bytes()
    if damage == "junk":
        ledger.write_bytes(os.urandom(len(data)))
    elif damage == "junk after a good header":
        ledger.write_bytes(data[:100] + os.urandom(len(data) - 100))
    else:
        ledger.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, generate_args([export], out, "--json"))
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert str(ledger) in payload["error"] and "ledger rebuild" in payload["hint"]
    assert len(completed_batches(out)) == 1  # nothing printed again

    rebuilt = runner.invoke(app, ["ledger", "rebuild", "--out", str(out)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert list(out.glob("ledger.sqlite3.damaged-*"))  # the damaged file is kept, not deleted
    again = generate([export], out)
    assert again["letters"]["birth"] == 0 and again["skipped_already_printed"] == 3


@pytest.mark.parametrize("loss", ["deleted", "truncated to 0 bytes", "replaced by a new one"])
def test_an_empty_ledger_beside_existing_batches_is_refused_unless_asked(printed_once, loss):
    out, export = printed_once
    ledger = out / "ledger.sqlite3"
    ledger.unlink()
    if loss == "truncated to 0 bytes":
        ledger.write_bytes(b"")
    elif loss == "replaced by a new one":
        Ledger.open(ledger).close()
    result = runner.invoke(app, generate_args([export], out, "--json"))
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert "batch-2026-11-27-001" in payload["error"]
    assert "ledger rebuild" in payload["hint"] and "--new-ledger" in payload["hint"]
    assert len(completed_batches(out)) == 1

    anew = generate([export], out, "--new-ledger")  # the officer says so: printed again
    assert anew["letters"]["birth"] == 3
    settled = generate([export], out)  # and from then on the new ledger is trusted
    assert settled["letters"]["birth"] == 0


def test_ledger_rebuild_records_every_batch_from_its_manifest(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "d1.csv", range(1, 3))], out)
    generate([write_births(tmp_path / "d2.csv", range(1, 5))], out)
    (out / "ledger.sqlite3").unlink()
    rebuilt = runner.invoke(app, ["ledger", "rebuild", "--out", str(out), "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    payload = json.loads(rebuilt.stdout)
    assert payload["letters"] == 4 and len(payload["batches"]) == 2
    assert ledger_keys(out / "ledger.sqlite3") == {key(n) for n in range(1, 5)}
    assert generate([write_births(tmp_path / "d3.csv", range(1, 6))], out)["letters"]["birth"] == 1


def test_a_ledger_restored_from_an_older_copy_is_caught_and_rebuild_adds_what_it_lacks(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "d1.csv", range(1, 3))], out)
    older = (out / "ledger.sqlite3").read_bytes()
    generate([write_births(tmp_path / "d2.csv", range(1, 5))], out)
    (out / "ledger.sqlite3").write_bytes(older)  # "restore the backup" from the day before
    later = write_births(tmp_path / "d3.csv", range(1, 5))
    refused = runner.invoke(app, generate_args([later], out, "--json"))
    assert refused.exit_code == 1 and "batch-2026-11-27-002" in refused.stdout
    assert runner.invoke(app, ["ledger", "rebuild", "--out", str(out)]).exit_code == 0
    assert generate([later], out)["letters"]["birth"] == 0


def test_one_off_batches_in_the_output_folder_do_not_make_the_ledger_look_lost(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 3))
    generate([export], out, "--no-ledger")
    assert generate([export], out)["letters"]["birth"] == 2


# ---- 6. watch and the inbox -------------------------------------------------------------------


def _watch(inbox: Path, out: Path, *extra: str):
    return runner.invoke(
        app,
        ["watch", str(inbox), "--out", str(out), "--once", "--settle", "0", "--date", LETTER_DATE,
         *extra],
    )  # fmt: skip


def _births_xlsx(path: Path, numbers) -> Path:
    import openpyxl
    from ledger_helpers import HEADER, child_name

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for n in numbers:
        sheet.append(
            ["khai sinh", f"{n:02d}", "01/2026", "20/11/2026", child_name(n), "Nam",
             "01/11/2026", "Trạm Y tế xã Ngãi Giao", "Lê Thị Hồng", 1996,
             "Ấp Suối Nghệ, xã Ngãi Giao", "Lê Thị Hồng", "mẹ"]
        )  # fmt: skip
    book.save(path)
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_watch_leaves_a_file_cut_short_in_the_inbox_however_long_it_pauses(tmp_path, kind):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    whole = tmp_path / f"whole.{kind}"
    if kind == "csv":
        write_births(whole, range(1, 30))
    else:
        _births_xlsx(whole, range(1, 30))
    data = whole.read_bytes()
    cut = inbox / f"export.{kind}"
    cut.write_bytes(data[: len(data) * 2 // 3])  # the copy paused here, longer than --settle
    now = time.time()  # written just now by this test's clock (faketime moves it, not mtimes)
    os.utime(cut, (now, now))
    result = _watch(inbox, out)
    assert cut.exists(), result.output  # still in the inbox, not processed, not failed/
    assert not (inbox / "failed").exists() and not (inbox / "processed").exists()
    assert not completed_batches(out)
    assert "export." in result.output

    cut.write_bytes(data)  # the copy finished
    result = _watch(inbox, out)
    assert result.exit_code == 0, result.output
    assert printed_counts(out) == {key(n): 1 for n in range(1, 30)}


def test_watch_with_the_inbox_as_output_folder_works(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_births(inbox / "export.csv", range(1, 4))
    result = _watch(inbox, inbox)
    assert result.exit_code == 0, result.output
    assert printed_counts(inbox) == {key(n): 1 for n in range(1, 4)}
    assert list((inbox / "processed").glob("*/export.csv"))


@pytest.mark.slow
def test_a_file_that_crashes_the_tool_stops_blocking_the_others_after_two_tries(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    poison = write_births(inbox / "a-poison.csv", range(1, 3))
    good = write_births(inbox / "b-good.csv", range(3, 5))
    os.utime(poison, (1, 1))  # oldest: looked at first
    args = ["watch", str(inbox), "--out", str(out), "--once", "--settle", "0", "--date",
            LETTER_DATE]  # fmt: skip
    for _ in range(2):  # the tool dies on it (as a native crash would), twice
        code, _, _ = run_cli(*args, env={"FAULT_DIE_ON": "a-poison"})
        assert code == 134
    code, stdout, stderr = run_cli(*args, env={"FAULT_DIE_ON": "a-poison"})
    assert code == 3, stderr
    assert not good.exists() and printed_counts(out) == {key(3): 1, key(4): 1}
    [failed] = (inbox / "failed").glob("a-poison*.csv")
    reason = failed.with_name(failed.name + ".reason.txt").read_text(encoding="utf-8")
    assert "2" in reason and "a-poison.csv" in reason


# ---- 10/11. a full disk --------------------------------------------------------------------


@pytest.mark.parametrize("json_output", [False, True])
def test_disk_full_while_writing_is_a_clear_error_and_records_nothing(tmp_path, json_output):
    with small_disk(tmp_path / "disk", "1m") as disk:
        out = disk / "out"
        export = write_births(tmp_path / "export.csv", range(1, 41))
        code, _, stderr = run_cli(*generate_args([write_births(tmp_path / "one.csv", [50])], out))
        assert code == 0, stderr  # a ledger and a batch exist
        fill(disk, leave=20_000)
        extra = ["--json"] if json_output else []
        code, stdout, stderr = run_cli(*generate_args([export], out, *extra))
        assert code == 1, stderr
        assert "Traceback" not in stderr and "disk" in stderr.lower()
        if json_output:
            payload = one_json_object(stdout)
            assert payload["exit_code"] == 1 and "disk" in payload["error"].lower()
        else:
            assert stdout.strip() == "" or "Traceback" not in stdout
        assert len(completed_batches(out)) == 1
        assert ledger_keys(out / "ledger.sqlite3") == {"26575:birth:2026:1/2026:50"}


def test_disk_full_at_the_ledger_commit_says_the_batch_is_in_place(tmp_path):
    out = tmp_path / "out"
    # The rows go into the transaction before the rename (and into SQLite's journal), so the
    # disk fills just before the commit: enough letters that the commit must grow the file.
    count = 60
    export = write_births(tmp_path / "export.csv", range(1, count + 1))
    with small_disk(tmp_path / "disk", "512k") as disk:
        ledger = disk / "ledger.sqlite3"
        args = generate_args([export], out, "--json", "--ledger", str(ledger))
        held = Paused(tmp_path, FINISH, *args).wait()
        filler = fill(disk)
        code, stdout, stderr = held.release()
        assert "Traceback" not in stderr
        payload = one_json_object(stdout)
        assert code == 5 and payload["exit_code"] == 5
        [batch] = completed_batches(out)
        assert payload["batch_dir"] == str(batch) and payload["letters"]["birth"] == count
        assert str(batch) in payload["error"]
        filler.unlink()
        code, stdout, stderr = run_cli(*args)
        assert code == 0, stderr
        assert one_json_object(stdout)["recovered_batches"] == [str(batch)]
        assert ledger_keys(ledger) == {key(n) for n in range(1, count + 1)}
        assert printed_counts(out) == {key(n): 1 for n in range(1, count + 1)}


def test_watch_leaves_a_good_export_in_the_inbox_when_the_disk_is_full(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = write_births(inbox / "export.csv", range(1, 41))
    with small_disk(tmp_path / "disk", "1m") as disk:
        out = disk / "out"
        code, _, stderr = run_cli(*generate_args([write_births(tmp_path / "one.csv", [50])], out))
        assert code == 0, stderr
        fill(disk, leave=20_000)
        code, stdout, stderr = run_cli(
            "watch", str(inbox), "--out", str(out), "--once", "--settle", "0", "--date",
            LETTER_DATE,
        )  # fmt: skip
        assert code == 1, stderr
        assert "Traceback" not in stderr and "disk" in stderr.lower()
        assert export.exists() and not (inbox / "failed").exists()


# ---- 4. corrections that change the key ------------------------------------------------------


def test_a_correction_of_the_book_number_is_a_corrected_record_not_a_new_letter(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "day1.csv", range(1, 4))], out)
    day2 = tmp_path / "day2.csv"
    write_births(day2, range(1, 4))
    day2.write_text(  # registration 2 was written in the wrong book: 01/2026 -> 02/2026
        day2.read_text(encoding="utf-8").replace("khai sinh,02,01/2026", "khai sinh,02,02/2026"),
        encoding="utf-8",
    )
    report = generate([day2], out)
    assert report["letters"]["birth"] == 0 and report["skipped_already_printed"] == 2
    [changed] = report["changed"]
    assert changed["key"] == "26575:birth:2026:2/2026:2"
    assert changed["printed_key"] == key(2) and changed["reprinted"] is False
    assert "26575:birth:2026:2/2026:2" in Path(report["changed_file"]).read_text("utf-8-sig")

    reprint = generate([day2], out, "--reprint-changed")
    assert reprint["letters"]["birth"] == 1
    settled = generate([day2], out)
    assert settled["letters"]["birth"] == 0 and settled["changed"] == []
    keys = ledger_keys(out / "ledger.sqlite3")
    assert key(2) not in keys and "26575:birth:2026:2/2026:2" in keys  # old letter superseded


def test_a_new_registration_of_another_child_is_not_taken_for_a_correction(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "day1.csv", range(1, 3))], out)
    # Same number in another book, but another child (other name): a new letter.
    day2 = tmp_path / "day2.csv"
    write_births(day2, [1, 2])
    text = day2.read_text(encoding="utf-8")
    extra = text.splitlines()[2].replace("khai sinh,02,01/2026", "khai sinh,02,02/2026")
    extra = extra.replace("Nguyễn Văn Châu 02", "Phạm Thị Mai")
    day2.write_text(text + extra + "\n", encoding="utf-8")
    report = generate([day2], out)
    assert report["letters"]["birth"] == 1 and report["changed"] == []


def test_the_personal_id_decides_when_both_records_have_one():
    from cchc_letters.identity import Identity

    printed = Identity(by_id="id-1", by_name="name-and-date-1")
    assert printed.same(Identity("id-1", "name-and-date-2"))  # name corrected, same ID
    assert not printed.same(Identity("id-2", "name-and-date-1"))  # another person's ID
    assert printed.same(Identity(None, "name-and-date-1"))  # no ID: name and date decide
    assert not Identity(None, None).same(Identity(None, None))  # nothing known: never same


def test_a_ledger_of_schema_4_is_migrated_and_keeps_its_letters(tmp_path):
    import sqlite3

    out = tmp_path / "out"
    generate([write_births(tmp_path / "d1.csv", range(1, 3))], out)
    path = out / "ledger.sqlite3"
    db = sqlite3.connect(path)  # back to schema 4: no identity columns
    db.executescript(
        "DROP INDEX letters_by_event_id; DROP INDEX letters_by_event_name;"
        "DROP INDEX letters_by_person_id; DROP INDEX letters_by_person_name;"
        "ALTER TABLE letters DROP COLUMN event_id; ALTER TABLE letters DROP COLUMN event_name;"
        "ALTER TABLE letters DROP COLUMN person_id; ALTER TABLE letters DROP COLUMN person_name;"
        "PRAGMA user_version = 4;"
    )
    db.close()
    again = generate([write_births(tmp_path / "d2.csv", range(1, 4))], out)
    assert again["letters"]["birth"] == 1 and again["skipped_already_printed"] == 2
    with Ledger.open(path, create=False) as book:
        assert book.version == 6  # 5: identities; 6: letters indexed by kind
    assert (out / "ledger.sqlite3.v4.bak").is_file()


def test_identities_of_a_first_batch_of_100000_are_looked_up_within_sqlite_limits(tmp_path):
    from cchc_letters.identity import Identity

    with Ledger.open(tmp_path / "ledger.sqlite3") as book:
        many = [Identity(f"id-{n}", f"name-{n}") for n in range(40_000)]  # 80,000 parameters
        assert book.printed_events(many) == []
