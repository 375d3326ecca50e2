# ruff: noqa -- the case's own server, copied as it is (tests/cases/07-jobs-that-change-in-place/README.md)
"""A small GitLab-shaped REST server on 127.0.0.1 for the hunt's API artefacts (stdlib only).

It serves the JSON file named on the command line, re-read on every request, so a test can
change GitLab's state between two fetches. Rules applied, as GitLab documents them:
* GET /projects/:id/pipelines omits source=parent_pipeline unless ?source= asks for it;
  updated_after / order_by=updated_at / sort honoured; offset pages of per_page with
  X-Page / X-Next-Page / Link headers;
* GET /projects/:id/jobs?pagination=keyset&order_by=id&sort=desc: newest first, a
  Link rel="next" whose cursor is URL-safe base64 of {"id":"<last id>","_kd":"n"};
* GET /projects/:id/jobs/:id/trace: text/plain (no charset, as lib/api/ci/jobs.rb sends);
* registry: list (tags=true), GET /registry/repositories/:id?size=true, tag details;
* repository files/tree/commits, forks: 404 / empty (the measure phase then warns);
* POST /api/graphql: {"data": {"namespace": <scenario "graphql_namespace">}}.
Usage: python3 glserver.py PORT scenario.json
"""
import base64, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote, urlencode

SCEN = None
PORT = None


def load():
    with open(SCEN, encoding="utf-8") as f:
        return json.load(f)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json", headers=None):
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def offset(self, items, q, path):
        per = int(q.get("per_page", 20)); page = int(q.get("page", 1))
        chunk = items[(page - 1) * per: page * per]
        h = {"X-Page": str(page), "X-Per-Page": str(per)}
        if page * per < len(items):
            nq = dict(q); nq["page"] = str(page + 1)
            h["X-Next-Page"] = str(page + 1)
            h["Link"] = f'<http://127.0.0.1:{PORT}{path}?{urlencode(nq)}>; rel="next"'
        else:
            h["X-Next-Page"] = ""
        return self.send(200, chunk, headers=h)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if urlsplit(self.path).path == "/api/graphql":
            s = load()
            return self.send(200, {"data": {"namespace": s.get("graphql_namespace")}})
        return self.send(404, {"message": "404 Not Found"})

    def do_GET(self):
        s = load()
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        p = u.path
        pid = str(s["project"]["id"])
        base = f"/api/v4/projects/{pid}"
        if p in (f"/api/v4/projects/{s['project']['path_with_namespace'].replace('/', '%2F')}", base):
            return self.send(200, s["project"])
        if p == base + "/pipelines":
            src = q.get("source")
            items = [x for x in s["pipelines"]
                     if ((x["source"] == src) if src else (x["source"] != "parent_pipeline"))]
            if "updated_after" in q:
                ua = q["updated_after"]
                items = [x for x in items if x["updated_at"] > ua[:19]]
            items.sort(key=lambda x: x["updated_at"], reverse=q.get("sort", "desc") != "asc")
            return self.offset(items, q, p)
        if p.startswith(base + "/pipelines/"):
            x = [x for x in s["pipelines"] if str(x["id"]) == p.rsplit("/", 1)[1]]
            return self.send(200, x[0]) if x else self.send(404, {"message": "404 Not found"})
        if p == base + "/jobs":
            jobs = sorted(s["jobs"], key=lambda j: -j["id"])
            per = int(q.get("per_page", 20))
            if "cursor" in q:
                below = int(json.loads(base64.urlsafe_b64decode(q["cursor"]))["id"])
                jobs = [j for j in jobs if j["id"] < below]
            chunk = jobs[:per]
            h = {}
            if len(jobs) > per:
                cur = base64.urlsafe_b64encode(json.dumps(
                    {"id": str(chunk[-1]["id"]), "_kd": "n"}, separators=(",", ":")).encode()).decode()
                nq = {k: v for k, v in q.items() if k != "cursor"}; nq["cursor"] = cur
                h["Link"] = f'<http://127.0.0.1:{PORT}{p}?{urlencode(nq)}>; rel="next"'
            return self.send(200, chunk, headers=h)
        if p.startswith(base + "/jobs/") and p.endswith("/trace"):
            jid = p.split("/")[-2]
            t = s.get("traces", {}).get(jid)
            if t is None:
                return self.send(200, "", "text/plain")
            if t.startswith("@"):
                with open(t[1:], "rb") as f:
                    raw = f.read()
                self.send_response(200); self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(raw))); self.end_headers()
                self.wfile.write(raw); return
            return self.send(200, t, "text/plain")
        if p == base + "/registry/repositories":
            return self.offset(s.get("repositories", []), q, p)
        if p.startswith("/api/v4/registry/repositories/"):
            rid = int(p.rsplit("/", 1)[1])
            r = [dict(x) for x in s.get("repositories", []) if x["id"] == rid]
            if not r:
                return self.send(404, {"message": "404 Repository Not Found"})
            r = r[0]; r.pop("tags", None)
            size = s.get("repository_sizes", {}).get(str(rid))
            if q.get("size") == "true" and size is not None:
                r["size"] = size
            return self.send(200, r)
        if p.startswith(base + "/registry/repositories/") and "/tags/" in p:
            parts = p.split("/")
            key = f"{parts[7]}/{unquote(parts[9])}"
            t = s.get("tag_details", {}).get(key)
            return self.send(200, t) if t else self.send(404, {"message": "404 Tag Not Found"})
        if p.startswith(base + "/forks"):
            return self.send(200, [])
        return self.send(404, {"message": "404 Not Found"})


if __name__ == "__main__":
    PORT = int(sys.argv[1]); SCEN = sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
