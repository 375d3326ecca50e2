"""The thread's claims (cachecost.model.claims): hand-worked inputs, verdict flips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_test_helpers import make_calibration

from cachecost.model.claims import (
    DIGEST_INPUT,
    DIND,
    FORK_READS_INPUT,
    GB_PER_GIB,
    KANIKO,
    NO_CACHE,
    PATCH_CACHE_REPO,
    VERDICTS,
    ClaimInputs,
    check_claims,
    compute_claim,
    fork_scratch_share,
    forks_claim,
    quota_claim,
    reproducible_memory_claim,
    runner_for,
    runner_ram_gb,
    single_cache_source_claim,
    storage_claim,
)
from cachecost.report.verdicts import claim_words as words

K = 4


def metrics(**over: float) -> dict[str, np.ndarray]:
    """One strategy's per-sample outputs, every sample alike (shape (K,))."""
    base = {
        "registry_gib:per-tag": 20.0, "registry_gib:root-namespace-dedup": 10.0,
        "day0:per-tag": 20.0, "day0:root-namespace-dedup": 10.0,
        "compute_minutes_per_month": 1000.0, "compute_cost_usd_per_month": 10.0,
        "project_cash_usd_per_month": 10.0,
        "quota_minutes_used_per_month": 1000.0, "sponsor_budget_months": 24.0,
        "fork_compute_minutes_per_month": 100.0, "fork_owners_cash_usd_per_month": 0.0,
        "fork_quota_share": 0.01, "fork_wait_minutes": 3.0,
    }
    base.update(over)
    out = {k.replace("day0:", "registry_gib_day0:"): np.full(K, float(v))
           for k, v in base.items()}
    out["registry_series"] = np.tile([base["day0:root-namespace-dedup"],
                                      base["registry_gib:root-namespace-dedup"]], (K, 1))
    return out


def inputs(sim, *, no_cleanup=None, mode="private-runners", **kw) -> ClaimInputs:
    """ClaimInputs over hand-made sims: dedup accounting."""
    args = dict(sim=sim, sim_no_cleanup=no_cleanup,
                accounting="root-namespace-dedup", horizon_months=12, compute_mode=mode,
                draws={}, image_compressed_gib={"a": 1.0, "b": 3.0},
                uncached_measured_images=2, n_images=2, cleanup_label="a 14-day cleanup",
                sponsor_budget_usd_per_year=10_000.0, quota_minutes_per_month=50_000.0,
                fork_quota_minutes_per_month=400.0)
    args.update(kw)
    return ClaimInputs(**args)


# --------------------------------------------------------------------------- storage


def storage_sims(kaniko_raw_gib: float, kaniko_clean_gib: float):
    """dind 10 GiB (dedup) everywhere. ``sim`` is the scenario as run (each strategy
    with the cleanup it needs): kaniko 10 GiB on day 0, ``kaniko_clean_gib`` at 12
    months; ``no_cleanup``: kaniko ``kaniko_raw_gib`` at 12 months. Per-tag: dind 20,
    kaniko 38 on day 0 (1.9x), 60 at 12 months without a cleanup (3x), 44 with it
    (2.2x)."""
    sim = {DIND: metrics(), KANIKO: metrics(**{
        "registry_gib:root-namespace-dedup": kaniko_clean_gib, "day0:per-tag": 38.0,
        "registry_gib:per-tag": 44.0})}
    raw = {DIND: metrics(), KANIKO: metrics(**{
        "registry_gib:root-namespace-dedup": kaniko_raw_gib,
        "registry_gib:per-tag": 60.0})}
    return sim, raw


def test_storage_judges_the_patch_as_written():
    """kaniko 61 GiB vs dind 10 at 12 months without a cleanup: 6.1x; the patch sets no
    cleanup policy, so the claim holds; with the cleanup it needs (12 vs 10: 1.2x),
    which the patch does not set, it would be below double. Day 0 dedup 10/10 = 1.0x,
    per-tag 38/20 = 1.9x; per-tag at 12 months 60/20 = 3.0x without, 44/20 = 2.2x with
    the cleanup."""
    sim, raw = storage_sims(61.0, 12.0)
    c = storage_claim(inputs(sim, no_cleanup=raw))
    assert c["verdict"] == "holds"
    assert words(c)["sentence"] == ("Holds for the patch as written (it sets no cleanup policy): "
                             "kaniko's registry is 6.1× dind's at month 12. With a 14-day "
                             "cleanup, which the patch does not set, it would be 1.2×, "
                             "below double.")
    assert c["interval"]["p50"] == pytest.approx(6.1)
    r = c["details"]["ratios"]
    assert r["root-namespace-dedup"]["with_cleanup"]["p50"] == pytest.approx(1.2)
    assert r["root-namespace-dedup"]["day0"]["p50"] == pytest.approx(1.0)
    assert r["per-tag"]["day0"]["p50"] == pytest.approx(1.9)
    assert r["per-tag"]["without_cleanup"]["p50"] == pytest.approx(3.0)
    assert r["per-tag"]["with_cleanup"]["p50"] == pytest.approx(2.2)
    assert "6.1× at month 12 without a cleanup" in words(c)["figure"]
    assert "1.2× with a 14-day cleanup" in words(c)["figure"] and "1.0× on day 0" in words(c)["figure"]


