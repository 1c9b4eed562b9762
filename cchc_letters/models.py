"""Frozen records that flow through the pipeline: raw rows, registrations, issues, letters."""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
from collections.abc import Callable, ItemsView, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, TypeVar, cast

from cchc_letters.errors import ExitCode
from cchc_letters.memo import TextMemo

if TYPE_CHECKING:
    from cchc_letters.batch_outputs import Output
    from cchc_letters.delivery import DeliverySheet
    from cchc_letters.identity import Identity
    from cchc_letters.ledger import LedgerEntry


class _KindType(type):
    """Iterating ``Kind`` gives the kinds in use, in the order they were defined."""

    def __iter__(cls) -> Iterator[Kind]:
        return iter(tuple(cls._defined.values()))  # type: ignore[attr-defined]

    def __len__(cls) -> int:
        return len(cls._defined)  # type: ignore[attr-defined]

    def __contains__(cls, value: object) -> bool:
        return value in cls._defined  # type: ignore[attr-defined]


class Kind(str, metaclass=_KindType):
    """A letter kind's id ("birth", "marriage", "death", or one registered later).

    A ``str`` (it prints, sorts, compares and stores as its id, as the enum it replaces
    did), but not a closed enum: ``cchc_letters.kinds.register`` adds a kind, and what the
    kind *is* (its names, fields, template, context) lives in its registry entry.
    ``Kind("birth")`` returns the one ``Kind.BIRTH``; an id that is not defined is a
    ValueError, never another kind.
    """

    _defined: ClassVar[dict[str, Kind]] = {}
    _names: ClassVar[dict[str, str]] = {}  # id -> Vietnamese name
    BIRTH: ClassVar[Kind]
    MARRIAGE: ClassVar[Kind]
    DEATH: ClassVar[Kind]

    def __new__(cls, value: str) -> Kind:
        try:
            return cls._defined[str(value)]
        except KeyError:
            known = ", ".join(cls._defined)
            raise ValueError(f"{value!r} is not a letter kind (known: {known})") from None

    @classmethod
    def define(cls, value: str, vietnamese: str | None = None) -> Kind:
        """Return the kind ``value``, defining it when new (``kinds.register`` calls this);
        ``vietnamese`` names it in running text."""
        if vietnamese:
            cls._names[value] = vietnamese
        if value not in cls._defined:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
                raise ValueError(f"{value!r}: a kind id is lower-case ASCII letters and digits")
            cls._defined[value] = str.__new__(cls, value)
        return cls._defined[value]

    @classmethod
    def forget(cls, value: str) -> None:
        """Undefine a kind added at run time (the three built-in kinds stay)."""
        if value not in _BUILT_IN_KINDS:
            cls._defined.pop(value, None)
            cls._names.pop(value, None)

    @property
    def value(self) -> str:
        """Return the id as plain text (as ``Enum.value`` did)."""
        return str.__str__(self)

    @property
    def vietnamese(self) -> str:
        """Return the book's Vietnamese name (khai sinh / kết hôn / khai tử)."""
        return Kind._names.get(self.value, self.value)

    def __repr__(self) -> str:
        return f"Kind({self.value!r})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Kind, (self.value,))

    def __copy__(self) -> Kind:
        return self

    def __deepcopy__(self, memo: Any) -> Kind:
        return self


def _built_in_kinds() -> dict[str, str]:
    """Return the built-in kinds of data/kinds.toml: id -> Vietnamese name."""
    from cchc_letters import cache
    from cchc_letters.resources import data_dir

    kinds = cache.load_toml(data_dir() / "kinds.toml")["kinds"]
    return {k: spec["vietnamese"] for k, spec in kinds.items()}


_BUILT_IN_KINDS = _built_in_kinds()
for _id, _name in _BUILT_IN_KINDS.items():
    Kind.define(_id, _name)
Kind.BIRTH, Kind.MARRIAGE, Kind.DEATH = Kind("birth"), Kind("marriage"), Kind("death")


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def vietnamese(self) -> str:
        return "Nam" if self is Sex.MALE else "Nữ"


