"""LibreOffice dies with the run (issue 11): a `generate --pdf` SIGKILLed while soffice
converts leaves no soffice (launcher or soffice.bin) converting into its output folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest
from docx_edit import require_soffice
from fault_helpers import fault_process, generate_args
from ledger_helpers import write_births


def converters_of(out: Path) -> list[psutil.Process]:
    """The LibreOffice processes (and their watcher) converting into ``out``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(out) in cmdline and "--convert-to" in cmdline:
            found.append(proc)
    return found


def soffice_bin_started(out: Path) -> bool:
    return any("soffice.bin" in " ".join(p.info["cmdline"] or []) for p in converters_of(out))


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL and process groups of POSIX")
def test_soffice_dies_when_the_run_is_sigkilled_during_pdf(tmp_path):
    require_soffice()
    out = tmp_path / "out"
    export = write_births(tmp_path / "births.csv", range(1, 61))
    # TMPDIR: the LibreOffice profiles of the killed run stay in the test folder.
    run = fault_process(
        *generate_args([export], out, "--per-letter", "--pdf"), env={"TMPDIR": str(tmp_path)}
    )
    try:
        deadline = time.monotonic() + 120
        while not soffice_bin_started(out):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "soffice.bin never started"
            time.sleep(0.05)
        run.kill()  # SIGKILL: no handler, no clean-up of our own runs
        run.communicate(timeout=10)  # (and closes its pipes)
        deadline = time.monotonic() + 5
        while converters_of(out) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [" ".join(p.cmdline())[:120] for p in converters_of(out) if p.is_running()]
        assert left == [], left
    finally:
        for proc in converters_of(out):  # what this test started, should it have lived on
            try:
                proc.kill()
            except psutil.Error:
                pass
        if run.poll() is None:
            run.kill()
            run.communicate()
