"""Exports laid out with the wording of the official civil-status registers and forms
(Thông tư 04/2020/TT-BTP, its older wording, and the field codes of the online public-service
forms), written as real XLSX and CSV files. Each column says the field it must be read as.

Used by tests/test_official_forms.py; run as a script to write the files into a folder and
try `cchc-letters check` on them:

    python tests/official_forms.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook

# (group heading over the column or "", heading, field, value)
BIRTH_REGISTER_TT04 = [
    ("", "Số", "registration_number", "15"),
    ("", "Quyển số", "book_number", "01/2026"),
    ("", "Ngày, tháng, năm đăng ký", "registration_date", "20/11/2026"),
    ("Người được đăng ký khai sinh", "Họ, chữ đệm, tên", "child_name", "NGUYỄN HOÀNG AN"),
    (
        "Người được đăng ký khai sinh",
        "Ngày, tháng, năm sinh (bằng số)",
        "child_birth_date",
        "09/11/2026",
    ),
    (
        "Người được đăng ký khai sinh",
        "Ngày, tháng, năm sinh (bằng chữ)",
        "child_birth_date_words",
        "Ngày mùng chín tháng mười một năm hai nghìn không trăm hai mươi sáu",
    ),
    ("Người được đăng ký khai sinh", "Giới tính", "child_sex", "Nam"),
    ("Người được đăng ký khai sinh", "Nơi sinh", "child_birth_place", "Trạm Y tế xã Ngãi Giao"),
    ("Người được đăng ký khai sinh", "Quê quán", "child_hometown", "Xã Ngãi Giao"),
    ("Người được đăng ký khai sinh", "Dân tộc", "child_ethnicity", "Kinh"),
    ("Người được đăng ký khai sinh", "Quốc tịch", "child_nationality", "Việt Nam"),
    ("Người được đăng ký khai sinh", "Số định danh cá nhân", "child_personal_id", "077226000123"),
    ("Mẹ", "Họ, chữ đệm, tên", "mother_name", "TRẦN THỊ HOA"),
    ("Mẹ", "Năm sinh", "mother_birth", "1996"),
    ("Mẹ", "Dân tộc", "mother_ethnicity", "Kinh"),
    ("Mẹ", "Quốc tịch", "mother_nationality", "Việt Nam"),
    ("Mẹ", "Nơi cư trú", "mother_residence", "Ấp Suối Nghệ, xã Ngãi Giao"),
    ("Cha", "Họ, chữ đệm, tên", "father_name", "NGUYỄN VĂN BÌNH"),
    ("Cha", "Năm sinh", "father_birth", "1994"),
    ("Cha", "Dân tộc", "father_ethnicity", "Kinh"),
    ("Cha", "Quốc tịch", "father_nationality", "Việt Nam"),
    ("Cha", "Nơi cư trú", "father_residence", "Ấp Suối Nghệ, xã Ngãi Giao"),
    ("Người đi đăng ký khai sinh", "Họ, chữ đệm, tên", "informant_name", "NGUYỄN VĂN BÌNH"),
    (
        "Người đi đăng ký khai sinh",
        "Giấy tờ tùy thân",
        "informant_personal_id",
        "CCCD số 077094000456",
    ),
    (
        "Người đi đăng ký khai sinh",
        "Quan hệ với người được đăng ký khai sinh",
        "informant_relation",
        "Cha",
    ),
    ("", "Công chức tư pháp - hộ tịch thực hiện", "registrar", "Lê Thị Thu"),
    ("", "Ghi chú", "note", ""),
]

MARRIAGE_REGISTER_TT04 = [
    ("", "Số", "registration_number", "3"),
    ("", "Quyển số", "book_number", "01/2026"),
    ("", "Ngày, tháng, năm đăng ký", "registration_date", "21/11/2026"),
    *[
        (group, heading, f"{person}_{suffix}", value)
        for person, group, values in (
            ("husband", "Chồng", ("LÊ VĂN HÙNG", "14/03/1998", "077098000111")),
            ("wife", "Vợ", ("HUỲNH THỊ KIM NGÂN", "02/05/2000", "077300000222")),
        )
        for heading, suffix, value in (
            ("Họ, chữ đệm, tên", "name", values[0]),
            ("Ngày, tháng, năm sinh", "birth", values[1]),
            ("Dân tộc", "ethnicity", "Kinh"),
            ("Quốc tịch", "nationality", "Việt Nam"),
            ("Nơi cư trú", "residence", "Xã Ngãi Giao"),
            ("Giấy tờ tùy thân", "personal_id", f"CCCD số {values[2]}"),
        )
    ],
    ("", "Ghi chú", "note", ""),
]

DEATH_REGISTER_TT04 = [
    ("", "Số", "registration_number", "8"),
    ("", "Quyển số", "book_number", "01/2026"),
    ("", "Ngày, tháng, năm đăng ký", "registration_date", "23/11/2026"),
    ("", "Họ, chữ đệm, tên người chết", "deceased_name", "PHẠM VĂN TÁM"),
    ("", "Ngày, tháng, năm sinh", "deceased_birth", "1941"),
    ("", "Giới tính", "deceased_sex", "Nam"),
    ("", "Dân tộc", "deceased_ethnicity", "Kinh"),
    ("", "Quốc tịch", "deceased_nationality", "Việt Nam"),
    ("", "Nơi cư trú cuối cùng", "deceased_residence", "Tổ 3, ấp Suối Nghệ"),
    ("", "Số định danh cá nhân", "deceased_personal_id", "077041000333"),
    (
        "",
        "Đã chết vào lúc … giờ … phút, ngày … tháng … năm …",
        "death_date",
        "10 giờ 30 phút, ngày 20 tháng 11 năm 2026",
    ),
    ("", "Nơi chết", "death_place", "Tại nhà"),
    ("", "Nguyên nhân chết", "death_cause", "Bệnh già"),
    ("", "Số Giấy báo tử/Giấy tờ thay thế Giấy báo tử", "death_notice", "12/GBT"),
    ("", "Họ, chữ đệm, tên người đi khai tử", "informant_name", "PHẠM VĂN CHÍN"),
    ("", "Quan hệ với người chết", "informant_relation", "Con"),
    ("", "Ghi chú", "note", ""),
]

# The wording of the forms before 2020 (Thông tư 15/2015): "Họ và tên", "Nơi thường trú/tạm
# trú", "Số Giấy CMND/Hộ chiếu".
DEATH_REGISTER_OLD = [
    ("", "Số", "registration_number", "9"),
    ("", "Ngày đăng ký", "registration_date", "24/11/2026"),
    ("", "Họ và tên người chết", "deceased_name", "LÊ THỊ NĂM"),
    ("", "Năm sinh", "deceased_birth", "1950"),
    ("", "Giới tính", "deceased_sex", "Nữ"),
    ("", "Nơi thường trú/tạm trú", "deceased_residence", "Ấp Bình Ba"),
    ("", "Số Giấy CMND/Hộ chiếu", "deceased_personal_id", "077150000444"),
    (
        "",
        "Chết vào lúc … giờ … phút, ngày … tháng … năm …",
        "death_date",
        "ngày hai mươi mốt tháng mười một năm hai nghìn không trăm hai mươi sáu",
    ),
    ("", "Nơi chết", "death_place", "Bệnh viện Bà Rịa"),
    ("", "Nguyên nhân chết", "death_cause", "Tai biến"),
]

BIRTH_REGISTER_OLD = [
    ("", "Số", "registration_number", "16"),
    ("", "Ngày đăng ký", "registration_date", "22/11/2026"),
    ("", "Họ và tên", "child_name", "ĐỖ KHÁNH LINH"),
    ("", "Ngày, tháng, năm sinh", "child_birth_date", "02/11/2026"),
    ("", "Giới tính", "child_sex", "Nữ"),
    ("", "Họ và tên mẹ", "mother_name", "VŨ THỊ HẠNH"),
    ("", "Nơi thường trú/tạm trú của mẹ", "mother_residence", "Ấp Láng Lớn"),
    ("", "Số Giấy CMND/Hộ chiếu của mẹ", "mother_personal_id", "077198000555"),
    ("", "Họ và tên cha", "father_name", "ĐỖ VĂN NAM"),
    ("", "Nơi thường trú/tạm trú của cha", "father_residence", "Ấp Láng Lớn"),
]

# Field codes of the online public-service forms (camel case, no diacritics).
BIRTH_ONLINE = [
    ("", "SoDangKy", "registration_number", "17"),
    ("", "QuyenSo", "book_number", "01/2026"),
    ("", "NgayDangKy", "registration_date", "23/11/2026"),
    ("", "HoTenKS", "child_name", "TRẦN GIA HUY"),
    ("", "NgaySinhChon", "child_birth_date", "05/11/2026"),
    ("", "GioiTinhKS", "child_sex", "Nam"),
    ("", "NoiSinhKS", "child_birth_place", "Bệnh viện Bà Rịa"),
    ("", "DanTocKS", "child_ethnicity", "Kinh"),
    ("", "QuocTichKS", "child_nationality", "Việt Nam"),
    ("", "SoDinhDanh", "child_personal_id", "077226000666"),
    ("", "HoTenMe", "mother_name", "LÝ THỊ MAI"),
    ("", "NamSinhMeKS", "mother_birth", "1999"),
    ("", "SoDinhDanhMe", "mother_personal_id", "077199000777"),
    ("", "NoiCuTruMe", "mother_residence", "Ấp Suối Nghệ"),
    ("", "HoTenCha", "father_name", "TRẦN VĂN LỘC"),
    ("", "NamSinhChaKS", "father_birth", "1997"),
    ("", "HoTenNguoiDiKhai", "informant_name", "TRẦN VĂN LỘC"),
    ("", "QuanHe", "informant_relation", "Cha"),
]

MARRIAGE_ONLINE = [
    ("", "SoDangKy", "registration_number", "4"),
    ("", "NgayDangKy", "registration_date", "24/11/2026"),
    ("", "HoTenChong", "husband_name", "VÕ MINH TÂM"),
    ("", "NgaySinhChong", "husband_birth", "01/01/1995"),
    ("", "NoiCuTruChong", "husband_residence", "Xã Ngãi Giao"),
    ("", "SoDinhDanhChong", "husband_personal_id", "077095000888"),
    ("", "HoTenVo", "wife_name", "ĐINH THỊ THU"),
    ("", "NgaySinhVo", "wife_birth", "12/12/1997"),
    ("", "NoiCuTruVo", "wife_residence", "Xã Ngãi Giao"),
    ("", "SoDinhDanhVo", "wife_personal_id", "077197000999"),
]

DEATH_ONLINE = [
    ("", "SoDangKy", "registration_number", "10"),
    ("", "NgayDangKy", "registration_date", "25/11/2026"),
    ("", "HoTenNguoiChet", "deceased_name", "NGÔ VĂN BẢY"),
    ("", "NamSinhNguoiChet", "deceased_birth", "1938"),
    ("", "GioiTinhNguoiChet", "deceased_sex", "Nam"),
    ("", "NoiCuTruCuoiCung", "deceased_residence", "Ấp Bình Ba"),
    ("", "NgayChet", "death_date", "22/11/2026"),
    ("", "GioPhutChet", "death_time", "05 giờ 10 phút"),
    ("", "NoiChet", "death_place", "Tại nhà"),
    ("", "NguyenNhanChet", "death_cause", "Bệnh già"),
    ("", "SoGiayBaoTu", "death_notice", "15/GBT"),
]

TITLES = {
    "birth": ("ỦY BAN NHÂN DÂN XÃ NGÃI GIAO", "SỔ ĐĂNG KÝ KHAI SINH", "Quyển số: 01/2026"),
    "marriage": ("ỦY BAN NHÂN DÂN XÃ NGÃI GIAO", "SỔ ĐĂNG KÝ KẾT HÔN", ""),
    "death": ("ỦY BAN NHÂN DÂN XÃ NGÃI GIAO", "SỔ ĐĂNG KÝ KHAI TỬ", ""),
}

FORMS = {
    "so-khai-sinh-tt04": ("birth", BIRTH_REGISTER_TT04),
    "so-ket-hon-tt04": ("marriage", MARRIAGE_REGISTER_TT04),
    "so-khai-tu-tt04": ("death", DEATH_REGISTER_TT04),
    "so-khai-sinh-cu": ("birth", BIRTH_REGISTER_OLD),
    "so-khai-tu-cu": ("death", DEATH_REGISTER_OLD),
    "khai-sinh-truc-tuyen": ("birth", BIRTH_ONLINE),
    "ket-hon-truc-tuyen": ("marriage", MARRIAGE_ONLINE),
    "khai-tu-truc-tuyen": ("death", DEATH_ONLINE),
}


def _rows(kind: str, columns, *, titles: bool) -> tuple[list[list[str]], bool]:
    two_rows = any(group for group, *_ in columns)
    rows = [[t] for t in TITLES[kind] if t] if titles else []
    if two_rows:
        top, previous = [], None
        for group, heading, *_ in columns:
            top.append(heading if not group else group if group != previous else "")
            previous = group
        rows.append(top)
        rows.append([heading if group else "" for group, heading, *_ in columns])
        rows.append([f"({i})" for i in range(1, len(columns) + 1)])  # the column numbers
    else:
        rows.append([heading for _, heading, *_ in columns])
    rows.append([value for *_, value in columns])
    rows.append([])
    rows.append(["Người ghi sổ"])
    return rows, two_rows


def write_xlsx(path: Path, kind: str, columns) -> Path:
    """Write ``columns`` as the register prints them: title rows, the group headings merged
    over their sub-headings, the heading of a column without group merged over both rows."""
    rows, two_rows = _rows(kind, columns, titles=True)
    wb = Workbook()
    ws = wb.active
    ws.title = {"birth": "Khai sinh", "marriage": "Kết hôn", "death": "Khai tử"}[kind]
    header = len([t for t in TITLES[kind] if t]) + 1
    for r in rows:
        ws.append(r)
    if two_rows:
        start = 0
        for i in range(1, len(columns) + 1):
            group = columns[start][0]
            if i == len(columns) or columns[i][0] != group:
                if group and i - 1 > start:
                    ws.merge_cells(
                        start_row=header, start_column=start + 1, end_row=header, end_column=i
                    )
                elif not group:
                    for c in range(start, i):
                        ws.merge_cells(
                            start_row=header,
                            start_column=c + 1,
                            end_row=header + 1,
                            end_column=c + 1,
                        )
                start = i
    wb.save(path)
    return path


def write_csv(path: Path, kind: str, columns, *, delimiter: str = ";") -> Path:
    """Write ``columns`` as Excel saves a register as CSV (UTF-8 with BOM, ';')."""
    rows, _ = _rows(kind, columns, titles=True)

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if delimiter in v or '"' in v else v

    text = "\r\n".join(delimiter.join(cell(v) for v in r) for r in rows) + "\r\n"
    path.write_text(text, encoding="utf-8-sig")
    return path


def write_all(folder: Path) -> dict[Path, tuple[str, list]]:
    """Write every form as XLSX and CSV into ``folder``; return path -> (kind, columns)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (kind, columns) in FORMS.items():
        out[write_xlsx(folder / f"{name}.xlsx", kind, columns)] = (kind, columns)
        out[write_csv(folder / f"{name}.csv", kind, columns)] = (kind, columns)
    return out


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1])):
        print(path)
