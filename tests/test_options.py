"""The CLI and the library say each thing once: options checked in the library (a UsageError,
exit 2, naming the option), one reading of the inputs for check/generate/watch, one count of
rejected rows, one Issue -> row, one presentation of a batch result."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.errors import ExitCode, UsageError
from cchc_letters.intake import check_inputs
from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch

LETTER_DATE = date(2026, 11, 27)
runner = CliRunner()


def options(tmp_path: Path, **fields) -> BatchOptions:
    return BatchOptions(inputs=[], out_dir=tmp_path, letter_date=LETTER_DATE, **fields)


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("kind", "sinh nhật", "--kind"),
        ("encoding", "klingon", "--encoding"),
        ("delimiter", "::", "--delimiter"),
        ("schedule_id", "tt99", "--schedule"),
        ("per_file", 0, "--per-file"),
        ("wait", -1.0, "--wait"),
    ],
)
def test_the_library_refuses_a_bad_option_value_naming_the_option(tmp_path, field, value, option):
    with pytest.raises(UsageError) as caught:
        options(tmp_path, **{field: value})
    assert caught.value.option == option and caught.value.exit_code == ExitCode.USAGE
    assert caught.value.message.startswith(f"{option}: ") and str(value) in caught.value.message


def test_a_ledger_with_no_ledger_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as caught:
        options(tmp_path, ledger=tmp_path / "l.sqlite3", use_ledger=False)
    assert caught.value.option == "--no-ledger"


def test_option_values_are_kept_in_the_form_the_library_uses(tmp_path):
    checked = options(tmp_path, kind="khai tử", delimiter="tab", schedule_id="tt10-2024")
    assert checked.kind is Kind.DEATH and checked.delimiter == "\t"
    from dataclasses import replace

    assert replace(checked, inputs=[tmp_path]).kind is Kind.DEATH  # checked again: the same


def test_a_usage_error_from_the_library_is_exit_2_in_json_too(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    args = ["generate", str(sample), "--out", str(tmp_path), "--kind", "sinh nhật", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 2 and payload["error"].startswith("--kind: ")


# A death export whose row 3 has two problems (an impossible date and no sex), row 4 is
# an exact repeat of row 2 and row 5 is fine.
EXPORT = (
    "SỔ ĐĂNG KÝ KHAI TỬ\n"
    "Số;Ngày đăng ký;Họ và tên;Giới tính;Năm sinh;Ngày chết\n"
    "01;23/11/2026;Nguyễn Văn Tám;Nam;1941;20/11/2026\n"
    "02;23/11/2026;Trần Văn Hai;;1950;31/02/2026\n"
    "01;23/11/2026;Nguyễn Văn Tám;Nam;1941;20/11/2026\n"
    "03;24/11/2026;Lê Thị Ba;Nữ;1938;21/11/2026\n"
)


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "kt.csv"
    path.write_text(EXPORT, encoding="utf-8-sig")
    return path


def test_a_row_with_two_problems_is_one_rejected_row_everywhere(tmp_path, export):
    checked = check_inputs([export], letter_date=LETTER_DATE)
    assert len([i for i in checked.issues if i.severity == "error"]) == 2  # both reported
    assert checked.rejected == 1
    check = json.loads(
        runner.invoke(app, ["check", str(export), "--date", "2026-11-27", "--json"]).stdout
    )
    out = tmp_path / "out"
    generate = runner.invoke(
        app, ["generate", str(export), "--out", str(out), "--date", "2026-11-27", "--json"]
    )
    made = json.loads(generate.stdout)
    assert check["rejected"] == made["rejected"] == 1
    assert check["duplicates"] == made["duplicates"] == 1
    assert check["rows_read"] == made["rows_read"] == 4


def test_an_issue_is_the_same_row_in_rejects_csv_and_in_check_json(tmp_path, export):
    result = run_batch(BatchOptions(inputs=[export], out_dir=tmp_path, letter_date=LETTER_DATE))
    with result.rejects_file.open(encoding="utf-8-sig", newline="") as fh:
        csv_rows = [list(row.values()) for row in csv.DictReader(fh)]
    check = json.loads(
        runner.invoke(app, ["check", str(export), "--date", "2026-11-27", "--json"]).stdout
    )
    json_rows = [["" if v is None else str(v) for v in issue.values()] for issue in check["issues"]]
    assert csv_rows == json_rows and len(csv_rows) == 3


def test_generate_and_watch_present_a_batch_alike(tmp_path, export):
    out = tmp_path / "out"
    generated = runner.invoke(
        app, ["generate", str(export), "--out", str(out), "--date", "2026-11-27"]
    )
    assert generated.exit_code == 3
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "kt.csv").write_text(EXPORT, encoding="utf-8-sig")
    watched = runner.invoke(
        app,
        [
            "watch",
            str(inbox),
            "--out",
            str(tmp_path / "out2"),
            "--once",
            "--settle",
            "0",
            "--date",
            "2026-11-27",
        ],
    )
    assert watched.exit_code == 3
    counts = "Đã đọc 4 dòng: 2 thư, 0 đã in trước đó, 0 thay đổi, 1 dòng bị loại, 1 dòng trùng lặp."
    assert counts in generated.output and f"kt.csv: {counts}" in watched.output
    for text in (generated.output, watched.output):
        assert "Các dòng không dùng được và lý do:" in text
        assert "Ngày chết không có thật trên lịch." in text
