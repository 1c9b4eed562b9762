"""Checking letter templates before any batch: syntax, names, split tags, sample render, one page.

``check_templates`` is what ``templates check`` prints and what ``generate`` runs first (without
the page count, which needs LibreOffice). Findings are data; the caller decides how to show
them. Nothing here prints.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind
from cchc_letters.render import (
    LetterTemplate,
    TemplateSource,
    _quoted,
    jinja_environment,
    read_template,
    template_path,
    text_near,
)
from cchc_letters.resources import templates_dir
from cchc_letters.variables import (
    LEAF,
    LIST_ITEM,
    SAMPLE_DATE,
    all_names,
    long_contexts,
    sample_context,
    shape,
)

ERROR, WARNING, INFO = "error", "warning", "info"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_COMPLETE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_OPENER = re.compile(r"\{[{%#]")
_LOOP = dict.fromkeys(
    (
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "cycle",
        "previtem",
        "nextitem",
        "depth",
        "depth0",
        "changed",
    ),
    LEAF,
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong (or worth knowing) about a template."""

    file: str
    kind: str | None
    code: str  # syntax_error, split_tag, unknown_variable, unknown_filter, render_error, ...
    message: str  # plain Vietnamese, with the English term in brackets
    severity: str = ERROR
    name: str | None = None  # the unknown variable or filter
    suggestion: str | None = None  # the closest known name
    near: str | None = None  # the template text around the problem
    line: int | None = None

    def __str__(self) -> str:
        text = f"{self.file}: {self.message}"
        if self.suggestion:
            text += f" — có phải ý bạn là `{self.suggestion}`? (did you mean)"
        if self.near:
            text += f" [gần: “{self.near}”]"
        return text

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class CheckReport:
    """The result of checking the templates of some kinds."""

    files: dict[Kind, Path]
    findings: list[Finding] = field(default_factory=list)
    pages: dict[Kind, int] = field(default_factory=dict)  # long-sample page counts
    layout_checked: bool = False
    layout_note: str | None = None
    loaded: dict[Kind, LetterTemplate] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        """Return True when no finding is an error."""
        return not self.errors

    def raise_for_errors(self) -> dict[Kind, LetterTemplate]:
        """Return the compiled templates; raise TemplateProblem listing every error."""
        if self.errors:
            lines = "\n  ".join(str(f) for f in self.errors)
            raise TemplateProblem(
                f"mẫu thư có lỗi, chưa tạo thư nào (template errors, nothing written):\n  {lines}",
                hint="Sửa mẫu thư rồi chạy: cchc-letters templates check",
            )
        return self.loaded

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "templates": {kind.value: str(path) for kind, path in self.files.items()},
            "pages": {kind.value: pages for kind, pages in self.pages.items()},
            "layout_checked": self.layout_checked,
            "layout_note": self.layout_note,
            "findings": [f.to_json() for f in self.findings],
        }


def check_templates(
    folder: Path | None = None,
    *,
    kinds: set[Kind] | None = None,
    profile: Any = None,
    layout: bool = True,
    letter_date: date = SAMPLE_DATE,
) -> CheckReport:
    """Return what is wrong with the templates of ``kinds`` (default: all three).

    ``folder`` is a commune's templates folder (a kind it lacks falls back to the default);
    ``profile`` supplies the sample letter's commune values (default: the demo profile).
    ``layout`` renders each template with long sample values and counts its pages with
    LibreOffice; when LibreOffice is missing ``layout_note`` says so and nothing fails.
    """
    if profile is None:
        from cchc_letters.profile import load_profile

        profile = load_profile(None)
    kinds = set(Kind) if kinds is None else set(kinds)
    files = {kind: template_path(kind, folder) for kind in sorted(kinds)}
    report = CheckReport(files=files)
    if folder is not None:
        report.findings += _folder_findings(Path(folder), files)
    long_letters: dict[Kind, tuple[LetterTemplate, list[dict]]] = {}
    for kind, path in files.items():
        findings, template = check_template(path, kind, profile=profile, letter_date=letter_date)
        report.findings += findings
        if template is not None:
            report.loaded[kind] = template
            long_letters[kind] = (template, long_contexts(kind, profile, letter_date))
    if layout and long_letters:
        _check_pages(report, long_letters)
    elif not layout:
        report.layout_note = "không kiểm tra số trang (page count not checked)"
    return report


