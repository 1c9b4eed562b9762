"""What a run is asked to do (``BatchOptions``) and its option values, checked once, here: every front end (command line, office app, watch,
a script) gets the same answer, a UsageError (exit 2) naming the option.

Each function returns the value in the form the library uses (``--kind "khai sinh"`` is
``Kind.BIRTH``, ``--delimiter tab`` is ``"\\t"``) and is idempotent, so a value already
checked passes again unchanged.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cchc_letters.errors import UsageError
from cchc_letters.models import Kind

ENCODINGS_HINT = "utf-8, utf-8-sig, utf-16 hoặc cp1258"


def kind_option(value: str | Kind | None, option: str = "--kind") -> Kind | None:
    """Return the letter kind named in English or Vietnamese ("death", "khai tử", "KT")."""
    if value is None or isinstance(value, Kind):
        return value
    from cchc_letters.ingest.columns import kind_from_text
    from cchc_letters.kinds import entries, names_text

    kind = kind_from_text(value)
    if kind is None:
        english = names_text([e.kind.value for e in entries()])
        vietnamese = ", ".join(e.vietnamese for e in entries())
        raise UsageError(
            option,
            f"{value!r} không phải loại sổ nào (not a letter kind): dùng {english} ({vietnamese})",
        )
    return kind


def encoding_option(value: str | None, option: str = "--encoding") -> str | None:
    """Return a text encoding Python knows."""
    if value is None:
        return None
    try:
        codecs.lookup(value)
    except LookupError:
        raise UsageError(
            option,
            f"{value!r} không phải bảng mã (not a text encoding): dùng {ENCODINGS_HINT}",
        ) from None
    return value


def delimiter_option(value: str | None, option: str = "--delimiter") -> str | None:
    """Return the one-character CSV delimiter named by ',', ';', 'tab', '\\t' …"""
    from cchc_letters.ingest.text import normalise_delimiter

    try:
        return normalise_delimiter(value)
    except ValueError:
        raise UsageError(
            option,
            f"{value!r} không phải dấu phân cách (not a delimiter): dùng ',', ';' hoặc 'tab'",
        ) from None


def schedule_option(value: str | None, option: str = "--schedule") -> str | None:
    """Return the id of a shipped vaccination schedule version."""
    if value is None:
        return None
    from cchc_letters.schedule import load_versions

    known = [v.id for v in load_versions()]
    if value not in known:
        raise UsageError(
            option,
            f"{value!r} không phải phiên bản lịch tiêm (not a schedule version); "
            f"known: {', '.join(known)}",
        )
    return value


def at_least(value: float, minimum: float, option: str) -> None:
    """Refuse a number below ``minimum`` (--per-file 0, --wait -1)."""
    if value < minimum:
        raise UsageError(option, f"{value} nhỏ hơn {minimum} (must be at least {minimum})")


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
    delivery_sheet: bool = True  # giao-thu.docx/.csv in each batch (delivery.py)
    wait: float = 600.0  # seconds to wait for another run holding the output folder's lock
    clock: Callable[[], datetime] = local_now

    def __post_init__(self) -> None:
        """Check every option value once (UsageError naming the option) and keep each in
        the form the library uses."""
        set_ = object.__setattr__
        set_(self, "kind", kind_option(self.kind))
        set_(self, "encoding", encoding_option(self.encoding))
        set_(self, "delimiter", delimiter_option(self.delimiter))
        set_(self, "schedule_id", schedule_option(self.schedule_id))
        at_least(self.per_file, 1, "--per-file")
        at_least(self.wait, 0, "--wait")
        if self.ledger is not None and not self.use_ledger:
            raise UsageError("--no-ledger", "dùng --ledger hoặc --no-ledger, không dùng cả hai")
