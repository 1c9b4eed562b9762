"""A batch generated from the office app (web/jobs.py): a large one runs in a process of its
own, whose progress the app follows, whose end it shows, and whose death it says plainly; a
small one runs in a thread of the app, forking nothing."""

from __future__ import annotations

import logging
import re
import threading

import pytest
from web_helpers import (
    LETTER_DATE,
    check_apart,
    csrf_of,
    forget_checked_uploads,
    generate,
    make_client,
    upload_export,
    wait_for_job,
)

from cchc_letters import writing
from cchc_letters.web import jobs


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "out") as c:
        yield c


@pytest.fixture
def apart(monkeypatch):
    """Every batch and upload counts as large (the sample export is a few kilobytes)."""
    check_apart(monkeypatch)


def test_a_small_batch_runs_in_the_apps_thread(client, monkeypatch):
    from cchc_letters import pipeline

    real, ran = pipeline.run_batch, []

    def here(*args, **kwargs):
        ran.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_batch", here)
    status = generate(client, str(upload_export(client).url.path))
    assert status["state"] == "done" and status["batch"] == "batch-2026-11-27-001"
    assert len(ran) == 1 and ran[0] != threading.main_thread().name
    assert status["done"] == status["total"] == 2


def test_a_process_with_other_threads_writes_in_one_process():
    """A large batch in a thread of the office app would fork its writers from a process
    whose other threads may hold locks: it writes them itself instead."""
    import os
    import sys

    if (os.cpu_count() or 1) < 2 or not sys.platform.startswith(("linux", "darwin")):
        pytest.skip("writers are forked only on Linux and macOS, with a second core")
    for thread in threading.enumerate():  # (another test's job, ending)
        if thread is not threading.main_thread():
            thread.join(timeout=30)
    assert writing.worker_count(10_000) == min(writing.MAX_WORKERS, os.cpu_count() or 1)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert writing.worker_count(10_000) == 1
    finally:
        release.set()
        other.join()
    assert writing.worker_count(10_000) > 1


