"""Hostile text exports (issue 11: items 5, 12, 13): whatever is wrong with one line is that
row's rejection; the other rows still become letters, and nothing is printed that the
export does not say."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docx_helpers import letters_text

from cchc_letters.ingest import read_inputs
from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)
HEADER = "Số,Quyển số,Ngày đăng ký,Họ và tên,Giới tính,Năm sinh,Nơi cư trú,Ngày chết"
ROWS = [
    "01,01/2026,23/11/2026,Nguyễn Văn Tám,Nam,1941,Ấp Suối Nghệ,20/11/2026",
    "02,01/2026,24/11/2026,Trần Thị Mai,Nữ,1950,Ấp Bình Ba,21/11/2026",
    "03,01/2026,25/11/2026,Lê Thị Hoa,Nữ,1944,Ấp Bình Ba,22/11/2026",
]


def cp1258(text: str) -> bytes:
    """Return text as Excel's plain "CSV" saves it on Vietnamese Windows (base letter plus a
    combining tone mark, which is how cp1258 spells "ễ")."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def export(tmp_path: Path, lines: list[bytes], header: bytes = HEADER.encode()) -> Path:
    path = tmp_path / "so-khai-tu.csv"
    path.write_bytes(b"\r\n".join([header, *lines]) + b"\r\n")
    return path


def checked(path: Path):
    read = read_inputs([path], kind=Kind.DEATH)
    return read, validate_rows(read.rows, letter_date=LETTER_DATE)


def generate(tmp_path: Path, path: Path):
    return run_batch(BatchOptions(inputs=[path], out_dir=tmp_path / "out", letter_date=LETTER_DATE))


# ---- item 5: one row in cp1258 inside a UTF-8 export ----------------------------------


def test_one_cp1258_row_in_a_utf8_export_prints_every_name_as_written(tmp_path):
    path = export(tmp_path, [ROWS[0].encode(), cp1258(ROWS[1]), ROWS[2].encode()])
    result = generate(tmp_path, path)
    assert result.rejected == 0
    text = "\n".join(letters_text(result.files[0]))
    # The UTF-8 rows are not read as cp1258 ("Nguyá»…n"), and the cp1258 row is read as
    # the Vietnamese it is.
    assert "Nguyễn Văn Tám" in text and "Trần Thị Mai" in text and "Lê Thị Hoa" in text
    assert "»" not in text and "º" not in text


def test_a_line_that_is_neither_utf8_nor_vietnamese_cp1258_is_rejected_alone(tmp_path):
    # A UTF-8 line with one byte lost (a truncated copy): read as cp1258 it would print
    # "Tráº§n"; it is rejected instead, by its line number, and the other rows are kept.
    broken = ROWS[1].encode()
    cut = broken.index("ầ".encode()) + 2  # drop the last byte of "ầ"
    path = export(tmp_path, [ROWS[0].encode(), broken[:cut] + broken[cut + 1 :], ROWS[2].encode()])
    read, result = checked(path)
    assert [r.deceased.full_name for r in result.registrations] == [
        "Nguyễn Văn Tám",
        "Lê Thị Hoa",
    ]
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.code, issue.source.row) == ("decode_error", 3)
    assert "CSV UTF-8" in issue.message


def test_a_whole_cp1258_export_is_still_read_as_cp1258(tmp_path):
    path = export(tmp_path, [cp1258(r) for r in ROWS], header=cp1258(HEADER))
    read, result = checked(path)
    assert read.files[0].encoding == "cp1258"
    assert [r.deceased.full_name for r in result.registrations] == [
        "Nguyễn Văn Tám",
        "Trần Thị Mai",
        "Lê Thị Hoa",
    ]


# ---- item 12: a NUL byte in one cell ----------------------------------------------------


def test_a_nul_byte_in_one_cell_rejects_that_row_only(tmp_path):
    bad = ROWS[1].replace("Trần", "Tr\x00ần").encode()
    path = export(tmp_path, [ROWS[0].encode(), bad, ROWS[2].encode()])
    result = generate(tmp_path, path)
    assert result.letters[Kind.DEATH] == 2
    assert result.rejected == 1 and int(result.exit_code) == 3
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.code, issue.source.row) == ("nul_byte", 3)
    text = "\n".join(letters_text(result.files[0]))
    assert "Mai" not in text and "Nguyễn Văn Tám" in text


def test_a_nul_byte_inside_a_multiline_cell_rejects_the_record_holding_it(tmp_path):
    multiline = (
        '01,01/2026,23/11/2026,Nguyễn Văn Tám,Nam,1941,"Tổ 3\r\nẤp Su\x00ối Nghệ",20/11/2026'
    )
    path = export(tmp_path, [multiline.encode(), ROWS[1].encode()])
    read, result = checked(path)
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.code, issue.source.row) == ("nul_byte", 2)
    assert [r.deceased.full_name for r in result.registrations] == ["Trần Thị Mai"]


def test_a_file_of_nul_bytes_is_still_binary(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01\x02\x03\xff\xfe\x00\x10" * 64)
    [issue] = read_inputs([path]).issues
    assert issue.code == "binary_file"


# ---- item 13: bidirectional controls --------------------------------------------------


def test_bidirectional_controls_are_removed_from_names(tmp_path):
    # U+202E (right-to-left override) pasted before a name makes Word print "Lê aoH ịht";
    # the isolates, embeddings and marks do the same in smaller ways.
    controls = "\u202e\u202d\u202a\u202b\u202c\u200e\u200f\u061c\u2066\u2067\u2068\u2069"
    row = ROWS[2].replace("Lê Thị Hoa", f"Lê \u202eThị Hoa\u202c{controls}")
    path = export(tmp_path, [row.encode()])
    result = generate(tmp_path, path)
    text = "\n".join(letters_text(result.files[0]))
    assert "Lê Thị Hoa" in text
    assert not set(controls) & set(text)
