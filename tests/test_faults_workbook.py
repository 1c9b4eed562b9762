"""Hostile workbooks (issue 11, item 8): a stray far cell, zip bombs disguised as XLSX. Each
is refused fast, in bounded memory, with one message naming the file; the other files are
still read; under `watch` the file reaches failed/.

The workbooks are made here: a real register saved by openpyxl, then one part of its zip
changed the way a broken tool or an attacker would.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cchc_letters.ingest import read_inputs
from cchc_letters.ingest.excel import MAX_SHEET_ROWS, measure_workbook
from cchc_letters.ingest.text import FileProblem
from cchc_letters.watch import FAILED

SHEET = "xl/worksheets/sheet1.xml"


def register_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Khai tu"
    ws.append(["SỔ ĐĂNG KÝ KHAI TỬ"])
    ws.append(["Số", "Quyển số", "Ngày đăng ký", "Họ và tên", "Giới tính", "Năm sinh", "Ngày chết"])
    ws.append(["01", "01/2026", "23/11/2026", "Nguyễn Văn Tám", "Nam", "1941", "20/11/2026"])
    ws.append(["02", "01/2026", "24/11/2026", "Trần Thị Mai", "Nữ", "1950", "21/11/2026"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def hostile(path: Path, *, sheet_rows: bytes = b"", parts: dict[str, bytes] | None = None) -> Path:
    """Write the register with ``sheet_rows`` appended to its sheet data and ``parts``
    replacing (or adding) whole parts of the package."""
    source = zipfile.ZipFile(io.BytesIO(register_bytes()))
    parts = dict(parts or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in source.infolist():
            data = parts.pop(info.filename, None) or source.read(info.filename)
            if info.filename == SHEET and sheet_rows:
                data = data.replace(b"</sheetData>", sheet_rows + b"</sheetData>")
            out.writestr(info.filename, data)
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def far_value(cell: str, row: int) -> bytes:
    return f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()


def good_register(tmp_path: Path) -> Path:
    path = tmp_path / "tot.xlsx"
    path.write_bytes(register_bytes())
    return path


def only_issue(path: Path, tmp_path: Path):
    """Read the hostile file and a good one: the good one's rows, one issue for the other."""
    result = read_inputs([path, good_register(tmp_path)])
    [issue] = result.issues
    assert (issue.file, issue.source) == (str(path), None)
    assert len(result.rows) == 2  # the good register is still read
    return issue


def measured(path: Path):
    """Return the FileProblem measure_workbook raises for ``path`` (measuring only: a
    regression here fails, where reading the file would abort the test run)."""
    with zipfile.ZipFile(path) as archive, pytest.raises(FileProblem) as raised:
        measure_workbook(archive)
    return raised.value


def test_one_value_in_the_last_cell_of_the_sheet_is_refused_naming_the_cell(tmp_path):
    path = hostile(tmp_path / "xfd.xlsx", sheet_rows=far_value("XFD1048576", 1048576))
    problem = measured(path)
    assert problem.code == "oversized_file"
    assert "XFD1048576" in problem.message and "Ctrl+End" in problem.message


def test_a_stray_value_far_to_the_right_is_refused_naming_the_cell(tmp_path):
    path = hostile(tmp_path / "stray.xlsx", sheet_rows=far_value("XFD20000", 20000))
    problem = measured(path)
    assert problem.code == "oversized_file"
    assert "XFD20000" in problem.message and "'Khai tu'" in problem.message


def test_formatted_empty_cells_far_away_are_not_data(tmp_path):
    # Excel writes a cell formatted but never filled as <c r=".." s=".."/>: readers skip it,
    # and so must the limits (only the range that holds data counts).
    empty = b'<row r="1048576"><c r="XFD1048576" s="0"/></row>'
    path = hostile(tmp_path / "formatted.xlsx", sheet_rows=empty)
    result = read_inputs([path])
    assert result.issues == [] and len(result.rows) == 2


@pytest.mark.slow  # a big hostile file: over a million rows
def test_more_rows_than_any_register_is_refused(tmp_path):
    rows = b"".join(
        b'<row r="%d"><c r="H%d"><v>1</v></c></row>' % (n, n)
        for n in range(10, MAX_SHEET_ROWS + 20)
    )
    path = hostile(tmp_path / "rows.xlsx", sheet_rows=rows)
    issue = only_issue(path, tmp_path)
    assert issue.code == "oversized_file" and f"{MAX_SHEET_ROWS:,} hàng" in issue.message


