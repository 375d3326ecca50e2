"""The results document: run the model, summarize every figure, recommend.

    results = run_model(load_dataset(), load_scenario(None), samples=20_000)
    results["strategies"]["kaniko-cache-repo"]["total_cost_usd_per_month"]["p50"]

:func:`run_model` draws every uncertain input and a calibration replicate per
image and sample (:mod:`cachecost.model.uncertainty`), evaluates every strategy
(:func:`cachecost.model.simulate.simulate`), and summarizes: p10/p50/p90/mean of
each figure, the kinds of money apart, the storage series over the horizon, the
tornado, break-evens and the recommendation (:mod:`cachecost.model.decide`).
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from cachecost.dataset.io import Dataset
from cachecost.model.calibrate import Calibration, calibrate
from cachecost.model.claims import thread_results
from cachecost.model.decide import (
    break_even_inputs,
    choose,
    cleanup_what_if,
    paired_decision,
    resolution,
    sort_tornado,
)
from cachecost.model.distributions import Distribution
from cachecost.model.flips import (
    RECOMMENDATION_FLIPS,
    BreakEven,
    Run,
    break_evens,
    first_flips,
    tornado,
)
from cachecost.model.keys import KEYS
from cachecost.model.measured import CV_KEY, registry_today, with_measured_inputs
from cachecost.model.money import billing_classes
from cachecost.model.quantile import percentiles
from cachecost.model.result_types import (
    CalibrationSummary,
    InputRow,
    Quantiles,
    Recommendation,
    Results,
    StrategyResult,
    TornadoBar,
)
from cachecost.model.scenario import Scenario, describe_value
from cachecost.model.simulate import (
    Static,
    make_static,
    median_params,
    simulate,
    uncertain_inputs,
)
from cachecost.model.strategies import ACCOUNTINGS, STRATEGIES, strategy_title
from cachecost.model.uncertainty import build_bank, draw_replicates

DEFAULT_SAMPLES = 20_000
QUANTILES = (10, 50, 90)
#: Inputs that are a probability of a yes/no fact: each sample draws the outcome.
BERNOULLI_INPUTS = tuple(f"{section}.{key}" for section, keys in KEYS.items()
                         for key, spec in keys.items() if spec.unit == "probability")

_SUMMARIZED = (
    "compute_minutes_per_month", "fork_compute_minutes_per_month",
    "compute_cost_usd_per_month", "fork_compute_cost_usd_per_month",
    "quota_minutes_used_per_month", "fork_quota_share",
    "storage_cost_usd_per_month", "total_cost_usd_per_month",
    "fork_pipeline_feedback_minutes", "fork_wait_minutes",
    "project_cash_usd_per_month", "storage_cash_usd_per_month", "storage_packs",
    "shadow_storage_usd_per_month", "fork_owners_cash_usd_per_month",
    "registry_steady_gib", "registry_growth_gib_per_month",
    "registry_priced_gib", "months_to_registry_steady",
    "fork_single_cache_source_minutes_per_month",
)



def _clean(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def quantiles(values: np.ndarray) -> Quantiles:
    """Return ``{"p10", "p50", "p90", "mean"}`` of a sample (+inf/NaN -> None)."""
    v = np.asarray(values, dtype=float)
    if v.size and v.min() == v.max():          # constant (e.g. zero cost): no sort needed
        x = _clean(v[0])
        return {"p10": x, "p50": x, "p90": x, "mean": x}
    # no interpolation when +inf may be present (months_to_quota): inf - inf would be NaN
    is_finite = bool(np.isfinite(v).all())
    q = percentiles(v, QUANTILES, method="linear" if is_finite else "inverted_cdf")
    mean = float(v.mean()) if is_finite else math.inf
    return {"p10": _clean(q[0]), "p50": _clean(q[1]), "p90": _clean(q[2]), "mean": _clean(mean)}


def _series_quantiles(series: np.ndarray) -> dict[str, list[float]]:
    """p10/p50/p90 of each month of a (K, months) series; a month equal to the month
    before in every sample (a flat stretch: cleanup has capped the growth) reuses its
    quantiles, as does every month of a series broadcast from one column (the same
    values). The months are read as rows of one transposed copy (a column of a
    (K, months) array is K strided reads; a broadcast series' months are rows already)."""
    broadcast = series.ndim == 2 and series.strides[1] == 0
    months = series.T
    if months.strides[-1] != months.itemsize:
        months = np.ascontiguousarray(months)
    out: dict[str, list[float]] = {f"p{p}": [] for p in QUANTILES}
    for m in range(months.shape[0]):
        if m and (broadcast or np.array_equal(months[m], months[m - 1])):
            q = [out[f"p{p}"][-1] for p in QUANTILES]
        else:
            q = percentiles(months[m], QUANTILES).tolist()
        for p, x in zip(QUANTILES, q, strict=True):
            out[f"p{p}"].append(x)
    return out


def _inputs_list(scenario: Scenario, cal: Calibration) -> list[InputRow]:
    """Every input with its value, unit, source, citation and distribution."""
    rows: list[InputRow] = []
    for section, keys in KEYS.items():
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            value = scenario.value(dotted)
            source = scenario.source(dotted)
            rows.append({
                "name": dotted, "value": describe_value(value), "unit": spec.unit,
                "source": source,
                "citation": {"default": spec.citation, "measured": (
                    f"the dataset (fetch): sd / mean of the CI minutes of its "
                    f"{cal.monthly_minutes_months} full calendar months"
                    if dotted == CV_KEY else "the dataset (fetch)")}.get(
                    source, scenario.path.name),
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
             "minutes/month", "measured runner minutes of all other CI jobs (with container "
             "jobs mapping to no image)")
    units = {"builds_per_month": "builds/month", "changes_per_month": "changes/month",
             "cached_build_min": "minutes", "change_build_min": "minutes",
             "uncached_build_min": "minutes", "compressed_size_gib": "GiB",
             "per_tag_gib": "GiB", "dedup_gib": "GiB", "tags_kept": "tags",
             "run_steps": "steps", "failed_min_per_month": "minutes/month",
             "change_events": "events", "is_multi_stage": "yes=1",
             "kaniko_hit_build_min": "minutes"}
    overridden = set(cal.overridden)
    for image, row in cal.images.iterrows():
        for column, unit in units.items():
            value = row[column]
            is_override = (image, column) in overridden
            method = {"cached_build_min": row.get("cached_method"),
                      "uncached_build_min": row.get("uncached_method"),
                      "dedup_gib": cal.dedup_method,
                      "changes_per_month": f"{row.get('changes_method') or 'change_events'}"
                                           " / months; the Monte Carlo draws "
                                           "Gamma(events + 1/2, months)"}.get(
                column, "see docs/model.md")
            rows.append({
                "name": f"data.image.{image}.{column}",
                "value": None if value != value else float(value), "unit": unit,
                "source": "scenario" if is_override else "data",
                "citation": scenario.path.name if is_override else None,
                "distribution": None,
                "doc": "scenario override" if is_override else str(method),
            })
    return rows




def draw_inputs(st: Static, dists: dict[str, Distribution], samples: int, seed: int
                ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Draw every uncertain input (``draws``, name -> (K,)) and a calibration replicate
    per sample and image (``replicate``, (K, I)); a probability input in
    :data:`BERNOULLI_INPUTS` becomes its drawn outcome, 0 or 1, per sample."""
    rng = np.random.default_rng(seed)
    draws = {name: dist.sample(rng, samples) for name, dist in dists.items()}
    for name in BERNOULLI_INPUTS:
        if name in draws:
            draws[name] = (rng.random(samples) < draws[name]).astype(float)
    if st.bank is None:
        return draws, None
    cal_rng = np.random.default_rng([seed, 1])
    return draws, draw_replicates(st.bank, len(st.cal.images), cal_rng, samples)


def _policy_json(st: Static, name: str) -> dict[str, float | None] | None:
    policy = st.policies[name]
    return None if policy is None else policy.to_json()


class _Summaries:
    """:func:`quantiles` once per array (strategies and metrics share arrays), and once
    per content: equal arrays computed apart (a cost that is the same under two
    strategies) are found by a few sampled values, then compared in full."""

    def __init__(self) -> None:
        self.done: dict[int, tuple[np.ndarray, Quantiles]] = {}
        self.by_content: dict[tuple[Any, ...], list[tuple[np.ndarray, Quantiles]]] = {}

    def __call__(self, values: np.ndarray) -> Quantiles:
        if id(values) not in self.done:
            v = np.asarray(values)
            picks = v.ravel()[:: max(1, v.size // 8)] if v.size else v.ravel()
            key = (v.shape, v.dtype.str, picks.tobytes())
            same = self.by_content.setdefault(key, [])
            q = next((qs for arr, qs in same if np.array_equal(arr, v)), None)
            if q is None:
                q = quantiles(v)
                same.append((v, q))
            self.done[id(values)] = (values, q)
        return Quantiles(**self.done[id(values)][1])


def _strategy_summary(st: Static, sim: dict[str, dict[str, np.ndarray]], name: str,
                      baseline: str, paired: dict[str, dict[str, float]],
                      summarize: _Summaries) -> StrategyResult:
    """One strategy's summary: every figure's p10/p50/p90/mean and the decision shares."""
    s = sim[name]
    has_thread, builder = st.scenario.thread is not None, st.scenario.builder
    _, description, notes = STRATEGIES[name].words(has_thread, builder)
    base_total = sim[baseline]["total_cost_usd_per_month"]
    delta = s["total_cost_usd_per_month"] - base_total
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base_total != 0, 100.0 * delta / base_total, np.nan)
    q = {key: summarize(s[key]) for key in _SUMMARIZED if key in s}
    growth = q["registry_growth_gib_per_month"]
    return cast(StrategyResult, {
        "title": strategy_title(name, baseline, has_thread, builder),
        "description": description,
        **q,
        "registry_gib": {acc: summarize(s[f"registry_gib:{acc}"]) for acc in ACCOUNTINGS},
        "months_to_quota": (summarize(s["months_to_quota"]) if "months_to_quota" in s
                            else None),
        "delta_vs_baseline_usd_per_month": quantiles(delta),
        "delta_vs_baseline_pct": (quantiles(pct) if np.isfinite(pct).all()
                                  else {"p10": None, "p50": None, "p90": None, "mean": None}),
        "cost_components_usd_per_month": {
            "compute": q["compute_cost_usd_per_month"]["p50"],
            "fork_compute": q["fork_compute_cost_usd_per_month"]["p50"],
            "storage": q["storage_cost_usd_per_month"]["p50"],
        },
        "money_usd_per_month": {
            "project_cash": q["project_cash_usd_per_month"],
            "shadow": q["shadow_storage_usd_per_month"],
            "fork_owners_cash": q["fork_owners_cash_usd_per_month"],
        },
        "contributor_wait_minutes": q["fork_wait_minutes"],
        "cleanup_policy": _policy_json(st, name),
        "storage_risk": {
            "is_growth_unbounded": bool((growth["p90"] or 0.0) > 0.0),
            "growth_gib_per_month": growth,
        },
        "sponsor_budget_months": (summarize(s["sponsor_budget_months"])
                                  if "sponsor_budget_months" in s else None),
        "probability_cheapest": paired[name]["probability_cheapest"],
        "expected_loss_usd_per_month": paired[name]["expected_loss_usd_per_month"],
        "is_baseline": name == baseline,
        "notes": list(notes),
    })


def _storage_over_horizon(st: Static, sim: dict[str, dict[str, np.ndarray]],
                          dists: dict[str, Distribution]) -> dict[str, Any]:
    """p10/p50/p90 of the registry series under each strategy's cleanup policy, and the
    same series at every input's p50 under the scenario's what-if policy."""
    sc = st.scenario
    quota = sc.value("storage.quota_gib")
    other = sc.value("storage.other_usage_gib") or 0.0
    what_if_st = Static(st.cal, sc, st.names, st.col, st.policies, st.what_if, None,
                        st.weighs, st.horizon_months, use_what_if=True)
    what_if = simulate(what_if_st, median_params(dists))
    return {
        "months": list(range(st.horizon_months + 1)),
        "quota_gib": None if quota is None else max(quota - other, 0.0),
        "namespace_quota_gib": quota,
        "other_usage_gib": other,
        "accounting": sc.value("storage.accounting"),
        "strategies": {name: _series_quantiles(sim[name]["registry_series"])
                       for name in st.names},
        "cleanup_policy": sc.value("storage.cleanup_policy"),
        "cleanup_policies": {name: _policy_json(st, name) for name in st.names},
        "cleanup_what_if_policy": sc.value("storage.cleanup_what_if"),
        "cleanup_what_if": {
            name: {"p50": [float(x) for x in what_if[name]["registry_series"][0]]}
            for name in st.names
        },
        "_what_if_sim": what_if,
    }


def _runner_up_clears_margin(run: Run, baseline: str, winner: str, runner_up: str
                             ) -> bool:
    """True when neither the winner nor the runner-up is today's strategy and the
    runner-up, too, beats today's by the status-quo margin: the recommendation then
    flips where the winner and the runner-up cross, not back to today's strategy."""
    if baseline in (winner, runner_up):
        return False
    base = run.mean(baseline)
    return base - run.mean(runner_up) >= resolution(base)


def _recommendation(run: Run, what_if: dict[str, Any]
                    ) -> tuple[Recommendation, list[BreakEven], list[BreakEven]]:
    """The winner from expected paired costs, and the break-evens (:mod:`.flips`):
    where expected costs cross, and where the recommendation itself flips: at the
    status-quo margin against today's strategy, or, when the runner-up also clears
    that margin (:func:`_runner_up_clears_margin`), where the winner and the
    runner-up cross (those rows, kind ``recommendation flips``)."""
    st, sim = run.st, run.sim
    sc = st.scenario
    baseline = sc.baseline
    winner, order, is_status_quo_kept, ties, runner_up = choose(sim, st.names, baseline)
    pairs = [(baseline, n) for n in st.names if n != baseline]
    if baseline not in (winner, runner_up) and len(order) > 1:
        pairs.append((winner, runner_up))
    challenger = runner_up if winner == baseline else winner
    rival = _runner_up_clears_margin(run, baseline, winner, runner_up)
    margin_pairs = [(baseline, challenger)] if challenger != baseline and not rival else []
    if winner == baseline and margin_pairs:
        # today's strategy kept: the first challenger to reach the margin takes over,
        # which need not be today's runner-up (it may share today's quota edge)
        margin_pairs += [(baseline, n) for n in order[1:]
                         if n not in (challenger, *ties)]
    inputs = [n for n in break_even_inputs(sc) if n in run.dists]
    rows = break_evens(run, pairs, inputs, [])
    rows += first_flips(break_evens(run, [], inputs, margin_pairs))
    if rival:
        rows += [BreakEven(**{**r, "kind": RECOMMENDATION_FLIPS}) for r in rows
                 if (r["strategy_a"], r["strategy_b"]) == (winner, runner_up)]
    win_total = sim[winner]["total_cost_usd_per_month"]
    base_total = sim[baseline]["total_cost_usd_per_month"]
    paired = sim[runner_up]["total_cost_usd_per_month"] - win_total
    share_cheaper = float(np.mean(paired < 0))
    base_mean = float(np.mean(base_total))
    recommendation: Recommendation = {
        "winner": winner, "runner_up": runner_up,
        "saving_usd_per_month": float(np.mean(paired)),
        "is_status_quo_kept": bool(is_status_quo_kept),
        "saving_vs_baseline_usd_per_month": float(np.mean(base_total - win_total)),
        "share_of_samples_winner_cheaper": 1.0 - share_cheaper,
        "status_quo_margin_usd_per_month": resolution(base_mean),
        "winner_cost_usd_per_month": float(np.mean(win_total)),
        "decided_on": "expected (mean) cost over the paired Monte Carlo samples",
        "weighs": list(st.weighs),
        "ties": ties,
        "cleanup_what_if": cleanup_what_if(sc, what_if, winner),
    }
    return (recommendation, [r for r in rows if r["kind"] == "costs cross"],
            [r for r in rows if r["kind"] != "costs cross"])


def run_model(dataset: Dataset, scenario: Scenario, samples: int = DEFAULT_SAMPLES,
              seed: int | None = None, *, calibration: Calibration | None = None
              ) -> Results:
    """Run the Monte Carlo model; return the JSON-serializable results dict
    (:class:`cachecost.model.result_types.Results`).

    ``seed`` None uses the scenario's seed, so the same inputs give the same numbers.
    ``calibration`` may be passed to skip re-deriving it from the dataset.
    Raises ValueError when ``samples < 1``.
    """
    if samples < 1:
        raise ValueError("samples must be >= 1")
    seed = scenario.seed if seed is None else int(seed)
    cal = calibration or calibrate(dataset, scenario.overrides, source=scenario.path)
    measured_notes: list[str] = []      # measured fork inputs and registry "today"
    scenario = with_measured_inputs(scenario, dataset, measured_notes, cal)
    st = make_static(cal, scenario, build_bank(cal, np.random.default_rng([seed, 2])))
    dists = uncertain_inputs(scenario)
    draws, replicate = draw_inputs(st, dists, samples, seed)
    sim = simulate(st, draws, replicate=replicate)
    paired = paired_decision({n: sim[n]["total_cost_usd_per_month"] for n in st.names})
    summarize = _Summaries()
    strategies = {name: _strategy_summary(st, sim, name, scenario.baseline, paired, summarize)
                  for name in st.names}
    storage_over_horizon = _storage_over_horizon(st, sim, dists)
    what_if = storage_over_horizon.pop("_what_if_sim")
    run = Run(st, dists, draws, replicate, sim)   # break-evens and swings: this very run
    recommendation, break_even, flips = _recommendation(run, what_if)
    thread = thread_results(st, draws, sim, seed,       # issue 13: claims, EVPPI
                            registry_today=registry_today(dataset))
    cal_summary: CalibrationSummary = {
        "months_of_data": cal.months_of_data,
        "images": int(len(cal.images)),
        "measured_container_minutes_per_month": cal.container_minutes_per_month,
        "monthly_minutes_cv": cal.monthly_minutes_cv,
        "monthly_minutes_months": cal.monthly_minutes_months,
        "dedup_method": cal.dedup_method,
        "bootstrap_replicates": st.bank.size if st.bank is not None else 0,
        "notes": list(cal.notes) + measured_notes,
    }
    return {
        "scenario": scenario.name,
        "scenario_title": scenario.title,
        "scenario_description": scenario.description,
        "scenario_sha256": scenario.sha256,
        "baseline": scenario.baseline,
        "thread": scenario.thread,
        "builder": scenario.builder,
        "samples": int(samples),
        "seed": int(seed),
        "horizon_months": int(scenario.horizon_months),
        "is_synthetic_data": bool(dataset.is_synthetic),
        "accounting": scenario.value("storage.accounting"),
        "compute_mode": scenario.value("compute.mode"),
        "money_kinds": {
            "project_cash": "project_cash_usd_per_month: runner time, minutes over a quota, "
                            "storage packs (annual 10 GiB packs sized for the peak)",
            "shadow": "shadow_storage_usd_per_month: registry GiB at the scenario's "
                      "trade-off rate; never charged to a budget",
            "fork_owners_cash": "fork_owners_cash_usd_per_month: minutes over fork "
                                "owners' own quotas",
            "contributor_wait": "fork_wait_minutes: expected slowest container job of a "
                                "fork pipeline (minutes, not priced)",
        },
        "strategies": strategies,
        "billing": billing_classes(scenario.value, scenario.value("compute.mode")),
        "inputs": _inputs_list(scenario, cal),
        "tornado": cast(list[TornadoBar], sort_tornado(tornado(run, scenario.baseline))),
        "break_even": break_even,
        "recommendation_flips": flips,
        "storage_over_horizon": storage_over_horizon,
        "recommendation": recommendation,
        "claims": thread["claims"],
        "value_of_information": thread["value_of_information"],
        "value_of_information_total": thread["value_of_information_total"],
        "calibration": cal_summary,
        "registry_today": registry_today(dataset),
    }
