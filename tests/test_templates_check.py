"""`templates check` and the check `generate` runs first: syntax, names, split tags, one page."""

from __future__ import annotations

import json
from datetime import date

import pytest
from docx_edit import (
    default_template,
    replace_text,
    require_soffice,
    rewrite_document,
    write_profile,
)
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind
from cchc_letters.templatecheck import check_templates, write_letter

runner = CliRunner()


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "mau-thu"
    path.mkdir()
    return path


def edit(folder, kind, old, new):
    return rewrite_document(default_template(kind), folder / f"{kind}.docx", replace_text(old, new))


def codes(report):
    return [f.code for f in report.findings if f.severity == "error"]


def test_default_templates_pass_the_structural_check():
    report = check_templates(layout=False)
    assert report.ok, [str(f) for f in report.findings]
    assert set(report.loaded) == set(Kind)


def test_syntax_error_names_the_file_and_the_text_around_it(folder):
    path = edit(folder, "death", "{% endif %}.</w:t>", "{% endiff %}.</w:t>")
    report = check_templates(folder, layout=False)
    [finding] = report.errors
    assert finding.code == "syntax_error"
    assert finding.file == str(path)
    assert "endiff" in finding.message
    assert "{{ deceased.age_phrase }}{% endiff %}" in finding.near


def test_unclosed_placeholder_is_a_syntax_error(folder):
    edit(folder, "marriage", "{{ wife.name }}", "{{ wife.name }")
    report = check_templates(folder, layout=False)
    assert codes(report) == ["syntax_error"]
    assert report.errors[0].kind == "marriage"


def test_unknown_variable_with_suggestion(folder):
    path = edit(folder, "birth", "{{ child.name }}", "{{ child.nmae }}")
    report = check_templates(folder, layout=False)
    [finding] = report.errors
    assert (finding.code, finding.name, finding.suggestion) == (
        "unknown_variable",
        "child.nmae",
        "child.name",
    )
    assert finding.file == str(path)
    assert "khai sinh cho {{ child.honorific }} {{ child.nmae }}" in finding.near


def test_unknown_top_level_variable_with_suggestion(folder):
    edit(folder, "birth", "{{ child.name }}", "{{ chld.name }}")
    [finding] = check_templates(folder, layout=False).errors
    assert (finding.name, finding.suggestion) == ("chld", "child")


def test_variable_of_another_kind_says_where_it_exists(folder):
    edit(folder, "death", "{{ deceased.name }}", "{{ child.name }}")
    [finding] = check_templates(folder, layout=False).errors
    assert finding.name == "child"
    assert "khai sinh" in finding.message


def test_unknown_attribute_of_a_loop_variable(folder):
    edit(folder, "birth", "{{ visit.label }}", "{{ visit.lable }}")
    [finding] = check_templates(folder, layout=False).errors
    assert (finding.name, finding.suggestion) == ("visit.lable", "visit.label")


def test_unknown_filter_with_suggestion(folder):
    edit(folder, "death", "{{ death.date|lunar_date }}", "{{ death.date|lunar_dat }}")
    [finding] = check_templates(folder, layout=False).errors
    assert (finding.code, finding.name, finding.suggestion) == (
        "unknown_filter",
        "lunar_dat",
        "lunar_date",
    )


def test_unknown_filter_inside_a_condition_is_found_too(folder):
    # Jinja itself only notices a filter inside {% if %} when that branch runs.
    edit(folder, "birth", "{{ station.address }}", "{{ station.address|uper }}")
    [finding] = check_templates(folder, layout=False).errors
    assert (finding.name, finding.suggestion) == ("uper", "upper")


def test_a_filter_block_is_checked_like_a_filter(folder):
    # {% filter %} … {% endfilter %}: a known one is fine, an unknown one is a finding (the
    # lint once read a name the block node does not have, and stopped with a traceback).
    edit(
        folder,
        "birth",
        "{{ station.address }}",
        "{% filter upper %}{{ station.address }}{% endfilter %}{% filter uper %}x{% endfilter %}",
    )
    [finding] = check_templates(folder, layout=False).errors
    assert (finding.code, finding.name, finding.suggestion) == ("unknown_filter", "uper", "upper")


