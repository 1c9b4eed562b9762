"""The delivery sheet of a batch: giao-thu.docx and giao-thu.csv, the letters by hamlet.

Letters are handed over at the desk or taken to the home by the civil-status officer or the
hamlet leader, so each batch lists its letters grouped by ấp / khu phố / tổ dân phố (from the
address the letter goes to and the profile's [[hamlets]]), each hamlet on its own page, with
an empty column for the recipient's signature. Addresses that name no hamlet of the profile
go to "Khác" and are reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

from cchc_letters.hamlets import OTHER, HamletIndex
from cchc_letters.models import Birth, Death, Marriage, Registration
from cchc_letters.profile import Profile

DOCX_NAME = "giao-thu.docx"
CSV_NAME = "giao-thu.csv"
TITLE = "DANH SÁCH GIAO THƯ"
SIGNATURE = "Người nhận ký"
CSV_COLUMNS = (
    "number",
    "hamlet",
    "kind",
    "about",
    "addressee",
    "address",
    "registration_number",
    "book_number",
    "registration_key",
    "print_file",
    "position",
    "recipient_signature",
)


@dataclass(frozen=True)
class DeliveryRow:
    """One letter on the sheet."""

    number: int
    hamlet: str
    kind: str  # "Khai sinh", "Kết hôn", "Khai tử"
    about: str  # the person (or couple) the letter is about
    addressee: str
    address: str
    registration_number: str
    book: str
    key: str
    print_file: str
    position: int


@dataclass
class DeliverySheet:
    """What was written: the two files, letters per hamlet, and the letters in "Khác"."""

    docx: Path
    csv: Path
    groups: dict[str, int]
    unplaced: list[DeliveryRow] = field(default_factory=list)

    def moved_to(self, folder: Path) -> DeliverySheet:
        """Return the same sheet with its files in ``folder`` (the batch's final name)."""
        return DeliverySheet(folder / self.docx.name, folder / self.csv.name, self.groups,
                             self.unplaced)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "docx": str(self.docx),
            "csv": str(self.csv),
            "groups": self.groups,
            "unplaced": [{"registration_key": r.key, "address": r.address} for r in self.unplaced],
        }


def about(registration: Registration) -> str:
    """Return who the letter is about: the child, the couple, the deceased."""
    if isinstance(registration, Birth):
        return registration.child.full_name
    if isinstance(registration, Marriage):
        return f"{registration.husband.full_name} và {registration.wife.full_name}"
    if isinstance(registration, Death):
        return registration.deceased.full_name
    return ""


def plan(printed: Iterable[Any], profile: Profile) -> list[DeliveryRow]:
    """Return the sheet's rows: every printed letter once, by hamlet (the profile's order,
    "Khác" last), then in print order (kind, file, position), numbered from 1."""
    return [DeliveryRow(*values[:-1]) for values in _plan(printed, profile)]


def letter_addresses(registrations: Sequence[Registration]) -> list[str]:
    """Return ``enrich.letter_address`` of each registration, its kind's entry looked up
    once per kind rather than once per letter (for 10,000 letters letter_address took 19 ms,
    this 8 ms)."""
    from cchc_letters.kinds import entry

    addressed_of: dict[Any, Any] = {}
    addresses = []
    for registration in registrations:
        kind = registration.kind
        addressed = addressed_of.get(kind)
        if addressed is None:
            addressed = addressed_of[kind] = entry(kind).addressed
        address = ""
        for person in addressed(registration):
            if person is not None and person.residence:
                address = person.residence
                break
        addresses.append(address)
    return addresses


# A row of the sheet as a plain tuple: giao-thu.csv's row (CSV_COLUMNS), DeliveryRow's fields
# and the empty signature (a frozen dataclass per letter cost more than the rest of the plan).
_Row = tuple[int, str, str, str, str, str, str, str, str, str, int, str]
# A row of giao-thu.docx's table (its columns in write_delivery_sheet), all of it text.
_PageRow = tuple[str, str, str, str, str, str, str, str]


def _plan(printed: Iterable[Any], profile: Profile) -> list[_Row]:
    """Return ``plan``'s rows as tuples."""
    return _sheet(printed, profile)[0]


