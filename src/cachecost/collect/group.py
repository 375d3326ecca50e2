"""Fetch a whole GitLab group: find the projects that build images, fetch those fully.

    cachecost fetch --group freedesktop --include-subgroups --url https://gitlab.freedesktop.org

1. **list**     ``GET /groups/:id/projects`` (``include_subgroups``, 100 a page, by id);
2. **detect**   per project, at most three cheap requests: its registry repositories
   (``per_page=1``: is anything stored?), its CI configuration file
   (``ci_config_path`` or ``.gitlab-ci.yml`` at the default branch) and, when that file
   only includes local files, the first of them. A project builds images when its
   registry holds a repository or its CI shows a build as the real-CI rules read it
   (:func:`cachecost.collect.mapping.shows_no_build`: a build command, a builder's
   output, an image pushed) or extends freedesktop's ci-templates
   (``.fdo.container-build@...``). The builder and caching strategy are read from the
   same text (:func:`detect_builder`);
3. **fetch**    each building project with the per-project fetch
   (:func:`cachecost.collect.fetch.fetch_project_history`) into
   ``<group dir>/project=<key>/``, ``<key>`` the project path with ``/`` written ``~``
   (GitLab paths never hold ``~``; Hive would escape ``/`` as ``%2F``, which engines
   decode differently), so every table is hive-partitioned by project;
4. **namespace** the root namespace's registry bytes (one GraphQL request,
   :func:`cachecost.collect.gitlab.graphql.namespace_registry_usage`).

The group folder holds ``catalog.parquet`` (one row per project: builder and strategy
detected, the note saying what the strategy is modelled as when the builder is not one the
model names (:func:`strategy_note`), images, pipelines, jobs, registry bytes, fetched-at, error) and
``group.json`` (the group, the instance, the namespace's registry bytes, the round).
``group_state.json`` makes it resumable: a run that stops (Ctrl-C, a crash) continues
with the projects not yet done in the same round; a project that fails (403, a
dropped connection after the retries) is reported, recorded and skipped, the others
are fetched, and the round stays open, so the same command again fetches (or detects)
only the failed ones. A round that ends with no failure is closed: the next run lists
the group again and refreshes every project (incrementally). Each project gets a fresh client, so one project's failure does not abort
the next. Rate limits: python-gitlab retries 429 after ``Retry-After`` and the client
pauses when ``RateLimit-Remaining`` runs low (:class:`~cachecost.collect.gitlab.client.RateLimitGuard`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from tqdm import tqdm

from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import ApiError, GitlabClient, connect
from cachecost.collect.gitlab.graphql import GraphqlUnavailable, namespace_registry_usage
from cachecost.collect.gitlab.repository import read_file
from cachecost.collect.mapping import shows_no_build
from cachecost.config import default_data_dir, removed_on_failure
from cachecost.dataset.io import GROUP_FILE, atomic_path
from cachecost.errors import CachecostError

CATALOG_FILE = "catalog.parquet"
STATE_FILE = "group_state.json"
#: the most requests :func:`scan_project` makes for one project
DETECT_REQUESTS_MAX = 3
_FDO_TEMPLATE = re.compile(r"\.fdo\.(?:container-build|qemu-build)@|freedesktop/ci-templates")
_LOCAL_INCLUDE = re.compile(r"^\s*-?\s*local:\s*['\"]?/?([^'\"\s]+)", re.MULTILINE)

#: builder, then strategy: the first pattern that matches the CI text wins
_BUILDER_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ci-templates", _FDO_TEMPLATE),
    ("kaniko", re.compile(r"/kaniko/executor|kaniko-project/executor")),
    ("buildah", re.compile(r"\bbuildah\s+(?:bud|build)\b")),
    ("buildkit", re.compile(r"\bbuildctl(?:-daemonless\.sh)?\s+build\b|\bdocker\s+buildx\b")),
    ("dind", re.compile(r"\bdocker\s+build\b|docker:[\w.-]*dind")),
)


def project_key(path: str) -> str:
    """The hive partition value of a project: its path with ``/`` as ``~``."""
    return path.strip("/").replace("/", "~")


def project_dir(group_dir: Path, path: str) -> Path:
    """``<group dir>/project=<key>``: where one project's dataset lives."""
    return group_dir / f"project={project_key(path)}"


