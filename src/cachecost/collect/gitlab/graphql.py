"""GraphQL: the root namespace's storage statistics, through python-gitlab's GraphQL client.

``namespace(fullPath:) { rootStorageStatistics { containerRegistrySize
containerRegistrySizeIsEstimated } }`` is the registry figure GitLab counts against
the namespace's storage quota: every project of the root namespace, each layer once
(GitLab docs ``api/graphql/reference``, type ``RootStorageStatistics``; MR !86566
added the column, issue 385390 the ``IsEstimated`` flag). Only the namespace's owners
see it: for anyone else GitLab answers ``rootStorageStatistics: null``.

python-gitlab's :class:`gitlab.GraphQL` needs the ``gql`` package
(``python-gitlab[graphql]``, declared in ``pyproject.toml``).

    usage = namespace_registry_usage(client, "qemu-project")
    usage.container_registry_size_bytes, usage.is_estimated
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import gitlab

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.errors import GraphqlUnavailable

#: The query, with the namespace path inlined as a JSON (= GraphQL) string literal: gql 3
#: and 4 take variables differently and python-gitlab passes the text through.
QUERY = """
query namespaceRegistry {
  namespace(fullPath: %s) {
    rootStorageStatistics { containerRegistrySize containerRegistrySizeIsEstimated }
  }
}
"""
_PATH = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-/]*$")


@dataclass(frozen=True)
class NamespaceRegistryUsage:
    """The root namespace's deduplicated registry bytes, as GitLab counts them."""

    namespace: str
    container_registry_size_bytes: int
    is_estimated: bool


def _execute(client: GitlabClient, query: str) -> Any:
    policy = client.policy
    # the same retry policy as the REST requests (cachecost.collect.retry); python-gitlab
    # retries GraphQL's HTTP errors only, so a timeout ends it after one request:
    # connect_timeout_s + read_timeout_s at most. python-gitlab hands ``timeout`` to
    # httpx.Client, which takes (connect, read, write, pool) seconds as a tuple.
    read = policy.read_timeout_s
    timeout = (policy.connect_timeout_s, read, read, read)
    try:
        gq = gitlab.GraphQL(client.url, token=client.credentials.token,
                            timeout=timeout,  # type: ignore[arg-type]
                            max_retries=policy.max_retries, retry_transient_errors=True)
    except ImportError:
        raise GraphqlUnavailable("python-gitlab's GraphQL client needs the gql package "
                                 "(pip install 'python-gitlab[graphql]')") from None
    with gq:
        client.count_request("graphql")     # counted like the REST requests
        try:
            return gq.execute(query)
        except gitlab.exceptions.GitlabError as exc:
            raise GraphqlUnavailable(f"GitLab answered HTTP {exc.response_code} to "
                                     "/api/graphql") from None
        except Exception as exc:       # gql's transport and query errors, bad JSON
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise GraphqlUnavailable(f"/api/graphql failed ({first})") from None


def namespace_registry_usage(client: GitlabClient, namespace: str) -> NamespaceRegistryUsage:
    """Read the root namespace's registry size (one POST to ``/api/graphql``).

    Raises :class:`GraphqlUnavailable` when GraphQL is refused or disabled, the
    ``gql`` package is missing, or the token's user does not own the namespace.
    """
    if not _PATH.match(namespace):
        raise GraphqlUnavailable(f"{namespace!r} is not a namespace path")
    data = _execute(client, QUERY % json.dumps(namespace))
    ns = (data or {}).get("namespace")
    if ns is None:
        raise GraphqlUnavailable(f"GraphQL finds no namespace {namespace}")
    stats = ns.get("rootStorageStatistics")
    if not stats or stats.get("containerRegistrySize") is None:
        raise GraphqlUnavailable(f"the storage statistics of {namespace} are not visible "
                                 "to this token (namespace owners only)")
    return NamespaceRegistryUsage(
        namespace=namespace,
        container_registry_size_bytes=int(float(stats["containerRegistrySize"])),
        is_estimated=bool(stats.get("containerRegistrySizeIsEstimated")),
    )
