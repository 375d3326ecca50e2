"""Measure what the model would otherwise assume: image changes, fork activity, registry usage.

Three parts, each optional: a GitLab that refuses one (403, 404, GraphQL disabled)
costs one warning line naming what is missing, and the fetch completes.

1. **Image changes.** The CI configuration at the default branch, read as GitLab reads
   it (:func:`read_ci_config`: GitLab's own merge from ``GET /projects/:id/ci/lint``; where
   the token may not lint, the project's CI file and its local includes merged here; else
   QEMU's layout from the catalog), names the jobs that build
   images and each image's Dockerfile, resolved through the job's variables and shell
   (:mod:`cachecost.collect.cibuilds`). Then, per image, the commits on
   the default branch that touched that file since the window start
   (``commits?path=&since=``) are the image's change events: the ``image_changes``
   table (image, commit, time = committed date, path).
2. **Fork activity.** The forks, most recently active first, down to the first one
   inactive since the window start; of the active ones a random sample within
   ``fork_request_budget`` requests (each costs two: its pipelines since the window
   start, and its commits on any branch that touched the images' input directories).
   A fork pipeline *changed an image* when its commit is one of those (a lower bound:
   a branch whose head is a later commit is not counted). The ``forks`` table keeps one
   row per fork listed, with the sampling fraction.
3. **Registry usage.** ``container_registry_size`` of the project (read by the project
   phase, ``statistics=true``) and the root namespace's ``containerRegistrySize``
   (GraphQL ``rootStorageStatistics``, what GitLab counts against a quota), stored in
   ``metadata.json`` under ``registry_usage`` with the time read.

Incremental: a re-fetch asks for the newest commit touching the CI files' directories and each
input directory (``per_page=1``) and reads the CI files again only when the first moved,
the image commits only when a directory's newest commit is neither the one seen last
time nor one already stored. Forks cost one page when nothing changed:
only forks whose ``last_activity_at`` moved are read again.

    warnings = run_measurements(client, store, project, window_start, workers=4)
"""

from __future__ import annotations

import fnmatch
import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cachecost.collect.cibuilds import container_builds, image_inputs_of
from cachecost.collect.ciconfig import (
    CiLoader,
    load_ci_yaml,
    local_includes,
    merge_ci_files,
    resolve_jobs,
)
from cachecost.collect.gitlab.cilint import merged_ci_config
from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.forks import active_forks, fork_pipelines
from cachecost.collect.gitlab.graphql import namespace_registry_usage
from cachecost.collect.gitlab.projects import ProjectInfo
from cachecost.collect.gitlab.repository import list_commits, list_tree, read_file
from cachecost.collect.store import Store, rows_to_frame
from cachecost.dataset.catalog import QEMU_CI_ENTRY, QEMU_CI_FILES
from cachecost.errors import CachecostError, GraphqlUnavailable

#: GitLab's default CI configuration file, and the name given to GitLab's own merge of it
GITLAB_CI_ENTRY = ".gitlab-ci.yml"
MERGED = "(merged by GitLab)"
#: Requests fork sampling may spend (the forks list included).
FORK_REQUEST_BUDGET = 100


@dataclass
class MeasureReport:
    """What the measurement phase did: warnings (one line each), notes, requests per part."""

    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- CI config


#: kept for callers that parse CI files themselves (GitLab's ``!reference`` tags read)
_Loader = CiLoader


def image_inputs(docs: dict[str, dict], entry: str | None = None) -> dict[str, list[str]]:
    """Map image -> its input paths from parsed CI files (file path -> YAML mapping).

    The files are merged as GitLab merges them (:func:`~cachecost.collect.ciconfig.
    merge_ci_files`, from ``entry`` or from every file no other includes); the jobs that
    build images are found by what they run and their Dockerfiles resolved through their
    variables and shell (:func:`~cachecost.collect.cibuilds.container_builds`).

    >>> image_inputs({"a.yml": {".container_job_template": {"script": [
    ...     'docker build -f "tests/docker/dockerfiles/$NAME.docker" .']},
    ...     "x-container": {"extends": ".container_job_template",
    ...                     "variables": {"NAME": "alpine"}}}})
    {'alpine': ['tests/docker/dockerfiles/alpine.docker']}
    """
    config, origin = merge_ci_files(docs, entry)
    return image_inputs_of(container_builds(config, origin))


