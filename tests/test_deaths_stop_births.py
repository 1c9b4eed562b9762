"""One register checks the other (issue 12 item 7): a child whose death is registered gets no
birth letter with a vaccination plan; a birth letter already printed for that child is flagged
not to be delivered. The same person: personal ID when present, else name and date of birth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from cchc_letters.cli import app

runner = CliRunner()
LETTER_DATE = "2026-11-27"
HEADER = (
    "kind,registration_number,book_number,registration_date,child_name,child_sex,"
    "child_birth_date,mother_name,mother_birth,mother_residence,father_name,husband_name,"
    "wife_name,deceased_name,deceased_sex,deceased_birth,deceased_residence,death_date\n"
)
BIRTH = "khai sinh,{n},01/2026,20/11/2026,{name},Nam,{dob},Lê Thị Hồng,1996,Ấp Suối Nghệ,,,,,,,,"
DEATH = "khai tử,{n},01/2026,26/11/2026,,,,,,,,,,{name},Nam,{dob},Ấp Suối Nghệ,25/11/2026"


def export(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def generate(path: Path, out: Path, *extra: str) -> dict:
    args = ["generate", str(path), "--out", str(out), "--date", LETTER_DATE, "--json", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def reject_codes(path: str | None) -> list[str]:
    if not path:
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [row["reason_code"] for row in csv.DictReader(fh)]


def test_a_birth_and_the_death_of_the_same_child_in_one_run_give_no_birth_letter(tmp_path):
    path = export(
        tmp_path / "day.csv",
        BIRTH.format(n="01", name="Nguyễn Văn An", dob="12/11/2026"),
        BIRTH.format(n="02", name="Trần Thị Bình", dob="10/11/2026"),
        DEATH.format(n="01", name="NGUYỄN VĂN AN", dob="12/11/2026"),
    )
    result = generate(path, tmp_path / "out")
    assert result["letters"] == {"birth": 1, "marriage": 0, "death": 1}
    [withheld] = result["withheld"]
    assert withheld["code"] == "child_death_registered" and "day.csv:2" in withheld["source"]
    assert "khai tử" in withheld["reason"]
    assert reject_codes(result["rejects_file"]) == ["child_death_registered"]


def test_a_death_already_in_the_ledger_stops_a_late_birth_letter(tmp_path):
    out = tmp_path / "out"
    generate(
        export(tmp_path / "d1.csv", DEATH.format(n="01", name="Lê Văn Cường", dob="01/11/2026")),
        out,
    )
    late = generate(
        export(tmp_path / "d2.csv", BIRTH.format(n="07", name="Lê Văn Cường", dob="01/11/2026")),
        out,
    )
    assert late["letters"]["birth"] == 0 and len(late["withheld"]) == 1


def test_a_birth_letter_printed_before_the_death_is_flagged_not_to_deliver(tmp_path):
    out = tmp_path / "out"
    first = generate(
        export(tmp_path / "d1.csv", BIRTH.format(n="03", name="Phạm Minh Đức", dob="05/11/2026")),
        out,
    )
    assert first["letters"]["birth"] == 1
    args = ["generate", str(export(tmp_path / "d2.csv", DEATH.format(n="02", name="Phạm Minh Đức", dob="05/11/2026"))),
            "--out", str(out), "--date", LETTER_DATE, "--quiet"]  # fmt: skip
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "KHÔNG GIAO" in shown.stderr and "26575:birth:2026:1/2026:3" in shown.stderr
    forget = runner.invoke(
        app, ["ledger", "forget", "26575:death:2026:1/2026:2", "--out", str(out)]
    )
    assert forget.exit_code == 0
    again = generate(tmp_path / "d2.csv", out)
    [flag] = again["do_not_deliver"]
    assert flag["key"] == "26575:birth:2026:1/2026:3" and flag["batch"] == "batch-2026-11-27-001"
    assert flag["death_key"] == "26575:death:2026:1/2026:2"


def test_another_child_with_the_same_name_but_another_birthday_keeps_its_letter(tmp_path):
    path = export(
        tmp_path / "day.csv",
        BIRTH.format(n="01", name="Nguyễn Văn An", dob="12/11/2026"),
        DEATH.format(n="01", name="Nguyễn Văn An", dob="03/02/1950"),
    )
    result = generate(path, tmp_path / "out")
    assert result["letters"]["birth"] == 1 and result["withheld"] == []


def test_a_rebuilt_ledger_still_knows_who_its_letters_were_for(tmp_path):
    out = tmp_path / "out"
    generate(
        export(tmp_path / "d1.csv", BIRTH.format(n="03", name="Phạm Minh Đức", dob="05/11/2026")),
        out,
    )
    (out / "ledger.sqlite3").unlink()
    assert runner.invoke(app, ["ledger", "rebuild", "--out", str(out)]).exit_code == 0
    death = generate(
        export(tmp_path / "d2.csv", DEATH.format(n="02", name="Phạm Minh Đức", dob="05/11/2026")),
        out,
    )
    assert [f["key"] for f in death["do_not_deliver"]] == ["26575:birth:2026:1/2026:3"]