@pytest.mark.parametrize(("kaniko", "clean", "verdict"), [
    (61.0, 20.0, "holds"),          # 6.1x, still 2.0x with the cleanup
    (61.0, 19.9, "holds"),          # a cleanup the patch does not set: not the verdict
    (19.9, 12.0, "partly"),         # 1.99x as written: just under double
    (15.0, 15.0, "partly"),         # 1.5x: grows, but less than double
    (11.1, 11.1, "partly"),         # 1.11x: just above negligible
    (10.9, 10.9, "does not hold"),  # 1.09x: under the 10 % threshold
])
def test_storage_verdict_flips_at_the_thresholds(kaniko, clean, verdict):
    sim, raw = storage_sims(kaniko, clean)
    assert storage_claim(inputs(sim, no_cleanup=raw))["verdict"] == verdict


def test_storage_digest_outcome_split():
    """Digest outcomes drawn 1, 1, 0, 0. kaniko with its cleanup (dedup) 12, 12, 30,
    30 GiB against dind's 10: 1.2x where the cache layers share the image's digests,
    3.0x where they do not; shared in 50 % of samples."""
    sim, raw = storage_sims(61.0, 12.0)
    sim[KANIKO]["registry_gib:root-namespace-dedup"] = np.array([12.0, 12.0, 30.0, 30.0])
    draws = {DIGEST_INPUT: np.array([1.0, 1.0, 0.0, 0.0])}
    c = storage_claim(inputs(sim, no_cleanup=raw, draws=draws))
    split = c["details"]["digest_split"]
    assert split["share_shared"] == pytest.approx(0.5)
    assert split["shared"] == pytest.approx(1.2)
    assert split["not_shared"] == pytest.approx(3.0)
    assert "1.2× if shared and 3.0× if not shared" in words(c)["hinges_on"]
    assert "50% of samples" in words(c)["hinges_on"]


def test_storage_cannot_tell_without_registry_sizes():
    sim, raw = storage_sims(10.0, 10.0)
    sim[DIND] = metrics(**{"registry_gib:root-namespace-dedup": 0.0})
    assert storage_claim(inputs(sim, no_cleanup=raw))["verdict"] == "these data cannot tell"


# --------------------------------------------------------------------------- compute


@pytest.mark.parametrize(("months_no_cache", "verdict", "extra_pct"), [
    (20.0, "holds", 10.0),            # 12/20 - 12/24 = 0.6 - 0.5 = 10 %
    (23.0, "partly", 2.1739),         # 12/23 - 0.5 = 0.52174 - 0.5 = 2.17 %
    (23.9, "does not hold", 0.2092),  # 12/23.9 - 0.5 = 0.2092 %
    (11.0, "holds", 59.0909),         # 12/11 - 0.5: runs out within the year
])
def test_compute_sponsor_budget(months_no_cache, verdict, extra_pct):
    """dind: the budget covers 24 months (50 % of it used a year)."""
    sim = {DIND: metrics(), NO_CACHE: metrics(sponsor_budget_months=months_no_cache,
                                              compute_minutes_per_month=5500.0,
                                              project_cash_usd_per_month=55.0)}
    c = compute_claim(inputs(sim))
    assert c["verdict"] == verdict
    assert c["interval"]["p50"] == pytest.approx(extra_pct, rel=1e-4)
    assert c["details"]["minutes_multiple"]["p50"] == pytest.approx(5.5)
    assert c["details"]["project_cash_usd_more"]["p50"] == pytest.approx(55.0 - 10.0)


def test_compute_private_runners_hinge_names_the_runner_hour_price():
    """On private runners no cache burns the budget only if spending grows with runner
    time (compute.usd_per_runner_hour = node cost / measured runner-hours): the hinge says
    so; on GitLab-hosted runners minutes are billed as used and it does not."""
    sim = {DIND: metrics(), NO_CACHE: metrics(sponsor_budget_months=12.0)}
    private = words(compute_claim(inputs(sim)))["hinges_on"]
    assert "runner-hour" in private and "fixed-size" in private, private
    sim = {DIND: metrics(quota_minutes_used_per_month=10_000.0, compute_cost_usd_per_month=0),
           NO_CACHE: metrics(quota_minutes_used_per_month=16_000.0,
                             compute_cost_usd_per_month=0)}
    assert "runner-hour" not in words(compute_claim(inputs(sim, mode="gitlab-hosted")))["hinges_on"]


