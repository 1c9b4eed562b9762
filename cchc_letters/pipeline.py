"""run_batch: the one function that drives a batch, read as its plan.

prepare (read, validate, load the templates, lint them; nothing written) → select against
the ledger → write → commit → result. Each step is one call into the module that owns it:
ingest, validate, render/templatelint, ledger_session, writing/output, batch_outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cchc_letters.errors import InputError
from cchc_letters.ledger_session import LedgerSession, StepCallback, no_step
from cchc_letters.models import (
    BatchResult,
    ChangedRecord,
    Issue,
    Kind,
    PrintedLetter,
    Registration,
)
from cchc_letters.options import BatchOptions, local_now
from cchc_letters.render import LetterTemplate
from cchc_letters.writing import ProgressCallback


@dataclass
class Prepared:
    """A batch's input, checked, with nothing written yet (``prepare``)."""

    options: BatchOptions
    profile: Any  # profile.Profile
    registrations: list[Registration]
    issues: list[Issue]  # of the files and the rows, in reading order
    rows_read: int
    duplicates: int
    rejected: int
    unreadable_files: int
    templates: Mapping[Kind, LetterTemplate]
    schedule_version: Any  # schedule.ScheduleVersion, or None when no letter needs one

    @property
    def commune(self) -> str:
        return str(self.profile.commune_code or self.profile.commune_name)

    def context_of(self, registration: Registration) -> dict[str, Any]:
        """Return the template context of one of the batch's letters."""
        from cchc_letters.enrich import letter_context

        return letter_context(
            registration, self.profile, self.options.letter_date, self.schedule_version
        )

    def result(self) -> BatchResult:
        """Return the result of this input before anything is written."""
        return BatchResult(
            batch_dir=None,
            letters={},
            files=[],
            rejected=self.rejected,
            rejects_file=None,
            manifest_file=None,
            rows_read=self.rows_read,
            duplicates=self.duplicates,
            unreadable_files=self.unreadable_files,
            profile_path=self.profile.path,
            profile_is_default=self.options.profile_path is None,
            issues=self.issues,
        )


