"""The decision: the recommendation from the paired per-sample costs, and the order
of the tornado's rows (the break-evens and swings themselves: :mod:`.flips`).

* **Winner**: the lowest *expected* (mean) total over the Monte Carlo samples; a
  challenger must beat today's strategy (the baseline) by more than the model's
  resolution, ``max($1, 2 % of the baseline's expected cost)`` a month, otherwise
  the baseline is kept (``is_status_quo_kept``).
* **probability_cheapest** of a strategy: the share of samples in which it is the
  cheapest (a tie shares the sample equally, so the shares sum to 1).
* **expected_loss_usd_per_month**: the mean over samples of its cost minus the
  cheapest strategy's cost in that sample (0 for a strategy cheapest in every sample).

Numbers only: the report words them (:mod:`cachecost.report.flips`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, TypeVar

import numpy as np

from cachecost.model.scenario import Scenario
from cachecost.rules import tie_resolution_usd

Row = TypeVar("Row", bound=Mapping[str, Any])

#: Swings (USD/month) closer than this to the largest of their run are one tie:
#: rounding noise, not a difference (two inputs each moving one $10 pack swing 10.0
#: and 10.000000000000002).
TORNADO_TIE_USD = 1e-9


def sort_tornado(rows: list[Row]) -> list[Row]:
    """Tornado rows, largest ``swing_usd_per_month`` first; a run of swings within
    :data:`TORNADO_TIE_USD` of its largest is a tie and goes by strategy, then input,
    so the order never rests on rounding noise (a bucket of rounded values would: two
    swings 1e-15 apart can round apart)."""
    by_swing = sorted(rows, key=lambda r: -r["swing_usd_per_month"])
    out: list[Row] = []
    tie: list[Row] = []
    for row in by_swing:
        if tie and tie[0]["swing_usd_per_month"] - row["swing_usd_per_month"] > TORNADO_TIE_USD:
            out += sorted(tie, key=lambda r: (r["strategy"], r["input"]))
            tie = []
        tie.append(row)
    return out + sorted(tie, key=lambda r: (r["strategy"], r["input"]))


def break_even_inputs(scenario: Scenario) -> list[str]:
    """The inputs whose break-evens the recommendation states: the prices the
    scenario charges (storage packs, runner time or hosted minutes, the shadow rate),
    the workload factors (on GitLab-hosted runners the month-to-month spread of the
    minutes too), fork pipelines and kaniko's digest sharing."""
    names = []
    if scenario.value("storage.billed_above_gib") is not None:
        names.append("storage.usd_per_10gib_year")
    if scenario.value("compute.mode") == "gitlab-hosted":
        names += ["compute.usd_per_1000_minutes", "workload.monthly_minutes_cv"]
    elif scenario.value("compute.usd_per_runner_hour") is not None:
        names.append("compute.usd_per_runner_hour")
    else:
        names.append("compute.node_cost_usd_per_year")
    names += ["workload.image_changes_factor", "workload.upstream_pipelines_factor",
              "forks.pipelines_per_month"]
    if "kaniko-cache-repo" in scenario.strategies:
        names.append("assumptions.kaniko_layer_digest_shared_probability")
    if scenario.value("storage.shadow_usd_per_10gib_year") is not None:
        names.append("storage.shadow_usd_per_10gib_year")
    return names


def resolution(cost: float) -> float:
    """Smallest monthly difference the model reports as a difference (:mod:`cachecost.rules`)."""
    return tie_resolution_usd(cost)


def paired_decision(totals: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per strategy: ``probability_cheapest`` and ``expected_loss_usd_per_month`` from
    the paired per-sample totals (strategies x samples).

    Example: totals a = [1, 3], b = [2, 2]: a is cheapest in sample 1, b in sample 2,
    so each has probability 0.5; a's expected loss is (0 + 1)/2 = 0.5, b's (1 + 0)/2.
    A tie shares its sample: a = b = [1] gives each 0.5.
    """
    names = list(totals)
    matrix = np.vstack([np.asarray(totals[n], dtype=float) for n in names])
    best = matrix.min(axis=0)
    is_min = matrix <= best + 1e-9 * (1.0 + np.abs(best))
    share = is_min / is_min.sum(axis=0)
    loss = (matrix - best).mean(axis=1)
    return {n: {"probability_cheapest": float(share[i].mean()),
                "expected_loss_usd_per_month": float(loss[i])}
            for i, n in enumerate(names)}


def choose(sim: dict[str, dict[str, np.ndarray]], names: tuple[str, ...], baseline: str
           ) -> tuple[str, list[str], bool, list[str], str]:
    """Winner by expected cost with the status-quo margin; returns (winner, order,
    is_status_quo_kept, ties, runner_up)."""
    mean = {n: float(np.mean(sim[n]["total_cost_usd_per_month"])) for n in names}
    order = sorted(names, key=lambda n: (mean[n], n != baseline, n))
    winner = order[0]
    margin = mean[baseline] - mean[winner]
    is_status_quo_kept = winner != baseline and margin < resolution(mean[baseline])
    if is_status_quo_kept:       # a challenger must beat today's strategy by a visible margin
        order.remove(baseline)
        order.insert(0, baseline)
        winner = baseline
    win_total = sim[winner]["total_cost_usd_per_month"]
    ties = [n for n in order[1:] if np.allclose(sim[n]["total_cost_usd_per_month"], win_total,
                                                rtol=1e-9, atol=1e-9)]
    rest = [n for n in order[1:] if n not in ties]
    runner_up = rest[0] if rest else (ties[0] if ties else winner)
    return winner, order, is_status_quo_kept, ties, runner_up


class CleanupWhatIf(TypedDict):
    """The scenario's what-if cleanup policy when it would change the winner (every
    input at p50): the ``policy`` (``keep_n``, ``older_than_days``), the ``strategy``
    cheapest under it and both totals (USD/month) under it."""

    policy: dict[str, Any]
    strategy: str
    cost_usd_per_month: float
    winner: str
    winner_cost_usd_per_month: float


def cleanup_what_if(scenario: Scenario, what_if: Mapping[str, Mapping[str, np.ndarray]],
                    winner: str) -> CleanupWhatIf | None:
    """The what-if policy's cheapest strategy when it is not ``winner`` (else None);
    ``what_if``: every strategy simulated at p50 under the what-if policy."""
    policy = scenario.value("storage.cleanup_what_if")
    if policy is None or policy == scenario.value("storage.cleanup_policy"):
        return None
    totals = {n: float(m["total_cost_usd_per_month"][0]) for n, m in what_if.items()}
    best = min(totals, key=lambda n: (totals[n], n != winner))
    if best == winner:
        return None
    return CleanupWhatIf(policy={k: v for k, v in policy.items() if v is not None},
                         strategy=best, cost_usd_per_month=totals[best], winner=winner,
                         winner_cost_usd_per_month=totals[winner])
