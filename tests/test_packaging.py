"""`pip install .` ships the templates and data inside the wheel, where the code finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_templates_and_data(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("cchc_letters-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("birth", "marriage", "death"):
        assert f"cchc_letters/templates/{kind}.docx" in names
    assert "cchc_letters/templates/README.md" in names
    assert "cchc_letters/data/columns.toml" in names
    assert "cchc_letters/data/profiles/ngai-giao.toml" in names
    assert "cchc_letters/data/sample/registrations.csv" in names
    schedules = {n for n in names if n.startswith("cchc_letters/data/vaccination_schedules/")}
    assert {Path(n).name for n in schedules} >= {
        "tt38-2017.toml",
        "tt10-2024.toml",
        "tt52-2025.toml",
        "README.md",
    }
    assert "cchc_letters/cli/generate.py" in names and "cchc_letters/ingest/excel.py" in names
    # the office app's pages and assets (it must work offline, from the wheel alone)
    assert "cchc_letters/cli/serve.py" in names and "cchc_letters/web/app.py" in names
    for asset in (
        "templates/base.html",
        "templates/intake.html",
        "static/app.css",
        "static/app.js",
    ):
        assert f"cchc_letters/web/{asset}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "cchc-letters = cchc_letters.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


def test_installed_layout_finds_its_resources(tmp_path, monkeypatch):
    """Resources are looked up inside the package first (the wheel's layout)."""
    from cchc_letters import resources

    package = tmp_path / "cchc_letters"
    (package / "templates").mkdir(parents=True)
    (package / "data").mkdir()
    monkeypatch.setattr(resources, "PACKAGE_DIR", package)
    assert resources.templates_dir() == package / "templates"
    assert resources.data_dir() == package / "data"


# the import name of each distribution in [project] dependencies
IMPORT_NAMES = {
    "python-calamine": "python_calamine",
    "python-docx": "docx",
    "Jinja2": "jinja2",
}
# declared on purpose though used only through another dependency: python-docx is the
# document model docxtpl renders into (its minimum version matters to us); python-multipart
# parses the office app's forms and itsdangerous signs its session cookie, both for Starlette;
# pillow encodes the PNG of pypdfium2's page pictures (``.to_pil()``)
INDIRECT = {"python-docx", "python-multipart", "itsdangerous", "pillow"}


def test_every_declared_dependency_is_imported_by_the_package():
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "cchc_letters").rglob("*.py"))
    unused = []
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement)[0]
        module = IMPORT_NAMES.get(name, name.lower().replace("-", "_"))
        if name not in INDIRECT and not re.search(
            rf"^\s*(?:import|from) {re.escape(module)}\b", source, re.MULTILINE
        ):
            unused.append(name)
    assert unused == [], "declared but never imported (remove from pyproject.toml)"
