"""`cchc-letters serve`: the office web app, in the browser of this computer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cchc_letters.cli.app import app
from cchc_letters.cli.common import ProfileOption, user_errors

DEFAULT_OUT = Path.home() / "cchc-letters"


@app.command("serve")
def serve(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder: batches, the ledger and the app's uploads. "
            "Default: cchc-letters in your home folder.",
            show_default=False,
        ),
    ] = DEFAULT_OUT,
    profile: ProfileOption = None,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8765,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. Anything but this computer (127.0.0.1) needs a "
            "password: $CCHC_WEB_PASSWORD or [web] password in the profile.",
        ),
    ] = "127.0.0.1",
    inbox: Annotated[
        Path | None,
        typer.Option(
            "--inbox",
            help="The inbox folder of `watch`: the batch page offers the exports waiting "
            "there, and moves them to INBOX/processed/DATE/ once their batch is written.",
            file_okay=False,
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the browser on the app.")
    ] = False,
) -> None:
    """Ứng dụng văn phòng — the office app: upload the day's exports, see rejected rows,
    generate and download the letters, check templates, search the ledger, in a browser.

    Stop it with Ctrl+C (or by closing its window).
    """
    from cchc_letters.profile import load_profile
    from cchc_letters.web.security import PASSWORD_ENV, configured_password, is_loopback

    with user_errors():
        loaded = load_profile(profile)
        password = configured_password(loaded.raw)
        if not is_loopback(host) and not password:
            raise typer.BadParameter(
                f"{host} cho phép máy khác truy cập nên cần mật khẩu (another computer could "
                f"reach it: a password is required). Đặt biến môi trường {PASSWORD_ENV}, hoặc "
                "[web] password trong hồ sơ xã; hoặc bỏ --host để chỉ dùng trên máy này.",
                param_hint="--host",
            )
        _check_port(host, port)
    _run(out, profile, host, port, password, open_browser=not no_browser, inbox=inbox)


def _check_port(host: str, port: int) -> None:
    import socket

    from cchc_letters.errors import CchcError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CchcError(
                f"không mở được cổng {port} trên {host} ({exc.strerror}): có thể ứng dụng "
                "đang chạy rồi (port in use)",
                hint=f"Mở http://{host}:{port}/ trong trình duyệt, hoặc dùng --port khác.",
            ) from None


def _run(
    out: Path,
    profile: Path | None,
    host: str,
    port: int,
    password: str | None,
    open_browser: bool,
    inbox: Path | None = None,
) -> None:
    import threading
    import webbrowser

    import uvicorn

    from cchc_letters.web import WebConfig, create_app
    from cchc_letters.web.security import is_loopback

    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/"
    local = ["127.0.0.1", "localhost", "::1", "[::1]"]
    config = WebConfig(
        out_dir=out,
        profile_path=profile,
        password=password,
        allowed_hosts=local if is_loopback(host) else None,
        inbox=inbox,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            access_log=False,  # its lines carry query strings (names searched for)
            server_header=False,
            log_level="warning",
        )
    )
    import logging

    requests_log = logging.getLogger("cchc_letters.web")
    requests_log.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    requests_log.addHandler(handler)
    typer.echo(f"Ứng dụng đang chạy tại {url} — dừng bằng Ctrl+C. Thư mục thư: {out}")

    def open_when_ready() -> None:
        for _ in range(100):
            if server.started:
                webbrowser.open(url)
                return
            threading.Event().wait(0.05)

    if open_browser:
        threading.Thread(target=open_when_ready, daemon=True).start()
    server.run()
