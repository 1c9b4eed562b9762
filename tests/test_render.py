"""Rendering letters: Word's split placeholders, sandbox, autoescape, strict variables."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from docx_edit import default_template, docx_text, replace_text, rewrite_document, write_profile

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind, Person, Sex
from cchc_letters.profile import load_profile
from cchc_letters.render import LetterTemplate, load_templates, template_path
from cchc_letters.templatecheck import write_letter
from cchc_letters.variables import sample_context, sample_registration

CHILD_RUN = "<w:t>{{ child.name }}</w:t>"


def render_to_docx(template_file: Path, context: dict, out: Path) -> str:
    write_letter(LetterTemplate.load(template_file), context, out)
    return docx_text(out)


# ---- placeholders split by Word ----------------------------------------------------------


def test_placeholder_split_across_runs_with_proofing_marks_still_renders(tmp_path):
    # What Word saves after a spelling correction and a formatting change mid-name: three runs
    # with different properties and proofErr marks between them.
    split = (
        "<w:t>{{ chi</w:t></w:r>"
        '<w:proofErr w:type="spellStart"/>'
        '<w:r><w:rPr><w:b/><w:i/><w:lang w:val="en-US"/></w:rPr><w:t>ld.na</w:t></w:r>'
        '<w:proofErr w:type="spellEnd"/>'
        '<w:r><w:rPr><w:b/><w:color w:val="C00000"/></w:rPr><w:t xml:space="preserve">me }}</w:t>'
    )
    edited = rewrite_document(
        default_template("birth"), tmp_path / "birth.docx", replace_text(CHILD_RUN, split)
    )
    text = render_to_docx(edited, sample_context(Kind.BIRTH), tmp_path / "out.docx")
    assert "cho cháu Nguyễn Phạm Gia Bảo, sinh ngày" in text
    assert "{{" not in text and "}}" not in text


def test_braces_split_between_runs_still_render(tmp_path):
    # "{" and "{ child.honorific }" and "}" in separate runs, as after retyping one brace.
    old = "khai sinh cho {{ child.honorific }} </w:t>"
    new = (
        "khai sinh cho {</w:t></w:r><w:r><w:rPr><w:i/></w:rPr>"
        '<w:t>{ child.honorific }</w:t></w:r><w:r><w:rPr/><w:t xml:space="preserve">} </w:t>'
    )
    edited = rewrite_document(
        default_template("birth"), tmp_path / "b.docx", replace_text(old, new)
    )
    text = render_to_docx(edited, sample_context(Kind.BIRTH), tmp_path / "out.docx")
    assert "khai sinh cho cháu Nguyễn Phạm Gia Bảo" in text


def test_word_smart_quotes_inside_a_tag_are_understood(tmp_path):
    old = "{% if birth_place %}"
    new = "{% if birth_place != \u201c\u201d %}"  # Word's AutoCorrect turned "" into “”
    edited = rewrite_document(
        default_template("birth"), tmp_path / "b.docx", replace_text(old, new)
    )
    text = render_to_docx(edited, sample_context(Kind.BIRTH), tmp_path / "out.docx")
    assert "tại Trung tâm Y tế khu vực Châu Đức" in text


# ---- safety ------------------------------------------------------------------------------


def template_with(tmp_path: Path, kind: str, placeholder_old: str, new: str) -> Path:
    return rewrite_document(
        default_template(kind), tmp_path / f"{kind}.docx", replace_text(placeholder_old, new)
    )


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ child.name.__class__.__base__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ '{0.__class__}'.format(child.name) }}",
        "{{ child.update({'name': 'x'}) }}",  # the immutable sandbox: no changing data
    ],
)
def test_sandbox_escape_attempts_fail_with_a_template_error(tmp_path, attack):
    path = template_with(tmp_path, "birth", "{{ child.name }}", attack)
    template = LetterTemplate.load(path)
    with pytest.raises(TemplateProblem) as caught:
        template.render_body(sample_context(Kind.BIRTH))
    message = caught.value.message
    assert str(path) in message
    assert "sandbox" in message or "không" in message


def test_sandbox_message_is_clear(tmp_path):
    path = template_with(tmp_path, "birth", "{{ child.name }}", "{{ ''.__class__.__mro__ }}")
    with pytest.raises(TemplateProblem, match=r"sandbox.*__class__"):
        LetterTemplate.load(path).render_body(sample_context(Kind.BIRTH))


TRICKY = [
    "Tổ 3 & 4, ấp <Bình Ba>",
    'Nguyễn "Tí" O\'Brien',
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "a < b > c && d",
    "]]><w:p>",
]


@pytest.mark.parametrize("value", TRICKY)
def test_data_prints_exactly_as_written_through_a_saved_docx(tmp_path, value):
    context = sample_context(Kind.BIRTH)
    context["child"] = {**context["child"], "name": value}
    context["address"] = value
    text = render_to_docx(default_template("birth"), context, tmp_path / "out.docx")
    assert f"cho cháu {value}, sinh ngày" in text  # never evaluated, escaped or dropped
    assert f"Địa chỉ: {value}" in text
    assert "49" not in text.split("Địa chỉ:")[1].splitlines()[0]


def test_registry_values_with_ampersand_survive_the_whole_pipeline(tmp_path):
    from cchc_letters.enrich import letter_context

    registration = sample_registration(Kind.MARRIAGE, date(2026, 11, 27))
    registration = dataclasses.replace(
        registration,
        husband=Person("Lê Văn {{ 7*7 }}", Sex.MALE, residence="Tổ 3 & 4 <ấp Bình Ba>"),
    )
    context = letter_context(registration, load_profile(None), date(2026, 11, 27))
    text = render_to_docx(default_template("marriage"), context, tmp_path / "m.docx")
    assert "Lê Văn {{ 7*7 }}" in text
    assert "Địa chỉ: Tổ 3 & 4 <ấp Bình Ba>" in text


def test_missing_variable_is_an_error_naming_it():
    template = LetterTemplate.load(default_template("death"))
    context = sample_context(Kind.DEATH)
    del context["deceased"]
    with pytest.raises(TemplateProblem, match="deceased"):
        template.render_body(context)


def test_missing_attribute_is_an_error_naming_it():
    template = LetterTemplate.load(default_template("death"))
    context = sample_context(Kind.DEATH)
    context["deceased"] = {k: v for k, v in context["deceased"].items() if k != "age_phrase"}
    with pytest.raises(TemplateProblem, match="age_phrase"):
        template.render_body(context)


def test_a_date_filter_on_an_empty_value_is_a_template_error(tmp_path):
    path = template_with(
        tmp_path, "birth", "{{ child.name }}", "{{ mother.birth_date|short_date }}"
    )
    with pytest.raises(TemplateProblem, match="short_date"):
        LetterTemplate.load(path).render_body(sample_context(Kind.BIRTH))


def test_only_documented_filters_exist(tmp_path):
    from cchc_letters.filters import FILTER_SPECS
    from cchc_letters.render import jinja_environment

    assert set(jinja_environment().filters) == {s.name for s in FILTER_SPECS}
    path = template_with(tmp_path, "birth", "{{ child.name }}", "{{ child.name|safe }}")
    with pytest.raises(TemplateProblem, match="safe"):
        LetterTemplate.load(path)


# ---- a commune's own templates folder ----------------------------------------------------


def test_profile_templates_folder_overrides_one_kind_and_falls_back(tmp_path):
    own = tmp_path / "mau-thu"
    own.mkdir()
    rewrite_document(
        default_template("death"),
        own / "death.docx",
        replace_text("Xin thành kính chia buồn cùng gia đình!", "Lời chia buồn riêng của xã."),
    )
    profile = load_profile(write_profile(tmp_path, templates="mau-thu"))
    assert profile.templates_dir == own.resolve()
    assert template_path(Kind.DEATH, profile.templates_dir) == own.resolve() / "death.docx"
    assert template_path(Kind.BIRTH, profile.templates_dir) == default_template("birth")
    loaded = load_templates(set(Kind), profile.templates_dir)
    assert loaded[Kind.DEATH].path == own.resolve() / "death.docx"
    assert loaded[Kind.MARRIAGE].path == default_template("marriage")


def test_generate_uses_the_profile_folder_and_the_defaults(tmp_path):
    from cchc_letters.pipeline import BatchOptions, run_batch
    from cchc_letters.resources import data_dir

    own = tmp_path / "mau-thu"
    own.mkdir()
    rewrite_document(
        default_template("death"),
        own / "death.docx",
        replace_text("Xin thành kính chia buồn cùng gia đình!", "Lời chia buồn riêng của xã."),
    )
    result = run_batch(
        BatchOptions(
            inputs=[data_dir() / "sample"],
            out_dir=tmp_path / "out",
            letter_date=date(2026, 11, 27),
            profile_path=write_profile(tmp_path, templates="mau-thu"),
        )
    )
    files = {p.name: p for p in result.files}
    assert "Lời chia buồn riêng của xã." in docx_text(files["khai-tu-001.docx"])
    assert "Trăm năm hạnh phúc" in docx_text(files["ket-hon-001.docx"])


# ---- any text survives -------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BIRTH = None


def _birth_template():
    global _BIRTH
    if _BIRTH is None:
        _BIRTH = LetterTemplate.load(default_template("birth"))
    return _BIRTH


@pytest.mark.slow  # a property search: 60 letters rendered and parsed
@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30) | st.sampled_from(["a\rb\r\nc\td", "\x00\x0b\ud800x", "&amp; <w:p>"]))
def test_any_registry_text_gives_valid_xml_and_prints_as_written(value):
    from lxml import etree

    from cchc_letters.render import printable

    context = sample_context(Kind.BIRTH)
    context["child"] = {**context["child"], "name": value}
    document = _birth_template().render_document(context)
    root = etree.fromstring(document.encode("utf-8"))  # never a corrupt document
    texts = "".join(root.itertext())
    assert f"cho cháu {printable(value)}, sinh ngày" in texts


def test_none_prints_as_nothing_not_none(tmp_path):
    path = template_with(tmp_path, "birth", "{{ child.name }}", "[{{ mother.birth_date }}]")
    body = LetterTemplate.load(path).render_body(sample_context(Kind.BIRTH))
    assert "[]" in body and "None" not in body


def test_printable_cleans_each_forbidden_character_and_leaves_the_rest():
    from markupsafe import Markup

    from cchc_letters.render import printable

    assert printable("a\tb\rc\nd") == "a b c d"
    for forbidden in "\x00\x07\x08\x0b\x0c\x0e\x1f\ud800\udfff\ufffe\uffff":
        assert printable(f"x{forbidden}y") == "xy", repr(forbidden)
    assert printable("Tổ 3 & 4, ấp <Bình Ba>") == "Tổ 3 & 4, ấp <Bình Ba>"
    assert printable(Markup("<w:br/>")) == Markup("<w:br/>")  # already markup: as it is
    assert printable(None) == "" and printable(7) == 7


def test_each_value_prints_as_escape_of_printable_whichever_way_it_is_output(tmp_path):
    # The compiled template outputs a plain str with nothing to clean or escape as it is, and
    # every other value through escape(printable(value)): both ways must print the same.
    from markupsafe import Markup, escape

    from cchc_letters.render import printable

    values = [
        "Nguyễn Văn An",
        "Tổ 3 & 4",
        "<w:p>",
        'O\'Neil "Ba"',
        "a\tb\nc",
        "x\x00\x0by",
        "\ud800",
        Markup("<w:br/>"),
        None,
        7,
        date(2026, 2, 5),
        "",
    ]
    path = template_with(
        tmp_path, "birth", "{{ child.name }}", "[{% for v in values %}{{ v }}|{% endfor %}]"
    )
    context = {**sample_context(Kind.BIRTH), "values": values}
    body = LetterTemplate.load(path).render_body(context)
    assert "[" + "".join(f"{escape(printable(v))}|" for v in values) + "]" in body


def test_a_name_missing_from_a_context_dict_is_a_template_error(tmp_path):
    path = template_with(tmp_path, "birth", "{{ child.name }}", "{{ child.nickname }}")
    with pytest.raises(TemplateProblem):
        LetterTemplate.load(path).render_body(sample_context(Kind.BIRTH))


def test_a_dict_method_name_is_read_as_jinja_reads_it_not_as_a_key(tmp_path):
    path = template_with(tmp_path, "birth", "{{ child.name }}", "[{{ child.keys is callable }}]")
    context = sample_context(Kind.BIRTH)
    context["child"] = {**context["child"], "keys": "not this"}
    body = LetterTemplate.load(path).render_body(context)
    assert "[True]" in body and "not this" not in body


def _compiled(source: str) -> LetterTemplate:
    from cchc_letters.render import TemplateSource

    parts = TemplateSource(Path("t.docx"), "", source, "", "", "", ())
    return LetterTemplate.compile(parts)


P = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"


@pytest.mark.parametrize(
    "source",
    [
        P.format("a") + "\n" + P.format("{{ name }}") + "\n" + P.format("c"),
        # a line break before a tag, the paragraph after it: joined as each letter renders
        P.format("a") + "\n{% if name %}\n" + P.format("b") + "{% endif %}\n" + P.format("c"),
        P.format("a") + "\n{% for i in [1, 2] %}\n" + P.format("{{ i }}") + "\n{% endfor %}",
    ],
)
def test_paragraphs_are_joined_as_before_whichever_way(source):
    """The source has a line break before each paragraph (line numbers); the letters are
    what rendering the whole source and then taking those out gives, joined at compile time
    or not."""
    body = _compiled(source).render_body({"name": "An"})
    assert body == _reference_render(source, {"name": "An"})


def _reference_render(source: str, context: dict) -> str:
    """The whole letter rendered, then every line break before a paragraph taken out."""
    from cchc_letters.render import jinja_environment

    return jinja_environment().from_string(source).render(context).replace("\n<w:p", "<w:p")


def test_the_default_templates_need_no_search_per_letter():
    for kind in ("birth", "marriage", "death"):
        template = LetterTemplate.load(default_template(kind))
        assert template.joined
        assert "\n<w:p" not in template.render_body(sample_context(Kind(kind)))
    tagged = _compiled(P.format("a") + "\n{% if name %}\n" + P.format("b") + "{% endif %}")
    assert not tagged.joined


def test_the_short_date_filter_remembers_each_date_apart():
    # Formatted once per date (schedule tables repeat them): each date keeps its own text,
    # and a datetime, equal to no date, is formatted for itself.
    from datetime import datetime

    from cchc_letters.filters import short_date

    assert [short_date(date(2026, 2, 5)), short_date(date(2026, 5, 2))] == [
        "05/02/2026",
        "02/05/2026",
    ]
    assert short_date(date(2026, 2, 5)) == "05/02/2026"
    assert short_date(date(2026, 5, 2)) == "02/05/2026"
    assert short_date(datetime(2026, 2, 6, 7, 30)) == "06/02/2026"
