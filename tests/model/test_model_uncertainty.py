"""Calibration uncertainty, the fork wait's E[max], the paired decision, calibration
mechanics (means, failed jobs, unmapped jobs in the runner rate, cache repositories)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from test_model_calibrate import _tiny_dataset

from cachecost.model.calibrate import GIB, MULTI_STAGE_IMAGES, calibrate
from cachecost.model.decide import paired_decision, sort_tornado
from cachecost.model.distributions import parse_distribution
from cachecost.model.results import run_model
from cachecost.model.scenario import KEYS, load_scenario
from cachecost.model.uncertainty import bootstrap_means, build_bank, change_rate_posterior
from cachecost.model.wait import BLOCK_ROWS, expected_max_wait

# ----------------------------------------------------------------------- bootstrap, posterior


def test_bootstrap_mean_of_two_values():
    """values [1, 3], two draws with replacement: mean 1, 2, 3 with 1/4, 1/2, 1/4."""
    draws = bootstrap_means(np.array([1.0, 3.0]), np.random.default_rng(5), 40_000)
    for value, share in ((1.0, 0.25), (2.0, 0.5), (3.0, 0.25)):
        assert np.mean(draws == value) == pytest.approx(share, abs=0.01)


def test_change_rate_posterior_has_an_upper_tail_without_events():
    """n = 0 events in T = 2 months, Jeffreys prior: Gamma(1/2, rate 2): mean 0.25,
    variance 0.5/4 = 0.125 changes/month; never exactly 0."""
    draws = change_rate_posterior(0, 2.0, np.random.default_rng(3), 200_000)
    assert draws.mean() == pytest.approx(0.25, rel=0.02)
    assert draws.var() == pytest.approx(0.125, rel=0.05)
    assert np.quantile(draws, 0.9) > 0.5
    # 20 events: Gamma(20, rate 2), mean the measured 10/month, sd sqrt(20)/2
    many = change_rate_posterior(20, 2.0, np.random.default_rng(3), 200_000)
    assert many.mean() == pytest.approx(10.0, rel=0.01)
    assert many.std() == pytest.approx(np.sqrt(20) / 2, rel=0.02)


def test_bank_keeps_overrides_and_varies_measured_values(sample):
    cal = calibrate(sample, {"alpine": {"cached_build_min": 7.0}})
    bank = build_bank(cal, np.random.default_rng(1), 500)
    row = list(cal.images.index).index("alpine")
    assert (bank.columns["cached_build_min"][row] == 7.0).all()
    other = list(cal.images.index).index("debian")
    assert bank.columns["cached_build_min"][other].std() > 0
    assert bank.columns["changes_per_month"].min() > 0          # posterior: never exactly 0


def test_measured_spread_reaches_the_results(sample, sample_calibration):
    """No-cache minutes were a point value (84,813-84,813): the bootstrap gives them a range."""
    r = run_model(sample, load_scenario(None), samples=2000, calibration=sample_calibration)
    q = r["strategies"]["no-cache"]["compute_minutes_per_month"]
    assert q["p10"] < q["p50"] < q["p90"]
    wait = r["strategies"]["kaniko-cache-repo"]["fork_wait_minutes"]
    assert wait["p10"] < wait["p90"]


def test_factor_priors_are_centred_on_one():
    """The change factor's mean is 1 (lognormal p10 0.432, p90 1.728: sigma =
    ln(4)/(2*1.2816) = 0.5409, median 0.864, mean 0.864*exp(0.5409^2/2) = 1.0001), so
    it does not move the expected change rate; its median is below 1."""
    changes = KEYS["workload"]["image_changes_factor"]
    assert parse_distribution(changes.default).mean == pytest.approx(1.0, abs=2e-4)
    assert parse_distribution(changes.default).median == pytest.approx(0.864, abs=1e-3)


# ----------------------------------------------------------------------- E[max]


def _brute_force_max(hit, change, miss, h, d):
    """Enumerate every outcome of every image (hit, change, miss with q1, q2, q3)."""
    probs = (h * (1 - d), h * d, 1 - h)
    total = 0.0
    for outcome in itertools.product(range(3), repeat=len(hit)):
        p = np.prod([probs[o] for o in outcome])
        times = [(hit[i], change[i], miss[i])[o] for i, o in enumerate(outcome)]
        total += p * max(times)
    return total


@pytest.mark.parametrize("h", [1.0, 0.6, 0.0])
def test_expected_max_matches_enumeration(h):
    rng = np.random.default_rng(11)
    hit = rng.uniform(1, 4, 4)
    change = hit + rng.uniform(0, 6, 4)
    miss = change + rng.uniform(0, 6, 4)
    d = 0.3
    got = expected_max_wait(hit[:, None], change[:, None], miss[:, None],
                            h if h in (0.0, 1.0) else np.array([[h]]), np.array([[d]]), 1)
    assert got[0] == pytest.approx(_brute_force_max(hit, change, miss, h, d), rel=1e-9)


def test_expected_max_per_sample_across_blocks():
    """K = BLOCK_ROWS + 5 samples (two blocks of rows), each with its own times, h and
    d, some times tied at M0: every sample matches its own enumeration."""
    rng = np.random.default_rng(12)
    k, n = BLOCK_ROWS + 5, 3
    hit = rng.uniform(1, 4, (n, k))
    change = hit + rng.uniform(0, 6, (n, k)) * (rng.random((n, k)) < 0.7)
    miss = change + rng.uniform(0, 6, (n, k))
    h, d = rng.uniform(0.05, 0.95, (1, k)), rng.uniform(0.0, 0.9, (1, k))
    got = expected_max_wait(hit, change, miss, h, d, k)
    for i in (0, 1, BLOCK_ROWS - 1, BLOCK_ROWS, k - 1):
        want = _brute_force_max(hit[:, i], change[:, i], miss[:, i], h[0, i], d[0, i])
        assert got[i] == pytest.approx(want, rel=1e-9)


def test_expected_max_per_sample_when_every_fork_reuses_the_cache():
    """h = 1 (the weighted-mean form ``M0 q^I + sum_j s_j (1 - q) q^(I-1-j)``) with
    its own times and d per sample, some change times below M0 and some tied: every
    sample matches its own enumeration; d = 0 gives M0, d = 1 the slowest change."""
    rng = np.random.default_rng(13)
    k, n = 40, 4
    hit = rng.uniform(1, 4, (n, k))
    change = hit + rng.uniform(0, 6, (n, k)) * (rng.random((n, k)) < 0.7)
    change[1, ::3] = change[2, ::3] = np.maximum(change[1, ::3], change[2, ::3])   # ties
    miss = change + 1.0
    d = rng.uniform(0.0, 1.0, (1, k))
    d[0, 0], d[0, 1] = 0.0, 1.0
    got = expected_max_wait(hit, change, miss, 1.0, d, k)
    for i in range(k):
        want = _brute_force_max(hit[:, i], change[:, i], miss[:, i], 1.0, d[0, i])
        assert got[i] == pytest.approx(want, rel=1e-12)
    assert got[0] == pytest.approx(hit[:, 0].max(), rel=1e-15)
    assert got[1] == pytest.approx(max(hit[:, 1].max(), change[:, 1].max()), rel=1e-15)


def test_expected_max_worked_example():
    """A: hit 2, change 6; B: hit 3, change 4; h = 1, d = 0.5: maxima 3, 4, 6, 6 -> 4.75."""
    got = expected_max_wait(np.array([[2.0], [3.0]]), np.array([[6.0], [4.0]]),
                            np.array([[9.0], [9.0]]), 1.0, 0.5, 1)
    assert got[0] == pytest.approx(4.75)


# ----------------------------------------------------------------------- decision


def test_paired_decision_worked_example():
    """a = [1, 3], b = [2, 2]: each cheapest once; losses (0 + 1)/2 and (1 + 0)/2."""
    out = paired_decision({"a": np.array([1.0, 3.0]), "b": np.array([2.0, 2.0])})
    assert out["a"]["probability_cheapest"] == pytest.approx(0.5)
    assert out["a"]["expected_loss_usd_per_month"] == pytest.approx(0.5)
    assert out["b"]["expected_loss_usd_per_month"] == pytest.approx(0.5)
    tie = paired_decision({"a": np.array([1.0]), "b": np.array([1.0]), "c": np.array([4.0])})
    assert tie["a"]["probability_cheapest"] == 0.5 == tie["b"]["probability_cheapest"]
    assert tie["c"]["expected_loss_usd_per_month"] == pytest.approx(3.0)


def test_results_carry_the_decision_from_paired_costs(sample, sample_calibration):
    r = run_model(sample, load_scenario(None), samples=3000, calibration=sample_calibration)
    strategies = r["strategies"]
    assert sum(s["probability_cheapest"] for s in strategies.values()) == pytest.approx(1.0)
    assert all(s["expected_loss_usd_per_month"] >= 0 for s in strategies.values())
    rec = r["recommendation"]
    means = {n: s["total_cost_usd_per_month"]["mean"] for n, s in strategies.items()}
    if not rec["is_status_quo_kept"]:
        assert means[rec["winner"]] == min(means.values())
    # lowest expected cost <=> lowest expected loss (the same constant apart)
    losses = {n: s["expected_loss_usd_per_month"] for n, s in strategies.items()}
    assert min(losses, key=losses.get) == min(means, key=means.get)
    assert rec["weighs"] == ["project_cash", "shadow", "fork_owners_cash"]
    from cachecost.report.flips import weighs_sentence
    assert "shadow price" in weighs_sentence(rec["weighs"])
    dind = strategies["dind-inline-cache"]
    assert dind["money_usd_per_month"]["project_cash"]["p50"] > 0
    assert dind["storage_cash_usd_per_month"]["p50"] == 0.0          # registry not billed


def test_winner_does_not_move_with_the_horizon(sample, sample_calibration, tmp_path):
    winners = set()
    totals = []
    for horizon in (6, 12, 24):
        text = (load_scenario(None).path.read_text(encoding="utf-8")
                .replace("horizon_months: 12", f"horizon_months: {horizon}"))
        path = tmp_path / f"h{horizon}.yaml"
        path.write_text(text, encoding="utf-8")
        r = run_model(sample, load_scenario(path), samples=2000, calibration=sample_calibration)
        winners.add(r["recommendation"]["winner"])
        totals.append({n: s["total_cost_usd_per_month"]["mean"]
                       for n, s in r["strategies"].items()})
    assert len(winners) == 1
    assert totals[0] == totals[1] == totals[2]


# ----------------------------------------------------------------------- calibration mechanics


def test_typical_build_is_a_mean():
    """Image a's three builds take 118, 120 and 125 s: the mean is 121 s (the median 120)."""
    cal = calibrate(_tiny_dataset(with_layers=False))
    assert cal.images.loc["a", "cached_build_min"] == pytest.approx(121 / 60)


