"""Giving up is bounded and the line saying so is true.

* A server that accepts the TCP connection and never answers used to be asked
  ``max_retries + 1`` = 9 times, each waiting out the read timeout: 9 x (5 + 30) s
  + 25.5 s of backoff = 340 s at the defaults. Timeouts now have a budget of their
  own (``timeout_retries``, 1): such a server is given up after 2 requests, within
  :meth:`RetryPolicy.worst_case_s` ``(answering=False)`` = 2 x (5 + 30) + 0.1 = 70.1 s.
  The tests shrink the timeouts so they run in about two seconds, on a real socket
  (127.0.0.1) that accepts and never answers.
* A fetch that fails says what it left on disk: "nothing was written" when it wrote
  nothing, the rows it saved when it saved some; and "N attempts" only when N were made.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.collect.fetch import fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.collect.gitlab.graphql import namespace_registry_usage
from cachecost.collect.oci.client import RegistryClient
from cachecost.collect.retry import (
    DEFAULT_POLICY,
    NO_ANSWER_GIVE_UP_WITHIN_S,
    RetryPolicy,
)
from cachecost.dataset.io import read_table
from cachecost.errors import FetchInterrupted, GraphqlUnavailable, RegistryError
from cachecost.standin import StandinServer

from .fetchkit import PROJECT, TOKEN

#: Shrunk timeouts: the silent server costs each request the read timeout (its connect
#: succeeds at once), so the bound's connect share is slack for a loaded machine.
SHRUNK = RetryPolicy(connect_timeout_s=1.0, read_timeout_s=0.6)


class SilentServer:
    """127.0.0.1: accepts every connection, reads nothing, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.accepted.append(conn)

    @property
    def connections(self) -> int:
        """Connections accepted so far: one per request (none is answered, so none reused)."""
        with self._lock:
            return len(self.accepted)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_default_give_up_times() -> None:
    p = DEFAULT_POLICY
    # hand-worked: never answering, 2 requests x (5 s connect + 30 s read) + the 0.1 s
    # python-gitlab waits before its first retry; urllib3 waits 0 before its first
    assert p.max_timeouts == 2
    assert p.worst_case_s(p.gitlab_backoff_s(), answering=False) == pytest.approx(70.1)
    assert p.worst_case_s(p.registry_backoff_s(), answering=False) == pytest.approx(70.0)
    assert p.worst_case_s(p.gitlab_backoff_s(), answering=False) <= NO_ANSWER_GIVE_UP_WITHIN_S
    # any mix of errors and silence: all 8 waits (25.5 s) + 2 x 35 s
    assert p.give_up_within_s(p.gitlab_backoff_s()) == pytest.approx(95.5)
    # what it was: every one of the 9 requests waited out both timeouts
    assert p.max_requests * (5 + 30) + sum(p.gitlab_backoff_s()) == pytest.approx(340.5)


def test_gitlab_silent_server_is_given_up_after_the_timeout_budget(
        silent: SilentServer) -> None:
    client = connect(silent.url, environ={"GITLAB_TOKEN": TOKEN}, policy=SHRUNK)
    started = time.monotonic()
    with pytest.raises(FetchInterrupted) as info:
        client.get_json("/projects/1/jobs", what="jobs")       # no attempts cap: the policy's
    elapsed = time.monotonic() - started
    assert silent.connections == SHRUNK.max_timeouts == 2      # was 9
    # the requests really waited out their read timeouts (no upper bound on time: the
    # give-up bound follows from the request count and worst_case_s, checked above)
    assert elapsed >= SHRUNK.max_timeouts * SHRUNK.read_timeout_s
    message = str(info.value)
    assert f"no answer within the {SHRUNK.read_timeout_s:g} s read timeout" in message and "2 attempts" in message
    assert "\n" not in message and "saved" not in message


def test_registry_silent_server_is_given_up_after_the_timeout_budget(
        silent: SilentServer) -> None:
    client = RegistryClient(silent.url, policy=SHRUNK)
    started = time.monotonic()
    with pytest.raises(RegistryError, match=r"after 2 attempts \(no answer within the 0.6 s read timeout"):
        client.list_tags("qemu/debian")
    elapsed = time.monotonic() - started
    assert silent.connections == client.request_count == 2      # was 9
    assert elapsed >= SHRUNK.max_timeouts * SHRUNK.read_timeout_s


def test_graphql_silent_server_costs_one_request(silent: SilentServer) -> None:
    """python-gitlab's GraphQL retries HTTP errors only: a timeout ends it at once."""
    client = connect(silent.url, environ={"GITLAB_TOKEN": TOKEN}, policy=SHRUNK)
    with pytest.raises(GraphqlUnavailable):
        namespace_registry_usage(client, "qemu-project")
    assert silent.connections == 1


def test_refused_first_contact_says_nothing_was_written(
        token_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]          # closed again: connections are refused
    out = tmp_path / "data"
    rc = main(["fetch", "--url", f"http://127.0.0.1:{port}", "--project", PROJECT,
               "--data", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "connection refused" in err[0] and "nothing was written" in err[0]
    assert "saved" not in err[0]
    assert "2 attempts" in err[0]              # the first contact's cap, not the policy's 9
    assert not out.exists()


def test_failure_mid_fetch_says_what_was_saved(
        standin: StandinServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in drops every connection after 40 requests: some pages are saved."""
    monkeypatch.setattr(time, "sleep", lambda s: None)       # python-gitlab's backoff
    standin.faults.die_after = 40
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN}, max_retries=1)
    with pytest.raises(FetchInterrupted) as info:
        fetch_project_history(client, PROJECT, tmp_path)
    message = str(info.value)
    jobs = read_table(tmp_path, "jobs", required=False)
    pipelines = read_table(tmp_path, "pipelines", required=False)
    saved = [f"{len(t):,} {name}" for name, t in (("pipelines", pipelines), ("jobs", jobs))
             if t is not None]
    assert saved, "the stand-in died before anything was saved: raise die_after"
    assert f"{tmp_path} holds {' and '.join(saved)}" in message
    assert "run the same command again to resume" in message
    assert "nothing" not in message
