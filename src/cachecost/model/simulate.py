r"""The cost model: compute minutes, registry storage and money per caching strategy.

    results = run_model(load_dataset(), load_scenario(None), samples=20_000)
    results["strategies"]["kaniko-cache-repo"]["total_cost_usd_per_month"]["p50"]

The formulas
============
Per image *i* (calibrated from data, :mod:`cachecost.model.calibrate`):
``B_i`` upstream builds/month, ``c_i`` changes of its inputs/month (``<= B_i``),
``t_hit``, ``t_change``, ``t_miss`` minutes of a fully cached build, a build
after a change, a build from scratch; ``S_i`` compressed GiB of its image,
``T_i`` tags kept. Scenario factors multiply them per Monte Carlo sample
(``B_i * upstream_pipelines_factor``, ``c_i * image_changes_factor``, every
``t * build_minutes_factor``). A strategy (:mod:`cachecost.model.strategies`) says
what its hit and change builds cost (``t_hit,s``, ``t_change,s``), how many
extra full builds it forces (``n_full``) and how much of upstream's cache a
fork can reuse (``h_s``).

**Upstream compute** (runner minutes/month)::

    n_change = min(c_i, B_i)
    n_full   = min(extra_s, B_i - n_change)      # kaniko TTL misses; scheduled refresh
    M_up     = sum_i  B_i*t_hit,s + n_change*(t_change,s - t_hit,s) + n_full*(t_miss - t_hit,s)

    no-cache:          t_hit,s = t_change,s = t_miss          -> M_up = sum_i B_i*t_miss
    rebuild-on-change: t_hit,s = t_check (look the tag up), extra = R refreshes/month
    kaniko:            extra = c/(1 - exp(-c*tau)) - c        (tau = cache TTL in months:
                       an entry lives until min(next change, TTL); TTL renewals are full
                       misses because every entry of the set expires together)
    buildkit max:      t_change,s = t_change - saving*(t_change - t_hit)

**Fork compute**: ``F`` fork pipelines/month each build every image; a share
``d`` changes a given image::

    m_fork,i = h_s*(t_hit,s + d*(t_change,s - t_hit,s)) + (1 - h_s)*t_miss
    M_fork   = F * sum_i m_fork,i
    feedback = max_i m_fork,i      (container jobs run in parallel; a fork waits for the slowest)

**Compute cost**::

    private-runners: cost = M_up/60 * usd_per_runner_hour
                     (default rate = node_cost_usd_per_year/12 / measured CI runner-hours)
    gitlab-hosted:   q = M_up * cost_factor * size_factor    (quota minutes used)
                     q_other = other CI minutes * cost_factor * size_factor
                     cost = (max(0, q + q_other - quota) - max(0, q_other - quota))
                            * usd_per_1000_minutes / 1000
    forks:           per owner q_f = M_fork * fork_cost_factor * size / owners
                     fork_quota_share = q_f / fork_quota
                     fork cost = owners * max(0, q_f - fork_quota) * usd_per_1000 / 1000

**Registry** (GiB after ``m`` months; ``u`` share of bytes a change rewrites,
``r`` RUN-layer share of the image)::

    G(m) = sum_i steady_i + stale_i * c_i * min(m, cap_i)
    steady_i  images (per-tag: sum of tag sizes; dedup: unique layer bytes) plus
              per-tag: buildkit min  + T*S          dedup: + 0
                       buildkit max  + T*S*(1 + x)         + T*S*x
                       kaniko        + T*r*S               + 0 (layers share digests) or T*r*S
    stale_i   kaniko: min(u, r)*S per change (both accountings: no tag holds those layers)
              rebuild-on-change: per-tag S, dedup u*S per change (the old hash tag)
              others 0 (a replaced tag's layers are garbage-collected)
    cap_i     months after which a cleanup policy (keep_n / older_than_days) stops growth

**Storage cost** (scenario accounting; ``A`` = billed_above_gib, ``O`` = other usage)::

    cost = mean over months 1..H of (max(0, G(m) + O - A) - max(0, O - A))
           * usd_per_10gib_year / 120
    months_to_quota = first m with G(m) + O >= quota   (piecewise linear, solved exactly)

**Total** = upstream compute + storage + fork owners' cost;
``delta = total_s - total_baseline`` per sample. Every output is reported as
p10/p50/p90/mean over the Monte Carlo samples (seeded numpy Generator). The
tornado swings each uncertain input between its p10 and p90 with the others
at their p50; break-even values solve ``total_a(x) = total_b(x)`` for one input
by a fine grid and linear interpolation at the sign change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cachecost.dataset.io import Dataset
from cachecost.model.calibrate import Calibration, calibrate
from cachecost.model.distributions import Distribution
from cachecost.model.scenario import KEYS, Scenario, describe_value
from cachecost.model.strategies import (
    HOURS_PER_MONTH,
    NEVER_MONTHS,
    STRATEGIES,
    CleanupPolicy,
    Drivers,
)
from cachecost.rules import tie_resolution_usd
from cachecost.textfmt import format_usd

DEFAULT_SAMPLES = 20_000
#: Samples evaluated at once: (images x 8192) float64 arrays of ~1.5 MB stay in cache.
CHUNK_ROWS = 8192
QUANTILES = (10, 50, 90)

# --------------------------------------------------------------------------- inputs


def uncertain_inputs(scenario: Scenario) -> dict[str, Distribution]:
    """Return every numeric (distribution) input of the scenario, by dotted name."""
    return {k: v for k, v in scenario.values.items() if isinstance(v, Distribution)}


def median_params(dists: dict[str, Distribution], k: int = 1) -> dict[str, np.ndarray]:
    """Return every input at its p50, as arrays of length ``k``."""
    return {name: np.full(k, d.median) for name, d in dists.items()}


@dataclass
class _Static:
    """Everything fixed for one run: calibration arrays and scenario switches."""

    cal: Calibration
    scenario: Scenario
    names: tuple[str, ...]
    col: dict[str, np.ndarray]          # per-image calibration columns, shape (I, 1)
    policy: CleanupPolicy | None
    what_if: CleanupPolicy | None


def _policy(raw: dict | None) -> CleanupPolicy | None:
    return None if raw is None else CleanupPolicy(raw["keep_n"], raw["older_than_days"])


def _static(cal: Calibration, scenario: Scenario) -> _Static:
    cols = {c: cal.images[c].to_numpy(dtype=float)[:, None] for c in
            ("builds_per_month", "changes_per_month", "cached_build_min", "change_build_min",
             "uncached_build_min", "compressed_size_gib", "per_tag_gib", "dedup_gib",
             "tags_kept", "run_steps")}
    return _Static(cal, scenario, scenario.strategies, cols,
                   _policy(scenario.value("storage.cleanup_policy")),
                   _policy(scenario.value("storage.cleanup_what_if")))


def _drivers(st: _Static, p: dict[str, np.ndarray]) -> Drivers:
    """Combine calibration (I, 1) with sampled inputs (1, K) into strategy drivers.

    An input that is the same in every row becomes a plain float, so arrays only
    grow to (I, K) where something actually varies: most of the speed.
    """
    def s(name: str) -> np.ndarray | float:
        v = p[name]
        return float(v[0]) if v.min() == v.max() else v[None, :]

    c = st.col
    tf = s("workload.build_minutes_factor")
    builds = c["builds_per_month"] * s("workload.upstream_pipelines_factor")
    changes = np.minimum(c["changes_per_month"] * s("workload.image_changes_factor"), builds)
    hit = c["cached_build_min"] * tf
    ratio = s("assumptions.uncached_to_cached_ratio")
    miss = np.where(np.isnan(c["uncached_build_min"]), hit * ratio, c["uncached_build_min"] * tf)
    miss = np.maximum(miss, hit)
    change = np.where(np.isnan(c["change_build_min"]), miss, c["change_build_min"] * tf)
    change = np.clip(change, hit, miss)
    return Drivers(
        builds_per_month=builds, changes_per_month=changes,
        hit_min=hit, change_min=change, miss_min=miss,
        image_gib=c["compressed_size_gib"], per_tag_gib=c["per_tag_gib"],
        dedup_gib=c["dedup_gib"], tags_kept=c["tags_kept"], run_steps=c["run_steps"],
        fork_builds_per_month=s("forks.pipelines_per_month"),
        fork_change_share=s("forks.image_change_share"),
        refresh_per_month=s("workload.scheduled_refresh_per_month"),
        check_min=s("assumptions.rebuild_check_minutes"),
        changed_bytes_share=s("assumptions.changed_bytes_share"),
        kaniko_cache_bytes_share=s("assumptions.kaniko_cache_bytes_share"),
        kaniko_ttl_months=s("assumptions.kaniko_cache_ttl_hours") / HOURS_PER_MONTH,
        kaniko_fork_reuse_share=s("assumptions.kaniko_fork_cache_reuse_share"),
        is_kaniko_layer_digest_shared=bool(
            st.scenario.value("assumptions.is_kaniko_layer_digest_shared")),
        buildkit_max_extra_share=s("assumptions.buildkit_max_extra_bytes_share"),
        buildkit_max_change_saving=s("assumptions.buildkit_max_change_saving_share"),
    )


def _usd_per_runner_minute(st: _Static, p: dict[str, np.ndarray]) -> np.ndarray:
    """Private runners: the scenario's hourly price, or node cost / measured runner time."""
    if "compute.usd_per_runner_hour" in p:
        return p["compute.usd_per_runner_hour"] / 60.0
    measured = st.cal.container_minutes_per_month + st.cal.other_minutes_per_month
    return p["compute.node_cost_usd_per_year"] / 12.0 / measured


