"""Tiny servers on 127.0.0.1 for the cases' fixtures (ports chosen by the OS).

* :class:`OciServer`: an OCI distribution API serving ``registry.json`` (case 06):
  ``/v2/``, ``/v2/_catalog``, ``tags/list``, ``manifests/<tag|digest>``, ``blobs/<digest>``.
* :func:`answering_server`: every GET answered by one function of the path, with a
  request count (a failing registry, a web site that is not a registry).
* :class:`CaseGitlab`: GitLab's REST routes serving ``gitlab.json`` (case 03), with
  GitLab's documented list rule: ``GET /projects/:id/pipelines`` leaves out pipelines of
  source ``parent_pipeline`` unless asked with ``source=parent_pipeline``
  (gitlabhq ``lib/api/ci/pipelines.rb``; ``doc/api/pipelines.md``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def send(self, code: int, body: object, ctype: str = "application/json",
             headers: dict | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type, doc: dict) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.doc = doc
        self.counts: Counter[str] = Counter()
        self.traces: dict[int, str] = {}
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def hits(self) -> int:
        """Requests an :func:`answering_server` has answered."""
        return self.counts["hits"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Oci(_Base):
    server: LocalServer

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        doc = self.server.doc
        p = urlsplit(self.path).path
        if p in ("/v2/", "/v2"):
            return self.send(200, {})
        if p == "/v2/_catalog":
            return self.send(200, {"repositories": sorted(doc["repositories"])})
        for repo in sorted(doc["repositories"], key=len, reverse=True):
            pre = f"/v2/{repo}/"
            if not p.startswith(pre):
                continue
            rest = p[len(pre):]
            tags = doc["repositories"][repo]["tags"]
            if rest == "tags/list":
                return self.send(200, {"name": repo, "tags": sorted(tags)})
            if rest.startswith("manifests/"):
                ref = rest[len("manifests/"):]
                dg = tags.get(ref, ref)
                m = doc["manifests"].get(dg)
                if m is None:
                    return self.send(404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})
                return self.send(200, m, m["mediaType"], {"Docker-Content-Digest": dg})
            if rest.startswith("blobs/"):
                b = doc["blobs"].get(rest[len("blobs/"):])
                if b is None:
                    return self.send(404, {"errors": [{"code": "BLOB_UNKNOWN"}]})
                return self.send(200, b, "application/octet-stream")
        return self.send(404, {"errors": [{"code": "NAME_UNKNOWN"}]})


class _Gitlab(_Base):
    server: LocalServer

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        doc = self.server.doc
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        p = unquote(u.path)
        pid = doc["project"]["id"]
        base = f"/api/v4/projects/{pid}"
        self.server.counts["total"] += 1
        if p in (f"/api/v4/projects/{doc['project']['path_with_namespace']}", base):
            self.server.counts["project"] += 1
            return self.send(200, doc["project"])
        if p == f"{base}/pipelines":
            self.server.counts["pipelines"] += 1
            return self._pipelines(q)
        if p.startswith(f"{base}/pipelines/"):
            return self._pipeline(int(p.rsplit("/", 1)[1]))
        if p == f"{base}/jobs":
            self.server.counts["jobs"] += 1
            return self.send(200, sorted(doc["jobs"], key=lambda j: -j["id"]))
        if p.startswith(f"{base}/jobs/") and p.endswith("/trace"):
            jid = int(p.split("/")[-2])
            if jid in self.server.traces:
                return self.send(200, self.server.traces[jid], "text/plain; charset=utf-8")
            return self.send(404, {"message": "404 Not found"})
        if p == f"{base}/registry/repositories":
            return self.send(200, doc["registry_repositories"])
        if p.startswith("/api/v4/registry/repositories/"):
            return self._repository(int(p.rsplit("/", 1)[1]), q)
        if "/registry/repositories/" in p and "/tags/" in p:
            parts = p.split("/")
            return self._tag(int(parts[-3]), parts[-1])
        return self.send(404, {"message": "404 Not Found"})

    def _pipelines(self, q: dict[str, str]) -> None:
        """``GET /projects/:id/pipelines``: one page, filtered by ``source`` (child
        pipelines only when asked) and ``updated_after``, sorted by ``updated_at``."""
        src = q.get("source")
        items = [x for x in self.server.doc["pipelines"]
                 if (x["source"] == src if src else x["source"] != "parent_pipeline")]
        if "updated_after" in q:
            after = q["updated_after"]
            items = [x for x in items if _iso(x["updated_at"]) > _iso(after)]
        items.sort(key=lambda x: (x["updated_at"], x["id"]), reverse=q.get("sort") != "asc")
        return self.send(200, items, headers={"X-Page": "1", "X-Total": str(len(items)),
                                             "X-Total-Pages": "1", "X-Next-Page": ""})

    def _pipeline(self, want: int) -> None:
        """``GET /projects/:id/pipelines/:id`` (404 when the fixture lacks it)."""
        for x in self.server.doc["pipelines"]:
            if x["id"] == want:
                return self.send(200, x)
        return self.send(404, {"message": "404 Not found"})

    def _repository(self, rid: int, q: dict[str, str]) -> None:
        """``GET /registry/repositories/:id``, its ``size`` only with ``size=true``."""
        doc = self.server.doc
        r = {k: v for k, v in next(x for x in doc["registry_repositories"]
                                   if x["id"] == rid).items() if k != "tags"}
        size = doc["registry_repository_size"].get(str(rid))
        if size is not None and q.get("size") == "true":
            r["size"] = size
        return self.send(200, r)

    def _tag(self, rid: int, name: str) -> None:
        """``GET .../registry/repositories/:id/tags/:name`` (404 when the fixture lacks it)."""
        for t in self.server.doc["registry_tags"]:
            if (t["repository_id"], t["tag"]) == (rid, name):
                return self.send(200, t["detail"])
        return self.send(404, {"message": "404 Tag Not Found"})


def _iso(text: str) -> str:
    """GitLab time text normalised for comparison (UTC 'Z', microseconds)."""
    import pandas as pd
    return pd.Timestamp(text).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")


def oci_server(path: Path) -> LocalServer:
    """Serve a ``registry.json`` fixture; use as a context manager."""
    return LocalServer(_Oci, json.loads(path.read_text(encoding="utf-8")))


def gitlab_server(path: Path, traces: dict[int, Path]) -> LocalServer:
    """Serve a ``gitlab.json`` fixture and job logs; use as a context manager."""
    srv = LocalServer(_Gitlab, json.loads(path.read_text(encoding="utf-8")))
    srv.traces = {k: v.read_text(encoding="utf-8") for k, v in traces.items()}
    return srv


#: ``answer(path) -> (status, body, content type, extra headers)`` for one GET.
Answer = Callable[[str], tuple[int, object, str, dict | None]]


class _Answering(_Base):
    server: LocalServer

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.counts["hits"] += 1
        self.send(*self.server.doc["answer"](self.path))


def answering_server(answer: Answer) -> LocalServer:
    """A 127.0.0.1 server answering every GET with ``answer(path)``; ``.hits`` counts
    them. Use as a context manager (or call ``shutdown`` and ``server_close``)."""
    return LocalServer(_Answering, {"answer": answer})
