"""PDF through LibreOffice headless: whole print files in one soffice call, never per letter."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cchc_letters.errors import CchcError

SOFFICE_NAMES = ("soffice", "libreoffice")
# Where the installers put LibreOffice when it is not on PATH (the Windows installer never
# adds it there): %ProgramFiles%, %ProgramFiles(x86)% for a 32-bit one, and the macOS app.
WINDOWS_FOLDER_VARIABLES = ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")
WINDOWS_SOFFICE = Path("LibreOffice") / "program" / "soffice.exe"
MACOS_SOFFICE = Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")


class PdfUnavailable(CchcError):
    """LibreOffice is not installed, or it failed to convert."""


def install_locations() -> list[Path]:
    """Return the usual LibreOffice install paths on this machine's Windows or macOS."""
    places = [
        Path(base) / WINDOWS_SOFFICE
        for variable in WINDOWS_FOLDER_VARIABLES
        if (base := os.environ.get(variable))
    ]
    return [*places, MACOS_SOFFICE]


def find_soffice() -> str | None:
    """Return the LibreOffice executable, or None when there is none.

    $CCHC_SOFFICE (a full path or a command name) decides when set; otherwise ``soffice`` or
    ``libreoffice`` on PATH, then the usual install folders (``install_locations``).
    """
    configured = os.environ.get("CCHC_SOFFICE")
    if configured:
        return shutil.which(configured)
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for place in install_locations():
        if place.is_file():
            return str(place)
    return None


def convert_to_pdf(files: Sequence[Path], out_dir: Path, timeout: float = 600) -> list[Path]:
    """Convert DOCX ``files`` to PDF in ``out_dir``; return the PDF paths.

    Each call uses its own LibreOffice profile folder, so parallel runs do not collide.
    Raises PdfUnavailable with a plain message when LibreOffice is missing or fails.
    """
    soffice = find_soffice()
    if soffice is None:
        raise PdfUnavailable(
            "Không tìm thấy LibreOffice (soffice) nên không tạo được PDF; các tệp DOCX vẫn đầy đủ. "
            "Cài LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer-nogui; "
            "Windows/macOS: libreoffice.org), hoặc đặt biến môi trường CCHC_SOFFICE là đường "
            "dẫn đầy đủ tới soffice, hoặc in trực tiếp tệp DOCX."
        )
    with tempfile.TemporaryDirectory(prefix="cchc-lo-") as profile_dir:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile_dir).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *[str(f) for f in files],
        ]
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"LibreOffice không chuyển được sang PDF: {exc}") from None
    pdfs = [out_dir / (Path(f).stem + ".pdf") for f in files]
    missing = [p.name for p in pdfs if not p.is_file()]
    if completed.returncode != 0 or missing:
        raise PdfUnavailable(
            f"LibreOffice không tạo được {', '.join(missing) or 'PDF'} "
            f"(mã {completed.returncode}): {completed.stderr.strip()[:300]}"
        )
    return pdfs
