"""What every process a run forks does first: end when the run that forked it ends; and
the address-space limit of one that may be left to expand a workbook (the reader)."""

from __future__ import annotations

import os


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
