"""The fast batch path writes the same letters as the usual docxtpl path, and stays correct at scale.

The fast path (templates compiled once, bodies streamed into one document.xml per print file,
written by two processes for large batches) must not change a single letter: same text, same
layout as docxtpl rendering each letter on its own. Speed itself is measured by
benchmarks/bench_batch.py, never asserted here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

import cchc_letters.pipeline as pipeline
import cchc_letters.writing as writing
from cchc_letters.enrich import letter_context
from cchc_letters.ingest import read_inputs
from cchc_letters.models import Kind
from cchc_letters.output import PrintFile, write_single_letter
from cchc_letters.profile import load_profile
from cchc_letters.render import LetterTemplate, jinja_environment, template_path
from cchc_letters.schedule import load_versions, version_for
from cchc_letters.validate import validate_rows

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "registrations.csv"
LETTER_DATE = date(2026, 11, 27)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
STEMS = {"birth": "khai-sinh", "marriage": "ket-hon", "death": "khai-tu"}


# ---------------------------------------------------------------- reading letters back


def _body(docx: bytes | Path) -> etree._Element:
    data = docx.read_bytes() if isinstance(docx, Path) else docx
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return etree.fromstring(package.read("word/document.xml")).find(f"{W}body")


def _letters(docx: bytes | Path) -> list[list[etree._Element]]:
    """Return the body's block elements cut into letters at each section break."""
    letters: list[list[etree._Element]] = [[]]
    for element in _body(docx):
        if element.tag == f"{W}sectPr":
            continue
        if element.tag == f"{W}p" and element.find(f"{W}pPr/{W}sectPr") is not None:
            letters.append([])  # the break paragraph between two letters
            continue
        letters[-1].append(element)
    return letters


