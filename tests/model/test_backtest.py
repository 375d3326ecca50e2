"""The walk-forward backtest (issue 24): scores worked by hand, the verdict rule, the
property on data generated from the model's own assumptions, drift, a strategy switch,
a history too short, and the command's JSON contract."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cachecost.dataset.io import write_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.model.backtest import (
    MonthScore,
    TargetScore,
    binom_cdf,
    crps_sample,
    pit,
    run_backtest,
    verdict_of,
    wilson,
)
from cachecost.model.monthly import detect_drift, month_table
from cachecost.model.scenario import load_scenario

#: the future is like the past: no factor moves pipelines, changes or build minutes
FUTURE_LIKE_PAST = """\
name: future-like-past
baseline: dind-inline-cache
workload:
  upstream_pipelines_factor: 1.0
  image_changes_factor: 1.0
  build_minutes_factor: 1.0
compute:
  mode: private-runners
"""
#: fewer pipelines than the sample (faster), the same mechanics
SMALL = {"push": 1.5, "merge_request_event": 1.0}
#: 2024-12-01 + 182 days = 2025-06-01 (31 + 31 + 28 + 31 + 30 + 31)
HALF_WAY_DAY = 182


@pytest.fixture(scope="module")
def like_past(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "future-like-past.yaml"
    path.write_text(FUTURE_LIKE_PAST)
    return load_scenario(path)


# ------------------------------------------------------------------- scores by hand


def test_crps_of_two_draws_worked_by_hand():
    """Draws {0, 2}, y = 1: E|X - y| = (1 + 1)/2 = 1; E|X - X'| over the 4 ordered
    pairs = (0 + 2 + 2 + 0)/4 = 1; CRPS = 1 - 1/2 = 0.5. Draws {0, 2}, y = 5:
    E|X - y| = (5 + 3)/2 = 4, CRPS = 4 - 0.5 = 3.5. One draw at y: 0."""
    assert crps_sample(np.array([0.0, 2.0]), 1.0) == pytest.approx(0.5)
    assert crps_sample(np.array([2.0, 0.0]), 5.0) == pytest.approx(3.5)
    assert crps_sample(np.array([3.0]), 3.0) == 0.0


def test_crps_sorted_formula_equals_the_pairwise_definition():
    """The O(K log K) spread term against the O(K^2) mean over all pairs."""
    x = np.random.default_rng(7).gamma(2.0, 3.0, 300)
    pairwise = np.abs(x[:, None] - x[None, :]).mean()
    expected = np.abs(x - 4.0).mean() - 0.5 * pairwise
    assert crps_sample(x, 4.0) == pytest.approx(expected, rel=1e-12)


def test_pit_counts_ties_half():
    """Draws {1, 2, 2, 3}, y = 2: one below, two equal: (1 + 0.5*2)/4 = 0.5."""
    assert pit(np.array([1.0, 2.0, 2.0, 3.0]), 2.0) == 0.5
    assert pit(np.array([1.0, 2.0, 2.0, 3.0]), 9.0) == 1.0


def test_wilson_interval_worked_by_hand():
    """8 of 10, z = 1.96: centre (0.8 + 0.19208)/1.38416 = 0.71680, half
    1.96/1.38416 * sqrt(0.016 + 0.009604) = 0.22657: 0.4902 .. 0.9434."""
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=2e-4)
    assert hi == pytest.approx(0.9434, abs=2e-4)


def test_binomial_cdf_worked_by_hand():
    """P(X <= 5 | 9, 0.8) = 1 - P(6) - P(7) - P(8) - P(9)
    = 1 - (84*0.262144*0.008 + 36*0.2097152*0.04 + 9*0.16777216*0.2 + 0.134217728)
    = 1 - (0.176161 + 0.301990 + 0.301990 + 0.134218) = 0.085641."""
    assert binom_cdf(5, 9, 0.8) == pytest.approx(0.085641, abs=1e-6)
    assert binom_cdf(9, 9, 0.8) == pytest.approx(1.0)


def _months(pits, inside80, inside50):
    """Hand-made scored months, observed 100, placed inside both intervals, inside the
    80 % one only, or outside both."""
    out = []
    for i, (u, a, b) in enumerate(zip(pits, inside80, inside50, strict=True)):
        p10, p25, p75, p90 = ((80.0, 90.0, 110.0, 120.0) if b else
                              (80.0, 101.0, 105.0, 120.0) if a else
                              (101.0, 102.0, 105.0, 130.0))
        out.append(MonthScore(f"2025-{i + 1:02d}", "dind-inline-cache", 100.0, p10, p25,
                              100.0, p75, p90, 100.0, u, 1.0))
    return TargetScore(out)


def test_verdict_rule_worked_by_hand():
    """10 months. Calibrated: PITs spread 0.05..0.95 (mean 0.5), 8 inside the 80 %
    and 5 inside the 50 % interval. Biased low: every PIT 0.9, mean 0.9, z =
    0.4/sqrt(1/120) = 4.38 > 1.96. Too narrow: PITs alternate 0.02 / 0.98 (mean 0.5)
    and 4 of 10 inside the 80 % interval: P(X <= 4 | 10, 0.8) = 0.0064 < 0.05. Too
    wide: all 10 inside both: P(X >= 10 | 10, 0.5) = 0.001 < 0.05. Two months: too short."""
    spread = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
    ok = _months(spread, [1] * 8 + [0] * 2, [1] * 5 + [0] * 5)
    assert verdict_of(ok) == "calibrated"
    assert verdict_of(_months([0.9] * 10, [1] * 10, [1] * 5 + [0] * 5)) == "biased-low"
    assert verdict_of(_months([0.1] * 10, [1] * 10, [1] * 5 + [0] * 5)) == "biased-high"
    assert verdict_of(_months([0.02, 0.98] * 5, [1] * 4 + [0] * 6, [0] * 10)) == "too-narrow"
    assert verdict_of(_months(spread, [1] * 10, [1] * 10)) == "too-wide"
    assert verdict_of(_months([0.5, 0.5], [1, 1], [1, 1])) == "too-short"


def test_drift_of_counts_worked_by_hand():
    """Change events 2, 2, 2, 8, 8, 8 in six 1-month months: the best split is after
    month 3; after it 24 of 30 events in half the exposure: z = (24 - 15)/sqrt(7.5)
    = 3.29 < 3.9, so with these few events it is not reported; 5, 5, 5, 20, 20, 20:
    z = (60 - 37.5)/sqrt(18.75) = 5.20, factor 4, since the 4th month."""
    def table(counts):
        n = len(counts)
        return pd.DataFrame({
            "length_months": [1.0] * n, "change_events": counts, "pipelines": [200] * n,
            "cached_min_mean": [2.0] * n, "rebuild_min_mean": [10.0] * n,
            "observed_rebuilds": [5] * n}, index=[f"2025-{i + 1:02d}" for i in range(n)])
    assert detect_drift(table([2, 2, 2, 8, 8, 8])) == []
    (found,) = detect_drift(table([5, 5, 5, 20, 20, 20]))
    assert found.input == "changes_per_month"
    assert found.since == "2025-04"
    assert found.factor == pytest.approx(4.0)
    assert found.z == pytest.approx(22.5 / math.sqrt(18.75))


# ------------------------------------------------------------------ the month table


def test_month_minutes_are_the_container_jobs_of_the_months_pipelines(sample):
    """Recomputed here from the raw tables: every image-mapped container job's
    seconds / 60, by the calendar month its pipeline was created in."""
    months = month_table(sample)
    jobs = sample.jobs[sample.jobs["is_container_build"] & sample.jobs["image"].notna()]
    created = jobs["pipeline_id"].map(sample.pipelines.set_index("pipeline_id")["created_at"])
    by_month = jobs["duration_s"].groupby(created.dt.strftime("%Y-%m")).sum() / 60
    assert list(months.index) == list(by_month.index)
    np.testing.assert_allclose(months["observed_minutes"], by_month.to_numpy())
    assert (months["coverage"] > 0.99).all()          # the sample's 12 whole months
    assert len(months) == 12


# --------------------------------------------------------------- the whole backtest


def test_sample_backtest_walks_nine_months_without_a_switch(sample):
    bt = run_backtest(sample, load_scenario(None)).to_json()
    assert bt["training_months_min"] == 3
    assert [m["month"] for m in bt["months"]][0] == "2025-03"     # Dec, Jan, Feb trained
    assert len(bt["months"]) == 9
    assert bt["switch"] is None
    assert bt["strategy"] == "dind-inline-cache"
    for m in bt["months"]:
        assert m["p10"] <= m["p50"] <= m["p90"]
        assert 0.0 <= m["pit"] <= 1.0


def test_intervals_cover_65_to_95_percent_on_data_from_the_models_assumptions(like_past):
    """Twelve seeds of the generator (Poisson pipelines, Poisson change events, iid build
    times: what the model assumes) with a scenario that says the future is like the
    past: the 80 % intervals, pooled over every scored month, hold 65-95 % of them."""
    inside = months = 0
    for seed in range(12):
        ds = generate_sample(SampleSettings(seed=seed, days=300, pipelines_per_day=SMALL))
        bt = run_backtest(ds, like_past, draws=1000)
        inside += bt.minutes.inside_80
        months += bt.minutes.n
    assert months >= 60
    assert 0.65 <= inside / months <= 0.95


def test_change_rate_quadrupling_half_way_is_not_calibrated_and_named(like_past):
    ds = generate_sample(SampleSettings(pipelines_per_day=SMALL, change_rate_factor=4.0,
                                        change_rate_factor_from_day=HALF_WAY_DAY))
    bt = run_backtest(ds, like_past)
    assert bt.verdict != "calibrated"
    names = {d.input: d for d in bt.drift}
    assert "changes_per_month" in names
    assert names["changes_per_month"].factor > 2.0
    assert names["changes_per_month"].since in ("2025-05", "2025-06", "2025-07")


def test_switch_to_kaniko_half_way_is_found_and_predicted_for_kaniko(like_past):
    ds = generate_sample(SampleSettings(pipelines_per_day=SMALL, logs_per_image=40,
                                        switch_to_kaniko_day=HALF_WAY_DAY))
    bt = run_backtest(ds, like_past)
    out = bt.to_json()
    assert out["switch"]["month"] == "2025-06"
    assert (out["switch"]["from"], out["switch"]["to"]) == ("dind-inline-cache",
                                                            "kaniko-cache-repo")
    assert bt.switch is not None and bt.switch.minutes is not None
    assert {m.strategy for m in bt.switch.minutes.months} == {"kaniko-cache-repo"}
    assert len(bt.switch.minutes.months) == 6                 # June .. November
    assert out["switch"]["coverage_80"] is not None
    assert out["strategy"] == "kaniko-cache-repo"
    # the months after the switch are walked on kaniko's own months only (3 to train)
    assert [m["month"] for m in out["months"] if m["strategy"] == "kaniko-cache-repo"] == [
        "2025-09", "2025-10", "2025-11"]


#: 2024-12-01 + 304 days = 2025-10-01 (HALF_WAY_DAY + 30 + 31 + 31 + 30)
OCTOBER_DAY = 304


def test_the_strategy_is_the_last_scored_months_not_an_unscored_switch(like_past):
    """A switch to kaniko on 2025-10-01: October and November run kaniko but are not scored
    (3 months of kaniko to train on are needed), so the last month scored is 2025-09, under
    dind-inline-cache. Before: ``strategy`` was November's, kaniko-cache-repo, a strategy
    no scored month ran."""
    ds = generate_sample(SampleSettings(pipelines_per_day=SMALL, logs_per_image=40,
                                        switch_to_kaniko_day=OCTOBER_DAY))
    out = run_backtest(ds, like_past).to_json()
    assert out["switch"]["month"] == "2025-10" and out["switch"]["to"] == "kaniko-cache-repo"
    assert out["months"][-1]["month"] == "2025-09"
    assert {m["strategy"] for m in out["months"]} == {"dind-inline-cache"}
    assert (out["strategy"], out["strategy_month"]) == ("dind-inline-cache", "2025-09")


def test_the_sample_has_no_switch_and_says_so(sample):
    from cachecost.report.backtest import verdict_sentences

    bt = run_backtest(sample, load_scenario(None)).to_json()
    assert any("no change of builder or caching" in s for s in verdict_sentences(bt))


# ------------------------------------------------------------------------ the command


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cachecost", "backtest", *args],
                          capture_output=True, text=True, timeout=300)


def test_too_short_history_is_verdict_too_short_exit_0(tmp_path):
    write_dataset(generate_sample(SampleSettings(days=60, pipelines_per_day=SMALL)), tmp_path)
    proc = _cli("--data", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == "too-short"
    assert out["months"] == [] and out["coverage_80"] is None


def test_json_contract_keys(sample):
    proc = _cli("--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == ["strategy", "training_months_min", "months", "coverage_50",
                         "coverage_80", "crps_minutes", "verdict", "drift", "switch",
                         "verdict_from", "rebuilds", "strategy_month"]
    # the issue-24 contract's keys first; then what the verdict rests on
    assert out["verdict_from"] in ("minutes", "rebuilds")
    assert set(out["rebuilds"]) == {"coverage_50", "coverage_80", "months", "verdict"}
    assert set(out["months"][0]) == {"month", "strategy", "observed_minutes", "p10", "p50",
                                     "p90", "mean", "pit"}
    assert out["verdict"] in ("calibrated", "too-narrow", "too-wide", "biased-high",
                              "biased-low", "too-short")


def test_table_says_synthetic_and_bad_data_is_one_line(tmp_path):
    proc = _cli()
    assert proc.returncode == 0
    assert proc.stdout.startswith("SYNTHETIC SAMPLE DATA")
    assert "80 % interval held" in proc.stdout
    bad = _cli("--data", str(tmp_path / "nope"))
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_month_strategy_maps_builders_before_counting():
    """A month whose logs show 12 docker, 10 BuildKit, 18 kaniko and 8 buildah builds
    (the demo stand-in's 48 logs) ran dind-inline-cache mostly: 22 against 18 (buildah maps
    to no strategy). Counting builder names first made kaniko the most common and the
    backtest reported a switch to kaniko that never happened."""
    import pandas as pd

    from cachecost.dataset.io import Dataset
    from cachecost.model.monthly import month_strategies

    builders = ["docker"] * 12 + ["buildkit"] * 10 + ["kaniko"] * 18 + ["buildah"] * 8
    n = len(builders)
    pipelines = pd.DataFrame({"pipeline_id": range(n),
                              "created_at": pd.Timestamp("2025-11-10", tz="UTC")})
    jobs = pd.DataFrame({"job_id": range(n), "pipeline_id": range(n),
                         "is_container_build": True, "image": "img",
                         "cache_outcome": "hit", "builder": builders})
    ds = Dataset(None, {}, pipelines, jobs, pd.DataFrame(), pd.DataFrame())
    assert month_strategies(ds, ["2025-11"], "no-cache") == {"2025-11": "dind-inline-cache"}
    only_kaniko = ds.jobs.assign(builder=["kaniko"] * 30 + ["docker"] * 18)
    ds2 = Dataset(None, {}, pipelines, only_kaniko, pd.DataFrame(), pd.DataFrame())
    assert month_strategies(ds2, ["2025-11"], "dind-inline-cache") == {
        "2025-11": "kaniko-cache-repo"}
