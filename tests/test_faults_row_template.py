"""A template that fails on one row's data is that row's rejection, not a batch-wide stop:
the other rows print, the ledger records only what printed; a template that fails on every
row is a clear batch error (issue 11, item 7 for templates)."""

from __future__ import annotations

import csv
import os
from datetime import date
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document, write_profile
from docx_helpers import letters_text

from cchc_letters import writing
from cchc_letters.errors import TemplateProblem
from cchc_letters.ledger import Ledger
from cchc_letters.pipeline import BatchOptions, run_batch

LETTER_DATE = date(2026, 11, 27)
HEADER = "Số,Quyển số,Ngày đăng ký,Họ và tên,Giới tính,Năm sinh,Nơi cư trú,Ngày chết"
# A template that prints the deceased's middle name fails on a two-word name ("Lê Hoa"),
# and renders every sample (three-word names).
MIDDLE_NAME = "{{ deceased.name }} ({{ deceased.name.split()[1] }} {{ deceased.name.split()[2] }})"


def row(number: int, name: str) -> str:
    return f"{number:02d},01/2026,2{number % 7}/11/2026,{name},Nữ,1950,Ấp Bình Ba,20/11/2026"


def export(tmp_path: Path, names: list[str], file: str = "so-khai-tu.csv") -> Path:
    path = tmp_path / file
    lines = [HEADER, *(row(n, name) for n, name in enumerate(names, start=1))]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def options(tmp_path: Path, names: list[str], **extra) -> BatchOptions:
    folder = tmp_path / "mau-thu"
    folder.mkdir(exist_ok=True)
    rewrite_document(
        default_template("death"),
        folder / "death.docx",
        replace_text("{{ deceased.name }}", MIDDLE_NAME),
    )
    return BatchOptions(
        inputs=[export(tmp_path, names)],
        out_dir=tmp_path / "out",
        letter_date=LETTER_DATE,
        profile_path=write_profile(tmp_path, templates=str(folder)),
        **extra,
    )


def rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return [r for r in csv.DictReader(fh) if r["severity"] == "error"]


def manifest(batch: Path) -> list[dict[str, str]]:
    with (batch / "manifest.csv").open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


NAMES = ["Nguyễn Thị Tám", "Lê Hoa", "Trần Thị Mai", "Lê Thị Hoa"]


def check_one_row_rejected(result, per_file_positions: list[tuple[str, str]]) -> None:
    assert result.rejected == 1 and sum(result.letters.values()) == 3
    [reject] = rejects(result.rejects_file)
    assert reject["row"] == "3" and reject["reason_code"] == "template_error"
    assert "death.docx" in reject["reason"] and "mẫu thư" in reject["reason"].lower()
    printed = manifest(result.batch_dir)
    assert [r["source_row"] for r in printed] == ["2", "4", "5"]
    assert [(r["print_file"], r["position"]) for r in printed] == per_file_positions
    text = "\n".join(t for f in result.files for t in letters_text(f))
    assert "Nguyễn Thị Tám (Thị Tám)" in text and "Lê Thị Hoa (Thị Hoa)" in text
    assert "Lê Hoa" not in text.replace("Lê Thị Hoa", "")
    ledger = Ledger.open(result.batch_dir.parent / "ledger.sqlite3")
    with ledger:
        keys = {e.key for e in ledger.entries()}
    assert len(keys) == 3 and not any("/02/" in k or k.endswith(":02") for k in keys)


def test_a_template_failing_on_one_rows_data_rejects_that_row_and_prints_the_others(tmp_path):
    result = run_batch(options(tmp_path, NAMES))
    check_one_row_rejected(
        result, [("khai-tu-001.docx", "1"), ("khai-tu-001.docx", "2"), ("khai-tu-001.docx", "3")]
    )
    # Run again: the printed rows are skipped, the failing one is rejected again.
    again = run_batch(options(tmp_path, NAMES))
    assert again.batch_dir is None and again.rejected == 1
    assert [r["reason_code"] for r in rejects(again.rejects_file)] == ["template_error"]


def forked_writers(monkeypatch, tmp_path: Path) -> Path:
    """Make every batch written by two forked workers; return a folder where each process
    that wrote letters leaves its pid."""
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", 1)
    monkeypatch.setattr(writing.os, "cpu_count", lambda: 2)
    write_jobs = writing.write_jobs

    def noting_pid(*args, **kwargs):
        (pids / str(os.getpid())).touch()
        return write_jobs(*args, **kwargs)

    monkeypatch.setattr(writing, "write_jobs", noting_pid)
    return pids


