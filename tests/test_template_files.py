"""Installing a commune's template: the lint still guards it, and the module stays narrow
(no LibreOffice page counter, preview or export imported to install or try a template)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document, write_profile

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind
from cchc_letters.template_files import install_template

ROOT = Path(__file__).resolve().parent.parent


def _uploaded(tmp_path: Path, kind: str, old: str, new: str) -> tuple[Path, Path]:
    """Return (a commune profile, the default ``kind`` template edited as an upload)."""
    profile = write_profile(tmp_path)
    (tmp_path / "upload").mkdir()
    edited = rewrite_document(
        default_template(kind), tmp_path / "upload" / f"{kind}.docx", replace_text(old, new)
    )
    return profile, edited


def test_a_template_with_errors_is_not_installed(tmp_path):
    profile, broken = _uploaded(tmp_path, "death", "{{ deceased.name }}", "{{ deceased.nam }}")
    with pytest.raises(TemplateProblem, match="deceased.nam"):
        install_template(broken, Kind.DEATH, profile_path=profile, now=datetime(2026, 11, 27))
    assert not (tmp_path / "mau-thu").exists()


SCRIPT = """
import sys
from datetime import date, datetime
from pathlib import Path

from cchc_letters.ingest import read_inputs
from cchc_letters.models import Kind
from cchc_letters.resources import data_dir
from cchc_letters.template_files import install_template, paragraphs, write_letter_for
from cchc_letters.validate import validate_rows

folder, profile, template = map(Path, sys.argv[1:4])
paragraphs(template)
install_template(template, Kind.BIRTH, profile_path=profile, now=datetime(2026, 11, 27))
rows = read_inputs([data_dir() / "sample" / "registrations.csv"]).rows
birth = validate_rows(rows, letter_date=date(2026, 11, 27)).registrations[0]
write_letter_for(template, birth, profile_path=profile, letter_date=date(2026, 11, 27),
                 out=folder / "try.docx")
assert (folder / "try.docx").is_file()
print(" ".join(sorted(m for m in sys.modules if m.startswith("cchc_letters"))))
"""


def test_installing_and_trying_a_template_imports_no_page_counter(tmp_path):
    profile, template = _uploaded(tmp_path, "birth", "THƯ CHÚC MỪNG", "THƯ CHÚC MỪNG CHÁU")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(profile), str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = done.stdout.split()
    assert "cchc_letters.template_files" in imported and "cchc_letters.templatelint" in imported
    assert "cchc_letters.templatecheck" not in imported
    assert "cchc_letters.pdf" not in imported
    assert (tmp_path / "mau-thu" / "birth.docx").read_bytes() == template.read_bytes()
