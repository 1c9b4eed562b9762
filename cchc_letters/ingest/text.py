"""CSV and tab-separated text as Excel and other tools save it: encoding and delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata

from cchc_letters.ingest.columns import Vocabulary
from cchc_letters.ingest.table import Grid, find_header, resolve

DELIMITERS = {
    ",": ",",
    ";": ";",
    "\t": "\t",
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "|": "|",
    "pipe": "|",
}
SNIFF_LINES = 60


class FileProblem(Exception):
    """A file that cannot be read at all (internal: becomes one Issue for the file)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def normalise_delimiter(value: str | None) -> str | None:
    """Return the one-character delimiter for ',', ';', 'tab', '\\t' …; ValueError otherwise."""
    if value is None:
        return None
    found = DELIMITERS.get(value.lower()) or (value if len(value) == 1 else None)
    if found is None or found in '"\r\n':
        raise ValueError(value)
    return found


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Return (text in NFC, encoding used) of a text file's bytes.

    Without ``encoding``: a BOM decides (UTF-8 or UTF-16, as Excel writes "CSV UTF-8" and
    "Unicode text"); NUL bytes in every other position mean BOM-less UTF-16; otherwise
    UTF-8, and when that fails the Windows Vietnamese code page cp1258.
    """
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                "decode_error",
                f"Không giải mã được tệp theo bảng mã {encoding} (byte thứ {exc.start + 1}). "
                "Hãy bỏ --encoding để tự nhận dạng, hoặc chọn bảng mã khác.",
            ) from None
        return nfc(text), encoding
    if not data.strip():
        raise FileProblem("empty_file", "Tệp rỗng, không có dữ liệu.")
    if data.startswith(codecs.BOM_UTF8):
        used = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        used = "utf-16"
    elif b"\x00" in data[:4096]:
        head = data[:4096]
        if head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
            used = "utf-16-le"
        elif head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
            used = "utf-16-be"
        else:
            raise FileProblem(
                "binary_file",
                "Tệp không phải bảng tính hay văn bản CSV (dữ liệu nhị phân).",
            )
    else:
        try:
            return nfc(data.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            # Excel's "CSV (comma delimited)" on Vietnamese Windows saves cp1258, whose
            # letters decode to base letters plus combining tone marks (NFC fixes them).
            used = "cp1258"
    try:
        text = data.decode(used)
    except UnicodeDecodeError:
        raise FileProblem(
            "decode_error",
            f"Không nhận ra bảng mã của tệp (đã thử {used}). "
            "Hãy lưu lại dạng CSV UTF-8, hoặc chỉ rõ --encoding.",
        ) from None
    if "\x00" in text:
        raise FileProblem(
            "binary_file", "Tệp không phải bảng tính hay văn bản CSV (dữ liệu nhị phân)."
        )
    return nfc(text), used


# Invisible characters that web forms and copy-paste leave in cells ("Nguyễn\u200bVăn"):
# they would split a name or make two equal numbers differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HAS_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def nfc(text: str) -> str:
    """Return text in NFC without invisible characters."""
    text = unicodedata.normalize("NFC", text)
    # translate() looks up every character; searching first is ~10x cheaper on clean text.
    return text.translate(_INVISIBLE) if _HAS_INVISIBLE.search(text) else text


def parse(text: str, delimiter: str) -> Grid:
    """Return the records of ``text`` with the physical line number each one starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: Grid = []
    line = 1
    try:
        for record in reader:
            if any(v.strip() for v in record):  # blank lines carry nothing
                grid.append((line, record))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FileProblem(
            "unreadable_file", f"Tệp CSV hỏng ở dòng {reader.line_num}: {exc}"
        ) from None
    return grid


def sniff_delimiter(text: str, vocab: Vocabulary) -> str:
    """Return the delimiter among tab, ';' and ',' that makes the best table of ``text``.

    The winner finds the most known headings; ties go to the one giving most lines the same
    number of fields. Python's csv.Sniffer is not used: title rows above the header and
    commas inside addresses ("Tổ 3, ấp Bình Ba") mislead it.
    """
    head = "\n".join(text.splitlines()[:SNIFF_LINES])
    best, best_key = ",", (-1, -1)
    for delimiter in ("\t", ";", ","):
        try:
            grid = parse(head, delimiter)
        except FileProblem:
            continue
        header = find_header(grid, vocab)
        score = 0
        if header is not None:
            score = sum(1 for c in header[2] if resolve(vocab, c, None, True))
        widths = [len(r) for _, r in grid if len(r) > 1]
        common = max(widths.count(w) for w in set(widths)) if widths else 0
        key = (score, common)
        if key > best_key:
            best, best_key = delimiter, key
    return best