def _val(element: etree._Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    return found.get(f"{W}val", "true") if found is not None else None


def _paragraph(p: etree._Element) -> tuple:
    """Return a paragraph's text and the formatting a reader sees, run by run."""
    ppr = p.find(f"{W}pPr")
    runs = []
    for run in p.iter(f"{W}r"):
        text = "".join(t.text or "" for t in run.iter(f"{W}t"))
        rpr = run.find(f"{W}rPr")
        fonts = rpr.find(f"{W}rFonts") if rpr is not None else None
        runs.append(
            (
                text,
                _val(rpr, f"{W}b"),
                _val(rpr, f"{W}i"),
                _val(rpr, f"{W}u"),
                _val(rpr, f"{W}sz"),
                None if fonts is None else tuple(sorted(fonts.attrib.items())),
            )
        )
    return (
        "p",
        _val(ppr, f"{W}pStyle"),
        _val(ppr, f"{W}jc"),
        None
        if ppr is None or ppr.find(f"{W}spacing") is None
        else dict(ppr.find(f"{W}spacing").attrib),
        None if ppr is None or ppr.find(f"{W}ind") is None else dict(ppr.find(f"{W}ind").attrib),
        tuple(runs),
    )


def _layout(elements: list[etree._Element]) -> list[tuple]:
    """Return each paragraph (with runs and formatting) and each table (rows of cells)."""
    blocks = []
    for element in elements:
        if element.tag == f"{W}p":
            blocks.append(_paragraph(element))
        elif element.tag == f"{W}tbl":
            grid = tuple(c.get(f"{W}w") for c in element.iter(f"{W}gridCol"))
            rows = tuple(
                tuple(
                    tuple(_paragraph(p) for p in cell.iter(f"{W}p")) for cell in row.iter(f"{W}tc")
                )
                for row in element.iter(f"{W}tr")
            )
            blocks.append(("tbl", grid, rows))
    return blocks


def _text(elements: list[etree._Element]) -> str:
    return " ".join("".join(t.text or "" for t in e.iter(f"{W}t")) for e in elements)


# ---------------------------------------------------------------- same letters as docxtpl


@pytest.fixture(scope="module")
def sample():
    profile = load_profile(None)
    registrations = validate_rows(read_inputs([SAMPLE]).rows, letter_date=LETTER_DATE)
    version = version_for(LETTER_DATE, load_versions())
    return profile, registrations.registrations, version


def _docxtpl_letter(kind: Kind, context: dict) -> bytes:
    """The usual way: docxtpl renders the template for one letter."""
    from docxtpl import DocxTemplate

    document = DocxTemplate(str(template_path(kind)))
    document.render(context, jinja_env=jinja_environment(), autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", list(Kind))
def test_fast_path_writes_the_same_letters_as_docxtpl(kind, sample, tmp_path):
    profile, registrations, version = sample
    of_kind = [r for r in registrations if r.kind is kind]
    assert len(of_kind) >= 2, "the sample has at least two letters of each kind"
    template = LetterTemplate.load(template_path(kind))
    contexts = [letter_context(r, profile, LETTER_DATE, version) for r in of_kind]
    slow = [_layout(_letters(_docxtpl_letter(kind, c))[0]) for c in contexts]

    # One print file holding all of them, one letter per section.
    with PrintFile(template, tmp_path / "print.docx") as print_file:
        for context in contexts:
            print_file.add(template.render_body(context, print_file.count))
    fast = [_layout(letter) for letter in _letters(tmp_path / "print.docx")]
    assert fast == slow

    # One file per letter (--per-letter).
    for number, context in enumerate(contexts):
        path = tmp_path / f"letter-{number}.docx"
        write_single_letter(template, path, template.render_body(context))
        assert [_layout(x) for x in _letters(path)] == [slow[number]]

    # The page set-up is the template's, for every letter.
    final = _body(tmp_path / "print.docx").find(f"{W}sectPr")
    slow_final = _body(_docxtpl_letter(kind, contexts[0])).find(f"{W}sectPr")
    for tag in ("pgSz", "pgMar"):
        assert dict(final.find(f"{W}{tag}").attrib) == dict(slow_final.find(f"{W}{tag}").attrib)


def test_a_value_with_markup_characters_reaches_the_letter_intact(sample, tmp_path):
    profile, registrations, version = sample
    birth = next(r for r in registrations if r.kind is Kind.BIRTH)
    context = letter_context(birth, profile, LETTER_DATE, version)
    context["address"] = "Tổ 3 & 4, <ấp> Bình Ba"
    template = LetterTemplate.load(template_path(Kind.BIRTH))
    write_single_letter(template, tmp_path / "one.docx", template.render_body(context))
    assert "Tổ 3 & 4, <ấp> Bình Ba" in _text(_letters(tmp_path / "one.docx")[0])
    assert _layout(_letters(tmp_path / "one.docx")[0]) == _layout(
        _letters(_docxtpl_letter(Kind.BIRTH, context))[0]
    )


# ---------------------------------------------------------------- correctness at scale

GIVEN = "An Bình Châu Dũng Giang Hà Hải Hiền Khang Lan Linh Minh Nam Ngân Phúc Quân Tâm Thảo Trí Vy"
GIVEN = GIVEN.split()


def _scaled_input(path: Path, births: int, marriages: int, deaths: int) -> Path:
    """Write a mixed CSV: the sample's rows repeated with distinct numbers and names,
    the three kinds interleaved (so "input order within each kind" means something)."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    templates = {
        k: [r for r in rows if r["kind"] == k] for k in ("khai sinh", "kết hôn", "khai tử")
    }
    wanted = {"khai sinh": births, "kết hôn": marriages, "khai tử": deaths}
    made = {k: 0 for k in wanted}
    out = []
    while any(made[k] < wanted[k] for k in wanted):
        for kind in wanted:
            if made[kind] >= wanted[kind]:
                continue
            i = made[kind]
            row = dict(templates[kind][i % len(templates[kind])])
            tag = f"{GIVEN[i // len(GIVEN) % len(GIVEN)]} {GIVEN[i % len(GIVEN)]}"
            row["registration_number"] = f"{i + 1:05d}"
            for name in ("child_name", "husband_name", "deceased_name"):
                if row[name]:
                    row[name] = f"{row[name].split()[0]} {tag}"
            if row["father_name"]:
                row["father_name"] = f"Nguyễn Văn {tag}"
            out.append(row)
            made[kind] += 1
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(out)
    return path


def _run_cli(*args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "cchc_letters", "generate", *args, "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _manifest(batch: Path) -> list[dict]:
    with (batch / "manifest.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory):
    """640 letters (parallel path), 100 per print file, from one mixed CSV."""
    tmp = tmp_path_factory.mktemp("scale")
    source = _scaled_input(tmp / "mixed.csv", births=420, marriages=130, deaths=90)
    result = _run_cli(
        str(source), "--out", str(tmp / "out"), "--date", LETTER_DATE.isoformat(),
        "--per-file", "100",
    )  # fmt: skip
    return result, Path(result["batch_dir"])


def test_print_files_at_scale_hold_exactly_the_manifest_letters_in_input_order(big_batch):
    import docx

    result, batch = big_batch
    assert result["letters"] == {"birth": 420, "marriage": 130, "death": 90}
    assert sum(result["letters"].values()) >= writing.PARALLEL_MIN_LETTERS  # parallel path
    manifest = _manifest(batch)
    assert len(manifest) == 640
    expected_files = [
        f"{STEMS[kind]}-{n:03d}.docx"
        for kind, count in (("birth", 420), ("marriage", 130), ("death", 90))
        for n in range(1, -(-count // 100) + 1)
    ]
    assert [Path(f).name for f in result["files"]] == expected_files
    # every print file, and besides them only the delivery sheet (giao-thu.docx)
    assert sorted(p.name for p in batch.glob("*.docx")) == sorted(
        [*expected_files, "giao-thu.docx"]
    )

    for kind in ("birth", "marriage", "death"):
        rows = [m for m in manifest if m["kind"] == kind]
        # input order within the kind: source rows ascending, numbers 1..n
        assert [int(m["source_row"]) for m in rows] == sorted(int(m["source_row"]) for m in rows)
        assert [int(m["registration_number"]) for m in rows] == list(range(1, len(rows) + 1))

    for name in expected_files:
        path = batch / name
        rows = [m for m in manifest if m["print_file"] == name]
        assert [int(m["position"]) for m in rows] == list(range(1, len(rows) + 1))
        opened = docx.Document(str(path))  # opens in python-docx
        assert len(opened.sections) == len(rows)  # one section (and page) per letter
        letters = _letters(path)
        assert len(letters) == len(rows)
        for letter, row in zip(letters, rows, strict=True):
            assert row["addressee"] and row["addressee"] in _text(letter)
        with zipfile.ZipFile(path) as package:
            assert package.testzip() is None


def test_parallel_and_serial_paths_write_identical_files(tmp_path, monkeypatch):
    from cchc_letters.processes import can_fork

    if not can_fork():
        pytest.skip("writers are forked only on Linux and macOS, with a second core")
    source = _scaled_input(tmp_path / "mixed.csv", births=90, marriages=40, deaths=30)
    writers = tmp_path / "writers.txt"  # the process of each print file written
    write_jobs = writing.write_jobs

    def noted(*args, **kwargs):  # (a forked writer inherits it: nothing to pickle)
        with writers.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return write_jobs(*args, **kwargs)

    monkeypatch.setattr(writing, "write_jobs", noted)
    outputs, wrote_in = {}, {}
    for mode, threshold in (("serial", 10**9), ("parallel", 0)):
        monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", threshold)
        options = pipeline.BatchOptions(
            inputs=[source], out_dir=tmp_path / mode, letter_date=LETTER_DATE, per_file=25
        )
        result = pipeline.run_batch(options)
        outputs[mode] = result.batch_dir
        wrote_in[mode] = set(writers.read_text().split())
        writers.unlink()
    assert wrote_in["serial"] == {str(os.getpid())}
    assert wrote_in["parallel"] and str(os.getpid()) not in wrote_in["parallel"]  # forked
    serial, parallel = outputs["serial"], outputs["parallel"]
    names = sorted(p.name for p in serial.iterdir())
    assert names == sorted(p.name for p in parallel.iterdir())
    assert len([n for n in names if n.endswith(".docx")]) == 4 + 2 + 2 + 1  # + giao-thu.docx
    for name in names:
        assert (serial / name).read_bytes() == (parallel / name).read_bytes(), name


def test_per_letter_writes_one_docx_per_letter(tmp_path):
    import docx

    source = _scaled_input(tmp_path / "mixed.csv", births=12, marriages=5, deaths=4)
    result = _run_cli(
        str(source), "--out", str(tmp_path / "out"), "--date", LETTER_DATE.isoformat(),
        "--per-letter",
    )  # fmt: skip
    batch = Path(result["batch_dir"])
    manifest = _manifest(batch)
    assert len(result["files"]) == len(manifest) == 21
    assert [m["print_file"] for m in manifest] == [Path(f).name for f in result["files"]]
    assert manifest[0]["print_file"] == "khai-sinh-thu-00001.docx"
    for row in manifest:
        assert row["position"] == "1"
        path = batch / row["print_file"]
        assert len(docx.Document(str(path)).sections) == 1
        assert row["addressee"] in _text(_letters(path)[0])


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def test_libreoffice_counts_one_page_per_letter(big_batch, tmp_path):
    if _soffice() is None or shutil.which("pdfinfo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) and pdfinfo must be installed in CI")
        pytest.skip("LibreOffice or pdfinfo not installed")
    _, batch = big_batch
    files = [batch / "khai-sinh-001.docx", batch / "ket-hon-002.docx", batch / "khai-tu-001.docx"]
    subprocess.run(
        [
            _soffice(),
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    manifest = _manifest(batch)
    for file in files:
        info = subprocess.run(
            ["pdfinfo", str(tmp_path / (file.stem + ".pdf"))],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)[1])
        assert pages == sum(1 for m in manifest if m["print_file"] == file.name), file.name


@pytest.mark.parametrize("threshold", [10**9, 0], ids=["serial", "parallel"])
def test_progress_is_reported_after_every_letter(tmp_path, monkeypatch, threshold):
    monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", threshold)
    source = _scaled_input(tmp_path / "mixed.csv", births=30, marriages=7, deaths=5)
    seen, partial_at_first = [], []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 1:  # the ledger's crash tests pause here, with a print file half-written
            partial_at_first.extend(tmp_path.glob("out/.incomplete-*/*.docx.part"))

    options = pipeline.BatchOptions(
        inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE, per_file=10
    )
    pipeline.run_batch(options, progress=progress)
    assert seen == [(n, 42) for n in range(1, 43)]
    if threshold:
        assert partial_at_first


@pytest.mark.parametrize("threshold", [10**9, 0], ids=["serial", "parallel"])
def test_a_letter_failing_half_way_leaves_no_batch_behind(tmp_path, monkeypatch, threshold):
    from cchc_letters import enrich
    from cchc_letters.errors import TemplateProblem

    monkeypatch.setattr(writing, "PARALLEL_MIN_LETTERS", threshold)
    real = enrich.letter_context

    def failing(registration, *args, **kwargs):
        if registration.kind is Kind.BIRTH and registration.number == "00025":
            raise TemplateProblem("birth.docx: broken on the 25th letter")
        return real(registration, *args, **kwargs)

    monkeypatch.setattr(enrich, "letter_context", failing)
    source = _scaled_input(tmp_path / "mixed.csv", births=40, marriages=5, deaths=5)
    options = pipeline.BatchOptions(
        inputs=[source], out_dir=tmp_path / "out", letter_date=LETTER_DATE, per_file=10
    )
    with pytest.raises(TemplateProblem, match="25th letter"):
        pipeline.run_batch(options)
    out = tmp_path / "out"
    # No batch folder, no staging folder, no partial file (a ledger may live there).
    assert not [p for p in out.iterdir() if p.name.startswith(("batch-", ".incomplete-"))]
    assert not list(out.rglob("*.part"))


def test_memoised_schedule_is_the_computed_one(sample):
    from datetime import timedelta

    from cchc_letters import schedule

    profile, _, version = sample
    for days in (0, 1, 45, 200, 364):
        dob = LETTER_DATE - timedelta(days=days)
        first = schedule.child_schedule(dob, LETTER_DATE, profile, version)
        assert schedule.child_schedule(dob, LETTER_DATE, profile, version) is first
        assert first == schedule._child_schedule(dob, LETTER_DATE, profile, version)
    # Another profile object (a re-loaded or edited profile) is never served a stale plan.
    dob = LETTER_DATE - timedelta(days=45)
    cached = schedule.child_schedule(dob, LETTER_DATE, profile, version)
    other = load_profile(None)
    fresh = schedule.child_schedule(dob, LETTER_DATE, other, version)
    assert fresh is not cached and fresh == cached
