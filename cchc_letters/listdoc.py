"""Administrative lists as DOCX: a Decree-30 header on every page, A4 landscape, one group
(a hamlet, a summary) per page, a table whose heading row repeats on long groups.

Used by the delivery sheet (delivery.py) and the health station's session lists
(session_lists.py). Built with python-docx (the library under our templates); the few things
it has no API for (a table heading row that repeats, rows that never split, the short line
under the tiêu ngữ) are set in the XML directly.

Importing python-docx and building through it cost about a fifth of a daily batch (issue 17),
so a list whose every text is plain (no tab, line break, control character or space at either
end: what python-docx writes as one plain ``<w:t>``) is written from strings instead: the
same XML python-docx writes, into the package python-docx makes for an empty list (its
styles, settings and section set-up), kept in the start-up cache (cache.py). The two paths
give the same bytes (tests/test_listdoc_rows.py); any other text takes python-docx's path.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
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
WIDTH_CM = 29.7 - 3.0 - 1.5  # A4 landscape less the margins (write_list_docx)


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
    """Return ``text`` with &, < and > escaped: what xml.sax.saxutils.escape (which imports
    urllib and the http client: a fifth of a daily batch's start-up) and html.escape
    (which imports html.entities, 2,000 names) give with no quotes to escape."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> bool:
    return not _NOT_PLAIN.search(text)


def _cell_xml(text: str, width: int, *, bold: bool = False) -> str:
    """Return the <w:tc> python-docx writes for ``_set_cell`` (and a width) with plain text."""
    return (
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p><w:pPr>'
        '<w:spacing w:after="0"/><w:jc w:val="left"/></w:pPr><w:r/>'
        + _run_xml(text, bold=bold, italic=False, size=11)
        + "</w:p></w:tc>"
    )


def _row_xml(texts: Sequence[str], widths: Sequence[int], height: int | None) -> str:
    """Return a data row's <w:tr> (no namespace declaration), the XML python-docx writes for
    ``_never_split`` and ``_set_cell`` cells of plain text."""
    tall = f'<w:trHeight w:val="{height}" w:hRule="atLeast"/>' if height else ""
    cells = "".join(_cell_xml(text, width) for text, width in zip(texts, widths, strict=True))
    return f"<w:tr><w:trPr><w:cantSplit/>{tall}</w:trPr>{cells}</w:tr>"


def _row_element(texts: Sequence[str], widths: Sequence[int], height: int | None) -> Any:
    """Return a data row's <w:tr> element, built as one string: python-docx inserts each
    element after scanning its siblings, which made a 10,000-letter delivery sheet take
    minutes (quadratic in the rows of a table); this is linear."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    row = _row_xml(texts, widths, height)
    return parse_xml(row.replace("<w:tr>", f"<w:tr {nsdecls('w')}>", 1))


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

    partial = path.with_name(path.name + ".part")
    plain = _plain_skeleton(profile, letter_date, title, pages)
    if plain is not None:
        _write_plain_package(partial, *plain, profile=profile, letter_date=letter_date,
                             title=title, pages=pages)  # fmt: skip
    else:
        data = _python_docx_package(
            profile=profile, letter_date=letter_date, title=title, pages=pages
        )
        partial.write_bytes(data)
    os.replace(partial, path)
    return path


def _python_docx_package(
    *, profile: Any, letter_date: date, title: str, pages: Sequence[ListPage]
) -> bytes:
    """Return the list built through python-docx (any text)."""
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
    for number, page in enumerate(pages):
        if number:
            document.add_section(WD_SECTION.NEW_PAGE)
        _header(document, profile, letter_date, WIDTH_CM)
        _page(document, page, title)
    with _core_properties_prefix():
        core = document.core_properties
        core.title, core.author, core.last_modified_by = title, profile.committee_name, ""
        core.created = core.modified = datetime(
            letter_date.year, letter_date.month, letter_date.day
        )
        core.revision = 1
    return _fixed_zip(document, letter_date)


CORE_PROPERTIES_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"


@contextmanager
def _core_properties_prefix() -> Iterator[None]:
    """Bind python-docx's ``cp`` prefix to the core-properties namespace while the list's
    properties are set. docxcompose (imported with docxtpl) rebinds ``cp`` in python-docx's
    shared prefix map to the custom-properties namespace; python-docx's setters then miss
    ``cp:lastModifiedBy`` and ``cp:revision`` and add second, wrongly named copies to
    docProps/core.xml (which Word may report as unreadable content)."""
    from docx.oxml.ns import nsmap

    bound = nsmap.get("cp")
    nsmap["cp"] = CORE_PROPERTIES_NS
    try:
        yield
    finally:
        if bound is not None:
            nsmap["cp"] = bound


def _fixed_zip(document: Any, letter_date: date) -> bytes:
    """Return the package with every zip entry dated ``letter_date``: python-docx stamps
    entries with the clock, and the same list should be the same bytes on a rerun (and in
    the serial and parallel paths of a batch)."""
    import io
    import zipfile

    from cchc_letters.deflate import open_deflated

    raw = io.BytesIO()
    document.save(raw)
    fixed = io.BytesIO()
    stamp = (letter_date.year, letter_date.month, letter_date.day, 0, 0, 0)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w") as target:
        for info in source.infolist():
            entry = _entry(info.filename, stamp)
            if info.filename == "word/document.xml":  # deflated as the plain path does
                with open_deflated(target, entry) as out:
                    out.write(source.read(info.filename))
            else:
                target.writestr(entry, source.read(info.filename))
    return fixed.getvalue()


def _entry(name: str, stamp: tuple[int, int, int, int, int, int]) -> Any:
    """Return the zip entry of a list's part: deflated, dated ``stamp``."""
    import zipfile

    entry = zipfile.ZipInfo(name, date_time=stamp)
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _drop_styles_with_effects(document: Any) -> None:
    """python-docx's default package carries a stylesWithEffects part (Word 2010) that does
    not match its styles.xml; Word may then report unreadable content and the OOXML check
    rejects it. Word rebuilds the part when it needs it, so it is left out."""
    part = document.part
    for rel_id, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rel_id)


