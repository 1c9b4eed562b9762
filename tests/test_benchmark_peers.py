"""The benchmark's peers make the same letters as the tool, so its ratios compare like with like.

benchmarks/bench_batch.py times docx-mailmerge2 against `generate`; a peer that dropped the
schedule table or half the text would look faster than it is. Timings are never asserted.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_batch", ROOT / "benchmarks" / "bench_batch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _letters(path: Path) -> list[str]:
    """Return the text of each letter (section) of a DOCX: paragraphs and table cells in order."""
    document = docx.Document(str(path))
    letters, current = [], []
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    for block in document.element.body:
        if block.tag == f"{ns}tbl":
            for row in block.iter(f"{ns}tr"):
                current.append(
                    " | ".join("".join(c.itertext()).strip() for c in row.iter(f"{ns}tc"))
                )
        elif block.tag == f"{ns}p":
            text = "".join(t.text or "" for t in block.iter(f"{ns}t")).strip()
            if text:
                current.append(text)
            if block.find(f"{ns}pPr/{ns}sectPr") is not None:
                letters.append(current)
                current = []
    if current:
        letters.append(current)
    return ["\n".join(letter) for letter in letters if letter]


def test_docx_mailmerge2_peer_writes_the_tools_letters(bench, tmp_path):
    count = 12
    xlsx = bench.write_xlsx(tmp_path / "births.xlsx", count)
    peer = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_batch.py"),
            "--mailmerge-child",
            str(xlsx),
            str(tmp_path / "mm"),
            str(count),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,  # fmt: skip
    )
    assert json.loads(peer.stdout)["letters"] == count
    ours = subprocess.run(
        [
            sys.executable,
            "-m",
            "cchc_letters",
            "generate",
            str(xlsx),
            "--out",
            str(tmp_path / "out"),
            "--date",
            bench.LETTER_DATE.isoformat(),
            "--kind",
            "birth",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,  # fmt: skip
    )
    [print_file] = json.loads(ours.stdout)["files"]
    theirs = _letters(tmp_path / "mm" / "khai-sinh-mailmerge.docx")
    mine = _letters(Path(print_file))
    assert len(theirs) == len(mine) == count
    assert theirs == mine  # every paragraph and schedule row, letter by letter
    assert "«" not in "".join(theirs)  # no merge field left unfilled
