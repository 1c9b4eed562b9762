"""Every row that cannot become a letter comes back with its reason; good rows still pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cchc_letters.models import Birth, Death, Kind, Marriage, RawCell, RawRow, Sex, SourceRef
from cchc_letters.validate import (
    DateProblem,
    check_personal_id,
    parse_date,
    parse_date_or_year,
    parse_sex,
    validate_rows,
)

LETTER_DATE = date(2026, 11, 27)

HEADINGS = {
    "registration_number": "Số",
    "book_number": "Quyển số",
    "registration_date": "Ngày đăng ký",
    "child_name": "Họ và tên",
    "child_sex": "Giới tính",
    "child_birth_date": "Ngày sinh",
    "child_personal_id": "Số định danh cá nhân",
    "mother_name": "Người mẹ / Họ và tên",
    "mother_birth": "Người mẹ / Năm sinh",
    "husband_name": "Họ tên chồng",
    "husband_birth": "Ngày sinh chồng",
    "wife_name": "Họ tên vợ",
    "wife_birth": "Ngày sinh vợ",
    "deceased_name": "Họ tên người chết",
    "deceased_sex": "Giới tính",
    "deceased_birth": "Năm sinh",
    "deceased_personal_id": "Số định danh",
    "death_date": "Ngày chết",
}


def row(kind, line, **values):
    return RawRow(
        SourceRef("so.xlsx", "Sheet1", line),
        kind,
        {name: RawCell(HEADINGS.get(name, name), value) for name, value in values.items()},
    )


def birth(line=5, **values):
    base = dict(
        registration_number="01",
        book_number="01",
        registration_date="20/11/2026",
        child_name="NGUYỄN VĂN AN",
        child_sex="Nam",
        child_birth_date="12/11/2026",
        mother_name="lê thị ba",
        mother_birth="1996",
    )
    return row(Kind.BIRTH, line, **{**base, **values})


def death(line=5, **values):
    base = dict(
        registration_number="01",
        registration_date="23/11/2026",
        deceased_name="Trần Văn Tư",
        deceased_sex="Nam",
        deceased_birth="1941",
        death_date="20/11/2026",
    )
    return row(Kind.DEATH, line, **{**base, **values})


def marriage(line=5, **values):
    base = dict(
        registration_number="01",
        registration_date="21/11/2026",
        husband_name="LÊ VĂN HÙNG",
        husband_birth="14/03/1998",
        wife_name="HUỲNH THỊ KIM NGÂN",
        wife_birth="2000",
    )
    return row(Kind.MARRIAGE, line, **{**base, **values})


def only_issue(raw):
    checked = validate_rows([raw], letter_date=LETTER_DATE)
    assert checked.registrations == []
    [issue] = checked.issues
    return issue


def test_good_rows_of_each_register():
    checked = validate_rows([birth(), marriage(6), death(7)], letter_date=LETTER_DATE)
    assert checked.issues == []
    b, m, d = checked.registrations
    assert isinstance(b, Birth) and isinstance(m, Marriage) and isinstance(d, Death)
    assert b.child.full_name == "Nguyễn Văn An" and b.child.sex is Sex.MALE
    assert b.child.birth_date == date(2026, 11, 12)
    assert b.mother.full_name == "Lê Thị Ba" and b.mother.birth_year == 1996
    assert b.number == "01" and b.raw["child_name"] == "NGUYỄN VĂN AN"
    assert m.husband.birth_date == date(1998, 3, 14) and m.wife.birth_year == 2000
    assert d.deceased.birth_year == 1941 and d.death_date == date(2026, 11, 20)
    assert checked.rows_read == 3 and checked.duplicates == 0 and checked.rejected == 0


@pytest.mark.parametrize(
    ("raw", "code", "column", "value"),
    [
        (birth(child_name="  "), "missing_field", "Họ và tên", "  "),
        (birth(registration_number=""), "missing_field", "Số", ""),
        (death(death_date=""), "missing_field", "Ngày chết", ""),
        (birth(child_birth_date="12/13/2026"), "impossible_date", "Ngày sinh", "12/13/2026"),
        (birth(child_birth_date="30/02/2026"), "impossible_date", "Ngày sinh", "30/02/2026"),
        (birth(registration_date="hôm qua"), "unparseable_date", "Ngày đăng ký", "hôm qua"),
        (birth(registration_date="20/11/26"), "unparseable_date", "Ngày đăng ký", "20/11/26"),
        (
            birth(child_birth_date="21/11/2026"),
            "birth_after_registration",
            "Ngày sinh",
            "21/11/2026",
        ),
        (birth(mother_birth="2027"), "parent_born_after_child", "Người mẹ / Năm sinh", "2027"),
        (
            birth(registration_date="28/11/2026"),
            "registered_after_letter_date",
            "Ngày đăng ký",
            "28/11/2026",
        ),
        (death(deceased_birth="21/11/2026"), "death_before_birth", "Ngày chết", "20/11/2026"),
        (
            death(deceased_birth="2027", registration_date="23/11/2026"),
            "death_before_birth",
            "Ngày chết",
            "20/11/2026",
        ),
        (death(death_date="24/11/2026"), "death_after_registration", "Ngày chết", "24/11/2026"),
        (
            marriage(wife_birth="2026-12-01", registration_date="21/11/2026"),
            "birth_after_registration",
            "Ngày sinh vợ",
            "2026-12-01",
        ),
        (death(deceased_sex="không rõ"), "invalid_sex", "Giới tính", "không rõ"),
        (
            birth(child_personal_id="07720600012"),
            "invalid_personal_id",
            "Số định danh cá nhân",
            "07720600012",
        ),
        (
            birth(child_personal_id="07720A000123"),
            "invalid_personal_id",
            "Số định danh cá nhân",
            "07720A000123",
        ),
        (
            birth(child_personal_id="077225000123"),
            "personal_id_birth_mismatch",
            "Số định danh cá nhân",
            "077225000123",
        ),
        (
            birth(child_personal_id="077326000123"),
            "personal_id_sex_mismatch",
            "Số định danh cá nhân",
            "077326000123",
        ),
        (
            death(deceased_personal_id="077241000001"),
            "personal_id_birth_mismatch",
            "Số định danh",
            "077241000001",
        ),
        (row(None, 5, registration_number="01"), "unknown_kind", "loại sổ", None),
    ],
)
def test_reject_reasons(raw, code, column, value):
    issue = only_issue(raw)
    assert (issue.code, issue.column, issue.value, issue.severity) == (code, column, value, "error")
    assert issue.source == SourceRef("so.xlsx", "Sheet1", 5)
    assert issue.message and issue.message.isascii() is False  # plain Vietnamese


def test_personal_id_that_fits_is_kept_without_spaces():
    checked = validate_rows([birth(child_personal_id="077 226 000123")], letter_date=LETTER_DATE)
    assert checked.registrations[0].child.personal_id == "077226000123"
    assert (
        validate_rows(
            [death(deceased_sex="Nữ", deceased_personal_id="079141000001", deceased_birth="1941")],
            letter_date=LETTER_DATE,
        ).issues
        == []
    )


def test_missing_column_is_said_differently_from_an_empty_cell():
    raw = RawRow(
        SourceRef("a.csv", None, 3),
        Kind.BIRTH,
        {
            "registration_number": RawCell("Số", "01"),
            "registration_date": RawCell("Ngày đăng ký", "20/11/2026"),
            "child_birth_date": RawCell("Ngày sinh", "12/11/2026"),
        },
    )
    issue = only_issue(raw)
    assert issue.code == "missing_field"
    assert "không có cột" in issue.message
    assert issue.column == "họ tên người được khai sinh" and issue.value is None


def test_exact_duplicate_is_reported_once_not_as_an_error():
    rows = [birth(5), birth(9), replace(birth(4), source=SourceRef("other.csv", None, 4))]
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert len(checked.registrations) == 1
    assert checked.duplicates == 2 and checked.rejected == 0
    assert [(i.code, i.severity, i.source.row) for i in checked.issues] == [
        ("duplicate_row", "duplicate", 9),
        ("duplicate_row", "duplicate", 4),
    ]
    assert "dòng 5" in checked.issues[0].message


def test_rows_whose_contents_hash_alike_are_compared_in_full(monkeypatch):
    """Validation keeps a hash of each row's content, not the content: rows that only
    share a hash are different rows; a real repeat is still found among them."""
    from cchc_letters import validate

    monkeypatch.setattr(validate, "hash", lambda content: 0, raising=False)
    rows = [birth(5), birth(6, registration_number="02"), birth(7, registration_number="03")]
    rows.append(birth(9, registration_number="02"))
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert [r.number for r in checked.registrations] == ["01", "02", "03"]
    assert [(i.code, i.source.row) for i in checked.issues] == [("duplicate_row", 9)]
    assert "dòng 6" in checked.issues[0].message


def test_same_registration_with_different_content_rejects_every_version():
    # Two cumulative exports given together, a row corrected in the later one: which is
    # right cannot be told, so neither the old nor the corrected version is printed.
    rows = [
        birth(5),
        birth(6, child_name="Nguyễn Văn Bình"),
        birth(7, registration_number="1", child_name="Khác"),
        birth(8, registration_number="02", child_name="Ổn"),
    ]
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert [r.source.row for r in checked.registrations] == [8]
    assert [(i.code, i.source.row, i.column, i.value) for i in checked.issues] == [
        ("conflicting_registration", 5, "Số", "01"),
        ("conflicting_registration", 6, "Số", "01"),
        ("conflicting_registration", 7, "Số", "1"),  # "1" and "01" are the same number
    ]
    assert "dòng 6" in checked.issues[0].message and "dòng 7" in checked.issues[0].message
    assert "dòng 5" in checked.issues[2].message
    assert checked.rejected == 3


def test_a_corrected_row_in_a_second_export_names_the_other_file_and_sheet():
    old = birth(5)
    corrected = replace(birth(9, child_name="Nguyễn Văn Ân"), source=SourceRef("moi.xlsx", "KS", 9))
    checked = validate_rows([old, corrected], letter_date=LETTER_DATE)
    assert checked.registrations == []
    first, second = checked.issues
    assert "dòng 9, trang KS của tệp moi.xlsx" in first.message
    assert "dòng 5, trang Sheet1 của tệp so.xlsx" in second.message


def test_same_number_in_another_year_or_book_or_register_is_not_a_conflict():
    rows = [
        birth(5),
        birth(6, registration_date="05/01/2025", child_birth_date="01/01/2025", child_name="B"),
        birth(7, book_number="02", child_name="C"),
        death(8),
    ]
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert checked.issues == [] and len(checked.registrations) == 4


def test_nothing_from_a_bad_row_leaks_into_another_row():
    bad = birth(
        5,
        registration_number="02",
        child_name="TRẦN THỊ LỖI",
        child_sex="?",
        mother_name="Kẻ Lạ",
        mother_birth="1980",
    )
    good = birth(
        6,
        registration_number="03",
        child_name="Lê Văn Tốt",
        child_sex="",
        mother_name="",
        mother_birth="",
    )
    checked = validate_rows([bad, good], letter_date=LETTER_DATE)
    [issue] = checked.issues
    assert issue.source.row == 5
    [reg] = checked.registrations
    assert reg.source.row == 6
    assert reg.child.sex is None and reg.mother is None
    text = repr(reg)
    for leaked in ("Lỗi", "LỖI", "Kẻ Lạ", "1980", "?"):
        assert leaked not in text
    assert reg.number == "03" and "02" not in reg.raw.values()


def test_names_are_nfc_title_case_with_spaces_collapsed():
    raw = birth(child_name="  NGUYE\u0302\u0303N   thị\tngọc  DIỆP ")
    [reg] = validate_rows([raw], letter_date=LETTER_DATE).registrations
    assert reg.child.full_name == "Nguyễn Thị Ngọc Diệp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/02/2024", date(2024, 2, 5)),
        ("5/2/2024", date(2024, 2, 5)),
        ("05-02-2024", date(2024, 2, 5)),
        ("05.02.2024", date(2024, 2, 5)),
        ("2024-02-05", date(2024, 2, 5)),
        ("2024-02-05 00:00:00", date(2024, 2, 5)),
        ("05/02/2024 14:30", date(2024, 2, 5)),
        ("45327", date(2024, 2, 5)),  # Excel serial number
        ("45327.0", date(2024, 2, 5)),
        ("ngày 05 tháng 02 năm 2024", date(2024, 2, 5)),
        ("Ngày 5 tháng 2 năm 2024", date(2024, 2, 5)),
        ("NGÀY 05 THÁNG 02 NĂM 2024", date(2024, 2, 5)),
        ("03/04/2024", date(2024, 4, 3)),  # day first, never month first
    ],
)
def test_date_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "impossible"),
    [
        ("13/13/2024", True),
        ("29/02/2023", True),
        ("", False),
        ("2024", False),
        ("02/05", False),
        ("mười hai", False),
    ],
)
def test_bad_dates(text, impossible):
    with pytest.raises(DateProblem) as caught:
        parse_date(text)
    assert caught.value.impossible is impossible


def test_year_alone_is_accepted_where_allowed():
    assert parse_date_or_year("1996") == (None, 1996)
    assert parse_date_or_year("năm 1996") == (None, 1996)
    assert parse_date_or_year("14/03/1998") == (date(1998, 3, 14), None)


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("Nam", Sex.MALE),
        ("NAM", Sex.MALE),
        (" nam ", Sex.MALE),
        ("Trai", Sex.MALE),
        ("Nữ", Sex.FEMALE),
        ("NỮ", Sex.FEMALE),
        ("nu", Sex.FEMALE),
        ("Nu\u0303", Sex.FEMALE),
        ("Gái", Sex.FEMALE),
        ("F", Sex.FEMALE),
        ("khác", None),
    ],
)
def test_sex_variants(text, sex):
    assert parse_sex(text) is sex


def test_personal_id_rules():
    assert (
        check_personal_id(
            "079090000001", sex=Sex.MALE, birth_date=date(1990, 1, 1), birth_year=None
        )
        is None
    )
    assert (
        check_personal_id("079190000001", sex=Sex.FEMALE, birth_date=None, birth_year=1990) is None
    )
    assert (
        check_personal_id("079305000001", sex=Sex.FEMALE, birth_date=None, birth_year=2005) is None
    )
    assert check_personal_id("079305000001", sex=None, birth_date=None, birth_year=None) is None
    assert (
        check_personal_id("079205000001", sex=Sex.FEMALE, birth_date=None, birth_year=None)[0]
        == "personal_id_sex_mismatch"
    )
    assert (
        check_personal_id("079105000001", sex=None, birth_date=None, birth_year=2005)[0]
        == "personal_id_birth_mismatch"
    )


def test_id_that_lost_its_leading_zero_says_so():
    issue = only_issue(birth(child_personal_id="77226000123"))
    assert issue.code == "invalid_personal_id"
    assert "số 0" in issue.message


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("CCCD số 079098000001, cấp ngày 01/02/2021", "079098000001"),
        ("Hộ chiếu B1234567", None),
    ],
)
def test_identity_document_described_in_words(text, kept):
    raw = marriage(husband_personal_id=text)
    [reg] = validate_rows([raw], letter_date=LETTER_DATE).registrations
    assert reg.husband.personal_id == kept


def test_same_registration_spelled_differently_is_a_duplicate_not_a_conflict():
    # The same record from the XLSX (serial date, capitals) and from a CSV typed by hand.
    rows = [
        birth(5, registration_date="46346", child_name="NGUYỄN VĂN AN"),
        replace(
            birth(
                3,
                registration_date="20/11/2026",
                child_name="Nguyễn  Văn An",
                registration_number="1",
            ),
            source=SourceRef("tay.csv", None, 3),
        ),
    ]
    checked = validate_rows(rows, letter_date=LETTER_DATE)
    assert [r.source.row for r in checked.registrations] == [5]
    [issue] = checked.issues
    assert (issue.code, issue.severity, issue.source.file) == (
        "duplicate_row",
        "duplicate",
        "tay.csv",
    )
    assert checked.duplicates == 1 and checked.rejected == 0


def test_a_death_without_the_sex_of_the_deceased_is_rejected():
    # The letter says "Gia đình ông …" or "Gia đình bà …": never "ông/bà".
    issue = only_issue(death(deceased_sex=""))
    assert (issue.code, issue.column) == ("missing_sex", "Giới tính")
    assert "Thiếu giới tính người chết" in issue.message
    assert "deceased_honorific" in issue.message
    without_column = row(
        Kind.DEATH,
        5,
        **{k: v.value for k, v in death().cells.items() if k != "deceased_sex"},
    )
    assert only_issue(without_column).code == "missing_sex"


def test_an_honorific_override_stands_in_for_the_missing_sex():
    checked = validate_rows(
        [death(deceased_sex="", deceased_honorific="Cụ")], letter_date=LETTER_DATE
    )
    assert checked.issues == []
    assert checked.registrations[0].deceased.honorific == "cụ"


def test_parents_of_a_birth_need_no_sex_column():
    checked = validate_rows([birth(father_name="Lê Văn Cha")], letter_date=LETTER_DATE)
    assert checked.issues == []
    assert checked.registrations[0].father.sex is Sex.MALE
