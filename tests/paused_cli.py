"""Run the real CLI, pausing at one step of the batch so a test can SIGKILL it there.

    python tests/paused_cli.py STEP SIGNAL_FILE RELEASE_FILE -- generate ARGS...

The step callback (``run_batch(step=...)``, see cchc_letters/ledger_session.py) writes the
step's name to SIGNAL_FILE when the run reaches STEP, then waits (at most a minute) until
RELEASE_FILE exists. Everything else is the installed command line, unchanged: the test
hook lives here, in the tests, not in the package.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path


def pause_at(wanted: str, signal: Path, release: Path, step: str) -> None:
    if step != wanted:
        return
    signal.write_text(step, encoding="utf-8")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not release.exists():
        time.sleep(0.05)


def main() -> None:
    wanted, signal, release, separator, *args = sys.argv[1:]
    assert separator == "--", __doc__
    from cchc_letters import pipeline
    from cchc_letters.cli import main as cli_main

    step = functools.partial(pause_at, wanted, Path(signal), Path(release))
    pipeline.run_batch = functools.partial(pipeline.run_batch, step=step)
    sys.argv = ["cchc-letters", *args]
    cli_main()


if __name__ == "__main__":
    main()
