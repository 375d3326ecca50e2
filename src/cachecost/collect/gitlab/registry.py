"""Container registry: repositories with their tags, deduplicated sizes, tag details.

* ``GET /projects/:id/registry/repositories?tags=true&tags_count=true`` lists repositories
  and their tag names;
* ``GET /registry/repositories/:id?size=true`` adds the deduplicated ``size`` (on
  GitLab.com only for repositories created after 2021-11-04; absent otherwise);
* ``GET /projects/:id/registry/repositories/:repository_id/tags/:tag_name`` gives a tag's
  ``digest``, ``created_at`` and ``total_size`` (one request per tag, so these run
  ``workers`` at a time).

A disabled registry answers 404 and a hidden one 403: :class:`RegistryUnavailable`.

    repos = list_repositories(client, 123)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.convert import parse_time
from cachecost.collect.mapping import image_from_repository
from cachecost.errors import ApiError, RegistryUnavailable
from cachecost.rules import is_cache_repository


def list_repositories(client: GitlabClient, project_id: int) -> list[dict]:
    """All repositories with ``tags`` and ``tags_count``; raise RegistryUnavailable on 403/404."""
    out: list[dict] = []
    try:
        for items, _ in client.iter_pages(f"/projects/{project_id}/registry/repositories",
                                          {"tags": "true", "tags_count": "true"},
                                          what="the container registry"):
            out.extend(items)
    except ApiError as exc:
        if exc.status == 403:
            raise RegistryUnavailable("container registry forbidden to this token (403)") from None
        if exc.status == 404:
            raise RegistryUnavailable("container registry disabled or absent (404)") from None
        raise
    return out


def fetch_repository_sizes(client: GitlabClient, repository_ids: Iterable[int], *,
                           workers: int = 4) -> dict[int, float]:
    """Deduplicated ``size`` in bytes per repository; NaN where the server offers none."""
    def one(rid: int) -> tuple[int, float]:
        obj = client.get_json(f"/registry/repositories/{rid}", {"size": "true"},
                              what=f"registry repository {rid}")
        size = obj.get("size")
        return rid, math.nan if size is None else float(size)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, list(repository_ids)))


def tag_row(repository_id: int, obj: dict) -> dict:
    """One tag detail as a ``registry_tags`` row."""
    size = obj.get("total_size")
    return {
        "repository_id": int(repository_id), "tag_name": obj.get("name"),
        "digest": obj.get("digest"),
        "total_size_bytes": math.nan if size is None else float(size),
        "created_at": parse_time(obj.get("created_at")),
    }


def fetch_tag_details(client: GitlabClient, project_id: int,
                      tags: Iterable[tuple[int, str]], *, workers: int = 4) -> list[dict]:
    """Tag rows for ``(repository_id, tag_name)`` pairs, ``workers`` requests at a time.

    A tag deleted between listing and detail (404) is skipped.
    """
    def one(pair: tuple[int, str]) -> dict | None:
        rid, name = pair
        try:
            obj = client.get_json(
                f"/projects/{project_id}/registry/repositories/{rid}/tags/{quote(name, safe='')}",
                what=f"tag {name} of registry repository {rid}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return tag_row(rid, obj)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [r for r in pool.map(one, list(tags)) if r is not None]


def repository_rows(repos: list[dict], sizes: dict[int, float], known_images: set[str]
                    ) -> list[dict]:
    """``registry_repositories`` rows from the list items, their sizes (bytes; NaN where
    GitLab gives none) and the images the mapping knows (others: ``image`` None)."""
    rows = []
    for r in repos:
        name = r.get("name") or ""
        image = image_from_repository(r.get("path") or name)
        rows.append({
            "repository_id": int(r["id"]), "path": r.get("path"), "name": name,
            "image": image if image in known_images else None,
            "is_cache_repository": is_cache_repository(name.lower()),
            "created_at": parse_time(r.get("created_at")),
            "tags_count": int(r.get("tags_count") or len(r.get("tags") or [])),
            "size_bytes": sizes.get(int(r["id"]), math.nan),
        })
    return rows
