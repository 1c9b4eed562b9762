"""The health station's session lists, feedback, reminders, and what the ledger keeps."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx_helpers import convert_to_pdf, document_text, pdf_pages
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.ledger import Ledger
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.profile import load_profile
from cchc_letters.session_lists import (
    SMS_LIMIT,
    SessionsOptions,
    month_sessions,
    reminder_message,
    run_sessions,
    without_diacritics,
)

LETTER_DATE = date(2026, 11, 27)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
HEADER = (
    "kind,registration_number,book_number,registration_date,child_name,child_sex,"
    "child_birth_date,child_personal_id,mother_name,mother_residence,father_name,"
    "Số điện thoại,deceased_name,deceased_sex,deceased_birth,deceased_personal_id,"
    "deceased_residence,death_date\n"
)
BAO = "khai sinh,01,01/2026,20/11/2026,Nguyễn Gia Bảo,Nam,12/10/2026,,Phạm Thị Diệp,"
BAO += '"Ấp Suối Nghệ, xã Ngãi Giao",Nguyễn Văn Trưởng,0912 345 678,,,,,,'
NHIEN = "khai sinh,02,01/2026,21/11/2026,Trần An Nhiên,Nữ,10/10/2026,,Lê Thị Hồng,"
NHIEN += '"Tổ 3, ấp Bình Ba, xã Ngãi Giao",,+84 912 000 111,,,,,,'
# Khang has a personal ID; his death is registered later under the same ID.
KHANG_ID = "079226000202"
KHANG = f"khai sinh,03,01/2026,22/11/2026,Võ Minh Khang,Nam,11/10/2026,{KHANG_ID},Đặng Thu Trang,"
KHANG += '"Khu phố Ngãi Giao, xã Ngãi Giao",,,,,,,,'
KHANG_DEATH = ",,,,,,,,,,,,Võ Minh Khang,Nam,11/10/2026," + KHANG_ID + ',"Khu phố Ngãi Giao",'
KHANG_DEATH = "khai tử,01,01/2026,26/11/2026" + KHANG_DEATH[len(",,,") :] + "25/11/2026"
# Twins of one family, one phone: one reminder.
TWIN_A = "khai sinh,04,01/2026,22/11/2026,Lê Minh An,Nam,13/10/2026,,Mai Thị Lan,"
TWIN_A += '"Ấp Suối Nghệ, xã Ngãi Giao",,0988 111 222,,,,,,'
TWIN_B = TWIN_A.replace("04,01", "05,01").replace("Lê Minh An", "Lê Minh Bình")


def write_input(folder: Path, *rows: str, name: str = "input.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def batch(out: Path, *rows: str, letter_date: date = LETTER_DATE, **options):
    return run_batch(
        BatchOptions(
            inputs=[write_input(out.parent / "in", *rows, name=f"{letter_date}.csv")],
            out_dir=out,
            letter_date=letter_date,
            clock=lambda: NOW,
            **options,
        )
    )


def sessions(out: Path, year: int, month: int, **options):
    return run_sessions(
        SessionsOptions(
            out_dir=out, year=year, month=month, today=date(2026, 11, 28), clock=lambda: NOW,
            **options,
        )
    )  # fmt: skip


def xlsx_rows(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    book = load_workbook(path)
    rows = list(book["Danh sách"].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def xlsx_totals(path: Path) -> dict[str, int]:
    from openpyxl import load_workbook

    book = load_workbook(path)
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    book.close()
    return {r[0]: r[1] for r in rows[1:] if len(r) > 1 and r[1]}


@pytest.fixture(scope="module")
def january(tmp_path_factory):
    out = tmp_path_factory.mktemp("sessions") / "out"
    batch(out, BAO, NHIEN, KHANG, TWIN_A, TWIN_B)
    batch(out, KHANG_DEATH, letter_date=date(2026, 11, 28))
    return out, sessions(out, 2027, 1)


def test_each_session_of_the_month_has_its_docx_and_xlsx(january):
    out, result = january
    assert [s.session.held for s in result.lists] == [date(2027, 1, 5), date(2027, 1, 6)]
    for session_list in result.lists:
        stem = f"danh-sach-tiem-{session_list.session.held.isoformat()}"
        assert session_list.docx == out / "sessions" / f"{stem}.docx"
        assert session_list.xlsx == out / "sessions" / f"{stem}.xlsx"
        assert session_list.docx.is_file() and session_list.xlsx.is_file()


def test_the_list_holds_the_ledgers_living_children_with_their_family(january):
    out, result = january
    rows = xlsx_rows(result.lists[0].xlsx)
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        kept = {c.key: c for c in ledger.people.children(on=date(2027, 1, 5), include_all=True)}
    # every child of the ledger but Khang, whose death is registered
    assert {r["registration_key"] for r in rows} == {
        k for k, c in kept.items() if c.status == "active"
    }
    assert kept["26575:birth:2026:1/2026:3"].status == "dead"
    assert "Võ Minh Khang" not in {r["Họ tên trẻ"] for r in rows}
    for row in rows:
        child = kept[row["registration_key"]]
        assert (row["Họ tên trẻ"], row["Họ tên mẹ"], row["Họ tên cha"] or "") == (
            child.name, child.mother, child.father,
        )  # fmt: skip
        assert (row["Điện thoại"] or "") == child.phone
        assert row["Ngày sinh"] == f"{child.birth_date:%d/%m/%Y}"
    bao = next(r for r in rows if r["Họ tên trẻ"] == "Nguyễn Gia Bảo")
    assert bao["Điện thoại"] == "0912345678"
    assert bao["Ấp / khu phố"] == "Ấp Suối Nghệ"
    assert bao["Họ tên cha"] == "Nguyễn Văn Trưởng"
    # grouped by hamlet in the profile's order
    hamlets = [r["Ấp / khu phố"] for r in rows]
    assert hamlets == sorted(hamlets, key=["Ấp Suối Nghệ", "Ấp Bình Ba"].index)


def test_a_two_month_old_is_due_the_doses_the_letter_planned(january):
    _, result = january
    bao = next(r for r in xlsx_rows(result.lists[0].xlsx) if r["Họ tên trẻ"] == "Nguyễn Gia Bảo")
    doses = bao["Mũi cần tiêm"]
    assert "5 trong 1" in doses and "bại liệt uống" in doses
    assert "sởi" not in doses.lower()  # measles is due at 9 months, not now


def test_every_number_agrees_with_the_rows_and_the_ledger(january):
    out, result = january
    for session_list in result.lists:
        rows = xlsx_rows(session_list.xlsx)
        counted: dict[str, int] = {}
        for row in rows:
            for label in row["Mũi cần tiêm"].split(", "):
                name = label.rsplit(" (", 1)[0]
                counted[name] = counted.get(name, 0) + 1
        assert xlsx_totals(session_list.xlsx) == counted == session_list.counts()
        text = document_text(session_list.docx)
        for name, count in counted.items():
            assert f"{name}\n{count}" in text
        assert f"{len(rows)} trẻ đến hạn; {sum(counted.values())} liều." in text
        db = sqlite3.connect(out / "ledger.sqlite3")
        entries = db.execute(
            "SELECT registration_key, doses FROM session_entries WHERE session_date = ?",
            (session_list.session.held.isoformat(),),
        ).fetchall()
        db.close()
        assert {k for k, _ in entries} == {r["registration_key"] for r in rows}
        assert sum(len(d.split("\n")) for _, d in entries) == sum(counted.values())


def test_the_docx_passes_ooxml_validation_and_prints_a_page_per_hamlet(january, tmp_path):
    from openxml_audit import OpenXmlValidator

    _, result = january
    docx = result.lists[0].docx
    checked = OpenXmlValidator().validate(docx)
    assert checked.error_count == 0, [e.description for e in checked.errors]
    hamlets = {r["Ấp / khu phố"] for r in xlsx_rows(result.lists[0].xlsx)}
    pdf = convert_to_pdf(docx, tmp_path)
    assert pdf_pages(pdf) == 1 + len(hamlets)  # the count per vaccine, then each hamlet


def test_a_personal_id_is_never_stored_in_clear(january):
    out, _ = january
    data = (out / "ledger.sqlite3").read_bytes()
    assert KHANG_ID.encode() not in data
    assert KHANG_ID.encode("utf-16-le") not in data


def test_feedback_given_and_moved_are_taken_into_account(tmp_path):
    out = tmp_path / "out"
    batch(out, BAO, NHIEN)
    first = sessions(out, 2027, 1)
    assert {r["Họ tên trẻ"] for r in xlsx_rows(first.lists[0].xlsx)} == {
        "Nguyễn Gia Bảo", "Trần An Nhiên",
    }  # fmt: skip
    bao_before = next(c for c in first.lists[0].children if c.child.name == "Nguyễn Gia Bảo")
    feedback = tmp_path / "phan-hoi.csv"
    feedback.write_text(
        "registration_key,status,session_date\n"
        "26575:birth:2026:1/2026:1,Đã tiêm,05/01/2027\n"
        "26575:birth:2026:1/2026:2,chuyển đi,\n",
        encoding="utf-8",
    )
    second = sessions(out, 2027, 2, feedback=feedback)
    assert second.feedback_applied == 2 and int(second.exit_code) == 0
    listed = {c.child.name: c for s in second.lists for c in s.children}
    assert "Trần An Nhiên" not in listed  # moved away
    bao_after = [d.key for d in listed["Nguyễn Gia Bảo"].doses]
    given = {d.key for d in bao_before.doses}
    assert not given & set(bao_after)  # nothing given is listed again
    # the next dose of each series given on 05/01 waits its interval: due by 05/03
    assert "dtp-hepb-hib/mũi 2" in bao_after
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        assert set(ledger.people.given()["26575:birth:2026:1/2026:1"]) == given


def test_feedback_that_cannot_be_used_is_reported_with_exit_3(tmp_path):
    out = tmp_path / "out"
    batch(out, BAO)
    feedback = tmp_path / "phan-hoi.csv"
    feedback.write_text(
        "Mã hồ sơ;Kết quả\n"
        "26575:birth:2026:1/2026:1;không đến\n"
        "26575:birth:2026:9/2026:9;đã tiêm\n"
        "not-a-key;đã tiêm\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["sessions", "--month", "2027-01", "--out", str(out), "--date", "2026-11-28",
         "--feedback", str(feedback), "--json"],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    payload = json.loads(result.stdout)
    assert [r["row"] for r in payload["feedback_rejected"]] == [2, 4, 3]
    assert {r["file"] for r in payload["feedback_rejected"]} == {"phan-hoi.csv"}
    assert payload["feedback_applied"] == 0
    assert payload["sessions"][0]["children"] == 1  # the lists are still written


def test_a_month_whose_sessions_fall_on_tet_says_where_they_moved(tmp_path):
    # Tết 2027 is 06/02; the session days 5 and 6 are holidays: the children come on 05/03.
    profile = load_profile()
    (moved,) = month_sessions(2027, 2, profile)
    assert moved.held == date(2027, 3, 5)
    assert moved.scheduled == (date(2027, 2, 5), date(2027, 2, 6))
    assert "05/02/2027, 06/02/2027 không tổ chức (nghỉ Tết / ngày lễ)" in moved.note()
    out = tmp_path / "out"
    batch(out, BAO)
    result = sessions(out, 2027, 2)
    (only,) = result.lists
    assert only.docx.name == "danh-sach-tiem-2027-03-05.docx"
    assert "trẻ đến buổi tiêm ngày 05/03/2027" in document_text(only.docx)
    assert month_sessions(2027, 1, profile)[0].note() == ""


def test_reminders_fit_an_sms_and_have_a_gsm7_copy(tmp_path):
    out = tmp_path / "out"
    batch(out, BAO, NHIEN, TWIN_A, TWIN_B)
    reminders = tmp_path / "nhac-lich.csv"
    result = sessions(out, 2027, 1, reminders=reminders)
    assert result.reminder_session == date(2027, 1, 5)
    with reminders.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3  # the twins share a phone: one family, one message
    twins = next(r for r in rows if r["phone"] == "0988111222")
    assert "bé An và bé Bình" in twins["message"]
    gsm7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")  # fmt: skip
    for row in rows:
        assert 0 < len(row["message"]) <= SMS_LIMIT
        assert len(row["message_gsm7"]) <= SMS_LIMIT
        assert set(row["message_gsm7"]) <= gsm7, row["message_gsm7"]
        assert row["message_gsm7"] == without_diacritics(row["message"])
        assert "05/01/2027" in row["message"]
    assert {r["phone"] for r in rows} == {"0912345678", "0912000111", "0988111222"}


def test_a_long_reminder_falls_back_to_a_shorter_form():
    from cchc_letters.ledger_people import ChildRecord
    from cchc_letters.session_lists import DueDose, ListedChild

    doses = [DueDose(f"v{i}/1", f"v{i}", f"vắc xin số {i}", "mũi 1") for i in range(12)]
    many = [
        ListedChild(ChildRecord(f"k{i}", f"Nguyễn Văn Tên{i}", date(2026, 1, 1)), "Khác", doses)
        for i in range(3)
    ]
    message = reminder_message(many, date(2027, 1, 5), load_profile())
    assert len(message) <= SMS_LIMIT and "05/01/2027" in message


def test_purge_deletes_what_the_retention_ended_and_keeps_the_letters(tmp_path):
    out = tmp_path / "out"
    batch(out, BAO)
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        (child,) = ledger.people.children(on=date(2027, 1, 1))
    # the last dose of the plan (Td at 7 years under TT 10/2024 and later) bounds retention
    assert child.keep_until >= date(2033, 10, 12)
    runner = CliRunner()
    early = runner.invoke(app, ["ledger", "purge", "--before", "2030-01-01", "--out", str(out)])
    assert early.exit_code == 0, early.output
    assert "0 trẻ" in early.stdout
    day_after = child.keep_until.toordinal() + 1
    args = [
        "ledger",
        "purge",
        "--before",
        date.fromordinal(day_after).isoformat(),
        "--out",
        str(out),
    ]
    late = runner.invoke(app, [*args, "--json"])
    assert late.exit_code == 0, late.output
    assert json.loads(late.stdout)["purged"]["children"] == 1
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        assert ledger.people.children(on=date(2027, 1, 1), include_all=True) == []
        assert len(ledger.entries()) == 1  # the letter's record stays: never printed twice


def test_retention_in_months_from_the_profile(tmp_path):
    text = load_profile().path.read_text(encoding="utf-8")
    profile = tmp_path / "profile.toml"
    profile.write_text(text.replace('children = "last_dose"', "children = 24"), encoding="utf-8")
    out = tmp_path / "out"
    batch(out, BAO, profile_path=profile)
    with Ledger.open(out / "ledger.sqlite3") as ledger:
        (child,) = ledger.people.children(on=date(2027, 1, 1))
    assert child.keep_until == date(2028, 10, 12)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('children = "last_dose"', 'children = "forever"'), encoding="utf-8")
    from cchc_letters.errors import ProfileError

    with pytest.raises(ProfileError, match=r"\[retention\] children"):
        load_profile(bad)


def test_a_v3_ledger_migrates_and_keeps_its_letters(tmp_path):
    from cchc_letters import ledger as ledger_module

    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(ledger_module._SCHEMA_V2)
    db.execute("INSERT INTO batches VALUES (1, 'b1', 'b1', 'complete', '2026-11-01', NULL, 1)")
    db.execute(
        "INSERT INTO letters (registration_key, commune, kind, year, book, number, content_hash,"
        " batch_id, print_file, position, printed_at) VALUES ('26575:birth:2026:1/2026:1',"
        " '26575', 'birth', 2026, '1/2026', '1', 'h', 1, 'khai-sinh-001.docx', 1, '2026-11-01')"
    )
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with Ledger.open(path) as book:
        assert book.version == ledger_module.SCHEMA_VERSION == 6  # 5: identity (faults); 6: kind
        assert [e.key for e in book.entries()] == ["26575:birth:2026:1/2026:1"]
        assert book.people.children(on=date(2027, 1, 1)) == []
    assert path.with_name("ledger.sqlite3.v3.bak").is_file()


def test_cli_sessions_json_and_errors(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    missing = runner.invoke(app, ["sessions", "--month", "2027-01", "--out", str(out), "--json"])
    assert missing.exit_code == 1
    assert "no ledger" in json.loads(missing.stdout)["error"]
    bad = runner.invoke(app, ["sessions", "--month", "2027-13", "--out", str(out)])
    assert bad.exit_code == 2
    batch(out, BAO)
    ok = runner.invoke(
        app, ["sessions", "--month", "2027-02", "--out", str(out), "--date", "2026-11-28"]
    )
    assert ok.exit_code == 0, ok.output
    assert "không tổ chức (nghỉ Tết / ngày lễ)" in ok.stdout
    assert "Buổi tiêm 05/03/2027: 1 trẻ" in ok.stdout
