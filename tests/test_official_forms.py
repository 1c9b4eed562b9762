"""Exports with the official wording of the registers and forms (TT 04/2020/TT-BTP, the
older wording, the online forms' field codes) are read, every column to its field."""

from __future__ import annotations

import json
from datetime import date

import pytest
from official_forms import FORMS, write_csv, write_xlsx
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ingest import read_inputs
from cchc_letters.validate import validate_rows

LETTER_DATE = date(2026, 11, 27)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("name", sorted(FORMS))
def test_official_wording_is_read_to_every_field(tmp_path, name, fmt):
    kind, columns = FORMS[name]
    writer = write_xlsx if fmt == "xlsx" else write_csv
    path = writer(tmp_path / f"{name}.{fmt}", kind, columns)
    result = read_inputs([path])
    assert result.issues == [], [i.message for i in result.issues]
    [table] = result.files[0].tables
    assert table.kind.value == kind
    assert table.unmapped == ()
    [row] = result.rows
    for _group, heading, field, value in columns:
        assert field in row.cells, (heading, field, table.columns)
        assert row.cells[field].value == value, (heading, field)
    checked = validate_rows(result.rows, letter_date=LETTER_DATE)
    assert checked.issues == [], [(i.column, i.message) for i in checked.issues]
    assert len(checked.registrations) == 1


def test_the_death_forms_time_and_date_in_one_cell(tmp_path):
    kind, columns = FORMS["so-khai-tu-tt04"]
    rows = read_inputs([write_xlsx(tmp_path / "kt.xlsx", kind, columns)]).rows
    [death] = validate_rows(rows, letter_date=LETTER_DATE).registrations
    assert death.death_date == date(2026, 11, 20)
    assert death.death_time == "10 giờ 30 phút"


def test_the_older_death_form_with_the_date_in_words(tmp_path):
    kind, columns = FORMS["so-khai-tu-cu"]
    rows = read_inputs([write_csv(tmp_path / "kt.csv", kind, columns)]).rows
    [death] = validate_rows(rows, letter_date=LETTER_DATE).registrations
    assert death.death_date == date(2026, 11, 21)
    assert death.deceased.personal_id == "077150000444"


def test_check_shows_field_from_heading_and_unused_headings(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    kind, columns = FORMS["khai-sinh-truc-tuyen"]
    columns = [*columns, ("", "Nghề nghiệp của mẹ", "", "Giáo viên")]
    path = write_xlsx(tmp_path / "ks.xlsx", kind, columns)
    runner = CliRunner()
    text = runner.invoke(app, ["check", str(path), "--date", "2026-11-27"]).stdout
    assert "child_name          ← HoTenKS  (hiểu từ các phần của tiêu đề)" in text
    assert "mother_birth        ← NamSinhMeKS" in text
    assert "Cột bỏ qua (không dùng): Nghề nghiệp của mẹ" in text
    result = runner.invoke(app, ["check", str(path), "--date", "2026-11-27", "--json"])
    [table] = json.loads(result.stdout)["files"][0]["tables"]
    fields = {f["field"]: (f["heading"], f["how"]) for f in table["fields"]}
    assert fields["child_birth_date"] == ("NgaySinhChon", "understood")
    assert fields["registration_number"] == ("SoDangKy", "synonym")  # in columns.toml
    assert fields["child_ethnicity"] == ("DanTocKS", "understood")
    assert table["unmapped"] == ["Nghề nghiệp của mẹ"]
    plain = write_csv(
        tmp_path / "plain.csv",
        "birth",
        [
            ("", "Số", "", "1"),
            ("", "Ngày đăng ký", "", "20/11/2026"),
            ("", "Họ và tên", "", "An"),
            ("", "Ngày sinh", "", "01/11/2026"),
        ],
    )
    result = runner.invoke(app, ["check", str(plain), "--date", "2026-11-27", "--json"])
    [table] = json.loads(result.stdout)["files"][0]["tables"]
    assert {f["how"] for f in table["fields"]} == {"synonym"}
