"""A list's data rows built as one XML string are exactly the rows python-docx would build.

(listdoc builds plain rows itself: python-docx took minutes for a 10,000-letter delivery
sheet. Rows with tabs, line breaks or edge spaces still go through python-docx.)
"""

from __future__ import annotations

import docx
import pytest
from docx.shared import Cm
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cchc_letters import listdoc

COLUMNS = [listdoc.Column("STT", 1.3), listdoc.Column("Người nhận thư", 4.4)]


def _canonical(element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)  # used namespaces only


def _python_docx_row(texts: list[str], tall: bool) -> bytes:
    from docx.enum.table import WD_ROW_HEIGHT_RULE

    table = docx.Document().add_table(rows=0, cols=len(COLUMNS))
    for grid, column in zip(table.columns, COLUMNS, strict=True):
        grid.width = Cm(column.width_cm)
    row = table.add_row()
    listdoc._never_split(row)
    if tall:
        row.height = Cm(1.1)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    for cell, column, text in zip(row.cells, COLUMNS, texts, strict=True):
        listdoc._set_cell(cell, text)
        cell.width = Cm(column.width_cm)
    return _canonical(row._tr)


def test_plain_rows_are_the_xml_python_docx_writes():
    widths = [Cm(c.width_cm).twips for c in COLUMNS]
    for texts in (["1", "Anh Nguyễn Văn An & chị <Lê> Thị Bình"], ["2", ""]):
        for tall in (True, False):
            fast = listdoc._row_element(texts, widths, Cm(1.1).twips if tall else None)
            assert _canonical(fast) == _python_docx_row(texts, tall)


def test_text_python_docx_treats_specially_is_not_plain():
    assert listdoc._plain("Ấp Suối Nghệ, xã Ngãi Giao")
    for text in ("a\tb", "a\nb", " leading", "trailing ", "bell\x07"):
        assert not listdoc._plain(text)


# ---- whole lists written from strings (issue 17: no python-docx in a daily batch) ---------

LIST_COLUMNS = [
    listdoc.Column("STT", 1.3),
    listdoc.Column("Loại thư", 1.9),
    listdoc.Column("Người nhận & <thư>", 4.4),
    listdoc.Column("Ký nhận", 3.0),
]


def _lists():
    """(title, pages) of lists as delivery.py and session_lists.py make them, and odd ones."""
    page = listdoc.ListPage
    return [
        (
            "DANH SÁCH GIAO THƯ",
            [
                page(
                    heading="Ấp Suối Nghệ",
                    notes=["Lô thư batch-2026-12-01-001: 2 thư", "Địa chỉ không khớp > ấp"],
                    columns=LIST_COLUMNS,
                    rows=[(1, "Khai sinh", "Anh A & chị B", None), (2, "Khai tử", "", "")],
                    tall_rows=True,
                )
            ],
        ),
        ("DANH SÁCH TRẺ", []),
        (
            "Buổi tiêm 05/01/2027 & <trẻ>",
            [
                page(
                    heading=f"Ấp {n}",
                    columns=LIST_COLUMNS,
                    rows=[(i, "x", "y", "z") for i in range(n)],
                    tall_rows=bool(n % 2),
                )
                for n in range(4)
            ],
        ),
    ]


def _profiles():
    import dataclasses

    from cchc_letters.profile import load_profile

    profile = load_profile(None)
    return [profile, dataclasses.replace(profile, parent_lines=(), agency_lines=())]


@pytest.mark.slow  # every case built twice, with python-docx too: seconds
def test_plain_lists_are_the_bytes_python_docx_writes(tmp_path, monkeypatch):
    from datetime import date

    monkeypatch.setenv("CCHC_CACHE_DIR", str(tmp_path / "cache"))
    for warm in (False, True):  # the package python-docx makes, then the same from the cache
        listdoc._skeleton_for.cache_clear()
        for profile in _profiles():
            for title, pages in _lists():
                for day in (date(2026, 12, 1), date(2031, 1, 9)):
                    made = listdoc._plain_package(
                        profile=profile, letter_date=day, title=title, pages=pages
                    )
                    assert made is not None, (warm, title)
                    assert made == listdoc._python_docx_package(
                        profile=profile, letter_date=day, title=title, pages=pages
                    ), (warm, title, day)
        assert list((tmp_path / "cache").glob("lists/*.bin"))