def detect_builder(ci_text: str) -> tuple[str | None, str | None]:
    """``(builder, strategy)`` a CI configuration shows, each None when it shows none.

    Builders: ``ci-templates`` (freedesktop's templates: buildah underneath, rebuilt
    only when ``FDO_DISTRIBUTION_TAG`` changes, so strategy ``rebuild-on-change``),
    ``kaniko`` (``--cache=true``: ``kaniko-cache-repo``), ``buildah`` (``--layers`` with
    ``--cache-to``/``--cache-from REPO``: one cache image per step, tagged by a key of the
    step and those before it, pushed to and pulled from a registry repository (buildah
    build(1); containers/buildah discussion 6657), the mechanics of kaniko's
    ``--cache-repo``, so modelled as ``kaniko-cache-repo``; without them the layers stay on
    the runner, which a fresh CI runner does not keep: ``no-cache``; see
    :func:`strategy_note`), ``buildkit`` (``--cache-to type=registry``, ``mode=max``
    or min), ``dind`` (``--cache-from``: ``dind-inline-cache``). A builder without its
    cache flags: ``no-cache``. The strategy names are the model's
    (:data:`cachecost.model.strategies.STRATEGY_NAMES`).
    """
    builder = next((name for name, rx in _BUILDER_RULES if rx.search(ci_text)), None)
    if builder is None:
        return None, None
    if builder == "ci-templates":
        return builder, "rebuild-on-change"
    if builder == "kaniko":
        # --cache is a boolean flag (kaniko cmd/executor/cmd/root.go): --cache, --cache=true
        # (any strconv.ParseBool truth); not --cache=false, --cache-dir, --cache-repo...
        return builder, "kaniko-cache-repo" if re.search(
            r"--cache(?:=(?i:true|t|1))?(?![\w=-])", ci_text) else "no-cache"
    if builder == "buildah":
        return builder, ("kaniko-cache-repo" if re.search(r"--cache-(?:to|from)\b", ci_text)
                         else "no-cache")
    if "type=registry" in ci_text:
        return builder, ("buildkit-registry-cache-max" if "mode=max" in ci_text
                         else "buildkit-registry-cache-min")
    return builder, "dind-inline-cache" if "--cache-from" in ci_text else "no-cache"


#: (builder, strategy) -> how the model stands in for a builder it does not model itself
_MODELLED_AS = {
    ("buildah", "kaniko-cache-repo"):
        "buildah --layers with --cache-to/--cache-from: one cache image per build step in a "
        "registry repository, modelled as kaniko-cache-repo (the same mechanics; kaniko's "
        "own flags and its upstream archival are not this project's)",
    ("buildah", "no-cache"):
        "buildah without --cache-to/--cache-from: its layers stay on the runner, which a "
        "fresh CI runner does not keep, modelled as no-cache",
    ("ci-templates", "rebuild-on-change"):
        "freedesktop ci-templates (buildah underneath) rebuild an image only when "
        "FDO_DISTRIBUTION_TAG changes, modelled as rebuild-on-change",
}


def strategy_note(builder: str | None, strategy: str | None) -> str | None:
    """One sentence when the strategy detected stands in for a builder the model does not
    model by name (buildah as kaniko-cache-repo or no-cache, ci-templates as
    rebuild-on-change), saying it is modelled as that; None when the strategy is the
    builder's own (dind, kaniko, BuildKit) or nothing was detected."""
    return _MODELLED_AS.get((builder or "", strategy or ""))


@dataclass
class ProjectScan:
    """What the detection learned about one project (a row of the catalog)."""

    project_id: int
    project_path: str
    default_branch: str | None
    builds_images: bool = False
    registry_has_repositories: bool = False
    builder: str | None = None
    strategy: str | None = None
    strategy_note: str | None = None     # :func:`strategy_note`
    detect_requests: int = 0
    status: str = "pending"          # pending, done, failed, skipped (builds none)
    error: str | None = None
    fetched_at: str | None = None
    images: int = 0
    pipelines: int = 0
    jobs: int = 0
    registry_bytes: int | None = None

    @property
    def reason(self) -> str:
        """The error's first words (``HTTP 403``), for one-line lists."""
        return (self.error or "").split(":", 1)[0]


def list_group_projects(client: GitlabClient, group: str, *, include_subgroups: bool
                        ) -> list[dict]:
    """Every project of ``group`` (id or full path), by id; 404/403 raise one line."""
    params = {"include_subgroups": "true" if include_subgroups else "false",
              "order_by": "id", "sort": "asc", "archived": "false"}
    out: list[dict] = []
    try:
        for items, _ in client.iter_pages(f"/groups/{quote(group, safe='')}/projects", params,
                                          what=f"the projects of group {group}"):
            out.extend(items)
    except ApiError as exc:
        raise CachecostError(f"--group {group}: GitLab answered HTTP {exc.status} "
                             "(no such group, or not visible to this token)") from None
    return out


