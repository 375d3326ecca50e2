"""The stand-in serves a group: subgroups, many projects, one root namespace.

SYNTHETIC: every project, file and figure here is invented, and every answer carries the
stand-in's synthetic header.

:class:`StandinGroup` lays out a root group with subgroups (``fdo``, ``fdo/graphics``,
``fdo/multimedia``, ...) holding

* projects that build container images, one per builder: ``dind`` (``docker build
  --cache-from`` beside a ``docker:dind`` service), ``kaniko`` (``/kaniko/executor
  --cache=true``), ``buildah`` (``buildah bud --layers --cache-to``) and ``ci-templates``
  (freedesktop's ``.fdo.container-build@...`` templates, which rebuild only when the
  image tag changes); each is a full :class:`~cachecost.standin.data.StandinData`
  project (pipelines, jobs, logs, registry) with its own
  :class:`~cachecost.standin.extra.ExtraData` (repository, forks);
* projects that build none: a ``.gitlab-ci.yml`` that compiles and tests, an empty
  registry;
* one project whose every route answers 403 (listed, but not readable by the token),
  whose registry bytes still count in the namespace, as GitLab counts them.

:class:`GroupStandinServer` is a :class:`~cachecost.standin.server.StandinServer`
whose ``data`` and ``extra`` are chosen per request (the project named in the path);
the group routes are GitLab's (``api/groups.md``):

* ``GET /groups/:id`` (id or URL-encoded full path): ``{id, name, path, full_path,
  parent_id, visibility, web_url, ...}``;
* ``GET /groups/:id/projects?include_subgroups=true``: project objects (the fields of
  gitlabhq ``spec/fixtures/api/schemas/public_api/v4/projects.json`` plus ``namespace``
  and ``container_registry_access_level``), offset pagination, or keyset with
  ``pagination=keyset&order_by=id`` (a ``Link: rel="next"`` with ``id_after``);
* ``POST /api/graphql``: ``namespace(fullPath:) { rootStorageStatistics {
  containerRegistrySize containerRegistrySizeIsEstimated } }`` for the root group:
  the sum over every project of the namespace (the 403 one included).

    group = StandinGroup.build(non_building=6)
    with start_group_standin(group, tokens={"t": {"read_api"}}) as srv:
        ...   # cachecost fetch --group fdo --include-subgroups --url srv.url
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import quote, urlencode

import pandas as pd

from cachecost.dataset.io import Dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.standin.data import REGISTRY_HOST, StandinData
from cachecost.standin.extra import ExtraData, Pager, Reply
from cachecost.standin.server import Faults, StandinServer

WEB = "https://gitlab.standin.example"
GROUP_ID_BASE = 7_700_000
PROJECT_ID_BASE = 50_000_000
#: each building project's registry repository ids start at a multiple of this
REPOSITORY_ID_STRIDE = 100_000
#: the forbidden project's registry: counted by the namespace, invisible to the token
FORBIDDEN_REGISTRY_BYTES = 3 * 2**30
CI_FILE = ".gitlab-ci.yml"
BUILDERS = ("dind", "kaniko", "buildah", "ci-templates")

#: the ``.gitlab-ci.yml`` of a project per builder (what real projects of each kind write)
CI_TEMPLATES: dict[str | None, str] = {
    "dind": (
        "stages: [containers, build]\n"
        "container-image:\n  stage: containers\n  image: docker:27\n"
        "  services: [docker:27-dind]\n  script:\n"
        "    - docker build --build-arg BUILDKIT_INLINE_CACHE=1 --cache-from "
        "$CI_REGISTRY_IMAGE:latest -t $CI_REGISTRY_IMAGE:latest .\n"
        "    - docker push $CI_REGISTRY_IMAGE:latest\n"),
    "kaniko": (
        "stages: [containers, build]\n"
        "container-image:\n  stage: containers\n"
        "  image: {name: gcr.io/kaniko-project/executor:debug, entrypoint: ['']}\n"
        "  script:\n    - /kaniko/executor --context $CI_PROJECT_DIR --cache=true "
        "--cache-repo $CI_REGISTRY_IMAGE/cache --destination $CI_REGISTRY_IMAGE:latest\n"),
    "buildah": (
        "stages: [containers, build]\n"
        "container-image:\n  stage: containers\n  image: quay.io/buildah/stable\n"
        "  script:\n    - buildah bud --layers --cache-from $CI_REGISTRY_IMAGE/cache "
        "--cache-to $CI_REGISTRY_IMAGE/cache -t $CI_REGISTRY_IMAGE:latest .\n"
        "    - buildah push $CI_REGISTRY_IMAGE:latest\n"),
    "ci-templates": (
        "include:\n  - project: freedesktop/ci-templates\n    ref: 0000000000\n"
        "    file: /templates/debian.yml\n"
        "stages: [containers, build]\n"
        "variables:\n  FDO_DISTRIBUTION_VERSION: 'bookworm'\n"
        "  FDO_DISTRIBUTION_TAG: '2025-08-01.0'\n"
        "container-image:\n  stage: containers\n  extends: .fdo.container-build@debian\n"),
    None: (
        "stages: [build, test]\n"
        "build:\n  stage: build\n  image: debian:bookworm\n"
        "  script: [meson setup _build, ninja -C _build]\n"
        "test:\n  stage: test\n  image: debian:bookworm\n  script: [meson test -C _build]\n"),
}


@dataclass
class GroupProject:
    """One project of the group; ``data`` and ``extra`` only for a building project."""

    project_id: int
    path_with_namespace: str
    builder: str | None = None
    is_forbidden: bool = False
    data: StandinData | None = None
    extra: ExtraData | None = None

    @property
    def namespace_path(self) -> str:
        """The (sub)group holding the project."""
        return self.path_with_namespace.rsplit("/", 1)[0]

    @property
    def registry_bytes(self) -> int:
        """Deduplicated registry bytes GitLab counts for this project."""
        if self.is_forbidden:
            return FORBIDDEN_REGISTRY_BYTES
        return 0 if self.data is None else self.data.container_registry_size_bytes()


def _rebased_dataset(ds: Dataset, project_path: str, repo_base: int, scale: float) -> Dataset:
    """``ds`` with registry repositories renumbered from ``repo_base``, under ``project_path``,
    and their sizes times ``scale`` (projects of a group differ in size)."""
    repos = ds.registry_repositories.copy()
    tags = ds.registry_tags.copy()
    old = dict(zip(repos["repository_id"], range(len(repos)), strict=True))
    repos["repository_id"] = [repo_base + old[r] for r in repos["repository_id"]]
    tags["repository_id"] = [repo_base + old[r] for r in tags["repository_id"]]
    # the image's own name under the project: the sample's QEMU prefix ("qemu/alpine")
    # would put QEMU's name on a group project's pages
    repos["name"] = [p.rsplit("/", 1)[-1] for p in repos["path"]]
    repos["path"] = [f"{project_path}/{name}" for name in repos["name"]]
    repos["size_bytes"] = (repos["size_bytes"] * scale).round()
    tags["total_size_bytes"] = (tags["total_size_bytes"] * scale).round()
    return Dataset(ds.path, dict(ds.metadata), ds.pipelines, ds.jobs, repos, tags)


@dataclass
class StandinGroup:
    """A root group, its subgroups and projects (see the module doc)."""

    root: str = "fdo"
    subgroups: tuple[str, ...] = ("graphics", "multimedia")
    projects: list[GroupProject] = field(default_factory=list)

    @classmethod
    def build(cls, *, non_building: int = 6, building: int = len(BUILDERS), days: int = 3,
              root: str = "fdo", forbidden: bool = True) -> StandinGroup:
        """A group with ``building`` image-building projects (builders in turn),
        ``non_building`` others and (``forbidden``) one that answers 403.

        Each building project is a generated sample of ``days`` days (seed per project).
        """
        group = cls(root=root)
        spaces = [root] + [f"{root}/{s}" for s in group.subgroups]
        pid = PROJECT_ID_BASE
        for i in range(building):
            builder = BUILDERS[i % len(BUILDERS)]
            path = f"{spaces[i % len(spaces)]}/{builder}-app{i // len(BUILDERS) or ''}"
            ds = generate_sample(SampleSettings(days=days, seed=20240516 + i))
            ds = _rebased_dataset(ds, path, 4_200_000 + REPOSITORY_ID_STRIDE * (i + 1),
                                  scale=0.4 + 0.3 * i)
            data = StandinData(ds, project_path=path, project_id=pid)
            extra = ExtraData(data, forks=3, active_forks=1)
            extra.files[CI_FILE] = CI_TEMPLATES[builder]
            group.projects.append(GroupProject(pid, path, builder, data=data, extra=extra))
            pid += 1
        for i in range(non_building):
            path = f"{spaces[(i + 1) % len(spaces)]}/tool{i}"
            group.projects.append(GroupProject(pid, path))
            pid += 1
        if forbidden:
            group.projects.append(GroupProject(pid, f"{spaces[-1]}/private-infra",
                                               is_forbidden=True))
        return group

    # ------------------------------------------------------------------ the truth
    def building_projects(self) -> list[GroupProject]:
        """The projects that build container images."""
        return [p for p in self.projects if p.data is not None]

    def namespace_registry_size_bytes(self) -> int:
        """``rootStorageStatistics.containerRegistrySize``: every project's registry."""
        return sum(p.registry_bytes for p in self.projects)

    def group_ids(self) -> dict[str, int]:
        """Full path -> group id (the root first)."""
        spaces = [self.root] + [f"{self.root}/{s}" for s in self.subgroups]
        return {s: GROUP_ID_BASE + k for k, s in enumerate(spaces)}

    def find(self, ident: str) -> GroupProject | None:
        """The project with this id or full path."""
        return next((p for p in self.projects
                     if ident in (str(p.project_id), p.path_with_namespace)), None)

    # ------------------------------------------------------------------ API objects
    def group_json(self, full_path: str) -> dict:
        """``GET /groups/:id``."""
        ids = self.group_ids()
        parent = full_path.rsplit("/", 1)[0] if "/" in full_path else None
        return {"id": ids[full_path], "name": full_path.rsplit("/", 1)[-1],
                "path": full_path.rsplit("/", 1)[-1], "full_name": full_path.replace("/", " / "),
                "full_path": full_path, "description": "", "visibility": "public",
                "parent_id": None if parent is None else ids[parent],
                "web_url": f"{WEB}/groups/{full_path}", "avatar_url": None,
                "created_at": "2019-01-01T00:00:00.000Z"}

    def project_json(self, p: GroupProject, *, statistics: bool = False) -> dict:
        """A project object as ``GET /projects/:id`` and the group listing return it."""
        if p.data is not None:
            obj = p.data.project_json(statistics=statistics)
        else:
            path = p.path_with_namespace
            obj = {"id": p.project_id, "description": None, "name": path.rsplit("/", 1)[-1],
                   "name_with_namespace": path.replace("/", " / "),
                   "path": path.rsplit("/", 1)[-1], "path_with_namespace": path,
                   "created_at": "2020-01-01T00:00:00.000Z", "default_branch": "main",
                   "tag_list": [], "topics": [],
                   "ssh_url_to_repo": f"git@gitlab.standin.example:{path}.git",
                   "http_url_to_repo": f"{WEB}/{path}.git", "web_url": f"{WEB}/{path}",
                   "avatar_url": None, "star_count": 0, "forks_count": 0,
                   "last_activity_at": "2025-08-20T00:00:00.000Z",
                   "container_registry_enabled": True,
                   "container_registry_access_level": "enabled",
                   "container_registry_image_prefix": f"{REGISTRY_HOST}/{path}",
                   "jobs_enabled": True, "visibility": "public"}
            if statistics:
                obj["statistics"] = {"container_registry_size": 0, "repository_size": 1_000_000,
                                     "job_artifacts_size": 0, "storage_size": 1_000_000}
        ns = p.namespace_path
        obj["namespace"] = {"id": self.group_ids()[ns], "name": ns.rsplit("/", 1)[-1],
                            "path": ns.rsplit("/", 1)[-1], "kind": "group", "full_path": ns,
                            "parent_id": None if "/" not in ns
                            else self.group_ids()[ns.rsplit("/", 1)[0]],
                            "avatar_url": None, "web_url": f"{WEB}/groups/{ns}"}
        return obj

    def ci_file(self, p: GroupProject) -> str:
        """The project's ``.gitlab-ci.yml``."""
        return CI_TEMPLATES[p.builder]


