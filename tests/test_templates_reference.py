"""One list of variables and filters: enrich, variables.py, the environment and the README agree."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cchc_letters.filters import FILTER_SPECS
from cchc_letters.models import Kind, Person, Sex
from cchc_letters.render import jinja_environment
from cchc_letters.resources import templates_dir
from cchc_letters.variables import (
    README_END,
    README_START,
    VARIABLES,
    markdown_reference,
    sample_context,
    variables_for,
)

README = templates_dir() / "README.md"


def leaf_paths(value, prefix=""):
    """Return the dotted paths of a context, lists of records as ``name[].field``."""
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict):
            yield from leaf_paths(item, path + ".")
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            yield path
            yield from leaf_paths(item[0], path + "[].")
        else:
            yield path


@pytest.mark.parametrize("kind", list(Kind))
def test_enrich_gives_exactly_the_declared_variables(kind):
    context = sample_context(kind)
    assert set(leaf_paths(context)) == {v.path for v in variables_for(kind)}


@pytest.mark.parametrize("kind", list(Kind))
def test_long_sample_has_the_same_variables(kind):
    assert set(leaf_paths(sample_context(kind, long=True))) == set(leaf_paths(sample_context(kind)))


def test_every_variable_is_declared_once():
    paths = [v.path for v in VARIABLES]
    assert len(paths) == len(set(paths))


def test_environment_filters_are_the_documented_ones():
    assert set(jinja_environment().filters) == {spec.name for spec in FILTER_SPECS}


def test_readme_tables_match_the_code():
    text = README.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    assert text[start:end] == markdown_reference(), (
        "templates/README.md is out of date: run python -m cchc_letters.variables"
    )


def test_readme_lists_every_variable_and_filter_with_an_example():
    whole = README.read_text(encoding="utf-8")
    text = whole[whole.index(README_START) : whole.index(README_END)]
    rows = {
        m[1]: m[2] for m in re.finditer(r"^\| `([^`]+)` \| ([^|]*(?:\\\|[^|]*)*) \|", text, re.M)
    }
    for variable in VARIABLES:
        assert variable.path in rows, variable.path
        assert rows[variable.path].strip(), variable.path
    for spec in FILTER_SPECS:
        assert spec.name in rows, spec.name
    documented = set(rows) - {v.path for v in VARIABLES} - {s.name for s in FILTER_SPECS}
    assert not documented, f"README documents names the code does not have: {documented}"


def test_filter_examples_render():
    env = jinja_environment()
    context = {**sample_context(Kind.BIRTH), **sample_context(Kind.DEATH)}
    for spec in FILTER_SPECS:
        assert env.from_string(spec.usage).render(context).strip(), spec.name


def test_honorific_override_column_wins():
    import dataclasses

    from cchc_letters.enrich import letter_context
    from cchc_letters.profile import load_profile
    from cchc_letters.variables import sample_registration

    registration = sample_registration(Kind.DEATH, date(2026, 11, 27))
    overridden = dataclasses.replace(
        registration,
        deceased=Person("Nguyễn Văn Tám", Sex.MALE, birth_year=1941, honorific="ông"),
    )
    profile = load_profile(None)
    assert (
        letter_context(registration, profile, date(2026, 11, 27))["deceased"]["honorific"] == "cụ"
    )
    context = letter_context(overridden, profile, date(2026, 11, 27))
    assert context["deceased"]["honorific"] == "ông"
    assert context["addressee"] == "Gia đình ông Nguyễn Văn Tám"


def test_longevity_follows_the_profile_age(tmp_path):
    from docx_edit import write_profile

    from cchc_letters.profile import load_profile

    path = write_profile(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("longevity_age = 60", "longevity_age = 90"),
        encoding="utf-8",
    )
    assert sample_context(Kind.DEATH)["deceased"]["longevity"] == "hưởng thọ"  # 85 >= 60
    assert sample_context(Kind.DEATH, load_profile(path))["deceased"]["longevity"] == "hưởng dương"


def test_placeholders_in_the_readme_prose_exist():
    whole = README.read_text(encoding="utf-8")
    prose = whole[: whole.index(README_START)] + whole[whole.index(README_END) :]
    known = {v.path.replace("[]", "") for v in VARIABLES} | {"visit.label"}
    filters = {spec.name for spec in FILTER_SPECS}
    placeholders = list(re.finditer(r"\{\{ ([a-z_.]+)((?:\|[a-z_]+)*) \}\}", prose))
    assert len(placeholders) > 5
    for found in placeholders:
        assert found[1] in known, found[0]
        for name in filter(None, found[2].split("|")):
            assert name in filters, found[0]