# What editors may call the files, for the suggestion: English or Vietnamese, with or without
# accents and hyphens.
_FILE_ALIASES = {
    **{kind.value: f"{kind.value}.docx" for kind in Kind},
    "khai-sinh": "birth.docx",
    "ket-hon": "marriage.docx",
    "khai-tu": "death.docx",
    "chuc-mung-khai-sinh": "birth.docx",
    "chuc-mung-ket-hon": "marriage.docx",
    "chia-buon": "death.docx",
}


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s_]+", "-", plain)


def _folder_findings(folder: Path, files: dict[Kind, Path]) -> list[Finding]:
    findings = []
    if not folder.is_dir():
        return [
            Finding(
                str(folder),
                None,
                "missing_folder",
                "không có thư mục mẫu thư này (templates folder not found): kiểm tra "
                "[letters] templates_dir trong hồ sơ xã, hoặc tạo nó bằng "
                "`cchc-letters templates export`",
            )
        ]
    known = {f"{kind.value}.docx" for kind in Kind}
    for extra in sorted(folder.glob("*.docx")):
        if extra.name not in known and not extra.name.startswith("~$"):
            close = difflib.get_close_matches(
                _ascii(extra.stem), sorted(_FILE_ALIASES), n=1, cutoff=0.6
            )
            findings.append(
                Finding(
                    str(extra),
                    None,
                    "unused_file",
                    "tệp này không được dùng: mẫu thư phải tên birth.docx, marriage.docx "
                    "hoặc death.docx (file name not used)",
                    WARNING,
                    suggestion=_FILE_ALIASES[close[0]] if close else None,
                )
            )
    for kind, path in files.items():
        if path.parent.resolve() == templates_dir().resolve() and folder.resolve() != path.parent:
            findings.append(
                Finding(
                    str(folder / f"{kind.value}.docx"),
                    kind.value,
                    "default_used",
                    f"thư mục không có {kind.value}.docx: dùng mẫu mặc định {path} "
                    "(falls back to the default)",
                    INFO,
                )
            )
    return findings


def check_template(
    path: Path, kind: Kind, *, profile: Any, letter_date: date = SAMPLE_DATE
) -> tuple[list[Finding], LetterTemplate | None]:
    """Return the findings for one template and, when usable, its compiled form."""
    from jinja2 import TemplateSyntaxError

    file = str(path)
    try:
        parts = read_template(path)
    except TemplateProblem as exc:
        return [Finding(file, kind.value, "not_a_template", exc.message)], None
    findings = split_tag_findings(parts, kind) + header_footer_findings(parts, kind)
    env = jinja_environment()
    try:
        ast = env.parse(parts.source)
    except TemplateSyntaxError as exc:
        findings.append(
            Finding(
                file,
                kind.value,
                "syntax_error",
                f"lỗi cú pháp Jinja (syntax error): {exc.message}",
                line=exc.lineno,
                near=text_near(parts.source, exc.lineno, _quoted(exc.message)) or None,
            )
        )
        return findings, None
    findings += name_findings(ast, parts, kind)
    if any(f.severity == ERROR for f in findings):
        return findings, None
    try:
        template = LetterTemplate.compile(parts)
    except TemplateProblem as exc:
        return [*findings, Finding(file, kind.value, "syntax_error", exc.message)], None
    for long in (False, True):
        context = sample_context(kind, profile, letter_date, long=long)
        try:
            document = template.render_document(context)
        except TemplateProblem as exc:
            message = exc.message.removeprefix(f"{path}: ")
            return [*findings, Finding(file, kind.value, "render_error", message)], None
        problem = _xml_problem(document)
        if problem:
            return [
                *findings,
                Finding(
                    file,
                    kind.value,
                    "broken_xml",
                    "thư điền ra không còn là tài liệu Word hợp lệ (rendered XML is broken): "
                    f"{problem}; thường do thẻ {{%p %}} / {{%tr %}} đặt sai chỗ",
                ),
            ], None
    return findings, template


