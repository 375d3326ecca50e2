"""``fetch --group``: detection, the 403 project, the catalog, resuming after a failure."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cachecost.cli import main
from cachecost.collect.fetch import FetchOptions
from cachecost.collect.gitlab.client import connect
from cachecost.collect.group import (
    DETECT_REQUESTS_MAX,
    detect_builder,
    fetch_group,
    strategy_note,
)
from cachecost.standin.group import CI_TEMPLATES, StandinGroup, listing_keys, start_group_standin

from .conftest import TOKEN


@pytest.mark.parametrize(("builder", "strategy"), [
    ("dind", "dind-inline-cache"), ("kaniko", "kaniko-cache-repo"),
    ("buildah", "kaniko-cache-repo"), ("ci-templates", "rebuild-on-change"), (None, None)])
def test_builder_and_strategy_read_from_the_ci_file(builder, strategy):
    """The CI files of each kind give their builder and the model strategy they run."""
    assert detect_builder(CI_TEMPLATES[builder]) == (builder, strategy)


def test_kaniko_without_cache_flag_is_no_cache():
    ci = CI_TEMPLATES["kaniko"].replace("--cache=true ", "").replace("--cache-repo", "--x")
    assert detect_builder(ci) == ("kaniko", "no-cache")


@pytest.mark.parametrize(("flags", "strategy"), [
    ("--cache=false", "no-cache"), ("--cache-dir=/cache", "no-cache"),
    ("--cache-copy-layers", "no-cache"), ("--cache", "kaniko-cache-repo"),
    ("--cache=true", "kaniko-cache-repo"), ("--cache=TRUE --cache-dir=/c", "kaniko-cache-repo")])
def test_kaniko_cache_flag_read_as_kaniko_parses_it(flags, strategy):
    """kaniko's ``--cache`` is a boolean flag (cmd/executor/cmd/root.go ``BoolVarP``):
    ``--cache`` or ``--cache=true`` turn the cache on; ``--cache=false``, and other flags
    that only start with ``--cache`` (``--cache-dir``, ``--cache-copy-layers``), do not."""
    ci = ("build:\n  image: gcr.io/kaniko-project/executor:debug\n  script:\n"
          f"    - /kaniko/executor --context . --destination x {flags}\n")
    assert detect_builder(ci) == ("kaniko", strategy)


@pytest.mark.parametrize(("flags", "strategy"), [
    ("--layers --cache-to $CI_REGISTRY_IMAGE/cache --cache-from $CI_REGISTRY_IMAGE/cache",
     "kaniko-cache-repo"),
    ("--layers --cache-from $CI_REGISTRY_IMAGE/cache", "kaniko-cache-repo"),
    ("--layers", "no-cache"), ("", "no-cache")])
def test_buildah_cache_repository_is_modelled_as_kaniko_cache_repo_and_says_so(flags,
                                                                                strategy):
    """buildah --cache-to/--cache-from REPO pushes and pulls one cache image per step in a
    registry repository (buildah build(1)), kaniko's --cache-repo mechanics: modelled as
    kaniko-cache-repo, and the note says so (and that kaniko's archival is not buildah's).
    --layers alone keeps the layers on the runner, which a fresh CI runner loses: no-cache."""
    ci = f"build:\n  script:\n    - buildah bud {flags} -t $TAG .\n"
    builder, found = detect_builder(ci)
    assert (builder, found) == ("buildah", strategy)
    note = strategy_note(builder, found) or ""
    assert f"modelled as {strategy}" in note and "buildah" in note
    if strategy == "kaniko-cache-repo":
        assert "archival are not this project's" in note


def test_a_builders_own_strategy_has_no_note():
    """dind, kaniko and BuildKit run the strategy the model names: nothing to explain."""
    for builder in ("dind", "kaniko"):
        assert strategy_note(*detect_builder(CI_TEMPLATES[builder])) is None
    assert strategy_note("ci-templates", "rebuild-on-change") is not None


def test_group_fetch_finds_builders_skips_403_and_counts_requests(fetched_group,
                                                                 standin_group):
    out, result, counts = fetched_group
    by_path = {s.project_path: s for s in result.scans}
    assert len(by_path) == len(standin_group.projects) == 6     # subgroups included
    building = {p.path_with_namespace: p.builder for p in standin_group.building_projects()}
    assert {p for p, s in by_path.items() if s.status == "done"} == set(building)
    for path, builder in building.items():
        assert by_path[path].builder == builder
    forbidden = [s for s in result.scans if s.status == "failed"]
    assert [s.project_path for s in forbidden] == ["fdo/multimedia/private-infra"]
    assert "403" in (forbidden[0].error or "")
    light = [s for s in result.scans if s.status == "skipped"]
    assert len(light) == 3
    assert all(s.detect_requests <= DETECT_REQUESTS_MAX for s in light)
    # the server agrees: the light projects were asked nothing beyond detection
    assert counts.get("light:other", 0) == 0
    catalog = pd.read_parquet(out / "catalog.parquet")
    assert set(catalog["status"]) == {"done", "skipped", "failed"}
    done = catalog[catalog["status"] == "done"]
    assert (done["images"] > 0).all() and (done["pipelines"] > 0).all()
    # dind and kaniko run the strategies the model names: the catalog's note is empty
    assert done["strategy_note"].isna().all() and set(done["builder"]) == {"dind", "kaniko"}
    meta = json.loads((out / "group.json").read_text())
    assert meta["namespace_container_registry_size_bytes"] == \
        standin_group.namespace_registry_size_bytes()
    assert meta["is_synthetic"] is True


def test_listing_items_carry_gitlab_projects_schema_fields(standin_group):
    """Every listed project has the required fields of gitlabhq's projects.json schema."""
    import gitlab
    with start_group_standin(standin_group, tokens={TOKEN: {"read_api"}}) as srv:
        gl = gitlab.Gitlab(srv.url, private_token=TOKEN)
        items = gl.groups.get("fdo").projects.list(include_subgroups=True, get_all=True,
                                                     per_page=2)
        keyset = list(gl.groups.get("fdo").projects.list(
            include_subgroups=True, iterator=True, pagination="keyset", order_by="id",
            per_page=2))
        shallow = gl.groups.get("fdo").projects.list(get_all=True)
    assert [p.id for p in keyset] == [p.id for p in items]
    assert len(items) == 6 and 0 < len(shallow) < 6
    for p in items:
        assert set(listing_keys()) <= set(p.attributes)


