"""Excel workbooks as the registry software and officers really make them."""

from __future__ import annotations

import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from cchc_letters.ingest import read_inputs
from cchc_letters.models import Kind
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)


def birth_register(path, *, extra_sheet=True):
    """A birth register as exported: title rows, a two-row merged header, a column-number
    row, typed and serial dates, a number formatted "00", totals and a signature block."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Khai sinh 2026"
    ws["A1"] = "ỦY BAN NHÂN DÂN XÃ NGÃI GIAO"
    ws["A2"] = "SỔ ĐĂNG KÝ KHAI SINH"
    ws.merge_cells("A2:H2")
    ws["A3"] = "Năm 2026"
    for cell, text in {
        "A5": "STT",
        "B5": "Số",
        "C5": "Ngày, tháng, năm đăng ký",
        "D5": "Họ, chữ đệm và tên",
        "E5": "Ngày, tháng, năm sinh",
        "H5": "Ghi chú",
    }.items():
        ws[cell] = text
        ws.merge_cells(f"{cell}:{cell[0]}6")  # merged down over the sub-heading row
    ws["F5"] = "Người mẹ"
    ws.merge_cells("F5:G5")  # group heading over "Họ và tên" and "Năm sinh"
    ws["F6"], ws["G6"] = "Họ và tên", "Năm sinh"
    for i, col in enumerate("ABCDEFGH", 1):
        ws[f"{col}7"] = f"({i})"
    ws.append(
        [1, "01", datetime(2026, 11, 20), "NGUYỄN VĂN AN", "12/11/2026", "LÊ THỊ BA", 1996, None]
    )
    ws.append([2, 2, 46350, "trần thị bé", date(2026, 11, 1), "PHẠM THỊ C", "1990", None])
    ws["B9"].number_format = "00"  # số typed as a number, shown as "02"
    ws.append([3, "03", "31/02/2026", "Võ Minh", "01/11/2026", "Đỗ Thị D", "1991", None])
    ws.append([])
    ws.append(["Tổng cộng: 3 trường hợp"])
    ws.append([None, None, None, None, "Người lập biểu"])
    ws.append([None, None, None, None, "(Ký, ghi rõ họ tên)"])
    ws.append([None, None, None, None, "Nguyễn Thị Hộ Tịch"])
    if extra_sheet:
        wb.create_sheet("Hướng dẫn")["A1"] = "Xuất từ phần mềm hộ tịch"
    wb.save(path)
    return path


def test_merged_two_row_header_under_title_rows(tmp_path):
    result = read_inputs([birth_register(tmp_path / "so.xlsx")])
    assert result.issues == []
    [report] = result.files
    [table] = report.tables
    assert table.sheet == "Khai sinh 2026"
    assert table.header_rows == (5, 6)
    assert table.kind is Kind.BIRTH  # from the title "SỔ ĐĂNG KÝ KHAI SINH"
    assert dict(table.columns)["Người mẹ / Họ và tên"] == "mother_name"
    assert dict(table.columns)["Người mẹ / Năm sinh"] == "mother_birth"
    assert dict(table.columns)["Họ, chữ đệm và tên"] == "child_name"
    assert report.skipped_sheets == ("Hướng dẫn",)
    # column numbers (7), totals (12) and the signature block are not rows
    assert [r.source.row for r in result.rows] == [8, 9, 10]
    assert set(table.skipped_rows) >= {7, 12, 13, 14, 15}
    assert all(r.source.sheet == "Khai sinh 2026" for r in result.rows)


def test_excel_values_become_text_as_the_officer_sees_them(tmp_path):
    rows = read_inputs([birth_register(tmp_path / "so.xlsx")]).rows
    first, second, _ = rows
    assert first.cells["registration_number"].value == "01"
    assert first.cells["registration_date"].value == "20/11/2026"  # a real Excel date
    assert first.cells["mother_birth"].value == "1996"  # no "1996.0"
    assert second.cells["registration_number"].value == "02"  # number format "00"
    assert second.cells["registration_date"].value == "46350"  # serial, parsed by validate
    assert second.cells["child_birth_date"].value == "01/11/2026"


def test_register_rows_validate_with_reasons(tmp_path):
    rows = read_inputs([birth_register(tmp_path / "so.xlsx")]).rows
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert [(r.number, r.registration_date) for r in checked.registrations] == [
        ("01", date(2026, 11, 20)),
        ("02", date(2026, 11, 24)),
    ]
    assert checked.registrations[0].child.full_name == "Nguyễn Văn An"
    assert checked.registrations[1].mother.birth_year == 1990
    [issue] = checked.issues
    assert (issue.code, issue.source.row, issue.source.sheet, issue.column, issue.value) == (
        "impossible_date",
        10,
        "Khai sinh 2026",
        "Ngày, tháng, năm đăng ký",
        "31/02/2026",
    )


def test_sheets_of_different_registers_in_one_workbook(tmp_path):
    wb = openpyxl.Workbook()
    ks = wb.active
    ks.title = "KS"
    ks.append(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Họ tên mẹ"])
    ks.append(["01", "20/11/2026", "Lê An", "01/11/2026", "Lê Thị B"])
    kt = wb.create_sheet("KT")
    kt.append(["Số", "Ngày đăng ký", "Họ và tên", "Giới tính", "Năm sinh", "Ngày chết", "Nơi chết"])
    kt.append(["01", "21/11/2026", "TRẦN VĂN CỤ", "Nam", "1930", "20/11/2026", "Tại nhà"])
    wb.save(tmp_path / "tong-hop.xlsx")
    result = read_inputs([tmp_path / "tong-hop.xlsx"])
    assert result.issues == []
    birth, death = result.rows
    # "Họ và tên" is the child in one register and the deceased in the other
    assert (birth.kind, birth.source.sheet, birth.value("child_name")) == (
        Kind.BIRTH,
        "KS",
        "Lê An",
    )
    assert (death.kind, death.source.sheet, death.value("deceased_name")) == (
        Kind.DEATH,
        "KT",
        "TRẦN VĂN CỤ",
    )
    checked = validate_rows(result.rows, letter_date=LETTER_DATE)
    assert checked.issues == []
    assert checked.registrations[1].deceased.birth_year == 1930


def test_id_typed_as_number_keeps_its_zeros_with_a_zero_format(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KHAI TỬ"])
    ws.append(
        ["Số", "Ngày đăng ký", "Họ và tên", "Giới tính", "Ngày sinh", "Số định danh", "Ngày chết"]
    )
    ws.append([5, "21/11/2026", "Trần Văn Tư", "Nam", "02/03/1950", 77050001234, "20/11/2026"])
    ws["F3"].number_format = "000000000000"
    wb.save(tmp_path / "kt.xlsx")
    [row] = read_inputs([tmp_path / "kt.xlsx"]).rows
    assert row.value("deceased_personal_id") == "077050001234"
    assert row.value("registration_number") == "5"
    assert validate_rows([row], letter_date=LETTER_DATE).issues == []


def test_truncated_workbook_is_one_issue_and_other_files_still_read(tmp_path):
    good = birth_register(tmp_path / "a.xlsx", extra_sheet=False)
    broken = tmp_path / "b.xlsx"
    broken.write_bytes(good.read_bytes()[:600])  # a download that stopped half-way
    result = read_inputs([broken, good])
    [issue] = result.issues
    assert (issue.code, issue.file, issue.source) == ("unreadable_file", str(broken), None)
    assert "Excel" in issue.message
    assert len(result.rows) == 3
    assert [f.path for f in result.files] == [str(good)]


def test_password_protected_workbook_is_named_as_such(tmp_path):
    # Excel saves an encrypted XLSX as an OLE container holding an EncryptionInfo stream.
    path = tmp_path / "mat-khau.xlsx"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 512
    )
    [issue] = read_inputs([path]).issues
    assert issue.code == "encrypted_file"
    assert "mật khẩu" in issue.message


@pytest.mark.parametrize(
    "content",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 300,  # an OLE header with nothing behind
        bytes(range(256)) * 4,  # binary junk
        b"",  # empty
    ],
)
def test_broken_legacy_xls_is_one_clean_issue(tmp_path, content):
    path = tmp_path / "so-cu.xls"
    path.write_bytes(content)
    result = read_inputs([path])
    assert len(result.issues) == 1
    assert result.issues[0].file == str(path)
    assert result.rows == [] and result.files == []


def test_xls_that_is_really_xlsx_is_read_by_content(tmp_path):
    # Officers rename files; the content decides the format, not the suffix.
    path = tmp_path / "so.xls"
    birth_register(tmp_path / "so.xlsx").rename(path)
    result = read_inputs([path])
    assert result.files[0].format == "xlsx"
    assert len(result.rows) == 3


def test_xlsx_without_any_register_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Báo cáo tháng"
    wb.save(tmp_path / "bao-cao.xlsx")
    [issue] = read_inputs([tmp_path / "bao-cao.xlsx"]).issues
    assert issue.code == "no_header"


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "nen.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "không phải Excel")
    [issue] = read_inputs([path]).issues
    assert issue.code == "unreadable_file"


def test_real_legacy_xls_with_merged_header(tmp_path):
    xlwt = pytest.importorskip("xlwt")  # test-only writer of BIFF8 .xls files
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Khai tử")
    ws.write_merge(0, 0, 0, 5, "SỔ ĐĂNG KÝ KHAI TỬ")
    ws.write_merge(2, 3, 0, 0, "Số")
    ws.write_merge(2, 3, 1, 1, "Ngày đăng ký")
    ws.write_merge(2, 2, 2, 4, "Người chết")
    for col, text in enumerate(["Họ và tên", "Năm sinh", "Giới tính"], start=2):
        ws.write(3, col, text)
    ws.write_merge(2, 3, 5, 5, "Ngày chết")
    ws.write(4, 0, "01")
    ws.write(4, 1, datetime(2026, 11, 23), xlwt.easyxf(num_format_str="DD/MM/YYYY"))
    for col, value in enumerate(["NGUYỄN VĂN TÁM", 1941, "Nam", 46346], start=2):
        ws.write(4, col, value)
    wb.save(str(tmp_path / "kt.xls"))

    result = read_inputs([tmp_path / "kt.xls"])
    assert result.issues == []
    [table] = result.files[0].tables
    assert (result.files[0].format, table.kind, table.header_rows) == ("xls", Kind.DEATH, (3, 4))
    [row] = result.rows
    assert (row.source.sheet, row.source.row) == ("Khai tử", 5)
    assert row.cells["deceased_birth"].heading == "Người chết / Năm sinh"
    assert (
        row.value("registration_date"),
        row.value("deceased_birth"),
        row.value("death_date"),
    ) == ("23/11/2026", "1941", "46346")
    [death] = validate_rows([row], letter_date=LETTER_DATE).registrations
    assert death.death_date == date(2026, 11, 20)
    assert death.deceased.full_name == "Nguyễn Văn Tám"


def test_sheet_named_with_a_short_code_gives_the_register(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KS"
    ws.append(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh"])
    ws.append(["01", "20/11/2026", "Lê An", "01/11/2026"])
    wb.save(tmp_path / "export.xlsx")
    [row] = read_inputs([tmp_path / "export.xlsx"]).rows
    assert (row.kind, row.value("child_name")) == (Kind.BIRTH, "Lê An")


def test_xlsx_that_is_neither_workbook_nor_table(tmp_path):
    path = tmp_path / "hong.xlsx"
    path.write_text("junk", encoding="utf-8")
    [issue] = read_inputs([path]).issues
    assert issue.code == "unreadable_file"
    assert ".xlsx" in issue.message


def test_csv_saved_with_an_xlsx_name_is_read_as_csv(tmp_path):
    path = tmp_path / "so.xlsx"
    path.write_text("Số,Ngày đăng ký,Họ tên chồng,Họ tên vợ\n01,21/11/2026,A,B\n", encoding="utf-8")
    result = read_inputs([path])
    assert result.files[0].format == "csv"
    assert result.rows[0].kind is Kind.MARRIAGE


def test_totals_row_merged_across_columns_is_a_footer(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KẾT HÔN"])
    ws.append(["Số", "Ngày đăng ký", "Họ tên chồng", "Họ tên vợ", "Ghi chú"])
    ws.append(["01", "21/11/2026", "Lê Văn Hùng", "Huỳnh Thị Ngân", ""])
    ws.append(["Tổng cộng: 01 cặp"])
    ws.merge_cells("A4:E4")
    wb.save(tmp_path / "kh.xlsx")
    result = read_inputs([tmp_path / "kh.xlsx"])
    assert [r.source.row for r in result.rows] == [3]
    assert result.files[0].tables[0].skipped_rows == (4,)


def test_cell_types_read_as_the_officer_sees_them(tmp_path):
    from datetime import time, timedelta

    from cchc_letters.ingest.excel import read_xlsx

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Khai tử"
    ws.append(
        [
            1996,
            1996.5,
            datetime(2026, 11, 20),
            datetime(2026, 11, 20, 14, 30),
            time(14, 30),
            timedelta(hours=30, minutes=5),
            True,
            -3,
            "Nguye\u0302\u0303n\u200b",  # NFD text with an invisible space
            46350,
            7,
        ]
    )
    ws["J1"].number_format = "dd/mm/yyyy"  # a serial shown as a date is a real date
    ws["K1"].number_format = "000"
    wb.save(tmp_path / "kieu.xlsx")
    [(name, grid, spans)] = read_xlsx(tmp_path / "kieu.xlsx")
    assert (name, spans) == ("Khai tử", {})
    assert grid == [
        (
            1,
            [
                "1996",
                "1996.5",
                "20/11/2026",
                "20/11/2026 14:30",
                "14:30",
                "30:05",
                "TRUE",
                "-3",
                "Nguyễn",
                "24/11/2026",
                "007",
            ],
        )
    ]


def _rewrite_sheets(path, fix):
    """Rewrite the worksheet XML of a saved workbook, as other tools write it."""
    import re

    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            if info.filename.startswith("xl/worksheets/"):
                data = fix(re, data)
            out.writestr(info, data)
    return path


@pytest.mark.parametrize(
    "fix",
    [
        # style before type, and no cell references at all (both are valid XML)
        lambda re, xml: re.sub(rb'(<c) r="[A-Z]+\d+"( s="\d+")( t="\w+")', rb"\1\3\2", xml),
        lambda re, xml: re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", xml),
    ],
    ids=["attribute-order", "no-references"],
)
def test_zero_format_found_however_the_sheet_xml_is_written(tmp_path, fix):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KHAI SINH"])
    ws.append(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Số định danh"])
    ws.append([1, "20/11/2026", "Lê An", "01/11/2026", 77226000123])
    ws.append([2, "20/11/2026", "Lê Bình", "02/11/2026", None])
    ws["A3"].number_format = ws["A4"].number_format = "00"
    ws["E3"].number_format = "000000000000"
    wb.save(tmp_path / "so.xlsx")
    _rewrite_sheets(tmp_path / "so.xlsx", fix)
    first, second = read_inputs([tmp_path / "so.xlsx"]).rows
    assert first.value("registration_number") == "01"
    assert first.value("child_personal_id") == "077226000123"
    assert second.value("registration_number") == "02"
    assert second.source.row == 4


def test_formula_errors_read_as_excel_shows_them(tmp_path):
    # A lookup that failed shows "#N/A" in Excel: the officer must see that in the rejects,
    # not an empty cell.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KHAI SINH"])
    ws.append(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh"])
    ws.append(["01", "#N/A", "Lê An", "01/11/2026"])  # openpyxl stores it as an error cell
    assert ws["B3"].data_type == "e"
    wb.save(tmp_path / "loi.xlsx")
    [row] = read_inputs([tmp_path / "loi.xlsx"]).rows
    assert row.value("registration_date") == "#N/A"
    [issue] = validate_rows([row], letter_date=LETTER_DATE).issues
    assert (issue.code, issue.value) == ("unparseable_date", "#N/A")


def test_formula_errors_found_without_cell_references(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["SỔ ĐĂNG KÝ KHAI SINH"])
    ws.append(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Số định danh"])
    ws.append([7, "20/11/2026", "Lê An", "01/11/2026", "#REF!"])
    ws["A3"].number_format = "000"
    wb.save(tmp_path / "so.xlsx")
    _rewrite_sheets(
        tmp_path / "so.xlsx", lambda re, xml: re.sub(rb'(<c) r="[A-Z]+\d+"', rb"\1", xml)
    )
    [row] = read_inputs([tmp_path / "so.xlsx"]).rows
    assert (row.value("registration_number"), row.value("child_personal_id")) == ("007", "#REF!")


def test_a_sound_workbook_is_read_without_openpyxl(tmp_path, monkeypatch):
    # openpyxl is only the fallback for workbooks calamine refuses (it is 15x slower on a
    # large register); a sound workbook with every quirk above must not need it.
    from cchc_letters.ingest import excel

    def refuse(path):
        raise AssertionError("openpyxl fallback used")

    monkeypatch.setattr(excel, "_read_xlsx_openpyxl", refuse)
    result = read_inputs([birth_register(tmp_path / "so.xlsx")])
    assert result.issues == []
    assert [r.value("registration_number") for r in result.rows] == ["01", "02", "03"]
