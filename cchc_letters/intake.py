"""Reading and checking a run's input files: the one door for `check`, `generate`, `watch`
and the office app, so they read the same files the same way and count alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cchc_letters.models import Issue, Kind, RawRow, Registration

if TYPE_CHECKING:
    from cchc_letters.ingest import ReadResult
    from cchc_letters.validate import ValidationResult


@dataclass(frozen=True)
class CheckedInput:
    """What was read from the input files (``read.rows`` only when kept) and what
    validation made of their rows."""

    read: ReadResult
    validated: ValidationResult

    @property
    def registrations(self) -> list[Registration]:
        """The registrations that can become letters."""
        return self.validated.registrations

    @property
    def issues(self) -> list[Issue]:
        """Every problem, of the files then of the rows, in reading order."""
        return [*self.read.issues, *self.validated.issues]

    @property
    def rows_read(self) -> int:
        return self.validated.rows_read

    @property
    def duplicates(self) -> int:
        return self.validated.duplicates

    @property
    def rejected(self) -> int:
        """Rows that get no letter because of an error (the one definition; duplicates are
        not rejections, and a row with several problems is one rejected row)."""
        return self.validated.rejected

    @property
    def unreadable_files(self) -> int:
        """Files (or sheets) that could not be used at all."""
        return sum(1 for i in self.read.issues if i.source is None)


def check_inputs(
    inputs: Sequence[Path],
    *,
    letter_date: date,
    kind: Kind | str | None = None,
    mapping: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    keep_rows: bool = False,
    while_reading: Callable[[], None] | None = None,
    rows_checked: Callable[[int], None] | None = None,
) -> CheckedInput:
    """Read every input file and validate its rows; nothing is written.

    The options are checked here (``options``: a UsageError naming the one that is wrong);
    a broken mapping file is an InputError. Problems of the files and rows are Issues.
    Each row is validated as it is read and then let go (a province's year is 100,000
    rows); ``keep_rows`` keeps them all in ``read.rows``, for showing rows beside their
    problems. ``while_reading()``: called while a large input's first rows are read by a
    second process (ingest.open_inputs), when this one would only wait.
    ``rows_checked(n)``: told every ``ROWS_PER_COUNT`` rows how many have been checked.
    """
    from cchc_letters.ingest import open_inputs
    from cchc_letters.options import delimiter_option, encoding_option, kind_option
    from cchc_letters.validate import validate_rows

    read, rows = open_inputs(
        inputs,
        kind=kind_option(kind),
        mapping=mapping,
        encoding=encoding_option(encoding),
        delimiter=delimiter_option(delimiter),
        ahead=True,
        while_reading=while_reading,
    )
    if keep_rows:
        read.rows.extend(rows)
        rows = iter(read.rows)
    if rows_checked is not None:
        rows = _counted(rows, rows_checked)
    return CheckedInput(read, validate_rows(rows, letter_date=letter_date))


# How often check_inputs tells how many rows it has checked (the office app's waiting page).
ROWS_PER_COUNT = 1000


def _counted(rows: Iterator[RawRow], tell: Callable[[int], None]) -> Iterator[RawRow]:
    for number, row in enumerate(rows, start=1):
        yield row
        if number % ROWS_PER_COUNT == 0:
            tell(number)  # (the next row is asked for: this one is checked)


# Rows validated at a time while looking for a template's sample registration.
SAMPLE_ROWS_AT_A_TIME = 100


def first_registration(
    inputs: Sequence[Path], kind: Kind, *, letter_date: date, mapping: Path | None = None
) -> Registration | None:
    """Return the first row of ``kind`` in ``inputs`` that validation makes a registration
    of, reading no further (a template's preview with real data needs one, and the latest
    upload may be a province's year: checking all of it took 20 s). Rows of another
    register, or of none, are passed over unvalidated. The registration is checked as
    `check` checks it, but only against the rows read so far: a later row may yet
    contradict it. The rows are read here, not by the reader's second process
    (``open_inputs(ahead=True)``): that one parses ahead of the need, and this stops early."""
    from itertools import islice

    from cchc_letters.ingest import open_inputs
    from cchc_letters.validate import validate_rows

    _, rows = open_inputs(inputs, mapping=mapping)
    of_kind = (row for row in rows if row.kind is kind)  # (a row of no known kind is rejected)
    while chunk := list(islice(of_kind, SAMPLE_ROWS_AT_A_TIME)):
        registrations = validate_rows(chunk, letter_date=letter_date).registrations
        if registrations:
            return registrations[0]
    return None
