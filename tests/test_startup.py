"""Start-up (issue 17): a command imports only what it needs; the start-up cache is never stale.

Speed itself is measured in benchmarks/bench_daily.py, not here.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document

from cchc_letters import cache, render
from cchc_letters.models import Kind
from cchc_letters.render import LetterTemplate, read_template
from cchc_letters.variables import SAMPLE_DATE

ROOT = Path(__file__).resolve().parent.parent
CHILD_RUN = "<w:t>{{ child.name }}</w:t>"

# Run a command in a fresh interpreter and print the third-party top-level packages it
# imported (what a user's process holds when the command ends).
_REPORT = """
import json, sys
from cchc_letters.cli import app
try:
    app(sys.argv[1:], prog_name="cchc-letters")
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names))))
print(json.dumps(sorted(m for m in sys.modules if m.startswith("holidays.countries."))))
print(json.dumps(sorted(m for m in sys.modules if m in set(sys.stdlib_module_names) | {"html.entities"})))
"""


def _imported(args: list[str], cache_dir: Path) -> tuple[set[str], list[str]]:
    env = {**os.environ, "CCHC_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    packages, countries, stdlib = done.stdout.strip().splitlines()[-3:]
    _STDLIB[tuple(args)] = set(json.loads(stdlib))
    return set(json.loads(packages)), json.loads(countries)


_STDLIB: dict[tuple[str, ...], set[str]] = {}  # the standard modules of each run of _imported


HEAVY = {
    "docxtpl",
    "docx",
    "babel",
    "openpyxl",
    "python_calamine",
    "holidays",
    "pydantic",
    "starlette",
}


@pytest.mark.slow  # child processes
def test_help_imports_no_heavy_library(tmp_path):
    for args in (["--help"], ["generate", "--help"], ["--version"]):
        packages, _ = _imported(args, tmp_path / "cache")
        assert not packages & (HEAVY | {"docx", "jinja2", "lxml", "rich"}), (args, packages)


@pytest.mark.slow  # child processes
def test_a_daily_batch_with_its_cache_imports_none_of_docxtpl_docx_babel_holidays(tmp_path):
    cache_dir = tmp_path / "cache"
    first, _ = _imported(["generate", "data/sample", "--out", str(tmp_path / "a")], cache_dir)
    # The first run (empty cache) cleans the templates with docxtpl, asks holidays and babel,
    # and makes the delivery sheet's empty package with python-docx.
    assert {"docxtpl", "docx", "holidays", "babel"} <= first
    second, countries = _imported(
        ["generate", "data/sample", "--out", str(tmp_path / "b")], cache_dir
    )
    assert (tmp_path / "b").is_dir() and any((tmp_path / "b").glob("batch-*/*.docx"))
    assert not second & HEAVY, second
    if sys.platform != "win32":  # the lock is flock's own (locking.py), not filelock's
        assert "filelock" not in second, second
    assert countries == []  # not one of the 250 countries the holidays package imports
    # Nor the process pool of large batches (writing.worker_count), nor html.entities (2,000
    # names; listdoc.escape).
    stdlib = _STDLIB[("generate", "data/sample", "--out", str(tmp_path / "b"))]
    assert not stdlib & {"multiprocessing", "concurrent", "html.entities", "socket"}, stdlib


_COLLECTIONS = """
import gc, json
before = sum(s["collections"] for s in gc.get_stats())
import cchc_letters.cli
print(json.dumps([sum(s["collections"] for s in gc.get_stats()) - before, gc.isenabled(),
                  gc.get_freeze_count() > 10_000]))
"""


@pytest.mark.slow  # a child process
def test_the_collector_does_not_run_while_the_command_line_imports_nor_over_its_objects():
    # (about thirty collections before, over objects that all live to the end; a couple may
    # still come while Python reads the package's own first module; then they are frozen)
    done = subprocess.run(
        [sys.executable, "-c", _COLLECTIONS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    collections, enabled, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    assert collections <= 3 and enabled and frozen, (collections, enabled, frozen, done.stderr)
    off = _COLLECTIONS.replace("import cchc_letters.cli", "gc.disable(); import cchc_letters.cli")
    done = subprocess.run(
        [sys.executable, "-c", off], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [0, False, True]  # left off


# The collections from the moment a batch sets the collector's thresholds back (its last
# call of gc.set_threshold) to the command's end, and what is left unfrozen then.
_AFTER_THE_BATCH = """
import gc, json, sys
import cchc_letters.cli as cli
started, set_back = [], []
gc.callbacks.append(lambda phase, info: phase == "start" and started.append(info))
set_threshold = gc.set_threshold
def setting(*thresholds):
    set_threshold(*thresholds)
    set_back.append(len(started))