def _ci_path(item: dict) -> str | None:
    """The project's CI file path (None: kept in another project, not readable here)."""
    path = item.get("ci_config_path") or ".gitlab-ci.yml"
    return None if "@" in path or path.startswith(("http://", "https://")) else path


def _shows_build(text: str) -> bool:
    return bool(text.strip()) and (not shows_no_build(text) or bool(_FDO_TEMPLATE.search(text)))


def scan_project(client: GitlabClient, item: dict) -> ProjectScan:
    """Detect whether a listed project builds images (at most :data:`DETECT_REQUESTS_MAX`
    requests). Raises :class:`ApiError` when the project itself is refused (403)."""
    scan = ProjectScan(int(item["id"]), item["path_with_namespace"], item.get("default_branch"))
    pid = scan.project_id
    if item.get("container_registry_access_level", "enabled") != "disabled":
        scan.detect_requests += 1
        try:
            repos = client.get_json(f"/projects/{pid}/registry/repositories", {"per_page": 1},
                                    what=f"the registry of {scan.project_path}", attempts=3)
            scan.registry_has_repositories = bool(repos)
        except ApiError as exc:      # registry off (404) or private to members (403)
            if exc.status not in (403, 404):
                raise
    texts: list[str] = []
    path = _ci_path(item)
    if path and scan.default_branch:
        scan.detect_requests += 1
        text = read_file(client, pid, path, scan.default_branch) or ""
        texts.append(text)
        local = _LOCAL_INCLUDE.search(text)
        if local and not _shows_build(text):
            scan.detect_requests += 1
            texts.append(read_file(client, pid, local.group(1), scan.default_branch) or "")
    ci = "\n".join(texts)
    scan.builder, scan.strategy = detect_builder(ci)
    scan.strategy_note = strategy_note(scan.builder, scan.strategy)
    scan.builds_images = scan.registry_has_repositories or _shows_build(ci)
    if not scan.builds_images:
        scan.status = "skipped"
    return scan


# --------------------------------------------------------------------------- state