def test_placeholder_split_across_paragraphs_is_reported_precisely(folder):
    # Someone pressed Enter inside the placeholder: docxtpl cannot rejoin that.
    split = "<w:t>{{ child.</w:t></w:r></w:p><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>name }}</w:t>"
    path = edit(folder, "birth", "<w:t>{{ child.name }}</w:t>", split)
    report = check_templates(folder, layout=False)
    split_findings = [f for f in report.errors if f.code == "split_tag"]
    assert len(split_findings) == 1
    finding = split_findings[0]
    assert finding.file == str(path)
    assert finding.name == "{{ child."
    assert "name }}" in finding.near


def test_placeholder_split_across_table_cells_is_reported(folder):
    edit(
        folder,
        "birth",
        "<w:t>{{ visit.vaccines|capfirst }}</w:t>",
        "<w:t>{{ visit.</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>vaccines|capfirst }}</w:t>",
    )
    report = check_templates(folder, layout=False)
    assert "split_tag" in codes(report)


def test_sandbox_attack_fails_the_check(folder):
    edit(folder, "birth", "{{ child.name }}", "{{ ''.__class__.__mro__ }}")
    report = check_templates(folder, layout=False)
    [finding] = report.errors
    assert finding.code == "render_error"
    assert "sandbox" in finding.message


def test_folder_lacking_a_kind_falls_back_with_a_note(folder):
    edit(folder, "death", "Xin thành kính", "Xin chân thành")
    (folder / "khai-sinh.docx").write_bytes(default_template("birth").read_bytes())
    report = check_templates(folder, layout=False)
    assert report.ok
    assert report.files[Kind.DEATH] == folder / "death.docx"
    assert report.files[Kind.BIRTH] == default_template("birth")
    notes = {(f.code, f.severity) for f in report.findings}
    assert ("default_used", "info") in notes
    unused = [f for f in report.findings if f.code == "unused_file"]
    assert unused and unused[0].suggestion == "birth.docx"


# ---- the command -------------------------------------------------------------------------


def test_check_command_fails_with_file_and_name(folder):
    path = edit(folder, "birth", "{{ child.name }}", "{{ child.nmae }}")
    result = runner.invoke(app, ["templates", "check", str(folder), "--no-layout"])
    assert result.exit_code == 1, result.output
    assert str(path) in result.output
    assert "child.nmae" in result.output
    assert "child.name" in result.output