@pytest.mark.slow  # a big hostile file
def test_a_huge_shared_strings_part_is_refused(tmp_path):
    # 300 MB of shared strings in a file of a few hundred kilobytes.
    one = b"<si><t>" + b"A" * 30_000 + b"</t></si>"
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + one * 10_000
        + b"</sst>"
    )
    path = hostile(tmp_path / "sst.xlsx", parts={"xl/sharedStrings.xml": strings})
    assert path.stat().st_size < 2_000_000
    issue = only_issue(path, tmp_path)
    assert issue.code == "oversized_file" and "sharedStrings" in issue.message


def test_one_huge_cell_is_refused(tmp_path):
    cell = b'<row r="9"><c r="D9" t="inlineStr"><is><t>' + b"A" * 5_000_000 + b"</t></is></c></row>"
    path = hostile(tmp_path / "cell.xlsx", sheet_rows=cell)
    issue = only_issue(path, tmp_path)
    assert issue.code == "oversized_file" and "một ô" in issue.message


def test_a_zip_entry_that_lies_about_its_size_is_a_damaged_file(tmp_path):
    path = hostile(tmp_path / "lie.xlsx", sheet_rows=far_value("D9", 9))
    data = bytearray(path.read_bytes())
    # Make the central directory say the sheet is 100 bytes: reading stops there and the
    # checksum fails, so nothing larger than declared is ever expanded.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(SHEET)
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(SHEET.encode()))
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    local = info.header_offset
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    issue = only_issue(path, tmp_path)
    assert issue.code == "unreadable_file"


# ---- process-level bounds: in a child process with an address-space limit, so that a
# regression fails these tests instead of killing the test run ----------------------------

MEMORY_LIMIT = 600 << 20  # address space, not RSS: Python and its libraries map ~250 MB


def in_child(script: str, *args: str, quiet: bool = False) -> object:
    """Run ``script`` in a Python child limited to MEMORY_LIMIT; return what it printed as
    JSON. ``quiet``: it must print nothing on stderr either."""
    prelude = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (quiet and proc.stderr), proc.stderr[-2000:]
    return json.loads(proc.stdout)


BOMBS = {
    "xfd1048576": lambda p: hostile(p, sheet_rows=far_value("XFD1048576", 1048576)),
    "xfd20000": lambda p: hostile(p, sheet_rows=far_value("XFD20000", 20000)),
    "shared-strings": lambda p: hostile(
        p,
        parts={
            "xl/sharedStrings.xml": b"<sst>"
            + (b"<si><t>" + b"A" * 30_000 + b"</t></si>") * 20_000
            + b"</sst>"
        },
    ),
    "huge-cell": lambda p: hostile(
        p,
        sheet_rows=b'<row r="9"><c r="D9" t="inlineStr"><is><t>'
        + b"A" * 400_000_000
        + b"</t></is></c></row>",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOMBS))
def test_bombs_fail_cleanly_within_memory_and_other_files_are_read(tmp_path, case):
    bomb = BOMBS[case](tmp_path / f"{case}.xlsx")
    found = in_child(
        """
        from pathlib import Path
        from cchc_letters.ingest import read_inputs
        result = read_inputs([Path(p) for p in sys.argv[1:]])
        print(json.dumps({"issues": [[i.code, i.file] for i in result.issues],
                          "rows": len(result.rows)}))
        """,
        str(bomb),
        str(good_register(tmp_path)),
    )
    assert found == {"issues": [["oversized_file", str(bomb)]], "rows": 2}


@pytest.mark.slow
def test_under_watch_a_bomb_reaches_failed_and_the_next_file_is_processed(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    BOMBS["xfd1048576"](inbox / "a-xfd.xlsx")
    (inbox / "b-tot.xlsx").write_bytes(register_bytes())
    outcomes = in_child(
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
        print(json.dumps([[o.source.name, o.status] for o in done.outcomes]))
        """,
        str(inbox),
        str(out),
    )
    assert outcomes == [["a-xfd.xlsx", FAILED], ["b-tot.xlsx", "processed"]]
    reason = (inbox / FAILED / "a-xfd.xlsx.reason.txt").read_text(encoding="utf-8")
    assert "XFD1048576" in reason