def run_batch(
    options: BatchOptions,
    progress: ProgressCallback | None = None,
    step: StepCallback = no_step,
    pdf_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Run one batch (see ``_run_batch``); a fault of the machine while writing (disk full,
    device error) is a WriteFailed naming what could not be written, never a traceback.
    Raises BatchNotRecorded (exit 5) when the batch is in place but the ledger commit failed.
    """
    from cchc_letters.errors import write_failed

    try:
        with few_collections():
            return _run_batch(options, progress, step, pdf_progress)
    except OSError as exc:
        raise write_failed(exc, str(exc.filename or options.out_dir)) from None


# The cyclic garbage collector's thresholds while a batch runs. A batch makes about a hundred
# objects per row (cells, registrations, schedules, letters) that live until it ends, and
# next to no cyclic garbage; at CPython's default (700, 10, 10) the collector rescans them
# hundreds of times: 935 collections and 0.48 of the parent's 6.8 CPU seconds at 10,000
# births, against 8 collections and 0.08 s at these (peak memory unchanged). The writers
# inherit them (forked).
BATCH_GC_THRESHOLDS = (50_000, 20, 20)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the block with the collector's ``BATCH_GC_THRESHOLDS``, then restore the
    thresholds it had (the office app and ``watch`` run batch after batch in one process)."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run_batch(
    options: BatchOptions,
    progress: ProgressCallback | None = None,
    step: StepCallback = no_step,
    pdf_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Run one batch: every good registration becomes a letter; every bad row an Issue.

    Nothing is written until the input, templates and schedule are checked. Then, under the
    output folder's lock, registrations already in the ledger are skipped (corrected ones
    reported, reprinted only with ``reprint_changed``); the batch folder is written under a
    staging name, renamed into place, and its letters recorded in the ledger. With no letter
    to print, no batch folder is made (``batch_dir`` None) and that run's rejects and
    corrected records go to ``OUT/reports/YYYY-MM-DD-NNN-rejects.csv`` / ``-changed.csv``.
    ``progress(done, total)`` follows the letters, ``pdf_progress(done, total)`` the print
    files converted to PDF (--pdf); ``step(name)`` is told each step
    (ledger_session.StepCallback).
    Raises LockTimeout (exit 4) when another run holds the lock longer than ``options.wait``;
    CchcError (no letters written) for a bad profile, template or schedule, or when no
    input could be read at all.
    """
    from cchc_letters import output
    from cchc_letters.batch_outputs import BatchContext, begin_outputs
    from cchc_letters.batch_people import people_of_batch
    from cchc_letters.writing import write_letters

    prepared = prepare(options)
    with LedgerSession(options, step) as session:
        selection = session.select(prepared.registrations, prepared.commune)
        result = prepared.result()
        result.issues = [*result.issues, *selection.withheld]
        if not selection.to_print:
            write_reports(result, selection.changed, options)
            return session.finish(result, selection)
        with output.StagedBatch(options.out_dir, options.letter_date) as batch:
            if not options.use_ledger:  # so no ledger takes this folder for one it has lost
                from cchc_letters.ledger import ONE_OFF_MARK

                (batch.staging / ONE_OFF_MARK).write_bytes(b"")
            session.begin(batch.final)
            written = write_letters(
                selection.to_print,
                templates=prepared.templates,
                context_of=prepared.context_of,
                staging=batch.staging,
                final=batch.final,
                per_file=options.per_file,
                per_letter=options.per_letter,
                commune=prepared.commune,
                schedule_id=prepared.schedule_version.id if prepared.schedule_version else "",
                progress=_telling(step, progress),
            )
            # Rows their template failed on (its data: the template renders other rows, see
            # prepare) are rejections; the other letters print.
            result.issues = [*result.issues, *written.not_rendered]
            result.rejected += len(written.not_rendered)
            if not written.printed:  # every letter to print failed: no batch folder
                session.abandon()
                write_reports(result, selection.changed, options)
                return session.finish(result, selection)
            result.batch_dir, result.manifest_file = batch.final, batch.final / output.MANIFEST_NAME
            result.letters, result.files, result.printed = (
                written.letters,
                written.files,
                written.printed,
            )
            extras = BatchContext(batch.final, result, selection.changed, options,
                                  prepared.profile, pdf_progress)  # fmt: skip
            with begin_outputs(batch.staging, extras) as outputs:  # (a large batch's: apart)
                # The batch's children and children's deaths go to the ledger with its
                # letters, for the health station's session lists (session_lists.py).
                people = people_of_batch(
                    result.printed, prepared.profile, options.letter_date,
                    prepared.schedule_version,
                )  # fmt: skip

                def put_in_place() -> None:  # (the ledger's rows are in, not yet committed)
                    result.outputs = outputs.wait()
                    step("before-rename")
                    batch.finish(_own_files(result))

                _commit(session, result, selection, people, put_in_place)
        return session.finish(result, selection)


def _own_files(result: BatchResult) -> list[str]:
    """Return the names of the files a batch wrote (print files, manifest, every output)."""
    paths = [*result.files, result.manifest_file]
    paths += [path for written in result.outputs.values() for path in written.files]
    return [p.name for p in paths if p is not None]


def _commit(
    session: LedgerSession,
    result: BatchResult,
    selection: Any,
    people: Any,
    put_in_place: Callable[[], None],
) -> None:
    """Put the batch in place and record it in the ledger (``LedgerSession.commit``). When
    the record fails after the rename (disk full at the commit), the batch is complete and in
    place all the same: say so (BatchNotRecorded), with its ``--json`` fields; it stays
    ``writing`` in the ledger and the next run records it from its manifest. What fails
    before the rename is raised as it is (nothing of the batch is kept).
    """
    from cchc_letters.errors import BatchNotRecorded, CchcError

    try:
        session.commit(result.printed, people, put_in_place)
    except (CchcError, OSError) as exc:
        if not session.renamed:
            raise
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


def prepare(options: BatchOptions, checked: Any = None) -> Prepared:
    """Read, validate, load and lint the templates, pick the schedule: nothing written.

    Each kind's template is tried on the batch's rows until one renders, so a template that
    fails on every row stops the run before anything is written (TemplateProblem); one that
    fails only on some rows' data rejects those rows when they are written.
    ``checked`` is the input already read and validated (intake.CheckedInput, for `check`).
    """
    from cchc_letters.intake import check_inputs
    from cchc_letters.kinds import entry
    from cchc_letters.profile import load_profile
    from cchc_letters.render import load_templates
    from cchc_letters.templatelint import lint_templates

    profile = load_profile(options.profile_path)
    if checked is None:
        checked = check_inputs(
            options.inputs,
            letter_date=options.letter_date,
            kind=options.kind,
            mapping=options.mapping,
            encoding=options.encoding,
            delimiter=options.delimiter,
            while_reading=_import_the_rest,
        )
    read = checked.read
    if not read.files and read.issues:
        details = "; ".join(f"{i.file}: {i.message}" for i in read.issues)
        raise InputError(f"không đọc được tệp đầu vào nào (no input could be read): {details}")
    kinds = {r.kind for r in checked.registrations}
    templates = load_templates(kinds, profile.templates_dir)
    lint_templates(templates, profile=profile, letter_date=options.letter_date).raise_for_errors()
    schedule_version = None
    if any(entry(kind).uses_schedule for kind in kinds):
        from cchc_letters.schedule import load_versions, version_for

        schedule_version = version_for(options.letter_date, load_versions(), options.schedule_id)
    prepared = Prepared(
        options=options,
        profile=profile,
        registrations=checked.registrations,
        issues=checked.issues,
        rows_read=checked.rows_read,
        duplicates=checked.duplicates,
        rejected=checked.rejected,
        unreadable_files=checked.unreadable_files,
        templates=templates,
        schedule_version=schedule_version,
    )
    for kind, template in templates.items():
        of_kind = [r for r in checked.registrations if r.kind is kind]
        _measure_samples(template, kind, prepared, _renders_once(template, of_kind, prepared))
    if schedule_version is not None:
        _plan_schedules(prepared)
    return prepared


# What a batch imports only after its rows are read (its templates, writers, ledger and
# outputs): about 0.1 s. A large input's first rows wait for the workbook's whole parse in a
# second process, so they are imported during that wait (``_import_the_rest``).
# tests/test_read_ahead.py checks that a batch imports each of them anyway.
BATCH_IMPORTS = (
    "jinja2", "lxml.etree", "sqlite3", "isal.isal_zlib",
    "cchc_letters.schedule", "cchc_letters.pagefit", "cchc_letters.writing",
    "cchc_letters.output", "cchc_letters.plan", "cchc_letters.ledger",
    "cchc_letters.ledger_people", "cchc_letters.locking", "cchc_letters.identity",
    "cchc_letters.batch_outputs", "cchc_letters.batch_people", "cchc_letters.delivery",
    "cchc_letters.listdoc",
)  # fmt: skip


def _import_the_rest() -> None:
    """Import ``BATCH_IMPORTS`` (and read the schedules) while the rows are being read."""
    import importlib

    from cchc_letters.errors import CchcError

    for name in BATCH_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # (isal where it has no wheel): done without where it is used
            pass
    from cchc_letters.schedule import load_versions

    try:
        load_versions()  # kept (load_versions' cache) for the batch, when it has births
    except CchcError:
        pass  # said where the batch needs the schedules, if it does


def _renders_once(template: LetterTemplate, of_kind: list[Registration], prepared: Prepared) -> str:
    """Render ``template`` with its rows in turn until one renders (usually the first);
    return that body. Raise TemplateProblem, naming the template, when it fails on every
    one."""
    from cchc_letters.errors import TemplateProblem

    first: TemplateProblem | None = None
    for registration in of_kind:
        try:
            return template.render_body(prepared.context_of(registration))
        except TemplateProblem as exc:
            first = first or exc
    assert first is not None, "a template is loaded only for a kind with rows"
    rows = "dòng" if len(of_kind) == 1 else f"cả {len(of_kind)} dòng"
    raise TemplateProblem(
        f"mẫu thư lỗi với {rows} {of_kind[0].kind.vietnamese}, chưa tạo thư nào "
        f"(the template fails on every row, nothing written): {first.message}",
        hint="Sửa mẫu thư rồi chạy: cchc-letters templates check",
    )


def _measure_samples(template: LetterTemplate, kind: Kind, prepared: Prepared, body: str) -> None:
    """Measure the page fit of the run's first letter and of the kind's longest samples
    (every limited field at its limit), so that the writer measures only letters longer
    than those (pagefit.LetterFit)."""
    from cchc_letters.errors import TemplateProblem
    from cchc_letters.pagefit import LetterFit
    from cchc_letters.variables import limit_contexts

    bodies = [body]
    options = prepared.options
    samples = limit_contexts(kind, prepared.profile, options.letter_date, prepared.schedule_version)
    for context in samples:
        try:
            bodies.append(template.render_body(context))
        except TemplateProblem:  # the samples are no row of this run: only not measured
            pass
    LetterFit.of(template).calibrate(bodies)


def _plan_schedules(prepared: Prepared) -> None:
    """Plan each child's schedule here, once per birth date (schedule.child_schedule
    remembers it), before the writers fork: they inherit the plans, and so do the ledger's
    session lists after them; otherwise all three processes planned every birth date."""
    from cchc_letters.errors import CchcError
    from cchc_letters.models import Birth
    from cchc_letters.schedule import child_schedule

    letter_date, profile = prepared.options.letter_date, prepared.profile
    for registration in prepared.registrations:
        if isinstance(registration, Birth) and registration.child.birth_date is not None:
            try:
                child_schedule(
                    registration.child.birth_date, letter_date, profile, prepared.schedule_version
                )
            except CchcError:
                return  # that letter meets it again where it is written, and says so there


def _telling(step: StepCallback, progress: ProgressCallback | None) -> ProgressCallback:
    """Return a progress callback that also tells ``step`` once the first letter is written."""

    def tell(done: int, total: int) -> None:
        if done == 1:
            step("writing")
        if progress:
            progress(done, total)

    return tell


def write_reports(result: BatchResult, changed: list[ChangedRecord], options: BatchOptions) -> None:
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


__all__ = [
    "BatchOptions",
    "BatchResult",
    "ChangedRecord",
    "PrintedLetter",
    "Prepared",
    "local_now",
    "prepare",
    "run_batch",
]