def test_compute_gitlab_hosted_quota_share():
    """Quota 50,000: dind uses 10,000 quota minutes, no cache 16,000 -> 12 % more -> holds;
    15,000 -> 10 % -> holds; 10,400 -> 0.8 % -> does not hold."""
    for used, verdict in ((16_000.0, "holds"), (15_000.0, "holds"), (10_400.0, "does not hold"),
                          (12_000.0, "partly")):
        sim = {DIND: metrics(quota_minutes_used_per_month=10_000.0, compute_cost_usd_per_month=0),
               NO_CACHE: metrics(quota_minutes_used_per_month=used,
                                 compute_cost_usd_per_month=0)}
        assert compute_claim(inputs(sim, mode="gitlab-hosted"))["verdict"] == verdict


def test_compute_cannot_tell_without_measured_rebuilds_or_allowance():
    sim = {DIND: metrics(), NO_CACHE: metrics(sponsor_budget_months=12.0)}
    assert compute_claim(inputs(sim, uncached_measured_images=0))["verdict"] == \
        "these data cannot tell"
    assert compute_claim(inputs(sim, sponsor_budget_usd_per_year=None))["verdict"] == \
        "these data cannot tell"


# --------------------------------------------------------------------------- quota


def test_quota_claim_verdicts():
    """dind's day-0 registry (dedup) is 10 GiB in every sample (``metrics``):
    quota 8 -> 10 > 8, holds (125%); quota 20 -> does not hold (50%); other usage 5
    with quota 12 -> 15 > 12, holds; no quota -> cannot tell. Per-sample 5, 8, 12, 15
    GiB (p10 5.9, p90 14.1) against 10: the quota is inside the range, partly. GitLab's
    own statistic decides when read: 30 GiB measured against 20 -> holds (150%)."""
    sim = {DIND: metrics()}
    assert quota_claim(inputs(sim, registry_quota_gib=8.0))["verdict"] == "holds"
    c = quota_claim(inputs(sim, registry_quota_gib=20.0))
    assert c["verdict"] == "does not hold" and "50% of it" in words(c)["sentence"]
    assert quota_claim(inputs(sim, registry_quota_gib=12.0, other_registry_gib=5.0)
                       )["verdict"] == "holds"
    assert quota_claim(inputs(sim))["verdict"] == "these data cannot tell"
    spread = {DIND: {**metrics(), "registry_gib_day0:root-namespace-dedup":
                     np.array([5.0, 8.0, 12.0, 15.0])}}
    assert quota_claim(inputs(spread, registry_quota_gib=10.0))["verdict"] == "partly"
    m = quota_claim(inputs(sim, registry_quota_gib=20.0,
                           registry_today={"namespace_gib": 30.0, "read_at": "2026-11-01"}))
    assert m["verdict"] == "holds" and "150% of it" in words(m)["figure"]
    assert "read 2026-11-01" in words(m)["figure"] and m["interval"]["p50"] == 30.0


def test_quota_of_zero_is_a_quota_and_uncounted_registry_is_moot():
    """A 0 GiB quota is a quota: 10 GiB > 0, holds (not "no quota"). Where the registry
    counts toward no limit (GitLab.com today), the claim is moot today, with what an
    enforced 20 GiB quota would give (10 of 20: 50%, does not hold). The figure names
    the sum of per-repository sizes as such, not as GitLab's namespace accounting."""
    sim = {DIND: metrics()}
    z = quota_claim(inputs(sim, registry_quota_gib=0.0))
    assert z["verdict"] == "holds" and "0 GiB" in words(z)["sentence"]
    m = quota_claim(inputs(sim, registry_quota_gib=20.0, registry_counted=False))
    assert m["verdict"] == "moot today" and words(m)["sentence"].startswith("Moot today")
    assert "would stay under it (50% of it)" in words(m)["sentence"]
    assert m["details"]["verdict_if_enforced"] == "does not hold"
    assert "sum of each image repository's deduplicated size" in words(m)["figure"]
    assert "GitLab's deduplicated accounting" not in words(m)["figure"]


def test_compute_hinge_calls_no_estimate_measured():
    """2 images with from-scratch times from the slower half of their rebuilds and no
    logged miss: the hinge says estimated, never measured; 1 logged miss of 2: named."""
    sim = {DIND: metrics(), NO_CACHE: metrics()}
    c = compute_claim(inputs(sim, uncached_logged_images=0))
    assert "no image's from-scratch time is a logged cache miss" in words(c)["hinges_on"]
    assert "estimated for 2 from the slower half of their rebuilds" in words(c)["hinges_on"]
    assert "measured for" not in words(c)["hinges_on"]
    c = compute_claim(inputs(sim, uncached_logged_images=1))
    assert "a logged cache miss for 1 of 2 images" in words(c)["hinges_on"]


