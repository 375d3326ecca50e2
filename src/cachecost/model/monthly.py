"""A dataset month by month: what each calendar month measured, which strategy ran, what drifted.

The backtest (:mod:`cachecost.model.backtest`) walks these months. Everything is
derived from the dataset's tables only:

* :func:`month_table` -- one row per calendar month (UTC) the pipelines cover, with
  ``length_months`` (days covered / 30.4375), the measured container-build minutes of
  the pipelines created in it (image-mapped container jobs, failed and canceled ones
  included: the same minutes ``calibrate`` calls ``container_minutes_per_month``),
  rebuilds (successful builds in the rebuild class of
  :func:`~cachecost.model.calibrate.split_durations`, split per image and per
  strategy segment), pipelines, change events (distinct change commits where the data
  has ``image_changes``, else pipelines with a rebuild -- the events ``calibrate``
  counts), and the mean cached and rebuild build minutes.
* :func:`month_strategies` -- the strategy each month ran, read from the build logs'
  builder (``jobs.builder``: docker or BuildKit -> ``dind-inline-cache``, kaniko ->
  ``kaniko-cache-repo``) and cache markers (``jobs.cache_outcome``: at least
  :data:`MIN_LOGS_NO_CACHE` logged builds, every one a miss -> ``no-cache``). A month
  with no log keeps the month before's strategy; before any log the scenario's
  baseline.
* :func:`detect_drift` -- per input, the split of the months that separates them
  most (a change point): counts by the conditional binomial test of two Poisson rates
  (Przyborowski & Wilenski 1940), mean minutes by Welch's z on log durations. It is
  reported when ``|z| >= DRIFT_Z`` (about p < 1e-4 two-sided, enough for the ~40 splits
  tested) and the factor is outside ``1/DRIFT_FACTOR .. DRIFT_FACTOR``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cachecost.dataset.io import Dataset
from cachecost.model.calibrate import DAYS_PER_MONTH, split_durations

#: Builder markers (:mod:`cachecost.collect.buildlog`) -> the strategy they run.
BUILDER_STRATEGY = {"docker": "dind-inline-cache", "buildkit": "dind-inline-cache",
                    "kaniko": "kaniko-cache-repo"}
#: Logged builds a month needs, every one a miss, to read as "no cache".
MIN_LOGS_NO_CACHE = 5
DRIFT_Z = 3.9
DRIFT_FACTOR = 1.25
#: months a drift split needs on each side
DRIFT_MIN_SIDE = 2


def _month_labels(ts: pd.Series) -> pd.Series:
    """``YYYY-MM`` of UTC timestamps (formatted once per distinct month: strftime on
    every row is most of a walk's time)."""
    utc = ts.dt.tz_convert("UTC")
    key = utc.dt.year * 100 + utc.dt.month
    names = {k: f"{int(k) // 100:04d}-{int(k) % 100:02d}" for k in key.dropna().unique()}
    labels: pd.Series = key.map(names)
    return labels


def container_jobs(ds: Dataset) -> pd.DataFrame:
    """Image-mapped container jobs with their pipeline's ``created_at`` and ``month``."""
    jobs = ds.jobs
    c = jobs[jobs["is_container_build"].astype(bool) & jobs["image"].notna()]
    created = ds.pipelines.set_index("pipeline_id")["created_at"]
    c = c.assign(pipeline_created=c["pipeline_id"].map(created))
    c = c[c["pipeline_created"].notna()]
    return c.assign(month=_month_labels(c["pipeline_created"]))


def _logged_strategy(builders: pd.Series, default: str) -> str:
    """The strategy most of a month's logged builds ran: the builders mapped first
    (docker and BuildKit are both ``dind-inline-cache``), then the most common; builders
    that map to none are left out; ``default`` when none maps. Example: 12 docker, 10
    buildkit, 18 kaniko logs -> dind-inline-cache (22 against 18), where the most common
    builder name, kaniko, read as a switch to kaniko."""
    mapped = builders.map(lambda b: BUILDER_STRATEGY.get(str(b))).dropna()
    return str(mapped.mode().iloc[0]) if len(mapped) else default


def month_strategies(ds: Dataset, months: list[str], baseline: str) -> dict[str, str]:
    """The strategy each month in ``months`` ran (see the module docstring)."""
    c = container_jobs(ds)
    logged = c[c["cache_outcome"].notna()]
    out: dict[str, str] = {}
    current = baseline
    for m in months:
        rows = logged[logged["month"] == m]
        builders = rows["builder"].dropna()
        if len(builders):
            current = _logged_strategy(builders, current)
        if len(rows) >= MIN_LOGS_NO_CACHE and (rows["cache_outcome"] == "miss").all():
            current = "no-cache"
        out[m] = current
        if current == "no-cache" and len(builders):    # the next cached month resets it
            current = _logged_strategy(builders, baseline)
    return out


def rebuild_mask(c: pd.DataFrame, segment: pd.Series) -> pd.Series:
    """Successful builds in the rebuild class, split per image and strategy segment."""
    ok = c[(c["status"] == "success") & c["duration_s"].notna()]
    mask = pd.Series(False, index=c.index)
    for _, grp in ok.groupby([ok["image"], segment.reindex(ok.index)]):
        minutes = grp["duration_s"].to_numpy(dtype=float) / 60.0
        mask.loc[grp.index] = split_durations(minutes, grp["cache_outcome"].to_numpy(object))
    return mask


def change_events(ds: Dataset, c: pd.DataFrame, rebuild: pd.Series) -> pd.DataFrame:
    """Change events with their time and the images each touches: distinct commits of
    ``image_changes`` when the data has them (and ``metadata.image_inputs``), else the
    pipelines with a rebuild. Columns ``event``, ``time``, ``image``."""
    changes = ds.image_changes
    if changes is not None and len(changes) and ds.metadata.get("image_inputs"):
        ev = changes.rename(columns={"commit": "event"})[["event", "time", "image"]]
        return ev.drop_duplicates(["event", "image"])
    r = c[rebuild]
    return pd.DataFrame({"event": r["pipeline_id"].astype(str).to_numpy(),
                         "time": r["pipeline_created"].to_numpy(),
                         "image": r["image"].to_numpy()}).drop_duplicates(["event", "image"])


def month_table(ds: Dataset, strategies: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per calendar month the pipelines cover (index ``month``, ``YYYY-MM``).

    Columns: ``start``, ``end`` (UTC, clipped to the data), ``length_months``,
    ``coverage`` (share of the calendar month covered), ``observed_minutes``,
    ``observed_rebuilds``, ``pipelines``, ``change_events``, ``cached_min_mean``,
    ``rebuild_min_mean`` (NaN with no such build), ``strategy`` (from ``strategies``).
    """
    created = ds.pipelines["created_at"].dropna()
    if created.empty:
        return pd.DataFrame(columns=["start", "end", "length_months", "coverage"])
    lo, hi = created.min(), created.max()
    first, last = (t.tz_convert("UTC").tz_localize(None).to_period("M") for t in (lo, hi))
    c = container_jobs(ds)
    segment = c["month"].map(strategies or {}).astype(object).fillna("")
    rebuild = rebuild_mask(c, segment)
    events = change_events(ds, c, rebuild)
    ev_month = _month_labels(pd.to_datetime(events["time"], utc=True)).rename("month")
    n_events = events.assign(month=ev_month).groupby("month")["event"].nunique()
    ok = c[(c["status"] == "success") & c["duration_s"].notna()]
    rows = []
    for p in pd.period_range(first, last, freq="M"):
        start = p.start_time.tz_localize("UTC")
        end = (p + 1).start_time.tz_localize("UTC")
        s, e = max(start, lo), min(end, hi)
        label = p.strftime("%Y-%m")
        in_m = c["month"] == label
        ok_m = ok[ok["month"] == label]
        rb = rebuild.reindex(ok_m.index).fillna(False).astype(bool)
        rows.append({
            "month": label, "start": start, "end": end,
            "length_months": max((e - s).total_seconds(), 0.0) / 86400 / DAYS_PER_MONTH,
            "coverage": max((e - s).total_seconds(), 0.0) / (end - start).total_seconds(),
            "observed_minutes": float(c.loc[in_m, "duration_s"].sum()) / 60.0,
            "observed_rebuilds": int(rb.sum()),
            "pipelines": int(((created >= start) & (created < end)).sum()),
            "change_events": int(n_events.get(label, 0)),
            "cached_min_mean": float(ok_m.loc[~rb, "duration_s"].mean() / 60.0),
            "rebuild_min_mean": float(ok_m.loc[rb, "duration_s"].mean() / 60.0),
            "strategy": (strategies or {}).get(label),
        })
    return pd.DataFrame(rows).set_index("month")


@dataclass(frozen=True)
class Drift:
    """One input that moved: ``since`` the first month of the new level, ``factor`` the
    new level over the old, ``z`` the test statistic of the split."""

    input: str
    since: str
    factor: float
    z: float

    def to_json(self) -> dict[str, object]:
        """``{input, since, factor}`` (the factor rounded to 3 digits)."""
        return {"input": self.input, "since": self.since, "factor": round(float(self.factor), 3)}


def _count_split(counts: np.ndarray, exposure: np.ndarray, k: int) -> tuple[float, float]:
    """(factor, z) of the Poisson rates after month k against before: given the total
    ``n``, the count after is Binomial(n, p0), p0 = exposure after / total exposure."""
    a, b = counts[k:].sum(), counts[:k].sum()
    ea, eb = exposure[k:].sum(), exposure[:k].sum()
    n = a + b
    if n == 0 or ea <= 0 or eb <= 0:
        return 1.0, 0.0
    p0 = ea / (ea + eb)
    z = (a - n * p0) / math.sqrt(n * p0 * (1 - p0))
    factor = (a / ea) / (b / eb) if b > 0 else math.inf
    return factor, z


def _mean_split(means: np.ndarray, weights: np.ndarray, k: int) -> tuple[float, float]:
    """(factor, z) of the mean minutes after month k against before: Welch's z on the
    log of the monthly means, weighted by builds (month-to-month spread as the noise)."""
    ok = np.isfinite(means) & (means > 0) & (weights > 0)
    before, after = ok.copy(), ok.copy()
    before[k:] = False
    after[:k] = False
    if before.sum() < DRIFT_MIN_SIDE or after.sum() < DRIFT_MIN_SIDE:
        return 1.0, 0.0
    la, lb = np.log(means[after]), np.log(means[before])
    va = la.var(ddof=1) / len(la) if len(la) > 1 else 0.0
    vb = lb.var(ddof=1) / len(lb) if len(lb) > 1 else 0.0
    diff = la.mean() - lb.mean()
    se = math.sqrt(va + vb) or 1e-9
    return float(np.exp(diff)), float(diff / se)


def detect_drift(months: pd.DataFrame) -> list[Drift]:
    """Inputs whose level moved inside the history (see the module docstring), largest
    ``|z|`` first. ``months`` is :func:`month_table`'s frame (full months only)."""
    if len(months) < 2 * DRIFT_MIN_SIDE:
        return []
    exposure = months["length_months"].to_numpy(dtype=float)
    labels = list(months.index)
    found: list[Drift] = []
    tests: dict[str, Callable[[int], tuple[float, float]]] = {
        "changes_per_month": lambda k: _count_split(
            months["change_events"].to_numpy(float), exposure, k),
        "pipelines_per_month": lambda k: _count_split(
            months["pipelines"].to_numpy(float), exposure, k),
        "cached_build_min": lambda k: _mean_split(
            months["cached_min_mean"].to_numpy(float), months["pipelines"].to_numpy(float), k),
        "change_build_min": lambda k: _mean_split(
            months["rebuild_min_mean"].to_numpy(float),
            months["observed_rebuilds"].to_numpy(float), k),
    }
    for name, test in tests.items():
        best: Drift | None = None
        for k in range(DRIFT_MIN_SIDE, len(months) - DRIFT_MIN_SIDE + 1):
            factor, z = test(k)
            if best is None or abs(z) > abs(best.z):
                best = Drift(name, labels[k], factor, z)
        if best is not None and abs(best.z) >= DRIFT_Z and not (
                1 / DRIFT_FACTOR < best.factor < DRIFT_FACTOR):
            found.append(best)
    return sorted(found, key=lambda d: -abs(d.z))