def _write_json(path: Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class GroupFetchResult:
    """What a group fetch did: the scans (catalog rows) and the request counts."""

    group_dir: Path
    group: str
    scans: list[ProjectScan] = field(default_factory=list)
    listing_requests: int = 0
    namespace_note: str = ""
    resumed: int = 0

    def failed(self) -> list[ProjectScan]:
        """The projects that could not be fetched."""
        return [s for s in self.scans if s.status == "failed"]

    def summary(self) -> str:
        """One paragraph for the terminal."""
        building = [s for s in self.scans if s.builds_images]
        done = [s for s in building if s.status == "done"]
        detect = [s.detect_requests for s in self.scans if not s.builds_images]
        failed = self.failed()
        return (f"Group {self.group}: {len(self.scans)} projects listed, {len(building)} build "
                f"container images, {len(done)} fetched into {self.group_dir}"
                + (f" ({self.resumed} already done in this round)" if self.resumed else "")
                + f"; {max(detect, default=0)} requests at most per project that builds none. "
                + (f"Not fetched: {'; '.join(f'{s.project_path} ({s.reason})' for s in failed)}. "
                   "Run the same command again to retry them. " if failed else "")
                + self.namespace_note)


def _catalog_frame(scans: list[ProjectScan]) -> pd.DataFrame:
    df = pd.DataFrame([asdict(s) for s in scans])
    df.insert(0, "project", [project_key(s.project_path) for s in scans])
    df["registry_bytes"] = df["registry_bytes"].astype("Int64")
    return df


def _write_catalog(group_dir: Path, scans: list[ProjectScan]) -> None:
    with atomic_path(group_dir / CATALOG_FILE) as tmp:
        _catalog_frame(scans).to_parquet(tmp, index=False)


def _fill_from_dataset(scan: ProjectScan, data_dir: Path) -> None:
    """Images, pipelines, jobs and registry bytes from the project's fetched metadata."""
    md = json.loads((data_dir / "metadata.json").read_text(encoding="utf-8"))
    jobs = pd.read_parquet(data_dir / "jobs.parquet", columns=["image", "is_container_build"])
    scan.images = int(jobs.loc[jobs["is_container_build"], "image"].nunique())
    scan.jobs = len(jobs)
    scan.pipelines = len(pd.read_parquet(data_dir / "pipelines.parquet", columns=["pipeline_id"]))
    size = md.get("container_registry_size_bytes")
    scan.registry_bytes = None if size is None else int(size)
    scan.fetched_at = md.get("fetched_at")


class _Round:
    """``group_state.json``: the round's scans; projects done are not fetched again."""

    def __init__(self, group_dir: Path, group: str, url: str) -> None:
        self.path = group_dir / STATE_FILE
        self.state: dict[str, Any] = {"group": group, "instance_url": url, "round": 1,
                                      "complete": True, "scans": []}
        if self.path.is_file():
            try:
                self.state = json.loads(self.path.read_text(encoding="utf-8"))
            except ValueError:
                raise CachecostError(f"{self.path}: not valid JSON; remove it to start over") \
                    from None
            if self.state.get("group") != group or self.state.get("instance_url") != url:
                raise CachecostError(f"{group_dir}: holds group {self.state.get('group')} of "
                                     f"{self.state.get('instance_url')}; choose another --data")

    def open_scans(self) -> list[ProjectScan] | None:
        """The unfinished round's scans (resume), or None (start a new round)."""
        if self.state.get("complete", True):
            return None
        return [ProjectScan(**s) for s in self.state["scans"]]

    def save(self, scans: list[ProjectScan], *, complete: bool) -> None:
        self.state["scans"] = [asdict(s) for s in scans]
        self.state["complete"] = complete
        _write_json(self.path, self.state)

    def start(self, scans: list[ProjectScan]) -> None:
        if self.state.get("scans"):
            self.state["round"] = int(self.state.get("round", 0)) + 1
        self.save(scans, complete=False)


def fetch_group(connect_client: Callable[[], GitlabClient], group: str, group_dir: Path, *,
                include_subgroups: bool = False, options: FetchOptions | None = None,
                show_progress: bool = False) -> GroupFetchResult:
    """List, detect, fetch and measure (see the module doc); return what was done.

    ``connect_client`` makes a new client (one for the listing and one per project).
    Raises :class:`CachecostError` when the group cannot be listed; a project's own
    failure is recorded in its scan, not raised.
    """
    options = options or FetchOptions()
    group = group.strip("/")
    # a run that fails before the round is written (unknown group, refused listing)
    # leaves no folder behind
    with removed_on_failure(group_dir, keep=lambda: (group_dir / STATE_FILE).is_file()):
        group_dir.mkdir(parents=True, exist_ok=True)
        return _fetch_group(connect_client, group, group_dir, include_subgroups, options,
                            show_progress)


def _fetch_group(connect_client: Callable[[], GitlabClient], group: str, group_dir: Path,
                 include_subgroups: bool, options: FetchOptions, show_progress: bool
                 ) -> GroupFetchResult:
    lister = connect_client()
    try:
        rnd = _Round(group_dir, group, lister.url)
        scans = rnd.open_scans()
        result = GroupFetchResult(group_dir, group)
        if scans is None:
            items = list_group_projects(lister, group, include_subgroups=include_subgroups)
            result.listing_requests = lister.requests
            scans = _detect_all(lister, items, show_progress)
            rnd.start(scans)
        else:
            result.resumed = sum(s.status == "done" for s in scans)
            scans = _rescan_failed(lister, scans)
        result.scans = scans
        _fetch_building(connect_client, scans, group_dir, options, rnd, show_progress)
        result.namespace_note = _namespace(lister, group, group_dir)
    finally:
        lister.close()
    _write_catalog(group_dir, scans)
    # a round with failures stays open: the next run retries those projects only
    rnd.save(scans, complete=not result.failed())
    return result


def _rescan_failed(client: GitlabClient, scans: list[ProjectScan]) -> list[ProjectScan]:
    """Detect again the projects whose detection failed (a 403, a dropped connection)."""
    items = [{"id": s.project_id, "path_with_namespace": s.project_path,
              "default_branch": s.default_branch}
             for s in scans if s.status == "failed" and not s.builds_images]
    again = {s.project_id: s for s in _detect_all(client, items, False)}
    return [again.get(s.project_id, s) for s in scans]


def _detect_all(client: GitlabClient, items: list[dict], show_progress: bool
                ) -> list[ProjectScan]:
    scans = []
    for item in tqdm(items, desc="detect", unit="project", file=sys.stderr, leave=False,
                     disable=not show_progress):
        before = client.requests
        try:
            scans.append(scan_project(client, item))
        except ApiError as exc:
            scan = ProjectScan(int(item["id"]), item["path_with_namespace"],
                               item.get("default_branch"), status="failed",
                               error=f"HTTP {exc.status}: {exc}")
            scans.append(scan)
        scans[-1].detect_requests = client.requests - before
    return scans


def _fetch_building(connect_client: Callable[[], GitlabClient], scans: list[ProjectScan],
                    group_dir: Path, options: FetchOptions, rnd: _Round,
                    show_progress: bool) -> None:
    todo = [s for s in scans if s.builds_images and s.status != "done"]
    project_options = FetchOptions(**{**asdict(options), "show_progress": False})
    bar = tqdm(total=sum(s.builds_images for s in scans), initial=sum(
        s.builds_images and s.status == "done" for s in scans), desc="projects",
        unit="project", file=sys.stderr, disable=not show_progress, dynamic_ncols=True)
    with bar:
        for scan in todo:
            bar.set_postfix_str(scan.project_path, refresh=True)
            target = project_dir(group_dir, scan.project_path)
            client = connect_client()
            try:
                fetch_project_history(client, scan.project_path, target, project_options)
                _fill_from_dataset(scan, target)
                scan.status, scan.error = "done", None
            except CachecostError as exc:
                scan.status, scan.error = "failed", str(exc).splitlines()[0][:300]
            finally:
                client.close()
            rnd.save(scans, complete=False)
            _write_catalog(group_dir, scans)
            bar.update(1)


def _namespace(client: GitlabClient, group: str, group_dir: Path) -> str:
    """Read the root namespace's registry bytes into ``group.json``; return a note."""
    root = group.split("/", 1)[0]
    meta: dict[str, Any] = {"group": group, "root_namespace": root,
                            "instance_url": client.url, "fetched_at": _now(),
                            "is_synthetic": client.is_synthetic,
                            "layout": "project=<path with / as ~>/<table>.parquet"}
    try:
        usage = namespace_registry_usage(client, root)
        meta["namespace_container_registry_size_bytes"] = usage.container_registry_size_bytes
        meta["namespace_registry_is_estimated"] = usage.is_estimated
        note = (f"Root namespace {root}: {usage.container_registry_size_bytes / 2**30:.1f} GiB "
                "of registry as GitLab counts it.")
    except GraphqlUnavailable as exc:
        meta["namespace_container_registry_size_bytes"] = None
        meta["namespace_note"] = str(exc)
        note = f"Root namespace registry not read: {exc}."
    _write_json(group_dir / GROUP_FILE, meta)
    return note


def read_group_meta(group_dir: Path) -> dict[str, Any]:
    """``group.json`` of a fetched group folder; one-line error when it is not one."""
    path = Path(group_dir) / GROUP_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):   # a file given as the group folder
        raise CachecostError(f"{group_dir}: not a fetched group (no {GROUP_FILE}); run "
                             "cachecost fetch --group first") from None
    except OSError as exc:
        raise CachecostError(f"{path}: cannot read it ({exc.strerror})") from None
    except ValueError:
        raise CachecostError(f"{path}: not valid JSON") from None
    if not isinstance(meta, dict):
        raise CachecostError(f"{path}: not a JSON object (a group folder's group.json is one)")
    if not isinstance(meta.get("group"), str) or not meta["group"]:
        raise CachecostError(f"{path}: names no group (its \"group\" key); run cachecost "
                             "fetch --group again")
    return meta



def run_group_fetch(url: str | None, group: str, *, data_dir: str | Path | None = None,
                    gitlab_config: str | None = None, include_subgroups: bool = False,
                    options: FetchOptions | None = None, show_progress: bool = False,
                    environ: dict[str, str] | None = None) -> GroupFetchResult:
    """Resolve credentials and fetch the group (what ``cachecost fetch --group`` runs).

    Default folder: ``data/raw/<host>[_<port>]/<group path>/``. The token comes from
    the environment or python-gitlab's config file only.
    """
    if not group.strip("/"):
        raise CachecostError("--group: give a group path, e.g. freedesktop")

    def make() -> GitlabClient:
        return connect(url, gitlab_config, environ=environ)

    first = make()                  # credentials checked before any folder is made
    target = Path(data_dir) if data_dir else default_data_dir(first.url, group.strip("/"))
    first.close()
    return fetch_group(make, group, target, include_subgroups=include_subgroups,
                       options=options, show_progress=show_progress)
