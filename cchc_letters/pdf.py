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


class PdfUnavailable(CchcError):
    """LibreOffice is not installed, or it failed to convert."""


def find_soffice() -> str | None:
    """Return the LibreOffice executable on PATH (or $CCHC_SOFFICE), or None."""
    configured = os.environ.get("CCHC_SOFFICE")
    if configured:
        return configured if shutil.which(configured) else None
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
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
            "Cài LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer-nogui) "
            "hoặc in trực tiếp tệp DOCX."
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
