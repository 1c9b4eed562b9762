"""Build the default letter templates in templates/ (run once; editors then use Word).

    python tools/build_templates.py

The templates are ordinary DOCX files with docxtpl (Jinja) placeholders; this script only
exists so the defaults can be rebuilt reproducibly. Layout per Nghị định 30/2020/NĐ-CP,
appendix I: A4 portrait, margins 20/20/30/15 mm, Times New Roman, two-column header with the
agency on the left and the quốc hiệu / tiêu ngữ on the right, italic place-and-date line,
signature block on the right.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

FONT = "Times New Roman"
TABLE_PT = 10
NOTES_PT = 10  # the notes under the schedule table: the longest birth letter has four
OUT = Path(__file__).resolve().parent.parent / "templates"


def set_fonts(rpr_parent) -> None:
    """Set Times New Roman for every script slot (ascii, hAnsi, cs, eastAsia)."""
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)


def new_document(body_size: float = 13):
    doc = Document()
    # python-docx's default template carries a stylesWithEffects part (Word 2010) that no
    # longer matches styles.xml: Word may offer to repair the file. The letters need none.
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(r_id)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True  # no page number on page 1
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(body_size)
    set_fonts(normal.element)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), 1.0
    # Language: Vietnamese, so Word's spelling check does not mark every word.
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")
    normal.element.get_or_add_rPr().append(lang)
    return doc


def para(
    container,
    text: str = "",
    *,
    bold=False,
    italic=False,
    size=None,
    align=None,
    indent_first=None,
    space_after=None,
    space_before=None,
    keep_next=False,
):
    p = container.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    if indent_first is not None:
        fmt.first_line_indent = indent_first
    if space_after is not None:
        fmt.space_after = Pt(space_after)
    if space_before is not None:
        fmt.space_before = Pt(space_before)
    if keep_next:
        fmt.keep_with_next = True
    return p


def add_runs(p, parts, size=None):
    """Add runs to paragraph p: parts is a list of (text, bold, italic)."""
    for text, bold, italic in parts:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    return p


def rule(container, indent_cm: float, *, space_after: float = 0):
    """A short solid line: an empty, tiny paragraph with a top border, indented both sides."""
    p = container.add_paragraph()
    fmt = p.paragraph_format
    fmt.left_indent, fmt.right_indent = Cm(indent_cm), Cm(indent_cm)
    fmt.space_after = Pt(space_after)
    fmt.line_spacing = Pt(2)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    borders.append(top)
    # pBdr must precede spacing, ind and jc in pPr (schema order), or Word reports damage.
    ppr.insert_element_before(
        borders,
        "w:shd",
        "w:tabs",
        "w:suppressAutoHyphens",
        "w:spacing",
        "w:ind",
        "w:jc",
        "w:rPr",
    )
    run = p.add_run("")
    run.font.size = Pt(2)
    return p


def borderless(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    # schema order: tblBorders comes before shd, tblLayout, tblCellMar and tblLook
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")


def set_widths(table, widths_cm) -> None:
    """Fix column widths in the grid and every cell (LibreOffice reads the grid, Word the cells)."""
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths_cm, strict=True):
        col.w = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def header(doc) -> None:
    """Agency (left) and quốc hiệu / tiêu ngữ (right), then the italic place-and-date line."""
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    borderless(table)
    set_widths(table, [6.0, 10.5])
    left, right = table.rows[0].cells
    left.paragraphs[0].text = "{%p for line in header.parent_lines %}"
    para(left, "{{ line }}", size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(left, "{%p endfor %}")
    para(left, "{%p for line in header.agency_lines %}")
    para(left, "{{ line }}", bold=True, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(left, "{%p endfor %}")
    rule(left, 2.0)
    right.paragraphs[0].text = ""
    add_runs(right.paragraphs[0], [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False)], size=12)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER)
    rule(right, 2.3)
    date_cell = table.rows[1].cells[1]
    date_cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    date_cell.paragraphs[0].paragraph_format.space_before = Pt(6)
    add_runs(
        date_cell.paragraphs[0],
        [("{{ commune.place_name }}, {{ letter_date|admin_date }}", False, True)],
        size=13,
    )


def title(doc, text: str, subtitle: str | None = None) -> None:
    para(
        doc,
        text,
        bold=True,
        size=15,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_before=18,
        space_after=0 if subtitle else 12,
    )
    if subtitle:
        para(doc, subtitle, italic=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)


def addressee(doc) -> None:
    p = para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=2)
    add_runs(p, [("Kính gửi: ", False, False), ("{{ addressee }}", True, False)])
    p = para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)
    add_runs(p, [("{% if address %}Địa chỉ: {{ address }}{% endif %}", False, True)], size=12)


def body(doc, parts, *, space_after=6, size=None):
    p = para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=Cm(1.27), space_after=space_after)
    p.paragraph_format.line_spacing = 1.0
    return add_runs(p, parts, size=size)


def signature(doc, closing: str = "") -> None:
    """The signature block on the right; an optional closing line ("Trân trọng!") on the left."""
    table = doc.add_table(rows=1, cols=2)
    borderless(table)
    set_widths(table, [7.0, 9.5])
    # Never split the block across pages: the title, the room for signature and seal
    # (36 pt) and the name stay together.
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if closing:
        left = table.rows[0].cells[0].paragraphs[0]
        left.paragraph_format.first_line_indent = Cm(1.27)
        left.paragraph_format.space_before = Pt(6)
        add_runs(left, [(closing, False, False)])
    cell = table.rows[0].cells[1]
    first = cell.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    first.paragraph_format.space_before = Pt(6)
    add_runs(first, [("{{ signer.authority }}", True, False)])
    para(cell, "{{ signer.title }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(cell, "", space_after=36)
    para(cell, "{{ signer.name }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)


def shade(cell, fill: str = "EDEDED") -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def schedule_table(doc) -> None:
    """One row per visit; docxtpl's {%tr %} repeats the middle row."""
    # "Cần tiêm ngay (trong tháng đầu sau sinh)" in two lines, a dd/mm/yyyy date in one
    widths = [3.7, 8.4, 2.2, 2.2]
    table = doc.add_table(rows=4, cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    heads = ["Thời điểm", "Vắc xin, mũi tiêm", "Từ ngày", "Buổi tiêm"]
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_runs(cell.paragraphs[0], [(text, True, False)], size=TABLE_PT)
        shade(cell)
    table.rows[1].cells[0].paragraphs[0].text = "{%tr for visit in schedule.visits %}"
    cells = table.rows[2].cells
    add_runs(
        cells[0].paragraphs[0],
        [("{{ visit.label }}", False, False)],
        size=TABLE_PT,
    )
    add_runs(
        cells[1].paragraphs[0], [("{{ visit.vaccines|capfirst }}", False, False)], size=TABLE_PT
    )
    cells[2].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_runs(
        cells[2].paragraphs[0],
        [("{% if not visit.at_school %}{{ visit.due|short_date }}{% endif %}", False, False)],
        size=TABLE_PT,
    )
    cells[3].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_runs(
        cells[3].paragraphs[0],
        [
            (
                "{% if visit.session %}{{ visit.session|short_date }}"
                "{% else %}{{ visit.where }}{% endif %}",
                False,
                False,
            )
        ],
        size=TABLE_PT,
    )
    table.rows[3].cells[0].paragraphs[0].text = "{%tr endfor %}"
    set_widths(table, widths)


def birth() -> None:
    doc = new_document()
    header(doc)
    title(doc, "THƯ CHÚC MỪNG")
    addressee(doc)
    body(
        doc,
        [
            (
                "{{ commune.committee }} vui mừng được biết gia đình đã đăng ký khai sinh "
                "cho {{ child.honorific }} ",
                False,
                False,
            ),
            ("{{ child.name }}", True, False),
            (
                ", sinh ngày {{ child.birth_date|short_date }}"
                "{% if birth_place %} tại {{ birth_place }}{% endif %}"
                " (đăng ký ngày {{ registration.date|short_date }}, số {{ registration.number }}"
                "{% if registration.book %}, quyển số {{ registration.book }}{% endif %}). "
                "Ủy ban nhân dân {{ commune.title }} xin gửi tới gia đình lời chúc mừng tốt đẹp nhất. "
                "Chúc {{ child.honorific }} luôn khỏe mạnh, ngoan ngoãn, lớn lên trong tình yêu thương "
                "của gia đình và cộng đồng.",
                False,
                False,
            ),
        ],
    )
    body(
        doc,
        [
            (
                "Để phòng bệnh cho {{ child.honorific }}, đề nghị gia đình đưa {{ child.honorific }} "
                "đi tiêm chủng đầy đủ, đúng lịch tại ",
                False,
                False,
            ),
            ("{{ station.name }}", True, False),
            (
                "{% if station.address %} ({{ station.address }}){% endif %}"
                "{% if station.phone %}, điện thoại {{ station.phone }}{% endif %}"
                " vào {{ station.sessions }}. Lịch tiêm chủng của {{ child.honorific }} theo "
                "Chương trình Tiêm chủng mở rộng ({{ schedule.legal_basis }}):",
                False,
                False,
            ),
        ],
        space_after=4,
    )
    schedule_table(doc)
    p = para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_before=4, space_after=6)
    add_runs(
        p,
        [
            (
                "{% for note in schedule.notes %}{{ note }} {% endfor %}"
                "Ngày tiêm cụ thể có thể thay đổi theo thông báo của trạm y tế; khi đi tiêm, "
                "gia đình mang theo sổ hoặc phiếu tiêm chủng của {{ child.honorific }}.",
                False,
                True,
            ),
        ],
        size=NOTES_PT,
    )
    signature(doc, closing="Trân trọng!")
    doc.save(OUT / "birth.docx")


