"""Linting letter templates: syntax, names, split tags, header placeholders, sample render.

``generate`` lints the templates it loaded before writing anything; ``templates check`` and
``preview`` show the same findings (``templates check`` adds the page count, in
templatecheck.py). Findings are data; the caller decides how to show them. Nothing here
prints, counts pages or starts LibreOffice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
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
    text_near,
)
from cchc_letters.resources import templates_dir
from cchc_letters.variables import LEAF, LIST_ITEM, SAMPLE_DATE, all_names, sample_context, shape

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
class LintReport:
    """The findings about the templates of some kinds."""

    files: dict[Kind, Path]
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        """Return True when no finding is an error."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise TemplateProblem listing every error (nothing written)."""
        raise_for_errors(self.errors)


def raise_for_errors(errors: Iterable[Finding]) -> None:
    """Raise TemplateProblem listing ``errors``, when there are any."""
    lines = "\n  ".join(str(f) for f in errors)
    if lines:
        raise TemplateProblem(
            f"mẫu thư có lỗi, chưa tạo thư nào (template errors, nothing written):\n  {lines}",
            hint="Sửa mẫu thư rồi chạy: cchc-letters templates check",
        )


def lint_templates(
    templates: Mapping[Kind, LetterTemplate],
    *,
    profile: Any,
    letter_date: date = SAMPLE_DATE,
) -> LintReport:
    """Return what is wrong with loaded templates (the batch's check before writing)."""
    report = LintReport(files={kind: t.path for kind, t in templates.items()})
    for kind, template in templates.items():
        report.findings += lint_template(template, kind, profile=profile, letter_date=letter_date)
    return report


def _file_aliases() -> dict[str, str]:
    """Return what editors may call the template files (English or Vietnamese, with or
    without accents and hyphens), for the suggestion: each kind's id and file_aliases."""
    from cchc_letters.kinds import entries

    return {name: e.template_name for e in entries() for name in (e.kind.value, *e.file_aliases)}


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s_]+", "-", plain)


