"""A list's data rows built as one XML string are exactly the rows python-docx would build.

(listdoc builds plain rows itself: python-docx took minutes for a 10,000-letter delivery
sheet. Rows with tabs, line breaks or edge spaces still go through python-docx.)
"""

from __future__ import annotations

import docx
from docx.shared import Cm
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


def test_plain_rows_written_at_their_place_between_special_rows(tmp_path):
    """Plain rows are kept out of python-docx's tree and streamed into the saved document:
    they must come out in order, around the rows python-docx builds, on their own pages."""
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
    assert b"cchc-rows" not in docx_xml(path)


def docx_xml(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as package:
        return package.read("word/document.xml")
