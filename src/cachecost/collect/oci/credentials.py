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
        CachecostError: no credentials, 401, unknown project, unreachable GitLab.
    """
    import gitlab
    import requests

    from cachecost.collect.gitlab.client import resolve_credentials
    from cachecost.collect.retry import DEFAULT_POLICY as policy

    found = resolve_credentials(url, section, os.environ if environ is None else environ)
    gl = gitlab.Gitlab(found.url, private_token=found.token, retry_transient_errors=True,
                       timeout=policy.read_timeout_s)
    where = f"GitLab {gl.url} project {project}"
    try:
        repos = gl.projects.get(project, lazy=True).repositories.list(
            get_all=True, max_retries=policy.max_retries)
        user = gl.http_get("/user", max_retries=policy.max_retries)
        if not isinstance(user, dict) or not user.get("username"):
            raise CachecostError(f"{where}: GET /user did not name the token's user")
        login = Credentials(user["username"], found.token, source=found.origin)
    except gitlab.GitlabAuthenticationError:
        raise CachecostError(f"{where}: 401 Unauthorized (bad or expired token)") from None
    except gitlab.GitlabError as exc:
        code = getattr(exc, "response_code", None)
        if code == 404:
            raise CachecostError(f"{where}: not found, or its registry is disabled") from None
        raise CachecostError(f"{where}: HTTP {code or '?'}") from None
    except requests.RequestException as exc:
        raise CachecostError(f"{where}: unreachable ({type(exc).__name__})") from None
    locations = [r.location for r in repos if getattr(r, "location", None)]
    if not locations:
        raise CachecostError(f"{where}: has no container registry repositories")
    host = locations[0].split("/", 1)[0]
    paths = tuple(loc.split("/", 1)[1] for loc in locations if "/" in loc)
    return GitLabRegistry(registry_url=host, repositories=paths, credentials=login)
