"""Context values shared by letters (made once, not per letter) stay each letter's own."""

from __future__ import annotations

import dataclasses
from datetime import date

from cchc_letters.enrich import letter_context
from cchc_letters.models import Kind
from cchc_letters.profile import load_profile
from cchc_letters.schedule import child_schedule, load_versions, version_for
from cchc_letters.variables import sample_registration

LETTER_DATE = date(2026, 11, 27)


def _born(registration, day: date):
    return dataclasses.replace(
        registration, child=dataclasses.replace(registration.child, birth_date=day)
    )


def test_children_born_on_different_days_get_their_own_schedule_table():
    profile = load_profile(None)
    version = version_for(LETTER_DATE, load_versions(), None)
    sample = sample_registration(Kind.BIRTH, LETTER_DATE)
    days = [date(2026, 11, 1), date(2026, 5, 20), date(2026, 11, 1)]
    tables = [
        letter_context(_born(sample, day), profile, LETTER_DATE, version)["schedule"]
        for day in days
    ]
    for day, table in zip(days, tables, strict=True):
        plan = child_schedule(day, LETTER_DATE, profile, version)
        assert [v["due"] for v in table["visits"]] == [v.due for v in plan.visits]
        assert [v["session"] for v in table["visits"]] == [v.session for v in plan.visits]
        assert table["notes"] == list(plan.notes)
    assert [v["due"] for v in tables[0]["visits"]] != [v["due"] for v in tables[1]["visits"]]
    assert tables[2] == tables[0]


def test_the_values_taken_from_the_profile_follow_the_profile():
    profile = load_profile(None)
    other = dataclasses.replace(
        profile,
        signer_name="Trần Văn Ký",
        commune_name="Xã Khác",
        agency_lines=("ỦY BAN NHÂN DÂN", "XÃ KHÁC"),
        health_station=dataclasses.replace(profile.health_station, name="Trạm Y tế xã Khác"),
    )
    version = version_for(LETTER_DATE, load_versions(), None)
    sample = sample_registration(Kind.BIRTH, LETTER_DATE)
    seen = [letter_context(sample, p, LETTER_DATE, version) for p in (profile, other, profile)]
    assert [c["signer"]["name"] for c in seen] == [
        profile.signer_name,
        "Trần Văn Ký",
        profile.signer_name,
    ]
    assert [c["commune"]["name"] for c in seen] == [profile.commune_name, "Xã Khác"] + [
        profile.commune_name
    ]
    assert seen[1]["header"]["agency_lines"] == ["ỦY BAN NHÂN DÂN", "XÃ KHÁC"]
    assert seen[1]["station"]["name"] == "Trạm Y tế xã Khác"
    assert seen[2]["station"]["name"] == profile.health_station.name != "Trạm Y tế xã Khác"