# --------------------------------------------------------------------------- forks


@pytest.mark.parametrize(("kaniko_fork_min", "share"), [
    (1100.0, 1.0),          # (1100-100)/(1100-100)
    (1060.0, 0.96),
    (600.0, 0.5),
    (140.0, 0.04),
])
def test_forks_scratch_share_is_a_figure_not_the_verdict(kaniko_fork_min, share):
    """Fork minutes: dind 100, no cache 1100; kaniko's share from scratch is
    (F_kaniko - 100) / (1100 - 100). Every sample reads upstream (no draws), so the
    verdict is the "reads" hypothesis' by mechanics, "partly", whatever the share."""
    sim = {DIND: metrics(), NO_CACHE: metrics(fork_compute_minutes_per_month=1100.0),
           KANIKO: metrics(fork_compute_minutes_per_month=kaniko_fork_min,
                           fork_wait_minutes=30.0)}
    inp = inputs(sim)
    assert fork_scratch_share(inp) == pytest.approx(np.full(K, share))
    c = forks_claim(inp)
    assert c["verdict"] == "partly"
    assert c["details"]["fork_minutes_more"]["p50"] == pytest.approx(kaniko_fork_min - 100)
    assert c["details"]["wait_kaniko_min"]["p50"] == 30.0
    assert c["details"]["cache_repo"] == PATCH_CACHE_REPO


def test_claims_money_uses_the_one_money_format():
    """Fork owners' cash 0 under dind and 43.01 USD/month under kaniko: the figure
    says "$43/month more" (textfmt: whole dollars from $10), not "$43.01"."""
    sim = {DIND: metrics(), NO_CACHE: metrics(fork_compute_minutes_per_month=1100.0),
           KANIKO: metrics(fork_compute_minutes_per_month=1100.0, fork_wait_minutes=30.0,
                           fork_owners_cash_usd_per_month=43.01)}
    c = forks_claim(inputs(sim))
    assert "$43/month more of fork owners' cash" in words(c)["figure"]
    assert "43.01" not in words(c)["sentence"] + words(c)["figure"]


def test_forks_verdict_reports_both_hypotheses():
    """Fork-reads outcome drawn 0, 0, 1, 1 with probability 0.5. Fork minutes: dind
    100, no cache 1100; kaniko 1100 where a fork cannot read upstream (wait 40 min)
    and 140 where it can (40 more than dind, wait 12). Cannot read: "holds" (no cache
    at all); reads: "partly" (a changed image rebuilt on every pipeline): they differ,
    so "these data cannot tell", each hypothesis with its probability 50 %."""
    sim = {DIND: metrics(), NO_CACHE: metrics(fork_compute_minutes_per_month=1100.0),
           KANIKO: metrics()}
    sim[KANIKO]["fork_compute_minutes_per_month"] = np.array([1100.0, 1100.0, 140.0, 140.0])
    sim[KANIKO]["fork_wait_minutes"] = np.array([40.0, 40.0, 12.0, 12.0])
    draws = {FORK_READS_INPUT: np.array([0.0, 0.0, 1.0, 1.0])}
    c = forks_claim(inputs(sim, draws=draws, fork_reads_probability=0.5))
    hyp = c["details"]["hypotheses"]
    assert hyp["cannot_read"] == {
        "probability": 0.5, "samples": 2, "scratch_pct": 100.0,
        "fork_minutes_more": 1000.0, "owners_usd": 0.0, "wait_min": 40.0,
        "wait_dind_min": 3.0, "verdict": "holds"}
    assert hyp["reads"]["verdict"] == "partly"
    assert hyp["reads"]["fork_minutes_more"] == pytest.approx(40.0)
    assert hyp["reads"]["wait_min"] == 12.0
    assert c["verdict"] == "these data cannot tell"
    assert "sentence" not in c and "hinges_on" not in c      # numbers; the report words them
    assert words(c)["sentence"] == (
        "These data cannot tell: if a fork's job cannot read upstream's registry (assumed "
        "50%), every kaniko fork build starts from scratch, and a contributor waits 40.0 "
        "min (dind: 3.0 min); if it can (assumed 50%), a fork that changed an image "
        "rebuilds it from the changed step on every pipeline, 40.0 fork minutes a month "
        "more than dind; the probabilities are the scenario's assumption "
        "(forks.reads_upstream_registry_probability), not a measurement.")
    assert "MR 135263" in words(c)["hinges_on"]
    assert f'--cache-repo="{PATCH_CACHE_REPO}"' in words(c)["hinges_on"]
    assert f'--cache-repo="{PATCH_CACHE_REPO}"' in words(c)["figure"]
    # a probability of 1 or 0 leaves one hypothesis: its verdict
    every = forks_claim(inputs(sim, draws={FORK_READS_INPUT: np.ones(K)},
                                 fork_reads_probability=1.0))
    assert every["verdict"] == "partly"
    # the hypothesis no sample drew keeps its probability (0%) and states no figures
    assert words(every)["sentence"].startswith(
        "Partly: if a fork's job cannot read upstream's registry (assumed 0%), every "
        "kaniko fork build starts from scratch; if it can (assumed 100%)")
    assert forks_claim(inputs(sim, draws={FORK_READS_INPUT: np.zeros(K)},
                              fork_reads_probability=0.0))["verdict"] == "holds"


