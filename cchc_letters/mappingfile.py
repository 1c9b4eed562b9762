"""A commune's own column headings (the --mapping file), added to from the office app."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

from cchc_letters.errors import InputError


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes; non-ASCII kept as is).
    return json.dumps(text, ensure_ascii=False)


def add_headings(path: Path, pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Add ``(heading, field)`` pairs to the mapping file ``path`` (made when missing), in
    the format of data/columns.toml's ``[fields.NAME] headings``; return every field's
    headings now in it. Raises InputError (file unchanged) for a field that does not exist
    or a file that is not a mapping file."""
    from cchc_letters.ingest.columns import load_vocabulary

    path = Path(path)
    pairs = list(pairs)
    known = load_vocabulary(None).kinds
    unknown = sorted({name for _, name in pairs if name not in known})
    if unknown:
        raise InputError(
            f"Tệp ánh xạ cột {path}: không có trường tên {', '.join(unknown)}.",
            hint=f"Các trường hợp lệ: {', '.join(sorted(known))}",
        )
    fields: dict[str, list[str]] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"Tệp ánh xạ cột {path} không đọc được: {exc}") from None
        for name, spec in data.get("fields", {}).items():
            headings = spec.get("headings", []) if isinstance(spec, dict) else []
            fields[name] = [headings] if isinstance(headings, str) else list(headings)
        for heading, name in data.get("headings", {}).items():
            fields.setdefault(str(name), []).append(str(heading))
    for heading, name in pairs:
        heading = " ".join(heading.split())
        if heading and heading not in fields.setdefault(name, []):
            fields[name].append(heading)
    lines = [
        "# Tiêu đề cột riêng của xã (column headings of this commune's exports), chosen in the",
        "# office app; used with every export read into this folder (or: --mapping FILE).",
        "",
    ]
    for name in sorted(fields):
        if fields[name]:
            headings = ", ".join(map(_toml_string, fields[name]))
            lines += [f"[fields.{name}]", f"headings = [{headings}]", ""]
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".mapping-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        load_vocabulary(Path(name))  # the same check as --mapping: unknown fields refused
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)
    return fields
