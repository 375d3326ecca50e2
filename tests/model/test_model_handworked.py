"""Hand-worked examples: one image with round numbers, every input fixed.

Image: B = 100 builds/month, c = 2 changes/month, t_hit 2, t_change 6, t_miss 10
minutes; S = 1 GiB, 2 tags (per-tag 2 GiB, dedup 1.25 GiB), 5 RUN steps. The
expected values below are worked out by hand from the formulas in docs/model.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_test_helpers import FIXED_SCENARIO, evaluate, make_calibration, write_scenario

from cachecost.model.scenario import load_scenario
from cachecost.model.simulate import months_to_reach

TTL_EXTRA = 2 / (1 - math.exp(-1)) - 2      # kaniko renewals beyond changes, tau = 0.5 month


@pytest.fixture
def one_image():
    return make_calibration({"img": {}})


def test_upstream_compute_minutes(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    got = {s: r[s]["compute_minutes_per_month"] for s in r}
    assert got["dind-inline-cache"] == pytest.approx(100 * 2 + 2 * (6 - 2))          # 208
    assert got["no-cache"] == pytest.approx(100 * 10)
    assert got["rebuild-on-change"] == pytest.approx(100 * 0.5 + 2 * 5.5 + 4 * 9.5)  # 99
    assert got["kaniko-cache-repo"] == pytest.approx(208 + TTL_EXTRA * 8)            # 217.3
    assert got["buildkit-registry-cache-min"] == pytest.approx(208)
    assert got["buildkit-registry-cache-max"] == pytest.approx(100 * 2 + 2 * 3)      # 206


def test_compute_cost_private_runners(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    assert r["dind-inline-cache"]["compute_cost_usd_per_month"] == pytest.approx(20.8)
    assert r["no-cache"]["compute_cost_usd_per_month"] == pytest.approx(100.0)


def test_fork_minutes_feedback_and_quota_share(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    assert r["dind-inline-cache"]["fork_compute_minutes_per_month"] == pytest.approx(24.0)
    assert r["dind-inline-cache"]["fork_pipeline_feedback_minutes"] == pytest.approx(2.4)
    assert r["kaniko-cache-repo"]["fork_compute_minutes_per_month"] == pytest.approx(100.0)
    assert r["kaniko-cache-repo"]["fork_pipeline_feedback_minutes"] == pytest.approx(10.0)
    assert r["rebuild-on-change"]["fork_compute_minutes_per_month"] == pytest.approx(10.5)
    assert r["buildkit-registry-cache-max"]["fork_compute_minutes_per_month"] == \
        pytest.approx(23.0)
    # 24 min x 0.008 / 2 owners = 0.096 quota minutes of 400
    assert r["dind-inline-cache"]["fork_quota_share"] == pytest.approx(0.096 / 400)
    assert r["dind-inline-cache"]["fork_compute_cost_usd_per_month"] == 0.0


def test_registry_gib_both_accountings(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    dedup = {s: r[s]["registry_gib:root-namespace-dedup"] for s in r}
    per_tag = {s: r[s]["registry_gib:per-tag"] for s in r}
    assert dedup["dind-inline-cache"] == pytest.approx(1.25)
    assert per_tag["dind-inline-cache"] == pytest.approx(2.0)
    assert dedup["kaniko-cache-repo"] == pytest.approx(1.25 + 0.8 * 2 * 12)          # 20.45
    assert per_tag["kaniko-cache-repo"] == pytest.approx(2 + 2 * 0.9 + 0.8 * 2 * 12)  # 23.0
    assert dedup["rebuild-on-change"] == pytest.approx(1.25 + 0.8 * 2 * 12)
    assert per_tag["rebuild-on-change"] == pytest.approx(2 + 1.0 * 2 * 12)            # 26
    assert per_tag["buildkit-registry-cache-min"] == pytest.approx(4.0)
    assert dedup["buildkit-registry-cache-min"] == pytest.approx(1.25)
    assert per_tag["buildkit-registry-cache-max"] == pytest.approx(2 + 2 * 1.1)
    assert dedup["buildkit-registry-cache-max"] == pytest.approx(1.25 + 2 * 0.1)


def test_storage_cost_and_months_to_quota(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    assert r["dind-inline-cache"]["storage_cost_usd_per_month"] == pytest.approx(1.25)
    # mean over months 1..12 of 1.25 + 1.6 m, at 1 USD per GiB-month
    assert r["kaniko-cache-repo"]["storage_cost_usd_per_month"] == pytest.approx(11.65)
    assert r["kaniko-cache-repo"]["months_to_quota"] == pytest.approx((10 - 1.25) / 1.6)
    assert r["dind-inline-cache"]["months_to_quota"] == math.inf
    assert r["dind-inline-cache"]["total_cost_usd_per_month"] == pytest.approx(20.8 + 1.25)


@pytest.mark.parametrize(("policy", "strategy", "expected_gib"), [
    ("{older_than_days: 30.4375}", "kaniko-cache-repo", 1.25 + 1.6 * 1),
    ("{keep_n: 20}", "kaniko-cache-repo", 1.25 + 1.6 * 1),          # 20/5 - 2 = 2 sets
    ("{keep_n: 20, older_than_days: 91.3125}", "kaniko-cache-repo", 1.25 + 1.6 * 3),
    ("{keep_n: 20}", "rebuild-on-change", 1.25 + 1.6 * 9),          # 20 - 2 = 18 tags
])
def test_cleanup_policy_caps_stale_growth(tmp_path, one_image, policy, strategy, expected_gib):
    text = FIXED_SCENARIO.replace("quota_gib: 10", f"quota_gib: 10\n      cleanup_policy: {policy}")
    scenario = load_scenario(write_scenario(tmp_path, text))
    r = evaluate(one_image, scenario)
    assert r[strategy]["registry_gib:root-namespace-dedup"] == pytest.approx(expected_gib)


def test_gitlab_hosted_overage(tmp_path):
    text = FIXED_SCENARIO.replace(
        "mode: private-runners\n      usd_per_runner_hour: 6          # 0.1 USD per minute",
        "mode: gitlab-hosted\n      cost_factor: 0.5\n      quota_minutes_per_month: 1000\n"
        "      usd_per_1000_minutes: 10")
    scenario = load_scenario(write_scenario(tmp_path, text))
    # other jobs use 750 of the 1000 quota minutes: dind's 104 fit, no-cache's 500 overflow by 250
    r = evaluate(make_calibration({"img": {}}, other_minutes=1500), scenario)
    assert r["dind-inline-cache"]["quota_minutes_used_per_month"] == pytest.approx(104)
    assert r["dind-inline-cache"]["compute_cost_usd_per_month"] == pytest.approx(0.0)
    assert r["no-cache"]["compute_cost_usd_per_month"] == pytest.approx(2.50)
    # other jobs already over the quota: every container minute is bought
    r = evaluate(make_calibration({"img": {}}, other_minutes=2500), scenario)
    assert r["dind-inline-cache"]["compute_cost_usd_per_month"] == pytest.approx(1.04)


def test_months_to_reach_piecewise():
    level0 = np.array([0.0, 0.0, 20.0])
    slopes = np.array([[1.0], [2.0]]) * np.ones((2, 3))        # (images, samples)
    caps = np.array([[2.0], [5.0]]) * np.ones((2, 3))
    # G(m) = min(m, 2) + 2 min(m, 5): G(2) = 6, then slope 2 -> 7 at m = 2.5; max 12
    got = months_to_reach(level0, slopes, caps, 7.0)
    assert got[0] == pytest.approx(2.5)
    assert got[2] == 0.0
    assert months_to_reach(level0[:1], slopes[:, :1], caps[:, :1], 100.0)[0] == math.inf
    assert months_to_reach(level0[:1], slopes[:, :1], None, 9.0)[0] == pytest.approx(3.0)
