"""A small on-disk cache of what every run would otherwise recompute at start-up (issue 17).

A commune's daily batch is a few letters; importing docxtpl (for a template's clean-up) and
the ``holidays`` package (every country, for Vietnam's) cost more than writing them. What
those produce is a pure function of inputs that rarely change, so it is kept here:

* a template's cleaned body (render.read_template), keyed by the SHA-256 of its
  ``word/document.xml`` and the installed docxtpl, python-docx and lxml;
* Vietnam's public holidays of one year (sessions.py), keyed by the installed ``holidays``;
* a template's compiled Jinja code and parsed tree (render._compiled_source), keyed by the
  cleaned body's SHA-256, render.py's own SHA-256, the installed Jinja and MarkupSafe, the
  Python build and the filters' and tests' names: code, so written for this user alone and
  read only from a file and folder no one else can write (``lookup``'s ``code``);
* the compiled methods of dataclasses and the programs of regular expressions
  (startup_code.py), keyed by the generated text or the pattern and its flags, the Python
  build and the installed cchc-letters: code, like a compiled template;
* the parsed content of a TOML file (the shipped data files, a profile, the vaccination
  schedules: ``load_toml``/``loads_toml``), keyed by the SHA-256 of its text and the Python
  version (tomllib is pure Python: the data files take longer to parse than to read as JSON).

An entry is JSON (``store``), or raw bytes behind its key's line (``store_bytes``: what every
start reads, with no JSON to parse and no base64 to decode). It is found only by its whole
key (stored beside the value and compared on reading), so a changed template, a new library
version or a reinstall (pip writes new files, with new modification times) is a miss, never
stale wording. An entry that cannot be read or parsed
is a miss too; writing is atomic (a temporary file renamed) and best effort: a read-only or
full disk only makes the run slower. The folder is ``$CCHC_CACHE_DIR`` when set (empty: no
cache), else the user's cache folder (``~/.cache/cchc-letters`` on Linux). Deleting it at any
time is safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ENV_VAR = "CCHC_CACHE_DIR"
MAX_ENTRIES = 64  # per namespace; the oldest go first (an edited template leaves its old body)


def cache_dir() -> Path | None:
    """Return the cache folder, or None when ``$CCHC_CACHE_DIR`` is set empty (no cache)."""
    configured = os.environ.get(ENV_VAR)
    if configured is not None:
        return Path(configured) if configured.strip() else None
    # The platform's user cache folder (what platformdirs would say; not worth a dependency).
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "cchc-letters" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cchc-letters"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cchc-letters"


def installed(module: str) -> str | None:
    """Return what identifies the installed code of a top-level package without importing
    it: the path, size and modification time of its ``__init__.py`` (any reinstall writes it
    anew); None when that cannot be told (then nothing it makes may be cached)."""
    from importlib.machinery import PathFinder

    # On sys.path, as an import would find it (whether or not it is imported already).
    spec = PathFinder.find_spec(module)
    origin = spec.origin if spec else None
    if not origin or not os.path.isabs(origin):
        return None
    try:
        stat = os.stat(origin)
    except OSError:
        return None
    return f"{module}:{origin}:{stat.st_size}:{stat.st_mtime_ns}"


def key_of(*parts: str | None) -> list[str] | None:
    """Return a cache key of ``parts``, or None (do not cache) when one of them is unknown."""
    if any(part is None for part in parts):
        return None
    return [str(part) for part in parts]


# An entry's file: its key and JSON value (``store``), or its key on the first line and then
# the value's bytes as they are (``store_bytes``).
_SUFFIXES = (".json", ".bin")


def _entry(namespace: str, key: Sequence[str] | None, suffix: str = ".json") -> Path | None:
    folder = cache_dir()
    if folder is None or key is None:
        return None
    digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()
    return folder / namespace / f"{digest}{suffix}"


def lookup(namespace: str, key: Sequence[str] | None, *, code: bool = False) -> Any | None:
    """Return the value stored under exactly ``key``, or None (no entry, unreadable, other
    key, no key).

    ``code``: the value is run (a compiled template), so it is read only from a file that
    no one but this user could have written: the file and its folder owned by this user and
    writable by no one else, as ``store`` makes them (POSIX; on Windows the user's own
    AppData folder is private by its permissions).
    """
    path = _entry(namespace, key)
    data = _read(path, code)
    if data is None or key is None:
        return None
    try:
        stored = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(stored, dict) or stored.get("key") != list(key):
        return None
    return stored.get("value")


def lookup_bytes(namespace: str, key: Sequence[str] | None, *, code: bool = False) -> bytes | None:
    """Return the bytes ``store_bytes`` kept under exactly ``key``, or None, as ``lookup``.

    For what every start reads (compiled code): no JSON to parse, no base64 to decode.
    """
    data = _read(_entry(namespace, key, ".bin"), code)
    if data is None or key is None:
        return None
    header, newline, value = data.partition(b"\n")
    try:
        stored_key = json.loads(header.decode("utf-8"))
    except ValueError:
        return None
    return value if newline and stored_key == list(key) else None


def _read(path: Path | None, code: bool) -> bytes | None:
    """Return an entry's file, or None when there is none or it cannot be read (or, for
    ``code``, when it is not ``_private``)."""
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            if code and not _private(fh.fileno(), path):
                return None
            return fh.read()
    except OSError:
        return None


def _private(fd: int, path: Path) -> bool:
    """True when the open entry ``fd`` and its folder are this user's and writable by no one
    else (always, where there are no POSIX owners: Windows). Whoever could write the folders
    above could only put a folder of their own in its place, which is not this user's."""
    if not hasattr(os, "getuid"):
        return True
    uid = os.getuid()
    return all(
        st.st_uid == uid and not st.st_mode & 0o022 for st in (os.fstat(fd), os.stat(path.parent))
    )