@dataclass(frozen=True, slots=True)  # slots: one per row, held by its registration
class SourceRef:
    """Where a row came from, as the user sees it: file, sheet (None for CSV), row number."""

    file: str
    sheet: str | None
    row: int

    def __str__(self) -> str:
        sheet = f" [{self.sheet}]" if self.sheet else ""
        return f"{self.file}{sheet}:{self.row}"


@dataclass(frozen=True, slots=True)  # slots: a 10,000-row register holds 150,000 of them
class RawCell:
    """One cell as read: the column heading as written in the file and the value as text."""

    heading: str
    value: str


class RowCells(Mapping[str, RawCell]):
    """A read row's ``cells``: field -> RawCell(heading, value), each made when asked for.

    A dict of RawCells was a sixth of reading a register (15 objects a row). Here the fields
    (``at``: field -> position) and their headings are the table's, shared by its rows, and a
    row holds its values, one tuple; validation reads ``texts`` as it is.
    """

    __slots__ = ("_at", "_headings", "texts")

    def __init__(
        self, at: Mapping[str, int], headings: tuple[str, ...], texts: tuple[str, ...]
    ) -> None:
        self._at = at
        self._headings = headings
        self.texts = texts

    @property
    def at(self) -> Mapping[str, int]:
        """Each field's position in ``texts`` (the table's, shared by its rows)."""
        return self._at

    @property
    def headings(self) -> tuple[str, ...]:
        """Each field's column heading as written, in the order of ``texts``."""
        return self._headings

    def __getitem__(self, name: str) -> RawCell:
        i = self._at[name]
        return RawCell(self._headings[i], self.texts[i])

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


@dataclass(frozen=True)
class RawRow:
    """A row read from an input file, mapped to canonical field names but not yet checked.

    ``cells`` maps canonical field names (see data/columns.toml) to the raw cell; fields the
    file lacks are absent. ``kind`` is the register the file or the row's kind column says,
    or None when unknown.
    """

    source: SourceRef
    kind: Kind | None
    cells: Mapping[str, RawCell]
    # fields whose heading was understood from its parts (ingest/headings.py), not found in
    # columns.toml: cchc-letters 0.1 did not read them, so its content hash leaves them out
    understood: frozenset[str] = frozenset()
    # (reason code, Vietnamese reason) when the row could not be read faithfully (a NUL
    # byte, a line in another encoding): validation rejects it with that reason.
    problem: tuple[str, str] | None = None

    def value(self, name: str) -> str:
        """Return the stripped raw text of a field, or '' when absent."""
        cell = self.cells.get(name)
        return cell.value.strip() if cell else ""


