"""The repository: files at a ref, and the commits that touched a path.

* ``GET /projects/:id/repository/files/:file_path?ref=REF``: the file's metadata and
  its ``content`` (``encoding: base64``); 404 when the file does not exist at ``ref``.
* ``GET /projects/:id/repository/tree?path=DIR&ref=REF``: the entries of a directory;
* ``GET /projects/:id/repository/commits?ref_name=REF&path=P&since=T``: commits on
  ``REF`` that touched ``P`` (a file, or a directory: anything below it), newest first,
  offset-paginated; ``since`` is compared with the commit's committed date.

(GitLab docs ``api/repository_files.md`` and ``api/commits.md``.)

    text = read_file(client, 123, ".gitlab-ci.d/containers.yml", "master")
    rows = list_commits(client, 123, ref="master", path="tests/docker", since=ts)
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pandas as pd

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.convert import format_time, parse_time
from cachecost.errors import ApiError


def read_file(client: GitlabClient, project_id: int, path: str, ref: str) -> str | None:
    """The text of ``path`` at ``ref`` (one request); None when it does not exist there.

    A 404 reads as "no such file" (the project itself was found before); 403 raises
    :class:`~cachecost.errors.ApiError`, as do the client's other errors.
    """
    try:
        obj = client.get_json(
            f"/projects/{project_id}/repository/files/{quote(path, safe='')}", {"ref": ref},
            what=f"the file {path} at {ref}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    content = obj.get("content") or ""
    if obj.get("encoding", "base64") == "base64":
        return base64.b64decode(content).decode("utf-8", errors="replace")
    return str(content)


def list_tree(client: GitlabClient, project_id: int, path: str, ref: str) -> list[str]:
    """Paths of the files directly in directory ``path`` at ``ref`` (``GET .../repository/tree``).

    A 404 (no such directory) gives an empty list.
    """
    try:
        out: list[str] = []
        for items, _ in client.iter_pages(f"/projects/{project_id}/repository/tree",
                                          {"path": path, "ref": ref},
                                          what=f"the directory {path} at {ref}"):
            out.extend(i["path"] for i in items if i.get("type") == "blob")
        return out
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


def commit_row(item: dict) -> dict:
    """A commits-list item as ``{"commit", "time", "title"}`` (time: ``committed_date``)."""
    return {"commit": item["id"],
            "time": parse_time(item.get("committed_date") or item.get("created_at")),
            "title": item.get("title")}


def list_commits(client: GitlabClient, project_id: int, *, ref: str | None, path: str | None,
                 since: pd.Timestamp | None, per_page: int | None = None,
                 first_page_only: bool = False, all_refs: bool = False) -> list[dict]:
    """Commits on ``ref`` touching ``path`` committed after ``since``, newest first.

    One request a page of 100 (``per_page`` lowers it, e.g. 1 for a probe that only
    asks whether anything changed); rows as :func:`commit_row` gives them.
    """
    params: dict[str, object] = {}
    if ref:
        params["ref_name"] = ref
    if path:
        params["path"] = path
    if since is not None:
        params["since"] = format_time(since)
    if per_page:
        params["per_page"] = per_page
    if all_refs:
        params["all"] = "true"           # every branch, not only the default one
    rows: list[dict] = []
    for items, _ in client.iter_pages(f"/projects/{project_id}/repository/commits", params,
                                      what=f"the commits touching {path or 'the repository'}"):
        rows.extend(commit_row(i) for i in items)
        if first_page_only:
            break
    return rows