def store(namespace: str, key: Sequence[str] | None, value: Any, *, code: bool = False) -> None:
    """Keep ``value`` (JSON) under ``key``; silently nothing when the folder is not writable
    or there is no key. ``code``: readable and writable by this user only (see ``lookup``)."""
    path = _entry(namespace, key)
    if path is not None and key is not None:
        _write(path, json.dumps({"key": list(key), "value": value}).encode("utf-8"), code)


def store_bytes(
    namespace: str, key: Sequence[str] | None, value: bytes, *, code: bool = False
) -> None:
    """Keep ``value`` as it is under ``key`` (for ``lookup_bytes``), as ``store`` does."""
    path = _entry(namespace, key, ".bin")
    if path is not None and key is not None:
        _write(path, json.dumps(list(key)).encode("utf-8") + b"\n" + value, code)


def _write(path: Path, data: bytes, code: bool) -> None:
    """Write an entry atomically; silently nothing when the folder is not writable."""
    import threading

    # Per process and thread: the office app's threads may store the same entry at once.
    partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        if code:  # whatever the umask (002 with a group of one's own, as Debian sets up users)
            os.chmod(path.parent, 0o700)
            os.chmod(partial, 0o600)
        os.replace(partial, path)
        _prune(path.parent)
    except OSError:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass


def _prune(folder: Path) -> None:
    """Remove the oldest entries beyond MAX_ENTRIES (another run may be pruning too)."""
    entries = []
    for child in folder.iterdir():
        if child.suffix not in _SUFFIXES:
            continue
        try:
            entries.append((child.stat().st_mtime_ns, child))
        except OSError:
            pass
    for _, child in sorted(entries)[:-MAX_ENTRIES]:
        try:
            child.unlink()
        except OSError:
            pass


# ---- parsed TOML -------------------------------------------------------------------------

_DATE_TAG = "\0date"  # a TOML date in JSON; no TOML key can start with NUL unquoted ...


class _NotJson(Exception):
    """A TOML value that JSON cannot carry exactly (a time, a datetime, nan, a NUL key)."""


def _to_json(value: Any) -> Any:
    from datetime import date, datetime, time

    if isinstance(value, dict):
        if any(key.startswith("\0") for key in value):  # ... but a quoted one can
            raise _NotJson
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, (datetime, time)):
        raise _NotJson
    if isinstance(value, date):
        return {_DATE_TAG: value.isoformat()}
    if isinstance(value, float) and value - value != 0:  # nan, inf
        raise _NotJson
    return value  # str, int, bool, a finite float: JSON gives them back exactly


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DATE_TAG in value:
            from datetime import date

            return date.fromisoformat(value[_DATE_TAG])
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


def loads_toml(text: str) -> dict[str, Any]:
    """Return ``tomllib.loads(text)``, from the cache when this text was parsed before (a
    fresh object each call: the caller may change it). Errors are tomllib's."""
    key = key_of(
        "toml-1", sys.version, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    )
    stored = lookup("toml", key)
    if isinstance(stored, dict) and isinstance(stored.get("toml"), dict):
        value: dict[str, Any] = (
            _from_json(stored["toml"]) if stored.get("dates") else stored["toml"]
        )
        return value
    import tomllib

    parsed = tomllib.loads(text)
    try:
        as_json = _to_json(parsed)
    except _NotJson:
        return parsed
    store("toml", key, {"toml": as_json, "dates": as_json != parsed})
    return parsed


def load_toml(path: Path) -> dict[str, Any]:
    """Return what ``tomllib.load`` gives for the file at ``path`` (its errors, and OSError
    or UnicodeDecodeError as reading it raises them), from the cache when its text was
    parsed before."""
    return loads_toml(path.read_bytes().decode())
