"""Deflating the large parts of the files a batch writes (the print files' and the delivery
list's word/document.xml) with ISA-L, through zipfile.

zipfile deflates with zlib only. ISA-L (the ``isal`` package, wheels for Linux, Windows and
macOS) makes the same plain deflate stream about five times faster on these letters: per
letter of a 200-letter print file, 5.8 µs at its level 2 against 30.6 µs for zlib at level
3, for the same size (743 against 751 bytes a letter). Every zip reader inflates it as any
other deflated entry. Where isal cannot be imported, zlib does it as before.
"""

from __future__ import annotations

import zipfile
from typing import IO, Any

# zlib's level where ISA-L is missing (zlib's fastest with these letters, docs/performance.md)
ZLIB_LEVEL = 3
# ISA-L's level: 0-3; 2 deflates these letters as small as zlib's level 3, 1 is no faster
ISAL_LEVEL = 2


def _isal_compressor() -> Any:
    """Return a new raw-deflate compressor of ISA-L, or None when isal is not installed."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, -15)


def open_deflated(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """Open ``info`` in ``package`` for writing, deflated by ISA-L (or zlib at ``ZLIB_LEVEL``).

    zipfile has no hook for another deflater: its write handle calls ``compress`` and
    ``flush`` of the object in ``_compressor`` (CPython 3.9 to 3.14), which is swapped here
    for ISA-L's before anything is written; when that attribute is missing (another Python)
    zlib's stays.
    """
    info.compress_type = zipfile.ZIP_DEFLATED
    # the level zipfile deflates an entry at (3.13 names it compress_level, and keeps
    # _compresslevel as its alias); a ZipInfo given to open() carries no level otherwise
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel",
            ZLIB_LEVEL)  # fmt: skip
    handle = package.open(info, "w")
    if getattr(handle, "_compressor", None) is not None:
        fast = _isal_compressor()
        if fast is not None:
            handle._compressor = fast  # type: ignore[attr-defined]
    return handle


def deflated(data: bytes, level: int = -1) -> bytes:
    """Return ``data`` deflated as zipfile deflates an entry written whole at ``level``
    (zlib's; -1 its default, as for an entry given no level): the same bytes."""
    import zlib

    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


class _Deflated:
    """Stands in for zipfile's compressor of one entry whose deflated bytes are known."""

    def __init__(self, blob: bytes) -> None:
        self._blob = blob

    def compress(self, data: bytes) -> bytes:
        blob, self._blob = self._blob, b""
        return blob

    def flush(self) -> bytes:
        return b""


def write_deflated(
    package: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, blob: bytes
) -> None:
    """Write ``data`` as the deflated entry ``info`` whose deflated bytes ``blob``
    (``deflated(data, level)``) were made before: the entry ``package.writestr(info, data)``
    writes at that level, without deflating the same part again for every file. zipfile
    takes the size and checksum of ``data`` as it does for any entry; its compressor (the
    attribute ``open_deflated`` swaps too) gives ``blob``. Where that attribute is missing,
    zipfile deflates ``data`` itself."""
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = len(data)
    with package.open(info, "w") as handle:
        if getattr(handle, "_compressor", None) is not None:
            handle._compressor = _Deflated(blob)  # type: ignore[attr-defined]
        handle.write(data)
