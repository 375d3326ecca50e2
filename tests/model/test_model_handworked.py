"""Hand-worked examples: one image with round numbers, every input fixed.

Image: B = 100 successful builds/month, c = 2 changes/month, t_hit 2, t_change 6,
t_miss 10 minutes; S = 1 GiB, T = 2 tags (per-tag 2 GiB, dedup 1.25 GiB), 5 RUN
steps, multi-stage. Scenario (model_test_helpers.FIXED_SCENARIO): runner time
0.1 USD/minute, shadow price 1 USD per GiB-month, no storage cash, every
strategy with the cleanup policy it declares (kaniko: keep 1, older than 14 days;
rebuild-on-change: keep 5, older than 14 days). The expected values below are
worked out by hand from the formulas in docs/model.md.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from model_test_helpers import FIXED_SCENARIO, evaluate, make_calibration, write_scenario

from cachecost.errors import CachecostError
from cachecost.model.cleanup import NEVER_MONTHS, CleanupPolicy, stale_cap_months
from cachecost.model.registry import months_to_reach
from cachecost.model.scenario import load_scenario
from cachecost.model.strategies import STRATEGIES

TTL_EXTRA = 2 / (1 - math.exp(-1)) - 2      # kaniko renewals beyond changes, tau = 0.5 month
D14 = 14 / 30.4375                          # 14 days in months: 0.459959


@pytest.fixture
def one_image():
    return make_calibration({"img": {}})


def _scenario(tmp_path, old: str, new: str, name: str = "s.yaml"):
    assert old in FIXED_SCENARIO
    return load_scenario(write_scenario(tmp_path, FIXED_SCENARIO.replace(old, new), name))


def test_upstream_compute_minutes(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    got = {s: r[s]["compute_minutes_per_month"] for s in r}
    assert got["dind-inline-cache"] == pytest.approx(100 * 2 + 2 * (6 - 2))          # 208
    assert got["no-cache"] == pytest.approx(100 * 10)
    assert got["rebuild-on-change"] == pytest.approx(100 * 0.5 + 2 * 5.5 + 4 * 9.5)  # 99
    assert got["kaniko-cache-repo"] == pytest.approx(208 + TTL_EXTRA * 8)            # 217.3
    assert got["buildkit-registry-cache-min"] == pytest.approx(208)
    assert got["buildkit-registry-cache-max"] == pytest.approx(100 * 2 + 2 * 3)      # 206


def test_failed_jobs_cost_their_own_measured_minutes(fixed_scenario):
    """30 measured minutes of failed/canceled jobs a month are added as they are, to
    every strategy: dind 208 + 30, no-cache 1000 + 30 (not priced as cached builds)."""
    r = evaluate(make_calibration({"img": {"failed_min_per_month": 30.0}}), fixed_scenario)
    assert r["dind-inline-cache"]["compute_minutes_per_month"] == pytest.approx(238.0)
    assert r["no-cache"]["compute_minutes_per_month"] == pytest.approx(1030.0)


def test_kaniko_ttl_ages_each_entry_from_its_own_push(tmp_path, one_image):
    """phi = 0.5: only c' = 1 change a month rewrites the first cached layer; it expires
    tau = 0.5 month after its own push: renewals 1/(1 - e^-0.5) = 2.5415, of which
    1.5415 are TTL misses (full rebuilds): 208 + 1.5415 * (10 - 2) = 220.33 minutes."""
    sc = _scenario(tmp_path, "kaniko_full_change_share: 1", "kaniko_full_change_share: 0.5")
    extra = 1 / (1 - math.exp(-0.5)) - 1
    assert extra == pytest.approx(1.5415, abs=1e-4)
    r = evaluate(one_image, sc)
    assert r["kaniko-cache-repo"]["compute_minutes_per_month"] == pytest.approx(208 + 8 * extra)


def test_kaniko_ttl_misses_at_the_limits():
    """TTL misses per month are c'/(e^x - 1), x = c'*tau (tau = 0.5 month here):
    no renewing change (c' = 0) leaves one miss every tau, 1/0.5 = 2 a month; a tiny
    c' = 1e-12 still gives 2 - c'/2 (the series 1/tau - c'/2 + ...), where the form
    c'/(1 - e^-x) - c' loses every digit to cancellation; c' = 1000 (x = 500) gives
    1000/(e^500 - 1), about 0 and never negative; and c' = 2 gives 2/(e - 1) = 1.16395."""
    c = np.array([[0.0], [1e-12], [1000.0], [2.0]])
    d = SimpleNamespace(changes_per_month=c, kaniko_full_change_share=1.0,
                        kaniko_ttl_months=0.5)
    got = STRATEGIES["kaniko-cache-repo"].extra_full_builds_per_month(d)[:, 0]
    assert got[0] == 2.0
    assert got[1] == pytest.approx(2.0 - 0.5e-12, rel=1e-15)
    assert 0.0 <= got[2] < 1e-200
    assert got[3] == pytest.approx(2.0 / (math.e - 1.0), rel=1e-15)


def test_kaniko_hit_pulls_and_extracts_every_cached_layer(tmp_path):
    """0.5 min/GiB to pull and extract r*S = 0.9 GiB: t_hit = 2.45. Minutes:
    100*2.45 + 2*(6 - 2.45) + 1.16395*(10 - 2.45) = 245 + 7.1 + 8.788 = 260.89.
    A measured kaniko all-hit build (override, 3 min) replaces the estimate."""
    sc = _scenario(tmp_path, "kaniko_pull_extract_min_per_gib: 0",
                   "kaniko_pull_extract_min_per_gib: 0.5")
    r = evaluate(make_calibration({"img": {}}), sc)
    expected = 100 * 2.45 + 2 * (6 - 2.45) + TTL_EXTRA * (10 - 2.45)
    assert r["kaniko-cache-repo"]["compute_minutes_per_month"] == pytest.approx(expected)
    assert r["dind-inline-cache"]["compute_minutes_per_month"] == pytest.approx(208)
    r = evaluate(make_calibration({"img": {"kaniko_hit_build_min": 3.0}}), sc)
    expected = 100 * 3 + 2 * (6 - 3) + TTL_EXTRA * (10 - 3)
    assert r["kaniko-cache-repo"]["compute_minutes_per_month"] == pytest.approx(expected)


def test_rebuild_on_change_leaves_out_base_image_refreshes(tmp_path, one_image):
    """Half of the 2 measured rebuilds are base-image refreshes: rebuild-on-change makes 1
    new hash a month: 100*0.5 + 1*(6 - 0.5) + 4*(10 - 0.5) = 93.5 minutes; dind keeps 208."""
    sc = _scenario(tmp_path, "base_image_refresh_share: 0", "base_image_refresh_share: 0.5")
    r = evaluate(one_image, sc)
    assert r["rebuild-on-change"]["compute_minutes_per_month"] == pytest.approx(93.5)
    assert r["dind-inline-cache"]["compute_minutes_per_month"] == pytest.approx(208)
    # stale hash tags: 1 a month of u*S = 0.8 GiB, kept 3 sets / 1 a month = 3 months
    assert r["rebuild-on-change"]["registry_gib:root-namespace-dedup"] == pytest.approx(
        1.25 + 0.8 * 3)


def test_buildkit_max_only_for_multi_stage_images(fixed_scenario):
    """A single-stage image: mode=max exports the same layers as mode=min and saves
    nothing: 208 minutes, dedup 1.25 GiB, per-tag 4 GiB (the min figures)."""
    r = evaluate(make_calibration({"img": {"is_multi_stage": 0.0}}), fixed_scenario)
    bk = r["buildkit-registry-cache-max"]
    assert bk["compute_minutes_per_month"] == pytest.approx(208)
    assert bk["registry_gib:root-namespace-dedup"] == pytest.approx(1.25)
    assert bk["registry_gib:per-tag"] == pytest.approx(4.0)


def test_compute_cost_private_runners(one_image, fixed_scenario):
    r = evaluate(one_image, fixed_scenario)
    assert r["dind-inline-cache"]["compute_cost_usd_per_month"] == pytest.approx(20.8)
    assert r["no-cache"]["compute_cost_usd_per_month"] == pytest.approx(100.0)


def test_fork_minutes_wait_and_quota_share(one_image, fixed_scenario):
    """F = 10 fork pipelines, O = 2 owners, d = 0.1, n = 1, c = 2/month; t_hit 2,
    t_change 6, t_miss 10. A fork's job reads upstream's registry (R = 1): dind
    2 + 0.1*4 = 2.4 min a build, 24 a month; kaniko (no pull time, n = 1) the same;
    rebuild-on-change 0.5 + 0.1*5.5 = 1.05 -> 10.5; BuildKit max (change 6 - 0.25*4
    = 5) 2 + 0.1*3 = 2.3 -> 23. It cannot (R = 0): kaniko has no cache, 10 min a
    build -> 100; dind reads its own tag, which each upstream change makes stale for
    a share u = min(1, 2*2/10) = 0.4 of its builds: s = 0.5, 2 + 0.5*4 = 4 -> 40;
    rebuild-on-change 0.5 + 0.5*5.5 = 3.25 -> 32.5."""
    r = evaluate(one_image, fixed_scenario, forks__reads_upstream_registry_probability=1)
    assert r["dind-inline-cache"]["fork_compute_minutes_per_month"] == pytest.approx(24.0)
    # one image: E[max] is its expected build, 2 + 0.1*(6 - 2)
    assert r["dind-inline-cache"]["fork_wait_minutes"] == pytest.approx(2.4)
    assert r["kaniko-cache-repo"]["fork_compute_minutes_per_month"] == pytest.approx(24.0)
    assert r["rebuild-on-change"]["fork_compute_minutes_per_month"] == pytest.approx(10.5)
    assert r["buildkit-registry-cache-max"]["fork_compute_minutes_per_month"] == \
        pytest.approx(23.0)
    # 24 min x 0.008 / 2 owners = 0.096 quota minutes of 400
    assert r["dind-inline-cache"]["fork_quota_share"] == pytest.approx(0.096 / 400)
    assert r["dind-inline-cache"]["fork_compute_cost_usd_per_month"] == 0.0
    r = evaluate(one_image, fixed_scenario)                     # R = 0
    assert r["kaniko-cache-repo"]["fork_compute_minutes_per_month"] == pytest.approx(100.0)
    assert r["kaniko-cache-repo"]["fork_pipeline_feedback_minutes"] == pytest.approx(10.0)
    assert r["dind-inline-cache"]["fork_compute_minutes_per_month"] == pytest.approx(40.0)
    assert r["dind-inline-cache"]["fork_wait_minutes"] == pytest.approx(4.0)
    assert r["rebuild-on-change"]["fork_compute_minutes_per_month"] == pytest.approx(32.5)


def test_kaniko_fork_rebuilds_a_changed_image_on_every_pipeline(one_image, fixed_scenario):
    """R = 1, d = 0.1, n = 3 pipelines carry each change: kaniko cannot push its cache
    from a fork, so 0.3 of its fork builds rebuild from the changed step: 2 + 0.3*4 =
    3.2 min, 32 a month; dind only the first: 24. A second cache source (the fork's
    own) would save kaniko 32 - 24 = 8 min a month; with R = 0 it would save
    100 - 40 = 60 (scratch against the fork's own cache)."""
    r = evaluate(one_image, fixed_scenario, forks__reads_upstream_registry_probability=1,
                 forks__pipelines_per_image_change=3)
    kaniko = r["kaniko-cache-repo"]
    assert kaniko["fork_compute_minutes_per_month"] == pytest.approx(32.0)
    assert r["dind-inline-cache"]["fork_compute_minutes_per_month"] == pytest.approx(24.0)
    assert kaniko["fork_single_cache_source_minutes_per_month"] == pytest.approx(8.0)
    r0 = evaluate(one_image, fixed_scenario, forks__pipelines_per_image_change=3)
    assert r0["kaniko-cache-repo"]["fork_single_cache_source_minutes_per_month"] == \
        pytest.approx(60.0)


def test_fork_wait_is_the_expected_slowest_job(fixed_scenario):
    """Two images, d = 0.1. A: hit 2, change 6; B: hit 3, change 4 (miss 10 each).
    max is 3 (both hit, 0.81), 4 (B changed, A hit, 0.09), 6 (A changed, 0.1):
    E[max] = 2.43 + 0.36 + 0.6 = 3.39, above the slowest expectation max(2.4, 3.1)."""
    cal = make_calibration({"a": {"cached_build_min": 2.0, "change_build_min": 6.0},
                            "b": {"cached_build_min": 3.0, "change_build_min": 4.0}})
    r = evaluate(cal, fixed_scenario, forks__reads_upstream_registry_probability=1)
    assert r["dind-inline-cache"]["fork_wait_minutes"] == pytest.approx(3.39)
    assert r["no-cache"]["fork_wait_minutes"] == pytest.approx(10.0)


def test_registry_gib_with_each_strategys_cleanup(one_image, fixed_scenario):
    """kaniko (keep 1, 14 days): 1/5 - 2 < 0 sets by count, so the age rule keeps
    c*D = 2*0.46 sets of min(u, r)*S = 0.8 GiB. rebuild-on-change (keep 5, 14 days):
    5 - 2 = 3 old hash tags by count (1.5 months > 0.46) of u*S = 0.8 GiB (dedup)
    or S = 1 GiB (per tag)."""
    r = evaluate(one_image, fixed_scenario)
    dedup = {s: r[s]["registry_gib:root-namespace-dedup"] for s in r}
    per_tag = {s: r[s]["registry_gib:per-tag"] for s in r}
    assert dedup["dind-inline-cache"] == pytest.approx(1.25)
    assert per_tag["dind-inline-cache"] == pytest.approx(2.0)
    assert dedup["kaniko-cache-repo"] == pytest.approx(1.25 + 1.6 * D14)            # 1.986
    assert per_tag["kaniko-cache-repo"] == pytest.approx(2 + 2 * 0.9 + 1.6 * D14)
    assert dedup["rebuild-on-change"] == pytest.approx(1.25 + 0.8 * 3)                # 3.65
    assert per_tag["rebuild-on-change"] == pytest.approx(2 + 1.0 * 3)                 # 5
    assert per_tag["buildkit-registry-cache-min"] == pytest.approx(4.0)
    assert dedup["buildkit-registry-cache-min"] == pytest.approx(1.25)
    assert per_tag["buildkit-registry-cache-max"] == pytest.approx(2 + 2 * 1.1)
    assert dedup["buildkit-registry-cache-max"] == pytest.approx(1.25 + 2 * 0.1)


def test_kaniko_digest_sharing_is_a_probability(tmp_path, one_image):
    """p = 0.5 that cache layers share the image's digests: under dedup the current
    cache sets cost (1 - 0.5) * T*r*S = 0.5 * 2 * 0.9 = 0.9 GiB in expectation."""
    sc = _scenario(tmp_path, "kaniko_layer_digest_shared_probability: 1",
                   "kaniko_layer_digest_shared_probability: 0.5")
    r = evaluate(one_image, sc)
    assert r["kaniko-cache-repo"]["registry_gib:root-namespace-dedup"] == pytest.approx(
        1.25 + 0.9 + 1.6 * D14)
    r0 = evaluate(one_image, sc, assumptions__kaniko_layer_digest_shared_probability=0)
    assert r0["kaniko-cache-repo"]["registry_gib:root-namespace-dedup"] == pytest.approx(
        1.25 + 1.8 + 1.6 * D14)


def test_money_kinds_apart_and_steady_state_storage(one_image, fixed_scenario):
    """Shadow at 1 USD per GiB-month on the priced GiB, G(12) (here the steady state:
    kaniko's 14-day cap is reached within the year); no storage cash (the
    registry is not billed); the total adds project cash, shadow and fork owners' cash."""
    r = evaluate(one_image, fixed_scenario)
    dind, kaniko = r["dind-inline-cache"], r["kaniko-cache-repo"]
    assert dind["shadow_storage_usd_per_month"] == pytest.approx(1.25)
    assert dind["storage_cash_usd_per_month"] == 0.0
    assert dind["project_cash_usd_per_month"] == pytest.approx(20.8)
    assert dind["total_cost_usd_per_month"] == pytest.approx(20.8 + 1.25)
    assert kaniko["shadow_storage_usd_per_month"] == pytest.approx(1.25 + 1.6 * D14)
    assert kaniko["months_to_quota"] == math.inf          # 1.99 GiB never reaches 10
    assert kaniko["registry_growth_gib_per_month"] == 0.0


def test_recommendation_can_weigh_cash_only(tmp_path, one_image):
    sc = _scenario(tmp_path, "    assumptions:", "    decision:\n      weighs: [project_cash]\n"
                                                 "    assumptions:")
    r = evaluate(one_image, sc)
    assert r["dind-inline-cache"]["total_cost_usd_per_month"] == pytest.approx(20.8)
    assert r["dind-inline-cache"]["shadow_storage_usd_per_month"] == pytest.approx(1.25)


@pytest.mark.parametrize("horizon", [6, 12, 24])
def test_growth_without_cleanup_is_a_risk_not_averaged(tmp_path, one_image, horizon):
    """No cleanup for kaniko: 1.6 GiB a month without end. Priced: the pack year's
    peak, 1.25 + 1.6*12 = 20.45 GiB, whatever the horizon; the quota (10 GiB) is
    reached after (10 - 1.25)/1.6 = 5.47 months; the growth is reported."""
    text = FIXED_SCENARIO.replace("horizon_months: 12", f"horizon_months: {horizon}").replace(
        "quota_gib: 10", "quota_gib: 10\n      cleanup_policies: {kaniko-cache-repo: null}")
    r = evaluate(one_image, load_scenario(write_scenario(tmp_path, text)))
    kaniko = r["kaniko-cache-repo"]
    assert kaniko["shadow_storage_usd_per_month"] == pytest.approx(20.45)
    assert kaniko["registry_growth_gib_per_month"] == pytest.approx(1.6)
    assert kaniko["months_to_quota"] == pytest.approx((10 - 1.25) / 1.6)
    assert kaniko["registry_gib:root-namespace-dedup"] == pytest.approx(1.25 + 1.6 * horizon)


def test_storage_cash_is_annual_packs_for_the_peak(tmp_path):
    """Billed from the first GiB at $60 per 10 GiB-year: dind's 1.25 GiB need one pack,
    $5 a month; kaniko without cleanup peaks at 20.45 GiB in the pack year: 3 packs, $15."""
    text = FIXED_SCENARIO.replace(
        "shadow_usd_per_10gib_year: 120  # shadow: 1 USD per GiB-month",
        "billed_above_gib: 0\n      cleanup_policies: {kaniko-cache-repo: null}")
    r = evaluate(make_calibration({"img": {}}), load_scenario(write_scenario(tmp_path, text)))
    assert r["dind-inline-cache"]["storage_packs"] == 1
    assert r["dind-inline-cache"]["storage_cash_usd_per_month"] == pytest.approx(5.0)
    assert r["kaniko-cache-repo"]["storage_packs"] == 3
    assert r["kaniko-cache-repo"]["project_cash_usd_per_month"] == pytest.approx(
        r["kaniko-cache-repo"]["compute_cost_usd_per_month"] + 15.0)
    assert r["dind-inline-cache"]["shadow_storage_usd_per_month"] == 0.0


@pytest.mark.parametrize(("policy", "strategy", "expected_gib"), [
    ("{older_than_days: 30}", "kaniko-cache-repo", 1.25 + 1.6 * 30 / 30.4375),
    ("{keep_n: 25}", "kaniko-cache-repo", 1.25 + 1.6 * 1.5),       # 25/5 - 2 = 3 sets
    ("{keep_n: 25, older_than_days: 90}", "kaniko-cache-repo", 1.25 + 1.6 * 90 / 30.4375),
    ("{keep_n: 25}", "rebuild-on-change", 1.25 + 1.6 * 11.5),     # 25 - 2 = 23 tags
])
def test_scenario_cleanup_policy_overrides_the_strategys(tmp_path, one_image, policy, strategy,
                                                         expected_gib):
    text = FIXED_SCENARIO.replace("quota_gib: 10", f"quota_gib: 10\n      cleanup_policy: {policy}")
    r = evaluate(one_image, load_scenario(write_scenario(tmp_path, text)))
    assert r[strategy]["registry_gib:root-namespace-dedup"] == pytest.approx(expected_gib)


@pytest.mark.parametrize("policy", ["{keep_n: 20}", "{older_than_days: 45}",
                                    "{keep_n: 0}", "{older_than_days: 30.4375}"])
def test_cleanup_values_gitlab_does_not_allow_are_rejected(tmp_path, policy):
    text = FIXED_SCENARIO.replace("quota_gib: 10", f"quota_gib: 10\n      cleanup_policy: {policy}")
    with pytest.raises(CachecostError, match="storage.cleanup_policy.*GitLab's values"):
        load_scenario(write_scenario(tmp_path, text))


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


def test_stale_cap_per_image_worked_by_hand():
    """keep_n 5, older than 14 days (0.46 months), one tag per change, T = 1 current
    tag: keep_n keeps 5 - 1 = 4 old sets. c = 2/month: 4/2 = 2 months (more than the
    age rule's 0.46); c = 20/month: 4/20 = 0.2, so the age rule's 0.46 holds; c = 0:
    nothing is ever deleted ("never", 1e12 months). T = 6 keeps no old set (5 - 6 < 0):
    the age rule alone, the same cap for every image. keep_n alone with c = 0 and
    nothing kept (0/0): never."""
    c = np.array([[2.0], [20.0], [0.0]])
    policy = CleanupPolicy(keep_n=5, older_than_days=14)
    caps = stale_cap_months(c, policy, np.array([[1.0]]), np.array([[1.0]]))
    assert caps[:, 0].tolist() == pytest.approx([2.0, 14 / 30.4375, NEVER_MONTHS])
    age_only = stale_cap_months(c, policy, np.array([[6.0]]), np.array([[1.0]]))
    assert age_only.shape == (3, 1) and np.all(age_only == 14 / 30.4375)
    keep_only = stale_cap_months(np.array([[0.0], [4.0]]), CleanupPolicy(keep_n=1),
                                 np.array([[1.0]]), np.array([[1.0]]))
    assert keep_only[:, 0].tolist() == [NEVER_MONTHS, 0.0]


@pytest.mark.parametrize("per_sample_times", [True, False])
def test_buildkit_max_change_minutes_only_multi_stage_rows_move(per_sample_times):
    """saving 0.5, image 1 multi-stage: t_change 6, t_hit 2 -> 6 - 0.5*(6 - 2) = 4; the
    single-stage images keep t_change exactly (6 - 0.5*0*(6 - 2) = 6), so their rows are
    not recomputed, and with no multi-stage image t_change itself comes back. The
    rows match the whole-matrix formula to the bit, for (I, K) and (I, 1) times."""
    rng = np.random.default_rng(5)
    k = 7
    change = rng.uniform(3, 9, (3, k)) if per_sample_times else np.array([[6.0], [5.0], [7.0]])
    hit = change - rng.uniform(0, 2, change.shape)
    saving = rng.uniform(0, 1, (1, k))
    multi = np.array([[0.0], [1.0], [0.0]])
    d = SimpleNamespace(change_min=change, hit_min=hit, is_multi_stage=multi,
                        buildkit_max_change_saving=saving)
    got = STRATEGIES["buildkit-registry-cache-max"].change_minutes(d)
    whole = change - saving * multi * (change - hit)
    assert got.shape == (3, k) and np.array_equal(got, whole)
    d.change_min, d.hit_min = np.array([[6.0]]), np.array([[2.0]])
    d.is_multi_stage, d.buildkit_max_change_saving = np.array([[1.0]]), 0.5
    assert STRATEGIES["buildkit-registry-cache-max"].change_minutes(d)[0, 0] == 4.0
    d.is_multi_stage = np.array([[0.0]])
    assert STRATEGIES["buildkit-registry-cache-max"].change_minutes(d) is d.change_min

