"""Writing a small birth register for reading tests: a title row, a header, the rows."""

from __future__ import annotations

from pathlib import Path

import openpyxl

TITLE = "SỔ ĐĂNG KÝ KHAI SINH"


def write_register(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write ``rows`` under ``header`` (and the title row) as CSV or XLSX, by suffix.

    CSV cells are joined with commas as they are: a value holding a comma splits.
    """
    table = [[TITLE], header, *rows]
    if path.suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in table) + "\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for row in table:
            book.active.append(row)
        book.save(path)
    return path
