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
    from importlib.metadata import version

    # The help text's layout is typer's: a venv with another typer than pyproject.toml allows
    # (pip install -e . after a pin changed) shows a different reference, not a wrong README.
    assert module.render_readme(text) == text, (
        f"run: python tools/cli_reference.py (with the typer pyproject.toml asks for; "
        f"this is typer {version('typer')})"
    )


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


def test_ci_runs_the_suite_again_two_years_ahead_on_a_day_of_tet():
    from datetime import date

    spec = importlib.util.spec_from_file_location("ci_clock", ROOT / "tools" / "ci_clock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Tết 2028 is 26/01/2028 in Vietnam (UTC+7); 2030's is 02/02 (03/02 in China, UTC+8).
    assert module.ci_clock(date(2026, 12, 1)) == "2028-01-27 10:00:00"
    assert module.ci_clock(date(2028, 5, 1)) == "2030-02-03 10:00:00"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'faketime "$(python tools/ci_clock.py)"' in ci or (
        "clock=$(python tools/ci_clock.py)" in ci and 'faketime "$clock" python -m pytest' in ci
    )