# ---- the same package from strings (plain text only) --------------------------------------

_SENTINEL_TITLE = "CCHC-LIST-TITLE-7d1f"
_SENTINEL_AUTHOR = "CCHC-LIST-AUTHOR-7d1f"
_SENTINEL_DATE = date(2001, 2, 3)
_DATE_TEXT = "{:%Y-%m-%d}T00:00:00Z"  # python-docx's W3CDTF date in docProps/core.xml
_TBL_LOOK = (
    '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
    'w:noHBand="0" w:noVBand="1" w:val="04A0"/>'
)
_NO_BORDERS = (
    "<w:tblBorders>"
    + "".join(
        f'<w:{s} w:val="nil"/>' for s in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    + "</w:tblBorders>"
)


@dataclass(frozen=True)
class _Skeleton:
    """python-docx's package for an empty list: every part in its order, and the pieces of
    word/document.xml around the body."""

    parts: tuple[tuple[str, bytes], ...]
    document_start: str  # up to the end of <w:body> and whatever the body starts with
    final_section: str  # the last <w:sectPr> (python-docx's sentinel, with its rsids)
    document_end: str  # </w:body></w:document>
    core: str  # docProps/core.xml with the sentinel title, author and date
    # each part deflated as zipfile deflates it (None: the parts each list writes anew)
    deflated: tuple[bytes | None, ...]


def _twips(cm: float) -> int:
    """python-docx's Cm(cm) written as twips (EMU rounded down, then to the nearest twip)."""
    return int(round(int(cm * 360000) / 635))


def _half_points(size: float) -> int:
    """python-docx's Pt(size) written as a font size (half-points, rounded down)."""
    return int(int(size * 12700) / 12700 * 2)


def _run_xml(text: str, *, bold: bool, italic: bool, size: float) -> str:
    b = "<w:b/>" if bold else '<w:b w:val="0"/>'
    i = "<w:i/>" if italic else '<w:i w:val="0"/>'
    t = f"<w:t>{escape(text)}</w:t>" if text else ""
    return f'<w:r><w:rPr>{b}{i}<w:sz w:val="{_half_points(size)}"/></w:rPr>{t}</w:r>'


def _paragraph_xml(
    text: str, *, bold: bool = False, italic: bool = False, size: float = 13.0
) -> str:
    """Return the centred paragraph ``_fill`` makes of plain ``text``."""
    return (
        '<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="center"/></w:pPr>'
        + _run_xml(text, bold=bold, italic=italic, size=size)
        + "</w:p>"
    )


def _rule_xml(indent_cm: float) -> str:
    indent = _twips(indent_cm)
    return (
        '<w:p><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" '
        'w:color="000000"/></w:pBdr><w:spacing w:after="80"/>'
        f'<w:ind w:left="{indent}" w:right="{indent}"/></w:pPr></w:p>'
    )


def _header_xml(profile: Any, letter_date: date) -> str:
    """Return ``_header``'s table as python-docx writes it."""
    # add_table shares the block width (page less margins, as python-docx reads them back
    # from the section in twips) evenly between the columns.
    emu = (_twips(29.7) - _twips(3.0) - _twips(1.5)) * 635
    grid = int(round((emu // 2) / 635))
    lines = [(line, False) for line in profile.parent_lines]
    lines += [(line, True) for line in profile.agency_lines]
    left = "".join(_paragraph_xml(line, bold=bold, size=12.5) for line, bold in lines)
    place = profile.place_name or profile.commune_name
    return (
        f'<w:tbl><w:tblPr><w:tblW w:type="auto" w:w="0"/>{_NO_BORDERS}{_TBL_LOOK}</w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{grid}"/><w:gridCol w:w="{grid}"/></w:tblGrid><w:tr>'
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{_twips(WIDTH_CM * 0.4)}"/></w:tcPr>'
        + (left or "<w:p/>")
        + _rule_xml(3.0)
        + f'</w:tc><w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{_twips(WIDTH_CM * 0.6)}"/></w:tcPr>'
        + _paragraph_xml(NATIONAL_NAME, bold=True, size=12.5)
        + _paragraph_xml(MOTTO, bold=True, size=13.5)
        + _rule_xml(4.2)
        + _paragraph_xml(f"{place}, {admin_date(letter_date)}", italic=True, size=13)
        + "</w:tc></w:tr></w:tbl>"
    )


def _page_pieces(page: ListPage, title: str, texts: list[str]) -> Iterator[_Piece]:
    """Yield ``_page``'s paragraphs and table as python-docx writes them (rows a few hundred
    to a piece), its rows' ``texts`` given (``_page_texts``)."""
    widths = [_twips(column.width_cm) for column in page.columns]
    height = _twips(1.1) if page.tall_rows else None
    yield _piece(
        "".join(
            [
                _paragraph_xml("", size=6),
                _paragraph_xml(title, bold=True, size=14),
                _paragraph_xml(page.heading, bold=True, size=13),
                *(_paragraph_xml(note, italic=True, size=12) for note in page.notes),
                _paragraph_xml("", size=6),
                '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="auto" w:w="0"/>'
                f'<w:tblLayout w:type="fixed"/>{_TBL_LOOK}</w:tblPr><w:tblGrid>',
                *(f'<w:gridCol w:w="{width}"/>' for width in widths),
                "</w:tblGrid><w:tr><w:trPr><w:tblHeader/></w:trPr>",
                *(
                    _cell_xml(column.title, width, bold=True)
                    for column, width in zip(page.columns, widths, strict=True)
                ),
                "</w:tr>",
            ]
        )
    )
    yield from _rows_xml(texts, widths, height)
    yield _piece('</w:tbl><w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>')


# A piece of word/document.xml: its UTF-8 and how many characters it is (what _chunks counts).
_Piece = tuple[bytes, int]


def _piece(text: str) -> _Piece:
    return text.encode("utf-8"), len(text)


_SEPARATOR = "\x01"  # between the texts of rows joined to be checked or escaped at once
_SEPARATOR_BYTE = _SEPARATOR.encode("ascii")
_CONTROL_BUT_SEPARATOR = re.compile("[\x00\x02-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE_AFTER_SEPARATOR = re.compile("\x01\\s")  # (a literal first: searched fast)


def _plain_joined(joined: str, count: int) -> bool:
    """Return whether each of ``count`` texts joined by ``_SEPARATOR`` is plain (``_plain``):
    a few searches for a page instead of one per cell. A text holding the separator itself is
    not plain (a control character), seen as one separator too many; a text that ends with
    a space is one that starts with it, the joined texts reversed."""
    if joined.count(_SEPARATOR) != max(count - 1, 0):
        return False
    if _CONTROL_BUT_SEPARATOR.search(joined):
        return False
    if joined[:1].isspace() or joined[-1:].isspace():
        return False
    return not (
        _SPACE_AFTER_SEPARATOR.search(joined) or _SPACE_AFTER_SEPARATOR.search(joined[::-1])
    )


def _page_texts(rows: Sequence[Sequence[Any]], width: int) -> list[str] | None:
    """Return the texts of ``rows``' cells, row after row (not yet escaped for XML:
    ``_rows_xml`` escapes them a piece at a time); None when one is not plain or a row has
    not ``width`` cells (python-docx's path says so). The texts are joined and checked at
    once."""
    if rows and set(map(len, rows)) != {width}:
        return None
    texts = _flat_texts(rows)
    if not _plain_joined(_SEPARATOR.join(texts), len(texts)):
        return None
    return texts


_TEXT = "<w:t>{}</w:t>"  # a cell's text in the row template (_rows_xml)


def _rows_xml(
    texts: Sequence[str], widths: Sequence[int], height: int | None, size: int = 256
) -> Iterator[_Piece]:
    """Yield ``_row_xml`` of each row of ``texts`` (``_page_texts``: plain, a row's after
    another's) in UTF-8, ``size`` rows to a piece.

    A piece is made by C calls rather than Python calls per cell: one row's XML cut at its
    cells' texts gives the literal XML between them, and the piece is one join of a list
    whose slots (the XML before a row's first text, the text, the XML up to the next text,
    ... for each row) are filled a column at a time by slice assignment. A text's ``<w:t>``
    and ``</w:t>`` join the XML around it where none of the column's texts is empty; an
    empty text has no ``<w:t>`` (``_run_xml``): in a column with both, each text is wrapped
    in its own. The piece is joined as bytes: its texts are encoded at once (joined by
    ``_SEPARATOR``, a byte no UTF-8 sequence holds, escaped, then split), the XML around
    them once, which spares joining 20 MB of XML as text (two bytes a character, for its
    Vietnamese) and encoding it after. Its length in characters is the bytes' less what the
    texts gained in UTF-8 (the XML around them is ASCII)."""
    width = len(widths)
    literals = [
        literal.encode("ascii") for literal in _row_xml(["{}"] * width, widths, height).split(_TEXT)
    ]
    assert len(literals) == width + 1, "a row's XML has a text of its own"
    stride = 2 * width  # a row's slots: the XML before a text, the text; for each cell
    for start in range(0, len(texts), size * width):
        joined = escape(_SEPARATOR.join(texts[start : start + size * width]))
        encoded = joined.encode("utf-8")
        chunk = encoded.split(_SEPARATOR_BYTE)
        count = len(chunk) // width
        opening, closing = [b""] * width, [b""] * width  # a column's <w:t>, </w:t> (or none)
        slots = [b""] * (count * stride + 1)
        for column in range(width):
            cells = chunk[column::width]
            if all(cells):
                opening[column], closing[column] = b"<w:t>", b"</w:t>"
            elif any(cells):
                cells = [b"<w:t>" + text + b"</w:t>" if text else b"" for text in cells]
            slots[2 * column + 1 :: stride] = cells
        before = [
            (closing[column - 1] if column else b"") + literals[column] + opening[column]
            for column in range(width)
        ]
        end = closing[-1] + literals[-1]  # after a row's last text
        slots[0] = before[0]
        slots[stride::stride] = [end + before[0]] * count  # between rows (and after the last)
        slots[-1] = end
        for column in range(1, width):
            slots[2 * column :: stride] = [before[column]] * count
        piece = b"".join(slots)
        yield piece, len(piece) - (len(encoded) - len(joined))


def _flat_texts(rows: Sequence[Sequence[Any]]) -> list[str]:
    """Return the texts of ``rows``' cells, row after row (``_texts`` of each row)."""
    values = list(itertools.chain.from_iterable(rows))
    types = set(map(type, values))
    if types == {str}:
        return values
    if type(None) not in types:
        return list(map(str, values))
    return ["" if value is None else str(value) for value in values]


def _texts(values: Sequence[Any]) -> list[str]:
    return ["" if value is None else str(value) for value in values]


def _plain_texts(
    profile: Any, letter_date: date, title: str, pages: Sequence[ListPage]
) -> list[list[str]] | None:
    """Return each page's ``_page_texts``, or None when a text of the list is not plain."""
    place = profile.place_name or profile.commune_name
    texts = [
        title,
        str(profile.committee_name or ""),
        f"{place}, {admin_date(letter_date)}",
        *profile.parent_lines,
        *profile.agency_lines,
    ]
    for page in pages:
        texts += [page.heading, *page.notes, *(c.title for c in page.columns)]
    if not all(isinstance(text, str) and (text == "" or _plain(text)) for text in texts):
        return None
    rows = []
    for page in pages:
        page_texts = _page_texts(page.rows, len(page.columns))
        if page_texts is None:
            return None
        rows.append(page_texts)
    return rows


def _plain_package(
    *, profile: Any, letter_date: date, title: str, pages: Sequence[ListPage]
) -> bytes | None:
    """Return the list written from strings, or None when a text is not plain (or the
    committee's name is empty: python-docx writes an empty creator differently; or the title
    or that name is longer than python-docx allows in docProps/core.xml)."""
    import io

    plain = _plain_skeleton(profile, letter_date, title, pages)
    if plain is None:
        return None
    out = io.BytesIO()
    _write_plain_package(out, *plain, profile=profile, letter_date=letter_date, title=title,
                         pages=pages)  # fmt: skip
    return out.getvalue()


def _plain_skeleton(
    profile: Any, letter_date: date, title: str, pages: Sequence[ListPage]
) -> tuple[_Skeleton, list[list[str]]] | None:
    """Return the skeleton to write the list from strings into and its pages' row texts
    (``_page_texts``), or None (``_plain_package``)."""
    if not profile.committee_name:
        return None
    if max(len(title), len(profile.committee_name)) > 255:
        return None  # python-docx refuses a core property that long: its path says so
    texts = _plain_texts(profile, letter_date, title, pages)
    if texts is None:
        return None
    skeleton = _skeleton()
    return None if skeleton is None else (skeleton, texts)


def _write_plain_package(
    target: Any,
    skeleton: _Skeleton,
    texts: list[list[str]],
    *,
    profile: Any,
    letter_date: date,
    title: str,
    pages: Sequence[ListPage],
) -> None:
    """Write the list from strings into ``target`` (a path or a binary file), its
    word/document.xml streamed a few hundred rows at a time: a 10,000-letter delivery sheet
    is 20 MB of XML, and held whole (as text, then as bytes) it doubled the batch's memory."""
    import zipfile

    from cchc_letters.deflate import open_deflated, write_deflated

    core = (
        skeleton.core.replace(_SENTINEL_TITLE, escape(title))
        .replace(_SENTINEL_AUTHOR, escape(profile.committee_name))
        .replace(_DATE_TEXT.format(_SENTINEL_DATE), _DATE_TEXT.format(letter_date))
    )
    stamp = (letter_date.year, letter_date.month, letter_date.day, 0, 0, 0)
    with zipfile.ZipFile(target, "w") as archive:  # as _fixed_zip writes python-docx's package
        for (name, data), blob in zip(skeleton.parts, skeleton.deflated, strict=True):
            entry = _entry(name, stamp)
            if name == "word/document.xml":
                with open_deflated(archive, entry) as out:
                    pieces = _document_pieces(skeleton, texts, profile, letter_date, title,
                                              pages)  # fmt: skip
                    for chunk in _chunks(pieces):
                        out.write(chunk)
            elif blob is None:
                archive.writestr(entry, core.encode() if name == "docProps/core.xml" else data)
            else:  # deflated once: python-docx's styles alone are 350 kB, 4 ms to deflate
                write_deflated(archive, entry, data, blob)


def _document_pieces(
    skeleton: _Skeleton,
    texts: list[list[str]],
    profile: Any,
    letter_date: date,
    title: str,
    pages: Sequence[ListPage],
) -> Iterator[_Piece]:
    """Yield word/document.xml of the list in pieces (a few hundred rows at most)."""
    yield _piece(skeleton.document_start)
    for number, (page, page_texts) in enumerate(zip(pages, texts, strict=True)):
        if number:
            yield _piece(f"<w:p><w:pPr>{_section_break(skeleton.final_section)}</w:pPr></w:p>")
        yield _piece(_header_xml(profile, letter_date))
        yield from _page_pieces(page, title, page_texts)
    yield _piece(skeleton.final_section)
    yield _piece(skeleton.document_end)


def _chunks(pieces: Iterator[_Piece], size: int = 1 << 19) -> Iterator[bytes]:
    """Yield ``pieces`` joined into chunks of about ``size`` characters (a piece longer than
    that is a chunk of its own). Counted in characters, as when the chunks were text: ISA-L
    deflates the same XML to other bytes when it is given in other chunks, and the list's
    bytes should not change with the version that wrote it."""
    batch: list[bytes] = []
    length = 0
    for piece, characters in pieces:
        batch.append(piece)
        length += characters
        if length >= size:
            yield b"".join(batch)
            batch, length = [], 0
    if batch:
        yield b"".join(batch)


def _section_break(final_section: str) -> str:
    """python-docx's clone of the last <w:sectPr> for a section break: no attributes."""
    return re.sub(r"^<w:sectPr\b[^>]*>", "<w:sectPr>", final_section)


def _skeleton() -> _Skeleton | None:
    """Return python-docx's package for an empty list, from the start-up cache when this
    listdoc.py with this python-docx and lxml made it before."""
    import hashlib

    from cchc_letters import cache

    key = cache.key_of(
        "list-skeleton-3",  # 2: core.xml without the wrongly named copies; 3: deflated parts
        hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        cache.installed("docx"),
        cache.installed("lxml"),
    )
    return _skeleton_for(tuple(key) if key else None)


@functools.lru_cache(maxsize=2)
def _skeleton_for(key: tuple[str, ...] | None) -> _Skeleton | None:
    import dataclasses
    import marshal

    from cchc_letters import cache

    # marshal, not JSON: a start reads it (400 kB of parts; base64 in JSON cost 5 ms). So it
    # is read only from a file no one else can write, as kept code is.
    stored = cache.lookup_bytes("lists", list(key) if key else None, code=True)
    if stored is not None:
        try:
            fields = marshal.loads(stored)
            skeleton = _Skeleton(**fields)
            if _well_formed(skeleton):
                return skeleton
        except Exception:  # noqa: BLE001 — anything unreadable is a miss: made again
            pass
    made = _make_skeleton()
    if made is None:
        return None
    cache.store_bytes(
        "lists",
        list(key) if key else None,
        marshal.dumps(dataclasses.asdict(made)),
        code=True,
    )
    return made


def _well_formed(skeleton: _Skeleton) -> bool:
    """True when a skeleton read from the cache has the types and shape _make_skeleton gives."""
    texts = (skeleton.document_start, skeleton.final_section, skeleton.document_end, skeleton.core)
    return (
        all(isinstance(text, str) for text in texts)
        and isinstance(skeleton.parts, tuple)
        and isinstance(skeleton.deflated, tuple)
        and len(skeleton.parts) == len(skeleton.deflated)
        and all(
            isinstance(part, tuple)
            and len(part) == 2
            and isinstance(part[0], str)
            and isinstance(part[1], bytes)
            and (blob is None or isinstance(blob, bytes))
            for part, blob in zip(skeleton.parts, skeleton.deflated, strict=True)
        )
    )


def _make_skeleton() -> _Skeleton | None:
    """Build an empty list with python-docx and cut it into the pieces _plain_package fills."""
    import io
    import types
    import zipfile

    stand_in = types.SimpleNamespace(committee_name=_SENTINEL_AUTHOR)
    package = _python_docx_package(
        profile=stand_in, letter_date=_SENTINEL_DATE, title=_SENTINEL_TITLE, pages=()
    )
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = tuple((info.filename, source.read(info.filename)) for info in source.infolist())
    named = dict(parts)
    document = named["word/document.xml"].decode("utf-8")
    body = re.search(
        r"<w:body>(.*)(<w:sectPr\b.*</w:sectPr>)(</w:body></w:document>)$", document, re.S
    )
    if body is None:  # python-docx changed its empty document: keep to its own path
        return None
    from cchc_letters.deflate import deflated

    written_anew = ("word/document.xml", "docProps/core.xml")
    return _Skeleton(
        parts=parts,
        document_start=document[: body.start(1)] + body.group(1),
        final_section=body.group(2),
        document_end=body.group(3),
        core=named["docProps/core.xml"].decode("utf-8"),
        deflated=tuple(None if name in written_anew else deflated(data) for name, data in parts),
    )
