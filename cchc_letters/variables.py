"""Every variable a letter template may use, with the sample data that preview and check use.

This is the one place that says what a template can name: ``VARIABLES`` (declared paths such
as ``child.name``, per letter kind) and the filters of ``filters.FILTER_SPECS``. The example
values are not written twice: they come from rendering the sample registrations below through
``enrich.letter_context``, so the README tables (``markdown_reference()``), ``templates check``
and ``preview`` all see the same data. A test keeps enrich, this list and the README in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cchc_letters.filters import FILTER_SPECS, FILTERS
from cchc_letters.models import Birth, Death, Kind, Marriage, Person, Registration, Sex, SourceRef

ALL = (Kind.BIRTH, Kind.MARRIAGE, Kind.DEATH)
BIRTH, MARRIAGE, DEATH = (Kind.BIRTH,), (Kind.MARRIAGE,), (Kind.DEATH,)
SAMPLE_DATE = date(2026, 11, 27)  # the letter date of the README examples
# The long birth samples' ages (days) on the letter date. The first is the one preview --long
# shows: registered late, about six months old, the age with the longest schedule
# notes (rotavirus past its deadline: the catch-up sentence; the HepB birth dose; Tết) beside
# doses due now, which fill one visit up to the doses-per-visit limit. The second, a newborn,
# has the most schedule rows (longest with a profile that adds local vaccines). The page
# check renders both.
LONG_CHILD_AGES_DAYS = (180, 15)

# Types, as the README shows them.
TEXT, DATE, NUMBER, YES_NO, TEXT_LIST, ROWS = (
    "chữ (text)",
    "ngày (date)",
    "số (number)",
    "đúng/sai (true/false)",
    "danh sách dòng chữ (list of text)",
    "danh sách (list)",
)


@dataclass(frozen=True)
class Variable:
    """One name a template may use.

    ``path`` is dotted; ``[]`` marks a list whose items have the fields declared below it
    (``schedule.visits[].label`` is ``visit.label`` inside ``{%tr for visit in schedule.visits %}``).
    """

    path: str
    kinds: tuple[Kind, ...]
    type: str
    vi: str
    en: str


def _person(prefix: str, kinds: tuple[Kind, ...], who_vi: str, who_en: str) -> list[Variable]:
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


VARIABLES: tuple[Variable, ...] = (
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
    # -- birth --
    *_person("child", BIRTH, "cháu bé", "the child"),
    *_person("mother", BIRTH, "người mẹ", "the mother"),
    *_person("father", BIRTH, "người cha", "the father"),
    Variable("birth_place", BIRTH, TEXT, "Nơi sinh", "Place of birth"),
    Variable("station.name", BIRTH, TEXT, "Tên trạm y tế", "Health station"),
    Variable("station.address", BIRTH, TEXT, "Địa chỉ trạm y tế", "Its address"),
    Variable("station.phone", BIRTH, TEXT, "Điện thoại trạm y tế", "Its phone"),
    Variable("station.sessions", BIRTH, TEXT, "Ngày tiêm chủng của trạm", "When it vaccinates"),
    Variable("schedule.id", BIRTH, TEXT, "Mã phiên bản lịch tiêm", "Schedule version id"),
    Variable("schedule.legal_basis", BIRTH, TEXT, "Căn cứ pháp lý của lịch tiêm", "Legal basis"),
    Variable(
        "schedule.visits",
        BIRTH,
        ROWS,
        "Các lần tiêm của cháu (dùng {%tr for visit in schedule.visits %})",
        "The child's visits (use {%tr for visit in schedule.visits %})",
    ),
    Variable("schedule.visits[].label", BIRTH, TEXT, "Thời điểm tiêm", "When (age)"),
    Variable("schedule.visits[].vaccines", BIRTH, TEXT, "Vắc xin, mũi tiêm", "Vaccines"),
    Variable("schedule.visits[].due", BIRTH, DATE, "Tiêm từ ngày", "Due from"),
    Variable(
        "schedule.visits[].session",
        BIRTH,
        DATE,
        "Buổi tiêm dự kiến (có thể trống)",
        "Planned session (may be empty)",
    ),
    Variable(
        "schedule.visits[].where",
        BIRTH,
        TEXT,
        "Khi không có buổi tiêm: tiêm ở đâu (tại nơi sinh, tại trường, liên hệ trạm y tế)",
        "Where, when there is no session date",
    ),
    Variable(
        "schedule.visits[].status",
        BIRTH,
        TEXT,
        "Trạng thái: due_now (cần tiêm ngay) hoặc planned (theo lịch)",
        "Status code",
    ),
    Variable("schedule.visits[].due_now", BIRTH, YES_NO, "Đã đến hạn", "Due now"),
    Variable(
        "schedule.visits[].at_school",
        BIRTH,
        YES_NO,
        "Mũi tiêm trong đợt tiêm chủng tại trường (Td lúc 7 tuổi): in tuổi và “tại trường”, "
        "không in ngày",
        "A school-campaign dose (Td at 7): print the age and 'tại trường', no date",
    ),
    Variable("schedule.notes", BIRTH, TEXT_LIST, "Ghi chú của lịch tiêm", "Schedule notes"),
    # -- marriage --
    *_person("husband", MARRIAGE, "người chồng", "the husband"),
    *_person("wife", MARRIAGE, "người vợ", "the wife"),
    Variable(
        "couple.honorific",
        MARRIAGE,
        TEXT,
        "Danh xưng chung của đôi vợ chồng trong lời văn: “ông bà” khi một người từ tuổi "
        "[letters] elder_age của hồ sơ xã (hoặc cán bộ ghi ông/bà), còn lại “anh chị”",
        "One form for the couple in running text: 'ông bà' when either reaches the profile's "
        "elder_age (or is overridden as ông/bà), else 'anh chị'",
    ),
    # -- death --
    *_person("deceased", DEATH, "người mất", "the deceased"),
    Variable(
        "deceased.longevity",
        DEATH,
        TEXT,
        "“hưởng thọ” từ tuổi [letters] longevity_age của hồ sơ xã, dưới tuổi đó “hưởng dương”",
        "'hưởng thọ' from the profile's longevity_age, else 'hưởng dương'",
    ),
    Variable(
        "deceased.age_text",
        DEATH,
        TEXT,
        "Tuổi khi mất để in sau hưởng thọ/hưởng dương: “85 tuổi”; dưới 1 tuổi tính bằng tháng "
        "(“5 tháng tuổi”); dưới 1 tháng (hoặc chỉ biết năm sinh mà chưa tròn 1 tuổi) thì trống "
        "và thư bỏ phần tuổi — không bao giờ in “0 tuổi”",
        "Age at death for after hưởng thọ/dương: '85 tuổi'; under one year in months "
        "('5 tháng tuổi'); under one month (or under one year from the birth year alone) empty, "
        "and the letter leaves the age out — never '0 tuổi'",
    ),
    Variable(
        "deceased.is_child",
        DEATH,
        YES_NO,
        "Người mất là trẻ em (dưới tuổi [letters] child_age của hồ sơ xã)",
        "The deceased is a child (below the profile's child_age)",
    ),
    Variable(
        "deceased.age_phrase",
        DEATH,
        TEXT,
        "Cụm tuổi khi mất, đã viết sẵn: người lớn “hưởng thọ 85 tuổi” / “hưởng dương 40 tuổi” "
        "(tuổi tính theo [letters] age_count của hồ sơ xã); trẻ em “khi mới 5 tháng tuổi”, "
        "không bao giờ “hưởng dương” cho em bé; trẻ dưới 1 tháng thì trống",
        "The age at death, worded: adults 'hưởng thọ 85 tuổi' / 'hưởng dương 40 tuổi' (counted "
        "as the profile's age_count says); children 'khi mới 5 tháng tuổi', never 'hưởng "
        "dương' for a baby; empty under one month",
    ),
    Variable(
        "deceased.born_text",
        DEATH,
        TEXT,
        "“sinh ngày 10/06/2026” cho trẻ em khi biết đủ ngày sinh, còn lại “sinh năm 1941”; "
        "trống khi không biết năm sinh",
        "'sinh ngày 10/06/2026' for a child whose full date of birth is known, else "
        "'sinh năm 1941'; empty without a year of birth",
    ),
    Variable("death.date", DEATH, DATE, "Ngày mất", "Date of death"),
    Variable(
        "death.verb",
        DEATH,
        TEXT,
        "“từ trần” (người lớn) hoặc “qua đời” (trẻ em)",
        "'từ trần' (adults) or 'qua đời' (children)",
    ),
    Variable("death.time", DEATH, TEXT, "Giờ mất (có thể trống)", "Time of death"),
    Variable("death.place", DEATH, TEXT, "Nơi mất (có thể trống)", "Place of death"),
    Variable("informant.name", DEATH, TEXT, "Người đi khai tử", "Informant"),
    Variable("informant.relation", DEATH, TEXT, "Quan hệ với người mất", "Their relationship"),
)


def variables_for(kind: Kind) -> tuple[Variable, ...]:
    """Return the variables a template of ``kind`` may use."""
    return tuple(v for v in VARIABLES if kind in v.kinds)


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
    return {v.path: v.kinds for v in VARIABLES}


# ---- sample data -------------------------------------------------------------------------


def _source(kind: Kind) -> SourceRef:
    return SourceRef(file=f"(mẫu {kind.vietnamese})", sheet=None, row=1)


def sample_registration(
    kind: Kind, letter_date: date, *, long: bool = False, child_age_days: int | None = None
) -> Registration:
    """Return a realistic registration of ``kind`` dated a few days before ``letter_date``.

    ``long`` gives the longest values a letter should still fit on one page with: long
    names (four to five syllables), long addresses from before the 2025 merger, a register
    note, all the optional fields filled. The long birth is the longest birth letter: a
    child registered late, about six months old on ``letter_date``
    (``LONG_CHILD_AGES_DAYS``), so several doses are due at once and rotavirus is past its
    deadline (the catch-up sentence under the schedule table); ``child_age_days`` gives the long child another
    age (the page check also renders a long newborn, whose schedule has the most rows).
    """
    registered = letter_date - timedelta(days=7)
    if long:
        # an address from before the 2025 merger, as older registry rows still carry
        residence = "Tổ 12, ấp Suối Nghệ Bắc, xã Suối Nghệ, huyện Châu Đức, tỉnh Bà Rịa – Vũng Tàu"
    else:
        residence = "Ấp Suối Nghệ, xã Ngãi Giao, Thành phố Hồ Chí Minh"
    if kind is Kind.BIRTH:
        return Birth(
            kind=kind,
            number="07" if not long else "1207",
            book="01/2026",
            registration_date=registered,
            source=_source(kind),
            note="Đăng ký khai sinh quá hạn" if long else None,
            child=Person(
                "Tôn Nữ Hoàng Phương Thảo Nguyên" if long else "Nguyễn Phạm Gia Bảo",
                Sex.FEMALE if long else Sex.MALE,
                birth_date=(
                    letter_date - timedelta(days=child_age_days or LONG_CHILD_AGES_DAYS[0])
                    if long
                    else registered - timedelta(days=8)
                ),
            ),
            birth_place=(
                "Bệnh viện Bà Rịa, phường Long Tâm, Thành phố Hồ Chí Minh"
                if long
                else "Trung tâm Y tế khu vực Châu Đức"
            ),
            mother=Person(
                "Huỳnh Nguyễn Thị Phương Thảo" if long else "Phạm Thị Ngọc Diệp",
                Sex.FEMALE,
                birth_year=1996,
                residence=residence,
            ),
            father=Person(
                "Tôn Thất Hoàng Minh Khôi" if long else "Nguyễn Văn Trưởng",
                Sex.MALE,
                birth_year=1994,
                residence=residence,
            ),
            informant_name="Nguyễn Văn Trưởng",
            informant_relation="cha",
        )
    if kind is Kind.MARRIAGE:
        return Marriage(
            kind=kind,
            number="03" if not long else "1203",
            book="01/2026",
            registration_date=registered,
            source=_source(kind),
            note="Kết hôn lần đầu" if long else None,
            husband=Person(
                "Tôn Thất Hoàng Minh Khôi" if long else "Lê Văn Hùng",
                Sex.MALE,
                birth_date=date(1998, 3, 14),
                residence=residence,
            ),
            wife=Person(
                "Huỳnh Nguyễn Thị Phương Thảo" if long else "Huỳnh Thị Kim Ngân",
                Sex.FEMALE,
                birth_date=date(2000, 9, 2),
                residence=residence,
            ),
        )
    died = registered - timedelta(days=3)
    return Death(
        kind=kind,
        number="05" if not long else "1205",
        book="01/2026",
        registration_date=registered,
        source=_source(kind),
        note="Có giấy báo tử" if long else None,
        deceased=Person(
            "Công Tằng Tôn Nữ Thị Hoàng Lan" if long else "Nguyễn Văn Tám",
            Sex.FEMALE if long else Sex.MALE,
            birth_date=date(1941, 2, 3),
            residence=residence,
        ),
        death_date=died,
        death_time="14 giờ 30 phút",
        death_place="Tại nhà riêng" if not long else "Bệnh viện Bà Rịa, Thành phố Hồ Chí Minh",
        informant_name="Nguyễn Văn Tâm",
        informant_relation="con",
    )


def sample_context(
    kind: Kind,
    profile: Any = None,
    letter_date: date = SAMPLE_DATE,
    *,
    long: bool = False,
    child_age_days: int | None = None,
) -> dict[str, Any]:
    """Return the context a ``kind`` letter sees for the sample registration.

    ``profile`` defaults to the demo profile; the schedule version is the one in force on
    ``letter_date``.
    """
    from cchc_letters.enrich import letter_context
    from cchc_letters.profile import load_profile

    profile = profile if profile is not None else load_profile(None)
    schedule = None
    if kind is Kind.BIRTH:
        from cchc_letters.errors import ScheduleError
        from cchc_letters.schedule import load_versions, version_for

        versions = load_versions()
        try:
            schedule = version_for(letter_date, versions)
        except ScheduleError:
            # Sample data only: a date outside every version (the batch may name one with
            # --schedule) still gets a schedule table to render.
            schedule = max(versions, key=lambda version: version.valid_from)
    registration = sample_registration(kind, letter_date, long=long, child_age_days=child_age_days)
    return letter_context(registration, profile, letter_date, schedule)


def long_contexts(kind: Kind, profile: Any, letter_date: date = SAMPLE_DATE) -> list[dict]:
    """Return the long sample contexts the one-page check renders for ``kind``.

    Births have two worst cases (most notes, most schedule rows: ``LONG_CHILD_AGES_DAYS``);
    the other kinds one.
    """
    if kind is not Kind.BIRTH:
        return [sample_context(kind, profile, letter_date, long=True)]
    return [
        sample_context(kind, profile, letter_date, long=True, child_age_days=days)
        for days in LONG_CHILD_AGES_DAYS
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
_KIND_HEADINGS = {
    None: "Mọi loại thư (all letters)",
    Kind.BIRTH: "Thư chúc mừng khai sinh — `birth.docx`",
    Kind.MARRIAGE: "Thư chúc mừng kết hôn — `marriage.docx`",
    Kind.DEATH: "Thư chia buồn — `death.docx`",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_reference() -> str:
    """Return the README's variable and filter tables, generated from this module."""
    contexts = {kind: sample_context(kind) for kind in Kind}
    lines: list[str] = [README_START, ""]
    for group in (None, *Kind):
        members = [
            v for v in VARIABLES if (v.kinds == ALL if group is None else v.kinds == (group,))
        ]
        lines += [
            f"#### {_KIND_HEADINGS[group]}",
            "",
            "| Biến (variable) | Ví dụ (example) | Kiểu (type) | Ý nghĩa | Meaning |",
            "|---|---|---|---|---|",
        ]
        for v in members:
            example = example_text(lookup(contexts[v.kinds[0]], v.path))
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
    "VARIABLES",
    "Variable",
    "markdown_reference",
    "sample_context",
    "sample_registration",
    "shape",
    "variables_for",
]
