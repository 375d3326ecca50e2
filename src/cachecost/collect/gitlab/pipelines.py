"""Pipelines: the list by ``updated_after`` watermark, and details where wanted.

The list (``GET /projects/:id/pipelines``) has no times or durations beyond
``created_at``/``updated_at``; ``GET /projects/:id/pipelines/:pipeline_id``
adds ``started_at``, ``finished_at``, ``duration`` and ``queued_duration`` at
one request per pipeline. :mod:`cachecost.collect.fetch` derives them from the jobs
instead unless asked (``docs/fetch.md`` has the measured comparison).

    for rows, _ in iter_pipeline_pages(client, 123, updated_after=ts): ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.convert import format_time, parse_time, timing_columns
from cachecost.errors import ApiError


def pipeline_row(item: dict) -> dict:
    """One list item as a ``pipelines`` row (times and durations unknown yet)."""
    return {
        "pipeline_id": int(item["id"]), "iid": int(item.get("iid") or 0),
        "ref": item.get("ref"), "sha": item.get("sha"), "source": item.get("source"),
        "status": item.get("status"),
        "updated_at": parse_time(item.get("updated_at")),
        **timing_columns(item),
    }


#: GitLab's pipelines list leaves out child pipelines (``trigger: include:``) unless asked
#: for them with ``source=parent_pipeline`` (gitlabhq ``app/finders/ci/pipelines_finder.rb``,
#: ``doc/api/pipelines.md``); their jobs are in the project's jobs list all the same.
CHILD_SOURCE = "parent_pipeline"


def iter_pipeline_pages(client: GitlabClient, project_id: int,
                        updated_after: pd.Timestamp | None, *, source: str | None = None
                        ) -> Iterator[list[dict]]:
    """Yield pages of pipeline rows updated after the watermark, oldest update first.

    Ascending ``updated_at`` order lets the caller move its watermark page by page.
    ``source`` filters by pipeline source; :data:`CHILD_SOURCE` lists the child
    pipelines, which the unfiltered list omits.
    """
    params = {"order_by": "updated_at", "sort": "asc"}
    if updated_after is not None:
        params["updated_after"] = format_time(updated_after)
    if source is not None:
        params["source"] = source
    what = "the pipelines list" if source is None else f"the {source} pipelines list"
    for items, _ in client.iter_pages(f"/projects/{project_id}/pipelines", params, what=what):
        yield [pipeline_row(i) for i in items]


def fetch_pipeline_details(client: GitlabClient, project_id: int, pipeline_ids: Iterable[int],
                           *, workers: int = 4, gone: set[int] | None = None) -> list[dict]:
    """Fetch each pipeline's details (one request each, ``workers`` at a time).

    ``gone``: where the ids of pipelines answered 404 (deleted) go; without it a 404
    raises :class:`~cachecost.errors.ApiError`.
    """
    def one(pid: int) -> dict | None:
        try:
            return pipeline_row(client.get_json(f"/projects/{project_id}/pipelines/{pid}",
                                                what=f"pipeline {pid}"))
        except ApiError as exc:
            if gone is None or exc.status != 404:
                raise
            gone.add(pid)
            return None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return [row for row in pool.map(one, list(pipeline_ids)) if row is not None]


#: Pipeline statuses with a finish time and a duration (for now: a retry reopens any of them).
PIPELINE_DONE_STATUSES = ("success", "failed", "canceled", "skipped", "manual")


def derive_pipeline_times(pipelines: pd.DataFrame, jobs: pd.DataFrame) -> pd.DataFrame:
    """Fill pipelines' start, finish, duration and queue time from their jobs (no request).

    ``duration_s`` is the union of the intervals in which the pipeline's latest
    (not retried) jobs ran, as GitLab computes it; ``queued_duration_s`` is the
    wait from creation to the first job start. Pipelines still running keep NaN.
    """
    out = pipelines.copy()
    ran = jobs.loc[~jobs["is_retried"] & jobs["started_at"].notna(),
                   ["pipeline_id", "started_at", "finished_at"]]
    first = ran.groupby("pipeline_id")["started_at"].min()
    last = jobs.groupby("pipeline_id")["finished_at"].max()
    union = _union_seconds(ran.dropna(subset=["finished_at"]))
    idx = out["pipeline_id"]
    is_done = out["status"].isin(PIPELINE_DONE_STATUSES).to_numpy()
    out["started_at"] = pd.to_datetime(idx.map(first), utc=True)
    out["finished_at"] = pd.to_datetime(idx.map(last).where(is_done), utc=True)
    out["duration_s"] = idx.map(union).astype("float64").where(is_done, np.nan)
    out["queued_duration_s"] = (out["started_at"] - out["created_at"]).dt.total_seconds()
    return out


def _union_seconds(ran: pd.DataFrame) -> pd.Series:
    """Per pipeline, the seconds covered by the union of its jobs' [start, finish] intervals.

    Sorted by start, an interval opens a new block when it starts after every
    earlier interval of its pipeline has finished; the union is the sum of the blocks.
    """
    ran = ran.sort_values(["pipeline_id", "started_at"])
    pid, start, end = ran["pipeline_id"], ran["started_at"], ran["finished_at"]
    ended_before = end.groupby(pid).cummax().groupby(pid).shift()
    block = (ended_before.isna() | (start > ended_before)).cumsum()
    blocks = pd.DataFrame({"pipeline_id": pid, "start": start, "end": end}).groupby(block).agg(
        pipeline_id=("pipeline_id", "first"), start=("start", "min"), end=("end", "max"))
    return (blocks["end"] - blocks["start"]).dt.total_seconds().groupby(
        blocks["pipeline_id"]).sum()
