"""A large register is read and checked one row at a time: its rows are never all alive,
and what comes out is what reading every row first and checking them after gave."""

from __future__ import annotations

import weakref
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from registers import write_register

from cchc_letters.ingest import open_inputs, read_inputs
from cchc_letters.intake import SAMPLE_ROWS_AT_A_TIME, check_inputs, first_registration
from cchc_letters.models import Kind, RawCell, RawRow, SourceRef
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)
HEADER = ["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Nơi cư trú của mẹ"]
ROWS = 300


def births(n: int) -> list[list[str]]:
    return [
        [f"{i:03d}", "20/11/2026", f"Trẻ Số {i}", "01/11/2026", "Ấp Bình Ba, xã Ngãi Giao"]
        for i in range(1, n + 1)
    ]


def register(path, rows):
    """Write a birth register (title row, header, ``rows``) as CSV or XLSX, by suffix."""
    return write_register(path, HEADER, rows)


def most_alive(rows, each=None):
    """Take ``rows`` one at a time, dropping each; return how many were alive at most (the
    one just taken included) and how many there were."""
    refs: list[weakref.ref[RawRow]] = []
    most = 0
    for row in rows:
        refs.append(weakref.ref(row))
        if each:
            each(row)
        del row
        most = max(most, sum(1 for r in refs if r() is not None))
    return most, len(refs)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_are_read_one_at_a_time(tmp_path, suffix):
    path = register(tmp_path / f"ks{suffix}", births(ROWS))
    read, rows = open_inputs([path])
    assert read.files == []  # nothing read before the first row is asked for
    most, count = most_alive(rows)
    assert count == ROWS and most <= 2
    # what the reader found is there once the last row is taken, as read_inputs gives it
    whole = read_inputs([path])
    assert (read.files, read.issues, read.rows) == (whole.files, whole.issues, [])
    assert read.files[0].rows == ROWS


def test_a_workbooks_cells_become_texts_as_its_rows_are_taken(tmp_path, monkeypatch):
    from cchc_letters.ingest import excel

    made: list[int] = []
    row_texts = excel._row_texts

    def counted(row, values, pads):
        made.append(row)
        return row_texts(row, values, pads)

    monkeypatch.setattr(excel, "_row_texts", counted)
    path = register(tmp_path / "ks.xlsx", births(ROWS))
    _, rows = open_inputs([path])
    first = next(rows)
    assert first.value("registration_number") == "001"
    # the header is looked for in the first rows only; the others are not made yet
    assert len(made) < 50
    rest = list(rows)
    assert len(rest) == ROWS - 1 and len(made) == ROWS + 2


def test_a_sheet_away_from_a1_reads_as_openpyxl_reads_it(tmp_path):
    # calamine's rows start at the first column holding data, openpyxl's at A: the number
    # formats and error cells are found by their place from A1, so the columns on the left
    # must be put back before the values become texts.
    from cchc_letters.ingest import excel

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"] = "SỔ ĐĂNG KÝ KHAI SINH"
    for i, heading in enumerate(["Số", "Ngày đăng ký", "Họ và tên", "Ngày sinh"]):
        ws.cell(5, 3 + i, heading)
    for r, number in ((6, 1), (7, 2)):
        ws.cell(r, 3, number).number_format = "00"
        ws.cell(r, 4, "20/11/2026")
        ws.cell(r, 5, f"Lê An {r}")
        ws.cell(r, 6, "01/11/2026")
    ws["D7"] = "#N/A"  # an error cell in the data
    assert ws["D7"].data_type == "e"
    wb.save(tmp_path / "lech.xlsx")
    assert excel.read_xlsx(tmp_path / "lech.xlsx") == excel._read_xlsx_openpyxl(
        tmp_path / "lech.xlsx"
    )
    first, second = read_inputs([tmp_path / "lech.xlsx"]).rows
    assert first.value("registration_number") == "01" and first.source.row == 6
    assert second.value("registration_date") == "#N/A"