class RowTexts(Mapping[str, str]):
    """A registration's ``raw``: each field's text as its row gave it, in the row's order.

    A dict of its own was the largest part of a registration (450 bytes for 15 fields);
    here where each field is (``at``: field -> position) is shared by the rows of a table,
    and a row's texts are one tuple. Read only, as the frozen registration holding it.
    """

    __slots__ = ("_at", "_texts")

    def __init__(self, at: Mapping[str, int], texts: tuple[str, ...]) -> None:
        self._at = at
        self._texts = texts

    def __getitem__(self, name: str) -> str:
        return self._texts[self._at[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._texts)

    def items(self) -> ItemsView[str, str]:
        return _RowTextItems(self)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _RowTextItems(ItemsView[str, str]):
    """``RowTexts.items()``: the pairs made in C (the content hash reads every one)."""

    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        # MappingView keeps its mapping in _mapping (which typeshed does not declare)
        texts = cast(RowTexts, self._mapping)  # type: ignore[attr-defined]
        return zip(texts._at, texts._texts, strict=True)


class IssueRow(TypedDict):
    """An Issue as one row of a report (``Issue.as_row``), in the order of the columns."""

    file: str | None
    sheet: str | None
    row: int | None  # as the user sees it (the spreadsheet's row number)
    column: str | None
    value: str | None
    reason: str
    code: str
    severity: str


@dataclass(frozen=True)
class Issue:
    """A problem with an input row or file: data, collected and reported together.

    ``code`` is a stable English reason code; ``message`` is plain Vietnamese.
    ``severity`` is "error" (the row gets no letter), "duplicate" (an exact repeat, ignored)
    or "warning" (the letter is still written).
    """

    code: str
    message: str
    source: SourceRef | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"
    file: str | None = None  # for file-level issues without a row

    def as_row(self) -> IssueRow:
        """Return the issue as one row of a report (rejects.csv, `check --json`): file,
        sheet, row, column, value, reason, code, severity; None where it has none."""
        source = self.source
        return {
            "file": source.file if source else self.file,
            "sheet": source.sheet if source else None,
            "row": source.row if source else None,
            "column": self.column,
            "value": self.value,
            "reason": self.message,
            "code": self.code,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)  # slots: a batch of births holds three per row
class Person:
    """A person named in a registration, normalised (NFC, title-case name)."""

    full_name: str
    sex: Sex | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    personal_id: str | None = None
    residence: str | None = None
    ethnicity: str | None = None
    nationality: str | None = None
    honorific: str | None = None  # an officer's override ("ông", "bà", "cụ", ...)

    @property
    def year_of_birth(self) -> int | None:
        """Return the year of birth from the full date or the year alone."""
        return self.birth_date.year if self.birth_date else self.birth_year


_T = TypeVar("_T")
_DIGITS = re.compile(r"\d+")
# The content hash of a registration (Registration.content_hash): a version prefix, then
# field=digest pairs. A ledger may also hold 0.1 hashes (16 hex digits, no prefix).
MEANING_PREFIX = "m1:"
_EVENT_FIELDS = frozenset({"death_date"})


def _plain(text: str) -> str:
    """Return free text in the one form compared: NFC, spaces collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


_DIGEST_LENGTH = 10  # hex digits of a field's digest in a content hash


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:_DIGEST_LENGTH]


# A register repeats its places, dates, years and relations thousands of times (10,000
# births hold ~24,000 distinct values in 150,000 fields): each distinct one is normalised
# and hashed once.
_PLAIN: TextMemo[str] = TextMemo(_plain)
_DIGEST: TextMemo[str] = TextMemo(_digest)


def plain(text: str) -> str:
    """Return free text in the one form compared (NFC, spaces collapsed, case folded):
    the meaning of a name or an address, and the name in a person's identity."""
    return _PLAIN[text]


@functools.lru_cache(maxsize=4096)  # 10,000 births hold ~420 birth dates, fewer of registration
def iso_date(day: date) -> str:
    """Return ``day.isoformat()``, written out once per date: ``date.isoformat`` formats
    with printf, ten times the cost of this lookup, and a batch asks for each row's dates
    in its meaning, identities, manifest and ledger rows."""
    return day.isoformat()


class _HashLayout:
    """The fields of a content hash in its (sorted) order, and how its text is written.

    A registration keeps its content hash packed: its table's layout (shared by every row
    of the table) and each field's digest as bytes. The text is written when asked for. A
    batch keeps every letter's hash from its writing to the ledger's commit, and the text
    (391 characters for a birth) took 440 bytes a letter, 41 MB of a province's year, where
    the packed hash takes about 160.
    """

    __slots__ = ("names", "_format", "_digits")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = tuple(sorted(names))
        labels = [name.replace("%", "%%") + "=%s" for name in self.names]
        self._format = MEANING_PREFIX + ",".join(labels)
        # (one slice gives one text, which % takes as well as a tuple of one)
        spans = [
            slice(at, at + _DIGEST_LENGTH)
            for at in range(0, len(labels) * _DIGEST_LENGTH, _DIGEST_LENGTH)
        ]
        self._digits = operator.itemgetter(*spans) if spans else None

    def pack(self, digests: list[str]) -> PackedHash:
        """Return the packed hash of the fields' hex ``digests``, in ``names``' order."""
        return self, bytes.fromhex("".join(digests))

    def text(self, packed: bytes) -> str:
        """Return the content hash's text of the packed digests."""
        if self._digits is None:
            return self._format  # no field: the prefix alone
        text: str = self._format % self._digits(packed.hex())
        return text


PackedHash = tuple[_HashLayout, bytes]

# The layout of the fields a meaning has, in the order it has them: the rows of a table
# share theirs, so they are sorted once per table, not once per row.
_HASH_LAYOUTS: dict[tuple[str, ...], _HashLayout] = {}


def _hash_layout(names: tuple[str, ...]) -> _HashLayout:
    """Return the content hash's layout of ``names`` (see ``_HASH_LAYOUTS``)."""
    layout = _HASH_LAYOUTS.get(names)
    if layout is None:
        if len(_HASH_LAYOUTS) >= 256:  # a process reading file after file of other layouts
            _HASH_LAYOUTS.clear()
        layout = _HASH_LAYOUTS[names] = _HashLayout(names)
    return layout


# What a field of ``Registration.raw`` is, for its meaning (``Registration.meaning``).
_SKIP, _REGISTER_ID, _REGISTRATION_DATE, _FREE_TEXT, _BIRTH, _NAME, _SEX, _PERSONAL_ID = range(8)


def _field_role(name: str) -> tuple[int, str, bool]:
    """Return (role, the prefix of the person the field may be of, whether it may be an
    event's date) of a field name: "mother_birth" -> (_BIRTH, "mother", False)."""
    if name in ("serial", "kind"):  # the STT and the kind column are not content
        return _SKIP, "", False
    if name in ("registration_number", "book_number"):
        return _REGISTER_ID, "", False
    if name == "registration_date":
        return _REGISTRATION_DATE, "", False
    prefix, _, attr = name.partition("_")
    if attr in ("birth", "birth_date"):
        role = _BIRTH
    elif attr == "name":
        role = _NAME
    elif attr == "sex":
        role = _SEX
    elif attr == "personal_id":
        role = _PERSONAL_ID
    else:
        role = _FREE_TEXT
    return role, prefix, name in _EVENT_FIELDS


_ROLES: TextMemo[tuple[int, str, bool]] = TextMemo(_field_role)

# Annotations of record fields that never hold a Person (``_people_fields``).
_NOT_PERSON = frozenset(
    {"str", "str | None", "int", "int | None", "date", "date | None", "Kind", "SourceRef"}
    | {"Mapping[str, str]", "frozenset[str]", "dict[str, Any]"}
)


_PEOPLE_FIELDS: dict[type, tuple[str, ...]] = {}


def _people_fields(record: Registration) -> tuple[str, ...]:
    """Return the fields of a record's class that may hold a Person: the others are texts,
    dates and numbers (``dataclasses.fields`` builds a new tuple on every call)."""
    cls = type(record)
    found = _PEOPLE_FIELDS.get(cls)
    if found is None:
        found = _PEOPLE_FIELDS[cls] = tuple(
            f.name for f in fields(record) if str(f.type) not in _NOT_PERSON
        )
    return found


_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)  # a row's số and quyển are asked for several times
def canonical_register_id(text: str) -> str:
    """Return a số đăng ký or quyển số in the one form used to compare registrations.

    The registry writes the same number as 5, "05" or "005", and a book as "01/2026",
    "1/2026" or "Quyển 01/2026": leading zeros of every digit run are dropped, spaces
    removed and case folded (NFC first), so an XLSX holding numbers and a CSV holding text
    give the same key. Printed letters keep the number as written; only keys use this.

    Whatever a cell holds, the result is one part of the key ``commune:kind:year:book:number``
    that reads back the same: a ":" ("Quyển 01: 2026") becomes "/", a lone "-" (written for
    "no book") is empty, as ``str(RegistrationKey)`` prints it, and digit runs of any
    length are fine (``int()`` refuses more than 4,300 digits).
    """
    if text.isascii() and text.isdigit():  # most numbers: "00012" -> "12"
        return text.lstrip("0") or "0"
    text = _SPACE.sub("", unicodedata.normalize("NFC", text)).casefold().replace(":", "/")
    text = _DIGITS.sub(lambda m: m[0].lstrip("0") or "0", text)
    return "" if text == "-" else text


