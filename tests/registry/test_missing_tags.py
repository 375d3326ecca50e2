"""A listed tag whose manifest is not found: broken before the scan, or deleted during it.

Both against the real docker-registry. Broken: the tag's manifest revision link is removed
from the registry's storage (what is left when a manifest is lost, e.g. to garbage
collection), so the registry lists the tag and answers 404 for it. Vanished: the manifest
is deleted through the registry's API right after the scan listed the tags.
"""

from __future__ import annotations

import pytest
import requests
from registry_testkit import Pusher, RegistryServer, make_layer

from cachecost.collect.oci import scan_registry
from cachecost.collect.oci.client import RegistryClient
from cachecost.collect.oci.scan import BROKEN_TAG, VANISHED_TAG

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def own_registry(tmp_path_factory, registry):
    """A registry of this module's own (the session one proves the binary exists): the
    other tests scan the whole catalog of theirs."""
    server = RegistryServer(tmp_path_factory.mktemp("registry-missing")).start()
    yield server
    server.stop()


def _reasons(result) -> dict[str, str]:
    return {f"{s.repository}:{s.tag}": s.reason for s in result.skipped}


def test_broken_tag_is_not_said_to_vanish(own_registry) -> None:
    registry = own_registry
    pusher = Pusher(registry.url)
    desc, _ = pusher.push_image("missing/broken", "v1", [make_layer("broken-1")],
                                created="2024-01-01T00:00:00Z")
    pusher.push_image("missing/broken", "v2", [make_layer("broken-2")],
                      created="2024-01-01T00:00:00Z")
    link = (registry.workdir / "storage/docker/registry/v2/repositories/missing/broken"
            / "_manifests/revisions/sha256" / desc["digest"].split(":", 1)[1] / "link")
    link.unlink()
    assert requests.get(f"{registry.url}/v2/missing/broken/manifests/v1", timeout=5,
                        headers={"Accept": desc["mediaType"]}).status_code == 404
    assert "v1" in requests.get(f"{registry.url}/v2/missing/broken/tags/list",
                                timeout=5).json()["tags"]
    result = scan_registry(registry.url, ["missing/broken"], max_workers=1)
    assert _reasons(result) == {"missing/broken:v1": f"{BROKEN_TAG}: still listed, "
                                                     "its manifest is not found"}
    assert [i.tag for i in result.images] == ["v2"]


class _DeletesAfterListing(RegistryClient):
    """The registry's own client; after the scan's first tag listing the manifest of
    ``victim`` is deleted through the registry API (DELETE by digest)."""

    victim = ("missing/vanish", "v1")
    deleted = False

    def list_tags(self, repository: str) -> list[str]:
        tags = super().list_tags(repository)
        if repository == self.victim[0] and not self.deleted:
            type(self).deleted = True
            url = f"{self.base_url}/v2/{repository}/manifests"
            head = requests.head(f"{url}/{self.victim[1]}", timeout=5, headers={
                "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
            gone = requests.delete(f"{url}/{head.headers['Docker-Content-Digest']}", timeout=5)
            assert gone.status_code == 202, gone.text
        return tags


def test_tag_deleted_during_the_scan_vanished(own_registry) -> None:
    registry = own_registry
    pusher = Pusher(registry.url)
    pusher.push_image("missing/vanish", "v1", [make_layer("vanish-1")],
                      created="2024-01-01T00:00:00Z")
    pusher.push_image("missing/vanish", "v2", [make_layer("vanish-2")],
                      created="2024-01-01T00:00:00Z")
    result = scan_registry(registry.url, ["missing/vanish"], max_workers=1,
                           client=_DeletesAfterListing(registry.url))
    assert _reasons(result) == {"missing/vanish:v1": VANISHED_TAG}
    assert [i.tag for i in result.images] == ["v2"]
