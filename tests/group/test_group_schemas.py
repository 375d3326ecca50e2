"""The group stand-in's answers against GitLab's published schemas (tests/schemas/)."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import requests
from cases.test_standin_schemas import project_schema, validate

from cachecost.standin.group import StandinGroup, start_group_standin

TOKEN = "glpat-FAKE-group-schema-7"


@pytest.fixture(scope="module")
def served():
    group = StandinGroup.build(non_building=2, building=2, days=2)
    with start_group_standin(group, tokens={TOKEN: {"read_api"}}) as srv:
        yield srv, group


def get(srv, path: str, **params) -> requests.Response:
    return requests.get(f"{srv.url}/api/v4{path}", params=params,
                        headers={"PRIVATE-TOKEN": TOKEN}, timeout=30)


def test_simple_listing_is_gitlabs_projects_schema_exactly(served):
    """``simple=true``: projects.json as published, ``additionalProperties: false``."""
    srv, group = served
    r = get(srv, "/groups/fdo/projects", include_subgroups="true", simple="true")
    assert r.status_code == 200
    assert len(r.json()) == len(group.projects)
    validate(r.json(), "public_api/v4/projects.json")


def test_full_listing_and_each_project_extend_the_schema(served):
    srv, group = served
    items = get(srv, "/groups/fdo/projects", include_subgroups="true").json()
    for item in items:
        jsonschema.Draft7Validator(project_schema()).validate(item)
        assert item["namespace"]["full_path"] == item["path_with_namespace"].rsplit("/", 1)[0]
    for p in group.projects:
        r = get(srv, f"/projects/{p.project_id}", statistics="true")
        if p.is_forbidden:
            assert r.status_code == 403
            continue
        jsonschema.Draft7Validator(project_schema()).validate(r.json())
        repos = get(srv, f"/projects/{p.project_id}/registry/repositories", tags="true",
                    tags_count="true")
        validate(repos.json(), "registry/repositories.json")
        assert bool(repos.json()) == (p.data is not None)


def test_a_listing_item_missing_a_field_fails(served):
    """The check can fail: drop a required field and the schema refuses the item."""
    srv, _ = served
    items = get(srv, "/groups/fdo/projects", simple="true").json()
    broken = copy.deepcopy(items)
    del broken[0]["default_branch"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, "public_api/v4/projects.json")


def test_root_namespace_storage_graphql(served):
    srv, group = served
    query = ('query { namespace(fullPath: "fdo") { rootStorageStatistics '
             '{ containerRegistrySize containerRegistrySizeIsEstimated } } }')
    r = requests.post(f"{srv.url}/api/graphql", json={"query": query},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    stats = r.json()["data"]["namespace"]["rootStorageStatistics"]
    assert stats["containerRegistrySize"] == group.namespace_registry_size_bytes()
    sub = query.replace('"fdo"', '"fdo/graphics"')
    r = requests.post(f"{srv.url}/api/graphql", json={"query": sub},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.json()["data"]["namespace"] is None
