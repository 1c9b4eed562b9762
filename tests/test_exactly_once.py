"""Each registration gets exactly one letter across reruns, crashes and overlapping runs."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from ledger_helpers import (
    LETTER_DATE,
    child_name,
    cli_process,
    completed_batches,
    docx_text,
    key,
    manifest_keys,
    paused_process,
    printed_counts,
    printed_keys_of,
    write_births,
)
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.logs import mask_ids

runner = CliRunner()


def generate(inputs, out: Path, *extra: str) -> dict:
    args = ["generate", *map(str, inputs), "--out", str(out), "--date", LETTER_DATE, "--json"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ledger_keys(out: Path) -> set[str]:
    return printed_keys_of(out / "ledger.sqlite3")


def test_rerunning_the_same_export_prints_nothing_new(tmp_path):
    export = write_births(tmp_path / "export.csv", range(1, 4))
    first = generate([export], tmp_path / "out")
    again = generate([export], tmp_path / "out")
    assert first["letters"]["birth"] == 3 and first["skipped_already_printed"] == 0
    assert again["letters"]["birth"] == 0 and again["skipped_already_printed"] == 3
    assert again["batch_dir"] is None and again["changed"] == []
    assert len(completed_batches(tmp_path / "out")) == 1


def test_a_cumulative_export_prints_only_the_new_registrations(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "day1.csv", range(1, 4))], out)
    second = generate([write_births(tmp_path / "day2.csv", range(1, 6))], out)
    assert second["letters"]["birth"] == 2 and second["skipped_already_printed"] == 3
    text = docx_text(Path(second["files"][0]))
    assert child_name(4) in text and child_name(5) in text
    assert child_name(1) not in text
    assert printed_counts(out) == {key(n): 1 for n in range(1, 6)}
    assert ledger_keys(out) == {key(n) for n in range(1, 6)}


def test_overlapping_exports_given_together_print_each_registration_once(tmp_path):
    day1 = write_births(tmp_path / "day1.csv", range(1, 4))
    day2 = write_births(tmp_path / "day2.csv", range(1, 6))
    result = generate([day1, day2], tmp_path / "out")
    assert result["letters"]["birth"] == 5 and result["duplicates"] >= 3
    assert printed_counts(tmp_path / "out") == {key(n): 1 for n in range(1, 6)}


def test_a_corrected_record_is_reported_not_reprinted_until_asked(tmp_path):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "day1.csv", range(1, 4))], out)
    corrected = write_births(tmp_path / "day2.csv", range(1, 4), names={2: "Trần Thị Sửa Tên"})

    report = generate([corrected], out)
    assert report["letters"]["birth"] == 0 and report["skipped_already_printed"] == 2
    [changed] = report["changed"]
    assert changed["key"] == key(2) and changed["reprinted"] is False
    assert changed["printed_batch"] == "batch-2026-11-27-001" and changed["printed_position"] == 2
    changed_csv = Path(report["changed_file"]).read_text(encoding="utf-8-sig")
    assert key(2) in changed_csv and "no" in changed_csv
    assert printed_counts(out)[key(2)] == 1

    reprint = generate([corrected], out, "--reprint-changed")
    assert reprint["letters"]["birth"] == 1 and reprint["changed"][0]["reprinted"] is True
    assert "Trần Thị Sửa Tên" in docx_text(Path(reprint["files"][0]))

    settled = generate([corrected], out)
    assert settled["letters"]["birth"] == 0 and settled["changed"] == []
    shown = runner.invoke(app, ["ledger", "show", key(2), "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "superseded" in shown.output and shown.output.count(key(2)) == 2


def test_a_forgotten_letter_is_printed_again_and_no_ledger_runs_record_nothing(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 4))
    generate([export], out)
    forgot = runner.invoke(app, ["ledger", "forget", key(3), "--out", str(out)])
    assert forgot.exit_code == 0, forgot.output
    again = generate([export], out)
    assert again["letters"]["birth"] == 1 and manifest_keys(Path(again["batch_dir"])) == [key(3)]

    one_off = tmp_path / "one-off"
    for _ in range(2):
        assert generate([export], one_off, "--no-ledger")["letters"]["birth"] == 3
    assert not (one_off / "ledger.sqlite3").exists()
    both = runner.invoke(
        app, ["generate", str(export), "--out", str(out), "--no-ledger", "--ledger", "x"]
    )
    assert both.exit_code == 2


def test_quiet_prints_nothing_on_success_and_the_day_log_has_no_names(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 3))
    args = ["generate", str(export), "--out", str(out), "--date", LETTER_DATE, "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.output == ""
    [log] = (out / "logs").glob("cchc-letters-*.log")
    text = log.read_text(encoding="utf-8")
    assert "letters birth=2" in text and child_name(1) not in text


def test_personal_id_numbers_are_masked():
    assert mask_ids("CCCD 079203001234, hash a079203001234b, 12345") == (
        "CCCD *********234, hash a079203001234b, 12345"
    )


# ---- real processes: SIGKILL at each step, and two runs at once ----------------------


def wait_for(path: Path, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended before pausing: {process.communicate()}")
        assert time.monotonic() < deadline, "the run never reached its pause"
        time.sleep(0.05)


def looks_complete(out: Path) -> None:
    """Every finished batch folder has its manifest and no partial file."""
    for batch in completed_batches(out):
        assert (batch / "manifest.csv").is_file(), batch
        assert not list(batch.glob("*.part")), batch
        assert manifest_keys(batch), batch


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX SIGKILL")
@pytest.mark.parametrize(
    "step", ["locked", "writing", "before-rename", "after-rename", "after-ledger"]
)
def test_a_run_killed_at_any_step_then_rerun_prints_each_letter_once(tmp_path, step):
    out = tmp_path / "out"
    generate([write_births(tmp_path / "day1.csv", range(1, 3))], out)  # a ledger with history
    export = write_births(tmp_path / "day2.csv", range(1, 8))
    args = ("generate", str(export), "--out", str(out), "--date", LETTER_DATE, "--json")

    process, paused, _ = paused_process(tmp_path, step, *args)
    wait_for(paused, process)
    if step == "writing":  # killed with a print file half-written
        assert list(out.glob(".incomplete-*/*.docx.part"))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    looks_complete(out)
    if step in ("locked", "writing", "before-rename"):
        assert len(completed_batches(out)) == 1  # nothing half-made looks like a batch

    rerun = cli_process(*args)
    stdout, stderr = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, stderr
    result = json.loads(stdout)
    looks_complete(out)
    assert not list(out.glob(".incomplete-*"))
    assert printed_counts(out) == {key(n): 1 for n in range(1, 8)}
    assert ledger_keys(out) == {key(n) for n in range(1, 8)}
    if step == "after-rename":
        assert len(result["recovered_batches"]) == 1 and result["batch_dir"] is None
    if step in ("writing", "before-rename"):
        assert len(result["removed_incomplete"]) == 1


def test_a_second_run_waits_for_the_first_and_prints_nothing_twice(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 6))
    args = ("generate", str(export), "--out", str(out), "--date", LETTER_DATE, "--json")
    first, paused, release = paused_process(tmp_path, "before-rename", *args)
    wait_for(paused, first)

    impatient = cli_process(*args, "--wait", "0")
    _, stderr = impatient.communicate(timeout=60)
    assert impatient.returncode == 4
    assert "another run holds" in stderr and f"thư mục {out}" in stderr

    second = cli_process(*args, "--wait", "60")
    time.sleep(1.5)
    assert second.poll() is None  # waiting for the lock
    release.touch()
    first_out, first_err = first.communicate(timeout=60)
    second_out, second_err = second.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert json.loads(first_out)["letters"]["birth"] == 5
    assert json.loads(second_out)["skipped_already_printed"] == 5
    assert printed_counts(out) == {key(n): 1 for n in range(1, 6)}


# ---- one registration, one key, however its numbers are written ------------------------


def _births_xlsx(path: Path, number: int, book: int) -> Path:
    """An export where số and quyển are Excel numbers (5, 1), not text ("05", "01")."""
    import openpyxl
    from ledger_helpers import HEADER

    book_ = openpyxl.Workbook()
    sheet = book_.active
    sheet.append(HEADER.split(","))
    sheet.append(
        ["khai sinh", number, book, "05/11/2026", child_name(5), "Nam", "01/11/2026",
         "Trạm Y tế xã Ngãi Giao", "Lê Thị Hồng", 1996, "Ấp Suối Nghệ, xã Ngãi Giao",
         "Lê Thị Hồng", "mẹ"]
    )  # fmt: skip
    book_.save(path)
    return path


def _births_csv(path: Path, number: str, book: str) -> Path:
    from ledger_helpers import HEADER

    path.write_text(
        f"{HEADER}\nkhai sinh,{number},{book},05/11/2026,{child_name(5)},Nam,01/11/2026,"
        'Trạm Y tế xã Ngãi Giao,Lê Thị Hồng,1996,"Ấp Suối Nghệ, xã Ngãi Giao",Lê Thị Hồng,mẹ\n',
        encoding="utf-8",
    )
    return path


def test_numbers_differing_only_by_leading_zeros_are_one_registration_in_one_run(tmp_path):
    xlsx = _births_xlsx(tmp_path / "so.xlsx", 5, 1)
    csv_ = _births_csv(tmp_path / "so.csv", "05", "01")
    result = generate([xlsx, csv_], tmp_path / "out")
    assert result["letters"]["birth"] == 1 and result["duplicates"] == 1
    assert printed_counts(tmp_path / "out") == {"26575:birth:2026:1:5": 1}


def test_numbers_differing_only_by_leading_zeros_are_not_printed_again_next_day(tmp_path):
    out = tmp_path / "out"
    first = generate([_births_xlsx(tmp_path / "so.xlsx", 5, 1)], out)
    again = generate([_births_csv(tmp_path / "so.csv", "005", " 01 ")], out)
    assert first["letters"]["birth"] == 1
    assert again["letters"]["birth"] == 0 and again["skipped_already_printed"] == 1
    assert ledger_keys(out) == {"26575:birth:2026:1:5"}


def test_the_printed_letter_keeps_the_number_as_written(tmp_path):
    result = generate([_births_csv(tmp_path / "so.csv", "05", "01")], tmp_path / "out")
    batch = Path(result["batch_dir"])
    import csv as csv_module

    with (batch / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv_module.DictReader(fh))
    assert (row["registration_number"], row["book_number"]) == ("05", "01")
    assert row["registration_key"] == "26575:birth:2026:1:5"


# ---- a run with no letter to print makes no batch folder ------------------------------


def _run(inputs, out: Path, *extra: str) -> tuple[int, dict]:
    args = ["generate", *map(str, inputs), "--out", str(out), "--date", LETTER_DATE, "--json"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.stdout)


def test_rerunning_an_export_with_a_duplicate_makes_no_new_batch_folder(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", [1, 2, 2])  # row 2 copied twice
    assert _run([export], out)[1]["duplicates"] == 1
    for _ in range(3):
        code, again = _run([export], out)
        assert code == 0 and again["batch_dir"] is None and again["rejects_file"] is None
    assert len(completed_batches(out)) == 1
    assert not (out / "reports").exists()  # duplicates alone are not worth a file


def test_rejects_and_changes_of_a_run_without_letters_go_to_reports(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", [1, 2])
    with export.open("a", encoding="utf-8") as fh:  # a row that cannot become a letter
        fh.write("khai sinh,09,01/2026,31/02/2026,Lê Văn Sai,Nam,01/11/2026,,,,,,\n")
    code, first = _run([export], out)
    assert code == 3 and first["letters"]["birth"] == 2
    assert Path(first["rejects_file"]).parent == Path(first["batch_dir"])

    corrected = write_births(tmp_path / "export.csv", [1, 2], names={2: "Nguyễn Văn Đã Sửa"})
    with corrected.open("a", encoding="utf-8") as fh:
        fh.write("khai sinh,09,01/2026,31/02/2026,Lê Văn Sai,Nam,01/11/2026,,,,,,\n")
    for n in (1, 2):
        code, again = _run([corrected], out)
        assert code == 3 and again["batch_dir"] is None
        rejects, changed = Path(again["rejects_file"]), Path(again["changed_file"])
        assert rejects == out / "reports" / f"{LETTER_DATE}-{n:03d}-rejects.csv"
        assert changed == out / "reports" / f"{LETTER_DATE}-{n:03d}-changed.csv"
        assert "impossible_date" in rejects.read_text(encoding="utf-8-sig")
        assert key(2) in changed.read_text(encoding="utf-8-sig")
    assert len(completed_batches(out)) == 1
    log = next((out / "logs").glob("*.log")).read_text(encoding="utf-8")
    assert f"{LETTER_DATE}-002-rejects.csv" in log


def test_a_run_without_letters_still_reports_on_screen(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", [1])
    _run([export], out)
    write_births(export, [1], names={1: "Nguyễn Văn Khác"})
    result = runner.invoke(app, ["generate", str(export), "--out", str(out), "--date", LETTER_DATE])
    assert result.exit_code == 0, result.output
    assert "reports" in result.stderr and "CHƯA in lại" in result.stderr
    assert len(completed_batches(out)) == 1
