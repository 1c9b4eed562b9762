"""Excel workbooks (XLSX/XLSM, legacy XLS, XLSB, ODS; all read with calamine) as grids."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_letters.ingest.limits import (
    MAX_OTHER_XML,
    MAX_SHARED_STRINGS_XML,
    MAX_SHEET_CELLS,
    MAX_SHEET_ROWS,
    MAX_SHEET_XML,
    MAX_TEXT_BYTES,
)
from cchc_letters.ingest.table import Grid, Rows, Spans
from cchc_letters.ingest.text import FileProblem, nfc
from cchc_letters.memo import TextMemo

if TYPE_CHECKING:
    from zipfile import ZipFile, ZipInfo

    from python_calamine import CalamineSheet

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and password-protected .xlsx
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")

Merged = list[tuple[int, int, int, int]]  # (first row, first col, last row, last col), 0-based


def cell_text(value: object, number_format: str | None = None) -> str:
    """Return a cell value as the text the officer sees, keeping what matters for us.

    Dates become dd/mm/yyyy (day first, as Vietnamese registers write them); whole numbers
    lose Excel's ".0"; a number shown with a zero-padded format ("00", "000000000000")
    gets its leading zeros back, so số "01" and a 12-digit số định danh survive.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        if value.date() in (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)):
            return value.strftime("%H:%M")  # a time-only cell ("giờ chết")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        text = str(int(value))
        if number_format and re.fullmatch(r"0+", number_format) and len(number_format) > len(text):
            text = text.zfill(len(number_format))
        return text
    return nfc(str(value))


def _numbered(rows: Iterable[tuple[int, list[str]]]) -> Rows:
    """Yield (row number, texts) of each row that holds a text, from (0-based index, texts)."""
    for i, values in rows:
        while values and not values[-1].strip():
            values.pop()
        # Blank rows are left out (a sheet formatted far below its data has thousands);
        # each kept row carries its own number, so nothing shifts.
        if values:
            yield i + 1, values  # Excel row numbers are 1-based, from the top


def _spans(merged: Merged) -> Spans:
    spans: Spans = {}
    for r0, c0, _r1, c1 in merged:
        # Only merges across columns matter (the header rows use them); merged down, a
        # heading stays in its top cell and the row below reads empty there, as wanted.
        if c1 > c0:
            spans.setdefault(r0 + 1, []).append((c0, c1))
    return spans


def _grid(rows: list[list[str]], merged: Merged) -> tuple[Grid, Spans]:
    return list(_numbered(enumerate(rows))), _spans(merged)


def sniff_format(path: Path, head: bytes) -> str:
    """Return "xlsx", "xls", "encrypted" or "text" from the first bytes, not the suffix.

    People rename files: an "xls" that is really XLSX or a CSV, a CSV that is a workbook.
    """
    if head.startswith(ZIP_MAGIC):
        return "xlsx" if path.suffix.lower() not in (".xlsb", ".ods") else path.suffix[1:].lower()
    if head.startswith(OLE_MAGIC):
        # Excel saves a password-protected XLSX as an OLE container with EncryptionInfo.
        with path.open("rb") as fh:
            data = fh.read(1 << 20)
        return "encrypted" if ENCRYPTED_MARK in data else "xls"
    return "text"


def read_xlsx(path: Path) -> list[tuple[str, Grid, Spans]]:
    """Return (sheet name, grid, merged spans) for every worksheet of an XLSX/XLSM workbook
    (``open_xlsx``, each sheet's rows in a list)."""
    return [(name, list(rows), spans) for name, rows, spans in open_xlsx(path)]


def open_xlsx(path: Path) -> Sequence[tuple[str, Rows, Spans]]:
    """Return (sheet name, rows, merged spans) for every worksheet of an XLSX/XLSM workbook;
    each sheet's rows are made into texts as they are taken.

    Values come from calamine (a Rust reader, ~15x faster than openpyxl on a 10,000-row
    register); the one thing calamine does not give, a zero-padded number format ("00"),
    is read from the workbook's own styles. A workbook calamine cannot open goes to
    openpyxl, which reads what it can and words the problem as the reader always has.
    Before either reads it, the workbook's XML is measured (``measure_workbook``): one that
    would expand beyond the limits is refused with FileProblem, fast and in little memory.
    (In the forked reader calamine parses while the XML is measured: see below.)
    """
    import io
    import zipfile

    from cchc_letters.ingest.bounds import check_file_size

    check_file_size(path)
    data = path.read_bytes()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError):
        return _read_xlsx_openpyxl(path)  # names the problem (a truncated download …)
    parse = _Parse(data) if _parse_while_measuring else None
    with archive:
        if parse is None:
            measured = measure_workbook(archive)
        else:
            parse.start()
            measured = _measure_beside(parse, archive)
    try:
        return _open_xlsx_fast(data, measured, parse)
    except Exception:  # noqa: BLE001 — openpyxl decides, and names the problem
        return _read_xlsx_openpyxl(path)


