"""Measuring the workbooks calamine reads whole (ODS, XLSB, XLS) before it reads them.

calamine expands a sheet to the rectangle from A1 to its farthest cell (one cell at
XFD1048576 of an XLSB aborts the process; one ODS row repeated a million times costs
600 MB; an XLS whose DIMENSIONS record claims four billion rows makes it allocate
petabytes and abort). So each file is measured first, with the limits of XLSX
(data/limits.toml, ingest/limits.py): read a megabyte at a time, sizes counted as
decompressed, the farthest cell *holding data* found by parsing the sheet's own records
(nothing is ever expanded here). A file over a limit raises FileProblem("oversized_file")
naming the sheet, the farthest cell and the limit. XLSX/XLSM are measured in excel.py
(``measure_workbook``), CSV in text.py (``read_text_file``).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from cchc_letters.ingest.limits import (
    MAX_LEGACY_FILE,
    MAX_OTHER_XML,
    MAX_SHARED_STRINGS_XML,
    MAX_SHEET_CELLS,
    MAX_SHEET_ROWS,
    MAX_SHEET_XML,
    MAX_TEXT_BYTES,
    MAX_WORKBOOK_FILE,
)
from cchc_letters.ingest.text import FileProblem

if TYPE_CHECKING:
    from collections.abc import Iterator
    from zipfile import ZipFile, ZipInfo

_CHUNK = 1 << 20

__all__ = ["check_file_size", "measure_calamine", "too_large"]


def too_large(what: str, *, excel: bool = True) -> FileProblem:
    """Return the one ``oversized_file`` problem of a file: what is over which limit, and
    what the officer does about it."""
    hint = (
        "có thể tệp bị hỏng, hoặc có ô gõ nhầm ở rất xa bảng (trong Excel bấm Ctrl+End để "
        "tới ô dữ liệu cuối, xóa các hàng/cột thừa rồi lưu lại)"
        if excel
        else "có thể tệp bị hỏng hoặc không phải tệp xuất từ phần mềm hộ tịch; hãy xuất lại "
        "tệp, hoặc chia thành nhiều tệp nhỏ hơn"
    )
    return FileProblem(
        "oversized_file",
        f"Tệp quá lớn để đọc an toàn: {what}. Không sổ hộ tịch nào cần nhiều như vậy — "
        f"{hint}. Giới hạn: xem docs/input.md (mục Giới hạn).",
    )


def measure_calamine(path: Path, fmt: str) -> None:
    """Raise FileProblem when the ODS, XLSB or XLS workbook at ``path`` is over a limit
    (or so damaged that measuring it fails: ``unreadable_file``); return when calamine
    may read it."""
    try:
        if fmt != "xls":
            check_file_size(path)
        if fmt == "xls":
            _measure_xls(path)
            return
        with zipfile.ZipFile(path) as archive:
            if fmt == "ods":
                _measure_ods(archive)
            else:
                _measure_xlsb(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, OSError) as exc:
        raise FileProblem(
            "unreadable_file",
            f"Tệp bảng tính bị hỏng hoặc chưa tải xong, không mở được ({type(exc).__name__}). "
            "Hãy mở bằng Excel hoặc LibreOffice và lưu lại dạng .xlsx.",
        ) from None


def check_file_size(path: Path) -> None:
    """Raise FileProblem when a zipped workbook (XLSX, XLSB, ODS) is over MAX_WORKBOOK_FILE
    bytes as stored: it is read whole into memory before anything else is measured."""
    size = path.stat().st_size
    if size > MAX_WORKBOOK_FILE:
        raise too_large(f"tệp {size:,} byte (giới hạn {MAX_WORKBOOK_FILE:,})")


def sheet_targets(archive: ZipFile) -> set[str]:
    """Return the parts any relationship of the package names as a worksheet, resolved as
    the readers resolve them — wherever they are and whatever they are called (parts that
    cannot be parsed name none; their sheets are still measured as XML or BIFF12 parts)."""
    import posixpath
    from xml.etree import ElementTree as ET

    found: set[str] = set()
    for info in archive.infolist():
        if not info.filename.endswith(".rels") or info.file_size > MAX_OTHER_XML:
            continue
        source = posixpath.dirname(posixpath.dirname(info.filename))  # "xl/_rels/x" -> "xl"
        try:
            root = ET.fromstring(archive.read(info))
        except Exception:  # noqa: BLE001 — a damaged part names nothing; readers judge it
            continue
        for rel in root.iter():
            kind, target = rel.get("Type", ""), rel.get("Target", "")
            if not kind.endswith("/worksheet") or not target:
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(source, target)
            found.add(posixpath.normpath(path))
    return found


class _Extent:
    """The farthest cell holding data in one sheet, checked against the limits as it grows."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.rows = self.cols = self.cells = 0

    def add(self, last_row: int, last_col: int, cells: int = 1) -> None:
        """Count ``cells`` cells with data reaching row ``last_row`` and column ``last_col``
        (1-based); raise FileProblem as soon as the sheet is over a limit."""
        if last_row > self.rows:
            self.rows = last_row
        if last_col > self.cols:
            self.cols = last_col
        self.cells += cells
        if self.rows > MAX_SHEET_ROWS or max(self.rows * self.cols, self.cells) > MAX_SHEET_CELLS:
            from cchc_letters.ingest.excel import column_letters

            corner = f"{column_letters(self.cols)}{self.rows}"
            raise too_large(
                f"trang tính {self.label} có dữ liệu tới ô {corner} (vùng A1:{corner} gồm "
                f"{self.rows:,} hàng, {max(self.rows * self.cols, self.cells):,} ô; giới hạn "
                f"{MAX_SHEET_ROWS:,} hàng và {MAX_SHEET_CELLS:,} ô mỗi trang tính)"
            )


