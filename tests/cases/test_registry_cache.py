"""Kind 5 of issue 11: registry indexes whose entries are blobs (BuildKit's registry cache).

Case 06 (tests/cases/06-*/registry.json): ``group/app/cache`` is BuildKit's cache in its
default shape (an OCI index whose ``manifests[]`` are a 2,427,917-byte layer and a
1,240-byte ``application/vnd.buildkit.cacheconfig.v0`` config); ``group/app/cache-im`` the
same cache as an image manifest. Right: 2,427,917 + 1,240 = 2,429,157 bytes each, all
cache-only, dated 2021-07-02T17:08:09.095229Z (the cache config's ``createdAt``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.collect.oci.manifests import (
    BUILDKIT_CACHE_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    ImageIndex,
    parse_manifest,
)
from cachecost.collect.oci.scan import parse_created, scan_registry

from .servers import oci_server

CASE = Path(__file__).parent / "06-buildkit-cache-index-entries-are-blobs" / "registry.json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CREATED = datetime(2021, 7, 2, 17, 8, 9, 95229, tzinfo=UTC)


def test_case_06_scan() -> None:
    with oci_server(CASE) as srv:
        result = scan_registry(srv.url, ["group/app/cache", "group/app/cache-im"],
                               now=datetime(2021, 7, 3, tzinfo=UTC))
    rows = {r["path"]: r for r in result.summary["repositories"]}
    for path in ("group/app/cache", "group/app/cache-im"):
        r = rows[path]
        assert (r["unique_bytes"], r["cache_only_bytes"], r["cache_tags_unknown_age"],
                r["is_cache_repository"]) == (2_427_917 + 1_240, 2_427_917 + 1_240, 0, True)
    assert result.skipped == []
    assert {i.repository: i.created_at for i in result.images} == {
        "group/app/cache": CREATED, "group/app/cache-im": CREATED}
    # both hold the same two blobs: together still 2,429,157 unique bytes
    assert result.summary["total"]["unique_bytes"] == 2_429_157


def test_case_06_cli_json(capsys) -> None:
    with oci_server(CASE) as srv:
        rc = main(["registry-scan", "--registry", srv.url, "--repository", "group/app/cache",
                   "--repository", "group/app/cache-im", "--json", "--quiet"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["path"], r["unique_bytes"], r["cache_tags_unknown_age"])
            for r in doc["repositories"]] == [("group/app/cache", 2_429_157, 0),
                                              ("group/app/cache-im", 2_429_157, 0)]
    assert doc["skipped"] == []


def _blob_index(sizes: list[int], *, with_config: bool = True, created: str | None = None
                ) -> dict:
    entries = [{"mediaType": LAYER, "digest": f"sha256:{i:064x}", "size": n,
                **({"annotations": {"buildkit/createdat": created}} if created else {})}
               for i, n in enumerate(sizes)]
    if with_config:
        entries.append({"mediaType": BUILDKIT_CACHE_CONFIG, "digest": "sha256:" + "c" * 64,
                        "size": 999})
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}


def test_parse_blob_index() -> None:
    """3 layers (10 + 20 + 30) and a 999-byte cache config: 4 blobs, 1059 bytes."""
    parsed = parse_manifest(OCI_INDEX, json.dumps(_blob_index([10, 20, 30])))
    assert isinstance(parsed, ImageIndex) and parsed.readable == ()
    assert [(b.kind, b.size_bytes) for b in parsed.blobs] == [
        ("layer", 10), ("layer", 20), ("layer", 30), ("config", 999)]
    assert sum(b.size_bytes for b in parsed.blobs) == 1059
    assert parsed.is_buildkit_cache


def test_index_mixing_manifests_blobs_and_unsupported_types() -> None:
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 500},
        {"mediaType": LAYER, "digest": "sha256:" + "2" * 64, "size": 7},
        {"mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
         "digest": "sha256:" + "3" * 64, "size": 9}]}
    parsed = parse_manifest(OCI_INDEX, json.dumps(doc))
    assert isinstance(parsed, ImageIndex)
    assert [e.digest[7] for e in parsed.readable] == ["1"]
    assert [(b.digest[7], b.size_bytes) for b in parsed.blobs] == [("2", 7)]
    assert [e.digest[7] for e in parsed.unsupported] == ["3"]
    assert not parsed.is_buildkit_cache


def test_blob_entry_without_size_is_unsupported_not_counted() -> None:
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX,
           "manifests": [{"mediaType": LAYER, "digest": "sha256:" + "2" * 64}]}
    parsed = parse_manifest(OCI_INDEX, json.dumps(doc))
    assert isinstance(parsed, ImageIndex) and parsed.blobs == ()
    assert [e.digest for e in parsed.unsupported] == ["sha256:" + "2" * 64]


@pytest.mark.parametrize("config, want", [
    ({"created": "2024-03-01T10:00:00Z"}, datetime(2024, 3, 1, 10, tzinfo=UTC)),
    # cacheconfig: newest of layers[].annotations.createdAt, records[].layers/chains createdAt
    ({"layers": [{"blob": "sha256:a", "annotations": {"createdAt": "2024-01-01T00:00:00Z"}}],
      "records": [{"digest": "sha256:r", "layers": [{"layer": 0,
                                                      "createdAt": "2024-02-01T00:00:00Z"}],
                   "chains": [{"layers": [0], "createdAt": "2024-01-15T00:00:00Z"}]}]},
     datetime(2024, 2, 1, tzinfo=UTC)),
    ({"records": [{"layers": [{"layer": 0, "createdAt": "0001-01-01T00:00:00Z"}]}]}, None),
    ({"layers": [{"blob": "sha256:a"}]}, None),
])
def test_parse_created_reads_cache_config_dates(config, want) -> None:
    assert parse_created(json.dumps(config).encode()) == want


def _one_repo(manifest: dict, blobs: dict) -> dict:
    return {"repositories": {"team/app/buildcache": {"tags": {"main": "sha256:" + "f" * 64}}},
            "manifests": {"sha256:" + "f" * 64: manifest}, "blobs": blobs}


@pytest.mark.parametrize("ttl_days_ago, stale", [(20, True), (3, False)])
def test_cache_age_from_annotations_when_config_missing(tmp_path, ttl_days_ago, stale) -> None:
    """Config blob 404: the layers' buildkit/createdat date the cache; 336 h TTL.

    created 2024-05-01; now = created + 20 days -> stale; + 3 days -> live. The name
    matches no cache pattern: the cache config media type makes it a cache repository.
    """
    f = tmp_path / "r.json"
    f.write_text(json.dumps(_one_repo(_blob_index([100, 200], created="2024-05-01T00:00:00Z"),
                                      {})), encoding="utf-8")
    now = datetime(2024, 5, 1 + ttl_days_ago, tzinfo=UTC)
    with oci_server(f) as srv:
        result = scan_registry(srv.url, None, now=now)
    (row,) = result.summary["repositories"]
    assert row["is_cache_repository"] and row["unique_bytes"] == 100 + 200 + 999
    assert row["cache_tags_unknown_age"] == 0
    assert row["stale_cache_tags"] == int(stale)
    assert row["stale_cache_unique_bytes"] == (1299 if stale else 0)