def test_check_command_json(folder):
    edit(folder, "death", "{{ death.date|lunar_date }}", "{{ death.date|lunar_dat }}")
    result = runner.invoke(app, ["templates", "check", str(folder), "--no-layout", "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    [error] = [f for f in payload["findings"] if f["severity"] == "error"]
    assert (error["name"], error["suggestion"]) == ("lunar_dat", "lunar_date")


def test_check_command_defaults_ok_without_layout():
    result = runner.invoke(app, ["templates", "check", "--no-layout"])
    assert result.exit_code == 0, result.output


def test_check_command_uses_the_profile_folder(tmp_path, folder):
    edit(folder, "marriage", "{{ wife.name }}", "{{ wif.name }}")
    profile = write_profile(tmp_path, templates="mau-thu")
    result = runner.invoke(app, ["templates", "check", "--profile", str(profile), "--no-layout"])
    assert result.exit_code == 1
    assert "wif" in result.output


# ---- generate refuses a broken template before writing anything --------------------------


def test_generate_refuses_a_broken_template_and_writes_nothing(tmp_path, folder):
    from cchc_letters.pipeline import BatchOptions, run_batch
    from cchc_letters.resources import data_dir

    edit(folder, "marriage", "{{ wife.name }}", "{{ wife.nam }}")
    out = tmp_path / "out"
    options = BatchOptions(
        inputs=[data_dir() / "sample"],
        out_dir=out,
        letter_date=date(2026, 11, 27),
        profile_path=write_profile(tmp_path, templates="mau-thu"),
    )
    with pytest.raises(TemplateProblem) as caught:
        run_batch(options)
    assert "wife.nam" in caught.value.message
    assert str(folder / "marriage.docx") in caught.value.message
    assert not list(out.glob("*batch-*"))  # no letters written (a day log may exist)

    result = runner.invoke(
        app,
        [
            "generate",
            str(data_dir() / "sample"),
            "--out",
            str(out),
            "--profile",
            str(options.profile_path),
            "--date",
            "2026-11-27",
        ],
    )
    assert result.exit_code == 1
    assert "wife.nam" in result.output
    assert not list(out.glob("*batch-*"))  # no letters written (a day log may exist)


# ---- one page with long values (LibreOffice) ---------------------------------------------


def test_layout_note_when_libreoffice_is_missing(monkeypatch):
    monkeypatch.setenv("CCHC_SOFFICE", "no-such-soffice-here")
    report = check_templates(kinds={Kind.DEATH})
    assert report.ok
    assert not report.layout_checked
    assert "LibreOffice" in report.layout_note


def test_letter_too_long_for_one_page_is_found(folder):
    require_soffice()
    padding = "".join(
        f"<w:p><w:r><w:t>Đoạn thêm {n} để thư dài hơn một trang.</w:t></w:r></w:p>"
        for n in range(40)
    )
    edit(folder, "death", "<w:tbl>", padding + "<w:tbl>")
    report = check_templates(folder, kinds={Kind.DEATH})
    assert report.layout_checked
    assert report.pages[Kind.DEATH] >= 2
    assert codes(report) == ["too_long"]


def test_default_marriage_and_death_letters_fit_one_page_with_long_values():
    require_soffice()
    report = check_templates(kinds={Kind.MARRIAGE, Kind.DEATH})
    assert report.layout_checked
    assert report.pages == {Kind.MARRIAGE: 1, Kind.DEATH: 1}
    assert report.ok


def test_placeholder_in_the_page_header_is_reported(folder):
    import zipfile

    source = default_template("death")
    target = folder / "death.docx"
    header = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:p><w:r><w:t>{{ commune.committee }}</w:t></w:r></w:p></w:hdr>"
    )
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info.filename))
        out.writestr("word/header9.xml", header)
    report = check_templates(folder, layout=False)
    assert [f.code for f in report.errors] == ["header_footer_tag"]
    assert "commune.committee" in report.errors[0].name


def test_a_tag_never_closed_is_a_syntax_error_not_a_split(folder):
    edit(folder, "marriage", "{% endif %}).", "{% endif ).")
    report = check_templates(folder, layout=False)
    assert codes(report) == ["syntax_error"]


def test_a_missing_templates_folder_is_an_error(tmp_path):
    report = check_templates(tmp_path / "no-such-folder", layout=False)
    assert codes(report) == ["missing_folder"]


def test_default_birth_letter_fits_one_page_with_long_values():
    require_soffice()
    report = check_templates(kinds={Kind.BIRTH})
    assert report.pages == {Kind.BIRTH: 1}