def _file_item(path: str, text: str, ref: str) -> dict:
    raw = text.encode()
    sha = hashlib.sha1(raw).hexdigest()
    return {"file_name": path.rsplit("/", 1)[-1], "file_path": path, "size": len(raw),
            "encoding": "base64", "content_sha256": hashlib.sha256(raw).hexdigest(),
            "ref": ref, "blob_id": sha, "commit_id": sha, "last_commit_id": sha,
            "execute_filemode": False, "content": base64.b64encode(raw).decode()}


class GroupRouter(ExtraData):
    """The group routes, and per project: pick its data, or answer for a light project."""

    def __init__(self, group: StandinGroup, server: GroupStandinServer) -> None:
        # not ExtraData.__init__: no repository or forks of its own; ``data`` (a project
        # of the group) names the root namespace the GraphQL answer is for
        self.group, self.server = group, server
        first = group.building_projects()[0]
        assert first.data is not None
        self.data, self.refuse = first.data, {}

    def route(self, segs: list[str], q: dict, page: Pager,
              count: Callable[[str], None]) -> Reply | None:
        """Answer group routes and the light projects; select a building project's data."""
        if segs and segs[0] == "groups" and len(segs) >= 2:
            return self._group_route(segs[1], segs[2:], q, page, count)
        if len(segs) < 2 or segs[0] != "projects":
            return None
        p = self.group.find(segs[1])
        if p is None:
            return 404, {"message": "404 Project Not Found"}, {}
        if p.is_forbidden:
            count("group:forbidden")
            return 403, {"message": "403 Forbidden"}, {}
        rest = segs[2:]
        if rest == ["repository", "files", CI_FILE]:
            count("repository/files")
            return 200, _file_item(CI_FILE, self.group.ci_file(p), q.get("ref", "main")), {}
        if p.data is None:
            return self._light_route(p, rest, q, page, count)
        self.server.select(p)
        assert p.extra is not None
        return p.extra.route(segs, q, page, count)

    def _light_route(self, p: GroupProject, rest: list[str], q: dict, page: Pager,
                     count: Callable[[str], None]) -> Reply:
        """A project that builds no image: itself, an empty registry, no other file."""
        if rest == []:
            count("project")
            return 200, self.group.project_json(p, statistics=q.get("statistics", "").lower() in ("true", "1")), {}
        if rest == ["registry", "repositories"]:
            count("registry/repositories")
            return 200, *page([], q)
        if rest[:2] == ["repository", "files"]:
            count("repository/files")
            return 404, {"message": "404 File Not Found"}, {}
        count("light:other")
        return 404, {"message": "404 Not Found"}, {}

    def _group_route(self, ident: str, rest: list[str], q: dict, page: Pager,
                     count: Callable[[str], None]) -> Reply:
        ids = self.group.group_ids()
        full = next((s for s, i in ids.items() if ident in (s, str(i))), None)
        if full is None:
            return 404, {"message": "404 Group Not Found"}, {}
        if rest == []:
            count("group")
            return 200, self.group.group_json(full), {}
        if rest != ["projects"]:
            return 404, {"message": "404 Not Found"}, {}
        count("group/projects")
        deep = q.get("include_subgroups", "").lower() in ("true", "1")
        items = sorted((p for p in self.group.projects
                        if p.namespace_path == full
                        or (deep and p.namespace_path.startswith(full + "/"))),
                       key=lambda p: p.project_id)
        if q.get("pagination") == "keyset":
            return self._keyset(items, q, f"/api/v4/groups/{quote(ident, safe='')}/projects")
        return 200, *page([self._listed(p, q) for p in items], q)

    def _listed(self, p: GroupProject, q: dict) -> dict:
        """A listing item; ``simple=true``: the basic fields only (GitLab's projects.json)."""
        obj = self.group.project_json(p)
        if q.get("simple", "").lower() in ("true", "1"):
            return {k: obj[k] for k in (*listing_keys(), "forks_count")}
        return obj

    def _keyset(self, items: list[GroupProject], q: dict, path: str) -> Reply:
        """Keyset pages ordered by id ascending (GitLab: ``order_by=id``, ``id_after``)."""
        if q.get("order_by", "id") != "id":
            return 400, {"error": "order_by must be id for keyset pagination"}, {}
        try:
            per_page = max(1, min(100, int(q.get("per_page", 20))))
            after = int(q.get("id_after", 0))
        except ValueError:
            return 400, {"error": "per_page or id_after is invalid"}, {}
        rest = [p for p in items if p.project_id > after]
        chunk = rest[:per_page]
        headers = {"X-Per-Page": str(per_page)}
        if len(rest) > per_page:
            keep = {k: v for k, v in q.items() if k != "id_after"}
            query = urlencode({**keep, "id_after": chunk[-1].project_id})
            headers["Link"] = f'<{self.server.url}{path}?{query}>; rel="next"'
        return 200, [self._listed(p, q) for p in chunk], headers

    def namespace_registry_size_bytes(self) -> int:
        """The root namespace's ``containerRegistrySize``: every project of the group.

        :meth:`ExtraData.post` answers the GraphQL query with it, for the root of
        ``self.data`` (any project of the group: they share the root).
        """
        return self.group.namespace_registry_size_bytes()


