"""`cchc-letters schedule`: the JSON shape, --list, --schedule and errors, through CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.profile import load_profile
from cchc_letters.schedule import child_schedule, load_versions, version_for


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def run_json(runner, *args):
    result = runner.invoke(app, ["schedule", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_shape(runner):
    payload = run_json(runner, "--dob", "2026-11-10", "--date", "2026-11-27")
    assert payload["schedule"] == "tt52-2025"
    assert payload["legal_basis"] == "Thông tư 52/2025/TT-BYT"
    assert payload["doses"]
    for item in payload["doses"]:
        assert {"vaccine", "name", "dose", "due", "session", "status"} <= set(item)
        assert item["status"] in ("due_now", "planned", "missed_deadline")
        date.fromisoformat(item["due"])
        if item["session"] is not None:
            date.fromisoformat(item["session"])
    first = payload["doses"][2]
    assert first["vaccine"] == "dtp-hepb-hib" and first["dose"] == "mũi 1"
    assert (first["due"], first["session"]) == ("2027-01-10", "2027-03-05")  # Tết 2027
    # the same as the library computes
    profile = load_profile()
    version = version_for(date(2026, 11, 27), load_versions())
    expected = child_schedule(date(2026, 11, 10), date(2026, 11, 27), profile, version)
    assert [d["vaccine"] for d in payload["doses"]] == [d.vaccine for d in expected.doses]
    assert [v["vaccines"] for v in payload["visits"]] == [v.vaccines_text for v in expected.visits]
    assert payload["notes"] == list(expected.notes)


def test_schedule_override(runner):
    payload = run_json(
        runner, "--dob", "2026-11-10", "--date", "2026-11-27", "--schedule", "tt38-2017"
    )
    assert payload["schedule"] == "tt38-2017"
    assert not [d for d in payload["doses"] if d["vaccine"] == "rota"]


def test_profile_option(runner, tmp_path):
    text = (load_profile().path).read_text(encoding="utf-8")
    text = text.replace("days_of_month = [5, 6]", "days_of_month = [20]")
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    payload = run_json(
        runner, "--dob", "2026-11-10", "--date", "2026-11-27", "--profile", str(path)
    )
    bcg = [d for d in payload["doses"] if d["vaccine"] == "bcg"][0]
    # the next session 20/12 is after BCG's last day 09/12, still ahead on 27/11: no session
    assert (bcg["session"], bcg["status"]) == (None, "due_now")


def test_list(runner):
    result = runner.invoke(app, ["schedule", "--list"])
    assert result.exit_code == 0, result.output
    for text in ("tt38-2017", "tt10-2024", "tt52-2025", "01/08/2024", "14/02/2026"):
        assert text in result.output
    payload = json.loads(runner.invoke(app, ["schedule", "--list", "--json"]).stdout)
    assert [v["id"] for v in payload["versions"]] == ["tt38-2017", "tt10-2024", "tt52-2025"]
    assert payload["versions"][2]["valid_to"] is None


def test_table(runner):
    result = runner.invoke(app, ["schedule", "--dob", "2026-05-10", "--date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    assert "Cần tiêm ngay" in result.output and "05/12/2026" in result.output
    assert "Ghi chú" in result.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--schedule", "tt99"], 2, "tt10-2024"),  # usage error listing the known ids
        (["--date", "2017-06-01"], 1, "01/06/2017"),
        (["--dob", "2026-13-01"], 2, "--dob"),
        (["--dob", "2027-01-01"], 2, "after the letter date"),
    ],
)
def test_errors(runner, args, code, message):
    base = ["schedule", "--dob", "2016-01-01", "--date", "2026-11-27"]
    result = runner.invoke(app, base + args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_dob_is_required_without_list(runner):
    result = runner.invoke(app, ["schedule"])
    assert result.exit_code == 2
    assert "--dob" in result.output


def test_module_runs_as_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "schedule", "--list", "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["versions"]


def test_table_and_json_say_where_without_a_session(runner):
    """Born 31/10/2026, letter 27/11/2026: BCG's last day 29/11 is before the 05/12 session."""
    args = ["schedule", "--dob", "2026-10-31", "--date", "2026-11-27"]
    payload = run_json(runner, *args[1:])
    bcg = [d for d in payload["doses"] if d["vaccine"] == "bcg"][0]
    assert (bcg["session"], bcg["status"], bcg["where"]) == (None, "due_now", "liên hệ trạm y tế")
    assert payload["visits"][0]["where"] == "liên hệ trạm y tế"
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    table = result.output.split("Ghi chú")[0]
    assert "liên hệ" in table and "tại nơi sinh" not in table
