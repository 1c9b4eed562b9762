"""What a batch does with its registrations, decided against the ledger: the one rule.

``plan_batch`` is that rule, applied by `run_batch`'s selection under the lock
(ledger_session.LedgerSession.select) and, read-only, by ``ledger_plan`` (the office app's
preview of the day's batch), so the two cannot disagree. For each registration, in order:

1. **by key** — new; already printed with the same content (``Registration.same_content``);
   or changed since it was printed;
2. **the same person and event twice in this run** under two keys (a corrected số, quyển or
   year, both rows in today's export, neither printed): one letter — the later
   registration, or of two registered the same day the later row — and the other row is a
   probable duplicate naming it;
3. **a corrected key** — a new key whose event the ledger already has a letter for under
   another key is a changed record, reprinted only with --reprint-changed;
4. **a death stops a birth** — a child whose death is registered (in this run, or printed
   from the ledger) gets no birth letter; a birth letter already printed for a child whose
   death comes now is flagged not to deliver.

"The same person and event" is identity.py's rule: personal ID when both records have one,
else name and date of birth (or of death) and the kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cchc_letters.models import Issue, Registration

NEW, PRINTED, CHANGED = "new", "printed", "changed"
WITHHELD, DUPLICATE = "withheld", "duplicate"


@dataclass(slots=True)  # one per registration: no __dict__ each
class Planned:
    """One registration, its key, what the rule decided and why.

    Not frozen (a step changes a row by ``replace``): a frozen one sets each field through
    ``object.__setattr__``, most of making it."""

    key: str
    registration: Registration
    status: str  # NEW, PRINTED, CHANGED, WITHHELD or DUPLICATE
    previous: Any = None  # ledger.LedgerEntry of the letter printed before (PRINTED, CHANGED)
    issue: Issue | None = None  # the reason reported (WITHHELD, DUPLICATE)


@dataclass
class Plan:
    """Registrations in input order with what the rule decided for each."""

    rows: list[Planned] = field(default_factory=list)
    reprint: bool = False  # --reprint-changed: changed records are printed again
    corrected: dict[str, str] = field(default_factory=dict)  # new key -> key printed before
    do_not_deliver: list[dict[str, Any]] = field(default_factory=list)  # printed births

    def _of(self, status: str) -> list[Planned]:
        return [row for row in self.rows if row.status == status]

    @property
    def new(self) -> list[Planned]:
        return self._of(NEW)

    @property
    def printed(self) -> list[Planned]:
        return self._of(PRINTED)

    @property
    def changed(self) -> list[Planned]:
        return self._of(CHANGED)

    @property
    def withheld(self) -> list[Planned]:
        return self._of(WITHHELD)

    @property
    def duplicates(self) -> list[Planned]:
        return self._of(DUPLICATE)

    @property
    def to_print(self) -> list[Registration]:
        """The registrations that get a letter, in input order."""
        wanted = (NEW, CHANGED) if self.reprint else (NEW,)
        return [row.registration for row in self.rows if row.status in wanted]


def classify(keyed: Sequence[tuple[str, Registration]], printed: dict[str, Any]) -> Plan:
    """Return ``keyed`` registrations as new, printed (the ledger's entry says what the
    record says) or changed (printed with other content): step 1 of ``plan_batch``."""
    plan = Plan()
    for key, registration in keyed:
        previous = printed.get(key)
        if previous is None:
            status = NEW
        elif registration.same_content(previous.content_hash):
            status = PRINTED
        else:
            status = CHANGED
        plan.rows.append(Planned(key, registration, status, previous))
    return plan


def plan_batch(
    keyed: Sequence[tuple[str, Registration]], ledger: Any, *, reprint: bool = False
) -> Plan:
    """Return what a batch of ``keyed`` registrations (one per canonical key,
    ``str(registration.key(commune))``) does, against
    ``ledger`` (a ledger.Ledger, or None: nothing printed yet); the module's rule, steps 1-4.
    Only reads the ledger."""
    from cchc_letters import identity

    plan = classify(keyed, ledger.printed_keys(k for k, _ in keyed) if ledger else {})
    plan.reprint = reprint
    fresh = [i for i, row in enumerate(plan.rows) if row.status == NEW]
    events = {i: identity.event(plan.rows[i].registration) for i in fresh}
    _same_in_run(plan, fresh, events)
    fresh = [i for i in fresh if plan.rows[i].status == NEW]
    _corrected_keys(plan, fresh, events, ledger)
    _deaths_stop_births(plan, ledger)
    return plan


def _same_in_run(plan: Plan, fresh: list[int], events: dict[int, Any]) -> None:
    """Step 2: of new registrations that are the same event under two keys, keep one —
    the later registration date, then the later row — and mark the others duplicates."""
    rows = plan.rows
    # Only a registration sharing its event's ID or name with another can be, or be kept
    # for, a duplicate: the rest (nearly all of a batch) need not be sorted and walked.
    ids = Counter(events[i].by_id for i in fresh)
    names = Counter(events[i].by_name for i in fresh)
    shared = [
        i
        for i in fresh
        if (events[i].by_id and ids[events[i].by_id] > 1)
        or (events[i].by_name and names[events[i].by_name] > 1)
    ]
    order = sorted(shared, key=lambda i: (rows[i].registration.registration_date, i), reverse=True)
    by_id: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for i in order:
        event = events[i]
        kept = by_id.get(event.by_id) if event.by_id else None
        if kept is None and event.by_name:
            kept = next((j for j in by_name.get(event.by_name, ()) if event.same(events[j])), None)
        if kept is None:
            if event.by_id:
                by_id[event.by_id] = i
            if event.by_name:
                by_name.setdefault(event.by_name, []).append(i)
            continue
        row, other = rows[i], rows[kept]
        rows[i] = replace(row, status=DUPLICATE, issue=_duplicate_issue(row, other))


def _duplicate_issue(row: Planned, other: Planned) -> Issue:
    registration, printed = row.registration, other.registration
    why = (
        "đăng ký sau" if printed.registration_date > registration.registration_date else "dòng sau"
    )
    return Issue(
        code="probable_duplicate",
        message=(
            f"Có thể trùng với dòng {printed.source.row} của {printed.source.file}"
            f"{f' [{printed.source.sheet}]' if printed.source.sheet else ''}: cùng người, cùng "
            f"sự kiện nhưng khác số/quyển/năm đăng ký ({row.key} và {other.key}); chỉ in một "
            f"thư, cho dòng kia ({why}). Hãy kiểm tra sổ: nếu đây là bản đúng, sửa hoặc bỏ "
            "dòng kia rồi chạy lại (probable duplicate of that row: one letter only)."
        ),
        source=registration.source,
        column="registration_number",
        value=registration.number,
        severity="duplicate",
    )


def _corrected_keys(plan: Plan, fresh: list[int], events: dict[int, Any], ledger: Any) -> None:
    """Step 3: a new key whose event the ledger has printed under another key (a corrected
    số, quyển or year) is a changed record; reprinted with --reprint-changed, the old
    key's letter then superseded."""
    from cchc_letters.identity import Known

    found = ledger.printed_events(events[i] for i in fresh) if ledger and fresh else []
    if not found:
        return
    printed = Known((stored, entry) for entry, stored in found)
    for i in fresh:
        row = plan.rows[i]
        previous = next(
            (
                entry
                for entry in printed.same(events[i])
                if entry.kind == row.registration.kind.value and entry.key != row.key
            ),
            None,
        )
        if previous is None:
            continue
        plan.rows[i] = replace(row, status=CHANGED, previous=previous)
        if plan.reprint:
            plan.corrected[row.key] = previous.key