@pytest.mark.slow  # every case built twice, with python-docx too: seconds
def test_a_text_python_docx_writes_its_own_way_takes_python_docx_path(tmp_path):
    import dataclasses
    from datetime import date

    profile = _profiles()[0]
    for odd in ("a\tb", "hai\ndòng", " đầu", "cuối "):
        column = listdoc.Column(odd, 2.0)
        lists = {
            "row": ("T", listdoc.ListPage("Ấp 1", LIST_COLUMNS, rows=[(1, odd, "", "")])),
            "note": ("T", listdoc.ListPage("Ấp 1", LIST_COLUMNS, rows=[], notes=["a", odd])),
            "heading": ("T", listdoc.ListPage(odd, LIST_COLUMNS, rows=[])),
            "column": ("T", listdoc.ListPage("Ấp 1", [*LIST_COLUMNS, column], rows=[])),
            "title": (odd, listdoc.ListPage("Ấp 1", LIST_COLUMNS, rows=[])),
        }
        for where, (title, page) in lists.items():
            args = {"letter_date": date(2026, 12, 1), "title": title, "pages": [page]}
            assert listdoc._plain_package(profile=profile, **args) is None, (odd, where)
            written = listdoc.write_list_docx(tmp_path / "list.docx", profile=profile, **args)
            assert written.read_bytes() == listdoc._python_docx_package(profile=profile, **args)
        odd_profile = dataclasses.replace(profile, agency_lines=(*profile.agency_lines, odd))
        args = {"letter_date": date(2026, 12, 1), "title": "T", "pages": []}
        assert listdoc._plain_package(profile=odd_profile, **args) is None, (odd, "profile")


