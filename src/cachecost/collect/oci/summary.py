"""Turn scanned blobs into storage figures: sum of tags vs unique bytes, cache overlap, stale tags.

Definitions (every figure is in compressed bytes, as registries store and bill):

* a tag's size: its distinct blobs (layers + config, every platform of a multi-arch tag);
* ``sum_of_tags_bytes``: tag sizes added up, shared layers counted again for
  every tag (what per-tag sizes from GitLab's API add up to);
* ``unique_bytes``: each distinct blob counted once within the group (what a
  registry deduplicating at that level stores; over one root namespace this is
  GitLab.com's accounting);
* ``shared_with_cache_bytes``: distinct blobs referenced both by an image
  repository and by a cache repository (they cost nothing extra for the cache);
* ``cache_only_bytes``: distinct blobs only cache repositories reference (what
  the cache really adds under deduplication);
* cache repository: its path matches a cache pattern, or it holds a BuildKit cache
  (an image or index with an ``application/vnd.buildkit.cacheconfig.v0`` config);
* ``foreign_layers`` / ``foreign_bytes``: distinct foreign layers the tags name (Windows
  base layers with a foreign or non-distributable media type, or ``urls``) and the sizes
  their descriptors declare. The registry does not store them, so they are in none of the
  byte figures above: listed, never summed into storage;
* stale cache tag: a tag in a cache repository whose image config ``created``
  is older than the TTL (kaniko ``--cache-ttl``, default 336 h): kaniko would
  no longer use it, yet nothing deletes it;
* ``stale_cache_unique_bytes``: distinct blobs referenced only by stale cache
  tags, i.e. what deleting those tags would free.

Groups: each repository, each project (the given project paths, else the
first two path segments), each root namespace (first segment) and the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from cachecost.rules import DEFAULT_CACHE_PATTERNS, is_cache_repository

DEFAULT_TTL_HOURS = 336.0


class _Image(Protocol):
    @property
    def repository(self) -> str: ...
    @property
    def tag(self) -> str: ...
    @property
    def blobs(self) -> tuple: ...
    @property
    def created_at(self) -> datetime | None: ...


def project_of(path: str, projects: Sequence[str] = ()) -> str:
    """Return the project a repository belongs to: the longest given prefix, else 2 segments."""
    owners = [p.strip("/") for p in projects if path == p.strip("/")
              or path.startswith(p.strip("/") + "/")]
    if owners:
        return max(owners, key=len)
    return "/".join(path.split("/")[:2])


class _Tag:
    """One tag's distinct blobs and its age."""

    __slots__ = ("blobs", "created_at", "foreign", "is_cache", "is_stale", "repository")

    def __init__(self, repository: str, is_cache: bool) -> None:
        self.repository = repository
        self.is_cache = is_cache
        self.blobs: dict[str, int] = {}
        self.foreign: dict[str, int] = {}
        self.created_at: datetime | None = None
        self.is_stale = False


def _bytes(blobs: Mapping[str, int], digests: Iterable[str]) -> int:
    return sum(blobs[d] for d in digests)


def _figures(tags: Sequence[_Tag]) -> dict[str, Any]:
    """The storage figures of one group of tags."""
    sizes: dict[str, int] = {}
    foreign: dict[str, int] = {}
    image_digests: set[str] = set()
    cache_digests: set[str] = set()
    stale_digests: set[str] = set()
    live_digests: set[str] = set()
    sum_of_tags = 0
    stale_tags = unknown_age = 0
    for tag in tags:
        sizes.update(tag.blobs)
        foreign.update(tag.foreign)
        sum_of_tags += sum(tag.blobs.values())
        (cache_digests if tag.is_cache else image_digests).update(tag.blobs)
        (stale_digests if tag.is_stale else live_digests).update(tag.blobs)
        stale_tags += tag.is_stale
        unknown_age += tag.is_cache and tag.created_at is None
    return {
        "tags": len(tags),
        "sum_of_tags_bytes": sum_of_tags,
        "unique_bytes": _bytes(sizes, sizes),
        "image_unique_bytes": _bytes(sizes, image_digests),
        "cache_unique_bytes": _bytes(sizes, cache_digests),
        "shared_with_cache_bytes": _bytes(sizes, image_digests & cache_digests),
        "cache_only_bytes": _bytes(sizes, cache_digests - image_digests),
        "stale_cache_tags": stale_tags,
        "stale_cache_bytes": _bytes(sizes, stale_digests),
        "stale_cache_unique_bytes": _bytes(sizes, stale_digests - live_digests),
        "cache_tags_unknown_age": unknown_age,
        "foreign_layers": len(foreign),
        "foreign_bytes": sum(foreign.values()),
    }


def _grouped(tags: Sequence[_Tag], key, names: Iterable[str]) -> list[dict[str, Any]]:
    members: dict[str, list[_Tag]] = {name: [] for name in names}
    for tag in tags:
        members[key(tag.repository)].append(tag)
    return [{"path": name, **_figures(group)} for name, group in members.items()]


def summarize_scan(
    repo_tags: Mapping[str, Sequence[str]],
    images: Iterable[_Image],
    *,
    projects: Sequence[str] = (),
    cache_patterns: Sequence[str] = DEFAULT_CACHE_PATTERNS,
    ttl_hours: float = DEFAULT_TTL_HOURS,
    now: datetime,
) -> dict[str, Any]:
    """Return the scan's JSON summary: ``repositories``, ``projects``, ``namespaces``, ``total``.

    ``repo_tags`` lists every scanned repository and its tags (tags whose
    manifests were all skipped count as tags of zero bytes); ``images`` are the
    resolved platform images with their blobs and config ``created`` time.
    """
    cutoff = now - timedelta(hours=ttl_hours)
    tags: dict[tuple[str, str], _Tag] = {
        (repo, name): _Tag(repo, is_cache_repository(repo, cache_patterns))
        for repo, names in repo_tags.items() for name in names
    }
    images = list(images)
    # a repository holding a BuildKit cache is a cache repository, whatever its name
    cache_by_content = {img.repository for img in images if getattr(img, "is_cache", False)}
    for (repo, _), tag in tags.items():
        tag.is_cache = tag.is_cache or repo in cache_by_content
    for img in images:
        tag = tags[(img.repository, img.tag)]
        tag.blobs.update((b.digest, b.size_bytes) for b in img.blobs)
        tag.foreign.update((b.digest, b.size_bytes) for b in getattr(img, "foreign", ()))
        if img.created_at is not None and (tag.created_at is None
                                           or img.created_at > tag.created_at):
            tag.created_at = img.created_at
    for tag in tags.values():
        tag.is_stale = tag.is_cache and tag.created_at is not None and tag.created_at < cutoff
    all_tags = list(tags.values())
    repositories = _grouped(all_tags, lambda r: r, repo_tags)
    for row in repositories:
        row["project"] = project_of(row["path"], projects)
        row["is_cache_repository"] = (is_cache_repository(row["path"], cache_patterns)
                                      or row["path"] in cache_by_content)
    project_names = sorted({project_of(r, projects) for r in repo_tags})
    namespace_names = sorted({r.split("/")[0] for r in repo_tags})
    return {
        "repositories": repositories,
        "projects": _grouped(all_tags, lambda r: project_of(r, projects), project_names),
        "namespaces": _grouped(all_tags, lambda r: r.split("/")[0], namespace_names),
        "total": _figures(all_tags),
        "settings": {
            "cache_patterns": list(cache_patterns),
            "ttl_hours": ttl_hours,
            "stale_before": cutoff.isoformat(),
        },
    }
