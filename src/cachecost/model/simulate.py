r"""The Monte Carlo core: every strategy's minutes, GiB and money for K input rows.

    st = make_static(calibration, scenario)
    sim = simulate(st, draws, replicate=replicate)      # {strategy: {metric: (K,) array}}

The formulas (``docs/model.md`` §2 gives each with its source)
================================================================
Per image *i* (:mod:`cachecost.model.calibrate`, with calibration uncertainty from
:mod:`cachecost.model.uncertainty`): ``B_i`` successful builds/month, ``c_i``
changes/month (Gamma-Poisson posterior x ``image_changes_factor``, ``<= B_i``),
``t_hit``, ``t_change``, ``t_miss`` mean minutes (bootstrapped), ``f_i`` measured
minutes of failed/canceled jobs, ``S_i`` GiB, ``T_i`` tags.

**Upstream compute** (runner minutes/month)::

    n_change = min(c_i, B_i)            (rebuild-on-change: input changes only, c*(1 - base share))
    n_full   = min(extra_s, B_i - n_change)
    M_up     = sum_i B_i*t_hit,s + n_change*(t_change,s - t_hit,s) + n_full*(t_miss - t_hit,s) + f_i

    kaniko:       t_hit,s = t_hit + pull/extract of r*S GiB;  extra = phi*c/(1 - exp(-phi*c*tau)) - phi*c
    buildkit max: t_change,s = t_change - saving*multi_stage_i*(t_change - t_hit)

**Forks**: ``m_fork,i = h*(t_hit,s + d*(t_change,s - t_hit,s)) + (1 - h)*t_miss``,
``M_fork = F * sum_i m_fork,i``; the wait is ``E[max_i T_i]`` (:mod:`.wait`).

**Money** (:mod:`.money`): project cash (runner time or hosted overage, storage
packs), shadow (storage at a trade-off rate), fork owners' cash. The total is the
sum of the kinds the scenario's ``decision.weighs`` lists.

**Registry** (:mod:`.registry`): ``G(m) = sum_i steady_i + stale_i*c_i*min(m, cap_i)``
with each strategy's cleanup policy; priced along that path at the pack year's end,
``G(12)`` (:func:`.registry.priced_path`), the steady state and the months to reach
it reported beside it, and growth no cleanup caps reported as a risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cachecost.model.calibrate import Calibration
from cachecost.model.chunks import merge_chunks
from cachecost.model.cleanup import CleanupPolicy
from cachecost.model.distributions import Distribution
from cachecost.model.drivers import HOURS_PER_MONTH, Arr, Drivers
from cachecost.model.money import (
    billed_cost_factor,
    fork_owner_cost_usd,
    hosted_overage_usd,
    shadow_storage_usd,
    storage_cash_usd,
    storage_packs,
)
from cachecost.model.registry import (
    months_to_reach,
    priced_path,
    registry_series,
    stale_growth,
)
from cachecost.model.scenario import Scenario
from cachecost.model.strategies import ACCOUNTINGS, STRATEGIES, Strategy
from cachecost.model.uncertainty import CalibrationBank
from cachecost.model.wait import expected_max_wait

__all__ = ["CHUNK_ROWS", "Static", "make_static", "median_params", "months_to_reach",
           "simulate", "uncertain_inputs"]

#: Samples evaluated at once: (images x 8192) float64 arrays of ~1.5 MB stay in cache.
CHUNK_ROWS = 8192

#: Per-image calibration columns the drivers read, shape (I, 1) each.
_COLUMNS = ("builds_per_month", "changes_per_month", "cached_build_min", "change_build_min",
            "uncached_build_min", "compressed_size_gib", "per_tag_gib", "dedup_gib",
            "tags_kept", "run_steps", "failed_min_per_month", "is_multi_stage",
            "kaniko_hit_build_min")


def uncertain_inputs(scenario: Scenario) -> dict[str, Distribution]:
    """Return every numeric (distribution) input of the scenario, by dotted name."""
    return {k: v for k, v in scenario.values.items() if isinstance(v, Distribution)}


def median_params(dists: dict[str, Distribution], k: int = 1) -> dict[str, np.ndarray]:
    """Return every input at its p50, as arrays of length ``k``."""
    return {name: np.full(k, d.median) for name, d in dists.items()}


def _policy(raw: dict[str, Any] | None) -> CleanupPolicy | None:
    return None if raw is None else CleanupPolicy(raw["keep_n"], raw["older_than_days"])


def effective_policy(scenario: Scenario, name: str) -> CleanupPolicy | None:
    """A strategy's cleanup policy: the scenario's per-strategy entry, else its common
    ``storage.cleanup_policy``, else the policy the strategy declares it needs."""
    per = scenario.value("storage.cleanup_policies") or {}
    if name in per:
        return _policy(per[name])
    common = scenario.value("storage.cleanup_policy")
    return _policy(common) if common is not None else STRATEGIES[name].cleanup


@dataclass
class Static:
    """Everything fixed for one run: calibration arrays and scenario switches."""

    cal: Calibration
    scenario: Scenario
    names: tuple[str, ...]
    col: dict[str, np.ndarray]          # per-image calibration columns, shape (I, 1)
    policies: dict[str, CleanupPolicy | None]
    what_if: CleanupPolicy | None
    bank: CalibrationBank | None = None
    weighs: tuple[str, ...] = ("project_cash", "shadow", "fork_owners_cash")
    horizon_months: int = 12
    use_what_if: bool = field(default=False)


def make_static(cal: Calibration, scenario: Scenario, bank: CalibrationBank | None = None
                ) -> Static:
    """Collect the fixed parts of a run (calibration columns, policies, switches)."""
    cols = {c: cal.images[c].to_numpy(dtype=float)[:, None] for c in _COLUMNS}
    return Static(cal, scenario, scenario.strategies, cols,
                  {n: effective_policy(scenario, n) for n in scenario.strategies},
                  _policy(scenario.value("storage.cleanup_what_if")), bank,
                  tuple(scenario.value("decision.weighs")), scenario.horizon_months)


#: The name the sibling modules and tests used before the split.
_static = make_static


def _calibrated(st: Static, name: str, replicate: np.ndarray | None) -> Arr:
    """A calibration column, (I, 1) point values or (I, K) bootstrap replicates
    (``replicate`` here is the flat (I, K) index into the bank's (I, R) columns)."""
    if replicate is None or st.bank is None or name not in st.bank.columns:
        return st.col[name]
    return np.take(st.bank.columns[name], replicate)


def _flat_replicate(st: Static, replicate: np.ndarray | None) -> np.ndarray | None:
    """(K, I) replicate numbers as flat indices into (I, R) bank columns, shape (I, K)."""
    if replicate is None or st.bank is None:
        return None
    n_images = replicate.shape[1]
    return np.ascontiguousarray(replicate.T) + (st.bank.size * np.arange(n_images))[:, None]


def _sample(p: dict[str, np.ndarray], name: str) -> Arr:
    """A sampled input as a (1, K) row, or a float when it is the same in every row."""
    v = p[name]
    return float(v[0]) if v.min() == v.max() else v[None, :]


def _scaled(st: Static, name: str, replicate: np.ndarray | None, factor: Arr) -> Arr:
    """A calibration column (:func:`_calibrated`) times ``factor``: no copy when the
    factor is exactly 1, and the product written over a fresh bootstrap gather."""
    x = np.asarray(_calibrated(st, name, replicate))
    if isinstance(factor, float) and factor == 1.0:
        return x
    if x is not st.col[name] and np.shape(factor) in ((), (1, x.shape[1])):
        x *= factor
        return x
    return np.asarray(np.multiply(x, factor))


def _build_minutes(st: Static, p: dict[str, np.ndarray], replicate: np.ndarray | None
                   ) -> tuple[Arr, Arr, Arr]:
    """(t_hit, t_change, t_miss) with hit <= change <= miss (a missing t_miss is
    ``uncached_to_cached_ratio * t_hit``, a missing t_change is t_miss)."""
    tf = _sample(p, "workload.build_minutes_factor")
    hit = _scaled(st, "cached_build_min", replicate, tf)
    miss: Arr = _scaled(st, "uncached_build_min", replicate, tf)
    no_miss = np.isnan(st.col["uncached_build_min"])
    if no_miss.any():
        ratio = _sample(p, "assumptions.uncached_to_cached_ratio")
        miss = np.where(no_miss, np.multiply(hit, ratio), miss)
    miss = np.maximum(miss, hit)
    change: Arr = _scaled(st, "change_build_min", replicate, tf)
    no_change = np.isnan(st.col["change_build_min"])
    if no_change.any():
        change = np.where(no_change, miss, change)
    return hit, np.clip(change, hit, miss), miss


def make_drivers(st: Static, p: dict[str, np.ndarray], replicate: np.ndarray | None = None
                 ) -> Drivers:
    """Combine calibration (I, 1) or (I, K) with sampled inputs (1, K) into drivers.

    An input that is the same in every row becomes a plain float, so arrays only
    grow to (I, K) where something actually varies: most of the speed.
    """
    s = _sample
    c = st.col
    replicate = _flat_replicate(st, replicate)
    pf = s(p, "workload.upstream_pipelines_factor")
    builds = np.multiply(c["builds_per_month"], pf)
    changes = np.minimum(_scaled(st, "changes_per_month", replicate,
                                 s(p, "workload.image_changes_factor")), builds)
    r = s(p, "assumptions.kaniko_cache_bytes_share")
    tf = s(p, "workload.build_minutes_factor")
    hit, change, miss = _build_minutes(st, p, replicate)
    pulled = np.multiply(c["compressed_size_gib"],
                         np.multiply(r, s(p, "assumptions.kaniko_pull_extract_min_per_gib")))
    estimated = np.add(hit, pulled)
    unmeasured = np.isnan(c["kaniko_hit_build_min"])     # no kaniko all-hit build in the logs
    kaniko_hit = np.minimum(estimated if unmeasured.all() else np.where(
        unmeasured, estimated, np.multiply(c["kaniko_hit_build_min"], tf)), miss)
    return Drivers(
        builds_per_month=builds, changes_per_month=changes,
        input_changes_per_month=np.multiply(
            changes, np.subtract(1.0, s(p, "workload.base_image_refresh_share"))),
        failed_min_per_month=np.multiply(c["failed_min_per_month"], np.multiply(pf, tf)),
        hit_min=hit, change_min=change, miss_min=miss,
        image_gib=c["compressed_size_gib"], per_tag_gib=c["per_tag_gib"],
        dedup_gib=c["dedup_gib"], tags_kept=c["tags_kept"], run_steps=c["run_steps"],
        is_multi_stage=c["is_multi_stage"],
        kaniko_hit_min=kaniko_hit,
        fork_builds_per_month=s(p, "forks.pipelines_per_month"),
        fork_change_share=s(p, "forks.image_change_share"),
        fork_reads_upstream=s(p, "forks.reads_upstream_registry_probability"),
        fork_pipelines_per_change=s(p, "forks.pipelines_per_image_change"),
        fork_owners=np.maximum(s(p, "forks.owners"), 1.0),
        refresh_per_month=s(p, "workload.scheduled_refresh_per_month"),
        check_min=s(p, "assumptions.rebuild_check_minutes"),
        changed_bytes_share=s(p, "assumptions.changed_bytes_share"),
        kaniko_cache_bytes_share=r,
        kaniko_ttl_months=np.divide(s(p, "assumptions.kaniko_cache_ttl_hours"),
                                    HOURS_PER_MONTH),
        kaniko_full_change_share=s(p, "assumptions.kaniko_full_change_share"),
        kaniko_digest_shared=s(p, "assumptions.kaniko_layer_digest_shared_probability"),
        buildkit_max_extra_share=s(p, "assumptions.buildkit_max_extra_bytes_share"),
        buildkit_max_change_saving=s(p, "assumptions.buildkit_max_change_saving_share"),
    )


def usd_per_runner_minute(st: Static, p: dict[str, np.ndarray]) -> np.ndarray:
    """Private runners: the scenario's hourly price, or the node cost divided by every
    measured CI minute (mapped container builds, container jobs mapping to no image,
    every other job: the nodes run them all)."""
    if "compute.usd_per_runner_hour" in p:
        return p["compute.usd_per_runner_hour"] / 60.0
    measured = st.cal.container_minutes_per_month + st.cal.other_minutes_per_month
    return p["compute.node_cost_usd_per_year"] / 12.0 / measured


def _compute_money(st: Static, p: dict[str, np.ndarray], up_min: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(project cash for runner time, quota minutes used), per sample. Hosted: each job
    class at its billed factor, the lower of its runner's size factor and the
    project's discount (:func:`billed_cost_factor`). The quota is the root namespace's
    (compute_minutes.md 2025): the rest of the namespace's billed minutes
    (``compute.other_usage_minutes_per_month``) and this project's other CI draw on it
    before the container builds; each month is the mean month times a multiplier of
    spread ``workload.monthly_minutes_cv`` (:func:`cachecost.model.money.marginal_overage`)."""
    sc = st.scenario
    if sc.value("compute.mode") == "private-runners":
        return np.asarray(up_min * usd_per_runner_minute(st, p)), np.zeros(k)
    discount = p.get("compute.cost_factor")
    other_size = p["compute.runner_size_factor"]
    quota_used = up_min * billed_cost_factor(
        p.get("compute.container_runner_size_factor", other_size), discount)
    q_other = (st.cal.other_minutes_per_month * p["workload.upstream_pipelines_factor"]
               * billed_cost_factor(other_size, discount)
               + (sc.value("compute.other_usage_minutes_per_month") or 0.0))
    quota = sc.value("compute.quota_minutes_per_month") or 0.0
    return hosted_overage_usd(quota_used, q_other, quota, p["compute.usd_per_1000_minutes"],
                              monthly_cv(p)), np.asarray(quota_used)


def monthly_cv(p: dict[str, np.ndarray]) -> Arr:
    """The month-to-month spread the quota's bills take, per sample
    (``workload.monthly_minutes_cv``, measured by default:
    :func:`cachecost.model.measured.with_measured_inputs`; 0 when not drawn)."""
    return p.get("workload.monthly_minutes_cv", 0.0)


def fork_other_ci_minutes_per_pipeline(st: Static, p: dict[str, np.ndarray]) -> Arr:
    """Runner minutes of a fork pipeline's other CI jobs: the scenario's value, else
    upstream's measured other CI minutes per pipeline (0 without pipelines)."""
    if "forks.other_ci_minutes_per_pipeline" in p:
        return p["forks.other_ci_minutes_per_pipeline"]
    pipelines = st.cal.upstream_pipelines_per_month
    return st.cal.other_minutes_per_month / pipelines if pipelines > 0 else 0.0


def _fork_money(st: Static, p: dict[str, np.ndarray], fork_min: np.ndarray, k: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(fork owners' cash, share of one owner's quota the container builds use), per
    sample; each owner's other CI minutes draw on the quota first."""
    fork_quota = st.scenario.value("forks.quota_minutes_per_month")
    owners = np.maximum(p["forks.owners"], 1.0)
    factor = billed_cost_factor(p["forks.runner_size_factor"], p.get("forks.cost_factor"))
    per_owner = fork_min * factor / owners
    other = (p["forks.pipelines_per_month"] * fork_other_ci_minutes_per_pipeline(st, p)
             * factor / owners)
    share = per_owner / fork_quota if fork_quota else np.zeros(k)
    return (fork_owner_cost_usd(per_owner, owners, fork_quota, p["forks.usd_per_1000_minutes"],
                                other, monthly_cv(p)), np.asarray(share))


def _storage(st: Static, strat: Strategy, d: Drivers, policy: CleanupPolicy | None, k: int
             ) -> dict[str, Any]:
    """Per accounting: steady GiB, stale GiB/month per image, caps; plus peak/growth."""
    out: dict[str, Any] = {}
    rates: dict[int, tuple[Any, np.ndarray | None]] = {}    # by stale array: one per array
    for acc in ACCOUNTINGS:
        steady = np.broadcast_to(np.sum(strat.steady_gib(d, acc), axis=0), (k,))
        stale = strat.stale_gib_per_change(d, acc)
        if id(stale) not in rates:      # the same array under both accountings: one rate
            rates[id(stale)] = (stale, np.multiply(stale, strat.part(d, "changes"))
                                if np.any(np.asarray(stale) > 0) else None)
        out[acc] = (np.asarray(steady, dtype=float), rates[id(stale)][1])
    stale_any = any(rate is not None for _, rate in rates.values())
    out["caps"] = strat.stale_cap(d, policy) if stale_any and policy is not None else None
    return out


def _storage_money(st: Static, p: dict[str, np.ndarray], peak: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packs, storage cash, shadow) per sample, for the priced GiB ``peak``."""
    sc = st.scenario
    billed_above = sc.value("storage.billed_above_gib")
    zero = np.zeros_like(peak)
    packs, cash = zero, zero
    if billed_above is not None:
        other = (sc.value("storage.other_usage_gib") or 0.0) + st.cal.other_registry_gib
        packs = storage_packs(peak, other, billed_above)
        cash = storage_cash_usd(packs, p["storage.usd_per_10gib_year"])
    shadow = (shadow_storage_usd(peak, p["storage.shadow_usd_per_10gib_year"])
              if "storage.shadow_usd_per_10gib_year" in p else zero)
    return packs, cash, shadow


class _WaitMemo:
    """E[max] of the fork wait, computed once per distinct (hit, change, miss, h)."""

    def __init__(self) -> None:
        # the inputs are kept with the result so that their ids stay unique
        self.done: dict[tuple[int, ...], tuple[Any, np.ndarray]] = {}
        self.sorted: dict[int, tuple[object, np.ndarray]] = {}

    def __call__(self, strat: Strategy, d: Drivers, k: int) -> np.ndarray:
        h = strat.part(d, "fork_reuse_share")
        share = strat.fork_wait_change_share(d)
        hit, change = strat.part(d, "hit_minutes"), strat.part(d, "change_minutes")
        key = (id(hit), id(change), id(d.miss_min),
               id(h) if not isinstance(h, float) else hash(h),
               id(share) if not isinstance(share, float) else hash(share))
        if key not in self.done:
            self.done[key] = ((hit, change, h, share), expected_max_wait(
                hit, change, d.miss_min, h, share, k, self.sorted))
        return self.done[key][1]


def _compute(st: Static, p: dict[str, np.ndarray], d: Drivers, strat: Strategy, k: int,
             memo: dict[tuple[object, ...], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """(upstream minutes, fork minutes, compute cash, quota used, fork cash, fork share),
    once per distinct set of compute formulas (dind and buildkit min share them)."""
    key = strat.compute_key()
    if key not in memo:
        up_min = strat.upstream_minutes(d)
        fork_min = p["forks.pipelines_per_month"] * strat.fork_minutes_per_pipeline(d)
        compute_cash, quota_used = _compute_money(st, p, up_min, k)
        fork_cash, fork_share = _fork_money(st, p, fork_min, k)
        memo[key] = (up_min, fork_min, compute_cash, quota_used, fork_cash, fork_share)
        if strat.single_cache_source:     # what a second source (the fork's own) would save
            memo[(*key, "single")] = (fork_min - p["forks.pipelines_per_month"]
                                      * strat.fork_minutes_with_own_cache(d),)
    return memo[key]


def _evaluate(st: Static, p: dict[str, np.ndarray], d: Drivers, name: str, k: int,
              wait: _WaitMemo, with_horizon: bool,
              memo: dict[tuple[object, ...], tuple[np.ndarray, ...]]) -> dict[str, np.ndarray]:
    """Every per-sample metric of one strategy."""
    sc = st.scenario
    strat = STRATEGIES[name]
    policy = st.what_if if st.use_what_if else st.policies[name]
    accounting = sc.value("storage.accounting")
    up_min, fork_min, compute_cash, quota_used, fork_cash, fork_share = _compute(
        st, p, d, strat, k, memo)
    store = _storage(st, strat, d, policy, k)
    steady, rate = store[accounting]
    path = priced_path(steady, rate, store["caps"], k)
    peak = path["priced"]
    packs, storage_cash, shadow = _storage_money(st, p, peak)
    kinds = {"project_cash": compute_cash + storage_cash, "shadow": shadow,
             "fork_owners_cash": fork_cash}
    total = sum((kinds[w] for w in st.weighs), start=np.zeros(k))
    fork_wait = wait(strat, d, k)
    row: dict[str, Any] = {
        "compute_minutes_per_month": up_min,
        "fork_compute_minutes_per_month": fork_min,
        "compute_cost_usd_per_month": compute_cash,
        "fork_compute_cost_usd_per_month": fork_cash,
        "quota_minutes_used_per_month": quota_used,
        "fork_quota_share": fork_share,
        "storage_cost_usd_per_month": (storage_cash if "project_cash" in st.weighs
                                       else np.zeros(k))
        + (shadow if "shadow" in st.weighs else 0.0),
        "storage_cash_usd_per_month": storage_cash,
        "storage_packs": packs,
        "shadow_storage_usd_per_month": shadow,
        "project_cash_usd_per_month": kinds["project_cash"],
        "fork_owners_cash_usd_per_month": fork_cash,
        "total_cost_usd_per_month": total,
        "fork_pipeline_feedback_minutes": fork_wait,
        "fork_wait_minutes": fork_wait,
        "registry_priced_gib": peak,
        "registry_steady_gib": path["steady"],
        "months_to_registry_steady": path["months_to_steady"],
        "registry_growth_gib_per_month": path["growth"],
    }
    if strat.single_cache_source:
        row["fork_single_cache_source_minutes_per_month"] = memo[
            (*strat.compute_key(), "single")][0]
    if with_horizon:
        row.update(_horizon_metrics(st, p, store, accounting, compute_cash, storage_cash, k))
    return row


def _registry_horizon(st: Static, store: dict[str, Any], accounting: str
                      ) -> dict[str, np.ndarray]:
    """Per accounting: ``registry_gib:<acc>`` (GiB after the horizon, with the
    strategy's cleanup), ``registry_gib_day0:<acc>`` (month 0: the steady GiB) and
    ``registry_gib_no_cleanup:<acc>`` (after the horizon had nothing ever been
    deleted, the claims' view); and ``registry_series`` (K, H+1) for the scenario's
    accounting. Each is what a run with that accounting or without a policy would
    give: the steady GiB and the stale rate do not depend on either, and a stale rate
    both accountings share (kaniko's orphaned layers) is grown once."""
    months = np.arange(st.horizon_months + 1, dtype=float)
    caps = store["caps"]
    k = len(store[accounting][0])
    grown: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    out: dict[str, np.ndarray] = {}
    for acc in sorted(ACCOUNTINGS, key=lambda a: a != accounting):    # the scenario's first
        steady, rate = store[acc]
        if rate is None:
            last, no_cleanup = steady, steady
        else:
            if id(rate) not in grown:
                g = stale_growth(rate, caps, months if acc == accounting else months[-1:], k)
                grown[id(rate)] = (rate, g, g[:, -1] if caps is None
                                   else stale_growth(rate, None, months[-1:], k)[:, -1])
            _, g, g_none = grown[id(rate)]
            last, no_cleanup = steady + g[:, -1], steady + g_none
            if acc == accounting:
                out["registry_series"] = steady[:, None] + g
        out[f"registry_gib:{acc}"] = last
        out[f"registry_gib_day0:{acc}"] = steady
        out[f"registry_gib_no_cleanup:{acc}"] = no_cleanup
    if "registry_series" not in out:            # nothing grows: a read-only view
        out["registry_series"] = registry_series(store[accounting][0], None, None, months)
    return out


def _horizon_metrics(st: Static, p: dict[str, np.ndarray], store: dict[str, Any],
                     accounting: str, compute_cash: np.ndarray, storage_cash: np.ndarray,
                     k: int) -> dict[str, np.ndarray]:
    """Registry series and GiB at the horizon, months to quota, sponsor budget."""
    sc = st.scenario
    caps = store["caps"]
    out = _registry_horizon(st, store, accounting)
    quota = sc.value("storage.quota_gib")
    if quota is not None:
        steady, rate = store[accounting]
        other = (sc.value("storage.other_usage_gib") or 0.0) + st.cal.other_registry_gib
        out["months_to_quota"] = (
            np.where(steady + other >= quota, 0.0, np.inf) if rate is None
            else months_to_reach(steady + other, np.broadcast_to(rate, (len(st.col[
                "builds_per_month"]), k)), caps, quota))
    budget = sc.value("compute.sponsor_budget_usd_per_year")
    if sc.value("compute.mode") == "private-runners" and budget:
        other_cost = (st.cal.other_minutes_per_month * p["workload.upstream_pipelines_factor"]
                      * usd_per_runner_minute(st, p))
        spend = (compute_cash + other_cost + storage_cash
                 + (sc.value("compute.other_spend_usd_per_year") or 0.0) / 12.0)
        out["sponsor_budget_months"] = budget / spend      # cash only: no shadow price
    return out


def simulate(st: Static, p: dict[str, np.ndarray], *, with_horizon: bool = True,
             replicate: np.ndarray | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Evaluate every strategy for K input rows; return ``{strategy: {metric: array}}``.

    ``p`` maps every uncertain input's dotted name to a (K,) array of draws;
    ``replicate`` (K, I) picks a calibration replicate per sample and image from
    ``st.bank`` (None: the point calibration). Per strategy, every metric is a
    (K,) float array unless noted; the names are stable (sibling modules read them):

    * ``total_cost_usd_per_month``: the kinds of money ``decision.weighs`` lists
    * ``project_cash_usd_per_month`` = ``compute_cost_usd_per_month`` (runner time or
      hosted overage) + ``storage_cash_usd_per_month`` (``storage_packs`` 10 GiB packs)
    * ``shadow_storage_usd_per_month`` (a trade-off rate, never a bill)
    * ``fork_owners_cash_usd_per_month`` (= ``fork_compute_cost_usd_per_month``)
    * ``storage_cost_usd_per_month``: the storage money the total weighs
    * ``compute_minutes_per_month``, ``fork_compute_minutes_per_month``,
      ``quota_minutes_used_per_month``, ``fork_quota_share``
    * ``fork_wait_minutes`` (= ``fork_pipeline_feedback_minutes``): E[slowest job]
    * ``registry_steady_gib`` (priced GiB, scenario accounting),
      ``registry_growth_gib_per_month`` (growth no cleanup caps)
    * with ``with_horizon``: ``registry_gib:<accounting>`` (GiB after the horizon, for
      ``per-tag`` and ``root-namespace-dedup``), ``registry_gib_day0:<accounting>``
      (month 0), ``registry_gib_no_cleanup:<accounting>`` (after the horizon had no
      cleanup policy ever deleted a tag), ``registry_series`` (K, H+1),
      ``months_to_quota`` (when a quota is set; inf = never), ``sponsor_budget_months``
      (private runners with a budget)
    """
    k_all = len(next(iter(p.values())))
    if k_all > CHUNK_ROWS:       # cache-sized blocks: ~3x faster than one pass
        parts = [simulate(st, {n: v[i:i + CHUNK_ROWS] for n, v in p.items()},
                          with_horizon=with_horizon,
                          replicate=None if replicate is None else replicate[i:i + CHUNK_ROWS])
                 for i in range(0, k_all, CHUNK_ROWS)]
        return merge_chunks(parts)
    d = make_drivers(st, p, replicate)
    wait = _WaitMemo()
    memo: dict[tuple[object, ...], tuple[np.ndarray, ...]] = {}
    shaped: dict[int, tuple[object, np.ndarray]] = {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in st.names:
        row = _evaluate(st, p, d, name, k_all, wait, with_horizon, memo)
        out[name] = {key: _shaped(v, (k_all, st.horizon_months + 1)
                                  if key == "registry_series" else (k_all,), shaped)
                     for key, v in row.items()}
    return out


def _shaped(value: Any, shape: tuple[int, ...], cache: dict[int, tuple[object, np.ndarray]]
            ) -> np.ndarray:
    """``value`` as a float array of ``shape``; the same object for the same input, so
    strategies sharing an array (equal compute formulas) still share it."""
    if id(value) not in cache:
        arr = np.asarray(value, dtype=float)
        cache[id(value)] = (value, arr if arr.shape == shape else np.broadcast_to(arr, shape))
    return cache[id(value)][1]


