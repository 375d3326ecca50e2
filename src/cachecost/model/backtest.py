r"""Walk-forward backtest: does the model predict months it has not seen?

    bt = run_backtest(load_dataset(), load_scenario(None))
    bt.verdict, bt.minutes.coverage_80, bt.to_json()

Method (``docs/model.md`` §8 has the long form and the sources)
================================================================
**Walk forward.** For every full calendar month (:mod:`cachecost.model.monthly`)
with at least ``training_months_min`` months of the same strategy before it, the
model is calibrated (:func:`~cachecost.model.calibrate.calibrate`) on the pipelines
created before the month only, and predicts the month. A change of builder or cache
(:func:`~cachecost.model.monthly.month_strategies`) starts a new segment: months after
it are walked on the new segment's history only, and the switch itself is tested by
calibrating on the months before it and predicting every month after it *for the new
strategy* (:attr:`Backtest.switch`).

**The predictive distribution of a month's measured value** (``DRAWS`` draws), with
``L`` the month's length in months:

* rates' uncertainty: the Monte Carlo's own draws -- the bootstrap of the build
  minutes and the change rates' Gamma-Poisson posterior
  (:mod:`cachecost.model.uncertainty`), the scenario's factors, and the strategy's
  formulas (:mod:`cachecost.model.strategies`: its ``hit_minutes``,
  ``change_minutes``, ``changes`` and ``extra_full_builds_per_month``);
* pipelines: ``N ~ Poisson(lambda*L)``, ``lambda ~ Gamma(n + 1/2, rate = T)`` x the
  pipelines factor (n pipelines in T training months: a negative binomial);
  builds of image i ``B_i ~ Binomial(N, b_i)``, ``b_i`` its successful builds per
  pipeline;
* changes: a compound Poisson process -- ``E ~ Poisson(lambda_e*L)`` change events,
  ``lambda_e`` from its posterior x the changes factor, each event touching the
  images of one training event drawn at random (an lcitool refresh touches many at
  once, so the images' changes are correlated as they were measured); thinned per
  image by the strategy's ``changes`` over the measured rate; capped at ``B_i``;
  forced full builds (kaniko's TTL) ``~ Poisson(extra_i*L)``;
* durations: ``n`` builds of mean ``m`` and coefficient of variation ``v`` (the
  image's measured class) sum to ``Gamma(shape = n/v^2, scale = m*v^2)`` (mean
  ``n*m``, sd ``sqrt(n)*v*m``, as a sum of n such builds); failed and canceled jobs
  ``~ Poisson(q*N)`` with the measured failed minutes' mean and spread.

The month's container-build minutes are the sum; its rebuilds the changes plus the
forced full builds. Fork minutes are not backtested: the data count fork pipelines
over the whole window, not per month.

**Scores.** Per month: p10, p25, p50, p75, p90, mean, PIT ``F(y)`` (the predictive CDF
at the observation, mid-rank for ties) and the CRPS by the sample estimator
``E|X - y| - 1/2 E|X - X'|`` (Gneiting & Raftery 2007, JASA 102:359, eq. 21).
Overall: the share of months inside the 50 % (p25-p75) and 80 % (p10-p90)
intervals, each with a Wilson 95 % interval (Wilson 1927), and the mean CRPS.

**Verdict** (:func:`verdict_of`), with ``n`` scored months, binomial tails at 5 %:
``too-short`` when ``n < MIN_SCORED_MONTHS``; else ``biased-low`` / ``biased-high``
when the mean PIT is improbably far from 1/2 (a calibrated forecast's PIT is uniform,
mean 1/2, variance 1/12: ``z = (mean - 1/2) / sqrt(1/(12 n))``, two-sided 5 %; a mean
above 1/2 means the months came out above the forecast: biased low); else ``too-narrow`` when the months inside the
80 % or 50 % interval are improbably few under Binomial(n, 0.8) / Binomial(n, 0.5)
(one-sided), ``too-wide`` when improbably many; else ``calibrated``. The minutes decide;
when they read ``calibrated`` but the rebuild counts do not, the rebuilds' verdict is
the backtest's (a change rate can move without moving the minutes much).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cachecost.dataset.io import Dataset
from cachecost.model.calibrate import (
    DAYS_PER_MONTH,
    FULL_MONTH_COVERAGE,
    Calibration,
    calibrate,
)
from cachecost.model.monthly import (
    Drift,
    change_events,
    container_jobs,
    detect_drift,
    month_strategies,
    month_table,
    rebuild_mask,
)
from cachecost.model.results import draw_inputs
from cachecost.model.scenario import Scenario
from cachecost.model.simulate import make_drivers, make_static, uncertain_inputs
from cachecost.model.strategies import STRATEGIES
from cachecost.model.uncertainty import build_bank

TRAINING_MONTHS_MIN = 3
#: share of a calendar month the data must cover for the month to be scored
MIN_COVERAGE = FULL_MONTH_COVERAGE
MIN_SCORED_MONTHS = 3
DRAWS = 2000
#: bootstrap replicates of the calibration per training window (each draw picks one per
#: image): enough for the spread of a mean, a fifth of the model's 2,000 for speed
BANK_SIZE = 400
ALPHA = 0.05
#: the two-sided 5 % point of the standard normal
Z_TWO_SIDED = 1.959964
#: coefficient of variation of a build class with fewer than two measured builds
DEFAULT_CV = 0.3
VERDICTS = ("calibrated", "too-narrow", "too-wide", "biased-high", "biased-low", "too-short")
_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


# ----------------------------------------------------------------------------- scoring


def crps_sample(draws: np.ndarray, y: float) -> float:
    """CRPS of a sample forecast: ``E|X - y| - 1/2 E|X - X'|`` (Gneiting & Raftery 2007,
    eq. 21), with ``E|X - X'| = 2/K^2 sum_i (2i - K - 1) x_(i)`` over the sorted sample
    (i = 1..K). Same unit as ``y``. Example: draws [0, 2], y = 1: 1 - 1/2 * 1 = 0.5."""
    x = np.sort(np.asarray(draws, dtype=float))
    k = len(x)
    spread = 2.0 / k**2 * float(np.sum((2 * np.arange(1, k + 1) - k - 1) * x))
    return float(np.mean(np.abs(x - y)) - 0.5 * spread)


def pit(draws: np.ndarray, y: float) -> float:
    """The predictive CDF at ``y``: share of draws below it, ties counted half."""
    x = np.asarray(draws, dtype=float)
    return float((np.sum(x < y) + 0.5 * np.sum(x == y)) / len(x))


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's 95 % score interval for a binomial share ``k/n`` (Wilson 1927)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def binom_cdf(k: int, n: int, p: float) -> float:
    """``P(X <= k)`` for X ~ Binomial(n, p)."""
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(0, k + 1)))


@dataclass(frozen=True)
class MonthScore:
    """One predicted month of one target (minutes or rebuilds)."""

    month: str
    strategy: str
    observed: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    mean: float
    pit: float
    crps: float


def score_month(month: str, strategy: str, draws: np.ndarray, observed: float) -> MonthScore:
    """Quantiles, mean, PIT and CRPS of ``draws`` against ``observed``."""
    q = np.quantile(draws, _QUANTILES)
    p10, p25, p50, p75, p90 = (float(v) for v in q)
    return MonthScore(month, strategy, float(observed), p10, p25, p50, p75, p90,
                      float(np.mean(draws)), pit(draws, observed), crps_sample(draws, observed))


@dataclass
class TargetScore:
    """Every scored month of one target and the overall scores."""

    months: list[MonthScore]
    verdict: str = "too-short"

    @property
    def n(self) -> int:
        """Scored months."""
        return len(self.months)

    @property
    def inside_50(self) -> int:
        """Months whose observation lies in p25..p75."""
        return sum(m.p25 <= m.observed <= m.p75 for m in self.months)

    @property
    def inside_80(self) -> int:
        """Months whose observation lies in p10..p90."""
        return sum(m.p10 <= m.observed <= m.p90 for m in self.months)

    @property
    def above_median(self) -> int:
        """Months whose observation lies above the p50."""
        return sum(m.observed > m.p50 for m in self.months)

    @property
    def coverage_50(self) -> float | None:
        """Share of months inside the 50 % interval (None with no month)."""
        return self.inside_50 / self.n if self.n else None

    @property
    def coverage_80(self) -> float | None:
        """Share of months inside the 80 % interval (None with no month)."""
        return self.inside_80 / self.n if self.n else None

    @property
    def crps(self) -> float | None:
        """Mean CRPS over the months (the target's unit)."""
        return float(np.mean([m.crps for m in self.months])) if self.months else None


def verdict_of(t: TargetScore) -> str:
    """The verdict rule of the module docstring for one target."""
    n = t.n
    if n < MIN_SCORED_MONTHS:
        return "too-short"
    z = (float(np.mean([m.pit for m in t.months])) - 0.5) / math.sqrt(1 / (12 * n))
    if abs(z) > Z_TWO_SIDED:
        return "biased-low" if z > 0 else "biased-high"
    k80, k50 = t.inside_80, t.inside_50
    if binom_cdf(k80, n, 0.8) < ALPHA or binom_cdf(k50, n, 0.5) < ALPHA:
        return "too-narrow"
    if 1 - binom_cdf(k80 - 1, n, 0.8) < ALPHA or 1 - binom_cdf(k50 - 1, n, 0.5) < ALPHA:
        return "too-wide"
    return "calibrated"


# ------------------------------------------------------------------------- prediction


#: the jobs' columns the backtest reads (calibration and the monthly table)
_JOB_COLUMNS = ("job_id", "pipeline_id", "status", "duration_s", "is_container_build",
                "image", "cache_outcome", "cached_steps", "executed_steps", "builder")


def slim(ds: Dataset) -> Dataset:
    """The dataset with only the image-mapped container jobs and the columns the
    backtest reads, text held as Python strings (the walk slices it once a month:
    about 4x faster than Arrow-backed strings). Other jobs' minutes are never predicted."""
    jobs = ds.jobs[ds.jobs["is_container_build"].astype(bool) & ds.jobs["image"].notna()]
    jobs = jobs[[c for c in _JOB_COLUMNS if c in jobs.columns]].copy()
    for col in ("status", "image", "cache_outcome", "builder"):
        if col in jobs.columns:
            jobs[col] = jobs[col].astype(object)
    pipelines = ds.pipelines[["pipeline_id", "created_at", "source"]].copy()
    pipelines["source"] = pipelines["source"].astype(object)
    return Dataset(path=ds.path, metadata=ds.metadata, pipelines=pipelines, jobs=jobs,
                   registry_repositories=ds.registry_repositories,
                   registry_tags=ds.registry_tags, registry_layers=ds.registry_layers,
                   image_changes=ds.image_changes, forks=None)


def training_subset(ds: Dataset, lo: pd.Timestamp, hi: pd.Timestamp) -> Dataset:
    """The dataset as it stood for pipelines created in ``[lo, hi)``: their jobs, the
    change commits in the window; registry tables as they are; no fork table."""
    p = ds.pipelines[(ds.pipelines["created_at"] >= lo) & (ds.pipelines["created_at"] < hi)]
    jobs = ds.jobs[ds.jobs["pipeline_id"].isin(p["pipeline_id"])]
    changes = ds.image_changes
    if changes is not None:
        changes = changes[(changes["time"] >= lo) & (changes["time"] < hi)]
    return Dataset(path=ds.path, metadata=ds.metadata, pipelines=p, jobs=jobs,
                   registry_repositories=ds.registry_repositories,
                   registry_tags=ds.registry_tags, registry_layers=ds.registry_layers,
                   image_changes=changes, forks=None)


@dataclass
class Model:
    """What a prediction needs from one training window."""

    cal: Calibration
    pipelines: int                      # pipelines created in the window
    events: np.ndarray                  # (E, I) bool: images each change event touched
    cv: dict[str, np.ndarray]           # hit / rebuild: (I,) coefficients of variation
    failed_per_pipeline: float
    failed_mean_min: float
    failed_cv: float


def _cv(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=float)
    return float(max(v.std(ddof=1) / v.mean(), 0.01)) if len(v) > 1 and v.mean() > 0 \
        else DEFAULT_CV


def fit(train: Dataset, scenario: Scenario, measured: str | None = None) -> Model:
    """Calibrate on ``train`` and collect the month-to-month noise the expected cost
    leaves out. ``measured``: the strategy the window ran; under kaniko its measured
    cached builds are kaniko all-hit builds (``kaniko_hit_build_min``, as a scenario
    override would give them), not builds to add pull time to. Raises CachecostError
    when nothing can be calibrated."""
    cal = calibrate(train, scenario.overrides, source=scenario.path)
    if measured == "kaniko-cache-repo":
        cal.images["kaniko_hit_build_min"] = cal.images["cached_build_min"]
    images = list(cal.images.index)
    c = container_jobs(train)
    rebuild = pd.Series(False, index=c.index)
    if train.image_changes is None or not train.metadata.get("image_inputs"):
        rebuild = rebuild_mask(c, pd.Series("", index=c.index))
    ev = change_events(train, c, rebuild)
    ev = ev[ev["image"].isin(images)]
    codes, uniques = pd.factorize(ev["event"])
    matrix = np.zeros((len(uniques), len(images)), dtype=bool)
    matrix[codes, ev["image"].map({im: i for i, im in enumerate(images)}).to_numpy()] = True
    samples = [cal.samples.get(im) for im in images]
    failed = c[(c["status"] != "success") & c["duration_s"].notna()]["duration_s"] / 60.0
    n_pipes = int(len(train.pipelines))
    return Model(
        cal=cal, pipelines=n_pipes, events=matrix,
        cv={"hit": np.array([_cv(s.hit) if s else DEFAULT_CV for s in samples]),
            "rebuild": np.array([_cv(s.rebuild) if s else DEFAULT_CV for s in samples])},
        failed_per_pipeline=len(failed) / max(n_pipes, 1),
        failed_mean_min=float(failed.mean()) if len(failed) else 0.0,
        failed_cv=_cv(failed.to_numpy()),
    )


def _gamma_sum(rng: np.random.Generator, count: np.ndarray, mean: np.ndarray,
               cv: np.ndarray) -> np.ndarray:
    """Sum of ``count`` builds of mean ``mean`` and CV ``cv``: Gamma(n/v^2, m*v^2)."""
    v2 = np.square(cv)
    shape = np.asarray(count, dtype=float) / v2
    return np.where(shape > 0, rng.gamma(np.maximum(shape, 1e-12),
                                         np.maximum(mean, 0.0) * v2), 0.0)


def _changes(rng: np.random.Generator, model: Model, rate_factor: np.ndarray,
             per_image_rate: np.ndarray, length: float, draws: int) -> np.ndarray:
    """(I, K) change counts: the compound Poisson process of the module docstring, or
    independent Poisson per image when the window held no change event."""
    n_events, n_images = model.events.shape
    if n_events == 0:
        return rng.poisson(per_image_rate * length)
    lam = rng.gamma(n_events + 0.5, 1.0 / model.cal.months_of_data, draws) * rate_factor
    counts = rng.poisson(lam * length)
    owner = np.repeat(np.arange(draws), counts)
    picked = model.events[rng.integers(0, n_events, len(owner))]
    return np.vstack([np.bincount(owner, weights=picked[:, i], minlength=draws)
                      for i in range(n_images)])


def predict(model: Model, scenario: Scenario, strategy: str, length: float,
            rng: np.random.Generator, draws: int = DRAWS) -> dict[str, np.ndarray]:
    """Draws of one month's measured container-build minutes and rebuilds under
    ``strategy`` (``length`` in months): ``{"minutes": (K,), "rebuilds": (K,)}``."""
    cal = model.cal
    st = make_static(cal, scenario, build_bank(cal, rng, size=min(BANK_SIZE, draws)))
    p, replicate = draw_inputs(st, uncertain_inputs(scenario), draws,
                               int(rng.integers(2**31)))
    d = make_drivers(st, p, replicate)
    strat = STRATEGIES[strategy]
    shape = (len(cal.images), draws)

    def full(x: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), shape)

    hit, change, miss = (full(strat.part(d, "hit_minutes")),
                         full(strat.part(d, "change_minutes")), full(d.miss_min))
    base_c, strat_c = full(d.changes_per_month), full(strat.part(d, "changes"))
    pf = np.broadcast_to(np.asarray(p["workload.upstream_pipelines_factor"], float), (draws,))
    cf = np.broadcast_to(np.asarray(p["workload.image_changes_factor"], float), (draws,))
    lam = rng.gamma(model.pipelines + 0.5, 1.0 / cal.months_of_data, draws) * pf
    n_pipes = rng.poisson(lam * length)
    per_pipe = np.clip(cal.images["builds_per_month"].to_numpy(float)
                       / max(cal.upstream_pipelines_per_month, 1e-9), 0.0, 1.0)
    builds = rng.binomial(np.broadcast_to(n_pipes, shape), per_pipe[:, None])
    changes = _changes(rng, model, cf, strat_c, length, draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.nan_to_num(np.mean(np.where(base_c > 0, strat_c / base_c, 1.0), axis=1),
                             nan=1.0)
    changes = np.minimum(rng.binomial(changes.astype(np.int64),
                                      np.clip(keep, 0, 1)[:, None]), builds)
    extra = strat.part(d, "extra_full_builds_per_month")
    forced = (np.zeros(shape, dtype=np.int64) if extra is None
              else np.minimum(rng.poisson(full(extra) * length), builds - changes))
    hits = builds - changes - forced
    cv_hit, cv_reb = model.cv["hit"][:, None], model.cv["rebuild"][:, None]
    minutes = (_gamma_sum(rng, hits, hit, cv_hit) + _gamma_sum(rng, changes, change, cv_reb)
               + _gamma_sum(rng, forced, miss, cv_reb)).sum(axis=0)
    tf = np.broadcast_to(np.asarray(p["workload.build_minutes_factor"], float), (draws,))
    n_failed = rng.poisson(model.failed_per_pipeline * n_pipes)
    minutes = minutes + _gamma_sum(rng, n_failed, model.failed_mean_min * tf,
                                   np.full(draws, model.failed_cv))
    return {"minutes": minutes, "rebuilds": (changes + forced).sum(axis=0).astype(float)}


# ------------------------------------------------------------------------ walk forward


@dataclass(frozen=True)
class Switch:
    """A change of strategy inside the history and how well the model predicted it."""

    month: str
    old: str
    new: str
    training_months: float
    minutes: TargetScore | None          # None: too little history before the switch

    def to_json(self) -> dict[str, Any]:
        """``{month, from, to, coverage_80}`` (coverage null when not tested)."""
        cov = self.minutes.coverage_80 if self.minutes is not None else None
        return {"month": self.month, "from": self.old, "to": self.new,
                "coverage_80": None if cov is None else round(cov, 4)}


@dataclass
class Backtest:
    """The backtest's numbers (:func:`run_backtest`); words are in :mod:`cachecost.report`.

    ``strategy`` is the strategy of the last month scored, ``strategy_month`` that month
    (with no month scored: the last month's strategy and that month, or the scenario's
    baseline and None for a history without a month)."""

    strategy: str
    training_months_min: int
    minutes: TargetScore
    rebuilds: TargetScore
    verdict: str
    drift: list[Drift] = field(default_factory=list)
    switch: Switch | None = None
    history_months: int = 0
    is_synthetic: bool = False
    strategy_month: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``cachecost backtest --format json`` contract (issue 24)."""
        t = self.minutes
        return {
            "strategy": self.strategy,
            "training_months_min": self.training_months_min,
            "months": [{"month": m.month, "strategy": m.strategy,
                        "observed_minutes": round(m.observed, 1), "p10": round(m.p10, 1),
                        "p50": round(m.p50, 1), "p90": round(m.p90, 1),
                        "mean": round(m.mean, 1), "pit": round(m.pit, 4)} for m in t.months],
            "coverage_50": None if t.coverage_50 is None else round(t.coverage_50, 4),
            "coverage_80": None if t.coverage_80 is None else round(t.coverage_80, 4),
            "crps_minutes": None if t.crps is None else round(t.crps, 1),
            "verdict": self.verdict,
            "drift": [d.to_json() for d in self.drift],
            "switch": None if self.switch is None else self.switch.to_json(),
            # what the verdict rests on: the minutes, or (when the minutes read calibrated
            # and the rebuild counts do not) the rebuild counts, with their own coverage
            "verdict_from": ("rebuilds" if self.verdict != self.minutes.verdict
                             else "minutes"),
            "rebuilds": {"coverage_50": _share(self.rebuilds.coverage_50),
                         "coverage_80": _share(self.rebuilds.coverage_80),
                         "months": self.rebuilds.n, "verdict": self.rebuilds.verdict},
            # the month ``strategy`` is from: the last one scored (a later month, too
            # short to score, may run another strategy)
            "strategy_month": self.strategy_month,
        }


def _share(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _walk(ds: Dataset, scenario: Scenario, table: pd.DataFrame, months: list[str],
          train_from: pd.Timestamp, cache: dict[str, Model], *, strategy_of: dict[str, str],
          fixed_until: pd.Timestamp | None, draws: int, seed: int
          ) -> tuple[list[MonthScore], list[MonthScore]]:
    """Predict each of ``months``: trained on ``[train_from, month start)``, or on
    ``[train_from, fixed_until)`` for every month when ``fixed_until`` is given."""
    out_min, out_reb = [], []
    for label in months:
        row: dict[Any, Any] = table.loc[label].to_dict()
        hi: pd.Timestamp = fixed_until if fixed_until is not None else row["start"]
        before = table.index[table["start"] < hi]         # the months trained on
        measured = strategy_of[before[-1]] if len(before) else None
        key = f"{train_from}|{hi}|{measured}"
        if key not in cache:
            cache[key] = fit(training_subset(ds, train_from, hi), scenario, measured)
        rng = np.random.default_rng([seed, 24, int(row["start"].timestamp())])
        strategy = strategy_of[label]
        pred = predict(cache[key], scenario, strategy, float(row["length_months"]), rng, draws)
        out_min.append(score_month(label, strategy, pred["minutes"], row["observed_minutes"]))
        out_reb.append(score_month(label, strategy, pred["rebuilds"],
                                   row["observed_rebuilds"]))
    return out_min, out_reb


def _trained_months(data_start: pd.Timestamp, lo: pd.Timestamp, hi: pd.Timestamp) -> float:
    """Months of data in ``[lo, hi)``."""
    return max((hi - max(lo, data_start)).total_seconds(), 0.0) / 86400 / DAYS_PER_MONTH


def run_backtest(ds: Dataset, scenario: Scenario, *,
                 training_months_min: int = TRAINING_MONTHS_MIN, draws: int = DRAWS,
                 seed: int | None = None) -> Backtest:
    """Walk the dataset's months forward (module docstring). A history too short to
    score gives ``verdict == "too-short"``, not an error."""
    seed = scenario.seed if seed is None else seed
    ds = slim(ds)
    labels = list(month_table(ds).index)
    strategy_of = month_strategies(ds, labels, scenario.baseline)
    table = month_table(ds, strategy_of)
    if table.empty:
        empty = TargetScore([])
        return Backtest(scenario.baseline, training_months_min, empty, TargetScore([]),
                        "too-short", is_synthetic=ds.is_synthetic)
    data_start = ds.pipelines["created_at"].min()
    full = [m for m in table.index if table.loc[m, "coverage"] >= MIN_COVERAGE]
    switch_at = next((m for prev, m in zip(table.index[:-1], table.index[1:], strict=True)
                      if strategy_of[m] != strategy_of[prev]), None)
    cache: dict[str, Model] = {}
    segments = [(data_start, [m for m in full if switch_at is None or m < switch_at])]
    if switch_at is not None:
        segments.append((table.loc[switch_at, "start"], [m for m in full if m >= switch_at]))
    scored_min: list[MonthScore] = []
    scored_reb: list[MonthScore] = []
    for seg_start, seg_months in segments:
        ready = [m for m in seg_months if _trained_months(
            data_start, seg_start, table.loc[m, "start"]) >= training_months_min - 0.05]
        a, b = _walk(ds, scenario, table, ready, seg_start, cache, strategy_of=strategy_of,
                     fixed_until=None, draws=draws, seed=seed)
        scored_min += a
        scored_reb += b
    switch = None
    if switch_at is not None:
        start = table.loc[switch_at, "start"]
        before = _trained_months(data_start, data_start, start)
        after = [m for m in full if m >= switch_at]
        tested = None
        if before >= training_months_min - 0.05 and after:
            tested = TargetScore(_walk(ds, scenario, table, after, data_start, cache,
                                       strategy_of=strategy_of, fixed_until=start,
                                       draws=draws, seed=seed)[0])
            tested.verdict = verdict_of(tested)
        prev = table.index[list(table.index).index(switch_at) - 1]
        switch = Switch(switch_at, strategy_of[prev], strategy_of[switch_at], before, tested)
    minutes, rebuilds = TargetScore(scored_min), TargetScore(scored_reb)
    minutes.verdict, rebuilds.verdict = verdict_of(minutes), verdict_of(rebuilds)
    verdict = minutes.verdict
    if verdict == "calibrated" and rebuilds.verdict not in ("calibrated", "too-short"):
        verdict = rebuilds.verdict
    drift = detect_drift(table.loc[full]) if len(full) else []
    last = max((m.month for m in scored_min), default=str(table.index[-1]))
    return Backtest(strategy_of[last], training_months_min, minutes, rebuilds,
                    verdict, drift, switch, history_months=len(full),
                    is_synthetic=ds.is_synthetic, strategy_month=last)
