"""The command line: the only place that imports Typer and Rich. Commands register here."""

from __future__ import annotations

import gc

# Importing Typer and the commands makes some hundred thousand objects, every one of them
# kept to the end (modules, classes, functions): the collector ran about thirty times over
# them and found nothing, 10-15 ms of a daily batch's start-up. Off while they import, then
# as it was; what exists then is frozen (gc.freeze: never scanned again, as Python's docs
# advise before forking writers), which saved a tenth of a sample batch's CPU in all. The
# command line is the process's entry point: an importer's objects of that moment stay too.
_collecting = gc.isenabled()
gc.disable()
try:
    import copy
    import sys
    from collections.abc import Sequence

    from cchc_letters import startup_code

    # Before the first dataclass and pattern are made: dataclasses' compiled methods and
    # patterns' programs come from the start-up cache (startup_code.py), in this process and
    # in what it imports later.
    startup_code.install()

    import typer

    from cchc_letters.cli.app import app

    # Each module adds its commands to ``app`` when imported; keep heavy imports inside
    # commands. One import line per command module, below.
    from cchc_letters.cli import generate  # noqa: F401
    from cchc_letters.cli import check  # noqa: F401
    from cchc_letters.cli import schedule  # noqa: F401
    from cchc_letters.cli import templates  # noqa: F401
    from cchc_letters.cli import preview  # noqa: F401
    from cchc_letters.cli import ledger  # noqa: F401
    from cchc_letters.cli import watch  # noqa: F401
    from cchc_letters.cli import serve  # noqa: F401
    from cchc_letters.cli import sessions  # noqa: F401
finally:
    gc.freeze()
    if _collecting:
        gc.enable()


def app_for(args: Sequence[str]) -> typer.Typer:
    """Return ``app`` holding only the command that ``args`` start with, else ``app`` itself.

    Typer builds every command's options from its function's signature before running one;
    for ``generate`` that was more than a tenth of a small batch's start-up. The command's
    parsing, help and errors are the same: they never list its siblings, and the group keeps
    its callback (``--version``), so it stays a group. Anything else (no command, an option
    first, an unknown name) gets the whole application, with its list of commands.
    """
    if not args or args[0].startswith("-"):
        return app
    from typer.main import get_command_name, solve_typer_info_defaults

    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == args[0]
    ]
    groups = [g for g in app.registered_groups if solve_typer_info_defaults(g).name == args[0]]
    if len(commands) + len(groups) != 1:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def main() -> None:
    """Console-script entry point."""
    try:
        app_for(sys.argv[1:])()
    finally:
        # The process ends here; Python's last collection, as it shuts down, would scan
        # every object the command made (7 ms after a daily batch) to free it a moment
        # before the process does. Frozen objects are left out of it.
        gc.freeze()
