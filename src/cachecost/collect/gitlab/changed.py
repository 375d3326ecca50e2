"""Jobs GitLab changes in place: which pipelines' jobs to read again, and reading them.

The jobs walk (:mod:`cachecost.collect.gitlab.jobwalk`) reads only ids above the newest job
already stored, so it never sees a stored job that GitLab runs again **under its own id**:

* a ``skipped`` job whose failed predecessor is retried (``Ci::RetryJobService`` →
  ``Ci::ResetSkippedJobsService``: ``pipeline.processables.after_stage(...).skipped`` →
  ``job.process``), and the same after a whole-pipeline retry;
* a ``manual`` job that is played (``Ci::PlayBuildService`` → ``Ci::EnqueueJobService``:
  ``job.enqueue!`` on the same job, then ``ResetSkippedJobsService``); a ``scheduled``
  (delayed) job when its time comes;
* any job still ``created``, ``pending``, ``running``... when it was stored.

Only ``success``, ``failed`` and ``canceled`` have no transition out in GitLab's state machine
(``app/models/commit_status.rb``): a retry of those makes a new job with a higher id, which the
walk reads. Every in-place change also changes its pipeline's status (failed → running →
success, ...), so the pipeline's ``updated_at`` moves and GitLab's ``updated_after`` filter on
the pipelines list shows it. The jobs of a pipeline are read again when

1. the pipelines list shows it new or changed (``updated_at`` or ``status`` differ from the
   stored row) and jobs of it were stored before this fetch;
2. its ``updated_at`` is at or after the start of this fetch (GitLab's clock: the ``Date``
   of its first answer, sent before the walk's first request, cut to whole seconds): it
   may have changed while the walk ran, so the walk may hold its jobs older;
3. a stored job of it, or the stored pipeline, is still in a status that moves on by itself
   (:data:`ALIVE_STATUSES`), though the pipeline's status may not have changed.

A pipeline's jobs are read with ``GET /projects/:id/pipelines/:pipeline_id/jobs?
include_retried=true`` (every attempt, as the project list has them), or, when that costs
more pages, by walking the project's jobs list down to the oldest stored job of those
pipelines (recent pipelines: the few pages above that job); :func:`choose_reread`.

    ids = pipelines_to_reread(listed, stored, had_jobs, fetch_started)
    items, gone = read_jobs_again(client, 123, ids, stored_jobs)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from cachecost.collect.gitlab.client import ApiError, GitlabClient
from cachecost.collect.gitlab.convert import parse_time
from cachecost.collect.gitlab.jobwalk import JobWalk

#: Job statuses GitLab never changes again (``commit_status.rb``: no transition out).
FINAL_JOB_STATUSES = frozenset({"success", "failed", "canceled"})
#: Statuses that move on without anybody acting (``Ci::HasStatus::ALIVE_STATUSES`` plus the
#: newer ``canceling`` and ``waiting_for_callback``): a pipeline or job stored in one of them
#: is read again at every fetch until it leaves it.
ALIVE_STATUSES = frozenset({"created", "waiting_for_resource", "preparing", "pending",
                            "running", "canceling", "waiting_for_callback"})
#: Pipelines a pipeline-jobs page holds (GitLab's ``per_page`` maximum).
PAGE_SIZE = 100


def changed_pipelines(listed: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Per row of ``listed`` (``pipelines`` rows: ``pipeline_id``, ``status``,
    ``updated_at``), True when ``stored`` lacks that pipeline or holds it with another
    ``status`` or ``updated_at``: new or changed since it was stored (every change GitLab
    makes to a pipeline moves its ``updated_at``). Boolean Series on ``listed``'s index."""
    if not len(stored):
        return pd.Series(True, index=listed.index)
    old = stored.set_index("pipeline_id")[["status", "updated_at"]]
    prev = old.reindex(listed["pipeline_id"].astype("int64").to_numpy())
    return pd.Series((prev["status"].to_numpy() != listed["status"].to_numpy())
                     | (prev["updated_at"].to_numpy() != listed["updated_at"].to_numpy())
                     | prev["status"].isna().to_numpy(), index=listed.index)


def pipelines_to_reread(listed: pd.DataFrame, stored: pd.DataFrame, had_jobs: Iterable[int],
                        fetch_started: pd.Timestamp | None) -> set[int]:
    """Rules 1 and 2 of the module doc, for one page of the pipelines list.

    ``listed``/``stored``: ``pipelines`` rows (``pipeline_id``, ``status``, ``updated_at``);
    ``had_jobs``: pipeline ids with jobs stored before this fetch; ``fetch_started``: GitLab's
    time when this fetch began (None: unknown, rule 2 is skipped).
    """
    if listed.empty:
        return set()
    ids = listed["pipeline_id"].astype("int64")
    out = set(ids[changed_pipelines(listed, stored) & ids.isin(set(had_jobs))].tolist())
    if fetch_started is not None:      # whole seconds: a change before it came before the walk
        out |= set(ids[listed["updated_at"] >= fetch_started].tolist())
    return out


