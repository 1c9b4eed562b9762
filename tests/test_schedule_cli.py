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
    assert payload["schedule"] == "tt13-2026"
    assert payload["legal_basis"] == "Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế"
    assert payload["doses"]
    for item in payload["doses"]:
        assert {"vaccine", "name", "dose", "due", "session", "status"} <= set(item)
        # per dose: its version, target group and why it has its date (or none)
        assert {"version", "target_group", "falls_due", "latest", "why", "postponed"} <= set(item)
        assert item["version"] == "tt13-2026" and item["why"]
        assert item["status"] in ("due_now", "planned", "catch_up", "switched_off")
        date.fromisoformat(item["due"])
        if item["session"] is not None:
            date.fromisoformat(item["session"])
    first = payload["doses"][2]
    assert first["vaccine"] == "dtp-hepb-hib" and first["dose"] == "mũi 1"
    assert (first["due"], first["session"]) == ("2027-01-10", "2027-03-05")  # Tết 2027
    assert first["target_group"] == "trẻ dưới 1 tuổi" and first["latest"] == "2027-11-09"
    assert "buổi 05/02/2027 nghỉ Tết: chuyển sang 05/03/2027" in first["why"]
    hepb = payload["doses"][0]
    assert (hepb["vaccine"], hepb["status"], hepb["session"]) == ("hepb0", "catch_up", None)
    assert "không ghi ngày" in hepb["why"][-1]
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
    # the profile's session day, 20/12, after BCG's first month but within its target group
    assert (bcg["session"], bcg["status"]) == ("2026-12-20", "due_now")


def test_list(runner):
    result = runner.invoke(app, ["schedule", "--list"])
    assert result.exit_code == 0, result.output
    for text in ("tt38-2017", "tt10-2024", "tt52-2025", "tt13-2026", "01/08/2024", "30/06/2026"):
        assert text in result.output
    payload = json.loads(runner.invoke(app, ["schedule", "--list", "--json"]).stdout)
    assert [v["id"] for v in payload["versions"]] == [
        "tt38-2017",
        "tt10-2024",
        "tt52-2025",
        "tt13-2026",
    ]
    assert payload["versions"][2]["valid_to"] == "2026-06-30"
    assert payload["versions"][3]["valid_from"] == "2026-07-01"
    assert payload["versions"][3]["valid_to"] is None


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
    """Born 20/05/2026, letter 10/11/2026: Rota's last day 19/11 is before the 05/12 session;
    the Td booster at 7 years is given at school, not at a session seven years ahead."""
    args = ["schedule", "--dob", "2026-05-20", "--date", "2026-11-10"]
    payload = run_json(runner, *args[1:])
    rota = [d for d in payload["doses"] if d["vaccine"] == "rota"][0]
    assert (rota["session"], rota["status"], rota["where"]) == (
        None,
        "due_now",
        "liên hệ trạm y tế",
    )
    td = [d for d in payload["doses"] if d["vaccine"] == "td"][0]
    assert (td["session"], td["where"]) == (None, "tại trường")
    assert "tại trường" in td["why"][-1]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    table = result.output.split("Ghi chú")[0]
    assert "liên hệ" in table and "tại trường" in table and "tại nơi sinh" not in table
    # the doses without a date are listed with the reason
    assert "Không ghi ngày: Viêm gan B sơ sinh (mũi sơ sinh)" in table


def test_json_says_why_a_dose_has_no_date(runner):
    """The issue's 20-month-old (born 20/03/2025, letter 27/11/2026)."""
    payload = run_json(runner, "--dob", "2025-03-20", "--date", "2026-11-27")
    doses = {(d["vaccine"], d["dose"]): d for d in payload["doses"]}
    measles = doses[("measles", "mũi 1")]
    assert (measles["status"], measles["session"]) == ("catch_up", None)
    assert "trẻ dưới 1 tuổi" in measles["why"][-1] and "19/03/2026" in measles["why"][-1]
    mr = doses[("mr", "mũi 1")]
    assert mr["status"] == "catch_up"
    assert "sởi (mũi 1) chưa có ngày" in mr["why"][-1]
    booster = doses[("dtp", "nhắc lại")]
    assert "5 trong 1 (mũi 3) chưa có ngày" in booster["why"][-1]
