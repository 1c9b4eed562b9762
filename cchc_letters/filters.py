"""The Jinja filters a letter template may use, defined once (templates/README.md lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from cchc_letters import vietnamese


def _capfirst(value: Any) -> str:
    text = str(value)
    return text[:1].upper() + text[1:]


def _age(value: date, on: date) -> int | None:
    return vietnamese.age_on(value, on)


FILTERS: dict[str, Callable[..., Any]] = {
    "admin_date": vietnamese.admin_date,  # ngày 05 tháng 02 năm 2026
    "short_date": vietnamese.short_date,  # 05/02/2026
    "lunar_date": vietnamese.lunar_date,  # ngày 25 tháng Giêng năm Giáp Thìn
    "weekday": vietnamese.weekday_name,  # thứ Tư
    "title_name": vietnamese.title_case_name,  # Nguyễn Thị Ngọc Diệp
    "capfirst": _capfirst,  # cụ -> Cụ (a honorific at the start of a sentence)
    "age": _age,  # {{ deceased.birth_date|age(death.date) }}
}
