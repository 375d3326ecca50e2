"""The GitLab stand-in's HTTP server: GitLab's REST routes for one project, on 127.0.0.1.

Serves what :class:`~cachecost.standin.data.StandinData` holds, with GitLab's
pagination (offset: ``X-Page``, ``X-Next-Page``, ``X-Total``, ``Link``; totals
and the ``last`` link omitted past 10,000 items as on GitLab.com; keyset on
project jobs with a ``cursor`` in the ``next`` link), ``RateLimit-*`` headers,
authentication (401 for an unknown token, 403 ``insufficient_scope`` for a
token without ``read_api``), and switchable faults (:class:`Faults`): 429 with
``Retry-After``, 5xx, dropped connections, latency, and "die after N
requests". Every request is counted (:attr:`StandinServer.counts`).

    with start_standin(StandinData.from_sample(), tokens={"t0k": {"read_api"}}) as srv:
        gl = gitlab.Gitlab(srv.url, private_token="t0k")
        srv.faults.every_5xx = 3            # every third request: 502
        srv.counts["total"]                 # requests served so far
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pandas as pd

from cachecost.collect.gitlab.client import SYNTHETIC_HEADER
from cachecost.standin import actions
from cachecost.standin.buildlog import render_trace
from cachecost.standin.data import StandinData
from cachecost.standin.extra import ExtraData

#: Sent in :data:`SYNTHETIC_HEADER` with every answer: the stand-in's data are invented.
SYNTHETIC_HEADER_VALUE = "standin"

_T = TypeVar("_T")

#: The actions: ``POST /api/v4/projects/:id/jobs/:job_id/(retry|play)``,
#: ``POST /api/v4/projects/:id/pipelines/:pipeline_id/retry``.
_JOB_ACTION = re.compile(r"/api/v4/projects/(?P<project>[^/]+)/(?P<kind>jobs|pipelines)/"
                         r"(?P<id>\d+)/(?P<verb>retry|play)")

#: GitLab.com stops counting (no X-Total / X-Total-Pages / rel="last") past this many items.
MAX_COUNTED_ITEMS = 10_000


@dataclass
class Faults:
    """Switches for misbehaviour; ``every_*`` = N hits every Nth request (0 = off)."""

    latency_ms: float = 0.0
    every_429: int = 0
    retry_after_s: int = 1
    every_5xx: int = 0
    every_drop: int = 0
    die_after: int = 0                # after this many requests, drop every connection
    rate_limit_per_min: int = 2000    # advertised in RateLimit-* headers
    #: route kinds (as counted: ``pipelines/:id/jobs``) answered 404, as by a server without them
    missing_routes: tuple[str, ...] = ()


class _Reply(Exception):
    def __init__(self, status: int, body: object, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def _found(obj: _T | None, message: str) -> _T:
    """``obj``, or a 404 answer with GitLab's ``message`` when the stand-in has none."""
    if obj is None:
        raise _Reply(404, {"message": message})
    return obj


class JsonArray(bytes):
    """A JSON array joined from items already encoded."""

    def __new__(cls, items: Iterable[bytes]) -> JsonArray:
        """Join ``items`` (each one encoded JSON value) into one array."""
        return super().__new__(cls, b"[" + b",".join(items) + b"]")


