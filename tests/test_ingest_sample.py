"""The shipped sample (canonical headings, a kind column) still reads and validates cleanly."""

from datetime import date

from cchc_letters.ingest import read_inputs
from cchc_letters.models import Kind
from cchc_letters.resources import data_dir
from cchc_letters.validate import validate_rows


def test_sample_reads_every_row_with_its_kind():
    result = read_inputs([data_dir() / "sample" / "registrations.csv"])
    assert result.issues == []
    assert [r.source.row for r in result.rows] == [2, 3, 4, 5, 6, 7, 8]
    assert [r.kind for r in result.rows] == [Kind.BIRTH] * 3 + [Kind.MARRIAGE] * 2 + [
        Kind.DEATH
    ] * 2
    assert result.rows[0].cells["registration_number"].value == "01"


def test_sample_validates_without_issues():
    rows = read_inputs([data_dir() / "sample" / "registrations.csv"]).rows
    checked = validate_rows(rows, letter_date=date(2026, 11, 27))
    assert checked.issues == []
    assert len(checked.registrations) == 7
    assert checked.registrations[0].child.full_name == "Nguyễn Phạm Gia Bảo"
