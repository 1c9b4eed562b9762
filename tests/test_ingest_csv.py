"""CSV files as Excel and other tools really save them: encodings, delimiters, title rows."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from cchc_letters.errors import InputError
from cchc_letters.ingest import heading_key, kind_from_text, read_inputs
from cchc_letters.models import Kind
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)

DEATHS = [
    ["UBND XÃ NGÃI GIAO"],
    ["SỔ ĐĂNG KÝ KHAI TỬ"],
    [],
    [
        "Số",
        "Quyển số",
        "Ngày đăng ký",
        "Họ, chữ đệm, tên",
        "Giới tính",
        "Năm sinh",
        "Nơi cư trú cuối cùng",
        "Ngày chết",
    ],
    [
        "01",
        "01",
        "23/11/2026",
        "NGUYỄN VĂN TÁM",
        "Nam",
        "1941",
        "Tổ 3, ấp Suối Nghệ, xã Ngãi Giao",
        "20/11/2026",
    ],
    ["02", "01", "26/11/2026", "Trần  Thị   Mai", "Nữ", "15/06/1970", "Ấp Bình Ba", "24/11/2026"],
]


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def cp1258_form(text):
    """Return text as Windows-1258 spells Vietnamese: base letter (â, ơ, ư … precomposed)
    followed by a combining tone mark, which is what Excel writes in that code page."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        out.append(base + tones)
    return "".join(out)


def write(path, rows, *, delimiter=",", encoding="utf-8", quote_all=False):
    def cell(value):
        if quote_all or delimiter in value or '"' in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in rows) + "\r\n"
    if encoding == "cp1258":
        text = cp1258_form(text)
    path.write_bytes(text.encode(encoding))
    return path


def names(rows):
    return [r.value("deceased_name") for r in rows]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "detected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ";", "utf-8-sig"),  # Excel "CSV UTF-8": BOM, and ';' on many locales
        ("utf-16", "\t", "utf-16"),  # Excel "Unicode text": UTF-16 with BOM, tab-separated
        ("cp1258", ",", "cp1258"),  # Excel "CSV" on Vietnamese Windows
    ],
)
def test_encodings_and_delimiters_are_sniffed(tmp_path, encoding, delimiter, detected):
    path = write(tmp_path / "kt.csv", DEATHS, delimiter=delimiter, encoding=encoding)
    result = read_inputs([path])
    assert result.issues == []
    [report] = result.files
    assert (report.encoding, report.delimiter) == (detected, delimiter)
    assert names(result.rows) == ["NGUYỄN VĂN TÁM", "Trần  Thị   Mai"]
    # cp1258 decodes to base letters + combining marks: the reader gives NFC
    assert all(unicodedata.is_normalized("NFC", r.value("deceased_name")) for r in result.rows)
    assert result.rows[0].value("deceased_residence") == "Tổ 3, ấp Suối Nghệ, xã Ngãi Giao"


def test_row_numbers_are_physical_lines_counting_title_rows(tmp_path):
    rows = read_inputs([write(tmp_path / "kt.csv", DEATHS)]).rows
    assert [r.source.row for r in rows] == [5, 6]
    assert rows[0].source.sheet is None
    assert rows[0].kind is Kind.DEATH  # from the title "SỔ ĐĂNG KÝ KHAI TỬ"


def test_multiline_cell_does_not_shift_later_row_numbers(tmp_path):
    data = [DEATHS[3], DEATHS[4][:6] + ["Tổ 3\nấp Suối Nghệ", "20/11/2026"], DEATHS[5]]
    rows = read_inputs([write(tmp_path / "kt.csv", data, quote_all=True)], kind=Kind.DEATH).rows
    assert [r.source.row for r in rows] == [2, 4]


def test_nfd_text_is_normalised(tmp_path):
    nfd = [[unicodedata.normalize("NFD", v) for v in row] for row in DEATHS]
    rows = read_inputs([write(tmp_path / "kt.csv", nfd)]).rows
    assert rows[0].value("deceased_name") == "NGUYỄN VĂN TÁM"
    assert rows[0].cells["deceased_name"].heading == "Họ, chữ đệm, tên"


def test_forced_encoding_and_delimiter(tmp_path):
    path = write(tmp_path / "kt.txt", DEATHS, delimiter="\t", encoding="cp1258")
    result = read_inputs([path], encoding="cp1258", delimiter="tab")
    assert (result.files[0].encoding, result.files[0].delimiter) == ("cp1258", "\t")
    assert names(result.rows)[0] == "NGUYỄN VĂN TÁM"


def test_wrong_forced_encoding_is_one_issue(tmp_path):
    path = write(tmp_path / "kt.csv", DEATHS, encoding="utf-16")
    [issue] = read_inputs([path], encoding="utf-8").issues
    assert issue.code == "decode_error"
    assert issue.file == str(path)


