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
from html import escape as _html_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def escape(text: str) -> str:
    """Return ``text`` with &, < and > escaped (xml.sax.saxutils.escape, which imports
    urllib and the http client: a fifth of a daily batch's start-up)."""
    return _html_escape(text, quote=False)


def _plain(text: str) -> bool:
    return not _NOT_PLAIN.search(text)


def _row_element(texts: Sequence[str], widths: Sequence[int], height: int | None) -> Any:
    """Return a data row's <w:tr>, the XML python-docx writes for ``_never_split`` and
    ``_set_cell`` cells, built as one string: python-docx inserts each element after
    scanning its siblings, which made a 10,000-letter delivery sheet take minutes
    (quadratic in the rows of a table); this is linear."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    tall = f'<w:trHeight w:val="{height}" w:hRule="atLeast"/>' if height else ""
    cells = "".join(
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p><w:pPr>'
        '<w:spacing w:after="0"/><w:jc w:val="left"/></w:pPr><w:r/><w:r><w:rPr>'
        '<w:b w:val="0"/><w:i w:val="0"/><w:sz w:val="22"/></w:rPr>'
        + (f"<w:t>{escape(text)}</w:t>" if text else "")
        + "</w:r></w:p></w:tc>"
        for text, width in zip(texts, widths, strict=True)
    )
    return parse_xml(f"<w:tr {nsdecls('w')}><w:trPr><w:cantSplit/>{tall}</w:trPr>{cells}</w:tr>")


def _page(document: Any, page: ListPage, title: str) -> None:
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
    for values in page.rows:
        texts = ["" if value is None else str(value) for value in values]
        if all(_plain(text) for text in texts):
            table._tbl.append(_row_element(texts, widths, height))
            continue
        row = table.add_row()
        _never_split(row)
        if page.tall_rows:
            row.height = Cm(1.1)
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell, column, text in zip(row.cells, page.columns, texts, strict=True):
            _set_cell(cell, text)
            cell.width = Cm(column.width_cm)
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
    for number, page in enumerate(pages):
        if number:
            document.add_section(WD_SECTION.NEW_PAGE)
        _header(document, profile, letter_date, width)
        _page(document, page, title)
    core = document.core_properties
    core.title, core.author, core.last_modified_by = title, profile.committee_name, ""
    core.created = core.modified = datetime(letter_date.year, letter_date.month, letter_date.day)
    core.revision = 1
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(_fixed_zip(document, letter_date))
    os.replace(partial, path)
    return path


def _fixed_zip(document: Any, letter_date: date) -> bytes:
    """Return the package with every zip entry dated ``letter_date``: python-docx stamps
    entries with the clock, and the same list should be the same bytes on a rerun (and in
    the serial and parallel paths of a batch)."""
    import io
    import zipfile

    raw = io.BytesIO()
    document.save(raw)
    fixed = io.BytesIO()
    stamp = (letter_date.year, letter_date.month, letter_date.day, 0, 0, 0)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return fixed.getvalue()


def _drop_styles_with_effects(document: Any) -> None:
    """python-docx's default package carries a stylesWithEffects part (Word 2010) that does
    not match its styles.xml; Word may then report unreadable content and the OOXML check
    rejects it. Word rebuilds the part when it needs it, so it is left out."""
    part = document.part
    for rel_id, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rel_id)