def test_forks_cannot_tell_without_fork_pipelines():
    sim = {DIND: metrics(fork_compute_minutes_per_month=0.0),
           NO_CACHE: metrics(fork_compute_minutes_per_month=0.0),
           KANIKO: metrics(fork_compute_minutes_per_month=0.0)}
    c = forks_claim(inputs(sim))
    assert c["verdict"] == "these data cannot tell" and c["reason"] == "no_fork_pipelines"
    assert words(c)["sentence"] == "These data cannot tell: the scenario has no fork pipelines."
    assert PATCH_CACHE_REPO in words(c)["hinges_on"]
    assert forks_claim(inputs({DIND: metrics()}))["reason"] == "no_strategy"


def test_single_cache_source_is_priced_by_what_one_source_costs():
    """kaniko's fork minutes beyond a kaniko with a second source (the fork's own
    cache): 8 where the fork reads upstream (a changed image rebuilt on every
    pipeline instead of once), 60 where it cannot (scratch instead of its own
    cache): p50 of (8, 8, 60, 60) = 34 a month, not the 1,000 fork minutes kaniko
    spends beyond dind (claim 4's figure)."""
    sim = {DIND: metrics(), KANIKO: metrics(fork_compute_minutes_per_month=1100.0)}
    sim[KANIKO]["fork_single_cache_source_minutes_per_month"] = np.array([8.0, 8, 60, 60])
    draws = {FORK_READS_INPUT: np.array([1.0, 1.0, 0.0, 0.0])}
    c = single_cache_source_claim(inputs(sim, draws=draws))
    assert c["verdict"] == "holds"
    assert c["interval"]["p50"] == pytest.approx(34.0)
    assert c["details"]["fork_minutes_by_hypothesis"] == {"cannot_read": 60.0, "reads": 8.0}
    assert c["details"]["hypothesis_probability"] == {"cannot_read": 0.5, "reads": 0.5}
    w = words(c)
    assert w["sentence"].startswith(
        "Holds: kaniko reads and writes a single cache repository; a second one would save "
        "forks 34.0 runner minutes a month in expectation")
    assert PATCH_CACHE_REPO in w["figure"] and PATCH_CACHE_REPO in w["hinges_on"]
    assert ("(8.0 where a fork's job can read upstream's registry, assumed 50%; 60.0 "
            "where it cannot, assumed 50%)") in w["figure"]
    assert "1,000" not in w["sentence"] + w["figure"]
    two = single_cache_source_claim(inputs(sim, kaniko_cache_sources=2))
    assert two["verdict"] == "does not hold"
    assert words(two)["sentence"] == "Does not hold: this kaniko takes 2 cache sources."


def test_single_cache_source_leads_with_the_expected_value_not_the_mixture_median():
    """The sample's two branches: 131 min/month where a fork reads upstream (assumed
    90 %), 16,600 where it cannot (10 %). Their mixture's median is 144 (a figure of
    neither branch); the expected value is 0.9 * 131 + 0.1 * 16,600 = 117.9 + 1,660 =
    1,777.9, shown as 1,778. Both branches stay in the sentence, and the 90 % is called
    the scenario's assumption."""
    c = {"id": "kaniko-single-cache-source", "verdict": "holds", "reason": None,
         "interval": {"p10": 100.0, "p50": 144.0, "p90": 16_000.0, "unit": "min/month"},
         "details": {"kaniko_cache_sources": 1, "dind_cache_sources": 2,
                     "cache_repo": PATCH_CACHE_REPO,
                     "fork_minutes_by_hypothesis": {"cannot_read": 16_600.0, "reads": 131.0},
                     "hypothesis_probability": {"cannot_read": 0.1, "reads": 0.9}}}
    sentence = words(c)["sentence"]
    assert sentence == (
        "Holds: kaniko reads and writes a single cache repository; a second one would save "
        "forks 1,778 runner minutes a month in expectation (131 where a fork's job can read "
        "upstream's registry, assumed 90%; 16,600 where it cannot, assumed 10%); the "
        "probabilities are the scenario's assumption "
        "(forks.reads_upstream_registry_probability), not a measurement.")
    assert "144" not in sentence
    assert "a median of 144 (p10–p90 100–16,000) runner minutes a month over both " \
           "hypotheses together" in words(c)["figure"]


