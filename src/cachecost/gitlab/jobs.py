"""Project jobs, newest first, with keyset pagination: one listing for all pipelines.

``GET /projects/:id/jobs?pagination=keyset&order_by=id&sort=desc`` returns
every job of the project (retried attempts included), 100 per page, and a
``Link: rel="next"`` cursor. The walk stops at the newest job already stored,
so a fetch never asks for jobs pipeline by pipeline.

    for rows, next_url in iter_job_pages(client, 123): ...
"""

from __future__ import annotations

from collections.abc import Iterator

from cachecost.gitlab.client import GitlabClient
from cachecost.gitlab.convert import timing_columns

#: Statuses after which a job no longer changes.
FINISHED_JOB_STATUSES = frozenset({"success", "failed", "canceled", "skipped", "manual"})


def job_row(item: dict) -> dict:
    """One API job as a ``jobs`` row (mapping, retry flag and log columns filled later)."""
    runner = item.get("runner") or {}
    return {
        "job_id": int(item["id"]),
        "pipeline_id": int((item.get("pipeline") or {}).get("id") or 0),
        "name": item.get("name"), "stage": item.get("stage"), "status": item.get("status"),
        "ref": item.get("ref"),
        **timing_columns(item),
        "is_retried": bool(item.get("retried", False)),
        "is_allowed_failure": bool(item.get("allow_failure", False)),
        "failure_reason": item.get("failure_reason"),
        "runner_description": runner.get("description"),
        "is_container_build": False, "image": None,
        "cache_outcome": None, "cached_steps": None, "executed_steps": None,
    }


def iter_job_pages(client: GitlabClient, project_id: int, resume_url: str | None = None
                   ) -> Iterator[tuple[list[dict], str | None]]:
    """Yield ``(rows, next_url)`` per page, newest job first.

    ``resume_url`` is a ``next_url`` saved from an earlier walk: the walk goes
    on from there instead of from the newest job.
    """
    path = resume_url or f"/projects/{project_id}/jobs"
    params = {} if resume_url else {"pagination": "keyset", "order_by": "id", "sort": "desc"}
    for items, nxt in client.iter_pages(path, params, what="the project's jobs list"):
        yield [job_row(i) for i in items], nxt
