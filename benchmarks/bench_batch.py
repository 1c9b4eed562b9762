"""Side-by-side speed run: `cchc-letters generate` against docx-mailmerge2 and docxtpl+docxcompose.

Usage (from a checkout):

    python benchmarks/bench_batch.py                       # the full run (see --help)
    python benchmarks/bench_batch.py --sizes 200 2000 --large 0
    python benchmarks/bench_batch.py --mailmerge-size 2000 --baseline-size 300
    python benchmarks/bench_batch.py --json results.json   # also write the figures as JSON

The script writes its own input (an XLSX of N valid birth registrations with realistic
Vietnamese names: birth letters are the heaviest, with the vaccination schedule table), then

* runs the two peers, each in its own child process, on the same input, reading, validation
  and letter context as the tool: docx-mailmerge2 (the fastest Python mail merge: our birth
  template with MERGEFIELDs, every record merged into one file, a section break between
  letters; default 2,000 letters) and docxtpl + docxcompose (docxtpl renders each letter as its
  own document, docxcompose appends them into one file; default 300 letters, also at half that
  to show it grows worse than linearly);
* runs this tool exactly as a user does, as a child process
  (``python -m cchc_letters generate INPUT --out DIR --date D --json``), timed from start to
  exit, at each size and at each peer's size (a ratio at the same size, start-up included);
* runs the same letters from a CSV, ``generate --per-letter``, a 10-letter daily batch, and
  once a 100,000-letter batch (a province's year) to show that memory stays flat, then daily
  batches of 10 new letters into the folder whose ledger holds it;
* prints letters per second, the memory of the largest process and the ratio to each peer on
  every line, and the ratios again at the end.

Each measurement is a fresh process, so peak memory figures do not contaminate each other.
Every process runs with its modules' bytecode, as an installed package has it (pip compiles
it): ``PYTHONDONTWRITEBYTECODE`` is dropped and the bytecode goes to a folder of the run's
own (``PYTHONPYCACHEPREFIX``, nothing written to the checkout), filled by an untimed warm-up
run of the tool and of each peer's imports; without it every run of the tool compiled all its
modules (0.3-0.4 s) while the peers read their installed bytecode.
Nothing here is asserted: the figures are for reading (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where the measured processes keep their bytecode (``main`` sets it to a folder of the run).
BYTECODE: Path | None = None
LETTER_DATE = date(2026, 11, 27)

# ------------------------------------------------------------------ realistic input data

# Surnames weighted roughly as in the population (Nguyễn about 38 %).
SURNAMES = (
    "Nguyễn " * 38
    + "Trần " * 11
    + "Lê " * 9
    + "Phạm " * 7
    + "Hoàng " * 5
    + "Huỳnh " * 5
    + "Phan " * 4
    + "Vũ " * 4
    + "Võ " * 4
    + "Đặng Đặng Bùi Bùi Đỗ Đỗ "
    + "Hồ Ngô Dương Lý Đinh Trương Lâm Mai Tô Châu"
).split()
MIDDLE_MALE = "Văn Hữu Đức Minh Quốc Gia Hoàng Thành Công Anh".split()
MIDDLE_FEMALE = "Thị Ngọc Thu Kim Thanh Bảo Mỹ Hồng Phương Khánh".split()
GIVEN_MALE = "Bảo Khang Phúc An Minh Huy Khoa Nam Đạt Tuấn Hưng Long Quân Trí Duy Sơn Thịnh Lộc Nhân Vĩnh".split()
GIVEN_FEMALE = "Nhiên Diệp Ngân Trang Vy Linh Hân Thảo My Nhi Yến Hương Lan Mai Quỳnh Châu Anh Hằng Uyên Tâm".split()
PLACES = [
    "Trạm Y tế xã Ngãi Giao",
    "Trung tâm Y tế khu vực Châu Đức",
    "Bệnh viện Bà Rịa",
    "Bệnh viện Từ Dũ, Thành phố Hồ Chí Minh",
]
HAMLETS = [
    "Ấp Suối Nghệ",
    "Ấp Bình Ba",
    "Khu phố Ngãi Giao",
    "Ấp Vĩnh Bình",
    "Tổ 3 & 4, ấp Liên Lộc",  # an ampersand, which must reach the letter intact
]
# Headings as the registry's birth book export writes them, mixed with canonical names.
HEADINGS = [
    "Số đăng ký",
    "Quyển số",
    "Ngày đăng ký",
    "Họ, chữ đệm và tên",
    "Giới tính",
    "Ngày, tháng, năm sinh",
    "Nơi sinh",
    "Họ tên mẹ",
    "Năm sinh mẹ",
    "mother_residence",
    "Họ tên cha",
    "father_birth",
    "father_residence",
    "informant_name",
    "informant_relation",
]


def _name(rng: random.Random, male: bool, surname: str | None = None) -> str:
    middle = rng.choice(MIDDLE_MALE if male else MIDDLE_FEMALE)
    given = rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    extra = f" {rng.choice(MIDDLE_MALE if male else MIDDLE_FEMALE)}" if rng.random() < 0.3 else ""
    return f"{surname or rng.choice(SURNAMES)} {middle}{extra} {given}"


def birth_rows(count: int, seed: int = 7, first: int = 1) -> list[list[str]]:
    """Return ``count`` valid birth registrations (registered in the 12 months to the letter
    date), numbered from ``first``."""
    rng = random.Random(seed)
    rows = []
    for number in range(first, first + count):
        registered = LETTER_DATE - timedelta(days=rng.randrange(0, 365))
        born = registered - timedelta(days=rng.randrange(0, 60))
        male = rng.random() < 0.51
        father_surname = rng.choice(SURNAMES)
        has_father = rng.random() < 0.93
        mother = _name(rng, False)
        father = _name(rng, True, father_surname) if has_father else ""
        child = _name(rng, male, father_surname if has_father else mother.split()[0])
        residence = f"{rng.choice(HAMLETS)}, xã Ngãi Giao, Thành phố Hồ Chí Minh"
        shout = rng.random() < 0.2  # some exports write names in capitals
        rows.append(
            [
                f"{number:05d}",
                f"{(number - 1) // 2000 + 1:02d}/{registered.year}",
                registered.strftime("%d/%m/%Y"),
                child.upper() if shout else child,
                "Nam" if male else "Nữ",
                born.strftime("%d/%m/%Y"),
                rng.choice(PLACES),
                mother.upper() if shout else mother,
                str(rng.randint(1985, 2004)),
                residence,
                father,
                str(rng.randint(1980, 2002)) if has_father else "",
                residence if has_father else "",
                father or mother,
                "cha" if has_father else "mẹ",
            ]
        )
    return rows


def write_csv(path: Path, count: int, seed: int = 7, first: int = 1) -> Path:
    """Write the same births as a UTF-8 CSV (to separate XLSX reading from the rest)."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADINGS)
        writer.writerows(birth_rows(count, seed, first))
    return path