# --------------------------------------------------------------------------- --reproducible


def test_runner_sizes():
    """8.0 GB fits small (factor 1); 8.01 GB needs medium (2); 40 GB xlarge (6);
    200 GB fits none (NaN). Size factor 2 -> 16 GB; 2.5 -> still medium."""
    idx, factor = runner_for(np.array([8.0, 8.01, 40.0, 200.0]))
    assert idx.tolist() == [0, 1, 3, 5]
    assert factor[:3].tolist() == [1.0, 2.0, 6.0] and np.isnan(factor[3])
    assert runner_ram_gb(np.array([1.0, 2.0, 2.5, 3.0])).tolist() == [8.0, 16.0, 16.0, 32.0]


@pytest.mark.parametrize(("ratio", "price"), [
    ([2.0] * 4, 0.0),                     # 3 GiB x 2 x 1.0737 = 6.44 GB <= 8
    ([2.5] * 4, 10.0),                    # 8.05 GB > 8: medium, 1000 min x $10/1000 x (2-1)
    # p50 ratio 2.3 -> 7.41 GB; p90 2.6 -> 8.38 GB; price per sample 0, 0, 10, 10 -> p50 5
    ([2.0, 2.0, 2.6, 2.6], 5.0),
])
def test_reproducible_memory_hosted(ratio, price):
    """Largest image b: 3 GiB compressed; peak >= 3 x ratio x 1.073741824 GB (a lower
    bound: kaniko's working set comes on top); the small runner (size factor 1) has
    8 GB. Without a measured peak the estimate cannot overrule the out-of-memory the
    thread saw: cannot tell, whatever the ratio; the sentence names the measurement and
    that --reproducible rewrites every layer. Price: quota minutes 1000 at $10/1000 =
    $10/month on the small runner, x (factor needed / 1 - 1)."""
    sim = {KANIKO: metrics(quota_minutes_used_per_month=1000.0)}
    draws = {"compute.runner_size_factor": np.ones(K),
             "compute.usd_per_1000_minutes": np.full(K, 10.0)}
    c = reproducible_memory_claim(inputs(sim, mode="gitlab-hosted", draws=draws,
                                         uncompressed_ratio=np.array(ratio)))
    assert c["verdict"] == "these data cannot tell"
    assert "peak RSS of one --reproducible kaniko build of b" in words(c)["sentence"]
    assert "rewrites every layer" in words(c)["sentence"]
    assert c["interval"]["p50"] == pytest.approx(3.0 * np.median(ratio) * GB_PER_GIB)
    assert c["details"]["largest_image"] == "b"
    assert c["details"]["extra_cost"]["p50"] == pytest.approx(price)


def test_reproducible_memory_larger_runner_costs_an_oss_project_nothing():
    """Peak 3 GiB x 2.5 x 1.0737 = 8.05 GB needs the medium runner (factor 2) where
    the small one (1) runs today. GitLab bills min(size, discount): with the OSS
    program's 0.5, min(2, 0.5) = min(1, 0.5) = 0.5, so the medium runner costs $0 more
    (a product would say 1000 x $10/1000 x (1.0/0.5 - 1) = $10); without a discount,
    $10."""
    sim = {KANIKO: metrics(quota_minutes_used_per_month=1000.0)}
    draws = {"compute.runner_size_factor": np.full(K, 3.0),
             "compute.container_runner_size_factor": np.ones(K),
             "compute.usd_per_1000_minutes": np.full(K, 10.0)}
    args = dict(mode="gitlab-hosted", uncompressed_ratio=np.full(K, 2.5))
    c = reproducible_memory_claim(inputs(sim, draws={**draws, "compute.cost_factor":
                                                     np.full(K, 0.5)}, **args))
    assert c["details"]["runner_needed"] == "medium"
    assert c["details"]["runner_ram_gb"] == 8.0          # the container jobs' runner
    assert c["details"]["extra_cost"]["p50"] == 0.0
    c = reproducible_memory_claim(inputs(sim, draws=draws, **args))
    assert c["details"]["extra_cost"]["p50"] == pytest.approx(10.0)


@pytest.mark.parametrize(("peak_gb", "verdict"), [(9.0, "holds"), (6.0, "does not hold")])
def test_reproducible_memory_decided_by_a_measured_peak(peak_gb, verdict):
    """A measured peak RSS decides against the small hosted runner's 8 GB: 9 > 8 holds,
    6 <= 8 does not hold."""
    sim = {KANIKO: metrics(quota_minutes_used_per_month=1000.0)}
    draws = {"compute.runner_size_factor": np.ones(K),
             "compute.usd_per_1000_minutes": np.full(K, 10.0)}
    c = reproducible_memory_claim(inputs(sim, mode="gitlab-hosted", draws=draws,
                                         uncompressed_ratio=np.full(K, 2.0),
                                         reproducible_peak_gb=peak_gb))
    assert c["verdict"] == verdict and "(measured)" in words(c)["sentence"]


