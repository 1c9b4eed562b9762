"""Writing a batch's letters into its staging folder: print files or one file per letter,
in this process or, for a large batch, in two forked ones.

The files themselves are written by output.py (``PrintFile``, ``write_single_letter``);
this module plans which letters go to which file and who writes it. Positions, file names
and the letters' records (the manifest's rows, batch_outputs) are the same whichever way
the files were written.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters.models import Issue, Kind, PrintedLetter, Registration
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


@dataclass(frozen=True)
class NotRendered:
    """A letter not written (its template failed on that row's data, or it would not fit
    one page): in place of its addressee."""

    message: str  # the TemplateProblem's (the template's path and what failed), or the fit's
    code: str = "template_error"


# What a job gives back for each of its letters, in order: its addressee, or why it failed.
LetterOutcome = str | NotRendered


@dataclass
class Written:
    """What ``write_letters`` put in the staging folder (paths are the final folder's)."""

    letters: dict[Kind, int]
    files: list[Path] = field(default_factory=list)
    printed: list[PrintedLetter] = field(default_factory=list)
    # Letters their template failed on: each that row's rejection (an Issue "template_error").
    not_rendered: list[Issue] = field(default_factory=list)


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
) -> list[list[LetterOutcome]]:
    """Write the files of ``jobs``; return each letter's addressee (or ``NotRendered``), per job.

    A letter its template fails on, or that would not fit one page, is left out (its row
    is rejected, the others print); a file none of whose letters rendered is not written.
    ``letter_done`` is called after each letter (in this process only), while its print
    file is still being written.
    """
    from contextlib import ExitStack

    from cchc_letters import output
    from cchc_letters.pagefit import LetterFit

    results = []
    for job in jobs:
        template = letters.templates[job.kind]
        of_kind = letters.by_kind[job.kind]
        outcomes: list[LetterOutcome] = []
        fit = LetterFit.of(template)
        with ExitStack() as stack:
            print_file = None
            for registration in of_kind[job.start : job.stop]:
                context = letters.context_of(registration)
                body = _body(template, fit, context, print_file.count if print_file else 0)
                if isinstance(body, NotRendered):
                    outcomes.append(body)
                else:
                    if letters.per_letter:
                        output.write_single_letter(template, letters.staging / job.name, body)
                    else:
                        if print_file is None:  # opened by its first letter that renders
                            path = letters.staging / job.name
                            print_file = stack.enter_context(output.PrintFile(template, path))
                        print_file.add(body)
                    outcomes.append(str(context.get("addressee", "")))
                if letter_done:
                    letter_done()
        results.append(outcomes)
    return results


def _body(
    template: LetterTemplate, fit: Any, context: Mapping[str, Any], index: int
) -> str | NotRendered:
    """Return a letter's body XML, or why it is not written: its template fails on its
    data, or it would not fit one page (pagefit's estimate)."""
    from cchc_letters.errors import TemplateProblem

    try:
        body = template.render_body(context, index)
    except TemplateProblem as exc:
        return NotRendered(exc.message)
    if not fit.fits(body):
        return NotRendered(too_long_message(template, fit, body), "letter_too_long")
    return body


# A worker process's letters: set by the pool's initializer in the worker only (the forked
# worker inherits them; nothing but the small Jobs is pickled).
_WORKER_LETTERS: Letters | None = None


def _start_worker(letters: Letters, parent: int | None = None) -> None:
    global _WORKER_LETTERS
    _WORKER_LETTERS = letters
    if parent is not None:
        from cchc_letters.processes import die_with_parent

        die_with_parent(parent)


def _worker_write(jobs: Sequence[Job]) -> list[list[LetterOutcome]]:
    assert _WORKER_LETTERS is not None, "started by _start_worker"
    return write_jobs(_WORKER_LETTERS, jobs)


def worker_count(letters: int) -> int:
    """Return how many processes should write a batch of ``letters`` letters."""
    if letters < PARALLEL_MIN_LETTERS:
        return 1
    from cchc_letters.processes import can_fork

    if not can_fork():  # (a process with other threads: a thread of the office app)
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def run_jobs(
    letters: Letters,
    jobs: list[Job],
    workers: int,
    group: int,
    letter_done: Callable[[], None],
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[tuple[Job, list[LetterOutcome]]]:
    """Yield (job, each letter's addressee or NotRendered) in job order, writing ``group`` jobs per task.

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


def unprintable(
    registrations: Sequence[Registration],
    *,
    templates: Mapping[Kind, LetterTemplate],
    context_of: ContextOf,
) -> list[Issue]:
    """Return the rejection of each registration whose letter the writer would not write
    (``_body``: its template fails on its data, or it would not fit one page), rendering
    every letter and writing none (`check --profile`)."""
    from cchc_letters.pagefit import LetterFit

    issues = []
    for registration in registrations:
        template = templates[registration.kind]
        body = _body(template, LetterFit.of(template), context_of(registration), 0)
        if isinstance(body, NotRendered):
            issues.append(not_rendered_issue(registration, body))
    return issues


def too_long_message(template: LetterTemplate, fit: Any, body: str) -> str:
    """Return why a letter is not written: it would not fit one page (pagefit's estimate)."""
    return (
        f"Thư của dòng này ước tính dài {fit.pages(body):.2f} trang, không vừa một trang "
        f"(mẫu thư {template.path}), nên không in. Kiểm tra các ô dài của dòng (ghi chú, "
        "địa chỉ, tên…) rồi viết gọn, hoặc rút gọn mẫu thư (cchc-letters templates check)."
    )


def not_rendered_issue(registration: Registration, outcome: NotRendered) -> Issue:
    """Return the rejection of a row whose letter was not written: its template failed on
    its data (``template_error``) or its letter would not fit one page
    (``letter_too_long``)."""
    if outcome.code == "template_error":
        message = (
            f"Mẫu thư lỗi với dữ liệu của dòng này, không in thư: {outcome.message}. Sửa mẫu "
            "thư (cchc-letters templates check) hoặc dòng này rồi chạy lại; các dòng khác vẫn "
            "được in."
        )
    else:
        message = outcome.message
    return Issue(code=outcome.code, message=message, source=registration.source)


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
    """Write the print files (or one file per letter) into ``staging``; return what was
    written (the manifest is written with the batch's other outputs, batch_outputs).

    Large batches are split between processes by output file; memory stays flat because
    each print file is streamed to disk as its letters are rendered. ``progress(done,
    total)`` is called after every letter.
    """
    from cchc_letters.kinds import entry

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
            registration.remember_content()
            identity.event(registration)
            identity.subject(registration)

    # Per-letter jobs are tiny: hand them to a worker a hundred at a time.
    group = 100 if per_letter else 1
    workers = worker_count(total)
    for job, outcomes in run_jobs(
        letters, jobs, workers, group, letter_done, meanwhile if workers > 1 else None
    ):
        path = final / job.name
        version = schedule_id if entry(job.kind).uses_schedule else ""
        of_job = letters.by_kind[job.kind][job.start : job.stop]
        position = 0
        for registration, outcome in zip(of_job, outcomes, strict=True):
            if isinstance(outcome, NotRendered):
                written.letters[job.kind] -= 1
                written.not_rendered.append(not_rendered_issue(registration, outcome))
                continue
            position += 1
            key = str(registration.key(commune))
            written.printed.append(
                PrintedLetter(registration, key, outcome, path, position, version)
            )
        if position:
            written.files.append(path)
    return written
