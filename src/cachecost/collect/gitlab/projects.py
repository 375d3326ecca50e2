"""The project: its numeric id, whether it has a registry, and its storage statistics.

``GET /projects/:id?statistics=true`` (``statistics`` needs Reporter access;
``container_registry_size`` is the deduplicated registry size GitLab counts).

    info = get_project(client, "qemu-project/qemu")
    info.project_id, info.container_registry_size_bytes
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from cachecost.collect.gitlab.client import GitlabClient


@dataclass(frozen=True)
class ProjectInfo:
    """What the fetch needs to know about the project."""

    project_id: int
    path_with_namespace: str
    is_registry_enabled: bool
    container_registry_size_bytes: int | None   # None when statistics are not visible
    default_branch: str | None = None           # None for an empty repository
    ci_config_path: str | None = None           # None: GitLab's default, .gitlab-ci.yml


def get_project(client: GitlabClient, project_path: str, *, attempts: int | None = None
                ) -> ProjectInfo:
    """Fetch the project (one request); 404, 401, 403 become one-line errors."""
    obj = client.get_json(f"/projects/{quote(project_path, safe='')}", {"statistics": "true"},
                          what=f"project {project_path}", attempts=attempts)
    stats = obj.get("statistics") or {}
    size = stats.get("container_registry_size")
    enabled = obj.get("container_registry_enabled")
    if enabled is None:
        enabled = obj.get("container_registry_access_level", "enabled") != "disabled"
    return ProjectInfo(
        project_id=int(obj["id"]),
        path_with_namespace=obj.get("path_with_namespace", project_path),
        is_registry_enabled=bool(enabled),
        container_registry_size_bytes=None if size is None else int(size),
        default_branch=obj.get("default_branch"),
        ci_config_path=obj.get("ci_config_path") or None,
    )
