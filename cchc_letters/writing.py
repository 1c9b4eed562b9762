"""Writing a batch's letters into its staging folder: print files or one file per letter,
in this process or, for a large batch, in two forked ones, then the manifest.

The files themselves are written by output.py (``PrintFile``, ``write_single_letter``);
this module plans which letters go to which file and who writes it. Positions, file names
and the manifest are the same whichever way the files were written.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters.models import Kind, PrintedLetter, Registration
from cchc_letters.render import LetterTemplate

ProgressCallback = Callable[[int, int], None]
ContextOf = Callable[[Registration], dict[str, Any]]

# A batch this large is written by worker processes (one print file per job), when the
# machine has a second core. At 300 letters two processes already write ~10 % faster
# (0.10 s against 0.11 s); below that, starting them costs about what they save.
PARALLEL_MIN_LETTERS = 300
MAX_WORKERS = 2


@dataclass(frozen=True)
class Job:
    """One output file to write: letters ``start:stop`` of ``kind`` (or one letter)."""

    kind: Kind
    name: str
    start: int
    stop: int


@dataclass(frozen=True)
class Letters:
    """What every job reads: the letters by kind, their templates and context, the folder."""

    by_kind: Mapping[Kind, list[Registration]]
    templates: Mapping[Kind, LetterTemplate]
    context_of: ContextOf
    staging: Path
    per_letter: bool


@dataclass
class Written:
    """What ``write_letters`` put in the staging folder (paths are the final folder's)."""

    letters: dict[Kind, int]
    files: list[Path] = field(default_factory=list)
    printed: list[PrintedLetter] = field(default_factory=list)


def plan_jobs(
    by_kind: Mapping[Kind, list[Registration]], per_file: int, per_letter: bool
) -> list[Job]:
    """Return the files to write: STEM-NNN.docx of ``per_file`` letters, or STEM-thu-NNNNN.docx."""
    from cchc_letters.kinds import entry

    jobs: list[Job] = []
    for kind, of_kind in by_kind.items():
        stem = entry(kind).print_stem
        if per_letter:
            width = max(5, len(str(len(of_kind))))
            jobs.extend(
                Job(kind, f"{stem}-thu-{i + 1:0{width}d}.docx", i, i + 1)
                for i in range(len(of_kind))
            )
        else:
            jobs.extend(
                Job(kind, f"{stem}-{n:03d}.docx", start, min(start + per_file, len(of_kind)))
                for n, start in enumerate(range(0, len(of_kind), per_file), start=1)
            )
    return jobs


def write_jobs(
    letters: Letters, jobs: Sequence[Job], letter_done: Callable[[], None] | None = None
) -> list[list[str]]:
    """Write the files of ``jobs``; return each letter's addressee, per job.

    ``letter_done`` is called after each letter (in this process only), while its print file
    is still being written.
    """
    from cchc_letters import output

    results = []
    for job in jobs:
        template = letters.templates[job.kind]
        of_kind = letters.by_kind[job.kind]
        addressees = []
        if letters.per_letter:
            context = letters.context_of(of_kind[job.start])
            body = template.render_body(context)
            output.write_single_letter(template, letters.staging / job.name, body)
            addressees.append(str(context.get("addressee", "")))
            if letter_done:
                letter_done()
        else:
            with output.PrintFile(template, letters.staging / job.name) as print_file:
                for registration in of_kind[job.start : job.stop]:
                    context = letters.context_of(registration)
                    print_file.add(template.render_body(context, print_file.count))
                    addressees.append(str(context.get("addressee", "")))
                    if letter_done:
                        letter_done()
        results.append(addressees)
    return results


# A worker process's letters: set by the pool's initializer in the worker only (the forked
# worker inherits them; nothing but the small Jobs is pickled).
_WORKER_LETTERS: Letters | None = None


def _start_worker(letters: Letters, parent: int | None = None) -> None:
    global _WORKER_LETTERS
    _WORKER_LETTERS = letters
    if parent is not None:
        _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """End this worker as soon as the run that forked it dies (SIGKILL, a crash), so it
    cannot go on writing into the output folder for hours.

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); elsewhere
    a thread notices the worker has been orphaned. Either way a worker already orphaned
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


def _worker_write(jobs: Sequence[Job]) -> list[list[str]]:
    assert _WORKER_LETTERS is not None, "started by _start_worker"
    return write_jobs(_WORKER_LETTERS, jobs)


def worker_count(letters: int) -> int:
    """Return how many processes should write a batch of ``letters`` letters."""
    import multiprocessing

    if letters < PARALLEL_MIN_LETTERS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def run_jobs(
    letters: Letters,
    jobs: list[Job],
    workers: int,
    group: int,
    letter_done: Callable[[], None],
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[tuple[Job, list[str]]]:
    """Yield (job, addressees) in job order, writing ``group`` jobs per task.

    With more than one worker the jobs are written by forked processes; results come back in
    submission order, so files, positions and the manifest are exactly those of the serial
    path. ``letter_done`` is called once per letter either way: as it is written here, or
    when a worker's file comes back. ``meanwhile()`` is called once the workers have their
    jobs (this process would otherwise only wait), or first when there are none.
    """
    groups = [jobs[i : i + group] for i in range(0, len(jobs), group)]
    if workers <= 1:
        if meanwhile:
            meanwhile()
        for chunk in groups:
            yield from zip(chunk, write_jobs(letters, chunk, letter_done), strict=True)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start with the templates compiled and the letters in memory. Frozen
    # objects are left alone by the workers' garbage collector, so the pages they share with
    # this process are not copied just by being scanned.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(letters, os.getpid())
        ) as pool:
            try:
                written = pool.map(_worker_write, groups)  # every job handed out
                if meanwhile:
                    meanwhile()
                for chunk, results in zip(groups, written, strict=True):
                    for job, addressees in zip(chunk, results, strict=True):
                        for _ in addressees:
                            letter_done()
                        yield job, addressees
            except BaseException:
                # A failed letter (or an interrupted run) stops the batch: do not write the
                # files still queued.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        gc.unfreeze()


def write_letters(
    registrations: list[Registration],
    *,
    templates: Mapping[Kind, LetterTemplate],
    context_of: ContextOf,
    staging: Path,
    final: Path,
    per_file: int,
    per_letter: bool,
    commune: str,
    schedule_id: str,
    progress: ProgressCallback | None = None,
) -> Written:
    """Write the print files (or one file per letter) and the manifest into ``staging``.

    Large batches are split between processes by output file; memory stays flat because
    each print file is streamed to disk as its letters are rendered. ``progress(done,
    total)`` is called after every letter.
    """
    from cchc_letters.kinds import entry
    from cchc_letters.output import write_manifest

    by_kind = {kind: [r for r in registrations if r.kind is kind] for kind in Kind}
    written = Written(letters={kind: len(of_kind) for kind, of_kind in by_kind.items()})
    letters = Letters(
        {k: v for k, v in by_kind.items() if v}, templates, context_of, staging, per_letter
    )
    jobs = plan_jobs(letters.by_kind, per_file, per_letter)
    total, done = len(registrations), 0

    def letter_done() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    def meanwhile() -> None:
        """What the manifest, the ledger and the selection ask of each letter, computed
        while the workers write (each registration remembers it: computed once)."""
        from cchc_letters import identity

        for registration in registrations:
            registration.key(commune)
            registration.content_hash()
            identity.event(registration)
            identity.subject(registration)

    # Per-letter jobs are tiny: hand them to a worker a hundred at a time.
    group = 100 if per_letter else 1
    workers = worker_count(total)
    for job, addressees in run_jobs(
        letters, jobs, workers, group, letter_done, meanwhile if workers > 1 else None
    ):
        path = final / job.name
        version = schedule_id if entry(job.kind).uses_schedule else ""
        of_job = letters.by_kind[job.kind][job.start : job.stop]
        for position, (registration, addressee) in enumerate(
            zip(of_job, addressees, strict=True), start=1
        ):
            key = str(registration.key(commune))
            written.printed.append(
                PrintedLetter(registration, key, addressee, path, position, version)
            )
        written.files.append(path)
    write_manifest(staging, written.printed)
    return written
