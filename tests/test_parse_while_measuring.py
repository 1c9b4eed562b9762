"""The forked reader parses a workbook while it measures it (ingest/excel.py, "parsing while
measuring"): the parse is used only once the measure has passed, a workbook over the limits
still gives the problem reading here gives, and only a reader with a capped address space
does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from test_faults_workbook import BOMBS, far_value, good_register, hostile, in_child

from cchc_letters.ingest import ahead, excel, open_inputs
from cchc_letters.ingest.text import FileProblem


@pytest.fixture
def beside(monkeypatch):
    """This process parses while it measures (as the capped reader does)."""
    monkeypatch.setattr(excel, "_parse_while_measuring", True)


def test_the_workbook_is_measured_while_calamine_parses_it(tmp_path, monkeypatch, beside):
    started = threading.Event()
    seen: list[bool] = []
    real_parsed, real_measure = excel._parsed, excel.measure_workbook

    def parsed(data: bytes):
        started.set()
        return real_parsed(data)

    def measure(archive):
        # Read one after the other, the parse would start only after this returns.
        seen.append(started.wait(timeout=10))
        return real_measure(archive)

    monkeypatch.setattr(excel, "_parsed", parsed)
    monkeypatch.setattr(excel, "measure_workbook", measure)
    path = good_register(tmp_path)
    sheets = excel.open_xlsx(path)
    assert seen == [True]
    monkeypatch.setattr(excel, "_parse_while_measuring", False)
    monkeypatch.setattr(excel, "measure_workbook", real_measure)
    here = excel.open_xlsx(path)
    assert [(n, list(rows), spans) for n, rows, spans in sheets] == [
        (n, list(rows), spans) for n, rows, spans in here
    ]


def test_a_workbook_over_the_limits_makes_the_reader_give_way_while_it_parses(
    tmp_path, monkeypatch, beside
):
    release = threading.Event()

    def still_parsing(data: bytes):
        release.wait(timeout=30)  # calamine still expanding the workbook (never expanded here)
        raise MemoryError

    monkeypatch.setattr(excel, "_parsed", still_parsing)
    over = hostile(tmp_path / "xa.xlsx", sheet_rows=far_value("XFD20000", 20000))
    try:
        with pytest.raises(excel.ReaderGivesWay):
            excel.open_xlsx(over)
    finally:
        release.set()


def test_a_workbook_over_the_limits_whose_parse_has_ended_is_the_measure_problem(
    tmp_path, monkeypatch, beside
):
    real_measure = excel.measure_workbook
    parse_ended: list[bool] = []

    def measure_after_the_parse(archive):
        threads = [t for t in threading.enumerate() if t.name == "calamine-parse"]
        for thread in threads:
            thread.join()
        parse_ended.append(bool(threads))
        return real_measure(archive)

    monkeypatch.setattr(excel, "measure_workbook", measure_after_the_parse)
    # One column, more rows than the limit: calamine parses it quickly, the measure refuses.
    over = hostile(tmp_path / "xb.xlsx", sheet_rows=far_value("A250000", 250000))
    with pytest.raises(FileProblem) as raised:
        excel.open_xlsx(over)
    assert raised.value.code == "oversized_file" and parse_ended == [True]


def test_a_workbook_calamine_refuses_goes_to_openpyxl_only_after_the_measure(
    tmp_path, monkeypatch, beside
):
    order: list[str] = []
    real_measure = excel.measure_workbook

    def refuses(data: bytes):
        raise ValueError("calamine: not a workbook it reads")

    def measure(archive):
        result = real_measure(archive)
        order.append("measured")
        return result

    def openpyxl_reads(path: Path):
        order.append("openpyxl")
        return []

    monkeypatch.setattr(excel, "_parsed", refuses)
    monkeypatch.setattr(excel, "measure_workbook", measure)
    monkeypatch.setattr(excel, "_read_xlsx_openpyxl", openpyxl_reads)
    assert excel.open_xlsx(good_register(tmp_path)) == []
    assert order == ["measured", "openpyxl"]


def test_the_reader_caps_its_address_space_and_parses_while_measuring(tmp_path, monkeypatch):
    """What the forked reader does before its first row, seen from the reader."""
    report = tmp_path / "reader.json"
    real_send = ahead._send

    def send(rows, pipe):
        import resource

        report.write_text(
            json.dumps([resource.getrlimit(resource.RLIMIT_AS)[0], excel._parse_while_measuring])
        )
        real_send(rows, pipe)

    monkeypatch.setattr(ahead, "_send", send)
    monkeypatch.setattr(ahead, "worth_reading_ahead", lambda size: True)
    _, rows = open_inputs([good_register(tmp_path)], ahead=True)
    assert len(list(rows)) == 2
    import resource

    limit, overlapping = json.loads(report.read_text())
    assert overlapping is True
    assert limit != resource.RLIM_INFINITY and limit <= _mapped_now() + 2 * ahead.READER_HEADROOM
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY  # here: none
    assert excel._parse_while_measuring is False  # nor here


def _mapped_now() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def test_a_capped_process_cannot_map_more_than_its_headroom():
    script = (
        "import json\n"
        "from cchc_letters.processes import cap_address_space\n"
        "capped = cap_address_space(64 << 20)\n"
        "small = bytearray(16 << 20)\n"
        "try:\n"
        "    bytearray(256 << 20)\n"
        "    refused = False\n"
        "except MemoryError:\n"
        "    refused = True\n"
        "print(json.dumps([capped, refused]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [True, True]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOMBS))
def test_a_bomb_read_ahead_fails_as_read_here_and_other_files_are_read(tmp_path, case):
    bomb = BOMBS[case](tmp_path / f"{case}.xlsx")
    found = in_child(
        """
        from pathlib import Path
        from cchc_letters.ingest import ahead, open_inputs
        ahead.worth_reading_ahead = lambda size: True
        result, rows = open_inputs([Path(p) for p in sys.argv[1:]], ahead=True)
        rows = list(rows)
        print(json.dumps({"issues": [[i.code, i.file] for i in result.issues],
                          "rows": len(rows)}))
        """,
        str(bomb),
        str(good_register(tmp_path)),
        quiet=True,  # not even calamine's failed allocation in the reader
    )
    assert found == {"issues": [["oversized_file", str(bomb)]], "rows": 2}


def test_the_limits_tests_use_the_workbooks_they_name(tmp_path):
    # (the far cells above are over the limits: the measure alone refuses them)
    for cell, row in (("XFD20000", 20000), ("A250000", 250000)):
        path = hostile(tmp_path / f"{cell}.xlsx", sheet_rows=far_value(cell, row))
        with zipfile.ZipFile(path) as archive, pytest.raises(FileProblem):
            excel.measure_workbook(archive)
