"""What a batch would do with its registrations, asked of the ledger without writing:
new (to print), already printed with the same content, or changed since printed.

``classify`` is the rule `run_batch` applies under the lock; ``ledger_plan`` applies it
read-only, for showing the day's batch before it is generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters.models import Registration

NEW, PRINTED, CHANGED = "new", "printed", "changed"


@dataclass(frozen=True)
class Planned:
    """One registration, its key, what the ledger says of it and its ledger entry if any."""

    key: str
    registration: Registration
    status: str  # NEW, PRINTED or CHANGED
    previous: Any = None  # ledger.LedgerEntry of the letter printed before


@dataclass
class Plan:
    """Registrations in input order with what the ledger says of each."""

    rows: list[Planned] = field(default_factory=list)

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


def classify(keyed: Sequence[tuple[str, Registration]], printed: dict[str, Any]) -> Plan:
    """Return ``keyed`` registrations as new, printed (the ledger's entry says what the
    record says: ``Registration.same_content``) or changed (printed with other content).
    The one rule: `run_batch`'s selection under the lock (ledger_session) applies it too."""
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


def ledger_plan(
    registrations: Sequence[Registration],
    *,
    out_dir: Path,
    profile_path: Path | None = None,
    ledger_path: Path | None = None,
) -> Plan:
    """Return what `generate --out OUT` would print of ``registrations`` now (read only: no
    lock taken, nothing written; a missing ledger means everything is new)."""
    from cchc_letters import ledger
    from cchc_letters.profile import load_profile

    profile = load_profile(profile_path)
    commune = profile.commune_code or profile.commune_name
    keyed = [(str(r.key(commune)), r) for r in registrations]
    path = ledger_path or ledger.default_path(out_dir)
    if not path.is_file():
        return classify(keyed, {})
    with ledger.Ledger.open(path, create=False) as book:
        return classify(keyed, book.printed(k for k, _ in keyed))
