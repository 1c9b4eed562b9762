"""The processes a run forks: when it may fork at all; what each does first (end when the
run that forked it ends); the address-space limit of one that may be left to expand a
workbook (the reader); and a helper that computes one function's result beside this process
(``Apart``)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """True when this process may fork a helper to work beside it: fork is there (Linux,
    macOS), a second core to run it on, and no other thread (a thread holding a lock at
    the fork would leave that lock held in the helper)."""
    import sys
    import threading

    if (os.cpu_count() or 1) < 2:
        return False
    if not hasattr(os, "fork") or not sys.platform.startswith(("linux", "darwin")):
        return False
    return threading.active_count() == 1


def die_with_parent(parent: int) -> None:
    """End this forked process as soon as the run that forked it (``parent``) dies
    (SIGKILL, a crash), so that it cannot go on for hours on its own (a writer writing into
    the output folder, a reader reading a large register for nobody).

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); elsewhere
    a thread notices the process has been orphaned. Either way a process already orphaned
    before this ran exits at once.
    """
    import signal
    import threading
    import time

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def cap_address_space(headroom: int) -> bool:
    """Limit this process's address space to what it maps now plus ``headroom`` bytes (never
    above a limit it already has); True when it is limited. Linux only: elsewhere the limit
    is not kept to, or not there."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    import resource

    try:
        with open("/proc/self/statm", "rb") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = mapped + headroom
        for given in (soft, hard):
            if given != resource.RLIM_INFINITY:
                limit = min(limit, given)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        return False
    return True


def kill(pid: int) -> None:
    """Send SIGKILL to the forked process ``pid``, unless it is gone already (the caller
    reaps it)."""
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class HelperLost(Exception):
    """A forked helper ended without handing back its result (killed, out of memory, or a
    result or error that could not be pickled): do its work here instead."""


class Apart(Generic[T]):
    """``function()`` computed by a forked helper while this process goes on.

    The helper starts with this process's memory (nothing is pickled on the way there);
    what ``function`` returns, or raises, comes back pickled through a pipe when
    ``result()`` is asked for. Use it only where ``can_fork()``, for work that writes
    nothing this process also writes, and as a ``with`` block: leaving the block stops a
    helper whose result nobody took.
    """

    def __init__(self, function: Callable[[], T]) -> None:
        read_end, write_end = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            _helper(function, read_end, write_end, parent)
        os.close(write_end)
        self._pid = pid
        self._pipe = open(read_end, "rb")  # noqa: SIM115 — closed by close()

    def result(self) -> T:
        """Wait for the helper; return what ``function()`` returned there, or raise what it
        raised. HelperLost when it ended without either."""
        try:
            returned, value = pickle.load(self._pipe)
        except Exception:  # noqa: BLE001 — the helper died before or while it answered
            raise HelperLost("the helper ended without its result") from None
        finally:
            self.close()
        if not returned:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the helper if it is still at work, and reap it."""
        if self._pipe.closed:
            return
        self._pipe.close()
        kill(self._pid)  # (one that has answered is ending anyway)
        os.waitpid(self._pid, 0)

    def __enter__(self) -> Apart[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _helper(function: Callable[[], object], read_end: int, write_end: int, parent: int) -> None:
    status = 1
    try:
        os.close(read_end)
        die_with_parent(parent)
        import gc

        gc.disable()  # short-lived: scanning the parent's objects would only copy their pages
        try:
            message: tuple[bool, object] = (True, function())
        except Exception as exc:  # noqa: BLE001 — handed to the parent, raised there
            message = (False, exc)
        with open(write_end, "wb") as pipe:
            pickle.dump(message, pipe, pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        # Whatever happened (an interrupt, an answer that cannot be pickled): leave at once,
        # running none of the parent's exit handlers; the parent sees HelperLost.
        os._exit(status)
