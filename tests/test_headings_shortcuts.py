"""The heading reader's shortcuts (issue 17) read every cell as the plain algorithm does.

``_segment`` stops extending a piece that no phrase starts with, and the subject scan looks
only at the phrases naming subjects; here both are compared with the plain versions (every
piece up to the longest phrase, every phrase) on headings and on the data cells a header
search reads, and after ``extend`` adds words (the shortcuts' vocabulary must follow it).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_letters.ingest import headings
from cchc_letters.ingest.headings import SUBJECT, Grammar, _words, load_grammar
from cchc_letters.vietnamese import fold

CELLS = [
    "Họ, chữ đệm, tên người được khai sinh",
    "Ngày, tháng, năm sinh",
    "Họ tên mẹ",
    "hotenme",
    "HoTenCha",
    "Tên khai sinh (ghi theo mẹ)",
    "Nơi cư trú của người yêu cầu",
    "BÊN VỢ",
    "Người mẹ",
    "Giấy báo tử",
    "Số định danh cá nhân của người chết",
    "Nguyễn Văn An",
    "12/03/2026",
    "Ấp Suối Nghệ, xã Ngãi Giao",
    "079206012345",
    "Kinh",
    "Việt Nam",
    "",
    "   ",
    "ba mẹ con cha vợ chồng",
]


def _plain_segment(grammar: Grammar, heading: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """headings._segment without the prefix stop (every piece up to the longest phrase)."""
    words = [fold(w) for w in _words(heading)]
    text = "".join(words)
    if not text or len(text) > 160:
        return ()
    bounds = {0}
    pos = 0
    for w in words:
        pos += len(w)
        bounds.add(pos)
    n = len(text)
    best: list = [None] * (n + 1)
    best[n] = ((0, 0), [()])
    for i in range(n - 1, -1, -1):
        found = None
        for j in range(i + 1, min(n, i + grammar.longest) + 1):
            parts = grammar.phrases.get(text[i:j])
            tail = best[j]
            if not parts or tail is None:
                continue
            inside = (i not in bounds) + (j not in bounds and j != n)
            cost = (tail[0][0] + inside, tail[0][1] + 1)
            options = [((p,) + rest) for p in parts for rest in tail[1]]
            if found is None or cost < found[0]:
                found = (cost, options)
            elif cost == found[0]:
                found[1].extend(options)
        if found is not None:
            found = (found[0], found[1][:32])
        best[i] = found
    return tuple(best[0][1]) if best[0] else ()


def _plain_mentioned(grammar: Grammar, heading: str) -> frozenset[str]:
    """Grammar._mentioned looking up every run of up to six words and every phrase."""
    words = [fold(w) for w in _words(heading)]
    found: set[str] = set()
    for i in range(len(words)):
        run = ""
        for j in range(i, min(len(words), i + 6)):
            run += words[j]
            for part, name in grammar.phrases.get(run, ()):
                if part == SUBJECT:
                    found.add(name)
    key = fold(heading)
    for phrase, parts in grammar.phrases.items():
        if len(phrase) >= 4 and phrase in key:
            found.update(name for part, name in parts if part == SUBJECT)
    return frozenset(found)


def _same(grammar: Grammar, cell: str) -> None:
    assert grammar.parts(cell) == list(_plain_segment(grammar, cell)), cell
    assert grammar.mentioned_subjects(cell) == _plain_mentioned(grammar, cell), cell


def test_the_shortcuts_read_headings_and_data_cells_as_the_plain_reader():
    grammar = load_grammar()
    # Every phrase of the vocabulary, alone and inside a longer cell.
    cells = CELLS + [p for p in grammar.phrases] + [f"Số {p} của mẹ" for p in grammar.phrases]
    for cell in cells:
        _same(grammar, cell)
    assert any(grammar.parts(c) for c in CELLS) and any(
        grammar.mentioned_subjects(c) for c in CELLS
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["họ", "tên", "mẹ", "cha", "ngày", "sinh", "số", "vợ", "chồng", "người", "chết"]
            + ["được", "khai", "nơi", "cư", "trú", "an", "ấp", "xã", "1", "-", " ", "(", ")"]
        ),
        max_size=12,
    )
)
def test_the_shortcuts_read_any_run_of_words_as_the_plain_reader(pieces):
    _same(load_grammar(), " ".join(pieces))
    _same(load_grammar(), "".join(pieces))


def test_words_added_later_are_read_with_the_shortcuts():
    grammar = load_grammar()
    assert not grammar.mentioned_subjects("Họ tên má ruột")
    grammar.extend({"subjects": {"mother": {"words": ["má ruột"]}}}, "mapping.toml")
    assert "mother" in grammar.mentioned_subjects("Họ tên má ruột")
    assert grammar.parts("Họ tên má ruột") == list(_plain_segment(grammar, "Họ tên má ruột"))
    assert grammar.parts("Họ tên má ruột")
    headings._segment.cache_clear()
    headings._read.cache_clear()
    headings._mentioned.cache_clear()
