"""Word opens every DOCX the tool writes without offering a repair: an OOXML validator
(openxml-audit) finds nothing in print files, per-letter files, previews, exported templates."""

from __future__ import annotations

from datetime import date

import pytest
from openxml_audit import OpenXmlValidator

from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.resources import data_dir
from cchc_letters.templatecheck import export_defaults, render_preview

LETTER_DATE = date(2026, 11, 27)


def findings(path):
    result = OpenXmlValidator().validate(path)
    return [e.description for e in result.errors]


@pytest.mark.parametrize("per_letter", [False, True])
def test_print_files_and_per_letter_files_are_clean(tmp_path, per_letter):
    options = BatchOptions(
        inputs=[data_dir() / "sample"],
        out_dir=tmp_path,
        letter_date=LETTER_DATE,
        per_letter=per_letter,
    )
    result = run_batch(options)
    kinds = {p.registration.kind for p in result.printed}
    assert kinds == set(Kind)  # every kind's letters are checked
    checked = result.files if not per_letter else result.files[:: max(1, len(result.files) // 6)]
    for path in checked:
        assert findings(path) == [], path


@pytest.mark.parametrize("kind", list(Kind))
def test_previews_are_clean(tmp_path, kind):
    preview = render_preview(kind, out=tmp_path / f"{kind.value}.docx", long=True)
    assert findings(preview.docx) == []


def test_exported_templates_are_clean(tmp_path):
    exported = [p for p in export_defaults(tmp_path) if p.suffix == ".docx"]
    assert len(exported) == len(list(Kind))
    for path in exported:
        assert findings(path) == [], path
