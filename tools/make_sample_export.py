"""Write data/sample/registry-export/so-dang-ky-khai-sinh-2026.xlsx: a birth register as a
commune's registry software or an officer exports it (title rows, a two-row merged header, a
column-number row, a signature block), so newcomers can try `check` and `generate` on it.

    python tools/make_sample_export.py
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

OUT = (
    Path(__file__).resolve().parent.parent
    / "data"
    / "sample"
    / "registry-export"
    / "so-dang-ky-khai-sinh-2026.xlsx"
)

GROUPS = [  # (group heading or None, [sub-headings])
    (None, ["Số"]),
    (None, ["Ngày đăng ký"]),
    (
        "Người được khai sinh",
        ["Họ, chữ đệm và tên", "Giới tính", "Ngày, tháng, năm sinh", "Nơi sinh"],
    ),
    ("Người mẹ", ["Họ và tên", "Năm sinh", "Nơi cư trú"]),
    ("Người cha", ["Họ và tên", "Năm sinh", "Nơi cư trú"]),
    (None, ["Ghi chú"]),
]
ROWS = [
    (
        "21",
        date(2026, 11, 23),
        "PHAN NGỌC BẢO ANH",
        "Nữ",
        date(2026, 11, 9),
        "Trung tâm Y tế khu vực Châu Đức",
        "NGÔ THỊ THU HÀ",
        1998,
        "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        "PHAN VĂN LỘC",
        1996,
        "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        "",
    ),
    (
        "22",
        date(2026, 11, 24),
        "ĐINH GIA HUY",
        "Nam",
        date(2026, 10, 30),
        "Bệnh viện Bà Rịa",
        "TRƯƠNG THỊ MỸ DUYÊN",
        2000,
        "Ấp Bình Ba, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        "ĐINH QUANG VINH",
        1997,
        "Ấp Bình Ba, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        "",
    ),
    # a row the officer still has to complete: no date of birth (goes to rejects.csv)
    (
        "23",
        date(2026, 11, 25),
        "LÝ MINH KHÔI",
        "Nam",
        None,
        "Trạm Y tế xã Ngãi Giao",
        "LÝ THỊ HOA",
        1999,
        "Khu phố Ngãi Giao, xã Ngãi Giao, Thành phố Hồ Chí Minh",
        "",
        None,
        "",
        "Chờ bổ sung giấy chứng sinh",
    ),
]


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Khai sinh"
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet["A1"] = "ỦY BAN NHÂN DÂN XÃ NGÃI GIAO"
    sheet["A2"] = "SỔ ĐĂNG KÝ KHAI SINH"
    sheet["A3"] = "Năm 2026 — Quyển số: 01/2026"
    for cell in ("A1", "A2", "A3"):
        sheet[cell].font = bold
    column = 1
    for group, subs in GROUPS:
        if group is None:  # a heading merged down over both header rows
            sheet.cell(5, column, subs[0])
            sheet.merge_cells(start_row=5, start_column=column, end_row=6, end_column=column)
        else:  # a group heading merged across its sub-headings
            sheet.cell(5, column, group)
            sheet.merge_cells(
                start_row=5, start_column=column, end_row=5, end_column=column + len(subs) - 1
            )
            for offset, sub in enumerate(subs):
                sheet.cell(6, column + offset, sub)
        column += len(subs)
    for col in range(1, column):
        sheet.cell(7, col, f"({col})")  # the column-number row
        for row in (5, 6, 7):
            sheet.cell(row, col).font = bold
            sheet.cell(row, col).alignment = center
    for index, values in enumerate(ROWS, start=8):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(index, col, value)
            if isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
    end = 8 + len(ROWS) + 1
    sheet.cell(end, 1, f"Tổng cộng: {len(ROWS)} trường hợp")
    sheet.cell(end + 1, 9, "Người lập sổ")
    sheet.cell(end + 2, 9, "(Ký, ghi rõ họ tên)")
    sheet.cell(end + 5, 9, "Trần Thị Hồng Nhung")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    book.save(OUT)
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
