"""--pdf converters: one per core, each on its own profile, restarted after a crash or a hang.

A stand-in soffice (a real program, run as LibreOffice is) provokes what real LibreOffice
does rarely and not on demand: hang on a file, crash, skip a file it cannot read. One test
runs real LibreOffice with two converters.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from docx_helpers import pdf_pages, soffice_or_skip

from cchc_letters import pdf

# Behaves like `soffice --convert-to pdf --outdir DIR FILES...` and logs each call. A file
# named *hang* hangs on the first try (*always-hang*: every try) after writing half a PDF and
# starting a child; *crash* crashes on the first try; *broken* cannot be read (exit 0).
FAKE_SOFFICE = r"""
import json, os, signal, subprocess, sys, time
from pathlib import Path

args = sys.argv[1:]
state = Path(os.environ["FAKE_SOFFICE_STATE"])
profile = next(a.split("=", 1)[1] for a in args if a.startswith("-env:UserInstallation="))
out = Path(args[args.index("--outdir") + 1])
files = [Path(a) for a in args[args.index("--outdir") + 2:]]
log = state / "calls.jsonl"
record = {"pid": os.getpid(), "profile": profile, "files": [f.name for f in files],
          "start": time.time()}

def first_time(name):
    marker = state / (name + ".seen")
    if marker.exists():
        return False
    marker.touch()
    return True

for f in files:
    print(f"convert {f} -> {out / (f.stem + '.pdf')} using filter : writer_pdf_Export", flush=True)
    target = out / (f.stem + ".pdf")
    if "broken" in f.name:
        print("Error: source file could not be loaded", flush=True)
        continue
    if "always-hang" in f.name or os.environ.get("FAKE_SOFFICE_HANG", "?") in f.name or ("hang" in f.name and first_time(f.name)):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        record["child"] = child.pid
        with log.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        target.write_text("%PDF-1.4 half")
        time.sleep(600)
    if "crash" in f.name and first_time(f.name):
        with log.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(float(os.environ.get("FAKE_SOFFICE_SECONDS", "0.05")))
    target.write_text(f"%PDF-1.4 {f.name}")
record["end"] = time.time()
with log.open("a") as fh:
    fh.write(json.dumps(record) + "\n")
"""


@pytest.fixture
def fake_soffice(monkeypatch, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    program = tmp_path / "bin" / "soffice"
    program.parent.mkdir()
    program.write_text(f"#!{sys.executable}\n{FAKE_SOFFICE}", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CCHC_SOFFICE", str(program))
    monkeypatch.setenv("FAKE_SOFFICE_STATE", str(state))
    return state


def _calls(state: Path) -> list[dict]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]


def _docx(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = [folder / f"{name}.docx" for name in names]
    for path in paths:
        path.write_bytes(b"PK stand-in")
    return paths


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_a_hung_converter_is_killed_with_its_children_and_restarted(fake_soffice, tmp_path):
    files = _docx(tmp_path / "in", "a", "hang", "b")
    out = tmp_path / "out"
    out.mkdir()
    started = time.monotonic()
    done = pdf.convert_batch(files, out, workers=1, timeout=1.5)
    assert time.monotonic() - started < 30
    assert done.failed == []
    assert done.pdfs == [out / "a.pdf", out / "hang.pdf", out / "b.pdf"]
    assert (out / "hang.pdf").read_text() == "%PDF-1.4 hang.docx"  # not the half-written one
    assert done.restarts == 1
    hung, again = _calls(fake_soffice)
    assert hung["files"] == ["a.docx", "hang.docx", "b.docx"]
    assert again["files"] == ["hang.docx", "b.docx"]  # a.pdf was finished: not redone
    assert again["profile"] != hung["profile"]  # a fresh profile after the kill
    assert not _alive(hung["pid"]) and not _alive(hung["child"])


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_a_crashed_converter_is_restarted_with_the_files_it_had_left(fake_soffice, tmp_path):
    files = _docx(tmp_path / "in", "a", "crash", "b")
    out = tmp_path / "out"
    out.mkdir()
    done = pdf.convert_batch(files, out, workers=1, timeout=30)
    assert done.failed == []
    assert [p.name for p in done.pdfs] == ["a.pdf", "crash.pdf", "b.pdf"]
    assert done.restarts == 1
    crashed, again = _calls(fake_soffice)
    assert again["files"] == ["crash.docx", "b.docx"]


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_a_file_that_hangs_every_time_is_given_up_and_the_rest_converted(fake_soffice, tmp_path):
    files = _docx(tmp_path / "in", "a", "always-hang", "b")
    out = tmp_path / "out"
    out.mkdir()
    done = pdf.convert_batch(files, out, workers=1, timeout=1.0, retries=1)
    assert done.pdfs == [out / "a.pdf", out / "b.pdf"]
    [(failed, why)] = done.failed
    assert failed.name == "always-hang.docx" and "treo" in why
    assert not (out / "always-hang.pdf").exists()  # no half-written PDF left behind
    calls = _calls(fake_soffice)
    assert [c["files"][0] for c in calls] == ["a.docx", "always-hang.docx", "b.docx"]
    assert "always-hang.docx" in done.message()
    with pytest.raises(pdf.PdfUnavailable, match="always-hang.docx"):
        pdf.convert_to_pdf(files, out, timeout=1.0)


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_an_unreadable_file_is_reported_without_a_retry(fake_soffice, tmp_path):
    files = _docx(tmp_path / "in", "a", "broken", "b")
    out = tmp_path / "out"
    out.mkdir()
    done = pdf.convert_batch(files, out, workers=1)
    assert [p.name for p in done.pdfs] == ["a.pdf", "b.pdf"]
    [(failed, why)] = done.failed
    assert failed.name == "broken.docx" and "could not be loaded" in why
    assert len(_calls(fake_soffice)) == 1


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_converters_run_in_parallel_each_on_its_own_profile(fake_soffice, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SOFFICE_SECONDS", "0.4")
    files = _docx(tmp_path / "in", "f1", "f2", "f3", "f4")
    out = tmp_path / "out"
    out.mkdir()
    seen = []
    done = pdf.convert_batch(
        files,
        out,
        workers=2,
        progress=lambda n, total: seen.append((n, total, threading.get_ident())),
    )
    assert done.converters == 2 and [p.name for p in done.pdfs] == [
        f"f{n}.pdf" for n in range(1, 5)
    ]
    one, two = _calls(fake_soffice)
    assert one["profile"] != two["profile"]
    assert sorted(one["files"] + two["files"]) == [f.name for f in files]
    assert len(one["files"]) == len(two["files"]) == 2  # shared out evenly
    assert one["start"] < two["end"] and two["start"] < one["end"]  # at the same time
    # progress: every file once, in order, reported in the calling thread
    assert [(n, total) for n, total, _ in seen] == [(n, 4) for n in range(0, 5)]
    assert {ident for *_, ident in seen} == {threading.get_ident()}


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_a_module_named_as_the_standard_librarys_in_the_working_folder_is_not_imported(
    fake_soffice, tmp_path, monkeypatch
):
    """The watcher of each converter is a new Python: an officer's folder holding a
    subprocess.py must not become the watcher's subprocess module."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "subprocess.py").write_text("raise ImportError('not this one')\n")
    monkeypatch.chdir(tmp_path / "work")
    files = _docx(tmp_path / "in", "a")
    out = tmp_path / "out"
    out.mkdir()
    done = pdf.convert_batch(files, out, workers=1, timeout=30)
    assert (done.pdfs, done.failed) == ([out / "a.pdf"], [])