@dataclass(frozen=True, slots=True)  # slots: one per registration, remembered by it
class RegistrationKey:
    """The registry's own identity of a record: (commune, kind, book, number, year).

    ``book`` and ``number`` are stored in canonical form (see ``canonical_register_id``),
    so two keys are equal, and print equal, whenever they name the same registration.
    """

    commune: str
    kind: Kind
    book: str
    number: str
    year: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "book", canonical_register_id(self.book))
        object.__setattr__(self, "number", canonical_register_id(self.number))

    def __str__(self) -> str:
        book = self.book or "-"
        return f"{self.commune}:{self.kind.value}:{self.year}:{book}:{self.number}"

    @classmethod
    def parse(cls, text: str) -> RegistrationKey:
        """Parse the ``commune:kind:year:book:number`` form that ``str()`` writes."""
        commune, kind, year, book, number = text.split(":")
        return cls(commune, Kind(kind), "" if book == "-" else book, number, int(year))


# Fields cchc-letters 0.1 did not know: left out of its hash, as it never read them.
FIELDS_AFTER_0_1 = frozenset({"phone"})


class _Remembered:
    """What a registration computes once (``Registration._once``): its key, content hash
    and identities. Slots, not fields of the record: not compared, printed, copied by
    ``replace`` or pickled; unset until computed (a kind's record class without slots of its
    own has them too). 8 bytes each, where a dict of them was 184 bytes a registration and
    its "_key:COMMUNE" entry's name 59 more."""

    __slots__ = ("_memo_key", "_memo_hash", "_memo_event", "_memo_subject")
    _memo_key: RegistrationKey
    _memo_hash: PackedHash
    _memo_event: Identity
    _memo_subject: Identity


