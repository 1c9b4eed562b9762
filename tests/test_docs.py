"""The README stays true: the command reference matches --help, CI runs the README's command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli_reference():
    path = ROOT / "tools" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_command_reference_matches_help():
    module = _cli_reference()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module.render_readme(text) == text, "run: python tools/cli_reference.py"


def test_every_command_is_documented():
    from typer.main import get_command

    from cchc_letters.cli import app

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in get_command(app).commands:
        assert f"### `cchc-letters {name}" in text, name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if "pytest" in line and "pip" in line)
    assert command.strip() in readme
