"""Dataclasses' compiled methods from the start-up cache (dataclass_code.py, issue 17)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cchc_letters import dataclass_code

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter importing the command line: how many generated methods it compiled,
# and whether the classes it made work.
_START = """
import json, sys
from cchc_letters.cli import app
from cchc_letters import dataclass_code
from cchc_letters.models import SourceRef
ref = SourceRef("a.csv", None, 3)
print(json.dumps([dataclass_code.compiled_here(), repr(ref), ref == SourceRef("a.csv", None, 3)]))
"""


def _start(cache_dir: Path) -> tuple[int, str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", _START],
        cwd=ROOT,
        env={**os.environ, "CCHC_CACHE_DIR": str(cache_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    compiled, text, equal = json.loads(done.stdout.strip().splitlines()[-1])
    return compiled, text, equal


@pytest.mark.slow  # child processes
def test_the_second_start_compiles_no_generated_method(tmp_path):
    first = _start(tmp_path / "cache")
    assert first[0] > 50  # the methods of the classes the command line imports, compiled
    assert list((tmp_path / "cache" / dataclass_code.NAMESPACE).glob("*.json"))
    second = _start(tmp_path / "cache")
    assert second == (0, first[1], True)  # none compiled; the same classes
    assert first[1] == "SourceRef(file='a.csv', sheet=None, row=3)"


@pytest.mark.slow  # child processes
def test_an_unreadable_entry_is_compiled_again(tmp_path):
    _start(tmp_path / "cache")
    (entry,) = (tmp_path / "cache" / dataclass_code.NAMESPACE).glob("*.json")
    stored = json.loads(entry.read_text())
    entry.write_text(json.dumps({**stored, "value": "bm90IG1hcnNoYWw="}))  # "not marshal"
    assert _start(tmp_path / "cache")[0] > 50
    entry.write_text("{")
    assert _start(tmp_path / "cache")[0] > 50


def test_a_class_made_from_the_kept_code_is_the_class_python_makes(monkeypatch):
    monkeypatch.setattr(dataclass_code, "_codes", {})
    monkeypatch.setattr(dataclass_code, "_compiled", [])
    monkeypatch.setattr(dataclasses, "exec", dataclass_code._exec, raising=False)

    def make() -> type:
        return dataclasses.make_dataclass(
            "Visit",
            [("day", int), ("place", str, dataclasses.field(default="trạm")), ("doses", list)],
            frozen=True,
            kw_only=True,
        )

    compiled = make()  # compiled here, as Python would
    assert dataclass_code.compiled_here() > 0
    count = dataclass_code.compiled_here()
    kept = make()  # from the code kept for the same texts
    assert dataclass_code.compiled_here() == count
    monkeypatch.delattr(dataclasses, "exec")
    plain = make()  # Python's own
    for made in (compiled, kept):
        # the annotations are the types themselves, not strings (this module's and
        # dataclass_code's `from __future__ import annotations` is not inherited)
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
    key = dataclass_code._key()
    package = Path(dataclass_code.__file__).with_name("__init__.py")
    assert key is not None and key[-1].startswith(f"cchc_letters:{package}:")
