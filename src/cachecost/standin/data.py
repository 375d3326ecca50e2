"""What the GitLab stand-in serves: API-shaped JSON built from a cachecost dataset.

:class:`StandinData` turns a dataset (normally the synthetic sample, or a
bigger one from :func:`cachecost.dataset.sample.generate_sample`) into the objects
GitLab's REST API returns for one project: pipelines (list and detail), jobs,
registry repositories and tags, and the project with its statistics (the job
logs: :mod:`cachecost.standin.buildlog`). Field names and shapes follow GitLab's API
docs (``api/pipelines``, ``api/jobs``, ``api/container_registry``, ``api/projects``).

A *clock* (:attr:`StandinData.now`) makes it a live project: pipelines created
after ``now`` do not exist yet, jobs that start or finish after it are
``pending`` or ``running`` with null ``duration``, so tests can advance the
clock and check that a second fetch picks up exactly what changed.

    data = StandinData.from_sample(days=5)
    data.now = data.end - pd.Timedelta(hours=6)
    truth = data.jobs_frame()          # what a full fetch must store

The ``*_frame`` methods return the served truth in the dataset schema, for
tests to compare a fetched dataset against.
"""

from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pandas as pd

from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.dataset.io import Dataset
from cachecost.dataset.sample import SampleSettings, generate_sample

PROJECT_ID = 11167699
REGISTRY_HOST = "registry.standin.example"
#: GitLab.com offers a repository's deduplicated ``size`` only for repositories created after this.
SIZE_AVAILABLE_SINCE = pd.Timestamp("2021-11-04", tz="UTC")
FINISHED_STATUSES = frozenset({"success", "failed", "canceled", "skipped", "manual"})
#: a job of the containers stage that builds no image (QEMU's verification-only job)
VERIFICATION_JOB = "weekly-container-builds"
#: the source of a child pipeline (``trigger: include:``)
CHILD_SOURCE = "parent_pipeline"
_CATALOG = {c.image: c for c in QEMU_IMAGES}


@dataclass
class _Records:
    """The jobs at one clock as records, indexed the ways the API asks for them."""

    jobs: list[SimpleNamespace] = field(default_factory=list)
    by_id: dict[int, SimpleNamespace] = field(default_factory=dict)
    ids_desc: list[int] = field(default_factory=list)     # minus the job ids, ascending
    by_pipeline: dict[int, list[SimpleNamespace]] = field(default_factory=dict)


def _records_of(df: pd.DataFrame) -> list[dict[str, Any]]:
    """``df``'s rows as dicts keyed by column name (the columns are strings)."""
    return cast(list[dict[str, Any]], df.to_dict("records"))


#: GitLab's times: microseconds cut to milliseconds, then "Z".
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def format_time(ts: pd.Timestamp | None) -> str | None:
    """Render a timestamp the way GitLab does (``2025-08-25T10:00:00.123Z``), None for NaT."""
    if ts is None or pd.isna(ts):
        return None
    return ts.tz_convert("UTC").strftime(_TIME_FORMAT)[:-3] + "Z"


def format_times(col: pd.Series) -> pd.Series:
    """:func:`format_time` for a whole column at once."""
    text = col.dt.tz_convert("UTC").dt.strftime(_TIME_FORMAT).str[:-3] + "Z"
    return text.astype(object).where(col.notna(), None)


#: the user and commit objects of every job (GitLab's user/basic.json, commit/basic.json)
_USER = {"id": 1, "username": "ci-bot", "name": "CI Bot", "state": "active",
         "avatar_url": "https://gitlab.standin.example/uploads/-/system/user/avatar/1.png",
         "web_url": "https://gitlab.standin.example/ci-bot"}
_COMMIT = {"id": "0" * 40, "short_id": "00000000", "title": "stand-in commit",
           "created_at": "2025-01-01T00:00:00.000+00:00", "parent_ids": ["1" * 40],
           "message": "stand-in commit\n", "author_name": "CI Bot",
           "author_email": "ci-bot@standin.example", "authored_date": "2025-01-01T00:00:00.000+00:00",
           "committer_name": "CI Bot", "committer_email": "ci-bot@standin.example",
           "committed_date": "2025-01-01T00:00:00.000+00:00",
           "web_url": "https://gitlab.standin.example/-/commit/" + "0" * 40}


def _none_if_nan(x):
    return None if x is None or pd.isna(x) else x


