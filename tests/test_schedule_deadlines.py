"""Reviewer's defects in the printed schedule, with dates worked out by hand.

Demo profile: sessions on the 5th and 6th of each month, holiday rule "next_session".
"""

from __future__ import annotations

from datetime import date

import pytest

from cchc_letters.profile import load_profile
from cchc_letters.schedule import (
    AT_BIRTH_PLACE,
    CONTACT_STATION,
    child_schedule,
    load_versions,
    version_for,
)

D = date.fromisoformat


@pytest.fixture(scope="module")
def tt52():
    return version_for(D("2026-11-27"), load_versions())


def dose(result, vaccine, label):
    (found,) = [d for d in result.doses if d.vaccine == vaccine and d.dose == label]
    return found


def test_bcg_first_month_is_its_timing_not_a_deadline(tt52):
    """Born 31/10/2026, letter 27/11/2026: the next session 05/12/2026 is after the first
    month, but BCG's target group is children under one: it is simply at that session."""
    result = child_schedule(D("2026-10-31"), D("2026-11-27"), load_profile(), tt52)
    bcg = dose(result, "bcg", "1 mũi")
    assert (bcg.status, bcg.session, bcg.deadline) == ("due_now", D("2026-12-05"), None)
    assert (bcg.where, bcg.latest, bcg.target_group) == ("", D("2027-10-30"), "trẻ dưới 1 tuổi")
    assert not [n for n in result.notes if "BCG" in n]
    first = result.visits[0]
    assert (first.status, first.session, first.where) == ("due_now", D("2026-12-05"), "")
    assert first.label == "Cần tiêm ngay (trong tháng đầu sau sinh)"
    # the HepB birth dose (last day 01/11) has passed: no date, with its own note
    assert dose(result, "hepb0", "mũi sơ sinh").status == "catch_up"


def test_eight_week_old_is_offered_bcg_at_the_next_session_not_told_it_is_overdue(tt52):
    """The issue's case: registered at eight weeks (born 02/10/2026, letter 27/11/2026)."""
    result = child_schedule(D("2026-10-02"), D("2026-11-27"), load_profile(), tt52)
    bcg = dose(result, "bcg", "1 mũi")
    assert (bcg.status, bcg.session) == ("due_now", D("2026-12-05"))
    assert not [n for n in result.notes if "quá hạn" in n or "BCG" in n]
    assert bcg in result.visits[0].doses


def test_birth_dose_within_24_hours_is_at_the_birth_place(tt52):
    result = child_schedule(D("2026-10-31"), D("2026-11-01"), load_profile(), tt52)
    hepb = dose(result, "hepb0", "mũi sơ sinh")
    assert (hepb.status, hepb.session, hepb.where) == ("due_now", None, AT_BIRTH_PLACE)
    (visit,) = [v for v in result.visits if hepb in v.doses]
    assert visit.where == AT_BIRTH_PLACE and visit.doses == (hepb,)  # not grouped with BCG
    bcg = dose(result, "bcg", "1 mũi")  # the 05/11 session is before its last day 29/11
    assert (bcg.status, bcg.session, bcg.where) == ("due_now", D("2026-11-05"), "")


def test_a_passed_deadline_gets_one_kind_sentence_not_a_list_of_qua_han(tt52):
    """Born 01/05/2026, letter 27/11/2026: rotavirus had to be finished before 01/11/2026."""
    result = child_schedule(D("2026-05-01"), D("2026-11-27"), load_profile(), tt52)
    for label in ("lần 1", "lần 2"):
        rota = dose(result, "rota", label)
        assert (rota.status, rota.session, rota.where) == ("catch_up", None, "")
        assert "tiêm bù" in rota.why[-1]
    (note,) = [n for n in result.notes if "Rota" in n]
    assert note == (
        "Nếu cháu chưa được tiêm các mũi Rota, gia đình vui lòng đưa cháu cùng sổ tiêm chủng "
        "đến Trạm Y tế xã Ngãi Giao để được tư vấn tiêm bù."
    )
    assert not [n for n in result.notes if "quá hạn" in n]


