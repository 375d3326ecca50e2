"""The jobs walk in parallel id segments: GitLab's cursor shape, several chains at once,
the floor, resumption from saved segments, and the one-chain fallback."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cachecost.collect.gitlab.jobwalk as jobwalk
import cachecost.standin.server as server_mod
from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.collect.gitlab.jobs import JobsCursor
from cachecost.collect.store import STATE_FILE
from cachecost.dataset.io import Dataset, load_dataset
from cachecost.errors import CachecostError
from cachecost.standin import StandinServer

from .fetchkit import PROJECT, TOKEN, WALK_SLACK
from .test_incremental import assert_same_dataset

GITLAB_LINK = ("https://gitlab.example.com/api/v4/projects/1/jobs?order_by=id&page=1"
               "&pagination=keyset&per_page=20&sort=desc&cursor=")


def gitlab_cursor(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


def decoded_cursor(url: str) -> dict:
    value = url.split("cursor=")[1].split("&")[0].replace("%3D", "=")
    return json.loads(base64.urlsafe_b64decode(value))


# ---------------------------------------------------------------- the cursor


def test_cursor_builds_gitlabs_own_links_for_any_id() -> None:
    link = GITLAB_LINK + gitlab_cursor({"id": "1489483463", "_kd": "n"})
    cursor = JobsCursor.from_next_url(link, last_id=1489483463)
    assert cursor is not None
    built = cursor.url_below(1489483463)
    assert decoded_cursor(built) == {"id": "1489483463", "_kd": "n"}   # id as text, like GitLab
    below = cursor.url_below(1000)
    assert decoded_cursor(below) == {"id": "1000", "_kd": "n"}
    assert below.startswith("https://gitlab.example.com/api/v4/projects/1/jobs?")
    for param in ("order_by=id", "pagination=keyset", "per_page=20", "sort=desc"):
        assert param in below


@pytest.mark.parametrize("cursor, last_id", [
    (gitlab_cursor({"id": "41", "_kd": "n"}), 42),                   # not the page's last job
    (gitlab_cursor({"id": "42", "_kd": "p"}), 42),                   # backwards
    (gitlab_cursor({"id": "42", "created_at": "x", "_kd": "n"}), 42),  # another ordering
    (gitlab_cursor(["42"]), 42),
    (gitlab_cursor({"id": "forty-two", "_kd": "n"}), None),
    ("not base64 at all!", None),
    (base64.urlsafe_b64encode(b"v2:42").decode(), None),             # some other server's
], ids=["wrong-id", "backward", "other-order", "list", "text-id", "garbage", "opaque"])
def test_cursor_refuses_what_is_not_gitlabs_shape(cursor: str, last_id: int | None) -> None:
    assert JobsCursor.from_next_url(GITLAB_LINK + cursor, last_id=last_id) is None


def test_cursor_needs_a_link() -> None:
    assert JobsCursor.from_next_url(None) is None
    assert JobsCursor.from_next_url("https://gitlab.example.com/api/v4/projects/1/jobs") is None


# ---------------------------------------------------------------- the walk


@pytest.fixture
def job_pages_at_once(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Track how many job-page requests the walk has open at once (``max``)."""
    real, lock, seen = jobwalk.fetch_job_page, threading.Lock(), {"now": 0, "max": 0}

    def tracked(*args, **kwargs):
        with lock:
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(jobwalk, "fetch_job_page", tracked)
    return seen


def walk_fetch(srv: StandinServer, out: Path, **opts) -> None:
    client = connect(srv.url, environ={"GITLAB_TOKEN": TOKEN})
    try:
        fetch_project_history(client, PROJECT, out, FetchOptions(**opts))
    finally:
        client.close()


