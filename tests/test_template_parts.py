"""Template parts copied unchanged into every print file (styles, settings, headers,
customXml, docProps …): one with malformed XML, a DTD or an entity bomb is refused when
the template is loaded, with a template error naming the part — never copied into every
print file of a batch (issue 11)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx_edit import default_template, write_profile
from hostile_files import LAUGHS
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.render import LetterTemplate, TemplateProblem
from cchc_letters.templatecheck import check_templates

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "registrations.csv"


def with_part(dst: Path, part: str, transform) -> Path:
    """Copy the shipped birth template to ``dst`` with ``part`` rewritten."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(default_template("birth")) as package,
        zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        assert part in package.namelist()
        for info in package.infolist():
            data = package.read(info.filename)
            if info.filename == part:
                data = transform(data.decode("utf-8")).encode("utf-8")
            out.writestr(info, data)
    return dst


def laughs(xml: str) -> str:
    body = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
    at = body.index(">") + 1  # inside the root element
    return LAUGHS + body[:at] + "&lol9;" + body[at:]


def dtd_only(xml: str) -> str:
    body = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
    return '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">' + body


CASES = {
    "styles-entity-bomb": ("word/styles.xml", laughs),
    "settings-dtd": ("word/settings.xml", dtd_only),
    "customxml-malformed": ("customXml/item1.xml", lambda xml: xml[: len(xml) // 2]),
    "app-properties-bomb": ("docProps/app.xml", laughs),
    "relationships-malformed": (
        "customXml/_rels/item1.xml.rels",
        lambda xml: xml.replace("</Relationships>", "<Relationship></Relationships>"),
    ),
    "document-dtd": ("word/document.xml", dtd_only),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_part_is_refused_when_the_template_is_loaded(tmp_path, case):
    part, transform = CASES[case]
    path = with_part(tmp_path / "mau-thu" / "birth.docx", part, transform)
    with pytest.raises(TemplateProblem) as raised:
        LetterTemplate.load(path)
    message = raised.value.message
    assert str(path) in message and part in message


def test_templates_check_reports_it_and_generate_prints_nothing(tmp_path):
    folder = tmp_path / "mau-thu"
    with_part(folder / "birth.docx", "word/styles.xml", laughs)
    [finding] = check_templates(folder, layout=False).errors
    assert finding.code == "not_a_template" and "word/styles.xml" in finding.message
    checked = runner.invoke(app, ["templates", "check", str(folder), "--no-layout", "--json"])
    assert checked.exit_code == 1 and json.loads(checked.output)["ok"] is False

    out = tmp_path / "out"
    options = BatchOptions(
        inputs=[SAMPLE],
        out_dir=out,
        letter_date=date(2026, 11, 27),
        profile_path=write_profile(tmp_path, templates="mau-thu"),
    )
    with pytest.raises(TemplateProblem) as raised:
        run_batch(options)
    assert "word/styles.xml" in raised.value.message
    assert not list(out.glob("*batch-*"))


def test_the_shipped_templates_pass():
    for kind in ("birth", "death", "marriage"):
        LetterTemplate.load(default_template(kind))
