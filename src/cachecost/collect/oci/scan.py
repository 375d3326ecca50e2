"""Walk a registry's repositories and tags and record every blob each tag references.

For each tag the scan fetches its manifest; a multi-arch index is followed to
each platform manifest. An index whose entries are blobs (BuildKit's registry cache,
default shape) is one image made of those blobs. In cache repositories each image's
config blob is read once (by digest) for its ``created`` time, which dates the tag (the
newest platform wins; kaniko's ``--cache-ttl`` reads the same field); a BuildKit cache
config (``application/vnd.buildkit.cacheconfig.v0``) has no ``created`` but dates each
layer and result (``createdAt``, moby/buildkit ``cache/remotecache/v1/spec.go``): the
newest dates the cache. A BuildKit cache is a cache repository whatever its name. Image
repositories need no age, so their configs are not fetched. Requests run on a bounded
thread pool; manifests and configs are content-addressed, so each digest is
fetched once per scan. Unknown media types are listed in
:attr:`ScanResult.skipped`, never fatal; so is a listed tag whose manifest is not found,
said apart: still listed when asked again (broken before the scan: the registry kept the
tag and lost its manifest) or gone (deleted while the scan ran). Foreign layers (Windows
base layers the registry does not store) are kept apart from the stored blobs
(:attr:`TagImage.foreign`).

    result = scan_registry("http://127.0.0.1:5000", ["app", "app-cache"])
    result.summary["total"]["unique_bytes"]       # what a deduplicating registry stores
    result.layer_rows()                           # the dataset's registry_layers table
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from tqdm import tqdm

from cachecost.collect.oci.client import Credentials, RegistryClient
from cachecost.collect.oci.manifests import (
    BUILDKIT_CACHE_CONFIG,
    Blob,
    ImageIndex,
    ImageManifest,
    Unknown,
    parse_manifest,
    split_stored,
)
from cachecost.collect.oci.summary import (
    DEFAULT_CACHE_PATTERNS,
    DEFAULT_TTL_HOURS,
    is_cache_repository,
    summarize_scan,
)
from cachecost.dataset.io import empty_table
from cachecost.errors import RegistryNotFound

DEFAULT_MAX_WORKERS = 8
#: why a listed tag could not be read: deleted while the scan ran ...
VANISHED_TAG = "tag vanished during the scan"
#: ... or already broken when it began
BROKEN_TAG = "tag broken before the scan"
_MAX_INDEX_DEPTH = 2  # an index inside an index is legal; deeper is not followed


@dataclass(frozen=True)
class TagImage:
    """One image a tag resolves to (a multi-arch tag resolves to several)."""

    repository: str
    tag: str
    manifest_digest: str
    platform: str | None
    blobs: tuple[Blob, ...]      # the blobs the registry stores (foreign layers left out)
    created_at: datetime | None  # config ``created``; only read in cache repositories
    is_cache: bool = False       # its content is a BuildKit cache (whatever the repository name)
    foreign: tuple[Blob, ...] = ()  # foreign layers: named by the manifest, not stored


def tag_image(repository: str, tag: str, digest: str, platform: str | None,
           blobs: tuple[Blob, ...], created: datetime | None, is_cache: bool) -> TagImage:
    """A :class:`TagImage` whose foreign layers are listed apart from its stored blobs."""
    stored, foreign = split_stored(blobs)
    return TagImage(repository, tag, digest, platform, stored, created, is_cache, foreign)


@dataclass(frozen=True)
class Skipped:
    """A manifest the scan could not read, and why."""

    repository: str
    tag: str
    digest: str | None
    media_type: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"repository": self.repository, "tag": self.tag, "digest": self.digest,
                "media_type": self.media_type, "reason": self.reason}


@dataclass
class ScanResult:
    """What a scan found: per-image blobs, skipped manifests, the summary and its cost."""

    registry_url: str
    repositories: dict[str, list[str]]  # repository -> its tags
    images: list[TagImage]
    skipped: list[Skipped]
    summary: dict[str, Any]
    request_count: int = 0
    manifest_count: int = 0
    duration_s: float = 0.0

    def layer_rows(self) -> pd.DataFrame:
        """Return the rows of the dataset's ``registry_layers`` table."""
        rows = [
            {
                "repository_path": img.repository,
                "tag_name": img.tag,
                "manifest_digest": img.manifest_digest,
                "platform": img.platform,
                "blob_digest": blob.digest,
                "blob_kind": blob.kind,
                "size_bytes": blob.size_bytes,
                "created_at": img.created_at,
            }
            for img in self.images
            for blob in dict.fromkeys(img.blobs)
        ]
        if not rows:
            return empty_table("registry_layers")
        return pd.DataFrame(rows, columns=list(empty_table("registry_layers").columns))

    def foreign_rows(self) -> list[dict[str, Any]]:
        """The foreign layers tags name and the registry does not store, one row per
        (repository, tag, digest): listed, never added to a stored size."""
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for img in self.images:
            for blob in img.foreign:
                rows.setdefault((img.repository, img.tag, blob.digest), {
                    "repository": img.repository, "tag": img.tag, "digest": blob.digest,
                    "media_type": blob.media_type, "size_bytes": blob.size_bytes,
                    "urls": list(blob.urls)})
        return list(rows.values())

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document ``cachecost registry-scan --json`` prints."""
        return {
            "registry": self.registry_url,
            **self.summary,
            "foreign_layers": self.foreign_rows(),
            "skipped": [s.as_dict() for s in self.skipped],
            "scan": {
                "manifests": self.manifest_count,
                "requests": self.request_count,
                "duration_s": round(self.duration_s, 3),
            },
        }


def _utc(value: object) -> datetime | None:
    """An RFC 3339 text as a UTC datetime; None when absent, unreadable or Go's zero time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp) or stamp.year <= 1:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC").floor("us").to_pydatetime()


