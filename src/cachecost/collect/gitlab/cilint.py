"""GitLab's own merge of a project's CI configuration: ``GET /projects/:id/ci/lint``.

``content_ref`` names the commit, branch or tag whose ``.gitlab-ci.yml`` is read (GitLab
docs ``api/lint.md``, "Validate a project's CI configuration"). The answer's
``merged_yaml`` is the configuration after GitLab resolved every ``include`` (local,
project, remote, template) and ``extends``; ``includes`` lists the files it read. The
endpoint needs the Developer role on the project: a token that may not lint (401, 403), a
GitLab without it (404) or a configuration GitLab finds invalid gives None, and the caller
merges the files itself (:mod:`cachecost.collect.ciconfig`).

    merged = merged_ci_config(client, 123, "master")
    if merged is not None: merged.config, merged.local_files
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from cachecost.collect.ciconfig import CiLoader
from cachecost.collect.gitlab.client import GitlabClient
from cachecost.errors import ApiError


@dataclass(frozen=True)
class MergedConfig:
    """GitLab's merged configuration and the local files it was merged from."""

    config: dict
    local_files: tuple[str, ...]


def _plain_keys(value: object) -> object:
    """Older GitLab versions serialise keys as Ruby symbols (``:script:``): drop the colon."""
    if isinstance(value, dict):
        return {(k[1:] if isinstance(k, str) and k.startswith(":") else k): _plain_keys(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_keys(v) for v in value]
    return value


def merged_ci_config(client: GitlabClient, project_id: int, ref: str) -> MergedConfig | None:
    """GitLab's merged CI configuration at ``ref`` (one request), or None (module doc)."""
    try:
        obj = client.get_json(f"/projects/{project_id}/ci/lint", {"content_ref": ref},
                              what=f"the merged CI configuration at {ref}")
    except ApiError:
        return None
    text = obj.get("merged_yaml") if isinstance(obj, dict) and obj.get("valid") else None
    if not isinstance(text, str):
        return None
    try:
        doc = _plain_keys(yaml.load(text, Loader=CiLoader))  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    files = [".gitlab-ci.yml"] + [str(i["location"]).lstrip("/")
                                  for i in obj.get("includes") or []
                                  if isinstance(i, dict) and i.get("type") == "local"
                                  and i.get("location")]
    return MergedConfig(doc, tuple(dict.fromkeys(files)))
