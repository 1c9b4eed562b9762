"""pictures: what goes into one folder is made one request at a time, other folders
meanwhile; pdfium is called by one thread at a time."""

from __future__ import annotations

import shutil
import threading
import time

import pypdfium2
import pytest

from cchc_letters import pdf, pictures


@pytest.fixture
def blank_pdf(tmp_path):
    document = pypdfium2.PdfDocument.new()
    document.new_page(595, 842)
    path = tmp_path / "blank.pdf"
    document.save(str(path))
    document.close()
    return path


@pytest.fixture
def conversions(monkeypatch, blank_pdf):
    """LibreOffice stood in for by a copy of a blank page; the DOCX named "held" waits
    until ``release`` is set. Records each conversion's DOCX name."""
    state = {"made": [], "entered": threading.Event(), "release": threading.Event()}

    def convert(files, out_dir, *args, **kwargs):
        made = []
        for docx in files:
            state["made"].append(docx.stem)
            if docx.stem == "held":
                state["entered"].set()
                assert state["release"].wait(10)
            made.append(shutil.copy(blank_pdf, out_dir / f"{docx.stem}.pdf"))
        return made

    monkeypatch.setattr(pdf, "convert_to_pdf", convert)
    return state


def _docx(tmp_path, name):
    path = tmp_path / f"{name}.docx"
    path.write_bytes(b"not read: the conversion is stood in for")
    return path


def test_another_folders_picture_is_made_while_one_is_converting(tmp_path, conversions):
    held, other = _docx(tmp_path, "held"), _docx(tmp_path, "other")
    cache = tmp_path / "pictures"
    pictures_made: list[object] = []
    first = threading.Thread(
        target=lambda: pictures_made.append(pictures.docx_page_png(held, 1, cache))
    )
    first.start()
    try:
        assert conversions["entered"].wait(10)
        picture = pictures.docx_page_png(other, 1, cache)  # not held up by the first
        assert picture.read_bytes().startswith(b"\x89PNG")
    finally:
        conversions["release"].set()
        first.join(10)
    assert len(pictures_made) == 1 and conversions["made"] == ["held", "other"]


def test_one_page_asked_for_twice_at_once_is_converted_once(tmp_path, conversions):
    held = _docx(tmp_path, "held")
    cache = tmp_path / "pictures"
    answers: list[object] = []
    threads = [
        threading.Thread(target=lambda: answers.append(pictures.docx_page_png(held, 1, cache)))
        for _ in range(2)
    ]
    threads[0].start()
    assert conversions["entered"].wait(10)
    threads[1].start()
    time.sleep(0.3)  # (not join(0.3): a lock's timeout never ends under faketime)
    assert threads[1].is_alive()  # waiting for the first, not converting beside it
    conversions["release"].set()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert conversions["made"] == ["held"]
    assert pictures._FOLDERS == {}  # no lock left behind


def test_pdfium_is_called_by_one_thread_at_a_time(blank_pdf, tmp_path, monkeypatch):
    inside, most = [0], [0]
    real = pypdfium2.PdfDocument

    class Counting(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args, **kwargs):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.05)  # long enough for another thread to come in
            super().__init__(*args, **kwargs)

        def close(self):
            inside[0] -= 1
            super().close()

    monkeypatch.setattr(pypdfium2, "PdfDocument", Counting)
    threads = [
        threading.Thread(target=pictures.pdf_page_png, args=(blank_pdf, 1, tmp_path / f"{n}.png"))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most[0] == 1 and all((tmp_path / f"{n}.png").is_file() for n in range(4))
