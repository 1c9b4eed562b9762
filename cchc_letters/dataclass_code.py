"""The compiled methods of dataclasses, kept in the start-up cache (cache.py) between runs.

Python 3.11's ``dataclasses`` writes each class's ``__init__``, ``__repr__``, ``__eq__``,
``__setattr__`` … as source text and compiles it, for every class, at every start: a daily
batch of 20 births made 368 of them, 75 ms of its 0.4 s. The text depends only on the class
as written, so its compiled code is kept here, as Python keeps a module's in a ``.pyc``
file, and a later run executes it without compiling. No library does this: dataclasses
calls the built-in ``exec`` on the text, and ``install`` gives the dataclasses module an
``exec`` of its own that looks the text up first.

An entry is the text itself, compared whole, so a changed class (or another Python's
dataclasses) finds no code and compiles as before. The entries are kept per Python build
(bytecode differs between versions) and per installed cchc-letters, as code: readable only
from a file no one else can write (``cache.lookup``'s ``code``). Whatever cannot be read is
a miss. The command line installs it for its process; a program importing the library
keeps Python's own behaviour.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
from typing import Any

NAMESPACE = "dataclasses"
MAX_ENTRIES = 4096  # generated methods kept; more start the store afresh (never reached: ~400)

_codes: dict[str, Any] = {}  # generated source text -> its compiled code
_compiled: list[str] = []  # the texts compiled in this process (not found in the cache)
_installed_in: int | None = None  # the process that installed it (a forked writer keeps it)


def install() -> None:
    """From now on in this process, run dataclasses' generated methods from the start-up
    cache when they were compiled before; keep the new ones when the process exits."""
    global _installed_in
    if _installed_in is not None:
        return
    import atexit

    _codes.update(_cached())
    setattr(dataclasses, "exec", _exec)  # noqa: B010 — a module global, shadowing the built-in
    _installed_in = os.getpid()
    atexit.register(save)


def compiled_here() -> int:
    """Return how many generated methods this process compiled (found in no cache)."""
    return len(_compiled)


def _exec(source: Any, /, *args: Any, **kwargs: Any) -> None:
    """The built-in ``exec`` (whatever else it is given), with generated text found here."""
    if isinstance(source, str):
        code = _codes.get(source)
        if code is None:
            # dont_inherit: compiled as exec(source) in dataclasses would compile it, without
            # this module's `from __future__ import annotations`
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _codes[source] = code
            _compiled.append(source)
        source = code
    exec(source, *args, **kwargs)


def _key() -> list[str] | None:
    from importlib.util import MAGIC_NUMBER

    from cchc_letters import cache

    return cache.key_of(
        "dataclass-code-1",
        sys.version,
        sys.implementation.cache_tag,
        MAGIC_NUMBER.hex(),
        _this_installation(),
    )


def _this_installation() -> str | None:
    """Return what identifies this installation of cchc-letters: the path, size and
    modification time of its ``__init__.py`` (a reinstall writes it anew), as
    cache.installed tells other packages'; an editable install is not on sys.path, so the
    file is the imported package's own."""
    import cchc_letters

    try:
        stat = os.stat(cchc_letters.__file__ or "")
    except OSError:
        return None
    return f"cchc_letters:{cchc_letters.__file__}:{stat.st_size}:{stat.st_mtime_ns}"


def _cached() -> dict[str, Any]:
    """Return the stored texts and their code; {} when there are none or they do not load."""
    from cchc_letters import cache

    stored = cache.lookup(NAMESPACE, _key(), code=True)
    if not isinstance(stored, str):
        return {}
    import base64
    import marshal

    try:
        codes = marshal.loads(base64.b64decode(stored))
    except Exception:  # noqa: BLE001 — anything unreadable is a miss: compiled again
        return {}
    if not isinstance(codes, dict):
        return {}
    return {
        text: code
        for text, code in codes.items()
        if isinstance(text, str) and isinstance(code, types.CodeType)
    }


def save() -> None:
    """Keep the generated methods compiled in this process (at its exit; best effort)."""
    if not _compiled or _installed_in != os.getpid():
        return
    import base64
    import marshal

    from cchc_letters import cache

    codes = _codes if len(_codes) <= MAX_ENTRIES else {t: _codes[t] for t in _compiled}
    cache.store(
        NAMESPACE, _key(), base64.b64encode(marshal.dumps(codes)).decode("ascii"), code=True
    )
    _compiled.clear()
