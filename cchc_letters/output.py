"""Writing a batch: the batch folder, print files streamed in one pass, manifest and rejects.

Everything is written under a temporary name and renamed into place when complete, so a run
that dies half-way never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import operator
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from cchc_letters import cache
from cchc_letters.deflate import open_deflated
from cchc_letters.models import ChangedRecord, Issue, iso_date
from cchc_letters.render import DOCUMENT_PART, LetterTemplate

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
    # who and what the letter is about, as hashes (identity.py): a ledger rebuilt or
    # recovered from this manifest still recognises corrections and registered deaths
    "event_id",
    "event_name",
    "person_id",
    "person_name",
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
    import secrets

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"batch-{letter_date.isoformat()}-"
    taken = [
        int(m[1])
        for p in out_dir.iterdir()
        if (
            m := re.fullmatch(
                rf"(?:{re.escape(INCOMPLETE_PREFIX)})?{stem}(\d+)(?:-[0-9a-f]{{8}})?", p.name
            )
        )
    ]
    number = max(taken, default=0) + 1
    final = out_dir / f"{stem}{number:03d}"
    # A staging name of its own (never reused): a worker of a killed run that writes late
    # finds its folder gone, and cannot land a file in the next run's batch of that number.
    staging = out_dir / f"{INCOMPLETE_PREFIX}{final.name}-{secrets.token_hex(4)}"
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


# ---------------------------------------------------------------- DOCX packages, written fast
#
# A DOCX is a zip. Every print file of a template shares all its parts but word/document.xml
# (styles alone are ~800 kB uncompressed), so those parts are packed once per template, with
# zipfile, into a small archive of their own (SharedParts). Each print file starts as a copy of
# those bytes; zipfile then opens it for appending and streams word/document.xml into it as the
# letters are rendered, and writes the central directory on close. Nothing is compressed twice,
# and the zip records are the standard library's (plain layout: no zip64 below 4 GiB, no data
# descriptors on a seekable file); the tests open the result with zipfile, python-docx,
# openxml-audit and LibreOffice.

# word/document.xml is deflated by deflate.open_deflated (ISA-L, or zlib at level 3).
SHARED_COMPRESSLEVEL = 6  # the shared parts are packed once per template
_ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)  # a fixed timestamp: the same letters, the same bytes


def _entry(name: str) -> zipfile.ZipInfo:
    """Return the zip entry of one part: deflated, a regular rw-r--r-- file, fixed time."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the permissions below apply
    info.external_attr = 0o100644 << 16
    return info


