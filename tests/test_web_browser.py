"""The office app end to end in a real browser: Debian's chromium driven by Selenium through
chromedriver. Skipped on a machine without them, never under CI (CI=true installs them).

Set CCHC_SCREENSHOTS=1 to refresh the README's screenshots in docs/ from this run.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from docx_edit import default_template, replace_text, rewrite_document
from docx_helpers import letters_text
from serve_helpers import serve_process

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EXPORT = ROOT / "data" / "sample" / "registry-export" / "so-dang-ky-khai-sinh-2026.xlsx"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _need_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "chromium and chromedriver are required under CI (apt-get install chromium chromium-driver)"
        )
    pytest.skip("chromium / chromedriver not installed")


@pytest.fixture
def server(tmp_path):
    """A real `cchc-letters serve` on a free port; yields its base URL and OUT."""
    out = tmp_path / "out"
    with serve_process(out) as running:
        yield running.url, out


@pytest.fixture
def browser(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,1000",
        "--lang=vi",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.implicitly_wait(60)  # generous: a shared CI machine may be busy
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Save a screenshot; with CCHC_SCREENSHOTS=1 also as a small PNG in docs/ for the README."""
    path = tmp_path / name
    driver.save_screenshot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("CCHC_SCREENSHOTS") == "1":
        from PIL import Image

        image = Image.open(path).convert("RGB").quantize(colors=64)
        image.save(ROOT / "docs" / name, optimize=True)
    return path


def _wait_for_file(folder: Path, name: str) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        path = folder / name
        if path.is_file() and not list(folder.glob("*.crdownload")):
            return path
        time.sleep(0.05)
    raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}")


def _wait_for_heading(driver, text: str) -> None:
    """Wait until the page's h1 holds ``text``: after a click the old page's h1 may still be
    found (and go stale) before the browser has navigated."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 120).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), text)
    )


def test_upload_see_the_rejected_row_generate_and_download(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, out = server
    browser.get(base + "/")
    assert "Lô thư hôm nay" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.ID, "files").send_keys(str(SAMPLE_EXPORT))
    browser.find_element(By.ID, "upload").click()
    _wait_for_heading(browser, "Kiểm tra tệp tải lên")
    # the letter date is chosen explicitly: never today's
    browser.get(browser.current_url + "?date=2026-11-27")
    rejected = browser.find_element(By.ID, "rejected")
    assert "dòng 10" in rejected.text and "Thiếu ngày sinh của trẻ" in rejected.text
    cell = rejected.find_element(By.CSS_SELECTOR, "td.bad")
    assert cell.text == "(trống)"
    assert cell.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"  # highlighted
    assert cell.is_displayed() and cell.location["x"] < 1200  # scrolled into the row's view
    browser.execute_script("arguments[0].scrollIntoView()", rejected)
    _screenshot(browser, tmp_path, "web-rejected-row.png")
    assert browser.find_element(By.ID, "to-print").text == "2"
    browser.find_element(By.ID, "generate").click()
    # the progress page turns into the batch page when the letters are written
    _wait_for_heading(browser, "batch-2026-11-27-001")
    downloads = browser.find_element(By.ID, "downloads")
    letters = browser.find_element(By.ID, "letters")
    assert "Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in letters.text
    browser.execute_script("window.scrollTo(0, 0)")
    _screenshot(browser, tmp_path, "web-batch.png")
    downloads.find_element(By.LINK_TEXT, "khai-sinh-001.docx").click()
    printed = _wait_for_file(browser.downloads, "khai-sinh-001.docx")
    texts = letters_text(printed)
    assert len(texts) == 2
    assert "Phan Ngọc Bảo Anh" in texts[0] and "Đinh Quang Vinh" in texts[1]
    assert all("ngày 27 tháng 11 năm 2026" in t for t in texts)
    assert (
        printed.read_bytes() == (out / "batch-2026-11-27-001" / "khai-sinh-001.docx").read_bytes()
    )


def test_upload_a_broken_template_and_see_the_finding(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, _ = server
    (tmp_path / "edited").mkdir()
    broken = rewrite_document(
        default_template("marriage"),
        tmp_path / "edited" / "marriage.docx",
        replace_text("{{ wife.name }}", "{{ wife.nane }}"),
    )
    browser.get(base + "/templates")
    Select(browser.find_element(By.ID, "template-kind")).select_by_value("marriage")
    browser.find_element(By.ID, "template-file").send_keys(str(broken))
    browser.find_element(By.ID, "template-upload").click()
    assert "1 lỗi" in browser.find_element(By.ID, "verdict").text
    paragraph = browser.find_element(By.CSS_SELECTOR, "#paragraphs .has-finding")
    assert "wife.nane" in paragraph.text
    finding = paragraph.find_element(By.CSS_SELECTOR, ".finding.error")
    assert "wife.nane" in finding.text and "wife.name" in finding.text
    assert not browser.find_elements(By.ID, "adopt")


def test_a_large_upload_says_it_is_being_checked_and_shows_its_page_by_itself(
    tmp_path, browser, monkeypatch
):
    """The app in this process (its check held until the test lets it go), served by
    uvicorn in a thread, so the browser's own reloading is what brings the result."""
    import threading

    import uvicorn
    from selenium.webdriver.common.by import By
    from serve_helpers import free_port
    from web_helpers import check_apart

    from cchc_letters.web import WebConfig, create_app, pages_batch

    check_apart(monkeypatch, wait_seconds=0.1)
    monkeypatch.setattr(pages_batch, "CHECK_RELOAD_SECONDS", 1)
    release = threading.Event()

    def held(upload, rows_checked):
        release.wait()  # (no timeout: see test_kept)
        return pages_batch.upload_view(upload)

    monkeypatch.setattr(pages_batch, "_check_apart", held)
    port = free_port()
    app = create_app(WebConfig(out_dir=tmp_path / "out", allowed_hosts=["127.0.0.1"]))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(2000):
            if server.started:
                break
            time.sleep(0.01)
        browser.get(f"http://127.0.0.1:{port}/batch")
        browser.find_element(By.ID, "files").send_keys(str(SAMPLE_EXPORT))
        browser.find_element(By.ID, "upload").click()
        checking = browser.find_element(By.ID, "checking")  # (waits: implicitly_wait)
        assert "so-dang-ky-khai-sinh-2026.xlsx" in checking.text
        assert "tự tải lại" in checking.text
        time.sleep(1.5)  # a reload or more while the check runs: still being checked
        assert 'id="checking"' in browser.page_source
        release.set()
        browser.find_element(By.ID, "summary")  # the page reloaded itself (implicitly_wait)
        assert browser.find_element(By.ID, "to-print").text == "2"
        assert 'id="checking"' not in browser.page_source
    finally:
        release.set()
        server.should_exit = True
        thread.join()
