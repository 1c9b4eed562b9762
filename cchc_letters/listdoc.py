"""Administrative lists as DOCX: a Decree-30 header on every page, A4 landscape, one group
(a hamlet, a summary) per page, a table whose heading row repeats on long groups.

Used by the delivery sheet (delivery.py) and the health station's session lists
(session_lists.py). Built with python-docx (the library under our templates); the few things
it has no API for (a table heading row that repeats, rows that never split, the short line
under the tiêu ngữ) are set in the XML directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from cchc_letters.profile import Profile

if TYPE_CHECKING:  # python-docx is imported where a list is written (start-up time)
    from docx.enum.text import WD_PARAGRAPH_ALIGNMENT
    from docx.text.paragraph import Paragraph
from cchc_letters.vietnamese import admin_date

FONT = "Times New Roman"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class Column:
    """One column of a list: its heading and width in centimetres."""

    title: str
    width_cm: float


@dataclass
class ListPage:
    """One page (one group) of a list: a heading, notes under it, then a table.

    ``tall_rows`` gives each row room for a signature (the delivery sheet's last column).
    """

    heading: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    notes: Sequence[str] = field(default_factory=tuple)
    tall_rows: bool = False


def _fill(
    paragraph: Paragraph,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 13.0,
    align: WD_PARAGRAPH_ALIGNMENT | None = None,
) -> Paragraph:
    """Write ``text`` as one run into ``paragraph`` (centred unless told), no space after."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph.alignment = align if align is not None else WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    return paragraph


def _paragraph(container: Any, text: str, **style: Any) -> Paragraph:
    return _fill(container.add_paragraph(), text, **style)


def _set_cell(cell: Any, text: str, *, bold: bool = False, size: float = 11) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    cell.text = ""
    _fill(cell.paragraphs[0], text, bold=bold, size=size, align=WD_ALIGN_PARAGRAPH.LEFT)


def _short_rule(paragraph: Any, indent_cm: float) -> None:
    """Draw the short solid line under a heading line (a bottom border on an indented,
    empty paragraph: Word and LibreOffice both draw it as long as the indented width)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Cm, Pt

    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm(indent_cm)
    fmt.space_after = Pt(4)
    border = parse_xml(
        f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="6" w:space="1" '
        'w:color="000000"/></w:pBdr>'
    )
    # (schema order: pBdr comes before spacing, ind and jc)
    paragraph._p.get_or_add_pPr().insert_element_before(
        border, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr", "w:sectPr"
    )


def _no_borders(table: Any) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    sides = "".join(
        f'<w:{s} w:val="nil"/>' for s in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    borders = parse_xml(f"<w:tblBorders {nsdecls('w')}>{sides}</w:tblBorders>")
    table._tbl.tblPr.insert_element_before(
        borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"
    )


def _header(document: Any, profile: Profile, letter_date: date, width_cm: float) -> None:
    """The Decree-30 block: agency top left, quốc hiệu and tiêu ngữ top right, each with a
    short line under it, then the place and date in italics under the tiêu ngữ."""
    from docx.shared import Cm

    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(width_cm * 0.4), Cm(width_cm * 0.6)
    lines = [(line, False) for line in profile.parent_lines]
    lines += [(line, True) for line in profile.agency_lines]
    for number, (line, bold) in enumerate(lines):
        target = left.paragraphs[0] if number == 0 else left.add_paragraph()
        _fill(target, line, bold=bold, size=12.5)
    _short_rule(left.add_paragraph(), 3.0)
    _fill(right.paragraphs[0], NATIONAL_NAME, bold=True, size=12.5)
    _paragraph(right, MOTTO, bold=True, size=13.5)
    _short_rule(right.add_paragraph(), 4.2)
    place = profile.place_name or profile.commune_name
    _paragraph(right, f"{place}, {admin_date(letter_date)}", italic=True, size=13)


def _repeat_heading_row(row: Any) -> None:
    from docx.oxml import OxmlElement

    properties = row._tr.get_or_add_trPr()
    heading = OxmlElement("w:tblHeader")
    properties.append(heading)


def _never_split(row: Any) -> None:
    from docx.oxml import OxmlElement

    properties = row._tr.get_or_add_trPr()
    keep = OxmlElement("w:cantSplit")
    properties.insert(0, keep)


# Text python-docx would write as one plain <w:t>: no tab, line break or XML-forbidden
# character, no space at either end (those need its own handling: the slow path below).
_NOT_PLAIN = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]|^\\s|\\s$")


def _plain(text: str) -> bool:
    return not _NOT_PLAIN.search(text)


def _row_xml(texts: Sequence[str], widths: Sequence[int], height: int | None) -> str:
    """Return a data row's <w:tr> as text (the ``w`` prefix declared by the document), the
    XML python-docx writes for ``_never_split`` and ``_set_cell`` cells: python-docx inserts
    each element after scanning its siblings, which made a 10,000-letter delivery sheet
    take minutes (quadratic in the rows of a table), and a parsed row is about 30 KB of
    lxml nodes (a 10,000-letter sheet held 340 MB); a string is linear and small."""
    tall = f'<w:trHeight w:val="{height}" w:hRule="atLeast"/>' if height else ""
    cells = "".join(
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p><w:pPr>'
        '<w:spacing w:after="0"/><w:jc w:val="left"/></w:pPr><w:r/><w:r><w:rPr>'
        '<w:b w:val="0"/><w:i w:val="0"/><w:sz w:val="22"/></w:rPr>'
        + (f"<w:t>{escape(text)}</w:t>" if text else "")
        + "</w:r></w:p></w:tc>"
        for text, width in zip(texts, widths, strict=True)
    )
    return f"<w:tr><w:trPr><w:cantSplit/>{tall}</w:trPr>{cells}</w:tr>"


def _row_element(texts: Sequence[str], widths: Sequence[int], height: int | None) -> Any:
    """Return ``_row_xml`` parsed (an lxml element), as python-docx would hold the row."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    return parse_xml(_row_xml(texts, widths, height).replace("<w:tr>", f"<w:tr {nsdecls('w')}>", 1))


@dataclass
class _PlainRows:
    """Runs of plain rows kept out of python-docx's tree until the document is saved: the
    tree holds a comment ``<!--cchc-rows-N-->`` where run N goes (``_write_document``)."""

    runs: list[tuple[list[list[str]], list[int], int | None]] = field(default_factory=list)

    def marker(self, rows: list[list[str]], widths: list[int], height: int | None) -> Any:
        from lxml import etree

        self.runs.append((rows, widths, height))
        return etree.Comment(f"cchc-rows-{len(self.runs) - 1}")


_MARKER = re.compile(rb"<!--cchc-rows-(\d+)-->")


def _page(document: Any, page: ListPage, title: str, plain: _PlainRows) -> None:
    from docx.enum.table import WD_ROW_HEIGHT_RULE
    from docx.shared import Cm, Pt

    _paragraph(document, "", size=6)
    _paragraph(document, title, bold=True, size=14)
    _paragraph(document, page.heading, bold=True, size=13)
    for note in page.notes:
        _paragraph(document, note, italic=True, size=12)
    _paragraph(document, "", size=6)
    table = document.add_table(rows=1, cols=len(page.columns))
    table.style = "Table Grid"
    table.autofit = False
    for grid, column in zip(table.columns, page.columns, strict=True):
        grid.width = Cm(column.width_cm)  # the table grid: LibreOffice lays columns out by it
    heading = table.rows[0]
    _repeat_heading_row(heading)
    for cell, column in zip(heading.cells, page.columns, strict=True):
        _set_cell(cell, column.title, bold=True)
        cell.width = Cm(column.width_cm)
    widths = [Cm(column.width_cm).twips for column in page.columns]
    height = Cm(1.1).twips if page.tall_rows else None
    run: list[list[str]] = []
    for values in page.rows:
        texts = ["" if value is None else str(value) for value in values]
        if all(_plain(text) for text in texts):
            run.append(texts)
            continue
        if run:
            table._tbl.append(plain.marker(run, widths, height))
            run = []
        row = table.add_row()
        _never_split(row)
        if page.tall_rows:
            row.height = Cm(1.1)
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, column, text in zip(row.cells, page.columns, texts, strict=True):
            _set_cell(cell, text)
            cell.width = Cm(column.width_cm)
    if run:
        table._tbl.append(plain.marker(run, widths, height))
    document.add_paragraph().paragraph_format.space_after = Pt(0)


def write_list_docx(
    path: Path,
    *,
    profile: Profile,
    letter_date: date,
    title: str,
    pages: Sequence[ListPage],
) -> Path:
    """Write ``pages`` as one DOCX, each page its own section (a new page) with the header;
    written under a temporary name and renamed, so a failure leaves no half file."""
    import os

    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm, Pt

    document = Document()
    _drop_styles_with_effects(document)
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    style.element.rPr.rFonts.set(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", FONT
    )
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    # Decree 30/2020: top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(1.5)
    width = 29.7 - 3.0 - 1.5
    plain = _PlainRows()
    for number, page in enumerate(pages):
        if number:
            document.add_section(WD_SECTION.NEW_PAGE)
        _header(document, profile, letter_date, width)
        _page(document, page, title, plain)
    core = document.core_properties
    core.title, core.author, core.last_modified_by = title, profile.committee_name, ""
    core.created = core.modified = datetime(letter_date.year, letter_date.month, letter_date.day)
    core.revision = 1
    partial = path.with_name(path.name + ".part")
    _write_package(partial, document, letter_date, plain)
    os.replace(partial, path)
    return path


def _write_package(
    path: Path, document: Any, letter_date: date, plain: _PlainRows | None = None
) -> None:
    """Write the package to ``path`` with every zip entry dated ``letter_date`` (python-docx
    stamps entries with the clock, and the same list should be the same bytes on a rerun,
    and in the serial and parallel paths of a batch), the plain rows streamed into
    word/document.xml at their markers (nothing holds the whole document's XML)."""
    import io
    import zipfile

    raw = io.BytesIO()
    document.save(raw)
    stamp = (letter_date.year, letter_date.month, letter_date.day, 0, 0, 0)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            if plain is None or not plain.runs or info.filename != "word/document.xml":
                target.writestr(entry, data)
                continue
            with target.open(entry, "w") as out:
                _write_rows(out, data, plain)


def _write_rows(out: Any, document_xml: bytes, plain: _PlainRows) -> None:
    """Write ``document_xml`` to ``out`` with each ``<!--cchc-rows-N-->`` replaced by its rows."""
    written = 0
    for marker in _MARKER.finditer(document_xml):
        out.write(document_xml[written : marker.start()])
        rows, widths, height = plain.runs[int(marker[1])]
        for start in range(0, len(rows), 200):  # a few hundred rows per write
            chunk = "".join(_row_xml(texts, widths, height) for texts in rows[start : start + 200])
            out.write(chunk.encode("utf-8"))
        written = marker.end()
    out.write(document_xml[written:])


def _drop_styles_with_effects(document: Any) -> None:
    """python-docx's default package carries a stylesWithEffects part (Word 2010) that does
    not match its styles.xml; Word may then report unreadable content and the OOXML check
    rejects it. Word rebuilds the part when it needs it, so it is left out."""
    part = document.part
    for rel_id, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rel_id)