def _deaths_stop_births(plan: Plan, ledger: Any) -> None:
    """Step 4: a child whose death is registered (in this run, or printed from the ledger)
    gets no birth letter — withheld with a reason; a birth letter already printed for a
    child whose death comes now is flagged not to deliver."""
    from cchc_letters import identity
    from cchc_letters.identity import Known
    from cchc_letters.models import Birth, Death, Kind

    deaths = [
        (row.key, row.registration, identity.subject(row.registration))
        for row in plan.rows
        if isinstance(row.registration, Death)
    ]
    if not deaths and not (ledger and ledger.any_printed(Kind.DEATH)):
        return  # no death known: no birth withheld, no printed birth to flag
    printing = set(map(id, plan.to_print))
    births = [
        i
        for i, row in enumerate(plan.rows)
        if isinstance(row.registration, Birth) and id(row.registration) in printing
    ]
    children = {i: identity.subject(plan.rows[i].registration) for i in births}
    printed_deaths = ledger.printed_people(children.values(), Kind.DEATH) if ledger else []
    known = Known(
        [(who, (k, str(r.source))) for k, r, who in deaths]
        + [(who, (e.key, f"{e.batch}/{e.print_file} #{e.position}")) for e, who in printed_deaths]
    )
    for i in births:
        death = next(known.same(children[i]), None)
        if death is None:
            continue
        row = plan.rows[i]
        plan.corrected.pop(row.key, None)
        plan.rows[i] = replace(
            row,
            status=WITHHELD,
            issue=Issue(
                code="child_death_registered",
                message=f"Trẻ đã được đăng ký khai tử ({death[0]}, {death[1]}): không in "
                "thư chúc mừng khai sinh và lịch tiêm chủng (the child's death is "
                "registered: no birth letter).",
                source=row.registration.source,
                severity="withheld",
            ),
        )
    if not (ledger and deaths):
        return
    dying = Known((who, (key, dead)) for key, dead, who in deaths)
    for entry, child in ledger.printed_people([d[2] for d in deaths], Kind.BIRTH):
        death = next(dying.same(child), None)
        if death is not None:
            plan.do_not_deliver.append(
                {
                    "key": entry.key,
                    "batch": entry.batch,
                    "print_file": entry.print_file,
                    "position": entry.position,
                    "death_key": death[0],
                    "death_source": str(death[1].source),
                }
            )


def ledger_plan(
    registrations: Sequence[Registration],
    *,
    out_dir: Path,
    profile_path: Path | None = None,
    ledger_path: Path | None = None,
) -> Plan:
    """Return what `generate --out OUT` would do with ``registrations`` now (without
    --reprint-changed): ``plan_batch`` read only — no lock taken, nothing written; a
    missing ledger means nothing was printed."""
    from cchc_letters import ledger
    from cchc_letters.profile import load_profile

    profile = load_profile(profile_path)
    commune = profile.commune_code or profile.commune_name
    keyed = [(str(r.key(commune)), r) for r in registrations]
    path = ledger_path or ledger.default_path(out_dir)
    if not path.is_file():
        return plan_batch(keyed, None)
    with ledger.Ledger.open(path, create=False) as book:
        return plan_batch(keyed, book)
