"""Does a rendered letter fit one page? An estimate from the page's geometry.

The guarantee that a letter fits one page is the per-field length limits of
data/columns.toml, which `templates check` proves for a template by rendering every limited
field at its limit with LibreOffice. This is the safety net, at generate time, for what a
limit cannot cover: a commune's edited template that prints a field without a limit (a
note), a template or profile changed since it was checked. A letter it refuses is that
row's rejection (``letter_too_long``), never a letter printed over two pages.

Hand-written, not a layout engine: LibreOffice takes about a second per letter, and the
libraries that lay out DOCX need Word or a licence. This counts lines: each paragraph's
characters (capitals and bold wider) at their font size over its line width (page width
less margins and indents, or a table cell's width), times its line height, plus its spacing
before and after; a table row is as tall as its tallest cell; characters have the widths
of Times (Adobe's metrics). It is within about 5 % of LibreOffice (``FULL_PAGE``), so it
refuses only a letter surely over a page: a net for gross overflows (a long note printed
by a commune template), not a second page check.

Measuring costs about twice a letter's rendering (0.4-0.9 ms), so a batch measures only
letters longer than the longest that fit (``LetterFit.calibrate``: the run's samples with
every limited field at its limit): an ordinary letter costs one length comparison (in the
3,000 births of benchmarks/bench_batch.py, 43 letters were measured: 38 ms of 4.0 s), and
a paragraph already measured (the template's own wording, schedule rows children share) is
not measured again. The blind spot of that shortcut: a letter whose XML is no longer than
those samples', with its text where the samples had table rows (a commune template printing
a long unlimited field in a letter with few schedule rows), is not measured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Character widths in thousandths of the font size: the Adobe metrics of Times Roman and
# Times Bold, which Times New Roman (and LibreOffice's Liberation Serif) match. A Vietnamese
# letter is as wide as its base letter (ễ as e, Đ as D, ư as u).
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_REGULAR_WIDTHS = (
    "444 500 444 500 444 333 500 500 278 278 500 278 778 500 500 500 500 333 389 278 500 500 "
    "722 500 500 444 722 667 667 722 611 556 722 722 333 389 722 611 889 722 722 556 722 667 "
    "556 611 722 722 944 722 722 611"
)
_BOLD_WIDTHS = (
    "500 556 444 556 444 333 500 556 278 333 556 278 833 556 500 556 556 444 389 333 556 500 "
    "722 500 500 444 722 667 722 722 667 611 778 778 389 500 778 667 944 722 778 611 778 722 "
    "556 667 722 722 1000 722 722 667"
)
_OTHER = {" ": 250, ",": 250, ".": 250, ":": 278, ";": 278, "/": 278, "-": 333, "(": 333}
_OTHER |= {")": 333, "–": 500, "—": 1000, "&": 778, "\u00a0": 250}
_OTHER |= dict.fromkeys("0123456789", 500)
# A line breaks before the word that does not fit: on average half a word of its width
# stays empty (about 3 %).
LINE_FILL = 0.97
# A single-spaced line is about 1.15 of the font size tall (Times New Roman's ascent and
# descent); 1.1 errs on the side of less height.
LINE_HEIGHT_EM = 1.15
CELL_MARGINS = 2 * 108  # twips, Word's default left and right cell margins
# The estimate is within about 5 % of LibreOffice's layout either way (measured: the
# shipped letters' samples from 1 % under to 2.3 % over; a letter of one long bold
# paragraph 5.6 % over, a wide-lettered bold name 2 % under). A safety net must not refuse a
# letter that fits: only a letter estimated over 105 % of the text area is refused, one
# surely over a page.
FULL_PAGE = 1.05

_INT = r'"(-?\d+)"'
_PG_SZ_W = re.compile(r"<w:pgSz\b[^>]*?\bw:w=" + _INT)
_PG_SZ_H = re.compile(r"<w:pgSz\b[^>]*?\bw:h=" + _INT)
_MARGIN = {
    side: re.compile(rf"<w:pgMar\b[^>]*?\bw:{side}={_INT}")
    for side in ("top", "bottom", "left", "right")
}
_NORMAL_STYLE = re.compile(r'<w:style\b[^>]*w:styleId="Normal".*?</w:style>', re.DOTALL)
_DEFAULTS = re.compile(r"<w:docDefaults>.*?</w:docDefaults>", re.DOTALL)
_SIZE = re.compile(r"<w:sz w:val=" + _INT)
_CELL_WIDTH = re.compile(r'<w:tcW\b[^>]*?\bw:w="(\d+)"')
_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")
_ENTITY = re.compile(r"&[#\w]+;")
_BREAK = re.compile(r"<w:br/>|<w:br [^>]*/>|<w:cr/>")
_BOLD = re.compile(r'<w:b/>|<w:b w:val="(?:1|true|on)"/>')
_SPACING = re.compile(r"<w:spacing\b[^>]*/>")
_IND = re.compile(r"<w:ind\b[^>]*/>")
_ATTR = re.compile(r'\bw:(\w+)="([^"]*)"')


@dataclass(frozen=True)
class PageGeometry:
    """A template's text area (twips) and its body text's font size (half-points)."""

    width: int
    height: int
    size: int

    @classmethod
    def of(cls, template: Any) -> PageGeometry:
        """Return the geometry of a LetterTemplate, read once and kept on it."""
        found = getattr(template, "_page_geometry", None)
        if found is None:
            found = cls.read(template.section_properties, _styles(template))
            template._page_geometry = found
        return found

    @classmethod
    def read(cls, section_properties: str, styles: str = "") -> PageGeometry:
        """Return the geometry of a ``<w:sectPr>`` (A4, 2 cm margins when it says nothing)."""

        def number(pattern: re.Pattern[str], default: int) -> int:
            found = pattern.search(section_properties)
            return int(found[1]) if found else default

        margins = {side: abs(number(p, 1134)) for side, p in _MARGIN.items()}
        width = number(_PG_SZ_W, 11906) - margins["left"] - margins["right"]
        height = number(_PG_SZ_H, 16838) - margins["top"] - margins["bottom"]
        size = 24  # Word's 12 pt
        for part in (_DEFAULTS.search(styles), _NORMAL_STYLE.search(styles)):
            if part and (found := _SIZE.search(part[0])):
                size = int(found[1])
        return cls(max(width, 1440), max(height, 1440), size)


def _styles(template: Any) -> str:
    for info, data in template.other_parts:
        if info.filename == "word/styles.xml":
            return bytes(data).decode("utf-8", "replace")
    return ""


class LetterFit:
    """A template's page, and the longest body XML known to fit it (``of(template)``)."""

    def __init__(self, geometry: PageGeometry) -> None:
        self.geometry = geometry
        # A letter whose body XML is no longer than one measured to fit is taken to fit
        # without measuring: its extra length is text, and text only grows a letter. With
        # the run's samples measured (``calibrate``), only a letter longer than the longest
        # of them (every limited field at its limit) costs a measure (~0.3 ms).
        self.fits_within = 0
        # (paragraph XML, width) -> its height: a template's fixed wording, and the schedule
        # rows children share, come back in every letter measured (``_paragraphs_height``)
        self._heights: dict[tuple[str, int], int] = {}

    @classmethod
    def of(cls, template: Any) -> LetterFit:
        """Return the fit of a LetterTemplate, made once and kept on it."""
        found = getattr(template, "_letter_fit", None)
        if found is None:
            found = cls(PageGeometry.of(template))
            template._letter_fit = found
        return found

    def calibrate(self, bodies: Any) -> None:
        """Measure sample letters' bodies: the longest that fits sets ``fits_within``."""
        for body in sorted(bodies, key=len, reverse=True):  # the longest that fits
            if len(body) <= self.fits_within:
                break
            if self._fits(self.height(body)):
                self.fits_within = len(body)
                break

    def fits(self, body_xml: str) -> bool:
        """Return False when a letter's body is surely longer than one page."""
        if len(body_xml) <= self.fits_within:
            return True
        return self._fits(self.height(body_xml))

    def _fits(self, height: int) -> bool:
        return height <= self.geometry.height * FULL_PAGE

    def height(self, body_xml: str) -> int:
        """Return the estimated height (twips) of a letter's body XML (always measured).

        The XML is cut with str.split and str.find (regular expressions over the whole
        body scan it character by character at Python's pace); tables are not nested in
        letters, and a paragraph ends at its ``</w:p>``.
        """
        geometry = self.geometry
        paragraphs_height = self._paragraphs_height
        height, rest = 0, body_xml
        while (start := rest.find("<w:tbl>")) >= 0 and (end := rest.find("</w:tbl>", start)) >= 0:
            height += paragraphs_height(rest[:start], geometry.width)
            for row in rest[start:end].split("</w:tr>")[:-1]:
                tallest = 0
                for cell in row.split("</w:tc>")[:-1]:
                    found = _CELL_WIDTH.search(cell)
                    width = int(found[1]) - CELL_MARGINS if found else geometry.width
                    tallest = max(tallest, paragraphs_height(cell, max(width, 720)))
                height += tallest
            rest = rest[end + len("</w:tbl>") :]
        return height + paragraphs_height(rest, geometry.width)

    def _paragraphs_height(self, xml: str, width: int) -> int:
        """Return the height of the paragraphs of ``xml`` set ``width`` twips wide, each
        distinct paragraph measured once (most of a letter's are in every letter)."""
        heights = self._heights
        height = 0
        for paragraph in xml.split("</w:p>")[:-1]:
            key = (paragraph, width)
            found = heights.get(key)
            if found is None:
                if len(heights) >= _HEIGHTS_KEPT:
                    heights.clear()
                found = heights[key] = _paragraph_height(paragraph, width, self.geometry)
            height += found
        return height

    def pages(self, body_xml: str) -> float:
        """Return the estimated height in pages (1.0 is a full page)."""
        return self.height(body_xml) / self.geometry.height


