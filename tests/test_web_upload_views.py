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
