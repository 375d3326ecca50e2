"""A small client for the OCI distribution API (Docker Registry HTTP API V2).

It does only what a read-only scan needs: list repositories and tags, fetch
manifests and config blobs. What it handles so callers don't have to:

* **Auth.** Anonymous first; on ``401`` it answers the server's challenge.
  ``WWW-Authenticate: Basic`` → the configured username and password.
  ``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` → ask the realm for a
  token (with the credentials as basic auth when there are any, as
  ``docker login`` does; on GitLab the realm is ``<gitlab>/jwt/auth``), cache
  it per scope and retry. An expired token is fetched again once.
* **Being gentle.** urllib3's ``Retry`` (the policy of
  :mod:`cachecost.collect.retry`): ``429`` waits ``Retry-After`` seconds
  (capped); ``5xx``, timeouts and dropped connections retry with exponential
  backoff; a registry that keeps failing is given up after ``max_retries + 1``
  requests, one that never answers after ``timeout_retries + 1``, a TLS failure
  at once.
* **Errors a user can act on**, one line each: unreachable registry,
  ``401`` (credentials missing or rejected), ``403``, unknown repository.

The client is safe to share between threads (one ``requests.Session`` per
thread); :attr:`RegistryClient.request_count` counts HTTP requests sent::

    client = RegistryClient("http://127.0.0.1:5000", credentials=None)
    client.list_tags("qemu/debian")          # -> ["latest", ...]
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests

from cachecost.collect.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    describe_tls_failure,
    is_tls_failure,
    no_answer_reason,
    sent_before_giving_up,
)
from cachecost.errors import CachecostError, RegistryError, RegistryNotFound

#: Every manifest type the scan can read, so the registry never down-converts.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)

_TAG_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Credentials:
    """A username and password (or token) for a registry; the secret never shows in repr."""

    username: str
    password: str = field(repr=False)
    source: str = "environment"  # where they came from, for error messages

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, source={self.source!r})"


@dataclass(frozen=True)
class Manifest:
    """A manifest as served: its media type, digest and raw bytes."""

    media_type: str
    digest: str
    body: bytes


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """Split ``WWW-Authenticate`` into its scheme and parameters.

    >>> parse_challenge('Bearer realm="https://g/jwt/auth",service="container_registry"')
    ('bearer', {'realm': 'https://g/jwt/auth', 'service': 'container_registry'})
    """
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', rest)
    }
    return scheme.lower(), params


def normalize_registry_url(url: str) -> str:
    """Return ``scheme://host[:port]`` (https when no scheme is given); reject embedded secrets."""
    raw = url.strip().rstrip("/")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if parts.username or parts.password:
        raise CachecostError(
            f"registry URL {parts.hostname}: credentials in the URL are not accepted; "
            "set CACHECOST_REGISTRY_USER and CACHECOST_REGISTRY_PASSWORD"
        )
    try:
        port = parts.port                 # ValueError: not a number, or above 65535
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise CachecostError(f"registry URL {url!r}: expected http(s)://host[:port]")
    if parts.path not in ("", "/", "/v2"):
        raise CachecostError(f"registry URL {url!r}: give the registry root, without a path")
    return f"{parts.scheme}://{parts.netloc}"