# ---- parsing while measuring (in the forked reader only) ---------------------------------
# The forked reader (ingest/ahead.py) waits, before its first row, for the workbook's XML
# to be measured and then for calamine's parse: 0.22 + 0.50 s at 10,000 rows, 2.0 + 4.2 s
# at 100,000, while the run that forked it has nothing to validate. calamine releases the
# GIL while it parses, so the reader parses in a thread while it measures, and uses the
# parse only once the measure has passed. What keeps a workbook over the limits from being
# expanded there is the reader's capped address space (``processes.cap_address_space``):
# calamine's allocation fails and the reader dies, or the measure fails first and the
# reader gives way (``ReaderGivesWay``). Either way the run reads that file itself, measure
# first, and finds the same problem; a reader that dies loses and doubles no row.
_parse_while_measuring = False


def parse_while_measuring() -> None:
    """Let this process parse each workbook while its XML is measured. Only for a process
    whose address space is capped and whose death loses nothing: the forked reader."""
    global _parse_while_measuring
    _parse_while_measuring = True


class ReaderGivesWay(BaseException):
    """A workbook over the limits is being parsed and cannot be stopped: the forked reader
    leaves (a BaseException, so that no handler of a file's problems keeps it), and the run
    reads that file itself (ingest/ahead.py)."""


@dataclass
class _Parsed:
    book: Any  # python_calamine.CalamineWorkbook
    names: list[str]  # its worksheets
    sheets: list[CalamineSheet]


def _parsed(data: bytes) -> _Parsed:
    """Return calamine's parse of every worksheet of a workbook."""
    import io

    from python_calamine import CalamineWorkbook, SheetTypeEnum

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    # Every sheet is parsed here, so that a workbook calamine fails on goes to openpyxl
    # whole; its values become texts only as its rows are taken (``_sheet_texts``).
    return _Parsed(book, names, [book.get_sheet_by_name(name) for name in names])


class _Parse:
    """``_parsed(data)`` in a thread of its own."""

    def __init__(self, data: bytes) -> None:
        import threading

        self.result: _Parsed | None = None
        self.error: Exception | None = None
        self._thread = threading.Thread(
            target=self._run, args=(data,), name="calamine-parse", daemon=True
        )

    def _run(self, data: bytes) -> None:
        try:
            self.result = _parsed(data)
        except Exception as exc:  # noqa: BLE001 — raised where the parse is used
            self.error = exc

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def outcome(self) -> _Parsed:
        """Wait for the parse; return it, or raise what calamine raised."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _measure_beside(parse: _Parse, archive: ZipFile) -> WorkbookSize:
    """Return ``measure_workbook(archive)`` while ``parse`` runs; when the measure fails and
    the parse has not ended, raise ReaderGivesWay instead of waiting for it."""
    try:
        return measure_workbook(archive)
    except BaseException:
        if parse.running():
            raise ReaderGivesWay from None
        raise


def _open_xlsx_fast(
    data: bytes, measured: WorkbookSize, parse: _Parse | None = None
) -> list[tuple[str, Rows, Spans]]:
    import io
    import zipfile

    parsed = _parsed(data) if parse is None else parse.outcome()
    book, names = parsed.book, parsed.names
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        extras = sheet_extras(archive, names, measured.parts_with_errors)
    sheets: list[tuple[str, Rows, Spans]] = []
    for name, sheet in zip(names, parsed.sheets, strict=True):
        pads, errors = extras.get(name, ({}, {}))
        merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
        rows = _sheet_texts(sheet, functools.partial(_row_texts, pads=pads), errors)
        sheets.append((name, _numbered(rows), _spans(merged)))
    book.close()
    return sheets


def _sheet_texts(
    sheet: CalamineSheet,
    texts: Callable[[int, Sequence[object]], list[str]],
    errors: Errors | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield (0-based row index, ``texts`` of its values) of every row of a calamine sheet
    from A1, with the text of each error cell put in; one row at a time.

    The rows are those of ``to_python(skip_empty_area=False)``, which would hold the whole
    sheet as Python values at once (and copy calamine's grid when the data does not start
    at A1): ``iter_rows`` gives the empty rows above the data, but not the empty columns on
    its left, which are put back here.
    """
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), text in (errors or {}).items():
        by_row.setdefault(r, []).append((c, text))
    start = sheet.start
    index = -1
    if start is not None:  # None: an empty sheet (iter_rows would fail on it)
        left: list[object] = [""] * start[1]
        for index, row in enumerate(sheet.iter_rows()):
            values: Sequence[object] = [*left, *row] if left else row
            if index in by_row:
                values = _with_errors(values, by_row.pop(index))
            yield index, texts(index, values)
    for r in sorted(by_row):  # error cells below the data calamine reads
        if r > index:
            yield r, texts(r, _with_errors([], by_row[r]))