def test_reproducible_memory_private_runners_cannot_tell():
    """Private runners: their RAM and a larger one's price are not in the data, so the
    figure names the least RAM a build needs (3 GiB x 2 x 1.0737 = 6.4 GB) and prices
    nothing; before, it said the estimate "fits the small runner (8 GB), no larger than
    a small hosted runner", a runner these builds do not run on."""
    sim = {KANIKO: metrics()}
    c = reproducible_memory_claim(inputs(sim, uncompressed_ratio=np.full(K, 2.0)))
    assert c["verdict"] == "these data cannot tell"
    assert c["details"]["against"] == "not_priced" and c["details"]["extra_cost"]["p50"] is None
    figure = words(c)["figure"]
    assert "peak at least 6.4 GB" in figure and "only a lower bound" in figure
    assert "at least that much RAM free" in figure and "no runner is priced" in figure
    assert "hosted runner (" not in figure and "fits" not in figure and "month more" not in figure
    c = reproducible_memory_claim(inputs(sim, image_compressed_gib={"a": float("nan")}))
    assert c["verdict"] == "these data cannot tell"


def test_reproducible_memory_cites_the_issue_the_thread_cites():
    """The patch left --reproducible off citing kaniko issue 862 (the whole image held in
    memory): the claim's hinge names it, so the summary's sources list it; issue 909 (a
    build without --reproducible) alone is not the mechanism. From a lower bound a runner
    can be ruled out, never shown to fit: 3 GiB x 2 x 1.0737 = 6.4 GB <= 8 GB needs at
    least the small runner, today's (8 GB) is not ruled out, no price; x 2.5 = 8.05 GB
    > 8 GB needs at least the medium runner, at least $10/month more (1000 min x
    $10/1000 x (2 - 1))."""
    from cachecost.report.sources import resolve_citation

    sim = {KANIKO: metrics(quota_minutes_used_per_month=1000.0)}
    draws = {"compute.runner_size_factor": np.ones(K),
             "compute.usd_per_1000_minutes": np.full(K, 10.0)}
    c = reproducible_memory_claim(inputs(sim, mode="gitlab-hosted", draws=draws,
                                         uncompressed_ratio=np.full(K, 2.0)))
    assert "kaniko-issue-862" in resolve_citation(words(c)["hinges_on"])[1]
    figure = words(c)["figure"]
    assert "it would need at least the small runner (8 GB); today's runner (8 GB) is not " \
        "ruled out, and only a measured peak shows whether the build fits it." in figure
    assert "month more" not in figure and "fits the" not in figure
    c = reproducible_memory_claim(inputs(sim, mode="gitlab-hosted", draws=draws,
                                         uncompressed_ratio=np.full(K, 2.5)))
    assert words(c)["figure"].endswith(
        "at least the medium runner (16 GB); running kaniko's container jobs there costs at "
        "least $10/month more than on today's runner (8 GB)."), words(c)["figure"]


# --------------------------------------------------------------------------- run_model


