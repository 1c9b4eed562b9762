"""`cchc-letters serve`: who it listens to, when it refuses to start, a real start."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from docx_edit import write_profile
from serve_helpers import free_port, serve_process
from typer.testing import CliRunner

from cchc_letters.cli import app
from cchc_letters.cli import serve as serve_module
from cchc_letters.web.security import PASSWORD_ENV, is_loopback

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def started(monkeypatch):
    """Record what serve would run instead of running a server."""
    calls = []
    monkeypatch.setattr(serve_module, "_run", lambda *args, **kw: calls.append((args, kw)))
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return calls


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")


def test_another_host_without_a_password_refuses_to_start(started, tmp_path):
    result = runner.invoke(
        app, ["serve", "--host", "0.0.0.0", "--out", str(tmp_path), "--no-browser"]
    )
    assert result.exit_code == 2, result.output
    assert "mật khẩu" in result.output and PASSWORD_ENV in result.output
    assert started == []


def test_another_host_starts_with_a_password_from_the_environment(started, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "bí mật")
    port = free_port()
    result = runner.invoke(
        app,
        ["serve", "--host", "0.0.0.0", "--port", str(port), "--out", str(tmp_path), "--no-browser"],
    )
    assert result.exit_code == 0, result.output
    (args, kw) = started[0]
    assert args[2:5] == ("0.0.0.0", port, "bí mật") and kw == {"open_browser": False, "inbox": None}


def test_password_from_the_profile(started, tmp_path):
    profile = write_profile(tmp_path)
    profile.write_text(
        profile.read_text(encoding="utf-8") + '\n[web]\npassword = "xã-123"\n', encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--profile",
            str(profile),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert started[0][0][4] == "xã-123" and started[0][1] == {"open_browser": True, "inbox": None}


def test_local_start_needs_no_password(started, tmp_path):
    result = runner.invoke(
        app, ["serve", "--port", str(free_port()), "--out", str(tmp_path), "--no-browser"]
    )
    assert result.exit_code == 0, result.output
    assert started[0][0][2:5][0] == "127.0.0.1" and started[0][0][4] is None


def test_a_port_in_use_is_a_plain_message(started, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"cổng {port}" in result.output and "Traceback" not in result.output
    assert started == []


def test_serve_answers_in_a_real_server(tmp_path):
    with serve_process(tmp_path / "out", capture=True) as server:
        with urllib.request.urlopen(server.url + "/batch", timeout=5) as response:
            assert "Lô thư hôm nay" in response.read().decode("utf-8")
        # another site's name for this computer (DNS rebinding) is not answered
        request = urllib.request.Request(server.url + "/batch", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
        refused.value.close()
    assert f"http://localhost:{server.port}/" in server.output
    assert "GET /batch 200" in server.output  # the server's own request log


def test_windows_officers_start_it_with_a_double_click():
    script = (ROOT / "tools" / "cchc-letters-app.cmd").read_bytes()
    assert script.count(b"\r\n") == script.count(b"\n")  # CRLF, as cmd.exe wants
    text = script.decode("ascii")
    assert "cchc-letters serve --out" in text and "py -m cchc_letters serve --out" in text
    assert "cchc-letters-app.cmd" in (ROOT / "README.md").read_text(encoding="utf-8")
