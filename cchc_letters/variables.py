"""Every variable a letter template may use, with the sample data that preview and check use.

This is the one place that says what a template can name: ``VARIABLES`` (declared paths such
as ``child.name``, per letter kind) and the filters of ``filters.FILTER_SPECS``. The example
values are not written twice: they come from rendering the sample registrations below through
``enrich.letter_context``, so the README tables (``markdown_reference()``), ``templates check``
and ``preview`` all see the same data. A test keeps enrich, this list and the README in step.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cchc_letters.filters import FILTER_SPECS, FILTERS
from cchc_letters.kinds import (
    DATE,
    NUMBER,
    ROWS,
    TEXT,
    TEXT_LIST,
    YES_NO,
    Variable,
    entries,
    entry,
)
from cchc_letters.models import Kind, Registration, SourceRef

ALL: tuple[Kind, ...] = ()  # Variable.kinds of the variables every letter has
SAMPLE_DATE = date(2026, 11, 27)  # the letter date of the README examples


def person_variables(
    prefix: str, kinds: tuple[Kind, ...], who_vi: str, who_en: str
) -> list[Variable]:
    """Return the variables of a person named in a letter (``person_context``'s keys)."""
    return [
        Variable(f"{prefix}.name", kinds, TEXT, f"Họ tên {who_vi}", f"Full name of {who_en}"),
        Variable(
            f"{prefix}.honorific",
            kinds,
            TEXT,
            f"Danh xưng của {who_vi} (ông, bà, anh, chị, cháu, cụ) theo tuổi và giới tính, "
            f"hoặc theo cột {prefix}_honorific nếu cán bộ ghi",
            f"Honorific of {who_en} from age and sex, or the {prefix}_honorific column",
        ),
        Variable(f"{prefix}.sex", kinds, TEXT, "Giới tính (Nam/Nữ)", "Sex (Nam/Nữ)"),
        Variable(
            f"{prefix}.birth_date",
            kinds,
            DATE,
            "Ngày sinh (có thể trống: dùng {% if %})",
            "Date of birth (may be empty: use {% if %})",
        ),
        Variable(f"{prefix}.birth_year", kinds, NUMBER, "Năm sinh", "Year of birth"),
        Variable(
            f"{prefix}.age",
            kinds,
            NUMBER,
            "Tuổi tròn vào ngày viết thư (người mất: vào ngày mất)",
            "Completed years on the letter date (the deceased: on the date of death)",
        ),
        Variable(f"{prefix}.residence", kinds, TEXT, "Nơi cư trú", "Residence"),
        Variable(
            f"{prefix}.present",
            kinds,
            YES_NO,
            "Có người này trong dữ liệu không",
            "Whether the record names this person",
        ),
    ]


COMMON: tuple[Variable, ...] = (
    # -- every letter --
    Variable("letter_date", ALL, DATE, "Ngày viết thư", "The letter date"),
    Variable("commune.name", ALL, TEXT, "Tên xã", "Commune name"),
    Variable("commune.title", ALL, TEXT, "Loại đơn vị và tên xã", "Unit kind and name"),
    Variable("commune.committee", ALL, TEXT, "Tên Ủy ban", "The People's Committee"),
    Variable(
        "commune.place_name", ALL, TEXT, "Địa danh ở dòng ngày tháng", "Place in the date line"
    ),
    Variable("commune.province", ALL, TEXT, "Tỉnh, thành phố", "Province or city"),
    Variable(
        "header.parent_lines",
        ALL,
        TEXT_LIST,
        "Các dòng trên tên cơ quan (có thể trống)",
        "Lines above the agency (may be empty)",
    ),
    Variable("header.agency_lines", ALL, TEXT_LIST, "Tên cơ quan ở góc trái", "Agency lines"),
    Variable("signer.authority", ALL, TEXT, "Thẩm quyền ký (TM./KT.)", "Signing authority"),
    Variable("signer.title", ALL, TEXT, "Chức vụ người ký", "Signer's title"),
    Variable("signer.name", ALL, TEXT, "Họ tên người ký", "Signer's name"),
    Variable("registration.number", ALL, TEXT, "Số đăng ký (giữ số 0 đầu)", "Registration number"),
    Variable("registration.book", ALL, TEXT, "Quyển số (có thể trống)", "Book number"),
    Variable("registration.date", ALL, DATE, "Ngày đăng ký", "Registration date"),
    Variable("registration.kind", ALL, TEXT, "Loại sổ hộ tịch", "Register"),
    Variable("note", ALL, TEXT, "Ghi chú trong sổ (có thể trống)", "Register note"),
    Variable(
        "addressee",
        ALL,
        TEXT,
        "Người nhận thư (dòng Kính gửi)",
        "Addressee line",
    ),
    Variable("address", ALL, TEXT, "Địa chỉ người nhận", "Addressee's address"),
)


def all_variables() -> tuple[Variable, ...]:
    """Return every declared variable: the common ones, then each registered kind's."""
    return COMMON + tuple(v for e in entries() for v in e.variables)


def __getattr__(name: str) -> Any:
    if name == "VARIABLES":  # computed: a kind registered at run time adds its own
        return all_variables()
    raise AttributeError(name)


def variables_for(kind: Kind) -> tuple[Variable, ...]:
    """Return the variables a template of ``kind`` may use."""
    return COMMON + entry(kind).variables


# A tree of what a template of one kind can name: dict = fields, LIST = a list whose items
# are the value at key LIST_ITEM, LEAF = a plain value.
LEAF = "leaf"
LIST_ITEM = "[]"


def shape(kind: Kind) -> dict[str, Any]:
    """Return the nested names available to a template of ``kind`` (see LEAF, LIST_ITEM)."""
    tree: dict[str, Any] = {}
    for variable in variables_for(kind):
        node = tree
        parts = variable.path.split(".")
        for part in parts[:-1]:
            if part.endswith(LIST_ITEM):
                node = node.setdefault(part[: -len(LIST_ITEM)], {}).setdefault(LIST_ITEM, {})
            else:
                node = node.setdefault(part, {})
        last = parts[-1]
        if variable.type in (ROWS, TEXT_LIST):
            node.setdefault(last, {}).setdefault(LIST_ITEM, {} if variable.type == ROWS else LEAF)
        else:
            node[last] = LEAF
    return tree


def all_names() -> dict[str, tuple[Kind, ...]]:
    """Return every declared path with the kinds that have it."""
    every = tuple(e.kind for e in entries())
    return {v.path: v.kinds or every for v in all_variables()}


# ---- sample data -------------------------------------------------------------------------


def sample_source(kind: Kind) -> SourceRef:
    """Return where a sample registration says it comes from."""
    return SourceRef(file=f"(mẫu {kind.vietnamese})", sheet=None, row=1)


def sample_residence(long: bool) -> str:
    """Return the samples' address: with ``long``, one from before the 2025 merger, as older
    registry rows still carry."""
    if long:
        return "Tổ 12, ấp Suối Nghệ Bắc, xã Suối Nghệ, huyện Châu Đức, tỉnh Bà Rịa – Vũng Tàu"
    return "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh"


def sample_registration(kind: Kind, letter_date: date, *, long: bool = False) -> Registration:
    """Return a realistic registration of ``kind`` dated a few days before ``letter_date``.

    ``long`` gives the longest values a letter should still fit on one page with: long
    names (four to five syllables), long addresses from before the 2025 merger, a register
    note, all the optional fields filled. Each kind's entry makes its own (``samples``).
    """
    return entry(kind).samples(letter_date, long)[0]


def sample_context(
    kind: Kind,
    profile: Any = None,
    letter_date: date = SAMPLE_DATE,
    *,
    long: bool = False,
) -> dict[str, Any]:
    """Return the context a ``kind`` letter sees for the sample registration.

    ``profile`` defaults to the demo profile; the schedule version is the one in force on
    ``letter_date``.
    """
    return _contexts(kind, profile, letter_date, long)[0]


def long_contexts(
    kind: Kind, profile: Any, letter_date: date = SAMPLE_DATE
) -> list[dict[str, Any]]:
    """Return the long sample contexts the one-page check renders for ``kind``: one per
    worst case of its entry's samples (births have two: most notes, most schedule rows)."""
    return _contexts(kind, profile, letter_date, True)


# ---- the worst case: every limited field at its limit (data/columns.toml [limits]) --------

# Registration attributes that hold an input field of another name (every other attribute
# holds the field of its own name; a Person's ``full_name`` and ``residence`` hold
# ``ATTR_name`` and ``ATTR_residence``).
_FIELD_OF_ATTRIBUTE = {
    "number": "registration_number",
    "book": "book_number",
    "birth_place": "child_birth_place",
}
# Real, wide text to fill a field with: capitals and stacked diacritics take the most room.
_NAME_WORDS = "Nguyễn Huỳnh Trương Hoàng Phương Khương Dương Thượng Quỳnh Nhường".split()
_PLACE_WORDS = (
    "Tổ dân phố 12, khu phố Phước Trung, phường Phước Hưng, thành phố Bà Rịa, tỉnh Bà Rịa – "
    "Vũng Tàu, Bệnh viện Đa khoa Khu vực Châu Đức,"
).split()


def filler(name: str, length: int) -> str:
    """Return realistic text of exactly ``length`` characters for the field ``name``: a
    name of long syllables, a register number, or an address."""
    if name in ("registration_number", "book_number"):
        return ("0123/2026-KS-" * length)[:length]
    words = _NAME_WORDS if name.endswith("_name") else _PLACE_WORDS
    text = ""
    for n in range(length):
        text = f"{text} {words[n % len(words)]}" if text else words[0]
        if len(text) >= length:
            break
    text = text[:length]
    return text[:-1] + "a" if text.endswith(" ") else text


def at_limits(registration: Registration) -> tuple[Registration, frozenset[str]]:
    """Return ``registration`` with every field that has a limit at its longest, and the
    fields filled: the worst case the one-page check renders (a value longer than its limit
    is rejected by validation, so this is the longest letter a row can make)."""
    import dataclasses

    from cchc_letters.ingest.columns import field_limits
    from cchc_letters.models import Person

    limits = field_limits()
    filled: set[str] = set()

    def fill(name: str, value: Any) -> Any:
        if name in limits and (value is None or isinstance(value, str)):
            filled.add(name)
            return filler(name, limits[name])
        return value

    changes: dict[str, Any] = {}
    for attribute in dataclasses.fields(registration):
        value = getattr(registration, attribute.name)
        if isinstance(value, Person):
            prefix = attribute.name
            changes[attribute.name] = dataclasses.replace(
                value,
                full_name=fill(f"{prefix}_name", value.full_name),
                residence=fill(f"{prefix}_residence", value.residence),
            )
        elif isinstance(value, str) or value is None:
            name = _FIELD_OF_ATTRIBUTE.get(attribute.name, attribute.name)
            changes[attribute.name] = fill(name, value)
    return dataclasses.replace(registration, **changes), frozenset(filled)


def limit_contexts(
    kind: Kind, profile: Any, letter_date: date = SAMPLE_DATE, schedule: Any = None
) -> list[dict[str, Any]]:
    """Return the contexts of ``kind``'s long samples with every limited field at its limit
    (``at_limits``): each of the kind's worst cases (births: most notes, most schedule rows).
    ``schedule`` is the schedule version (default: the one in force on ``letter_date``)."""
    return _contexts(kind, profile, letter_date, True, at_limit=True, schedule=schedule)


def _contexts(
    kind: Kind,
    profile: Any,
    letter_date: date,
    long: bool,
    at_limit: bool = False,
    schedule: Any = None,
) -> list[dict[str, Any]]:
    from cchc_letters.enrich import letter_context
    from cchc_letters.profile import load_profile

    profile = profile if profile is not None else load_profile(None)
    letter = entry(kind)
    if not letter.uses_schedule:
        schedule = None
    elif schedule is None:
        from cchc_letters.errors import ScheduleError
        from cchc_letters.schedule import load_versions, version_for

        versions = load_versions()
        try:
            schedule = version_for(letter_date, versions)
        except ScheduleError:
            # Sample data only: a date outside every version (the batch may name one with
            # --schedule) still gets a schedule table to render.
            schedule = max(versions, key=lambda version: version.valid_from)
    return [
        letter_context(
            at_limits(registration)[0] if at_limit else registration,
            profile,
            letter_date,
            schedule,
        )
        for registration in letter.samples(letter_date, long)
    ]


def lookup(context: dict[str, Any], path: str) -> Any:
    """Return the value at a declared ``path`` in ``context`` (first item of a list)."""
    value: Any = context
    for part in path.split("."):
        is_list = part.endswith(LIST_ITEM)
        value = value[part[: -len(LIST_ITEM)] if is_list else part]
        if is_list:
            value = value[0] if value else None
            if value is None:
                return None
    return value


def example_text(value: Any) -> str:
    """Return how a sample value is shown in the README."""
    from cchc_letters.vietnamese import short_date

    if value is None or value == "" or value == []:
        return "(trống)"
    if isinstance(value, bool):
        return "đúng (true)" if value else "sai (false)"
    if isinstance(value, date):
        return short_date(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"{len(value)} dòng (rows)"
    if isinstance(value, list):
        return " / ".join(example_text(v) for v in value)
    return str(value)


def filter_example(usage: str) -> str:
    """Return what a filter's usage placeholder prints with the birth and death samples."""
    from cchc_letters.render import jinja_environment

    env = jinja_environment()
    context = {**sample_context(Kind.BIRTH), **sample_context(Kind.DEATH)}
    return str(env.from_string(usage).render(context))


# ---- README reference --------------------------------------------------------------------

README_START = "<!-- variables:start (generated: python -m cchc_letters.variables) -->"
README_END = "<!-- variables:end -->"


def _heading(group: Kind | None) -> str:
    if group is None:
        return "Mọi loại thư (all letters)"
    letter = entry(group)
    return f"{letter.heading} — `{letter.template_name}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_reference() -> str:
    """Return the README's variable and filter tables, generated from this module."""
    contexts = {e.kind: sample_context(e.kind) for e in entries()}
    lines: list[str] = [README_START, ""]
    groups: list[Kind | None] = [None, *(e.kind for e in entries())]
    for group in groups:
        members = [
            v for v in all_variables() if (v.kinds == ALL if group is None else v.kinds == (group,))
        ]
        lines += [
            f"#### {_heading(group)}",
            "",
            "| Biến (variable) | Ví dụ (example) | Kiểu (type) | Ý nghĩa | Meaning |",
            "|---|---|---|---|---|",
        ]
        for v in members:
            example = example_text(lookup(contexts[group or Kind.BIRTH], v.path))
            lines.append(
                f"| `{v.path}` | {_cell(example)} | {v.type} | {_cell(v.vi)} | {_cell(v.en)} |"
            )
        lines.append("")
    lines += [
        "#### Bộ lọc (filters)",
        "",
        "| Bộ lọc (filter) | Cách dùng (usage) | Ví dụ kết quả (example) | Ý nghĩa | Meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in FILTER_SPECS:
        lines.append(
            f"| `{spec.name}` | `{_cell(spec.usage)}` | {_cell(filter_example(spec.usage))} "
            f"| {_cell(spec.vi)} | {_cell(spec.en)} |"
        )
    lines += ["", README_END]
    return "\n".join(lines)


def update_readme(path: Any = None) -> bool:
    """Rewrite the generated section of templates/README.md; return True when it changed."""
    from pathlib import Path

    from cchc_letters.resources import templates_dir

    readme = Path(path) if path else templates_dir() / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    updated = text[:start] + markdown_reference() + text[end:]
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":  # python -m cchc_letters.variables
    print("templates/README.md updated" if update_readme() else "templates/README.md up to date")


__all__ = [
    "FILTERS",
    "FILTER_SPECS",
    "SAMPLE_DATE",
    "COMMON",
    "all_variables",
    "Variable",
    "markdown_reference",
    "sample_context",
    "sample_registration",
    "shape",
    "variables_for",
]