def _xml_problem(document: str) -> str | None:
    from lxml import etree

    try:
        etree.fromstring(document.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        return str(exc)
    return None


# ---- tags Word broke across paragraphs ---------------------------------------------------


def _paragraph_texts(document_xml: str) -> list[str]:
    from lxml import etree

    root = etree.fromstring(document_xml.encode("utf-8"))
    texts = []
    for p in root.iter(f"{_W}p"):
        runs = [
            t.text or ""
            for t in p.iter(f"{_W}t")
            if next(a for a in t.iterancestors(f"{_W}p")) is p  # not a nested text box
        ]
        texts.append("".join(runs))
    return texts


def split_tag_findings(parts: TemplateSource, kind: Kind) -> list[Finding]:
    """Return a finding for every placeholder that starts in one paragraph and ends in another.

    docxtpl rejoins a placeholder split across runs of one paragraph (Word does that after a
    spelling correction or a formatting change mid-word), but not across paragraphs or table
    cells: there the check names the placeholder and the paragraph it starts in.
    """
    findings = []
    try:
        texts = _paragraph_texts(parts.document_xml)
    except Exception as exc:  # noqa: BLE001 - an unreadable XML part is reported, not raised
        return [Finding(str(parts.path), kind.value, "not_a_template", f"XML hỏng: {exc}")]
    for number, text in enumerate(texts, start=1):
        rest = _COMPLETE_TAG.sub("", text)
        opener = _OPENER.search(rest)
        if not opener:
            continue
        following = texts[number] if number < len(texts) else ""
        closer = {"{{": "}}", "{%": "%}", "{#": "#}"}[opener[0]]
        next_opener = _OPENER.search(following)
        if closer not in following[: next_opener.start() if next_opener else None]:
            continue  # simply never closed: the syntax check reports it
        fragment = rest[opener.start() :][:60]
        following = following[:40]
        findings.append(
            Finding(
                str(parts.path),
                kind.value,
                "split_tag",
                f"thẻ “{fragment}” mở ở đoạn văn {number} nhưng không đóng trong cùng đoạn "
                "(placeholder split across paragraphs or table cells): gõ lại cả thẻ trên một "
                "dòng, không nhấn Enter bên trong {{ }} hoặc {% %}",
                name=fragment,
                near=f"{text[-60:]} ¶ {following}".strip(),
            )
        )
    return findings


_HEADER_FOOTER = re.compile(r"word/(header|footer)\d*\.xml")


def header_footer_findings(parts: TemplateSource, kind: Kind) -> list[Finding]:
    """Return a finding for placeholders in the page header or footer, which are not filled.

    Letters are streamed into one print file, so only the body is rendered per letter; a
    placeholder in a header or footer would print as written on every page.
    """
    findings = []
    for info, data in parts.other_parts:
        match = _HEADER_FOOTER.fullmatch(info.filename)
        if not match:
            continue
        text = re.sub(r"<[^>]+>", "", data.decode("utf-8", "replace"))
        tag = _OPENER.search(text)
        if tag:
            where = "đầu trang (header)" if match[1] == "header" else "chân trang (footer)"
            findings.append(
                Finding(
                    str(parts.path),
                    kind.value,
                    "header_footer_tag",
                    f"chỗ điền ở {where} không được điền (placeholders in page headers and "
                    "footers are not filled): chuyển chúng vào thân thư",
                    name=text[tag.start() : tag.start() + 40],
                    near=text[max(0, tag.start() - 40) : tag.start() + 60].strip(),
                )
            )
    return findings


# ---- unknown variables and filters -------------------------------------------------------


def _display(path: list[str]) -> str:
    return ".".join(path)


def name_findings(ast: Any, parts: TemplateSource, kind: Kind) -> list[Finding]:
    """Return findings for names and filters the template uses that do not exist for ``kind``."""
    from jinja2 import meta, nodes

    from cchc_letters.filters import FILTERS

    tree = shape(kind)
    findings: list[Finding] = []
    file = str(parts.path)
    declared_elsewhere = all_names()

    def near(node: Any, focus: str | None = None) -> str | None:
        return text_near(parts.source, getattr(node, "lineno", None), focus) or None

    def unknown_variable(node: Any, written: str, candidates: list[str]) -> None:
        suggestion = difflib.get_close_matches(written, candidates, n=1, cutoff=0.6)
        other = [
            k
            for path, kinds in declared_elsewhere.items()
            if path.replace(LIST_ITEM, "") == written or path.startswith(written + ".")
            for k in kinds
            if k is not kind
        ]
        where = (
            f"; biến này chỉ có trong thư {', '.join(sorted({k.vietnamese for k in other}))}"
            if other
            else ""
        )
        findings.append(
            Finding(
                file,
                kind.value,
                "unknown_variable",
                f"biến không tồn tại trong thư {kind.vietnamese} (unknown variable): "
                f"{written}{where}",
                name=written,
                suggestion=suggestion[0] if suggestion else None,
                near=near(node, written.rsplit(".", 1)[-1]),
                line=getattr(node, "lineno", None),
            )
        )

    # Jinja's own analysis stops at the first unknown filter or test: give the unknown ones
    # a stand-in (they are reported below) so every unknown variable is found in one run.
    env = ast.environment if getattr(ast, "environment", None) else jinja_environment()
    for node in ast.find_all((nodes.Filter, nodes.FilterBlock)):
        if node.name not in env.filters:
            env.filters[node.name] = str
    for node in ast.find_all(nodes.Test):
        if node.name not in env.tests:
            suggestion = difflib.get_close_matches(node.name, sorted(env.tests), n=1, cutoff=0.5)
            findings.append(
                Finding(
                    file,
                    kind.value,
                    "unknown_test",
                    f"phép thử không tồn tại (unknown test): is {node.name}",
                    name=node.name,
                    suggestion=suggestion[0] if suggestion else None,
                    near=near(node),
                    line=node.lineno,
                )
            )
            env.tests[node.name] = bool
    for name in sorted(meta.find_undeclared_variables(ast) - set(tree)):
        node = next(
            (n for n in ast.find_all(nodes.Name) if n.name == name and n.ctx == "load"), None
        )
        unknown_variable(node, name, sorted(tree))

    def resolve(node: Any, scope: dict[str, Any]) -> tuple[Any, list[str]] | None:
        """Return (shape, written path) of a variable expression, None when not checkable."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name], [node.name]
            if node.name in tree:
                return tree[node.name], [node.name]
            return None
        if isinstance(node, nodes.Getattr):
            attr = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        else:
            return None
        base = resolve(node.node, scope)
        if base is None or not isinstance(base[0], dict):
            return None  # a method of a text value, or something not declared: not checked
        fields, path = base
        if attr not in fields or attr == LIST_ITEM:
            written = _display([*path, str(attr)])
            prefix = _display(path)
            unknown_variable(node, written, [f"{prefix}.{k}" for k in fields if k != LIST_ITEM])
            raise _Reported
        return fields[attr], [*path, str(attr)]

    def visit(node: Any, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.For):
            visit(node.iter, scope)
            inner = dict(scope)
            resolved = _safe_resolve(resolve, node.iter, scope)
            item = None
            if resolved and isinstance(resolved[0], dict) and LIST_ITEM in resolved[0]:
                item = resolved[0][LIST_ITEM]
            for target in (
                node.target.find_all(nodes.Name)
                if not isinstance(node.target, nodes.Name)
                else [node.target]
            ):
                inner[target.name] = item if isinstance(node.target, nodes.Name) else None
            inner["loop"] = _LOOP
            for child in [*node.body, *([node.test] if node.test else [])]:
                visit(child, inner)
            for child in node.else_:
                visit(child, scope)
            return
        if isinstance(node, nodes.Filter | nodes.FilterBlock) and node.name not in FILTERS:
            suggestion = difflib.get_close_matches(node.name, sorted(FILTERS), n=1, cutoff=0.5)
            findings.append(
                Finding(
                    file,
                    kind.value,
                    "unknown_filter",
                    f"bộ lọc không tồn tại (unknown filter): {node.name}",
                    name=node.name,
                    suggestion=suggestion[0] if suggestion else None,
                    near=near(node, node.name),
                    line=node.lineno,
                )
            )
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            if _safe_resolve(resolve, node, scope) is _REPORTED:
                return
        for child in node.iter_child_nodes():
            visit(child, scope)

    visit(ast, {})
    return findings


class _Reported(Exception):
    """Raised inside resolve() once an unknown name was reported, to stop at the first."""


_REPORTED = object()


def _safe_resolve(resolve: Any, node: Any, scope: dict[str, Any]) -> Any:
    try:
        return resolve(node, scope)
    except _Reported:
        return _REPORTED


# ---- one page with long values -----------------------------------------------------------


def write_letter(template: LetterTemplate, context: dict, path: Path) -> Path:
    """Write one letter to ``path`` with the batch writer (output.write_single_letter); return it.

    Preview and the page check go through the very code that writes print files, so what
    they show and measure is what is printed.
    """
    from cchc_letters.output import write_single_letter

    path = Path(path)
    write_single_letter(template, path, template.render_body(context))
    return path


def count_pdf_pages(pdf: Path) -> int:
    """Return the number of pages of ``pdf`` (pdfinfo when installed, else a scan of the file)."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        done = subprocess.run(
            [pdfinfo, str(pdf)], capture_output=True, text=True, timeout=60, check=False
        )
        found = re.search(r"^Pages:\s+(\d+)", done.stdout, re.MULTILINE)
        if found:
            return int(found[1])
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


