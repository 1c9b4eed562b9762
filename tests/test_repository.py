"""Run output never shows up in git: ledgers, batches, locks, logs and reports hold people's names."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc_letters.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


def _untracked_under(folder: Path) -> list[str]:
    shown = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.splitlines()


@pytest.fixture
def folder_in_checkout():
    if not (ROOT / ".git").exists():  # an unpacked sdist: there is no git to ask
        pytest.skip("not a git checkout")
    folder = ROOT / f"run-output-check-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow  # asks git (a child process)
def test_a_run_inside_the_checkout_leaves_nothing_git_would_commit(folder_in_checkout):
    out = folder_in_checkout / "out-of-a-run"
    inbox = folder_in_checkout / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "registrations.csv", inbox / "today.csv")
    (inbox / "broken.csv").write_bytes(b"\x80\x81\x82\n")
    args = ["--out", str(out), "--date", "2026-11-27"]

    inputs = [str(SAMPLE / "registrations.csv"), str(SAMPLE / "registry-export")]
    first = CliRunner().invoke(app, ["generate", *inputs, *args])
    assert first.exit_code == 3, first.output  # the untidy sample export has a row to fix
    again = CliRunner().invoke(app, ["generate", *inputs, *args])  # nothing new: reports/
    assert again.exit_code == 3, again.output
    watched = CliRunner().invoke(app, ["watch", str(inbox), *args, "--once", "--settle", "0"])
    assert watched.exit_code == 3, watched.output

    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert {"ledger.sqlite3", "logs", "reports"} <= written
    assert any(name.startswith("batch-") for name in written)
    assert list((inbox / "failed").glob("*.reason.txt"))
    assert _untracked_under(out) == []
    # In the inbox only the exports themselves remain visible (the officer's own files, moved
    # to processed/ or failed/); what the run wrote beside them (.reason.txt) is ignored.
    left = sorted(Path(line[3:]).name for line in _untracked_under(inbox))
    assert left == ["broken.csv", "today.csv"]


def test_the_repository_tracks_no_run_output():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    run_output = [
        name
        for name in tracked
        if name.endswith((".sqlite3", ".cchc-letters.lock", ".log", ".reason.txt"))
        or "/batch-" in f"/{name}"
    ]
    assert run_output == []