@dataclass(frozen=True, kw_only=True, slots=True)  # slots: a batch holds one per row
class Registration(_Remembered):
    """A checked registration record; subclasses carry the kind-specific people and dates."""

    kind: Kind
    number: str  # số đăng ký, as text (leading zeros kept)
    book: str  # quyển số, as text ('' when the export has none)
    registration_date: date
    source: SourceRef
    raw: Mapping[str, str] = field(default_factory=dict)  # field -> raw text, for audit
    note: str | None = None
    understood: frozenset[str] = frozenset()  # fields of `raw` that 0.1 did not recognise

    def _once(self, name: str, compute: Callable[[], _T]) -> _T:
        """Return ``compute()``, computed once per record: a registration is frozen, and
        the manifest, the ledger, the selection and the delivery sheet each ask for its key
        and content hash (10,000 letters computed the canonical số 160,000 times). The value
        lives in the slot ``name`` (``_Remembered``'s), which equality, repr and ``replace``
        do not see."""
        value = getattr(self, name, None)
        if value is None:
            value = compute()
            object.__setattr__(self, name, value)
        return value

    def content_hash(self) -> str:
        """Return the record's content in a form the ledger keeps, to notice a correction.

        Each field enters as a short digest of its normalised meaning (see ``meaning``):
        "MEANING_PREFIX" then ``field=digest`` pairs. A date typed or given as a serial
        number, a name in capitals or title case, "05" or 5 mean the same; and a field that
        one reading has and the other lacks (a column recognised only by a newer version,
        or a --mapping added) is no correction: ``same_content`` compares the fields both
        have.
        """
        layout, digests = self._once("_memo_hash", self._packed_hash)
        return layout.text(digests)

    def remember_content(self) -> None:
        """Work out the content hash now and keep it (packed), for ``content_hash`` later."""
        self._once("_memo_hash", self._packed_hash)

    def _packed_hash(self) -> PackedHash:
        meaning, digest = self.meaning(), _DIGEST
        layout = _hash_layout(tuple(meaning))
        return layout.pack([digest[meaning[name]] for name in layout.names])

    def _digests(self) -> dict[str, str]:
        """Return the digest of each field's meaning, read back from ``content_hash``."""
        pairs = self.content_hash()[len(MEANING_PREFIX) :].split(",")
        return dict(pair.split("=", 1) for pair in pairs if "=" in pair)

    def same_content(self, stored: str) -> bool:
        """True when ``stored`` (a ledger's content hash) says what this record says.

        A hash of cchc-letters 0.1 (over the raw text of the columns it mapped) is compared
        as that version computed it, over the columns it would have read.
        """
        if not stored.startswith(MEANING_PREFIX):
            return stored in self.content_hashes()
        if stored == self.content_hash() and stored != MEANING_PREFIX:
            return True  # the usual case, a record unchanged: nothing to take apart
        then = dict(
            pair.split("=", 1) for pair in stored[len(MEANING_PREFIX) :].split(",") if "=" in pair
        )
        now = self._digests()
        common = then.keys() & now.keys()
        return bool(common) and all(then[name] == now[name] for name in common)

    def content_hashes(self) -> frozenset[str]:
        """Return every hash a ledger may hold for this content: the current one and the two
        of cchc-letters 0.1 (số and quyển canonical, and as written)."""
        return frozenset(
            (self.content_hash(), self._hash(canonical=True), self._hash(canonical=False))
        )

    def _hash(self, *, canonical: bool) -> str:
        """The 0.1 hash: the raw text of the mapped columns (those 0.1 recognised)."""

        def value(name: str, text: str) -> str:
            if canonical and name in ("registration_number", "book_number"):
                return canonical_register_id(text)
            return text.strip()

        payload = "\x1f".join(
            f"{k}={value(k, v)}"
            for k, v in sorted(self.raw.items())
            if k != "kind" and k not in self.understood and k not in FIELDS_AFTER_0_1
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def meaning(self) -> dict[str, str]:
        """Return each field the export gave (also empty ones), normalised to its meaning:
        dates ISO, names and free text NFC in one case with spaces collapsed, số and quyển
        canonical, sex as male/female. The STT and the kind column are not content."""
        return self._meaning()

    def _meaning(self) -> dict[str, str]:
        # One pass over the fields; what each field name is (_field_role), and the plain
        # form of each distinct text, are worked out once, not once per record.
        people = {
            name: value
            for name in _people_fields(self)
            if isinstance(value := getattr(self, name), Person)
        }
        roles, plain = _ROLES, _PLAIN
        out: dict[str, str] = {}
        for name, text in self.raw.items():
            role, prefix, event = roles[name]
            if role == _SKIP:
                continue
            if role == _REGISTER_ID:
                out[name] = canonical_register_id(text)
                continue
            if role == _REGISTRATION_DATE:
                out[name] = iso_date(self.registration_date)
                continue
            if event and isinstance(value := getattr(self, name, None), date):
                out[name] = iso_date(value)
                continue
            person = people.get(prefix) if role != _FREE_TEXT else None
            if person is not None:
                if role == _BIRTH:
                    if person.birth_date:
                        out[name] = iso_date(person.birth_date)
                        continue
                    if person.birth_year:
                        out[name] = str(person.birth_year)
                        continue
                elif role == _NAME:
                    out[name] = plain[person.full_name]
                    continue
                elif role == _SEX:
                    if person.sex:
                        out[name] = person.sex.value
                        continue
                elif role == _PERSONAL_ID and person.personal_id:
                    out[name] = person.personal_id
                    continue
            out[name] = plain[text]
        return out

    def key(self, commune: str) -> RegistrationKey:
        """Return the de-duplication key of this record within ``commune`` (remembered for
        the last commune asked: a batch has one)."""
        key: RegistrationKey | None = getattr(self, "_memo_key", None)
        if key is None or key.commune != commune:
            key = RegistrationKey(
                commune, self.kind, self.book, self.number, self.registration_date.year
            )
            object.__setattr__(self, "_memo_key", key)
        return key


@dataclass(frozen=True, kw_only=True, slots=True)
class Birth(Registration):
    child: Person
    birth_place: str | None = None
    mother: Person | None = None
    father: Person | None = None
    informant_name: str | None = None
    informant_relation: str | None = None
    phone: str | None = None  # the family's, when the export has one (session lists only)


@dataclass(frozen=True, kw_only=True, slots=True)
class Marriage(Registration):
    husband: Person
    wife: Person


@dataclass(frozen=True, kw_only=True, slots=True)
class Death(Registration):
    deceased: Person
    death_date: date
    death_time: str | None = None
    death_place: str | None = None
    informant_name: str | None = None
    informant_relation: str | None = None


# ---- what a batch is asked (pipeline.run_batch) and what it produced ------------------------


@dataclass(slots=True)  # slots: a batch holds one per letter (128 -> 80 bytes each)
class PrintedLetter:
    """One letter written to a print file (a manifest row)."""

    registration: Registration
    key: str
    addressee: str
    print_file: Path
    position: int
    schedule_version: str = ""


@dataclass
class ChangedRecord:
    """A registration whose content differs from the letter already printed for it."""

    registration: Registration
    key: str
    previous: LedgerEntry  # the letter printed before
    reprinted: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "printed_key": self.previous.key,  # another key when the key itself was corrected
            "content_hash": self.registration.content_hash(),
            "printed_content_hash": self.previous.content_hash,
            "printed_batch": self.previous.batch,
            "printed_file": self.previous.print_file,
            "printed_position": self.previous.position,
            "printed_at": self.previous.printed_at,
            "reprinted": self.reprinted,
            "source": str(self.registration.source),
        }


