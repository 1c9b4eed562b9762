"""Reading input files into raw rows with (file, sheet, row) provenance.

``open_inputs`` is the one door: it expands folders, reads each CSV/XLSX/XLS file (sniffing
format, encoding and delimiter), finds the header under any title rows, maps its headings
to canonical field names (data/columns.toml plus an optional --mapping file) and gives the
rows one at a time, as they are read, plus what it detected and one Issue per file or sheet
it could not use. ``read_inputs`` is the same, with every row kept in a list.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cchc_letters.ingest.columns import (
    Vocabulary,
    heading_key,
    kind_from_text,
    kind_in_title,
    load_vocabulary,
)
from cchc_letters.ingest.table import (
    Grid,
    Rows,
    Spans,
    TableReport,
    TableResult,
    rows_from_grid,
)
from cchc_letters.ingest.text import FileProblem, decode_lines, parse
from cchc_letters.models import Issue, Kind, RawRow

__all__ = [
    "FileReport",
    "ReadResult",
    "SUPPORTED_SUFFIXES",
    "TableReport",
    "Vocabulary",
    "expand_inputs",
    "heading_key",
    "kind_from_text",
    "kind_in_title",
    "load_vocabulary",
    "open_inputs",
    "read_inputs",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass(frozen=True)
class FileReport:
    """What was detected in one input file."""

    path: str
    format: str  # "csv", "xlsx", "xls", "xlsb" or "ods"
    rows: int  # data rows handed on to validation
    encoding: str | None = None
    delimiter: str | None = None
    sheets: tuple[str, ...] = ()  # the sheets that held registrations
    tables: tuple[TableReport, ...] = ()  # header, register and columns found per sheet
    skipped_sheets: tuple[str, ...] = ()  # sheets without a register header (notes, totals)


@dataclass
class ReadResult:
    """Rows in input order (kept by ``read_inputs``; ``open_inputs`` hands them on instead);
    one Issue per unreadable file (``source`` None, ``file`` set) or unusable sheet
    (``source`` = the header row); ``files`` only for files that were read."""

    rows: list[RawRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """Return the files named, with folders expanded to the table files inside them (sorted).

    Excel's lock files ("~$sổ khai sinh.xlsx") sit beside an open workbook and are skipped.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not p.name.startswith("~$")
            )
        else:
            files.append(path)
    return files


def _check_options(encoding: str | None, delimiter: str | None) -> str | None:
    """Check --encoding and --delimiter (cchc_letters.options: a UsageError naming the
    option); return the delimiter as one character."""
    from cchc_letters.options import delimiter_option, encoding_option

    encoding_option(encoding)
    return delimiter_option(delimiter)


