"""Today's batch: upload exports, see what was understood and rejected, generate, download,
look at any letter as a picture of its page."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from cchc_letters.errors import CchcError
from cchc_letters.models import Issue, Kind
from cchc_letters.web import jobs, security
from cchc_letters.web.app import WebConfig, config_of, problem, render

BATCH_NAME = re.compile(r"batch-\d{4}-\d{2}-\d{2}-\d{3,}")
REPORTS = "reports"
KEEP_INTAKES = 30  # uploads listed on the page (older ones stay on disk until removed)
# A batch page lists this many letters at a time (a province's year is 100,000: listed whole,
# a 28 MB page that took 3.7 s to make), and the first this many rejected rows (all of them
# are in rejects.csv).
LETTERS_PER_PAGE = 500
REJECTS_SHOWN = 500
# An upload's page shows the first this many rows of each list (rejected, notes, already
# printed, changed), with each list's count: a province's year uploaded again listed 97,365
# letters already printed.
ROWS_SHOWN = 200


def _uploads(request: Request) -> Path:
    return config_of(request).private / "uploads"


def _intake_dir(request: Request, token: str) -> Path:
    folder = _uploads(request) / security.token_or_404(token)
    if not (folder / "meta.json").is_file():
        raise HTTPException(404, "Không tìm thấy lần tải lên này.")
    return folder


class _InboxFile(TypedDict):
    """The inbox file an upload was copied from, as it was then."""

    name: str
    size: int
    mtime: int  # st_mtime_ns


class _StoredFile(TypedDict):
    stored: str  # the file's name in the upload folder
    name: str  # the name the officer knows it by
    inbox: NotRequired[_InboxFile]  # only when picked from `watch`'s inbox


class _Meta(TypedDict):
    """An upload's meta.json."""

    files: list[_StoredFile]
    uploaded: str  # ISO date
    from_inbox: NotRequired[bool]


def _meta(folder: Path) -> _Meta:
    meta: _Meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return meta


def _letter_date(request: Request, value: str | None) -> date:
    if not value:
        return config_of(request).today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"Ngày thư {value!r} không đúng dạng YYYY-MM-DD.") from None


