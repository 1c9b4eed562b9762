"""Small inputs and checks shared by the ledger, exactly-once and watch tests."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTER_DATE = "2026-11-27"
HEADER = (
    "kind,registration_number,book_number,registration_date,child_name,child_sex,"
    "child_birth_date,child_birth_place,mother_name,mother_birth,mother_residence,"
    "informant_name,informant_relation"
)
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Ngọc", "Phúc"]


def child_name(number: int) -> str:
    return f"Nguyễn Văn {GIVEN[number % len(GIVEN)]} {number:02d}"


def write_births(path: Path, numbers, *, names: dict[int, str] | None = None) -> Path:
    """Write a birth export with one row per registration number (a cumulative export)."""
    names = names or {}
    lines = [HEADER]
    for n in numbers:
        lines.append(
            f"khai sinh,{n:02d},01/2026,{min(n, 26):02d}/11/2026,{names.get(n, child_name(n))},"
            f"Nam,01/11/2026,Trạm Y tế xã Ngãi Giao,Lê Thị Hồng,1996,"
            f'"Ấp Suối Nghệ, xã Ngãi Giao",Lê Thị Hồng,mẹ'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def key(n: int) -> str:
    """Return the canonical key of birth ``n`` (written 0n in quyển 01/2026)."""
    return f"26575:birth:2026:1/2026:{n}"


def completed_batches(out: Path) -> list[Path]:
    """Return the finished batch folders (never a staging ``.incomplete-…`` one)."""
    return sorted(p for p in out.glob("batch-*") if p.is_dir())


def manifest_keys(batch: Path) -> list[str]:
    with (batch / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [row["registration_key"] for row in csv.DictReader(fh)]


def printed_counts(out: Path) -> Counter:
    """Return how many letters each key has across every completed batch."""
    return Counter(k for b in completed_batches(out) for k in manifest_keys(b))


def docx_text(path: Path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `python cli.py ARGS` as a real process (stdout/stderr captured)."""
    return python_process(ROOT / "cli.py", *args, env=env)


def python_process(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `python SCRIPT ARGS` in the checkout, UTF-8 text on captured stdout/stderr."""
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def paused_process(tmp_path: Path, step: str, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    """Start `cchc-letters ARGS` as a real process that pauses at batch step ``step``
    (tests/paused_cli.py passes run_batch a step callback); return it with the file it writes
    on pausing and the file whose creation releases it."""
    signal_file, release = tmp_path / f"paused-{step}", tmp_path / f"release-{step}"
    wrapper = Path(__file__).with_name("paused_cli.py")
    command = [sys.executable, str(wrapper), step, str(signal_file), str(release), "--", *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    return process, signal_file, release


def printed_keys_of(ledger: Path) -> set[str]:
    """The registration keys ``ledger`` holds as printed."""
    from cchc_letters.ledger import Ledger

    with Ledger.open(ledger, create=False) as book:
        return {e.key for e in book.entries() if e.state == "printed"}
