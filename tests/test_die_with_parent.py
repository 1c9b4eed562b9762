"""processes.die_with_parent: a forked helper (a writer, the reader ahead, the office app's
batch process) ends when the process that forked it dies, by either of its two means."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kernel's means (prctl) is Linux's"
)

# A parent that forks a helper calling die_with_parent, then waits to be killed. The helper
# writes its pid and would run for ever. "kernel only" stops the watching thread from
# starting; "watch only" makes prctl unavailable, as it is on macOS.
PARENT = """
import os, sys, threading, time
pid_file, means = sys.argv[1], sys.argv[2]
if os.fork() == 0:
    if means == "kernel only":
        threading.Thread.start = lambda self: None
    if means == "watch only":
        import ctypes
        def no_prctl(*args, **kwargs):
            raise OSError("no prctl here")
        ctypes.CDLL = no_prctl
    from cchc_letters.processes import die_with_parent
    die_with_parent(os.getppid())
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.rename(pid_file + ".tmp", pid_file)
    while True:
        time.sleep(1)
while True:
    time.sleep(1)
"""


def running(pid: int) -> bool:
    """True while ``pid`` runs (an ended process not yet reaped by init is a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(condition, tries: int = 200) -> bool:
    """Poll with time.sleep, which ends under faketime too (a timed wait may not)."""
    for _ in range(tries):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("means", ["kernel only", "watch only"])
def test_the_helper_ends_when_its_parent_is_killed(tmp_path, means):
    pid_file = tmp_path / "helper.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(pid_file), means])
    try:
        assert wait_until(pid_file.exists), "the helper did not start"
        helper = int(pid_file.read_text())
        time.sleep(0.6)  # longer than the watch's half second: it would have ended by now
        assert running(helper)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_until(lambda: not running(helper)), f"the helper outlived its parent ({means})"
    finally:
        parent.kill()
        parent.wait()
        if pid_file.exists() and running(helper := int(pid_file.read_text())):
            os.kill(helper, signal.SIGKILL)


def test_a_helper_orphaned_before_it_asks_ends_at_once():
    code = (
        "import threading; threading.Thread.start = lambda self: None\n"  # (no watch)
        "from cchc_letters.processes import die_with_parent\n"
        "die_with_parent(1)\n"  # (its parent is this test, not init)
        "print('ran on')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (1, "")
