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


@dataclass
class Plan:
    """Registrations sorted by what the ledger says of them; entries are ledger rows."""

    new: list[Registration] = field(default_factory=list)
    printed: list[tuple[Registration, Any]] = field(default_factory=list)
    changed: list[tuple[Registration, Any]] = field(default_factory=list)


def classify(keyed: Sequence[tuple[str, Registration]], printed: dict[str, Any]) -> Plan:
    """Return ``keyed`` registrations sorted into new, printed (the ledger's entry holds one
    of their content hashes) and changed (printed with other content)."""
    plan = Plan()
    for key, registration in keyed:
        previous = printed.get(key)
        if previous is None:
            plan.new.append(registration)
        elif previous.content_hash in registration.content_hashes():
            plan.printed.append((registration, previous))
        else:
            plan.changed.append((registration, previous))
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