@dataclass
class BatchResult:
    """What a batch produced; ``to_json()`` is the `generate --json` object."""

    batch_dir: Path | None
    letters: dict[Kind, int]
    files: list[Path]
    rejected: int
    rejects_file: Path | None
    manifest_file: Path | None
    rows_read: int = 0
    duplicates: int = 0
    unreadable_files: int = 0
    skipped_already_printed: int = 0
    profile_path: Path | None = None
    profile_is_default: bool = False
    pdf_files: list[Path] = field(default_factory=list)
    pdf_message: str | None = None
    issues: list[Issue] = field(default_factory=list)
    printed: list[PrintedLetter] = field(default_factory=list)
    changed: list[ChangedRecord] = field(default_factory=list)
    changed_file: Path | None = None
    recovered: list[Path] = field(default_factory=list)  # batches reconciled from a crash
    removed_incomplete: list[Path] = field(default_factory=list)  # dead staging folders
    # birth letters printed before for children whose death is registered now: not to deliver
    do_not_deliver: list[dict[str, Any]] = field(default_factory=list)
    delivery: DeliverySheet | None = None  # the batch's delivery sheet, None without one
    # what each output format wrote beside the letters, by writer name (batch_outputs.py)
    outputs: dict[str, Output] = field(default_factory=dict)

    @classmethod
    def failed_json(cls) -> dict[str, Any]:
        """Return the ``to_json()`` keys of a run that wrote nothing (for a fatal error)."""
        payload = cls(None, {}, [], 0, None, None).to_json()
        del payload["exit_code"]
        return payload

    @property
    def exit_code(self) -> ExitCode:
        """0 when every row became a letter; 3 when any row or file was rejected."""
        return ExitCode.REJECTED if self.rejected or self.unreadable_files else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_dir": str(self.batch_dir) if self.batch_dir else None,
            "letters": {kind.value: self.letters.get(kind, 0) for kind in Kind},
            "files": [str(p) for p in self.files],
            "rejected": self.rejected,
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "skipped_already_printed": self.skipped_already_printed,
            "changed": [c.to_json() for c in self.changed],
            "changed_file": str(self.changed_file) if self.changed_file else None,
            "recovered_batches": [str(p) for p in self.recovered],
            "removed_incomplete": [str(p) for p in self.removed_incomplete],
            "withheld": [
                {"source": str(i.source), "code": i.code, "reason": i.message}
                for i in self.issues
                if i.severity == "withheld"
            ],
            "do_not_deliver": self.do_not_deliver,
            "manifest": str(self.manifest_file) if self.manifest_file else None,
            "delivery_sheet": self.delivery.to_json() if self.delivery else None,
            "rows_read": self.rows_read,
            "duplicates": self.duplicates,
            "unreadable_files": self.unreadable_files,
            "pdf_files": [str(p) for p in self.pdf_files],
            "pdf_message": self.pdf_message,
            "outputs": {name: written.to_json() for name, written in self.outputs.items()},
            "profile": str(self.profile_path) if self.profile_path else None,
            "exit_code": int(self.exit_code),
        }
