"""The kind registry: a fourth letter kind defined here, in the test, prints letters through
the whole pipeline without a line of the package changed; an unknown kind is an error."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx_helpers import letters_text
from typer.testing import CliRunner

from cchc_letters import kinds
from cchc_letters.cli import app
from cchc_letters.enrich import letter_context, person_context
from cchc_letters.ingest import kind_from_text, read_inputs
from cchc_letters.kinds import TEXT, Column, LetterKind, Variable
from cchc_letters.models import Kind, Person, RawCell, RawRow, Registration, Sex, SourceRef
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.profile import load_profile
from cchc_letters.validate import RowProblem, validate_rows
from cchc_letters.variables import sample_context

LETTER_DATE = date(2026, 11, 27)
runner = CliRunner()


@dataclass(frozen=True, kw_only=True)
class Adoption(Registration):
    """A registration of the adoption register (sổ đăng ký nuôi con nuôi)."""

    child: Person
    adopter: Person


def build(read, common):
    child = read.person("adoptee", required=True)
    adopter = read.person("adopter", required=True)
    if adopter and child and (adopter.birth_year or 0) > (child.birth_year or 9999):
        read.note(
            RowProblem("adopter_younger", "Người nhận nuôi trẻ hơn con nuôi.", "adopter_birth")
        )
    if read.problems:
        return None
    return Adoption(**common, child=child, adopter=adopter)


def context(reg, profile, letter_date, schedule):
    adopter = person_context(reg.adopter, role="adult", on=letter_date, profile=profile)
    child = person_context(reg.child, role="child", on=letter_date, profile=profile)
    return {
        "adopter": {"name": adopter["name"], "honorific": adopter["honorific"]},
        "adoptee": {"name": child["name"]},
        "addressee": f"{adopter['honorific']} {adopter['name']}".strip(),
        "address": adopter["residence"],
    }


def samples(letter_date, long):
    registered = letter_date - timedelta(days=3)
    name = "Tôn Nữ Hoàng Phương Thảo Nguyên" if long else "Lê Thị Hoa"
    return [
        Adoption(
            kind=Kind("adoption"),
            number="02",
            book="01/2026",
            registration_date=registered,
            source=SourceRef("(mẫu)", None, 1),
            child=Person(name, birth_year=2020),
            adopter=Person("Trần Văn Bình", Sex.MALE, birth_year=1970),
        )
    ]


def adoption_template(path: Path) -> Path:
    """Write a small letter template of the adoption kind with python-docx."""
    from docx import Document

    document = Document()
    document.add_paragraph("{{ commune.committee }}")
    document.add_paragraph("Kính gửi: {{ addressee }}")
    document.add_paragraph(
        "Chúc mừng {{ adopter.honorific }} {{ adopter.name }} đã nhận cháu {{ adoptee.name }} "
        "làm con nuôi ngày {{ registration.date|short_date }}."
    )
    document.save(str(path))
    return path


@pytest.fixture
def adoption(tmp_path):
    """Register the adoption kind for one test, and only for it."""
    kind = Kind.define("adoption")
    entry = LetterKind(
        kind=kind,
        vietnamese="nuôi con nuôi",
        words=("adoption", "nuoiconnuoi", "ncn"),
        title_words=("nuoiconnuoi",),
        required=("registration_number", "registration_date", "adoptee_name", "adopter_name"),
        print_stem="nuoi-con-nuoi",
        heading="Thư chúc mừng nuôi con nuôi",
        build=build,
        context=context,
        samples=samples,
        variables=(
            Variable("adopter.name", (kind,), TEXT, "Người nhận nuôi", "Adopter"),
            Variable("adopter.honorific", (kind,), TEXT, "Danh xưng", "Honorific"),
            Variable("adoptee.name", (kind,), TEXT, "Con nuôi", "Adoptee"),
        ),
        columns=(
            Column("adoptee_name", "họ tên con nuôi", ("Họ tên con nuôi",)),
            Column("adoptee_birth", "năm sinh con nuôi", ("Năm sinh con nuôi",)),
            Column("adopter_name", "họ tên người nhận nuôi", ("Họ tên người nhận nuôi",)),
            Column("adopter_birth", "năm sinh người nhận nuôi", ("Năm sinh người nhận nuôi",)),
            Column("adopter_sex", "giới tính người nhận nuôi", ("Giới tính người nhận nuôi",)),
        ),
        template=adoption_template(tmp_path / "adoption.docx"),
    )
    kinds.register(entry)
    try:
        yield entry
    finally:
        kinds.unregister(entry.kind)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


ADOPTIONS = [
    {
        "Loại sổ": "Nuôi con nuôi",
        "Số đăng ký": "01",
        "Quyển số": "01/2026",
        "Ngày đăng ký": "20/11/2026",
        "Họ tên con nuôi": "nguyễn thị an",
        "Năm sinh con nuôi": "2019",
        "Họ tên người nhận nuôi": "PHẠM VĂN ĐỨC",
        "Năm sinh người nhận nuôi": "1975",
        "Giới tính người nhận nuôi": "Nam",
    },
    {
        "Loại sổ": "NCN",
        "Số đăng ký": "02",
        "Quyển số": "01/2026",
        "Ngày đăng ký": "21/11/2026",
        "Họ tên con nuôi": "Lê Văn Bé",
        "Năm sinh con nuôi": "2021",
        "Họ tên người nhận nuôi": "",  # required: rejected, naming the field
        "Năm sinh người nhận nuôi": "1990",
        "Giới tính người nhận nuôi": "Nữ",
    },
]


def test_a_kind_defined_in_a_test_prints_letters_through_the_whole_pipeline(tmp_path, adoption):
    export = write_csv(tmp_path / "nuoi-con-nuoi.csv", ADOPTIONS)
    result = run_batch(
        BatchOptions(inputs=[export], out_dir=tmp_path / "out", letter_date=LETTER_DATE)
    )

    assert result.letters[adoption.kind] == 1 and result.rejected == 1
    [print_file] = result.files
    assert print_file.name == "nuoi-con-nuoi-001.docx"
    [letter] = letters_text(print_file)
    assert "Kính gửi: ông Phạm Văn Đức" in letter  # title case, honorific by age and sex
    assert "đã nhận cháu Nguyễn Thị An làm con nuôi ngày 20/11/2026" in letter
    [printed] = result.printed
    assert printed.key.endswith(":adoption:2026:1/2026:1") and printed.schedule_version == ""
    [rejected] = [i for i in result.issues if i.severity == "error"]
    assert rejected.code == "missing_field" and "họ tên người nhận nuôi" in rejected.message
    assert rejected.source.row == 3


def test_the_command_line_reports_the_new_kind_and_the_ledger_keeps_it(tmp_path, adoption):
    export = write_csv(tmp_path / "nuoi-con-nuoi.csv", ADOPTIONS[:1])
    args = ["generate", str(export), "--out", str(tmp_path / "out"), "--date", "2026-11-27"]
    first = runner.invoke(app, [*args, "--json", "--kind", "nuôi con nuôi"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["letters"] == {
        "birth": 0,
        "marriage": 0,
        "death": 0,
        "adoption": 1,
    }
    again = runner.invoke(app, [*args, "--json"])
    assert json.loads(again.stdout)["skipped_already_printed"] == 1


def test_the_new_kind_has_its_words_template_check_and_samples(tmp_path, adoption):
    assert kind_from_text("Sổ đăng ký nuôi con nuôi") is adoption.kind
    assert kind_from_text("ncn") is adoption.kind
    assert sample_context(adoption.kind)["addressee"] == "ông Trần Văn Bình"
    check = runner.invoke(app, ["templates", "check", "--no-layout", "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["templates"]["adoption"] == str(adoption.template)


def test_a_row_of_a_kind_nobody_registered_is_rejected_never_taken_for_a_death(tmp_path):
    stray = Kind.define("stray")  # an id with no registry entry
    try:
        cells = {
            "registration_number": RawCell("Số", "1"),
            "registration_date": RawCell("Ngày đăng ký", "20/11/2026"),
            "deceased_name": RawCell("Họ tên", "Nguyễn Văn A"),
            "deceased_sex": RawCell("Giới tính", "Nam"),
            "death_date": RawCell("Ngày chết", "19/11/2026"),
        }
        row = RawRow(SourceRef("x.csv", None, 2), stray, cells)
        checked = validate_rows([row], letter_date=LETTER_DATE)
        assert not checked.registrations
        [issue] = checked.issues
        assert issue.code == "unknown_kind" and "khai tử" in issue.message
        with pytest.raises(LookupError, match="stray"):
            kinds.entry(stray)
    finally:
        Kind.forget("stray")
    with pytest.raises(ValueError, match="not a letter kind"):
        Kind("stray")


def test_an_unregistered_kind_gets_no_context_and_its_rows_are_not_read(tmp_path):
    export = write_csv(tmp_path / "nuoi-con-nuoi.csv", ADOPTIONS[:1])
    read = read_inputs([export], kind=None, mapping=None, encoding=None, delimiter=None)
    assert [row.kind for row in read.rows] == [None]  # not a register the tool knows
    checked = validate_rows(read.rows, letter_date=LETTER_DATE)
    assert not checked.registrations and [i.code for i in checked.issues] == ["unknown_kind"]
    birth = sample_context(Kind.BIRTH)
    assert birth["child"]["name"]  # the built-in kinds are untouched by the test's kind
    with pytest.raises(LookupError):
        letter_context(
            Registration(
                kind=Kind.define("stray"),
                number="1",
                book="",
                registration_date=LETTER_DATE,
                source=SourceRef("x", None, 1),
            ),
            load_profile(None),
            LETTER_DATE,
        )
    Kind.forget("stray")


def test_the_kind_options_help_lists_the_kinds_of_data_kinds_toml(monkeypatch):
    import importlib

    import cchc_letters.cli.common as common

    data = kinds._data()
    adoption = {**data["birth"], "vietnamese": "nuôi con nuôi"}
    monkeypatch.setattr(kinds, "_data", lambda: {**data, "adoption": adoption})
    try:
        help_text = importlib.reload(common).KindOption.__metadata__[0].help
    finally:
        monkeypatch.undo()
        importlib.reload(common)
    assert "birth, marriage, death or adoption" in help_text
    assert "(khai sinh / kết hôn / khai tử / nuôi con nuôi)" in help_text
