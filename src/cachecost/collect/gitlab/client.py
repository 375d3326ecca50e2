"""Credentials, the python-gitlab client, retries, rate limits and one-line errors.

Where the token comes from, first match wins (never from the command line):

1. ``--gitlab-config SECTION``: that section of python-gitlab's config file
   (``PYTHON_GITLAB_CFG``, else ``~/.python-gitlab.cfg`` or ``/etc/python-gitlab.cfg``);
2. the environment: ``GITLAB_TOKEN`` or ``GITLAB_PRIVATE_TOKEN`` (in GitLab CI,
   the URL defaults to ``CI_SERVER_URL``);
3. a section of the config file whose ``url`` is the ``--url`` given.

``CI_JOB_TOKEN`` alone is refused up front: GitLab's job token cannot read the
jobs and pipelines APIs.

The client is python-gitlab's and so are its retries, in one layer, by the
policy of :mod:`cachecost.collect.retry` (``retry_transient_errors=True``:
5xx, dropped connections, truncated bodies and timeouts are retried with
backoff; 429 waits for ``Retry-After``; ``max_retries`` retries at most, so a
URL that keeps failing gets ``max_retries + 1`` requests). :class:`GitlabClient`
pauses when ``RateLimit-Remaining`` runs low, counts requests, and turns what
still fails into one-line :class:`~cachecost.errors.CachecostError` s.

    client = connect("https://gitlab.com")           # token from the environment
    client.get_json("/projects/qemu-project%2Fqemu", what="project qemu-project/qemu")
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gitlab
import gitlab.config
import orjson
import requests

from cachecost import __version__
from cachecost.collect.retry import (
    DEFAULT_POLICY,
    RETRY_STATUSES,
    CountingAdapter,
    GaveUp,
    RetryPolicy,
    describe_tls_failure,
    is_tls_failure,
    no_answer_reason,
    request_budget,
)
from cachecost.errors import ApiError, CachecostError, FetchInterrupted

TOKEN_ENV_VARS = ("GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN")
PER_PAGE = 100
#: Connections kept open to the instance.
POOL_SIZE = 32
#: Pause when fewer than this share of the rate-limit window's requests remain.
RATE_LIMIT_RESERVE = 0.02
#: A response header GitLab never sends; the stand-in (:mod:`cachecost.standin`) sends it with
#: every answer, and a fetch that sees it stores its dataset as synthetic (``is_synthetic``).
SYNTHETIC_HEADER = "X-Cachecost-Synthetic"


_KINDS = (  # (path below /projects/:id, kind), first match wins
    (re.compile(r"^$"), "project"),
    (re.compile(r"^/pipelines/?$"), "pipelines"),
    (re.compile(r"^/pipelines/\d+/?$"), "pipeline_details"),
    (re.compile(r"^/jobs/?$"), "jobs"),
    (re.compile(r"^/jobs/\d+/trace$"), "logs"),
    (re.compile(r"^/registry/"), "registry"),
)


def request_kind(url: str) -> str:
    """What a request asked for, from its URL: ``jobs``, ``logs``, ``registry``, ..."""
    path = urlsplit(url).path
    match = re.search(r"/api/v4/projects/[^/]+(.*)$", path)
    if match:
        for pattern, kind in _KINDS:
            if pattern.match(match.group(1)):
                return kind
    return "registry" if "/registry/" in path else "other"


@dataclass(frozen=True)
class Credentials:
    """Where to talk to and with which token (the token is never shown in repr)."""

    url: str
    token: str = field(repr=False)
    origin: str               # e.g. "environment variable GITLAB_TOKEN"


def _normalize_url(url: str) -> str:
    return url.rstrip("/").lower()


def _config_files(environ: Mapping[str, str]) -> list[Path]:
    if environ.get("PYTHON_GITLAB_CFG"):
        return [Path(environ["PYTHON_GITLAB_CFG"]).expanduser()]
    return [Path(p) for p in gitlab.config._DEFAULT_FILES]


def _from_config_section(section: str, url: str | None,
                         environ: Mapping[str, str]) -> Credentials:
    files = [str(p) for p in _config_files(environ) if p.is_file()]
    named = environ.get("PYTHON_GITLAB_CFG")
    if named and not files:       # the user named a file: say what is wrong with it
        path = Path(named).expanduser()
        what = ("is a directory, not a python-gitlab config file" if path.is_dir()
                else "no such file")
        raise CachecostError(f"--gitlab-config {section}: PYTHON_GITLAB_CFG={named}: {what}")
    if not files:
        raise CachecostError(
            f"--gitlab-config {section}: no python-gitlab config file found "
            "(set PYTHON_GITLAB_CFG or create ~/.python-gitlab.cfg)")
    try:
        cfg = gitlab.config.GitlabConfigParser(gitlab_id=section, config_files=files)
    except gitlab.config.ConfigError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CachecostError(f"--gitlab-config {section}: {first} (in {files[0]})") from None
    except configparser.Error as exc:         # not an INI file at all
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CachecostError(f"--gitlab-config {section}: {files[0]}: not a python-gitlab "
                             f"config file ({first})") from None
    if not cfg.url:
        raise CachecostError(f"--gitlab-config {section}: the section has no url")
    check_url(cfg.url, f"--gitlab-config {section}: url")
    if url and _normalize_url(url) != _normalize_url(cfg.url):
        raise CachecostError(
            f"--gitlab-config {section} is for {cfg.url}, not --url {url}")
    token = cfg.private_token or cfg.oauth_token
    if not token:
        if cfg.job_token:
            raise CachecostError(_JOB_TOKEN_MESSAGE)
        raise CachecostError(f"--gitlab-config {section}: the section has no private_token")
    origin = f"python-gitlab config section [{section}]"
    return Credentials(cfg.url, clean_token(token, origin), origin)


def _section_for_url(url: str, environ: Mapping[str, str]) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    for path in _config_files(environ):
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error):
            continue
    for name in parser.sections():
        if _normalize_url(parser[name].get("url", "")) == _normalize_url(url):
            return name
    return None


_JOB_TOKEN_MESSAGE = (
    "only CI_JOB_TOKEN is available, and GitLab's job token cannot read the jobs and "
    "pipelines APIs; store a project access token with scope read_api as a masked CI/CD "
    "variable named GITLAB_TOKEN"
)


def clean_token(token: str, origin: str) -> str:
    """The token without surrounding whitespace (a pasted secret's newline); refuse the rest.

    An HTTP header cannot carry CR, LF or other control characters (RFC 9110
    section 5.5; requests raises ``ValueError: Invalid header value``), and
    GitLab's tokens are printable ASCII (``glpat-`` and base64url-like letters).

    Raises:
        CachecostError: the token is empty, or holds a control or non-ASCII character
            inside; the line names where the token came from, never the token.
    """
    stripped = token.strip()
    if not stripped:
        raise CachecostError(f"the GitLab token from {origin} is empty")
    bad = next((c for c in stripped if not 0x20 <= ord(c) < 0x7F), None)
    if bad is not None:
        kind = "a control character" if ord(bad) < 0x20 or ord(bad) == 0x7F else "a non-ASCII character"
        raise CachecostError(
            f"the GitLab token from {origin} holds {kind} ({ascii(bad)}) inside; "
            "copy the token again")
    return stripped


def check_url(url: str, origin: str) -> None:
    """Raise a one-line :class:`CachecostError` naming ``origin`` (``--url``, a config
    section) unless ``url`` is an http(s) URL with a host and, if it has one, a port in
    1-65535 (requests would otherwise raise InvalidURL at the first request)."""
    parts = urlsplit(url)
    try:
        port = parts.port                      # ValueError: not a number, or > 65535
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port in (0, -1):
        raise CachecostError(f"{origin} {url!r} is not an http(s) URL like https://gitlab.com")


def resolve_credentials(url: str | None, config_section: str | None = None,
                        environ: Mapping[str, str] | None = None) -> Credentials:
    """Find the URL and token (see the module docstring); raise a one-line error if none."""
    env = os.environ if environ is None else environ
    if config_section:
        return _from_config_section(config_section, url, env)
    url = url or env.get("CI_SERVER_URL") or env.get("GITLAB_URL")
    if not url:
        raise CachecostError(
            "no GitLab URL: pass --url (inside GitLab CI, CI_SERVER_URL is used)")
    check_url(url, "--url")
    for var in TOKEN_ENV_VARS:
        if env.get(var, "").strip():
            origin = f"environment variable {var}"
            return Credentials(url, clean_token(env[var], origin), origin)
    section = _section_for_url(url, env)
    if section:
        return _from_config_section(section, url, env)
    if env.get("CI_JOB_TOKEN"):
        raise CachecostError(_JOB_TOKEN_MESSAGE)
    raise CachecostError(
        f"no GitLab token for {url}: set GITLAB_TOKEN to a token with scope read_api, "
        "or name a python-gitlab config section with --gitlab-config")


@dataclass
class RateLimitGuard:
    """A requests response hook: sleep until ``RateLimit-Reset`` when few requests remain."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    max_pause_s: float = 60.0
    paused_s: float = 0.0

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Look at one response's ``RateLimit-*`` headers; sleep if the window runs low."""
        h = response.headers
        try:
            limit = int(h["RateLimit-Limit"])
            remaining = int(h["RateLimit-Remaining"])
            reset = float(h["RateLimit-Reset"])
        except (KeyError, ValueError):
            return
        if remaining <= max(1, int(limit * RATE_LIMIT_RESERVE)):
            pause = min(self.max_pause_s, max(0.0, reset - self.clock()))
            if pause:
                self.paused_s += pause
                self.sleep(pause)


class GitlabClient:
    """python-gitlab plus counting, rate-limit pauses and one-line errors."""

    def __init__(self, gl: gitlab.Gitlab, credentials: Credentials, *,
                 policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.gl = gl
        self.credentials = credentials
        self.policy = policy
        self.requests = 0
        self.requests_by_kind: Counter[str] = Counter()
        self.retries = 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(POOL_SIZE)
        self._aborted = threading.Event()
        self.rate_limit = RateLimitGuard()
        #: True once any answer carried :data:`SYNTHETIC_HEADER` (the stand-in's data).
        self.is_synthetic = False
        #: GitLab's clock at its first answer (its ``Date`` header, whole seconds), or None
        self.first_answer_at: datetime | None = None
        gl.session.hooks["response"].append(self._count)
        gl.session.hooks["response"].append(self.rate_limit)

    @property
    def url(self) -> str:
        """The instance URL (no token)."""
        return self.credentials.url

    @property
    def max_retries(self) -> int:
        """Retries after a request's first attempt (python-gitlab's ``max_retries``)."""
        return self.policy.max_retries

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        kind = request_kind(response.request.url or "")
        if SYNTHETIC_HEADER in response.headers:
            self.is_synthetic = True
        if self.first_answer_at is None:
            self.first_answer_at = _server_date(response)
        with self._lock:
            self.requests += 1
            self.requests_by_kind[kind] += 1
            self.retries += response.status_code in RETRY_STATUSES

    def count_request(self, kind: str) -> None:
        """Count a request made outside this client's session (GraphQL, through gql)."""
        with self._lock:
            self.requests += 1
            self.requests_by_kind[kind] += 1

    def _count_failed_connection(self) -> None:
        with self._lock:
            self.retries += 1

    def abort(self) -> None:
        """Make every request not yet sent give up: the fetch has failed."""
        self._aborted.set()

    def limit_in_flight(self, n: int) -> None:
        """Allow at most ``n`` requests at once, across all threads (call before any)."""
        self._slots = threading.BoundedSemaphore(max(1, n))

    # ------------------------------------------------------------------ requests
    def _request(self, path: str, params: Mapping[str, Any] | None, what: str, *,
                 attempts: int | None = None) -> requests.Response:
        """GET with python-gitlab's retries (``attempts`` requests at most); translate failures."""
        if self._aborted.is_set():
            raise FetchInterrupted(f"stopped asking GitLab at {self.url} for {what}: "
                                   "the fetch failed elsewhere")
        retries = self.max_retries if attempts is None else max(0, attempts - 1)
        with request_budget(self.policy.timeout_retries, self._aborted.is_set) as budget:
            try:
                with self._slots:
                    return self.gl.http_request("get", path, query_data=dict(params or {}),
                                                max_retries=retries,
                                                # python-gitlab passes it on to requests as
                                                # is, which takes (connect, read) seconds
                                                timeout=self.policy.timeout,  # type: ignore[arg-type]
                                                )
            except (requests.ConnectionError, requests.Timeout, GaveUp,
                    requests.exceptions.ChunkedEncodingError,
                    gitlab.exceptions.GitlabError) as exc:
                raise self.describe_error(exc, what, attempts=budget.sent) from None

    def _fetch_json(self, path: str, params: Mapping[str, Any] | None, what: str,
                    attempts: int | None = None) -> tuple[Any, requests.Response]:
        """GET and decode JSON (a truncated body was already retried by python-gitlab)."""
        resp = self._request(path, params, what, attempts=attempts)
        try:            # orjson: a jobs page decodes in a third of the stdlib's time
            return orjson.loads(resp.content), resp
        except ValueError:                  # orjson.JSONDecodeError is one
            ctype = resp.headers.get("Content-Type", "")
            if "json" not in ctype.lower():     # not a truncated page: not GitLab at all
                raise CachecostError(
                    f"{self.url}: not a GitLab API ({what}: HTTP {resp.status_code} "
                    f"{_describe_body(ctype, resp.content)} instead of JSON); give the "
                    "instance's root URL, e.g. https://gitlab.com") from None
            raise FetchInterrupted(
                f"GitLab at {self.url} sent unreadable JSON for {what}") from None

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, *, what: str,
                 attempts: int | None = None) -> Any:
        """GET one JSON document (``attempts``: at most this many requests, default the policy's)."""
        return self._fetch_json(path, params, what, attempts)[0]

    def get_text(self, path: str, *, what: str) -> str:
        """GET a plain-text document (a job log): the charset the server names, else UTF-8.

        GitLab sends job logs as ``text/plain`` without a charset; requests would then
        decode them as ISO-8859-1 (HTTP/1.1's old default), turning UTF-8 into mojibake.
        Bytes that are not UTF-8 become U+FFFD.
        """
        resp = self._request(path, None, what)
        ctype = resp.headers.get("Content-Type", "")
        named = "charset=" in ctype.lower() and resp.encoding
        return resp.content.decode(named or "utf-8", errors="replace")

    def iter_pages(self, path: str, params: Mapping[str, Any], *,
                   what: str) -> Iterator[tuple[list[dict], str | None]]:
        """Yield ``(items, next_url)`` per page, following ``Link: rel="next"``.

        ``path`` may also be a full ``next`` URL saved from an earlier page,
        which resumes a keyset walk where it stopped.
        """
        url: str | None = path
        query: Mapping[str, Any] | None = params
        while url is not None:
            items, url = self.get_page(url, query, what=what)
            yield items, url
            query = None

    def get_page(self, path: str, params: Mapping[str, Any] | None, *,
                 what: str) -> tuple[list[dict], str | None]:
        """One page: ``(items, next_url)``. ``params`` None means ``path`` is a ``next`` link."""
        query = None if params is None else {"per_page": PER_PAGE, **params}
        items, resp = self._fetch_json(path, query, what)
        return items, resp.links.get("next", {}).get("url")

    # ------------------------------------------------------------------ errors
    def describe_error(self, exc: Exception, what: str, *,
                       attempts: int | None = None) -> CachecostError:
        """One line a user can act on, naming the URL and what was asked (never the token).

        ``attempts``: the requests really sent (said in the line when more than one).
        """
        url, origin = self.url, self.credentials.origin
        if isinstance(exc, GaveUp) and exc.__cause__ is None:
            return FetchInterrupted(f"stopped asking GitLab at {url} for {what}: "
                                    "the fetch failed elsewhere")
        if isinstance(exc, GaveUp) and isinstance(exc.__cause__, Exception):
            exc = exc.__cause__
        if isinstance(exc, gitlab.exceptions.GitlabAuthenticationError) or (
                isinstance(exc, gitlab.exceptions.GitlabError) and exc.response_code == 401):
            return ApiError(
                f"GitLab at {url} rejected the token from {origin} (401 Unauthorized): it is "
                "wrong, expired or revoked; create one with scope read_api", status=401)
        if isinstance(exc, gitlab.exceptions.GitlabError):
            code = exc.response_code
            body = exc.response_body if isinstance(exc.response_body, bytes) else b""
            if code is not None and code < 500 and code != 429 and not _is_gitlab_error(body):
                return CachecostError(
                    f"{url}: not a GitLab API ({what}: HTTP {code} "
                    f"{_describe_body('', body)} where GitLab answers JSON); give the "
                    "instance's root URL, e.g. https://gitlab.com")
            if code == 403:
                return ApiError(
                    f"GitLab at {url} refused {what} (403 Forbidden): the token from {origin} "
                    "needs scope read_api and at least Reporter access to the project",
                    status=403)
            if code == 404:
                return ApiError(
                    f"{what} not found at {url} (404): check the path, or the token from "
                    f"{origin} cannot see it", status=404)
            message = " ".join(str(exc.error_message).split())[:200]
            tries = f", {attempts} attempts" if attempts and attempts > 1 else ""
            return FetchInterrupted(
                f"GitLab at {url} answered HTTP {code} for {what} ({message}{tries})")
        if is_tls_failure(exc):
            return CachecostError(describe_tls_failure(exc, url, "the instance"))
        reason = no_answer_reason(exc, self.policy)
        tries = f", {attempts} attempts" if attempts and attempts > 1 else ""
        return FetchInterrupted(f"cannot reach GitLab at {url} for {what} ({reason}{tries})")

    def close(self) -> None:
        """Close the HTTP session."""
        self.gl.session.close()


def _server_date(response: requests.Response) -> datetime | None:
    """The answer's ``Date`` header as an aware UTC time, or None (absent, unreadable)."""
    try:
        when = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _is_gitlab_error(body: bytes) -> bool:
    """True for GitLab's error bodies: a JSON object with ``message`` or ``error``."""
    try:
        doc = orjson.loads(body)
    except ValueError:
        return False
    return isinstance(doc, dict) and ("message" in doc or "error" in doc)


def _describe_body(ctype: str, body: bytes) -> str:
    """A few words on what came back instead of JSON: ``an HTML page``, ``text/plain``."""
    head = body[:512].lstrip().lower()
    if "html" in ctype.lower() or head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if not body:
        return "an empty body"
    return ctype.split(";")[0].strip() or "a non-JSON body"


def connect(url: str | None, config_section: str | None = None, *,
            environ: Mapping[str, str] | None = None, policy: RetryPolicy = DEFAULT_POLICY,
            max_retries: int | None = None) -> GitlabClient:
    """Return a :class:`GitlabClient` for the resolved credentials (no request is made).

    ``policy`` says how to retry (:mod:`cachecost.collect.retry`); ``max_retries``
    overrides its ``max_retries``.
    """
    if max_retries is not None:
        policy = dataclasses.replace(policy, max_retries=max_retries)
    creds = resolve_credentials(url, config_section, environ)
    if urlsplit(creds.url).path.rstrip("/").endswith("/api/v4"):
        raise CachecostError(f"{creds.url}: give the instance's root URL, without /api/v4 "
                             "(python-gitlab adds it), e.g. https://gitlab.com")
    gl = gitlab.Gitlab(creds.url, private_token=creds.token, per_page=PER_PAGE,
                       retry_transient_errors=True, timeout=policy.read_timeout_s,
                       user_agent=f"cachecost/{__version__} python-gitlab/{gitlab.__version__}")
    read_environment_once(gl)
    client = GitlabClient(gl, creds, policy=policy)
    # keep a connection for every request a fetch has in flight (2 x workers), not
    # requests' default 10, so none is closed and opened again between pages; the
    # adapter retries nothing itself (python-gitlab does) and counts dropped connections
    for prefix in ("http://", "https://"):
        gl.session.mount(prefix, CountingAdapter(
            on_no_answer=client._count_failed_connection, pool_maxsize=POOL_SIZE))
    return client


def read_environment_once(gl: gitlab.Gitlab) -> None:
    """Apply the environment's proxy and CA settings to the session once, not per request.

    With ``trust_env`` on, requests re-reads ``*_PROXY``, ``NO_PROXY`` and
    ``REQUESTS_CA_BUNDLE`` for every request by scanning ``os.environ`` twice (a
    quarter of the client time of a jobs page, measured with 20 ms latency). The
    result for the one host cachecost talks to does not change during a fetch, so
    it is read here and ``trust_env`` turned off (which also stops requests from
    adding ``~/.netrc`` credentials beside the token).
    """
    session = gl.session
    env = session.merge_environment_settings(gl.url, {}, None, None, None)
    session.proxies.update(env["proxies"])
    if gl.ssl_verify is True and isinstance(env["verify"], str):
        gl.ssl_verify = env["verify"]
    session.trust_env = False