gc.set_threshold = setting
sys.argv = ["cchc-letters", *sys.argv[1:]]
try:
    cli.main()
except SystemExit as exit:
    code = exit.code
print(json.dumps([code, len(set_back), len(started) - set_back[-1], len(gc.get_objects())]))
"""


@pytest.mark.slow  # a child process
def test_after_its_batch_the_command_line_scans_none_of_its_objects_again(tmp_path):
    # (a process that ends with its batch: restoring CPython's thresholds made the next
    # allocation scan the batch's objects, and Python's last collection scanned them again)
    args = ["generate", "data/sample", "--out", str(tmp_path / "out"), "--date", "2026-11-27"]
    done = subprocess.run(
        [sys.executable, "-c", _AFTER_THE_BATCH, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, settings, collections, unfrozen = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0, done.stderr
    assert settings >= 2 and collections == 0  # none after the batch set the thresholds back
    assert unfrozen < 100  # left for Python's last collection: what was made after main()


# ---- the template cache ------------------------------------------------------------------


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV_VAR, str(folder))
    return folder


def _without(monkeypatch, *modules: str) -> None:
    """Make importing ``modules`` fail, as if they were not installed."""
    for name in modules:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, loaded)
        monkeypatch.setitem(sys.modules, name, None)


def _read(path: Path) -> tuple:
    """read_template's result, comparable (ZipInfo objects are equal only to themselves)."""
    parts = read_template(path)
    return (
        parts.source,
        parts.document_xml,
        parts.document_prefix,
        parts.document_suffix,
        parts.section_properties,
        [(info.filename, data) for info, data in parts.other_parts],
    )


def test_a_cached_template_reads_the_same_without_docxtpl(cache_dir, monkeypatch):
    path = default_template("birth")
    first = _read(path)
    assert list(cache_dir.glob("templates/*.json"))
    _without(monkeypatch, "docxtpl")
    assert _read(path) == first


def test_an_edited_template_is_cleaned_again_never_the_old_wording(cache_dir, tmp_path):
    path = Path(shutil.copy(default_template("birth"), tmp_path / "birth.docx"))
    assert "CHỮ MỚI" not in read_template(path).source
    rewrite_document(
        default_template("birth"),
        path,
        replace_text(CHILD_RUN, "<w:t>{{ child.name }} CHỮ MỚI</w:t>"),
    )
    assert "CHỮ MỚI" in read_template(path).source


def test_another_docxtpl_install_is_a_miss(cache_dir, monkeypatch):
    path = default_template("death")
    read_template(path)
    installed = cache.installed
    monkeypatch.setattr(
        cache, "installed", lambda m: installed(m) + ("-reinstalled" if m == "docxtpl" else "")
    )
    _without(monkeypatch, "docxtpl")
    with pytest.raises(ImportError):
        read_template(path)


def test_a_damaged_or_foreign_entry_is_a_miss(cache_dir):
    path = default_template("marriage")
    expected = _read(path)
    entries = list(cache_dir.glob("templates/*.json"))
    entries[0].write_text('{"key": ["other"], "value": "<w:p>old</w:p>"}', encoding="utf-8")
    assert _read(path) == expected
    entries[0].write_bytes(b"\x00\xff not json")
    assert _read(path) == expected


def test_no_cache_when_the_variable_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, "")
    monkeypatch.chdir(tmp_path)
    assert read_template(default_template("birth")).source
    assert cache.cache_dir() is None
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.ENV_VAR, str(blocker / "cache"))
    assert read_template(default_template("birth")).source


def test_a_broken_template_is_not_cached(cache_dir, tmp_path):
    from cchc_letters.errors import TemplateProblem

    broken = tmp_path / "birth.docx"
    shutil.copy(default_template("birth"), broken)
    with zipfile.ZipFile(default_template("birth")) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"")
            dst.writestr(info, data)
    for _ in range(2):
        with pytest.raises(TemplateProblem):
            read_template(broken)
    assert not list(cache_dir.glob("templates/*.json"))


