"""From a grid of cell texts to raw rows: header detection, register kind, column mapping.

Every reader (CSV, XLSX, XLS) turns a sheet into ``Rows`` — (row number as the user sees
it, cell texts), produced as they are asked for — and hands them here, so the untidy-export
rules live in one place.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter

from cchc_letters.ingest.columns import (
    Vocabulary,
    all_kinds,
    field_label,
    heading_key,
    kind_from_text,
    kind_in_title,
)
from cchc_letters.ingest.headings import Reading
from cchc_letters.models import Issue, Kind, RawCell, RawRow, RowCells, SourceRef
from cchc_letters.vietnamese import clean_text

Grid = list[tuple[int, list[str]]]
Rows = Iterable[tuple[int, list[str]]]  # a grid, or its rows read one at a time
# Cells merged across columns, per row number: [(first column, last column)], 0-based.
Spans = dict[int, list[tuple[int, int]]]

HEADER_SCAN = 40  # title rows above the header rarely exceed a handful; 40 is generous
MIN_HEADER_SCORE = 2


# Rows at the bottom of a register: totals and the signature block. Matched on folded text.
_FOOTER = re.compile(
    r"tongcong|tongso|cong\d|nguoilap|nguoighiso|canbo|congchuc|chutich|thutruong|"
    r"kyghiro|kytenghiro|kyvaghiro|xacnhan|dongdau|ngay\d*thang\d*nam"
)
_BOOK_IN_TITLE = re.compile(r"(?i)quy[ểe]n\s*s[ốo]\s*[:.]?\s*([0-9][\w/.-]*)")
_COLUMN_NUMBER = re.compile(r"\(?(\d{1,3})\)?")


@dataclass(frozen=True)
class TableReport:
    """What was found in one sheet (or CSV file): header, register, columns, skipped rows."""

    sheet: str | None
    header_rows: tuple[int, ...]
    kind: Kind | None
    columns: tuple[tuple[str, str], ...]  # (heading as written, canonical field)
    unmapped: tuple[str, ...]  # headings the tool did not recognise (ignored)
    rows: int  # data rows handed on
    skipped_rows: tuple[int, ...] = ()  # title, column-number, totals and signature rows
    understood: tuple[str, ...] = ()  # headings of `columns` understood from their parts


@dataclass
class _Column:
    index: int
    top: str
    sub: str

    @property
    def written(self) -> str:
        if self.top and self.sub and heading_key(self.top) != heading_key(self.sub):
            return f"{self.top} / {self.sub}"
        return self.sub or self.top


@dataclass
class TableResult:
    """What a sheet says besides its rows: Issues of the sheet, and what was found in it."""

    issues: list[Issue] = field(default_factory=list)
    report: TableReport | None = None


def _synonym(
    vocab: Vocabulary, col: _Column, kind: Kind | None, loose: bool, *, as_01: bool = False
) -> list[str]:
    """Return the fields a column's headings mean as written in columns.toml (and --mapping):
    the heading as a whole, or a group heading with a sub-heading from [groups]/[roles].

    ``as_01``: as cchc-letters 0.1 read it, which took a sub-heading it did not know under a
    group ("Người cha" / "Sinh ngày") for the heading alone — the child's date of birth.
    Now the grammar reads it with its group; 0.1's reading only decides which fields its
    content hash covered.
    """

    def candidates(heading: str) -> list[str]:
        if loose:
            return vocab.fields_for(heading, kind)
        one = vocab.field_for(heading, kind)
        return [one] if one else []

    if col.sub:
        if col.top:
            grouped = vocab.grouped_field(col.top, col.sub, kind)
            if grouped:
                return [grouped]
            both = candidates(f"{col.top} {col.sub}")
            if both:
                return both
            grammar = vocab.grammar
            if not as_01 and (
                grammar.names_concept_only(col.top)
                or vocab.is_group(col.top)
                or grammar.mentioned_subjects(col.top)
            ):
                # "Giấy báo tử" / "Ngày cấp", "Người cha" / "Sinh ngày", "Mẹ ruột" / "Họ tên":
                # read as one by the grammar, never as the sub-heading alone (which would
                # be the child's name, the child's date of birth: another person's field)
                return []
        alone = candidates(col.sub)
        # A sub-heading we do not know under a group ("Người mẹ" / "Nghề nghiệp") must not
        # fall back to the group heading, or "mẹ" would claim it as the mother's name.
        if alone or (col.top and vocab.is_group(col.top)):
            return alone
    return candidates(col.top) if col.top else []


def _understood(vocab: Vocabulary, col: _Column, kind: Kind | None) -> Reading:
    if col.sub and col.top and heading_key(col.sub) != heading_key(col.top):
        return vocab.understand(col.sub, kind, group=col.top)
    return vocab.understand(col.sub or col.top, kind)


def resolve(vocab: Vocabulary, col: _Column, kind: Kind | None, loose: bool) -> list[str]:
    """Return the fields a column may mean; with ``loose``, every candidate of any register.

    The headings of columns.toml are tried first, then the heading is understood from its
    parts (ingest/headings.py); strictly, an ambiguous reading means no field.
    """
    found = _synonym(vocab, col, kind, loose)
    if found or not (col.top or col.sub):
        return found
    reading = _understood(vocab, col, kind)
    if loose:
        return list(reading.fields)
    return [reading.field] if reading.field else []


def _spread(row_number: int, values: list[str], spans: Spans) -> list[str]:
    """Return a header row with each heading merged across columns copied into all of them.

    A group heading ("Người mẹ") merged over its sub-headings holds its text only in the
    first cell; the others read empty. Done for header rows only: a "Tổng cộng" merged
    across a data row must stay one short footer cell.
    """
    values = list(values)
    for c0, c1 in spans.get(row_number, ()):
        if c0 < len(values) and values[c0]:
            values.extend([""] * (c1 + 1 - len(values)))
            for c in range(c0 + 1, c1 + 1):
                values[c] = values[c] or values[c0]
    return values


def _names_someone_unread(vocab: Vocabulary, heading: str) -> bool:
    """True for a heading that names a person but is no field ("Mẹ ruột"): a group heading
    whose sub-headings are that person's, even if its words are not all known."""
    return bool(
        vocab.grammar.mentioned_subjects(heading)
        and not vocab.fields_for(heading, None)
        and not vocab.understand(heading, None).fields
    )


