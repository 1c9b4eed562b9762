"""Dataclasses' compiled methods and patterns' programs from the start-up cache
(startup_code.py, issue 17)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cchc_letters import startup_code

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter importing the command line: how many generated methods and patterns it
# compiled, and whether the classes and patterns it made work.
_START = """
import json, sys
from cchc_letters.cli import app
from cchc_letters import startup_code
from cchc_letters.models import SourceRef
ref = SourceRef("a.csv", None, 3)
from cchc_letters.vietnamese import title_case_name
made = [repr(ref), ref == SourceRef("a.csv", None, 3), title_case_name("  nguyễn   văn  an ")]
print(json.dumps([*startup_code.compiled_here(), made]))
"""


def _start(cache_dir: Path) -> tuple[int, int, list]:
    done = subprocess.run(
        [sys.executable, "-c", _START],
        cwd=ROOT,
        env={**os.environ, "CCHC_CACHE_DIR": str(cache_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    methods, patterns, made = json.loads(done.stdout.strip().splitlines()[-1])
    return methods, patterns, made


@pytest.mark.slow  # child processes
def test_the_second_start_compiles_no_generated_method_and_no_pattern(tmp_path):
    first = _start(tmp_path / "cache")
    assert first[0] > 50  # the methods of the classes the command line imports, compiled
    assert first[1] > 10  # and the patterns of the modules it imports
    assert list((tmp_path / "cache" / startup_code.NAMESPACE).glob("*.bin"))
    second = _start(tmp_path / "cache")
    assert second == (0, 0, first[2])  # none compiled; the same classes and patterns
    assert first[2] == ["SourceRef(file='a.csv', sheet=None, row=3)", True, "Nguyễn Văn An"]


@pytest.mark.slow  # child processes
def test_an_unreadable_entry_is_compiled_again(tmp_path):
    _start(tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / startup_code.NAMESPACE).glob("*.bin")
    key, _, value = entry.read_bytes().partition(b"\n")
    for damaged in (key + b"\nnot marshal", key + b"\n" + value[:-100], b"{" + value):
        entry.write_bytes(damaged)
        methods, patterns, _ = _start(tmp_path / "cache")
        assert methods > 50 and patterns > 10
        assert _start(tmp_path / "cache")[:2] == (0, 0)  # kept again, whole


@pytest.mark.slow  # child processes
@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_kept_code_others_could_write_is_not_run(tmp_path):
    _start(tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / startup_code.NAMESPACE).glob("*.bin")
    assert (entry.stat().st_mode & 0o777, entry.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    for loose, mode in ((entry, 0o620), (entry.parent, 0o702)):
        loose.chmod(mode)  # a group or anyone may write it: compiled again instead
        methods, patterns, _ = _start(tmp_path / "cache")
        assert methods > 50 and patterns > 10
        loose.chmod(0o600 if loose == entry else 0o700)


def test_kept_bytes_are_found_by_their_whole_key_only(tmp_path, monkeypatch):
    from cchc_letters import cache

    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path))
    value = bytes(range(256)) * 3  # newlines and NULs in it, kept as they are
    cache.store_bytes("kept", ["a", "b\nc"], value)
    assert cache.lookup_bytes("kept", ["a", "b\nc"]) == value
    assert cache.lookup_bytes("kept", ["a", "b"]) is None
    assert cache.lookup("kept", ["a", "b\nc"]) is None  # a JSON entry is another file


def test_a_class_made_from_the_kept_code_is_the_class_python_makes(monkeypatch):
    monkeypatch.setattr(startup_code, "_codes", {})
    monkeypatch.setattr(startup_code, "_compiled", [])
    monkeypatch.setattr(dataclasses, "exec", startup_code._exec, raising=False)

    def make() -> type:
        return dataclasses.make_dataclass(
            "Visit",
            [("day", int), ("place", str, dataclasses.field(default="trạm")), ("doses", list)],
            frozen=True,
            kw_only=True,
        )

    compiled = make()  # compiled here, as Python would
    count = startup_code.compiled_here()[0]
    assert count > 0
    kept = make()  # from the code kept for the same texts
    assert startup_code.compiled_here()[0] == count
    monkeypatch.delattr(dataclasses, "exec")
    plain = make()  # Python's own
    for made in (compiled, kept):
        # the annotations are the types themselves, not strings (this module's and
        # startup_code's `from __future__ import annotations` is not inherited)
        assert inspect.signature(made.__init__) == inspect.signature(plain.__init__)
        assert inspect.signature(made.__init__).parameters["day"].annotation is int
        visit = made(day=1, doses=[])
        assert repr(visit) == repr(plain(day=1, doses=[])).replace("Visit", made.__name__)
        assert visit == made(day=1, doses=[]) and visit != made(day=2, doses=[])
        with pytest.raises(dataclasses.FrozenInstanceError):
            visit.day = 3  # type: ignore[misc]
        with pytest.raises(TypeError):
            made(1, doses=[])  # keyword-only


def test_the_entries_are_kept_for_this_installation_however_it_was_installed():
    # (an editable install is found by an import hook, not on sys.path: cache.installed
    # cannot tell it, and without a key nothing would be kept)
    key = startup_code._key()
    package = Path(startup_code.__file__).with_name("__init__.py")
    assert key is not None and key[-1].startswith(f"cchc_letters:{package}:")


# Patterns of the shapes the command line's modules use: groups named and not, references
# back, look-behind, classes of Vietnamese letters, verbose and case-blind, bytes.
PATTERNS = [
    (r"(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})[/.-](?P<year>\d{4})", 0),
    (r"^(?P<name>[a-zA-Z0-9_]+)=(?P<quote>[\"']?)(?P<value>.*)(?P=quote)$", 0),
    (r"(?<![\wÀ-ỹ])(ấp|khu phố|tổ)\s+(\d+)", re.IGNORECASE),
    (
        r"""\{[{%#]-?   # a Jinja tag's start
         \s*(\w+)""",
        re.VERBOSE,
    ),
    (r"[^a-z0-9]+", 0),
    (rb"(__libc_init)|(GLIBC_([0-9.]+))", re.ASCII),
    (r"(?s)<w:t(?: [^>]*)?>(.*?)</w:t>", 0),
]


@pytest.fixture
def catching(monkeypatch):
    """startup_code's pattern compiler in ``re`` for this test only, with nothing kept."""
    compiler = re._compiler  # type: ignore[attr-defined]
    original, sre = compiler.compile, compiler._sre
    if isinstance(sre, startup_code._Catching):  # (installed already: a test imported the CLI)
        original, sre = startup_code._Catching._original_compile, sre._sre
    monkeypatch.setattr(startup_code, "_programs", {})
    monkeypatch.setattr(startup_code, "_new_programs", [])
    monkeypatch.setattr(startup_code._Catching, "_original_compile", original)
    monkeypatch.setattr(compiler, "_sre", startup_code._Catching(sre))
    monkeypatch.setattr(compiler, "compile", startup_code._compile_pattern)
    return compiler


def test_a_pattern_made_from_its_kept_program_is_the_pattern_python_makes(catching):
    for text, flags in PATTERNS:
        compiled = startup_code._compile_pattern(text, flags)  # compiled, its program kept
        kept = startup_code._compile_pattern(text, flags)  # made from the kept program
        plain = startup_code._Catching._original_compile(text, flags)  # Python's own
        assert compiled == kept == plain  # the same pattern, flags and program
        assert (kept.groups, kept.groupindex, kept.flags) == (
            plain.groups, plain.groupindex, plain.flags
        )  # fmt: skip
    assert startup_code.compiled_here()[1] == len(PATTERNS)  # each compiled once
    stamp = startup_code._compile_pattern(*PATTERNS[0])
    assert stamp.match("05/02/2026").groupdict() == {"day": "05", "month": "02", "year": "2026"}
    hamlet = startup_code._compile_pattern(*PATTERNS[2])
    assert hamlet.search("số 12, Ấp 3, xã Suối Nghệ").groups() == ("Ấp", "3")


def test_re_makes_patterns_from_the_kept_programs_once_installed(catching):
    text = r"(?P<book>\d+)/(?P<year>\d{4})-ĐK"
    re.purge()
    first = re.compile(text)
    re.purge()  # so that re asks its compiler again
    second = re.compile(text)
    assert startup_code.compiled_here()[1] == 1 and first == second
    assert second.fullmatch("12/2026-ĐK").group("year") == "2026"
    # a parsed pattern (re.Scanner's) and a debugging one are compiled by Python as ever
    scanner = re.Scanner([(r"\d+", lambda _, token: int(token)), (r"\s+", None)])
    assert scanner.scan("12 34") == ([12, 34], "")
    assert startup_code.compiled_here()[1] == 1


def test_a_program_the_regex_engine_rejects_is_compiled_again(catching):
    text, flags = PATTERNS[0]
    key = (True, text, flags)
    startup_code._programs[key] = (text, flags, [999, 1, 2], 3, {}, (None,))  # not a program
    made = startup_code._compile_pattern(text, flags)
    assert made == startup_code._Catching._original_compile(text, flags)
    assert startup_code._programs[key][2] != [999, 1, 2]  # the real program is kept instead
    assert startup_code.compiled_here()[1] == 1
