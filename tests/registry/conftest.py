"""Fixtures: real docker-registry instances on 127.0.0.1 (anonymous, htpasswd, token).

Each instance starts once per session and stops at the end. Without
/usr/bin/docker-registry the tests skip, unless ``CI=true``: then they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from registry_testkit import (
    PASSWORD,
    USER,
    Pusher,
    RegistryServer,
    TokenServer,
    bcrypt_hash,
    populate,
    registry_available,
)


def _require_registry() -> None:
    if registry_available():
        return
    message = "/usr/bin/docker-registry not installed (apt install docker-registry)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " and CI=true")
    pytest.skip(message)


@pytest.fixture(scope="session")
def registry(tmp_path_factory) -> Iterator[RegistryServer]:
    """An anonymous registry."""
    _require_registry()
    server = RegistryServer(tmp_path_factory.mktemp("registry-anon")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory) -> Iterator[RegistryServer]:
    """A registry behind htpasswd basic auth (USER / PASSWORD)."""
    _require_registry()
    workdir = tmp_path_factory.mktemp("registry-basic")
    htpasswd = workdir / "htpasswd"
    try:
        htpasswd.write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"cannot make a bcrypt hash for htpasswd: {exc}")
    auth = {"htpasswd": {"realm": "cachecost-test", "path": str(htpasswd)}}
    server = RegistryServer(workdir, auth=auth).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory) -> Iterator[tuple[RegistryServer, TokenServer]]:
    """A registry using bearer tokens from a 127.0.0.1 realm (USER / PASSWORD)."""
    _require_registry()
    workdir = tmp_path_factory.mktemp("registry-token")
    try:
        realm = TokenServer(workdir, USER, PASSWORD).start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot run the token realm: {exc}")
    server = RegistryServer(workdir, auth=realm.registry_auth()).start()
    yield server, realm
    server.stop()
    realm.stop()


@pytest.fixture(scope="session")
def populated(registry) -> Pusher:
    """The anonymous registry holding the test set; the pusher's ledger describes it."""
    pusher = Pusher(registry.url)
    populate(pusher)
    return pusher

