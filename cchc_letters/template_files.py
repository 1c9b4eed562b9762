"""A commune's template files: the paragraphs an editor wrote, and putting a checked template
in place as the commune's own (the previous one kept beside it)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind, Registration

DEFAULT_FOLDER = "mau-thu"  # made beside the profile when it names no templates_dir
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def paragraphs(path: Path) -> list[str]:
    """Return the text of each body paragraph of the DOCX at ``path``, tags as written
    (Word's splitting into runs undone); raises TemplateProblem for a file that is no DOCX."""
    import zipfile

    from lxml import etree

    try:
        with zipfile.ZipFile(path) as package:
            root = etree.fromstring(package.read("word/document.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise TemplateProblem(f"{path.name}: không phải tệp DOCX đọc được ({exc})") from None
    texts = []
    for paragraph in root.iter(f"{_W}p"):
        texts.append("".join(t.text or "" for t in paragraph.iter(f"{_W}t")))
    return texts


def install_template(
    source: Path, kind: Kind, *, profile_path: Path, now: datetime
) -> tuple[Path, Path | None]:
    """Make ``source`` the ``kind`` template of the commune whose profile is ``profile_path``.

    The file goes to the profile's ``[letters] templates_dir`` (set to ``mau-thu`` beside the
    profile when empty, the profile checked and saved as by ``profile_edit``). A template
    already there is kept as ``KIND.docx.bak-YYYYMMDD-HHMMSS``. ``source`` must pass the
    template lint without errors (templatelint: its folder and the file; no page count, so
    no LibreOffice). Returns (installed file, backup or None).
    """
    from cchc_letters.profile import load_profile
    from cchc_letters.profile_edit import save_profile_text, with_templates_dir
    from cchc_letters.render import template_path
    from cchc_letters.templatelint import LintReport, check_template, folder_findings

    profile = load_profile(profile_path)
    staged = source.parent
    files = {kind: template_path(kind, staged)}
    findings, _ = check_template(files[kind], kind, profile=profile)
    LintReport(
        files=files, findings=[*folder_findings(staged, files), *findings]
    ).raise_for_errors()
    folder = profile.templates_dir
    if folder is None:
        folder = Path(profile_path).parent / DEFAULT_FOLDER
    target = folder / f"{kind.value}.docx"
    backup = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists():
            backup = target.with_name(f"{target.name}.bak-{now:%Y%m%d-%H%M%S}")
            shutil.copy2(target, backup)
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    except OSError as exc:
        raise TemplateProblem(f"{target}: không chép được mẫu thư ({exc})") from None
    if profile.templates_dir is None:
        text = Path(profile_path).read_text(encoding="utf-8")
        save_profile_text(Path(profile_path), with_templates_dir(text, DEFAULT_FOLDER))
    return target, backup


def write_letter_for(
    template: Path,
    registration: Registration,
    *,
    profile_path: Path | None,
    letter_date: date,
    out: Path,
) -> Path:
    """Write one letter of ``registration`` with the template at ``template`` to ``out`` (a
    page to look at before making it the commune's template: real data, nothing recorded).
    Raises TemplateProblem when the template has errors."""
    from cchc_letters.enrich import letter_context
    from cchc_letters.kinds import entry
    from cchc_letters.output import write_single_letter
    from cchc_letters.profile import load_profile
    from cchc_letters.templatelint import LintReport, check_template

    profile = load_profile(profile_path)
    findings, loaded = check_template(template, registration.kind, profile=profile)
    LintReport(files={registration.kind: template}, findings=findings).raise_for_errors()
    assert loaded is not None  # no errors: it compiled
    schedule = None
    if entry(registration.kind).uses_schedule:
        from cchc_letters.schedule import load_versions, version_for

        schedule = version_for(letter_date, load_versions())
    out.parent.mkdir(parents=True, exist_ok=True)
    context = letter_context(registration, profile, letter_date, schedule)
    # the batch writer itself, so the page looked at is the page printed
    write_single_letter(loaded, out, loaded.render_body(context))
    return out
