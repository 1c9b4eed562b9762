"""`cchc-letters templates check|export`: help the people who reword the letters in Word."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import JsonOption, ProfileOption, print_json, user_errors

if TYPE_CHECKING:
    from cchc_letters.templatecheck import CheckReport

templates_app = typer.Typer(
    name="templates",
    help="Mẫu thư (letter templates): check them before a batch, export the defaults to edit.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(templates_app)


@templates_app.command("check")
def check(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Folder with birth.docx / marriage.docx / death.docx (a kind it lacks uses "
            "the default). Default: the profile's [letters] templates_dir, else the defaults.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    json_output: JsonOption = False,
    no_layout: Annotated[
        bool,
        typer.Option("--no-layout", help="Skip the one-page check (it needs LibreOffice)."),
    ] = False,
) -> None:
    """Find template errors before any batch: Jinja syntax, unknown variables or filters,
    placeholders Word split across paragraphs, and letters that would not fit one page.

    Exit code 0 when every template is usable, 1 when any has an error.
    """
    from cchc_letters.profile import load_profile
    from cchc_letters.templatecheck import check_templates

    with user_errors(json_output=json_output, json_fields={"ok": False, "templates": []}):
        loaded = load_profile(profile)
        target = folder if folder is not None else loaded.templates_dir
        report = check_templates(target, profile=loaded, layout=not no_layout)
    if json_output:
        print_json(report.to_json())
    else:
        _present(report)
    raise typer.Exit(0 if report.ok else 1)


def _present(report: CheckReport) -> None:
    echo = typer.echo
    for kind, path in report.files.items():
        pages = report.pages.get(kind)
        size = f" — {pages} trang với dữ liệu dài (pages with long values)" if pages else ""
        if kind in report.pages_at_limits:
            size += f", {report.pages_at_limits[kind]} trang với dữ liệu dài tới giới hạn"
        echo(f"{kind.value}: {path}{size}")
    for finding in report.findings:
        label = {"error": "LỖI (error)", "warning": "Cảnh báo (warning)", "info": "Ghi chú"}[
            finding.severity
        ]
        echo(f"{label}: {finding}", err=finding.severity != "info")
    if report.layout_note:
        echo(f"Ghi chú: {report.layout_note}", err=True)
    if report.ok:
        echo("Mẫu thư dùng được (templates OK).")
    else:
        echo(
            f"{len(report.errors)} lỗi: sửa mẫu thư trong Word rồi chạy lại "
            "`cchc-letters templates check` (see templates/README.md).",
            err=True,
        )


@templates_app.command("export")
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to copy the default templates into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite templates already in the folder.")
    ] = False,
) -> None:
    """Copy the default templates (and their README) into FOLDER to start editing from.

    Then set `[letters] templates_dir` in the commune profile to that folder.
    """
    from cchc_letters.templatecheck import export_defaults

    with user_errors():
        written = export_defaults(folder, overwrite=force)
    for path in written:
        typer.echo(f"Đã chép (copied): {path}")
    typer.echo(
        f'Sửa các tệp này trong Word, đặt templates_dir = "{folder}" trong mục [letters] của hồ '
        "sơ xã, rồi chạy `cchc-letters templates check`."
    )
