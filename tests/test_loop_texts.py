"""A loop that prints only from its own items is rendered once per list and printed again
for every letter that has the same list (the schedule table of children born the same day);
any other loop is rendered for each letter. Either way each letter says what it would say
rendered on its own."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from jinja2 import nodes

from cchc_letters import render
from cchc_letters.enrich import letter_context
from cchc_letters.models import Kind
from cchc_letters.profile import load_profile
from cchc_letters.render import LetterTemplate, TemplateSource, repeats_alike, template_path
from cchc_letters.schedule import load_versions, version_for
from cchc_letters.variables import sample_registration

LETTER_DATE = date(2026, 11, 27)


def _compiled(source: str) -> LetterTemplate:
    return LetterTemplate.compile(TemplateSource(Path("t.docx"), "", source, "", "", "", ()))


def _loop(source: str) -> tuple[nodes.For, LetterTemplate]:
    template = _compiled(source)
    return next(template.ast.find_all(nodes.For)), template


@pytest.mark.parametrize(
    "source",
    [
        "{% for v in rows %}<w:t>{{ v.label }}: {{ v.due|short_date }}</w:t>{% endfor %}",
        "{% for v in rows %}{% if not v.at_school %}{{ v.due|short_date }}{% else %}-"
        "{% endif %}{{ loop.index }}{% endfor %}",
        "{% for a, b in rows %}{{ a ~ b }}{% for c in a %}{{ c|upper }}{{ b }}{% endfor %}"
        "{% endfor %}",
        "{% for v in rows if v.due %}{{ v.label|default('x') }}{% else %}không có{% endfor %}",
    ],
)
def test_a_loop_reading_only_its_items_repeats_alike(source):
    loop, template = _loop(source)
    assert repeats_alike(loop, template.compiled.environment)


@pytest.mark.parametrize(
    "source",
    [
        "{% for v in rows %}{{ child.name }}{{ v }}{% endfor %}",  # another variable
        "{% for v in rows %}{{ v }}{% for w in v %}{% endfor %}{{ w }}{% endfor %}",  # w is
        # the context's after the inner loop
        "{% for v in rows %}{{ v.label.upper() }}{% endfor %}",  # a call
        "{% for v in rows %}{% for i in range(3) %}{{ i }}{% endfor %}{% endfor %}",
        "{% for v in rows %}{% set x = v %}{{ x }}{% endfor %}",  # an assignment
        "{% for v in rows recursive %}{{ loop(v.children) }}{% endfor %}",
        "{% for v in rows if v.due > cutoff %}{{ v }}{% endfor %}",  # the test reads another
        "{% for v in rows %}{{ v }}{% else %}{{ child.name }}{% endfor %}",  # so does else
    ],
)
def test_a_loop_reading_anything_else_does_not(source):
    loop, template = _loop(source)
    assert not repeats_alike(loop, template.compiled.environment)


def test_a_list_shared_by_letters_prints_its_rows_once_and_each_letter_alike():
    template = _compiled(
        "<w:t>{{ name }}</w:t>{% for v in rows %}<w:t>{{ v.label }}</w:t>{% endfor %}"
    )
    environment = template.compiled.environment
    rows = [{"label": "Lao"}, {"label": "Sởi & Rubella"}]
    first = template.render_body({"name": "An", "rows": rows})
    assert first == "<w:t>An</w:t><w:t>Lao</w:t><w:t>Sởi &amp; Rubella</w:t>"
    assert environment.loop_texts_of(rows) == ["<w:t>Lao</w:t><w:t>Sởi &amp; Rubella</w:t>"]
    second = template.render_body({"name": "Bình", "rows": rows})
    assert second == "<w:t>Bình</w:t><w:t>Lao</w:t><w:t>Sởi &amp; Rubella</w:t>"
    other = [{"label": "Lao"}]  # another list: its own rows, kept beside the first
    assert template.render_body({"name": "Chi", "rows": other}) == "<w:t>Chi</w:t><w:t>Lao</w:t>"
    assert environment.loop_texts_of(other) == ["<w:t>Lao</w:t>"]


def test_a_kept_loop_prints_what_the_list_gave_it_not_a_neighbours():
    template = _compiled("{% for v in rows %}{{ v }}{% endfor %}")
    environment = template.compiled.environment
    for n in range(3 * render.LOOP_TEXTS_KEPT // 2):  # the store is emptied when full
        rows = [n]  # a new list each time, freed after its letter: ids are reused
        assert template.render_body({"rows": rows}) == str(n)
    assert len(environment.loop_texts_of(None)) <= render.LOOP_TEXTS_KEPT
    # a generator (or anything but a list or tuple) is iterated for each letter
    assert template.render_body({"rows": (str(i) for i in range(2))}) == "01"
    assert template.render_body({"rows": (str(i) for i in range(3))}) == "012"


def test_a_loop_reading_another_variable_is_rendered_for_each_letter():
    template = _compiled("{% for v in rows %}{{ v }} {{ name }};{% endfor %}")
    rows = ["a", "b"]
    assert template.render_body({"rows": rows, "name": "An"}) == "a An;b An;"
    assert template.render_body({"rows": rows, "name": "Bình"}) == "a Bình;b Bình;"
    assert template.compiled.environment.loop_texts_of(rows) == []


def test_children_born_the_same_day_get_the_letter_each_would_get_alone(monkeypatch):
    profile = load_profile(None)
    version = version_for(LETTER_DATE, load_versions(), None)
    sample = sample_registration(Kind.BIRTH, LETTER_DATE)
    born = [
        dataclasses.replace(
            sample, number=str(n), child=dataclasses.replace(sample.child, full_name=name)
        )
        for n, name in enumerate(["Lê Minh An", "Trần Thị Bình", "Phạm Văn Cường"], start=1)
    ]
    contexts = [letter_context(r, profile, LETTER_DATE, version) for r in born]
    assert contexts[0]["schedule"]["visits"] is contexts[2]["schedule"]["visits"]
    shared = LetterTemplate.load(template_path(Kind.BIRTH))
    letters = [shared.render_body(c) for c in contexts]
    assert shared.compiled.environment.loop_texts_of(contexts[0]["schedule"]["visits"])

    render._compiled_source.cache_clear()  # a template compiled with no loop kept
    monkeypatch.setattr(render, "repeats_alike", lambda loop, environment: False)
    alone = LetterTemplate.load(template_path(Kind.BIRTH))
    assert [alone.render_body(c) for c in contexts] == letters
    assert all(name in letter for name, letter in zip(["Lê Minh An", "Trần Thị Bình",
                                                       "Phạm Văn Cường"], letters, strict=True))  # fmt: skip
    render._compiled_source.cache_clear()


def test_the_kept_rows_are_not_rendered_again():
    read = []

    class Visit:
        @property
        def label(self) -> str:
            read.append(1)
            return "Viêm gan B"

    template = _compiled("{{ name }}{% for v in rows %}<w:t>{{ v.label }}</w:t>{% endfor %}")
    rows = (Visit(), Visit())
    assert template.render_body({"name": "An", "rows": rows}) == (
        "An<w:t>Viêm gan B</w:t><w:t>Viêm gan B</w:t>"
    )
    assert template.render_body({"name": "Bình", "rows": rows}) == (
        "Bình<w:t>Viêm gan B</w:t><w:t>Viêm gan B</w:t>"
    )
    assert len(read) == 2, "each visit read once, for the first letter only"
