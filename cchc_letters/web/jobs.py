"""Batches generated from the browser: `pipeline.run_batch` in a thread, with its progress."""

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
    """Start ``run_batch(options)`` in a thread, logged to OUT's day log as `generate` is;
    ``after()`` runs once the batch is written (or found to hold nothing new)."""
    job = Job(new_token(), intake)
    jobs[job.id] = job
    job.thread = threading.Thread(target=_run, args=(job, options, after), daemon=True)
    job.thread.start()
    return job


def _run(job: Job, options: Any, after: Callable[[], None] | None) -> None:
    from cchc_letters.logs import day_log, log_batch
    from cchc_letters.pipeline import local_now, run_batch

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        with day_log(options.out_dir, local_now()) as day:
            try:
                job.result = run_batch(options, progress=progress)
            except CchcError as exc:
                day.error("%s (exit %d)", exc.message, int(exc.exit_code))
                raise
            log_batch(day, f"office app upload {job.intake}", job.result)
            if after is not None:
                after()
        job.state = "done"
    except CchcError as exc:
        job.message, job.hint, job.state = exc.message, exc.hint, "failed"
    except Exception as exc:  # noqa: BLE001 — shown as a plain message, logged by type only
        log.error("generation failed: %s", type(exc).__name__)
        job.message = f"Lỗi không mong đợi khi tạo thư ({type(exc).__name__}); chưa ghi sổ."
        job.state = "failed"