def row(line: int, number: str, name: str = "NGUYỄN VĂN AN", file: str = "so.xlsx") -> RawRow:
    values = {
        "registration_number": number,
        "registration_date": "20/11/2026",
        "child_name": name,
        "child_birth_date": "12/11/2026",
        "mother_name": "LÊ THỊ BA",
        # made anew for each row, as a reader makes each cell's text
        "mother_residence": " ".join(["Ấp", "Bình", "Ba,", "xã", "Ngãi", " Giao"]),
    }
    headings = {"registration_number": "Số đăng ký"}
    return RawRow(
        SourceRef(file, "KS", line),
        Kind.BIRTH,
        {n: RawCell(headings.get(n, n), v) for n, v in values.items()},
    )


def long_register():
    """Yield a long register, made one row at a time: an exact repeat of an early row, the
    same registration (số 5) with other content, and the same one spelt otherwise (số
    "0007" for 7), each far from the row it repeats; a bad row, and a repeat of it."""
    for line in range(1, 401):
        if line == 250:
            yield row(line, "003")  # exact repeat of line 3 (same text)
        elif line == 300:
            yield row(line, "005", name="Nguyễn Văn Bình")  # số 5 corrected
        elif line == 350:
            yield row(line, "0007", file="moi.xlsx")  # the same registration as line 7
        elif line == 20:
            yield row(line, "020", name="")  # no name: rejected
        elif line == 380:
            yield row(line, "020", name="")  # the rejected row again: a duplicate
        else:
            yield row(line, f"{line:03d}")


def test_repeats_and_conflicts_across_a_long_input_given_one_row_at_a_time():
    alive: list[int] = []
    refs: list[weakref.ref[RawRow]] = []

    def watched():
        for r in long_register():
            alive.append(sum(1 for ref in refs if ref() is not None))
            refs.append(weakref.ref(r))
            yield r

    checked = validate_rows(watched(), letter_date=LETTER_DATE)
    assert max(alive) <= 2  # validation lets each row go once it is checked
    assert checked.rows_read == 400 and checked.duplicates == 3
    assert [(i.code, i.source.row, i.column, i.value) for i in checked.issues] == [
        ("missing_field", 20, "child_name", ""),
        ("duplicate_row", 250, "Số đăng ký", "003"),
        ("duplicate_row", 350, "Số đăng ký", "0007"),
        ("duplicate_row", 380, "Số đăng ký", "020"),
        ("conflicting_registration", 5, "Số đăng ký", "005"),
        ("conflicting_registration", 300, "Số đăng ký", "005"),
    ]
    messages = [i.message for i in checked.issues]
    assert "Trùng hoàn toàn với dòng 3, trang KS của tệp so.xlsx" in messages[1]
    assert "Cùng đăng ký và cùng nội dung với dòng 7, trang KS" in messages[2]
    assert "Trùng hoàn toàn với dòng 20," in messages[3]
    assert "với dòng 300, trang KS" in messages[4] and "với dòng 5, trang KS" in messages[5]
    assert len(checked.registrations) == 400 - 3 - 1 - 2
    assert {r.number for r in checked.registrations}.isdisjoint({"005", "020"})
    assert checked.rejected == 3
    # the same as the rows given all at once, in a list
    whole = validate_rows(list(long_register()), letter_date=LETTER_DATE)
    assert (whole.issues, whole.registrations) == (checked.issues, checked.registrations)


def test_check_inputs_counts_alike_whether_or_not_it_keeps_the_rows(tmp_path):
    bad = tmp_path / "a-hong.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    no_name = tmp_path / "b-thieu-cot.csv"
    no_name.write_text(
        "SỔ ĐĂNG KÝ KHAI SINH\nSố,Ngày đăng ký,Tên bé,Ngày sinh\n01,20/11/2026,An,01/11/2026\n",
        encoding="utf-8",
    )
    good = register(tmp_path / "c-tot.csv", births(3) + [births(1)[0]])
    paths = [bad, no_name, good]
    streamed = check_inputs(paths, letter_date=LETTER_DATE)
    kept = check_inputs(paths, letter_date=LETTER_DATE, keep_rows=True)
    # the files' problems first, in the order of the files, then the rows'
    assert [(i.code, i.file or i.source.file) for i in streamed.issues] == [
        ("unreadable_file", str(bad)),
        ("missing_column", str(no_name)),
        ("missing_field", str(no_name)),
        ("duplicate_row", str(good)),
    ]
    assert streamed.issues == kept.issues
    assert streamed.read.files == kept.read.files
    counts = ("rows_read", "duplicates", "rejected", "unreadable_files")
    assert [getattr(streamed, c) for c in counts] == [5, 1, 1, 1]
    assert [getattr(kept, c) for c in counts] == [5, 1, 1, 1]
    assert streamed.registrations == kept.registrations and len(kept.registrations) == 3
    assert streamed.read.rows == [] and len(kept.read.rows) == 5


