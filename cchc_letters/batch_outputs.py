"""The files a batch writes beside its letters: its manifest, then one writer for each other
output, behind one small interface.

The delivery sheet, the rejects, the PDFs and the changed records are each a ``BatchWriter``
in ``WRITERS``; the pipeline asks each one in turn whether the run wants it
(``enabled(options)``) and lets it write into the batch's staging folder
(``write(staging, batch)``). A new output format is one writer class and one ``register``
call: no switch threaded through the pipeline, no new field in the batch's result (what it
wrote is in ``BatchResult.outputs`` under its name, and in ``--json``'s ``"outputs"``).

The manifest (one row per letter, what recovery reads a batch back from) is no writer: every
batch has it. A large batch's manifest and first writers may be written by a forked helper
while the pipeline puts the letters in the ledger (``begin_outputs``): the writers that
declare ``result_fields``, the only fields of the batch's result they set (the delivery
sheet's ``delivery``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cchc_letters import output
from cchc_letters.models import BatchResult, ChangedRecord, Issue, PrintedLetter
from cchc_letters.options import BatchOptions
from cchc_letters.writing import ProgressCallback


@dataclass
class BatchContext:
    """What a writer sees of a batch whose letters are written and not yet renamed.

    Files go into the staging folder (``write``'s ``staging``); paths shown to the user point
    into ``final``, the folder's name once the batch is complete (``final_path``).
    """

    final: Path
    result: BatchResult  # the batch's result so far: its letters, print files and issues
    changed: Sequence[ChangedRecord]  # records corrected since their letter was printed
    options: BatchOptions
    profile: Any  # profile.Profile
    pdf_progress: ProgressCallback | None = None

    @property
    def printed(self) -> Sequence[PrintedLetter]:
        """The letters written, in order."""
        return self.result.printed

    @property
    def files(self) -> Sequence[Path]:
        """The print files (or per-letter files), named as in the final folder."""
        return self.result.files

    @property
    def issues(self) -> Sequence[Issue]:
        """The rows and files not used, and why."""
        return self.result.issues

    def final_path(self, path: Path | str) -> Path:
        """Return where a file written into the staging folder will be once it is renamed."""
        return self.final / Path(path).name


@dataclass
class Output:
    """What one writer wrote: its files and, if it likes, a ``report`` for ``--json``
    (anything with ``to_json()``, or plain JSON). A writer returns the paths it wrote in the
    staging folder; ``PendingOutputs.wait`` keeps them as paths in the final folder, and the batch
    adopts those files when it is renamed."""

    files: list[Path] = field(default_factory=list)
    report: Any = None

    def to_json(self) -> dict[str, Any]:
        report = self.report.to_json() if hasattr(self.report, "to_json") else self.report
        return {"files": [str(p) for p in self.files], "report": report}


@runtime_checkable
class BatchWriter(Protocol):
    """One output format of a batch, beside its letters."""

    name: str  # its key in BatchResult.outputs and --json's "outputs"

    def enabled(self, options: BatchOptions) -> bool:
        """Return whether this run asks for it."""
        ...

    def write(self, staging: Path, batch: BatchContext) -> Output | None:
        """Write its files into ``staging``; return them (None: nothing to write this time)."""
        ...


class DeliverySheetWriter:
    """giao-thu.docx and giao-thu.csv: the letters by hamlet (delivery.py)."""

    name = "delivery_sheet"
    result_fields = ("delivery",)  # what it sets of the result: it may be written apart

    def enabled(self, options: BatchOptions) -> bool:
        return options.delivery_sheet

    def write(self, staging: Path, batch: BatchContext) -> Output:
        from cchc_letters.delivery import write_delivery_sheet

        sheet = write_delivery_sheet(
            staging, batch.printed, batch.profile, batch.options.letter_date, batch.final.name
        )
        batch.result.delivery = sheet.moved_to(batch.final)
        return Output([sheet.docx, sheet.csv])


class PdfWriter:
    """A PDF of each print file, from LibreOffice converters in parallel (pdf.convert_batch);
    a print file it could not convert is named in ``pdf_message``, the others keep their PDF."""

    name = "pdf"

    def enabled(self, options: BatchOptions) -> bool:
        return options.pdf

    def write(self, staging: Path, batch: BatchContext) -> Output | None:
        from cchc_letters.pdf import PdfUnavailable, convert_batch

        if not batch.files:
            return None
        files = [staging / p.name for p in batch.files]
        try:
            made = convert_batch(files, staging, progress=batch.pdf_progress)
        except PdfUnavailable as exc:
            batch.result.pdf_message = str(exc)
            return None
        batch.result.pdf_files = [batch.final_path(p) for p in made.pdfs]
        batch.result.pdf_message = made.message()
        return Output(list(made.pdfs))


class CsvReport:
    """A CSV of some of the batch's records, written when there is any: rejects.csv (the rows
    and files not used, and why) and changed.csv (records corrected since their letter was
    printed). ``result_field`` is the BatchResult field that names the file."""

    def __init__(
        self,
        name: str,
        file_name: str,
        columns: Sequence[str],
        records: Callable[[BatchContext], Sequence[Any]],
        rows: Callable[[Iterable[Any]], Iterable[Sequence[Any]]],
        result_field: str,
    ) -> None:
        self.name, self.file_name, self.columns = name, file_name, columns
        self.records, self.rows, self.result_field = records, rows, result_field

    def enabled(self, options: BatchOptions) -> bool:
        return True

    def write(self, staging: Path, batch: BatchContext) -> Output | None:
        records = self.records(batch)
        if not records:
            return None
        path = staging / self.file_name
        output.write_csv(path, self.columns, self.rows(records))
        setattr(batch.result, self.result_field, batch.final_path(path))
        return Output([path])


# In the order they run.
WRITERS: list[BatchWriter] = [
    DeliverySheetWriter(),
    CsvReport("rejects", output.REJECTS_NAME, output.REJECT_COLUMNS,
              lambda batch: batch.issues, output.reject_rows, "rejects_file"),
    PdfWriter(),
    CsvReport("changed", output.CHANGED_NAME, output.CHANGED_COLUMNS,
              lambda batch: batch.changed, output.changed_rows, "changed_file"),
]  # fmt: skip


def register(writer: BatchWriter) -> None:
    """Add an output format (replacing a writer of the same name); it runs for every batch
    whose options it ``enabled``. TypeError when ``writer`` is not a BatchWriter."""
    if not isinstance(writer, BatchWriter) or not isinstance(writer.name, str):
        raise TypeError(f"{writer!r} is not a BatchWriter (name, enabled(options), write(...))")
    unregister(writer.name)
    WRITERS.append(writer)


def unregister(name: str) -> None:
    """Remove the output format ``name`` (nothing when there is none)."""
    WRITERS[:] = [w for w in WRITERS if w.name != name]


# From this many letters a batch's manifest and delivery sheet are written by a forked
# helper while the pipeline records the letters in the ledger: they take 0.2 s at 10,000
# letters and 1.9 s at 100,000, a fork about 5 ms; a daily batch writes its own.
APART_MIN_LETTERS = 1000


class PendingOutputs:
    """A batch's manifest and outputs being written (``begin_outputs``): ``wait()`` returns
    what each writer wrote, by name in the writers' order."""

    def __init__(self, staging: Path, batch: BatchContext) -> None:
        from itertools import takewhile

        from cchc_letters.processes import Apart, can_fork

        self._staging, self._batch = staging, batch
        self._writers = [w for w in list(WRITERS) if w.enabled(batch.options)]
        # The leading writers that may be written apart: each sees what the writers before
        # it set, as when they all run here in turn.
        self._apart = list(takewhile(lambda w: _result_fields(w) is not None, self._writers))
        self._helper: Apart[tuple[dict[str, Output], dict[str, Any]]] | None = None
        if len(batch.printed) >= APART_MIN_LETTERS and can_fork():
            self._helper = Apart(lambda: _write_apart(staging, batch, self._apart))

    def wait(self) -> dict[str, Output]:
        """Return what each writer wrote, once the manifest is written; what was not written
        apart is written now, in order. What a writer raised (a full disk) is raised here,
        wherever it ran."""
        from cchc_letters.processes import HelperLost

        written: dict[str, Output] = {}
        rest: list[BatchWriter] | None = None
        helper, self._helper = self._helper, None
        if helper is not None:
            try:
                made, fields = helper.result()
            except HelperLost:
                pass  # (killed, out of memory): its part is written here, over what it left
            else:
                for name, value in fields.items():
                    setattr(self._batch.result, name, value)
                written.update(made)
                rest = self._writers[len(self._apart) :]
        if rest is None:
            output.write_manifest(self._staging, self._batch.printed)
            rest = self._writers
        for writer in rest:
            _write(writer, self._staging, self._batch, written)
        return written

    def close(self) -> None:
        """Stop a helper whose outputs nobody waited for (the batch failed meanwhile)."""
        if self._helper is not None:
            self._helper.close()
            self._helper = None

    def __enter__(self) -> PendingOutputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def begin_outputs(staging: Path, batch: BatchContext) -> PendingOutputs:
    """Start writing the batch's manifest and outputs into ``staging``: a large batch's
    manifest and the writers that may be written apart (``result_fields``) by a forked
    helper, from now on, when a second core is there; the rest, in the writers' order, when
    ``wait()`` is asked. Use it as a ``with`` block."""
    return PendingOutputs(staging, batch)


def _write_apart(
    staging: Path, batch: BatchContext, writers: Sequence[BatchWriter]
) -> tuple[dict[str, Output], dict[str, Any]]:
    """In the helper: write the manifest and run ``writers``; return what they wrote and the
    result fields they set."""
    output.write_manifest(staging, batch.printed)
    written: dict[str, Output] = {}
    for writer in writers:
        _write(writer, staging, batch, written)
    fields = {
        name: getattr(batch.result, name) for w in writers for name in _result_fields(w) or ()
    }
    return written, fields


def _result_fields(writer: BatchWriter) -> tuple[str, ...] | None:
    """The fields of the batch's result ``writer`` sets, when it says (it may be written
    apart then); None when it does not say."""
    return getattr(writer, "result_fields", None)


def _write(
    writer: BatchWriter, staging: Path, batch: BatchContext, written: dict[str, Output]
) -> None:
    made = writer.write(staging, batch)
    if made is not None:
        made.files = [batch.final_path(p) for p in made.files]
        written[writer.name] = made
