"""The stand-in cannot drift from GitLab: every kind of response it serves validates against
GitLab's own published JSON schemas (tests/schemas/gitlab/, sources in tests/schemas/README.md).

Each response is asked for over real HTTP, as python-gitlab would, at two clock settings
(mid-history: running and pending jobs with null times; the end: every status), with the
registry enabled.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
import requests
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.standin import StandinData, StandinServer, start_standin

SCHEMAS = Path(__file__).parent.parent / "schemas" / "gitlab"
BASE = "https://gitlab.schemas.invalid/"
TOKEN = "glpat-FAKE-schema-check-42"

#: Fields GitLab's API serves that these schema versions do not list, each from GitLab's
#: API documentation (see tests/schemas/README.md); allowed one by one.
DOCUMENTED_EXTRA = {
    "public_api/v4/job.json": {"failure_reason": {"type": "string"}},
    "public_api/v4/runner.json": {"paused": {"type": "boolean"},
                                  "runner_type": {"type": "string"}},
    "registry/repository.json": {"size": {"type": "integer"}},
    "registry/tag.json": {"path": {"type": "string"}, "digest": {"type": "string"}},
}


def _read_date_as_string(node: Any) -> Any:
    """GitLab's schemas say ``"type": "date"`` (no JSON Schema type): a date string."""
    if isinstance(node, dict):
        out = {k: _read_date_as_string(v) for k, v in node.items()}
        t = out.get("type")
        if t == "date":
            out["type"] = "string"
        elif isinstance(t, list):
            out["type"] = ["string" if x == "date" else x for x in t]
        return out
    if isinstance(node, list):
        return [_read_date_as_string(x) for x in node]
    return node


def _load() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        rel = path.relative_to(SCHEMAS).as_posix()
        doc = _read_date_as_string(json.loads(path.read_text(encoding="utf-8")))
        if rel in DOCUMENTED_EXTRA:
            doc["properties"] = {**doc["properties"], **DOCUMENTED_EXTRA[rel]}
        doc["$id"] = BASE + rel
        resources.append((BASE + rel, Resource.from_contents(doc, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


REGISTRY = _load()


def validate(instance: Any, schema: str) -> None:
    """Validate against a stored schema by its path (``public_api/v4/job.json``)."""
    jsonschema.Draft7Validator({"$ref": BASE + schema}, registry=REGISTRY).validate(instance)


def project_schema() -> dict:
    """``projects.json``'s item: a single project extends it (more fields allowed)."""
    items = copy.deepcopy(REGISTRY.contents(BASE + "public_api/v4/projects.json")["items"])
    items["additionalProperties"] = True
    return items


# ------------------------------------------------------------------ the stand-in's responses
@pytest.fixture(scope="module", params=["mid-history", "end"])
def served(request) -> Iterator[StandinServer]:
    data = StandinData(generate_sample(SampleSettings(days=3)))
    if request.param == "mid-history":
        data.now = data.end - pd.Timedelta(hours=20)
    with start_standin(data, tokens={TOKEN: {"read_api"}}) as srv:
        yield srv


def get(srv: StandinServer, path: str, **params) -> requests.Response:
    r = requests.get(f"{srv.url}/api/v4{path}", params=params,
                     headers={"PRIVATE-TOKEN": TOKEN}, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return r


def _pid(srv: StandinServer) -> int:
    return srv.data.project_id


def test_project(served) -> None:
    for stats in ("false", "true"):
        obj = get(served, f"/projects/{_pid(served)}", statistics=stats).json()
        jsonschema.Draft7Validator(project_schema()).validate(obj)
    by_path = get(served, f"/projects/{served.data.project_path.replace('/', '%2F')}").json()
    jsonschema.Draft7Validator(project_schema()).validate(by_path)


def test_pipelines_list_and_detail(served) -> None:
    pid = _pid(served)
    items = get(served, f"/projects/{pid}/pipelines", per_page=100).json()
    children = get(served, f"/projects/{pid}/pipelines", per_page=100,
                   source="parent_pipeline").json()
    assert items and children
    for item in items + children:
        validate(item, "public_api/v4/pipeline/basic.json")
    for item in items[:5] + children[:2]:
        validate(get(served, f"/projects/{pid}/pipelines/{item['id']}").json(),
                 "public_api/v4/pipeline/detail.json")


def test_jobs_every_listing_and_status(served) -> None:
    pid = _pid(served)
    seen: set[str] = set()
    pages = [get(served, f"/projects/{pid}/jobs", per_page=100, pagination="keyset",
                 order_by="id", sort="desc").json(),
             get(served, f"/projects/{pid}/jobs", per_page=100, page=2).json()]
    pipe = pages[0][0]["pipeline"]["id"]
    pages.append(get(served, f"/projects/{pid}/pipelines/{pipe}/jobs",
                     include_retried="true").json())
    for page in pages:
        for job in page:
            validate(job, "public_api/v4/job.json")
            seen.add(job["status"])
    everything = served.data.job_records()
    for r in everything:                 # one job of every status the stand-in serves
        if r.status not in seen:
            validate(json.loads(r.json), "public_api/v4/job.json")
            seen.add(r.status)
    assert {"success", "failed"} <= seen


def test_job_log_is_plain_text(served) -> None:
    job = served.data.job_records()[-1]
    r = get(served, f"/projects/{_pid(served)}/jobs/{job.job_id}/trace")
    assert r.headers["Content-Type"].startswith("text/plain")


def test_registry(served) -> None:
    pid = _pid(served)
    repos = get(served, f"/projects/{pid}/registry/repositories", tags="true",
                tags_count="true", per_page=100).json()
    validate(repos, "registry/repositories.json")
    for repo in repos[:6]:
        one = get(served, f"/registry/repositories/{repo['id']}", size="true",
                  tags_count="true").json()
        validate(one, "registry/repository.json")
        tags = get(served, f"/projects/{pid}/registry/repositories/{repo['id']}/tags").json()
        validate(tags, "registry/tags.json")
        for tag in tags[:3]:
            validate(get(served, f"/projects/{pid}/registry/repositories/{repo['id']}/tags/"
                              f"{tag['name']}").json(), "registry/tag.json")


def test_a_drifted_response_fails() -> None:
    """The check can fail: a job without ``archived`` or with an unknown field is rejected."""
    data = StandinData(generate_sample(SampleSettings(days=3)))
    job = json.loads(data.job_records()[0].json)
    validate(job, "public_api/v4/job.json")
    with pytest.raises(jsonschema.ValidationError):
        validate({k: v for k, v in job.items() if k != "archived"}, "public_api/v4/job.json")
    with pytest.raises(jsonschema.ValidationError):
        validate({**job, "duration_s": 1.0}, "public_api/v4/job.json")
    with pytest.raises(jsonschema.ValidationError):
        validate({**job, "user": {"id": 1}}, "public_api/v4/job.json")
