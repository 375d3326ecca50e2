"""Jobs GitLab changes in place after a fetch stored them (issue 22, kind 1), on the stand-in.

GitLab's rules (:mod:`cachecost.standin.actions` has the sources): retrying a job clones it
under a new id and runs the pipeline's skipped later-stage jobs again under their own ids;
playing a manual job runs that same job; either reopens the pipeline. Everything here goes
over real HTTP: python-gitlab's ``retry()`` / ``play()`` against the stand-in, then
``cachecost`` fetches. The property every test checks: a fetch, then changes, then a second
fetch store exactly what a fresh fetch of the final state stores.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import gitlab
import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cachecost.collect.fetch as fetch_module
import cachecost.collect.gitlab.jobwalk as jobwalk
from cachecost.collect.fetch import FetchOptions, FetchResult, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.dataset.io import Dataset, load_dataset
from cachecost.standin import StandinData, StandinServer, actions, start_standin
from cachecost.standin.actions import default_duration_s
from cachecost.standin.extra import MEASURE_KINDS

from .fetchkit import PROJECT, TOKEN

ACTOR = "glpat-FAKE-standin-api-scope-77"     # may retry and play (scope api)
OPTIONS = FetchOptions(logs_per_image=0, measure=False)
HISTORY_KINDS = ("project", "pipelines", "jobs", "pipelines/:id/jobs")


def _standin(sample: Dataset) -> StandinServer:
    """A stand-in at the end of its history, with skipped jobs after every failure and a
    manual job (the first test job) in every fourth pipeline."""
    data = StandinData(sample)
    actions.skip_after_failures(data)
    jobs = data.jobs_frame()
    tests = jobs[jobs["stage"] == "test"].groupby("pipeline_id")["job_id"].min()
    actions.make_manual(data, [int(i) for p, i in tests.items() if p % 4 == 0])
    data.now = data.end + pd.Timedelta(seconds=1)
    return start_standin(data, tokens={TOKEN: {"read_api"}, ACTOR: {"api"}})


@pytest.fixture
def srv(small_sample: Dataset) -> Iterator[StandinServer]:
    server = _standin(small_sample)
    yield server
    server.stop()


def fetch(server: StandinServer, data_dir: Path) -> FetchResult:
    client = connect(server.url, environ={"GITLAB_TOKEN": TOKEN})
    try:
        return fetch_project_history(client, PROJECT, data_dir, OPTIONS)
    finally:
        client.close()


def project(server: StandinServer):
    return gitlab.Gitlab(server.url, private_token=ACTOR).projects.get(PROJECT, lazy=True)


def tables(path: Path) -> dict[str, pd.DataFrame]:
    ds = load_dataset(path)
    return {"jobs": ds.jobs.sort_values("job_id").reset_index(drop=True),
            "pipelines": ds.pipelines.sort_values("pipeline_id").reset_index(drop=True)}


def assert_same_as_fresh(server: StandinServer, incremental: Path, tmp: Path) -> None:
    """The incremental dataset equals a fresh fetch of the stand-in as it is now."""
    fetch(server, tmp / "fresh")
    got, want = tables(incremental), tables(tmp / "fresh")
    for table in ("jobs", "pipelines"):
        pd.testing.assert_frame_equal(got[table], want[table], obj=table)
    served = server.data.jobs_frame()
    assert got["jobs"]["duration_s"].sum() == pytest.approx(served["duration_s"].sum())


def history_requests(server: StandinServer) -> int:
    return sum(n for k, n in server.counts.items() if k in HISTORY_KINDS)


def test_retry_runs_skipped_jobs_again_under_their_ids(srv: StandinServer,
                                                       tmp_path: Path) -> None:
    """A failed job retried with success (200 s): its clone has a new id; the skipped jobs of
    the later stages of its pipeline run again under their own ids.

    By hand: the stored job-seconds grow by 200 (the clone) plus, per reset job of id i,
    ``60 + (37 i mod 540)`` s (the stand-in's run time for a job that had none); every reset
    id was stored before, so the jobs table grows by exactly one row.
    """
    data = srv.data
    fetch(srv, tmp_path / "ds")
    before = tables(tmp_path / "ds")["jobs"]
    skipped = before[before["status"] == "skipped"]
    target = before[(before["status"] == "failed") & ~before["is_retried"]
                    & before["pipeline_id"].isin(skipped["pipeline_id"])].iloc[0]
    reset = skipped[skipped["pipeline_id"] == target["pipeline_id"]]
    assert len(reset) > 0
    data.run_outcomes[int(target["job_id"])] = ("success", 200.0)
    clone = project(srv).jobs.get(int(target["job_id"]), lazy=True).retry()
    assert clone["id"] > before["job_id"].max() and clone["status"] == "pending"
    data.now = data.end + pd.Timedelta(seconds=1)          # every run has finished

    fetch(srv, tmp_path / "ds")
    after = tables(tmp_path / "ds")["jobs"].set_index("job_id")
    by_hand = 200.0 + sum(60 + (37 * int(i)) % 540 for i in reset["job_id"])
    assert after["duration_s"].sum() == pytest.approx(before["duration_s"].sum() + by_hand)
    assert len(after) == len(before) + 1
    assert (after.loc[reset["job_id"], "status"] == "success").all()
    assert after.loc[int(target["job_id"]), "is_retried"]
    assert after.loc[clone["id"], "duration_s"] == 200.0
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


def test_retry_that_fails_again_leaves_them_skipped(srv: StandinServer, tmp_path: Path) -> None:
    """Retried and failed again: GitLab processes the skipped jobs, then skips them again."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    before = tables(tmp_path / "ds")["jobs"]
    target = before[(before["status"] == "failed") & ~before["is_retried"]].iloc[0]
    data.run_outcomes[int(target["job_id"])] = ("failed", 50.0)
    project(srv).jobs.get(int(target["job_id"]), lazy=True).retry()
    data.now = data.end + pd.Timedelta(seconds=1)
    fetch(srv, tmp_path / "ds")
    after = tables(tmp_path / "ds")["jobs"]
    assert (after["status"] == "skipped").sum() == (before["status"] == "skipped").sum()
    assert after["duration_s"].sum() == pytest.approx(before["duration_s"].sum() + 50.0)
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


def test_played_manual_job_is_read_again(srv: StandinServer, tmp_path: Path) -> None:
    """A manual job played after the fetch runs under its own id: read again, with its time
    (its own run time here: ``60 + (37 id mod 540)`` s, no outcome set)."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    before = tables(tmp_path / "ds")["jobs"]
    manual = int(before.loc[before["status"] == "manual", "job_id"].iloc[0])
    project(srv).jobs.get(manual, lazy=True).play()
    data.now = data.end + pd.Timedelta(seconds=1)
    result = fetch(srv, tmp_path / "ds")
    after = tables(tmp_path / "ds")["jobs"].set_index("job_id")
    assert after.loc[manual, "status"] == "success"
    assert after.loc[manual, "duration_s"] == default_duration_s(manual) == \
        60 + (37 * manual) % 540
    assert len(after) == len(before)
    assert result.pipelines_reread == 1
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


def test_fetch_while_the_rerun_runs_then_after(srv: StandinServer, tmp_path: Path) -> None:
    """Fetched while the played job still runs (stored ``running``): the next fetch reads it
    again though nothing else changed."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    jobs = tables(tmp_path / "ds")["jobs"]
    manual = int(jobs.loc[jobs["status"] == "manual", "job_id"].iloc[0])
    data.run_outcomes[manual] = ("success", 600.0)
    project(srv).jobs.get(manual, lazy=True).play()
    data.now += pd.Timedelta(seconds=300)                 # 5 s queued, 295 s of 600 run
    fetch(srv, tmp_path / "ds")
    mid = tables(tmp_path / "ds")["jobs"].set_index("job_id")
    assert mid.loc[manual, "status"] == "running"
    data.now = data.end + pd.Timedelta(seconds=1)
    fetch(srv, tmp_path / "ds")
    assert tables(tmp_path / "ds")["jobs"].set_index("job_id").loc[manual, "status"] == "success"
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


def test_refetch_with_nothing_new_stays_within_a_few_requests(srv: StandinServer,
                                                               tmp_path: Path) -> None:
    """Skipped and manual jobs stored are not read again while their pipelines do not change:
    a re-fetch asks for the project, both pipeline lists and one jobs page, as before."""
    fetch(srv, tmp_path / "ds")
    stored = tables(tmp_path / "ds")["jobs"]
    assert {"skipped", "manual"} <= set(stored["status"])
    srv.reset_counts()
    result = fetch(srv, tmp_path / "ds")
    assert history_requests(srv) == 4, dict(srv.counts)
    assert srv.counts["pipelines/:id/jobs"] == 0 and result.pipelines_reread == 0
    assert not set(srv.counts) & set(MEASURE_KINDS)


def test_old_pipeline_read_by_its_own_list_or_by_a_walk_when_that_route_fails(
        srv: StandinServer, tmp_path: Path) -> None:
    """A change in the oldest pipeline: one ``GET /pipelines/:id/jobs`` instead of walking
    every job above it (7 pages for 633 jobs); a server answering that route 404 gets the
    walk, and the same dataset."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    fetch(srv, tmp_path / "ds404")
    jobs = tables(tmp_path / "ds")["jobs"]
    oldest = jobs[jobs["pipeline_id"] == jobs["pipeline_id"].min()]
    target = int(oldest.loc[~oldest["is_retried"], "job_id"].iloc[0])
    project(srv).jobs.get(target, lazy=True).retry()
    data.now = data.end + pd.Timedelta(seconds=1)
    srv.reset_counts()
    fetch(srv, tmp_path / "ds")
    assert srv.counts["pipelines/:id/jobs"] == 1 and srv.counts["jobs"] == 1
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)

    srv.faults.missing_routes = ("pipelines/:id/jobs",)
    srv.reset_counts()
    fetch(srv, tmp_path / "ds404")
    assert srv.counts["pipelines/:id/jobs"] == 1 and srv.counts["jobs"] >= 7
    got, want = tables(tmp_path / "ds404"), tables(tmp_path / "fresh")
    pd.testing.assert_frame_equal(got["jobs"], want["jobs"])


def test_change_while_the_walk_runs_is_read_in_the_same_fetch(
        srv: StandinServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manual job played after the walk read it, before the pipelines list was asked: its
    pipeline's ``updated_at`` is past GitLab's ``Date`` at the fetch's start, so its jobs are
    read again in the same fetch, and one fetch equals a fresh one."""
    data = srv.data
    jobs = data.jobs_frame()
    manual = int(jobs.loc[jobs["status"] == "manual", "job_id"].max())
    real_page, real_list = jobwalk.fetch_job_page, fetch_module.iter_pipeline_pages
    walked: list[int] = []
    played: list[object] = []

    def page(*args, **kwargs):
        out = real_page(*args, **kwargs)
        walked.append(1)
        return out

    def listing(*args, **kwargs):
        for _ in range(500):                 # the walk's first page is in (the top jobs)
            if walked:
                break
            time.sleep(0.01)
        if not played:                       # once: the child pipelines list comes next
            played.append(project(srv).jobs.get(manual, lazy=True).play())
            data.now = data.end + pd.Timedelta(seconds=1)
        yield from real_list(*args, **kwargs)

    monkeypatch.setattr(jobwalk, "fetch_job_page", page)
    monkeypatch.setattr(fetch_module, "iter_pipeline_pages", listing)
    fetch(srv, tmp_path / "ds")
    monkeypatch.undo()
    assert tables(tmp_path / "ds")["jobs"].set_index("job_id").loc[manual, "status"] == \
        "success"
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


# ---------------------------------------------------------------------- the property

_STEP = st.one_of(
    st.tuples(st.just("retry"), st.integers(0, 50), st.sampled_from(["success", "failed"])),
    st.tuples(st.just("play"), st.integers(0, 50), st.sampled_from(["success", "failed"])),
    st.tuples(st.just("retry_pipeline"), st.integers(0, 50),
              st.sampled_from(["success", "failed"])),
    st.tuples(st.just("wait"), st.integers(1, 900), st.just("")),
    st.tuples(st.just("fetch"), st.just(0), st.just("")),
)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=st.lists(_STEP, min_size=1, max_size=6))
def test_property_incremental_equals_fresh(small_sample: Dataset,
                                           tmp_path_factory: pytest.TempPathFactory,
                                           steps: list[tuple[str, int, str]]) -> None:
    """Fetch; then any sequence of job retries, pipeline retries, plays (each run ending in
    success or failure),
    waits (runs half done) and fetches in between; then everything finishes and one more
    fetch: the dataset equals a fresh fetch of the final state, and its job-seconds the
    stand-in's."""
    tmp = tmp_path_factory.mktemp("prop")
    server = _standin(small_sample)
    try:
        data, proj = server.data, project(server)
        fetch(server, tmp / "ds")
        for kind, k, outcome in steps:
            served = data.jobs_frame()
            latest = served[~served["is_retried"]]
            if kind == "fetch":
                fetch(server, tmp / "ds")
            elif kind == "wait":
                data.now += pd.Timedelta(seconds=k)
            elif kind == "retry_pipeline":
                failed = latest[latest["status"].isin(["failed", "canceled"])]
                if failed.empty:
                    continue
                pids = sorted(failed["pipeline_id"].unique())
                pid = int(pids[k % len(pids)])
                for job_id in failed.loc[failed["pipeline_id"] == pid, "job_id"]:
                    data.run_outcomes[int(job_id)] = (outcome, None)
                proj.pipelines.get(pid, lazy=True).retry()
            else:
                pool = latest[latest["status"] == "manual"] if kind == "play" else \
                    latest[latest["status"].isin(["failed", "canceled", "success"])]
                if pool.empty:
                    continue
                job_id = int(pool["job_id"].sort_values().iloc[k % len(pool)])
                data.run_outcomes[job_id] = (outcome, None)
                job = proj.jobs.get(job_id, lazy=True)
                job.retry() if kind == "retry" else job.play()
        data.now = max(data.now, data.end + pd.Timedelta(seconds=1))
        fetch(server, tmp / "ds")
        assert_same_as_fresh(server, tmp / "ds", tmp)
    finally:
        server.stop()


