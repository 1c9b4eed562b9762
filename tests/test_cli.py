"""The command line: options, JSON output, exit codes, messages; once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx_helpers import letters_text
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.resources import data_dir

SAMPLE = data_dir() / "sample" / "registrations.csv"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("CCHC_SOFFICE", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_generate_json_prints_one_object_with_the_agreed_keys(runner, tmp_path):
    result = runner.invoke(
        app, ["generate", str(SAMPLE), "--out", str(tmp_path), "--date", "2026-11-27", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # nothing but the object on stdout
    assert payload["letters"] == {"birth": 3, "marriage": 2, "death": 2}
    assert payload["rejected"] == 0 and payload["rejects_file"] is None
    assert payload["skipped_already_printed"] == 0
    assert Path(payload["batch_dir"]).parent == tmp_path
    files = [Path(f) for f in payload["files"]]
    assert [f.name for f in files] == ["khai-sinh-001.docx", "ket-hon-001.docx", "khai-tu-001.docx"]
    assert "Nguyễn Phạm Gia Bảo" in letters_text(files[0])[0]


def test_generate_human_summary_says_the_demo_profile_is_used(runner, tmp_path):
    result = runner.invoke(
        app, ["generate", str(SAMPLE), "--out", str(tmp_path), "--date", "2026-11-27"]
    )
    assert result.exit_code == 0, result.output
    assert "hồ sơ mẫu" in result.output and "ngai-giao.toml" in result.output
    assert "7 thư" in result.output
    assert "khai-sinh-001.docx" in result.output


def test_rejected_rows_exit_3_and_point_to_rejects(runner, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(
        "kind,registration_number,registration_date,husband_name,wife_name\n"
        "kết hôn,01,26/11/2026,Lê Văn A,Trần Thị B\n"
        "kết hôn,02,26/11/2026,,Trần Thị C\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["generate", str(source), "--out", str(tmp_path / "o"), "--date", "2026-11-27", "--json"],
    )
    assert result.exit_code == 3, result.output
    payload = json.loads(result.stdout)
    assert payload["letters"]["marriage"] == 1 and payload["rejected"] == 1
    assert Path(payload["rejects_file"]).is_file()


def test_bad_date_option_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(
        app, ["generate", str(SAMPLE), "--out", str(tmp_path), "--date", "27/11/2026"]
    )
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_broken_profile_exits_1_with_a_message_not_a_traceback(runner, tmp_path):
    profile = tmp_path / "xa.toml"
    profile.write_text("[commune\nname=", encoding="utf-8")
    result = runner.invoke(
        app, ["generate", str(SAMPLE), "--out", str(tmp_path / "o"), "--profile", str(profile)]
    )
    assert result.exit_code == 1
    assert "xa.toml" in result.stderr and "TOML" in result.stderr
    assert "Traceback" not in result.output
    assert not list((tmp_path / "o").glob("*batch-*"))  # no letters (a day log may exist)


def test_pdf_without_libreoffice_keeps_the_docx_batch(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("CCHC_SOFFICE", "/nonexistent/soffice")
    result = runner.invoke(
        app, ["generate", str(SAMPLE), "--out", str(tmp_path), "--date", "2026-11-27", "--pdf"]
    )
    assert result.exit_code == 0, result.output
    assert "LibreOffice" in result.stderr
    assert list(tmp_path.glob("batch-*/khai-sinh-001.docx"))
    assert not list(tmp_path.glob("batch-*/*.pdf"))


def test_version_option(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("cchc-letters ")


def test_help_documents_exit_codes(runner):
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    for code in ("0 every row", "1 fatal", "2", "3 finished"):
        assert code in " ".join(result.output.split())


def test_real_subprocess_module_and_shim(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    helped = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert helped.returncode == 0 and "generate" in helped.stdout
    ran = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "generate",
            str(SAMPLE),
            "--out",
            str(tmp_path),
            "--date",
            "2026-11-27",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    payload = json.loads(ran.stdout)
    assert sum(payload["letters"].values()) == 7
    assert all(Path(f).is_file() for f in payload["files"])


# ---- a fatal error is still one JSON object; --out mistakes; usage mistakes exit 2 ----


def _junk(tmp_path: Path) -> Path:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    return junk


@pytest.mark.parametrize("broken", ["input", "profile"])
def test_generate_json_prints_one_object_on_a_fatal_error(runner, tmp_path, broken):
    args = ["generate", str(_junk(tmp_path)), "--out", str(tmp_path / "o"), "--json"]
    if broken == "profile":
        bad = tmp_path / "bad.toml"
        bad.write_text("x = [", encoding="utf-8")
        args = [
            "generate",
            str(SAMPLE),
            "--out",
            str(tmp_path / "o"),
            "--profile",
            str(bad),
            "--json",
        ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 1 and payload["error"]
    assert payload["batch_dir"] is None and payload["files"] == []
    assert payload["letters"] == {"birth": 0, "marriage": 0, "death": 0}
    assert "Lỗi (error)" in result.stderr  # the message is still on stderr


def test_check_and_ledger_json_print_one_object_on_a_fatal_error(runner, tmp_path):
    result = runner.invoke(app, ["check", str(SAMPLE), "--encoding", "klingon", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["exit_code"] == 2
    result = runner.invoke(app, ["ledger", "list", "--out", str(tmp_path / "none"), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["letters"] == [] and "ledger" in payload["error"]


def test_out_that_is_a_file_is_a_clear_error_not_a_traceback(runner, tmp_path):
    result = runner.invoke(app, ["generate", str(SAMPLE), "--out", str(SAMPLE)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not NotADirectoryError
    assert "--out" in result.stderr and "tệp" in result.stderr


def test_out_under_proc_is_a_clear_error(runner, tmp_path):
    if not Path("/proc").is_dir():
        pytest.skip("no /proc")
    result = runner.invoke(app, ["generate", str(SAMPLE), "--out", "/proc/cchc-no-such"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "--out" in result.stderr


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("generate", "--encoding", "klingon"),
        ("generate", "--delimiter", "xx"),
        ("generate", "--schedule", "nope"),
        ("check", "--encoding", "klingon"),
        ("check", "--delimiter", "xx"),
    ],
)
def test_bad_input_options_are_usage_errors(runner, tmp_path, command, option, value):
    args = [command, str(SAMPLE), option, value]
    if command == "generate":
        args += ["--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert not list(tmp_path.glob("batch-*"))
