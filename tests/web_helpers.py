"""Helpers for the office app's tests: an app on a temporary OUT, the CSRF token of a page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from starlette.testclient import TestClient

from cchc_letters.web import WebConfig, create_app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EXPORT = ROOT / "data" / "sample" / "registry-export" / "so-dang-ky-khai-sinh-2026.xlsx"
LETTER_DATE = date(2026, 11, 27)


def make_client(out: Path, **config) -> TestClient:
    config.setdefault("today", lambda: LETTER_DATE)
    config.setdefault("lock_wait", 1.0)
    return TestClient(create_app(WebConfig(out_dir=out, **config)))


def forget_checked_uploads(client: TestClient) -> None:
    """Drop the upload pages the app keeps, so the next one is checked again."""
    from cchc_letters.kept import Kept

    client.app.state.config.upload_views = Kept(1)  # type: ignore[attr-defined]


def check_apart(monkeypatch, wait_seconds: float = 300.0) -> None:
    """Every upload and batch counts as large (checked and run in a process of its own; the
    sample export is a few kilobytes), and an upload's page waits ``wait_seconds`` for its
    check before it says the check is still running."""
    from cchc_letters.web import jobs, pages_batch

    monkeypatch.setattr(jobs, "APART_MIN_BYTES", 0)
    monkeypatch.setattr(pages_batch, "CHECK_WAIT_SECONDS", wait_seconds)


def csrf_of(client: TestClient, page: str = "/batch") -> str:
    response = client.get(page)
    found = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert found, response.text
    return found[1]


def upload_export(client: TestClient, path: Path = SAMPLE_EXPORT, name: str | None = None):
    token = csrf_of(client)
    return client.post(
        "/batch/upload",
        data={"csrf": token},
        files=[("files", (name or path.name, path.read_bytes(), "application/octet-stream"))],
    )


def wait_for_job(client: TestClient, location: str) -> dict:
    import time

    deadline = time.monotonic() + 300  # generous: a shared CI machine may be busy
    while time.monotonic() < deadline:
        status = client.get(location + "/status").json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError("the batch did not finish")


def generate(client: TestClient, intake_url: str, **fields) -> dict:
    token = csrf_of(client, intake_url)
    response = client.post(
        intake_url + "/generate",
        data={"csrf": token, "letter_date": LETTER_DATE.isoformat(), **fields},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return wait_for_job(client, response.headers["location"])
