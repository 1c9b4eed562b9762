"""PDF through LibreOffice headless: whole print files, never per letter, one converter per core.

Starting soffice costs about 1.5 s, so each converter converts many files in one call; the
files are shared out between as many converters as the machine has cores (each with its own
LibreOffice profile folder: two soffice processes on one profile hand their work to each other
or refuse to start). A converter that crashes, or makes no progress on a file for ``timeout``
seconds (a hang), is killed with its children and restarted on a fresh profile with the files
it had not finished; a file that fails twice is given up and reported, the others are still
converted. Progress is reported through a callback, from the calling thread (the library never
prints).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, TypedDict

from cchc_letters.errors import CchcError

SOFFICE_NAMES = ("soffice", "libreoffice")
# Where the installers put LibreOffice when it is not on PATH (the Windows installer never
# adds it there): %ProgramFiles%, %ProgramFiles(x86)% for a 32-bit one, and the macOS app.
WINDOWS_FOLDER_VARIABLES = ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")
WINDOWS_SOFFICE = Path("LibreOffice") / "program" / "soffice.exe"
MACOS_SOFFICE = Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")


class PdfUnavailable(CchcError):
    """LibreOffice is not installed, or it failed to convert."""


def install_locations() -> list[Path]:
    """Return the usual LibreOffice install paths on this machine's Windows or macOS."""
    places = [
        Path(base) / WINDOWS_SOFFICE
        for variable in WINDOWS_FOLDER_VARIABLES
        if (base := os.environ.get(variable))
    ]
    return [*places, MACOS_SOFFICE]


def find_soffice() -> str | None:
    """Return the LibreOffice executable, or None when there is none.

    $CCHC_SOFFICE (a full path or a command name) decides when set; otherwise ``soffice`` or
    ``libreoffice`` on PATH, then the usual install folders (``install_locations``).
    """
    configured = os.environ.get("CCHC_SOFFICE")
    if configured:
        return shutil.which(configured)
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for place in install_locations():
        if place.is_file():
            return str(place)
    return None


# Seconds a converter may spend on one file before it counts as hung (a 1,000-letter print
# file takes about 17 s on a 2-core office PC; a hang never ends).
FILE_TIMEOUT = 300.0
# Restarts a file gets after a crash or hang of the converter working on it.
RETRIES = 1
_CONVERTING = "convert "  # soffice prints "convert A.docx -> A.pdf using filter ..." before each

ProgressCallback = Callable[[int, int], None]


@dataclass
class PdfConversion:
    """What ``convert_batch`` made: the PDFs (in the order of the files) and what failed."""

    pdfs: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (DOCX, why)
    converters: int = 0
    restarts: int = 0

    def message(self) -> str | None:
        """Return one plain sentence naming the files without a PDF, or None when none."""
        if not self.failed:
            return None
        listed = "; ".join(f"{path.name}: {why}" for path, why in self.failed)
        return f"LibreOffice không tạo được PDF cho {len(self.failed)} tệp ({listed})"


def _not_installed() -> PdfUnavailable:
    return PdfUnavailable(
        "Không tìm thấy LibreOffice (soffice) nên không tạo được PDF; các tệp DOCX vẫn đầy đủ. "
        "Cài LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer-nogui; "
        "Windows/macOS: libreoffice.org), hoặc đặt biến môi trường CCHC_SOFFICE là đường "
        "dẫn đầy đủ tới soffice, hoặc in trực tiếp tệp DOCX."
    )


