"""Client behaviour a real registry won't show on demand (429, 5xx), manifest parsing,
and the GitLab path (python-gitlab config -> repositories + bearer login) against stand-ins."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from registry_testkit import PASSWORD, USER, Pusher, free_port, populate

from cachecost.cli import main
from cachecost.collect.oci.client import (
    Credentials,
    RegistryClient,
    normalize_registry_url,
    parse_challenge,
)
from cachecost.collect.oci.credentials import credentials_from_env
from cachecost.collect.oci.manifests import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    ImageIndex,
    ImageManifest,
    Unknown,
    parse_manifest,
)
from cachecost.errors import CachecostError


class StandIn:
    """A 127.0.0.1 HTTP server answering GETs with ``respond(path) -> (code, headers, body)``."""

    def __init__(self, respond) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.paths.append(self.path)
                code, headers, body = respond(self.path)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                for key, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stand_in():
    servers = []

    def make(respond) -> StandIn:
        servers.append(StandIn(respond))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_429_waits_for_retry_after_then_succeeds(stand_in):
    calls = {"n": 0}

    def respond(path):
        calls["n"] += 1
        if calls["n"] <= 2:
            return 429, {"Retry-After": "0"}, {"errors": [{"code": "TOOMANYREQUESTS"}]}
        return 200, {}, {"name": "a", "tags": ["x", "y"]}

    server = stand_in(respond)
    client = RegistryClient(server.url, backoff_s=0.01)
    assert client.list_tags("a") == ["x", "y"]
    assert client.request_count == 3


def test_persistent_5xx_gives_up_with_one_line(stand_in):
    server = stand_in(lambda path: (503, {}, {"errors": []}))
    client = RegistryClient(server.url, backoff_s=0.01, max_retries=2)
    with pytest.raises(CachecostError, match=r"HTTP 503") as info:
        client.list_tags("a")
    assert "\n" not in str(info.value)
    assert client.request_count == 3


def test_tag_pagination_follows_link_headers(stand_in):
    def respond(path):
        if "last=b" in path:
            return 200, {}, {"tags": ["c"]}
        return 200, {"Link": '</v2/a/tags/list?n=2&last=b>; rel="next"'}, {"tags": ["a", "b"]}

    server = stand_in(respond)
    assert RegistryClient(server.url).list_tags("a") == ["a", "b", "c"]


def test_parse_challenge():
    scheme, params = parse_challenge(
        'Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",'
        'scope="repository:g/p:pull"')
    assert scheme == "bearer"
    assert params == {"realm": "https://gitlab.example.com/jwt/auth",
                      "service": "container_registry", "scope": "repository:g/p:pull"}


def test_registry_url_forms():
    assert normalize_registry_url("registry.gitlab.com") == "https://registry.gitlab.com"
    assert normalize_registry_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    with pytest.raises(CachecostError, match="credentials in the URL"):
        normalize_registry_url("https://user:pw@registry.example.com")
    with pytest.raises(CachecostError, match="without a path"):
        normalize_registry_url("https://registry.example.com/some/repo")
    # a port that is not 1-65535 was requests' InvalidURL traceback at the first request
    for bad in ("http://127.0.0.1:99999", "http://127.0.0.1:x", "127.0.0.1:0"):
        with pytest.raises(CachecostError, match=r"expected http\(s\)://host\[:port\]"):
            normalize_registry_url(bad)


def test_credentials_never_show_their_secret():
    creds = Credentials("u", "hunter2", source="x")
    assert "hunter2" not in repr(creds) and "hunter2" not in str(creds)
    assert credentials_from_env({}) is None
    with pytest.raises(CachecostError, match="CACHECOST_REGISTRY_USER is not set"):
        credentials_from_env({"CACHECOST_REGISTRY_PASSWORD": "p"})


def _descriptor(digest: str, size: int) -> dict:
    return {"mediaType": "x", "digest": digest, "size": size}


def test_parse_docker_manifest_and_oci_index_without_media_type_field():
    body = json.dumps({"schemaVersion": 2, "config": _descriptor("sha256:c", 10),
                       "layers": [_descriptor("sha256:l1", 100), _descriptor("sha256:l2", 5)]})
    parsed = parse_manifest(DOCKER_MANIFEST, body)
    assert isinstance(parsed, ImageManifest)
    assert [(b.digest, b.kind, b.size_bytes) for b in parsed.blobs] == [
        ("sha256:c", "config", 10), ("sha256:l1", "layer", 100), ("sha256:l2", "layer", 5)]
    index = parse_manifest("application/json", json.dumps({"manifests": [
        {"digest": "sha256:a", "mediaType": "m", "platform": {"os": "linux",
                                                              "architecture": "arm"}}]}))
    assert isinstance(index, ImageIndex)
    assert index.manifests[0].platform == "linux/arm"


@pytest.mark.parametrize(("media_type", "body", "reason"), [
    ("application/vnd.docker.distribution.manifest.v1+prettyjws",
     '{"schemaVersion": 1, "fsLayers": []}', "unsupported"),
    ("application/vnd.oci.artifact.manifest.v1+json", '{"blobs": []}', "unsupported"),
    (DOCKER_MANIFEST, "not json at all", "not JSON"),
    (DOCKER_MANIFEST, '{"config": {"digest": "sha256:c", "size": -1}, "layers": []}',
     "malformed"),
    (DOCKER_MANIFEST, '{"config": {"digest": "sha256:c", "size": 1}}', "malformed"),
    (OCI_INDEX, '{"manifests": [{"size": 3}]}', "malformed"),
    (DOCKER_MANIFEST, "[1, 2]", "not a JSON object"),
])
def test_unreadable_manifests_become_unknown(media_type, body, reason):
    parsed = parse_manifest(media_type, body)
    assert isinstance(parsed, Unknown)
    assert reason in parsed.reason


@pytest.mark.registry
def test_gitlab_project_scan_uses_python_gitlab_config(token_registry, tmp_path, stand_in,
                                                       monkeypatch, capsys):
    """--project: repositories from GitLab's API, registry login as the token's owner."""
    server, realm = token_registry
    populate(Pusher(server.url, token_server=realm))  # idempotent: same digests again
    host = server.url.removeprefix("http://")

    def gitlab_api(path):
        if path.split("?")[0] == "/api/v4/projects/team%2Fproj":
            return 200, {"Content-Type": "application/json"}, {
                "id": 7, "path_with_namespace": "team/proj", "container_registry_enabled": True}
        if path.startswith("/api/v4/projects/7/registry/repositories"):
            repos = [{"id": i, "path": f"team/proj/{n}", "location": f"{host}/team/proj/{n}"}
                     for i, n in enumerate(("app", "app-cache"))]
            return 200, {"Content-Type": "application/json"}, repos
        if path.startswith("/api/v4/user"):
            return 200, {"Content-Type": "application/json"}, {"id": 1, "username": USER}
        return 404, {"Content-Type": "application/json"}, {"message": "404 Not found"}

    gitlab = stand_in(gitlab_api)
    cfg = tmp_path / "python-gitlab.cfg"
    cfg.write_text(f"[global]\ndefault = test\n\n[test]\nurl = {gitlab.url}\n"
                   f"private_token = {PASSWORD}\n")
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(cfg))
    for var in ("CACHECOST_REGISTRY_USER", "CACHECOST_REGISTRY_PASSWORD", "GITLAB_TOKEN",
                "GITLAB_PRIVATE_TOKEN", "CI_SERVER_URL", "GITLAB_URL", "CI_JOB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    # the token comes from the config section whose url is --url, as for `cachecost fetch`
    code = main(["registry-scan", "--url", gitlab.url, "--project", "team/proj",
                 "--registry", server.url, "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert [r["path"] for r in doc["repositories"]] == ["team/proj/app", "team/proj/app-cache"]
    assert [p["path"] for p in doc["projects"]] == ["team/proj"]
    assert PASSWORD not in out + err

    code = main(["registry-scan", "--gitlab-config", "test", "--project", "team/missing",
                 "--registry", server.url])
    err = capsys.readouterr().err
    assert code == 2 and "team/missing" in err and "not found" in err