def test_unknown_encoding_or_delimiter_option_stops_the_run(tmp_path):
    from cchc_letters.errors import ExitCode, UsageError

    path = write(tmp_path / "kt.csv", DEATHS)
    with pytest.raises(UsageError) as caught:
        read_inputs([path], encoding="vni-windows")
    assert caught.value.option == "--encoding" and caught.value.exit_code == ExitCode.USAGE
    with pytest.raises(UsageError) as caught:
        read_inputs([path], delimiter="::")
    assert caught.value.option == "--delimiter"


def test_column_numbers_blank_rows_totals_and_signatures_are_not_rows(tmp_path):
    data = [
        *DEATHS[:4],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)"],
        DEATHS[4],
        [""] * 8,
        DEATHS[5],
        DEATHS[3],  # the header repeated at the top of a printed page
        ["Tổng cộng: 02 trường hợp"],
        ["", "", "", "", "Ngãi Giao, ngày 27 tháng 11 năm 2026"],
        ["", "", "", "", "NGƯỜI GHI SỔ"],
        ["", "", "", "", "Lê Văn Sổ"],
    ]
    result = read_inputs([write(tmp_path / "kt.csv", data)])
    assert [r.source.row for r in result.rows] == [6, 8]
    assert result.files[0].tables[0].skipped_rows == (5, 9, 10, 11, 12, 13)


def test_a_bad_row_at_the_bottom_is_still_a_row(tmp_path):
    # A row with only a name is not a signature: it is a registration missing data.
    data = [*DEATHS, ["", "", "", "Lê Văn Út", "", "", "", ""]]
    rows = read_inputs([write(tmp_path / "kt.csv", data)]).rows
    assert [r.source.row for r in rows] == [5, 6, 7]
    issues = validate_rows(rows, letter_date=LETTER_DATE).issues
    # every problem of the row, in one pass
    assert [(i.code, i.source.row, i.column) for i in issues] == [
        ("missing_field", 7, "Số"),
        ("missing_field", 7, "Ngày đăng ký"),
        ("missing_field", 7, "Ngày chết"),
        ("missing_sex", 7, "Giới tính"),
    ]


def test_kind_from_columns_when_there_is_no_title(tmp_path):
    data = [
        ["Số", "Ngày đăng ký", "Họ tên chồng", "Ngày sinh chồng", "Họ tên vợ", "Ngày sinh vợ"],
        ["01", "21/11/2026", "LÊ VĂN HÙNG", "14/03/1998", "HUỲNH THỊ KIM NGÂN", "2000"],
    ]
    result = read_inputs([write(tmp_path / "export.csv", data)])
    assert result.files[0].tables[0].kind is Kind.MARRIAGE
    assert result.rows[0].kind is Kind.MARRIAGE


def test_kind_from_file_name_when_columns_are_generic(tmp_path):
    data = [
        ["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh"],
        ["01", "20/11/2026", "Lê An", "01/11/2026"],
    ]
    path = write(tmp_path / "so_khai_sinh_2026.csv", data)
    [row] = read_inputs([path]).rows
    assert (row.kind, row.value("child_name")) == (Kind.BIRTH, "Lê An")


def test_unknown_kind_is_explained_and_kind_option_decides(tmp_path):
    data = [
        ["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh"],
        ["01", "20/11/2026", "Lê An", "01/11/2026"],
    ]
    path = write(tmp_path / "export.csv", data)
    result = read_inputs([path])
    [issue] = result.issues
    assert issue.code == "unknown_kind" and "--kind" in issue.message
    checked = validate_rows(result.rows, letter_date=LETTER_DATE)
    assert [i.code for i in checked.issues] == ["unknown_kind"]
    forced = read_inputs([path], kind=Kind.BIRTH)
    assert forced.issues == []
    assert forced.rows[0].value("child_name") == "Lê An"


def test_missing_required_column_names_field_headings_and_mapping_line(tmp_path):
    data = [
        ["SỔ ĐĂNG KÝ KHAI SINH"],
        ["Số", "Ngày đăng ký", "Tên bé", "Ngày sinh"],
        ["01", "20/11/2026", "Lê An", "01/11/2026"],
    ]
    path = write(tmp_path / "ks.csv", data)
    result = read_inputs([path])
    [issue] = result.issues
    assert issue.code == "missing_column"
    assert issue.source.row == 2
    assert "child_name" in issue.message
    assert "Số; Ngày đăng ký; Tên bé; Ngày sinh" in issue.message
    assert '[fields.child_name]\nheadings = ["Tên bé"]' in issue.message
    # the row is still counted, and rejected
    [reject] = validate_rows(result.rows, letter_date=LETTER_DATE).issues
    assert (reject.code, reject.source.row) == ("missing_field", 3)

    mapping = tmp_path / "cot.toml"
    mapping.write_text('[fields.child_name]\nheadings = ["Tên bé"]\n', encoding="utf-8")
    fixed = read_inputs([path], mapping=mapping)
    assert fixed.issues == []
    assert fixed.rows[0].value("child_name") == "Lê An"