def marriage() -> None:
    doc = new_document()
    header(doc)
    title(doc, "THƯ CHÚC MỪNG", "Trăm năm hạnh phúc")
    addressee(doc)
    body(
        doc,
        [
            ("{{ commune.committee }} vui mừng được biết ", False, False),
            (
                "{% if husband.honorific %}{{ husband.honorific }} {% endif %}{{ husband.name }}",
                True,
                False,
            ),
            (" và ", False, False),
            ("{% if wife.honorific %}{{ wife.honorific }} {% endif %}{{ wife.name }}", True, False),
            (
                " đã đăng ký kết hôn ngày {{ registration.date|short_date }} "
                "(số {{ registration.number }}{% if registration.book %}, quyển số "
                "{{ registration.book }}{% endif %}).",
                False,
                False,
            ),
        ],
    )
    body(
        doc,
        [
            (
                "Nhân dịp trọng đại này, Ủy ban nhân dân {{ commune.title }} xin gửi tới "
                "{{ couple.honorific }} và hai bên gia đình lời chúc mừng "
                "tốt đẹp nhất.",
                False,
                False,
            ),
        ],
    )
    body(
        doc,
        [
            (
                "Chúc {{ couple.honorific }} trăm năm hạnh phúc, luôn yêu thương, "
                "tôn trọng và sẻ chia cùng nhau, xây dựng gia đình no ấm, bình đẳng, tiến bộ, "
                "hạnh phúc và văn minh; luôn mạnh khỏe, thành công trong công việc và cuộc sống.",
                False,
                False,
            ),
        ],
    )
    signature(doc, closing="Trân trọng!")
    doc.save(OUT / "marriage.docx")


