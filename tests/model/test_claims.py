"""The thread's claims (cachecost.model.claims): hand-worked inputs, verdict flips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_test_helpers import make_calibration

from cachecost.model.claims import (
    DIND,
    GB_PER_GIB,
    KANIKO,
    NO_CACHE,
    VERDICTS,
    ClaimInputs,
    check_claims,
    compute_claim,
    fork_scratch_share,
    forks_claim,
    reproducible_memory_claim,
    runner_for,
    runner_ram_gb,
    single_cache_source_claim,
    storage_claim,
)

K = 4


def metrics(**over: float) -> dict[str, np.ndarray]:
    """One strategy's per-sample outputs, every sample alike (shape (K,))."""
    base = {
        "registry_gib:per-tag": 20.0, "registry_gib:root-namespace-dedup": 10.0,
        "day0:per-tag": 20.0, "day0:root-namespace-dedup": 10.0,
        "compute_minutes_per_month": 1000.0, "compute_cost_usd_per_month": 10.0,
        "quota_minutes_used_per_month": 1000.0, "sponsor_budget_months": 24.0,
        "fork_compute_minutes_per_month": 100.0, "fork_compute_cost_usd_per_month": 0.0,
        "fork_quota_share": 0.01, "fork_pipeline_feedback_minutes": 3.0,
    }
    base.update(over)
    out = {k: np.full(K, float(v)) for k, v in base.items() if not k.startswith("day0")}
    out["registry_series"] = np.tile([base["day0:root-namespace-dedup"],
                                      base["registry_gib:root-namespace-dedup"]], (K, 1))
    out["per_tag_series"] = np.tile([base["day0:per-tag"], base["registry_gib:per-tag"]],
                                    (K, 1))
    return out


def inputs(sim, *, cleanup=None, mode="private-runners", **kw) -> ClaimInputs:
    """ClaimInputs over hand-made sims: dedup accounting; the other-accounting view
    carries the per-tag series as its registry_series."""
    other = {s: {**m, "registry_series": m["per_tag_series"]} for s, m in sim.items()}
    args = dict(sim=sim, sim_cleanup=cleanup, sim_other_accounting=other,
                accounting="root-namespace-dedup", horizon_months=12, compute_mode=mode,
                draws={}, image_compressed_gib={"a": 1.0, "b": 3.0},
                uncached_measured_images=2, n_images=2, cleanup_label="a 14-day cleanup",
                sponsor_budget_usd_per_year=10_000.0, quota_minutes_per_month=50_000.0,
                fork_quota_minutes_per_month=400.0)
    args.update(kw)
    return ClaimInputs(**args)


# --------------------------------------------------------------------------- storage


def storage_sims(kaniko_gib: float, kaniko_clean_gib: float):
    """dind 10 GiB (dedup) everywhere; kaniko 10 GiB on day 0, ``kaniko_gib`` at 12
    months, ``kaniko_clean_gib`` with the cleanup; per-tag: dind 20, kaniko 38 on
    day 0 (1.9x), 60 at 12 months (3x), 44 with the cleanup (2.2x)."""
    sim = {DIND: metrics(), KANIKO: metrics(**{
        "registry_gib:root-namespace-dedup": kaniko_gib, "day0:per-tag": 38.0,
        "registry_gib:per-tag": 60.0})}
    clean = {DIND: metrics(), KANIKO: metrics(**{
        "registry_gib:root-namespace-dedup": kaniko_clean_gib,
        "registry_gib:per-tag": 44.0})}
    return sim, clean


def test_storage_partly_when_only_the_cleanup_avoids_doubling():
    """kaniko 61 GiB vs dind 10 at 12 months: 6.1x; with the cleanup 12 vs 10: 1.2x.
    Doubles without a cleanup, not with it -> partly. Day 0 dedup 10/10 = 1.0x,
    per-tag 38/20 = 1.9x, 60/20 = 3.0x, 44/20 = 2.2x."""
    sim, clean = storage_sims(61.0, 12.0)
    c = storage_claim(inputs(sim, cleanup=clean))
    assert c["verdict"] == "partly"
    assert c["interval"]["p50"] == pytest.approx(6.1)
    r = c["details"]["ratios"]
    assert r["root-namespace-dedup"]["cleanup"]["p50"] == pytest.approx(1.2)
    assert r["root-namespace-dedup"]["day0"]["p50"] == pytest.approx(1.0)
    assert r["per-tag"]["day0"]["p50"] == pytest.approx(1.9)
    assert r["per-tag"]["horizon"]["p50"] == pytest.approx(3.0)
    assert r["per-tag"]["cleanup"]["p50"] == pytest.approx(2.2)
    assert "6.1× at 12 months" in c["figure"] and "1.2×" in c["figure"]


