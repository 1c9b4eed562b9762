"""What one input file may expand to: the numbers of data/limits.toml, read once.

Every reader measures its file against these before expanding it (ingest/excel.py for the
workbooks, ingest/text.py for CSV); docs/input.md, "Limits", explains each one.
"""

from __future__ import annotations

from cchc_letters.resources import data_dir


def _load() -> dict[str, int]:
    from cchc_letters import cache

    limits: dict[str, int] = cache.load_toml(data_dir() / "limits.toml")["input"]
    return limits


_LIMITS = _load()

MAX_SHEET_ROWS: int = _LIMITS["sheet_rows"]
MAX_SHEET_CELLS: int = _LIMITS["sheet_cells"]
MAX_SHEET_XML: int = _LIMITS["sheet_bytes"]
MAX_SHARED_STRINGS_XML: int = _LIMITS["shared_strings_bytes"]
MAX_OTHER_XML: int = _LIMITS["other_part_bytes"]
MAX_TEXT_BYTES: int = _LIMITS["text_bytes"]
MAX_WORKBOOK_FILE: int = _LIMITS["workbook_file_bytes"]
MAX_LEGACY_FILE: int = _LIMITS["legacy_file_bytes"]
MAX_TEXT_FILE: int = _LIMITS["text_file_bytes"]