def test_session_visit_has_no_where(tt52):
    result = child_schedule(D("2026-10-31"), D("2026-11-27"), load_profile(), tt52)
    assert all(v.where == "" for v in result.visits if v.session is not None)


def test_grouped_visit_is_due_from_its_latest_dose(tt52):
    """Born 31/10/2026: 5 trong 1 mũi 2 at the 05/03/2027 session, so mũi 3 is due 28 days
    later, 02/04/2027; IPV mũi 1 is due at 5 months, 31/03/2027. Both go to the 05/04/2027
    session, and the visit reads "từ 02/04/2027" (not 31/03, when mũi 3 cannot be given)."""
    result = child_schedule(D("2026-10-31"), D("2026-11-27"), load_profile(), tt52)
    assert dose(result, "dtp-hepb-hib", "mũi 3").due == D("2027-04-02")
    assert dose(result, "ipv", "mũi 1").due == D("2027-03-31")
    (visit,) = [v for v in result.visits if v.label == "4 tháng tuổi / 5 tháng tuổi"]
    assert (visit.due, visit.session) == (D("2027-04-02"), D("2027-04-05"))
    for v in result.visits:
        assert v.due == max(d.due for d in v.doses)
        assert v.session is None or v.session >= v.due


def test_je_dose_2_after_its_window_is_noted_once(tt52):
    """Born 31/10/2026: JE mũi 1 at 12 months, 31/10/2027 -> session 05/11/2027; mũi 2 from
    12/11/2027 (7 days), recommended by 19/11/2027 (14 days), but the next session day is
    05/12/2027: kept there, with one note giving the window."""
    result = child_schedule(D("2026-10-31"), D("2026-11-27"), load_profile(), tt52)
    assert dose(result, "je", "mũi 1").session == D("2027-11-05")
    je2 = dose(result, "je", "mũi 2")
    assert (je2.due, je2.session, je2.status) == (D("2027-11-12"), D("2027-12-05"), "planned")
    (note,) = [n for n in result.notes if "Nhật Bản" in n]
    assert note == (
        "Viêm não Nhật Bản (mũi 2): nên tiêm trong khoảng 12/11/2027 – 19/11/2027 "
        "(1–2 tuần sau mũi 1), nhưng buổi tiêm định kỳ tiếp theo là ngày 05/12/2027; "
        "gia đình hỏi trạm y tế để được hẹn tiêm sớm hơn."
    )


def test_je_dose_2_within_its_window_has_no_note(tmp_path, tt52):
    """Weekly sessions (Wednesday): JE mũi 2 falls 7 days after mũi 1, inside 1–2 weeks."""
    from test_schedule import make_profile

    profile = make_profile(tmp_path, days=(), weekdays=("wednesday",))
    result = child_schedule(D("2026-10-31"), D("2026-11-27"), profile, tt52)
    je1, je2 = dose(result, "je", "mũi 1"), dose(result, "je", "mũi 2")
    assert (je1.session, je2.session) == (D("2027-11-03"), D("2027-11-10"))
    assert not [n for n in result.notes if "Nhật Bản" in n]


def test_max_interval_is_data(tt52):
    (row,) = [r for r in tt52.rows if r.key == ("je", "mũi 2")]
    assert (str(row.min_interval), str(row.max_interval)) == ("7 days", "14 days")


@pytest.mark.parametrize("version_id", ["tt38-2017", "tt10-2024", "tt52-2025"])
@pytest.mark.parametrize(
    ("dob", "letter"), [("2026-10-31", "2026-11-01"), ("2026-05-10", "2026-11-27")]
)
def test_labels_and_vaccine_text_read_well(version_id, dob, letter):
    version = version_for(D("2000-01-01"), load_versions(), version_id)
    result = child_schedule(D(dob), D(letter), load_profile(), version)
    for visit in result.visits:
        assert visit.label[:1].isupper() or visit.label[:1].isdigit(), visit.label
        if visit.status == "due_now" and "(" in visit.label:
            assert visit.label.startswith("Cần tiêm ngay (")
            assert not visit.label[len("Cần tiêm ngay (")].isupper()
        assert ") (" not in visit.vaccines_text, visit.vaccines_text  # "lao (BCG) (1 mũi)"
        for item in visit.vaccines_text.split(", "):
            name = item.rsplit(" (", 1)[0]
            assert name.lower() not in item.rsplit(" (", 1)[1], (
                item
            )  # "viêm gan B sơ sinh (mũi sơ sinh)"
    assert not [n for n in result.notes if ") (" in n]