def _cursor(job_id: int) -> str:
    """GitLab's keyset cursor: URL-safe base64 of compact JSON, the id as a string."""
    raw = json.dumps({"id": str(job_id), "_kd": "n"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _uncursor(cursor: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _Reply(400, {"message": "400 Bad request - invalid cursor"}) from exc


def _flag(q: dict, name: str) -> bool:
    """A Grape-style boolean query parameter (true, True, 1)."""
    return q.get(name, "").lower() in ("true", "1", "yes")


def _parse_time(value: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise _Reply(400, {"error": "updated_after is invalid"}) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    server: StandinServer

    def log_message(self, format, *args):  # noqa: A002 - silence per-request logging
        pass

    # ---------------------------------------------------------------- plumbing
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.startswith("/__standin/"):
            self._admin()
            return
        self.server.enter()
        try:
            self._answer()
        finally:
            self.server.leave()

    do_POST = do_GET  # noqa: N815 - POST /api/graphql (cachecost.standin.extra)

    def _answer(self) -> None:
        srv = self.server
        n = srv.count_request()
        f = srv.faults
        if f.latency_ms:
            time.sleep(f.latency_ms / 1000)
        if (f.die_after and n > f.die_after) or (f.every_drop and n % f.every_drop == 0):
            srv.count_kind("fault:drop")
            self._drop(n)
            return
        if f.every_429 and n % f.every_429 == 0:
            srv.count_kind("fault:429")
            self._send(429, {"message": "Retry later"}, {"Retry-After": str(f.retry_after_s)})
            return
        if f.every_5xx and n % f.every_5xx == 0:
            srv.count_kind("fault:5xx")
            self._send(502 if n % 2 else 503, {"message": "502 Bad Gateway"})
            return
        try:
            self._authenticate()
            status, body, headers = 200, *self._route()
        except _Reply as r:
            status, body, headers = r.status, r.body, r.headers
        except Exception as exc:  # a stand-in bug: answer 500 like GitLab would, keep serving
            status, body, headers = 500, {"message": f"500 Internal Server Error ({exc})"}, {}
        self._send(status, body, headers)

    def _admin(self) -> None:
        """Uncounted, unauthenticated control routes for a stand-in in another process.

        ``/__standin/counts`` returns the request counts; ``/__standin/reset`` clears them.
        """
        if self.path == "/__standin/reset":
            self.server.reset_counts()
        if self.path in ("/__standin/counts", "/__standin/reset"):
            self._send(200, {**self.server.counts, "max_in_flight": self.server.max_in_flight})
        else:
            self._send(404, {"message": "404 Not Found"})

    def _drop(self, n: int) -> None:
        """Drop the connection: no answer, or (every other time) half a body."""
        try:
            if n % 2:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'[{"id": 1, "sta')
                self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        if isinstance(body, str):
            # a job log: GitLab names no charset (lib/api/ci/jobs.rb: content_type 'text/plain')
            raw, ctype = body.encode(), "text/plain"
        elif isinstance(body, JsonArray):
            raw, ctype = bytes(body), "application/json"
        else:
            raw, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header(SYNTHETIC_HEADER, SYNTHETIC_HEADER_VALUE)
        if status < 300 or status == 429:
            # Rack::Attack's headers; a 5xx from the proxy in front carries none (python-gitlab
            # would otherwise wait for RateLimit-Reset before retrying it).
            limit = self.server.faults.rate_limit_per_min
            self.send_header("RateLimit-Limit", str(limit))
            self.send_header("RateLimit-Remaining",
                             str(max(0, limit - self.server.minute_count())))
            self.send_header("RateLimit-Reset", str(int(time.time() // 60 * 60 + 60)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(raw)
        except OSError:
            self.close_connection = True

    def _token(self) -> str | None:
        token = self.headers.get("PRIVATE-TOKEN")
        auth = self.headers.get("Authorization", "")
        if token is None and auth.startswith("Bearer "):
            token = auth[7:]
        return token

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the stand-in's clock (its data's time), as GitLab's own."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return formatdate(self.server.data.clock().timestamp(), usegmt=True)

    def _authenticate(self) -> None:
        token = self._token()
        tokens = self.server.tokens
        if token is None or token not in tokens:
            raise _Reply(401, {"message": "401 Unauthorized"})
        if "read_api" not in tokens[token] and "api" not in tokens[token]:
            raise _Reply(403, {
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided "
                                     "by the access token.",
                "scope": "api read_api",
            })

    # ---------------------------------------------------------------- routes
    def _route(self) -> tuple[object, dict]:
        parts = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if self.command == "POST":
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            action = _JOB_ACTION.fullmatch(path)
            if action:                  # retry, play: cachecost.standin.actions
                return self._job_action(action["project"], action["kind"],
                                        int(action["id"]), action["verb"])
            # GraphQL: cachecost.standin.extra
            return self._extra(self.server.extra.post(path, body, self.server.count_kind))
        if not path.startswith("/api/v4/"):
            raise _Reply(404, {"message": "404 Not Found"})
        segs = [unquote(s) for s in path[len("/api/v4/"):].split("/")]
        data = self.server.data
        if segs[:2] == ["registry", "repositories"] and len(segs) == 3:
            self.server.count_kind("registry_repository")
            self._check_registry()
            return _found(data.repository(int(segs[2]), tags=_flag(q, "tags"),
                                          size=_flag(q, "size")), "404 Repository Not Found"), {}
        extra = self.server.extra.route(segs, q, self._offset_page, self.server.count_kind)
        if extra is not None:           # repository, forks and fork projects
            return self._extra(extra)
        if len(segs) < 2 or segs[0] != "projects":
            raise _Reply(404, {"message": "404 Not Found"})
        if segs[1] not in (str(data.project_id), data.project_path):
            raise _Reply(404, {"message": "404 Project Not Found"})
        rest = segs[2:]
        kind = "/".join(s if not s.isdigit() else ":id" for s in rest) or "project"
        self.server.count_kind(kind if "tags/" not in kind else "registry/tag")
        if kind in self.server.faults.missing_routes:
            raise _Reply(404, {"message": "404 Not Found"})
        for pattern, handler in _PROJECT_ROUTES:
            if len(pattern) == len(rest) and \
                    all(p in ("*", r) for p, r in zip(pattern, rest, strict=True)):
                return handler(self, rest, q)
        if rest[:2] == ["registry", "repositories"]:
            self._check_registry()      # a registry path: a disabled registry answers first
        raise _Reply(404, {"message": "404 Not Found"})

    # one handler per route below /projects/:id/ (``rest``: the path segments after it)
    def _project(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        return self.server.data.project_json(statistics=_flag(q, "statistics")), {}

    def _pipelines(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        after = _parse_time(q["updated_after"]) if "updated_after" in q else None
        items = self.server.data.pipelines(after, q.get("order_by", "id"),
                                           q.get("sort", "desc"), q.get("source") or None)
        return self._offset_page(items, q)

    def _pipeline(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        return _found(self.server.data.pipeline_detail(int(rest[1])), "404 Not found"), {}

    def _pipeline_jobs(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        # GitLab: user_project.all_pipelines.find(...) -> 404 for a pipeline it does not have
        _found(self.server.data.pipeline_detail(int(rest[1])), "404 Not found")
        recs = self.server.data.job_records_of_pipeline(int(rest[1]))
        if not _flag(q, "include_retried"):
            latest: dict[str, int] = {}
            for r in recs:
                latest[r.name] = max(latest.get(r.name, 0), r.job_id)
            recs = [r for r in recs if latest[r.name] == r.job_id]
        chunk, headers = self._offset_page(recs, q)
        return JsonArray(r.json for r in chunk), headers

    def _jobs(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        return self._jobs_page(q)

    def _job(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        self.server.data.job_records()
        rec = _found(self.server.data.job_record(int(rest[1])), "404 Not found")
        return json.loads(rec.json), {}

    def _job_action(self, project: str, kind: str, obj_id: int, verb: str
                    ) -> tuple[object, dict]:
        """``POST /projects/:id/jobs/:job_id/retry`` (201), ``.../play`` (200) or
        ``/pipelines/:pipeline_id/retry`` (201); a token without scope ``api`` gets 403
        ``insufficient_scope``, as on GitLab."""
        data = self.server.data
        if unquote(project) not in (str(data.project_id), data.project_path):
            raise _Reply(404, {"message": "404 Project Not Found"})
        self.server.count_kind(f"{kind}/:id/{verb}")
        if "api" not in self.server.tokens[self._token() or ""]:
            raise _Reply(403, {"error": "insufficient_scope",
                               "error_description": "The request requires higher privileges "
                                                    "than provided by the access token.",
                               "scope": "api"})
        if kind == "pipelines" and verb != "retry":
            raise _Reply(404, {"message": "404 Not Found"})
        act = {("jobs", "retry"): actions.retry_job, ("jobs", "play"): actions.play_job,
               ("pipelines", "retry"): actions.retry_pipeline}[(kind, verb)]
        try:
            job = act(data, obj_id)
        except actions.ActionRefused as exc:
            raise _Reply(exc.status, {"message": exc.message}) from None
        raise _Reply(201 if verb == "retry" else 200, job)

    def _trace(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        data = self.server.data
        job = data.job_record(int(rest[1]))
        trace = None if job is None else render_trace(job, data.project_path)
        return _found(trace, "404 Not found"), {}

    def _repositories(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        self._check_registry()
        return self._offset_page(self.server.data.repositories(), q)

    def _repository_tags(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        self._check_registry()
        repo = _found(self.server.data.repository(int(rest[2]), tags=True, size=False),
                      "404 Repository Not Found")
        return self._offset_page(repo["tags"], q)

    def _tag(self, rest: list[str], q: dict[str, str]) -> tuple[object, dict]:
        self._check_registry()
        return _found(self.server.data.tag_detail(int(rest[2]), rest[4]), "404 Tag Not Found"), {}

    @staticmethod
    def _extra(reply: tuple[int, object, dict]) -> tuple[object, dict]:
        status, body, headers = reply
        if status != 200:
            raise _Reply(status, body, headers)
        return body, headers

    def _check_registry(self) -> None:
        mode = self.server.data.registry_mode
        if mode == "disabled":
            raise _Reply(404, {"message": "404 Not Found"})
        if mode == "forbidden":
            raise _Reply(403, {"message": "403 Forbidden"})

    def _url(self, **params) -> str:
        base = urlsplit(self.path)
        return f"{self.server.url}{base.path}?{urlencode(params, quote_via=quote)}"

    @staticmethod
    def _per_page(q: dict) -> int:
        try:
            return max(1, min(100, int(q.get("per_page", 20))))
        except ValueError:
            return 20

    def _offset_page(self, items: list, q: dict, *, counted: bool = True
                     ) -> tuple[list, dict]:
        """One page of ``items`` with GitLab's offset headers (see :class:`.extra.Pager`)."""
        per_page = self._per_page(q)
        try:
            page = max(1, int(q.get("page", 1)))
        except ValueError:
            page = 1
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        keep = {k: v for k, v in q.items() if k not in ("page",)}
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page),
                   "X-Prev-Page": str(page - 1) if page > 1 else "",
                   "X-Next-Page": str(page + 1) if page < pages else ""}
        links = [f'<{self._url(**keep, page=1)}>; rel="first"']
        if page > 1:
            links.insert(0, f'<{self._url(**keep, page=page - 1)}>; rel="prev"')
        if page < pages:
            links.insert(0, f'<{self._url(**keep, page=page + 1)}>; rel="next"')
        if counted and total <= MAX_COUNTED_ITEMS:
            headers["X-Total"] = str(total)
            headers["X-Total-Pages"] = str(pages)
            links.append(f'<{self._url(**keep, page=pages)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return chunk, headers

    def _jobs_page(self, q: dict) -> tuple[JsonArray, dict]:
        data = self.server.data
        recs = data.job_records()  # newest first
        if q.get("sort") == "asc":
            recs = recs[::-1]
        if q.get("pagination") != "keyset":
            chunk, headers = self._offset_page(recs, q)
            return JsonArray(r.json for r in chunk), headers
        if q.get("order_by", "id") != "id" or q.get("sort") == "asc":
            raise _Reply(405, {"message": "405 Method Not Allowed"})
        per_page = self._per_page(q)
        if "cursor" in q:
            recs = data.job_records_below(_uncursor(q["cursor"]))
        chunk = recs[:per_page]
        headers = {"X-Per-Page": str(per_page)}
        if len(recs) > per_page:
            keep = {k: v for k, v in q.items() if k != "cursor"}
            nxt = self._url(**keep, cursor=_cursor(int(chunk[-1].job_id)))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return JsonArray(r.json for r in chunk), headers


#: Routes below ``/projects/:id/``: path segments (``*``: any one segment) and handler,
#: in the order tried; the first whose pattern matches the whole path answers.
_PROJECT_ROUTES: tuple[tuple[tuple[str, ...], Callable[[_Handler, list[str], dict[str, str]], tuple[object, dict]]], ...] = (
    ((), _Handler._project),
    (("pipelines",), _Handler._pipelines),
    (("pipelines", "*"), _Handler._pipeline),
    (("pipelines", "*", "jobs"), _Handler._pipeline_jobs),
    (("jobs",), _Handler._jobs),
    (("jobs", "*"), _Handler._job),
    (("jobs", "*", "trace"), _Handler._trace),
    (("registry", "repositories"), _Handler._repositories),
    (("registry", "repositories", "*", "tags"), _Handler._repository_tags),
    (("registry", "repositories", "*", "tags", "*"), _Handler._tag),
)


class StandinServer(ThreadingHTTPServer):
    """A running stand-in: ``url``, ``data``, ``faults``, ``tokens`` and request ``counts``."""

    daemon_threads = True
    #: listen backlog: a client opening several connections at once must not see its
    #: connects dropped (socketserver's default of 5 costs a 1 s SYN retry each)
    request_queue_size = 128

    def __init__(self, data: StandinData, *, port: int = 0, faults: Faults | None = None,
                 tokens: dict[str, set[str]] | None = None, extra: ExtraData | None = None
                 ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.data = data
        self.extra = extra if extra is not None else ExtraData(data)
        self.faults = faults or Faults()
        self.tokens = tokens if tokens is not None else {}
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._minute: tuple[int, int] = (0, 0)
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self.max_in_flight = 0

    @property
    def url(self) -> str:
        """Base URL to give python-gitlab (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count_request(self) -> int:
        """Count one request; return its number (1-based)."""
        with self._lock:
            self.counts["total"] += 1
            minute = int(time.time() // 60)
            m, c = self._minute
            self._minute = (minute, c + 1 if m == minute else 1)
            return self.counts["total"]

    def enter(self) -> None:
        """A request starts: track the most requests ever in flight at once."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def leave(self) -> None:
        """A request is answered."""
        with self._lock:
            self._in_flight -= 1

    def minute_count(self) -> int:
        """Requests seen in the current minute (for ``RateLimit-Remaining``)."""
        with self._lock:
            return self._minute[1]

    def count_kind(self, kind: str) -> None:
        """Count one request of a route kind, e.g. ``jobs`` or ``pipelines/:id``."""
        with self._lock:
            self.counts[kind] += 1

    def reset_counts(self) -> None:
        """Forget all request counts."""
        with self._lock:
            self.counts.clear()
            self.max_in_flight = 0

    def start(self) -> StandinServer:
        """Serve in a background thread; return self."""
        self.data.job_records()          # render the jobs now, not during the first request
        self._thread = threading.Thread(target=self.serve_forever, name="gitlab-standin",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_standin(data: StandinData, *, port: int = 0, faults: Faults | None = None,
                  tokens: dict[str, set[str]] | None = None,
                  extra: ExtraData | None = None) -> StandinServer:
    """Start a stand-in on 127.0.0.1 (``port=0``: an ephemeral port) in a background thread."""
    return StandinServer(data, port=port, faults=faults, tokens=tokens, extra=extra).start()