def _with_errors(values: Sequence[object], errors: list[tuple[int, str]]) -> list[object]:
    """Return a row's values with the text of each of its error cells ("#N/A") put in."""
    values = list(values)
    for c, text in errors:
        values.extend([""] * (c + 1 - len(values)))
        values[c] = text
    return values


# ---- limits: what a workbook may expand to (data/limits.toml; docs/input.md, "Limits") --
# Readers expand a sheet to the rectangle from A1 to its farthest cell holding data (one
# value in XFD1048576 is 17 billion cells), and hold the shared strings whole. A register
# of 100,000 registrations × 30 columns is 3 million cells in 150 MB of XML; the limits
# leave room for that and refuse what no register needs, before anything is expanded.
_CHUNK = 1 << 20

# Any cell's reference (row tags have digits only). Quick, and an upper bound: formatted
# empty cells (<c r="X9" s="1"/>) are counted too, although readers skip them.
_ANY_CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3})([0-9]{1,7})["']""")
_PLAIN_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')  # how Excel writes them
# A cell that holds something (<c …>…</c>, not self-closing), with its reference: the exact
# extent, looked for only when the quick bound is over a limit.
_VALUE_CELL_REF = re.compile(
    rb"""<(?:[\w.-]+:)?c\s[^>]*?\br=["']([A-Z]{1,3})([0-9]{1,7})["'][^>]*(?<!/)>"""
)
_VALUE_CELL = re.compile(rb"<(?:[\w.-]+:)?c(?:\s[^>]*)?(?<!/)>")
_ROW_NUMBER = re.compile(rb"""<(?:[\w.-]+:)?row\s[^>]*?\br=["']([0-9]{1,7})["']""")


@dataclass
class WorkbookSize:
    """What ``measure_workbook`` found: per sheet part, its extent; which have error cells."""

    extents: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # rows, cols, cells
    parts_with_errors: set[str] = field(default_factory=set)


def _too_large(what: str) -> FileProblem:
    from cchc_letters.ingest.bounds import too_large  # the one wording, for every format

    return too_large(what)