@pytest.mark.parametrize(("kaniko", "clean", "verdict"), [
    (61.0, 20.0, "holds"),          # 6.1x, still 2.0x with the cleanup
    (61.0, 19.9, "partly"),         # the cleanup brings it just under double
    (15.0, 15.0, "partly"),         # 1.5x: grows, but less than double
    (11.1, 11.1, "partly"),         # 1.11x: just above negligible
    (10.9, 10.9, "does not hold"),  # 1.09x: under the 10 % threshold
])
def test_storage_verdict_flips_at_the_thresholds(kaniko, clean, verdict):
    sim, cleaned = storage_sims(kaniko, clean)
    assert storage_claim(inputs(sim, cleanup=cleaned))["verdict"] == verdict


def test_storage_cannot_tell_without_registry_sizes():
    sim, clean = storage_sims(10.0, 10.0)
    sim[DIND] = metrics(**{"registry_gib:root-namespace-dedup": 0.0})
    assert storage_claim(inputs(sim, cleanup=clean))["verdict"] == "these data cannot tell"


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
                                              compute_minutes_per_month=5500.0)}
    c = compute_claim(inputs(sim))
    assert c["verdict"] == verdict
    assert c["interval"]["p50"] == pytest.approx(extra_pct, rel=1e-4)
    assert c["details"]["minutes_multiple"]["p50"] == pytest.approx(5.5)


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


# --------------------------------------------------------------------------- forks


@pytest.mark.parametrize(("kaniko_fork_min", "verdict", "share"), [
    (1100.0, "holds", 1.0),          # (1100-100)/(1100-100)
    (1060.0, "holds", 0.96),
    (600.0, "partly", 0.5),
    (140.0, "does not hold", 0.04),
])
def test_forks_scratch_share_and_verdict(kaniko_fork_min, verdict, share):
    """Fork minutes: dind 100, no cache 1100; kaniko's share from scratch is
    (F_kaniko - 100) / (1100 - 100)."""
    sim = {DIND: metrics(), NO_CACHE: metrics(fork_compute_minutes_per_month=1100.0),
           KANIKO: metrics(fork_compute_minutes_per_month=kaniko_fork_min,
                           fork_pipeline_feedback_minutes=30.0)}
    inp = inputs(sim)
    assert fork_scratch_share(inp) == pytest.approx(np.full(K, share))
    c = forks_claim(inp)
    assert c["verdict"] == verdict
    assert c["details"]["fork_minutes_more"]["p50"] == pytest.approx(kaniko_fork_min - 100)
    assert c["details"]["wait_kaniko_min"]["p50"] == 30.0


def test_forks_cannot_tell_without_fork_pipelines():
    sim = {DIND: metrics(fork_compute_minutes_per_month=0.0),
           NO_CACHE: metrics(fork_compute_minutes_per_month=0.0),
           KANIKO: metrics(fork_compute_minutes_per_month=0.0)}
    assert forks_claim(inputs(sim))["verdict"] == "these data cannot tell"


def test_single_cache_source():
    """kaniko fork minutes 1100 vs dind 100: a second source would save 1000 a month."""
    sim = {DIND: metrics(), KANIKO: metrics(fork_compute_minutes_per_month=1100.0)}
    c = single_cache_source_claim(inputs(sim))
    assert c["verdict"] == "holds"
    assert c["interval"]["p50"] == pytest.approx(1000.0)
    assert single_cache_source_claim(inputs(sim, kaniko_cache_sources=2))["verdict"] == \
        "does not hold"


# --------------------------------------------------------------------------- --reproducible


def test_runner_sizes():
    """8.0 GB fits small (factor 1); 8.01 GB needs medium (2); 40 GB xlarge (6);
    200 GB fits none (NaN). Size factor 2 -> 16 GB; 2.5 -> still medium."""
    idx, factor = runner_for(np.array([8.0, 8.01, 40.0, 200.0]))
    assert idx.tolist() == [0, 1, 3, 5]
    assert factor[:3].tolist() == [1.0, 2.0, 6.0] and np.isnan(factor[3])
    assert runner_ram_gb(np.array([1.0, 2.0, 2.5, 3.0])).tolist() == [8.0, 16.0, 16.0, 32.0]