# ---------------------------------------------------------------------- the stand-in's answers


def test_retry_and_play_answer_as_gitlab_does(srv: StandinServer) -> None:
    """201 and the new job (retry), 200 and the same job (play), each valid against GitLab's
    published ``job.json``; 403 ``Job is not retryable`` for a retried or running attempt,
    400 ``Unplayable Job`` for a job that is no manual action, 403 ``insufficient_scope`` for
    a ``read_api`` token, 404 for no such job (``lib/api/ci/jobs.rb``); a pipeline retry 201
    and the pipeline, valid against ``pipeline/detail.json`` (``lib/api/ci/pipelines.rb``)."""
    from cases.test_standin_schemas import validate

    data = srv.data
    jobs = data.jobs_frame()
    failed = int(jobs.loc[(jobs["status"] == "failed") & ~jobs["is_retried"], "job_id"].iloc[0])
    manual = int(jobs.loc[jobs["status"] == "manual", "job_id"].iloc[0])
    plain = int(jobs.loc[(jobs["status"] == "success") & ~jobs["is_retried"], "job_id"].iloc[0])
    url = f"{srv.url}/api/v4/projects/{data.project_id}/jobs"
    head = {"PRIVATE-TOKEN": ACTOR}
    r = requests.post(f"{url}/{failed}/retry", headers=head, timeout=10)
    assert r.status_code == 201
    validate(r.json(), "public_api/v4/job.json")
    assert r.json()["id"] > int(jobs["job_id"].max()) and r.json()["status"] == "pending"
    again = requests.post(f"{url}/{failed}/retry", headers=head, timeout=10)
    assert (again.status_code, again.json()) == (403, {"message":
                                                       "403 Forbidden - Job is not retryable"})
    clone = requests.post(f"{url}/{r.json()['id']}/retry", headers=head, timeout=10)
    assert clone.status_code == 403                        # pending: not finished yet
    p = requests.post(f"{url}/{manual}/play", headers=head, timeout=10)
    assert p.status_code == 200 and p.json()["id"] == manual
    validate(p.json(), "public_api/v4/job.json")
    bad = requests.post(f"{url}/{plain}/play", headers=head, timeout=10)
    assert (bad.status_code, bad.json()) == (400, {"message": "400 Bad request - Unplayable Job"})
    ro = requests.post(f"{url}/{plain}/retry", headers={"PRIVATE-TOKEN": TOKEN}, timeout=10)
    assert ro.status_code == 403 and ro.json()["error"] == "insufficient_scope"
    assert requests.post(f"{url}/1/retry", headers=head, timeout=10).status_code == 404
    one = requests.get(f"{url}/{manual}", headers=head, timeout=10)
    assert one.status_code == 200 and one.json()["status"] == "pending"
    validate(one.json(), "public_api/v4/job.json")
    pid = int(jobs.loc[jobs["job_id"] == failed, "pipeline_id"].iloc[0])
    pipes = f"{srv.url}/api/v4/projects/{data.project_id}/pipelines"
    whole = requests.post(f"{pipes}/{pid}/retry", headers=head, timeout=10)
    assert whole.status_code == 201 and whole.json()["id"] == pid
    validate(whole.json(), "public_api/v4/pipeline/detail.json")
    assert requests.post(f"{pipes}/999/retry", headers=head, timeout=10).status_code == 404


