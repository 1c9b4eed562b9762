"""`cchc-letters ledger list|show|forget`: what was printed when, and printing again on purpose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import (
    KIND_NAMES,
    JsonOption,
    LedgerOption,
    WaitOption,
    parse_date_option,
    print_json,
    user_errors,
)
from cchc_letters.errors import ExitCode

if TYPE_CHECKING:
    from cchc_letters.ledger import Ledger, LedgerEntry

ledger_app = typer.Typer(
    help="Sổ theo dõi thư đã in — the ledger of letters printed, per output folder.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(ledger_app, name="ledger")

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="The output folder of `generate`; its ledger is OUT/ledger.sqlite3."
    ),
]
KeysArgument = Annotated[
    list[str],
    typer.Argument(
        help="Registration keys as in manifest.csv: commune:kind:year:book:number.",
        metavar="KEY...",
        show_default=False,
    ),
]


def _open(out: Path | None, ledger: Path | None) -> Ledger:
    from cchc_letters.ledger import Ledger, default_path

    if ledger is not None and out is None:
        return Ledger.open(ledger, create=False)
    if out is not None and ledger is None:
        return Ledger.open(default_path(out), create=False)
    raise typer.BadParameter("give exactly one of --out DIR or --ledger FILE")


def _line(entry: LedgerEntry) -> str:
    where = f"{entry.batch}/{entry.print_file} #{entry.position}"
    state = "" if entry.state == "printed" else f"  [{entry.state} {entry.ended_at or ''}]"
    return f"{entry.printed_at[:19]}  {entry.key}  {where}{state}"


@ledger_app.command("list")
def list_(
    out: OutOption = None,
    ledger: LedgerOption = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="YYYY-MM-DD", help="Only letters printed on or after."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help=f"Only letters of this kind: {KIND_NAMES}.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the letters printed (oldest first), with batch, print file and position."""
    with user_errors(json_output=json_output, json_fields={"letters": []}):
        since_date = parse_date_option(since, "--since") if since else None
        from cchc_letters.options import kind_option

        kind_value = kind_option(kind)
        with _open(out, ledger) as book:
            entries = book.entries(since=since_date, kind=kind_value)
    if json_output:
        print_json({"letters": [e.to_json() for e in entries]})
        return
    for entry in entries:
        typer.echo(_line(entry))
    typer.echo(f"{len(entries)} thư.")


@ledger_app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="commune:kind:year:book:number", metavar="KEY")],
    out: OutOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the whole history of one registration: printed, reprinted, forgotten."""
    from cchc_letters.ledger import parse_key

    with user_errors(json_output=json_output, json_fields={"key": key, "history": []}):
        with _open(out, ledger) as book:
            history = book.history(parse_key(key))
    if json_output:
        print_json({"key": key, "history": [e.to_json() for e in history]})
        raise typer.Exit(0 if history else 1)
    if not history:
        typer.echo(f"Lỗi (error): {key} chưa được in (not in the ledger)", err=True)
        raise typer.Exit(1)
    for entry in history:
        typer.echo(_line(entry))


@ledger_app.command("forget")
def forget(
    keys: KeysArgument,
    out: OutOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Forget letters (lost or damaged) so the next `generate` prints them again.

    The history is kept: `ledger show KEY` still lists the forgotten letter. Each key is
    reported: forgotten now, already forgotten, or not found. Exit 0 when every key is
    forgotten (now or before), 3 when some key was never printed from this ledger.
    """
    from cchc_letters.ledger import ALREADY_FORGOTTEN, FORGOTTEN, parse_key
    from cchc_letters.pipeline import local_now

    with user_errors(json_output=json_output, json_fields={"keys": {}}):
        canonical = [parse_key(k) for k in keys]
        with _open(out, ledger) as book:
            outcome = book.forget(canonical, now=local_now())
    missing = [k for k, state in outcome.items() if state not in (FORGOTTEN, ALREADY_FORGOTTEN)]
    code = ExitCode.REJECTED if missing else ExitCode.OK
    if json_output:
        print_json({"keys": outcome, "exit_code": int(code)})
        raise typer.Exit(int(code))
    for key, state in outcome.items():
        if state == FORGOTTEN:
            typer.echo(f"Đã bỏ khỏi sổ: {key} — lần chạy sau sẽ in lại (forgotten: printed again)")
        elif state == ALREADY_FORGOTTEN:
            typer.echo(
                f"Đã bỏ khỏi sổ từ trước: {key} — lần chạy sau sẽ in lại "
                "(already forgotten: printed again)"
            )
        else:
            typer.echo(
                f"Không tìm thấy: {key} chưa từng được in từ sổ này (not found in the ledger)",
                err=True,
            )
    if missing:
        typer.echo(
            "Gợi ý (hint): kiểm tra khoá trong manifest.csv hoặc `ledger list`; "
            "các khoá khác đã được xử lý.",
            err=True,
        )
    raise typer.Exit(int(code))