def test_small_segments_walk_in_parallel_and_fetch_every_job_once(
        standin: StandinServer, tmp_path: Path, reference: Dataset,
        job_pages_at_once: dict[str, int]) -> None:
    standin.faults.latency_ms = 15           # answers overlap only if asked at once
    walk_fetch(standin, tmp_path, pages_per_segment=1, logs_per_image=0)
    ds = load_dataset(tmp_path)
    assert ds.jobs["job_id"].is_unique
    # logs off: images, outcomes and which containers-stage jobs build nothing come from logs
    from_logs = ["image", "is_container_build", "cache_outcome", "cached_steps",
                 "executed_steps", "builder", "run_steps"]
    pd.testing.assert_frame_equal(ds.jobs.drop(columns=from_logs),
                                  reference.jobs.drop(columns=from_logs))
    assert job_pages_at_once["max"] == 4     # FetchOptions().workers chains at once
    pages = -(-len(ds.jobs) // 100)
    # one-page segments: each may end on a short page, and up to 3 start past the end
    assert pages < standin.counts["jobs"] <= 2 * pages + WALK_SLACK


@pytest.mark.parametrize("faults", [{"every_5xx": 3}, {"every_drop": 4},
                                    {"every_429": 5, "retry_after_s": 0}],
                         ids=["5xx", "drops", "429s"])
def test_parallel_walk_under_faults_loses_and_duplicates_nothing(
        standin: StandinServer, tmp_path: Path, reference: Dataset, faults: dict) -> None:
    for k, v in faults.items():
        setattr(standin.faults, k, v)
    walk_fetch(standin, tmp_path, pages_per_segment=1)
    assert_same_dataset(load_dataset(tmp_path), reference)


def test_interrupted_parallel_walk_resumes_from_its_segments(
        standin: StandinServer, tmp_path: Path, reference: Dataset,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = jobwalk.fetch_job_page, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) >= 5:
            raise CachecostError("connection dropped (test)")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobwalk, "fetch_job_page", failing)
    with pytest.raises(CachecostError, match="connection dropped"):
        walk_fetch(standin, tmp_path, pages_per_segment=1, workers=2, checkpoint_pages=1,
                   checkpoint_s=0)
    state = json.loads((tmp_path / STATE_FILE).read_text())["jobs"]
    walk = state["walk"]
    assert state["complete_max_id"] is None and walk["segments"]
    assert all(s["lo"] < s["hi"] and "cursor=" in s["url"] for s in walk["segments"])
    stored = set(pd.read_parquet(tmp_path / "jobs.parquet")["job_id"])
    # nothing stored lies in what the saved segments still have to read
    for s in walk["segments"]:
        below = decoded_cursor(s["url"])["id"]
        assert not any(s["lo"] <= j < int(below) for j in stored)

    monkeypatch.setattr(jobwalk, "fetch_job_page", real)
    standin.reset_counts()
    walk_fetch(standin, tmp_path, pages_per_segment=1, workers=2)
    assert_same_dataset(load_dataset(tmp_path), reference)
    remaining = len(reference.jobs) - len(stored)
    assert standin.counts["jobs"] <= 2 * -(-remaining // 100) + 2 + WALK_SLACK


def test_since_is_a_floor_for_every_segment(standin: StandinServer, tmp_path: Path,
                                            reference: Dataset) -> None:
    since = pd.Timestamp(reference.jobs["created_at"].median()).floor("D")
    walk_fetch(standin, tmp_path, pages_per_segment=1, since=since, logs_per_image=0)
    got = load_dataset(tmp_path).jobs
    want = reference.jobs[reference.jobs["created_at"] >= since]
    assert 0 < len(got) < len(reference.jobs)
    assert sorted(got["job_id"]) == sorted(want["job_id"])


def test_unknown_cursor_shape_falls_back_to_one_chain(
        standin: StandinServer, tmp_path: Path, reference: Dataset,
        monkeypatch: pytest.MonkeyPatch, job_pages_at_once: dict[str, int]) -> None:
    def opaque(job_id: int) -> str:                       # a cursor JobsCursor can't read
        return base64.urlsafe_b64encode(f"v2:{job_id}".encode()).decode()

    def unopaque(cursor: str) -> int:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1])

    monkeypatch.setattr(server_mod, "_cursor", opaque)
    monkeypatch.setattr(server_mod, "_uncursor", unopaque)
    standin.faults.latency_ms = 10
    walk_fetch(standin, tmp_path, pages_per_segment=1, logs_per_image=0)
    ds = load_dataset(tmp_path)
    assert sorted(ds.jobs["job_id"]) == sorted(reference.jobs["job_id"])
    assert standin.counts["jobs"] == -(-len(ds.jobs) // 100)      # one chain, no extra page
    assert job_pages_at_once["max"] == 1


# ---------------------------------------------------------------- the algorithm, in memory


class FakeJobsList:
    """GitLab's keyset-paginated jobs list in memory, answering in a shuffled order.

    Each answer waits a random moment, so the walk's pages complete out of order
    as they do over a network; ``fail_at`` makes that call raise.
    """

    def __init__(self, ids: list[int], per_page: int, seed: int, fail_at: int = 0) -> None:
        self.ids = sorted(ids, reverse=True)
        self.per_page, self.fail_at = per_page, fail_at
        self.rng = random.Random(seed)
        self.calls = 0
        self.lock = threading.Lock()
        self.base = datetime(2025, 1, 1, tzinfo=UTC)

    def created_at(self, job_id: int) -> datetime:
        return self.base + timedelta(seconds=job_id)

    def __call__(self, client, project_id, url=None):
        with self.lock:
            self.calls += 1
            n, pause = self.calls, self.rng.random() * 0.002
        time.sleep(pause)
        if n == self.fail_at:
            raise CachecostError("dropped (test)")
        below = int(decoded_cursor(url)["id"]) if url else 2**63
        page = [i for i in self.ids if i < below][:self.per_page + 1]
        more, page = len(page) > self.per_page, page[:self.per_page]
        nxt = GITLAB_LINK + gitlab_cursor({"id": str(page[-1]), "_kd": "n"}) if more else None
        return [{"id": i, "created_at": self.created_at(i).isoformat(),
                 "pipeline": {"id": 1}, "name": "build"} for i in page], nxt


walk_cases = st.fixed_dictionaries({
    "ids": st.lists(st.integers(1, 5_000), min_size=0, max_size=300, unique=True),
    "per_page": st.integers(1, 12),
    "workers": st.integers(1, 5),
    "pages_per_segment": st.integers(1, 3),
    "stop": st.one_of(st.none(), st.integers(0, 5_000)),
    "since": st.one_of(st.none(), st.integers(0, 5_000)),
    "seed": st.integers(0, 2**16),
})


def wanted(fake: FakeJobsList, case: dict) -> list[int]:
    since = None if case["since"] is None else fake.created_at(case["since"])
    return sorted(i for i in fake.ids
                  if (case["stop"] is None or i > case["stop"])
                  and (since is None or fake.created_at(i) >= since))


def start_walk(case: dict, fake: FakeJobsList) -> jobwalk.JobWalk:
    since = None if case["since"] is None else fake.created_at(case["since"])
    return jobwalk.JobWalk(None, 1, stop_id=case["stop"], since=since,
                                 workers=case["workers"],
                                 pages_per_segment=case["pages_per_segment"])


@settings(max_examples=150, deadline=None)
@given(case=walk_cases)
def test_walk_keeps_every_wanted_job_exactly_once(case: dict) -> None:
    fake = FakeJobsList(case["ids"], case["per_page"], case["seed"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jobwalk, "fetch_job_page", fake)
        walk = start_walk(case, fake)
        got = []
        for items in walk.pages():
            got += [i["id"] for i in items]
            above = walk.read_above()                 # what a log sample may rely on
            assert {i for i in wanted(fake, case) if i >= above} <= set(got)
    assert sorted(got) == wanted(fake, case)          # none missed, none twice
    assert walk.is_complete and walk.state() is None


@settings(max_examples=150, deadline=None)
@given(case=walk_cases, fail_at=st.integers(1, 12))
def test_walk_cut_anywhere_resumes_without_gap_or_repeat(case: dict, fail_at: int) -> None:
    fake = FakeJobsList(case["ids"], case["per_page"], case["seed"], fail_at=fail_at)
    got: list[int] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jobwalk, "fetch_job_page", fake)
        walk = start_walk(case, fake)
        try:
            for items in walk.pages():
                got += [i["id"] for i in items]
        except CachecostError:
            state = json.loads(json.dumps(walk.state()))     # as fetch_state.json keeps it
            if state is not None:
                since = None if case["since"] is None else fake.created_at(case["since"])
                walk = jobwalk.JobWalk.resume(None, 1, state, since=since,
                                              workers=case["workers"],
                                              pages_per_segment=case["pages_per_segment"])
                fake.fail_at = 0
                for items in walk.pages():
                    got += [i["id"] for i in items]
            elif not walk.is_started:       # the first page failed: a fresh walk next time
                fake.fail_at = 0
                walk = start_walk(case, fake)
                got += [i["id"] for items in walk.pages() for i in items]
    assert sorted(got) == wanted(fake, case)


# ---------------------------------------------------------------- logs beside the walk


def test_build_logs_start_during_the_walk_and_pick_the_newest(
        standin: StandinServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cachecost.collect.logsample as fetch_mod
    starts: dict[str, list[float]] = {"jobs": [], "logs": []}
    real_page, real_trace = jobwalk.fetch_job_page, fetch_mod.fetch_trace

    def page(*args, **kwargs):
        starts["jobs"].append(time.perf_counter())
        return real_page(*args, **kwargs)

    def trace(*args, **kwargs):
        starts["logs"].append(time.perf_counter())
        return real_trace(*args, **kwargs)

    monkeypatch.setattr(jobwalk, "fetch_job_page", page)
    monkeypatch.setattr(fetch_mod, "fetch_trace", trace)
    standin.faults.latency_ms = 10
    walk_fetch(standin, tmp_path, pages_per_segment=1, logs_per_image=2)
    assert min(starts["logs"]) < max(starts["jobs"])      # settled picks did not wait
    jobs = load_dataset(tmp_path).jobs
    cand = jobs[jobs["is_container_build"] & (jobs["status"] == "success")]
    want = cand.sort_values("job_id", ascending=False).groupby("name").head(2)["job_id"]
    assert sorted(jobs.loc[jobs["cache_outcome"].notna(), "job_id"]) == sorted(want)
    # containers-stage jobs whose logs showed no build were read too, and left unclassified
    probed = jobs[(jobs["stage"] == "containers") & ~jobs["is_container_build"]
                  & (jobs["status"] == "success")]
    probed = probed.sort_values("job_id", ascending=False).groupby("name").head(2)
    assert len(probed) == 2 and probed["cache_outcome"].isna().all()
    assert len(starts["logs"]) == len(want) + len(probed)  # each log asked for once
