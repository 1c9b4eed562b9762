"""A batch's output formats are writers in one registry (batch_outputs.py), nothing else.

A new format is one class and one ``register`` call, made here inside the test: the pipeline
must run it, keep its files in the batch and say what it wrote, without any change to the
package. A format the registry does not hold is not written at all.
"""

from __future__ import annotations

import csv
import errno
import os
import signal
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from ledger_helpers import printed_keys_of

from cchc_letters import batch_outputs, processes
from cchc_letters.batch_outputs import BatchContext, Output
from cchc_letters.errors import WriteFailed
from cchc_letters.options import BatchOptions
from cchc_letters.pipeline import run_batch
from cchc_letters.resources import data_dir

LETTER_DATE = date(2026, 11, 27)
SAMPLE = data_dir() / "sample" / "registrations.csv"


class AddressLabels:
    """One line per letter, to print on envelopes. Its name looks like a print file's
    (``khai-sinh-…``), which the batch deletes unless a writer of this run declares it."""

    name = "address_labels"

    def __init__(self, wanted: bool = True) -> None:
        self.wanted = wanted

    def enabled(self, options: BatchOptions) -> bool:
        return self.wanted

    def write(self, staging: Path, batch: BatchContext) -> Output:
        path = staging / "khai-sinh-nhan.pdf"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            for letter in batch.printed:
                writer.writerow([letter.addressee, letter.print_file.name, letter.position])
        return Output([path], report={"labels": len(batch.printed)})


@pytest.fixture
def writers(monkeypatch):
    """The registry as the package has it, restored after the test."""
    monkeypatch.setattr(batch_outputs, "WRITERS", list(batch_outputs.WRITERS))
    return batch_outputs


def _run(tmp_path: Path):
    return run_batch(
        BatchOptions(inputs=[SAMPLE], out_dir=tmp_path / "out", letter_date=LETTER_DATE)
    )


def test_a_new_output_format_is_one_writer_and_one_registration(writers, tmp_path):
    writers.register(AddressLabels())
    result = _run(tmp_path)

    labels = result.batch_dir / "khai-sinh-nhan.pdf"
    assert labels.is_file(), "the batch kept the file its writer declared"
    with labels.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows] == [p.addressee for p in result.printed]
    assert len(rows) == sum(result.letters.values()) == 7
    assert result.outputs["address_labels"].files == [labels]
    assert result.to_json()["outputs"]["address_labels"] == {
        "files": [str(labels)],
        "report": {"labels": 7},
    }
    # the built-in formats are writers of the same registry, reported the same way
    assert result.outputs["delivery_sheet"].files == [result.delivery.docx, result.delivery.csv]


def test_a_writer_the_run_does_not_ask_for_writes_nothing(writers, tmp_path):
    writers.register(AddressLabels(wanted=False))
    result = _run(tmp_path)
    assert not (result.batch_dir / "khai-sinh-nhan.pdf").exists()
    assert "address_labels" not in result.outputs


def test_the_pipeline_writes_only_through_the_registry(writers, tmp_path):
    # The delivery sheet is on by default: with its writer gone, nothing else writes it.
    writers.unregister("delivery_sheet")
    result = _run(tmp_path)
    assert result.delivery is None and "delivery_sheet" not in result.outputs
    assert not list(result.batch_dir.glob("giao-thu.*"))
    assert sum(result.letters.values()) == 7


def test_only_a_batch_writer_can_be_registered(writers):
    class NoWrite:
        name = "half"

        def enabled(self, options):
            return True

    with pytest.raises(TypeError, match="not a BatchWriter"):
        writers.register(NoWrite())
    assert [w.name for w in writers.WRITERS] == ["delivery_sheet", "rejects", "pdf", "changed"]


# ---- a large batch's first outputs are written by a forked helper -------------------------


class WhoWrote:
    """A writer that may be written apart: its file and the one result field it sets
    (``pdf_message``) say which process wrote it. ``die_apart`` kills the helper instead;
    ``fail`` raises a full disk wherever it runs."""

    name = "who_wrote"
    result_fields = ("pdf_message",)

    def __init__(self, *, die_apart: bool = False, fail: bool = False) -> None:
        self.parent = os.getpid()
        self.die_apart, self.fail = die_apart, fail

    def enabled(self, options: BatchOptions) -> bool:
        return True

    def write(self, staging: Path, batch: BatchContext) -> Output:
        if self.die_apart and os.getpid() != self.parent:
            os.kill(os.getpid(), signal.SIGKILL)
        path = staging / "ai-viet.txt"
        if self.fail:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        path.write_text(str(os.getpid()), encoding="utf-8")
        batch.result.pdf_message = f"written by {os.getpid()}"
        return Output([path], report={"letters": len(batch.printed)})


def _apart_from(writers, monkeypatch, letters: int) -> None:
    """Write the leading writers apart from ``letters`` letters on."""
    monkeypatch.setattr(writers, "APART_MIN_LETTERS", letters)


