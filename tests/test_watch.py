"""The inbox watcher: completed files become batches and move; nothing is ever deleted."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ledger_helpers import LETTER_DATE, key, printed_counts, write_births
from typer.testing import CliRunner

from cchc_letters import locking
from cchc_letters.cli import app
from cchc_letters.pipeline import BatchOptions
from cchc_letters.watch import FAILED, PROCESSED, is_temporary, process_inbox

runner = CliRunner()
TODAY = date(2026, 11, 27)


def options_for(out: Path, **extra):
    def make(path: Path) -> BatchOptions:
        return BatchOptions(inputs=[path], out_dir=out, letter_date=TODAY, **extra)

    return make


def test_temporary_names_are_never_picked_up():
    for name in [
        "~$export.xlsx",
        "export.xlsx.part",
        "export.csv.tmp",
        ".hidden.csv",
        "x.crdownload",
    ]:
        assert is_temporary(Path(name)), name
    assert not is_temporary(Path("so-ho-tich-2026-11.xlsx"))


def test_one_pass_processes_good_files_fails_unreadable_ones_and_waits_for_growing_ones(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    good = write_births(inbox / "good.csv", range(1, 4))
    (inbox / "bad.csv").write_bytes(b"\x80\x81 not text \xff\n")  # complete, but not text
    growing = write_births(inbox / "growing.csv", range(10, 12))
    (inbox / "~$good.xlsx").write_bytes(b"owner file")
    (inbox / "next.csv.part").write_text("half a copy", encoding="utf-8")

    def copying_goes_on(seconds: float) -> None:  # the settle interval, during which a copy grows
        with growing.open("a", encoding="utf-8") as fh:
            fh.write("khai sinh,12,01/2026,12/11/2026,Lê Văn Mới,Nam,01/11/2026,x,y,1990,z,y,mẹ\n")

    first = process_inbox(inbox, options_for(out), today=TODAY, sleep=copying_goes_on)
    assert {o.source.name: o.status for o in first.outcomes} == {
        "good.csv": PROCESSED,
        "bad.csv": FAILED,
    }
    assert first.waiting == [growing]
    assert int(first.exit_code) == 3
    assert (inbox / PROCESSED / "2026-11-27" / "good.csv").is_file() and not good.exists()
    assert (inbox / FAILED / "bad.csv").read_bytes() == b"\x80\x81 not text \xff\n"
    reason = (inbox / FAILED / "bad.csv.reason.txt").read_text(encoding="utf-8")
    assert "bad.csv" in reason and "utf-8" in reason.lower()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        ".cchc-letters-inbox.lock",
        "growing.csv",
        "next.csv.part",
        "~$good.xlsx",
    ]

    second = process_inbox(inbox, options_for(out), today=TODAY, sleep=lambda s: None)
    assert [o.source.name for o in second.outcomes] == ["growing.csv"]
    assert int(second.exit_code) == 0
    assert printed_counts(out) == {key(n): 1 for n in [1, 2, 3, 10, 11, 12]}


def test_the_same_export_arriving_again_prints_nothing_and_is_kept_beside_the_first(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for _ in range(2):
        write_births(inbox / "export.csv", range(1, 3))
        inbox_pass = process_inbox(inbox, options_for(out), today=TODAY, sleep=lambda s: None)
        assert int(inbox_pass.exit_code) == 0
    assert inbox_pass.outcomes[0].result.skipped_already_printed == 2
    kept = sorted(p.name for p in (inbox / PROCESSED / "2026-11-27").iterdir())
    assert kept == ["export-2.csv", "export.csv"]
    assert printed_counts(out) == {key(1): 1, key(2): 1}


def test_a_failure_not_of_the_files_making_leaves_the_file_in_the_inbox(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    export = write_births(inbox / "export.csv", range(1, 3))
    missing_profile = options_for(out, profile_path=tmp_path / "no-such-profile.toml")
    inbox_pass = process_inbox(inbox, missing_profile, today=TODAY, sleep=lambda s: None)
    assert inbox_pass.error is not None and int(inbox_pass.exit_code) == 1
    assert export.exists() and not (inbox / FAILED).exists()

    with locking.hold([locking.lock_path_for(out)], wait=0, what="test"):
        locked = process_inbox(inbox, options_for(out, wait=0), today=TODAY, sleep=lambda s: None)
    assert int(locked.exit_code) == 4 and export.exists()


def test_watch_once_from_the_command_line(tmp_path, monkeypatch):
    # The processed/ folder is named by the day the file was processed (the clock), not by
    # --date: pin the clock to a day other than the letter date to show which one counts.
    processed_on = datetime(2027, 3, 4, 7, 30, tzinfo=timezone(timedelta(hours=7)))
    monkeypatch.setattr("cchc_letters.pipeline.local_now", lambda: processed_on)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    write_births(inbox / "good.csv", range(1, 4))
    (inbox / "bad.csv").write_bytes(b"\x80\x81\n")
    args = ["watch", str(inbox), "--out", str(out), "--once", "--date", LETTER_DATE]
    result = runner.invoke(app, [*args, "--settle", "0", "--quiet"])
    assert result.exit_code == 3, result.output
    assert "bad.csv" in result.output and "good.csv" not in result.output
    assert (inbox / "processed" / "2027-03-04" / "good.csv").exists()
    assert not (inbox / "processed" / LETTER_DATE).exists()
    assert (inbox / "failed" / "bad.csv.reason.txt").exists()
    [log] = (out / "logs").glob("*.log")
    assert "failed bad.csv" in log.read_text(encoding="utf-8")

    write_births(inbox / "good.csv", range(1, 5))  # tomorrow's cumulative export
    again = runner.invoke(app, [*args, "--settle", "0"])
    assert again.exit_code == 0, again.output
    assert "1 thư, 3 đã in trước đó" in again.output
    assert printed_counts(out) == {key(n): 1 for n in range(1, 5)}

    with locking.hold([locking.inbox_lock_path(inbox)], wait=0, what="test"):
        locked = runner.invoke(app, [*args, "--settle", "0", "--wait", "0"])
    assert locked.exit_code == 4, locked.output


def test_a_file_that_cannot_be_moved_stays_and_is_not_printed_twice(tmp_path, monkeypatch):
    import cchc_letters.watch as watch

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    export = write_births(inbox / "export.xlsx.csv", range(1, 3))

    def held_open(path, folder, sleep=None):
        raise PermissionError("the file is in use by another process")

    monkeypatch.setattr(watch, "_move", held_open)
    first = process_inbox(inbox, options_for(out), today=TODAY, sleep=lambda s: None)
    assert [o.status for o in first.outcomes] == [watch.UNMOVED] and int(first.exit_code) == 3
    assert export.exists()
    monkeypatch.undo()
    second = process_inbox(inbox, options_for(out), today=TODAY, sleep=lambda s: None)
    assert second.outcomes[0].status == PROCESSED
    assert second.outcomes[0].result.skipped_already_printed == 2
    assert printed_counts(out) == {key(1): 1, key(2): 1}


def test_an_empty_file_goes_to_failed_once_it_stays_empty(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "rong.xlsx").write_bytes(b"")
    inbox_pass = process_inbox(inbox, options_for(out), today=TODAY, settle=0, sleep=lambda s: None)
    assert [(o.source.name, o.status) for o in inbox_pass.outcomes] == [("rong.xlsx", FAILED)]
    assert inbox_pass.waiting == [] and int(inbox_pass.exit_code) == 3
    reason = (inbox / FAILED / "rong.xlsx.reason.txt").read_text(encoding="utf-8")
    assert "0 byte" in reason


def test_an_empty_file_is_reported_by_a_quiet_cron_run(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "rong.csv").write_bytes(b"")
    args = ["watch", str(inbox), "--out", str(out), "--once", "--settle", "0", "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "rong.csv" in result.stderr and "0 byte" in result.stderr
    assert (inbox / FAILED / "rong.csv").exists()


def test_watch_takes_the_input_options_of_generate(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "xa.txt.csv").write_bytes(
        "Số\tNgày ĐK\tTên bé\tNgày sinh\tGiới tính\n01\t20/11/2026\tLê An\t01/11/2026\tNữ\n".encode(
            "utf-16"
        )
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[headings]\n"Tên bé" = "child_name"\n"Ngày ĐK" = "registration_date"\n', encoding="utf-8"
    )
    args = [
        "watch",
        str(inbox),
        "--out",
        str(out),
        "--once",
        "--settle",
        "0",
        "--date",
        LETTER_DATE,
    ]
    options = ["--mapping", str(mapping), "--kind", "khai sinh", "--encoding", "utf-16"]
    options += ["--delimiter", "tab", "--schedule", "tt10-2024", "--per-file", "5"]
    result = runner.invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    assert printed_counts(out) == {"26575:birth:2026:-:1": 1}
    assert runner.invoke(app, [*args, "--encoding", "klingon"]).exit_code == 2


def test_watch_with_out_a_file_is_a_clear_error(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    not_a_folder = tmp_path / "out.xlsx"
    not_a_folder.write_bytes(b"x")
    result = runner.invoke(app, ["watch", str(inbox), "--out", str(not_a_folder), "--once"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