def convert_to_pdf(
    files: Sequence[Path],
    out_dir: Path,
    timeout: float = FILE_TIMEOUT,
    *,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> list[Path]:
    """Convert DOCX ``files`` to PDF in ``out_dir``; return the PDF paths.

    Raises PdfUnavailable with a plain message when LibreOffice is missing or any file could
    not be converted (``convert_batch`` keeps the PDFs that were made).
    """
    done = convert_batch(files, out_dir, timeout=timeout, workers=workers, progress=progress)
    if done.failed:
        raise PdfUnavailable(done.message() or "")
    return done.pdfs


def convert_batch(
    files: Sequence[Path],
    out_dir: Path,
    *,
    workers: int | None = None,
    timeout: float = FILE_TIMEOUT,
    retries: int = RETRIES,
    progress: ProgressCallback | None = None,
    profile_root: Path | None = None,
) -> PdfConversion:
    """Convert DOCX ``files`` to PDF in ``out_dir`` with ``workers`` converters in parallel.

    ``workers`` None means one per core (never more than files). ``timeout`` is the seconds
    a converter may take over one file before it is killed as hung; after a crash or hang the
    converter restarts on a fresh profile with its unfinished files, and a file it was working
    on gets ``retries`` more tries. ``progress(done, total)`` is called (in this thread) as
    each file's PDF is complete (and with 0 at the start). Profiles are made under ``profile_root`` (default: a
    temporary folder, removed afterwards). Raises PdfUnavailable when LibreOffice is missing.
    """
    soffice = find_soffice()
    if soffice is None:
        raise _not_installed()
    files = [Path(f) for f in files]
    result = PdfConversion()
    if not files:
        return result
    count = min(len(files), workers or os.cpu_count() or 1)
    for docx in files:  # an old PDF of the same name must not pass for a new one
        (Path(out_dir) / (docx.stem + ".pdf")).unlink(missing_ok=True)
    if progress:
        progress(0, len(files))  # converting has begun (the first file takes seconds)
    with tempfile.TemporaryDirectory(prefix="cchc-lo-") as tmp:
        pool = _Converters(
            soffice, Path(out_dir), Path(profile_root or tmp), timeout=timeout, retries=retries
        )
        pool.run(_share_out(files, count), progress, len(files))
    by_file = dict(pool.made)
    result.pdfs = [by_file[f] for f in files if f in by_file]
    result.failed = [(f, pool.failed[f]) for f in files if f in pool.failed]
    result.converters = count
    result.restarts = pool.restarts
    return result


def _share_out(files: list[Path], count: int) -> list[list[Path]]:
    """Return ``count`` groups of files of about equal size (bytes), each in input order.

    One call per converter: every call costs a start of LibreOffice, and print files of the
    same batch take about the same time each, so an even share beats handing them out singly.
    """
    sizes = {f: (f.stat().st_size if f.is_file() else 0) for f in files}
    groups: list[list[Path]] = [[] for _ in range(count)]
    loads = [0] * count
    for f in sorted(files, key=lambda f: -sizes[f]):
        smallest = loads.index(min(loads))
        groups[smallest].append(f)
        loads[smallest] += sizes[f] or 1
    order = {f: n for n, f in enumerate(files)}
    return [sorted(g, key=order.__getitem__) for g in groups if g]


class _Converters:
    """Converter threads, each running soffice calls on its own profile, and what they made.

    Threads only run and watch their soffice; every progress call happens in the thread that
    called ``run``, from the events the converters put on one queue.
    """

    def __init__(
        self, soffice: str, out_dir: Path, profiles: Path, *, timeout: float, retries: int
    ) -> None:
        self.soffice = soffice
        self.out_dir = out_dir
        self.profiles = profiles
        self.timeout = timeout
        self.retries = retries
        self.made: list[tuple[Path, Path]] = []
        self.failed: dict[Path, str] = {}
        self.restarts = 0
        self.events: queue.Queue[_Event] = queue.Queue()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self, groups: list[list[Path]], progress: ProgressCallback | None, total: int) -> None:
        threads = [
            threading.Thread(target=self._converter, args=(n, group), daemon=True)
            for n, group in enumerate(groups, start=1)
        ]
        for thread in threads:
            thread.start()
        finished = 0
        try:
            while finished < len(threads):
                match self.events.get():
                    case ("pdf", docx, pdf):
                        self.made.append((docx, pdf))
                        if progress:
                            progress(len(self.made) + len(self.failed), total)
                    case ("failed", docx, why):
                        self.failed[docx] = why
                        if progress:
                            progress(len(self.made) + len(self.failed), total)
                    case ("restart",):
                        self.restarts += 1
                    case ("done",):
                        finished += 1
        finally:
            # An interrupted run (Ctrl+C, an error in a progress callback) leaves no soffice.
            self._stopping.set()
            with self._lock:
                for proc in list(self._running):
                    _kill(proc)
            for thread in threads:
                thread.join()

    def _converter(self, number: int, files: list[Path]) -> None:
        """Convert ``files`` in as few soffice calls as crashes and hangs allow."""
        tries = dict.fromkeys(files, 0)
        start = 0
        try:
            while files and not self._stopping.is_set():
                profile = self.profiles / f"converter-{number}-{start}"
                call = self._call(profile, files)
                for docx in call.done:
                    self.events.put(("pdf", docx, self._pdf_of(docx)))
                for docx in call.skipped:
                    self.events.put(("failed", docx, call.why))
                if call.stuck is None:
                    return
                files = files[files.index(call.stuck) :]
                tries[call.stuck] += 1
                if tries[call.stuck] > self.retries:
                    self.events.put(("failed", call.stuck, call.why))
                    files = files[1:]
                start += 1
                if files:
                    self.events.put(("restart",))
                shutil.rmtree(profile, ignore_errors=True)  # a killed soffice may damage it
        finally:
            self.events.put(("done",))

    def _pdf_of(self, docx: Path) -> Path:
        return self.out_dir / (docx.stem + ".pdf")

    def _call(self, profile: Path, files: list[Path]) -> _Call:
        """Run one soffice over ``files`` and watch it; return what it did.

        Progress is what soffice prints before each file ("convert A.docx -> A.pdf ...") or,
        where it prints nothing, the PDFs appearing in order. No progress for
        ``self.timeout`` seconds is a hang: soffice is killed with its children.
        """
        command = [
            self.soffice,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(self.out_dir),
            *[str(f) for f in files],
        ]
        # soffice's output goes to a file, read as it grows: a pipe would block this thread
        # on a child of soffice that keeps it open after a kill.
        log_path = profile.with_name(profile.name + ".log")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # (Two handles: the one soffice writes through shares its offset with it.)
        with log_path.open("wb") as written, log_path.open("rb") as log:
            lifeline = _Lifeline()
            try:
                proc = subprocess.Popen(
                    lifeline.command(command),
                    stdin=subprocess.DEVNULL,
                    stdout=written,
                    stderr=subprocess.STDOUT,
                    pass_fds=lifeline.passed(),
                    **_own_process_group(),
                )
            except OSError as exc:
                lifeline.close()
                return _Call([], list(files), None, f"không chạy được LibreOffice: {exc}")
            lifeline.started()
            with self._lock:
                self._running.add(proc)
            try:
                hung, current, tail = self._watch(proc, log, files)
            finally:
                _kill(proc)
                code = proc.wait()
                lifeline.close()
                with self._lock:
                    self._running.discard(proc)
        if not hung and code == 0:
            # soffice exits 0 even when it could not load a file: those have no PDF.
            done = [f for f in files if self._pdf_of(f).is_file()]
            skipped = [f for f in files if f not in done]
            detail = "; ".join(tail) or "LibreOffice không đọc được tệp"
            return _Call(done, skipped, None, f"không tạo được PDF ({detail})")
        stuck = files[max(current, 0)]
        self._pdf_of(stuck).unlink(missing_ok=True)  # a half-written PDF is no PDF
        done = [f for f in files[: files.index(stuck)] if self._pdf_of(f).is_file()]
        if hung:
            why = f"LibreOffice không phản hồi sau {self.timeout:g} giây (treo) nên đã bị dừng"
        else:
            why = f"LibreOffice dừng bất thường (mã {code})" + (f": {tail[-1]}" if tail else "")
        return _Call(done, [], stuck, why)

    def _watch(
        self, proc: subprocess.Popen[bytes], log: IO[bytes], files: list[Path]
    ) -> tuple[bool, int, list[str]]:
        """Wait for soffice to exit or hang; return (hung, file in progress, last lines)."""
        announced = -1  # the file soffice last said it is converting
        current = -1  # the file in progress: files before it have their PDF
        tail: list[str] = []
        pending = b""
        deadline = time.monotonic() + self.timeout
        while True:
            exited = proc.poll() is not None
            pending += log.read()
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", errors="replace").strip()
                if line.startswith(_CONVERTING) and announced + 1 < len(files):
                    announced += 1
                elif line:
                    tail = [*tail[-4:], line]
            made = 0
            while made < len(files) and self._pdf_of(files[made]).is_file():
                made += 1
            if max(announced, made - 1) > current:
                current = max(announced, made - 1)
                deadline = time.monotonic() + self.timeout
            if exited:
                if pending.strip():
                    tail = [*tail[-4:], pending.decode("utf-8", errors="replace").strip()]
                return False, current, tail
            if time.monotonic() >= deadline or self._stopping.is_set():
                return True, current, tail
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


