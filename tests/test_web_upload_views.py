"""An upload's page is checked once and kept (WebConfig.upload_views) until what it was
checked from changes: its files, the letter date, the column mapping, the profile or the
ledger. Shown again meanwhile (back, reload, a second officer) it is not checked again."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading

import httpx2 as httpx
import pytest
from web_helpers import ROOT, generate, make_client, upload_export

from cchc_letters import intake
from cchc_letters.web import WebConfig, create_app


@pytest.fixture
def checks(monkeypatch):
    """The uploads checked (each call of check_inputs, by the files' folder)."""
    real, seen = intake.check_inputs, []

    def counting(paths, **kwargs):
        seen.append(paths[0].parent.name)
        return real(paths, **kwargs)

    monkeypatch.setattr(intake, "check_inputs", counting)
    return seen


def _count(page: str, name: str) -> int:
    found = re.search(rf'id="{name}">([\d.]+)<', page)
    assert found, page
    return int(found[1].replace(".", ""))


def test_an_upload_shown_again_is_not_checked_again(tmp_path, checks):
    with make_client(tmp_path / "out") as client:
        first = upload_export(client)
        url = str(first.url.path)
        assert first.status_code == 200 and checks == [url.rsplit("/", 1)[1]]
        again = client.get(url)
        assert again.status_code == 200 and len(checks) == 1
        assert _count(again.text, "already-count") == _count(first.text, "already-count") == 0
        other = upload_export(client)  # another upload is another page
        assert other.status_code == 200 and len(checks) == 2
        client.get(url + "?date=2026-11-30")  # another letter date: checked for that date
        assert len(checks) == 3
        client.get(url)
        assert len(checks) == 3  # both dates kept


def test_a_batch_printed_since_is_seen_on_the_upload_page(tmp_path, checks):
    with make_client(tmp_path / "out") as client:
        url = str(upload_export(client).url.path)
        assert generate(client, url)["state"] == "done"  # the ledger changed …
        seen = len(checks)
        page = client.get(url)
        assert len(checks) == seen + 1  # … so the page is checked again
        assert _count(page.text, "already-count") == 2  # both letters now printed


def test_a_changed_column_mapping_or_profile_is_checked_again(tmp_path, checks):
    profile = tmp_path / "profile.toml"
    shutil.copy(ROOT / "data" / "profiles" / "ngai-giao.toml", profile)
    with make_client(tmp_path / "out", profile_path=profile) as client:
        url = str(upload_export(client).url.path)
        mapping = tmp_path / "out" / "column-mapping.toml"
        mapping.write_text("[headings\n", encoding="utf-8")
        broken = client.get(url)
        assert broken.status_code == 400 and "column-mapping.toml" in broken.text
        mapping.unlink()
        assert client.get(url).status_code == 200
        seen = len(checks)
        profile.write_text(profile.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert client.get(url).status_code == 200
        assert len(checks) == seen + 1


def test_two_officers_opening_one_upload_at_once_check_it_once(tmp_path, monkeypatch):
    with make_client(tmp_path / "out") as client:
        url = str(upload_export(client).url.path)
    entered, release = threading.Event(), threading.Event()
    real, calls = intake.check_inputs, []

    def held(paths, **kwargs):
        calls.append(paths)
        entered.set()
        assert release.wait(timeout=10)
        return real(paths, **kwargs)

    monkeypatch.setattr(intake, "check_inputs", held)
    application = create_app(WebConfig(out_dir=tmp_path / "out", lock_wait=1.0))

    async def officers() -> list[str]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            first = asyncio.ensure_future(c.get(url))
            for _ in range(2000):
                if entered.is_set():
                    break
                await asyncio.sleep(0.01)
            second = asyncio.ensure_future(c.get(url))
            await asyncio.sleep(0.3)  # the second officer's page is waiting for the check
            release.set()
            pages = [await first, await second]
            return [p.text for p in pages if p.status_code == 200]

    pages = asyncio.run(officers())
    assert len(pages) == 2 and len(calls) == 1
    assert "LÝ MINH KHÔI" in pages[1]


@pytest.fixture
def held_check(monkeypatch):
    """A large upload's check (checked here instead of in a process of its own), held until
    ``release`` is set; ``calls`` counts the checks; ``fail`` set: it raises that error."""
    from types import SimpleNamespace

    from web_helpers import check_apart

    from cchc_letters.web import pages_batch

    check_apart(monkeypatch, wait_seconds=0.1)
    state = SimpleNamespace(release=threading.Event(), calls=[], fail=None)

    def held(upload, rows_checked):
        state.calls.append(upload.paths)
        rows_checked(1000)  # as the check tells, a thousand rows at a time
        state.release.wait()  # (no timeout: it would never end under faketime)
        if state.fail is not None:
            raise state.fail
        return pages_batch.upload_view(upload)

    monkeypatch.setattr(pages_batch, "_check_apart", held)
    yield state
    state.release.set()


def _when_checked(client, url: str):
    """The upload's page once its check is done (polled as the page reloads itself)."""
    import time

    for _ in range(600):
        page = client.get(url)
        if 'id="checking"' not in page.text:
            return page
        time.sleep(0.05)
    raise AssertionError("the upload was never checked")


def test_a_large_upload_being_checked_says_so_and_shows_its_page_when_checked(tmp_path, held_check):
    with make_client(tmp_path / "out") as client:
        first = upload_export(client)
        url = str(first.url.path)
        assert first.status_code == 200 and 'id="checking"' in first.text
        assert '<meta http-equiv="refresh" content="2">' in first.text
        assert "so-dang-ky-khai-sinh-2026.xlsx" in first.text and "27/11/2026" in first.text
        again = client.get(url)  # reloaded while the check runs: the same check goes on
        assert 'id="checking"' in again.text and len(held_check.calls) == 1
        assert re.search(r'id="rows-checked">Đã kiểm tra <strong>1\.000</strong> dòng', again.text)
        held_check.release.set()
        page = _when_checked(client, url)
        assert page.status_code == 200 and _count(page.text, "to-print") == 2
        assert "LÝ MINH KHÔI" in page.text and len(held_check.calls) == 1
        assert 'id="checking"' not in client.get(url).text  # kept: shown at once


def test_a_background_check_that_fails_shows_its_problem_once_then_checks_again(
    tmp_path, held_check
):
    from cchc_letters.errors import InputError

    held_check.fail = InputError("tệp hỏng (a broken file)", hint="Xuất lại tệp.")
    with make_client(tmp_path / "out") as client:
        url = str(upload_export(client).url.path)
        held_check.release.set()
        failed = _when_checked(client, url)
        assert failed.status_code == 400 and "tệp hỏng" in failed.text
        assert "Xuất lại tệp." in failed.text and "Traceback" not in failed.text
        held_check.fail = None
        page = _when_checked(client, url)  # the next view checks again, and this time it works
        assert page.status_code == 200 and _count(page.text, "to-print") == 2
        assert len(held_check.calls) == 2
