"""find_header's shortcut (issue 17) finds the header the full search finds.

``table._may_win`` skips the rows that cannot beat the best header found so far, told from
how many of their cells hold text, without reading the cells with the heading grammar. Here
the search with the shortcut is compared with the search that reads every candidate
(``_may_win`` always true), on the official forms' sheets (one- and two-row headers, title
rows, column numbers, data, signature) shuffled, cut and mixed with other cells; and the
delimiter sniffing, which now skips reading a table where the delimiter never occurs, with
the sniffing that read it.
"""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_letters.ingest import table, text
from cchc_letters.ingest.columns import load_vocabulary
from tests.official_forms import FORMS, _rows
from tests.test_headings_shortcuts import CELLS

VOCAB = load_vocabulary()
SHEETS = [_rows(kind, columns, titles=titles)[0] for kind, columns in FORMS.values()
          for titles in (True, False)]  # fmt: skip
ROW_LISTS = [row for sheet in SHEETS for row in sheet]


def _full_search(grid: table.Grid, spans: table.Spans | None = None) -> object:
    with mock.patch.object(table, "_may_win", lambda *args: True):
        return table.find_header(grid, VOCAB, spans)


@st.composite
def grids(draw: st.DrawFn) -> table.Grid:
    rows = [list(r) for r in draw(st.sampled_from(SHEETS))]
    extra = st.lists(st.sampled_from(ROW_LISTS), max_size=4)
    for row in draw(extra):  # rows of other forms, anywhere
        rows.insert(draw(st.integers(0, len(rows))), list(row))
    for row in rows:  # cells blanked, replaced or added
        for _ in range(draw(st.integers(0, 2))):
            if row and draw(st.booleans()):
                row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(CELLS))
            else:
                row.append(draw(st.sampled_from(CELLS)))
    if draw(st.booleans()):  # a narrow sheet: its first columns only
        width = draw(st.integers(1, 6))
        rows = [row[:width] for row in rows]
    if draw(st.booleans()):  # data rows copied below the sheet, as a register has many
        rows += [list(rows[-3])] * draw(st.integers(1, 6))
    return [(n, row) for n, row in enumerate(rows, start=1)]


@settings(max_examples=150, deadline=None)
@given(grids(), st.booleans())
def test_the_shortcut_finds_the_header_the_full_search_finds(grid, merged):
    # A merged group heading over its first three columns, as an XLSX gives it.
    spans: table.Spans = {n: [(0, 2)] for n, _ in grid[:3]} if merged else {}
    assert table.find_header(grid, VOCAB, spans) == _full_search(grid, spans)


def test_the_shortcut_skips_the_data_rows_under_a_full_header():
    kind, columns = FORMS["khai-sinh-truc-tuyen"]
    sheet = _rows(kind, columns, titles=False)[0][:2]  # the header and one registration
    grid = [(n, list(row)) for n, row in enumerate(sheet + [sheet[1]] * 30, start=1)]
    read: list[str] = []
    understand = VOCAB.understand

    def counting(heading, kind, group=""):
        read.append(heading)
        return understand(heading, kind, group)

    with mock.patch.object(VOCAB, "understand", counting):
        found = table.find_header(grid, VOCAB)
    assert found is not None and found[0] == 0 and found[1] == 1
    assert not any(value in read for value in sheet[1][3:])  # no data cell read as a heading


def _full_sniff(csv_text: str) -> str:
    """text.sniff_delimiter as it was: every delimiter's table read."""
    head = "\n".join(csv_text.splitlines()[: text.SNIFF_LINES])
    best, best_key = ",", (-1, -1)
    for delimiter in ("\t", ";", ","):
        try:
            key = text._table_quality(text.parse(head, delimiter), VOCAB)
        except text.FileProblem:
            continue
        if key > best_key:
            best, best_key = delimiter, key
    return best


@settings(max_examples=60, deadline=None)
@given(grids(), st.sampled_from(["\t", ";", ",", " | "]), st.booleans())
def test_sniffing_skips_no_table_it_needs(grid, delimiter, quote_one):
    lines = [delimiter.join(row) for _, row in grid]
    if quote_one and lines:
        lines[0] = '"' + lines[0]  # a broken quote: the same table, or the same error
    csv_text = "\n".join(lines)
    assert text.sniff_delimiter(csv_text, VOCAB) == _full_sniff(csv_text)
