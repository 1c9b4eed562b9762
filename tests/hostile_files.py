"""Registers in every workbook format the reader takes, written here byte by byte, and the
hostile versions of them (issue 11, item 8): ODS content.xml with repeated rows and
columns, XLSB sheets with a far cell, XLS with a far cell or a lying DIMENSIONS record.

No writer of ODS or XLSB is a dependency: the parts below are the few that calamine (and
Excel or LibreOffice) need, written the way those programs write them.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

HEADER = ["Số", "Quyển số", "Ngày đăng ký", "Họ và tên", "Giới tính", "Năm sinh", "Ngày chết"]
ROWS = [
    ["SỔ ĐĂNG KÝ KHAI TỬ"],
    HEADER,
    ["01", "01/2026", "23/11/2026", "Nguyễn Văn Tám", "Nam", "1941", "20/11/2026"],
    ["02", "01/2026", "24/11/2026", "Trần Thị Mai", "Nữ", "1950", "21/11/2026"],
]

# ---- ODS ---------------------------------------------------------------------------------

_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Khai tu">'
)
_ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def ods_row(*cells: str, repeat: int = 1) -> str:
    attr = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f"<table:table-row{attr}>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
            for c in cells
        )
        + "</table:table-row>"
    )


def ods(path: Path, extra: str = "", *, prolog: str = "") -> Path:
    """Write the register as an ODS with ``extra`` rows after it (raw content.xml)."""
    body = "".join(ods_row(*row) for row in ROWS) + extra
    content = _ODS_HEAD + body + _ODS_TAIL
    if prolog:
        content = content.replace("?>", "?>" + prolog, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("content.xml", content)
    return path


# ---- XLSB (BIFF12 records in a zip) ------------------------------------------------------


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def record(kind: int, data: bytes = b"") -> bytes:
    return _varint(kind) + _varint(len(data)) + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb_row(row: int) -> bytes:
    return record(0, struct.pack("<IIHHBBI", row, 0, 0, 0, 0, 0, 0))  # BrtRowHdr


def xlsb_text(col: int, text: str) -> bytes:
    return record(6, struct.pack("<II", col, 0) + _wide(text))  # BrtCellSt


def xlsb_blank(col: int) -> bytes:
    return record(1, struct.pack("<II", col, 0))  # BrtCellBlank: formatting only


_XLSB_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/{kind}" Target="{target}"/></Relationships>'
)


def xlsb(path: Path, extra: bytes = b"") -> Path:
    """Write the register as an XLSB with ``extra`` records after its rows."""
    sheet = record(0x81) + record(0x94, struct.pack("<IIII", 0, len(ROWS) - 1, 0, 6)) + record(0x91)
    for number, row in enumerate(ROWS):
        sheet += xlsb_row(number) + b"".join(xlsb_text(c, v) for c, v in enumerate(row))
    sheet += extra + record(0x92) + record(0x82)
    book = (
        record(0x83)
        + record(0x8F)
        + record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide("Khai tu"))
        + record(0x90)
        + record(0x84)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _XLSB_TYPES)
        archive.writestr(
            "_rels/.rels", _RELS.format(kind="officeDocument", target="xl/workbook.bin")
        )
        archive.writestr("xl/workbook.bin", book)
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            _RELS.format(kind="worksheet", target="worksheets/sheet1.bin"),
        )
        archive.writestr("xl/worksheets/sheet1.bin", sheet)
    return path


# ---- XLS (BIFF8, written by xlwt, then patched) ------------------------------------------


def xls(path: Path, far: tuple[int, int] | None = None, *, dimensions=None) -> Path:
    """Write the register as an XLS (xlwt), with one value at ``far`` (row, col; 0-based)
    and its DIMENSIONS record replaced by ``dimensions`` (first row, last row + 1, first
    col, last col + 1) when given."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Khai tu")
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    if far:
        sheet.write(*far, "x")
    book.save(str(path))
    if dimensions:
        data = bytearray(path.read_bytes())
        at = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS, 14 bytes
        assert at > 0
        data[at + 4 : at + 18] = struct.pack("<IIHHH", *dimensions, 0)
        path.write_bytes(bytes(data))
    return path


# The prolog of a "billion laughs" XML part: nine levels of entities, each ten of the last.
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)
