"""The memos of pure text functions (cchc_letters.memo): one value per distinct text,
never another text's, bounded, and nothing kept for a text that raised."""

from __future__ import annotations

from datetime import date

import pytest

from cchc_letters.memo import TextMemo


def test_each_text_gets_its_own_value_also_after_the_memo_starts_afresh() -> None:
    calls: list[str] = []

    def compute(text: str) -> str:
        calls.append(text)
        return text.upper()

    memo = TextMemo(compute, size=3)
    texts = ["nam", "nữ", "Nam", "nam ", "NAM", "nữ", "nam"]
    assert [memo[t] for t in texts] == [t.upper() for t in texts]
    assert len(memo) <= 3
    assert calls.count("nữ") <= 2 and "nam " in calls  # near-equal texts are not one key


def test_a_text_that_raises_is_not_kept() -> None:
    def compute(text: str) -> int:
        if not text.isdigit():
            raise ValueError(text)
        return int(text)

    memo = TextMemo(compute)
    with pytest.raises(ValueError):
        memo["x1"]
    assert "x1" not in memo
    assert memo["12"] == 12


def test_memoised_dates_are_each_texts_own() -> None:
    from cchc_letters.validate import DateProblem, parse_date, parse_date_or_year

    assert parse_date("05/02/2026") == date(2026, 2, 5)
    assert parse_date("05/02/2026") == date(2026, 2, 5)  # from the memo
    assert parse_date("2026-02-05") == date(2026, 2, 5)
    assert parse_date("02/05/2026") == date(2026, 5, 2)  # day first, not the memo's 5 Feb
    for _ in range(2):  # an impossible date stays impossible when asked again
        with pytest.raises(DateProblem) as raised:
            parse_date("30/02/2026")
        assert raised.value.impossible
    assert parse_date_or_year("1996") == (None, 1996)
    assert parse_date_or_year("05/02/1996") == (date(1996, 2, 5), None)
    with pytest.raises(DateProblem):
        parse_date_or_year("1700")