def test_failed_jobs_are_their_own_minutes_and_not_builds():
    """Two failed a-jobs of 60 and 240 s in a 60-day window (1.971 months): 300 s =
    5 minutes / 1.971 = 2.537 minutes a month; builds stay the 3 successes."""
    ds = _tiny_dataset(with_layers=False)
    extra = pd.DataFrame({
        "job_id": [10, 11], "pipeline_id": [1, 2], "status": ["failed", "canceled"],
        "is_container_build": True, "image": "a", "duration_s": [60.0, 240.0],
        "cache_outcome": None, "cached_steps": pd.NA, "executed_steps": pd.NA})
    ds.jobs = pd.concat([ds.jobs, extra], ignore_index=True)
    cal = calibrate(ds)
    months = 60 / 30.4375
    assert cal.images.loc["a", "failed_min_per_month"] == pytest.approx(5 / months)
    assert cal.images.loc["a", "builds_per_month"] == pytest.approx(3 / months)
    assert cal.images.loc["a", "cached_build_min"] == pytest.approx(121 / 60)


def test_runner_rate_counts_container_jobs_mapping_to_no_image():
    """A container job of 600 s that maps to no image is a CI minute the nodes ran:
    other minutes = (600 + 0 other jobs) / 60 / months."""
    ds = _tiny_dataset(with_layers=False)
    extra = pd.DataFrame({
        "job_id": [20], "pipeline_id": [1], "status": ["success"], "is_container_build": True,
        "image": [None], "duration_s": [600.0], "cache_outcome": None,
        "cached_steps": pd.NA, "executed_steps": pd.NA})
    ds.jobs = pd.concat([ds.jobs, extra], ignore_index=True)
    cal = calibrate(ds)
    months = 60 / 30.4375
    assert cal.other_minutes_per_month == pytest.approx(10 / months)
    mapped = (120 + 180 + 125 + 185 + 118 + 179) / 60 / months
    assert cal.container_minutes_per_month == pytest.approx(mapped)


