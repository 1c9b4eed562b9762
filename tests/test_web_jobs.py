"""A batch generated from the office app runs in a process of its own (web/jobs.py): the app
follows its progress, shows how it ended, and says so plainly when that process dies."""

from __future__ import annotations

import logging

import pytest
from web_helpers import generate, make_client, upload_export

from cchc_letters.web import jobs


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "out") as c:
        yield c


def test_the_batch_runs_in_a_process_of_its_own(client, monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("run_batch was called in the app's own process")

    monkeypatch.setattr("cchc_letters.pipeline.run_batch", not_here)
    status = generate(client, str(upload_export(client).url.path))
    assert status["state"] == "done" and status["batch"] == "batch-2026-11-27-001"
    assert status["done"] == status["total"] == 2  # its progress came back, to the last letter
    page = client.get(f"/batches/{status['batch']}")
    assert "Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in page.text


def test_a_batch_process_that_dies_is_a_plain_failure(client, monkeypatch, caplog):
    monkeypatch.setattr(jobs, "CHILD", "import os; os._exit(7)")
    with caplog.at_level(logging.ERROR, logger="cchc_letters"):
        status = generate(client, str(upload_export(client).url.path))
    assert status["state"] == "failed" and status["batch"] is None
    assert "dừng bất thường (mã thoát 7)" in status["message"]
    assert "thư nào đã ghi sổ sẽ không in lại" in status["message"]
    assert "ended without an answer: exit 7" in caplog.text


def test_an_unexpected_error_in_the_batch_is_named_by_its_type_only(client, monkeypatch, caplog):
    broken = (
        "import cchc_letters.pipeline as p\n"
        "def boom(*a, **k): raise ValueError('Nguyễn Thị Bí Mật 079123456789')\n"
        "p.run_batch = boom\n"
    )
    monkeypatch.setattr(jobs, "CHILD", broken + jobs.CHILD)
    with caplog.at_level(logging.ERROR, logger="cchc_letters"):
        status = generate(client, str(upload_export(client).url.path))
    assert status["state"] == "failed"
    assert status["message"] == "Lỗi không mong đợi khi tạo thư (ValueError); chưa ghi sổ."
    assert "generation failed: ValueError" in caplog.text and "Bí Mật" not in caplog.text
