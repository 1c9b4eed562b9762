"""What keeps the office app safe: login, CSRF tokens, body and upload limits, safe names,
no personal data in the server's log."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cchc_letters.web")

PASSWORD_ENV = "CCHC_WEB_PASSWORD"
MAX_BODY_BYTES = 60 * 1024 * 1024  # one request: a day's exports
MAX_FILE_BYTES = 25 * 1024 * 1024  # one export or template
MAX_FILES = 10
CSRF_FIELD = "csrf"

# What each upload may be: suffix → the first bytes its content must start with (None: text)
EXPORT_KINDS: dict[str, tuple[bytes, ...] | None] = {
    ".xlsx": (b"PK\x03\x04",),
    ".xlsm": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
    ".csv": None,
    ".txt": None,
    ".tsv": None,
}
TEMPLATE_KINDS: dict[str, tuple[bytes, ...] | None] = {".docx": (b"PK\x03\x04",)}


class UploadRefused(Exception):
    """An upload that is too large or not of an accepted kind (message in Vietnamese)."""


def is_loopback(host: str) -> bool:
    """Return True when ``host`` only accepts connections from this computer."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def configured_password(profile_raw: dict[str, Any] | None) -> str | None:
    """Return the app's password: $CCHC_WEB_PASSWORD, else the profile's [web] password."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    web = (profile_raw or {}).get("web", {})
    value = web.get("password") if isinstance(web, dict) else None
    return value if isinstance(value, str) and value else None


def password_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def csrf_token(request: Request) -> str:
    """Return this session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def checked_form(request: Request) -> FormData:
    """Return the POSTed form after checking its CSRF token; 403 without the right one."""
    form = await request.form(max_files=MAX_FILES, max_fields=200, max_part_size=1024 * 1024)
    expected = request.session.get(CSRF_FIELD)
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
        await form.close()
        raise HTTPException(403, "Phiên làm việc đã hết hạn: tải lại trang rồi thử lại (CSRF).")
    return form


def uploaded_files(form: FormData, field: str) -> list[UploadFile]:
    return [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]


def slug(name: str, limit: int = 40) -> str:
    """Return a harmless file-name part made from ``name``: ASCII letters, digits and '-'."""
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", bare).strip("-")[:limit].strip("-") or "tep"


def display_name(name: str) -> str:
    """Return the browser's file name as shown on a page: its last part only, NFC."""
    last = re.split(r"[\\/]", name)[-1]
    return unicodedata.normalize("NFC", last)[:120]


async def save_upload(
    upload: UploadFile, folder: Path, stem: str, kinds: dict[str, tuple[bytes, ...] | None]
) -> Path:
    """Save ``upload`` in ``folder`` as ``stem`` + its suffix (a generated name); refuse one
    that is too large or whose suffix or content is not of ``kinds``."""
    shown = display_name(upload.filename or "")
    suffix = Path(shown).suffix.lower()
    if suffix not in kinds:
        accepted = ", ".join(sorted(kinds))
        raise UploadRefused(f"{shown}: không nhận loại tệp này (chỉ nhận {accepted}).")
    head = await upload.read(8)
    magic = kinds[suffix]
    if magic is not None and not any(head.startswith(m) for m in magic):
        raise UploadRefused(f"{shown}: nội dung không phải tệp {suffix} thật (file content).")
    if magic is None and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadRefused(f"{shown}: không phải tệp văn bản CSV (binary content).")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}{suffix}"
    size = len(head)
    with target.open("wb") as fh:
        fh.write(head)
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                fh.close()
                target.unlink(missing_ok=True)
                raise UploadRefused(
                    f"{shown}: tệp quá lớn (quá {MAX_FILE_BYTES // (1024 * 1024)} MB)."
                )
            fh.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise UploadRefused(f"{shown}: tệp rỗng (empty file).")
    return target


TOKEN = re.compile(r"[0-9a-f]{16}")


def new_token() -> str:
    return secrets.token_hex(8)


def token_or_404(value: str) -> str:
    if not TOKEN.fullmatch(value):
        raise HTTPException(404, "Không tìm thấy.")
    return value


def inside(folder: Path, name: str) -> Path:
    """Return ``folder/name`` for a plain file name directly inside ``folder``; 404 for any
    other name (separators, '..', hidden files) or a file that is not there."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        raise HTTPException(404, "Không tìm thấy.")
    path = folder / name
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise HTTPException(404, "Không tìm thấy.") from None
    if resolved.parent != folder.resolve() or not resolved.is_file():
        raise HTTPException(404, "Không tìm thấy.")
    return resolved


# ---- ASGI middleware -------------------------------------------------------------------


@dataclass
class BodyLimit:
    """Refuse (413) a request body larger than ``limit`` bytes, declared or streamed."""

    app: ASGIApp
    limit: int = MAX_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.limit:
            return await _too_large(scope, receive, send)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    limit = MAX_BODY_BYTES // (1024 * 1024)
    response = HTMLResponse(
        f"<h1>Tệp tải lên quá lớn</h1><p>Mỗi lần tải tối đa {limit} MB.</p>", status_code=413
    )
    await response(scope, receive, send)


@dataclass
class RequestLog:
    """Log each request as method, path and status only: queries (names searched for) and
    bodies never reach the log; an unexpected error is logged by its type and place only."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = {"code": 500}
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # noqa: BLE001 — never a traceback with people's data in it
            frame = exc.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            where = (
                f"{Path(frame.tb_frame.f_code.co_filename).name}:{frame.tb_lineno}" if frame else ""
            )
            log.error("unexpected %s at %s", type(exc).__name__, where)
            if not started:
                await HTMLResponse(
                    "<h1>Lỗi không mong đợi</h1><p>Thao tác chưa hoàn tất. Hãy thử lại; nếu "
                    "vẫn lỗi, báo cho người quản trị (xem nhật ký của ngày).</p>",
                    status_code=500,
                )(scope, receive, send)
        log.info("%s %s %d", scope.get("method"), _safe_path(scope.get("path", "")), status["code"])


def _safe_path(path: str) -> str:
    # a ledger key or a file name is not personal; anything else long is cut short
    return path if len(path) < 120 else path[:117] + "…"


@dataclass
class LoginRequired:
    """With a password configured, every page but the login page needs a logged-in session."""

    app: ASGIApp
    password: str | None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.password:
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path == "/login" or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        if scope.get("session", {}).get("user"):
            return await self.app(scope, receive, send)
        response: Response
        if scope.get("method") == "GET":
            response = RedirectResponse("/login", status_code=303)
        else:
            response = HTMLResponse("<h1>Cần đăng nhập</h1>", status_code=403)
        await response(scope, receive, send)