def measure_workbook(archive: ZipFile) -> WorkbookSize:
    """Return the extent of each sheet of a workbook, reading its XML a megabyte at a time.

    Raises FileProblem ("oversized_file") when a part is larger than its limit, a single
    text is longer than any cell Excel can hold, or a sheet's data reaches beyond
    MAX_SHEET_ROWS rows or a rectangle of MAX_SHEET_CELLS cells; ("unreadable_file") for a
    damaged zip. Sizes are counted as decompressed, never taken from the zip's directory.
    """
    import zipfile
    import zlib

    from cchc_letters.ingest.bounds import sheet_targets

    names = _sheet_names(archive)
    targets = sheet_targets(archive)
    size = WorkbookSize()
    for info in archive.infolist():
        lower = info.filename.lower()
        in_place = lower.startswith("xl/worksheets/") or info.filename in targets
        if not (in_place or lower.endswith((".xml", ".rels"))):
            continue  # pictures, printer settings, VBA: never read
        # Cells are counted in every XML part, not only under xl/worksheets/: calamine reads
        # a sheet wherever the workbook's relationships put it (a sheet moved to
        # "xl/data/s.xml" would otherwise be expanded unmeasured).
        is_sheet = True
        if in_place:
            limit = MAX_SHEET_XML
        elif lower.endswith("sharedstrings.xml"):
            limit = MAX_SHARED_STRINGS_XML
        else:
            limit = MAX_OTHER_XML
        label = names.get(info.filename, info.filename)
        if info.file_size > limit:
            raise _too_large(f"phần {label} giải nén ra {info.file_size:,} byte")
        try:
            extent = _measure_part(archive, info, limit, is_sheet, label, exact=False)
            if is_sheet and _over_limits(extent):
                extent = _measure_part(archive, info, limit, is_sheet, label, exact=True)
                _check_extent(extent, label)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise FileProblem(
                "unreadable_file",
                f"Tệp Excel bị hỏng hoặc chưa tải xong, không mở được ({type(exc).__name__}). "
                "Hãy mở bằng Excel và lưu lại.",
            ) from None
        if is_sheet:
            size.extents[info.filename] = extent[:3]
            if extent[3]:
                size.parts_with_errors.add(info.filename)
    return size


Extent = tuple[int, int, int, bool]  # last row, last column, cells, has error cells


def _over_limits(extent: Extent) -> bool:
    rows, cols, cells, _ = extent
    return rows > MAX_SHEET_ROWS or max(rows * cols, cells) > MAX_SHEET_CELLS


def _check_extent(extent: Extent, label: str) -> None:
    if _over_limits(extent):
        rows, cols, cells, _ = extent
        corner = f"{column_letters(cols)}{rows}"
        raise _too_large(
            f"trang tính {label} có dữ liệu tới ô {corner} (vùng A1:{corner} gồm {rows:,} hàng, "
            f"{max(rows * cols, cells):,} ô; giới hạn {MAX_SHEET_ROWS:,} hàng và "
            f"{MAX_SHEET_CELLS:,} ô mỗi trang tính)"
        )


def _measure_part(
    archive: ZipFile, info: ZipInfo, limit: int, is_sheet: bool, label: str, *, exact: bool
) -> Extent:
    """Return the Extent of one XML part read a megabyte at a time (sheets; others (0, 0, 0,
    False)), raising FileProblem when the part or one of its texts is too large.

    Quick (``exact`` False): every cell reference counts. Exact: only cells holding a value.
    """
    checks_text = is_sheet or info.filename.lower().endswith("sharedstrings.xml")
    total = max_row = cells = 0
    refless = has_errors = False
    columns: set[bytes] = set()
    tail = b""
    half = MAX_TEXT_BYTES // 2
    with archive.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise _too_large(f"phần {label} giải nén ra hơn {limit:,} byte")
            if not (checks_text or is_sheet):
                continue
            window = tail + chunk
            cut = window.rfind(b"<")
            if cut < 0:
                cut = 0
            if checks_text:
                _check_texts(window, half, label)
            tail = window[cut:]
            if not is_sheet:
                continue
            # Searched up to ``cut`` (complete tags only) without copying the window.
            has_errors = (
                has_errors
                or window.find(b't="e"', 0, cut) >= 0
                or window.find(b"t='e'", 0, cut) >= 0
            )
            if exact:
                refs = _VALUE_CELL_REF.findall(window, 0, cut)
                found = len(_VALUE_CELL.findall(window, 0, cut))
            else:
                found = window.count(b"<c ", 0, cut) + window.count(b"<c>", 0, cut)
                refs = _PLAIN_CELL_REF.findall(window, 0, cut)
                if len(refs) != found:  # other attribute order, a namespace prefix, quotes
                    refs = _ANY_CELL_REF.findall(window, 0, cut)
                    found = max(found, len(_VALUE_CELL.findall(window, 0, cut)))
            cells += max(found, len(refs))
            if refs:
                # each row's number once (a row's cells all repeat it): 13 ms instead of 33
                # for the 150,000 cells of benchmarks/bench_batch.py's 10,000 births
                max_row = max(max_row, max(map(int, set(map(itemgetter(1), refs)))))
                columns.update(map(itemgetter(0), refs))
            if found > len(refs):
                refless = True  # cells without a reference: they follow their row's number
                numbers = _ROW_NUMBER.findall(window, 0, cut)
                if numbers:
                    max_row = max(max_row, max(map(int, numbers)))
            if exact and (cells > MAX_SHEET_CELLS or max_row > MAX_SHEET_ROWS):
                break  # already over: no need to read the rest
    max_col = max((_column_index(c) + 1 for c in columns), default=1 if refless else 0)
    return max_row, max_col, cells, has_errors


