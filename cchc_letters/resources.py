"""Where the shipped templates and data live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder ``templates`` or ``data``: inside the package when installed,
    at the top of the checkout when run from source."""
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def templates_dir() -> Path:
    """Return the folder of the default letter templates."""
    return resource_dir("templates")


def data_dir() -> Path:
    """Return the folder of shipped data (schedules, column synonyms, profiles, samples)."""
    return resource_dir("data")
