"""`preview` and `templates export`: what an editor runs while rewording a letter."""

from __future__ import annotations

import json
import subprocess
import sys

from docx_edit import (
    default_template,
    docx_text,
    replace_text,
    require_soffice,
    rewrite_document,
    write_profile,
)
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.resources import templates_dir

runner = CliRunner()


def test_preview_writes_a_docx_with_the_sample_names(tmp_path):
    out = tmp_path / "xem" / "birth.docx"
    result = runner.invoke(app, ["preview", "birth", "--out", str(out), "--date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    text = docx_text(out)
    assert "Nguyễn Phạm Gia Bảo" in text
    assert "Anh Nguyễn Văn Trưởng và chị Phạm Thị Ngọc Diệp" in text
    assert "Ngãi Giao, ngày 27 tháng 11 năm 2026" in text


def test_preview_uses_the_profile_and_its_templates(tmp_path):
    own = tmp_path / "mau-thu"
    own.mkdir()
    rewrite_document(
        default_template("marriage"),
        own / "marriage.docx",
        replace_text("Trăm năm hạnh phúc", "Chúc mừng hạnh phúc riêng của xã"),
    )
    profile = write_profile(tmp_path, templates="mau-thu", signer="Trần Thị Bích Ngọc")
    out = tmp_path / "m.docx"
    result = runner.invoke(
        app, ["preview", "marriage", "--profile", str(profile), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["template"] == str(own.resolve() / "marriage.docx")
    text = docx_text(out)
    assert "Chúc mừng hạnh phúc riêng của xã" in text
    assert "Trần Thị Bích Ngọc" in text
    assert "Lê Văn Hùng" in text and "Huỳnh Thị Kim Ngân" in text


def test_preview_long_sample(tmp_path):
    out = tmp_path / "d.docx"
    result = runner.invoke(app, ["preview", "death", "--long", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Công Tằng Tôn Nữ Thị Hoàng Lan" in docx_text(out)


def test_preview_at_limits_shows_the_page_checks_worst_case(tmp_path):
    # What `templates check` measured when it says a letter is too long at the limits.
    from cchc_letters.ingest.columns import field_limits
    from cchc_letters.variables import filler

    out = tmp_path / "d.docx"
    result = runner.invoke(app, ["preview", "death", "--at-limits", "--out", str(out)])
    assert result.exit_code == 0, result.output
    limit = field_limits()["deceased_name"]
    text = docx_text(out)
    assert filler("deceased_name", limit) in text
    assert filler("deceased_residence", field_limits()["deceased_residence"]) in text


def test_preview_of_a_broken_template_names_the_problem(tmp_path):
    broken = rewrite_document(
        default_template("death"),
        tmp_path / "death.docx",
        replace_text("{{ deceased.name }}", "{{ deceased.nmae }}"),
    )
    out = tmp_path / "d.docx"
    result = runner.invoke(app, ["preview", "death", "--template", str(broken), "--out", str(out)])
    assert result.exit_code == 1
    assert "deceased.nmae" in result.output and "deceased.name" in result.output
    assert not out.exists()


def test_preview_unknown_kind_is_a_usage_error():
    result = runner.invoke(app, ["preview", "wedding"])
    assert result.exit_code == 2


def test_preview_pdf_without_libreoffice_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CCHC_SOFFICE", "no-such-soffice-here")
    out = tmp_path / "b.docx"
    result = runner.invoke(app, ["preview", "birth", "--out", str(out), "--pdf"])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert "LibreOffice" in result.output
    assert not (tmp_path / "b.pdf").exists()


def test_preview_pdf_with_libreoffice(tmp_path):
    require_soffice()
    from cchc_letters.templatecheck import count_pdf_pages

    out = tmp_path / "d.docx"
    result = runner.invoke(app, ["preview", "death", "--out", str(out), "--pdf"])
    assert result.exit_code == 0, result.output
    assert count_pdf_pages(tmp_path / "d.pdf") == 1


def test_export_copies_the_defaults_and_never_overwrites(tmp_path):
    folder = tmp_path / "mau-thu"
    result = runner.invoke(app, ["templates", "export", str(folder)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["README.md", "birth.docx", "death.docx", "marriage.docx"]
    assert (folder / "birth.docx").read_bytes() == (templates_dir() / "birth.docx").read_bytes()

    (folder / "death.docx").write_bytes(b"edited by the commune")
    again = runner.invoke(app, ["templates", "export", str(folder)])
    assert again.exit_code == 1
    assert "--force" in again.output
    assert (folder / "death.docx").read_bytes() == b"edited by the commune"

    forced = runner.invoke(app, ["templates", "export", str(folder), "--force"])
    assert forced.exit_code == 0
    assert (folder / "death.docx").read_bytes() == (templates_dir() / "death.docx").read_bytes()


def test_exported_folder_passes_the_check(tmp_path):
    folder = tmp_path / "mau-thu"
    assert runner.invoke(app, ["templates", "export", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["templates", "check", str(folder), "--no-layout"])
    assert result.exit_code == 0, result.output


def test_templates_help_as_a_real_process():
    done = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "templates", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "check" in done.stdout and "export" in done.stdout


def test_preview_is_written_by_the_batch_writer(tmp_path):
    # Preview and the page check must show and measure what batches print: the same bytes
    # as output.write_single_letter (the batch writer), not a second zip writer.
    from cchc_letters.models import Kind
    from cchc_letters.output import write_single_letter
    from cchc_letters.render import LetterTemplate, template_path
    from cchc_letters.variables import sample_context

    out = tmp_path / "p.docx"
    result = runner.invoke(app, ["preview", "death", "--out", str(out), "--date", "2026-11-27"])
    assert result.exit_code == 0, result.output
    template = LetterTemplate.load(template_path(Kind.DEATH))
    expected = tmp_path / "batch.docx"
    write_single_letter(template, expected, template.render_body(sample_context(Kind.DEATH)))
    assert out.read_bytes() == expected.read_bytes()


def test_page_check_measures_files_of_the_batch_writer(tmp_path, monkeypatch):
    from cchc_letters import output, pdf, templatecheck
    from cchc_letters.models import Kind

    written = []
    real = output.write_single_letter

    def spy(template, path, body):
        written.append(path.name)
        real(template, path, body)

    def fake_convert(files, out_dir, timeout=600):
        raise pdf.PdfUnavailable("stop here")

    monkeypatch.setattr(output, "write_single_letter", spy)
    monkeypatch.setattr(pdf, "find_soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(pdf, "convert_to_pdf", fake_convert)
    report = templatecheck.check_templates(kinds={Kind.DEATH})
    # the long sample, and the same with every limited field at its limit
    assert written == ["death-long-1.docx", "death-limits-1.docx"]
    assert "stop here" in report.layout_note
    # births have two worst cases: the late-registered child (notes) and a newborn (rows)
    written.clear()
    templatecheck.check_templates(kinds={Kind.BIRTH})
    assert written == [
        "birth-long-1.docx",
        "birth-long-2.docx",
        "birth-limits-1.docx",
        "birth-limits-2.docx",
    ]
