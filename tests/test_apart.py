"""processes.Apart: one function's result computed by a forked helper.

The helper starts with this process's memory and hands back what the function returned, or
raised; one that ends without either is HelperLost (its work is then done here), and one
whose result nobody takes is stopped and reaped.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time

import pytest

from cchc_letters import processes
from cchc_letters.processes import Apart, HelperLost

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")


def test_the_helper_works_in_another_process_on_this_ones_memory():
    here = os.getpid()
    table = {n: n * n for n in range(10_000)}  # made here, never pickled on the way there

    def work() -> tuple[int, int]:
        return os.getpid(), sum(table.values())

    with Apart(work) as helper:
        pid, total = helper.result()
    assert pid != here
    assert total == sum(n * n for n in range(10_000))


def test_what_the_function_raises_there_is_raised_here():
    def fails() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/out/giao-thu.docx")

    with Apart(fails) as helper, pytest.raises(OSError) as raised:
        helper.result()
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == "/out/giao-thu.docx"


def test_a_helper_killed_before_it_answers_is_lost():
    def dies() -> int:
        os.kill(os.getpid(), signal.SIGKILL)
        return 1

    with Apart(dies) as helper, pytest.raises(HelperLost):
        helper.result()


def test_a_result_that_cannot_be_pickled_is_lost_not_a_traceback(capfd):
    lock = threading.Lock()

    with Apart(lambda: lock) as helper, pytest.raises(HelperLost):
        helper.result()
    assert "Traceback" not in capfd.readouterr().err


def test_leaving_the_block_stops_and_reaps_a_helper_nobody_asked():
    started = time.monotonic()
    with Apart(lambda: time.sleep(60)) as helper:
        pid = helper._pid
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # reaped: no helper left running, no zombie
        os.waitpid(pid, os.WNOHANG)
    helper.close()  # closing again does nothing


def test_a_process_with_a_second_thread_does_not_fork():
    assert processes.can_fork() == ((os.cpu_count() or 1) >= 2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not processes.can_fork()
    finally:
        stop.set()
        thread.join()
