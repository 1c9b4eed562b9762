"""The same person and event twice in ONE run under two keys (a corrected số, quyển or year,
both rows in today's export, neither printed): one letter — the later registration, or the
later row — and the other row reported as a probable duplicate naming it. And the office
app's preview (plan.ledger_plan) applies the same rule as the run (issue 11)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

from ledger_helpers import child_name, key, printed_counts, write_births
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ingest import read_inputs
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.plan import ledger_plan
from cchc_letters.validate import validate_rows

runner = CliRunner()
DAY = date(2026, 11, 27)
DEATHS = "Số;Quyển số;Ngày đăng ký;Họ và tên;Giới tính;Năm sinh;Số định danh;Ngày chết\n"
DEATH = "{n};01/2026;{reg};{name};Nam;1941;{pid};20/11/2026\n"


def generate(path: Path, out: Path) -> dict:
    args = ["generate", str(path), "--out", str(out), "--date", "2026-11-27", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rejects(report: dict) -> list[dict]:
    with open(report["rejects_file"], encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_corrected_number_in_the_same_export_prints_one_letter_the_later(tmp_path):
    # Row of no. 05 is child 03 again (same name, same date of birth), registered later.
    export = write_births(tmp_path / "day.csv", [1, 2, 3, 5], names={5: child_name(3)})
    report = generate(export, tmp_path / "out")
    assert report["letters"]["birth"] == 3
    assert printed_counts(tmp_path / "out") == {key(1): 1, key(2): 1, key(5): 1}
    assert report["duplicates"] == 1
    [duplicate] = [r for r in rejects(report) if r["reason_code"] == "probable_duplicate"]
    assert duplicate["row"] == "4" and duplicate["value"] == "03"  # no. 03, line 4
    assert "dòng 5" in duplicate["reason"] and "day.csv" in duplicate["reason"]
    assert "đăng ký sau" in duplicate["reason"]
    assert duplicate["severity"] == "duplicate"

    # The next run of the same cumulative export prints nothing: 05 is printed, 03 is the
    # same event printed under another key (a changed record, not a second letter).
    again = generate(export, tmp_path / "out")
    assert again["letters"]["birth"] == 0
    assert [c["key"].rsplit(":", 1)[1] for c in again["changed"]] == ["3"]


def test_the_same_personal_id_registered_the_same_day_prints_the_later_row(tmp_path):
    export = tmp_path / "kt.csv"
    export.write_text(
        DEATHS
        + DEATH.format(n="01", reg="23/11/2026", name="Nguyễn Văn Tám", pid="079041000123")
        + DEATH.format(n="07", reg="23/11/2026", name="Nguyễn Văn Tam", pid="079041000123")
        + DEATH.format(n="02", reg="24/11/2026", name="Trần Văn Hai", pid="079041000456"),
        encoding="utf-8",
    )
    result = run_batch(BatchOptions(inputs=[export], out_dir=tmp_path / "out", letter_date=DAY))
    assert sorted(p.registration.number for p in result.printed) == ["02", "07"]
    [issue] = [i for i in result.issues if i.code == "probable_duplicate"]
    assert issue.source.row == 2 and "dòng 3" in issue.message and "dòng sau" in issue.message


def numbers(rows) -> list[str]:
    return sorted(r.registration.number for r in rows)


def test_the_preview_and_the_run_agree_on_a_ledger_with_corrections(tmp_path):
    out = tmp_path / "out"
    births = write_births(tmp_path / "births.csv", [1, 2, 3])
    run_batch(BatchOptions(inputs=[births], out_dir=out, letter_date=DAY))
    # The next cumulative export: 1 as printed, 2 with a corrected name, 3's number
    # corrected to 13 (same child, another key), 4 new but its death registered too,
    # 5 and 6 the same new child twice (6 registered later).
    write_births(
        births,
        [1, 2, 4, 5, 6, 13],
        names={2: "Nguyễn Văn Sửa Tên", 6: child_name(5), 13: child_name(3)},
    )
    deaths = tmp_path / "deaths.csv"
    deaths.write_text(
        "Số;Quyển số;Ngày đăng ký;Họ và tên;Giới tính;Ngày sinh;Ngày chết\n"
        f"09;01/2026;26/11/2026;{child_name(4)};Nam;01/11/2026;25/11/2026\n",
        encoding="utf-8",
    )
    inputs = [births, deaths]
    plan = ledger_plan(
        validate_rows(read_inputs(inputs).rows, letter_date=DAY).registrations, out_dir=out
    )
    assert numbers(plan.printed) == ["01"]
    assert numbers(plan.changed) == ["02", "13"]  # 13: a corrected key, found in the preview too
    assert numbers(plan.withheld) == ["04"] and numbers(plan.duplicates) == ["05"]
    assert numbers(plan.new) == ["06", "09"]

    result = run_batch(BatchOptions(inputs=inputs, out_dir=out, letter_date=DAY))
    assert sorted(p.registration.number for p in result.printed) == numbers(plan.new)
    assert result.skipped_already_printed == len(plan.printed)
    assert sorted(c.key for c in result.changed) == sorted(r.key for r in plan.changed)
    assert sorted(
        (i.code, i.source.file, i.source.row)
        for i in result.issues
        if i.severity in ("withheld", "duplicate") and i.code != "duplicate_row"
    ) == sorted(
        (r.issue.code, r.issue.source.file, r.issue.source.row)
        for r in [*plan.withheld, *plan.duplicates]
    )


def test_the_office_apps_preview_counts_one_letter_for_the_same_child_twice(tmp_path):
    from web_helpers import make_client, upload_export

    export = write_births(tmp_path / "day.csv", [1, 2, 3, 5], names={5: child_name(3)})
    with make_client(tmp_path / "out") as client:
        page = upload_export(client, export).text
    assert re.search(r'id="to-print">3<', page)
    assert re.search(r'id="duplicate-count">1<', page) and "Có thể trùng với dòng 5" in page