@pytest.mark.usefixtures("apart")
def test_a_large_batch_runs_in_a_process_of_its_own(client, monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("run_batch was called in the app's own process")

    monkeypatch.setattr("cchc_letters.pipeline.run_batch", not_here)
    status = generate(client, str(upload_export(client).url.path))
    assert status["state"] == "done" and status["batch"] == "batch-2026-11-27-001"
    assert status["done"] == status["total"] == 2  # its progress came back, to the last letter
    page = client.get(f"/batches/{status['batch']}")
    assert "Anh Phan Văn Lộc và chị Ngô Thị Thu Hà" in page.text


def generate_checked(client, intake_url: str) -> dict:
    """Generate from an upload already checked (``generate`` shows its page again first)."""
    response = client.post(
        intake_url + "/generate",
        data={"csrf": csrf_of(client), "letter_date": LETTER_DATE.isoformat()},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return wait_for_job(client, response.headers["location"])


@pytest.mark.usefixtures("apart")
def test_a_batch_process_that_dies_is_a_plain_failure(client, monkeypatch, caplog):
    intake = str(upload_export(client).url.path)
    monkeypatch.setattr(jobs, "CHILD", "import os; os._exit(7)")
    with caplog.at_level(logging.ERROR, logger="cchc_letters"):
        status = generate_checked(client, intake)
    assert status["state"] == "failed" and status["batch"] is None
    assert "dừng bất thường (mã thoát 7)" in status["message"]
    assert "thư nào đã ghi sổ sẽ không in lại" in status["message"]
    assert "ended without an answer: exit 7" in caplog.text


@pytest.mark.usefixtures("apart")
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


# ---- an upload's check -------------------------------------------------------------------


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', "", page)


def test_a_large_upload_is_checked_in_a_process_of_its_own(client, monkeypatch):
    here = client.get(str(upload_export(client).url.path))
    assert here.status_code == 200 and "LÝ MINH KHÔI" in here.text  # (checked in this thread)

    def not_here(*args, **kwargs):
        raise AssertionError("the upload was checked in the app's own process")

    monkeypatch.setattr("cchc_letters.intake.check_inputs", not_here)
    check_apart(monkeypatch)
    forget_checked_uploads(client)
    apart = client.get(str(here.url.path))
    assert apart.status_code == 200
    assert _without_tokens(apart.text) == _without_tokens(here.text)  # the same page


def test_a_broken_column_mapping_is_the_same_problem_here_and_apart(client, tmp_path, monkeypatch):
    intake = str(upload_export(client).url.path)
    (tmp_path / "out" / "column-mapping.toml").write_text("[headings\n", encoding="utf-8")
    here = client.get(intake)
    check_apart(monkeypatch)
    forget_checked_uploads(client)
    apart = client.get(intake)
    assert here.status_code == apart.status_code == 400
    assert "column-mapping.toml" in here.text
    assert _without_tokens(apart.text) == _without_tokens(here.text)


def test_an_upload_check_that_dies_is_a_plain_error_page(client, monkeypatch, caplog):
    intake = str(upload_export(client).url.path)
    check_apart(monkeypatch)
    monkeypatch.setattr(jobs, "CHILD", "import os; os._exit(7)")
    forget_checked_uploads(client)
    with caplog.at_level(logging.ERROR, logger="cchc_letters"):
        page = client.get(intake)
    assert page.status_code == 500 and "Lỗi không mong đợi" in page.text
    assert "Traceback" not in page.text and "unexpected RuntimeError" in caplog.text


def test_the_new_python_imports_the_apps_own_package_not_one_in_the_working_folder(
    tmp_path, monkeypatch
):
    """An office PC's working folder may hold an unpacked copy of another version, or a
    module named as one the batch imports: the new Python imports neither, and takes
    cchc_letters from where the app did."""
    import cchc_letters

    for name in ("cchc_letters", "jinja2"):
        (tmp_path / "work" / name).mkdir(parents=True)
        (tmp_path / "work" / name / "__init__.py").write_text("raise ImportError('a copy')\n")
    monkeypatch.chdir(tmp_path / "work")
    app = tmp_path / "app" / "cchc_letters" / "__init__.py"  # where this app was found
    app.parent.mkdir(parents=True)
    app.write_text("")
    monkeypatch.setattr(cchc_letters, "__file__", str(app))
    monkeypatch.setattr(
        jobs,
        "CHILD",
        "import pickle, sys\nsys.stdin.buffer.read()\nimport cchc_letters, jinja2\n"
        "pickle.dump(('done', cchc_letters.__file__), sys.stdout.buffer)",
    )
    heard: list[tuple] = []
    status = jobs.in_new_python("unused:unused", None, lambda *said: heard.append(said))
    assert (status, heard) == (0, [("done", str(app))])


def test_a_check_apart_tells_the_app_how_many_rows_it_has_checked(tmp_path, monkeypatch):
    from ledger_helpers import write_births

    from cchc_letters import intake
    from cchc_letters.web import pages_batch

    monkeypatch.setattr(intake, "ROWS_PER_COUNT", 100)  # (the new Python keeps 1,000)
    export = write_births(tmp_path / "births.csv", range(1, 2501))
    upload = pages_batch._Upload(
        paths=[export],
        names={},
        letter_date=LETTER_DATE,
        mapping=None,
        out_dir=tmp_path / "out",
        profile_path=None,
    )
    told: list[int] = []
    view = pages_batch._check_apart(upload, told.append)
    assert told == [1000, 2000] and view["rows_read"] == 2500
    told.clear()
    assert pages_batch.upload_view(upload, told.append)["rows_read"] == 2500  # in this process
    assert told == list(range(100, 2501, 100))


# ---- the app stopped while a batch runs apart ---------------------------------------------

FOLLOWER = """
import sys
from datetime import date
from pathlib import Path

from cchc_letters.options import BatchOptions
from cchc_letters.web import jobs

options = BatchOptions(inputs=[Path(sys.argv[1])], out_dir=Path(sys.argv[2]),
                       letter_date=date(2026, 11, 27))
jobs.in_new_python("cchc_letters.web.jobs:batch_apart", ("test", options), lambda *said: None)
"""


@pytest.mark.slow
def test_a_batch_apart_stops_when_the_app_is_killed_and_the_next_run_prints_it_once(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from ledger_helpers import completed_batches, printed_counts, write_births

    export = write_births(tmp_path / "births.csv", range(1, 3001))
    out = tmp_path / "out"
    app = subprocess.Popen([sys.executable, "-c", FOLLOWER, str(export), str(out)])
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".incomplete-batch-*")):  # the batch is being written
            assert app.poll() is None and time.monotonic() < deadline, "the batch never began"
            time.sleep(0.01)
        (batch,) = psutil.Process(app.pid).children()
        assert "run_apart" in " ".join(batch.cmdline())
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
        gone, _ = psutil.wait_procs([batch], timeout=30)
        assert gone, "the batch's process outlived the app"
    finally:
        if app.poll() is None:
            app.kill()
    assert completed_batches(out) == []  # it stopped where it was, as if killed
    runner = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "generate", str(export), "--out", str(out),
         "--date", "2026-11-27"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert runner.returncode == 0, runner.stderr
    counts = printed_counts(out)
    assert len(counts) == 3000 and set(counts.values()) == {1}