class _AnyProject:
    """``data`` before a request named its project: the registry route by repository id.

    The server reads ``data`` once at the start of a request, before the router picks
    the project; its id and path are then read from the project picked since.
    """

    def __init__(self, group: StandinGroup, server: GroupStandinServer) -> None:
        self.group, self.server = group, server
        self.registry_mode = "enabled"

    @property
    def project_id(self) -> int:
        """The picked project's id (-1 before one is picked)."""
        data = self.server.data
        return -1 if data is cast(StandinData, self) else data.project_id

    @property
    def project_path(self) -> str:
        """The picked project's path ("" before one is picked)."""
        data = self.server.data
        return "" if data is cast(StandinData, self) else data.project_path

    def clock(self) -> pd.Timestamp:
        """The group's time (the ``Date`` header of a request that names no project yet):
        the latest of its projects' clocks."""
        clocks = [p.data.clock() for p in self.group.building_projects() if p.data is not None]
        return max(clocks) if clocks else pd.Timestamp.now(tz="UTC")

    def repository(self, repo_id: int, *, tags: bool, size: bool) -> dict | None:
        for p in self.group.building_projects():
            assert p.data is not None
            found = p.data.repository(repo_id, tags=tags, size=size)
            if found is not None:
                return found
        return None


class GroupStandinServer(StandinServer):
    """A stand-in whose project is the one the request names (see the module doc)."""

    def __init__(self, group: StandinGroup, *, port: int = 0, faults: Faults | None = None,
                 tokens: dict[str, set[str]] | None = None) -> None:
        self.group = group
        self._local = threading.local()
        self._any = _AnyProject(group, self)
        first = group.building_projects()[0]
        assert first.data is not None
        super().__init__(first.data, port=port, faults=faults, tokens=tokens,
                         extra=GroupRouter(group, self))

    # StandinServer assigns both in __init__; here they follow the request's project
    @property
    def data(self) -> StandinData:
        """The project the current request names (the registry route: any project's)."""
        p = getattr(self._local, "project", None)
        return cast(StandinData, self._any) if p is None else p.data

    @data.setter
    def data(self, value: StandinData) -> None:
        pass

    @property
    def extra(self) -> ExtraData:
        """The group router (it selects the project's data)."""
        return self._router

    @extra.setter
    def extra(self, value: ExtraData) -> None:
        self._router = value

    def enter(self) -> None:
        """A request starts: no project chosen yet."""
        self._local.project = None
        super().enter()

    def select(self, project: GroupProject) -> None:
        """The current request is about ``project``."""
        self._local.project = project

    def start(self) -> GroupStandinServer:
        """Render every building project's jobs, then serve."""
        for p in self.group.building_projects():
            self._local.project = p
            self.data.job_records()
        super().start()               # renders self.data's again: cached
        self._local.project = None
        return self


def start_group_standin(group: StandinGroup, *, port: int = 0, faults: Faults | None = None,
                        tokens: dict[str, set[str]] | None = None) -> GroupStandinServer:
    """Start a group stand-in on 127.0.0.1 in a background thread."""
    return GroupStandinServer(group, port=port, faults=faults, tokens=tokens).start()


def listing_keys() -> tuple[str, ...]:
    """The fields every item of the group projects listing carries (GitLab's projects.json)."""
    return ("id", "name", "name_with_namespace", "description", "path", "path_with_namespace",
            "created_at", "default_branch", "tag_list", "ssh_url_to_repo", "http_url_to_repo",
            "web_url", "avatar_url", "star_count", "last_activity_at")