class RegistryClient:
    """Read-only Docker Registry HTTP API V2 client with auth, retries and 429 handling."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_retries: int | None = None,
        backoff_s: float | None = None,
    ) -> None:
        """``policy`` says how to retry; ``max_retries`` / ``backoff_s`` override its
        ``max_retries`` / ``registry_backoff_factor_s``."""
        self.base_url = normalize_registry_url(base_url)
        self.credentials = credentials
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        if backoff_s is not None:
            policy = dataclasses.replace(policy, registry_backoff_factor_s=backoff_s)
        self.policy = policy
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tokens: dict[str, str] = {}
        self._is_basic = False
        self._count = 0

    # ------------------------------------------------------------------ plumbing

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (token requests and retries included)."""
        return self._count

    def _counted(self) -> None:
        with self._lock:
            self._count += 1

    def _session(self, *, first_contact: bool = False) -> requests.Session:
        """This thread's session; ``first_contact``: one retry at most (a wrong URL fails fast)."""
        name = "first_session" if first_contact else "session"
        session = getattr(self._local, name, None)
        if session is None:
            session = requests.Session()
            setattr(self._local, name, session)
            session.headers["User-Agent"] = "cachecost-registry-scan"
            policy = (dataclasses.replace(self.policy, max_retries=min(1, self.policy.max_retries))
                      if first_contact else self.policy)
            adapter = policy.registry_adapter(on_request=self._counted)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        return session

    def _send(self, method: str, url: str, *, what: str, first_contact: bool = False,
              **kwargs) -> requests.Response:
        """Send with the policy's retries; one line when the registry stays unreachable."""
        try:
            return self._session(first_contact=first_contact).request(
                method, url, timeout=self.policy.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if is_tls_failure(exc):
                raise RegistryError(f"{what}: " + describe_tls_failure(
                    exc, self.base_url, "the registry")) from None
            sent = sent_before_giving_up(exc)
            tries = f" after {sent} attempts" if sent > 1 else ""
            raise RegistryError(
                f"{what}: unreachable{tries} ({no_answer_reason(exc, self.policy)})"
            ) from None

    def _auth_header(self, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._tokens.get(scope)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _credentials_hint(self) -> str:
        if self.credentials is None:
            return ("no credentials configured: set CACHECOST_REGISTRY_USER and "
                    "CACHECOST_REGISTRY_PASSWORD, or configure GitLab credentials")
        return f"credentials from {self.credentials.source} were rejected"

    def _fetch_token(self, params: dict[str, str], scope: str) -> str:
        """Ask a bearer realm for a token covering ``scope``; return it."""
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"registry {self.base_url}: bearer challenge without a realm")
        if (self.credentials and urlsplit(realm).scheme != "https"
                and self.base_url.startswith("https:")):
            raise RegistryError(f"registry {self.base_url}: token realm {realm} is not https; "
                                "refusing to send credentials in clear text")
        query = {"service": params["service"]} if params.get("service") else {}
        wanted = params.get("scope") or scope
        if wanted:
            query["scope"] = wanted
        auth = (
            (self.credentials.username, self.credentials.password) if self.credentials else None
        )
        resp = self._send("GET", realm, params=query, auth=auth, what=f"token realm {realm}")
        if resp.status_code == 401:
            raise RegistryError(f"registry token realm {realm}: 401 Unauthorized; "
                                + self._credentials_hint())
        if resp.status_code != 200:
            raise RegistryError(f"registry token realm {realm}: HTTP {resp.status_code}")
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise RegistryError(f"registry token realm {realm}: response holds no token")
        with self._lock:
            self._tokens[scope] = token
        return token

    def request(
        self, method: str, path: str, *, scope: str, what: str, headers: dict | None = None,
        params: dict | None = None, first_contact: bool = False,
    ) -> requests.Response:
        """Send one API request, answering auth challenges; raise one-line errors.

        ``path`` is relative to ``/v2/`` or absolute (a ``Link`` header's target);
        ``scope`` is the bearer scope it needs (``repository:NAME:pull``);
        ``first_contact``: one retry at most, as a wrong URL gets.
        """
        url = urljoin(self.base_url + "/v2/", path)
        tried_auth = 0
        while True:
            hdrs = {**(headers or {}), **self._auth_header(scope)}
            auth = None
            if self._is_basic and self.credentials:
                auth = (self.credentials.username, self.credentials.password)
            resp = self._send(method, url, what=f"registry {self.base_url}", headers=hdrs,
                              params=params, auth=auth, first_contact=first_contact)
            if resp.status_code != 401 or tried_auth >= 2:
                break
            scheme, challenge = parse_challenge(resp.headers.get("WWW-Authenticate", ""))
            tried_auth += 1
            if scheme == "bearer":
                self._fetch_token(challenge, scope)
            elif scheme == "basic" and self.credentials and not self._is_basic:
                self._is_basic = True
            else:
                break
        self._raise_for_status(resp, what)
        return resp

    def _raise_for_status(self, resp: requests.Response, what: str) -> None:
        code = resp.status_code
        if code < 400:
            return
        where = f"registry {self.base_url}: {what}"
        if code == 401:
            raise RegistryError(f"{where}: 401 Unauthorized; {self._credentials_hint()}")
        if code == 403:
            raise RegistryError(f"{where}: 403 Forbidden; the credentials lack read access")
        if code == 404:
            raise RegistryNotFound(f"{where}: not found (HTTP 404)")
        if code == 429:
            raise RegistryError(f"{where}: still rate limited (429) after retries")
        raise RegistryError(f"{where}: HTTP {code}")

    def _paginate(self, path: str, key: str, *, scope: str, what: str,
                  params: dict | None) -> Iterator[str]:
        """Yield the items of a paginated list (``Link: <…>; rel="next"``)."""
        next_path: str | None = path
        while next_path:
            resp = self.request("GET", next_path, scope=scope, what=what, params=params)
            try:
                items = resp.json().get(key) or []
            except (ValueError, AttributeError):
                raise RegistryError(f"registry {self.base_url}: {what}: not JSON") from None
            yield from items
            params = None
            link = resp.links.get("next", {}).get("url")
            next_path = urljoin(resp.url, link) if link else None

    # ------------------------------------------------------------------ API

    def ping(self) -> None:
        """Check the URL is a registry answering ``/v2/`` (and that credentials work if it asks).

        The first request of a scan: retried once at most, like the fetch's first
        (a wrong port is told in a second, not after the policy's 25 s of backoff).

        The OCI distribution spec (``end-1``): ``GET /v2/`` answers 200 (or 401,
        answered above) where the API is implemented, and 404 where it is not.
        A web server answers 404, or 200 with an HTML page (a GitLab instance's
        sign-in page, a directory listing), never with
        ``Docker-Distribution-API-Version`` (which Docker's distribution and
        GitLab's registry send).

        Raises:
            RegistryError: ``"<url> is not a container registry (...)"``, or the
                auth, TLS and network failures of :meth:`request`.
        """
        try:
            resp = self.request("GET", "", scope="", what="API check /v2/", first_contact=True)
        except RegistryNotFound:
            raise self._not_a_registry("HTTP 404") from None
        if resp.headers.get("Docker-Distribution-API-Version"):
            return
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        head = resp.content[:512].lstrip().lower()
        if "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<")):
            raise self._not_a_registry(f"HTTP {resp.status_code} with an HTML page")

    def _not_a_registry(self, answer: str) -> RegistryError:
        return RegistryError(
            f"{self.base_url} is not a container registry (no OCI distribution API at "
            f"/v2/: {answer}); give the registry's root URL, e.g. https://registry.gitlab.com, "
            "or --project GROUP/PROJECT to find a GitLab project's registry")

    def list_repositories(self) -> list[str]:
        """Return every repository from ``/v2/_catalog`` (not offered by GitLab.com)."""
        return list(self._paginate("_catalog", "repositories", scope="registry:catalog:*",
                                   what="catalog /v2/_catalog", params={"n": _TAG_PAGE_SIZE}))

    def list_tags(self, repository: str) -> list[str]:
        """Return the tags of ``repository``; RegistryNotFound if it is unknown."""
        return list(self._paginate(
            f"{repository}/tags/list", "tags", scope=f"repository:{repository}:pull",
            what=f"repository {repository}", params={"n": _TAG_PAGE_SIZE},
        ))

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch a manifest by tag or digest, accepting every type the scan reads."""
        resp = self.request(
            "GET", f"{repository}/manifests/{reference}", scope=f"repository:{repository}:pull",
            what=f"manifest {repository}:{reference}", headers={"Accept": MANIFEST_ACCEPT},
        )
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        digest = resp.headers.get("Docker-Content-Digest") or _sha256_digest(resp.content)
        return Manifest(media_type=media_type, digest=digest, body=resp.content)

    def get_blob(self, repository: str, digest: str) -> bytes:
        """Fetch a (small) blob such as an image config."""
        resp = self.request("GET", f"{repository}/blobs/{digest}",
                            scope=f"repository:{repository}:pull",
                            what=f"blob {repository}@{digest}")
        return resp.content


def _sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()