@ledger_app.command("rebuild")
def rebuild(
    out: Annotated[
        Path, typer.Option("--out", help="The output folder whose batch folders are recorded.")
    ],
    ledger: LedgerOption = None,
    wait: WaitOption = 600.0,
    json_output: JsonOption = False,
) -> None:
    """Rebuild the ledger from the manifest.csv of each batch folder in --out.

    For a ledger that is damaged, lost or restored from an older copy: every batch folder it
    does not record is added from its manifest, oldest first. A damaged ledger is kept beside
    it (ledger.sqlite3.damaged-…), never deleted. Letters forgotten with `ledger forget`
    before must be forgotten again.
    """
    from cchc_letters import ledger as ledger_module
    from cchc_letters import locking
    from cchc_letters.pipeline import local_now

    fields: dict[str, Any] = {"ledger": None, "damaged_copy": None, "batches": [], "letters": 0}
    with user_errors(json_output=json_output, json_fields=fields):
        if not out.is_dir():
            raise typer.BadParameter(f"{out} is not a folder", param_hint="--out")
        path = ledger or ledger_module.default_path(out)
        with locking.hold(locking.batch_locks(out, path), wait=wait):
            done = ledger_module.rebuild(path, out, now=local_now())
    if json_output:
        print_json(
            {
                "ledger": str(done.ledger),
                "damaged_copy": str(done.damaged_copy) if done.damaged_copy else None,
                "batches": [str(p) for p in done.batches],
                "letters": done.letters,
                "exit_code": 0,
            }
        )
        return
    if done.damaged_copy:
        typer.echo(f"Sổ hỏng được giữ lại tại (damaged ledger kept as): {done.damaged_copy}")
    for batch in done.batches:
        typer.echo(f"Đã ghi vào sổ (recorded): {batch}")
    typer.echo(
        f"Sổ theo dõi {done.ledger}: thêm {len(done.batches)} lô, {done.letters} thư "
        "(batches and letters added from their manifests)."
    )


@ledger_app.command("purge")
def purge(
    before: Annotated[
        str,
        typer.Option(
            "--before",
            metavar="YYYY-MM-DD",
            help="Delete what the session lists kept about children (and children's deaths) "
            "whose retention ([retention] in the profile) ended before this day.",
        ),
    ],
    out: OutOption = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete the session lists' personal data whose retention has ended.

    The record of which letters were printed (keys only, no names) is kept, so nothing is
    printed twice.
    """
    with user_errors(json_output=json_output, json_fields={"purged": {}}):
        day = parse_date_option(before, "--before")
        with _open(out, ledger) as book:
            purged = book.people.purge(day)
    if json_output:
        print_json({"purged": purged, "before": day.isoformat(), "exit_code": 0})
        return
    typer.echo(
        f"Đã xoá dữ liệu hết hạn lưu trước {day:%d/%m/%Y}: {purged['children']} trẻ, "
        f"{purged['deaths']} hồ sơ khai tử của trẻ, {purged['session_entries']} dòng danh sách "
        f"tiêm, {purged['given_doses']} mũi đã tiêm."
    )
