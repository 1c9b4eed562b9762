"""run_batch: the one function that drives read → validate → enrich → render → write."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cchc_letters.errors import ExitCode, InputError
from cchc_letters.models import Issue, Kind, Registration

ProgressCallback = Callable[[int, int], None]


def local_now() -> datetime:
    """Return the current local time with its UTC offset (the default ledger clock)."""
    return datetime.now().astimezone()


@dataclass(frozen=True)
class BatchOptions:
    """What one `generate` run is asked to do."""

    inputs: Sequence[Path]
    out_dir: Path
    letter_date: date
    profile_path: Path | None = None
    kind: Kind | None = None
    mapping: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    schedule_id: str | None = None
    per_file: int = 200
    per_letter: bool = False  # one DOCX per letter instead of print files of per_file letters
    pdf: bool = False
    # ledger (issue 6): what was already printed is skipped; see cchc_letters/ledger.py
    ledger: Path | None = None  # default: out_dir / ledger.sqlite3
    use_ledger: bool = True
    reprint_changed: bool = False
    new_ledger: bool = False  # accept a ledger that does not know the batch folders in out_dir
    wait: float = 600.0  # seconds to wait for another run holding the output folder's lock
    clock: Callable[[], datetime] = local_now


@dataclass
class PrintedLetter:
    """One letter written to a print file (a manifest row)."""

    registration: Registration
    key: str
    addressee: str
    print_file: Path
    position: int
    schedule_version: str = ""


@dataclass
class ChangedRecord:
    """A registration whose content differs from the letter already printed for it."""

    registration: Registration
    key: str
    previous: Any  # ledger.LedgerEntry of the letter printed before
    reprinted: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "content_hash": self.registration.content_hash(),
            "printed_content_hash": self.previous.content_hash,
            "printed_batch": self.previous.batch,
            "printed_file": self.previous.print_file,
            "printed_position": self.previous.position,
            "printed_at": self.previous.printed_at,
            "reprinted": self.reprinted,
            "source": str(self.registration.source),
        }


@dataclass
class BatchResult:
    """What a batch produced; ``to_json()`` is the `generate --json` object."""

    batch_dir: Path | None
    letters: dict[Kind, int]
    files: list[Path]
    rejected: int
    rejects_file: Path | None
    manifest_file: Path | None
    rows_read: int = 0
    duplicates: int = 0
    unreadable_files: int = 0
    skipped_already_printed: int = 0
    profile_path: Path | None = None
    profile_is_default: bool = False
    pdf_files: list[Path] = field(default_factory=list)
    pdf_message: str | None = None
    issues: list[Issue] = field(default_factory=list)
    printed: list[PrintedLetter] = field(default_factory=list)
    changed: list[ChangedRecord] = field(default_factory=list)
    changed_file: Path | None = None
    recovered: list[Path] = field(default_factory=list)  # batches reconciled from a crash
    removed_incomplete: list[Path] = field(default_factory=list)  # dead staging folders

    @classmethod
    def failed_json(cls) -> dict[str, Any]:
        """Return the ``to_json()`` keys of a run that wrote nothing (for a fatal error)."""
        payload = cls(None, {}, [], 0, None, None).to_json()
        del payload["exit_code"]
        return payload

    @property
    def exit_code(self) -> ExitCode:
        """0 when every row became a letter; 3 when any row or file was rejected."""
        return ExitCode.REJECTED if self.rejected or self.unreadable_files else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_dir": str(self.batch_dir) if self.batch_dir else None,
            "letters": {kind.value: self.letters.get(kind, 0) for kind in Kind},
            "files": [str(p) for p in self.files],
            "rejected": self.rejected,
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "skipped_already_printed": self.skipped_already_printed,
            "changed": [c.to_json() for c in self.changed],
            "changed_file": str(self.changed_file) if self.changed_file else None,
            "recovered_batches": [str(p) for p in self.recovered],
            "removed_incomplete": [str(p) for p in self.removed_incomplete],
            "manifest": str(self.manifest_file) if self.manifest_file else None,
            "rows_read": self.rows_read,
            "duplicates": self.duplicates,
            "unreadable_files": self.unreadable_files,
            "pdf_files": [str(p) for p in self.pdf_files],
            "pdf_message": self.pdf_message,
            "profile": str(self.profile_path) if self.profile_path else None,
            "exit_code": int(self.exit_code),
        }


def run_batch(options: BatchOptions, progress: ProgressCallback | None = None) -> BatchResult:
    """Run one batch (see ``_run_batch``); a fault of the machine while writing (disk full,
    device error) is a WriteFailed naming what could not be written, never a traceback.
    Raises BatchNotRecorded (exit 5) when the batch is in place but the ledger commit failed.
    """
    from cchc_letters.errors import write_failed

    try:
        return _run_batch(options, progress)
    except OSError as exc:
        raise write_failed(exc, str(exc.filename or options.out_dir)) from None


def _run_batch(options: BatchOptions, progress: ProgressCallback | None = None) -> BatchResult:
    """Run one batch: every good registration becomes a letter; every bad row an Issue.

    Phase 1 reads, validates and checks the templates and schedule without writing anything;
    phase 2 writes the batch folder under a temporary name and renames it when complete.
    Between them, under the output folder's lock, registrations already in the ledger are
    skipped (corrected ones reported, reprinted only with ``reprint_changed``); the batch's
    letters are recorded in the ledger after the rename. With no letter to print, no batch
    folder is made (``batch_dir`` None): duplicates never force one, and that run's rejects
    and corrected records go to ``OUT/reports/YYYY-MM-DD-NNN-rejects.csv`` / ``-changed.csv``.
    Raises LockTimeout (exit 4) when another
    run holds the lock longer than ``options.wait``.
    Raises CchcError (no letters written) for a bad profile, template or schedule, or when no
    input could be read at all.
    """
    from cchc_letters import output
    from cchc_letters.enrich import letter_context
    from cchc_letters.ingest import read_inputs
    from cchc_letters.profile import load_profile
    from cchc_letters.templatecheck import check_templates
    from cchc_letters.validate import validate_rows

    # ---- phase 1: read, validate, check (nothing written) ----
    profile = load_profile(options.profile_path)
    read = read_inputs(
        options.inputs,
        kind=options.kind,
        mapping=options.mapping,
        encoding=options.encoding,
        delimiter=options.delimiter,
    )
    if not read.files and read.issues:
        details = "; ".join(f"{i.file}: {i.message}" for i in read.issues)
        raise InputError(f"không đọc được tệp đầu vào nào (no input could be read): {details}")
    checked = validate_rows(read.rows, letter_date=options.letter_date)
    registrations = checked.registrations
    kinds = {r.kind for r in registrations}
    # The same check as `templates check` (without the LibreOffice page count): a broken
    # template stops the run here, before anything is written.
    templates = check_templates(
        profile.templates_dir,
        kinds=kinds,
        profile=profile,
        layout=False,
        letter_date=options.letter_date,
    ).raise_for_errors()
    schedule_version = None
    if Kind.BIRTH in kinds:
        from cchc_letters.schedule import load_versions, version_for

        schedule_version = version_for(options.letter_date, load_versions(), options.schedule_id)
    issues = [*read.issues, *checked.issues]
    rejected = sum(1 for i in checked.issues if i.severity == "error")

    def context_of(registration: Registration) -> dict[str, Any]:
        return letter_context(registration, profile, options.letter_date, schedule_version)

    # Render the first letter of each kind now, so a template that fails on real data
    # stops the run before anything is written.
    for kind, template in templates.items():
        first = next(r for r in registrations if r.kind is kind)
        template.render_body(context_of(first))

    # ---- ledger: under the output folder's lock, skip what was already printed ----
    session = _LedgerSession.start(options)
    try:
        selection = session.select(registrations, profile.commune_code or profile.commune_name)
        if not selection.to_print:
            # No letter to print: no batch folder (an empty one would be added on every rerun
            # of a cumulative export). Rejects and corrected records go to OUT/reports/.
            result = _nothing_new(checked, profile, options)
            result.unreadable_files = sum(1 for i in read.issues if i.source is None)
            result.rejected = rejected
            result.issues = issues
            _write_reports(result, selection.changed, options)
            session.close()
            return session.finish(result, selection)
        # ---- phase 2: write ----
        staging, final = output.new_batch_dir(options.out_dir, options.letter_date)
        if not options.use_ledger:  # so no ledger takes this folder for one it has lost
            from cchc_letters.ledger import ONE_OFF_MARK

            (staging / ONE_OFF_MARK).write_bytes(b"")
        session.begin(final)
    except BaseException:
        session.close()
        raise
    if session.pausing:
        progress = session.pausing_progress(progress)
    try:
        result = _write_batch(
            options,
            selection.to_print,
            templates,
            context_of,
            staging,
            final,
            profile,
            progress,
            schedule_version.id if schedule_version else "",
        )
        result.rows_read = checked.rows_read
        result.duplicates = checked.duplicates
        result.unreadable_files = sum(1 for i in read.issues if i.source is None)
        result.rejected = rejected
        result.issues = issues
        result.profile_path = profile.path
        result.profile_is_default = options.profile_path is None
        if issues:
            output.write_csv(
                staging / output.REJECTS_NAME, output.REJECT_COLUMNS, output.reject_rows(issues)
            )
            result.rejects_file = final / output.REJECTS_NAME
        if options.pdf and result.files:
            from cchc_letters.pdf import PdfUnavailable, convert_to_pdf

            try:
                pdfs = convert_to_pdf([staging / p.name for p in result.files], staging)
                result.pdf_files = [final / p.name for p in pdfs]
            except PdfUnavailable as exc:
                result.pdf_message = str(exc)
        if selection.changed:
            output.write_csv(
                staging / output.CHANGED_NAME,
                output.CHANGED_COLUMNS,
                output.changed_rows(selection.changed),
            )
            result.changed_file = final / output.CHANGED_NAME
        session.pause_at("before-rename")
        output.finish_batch(staging, final, _own_files(result))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        session.abandon()
        raise
    # only now, with the folder in place; closes the session
    return session.finish(_commit(session, result, selection), selection)


def _commit(session: _LedgerSession, result: BatchResult, selection: _Selection) -> BatchResult:
    """Record the batch in the ledger. When that fails (disk full at the commit), the batch
    is complete and in place all the same: say so (BatchNotRecorded), with its ``--json``
    fields; it stays ``writing`` in the ledger and the next run records it from its manifest.
    """
    from cchc_letters.errors import BatchNotRecorded, CchcError

    try:
        session.commit(result.printed)
    except (CchcError, OSError) as exc:
        reason = exc.message if isinstance(exc, CchcError) else (exc.strerror or str(exc))
        letters = sum(result.letters.values())
        raise BatchNotRecorded(
            f"lô thư {result.batch_dir} đã ghi đủ {letters} thư và nằm đúng chỗ, nhưng sổ theo "
            f"dõi chưa ghi nhận được ({reason}) (the batch is complete and in place; the "
            "ledger could not record it)",
            hint="Đừng xoá lô thư này: in và giao như thường. Lần chạy sau (khi đĩa còn chỗ) "
            "tự ghi nó vào sổ từ manifest.csv, không in lại thư nào.",
            details=session.finish(result, selection).to_json(),
        ) from None
    return result


def _own_files(result: BatchResult) -> list[str]:
    """Return the names of the files a batch wrote (print files, PDFs, reports)."""
    paths = [*result.files, *result.pdf_files, result.manifest_file]
    paths += [result.rejects_file, result.changed_file]
    return [p.name for p in paths if p is not None]


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker as soon as the run that forked it dies (SIGKILL,
    a crash), so it cannot go on writing into the output folder for hours.

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


# A batch this large is written by worker processes (one print file per job), when the
# machine has a second core. At 300 letters two processes already write ~10 % faster
# (0.10 s against 0.11 s); below that, starting them costs about what they save.
PARALLEL_MIN_LETTERS = 300
MAX_WORKERS = 2


@dataclass(frozen=True)
class _Job:
    """One output file to write: letters ``start:stop`` of ``kind`` (or one letter)."""

    kind: Kind
    name: str
    start: int
    stop: int


# What the worker processes need, set just before they are forked and inherited by them
# (so nothing but the small _Job is pickled): letters by kind, templates, context function.
_SHARED: tuple | None = None


def _plan_jobs(by_kind: dict[Kind, list[Registration]], per_file: int, per_letter: bool):
    from cchc_letters import output

    jobs = []
    for kind, of_kind in by_kind.items():
        stem = output.PRINT_FILE_STEMS[kind]
        if per_letter:
            width = max(5, len(str(len(of_kind))))
            jobs.extend(
                _Job(kind, f"{stem}-thu-{i + 1:0{width}d}.docx", i, i + 1)
                for i in range(len(of_kind))
            )
        else:
            jobs.extend(
                _Job(kind, f"{stem}-{n:03d}.docx", start, min(start + per_file, len(of_kind)))
                for n, start in enumerate(range(0, len(of_kind), per_file), start=1)
            )
    return jobs


def _write_jobs(
    jobs: Sequence[_Job], letter_done: Callable[[], None] | None = None
) -> list[list[str]]:
    """Write the files of ``jobs`` from the shared state; return each letter's addressee.

    ``letter_done`` is called after each letter (in this process only), while its print file
    is still being written.
    """
    from cchc_letters import output

    assert _SHARED is not None
    by_kind, templates, context_of, staging, per_letter = _SHARED
    results = []
    for job in jobs:
        template = templates[job.kind]
        addressees = []
        if per_letter:
            context = context_of(by_kind[job.kind][job.start])
            output.write_single_letter(template, staging / job.name, template.render_body(context))
            addressees.append(str(context.get("addressee", "")))
            if letter_done:
                letter_done()
        else:
            with output.PrintFile(template, staging / job.name) as print_file:
                for registration in by_kind[job.kind][job.start : job.stop]:
                    context = context_of(registration)
                    print_file.add(template.render_body(context, print_file.count))
                    addressees.append(str(context.get("addressee", "")))
                    if letter_done:
                        letter_done()
        results.append(addressees)
    return results


def _worker_count(letters: int) -> int:
    """Return how many processes should write a batch of ``letters`` letters."""
    import multiprocessing

    if letters < PARALLEL_MIN_LETTERS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _run_jobs(jobs: list[_Job], workers: int, group: int, letter_done: Callable[[], None]):
    """Yield (job, addressees) in job order, writing ``group`` jobs per task.

    With more than one worker the jobs are written by forked processes that inherit
    ``_SHARED``; results come back in submission order, so files, positions and the manifest
    are exactly those of the serial path. ``letter_done`` is called once per letter either
    way: as it is written here, or when a worker's file comes back.
    """
    groups = [jobs[i : i + group] for i in range(0, len(jobs), group)]
    if workers <= 1:
        for chunk in groups:
            yield from zip(chunk, _write_jobs(chunk, letter_done), strict=True)
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
            workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            try:
                for chunk, results in zip(groups, pool.map(_write_jobs, groups), strict=True):
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


def _write_batch(
    options: BatchOptions,
    registrations: list[Registration],
    templates: dict,
    context_of: Callable[[Registration], dict[str, Any]],
    staging: Path,
    final: Path,
    profile: Any,
    progress: ProgressCallback | None,
    schedule_id: str,
) -> BatchResult:
    """Write the print files (or one file per letter) and the manifest into ``staging``.

    Large batches are split between processes by output file; memory stays flat because
    each print file is streamed to disk as its letters are rendered.
    """
    global _SHARED
    from cchc_letters import output

    by_kind = {kind: [r for r in registrations if r.kind is kind] for kind in Kind}
    letters = {kind: len(of_kind) for kind, of_kind in by_kind.items()}
    jobs = _plan_jobs({k: v for k, v in by_kind.items() if v}, options.per_file, options.per_letter)
    total, done = len(registrations), 0
    files: list[Path] = []
    printed: list[PrintedLetter] = []
    commune = profile.commune_code or profile.commune_name
    workers = _worker_count(total)
    # Per-letter jobs are tiny: hand them to a worker a hundred at a time.
    group = 100 if options.per_letter else 1
    _SHARED = (by_kind, templates, context_of, staging, options.per_letter)

    def letter_done() -> None:  # progress(done, total) after every letter, as before
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    try:
        for job, addressees in _run_jobs(jobs, workers, group, letter_done):
            path = final / job.name
            for position, (registration, addressee) in enumerate(
                zip(by_kind[job.kind][job.start : job.stop], addressees, strict=True), start=1
            ):
                printed.append(
                    PrintedLetter(
                        registration=registration,
                        key=str(registration.key(commune)),
                        addressee=addressee,
                        print_file=path,
                        position=position,
                        schedule_version=schedule_id if job.kind is Kind.BIRTH else "",
                    )
                )
            files.append(path)
    finally:
        _SHARED = None
    output.write_csv(
        staging / output.MANIFEST_NAME,
        output.MANIFEST_COLUMNS,
        (
            (
                p.registration.kind.value,
                p.key,
                p.registration.number,
                p.registration.book,
                p.registration.registration_date.isoformat(),
                p.addressee,
                p.print_file.name,
                p.position,
                p.schedule_version,
                p.registration.content_hash(),
                p.registration.source.file,
                p.registration.source.sheet or "",
                p.registration.source.row,
            )
            for p in printed
        ),
    )
    return BatchResult(
        batch_dir=final,
        letters=letters,
        files=files,
        rejected=0,
        rejects_file=None,
        manifest_file=final / output.MANIFEST_NAME,
        printed=printed,
    )


# ---- the ledger around a batch (issue 6) ------------------------------------------------


@dataclass
class _Selection:
    to_print: list[Registration]
    changed: list[ChangedRecord]
    skipped: int = 0


def _nothing_new(checked: Any, profile: Any, options: BatchOptions) -> BatchResult:
    return BatchResult(
        batch_dir=None,
        letters={},
        files=[],
        rejected=0,
        rejects_file=None,
        manifest_file=None,
        rows_read=checked.rows_read,
        duplicates=checked.duplicates,
        profile_path=profile.path,
        profile_is_default=options.profile_path is None,
    )


def _write_reports(result: BatchResult, changed: list[ChangedRecord], options: BatchOptions):
    """Write a run's rejects and changed records to ``OUT/reports/`` (no batch folder).

    Only when there is something to look at: rejected rows, unreadable files or corrected
    records; exact duplicates alone are not worth a file.
    """
    from cchc_letters import output

    if not (result.rejected or result.unreadable_files or changed):
        return
    stem = output.new_report_stem(options.out_dir, options.letter_date)
    if result.issues:
        result.rejects_file = stem.with_name(f"{stem.name}-rejects.csv")
        output.write_csv(
            result.rejects_file, output.REJECT_COLUMNS, output.reject_rows(result.issues)
        )
    if changed:
        result.changed_file = stem.with_name(f"{stem.name}-changed.csv")
        output.write_csv(result.changed_file, output.CHANGED_COLUMNS, output.changed_rows(changed))


class _LedgerSession:
    """The output folder's lock and ledger, held from selection to the ledger commit.

    The order is the exactly-once argument: lock; clean up after dead runs; select what is
    not yet printed; register the batch as ``writing``; write it under a staging name; rename
    it into place (the commit point); record its letters in one transaction; unlock.
    """

    def __init__(self, options: BatchOptions) -> None:
        from contextlib import ExitStack

        from cchc_letters import testhook

        self.options = options
        self.pausing = testhook.active()
        self.pause_at = testhook.pause_at
        self._stack = ExitStack()
        self.ledger: Any = None
        self.batch_id: int | None = None
        self.final: Path | None = None
        self.recovered: list[Path] = []
        self.removed: list[Path] = []
        self.unrecorded: list[Path] = []  # folders accepted unrecorded (--new-ledger)

    @classmethod
    def start(cls, options: BatchOptions) -> _LedgerSession:
        from cchc_letters import ledger, locking, output

        session = cls(options)
        out_dir = output.ensure_out_dir(options.out_dir)
        ledger_path = options.ledger or ledger.default_path(out_dir)
        locks = locking.batch_locks(out_dir, ledger_path if options.use_ledger else None)
        try:
            session._stack.enter_context(locking.hold(locks, wait=options.wait, what=str(out_dir)))
            session.pause_at("locked")
            session.removed = output.remove_incomplete(out_dir)
            if options.use_ledger:
                session.ledger = session._stack.enter_context(ledger.Ledger.open(ledger_path))
                recovery = ledger.recover_pending(
                    session.ledger, now=options.clock(), manifest_name=output.MANIFEST_NAME
                )
                session.recovered = recovery.recovered
                session.unrecorded = ledger.check_folder(
                    session.ledger, out_dir, accept=options.new_ledger, now=options.clock()
                )
        except BaseException:
            session.close()
            raise
        return session

    def select(self, registrations: list[Registration], commune: str) -> _Selection:
        """Return what to print: one letter per key, none already printed with this content
        (unless --reprint-changed), and the corrected records to report."""
        selection = _Selection([], [])
        # validate_rows has left one registration per key (the same canonical key as
        # here): a repeat is a duplicate, and every version of a conflicting one is rejected.
        keyed = [(str(r.key(commune)), r) for r in registrations]
        first = dict(keyed)
        assert len(first) == len(keyed), "validate_rows leaves one registration per key"
        printed = self.ledger.printed(first) if self.ledger else {}
        for key, registration in keyed:
            previous = printed.get(key)
            if previous is None:
                selection.to_print.append(registration)
            elif previous.content_hash in registration.content_hashes():
                selection.skipped += 1
            else:
                reprint = self.options.reprint_changed
                selection.changed.append(ChangedRecord(registration, key, previous, reprint))
                if reprint:
                    selection.to_print.append(registration)
        return selection

    def begin(self, final: Path) -> None:
        self.final = final
        if self.ledger:
            self.batch_id = self.ledger.begin_batch(final, now=self.options.clock())

    def pausing_progress(self, progress: ProgressCallback | None) -> ProgressCallback:
        def step(done: int, total: int) -> None:
            if done == 1:
                self.pause_at("writing")
            if progress:
                progress(done, total)

        return step

    def abandon(self) -> None:
        """The batch failed before its rename: mark it abandoned (best effort) and unlock."""
        try:
            if self.ledger and self.batch_id is not None:
                self.ledger.abandon_batch(self.batch_id, now=self.options.clock())
        except Exception:  # the next run settles a batch left "writing"
            pass
        finally:
            self.close()

    def commit(self, printed: list[PrintedLetter]) -> None:
        """Record the batch's letters in one transaction, then unlock."""
        from cchc_letters.ledger import LetterRecord

        try:
            self.pause_at("after-rename")
            if self.ledger and self.batch_id is not None:
                from cchc_letters.output import sync_batch

                sync_batch(self.final)  # the rename must be on disk before the ledger says so
                letters = [
                    LetterRecord(
                        p.key, p.registration.content_hash(), p.print_file.name, p.position
                    )
                    for p in printed
                ]
                self.ledger.record_batch(self.batch_id, letters, now=self.options.clock())
            self.pause_at("after-ledger")
        finally:
            self.close()

    def finish(self, result: BatchResult, selection: _Selection) -> BatchResult:
        result.skipped_already_printed = selection.skipped
        result.changed = selection.changed
        result.recovered = self.recovered
        result.removed_incomplete = self.removed
        return result

    def close(self) -> None:
        self._stack.close()
