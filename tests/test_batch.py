"""End-to-end batches through the library: read the DOCX back and check what an officer prints."""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx_helpers import convert_to_pdf, letters_text, pdf_pages, section_breaks

from cchc_letters.errors import CchcError, ProfileError
from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.resources import data_dir

LETTER_DATE = date(2026, 11, 27)
SAMPLE = data_dir() / "sample" / "registrations.csv"
HEADER = (
    "kind,registration_number,book_number,registration_date,child_name,child_sex,"
    "child_birth_date,mother_name,mother_birth,mother_residence,father_name,husband_name,"
    "wife_name,deceased_name,deceased_sex,deceased_birth,deceased_residence,death_date\n"
)


def write_csv(tmp_path: Path, *rows: str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run(tmp_path: Path, *inputs: Path, **options) -> object:
    return run_batch(
        BatchOptions(
            inputs=list(inputs), out_dir=tmp_path / "out", letter_date=LETTER_DATE, **options
        )
    )


@pytest.fixture(scope="module")
def sample_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sample")
    return run(tmp, SAMPLE)


def test_sample_batch_has_one_print_file_per_kind(sample_batch):
    assert sample_batch.letters == {Kind.BIRTH: 3, Kind.MARRIAGE: 2, Kind.DEATH: 2}
    names = [p.name for p in sample_batch.files]
    assert names == ["khai-sinh-001.docx", "ket-hon-001.docx", "khai-tu-001.docx"]
    assert all(p.is_file() for p in sample_batch.files)
    assert sample_batch.batch_dir.name == "batch-2026-11-27-001"
    assert sample_batch.rejected == 0 and sample_batch.rejects_file is None
    assert int(sample_batch.exit_code) == 0


def test_every_letter_starts_on_a_new_page(sample_batch):
    for path, count in zip(sample_batch.files, (3, 2, 2), strict=True):
        # one section per letter: each letter but the last ends with a next-page break
        assert section_breaks(path) == count
        assert len(letters_text(path)) == count
        with zipfile.ZipFile(path) as package:
            xml = package.read("word/document.xml").decode()
        assert xml.count('<w:type w:val="nextPage"/>') == count - 1


def test_birth_letters_name_the_child_and_carry_its_schedule(sample_batch):
    first, second, third = letters_text(sample_batch.files[0])
    assert "Ngãi Giao, ngày 27 tháng 11 năm 2026" in first
    assert "Kính gửi: Anh Nguyễn Văn Trưởng và chị Phạm Thị Ngọc Diệp" in first
    assert "cháu Nguyễn Phạm Gia Bảo, sinh ngày 12/11/2026" in first
    assert "đăng ký ngày 20/11/2026, số 01, quyển số 01/2026" in first
    # born 12/11/2026: 2 months old on 12/01/2027; the Td booster at 7 is given at school
    assert "2 tháng tuổi" in first and "12/01/2027" in first
    assert "7 tuổi" in first and "tại trường" in first and "12/11/2033" not in first
    assert "Trạm Y tế xã Ngãi Giao" in first
    # the letter is dated 27/11/2026: TT 13/2026 is in force (TT 52/2025 ended 30/06/2026)
    assert "Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế" in first
    assert "52/2025" not in first
    # input was all lower case; printed in title case
    assert "Trần Thị An Nhiên" in second and "trần thị an nhiên" not in second
    # a value with & prints as written
    assert "Tổ 3 & 4, ấp Bình Ba" in second
    # only the mother registered: she alone is addressed
    assert "Kính gửi: Chị Đặng Thị Thu Trang" in third
    # nothing of one child's letter leaks into another
    assert "Nguyễn Phạm Gia Bảo" not in second + third


def test_marriage_and_death_letters(sample_batch):
    marriage = letters_text(sample_batch.files[1])[0]
    assert "THƯ CHÚC MỪNG" in marriage
    assert (
        "anh Lê Văn Hùng và chị Huỳnh Thị Kim Ngân đã đăng ký kết hôn ngày 21/11/2026" in marriage
    )
    old, younger = letters_text(sample_batch.files[2])
    assert "THƯ CHIA BUỒN" in old
    assert "Kính gửi: Gia đình cụ Nguyễn Văn Tám" in old
    assert "sinh năm 1941" in old and "hưởng thọ 85 tuổi" in old
    # died at 56 (15/06/1970 – 24/11/2026): below the profile's 60, "hưởng dương"
    assert "Gia đình bà Trần Thị Mai" in younger and "hưởng dương 56 tuổi" in younger


def test_manifest_lists_every_letter_with_its_place(sample_batch):
    with sample_batch.manifest_file.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["kind"], r["print_file"], r["position"]) for r in rows] == [
        ("birth", "khai-sinh-001.docx", "1"),
        ("birth", "khai-sinh-001.docx", "2"),
        ("birth", "khai-sinh-001.docx", "3"),
        ("marriage", "ket-hon-001.docx", "1"),
        ("marriage", "ket-hon-001.docx", "2"),
        ("death", "khai-tu-001.docx", "1"),
        ("death", "khai-tu-001.docx", "2"),
    ]
    # the key is canonical (leading zeros dropped); the number as written is kept beside it
    assert rows[0]["registration_key"] == "26575:birth:2026:1/2026:1"
    assert (rows[0]["registration_number"], rows[0]["book_number"]) == ("01", "01/2026")
    assert rows[0]["addressee"] == "Anh Nguyễn Văn Trưởng và chị Phạm Thị Ngọc Diệp"
    assert rows[0]["schedule_version"] and rows[3]["schedule_version"] == ""
    assert rows[5]["source_row"] == "7"


