"""Raw rows -> checked registrations, or Issues: bad rows are data, reported together."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from cchc_letters.models import (
    Birth,
    Death,
    Issue,
    Kind,
    Marriage,
    Person,
    RawRow,
    Registration,
    Sex,
)
from cchc_letters.vietnamese import clean_text, title_case_name

REQUIRED = {
    Kind.BIRTH: ("registration_number", "registration_date", "child_name", "child_birth_date"),
    Kind.MARRIAGE: ("registration_number", "registration_date", "husband_name", "wife_name"),
    Kind.DEATH: ("registration_number", "registration_date", "deceased_name", "death_date"),
}


class RowProblem(Exception):
    """One reason a row cannot become a letter (internal: becomes an Issue)."""

    def __init__(self, code: str, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column


@dataclass
class ValidationResult:
    registrations: list[Registration] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0


def parse_date(text: str) -> date:
    """Return the date in ``text``: dd/mm/yyyy (day first, always) or yyyy-mm-dd."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00:00)?", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(text)


def parse_sex(text: str) -> Sex | None:
    key = clean_text(text).lower()
    if key in ("nam", "male", "m"):
        return Sex.MALE
    if key in ("nữ", "nu", "female", "f"):
        return Sex.FEMALE
    return None


def _person(row: RawRow, prefix: str, *, sex: Sex | None = None) -> Person | None:
    name = row.value(f"{prefix}_name")
    if not name:
        return None
    birth_text = row.value(f"{prefix}_birth") or row.value(f"{prefix}_birth_date")
    birth_date = birth_year = None
    if re.fullmatch(r"\d{4}", birth_text):
        birth_year = int(birth_text)
    elif birth_text:
        try:
            birth_date = parse_date(birth_text)
        except ValueError:
            raise RowProblem(
                "bad_date", f"Ngày sinh không hợp lệ: {birth_text!r}", f"{prefix}_birth"
            ) from None
    return Person(
        full_name=title_case_name(name),
        sex=parse_sex(row.value(f"{prefix}_sex")) or sex,
        birth_date=birth_date,
        birth_year=birth_year,
        personal_id=row.value(f"{prefix}_personal_id") or None,
        residence=clean_text(row.value(f"{prefix}_residence")) or None,
        honorific=clean_text(row.value(f"{prefix}_honorific")).lower() or None,
    )


def _date_field(row: RawRow, name: str) -> date:
    try:
        return parse_date(row.value(name))
    except ValueError:
        raise RowProblem("bad_date", f"Ngày không hợp lệ: {row.value(name)!r}", name) from None


def _registration(row: RawRow, letter_date: date) -> Registration:
    if row.kind is None:
        raise RowProblem(
            "unknown_kind", "Không xác định được loại sổ (khai sinh/kết hôn/khai tử)", "kind"
        )
    for name in REQUIRED[row.kind]:
        if not row.value(name):
            raise RowProblem("missing_field", f"Thiếu thông tin bắt buộc ({name})", name)
    reg_date = _date_field(row, "registration_date")
    if reg_date > letter_date:
        raise RowProblem(
            "registered_after_letter_date", "Ngày đăng ký sau ngày ký thư", "registration_date"
        )
    common = dict(
        kind=row.kind,
        number=row.value("registration_number"),
        book=row.value("book_number"),
        registration_date=reg_date,
        source=row.source,
        raw={name: cell.value for name, cell in row.cells.items()},
        note=clean_text(row.value("note")) or None,
    )
    builders: dict[Kind, Callable[[], Registration]] = {
        Kind.BIRTH: lambda: _birth(row, common),
        Kind.MARRIAGE: lambda: Marriage(
            **common,
            husband=_person(row, "husband", sex=Sex.MALE),
            wife=_person(row, "wife", sex=Sex.FEMALE),
        ),
        Kind.DEATH: lambda: _death(row, common),
    }
    return builders[row.kind]()


def _birth(row: RawRow, common: dict) -> Birth:
    child = _person(row, "child")
    dob = _date_field(row, "child_birth_date")
    if dob > common["registration_date"]:
        raise RowProblem(
            "birth_after_registration", "Ngày sinh sau ngày đăng ký", "child_birth_date"
        )
    return Birth(
        **common,
        child=Person(
            child.full_name, child.sex, dob, None, child.personal_id, honorific=child.honorific
        ),
        birth_place=clean_text(row.value("child_birth_place")) or None,
        mother=_person(row, "mother", sex=Sex.FEMALE),
        father=_person(row, "father", sex=Sex.MALE),
        informant_name=title_case_name(row.value("informant_name")) or None,
        informant_relation=clean_text(row.value("informant_relation")) or None,
    )


def _death(row: RawRow, common: dict) -> Death:
    deceased = _person(row, "deceased")
    death_date = _date_field(row, "death_date")
    if deceased.birth_date and death_date < deceased.birth_date:
        raise RowProblem("death_before_birth", "Ngày chết trước ngày sinh", "death_date")
    return Death(
        **common,
        deceased=deceased,
        death_date=death_date,
        death_time=clean_text(row.value("death_time")) or None,
        death_place=clean_text(row.value("death_place")) or None,
        informant_name=title_case_name(row.value("informant_name")) or None,
        informant_relation=clean_text(row.value("informant_relation")) or None,
    )


def validate_rows(rows: Sequence[RawRow], *, letter_date: date) -> ValidationResult:
    """Return the registrations built from ``rows`` and one Issue per row that cannot be used."""
    result = ValidationResult(rows_read=len(rows))
    for row in rows:
        try:
            result.registrations.append(_registration(row, letter_date))
        except RowProblem as problem:
            cell = row.cells.get(problem.column) if problem.column else None
            result.issues.append(
                Issue(
                    code=problem.code,
                    message=problem.message,
                    source=row.source,
                    column=cell.heading if cell else problem.column,
                    value=cell.value if cell else None,
                )
            )
    return result