def _check_pages(
    report: CheckReport, letters: dict[Kind, tuple[LetterTemplate, list[dict]]]
) -> None:
    from cchc_letters.pdf import PdfUnavailable, convert_to_pdf, find_soffice

    if find_soffice() is None:
        report.layout_note = (
            "LibreOffice (soffice) chưa được cài nên chưa kiểm tra thư có vừa một trang không "
            "(page count not checked: LibreOffice is not installed). Cài: apt-get install "
            "libreoffice-writer-nogui, hoặc mở bản xem trước (cchc-letters preview) trong Word."
        )
        return
    with tempfile.TemporaryDirectory(prefix="cchc-check-") as tmp:
        folder = Path(tmp)
        docs = [
            (kind, write_letter(template, context, folder / f"{kind.value}-long-{n}.docx"))
            for kind, (template, contexts) in letters.items()
            for n, context in enumerate(contexts, start=1)
        ]
        try:
            pdfs = convert_to_pdf([doc for _, doc in docs], folder)
        except PdfUnavailable as exc:
            report.layout_note = f"không kiểm tra được số trang (page count not checked): {exc}"
            return
        report.layout_checked = True
        for (kind, _), pdf in zip(docs, pdfs, strict=True):
            report.pages[kind] = max(report.pages.get(kind, 0), count_pdf_pages(pdf))
        for kind, pages in report.pages.items():
            if pages > 1:
                report.findings.append(
                    Finding(
                        str(report.files[kind]),
                        kind.value,
                        "too_long",
                        f"với tên và địa chỉ dài, thư {kind.vietnamese} dài {pages} trang, "
                        "không vừa một trang (would not fit one page with long sample values): "
                        "rút gọn lời văn, giảm cỡ chữ hoặc khoảng cách đoạn; xem thử bằng "
                        f"`cchc-letters preview {kind.value} --long --pdf`",
                    )
                )


