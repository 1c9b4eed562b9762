"""The batch lock (locking.py): its own flock on Linux/macOS excludes filelock's lock on the
same file and is excluded by it (another version of the tool, the office app), and
everything but the plain case is filelock's."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from cchc_letters import locking
from cchc_letters.errors import LockTimeout

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

_FILELOCK_HOLDS = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire(timeout=10)
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""

_FILELOCK_TRIES = """
import sys
from filelock import FileLock, Timeout
try:
    FileLock(sys.argv[1]).acquire(timeout=0)
except Timeout:
    print("busy")
else:
    print("free")
"""


def _filelock_tries(path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _FILELOCK_TRIES, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_the_lock_excludes_filelocks_and_is_released(tmp_path):
    path = tmp_path / locking.LOCK_NAME
    with locking.hold([path], wait=0, what="x"):
        assert _filelock_tries(path) == "busy"
        with pytest.raises(LockTimeout):
            with locking.hold([path], wait=0.2, what="x"):  # another run in this process
                pass
    assert _filelock_tries(path) == "free"
    with locking.hold([path], wait=0, what="x"):  # taken again after its release
        pass


def test_filelocks_lock_excludes_this_one(tmp_path):
    path = tmp_path / locking.LOCK_NAME
    holder = subprocess.Popen(
        [sys.executable, "-c", _FILELOCK_HOLDS, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout, match="waited 0.3 s"):
            with locking.hold([path], wait=0.3, what="x"):
                pass
    finally:
        holder.communicate("\n", timeout=30)
    with locking.hold([path], wait=0, what="x"):
        pass


def test_a_file_system_without_flock_gets_filelocks_own_lock(tmp_path, monkeypatch):
    import fcntl

    taken: list[object] = []

    def no_flock(fd, operation):
        raise OSError(errno.ENOSYS, "no flock here")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    real = locking._filelocked

    def filelocked(*args):
        release = real(*args)
        taken.append(release)
        return release

    monkeypatch.setattr(locking, "_filelocked", filelocked)
    # filelock's own answer to a file system without flock: a soft lock, and it says so
    with pytest.warns(UserWarning, match="SoftFileLock"):
        with locking.hold([tmp_path / "a.lock"], wait=0, what="x"):
            pass
    assert len(taken) == 1 and taken[0] is not None
