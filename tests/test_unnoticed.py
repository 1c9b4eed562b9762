"""Five features a mutation run found no test noticing: each test here fails without its feature.

The CSV formula guard, drawing/bookmark id renumbering, the first-letter pre-render, the
parallel path really using a second process, and the fsync before the ledger commit.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document, write_profile

from cchc_letters import writing
from cchc_letters.errors import TemplateProblem
from cchc_letters.ledger import Ledger
from cchc_letters.pipeline import BatchOptions, run_batch

LETTER_DATE = date(2026, 11, 27)
HEADER = "SỔ ĐĂNG KÝ KHAI TỬ\nSố;Ngày đăng ký;Họ và tên;Giới tính;Năm sinh;Ngày chết\n"


def deaths(path: Path, numbers, extra: str = "") -> Path:
    rows = "".join(f"{n:02d};23/11/2026;Nguyễn Văn Tám {n};Nam;1941;20/11/2026\n" for n in numbers)
    path.write_text(HEADER + rows + extra, encoding="utf-8-sig")
    return path


def test_a_formula_in_a_rejected_cell_is_not_run_by_a_spreadsheet(tmp_path):
    export = deaths(tmp_path / "kt.csv", [1], "02;23/11/2026;Trần Văn Hai;Nam;1950;=1+2\n")
    result = run_batch(
        BatchOptions(inputs=[export], out_dir=tmp_path / "out", letter_date=LETTER_DATE)
    )
    with result.rejects_file.open(encoding="utf-8-sig", newline="") as fh:
        values = [cell for row in csv.reader(fh) for cell in row]
    assert "'=1+2" in values  # the cell's value, shown as text, never evaluated
    assert not any(v.startswith(("=", "+", "@")) for v in values)


def test_bookmark_and_drawing_ids_stay_unique_in_a_print_file(tmp_path):
    folder = tmp_path / "mau-thu"
    folder.mkdir()
    rewrite_document(
        default_template("death"),
        folder / "death.docx",
        replace_text(
            "<w:body>",
            '<w:body><w:p><w:bookmarkStart w:id="0" w:name="logo"/><w:r><w:t>x</w:t></w:r>'
            '<w:bookmarkEnd w:id="0"/></w:p>',
        ),
    )
    export = deaths(tmp_path / "kt.csv", [1, 2, 3])
    options = BatchOptions(
        inputs=[export],
        out_dir=tmp_path / "out",
        letter_date=LETTER_DATE,
        profile_path=write_profile(tmp_path, templates="mau-thu"),
    )
    [print_file] = [f for f in run_batch(options).files if f.name.startswith("khai-tu")]
    xml = zipfile.ZipFile(print_file).read("word/document.xml").decode("utf-8")
    starts = re.findall(r'<w:bookmarkStart\b[^>]*\bw:id="(\d+)"', xml)
    assert len(starts) == 3 and len(set(starts)) == 3


def test_a_template_failing_on_real_data_stops_before_anything_is_written(tmp_path):
    folder = tmp_path / "mau-thu"
    folder.mkdir()
    # Renders for the sample (số 05), fails for the real row số 77.
    rewrite_document(
        default_template("death"),
        folder / "death.docx",
        replace_text(
            "{{ death.date|lunar_date }}",
            "{{ death.date|lunar_date }}{% if registration.number == '77' %}{{ 1 // 0 }}{% endif %}",
        ),
    )
    out = tmp_path / "out"
    options = BatchOptions(
        inputs=[deaths(tmp_path / "kt.csv", [77])],
        out_dir=out,
        letter_date=LETTER_DATE,
        profile_path=write_profile(tmp_path, templates="mau-thu"),
    )
    with pytest.raises(TemplateProblem):
        run_batch(options)
    # Not even the lock and the ledger were taken: the letter was rendered first.
    assert not (out / "ledger.sqlite3").exists()
    assert not out.exists() or not list(out.glob("*batch-*"))


def test_a_large_batch_is_really_written_by_a_second_process(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    pids.mkdir()
    real = writing.write_jobs

    def recording(letters, jobs, letter_done=None):
        (pids / str(os.getpid())).touch()
        return real(letters, jobs, letter_done)

    monkeypatch.setattr(writing, "write_jobs", recording)
    monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", 0)
    monkeypatch.setattr(writing.os, "cpu_count", lambda: 2)
    export = deaths(tmp_path / "kt.csv", range(1, 7))
    outputs = {}
    for mode in ("parallel", "serial"):
        if mode == "serial":
            monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", 10**9)
            monkeypatch.setattr(writing, "write_jobs", real)
        options = BatchOptions(
            inputs=[export], out_dir=tmp_path / mode, letter_date=LETTER_DATE, per_file=2
        )
        outputs[mode] = run_batch(options).batch_dir
    workers = {int(p.name) for p in pids.iterdir()}
    assert workers and os.getpid() not in workers  # written in other processes
    for path in outputs["serial"].glob("khai-tu-*.docx"):
        assert path.read_bytes() == (outputs["parallel"] / path.name).read_bytes()


def test_the_batch_is_on_disk_before_the_ledger_says_it_is_printed(tmp_path, monkeypatch):
    from cchc_letters import output

    out = tmp_path / "out"
    seen = []
    real = output.sync_batch

    def sync(final):
        with Ledger.open(out / "ledger.sqlite3", create=False) as book:
            printed = [e for e in book.entries() if e.state == "printed"]
        seen.append((final, final.is_dir(), len(printed)))
        real(final)

    monkeypatch.setattr(output, "sync_batch", sync)
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    result = run_batch(
        BatchOptions(
            inputs=[deaths(tmp_path / "kt.csv", [1, 2])], out_dir=out, letter_date=LETTER_DATE
        )
    )
    assert seen == [(result.batch_dir, True, 0)]  # synced, then recorded
    assert len(synced) >= len(list(result.batch_dir.iterdir()))  # every file and the folder