def test_run_model_claims_hand_worked(sample_unmeasured, fixed_scenario):
    """Two images a (S 1 GiB) and b (S 2 GiB), each per-tag 2, dedup 1.25, T 2, c 2/month
    (pinned: marked as overridden, so the bank keeps it), r 0.9, u 0.8, digests
    shared (probability 1), no fork reuse (make_calibration defaults, FIXED_SCENARIO).

    Day 0, per-tag: dind 2 + 2 = 4; kaniko adds T*r*S = 2*0.9*1 + 2*0.9*2 = 5.4 -> 9.4,
    ratio 2.35. Day 0, dedup: 2.5 both (layers share digests) -> 1.0.
    Each change leaves min(u, r)*S = 0.8*(1 + 2) = 2.4 GiB of stale cache, 4.8 a month.
    12 months without a cleanup: dedup 2.5 + 4.8*12 = 60.1 -> 24.04x; per-tag
    9.4 + 57.6 = 67.0 vs 4 -> 16.75x. With kaniko's own cleanup (keep 1, 14 days: the
    age rule keeps 14/30.4375 = 0.45996 months of changes): dedup 2.5 + 4.8*0.45996 =
    4.7078 -> 1.8831x; per-tag (9.4 + 2.2078)/4 = 2.9020x: doubles only without a
    cleanup -> partly.
    Compute: dind 2 x (100*2 + 2*(6-2)) = 416 min, no cache 2 x 100*10 = 2000 -> 4.808x;
    at 0.1 USD/min the project's cash differs by 158.4 USD/month; the sponsor budget
    (10,000/year, 2,500/year other spending) lasts 10000/(41.6 + 208.33) = 40.01 months
    under dind, 10000/(200 + 208.33) = 24.49 under no cache: 12/24.49 - 12/40.01 =
    12 * 158.4 / 10000 = 19.008 % more of the yearly budget -> holds.
    Forks: a fork's job cannot read upstream's registry (probability 0): kaniko has no
    cache, 10*2*10 = 200 min; dind reads its own tag, stale after each upstream change
    for u = min(1, c*O/F) = min(1, 2*2/10) = 0.4 of its builds, s = 0.1 + 0.4 = 0.5:
    10*2*(2 + 0.5*4) = 80 -> 120 more, verdict "holds"; kaniko's wait is a miss, 10
    min. One cache source costs the same 120 (a second, the fork's own, would give
    dind's 80)."""
    from cachecost.model.results import run_model

    cal = make_calibration({"a": {}, "b": {"compressed_size_gib": 2.0}})
    cal.overridden.extend([("a", "changes_per_month"), ("b", "changes_per_month")])
    # a dataset with no measured registry usage or forks: "no other usage", the
    # scenario's fork inputs (the bundled sample carries synthetic ones since issue 24)
    r = run_model(sample_unmeasured, fixed_scenario, samples=20, calibration=cal)
    claims = {c["id"]: c for c in r["claims"]}
    assert list(claims) == ["kaniko-doubles-storage", "dind-exceeds-quota",
                            "no-cache-burns-compute", "forks-rebuild-from-scratch",
                            "kaniko-single-cache-source", "kaniko-reproducible-memory"]
    assert all(c["verdict"] in VERDICTS for c in r["claims"])
    # quota: dind's day-0 dedup registry 1.25 + 1.25 = 2.5 GiB, no other usage, against
    # the scenario's 10 GiB: 25% of it -> would not hold if enforced; the scenario bills
    # no registry storage (billed_above_gib null): moot today
    q = claims["dind-exceeds-quota"]
    assert q["verdict"] == "moot today"
    assert q["details"]["verdict_if_enforced"] == "does not hold"
    assert q["interval"]["p50"] == pytest.approx(2.5)
    assert "25% of it" in words(q)["sentence"]
    s = claims["kaniko-doubles-storage"]
    ratios = s["details"]["ratios"]
    d14 = 14 / 30.4375
    assert ratios["per-tag"]["day0"]["p50"] == pytest.approx(9.4 / 4)
    assert ratios["root-namespace-dedup"]["day0"]["p50"] == pytest.approx(1.0)
    assert s["interval"]["p50"] == pytest.approx(60.1 / 2.5)
    assert ratios["per-tag"]["without_cleanup"]["p50"] == pytest.approx(67.0 / 4)
    assert ratios["root-namespace-dedup"]["with_cleanup"]["p50"] == pytest.approx(
        (2.5 + 4.8 * d14) / 2.5)
    assert ratios["per-tag"]["with_cleanup"]["p50"] == pytest.approx((9.4 + 4.8 * d14) / 4)
    assert s["verdict"] == "holds"          # 24x as the patch is written (no cleanup)
    assert s["details"]["cleanup_policies"]["kaniko"] == {"keep_n": 1, "older_than_days": 14}
    assert "kaniko: keep 1, delete older than 14 days" in words(s)["figure"]
    comp = claims["no-cache-burns-compute"]
    assert comp["details"]["minutes_multiple"]["p50"] == pytest.approx(2000 / 416)
    assert comp["details"]["project_cash_usd_more"]["p50"] == pytest.approx(158.4)
    assert comp["interval"]["p50"] == pytest.approx(100 * 12 * 158.4 / 10_000)
    assert comp["verdict"] == "holds"
    forks = claims["forks-rebuild-from-scratch"]
    assert forks["verdict"] == "holds"
    assert forks["details"]["fork_minutes_more"]["p50"] == pytest.approx(120.0)
    assert forks["details"]["wait_kaniko_min"]["p50"] == pytest.approx(10.0)
    assert forks["details"]["hypotheses"]["cannot_read"]["probability"] == 1.0
    single = claims["kaniko-single-cache-source"]
    assert single["interval"]["p50"] == pytest.approx(120.0)
    mem = claims["kaniko-reproducible-memory"]
    assert mem["verdict"] == "these data cannot tell"          # private runners
    assert mem["details"]["largest_image"] == "b"
    json.dumps(r["claims"])


def test_check_claims_all_ids_and_keys():
    sim = {DIND: metrics(), KANIKO: metrics(), NO_CACHE: metrics()}
    out = check_claims(inputs(sim))
    for c in out:
        assert {"id", "claim", "verdict", "interval"} <= set(c)
        assert set(words(c)) == {"sentence", "figure", "hinges_on"}
        assert c["verdict"] in VERDICTS
