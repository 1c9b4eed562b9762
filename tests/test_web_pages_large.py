"""The office app with a large batch and several officers at once: a batch page lists its
letters a page at a time, a letter's page reads only what it shows, and a page that reads
files, the ledger or LibreOffice runs outside the server's event loop, so it never holds up
another officer's page."""

from __future__ import annotations

import asyncio
import csv
import re
import threading

import httpx2 as httpx
import pytest
from fault_helpers import generate_args
from ledger_helpers import write_births
from typer.testing import CliRunner
from web_helpers import make_client, upload_export

from cchc_letters import intake, lookup, pictures
from cchc_letters.cli import app
from cchc_letters.web import WebConfig, create_app, pages_batch

BATCH = "batch-2026-11-27-001"
LETTERS = 7
BAD_ROWS = 3


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """OUT with one batch: seven letters in print files of three, three rejected rows."""
    tmp = tmp_path_factory.mktemp("large")
    export = write_births(tmp / "births.csv", range(1, LETTERS + 1))
    with export.open("a", encoding="utf-8") as fh:
        for n in range(50, 50 + BAD_ROWS):  # 31 February: each row rejected
            fh.write(
                f"khai sinh,{n},01/2026,20/11/2026,Trần Thị Mai {n},Nữ,31/02/2026,"
                "Trạm Y tế xã Ngãi Giao,Lê Thị Hồng,1996,Ấp Suối Nghệ,Lê Thị Hồng,mẹ\n"
            )
    result = CliRunner().invoke(app, generate_args([export], tmp / "out", "--per-file", "3"))
    assert result.exit_code in (0, 3), result.output  # (3: some rows were rejected)
    assert (tmp / "out" / BATCH / "khai-sinh-003.docx").is_file()
    return tmp / "out"


def manifest(out) -> list[dict[str, str]]:
    with (out / BATCH / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def listed(page: str) -> list[tuple[int, str, str]]:
    """(number, addressee, print file #position) of each letter row of a batch page."""
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]*)</td><td>[^<]*</td><td>[^<]*</td>\s*<td>([^<]*)</td>", page
    )
    return [(int(n), who, where) for n, who, where in rows]


def test_a_batch_page_lists_its_letters_a_page_at_a_time(out, monkeypatch):
    monkeypatch.setattr(pages_batch, "LETTERS_PER_PAGE", 3)
    expected = [
        (i, row["addressee"], f"{row['print_file']} #{row['position']}")
        for i, row in enumerate(manifest(out), start=1)
    ]
    assert len(expected) == LETTERS
    with make_client(out) as client:
        pages = [client.get(f"/batches/{BATCH}", params={"page": n}).text for n in (1, 2, 3)]
        assert [listed(page) for page in pages] == [expected[0:3], expected[3:6], expected[6:7]]
        assert all(f"Các thư ({LETTERS})" in page for page in pages)
        assert "Trang 2/3 (thư 4–6)" in pages[1]
        assert 'href="?page=1#letters"' in pages[1] and 'href="?page=3#letters"' in pages[1]
        assert 'rel="prev"' not in pages[0] and 'rel="next"' not in pages[2]
        # no page number, one that is not a number, or one past the end: the nearest page
        assert listed(client.get(f"/batches/{BATCH}").text) == expected[0:3]
        assert listed(client.get(f"/batches/{BATCH}?page=abc").text) == expected[0:3]
        assert listed(client.get(f"/batches/{BATCH}?page=99").text) == expected[6:7]
        assert listed(client.get(f"/batches/{BATCH}?page=-2").text) == expected[0:3]
    monkeypatch.setattr(pages_batch, "LETTERS_PER_PAGE", 500)
    with make_client(out) as client:
        whole = client.get(f"/batches/{BATCH}").text
        assert listed(whole) == expected and "Trang 1/" not in whole  # one page: no pager


def test_a_batch_page_shows_the_first_rejected_rows_and_counts_them_all(out, monkeypatch):
    monkeypatch.setattr(pages_batch, "REJECTS_SHOWN", 2)
    with make_client(out) as client:
        page = client.get(f"/batches/{BATCH}").text
    rejects = page[page.index('id="rejects"') :]
    assert f"Dòng không in được ({BAD_ROWS})" in rejects
    assert "Dưới đây là 2 dòng đầu; xem đủ 3 dòng" in rejects
    assert rejects.count("Trần Thị Mai") == 0  # (the value column holds the date)
    assert len(re.findall(r"<tr><td>births.csv</td>", rejects)) == 2
    monkeypatch.setattr(pages_batch, "REJECTS_SHOWN", 500)
    with make_client(out) as client:
        page = client.get(f"/batches/{BATCH}").text
    assert len(re.findall(r"<tr><td>births.csv</td>", page)) == BAD_ROWS
    assert "dòng đầu; xem đủ" not in page


