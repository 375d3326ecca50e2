"""GitLab bills each calendar month's minutes over the monthly quota: the expectation over
months that vary (a lognormal month multiplier, Black-Scholes call), its measured spread,
and its effect on the bundled gitlab-hosted-oss decision."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from model_test_helpers import assert_rerun_agrees, with_input

from cachecost.config import SCENARIOS_DIR
from cachecost.model.calibrate import monthly_minutes, monthly_minutes_cv
from cachecost.model.distributions import fixed
from cachecost.model.measured import CV_KEY, measured_spread, with_measured_inputs
from cachecost.model.money import (
    expected_monthly_overage,
    fork_owner_cost_usd,
    hosted_overage_usd,
    marginal_overage,
)
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario


def _phi(x: float) -> float:
    """The standard normal CDF from math.erf (a reference, not the code under test)."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def test_at_the_quota_a_ten_percent_spread_bills_forty_minutes():
    """T = K = 1,000, cv = 0.1, worked by hand: sigma^2 = ln(1.01) = 0.00995033, sigma =
    0.0997513; d1 = (ln 1 + 0.00497517) / 0.0997513 = 0.0498756, d2 = -0.0498756;
    Phi(d1) = 0.5 + (0.0498756 - 0.0498756^3 / 6) / sqrt(2 pi) = 0.5 + 0.0498549 /
    2.5066283 = 0.5198892, Phi(d2) = 0.4801108; E = 1000 (0.5198892 - 0.4801108) = 39.78
    minutes, where the mean month (exactly the quota) bills none."""
    sigma = math.sqrt(math.log(1.01))
    assert sigma == pytest.approx(0.0997513, abs=1e-7)
    assert _phi(0.0498756) == pytest.approx(0.5198892, abs=1e-7)
    assert float(expected_monthly_overage(1000.0, 1000.0, 0.1)) == pytest.approx(39.78, abs=0.005)


def test_a_tenth_above_the_quota_bills_more_than_the_mean_month():
    """T = 1,100, K = 1,000, cv = 0.1 by hand: d1 = (ln 1.1 + 0.0049752) / 0.0997513 =
    (0.0953102 + 0.0049752) / 0.0997513 = 1.005353, d2 = 0.905602; Phi(d1) = 0.842637,
    Phi(d2) = 0.817427 (normal table); E = 1100 x 0.842637 - 1000 x 0.817427 = 109.47
    minutes, more than the mean month's 100."""
    assert float(expected_monthly_overage(1100.0, 1000.0, 0.1)) == pytest.approx(109.47, abs=0.01)


def test_no_spread_or_no_quota_is_the_old_maximum_exactly():
    """cv = 0: max(0, T - K) bit for bit (0, 0, 0, 100, 1,000 minutes for T = 0, 500,
    1,000, 1,100, 2,000 and K = 1,000); no quota (K = 0): every minute, whatever the spread
    (the multiplier's mean is 1)."""
    t = np.array([0.0, 500.0, 1000.0, 1100.0, 2000.0])
    assert np.array_equal(expected_monthly_overage(t, 1000.0, 0.0), [0, 0, 0, 100, 1000])
    assert np.array_equal(expected_monthly_overage(t, 0.0, 0.3), t)
    old = np.maximum(0.0, 600.0 + 700.0 - 1000.0) - np.maximum(0.0, 700.0 - 1000.0)
    assert float(hosted_overage_usd(np.array(600.0), 700.0, 1000.0, 10.0)) == old * 10 / 1000


def test_far_below_and_far_above_the_quota():
    """cv = 0.1, K = 1,000. T = 500: d1 = (ln 0.5 + 0.0049752) / 0.0997513 = -6.899,
    Phi(-6.9) is about 3e-12, so about 0 minutes. T = 2,000: d1 = 6.999, d2 = 6.899, both
    Phi about 1 - 3e-12: T - K = 1,000 minutes. T = 0: nothing (ln 0 is -inf, no warning)."""
    got = expected_monthly_overage(np.array([0.0, 500.0, 2000.0]), 1000.0, 0.1)
    assert got[0] == 0.0
    assert got[1] == pytest.approx(0.0, abs=1e-6)
    assert got[2] == pytest.approx(1000.0, abs=1e-6)