def test_lunar_date_of_death(tmp_path):
    # Tết Bính Ngọ was 17/02/2026 in Vietnam
    path = write_csv(
        tmp_path, "khai tử,05,,20/02/2026,,,,,,,,,,NGUYỄN THỊ BA,Nữ,1930,Ấp Suối Nghệ,17/02/2026"
    )
    result = run(tmp_path, path)
    (letter,) = letters_text(result.files[0])
    assert "đã từ trần ngày 17/02/2026 (tức ngày mùng 1 tháng Giêng năm Bính Ngọ)" in letter
    assert "Cụ Nguyễn Thị Ba" in letter and "hưởng thọ 96 tuổi" in letter


def test_value_with_markup_and_template_syntax_prints_as_written(tmp_path):
    residence = 'Số 5 "Hòa Bình" <Tổ 1> & {{ 7*7 }} {% if 1 %}x{% endif %}'
    quoted = residence.replace('"', '""')
    path = write_csv(
        tmp_path,
        f'khai sinh,07,,26/11/2026,Lê Minh An,Nam,20/11/2026,Trần Thị Hoa,1995,"{quoted}",,,,,,,,',
    )
    result = run(tmp_path, path)
    (letter,) = letters_text(result.files[0])
    assert f"Địa chỉ: {residence}" in letter


def test_bad_rows_are_rejected_and_good_rows_still_printed(tmp_path):
    path = write_csv(
        tmp_path,
        "khai sinh,01,,26/11/2026,Lê Minh An,Nam,20/11/2026,Trần Thị Hoa,1995,Ấp 1,,,,,,,,",
        "khai sinh,02,,26/11/2026,,Nam,20/11/2026,Trần Thị Hoa,1995,Ấp 1,,,,,,,,",
        "khai sinh,03,,30/11/2026,Lê Minh Bình,Nam,20/11/2026,Trần Thị Hoa,1995,Ấp 1,,,,,,,,",
    )
    result = run(tmp_path, path)
    assert result.letters[Kind.BIRTH] == 1
    assert result.rejected == 2 and int(result.exit_code) == 3
    with result.rejects_file.open(encoding="utf-8-sig") as fh:
        rejects = list(csv.DictReader(fh))
    assert [r["row"] for r in rejects] == ["3", "4"]
    assert rejects[0]["source_file"] == str(path)
    assert all(r["reason"] for r in rejects)
    (letter,) = letters_text(result.files[0])
    assert "Lê Minh An" in letter and "Lê Minh Bình" not in letter