def write_apart(path: Path, count: int, seed: int = 7, first: int = 1) -> Path:
    """``write_xlsx`` (or ``write_csv``, for a .csv ``path``) in a child process. Written
    here, 100,000 rows grew this process to about 150 MB, and every child it started later
    reported at least that much as its peak (wait4's ru_maxrss counts what a forked child
    holds before it execs)."""
    subprocess.run(
        [sys.executable, __file__, "--write-child", str(path), str(count), str(seed), str(first)],
        check=True,
    )
    return path


def write_xlsx(path: Path, count: int, seed: int = 7, first: int = 1) -> Path:
    """Write an XLSX of ``count`` births (sheet "Khai sinh"), as the registry exports it."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Khai sinh")
    sheet.append(HEADINGS)
    for row in birth_rows(count, seed, first):
        sheet.append(row)
    book.save(path)
    return path


# ------------------------------------------------------------------ measuring child processes


# How often the tree's memory is sampled. Reading a process's PSS (/proc/PID/smaps) costs
# about 2.6 ms of kernel time for a 140 MB process: every 20 ms, with the tool's parent and
# its two writers, that was a third of a core taken from a tool that uses both cores (and
# from none that uses one, as the peers do). Every 250 ms it is about 3 %.
SAMPLE_SECONDS = 0.25


def _tree_memory_sampler(pid: int, peak: dict, stop: threading.Event) -> None:
    """Record the peak memory of a process and its children (psutil, every SAMPLE_SECONDS).

    The tool forks worker processes for large batches, and ``getrusage`` reports only the
    largest single process. ``tree_rss`` sums RSS over the tree, counting pages shared after
    fork once per process (an upper bound); ``tree_pss`` sums PSS, which shares them out
    (what the machine really holds; Linux only).
    """
    import psutil

    try:
        root = psutil.Process(pid)
        while not stop.is_set():
            rss = pss = 0
            for proc in [root, *root.children(recursive=True)]:
                try:
                    if sys.platform == "linux":
                        info = proc.memory_full_info()
                        pss += info.pss
                    else:
                        info = proc.memory_info()
                    rss += info.rss
                except psutil.Error:
                    pass
            peak["tree_rss"] = max(peak.get("tree_rss", 0), rss)
            peak["tree_pss"] = max(peak.get("tree_pss", 0), pss)
            stop.wait(SAMPLE_SECONDS)
    except psutil.Error:
        pass


def run_measured(command: list[str], cwd: Path) -> dict:
    """Run ``command`` to exit; return wall seconds, peak memory in MB and its stdout.

    ``cwd`` is the checkout whose package the command runs (it is also put on PYTHONPATH).

    ``peak_rss_mb`` is the largest single process, from wait4()'s rusage of that one child
    (which includes its reaped workers; Linux reports ru_maxrss in KiB); ``tree_rss_mb`` and
    ``tree_pss_mb`` are the sampled peaks over the child and its workers together (psutil).
    """
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if BYTECODE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    peak: dict = {}
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        stop = threading.Event()
        sampler = threading.Thread(target=_tree_memory_sampler, args=(proc.pid, peak, stop))
        if importlib.util.find_spec("psutil"):
            sampler.start()
        # Reap the child ourselves: wait4 gives that one child's resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        stop.set()
        if sampler.is_alive():
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 3):
        raise SystemExit(
            f"{' '.join(command)} failed ({proc.returncode}):\n{stderr.decode(errors='replace')}"
        )
    factor = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    single = usage.ru_maxrss * factor / 1e6
    return {
        "seconds": seconds,
        "peak_rss_mb": single,
        "tree_rss_mb": peak.get("tree_rss", 0) / 1e6,
        "tree_pss_mb": peak.get("tree_pss", 0) / 1e6,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # with its reaped workers
        "load": (load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0),
        "stdout": stdout.decode("utf-8", errors="replace"),
    }


def run_tool(xlsx: Path, out: Path, *extra: str, repeat: int = 1) -> dict:
    """Run `generate` ``repeat`` times; return the median run (by wall time).

    Each run writes to a fresh folder: a second run into the same --out would find every
    letter in that folder's ledger and print nothing.
    """
    runs = [_run_tool_once(xlsx, out / f"run-{n}", *extra) for n in range(1, repeat + 1)]
    runs.sort(key=_seconds)
    if any(r["letters"] != runs[0]["letters"] for r in runs):
        raise SystemExit(f"runs printed different numbers of letters: {runs}")
    median = runs[len(runs) // 2]
    median["runs_seconds"] = [round(r["seconds"], 3) for r in runs]
    return median


def _seconds(run: dict) -> float:
    return run["seconds"]


def _run_tool_once(xlsx: Path, out: Path, *extra: str, root: Path = ROOT) -> dict:
    command = [
        sys.executable,
        "-m",
        "cchc_letters",
        "generate",
        str(xlsx),
        "--out",
        str(out),
        "--date",
        LETTER_DATE.isoformat(),
        "--kind",
        "birth",
        "--json",
        *extra,
    ]
    measured = run_measured(command, root)
    result = json.loads(measured.pop("stdout"))
    measured["letters"] = sum(result["letters"].values())
    measured["files"] = len(result["files"])
    return measured


def compare_checkouts(xlsx: Path, out: Path, other: Path, repeat: int, *extra: str) -> dict:
    """Run `generate` alternately from this checkout and from ``other`` (``repeat`` times each,
    in turns, so both see the same load); return the median CPU and wall seconds of each."""
    runs: dict[str, list[dict]] = {"this": [], "other": []}
    _run_tool_once(xlsx, out / "warm-up", *extra, root=other)  # its bytecode, untimed
    for n in range(1, repeat + 1):
        for which, root in (("this", ROOT), ("other", other)):
            run = _run_tool_once(xlsx, out / f"{which}-{n}", *extra, root=root)
            runs[which].append(run)
    if len({r["letters"] for rs in runs.values() for r in rs}) != 1:
        raise SystemExit(f"the two checkouts printed different numbers of letters: {runs}")

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return {
        which: {
            "letters": rs[0]["letters"],
            "cpu_seconds": median([r["cpu_seconds"] for r in rs]),
            "seconds": median([r["seconds"] for r in rs]),
            "runs_cpu_seconds": [round(r["cpu_seconds"], 3) for r in rs],
        }
        for which, rs in runs.items()
    }


# ------------------------------------------------------------------ the naive way (child)


def baseline_child(xlsx: Path, out: Path, count: int) -> None:
    """The usual way: docxtpl renders each letter, docxcompose appends them into one file.

    Same reading, validation and context as the tool (so the comparison is about rendering
    and assembling, not about reading), with the template rendered the way docxtpl's README
    shows, autoescape on (without it a ``&`` in an address corrupts the file), and a page
    break before each appended letter (docxcompose adds none itself).
    """
    from docx.enum.text import WD_BREAK
    from docxcompose.composer import Composer
    from docxtpl import DocxTemplate

    from cchc_letters.enrich import letter_context
    from cchc_letters.ingest import read_inputs
    from cchc_letters.models import Kind
    from cchc_letters.profile import load_profile
    from cchc_letters.render import jinja_environment, template_path
    from cchc_letters.schedule import load_versions, version_for
    from cchc_letters.validate import validate_rows

    start = time.perf_counter()
    profile = load_profile(None)
    read = read_inputs([xlsx], kind=Kind.BIRTH)
    registrations = validate_rows(read.rows, letter_date=LETTER_DATE).registrations[:count]
    version = version_for(LETTER_DATE, load_versions())
    env = jinja_environment()
    path = template_path(Kind.BIRTH, profile.templates_dir)
    prepared = time.perf_counter()

    letters_dir = out / "letters"
    letters_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for number, registration in enumerate(registrations, start=1):
        context = letter_context(registration, profile, LETTER_DATE, version)
        doc = DocxTemplate(str(path))
        doc.render(context, jinja_env=env, autoescape=True)
        files.append(letters_dir / f"{number:05d}.docx")
        doc.save(files[-1])
    rendered = time.perf_counter()

    from docx import Document

    master = Document(str(files[0]))
    composer = Composer(master)
    for file in files[1:]:
        master.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        composer.append(Document(str(file)))
    composer.save(str(out / "khai-sinh-baseline.docx"))
    done = time.perf_counter()
    json.dump(
        {
            "letters": len(files),
            "prepare_seconds": prepared - start,
            "render_seconds": rendered - prepared,
            "append_seconds": done - rendered,
        },
        sys.stdout,
    )


# ------------------------------------------------------------------ docx-mailmerge2 (child)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


def mailmerge_template(source: Path, dest: Path, context: dict) -> tuple[dict, dict]:
    """Write ``dest``: our birth template with each placeholder text turned into a MERGEFIELD.

    docx-mailmerge2 has no conditions or loops (rows only), so the peer does what its users
    do: every ``<w:t>`` holding placeholders becomes one MERGEFIELD whose value is computed
    per record (here by the same Jinja text, without autoescape: docx-mailmerge2 escapes
    itself); the ``{%p for %}`` header lines become one field per line; the schedule table's
    ``{%tr for %}`` row becomes a merged table row (docx-mailmerge2's row anchor). Styles,
    page set-up and every other part are the template's own, so both tools write the same
    package around the letter. Return the compiled field texts (letter, table row).
    """
    import zipfile

    from jinja2 import Environment, StrictUndefined
    from lxml import etree

    from cchc_letters.render import jinja_environment

    env = Environment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(jinja_environment().filters)
    with zipfile.ZipFile(source) as package:
        root = etree.fromstring(package.read("word/document.xml"))
        parts = [(info, package.read(info.filename)) for info in package.infolist()]
    fields: dict = {}
    row_fields: dict = {}

    def to_field(t, name: str) -> None:
        # A complex field, as Word writes a merge field: docx-mailmerge2 formats the value
        # like the field's instruction run (a w:fldSimple would lose the run's formatting).
        run = t.getparent()
        t.text = f"«{name}»"
        for position, kind in (("before", "begin"), ("before", "instr"), ("before", "separate"),
                               ("after", "end")):  # fmt: skip
            part = etree.fromstring(etree.tostring(run))
            text = part.find(_q("t"))
            if kind == "instr":
                text.tag = _q("instrText")
                text.text = f" MERGEFIELD {name} "
            else:
                part.remove(text)
                etree.SubElement(part, _q("fldChar")).set(_q("fldCharType"), kind)
            (run.addprevious if position == "before" else run.addnext)(part)

    body = root.find(_q("body"))
    for paragraph in list(body.iter(_q("p"))):
        text = "".join(paragraph.itertext()).strip()
        if text.startswith("{%p for line in header."):
            group = text.split("header.", 1)[1].split()[0]
            line_paragraph = paragraph.getnext()
            end = line_paragraph.getnext()
            for n in range(len(context["header"][group])):
                copy = etree.fromstring(etree.tostring(line_paragraph))
                name = f"{group}_{n}"
                to_field(copy.find(f".//{_q('t')}"), name)
                fields[name] = env.from_string(f"{{{{ header.{group}[{n}] }}}}")
                end.addprevious(copy)
            for gone in (paragraph, line_paragraph, end):
                gone.getparent().remove(gone)
    for row in list(body.iter(_q("tr"))):
        text = "".join(row.itertext()).strip()
        if text.startswith("{%tr for visit in"):
            template_row, end = row.getnext(), row.getnext().getnext()
            for n, t in enumerate(template_row.iter(_q("t"))):
                row_fields[f"visit_{n}"] = env.from_string(t.text)
                to_field(t, f"visit_{n}")
            row.getparent().remove(row)
            end.getparent().remove(end)
    for t in list(body.iter(_q("t"))):
        if t.text and ("{{" in t.text or "{%" in t.text):
            name = f"text_{len(fields)}"
            fields[name] = env.from_string(t.text)
            to_field(t, name)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, xml if info.filename == "word/document.xml" else data)
    return fields, row_fields


def mailmerge_child(xlsx: Path, out: Path, count: int) -> None:
    """docx-mailmerge2's way: one MERGEFIELD template, all records merged into one file.

    Same reading, validation and letter context as the tool; a section break before each
    letter (``nextPage_section``, as the tool writes them: each letter keeps its page set-up).
    """
    from mailmerge import MailMerge

    from cchc_letters.enrich import letter_context
    from cchc_letters.ingest import read_inputs
    from cchc_letters.models import Kind
    from cchc_letters.profile import load_profile
    from cchc_letters.render import template_path
    from cchc_letters.schedule import load_versions, version_for
    from cchc_letters.validate import validate_rows

    start = time.perf_counter()
    profile = load_profile(None)
    read = read_inputs([xlsx], kind=Kind.BIRTH)
    registrations = validate_rows(read.rows, letter_date=LETTER_DATE).registrations[:count]
    version = version_for(LETTER_DATE, load_versions())
    out.mkdir(parents=True, exist_ok=True)
    template = out / "birth-mergefields.docx"
    first = letter_context(registrations[0], profile, LETTER_DATE, version)
    fields, row_fields = mailmerge_template(template_path(Kind.BIRTH), template, first)
    prepared = time.perf_counter()

    records = []
    for registration in registrations:
        context = letter_context(registration, profile, LETTER_DATE, version)
        record = {name: text.render(context) for name, text in fields.items()}
        record["visit_0"] = [
            {name: text.render(context, visit=visit) for name, text in row_fields.items()}
            for visit in context["schedule"]["visits"]
        ]
        records.append(record)
    contexts = time.perf_counter()
    with MailMerge(str(template)) as document:
        document.merge_templates(records, separator="nextPage_section")
        document.write(str(out / "khai-sinh-mailmerge.docx"))
    done = time.perf_counter()
    json.dump(
        {
            "letters": len(records),
            "prepare_seconds": prepared - start,
            "context_seconds": contexts - prepared,
            "merge_seconds": done - contexts,
        },
        sys.stdout,
    )


# ------------------------------------------------------------------ the report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        one, five, fifteen = os.getloadavg()
        load = f"; load average {one:.2f} {five:.2f} {fifteen:.2f} at start"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}{load}"
    )


def rate(letters: int, seconds: float) -> float:
    return letters / seconds if seconds else float("inf")


def _memory(run: dict) -> str:
    """Memory, and the CPU time and machine load beside it: on a shared machine the CPU
    seconds (all processes) move far less than the wall time."""
    return (
        f"largest process {run['peak_rss_mb']:.0f} MB (all processes: PSS "
        f"{run['tree_pss_mb']:.0f} MB, RSS {run['tree_rss_mb']:.0f} MB); "
        f"CPU {run['cpu_seconds']:.1f} s; load {run['load'][0]:.1f} -> {run['load'][1]:.1f}"
    )


PEERS = {"mailmerge": "docx-mailmerge2", "baseline": "docxtpl+docxcompose"}


def run_peer(which: str, xlsx: Path, out: Path, count: int) -> dict:
    """Run a peer (``baseline`` or ``mailmerge``) in its own process; return its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), f"--{which}-child"]
    measured = run_measured([*command, str(xlsx), str(out), str(count)], ROOT)
    measured.update(json.loads(measured.pop("stdout")))
    measured["letters_per_s"] = rate(measured["letters"], measured["seconds"])
    return measured