def test_the_closed_form_is_the_mean_over_drawn_months():
    """Against months drawn directly: M lognormal with mu = -sigma^2/2 (mean 1), 400,000
    months; the mean of max(0, T M - K) matches the closed form within 4 standard errors
    for T/K at 0.8, 1 and 1.3 and cv 0.06 and 0.3."""
    rng = np.random.default_rng(7)
    for cv in (0.06, 0.3):
        s2 = math.log1p(cv * cv)
        m = rng.lognormal(-s2 / 2.0, math.sqrt(s2), 400_000)
        assert m.mean() == pytest.approx(1.0, abs=4 * cv / math.sqrt(len(m)) + 1e-9)
        for t in (800.0, 1000.0, 1300.0):
            over = np.maximum(0.0, t * m - 1000.0)
            se = over.std() / math.sqrt(len(m))
            assert float(expected_monthly_overage(t, 1000.0, cv)) == pytest.approx(
                over.mean(), abs=4 * se + 1e-9), (cv, t)


def test_the_marginal_bill_uses_one_multiplier_for_the_whole_namespace():
    """The rest of the namespace at the quota (1,000 of 1,000), the project 100, cv 0.1:
    E(1,100) - E(1,000) = 109.47 - 39.78 = 69.70 minutes ($0.70 at $10 per 1,000), less
    than the mean month's 100: in a month below 1,000/1,100 = 0.91 of the mean the namespace
    stays under the quota and bills nothing, in one between 0.91 and 1 it bills under 100. Fork owners: 2 owners, each the same,
    pay 2 x 69.70 x $10 / 1,000 = $1.39."""
    assert float(marginal_overage(100.0, 1000.0, 1000.0, 0.1)) == pytest.approx(69.70, abs=0.01)
    assert float(hosted_overage_usd(np.array(100.0), 1000.0, 1000.0, 10.0, 0.1)) == \
        pytest.approx(0.6970, abs=1e-4)
    assert float(fork_owner_cost_usd(np.array(100.0), 2.0, 1000.0, 10.0, 1000.0, 0.1)) == \
        pytest.approx(1.3939, abs=2e-4)
    assert float(fork_owner_cost_usd(np.array(100.0), 2.0, None, 10.0, 1000.0, 0.1)) == \
        pytest.approx(2.0)                       # no quota: every minute, spread or not


def _months(starts: list[str], seconds: list[float], last: str) -> SimpleNamespace:
    """A dataset of one pipeline a month with one job, plus an empty last pipeline."""
    created = pd.to_datetime([*starts, last], utc=True)
    pipelines = pd.DataFrame({"pipeline_id": range(len(created)), "created_at": created})
    jobs = pd.DataFrame({"pipeline_id": range(len(seconds)), "duration_s": seconds})
    return SimpleNamespace(pipelines=pipelines, jobs=jobs)


def test_the_spread_of_full_calendar_months():
    """Pipelines from 2025-01-01 to 2025-04-01 00:00: January, February and March fully
    covered (April covered 0 %, left out), 90, 100 and 110 minutes: mean 100, sd
    sqrt((10^2 + 0 + 10^2) / 2) = 10, cv 0.1 on 3 months."""
    ds = _months(["2025-01-01", "2025-02-10", "2025-03-10"], [5400.0, 6000.0, 6600.0],
                 "2025-04-01")
    assert list(monthly_minutes(ds)) == [90.0, 100.0, 110.0]
    cv, n, note = monthly_minutes_cv(ds)
    assert (cv, n) == (pytest.approx(0.1), 3)
    assert "coefficient of variation 0.100" in note
    # its sampling error on 3 months, by hand in cv_interval's docstring: 0.066-0.308
    assert "(80 % interval about 0.066-0.308 on 3 months, which the model draws it " \
           "from)" in note
    # what the spread is for, in the data notes a maintainer reads beside the answer
    assert note.startswith("month-to-month spread (a quota is billed per calendar month, "
                           "so busy months cost more than quiet ones save): ")


