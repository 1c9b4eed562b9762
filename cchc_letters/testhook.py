"""Test-only: pause a run at a named step so crash tests can SIGKILL it there.

Inert unless ``CCHC_TEST_PAUSE_AT`` names the step. Then the run writes the step's name to
``CCHC_TEST_PAUSE_SIGNAL`` and waits (at most a minute) until ``CCHC_TEST_PAUSE_RELEASE``
exists. Steps: locked, writing, before-rename, after-rename, after-ledger.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def pause_at(step: str) -> None:
    """Pause here when the test environment asks for ``step``; otherwise do nothing."""
    if os.environ.get("CCHC_TEST_PAUSE_AT") != step:
        return
    if signal := os.environ.get("CCHC_TEST_PAUSE_SIGNAL"):
        Path(signal).write_text(step, encoding="utf-8")
    release = os.environ.get("CCHC_TEST_PAUSE_RELEASE")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (release and Path(release).exists()):
        time.sleep(0.05)


def active() -> bool:
    return "CCHC_TEST_PAUSE_AT" in os.environ