def test_reruns_get_their_own_batch_folder(tmp_path):
    path = write_csv(tmp_path, "kết hôn,01,,26/11/2026,,,,,,,,An Văn B,Lý Thị C,,,,,")
    first = run(tmp_path, path)
    second = run(tmp_path, path, **({"use_ledger": False} if _has_ledger_option() else {}))
    assert first.batch_dir != second.batch_dir
    assert second.batch_dir.name == "batch-2026-11-27-002"


def _has_ledger_option() -> bool:
    return "use_ledger" in BatchOptions.__dataclass_fields__


def test_broken_profile_is_fatal_and_writes_nothing(tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text('[commune]\nname = "X"\n', encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        run(tmp_path, SAMPLE, profile_path=profile)
    assert str(profile) in caught.value.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_no_readable_input_is_fatal(tmp_path):
    bogus = tmp_path / "broken.xlsx"
    bogus.write_bytes(b"this is not a workbook")
    with pytest.raises(CchcError):
        run(tmp_path, bogus)


def test_print_files_are_chunked(tmp_path):
    rows = [
        f"kết hôn,{n:02d},,26/11/2026,,,,,,,,Nguyễn Văn {chr(65 + n)},Trần Thị {chr(65 + n)},,,,,"
        for n in range(5)
    ]
    result = run(tmp_path, write_csv(tmp_path, *rows), per_file=2)
    assert [p.name for p in result.files] == [
        "ket-hon-001.docx",
        "ket-hon-002.docx",
        "ket-hon-003.docx",
    ]
    assert [len(letters_text(p)) for p in result.files] == [2, 2, 1]
    # input order is kept across files
    order = [
        line
        for p in result.files
        for t in letters_text(p)
        for line in t.splitlines()
        if line.startswith("Kính gửi")
    ]
    assert order == [f"Kính gửi: Anh Nguyễn Văn {c} và chị Trần Thị {c}" for c in "ABCDE"]


def test_each_letter_prints_on_exactly_one_page(tmp_path):
    """Long names and addresses included: the PDF has exactly as many pages as letters."""
    long_place = (
        "Tổ dân phố số 12, khu phố Ngãi Giao Thượng, đường Nguyễn Thị Minh Khai nối dài, "
        "xã Ngãi Giao, Thành phố Hồ Chí Minh"
    )
    path = write_csv(
        tmp_path,
        f"khai sinh,01,,26/11/2026,CÔNG TÔN NỮ HUYỀN TRANG THANH THẢO,Nữ,25/11/2026,"
        f'TÔN NỮ THỊ PHƯƠNG THẢO NGUYÊN,1990,"{long_place}",HOÀNG TRỌNG MINH KHÔI NGUYÊN,,,,,,,',
        "khai sinh,02,,26/11/2026,Lê An,Nam,20/05/2026,Trần Thị Hoa,1995,Ấp 1,,,,,,,,",
        f'kết hôn,03,,26/11/2026,,,,,,,,TÔN THẤT MINH KHÔI NGUYÊN PHƯƠNG,CÔNG TÔN NỮ HUYỀN TRANG,,,"{long_place}",',
        f'khai tử,04,,26/11/2026,,,,,,,,,,TÔN THẤT MINH KHÔI NGUYÊN PHƯƠNG,Nam,1925,"{long_place}",20/11/2026',
        "khai tử,05,,26/11/2026,,,,,,,,,,Lê Văn Tư,Nam,1960,Ấp 2,21/11/2026",
    )
    result = run(tmp_path, path)
    for print_file in result.files:
        letters = len(letters_text(print_file))
        pdf = convert_to_pdf(print_file, tmp_path)
        assert pdf_pages(pdf) == letters, print_file.name