def test_fewer_than_three_full_months_measure_no_spread_and_say_so():
    """From 2025-01-16: January is half covered (16 of 31 days left, 0.52 < 0.9) and left
    out; February and March make 2 full months: cv 0, and the note says why."""
    ds = _months(["2025-01-16", "2025-02-10", "2025-03-10"], [5400.0, 6000.0, 6600.0],
                 "2025-04-01")
    cv, n, note = monthly_minutes_cv(ds)
    assert (cv, n) == (0.0, 2)
    assert "fewer than 3" in note


def test_the_measured_spread_is_the_scenario_default_and_a_stated_one_stays(
        sample, sample_calibration):
    """The sample's 12 full months (2024-12..2025-11) of every job's minutes, recomputed
    here with pandas from the jobs table: the first and last months, covered from the first
    pipeline (2024-12-01 00:51) and to the last (2025-11-30 19:01), scaled to a whole month
    by their coverage; their cv is the calibration's and becomes
    ``workload.monthly_minutes_cv`` (source "measured"); a scenario stating 0 keeps 0."""
    created = sample.pipelines.set_index("pipeline_id")["created_at"]
    month = sample.jobs["pipeline_id"].map(created).dt.tz_convert("UTC").dt.strftime("%Y-%m")
    per = sample.jobs["duration_s"].groupby(month).sum() / 60.0
    lo, hi = created.min(), created.max()
    day = pd.Timedelta(days=1)
    per["2024-12"] /= (pd.Timestamp("2025-01-01", tz="UTC") - lo) / (31 * day)
    per["2025-11"] /= (hi - pd.Timestamp("2025-11-01", tz="UTC")) / (30 * day)
    assert sample_calibration.monthly_minutes_months == len(per) == 12
    assert sample_calibration.monthly_minutes_cv == pytest.approx(
        per.std(ddof=1) / per.mean(), rel=1e-9)
    sc = load_scenario(SCENARIOS_DIR / "gitlab-hosted-oss.yaml")
    measured = with_measured_inputs(sc, sample, [], sample_calibration)
    # drawn from its sampling error on 12 months (df 11): chi-square 0.9 and 0.1
    # quantiles 17.275 and 5.578 (tables), so p10 = cv sqrt(11 / 17.275) = 0.7980 cv and
    # p90 = cv sqrt(11 / 5.578) = 1.4043 cv
    cv = sample_calibration.monthly_minutes_cv
    assert measured.value(CV_KEY).kind == "lognormal"
    p10, p90 = measured.value(CV_KEY).params
    assert (p10, p90) == (pytest.approx(0.7980 * cv, rel=1e-3),
                          pytest.approx(1.4043 * cv, rel=1e-3))
    assert measured.sources[CV_KEY] == "measured"
    stated = _with_cv(sc, 0.0)
    assert with_measured_inputs(stated, sample, [], sample_calibration).value(CV_KEY) == \
        fixed(0.0)


def test_a_stated_spread_is_said_to_replace_the_data_s(sample, sample_calibration):
    """The calibration's note states the data's spread ("coefficient of variation 0.066");
    a scenario stating 0.2 is priced at 0.2, so the data notes must say the 0.066 is not
    the one used (before: only the 0.066 showed, beside a bill at 0.2). Left at its
    default, no such note."""
    sc = load_scenario(SCENARIOS_DIR / "gitlab-hosted-oss.yaml")
    notes: list[str] = []
    with_measured_inputs(_with_cv(sc, 0.2), sample, notes, sample_calibration)
    assert ("month-to-month spread: the scenario's workload.monthly_minutes_cv 0.2 (its "
            "file sets it), not the data's") in notes
    default_notes: list[str] = []
    with_measured_inputs(sc, sample, default_notes, sample_calibration)
    assert not any("the scenario's workload.monthly_minutes_cv" in n for n in default_notes)


def _with_cv(sc, cv: float):
    return with_input(sc, CV_KEY, fixed(cv))