def _check_texts(window: bytes, half: int, label: str) -> None:
    """Raise FileProblem when ``window`` holds a text (between tags) over MAX_TEXT_BYTES.

    Such a stretch covers a whole aligned block of MAX_TEXT_BYTES / 2 bytes, so only blocks
    without any "<" are looked at closely. A text still running at the end of the window
    comes back at the start of the next one (the caller keeps what follows the last "<").
    """
    for start in range(0, len(window), half):
        end = min(start + half, len(window))
        if window.find(b"<", start, end) >= 0:
            continue
        left = window.rfind(b"<", 0, start) + 1
        right = window.find(b"<", end)
        if (len(window) if right < 0 else right) - left > MAX_TEXT_BYTES:
            raise _too_large(f"một ô trong {label} dài hơn {MAX_TEXT_BYTES:,} byte")


def column_letters(index: int) -> str:
    """Return the column letters of a 1-based column number (1 -> A, 16384 -> XFD).
    (openpyxl.utils has one, but importing openpyxl costs a daily batch 0.1 s.)"""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


def _sheet_names(archive: ZipFile) -> dict[str, str]:
    """Return {sheet part: "Sheet name"} from the workbook (parts it cannot name are left out)."""
    from xml.etree import ElementTree as ET

    try:
        info = archive.getinfo("xl/workbook.xml")
        if info.file_size > MAX_OTHER_XML:
            return {}
        workbook = ET.fromstring(archive.read(info))
        rels = _relationships(archive, "xl/_rels/workbook.xml.rels")
    except Exception:  # noqa: BLE001 — only for messages; the readers judge the file
        return {}
    return {
        rels.get(sheet.get(f"{_DOC_RELS_NS}id") or "", ("", ""))[1]: f"'{sheet.get('name')}'"
        for sheet in workbook.iter(f"{_SPREADSHEET_NS}sheet")
    }


# A register repeats its places, addresses and relations in every row: each distinct
# non-ASCII cell text is put in NFC once (benchmarks/bench_batch.py's 10,000 births: 74,071
# such cells, 14,804 distinct texts). Only short texts are held: a long note is rarely
# repeated, and 16,384 held texts of any length could be a great deal of memory.
_NFC: TextMemo[str] = TextMemo(nfc)
_NFC_HELD_CHARS = 256


def _row_texts(row: int, values: Sequence[object], pads: dict[tuple[int, int], int]) -> list[str]:
    """Return one calamine row as cell texts; the same texts cell_text gives openpyxl's values."""
    texts: list[str] = []
    in_nfc = _NFC
    for col, value in enumerate(values):
        if type(value) is str:
            # Most cells are short text; ASCII text is already NFC and has no invisibles.
            if value.isascii():
                texts.append(value)
            else:
                texts.append(in_nfc[value] if len(value) <= _NFC_HELD_CHARS else nfc(value))
        elif type(value) is float and value.is_integer() and (row, col) not in pads:
            texts.append(str(int(value)))  # 1996.0 -> "1996"
        else:
            width = pads.get((row, col))
            texts.append(cell_text(value, "0" * width if width else None))
    return texts if any(texts) else []  # keep memory small for blank rows


Cells = dict[tuple[int, int], int]  # (row, column), 0-based -> width of a "00…" format
Errors = dict[tuple[int, int], str]  # (row, column), 0-based -> "#N/A", "#REF!" …

