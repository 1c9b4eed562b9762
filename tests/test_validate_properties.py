"""Property tests: every date form round-trips day-first; name casing is idempotent NFC."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from cchc_letters.ingest.excel import cell_text
from cchc_letters.validate import EXCEL_EPOCH, parse_date
from cchc_letters.vietnamese import title_case_name

dates = st.dates(min_value=date(1900, 3, 1), max_value=date(2099, 12, 31))

FORMS = [
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    lambda d: f"{d.day}.{d.month}.{d.year}",
    lambda d: d.isoformat(),
    lambda d: f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}",
    lambda d: f"Ngày {d.day} tháng {d.month} năm {d.year}",
]


@given(dates, st.sampled_from(range(len(FORMS))))
def test_every_written_form_round_trips(value, form):
    assert parse_date(FORMS[form](value)) == value


@given(dates)
def test_day_first_even_when_both_could_be_a_month(value):
    # 03/04 is the 3rd of April: swapping day and month gives another date, never this one
    text = f"{value.day:02d}/{value.month:02d}/{value.year}"
    assert (parse_date(text).day, parse_date(text).month) == (value.day, value.month)


@given(st.dates(min_value=date(1927, 5, 19), max_value=date(2173, 10, 13)))
def test_excel_serial_numbers_round_trip(value):
    serial = (value - EXCEL_EPOCH).days
    assert parse_date(str(serial)) == value
    assert parse_date(f"{serial}.0") == value


@given(dates)
def test_excel_date_cells_read_back(value):
    assert parse_date(cell_text(value)) == value


VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
syllables = st.text(
    st.sampled_from(VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper()), min_size=1, max_size=7
)
names = st.lists(syllables, min_size=1, max_size=5).flatmap(
    lambda parts: st.sampled_from([" ", "  ", "\t", " \u00a0"]).map(lambda sep: sep.join(parts))
)


@given(names, st.sampled_from(["NFC", "NFD"]))
def test_name_casing_is_idempotent_nfc_and_keeps_letters(name, form):
    cased = title_case_name(unicodedata.normalize(form, name))
    assert unicodedata.is_normalized("NFC", cased)
    assert title_case_name(cased) == cased
    assert cased.lower() == " ".join(unicodedata.normalize("NFC", name).lower().split())
    assert all(word[0].isupper() and word[1:] == word[1:].lower() for word in cased.split(" "))
