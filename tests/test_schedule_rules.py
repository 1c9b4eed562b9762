"""The issue's cases, worked by hand: target groups, rules between doses, catch-up wording,
versions per dose, TT 13/2026, and local practice from the profile.

Demo profile unless said: sessions on the 5th and 6th, holiday rule "next_session",
weekends kept, at most 4 doses a visit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc_letters.errors import ProfileError
from cchc_letters.profile import default_profile_path, load_profile
from cchc_letters.schedule import AT_SCHOOL, child_schedule, load_versions, version_for

D = date.fromisoformat
VERSIONS = load_versions()


def plan(dob: str, letter: str, profile=None, version_id: str | None = None):
    on = D(letter)
    version = version_for(on, VERSIONS, version_id)
    return child_schedule(D(dob), on, profile or load_profile(), version)


def dose(result, vaccine: str, label: str):
    (found,) = [d for d in result.doses if (d.vaccine, d.dose) == (vaccine, label)]
    return found


def profile_with(tmp_path: Path, **replace: str):
    """Return the demo profile with lines replaced (keyword = the old line's key)."""
    text = default_profile_path().read_text(encoding="utf-8")
    for key, line in replace.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        text = text.replace(old, line, 1)
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


# ---- the 20-month-old of the issue --------------------------------------------------------


def test_twenty_month_old_is_not_told_to_bring_seven_vaccines_at_once():
    """Born 20/03/2025, letter 27/11/2026: main planned seven doses on 05/12/2026, measles
    and MR together, and the DPT booster before the third 5-in-1 dose."""
    result = plan("2025-03-20", "2026-11-27")
    on_first = [d for d in result.doses if d.session == D("2026-12-05")]
    assert [(d.vaccine, d.dose) for d in on_first] == [("je", "mũi 1")]
    # past their target group (under one): no invented date
    for vaccine, label in (("bcg", "1 mũi"), ("dtp-hepb-hib", "mũi 3"), ("measles", "mũi 1")):
        assert dose(result, vaccine, label).status == "catch_up"
        assert dose(result, vaccine, label).session is None
    # MR and the DPT booster follow doses that have no date: no date either
    assert dose(result, "mr", "mũi 1").status == "catch_up"
    assert dose(result, "dtp", "nhắc lại").status == "catch_up"
    (sentence,) = [n for n in result.notes if "tiêm bù" in n]
    assert sentence == (
        "Nếu cháu chưa được tiêm các mũi lao BCG, 5 trong 1, bại liệt uống, Rota, bại liệt "
        "tiêm IPV, sởi, sởi – rubella và DPT, gia đình vui lòng đưa cháu cùng sổ tiêm chủng "
        "đến Trạm Y tế xã Ngãi Giao để được tư vấn tiêm bù."
    )
    assert not [n for n in result.notes if "quá hạn" in n]


def test_booster_only_after_its_primary_series_and_six_months():
    """Born 10/01/2026 on time: 5-in-1 mũi 3 at 05/05/2026, booster at 18 months."""
    result = plan("2026-01-10", "2026-01-20")
    third = dose(result, "dtp-hepb-hib", "mũi 3")
    booster = dose(result, "dtp", "nhắc lại")
    assert booster.session >= third.session
    assert any("sau 5 trong 1 (mũi 3) ít nhất 6 tháng" in why for why in booster.why)
    mr, measles = dose(result, "mr", "mũi 1"), dose(result, "measles", "mũi 1")
    assert any("sau sởi (mũi 1) ít nhất 4 tuần" in why for why in mr.why)
    assert mr.session > measles.session


def test_rules_between_series_set_the_date_when_they_bind(tmp_path):
    """A province giving MR at 9 months (a [[local_vaccines]] override): measles mũi 1 and
    MR are never in one visit and MR comes at least 28 days after measles."""
    extra = """
[[local_vaccines]]
vaccine = "mr"
name = "Sởi – Rubella (MR)"
short_name = "sởi – rubella"
dose = "mũi 1"
age = "9 months"
age_label = "9 tháng tuổi"
antigens = ["measles", "rubella"]
live = true
target_until = "2 years"
after = [{ vaccine = "measles", dose = "mũi 1", min_interval = "28 days" }]
"""
    text = default_profile_path().read_text(encoding="utf-8") + extra
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    result = plan("2026-01-10", "2026-01-20", load_profile(path))
    measles, mr = dose(result, "measles", "mũi 1"), dose(result, "mr", "mũi 1")
    assert measles.session == D("2026-11-05")  # 9 months is 10/10: the next session 05/11
    assert mr.due == D("2026-12-03")  # 28 days after 05/11
    assert mr.session == D("2026-12-05")


# ---- catch-up: one kind sentence, at most N doses a visit -------------------------------


def test_max_doses_per_visit_is_a_setting_and_what_moves_is_said(tmp_path):
    """Born 10/05/2026, letter 27/11/2026: BCG, 5-in-1, OPV and IPV are all due now."""
    assert load_profile().local_schedule.max_doses_per_visit == 4
    result = plan("2026-05-10", "2026-11-27")
    assert len(result.visits[0].doses) == 4  # the default lets the four be given together
    two = profile_with(tmp_path, max_doses_per_visit="max_doses_per_visit = 2")
    result = plan("2026-05-10", "2026-11-27", two)
    first = result.visits[0]
    assert first.session == D("2026-12-05") and len(first.doses) == 2
    moved = [d for d in result.doses if d.postponed == "cap"]
    assert [(d.vaccine, d.dose, d.session) for d in moved] == [
        ("bopv", "lần 1", D("2026-12-06")),
        ("ipv", "mũi 1", D("2026-12-06")),
        # 05/03/2027 holds 5-in-1 mũi 3 and OPV lần 3: IPV mũi 2 and measles go to 06/03
        ("ipv", "mũi 2", D("2027-03-06")),
        ("measles", "mũi 1", D("2027-03-06")),
    ]
    (note,) = [n for n in result.notes if "quá 2 mũi" in n]
    assert note == (
        "Để mỗi buổi không quá 2 mũi, các mũi sau được hẹn sang buổi sau: bại liệt uống "
        "(lần 1) ngày 06/12/2026, bại liệt tiêm IPV (mũi 1) ngày 06/12/2026, bại liệt tiêm "
        "IPV (mũi 2) ngày 06/03/2027 và sởi (mũi 1) ngày 06/03/2027."
    )
    one = plan("2026-06-20", "2026-11-27")  # BCG, 5-in-1, OPV, Rota due now; IPV the fifth
    (note,) = [n for n in one.notes if "quá 4 mũi" in n]
    assert (
        note
        == "Để mỗi buổi không quá 4 mũi, bại liệt tiêm IPV (mũi 1) được hẹn sang ngày 06/12/2026."
    )
    assert all(len(v.doses) <= 2 for v in result.visits if v.session)


def test_catch_up_sentence_is_the_profiles_when_it_gives_one(tmp_path):
    own = profile_with(
        tmp_path,
        catch_up_note='catch_up_note = "Mời gia đình đến {station} để hỏi về {vaccines}."',
    )
    result = plan("2026-05-01", "2026-11-27", own)
    assert "Mời gia đình đến Trạm Y tế xã Ngãi Giao để hỏi về các mũi Rota." in result.notes


# ---- versions: per dose, TT 13/2026 --------------------------------------------------------


def test_letter_dated_27_11_2026_cites_tt13_not_the_repealed_tt52():
    result = plan("2026-11-10", "2026-11-27")
    assert result.version_id == "tt13-2026"
    assert result.legal_basis == "Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế"
    assert "52/2025" not in result.legal_basis
    tt52 = next(v for v in VERSIONS if v.id == "tt52-2025")
    assert tt52.valid_to == D("2026-06-30")


def test_letter_before_tt13_names_it_for_the_doses_falling_due_after():
    """Born 20/06/2026, letter 25/06/2026: the 2-month doses fall due under TT 13/2026."""
    result = plan("2026-06-20", "2026-06-25")
    assert result.version_id == "tt52-2025"
    assert dose(result, "bcg", "1 mũi").version == "tt52-2025"
    assert dose(result, "dtp-hepb-hib", "mũi 1").version == "tt13-2026"
    assert result.legal_basis == (
        "Thông tư 52/2025/TT-BYT; từ 01/07/2026: Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế"
    )


def test_child_born_late_july_2024_gets_the_td_booster_of_the_new_circular():
    """Born 25/07/2024, letter 30/07/2024 (TT 38/2017, which has no Td at 7 years)."""
    result = plan("2024-07-25", "2024-07-30")
    assert result.version_id == "tt38-2017"
    td = dose(result, "td", "nhắc lại")
    assert td.version == "tt13-2026" and td.where == AT_SCHOOL
    assert dose(result, "ipv", "mũi 2").version == "tt10-2024"
    forced = plan("2024-07-25", "2024-07-30", version_id="tt38-2017")  # an officer's choice
    assert not [d for d in forced.doses if d.vaccine == "td"]


# ---- local practice ------------------------------------------------------------------------


def test_a_province_switches_rota_off(tmp_path):
    off = profile_with(tmp_path, switched_off='switched_off = ["rota"]')
    result = plan("2026-11-10", "2026-11-27", off)
    for label in ("lần 1", "lần 2"):
        rota = dose(result, "rota", label)
        assert (rota.status, rota.session) == ("switched_off", None)
    assert not [d for v in result.visits for d in v.doses if d.vaccine == "rota"]
    assert not [n for n in result.notes if "Rota" in n]  # nothing to catch up on
    on = plan("2026-11-10", "2026-11-27")
    assert dose(on, "rota", "lần 1").session is not None


def test_switching_off_one_dose_and_an_unknown_code(tmp_path):
    one = profile_with(tmp_path, switched_off='switched_off = ["rota/lần 2"]')
    result = plan("2026-11-10", "2026-11-27", one)
    assert dose(result, "rota", "lần 1").status == "planned"
    assert dose(result, "rota", "lần 2").status == "switched_off"
    typo = profile_with(tmp_path, switched_off='switched_off = ["rotta"]')
    with pytest.raises(ProfileError, match="rotta"):
        plan("2026-11-10", "2026-11-27", typo)


@pytest.mark.parametrize(
    ("rule", "session"),
    [
        ("keep", "2026-12-05"),  # Saturday 05/12/2026: held that day
        ("next_working_day", "2026-12-07"),  # Monday
        ("previous_working_day", "2026-12-04"),  # Friday, still after the letter date
        ("next_session", "2027-01-05"),  # 05 and 06/12 are a weekend: the next session day
    ],
)
def test_weekend_rule_for_session_days(tmp_path, rule, session):
    profile = profile_with(tmp_path, weekend_rule=f'weekend_rule = "{rule}"')
    result = plan("2026-11-10", "2026-11-27", profile)
    assert dose(result, "bcg", "1 mũi").session == D(session)


def test_tet_moving_a_session_into_the_next_month_is_said():
    """Born 04/12/2026: 2 months is 04/02/2027; 5 and 6 Feb 2027 are Tết holidays."""
    result = plan("2026-12-04", "2026-12-20")
    assert dose(result, "dtp-hepb-hib", "mũi 1").session == D("2027-03-05")
    assert (
        "Buổi tiêm ngày 05/02/2027 trùng dịp nghỉ Tết Nguyên đán nên cháu được hẹn sang "
        "ngày 05/03/2027."
    ) in result.notes
    # a session moved within the same month needs no sentence
    ordinary = plan("2026-10-01", "2026-10-10")
    assert not [n for n in ordinary.notes if "Tết" in n and "/12/2026" in n]


def test_school_campaign_dose_prints_its_age_and_place_not_a_date():
    result = plan("2026-11-10", "2026-11-27")
    td = dose(result, "td", "nhắc lại")
    assert (td.session, td.where, td.age_label) == (None, "tại trường", "7 tuổi")
    (visit,) = [v for v in result.visits if td in v.doses]
    assert (visit.label, visit.session, visit.where) == ("7 tuổi", None, "tại trường")


# ---- the data and its README -------------------------------------------------------------


def test_every_row_keeps_its_source_and_confidence_and_target_groups_are_data():
    import tomllib

    from cchc_letters.schedule import default_schedules_dir

    for path in sorted(default_schedules_dir().glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for row in raw["doses"]:
            assert row.get("source"), (path.name, row["vaccine"], row["dose"])
            assert row.get("confidence") in ("V", "S", "U"), (path.name, row["vaccine"])
    rows = {(r.vaccine, r.dose): r for r in VERSIONS[-1].rows}
    assert str(rows[("bcg", "1 mũi")].target_until) == "1 year"
    assert rows[("bcg", "1 mũi")].deadline is None  # "within one month" is timing only
    assert str(rows[("mr", "mũi 1")].target_until) == "2 years"
    assert [(a.key, str(a.min_interval)) for a in rows[("dtp", "nhắc lại")].after] == [
        (("dtp-hepb-hib", "mũi 3"), "6 months")
    ]
    assert rows[("td", "nhắc lại")].place == "school"


def test_readme_explains_target_groups_intervals_catch_up_and_switching_off():
    from cchc_letters.schedule import default_schedules_dir

    text = (default_schedules_dir() / "README.md").read_text(encoding="utf-8")
    for needed in (
        "target_until",
        "after = [",
        "antigens",
        "max_doses_per_visit",
        'switched_off = ["rota"]',
        "tiêm bù",
        "weekend_rule",
        "tt13-2026.toml",
        "30/06/2026",
    ):
        assert needed in text, needed


def test_the_printed_birth_letter_for_a_late_registration():
    """The default birth letter for the issue's 20-month-old, dated 27/11/2026."""
    import re

    from cchc_letters.enrich import letter_context
    from cchc_letters.models import Birth, Kind, Person, Sex, SourceRef
    from cchc_letters.render import LetterTemplate, template_path

    reg = Birth(
        kind=Kind.BIRTH,
        number="12",
        book="01/2026",
        registration_date=D("2026-11-20"),
        source=SourceRef("t.csv", None, 2),
        child=Person("Hà Văn Sủ", Sex.MALE, birth_date=D("2025-03-20")),
        birth_place=None,
        mother=Person("Hà Thị Mỷ", Sex.FEMALE, birth_year=2001),
        father=Person("Hà Văn Dìn", Sex.MALE, birth_year=1999),
    )
    on = D("2026-11-27")
    context = letter_context(reg, load_profile(), on, version_for(on, VERSIONS))
    xml = LetterTemplate.load(template_path(Kind.BIRTH)).render_body(context)
    text = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
    assert "(Thông tư 13/2026/TT-BYT và hướng dẫn của Bộ Y tế)" in text
    assert "52/2025" not in text and "quá hạn" not in text
    assert "gia đình vui lòng đưa cháu cùng sổ tiêm chủng đến Trạm Y tế xã Ngãi Giao" in text
    # the school dose: its age and "tại trường", no date seven years ahead
    assert "7 tuổiTd (nhắc lại)tại trường" in text
    assert "2032" not in text


def test_school_dose_past_its_target_group_joins_the_catch_up_sentence():
    """Born 01/03/2018, letter 27/11/2026: 8 years old, past "children of 7" for Td."""
    result = plan("2018-03-01", "2026-11-27")
    td = dose(result, "td", "nhắc lại")
    assert (td.version, td.status, td.where) == ("tt10-2024", "catch_up", "")
    assert any("Td" in n and "tiêm bù" in n for n in result.notes)
    at_seven = plan("2019-05-01", "2026-11-27")  # 7 years old: still given at school
    assert dose(at_seven, "td", "nhắc lại").where == AT_SCHOOL


@pytest.mark.parametrize(
    ("key", "line", "message"),
    [
        ("weekend_rule", 'weekend_rule = "saturday"', "weekend_rule"),
        ("max_doses_per_visit", "max_doses_per_visit = 0", "max_doses_per_visit"),
        ("max_doses_per_visit", 'max_doses_per_visit = "4"', "max_doses_per_visit"),
        ("switched_off", 'switched_off = "rota"', "switched_off"),
        ("catch_up_note", "catch_up_note = 3", "catch_up_note"),
    ],
)
def test_local_practice_settings_are_checked(tmp_path, key, line, message):
    with pytest.raises(ProfileError, match=message):
        profile_with(tmp_path, **{key: line})