def test_birth_day_visit_texts(tt52):
    result = child_schedule(D("2026-10-31"), D("2026-11-01"), load_profile(), tt52)
    assert [(v.label, v.vaccines_text) for v in result.visits[:2]] == [
        ("Cần tiêm ngay (trong 24 giờ sau sinh)", "viêm gan B (mũi sơ sinh)"),
        ("Cần tiêm ngay (trong tháng đầu sau sinh)", "lao BCG (1 mũi)"),
    ]


def test_due_now_label_keeps_an_acronym(tmp_path, tt52):
    from test_schedule import make_profile

    extra = (
        '[[local_vaccines]]\nvaccine = "bcg"\nname = "Lao (BCG)"\nshort_name = "lao BCG"\n'
        'dose = "1 mũi"\nage = "0 days"\nage_label = "BCG sơ sinh"\n'
    )
    profile = make_profile(tmp_path, extra=extra)
    result = child_schedule(D("2026-10-31"), D("2026-11-02"), profile, tt52)
    assert result.visits[0].label == "Cần tiêm ngay (BCG sơ sinh)"


def test_late_rotavirus_contact_then_too_late(tt52):
    """Born 20/05/2026, letter 10/11/2026: Rota's last day is 19/11/2026 and the next session
    is 05/12/2026. Lần 1 is still in time (contact the station); lần 2, at least 28 days
    after lần 1 (given by 19/11 at the latest), cannot be given before the deadline."""
    result = child_schedule(D("2026-05-20"), D("2026-11-10"), load_profile(), tt52)
    rota1, rota2 = dose(result, "rota", "lần 1"), dose(result, "rota", "lần 2")
    assert (rota1.status, rota1.session, rota1.where) == ("due_now", None, CONTACT_STATION)
    assert (rota2.status, rota2.due) == ("catch_up", D("2026-12-17"))
    assert [n for n in result.notes if n.startswith("Rota")] == [
        "Rota (lần 1): cần tiêm chậm nhất ngày 19/11/2026, trước buổi tiêm định kỳ tiếp theo"
        " — gia đình liên hệ ngay trạm y tế để được tiêm."
    ]
    # lần 2 (only) is in the one catch-up sentence, by its dose since lần 1 has a date
    (catch_up,) = [n for n in result.notes if "tiêm bù" in n]
    assert catch_up.startswith("Nếu cháu chưa được tiêm mũi Rota (lần 2), gia đình")


def test_contact_station_dose_not_yet_due_is_planned(tmp_path, tt52):
    """A local dose due at 10 days, before 20 days: born 10/11/2026, letter 11/11/2026; due
    20/11, last day 29/11, next session 05/12: planned, no session, contact the station."""
    from test_schedule import make_profile

    extra = (
        '[[local_vaccines]]\nvaccine = "x"\nname = "Thử"\nshort_name = "thử"\n'
        'dose = "mũi 1"\nage = "10 days"\nage_label = "10 ngày tuổi"\ndeadline = "20 days"\n'
    )
    profile = make_profile(tmp_path, extra=extra)
    result = child_schedule(D("2026-11-10"), D("2026-11-11"), profile, tt52)
    x = dose(result, "x", "mũi 1")
    assert (x.status, x.session, x.where, x.due) == (
        "planned",
        None,
        CONTACT_STATION,
        D("2026-11-20"),
    )
    assert (
        "Thử (mũi 1): cần tiêm từ ngày 20/11/2026 và chậm nhất ngày 29/11/2026, trước buổi "
        "tiêm định kỳ tiếp theo — gia đình liên hệ ngay trạm y tế để được tiêm."
    ) in result.notes
    (visit,) = [v for v in result.visits if x in v.doses]
    assert (visit.label, visit.where, visit.status) == ("10 ngày tuổi", CONTACT_STATION, "planned")
