"""A fetched synthetic group (the group stand-in), shared by the group tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachecost.collect.fetch import FetchOptions
from cachecost.collect.gitlab.client import connect
from cachecost.collect.group import fetch_group
from cachecost.standin.group import StandinGroup, start_group_standin

TOKEN = "group-test-token"


def fetch_standin_group(group: StandinGroup, out: Path, **kwargs):
    """Serve ``group``, fetch it into ``out``; return (result, request counts)."""
    with start_group_standin(group, tokens={TOKEN: {"read_api"}}) as srv:
        result = fetch_group(lambda: connect(srv.url, environ={"GITLAB_TOKEN": TOKEN}),
                             group.root, out, include_subgroups=True,
                             options=kwargs.pop("options", FetchOptions(fork_request_budget=4)),
                             **kwargs)
        return result, dict(srv.counts)


@pytest.fixture(scope="session")
def standin_group() -> StandinGroup:
    """Two building projects (dind, kaniko), three that build nothing, one 403."""
    return StandinGroup.build(non_building=3, building=2, days=2)


@pytest.fixture(scope="session")
def fetched_group(tmp_path_factory, standin_group):
    """The group fetched once: (folder, result, stand-in request counts)."""
    out = tmp_path_factory.mktemp("group") / "fdo"
    result, counts = fetch_standin_group(standin_group, out)
    return out, result, counts