# --------------------------------------------------------------------------- piecewise growth


def months_to_reach(level0: np.ndarray, slopes: np.ndarray, caps: np.ndarray | None,
                    target: float) -> np.ndarray:
    """First month m with ``level0 + sum_i slopes_i * min(m, caps_i) >= target``.

    Exact for this concave piecewise-linear growth: sort the breakpoints, find
    the segment where the target is crossed, interpolate. ``inf`` when never.
    Shapes: ``level0`` (K,), ``slopes`` and ``caps`` (I, K); ``caps`` None means no
    cleanup, i.e. straight-line growth ``level0 + m * sum_i slopes_i``.
    """
    if caps is None:
        rate = slopes.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            m = np.where(rate > 0, (target - level0) / rate, np.inf)
        return np.where(level0 >= target, 0.0, m)
    slopes, caps, _ = np.broadcast_arrays(slopes, caps, np.empty((1, len(level0))))
    slopes, caps = slopes.T, caps.T
    order = np.argsort(caps, axis=1)
    b = np.take_along_axis(caps, order, axis=1)
    s = np.take_along_axis(slopes, order, axis=1)
    suffix = np.cumsum(s[:, ::-1], axis=1)[:, ::-1]                 # slope on [b_{k-1}, b_k]
    prefix = np.cumsum(s * b, axis=1) - s * b                        # sum_{j<k} s_j b_j
    at_break = level0[:, None] + prefix + b * suffix                 # G(b_k)
    crossed = at_break >= target
    k = np.argmax(crossed, axis=1)
    has = crossed.any(axis=1)
    rows = np.arange(len(level0))
    prev_b = np.where(k > 0, b[rows, np.maximum(k - 1, 0)], 0.0)
    prev_g = np.where(k > 0, at_break[rows, np.maximum(k - 1, 0)], level0)
    slope = suffix[rows, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        m = prev_b + (target - prev_g) / slope
    m = np.where(has, m, np.inf)
    m = np.where(level0 >= target, 0.0, m)
    return np.where(m >= NEVER_MONTHS / 2, np.inf, m)


# --------------------------------------------------------------------------- simulation


def _registry_series(steady: np.ndarray, stale_rate: np.ndarray | None, caps: np.ndarray | None,
                     months: np.ndarray, *, has_policy: bool) -> np.ndarray:
    """Registry GiB at each month, shape (K, H+1): steady + stale_rate * min(m, cap)."""
    base = np.repeat(np.asarray(steady, dtype=float)[:, None], len(months), axis=1)
    if stale_rate is None:
        return base
    if not has_policy:       # straight-line growth: no per-image loop needed
        return base + np.sum(stale_rate, axis=0)[:, None] * months[None, :]
    grown = [np.sum(stale_rate * np.minimum(m, caps), axis=0) for m in months]
    return base + np.stack(np.broadcast_arrays(*grown), axis=1)


def simulate(st: _Static, p: dict[str, np.ndarray], *, with_horizon: bool = True
             ) -> dict[str, dict[str, np.ndarray]]:
    """Evaluate every strategy for K input rows; return ``{strategy: {metric: (K,)}}``.

    With ``with_horizon`` also the registry series over the horizon (K, H+1) and
    months to quota; without it only what the total cost needs.
    """
    k_all = len(next(iter(p.values())))
    if k_all > CHUNK_ROWS:       # cache-sized blocks: ~3x faster than one pass
        parts = [simulate(st, {n: v[i:i + CHUNK_ROWS] for n, v in p.items()},
                          with_horizon=with_horizon) for i in range(0, k_all, CHUNK_ROWS)]
        return {name: {key: np.concatenate([part[name][key] for part in parts])
                       for key in parts[0][name]} for name in parts[0]}
    sc = st.scenario
    d = _drivers(st, p)
    k = k_all
    horizon = sc.horizon_months
    accounting = sc.value("storage.accounting")
    mode = sc.value("compute.mode")
    other = sc.value("storage.other_usage_gib") or 0.0
    billed_above = sc.value("storage.billed_above_gib")
    quota = sc.value("storage.quota_gib")
    gib_price = p["storage.usd_per_10gib_year"] / 120.0            # USD per GiB-month
    fork_quota = sc.value("forks.quota_minutes_per_month")
    fork_factor = p["forks.cost_factor"] * p["forks.runner_size_factor"]
    owners = np.maximum(p["forks.owners"], 1.0)
    months = np.arange(horizon + 1, dtype=float)

    out: dict[str, dict[str, np.ndarray]] = {}
    for name in st.names:
        strat = STRATEGIES[name]
        up_min = strat.upstream_minutes(d)
        per_fork_build = strat.fork_minutes_per_build(d)
        fork_min = p["forks.pipelines_per_month"] * per_fork_build.sum(axis=0)
        feedback = per_fork_build.max(axis=0)

        if mode == "private-runners":
            cost = up_min * _usd_per_runner_minute(st, p)
            quota_used = np.zeros(k)
        else:
            factor = p["compute.cost_factor"] * p["compute.runner_size_factor"]
            quota_used = up_min * factor
            q_other = (st.cal.other_minutes_per_month * p["workload.upstream_pipelines_factor"]
                       * factor)
            q_total = sc.value("compute.quota_minutes_per_month")
            q_total = 0.0 if q_total is None else q_total
            billed = (np.maximum(0.0, quota_used + q_other - q_total)
                      - np.maximum(0.0, q_other - q_total))
            cost = billed * p["compute.usd_per_1000_minutes"] / 1000.0
        per_owner = fork_min * fork_factor / owners
        if fork_quota:
            fork_share = per_owner / fork_quota
            fork_cost = (owners * np.maximum(0.0, per_owner - fork_quota)
                         * p["forks.usd_per_1000_minutes"] / 1000.0)
        else:
            fork_share = np.zeros(k)
            fork_cost = owners * per_owner * p["forks.usd_per_1000_minutes"] / 1000.0

        # registry: steady GiB plus stale growth, per accounting
        stale_rate = {}
        steady = {}
        for acc in ("per-tag", "root-namespace-dedup"):
            steady[acc] = np.sum(strat.steady_gib(d, acc), axis=0)
            stale = strat.stale_gib_per_change(d, acc)
            stale_rate[acc] = (stale * d.changes_per_month
                               if np.any(np.asarray(stale) > 0) else None)
        caps = strat.stale_cap(d, st.policy) if any(
            v is not None for v in stale_rate.values()) else None

        gib_series = _registry_series(steady[accounting], stale_rate[accounting], caps, months,
                                      has_policy=st.policy is not None)
        if billed_above is None:
            storage_cost = np.zeros(k)
        else:
            billed = (np.maximum(0.0, gib_series[:, 1:] + other - billed_above)
                      - max(0.0, other - billed_above))
            storage_cost = billed.mean(axis=1) * gib_price
        total = cost + storage_cost + fork_cost
        row = {
            "compute_minutes_per_month": up_min,
            "fork_compute_minutes_per_month": fork_min,
            "compute_cost_usd_per_month": cost,
            "fork_compute_cost_usd_per_month": fork_cost,
            "quota_minutes_used_per_month": quota_used,
            "fork_quota_share": fork_share,
            "storage_cost_usd_per_month": storage_cost,
            "total_cost_usd_per_month": total,
            "fork_pipeline_feedback_minutes": feedback,
        }
        if with_horizon:
            other_acc = ("per-tag" if accounting == "root-namespace-dedup"
                         else "root-namespace-dedup")
            row[f"registry_gib:{accounting}"] = gib_series[:, -1]
            row[f"registry_gib:{other_acc}"] = _registry_series(
                steady[other_acc], stale_rate[other_acc], caps, months[-1:],
                has_policy=st.policy is not None)[:, 0]
            row["registry_series"] = gib_series
            if quota is not None:
                if stale_rate[accounting] is None:
                    row["months_to_quota"] = np.where(steady[accounting] + other >= quota,
                                                      0.0, np.inf)
                else:
                    row["months_to_quota"] = months_to_reach(
                        steady[accounting] + other, stale_rate[accounting],
                        caps if st.policy is not None else None, quota)
            if mode == "private-runners" and sc.value("compute.sponsor_budget_usd_per_year"):
                rate = _usd_per_runner_minute(st, p)
                other_cost = (st.cal.other_minutes_per_month
                              * p["workload.upstream_pipelines_factor"] * rate)
                spend = (cost + other_cost + storage_cost
                         + (sc.value("compute.other_spend_usd_per_year") or 0.0) / 12.0)
                row["sponsor_budget_months"] = (
                    sc.value("compute.sponsor_budget_usd_per_year") / spend)
        out[name] = {key: np.broadcast_to(np.asarray(v, dtype=float),
                                          (k, horizon + 1) if key == "registry_series" else (k,))
                      for key, v in row.items()}
    return out


# --------------------------------------------------------------------------- summaries


def _clean(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def quantiles(values: np.ndarray) -> dict[str, float | None]:
    """Return ``{"p10", "p50", "p90", "mean"}`` of a sample (+inf/NaN -> None)."""
    v = np.asarray(values, dtype=float)
    if v.size and v.min() == v.max():          # constant (e.g. zero cost): no sort needed
        x = _clean(v[0])
        return {"p10": x, "p50": x, "p90": x, "mean": x}
    # no interpolation when +inf may be present (months_to_quota): inf - inf would be NaN
    method = "linear" if np.isfinite(v).all() else "inverted_cdf"
    q = np.percentile(v, QUANTILES, method=method)
    mean = float(v.mean()) if np.isfinite(v).all() else math.inf
    return {"p10": _clean(q[0]), "p50": _clean(q[1]), "p90": _clean(q[2]), "mean": _clean(mean)}


def _series_quantiles(series: np.ndarray) -> dict[str, list[float]]:
    """p10/p50/p90 of each month of a (K, months) series (flat series: computed once)."""
    if np.all(series == series[:, :1]):
        q = np.percentile(series[:, 0], QUANTILES)
        return {f"p{p}": [float(x)] * series.shape[1] for p, x in zip(QUANTILES, q, strict=True)}
    q = np.percentile(series, QUANTILES, axis=0)
    return {f"p{p}": [float(x) for x in row] for p, row in zip(QUANTILES, q, strict=True)}


def _inputs_list(scenario: Scenario, cal: Calibration) -> list[dict[str, Any]]:
    """Every input with its value, unit, source, citation and distribution."""
    rows: list[dict[str, Any]] = []
    for section, keys in KEYS.items():
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            value = scenario.value(dotted)
            source = scenario.source(dotted)
            rows.append({
                "name": dotted, "value": describe_value(value), "unit": spec.unit,
                "source": source,
                "citation": spec.citation if source == "default" else scenario.path.name,
                "distribution": (value.describe() if isinstance(value, Distribution)
                                 and not value.is_fixed else None),
                "doc": spec.doc,
            })

    def data_row(name: str, value: Any, unit: str, doc: str) -> None:
        rows.append({"name": name, "value": value, "unit": unit, "source": "data",
                     "citation": None, "distribution": None, "doc": doc})

    data_row("data.months_of_data", cal.months_of_data, "months", "span of the pipelines")
    if (scenario.value("compute.mode") == "private-runners"
            and scenario.value("compute.usd_per_runner_hour") is None):
        hours = (cal.container_minutes_per_month + cal.other_minutes_per_month) / 60.0
        data_row("data.ci_runner_hours_per_month", hours, "runner-hours/month",
                 "measured runner-hours of all CI jobs")
        data_row("data.usd_per_runner_hour", scenario.value(
            "compute.node_cost_usd_per_year").median / 12.0 / hours, "USD/runner-hour",
            "derived: node_cost_usd_per_year (p50) / 12 / measured runner-hours")
    for src, n in cal.pipelines_per_month_by_source.items():
        data_row(f"data.upstream_pipelines_per_month.{src}", n, "pipelines/month",
                 f"measured {src} pipelines")
    data_row("data.container_minutes_per_month", cal.container_minutes_per_month,
             "minutes/month", "measured container-build runner minutes")
    data_row("data.other_ci_minutes_per_month", cal.other_minutes_per_month,
             "minutes/month", "measured runner minutes of all other CI jobs")
    units = {"builds_per_month": "builds/month", "changes_per_month": "changes/month",
             "cached_build_min": "minutes", "change_build_min": "minutes",
             "uncached_build_min": "minutes", "compressed_size_gib": "GiB",
             "per_tag_gib": "GiB", "dedup_gib": "GiB", "tags_kept": "tags",
             "run_steps": "steps"}
    overridden = set(cal.overridden)
    for image, row in cal.images.iterrows():
        for column, unit in units.items():
            value = row[column]
            is_override = (image, column) in overridden
            method = {"cached_build_min": row.get("cached_method"),
                      "uncached_build_min": row.get("uncached_method"),
                      "dedup_gib": cal.dedup_method}.get(column, "see docs/model.md")
            rows.append({
                "name": f"data.image.{image}.{column}",
                "value": None if value != value else float(value), "unit": unit,
                "source": "scenario" if is_override else "data",
                "citation": scenario.path.name if is_override else None,
                "distribution": None,
                "doc": "scenario override" if is_override else str(method),
            })
    return rows


def _deltas(sim: dict, baseline: str, name: str) -> np.ndarray:
    return (sim[name]["total_cost_usd_per_month"]
            - sim[baseline]["total_cost_usd_per_month"])


def _tornado(st: _Static, dists: dict[str, Distribution], baseline: str
             ) -> list[dict[str, Any]]:
    """Swing each uncertain input p10 -> p90 (others at p50); cost difference vs baseline."""
    swing = [n for n, dist in dists.items() if not dist.is_fixed]
    k = 1 + 2 * len(swing)
    p = median_params(dists, k)
    for j, name in enumerate(swing):
        p[name][1 + 2 * j] = dists[name].quantile(0.1)
        p[name][2 + 2 * j] = dists[name].quantile(0.9)
    sim = simulate(st, p, with_horizon=False)
    rows = []
    for name in st.names:
        if name == baseline:
            continue
        delta = _deltas(sim, baseline, name)
        for j, inp in enumerate(swing):
            lo, hi = float(delta[1 + 2 * j]), float(delta[2 + 2 * j])
            rows.append({
                "input": inp, "unit": _unit(inp), "strategy": name,
                "low": dists[inp].quantile(0.1), "high": dists[inp].quantile(0.9),
                "delta_low_usd_per_month": lo, "delta_high_usd_per_month": hi,
                "delta_at_p50_usd_per_month": float(delta[0]),
                "swing_usd_per_month": abs(hi - lo),
            })
    rows.sort(key=lambda r: (-r["swing_usd_per_month"], r["strategy"], r["input"]))
    return rows


def _unit(dotted: str) -> str:
    section, key = dotted.split(".", 1)
    return KEYS[section][key].unit


def _break_even_inputs(scenario: Scenario) -> list[str]:
    names = []
    if scenario.value("storage.billed_above_gib") is not None:
        names.append("storage.usd_per_10gib_year")
    if scenario.value("compute.mode") == "gitlab-hosted":
        names.append("compute.usd_per_1000_minutes")
    elif scenario.value("compute.usd_per_runner_hour") is not None:
        names.append("compute.usd_per_runner_hour")
    else:
        names.append("compute.node_cost_usd_per_year")
    names += ["workload.image_changes_factor", "workload.upstream_pipelines_factor",
              "forks.pipelines_per_month"]
    return names


def solve_break_even(st: _Static, dists: dict[str, Distribution], a: str, b: str,
                     name: str) -> float | None:
    """Value of input ``name`` (others at p50) where strategies a and b cost the same.

    Searches 0 .. 100x the current value on a fine grid (in one vectorized call),
    interpolating linearly at the sign change nearest the current value; None
    when they never cross in that range.
    """
    current = dists[name].median
    top = 100.0 * current if current > 0 else 100.0
    grid = np.unique(np.concatenate([np.linspace(0.0, top, 801),
                                     current * np.geomspace(1e-3, 100.0, 400)]))
    p = median_params(dists, len(grid))
    p[name] = grid
    sim = simulate(st, p, with_horizon=False)
    diff = sim[a]["total_cost_usd_per_month"] - sim[b]["total_cost_usd_per_month"]
    sign = np.sign(diff)
    idx = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    exact = np.nonzero((diff == 0) & (grid > 0))[0]
    candidates = [float(grid[i]) for i in exact]
    for i in idx:
        x0, x1, y0, y1 = grid[i], grid[i + 1], diff[i], diff[i + 1]
        candidates.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)))
    if not candidates or np.all(diff == 0):
        return None
    return min(candidates, key=lambda x: abs(x - current))


