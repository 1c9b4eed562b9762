"""Test helpers: edit a template's XML the way Word does, read a DOCX back, find LibreOffice."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cchc_letters.resources import data_dir, templates_dir

DOCUMENT = "word/document.xml"


def default_template(kind: str) -> Path:
    return templates_dir() / f"{kind}.docx"


def rewrite_document(src: Path, dst: Path, transform: Callable[[str], str]) -> Path:
    """Copy the DOCX ``src`` to ``dst`` with ``transform`` applied to word/document.xml."""
    with zipfile.ZipFile(src) as package, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in package.infolist():
            data = package.read(info.filename)
            if info.filename == DOCUMENT:
                before = data.decode("utf-8")
                after = transform(before)
                assert after != before, "the edit changed nothing"
                data = after.encode("utf-8")
            out.writestr(info, data)
    return dst


def replace_text(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    """Return a transform replacing ``old`` by ``new`` (must be present)."""

    def transform(xml: str) -> str:
        assert old in xml, f"{old!r} not in the template"
        return xml.replace(old, new, count)

    return transform


def docx_text(path: Path) -> str:
    """Return all paragraph text of a DOCX as python-docx reads it (body and table cells)."""
    from docx import Document

    document = Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts += [p.text for p in cell.paragraphs]
    return "\n".join(parts)


def write_profile(folder: Path, *, templates: str = "", signer: str | None = None) -> Path:
    """Write a copy of the demo profile into ``folder`` with some values changed."""
    text = (data_dir() / "profiles" / "ngai-giao.toml").read_text(encoding="utf-8")
    text = text.replace('templates_dir = ""', f'templates_dir = "{templates}"')
    if signer:
        text = text.replace('name = "Nguyễn Văn Minh"', f'name = "{signer}"')
    path = folder / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def require_soffice() -> None:
    """Skip without LibreOffice, except on CI (CI=true), where its absence is a failure."""
    from cchc_letters.pdf import find_soffice

    if find_soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is required when CI=true")
        pytest.skip("LibreOffice (soffice) is not installed")
