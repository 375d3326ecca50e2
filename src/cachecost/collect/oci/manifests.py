"""Parse registry manifests into the blobs they reference.

Four media types are understood:

* Docker image manifest v2 (``application/vnd.docker.distribution.manifest.v2+json``)
  and OCI image manifest (``application/vnd.oci.image.manifest.v1+json``):
  one config blob plus layer blobs, each with digest and compressed size.
* Docker manifest list and OCI image index (multi-arch): a list of platform
  manifests, each to be fetched and parsed in turn.

An index's entries are normally manifests; BuildKit's registry cache in its
long-standing default shape (``--cache-to type=registry``, ``image-manifest=false``) is an
OCI index whose ``manifests[]`` are *blob* descriptors instead: its layers and a config
of media type :data:`BUILDKIT_CACHE_CONFIG` (moby/buildkit ``cache/remotecache/v1``,
``CacheConfigMediaTypeV0``). Such entries are kept as :attr:`ImageIndex.blobs`: their
bytes are stored like any layer's. With ``image-manifest=true`` the same cache is an
image manifest whose config has that media type.

A layer may be *foreign* (Windows base layers): media type
``application/vnd.docker.image.rootfs.foreign.diff.tar.gzip`` (Docker) or
``application/vnd.oci.image.layer.nondistributable.v1.tar[+gzip|+zstd]`` (OCI), or a
descriptor with ``urls`` (OCI image-spec ``descriptor.md``: "a list of URIs from which this
object MAY be downloaded"). Clients do not push such layers and the registry accepts the
manifest without them (distribution's manifest handlers skip the blob check for foreign
types; go-containerregistry#741, skopeo#545): :attr:`Blob.is_foreign` says so, and
:attr:`ImageManifest.stored_blobs` leaves them out.

Anything else (schema 1, artifact manifests, a future type) parses to
:class:`Unknown`, which the scan reports and skips: never a crash::

    parsed = parse_manifest(media_type, body)
    if isinstance(parsed, ImageManifest): parsed.layers[0].size_bytes
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
#: BuildKit's cache config (moby/buildkit cache/remotecache/v1/spec.go CacheConfigMediaTypeV0)
BUILDKIT_CACHE_CONFIG = "application/vnd.buildkit.cacheconfig.v0"
#: Docker's foreign layer (distribution ``manifest/schema2``: ``MediaTypeForeignLayer``)
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#: OCI's non-distributable layers, ``.tar``, ``.tar+gzip``, ``.tar+zstd`` (image-spec
#: ``specs-go/v1/mediatype.go``, deprecated in 1.1 in favour of ordinary types with ``urls``)
OCI_NONDISTRIBUTABLE_PREFIX = "application/vnd.oci.image.layer.nondistributable."


def is_foreign_media_type(media_type: str) -> bool:
    """True for a layer media type the registry is not expected to hold (see module doc)."""
    return (media_type.startswith(OCI_NONDISTRIBUTABLE_PREFIX)
            or ".rootfs.foreign." in media_type)


@dataclass(frozen=True)
class Blob:
    """A blob a manifest references: a layer or the image config."""

    digest: str
    kind: str  # "layer" or "config"
    size_bytes: int
    media_type: str
    #: BuildKit's ``buildkit/createdat`` annotation (RFC 3339 text), where the descriptor has it
    created_at: str | None = field(default=None, compare=False)
    #: the descriptor's ``urls``: where a foreign layer is downloaded from
    urls: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_foreign(self) -> bool:
        """A layer the registry does not store: a foreign media type or ``urls`` given."""
        return self.kind == "layer" and (is_foreign_media_type(self.media_type)
                                         or bool(self.urls))


def split_stored(blobs: tuple[Blob, ...]) -> tuple[tuple[Blob, ...], tuple[Blob, ...]]:
    """``(stored, foreign)``: the blobs the registry holds, and the foreign layers."""
    return (tuple(b for b in blobs if not b.is_foreign),
            tuple(b for b in blobs if b.is_foreign))


@dataclass(frozen=True)
class ImageManifest:
    """A single-platform image: a config and its layers."""

    config: Blob
    layers: tuple[Blob, ...]

    @property
    def blobs(self) -> tuple[Blob, ...]:
        """Config first, then the layers in order (foreign layers included)."""
        return (self.config, *self.layers)

    @property
    def stored_blobs(self) -> tuple[Blob, ...]:
        """The blobs the registry stores: :attr:`blobs` without the foreign layers."""
        return split_stored(self.blobs)[0]


@dataclass(frozen=True)
class IndexEntry:
    """One platform manifest of a multi-arch index."""

    digest: str
    media_type: str
    platform: str | None  # "linux/arm64/v8", None when the entry has no platform


@dataclass(frozen=True)
class ImageIndex:
    """A manifest list or OCI index: one entry per platform.

    ``manifests``: every entry, as listed. ``blobs``: the entries that are blobs, not
    manifests -- a media type naming neither a manifest nor an index, and a valid size
    (BuildKit's registry cache: its layers and its :data:`BUILDKIT_CACHE_CONFIG` config,
    whose ``kind`` is "config").
    """

    manifests: tuple[IndexEntry, ...]
    blobs: tuple[Blob, ...] = ()

    @property
    def readable(self) -> tuple[IndexEntry, ...]:
        """Entries of a manifest or index media type this module reads."""
        return tuple(e for e in self.manifests if e.media_type in IMAGE_TYPES + INDEX_TYPES
                     + ("",))

    @property
    def unsupported(self) -> tuple[IndexEntry, ...]:
        """Entries that are neither readable manifests nor blobs."""
        blob_digests = {b.digest for b in self.blobs}
        return tuple(e for e in self.manifests if e.media_type not in IMAGE_TYPES
                     + INDEX_TYPES + ("",) and e.digest not in blob_digests)

    @property
    def is_buildkit_cache(self) -> bool:
        """True when the index is a BuildKit registry cache (a cache config among its blobs)."""
        return any(b.media_type == BUILDKIT_CACHE_CONFIG for b in self.blobs)


def _is_manifest_type(media_type: str) -> bool:
    """A media type naming a manifest or index (readable or not), as opposed to a blob."""
    return media_type in IMAGE_TYPES + INDEX_TYPES + ("",) or any(
        w in media_type for w in ("manifest", "index"))


@dataclass(frozen=True)
class Unknown:
    """A manifest the scan cannot read; ``reason`` says why."""

    media_type: str
    reason: str


Parsed = ImageManifest | ImageIndex | Unknown


def format_platform(platform: object) -> str | None:
    """Return ``os/arch[/variant]`` for an index entry's ``platform`` object."""
    if not isinstance(platform, dict):
        return None
    parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
    text = "/".join(str(p) for p in parts if p)
    return text or None