def _columns(grid: Grid, start: int, height: int, vocab: Vocabulary, spans: Spans) -> list[_Column]:
    top = _spread(grid[start][0], grid[start][1], spans)
    sub = []
    if height == 2 and start + 1 < len(grid):
        sub = _spread(grid[start + 1][0], grid[start + 1][1], spans)
    width = max(len(top), len(sub))
    cols: list[_Column] = []
    group = ""
    for i in range(width):
        t = clean_text(top[i]) if i < len(top) else ""
        s = clean_text(sub[i]) if i < len(sub) else ""
        if height == 2:
            # A group heading written once over several sub-headings (a CSV saved from a
            # merged header keeps it only in the first cell): carry it to the right.
            if t and (vocab.is_group(t) or _names_someone_unread(vocab, t)):
                group = t
            elif t:
                group = ""
            elif s and group:
                t = group
        cols.append(_Column(i, t, s))
    return cols


def _score(cols: list[_Column], vocab: Vocabulary) -> int:
    return len({tuple(resolve(vocab, c, None, True)) for c in cols} - {()})


def _is_heading(vocab: Vocabulary, text: str) -> bool:
    return bool(vocab.fields_for(text, None) or vocab.understand(text, None).fields)


def _may_win(
    grid: Grid,
    start: int,
    height: int,
    vocab: Vocabulary,
    spans: Spans,
    best: tuple[int, ...] | None,
) -> bool:
    """False when the rows at ``start`` (``height`` of them) cannot be a better header than
    ``best`` (find_header's (score, preference, -index)), told without reading their cells.

    A later candidate wins only with a higher (score, preference). Each column scores at
    most once, so the score is at most the number of columns with any text. The data rows
    under a header are skipped so: reading each of their cells (names, dates, addresses)
    with the heading grammar was most of the time spent finding a small file's header.
    """
    rows = [_spread(grid[start][0], grid[start][1], spans)]
    if height == 2 and start + 1 < len(grid):
        rows.append(_spread(grid[start + 1][0], grid[start + 1][1], spans))
    width = max(len(r) for r in rows)
    most = sum(1 for i in range(width) if any(i < len(r) and r[i].strip() for r in rows))
    if most < MIN_HEADER_SCORE:
        return False
    if best is None:
        return True
    # find_header's preferences: 1 for one row; for two, 2 at most (0 with no row below).
    most_preferred = 1 if height == 1 else 2 if len(rows) == 2 else 0
    if (most, most_preferred) <= best[:2]:
        return False
    if most_preferred == 2 and most == best[0]:
        # Only the preference can win: every sub-heading must be a heading (as below).
        subs = [t for t in map(clean_text, rows[1]) if t]
        return bool(subs) and all(_is_heading(vocab, h) for h in subs)
    return True


