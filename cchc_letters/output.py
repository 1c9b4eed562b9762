"""Writing a batch: the batch folder, print files streamed in one pass, manifest and rejects.

Everything is written under a temporary name and renamed into place when complete, so a run
that dies half-way never leaves a file that looks finished.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from cchc_letters.models import Issue, Kind
from cchc_letters.render import DOCUMENT_PART, LetterTemplate

PRINT_FILE_STEMS = {Kind.BIRTH: "khai-sinh", Kind.MARRIAGE: "ket-hon", Kind.DEATH: "khai-tu"}
INCOMPLETE_PREFIX = ".incomplete-"
MANIFEST_NAME = "manifest.csv"
REJECTS_NAME = "rejects.csv"
MANIFEST_COLUMNS = (
    "kind",
    "registration_key",
    "registration_number",
    "book_number",
    "registration_date",
    "addressee",
    "print_file",
    "position",
    "schedule_version",
    "content_hash",
    "source_file",
    "source_sheet",
    "source_row",
)
REJECT_COLUMNS = (
    "source_file",
    "sheet",
    "row",
    "column",
    "value",
    "reason",
    "reason_code",
    "severity",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def new_batch_dir(out_dir: Path, letter_date: date) -> tuple[Path, Path]:
    """Return (staging, final) folders for a new batch: ``batch-YYYY-MM-DD-NNN``.

    The staging folder (``.incomplete-batch-…``) is created; the caller renames it to the
    final name when the batch is complete.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"batch-{letter_date.isoformat()}-"
    taken = [
        int(m[1])
        for p in out_dir.iterdir()
        if (m := re.fullmatch(rf"(?:{re.escape(INCOMPLETE_PREFIX)})?{stem}(\d+)", p.name))
    ]
    number = max(taken, default=0) + 1
    final = out_dir / f"{stem}{number:03d}"
    staging = out_dir / f"{INCOMPLETE_PREFIX}{final.name}"
    staging.mkdir()
    return staging, final


def section_break(section_properties: str) -> str:
    """Return a tiny paragraph that ends a letter's section and starts the next on a new page.

    A section per letter (rather than a page-break run) keeps each letter's own first-page
    settings, and the paragraph is 1 pt high so it never pushes a full letter onto two pages.
    """
    props = section_properties
    if "<w:type " not in props:
        props = re.sub(r"(<w:pgSz\b)", r'<w:type w:val="nextPage"/>\1', props, count=1)
    return (
        '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
        f'<w:rPr><w:sz w:val="2"/><w:szCs w:val="2"/></w:rPr>{props}</w:pPr></w:p>'
    )


class PrintFile:
    """One DOCX print file, written in a single pass: letters are streamed into
    ``word/document.xml`` as they are rendered, the other parts copied from the template.

    Use as a context manager; the file appears under its final name only on success.
    """

    def __init__(self, template: LetterTemplate, path: Path) -> None:
        self.template = template
        self.path = path
        self.count = 0
        self._partial = path.with_name(path.name + ".part")
        self._zip: zipfile.ZipFile | None = None
        self._stream: Any = None
        self._break = section_break(template.section_properties)

    def __enter__(self) -> PrintFile:
        self._zip = zipfile.ZipFile(self._partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        for info, data in self.template.other_parts:
            self._zip.writestr(info, data)
        info = zipfile.ZipInfo(DOCUMENT_PART, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        self._stream = self._zip.open(info, "w", force_zip64=True)
        self._stream.write(self.template.document_prefix.encode("utf-8"))
        return self

    def add(self, body_xml: str) -> int:
        """Append one letter's body; return its 1-based position in the file."""
        if self.count:
            self._stream.write(self._break.encode("utf-8"))
        self._stream.write(body_xml.encode("utf-8"))
        self.count += 1
        return self.count

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._zip is not None
        try:
            if exc_type is None:
                tail = self.template.section_properties + self.template.document_suffix
                self._stream.write(tail.encode("utf-8"))
            self._stream.close()
            self._zip.close()
        finally:
            if exc_type is None:
                os.replace(self._partial, self.path)
            else:
                self._partial.unlink(missing_ok=True)


def write_single_letter(template: LetterTemplate, path: Path, body_xml: str) -> None:
    """Write a DOCX holding exactly one letter (preview, --per-letter)."""
    with PrintFile(template, path) as print_file:
        print_file.add(body_xml)


def spreadsheet_safe(value: Any) -> str:
    """Return ``value`` as text that Excel/LibreOffice will not run as a formula.

    A cell starting with = + - @ (or a tab/CR) is prefixed with an apostrophe, the usual
    defence against CSV formula injection; the text stays readable.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a UTF-8 (with BOM, so Excel shows Vietnamese) CSV atomically."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([spreadsheet_safe(v) for v in row])
    os.replace(partial, path)


def reject_rows(issues: Iterable[Issue]) -> Iterable[tuple]:
    """Return rejects.csv rows: file, sheet, row, column, raw value, Vietnamese reason, code."""
    for issue in issues:
        source = issue.source
        yield (
            source.file if source else issue.file or "",
            (source.sheet or "") if source else "",
            source.row if source else "",
            issue.column or "",
            issue.value or "",
            issue.message,
            issue.code,
            issue.severity,
        )


def finish_batch(staging: Path, final: Path) -> Path:
    """Rename the staging folder to its final name; return the final path."""
    os.replace(staging, final)
    return final


CHANGED_NAME = "changed.csv"
CHANGED_COLUMNS = (
    "registration_key",
    "kind",
    "registration_number",
    "book_number",
    "registration_date",
    "content_hash",
    "printed_content_hash",
    "printed_batch",
    "printed_file",
    "printed_position",
    "printed_at",
    "reprinted",
    "source_file",
    "source_sheet",
    "source_row",
)


def changed_rows(changed: Iterable[Any]) -> Iterable[tuple]:
    """Return changed.csv rows for records corrected since their letter was printed."""
    for c in changed:
        registration, previous = c.registration, c.previous
        yield (
            c.key,
            registration.kind.value,
            registration.number,
            registration.book,
            registration.registration_date.isoformat(),
            registration.content_hash(),
            previous.content_hash,
            previous.batch,
            previous.print_file,
            previous.position,
            previous.printed_at,
            "yes" if c.reprinted else "no",
            registration.source.file,
            registration.source.sheet or "",
            registration.source.row,
        )


def remove_incomplete(out_dir: Path) -> list[Path]:
    """Delete staging folders left by runs that died; return them. Call under the batch lock:
    no other run is writing then, so every ``.incomplete-*`` folder is a dead one."""
    import shutil

    if not out_dir.is_dir():
        return []
    leftovers = [p for p in sorted(out_dir.iterdir()) if p.name.startswith(INCOMPLETE_PREFIX)]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


def sync_batch(final: Path) -> None:
    """Flush a renamed batch to disk — its files, its folder entry and the rename itself —
    so a power cut after the ledger commit cannot lose a batch the ledger says exists."""
    for path in final.iterdir():
        if path.is_file():
            with path.open("rb+") as fh:
                os.fsync(fh.fileno())
    for folder in (final, final.parent):
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:  # Windows cannot open a folder; NTFS journals the rename itself
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
