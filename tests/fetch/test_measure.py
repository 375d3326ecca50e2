"""The measurement phase over HTTP: image changes, forks, registry usage; refusals; budget."""

from __future__ import annotations

from pathlib import Path

import gitlab.client
import pandas as pd
import pytest

from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.collect.measure import image_inputs
from cachecost.dataset.io import load_dataset
from cachecost.standin import StandinData, start_standin
from cachecost.standin.extra import FORK_ID_BASE, ExtraData

from .fetchkit import PROJECT, TOKEN, fetch_cli

FORK_KINDS = ("forks", "fork:pipelines", "fork:repository/commits")


def _fetch(srv, out: Path, **opts):
    client = connect(srv.url, environ={"GITLAB_TOKEN": TOKEN})
    try:
        return fetch_project_history(client, PROJECT, out, FetchOptions(**opts))
    finally:
        client.close()


def test_fetch_fills_image_changes_forks_and_registry_usage(standin, tmp_path: Path) -> None:
    result = _fetch(standin, tmp_path)
    assert result.warnings == []
    ds = load_dataset(tmp_path)
    extra = standin.extra
    # image changes: exactly the served commits that touched a Dockerfile in the window
    want = extra.image_changes_frame(ds.pipelines["created_at"].min())
    got = ds.image_changes[["image", "commit", "time", "path"]]
    assert len(want) > 0
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    # the CI files name all 24 images; each image's input is its Dockerfile
    state_inputs = image_inputs_from(standin)
    assert sorted(state_inputs) == extra.images
    # forks: every active fork sampled (6 of 40, well within the budget), counts as served
    truth = extra.forks_truth().set_index("fork_id")
    forks = ds.forks.set_index("fork_id")
    active = forks[forks["is_active"]]
    assert set(active.index) == set(truth.index[truth["is_active"]])
    assert active["is_sampled"].all() and (forks["sampling_fraction"] == 1.0).all()
    assert (active["pipelines"] == truth.loc[active.index, "pipelines"]).all()
    assert (active["image_change_pipelines"]
            == truth.loc[active.index, "image_change_pipelines"]).all()
    assert active["image_change_pipelines"].sum() > 0
    assert (forks["owner"] == truth.loc[forks.index, "owner"]).all()
    assert standin.counts["fork:pipelines"] == len(active)
    assert standin.counts["fork:repository/commits"] == int((active["pipelines"] > 0).sum())
    # registry usage: the project's statistics and the root namespace's GraphQL figure
    usage = ds.metadata["registry_usage"]
    assert usage["container_registry_size_bytes"] == standin.data.container_registry_size_bytes()
    assert usage["namespace"] == "qemu-project"
    assert usage["namespace_container_registry_size_bytes"] == \
        extra.namespace_registry_size_bytes()
    assert usage["is_estimated"] is False and usage["read_at"].endswith("Z")
    assert standin.counts["graphql"] == 1


def image_inputs_from(srv) -> dict[str, list[str]]:
    import yaml
    return image_inputs({p: yaml.safe_load(t.replace("!reference", ""))
                         for p, t in srv.extra.files.items()})


def test_image_inputs_follow_extends_through_hidden_jobs() -> None:
    """Hand-worked: ``b`` extends ``.cross`` which extends the template; ``c`` sets no NAME;
    ``d`` is not a container job. Only ``a`` and ``b`` build images, from the script's path."""
    docs = {"t.yml": {".container_job_template": {
        "script": ['docker build -f "tests/docker/dockerfiles/${NAME}.docker" .']}},
        "x.yml": {".cross": {"extends": ".container_job_template", "rules": ["x"]},
                  "a-container": {"extends": ".container_job_template",
                                  "variables": {"NAME": "alpine"}},
                  "b-container": {"extends": [".cross"], "variables": {"NAME": "debian-x"}},
                  "c-container": {"extends": ".cross"},
                  "d-build": {"script": ["make"], "variables": {"NAME": "nope"}}}}
    assert image_inputs(docs) == {
        "alpine": ["tests/docker/dockerfiles/alpine.docker"],
        "debian-x": ["tests/docker/dockerfiles/debian-x.docker"]}


