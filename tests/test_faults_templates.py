"""Hostile templates (issue 11, item 9): template work is bounded and reported as a template
error; autoescape cannot be turned off; a DOCX with broken XML or an entity bomb is a
finding of `templates check`, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document, write_profile
from hostile_files import LAUGHS
from typer.testing import CliRunner

from cchc_letters import render
from cchc_letters.cli import app
from cchc_letters.errors import TemplateProblem
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.templatecheck import check_templates

runner = CliRunner()
LETTER_DATE = date(2026, 11, 27)
NAME = "{{ child.name }}"

# What an editor (or someone with write access to the templates folder) could type in Word.
HEAVY = {
    "string-times-huge": "{{ 'A' * 10**10 }}",
    "nested-big-ranges": "{% for i in range(100000) %}{% for j in range(100000) %}"
    "{% endfor %}{% endfor %}",
    "nested-small-ranges": "{% for i in range(10000) %}{% for j in range(10000) %}"
    "{% endfor %}{% endfor %}",
    "lipsum": "{{ lipsum(n=100000) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "format-width": "{{ '{:>999999999}'.format('x') }}",
    "percent-width": "{{ '%999999999s' % 'x' }}",
    "percent-star": "{{ '%*s' % (10**9, 'x') }}",
    "doubling": "{% set ns = namespace(s='A') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "output-flood": "{% for i in range(10000) %}{% for j in range(9) %}{{ child.name }}"
    "{{ 'B' * 90000 }}{% endfor %}{% endfor %}",
}


def birth_template(folder: Path, new: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return rewrite_document(
        default_template("birth"), folder / "birth.docx", replace_text(NAME, new)
    )


@pytest.mark.slow
def test_heavy_templates_are_template_errors_quickly_and_in_bounded_memory(tmp_path):
    # In a child with 1 GB of address space and a timeout: a regression fails this test
    # instead of eating the machine.
    folders = {}
    for name, text in HEAVY.items():
        birth_template(tmp_path / name, text)
        folders[name] = str(tmp_path / name)
    script = textwrap.dedent(
        """
        import json, resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from pathlib import Path
        from cchc_letters.templatecheck import check_templates
        found = {}
        for name, folder in json.loads(sys.argv[1]).items():
            start = time.monotonic()
            report = check_templates(Path(folder), layout=False)
            found[name] = [[f.code, f.message] for f in report.errors]
            found[name + ":seconds"] = time.monotonic() - start
        print(json.dumps(found))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(folders)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout)
    for name in HEAVY:
        errors = found[name]
        assert errors, name
        [(code, message)] = errors
        if name == "lipsum":  # not available at all: an unknown name, found before rendering
            assert code == "unknown_variable" and "lipsum" in message
        else:
            assert code == "render_error", (name, message)
            assert "template work limit" in message, (name, message)
        # each is stopped early, not after minutes (a generous bound for a shared machine)
        assert found[name + ":seconds"] < 30, name


def test_a_template_over_its_time_budget_is_a_template_error(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "LETTER_TIME_BUDGET", -1.0)  # every letter is already late
    birth_template(tmp_path / "t", "{{ child.name | upper }}")
    errors = check_templates(tmp_path / "t", layout=False).errors
    assert {f.kind for f in errors} == {"birth", "marriage", "death"}  # every letter is late
    assert all(f.code == "render_error" and "time budget" in f.message for f in errors)


def test_ordinary_loops_and_texts_still_work(tmp_path):
    text = "{% for i in range(3) %}{{ child.name ~ '-' }}{{ '*' * 5 }}{% endfor %}"
    birth_template(tmp_path / "t", text)
    assert check_templates(tmp_path / "t", layout=False).errors == []


AUTOESCAPE_OFF = [
    "{% autoescape false %}{{ child.name }}{% endautoescape %}",
    "{% autoescape 0 %}{{ child.name }}{% endautoescape %}",
    "{% autoescape child.name == '' %}{{ child.name }}{% endautoescape %}",
]


@pytest.mark.parametrize("text", AUTOESCAPE_OFF)
def test_autoescape_off_fails_templates_check(tmp_path, text):
    birth_template(tmp_path / "t", text)
    [finding] = check_templates(tmp_path / "t", layout=False).errors
    assert "autoescape" in finding.message


def test_autoescape_off_is_refused_by_the_batch_before_anything_is_written(tmp_path):
    birth_template(tmp_path / "mau-thu", AUTOESCAPE_OFF[0])
    export = tmp_path / "ks.csv"
    export.write_text(
        "kind,registration_number,book_number,registration_date,child_name,child_sex,"
        "child_birth_date,mother_name\n"
        "khai sinh,01,01/2026,20/11/2026,Nguyễn & Con <A>,Nam,12/11/2026,Phạm Thị Diệp\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    options = BatchOptions(
        inputs=[export],
        out_dir=out,
        letter_date=LETTER_DATE,
        profile_path=write_profile(tmp_path, templates="mau-thu"),
    )
    with pytest.raises(TemplateProblem) as raised:
        run_batch(options)
    assert "autoescape" in raised.value.message
    assert not list(out.glob("*batch-*"))


def test_autoescape_true_is_allowed(tmp_path):
    birth_template(tmp_path / "t", "{% autoescape true %}{{ child.name }}{% endautoescape %}")
    assert check_templates(tmp_path / "t", layout=False).errors == []


def entity_bomb(xml: str) -> str:
    body = xml[xml.index("?>") + 2 :]
    at = body.index("<w:t>", body.index("<w:body")) + len("<w:t>")
    return LAUGHS + body[:at] + "&lol9;" + body[at:]


@pytest.mark.parametrize(
    "transform",
    [
        lambda xml: xml[: len(xml) // 2],  # cut half-way (a copy that stopped)
        lambda xml: xml.replace("<w:body>", "<w:body><w:p><w:r></w:p>", 1),  # tags crossed
        entity_bomb,  # a billion laughs
    ],
    ids=["truncated", "mismatched-tags", "entity-bomb"],
)
def test_broken_template_xml_is_a_finding_not_a_crash(tmp_path, transform):
    folder = tmp_path / "t"
    folder.mkdir()
    rewrite_document(default_template("birth"), folder / "birth.docx", transform)
    [finding] = check_templates(folder, layout=False).errors
    assert finding.code == "not_a_template"
    assert str(folder / "birth.docx") in finding.message and "XML" in finding.message
    result = runner.invoke(app, ["templates", "check", str(folder), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["ok"] is False