def worst_case_profile(folder, *, station_address: str | None = None):
    """Write a profile with everything that lengthens a birth letter: a parent line above
    the agency, a long station address and a phone, monthly and weekly session days, and
    three local pneumococcal doses added to the schedule."""
    from cchc_letters.resources import data_dir

    text = (data_dir() / "profiles" / "ngai-giao.toml").read_text(encoding="utf-8")
    address = station_address or (
        "Số 125 đường Nguyễn Văn Linh, khu phố Ngãi Giao, xã Ngãi Giao, Thành phố Hồ Chí Minh"
    )
    replacements = {
        "parent_lines = []": 'parent_lines = ["THÀNH PHỐ HỒ CHÍ MINH"]',
        'address = "Trung tâm xã Ngãi Giao, Thành phố Hồ Chí Minh"': f'address = "{address}"',
        'phone = ""': 'phone = "0254 3 881 234 (giờ hành chính)"',
        "days_of_month = [5, 6]": "days_of_month = [5, 6, 25]",
        "weekdays = []": 'weekdays = ["wednesday"]',
    }
    for old_text, new_text in replacements.items():
        assert old_text in text
        text = text.replace(old_text, new_text, 1)
    for number, months in ((1, 2), (2, 3), (3, 4)):
        text += (
            f'\n[[local_vaccines]]\nvaccine = "pcv"\nname = "Phế cầu (thí điểm của Thành phố)"\n'
            f'short_name = "phế cầu"\ndose = "mũi {number}"\nage = "{months} months"\n'
            f'age_label = "{months} tháng tuổi"\n'
        )
    path = folder / "worst.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_long_birth_sample_is_the_longest_birth_letter():
    # A late-registered child about six months old: doses due now, the catch-up sentence.
    from cchc_letters.variables import sample_context

    context = sample_context(Kind.BIRTH, long=True)
    born = context["child"]["birth_date"]
    assert 150 <= (date(2026, 11, 27) - born).days <= 215
    assert any(visit["due_now"] for visit in context["schedule"]["visits"])
    assert [note for note in context["schedule"]["notes"] if "tiêm bù" in note]
    assert len(context["schedule"]["notes"]) >= 4
    assert len(context["schedule"]["notes"]) > len(sample_context(Kind.BIRTH)["schedule"]["notes"])


def test_long_sample_uses_the_profile_given(folder):
    from cchc_letters.profile import load_profile
    from cchc_letters.variables import sample_context

    profile = load_profile(worst_case_profile(folder))
    context = sample_context(Kind.BIRTH, profile, long=True)
    assert context["header"]["parent_lines"] == ["THÀNH PHỐ HỒ CHÍ MINH"]
    assert context["station"]["phone"] == "0254 3 881 234 (giờ hành chính)"
    assert "thứ Tư hằng tuần" in context["station"]["sessions"]
    assert any("phế cầu" in visit["vaccines"] for visit in context["schedule"]["visits"])


def test_default_birth_letter_fits_one_page_in_the_worst_case(folder):
    require_soffice()
    profile = worst_case_profile(folder)
    result = runner.invoke(app, ["templates", "check", "--profile", str(profile), "--json"])
    report = json.loads(result.stdout)
    assert report["pages"] == {"birth": 1, "marriage": 1, "death": 1}
    # With such a profile there is no room left for names and addresses at their length
    # limits as well: the check says so (a valid row would print over two pages), so the
    # commune shortens its template before such a row comes.
    assert result.exit_code == 1, result.output
    assert report["pages_at_limits"]["birth"] == 2
    [finding] = report["findings"]
    assert finding["code"] == "too_long" and "giới hạn" in finding["message"]


def test_every_default_letter_fits_one_page_with_every_value_at_its_length_limit():
    # The per-row limits of data/columns.toml are a one-page guarantee for the shipped
    # templates and profile: every limited field at its limit, the longest schedules.
    require_soffice()
    report = check_templates()
    assert report.layout_checked and report.ok, [str(f) for f in report.findings]
    assert report.pages_at_limits == {Kind.BIRTH: 1, Kind.MARRIAGE: 1, Kind.DEATH: 1}


def test_a_template_that_fits_long_samples_but_not_values_at_their_limits_is_too_long(folder):
    # Address and addressee printed ten times more: the long samples still fit, a row whose
    # names and address are as long as validation accepts would not.
    require_soffice()
    edit(
        folder,
        "death",
        "{{ deceased.name }}",
        "{{ deceased.name }}{% for i in range(10) %} {{ address }}; {{ addressee }}{% endfor %}",
    )
    report = check_templates(folder, kinds={Kind.DEATH})
    assert report.pages[Kind.DEATH] == 1 and report.pages_at_limits[Kind.DEATH] >= 2
    assert codes(report) == ["too_long"]
    [finding] = report.errors
    assert "giới hạn" in finding.message and "50" in finding.message


