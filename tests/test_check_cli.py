"""`cchc-letters check`: the same reading and validation, problems listed, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.resources import data_dir

SAMPLE = data_dir() / "sample" / "registrations.csv"


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: table rows are not wrapped
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def bad_export(tmp_path):
    path = tmp_path / "kt.csv"
    path.write_text(
        "SỔ ĐĂNG KÝ KHAI TỬ\n"
        "Số;Ngày đăng ký;Họ và tên;Giới tính;Năm sinh;Ngày chết\n"
        "01;23/11/2026;Nguyễn Văn Tám;Nam;1941;20/11/2026\n"
        '02;23/11/2026;=HYPERLINK("x");Nam;1950;31/02/2026\n'
        "01;23/11/2026;Nguyễn Văn Tám;Nam;1941;20/11/2026\n",
        encoding="utf-8-sig",
    )
    return path


def test_clean_input_exits_0(runner):
    result = runner.invoke(app, ["check", str(SAMPLE), "--date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    assert "7 dòng dùng được" in result.output
    assert "0 dòng bị loại" in result.output


def test_rejects_are_listed_and_exit_3(runner, tmp_path):
    path = bad_export(tmp_path)
    result = runner.invoke(app, ["check", str(path), "--date", "2026-11-27"])
    assert result.exit_code == 3, result.output
    assert "impossible_date" in result.output
    assert "31/02/2026" in result.output
    assert "duplicate_row" in result.output
    assert "1 dòng bị loại, 1 dòng trùng lặp" in result.output
    assert not list(tmp_path.glob("batch-*"))  # nothing written


def test_json_is_one_object_with_every_issue(runner, tmp_path):
    path = bad_export(tmp_path)
    junk = tmp_path / "hong.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    result = runner.invoke(app, ["check", str(path), str(junk), "--json", "--date", "2026-11-27"])
    assert result.exit_code == 3, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert (
        payload["rows_read"],
        payload["valid"],
        payload["rejected"],
        payload["duplicates"],
        payload["unreadable_files"],
    ) == (3, 1, 1, 1, 1)
    by_code = {i["code"]: i for i in payload["issues"]}
    assert by_code["unreadable_file"]["file"] == str(junk)
    assert by_code["impossible_date"] == {
        "file": str(path),
        "sheet": None,
        "row": 4,
        "column": "Ngày chết",
        "value": "31/02/2026",
        "reason": by_code["impossible_date"]["reason"],
        "code": "impossible_date",
        "severity": "error",
    }
    assert by_code["duplicate_row"]["severity"] == "duplicate"
    [table] = payload["files"][0]["tables"]
    assert table["kind"] == "death" and table["header_rows"] == [2]
    assert payload["files"][0]["delimiter"] == ";"


def test_only_duplicates_is_clean(runner, tmp_path):
    path = tmp_path / "a.csv"
    line = "01,21/11/2026,Lê Văn Hùng,Huỳnh Thị Ngân\n"
    path.write_text("Số,Ngày đăng ký,Họ tên chồng,Họ tên vợ\n" + line + line, encoding="utf-8")
    result = runner.invoke(app, ["check", str(path), "--date", "2026-11-27", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["duplicates"] == 1


def test_options_kind_delimiter_encoding_mapping(runner, tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(
        "Số\tNgày ĐK\tTên bé\tNgày sinh\n01\t20/11/2026\tLê An\t01/11/2026\n".encode("utf-16")
    )
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[headings]\n"Tên bé" = "child_name"\n"Ngày ĐK" = "registration_date"\n', encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "check",
            str(path),
            "--kind",
            "khai sinh",
            "--delimiter",
            "tab",
            "--encoding",
            "utf-16",
            "--mapping",
            str(mapping),
            "--date",
            "2026-11-27",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["valid"] == 1


def test_bad_options_are_usage_or_input_errors(runner, tmp_path):
    result = runner.invoke(app, ["check", str(SAMPLE), "--kind", "sinh nhật"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["check", str(SAMPLE), "--encoding", "tcvn3"])
    assert result.exit_code == 2
    assert "tcvn3" in result.output and "--encoding" in result.output
    mapping = tmp_path / "bad.toml"
    mapping.write_text("[fields.x\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(SAMPLE), "--mapping", str(mapping)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_missing_column_message_in_table(runner, tmp_path):
    path = tmp_path / "ks.csv"
    path.write_text(
        "SỔ ĐĂNG KÝ KHAI SINH\nSố,Ngày đăng ký,Tên bé,Ngày sinh\n01,20/11/2026,Lê An,01/11/2026\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(path), "--date", "2026-11-27"])
    assert result.exit_code == 3
    assert "missing_column" in result.output
    assert "[fields.child_name]" in result.output


def test_help_runs_as_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--delimiter" in done.stdout


def test_plain_lines_when_not_a_terminal(runner, tmp_path):
    path = bad_export(tmp_path)
    result = runner.invoke(app, ["check", str(path), "--date", "2026-11-27"])
    assert f"{path}:4 [Ngày chết] '31/02/2026': Ngày chết không có thật trên lịch." in (
        result.output
    )