# What a converter thread tells the run: a PDF made, a file given up on, a restart, its end.
_Event = (
    tuple[Literal["pdf"], Path, Path]
    | tuple[Literal["failed"], Path, str]
    | tuple[Literal["restart"]]
    | tuple[Literal["done"]]
)


@dataclass
class _Call:
    """One soffice call: files with their PDF, files it skipped, the one it died on, why."""

    done: list[Path]
    skipped: list[Path]
    stuck: Path | None
    why: str


# soffice must die with the run that started it: a run SIGKILLed during --pdf (a Task
# Scheduler timeout, the OOM killer) must not leave LibreOffice converting into its folder.
# PR_SET_PDEATHSIG alone cannot do it: `soffice` is a script that execs the launcher
# (oosplash), which *forks* soffice.bin, and a death signal is not inherited across fork —
# the launcher would die and soffice.bin live on. So on POSIX soffice runs under a tiny
# watcher that leads its process group and holds the read end of a pipe whose only write
# end is in this process: when this process ends, however it ends, the kernel closes that
# end, the watcher's read returns, and it kills the whole group (launcher, soffice.bin,
# anything they started). A normal call ends as before: _kill() kills the group.
_WATCHER = """
import os, signal, subprocess, sys, threading
lifeline = int(sys.argv[1])
child = subprocess.Popen(sys.argv[2:])
def orphaned():
    try:
        os.read(lifeline, 1)
    except OSError:
        pass
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=orphaned, daemon=True).start()
code = child.wait()
sys.exit(code if code >= 0 else 128 - code)
"""


