"""Run Debian's docker-registry on 127.0.0.1 and push deterministic images into it.

Shared by the registry tests and ``scripts/bench_registry_scan.py``:

* :class:`RegistryServer` writes a distribution config, starts
  ``docker-registry serve``, waits for ``/v2/`` and stops it;
* :func:`make_layer` builds a gzip'd tar layer byte-for-byte reproducibly;
* :class:`Pusher` uploads blobs (POST + monolithic PUT) and manifests (PUT)
  through the API exactly as a client like docker or kaniko would, and keeps
  a ledger of what each tag references so tests compute expectations from
  what they pushed, independently of the scanner.
* :class:`TokenServer` is a bearer-token realm: it checks basic credentials
  and signs RS256 JWTs with ``openssl`` (the cert travels in the ``x5c`` header,
  trusted by the registry's ``rootcertbundle``).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import yaml

REGISTRY_BIN = "/usr/bin/docker-registry"
USER, PASSWORD = "scanner", "s3cret-registry-pass"  # the auth instances' only login
STALE = "2020-01-01T00:00:00Z"          # far older than the 336 h TTL
FRESH = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
LAYER_TYPES = {
    DOCKER_MANIFEST: ("application/vnd.docker.container.image.v1+json",
                      "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    OCI_MANIFEST: ("application/vnd.oci.image.config.v1+json",
                   "application/vnd.oci.image.layer.v1.tar+gzip"),
}


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest_of(data: bytes) -> str:
    """Return the ``sha256:…`` digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_layer(name: str, size_bytes: int = 2048) -> bytes:
    """Return a reproducible gzip'd tar holding one file of pseudo-random bytes."""
    content = b""
    counter = 0
    while len(content) < size_bytes:
        content += hashlib.sha256(f"{name}:{counter}".encode()).digest()
        counter += 1
    content = content[:size_bytes]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(f"data/{name}")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def make_config(created: str, layers: list[bytes], arch: str = "amd64") -> bytes:
    """Return an image config JSON with its ``created`` time and the layers' diff_ids."""
    diff_ids = [digest_of(gzip.decompress(layer)) for layer in layers]
    doc = {"architecture": arch, "os": "linux", "created": created,
           "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    return json.dumps(doc, sort_keys=True).encode()


def bcrypt_hash(password: str) -> str:
    """Return a bcrypt hash via the system's libxcrypt (for an htpasswd file)."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt_gensalt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed = lib.crypt(password.encode(), salt) if salt else None
    if not hashed or not hashed.startswith(b"$2"):
        raise RuntimeError("libcrypt cannot make bcrypt hashes")
    return hashed.decode()


# --------------------------------------------------------------------------- registry process


class RegistryServer:
    """A ``docker-registry serve`` process on 127.0.0.1 with filesystem storage."""

    def __init__(self, workdir: Path, auth: dict | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")},
                        "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{self.port}", "secret": "cachecost-tests"},
        }
        if auth:
            config["auth"] = auth
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "config.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 20.0) -> RegistryServer:
        """Start the process and wait until ``/v2/`` answers."""
        log = open(self.workdir / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(self.config_path)],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_text()[-2000:]}")
            try:
                requests.get(self.url + "/v2/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer on {self.url}")

    def log_text(self) -> str:
        """Return what the registry logged."""
        return (self.workdir / "registry.log").read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the process (kill after 10 s) and close its log."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()


def registry_available() -> bool:
    """True when Debian's docker-registry binary is installed."""
    return os.access(REGISTRY_BIN, os.X_OK)


# --------------------------------------------------------------------------- token realm


class TokenServer:
    """A bearer-token realm on 127.0.0.1 issuing registry JWTs to one user."""

    def __init__(self, workdir: Path, username: str, password: str) -> None:
        if not shutil.which("openssl"):
            raise RuntimeError("openssl is not installed")
        self.key = workdir / "token.key"
        self.cert = workdir / "token.crt"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             str(self.key), "-out", str(self.cert), "-days", "2", "-subj", "/CN=cachecost-test"],
            check=True, capture_output=True,
        )
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.username, self.password = username, password
        self.service, self.issuer = "cachecost-test-registry", "cachecost-test-issuer"
        self.requests_seen: list[dict] = []
        server = self
        expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                query = parse_qs(urlsplit(self.path).query)
                server.requests_seen.append(query)
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                token = server.sign(query.get("scope", []), query.get("service", [""])[0])
                body = json.dumps({"token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def registry_auth(self) -> dict:
        """Return the registry's ``auth`` config section for this realm."""
        return {"token": {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                          "rootcertbundle": str(self.cert)}}

    def sign(self, scopes: list[str], service: str) -> str:
        """Return an RS256 JWT granting the requested scopes."""
        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": self.username, "aud": service or self.service,
                  "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": hashlib.sha1(os.urandom(8)).hexdigest(), "access": access}
        signing_input = f"{_b64url(json.dumps(header))}.{_b64url(json.dumps(claims))}"
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing_input.encode(), check=True,
                             capture_output=True).stdout
        return f"{signing_input}.{_b64url(sig)}"

    def start(self) -> TokenServer:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def _b64url(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --------------------------------------------------------------------------- pushing


@dataclass
class Pusher:
    """Push blobs and manifests to a registry and keep a ledger of what each tag references.

    ``ledger[(repository, tag)]`` maps each blob digest the tag reaches through a
    manifest type the scan supports to its size; ``pushed_sizes`` holds every
    distinct blob uploaded.
    """

    url: str
    auth: tuple[str, str] | None = None
    token_server: TokenServer | None = None
    ledger: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    pushed_sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        if self.auth:
            self.session.auth = self.auth

    def _headers(self, repository: str) -> dict[str, str]:
        if not self.token_server:
            return {}
        token = self.token_server.sign([f"repository:{repository}:pull,push"], "")
        return {"Authorization": f"Bearer {token}"}

    def push_blob(self, repository: str, data: bytes) -> dict:
        """Upload ``data`` (POST then monolithic PUT); return its descriptor."""
        digest = digest_of(data)
        headers = self._headers(repository)
        start = self.session.post(f"{self.url}/v2/{repository}/blobs/uploads/", headers=headers)
        assert start.status_code == 202, (start.status_code, start.text)
        location = requests.compat.urljoin(self.url, start.headers["Location"])
        done = self.session.put(location, params={"digest": digest}, data=data,
                                headers={**headers, "Content-Type": "application/octet-stream"})
        assert done.status_code == 201, (done.status_code, done.text)
        self.pushed_sizes[digest] = len(data)
        return {"digest": digest, "size": len(data)}

    def push_manifest(self, repository: str, reference: str, media_type: str,
                      doc: dict) -> dict:
        """PUT a manifest under a tag or its digest; return its descriptor."""
        body = json.dumps(doc, sort_keys=True).encode()
        resp = self.session.put(f"{self.url}/v2/{repository}/manifests/{reference}", data=body,
                                headers={**self._headers(repository),
                                         "Content-Type": media_type})
        assert resp.status_code == 201, (resp.status_code, resp.text)
        return {"mediaType": media_type, "digest": digest_of(body), "size": len(body)}

    def push_image(self, repository: str, tag: str | None, layers: list[bytes], *,
                   created: str, media_type: str = DOCKER_MANIFEST, arch: str = "amd64",
                   record: bool = True) -> tuple[dict, dict[str, int]]:
        """Push an image's blobs and manifest; return (descriptor, its blobs by digest).

        With ``tag`` None the manifest is pushed by digest only (an index child).
        """
        config_type, layer_type = LAYER_TYPES[media_type]
        config = self.push_blob(repository, make_config(created, layers, arch))
        descs = [self.push_blob(repository, layer) for layer in layers]
        doc = {"schemaVersion": 2, "mediaType": media_type,
               "config": {"mediaType": config_type, **config},
               "layers": [{"mediaType": layer_type, **d} for d in descs]}
        if media_type == OCI_MANIFEST:
            doc.pop("mediaType")  # OCI allows omitting it; the scanner must cope
        body_digest = digest_of(json.dumps(doc, sort_keys=True).encode())
        desc = self.push_manifest(repository, tag or body_digest, media_type, doc)
        blobs = {d["digest"]: d["size"] for d in [config, *descs]}
        if tag and record:
            self.ledger.setdefault((repository, tag), {}).update(blobs)
        return desc, blobs

    def push_index(self, repository: str, tag: str, children: list[tuple[dict, dict, dict]],
                   media_type: str = OCI_INDEX) -> dict:
        """Push a multi-arch index of (descriptor, platform, blobs) children under ``tag``.

        A child whose descriptor's media type is not a supported manifest type is
        left out of the ledger: the scan must skip it.
        """
        entries = [{**desc, "platform": platform} for desc, platform, _ in children]
        doc = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
        desc = self.push_manifest(repository, tag, media_type, doc)
        reach = self.ledger.setdefault((repository, tag), {})
        for child_desc, _, blobs in children:
            if child_desc["mediaType"] in LAYER_TYPES:
                reach.update(blobs)
        return desc


# --------------------------------------------------------------------------- the test set


def populate(pusher: Pusher) -> None:
    """Push the test set: shared bases, a kaniko-style cache, multi-arch, an odd index.

    Repositories (GitLab-style paths, two projects in root namespace ``team``
    plus one in ``other``):

    * team/proj/app        v1 = base1+base2+app1, v2 and latest = base1+base2+app2
    * team/proj/tools      OCI manifest sharing base1
    * team/proj/app-cache  kaniko cache: single-layer images; app1 (stale), app2
                           (fresh), cacheonly (stale, referenced nowhere else)
    * team/proj/multi      OCI index amd64 (base1+m-amd) / arm64 (m-arm)
    * team/other/lib       Docker manifest list of two platforms
    * team/other/lib/cache the default kaniko cache path, one fresh entry
    * other/x/odd          OCI index: one known child, one of an unknown media type
    """
    base1, base2 = make_layer("base1", 6000), make_layer("base2", 3000)
    app1, app2 = make_layer("app1", 1500), make_layer("app2", 1700)
    p = pusher
    p.push_image("team/proj/app", "v1", [base1, base2, app1], created=STALE)
    p.push_image("team/proj/app", "v2", [base1, base2, app2], created=FRESH)
    p.push_image("team/proj/app", "latest", [base1, base2, app2], created=FRESH)
    p.push_image("team/proj/tools", "latest", [base1, make_layer("tools", 900)],
                 created=FRESH, media_type=OCI_MANIFEST)
    # kaniko: <cache-repo>:<cache key>, one single-layer image per RUN step
    p.push_image("team/proj/app-cache", "k" * 64, [app1], created=STALE)
    p.push_image("team/proj/app-cache", "f" * 64, [app2], created=FRESH)
    p.push_image("team/proj/app-cache", "0" * 64, [make_layer("cacheonly", 2500)],
                 created=STALE)
    amd = p.push_image("team/proj/multi", None, [base1, make_layer("m-amd", 1200)],
                       created=FRESH, media_type=OCI_MANIFEST)
    arm = p.push_image("team/proj/multi", None, [make_layer("m-arm", 1300)],
                       created=FRESH, media_type=OCI_MANIFEST, arch="arm64")
    p.push_index("team/proj/multi", "latest", [
        (amd[0], {"os": "linux", "architecture": "amd64"}, amd[1]),
        (arm[0], {"os": "linux", "architecture": "arm64", "variant": "v8"}, arm[1]),
    ], media_type=OCI_INDEX)
    lib_a = p.push_image("team/other/lib", None, [base2, make_layer("lib-a", 800)],
                         created=FRESH)
    lib_b = p.push_image("team/other/lib", None, [make_layer("lib-b", 700)], created=FRESH,
                         arch="ppc64le")
    p.push_index("team/other/lib", "1.0", [
        (lib_a[0], {"os": "linux", "architecture": "amd64"}, lib_a[1]),
        (lib_b[0], {"os": "linux", "architecture": "ppc64le"}, lib_b[1]),
    ], media_type=DOCKER_LIST)
    p.push_image("team/other/lib/cache", "a" * 64, [make_layer("lib-a", 800)], created=FRESH)
    known = p.push_image("other/x/odd", None, [make_layer("odd", 600)], created=FRESH,
                         media_type=OCI_MANIFEST)
    # The same manifest again, but declared in the index with a type nobody knows:
    # the registry accepts it (it only checks the digest exists); the scan must skip it.
    strange = ({**known[0], "mediaType": "application/vnd.example.future.manifest+json"},
               {"os": "linux", "architecture": "riscv64"}, known[1])
    p.push_index("other/x/odd", "latest", [
        (known[0], {"os": "linux", "architecture": "amd64"}, known[1]), strange,
    ], media_type=OCI_INDEX)
