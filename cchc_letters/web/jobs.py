"""Batches generated from the browser: `pipeline.run_batch` followed by a thread of the app's,
with its progress; a large batch runs in a process of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cchc_letters.errors import CchcError
from cchc_letters.web.security import new_token

log = logging.getLogger("cchc_letters.web")


@dataclass
class Job:
    """One generation: running, done (``result``) or failed (``message``, ``hint``)."""

    id: str
    intake: str
    state: str = "running"
    done: int = 0
    total: int = 0
    result: Any = None
    message: str | None = None
    hint: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "batch": self.result.batch_dir.name if self.result and self.result.batch_dir else None,
            "message": self.message,
        }


def start(
    jobs: dict[str, Job], intake: str, options: Any, after: Callable[[], None] | None = None
) -> Job:
    """Start ``run_batch(options)``, followed by a thread of this process (``_follow``);
    logged to OUT's day log as `generate` is. ``after()`` runs (here) once the batch is
    written (or found to hold nothing new)."""
    job = Job(new_token(), intake)
    jobs[job.id] = job
    job.thread = threading.Thread(target=_follow, args=(job, options, after), daemon=True)
    job.thread.start()
    return job


# A large batch runs in a process of its own (a new Python: ``in_new_python``), not in a
# thread of the app's:
# - that process has one thread, so the run may fork its reader and its writers as the
#   command line does (a process with other threads must not fork: a lock one of them holds
#   would stay held in the child, and the app's pages run in threads);
# - the other officers' pages do not wait for the batch's share of the interpreter: during
#   a batch of 10,000 letters a schedule page took 9 ms (median; 45 ms at most), against
#   64-115 ms (up to 200 ms) with the batch in a thread, and the batch took as long;
# - its memory goes back when it ends (the app kept 159 MB after those 10,000, now 92 MB);
# - a new interpreter works the same on Windows, and, unlike multiprocessing's spawn, does
#   not import the app's own main module again.
# A new Python costs about 0.3 s before it starts on the batch, so a batch whose exports are
# smaller than this runs in the thread (a daily batch: 0.13-0.20 s there, 0.47-0.51 s
# apart), where it forks nothing (writing.worker_count, processes.can_fork).
APART_MIN_BYTES = 64 * 1024
# That process is handed its options pickled on its standard input and answers on its
# standard output: its progress at most this often (seconds), then how it ended.
PROGRESS_EVERY = 0.1
CHILD = "from cchc_letters.web.jobs import run_apart; run_apart()"

Tell = Callable[..., None]  # tell("progress", done, total), then how the batch ended


def _follow(job: Job, options: Any, after: Callable[[], None] | None) -> None:
    """Run the batch (here, or in a process of its own) and keep ``job`` up to date."""
    ended = False

    def hear(kind: str, *said: Any) -> None:
        nonlocal ended
        if kind == "progress":
            job.done, job.total = said
            return
        ended = True
        if kind == "done":
            job.result = said[0]
            if after is not None:
                after()
            job.state = "done"
        elif kind == "failed":
            job.message, job.hint, job.state = said[0], said[1], "failed"
        else:  # ("error", type name): logged by type only, as the app logs its errors
            _unexpected(job, said[0])

    try:
        if not worth_apart(options.inputs):
            _batch(job.intake, options, hear)
            return
        returncode = _apart(job.intake, options, hear)
    except CchcError as exc:  # (from after(): the inbox's lock)
        job.message, job.hint, job.state = exc.message, exc.hint, "failed"
        return
    except Exception as exc:  # noqa: BLE001 — shown as a plain message, logged by type only
        _unexpected(job, type(exc).__name__)
        return
    if not ended:
        log.error("generation process ended without an answer: exit %s", returncode)
        job.message = (
            f"Việc tạo thư dừng bất thường (mã thoát {returncode}). Hãy tạo thư lần nữa: thư "
            "nào đã ghi sổ sẽ không in lại."
        )
        job.state = "failed"


def worth_apart(paths: Any) -> bool:
    """True when work on these exports is worth a process of its own (``APART_MIN_BYTES``)."""
    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            pass  # (the batch, or the check, says what it could not read)
    return total >= APART_MIN_BYTES


def _unexpected(job: Job, error: str) -> None:
    log.error("generation failed: %s", error)
    job.message = f"Lỗi không mong đợi khi tạo thư ({error}); chưa ghi sổ."
    job.state = "failed"


def _apart(intake: str, options: Any, hear: Tell) -> int | None:
    return in_new_python("cchc_letters.web.jobs:batch_apart", (intake, options), hear)


def in_new_python(function: str, argument: Any, hear: Tell) -> int | None:
    """Call ``function`` ("module:name") as ``function(argument, tell)`` in a new Python
    (``run_apart``), handing each message it tells to ``hear``; return its exit status."""
    import os
    import pickle
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-P", "-c", _child_code()], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        with process.stdin:
            pickle.dump((function, argument, os.getpid()), process.stdin)
        while True:
            try:
                message = pickle.load(process.stdout)
            except EOFError:
                break
            hear(*message)
    finally:
        process.stdout.close()
        process.wait()
    return process.returncode


def _child_code() -> str:
    """Return ``CHILD`` importing cchc_letters from where this process did. ``-P`` leaves
    the working folder out of the new Python's path (a folder named cchc_letters there,
    an officer's unpacked copy of another version, was imported instead), and the folder
    this package was imported from comes first."""
    from pathlib import Path

    import cchc_letters

    root = str(Path(cchc_letters.__file__).resolve().parent.parent)
    return f"import sys; sys.path.insert(0, {root!r})\n{CHILD}"


def run_apart() -> None:
    """The new Python of ``in_new_python``: read (function, argument, the app's process id)
    from standard input, call the function, and answer on standard output what it tells."""
    import importlib
    import os
    import pickle
    import sys

    from cchc_letters.processes import die_with_parent

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    try:  # anything printed goes where the app's own output goes, not into the answers
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # (no standard error: an app without console)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    try:
        name, argument, parent = pickle.load(sys.stdin.buffer)
    except Exception:  # noqa: BLE001 — the app went away before it asked: nothing to do
        raise SystemExit(2) from None
    die_with_parent(parent)  # (the app stopped: the work stops as if killed; the ledger holds)
    module, function = name.split(":")

    def answer(*message: Any) -> None:
        pickle.dump(message, answers, pickle.HIGHEST_PROTOCOL)
        answers.flush()

    try:
        getattr(importlib.import_module(module), function)(argument, answer)
    finally:
        answers.close()


def batch_apart(argument: tuple[str, Any], tell: Tell) -> None:
    """``_batch`` in the batch's own process."""
    _batch(*argument, tell)


def _batch(intake: str, options: Any, tell: Tell) -> None:
    """Run the batch, telling its progress (at most every PROGRESS_EVERY s, and its last
    letter), then ("done", the result without its letters), ("failed", message, hint) or
    ("error", the unexpected exception's type)."""
    import time
    from dataclasses import replace

    from cchc_letters.logs import day_log, log_batch
    from cchc_letters.pipeline import local_now, run_batch

    told = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal told
        if done == total or time.monotonic() - told >= PROGRESS_EVERY:
            told = time.monotonic()
            tell("progress", done, total)

    try:
        with day_log(options.out_dir, local_now()) as day:
            try:
                result = run_batch(options, progress=progress)
            except CchcError as exc:
                day.error("%s (exit %d)", exc.message, int(exc.exit_code))
                raise
            log_batch(day, f"office app upload {intake}", result)
    except CchcError as exc:
        tell("failed", exc.message, exc.hint)
    except Exception as exc:  # noqa: BLE001 — told by type only (names stay out of logs)
        tell("error", type(exc).__name__)
    else:
        # What the job's page shows; the letters themselves stay with the run (10,000 of
        # them would cost a second to send).
        tell("done", replace(result, printed=[], issues=[], changed=[], do_not_deliver=[],
                             delivery=None, outputs={}))  # fmt: skip