def test_templates_check_measures_with_the_profile_given(folder):
    # A station address no letter could hold shows the check renders the profile's values.
    require_soffice()
    profile = worst_case_profile(folder, station_address="Khu phố Ngãi Giao, " * 120)
    result = runner.invoke(app, ["templates", "check", "--profile", str(profile), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["pages"]["birth"] >= 2
    assert [f["code"] for f in report["findings"]] == ["too_long"]


def test_templates_saved_again_by_libreoffice_still_work(tmp_path):
    # An editor opens a default template in LibreOffice Writer and saves it as .docx.
    import subprocess

    from docx_edit import docx_text

    from cchc_letters.pdf import find_soffice
    from cchc_letters.render import LetterTemplate
    from cchc_letters.variables import sample_context

    require_soffice()
    out = tmp_path / "saved"
    sources = [str(default_template(kind.value)) for kind in Kind]
    subprocess.run(
        [
            find_soffice(),
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            *sources,
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    report = check_templates(out, layout=False)
    assert report.ok, [str(f) for f in report.findings]
    assert report.files[Kind.BIRTH] == out / "birth.docx"
    letter = LetterTemplate.load(out / "birth.docx")
    write_letter(letter, sample_context(Kind.BIRTH), tmp_path / "letter.docx")
    text = docx_text(tmp_path / "letter.docx")
    assert "Nguyễn Phạm Gia Bảo" in text
    assert "5 trong 1 (mũi 1)" in text  # the schedule table rows repeat


def test_table_row_tag_split_by_word_still_works(folder):
    from docx_edit import docx_text

    from cchc_letters.render import LetterTemplate
    from cchc_letters.variables import sample_context

    old = "{%tr for visit in schedule.visits %}</w:t>"
    new = (
        '{%tr for visit in sche</w:t></w:r><w:proofErr w:type="spellStart"/>'
        "<w:r><w:rPr><w:i/></w:rPr><w:t>dule.visits %}</w:t>"
    )
    edit(folder, "birth", old, new)
    report = check_templates(folder, kinds={Kind.BIRTH}, layout=False)
    assert report.ok, [str(f) for f in report.findings]
    write_letter(
        LetterTemplate.load(folder / "birth.docx"), sample_context(Kind.BIRTH), folder / "out.docx"
    )
    assert "Viêm não Nhật Bản (mũi 1)" in docx_text(folder / "out.docx")


def test_a_file_that_is_not_a_docx_is_reported(folder):
    (folder / "death.docx").write_bytes(b"{\\rtf1 saved as RTF by mistake}")
    report = check_templates(folder, layout=False)
    [finding] = report.errors
    assert finding.code == "not_a_template"
    assert finding.file == str(folder / "death.docx")


@pytest.mark.parametrize(
    ("kind", "tag", "where"),
    [
        ("death", "{%p for line in header.agency_lines %}", "đoạn văn"),
        ("birth", "{%tr for visit in schedule.visits %}", "dòng bảng"),
    ],
)
def test_words_typed_beside_a_whole_paragraph_tag_are_a_warning(folder, kind, tag, where):
    edit(folder, kind, tag, f"Kính gửi {tag}")
    report = check_templates(folder, kinds={Kind(kind)}, layout=False)
    [finding] = [f for f in report.findings if f.code == "text_beside_paragraph_tag"]
    assert finding.severity == "warning" and report.ok  # the letters still print
    assert "Kính gửi" in finding.message and where in finding.message
    assert finding.name == tag


def test_default_templates_have_no_words_beside_their_paragraph_tags():
    report = check_templates(layout=False)
    assert not [f for f in report.findings if f.code == "text_beside_paragraph_tag"]
