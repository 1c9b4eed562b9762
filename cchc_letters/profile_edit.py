"""Changing a commune profile file safely: check the new text as `load_profile` does, then
replace the file atomically, keeping the previous version as PROFILE.bak."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from cchc_letters.errors import ProfileError
from cchc_letters.profile import Profile, load_profile

MAX_PROFILE_BYTES = 200_000  # a profile is a page of settings, not a data file


def check_profile_text(path: Path, text: str) -> Profile:
    """Return the profile ``text`` would be if saved as ``path``; raise ProfileError (naming
    ``path``, the section and the key) when it would not load."""
    path = Path(path)
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{path}: hồ sơ xã quá lớn (profile too large)")
    handle, name = tempfile.mkstemp(prefix=".check-", suffix=".toml", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        try:
            profile = load_profile(temporary)
        except ProfileError as exc:
            # the message names the temporary copy: say the real file instead
            raise ProfileError(
                exc.message.replace(str(temporary), str(path)),
                hint=exc.hint,
            ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return profile


def save_profile_text(path: Path, text: str) -> Profile:
    """Check ``text`` (see ``check_profile_text``), then write it to ``path`` atomically; the
    previous file is kept as ``path`` + ``.bak``. Return the profile as now loaded."""
    path = Path(path)
    text = text.replace("\r\n", "\n")
    check_profile_text(path, text)
    handle, name = tempfile.mkstemp(prefix=".save-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            backup.write_bytes(path.read_bytes())
        os.replace(name, path)
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise ProfileError(f"{path}: không ghi được hồ sơ xã ({exc})") from None
    return load_profile(path)


_LETTERS_HEADER = re.compile(r"^\[letters\]\s*(#.*)?$", re.MULTILINE)
_TEMPLATES_DIR_LINE = re.compile(r"^templates_dir\s*=.*$", re.MULTILINE)
_NEXT_TABLE = re.compile(r"^\[", re.MULTILINE)


def with_templates_dir(text: str, folder: str) -> str:
    """Return profile ``text`` with ``[letters] templates_dir = "folder"`` set (added or replaced),
    everything else — comments included — left as written."""
    value = 'templates_dir = "' + folder.replace("\\", "/").replace('"', '\\"') + '"'
    header = _LETTERS_HEADER.search(text)
    if header is None:
        return text.rstrip("\n") + f"\n\n[letters]\n{value}\n"
    start = header.end()
    following = _NEXT_TABLE.search(text, start + 1)
    end = following.start() if following else len(text)
    section = text[start:end]
    if _TEMPLATES_DIR_LINE.search(section):
        section = _TEMPLATES_DIR_LINE.sub(lambda _: value, section, count=1)
    else:
        section = f"\n{value}" + section
    return text[:start] + section + text[end:]