def test_new_change_and_fork_activity_are_picked_up_incrementally(standin, tmp_path) -> None:
    data = standin.data
    data.now = data.end - pd.Timedelta(hours=30)
    _fetch(standin, tmp_path)
    first = load_dataset(tmp_path).image_changes
    data.now = None
    standin.reset_counts()
    _fetch(standin, tmp_path)
    second = load_dataset(tmp_path)
    want = standin.extra.image_changes_frame(second.pipelines["created_at"].min())
    assert len(first) < len(want)
    pd.testing.assert_frame_equal(
        second.image_changes[["image", "commit", "time", "path"]].reset_index(drop=True),
        want, check_dtype=False)
    # the CI files did not change: read once, not again; the image commits were re-asked
    assert standin.counts["repository/files"] == 0 and standin.counts["repository/tree"] == 0
    assert standin.counts["repository/commits"] == 2 + 24


@pytest.mark.parametrize(("refuse", "names"), [
    ({"repository": 403}, "image changes"),
    ({"repository": 404}, "image changes"),
    ({"forks": 403}, "fork activity"),
    ({"forks": 404}, "fork activity"),
    ({"graphql": 404}, "namespace registry usage"),
    ({"graphql": 403}, "namespace registry usage"),
    ({"graphql": "null"}, "namespace registry usage"),
])
def test_refused_endpoint_costs_one_warning_line(small_sample, token_env, tmp_path, capsys,
                                                 refuse, names) -> None:
    data = StandinData(small_sample)
    with start_standin(data, tokens={TOKEN: {"read_api"}},
                       extra=ExtraData(data, refuse=refuse)) as srv:
        assert fetch_cli(srv, tmp_path) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    assert warnings[0].startswith(f"warning: {names} not")
    ds = load_dataset(tmp_path)
    assert len(ds.jobs) == len(small_sample.jobs)         # the CI history is complete
    has = {"image changes": ds.image_changes is not None and len(ds.image_changes) > 0,
           "fork activity": ds.forks is not None and len(ds.forks) > 0,
           "namespace registry usage": ds.metadata.get("registry_usage", {}).get(
               "namespace_container_registry_size_bytes") is not None}
    assert has == {k: k != names for k in has}


def test_missing_gql_package_is_one_warning(standin, token_env, tmp_path, capsys,
                                            monkeypatch) -> None:
    monkeypatch.setattr(gitlab.client, "_GQL_INSTALLED", False)
    assert fetch_cli(standin, tmp_path) == 0
    warnings = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "gql" in warnings[0]
    assert standin.counts["graphql"] == 0


def test_fork_sampling_stays_within_its_budget(small_sample, tmp_path) -> None:
    """1,000 forks, 30 active: one forks page (the 31st fork is inactive), then per active
    fork its pipelines and, if it has any, its image commits: <= 61 <= 100. With a budget
    of 21: one page + 10 forks (two requests reserved for each)."""
    data = StandinData(small_sample)
    extra = ExtraData(data, forks=1000, active_forks=30)
    truth = extra.forks_truth().set_index("fork_id")
    with_ci = truth[truth["is_active"] & (truth["pipelines"] > 0)]
    assert 0 < len(with_ci) < 30
    with start_standin(data, tokens={TOKEN: {"read_api"}}, extra=extra) as srv:
        _fetch(srv, tmp_path / "a")
        assert srv.counts["forks"] == 1 and srv.counts["fork:pipelines"] == 30
        assert srv.counts["fork:repository/commits"] == len(with_ci)
        srv.reset_counts()
        _fetch(srv, tmp_path / "b", fork_request_budget=21)
        assert srv.counts["fork:pipelines"] == 10
        assert sum(srv.counts[k] for k in FORK_KINDS) <= 21
    full, part = load_dataset(tmp_path / "a").forks, load_dataset(tmp_path / "b").forks
    assert full["is_sampled"].sum() == 30 and len(full) == 100      # one page listed
    sampled = part[part["is_sampled"]].set_index("fork_id")
    assert len(sampled) == 10
    assert part["sampling_fraction"].iloc[0] == pytest.approx(10 / 30)
    assert (sampled["pipelines"] == truth.loc[sampled.index, "pipelines"]).all()
    assert (part["fork_id"] >= FORK_ID_BASE).all()