def test_failure_mid_fetch_keeps_the_others_and_resumes(tmp_path):
    """The stand-in drops every connection after some requests: the projects fetched
    before stay complete, the rest are recorded as failed; the same command afterwards
    fetches only those, and ends with every building project's jobs as served."""
    group = StandinGroup.build(non_building=2, building=3, days=2, forbidden=False)
    out = tmp_path / "fdo"
    opts = FetchOptions(fork_request_budget=4, workers=2)
    with start_group_standin(group, tokens={TOKEN: {"read_api"}}) as srv:
        def make():
            return connect(srv.url, environ={"GITLAB_TOKEN": TOKEN}, max_retries=1)
        fetch_group(make, "fdo", out, include_subgroups=True, options=opts)
        full = srv.counts["total"]
        srv.reset_counts()
        # a fresh run, failing past roughly 60% of the requests of a whole fetch
        fresh = tmp_path / "again"
        srv.faults.die_after = int(full * 0.6)
        first = fetch_group(make, "fdo", fresh, include_subgroups=True, options=opts)
        done1 = {s.project_path for s in first.scans if s.status == "done"}
        failed1 = {s.project_path for s in first.failed()}
        assert done1 and failed1
        kept = {p: (fresh / f"project={p.replace('/', '~')}" / "jobs.parquet").stat().st_mtime_ns
                for p in done1}
        srv.faults.die_after = 0
        srv.reset_counts()
        second = fetch_group(make, "fdo", fresh, include_subgroups=True, options=opts)
    assert second.resumed == len(done1)
    assert all(s.status in ("done", "skipped") for s in second.scans)
    for p, mtime in kept.items():       # not fetched again
        assert (fresh / f"project={p.replace('/', '~')}" / "jobs.parquet").stat().st_mtime_ns \
            == mtime
    for gp in group.building_projects():
        jobs = pd.read_parquet(fresh / f"project={gp.path_with_namespace.replace('/', '~')}"
                               / "jobs.parquet")
        assert len(jobs) == len(gp.data.jobs_frame())


def test_cli_needs_one_of_project_or_group(capsys):
    assert main(["fetch"]) == 2
    assert "--project" in capsys.readouterr().err
    assert main(["fetch", "--project", "a/b", "--group", "a"]) == 2


def test_unknown_group_is_one_line_and_leaves_no_folder(tmp_path, standin_group, capsys,
                                                        monkeypatch):
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    out = tmp_path / "nope"
    with start_group_standin(standin_group, tokens={TOKEN: {"read_api"}}) as srv:
        code = main(["fetch", "--url", srv.url, "--group", "no-such-group", "--data", str(out),
                     "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no-such-group" in err and "404" in err
    assert not out.exists()


def test_cli_fetches_a_group(tmp_path, standin_group, capsys, monkeypatch):
    """``cachecost fetch --group`` end to end: the 403 project is a warning, exit 0."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    out = tmp_path / "g"
    with start_group_standin(standin_group, tokens={TOKEN: {"read_api"}}) as srv:
        code = main(["fetch", "--url", srv.url, "--group", "fdo", "--include-subgroups",
                     "--data", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning: fdo/multimedia/private-infra: not fetched" in captured.err
    assert "6 projects listed, 2 build container images, 2 fetched" in captured.out
    assert (out / "catalog.parquet").is_file()


def test_rate_limited_group_fetch_completes(tmp_path):
    """Every 9th request answered 429 with Retry-After: python-gitlab waits and retries,
    every project still ends done or skipped, nothing counted twice."""
    from cachecost.standin.server import Faults

    group = StandinGroup.build(non_building=2, building=1, days=2, forbidden=False)
    with start_group_standin(group, tokens={TOKEN: {"read_api"}},
                             faults=Faults(every_429=9, retry_after_s=0)) as srv:
        res = fetch_group(lambda: connect(srv.url, environ={"GITLAB_TOKEN": TOKEN}), "fdo",
                          tmp_path / "g", include_subgroups=True,
                          options=FetchOptions(fork_request_budget=4, workers=2))
        limited = srv.counts["fault:429"]
    assert limited > 0
    assert sorted(s.status for s in res.scans) == ["done", "skipped", "skipped"]
    gp = group.building_projects()[0]
    jobs = pd.read_parquet(tmp_path / "g" / f"project={gp.path_with_namespace.replace('/', '~')}"
                           / "jobs.parquet")
    assert len(jobs) == len(gp.data.jobs_frame()) and jobs["job_id"].is_unique
