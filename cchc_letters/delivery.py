"""The delivery sheet of a batch: giao-thu.docx and giao-thu.csv, the letters by hamlet.

Letters are handed over at the desk or taken to the home by the civil-status officer or the
hamlet leader, so each batch lists its letters grouped by ấp / khu phố / tổ dân phố (from the
address the letter goes to and the profile's [[hamlets]]), each hamlet on its own page, with
an empty column for the recipient's signature. Addresses that name no hamlet of the profile
go to "Khác" and are reported.
"""

from __future__ import annotations

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


# A row of the sheet as a plain tuple: giao-thu.csv's row (CSV_COLUMNS), DeliveryRow's fields
# and the empty signature (a frozen dataclass per letter cost more than the rest of the plan).
_Row = tuple[int, str, str, str, str, str, str, str, str, str, int, str]


def _plan(printed: Iterable[Any], profile: Profile) -> list[_Row]:
    """Return ``plan``'s rows as tuples. An address, a kind and a hamlet repeat from letter
    to letter: each is worked out once."""
    from cchc_letters.enrich import letter_address
    from cchc_letters.vietnamese import address_case

    index = HamletIndex(profile.hamlets)
    placed = []
    for letter in printed:
        address = letter_address(letter.registration)
        placed.append((index.order(index.group(address)), address, letter))
    placed.sort(key=itemgetter(0))  # stable: print order within a hamlet
    hamlet_of: dict[str, str] = {}
    cased: dict[str, str] = {}
    kinds: dict[Any, str] = {}
    rows: list[_Row] = []
    for number, (_, address, letter) in enumerate(placed, start=1):
        registration = letter.registration
        if address not in hamlet_of:
            hamlet_of[address] = index.group(address)
            cased[address] = address_case(address) if address else ""
        if registration.kind not in kinds:
            kind = registration.kind.vietnamese
            kinds[registration.kind] = kind[:1].upper() + kind[1:]
        rows.append(
            (
                number,
                hamlet_of[address],
                kinds[registration.kind],
                about(registration),
                letter.addressee,
                cased[address],
                registration.number,
                registration.book,
                letter.key,
                letter.print_file.name,
                letter.position,
                "",
            )
        )
    return rows


def _groups(rows: Sequence[_Row]) -> dict[str, list[_Row]]:
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        groups.setdefault(row[1], []).append(row)
    return groups


def write_delivery_sheet(
    folder: Path, printed: Sequence[Any], profile: Profile, letter_date: date, batch_name: str
) -> DeliverySheet:
    """Write giao-thu.docx and giao-thu.csv into ``folder`` for the letters ``printed``
    (pipeline.PrintedLetter: registration, key, addressee, print_file, position)."""
    from cchc_letters.listdoc import Column, ListPage, write_list_docx
    from cchc_letters.output import write_csv

    rows = _plan(printed, profile)
    groups = _groups(rows)
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
    for hamlet, members in groups.items():
        notes = [f"Lô thư {batch_name}: {len(members)} thư"]
        if hamlet == OTHER:
            notes.append(
                "Địa chỉ không khớp tên ấp / khu phố nào trong hồ sơ xã ([[hamlets]]): "
                "kiểm tra địa chỉ hoặc bổ sung tên vào hồ sơ."
            )
        pages.append(
            ListPage(
                heading=hamlet,
                notes=notes,
                columns=columns,
                rows=[
                    (
                        number,
                        kind,
                        whom,
                        addressee,
                        address,
                        f"{registration_number}, quyển {book}" if book else registration_number,
                        f"{print_file}, thư {position}",
                        "",
                    )
                    for (
                        number,
                        _,
                        kind,
                        whom,
                        addressee,
                        address,
                        registration_number,
                        book,
                        _,
                        print_file,
                        position,
                        _,
                    ) in members
                ],
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
        groups={hamlet: len(members) for hamlet, members in groups.items()},
        unplaced=[DeliveryRow(*row[:-1]) for row in groups.get(OTHER, [])],
    )
