"""What Python compiles at every start, kept in the start-up cache (cache.py) between runs:
dataclasses' generated methods and regular expressions' programs.

Python 3.11's ``dataclasses`` writes each class's ``__init__``, ``__repr__``, ``__eq__``,
``__setattr__`` … as source text and compiles it, for every class, at every start: a daily
batch of 20 births made 368 of them, 75 ms of its 0.4 s. The text depends only on the class
as written, so its compiled code is kept here, as Python keeps a module's in a ``.pyc``
file, and a later run executes it without compiling. No library does this: dataclasses
calls the built-in ``exec`` on the text, and ``install`` gives the dataclasses module an
``exec`` of its own that looks the text up first.

Likewise ``re`` parses and compiles each pattern a module uses, in Python, at every start:
the same batch compiled 135 of them (the command line's, Jinja's, tomllib's, logging's),
about 8 % of its instructions. A pattern's program (the arguments ``re._compiler.compile``
gives ``_sre.compile``) depends only on the pattern, its flags and the Python build, so it
is kept too: ``install`` gives ``re`` a ``compile`` of its own that hands a kept program
straight to ``_sre.compile``, which checks it as it checks any (a program it rejects is
compiled again). No library keeps them: ``re`` pickles a pattern as its text.

An entry is the text itself (a method's source; a pattern with its flags), compared whole,
so a changed class or pattern (or another Python's) finds nothing and compiles as before.
The entries are kept per Python build (bytecode and programs differ between versions) and
per installed cchc-letters, as code: readable only from a file no one else can write
(``cache.lookup_bytes``' ``code``). Whatever cannot be read is a miss. The command line installs
it for its process; a program importing the library keeps Python's own behaviour.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import threading
import types
from typing import Any

NAMESPACE = "startup-code"
MAX_ENTRIES = 4096  # of each kind; more start that store afresh (never reached: ~400, ~150)

# A pattern as ``re`` caches it: whether it is text, the pattern, its flags.
PatternKey = tuple[bool, str | bytes, int]

_codes: dict[str, Any] = {}  # generated source text -> its compiled code
_compiled: list[str] = []  # the texts compiled in this process (not found in the cache)
_programs: dict[PatternKey, tuple[Any, ...]] = {}  # a pattern -> _sre.compile's arguments
_new_programs: list[PatternKey] = []  # the patterns compiled in this process
_installed_in: int | None = None  # the process that installed it (a forked writer keeps it)


def install() -> None:
    """From now on in this process, run dataclasses' generated methods and make regular
    expressions from the start-up cache when they were compiled before; keep the new ones
    when the process exits."""
    global _installed_in
    if _installed_in is not None:
        return
    import atexit

    methods, programs = _cached()
    _codes.update(methods)
    _programs.update(programs)
    setattr(dataclasses, "exec", _exec)  # noqa: B010 — a module global, shadowing the built-in
    if _Catching.install():
        re._compiler.compile = _compile_pattern  # type: ignore[attr-defined]
    _installed_in = os.getpid()
    atexit.register(save)


def compiled_here() -> tuple[int, int]:
    """Return how many generated methods and how many patterns this process compiled
    (found in no cache)."""
    return len(_compiled), len(_new_programs)


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


class _Catching:
    """Stands in for the ``_sre`` module inside ``re._compiler``: passes everything through,
    and notes (per thread) the arguments of the last ``compile``, the pattern's program."""

    _original_compile: Any = None  # re._compiler.compile as Python has it

    def __init__(self, sre: Any) -> None:
        self._sre = sre
        self.last = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sre, name)

    def compile(self, *args: Any) -> Any:
        self.last.args = args
        return self._sre.compile(*args)

    @classmethod
    def install(cls) -> bool:
        """Put a _Catching in ``re._compiler`` (once); False where ``re`` is not built so
        (then patterns compile as ever)."""
        compiler = getattr(re, "_compiler", None)
        sre = getattr(compiler, "_sre", None)
        if isinstance(sre, cls):
            return True
        if compiler is None or not callable(getattr(sre, "compile", None)):
            return False
        cls._original_compile = compiler.compile
        compiler._sre = cls(sre)
        return True


def _compile_pattern(pattern: Any, flags: int = 0) -> Any:
    """``re._compiler.compile``, making a pattern compiled before from its kept program."""
    catching = re._compiler._sre  # type: ignore[attr-defined]
    if not isinstance(pattern, str | bytes) or flags & re.DEBUG:
        return _Catching._original_compile(pattern, flags)  # (a parsed one: re.Scanner's)
    key: PatternKey = (isinstance(pattern, str), pattern, flags)
    program = _programs.get(key)
    if program is not None:
        try:
            return catching._sre.compile(*program)
        except Exception:  # noqa: BLE001 — a program _sre rejects: compiled again below
            del _programs[key]
    catching.last.args = None
    compiled = _Catching._original_compile(pattern, flags)
    args = catching.last.args
    if args is not None and args[0] == pattern:
        _programs[key] = _plain(args)
        _new_programs.append(key)
    return compiled


def _plain(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return _sre.compile's arguments as plain ints, lists, dicts and tuples: the opcodes
    are an int subclass of ``re``'s, which marshal does not write."""
    pattern, flags, code, groups, groupindex, indexgroup = args
    return pattern, int(flags), [int(op) for op in code], int(groups), dict(groupindex), indexgroup


def _key() -> list[str] | None:
    from importlib.util import MAGIC_NUMBER

    from cchc_letters import cache

    return cache.key_of(
        "startup-code-1",
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


def _cached() -> tuple[dict[str, Any], dict[PatternKey, tuple[Any, ...]]]:
    """Return the stored methods' texts and code, and the stored patterns' programs; empty
    when there are none or they do not load."""
    from cchc_letters import cache

    stored = cache.lookup_bytes(NAMESPACE, _key(), code=True)
    if stored is None:
        return {}, {}
    import marshal

    try:
        methods, programs = marshal.loads(stored)
    except Exception:  # noqa: BLE001 — anything unreadable is a miss: compiled again
        return {}, {}
    if not isinstance(methods, dict) or not isinstance(programs, dict):
        return {}, {}
    methods = {
        text: code
        for text, code in methods.items()
        if isinstance(text, str) and isinstance(code, types.CodeType)
    }
    return methods, {key: args for key, args in programs.items() if isinstance(args, tuple)}


def save() -> None:
    """Keep the methods and patterns compiled in this process (at its exit; best effort)."""
    if not (_compiled or _new_programs) or _installed_in != os.getpid():
        return
    import marshal

    from cchc_letters import cache

    codes = _codes if len(_codes) <= MAX_ENTRIES else {t: _codes[t] for t in _compiled}
    programs = (
        _programs if len(_programs) <= MAX_ENTRIES else {k: _programs[k] for k in _new_programs}
    )
    cache.store_bytes(NAMESPACE, _key(), marshal.dumps((codes, programs)), code=True)
    _compiled.clear()
    _new_programs.clear()