def test_ci_files_found_through_the_tree_without_containers_yml(small_sample,
                                                               tmp_path) -> None:
    """No containers.yml: the tree lists .gitlab-ci.d, the container*.yml files are read
    (core, cross, template; not buildtest.yml) and every image is still found."""
    data = StandinData(small_sample)
    extra = ExtraData(data)
    del extra.files[".gitlab-ci.d/containers.yml"]
    with start_standin(data, tokens={TOKEN: {"read_api"}}, extra=extra) as srv:
        _fetch(srv, tmp_path)
        assert srv.counts["repository/tree"] == 1
        # .gitlab-ci.yml and containers.yml missing (GitLab's lint refused first), then 3
        assert srv.counts["repository/files"] == 2 + 3
    ds = load_dataset(tmp_path)
    assert sorted(ds.metadata["image_inputs"]) == extra.images
    assert len(ds.image_changes) > 0


def test_first_fetch_request_counts(standin, tmp_path) -> None:
    """GitLab's merge refused (the stand-in has no lint), no .gitlab-ci.yml: containers.yml
    + its includes (core, cross, template): 1 + 4 files, no tree; one probe of the CI
    directory and one commits page per image."""
    _fetch(standin, tmp_path)
    assert standin.counts["repository/files"] == 1 + 4
    assert standin.counts["repository/tree"] == 0
    assert standin.counts["repository/commits"] == 1 + 24


#: The keys GitLab's own API tests require of a commits-list item
#: (gitlabhq spec/fixtures/api/schemas/public_api/v4/commit/basic.json).
COMMIT_REQUIRED = {"id", "short_id", "title", "created_at", "parent_ids", "message",
                   "author_name", "author_email", "authored_date", "committer_name",
                   "committer_email", "committed_date", "web_url"}


def test_standin_commits_and_files_are_shaped_like_gitlab(standin) -> None:
    import base64

    import requests

    head = {"PRIVATE-TOKEN": TOKEN}
    base = f"{standin.url}/api/v4/projects/{standin.data.project_id}/repository"
    resp = requests.get(f"{base}/commits", params={"path": "tests/docker/dockerfiles",
                                                   "per_page": 1}, headers=head, timeout=10)
    items = resp.json()
    assert resp.status_code == 200 and items and COMMIT_REQUIRED <= set(items[0])
    assert items[0]["created_at"] == items[0]["committed_date"]        # api/commits.md
    assert "X-Total" not in resp.headers and 'rel="next"' in resp.headers["Link"]
    path = ".gitlab-ci.d%2Fcontainers.yml"
    obj = requests.get(f"{base}/files/{path}", params={"ref": "master"}, headers=head,
                       timeout=10).json()
    assert obj["file_path"] == ".gitlab-ci.d/containers.yml" and obj["encoding"] == "base64"
    assert base64.b64decode(obj["content"]).decode() == \
        standin.extra.files[".gitlab-ci.d/containers.yml"]
    missing = requests.get(f"{base}/files/nope.yml", params={"ref": "master"}, headers=head,
                           timeout=10)
    assert missing.status_code == 404 and missing.json() == {"message": "404 File Not Found"}
    forks = requests.get(f"{standin.url}/api/v4/projects/{standin.data.project_id}/forks",
                         params={"order_by": "last_activity_at", "sort": "desc"},
                         headers=head, timeout=10).json()
    times = [f["last_activity_at"] for f in forks]
    assert times == sorted(times, reverse=True)
    assert {"id", "path_with_namespace", "namespace", "forked_from_project",
            "last_activity_at"} <= set(forks[0])
    assert forks[0]["forked_from_project"]["id"] == standin.data.project_id
