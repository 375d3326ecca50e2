"""One retry policy, the libraries' own retries (issue 10): a URL that keeps failing is
asked ``max_retries + 1`` times and given up within 60 s at the defaults, with one line.

The waits are recorded, not waited: ``time.sleep`` (which python-gitlab and urllib3
call between attempts) is replaced by a recorder, so the test sees the schedule the
libraries really used and the stand-in counts the requests really sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cases.servers import LocalServer, answering_server

from cachecost.cli import main
from cachecost.collect.gitlab.client import connect
from cachecost.collect.oci.client import RegistryClient
from cachecost.collect.retry import DEFAULT_POLICY, GIVE_UP_WITHIN_S, RetryPolicy
from cachecost.errors import FetchInterrupted, RegistryError
from cachecost.standin import StandinServer

from .fetchkit import PROJECT, TOKEN

PROJECT_PATH = "/projects/" + PROJECT.replace("/", "%2F")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``time.sleep`` from now on is recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded


def test_default_schedules_give_up_within_a_minute() -> None:
    p = DEFAULT_POLICY
    # hand-worked: python-gitlab waits 0.1 * 2**n for n = 0..7: 0.1 * (2**8 - 1) = 25.5 s
    assert sum(p.gitlab_backoff_s()) == pytest.approx(25.5)
    # urllib3: 0 before the first retry, then 0.1 * 2**(k-1) for k = 2..8: 0.1 * 254 = 25.4 s
    assert p.registry_backoff_s()[0] == 0
    assert sum(p.registry_backoff_s()) == pytest.approx(25.4)
    assert p.max_requests == 9
    for schedule in (p.gitlab_backoff_s(), p.registry_backoff_s()):
        assert len(schedule) == p.max_retries
        assert p.worst_case_s(schedule) <= GIVE_UP_WITHIN_S


@pytest.mark.parametrize("fault", ["every_5xx", "every_drop"])
def test_gitlab_url_that_keeps_failing(standin: StandinServer, waits: list[float],
                                       fault: str) -> None:
    setattr(standin.faults, fault, 1)                 # every request fails
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN})
    with pytest.raises(FetchInterrupted) as info:
        client.get_json(PROJECT_PATH, what=f"project {PROJECT}")
    assert "\n" not in str(info.value) and standin.url in str(info.value)
    assert standin.counts["total"] == DEFAULT_POLICY.max_requests      # 9, was 121
    assert waits == DEFAULT_POLICY.gitlab_backoff_s()
    assert DEFAULT_POLICY.worst_case_s(waits) <= GIVE_UP_WITHIN_S


def test_one_get_with_two_retries_sends_three_requests(standin: StandinServer,
                                                       waits: list[float]) -> None:
    standin.faults.every_5xx = 1
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN}, max_retries=2)
    with pytest.raises(FetchInterrupted, match="HTTP 50"):
        client.get_json(PROJECT_PATH, what="project")
    assert standin.counts["total"] == 3              # was 9: one layer of retries, not three
    assert waits == [0.1, 0.2]


def test_429_waits_for_retry_after(standin: StandinServer, waits: list[float]) -> None:
    standin.faults.every_429, standin.faults.retry_after_s = 1, 7
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN}, max_retries=2)
    with pytest.raises(FetchInterrupted, match="429"):
        client.get_json(PROJECT_PATH, what="project")
    assert waits == [7, 7]                           # the server's Retry-After, not backoff


def test_fetch_against_a_failing_gitlab_stops_with_one_line(
        standin: StandinServer, token_env: str, waits: list[float], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    standin.faults.every_5xx = 1
    rc = main(["fetch", "--url", standin.url, "--project", PROJECT, "--data", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("cachecost: error: ")
    assert standin.counts["total"] <= DEFAULT_POLICY.max_requests
    assert sum(waits) <= GIVE_UP_WITHIN_S


def _unavailable(path: str) -> tuple[int, object, str, dict | None]:
    """A registry that answers every GET with 503 UNAVAILABLE."""
    return 503, {"errors": [{"code": "UNAVAILABLE"}]}, "application/json", None


@pytest.fixture
def failing_registry() -> Iterator[LocalServer]:
    with answering_server(_unavailable) as server:
        yield server


def test_registry_url_that_keeps_failing(failing_registry: LocalServer,
                                         waits: list[float]) -> None:
    client = RegistryClient(failing_registry.url)
    with pytest.raises(RegistryError, match="HTTP 503") as info:
        client.list_tags("qemu/debian")
    assert "\n" not in str(info.value)
    assert failing_registry.hits == client.request_count == DEFAULT_POLICY.max_requests
    assert waits == [w for w in DEFAULT_POLICY.registry_backoff_s() if w > 0]
    assert DEFAULT_POLICY.worst_case_s(waits) <= GIVE_UP_WITHIN_S


def test_unreachable_registry_counts_every_attempt(waits: list[float]) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]               # closed again: nothing listens there
    policy = RetryPolicy(max_retries=3)
    client = RegistryClient(f"http://127.0.0.1:{port}", policy=policy)
    with pytest.raises(RegistryError, match="unreachable after 4 attempts"):
        client.list_tags("qemu/debian")
    assert client.request_count == 4
    assert waits == [w for w in policy.registry_backoff_s() if w > 0]
