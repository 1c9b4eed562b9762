"""Hostile files in every format but XLSX (issue 11, item 8; XLSX: test_faults_workbook.py):
ODS with rows or cells repeated a million times, XLSB and XLS with one far cell, an XLS
whose DIMENSIONS record claims four billion rows (calamine allocates it and aborts), CSV
files of 2 GB, of one endless line, of millions of rows or cells. Each is refused with one
``oversized_file`` message naming the file, fast and in little memory (measured in a child
process); the other files are still read; under `watch` the file goes to failed/.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from hostile_files import ods, ods_row, xls, xlsb, xlsb_blank, xlsb_row, xlsb_text

from cchc_letters.ingest import read_inputs
from cchc_letters.ingest.bounds import _measure_biff, measure_calamine
from cchc_letters.ingest.excel import measure_workbook
from cchc_letters.ingest.limits import MAX_SHEET_CELLS, MAX_SHEET_ROWS, MAX_TEXT_FILE
from cchc_letters.ingest.text import FileProblem, read_text_file
from cchc_letters.watch import FAILED

GOOD_CSV = (
    "Số;Quyển số;Ngày đăng ký;Họ và tên;Giới tính;Năm sinh;Ngày chết\n"
    "01;01/2026;23/11/2026;Nguyễn Văn Tám;Nam;1941;20/11/2026\n"
    "02;01/2026;24/11/2026;Trần Thị Mai;Nữ;1950;21/11/2026\n"
)


def measured(path: Path, fmt: str) -> FileProblem:
    """The FileProblem of measuring ``path`` (measuring only, never reading: a regression
    fails here instead of aborting the test run)."""
    with pytest.raises(FileProblem) as raised:
        measure_calamine(path, fmt)
    return raised.value


# ---- each format's own bombs, measured -------------------------------------------------


def test_an_ods_row_repeated_a_million_times_is_refused(tmp_path):
    path = ods(tmp_path / "rows.ods", ods_row("x", repeat=1_000_000))
    problem = measured(path, "ods")
    assert problem.code == "oversized_file"
    assert "'Khai tu'" in problem.message and f"{MAX_SHEET_ROWS:,} hàng" in problem.message


def test_an_ods_cell_repeated_across_a_million_rows_is_refused(tmp_path):
    cell = '<table:table-cell table:number-columns-repeated="16000" office:value-type="string">'
    row = f'<table:table-row table:number-rows-repeated="1000">{cell}<text:p>x</text:p>'
    path = ods(tmp_path / "cells.ods", row + "</table:table-cell></table:table-row>")
    problem = measured(path, "ods")
    assert problem.code == "oversized_file" and f"{MAX_SHEET_CELLS:,} ô" in problem.message


def test_an_ods_value_far_below_empty_repeated_rows_is_refused_naming_its_cell(tmp_path):
    empty = (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    far = '<table:table-row><table:table-cell table:number-columns-repeated="10"/>'
    far += '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
    path = ods(tmp_path / "far.ods", empty + far + "</table:table-row>")
    problem = measured(path, "ods")
    assert "K1048575" in problem.message


def test_an_ods_table_prefix_bound_to_another_namespace_is_still_measured(tmp_path):
    # calamine reads "table:table-row" by its literal name, whatever the prefix means.
    path = ods(tmp_path / "ns.ods", ods_row("x", repeat=1_000_000))
    rebound = tmp_path / "rebound.ods"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rebound, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml":
                data = data.replace(b"urn:oasis:names:tc:opendocument:xmlns:table:1.0", b"urn:x")
            out.writestr(info, data)
    assert measured(rebound, "ods").code == "oversized_file"


@pytest.mark.slow  # a big hostile file: millions of cell tags measured
def test_an_ods_of_millions_of_empty_cell_tags_is_refused(tmp_path):
    row = "<table:table-row>" + "<table:table-cell/>" * 4_000_000 + "</table:table-row>"
    problem = measured(ods(tmp_path / "tags.ods", row), "ods")
    assert problem.code == "oversized_file" and "thẻ ô" in problem.message


def test_cells_holding_data_and_empty_ones_are_told_apart_across_chunks(tmp_path):
    # A 2 MB row of empty cells written open-and-closed (as some tools do), repeated 100
    # times: 3.3 million cells, none of them data, wherever a megabyte ends.
    empty = '<table:table-cell table:style-name="ce1"> </table:table-cell>'
    cells = empty * (2_000_000 // len(empty))
    rows = f'<table:table-row table:number-rows-repeated="100">{cells}'
    measure_calamine(ods(tmp_path / "empty.ods", rows + "</table:table-row>"), "ods")
    # The same with one value at its end: the 3.3 million cells are now the data's range.
    far = "<table:table-cell><text:p>x</text:p></table:table-cell>"
    path = ods(tmp_path / "far.ods", rows + far + "</table:table-row>")
    assert measured(path, "ods").code == "oversized_file"


def test_libreoffices_empty_rows_below_the_table_are_not_data(tmp_path):
    # LibreOffice ends every sheet with one empty row repeated to the last row: not data.
    empty = (
        '<table:table-row table:number-rows-repeated="1048572">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    path = ods(tmp_path / "lo.ods", empty)
    measure_calamine(path, "ods")  # no problem
    result = read_inputs([path])
    assert result.issues == [] and len(result.rows) == 2


def test_an_ods_with_a_dtd_is_refused_not_expanded(tmp_path):
    lol = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = ods(tmp_path / "lol.ods", ods_row("&b;"), prolog=lol)
    assert measured(path, "ods").code == "unreadable_file"


def test_an_xlsb_value_in_the_last_cell_is_refused_naming_it(tmp_path):
    path = xlsb(tmp_path / "far.xlsb", xlsb_row(1_048_575) + xlsb_text(16_383, "x"))
    problem = measured(path, "xlsb")
    assert problem.code == "oversized_file" and "XFD1048576" in problem.message


def moved_sheet(path: Path, old: str, new: str, extra: bytes, marker: bytes) -> Path:
    """Rewrite the workbook at ``path`` with its sheet part ``old`` stored as ``new`` (the
    relationships and content types follow) and ``extra`` put before ``marker`` in it."""
    moved = path.with_name("moved-" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(moved, "w") as out:
        for info in source.infolist():
            data, name = source.read(info), info.filename
            if name == old:
                name, data = new, data.replace(marker, extra + marker, 1)
            elif name.endswith((".rels", "[Content_Types].xml")):
                data = data.replace(
                    old.removeprefix("xl/").encode(), new.removeprefix("xl/").encode()
                )
            out.writestr(name, data)
    return moved


def test_an_xlsx_sheet_stored_outside_worksheets_is_still_measured(tmp_path):
    from test_faults_workbook import far_value, register_bytes

    path = tmp_path / "so.xlsx"
    path.write_bytes(register_bytes())
    moved = moved_sheet(
        path, "xl/worksheets/sheet1.xml", "xl/data/s.xml", far_value("XFD20000", 20000),
        b"</sheetData>",
    )  # fmt: skip
    with zipfile.ZipFile(moved) as archive, pytest.raises(FileProblem) as raised:
        measure_workbook(archive)
    assert raised.value.code == "oversized_file" and "XFD20000" in raised.value.message


def test_an_xlsb_sheet_stored_outside_worksheets_is_still_measured(tmp_path):
    far = xlsb_row(1_048_575) + xlsb_text(16_383, "x")
    moved = moved_sheet(
        xlsb(tmp_path / "so.xlsb"), "xl/worksheets/sheet1.bin", "xl/data/s.bin", far,
        b"\x92\x01\x00",  # BrtEndSheetData
    )  # fmt: skip
    assert measured(moved, "xlsb").code == "oversized_file"


def test_an_xlsb_formatted_blank_far_away_is_not_data(tmp_path):
    path = xlsb(tmp_path / "blank.xlsb", xlsb_row(1_048_575) + xlsb_blank(16_383))
    measure_calamine(path, "xlsb")
    result = read_inputs([path])
    assert result.issues == [] and len(result.rows) == 2


def test_an_xls_value_in_the_last_cell_is_refused_naming_it(tmp_path):
    path = xls(tmp_path / "far.xls", far=(65_535, 255))
    problem = measured(path, "xls")
    assert problem.code == "oversized_file" and "IV65536" in problem.message


def test_an_xls_whose_dimensions_claim_billions_of_rows_is_refused(tmp_path):
    path = xls(tmp_path / "dim.xls", dimensions=(0, 0xFFFFFFF0, 0, 0x4000))
    problem = measured(path, "xls")
    assert problem.code == "oversized_file" and "4,294,967,280" in problem.message


def _biff(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def test_an_xls_sheet_hidden_inside_another_record_is_measured_where_calamine_reads_it():
    # A BOUNDSHEET pointing into the payload of another record: read from the start of the
    # stream, that payload is skipped; calamine reads the sheet from the offset it is given.
    bof_sheet = _biff(0x0809, struct.pack("<HH", 0x0600, 0x0010))
    far_cell = _biff(0x0203, struct.pack("<HHHd", 65_535, 255, 0, 1.0))  # NUMBER at IV65536
    hidden = bof_sheet + far_cell + _biff(0x000A)

    def workbook_globals(offset: int) -> bytes:
        sheet = struct.pack("<IBBBB", offset, 0, 0, 1, 0) + b"X"  # offset, state, type, "X"
        bof = _biff(0x0809, struct.pack("<HH", 0x0600, 0x0005))
        return bof + _biff(0x0085, sheet) + _biff(0x000A)

    offset = len(workbook_globals(0)) + len(bof_sheet) + 4  # inside record 0x0099's payload
    stream = workbook_globals(offset) + bof_sheet + _biff(0x0099, hidden) + _biff(0x000A)
    with pytest.raises(FileProblem) as raised:
        _measure_biff(stream)
    assert "IV65536" in raised.value.message and "'X'" in raised.value.message


def test_sound_files_of_each_format_pass_their_measure(tmp_path):
    for path, fmt in (
        (ods(tmp_path / "a.ods"), "ods"),
        (xlsb(tmp_path / "a.xlsb"), "xlsb"),
        (xls(tmp_path / "a.xls"), "xls"),
    ):
        measure_calamine(path, fmt)
        result = read_inputs([path])
        assert result.issues == [] and len(result.rows) == 2, path


# ---- CSV ---------------------------------------------------------------------------------


def csv_problem(path: Path) -> FileProblem:
    with pytest.raises(FileProblem) as raised:
        read_text_file(path)
    return raised.value


def test_a_2_gb_csv_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(GOOD_CSV.encode())
        fh.truncate(2 << 30)  # sparse: 2 GB that take no disk
    problem = csv_problem(path)
    assert problem.code == "oversized_file" and f"{MAX_TEXT_FILE:,}" in problem.message


def test_a_csv_that_is_one_endless_line_is_refused(tmp_path):
    path = tmp_path / "line.csv"
    path.write_bytes(GOOD_CSV.encode() + b"x" * 3_000_000)
    problem = csv_problem(path)
    assert problem.code == "oversized_file" and "một dòng" in problem.message


def test_a_csv_of_millions_of_rows_is_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_bytes(GOOD_CSV.encode() + b"1;2\n" * 3_000_000)
    problem = csv_problem(path)
    assert problem.code == "oversized_file" and f"{MAX_SHEET_ROWS:,} dòng" in problem.message


def test_a_csv_of_millions_of_cells_is_refused_and_the_others_read(tmp_path):
    bomb = tmp_path / "cells.csv"
    bomb.write_bytes(GOOD_CSV.encode() + (b";" * 150_000 + b"\n") * 30)
    good = tmp_path / "tot.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    result = read_inputs([bomb, good])
    [issue] = result.issues
    assert (issue.code, issue.file) == ("oversized_file", str(bomb))
    assert f"{MAX_SHEET_CELLS:,} ô" in issue.message
    assert len(result.rows) == 2


# ---- in a child process: bounded memory and time, whatever the file ---------------------

MEMORY_LIMIT = 1 << 30  # address space, not RSS: a wall so a regression fails, not the run
PEAK_RSS_MB = 300


def in_child(script: str, *args: str) -> dict:
    """Run ``script`` in a Python child with an address-space limit; return its JSON, with
    ``peak_mb`` its peak resident memory."""
    prelude = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    )
    # The child's own peak (VmHWM of its address space): ru_maxrss would carry over the
    # peak of the test process it was forked from.
    epilogue = (
        "\nwith open('/proc/self/status') as fh:\n"
        "    hwm = next(l for l in fh if l.startswith('VmHWM:'))\n"
        "found['peak_mb'] = int(hwm.split()[1]) // 1024\n"
        "print(json.dumps(found))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script) + epilogue, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _endless_line(path: Path) -> Path:
    with path.open("wb") as fh:
        fh.write(GOOD_CSV.encode())
        for _ in range(60):  # 60 MB in one line: under the file limit, over the line limit
            fh.write(b"x" * (1 << 20))
    return path


def _sparse(path: Path, head: bytes) -> Path:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(2 << 30)  # 2 GB that take no disk
    return path


BOMBS = {
    "xlsx-2gb": lambda p: _sparse(p.with_suffix(".xlsx"), b"PK\x03\x04"),
    "ods-2gb": lambda p: _sparse(p.with_suffix(".ods"), b"PK\x03\x04"),
    "csv-2gb": lambda p: _sparse(p.with_suffix(".csv"), GOOD_CSV.encode()),
    "ods-rows": lambda p: ods(p.with_suffix(".ods"), ods_row("x", repeat=1_000_000)),
    "ods-cells": lambda p: ods(
        p.with_suffix(".ods"),
        '<table:table-row table:number-rows-repeated="100000">'
        '<table:table-cell table:number-columns-repeated="1000" office:value-type="float" '
        'office:value="1"/></table:table-row>',
    ),
    "xlsb-far": lambda p: xlsb(
        p.with_suffix(".xlsb"), xlsb_row(1_048_575) + xlsb_text(16_383, "x")
    ),
    "xls-far": lambda p: xls(p.with_suffix(".xls"), far=(65_535, 255)),
    "xls-dimensions": lambda p: xls(p.with_suffix(".xls"), dimensions=(0, 0xFFFFFFF0, 0, 0x4000)),
    "csv-rows": lambda p: (
        p.with_suffix(".csv").write_bytes(b"1;2\n" * 5_000_000),
        p.with_suffix(".csv"),
    )[1],
    "csv-line": lambda p: _endless_line(p.with_suffix(".csv")),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOMBS))
def test_bombs_fail_cleanly_within_memory_and_other_files_are_read(tmp_path, case):
    bomb = BOMBS[case](tmp_path / case)
    good = tmp_path / "tot.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    found = in_child(
        """
        from pathlib import Path
        from cchc_letters.ingest import read_inputs
        result = read_inputs([Path(p) for p in sys.argv[1:]])
        found = {"issues": [[i.code, i.file] for i in result.issues], "rows": len(result.rows)}
        """,
        str(bomb),
        str(good),
    )
    peak = found.pop("peak_mb")
    assert found == {"issues": [["oversized_file", str(bomb)]], "rows": 2}
    assert peak < PEAK_RSS_MB, f"{case}: {peak} MB"


@pytest.mark.slow
def test_under_watch_a_bomb_reaches_failed_and_the_next_file_is_processed(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    xlsb(inbox / "a-far.xlsb", xlsb_row(1_048_575) + xlsb_text(16_383, "x"))
    (inbox / "b-tot.csv").write_text(GOOD_CSV, encoding="utf-8")
    found = in_child(
        """
        from datetime import date
        from pathlib import Path
        from cchc_letters.pipeline import BatchOptions
        from cchc_letters.watch import process_inbox
        inbox, out = Path(sys.argv[1]), Path(sys.argv[2])
        day = date(2026, 11, 27)
        def options_for(path):
            return BatchOptions(inputs=[path], out_dir=out, letter_date=day)
        done = process_inbox(inbox, options_for, today=day, settle=0, sleep=lambda s: 0)
        found = {"outcomes": [[o.source.name, o.status] for o in done.outcomes]}
        """,
        str(inbox),
        str(out),
    )
    assert found["outcomes"] == [["a-far.xlsb", FAILED], ["b-tot.csv", "processed"]]
    reason = (inbox / FAILED / "a-far.xlsb.reason.txt").read_text(encoding="utf-8")
    assert "XFD1048576" in reason and "docs/input.md" in reason
