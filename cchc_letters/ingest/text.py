"""CSV and tab-separated text as Excel and other tools save it: encoding and delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field

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


def read_text_file(path: str | os.PathLike[str]) -> bytes:
    """Return the bytes of a CSV/TXT/TSV file, measured first: refused with FileProblem
    ("oversized_file") when the file is over MAX_TEXT_FILE bytes, has more lines than
    MAX_SHEET_ROWS, or a line longer than MAX_TEXT_BYTES (a file that is one 500 MB line).
    Read a megabyte at a time, so a refusal costs little memory whatever the file holds."""
    from cchc_letters.ingest.bounds import too_large
    from cchc_letters.ingest.limits import MAX_SHEET_ROWS, MAX_TEXT_BYTES, MAX_TEXT_FILE

    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_TEXT_FILE:
                raise too_large(f"tệp {size:,} byte (giới hạn {MAX_TEXT_FILE:,})", excel=False)
            chunks: list[bytes] = []
            total = lines = 0
            run = 0  # bytes since the last line break
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                if total > MAX_TEXT_FILE:  # grew while read
                    raise too_large(f"tệp hơn {MAX_TEXT_FILE:,} byte", excel=False)
                breaks = chunk.count(b"\n")
                lines += breaks
                if lines > MAX_SHEET_ROWS:
                    raise too_large(
                        f"tệp có hơn {MAX_SHEET_ROWS:,} dòng (giới hạn {MAX_SHEET_ROWS:,})",
                        excel=False,
                    )
                pieces = chunk.split(b"\n")  # a megabyte: cheap
                longest = run + len(pieces[0])
                if len(pieces) > 1:
                    longest = max(longest, *map(len, pieces[1:-1]), len(pieces[-1]))
                    run = len(pieces[-1])
                else:
                    run = longest
                if longest > MAX_TEXT_BYTES:
                    raise too_large(
                        f"một dòng dài hơn {MAX_TEXT_BYTES:,} byte (không dòng nào của sổ "
                        "hộ tịch dài như vậy)",
                        excel=False,
                    )
                chunks.append(chunk)
    except OSError as exc:
        raise FileProblem(
            "unreadable_file", f"Không đọc được tệp: {exc.strerror or exc}."
        ) from None
    return b"".join(chunks)


def check_cells(text: str, delimiter: str) -> None:
    """Raise FileProblem ("oversized_file") when ``text`` could hold more cells than a sheet
    may (MAX_SHEET_CELLS): the lines plus the delimiters (those inside quotes count too),
    an upper bound found without splitting anything."""
    from cchc_letters.ingest.bounds import too_large
    from cchc_letters.ingest.limits import MAX_SHEET_CELLS

    cells = text.count("\n") + 1 + text.count(delimiter)
    if cells > MAX_SHEET_CELLS:
        raise too_large(
            f"tệp có tới {cells:,} ô (giới hạn {MAX_SHEET_CELLS:,} ô mỗi bảng)", excel=False
        )


def normalise_delimiter(value: str | None) -> str | None:
    """Return the one-character delimiter for ',', ';', 'tab', '\\t' …; ValueError otherwise."""
    if value is None:
        return None
    found = DELIMITERS.get(value.lower()) or (value if len(value) == 1 else None)
    if found is None or found in '"\r\n':
        raise ValueError(value)
    return found


@dataclass(frozen=True)
class Decoded:
    """A text file's content in NFC, the encoding read, and the lines that are not to be
    trusted: {physical line number: (reason code, Vietnamese reason)}."""

    text: str
    encoding: str
    bad_lines: dict[int, tuple[str, str]] = field(default_factory=dict)


def decode_lines(data: bytes, encoding: str | None = None) -> Decoded:
    """Return the text of a file's bytes, in NFC, and the lines that cannot be trusted.

    Without ``encoding``: a BOM decides (UTF-8 or UTF-16, as Excel writes "CSV UTF-8" and
    "Unicode text"); NUL bytes in every other position mean BOM-less UTF-16; otherwise
    UTF-8, and when that fails the Windows Vietnamese code page cp1258 — for the whole
    file, or line by line when some lines are UTF-8 and others not (one row edited in
    Excel and saved as plain "CSV" into a UTF-8 export). A line with a NUL byte (one bad
    cell), or a line whose cp1258 reading is not Vietnamese text, is listed in
    ``bad_lines``: its row is rejected, the others are read.
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
        return _with_nul_lines(text, encoding)
    if not data.strip():
        raise FileProblem("empty_file", "Tệp rỗng, không có dữ liệu.")
    if data.startswith(codecs.BOM_UTF8):
        used = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        used = "utf-16"
    elif b"\x00" in data[:4096] and _looks_utf16(data[:4096]):
        head = data[:4096]
        used = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    elif _mostly_nul(data):
        raise FileProblem(
            "binary_file",
            "Tệp không phải bảng tính hay văn bản CSV (dữ liệu nhị phân).",
        )
    else:
        try:
            return _with_nul_lines(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            return _decode_8bit(data)
    try:
        text = data.decode(used)
    except UnicodeDecodeError:
        raise FileProblem(
            "decode_error",
            f"Không nhận ra bảng mã của tệp (đã thử {used}). "
            "Hãy lưu lại dạng CSV UTF-8, hoặc chỉ rõ --encoding.",
        ) from None
    return _with_nul_lines(text, used)


def _looks_utf16(head: bytes) -> bool:
    """True when NUL bytes fill every other position (BOM-less UTF-16 of mostly ASCII)."""
    quarter = len(head) // 4
    odd, even = head[1::2].count(0), head[0::2].count(0)
    return (odd > quarter and even == 0) or (even > quarter and odd == 0)


def _mostly_nul(data: bytes) -> bool:
    """True for binary data: NUL bytes are more than 1 % of the file.

    A text export with a NUL in one cell (a bad copy from another program) is text with
    one bad row, not a binary file.
    """
    return data.count(0) * 100 > len(data)


_NUL_REASON = (
    "nul_byte",
    "Dòng có ký tự NUL (byte 0) — dữ liệu hỏng khi sao chép; dòng này không được dùng. "
    "Hãy sửa ô đó trong phần mềm hộ tịch hoặc Excel rồi xuất lại.",
)
_MIXED_REASON = (
    "decode_error",
    "Dòng này không cùng bảng mã với phần còn lại của tệp và không đọc được chắc chắn "
    "(chữ có thể bị sai dấu); dòng này không được dùng. Hãy lưu lại tệp dạng CSV UTF-8.",
)


def _with_nul_lines(text: str, used: str) -> Decoded:
    bad: dict[int, tuple[str, str]] = {}
    if "\x00" in text:
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            if "\x00" in line and line.replace("\x00", "").strip():
                bad[number] = _NUL_REASON  # (a line of NULs alone is a blank line)
        text = text.replace("\x00", "")
    return Decoded(nfc(text), used, bad)


# Letters of Vietnamese (NFC), and the dashes and ellipsis of typed text: what a line read
# as cp1258 may hold when the rest of the file is UTF-8. UTF-8 bytes read as cp1258 always
# give a symbol (º » ¡ € …), so a line that is really UTF-8 never passes.
_VIETNAMESE = frozenset(
    unicodedata.normalize("NFC", c)
    for c in (
        "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
        "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ–—"
    )
)


def _decode_8bit(data: bytes) -> Decoded:
    """Return a file that is not UTF-8 read as cp1258: whole, or line by line when mixed.

    Excel's "CSV (comma delimited)" on Vietnamese Windows saves cp1258, whose letters decode
    to base letters plus combining tone marks (NFC fixes them).
    """
    raw_lines = data.split(b"\n")
    utf8_lines = set()
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.isascii():
            try:
                raw.decode("utf-8")
                utf8_lines.add(number)
            except UnicodeDecodeError:
                pass
    if not utf8_lines:
        try:
            return _with_nul_lines(data.decode("cp1258"), "cp1258")
        except UnicodeDecodeError:
            raise FileProblem(
                "decode_error",
                "Không nhận ra bảng mã của tệp (đã thử cp1258). "
                "Hãy lưu lại dạng CSV UTF-8, hoặc chỉ rõ --encoding.",
            ) from None
    # Mixed: each line in its own encoding. A cp1258 line must read as Vietnamese text;
    # anything else (a UTF-8 line with a broken byte, another code page) is not guessed.
    bad: dict[int, tuple[str, str]] = {}
    texts = []
    for number, raw in enumerate(raw_lines, start=1):
        if number in utf8_lines or raw.isascii():
            texts.append(raw.decode("utf-8"))
            continue
        line = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
        if any(not c.isascii() and c not in _VIETNAMESE for c in line):
            bad[number] = _MIXED_REASON
        texts.append(line)
    decoded = _with_nul_lines("\n".join(texts), "utf-8+cp1258")
    return Decoded(decoded.text, decoded.encoding, {**bad, **decoded.bad_lines})


# Invisible characters that web forms and copy-paste leave in cells ("Nguyễn\u200bVăn"):
# they would split a name or make two equal numbers differ. The bidirectional controls
# (LRM/RLM, embeddings, overrides, isolates, the Arabic letter mark) would make Word print
# a name backwards ("Lê aoH ịht"); Vietnamese never needs them.
_INVISIBLE_CHARS = (
    "\u200b\u200c\u200d\u2060\ufeff"
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


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
        # A delimiter not in the text makes every line one field: no header (that needs
        # MIN_HEADER_SCORE columns) and no line of several fields. Reading each whole line
        # with the heading grammar cost more than the rest of choosing.
        key = _table_quality(grid, vocab) if delimiter in head else (0, 0)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _table_quality(grid: Grid, vocab: Vocabulary) -> tuple[int, int]:
    """Return (known headings found, lines with the most common number of fields)."""
    header = find_header(grid, vocab)
    score = 0
    if header is not None:
        score = sum(1 for c in header[2] if resolve(vocab, c, None, True))
    widths = [len(r) for _, r in grid if len(r) > 1]
    common = max(widths.count(w) for w in set(widths)) if widths else 0
    return score, common
