"""A batch's output formats are writers in one registry (batch_outputs.py), nothing else.

A new format is one class and one ``register`` call, made here inside the test: the pipeline
must run it, keep its files in the batch and say what it wrote, without any change to the
package. A format the registry does not hold is not written at all.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from cchc_letters import batch_outputs
from cchc_letters.batch_outputs import BatchContext, Output
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
