"""The delivery sheet of a batch (giao-thu.docx / giao-thu.csv): letters by hamlet."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx_helpers import convert_to_pdf, pdf_pages
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cchc_letters.delivery import CSV_NAME, DOCX_NAME
from cchc_letters.errors import ProfileError
from cchc_letters.hamlets import OTHER, HamletIndex, fold
from cchc_letters.ledger import Ledger
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.profile import Hamlet, load_profile

LETTER_DATE = date(2026, 11, 27)
HEADER = (
    "kind,registration_number,book_number,registration_date,child_name,child_sex,"
    "child_birth_date,mother_name,mother_residence,husband_name,husband_residence,wife_name,"
    "deceased_name,deceased_sex,deceased_birth,deceased_residence,death_date\n"
)
ROWS = (
    # birth in ấp Suối Nghệ, written in capitals
    "khai sinh,01,01/2026,20/11/2026,Nguyễn Gia Bảo,Nam,12/11/2026,Phạm Thị Diệp,"
    '"ẤP SUỐI NGHỆ, xã Ngãi Giao",,,,,,,,',
    # birth whose address only names the old commune: Khác
    "khai sinh,02,01/2026,21/11/2026,Trần An Nhiên,Nữ,01/11/2026,Lê Thị Hồng,"
    '"xã Suối Nghệ, huyện Châu Đức, tỉnh Bà Rịa - Vũng Tàu",,,,,,,,',
    # marriage in ấp Bình Ba (a tổ before the ấp)
    "kết hôn,01,01/2026,22/11/2026,,,,,,Lê Văn Hùng,"
    '"Tổ 3 & 4, ấp Bình Ba, xã Ngãi Giao",Huỳnh Thị Ngân,,,,,',
    # death in ấp Suối Nghệ without accents
    "khai tử,01,01/2026,23/11/2026,,,,,,,,,Nguyễn Văn Tám,Nam,1940,"
    '"Ap Suoi Nghe, xa Ngai Giao",20/11/2026',
)


def write_input(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "input.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run(tmp_path: Path, *rows: str, **options):
    return run_batch(
        BatchOptions(
            inputs=[write_input(tmp_path, *rows)],
            out_dir=tmp_path / "out",
            letter_date=LETTER_DATE,
            **options,
        )
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# ---- placing an address in a hamlet --------------------------------------------------


@pytest.fixture(scope="module")
def index():
    return HamletIndex(load_profile().hamlets)


@pytest.mark.parametrize(
    ("address", "hamlet"),
    [
        ("Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh", "Ấp Suối Nghệ"),
        ("ẤP SUỐI NGHỆ BẮC, xã Suối Nghệ, huyện Châu Đức", "Ấp Suối Nghệ Bắc"),
        ("Ap Suoi Nghe, xa Ngai Giao", "Ấp Suối Nghệ"),
        ("thôn Suối Nghệ", "Ấp Suối Nghệ"),  # a variant from the profile
        ("Tổ 3 & 4, ấp Bình Ba, xã Ngãi Giao", "Ấp Bình Ba"),
        ("Tổ 3\nấp Suối Nghệ", "Ấp Suối Nghệ"),
        ("KP Ngãi Giao, xã Ngãi Giao", "Khu phố Ngãi Giao"),
        ("khu phố Ngãi Giao Thượng, xã Ngãi Giao", "Khu phố Ngãi Giao Thượng"),
        ("xã Suối Nghệ, huyện Châu Đức", OTHER),  # the old commune is not the hamlet
        ("xã Bình Ba, huyện Châu Đức", OTHER),
        ("Ấp 1, xã Bình Ba", OTHER),  # not in the list
        ("", OTHER),
        (None, OTHER),
    ],
)
def test_an_address_is_placed_in_its_hamlet(index, address, hamlet):
    assert index.group(address) == hamlet


def test_a_numbered_hamlet_needs_its_own_word():
    index = HamletIndex([Hamlet("Ấp 1"), Hamlet("Khu phố 1")])
    assert index.group("Ấp 1, xã Ngãi Giao") == "Ấp 1"
    assert index.group("khu pho 1, xa Ngai Giao") == "Khu phố 1"
    assert index.group("Tổ 1, xã Ngãi Giao") == OTHER  # "1" alone names neither


def test_a_core_two_hamlets_share_places_neither():
    index = HamletIndex([Hamlet("Ấp Bình Ba"), Hamlet("Khu phố Bình Ba")])
    assert index.group("thôn Bình Ba") == OTHER
    assert index.group("khu phố Bình Ba") == "Khu phố Bình Ba"


def _every_term(index: HamletIndex, address: str | None) -> str:
    """The placing rule spelled out: each part in turn (higher units skipped), each term
    of the index longest first (the profile's order among equally long ones)."""
    import re

    from cchc_letters import hamlets

    terms = sorted(index._rank.items(), key=lambda item: item[1][0])
    for part in re.split(r"[,;\n]", address or ""):
        folded = fold(part)
        if not folded or folded.startswith(hamlets._UNIT_WORDS):
            continue
        for term, (_, name) in terms:
            if f" {term} " in f" {folded} ":
                return name
    return OTHER


_WORDS = ["ấp", "Ap", "khu phố", "KP", "thôn", "tổ", "xã", "Suối", "Nghệ", "Bắc", "Bình", "Ba",
          "Ngãi", "Giao", "Thượng", "Vĩnh", "1", "2", "số", "đường", "Khu phố Ngãi Giao Thượng",
          "ẤP SUỐI NGHỆ BẮC", "Đồng Tâm", "Hải-Phong"]  # fmt: skip


@given(
    st.lists(
        st.lists(st.sampled_from(_WORDS), min_size=0, max_size=6).map(" ".join),
        min_size=0,
        max_size=4,
    ).map(", ".join)
)
def test_the_index_places_as_trying_every_term_would(address):
    index = HamletIndex(load_profile().hamlets)
    assert index.group(address) == _every_term(index, address)
    assert index.group(address) == _every_term(index, address)  # and again, remembered


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("ẤP  Đồng-Tâm,") == fold("ap dong tam") == "ap dong tam"


def _profile_with(tmp_path: Path, hamlets: str) -> Path:
    text = load_profile().path.read_text(encoding="utf-8")
    text = text[: text.index("[[hamlets]]")] + hamlets + "\n" + text[text.index("[letters]") :]
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_name_given_to_two_hamlets_is_a_profile_error(tmp_path):
    path = _profile_with(
        tmp_path,
        '[[hamlets]]\nname = "Ấp Bình Ba"\n[[hamlets]]\nname = "Ấp Bình Trung"\n'
        'variants = ["ap binh ba"]\n',
    )
    with pytest.raises(ProfileError, match="ap binh ba"):
        load_profile(path)


def test_variants_must_be_a_list_of_text(tmp_path):
    path = _profile_with(tmp_path, '[[hamlets]]\nname = "Ấp Bình Ba"\nvariants = "Bình Ba"\n')
    with pytest.raises(ProfileError, match="variants"):
        load_profile(path)


# ---- the sheet of a batch ------------------------------------------------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("delivery")
    return run(tmp, *ROWS)


def test_the_sheet_lists_exactly_the_letters_of_the_batch(batch):
    rows = read_csv(batch.batch_dir / CSV_NAME)
    manifest = read_csv(batch.manifest_file)
    assert sorted(r["registration_key"] for r in rows) == sorted(
        m["registration_key"] for m in manifest
    )
    assert [r["number"] for r in rows] == [str(n) for n in range(1, len(manifest) + 1)]
    # print file and position are those of the manifest and of the ledger
    where = {m["registration_key"]: (m["print_file"], m["position"]) for m in manifest}
    with Ledger.open(batch.batch_dir.parent / "ledger.sqlite3") as ledger:
        recorded = {e.key: (e.print_file, str(e.position)) for e in ledger.entries()}
    for row in rows:
        assert (row["print_file"], row["position"]) == where[row["registration_key"]]
        assert recorded[row["registration_key"]] == where[row["registration_key"]]
        assert row["recipient_signature"] == ""


def test_letters_are_grouped_by_hamlet_in_the_profile_order_unknown_last(batch):
    rows = read_csv(batch.batch_dir / CSV_NAME)
    assert [(r["hamlet"], r["kind"], r["about"]) for r in rows] == [
        ("Ấp Suối Nghệ", "Khai sinh", "Nguyễn Gia Bảo"),
        ("Ấp Suối Nghệ", "Khai tử", "Nguyễn Văn Tám"),
        ("Ấp Bình Ba", "Kết hôn", "Lê Văn Hùng và Huỳnh Thị Ngân"),
        (OTHER, "Khai sinh", "Trần An Nhiên"),
    ]
    assert batch.delivery.groups == {"Ấp Suối Nghệ": 2, "Ấp Bình Ba": 1, OTHER: 1}
    assert [r.key for r in batch.delivery.unplaced] == ["26575:birth:2026:1/2026:2"]
    by_key = {r["registration_key"]: r for r in rows}
    birth = by_key["26575:birth:2026:1/2026:1"]
    assert birth["addressee"] == "Chị Phạm Thị Diệp"
    assert birth["address"] == "ẤP SUỐI NGHỆ, xã Ngãi Giao"  # as the letter prints it
    assert (birth["registration_number"], birth["book_number"]) == ("01", "01/2026")


def test_the_sheets_addresses_are_the_letters_addresses(tmp_path):
    # delivery.letter_addresses looks each kind's entry up once: the same addresses as
    # enrich.letter_address, letter by letter, whoever of the people has a residence
    import dataclasses

    from cchc_letters.delivery import letter_addresses
    from cchc_letters.enrich import letter_address
    from cchc_letters.pipeline import prepare

    registrations = prepare(
        BatchOptions(inputs=[write_input(tmp_path, *ROWS)], out_dir=tmp_path / "out",
                     letter_date=LETTER_DATE)
    ).registrations  # fmt: skip
    variants = list(registrations)
    for registration in registrations:
        for name in ("mother", "father", "husband", "wife", "deceased"):
            person = getattr(registration, name, None)
            if person is not None:  # that person without a residence, then with another
                for residence in (None, "", f"Tổ 9, {name}"):
                    moved = dataclasses.replace(person, residence=residence)
                    variants.append(dataclasses.replace(registration, **{name: moved}))
    expected = [letter_address(registration) for registration in variants]
    assert len(set(expected)) > 4
    assert letter_addresses(variants) == expected


def _document_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        return package.read("word/document.xml").decode("utf-8")


def test_the_docx_is_a4_landscape_with_the_header_and_a_section_per_hamlet(batch):
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    doc = Document(str(batch.delivery.docx))
    assert len(doc.sections) == 3  # Ấp Suối Nghệ, Ấp Bình Ba, Khác
    for section in doc.sections:
        assert section.orientation == WD_ORIENT.LANDSCAPE
        assert (round(section.page_width / Cm(1), 1), round(section.page_height / Cm(1), 1)) == (
            29.7,
            21.0,
        )
    text = "\n".join(
        "".join(t.text or "" for t in p.iter(f"{_W}t")) for p in doc.element.body.iter(f"{_W}p")
    )
    assert text.count("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") == 3
    assert text.count("Độc lập - Tự do - Hạnh phúc") == 3
    assert text.count("Ngãi Giao, ngày 27 tháng 11 năm 2026") == 3
    assert text.count("Người nhận ký") == 3
    # each table lists its hamlet's letters: the Khác page holds the unplaced letter
    tables = doc.tables[1::2]  # the header block is a table too
    cells = [[row.cells[2].text for row in table.rows[1:]] for table in tables]
    assert cells == [["Nguyễn Gia Bảo", "Nguyễn Văn Tám"], ["Lê Văn Hùng và Huỳnh Thị Ngân"],
                     ["Trần An Nhiên"]]  # fmt: skip
    assert "<w:tblHeader/>" in _document_xml(batch.delivery.docx)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_the_docx_passes_ooxml_validation(batch):
    from openxml_audit import OpenXmlValidator

    result = OpenXmlValidator().validate(batch.delivery.docx)
    assert result.error_count == 0, [e.description for e in result.errors]


def test_each_hamlet_prints_on_its_own_page(batch, tmp_path):
    pdf = convert_to_pdf(batch.delivery.docx, tmp_path)
    from pypdf import PdfReader

    pages = [" ".join(page.extract_text().split()) for page in PdfReader(str(pdf)).pages]
    assert pdf_pages(pdf) == 3
    assert "Nguyễn Gia Bảo" in pages[0] and "Nguyễn Văn Tám" in pages[0]
    assert "Lê Văn Hùng" in pages[1] and "Nguyễn Gia Bảo" not in pages[1]
    assert "Khác" in pages[2] and "Trần An Nhiên" in pages[2]


def test_a_rerun_with_nothing_new_writes_no_sheet(tmp_path):
    first = run(tmp_path, *ROWS)
    assert (first.batch_dir / DOCX_NAME).is_file()
    again = run(tmp_path, *ROWS)
    assert again.batch_dir is None and again.delivery is None
    # a new registration: the next sheet lists only it
    # (another child: the same child under another number would be a corrected record)
    new = ROWS[0].replace("01,01/2026,20/11", "05,01/2026,20/11")
    third = run(tmp_path, *ROWS, new.replace("Nguyễn Gia Bảo", "Nguyễn Gia Huy"))
    assert [r["registration_key"] for r in read_csv(third.batch_dir / CSV_NAME)] == [
        "26575:birth:2026:1/2026:5"
    ]


def test_no_delivery_sheet_skips_it(tmp_path):
    result = run(tmp_path, *ROWS, delivery_sheet=False)
    assert result.delivery is None
    assert not (result.batch_dir / DOCX_NAME).exists()
    assert not (result.batch_dir / CSV_NAME).exists()
    assert result.to_json()["delivery_sheet"] is None


def test_cli_reports_the_sheet_and_the_unplaced_letters(tmp_path):
    from cchc_letters.cli import app

    source = write_input(tmp_path, *ROWS)
    runner = CliRunner()
    args = ["generate", str(source), "--out", str(tmp_path / "out"), "--date", "2026-11-27"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Danh sách giao thư: {tmp_path / 'out' / 'batch-2026-11-27-001' / DOCX_NAME}" in (
        result.stdout
    )
    assert "1 thư có địa chỉ không khớp" in result.stderr
    assert "xã Suối Nghệ, huyện Châu Đức" in result.stderr

    other = tmp_path / "other"
    result = runner.invoke(app, [*args[:3], str(other), *args[4:], "--json", "--no-delivery-sheet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["delivery_sheet"] is None
    assert not (other / "batch-2026-11-27-001" / DOCX_NAME).exists()
