"""Excel workbooks (XLSX/XLSM with openpyxl; legacy XLS, XLSB, ODS with calamine) as grids."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, time, timedelta
from pathlib import Path

from cchc_letters.ingest.table import Grid, Spans
from cchc_letters.ingest.text import FileProblem, nfc

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


def _grid(rows: list[list[str]], merged: Merged) -> tuple[Grid, Spans]:
    grid: Grid = []
    for i, values in enumerate(rows):
        while values and not values[-1].strip():
            values.pop()
        # Blank rows are left out (a sheet formatted far below its data has thousands);
        # each kept row carries its own number, so nothing shifts.
        if values:
            grid.append((i + 1, values))  # Excel row numbers are 1-based, from the top
    spans: Spans = {}
    for r0, c0, _r1, c1 in merged:
        # Only merges across columns matter (the header rows use them); merged down, a
        # heading stays in its top cell and the row below reads empty there, as wanted.
        if c1 > c0:
            spans.setdefault(r0 + 1, []).append((c0, c1))
    return grid, spans


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
    """Return (sheet name, grid, merged spans) for every worksheet of an XLSX/XLSM workbook."""
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


def read_calamine(path: Path) -> list[tuple[str, Grid, Spans]]:
    """Return (sheet name, grid, merged spans) for every sheet of an XLS/XLSB/ODS workbook."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = [[cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            merged = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            sheets.append((name, *_grid(rows, merged)))
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


ENCRYPTED_MESSAGE = (
    "Tệp Excel được đặt mật khẩu (mã hóa) nên không đọc được. "
    "Hãy mở bằng Excel, gỡ mật khẩu (File › Info › Protect Workbook) rồi lưu lại."
)