def test_gitlab_hosted_oss_accounts_for_the_measured_month_spread(sample, sample_calibration):
    """gitlab-hosted-oss on the sample sits on the 50,000-minute edge. With every month the
    mean (cv 0, the model before) dind costs $24.78 a month and is kept; with the measured
    spread (cv 0.066, drawn from its sampling interval 0.053-0.093) its months over the
    quota cost more (convexity): dind rises by what
    its compute cash rose, above $30, while rebuild-on-change, further below the quota,
    rises less, and becomes the recommendation."""
    sc = load_scenario(SCENARIOS_DIR / "gitlab-hosted-oss.yaml")
    flat = run_model(sample, _with_cv(sc, 0.0), samples=4000, calibration=sample_calibration)
    spread = run_model(sample, sc, samples=4000, calibration=sample_calibration)
    mean = {name: {k: r["strategies"][name]["total_cost_usd_per_month"]["mean"]
                   for k, r in (("flat", flat), ("spread", spread))}
            for name in ("dind-inline-cache", "rebuild-on-change")}
    dind, rebuild = mean["dind-inline-cache"], mean["rebuild-on-change"]
    assert flat["recommendation"]["winner"] == "dind-inline-cache"
    assert dind["flat"] == pytest.approx(24.78, abs=0.5)
    assert dind["spread"] > 30.0 > dind["flat"]
    assert dind["spread"] - dind["flat"] > rebuild["spread"] - rebuild["flat"] > 0
    assert spread["recommendation"]["winner"] == "rebuild-on-change"
    inputs = {i["name"]: i for i in spread["inputs"]}
    assert inputs[CV_KEY]["source"] == "measured"
    assert spread["calibration"]["monthly_minutes_cv"] == pytest.approx(0.066, abs=0.001)
    # the measured 0.066 with its 80 % sampling interval on 12 months (by hand above)
    assert inputs[CV_KEY]["value"] == {"lognormal": {"p10": pytest.approx(0.0528, abs=1e-3),
                                                     "p90": pytest.approx(0.0930, abs=1e-3)}}
    assert spread["calibration"]["monthly_minutes_months"] == 12
    # the inputs table says where the measured spread came from, not only "the dataset"
    assert inputs[CV_KEY]["citation"] == ("the dataset (fetch): sd / mean of the CI minutes "
                                          "of its 12 full calendar months")


def test_the_stated_spread_that_flips_the_answer_back_is_where_a_rerun_agrees(
        sample, sample_calibration):
    """The recommendation states the month spread at which dind would be kept again (about
    0.058, now 0.066): re-running the model with the spread fixed 2 % either side keeps
    dind below and picks rebuild-on-change above."""
    sc = load_scenario(SCENARIOS_DIR / "gitlab-hosted-oss.yaml")
    r = run_model(sample, sc, samples=20_000, calibration=sample_calibration)
    (flip,) = [row for row in r["recommendation_flips"] if row["input"] == CV_KEY]
    assert (flip["strategy_a"], flip["strategy_b"]) == ("dind-inline-cache", "rebuild-on-change")
    assert 0.0 < flip["value"] < flip["current"]
    assert_rerun_agrees(sample, sc, sample_calibration, flip, "dind-inline-cache",
                        "rebuild-on-change", 0.02)


def test_a_measured_spread_is_drawn_from_its_sampling_interval():
    """cv 0.1 on 3 months (df 2; chi-square 0.9 and 0.1 quantiles 4.605 and 0.2107, from
    tables): p10 = 0.1 sqrt(2 / 4.605) = 0.0659, p90 = 0.1 sqrt(2 / 0.2107) = 0.3081, the
    lognormal through them (median sqrt(0.0659 x 0.3081) = 0.1425). No spread measured
    (0) stays a certain 0."""
    spread = measured_spread(0.1, 3)
    assert spread.kind == "lognormal"
    assert spread.params == (pytest.approx(0.0659, abs=1e-4), pytest.approx(0.3081, abs=1e-4))
    assert spread.median == pytest.approx(0.1425, abs=1e-3)
    assert measured_spread(0.0, 12) == fixed(0.0)
