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

DOCUMENT_PART = "word/document.xml"
_BODY_OPEN = re.compile(r"<w:body(?:\s[^>]*)?>")
_FINAL_SECT_PR = re.compile(r"<w:sectPr[ >].*?</w:sectPr>\s*$", re.DOTALL)
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_DOC_PR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")(\d+)(")')
_BOOKMARK_ID = re.compile(r'(<w:bookmark(?:Start|End)\b[^>]*?\bw:id=")(\d+)(")')


def template_path(kind: Kind, folder: Path | None = None) -> Path:
    """Return the template file for ``kind``: from ``folder`` when it has one, else the default."""
    from cchc_letters.kinds import entry

    letter = entry(kind)
    if folder is not None:
        candidate = Path(folder) / letter.template_name
        if candidate.is_file():
            return candidate
    return letter.default_template()


# Characters XML 1.0 forbids (control characters, lone surrogates, U+FFFE/U+FFFF): one in a
# registry value (pasted from another program) would make Word refuse the whole print file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\t\r\n]")  # inside <w:t> they would show as stray spaces


def printable(value: Any) -> Any:
    """Return what a placeholder prints: '' for None; text without XML-forbidden characters,
    tabs and line breaks as spaces.

    Jinja applies this to every ``{{ }}`` value before autoescaping.
    """
    if value is None:
        return ""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _NOT_XML.sub("", _LINE_BREAKS.sub(" ", value))
    return value


def jinja_environment():
    """Return the sandboxed, autoescaping, strict Jinja environment with the letter filters."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from cchc_letters.filters import FILTERS

    env = ImmutableSandboxedEnvironment(
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=printable,
    )
    # Only the documented filters (filters.FILTER_SPECS): no ``safe``, no surprises.
    env.filters = dict(FILTERS)
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
    document_xml: str = ""  # word/document.xml as stored, for the lint (templatelint.py)

    @classmethod
    def load(cls, path: Path) -> LetterTemplate:
        """Return the template at ``path`` cleaned and compiled; TemplateProblem if unusable."""
        return cls.compile(read_template(path))

    @classmethod
    def compile(cls, parts: TemplateSource) -> LetterTemplate:
        """Return the compiled template of a package read by ``read_template``."""
        from jinja2 import TemplateSyntaxError

        try:
            compiled = jinja_environment().from_string(parts.source)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                f"{parts.path}: {_syntax_message(exc.message)} "
                f"(gần: {text_near(parts.source, exc.lineno, _quoted(exc.message))!r})"
            ) from None
        return cls(
            path=parts.path,
            source=parts.source,
            compiled=compiled,
            document_prefix=parts.document_prefix,
            document_suffix=parts.document_suffix,
            section_properties=parts.section_properties,
            other_parts=parts.other_parts,
            renumber_ids=bool(_DOC_PR_ID.search(parts.source) or _BOOKMARK_ID.search(parts.source)),
            document_xml=parts.document_xml,
        )

    def render_body(self, context: Mapping[str, Any], index: int = 0) -> str:
        """Return the body XML of one letter (no final section properties).

        ``index`` (the letter's position in its print file) keeps drawing and bookmark ids
        unique when many letters share one document.
        """
        from jinja2 import TemplateError

        try:
            xml = self.compiled.render(context)
        except (
            TemplateError,
            TypeError,
            ValueError,
            AttributeError,
            LookupError,
            ArithmeticError,
        ) as exc:
            # Any failure inside a template is the template's problem, reported in one line
            # (never a traceback: the context holds names and ID numbers).
            raise TemplateProblem(f"{self.path}: {describe_template_error(exc)}") from None
        xml = xml.replace("\n<w:p", "<w:p")
        if self.renumber_ids:
            offset = (index + 1) * 1000
            xml = _DOC_PR_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
            xml = _BOOKMARK_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
        return xml

    def render_document(self, context: Mapping[str, Any]) -> str:
        """Return a whole ``word/document.xml`` holding one letter (for the XML check).

        Files are written by output.py only (``write_single_letter``, ``PrintFile``).
        """
        return (
            self.document_prefix
            + self.render_body(context)
            + self.section_properties
            + self.document_suffix
        )


@dataclass(frozen=True)
class TemplateSource:
    """A template's package split into what Jinja compiles and what is copied unchanged."""

    path: Path
    document_xml: str  # word/document.xml as stored (before docxtpl's clean-up)
    source: str  # the cleaned body, one paragraph per line
    document_prefix: str
    document_suffix: str
    section_properties: str
    other_parts: tuple[tuple[zipfile.ZipInfo, bytes], ...]


def read_template(path: Path) -> TemplateSource:
    """Return the template at ``path`` cleaned by docxtpl (tags split by Word rejoined).

    Raises TemplateProblem when the file is not a usable DOCX.
    """
    from docxtpl import DocxTemplate

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
        raise TemplateProblem(f"{path}: mẫu thư thiếu phần thân hoặc định dạng trang (w:sectPr)")
    inner = body_xml[opening.end() : sect_pr.start()]
    body_close = document_xml.rindex("</w:body>")
    return TemplateSource(
        path=path,
        document_xml=document_xml,
        # Put each paragraph on its own line so Jinja's line numbers point near the error.
        source=_PARAGRAPH_START.sub(r"\n<w:p\1", inner),
        document_prefix=document_xml[: doc_body.end()],
        document_suffix=document_xml[body_close:],
        section_properties=sect_pr.group(0),
        other_parts=other_parts,
    )


def describe_template_error(exc: Exception) -> str:
    """Return a Vietnamese one-line description of a Jinja error raised while rendering."""
    from jinja2 import TemplateError, UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, SecurityError):
        return f"mẫu thư dùng thao tác không được phép (sandbox, not allowed): {exc}"
    if isinstance(exc, UndefinedError):
        return f"biến không có trong dữ liệu thư (undefined variable): {exc.message}"
    if isinstance(exc, TemplateError):
        return f"lỗi khi điền mẫu thư: {exc.message or exc}"
    return f"lỗi khi điền mẫu thư ({type(exc).__name__}): {exc}"