def find_header(
    grid: Grid, vocab: Vocabulary, spans: Spans | None = None
) -> tuple[int, int, list[_Column]] | None:
    """Return (index in grid, height 1 or 2, columns) of the header, None when none is found.

    The header is the row (or pair of rows, for a group heading merged over sub-headings)
    in the first HEADER_SCAN rows whose headings match the most known fields.
    """
    best: tuple[int, int, int] | None = None  # (score, preference, -index)
    found = None
    spans = spans or {}
    for i in range(min(len(grid), HEADER_SCAN)):
        if not any(v.strip() for v in grid[i][1]):
            continue
        for height in (1, 2):
            if not _may_win(grid, i, height, vocab, spans, best):
                continue
            cols = _columns(grid, i, height, vocab, spans)
            score = _score(cols, vocab)
            if score < MIN_HEADER_SCORE:
                continue
            # On a tie one row wins, unless every cell of the second row is a heading too
            # ("Chồng" | "Vợ" over "Họ, chữ đệm, tên" | "Họ, chữ đệm, tên"): then it is the
            # sub-heading row, not a registration.
            preference = 1
            if height == 2:
                tops = {c.top for c in cols if c.top}
                subs = [c.sub for c in cols if c.sub]
                headings_only = (
                    len(tops) >= 2  # not a title row above the header
                    and all(
                        _is_heading(vocab, h)
                        or vocab.is_group(h)
                        or _names_someone_unread(vocab, h)
                        for h in tops
                    )
                    and subs
                    and all(_is_heading(vocab, h) for h in subs)
                )
                preference = 2 if headings_only else 0
            key = (score, preference, -i)
            if best is None or key > best:
                best, found = key, (i, height, cols)
    return found


def _kind_from_columns(cols: list[_Column], vocab: Vocabulary) -> Kind | None:
    votes: Counter[Kind] = Counter()
    for col in cols:
        names = resolve(vocab, col, None, True)
        kinds = {k for n in names for k in vocab.kinds.get(n) or all_kinds()}
        if len(kinds) == 1:
            votes[kinds.pop()] += 1
    ranked = votes.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return None


def _is_column_number_row(values: list[str]) -> bool:
    """True for the "(1) (2) (3) …" row printed under a register's header."""
    numbers = []
    for v in values:
        v = v.strip()
        if not v:
            continue
        m = _COLUMN_NUMBER.fullmatch(v)
        if not m:
            return False
        numbers.append(int(m[1]))
    return len(numbers) >= 3 and all(b > a for a, b in zip(numbers, numbers[1:], strict=False))


def _repeats_header(values: list[str], header_keys: list[list[str]]) -> bool:
    """True for the header printed again on each page (same headings, cell for cell).

    Cells are folded one at a time and only while they match, so a data row costs one fold.
    """
    return any(
        len(values) == len(keys)
        and all(heading_key(v) == k for v, k in zip(values, keys, strict=True))
        for keys in header_keys
    )


_WHY = {
    "names two people": "ghi hai người",
    "could be either person's": "có thể là của người này hoặc người kia",
    "holds two things": "gộp hai thông tin",
    "could mean several fields": "có thể hiểu nhiều cách",
}


def _label(name: str) -> str:
    return field_label(name)


def _ambiguous_issue(
    col: _Column, reading: Reading, kind: Kind, vocab: Vocabulary, where: SourceRef
) -> Issue:
    required = set(vocab.required.get(kind, ()))
    meant = "; ".join(f"{n} ({_label(n)})" for n in reading.fields)
    affects = [n for n in reading.fields if n in required]
    return Issue(
        code="ambiguous_column",
        message=(
            f'Cột "{col.written}" {_WHY.get(reading.why, reading.why)} — có thể là: {meant}. '
            "Không đoán: cột này không được dùng. Đổi tiêu đề cột cho rõ (ví dụ thêm "
            '"của chồng" / "của vợ") hoặc khai báo trong tệp ánh xạ (--mapping):\n'
            f'[fields.{reading.fields[0]}]\nheadings = ["{col.written}"]'
        ),
        source=where,
        column=col.written,
        severity="error" if affects else "warning",
        file=where.file,
    )