# ---- compiled templates ---------------------------------------------------------------------


def _no_jinja_compile(monkeypatch) -> None:
    """Make generating a template's Python fail, as if Jinja's compiler were gone."""
    from jinja2 import Environment

    def refused(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(Environment, "_generate", refused)


def _compiled_again(path: Path) -> LetterTemplate:
    render._compiled_source.cache_clear()  # this process's copy (the office app's)
    return LetterTemplate.load(path)


def _letter_and_lint(template: LetterTemplate, kind: Kind) -> tuple:
    from cchc_letters.templatelint import lint_template
    from cchc_letters.variables import sample_context

    letter = template.render_body(sample_context(kind, None, SAMPLE_DATE, long=True))
    findings = lint_template(template, kind, profile=None)
    return letter, findings, template.joined, template.undeclared, template.ast.dump()


@pytest.mark.parametrize("kind", [Kind.BIRTH, Kind.MARRIAGE, Kind.DEATH])
def test_a_cached_compile_renders_and_lints_as_jinjas_own(cache_dir, monkeypatch, kind):
    path = default_template(kind.value)
    expected = _letter_and_lint(_compiled_again(path), kind)
    assert list(cache_dir.glob("compiled/*.json"))
    _no_jinja_compile(monkeypatch)
    assert _letter_and_lint(_compiled_again(path), kind) == expected
    render._compiled_source.cache_clear()


def test_an_edited_template_or_compiler_is_compiled_again(cache_dir, monkeypatch, tmp_path):
    path = default_template("birth")
    _compiled_again(path)
    edited = Path(shutil.copy(path, tmp_path / "birth.docx"))
    rewrite_document(path, edited, replace_text(CHILD_RUN, "<w:t>{{ child.name }} MỚI</w:t>"))
    monkeypatch.setattr(render, "_compiling_code", lambda: "render.py, edited")
    _no_jinja_compile(monkeypatch)
    with pytest.raises(AssertionError, match="compiled again"):
        _compiled_again(path)  # the same template, another render.py
    monkeypatch.undo()
    monkeypatch.setenv(cache.ENV_VAR, str(cache_dir))
    _compiled_again(path)
    _no_jinja_compile(monkeypatch)
    with pytest.raises(AssertionError, match="compiled again"):
        _compiled_again(edited)  # another template
    render._compiled_source.cache_clear()


def test_a_damaged_compile_entry_is_compiled_again(cache_dir):
    path = default_template("death")
    expected = _letter_and_lint(_compiled_again(path), Kind.DEATH)
    for entry in cache_dir.glob("compiled/*.json"):
        stored = json.loads(entry.read_text(encoding="utf-8"))
        stored["value"]["code"] = stored["value"]["code"][:40]
        entry.write_text(json.dumps(stored), encoding="utf-8")
    assert _letter_and_lint(_compiled_again(path), Kind.DEATH) == expected
    render._compiled_source.cache_clear()


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_compiled_code_others_could_write_is_not_run(cache_dir, monkeypatch):
    path = default_template("death")
    _compiled_again(path)
    (entry,) = cache_dir.glob("compiled/*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700
    _no_jinja_compile(monkeypatch)
    _compiled_again(path)  # this user's own entry: run
    for loose, mode in ((entry, 0o620), (entry.parent, 0o722), (entry, 0o606)):
        loose.chmod(mode)  # a group or anyone may write it: compiled again instead
        with pytest.raises(AssertionError, match="compiled again"):
            _compiled_again(path)
        loose.chmod(0o600 if loose == entry else 0o700)
    _compiled_again(path)
    render._compiled_source.cache_clear()


# ---- a template's shared parts, packed ----------------------------------------------------


def _packing_refused(monkeypatch) -> None:
    """Make packing parts with zipfile fail: SharedParts must come from the cache."""

    def refused(*args, **kwargs):
        raise AssertionError("packed again")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", refused)


def test_kept_shared_parts_are_the_parts_packed_now(cache_dir, monkeypatch):
    from cchc_letters.output import SharedParts

    template = LetterTemplate.load(default_template("birth"))
    packed = SharedParts(template.other_parts).archive  # packed here, and kept
    (entry,) = cache_dir.glob("shared-parts/*.bin")
    with monkeypatch.context() as patched:
        _packing_refused(patched)
        assert SharedParts(template.other_parts).archive == packed  # the kept bytes
    with zipfile.ZipFile(io.BytesIO(packed)) as package:
        assert [(i.filename, package.read(i)) for i in package.infolist()] == [
            (info.filename, data) for info, data in template.other_parts
        ]
    styles = [
        (info, data.replace(b"Times New Roman", b"Arial")) for info, data in template.other_parts
    ]
    assert [d for _, d in styles] != [d for _, d in template.other_parts]  # another's parts
    with zipfile.ZipFile(io.BytesIO(SharedParts(styles).archive)) as package:
        assert [package.read(i) for i in package.infolist()] == [data for _, data in styles]
    assert len(list(cache_dir.glob("shared-parts/*.bin"))) == 2
    key, _, kept = entry.read_bytes().partition(b"\n")
    foreign = SharedParts(template.other_parts[:-1]).archive  # a zip of other parts
    for damaged in (kept[: len(kept) // 2], kept[:-1], b"not a zip", foreign):
        entry.write_bytes(key + b"\n" + damaged)
        assert SharedParts(template.other_parts).archive == packed  # packed again
    if hasattr(os, "getuid"):  # POSIX owners and modes: what others could write is not used
        entry.chmod(0o620)
        with monkeypatch.context() as patched:
            _packing_refused(patched)
            with pytest.raises(AssertionError, match="packed again"):
                SharedParts(template.other_parts)


# ---- Vietnam's holidays --------------------------------------------------------------------


def test_cached_holidays_are_the_holiday_packages_own(cache_dir, monkeypatch):
    import holidays

    from cchc_letters.sessions import _VietnamHolidays

    expected = holidays.country_holidays("VN", years=range(2025, 2031))
    cold = _VietnamHolidays()
    every_day = [date(2025, 1, 1) + timedelta(days=n) for n in range(6 * 365 + 1)]
    assert [day in cold for day in every_day] == [day in expected for day in every_day]
    assert [cold.get(day) for day in expected] == [expected.get(day) for day in expected]
    _without(monkeypatch, "holidays")
    warm = _VietnamHolidays()
    assert [day in warm for day in every_day] == [day in expected for day in every_day]
    assert [warm.get(day) for day in expected] == [expected.get(day) for day in expected]
    assert warm.get(date(2026, 2, 17))  # Tết 2026


def test_holidays_named_in_another_language_are_not_taken_from_the_cache(cache_dir, monkeypatch):
    from cchc_letters.sessions import _VietnamHolidays

    _VietnamHolidays().get(date(2027, 2, 6))
    monkeypatch.setenv("LANGUAGE", "th")
    _without(monkeypatch, "holidays")
    with pytest.raises(ImportError):
        _VietnamHolidays().get(date(2027, 2, 6))


# ---- schedule files read once per state of the folder ------------------------------------


def test_an_edited_schedule_file_is_read_again(tmp_path):
    from cchc_letters.schedule import default_schedules_dir, load_versions

    folder = tmp_path / "schedules"
    shutil.copytree(default_schedules_dir(), folder)
    first = load_versions(folder)
    assert load_versions(folder) == first
    edited = first[-1].path
    text = edited.read_text(encoding="utf-8")
    assert "\ntitle = " in text
    edited.write_text(text.replace("\ntitle = ", '\ntitle = "Bản sửa" # ', 1), encoding="utf-8")
    assert load_versions(folder)[-1].title == "Bản sửa"


# ---- Vietnamese weekday names --------------------------------------------------------------


def test_cached_weekday_names_are_babels_own(cache_dir, monkeypatch):
    from babel.dates import format_date

    from cchc_letters import vietnamese

    days = [date(2026, 11, 30) + timedelta(days=n) for n in range(14)]  # Monday first
    expected = [format_date(day, "EEEE", locale="vi") for day in days]
    vietnamese._weekday_names.cache_clear()
    assert [vietnamese.weekday_name(day) for day in days] == expected
    vietnamese._weekday_names.cache_clear()
    _without(monkeypatch, "babel")
    assert [vietnamese.weekday_name(day) for day in days] == expected
    vietnamese._weekday_names.cache_clear()


# ---- parsed TOML ---------------------------------------------------------------------------


def _shipped_toml() -> list[Path]:
    return sorted((ROOT / "data").rglob("*.toml"))


def test_cached_toml_is_tomllibs_own_parse(cache_dir, monkeypatch):
    import tomllib

    files = _shipped_toml()
    assert any("vaccination_schedules" in str(p) for p in files)  # with dates
    expected = [tomllib.loads(p.read_text(encoding="utf-8")) for p in files]
    assert [cache.load_toml(p) for p in files] == expected  # the misses, stored
    assert len(list(cache_dir.glob("toml/*.json"))) == len(files)
    _without(monkeypatch, "tomllib")
    warm = [cache.load_toml(p) for p in files]
    assert warm == expected
    assert [_types(v) for v in warm] == [_types(v) for v in expected]  # a date stays a date
    warm[0]["changed"] = True  # each call gives its own copy
    assert cache.load_toml(files[0]) == expected[0]


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def test_edited_toml_is_parsed_again(cache_dir, tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('name = "cũ"\n', encoding="utf-8")
    assert cache.load_toml(path) == {"name": "cũ"}
    path.write_text('name = "mới"\n', encoding="utf-8")
    assert cache.load_toml(path) == {"name": "mới"}


def test_toml_that_json_cannot_carry_is_parsed_every_time(cache_dir, monkeypatch):
    text = 'at = 2026-11-27T08:00:00\nx = nan\n"\\u0000date" = "2026-01-01"\n'
    first = cache.loads_toml(text)
    assert list(cache_dir.glob("toml/*.json")) == []
    assert cache.loads_toml(text).keys() == first.keys()
    for tricky in ('"\\u0000date" = "2026-01-01"\n', '[t]\n"\\u0000x" = 1\n', "t = 07:30:00\n"):
        import tomllib

        assert cache.loads_toml(tricky) == tomllib.loads(tricky) == cache.loads_toml(tricky)
    assert list(cache_dir.glob("toml/*.json")) == []


def test_broken_toml_raises_tomllibs_error(cache_dir, tmp_path):
    import tomllib

    path = tmp_path / "bad.toml"
    path.write_text("name = \n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(tomllib.TOMLDecodeError):
            cache.load_toml(path)
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(UnicodeDecodeError):
        cache.load_toml(path)


# ---- the command line builds only the command it runs ------------------------------------


def _cli_cases() -> list[list[str]]:
    from typer.main import get_command

    from cchc_letters.cli import app

    whole = get_command(app)
    cases = []
    for name, command in whole.commands.items():  # type: ignore[attr-defined]
        # (not a command alone: serve and watch would start serving and watching)
        cases += [[name, "--help"], [name, "--no-such-option"], [name, "--date", "x"]]
        for sub in getattr(command, "commands", {}):
            cases += [[name, sub, "--help"], [name, sub, "--no-such-option"]]
            cases += [[name], [name, "nope"]]
    return cases


def test_a_command_run_alone_parses_helps_and_fails_as_in_the_whole_application():
    from typer.testing import CliRunner

    from cchc_letters.cli import app, app_for

    runner = CliRunner()
    cases = _cli_cases()
    assert ["generate", "--help"] in cases and ["ledger", "rebuild", "--help"] in cases
    for args in cases:
        alone = app_for(args)
        assert alone is not app and len(alone.registered_commands + alone.registered_groups) == 1
        expected = runner.invoke(app, args, prog_name="cchc-letters")
        got = runner.invoke(alone, args, prog_name="cchc-letters")
        assert (got.exit_code, got.output) == (expected.exit_code, expected.output), args
    for args in ([], ["--help"], ["--version"], ["nope"], ["generat"], ["--version", "generate"]):
        assert app_for(args) is app


def test_listdoc_escape_is_html_escape_without_quotes():
    import html

    from cchc_letters.listdoc import escape

    for text in ("", "Ấp <1> & \"2\" 'ba'", "&amp;&lt;", "a>b", "\x00 \ud800"):
        assert escape(text) == html.escape(text, quote=False)
