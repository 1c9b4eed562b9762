"""Pictures of letter pages: DOCX → PDF through LibreOffice (pdf.py) → PNG with pypdfium2.

A picture is cached beside its PDF, keyed by the DOCX's size and modification time, so a
page looked at twice is converted once. Nothing here prints.

The office app asks for pictures from several threads at once. What goes into one folder
is made one request at a time (``making``): two requests for the same page would convert
the same DOCX into the same folder, the one deleting the PDF the other reads. Other
folders are made meanwhile (each LibreOffice call has a profile of its own, pdf.py), so one
officer's template preview does not hold up another's letter picture; only pdfium, which
is not safe to call from two threads, is called by one thread at a time (``_PDFIUM``, a
fraction of a second a page).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cchc_letters.errors import CchcError

DEFAULT_WIDTH = 900  # pixels: an A4 page readable on an office screen
_PDFIUM = threading.Lock()  # held while pdfium reads or renders a PDF
_FOLDERS: dict[Path, tuple[threading.RLock, list[int]]] = {}  # lock, and how many hold or wait
_FOLDERS_LOCK = threading.Lock()


@contextmanager
def making(folder: Path) -> Iterator[None]:
    """Hold while making what goes into ``folder`` (a PDF, its pictures): one thread at a
    time per folder; a thread making another folder's does not wait."""
    key = folder.absolute()
    with _FOLDERS_LOCK:
        lock, users = _FOLDERS.setdefault(key, (threading.RLock(), [0]))
        users[0] += 1
    try:
        with lock:
            yield
    finally:
        with _FOLDERS_LOCK:
            users[0] -= 1
            if users[0] == 0:
                del _FOLDERS[key]


class PictureError(CchcError):
    """The page asked for does not exist, or the PDF could not be read."""


def pdf_page_count(pdf: Path) -> int:
    """Return the number of pages of ``pdf``."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            return len(document)
        finally:
            document.close()


def pdf_page_png(pdf: Path, page: int, out: Path, *, width: int = DEFAULT_WIDTH) -> Path:
    """Render page ``page`` (1-based) of ``pdf`` as a PNG ``width`` pixels wide; return ``out``."""
    import pypdfium2

    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(str(pdf))
        except pypdfium2.PdfiumError as exc:
            raise PictureError(f"{pdf.name}: không đọc được PDF ({exc})") from None
        try:
            if not 1 <= page <= len(document):
                raise PictureError(f"{pdf.name} không có trang {page} (có {len(document)} trang)")
            sheet = document[page - 1]
            scale = width / sheet.get_width()
            image = sheet.render(scale=scale).to_pil()
            out.parent.mkdir(parents=True, exist_ok=True)
            partial = out.with_name(out.name + ".part")
            image.save(partial, format="PNG", optimize=True)
            partial.replace(out)
            return out
        finally:
            document.close()


def docx_page_png(
    docx: Path, page: int, cache_dir: Path, *, pdf: Path | None = None, width: int = DEFAULT_WIDTH
) -> Path:
    """Return a PNG of page ``page`` of ``docx``, converting it under ``cache_dir`` if needed.

    ``pdf`` is an already converted PDF of the same document (a batch made with --pdf), used
    when newer than the DOCX. Raises PdfUnavailable without LibreOffice, PictureError for a
    page the document does not have.
    """
    from cchc_letters.pdf import convert_to_pdf

    stat = docx.stat()
    stamp = f"{stat.st_size:x}-{stat.st_mtime_ns:x}"
    folder = cache_dir / f"{docx.stem}-{stamp}"
    png = folder / f"{page:05d}-{width}.png"
    if png.is_file():
        return png
    with making(folder):
        if png.is_file():  # made while this call waited
            return png
        if pdf is None or not pdf.is_file() or pdf.stat().st_mtime_ns < stat.st_mtime_ns:
            pdf = folder / f"{docx.stem}.pdf"
            if not pdf.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                convert_to_pdf([docx], folder)
        return pdf_page_png(pdf, page, png, width=width)
