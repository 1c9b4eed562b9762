"""Raw rows -> checked registrations, or Issues: bad rows are data, reported together.

Each row is checked on its own (nothing read from one row can reach another row's
registration); then repeats are found: an exact repeat of an earlier row is a "duplicate",
the same registration (kind, số, quyển, năm) with different content is an error.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from operator import gt, itemgetter
from typing import TypeVar

from cchc_letters.datewords import date_in_words
from cchc_letters.ingest.columns import field_label, field_limits
from cchc_letters.memo import TextMemo
from cchc_letters.models import (
    Issue,
    Kind,
    Person,
    RawCell,
    RawRow,
    Registration,
    RowCells,
    RowTexts,
    Sex,
    SourceRef,
    canonical_register_id,
)
from cchc_letters.vietnamese import clean_text, fold, title_case_name

Date = date  # for annotations inside RowReader, whose method ``date`` hides the type

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (it counts 1900 as a leap year)
# Serial numbers accepted as dates: 1900-01-01 .. 2099-12-31 would be 1..73415, but a
# five-digit number is the only plausible one in a register (1927 onwards).
_SERIAL = re.compile(r"(\d{5})(?:\.0+)?")
_TIME_TAIL = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4})" + _TIME_TAIL)
_YMD = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})" + _TIME_TAIL)
_WORDS = re.compile(r"(?:ngay)?(\d{1,2})thang(\d{1,2})nam(\d{4})")
_YEAR = re.compile(r"(?:nam)?(\d{4})")
# "10 giờ 30 phút, ngày 05/02/2026", "lúc 10h30 ngày …": the official death form writes the
# time of death before its date, in one cell.
_TIME_FIRST = re.compile(
    r"(?i)^(?:lúc\s*)?(\d{1,2})\s*(?:giờ|g|h|:)\s*(?:(\d{1,2})\s*(?:phút|p|')?)?\s*[,;-]?\s*"
    r"(?:ngày\s*)?(?=\d|ngày|mùng|mồng|[^\W\d])(.+)$"
)


class RowProblem(Exception):
    """One reason a row cannot become a letter (internal: becomes an Issue)."""

    def __init__(
        self, code: str, message: str, column: str | None = None, value: str | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column
        self.value = value  # what the report shows of the cell, when not the cell itself


class DateProblem(ValueError):
    """A date that cannot be read; ``impossible`` when it reads but does not exist."""

    def __init__(self, text: str, impossible: bool = False) -> None:
        super().__init__(text)
        self.impossible = impossible


@dataclass
class ValidationResult:
    registrations: list[Registration] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    duplicates: int = 0

    @property
    def rejected(self) -> int:
        """Return how many rows got no letter because of an error (not counting duplicates)."""
        return len({i.source for i in self.issues if i.severity == "error"})


def _make(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise DateProblem(text, impossible=True) from None


def parse_date(text: str) -> date:
    """Return the date in ``text``; DateProblem when it cannot be read or does not exist.

    See ``_parse_date``; each distinct text is read once (a batch of 10,000 births has
    ~400 distinct birth dates).
    """
    return _DATES[text]


def _parse_date(text: str) -> date:
    """Return the date in ``text``; DateProblem when it cannot be read or does not exist.

    Accepted: dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy (always day first: 03/04/2024
    is the 3rd of April), yyyy-mm-dd, an Excel serial number (a date column formatted as
    General shows 45327), "ngày 05 tháng 02 năm 2024", each optionally followed by a time;
    a date in words ("ngày mùng chín tháng mười một năm hai nghìn không trăm hai mươi sáu");
    a time before the date ("10 giờ 30 phút, ngày 05/02/2024", the death form's wording).
    """
    text = clean_text(text)
    if m := _DMY.fullmatch(text):
        return _make(int(m[4]), int(m[3]), int(m[1]), text)
    if m := _YMD.fullmatch(text):
        return _make(int(m[1]), int(m[3]), int(m[4]), text)
    if m := _SERIAL.fullmatch(text):
        return EXCEL_EPOCH + timedelta(days=int(m[1]))
    if m := _WORDS.fullmatch(fold(text)):
        return _make(int(m[3]), int(m[2]), int(m[1]), text)
    if words := date_in_words(text):
        return _make(*words, text)
    if (m := _TIME_FIRST.match(text)) and int(m[1]) < 24:
        return parse_date(m[3])
    raise DateProblem(text)


_DATES: TextMemo[date] = TextMemo(_parse_date)


def time_in(text: str) -> str | None:
    """Return the time written before a date ("10 giờ 30 phút, ngày …" -> "10 giờ 30 phút")."""
    m = _TIME_FIRST.match(clean_text(text))
    if not m or int(m[1]) >= 24:
        return None
    return f"{int(m[1]):02d} giờ {int(m[2] or 0):02d} phút"


def parse_date_or_year(text: str) -> tuple[date | None, int | None]:
    """Return (date, None) for a full date, (None, year) for a year alone ("1996", "năm 1996")."""
    return _DATES_OR_YEARS[text]


def _parse_date_or_year(text: str) -> tuple[date | None, int | None]:
    if m := _YEAR.fullmatch(fold(text)):
        year = int(m[1])
        if not 1850 <= year <= 2200:
            raise DateProblem(text, impossible=True)
        return None, year
    return parse_date(text), None


_DATES_OR_YEARS: TextMemo[tuple[date | None, int | None]] = TextMemo(_parse_date_or_year)

_SEX = {
    "nam": Sex.MALE,
    "trai": Sex.MALE,
    "contrai": Sex.MALE,
    "gioitinhnam": Sex.MALE,
    "male": Sex.MALE,
    "m": Sex.MALE,
    "nu": Sex.FEMALE,
    "gai": Sex.FEMALE,
    "congai": Sex.FEMALE,
    "gioitinhnu": Sex.FEMALE,
    "female": Sex.FEMALE,
    "f": Sex.FEMALE,
}


def parse_sex(text: str) -> Sex | None:
    """Return the sex written as Nam/Nữ ("NAM", "nữ", "Nu", "con trai", "Male" …), else None."""
    return _SEX.get(fold(text))


def check_personal_id(
    value: str,
    *,
    sex: Sex | None,
    birth_date: date | None,
    birth_year: int | None,
) -> tuple[str, str] | None:
    """Return (code, Vietnamese reason) when a số định danh contradicts itself or the person.

    Domain rule: 12 digits; digit 4 gives century and sex (0/1 = 1900s male/female,
    2/3 = 2000s, 4/5 = 2100s …); digits 5–6 are the last two digits of the birth year.
    The province digits are not checked (never infer a place from them).
    """
    if not re.fullmatch(r"\d{12}", value):
        hint = ""
        if re.fullmatch(r"\d{11}", value):
            # Excel turns "079…" typed in a number column into 79…: the leading zero is lost.
            hint = (
                " Có thể Excel đã bỏ số 0 ở đầu: hãy định dạng cột là Văn bản (Text) và nhập lại."
            )
        return (
            "invalid_personal_id",
            f"Số định danh cá nhân phải gồm đúng 12 chữ số (đang có {len(value)} ký tự)." + hint,
        )
    code, yy = int(value[3]), int(value[4:6])
    id_sex = Sex.FEMALE if code % 2 else Sex.MALE
    id_century = 1900 + (code // 2) * 100
    year = birth_date.year if birth_date else birth_year
    if year is not None and year >= 1900:
        if (id_century, yy) != (year // 100 * 100, year % 100):
            return (
                "personal_id_birth_mismatch",
                f"Số định danh cho năm sinh {id_century + yy}, không khớp năm sinh {year}.",
            )
    if sex is not None and sex is not id_sex:
        return (
            "personal_id_sex_mismatch",
            f"Số định danh cho giới tính {id_sex.vietnamese}, "
            f"không khớp giới tính {sex.vietnamese}.",
        )
    return None


def _personal_id(text: str) -> str | None:
    """Return the ID number to check in a cell, or None when the cell holds none.

    "079 090 000 001" and "079.090.000.001" are one number. A "giấy tờ tùy thân" column
    often holds a description ("CCCD số 079090000001, cấp ngày …", "Hộ chiếu B1234567"):
    the one 12-digit number in it is checked; a description without one is not an error.
    """
    if not text:
        return None
    if not _WORD.search(text):  # no word: a number, maybe mistyped
        return _ID_SEPARATORS.sub("", text) or None
    numbers = _TWELVE_DIGITS.findall(text)
    return numbers[0] if len(numbers) == 1 else None


_WORD = re.compile(r"[^\W\d_]{2,}")
_ID_SEPARATORS = re.compile(r"[\s.]")
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _cleaned(row: RawRow) -> dict[str, str]:
    """Return each field's value cleaned (NFC, spaces collapsed): done once per row, as a row
    is read field by field many times over."""
    # clean_text, written out: a function call per cell was a third of this
    normalize = unicodedata.normalize
    return {
        name: " ".join(normalize("NFC", cell.value).split()) for name, cell in row.cells.items()
    }


# How many distinct texts validation shares at most (then it starts afresh), so that a
# column of distinct values (names, numbers) cannot grow its dicts without bound.
_SHARED_TEXTS = 1 << 16


def _clean(text: str) -> str:
    # clean_text, written out: NFC, runs of white space made one space, none at the ends.
    # A text already clean (nearly all) is given back itself, not an equal copy: the
    # registration holds it as its ``raw`` text already.
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    return text if cleaned == text else cleaned


class _Texts:
    """Each text a batch's rows say, held once: a register repeats its places, dates,
    years and relations in every row (10,000 births hold ~24,000 distinct values in 150,000
    cells) and a reader makes a new string for every cell; the registrations hold what
    this gives (their ``raw`` and their cleaned fields), so each repeated text once."""

    def __init__(self) -> None:
        self.shared: dict[str, str] = {}  # text -> the first string that said it
        self.clean = TextMemo(_clean, _SHARED_TEXTS)  # each distinct text cleaned once
        # the fields of a row, in order -> where each is (shared by the RowTexts of a table),
        # for rows whose cells are a plain mapping (read rows' RowCells carry their table's)
        self.places: dict[tuple[str, ...], dict[str, int]] = {}

    def of(self, row: RawRow) -> tuple[RowTexts, dict[str, str]]:
        """Return the text of each of a row's cells (the one held when it is held), and
        each cleaned (``_cleaned``)."""
        shared = self.shared
        if len(shared) > _SHARED_TEXTS:
            shared.clear()
        cells = row.cells
        values: Sequence[str]
        if isinstance(cells, RowCells):  # as read: where each field is is the table's
            at, values = cells.at, cells.texts
        else:
            names = tuple(cells)
            found = self.places.get(names)
            if found is None:
                if len(self.places) > 64:
                    self.places.clear()
                found = self.places[names] = {name: i for i, name in enumerate(names)}
            at, values = found, [cell.value for cell in cells.values()]
        texts = tuple(map(shared.setdefault, values, values))
        cleaned = dict(zip(at, map(self.clean.__getitem__, texts), strict=True))
        return RowTexts(at, texts), cleaned

    def cleaned(self, texts: Mapping[str, str]) -> dict[str, str]:
        """Return ``_cleaned`` of the row whose cells hold ``texts`` (field -> value)."""
        clean = self.clean
        return {name: clean[value] for name, value in texts.items()}


class RowProblems(Exception):
    """Every reason a row cannot become a letter, in the order of its columns' checks."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class RowReader:
    """Reads one row's fields, noting each problem (a RowProblem naming its column) and
    reading on, so that every problem of a row is reported at once.

    A kind's ``build`` (cchc_letters.kinds) reads its fields through this and notes its
    own checks with ``note``.
    """

    def __init__(self, row: RawRow, cleaned: dict[str, str] | None = None) -> None:
        self.row = row
        self.cleaned = _cleaned(row) if cleaned is None else cleaned
        self.problems: list[RowProblem] = []

    def note(self, problem: RowProblem) -> None:
        if not any(p.column == problem.column for p in self.problems):  # one per column
            self.problems.append(problem)

    def text(self, name: str) -> str:
        return self.cleaned.get(name, "")

    def name(self, name: str) -> str:
        """Return a name field's text in title case ('' when empty), one string per
        distinct name (``_title_cased``)."""
        return _title_cased(self.cleaned.get(name, ""))

    def require(self, name: str) -> str:
        value = self.cleaned.get(name, "")
        if not value:
            label = field_label(name)
            if name not in self.row.cells:
                self.note(
                    RowProblem(
                        "missing_field", f"Tệp không có cột {label} (thông tin bắt buộc).", name
                    )
                )
            else:
                self.note(RowProblem("missing_field", f"Thiếu {label} (thông tin bắt buộc).", name))
        return value

    def date(self, name: str) -> date | None:
        text = self.require(name)
        if not text:
            return None
        try:
            return parse_date(text)
        except DateProblem as exc:
            self.note(self._date_problem(name, exc))
            return None

    def date_or_year(self, name: str) -> tuple[Date | None, int | None]:
        text = self.text(name)
        if not text:
            return None, None
        try:
            return parse_date_or_year(text)
        except DateProblem as exc:
            self.note(self._date_problem(name, exc))
            return None, None

    def _date_problem(self, name: str, exc: DateProblem) -> RowProblem:
        label = field_label(name)
        if exc.impossible:
            return RowProblem(
                "impossible_date", f"{label.capitalize()} không có thật trên lịch.", name
            )
        return RowProblem(
            "unparseable_date",
            f"Không đọc được {label}: cần dạng ngày/tháng/năm, ví dụ 05/02/2024.",
            name,
        )

    def sex(self, name: str, default: Sex | None = None) -> Sex | None:
        text = self.text(name)
        if not text:
            return default
        sex = parse_sex(text)
        if sex is None:
            self.note(
                RowProblem(
                    "invalid_sex",
                    f"Không hiểu {field_label(name, 'giới tính')}: cần ghi Nam hoặc Nữ.",
                    name,
                )
            )
            return default
        return sex

    def person(
        self,
        prefix: str,
        *,
        sex: Sex | None = None,
        birth_field: str | None = None,
        required: bool = False,
        not_after: tuple[Date | None, str, str] | None = None,
    ) -> Person | None:
        fields = _PERSON_FIELDS.get(prefix) or _person_fields(prefix)
        name_field, birth, sex_field, id_field, residence, ethnicity, nationality, honorific = (
            fields
        )
        text = self.cleaned.get
        name = self.require(name_field) if required else text(name_field, "")
        if not name:
            return None
        birth_field = birth_field or birth
        if self.problems and any(p.column == birth_field for p in self.problems):
            birth_date, birth_year = None, None  # already reported (a required date)
        else:
            birth_date, birth_year = self.date_or_year(birth_field)
        sex = self.sex(sex_field, sex)
        if not_after is not None:
            limit, what, code = not_after
            if limit is None:
                pass  # the date to compare with is unknown
            elif (birth_date and birth_date > limit) or (birth_year and birth_year > limit.year):
                self.note(
                    RowProblem(code, f"Ngày sinh sau {what} ({limit:%d/%m/%Y}).", birth_field)
                )
        personal_id = _personal_id(text(id_field, ""))
        if personal_id:
            problem = check_personal_id(
                personal_id, sex=sex, birth_date=birth_date, birth_year=birth_year
            )
            if problem:
                self.note(RowProblem(*problem, id_field))
        return Person(
            full_name=_title_cased(name),
            sex=sex,
            birth_date=birth_date,
            birth_year=birth_year,
            personal_id=personal_id,
            residence=text(residence, "") or None,
            ethnicity=text(ethnicity, "") or None,
            nationality=text(nationality, "") or None,
            honorific=text(honorific, "").lower() or None,
        )


def _title_case(text: str) -> str:
    return title_case_name(text, cleaned=True)


# A row names its informant again as the father or the mother: each distinct name is title
# cased once and held once (the informant's is the parent's string, not a copy).
_title_cased = functools.lru_cache(maxsize=4096)(_title_case)


# A person's fields, by prefix ("mother" -> "mother_name", "mother_birth" …): named once.
_PERSON_FIELDS: dict[str, tuple[str, ...]] = {}


def _person_fields(prefix: str) -> tuple[str, ...]:
    names = ("name", "birth", "sex", "personal_id", "residence", "ethnicity", "nationality")
    fields = _PERSON_FIELDS[prefix] = tuple(f"{prefix}_{n}" for n in (*names, "honorific"))
    return fields


# How much of an over-long value the report shows (a 500-character cell would fill the row).
_SHOWN_OF_LONG_VALUE = 60


# The rows of a table have the same fields in the same order: their limits, in that order
# (no limit: the longest a text can be), per tuple of field names and limits dict.
_ALIGNED: dict[tuple[str, ...], tuple[dict[str, int], tuple[int, ...]]] = {}


def _aligned(names: tuple[str, ...], limits: dict[str, int]) -> tuple[int, ...]:
    found = _ALIGNED.get(names)
    if found is None or found[0] is not limits:
        if len(_ALIGNED) > 64:
            _ALIGNED.clear()
        found = _ALIGNED[names] = (limits, tuple(limits.get(n, sys.maxsize) for n in names))
    return found[1]


def check_lengths(read: RowReader, limits: dict[str, int]) -> None:
    """Note each printed field longer than its limit (data/columns.toml ``[limits]``): its
    letter would not fit one page, so the row is rejected rather than printed over two."""
    cleaned = read.cleaned
    if not any(map(gt, map(len, cleaned.values()), _aligned(tuple(cleaned), limits))):
        return  # nearly every row: each length compared with its limit, in C
    for name, value in cleaned.items():
        limit = limits.get(name)
        if limit is not None and len(value) > limit:
            label = field_label(name)
            read.note(
                RowProblem(
                    "value_too_long",
                    f"{label[:1].upper()}{label[1:]} dài {len(value)} ký tự, quá giới hạn "
                    f"{limit} ký tự: thư sẽ không vừa một trang. Kiểm tra lại ô này (có thể "
                    "đã dán nhiều ô vào một ô), viết gọn lại rồi chạy lại.",
                    name,
                    value=value[:_SHOWN_OF_LONG_VALUE].rstrip() + "…",
                )
            )


def _registration(
    row: RawRow,
    letter_date: date,
    cleaned: dict[str, str] | None = None,
    limits: dict[str, int] | None = None,
    texts: Mapping[str, str] | None = None,
) -> Registration:
    """Return the registration of a row; RowProblems listing every problem it has.

    What is common to every kind is read here; the rest by the kind's registry entry
    (``build``); a row of a kind nobody registered is an error, never another kind.
    """
    from cchc_letters.kinds import entry

    try:
        kind = entry(row.kind) if row.kind is not None else None
    except LookupError:
        kind = None
    if kind is None:
        raise RowProblem(
            "unknown_kind",
            f"Không xác định được loại sổ ({_kind_names()}).",
            "kind",
        )
    read = RowReader(row, cleaned)
    # Required fields first, so that each row's list starts with what is missing.
    for name in kind.required:
        read.require(name)
    read.text("registration_number")
    reg_date = read.date("registration_date")
    if reg_date is not None and reg_date > letter_date:
        read.note(
            RowProblem(
                "registered_after_letter_date",
                f"Ngày đăng ký sau ngày ký thư ({letter_date:%d/%m/%Y}).",
                "registration_date",
            )
        )
    check_lengths(read, field_limits() if limits is None else limits)
    common = dict(
        kind=kind.kind,
        number=read.text("registration_number"),
        book=read.text("book_number"),
        registration_date=reg_date,
        source=row.source,
        raw=_texts(row) if texts is None else texts,
        understood=row.understood,
        note=read.text("note") or None,
    )
    registration = kind.build(read, common)
    if read.problems or registration is None:
        raise RowProblems(read.problems)
    return registration


def _kind_names() -> str:
    """Return the registers' Vietnamese names for a message: "khai sinh / kết hôn / khai tử"."""
    from cchc_letters.kinds import entries

    return " / ".join(e.vietnamese for e in entries())


# What a row says (its kind and its non-empty fields), equal for exact repeats (_content).
_Content = tuple[Kind | None, tuple[tuple[str, str], ...]]


def _texts(row: RawRow) -> dict[str, str]:
    """Return the text of each of a row's cells (a registration's ``raw``)."""
    return {name: cell.value for name, cell in row.cells.items()}


def _content(kind: Kind | None, cleaned: dict[str, str]) -> _Content:
    """Return what a row of ``kind`` says, from its cells ``_cleaned``: equal for rows that
    are exact repeats.

    The STT and the kind column's wording ("KS" / "khai sinh") are not content; spacing
    and NFC/NFD differences are not either.
    """
    if "serial" in cleaned or "kind" in cleaned:
        cleaned = {n: v for n, v in cleaned.items() if n not in ("serial", "kind")}
    # (name, value) pairs sorted, without the empty values: done in C, not per pair
    return kind, tuple(filter(itemgetter(1), sorted(cleaned.items())))


def _meaning(registration: Registration) -> Registration:
    """Return the registration without its provenance: equal when two rows say the same
    thing in different spellings (a date typed in one export, a serial number in another;
    a name in capitals in one, title case in the other)."""
    return replace(
        registration,
        source=SourceRef("", None, 0),
        raw={},
        number=canonical_register_id(registration.number),
        book=canonical_register_id(registration.book),
    )


def _where(source: SourceRef) -> str:
    sheet = f", trang {source.sheet}" if source.sheet else ""
    return f"dòng {source.row}{sheet} của tệp {source.file}"


def _issue(
    row: RawRow,
    code: str,
    message: str,
    column: str | None,
    severity: str = "error",
    value: str | None = None,
) -> Issue:
    cell = row.cells.get(column) if column else None
    return _issue_at(row.source, cell, code, message, column, severity, value)


def _issue_at(
    source: SourceRef,
    cell: RawCell | None,
    code: str,
    message: str,
    column: str | None,
    severity: str = "error",
    value: str | None = None,
) -> Issue:
    """Return the Issue of the row at ``source`` whose cell of ``column`` is ``cell``."""
    return Issue(
        code=code,
        message=message,
        source=source,
        column=cell.heading if cell else (field_label(column) if column else None),
        value=value if value is not None else (cell.value if cell else None),
        severity=severity,
    )


_K = TypeVar("_K")
_V = TypeVar("_V")
# What validate_rows has seen, by key: the first value itself (nearly every key has one), a
# list when there are more. A list each was 100 bytes a row, two per row while reading.
_Firsts = dict[_K, _V | list[_V]]


def _add(firsts: _Firsts[_K, _V], key: _K, value: _V) -> None:
    """Add ``value`` to those of ``key``."""
    held = firsts.get(key)
    if held is None:
        firsts[key] = value
    elif isinstance(held, list):
        held.append(value)
    else:
        firsts[key] = [held, value]


def _all(firsts: _Firsts[_K, _V], key: _K) -> Sequence[_V]:
    """Return the values of ``key``, in the order they were added."""
    held = firsts.get(key)
    if held is None:
        return ()
    return held if isinstance(held, list) else (held,)


def validate_rows(rows: Iterable[RawRow], *, letter_date: date) -> ValidationResult:
    """Return the registrations built from ``rows`` and one Issue per row that cannot be used.

    ``rows`` are taken one at a time and none is kept (``ingest.open_inputs`` reads them as
    they are asked for): what the repeats are compared with is what each row's
    registration holds anyway. ``rows_read`` counts every row; ``duplicates`` the exact
    repeats (one "duplicate" Issue each, no letter, not an error).
    """
    result = ValidationResult()
    limits = field_limits()
    # hash of what a row says -> the rows that said it first: where each came from, its
    # kind and its cells' texts (the same mapping as its registration's ``raw``, so only a
    # rejected row's is held for this alone). A repeat's content is worked out again from
    # those texts and compared in full: equal hashes are not taken for equal rows.
    seen_content: _Firsts[int, tuple[SourceRef, Kind | None, Mapping[str, str]]] = {}
    # key -> the distinct versions of that registration: (registration, its số's heading)
    versions: _Firsts[tuple[Kind, str, str, int], tuple[Registration, str | None]] = {}
    held = _Texts()
    rows_read = 0
    for row in rows:
        rows_read += 1
        if row.problem is not None:  # read unfaithfully (NUL byte, another encoding)
            result.issues.append(_issue(row, *row.problem, None))
            continue
        texts, cleaned = held.of(row)
        content = _content(row.kind, cleaned)
        hashed = hash(content)
        first = next(
            (
                source
                for source, kind, earlier in _all(seen_content, hashed)
                if _content(kind, held.cleaned(earlier)) == content
            ),
            None,
        )
        if first is not None:
            # The same export given twice, or a row copied twice: not an error, one letter.
            result.duplicates += 1
            result.issues.append(
                _issue(
                    row,
                    "duplicate_row",
                    f"Trùng hoàn toàn với {_where(first)}; bỏ qua.",
                    "registration_number",
                    severity="duplicate",
                )
            )
            continue
        _add(seen_content, hashed, (row.source, row.kind, texts))
        try:
            registration = _registration(row, letter_date, cleaned, limits, texts)
        except RowProblem as problem:
            result.issues.append(
                _issue(row, problem.code, problem.message, problem.column, value=problem.value)
            )
            continue
        except RowProblems as problems:
            result.issues.extend(
                _issue(row, p.code, p.message, p.column, value=p.value) for p in problems.problems
            )
            continue
        # The registry's identity of a record is (số, quyển, năm đăng ký) per register;
        # "01" and "1" are the same number: the parts of the ledger's and the manifest's
        # RegistrationKey (the batch has one commune), without making one for each row.
        key = (
            registration.kind,
            canonical_register_id(registration.book),
            canonical_register_id(registration.number),
            registration.registration_date.year,
        )
        same = None
        if key in versions:  # rare: compared by meaning only when the key was seen before
            meaning = _meaning(registration)
            same = next((v for v in _all(versions, key) if _meaning(v[0]) == meaning), None)
        if same is not None:
            result.duplicates += 1
            result.issues.append(
                _issue(
                    row,
                    "duplicate_row",
                    f"Cùng đăng ký và cùng nội dung với {_where(same[0].source)}; bỏ qua.",
                    "registration_number",
                    severity="duplicate",
                )
            )
            continue
        cell = row.cells.get("registration_number")
        _add(versions, key, (registration, cell.heading if cell else None))
        result.registrations.append(registration)
    result.rows_read = rows_read
    # A registration seen with different content (a record corrected between two cumulative
    # exports given together): which version is right cannot be told from the files, so no
    # version gets a letter — each is rejected, naming the others.
    conflicting: set[int] = set()
    for of_key in versions.values():
        if not isinstance(of_key, list):
            continue  # one version
        for registration, heading in of_key:
            conflicting.add(id(registration))
            others = "; ".join(_where(r.source) for r, _ in of_key if r is not registration)
            number = registration.raw.get("registration_number")
            result.issues.append(
                _issue_at(
                    registration.source,
                    RawCell(heading, number)
                    if heading is not None and number is not None
                    else None,
                    "conflicting_registration",
                    f"Cùng số {registration.number}, quyển {registration.book or '-'}, năm "
                    f"{registration.registration_date.year} với {others} nhưng nội dung "
                    "khác; không in thư nào cho đăng ký này — kiểm tra lại sổ, sửa hoặc bỏ "
                    "dòng sai rồi chạy lại.",
                    "registration_number",
                )
            )
    if conflicting:
        result.registrations = [r for r in result.registrations if id(r) not in conflicting]
    return result