def test_mapping_file_plain_pairs_and_errors(tmp_path):
    data = [
        ["SỔ ĐĂNG KÝ KHAI SINH"],
        ["Số", "NGAY_DK", "Tên bé", "Ngày sinh"],
        ["01", "20/11/2026", "Lê An", "01/11/2026"],
    ]
    path = write(tmp_path / "ks.csv", data)
    mapping = tmp_path / "cot.toml"
    mapping.write_text(
        '[headings]\n"Tên bé" = "child_name"\n"ngay dk" = "registration_date"\n', encoding="utf-8"
    )
    [row] = read_inputs([path], mapping=mapping).rows
    assert row.value("registration_date") == "20/11/2026"
    mapping.write_text('[headings]\n"Tên bé" = "ten_be"\n', encoding="utf-8")
    with pytest.raises(InputError, match="ten_be"):
        read_inputs([path], mapping=mapping)
    mapping.write_text("[fields.child_name\n", encoding="utf-8")
    with pytest.raises(InputError, match="TOML"):
        read_inputs([path], mapping=mapping)


@pytest.mark.parametrize(
    "heading",
    [
        "Họ, chữ đệm, tên",
        "HỌ VÀ TÊN",
        "ho_ten",
        "Họ  tên",
        "họ-và-tên",
        "Ho va ten",
    ],
)
def test_headings_match_whatever_case_accents_punctuation(tmp_path, heading):
    data = [["Số", "Ngày đăng ký", heading, "Ngày chết"], ["01", "23/11/2026", "A B", "2/11/2026"]]
    [row] = read_inputs([write(tmp_path / "kt.csv", data)], kind=Kind.DEATH).rows
    assert row.cells["deceased_name"].heading == " ".join(heading.split())


def test_group_heading_written_once_in_csv(tmp_path):
    # A merged header saved as CSV keeps "Người mẹ" only above the first sub-heading.
    data = [
        ["SỔ ĐĂNG KÝ KHAI SINH"],
        ["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Người mẹ", "", "Người cha", ""],
        ["", "", "", "", "Họ và tên", "Năm sinh", "Họ và tên", "Năm sinh"],
        ["01", "20/11/2026", "Lê An", "01/11/2026", "Trần Thị B", "1996", "Lê Văn C", "1994"],
    ]
    result = read_inputs([write(tmp_path / "ks.csv", data)])
    [row] = result.rows
    assert result.files[0].tables[0].header_rows == (2, 3)
    assert row.source.row == 4
    assert (
        row.value("child_name"),
        row.value("mother_name"),
        row.value("mother_birth"),
        row.value("father_name"),
        row.value("father_birth"),
    ) == ("Lê An", "Trần Thị B", "1996", "Lê Văn C", "1994")
    assert row.cells["mother_birth"].heading == "Người mẹ / Năm sinh"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\x00\x01\x02\x03\xff\xfe\x00\x10" * 64, "binary_file"),
        (
            b"<html><body><table><tr><td>S\xc3\xb4</td></tr></table></body></html>",
            "unreadable_file",
        ),
        ("Đây là một lá thư, không phải bảng.\nCảm ơn.\n".encode(), "no_header"),
    ],
)
def test_unreadable_text_files_are_one_issue_each(tmp_path, content, code):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    good = write(tmp_path / "kt.csv", DEATHS)
    result = read_inputs([path, good])
    [issue] = result.issues
    assert (issue.code, issue.file, issue.source) == (code, str(path), None)
    assert len(result.rows) == 2


def test_folder_input_skips_excel_lock_files(tmp_path):
    write(tmp_path / "kt.csv", DEATHS)
    (tmp_path / "~$kt.xlsx").write_bytes(b"owner")
    (tmp_path / "ghi-chu.docx").write_bytes(b"PK")
    result = read_inputs([tmp_path])
    assert result.issues == []
    assert len(result.rows) == 2


def test_kind_words():
    assert kind_from_text("Khai sinh") is Kind.BIRTH
    assert kind_from_text("KẾT HÔN") is Kind.MARRIAGE
    assert kind_from_text("kt") is Kind.DEATH
    assert kind_from_text("Đăng ký khai tử") is Kind.DEATH
    assert kind_from_text("khác") is None
    assert heading_key("Ngày, tháng, năm ĐĂNG KÝ") == "ngaythangnamdangky"