def _batch_dirs(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    found = [p for p in out.iterdir() if p.is_dir() and BATCH_NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def batch_home(request: Request) -> Response:
    config = config_of(request)
    intakes = []
    uploads = _uploads(request)
    if uploads.is_dir():
        for folder in sorted(uploads.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            if (folder / "meta.json").is_file() and security.TOKEN.fullmatch(folder.name):
                meta = _meta(folder)
                intakes.append({"token": folder.name, **meta})
            if len(intakes) >= KEEP_INTAKES:
                break
    return render(
        request,
        "batch_home.html",
        {
            "intakes": intakes,
            "batches": [p.name for p in _batch_dirs(config.out_dir)[:20]],
            "max_mb": security.MAX_FILE_BYTES // (1024 * 1024),
            "max_files": security.MAX_FILES,
            "out_dir": str(config.out_dir),
            "inbox": config.inbox,
            "waiting": _waiting(config),
        },
    )


def _waiting(config: Any) -> list[dict[str, Any]]:
    """The exports lying in the inbox (as `watch` would take them), by name, size and time."""
    from datetime import datetime

    from cchc_letters.watch import candidates

    if config.inbox is None or not config.inbox.is_dir():
        return []
    found = []
    for path in candidates(config.inbox):
        stat = path.stat()
        when = datetime.fromtimestamp(stat.st_mtime).strftime("%d/%m/%Y %H:%M")
        found.append({"name": path.name, "kb": max(1, stat.st_size // 1024), "when": when})
    return found


async def pick_inbox(request: Request) -> Response:
    """Copy the chosen inbox exports into a new upload (the browser sends names only, looked
    up among the inbox's own files; never used as paths)."""
    form = await security.checked_form(request)
    return await run_in_threadpool(_copy_from_inbox, request, form)


def _copy_from_inbox(request: Request, form: FormData) -> Response:
    from cchc_letters import locking
    from cchc_letters.watch import candidates

    config = config_of(request)
    if config.inbox is None:
        raise HTTPException(404, "Chưa đặt thư mục nhận (--inbox).")
    chosen = {str(v) for v in form.getlist("pick")}
    token = security.new_token()
    folder = _uploads(request) / token
    stored: list[_StoredFile] = []
    with locking.hold(
        [locking.lock_path_for(config.inbox)], wait=config.lock_wait, what=str(config.inbox)
    ):
        for number, path in enumerate((p for p in candidates(config.inbox) if p.name in chosen), 1):
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{number}-{security.slug(path.stem)}{path.suffix.lower()}"
            shutil.copy2(path, target)
            stat = path.stat()
            stored.append(
                {
                    "stored": target.name,
                    "name": path.name,
                    "inbox": {"name": path.name, "size": stat.st_size, "mtime": stat.st_mtime_ns},
                }
            )
    if not stored:
        return problem(request, "Chưa chọn tệp nào trong thư mục nhận.")
    meta: _Meta = {"files": stored, "uploaded": config.today().isoformat(), "from_inbox": True}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return RedirectResponse(f"/batch/{token}", status_code=303)


def _after_inbox(config: WebConfig, meta: _Meta) -> Callable[[], None] | None:
    """Return what to do once an upload taken from the inbox is made into a batch: move each
    original, if still the same file, to INBOX/processed/DATE/ as `watch` does."""
    taken = [item["inbox"] for item in meta["files"] if "inbox" in item]
    inbox = config.inbox
    if not taken or inbox is None:
        return None

    def move() -> None:
        from cchc_letters import locking
        from cchc_letters.watch import move_processed

        with locking.hold([locking.lock_path_for(inbox)], wait=config.lock_wait, what=str(inbox)):
            for item in taken:
                path = inbox / item["name"]
                try:
                    stat = path.stat()
                except OSError:
                    continue  # moved meanwhile (by `watch`): nothing to do
                if (stat.st_size, stat.st_mtime_ns) == (item["size"], item["mtime"]):
                    move_processed(path, inbox, config.today())

    return move


async def upload(request: Request) -> Response:
    form = await security.checked_form(request)
    try:
        return await _save_exports(request, form)
    finally:
        await form.close()  # the uploaded parts' temporary files


async def _save_exports(request: Request, form: FormData) -> Response:
    files = security.uploaded_files(form, "files")
    if not files:
        return problem(request, "Chưa chọn tệp nào để tải lên.", "Chọn tệp CSV hoặc Excel.")
    token = security.new_token()
    folder = _uploads(request) / token
    stored: list[_StoredFile] = []
    try:
        for number, item in enumerate(files, start=1):
            shown = security.display_name(item.filename or "")
            stem = f"{number}-{security.slug(Path(shown).stem)}"
            path = await security.save_upload(item, folder, stem, security.EXPORT_KINDS)
            stored.append({"stored": path.name, "name": shown})
    except security.UploadRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        status = 413 if "quá lớn" in str(exc) else 400
        return problem(
            request, str(exc), "Tải lên tệp CSV, XLSX hoặc XLS xuất từ phần mềm hộ tịch.", status
        )
    today = config_of(request).today()
    meta: _Meta = {"files": stored, "uploaded": today.isoformat()}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return RedirectResponse(f"/batch/{token}", status_code=303)


@dataclass
class RejectedRow:
    """An issue with the row it is about, for showing the row with its cell highlighted."""

    issue: Issue
    file: str
    cells: list[tuple[str, str]] = field(default_factory=list)  # (heading, value) as read


def _names(meta: _Meta, folder: Path) -> dict[str, str]:
    """Map every way the library names a stored file to the name the officer uploaded."""
    names = {}
    for item in meta["files"]:
        path = folder / item["stored"]
        for spelling in (str(path), path.name, str(path.resolve())):
            names[spelling] = item["name"]
    return names


@dataclass
class Shown:
    """The first ``ROWS_SHOWN`` rows of a list, and how many it has."""

    rows: list[Any]
    total: int

    @classmethod
    def of(cls, rows: list[Any]) -> Shown:
        return cls(rows[:ROWS_SHOWN], len(rows))


@dataclass(frozen=True)
class _Upload:
    """What checking an upload needs (``upload_view``): picklable, for a process apart."""

    paths: list[Path]
    names: dict[str, str]
    letter_date: date
    mapping: Path | None
    out_dir: Path
    profile_path: Path | None


# A large upload (checked in a process of its own) is checked in the background: its page
# waits this long for the check, then says it is being checked and reloads itself until it
# is (the year's export against the year's ledger: 30 s of a browser tab spinning before).
CHECK_WAIT_SECONDS = 2.0
CHECK_RELOAD_SECONDS = 2


def _inspect(request: Request, folder: Path, letter_date: date) -> dict[str, Any] | None:
    """Read and check the uploaded files exactly as `check` does; nothing is written. The
    page is kept (``WebConfig.upload_views``) until its files, the mapping, the profile or
    the ledger change: shown again, it costs a few file times, not another check. None:
    a large upload still being checked (``CHECK_WAIT_SECONDS``)."""
    from cchc_letters import ledger, ledger_file
    from cchc_letters.kept import file_stamp

    config = config_of(request)
    meta = _meta(folder)
    upload = _Upload(
        paths=[folder / item["stored"] for item in meta["files"]],
        names=_names(meta, folder),
        letter_date=letter_date,
        mapping=config.mapping_path if config.mapping_path.is_file() else None,
        out_dir=config.out_dir,
        profile_path=config.profile_path,
    )
    read_from = [*upload.paths, config.mapping_path, config.profile_path]
    stamp = (
        tuple((str(path), file_stamp(path)) for path in read_from),
        ledger_file.fingerprint(ledger.default_path(config.out_dir)),
    )
    key, views = (folder.name, letter_date), config.upload_views
    if not jobs.worth_apart(upload.paths):
        return views.get(key, stamp, lambda: upload_view(upload))
    counts = config.upload_rows_checked

    def check() -> dict[str, Any]:
        counts[key] = 0
        try:
            return _check_apart(upload, lambda n: counts.__setitem__(key, n))
        finally:
            counts.pop(key, None)

    for _ in range(round(CHECK_WAIT_SECONDS / 0.05)):  # (polled: the check may end early)
        view = views.soon(key, stamp, check)
        if view is not None:
            return view
        time.sleep(0.05)
    return views.soon(key, stamp, check)


def _check_apart(upload: _Upload, rows_checked: Callable[[int], None]) -> dict[str, Any]:
    """``upload_view``, in a process of its own for an upload as large as a batch run apart
    (web/jobs.py): 100,000 rows checked here left the app at 367 MB (at 70 MB, checked
    apart). ``rows_checked(n)`` is told as the rows are checked."""
    answers: list[tuple[Any, ...]] = []

    def hear(kind: str, *said: Any) -> None:
        if kind == "rows":
            rows_checked(*said)
        else:
            answers.append((kind, *said))

    returncode = jobs.in_new_python("cchc_letters.web.pages_batch:view_apart", upload, hear)
    if not answers:
        raise RuntimeError(f"the upload check ended without an answer: exit {returncode}")
    kind, *said = answers[-1]
    if kind == "failed":
        raise CchcError(said[0], hint=said[1])
    if kind != "done":
        raise RuntimeError(f"the upload check failed: {said[0]}")
    view: dict[str, Any] = said[0]
    return view


def view_apart(upload: _Upload, tell: jobs.Tell) -> None:
    """``upload_view`` in a process of its own: tells ("rows", n) as the rows are checked,
    then ("done", view), ("failed", message, hint) or ("error", the unexpected exception's
    type)."""
    try:
        tell("done", upload_view(upload, rows_checked=lambda n: tell("rows", n)))
    except CchcError as exc:
        tell("failed", exc.message, exc.hint)
    except Exception as exc:  # noqa: BLE001 — told by type only (names stay out of logs)
        tell("error", type(exc).__name__)


def upload_view(
    upload: _Upload, rows_checked: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Return what the upload's page shows: the files as read, the counts, the first rows
    of each list (``Shown``) and what the ledger says of the registrations."""
    from cchc_letters.ingest import load_vocabulary
    from cchc_letters.ingest.columns import field_label
    from cchc_letters.intake import check_inputs
    from cchc_letters.plan import ledger_plan

    both = check_inputs(
        upload.paths,
        letter_date=upload.letter_date,
        mapping=upload.mapping,
        keep_rows=True,
        rows_checked=rows_checked,
    )
    read, checked = both.read, both.validated
    names = upload.names
    rows = {(r.source.file, r.source.sheet, r.source.row): r for r in read.rows}
    rejected: list[RejectedRow] = []
    notes: list[RejectedRow] = []
    file_problems: list[RejectedRow] = []
    totals = {"rejected": 0, "notes": 0}
    for issue in [*read.issues, *checked.issues]:
        file = names.get(issue.source.file if issue.source else (issue.file or ""), "")
        if issue.source is None:
            file_problems.append(RejectedRow(issue, file))
            continue
        listed, total = (rejected, "rejected") if issue.severity == "error" else (notes, "notes")
        totals[total] += 1
        if len(listed) < ROWS_SHOWN:
            raw = rows.get((issue.source.file, issue.source.sheet, issue.source.row))
            cells = [(c.heading, c.value) for c in raw.cells.values()] if raw else []
            listed.append(RejectedRow(issue, file, cells))
    plan = ledger_plan(
        checked.registrations, out_dir=upload.out_dir, profile_path=upload.profile_path
    )
    return {
        "files": read.files,
        "rows_read": checked.rows_read,
        "duplicates": checked.duplicates,
        "names": names,
        "rejected": rejected,
        "rejected_issues": totals["rejected"],
        "notes": notes,
        "notes_total": totals["notes"],
        "shown": ROWS_SHOWN,
        "file_problems": file_problems,
        "rejected_rows": checked.rejected,
        "field_choices": [
            (name, field_label(name, "")) for name in sorted(load_vocabulary(upload.mapping).kinds)
        ],
        "mapping": upload.mapping,
        "plan": {
            "new": len(plan.new),
            "printed": Shown.of(plan.printed),
            "changed": Shown.of(plan.changed),
            "withheld": Shown.of(plan.withheld),
            "duplicates": Shown.of(plan.duplicates),
            "notes": Shown.of([*plan.withheld, *plan.duplicates]),
        },
    }


def latest_registration(request: Request, kind: Kind) -> Any:
    """Return the first registration of ``kind`` in the most recent upload that has one
    (``intake.first_registration``: its first rows only)."""
    from cchc_letters.intake import first_registration

    config = config_of(request)
    uploads = _uploads(request)
    if not uploads.is_dir():
        return None
    folders = [p for p in uploads.iterdir() if (p / "meta.json").is_file()]
    mapping = config.mapping_path if config.mapping_path.is_file() else None
    for folder in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True)[:KEEP_INTAKES]:
        paths = [folder / item["stored"] for item in _meta(folder)["files"]]
        found = first_registration(paths, kind, letter_date=config.today(), mapping=mapping)
        if found is not None:
            return found
    return None


def intake(request: Request) -> Response:
    folder = _intake_dir(request, request.path_params["token"])
    letter_date = _letter_date(request, request.query_params.get("date"))
    view = _inspect(request, folder, letter_date)
    shown = {"token": folder.name, "meta": _meta(folder), "letter_date": letter_date}
    if view is None:
        rows = config_of(request).upload_rows_checked.get((folder.name, letter_date), 0)
        waiting = {"every": CHECK_RELOAD_SECONDS, "rows_checked": rows}
        return render(request, "intake_checking.html", {**shown, **waiting})
    return render(request, "intake.html", {**shown, **view})


async def save_mapping(request: Request) -> Response:
    folder = _intake_dir(request, request.path_params["token"])
    form = await security.checked_form(request)
    return await run_in_threadpool(_add_headings, request, folder, form)


def _add_headings(request: Request, folder: Path, form: FormData) -> Response:
    from cchc_letters.mappingfile import add_headings

    pairs = []
    for key, value in form.multi_items():
        if key.startswith("field-") and isinstance(value, str) and value:
            heading = form.get("heading-" + key.removeprefix("field-"))
            if isinstance(heading, str) and heading:
                pairs.append((heading, value))
    if not pairs:
        return problem(request, "Chưa chọn trường nào cho các cột chưa nhận ra.")
    add_headings(config_of(request).mapping_path, pairs)
    return RedirectResponse(f"/batch/{folder.name}", status_code=303)


async def generate(request: Request) -> Response:
    from cchc_letters.pipeline import BatchOptions

    folder = _intake_dir(request, request.path_params["token"])
    form = await security.checked_form(request)
    config = config_of(request)
    letter_date = _letter_date(request, str(form.get("letter_date") or ""))
    meta = _meta(folder)
    options = BatchOptions(
        inputs=[folder / item["stored"] for item in meta["files"]],
        out_dir=config.out_dir,
        letter_date=letter_date,
        profile_path=config.profile_path,
        mapping=config.mapping_path if config.mapping_path.is_file() else None,
        pdf=form.get("pdf") == "on",
        reprint_changed=form.get("reprint_changed") == "on",
        wait=config.lock_wait,
    )
    job = jobs.start(config.jobs, folder.name, options, after=_after_inbox(config, meta))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _job(request: Request) -> jobs.Job:
    job = config_of(request).jobs.get(security.token_or_404(request.path_params["job"]))
    if job is None:
        raise HTTPException(404, "Không tìm thấy lần tạo thư này (máy chủ đã khởi động lại?).")
    return job


async def job_page(request: Request) -> Response:
    job = _job(request)
    if job.state == "done" and job.result.batch_dir is not None:
        return RedirectResponse(f"/batches/{job.result.batch_dir.name}", status_code=303)
    return render(request, "job.html", {"job": job})


async def job_status(request: Request) -> Response:
    return JSONResponse(_job(request).to_json())


def _batch_dir(request: Request, name: str) -> Path:
    out = config_of(request).out_dir
    if not (BATCH_NAME.fullmatch(name) or name == REPORTS):
        raise HTTPException(404, "Không tìm thấy lô thư.")
    folder = out / name
    if not folder.is_dir():
        raise HTTPException(404, "Không tìm thấy lô thư.")
    return folder


def batch_page(request: Request) -> Response:
    from cchc_letters.lookup import batch_letters, count_csv_rows, read_csv_rows
    from cchc_letters.output import CHANGED_NAME, REJECTS_NAME

    folder = _batch_dir(request, request.path_params["name"])
    if folder.name == REPORTS:
        raise HTTPException(404, "Không tìm thấy lô thư.")
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    shown = batch_letters(folder, _page_number(request.query_params.get("page")), LETTERS_PER_PAGE)
    return render(
        request,
        "batch.html",
        {
            "name": folder.name,
            "files": files,
            "letters": shown.letters,
            "total": shown.total,
            "page": shown.page,
            "pages": shown.pages,
            "first_number": (shown.page - 1) * LETTERS_PER_PAGE + 1,
            "rejects": read_csv_rows(folder / REJECTS_NAME, REJECTS_SHOWN),
            "rejects_total": count_csv_rows(folder / REJECTS_NAME),
            "changed": count_csv_rows(folder / CHANGED_NAME),
            "kinds": {kind.value: kind.vietnamese for kind in Kind},
        },
    )


def _page_number(value: str | None) -> int:
    """Return the page asked for (from 1); 1 for a missing or unreadable one."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


async def download(request: Request) -> Response:
    folder = _batch_dir(request, request.path_params["name"])
    path = security.inside(folder, request.path_params["file"])
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


def letter_page(request: Request) -> Response:
    from cchc_letters.lookup import letter_in_batch
    from cchc_letters.pdf import find_soffice

    folder = _batch_dir(request, request.path_params["name"])
    print_file = security.inside(folder, request.path_params["file"])
    position = request.path_params["position"]
    letter, count = letter_in_batch(folder, print_file.name, position)
    if letter is None:
        raise HTTPException(404, "Không có thư này trong lô.")
    return render(
        request,
        "letter.html",
        {
            "batch": folder.name,
            "file": print_file.name,
            "position": position,
            "letter": letter,
            "count": count,
            "can_picture": find_soffice() is not None
            or (folder / f"{print_file.stem}.pdf").is_file(),
        },
    )


def letter_picture(request: Request) -> Response:
    from cchc_letters.pictures import docx_page_png

    folder = _batch_dir(request, request.path_params["name"])
    print_file = security.inside(folder, request.path_params["file"])
    if print_file.suffix.lower() != ".docx":
        raise HTTPException(404, "Không tìm thấy.")
    cache = config_of(request).private / "pictures" / folder.name
    png = docx_page_png(
        print_file, request.path_params["position"], cache, pdf=folder / f"{print_file.stem}.pdf"
    )
    return FileResponse(png, media_type="image/png")


routes = [
    Route("/batch", batch_home),
    Route("/batch/upload", upload, methods=["POST"]),
    Route("/batch/inbox", pick_inbox, methods=["POST"]),
    Route("/batch/{token}", intake),
    Route("/batch/{token}/mapping", save_mapping, methods=["POST"]),
    Route("/batch/{token}/generate", generate, methods=["POST"]),
    Route("/jobs/{job}", job_page),
    Route("/jobs/{job}/status", job_status),
    Route("/batches/{name}", batch_page),
    Route("/files/{name}/{file}", download),
    Route("/letters/{name}/{file}/{position:int}", letter_page),
    Route("/pictures/{name}/{file}/{position:int}.png", letter_picture),
]
