"""The commune profile (TOML): who sends the letters, who signs, where children are vaccinated."""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cchc_letters import cache
from cchc_letters.errors import ProfileError
from cchc_letters.resources import data_dir
from cchc_letters.schedule_data import ScheduleRow, nfc_tree, parse_row

UNIT_KINDS = ("xã", "phường", "đặc khu")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOLIDAY_RULES = ("next_session", "next_working_day")
# What a station does with a session day that falls on a Saturday or Sunday.
WEEKEND_RULES = ("keep", "next_working_day", "previous_working_day", "next_session")
AGE_COUNTS = ("completed_years", "lunar_years")  # as vietnamese.AGE_COUNTS
DEFAULT_MAX_DOSES_PER_VISIT = 4


def default_profile_path() -> Path:
    """Return the shipped demo profile (UBND xã Ngãi Giao, Thành phố Hồ Chí Minh)."""
    return data_dir() / "profiles" / "ngai-giao.toml"


@dataclass(frozen=True)
class SessionDays:
    """When the health station vaccinates: days of the month and/or weekdays."""

    days_of_month: tuple[int, ...] = ()
    weekdays: tuple[int, ...] = ()  # 0 = Monday, as date.weekday()
    time_of_day: str = ""
    holiday_rule: str = "next_session"
    weekend_rule: str = "keep"  # one of WEEKEND_RULES


@dataclass(frozen=True)
class LocalSchedule:
    """How the commune's station applies the national schedule ([local_schedule]).

    ``switched_off``: vaccine codes ("rota") or "code/dose" ("rota/lần 2") of national rows
    the province does not give; ``max_doses_per_visit``: at most this many doses at one
    session (later ones are postponed to the next session, and the letter says so);
    ``catch_up_note``: the one sentence for doses the letter gives no date ("{vaccines}" and
    "{station}" are filled in), empty for the default wording.
    """

    switched_off: tuple[str, ...] = ()
    max_doses_per_visit: int = DEFAULT_MAX_DOSES_PER_VISIT
    catch_up_note: str = ""

    def is_off(self, vaccine: str, dose: str) -> bool:
        """Return True when the profile switches this national row off."""
        return vaccine in self.switched_off or f"{vaccine}/{dose}" in self.switched_off


@dataclass(frozen=True)
class HealthStation:
    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Hamlet:
    """An ấp / khu phố / tổ dân phố of the commune and the other ways addresses write it."""

    name: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A commune's settings; see data/profiles/ngai-giao.toml for every key."""

    path: Path
    commune_name: str
    unit_kind: str
    commune_code: str
    province: str
    place_name: str
    parent_lines: tuple[str, ...]
    agency_lines: tuple[str, ...]
    signer_authority: str
    signer_title: str
    signer_name: str
    health_station: HealthStation
    sessions: SessionDays
    longevity_age: int = 60
    elder_age: int = 50
    very_old_age: int = 80
    child_age: int = 16  # the deceased below this age are "cháu"
    templates_dir: Path | None = None
    province_code: str = ""
    # [[local_vaccines]]: rows a province adds to (or changes in) the national schedule,
    # same keys as a [[doses]] row of data/vaccination_schedules/*.toml
    local_vaccines: tuple[ScheduleRow, ...] = ()
    # [[hamlets]]: the commune's ấp / khu phố / tổ dân phố, for the delivery sheet and the
    # session lists (grouped by hamlet); see hamlets.py
    hamlets: tuple[Hamlet, ...] = ()
    # [retention] children: how long the ledger keeps a child's data for the session lists;
    # None = until the child's last scheduled dose, else this many months after birth
    retention_months: int | None = None
    local_schedule: LocalSchedule = field(default_factory=lambda: LocalSchedule())
    age_count: str = "completed_years"  # hưởng thọ / hưởng dương: completed years or tuổi âm
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def commune_title(self) -> str:
        """Return e.g. "xã Ngãi Giao"."""
        return f"{self.unit_kind} {self.commune_name}"

    @property
    def committee_name(self) -> str:
        """Return e.g. "Ủy ban nhân dân xã Ngãi Giao"."""
        return f"Ủy ban nhân dân {self.commune_title}"