def death() -> None:
    doc = new_document()
    header(doc)
    title(doc, "THƯ CHIA BUỒN")
    addressee(doc)
    body(
        doc,
        [
            (
                "{{ commune.committee }} vô cùng thương tiếc khi nhận được tin: "
                "{% if deceased.honorific %}{{ deceased.honorific|capfirst }} {% endif %}",
                False,
                False,
            ),
            ("{{ deceased.name }}", True, False),
            (
                "{% if deceased.born_text %}, {{ deceased.born_text }}{% endif %}"
                "{% if deceased.residence %}, cư trú tại {{ deceased.residence }}{% endif %}"
                ", đã {{ death.verb }} ngày {{ death.date|short_date }} "
                "(tức {{ death.date|lunar_date }})"
                "{% if deceased.age_phrase %}, {{ deceased.age_phrase }}{% endif %}.",
                False,
                False,
            ),
        ],
    )
    body(
        doc,
        [
            (
                "Trước sự mất mát to lớn này, Ủy ban nhân dân {{ commune.title }} xin gửi tới "
                "gia đình lời chia buồn sâu sắc nhất. Kính mong gia đình sớm vượt qua nỗi đau buồn, "
                "giữ gìn sức khỏe và ổn định cuộc sống.",
                False,
                False,
            ),
        ],
    )
    body(
        doc,
        [
            ("Xin thành kính chia buồn cùng gia đình!", False, False),
        ],
        space_after=0,
    )
    signature(doc)
    doc.save(OUT / "death.docx")


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    birth()
    marriage()
    death()
    print(f"templates written to {OUT}")
