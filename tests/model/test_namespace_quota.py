"""The root namespace's compute quota is shared: every project of the namespace draws on
it (GitLab doc ci/pipelines/compute_minutes.md, 2025: a job's minutes are "added to the
count of used units in the job's top-level namespace"), so the minutes the rest of the
namespace uses (``compute.other_usage_minutes_per_month``) leave less of it for this
project's container builds. Every figure worked by hand."""

from __future__ import annotations

import pytest
from model_test_helpers import FIXED_SCENARIO, evaluate, make_calibration, write_scenario

from cachecost.model.scenario import load_scenario

#: FIXED_SCENARIO on GitLab-hosted runners without a discount (cost factor 1 on a small
#: runner): 50,000 quota minutes, $10 per 1,000 beyond.
HOSTED = FIXED_SCENARIO.replace(
    """    compute:
      mode: private-runners
      usd_per_runner_hour: 6          # 0.1 USD per minute
""", """    compute:
      mode: gitlab-hosted
      cost_factor: null
      runner_size_factor: 1
      quota_minutes_per_month: 50000
      usd_per_1000_minutes: 10
      other_usage_minutes_per_month: {other}
""")

#: One image built 1,000 times a month in 8 minutes, never changed: dind uses
#: 1,000 * 8 = 8,000 runner minutes, billed at factor 1: 8,000 quota minutes.
EIGHT_THOUSAND = {"a": {"builds_per_month": 1000.0, "cached_build_min": 8.0,
                        "changes_per_month": 0.0, "change_events": 0.0}}


@pytest.mark.parametrize(("other", "bought", "usd"), [
    (0, 0.0, 0.0), (30000, 0.0, 0.0), (45000, 3000.0, 30.0), (60000, 8000.0, 80.0)])
def test_the_rest_of_the_namespace_draws_on_the_quota_first(tmp_path, other, bought, usd):
    """Quota 50,000 minutes; this project's container builds 8,000 billed minutes; no
    other CI of its own. The rest of the namespace uses ``other`` billed minutes first:

    * 0: 8,000 <= 50,000, nothing bought, $0;
    * 30,000: 38,000 <= 50,000, $0;
    * 45,000: 53,000 - 50,000 = 3,000 minutes bought, 3 * $10 = $30 a month;
    * 60,000: the quota is gone before this project starts, all 8,000 bought: $80.
    (Marginal: max(0, 8,000 + other - 50,000) - max(0, other - 50,000).)"""
    sc = load_scenario(write_scenario(tmp_path, HOSTED.format(other=other)))
    assert sc.source("compute.other_usage_minutes_per_month") == "scenario"
    dind = evaluate(make_calibration(EIGHT_THOUSAND), sc)["dind-inline-cache"]
    assert dind["quota_minutes_used_per_month"] == pytest.approx(8000.0)
    assert dind["compute_cost_usd_per_month"] == pytest.approx(bought * 10 / 1000)
    assert dind["compute_cost_usd_per_month"] == pytest.approx(usd)


def test_the_project_own_other_ci_and_the_namespace_add_up(tmp_path):
    """The project's own other CI (2,000 runner minutes at factor 1) and the rest of the
    namespace (45,000) both come first: 2,000 + 45,000 + 8,000 - 50,000 = 5,000 minutes
    bought, $50; without the namespace: 10,000 <= 50,000, $0."""
    cal = make_calibration(EIGHT_THOUSAND, other_minutes=2000.0)
    shared = load_scenario(write_scenario(tmp_path, HOSTED.format(other=45000), "a.yaml"))
    alone = load_scenario(write_scenario(tmp_path, HOSTED.format(other=0), "b.yaml"))
    assert evaluate(cal, shared)["dind-inline-cache"]["compute_cost_usd_per_month"] \
        == pytest.approx(50.0)
    assert evaluate(cal, alone)["dind-inline-cache"]["compute_cost_usd_per_month"] == 0.0


def test_the_key_defaults_to_none_of_the_quota_used(tmp_path):
    """A scenario that leaves the key out sees the whole quota (default 0, source
    "default"), as a project alone in its namespace does."""
    body = HOSTED.replace("      other_usage_minutes_per_month: {other}\n", "")
    sc = load_scenario(write_scenario(tmp_path, body))
    assert sc.value("compute.other_usage_minutes_per_month") == 0.0
    assert sc.source("compute.other_usage_minutes_per_month") == "default"
