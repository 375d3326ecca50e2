"""The stand-in's repository, forks and GraphQL: what :mod:`cachecost.collect.measure` reads.

Shaped like GitLab's API docs:

* ``GET /projects/:id/repository/tree?path=&ref=``: ``[{id, name, type, path, mode}]``;
* ``GET /projects/:id/repository/files/:file_path?ref=``: ``{file_name, file_path, size,
  encoding: "base64", content_sha256, ref, blob_id, commit_id, last_commit_id,
  execute_filemode, content}``; 404 ``{"message": "404 File Not Found"}``;
* ``GET /projects/:id/repository/commits?ref_name=&path=&since=&all=``: ``[{id, short_id,
  created_at, parent_ids, title, message, author_name, author_email, authored_date,
  committer_name, committer_email, committed_date, trailers, extended_trailers,
  web_url}]`` newest first; ``path`` a file or a directory (anything below it); no
  ``X-Total`` / ``X-Total-Pages`` headers, as on GitLab;
* ``GET /projects/:id/forks?order_by=last_activity_at&sort=desc``: project objects with
  ``namespace {id, name, path, kind, full_path}``, ``forked_from_project``, ...;
* ``GET /projects/:fork_id/pipelines`` and ``.../repository/commits`` for each fork;
* ``POST /api/graphql``: ``{"data": {"namespace": {"rootStorageStatistics":
  {"containerRegistrySize", "containerRegistrySizeIsEstimated"}}}}``.

The truth: the upstream change commits are the sample's rebuilds (a container
job well above its image's cached build time), one commit per pipeline that rebuilt
something, touching each rebuilt image's Dockerfile, ten minutes before the pipeline;
a commit exists once the clock has passed it. ``refuse`` switches a part off like a
GitLab that refuses it: ``{"repository": 403, "forks": 404, "graphql": 404}``, or
``{"graphql": "null"}`` for a token that does not own the namespace.

    extra = ExtraData(data, forks=1000, active_forks=30)
    extra.image_changes_frame(since)     # what a fetch must store
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.standin.data import StandinData, format_time

CI_FILES = (".gitlab-ci.d/buildtest.yml", ".gitlab-ci.d/container-core.yml",
            ".gitlab-ci.d/container-cross.yml", ".gitlab-ci.d/container-template.yml",
            ".gitlab-ci.d/containers.yml")
DOCKERFILES = "tests/docker/dockerfiles"
FORK_ID_BASE = 90_000_000
#: Route kinds the measurement phase adds (not CI history).
MEASURE_KINDS = ("repository/tree", "repository/files", "repository/commits", "forks",
                 "fork:pipelines", "fork:repository/commits", "graphql")
_CATALOG = {c.image: c for c in QEMU_IMAGES}
Reply = tuple[int, Any, dict]


class Pager(Protocol):
    """The server's offset pager (``_Handler._offset_page``)."""

    def __call__(self, items: list, q: dict, *, counted: bool = True
                 ) -> tuple[list, dict]:
        """One page of ``items`` for query ``q``, and its headers.

        ``counted=False``: no ``X-Total``, ``X-Total-Pages`` or ``rel="last"``, as
        the commits API answers (GitLab docs api/commits.md, issue 389582).
        """


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def ci_files(images: list[str]) -> dict[str, str]:
    """QEMU-like container CI files: a template, core and cross jobs, the entry file."""
    jobs = {c.image: c.job_name for c in QEMU_IMAGES}
    core = [i for i in images if "cross" not in i]
    cross = [i for i in images if "cross" in i]

    def block(image: str) -> str:
        name = jobs.get(image, f"{image}-container")
        return (f"{name}:\n  extends: .container_job_template\n"
                f"  variables:\n    NAME: {image}\n")

    return {
        ".gitlab-ci.d/container-template.yml": (
            ".container_job_template:\n  extends: .base_job_template\n  image: docker:latest\n"
            "  stage: containers\n  script:\n"
            '    - export TAG="$CI_REGISTRY_IMAGE/qemu/$NAME:latest"\n'
            '    - docker build --tag "$TAG" --cache-from "$TAG" '
            f'-f "{DOCKERFILES}/$NAME.docker" {DOCKERFILES}\n'
            '    - docker push "$TAG"\n'),
        ".gitlab-ci.d/container-core.yml": (
            "include:\n  - local: '/.gitlab-ci.d/container-template.yml'\n\n"
            + "\n".join(block(i) for i in core)),
        ".gitlab-ci.d/container-cross.yml": (
            "include:\n  - local: '/.gitlab-ci.d/container-template.yml'\n\n"
            ".cross_builds:\n  extends: .container_job_template\n  rules: !reference "
            "[.base_job_template, rules]\n\n"
            + "\n".join(block(i).replace(".container_job_template", ".cross_builds")
                        for i in cross)),
        ".gitlab-ci.d/containers.yml": (
            "include:\n  - local: '/.gitlab-ci.d/container-core.yml'\n"
            "  - local: '/.gitlab-ci.d/container-cross.yml'\n"),
        ".gitlab-ci.d/buildtest.yml": "build-system-alpine:\n  stage: build\n  script: [make]\n",
    }


