"""`cachecost registry-scan` pointed at something that is not a registry says so, in one line.

A plain web server answers ``GET /v2/`` with 404, or 200 and an HTML page (a
directory listing, a GitLab instance's sign-in page after a redirect); the OCI
distribution spec says a registry answers 200 or 401 there. The scan used to go
on to ``/v2/_catalog`` and report "not found"; with --project it said the project
was "not found, or its registry is disabled". TLS to a plain-HTTP port was
retried nine times and called "unreachable (SSLError)".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cachecost.cli import main

HTML = b"<!DOCTYPE html><html><body>Sign in</body></html>"


class WebServer:
    """127.0.0.1: a web site that is not a registry; ``mode`` says how /v2/ answers."""

    def __init__(self, mode: str) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.hits += 1
                if mode == "gitlab-web" and self.path.startswith("/v2/"):
                    self.send_response(302)                 # GitLab: sign in first
                    self.send_header("Location", "/users/sign_in")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 404 if mode == "404" and self.path.startswith("/v2/") else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(HTML)))
                self.end_headers()
                self.wfile.write(HTML)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(params=["404", "html-200", "gitlab-web"])
def web(request: pytest.FixtureRequest) -> Iterator[WebServer]:
    server = WebServer(request.param)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var in ("CACHECOST_REGISTRY_USER", "CACHECOST_REGISTRY_PASSWORD", "GITLAB_TOKEN",
                "GITLAB_PRIVATE_TOKEN", "CI_SERVER_URL", "GITLAB_URL", "CI_JOB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "none.cfg"))


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cachecost: error: "), err
    return err[0]


def test_web_server_is_not_a_container_registry(web: WebServer, capsys) -> None:
    assert main(["registry-scan", "--registry", web.url, "--quiet"]) == 2
    line = one_error_line(capsys)
    assert f"{web.url} is not a container registry (no OCI distribution API at /v2/" in line
    assert "not found" not in line and "disabled" not in line
    assert web.hits <= 2                     # /v2/ (and a redirect): not the catalog too


def test_web_server_as_the_gitlab_of_project(web: WebServer, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-FAKE-0000")
    assert main(["registry-scan", "--url", web.url, "--project", "team/proj",
                 "--quiet"]) == 2
    line = one_error_line(capsys)
    assert f"{web.url}: not a GitLab API" in line and "disabled" not in line


def test_tls_to_a_plain_http_port(monkeypatch, capsys) -> None:
    server = WebServer("html-200")
    try:
        waits: list[float] = []
        monkeypatch.setattr(time, "sleep", waits.append)     # urllib3's backoff, recorded
        https = server.url.replace("http://", "https://")
        assert main(["registry-scan", "--registry", https, "--quiet"]) == 2
        line = one_error_line(capsys)
        assert f"TLS to a plain-HTTP port: {https} does not speak https" in line
        assert f"use {server.url}" in line
        assert waits == []                  # not retried: was 9 attempts, 25.4 s of backoff
    finally:
        server.stop()


def test_wrong_port_is_told_after_two_attempts(monkeypatch, capsys) -> None:
    """The scan's first request (``/v2/``) is retried once, as the fetch's first is:
    a refused port is told at once, not after nine attempts and 25.4 s of backoff."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]          # closed again: connections are refused
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    assert main(["registry-scan", "--registry", f"http://127.0.0.1:{port}", "--quiet"]) == 2
    line = one_error_line(capsys)
    assert line.endswith(f"registry http://127.0.0.1:{port}: unreachable after 2 attempts "
                         "(connection refused)")
    assert waits == []                          # urllib3 waits 0 s before its first retry
