"""Basic and bearer-token auth against real docker-registry instances."""

from __future__ import annotations

import json

import pytest
from registry_testkit import PASSWORD, USER, Pusher, populate

from cachecost.cli import main
from cachecost.collect.oci import scan_registry
from cachecost.collect.oci.client import Credentials

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def basic_pushed(basic_registry) -> Pusher:
    pusher = Pusher(basic_registry.url, auth=(USER, PASSWORD))
    populate(pusher)
    return pusher


@pytest.fixture(scope="module")
def token_pushed(token_registry) -> Pusher:
    server, realm = token_registry
    pusher = Pusher(server.url, token_server=realm)
    populate(pusher)
    return pusher


def _scan_cli(url: str, monkeypatch, capsys, user: str | None, password: str | None,
              *extra: str):
    for var, value in (("CACHECOST_REGISTRY_USER", user),
                       ("CACHECOST_REGISTRY_PASSWORD", password)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    code = main(["registry-scan", "--registry", url, "--quiet", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_basic_auth_scan_with_env_credentials(basic_registry, basic_pushed, monkeypatch,
                                              capsys):
    code, out, err = _scan_cli(basic_registry.url, monkeypatch, capsys, USER, PASSWORD,
                               "--json")
    assert code == 0, err
    assert json.loads(out)["total"]["unique_bytes"] == sum(basic_pushed.pushed_sizes.values())
    assert PASSWORD not in out + err


def test_basic_auth_wrong_password_is_one_line_401(basic_registry, basic_pushed, monkeypatch,
                                                   capsys):
    code, out, err = _scan_cli(basic_registry.url, monkeypatch, capsys, USER, "wrong-pass")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "401" in err and "CACHECOST_REGISTRY_USER" in err
    assert "wrong-pass" not in err


def test_basic_auth_without_credentials_says_how_to_give_them(basic_registry, monkeypatch,
                                                             capsys):
    code, _, err = _scan_cli(basic_registry.url, monkeypatch, capsys, None, None)
    assert code == 2
    assert "401" in err and "no credentials configured" in err
    assert err.count("\n") == 1


def test_only_one_credential_variable_is_an_error(basic_registry, monkeypatch, capsys):
    code, _, err = _scan_cli(basic_registry.url, monkeypatch, capsys, USER, None)
    assert code == 2
    assert "CACHECOST_REGISTRY_PASSWORD is not set" in err


def test_bearer_token_flow(token_registry, token_pushed):
    server, realm = token_registry
    seen_before = len(realm.requests_seen)
    result = scan_registry(server.url, ["team/proj/app", "team/proj/multi"],
                           credentials=Credentials(USER, PASSWORD, source="test"))
    ledger = {k: v for k, v in token_pushed.ledger.items()
              if k[0] in ("team/proj/app", "team/proj/multi")}
    distinct = {d: s for blobs in ledger.values() for d, s in blobs.items()}
    assert result.summary["total"]["unique_bytes"] == sum(distinct.values())
    asked = realm.requests_seen[seen_before:]
    scopes = {s for q in asked for s in q.get("scope", [])}
    assert {"repository:team/proj/app:pull", "repository:team/proj/multi:pull"} <= scopes
    assert all(q.get("service") == [realm.service] for q in asked)
    # tokens are cached per scope: far fewer token requests than registry requests
    assert len(asked) <= 4 < result.request_count


def test_bearer_wrong_credentials_is_one_line_401(token_registry, token_pushed, monkeypatch,
                                                  capsys):
    server, realm = token_registry
    code, _, err = _scan_cli(server.url, monkeypatch, capsys, USER, "nope-nope",
                             "--repository", "team/proj/app")
    assert code == 2
    assert err.count("\n") == 1
    assert realm.realm in err and "401" in err
    assert "nope-nope" not in err


def test_bearer_catalog_listing(token_registry, token_pushed):
    server, _ = token_registry
    result = scan_registry(server.url, credentials=Credentials(USER, PASSWORD, source="test"))
    assert set(result.repositories) == {repo for repo, _ in token_pushed.ledger}
    assert result.summary["total"]["unique_bytes"] == sum(token_pushed.pushed_sizes.values())