# ---- export ------------------------------------------------------------------------------


def export_defaults(folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the default templates and their README into ``folder``; return the new files.

    Raises TemplateProblem (nothing copied) when a template is already there and
    ``overwrite`` is False, so a commune's edited letters are never replaced by accident.
    """
    folder = Path(folder)
    sources = [templates_dir() / f"{kind.value}.docx" for kind in Kind]
    readme = templates_dir() / "README.md"
    if readme.is_file():
        sources.append(readme)
    existing = [folder / s.name for s in sources if (folder / s.name).exists()]
    if existing and not overwrite:
        raise TemplateProblem(
            "thư mục đã có mẫu thư, không chép đè (already exists): "
            + ", ".join(str(p) for p in existing),
            hint="Dùng --force để chép đè, hoặc chọn thư mục khác.",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copy2(source, folder / source.name)) for source in sources]
    except OSError as exc:
        raise TemplateProblem(f"{folder}: không chép được mẫu thư ({exc})") from None


# ---- preview -----------------------------------------------------------------------------


@dataclass
class PreviewResult:
    """What `preview` wrote."""

    template: Path
    docx: Path
    pdf: Path | None = None
    pdf_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "template": str(self.template),
            "docx": str(self.docx),
            "pdf": str(self.pdf) if self.pdf else None,
            "pdf_message": self.pdf_message,
        }


def render_preview(
    kind: Kind,
    *,
    out: Path,
    template: Path | None = None,
    profile_path: Path | None = None,
    pdf: bool = False,
    letter_date: date = SAMPLE_DATE,
    long: bool = False,
) -> PreviewResult:
    """Write one ``kind`` letter rendered with the sample data to ``out`` (and a PDF beside it).

    The template is ``template``, else the profile's, else the default. A template with
    errors raises TemplateProblem listing them (what `templates check` would say).
    """
    from cchc_letters.pdf import PdfUnavailable, convert_to_pdf
    from cchc_letters.profile import load_profile

    profile = load_profile(profile_path)
    path = Path(template) if template else template_path(kind, profile.templates_dir)
    findings, loaded = check_template(path, kind, profile=profile, letter_date=letter_date)
    report = CheckReport(files={kind: path}, findings=findings)
    report.raise_for_errors()
    assert loaded is not None  # no errors means it compiled and rendered
    out = Path(out)
    if out.suffix.lower() != ".docx":
        out = out.with_suffix(".docx")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_letter(loaded, sample_context(kind, profile, letter_date, long=long), out)
    except OSError as exc:
        raise TemplateProblem(f"{out}: không ghi được bản xem trước ({exc})") from None
    result = PreviewResult(template=path, docx=out)
    if pdf:
        try:
            result.pdf = convert_to_pdf([out], out.parent)[0]
        except PdfUnavailable as exc:
            result.pdf_message = exc.message
    return result
