"""The group's compute quota is the root namespace's: each project's model sees the other
fetched projects' measured billed minutes (``compute.other_usage_minutes_per_month``),
and the index and summary say the quota is shared and how much of it the projects use."""

from __future__ import annotations

import html
import json
import shutil

import pandas as pd
import pytest
import yaml

from cachecost.dataset.io import load_dataset
from cachecost.group.minutes import measured_minutes, others_minutes
from cachecost.group.report import GROUP_SCENARIO_PATH, build_group_report
from cachecost.model.calibrate import calibrate
from cachecost.model.scenario import load_scenario


def test_others_minutes_by_hand():
    """[2,000, 45,000, 8,000]: 53,000 besides the first, 10,000 besides the second,
    47,000 besides the third."""
    assert others_minutes([2000.0, 45000.0, 8000.0]) == [53000.0, 10000.0, 47000.0]


def test_measured_minutes_are_the_calibration_at_the_billed_factor(fetched_group):
    """Billed = (container-build minutes + other CI minutes, as the model's calibration
    measures them) x min(runner size 1, discount 0.5) = half the runner minutes under
    the group scenario; 0 billed on private runners (not subject to the quota)."""
    out, _, _ = fetched_group
    scenario = load_scenario(GROUP_SCENARIO_PATH)
    for ds_dir in sorted(out.glob("project=*")):
        cal = calibrate(load_dataset(ds_dir))
        runner = cal.container_minutes_per_month + cal.other_minutes_per_month
        m = measured_minutes(ds_dir, scenario)
        assert runner > 0
        assert m["runner_minutes_per_month"] == pytest.approx(runner)
        assert m["quota_minutes_per_month"] == pytest.approx(0.5 * runner)
    private = load_scenario()                   # the default scenario: private runners
    assert private.value("compute.mode") == "private-runners"
    assert measured_minutes(ds_dir, private)["quota_minutes_per_month"] == 0.0


def _scenario_with_quota(tmp_path, quota: float):
    doc = yaml.safe_load(GROUP_SCENARIO_PATH.read_text(encoding="utf-8"))
    doc["compute"]["quota_minutes_per_month"] = round(quota)
    path = tmp_path / "small-quota.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_project_costs_more_when_another_project_uses_the_quota(fetched_group, tmp_path):
    """Two building projects A (fewer billed minutes) and B. With a quota of
    billed_A + billed_B / 2, A alone (B left out of the catalog) stays under it, so its
    minutes cost nothing; beside B, the namespace is billed_B / 2 over and A's model,
    seeing B's billed minutes as other usage, buys minutes: A's cost rises by its compute
    cost, and A's model saw exactly B's measured billed minutes."""
    out, _, _ = fetched_group
    scenario = load_scenario(GROUP_SCENARIO_PATH)
    catalog = pd.read_parquet(out / "catalog.parquet")
    done = catalog[catalog["status"] == "done"]["project"].tolist()
    assert len(done) == 2
    billed = {k: measured_minutes(out / f"project={k}", scenario)["quota_minutes_per_month"]
              for k in done}
    a, b = sorted(done, key=billed.__getitem__)
    path = _scenario_with_quota(tmp_path, billed[a] + billed[b] / 2)

    both = build_group_report(out, tmp_path / "both", scenario_path=path, pages=False,
                              samples=200, jobs=1)
    row = {r["project"]: r for r in both.rows}
    assert row[a]["other_usage_minutes_per_month"] == pytest.approx(billed[b], abs=0.1)
    assert row[b]["other_usage_minutes_per_month"] == pytest.approx(billed[a], abs=0.1)
    res_a = json.loads((tmp_path / "both" / a / "results.json").read_text())
    seen = next(i for i in res_a["inputs"]
                if i["name"] == "compute.other_usage_minutes_per_month")
    assert seen["value"] == pytest.approx(billed[b], abs=0.1)

    alone_dir = tmp_path / "alone-group"
    shutil.copytree(out, alone_dir)
    cat = pd.read_parquet(alone_dir / "catalog.parquet")
    cat.loc[cat["project"] == b, "status"] = "skipped"
    cat.to_parquet(alone_dir / "catalog.parquet")
    alone = build_group_report(alone_dir, tmp_path / "alone", scenario_path=path,
                               pages=False, samples=200, jobs=1)
    (row_alone,) = alone.rows
    assert row_alone["other_usage_minutes_per_month"] == 0.0
    res_alone = json.loads((tmp_path / "alone" / a / "results.json").read_text())
    in_use = res_a["baseline"]
    compute_alone = res_alone["strategies"][in_use]["compute_cost_usd_per_month"]["mean"]
    compute_both = res_a["strategies"][in_use]["compute_cost_usd_per_month"]["mean"]
    assert compute_alone == 0.0
    assert compute_both > 0.0
    assert row[a]["cost_usd_per_month"]["mean"] > row_alone["cost_usd_per_month"]["mean"]