def test_a_damaged_list_skeleton_in_the_cache_is_made_again(tmp_path, monkeypatch):
    import marshal
    from datetime import date

    monkeypatch.setenv("CCHC_CACHE_DIR", str(tmp_path / "cache"))
    title, pages = _lists()[0]
    args = {"profile": _profiles()[0], "letter_date": date(2026, 12, 1), "title": title}
    listdoc._skeleton_for.cache_clear()
    expected = listdoc._plain_package(**args, pages=pages)
    (entry,) = (tmp_path / "cache").glob("lists/*.bin")
    key, _, value = entry.read_bytes().partition(b"\n")
    fields = marshal.loads(value)
    for damaged in (
        value[: len(value) // 2],  # cut short
        b"not marshal",
        marshal.dumps({**fields, "kore": fields.pop("core")}),  # a field of another name
        marshal.dumps({**fields, "core": 3}),  # of another type
        marshal.dumps({**fields, "core": "", "deflated": fields["deflated"][1:]}),  # misaligned
        marshal.dumps([fields]),
    ):
        entry.write_bytes(key + b"\n" + damaged)
        listdoc._skeleton_for.cache_clear()
        assert listdoc._plain_package(**args, pages=pages) == expected


def test_a_title_python_docx_refuses_is_refused_as_before(tmp_path):
    from datetime import date

    import pytest

    args = {"profile": _profiles()[0], "letter_date": date(2026, 12, 1), "pages": []}
    assert listdoc._plain_package(**args, title="T" * 256) is None
    with pytest.raises(ValueError):
        listdoc.write_list_docx(tmp_path / "list.docx", **args, title="T" * 256)
    assert listdoc._plain_package(**args, title="T" * 255) is not None


def test_plain_rows_written_at_their_place_between_special_rows(tmp_path):
    """A list with special rows goes through python-docx: the plain rows between them come
    out in order, around the rows python-docx builds, on their own pages."""
    from datetime import date

    from cchc_letters.profile import load_profile

    pages = [
        listdoc.ListPage(
            "Ấp A", COLUMNS, [(1, "An & Bình"), (2, "tab\there"), (3, "Chi"), (4, "")]
        ),
        listdoc.ListPage("Ấp B", COLUMNS, [(5, " edge"), (6, "Dũng <Lê>")], tall_rows=True),
    ]
    path = listdoc.write_list_docx(
        tmp_path / "list.docx",
        profile=load_profile(),
        letter_date=date(2026, 11, 27),
        title="Danh sách",
        pages=pages,
    )
    document = docx.Document(str(path))
    data_tables = [t for t in document.tables if t.rows[0].cells[0].text == "STT"]
    got = [[[c.text for c in row.cells] for row in t.rows[1:]] for t in data_tables]
    assert got == [
        [["1", "An & Bình"], ["2", "tab\there"], ["3", "Chi"], ["4", ""]],
        [["5", " edge"], ["6", "Dũng <Lê>"]],
    ]


@pytest.mark.parametrize("odd_row", [False, True], ids=["from strings", "through python-docx"])
def test_core_properties_stay_in_their_namespace_after_docxtpl_is_imported(
    tmp_path, monkeypatch, odd_row
):
    """docxcompose (docxtpl's dependency) rebinds python-docx's "cp" prefix on import; the
    list's docProps/core.xml must still hold one lastModifiedBy and one revision, each in the
    core-properties namespace (a second copy in another namespace is not valid OPC)."""
    import zipfile
    from datetime import date

    import docxtpl  # noqa: F401  (what a batch imports before it writes its delivery sheet)

    monkeypatch.setenv("CCHC_CACHE_DIR", str(tmp_path / "cache"))
    listdoc._skeleton_for.cache_clear()
    rows = [(1, "a\tb" if odd_row else "Khai sinh", "Anh A", "")]
    page = listdoc.ListPage("Ấp 1", LIST_COLUMNS, rows=rows)
    written = listdoc.write_list_docx(
        tmp_path / "list.docx",
        profile=_profiles()[0],
        letter_date=date(2026, 12, 1),
        title="DANH SÁCH",
        pages=[page],
    )
    with zipfile.ZipFile(written) as package:
        core = etree.fromstring(package.read("docProps/core.xml"))
    ns = listdoc.CORE_PROPERTIES_NS
    children = [child.tag for child in core]
    assert children.count(f"{{{ns}}}lastModifiedBy") == 1
    assert children.count(f"{{{ns}}}revision") == 1
    assert all(tag.startswith(f"{{{ns}}}") or "purl.org" in tag for tag in children), children


# ---- a lot of rows at once (issue 17): the same XML as row by row ----------------------

CELL_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("aẤ &<>{}%\x01"), max_size=4), st.integers(-2, 12), st.none()
)


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 4),
    rows=st.lists(st.lists(CELL_TEXT, min_size=4, max_size=4), max_size=40),
    size=st.integers(1, 50),
    tall=st.booleans(),
)
def test_rows_made_a_lot_at_a_time_are_the_rows_made_one_by_one(width, rows, size, tall):
    widths = [720, 1500, 2600, 900][:width]
    rows = [row[:width] for row in rows]
    height = 624 if tall else None
    one_by_one = "".join(listdoc._row_xml(listdoc._texts(r), widths, height) for r in rows)
    texts = listdoc._page_texts(rows, len(widths))
    if not all(listdoc._plain(text) for row in rows for text in listdoc._texts(row)):
        assert texts is None  # python-docx's path
        return
    pieces = list(listdoc._rows_xml(texts, widths, height, size=size))
    assert b"".join(piece for piece, _ in pieces).decode("utf-8") == one_by_one
    # each piece's length in characters, which _chunks cuts by (the deflated bytes follow it)
    assert [characters for _, characters in pieces] == [len(p.decode()) for p, _ in pieces]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aẤ \t\n\x00\x01\x1f\xa0\u2003\ud800\uffff"),
                        max_size=3), max_size=5))  # fmt: skip
def test_texts_checked_joined_are_plain_as_checked_one_by_one(texts):
    plain = listdoc._page_texts([[text] for text in texts], 1) is not None
    assert plain == all(listdoc._plain(text) for text in texts)