def test_a_letter_page_shows_its_letter_and_counts_its_print_file(out):
    rows = manifest(out)
    with make_client(out) as client:
        for row in rows:
            page = client.get(f"/letters/{BATCH}/{row['print_file']}/{row['position']}")
            assert page.status_code == 200
            assert f"<h1>{row['addressee']}</h1>" in page.text
            in_file = sum(1 for r in rows if r["print_file"] == row["print_file"])
            assert f"thư {row['position']}/{in_file}" in page.text
        assert client.get(f"/letters/{BATCH}/khai-sinh-003.docx/2").status_code == 404
        assert client.get(f"/letters/{BATCH}/khai-sinh-001.docx/4").status_code == 404


def test_a_changed_manifest_is_read_again(out, tmp_path, monkeypatch):
    """The manifest cache follows the file: a batch folder copied over is shown as it is."""
    monkeypatch.setattr(lookup, "_kept", lookup._Kept())
    copy = tmp_path / "out"
    (copy / BATCH).mkdir(parents=True)
    source = (out / BATCH / "manifest.csv").read_text(encoding="utf-8-sig")
    (copy / BATCH / "manifest.csv").write_text(source, encoding="utf-8-sig")
    with make_client(copy) as client:
        assert len(listed(client.get(f"/batches/{BATCH}").text)) == LETTERS
        lines = source.splitlines()
        (copy / BATCH / "manifest.csv").write_text(
            "\n".join(lines[:3]) + "\n", encoding="utf-8-sig"
        )  # two letters left, and a different size
        assert len(listed(client.get(f"/batches/{BATCH}").text)) == 2


def test_an_upload_page_shows_the_first_rows_of_each_list_and_counts_them_all(out, monkeypatch):
    """The export of the batch uploaded again: seven letters already printed, three rows
    rejected; each list shows its first ROWS_SHOWN rows under its whole count."""
    export = out.parent / "births.csv"
    for shown, listed_printed, listed_rejected in ((2, 2, 2), (200, LETTERS, BAD_ROWS)):
        monkeypatch.setattr(pages_batch, "ROWS_SHOWN", shown)
        with make_client(out) as client:
            page = upload_export(client, export).text
        assert re.search(rf'id="already-count">{LETTERS}<', page)
        assert re.search(rf'id="rejected-count">{BAD_ROWS}<', page)
        rejected = page[page.index('id="rejected"') : page.index('id="already"')]
        already = page[page.index('id="already"') :]
        assert f"Đã in trước đó ({LETTERS})" in already
        assert len(re.findall(r"/ledger/history\?key=", already)) == listed_printed
        assert rejected.count('class="reject"') == listed_rejected
        cut = shown < LETTERS
        assert (f"Dưới đây là 2 dòng đầu trong {LETTERS}." in already) is cut
        assert (f"Dưới đây là 2 lỗi đầu trong {BAD_ROWS}" in rejected) is cut


# ---- several officers at once --------------------------------------------------------------


def _uploaded(out) -> str:
    """Upload the sample export; return its page's token."""
    with make_client(out) as client:
        return str(upload_export(client).url.path).rsplit("/", 1)[-1]


# Each page that does slow work, and the library call it waits in.
SLOW_PAGES = {
    "ledger search": ("/ledger?q=nguyen", lookup, "search_letters"),
    "batch page": (f"/batches/{BATCH}", lookup, "batch_letters"),
    "letter page": (f"/letters/{BATCH}/khai-sinh-001.docx/1", lookup, "letter_in_batch"),
    "page picture": (f"/pictures/{BATCH}/khai-sinh-001.docx/1.png", pictures, "docx_page_png"),
    "upload read": ("/batch/{token}", intake, "check_inputs"),
}


@pytest.mark.parametrize("name", SLOW_PAGES)
def test_a_slow_page_does_not_hold_up_the_others(out, tmp_path, monkeypatch, name):
    url, module, function = SLOW_PAGES[name]
    if "{token}" in url:
        url = url.format(token=_uploaded(out))
    entered, release = threading.Event(), threading.Event()
    real = getattr(module, function)
    let_go: list[bool] = []  # True: this test released the call; False: it waited in vain

    def held(*args, **kwargs):
        entered.set()
        let_go.append(release.wait(timeout=10))  # (on the event loop: nothing can release it)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, function, held)
    application = create_app(WebConfig(out_dir=out, lock_wait=1.0))

    async def officers() -> tuple[int, int, bool]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            slow = asyncio.ensure_future(c.get(url))
            for _ in range(2000):  # until the slow page is inside its slow call
                if entered.is_set():
                    break
                await asyncio.sleep(0.01)
            assert entered.is_set(), "the slow page never reached its call"
            try:
                other = await asyncio.wait_for(c.get("/schedule?dob=2026-11-01"), timeout=10)
                waiting = not slow.done()
            finally:
                release.set()
            return other.status_code, (await slow).status_code, waiting

    other, slow, waiting = asyncio.run(officers())
    assert other == 200  # another officer's page came back …
    assert waiting and let_go and all(let_go)  # … while the slow one was still working
    assert slow == 200


def test_counts_are_written_as_vietnamese_write_them():
    from cchc_letters.web.app import PAGES

    show = PAGES.env.filters["vn_number"]
    assert [show(n) for n in (7, 1000, 97365, 1234567)] == ["7", "1.000", "97.365", "1.234.567"]