@pytest.mark.parametrize(("ratio", "verdict", "price"), [
    ([2.0] * 4, "does not hold", 0.0),    # 3 GiB x 2 x 1.0737 = 6.44 GB <= 8
    ([2.5] * 4, "holds", 10.0),           # 8.05 GB > 8: medium, 1000 min x $10/1000 x (2-1)
    # p50 ratio 2.3 -> 7.41 GB; p90 2.6 -> 8.38 GB; price per sample 0, 0, 10, 10 -> p50 5
    ([2.0, 2.0, 2.6, 2.6], "partly", 5.0),
])
def test_reproducible_memory_hosted(ratio, verdict, price):
    """Largest image b: 3 GiB compressed; peak = 3 x ratio x 1.073741824 GB; the small
    runner (size factor 1) has 8 GB. Price: quota minutes 1000 at $10/1000 = $10/month
    on the small runner, x (factor needed / 1 - 1)."""
    sim = {KANIKO: metrics(quota_minutes_used_per_month=1000.0)}
    draws = {"compute.runner_size_factor": np.ones(K),
             "compute.usd_per_1000_minutes": np.full(K, 10.0)}
    c = reproducible_memory_claim(inputs(sim, mode="gitlab-hosted", draws=draws,
                                         uncompressed_ratio=np.array(ratio)))
    assert c["verdict"] == verdict
    assert c["interval"]["p50"] == pytest.approx(3.0 * np.median(ratio) * GB_PER_GIB)
    assert c["details"]["largest_image"] == "b"
    assert c["details"]["extra_cost"]["p50"] == pytest.approx(price)


def test_reproducible_memory_private_runners_cannot_tell():
    sim = {KANIKO: metrics()}
    c = reproducible_memory_claim(inputs(sim, uncompressed_ratio=np.full(K, 2.0)))
    assert c["verdict"] == "these data cannot tell"
    assert "small" in c["figure"]
    c = reproducible_memory_claim(inputs(sim, image_compressed_gib={"a": float("nan")}))
    assert c["verdict"] == "these data cannot tell"


# --------------------------------------------------------------------------- run_model


def test_run_model_claims_hand_worked(sample, fixed_scenario):
    """Two images a (S 1 GiB) and b (S 2 GiB), each per-tag 2, dedup 1.25, T 2, c 2/month,
    r 0.9, u 0.8 (make_calibration defaults, FIXED_SCENARIO).

    Day 0, per-tag: dind 2 + 2 = 4; kaniko adds T*r*S = 2*0.9*1 + 2*0.9*2 = 5.4 -> 9.4,
    ratio 2.35. Day 0, dedup: 2.5 both (layers share digests) -> 1.0.
    12 months, dedup: kaniko adds min(u, r)*S*c*12 = 0.8*(1+2)*2*12 = 57.6 -> 60.1,
    ratio 60.1/2.5 = 24.04. Cleanup keep 5 / 14 days: the sets kept are c*14/30.4375
    = 0.91992 (keep_n 5 < 5 RUN tags x 2 current sets) -> 0.8*3*0.91992 = 2.2078 ->
    4.7078, ratio 1.8831: doubles only without a cleanup -> partly.
    Compute: dind 2 x (100*2 + 2*(6-2)) = 416 min, no cache 2 x 100*10 = 2000 -> 4.808x.
    Forks: no reuse -> 100 % from scratch; kaniko 10*2*10 = 200 min, dind
    10*2*(2 + 0.1*4) = 48 -> 152 more."""
    from cachecost.model.simulate import run_model

    cal = make_calibration({"a": {}, "b": {"compressed_size_gib": 2.0}})
    r = run_model(sample, fixed_scenario, samples=20, calibration=cal)
    claims = {c["id"]: c for c in r["claims"]}
    assert list(claims) == ["kaniko-doubles-storage", "no-cache-burns-compute",
                            "forks-rebuild-from-scratch", "kaniko-single-cache-source",
                            "kaniko-reproducible-memory"]
    assert all(c["verdict"] in VERDICTS for c in r["claims"])
    s = claims["kaniko-doubles-storage"]
    ratios = s["details"]["ratios"]
    assert ratios["per-tag"]["day0"]["p50"] == pytest.approx(9.4 / 4)
    assert ratios["root-namespace-dedup"]["day0"]["p50"] == pytest.approx(1.0)
    assert s["interval"]["p50"] == pytest.approx(60.1 / 2.5)
    assert ratios["root-namespace-dedup"]["cleanup"]["p50"] == pytest.approx(
        (2.5 + 0.8 * 3 * 2 * 14 / 30.4375) / 2.5)
    assert s["verdict"] == "partly"
    comp = claims["no-cache-burns-compute"]
    assert comp["details"]["minutes_multiple"]["p50"] == pytest.approx(2000 / 416)
    forks = claims["forks-rebuild-from-scratch"]
    assert forks["verdict"] == "holds"
    assert forks["details"]["fork_minutes_more"]["p50"] == pytest.approx(152.0)
    mem = claims["kaniko-reproducible-memory"]
    assert mem["verdict"] == "these data cannot tell"          # private runners
    assert mem["details"]["largest_image"] == "b"
    json.dumps(r["claims"])


def test_check_claims_all_ids_and_keys():
    sim = {DIND: metrics(), KANIKO: metrics(), NO_CACHE: metrics()}
    out = check_claims(inputs(sim))
    for c in out:
        assert {"id", "claim", "verdict", "figure", "interval", "hinges_on"} <= set(c)
        assert c["verdict"] in VERDICTS