def alive_pipelines(jobs: pd.DataFrame, pipelines: pd.DataFrame) -> set[int]:
    """Rule 3: pipelines with a stored job, or stored themselves, in an alive status."""
    ids = set(jobs.loc[jobs["status"].isin(ALIVE_STATUSES), "pipeline_id"].astype(int))
    return ids | set(pipelines.loc[pipelines["status"].isin(ALIVE_STATUSES),
                                   "pipeline_id"].astype(int))


@dataclass(frozen=True)
class Reread:
    """How to read the jobs of ``pipeline_ids`` again: ``walk_floor`` set: walk the project's
    jobs list down to that id; None: one pipeline-jobs list each. ``pages``: the estimate."""

    pipeline_ids: frozenset[int]
    walk_floor: int | None
    pages: int


def choose_reread(pipeline_ids: set[int], jobs: pd.DataFrame) -> Reread:
    """The cheaper way to read these pipelines' jobs again, in pages (100 jobs each).

    Per pipeline: ``ceil(stored jobs of it / 100)`` pages each (at least one). Walk: every
    job from the top down to the oldest stored job of these pipelines; the stored jobs at
    or above it count them (the walk reads them all again). Ties go to the walk: it needs
    only the jobs list.
    """
    ids = frozenset(int(i) for i in pipeline_ids)
    mine = jobs[jobs["pipeline_id"].isin(ids)]
    per_pipeline = sum(max(1, math.ceil(n / PAGE_SIZE))
                       for n in mine.groupby("pipeline_id").size().reindex(
                           list(ids), fill_value=0))
    if mine.empty:
        return Reread(ids, None, per_pipeline)
    floor = int(mine["job_id"].min())
    walk = max(1, math.ceil(int((jobs["job_id"] >= floor).sum()) / PAGE_SIZE))
    if walk <= per_pipeline:
        return Reread(ids, floor, walk)
    return Reread(ids, None, per_pipeline)


def read_pipeline_jobs(client: GitlabClient, project_id: int, pipeline_ids: Iterable[int], *,
                       workers: int = 4) -> tuple[list[dict], set[int]]:
    """Every job of each pipeline, retried attempts included: ``(API items, missing ids)``.

    ``GET /projects/:id/pipelines/:pipeline_id/jobs?include_retried=true`` (``lib/api/ci/
    pipelines.rb``), all pages; ``workers`` pipelines at once. A pipeline answered with 404
    (deleted since, or a server without that route) is returned in ``missing``.
    """
    def one(pid: int) -> tuple[int, list[dict] | None]:
        items: list[dict] = []
        try:
            for page, _ in client.iter_pages(
                    f"/projects/{project_id}/pipelines/{pid}/jobs",
                    {"include_retried": "true"}, what=f"the jobs of pipeline {pid}"):
                items += page
        except ApiError as exc:
            if exc.status != 404:
                raise
            return pid, None
        return pid, items

    out: list[dict] = []
    missing: set[int] = set()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for pid, items in pool.map(one, sorted(set(pipeline_ids))):
            if items is None:
                missing.add(pid)
            else:
                out += items
    return out, missing


def read_jobs_again(client: GitlabClient, project_id: int, pipeline_ids: set[int],
                    jobs: pd.DataFrame, *, since: datetime | None = None, workers: int = 4,
                    pages_per_segment: int = 24,
                    on_walk: Callable[[JobWalk], object] | None = None
                    ) -> tuple[list[dict], set[int]]:
    """The API items of every job of ``pipeline_ids`` (and, by a walk, of the jobs above
    them), read now the cheaper way (:func:`choose_reread`; ``jobs``: the stored table), and
    the pipelines found gone.

    A pipeline whose own list answers 404 while others' answer is gone (deleted); when every
    one answers 404 the server lacks that route, and the walk reads them instead. A pipeline
    neither list nor walk shows a job of is returned as gone. Items created before ``since``
    are left out, as the jobs walk leaves them. ``on_walk`` sees each walk started (to join
    it if the fetch fails).
    """
    plan = choose_reread(pipeline_ids, jobs)
    floor = plan.walk_floor
    items: list[dict] = []
    missing: set[int] = set()
    if floor is None:
        items, missing = read_pipeline_jobs(client, project_id, plan.pipeline_ids,
                                            workers=workers)
        no_route = missing == set(plan.pipeline_ids)
        gone = jobs.loc[jobs["pipeline_id"].isin(missing), "job_id"]
        floor = int(gone.min()) if no_route and len(gone) else None
    if floor is not None:
        walk = JobWalk(client, project_id, stop_id=floor - 1, since=since, workers=workers,
                       pages_per_segment=pages_per_segment)
        if on_walk is not None:
            on_walk(walk)
        items += [item for page in walk.pages() for item in page]
    if since is not None:
        items = [i for i in items if parse_time(i.get("created_at")) >= since]
    seen = {int((i.get("pipeline") or {}).get("id") or 0) for i in items}
    return items, {p for p in missing if p not in seen}
