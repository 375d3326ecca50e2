"""Forks: the project's forks, most recently active first, and a fork's pipelines.

* ``GET /projects/:id/forks?order_by=last_activity_at&sort=desc``: fork projects
  (``namespace.full_path``, ``last_activity_at``, ...), offset-paginated; reading stops
  at the first page that reaches a fork inactive since the window start, so 1,000
  forks of which 30 were active cost one page.
* ``GET /projects/:fork_id/pipelines?updated_after=T``: the fork's pipelines
  (GitLab docs ``api/projects.md#list-forks-of-a-project``, ``api/pipelines.md``).

    forks = active_forks(client, 123, since=ts)
    pipes = fork_pipelines(client, forks[0]["id"], since=ts)
"""

from __future__ import annotations

import pandas as pd

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.convert import format_time, parse_time


def fork_row(item: dict) -> dict:
    """A forks-list item as a partial ``forks`` row (id, path, owner, times)."""
    ns = item.get("namespace") or {}
    full = ns.get("full_path") or str(item.get("path_with_namespace", "")).rsplit("/", 1)[0]
    return {"fork_id": int(item["id"]), "path": item.get("path_with_namespace"),
            "owner": full.split("/", 1)[0] if full else None,
            "created_at": parse_time(item.get("created_at")),
            "last_activity_at": parse_time(item.get("last_activity_at"))}


def active_forks(client: GitlabClient, project_id: int, since: pd.Timestamp,
                 *, max_pages: int | None = None) -> tuple[list[dict], bool]:
    """Forks, most recently active first, down to the first one inactive since ``since``.

    Returns ``(rows, is_complete)``: the rows of every page read (the last page may
    hold inactive forks too) and whether the listing reached an inactive fork or the
    end (False when ``max_pages`` stopped it first).
    """
    rows: list[dict] = []
    params = {"order_by": "last_activity_at", "sort": "desc"}
    pages = 0
    for items, nxt in client.iter_pages(f"/projects/{project_id}/forks", params,
                                        what="the forks list"):
        page = [fork_row(i) for i in items]
        rows.extend(page)
        pages += 1
        if nxt is None or any(r["last_activity_at"] < since for r in page):
            return rows, True
        if max_pages is not None and pages >= max_pages:
            return rows, False
    return rows, True


def fork_pipelines(client: GitlabClient, fork_id: int, since: pd.Timestamp) -> list[dict]:
    """A fork's pipelines created at or after ``since``: ``{"id", "sha", "created_at"}``."""
    out = []
    for items, _ in client.iter_pages(f"/projects/{fork_id}/pipelines",
                                      {"updated_after": format_time(since)},
                                      what=f"the pipelines of fork {fork_id}"):
        for i in items:
            created = parse_time(i.get("created_at"))
            if created >= since:
                out.append({"id": int(i["id"]), "sha": i.get("sha"), "created_at": created,
                            "status": i.get("status")})
    return out
