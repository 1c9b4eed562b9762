"""A large input is read by a forked reader while the rows read so far are validated
(ingest/ahead.py): what comes out is exactly what reading here gives, whatever happens to
the reader, and a small input is never forked for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from itertools import islice
from pathlib import Path

import pytest
from registers import write_register

from cchc_letters import pipeline
from cchc_letters.ingest import ahead, open_inputs
from cchc_letters.intake import check_inputs

LETTER_DATE = date(2026, 11, 27)
ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Số", "Quyển số", "Ngày đăng ký", "Họ và tên", "Ngày sinh", "Giới tính",
          "Họ và tên mẹ", "Nơi cư trú của mẹ"]  # fmt: skip


def births(n: int) -> list[list[str]]:
    """``n`` birth rows, with an exact repeat, an impossible date and a missing name."""
    rows = [
        [f"{i:04d}", "01/2026", "20/11/2026", f"Trẻ Số {i}", "01/11/2026",
         "Nam" if i % 2 else "Nữ", f"Mẹ Số {i}", f"Ấp {i % 7}, xã Ngãi Giao"]
        for i in range(1, n + 1)
    ]  # fmt: skip
    rows[10] = list(rows[9])  # the same row twice
    rows[20][4] = "31/02/2026"
    rows[30][3] = ""
    return rows


def register(path: Path, rows: list[list[str]]) -> Path:
    return write_register(path, HEADER, rows)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("ahead")
    mixed = folder / "mixed"
    mixed.mkdir()
    register(mixed / "a-khai-sinh.csv", births(700))
    (mixed / "b-hong.xlsx").write_bytes(b"PK\x03\x04 not a workbook")  # an unreadable file
    with (mixed / "c-nul.csv").open("w", encoding="utf-8") as fh:
        fh.write("\n".join(",".join(r) for r in [HEADER, *births(40)]) + "\n")
        fh.write("0999,01/2026,20/11/2026,Trẻ\x00 Lỗi,01/11/2026,Nam,Mẹ,Ấp 1\n")
    return {
        "xlsx": [register(folder / "ks.xlsx", births(1200))],
        "folder": [mixed],
        "sample": [ROOT / "data" / "sample"],
    }


def checked(paths: list[Path], monkeypatch, *, read_ahead: bool):
    """Return everything check_inputs gives, read ahead by a forked reader or here."""
    monkeypatch.setattr(ahead, "worth_reading_ahead", lambda size: read_ahead)
    result = check_inputs(paths, letter_date=LETTER_DATE)
    monkeypatch.undo()
    read = result.read
    return (result.registrations, result.issues, result.rows_read, result.duplicates,
            result.rejected, read.files, read.issues)  # fmt: skip


@pytest.mark.parametrize("name", ["xlsx", "folder", "sample"])
def test_read_ahead_gives_what_reading_here_gives(inputs, monkeypatch, name):
    here = checked(inputs[name], monkeypatch, read_ahead=False)
    assert checked(inputs[name], monkeypatch, read_ahead=True) == here
    registrations, issues = here[:2]
    assert registrations and (issues or name == "sample")  # a real comparison


def dies_after(rows: int, how: str):
    """A reader's ``_send`` that sends ``rows`` rows (two parcels and a part), then dies."""
    real_send = ahead._send

    def send(all_rows, pipe):
        real_send(islice(all_rows, rows), pipe)
        if how == "cut":  # half a message, then the end of the pipe
            pipe.write(b"\x80\x05\x95\xff\x00\x00")
            pipe.flush()
            os._exit(0)
        pipe.flush()
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("a fault of the reader")

    return send


@pytest.mark.parametrize("how", ["killed", "fault", "cut"])
def test_a_reader_that_dies_loses_and_doubles_no_row(inputs, monkeypatch, how):
    paths = inputs["xlsx"]
    here = checked(paths, monkeypatch, read_ahead=False)
    monkeypatch.setattr(ahead, "_send", dies_after(600, how))
    assert checked(paths, monkeypatch, read_ahead=True) == here


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids of the readers forked (os.fork recorded), reading ahead whatever the size."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(ahead, "worth_reading_ahead", lambda size: True)
    return pids