# A cell's tag: <c r="B9" s="3" t="e">. Attribute order is free in XML (and some tools
# write a namespace prefix or single quotes), so one attribute is looked for inside the tag.
_CELL_TAG = rb"<(?:[\w.-]+:)?c\s[^>]*?"
_ERROR_CELL = re.compile(_CELL_TAG + rb"""\bt=["']e["'][^>]*>""")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</")
_REF = re.compile(rb"""\br=["']([A-Z]{1,3})([0-9]+)["']""")
_SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def sheet_extras(
    archive: ZipFile, sheet_names: list[str], parts_with_errors: set[str] | None = None
) -> dict[str, tuple[Cells, Errors]]:
    """Return, per sheet, what calamine's values do not tell: zero-padded cells and errors.

    Officers type a số "01" or a 12-digit số định danh "079…" into a number column and give
    it the format "00" / "000000000000" so that Excel shows the zeros; the cell holds 1 or
    79…, and only the format says how it reads. A formula that failed shows "#N/A" in Excel
    (calamine reads it as empty; the officer must see what Excel shows). The styles part is
    small; a sheet's XML is searched only for the styles found and for error cells.
    """
    from xml.etree import ElementTree as ET

    rels = _relationships(archive, "xl/_rels/workbook.xml.rels")
    widths = _zero_padded_styles(archive, rels)
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    parts = {
        sheet.get("name"): rels.get(sheet.get(f"{_DOC_RELS_NS}id") or "", ("", ""))[1]
        for sheet in workbook.iter(f"{_SPREADSHEET_NS}sheet")
    }
    styled = None
    if widths:
        styled = re.compile(_CELL_TAG + rb"""\bs=["'](""" + b"|".join(widths) + rb""")["'][^>]*>""")
    found: dict[str, tuple[Cells, Errors]] = {}
    for name in sheet_names:
        part = parts.get(name)
        if not part or part not in archive.namelist():
            continue
        has_errors = (
            part in parts_with_errors
            if parts_with_errors is not None
            else _has_error_cells(archive, part)
        )
        if styled is None and not has_errors:
            continue  # the usual export: nothing to add, and the sheet XML is never held
        xml = archive.read(part)
        try:
            found[name] = _extras_by_reference(xml, styled, widths)
        except LookupError:  # cells without references: count positions the slow way
            found[name] = _extras_by_position(xml, widths)
    return found


def _has_error_cells(archive: ZipFile, part: str) -> bool:
    """Return whether a sheet's XML has an error cell, reading it a megabyte at a time."""
    needles = (b't="e"', b"t='e'")
    tail = b""
    with archive.open(part) as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-5:]
    return False


def _zero_padded_styles(archive: ZipFile, rels: dict[str, tuple[str, str]]) -> dict[bytes, int]:
    """Return {cell style index: width} for the styles whose number format is "00", "000"…"""
    from xml.etree import ElementTree as ET

    part = next((target for kind, target in rels.values() if kind.endswith("/styles")), None)
    if part is None or part not in archive.namelist():
        return {}
    root = ET.fromstring(archive.read(part))
    codes = {
        fmt.get("numFmtId"): fmt.get("formatCode", "")
        for fmt in root.iter(f"{_SPREADSHEET_NS}numFmt")
    }
    widths: dict[bytes, int] = {}
    cell_xfs = root.find(f"{_SPREADSHEET_NS}cellXfs")
    for index, xf in enumerate(cell_xfs if cell_xfs is not None else ()):
        code = codes.get(xf.get("numFmtId"), "")
        if len(code) > 1 and re.fullmatch(r"0+", code):
            widths[str(index).encode()] = len(code)
    return widths


def _position(tag: bytes) -> tuple[int, int]:
    ref = _REF.search(tag)
    if ref is None:
        raise LookupError("cell without a reference")
    return int(ref[2]) - 1, _column_index(ref[1])


def _extras_by_reference(
    xml: bytes, styled: re.Pattern[bytes] | None, widths: dict[bytes, int]
) -> tuple[Cells, Errors]:
    cells: Cells = {}
    errors: Errors = {}
    if styled is not None:
        for match in styled.finditer(xml):
            cells[_position(match[0])] = widths[match[1]]
    if b't="e"' in xml or b"t='e'" in xml:
        for match in _ERROR_CELL.finditer(xml):
            if match[0].endswith(b"/>"):
                continue
            value = _VALUE.match(xml, match.end()) or _VALUE.search(
                xml, match.end(), xml.find(b"c>", match.end())
            )
            if value and value[1]:
                errors[_position(match[0])] = value[1].decode("utf-8")
    return cells, errors