@dataclass
class CiSource:
    """A project's CI files as read: path -> parsed file, the entry GitLab starts from (None:
    merge every file no other includes), and the paths whose commits say it changed."""

    docs: dict[str, dict]
    entry: str | None
    probes: list[str]


def _read_includes(client: GitlabClient, project_id: int, ref: str, entry: str,
                   fallback: str | None = None) -> dict[str, dict]:
    """``entry`` and the local files it includes, recursively (wildcards listed with the
    tree API, one listing per directory); ``fallback``: a pattern read when ``entry`` is
    missing. Empty when nothing is there."""
    docs: dict[str, dict] = {}
    listings: dict[str, list[str]] = {}

    def listed(pattern: str) -> list[str]:
        directory = posixpath.dirname(pattern.split("*", 1)[0]) or "."
        if directory not in listings:
            listings[directory] = list_tree(client, project_id, directory, ref)
        return sorted(p for p in listings[directory]
                      if fnmatch.fnmatch(p, pattern) and p not in docs)

    queue = [entry]
    while queue and len(docs) < 50:
        path = queue.pop(0)
        if path in docs:
            continue
        if "*" in path:                          # a wildcard include
            docs[path] = {}
            queue += listed(path)
            continue
        text = read_file(client, project_id, path, ref)
        if text is None:
            docs[path] = {}
            if path == entry and fallback:
                queue += listed(fallback)
            continue
        try:
            docs[path] = load_ci_yaml(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise CachecostError(f"{path} at {ref}: not readable YAML ({problem})") from None
        queue += [p for p in local_includes(docs[path]) if p not in docs]
    return {p: d for p, d in docs.items() if d}


def _probes(paths: list[str]) -> list[str]:
    """Where to ask whether the CI files changed: each file's directory, a file at the
    repository root itself (its directory is the whole repository)."""
    return sorted({posixpath.dirname(p) or p for p in paths})


def read_ci_config(client: GitlabClient, project_id: int, ref: str,
                   ci_config_path: str | None = None) -> CiSource:
    """Read the project's CI configuration at ``ref`` as GitLab reads it.

    GitLab's own merge first (``GET /projects/:id/ci/lint``,
    :func:`~cachecost.collect.gitlab.cilint.merged_ci_config`: one request, every kind of
    include resolved). Where the token may not lint: the project's CI file
    (``ci_config_path``, default ``.gitlab-ci.yml``) and the local files it includes,
    merged here the same way (:mod:`cachecost.collect.ciconfig`). Where that is not
    readable either (another project's file, a URL): QEMU's layout from the catalog
    (:data:`~cachecost.dataset.catalog.QEMU_CI_ENTRY`).
    """
    merged = merged_ci_config(client, project_id, ref)
    if merged is not None:
        return CiSource({MERGED: merged.config}, MERGED, _probes(list(merged.local_files)))
    entry = ci_config_path or GITLAB_CI_ENTRY
    if "@" not in entry and "://" not in entry:
        docs = _read_includes(client, project_id, ref, entry.lstrip("/"))
        if docs:
            return CiSource(docs, entry.lstrip("/"), _probes(list(docs)))
    docs = _read_includes(client, project_id, ref, QEMU_CI_ENTRY, QEMU_CI_FILES)
    return CiSource(docs, None, _probes(list(docs)))


# --------------------------------------------------------------------------- the phase


class _Measure:
    def __init__(self, client: GitlabClient, store: Store, project: ProjectInfo,
                 window_start: pd.Timestamp, workers: int, fork_budget: int) -> None:
        self.client, self.store, self.project = client, store, project
        self.window_start = window_start
        self.workers, self.fork_budget = workers, fork_budget
        self.now = pd.Timestamp(datetime.now(UTC))
        self.state = store.state.setdefault("measure", {})
        self.report = MeasureReport()

    def _part(self, name: str, fn, missing: str, consequence: str) -> None:
        before = self.client.requests
        try:
            fn()
        except (CachecostError, GraphqlUnavailable) as exc:
            self.report.warnings.append(f"{missing}: {str(exc).rstrip('.')}; {consequence}")
        finally:
            self.report.requests[name] = self.client.requests - before

    # ---------------------------------------------------------------- image changes
    def image_changes(self) -> None:
        pid, ref = self.project.project_id, self.project.default_branch or "main"
        st = self.state.setdefault("image_changes", {})
        inputs: dict[str, list[str]] = st.get("inputs") or {}
        heads: dict[str, str | None] = st.get("heads") or {}
        stored = self.store.load("image_changes") if self.store.has("image_changes") else None
        # the CI files' probes (where they live) say whether to read them again
        probes: list[str] = st.get("ci_probes") or []
        ci_heads = {p: self._head(pid, ref, p) for p in probes}
        if not inputs or not probes or any(ci_heads[p] != heads.get(p) for p in probes):
            source = read_ci_config(self.client, pid, ref, self.project.ci_config_path)
            config, origin = merge_ci_files(source.docs, source.entry)
            builds = container_builds(config, origin)
            inputs = image_inputs_of(builds)
            st["ci_builds"] = {b.job: b.image for b in builds}
            st["ci_jobs"] = sorted(resolve_jobs(config))
            if not source.docs:
                raise CachecostError(f"no CI configuration readable at {ref} (GitLab's "
                                     f"merge refused, {GITLAB_CI_ENTRY} not found)")
            if not inputs:
                raise CachecostError(f"no job building a container image in the CI "
                                     f"configuration at {ref}")
            if source.probes != probes:
                probes = source.probes
                ci_heads = {p: self._head(pid, ref, p) for p in probes}
            st["ci_probes"] = probes
        dirs = sorted({posixpath.dirname(p) for paths in inputs.values() for p in paths})
        # The newest commit touching each input directory: not asked on a first read (the
        # per-image lists are read anyway); later a probe that matches the stored head, or
        # a commit already stored, means nothing changed there
        new_heads: dict[str, str | None] = dict(ci_heads)
        changed = stored is None or inputs != st.get("inputs")
        if not changed:
            known = set(stored["commit"]) if stored is not None else set()
            for d in dirs:
                new_heads[d] = self._head(pid, ref, d)
                changed |= new_heads[d] is not None and new_heads[d] != heads.get(d) \
                    and new_heads[d] not in known
        if changed:
            # the whole window again: one page per image either way (an image's inputs
            # change a few times a month), and commits reach the branch days after their
            # committed date, so a shorter "since" would miss some
            since = self.window_start
            pairs = [(image, path) for image, paths in inputs.items() for path in paths]

            def one(pair: tuple[str, str]) -> list[dict]:
                image, path = pair
                return [{"image": image, "commit": c["commit"], "time": c["time"], "path": path}
                        for c in list_commits(self.client, pid, ref=ref, path=path, since=since)]

            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                rows = [r for part in pool.map(one, pairs) for r in part]
            # the window's commits, complete: they replace what was stored (a rewritten
            # branch loses its old commits)
            frame = (rows_to_frame(rows, "image_changes")
                     .drop_duplicates(["image", "commit", "path"])
                     .sort_values(["time", "image"]).reset_index(drop=True))
            self.store.save("image_changes", frame)     # data first ...
        st.update(inputs=inputs, heads=new_heads, checked_at=self.now.isoformat(), ref=ref)
        self.store.save_state()                          # ... then what it covers
        n = len(self.store.load("image_changes"))
        self.report.notes.append(f"{n} image-input commits for {len(inputs)} images")

    def _head(self, pid: int, ref: str, path: str) -> str | None:
        rows = list_commits(self.client, pid, ref=ref, path=path, since=None, per_page=1,
                            first_page_only=True)
        return rows[0]["commit"] if rows else None

    # ---------------------------------------------------------------- forks
    def forks(self) -> None:
        pid = self.project.project_id
        st = self.state.setdefault("forks", {})
        before = self.client.requests
        listed, _ = active_forks(self.client, pid, self.window_start)
        stored = self.store.load("forks") if self.store.has("forks") else None
        prev: dict[int, dict[str, Any]] = {} if stored is None else {
            int(r["fork_id"]): {str(k): v for k, v in r.items()}
            for r in stored.to_dict("records")}
        dirs = sorted({posixpath.dirname(p)
                       for paths in (self.state.get("image_changes", {}).get("inputs") or {})
                       .values() for p in paths})
        rows, todo = [], []
        for f in listed:
            f["is_active"] = bool(f["last_activity_at"] >= self.window_start)
            old = prev.get(f["fork_id"])
            is_fresh = old is not None and bool(old["is_sampled"]) and \
                pd.Timestamp(old["last_activity_at"]) >= pd.Timestamp(f["last_activity_at"])
            if f["is_active"] and is_fresh and old is not None:
                f.update(is_sampled=True, pipelines=old["pipelines"],
                         image_change_pipelines=old["image_change_pipelines"],
                         read_at=old["read_at"])
            else:
                f.update(is_sampled=False, pipelines=None, image_change_pipelines=None,
                         read_at=self.now)
                if f["is_active"]:
                    todo.append(f)
            rows.append(f)
        # the rest of the budget: two requests per fork (pipelines, image commits)
        left = max(0, self.fork_budget - (self.client.requests - before))
        per_fork = 1 + len(dirs)
        n = min(len(todo), left // per_fork)
        rng = np.random.default_rng(pid)
        pick = [todo[i] for i in sorted(rng.choice(len(todo), size=n, replace=False))] \
            if n else []

        def read(f: dict) -> None:
            try:
                pipes = fork_pipelines(self.client, f["fork_id"], self.window_start)
                shas = {c["commit"] for d in (dirs if pipes else ()) for c in list_commits(
                    self.client, f["fork_id"], ref=None, path=d, since=self.window_start,
                    all_refs=True)}            # no pipeline: nothing to match, not asked
            except CachecostError:         # a private or vanished fork: not sampled
                return
            f.update(is_sampled=True, pipelines=len(pipes), read_at=self.now,
                     image_change_pipelines=sum(p["sha"] in shas for p in pipes))

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(read, pick))
        active = [r for r in rows if r["is_active"]]
        sampled = [r for r in active if r["is_sampled"]]
        fraction = len(sampled) / len(active) if active else float("nan")
        for r in rows:
            r.update(sampling_fraction=fraction, window_start=self.window_start)
            r["read_at"] = pd.Timestamp(r["read_at"])
        self.store.save("forks", rows_to_frame(rows, "forks"))
        st.update(checked_at=self.now.isoformat())
        self.store.save_state()
        self.report.notes.append(
            f"{len(active)} forks active in the window, {len(sampled)} sampled "
            f"({fraction:.0%})" if active else "no fork active in the window")

    # ---------------------------------------------------------------- registry usage
    def registry_usage(self) -> None:
        root = self.project.path_with_namespace.split("/", 1)[0]
        usage: dict[str, Any] = {
            "project_path": self.project.path_with_namespace,
            "container_registry_size_bytes": self.project.container_registry_size_bytes,
            "namespace": root, "namespace_container_registry_size_bytes": None,
            "is_estimated": None, "read_at": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.state["registry_usage"] = usage
        ns = namespace_registry_usage(self.client, root)
        usage.update(namespace_container_registry_size_bytes=ns.container_registry_size_bytes,
                     is_estimated=ns.is_estimated)

    def run(self) -> MeasureReport:
        self._part("image_changes", self.image_changes, "image changes not measured",
                   "the model falls back to the build-duration split")
        self._part("forks", self.forks, "fork activity not measured",
                   "the model keeps the scenario's fork assumptions")
        self._part("registry_usage", self.registry_usage, "namespace registry usage not read",
                   "only the project's container_registry_size is known")
        return self.report


def run_measurements(client: GitlabClient, store: Store, project: ProjectInfo,
                     window_start: pd.Timestamp, *, workers: int = 4,
                     fork_budget: int = FORK_REQUEST_BUDGET) -> MeasureReport:
    """Run the three parts (module doc); each failure becomes one warning line."""
    return _Measure(client, store, project, window_start, workers, fork_budget).run()
