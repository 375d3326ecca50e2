"""The scan against a real docker-registry holding images the tests pushed.

Every expectation is computed from the pusher's ledger (what the test
uploaded and which tag references which blob), never from the scanner.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from registry_testkit import STALE, free_port

from cachecost.cli import main
from cachecost.collect.oci import scan_registry
from cachecost.collect.oci.summary import is_cache_repository
from cachecost.config import SAMPLE_DATA_DIR
from cachecost.dataset.io import load_dataset

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def result(registry, populated):
    """One scan of the whole registry (through the catalog)."""
    return scan_registry(registry.url, max_workers=4)


def _ledger_figures(ledger, repos):
    """Sum of tags and distinct bytes of the ledger's tags in ``repos``."""
    tags = {k: v for k, v in ledger.items() if k[0] in repos}
    distinct = {}
    for blobs in tags.values():
        distinct.update(blobs)
    return len(tags), sum(sum(b.values()) for b in tags.values()), sum(distinct.values())


def test_unique_bytes_equal_the_distinct_blobs_pushed(result, populated):
    assert result.summary["total"]["unique_bytes"] == sum(populated.pushed_sizes.values())
    assert len(populated.pushed_sizes) > 10


def test_sum_of_tags_counts_shared_layers_again(result, populated):
    _, expected_sum, expected_unique = _ledger_figures(populated.ledger,
                                                       {r for r, _ in populated.ledger})
    total = result.summary["total"]
    assert total["sum_of_tags_bytes"] == expected_sum
    assert total["tags"] == len(populated.ledger)
    assert total["sum_of_tags_bytes"] > 2 * total["unique_bytes"]  # the test set shares a lot
    assert expected_unique == total["unique_bytes"]


def test_every_repository_matches_the_ledger(result, populated):
    rows = {r["path"]: r for r in result.summary["repositories"]}
    assert set(rows) == {repo for repo, _ in populated.ledger}
    for path, row in rows.items():
        tags, sum_of_tags, unique = _ledger_figures(populated.ledger, {path})
        assert (row["tags"], row["sum_of_tags_bytes"], row["unique_bytes"]) == (
            tags, sum_of_tags, unique), path
        assert row["is_cache_repository"] == path.endswith(("-cache", "/cache"))


def test_projects_and_namespaces_deduplicate_across_repositories(result, populated):
    projects = {p["path"]: p for p in result.summary["projects"]}
    assert set(projects) == {"team/proj", "team/other", "other/x"}
    repos = {r for r, _ in populated.ledger if r.startswith("team/proj/")}
    _, sum_of_tags, unique = _ledger_figures(populated.ledger, repos)
    assert projects["team/proj"]["sum_of_tags_bytes"] == sum_of_tags
    assert projects["team/proj"]["unique_bytes"] == unique
    namespaces = {n["path"]: n for n in result.summary["namespaces"]}
    team = {r for r, _ in populated.ledger if r.startswith("team/")}
    assert namespaces["team"]["unique_bytes"] == _ledger_figures(populated.ledger, team)[2]
    # base2 sits in both team projects: the namespace stores less than its projects add up to
    assert namespaces["team"]["unique_bytes"] < (
        projects["team/proj"]["unique_bytes"] + projects["team/other"]["unique_bytes"])


def test_cache_sharing_and_stale_tags(result, populated):
    image_blobs, cache_blobs, stale_blobs, live_blobs = {}, {}, {}, {}
    stale_tags = 0
    for (repo, _tag), blobs in populated.ledger.items():
        is_cache = is_cache_repository(repo)
        (cache_blobs if is_cache else image_blobs).update(blobs)
        # The test set dates every image either STALE (2020) or FRESH (now).
        is_stale = is_cache and blobs_created_stale(populated, repo, _tag)
        stale_tags += is_stale
        (stale_blobs if is_stale else live_blobs).update(blobs)
    sizes = {**image_blobs, **cache_blobs}
    total = result.summary["total"]
    assert total["shared_with_cache_bytes"] == sum(sizes[d] for d in image_blobs.keys()
                                                   & cache_blobs.keys())
    assert total["cache_only_bytes"] == sum(sizes[d] for d in cache_blobs.keys()
                                            - image_blobs.keys())
    assert total["stale_cache_tags"] == stale_tags == 2
    assert total["stale_cache_unique_bytes"] == sum(
        sizes[d] for d in stale_blobs.keys() - live_blobs.keys())
    assert 0 < total["stale_cache_unique_bytes"] < total["stale_cache_bytes"]


def blobs_created_stale(pusher, repo, tag) -> bool:
    """Whether the test pushed ``repo:tag`` with the STALE date (read back from its config)."""
    import requests

    manifest = requests.get(f"{pusher.url}/v2/{repo}/manifests/{tag}", headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.oci.image.manifest.v1+json"}).json()
    config = requests.get(f"{pusher.url}/v2/{repo}/blobs/{manifest['config']['digest']}").json()
    return config["created"] == STALE


def test_ttl_and_patterns_change_what_counts_as_cache(registry, populated, result):
    now = datetime.now(UTC)
    lax = scan_registry(registry.url, ttl_hours=24 * 365 * 100, now=now)
    assert lax.summary["total"]["stale_cache_tags"] == 0
    assert lax.summary["total"]["unique_bytes"] == result.summary["total"]["unique_bytes"]
    no_cache = scan_registry(registry.url, cache_patterns=("*/nothing-matches",))
    assert no_cache.summary["total"]["shared_with_cache_bytes"] == 0
    assert no_cache.summary["total"]["cache_unique_bytes"] == 0
    # a reference time in 2020 makes nothing stale either
    past = scan_registry(registry.url, now=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=1))
    assert past.summary["total"]["stale_cache_tags"] == 0