def folder_findings(folder: Path, files: dict[Kind, Path]) -> list[Finding]:
    """Return findings about a commune's templates folder: missing, files no kind uses,
    kinds that fall back to the default template."""
    from cchc_letters.kinds import entries

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
    known = [e.template_name for e in entries()]
    aliases = _file_aliases()
    names = ", ".join(known[:-1]) + " hoặc " + known[-1] if len(known) > 1 else known[0]
    for extra in sorted(folder.glob("*.docx")):
        if extra.name not in known and not extra.name.startswith("~$"):
            close = difflib.get_close_matches(_ascii(extra.stem), sorted(aliases), n=1, cutoff=0.6)
            findings.append(
                Finding(
                    str(extra),
                    None,
                    "unused_file",
                    f"tệp này không được dùng: mẫu thư phải tên {names} (file name not used)",
                    WARNING,
                    suggestion=aliases[close[0]] if close else None,
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
    """Return the findings for one template file and, when usable, its compiled form.

    What ``templates check`` and ``preview`` run: a template that does not even compile
    (Jinja syntax) is a finding here, where loading it (``LetterTemplate.load``) raises.
    """
    from jinja2 import TemplateSyntaxError

    file = str(path)
    try:
        parts = read_template(path)
    except TemplateProblem as exc:
        return [Finding(file, kind.value, "not_a_template", exc.message)], None
    try:
        ast = jinja_environment().parse(parts.source)
    except TemplateSyntaxError as exc:
        return [
            *structure_findings(parts, kind),
            Finding(
                file,
                kind.value,
                "syntax_error",
                f"lỗi cú pháp Jinja (syntax error): {exc.message}",
                line=exc.lineno,
                near=text_near(parts.source, exc.lineno, _quoted(exc.message)) or None,
            ),
        ], None
    # Names first: Jinja refuses to compile a template with an unknown filter.
    findings = structure_findings(parts, kind) + name_findings(ast, parts, kind)
    if any(f.severity == ERROR for f in findings):
        return findings, None
    try:
        template = LetterTemplate.compile(parts)
    except TemplateProblem as exc:
        return [*findings, Finding(file, kind.value, "syntax_error", exc.message)], None
    findings += render_findings(template, kind, profile=profile, letter_date=letter_date)
    usable = not any(f.severity == ERROR for f in findings)
    return findings, template if usable else None


def structure_findings(parts: TemplateSource | LetterTemplate, kind: Kind) -> list[Finding]:
    """Return what is wrong with where a template's tags are: split across paragraphs, in a
    header or footer, or beside typed words in a {%p %}/{%tr %} paragraph."""
    return (
        split_tag_findings(parts, kind)
        + header_footer_findings(parts, kind)
        + paragraph_tag_findings(parts, kind)
    )


def lint_template(
    template: LetterTemplate, kind: Kind, *, profile: Any, letter_date: date = SAMPLE_DATE
) -> list[Finding]:
    """Return the findings for a loaded template: structure, names, a render of the samples.

    The sample letters (short and long) are rendered only when nothing else is an error.
    """
    findings = structure_findings(template, kind)
    ast, undeclared = template.ast, template.undeclared
    if ast is None or undeclared is None or _unknown_filter_or_test(ast):
        # (name_findings gives an unknown one a stand-in in the tree's environment, which is
        # the compiled template's: parse again in a fresh one)
        ast, undeclared = jinja_environment().parse(template.source), None
    findings += name_findings(ast, template, kind, undeclared=undeclared)
    if any(f.severity == ERROR for f in findings):
        return findings
    return findings + render_findings(template, kind, profile=profile, letter_date=letter_date)


def render_findings(
    template: LetterTemplate, kind: Kind, *, profile: Any, letter_date: date = SAMPLE_DATE
) -> list[Finding]:
    """Return the finding of rendering the short and long samples, if one fails."""
    file = str(template.path)
    for long in (False, True):
        context = sample_context(kind, profile, letter_date, long=long)
        try:
            document = template.render_document(context)
        except TemplateProblem as exc:
            message = exc.message.removeprefix(f"{template.path}: ")
            return [Finding(file, kind.value, "render_error", message)]
        problem = _xml_problem(document)
        if problem:
            return [
                Finding(
                    file,
                    kind.value,
                    "broken_xml",
                    "thư điền ra không còn là tài liệu Word hợp lệ (rendered XML is broken): "
                    f"{problem}; thường do thẻ {{%p %}} / {{%tr %}} đặt sai chỗ",
                )
            ]
    return []


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


def split_tag_findings(parts: TemplateSource | LetterTemplate, kind: Kind) -> list[Finding]:
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


# docxtpl replaces the whole paragraph of a {%p %} tag (the whole table row of a {%tr %}) by
# the bare tag: any word typed beside it there is dropped from every letter.
_WHOLE_PARAGRAPH_TAG = re.compile(r"\{([%{])-?\s*(p|tr)\s.*?[%}]\}", re.DOTALL)


def paragraph_tag_findings(parts: TemplateSource | LetterTemplate, kind: Kind) -> list[Finding]:
    """Return a warning for words that share a paragraph with a {%p %} tag (a table row with
    a {%tr %} tag): docxtpl keeps only the tag, so those words never print."""
    from lxml import etree

    try:
        root = etree.fromstring(parts.document_xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return []  # reported by split_tag_findings
    findings = []
    for element in root.iter(f"{_W}p", f"{_W}tr"):
        text = "".join(t.text or "" for t in element.iter(f"{_W}t"))
        tags = [
            m
            for m in _WHOLE_PARAGRAPH_TAG.finditer(text)
            if m[2] == ("p" if element.tag == f"{_W}p" else "tr")
        ]
        if not tags:
            continue
        words = _COMPLETE_TAG.sub(" ", text).split()
        if not words:
            continue
        tag = tags[0][0]
        where = "đoạn văn" if element.tag == f"{_W}p" else "dòng bảng"
        typed = " ".join(words)
        findings.append(
            Finding(
                str(parts.path),
                kind.value,
                "text_beside_paragraph_tag",
                f"chữ “{typed[:60]}” nằm cùng {where} với thẻ “{tag[:40]}” nên không bao giờ "
                "được in (text beside a {%p %}/{%tr %} tag is dropped): để thẻ này trên "
                f"một {where} riêng, không có chữ nào khác",
                WARNING,
                name=tag[:40],
                near=text[:120],
            )
        )
    return findings


_HEADER_FOOTER = re.compile(r"word/(header|footer)\d*\.xml")


def header_footer_findings(parts: TemplateSource | LetterTemplate, kind: Kind) -> list[Finding]:
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


def _unknown_filter_or_test(ast: Any) -> bool:
    """True when the parsed template uses a filter or test its environment does not have
    (Jinja compiles one inside an ``{% if %}``: it fails only when rendered)."""
    from jinja2 import nodes

    env = ast.environment
    return any(n.name not in env.filters for n in ast.find_all(nodes.Filter)) or any(
        n.name not in env.tests for n in ast.find_all(nodes.Test)
    )


def name_findings(
    ast: Any,
    parts: TemplateSource | LetterTemplate,
    kind: Kind,
    *,
    undeclared: frozenset[str] | None = None,
) -> list[Finding]:
    """Return findings for names and filters the template uses that do not exist for ``kind``.

    ``undeclared``: the variables it looks up in the context when known (the compile
    collected them: ``_compiled_source``), else found here with ``jinja2.meta``.
    """
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
    for node in ast.find_all(nodes.Filter):
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
            # (Jinja types its tests dict by its default functions, not as callables.)
            env.tests[node.name] = bool  # type: ignore[assignment]
    if undeclared is None:
        undeclared = frozenset(meta.find_undeclared_variables(ast))
    for name in sorted(undeclared - set(tree)):
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
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
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
