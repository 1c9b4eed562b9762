"""The schedule engine: versions as data, and one child's doses and visits, worked by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc_letters.errors import ProfileError, ScheduleError
from cchc_letters.profile import Profile, default_profile_path, load_profile
from cchc_letters.schedule import (
    ChildSchedule,
    child_schedule,
    default_schedules_dir,
    load_versions,
    version_for,
)

D = date.fromisoformat


def make_profile(
    tmp_path: Path,
    *,
    days: tuple[int, ...] = (5, 6),
    weekdays: tuple[str, ...] = (),
    rule: str = "next_session",
    extra: str = "",
) -> Profile:
    """Return the demo profile with its [vaccination_sessions] replaced, plus ``extra`` TOML."""
    text = default_profile_path().read_text(encoding="utf-8")
    head, _, rest = text.partition("[vaccination_sessions]")
    _, _, tail = rest.partition("[letters]")
    sessions = (
        "[vaccination_sessions]\n"
        f"days_of_month = {list(days)}\n"
        f"weekdays = {list(weekdays)!r}\n".replace("'", '"')
        + f'holiday_rule = "{rule}"\n\n'
    )
    path = tmp_path / "profile.toml"
    path.write_text(head + sessions + "[letters]" + tail + "\n" + extra, encoding="utf-8")
    return load_profile(path)


@pytest.fixture(scope="module")
def versions():
    return load_versions()


def by_id(versions, version_id):
    return version_for(date(2000, 1, 1), versions, version_id)


def dose(schedule: ChildSchedule, vaccine: str, label: str):
    (found,) = [d for d in schedule.doses if d.vaccine == vaccine and d.dose == label]
    return found


# --------------------------------------------------------------------------- data files


def test_every_data_file_loads_with_legal_basis_and_dates(versions):
    files = sorted(default_schedules_dir().glob("*.toml"))
    assert len(files) == len(versions) >= 3
    for version in versions:
        assert version.legal_basis.startswith("Thông tư ")
        assert version.path in files
        assert isinstance(version.valid_from, date)
        assert version.valid_to is None or version.valid_to >= version.valid_from
        assert version.rows
        assert all(row.confidence in ("V", "S", "U") for row in version.rows)


def test_in_force_ranges_do_not_overlap_and_only_the_last_is_open(versions):
    ordered = sorted(versions, key=lambda v: v.valid_from)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        assert earlier.valid_to is not None
        assert earlier.valid_to < later.valid_from
    assert [v.valid_to for v in ordered].count(None) <= 1


def test_readme_explains_how_to_add_a_version():
    readme = (default_schedules_dir() / "README.md").read_text(encoding="utf-8")
    assert "valid_from" in readme and "13/2026" in readme


def test_tt52_has_no_invented_pneumococcal_rows(versions):
    tt52 = by_id(versions, "tt52-2025")
    tt10 = by_id(versions, "tt10-2024")
    assert not [r for r in tt52.rows if "phế cầu" in r.name.lower() or r.vaccine == "pcv"]
    assert [r.key for r in tt52.rows] == [r.key for r in tt10.rows]


def test_tt38_lacks_rotavirus_ipv2_and_td(versions):
    keys = {r.key for r in by_id(versions, "tt38-2017").rows}
    assert ("rota", "lần 1") not in keys
    assert ("ipv", "mũi 2") not in keys
    assert ("ipv", "mũi 1") in keys
    assert not [k for k in keys if k[0] == "td"]


@pytest.mark.parametrize(
    ("letter_date", "expected"),
    [
        ("2018-01-01", "tt38-2017"),
        ("2024-07-31", "tt38-2017"),
        ("2024-08-01", "tt10-2024"),
        ("2026-02-14", "tt10-2024"),
        ("2026-02-15", "tt52-2025"),
        ("2026-06-30", "tt52-2025"),
        ("2026-07-01", "tt13-2026"),
        ("2026-11-27", "tt13-2026"),
    ],
)
def test_version_in_force_on_both_sides_of_each_boundary(versions, letter_date, expected):
    assert version_for(D(letter_date), versions).id == expected


def test_no_version_before_2018(versions):
    with pytest.raises(ScheduleError, match="31/12/2017"):
        version_for(D("2017-12-31"), versions)


def test_override_and_unknown_override(versions):
    assert version_for(D("2026-11-27"), versions, "tt10-2024").id == "tt10-2024"
    with pytest.raises(ScheduleError, match="tt99"):
        version_for(D("2026-11-27"), versions, "tt99")


GOOD = """
id = "x-1"
legal_basis = "Thông tư X"
valid_from = 2030-01-01
[[doses]]
vaccine = "bcg"
name = "Lao (BCG)"
dose = "1 mũi"
age = "0 days"
age_label = "Sơ sinh"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id = [", "TOML"),
        (GOOD.replace('legal_basis = "Thông tư X"', ""), "legal_basis"),
        (GOOD.replace('age = "0 days"', 'age = "soon"'), "age"),
        (GOOD.replace('dose = "1 mũi"', 'dose = "1 mũi"\nagee = "1 day"'), "agee"),
        (GOOD.replace("valid_from = 2030-01-01", 'valid_from = "2030-01-01"'), "valid_from"),
        (GOOD + 'confidence = "X"\n', "confidence"),
    ],
)
def test_broken_file_is_named(tmp_path, text, message):
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError, match=message) as info:
        load_versions(tmp_path)
    assert str(path) in info.value.message