def test_the_reader_is_gone_when_the_rows_are_left_untaken(inputs, forked):
    _, rows = open_inputs(inputs["xlsx"], ahead=True)
    assert next(rows).cells
    rows.close()  # e.g. the run was interrupted while validating
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):  # reaped: no reader left running, no zombie
        os.waitpid(forked[0], os.WNOHANG)


def test_a_daily_batch_is_read_here(monkeypatch):
    def no_fork() -> int:
        raise AssertionError("a daily batch must not fork a reader")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr("threading.active_count", lambda: 1)
    result = check_inputs([ROOT / "data" / "sample"], letter_date=LETTER_DATE)
    assert result.registrations
    assert not ahead.worth_reading_ahead(ahead.READ_AHEAD_MIN_BYTES - 1)


def test_while_reading_runs_here_once_the_reader_has_started(inputs, monkeypatch, forked):
    calls: list[tuple[int, int]] = []
    _, rows = open_inputs(
        inputs["xlsx"], ahead=True, while_reading=lambda: calls.append((os.getpid(), len(forked)))
    )
    assert calls == []  # not before the reading starts
    first = next(rows)
    assert calls == [(os.getpid(), 1)]  # here, after the reader was forked, once
    assert [first, *rows][0].cells and calls == [(os.getpid(), 1)]
    # Reading here calls nothing.
    monkeypatch.setattr(ahead, "worth_reading_ahead", lambda size: False)
    _, rows_here = open_inputs(inputs["xlsx"], ahead=True, while_reading=lambda: calls.append(0))
    assert list(rows_here) and calls == [(os.getpid(), 1)] and len(forked) == 1


def test_a_failure_while_reading_stops_the_reader(inputs, forked):
    def fails() -> None:
        raise KeyboardInterrupt

    _, rows = open_inputs(inputs["xlsx"], ahead=True, while_reading=fails)
    with pytest.raises(KeyboardInterrupt):
        next(rows)
    with pytest.raises(ChildProcessError):  # reaped: no reader left running, no zombie
        os.waitpid(forked[0], os.WNOHANG)


# (the outputs written here, not by a helper forked for them: it would import the
# delivery sheet's modules, not this process)
_MODULES_OF_A_BATCH = """
import json, sys
from cchc_letters import batch_outputs
from cchc_letters.cli import app
batch_outputs.APART_MIN_LETTERS = 10**9
try:
    app(sys.argv[1:], prog_name="cchc-letters")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.slow  # a child process
def test_what_is_imported_while_reading_is_what_a_batch_imports_anyway(inputs, tmp_path):
    env = {**os.environ, "CCHC_CACHE_DIR": str(tmp_path / "cache")}
    for out in ("first", "out"):  # the second with the start-up cache the first filled
        args = ["generate", *map(str, inputs["xlsx"]), "--out", str(tmp_path / out)]
        done = subprocess.run(
            [sys.executable, "-c", _MODULES_OF_A_BATCH, *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    imported = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert any((tmp_path / "out").glob("batch-*/*.docx"))
    assert set(pipeline.BATCH_IMPORTS) <= imported, set(pipeline.BATCH_IMPORTS) - imported


def test_a_module_that_cannot_be_imported_while_reading_fails_nothing(monkeypatch):
    # (isal has wheels for the platforms that read ahead; where one is missing, the writers
    # deflate with zlib: importing ahead must not stop the batch instead)
    monkeypatch.setattr(pipeline, "BATCH_IMPORTS", ("cchc_letters_no_such_module", "colorsys"))
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    pipeline._import_the_rest()
    assert "colorsys" in sys.modules  # the others are imported all the same
