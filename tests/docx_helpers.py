"""Helpers the tests share: read letters back out of print files, count PDF pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def document_text(path: Path) -> str:
    """Return all paragraph text of a DOCX (tables included), one paragraph per line."""
    from docx import Document

    doc = Document(str(path))
    lines = []
    for block in doc.element.body.iter(f"{W}p"):
        lines.append("".join(t.text or "" for t in block.iter(f"{W}t")))
    return "\n".join(lines)


def letters_text(path: Path) -> list[str]:
    """Return the text of each letter in a print file (letters end at a section break)."""
    from docx import Document

    doc = Document(str(path))
    letters, current = [], []
    for paragraph in doc.element.body.iter(f"{W}p"):
        current.append("".join(t.text or "" for t in paragraph.iter(f"{W}t")))
        if paragraph.find(f"{W}pPr/{W}sectPr") is not None:
            letters.append("\n".join(current))
            current = []
    letters.append("\n".join(current))
    return letters


def section_breaks(path: Path) -> int:
    """Return how many sections the document has (one per letter)."""
    with zipfile.ZipFile(path) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    return len(re.findall(r"<w:sectPr[ >]", xml))


def soffice_or_skip() -> str:
    """Return the soffice path; skip on a developer machine without it, fail under CI."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("LibreOffice (soffice) is required under CI for the one-page checks")
    pytest.skip("LibreOffice not installed: one-page check needs soffice")


def pdf_pages(path: Path) -> int:
    """Return the number of pages of a PDF (pypdf)."""
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def convert_to_pdf(docx: Path, out_dir: Path) -> Path:
    """Convert one DOCX to PDF with LibreOffice headless; return the PDF path."""
    soffice = soffice_or_skip()
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out_dir / (docx.stem + ".pdf")