def test_a_text_repeated_in_many_rows_is_held_once():
    rows = [row(1, "001"), row(2, "002")]
    texts = [r.cells["mother_residence"].value for r in rows]
    assert texts[0] == texts[1] and texts[0] is not texts[1]
    first, second = validate_rows(rows, letter_date=LETTER_DATE).registrations
    assert first.raw["mother_residence"] is second.raw["mother_residence"]
    # the cleaned text (one space, not two) is held once too
    assert first.mother.residence == "Ấp Bình Ba, xã Ngãi Giao"
    assert first.mother.residence is second.mother.residence


def test_a_name_is_held_once_when_the_row_already_says_it_so():
    # A name in title case is its row's own text, not an equal copy; an informant who is
    # the father is the father's name, one string for both (~330 bytes a birth).
    cells = {
        "registration_number": "001",
        "registration_date": "20/11/2026",
        "child_name": "Nguyễn Văn Ấn Thử",  # names no other test gives (remembered)
        "child_birth_date": "12/11/2026",
        "mother_name": "LÊ THỊ BA THỬ",
        "mother_residence": "Ấp Bình Ba, xã Ngãi Giao",
        "father_name": "NGUYỄN VĂN BÌNH THỬ",
        "informant_name": "NGUYỄN VĂN BÌNH THỬ",
    }
    row = RawRow(SourceRef("so.xlsx", "KS", 1), Kind.BIRTH,
                 {n: RawCell(n, "".join(list(v))) for n, v in cells.items()})  # fmt: skip
    (birth,) = validate_rows([row], letter_date=LETTER_DATE).registrations
    assert birth.child.full_name is birth.raw["child_name"]
    assert birth.mother.residence is birth.raw["mother_residence"]  # clean already
    assert birth.mother.full_name == "Lê Thị Ba Thử"
    assert birth.informant_name == "Nguyễn Văn Bình Thử"
    assert birth.informant_name is birth.father.full_name


def test_the_records_a_batch_holds_per_row_have_no_dict_of_their_own():
    # A province's year holds 100,000 registrations at once, each with three Persons, a
    # SourceRef and a key: slots, not a __dict__ each (about 200 bytes a registration, and
    # ~300 more for what it remembers).
    import copy
    import pickle
    from dataclasses import replace

    from cchc_letters.models import Person, RegistrationKey

    (birth,) = validate_rows([row(1, "007")], letter_date=LETTER_DATE).registrations
    records = [
        Person("Lê Thị Ba", birth_year=1996, residence="Ấp Bình Ba"),
        SourceRef("so.xlsx", "KS", 7),
        RegistrationKey("", Kind.BIRTH, "01/2026", "007", 2026),
        birth,
    ]
    for record in records:
        assert not hasattr(record, "__dict__"), type(record).__name__
        # still frozen records: copied, pickled (to and from the writers) and replaced
        assert pickle.loads(pickle.dumps(record)) == record == copy.deepcopy(record)
        assert replace(record) == record
    assert records[2].number == "7"  # canonical, as __post_init__ makes it
    # what a registration remembers (key, content hash, identities) is in slots of its own,
    # not seen by equality or replace, and remembered for the commune asked
    from cchc_letters import identity

    assert birth.key("") is birth.key("") and birth.key("xa").commune == "xa"
    # the content hash is kept packed and written out when asked (test_content_hash.py)
    text = birth.content_hash()
    kept = birth._memo_hash
    assert birth.content_hash() == text and birth._memo_hash is kept
    assert identity.event(birth) is identity.event(birth)
    assert identity.subject(birth) is identity.subject(birth)
    assert replace(birth) == birth and pickle.loads(pickle.dumps(birth)) == birth
    assert hash(records[1]) == hash(SourceRef("so.xlsx", "KS", 7))


