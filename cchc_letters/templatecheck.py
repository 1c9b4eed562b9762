"""Template commands' checks: lint plus the one-page count, export of defaults, preview.

``check_templates`` is what ``templates check`` prints: the findings of templatelint.py and,
with LibreOffice, whether each letter still fits one page with long values. Only the
commands that count pages, export or preview import this module (generate lints with
templatelint.py). Nothing here prints.
"""

from __future__ import annotations

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
from cchc_letters.render import LetterTemplate, template_path
from cchc_letters.resources import templates_dir
from cchc_letters.templatelint import (
    ERROR,
    INFO,
    WARNING,
    Finding,
    LintReport,
    check_template,
    folder_findings,
    header_footer_findings,
    name_findings,
    split_tag_findings,
)
from cchc_letters.variables import SAMPLE_DATE, limit_contexts, long_contexts, sample_context


@dataclass
class CheckReport(LintReport):
    """The lint findings of some kinds' templates, and their long letters' page counts."""

    pages: dict[Kind, int] = field(default_factory=dict)  # long-sample page counts
    # page counts with every limited field at its limit (data/columns.toml [limits])
    pages_at_limits: dict[Kind, int] = field(default_factory=dict)
    layout_checked: bool = False
    layout_note: str | None = None
    loaded: dict[Kind, LetterTemplate] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "templates": {kind.value: str(path) for kind, path in self.files.items()},
            "pages": {kind.value: pages for kind, pages in self.pages.items()},
            "pages_at_limits": {kind.value: n for kind, n in self.pages_at_limits.items()},
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
    """Return what is wrong with the templates of ``kinds`` (default: every kind).

    ``folder`` is a commune's templates folder (a kind it lacks falls back to the default);
    ``profile`` supplies the sample letter's commune values (default: the demo profile).
    ``layout`` renders each template with long sample values, and with every field that has
    a limit (data/columns.toml ``[limits]``) at that limit and the longest schedule, and
    counts its pages with LibreOffice; when LibreOffice is missing ``layout_note`` says so
    and nothing fails.
    """
    if profile is None:
        from cchc_letters.profile import load_profile

        profile = load_profile(None)
    kinds = set(Kind) if kinds is None else set(kinds)
    files = {kind: template_path(kind, folder) for kind in sorted(kinds)}
    report = CheckReport(files=files)
    if folder is not None:
        report.findings += folder_findings(Path(folder), files)
    long_letters: dict[Kind, tuple[LetterTemplate, list[tuple[bool, dict[str, Any]]]]] = {}
    for kind, path in files.items():
        findings, template = check_template(path, kind, profile=profile, letter_date=letter_date)
        report.findings += findings
        if template is not None:
            report.loaded[kind] = template
            # The long samples, and the same with every limited field at its limit (what
            # makes the per-row limits of data/columns.toml a one-page guarantee).
            contexts = [(False, c) for c in long_contexts(kind, profile, letter_date)]
            contexts += [(True, c) for c in limit_contexts(kind, profile, letter_date)]
            long_letters[kind] = (template, contexts)
    if layout and long_letters:
        _check_pages(report, long_letters)
    elif not layout:
        report.layout_note = "không kiểm tra số trang (page count not checked)"
    return report


# ---- one page with long values -----------------------------------------------------------


def write_letter(template: LetterTemplate, context: dict[str, Any], path: Path) -> Path:
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
    report: CheckReport,
    letters: dict[Kind, tuple[LetterTemplate, list[tuple[bool, dict[str, Any]]]]],
) -> None:
    """Count the pages of each kind's long letters (``(at_limits, context)``) in one
    LibreOffice run; a letter over one page is a ``too_long`` error."""
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
        docs = []
        for kind, (template, contexts) in letters.items():
            for limits in (False, True):
                of_case = [c for at_limits, c in contexts if at_limits is limits]
                for n, context in enumerate(of_case, start=1):
                    name = f"{kind.value}-{'limits' if limits else 'long'}-{n}.docx"
                    docs.append((kind, limits, write_letter(template, context, folder / name)))
        try:
            pdfs = convert_to_pdf([doc for _, _, doc in docs], folder)
        except PdfUnavailable as exc:
            report.layout_note = f"không kiểm tra được số trang (page count not checked): {exc}"
            return
        report.layout_checked = True
        for (kind, limits, _), pdf in zip(docs, pdfs, strict=True):
            counts = report.pages_at_limits if limits else report.pages
            counts[kind] = max(counts.get(kind, 0), count_pdf_pages(pdf))
        for kind in letters:
            pages, at_limits = report.pages.get(kind, 0), report.pages_at_limits.get(kind, 0)
            if pages > 1:
                what = (
                    f"với tên và địa chỉ dài, thư {kind.vietnamese} dài {pages} trang, không "
                    "vừa một trang (would not fit one page with long sample values)"
                )
            elif at_limits > 1:
                what = (
                    f"với mỗi tên, địa chỉ, nơi sinh, số và quyển dài tới giới hạn được nhận "
                    f"({_limits_text()}), thư {kind.vietnamese} dài {at_limits} trang, không "
                    "vừa một trang: một dòng dữ liệu hợp lệ sẽ in ra hai trang (would not fit "
                    "one page with values at their length limits)"
                )
            else:
                continue
            report.findings.append(
                Finding(
                    str(report.files[kind]),
                    kind.value,
                    "too_long",
                    f"{what}: rút gọn lời văn, giảm cỡ chữ hoặc khoảng cách đoạn; xem thử "
                    f"bằng `cchc-letters preview {kind.value} "
                    f"{'--long' if pages > 1 else '--at-limits'} --pdf`",
                )
            )


def _limits_text() -> str:
    """Return the length limits for a message: "tên 50, … ký tự" (data/columns.toml)."""
    from cchc_letters.ingest.columns import field_limits

    limits = field_limits()
    shown = (
        ("tên", "child_name"),
        ("địa chỉ", "mother_residence"),
        ("nơi sinh", "child_birth_place"),
    )
    parts = [f"{what} {limits[name]}" for what, name in shown if name in limits]
    return ", ".join(parts) + " ký tự; data/columns.toml [limits]"


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
    at_limits: bool = False,
) -> PreviewResult:
    """Write one ``kind`` letter rendered with the sample data to ``out`` (and a PDF beside it).

    The template is ``template``, else the profile's, else the default. A template with
    errors raises TemplateProblem listing them (what `templates check` would say).
    ``at_limits``: the long sample with every limited field at its limit (the page check's
    worst case).
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
        if at_limits:
            context = limit_contexts(kind, profile, letter_date)[0]
        else:
            context = sample_context(kind, profile, letter_date, long=long)
        write_letter(loaded, context, out)
    except OSError as exc:
        raise TemplateProblem(f"{out}: không ghi được bản xem trước ({exc})") from None
    result = PreviewResult(template=path, docx=out)
    if pdf:
        try:
            result.pdf = convert_to_pdf([out], out.parent)[0]
        except PdfUnavailable as exc:
            result.pdf_message = exc.message
    return result


__all__ = [
    "ERROR",
    "INFO",
    "WARNING",
    "CheckReport",
    "Finding",
    "LintReport",
    "check_template",
    "check_templates",
    "count_pdf_pages",
    "export_defaults",
    "header_footer_findings",
    "name_findings",
    "render_preview",
    "split_tag_findings",
    "write_letter",
]