def _sheet(result) -> tuple[bytes, bytes]:
    return result.delivery.docx.read_bytes(), result.delivery.csv.read_bytes()


needs_fork = pytest.mark.skipif(not processes.can_fork(), reason="fork and a second core")


@needs_fork
def test_a_large_batchs_delivery_sheet_is_written_apart_and_is_the_same(writers, monkeypatch,
                                                                        tmp_path):  # fmt: skip
    writers.WRITERS.insert(0, WhoWrote())
    _apart_from(writers, monkeypatch, 10**9)
    here = _run(tmp_path / "here")
    _apart_from(writers, monkeypatch, 1)
    apart = _run(tmp_path / "apart")

    here_pid = str(os.getpid())
    assert (here.batch_dir / "ai-viet.txt").read_text(encoding="utf-8") == here_pid
    helper_pid = (apart.batch_dir / "ai-viet.txt").read_text(encoding="utf-8")
    assert helper_pid != here_pid
    assert apart.pdf_message == f"written by {helper_pid}"  # the field it set came back
    assert list(apart.outputs) == list(here.outputs) == ["who_wrote", "delivery_sheet"]
    assert apart.outputs["who_wrote"].files == [apart.batch_dir / "ai-viet.txt"]
    assert apart.outputs["who_wrote"].report == {"letters": 7}
    assert apart.delivery.docx.parent == apart.batch_dir
    assert _sheet(apart) == _sheet(here)
    manifest = (apart.manifest_file.read_bytes(), here.manifest_file.read_bytes())
    assert manifest[0] == manifest[1] and manifest[0].count(b"\n") == 8  # written apart too
    assert apart.delivery.groups == here.delivery.groups
    assert printed_keys_of(tmp_path / "apart" / "out" / "ledger.sqlite3") == {
        p.key for p in apart.printed
    }


@needs_fork
def test_a_helper_that_dies_leaves_its_outputs_to_this_process(writers, monkeypatch, tmp_path):
    writers.WRITERS.insert(0, WhoWrote(die_apart=True))
    _apart_from(writers, monkeypatch, 1)
    result = _run(tmp_path)
    assert (result.batch_dir / "ai-viet.txt").read_text(encoding="utf-8") == str(os.getpid())
    assert result.pdf_message == f"written by {os.getpid()}"
    assert result.delivery.csv.is_file() and list(result.outputs)[:2] == ["who_wrote",
                                                                          "delivery_sheet"]  # fmt: skip
    assert len(printed_keys_of(tmp_path / "out" / "ledger.sqlite3")) == 7
    assert result.manifest_file.read_bytes().count(b"\n") == 8  # its header and 7 letters


@pytest.mark.parametrize("letters", [1, 10**9], ids=["apart", "here"])
def test_a_full_disk_while_writing_an_output_keeps_nothing_and_records_nothing(
    writers, monkeypatch, tmp_path, letters
):
    writers.WRITERS.insert(0, WhoWrote(fail=True))
    _apart_from(writers, monkeypatch, letters)
    with pytest.raises(WriteFailed, match="ai-viet.txt"):
        _run(tmp_path)
    out = tmp_path / "out"
    assert not list(out.glob("batch-*")) and not list(out.glob(".incomplete-*"))
    # The letters' rows were in the ledger's transaction, not committed: rolled back.
    assert printed_keys_of(out / "ledger.sqlite3") == set()
    with sqlite3.connect(out / "ledger.sqlite3") as db:
        assert db.execute("SELECT state FROM batches").fetchall() == [("abandoned",)]
    writers.unregister("who_wrote")  # the disk has room again: the next run prints them
    assert sum(_run(tmp_path).letters.values()) == 7


def test_a_daily_batch_writes_its_outputs_itself(writers, monkeypatch, tmp_path):
    def no_fork(function):
        raise AssertionError("a daily batch forked a helper")

    monkeypatch.setattr(processes, "Apart", no_fork)
    result = _run(tmp_path)
    assert result.delivery.csv.is_file() and sum(result.letters.values()) == 7


def test_the_rows_are_in_the_ledger_before_the_rename_and_committed_after(tmp_path):
    out = tmp_path / "out"
    seen: dict[str, tuple[bool, int, bool]] = {}

    def step(name: str) -> None:
        if name in ("before-rename", "after-rename", "after-ledger"):
            journal = (out / "ledger.sqlite3-journal").exists()  # a write transaction is open
            with sqlite3.connect(out / "ledger.sqlite3") as db:  # what another reader sees
                committed = db.execute("SELECT count(*) FROM letters").fetchone()[0]
            seen[name] = (journal, committed, any(out.glob("batch-*")))

    run_batch(BatchOptions(inputs=[SAMPLE], out_dir=out, letter_date=LETTER_DATE), step=step)
    assert seen == {
        "before-rename": (True, 0, False),
        "after-rename": (True, 0, True),
        "after-ledger": (False, 7, True),
    }