class SharedParts:
    """The parts of a template's package other than word/document.xml, packed once.

    ``archive`` is a complete zip of those parts (written by zipfile): each print file starts
    as a copy of it, and word/document.xml is appended (``_Package``).
    """

    def __init__(self, parts: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> None:
        key = _shared_parts_key(parts)
        kept = cache.lookup_bytes("shared-parts", key, code=True)
        if kept is not None and _holds(kept, parts):
            self.archive = kept
            return
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as package:
            for info, data in parts:
                package.writestr(_entry(info.filename), data, compresslevel=SHARED_COMPRESSLEVEL)
        self.archive = buffer.getvalue()
        # kept for the next run: a template's styles alone are ~350 kB, 4.7 ms to deflate,
        # more than a daily batch's letters take. Copied into every print file, so it is read
        # only from a file no one else can write, as kept code is.
        cache.store_bytes("shared-parts", key, self.archive, code=True)

    @classmethod
    def of(cls, template: LetterTemplate) -> SharedParts:
        """Return the template's shared parts, packed on first use (or in an earlier run)
        and kept on the template."""
        shared = getattr(template, "_shared_parts", None)
        if shared is None:
            shared = cls(template.other_parts)
            template._shared_parts = shared  # type: ignore[attr-defined]
        return shared


def _shared_parts_key(parts: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> list[str] | None:
    """Return the start-up cache's key of the shared parts packed: the parts themselves,
    this module (how it packs them), zipfile's Python and zlib."""
    import hashlib
    import sys
    import zlib

    digest = hashlib.sha256()
    for info, data in parts:
        digest.update(f"{info.filename}\0{len(data)}\0".encode("utf-8", "surrogatepass"))
        digest.update(data)
    return cache.key_of(
        "shared-parts-1",
        digest.hexdigest(),
        hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        sys.version,
        zlib.ZLIB_RUNTIME_VERSION,
    )


def _holds(archive: bytes, parts: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> bool:
    """True when ``archive`` is a whole zip whose entries are ``parts``, in order: the same
    names, sizes and checksums (a damaged or cut entry is packed again)."""
    import zlib

    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False
    return [(e.filename, e.file_size, e.CRC) for e in entries] == [
        (info.filename, len(data), zlib.crc32(data)) for info, data in parts
    ]


class _Package:
    """A DOCX being written into ``fh``: the shared parts copied, then word/document.xml
    streamed with ``write`` and the package completed by ``close``."""

    def __init__(self, shared: SharedParts, fh: Any) -> None:
        fh.write(shared.archive)
        self._zip = zipfile.ZipFile(fh, "a")
        self._document = open_deflated(self._zip, _entry(DOCUMENT_PART))

    def write(self, data: bytes) -> None:
        try:
            self._document.write(data)
        except RuntimeError as exc:  # zipfile: over 4 GiB without zip64
            raise ValueError("print file too large (over 4 GiB): use a smaller --per-file") from exc

    def close(self) -> None:
        self._document.close()
        self._zip.close()

    def abandon(self) -> None:
        """Let go of a package whose file is about to be deleted (after an error)."""
        for close in (self._document.close, self._zip.close):
            # Whatever went wrong (a full disk, an interrupt) is already being raised; the
            # half-written file is deleted next, so a second failure here changes nothing.
            with contextlib.suppress(Exception):
                close()


def docx_bytes(template: LetterTemplate, document_xml: str) -> bytes:
    """Return a whole DOCX package whose word/document.xml is ``document_xml``."""
    buffer = io.BytesIO()
    package = _Package(SharedParts.of(template), buffer)
    package.write(document_xml.encode("utf-8"))
    package.close()
    return buffer.getvalue()


class PrintFile:
    """One DOCX print file, written in a single pass: letters are streamed into
    ``word/document.xml`` as they are rendered, the other parts copied from the template.

    Memory stays flat: each body is compressed and written as it is added. Use as a
    context manager; the file appears under its final name only on success.
    """

    def __init__(self, template: LetterTemplate, path: Path) -> None:
        self.template = template
        self.path = path
        self.count = 0
        self._partial = path.with_name(path.name + ".part")
        self._file: Any = None
        self._package: _Package | None = None
        self._break = section_break(template.section_properties).encode("utf-8")
        self._shared = SharedParts.of(template)

    def __enter__(self) -> PrintFile:
        self._file = open(self._partial, "w+b")  # noqa: SIM115 - closed in __exit__
        try:
            self._package = _Package(self._shared, self._file)
            self._package.write(self.template.document_prefix.encode("utf-8"))
        except BaseException:
            self._file.close()
            self._partial.unlink(missing_ok=True)
            raise
        return self

    def add(self, body_xml: str) -> int:
        """Append one letter's body; return its 1-based position in the file."""
        assert self._package is not None, "PrintFile.add outside its with block"
        if self.count:
            self._package.write(self._break)
        self._package.write(body_xml.encode("utf-8"))
        self.count += 1
        return self.count

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        package, self._package = self._package, None
        assert package is not None
        try:
            if exc_type is None:
                tail = self.template.section_properties + self.template.document_suffix
                package.write(tail.encode("utf-8"))
                package.close()
            else:
                package.abandon()
            self._file.close()
        except BaseException:
            self._file.close()
            self._partial.unlink(missing_ok=True)
            raise
        if exc_type is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def write_single_letter(template: LetterTemplate, path: Path, body_xml: str) -> None:
    """Write a DOCX holding exactly one letter (preview, --per-letter).

    The shared parts are copied from the template's cache, so this costs one small deflate
    and one file write.
    """
    document = (
        template.document_prefix + body_xml + template.section_properties + template.document_suffix
    )
    path.write_bytes(docx_bytes(template, document))


def spreadsheet_safe(value: Any) -> str:
    """Return ``value`` as text that Excel/LibreOffice will not run as a formula.

    A cell starting with = + - @ (or a tab/CR) is prefixed with an apostrophe, the usual
    defence against CSV formula injection; the text stays readable.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a UTF-8 (with BOM, so Excel shows Vietnamese) CSV atomically: ``columns``, then
    ``rows`` with each value made ``spreadsheet_safe``, as ``csv.writer`` writes them.

    Rows go out 512 at a time, each lot (when it can) joined column by column by
    ``_joined_rows`` rather than value by value by csv and spreadsheet_safe, which took a
    quarter of a second for a 10,000-letter manifest."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8-sig", newline="") as fh:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        fh.write(buffer.getvalue())
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, 512)):
            text = _joined_rows(chunk)
            if text is None:
                buffer.seek(0)
                buffer.truncate()
                writer.writerows([spreadsheet_safe(v) for v in row] for row in chunk)
                text = buffer.getvalue()
            fh.write(text)
    os.replace(partial, path)


_FORMULA_AFTER_NUL = re.compile("\x00[=+\\-@\t\r]")  # a value that starts so, after NUL
_QUOTED_CHARACTERS = re.compile('[,"\r\n]')  # what csv (QUOTE_MINIMAL) puts in quotes


def _joined_rows(rows: Sequence[Sequence[Any]]) -> str | None:
    """Return ``rows`` as ``csv.writer`` writes them after ``spreadsheet_safe``, or None when
    that takes csv itself: a value other than text or a whole number (None included), a
    value that starts a formula or holds a NUL, rows of unequal length or one value each.

    A column's values are joined (NUL between them) and checked at once; a column where a
    value needs quotes has those values quoted (csv's way: in double quotes, a quote doubled);
    the rows are then joined from the columns by C calls, not a Python call per value."""
    width = len(rows[0])
    if width < 2 or set(map(len, rows)) != {width}:
        return None
    columns: list[Sequence[str]] = []
    for column in zip(*rows, strict=True):
        types = set(map(type, column))
        if not types <= {str, int}:
            return None
        texts: Sequence[str] = column if types == {str} else tuple(map(str, column))
        joined = "\x00".join(texts)
        if (
            joined.count("\x00") != len(texts) - 1
            or joined.startswith(_FORMULA_START)
            or _FORMULA_AFTER_NUL.search(joined)
        ):
            return None
        if "," in joined or '"' in joined or "\r" in joined or "\n" in joined:
            quoted = ('"' + joined.replace('"', '""').replace("\x00", '"\x00"') + '"').split("\x00")
            if '"' in joined or "\r" in joined or "\n" in joined:
                needs: Sequence[object] = list(map(_QUOTED_CHARACTERS.search, texts))
            else:  # commas alone (an address, a content hash): found without a regex
                needs = list(map(operator.contains, texts, itertools.repeat(",")))
            if all(needs):  # (an address: each has a comma)
                texts = quoted
            else:
                texts = [q if need else t for q, need, t in zip(quoted, needs, texts, strict=True)]
        columns.append(texts)
    return "\r\n".join(map(",".join, zip(*columns, strict=True))) + "\r\n"


REPORTS_DIR = "reports"


def new_report_stem(out_dir: Path, letter_date: date) -> Path:
    """Return ``OUT/reports/YYYY-MM-DD-NNN`` (the next free NNN of the day) for the reports
    of a run that printed no letter; add ``-rejects.csv`` / ``-changed.csv`` to it.

    Such a run makes no batch folder (folders holding only an empty manifest would pile up
    on every rerun of a cumulative export), but its rejected rows and corrected records are
    still written down. Call under the batch lock.
    """
    folder = out_dir / REPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = letter_date.isoformat()
    taken = [
        int(m[1])
        for p in folder.iterdir()
        if (m := re.fullmatch(rf"{stem}-(\d+)-(?:rejects|changed)\.csv", p.name))
    ]
    return folder / f"{stem}-{max(taken, default=0) + 1:03d}"


def reject_rows(issues: Iterable[Issue]) -> Iterator[tuple[object, ...]]:
    """Return rejects.csv rows (REJECT_COLUMNS): ``Issue.as_row`` with '' for None."""
    for issue in issues:
        yield tuple("" if value is None else value for value in issue.as_row().values())


def _is_print_file(name: str) -> bool:
    """Return True for a print file (any kind's STEM-….docx/.pdf) or a partial file."""
    from cchc_letters import kinds

    stems = "|".join(re.escape(k.print_stem) for k in kinds.entries())
    return bool(re.fullmatch(rf"(?:{stems})-.*\.(?:docx|pdf)(?:\.part)?|.*\.part", name))


def finish_batch(staging: Path, final: Path, written: Iterable[str] | None = None) -> Path:
    """Rename the staging folder to its final name; return the final path.

    With ``written`` (the names of the files this run wrote), any other print file or partial
    file found in the folder is deleted first: the batch never adopts a file it did not write.
    """
    if written is not None:
        own = set(written)
        for path in staging.iterdir():
            if path.name not in own and _is_print_file(path.name):
                path.unlink(missing_ok=True)
    os.replace(staging, final)
    return final


class StagedBatch:
    """A new batch folder being written: ``staging`` until ``finish()`` renames it ``final``.

    Used as a context manager: a batch left unfinished (an error, an interrupt) has its
    staging folder removed, so nothing half-made ever looks like a batch.
    """

    def __init__(self, out_dir: Path, letter_date: date) -> None:
        self.staging, self.final = new_batch_dir(out_dir, letter_date)
        self.finished = False

    def finish(self, written: Iterable[str] | None = None) -> Path:
        """Rename the staging folder into place (the batch's commit point); return it.
        With ``written`` (the names of the files this run wrote), no other print file is
        adopted (see ``finish_batch``)."""
        finish_batch(self.staging, self.final, written)
        self.finished = True
        return self.final

    def __enter__(self) -> StagedBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.finished:
            import shutil

            shutil.rmtree(self.staging, ignore_errors=True)


def write_manifest(folder: Path, printed: Iterable[Any]) -> Path:
    """Write ``folder/manifest.csv``: one row per letter written (``PrintedLetter``)."""
    path = folder / MANIFEST_NAME
    write_csv(path, MANIFEST_COLUMNS, _manifest_rows(printed))
    return path


def _manifest_rows(printed: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """Yield the manifest's rows (MANIFEST_COLUMNS) of the letters ``printed``. A kind's id
    and a print file's name are looked up once each (Kind.value and Path.name are Python
    properties; a print file's letters come one after another)."""
    from cchc_letters.identity import event, subject

    kind_ids: dict[Any, str] = {}
    last_file: Any = None
    file_name = ""
    for p in printed:
        registration = p.registration
        source = registration.source
        kind = registration.kind
        kind_id = kind_ids.get(kind)
        if kind_id is None:
            kind_id = kind_ids[kind] = kind.value
        if p.print_file is not last_file:
            last_file = p.print_file
            file_name = last_file.name
        happened, about = event(registration), subject(registration)
        yield (
            kind_id,
            p.key,
            registration.number,
            registration.book,
            iso_date(registration.registration_date),
            p.addressee,
            file_name,
            p.position,
            p.schedule_version,
            registration.content_hash(),
            source.file,
            source.sheet or "",
            source.row,
            happened.by_id or "",
            happened.by_name or "",
            about.by_id or "",
            about.by_name or "",
        )


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
    "printed_registration_key",
)


def changed_rows(changed: Iterable[ChangedRecord]) -> Iterator[tuple[str | int, ...]]:
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
            previous.key,
        )


def ensure_out_dir(out_dir: Path) -> Path:
    """Create the output folder if needed and check it takes files; return it.

    Raises OutputFolderError (exit 1) when ``out_dir`` is a file (``--out births.xlsx``, a
    slip of the shell), or cannot be created or written (``/proc/foo``, a read-only share).
    """
    from cchc_letters.errors import OutputFolderError

    hint = "--out phải là một thư mục ghi được, ví dụ --out out (a writable folder)."
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(
            f"thư mục đầu ra {out_dir} là một tệp, không phải thư mục (--out is a file)",
            hint=hint,
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".cchc-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputFolderError(
            f"không ghi được vào thư mục đầu ra {out_dir}: {exc.strerror or exc} "
            "(cannot write into --out)",
            hint=hint,
        ) from None
    return out_dir


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


SYNC_ONE_BY_ONE = 8  # a daily batch's few files: not worth a thread pool (nor its import)
SYNC_THREADS = 8


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def sync_batch(final: Path) -> None:
    """Flush a renamed batch to disk — its files, its folder entry and the rename itself —
    so a power cut after the ledger commit cannot lose a batch the ledger says exists."""
    files = [path for path in final.iterdir() if path.is_file()]
    if len(files) <= SYNC_ONE_BY_ONE:
        for path in files:
            _fsync_file(path)
    else:
        # Each fsync waits for the disk, not for Python (the GIL is let go): the 56 files of
        # 10,000 letters took 0.25 s one after another; flushed together the device takes
        # them in a few rounds. The first failure is raised, as before.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="fsync") as pool:
            for done in pool.map(_fsync_file, files):
                del done
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