def test_a_registrations_raw_reads_as_the_dict_of_its_row_and_shares_its_field_names():
    import pickle

    rows = [row(1, "001"), row(2, "002")]
    first, second = validate_rows(rows, letter_date=LETTER_DATE).registrations
    as_read = {name: cell.value for name, cell in rows[0].cells.items()}
    assert first.raw == as_read and dict(first.raw) == as_read
    assert list(first.raw.items()) == list(as_read.items())  # the row's order
    assert repr(first.raw) == repr(as_read)
    assert first.raw["child_name"] == "NGUYỄN VĂN AN" and "phone" not in first.raw
    assert pickle.loads(pickle.dumps(first)) == first
    # where each field is: one mapping for the rows of a table, not a dict per row
    assert first.raw._at is second.raw._at


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_rows_cells_are_its_columns_with_the_tables_fields_shared(tmp_path, suffix):
    rows = [[f"00{i}", "20/11/2026", f"Trẻ Số {i}", "01/11/2026", "Ấp Bình Ba"] for i in (1, 2)]
    path = register(tmp_path / f"ks{suffix}", [*rows, ["003", "20/11/2026", "Trẻ Ba"]])
    _, rows = open_inputs([path], kind=Kind.BIRTH)
    first, second, short = rows
    assert dict(first.cells) == {
        "registration_number": RawCell("Số", "001"),
        "registration_date": RawCell("Ngày đăng ký", "20/11/2026"),
        "child_name": RawCell("Họ và tên", "Trẻ Số 1"),
        "child_birth_date": RawCell("Ngày sinh", "01/11/2026"),
        "mother_residence": RawCell("Nơi cư trú của mẹ", "Ấp Bình Ba"),
    }
    assert "child_name" in second.cells and "father_name" not in second.cells
    assert second.cells.get("father_name") is None and len(second.cells) == 5
    assert short.cells["mother_residence"] == RawCell("Nơi cư trú của mẹ", "")  # a short row
    assert first.cells.at is second.cells.at  # where each field is: the table's, held once


# ---- a template's sample registration: the first rows only ---------------------------------

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "registrations.csv"


@pytest.fixture
def rows_taken(monkeypatch):
    """How many rows ``first_registration`` took from the reader, and the kinds it validated."""
    import cchc_letters.ingest as ingest
    import cchc_letters.validate as validate

    taken = {"read": 0, "validated": []}
    real_open, real_validate = ingest.open_inputs, validate.validate_rows

    def counting_open(*args, **kwargs):
        read, rows = real_open(*args, **kwargs)

        def counted():
            for row in rows:
                taken["read"] += 1
                yield row

        return read, counted()

    def counting_validate(rows, **kwargs):
        rows = list(rows)
        taken["validated"].extend(row.kind for row in rows)
        return real_validate(rows, **kwargs)

    monkeypatch.setattr(ingest, "open_inputs", counting_open)
    monkeypatch.setattr(validate, "validate_rows", counting_validate)
    return taken


@pytest.mark.parametrize("kind", list(Kind))
def test_the_sample_registration_is_the_first_a_check_makes_of_its_kind(kind):
    whole = check_inputs([SAMPLE], letter_date=LETTER_DATE).registrations
    first = next(r for r in whole if r.kind is kind)
    assert first_registration([SAMPLE], kind, letter_date=LETTER_DATE) == first


def test_the_sample_registration_reads_no_further_than_it_needs(tmp_path, rows_taken):
    path = register(tmp_path / "ks.xlsx", [["x", "bad date", "", "", ""], *births(3000)])
    found = first_registration([path], Kind.BIRTH, letter_date=LETTER_DATE)
    assert found is not None and found.number == "001"  # the unusable first row passed over
    assert rows_taken["read"] == len(rows_taken["validated"]) <= SAMPLE_ROWS_AT_A_TIME


def test_rows_of_another_register_are_passed_over_unvalidated(rows_taken):
    found = first_registration([SAMPLE], Kind.DEATH, letter_date=LETTER_DATE)
    assert found is not None and found.kind is Kind.DEATH
    assert rows_taken["read"] > len(rows_taken["validated"]) > 0
    assert set(rows_taken["validated"]) == {Kind.DEATH}


def test_no_row_of_the_kind_is_no_sample(tmp_path):
    path = register(tmp_path / "ks.csv", births(5))
    assert first_registration([path], Kind.MARRIAGE, letter_date=LETTER_DATE) is None
