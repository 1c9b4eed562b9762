"""`cchc-letters check`: read and validate exports, list every problem, write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import (
    DateOption,
    DelimiterOption,
    EncodingOption,
    InputsArgument,
    JsonOption,
    KindOption,
    MappingOption,
    parse_date_option,
    print_json,
    user_errors,
)
from cchc_letters.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cchc_letters.ingest import FileReport
    from cchc_letters.models import Issue, IssueRow


def _issue_dict(issue: Issue) -> IssueRow:
    return issue.as_row()


def _issue_line(issue: Issue) -> str:
    d = _issue_dict(issue)
    where = d["file"] or ""
    if d["sheet"]:
        where += f" [{d['sheet']}]"
    if d["row"] is not None:
        where += f":{d['row']}"
    cell = f" [{d['column']}]" if d["column"] else ""
    value = f" {d['value']!r}" if d["value"] else ""
    return f"{where}{cell}{value}: {d['reason']} ({d['code']}, {d['severity']})"


def _file_dict(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "format": report.format,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "rows": report.rows,
        "skipped_sheets": list(report.skipped_sheets),
        "tables": [
            {
                "sheet": t.sheet,
                "header_rows": list(t.header_rows),
                "kind": t.kind.value if t.kind else None,
                "columns": {heading: name for heading, name in t.columns},
                # field <- heading, in the sheet's order; "how": found as written in
                # columns.toml/--mapping ("synonym") or understood from its parts
                "fields": [
                    {
                        "field": name,
                        "heading": heading,
                        "how": "understood" if heading in t.understood else "synonym",
                    }
                    for heading, name in t.columns
                ],
                "unmapped": list(t.unmapped),
                "rows": t.rows,
                "skipped_rows": list(t.skipped_rows),
            }
            for t in report.tables
        ],
    }


# `check --json` after a fatal error: the usual keys, nothing found
_FAILED: dict[str, Any] = {
    "ok": False,
    "letter_date": None,
    "rows_read": 0,
    "valid": 0,
    "rejected": 0,
    "duplicates": 0,
    "unreadable_files": 0,
    "files": [],
    "issues": [],
}


# check fills the letters only when told which commune's templates: the shipped templates
# fit one page and render every row validation accepts (templates check proves it), so
# without a profile there is nothing more to find, and filling costs what generating does.
CheckProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Commune profile (TOML): also fill every letter with its templates, as generate "
        "would, and list the rows it would reject then (a template error on that row's data, "
        "a letter over one page). Costs about as much as generating.",
        dir_okay=False,
    ),
]


@app.command("check")
def check(
    inputs: InputsArgument,
    kind: KindOption = None,
    mapping: MappingOption = None,
    encoding: EncodingOption = None,
    delimiter: DelimiterOption = None,
    letter_date: DateOption = None,
    profile: CheckProfileOption = None,
    json_output: JsonOption = False,
) -> None:
    """Kiểm tra tệp xuất từ sổ hộ tịch, không viết thư — read and validate exports only.

    Lists every row that could not become a letter (file, sheet, row, column, value, reason)
    and every file that could not be read. With --profile, also fills every letter with the
    commune's templates and lists the rows generate would reject then. Exit 0 when every row
    is usable (exact duplicates are only reported), 3 when something was rejected or
    unreadable.
    """
    from cchc_letters.intake import check_inputs

    with user_errors(json_output=json_output, json_fields=_FAILED):
        when = parse_date_option(letter_date)
        checked = check_inputs(
            inputs,
            letter_date=when,
            kind=kind,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
        )
        unprintable: list[Issue] = []
        if profile is not None and checked.registrations:
            unprintable = _unprintable(checked, inputs, profile, when)
    read, issues = checked.read, [*checked.issues, *unprintable]
    failed = any(i.severity == "error" for i in issues)
    summary = {
        "ok": not failed,
        "letter_date": when.isoformat(),
        "rows_read": checked.rows_read,
        "valid": len(checked.registrations) - len(unprintable),
        "rejected": checked.rejected + len(unprintable),
        "duplicates": checked.duplicates,
        "unreadable_files": checked.unreadable_files,
    }
    if json_output:
        print_json(
            {
                **summary,
                "files": [_file_dict(f) for f in read.files],
                "issues": [_issue_dict(i) for i in issues],
            }
        )
    else:
        _print_table(issues, read.files, summary)
    if failed:
        raise typer.Exit(int(ExitCode.REJECTED))


def _unprintable(checked: Any, inputs: list[Path], profile: Path, when: Any) -> list[Issue]:
    """Return the rows generate would reject when writing their letters with the profile's
    templates (pipeline.prepare, then writing.unprintable: nothing written)."""
    from cchc_letters.pipeline import BatchOptions, prepare
    from cchc_letters.writing import unprintable

    options = BatchOptions(inputs=inputs, out_dir=Path("."), letter_date=when, profile_path=profile)
    prepared = prepare(options, checked)
    return unprintable(
        prepared.registrations, templates=prepared.templates, context_of=prepared.context_of
    )


def _print_table(
    issues: Sequence[Issue], files: Sequence[FileReport], summary: dict[str, Any]
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=False)
    for report in files:
        for table in report.tables:
            where = f"{report.path}" + (f" [{table.sheet}]" if table.sheet else "")
            kind = table.kind.vietnamese if table.kind else "theo cột loại sổ / không rõ"
            rows = ", ".join(str(r) for r in table.header_rows)
            console.print(
                Text(f"{where}: sổ {kind}, tiêu đề ở dòng {rows}, {table.rows} dòng"),
                soft_wrap=True,
            )
            width = max((len(name) for _, name in table.columns), default=0)
            for heading, name in table.columns:
                how = "  (hiểu từ các phần của tiêu đề)" if heading in table.understood else ""
                console.print(Text(f"  {name:<{width}} ← {heading}{how}"), soft_wrap=True)
            if table.unmapped:
                console.print(
                    Text("  Cột bỏ qua (không dùng): " + "; ".join(table.unmapped)), soft_wrap=True
                )
    if issues and console.is_terminal:
        grid = Table(show_lines=True, expand=True)
        for heading, ratio in (("Vị trí", 3), ("Cột", 2), ("Giá trị", 2), ("Lý do (mã)", 6)):
            grid.add_column(heading, overflow="fold", ratio=ratio)
        for issue in issues:
            d = _issue_dict(issue)
            where = (d["file"] or "") + (f" [{d['sheet']}]" if d["sheet"] else "")
            if d["row"] is not None:
                where += f":{d['row']}"
            grid.add_row(
                Text(where),
                Text(d["column"] or ""),
                Text(d["value"] or ""),
                Text(f"{d['reason']} ({d['code']})"),
            )
        console.print(grid)
    else:
        # Piped to a file, cron mail or CI: one plain line per problem, like a compiler.
        for issue in issues:
            console.print(Text(_issue_line(issue)), soft_wrap=True)
    console.print(
        Text(
            f"Đã đọc {summary['rows_read']} dòng: {summary['valid']} dòng dùng được, "
            f"{summary['rejected']} dòng bị loại, {summary['duplicates']} dòng trùng lặp; "
            f"{summary['unreadable_files']} tệp không đọc được."
        ),
        soft_wrap=True,
    )
    if summary["ok"]:
        console.print(Text("Không có lỗi — có thể tạo thư (generate)."))
