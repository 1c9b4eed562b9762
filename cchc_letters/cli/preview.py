"""`cchc-letters preview KIND`: one letter with realistic sample data, to look at in Word."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import (
    KIND_NAMES,
    DateOption,
    JsonOption,
    ProfileOption,
    parse_date_option,
    print_json,
    user_errors,
)


@app.command("preview")
def preview(
    kind: Annotated[
        str,
        typer.Argument(
            help=f"{KIND_NAMES}.",
            metavar="KIND",
            show_default=False,
        ),
    ],
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            help="The DOCX template to preview. Default: the profile's, else the default one.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    profile: ProfileOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the DOCX. Default: preview-KIND.docx here."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")
    ] = False,
    long: Annotated[
        bool,
        typer.Option("--long", help="Use the long sample names and addresses of the page check."),
    ] = False,
    at_limits: Annotated[
        bool,
        typer.Option(
            "--at-limits",
            help="Fill every name, address, place, số and quyển up to its length limit "
            "(data/columns.toml [limits]): the longest letter a row can make, as the page "
            "check renders it.",
        ),
    ] = False,
    letter_date: DateOption = None,
    json_output: JsonOption = False,
) -> None:
    """Render one letter of KIND with sample data (names, dates, the commune's own profile
    values) to a DOCX, and a PDF when asked, so an editor can see the result."""
    from cchc_letters.options import kind_option
    from cchc_letters.templatecheck import render_preview

    with user_errors():
        chosen = kind_option(kind, "KIND")
        assert chosen is not None  # KIND is a required argument
        result = render_preview(
            chosen,
            template=template,
            profile_path=profile,
            out=out if out is not None else Path(f"preview-{chosen.value}.docx"),
            pdf=pdf,
            letter_date=parse_date_option(letter_date),
            long=long,
            at_limits=at_limits,
        )
    if json_output:
        print_json(result.to_json())
        return
    typer.echo(f"Mẫu thư (template): {result.template}")
    typer.echo(f"Bản xem trước (preview): {result.docx}")
    if result.pdf:
        typer.echo(f"PDF: {result.pdf}")
    if result.pdf_message:
        typer.echo(f"PDF: {result.pdf_message}", err=True)
