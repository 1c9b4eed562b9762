"""Finding LibreOffice for --pdf: CCHC_SOFFICE, PATH, then the usual install folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cchc_letters import pdf


@pytest.fixture(autouse=True)
def _no_libreoffice_anywhere(monkeypatch, tmp_path):
    monkeypatch.delenv("CCHC_SOFFICE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    for variable in pdf.WINDOWS_FOLDER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(pdf, "MACOS_SOFFICE", tmp_path / "no-mac" / "soffice")


def _program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_nothing_installed_finds_nothing():
    assert pdf.find_soffice() is None


@pytest.mark.parametrize("variable", ["ProgramFiles", "ProgramFiles(x86)"])
def test_windows_install_folders_are_searched(monkeypatch, tmp_path, variable):
    # The Windows installer never puts soffice on PATH.
    base = tmp_path / "Program Files"
    soffice = _program(base / "LibreOffice" / "program" / "soffice.exe")
    monkeypatch.setenv(variable, str(base))
    assert pdf.find_soffice() == str(soffice)


def test_the_macos_application_is_searched(monkeypatch, tmp_path):
    app = _program(tmp_path / "LibreOffice.app" / "Contents" / "MacOS" / "soffice")
    monkeypatch.setattr(pdf, "MACOS_SOFFICE", app)
    assert pdf.find_soffice() == str(app)


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for soffice")
def test_path_comes_before_the_install_folders(monkeypatch, tmp_path):
    on_path = _program(tmp_path / "bin" / "soffice")
    monkeypatch.setenv("PATH", str(on_path.parent))
    base = tmp_path / "pf"
    _program(base / "LibreOffice" / "program" / "soffice.exe")
    monkeypatch.setenv("ProgramFiles", str(base))
    assert pdf.find_soffice() == str(on_path)


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for soffice")
def test_cchc_soffice_decides_when_set(monkeypatch, tmp_path):
    chosen = _program(tmp_path / "opt" / "lo" / "soffice")
    monkeypatch.setenv("CCHC_SOFFICE", str(chosen))
    assert pdf.find_soffice() == str(chosen)
    monkeypatch.setenv("CCHC_SOFFICE", str(tmp_path / "missing"))
    assert pdf.find_soffice() is None  # a wrong setting is not silently replaced


def test_the_message_without_libreoffice_names_cchc_soffice(tmp_path):
    with pytest.raises(pdf.PdfUnavailable, match="CCHC_SOFFICE"):
        pdf.convert_to_pdf([tmp_path / "x.docx"], tmp_path)
