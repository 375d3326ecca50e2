"""Issue 22 kind 5 (first half): layers the registry never stored are listed, not summed.

Case 11 (``tests/cases/11-foreign-layers-are-not-stored``, see its README): the manifests of
two real Windows images as pushed; sums worked by hand below. The variants cover the other
foreign media types and a layer with ``urls``. The registry itself is asked in
``tests/registry/test_foreign_layers.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cachecost.collect.oci.manifests import ImageManifest, parse_manifest
from cachecost.collect.oci.scan import ScanResult, TagImage, tag_image
from cachecost.collect.oci.summary import summarize_scan

HERE = Path(__file__).parent / "11-foreign-layers-are-not-stored"
DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
OCI = "application/vnd.oci.image.manifest.v1+json"


def _parsed(name: str, media_type: str) -> ImageManifest:
    parsed = parse_manifest(media_type, (HERE / name).read_bytes())
    assert isinstance(parsed, ImageManifest)
    return parsed


@pytest.mark.parametrize("name, media_type, stored_bytes, foreign_bytes", [
    # config 3,446 + layers 1,278 + 223,268,696 = 223,273,420 stored;
    # foreign 1,251,699,055 + 955,800,778 = 2,207,499,833
    ("servercore-app.manifest.json", DOCKER, 223_273_420, 2_207_499_833),
    # config 18,860 + layer 1,294 = 20,154 stored; foreign 1,660,377,526 + 299,030,232
    ("oci-app.manifest.json", OCI, 20_154, 1_959_407_758),
])
def test_case_11_manifests(name, media_type, stored_bytes, foreign_bytes) -> None:
    m = _parsed(name, media_type)
    foreign = [b for b in m.blobs if b.is_foreign]
    assert sum(b.size_bytes for b in m.stored_blobs) == stored_bytes
    assert sum(b.size_bytes for b in foreign) == foreign_bytes
    assert len(foreign) == 2 and all(b.urls[0].startswith("https://mcr.microsoft.com/")
                                     for b in foreign)


def test_case_11_summary_counts_only_what_is_stored() -> None:
    """Both images as one scan: unique 223,273,420 + 20,154 = 223,293,574 (was
    4,390,201,165); the four foreign layers listed, 2,207,499,833 + 1,959,407,758 =
    4,166,907,591 declared bytes, in no stored figure."""
    images = [tag_image("win/servercore-app", "ltsc2022", "sha256:a", None,
                     _parsed("servercore-app.manifest.json", DOCKER).blobs, None, False),
              tag_image("win/oci-app", "1.0", "sha256:b", None,
                     _parsed("oci-app.manifest.json", OCI).blobs, None, False)]
    repo_tags = {"win/servercore-app": ["ltsc2022"], "win/oci-app": ["1.0"]}
    s = summarize_scan(repo_tags, images, now=datetime(2026, 1, 1, tzinfo=UTC))
    t = s["total"]
    assert (t["unique_bytes"], t["sum_of_tags_bytes"]) == (223_293_574, 223_293_574)
    assert (t["foreign_layers"], t["foreign_bytes"]) == (4, 4_166_907_591)
    rows = ScanResult("http://r", repo_tags, images, [], s).to_json()["foreign_layers"]
    assert sorted((r["repository"], r["size_bytes"]) for r in rows) == [
        ("win/oci-app", 299_030_232), ("win/oci-app", 1_660_377_526),
        ("win/servercore-app", 955_800_778), ("win/servercore-app", 1_251_699_055)]


def _manifest(layer: dict) -> bytes:

    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 100,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"size": 7, "digest": "sha256:" + "d" * 64, **layer},
                   {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 50,
                    "digest": "sha256:" + "e" * 64}]}).encode()


URL = ["https://mcr.microsoft.com/v2/windows/nanoserver/blobs/sha256:" + "d" * 64]


@pytest.mark.parametrize("layer, is_foreign", [
    ({"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "urls": URL},
     True),
    ({"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar", "urls": URL}, True),
    ({"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}, True),
    ({"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "urls": URL},
     True),
    # image-spec 1.1: an ordinary layer type with urls (the deprecated types' replacement)
    ({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "urls": URL}, True),
    ({"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd"}, False),
    ({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "urls": []}, False),
])
def test_foreign_kinds(layer, is_foreign) -> None:
    """Config 100 B + first layer 7 B + ordinary layer 50 B: 150 stored when the first
    layer is foreign, 157 when not."""
    m = parse_manifest(OCI, _manifest(layer))
    assert isinstance(m, ImageManifest)
    assert m.layers[0].is_foreign is is_foreign
    assert sum(b.size_bytes for b in m.stored_blobs) == (150 if is_foreign else 157)


def test_shared_foreign_layer_listed_once_per_group() -> None:
    """Two tags of one repository share a 7-byte foreign layer: foreign 1 layer, 7 B; each
    tag stores config 100 + layer 50, the same blobs: sum of tags 300, unique 150."""
    blobs = parse_manifest(OCI, _manifest({"mediaType": "application/vnd.oci.image.layer."
                                           "nondistributable.v1.tar+gzip", "urls": URL})).blobs
    images: list[TagImage] = [tag_image("a/b", tag, "sha256:x", None, blobs, None, False)
                              for tag in ("v1", "v2")]
    t = summarize_scan({"a/b": ["v1", "v2"]}, images,
                       now=datetime(2026, 1, 1, tzinfo=UTC))["total"]
    assert (t["sum_of_tags_bytes"], t["unique_bytes"], t["foreign_layers"],
            t["foreign_bytes"]) == (300, 150, 1, 7)
