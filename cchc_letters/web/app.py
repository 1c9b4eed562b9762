"""The Starlette application: configuration, page rendering, routes and middleware.

A page that reads files, the ledger or LibreOffice is a plain ``def``: Starlette runs it in
its thread pool, so a search of a province's ledger or a page picture being made never holds
up another officer's page (an ``async def`` page runs on the one event loop). A page that
reads a form awaits it, then hands its work to ``run_in_threadpool``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cchc_letters.errors import CchcError
from cchc_letters.kept import Kept
from cchc_letters.web import security

if TYPE_CHECKING:
    from collections.abc import Callable

    from cchc_letters.web.jobs import Job

HERE = Path(__file__).resolve().parent
PRIVATE_DIR = ".cchc-web"  # OUT/.cchc-web: uploads, checked templates, page pictures
MAPPING_NAME = "column-mapping.toml"  # OUT/column-mapping.toml: headings chosen in the app
# Upload pages kept, each as checked for its files, letter date, mapping, profile and ledger
# (pages_batch._inspect): a province's year takes 20 s or more to check, and showing its
# page again (back, reload, a second officer) needs none of it while nothing changed.
UPLOAD_VIEWS_KEPT = 8


@dataclass
class WebConfig:
    """What `serve` was started with."""

    out_dir: Path
    profile_path: Path | None = None
    password: str | None = None
    # Host headers answered (None: any). On 127.0.0.1 `serve` names only this computer's own,
    # so a web page the officer opens elsewhere cannot read the app through DNS rebinding.
    allowed_hosts: list[str] | None = None
    inbox: Path | None = None  # `watch`'s inbox, whose waiting exports the batch page offers
    lock_wait: float = 30.0  # seconds to wait for a CLI run holding OUT's lock
    today: Callable[[], date] = (
        date.today
    )  # the default letter date of the forms (tests pass a fixed one)
    jobs: dict[str, Job] = field(default_factory=dict)
    upload_views: Kept[tuple[str, date], dict[str, Any]] = field(
        default_factory=lambda: Kept(UPLOAD_VIEWS_KEPT)
    )
    # the uploads being checked in the background: rows checked so far (the waiting page)
    upload_rows_checked: dict[tuple[str, date], int] = field(default_factory=dict)

    @property
    def private(self) -> Path:
        return self.out_dir / PRIVATE_DIR

    @property
    def mapping_path(self) -> Path:
        return self.out_dir / MAPPING_NAME


def config_of(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config  # set by create_app
    return config


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["vn_date"] = lambda d: f"{d:%d/%m/%Y}" if d else "—"
    env.filters["vn_iso"] = _vn_iso
    env.filters["vn_number"] = _vn_number
    from cchc_letters.filters import capfirst  # the letters' own filter: shown as printed

    env.filters["capfirst"] = capfirst
    return Jinja2Templates(env=env)


def _vn_iso(text: str | None) -> str:
    """Show an ISO date or timestamp as DD/MM/YYYY (HH:MM)."""
    if not text:
        return "—"
    day = f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return f"{day} {text[11:16]}" if len(text) > 10 else day


def _vn_number(number: int) -> str:
    """Show a count as Vietnamese write it: 97.365."""
    from babel.numbers import format_decimal

    return format_decimal(number, locale="vi")


PAGES = _templates()


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """Return the page ``name`` with the common context (CSRF token, login state)."""
    config = config_of(request)
    base = {
        "csrf": security.csrf_token(request),
        "logged_in": bool(request.session.get("user")),
        "password": bool(config.password),
        "nav": request.url.path.split("/")[1] or "batch",
    }
    return PAGES.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status)


def problem(request: Request, message: str, hint: str | None = None, status: int = 400) -> Response:
    """Return the error page: what went wrong and what to do, never a traceback."""
    return render(request, "problem.html", {"message": message, "hint": hint}, status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(request, exc.detail, status=exc.status_code)


async def _user_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CchcError)
    return problem(request, exc.message, exc.hint, status=409 if exc.exit_code == 4 else 400)


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "login.html", {"wrong": False})
    form = await security.checked_form(request)
    config = config_of(request)
    given = form.get("password")
    if (
        config.password
        and isinstance(given, str)
        and security.password_matches(given, config.password)
    ):
        csrf = request.session.get(security.CSRF_FIELD)
        request.session.clear()
        request.session["user"] = True
        request.session[security.CSRF_FIELD] = csrf
        return RedirectResponse("/", status_code=303)
    import asyncio

    await asyncio.sleep(1)  # a wrong password costs a second: guessing stays slow
    return render(request, "login.html", {"wrong": True}, status=403)


async def logout(request: Request) -> Response:
    await security.checked_form(request)
    request.session.clear()
    return RedirectResponse("/login" if config_of(request).password else "/", status_code=303)


async def home(request: Request) -> Response:
    return RedirectResponse("/batch", status_code=303)


def create_app(config: WebConfig) -> Starlette:
    """Return the office app for ``config`` (one per `serve`; tests make their own)."""
    from cchc_letters.web import pages_batch, pages_ledger, pages_other, pages_templates

    routes = [
        Route("/", home),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        *pages_batch.routes,
        *pages_templates.routes,
        *pages_ledger.routes,
        *pages_other.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(security.RequestLog),
        *(
            [Middleware(TrustedHostMiddleware, allowed_hosts=config.allowed_hosts)]
            if config.allowed_hosts
            else []
        ),
        Middleware(security.BodyLimit),
        Middleware(
            SessionMiddleware,
            secret_key=secrets.token_urlsafe(32),  # a new one each start: sessions end with it
            session_cookie="cchc_session",
            same_site="strict",
            max_age=12 * 3600,
        ),
        Middleware(security.LoginRequired, password=config.password),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error, CchcError: _user_error},
    )
    app.state.config = config
    return app


def html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