# Paragraph heights a LetterFit keeps at most (then it starts afresh): a few hundred
# distinct paragraphs per template, so that distinct ones (names, notes) cannot grow it.
_HEIGHTS_KEPT = 4096


def estimated_height(body_xml: str, geometry: PageGeometry) -> int:
    """Return the estimated height (twips) of a letter's body XML (nothing kept)."""
    return LetterFit(geometry).height(body_xml)


def _paragraph_height(xml: str, width: int, geometry: PageGeometry) -> int:
    end = xml.find("</w:pPr>")
    properties = xml[:end] if end >= 0 else ""
    spacing = _attributes(_SPACING.search(properties)) if "<w:spacing" in properties else {}
    indent = _attributes(_IND.search(properties)) if "<w:ind" in properties else {}
    size = max(map(int, _SIZE.findall(xml)), default=geometry.size)  # half-points
    rule = spacing.get("lineRule", "auto")
    if "line" in spacing and rule == "exact":
        line = abs(int(spacing["line"]))
    else:
        scale = int(spacing["line"]) / 240 if "line" in spacing and rule == "auto" else 1.0
        line = round(size * 10 * LINE_HEIGHT_EM * scale)
    usable = width - int(indent.get("left", 0) or 0) - int(indent.get("right", 0) or 0)
    usable -= max(0, int(indent.get("firstLine", 0) or 0))  # as if on every line: a little more
    lines = max(
        1, -(-_text_width(xml[end + 1 :] if end >= 0 else xml, geometry) // max(usable, 720))
    )
    if "<w:br" in xml or "<w:cr" in xml:
        lines += len(_BREAK.findall(xml))
    before = int(spacing.get("before", 0) or 0)
    after = int(spacing.get("after", 0) or 0)
    return lines * line + before + after


def _text_width(xml: str, geometry: PageGeometry) -> int:
    """Return the width (twips) of a paragraph's runs set on one line: each character at
    its run's size and weight."""
    total = 0.0
    for run in xml.split("</w:r>"):
        if "<w:t" not in run:
            continue
        text = "".join(_TEXT.findall(run))
        if "&" in text:
            text = _ENTITY.sub("&", text)
        found = _SIZE.search(run)
        size = int(found[1]) if found else geometry.size
        widths = _WIDTHS[bool(_BOLD.search(run))]
        thousandths = sum(widths.get(char) or _width(widths, char) for char in text)
        total += thousandths / 1000 * size * 10
    return round(total / LINE_FILL)


def _width(widths: dict[str, int], char: str) -> int:
    """Return the width of a character not in the table (a Vietnamese letter: its base)."""
    import unicodedata

    base = unicodedata.normalize("NFD", char)[0]
    base = {"đ": "d", "Đ": "D"}.get(base, base)
    width = widths.get(base, 500)
    widths[char] = width  # remembered: the same few letters come back
    return width


_WIDTHS = {
    weight: {**dict(zip(_LETTERS, map(int, table.split()), strict=True)), **_OTHER}
    for weight, table in ((False, _REGULAR_WIDTHS), (True, _BOLD_WIDTHS))
}


def _attributes(element: re.Match[str] | None) -> dict[str, str]:
    return dict(_ATTR.findall(element[0])) if element else {}
