"""The namespace as GitLab counts it: beside its projects, quota, and each project's model."""

from __future__ import annotations

import json

import pytest

from cachecost.dataset.io import load_dataset
from cachecost.group.render import registry_quota_sentence
from cachecost.group.report import namespace_summary
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario

GIB = 2.0**30


def test_namespace_summary_worked_by_hand():
    """Namespace 100 GiB; projects of 30 and 20 GiB growing 2 and 3 GiB/month; quota 150.

    Unaccounted 100 - 50 = 50 GiB; shares 30/100 = 0.3 and 20/100 = 0.2;
    months to quota (150 - 100) / (2 + 3) = 10.
    """
    rows = [{"registry_bytes": 30 * 2**30, "growth_gib_per_month": {"p50": 2.0}},
            {"registry_bytes": 20 * 2**30, "growth_gib_per_month": {"p50": 3.0}}]
    ns = namespace_summary(100 * 2**30, rows, 150.0)
    assert ns["unaccounted_gib"] == pytest.approx(50.0)
    assert [r["namespace_share"] for r in rows] == pytest.approx([0.3, 0.2])
    assert ns["months_to_quota_p50"] == pytest.approx(10.0)
    # already over the quota: 0 months; no quota or no growth: no figure
    assert namespace_summary(200 * 2**30, rows, 150.0)["months_to_quota_p50"] == 0.0
    assert namespace_summary(100 * 2**30, rows, None)["months_to_quota_p50"] is None
    flat = [{**r, "growth_gib_per_month": {"p50": 0.0}} for r in rows]
    assert namespace_summary(100 * 2**30, flat, 150.0)["months_to_quota_p50"] is None


def test_namespace_path_counts_the_step_to_steady_state():
    """Namespace 100 GiB; project A measured 30 GiB whose model path (p50, strategy in
    use) is [30, 60, 60] GiB at months 0..2 (a cache repository filling in month 1),
    project B 20 GiB flat [20, 20, 20]; 50 GiB not fetched. Summed with them:
    [100, 130, 130]. No growth after month 2.

    Quota 150: never reached, the registry ends at 130 GiB (87% of it), which the
    sentence says instead of "do not grow". Quota 120: reached in month 1, at
    (120 - 100) / (130 - 100) = 0.667 of it. Growth 1 GiB/month after the horizon and
    quota 150: 2 + (150 - 130) / 1 = 22 months.
    """
    def rows(growth_a: float = 0.0) -> list[dict]:
        return [{"registry_bytes": 30 * 2**30, "growth_gib_per_month": {"p50": growth_a},
                 "registry_gib_by_month_p50": [30.0, 60.0, 60.0]},
                {"registry_bytes": 20 * 2**30, "growth_gib_per_month": {"p50": 0.0},
                 "registry_gib_by_month_p50": [20.0, 20.0, 20.0]}]

    ns = namespace_summary(100 * 2**30, rows(), 150.0)
    assert ns["horizon_gib_p50"] == pytest.approx(130.0)
    assert ns["horizon_months"] == 2
    assert ns["months_to_quota_p50"] is None
    text = registry_quota_sentence({**ns, "namespace": "g"}, "s")
    assert "100.0 GiB today to 130.0 GiB at month 2" in text and "87% of the quota" in text
    assert "do not grow" not in text
    assert namespace_summary(100 * 2**30, rows(), 120.0)["months_to_quota_p50"] \
        == pytest.approx(2 / 3)
    assert namespace_summary(100 * 2**30, rows(1.0), 150.0)["months_to_quota_p50"] \
        == pytest.approx(22.0)
    assert "about 22.0 months to it" in registry_quota_sentence(
        namespace_summary(100 * 2**30, rows(1.0), 150.0), "s")


def test_each_project_model_sees_the_rest_of_the_namespace_as_measured(fetched_group,
                                                                       standin_group):
    """For each fetched project: other usage = (namespace - project) / GiB, from the
    bytes the stand-in serves (the whole group's registries, the 403 project's 3 GiB
    included), and the model uses it in place of the scenario's default guess."""
    out, result, _ = fetched_group
    ns_bytes = standin_group.namespace_registry_size_bytes()
    scenario = load_scenario()             # leaves storage.other_usage_gib at its default
    assert scenario.source("storage.other_usage_gib") == "default"
    for gp in standin_group.building_projects():
        ds = load_dataset(out / f"project={gp.path_with_namespace.replace('/', '~')}")
        usage = ds.metadata["registry_usage"]
        assert usage["namespace_container_registry_size_bytes"] == ns_bytes
        want = (ns_bytes - gp.registry_bytes) / GIB
        res = run_model(ds, scenario, samples=200)
        row = next(i for i in res["inputs"] if i["name"] == "storage.other_usage_gib")
        assert row["source"] == "measured"
        assert res["storage_over_horizon"]["other_usage_gib"] == pytest.approx(want)
        assert json.dumps(res)                                  # serializable
