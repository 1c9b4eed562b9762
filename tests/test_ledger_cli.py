"""`ledger list`, `ledger show` and `ledger forget` through the command line."""

from __future__ import annotations

import json

from ledger_helpers import LETTER_DATE, key, write_births
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ledger import Ledger

runner = CliRunner()


def make_ledger(tmp_path):
    out = tmp_path / "out"
    export = write_births(tmp_path / "export.csv", range(1, 4))
    args = ["generate", str(export), "--out", str(out), "--date", LETTER_DATE, "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    return out


def test_list_show_and_forget(tmp_path):
    out = make_ledger(tmp_path)

    listed = runner.invoke(app, ["ledger", "list", "--out", str(out)])
    assert listed.exit_code == 0, listed.output
    assert [key(n) in listed.output for n in (1, 2, 3)] == [True] * 3
    assert "batch-2026-11-27-001/khai-sinh-001.docx #2" in listed.output

    as_json = runner.invoke(
        app, ["ledger", "list", "--out", str(out), "--kind", "khai sinh", "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    assert [e["key"] for e in json.loads(as_json.stdout)["letters"]] == [key(1), key(2), key(3)]
    for options in (["--kind", "death"], ["--since", "2999-01-01"]):
        empty = runner.invoke(app, ["ledger", "list", "--out", str(out), "--json", *options])
        assert json.loads(empty.stdout)["letters"] == []

    shown = runner.invoke(app, ["ledger", "show", key(2), "--ledger", str(out / "ledger.sqlite3")])
    assert shown.exit_code == 0 and "khai-sinh-001.docx #2" in shown.output

    forgot = runner.invoke(app, ["ledger", "forget", key(2), key(9), "--out", str(out)])
    assert forgot.exit_code == 3  # one key not found; the other was still forgotten
    assert f"Đã bỏ khỏi sổ: {key(2)}" in forgot.stdout
    assert key(9) in forgot.stderr and "not found" in forgot.stderr
    with Ledger.open(out / "ledger.sqlite3", create=False) as book:
        assert set(book.printed([key(1), key(2), key(3)])) == {key(1), key(3)}
        assert [e.state for e in book.history(key(2))] == ["forgotten"]


def test_forget_reports_each_key_and_exits_0_when_all_end_forgotten(tmp_path):
    out = make_ledger(tmp_path)
    first = runner.invoke(app, ["ledger", "forget", key(1), "--out", str(out)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["ledger", "forget", key(1), key(2), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "already forgotten" in again.stdout and "chưa" not in again.output
    assert f"Đã bỏ khỏi sổ: {key(2)}" in again.stdout
    as_json = runner.invoke(
        app, ["ledger", "forget", key(1), key(3), key(9), "--out", str(out), "--json"]
    )
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["keys"] == {
        key(1): "already_forgotten",
        key(3): "forgotten",
        key(9): "not_found",
    }


def test_ledger_list_kind_has_its_own_help():
    shown = runner.invoke(app, ["ledger", "list", "--help"])
    text = " ".join(shown.output.split())
    assert "Treat every input" not in text
    assert "Only letters of this kind" in text


def test_mistakes_get_a_message_and_an_exit_code(tmp_path):
    out = make_ledger(tmp_path)
    bad_key = runner.invoke(app, ["ledger", "show", "not-a-key", "--out", str(out)])
    assert bad_key.exit_code == 1 and "not a registration key" in bad_key.stderr
    unknown = runner.invoke(app, ["ledger", "show", key(9), "--out", str(out)])
    assert unknown.exit_code == 1 and "not in the ledger" in unknown.stderr
    missing = runner.invoke(app, ["ledger", "list", "--out", str(tmp_path / "elsewhere")])
    assert missing.exit_code == 1 and "no ledger" in missing.stderr
    assert not (tmp_path / "elsewhere").exists()  # looking never creates a ledger
    neither = runner.invoke(app, ["ledger", "list"])
    assert neither.exit_code == 2
    bad_date = runner.invoke(app, ["ledger", "list", "--out", str(out), "--since", "27/11/2026"])
    assert bad_date.exit_code == 2


def test_help_of_the_new_commands_runs_as_a_real_process():
    import subprocess
    import sys

    from ledger_helpers import ROOT

    for command in (["watch", "--help"], ["ledger", "list", "--help"], ["generate", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "cchc_letters", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"},
        )
        assert done.returncode == 0, done.stderr
        assert "--out" in done.stdout
    assert "--reprint-changed" in done.stdout and "--wait" in done.stdout