def _conflict_issue(
    name: str, claiming: list[_Column], kind: Kind, vocab: Vocabulary, where: SourceRef
) -> Issue:
    required = name in vocab.required.get(kind, ())
    written = "; ".join(f'"{c.written}"' for c in claiming)
    return Issue(
        code="duplicate_column",
        message=(
            f"Các cột {written} cùng là {name} ({_label(name)}): không biết cột nào đúng nên "
            "không dùng cột nào. Xóa hoặc đổi tên cột thừa, hoặc khai báo trong tệp ánh xạ "
            "(--mapping) cột nào là cột đúng."
            + (
                " Đây là thông tin bắt buộc: các dòng của sổ này không dùng được."
                if required
                else ""
            )
        ),
        source=where,
        column=claiming[0].written,
        severity="error" if required else "warning",
        file=where.file,
    )


def _owner(field_name: str, vocab: Vocabulary) -> str | None:
    """Return the subject (person) a field belongs to, None for the registration's own."""
    for subject, prefix in vocab.grammar.prefixes.items():
        if field_name.startswith(prefix + "_"):
            return subject
    return None


def _suggest(field_name: str, columns: list[_Column], vocab: Vocabulary, kind: Kind) -> str:
    """Return the mapping lines to add for a missing field, guessing the closest heading.

    A column that names another person (the mother's, for the child's name) or that is
    understood as another field is never proposed: an officer copying the line would print
    letters to the wrong person.
    """
    keys = [k for k, names in vocab.synonyms.items() if field_name in names]
    owner = _owner(field_name, vocab)
    guess, best = "Tiêu đề cột trong tệp", 0.0
    for col in columns:
        reading = _understood(vocab, col, kind)
        if reading.subjects - {owner} or (reading.fields and field_name not in reading.fields):
            continue
        if not reading.subjects and owner is not None and col.top and vocab.is_group(col.top):
            continue  # under a group heading the grammar did not place: nobody's to guess
        key = heading_key(col.written)
        for known in keys:
            ratio = difflib.SequenceMatcher(None, key, known).ratio()
            if ratio > best:
                guess, best = col.written, ratio
    if best < 0.5:
        guess = "Tiêu đề cột trong tệp"
    return f'[fields.{field_name}]\nheadings = ["{guess}"]'


class _CellPlan:
    """How one table's rows of one register become RowCells: the mapped columns' values in
    the order of their fields, then the title's book when no column holds it."""

    def __init__(
        self, mapping: dict[int, str], headings: dict[int, str], book_cell: RawCell | None
    ) -> None:
        names = list(mapping.values())
        written = [headings[i] for i in mapping]
        self.book: tuple[str, ...] = ()
        if book_cell and "book_number" not in names:
            names.append("book_number")
            written.append(book_cell.heading)
            self.book = (book_cell.value,)
        self.at = {name: i for i, name in enumerate(names)}
        self.headings = tuple(written)
        self.columns = list(mapping)
        self.width = max(self.columns, default=-1) + 1
        # the values of several columns in one call, made in C (a row's cells were a sixth
        # of reading a register when each was an object of its own)
        self.take = itemgetter(*self.columns) if len(self.columns) > 1 else None

    def cells(self, values: list[str]) -> RowCells:
        """Return a row's cells from its values (a short row's missing cells are empty)."""
        if len(values) < self.width:
            values = [*values, *[""] * (self.width - len(values))]
        texts = self.take(values) if self.take else tuple(values[i] for i in self.columns)
        return RowCells(self.at, self.headings, texts + self.book if self.book else texts)


