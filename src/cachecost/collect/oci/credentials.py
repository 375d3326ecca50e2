"""Where registry credentials and GitLab registry locations come from.

Never from the command line. In order:

1. ``CACHECOST_REGISTRY_USER`` and ``CACHECOST_REGISTRY_PASSWORD`` (any registry;
   basic auth, or the credentials sent to a bearer realm);
2. for a GitLab project (``--project``), the GitLab token ``cachecost fetch``
   uses (:func:`cachecost.collect.gitlab.client.resolve_credentials`: ``--gitlab-config
   SECTION`` of python-gitlab's config file, ``GITLAB_TOKEN`` /
   ``GITLAB_PRIVATE_TOKEN``, or the config section whose url is ``--url``).
   The registry's bearer realm (``<gitlab>/jwt/auth``) gets the token's owner
   as username and the token as password, as ``docker login`` would.

    creds = credentials_from_env()           # None when the variables are unset
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cachecost.collect.oci.client import Credentials
from cachecost.errors import CachecostError

USER_VAR = "CACHECOST_REGISTRY_USER"
PASSWORD_VAR = "CACHECOST_REGISTRY_PASSWORD"


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Return credentials from ``CACHECOST_REGISTRY_USER``/``_PASSWORD``, None if both unset."""
    env = os.environ if environ is None else environ
    user, password = env.get(USER_VAR), env.get(PASSWORD_VAR)
    if not user and not password:
        return None
    if not user or not password:
        missing = USER_VAR if not user else PASSWORD_VAR
        raise CachecostError(f"registry credentials: {missing} is not set (set both or neither)")
    return Credentials(user, password, source=f"{USER_VAR}/{PASSWORD_VAR}")


@dataclass(frozen=True)
class GitLabRegistry:
    """A GitLab project's registry: its URL, repository paths and login."""

    registry_url: str
    repositories: tuple[str, ...]
    credentials: Credentials | None


def locate_gitlab_registry(
    project: str, *, url: str | None = None, section: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> GitLabRegistry:
    """Find ``project``'s registry repositories and the login for its bearer realm.

    ``url`` and ``section`` resolve the GitLab token exactly as ``cachecost fetch``
    does (:func:`cachecost.collect.gitlab.client.resolve_credentials`).

    Raises:
        CachecostError: no credentials, 401, unknown project, registry disabled,
            a URL that is not GitLab, unreachable GitLab (one line each).
    """
    from cachecost.collect.gitlab.client import connect
    from cachecost.collect.gitlab.projects import get_project
    from cachecost.collect.gitlab.registry import list_repositories
    from cachecost.errors import RegistryUnavailable

    # cachecost fetch's client: the same retry policy, and one true line for a server
    # that is not GitLab, a project that is not there and a registry that is off
    client = connect(url, section, environ=os.environ if environ is None else environ)
    where = f"GitLab {client.url} project {project}"
    try:
        info = get_project(client, project, attempts=2)
        if not info.is_registry_enabled:
            raise CachecostError(f"{where}: its container registry is disabled")
        try:
            repos = list_repositories(client, info.project_id)
        except RegistryUnavailable as exc:
            raise CachecostError(f"{where}: {exc}") from None
        user = client.get_json("/user", what="the token's user (GET /user)")
        if not isinstance(user, dict) or not user.get("username"):
            raise CachecostError(f"{where}: GET /user did not name the token's user")
        login = Credentials(user["username"], client.credentials.token,
                            source=client.credentials.origin)
    finally:
        client.close()
    locations = [r["location"] for r in repos if r.get("location")]
    if not locations:
        raise CachecostError(f"{where}: has no container registry repositories")
    host = locations[0].split("/", 1)[0]
    paths = tuple(loc.split("/", 1)[1] for loc in locations if "/" in loc)
    return GitLabRegistry(registry_url=host, repositories=paths, credentials=login)
