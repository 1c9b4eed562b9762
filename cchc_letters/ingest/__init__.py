"""Reading input files into raw rows with (file, sheet, row) provenance.

``read_inputs`` is the one door: it expands folders, reads each CSV/XLSX file, maps its
headings to canonical field names (data/columns.toml) and returns the rows plus what it
detected, and one Issue per file it could not use.
"""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cchc_letters.models import Issue, Kind, RawCell, RawRow, SourceRef
from cchc_letters.resources import data_dir

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class FileReport:
    """What was detected in one input file."""

    path: str
    format: str
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    sheets: tuple[str, ...] = ()


@dataclass
class ReadResult:
    rows: list[RawRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)


def heading_key(text: str) -> str:
    """Return a heading folded for matching: no accents, case, punctuation or spacing."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def load_synonyms(extra: Path | None = None) -> dict[str, str]:
    """Return folded heading -> canonical field, from data/columns.toml and ``extra``."""
    synonyms: dict[str, str] = {}
    for path in [data_dir() / "columns.toml", *([extra] if extra else [])]:
        with path.open("rb") as fh:
            fields = tomllib.load(fh).get("fields", {})
        for name, spec in fields.items():
            for heading in [name, *spec.get("headings", [])]:
                synonyms[heading_key(heading)] = name
    return synonyms


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """Return the files named, with folders expanded to the table files inside them (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(path)
    return files


def kind_from_text(text: str) -> Kind | None:
    """Return the register named by ``text`` ("birth", "Khai sinh", "KS" …), or None."""
    key = heading_key(text)
    for kind, words in {
        Kind.BIRTH: ("birth", "khaisinh", "ks"),
        Kind.MARRIAGE: ("marriage", "kethon", "kh"),
        Kind.DEATH: ("death", "khaitu", "kt"),
    }.items():
        if key in words:
            return kind
    return None


def _rows_from_table(
    table: list[list[str]],
    path: Path,
    sheet: str | None,
    synonyms: dict[str, str],
    kind: Kind | None,
    result: ReadResult,
) -> int:
    if not table:
        return 0
    headings = table[0]
    mapping = {i: synonyms.get(heading_key(h)) for i, h in enumerate(headings)}
    count = 0
    for offset, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        cells = {
            name: RawCell(headings[i], values[i] if i < len(values) else "")
            for i, name in mapping.items()
            if name
        }
        row_kind = kind or kind_from_text(cells["kind"].value) if "kind" in cells else kind
        result.rows.append(RawRow(SourceRef(str(path), sheet, offset), row_kind, cells))
        count += 1
    return count


def read_inputs(
    paths: Sequence[Path],
    *,
    kind: Kind | None = None,
    mapping: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ReadResult:
    """Return every row of every input file, and an Issue for each file that cannot be read."""
    synonyms = load_synonyms(mapping)
    result = ReadResult()
    for path in expand_inputs(paths):
        try:
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                import openpyxl

                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
                total = 0
                for sheet in book.worksheets:
                    table = [
                        ["" if v is None else str(v) for v in row]
                        for row in sheet.iter_rows(values_only=True)
                    ]
                    total += _rows_from_table(table, path, sheet.title, synonyms, kind, result)
                result.files.append(
                    FileReport(str(path), "xlsx", total, sheets=tuple(book.sheetnames))
                )
            else:
                enc = encoding or "utf-8-sig"
                with path.open(encoding=enc, newline="") as fh:
                    table = list(csv.reader(fh, delimiter=delimiter or ","))
                n = _rows_from_table(table, path, None, synonyms, kind, result)
                result.files.append(FileReport(str(path), "csv", n, enc, delimiter or ","))
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            result.issues.append(
                Issue("unreadable_file", f"Không đọc được tệp: {exc}", file=str(path))
            )
    return result