def _fmt(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"


def _flip_sentences(st: _Static, dists: dict[str, Distribution], winner: str,
                    runner_up: str, break_even: list[dict], share_runner_cheaper: float,
                    needed_usd: float = 0.0) -> list[str]:
    """Human sentences saying what would make the runner-up win (by more than
    ``needed_usd`` a month, the model's resolution when today's strategy was kept)."""
    out = []
    near = []
    for row in break_even:
        if winner not in (row["strategy_a"], row["strategy_b"]) or row["value"] is None:
            continue
        other = row["strategy_b"] if row["strategy_a"] == winner else row["strategy_a"]
        ratio = row["value"] / row["current"] if row["current"] > 0 else math.inf
        if other != runner_up and not 0.2 <= ratio <= 5.0:
            continue            # only break-evens within 5x of today for the others
        direction = "rose above" if row["value"] > row["current"] else "fell below"
        sentence = (f"{other} would cost the same as {winner} if {row['input']} "
                    f"{direction} {_fmt(row['value'])} {row['unit']} "
                    f"(now {_fmt(row['current'])}).")
        (out if other == runner_up else near).append((abs(math.log(max(ratio, 1e-12))),
                                                      sentence))
    out = [s for _, s in sorted(out)] + [s for _, s in sorted(near)]
    # p10/p90 swings of single inputs that reverse the order
    swing = [n for n, dist in dists.items() if not dist.is_fixed]
    if swing:
        p = median_params(dists, 2 * len(swing))
        for j, name in enumerate(swing):
            p[name][2 * j] = dists[name].quantile(0.1)
            p[name][2 * j + 1] = dists[name].quantile(0.9)
        sim = simulate(st, p, with_horizon=False)
        diff = (sim[runner_up]["total_cost_usd_per_month"]
                - sim[winner]["total_cost_usd_per_month"])
        for j, name in enumerate(swing):
            for q, idx in (("p10", 2 * j), ("p90", 2 * j + 1)):
                if diff[idx] < -needed_usd:
                    out.append(f"At the {q} of {name} ({_fmt(p[name][idx])} {_unit(name)}), "
                               f"{runner_up} would be cheaper by "
                               f"{format_usd(-diff[idx])}/month.")
    if not out:
        out.append(f"No single input within its p10-p90 range makes {runner_up} cheaper "
                   f"than {winner}{' by more than that' if needed_usd else ''}.")
    out.append(f"{runner_up} is cheaper than {winner} in {share_runner_cheaper:.0%} of the "
               f"Monte Carlo samples.")
    return out


def _cleanup_sentence(scenario: Scenario, what_if: dict, winner: str) -> list[str]:
    """A sentence when the cleanup what-if policy would change the winner (inputs at p50)."""
    policy = scenario.value("storage.cleanup_what_if")
    if policy is None or policy == scenario.value("storage.cleanup_policy"):
        return []
    totals = {n: float(m["total_cost_usd_per_month"][0]) for n, m in what_if.items()}
    best = min(totals, key=lambda n: (totals[n], n != winner))
    if best == winner:
        return []
    rule = ", ".join(f"{k} {v:g}" for k, v in policy.items() if v is not None)
    return [f"With the what-if cleanup policy ({rule}), {best} would cost "
            f"{format_usd(totals[best])}/month against {winner}'s {format_usd(totals[winner])} "
            f"(every input at p50)."]


def _tie_note(winner: str, runner_up: str, saving: float, cost: float,
              is_status_quo_kept: bool) -> list[str]:
    """A warning sentence when the winner's margin is too thin to act on."""
    if is_status_quo_kept:
        return [f"{runner_up} is cheaper by only {format_usd(-saving)}/month, within the model's "
                f"resolution ({format_usd(tie_resolution_usd(cost))}): {winner}, today's strategy, "
                "is kept."]
    if saving >= tie_resolution_usd(cost):
        return []
    return [f"The margin of {winner} over {runner_up} ({format_usd(saving)}/month) is within the "
            f"model's resolution: treat them as a tie and decide on other grounds."]


def run_model(dataset: Dataset, scenario: Scenario, samples: int = DEFAULT_SAMPLES,
              seed: int | None = None, *, calibration: Calibration | None = None
              ) -> dict[str, Any]:
    """Run the Monte Carlo model; return the JSON-serializable results dict.

    ``seed`` None uses the scenario's seed, so the same inputs give the same numbers.
    ``calibration`` may be passed to skip re-deriving it from the dataset.
    """
    if samples < 1:
        raise ValueError("samples must be >= 1")
    seed = scenario.seed if seed is None else int(seed)
    cal = calibration or calibrate(dataset, scenario.overrides, source=scenario.path)
    st = _static(cal, scenario)
    dists = uncertain_inputs(scenario)
    rng = np.random.default_rng(seed)
    draws = {name: dist.sample(rng, samples) for name, dist in dists.items()}
    sim = simulate(st, draws)

    baseline = scenario.baseline
    accounting = scenario.value("storage.accounting")
    quota = scenario.value("storage.quota_gib")
    base_total = sim[baseline]["total_cost_usd_per_month"]
    strategies: dict[str, Any] = {}
    for name in st.names:
        s = sim[name]
        strat = STRATEGIES[name]
        delta = s["total_cost_usd_per_month"] - base_total
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(base_total != 0, 100.0 * delta / base_total, np.nan)
        q = {key: quantiles(s[key]) for key in (
            "compute_minutes_per_month", "fork_compute_minutes_per_month",
            "compute_cost_usd_per_month", "fork_compute_cost_usd_per_month",
            "quota_minutes_used_per_month", "fork_quota_share",
            "storage_cost_usd_per_month", "total_cost_usd_per_month",
            "fork_pipeline_feedback_minutes")}
        strategies[name] = {
            "title": strat.title, "description": strat.description,
            **q,
            "registry_gib": {acc: quantiles(s[f"registry_gib:{acc}"])
                             for acc in ("per-tag", "root-namespace-dedup")},
            "months_to_quota": quantiles(s["months_to_quota"]) if quota is not None else None,
            "delta_vs_baseline_usd_per_month": quantiles(delta),
            "delta_vs_baseline_pct": (quantiles(pct) if np.isfinite(pct).all()
                                      else {"p10": None, "p50": None, "p90": None,
                                            "mean": None}),
            "cost_components_usd_per_month": {
                "compute": q["compute_cost_usd_per_month"]["p50"],
                "fork_compute": q["fork_compute_cost_usd_per_month"]["p50"],
                "storage": q["storage_cost_usd_per_month"]["p50"],
            },
            "sponsor_budget_months": (quantiles(s["sponsor_budget_months"])
                                      if "sponsor_budget_months" in s else None),
            "is_baseline": name == baseline,
            "notes": list(strat.notes),
        }

    # storage over the horizon, and the cleanup what-if (every input at p50)
    months = list(range(scenario.horizon_months + 1))
    what_if_st = _Static(cal, scenario, st.names, st.col, st.what_if, st.what_if)
    what_if = simulate(what_if_st, median_params(dists))
    other = scenario.value("storage.other_usage_gib") or 0.0
    storage_over_horizon = {
        "months": months,
        "quota_gib": None if quota is None else max(quota - other, 0.0),
        "namespace_quota_gib": quota,
        "other_usage_gib": other,
        "accounting": accounting,
        "strategies": {name: _series_quantiles(sim[name]["registry_series"])
                       for name in st.names},
        "cleanup_policy": scenario.value("storage.cleanup_policy"),
        "cleanup_what_if_policy": scenario.value("storage.cleanup_what_if"),
        "cleanup_what_if": {
            name: {"p50": [float(x) for x in what_if[name]["registry_series"][0]]}
            for name in st.names
        },
    }

    tornado = _tornado(st, dists, baseline)
    order = sorted(st.names, key=lambda n: (strategies[n]["total_cost_usd_per_month"]["p50"],
                                            n != baseline, n))
    winner = order[0]
    base_p50 = strategies[baseline]["total_cost_usd_per_month"]["p50"]
    margin = base_p50 - strategies[winner]["total_cost_usd_per_month"]["p50"]
    is_status_quo_kept = winner != baseline and margin < tie_resolution_usd(base_p50)
    if is_status_quo_kept:       # a challenger must beat today's strategy by a visible margin
        order.remove(baseline)
        order.insert(0, baseline)
        winner = baseline
    win_total = sim[winner]["total_cost_usd_per_month"]
    ties = [n for n in order[1:] if np.allclose(sim[n]["total_cost_usd_per_month"], win_total,
                                                rtol=1e-9, atol=1e-9)]
    rest = [n for n in order[1:] if n not in ties]
    runner_up = rest[0] if rest else (ties[0] if ties else winner)
    pairs = [(baseline, n) for n in st.names if n != baseline]
    if baseline not in (winner, runner_up) and len(order) > 1:
        pairs.append((winner, runner_up))
    break_even = []
    for a, b in pairs:
        for inp in _break_even_inputs(scenario):
            break_even.append({
                "strategy_a": a, "strategy_b": b, "input": inp, "unit": _unit(inp),
                "value": solve_break_even(st, dists, a, b, inp),
                "current": dists[inp].median,
            })
    paired = (sim[runner_up]["total_cost_usd_per_month"]
              - sim[winner]["total_cost_usd_per_month"])
    share_cheaper = float(np.mean(paired < 0))
    recommendation = {
        "winner": winner, "runner_up": runner_up,
        "saving_usd_per_month": float(np.median(paired)),
        "is_status_quo_kept": bool(is_status_quo_kept),
        "saving_vs_baseline_usd_per_month": float(
            -np.median(sim[winner]["total_cost_usd_per_month"] - base_total)),
        "share_of_samples_winner_cheaper": 1.0 - share_cheaper,
        "ties": ties,
        "flip": _tie_note(winner, runner_up, float(np.median(paired)),
                          float(np.median(win_total)), is_status_quo_kept)
        + _flip_sentences(st, dists, winner, runner_up, break_even, share_cheaper,
                          tie_resolution_usd(base_p50) if is_status_quo_kept else 0.0)
        + _cleanup_sentence(scenario, what_if, winner)
        + [f"{n} costs the same as {winner} in every sample under this scenario's "
           f"{accounting} accounting; they differ in what the table's other columns show."
           for n in ties],
    }

    return {
        "scenario": scenario.name,
        "scenario_title": scenario.title,
        "scenario_description": scenario.description,
        "scenario_sha256": scenario.sha256,
        "baseline": baseline,
        "samples": int(samples),
        "seed": int(seed),
        "horizon_months": int(scenario.horizon_months),
        "is_synthetic_data": bool(dataset.is_synthetic),
        "accounting": accounting,
        "compute_mode": scenario.value("compute.mode"),
        "strategies": strategies,
        "inputs": _inputs_list(scenario, cal),
        "tornado": tornado,
        "break_even": break_even,
        "storage_over_horizon": storage_over_horizon,
        "recommendation": recommendation,
        "calibration": {
            "months_of_data": cal.months_of_data,
            "images": int(len(cal.images)),
            "measured_container_minutes_per_month": cal.container_minutes_per_month,
            "dedup_method": cal.dedup_method,
            "notes": list(cal.notes),
        },
    }
