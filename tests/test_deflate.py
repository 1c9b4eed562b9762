"""Print files and delivery lists are deflated by ISA-L where isal is installed (five times
faster than zlib), by zlib where it is not, and read back the same either way."""

from __future__ import annotations

import sys
import zipfile
from datetime import date

import pytest
from isal import isal_zlib

from cchc_letters.models import Kind
from cchc_letters.output import PrintFile
from cchc_letters.render import LetterTemplate, template_path

BODY = (
    '<w:p><w:r><w:t xml:space="preserve">Thư số {n}: Kính gửi ông Nguyễn Văn An</w:t></w:r></w:p>'
)


@pytest.fixture
def isal_calls(monkeypatch):
    """Record the bytes each ISA-L compressor was given (the real ones: they still deflate)."""
    calls: list[list[int]] = []
    real = isal_zlib.compressobj

    class Counted:
        def __init__(self, *args):
            self._real, self.sizes = real(*args), []
            calls.append(self.sizes)

        def compress(self, data):
            self.sizes.append(len(data))
            return self._real.compress(data)

        def flush(self, *args):
            return self._real.flush(*args)

    monkeypatch.setattr(isal_zlib, "compressobj", Counted)
    return calls


def _print_file(tmp_path, letters: int = 50):
    template = LetterTemplate.load(template_path(Kind.BIRTH))
    path = tmp_path / "khai-sinh-001.docx"
    with PrintFile(template, path) as print_file:
        for n in range(letters):
            print_file.add(BODY.format(n=n))
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None  # every part's CRC checks
        info = package.getinfo("word/document.xml")
        return info, package.read("word/document.xml").decode("utf-8")


def test_a_print_file_is_deflated_by_isal(tmp_path, isal_calls):
    info, document = _print_file(tmp_path)
    assert len(isal_calls) == 1, "word/document.xml deflated by ISA-L, once per file"
    assert sum(isal_calls[0]) == info.file_size, "all of it"
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.compress_size < info.file_size / 5
    assert [document.count(BODY.format(n=n)) for n in range(50)] == [1] * 50


def test_without_isal_zlib_deflates_the_same_document(tmp_path, monkeypatch, isal_calls):
    (tmp_path / "isal").mkdir()
    _, with_isal = _print_file(tmp_path / "isal")
    monkeypatch.setitem(sys.modules, "isal", None)  # import isal fails
    info, without = _print_file(tmp_path)
    assert len(isal_calls) == 1, "only the first file was ISA-L's"
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert without == with_isal


def test_a_delivery_list_is_deflated_by_isal(tmp_path, isal_calls):
    from cchc_letters.listdoc import Column, ListPage, write_list_docx
    from cchc_letters.profile import load_profile

    rows = [[str(n), f"Ông Nguyễn Văn {n}", "Ấp Suối Nghệ"] for n in range(1, 31)]
    columns = [Column("STT", 1.5), Column("Người nhận", 6), Column("Địa chỉ", 8)]
    path = write_list_docx(
        tmp_path / "giao-thu.docx",
        profile=load_profile(None),
        letter_date=date(2026, 11, 27),
        title="Danh sách giao thư",
        pages=[ListPage("Ấp Suối Nghệ", columns, rows)],
    )
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        assert "Ông Nguyễn Văn 30" in package.read("word/document.xml").decode("utf-8")
        size = package.getinfo("word/document.xml").file_size
    assert [sum(sizes) for sizes in isal_calls] == [size], "the list's document.xml: ISA-L's"