def times(ratio: float) -> str:
    """Return a ratio as "6.2x" below ten, "224x" above."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def ratios(run: dict, peers: dict) -> str:
    """Return "N× docx-mailmerge2, M× docxtpl+docxcompose" for ``run`` against each peer
    (letters per wall second), with the ratio of CPU seconds per letter beside it: on a
    loaded machine the wall ratio moves with the load, the CPU ratio much less (it does not
    credit the tool's second worker process either)."""
    parts = []
    for which, label in PEERS.items():
        if which in peers:
            peer = peers[which]
            ratio = run["letters_per_s"] / peer["letters_per_s"]
            run.setdefault("ratios", {})[which] = ratio
            cpu = ""
            if run.get("cpu_seconds") and peer.get("cpu_seconds"):
                per_letter = (peer["cpu_seconds"] / peer["letters"]) / (
                    run["cpu_seconds"] / run["letters"]
                )
                run.setdefault("cpu_ratios", {})[which] = per_letter
                cpu = f" (CPU per letter {times(per_letter)})"
            parts.append(f"{times(ratio)} {label}{cpu}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="letters")
    parser.add_argument(
        "--baseline-size", type=int, default=300, help="letters for docxtpl+docxcompose (0: skip)"
    )
    parser.add_argument(
        "--mailmerge-size", type=int, default=2000, help="letters for docx-mailmerge2 (0: skip)"
    )
    parser.add_argument(
        "--large", type=int, default=100000, help="letters of the one-off large run (0: skip)"
    )
    parser.add_argument(
        "--per-letter-size", type=int, default=2000, help="letters for --per-letter (0: skip)"
    )
    parser.add_argument("--per-file", type=int, default=200, help="passed to generate --per-file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the tool per size (median)")
    parser.add_argument(
        "--no-csv", action="store_true", help="skip the CSV run of the largest size"
    )
    parser.add_argument("--keep", type=Path, help="keep inputs and outputs in this folder")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="only compare generate from this checkout with CHECKOUT at each --sizes size",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--write-child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--baseline-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--mailmerge-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_child:
        path, count, seed, first = args.write_child
        write = write_csv if path.endswith(".csv") else write_xlsx
        write(Path(path), int(count), int(seed), int(first))
        return 0
    for child, function in (
        (args.baseline_child, baseline_child),
        (args.mailmerge_child, mailmerge_child),
    ):
        if child:
            xlsx, out, count = child
            function(Path(xlsx), Path(out), int(count))
            return 0

    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        global BYTECODE
        BYTECODE = work / "bytecode"
        figures: dict = {"machine": machine(), "tool": {}, "peers": {}}
        print(f"Machine: {figures['machine']}", flush=True)
        inputs: dict[int, Path] = {}

        def births(size: int) -> Path:
            if size not in inputs:
                inputs[size] = write_apart(work / f"births-{size}.xlsx", size)
            return inputs[size]

        # Untimed: compiles the bytecode of the tool and the peers' libraries, and fills
        # the tool's start-up cache, as a machine that has run them before has them.
        _run_tool_once(births(10), work / "warm-up")
        for peer, size in (("baseline", args.baseline_size), ("mailmerge", args.mailmerge_size)):
            if size and not args.against:
                run_peer(peer, births(10), work / f"warm-up-{peer}", 10)

        if args.against:
            # Two versions of the tool side by side (e.g. a branch and main), nothing else.
            other = args.against.resolve()
            for size in args.sizes:
                c = compare_checkouts(births(size), work / f"against-{size}", other, args.repeat,
                                      "--per-file", str(args.per_file))  # fmt: skip
                figures["against"] = {**figures.get("against", {}), size: c}
                this, that = c["this"], c["other"]
                print(
                    f"{size:>6} letters, median of {args.repeat}: this checkout "
                    f"{this['cpu_seconds']:.2f} s CPU ({this['seconds']:.2f} s wall), {other} "
                    f"{that['cpu_seconds']:.2f} s CPU ({that['seconds']:.2f} s wall): "
                    f"{this['cpu_seconds'] / that['cpu_seconds'] - 1:+.1%} CPU; "
                    f"runs {this['runs_cpu_seconds']} against {that['runs_cpu_seconds']}",
                    flush=True,
                )
            if args.json:
                args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
            return 0

        # The peers first, each in its own process, on the same input and template.
        peers: dict = {}
        if args.baseline_size:
            # Also at half its size, to show that it gets worse than linearly.
            half = max(args.baseline_size // 2, 1)
            xlsx = births(args.baseline_size)
            for size in sorted({half, args.baseline_size}):
                b = run_peer("baseline", xlsx, work / f"baseline-{size}", size)
                figures["peers"].setdefault("docxtpl+docxcompose", {})[size] = b
                print(
                    f"{'docxtpl+docxcompose':<25} {size:>6} letters: {b['seconds']:7.2f} s "
                    f"({b['letters_per_s']:7.1f} letters/s; docxtpl {b['render_seconds']:.1f} s "
                    f"= {rate(size, b['render_seconds']):.0f}/s, docxcompose "
                    f"{b['append_seconds']:.1f} s = {rate(size, b['append_seconds']):.0f}/s), "
                    f"{_memory(b)}",
                    flush=True,
                )
            peers["baseline"] = b
        if args.mailmerge_size:
            size = args.mailmerge_size
            m = run_peer("mailmerge", births(size), work / f"mailmerge-{size}", size)
            figures["peers"]["docx-mailmerge2"] = {size: m}
            print(
                f"{'docx-mailmerge2':<25} {size:>6} letters: {m['seconds']:7.2f} s "
                f"({m['letters_per_s']:7.1f} letters/s; merge and write {m['merge_seconds']:.1f} s "
                f"= {rate(size, m['merge_seconds']):.0f}/s), {_memory(m)}",
                flush=True,
            )
            peers["mailmerge"] = m

        def report(label: str, size: int, run: dict, what: str) -> None:
            run["letters_per_s"] = rate(run["letters"], run["seconds"])
            print(
                f"{label:<25} {size:>6} letters: {run['seconds']:7.2f} s "
                f"({run['letters_per_s']:7.0f} letters/s, {run['files']} {what}), {_memory(run)}"
                f"; {ratios(run, peers)}",
                flush=True,
            )

        # The tool at each peer's own size too: a ratio at the same size, start-up included.
        peer_sizes = [p["letters"] for p in peers.values()]
        for size in sorted({*args.sizes, *peer_sizes}):
            out = work / f"out-{size}"
            t = run_tool(births(size), out, "--per-file", str(args.per_file), repeat=args.repeat)
            figures["tool"][size] = t
            report("cchc-letters generate", size, t, "print files")

        if not args.no_csv:
            # The same letters from a CSV: the difference with the XLSX run is the XLSX reader.
            size = max(args.sizes)
            csv_file = write_apart(work / f"births-{size}.csv", size)
            c = run_tool(csv_file, work / f"csv-{size}", "--per-file", str(args.per_file),
                         repeat=args.repeat)  # fmt: skip
            figures["tool_csv"] = {size: c}
            report("generate, CSV input", size, c, "print files")

        if args.per_letter_size:
            size = args.per_letter_size
            p = run_tool(births(size), work / f"per-letter-{size}", "--per-letter",
                         repeat=args.repeat)  # fmt: skip
            figures["per_letter"] = {size: p}
            report("generate --per-letter", size, p, "files")

        small = write_apart(work / "births-10.xlsx", 10)
        s = run_tool(small, work / "small", repeat=args.repeat)
        figures["small"] = s
        print(f"{'small daily batch':<25} {10:>6} letters: {s['seconds']:7.2f} s incl. start-up")

        if args.large:
            # A province's year, once (it takes a while): memory must not grow with the batch.
            size = args.large
            big = run_tool(births(size), work / f"large-{size}", "--per-file", str(args.per_file))
            figures["large"] = {size: big}
            report("generate (large)", size, big, "print files")
            largest = max(args.sizes)
            at = figures["tool"][largest]["peak_rss_mb"]
            print(
                f"{'memory growth':<25} {largest:>6} -> {size} letters: largest process "
                f"{at:.0f} -> {big['peak_rss_mb']:.0f} MB "
                f"({big['peak_rss_mb'] / at:.2f}x for {size / largest:.0f}x the letters)",
                flush=True,
            )
            # The next days: a daily batch into the folder whose ledger now holds the year
            # (new registrations each day). What a run costs must follow its batch, not the
            # ledger's size.
            days = [
                _run_tool_once(write_apart(work / f"day-{day}.xlsx", 10, seed=100 + day,
                                          first=size + 1 + 10 * day), work / f"large-{size}" / "run-1")
                for day in range(args.repeat)
            ]  # fmt: skip
            days.sort(key=_seconds)
            day = days[len(days) // 2]
            day["runs_seconds"] = [round(d["seconds"], 3) for d in days]
            figures["small_into_large"] = day
            print(
                f"{'daily batch, big ledger':<25} {day['letters']:>6} letters: "
                f"{day['seconds']:7.2f} s incl. start-up, into a ledger of {size} letters; "
                f"{_memory(day)}",
                flush=True,
            )

        print("Ratios (letters/s against each peer's, measured in this run):")
        largest = max(args.sizes)
        print(f"  at {largest} letters: {ratios(figures['tool'][largest], peers)}")
        for which, peer in peers.items():
            same = figures["tool"][peer["letters"]]
            ratio = same["letters_per_s"] / peer["letters_per_s"]
            print(f"  at {peer['letters']} letters (same size): {times(ratio)} {PEERS[which]}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
