"""The stand-in speaks GitLab's pagination: offset headers, totals dropped past the limit,
keyset cursors; and python-gitlab follows it."""

from __future__ import annotations

import gitlab
import pandas as pd
import pytest
import requests

import cachecost.standin.server as server_mod
from cachecost.standin import StandinServer

from .fetchkit import PROJECT, TOKEN


def get(srv: StandinServer, path: str, **params) -> requests.Response:
    return requests.get(f"{srv.url}/api/v4{path}", params=params,
                        headers={"PRIVATE-TOKEN": TOKEN}, timeout=10)


def test_offset_pagination_headers(standin: StandinServer) -> None:
    pipes = standin.data.pipelines_frame()
    n = int((pipes["source"] != "parent_pipeline").sum())     # the list omits children
    r = get(standin, "/projects/11167699/pipelines", per_page=5, page=2)
    assert r.status_code == 200 and len(r.json()) == 5
    h = r.headers
    assert (h["X-Page"], h["X-Per-Page"], h["X-Prev-Page"], h["X-Next-Page"]) == (
        "2", "5", "1", "3")
    assert h["X-Total"] == str(n) and h["X-Total-Pages"] == str(-(-n // 5))
    assert {'rel="next"', 'rel="prev"', 'rel="first"', 'rel="last"'} <= {
        part.split(";")[1].strip() for part in h["Link"].split(", ")}
    assert "RateLimit-Remaining" in h


def test_totals_omitted_past_the_limit(standin: StandinServer,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_mod, "MAX_COUNTED_ITEMS", 100)
    r = get(standin, "/projects/11167699/jobs", per_page=50)
    assert "X-Total" not in r.headers and "X-Total-Pages" not in r.headers
    assert 'rel="last"' not in r.headers["Link"] and r.headers["X-Next-Page"] == "2"
    gl = gitlab.Gitlab(standin.url, private_token=TOKEN)
    jobs = gl.projects.get(PROJECT, lazy=True).jobs.list(iterator=True, per_page=50)
    assert jobs.total is None
    assert len(list(jobs)) == len(standin.data.jobs())


def test_keyset_walk_returns_every_job_once_newest_first(standin: StandinServer) -> None:
    gl = gitlab.Gitlab(standin.url, private_token=TOKEN, per_page=100)
    ids = [j.id for j in gl.projects.get(PROJECT, lazy=True).jobs.list(
        iterator=True, pagination="keyset", order_by="id", sort="desc")]
    assert ids == sorted(standin.data.jobs()["job_id"], reverse=True)
    assert standin.counts["jobs"] == -(-len(ids) // 100)


def test_running_and_skipped_jobs_have_null_durations(standin: StandinServer) -> None:
    data = standin.data
    data.now = data.pipelines_frame()["created_at"].max() + pd.Timedelta(minutes=10)
    items = get(standin, "/projects/11167699/jobs", per_page=100).json()
    running = [j for j in items if j["status"] in ("running", "pending")]
    assert running and all(j["duration"] is None and j["finished_at"] is None for j in running)
    skipped = data.jobs()[data.jobs()["status"] == "skipped"]
    assert len(skipped) and skipped["duration_s"].isna().all()


@pytest.mark.parametrize("headers, status", [({}, 401), ({"PRIVATE-TOKEN": "nope"}, 401),
                                             ({"Authorization": f"Bearer {TOKEN}"}, 200)])
def test_authentication(standin: StandinServer, headers: dict, status: int) -> None:
    r = requests.get(f"{standin.url}/api/v4/projects/11167699", headers=headers, timeout=10)
    assert r.status_code == status