def _descriptor(obj: object, kind: str) -> Blob:
    if not isinstance(obj, dict):
        raise ValueError(f"{kind} descriptor is not an object")
    digest, size = obj.get("digest"), obj.get("size")
    if not isinstance(digest, str) or ":" not in digest:
        raise ValueError(f"{kind} descriptor without a digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"{kind} {digest} without a valid size")
    notes = obj.get("annotations")
    created: object = notes.get("buildkit/createdat") if isinstance(notes, dict) else None
    urls = obj.get("urls")
    return Blob(digest=digest, kind=kind, size_bytes=size, media_type=str(obj.get("mediaType")),
                created_at=created if isinstance(created, str) else None,
                urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list)
                else ())


def parse_manifest(media_type: str, body: bytes | str) -> Parsed:
    """Parse a manifest served with ``media_type`` (the Content-Type header).

    When the header is missing or generic (``application/json``), the body's
    own ``mediaType`` field decides. Malformed bodies become :class:`Unknown`.
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Unknown(media_type or "?", "body is not JSON")
    if not isinstance(doc, dict):
        return Unknown(media_type or "?", "body is not a JSON object")
    kind = _manifest_kind(media_type, doc)
    if kind in IMAGE_TYPES:
        return _parse_image(kind, doc)
    if kind in INDEX_TYPES:
        return _parse_index(kind, doc)
    return Unknown(str(kind or media_type or "?"), "unsupported manifest media type")


def _manifest_kind(media_type: str, doc: dict) -> str | None:
    """The media type to parse ``doc`` as: the header's when it names a manifest or
    index type (or is specific), else the body's ``mediaType``, else its shape."""
    kind: str | None = media_type
    if kind not in IMAGE_TYPES + INDEX_TYPES:
        kind = doc.get("mediaType") if media_type in ("", "application/json") else media_type
        if kind is None and media_type in ("", "application/json"):
            # An OCI manifest may omit mediaType: recognize it by its shape.
            kind = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "layers" in doc else None
    return kind


def _parse_image(kind: str, doc: dict) -> Parsed:
    """An image manifest: its config and layer descriptors, or :class:`Unknown`."""
    try:
        config = _descriptor(doc.get("config"), "config")
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise ValueError("no layers list")
        return ImageManifest(config, tuple(_descriptor(x, "layer") for x in layers))
    except ValueError as exc:
        return Unknown(kind, f"malformed manifest: {exc}")


def _parse_index(kind: str, doc: dict) -> Parsed:
    """An index: its entries, plus the blobs it lists directly (a BuildKit cache
    manifest lists its config and layers here), or :class:`Unknown`."""
    entries = doc.get("manifests")
    if not isinstance(entries, list):
        return Unknown(kind, "malformed index: no manifests list")
    out, blobs = [], []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            return Unknown(kind, "malformed index: entry without a digest")
        item = IndexEntry(entry["digest"], str(entry.get("mediaType", "")),
                          format_platform(entry.get("platform")))
        out.append(item)
        if not _is_manifest_type(item.media_type):
            try:
                blobs.append(_descriptor(entry, "config" if item.media_type ==
                                         BUILDKIT_CACHE_CONFIG else "layer"))
            except ValueError:
                pass        # no valid size: listed as an unsupported entry
    return ImageIndex(tuple(out), tuple(blobs))