@dataclass
class ExtraData:
    """Repository, forks and namespace statistics around a :class:`StandinData` project."""

    data: StandinData
    forks: int = 40
    active_forks: int = 6
    namespace_factor: float = 1.25      # the root namespace's registry / the project's
    refuse: dict[str, int | str] = field(default_factory=dict)
    _commits: list[dict] = field(init=False, repr=False)
    _forks: list[dict] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.images = sorted({i for i in self.data.dataset.jobs["image"].dropna().unique()})
        self.files = ci_files(self.images)
        self._commits = self._upstream_commits()
        self._forks = self._make_forks()

    # ------------------------------------------------------------------ the truth
    @property
    def window_start(self) -> pd.Timestamp:
        """The sample's first pipeline."""
        return self.data.dataset.pipelines["created_at"].min()

    def _upstream_commits(self) -> list[dict]:
        jobs = self.data.dataset.jobs
        jobs = jobs[jobs["is_container_build"] & jobs["image"].notna()
                    & (jobs["status"] == "success")]
        cached = jobs["image"].map(lambda i: _CATALOG[i].cached_build_min
                                   if i in _CATALOG else float("nan"))
        rebuilt = jobs[jobs["duration_s"] / 60 >= 1.5 * cached]
        created = self.data.dataset.pipelines.set_index("pipeline_id")["created_at"]
        out = []
        for pid, grp in rebuilt.groupby("pipeline_id"):
            when = (created[pid] - pd.Timedelta(minutes=10)).floor("s")
            paths = sorted(f"{DOCKERFILES}/{i}.docker" for i in grp["image"].unique())
            out.append({"id": _sha("up", pid), "time": when, "paths": paths,
                        "title": f"tests/docker: update {len(paths)} image(s)"})
        # one CI change at the start of the window, touching no Dockerfile
        out.append({"id": _sha("ci"), "time": self.window_start.floor("s"),
                    "paths": [".gitlab-ci.d/buildtest.yml"], "title": "gitlab-ci: tweak"})
        return sorted(out, key=lambda c: c["time"], reverse=True)

    def _visible(self, commits: list[dict]) -> list[dict]:
        now = self.data._clock()
        return [c for c in commits if c["time"] <= now]

    def image_changes_frame(self, since: pd.Timestamp) -> pd.DataFrame:
        """The ``image_changes`` rows a fetch with window start ``since`` must store."""
        rows = [{"image": p.rsplit("/", 1)[-1].removesuffix(".docker"), "commit": c["id"],
                 "time": c["time"], "path": p}
                for c in self._visible(self._commits) if c["time"] >= since
                for p in c["paths"] if p.startswith(DOCKERFILES + "/")]
        df = pd.DataFrame(rows, columns=["image", "commit", "time", "path"])
        return df.sort_values(["time", "image"]).reset_index(drop=True)

    def _make_forks(self) -> list[dict]:
        start, end = self.window_start, self.data.end
        span = (end - start) / max(1, self.active_forks + 1)
        out = []
        for i in range(self.forks):
            is_active = i < self.active_forks
            last = (end - span * (i + 0.5) if is_active
                    else start - pd.Timedelta(days=1 + i))
            owner = f"group{i}" if i % 7 == 3 else f"user{i}"
            full = f"{owner}/ci" if i % 7 == 3 else owner
            pipes, commits = [], []
            if is_active:            # every fifth active fork pushes without running CI
                for k in range(0 if i % 5 == 4 else 2 * (i % 4) + 1):
                    t = (last - pd.Timedelta(hours=6 * k)).floor("s")
                    if t < start:
                        break
                    sha = _sha("fork", i, k)
                    pipes.append({"id": 500_000_000 + 100 * i + k, "sha": sha,
                                  "created_at": t, "updated_at": t + pd.Timedelta(minutes=50),
                                  "status": "success", "ref": f"topic-{k}"})
                    if k % 3 == 0:   # every third pushes a Dockerfile change
                        commits.append({"id": sha, "time": t - pd.Timedelta(minutes=5),
                                        "paths": [f"{DOCKERFILES}/{self.images[k % len(self.images)]}.docker"],
                                        "title": "tests/docker: try a package"})
                    else:
                        commits.append({"id": sha, "time": t - pd.Timedelta(minutes=5),
                                        "paths": ["hw/misc/foo.c"], "title": "hw: fix"})
            out.append({"id": FORK_ID_BASE + i, "owner": owner, "full_path": full,
                        "path": f"{full}/qemu", "last_activity_at": last.floor("s"),
                        "created_at": (start - pd.Timedelta(days=400 + i)).floor("s"),
                        "pipelines": pipes, "commits": commits})
        return sorted(out, key=lambda f: (f["last_activity_at"], f["id"]), reverse=True)

    def forks_truth(self) -> pd.DataFrame:
        """Per fork: owner, whether active in the window, pipelines and image-changing ones."""
        start = self.window_start
        rows = []
        for f in self._forks:
            changing = {c["id"] for c in f["commits"]
                        if any(p.startswith(DOCKERFILES + "/") for p in c["paths"])}
            pipes = [p for p in f["pipelines"] if p["created_at"] >= start]
            rows.append({"fork_id": f["id"], "owner": f["owner"],
                         "is_active": f["last_activity_at"] >= start, "pipelines": len(pipes),
                         "image_change_pipelines": sum(p["sha"] in changing for p in pipes)})
        return pd.DataFrame(rows)

    def namespace_registry_size_bytes(self) -> int:
        """The root namespace's ``containerRegistrySize``."""
        return int(self.data.container_registry_size_bytes() * self.namespace_factor)

    # ------------------------------------------------------------------ API objects
    def _commit_item(self, c: dict, web: str) -> dict:
        t = format_time(c["time"])
        return {"id": c["id"], "short_id": c["id"][:8], "created_at": t, "parent_ids": [],
                "title": c["title"], "message": c["title"] + "\n",
                "author_name": "A Developer", "author_email": "dev@example.org",
                "authored_date": t, "committer_name": "A Maintainer",
                "committer_email": "maint@example.org", "committed_date": t,
                "trailers": {}, "extended_trailers": {}, "web_url": f"{web}/-/commit/{c['id']}"}

    def _fork_item(self, f: dict) -> dict:
        ns_kind = "group" if "/" in f["full_path"] else "user"
        web = f"https://gitlab.standin.example/{f['path']}"
        return {
            "id": f["id"], "description": None, "name": "QEMU", "path": "qemu",
            "name_with_namespace": f"{f['full_path']} / QEMU",
            "path_with_namespace": f["path"], "created_at": format_time(f["created_at"]),
            "default_branch": "master", "web_url": web, "visibility": "public",
            "last_activity_at": format_time(f["last_activity_at"]),
            "namespace": {"id": 7_000_000 + f["id"] % 100_000, "name": f["owner"],
                          "path": f["full_path"].rsplit("/", 1)[-1], "kind": ns_kind,
                          "full_path": f["full_path"], "parent_id": None,
                          "avatar_url": None, "web_url": web.rsplit("/", 1)[0]},
            "forked_from_project": {"id": self.data.project_id,
                                    "path_with_namespace": self.data.project_path},
            "forks_count": 0, "star_count": 0, "open_issues_count": 0,
        }

    def _file_item(self, path: str, ref: str) -> dict:
        raw = self.files[path].encode()
        return {"file_name": path.rsplit("/", 1)[-1], "file_path": path, "size": len(raw),
                "encoding": "base64", "content_sha256": hashlib.sha256(raw).hexdigest(),
                "ref": ref, "blob_id": _sha("blob", path), "commit_id": _sha("head"),
                "last_commit_id": _sha("last", path), "execute_filemode": False,
                "content": base64.b64encode(raw).decode()}

    @staticmethod
    def _filter_commits(commits: list[dict], q: dict) -> list[dict]:
        path = q.get("path", "").strip("/")
        since = pd.Timestamp(q["since"]) if q.get("since") else None
        if since is not None and since.tzinfo is None:
            since = since.tz_localize("UTC")
        out = []
        for c in commits:
            if path and not any(p == path or p.startswith(path + "/") for p in c["paths"]):
                continue
            if since is not None and c["time"] < since:
                continue
            out.append(c)
        return out

    # ------------------------------------------------------------------ routes
    def route(self, segs: list[str], q: dict, page: Pager,
              count: Callable[[str], None]) -> Reply | None:
        """Answer a GET below ``/api/v4/`` if it is one of these routes, else None."""
        if len(segs) < 3 or segs[0] != "projects":
            return None
        rest = segs[2:]
        is_main = segs[1] in (str(self.data.project_id), self.data.project_path)
        fork = next((f for f in self._forks if str(f["id"]) == segs[1]), None)
        if is_main and rest[0] == "repository" and len(rest) >= 2:
            return self._repository_route(rest, q, page, count)
        if is_main and rest == ["forks"]:
            return self._forks_route(q, page, count)
        if fork is None:
            return None
        return self._fork_route(fork, rest, q, page, count)

    def _repository_route(self, rest: list[str], q: dict,
                          page: Pager,
                          count: Callable[[str], None]) -> Reply | None:
        """``/projects/:id/repository/...`` of the main project (tree, files, commits)."""
        kind = f"repository/{rest[1]}"
        if kind not in MEASURE_KINDS:
            return None
        count(kind)
        refused = self.refuse.get("repository") or self.refuse.get(kind)
        if isinstance(refused, int):
            return refused, {"message": f"{refused} Forbidden" if refused == 403
                             else "404 Not Found"}, {}
        ref = q.get("ref", "master")
        if kind == "repository/tree":
            d = q.get("path", "").strip("/")
            entries = [{"id": _sha("blob", p), "name": p.rsplit("/", 1)[-1], "type": "blob",
                        "path": p, "mode": "100644"}
                       for p in sorted(self.files) if p.rsplit("/", 1)[0] == d]
            if not entries:
                return 404, {"message": "404 Tree Not Found"}, {}
            return 200, *page(entries, q)
        if kind == "repository/files" and len(rest) == 3:
            if rest[2] not in self.files:
                return 404, {"message": "404 File Not Found"}, {}
            return 200, self._file_item(rest[2], ref), {}
        if kind == "repository/commits" and len(rest) == 2:
            web = f"https://gitlab.standin.example/{self.data.project_path}"
            items = [self._commit_item(c, web) for c in
                     self._filter_commits(self._visible(self._commits), q)]
            return 200, *page(items, q, counted=False)
        return None

    def _forks_route(self, q: dict, page: Pager,
                     count: Callable[[str], None]) -> Reply:
        """``/projects/:id/forks`` of the main project (newest first unless ``sort=asc``)."""
        count("forks")
        refused = self.refuse.get("forks")
        if isinstance(refused, int):
            return refused, {"message": f"{refused} Forbidden" if refused == 403
                             else "404 Not Found"}, {}
        forks = self._forks if q.get("sort", "desc") == "desc" else self._forks[::-1]
        return 200, *page([self._fork_item(f) for f in forks], q)

    def _fork_route(self, fork: dict, rest: list[str], q: dict,
                    page: Pager,
                    count: Callable[[str], None]) -> Reply:
        """A fork project's pipelines or commits; any other path of a fork: 404."""
        if rest == ["pipelines"]:
            count("fork:pipelines")
            after = pd.Timestamp(q["updated_after"]) if q.get("updated_after") else None
            web = f"https://gitlab.standin.example/{fork['path']}"
            items = [{"id": p["id"], "iid": k + 1, "project_id": fork["id"], "sha": p["sha"],
                      "ref": p["ref"], "status": p["status"], "source": "push",
                      "created_at": format_time(p["created_at"]),
                      "updated_at": format_time(p["updated_at"]),
                      "web_url": f"{web}/-/pipelines/{p['id']}", "name": None}
                     for k, p in enumerate(fork["pipelines"])
                     if after is None or p["updated_at"] > after]
            return 200, *page(items, q)
        if rest == ["repository", "commits"]:
            count("fork:repository/commits")
            web = f"https://gitlab.standin.example/{fork['path']}"
            items = [self._commit_item(c, web)
                     for c in self._filter_commits(fork["commits"], q)]
            return 200, *page(items, q, counted=False)
        return 404, {"message": "404 Not Found"}, {}

    def post(self, path: str, body: bytes, count: Callable[[str], None]) -> Reply:
        """Answer ``POST /api/graphql`` (the namespace storage query only)."""
        if path.rstrip("/") != "/api/graphql":
            return 404, {"message": "404 Not Found"}, {}
        count("graphql")
        refused = self.refuse.get("graphql")
        if isinstance(refused, int):
            return refused, {"message": f"{refused} Not Found"}, {}
        try:
            query = str(json.loads(body or b"{}").get("query", ""))
        except ValueError:
            return 400, {"errors": [{"message": "Invalid JSON"}]}, {}
        m = re.search(r'namespace\(fullPath:\s*"([^"]+)"\)', query)
        if m is None or "rootStorageStatistics" not in query:
            return 200, {"errors": [{"message": "the stand-in answers the namespace storage "
                                                "query only"}]}, {}
        root = self.data.project_path.split("/", 1)[0]
        if m.group(1) != root:
            return 200, {"data": {"namespace": None}}, {}
        stats = None if refused == "null" else {
            "containerRegistrySize": float(self.namespace_registry_size_bytes()),
            "containerRegistrySizeIsEstimated": False}
        return 200, {"data": {"namespace": {"rootStorageStatistics": stats}}}, {}
