"""The output folder's lock and ledger around one batch, as a context manager.

The order is the exactly-once argument: lock; clean up after dead runs; select what is not
yet printed; register the batch as ``writing``; write it under a staging name; put its
letters' rows in one transaction, not yet committed; rename the folder into place (the
commit point) and flush the rename to disk; commit the transaction; unlock. A run that dies
before the commit leaves none of the batch's rows (SQLite rolls them back), and one that
dies after the rename a batch still ``writing``, which the next run records from its
manifest. Leaving the ``with`` block unlocks; leaving it by an error after ``begin`` and
before the rename marks the batch abandoned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters.models import BatchResult, ChangedRecord, PrintedLetter, Registration
from cchc_letters.options import BatchOptions

# Called with the name of each step a batch passes: "locked", "writing" (the first letter
# is in its print file), "before-rename", "after-rename", "after-ledger". The crash tests
# pass one that stops the run there; a run without one does nothing extra.
StepCallback = Callable[[str], None]


def no_step(step: str) -> None:
    """The default step callback: nothing."""


@dataclass
class Selection:
    """What to print of a run's registrations, and what the ledger already had."""

    to_print: list[Registration] = field(default_factory=list)
    changed: list[ChangedRecord] = field(default_factory=list)
    skipped: int = 0
    # Issues of rows the rule does not print: births of children who died (severity
    # "withheld"), the same person and event twice in this run (severity "duplicate").
    withheld: list[Any] = field(default_factory=list)
    do_not_deliver: list[dict[str, Any]] = field(default_factory=list)  # printed births of them
    duplicates: int = 0  # of those, probable duplicates


class LedgerSession:
    """The lock and (unless --no-ledger) the ledger, from selection to the ledger commit."""

    def __init__(self, options: BatchOptions, step: StepCallback = no_step) -> None:
        self.options = options
        self.step = step
        self._stack = ExitStack()
        self.ledger: Any = None
        self.batch_id: int | None = None
        self.final: Path | None = None
        self.renamed = False  # the batch folder is in place: never abandon it then
        self.recovered: list[Path] = []
        self.removed: list[Path] = []
        self.unrecorded: list[Path] = []  # folders accepted unrecorded (--new-ledger)
        self.corrected: dict[str, str] = {}  # new key -> key printed before (key corrections)
        self.commune = ""  # of the registrations selected

    def __enter__(self) -> LedgerSession:
        from cchc_letters import ledger, locking, output

        options = self.options
        out_dir = output.ensure_out_dir(options.out_dir)
        ledger_path = options.ledger or ledger.default_path(out_dir)
        locks = locking.batch_locks(out_dir, ledger_path if options.use_ledger else None)
        with ExitStack() as opening:
            opening.enter_context(locking.hold(locks, wait=options.wait))
            self.step("locked")
            self.removed = output.remove_incomplete(out_dir)
            if options.use_ledger:
                self.ledger = opening.enter_context(ledger.Ledger.open(ledger_path))
                recovery = ledger.recover_pending(
                    self.ledger, now=options.clock(), manifest_name=output.MANIFEST_NAME
                )
                self.recovered = recovery.recovered
                self.unrecorded = ledger.check_folder(
                    self.ledger, out_dir, accept=options.new_ledger, now=options.clock()
                )
            self._stack = opening.pop_all()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is not None and self.ledger and self.batch_id is not None:
                if self.renamed:
                    # Renamed but not recorded: left "writing", the next run records it
                    # from its manifest (ledger.recover_pending).
                    return
                # The batch failed before its rename: mark it abandoned (best effort; the
                # next run settles a batch left "writing").
                try:
                    self.ledger.abandon_batch(self.batch_id, now=self.options.clock())
                except Exception:  # noqa: BLE001
                    pass
        finally:
            self._stack.close()

    def select(self, registrations: Sequence[Registration], commune: str) -> Selection:
        """Return what to print: plan.plan_batch's rule against this run's ledger (the
        office app's preview applies the same function)."""
        from cchc_letters.plan import plan_batch

        # validate_rows has left one registration per key (the same canonical key as
        # here): a repeat is a duplicate, and every version of a conflicting one is rejected.
        self.commune = commune
        keyed = [(str(r.key(commune)), r) for r in registrations]
        assert len(dict(keyed)) == len(keyed), "validate_rows leaves one registration per key"
        reprint = self.options.reprint_changed
        plan = plan_batch(keyed, self.ledger, reprint=reprint)
        self.corrected = plan.corrected
        return Selection(
            to_print=plan.to_print,
            changed=[
                ChangedRecord(row.registration, row.key, row.previous, reprint)
                for row in plan.changed
            ],
            skipped=len(plan.printed),
            withheld=[row.issue for row in plan.rows if row.issue is not None],
            do_not_deliver=plan.do_not_deliver,
            duplicates=len(plan.duplicates),
        )

    def abandon(self) -> None:
        """Mark the batch registered by ``begin`` as never completed: it wrote no letter
        (every one failed on its template), so its folder is not kept."""
        if self.ledger and self.batch_id is not None:
            self.ledger.abandon_batch(self.batch_id, now=self.options.clock())
        self.batch_id = None

    def begin(self, final: Path) -> None:
        """Register the batch about to be written as ``writing``."""
        self.final = final
        if self.ledger:
            self.batch_id = self.ledger.begin_batch(final, now=self.options.clock())

    def commit(
        self, printed: list[PrintedLetter], people: Any, put_in_place: Callable[[], None]
    ) -> None:
        """Put the batch in place and record its letters, with the batch's ``people``
        (ledger_people.People) for the session lists: their rows go into one transaction,
        then ``put_in_place()`` renames the staging folder into place, the rename is flushed
        to disk, and only then does the transaction commit. (The rows are made while the
        batch's last outputs are still being written, ``batch_outputs.begin_outputs``.)"""
        from cchc_letters.output import sync_batch

        def renamed() -> None:
            put_in_place()
            self.renamed = True
            self.step("after-rename")
            if self.ledger and self.batch_id is not None:
                assert self.final is not None
                sync_batch(self.final)  # the rename must be on disk before the ledger says so

        if not (self.ledger and self.batch_id is not None):
            renamed()
        else:
            from cchc_letters import identity
            from cchc_letters.ledger import LetterRecord

            letters = []
            for p in printed:
                event = identity.event(p.registration)
                parsed = p.registration.key(self.commune)
                letters.append(
                    LetterRecord(
                        p.key,
                        "",  # the registration's, when its row goes in
                        p.print_file.name,
                        p.position,
                        event.by_id,
                        event.by_name,
                        self.corrected.get(p.key),
                        *identity.subject(p.registration).parts(),
                        parsed_key=parsed if str(parsed) == p.key else None,
                        registration=p.registration,
                    )
                )
            self.ledger.record_batch(
                self.batch_id,
                letters,
                now=self.options.clock(),
                people=people,
                before_commit=renamed,
            )
        self.step("after-ledger")

    def finish(self, result: BatchResult, selection: Selection) -> BatchResult:
        """Return ``result`` with what the ledger and the clean-up found."""
        result.skipped_already_printed = selection.skipped
        result.changed = selection.changed
        result.recovered = self.recovered
        result.removed_incomplete = self.removed
        result.do_not_deliver = selection.do_not_deliver
        result.duplicates += selection.duplicates
        return result