@pytest.mark.parametrize("with_layers", [True, False])
def test_tagged_cache_repositories_count_in_dedup_bytes(with_layers):
    """Image a gets a cache repository holding a 0.5 GiB blob of its own: its dedup bytes
    grow by 0.5 GiB (layers table) or by the repository's size (repository sizes)."""
    ds = _tiny_dataset(with_layers=with_layers)
    ds.registry_repositories = pd.concat([
        ds.registry_repositories.assign(size_bytes=[3 * GIB, 2 * GIB]),
        pd.DataFrame({"repository_id": [3], "path": ["ns/p/a-cache"], "image": ["a"],
                      "is_cache_repository": [True], "size_bytes": [0.5 * GIB]})],
        ignore_index=True)
    if with_layers:
        ds.registry_layers = pd.concat([ds.registry_layers, pd.DataFrame({
            "repository_path": ["ns/p/a-cache"], "tag_name": ["k1"], "blob_digest": ["c1"],
            "size_bytes": [0.5 * GIB]})], ignore_index=True)
    cal = calibrate(ds)
    # layers: base 1 + a1 2 + c1 0.5; repository sizes: 3 + 0.5
    assert cal.images.loc["a", "dedup_gib"] == pytest.approx(3.5)
    assert cal.images.loc["a", "per_tag_gib"] == pytest.approx(6.0)   # tags of the image only


def test_multi_stage_is_a_per_image_fact(sample_calibration):
    flags = sample_calibration.images["is_multi_stage"]
    assert set(flags[flags == 1].index) == set(MULTI_STAGE_IMAGES) & set(flags.index)
    assert flags.sum() >= 1


def test_tornado_ties_but_for_rounding_are_ordered_by_name():
    """Two inputs each moving one $10 pack swing 10.0 and 10.000000000000002 (rounding):
    a tie, so the tornado lists them by strategy, then input, not by the noise; a real
    difference of a cent still comes first, and a swing of 9.99 after them."""
    rows = [{"swing_usd_per_month": 10.000000000000002, "strategy": "s", "input": "b"},
            {"swing_usd_per_month": 9.99, "strategy": "s", "input": "d"},
            {"swing_usd_per_month": 10.0, "strategy": "s", "input": "a"},
            {"swing_usd_per_month": 10.01, "strategy": "s", "input": "c"}]
    assert [r["input"] for r in sort_tornado(rows)] == ["c", "a", "b", "d"]