@dataclass
class StandinData:
    """The stand-in's project, built from a dataset, seen at clock ``now``."""

    dataset: Dataset
    project_path: str = "qemu-project/qemu"
    project_id: int = PROJECT_ID
    now: pd.Timestamp | None = None
    registry_mode: str = "enabled"          # enabled, disabled (404) or forbidden (403)
    #: how the next run of a job ends (:mod:`cachecost.standin.actions`): job id ->
    #: (status, seconds or None for the job's own); unlisted jobs succeed
    run_outcomes: dict[int, tuple[str, float | None]] = field(default_factory=dict)
    _jobs: pd.DataFrame = field(init=False, repr=False)
    _pipelines: pd.DataFrame = field(init=False, repr=False)
    _cache: dict = field(default_factory=dict, init=False, repr=False)
    _records: _Records = field(default_factory=_Records, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        jobs = self.dataset.jobs.sort_values("job_id").reset_index(drop=True).copy()
        # Every ~13th pipeline skips its last test job: skipped jobs have null times/duration.
        skip = jobs[(jobs["stage"] == "test")].groupby("pipeline_id")["job_id"].max()
        skip = skip[skip.index % 13 == 0]
        m = jobs["job_id"].isin(skip.values)
        jobs.loc[m, ["status"]] = "skipped"
        jobs.loc[m, ["started_at", "finished_at"]] = pd.NaT
        jobs.loc[m, ["duration_s", "queued_duration_s"]] = np.nan
        jobs.loc[m, "runner_description"] = None
        jobs = self._with_verification_jobs(jobs)
        jobs["true_outcome"] = [self._true_outcome(r) for r in jobs.itertuples()]
        self._jobs = jobs
        self._pipelines = self._with_child_pipelines(
            self.dataset.pipelines.sort_values("pipeline_id").reset_index(drop=True))
        repos = self.dataset.registry_repositories.sort_values("repository_id").copy()
        # Some repositories predate GitLab's size accounting: no ``size`` for them.
        old = repos["repository_id"] % 5 == 0
        repos.loc[old, "created_at"] = pd.Timestamp("2021-03-01", tz="UTC")
        self._repos = repos.reset_index(drop=True)
        self._tags = self.dataset.registry_tags.sort_values(["repository_id", "tag_name"]).copy()
        # GitLab serves times with millisecond precision: so does the truth.
        for df in (self._jobs, self._pipelines, self._repos, self._tags):
            for col in df.columns:
                if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                    df[col] = df[col].dt.floor("ms")
        self._repo_recs = {int(r["repository_id"]): SimpleNamespace(**r)
                           for r in _records_of(self._repos)}
        self._tag_recs: dict[int, dict[str, SimpleNamespace]] = {}
        for t in _records_of(self._tags):
            self._tag_recs.setdefault(int(t["repository_id"]), {})[t["tag_name"]] = \
                SimpleNamespace(**t)
        self.end = max(self._jobs["finished_at"].max(), self._pipelines["updated_at"].max())

    @staticmethod
    def _with_verification_jobs(jobs: pd.DataFrame) -> pd.DataFrame:
        """In each pipeline with ``check-unit``, that job becomes a job that builds nothing
        in the containers stage, as QEMU's ``weekly-container-builds`` (it extends the
        container template but only verifies): not a container build, its log shows no
        build (see :func:`cachecost.collect.mapping.shows_no_build`).
        """
        jobs = jobs.copy()
        m = jobs["name"] == "check-unit"
        jobs.loc[m, "name"] = VERIFICATION_JOB
        jobs.loc[m, "stage"] = "containers"
        jobs.loc[m, "is_container_build"] = False
        jobs.loc[m, "image"] = None
        return jobs

    @staticmethod
    def _with_child_pipelines(pipes: pd.DataFrame) -> pd.DataFrame:
        """Every 3rd push pipeline becomes a child pipeline (``trigger: include:``).

        Its source is ``parent_pipeline``; GitLab's pipelines list omits it unless asked
        with ``source=parent_pipeline`` (see :meth:`pipelines`), its jobs are listed.
        """
        pipes = pipes.copy()
        push = pipes.index[pipes["source"] == "push"]
        pipes.loc[push[1::3], "source"] = CHILD_SOURCE
        return pipes

    @classmethod
    def from_sample(cls, days: int = 5, **kwargs) -> StandinData:
        """Build from a freshly generated sample of ``days`` days (deterministic)."""
        return cls(generate_sample(SampleSettings(days=days)), **kwargs)

    # ------------------------------------------------------------------ the truth
    @staticmethod
    def _true_outcome(job) -> str | None:
        """The cache outcome this job's build log will show (None: not a container build)."""
        if not job.is_container_build or job.status != "success":
            return None
        if isinstance(job.cache_outcome, str):
            return job.cache_outcome
        c = _CATALOG.get(job.image)
        if c is None:
            return "unknown"
        minutes = job.duration_s / 60
        if minutes < 1.5 * c.cached_build_min:
            return "hit"
        if minutes > 0.85 * c.uncached_build_min:
            return "miss"
        return "partial"

    def _clock(self) -> pd.Timestamp:
        """The stand-in's time: :attr:`now`, or just past the end of its history."""
        return self.now if self.now is not None else self.end + pd.Timedelta(seconds=1)

    def _view(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Pipelines and jobs as they stand at the clock (cached per clock value)."""
        now = self._clock()
        with self._lock:
            if now in self._cache:
                return self._cache[now]
            pipes = self._pipelines[self._pipelines["created_at"] <= now].copy()
            jobs = self._jobs[self._jobs["pipeline_id"].isin(pipes["pipeline_id"])].copy()
            # A retry attempt exists only once its predecessor finished; one made by an
            # action (cachecost.standin.actions) once it was created.
            clone = jobs["is_clone"] if "is_clone" in jobs else pd.Series(False, jobs.index)
            jobs = jobs[(jobs["started_at"].isna() | (jobs["started_at"] - pd.Timedelta(
                seconds=1) <= now) | ~self._is_retry_attempt(jobs) | clone)
                        & (~clone | (jobs["created_at"] <= now))]
            pending = jobs["started_at"] > now
            running = ~pending & (jobs["finished_at"] > now)
            jobs.loc[pending, "status"] = "pending"
            jobs.loc[running, "status"] = "running"
            jobs.loc[pending, ["started_at"]] = pd.NaT
            jobs.loc[pending, ["queued_duration_s"]] = np.nan
            jobs.loc[pending | running, ["finished_at"]] = pd.NaT
            jobs.loc[pending | running, ["duration_s"]] = np.nan
            jobs.loc[pending | running, "failure_reason"] = None
            jobs.loc[pending, "runner_description"] = None
            p_running = pipes["finished_at"] > now
            pipes.loc[p_running, "status"] = "running"
            pipes.loc[p_running, ["finished_at"]] = pd.NaT
            pipes.loc[p_running, ["duration_s"]] = np.nan
            pipes.loc[p_running, ["updated_at"]] = now.floor("s")
            pipes.loc[pipes["started_at"] > now, ["started_at"]] = pd.NaT
            # GitLab reports a pipeline's duration in whole seconds.
            pipes["duration_s"] = pipes["duration_s"].round()
            jobs = jobs.sort_values("job_id", ascending=False).reset_index(drop=True)
            # the API's time strings, rendered once per clock (not once per request)
            texts = {f"{c}_text": format_times(jobs[c])
                     for c in ("created_at", "started_at", "finished_at")}
            recs = [SimpleNamespace(**r) for r in _records_of(jobs.assign(**texts))]
            by_pipeline: dict[int, list[SimpleNamespace]] = {}
            for r in recs:
                by_pipeline.setdefault(int(r.pipeline_id), []).append(r)
                # each job's JSON, rendered once per clock: a page is then a join, as
                # cheap for the server as an indexed query (the stand-in's own CPU would
                # otherwise be what a benchmark measures)
                r.json = json.dumps(self.job_item(r), separators=(",", ":")).encode()
            self._records = _Records(jobs=recs, by_id={r.job_id: r for r in recs},
                                     ids_desc=[-r.job_id for r in recs],
                                     by_pipeline=by_pipeline)
            self._cache = {now: (pipes.reset_index(drop=True), jobs)}
            return self._cache[now]

    def job_records(self) -> list[SimpleNamespace]:
        """Jobs at the clock as records (attribute access), newest first."""
        self._view()
        return self._records.jobs

    def job_record(self, job_id: int) -> SimpleNamespace | None:
        """One job at the clock as a record, or None."""
        self._view()
        return self._records.by_id.get(job_id)

    def clock(self) -> pd.Timestamp:
        """The stand-in's time (:attr:`now`, or just past the end of its history)."""
        return self._clock()

    def job_records_below(self, job_id: int | None) -> list[SimpleNamespace]:
        """Records of jobs with an id below ``job_id`` (all if None), newest first."""
        recs = self.job_records()
        if job_id is None:
            return recs
        return recs[bisect.bisect_right(self._records.ids_desc, -job_id):]

    def job_records_of_pipeline(self, pipeline_id: int) -> list[SimpleNamespace]:
        """Records of one pipeline's jobs (retried attempts included), newest first."""
        self._view()
        return self._records.by_pipeline.get(pipeline_id, [])

    def _is_retry_attempt(self, jobs: pd.DataFrame) -> pd.Series:
        prev = jobs.groupby(["pipeline_id", "name"])["job_id"].rank(method="first")
        return prev > 1

    def pipelines_frame(self) -> pd.DataFrame:
        """The pipelines served at the clock, in the dataset schema."""
        return self._view()[0].copy()

    def jobs_frame(self) -> pd.DataFrame:
        """The jobs served at the clock in the dataset schema, plus ``true_outcome`` (its log)."""
        jobs = self._view()[1].drop(columns=["is_clone", "is_action"], errors="ignore")
        latest = jobs.groupby(["pipeline_id", "name"])["job_id"].transform("max")
        jobs["is_retried"] = jobs["job_id"] != latest
        return jobs

    def repositories_frame(self) -> pd.DataFrame:
        """The registry repositories served, with ``size_bytes`` NaN where GitLab omits it."""
        repos = self._repos.copy()
        repos.loc[repos["created_at"] < SIZE_AVAILABLE_SINCE, "size_bytes"] = np.nan
        return repos

    def tags_frame(self) -> pd.DataFrame:
        """The registry tags served."""
        return self._tags.copy()

    def container_registry_size_bytes(self) -> int:
        """``statistics.container_registry_size``: deduplicated bytes of the whole registry."""
        return int(self._repos["size_bytes"].sum())

    # ------------------------------------------------------------------ API objects
    def _web(self) -> str:
        return f"https://gitlab.standin.example/{self.project_path}"

    def project_json(self, statistics: bool) -> dict:
        """``GET /projects/:id`` (``statistics=true`` adds ``statistics``)."""
        enabled = self.registry_mode != "disabled"
        obj = {
            "id": self.project_id,
            "description": "stand-in project shaped like QEMU's CI",
            "name": self.project_path.rsplit("/", 1)[-1],
            "name_with_namespace": self.project_path.replace("/", " / "),
            "path": self.project_path.rsplit("/", 1)[-1],
            "path_with_namespace": self.project_path,
            "created_at": "2019-01-01T00:00:00.000Z",
            "default_branch": "master",
            "web_url": self._web(),
            "container_registry_enabled": enabled,
            "container_registry_access_level": "enabled" if enabled else "disabled",
            "container_registry_image_prefix": f"{REGISTRY_HOST}/{self.project_path}",
            "jobs_enabled": True,
            "visibility": "public",
            # the basic project entity's fields (GitLab's projects.json schema)
            "tag_list": [], "topics": [],
            "ssh_url_to_repo": f"git@gitlab.standin.example:{self.project_path}.git",
            "http_url_to_repo": f"{self._web()}.git",
            "avatar_url": None, "star_count": 0, "forks_count": 0,
            "last_activity_at": format_time(self.end.floor("ms")),
        }
        if statistics:
            obj["statistics"] = {
                "commit_count": 120000, "storage_size": 0, "repository_size": 900_000_000,
                "wiki_size": 0, "lfs_objects_size": 0, "job_artifacts_size": 5_000_000_000,
                "pipeline_artifacts_size": 0, "packages_size": 0, "snippets_size": 0,
                "uploads_size": 0,
                "container_registry_size": self.container_registry_size_bytes() if enabled else 0,
            }
        return obj

    def pipelines(self, updated_after: pd.Timestamp | None, order_by: str, sort: str,
                  source: str | None = None) -> list:
        """``GET /projects/:id/pipelines``: list items (no durations, as in GitLab).

        Without ``source`` child pipelines are left out, as GitLab does; with it, only
        pipelines of that source are listed.
        """
        pipes = self._view()[0]
        if source is None:
            pipes = pipes[pipes["source"] != CHILD_SOURCE]
        else:
            pipes = pipes[pipes["source"] == source]
        if updated_after is not None:
            pipes = pipes[pipes["updated_at"] > updated_after]
        key = "updated_at" if order_by == "updated_at" else "pipeline_id"
        pipes = pipes.sort_values([key, "pipeline_id"], ascending=sort == "asc")
        return [self._pipeline_item(r) for r in pipes.itertuples()]

    def _pipeline_item(self, r) -> dict:
        return {
            "id": int(r.pipeline_id), "iid": int(r.iid), "project_id": self.project_id,
            "sha": r.sha, "ref": r.ref, "status": r.status, "source": r.source,
            "created_at": format_time(r.created_at), "updated_at": format_time(r.updated_at),
            "web_url": f"{self._web()}/-/pipelines/{int(r.pipeline_id)}", "name": None,
        }

    def pipeline_detail(self, pipeline_id: int) -> dict | None:
        """``GET /projects/:id/pipelines/:pipeline_id``: adds times and durations."""
        pipes = self._view()[0]
        hit = pipes[pipes["pipeline_id"] == pipeline_id]
        if hit.empty:
            return None
        r: Any = next(hit.itertuples())
        obj = self._pipeline_item(r)
        obj.update({
            "before_sha": "0" * 40, "tag": False, "yaml_errors": None,
            "user": _USER,
            "started_at": format_time(r.started_at), "finished_at": format_time(r.finished_at),
            "committed_at": None,
            "duration": None if pd.isna(r.duration_s) else int(r.duration_s),
            "queued_duration": _none_if_nan(r.queued_duration_s),
            "coverage": None,
            "detailed_status": {
                "icon": f"status_{r.status}", "text": r.status, "label": r.status,
                "group": r.status, "tooltip": r.status, "has_details": True,
                "details_path": f"/{self.project_path}/-/pipelines/{int(r.pipeline_id)}",
                "favicon": f"/assets/ci_favicons/favicon_status_{r.status}.png"},
        })
        return obj

    def jobs(self) -> pd.DataFrame:
        """Jobs at the clock, newest first (the order of ``GET /projects/:id/jobs``)."""
        return self._view()[1]

    def job_item(self, r) -> dict:
        """One element of ``GET /projects/:id/jobs``."""
        obj = {
            "id": int(r.job_id), "status": r.status, "stage": r.stage, "name": r.name,
            "ref": r.ref, "tag": False, "coverage": None,
            "allow_failure": bool(r.is_allowed_failure),
            "created_at": r.created_at_text, "started_at": r.started_at_text,
            "finished_at": r.finished_at_text, "erased_at": None,
            "duration": _none_if_nan(r.duration_s),
            "queued_duration": _none_if_nan(r.queued_duration_s),
            "user": _USER,
            "commit": _COMMIT,
            "pipeline": {"id": int(r.pipeline_id), "project_id": self.project_id,
                         "ref": r.ref, "sha": "0" * 40, "status": "success",
                         "web_url": f"{self._web()}/-/pipelines/{int(r.pipeline_id)}"},
            "web_url": f"{self._web()}/-/jobs/{int(r.job_id)}",
            "project": {"ci_job_token_scope_enabled": False},
            "artifacts": [], "artifacts_expire_at": None, "archived": False, "tag_list": [],
            "runner": None if not isinstance(r.runner_description, str)
            else {"id": 7, "description": r.runner_description, "ip_address": "",
                  "active": True, "paused": False, "is_shared": True,
                  "runner_type": "instance_type", "name": "gitlab-runner", "online": True,
                  "status": "online"},
        }
        if r.status == "failed":
            obj["failure_reason"] = r.failure_reason or "script_failure"
        return obj

    # registry
    def repositories(self) -> list[dict]:
        """``GET /projects/:id/registry/repositories?tags=true&tags_count=true``."""
        return [repo for rid in sorted(self._repo_recs)
                if (repo := self.repository(rid, tags=True, size=False)) is not None]

    def repository(self, repo_id: int, *, tags: bool, size: bool) -> dict | None:
        """One repository; ``size`` (deduplicated bytes) only where GitLab offers it."""
        r = self._repo_recs.get(repo_id)
        if r is None:
            return None
        loc = f"{REGISTRY_HOST}/{r.path}"
        obj = {
            "id": int(r.repository_id), "name": r.name, "path": r.path,
            "project_id": self.project_id, "location": loc,
            "created_at": format_time(r.created_at), "cleanup_policy_started_at": None,
            "status": None, "tags_count": int(r.tags_count),
        }
        if tags:
            obj["tags"] = [{"name": t, "path": f"{r.path}:{t}", "location": f"{loc}:{t}"}
                           for t in sorted(self._tag_recs.get(repo_id, {}))]
        if size and r.created_at >= SIZE_AVAILABLE_SINCE:
            obj["size"] = int(r.size_bytes)
        return obj

    def tag_detail(self, repo_id: int, tag: str) -> dict | None:
        """``GET /projects/:id/registry/repositories/:repository_id/tags/:tag_name``."""
        r = self._repo_recs.get(repo_id)
        t = self._tag_recs.get(repo_id, {}).get(tag)
        if r is None or t is None:
            return None
        loc = f"{REGISTRY_HOST}/{r.path}"
        return {
            "name": t.tag_name, "path": f"{r.path}:{t.tag_name}",
            "location": f"{loc}:{t.tag_name}",
            "revision": t.digest.split(":", 1)[-1], "short_revision": t.digest[7:16],
            "digest": t.digest, "created_at": format_time(t.created_at),
            "total_size": int(t.total_size_bytes),
        }
