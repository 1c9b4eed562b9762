"""sync_batch flushes every file of a renamed batch, then its folder and the folder above,
whether the files are few (one by one) or many (together, in threads); a failure to flush
one is raised, never passed over."""

from __future__ import annotations

import errno
import os

import pytest

from cchc_letters import output


@pytest.mark.parametrize("files", [3, output.SYNC_ONE_BY_ONE + 12])
def test_every_file_then_the_folders_are_flushed(tmp_path, monkeypatch, files):
    batch = tmp_path / "out" / "batch-2026-11-27-001"
    batch.mkdir(parents=True)
    for n in range(files):
        (batch / f"khai-sinh-{n:03d}.docx").write_bytes(b"PK" * n)
    flushed: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    output.sync_batch(batch)
    names = sorted(str(batch / f"khai-sinh-{n:03d}.docx") for n in range(files))
    assert sorted(flushed[:files]) == names
    assert flushed[files:] == [str(batch), str(batch.parent)]


@pytest.mark.parametrize("files", [3, output.SYNC_ONE_BY_ONE + 12])
def test_a_file_that_cannot_be_flushed_is_an_error(tmp_path, monkeypatch, files):
    batch = tmp_path / "batch"
    batch.mkdir()
    for n in range(files):
        (batch / f"f{n:03d}.docx").write_bytes(b"x")
    real = os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("f002.docx"):
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="Input/output error"):
        output.sync_batch(batch)
