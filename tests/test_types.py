"""The package passes mypy --strict (configured in pyproject.toml, [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a type check of the whole package: seconds, tens of seconds cold
def test_the_package_type_checks_strictly():
    checked = subprocess.run(
        [sys.executable, "-m", "mypy"],  # what and how strictly: pyproject.toml
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found" in checked.stdout