def _newest(values) -> datetime | None:
    stamps = [t for t in (_utc(v) for v in values) if t is not None]
    return max(stamps) if stamps else None


def parse_created(config_body: bytes) -> datetime | None:
    """Return when an image config, or a BuildKit cache config, was made (UTC); else None.

    An image config carries ``created``. A BuildKit cache config
    (``application/vnd.buildkit.cacheconfig.v0``; moby/buildkit
    ``cache/remotecache/v1/spec.go``) carries ``layers[].annotations.createdAt`` and
    ``records[].layers[].createdAt`` / ``records[].chains[].createdAt``: the newest one.
    """
    try:
        doc = json.loads(config_body)
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    if "created" in doc:
        return _utc(doc.get("created"))
    found = []
    for layer in doc.get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("annotations"), dict):
            found.append(layer["annotations"].get("createdAt"))
    for record in doc.get("records") or []:
        if isinstance(record, dict):
            for res in (record.get("layers") or []) + (record.get("chains") or []):
                if isinstance(res, dict):
                    found.append(res.get("createdAt"))
    return _newest(found)


class _Walker:
    """Resolve tags to images with per-digest caches shared by the worker threads."""

    def __init__(self, client: RegistryClient, needs_age: Callable[[str], bool]) -> None:
        self.client = client
        self.needs_age = needs_age
        self._created: dict[str, datetime | None] = {}
        self._lock = threading.Lock()
        self.manifest_count = 0

    def _manifest(self, repository: str, reference: str):
        manifest = self.client.get_manifest(repository, reference)
        with self._lock:
            self.manifest_count += 1
        return manifest

    def _why_missing(self, repository: str, tag: str) -> str:
        """A listed tag whose manifest is not found: deleted since the tags were listed
        (no longer listed), or broken before the scan (still listed: the registry keeps a
        tag whose manifest it lost, e.g. to garbage collection). One more listing."""
        try:
            listed = tag in self.client.list_tags(repository)
        except RegistryNotFound:
            listed = False
        return (f"{BROKEN_TAG}: still listed, its manifest is not found" if listed
                else VANISHED_TAG)

    def _created_of(self, repository: str, config: Blob) -> datetime | None:
        with self._lock:
            if config.digest in self._created:
                return self._created[config.digest]
        try:
            created = parse_created(self.client.get_blob(repository, config.digest))
        except RegistryNotFound:
            created = None
        with self._lock:
            self._created[config.digest] = created
        return created

    def resolve_tag(self, repository: str, tag: str) -> tuple[list[TagImage], list[Skipped]]:
        """Return the images ``repository:tag`` resolves to and what was skipped."""
        try:
            manifest = self._manifest(repository, tag)
        except RegistryNotFound:
            return [], [Skipped(repository, tag, None, "", self._why_missing(repository, tag))]
        images: list[TagImage] = []
        skipped: list[Skipped] = []
        self._collect(repository, tag, manifest.media_type, manifest.digest, manifest.body,
                      None, 0, images, skipped)
        return images, skipped

    def _collect(self, repository, tag, media_type, digest, body, platform, depth,
                 images, skipped) -> None:
        parsed = parse_manifest(media_type, body)
        if isinstance(parsed, Unknown):
            skipped.append(Skipped(repository, tag, digest, parsed.media_type, parsed.reason))
        elif isinstance(parsed, ImageManifest):
            is_cache = parsed.config.media_type == BUILDKIT_CACHE_CONFIG
            created = (self._created_of(repository, parsed.config)
                       if is_cache or self.needs_age(repository) else None)
            if created is None and is_cache:
                created = _newest(b.created_at for b in parsed.layers)
            images.append(tag_image(repository, tag, digest, platform, parsed.blobs, created,
                                 is_cache))
        elif isinstance(parsed, ImageIndex):
            self._collect_index(repository, tag, digest, parsed, platform, depth, images,
                                skipped)

    def _collect_index(self, repository, tag, digest, parsed: ImageIndex, platform, depth,
                       images, skipped) -> None:
        """An index's images: itself when it lists blobs (a BuildKit registry cache),
        then each readable entry's manifest, up to :data:`_MAX_INDEX_DEPTH` deep."""
        for entry in parsed.unsupported:
            skipped.append(Skipped(repository, tag, entry.digest, entry.media_type,
                                   "unsupported media type in index"))
        if parsed.blobs:      # BuildKit's registry cache: the index itself is the image
            configs = [b for b in parsed.blobs if b.media_type == BUILDKIT_CACHE_CONFIG]
            is_cache = bool(configs)
            created = None
            if is_cache or self.needs_age(repository):
                if configs:
                    created = self._created_of(repository, configs[0])
                if created is None:
                    created = _newest(b.created_at for b in parsed.blobs)
            images.append(tag_image(repository, tag, digest, platform, parsed.blobs,
                                 created, is_cache))
        for entry in parsed.readable:
            if depth >= _MAX_INDEX_DEPTH:
                skipped.append(Skipped(repository, tag, entry.digest, entry.media_type,
                                       "index nested too deep"))
                continue
            try:
                child = self._manifest(repository, entry.digest)
            except RegistryNotFound:
                skipped.append(Skipped(repository, tag, entry.digest, entry.media_type,
                                       "platform manifest missing (HTTP 404)"))
                continue
            self._collect(repository, tag, child.media_type, child.digest, child.body,
                          entry.platform or platform, depth + 1, images, skipped)