def test_the_index_and_summary_say_the_quota_is_shared(fetched_group, tmp_path):
    """The group's results, index and summary: the quota (50,000 minutes, the group
    scenario's), the fetched projects' billed minutes together (the sum of the rows'
    measured minutes) and their share of it."""
    out, _, _ = fetched_group
    site = tmp_path / "site"
    build = build_group_report(out, site, pages=False, samples=200, jobs=1)
    ns = json.loads((site / "results.json").read_text())["namespace"]["compute"]
    together = sum(r["quota_minutes_per_month"] for r in build.rows)
    assert ns["is_shared"] and ns["other_usage_is_measured"]
    assert ns["quota_minutes_per_month"] == 50000
    assert ns["fetched_quota_minutes_per_month"] == pytest.approx(together)
    text = " ".join((site / "summary.txt").read_text().split())
    index = " ".join(html.unescape((site / "index.html").read_text()).split())
    for shown in (text, index):
        assert "The compute quota, 50,000 minutes a month, is the root namespace's" in shown
        assert (f"use {together:,.0f} billed minutes a month together, "
                f"{100 * together / 50000:.0f}% of it (measured") in shown


def test_a_scenario_that_sets_the_other_minutes_keeps_them(fetched_group, tmp_path):
    """A group scenario that sets compute.other_usage_minutes_per_month (1,234) keeps it
    for every project, as a scenario that sets storage.other_usage_gib does: no row
    carries measured other minutes, and the summary says the models see the scenario's
    1,234 minutes, not the measured ones."""
    out, _, _ = fetched_group
    doc = yaml.safe_load(GROUP_SCENARIO_PATH.read_text(encoding="utf-8"))
    doc["compute"]["other_usage_minutes_per_month"] = 1234
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    site = tmp_path / "site"
    build = build_group_report(out, site, scenario_path=path, pages=False, samples=200,
                               jobs=1)
    assert all(r["other_usage_minutes_per_month"] is None for r in build.rows)
    for r in build.rows:
        res = json.loads((site / r["project"] / "results.json").read_text())
        seen = next(i for i in res["inputs"]
                    if i["name"] == "compute.other_usage_minutes_per_month")
        assert seen["value"] == 1234
    text = " ".join((site / "summary.txt").read_text().split())
    assert "sees the scenario's 1,234 minutes a month of other usage" in text


def test_a_namespace_busier_than_ten_million_minutes_still_builds(fetched_group, tmp_path,
                                                                   monkeypatch):
    """The rest of the namespace is measured, not typed: 200 copies of the demo group's
    projects (about 56,000 billed minutes a month each) give each project 11.2 million
    other minutes, which the key's old plausible range (at most 10 million) refused, so
    ``bench_group.py``'s 200-project group report failed on its first project. Here each
    project's others are set to 12 million (the sum such a group measures): the report
    builds and each project's model sees them."""
    out, _, _ = fetched_group
    monkeypatch.setattr("cachecost.group.report.others_minutes",
                        lambda billed: [1.2e7] * len(billed))
    build = build_group_report(out, tmp_path / "site", pages=False, samples=200, jobs=1)
    assert [r["other_usage_minutes_per_month"] for r in build.rows] == [1.2e7] * 2
