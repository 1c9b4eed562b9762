"""Letter templates: a DOCX with docxtpl placeholders, compiled once, rendered per letter.

docxtpl's own ``render()`` reloads the package and recompiles Jinja for every letter. Here a
template is cleaned once with docxtpl's ``patch_xml`` (which rejoins placeholders that Word
split across runs and turns ``{%p %}``/``{%tr %}`` into plain Jinja), compiled once in Jinja's
sandbox with autoescape and strict undefined, and each letter renders only its body XML.
The print-file writer (output.py) streams those bodies into one document.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind
from cchc_letters.resources import templates_dir

DOCUMENT_PART = "word/document.xml"
_BODY_OPEN = re.compile(r"<w:body(?:\s[^>]*)?>")
_FINAL_SECT_PR = re.compile(r"<w:sectPr[ >].*?</w:sectPr>\s*$", re.DOTALL)
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_DOC_PR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")(\d+)(")')
_BOOKMARK_ID = re.compile(r'(<w:bookmark(?:Start|End)\b[^>]*?\bw:id=")(\d+)(")')


def template_path(kind: Kind, folder: Path | None = None) -> Path:
    """Return the template file for ``kind``: from ``folder`` when it has one, else the default."""
    if folder is not None:
        candidate = Path(folder) / f"{kind.value}.docx"
        if candidate.is_file():
            return candidate
    return templates_dir() / f"{kind.value}.docx"


def jinja_environment():
    """Return the sandboxed, autoescaping, strict Jinja environment with the letter filters."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from cchc_letters.filters import FILTERS

    env = ImmutableSandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
    )
    env.filters.update(FILTERS)
    return env


@dataclass
class LetterTemplate:
    """A compiled letter template and the fixed parts of its DOCX package."""

    path: Path
    source: str  # the cleaned body XML the Jinja template was compiled from
    compiled: Any  # jinja2.Template
    document_prefix: str  # word/document.xml up to and including <w:body>
    document_suffix: str  # </w:body></w:document>
    section_properties: str  # the template's final <w:sectPr>
    other_parts: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    renumber_ids: bool

    @classmethod
    def load(cls, path: Path) -> LetterTemplate:
        """Return the template at ``path`` cleaned and compiled; TemplateProblem if unusable."""
        from docxtpl import DocxTemplate
        from jinja2 import TemplateSyntaxError

        path = Path(path)
        try:
            with zipfile.ZipFile(path) as package:
                other_parts = tuple(
                    (info, package.read(info.filename))
                    for info in package.infolist()
                    if info.filename != DOCUMENT_PART
                )
                document_xml = package.read(DOCUMENT_PART).decode("utf-8")
            docx = DocxTemplate(str(path))
            docx.init_docx()
            body_xml = docx.patch_xml(docx.get_xml())
        except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
            raise TemplateProblem(f"{path}: không mở được mẫu thư DOCX ({exc})") from None

        opening = _BODY_OPEN.match(body_xml)
        sect_pr = _FINAL_SECT_PR.search(body_xml[: -len("</w:body>")])
        doc_body = _BODY_OPEN.search(document_xml)
        if not opening or not body_xml.endswith("</w:body>") or not sect_pr or not doc_body:
            raise TemplateProblem(
                f"{path}: mẫu thư thiếu phần thân hoặc định dạng trang (w:sectPr)"
            )
        inner = body_xml[opening.end() : sect_pr.start()]
        # Put each paragraph on its own line so Jinja's line numbers point near the error.
        source = _PARAGRAPH_START.sub(r"\n<w:p\1", inner)
        try:
            compiled = jinja_environment().from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                f"{path}: lỗi cú pháp trong mẫu thư: {exc.message} "
                f"(gần: {_text_near(source, exc.lineno)!r})"
            ) from None
        body_close = document_xml.rindex("</w:body>")
        return cls(
            path=path,
            source=source,
            compiled=compiled,
            document_prefix=document_xml[: doc_body.end()],
            document_suffix=document_xml[body_close:],
            section_properties=sect_pr.group(0),
            other_parts=other_parts,
            renumber_ids=bool(_DOC_PR_ID.search(source) or _BOOKMARK_ID.search(source)),
        )

    def render_body(self, context: Mapping[str, Any], index: int = 0) -> str:
        """Return the body XML of one letter (no final section properties).

        ``index`` (the letter's position in its print file) keeps drawing and bookmark ids
        unique when many letters share one document.
        """
        from jinja2 import TemplateError

        try:
            xml = self.compiled.render(context)
        except TemplateError as exc:
            raise TemplateProblem(f"{self.path}: {describe_template_error(exc)}") from None
        xml = xml.replace("\n<w:p", "<w:p")
        if self.renumber_ids:
            offset = (index + 1) * 1000
            xml = _DOC_PR_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
            xml = _BOOKMARK_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
        return xml

    def render_document(self, context: Mapping[str, Any]) -> str:
        """Return a whole ``word/document.xml`` holding one letter."""
        return (
            self.document_prefix
            + self.render_body(context)
            + self.section_properties
            + self.document_suffix
        )


def describe_template_error(exc: Exception) -> str:
    """Return a Vietnamese one-line description of a Jinja error raised while rendering."""
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, UndefinedError):
        return f"biến không có trong dữ liệu thư (undefined variable): {exc.message}"
    if isinstance(exc, SecurityError):
        return f"mẫu thư dùng thao tác không được phép (sandbox): {exc}"
    return f"lỗi khi điền mẫu thư: {exc}"


def _text_near(source: str, lineno: int | None) -> str:
    if not lineno:
        return ""
    lines = source.splitlines()[max(lineno - 2, 0) : lineno + 1]
    return re.sub(r"<[^>]+>", "", "".join(lines))[:120]


def load_templates(kinds: set[Kind], folder: Path | None = None) -> dict[Kind, LetterTemplate]:
    """Return the compiled template of each kind, from ``folder`` or the defaults."""
    return {kind: LetterTemplate.load(template_path(kind, folder)) for kind in sorted(kinds)}