class _Lifeline:
    """The pipe that ties one soffice call's watcher to this process (POSIX; nothing on
    Windows, where the converter's process group is killed by _kill only)."""

    def __init__(self) -> None:
        self.read_end = self.write_end = -1
        if os.name != "nt":
            # Not inheritable (PEP 446): only the watcher gets the read end (pass_fds), and
            # no other child of this process holds the write end open.
            self.read_end, self.write_end = os.pipe()

    def command(self, command: list[str]) -> list[str]:
        if self.read_end < 0:
            return command
        # -I: the watcher needs the standard library only, not a module of the same name
        # in the working folder or on PYTHONPATH
        return [sys.executable, "-I", "-c", _WATCHER, str(self.read_end), *command]

    def passed(self) -> tuple[int, ...]:
        """The descriptors the watcher inherits (Popen's pass_fds)."""
        return (self.read_end,) if self.read_end >= 0 else ()

    def started(self) -> None:
        """Drop this process's copy of the read end (the watcher has its own)."""
        if self.read_end >= 0:
            os.close(self.read_end)
            self.read_end = -1

    def close(self) -> None:
        for fd in (self.read_end, self.write_end):
            if fd >= 0:
                os.close(fd)
        self.read_end = self.write_end = -1


class _ProcessGroup(TypedDict, total=False):
    creationflags: int
    start_new_session: bool


def _own_process_group() -> _ProcessGroup:
    """Popen arguments that put soffice and the children it starts in a group of their own."""
    if sys.platform == "win32":  # (os.name == "nt"; the form type checkers understand)
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill soffice and what it started (soffice.bin runs under a launcher process).

    On POSIX the whole process group goes, even when the launcher has already exited.
    """
    try:
        if os.name == "nt":
            if proc.poll() is None:
                proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