def _add_ghost_job(data_dir: Path) -> tuple[pd.DataFrame, int]:
    """Store a ``running`` job (id below every other) of pipeline 999, stored ``running``
    too, which the stand-in does not have: a pipeline deleted since it was fetched.
    Returns the jobs as they were, and its id."""
    path = data_dir / "jobs.parquet"
    jobs = pd.read_parquet(path)
    ghost = jobs.iloc[[0]].copy()
    ghost_id = int(jobs["job_id"].min()) - 1
    ghost[["job_id", "pipeline_id", "status"]] = [ghost_id, 999, "running"]
    pd.concat([ghost, jobs], ignore_index=True).to_parquet(path)
    pipes = pd.read_parquet(data_dir / "pipelines.parquet")
    stored = pipes.iloc[[0]].copy()
    stored[["pipeline_id", "status"]] = [999, "running"]
    pd.concat([stored, pipes], ignore_index=True).to_parquet(data_dir / "pipelines.parquet")
    return jobs, ghost_id


def test_a_deleted_pipeline_is_asked_for_once(srv: StandinServer, tmp_path: Path) -> None:
    """A job stored ``running`` in a pipeline GitLab has deleted since (here: one the stand-in
    never had, 999, its job below every other): its list answers 404 and, as the only one
    asked, the walk looks for it (7 pages for 633 jobs) and finds nothing; it is recorded as
    gone, the stored row stays as it was, and the next fetch asks nothing more."""
    fetch(srv, tmp_path / "ds")
    jobs, ghost_id = _add_ghost_job(tmp_path / "ds")
    srv.reset_counts()
    result = fetch(srv, tmp_path / "ds")
    assert srv.counts["pipelines/:id/jobs"] == 1 and srv.counts["jobs"] >= 7
    assert result.pipelines_reread == 1
    stored = tables(tmp_path / "ds")["jobs"].set_index("job_id")
    assert stored.loc[ghost_id, "status"] == "running"
    srv.reset_counts()
    fetch(srv, tmp_path / "ds")
    assert history_requests(srv) == 4, dict(srv.counts)