def _sheet(
    printed: Iterable[Any], profile: Profile
) -> tuple[list[_Row], list[_PageRow], dict[str, int]]:
    """Return ``plan``'s rows as tuples, the same rows as giao-thu.docx shows them, and the
    letters of each hamlet (in the sheet's order: sorted by the hamlet's rank, one rank per
    hamlet, each hamlet's letters are one run). An address, a kind and a hamlet repeat from
    letter to letter: each is worked out once. Both rows of a letter are made in one pass
    (a pass per column, tried, was no faster: each pass reads every letter again)."""
    from cchc_letters.vietnamese import address_case

    index = HamletIndex(profile.hamlets)
    letters = list(printed)
    addresses = letter_addresses([letter.registration for letter in letters])
    hamlet_of = {address: index.group(address) for address in dict.fromkeys(addresses)}
    rank_of = {address: index.order(hamlet) for address, hamlet in hamlet_of.items()}
    cased = {address: address_case(address) if address else "" for address in hamlet_of}
    placed = sorted(  # stable: print order within a hamlet
        zip(map(rank_of.__getitem__, addresses), addresses, letters, strict=True),
        key=itemgetter(0),
    )
    kinds: dict[Any, str] = {}
    rows: list[_Row] = []
    page_rows: list[_PageRow] = []
    last_file: Any = None
    print_file = ""  # its name (Path.name is a Python property; a file's letters follow)
    for number, (_, address, letter) in enumerate(placed, start=1):
        registration = letter.registration
        kind = kinds.get(registration.kind)
        if kind is None:
            name = registration.kind.vietnamese
            kind = kinds[registration.kind] = name[:1].upper() + name[1:]
        if letter.print_file is not last_file:
            last_file = letter.print_file
            print_file = last_file.name
        whom, addressee = about(registration), letter.addressee
        registration_number, book = registration.number, registration.book
        position = letter.position
        rows.append(
            (
                number,
                hamlet_of[address],
                kind,
                whom,
                addressee,
                cased[address],
                registration_number,
                book,
                letter.key,
                print_file,
                position,
                "",
            )
        )
        page_rows.append(
            (
                str(number),
                kind,
                whom,
                addressee,
                cased[address],
                f"{registration_number}, quyển {book}" if book else registration_number,
                f"{print_file}, thư {position}",
                "",
            )
        )
    groups = dict(Counter(map(hamlet_of.__getitem__, map(itemgetter(1), placed))))
    return rows, page_rows, groups


def write_delivery_sheet(
    folder: Path, printed: Sequence[Any], profile: Profile, letter_date: date, batch_name: str
) -> DeliverySheet:
    """Write giao-thu.docx and giao-thu.csv into ``folder`` for the letters ``printed``
    (pipeline.PrintedLetter: registration, key, addressee, print_file, position)."""
    from cchc_letters.listdoc import Column, ListPage, write_list_docx
    from cchc_letters.output import write_csv

    rows, page_rows, groups = _sheet(printed, profile)
    columns = (
        Column("STT", 1.3),
        Column("Loại thư", 1.9),
        Column("Thư về", 4.1),
        Column("Người nhận thư", 4.4),
        Column("Địa chỉ", 5.2),
        Column("Số, quyển", 2.4),
        Column("Tệp in, thư số", 2.9),
        Column(SIGNATURE, 3.0),
    )
    pages = []
    unplaced: list[_Row] = []
    stop = 0
    for hamlet, count in groups.items():
        start, stop = stop, stop + count
        notes = [f"Lô thư {batch_name}: {count} thư"]
        if hamlet == OTHER:
            unplaced = rows[start:stop]
            notes.append(
                "Địa chỉ không khớp tên ấp / khu phố nào trong hồ sơ xã ([[hamlets]]): "
                "kiểm tra địa chỉ hoặc bổ sung tên vào hồ sơ."
            )
        pages.append(
            ListPage(
                heading=hamlet,
                notes=notes,
                columns=columns,
                rows=page_rows[start:stop],
                tall_rows=True,
            )
        )
    docx = write_list_docx(
        folder / DOCX_NAME, profile=profile, letter_date=letter_date, title=TITLE, pages=pages
    )
    csv_path = folder / CSV_NAME
    write_csv(csv_path, CSV_COLUMNS, rows)
    return DeliverySheet(
        docx=docx,
        csv=csv_path,
        groups=groups,
        unplaced=[DeliveryRow(*row[:-1]) for row in unplaced],
    )
