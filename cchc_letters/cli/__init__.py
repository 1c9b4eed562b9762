"""The command line: the only place that imports Typer and Rich. Commands register here."""

from __future__ import annotations

# Each module adds its commands to ``app`` when imported; keep heavy imports inside commands.
# One import line per command module, below (kept one per line so branches merge cleanly).
# ruff: noqa: I001
from cchc_letters.cli import generate  # noqa: E402,F401
from cchc_letters.cli import preview  # noqa: E402,F401
from cchc_letters.cli import templates  # noqa: E402,F401
from cchc_letters.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()
