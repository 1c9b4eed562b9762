"""The Jinja filters a letter template may use, each defined once with its documentation.

Only these filters exist in the template environment (render.jinja_environment); Jinja's
other built-in filters, ``safe`` above all, are left out so a shared template cannot turn
autoescaping off. templates/README.md lists them (generated from ``FILTER_SPECS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cchc_letters import vietnamese


@dataclass(frozen=True)
class FilterSpec:
    """One filter: its name in templates, the function, an example use and what it does."""

    name: str
    function: Callable[..., Any]
    usage: str  # a complete placeholder using the filter on a sample variable
    vi: str
    en: str


def _date_argument(filter_name: str, value: Any) -> date:
    """Return ``value`` when it is a date; a template error naming the filter otherwise."""
    if isinstance(value, date):
        return value
    from jinja2.exceptions import TemplateRuntimeError  # here: ~20 date filters a letter

    shown = "giá trị trống (empty)" if value in (None, "") else repr(value)
    raise TemplateRuntimeError(
        f"bộ lọc {filter_name} cần một ngày, nhận được {shown}; "
        f"dùng {{% if ... %}} khi ngày có thể trống"
    )


def admin_date(value: Any) -> str:
    return vietnamese.admin_date(_date_argument("admin_date", value))


# A schedule table prints the same few hundred dates letter after letter (~15 a letter):
# each plain ``date`` is formatted once per process.
_SHORT_DATES: dict[date, str] = {}
_SHORT_DATES_KEPT = 4096


def short_date(value: Any) -> str:
    if type(value) is date:  # not a datetime: its own hash and equality
        text = _SHORT_DATES.get(value)
        if text is None:
            if len(_SHORT_DATES) >= _SHORT_DATES_KEPT:
                _SHORT_DATES.clear()
            text = _SHORT_DATES[value] = vietnamese.short_date(value)
        return text
    return vietnamese.short_date(_date_argument("short_date", value))


def lunar_date(value: Any) -> str:
    return vietnamese.lunar_date(_date_argument("lunar_date", value))


def lunar_year(value: Any) -> str:
    return vietnamese.lunar_year_name(_date_argument("lunar_year", value))


def weekday(value: Any) -> str:
    return vietnamese.weekday_name(_date_argument("weekday", value))


def title_name(value: Any) -> str:
    return vietnamese.title_case_name(str(value))


def capfirst(value: Any) -> str:
    text = str(value)
    return text[:1].upper() + text[1:]


def upper(value: Any) -> str:
    return str(value).upper()


def lower(value: Any) -> str:
    return str(value).lower()


def age(value: Any, on: Any) -> int | None:
    """Return completed years from the date ``value`` to the date ``on``."""
    return vietnamese.age_on(_date_argument("age", value), _date_argument("age", on))


def default(value: Any, fallback: Any = "") -> Any:
    """Return ``fallback`` when ``value`` is empty (None or ''), else ``value``.

    Unlike Jinja's own ``default`` it does not hide a misspelled variable: that stays an error.
    """
    return fallback if value is None or value == "" else value


def join(value: Any, separator: str = ", ") -> str:
    return separator.join(str(item) for item in value)


FILTER_SPECS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "admin_date",
        admin_date,
        "{{ letter_date|admin_date }}",
        "Ngày kiểu văn bản hành chính (ngày, tháng 1–2 có số 0 đứng trước)",
        "Administrative date (Decree 30): leading zero on days < 10 and months 1–2",
    ),
    FilterSpec(
        "short_date",
        short_date,
        "{{ registration.date|short_date }}",
        "Ngày viết gọn dd/mm/yyyy",
        "Short date dd/mm/yyyy",
    ),
    FilterSpec(
        "lunar_date",
        lunar_date,
        "{{ letter_date|lunar_date }}",
        "Ngày âm lịch (giờ Việt Nam UTC+7) với năm can chi; tháng Giêng, tháng Chạp, "
        "tháng nhuận (ví dụ 01/08/2025 là ngày mùng 8 tháng 6 nhuận năm Ất Tỵ)",
        "Vietnamese lunar date (UTC+7) with the can-chi year; months Giêng/Chạp, leap months "
        "as 'tháng 6 nhuận'",
    ),
    FilterSpec(
        "lunar_year",
        lunar_year,
        "{{ letter_date|lunar_year }}",
        "Tên can chi của năm âm lịch chứa ngày đó",
        "Can-chi name of the lunar year containing the date",
    ),
    FilterSpec(
        "weekday",
        weekday,
        "{{ letter_date|weekday }}",
        "Thứ trong tuần",
        "Vietnamese weekday name",
    ),
    FilterSpec(
        "title_name",
        title_name,
        "{{ 'NGUYỄN thị ngọc DIỆP'|title_name }}",
        "Viết hoa chữ cái đầu mỗi tiếng của họ tên (tên đã được chuẩn hóa sẵn)",
        "Vietnamese title case for a name (names are already title-cased in the data)",
    ),
    FilterSpec(
        "capfirst",
        capfirst,
        "{{ deceased.honorific|capfirst }}",
        "Viết hoa chữ cái đầu (danh xưng ở đầu câu)",
        "Capitalise the first letter (an honorific at the start of a sentence)",
    ),
    FilterSpec(
        "upper",
        upper,
        "{{ commune.title|upper }}",
        "Viết hoa toàn bộ",
        "Upper case",
    ),
    FilterSpec(
        "lower",
        lower,
        "{{ addressee|lower }}",
        "Viết thường toàn bộ",
        "Lower case",
    ),
    FilterSpec(
        "age",
        age,
        "{{ deceased.birth_date|age(death.date) }}",
        "Số tuổi tròn từ ngày sinh đến ngày trong ngoặc",
        "Completed years of age from the date to the date in brackets",
    ),
    FilterSpec(
        "default",
        default,
        "{{ note|default('không có') }}",
        "Giá trị thay thế khi dữ liệu trống (tên biến viết sai vẫn báo lỗi)",
        "Fallback text when a value is empty (a misspelled variable is still an error)",
    ),
    FilterSpec(
        "join",
        join,
        "{{ header.agency_lines|join(' - ') }}",
        "Nối các dòng của một danh sách",
        "Join the items of a list",
    ),
)

FILTERS: dict[str, Callable[..., Any]] = {spec.name: spec.function for spec in FILTER_SPECS}
