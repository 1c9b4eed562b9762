"""The Typer application object that every command module registers on."""

from __future__ import annotations

import typer

EXIT_CODES_HELP = (
    "Exit codes: 0 every row became a letter; 1 fatal error, no letters written; "
    "2 usage error; 3 finished, but some rows or files were rejected (see rejects.csv); "
    "4 another run holds the lock longer than --wait; 5 the batch was written but the "
    "ledger could not record it (the next run does)."
)

app = typer.Typer(
    name="cchc-letters",
    help=(
        "Thư chúc mừng / chia buồn từ sổ hộ tịch — congratulation and condolence letters "
        "from civil-registration exports, as print-ready DOCX batches.\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never show locals: they hold names and ID numbers
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from cchc_letters import __version__

        typer.echo(f"cchc-letters {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Thư chúc mừng / chia buồn từ sổ hộ tịch."""