def test_multi_arch_indexes_are_followed_per_platform(result):
    rows = result.layer_rows()
    multi = rows[rows.repository_path == "team/proj/multi"]
    assert set(multi.platform) == {"linux/amd64", "linux/arm64/v8"}
    assert multi.manifest_digest.nunique() == 2
    lib = rows[rows.repository_path == "team/other/lib"]
    assert set(lib.platform) == {"linux/amd64", "linux/ppc64le"}
    single = rows[rows.repository_path == "team/proj/app"]
    assert single.platform.isna().all()
    assert set(single.blob_kind) == {"layer", "config"}


def test_unknown_media_type_is_reported_and_skipped(result):
    assert [(s.repository, s.media_type) for s in result.skipped] == [
        ("other/x/odd", "application/vnd.example.future.manifest+json")]
    rows = result.layer_rows()
    odd = rows[rows.repository_path == "other/x/odd"]
    assert set(odd.platform) == {"linux/amd64"}  # the known sibling is still read


def test_layer_rows_reproduce_the_unique_bytes(result):
    rows = result.layer_rows()
    distinct = rows.drop_duplicates("blob_digest")
    assert int(distinct.size_bytes.sum()) == result.summary["total"]["unique_bytes"]
    assert not rows.duplicated(["repository_path", "tag_name", "manifest_digest",
                                "blob_digest"]).any()


def test_cli_json_for_chosen_repositories(registry, populated, capsys):
    code = main(["registry-scan", "--registry", registry.url, "--repository", "team/proj/app",
                 "--repository", "team/proj/app-cache", "--json", "--quiet"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in doc["repositories"]] == ["team/proj/app", "team/proj/app-cache"]
    assert set(doc["repositories"][0]) >= {"path", "tags", "sum_of_tags_bytes", "unique_bytes"}
    assert set(doc["total"]) >= {"sum_of_tags_bytes", "unique_bytes", "shared_with_cache_bytes",
                                 "stale_cache_tags", "stale_cache_unique_bytes"}
    _, sum_of_tags, unique = _ledger_figures(populated.ledger,
                                             {"team/proj/app", "team/proj/app-cache"})
    assert (doc["total"]["sum_of_tags_bytes"], doc["total"]["unique_bytes"]) == (
        sum_of_tags, unique)


def test_cli_text_output_and_skip_notice(registry, populated, capsys):
    assert main(["registry-scan", "--registry", registry.url, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "team/proj/app-cache (cache)" in out
    assert "unique (deduplicated)" in out
    assert "other/x/odd:latest" in out
    assert "application/vnd.example.future.manifest+json" in out


def test_cli_writes_registry_layers_into_a_dataset(registry, populated, tmp_path, capsys):
    data = tmp_path / "ds"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    assert main(["registry-scan", "--registry", registry.url, "--data", str(data),
                 "--quiet", "--json"]) == 0
    layers = load_dataset(data).registry_layers
    assert layers is not None
    assert int(layers.drop_duplicates("blob_digest").size_bytes.sum()) == sum(
        populated.pushed_sizes.values())
    assert set(layers.blob_kind) == {"layer", "config"}
    assert not list(data.glob(".*.tmp"))
    capsys.readouterr()


def test_unknown_repository_is_one_line(registry, populated, capsys):
    code = main(["registry-scan", "--registry", registry.url, "--repository", "no/such/repo"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "repository no/such/repo" in err and "not found" in err


def test_unreachable_registry_is_one_line(capsys):
    port = free_port()  # nothing listens there
    code = main(["registry-scan", "--registry", f"http://127.0.0.1:{port}", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"127.0.0.1:{port}" in err and "unreachable" in err


def test_data_dir_must_be_a_dataset(registry, tmp_path, capsys):
    code = main(["registry-scan", "--registry", registry.url, "--data", str(tmp_path)])
    assert code == 2
    assert "not a cachecost dataset" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_an_empty_repository_list_scans_nothing(registry, populated):
    result = scan_registry(registry.url, [])
    assert result.repositories == {}
    assert result.summary["total"]["unique_bytes"] == 0
    assert result.layer_rows().empty


def test_each_skipped_entry_is_reported_once(registry, populated, capsys):
    """One warning per skipped manifest: in the text output, or on stderr beside JSON."""
    for extra in ([], ["--json"]):
        assert main(["registry-scan", "--registry", registry.url, "--quiet", *extra]) == 0
        out, err = capsys.readouterr()
        text = err if extra else out
        assert text.count("other/x/odd:latest") == 1, (out, err)
        if not extra:
            assert "unsupported media type" not in err


def test_skipped_lines_merge_tags_of_one_manifest():
    from cachecost.collect.oci.scan import Skipped
    from cachecost.commands.registry_scan import skipped_lines

    items = [Skipped("r", "a", "sha256:1", "x/y", "unsupported media type in index"),
             Skipped("r", "b", "sha256:1", "x/y", "unsupported media type in index"),
             Skipped("r", "a", "sha256:1", "x/y", "unsupported media type in index"),
             Skipped("r", "c", None, "", "tag vanished during the scan")]
    assert skipped_lines(items) == [
        "r:a,b sha256:1 (x/y): unsupported media type in index",
        "r:c (?): tag vanished during the scan"]