def load_profile(path: Path | None = None) -> Profile:
    """Return the profile read from ``path`` (the demo profile when None).

    Raises ProfileError naming the file and the key when something is missing or wrong.
    """
    path = Path(path) if path else default_profile_path()
    raw = nfc_tree(_read_toml(path))
    for name in SECTIONS:
        if name in raw and not isinstance(raw[name], dict):
            raise ProfileError(
                f"{path}: {name} phải là một mục [{name}] với các khóa ở các dòng dưới nó, "
                f"không phải một giá trị ({name} = {raw[name]!r})",
                hint=f"Viết [{name}] trên một dòng riêng; xem mẫu: {default_profile_path()}",
            )

    def get(section: str, key: str, default: Any = ..., kind: type | tuple[type, ...] = str) -> Any:
        value = raw.get(section, {}).get(key, default)
        if value is ...:
            raise ProfileError(
                f"{path}: thiếu khóa [{section}] {key} (missing key)",
                hint=f"Xem mẫu: {default_profile_path()}",
            )
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if ok and isinstance(value, list):
            ok = all(isinstance(item, str) for item in value)  # lists of lines of text
        if not ok:
            raise ProfileError(
                f"{path}: [{section}] {key} phải là {_expected(kinds)}, đang là {value!r}",
                hint=f"Xem mẫu: {default_profile_path()}",
            )
        return value

    unit_kind = get("commune", "unit_kind")
    if unit_kind not in UNIT_KINDS:
        raise ProfileError(
            f"{path}: [commune] unit_kind phải là một trong {', '.join(UNIT_KINDS)}, "
            f"đang là {unit_kind!r}"
        )
    _check_key_part(path, "code", str(get("commune", "code", "", (str, int))))
    if not get("commune", "code", "", (str, int)):
        _check_key_part(path, "name", get("commune", "name"))
    days = raw.get("vaccination_sessions", {}).get("days_of_month", [])
    if not isinstance(days, list) or any(
        isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 31 for d in days
    ):
        raise ProfileError(
            f"{path}: [vaccination_sessions] days_of_month phải là danh sách các số 1–31, "
            f"ví dụ [5, 20], đang là {days!r}"
        )
    days = tuple(days)
    weekday_names = [str(w).lower() for w in get("vaccination_sessions", "weekdays", [], list)]
    unknown = [w for w in weekday_names if w not in WEEKDAYS]
    if unknown:
        raise ProfileError(
            f"{path}: [vaccination_sessions] weekdays không rõ: {', '.join(unknown)} "
            f"(dùng: {', '.join(WEEKDAYS)})"
        )
    rule = get("vaccination_sessions", "holiday_rule", "next_session")
    if rule not in HOLIDAY_RULES:
        raise ProfileError(
            f"{path}: [vaccination_sessions] holiday_rule phải là {' hoặc '.join(HOLIDAY_RULES)}"
        )
    if not days and not weekday_names:
        raise ProfileError(
            f"{path}: [vaccination_sessions] cần days_of_month hoặc weekdays "
            "(ngày tiêm chủng của trạm y tế)"
        )
    local_tables = raw.get("local_vaccines", [])
    if not isinstance(local_tables, list):
        raise ProfileError(f"{path}: local_vaccines phải là [[local_vaccines]] (array of tables)")
    local_vaccines = []
    for number, table in enumerate(local_tables, start=1):
        try:
            local_vaccines.append(parse_row(table, default_confidence="U"))
        except ValueError as exc:
            raise ProfileError(
                f"{path}: [[local_vaccines]] thứ {number}: {exc}",
                hint=f"Xem ví dụ trong {default_profile_path()}",
            ) from None
    keys = [row.key for row in local_vaccines]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ProfileError(f"{path}: [[local_vaccines]] trùng vaccine + dose: {repeated}")
    templates = get("letters", "templates_dir", "")
    templates_path = (path.parent / templates).resolve() if templates else None
    return Profile(
        path=path,
        commune_name=get("commune", "name"),
        unit_kind=unit_kind,
        commune_code=str(get("commune", "code", "", (str, int))),
        province=get("commune", "province"),
        province_code=str(get("commune", "province_code", "", (str, int))),
        place_name=get("commune", "place_name", raw.get("commune", {}).get("name", "")),
        parent_lines=tuple(get("header", "parent_lines", [], list)),
        agency_lines=tuple(get("header", "agency_lines", ..., list)),
        signer_authority=get("signer", "authority"),
        signer_title=get("signer", "title"),
        signer_name=get("signer", "name"),
        health_station=HealthStation(
            name=get("health_station", "name"),
            address=get("health_station", "address", ""),
            phone=str(get("health_station", "phone", "", (str, int))),
        ),
        sessions=SessionDays(
            days_of_month=days,
            weekdays=tuple(WEEKDAYS.index(w) for w in weekday_names),
            time_of_day=get("vaccination_sessions", "time_of_day", ""),
            holiday_rule=rule,
            weekend_rule=_weekend_rule(raw, path),
        ),
        longevity_age=get("letters", "longevity_age", 60, int),
        elder_age=get("letters", "elder_age", 50, int),
        very_old_age=get("letters", "very_old_age", 80, int),
        child_age=get("letters", "child_age", 16, int),
        templates_dir=templates_path,
        local_vaccines=tuple(local_vaccines),
        hamlets=_hamlets(raw, path),
        retention_months=_retention(raw, path),
        local_schedule=_local_schedule(raw, path),
        age_count=_age_count(raw, path),
        raw=raw,
    )