def test_excel_sep_line_names_the_delimiter(tmp_path):
    path = tmp_path / "kt.csv"
    path.write_text("sep=|\n" + "\n".join("|".join(r) for r in DEATHS), encoding="utf-8")
    result = read_inputs([path])
    assert result.files[0].delimiter == "|"
    assert [r.source.row for r in result.rows] == [6, 7]
    assert names(result.rows)[0] == "NGUYỄN VĂN TÁM"


MIXED = [
    [
        "Loại",
        "Số",
        "Ngày đăng ký",
        "Họ và tên",
        "Ngày sinh",
        "Họ tên chồng",
        "Họ tên vợ",
        "Ngày chết",
        "Giới tính",
    ],
    ["KS", "01", "20/11/2026", "Lê An", "01/11/2026", "", "", "", "Nữ"],
    ["Kết hôn", "01", "21/11/2026", "", "", "Lê Văn Hùng", "Huỳnh Thị Ngân", "", ""],
    ["khai tử", "01", "23/11/2026", "Trần Văn Tư", "1941", "", "", "20/11/2026", "Nam"],
    ["sinh nhật", "02", "23/11/2026", "Ai Đó", "1941", "", "", "", ""],
]


def test_mixed_file_maps_generic_headings_per_row(tmp_path):
    result = read_inputs([write(tmp_path / "tong-hop.csv", MIXED)])
    birth, marriage, death, unknown = result.rows
    assert birth.kind is Kind.BIRTH and birth.value("child_name") == "Lê An"
    assert "deceased_name" not in birth.cells
    assert marriage.kind is Kind.MARRIAGE and marriage.value("wife_name") == "Huỳnh Thị Ngân"
    assert death.kind is Kind.DEATH and death.value("deceased_name") == "Trần Văn Tư"
    assert death.value("deceased_birth") == "1941"
    assert unknown.kind is None
    checked = validate_rows(result.rows, letter_date=LETTER_DATE)
    [issue] = checked.issues
    assert (issue.code, issue.source.row, issue.column, issue.value) == (
        "unknown_kind",
        5,
        "Loại",
        "sinh nhật",
    )
    assert len(checked.registrations) == 3


def test_kind_option_wins_over_the_kind_column(tmp_path):
    rows = read_inputs([write(tmp_path / "tong-hop.csv", MIXED)], kind=Kind.DEATH).rows
    assert {r.kind for r in rows} == {Kind.DEATH}


def test_row_without_number_with_a_date_in_words_is_not_a_footer(tmp_path):
    data = [*DEATHS, ["", "", "ngày 23 tháng 11 năm 2026", "Lê Văn Út", "Nam", "1950", "", ""]]
    rows = read_inputs([write(tmp_path / "kt.csv", data)]).rows
    assert [r.source.row for r in rows] == [5, 6, 7]


def test_invisible_characters_are_removed(tmp_path):
    data = [
        DEATHS[3],
        [
            "0\u200b1",
            "01",
            "23/11/2026",
            "Nguyễn\u200b Văn\ufeff Tám",
            "Nam",
            "1941",
            "",
            "20/11/2026",
        ],
    ]
    [row] = read_inputs([write(tmp_path / "kt.csv", data)], kind=Kind.DEATH).rows
    assert row.value("registration_number") == "01"
    assert row.value("deceased_name") == "Nguyễn Văn Tám"


def test_book_number_printed_in_the_title(tmp_path):
    without_book = [row[:1] + row[2:] for row in DEATHS[3:]]  # no "Quyển số" column
    data = [["SỔ ĐĂNG KÝ KHAI TỬ"], ["Quyển số: 02/2026"], *without_book]
    rows = read_inputs([write(tmp_path / "kt.csv", data)]).rows
    assert [r.cells["book_number"].value for r in rows] == ["02/2026", "02/2026"]
    assert rows[0].cells["book_number"].heading == "Quyển số: 02/2026"
    assert rows[1].value("registration_date") == "26/11/2026"


def test_a_shipped_table_is_parsed_once_per_state_of_its_file(tmp_path):
    from cchc_letters.ingest.columns import shipped_toml

    path = tmp_path / "columns.toml"
    path.write_text('[fields.a]\nheadings = ["A"]\n', encoding="utf-8")
    first = shipped_toml(path)
    assert shipped_toml(path) is first  # the same parse while the file is unchanged
    path.write_text('[fields.a]\nheadings = ["A", "Ā"]\n', encoding="utf-8")
    assert shipped_toml(path)["fields"]["a"]["headings"] == ["A", "Ā"]  # edited: read again
