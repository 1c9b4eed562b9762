"""The shipped samples work as the README says: the canonical CSV and an untidy registry export."""

from __future__ import annotations

from datetime import date

from docx_helpers import letters_text

from cchc_letters.models import Kind
from cchc_letters.pipeline import BatchOptions, run_batch
from cchc_letters.resources import data_dir

EXPORT = data_dir() / "sample" / "registry-export" / "so-dang-ky-khai-sinh-2026.xlsx"


def test_registry_export_sample_gives_two_letters_and_one_explained_reject(tmp_path):
    result = run_batch(
        BatchOptions(inputs=[EXPORT.parent], out_dir=tmp_path, letter_date=date(2026, 11, 27))
    )
    assert result.letters[Kind.BIRTH] == 2 and result.rejected == 1
    first, second = letters_text(result.files[0])
    # title rows, merged two-row header and column-number row were read, names title-cased,
    # the book number printed only in the title applies to every row
    assert "cháu Phan Ngọc Bảo Anh, sinh ngày 09/11/2026" in first
    assert "Kính gửi: Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in first
    assert "số 21, quyển số 01/2026" in first
    assert "Đinh Gia Huy" in second
    (issue,) = [i for i in result.issues if i.severity == "error"]
    assert (issue.source.sheet, issue.source.row, issue.code) == ("Khai sinh", 10, "missing_field")
    assert issue.column == "Người được khai sinh / Ngày, tháng, năm sinh"


def test_sample_folder_does_not_pick_up_the_export_subfolder(tmp_path):
    result = run_batch(
        BatchOptions(
            inputs=[data_dir() / "sample"], out_dir=tmp_path, letter_date=date(2026, 11, 27)
        )
    )
    assert sum(result.letters.values()) == 7 and result.rejected == 0
