"""A commune profile as Notepad and hurried hands leave it (issue 11, item 10): never a
traceback; each message names the file, the setting and what is expected; `--json` still
prints one object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.errors import ProfileError
from cchc_letters.profile import load_profile
from cchc_letters.resources import data_dir

runner = CliRunner()
DEMO = (data_dir() / "profiles" / "ngai-giao.toml").read_text(encoding="utf-8")
SAMPLE = data_dir() / "sample" / "registrations.csv"


def profile(tmp_path: Path, text: str = DEMO, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path = tmp_path / "ho-so-xa.toml"
    path.write_bytes(bom + text.encode(encoding))
    return path


def changed(old: str, new: str) -> str:
    assert old in DEMO, old
    return DEMO.replace(old, new, 1)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("utf-16-le", b"\xff\xfe")],
    ids=["utf-8 with BOM", "utf-16 (Notepad 'Unicode')", "utf-16-le with BOM"],
)
def test_notepad_encodings_with_a_mark_are_read(tmp_path, encoding, bom):
    loaded = load_profile(profile(tmp_path, encoding=encoding, bom=bom))
    assert loaded.commune_name == "Ngãi Giao"
    assert loaded.agency_lines == ("ỦY BAN NHÂN DÂN", "XÃ NGÃI GIAO")


BROKEN = {
    # name: (profile text or bytes, words the message must hold)
    "cp1258": (DEMO.encode("cp1258", errors="replace"), ["UTF-8", "dòng"]),
    "section as a value": (
        "letters = 5\n" + changed("[letters]\n", "[letters_old]\n"),
        ["letters", "[letters]"],
    ),
    "agency lines of numbers": (
        changed('agency_lines = ["ỦY BAN NHÂN DÂN", "XÃ NGÃI GIAO"]', "agency_lines = [1, 2]"),
        ["[header] agency_lines", "danh sách", "[1, 2]"],
    ),
    "colon in the commune code": (
        changed('code = "26575"', 'code = "26:575"'),
        ["[commune] code", "':'", "26575"],
    ),
    "age as text": (
        changed("longevity_age = 60", 'longevity_age = "60"'),
        ["[letters] longevity_age", "số nguyên"],
    ),
    "age as true": (
        changed("longevity_age = 60", "longevity_age = true"),
        ["[letters] longevity_age", "số nguyên"],
    ),
    "signer as a list": (
        changed('name = "Nguyễn Văn Minh"', 'name = ["Nguyễn Văn Minh"]'),
        ["[signer] name", "ngoặc kép"],
    ),
    "session days as one number": (
        changed("days_of_month", "days_of_month = 5\n_old_days"),
        ["days_of_month", "danh sách"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_profile_is_one_message_naming_file_and_setting(tmp_path, case):
    content, words = BROKEN[case]
    path = tmp_path / "ho-so-xa.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    message = raised.value.message
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, (word, message)

    # The same through the command line: one JSON object, exit 1, no traceback.
    result = runner.invoke(
        app,
        [
            "generate",
            str(SAMPLE),
            "--out",
            str(tmp_path / "out"),
            "--date",
            "2026-11-27",
            "--profile",
            str(path),
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    payload = json.loads(result.stdout)
    assert str(path) in json.dumps(payload, ensure_ascii=False)
    assert not list((tmp_path / "out").glob("batch-*"))