def text_near(source: str, lineno: int | None, focus: str | None = None, width: int = 160) -> str:
    """Return the visible text of the paragraph at line ``lineno`` of a cleaned body.

    Each paragraph is one line of the source; when that paragraph shows no text (a table
    row, an empty paragraph), the next lines with text are used. A long paragraph is cut to
    ``width`` characters around ``focus`` (the name in the error) when it occurs.
    """
    if not lineno:
        return ""
    lines = source.splitlines()
    for line in lines[lineno - 1 : lineno + 2]:
        text = re.sub(r"<[^>]+>", "", line).strip()
        if not text:
            continue
        if len(text) <= width:
            return text
        at = text.find(focus) if focus else -1
        start = max(0, min(at - width // 2, len(text) - width)) if at >= 0 else 0
        cut = text[start : start + width]
        return ("…" if start else "") + cut + ("…" if start + width < len(text) else "")
    return ""


def _syntax_message(message: str | None) -> str:
    """Return a compile error in Vietnamese; an unknown filter with the closest known one."""
    import difflib

    from cchc_letters.filters import FILTERS

    unknown = re.fullmatch(r"No filter named '([^']+)'\.?", message or "")
    if unknown:
        close = difflib.get_close_matches(unknown[1], sorted(FILTERS), n=1, cutoff=0.5)
        hint = f" — có phải ý bạn là `{close[0]}`? (did you mean)" if close else ""
        return f"bộ lọc không tồn tại (unknown filter): {unknown[1]}{hint}"
    return f"lỗi cú pháp trong mẫu thư: {message}"


def _quoted(message: str | None) -> str | None:
    """Return the first 'quoted' name in a Jinja error message (what to show the text around)."""
    found = re.search(r"'([^']+)'", message or "")
    return found[1] if found else None


def load_templates(kinds: set[Kind], folder: Path | None = None) -> dict[Kind, LetterTemplate]:
    """Return the compiled template of each kind, from ``folder`` or the defaults.

    Raises TemplateProblem naming every template that cannot be loaded (not a DOCX, Jinja
    syntax); what else is wrong with a loaded one is templatelint's to say.
    """
    loaded, problems = {}, []
    for kind in sorted(kinds):
        try:
            loaded[kind] = LetterTemplate.load(template_path(kind, folder))
        except TemplateProblem as exc:
            problems.append(exc.message)
    if problems:
        lines = "\n  ".join(problems)
        raise TemplateProblem(
            f"mẫu thư có lỗi, chưa tạo thư nào (template errors, nothing written):\n  {lines}",
            hint="Sửa mẫu thư rồi chạy: cchc-letters templates check",
        )
    return loaded