def _extras_by_position(xml: bytes, widths: dict[bytes, int]) -> tuple[Cells, Errors]:
    """Return the extras of a sheet whose rows or cells omit their reference."""
    import io
    from xml.etree import ElementTree as ET

    cells: Cells = {}
    errors: Errors = {}
    row = col = -1
    for event, element in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = element.tag.rsplit("}", 1)[-1]
        if event == "start" and tag == "row":
            number = element.get("r")
            row, col = (int(number) - 1 if number else row + 1), -1
        elif event == "start" and tag == "c":
            ref = element.get("r")
            m = re.fullmatch(r"([A-Z]{1,3})([0-9]+)", ref or "")
            if m:
                row, col = int(m[2]) - 1, _column_index(m[1].encode())
            else:
                col += 1
            width = widths.get((element.get("s") or "").encode())
            if width:
                cells[(row, col)] = width
        elif event == "end" and tag == "c" and element.get("t") == "e":
            value = next((v.text for v in element if v.tag.rsplit("}", 1)[-1] == "v"), None)
            if value:
                errors[(row, col)] = value
    return cells, errors


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def _relationships(archive: ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Return {id: (type, part path in the zip)} of a .rels part ({} when it is missing)."""
    import posixpath
    from xml.etree import ElementTree as ET

    if part not in archive.namelist():
        return {}
    base = posixpath.dirname(posixpath.dirname(part))  # "xl/_rels/x.rels" -> "xl"
    found = {}
    for rel in ET.fromstring(archive.read(part)).iter(f"{_RELS_NS}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
    return found


def _read_xlsx_openpyxl(path: Path) -> list[tuple[str, Grid, Spans]]:
    """Return the sheets as openpyxl reads them (the fallback for what calamine refuses)."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Opened as a file object: openpyxl refuses a path whose suffix is not .xlsx/.xlsm,
        # and a renamed workbook ("so.xls" that is really XLSX) must still be read.
        with path.open("rb") as fh, warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, conditional styles);
            # the library never prints, and these do not change cell values.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(fh, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, EOFError) as exc:
        raise FileProblem(
            "unreadable_file",
            f"Tệp Excel bị hỏng hoặc chưa tải xong, không mở được ({type(exc).__name__}). "
            "Hãy mở bằng Excel và lưu lại.",
        ) from None
    sheets = []
    for ws in book.worksheets:
        rows: list[list[str]] = []
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, min_col=1, max_col=ws.max_column):
            values = [cell_text(c.value, c.number_format) for c in row]
            rows.append(values if any(values) else [])  # keep memory small for blank rows
        merged = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
            for m in ws.merged_cells.ranges
        ]
        sheets.append((ws.title, *_grid(rows, merged)))
    book.close()
    return sheets


def open_calamine(path: Path, fmt: str) -> list[tuple[str, Rows, Spans]]:
    """Return (sheet name, rows, merged spans) for every sheet of an XLS/XLSB/ODS workbook
    (``fmt`` "xls", "xlsb" or "ods"), each sheet's rows made into texts as they are taken;
    measured first (ingest/bounds.py): one that would expand beyond the limits is refused
    with FileProblem before calamine reads it."""
    from python_calamine import CalamineWorkbook

    from cchc_letters.ingest.bounds import measure_calamine

    measure_calamine(path, fmt)
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets: list[tuple[str, Rows, Spans]] = []
        for name in book.sheet_names:
            # Parsed here, so that a broken workbook is one FileProblem before any row.
            sheet = book.get_sheet_by_name(name)
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            rows = _sheet_texts(sheet, _cell_texts)
            sheets.append((name, _numbered(rows), _spans(merged)))
    except Exception as exc:  # calamine raises its own error types for every broken file
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise FileProblem("encrypted_file", ENCRYPTED_MESSAGE) from None
        raise FileProblem(
            "unreadable_file",
            "Tệp Excel bị hỏng hoặc không đúng định dạng, không mở được "
            f"({type(exc).__name__}). Hãy mở bằng Excel và lưu lại dạng .xlsx.",
        ) from None
    return sheets


def _cell_texts(_row: int, values: Sequence[object]) -> list[str]:
    return [cell_text(v) for v in values]


ENCRYPTED_MESSAGE = (
    "Tệp Excel được đặt mật khẩu (mã hóa) nên không đọc được. "
    "Hãy mở bằng Excel, gỡ mật khẩu (File › Info › Protect Workbook) rồi lưu lại."
)
