"""The command line: the only place that imports Typer and Rich. Commands register here."""

from __future__ import annotations

from cchc_letters.cli.app import app

# Each module adds its commands to ``app`` when imported; keep heavy imports inside commands.
# One import line per command module, below.
from cchc_letters.cli import generate  # noqa: E402,F401
from cchc_letters.cli import check  # noqa: E402,F401
from cchc_letters.cli import schedule  # noqa: E402,F401
from cchc_letters.cli import templates  # noqa: E402,F401
from cchc_letters.cli import preview  # noqa: E402,F401
from cchc_letters.cli import ledger  # noqa: E402,F401
from cchc_letters.cli import watch  # noqa: E402,F401
from cchc_letters.cli import serve  # noqa: E402,F401
from cchc_letters.cli import sessions  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()