def read_inputs(
    paths: Sequence[Path],
    *,
    kind: Kind | None = None,
    mapping: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ReadResult:
    """Return every row of every input file, and an Issue for each file that cannot be read.

    Raises UsageError for a bad --encoding or --delimiter, InputError for a broken mapping
    file; problems of the files themselves are Issues, and the other files still count.
    """
    result, rows = open_inputs(
        paths, kind=kind, mapping=mapping, encoding=encoding, delimiter=delimiter
    )
    result.rows.extend(rows)
    return result


def open_inputs(
    paths: Sequence[Path],
    *,
    kind: Kind | None = None,
    mapping: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    ahead: bool = False,
    while_reading: Callable[[], None] | None = None,
) -> tuple[ReadResult, Iterator[RawRow]]:
    """Return the ReadResult of the input files and their rows, each read as it is asked
    for (a register of 100,000 rows is never held whole); the result's ``issues`` and
    ``files`` are complete once the last row has been taken, its ``rows`` stay empty.

    The options, the mapping file and the folders are checked here, before any row is
    read (the errors of ``read_inputs``); a file's own problems are Issues, as it is read.
    ``ahead``: large inputs are read by a second process while the caller works on the
    rows read so far (ingest/ahead.py); the rows and the result are the same.
    ``while_reading()`` is called once that reader has started (not when reading here).
    """
    delimiter = _check_options(encoding, delimiter)
    vocab = load_vocabulary(mapping)
    result = ReadResult()
    files = expand_inputs(paths)
    rows = _rows_of(files, vocab, kind, encoding, delimiter, result)
    if ahead:
        from cchc_letters.ingest.ahead import read_ahead, worth_reading_ahead

        if worth_reading_ahead(sum(_size(path) for path in files)):
            return result, read_ahead(rows, result, while_reading)
    return result, rows


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it says what is wrong


def _rows_of(
    files: list[Path],
    vocab: Vocabulary,
    kind: Kind | None,
    encoding: str | None,
    delimiter: str | None,
    result: ReadResult,
) -> Iterator[RawRow]:
    for path in files:
        try:
            yield from _read_file(path, vocab, kind, encoding, delimiter, result)
        except FileProblem as problem:
            result.issues.append(Issue(problem.code, problem.message, file=str(path)))
        except Exception as exc:  # noqa: BLE001 — a user file must never crash the batch
            result.issues.append(
                Issue(
                    "unreadable_file",
                    f"Không đọc được tệp ({type(exc).__name__}). "
                    "Hãy mở bằng Excel và lưu lại dạng .xlsx hoặc CSV UTF-8.",
                    file=str(path),
                )
            )


def _problems_at(grid: Grid, bad_lines: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
    """Return the problem of each bad physical line, by the number of the row holding it.

    A record starts on its own line and may run over several (a cell with a line break).
    """
    import bisect

    starts = [line for line, _ in grid]
    problem_at: dict[int, tuple[str, str]] = {}
    for line in sorted(bad_lines):
        at = bisect.bisect_right(starts, line) - 1
        if at >= 0:
            problem_at.setdefault(starts[at], bad_lines[line])
    return problem_at


def _handed_on(grid: Grid) -> Rows:
    """Yield the rows of ``grid`` from the first, each dropped from the list as it is handed
    on, so that the grid is released as its rows are made."""
    grid.reverse()
    while grid:
        yield grid.pop()


def _marked(
    rows: Generator[RawRow, None, TableResult], problem_at: dict[int, tuple[str, str]]
) -> Generator[RawRow, None, TableResult]:
    """Yield ``rows`` with the problem of each bad physical line set on the row holding it;
    return what the sheet's generator returns."""
    if not problem_at:
        return (yield from rows)
    while True:
        try:
            row = next(rows)
        except StopIteration as done:
            table: TableResult = done.value
            return table
        problem = problem_at.get(row.source.row)
        yield row if problem is None else replace(row, problem=problem)


def _read_file(
    path: Path,
    vocab: Vocabulary,
    kind: Kind | None,
    encoding: str | None,
    delimiter: str | None,
    result: ReadResult,
) -> Iterator[RawRow]:
    """Yield the rows of one file as they are read; then add its FileReport and its sheets'
    Issues to ``result`` (FileProblem for a file that cannot be used)."""
    from cchc_letters.ingest.excel import (
        ENCRYPTED_MESSAGE,
        open_calamine,
        open_xlsx,
        sniff_format,
    )
    from cchc_letters.ingest.text import check_cells, read_text_file, sniff_delimiter

    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileProblem("unreadable_file", f"Không mở được tệp: {exc.strerror or exc}.") from None
    fmt = sniff_format(path, head)
    used_encoding = used_delimiter = None
    problem_at: dict[int, tuple[str, str]] = {}  # row number -> why it was read unfaithfully
    sheets: Sequence[tuple[str | None, Rows, Spans]]  # (sheet name, None for CSV; rows; merged)
    if fmt == "encrypted":
        raise FileProblem("encrypted_file", ENCRYPTED_MESSAGE)
    if fmt == "xlsx":
        sheets = open_xlsx(path)
    elif fmt in ("xls", "xlsb", "ods"):
        sheets = open_calamine(path, fmt)
    else:
        data = read_text_file(path)
        if data.lstrip()[:1] == b"<":
            raise FileProblem(
                "unreadable_file",
                "Tệp là trang web (HTML/XML) chứ không phải bảng tính thật. "
                "Hãy mở bằng Excel và lưu lại dạng .xlsx.",
            )
        decoded = decode_lines(data, encoding)
        text, used_encoding, bad_lines = decoded.text, decoded.encoding, decoded.bad_lines
        # Excel writes and honours a first line "sep=;" naming the delimiter.
        first_line = text.split("\n", 1)[0].strip()
        declared = first_line[4:] if first_line.lower().startswith("sep=") else ""
        used_delimiter = (
            delimiter
            or (declared if len(declared) == 1 else None)
            or (sniff_delimiter(text, vocab))
        )
        check_cells(text, used_delimiter)
        grid = parse(text, used_delimiter)
        del data, decoded, text  # the grid holds what is needed
        if bad_lines:
            problem_at = _problems_at(grid, bad_lines)
        sheets = [(None, _handed_on(grid), {})]
        fmt = "csv"

    hint_text = path.stem
    tables: list[TableReport] = []
    skipped: list[str] = []
    total = 0
    for sheet, rows, spans in sheets:
        table = yield from _marked(
            rows_from_grid(
                rows,
                file=str(path),
                sheet=sheet,
                vocab=vocab,
                kind=kind,
                hint_text=f"{sheet or ''} {hint_text}",
                spans=spans,
            ),
            problem_at,
        )
        result.issues.extend(table.issues)
        if table.report is None:
            if sheet is not None:
                skipped.append(sheet)
        else:
            total += table.report.rows
            tables.append(table.report)
    if not tables:
        if fmt == "csv" and path.suffix.lower() in EXCEL_SUFFIXES:
            # Neither a workbook nor a table in text: a broken or renamed file.
            raise FileProblem(
                "unreadable_file",
                f"Tệp có đuôi {path.suffix} nhưng không phải bảng tính Excel "
                "(có thể bị hỏng, tải chưa xong hoặc bị đổi tên).",
            )
        where = "trang tính nào" if fmt != "csv" else "tệp"
        raise FileProblem(
            "no_header",
            f"Không tìm thấy dòng tiêu đề cột của sổ hộ tịch trong {where} "
            "(cần các cột như 'Số', 'Ngày đăng ký', 'Họ và tên'). "
            "Nếu tiêu đề cột khác, hãy khai báo bằng --mapping.",
        )
    result.files.append(
        FileReport(
            str(path),
            fmt,
            total,
            used_encoding,
            used_delimiter,
            sheets=tuple(t.sheet for t in tables if t.sheet is not None),
            tables=tuple(tables),
            skipped_sheets=tuple(skipped),
        )
    )