def _progress(total: int, desc: str, show: bool):
    return tqdm(total=total, desc=desc, unit="tag", disable=not show, leave=False)


def scan_registry(
    registry_url: str,
    repositories: Sequence[str] | None = None,
    *,
    credentials: Credentials | None = None,
    projects: Sequence[str] = (),
    cache_patterns: Sequence[str] = DEFAULT_CACHE_PATTERNS,
    ttl_hours: float = DEFAULT_TTL_HOURS,
    max_workers: int = DEFAULT_MAX_WORKERS,
    show_progress: bool = False,
    now: datetime | None = None,
    client: RegistryClient | None = None,
) -> ScanResult:
    """Scan ``repositories`` (default: the registry's ``/v2/_catalog``) and summarize.

    Args:
        registry_url: registry root, e.g. ``https://registry.gitlab.com``.
        repositories: repository paths; None lists them through the catalog
            (an empty list scans nothing).
        credentials: for basic auth or a bearer realm; None means anonymous.
        projects: project paths (``group/project``) repositories are grouped under;
            a repository outside all of them is grouped by its first two path segments.
        cache_patterns: globs naming cache repositories (default ``*-cache``, ``*/cache``).
        ttl_hours: cache tags whose config is older than this are stale (kaniko: 336).
        max_workers: bound on concurrent requests.
        show_progress: draw a tqdm bar on stderr.
        now: the reference time for staleness (default: the current time).
        client: a ready client (overrides ``registry_url`` and ``credentials``).

    Raises:
        CachecostError: unreachable registry, 401/403, unknown repository (one line).
    """
    started = time.perf_counter()
    client = client or RegistryClient(registry_url, credentials)
    client.ping()
    names = (client.list_repositories() if repositories is None
             else list(dict.fromkeys(repositories)))
    walker = _Walker(client, lambda repo: is_cache_repository(repo, cache_patterns))
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers))
    try:
        tag_lists = list(pool.map(client.list_tags, names))
        repo_tags = {name: sorted(tags) for name, tags in zip(names, tag_lists, strict=True)}
        pairs = [(repo, tag) for repo, tags in repo_tags.items() for tag in tags]
        images: list[TagImage] = []
        skipped: list[Skipped] = []
        with _progress(len(pairs), "registry tags", show_progress) as bar:
            repos_col, tags_col = [p[0] for p in pairs], [p[1] for p in pairs]
            for found, missed in pool.map(_counted(walker.resolve_tag, bar), repos_col, tags_col):
                images.extend(found)
                skipped.extend(missed)
    finally:
        pool.shutdown(cancel_futures=True)  # on an error, don't finish the queued requests
    summary = summarize_scan(
        repo_tags, images, projects=projects, cache_patterns=cache_patterns,
        ttl_hours=ttl_hours, now=now or datetime.now(UTC),
    )
    return ScanResult(
        registry_url=client.base_url, repositories=repo_tags, images=images, skipped=skipped,
        summary=summary, request_count=client.request_count,
        manifest_count=walker.manifest_count, duration_s=time.perf_counter() - started,
    )


def _counted(fn: Callable, bar) -> Callable:
    def wrapped(*args):
        try:
            return fn(*args)
        finally:
            bar.update(1)

    return wrapped
