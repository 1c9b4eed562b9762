"""Run the CLI in a real process with faults injected from the test's side (never from
production code): ``python tests/fault_runner.py ARGS`` behaves as ``cchc-letters ARGS``.

Environment (all optional):
- FAULT_PAUSE_AT=module:function — before that function runs, write FAULT_SIGNAL and wait
  (at most two minutes) until FAULT_RELEASE exists;
- FAULT_WORKERS=N — write the batch with N worker processes whatever its size;
- FAULT_SLOW_LETTER=SECONDS — every letter takes this long to render (workers inherit it);
- FAULT_DIE_ON=TEXT — the process aborts (exit 134, as a native crash would) when a batch's
  input path contains TEXT.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _pause_before(target: str) -> None:
    module_name, attr = target.split(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)

    def paused(*args, **kwargs):
        Path(os.environ["FAULT_SIGNAL"]).write_text(target, encoding="utf-8")
        release = Path(os.environ["FAULT_RELEASE"])
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return original(*args, **kwargs)

    setattr(module, attr, paused)


def main() -> None:
    if target := os.environ.get("FAULT_PAUSE_AT"):
        _pause_before(target)
    if workers := os.environ.get("FAULT_WORKERS"):
        from cchc_letters import writing

        writing.worker_count = lambda letters: int(workers)
    if delay := os.environ.get("FAULT_SLOW_LETTER"):
        from cchc_letters import output

        add = output.PrintFile.add

        def slow_add(self, body_xml):
            time.sleep(float(delay))
            return add(self, body_xml)

        output.PrintFile.add = slow_add
    if poison := os.environ.get("FAULT_DIE_ON"):
        from cchc_letters import pipeline, watch

        run_batch = pipeline.run_batch

        def dying_run_batch(options, *args, **kwargs):
            if any(poison in str(p) for p in options.inputs):
                os._exit(134)
            return run_batch(options, *args, **kwargs)

        watch.run_batch = dying_run_batch
    from cchc_letters.cli import main as cli_main

    sys.argv = ["cchc-letters", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