def test_overlapping_versions_are_refused(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    second = GOOD.replace('"x-1"', '"x-2"').replace("2030-01-01", "2031-01-01")
    (tmp_path / "b.toml").write_text(second, encoding="utf-8")
    with pytest.raises(ScheduleError, match="b.toml"):
        load_versions(tmp_path)
    first = GOOD.replace(
        "valid_from = 2030-01-01", "valid_from = 2030-01-01\nvalid_to = 2030-12-31"
    )
    (tmp_path / "a.toml").write_text(first, encoding="utf-8")
    assert [v.id for v in load_versions(tmp_path)] == ["x-1", "x-2"]


# --------------------------------------------------------------------------- one child


def test_month_end_leap_year_birth(tmp_path, versions):
    """Born 31/12/2027, letter 10/01/2028, sessions on the 5th and 6th (TT 52/2025)."""
    profile = make_profile(tmp_path)
    result = child_schedule(D("2027-12-31"), D("2028-01-10"), profile, by_id(versions, "tt52-2025"))
    expected = {
        # (vaccine, dose): (due, session, status)
        ("hepb0", "mũi sơ sinh"): ("2027-12-31", None, "catch_up"),  # last day 01/01
        # "within the first month" is the timing; the target group is under one year, so
        # BCG is at the next session even though it is after 30/01
        ("bcg", "1 mũi"): ("2027-12-31", "2028-02-05", "due_now"),
        ("dtp-hepb-hib", "mũi 1"): ("2028-02-29", "2028-03-05", "planned"),  # 2 months: 29 Feb
        ("rota", "lần 1"): ("2028-02-29", "2028-03-05", "planned"),
        # 3 months is 31/03, but 28 days after the 05/03 session is 02/04
        ("dtp-hepb-hib", "mũi 2"): ("2028-04-02", "2028-04-05", "planned"),
        ("rota", "lần 2"): ("2028-04-02", "2028-04-05", "planned"),  # before 29/06: fine
        ("dtp-hepb-hib", "mũi 3"): ("2028-05-03", "2028-05-05", "planned"),
        ("ipv", "mũi 1"): ("2028-05-31", "2028-06-05", "planned"),
        ("td", "nhắc lại"): ("2034-12-31", None, "planned"),  # at school, no session
    }
    for (vaccine, label), (due, session, status) in expected.items():
        got = dose(result, vaccine, label)
        assert (got.due, got.session, got.status) == (
            D(due),
            D(session) if session else None,
            status,
        ), (vaccine, label)
    assert dose(result, "rota", "lần 1").deadline == D("2028-06-29")
    assert [d.due for d in result.doses] == sorted(d.due for d in result.doses)
    assert len(result.notes) == 3 and "24 giờ" in result.notes[0]
    # JE mũi 1 on 05/01/2029, mũi 2 recommended by 19/01 but the next session is 05/02
    assert "19/01/2029" in result.notes[1] and "05/02/2029" in result.notes[1]
    # JE mũi 3 is due 05/02/2030, in Tết: the session moves to March, and the letter says so
    assert result.notes[2] == (
        "Buổi tiêm ngày 05/02/2030 trùng dịp nghỉ Tết Nguyên đán nên cháu được hẹn sang "
        "ngày 05/03/2030."
    )
    bcg, first = result.visits[:2]
    assert (bcg.session, bcg.where, bcg.status) == (D("2028-02-05"), "", "due_now")
    assert first.label == "2 tháng tuổi"
    assert first.vaccines_text == "5 trong 1 (mũi 1), bại liệt uống (lần 1), Rota (lần 1)"
    assert (first.due, first.session, first.status) == (D("2028-02-29"), D("2028-03-05"), "planned")
    assert result.version_id == "tt52-2025"
    assert result.legal_basis == "Thông tư 52/2025/TT-BYT"


def test_leap_day_birth_non_leap_anniversary(tmp_path, versions):
    profile = make_profile(tmp_path, days=(1,))
    result = child_schedule(D("2028-02-29"), D("2028-03-01"), profile, by_id(versions, "tt52-2025"))
    assert dose(result, "je", "mũi 1").due == D("2029-02-28")  # 12 months: 28 Feb 2029
    assert dose(result, "td", "nhắc lại").due == D("2035-02-28")


@pytest.mark.parametrize(
    ("rule", "bcg_session", "bcg_status", "two_month_session"),
    [
        # Sessions 5 and 6 Feb 2027 fall in Tết (4–10 Feb): the next session day is 05/03,
        # after BCG's first month, but within its target group (under one year) ...
        ("next_session", "2027-03-05", "due_now", "2027-04-05"),
        # ... or the next working day after Tết, Thursday 11/02.
        ("next_working_day", "2027-02-11", "due_now", "2027-04-05"),
    ],
)
def test_birth_just_before_tet(
    tmp_path, versions, rule, bcg_session, bcg_status, two_month_session
):
    profile = make_profile(tmp_path, rule=rule)
    result = child_schedule(D("2027-02-03"), D("2027-02-04"), profile, by_id(versions, "tt52-2025"))
    bcg = dose(result, "bcg", "1 mũi")
    session = D(bcg_session) if bcg_session else None
    assert (bcg.session, bcg.status, bcg.deadline) == (session, bcg_status, None)
    assert bcg.latest == D("2028-02-02")  # the day before the first birthday
    assert dose(result, "dtp-hepb-hib", "mũi 1").session == D(two_month_session)
    hepb = dose(result, "hepb0", "mũi sơ sinh")  # letter the day after birth: still in 24 h
    assert (hepb.status, hepb.session) == ("due_now", None)


def test_two_month_dose_in_tet_moves(tmp_path, versions):
    """Born 04/12/2026: 2 months is 04/02/2027, the eve of Tết's holidays."""
    version = by_id(versions, "tt52-2025")
    for rule, session in (("next_session", "2027-03-05"), ("next_working_day", "2027-02-11")):
        profile = make_profile(tmp_path, rule=rule)
        result = child_schedule(D("2026-12-04"), D("2026-12-20"), profile, version)
        got = dose(result, "dtp-hepb-hib", "mũi 1")
        assert (got.due, got.session) == (D("2027-02-04"), D(session)), rule


def test_weekday_sessions(tmp_path, versions):
    """Every Wednesday; born Tue 01/09/2026, letter Fri 11/09/2026."""
    profile = make_profile(tmp_path, days=(), weekdays=("wednesday",))
    result = child_schedule(D("2026-09-01"), D("2026-09-11"), profile, by_id(versions, "tt52-2025"))
    bcg = dose(result, "bcg", "1 mũi")
    assert (bcg.status, bcg.session) == ("due_now", D("2026-09-16"))
    first = dose(result, "dtp-hepb-hib", "mũi 1")
    assert (first.due, first.session) == (D("2026-11-01"), D("2026-11-04"))
    # 3 months is 01/12, but 28 days after the 04/11 session is 02/12 (a Wednesday)
    second = dose(result, "dtp-hepb-hib", "mũi 2")
    assert (second.due, second.session) == (D("2026-12-02"), D("2026-12-02"))
    assert result.visits[0].status == "due_now"
    assert result.visits[0].label == "Cần tiêm ngay (trong tháng đầu sau sinh)"


def test_late_registration(tmp_path, versions):
    """Born 10/05/2026, registered late: letter 27/11/2026, sessions on the 5th and 6th."""
    profile = make_profile(tmp_path)
    result = child_schedule(D("2026-05-10"), D("2026-11-27"), profile, by_id(versions, "tt52-2025"))
    expected = {
        ("hepb0", "mũi sơ sinh"): ("2026-05-10", None, "catch_up"),
        ("bcg", "1 mũi"): ("2026-05-10", "2026-12-05", "due_now"),  # under 1: still given
        ("dtp-hepb-hib", "mũi 1"): ("2026-07-10", "2026-12-05", "due_now"),
        ("bopv", "lần 1"): ("2026-07-10", "2026-12-05", "due_now"),
        ("rota", "lần 1"): ("2026-07-10", None, "catch_up"),  # must be done before 09/11
        ("ipv", "mũi 1"): ("2026-10-10", "2026-12-05", "due_now"),
        # 28 days after the 05/12 catch-up session
        ("dtp-hepb-hib", "mũi 2"): ("2027-01-02", "2027-01-05", "planned"),
        # 28 days after 05/01 is 02/02; 5 and 6 Feb 2027 are Tết
        ("dtp-hepb-hib", "mũi 3"): ("2027-02-02", "2027-03-05", "planned"),
        ("ipv", "mũi 2"): ("2027-02-10", "2027-03-05", "planned"),
        ("measles", "mũi 1"): ("2027-02-10", "2027-03-05", "planned"),
    }
    for (vaccine, label), (due, session, status) in expected.items():
        got = dose(result, vaccine, label)
        assert (got.due, got.session, got.status) == (
            D(due),
            D(session) if session else None,
            status,
        ), (vaccine, label)
    assert dose(result, "rota", "lần 2").status == "catch_up"
    # HepB's own note; one sentence for Rota (no "đã quá hạn" list); JE mũi 2 after its
    # 1–2 weeks; Tết moving the February session to March
    assert len(result.notes) == 4
    assert result.notes[1].startswith("Nếu cháu chưa được tiêm các mũi Rota, gia đình")
    assert "Trạm Y tế xã Ngãi Giao" in result.notes[1] and "tiêm bù" in result.notes[1]
    assert not [n for n in result.notes if "quá hạn" in n]
    first, second, third = result.visits[:3]
    assert first.status == "due_now" and first.label == "Cần tiêm ngay"
    # due from its latest dose, IPV mũi 1 at 5 months
    assert first.session == D("2026-12-05") and first.due == D("2026-10-10")
    assert first.vaccines_text == (
        "lao BCG (1 mũi), 5 trong 1 (mũi 1), bại liệt uống (lần 1), bại liệt tiêm IPV (mũi 1)"
    )
    assert (second.label, second.session) == ("3 tháng tuổi", D("2027-01-05"))
    assert third.label == "4 tháng tuổi / 9 tháng tuổi"
    missed = [d for d in result.doses if d.status == "catch_up"]
    assert not [d for v in result.visits for d in v.doses if d in missed]


@pytest.mark.parametrize(
    ("version_id", "visits"),
    [("tt38-2017", 9), ("tt10-2024", 10), ("tt52-2025", 10)],
)
def test_on_time_letter_fits_one_page(tmp_path, versions, version_id, visits):
    profile = make_profile(tmp_path)
    result = child_schedule(D("2026-11-10"), D("2026-11-27"), profile, by_id(versions, version_id))
    assert len(result.visits) == visits
    assert result.visits[0].status == "due_now"
    later = [v.session or v.due for v in result.visits[1:]]
    assert later == sorted(later)


def test_tt38_child_gets_no_rotavirus_when_forced(tmp_path, versions):
    profile = make_profile(tmp_path)
    result = child_schedule(D("2024-07-01"), D("2024-07-31"), profile, by_id(versions, "tt38-2017"))
    assert result.version_id == "tt38-2017"
    assert not [d for d in result.doses if d.vaccine in ("rota", "td")]
    assert {d.version for d in result.doses} == {"tt38-2017"}


def test_each_dose_follows_the_version_in_force_when_it_falls_due(tmp_path, versions):
    """Born 01/07/2024, letter 31/07/2024 (TT 38/2017): TT 10/2024 starts on 01/08/2024.

    The doses falling due from 01/08/2024 are TT 10/2024's, so the child gets rotavirus,
    IPV mũi 2 and the Td booster at 7 years, which TT 38/2017 does not have.
    """
    profile = make_profile(tmp_path)
    version = version_for(D("2024-07-31"), versions)
    result = child_schedule(D("2024-07-01"), D("2024-07-31"), profile, version)
    assert result.version_id == "tt38-2017"
    assert dose(result, "bcg", "1 mũi").version == "tt38-2017"  # falls due at birth
    assert dose(result, "rota", "lần 1").version == "tt10-2024"
    assert dose(result, "ipv", "mũi 2").version == "tt10-2024"
    td = dose(result, "td", "nhắc lại")
    assert (td.version, td.falls_due, td.where) == ("tt13-2026", D("2031-07-01"), "tại trường")
    # the printed legal basis is true on the letter date, and names the later versions
    assert result.legal_basis == (
        "Thông tư 38/2017/TT-BYT; từ 01/08/2024: Thông tư 10/2024/TT-BYT; "
        "từ 01/07/2026: Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế"
    )
    assert result.versions == ("tt38-2017", "tt10-2024", "tt13-2026")


LOCAL = """
[[local_vaccines]]
vaccine = "pcv"
name = "Phế cầu (thí điểm của tỉnh)"
short_name = "phế cầu"
dose = "mũi 1"
age = "2 months"
age_label = "2 tháng tuổi"

[[local_vaccines]]
vaccine = "measles"
name = "Sởi"
short_name = "sởi"
dose = "mũi 1"
age = "10 months"
age_label = "10 tháng tuổi"
confidence = "S"
"""


def test_profile_local_vaccines_append_and_override(tmp_path, versions):
    profile = make_profile(tmp_path, extra=LOCAL)
    assert [r.key for r in profile.local_vaccines] == [("pcv", "mũi 1"), ("measles", "mũi 1")]
    assert profile.local_vaccines[0].confidence == "U"  # a local row is unverified by default
    result = child_schedule(D("2027-12-31"), D("2028-01-10"), profile, by_id(versions, "tt52-2025"))
    pcv = dose(result, "pcv", "mũi 1")
    assert (pcv.due, pcv.session, pcv.local) == (D("2028-02-29"), D("2028-03-05"), True)
    assert result.visits[1].vaccines_text.endswith(", phế cầu (mũi 1)")
    measles = [d for d in result.doses if d.vaccine == "measles"]
    assert len(measles) == 1 and measles[0].due == D("2028-10-31") and measles[0].local


def test_profile_rejects_a_broken_local_vaccine(tmp_path):
    with pytest.raises(ProfileError, match="local_vaccines"):
        make_profile(tmp_path, extra=LOCAL.replace('age = "2 months"', 'age = "2 tháng"'))


def test_demo_profile_still_loads():
    profile = load_profile()
    assert profile.local_vaccines == ()
    assert profile.sessions.days_of_month == (5, 6)
    assert profile.agency_lines == ("ỦY BAN NHÂN DÂN", "XÃ NGÃI GIAO")


def test_letter_date_is_passed_in_not_read(tmp_path, versions):
    profile = make_profile(tmp_path)
    version = by_id(versions, "tt10-2024")
    one = child_schedule(D("2025-03-01"), D("2025-03-20"), profile, version)
    two = child_schedule(D("2025-03-01"), D("2025-03-20"), profile, version)
    assert one == two
    assert isinstance(Path(version.path), Path)


def test_profile_rejects_a_repeated_local_vaccine(tmp_path):
    with pytest.raises(ProfileError, match="trùng"):
        make_profile(tmp_path, extra=LOCAL + LOCAL)
