import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

# The start-up cache (cchc_letters/cache.py) of this test run, never the user's own; one
# folder for the whole run (child processes inherit it), so later tests read what earlier
# ones stored, as a user's second run does.
os.environ["CCHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="cchc-test-cache-")
atexit.register(shutil.rmtree, os.environ["CCHC_CACHE_DIR"], ignore_errors=True)

# Let tests import the shared helpers in tests/docx_helpers.py.
sys.path.insert(0, str(Path(__file__).parent))


def _build_cli_once() -> None:
    """typer's CliRunner turns the Typer app into its click command anew on every invoke
    (~35 ms; ~240 invokes in the quick loop). The command is the same each time (the app is
    never changed after import), so it is built once per app, as a real run builds it once."""
    import weakref

    import typer.main
    import typer.testing

    built: weakref.WeakKeyDictionary[object, object] = weakref.WeakKeyDictionary()

    def get_command(app):
        if app not in built:
            built[app] = typer.main.get_command(app)
        return built[app]

    typer.testing._get_command = get_command


_build_cli_once()


# `pytest -m "not slow"` is the quick loop: no LibreOffice, no browser, no child process.
# A test is slow when its own code starts one of them (the names below), so a new test that
# does is marked without anyone remembering to; others mark themselves (@pytest.mark.slow).
_SLOW_CALLS = (
    "require_soffice",
    "soffice_or_skip",
    "convert_to_pdf",
    "pdf_pages(",
    "cli_process(",
    "paused_process(",
    "run_cli(",  # tests/fault_helpers.py: the CLI in a child process
    "Paused(",  # … held at a step
    "small_disk(",  # mount(8) of a small tmpfs
    "serve_process(",  # tests/serve_helpers.py: a real server in a child process
    "subprocess.",
    "_run_cli(",
    "chromium",
    "webdriver",
    '"--pdf"',
    "layout=True",
    "OpenXmlValidator",  # the OOXML schema validator: seconds per document kind
)


# Whole files of scale runs, property searches and real converters.
_SLOW_MODULES = frozenset(
    {
        "test_performance_equivalence",
        "test_pdf_converters",
        "test_ooxml",  # the OOXML schema validator on every kind of DOCX written
        "test_web_browser",
        "test_schedule_properties",
        "test_validate_properties",
    }
)


def pytest_collection_modifyitems(config, items):
    import inspect

    import pytest

    for item in items:
        if item.module.__name__.rpartition(".")[2] in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
            continue
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function else ""
        except (OSError, TypeError):
            continue
        if any(call in source for call in _SLOW_CALLS) or _checks_layout(source):
            item.add_marker(pytest.mark.slow)


def _checks_layout(source: str) -> bool:
    """check_templates() counts pages with LibreOffice unless told layout=False."""
    import re

    calls = re.findall(r"check_templates\(([^)]*)\)", source)
    return (
        any("layout=False" not in args for args in calls)
        or "--no-layout" not in source
        and ('"templates", "check"' in source)
    )