def _chunks(archive: ZipFile, info: ZipInfo, limit: int, label: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of one part a megabyte at a time, raising FileProblem
    past ``limit`` (the size the zip declares is not trusted, the bytes are counted)."""
    if info.file_size > limit:
        raise too_large(f"phần {label} giải nén ra {info.file_size:,} byte")
    total = 0
    with archive.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise too_large(f"phần {label} giải nén ra hơn {limit:,} byte")
            yield chunk


def _long_text(window: bytes, label: str) -> None:
    """Raise FileProblem when ``window`` (XML) holds a stretch without a tag longer than
    MAX_TEXT_BYTES: one text no cell can hold (a bomb, or a damaged file)."""
    from cchc_letters.ingest.excel import _check_texts

    try:
        _check_texts(window, MAX_TEXT_BYTES // 2, label)
    except FileProblem:
        raise too_large(f"một ô trong {label} dài hơn {MAX_TEXT_BYTES:,} byte") from None


# ---- ODS: content.xml, with rows and cells that repeat ---------------------------------

# calamine finds the tables of content.xml by their literal names ("table:table-row",
# "table:number-rows-repeated"), whatever namespace the prefix is bound to; so are they
# found here — a measure that resolved namespaces would miss rows calamine expands. The
# tags are found with one regular expression over each megabyte (no Python call per XML
# element: a flood of tiny elements costs nothing), and every cell tag counts, so a
# content.xml of millions of empty cells is refused in a second too.
_ODS_TAG = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>"
)
_ROWS_REPEATED = re.compile(rb"""\btable:number-rows-repeated\s*=\s*["']([^"']*)["']""")
_COLUMNS_REPEATED = re.compile(rb"""\btable:number-columns-repeated\s*=\s*["']([^"']*)["']""")
_TABLE_NAME = re.compile(rb"""\btable:name\s*=\s*["']([^"']*)["']""")
_MAX_ODS_CELL_TAGS = MAX_SHEET_CELLS + MAX_SHEET_ROWS  # a tag is at least one cell, or a row's rest


def _measure_ods(archive: ZipFile) -> None:
    """Measure an ODS: every XML part by size, content.xml's tables by the farthest cell with
    data — ``table:number-rows-repeated`` / ``number-columns-repeated`` multiply, as
    calamine expands them. A repeated *empty* cell (LibreOffice writes a row of 1,024 of
    them a million times below every sheet) is not data and does not count."""
    for info in archive.infolist():
        name = info.filename
        if not name.lower().endswith((".xml", ".rdf")):
            continue  # pictures, thumbnails: never read
        if name == "content.xml":
            _measure_ods_content(archive, info)
        else:
            for _ in _chunks(archive, info, MAX_OTHER_XML, name):
                pass


def _repeat(attrs: bytes, pattern: re.Pattern[bytes]) -> int:
    found = pattern.search(attrs)
    if found is None:
        return 1
    text = found[1]
    if not text.isdigit() or len(text) > 12:
        raise too_large(f"content.xml lặp lại một hàng/cột {text[:20].decode('latin-1')!r} lần")
    return max(int(text), 1)


class _OdsTables:
    """Rows and cells of the tables of content.xml, followed tag by tag across chunks."""

    def __init__(self) -> None:
        self.extent: _Extent | None = None
        self.row = 0  # rows before the current one
        self.row_repeat = 1
        self.col = 0
        self.cell_tags = 0

    def feed(self, window: bytes, end: int, final: bool) -> int:
        """Follow the tags of ``window[:end]`` (complete tags only); return where the next
        window must start (a cell whose emptiness the next chunk decides is read again)."""
        for match in _ODS_TAG.finditer(window, 0, end):
            closing, name, attrs = match.groups()
            if name == b"table-row":
                if closing:
                    self.row += self.row_repeat
                    self.row_repeat = 1
                else:
                    self.row_repeat = _repeat(attrs, _ROWS_REPEATED)
                    self.col = 0
                    if attrs.endswith(b"/"):  # an empty row: <table:table-row …/>
                        self.row += self.row_repeat
                        self.row_repeat = 1
            elif name == b"table":
                if not closing:
                    found = _TABLE_NAME.search(attrs)
                    label = found[1].decode("utf-8", "replace") if found else ""
                    self.extent = _Extent(f"'{label}'")
                    self.row, self.row_repeat = 0, 1
            elif not closing:
                data = self._holds_data(window, match, name, attrs, final)
                if data is None:
                    return match.start()  # decided by what the next chunk holds
                self._cell(_repeat(attrs, _COLUMNS_REPEATED), data)
        return end

    @staticmethod
    def _holds_data(
        window: bytes, match: re.Match[bytes], name: bytes, attrs: bytes, final: bool
    ) -> bool | None:
        """Whether a cell holds data: a value type, or anything before its closing tag;
        None when the window ends before that can be told."""
        if b"office:value-type" in attrs:  # (a number's value may be an attribute only)
            return True
        if attrs.endswith(b"/"):
            return False
        close = b"</table:" + name + b">"
        after = window.find(b"<", match.end())
        if after < 0 or after + len(close) > len(window):
            return False if final else None
        return bool(window[match.end() : after].strip()) or not window.startswith(close, after)

    def _cell(self, repeat: int, data: bool) -> None:
        self.cell_tags += 1
        if self.cell_tags > _MAX_ODS_CELL_TAGS:
            raise too_large(
                f"content.xml có hơn {_MAX_ODS_CELL_TAGS:,} thẻ ô (giới hạn "
                f"{MAX_SHEET_CELLS:,} ô mỗi trang tính)"
            )
        if data and self.extent is not None:
            self.extent.add(self.row + self.row_repeat, self.col + repeat, repeat * self.row_repeat)
        self.col += repeat


def _measure_ods_content(archive: ZipFile, info: ZipInfo) -> None:
    tables = _OdsTables()
    tail = b""
    for chunk in _chunks(archive, info, MAX_SHEET_XML, "content.xml"):
        window = tail + chunk
        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
            # An ODS never declares a DTD; one that does may define entities (a "billion
            # laughs" bomb): refused, never expanded.
            raise FileProblem(
                "unreadable_file",
                "Tệp ODS khai báo DTD/thực thể XML (không tệp ODS thật nào có): không đọc. "
                "Hãy mở bằng LibreOffice và lưu lại.",
            )
        _long_text(window, "content.xml")
        cut = window.rfind(b"<")
        if cut < 0:
            tail = window
            continue
        tail = window[tables.feed(window, cut, final=False) :]
    if tail:
        tables.feed(tail, len(tail), final=True)


# ---- XLSB: a zip like XLSX, the sheets in BIFF12 records --------------------------------

# BIFF12 record types ([MS-XLSB] 2.3.2): a row header, then its cells. 1 and 12 are blank
# cells (formatting only: calamine skips them, so they are not data); 13-18 are the short
# forms without a column (the next column); 62 a rich-text string cell.
_BRT_ROW_HDR = 0
_CELLS_WITH_COLUMN = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 62})  # 62: BrtCellRString
_SHORT_CELLS = frozenset({13, 14, 15, 16, 17, 18})
_BLANK_CELLS = frozenset({1, 12})


def _measure_xlsb(archive: ZipFile) -> None:
    # A sheet is measured wherever the workbook's relationships put it, and any binary part
    # that starts as a sheet does (BrtBeginSheet) is followed too; VBA projects, printer
    # settings and embedded objects are not BIFF12 and are only sized.
    targets = sheet_targets(archive)
    for info in archive.infolist():
        lower = info.filename.lower()
        if (
            info.filename in targets
            or lower.startswith("xl/worksheets/")
            or (lower.endswith(".bin") and _starts_as_sheet(archive, info))
        ):
            _measure_xlsb_sheet(archive, info)
        elif lower.endswith("sharedstrings.bin"):
            for _ in _chunks(archive, info, MAX_SHARED_STRINGS_XML, info.filename):
                pass
        elif lower.endswith((".bin", ".xml", ".rels")):
            for _ in _chunks(archive, info, MAX_OTHER_XML, info.filename):
                pass


_BRT_BEGIN_SHEET = b"\x81\x01"  # record type 129, two bytes


def _starts_as_sheet(archive: ZipFile, info: ZipInfo) -> bool:
    with archive.open(info) as fh:
        return fh.read(2) == _BRT_BEGIN_SHEET


def _varint(data: bytes, pos: int, most: int) -> tuple[int, int] | None:
    """Return (value, next position) of a BIFF12 variable-length number of at most ``most``
    bytes, or None when ``data`` ends inside it."""
    value = shift = 0
    for i in range(most):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos + i + 1
    return value, pos + most


def _measure_xlsb_sheet(archive: ZipFile, info: ZipInfo) -> None:
    """Follow the row headers and cell records of one XLSB sheet, a megabyte at a time."""
    extent = _Extent(info.filename)
    buffer = b""
    row = 0
    col = -1
    for chunk in _chunks(archive, info, MAX_SHEET_XML, info.filename):
        buffer += chunk
        pos = 0
        end = len(buffer)
        while True:
            head = _varint(buffer, pos, 2)
            if head is None:
                break
            kind, at = head
            size = _varint(buffer, at, 4)
            if size is None:
                break
            length, start = size
            if length > MAX_TEXT_BYTES + 64:
                raise too_large(f"một bản ghi trong {info.filename} dài {length:,} byte")
            if start + length > end:
                break  # the record runs into the next chunk
            if kind == _BRT_ROW_HDR and length >= 4:
                row = int.from_bytes(buffer[start : start + 4], "little")
                col = -1
            elif kind in _CELLS_WITH_COLUMN and length >= 4:
                col = int.from_bytes(buffer[start : start + 4], "little")
                extent.add(row + 1, col + 1)
            elif kind in _SHORT_CELLS:
                col += 1
                extent.add(row + 1, col + 1)
            elif kind in _BLANK_CELLS and length >= 4 and kind == 1:
                col = int.from_bytes(buffer[start : start + 4], "little")
            elif kind in _BLANK_CELLS:
                col += 1
            pos = start + length
        buffer = buffer[pos:]


# ---- XLS: BIFF8 records in an OLE container ----------------------------------------------

# Cell records of BIFF8 ([MS-XLS] 2.4) that hold a value, each starting with row and column
# (two bytes each): FORMULA, RSTRING, LABELSST, NUMBER, LABEL, BOOLERR, RK. MULRK holds a
# run of RK cells, its last column at its end. BLANK and MULBLANK are formatting only.
_XLS_CELLS = frozenset({0x0006, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E})
_XLS_MULRK = 0x00BD
_XLS_BOF = 0x0809
_XLS_EOF = 0x000A
_XLS_BOUNDSHEET = 0x0085
_XLS_DIMENSIONS = 0x0200
_BIFF8_ROWS, _BIFF8_COLS = 65_536, 256


def _measure_xls(path: Path) -> None:
    """Measure a legacy XLS: the file by size (it is not compressed), each sheet by the
    farthest cell holding data, and its DIMENSIONS record by what BIFF8 can hold at all (one
    that claims more makes calamine allocate it and abort)."""
    import olefile  # a pure-Python reader of OLE containers; calamine reads the XLS itself

    size = path.stat().st_size
    if size > MAX_LEGACY_FILE:
        raise too_large(f"tệp .xls {size:,} byte (giới hạn {MAX_LEGACY_FILE:,})")
    try:
        ole = olefile.OleFileIO(str(path))
    except (OSError, ValueError, IndexError, KeyError, struct.error) as exc:
        raise FileProblem(
            "unreadable_file",
            f"Tệp Excel .xls bị hỏng, không mở được ({type(exc).__name__}). "
            "Hãy mở bằng Excel và lưu lại dạng .xlsx.",
        ) from None
    with ole:
        stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
        if stream is None:
            return  # not a workbook: calamine names the problem
        if ole.get_size(stream) > MAX_LEGACY_FILE:
            raise too_large(f"luồng {stream} của tệp .xls quá {MAX_LEGACY_FILE:,} byte")
        data = ole.openstream(stream).read(MAX_LEGACY_FILE + 1)
    _measure_biff(data)


def _measure_biff(data: bytes) -> None:
    """Measure the workbook globals from the start of the stream, then each sheet from the
    offset its BOUNDSHEET record gives — where calamine starts reading it, so a sheet
    pointed into the middle of another record is read here as calamine reads it."""
    names: dict[int, str] = {}
    _scan_biff(data, 0, _Extent("(workbook)"), names)
    for offset, name in names.items():
        _scan_biff(data, offset, _Extent(name), None)


def _scan_biff(data: bytes, pos: int, extent: _Extent, names: dict[int, str] | None) -> None:
    """Follow the records of one substream from ``pos`` to its EOF record (nested BOF/EOF
    pairs, an embedded chart, are followed through), counting its cells into ``extent``
    and, in the globals (``names`` given), collecting each BOUNDSHEET's offset and name."""
    unpack = struct.unpack_from
    end = len(data)
    depth = 0
    while pos + 4 <= end:
        kind, length = unpack("<HH", data, pos)
        start = pos + 4
        if start + length > end:
            break
        if kind in _XLS_CELLS and length >= 4:
            row, col = unpack("<HH", data, start)
            extent.add(row + 1, col + 1)
        elif kind == _XLS_MULRK and length >= 6:
            row, first = unpack("<HH", data, start)
            (last,) = unpack("<H", data, start + length - 2)
            extent.add(row + 1, last + 1, max(last - first + 1, 1))
        elif kind == _XLS_BOF:
            depth += 1
        elif kind == _XLS_EOF:
            depth -= 1
            if depth <= 0:
                return
        elif kind == _XLS_BOUNDSHEET and length >= 8 and names is not None:
            (offset,) = unpack("<I", data, start)
            count, high = data[start + 6], data[start + 7]
            raw = data[start + 8 : start + 8 + count * (2 if high else 1)]
            names[offset] = "'" + raw.decode("utf-16-le" if high else "latin-1", "replace") + "'"
        elif kind == _XLS_DIMENSIONS and length >= 14:
            first_row, last_row, first_col, last_col = unpack("<IIHH", data, start)
            if last_row > _BIFF8_ROWS or last_col > _BIFF8_COLS or first_row > last_row:
                raise too_large(
                    f"bản ghi kích thước của tệp .xls ghi {last_row:,} hàng × {last_col:,} cột "
                    f"(Excel 97-2003 có nhiều nhất {_BIFF8_ROWS:,} × {_BIFF8_COLS})"
                )
        pos = start + length