# Sections of the profile (TOML tables); a value written in their place ("letters = 5")
# is an error naming it, not a traceback.
SECTIONS = (
    "commune",
    "header",
    "signer",
    "health_station",
    "vaccination_sessions",
    "letters",
    "local_schedule",
)
_KEY_PART = re.compile(r"[^:\s]+(?: [^:\s]+)*")


def _read_toml(path: Path) -> dict[str, Any]:
    """Return the TOML document at ``path`` as Notepad may have saved it.

    TOML is UTF-8; Notepad also writes a UTF-8 byte-order mark, or UTF-16 ("Unicode"), both
    unambiguous and accepted. Anything else (cp1258 from an old editor) is an error saying
    where and how to save it again, never a guess.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"{path}: không tìm thấy tệp hồ sơ xã (profile not found)") from None
    except OSError as exc:
        raise ProfileError(f"{path}: không đọc được tệp hồ sơ xã: {exc.strerror or exc}") from None
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")  # with or without Notepad's BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProfileError(
            f"{path}: tệp hồ sơ xã không phải văn bản UTF-8 (dòng {line}; có thể đã lưu theo "
            "bảng mã cũ như cp1258/ANSI)",
            hint="Mở bằng Notepad, chọn File › Save As, Encoding: UTF-8, rồi lưu lại.",
        ) from None
    try:
        return cache.loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: tệp hồ sơ xã không đúng cú pháp TOML: {exc}") from None


def _expected(kinds: tuple[type, ...]) -> str:
    """Return what a setting of these TOML types looks like, in words, with an example."""
    if list in kinds:
        return 'danh sách các dòng chữ, mỗi dòng trong ngoặc kép, ví dụ ["UBND TỈNH …", "…"]'
    if int in kinds and str in kinds:
        return 'một mã số, ví dụ 26575 hoặc "26575"'
    if int in kinds:
        return "một số nguyên, ví dụ 60"
    return 'một dòng chữ trong ngoặc kép, ví dụ "Ngãi Giao"'


def _check_key_part(path: Path, key: str, value: str) -> None:
    """Refuse a commune code (or name, when there is no code) that cannot be part of the
    registration key ``commune:kind:year:book:number`` the ledger keeps."""
    if value and not _KEY_PART.fullmatch(value):
        raise ProfileError(
            f"{path}: [commune] {key} không được có dấu hai chấm ':' hay xuống dòng "
            f"(đang là {value!r}); mã xã là mã đơn vị hành chính, ví dụ 26575",
            hint="Mã xã là một phần của khóa đăng ký trong sổ theo dõi (ledger).",
        )


def _hamlets(raw: dict[str, Any], path: Path) -> tuple[Hamlet, ...]:
    """Return the profile's [[hamlets]]; ProfileError for a malformed table or a name (or
    variant) that two hamlets share, since an address could then not be placed."""
    from cchc_letters.hamlets import fold

    tables = raw.get("hamlets", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ProfileError(f"{path}: hamlets phải là [[hamlets]] (array of tables)")
    hamlets: list[Hamlet] = []
    owner: dict[str, str] = {}  # folded name or variant -> the hamlet it names
    for number, table in enumerate(tables, start=1):
        name, variants = table.get("name"), table.get("variants", [])
        if not isinstance(name, str) or not name.strip():
            raise ProfileError(f"{path}: [[hamlets]] thứ {number}: thiếu name (tên ấp/khu phố)")
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise ProfileError(
                f"{path}: [[hamlets]] {name!r}: variants phải là danh sách chuỗi (list of text)"
            )
        unknown = sorted(set(table) - {"name", "variants"})
        if unknown:
            raise ProfileError(f"{path}: [[hamlets]] {name!r}: khóa không rõ {', '.join(unknown)}")
        for term in (name, *variants):
            folded = fold(term)
            if folded in owner and owner[folded] != name:
                raise ProfileError(
                    f"{path}: [[hamlets]] {term!r} thuộc cả {owner[folded]!r} và {name!r} "
                    "(one name for two hamlets)"
                )
            owner[folded] = name
        hamlets.append(Hamlet(name.strip(), tuple(v.strip() for v in variants if v.strip())))
    return tuple(hamlets)


# --------------------------------------------------------------------------- local practice
# The schedule's local settings (issue 12), kept apart from the general checks above.


def _weekend_rule(raw: dict[str, Any], path: Path) -> str:
    """Return [vaccination_sessions] weekend_rule (default "keep": held on the weekend)."""
    rule: str = raw.get("vaccination_sessions", {}).get("weekend_rule", "keep")
    if rule not in WEEKEND_RULES:
        raise ProfileError(
            f"{path}: [vaccination_sessions] weekend_rule phải là một trong "
            f"{', '.join(WEEKEND_RULES)}, đang là {rule!r}"
        )
    return rule


def _age_count(raw: dict[str, Any], path: Path) -> str:
    """Return [letters] age_count: "completed_years" (default) or "lunar_years" (tuổi âm)."""
    count: str = raw.get("letters", {}).get("age_count", "completed_years")
    if count not in AGE_COUNTS:
        raise ProfileError(
            f"{path}: [letters] age_count phải là một trong {', '.join(AGE_COUNTS)}, "
            f"đang là {count!r}"
        )
    return count


def _local_schedule(raw: dict[str, Any], path: Path) -> LocalSchedule:
    """Return the [local_schedule] section; ProfileError naming the key when it is wrong."""
    section = raw.get("local_schedule", {})
    if not isinstance(section, dict):
        raise ProfileError(f"{path}: local_schedule phải là một bảng [local_schedule]")
    unknown = sorted(set(section) - {"switched_off", "max_doses_per_visit", "catch_up_note"})
    if unknown:
        raise ProfileError(f"{path}: [local_schedule] khóa không rõ: {', '.join(unknown)}")
    off = section.get("switched_off", [])
    if not isinstance(off, list) or not all(isinstance(v, str) and v for v in off):
        raise ProfileError(
            f"{path}: [local_schedule] switched_off phải là danh sách mã vắc xin, "
            'ví dụ ["rota"] hoặc ["rota/lần 2"]'
        )
    most = section.get("max_doses_per_visit", DEFAULT_MAX_DOSES_PER_VISIT)
    if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= 10:
        raise ProfileError(
            f"{path}: [local_schedule] max_doses_per_visit phải là một số từ 1 đến 10, "
            f"đang là {most!r}"
        )
    note = section.get("catch_up_note", "")
    if not isinstance(note, str):
        raise ProfileError(f"{path}: [local_schedule] catch_up_note phải là một câu (chuỗi)")
    return LocalSchedule(switched_off=tuple(off), max_doses_per_visit=most, catch_up_note=note)


def _retention(raw: dict[str, Any], path: Path) -> int | None:
    """Return [retention] children: None for "last_dose" (the default), else months."""
    value = raw.get("retention", {}).get("children", "last_dose")
    if value == "last_dose":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 240:
        raise ProfileError(
            f'{path}: [retention] children phải là "last_dose" hoặc số tháng từ 1 đến 240, '
            f"đang là {value!r}"
        )
    return value
