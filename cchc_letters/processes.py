"""What every process a run forks does first: end when the run that forked it ends."""

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
