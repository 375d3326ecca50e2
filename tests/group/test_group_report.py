"""``report --group``: the index, its totals, the no-op rebuild, every page offline."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from report.sitekit import visit

from cachecost.group.report import build_group_report

GIB = 2.0**30


@pytest.fixture(scope="session")
def group_site(fetched_group, tmp_path_factory):
    out, _, _ = fetched_group
    site = tmp_path_factory.mktemp("group-site")
    build = build_group_report(out, site)
    return out, site, build


def test_index_rows_are_the_fetched_projects_sorted_by_saving(group_site):
    out, site, build = group_site
    res = json.loads((site / "results.json").read_text())
    catalog = pd.read_parquet(out / "catalog.parquet")
    done = catalog[catalog["status"] == "done"]
    assert {r["project_path"] for r in res["projects"]} == set(done["project_path"])
    savings = [r["saving_usd_per_month"]["mean"] for r in res["projects"]]
    assert savings == sorted(savings, reverse=True)
    for r in res["projects"]:
        page = json.loads((site / r["project"] / res["scenario"] / "results.json").read_text())
        assert page["baseline"] == r["strategy_in_use"]       # the pages' own numbers
        assert page["recommendation"]["winner"] == r["cheapest_strategy"]
        assert page["strategies"][r["strategy_in_use"]]["total_cost_usd_per_month"]["p50"] \
            == r["cost_usd_per_month"]["p50"]
        assert r["saving_usd_per_month"]["p10"] <= r["saving_usd_per_month"]["p50"] \
            <= r["saving_usd_per_month"]["p90"]
        assert (site / r["project"] / "results.json").is_file()
        assert (site / r["project"] / "index.html").is_file()
    text = (site / "summary.txt").read_text()
    assert text.startswith("SYNTHETIC DATA")
    assert all(p in text for p in catalog["project_path"])


def test_namespace_totals_equal_the_projects_datasets(group_site, standin_group):
    """The namespace line: GitLab's root-namespace bytes as served, and the projects'
    sum equal to the sum of each fetched dataset's container_registry_size."""
    out, site, _ = group_site
    ns = json.loads((site / "results.json").read_text())["namespace"]
    summed = sum(json.loads(md.read_text())["container_registry_size_bytes"]
                 for md in out.glob("project=*/metadata.json"))
    assert ns["projects_registry_gib"] == pytest.approx(summed / GIB)
    assert ns["namespace_registry_gib"] == pytest.approx(
        standin_group.namespace_registry_size_bytes() / GIB)
    # the 403 project's registry: counted by the namespace, in no dataset
    assert ns["unaccounted_gib"] == pytest.approx(3.0)


def test_unchanged_inputs_rebuild_nothing(group_site):
    out, site, _ = group_site
    again = build_group_report(out, site)
    assert again.is_noop


def test_every_project_page_opens_offline(group_site, browser_context):  # noqa: F811
    _, site, build = group_site
    index = visit(browser_context, site / "index.html")
    assert index.blocked_requests == [] and index.console_errors == []
    assert "SYNTHETIC DATA" in index.visible_text
    pages = [site / r["project"] / "index.html" for r in build.rows]
    pages += sorted(site.glob("*/*/*.html"))
    assert len(pages) > len(build.rows)
    for page in pages:
        v = visit(browser_context, page)
        assert v.blocked_requests == [], page
        assert v.console_errors == [], page
        assert all(c["has_svg"] for c in v.charts), page


def test_report_group_on_a_folder_that_is_no_group(tmp_path, capsys):
    from cachecost.cli import main

    out = tmp_path / "site"
    assert main(["report", "--group", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a fetched group" in err
    assert not out.exists()


def test_report_group_without_its_catalog_or_a_project_is_one_line(fetched_group, tmp_path,
                                                                   capsys):
    """A group folder whose catalog.parquet is gone, or whose catalog names a fetched
    project with no dataset folder: one line naming the file, exit 2, nothing written,
    before any project is built (before: a pyarrow FileNotFoundError traceback, exit 1;
    a missing project failed only after the other projects were built)."""
    import shutil

    from cachecost.cli import main

    g = tmp_path / "g"
    shutil.copytree(fetched_group[0], g)
    (g / "catalog.parquet").unlink()
    out = tmp_path / "site"
    assert main(["report", "--group", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "catalog.parquet" in err and "Traceback" not in err
    assert not out.exists()

    shutil.rmtree(g)
    shutil.copytree(fetched_group[0], g)
    done = pd.read_parquet(g / "catalog.parquet").query("status == 'done'")
    gone = g / f"project={done['project'].iloc[0]}"
    shutil.rmtree(gone)
    assert main(["report", "--group", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and gone.name in err, err
    assert not out.exists()
