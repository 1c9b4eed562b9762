"""The lint's name check (issue 17) takes the tree and the context variables the compile of
the template collected (render._compiled_source) instead of parsing the body again and
running jinja2.meta over it: the findings must be those of the fresh parse, template by
template, including names hidden behind constants the compiler folds, loops, macros, and
filters Jinja only rejects when rendering."""

from __future__ import annotations

import dataclasses

import pytest
from docx_edit import default_template

from cchc_letters import render, templatelint
from cchc_letters.models import Kind
from cchc_letters.render import LetterTemplate, jinja_environment, read_template

CHILD = "{{ signer.name }}"  # in all three default templates
BODIES = [
    "",
    "{{ chid.name }}",
    "{{ child.nmae }} {{ nobody }}",
    "{% if false and child.nmae %}x{% endif %}{{ false and ghost }}",
    "{{ 'a' ~ child.name | upper }}{{ (1 + 2) | string }}",
    "{% for d in schedule.visits %}{{ d.date }}{{ d.nope }}{{ loop.index }}{% endfor %}",
    "{% for x in missing_list %}{{ x.y }}{% else %}{{ y }}{% endfor %}",
    "{% set a = child %}{{ a.name }}{{ a.zzz }}",
    "{% macro m(p) %}{{ p }}{{ q }}{% endmacro %}{{ m(child.name) }}",
    "{% if child %}{{ child.name | no_such_filter }}{% endif %}",
    "{% if child %}{{ 'k' | no_such_filter }}{{ child is no_such_test }}{% endif %}",
    "{{ range(3) | list }}{{ lipsum }}",
    "{% with z = 1 %}{{ z }}{{ w }}{% endwith %}",
]


def _templates(kind: Kind, *, from_cache: bool = False) -> list[LetterTemplate]:
    """The default template of ``kind`` and its variants with each of BODIES; with
    ``from_cache``, each as the start-up cache gives it back (render._cached_compile)."""
    parts = read_template(default_template(kind.value))
    found = []
    for body in ["", *BODIES]:
        source = parts.source.replace(CHILD, CHILD + body, 1)
        assert source != parts.source or not body
        try:
            template = LetterTemplate.compile(dataclasses.replace(parts, source=source))
            if from_cache:
                render._compiled_source.cache_clear()  # this process's copy: read the entry
                assert render._cached_compile(
                    render.jinja_environment(),
                    render._compiled_key(source, template.compiled.environment),
                ), "kept in the cache"
                template = LetterTemplate.compile(dataclasses.replace(parts, source=source))
        except Exception:  # noqa: BLE001 — what the compile refuses never reaches the lint
            continue
        found.append(template)
    return found


@pytest.mark.parametrize("from_cache", [False, True], ids=["compiled", "from-cache"])
@pytest.mark.parametrize("kind", [Kind.BIRTH, Kind.MARRIAGE, Kind.DEATH])
def test_the_lint_finds_what_a_fresh_parse_finds(kind, from_cache):
    templates = _templates(kind, from_cache=from_cache)
    assert len(templates) > len(BODIES) // 2
    reused = 0
    for template in templates:
        assert template.ast is not None and template.undeclared is not None
        fresh = templatelint.name_findings(
            jinja_environment().parse(template.source), template, kind
        )
        if not templatelint._unknown_filter_or_test(template.ast):
            reused += 1
            got = templatelint.name_findings(
                template.ast, template, kind, undeclared=template.undeclared
            )
            assert got == fresh, template.source[-300:]
    assert reused > len(BODIES) // 2


def test_a_filter_jinja_rejects_only_when_rendering_stays_unknown_to_the_letters():
    parts = read_template(default_template("birth"))
    source = parts.source.replace(CHILD, CHILD + "{% if child %}{{ child.name | nope }}{% endif %}")
    template = LetterTemplate.compile(dataclasses.replace(parts, source=source))
    assert templatelint._unknown_filter_or_test(template.ast)
    findings = templatelint.lint_template(template, Kind.BIRTH, profile=None)
    assert any(f.code == "unknown_filter" for f in findings)
    assert "nope" not in template.compiled.environment.filters  # no stand-in in the letters'
