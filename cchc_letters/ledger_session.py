"""The output folder's lock and ledger around one batch, as a context manager.

The order is the exactly-once argument: lock; clean up after dead runs; select what is not
yet printed; register the batch as ``writing``; write it under a staging name; rename it
into place (the commit point); record its letters in one transaction; unlock. Leaving the
``with`` block unlocks; leaving it by an error after ``begin`` marks the batch abandoned.
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
    withheld: list[Any] = field(default_factory=list)  # Issues: births of children who died
    do_not_deliver: list[dict[str, Any]] = field(default_factory=list)  # printed births of them


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
        self.unrecorded: list[Path] = []
        self.corrected: dict[
            str, str
        ] = {}  # new key -> key printed before (key corrections)  # folders accepted unrecorded (--new-ledger)

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
        """Return what to print: one letter per key, none already printed with this content
        (unless --reprint-changed), and the corrected records to report."""
        selection = Selection()
        # validate_rows has left one registration per key (the same canonical key as
        # here): a repeat is a duplicate, and every version of a conflicting one is rejected.
        keyed = [(str(r.key(commune)), r) for r in registrations]
        first = dict(keyed)
        assert len(first) == len(keyed), "validate_rows leaves one registration per key"
        from cchc_letters.plan import CHANGED, NEW, PRINTED, classify

        reprint = self.options.reprint_changed
        fresh: list[tuple[str, Registration]] = []
        for row in classify(keyed, self.ledger.printed(first) if self.ledger else {}).rows:
            if row.status == NEW:
                fresh.append((row.key, row.registration))
            elif row.status == PRINTED:
                selection.skipped += 1
            else:
                assert row.status == CHANGED
                selection.changed.append(
                    ChangedRecord(row.registration, row.key, row.previous, reprint)
                )
                if reprint:
                    selection.to_print.append(row.registration)
        self._corrected_keys(fresh, selection, reprint)
        self._deaths_stop_births(keyed, selection)
        return selection

    def _deaths_stop_births(
        self, keyed: Sequence[tuple[str, Registration]], selection: Selection
    ) -> None:
        """One register checks the other: a child whose death is registered (in this run, or
        printed from the ledger) gets no birth letter — it is withheld with a reason; a birth
        letter already printed for a child whose death comes now is flagged not to deliver.
        The same person: personal ID when both have one, else name and date of birth."""
        from cchc_letters import identity
        from cchc_letters.models import Birth, Death, Issue, Kind

        deaths = [(k, r, identity.subject(r)) for k, r in keyed if isinstance(r, Death)]
        births = [r for r in selection.to_print if isinstance(r, Birth)]
        children = {id(r): identity.subject(r) for r in births}
        printed_deaths = (
            self.ledger.printed_people(children.values(), Kind.DEATH) if self.ledger else []
        )
        known = [(k, str(r.source), who) for k, r, who in deaths]
        known += [
            (e.key, f"{e.batch}/{e.print_file} #{e.position}", who) for e, who in printed_deaths
        ]
        for birth in births:
            death = next((d for d in known if children[id(birth)].same(d[2])), None)
            if death is None:
                continue
            selection.to_print.remove(birth)
            selection.withheld.append(
                Issue(
                    code="child_death_registered",
                    message=f"Trẻ đã được đăng ký khai tử ({death[0]}, {death[1]}): không in "
                    "thư chúc mừng khai sinh và lịch tiêm chủng (the child's death is "
                    "registered: no birth letter).",
                    source=birth.source,
                    severity="withheld",
                )
            )
        if not (self.ledger and deaths):
            return
        printed_births = self.ledger.printed_people([d[2] for d in deaths], Kind.BIRTH)
        for entry, child in printed_births:
            for key, dead, who in deaths:
                if who.same(child):
                    selection.do_not_deliver.append(
                        {
                            "key": entry.key,
                            "batch": entry.batch,
                            "print_file": entry.print_file,
                            "position": entry.position,
                            "death_key": key,
                            "death_source": str(dead.source),
                        }
                    )
                    break

    def _corrected_keys(
        self, fresh: list[tuple[str, Registration]], selection: Selection, reprint: bool
    ) -> None:
        """Sort registrations new to the ledger by key: a letter already printed for the
        same event under another key (a corrected số, quyển or year) makes it a changed
        record, reprinted only with --reprint-changed; the rest are new letters."""
        from cchc_letters import identity

        events = {key: identity.event(r) for key, r in fresh}
        found = self.ledger.printed_events(events.values()) if self.ledger else []
        for key, registration in fresh:
            previous = next(
                (
                    entry
                    for entry, stored in found
                    if entry.kind == registration.kind.value
                    and entry.key != key
                    and events[key].same(stored)
                ),
                None,
            )
            if previous is None:
                selection.to_print.append(registration)
                continue
            selection.changed.append(ChangedRecord(registration, key, previous, reprint))
            if reprint:
                self.corrected[key] = previous.key
                selection.to_print.append(registration)

    def begin(self, final: Path) -> None:
        """Register the batch about to be written as ``writing``."""
        self.final = final
        if self.ledger:
            self.batch_id = self.ledger.begin_batch(final, now=self.options.clock())

    def commit(self, printed: list[PrintedLetter], people: Any = None) -> None:
        """Record the renamed batch's letters in one transaction (after an fsync), with the
        batch's ``people`` (ledger_people.People) for the session lists."""
        from cchc_letters.ledger import LetterRecord
        from cchc_letters.output import sync_batch

        self.renamed = True
        self.step("after-rename")
        if self.ledger and self.batch_id is not None:
            assert self.final is not None
            sync_batch(self.final)  # the rename must be on disk before the ledger says so
            from cchc_letters import identity

            letters = []
            for p in printed:
                event = identity.event(p.registration)
                letters.append(
                    LetterRecord(
                        p.key,
                        p.registration.content_hash(),
                        p.print_file.name,
                        p.position,
                        event.by_id,
                        event.by_name,
                        self.corrected.get(p.key),
                        *identity.subject(p.registration).parts(),
                    )
                )
            self.ledger.record_batch(
                self.batch_id, letters, now=self.options.clock(), people=people
            )
        self.step("after-ledger")

    def finish(self, result: BatchResult, selection: Selection) -> BatchResult:
        """Return ``result`` with what the ledger and the clean-up found."""
        result.skipped_already_printed = selection.skipped
        result.changed = selection.changed
        result.recovered = self.recovered
        result.removed_incomplete = self.removed
        result.do_not_deliver = selection.do_not_deliver
        return result