def test_files_are_shared_out_by_size(tmp_path):
    sizes = {"big": 900, "s1": 300, "s2": 300, "s3": 300}
    files = []
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
        files.append(tmp_path / name)
    groups = pdf._share_out(files, 2)
    assert sorted([p.name for p in g] for g in groups) == [["big"], ["s1", "s2", "s3"]]


def test_real_libreoffice_two_converters_each_with_its_own_profile(tmp_path, monkeypatch):
    import docx

    monkeypatch.setenv("CCHC_SOFFICE", soffice_or_skip())
    folder = tmp_path / "in"
    folder.mkdir()
    files = []
    for n in range(1, 4):
        document = docx.Document()
        document.add_paragraph(f"Thư số {n}: Nguyễn Thị Ngọc Diệp")
        files.append(folder / f"thu-{n}.docx")
        document.save(files[-1])
    profiles = tmp_path / "profiles"
    seen = []
    done = pdf.convert_batch(
        files, tmp_path, workers=2, profile_root=profiles, progress=lambda n, t: seen.append(n)
    )
    assert done.failed == [] and done.converters == 2
    assert [pdf_pages(p) for p in done.pdfs] == [1, 1, 1]
    assert seen == [0, 1, 2, 3]
    # each converter made its own LibreOffice profile
    made = sorted(p.name for p in profiles.iterdir() if p.is_dir())
    assert made == ["converter-1-0", "converter-2-0"]
    assert all((profiles / name / "user").is_dir() for name in made)


@pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a script with a #! line")
def test_generate_pdf_converts_every_print_file_and_names_the_one_it_could_not(
    fake_soffice, tmp_path, monkeypatch
):
    from datetime import date

    from cchc_letters.pipeline import BatchOptions, run_batch

    sample = Path(__file__).resolve().parent.parent / "data" / "sample" / "registrations.csv"
    options = BatchOptions(
        inputs=[sample], out_dir=tmp_path / "out", letter_date=date(2026, 11, 27),
        per_file=2, pdf=True,
    )  # fmt: skip
    # Every print file but the second converts: that one hangs every time.
    monkeypatch.setenv("FAKE_SOFFICE_HANG", "khai-sinh-002")
    real_convert = pdf.convert_batch
    monkeypatch.setattr(pdf, "convert_batch", lambda *a, **k: real_convert(*a, **k, timeout=1.0))
    seen = []
    result = run_batch(options, pdf_progress=lambda done, total: seen.append((done, total)))
    files = len(result.files)
    assert files >= 3
    assert seen[0] == (0, files) and seen[-1] == (files, files)
    assert len(result.pdf_files) == files - 1
    assert all(p.is_file() and p.parent == result.batch_dir for p in result.pdf_files)
    assert "khai-sinh-002.pdf" not in {p.name for p in result.pdf_files}
    assert "khai-sinh-002.docx" in result.pdf_message and "treo" in result.pdf_message
    assert len({c["profile"] for c in _calls(fake_soffice)}) >= 2  # two converters at least
