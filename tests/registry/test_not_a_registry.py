"""`cachecost registry-scan` pointed at something that is not a registry says so, in one line.

A plain web server answers ``GET /v2/`` with 404, or 200 and an HTML page (a
directory listing, a GitLab instance's sign-in page after a redirect); the OCI
distribution spec says a registry answers 200 or 401 there. The scan used to go
on to ``/v2/_catalog`` and report "not found"; with --project it said the project
was "not found, or its registry is disabled". TLS to a plain-HTTP port was
retried nine times and called "unreachable (SSLError)".
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cases.servers import Answer, LocalServer, answering_server

from cachecost.cli import main

HTML = b"<!DOCTYPE html><html><body>Sign in</body></html>"


def web_site(mode: str) -> Answer:
    """A web site that is not a registry; ``mode`` says how /v2/ answers: ``404``,
    ``html-200`` (its HTML page) or ``gitlab-web`` (GitLab's redirect to sign in)."""
    def answer(path: str) -> tuple[int, object, str, dict | None]:
        if mode == "gitlab-web" and path.startswith("/v2/"):
            return 302, "", "text/html", {"Location": "/users/sign_in"}   # sign in first
        status = 404 if mode == "404" and path.startswith("/v2/") else 200
        return status, HTML.decode(), "text/html; charset=utf-8", None
    return answer


@pytest.fixture(params=["404", "html-200", "gitlab-web"])
def web(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    with answering_server(web_site(request.param)) as server:
        yield server


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


def test_web_server_is_not_a_container_registry(web: LocalServer, capsys) -> None:
    assert main(["registry-scan", "--registry", web.url, "--quiet"]) == 2
    line = one_error_line(capsys)
    assert f"{web.url} is not a container registry (no OCI distribution API at /v2/" in line
    assert "not found" not in line and "disabled" not in line
    assert web.hits <= 2                     # /v2/ (and a redirect): not the catalog too


def test_web_server_as_the_gitlab_of_project(web: LocalServer, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-FAKE-0000")
    assert main(["registry-scan", "--url", web.url, "--project", "team/proj",
                 "--quiet"]) == 2
    line = one_error_line(capsys)
    assert f"{web.url}: not a GitLab API" in line and "disabled" not in line


def test_tls_to_a_plain_http_port(monkeypatch, capsys) -> None:
    with answering_server(web_site("html-200")) as server:
        waits: list[float] = []
        monkeypatch.setattr(time, "sleep", waits.append)     # urllib3's backoff, recorded
        https = server.url.replace("http://", "https://")
        assert main(["registry-scan", "--registry", https, "--quiet"]) == 2
        line = one_error_line(capsys)
        assert f"TLS to a plain-HTTP port: {https} does not speak https" in line
        assert f"use {server.url}" in line
        assert waits == []                  # not retried: was 9 attempts, 25.4 s of backoff


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