def rows_from_grid(
    grid: Rows,
    *,
    file: str,
    sheet: str | None,
    vocab: Vocabulary,
    kind: Kind | None,
    hint_text: str = "",
    spans: Spans | None = None,
) -> Generator[RawRow, None, TableResult]:
    """Yield the raw rows of one sheet, each as soon as its grid row is read; return the
    Issues for a sheet that cannot be used and the TableReport (``yield from``).

    ``kind`` is --kind (wins over everything); ``hint_text`` (sheet and file name) names the
    register when neither the title rows nor the columns do. A grid without a header gives
    no rows and a result with no report: the caller decides whether that is a problem.
    Only the first rows (where the header is looked for) are held; the others are taken
    from ``grid`` one at a time, so that a large sheet's rows are never all alive at once.
    """
    out = TableResult()
    rest = iter(grid)
    # find_header looks at the first HEADER_SCAN rows, and at the one after for a
    # two-row header: all that it sees of the grid
    head = list(islice(rest, HEADER_SCAN + 1))
    header = find_header(head, vocab, spans)
    if header is None:
        return out
    start, height, cols = header
    header_rows = tuple(head[start + k][0] for k in range(height) if start + k < len(head))
    title = " ".join(v for _, values in head[:start] for v in values if v)

    has_kind_column = any("kind" in resolve(vocab, c, None, True) for c in cols)
    if has_kind_column and not kind:
        # A mixed file says the register on each row; the columns of all three registers
        # are there, so they cannot vote, and each row is mapped for its own register.
        table_kind = (
            kind_in_title(title)
            or (kind_from_text(sheet) if sheet else None)
            or kind_in_title(hint_text)
        )
    else:
        table_kind = (
            kind
            or kind_in_title(title)
            or _kind_from_columns(cols, vocab)
            or (kind_from_text(sheet) if sheet else None)
            or kind_in_title(hint_text)
        )
    mappings: dict[Kind | None, dict[int, str]] = {}
    understood: dict[Kind | None, frozenset[str]] = {}
    problems: dict[Kind | None, list[tuple[Issue, tuple[str, ...]]]] = {}
    header_ref = SourceRef(file, sheet, header_rows[0])

    def mapping_for(k: Kind | None) -> dict[int, str]:
        if k not in mappings:
            claims: dict[str, list[_Column]] = {}
            composed: set[int] = set()
            found_problems: list[tuple[Issue, tuple[str, ...]]] = []
            for col in cols:
                names = _synonym(vocab, col, k, False)
                if not names and (col.top or col.sub):
                    reading = _understood(vocab, col, k)
                    if reading.ambiguous and k is not None:
                        issue = _ambiguous_issue(col, reading, k, vocab, header_ref)
                        found_problems.append((issue, reading.fields))
                        continue
                    names = [reading.field] if reading.field else []
                    if names != _synonym(vocab, col, k, False, as_01=True)[:1]:
                        composed.add(col.index)  # 0.1 did not read this column as this field
                if names:
                    claims.setdefault(names[0], []).append(col)
            found: dict[int, str] = {}
            for name, claiming in claims.items():
                if len(claiming) > 1 and name != "serial" and k is not None:
                    # Two columns for one field: which one is right cannot be told.
                    issue = _conflict_issue(name, claiming, k, vocab, header_ref)
                    found_problems.append((issue, (name,)))
                    continue
                found[claiming[0].index] = name
            mappings[k] = dict(sorted(found.items()))
            understood[k] = frozenset(n for i, n in found.items() if i in composed)
            problems[k] = found_problems
        return mappings[k]

    # Registers often print the book only in the title ("Quyển số: 01/2026"), not as a
    # column; it belongs to every row of the sheet.
    book_cell = None
    for _, values in head[:start]:
        for v in values:
            if m := _BOOK_IN_TITLE.search(clean_text(v)):
                book_cell = RawCell(clean_text(v), m[1])
    mapping = mapping_for(table_kind)
    kind_index = next((i for i, n in mapping.items() if n == "kind"), None)
    headings = {c.index: c.written for c in cols}

    header_keys = [[heading_key(v) for v in head[start + k][1]] for k in range(height)]
    number_index = next((i for i, n in mapping.items() if n == "registration_number"), None)
    # Worked out once per table, not per row: the columns whose text makes a row hold a
    # registration (any mapped column but the STT), the header's widths, and per register
    # the (field, heading, column) of each cell to hand on.
    counted = [i for i, name in mapping.items() if name != "serial"]
    header_widths = {len(keys) for keys in header_keys}
    plans: dict[Kind | None, _CellPlan] = {}
    skipped: list[int] = []
    # rows handed on, per register (the sheet's Issues count them)
    of_kind: Counter[Kind | None] = Counter()
    in_footer = False
    for number, values in chain(head[start + height :], rest):
        texts = [v.strip() for v in values]
        width = len(texts)
        filled_count = width - texts.count("")
        if not filled_count:
            continue  # blank row
        if _is_column_number_row(texts) or (
            width in header_widths and _repeats_header(values, header_keys)
        ):
            skipped.append(number)  # "(1) (2) (3)" row, or the header repeated on each page
            continue
        # A row with few cells and no registration is a footer when it reads like one, or
        # (one or two cells: signer names) when it comes after one. A registration missing
        # its number but with several values is a row to reject, never a footer.
        # (Only short rows are folded: folding every cell of every row was the slow part.)
        if filled_count <= 3 and (
            _FOOTER.search(heading_key(" ".join(v for v in texts if v)))
            or (in_footer and filled_count <= 2)
        ):
            has_number = number_index is not None and number_index < width and texts[number_index]
            looks_like_data = (
                bool(has_number) and sum(1 for i in counted if i < width and texts[i]) >= 2
            )
            if not looks_like_data:
                in_footer = True  # totals line, "Người lập biểu", signatures under it
                skipped.append(number)
                continue
        if not any(texts[i] for i in counted if i < width):
            skipped.append(number)  # only the pre-printed STT, or text in unknown columns
            continue
        row_kind = kind or table_kind
        if not kind and kind_index is not None and kind_index < width and texts[kind_index]:
            row_kind = kind_from_text(texts[kind_index])
        plan = plans.get(row_kind)
        if plan is None:
            plan = plans[row_kind] = _CellPlan(mapping_for(row_kind), headings, book_cell)
        of_kind[row_kind] += 1
        yield RawRow(
            SourceRef(file, sheet, number), row_kind, plan.cells(values), understood[row_kind]
        )

    # A required column that is missing makes every row of that register useless: say it
    # once for the sheet, with the file's headings and the mapping line to add. The rows
    # still go on, so that each is counted and rejected (missing_field) by validation.
    rows = sum(of_kind.values())
    kinds_seen = {k for k in of_kind if k is not None}
    if not rows and table_kind:
        kinds_seen = {table_kind}
    all_headings = [c.written for c in cols if c.written]
    for k in sorted(kinds_seen):
        mapping_for(k)
        out.issues.extend(issue for issue, _ in problems[k])
        present = set(mapping_for(k).values())
        reported = {n for _, names in problems[k] for n in names}
        missing = [n for n in vocab.required.get(k, ()) if n not in present | reported]
        if not missing:
            continue
        count = of_kind[k]
        left = [c for c in cols if c.written and c.index not in mapping_for(k)]
        names = ", ".join(f"{n} ({field_label(n)})" for n in missing)
        suggestion = "\n".join(_suggest(n, left, vocab, k) for n in missing)
        out.issues.append(
            Issue(
                code="missing_column",
                message=(
                    f"Không tìm thấy cột bắt buộc của sổ {k.vietnamese}: {names}. "
                    f"Các cột có trong tệp: {'; '.join(all_headings)}. "
                    f"{count} dòng không dùng được. Nếu cột có tên khác, thêm vào tệp ánh xạ "
                    f"(--mapping) các dòng:\n{suggestion}"
                ),
                source=header_ref,
                file=file,
            )
        )
    if not has_kind_column and table_kind is None and not kind and rows:
        out.issues.append(
            Issue(
                code="unknown_kind",
                message=(
                    "Không xác định được loại sổ (khai sinh / kết hôn / khai tử) từ tiêu đề, "
                    f"tên cột hay tên trang tính; {rows} dòng không dùng được. "
                    "Hãy chọn bằng --kind birth|marriage|death."
                ),
                source=SourceRef(file, sheet, header_rows[0]),
                file=file,
            )
        )
    used: dict[int, str] = {}
    for mapped in mappings:
        if mapped is None and len(mappings) > 1:
            continue
        for i, n in mappings[mapped].items():
            used.setdefault(i, n)
    out.report = TableReport(
        sheet=sheet,
        header_rows=header_rows,
        kind=table_kind,
        columns=tuple((headings[i], used[i]) for i in sorted(used)),
        understood=tuple(
            headings[i]
            for i in sorted(used)
            if any(used[i] in understood.get(k, ()) for k in mappings)
        ),
        unmapped=tuple(c.written for c in cols if c.written and c.index not in used),
        rows=rows,
        skipped_rows=tuple(skipped),
    )
    return out