def test_a_deleted_pipeline_beside_a_changed_one_costs_no_walk(srv: StandinServer,
                                                               tmp_path: Path) -> None:
    """The deleted pipeline 999 (404) read together with a changed old pipeline (200): the
    route exists, so 999 is gone without a walk: 2 pipeline lists, the one jobs page."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    jobs, ghost_id = _add_ghost_job(tmp_path / "ds")
    oldest = jobs[jobs["pipeline_id"] == jobs["pipeline_id"].min()]
    project(srv).jobs.get(int(oldest.loc[~oldest["is_retried"], "job_id"].iloc[0]),
                          lazy=True).retry()
    data.now = data.end + pd.Timedelta(seconds=1)
    srv.reset_counts()
    fetch(srv, tmp_path / "ds")
    assert srv.counts["pipelines/:id/jobs"] == 2 and srv.counts["jobs"] == 1
    srv.reset_counts()
    fetch(srv, tmp_path / "ds")
    assert history_requests(srv) == 4, dict(srv.counts)


def test_pipeline_retry_runs_every_failed_job_and_the_skipped_ones(srv: StandinServer,
                                                                   tmp_path: Path) -> None:
    """``POST /pipelines/:id/retry``: each failed or canceled job cloned (new ids, one row
    each), the skipped ones run
    under their own ids (``Ci::RetryPipelineService``); 201 and the pipeline, running."""
    data = srv.data
    fetch(srv, tmp_path / "ds")
    before = tables(tmp_path / "ds")["jobs"]
    pid = int(before.loc[before["status"] == "skipped", "pipeline_id"].iloc[0])
    failed = before[(before["pipeline_id"] == pid)
                    & before["status"].isin(["failed", "canceled"]) & ~before["is_retried"]]
    answer = project(srv).pipelines.get(pid, lazy=True).retry()
    assert answer["id"] == pid and answer["status"] == "running"
    data.now = data.end + pd.Timedelta(seconds=1)
    fetch(srv, tmp_path / "ds")
    after = tables(tmp_path / "ds")["jobs"]
    assert len(after) == len(before) + len(failed)
    mine = after[after["pipeline_id"] == pid]
    assert not (mine["status"] == "skipped").any()
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)


def test_pipelines_the_list_did_not_show_are_read_by_id(srv: StandinServer,
                                                        tmp_path: Path) -> None:
    """Jobs stored for a pipeline the pipelines list skipped (offset pages in updated_at
    order skip one when a pipeline is updated while they are read), and a job of pipeline
    999, deleted since its jobs were read. Before: the fetch wrote jobs of pipelines the
    dataset lacks, which then failed to load. Now: one ``GET /pipelines/:id`` each (2);
    the skipped pipeline is stored as a fresh fetch stores it, the deleted one's job is
    left out with a warning, and the dataset loads."""
    fetch(srv, tmp_path / "ds")
    pipes = pd.read_parquet(tmp_path / "ds" / "pipelines.parquet")
    skipped = int(pipes["pipeline_id"].iloc[len(pipes) // 2])
    pipes[pipes["pipeline_id"] != skipped].to_parquet(tmp_path / "ds" / "pipelines.parquet")
    jobs = pd.read_parquet(tmp_path / "ds" / "jobs.parquet")
    ghost = jobs.iloc[[0]].copy()
    ghost[["job_id", "pipeline_id"]] = [int(jobs["job_id"].min()) - 1, 999]
    pd.concat([ghost, jobs], ignore_index=True).to_parquet(tmp_path / "ds" / "jobs.parquet")
    srv.reset_counts()
    result = fetch(srv, tmp_path / "ds")
    assert srv.counts["pipelines/:id"] == 2
    assert result.warnings == ["1 job of 1 pipeline deleted during the fetch (first: "
                               "pipeline 999) left out"]
    assert_same_as_fresh(srv, tmp_path / "ds", tmp_path)