@pytest.mark.slow
@pytest.mark.parametrize("per_letter", [False, True])
def test_the_forked_writers_reject_the_row_as_the_serial_path_does(
    tmp_path, monkeypatch, per_letter
):
    pids = forked_writers(monkeypatch, tmp_path)
    # One letter per print file: the failing row's file is not written at all.
    result = run_batch(options(tmp_path, NAMES, per_file=1, per_letter=per_letter))
    names = (
        ["khai-tu-thu-00001.docx", "khai-tu-thu-00003.docx", "khai-tu-thu-00004.docx"]
        if per_letter
        else ["khai-tu-001.docx", "khai-tu-003.docx", "khai-tu-004.docx"]
    )
    check_one_row_rejected(result, [(n, "1") for n in names])
    assert sorted(p.name for p in result.batch_dir.glob("khai-tu-*")) == names
    written_by = {int(p.name) for p in pids.iterdir()}
    assert written_by and os.getpid() not in written_by  # the workers wrote them


def test_a_file_whose_every_letter_fails_is_not_written_the_others_are(tmp_path):
    # Two print files of two letters: both letters of the first fail.
    names = ["Lê Hoa", "Trần Văn", "Trần Thị Mai", "Lê Thị Hoa"]
    result = run_batch(options(tmp_path, names, per_file=2))
    assert result.rejected == 2 and sum(result.letters.values()) == 2
    assert [p.name for p in result.files] == ["khai-tu-002.docx"]
    assert sorted(p.name for p in result.batch_dir.glob("khai-tu-*")) == ["khai-tu-002.docx"]
    assert [(r["print_file"], r["position"]) for r in manifest(result.batch_dir)] == [
        ("khai-tu-002.docx", "1"),
        ("khai-tu-002.docx", "2"),
    ]


def test_when_every_letter_to_print_fails_no_batch_folder_is_made(tmp_path):
    run_batch(options(tmp_path, NAMES[:1]))  # the good row is printed
    result = run_batch(options(tmp_path, NAMES[:2]))  # only the failing row is new
    assert result.batch_dir is None and result.rejected == 1
    assert result.rejects_file is not None and result.rejects_file.parent.name == "reports"
    assert [r["reason_code"] for r in rejects(result.rejects_file)] == ["template_error"]
    out = tmp_path / "out"
    assert len(list(out.glob("batch-*"))) == 1 and not list(out.glob(".incomplete-*"))
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        assert len(ledger.entries()) == 1
    import sqlite3

    db = sqlite3.connect(out / "ledger.sqlite3")
    try:
        states = [state for (state,) in db.execute("SELECT state FROM batches ORDER BY id")]
    finally:
        db.close()
    assert states == ["complete", "abandoned"]  # the empty batch is not left "writing"


def test_a_template_failing_on_every_row_stops_the_batch_with_a_clear_error(tmp_path):
    with pytest.raises(TemplateProblem) as caught:
        run_batch(options(tmp_path, ["Lê Hoa", "Trần Văn", "Mai Lan"]))
    message = caught.value.message
    assert "cả 3 dòng" in message and "death.docx" in message and "Traceback" not in message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("batch-*"))


def test_check_with_the_profile_reports_the_rows_generate_would_reject(tmp_path):
    import json

    from typer.testing import CliRunner

    from cchc_letters.cli import app

    given = options(tmp_path, NAMES)
    args = ["check", str(given.inputs[0]), "--date", "2026-11-27", "--json"]
    runner = CliRunner()
    checked = runner.invoke(app, [*args, "--profile", str(given.profile_path)])
    assert checked.exit_code == 3, checked.output
    report = json.loads(checked.stdout)
    assert report["valid"] == 3 and report["rejected"] == 1
    [issue] = [i for i in report["issues"] if i["severity"] == "error"]
    assert issue["row"] == 3 and issue["code"] == "template_error"
    assert "death.docx" in issue["reason"]
    # The same row generate rejects; nothing written by check.
    assert not (tmp_path / "out").exists()
    result = run_batch(given)
    assert [r["row"] for r in rejects(result.rejects_file)] == [str(issue["row"])]
    # Without a profile check only validates (the shipped templates render every valid row).
    assert runner.invoke(app, args).exit_code == 0
    # A template failing on every row is the same clear error as in generate.
    (tmp_path / "every").mkdir()
    every = options(tmp_path / "every", ["Lê Hoa", "Trần Văn"])
    failed = runner.invoke(
        app,
        [
            "check",
            str(every.inputs[0]),
            "--date",
            "2026-11-27",
            "--profile",
            str(every.profile_path),
        ],
    )
    assert failed.exit_code == 1 and "cả 2 dòng" in failed.output
    assert "Traceback" not in failed.output
