"""The ledger: search printed letters, a registration's history, reprint (forget)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cchc_letters.web import security
from cchc_letters.web.app import config_of, problem, render


def _ledger_path(request: Request) -> Path:
    from cchc_letters.ledger import default_path

    return default_path(config_of(request).out_dir)


def ledger_home(request: Request) -> Response:
    from cchc_letters.ledger import Ledger
    from cchc_letters.lookup import search_letters

    query = request.query_params.get("q", "")[:200]
    path = _ledger_path(request)
    letters = None
    if path.is_file():
        with Ledger.open(path, create=False) as book:
            letters = search_letters(book, query)
    return render(request, "ledger.html", {"query": query, "letters": letters, "path": path})


def history(request: Request) -> Response:
    from cchc_letters.ledger import Ledger, parse_key
    from cchc_letters.lookup import with_manifests

    key = parse_key(request.query_params.get("key", ""))
    path = _ledger_path(request)
    if not path.is_file():
        return problem(request, "Chưa có sổ theo dõi: chưa in thư nào vào thư mục này.", status=404)
    with Ledger.open(path, create=False) as book:
        entries = with_manifests(book.history(key))
    return render(
        request,
        "history.html",
        {
            "key": key,
            "entries": entries,
            "printed": any(e.entry.state == "printed" for e in entries),
            "forgotten": request.query_params.get("forgotten") == "1",
        },
        status=200 if entries else 404,
    )


async def forget(request: Request) -> Response:
    from cchc_letters.ledger import Ledger, parse_key
    from cchc_letters.pipeline import local_now

    form = await security.checked_form(request)
    key = parse_key(str(form.get("key", "")))
    path = _ledger_path(request)
    if not path.is_file():
        return problem(request, "Chưa có sổ theo dõi.", status=404)

    def forget_key() -> None:
        with Ledger.open(path, create=False) as book:
            book.forget([key], now=local_now())

    await run_in_threadpool(forget_key)
    return RedirectResponse(f"/ledger/history?key={quote(key)}&forgotten=1", status_code=303)


routes = [
    Route("/ledger", ledger_home),
    Route("/ledger/history", history),
    Route("/ledger/forget", forget, methods=["POST"]),
]
