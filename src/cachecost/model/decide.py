"""The decision: what moves the answer (tornado), break-even values, and the
recommendation from the paired per-sample costs.

* **Winner**: the lowest *expected* (mean) total over the Monte Carlo samples; a
  challenger must beat today's strategy (the baseline) by more than the model's
  resolution, ``max($1, 2 % of the baseline's expected cost)`` a month, otherwise
  the baseline is kept (``is_status_quo_kept``).
* **probability_cheapest** of a strategy: the share of samples in which it is the
  cheapest (a tie shares the sample equally, so the shares sum to 1).
* **expected_loss_usd_per_month**: the mean over samples of its cost minus the
  cheapest strategy's cost in that sample (0 for a strategy cheapest in every sample).
* **Tornado**: each uncertain input set to its p10 and its p90 (a probability input:
  to its two outcomes, 0 and 1) with every other input at its p50; the bars are
  the challenger-minus-baseline cost differences.
* **Break-even**: for a pair of strategies and one input (the others at p50), the
  value where their totals are equal, on a grid from 0 to 100x today's value
  (0 to 1 for a probability) interpolated at the sign change nearest today's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cachecost.model.distributions import Distribution
from cachecost.model.keys import KEYS
from cachecost.model.scenario import Scenario
from cachecost.model.simulate import Static, median_params, simulate
from cachecost.rules import tie_resolution_usd
from cachecost.textfmt import format_usd

#: What each kind of money is, for the recommendation's ``weighs`` sentence.
MONEY_KIND_TEXT = {
    "project_cash": "the project's cash (runner time, minutes over a quota, storage packs)",
    "shadow": "the storage shadow price (a trade-off rate, not a bill)",
    "fork_owners_cash": "fork owners' cash (minutes over their own quotas)",
}


def _is_probability(dotted: str) -> bool:
    return input_unit(dotted) == "probability"


def _swing_ends(name: str, dist: Distribution) -> tuple[float, float]:
    """The tornado's two ends: p10 and p90, or a probability's outcomes 0 and 1."""
    if _is_probability(name):
        return 0.0, 1.0
    return dist.quantile(0.1), dist.quantile(0.9)


def _swung(dists: dict[str, Distribution]) -> list[str]:
    return [n for n, dist in dists.items() if not dist.is_fixed or (
        _is_probability(n) and 0.0 < dist.median < 1.0)]

def _deltas(sim: dict[str, Any], baseline: str, name: str) -> np.ndarray:
    return np.asarray(sim[name]["total_cost_usd_per_month"]
                      - sim[baseline]["total_cost_usd_per_month"])


#: :func:`swing_sim`'s result: the swung inputs, the input rows, the simulation.
Swung = tuple[list[str], dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]


def swing_sim(st: Static, dists: dict[str, Distribution]) -> Swung:
    """Simulate every input at p50 (row 0), then each uncertain input at its two
    :func:`_swing_ends` (rows ``1 + 2j``, ``2 + 2j``), the others at p50; one call serves
    the tornado and the flip sentences."""
    swing = _swung(dists)
    p = median_params(dists, 1 + 2 * len(swing))
    for j, name in enumerate(swing):
        p[name][1 + 2 * j], p[name][2 + 2 * j] = _swing_ends(name, dists[name])
    return swing, p, simulate(st, p, with_horizon=False)


def tornado_bars(st: Static, dists: dict[str, Distribution], baseline: str,
                 swung: Swung | None = None) -> list[dict[str, Any]]:
    """Swing each uncertain input p10 -> p90 (others at p50); cost difference vs baseline."""
    swing, _, sim = swung or swing_sim(st, dists)
    rows: list[dict[str, Any]] = []
    for name in st.names:
        if name == baseline:
            continue
        delta = _deltas(sim, baseline, name)
        for j, inp in enumerate(swing):
            lo, hi = float(delta[1 + 2 * j]), float(delta[2 + 2 * j])
            rows.append({
                "input": inp, "unit": input_unit(inp), "strategy": name,
                "low": _swing_ends(inp, dists[inp])[0], "high": _swing_ends(inp, dists[inp])[1],
                "delta_low_usd_per_month": lo, "delta_high_usd_per_month": hi,
                "delta_at_p50_usd_per_month": float(delta[0]),
                "swing_usd_per_month": abs(hi - lo),
            })
    return sort_tornado(rows)


#: Swings (USD/month) closer than this to the largest of their run are one tie:
#: rounding noise, not a difference (two inputs each moving one $10 pack swing 10.0
#: and 10.000000000000002).
TORNADO_TIE_USD = 1e-9


def sort_tornado(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tornado rows, largest ``swing_usd_per_month`` first; a run of swings within
    :data:`TORNADO_TIE_USD` of its largest is a tie and goes by strategy, then input,
    so the order never rests on rounding noise (a bucket of rounded values would: two
    swings 1e-15 apart can round apart)."""
    by_swing = sorted(rows, key=lambda r: -r["swing_usd_per_month"])
    out: list[dict[str, Any]] = []
    tie: list[dict[str, Any]] = []
    for row in by_swing:
        if tie and tie[0]["swing_usd_per_month"] - row["swing_usd_per_month"] > TORNADO_TIE_USD:
            out += sorted(tie, key=lambda r: (r["strategy"], r["input"]))
            tie = []
        tie.append(row)
    return out + sorted(tie, key=lambda r: (r["strategy"], r["input"]))


def input_unit(dotted: str) -> str:
    """The unit of scenario input ``"section.key"`` (``"USD/year"``, ``"x"``, ``"share"``)."""
    section, key = dotted.split(".", 1)
    return KEYS[section][key].unit


def break_even_inputs(scenario: Scenario) -> list[str]:
    """The inputs whose break-evens are solved: the prices this scenario charges, then the
    workload factors (which depend on the compute mode and billing)."""
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
    if "kaniko-cache-repo" in scenario.strategies:
        names.append("assumptions.kaniko_layer_digest_shared_probability")
    if scenario.value("storage.shadow_usd_per_10gib_year") is not None:
        names.append("storage.shadow_usd_per_10gib_year")
    return names


def break_even_grid(st: Static, dists: dict[str, Distribution], name: str
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The values of input ``name`` that :func:`solve_break_even` searches (others at
    p50) and every strategy's ``total_cost_usd_per_month`` on them, shapes (G,).

    One vectorized :func:`simulate` call; it serves every pair of strategies.
    """
    current = dists[name].median
    if _is_probability(name):
        grid = np.linspace(0.0, 1.0, 801)
    else:
        top = 100.0 * current if current > 0 else 100.0
        grid = np.unique(np.concatenate([np.linspace(0.0, top, 801),
                                         current * np.geomspace(1e-3, 100.0, 400)]))
    p = median_params(dists, len(grid))
    p[name] = grid
    sim = simulate(st, p, with_horizon=False)
    return grid, {n: sim[n]["total_cost_usd_per_month"] for n in st.names}


def solve_break_even(st: Static, dists: dict[str, Distribution], a: str, b: str,
                     name: str,
                     grid_totals: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
                     ) -> float | None:
    """Value of input ``name`` (others at p50) where strategies a and b cost the same.

    Searches 0 .. 100x the current value on a fine grid (in one vectorized call),
    interpolating linearly at the sign change nearest the current value; None
    when they never cross in that range. ``grid_totals``: :func:`break_even_grid`'s
    result for ``name``, when the caller solves several pairs on it.
    """
    current = dists[name].median
    grid, totals = grid_totals or break_even_grid(st, dists, name)
    diff = totals[a] - totals[b]
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


def _break_even_sentences(winner: str, runner_up: str,
                          break_even: Sequence[Mapping[str, Any]]) -> list[str]:
    """Break-evens against the runner-up, then those within 5x of today for the others."""
    mine: list[tuple[float, str]] = []
    near: list[tuple[float, str]] = []
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
        (mine if other == runner_up else near).append((abs(math.log(max(ratio, 1e-12))),
                                                       sentence))
    return [s for _, s in sorted(mine)] + [s for _, s in sorted(near)]


def _swing_sentences(swung: Swung, winner: str, runner_up: str, needed_usd: float
                     ) -> list[str]:
    """Single inputs at their p10 or p90 (a probability: 0 or 1) that reverse the order."""
    swing, p, sim = swung
    diff = (sim[runner_up]["total_cost_usd_per_month"]
            - sim[winner]["total_cost_usd_per_month"])
    out = []
    for j, name in enumerate(swing):
        ends = (("0", "1") if _is_probability(name) else ("p10", "p90"))
        for q, idx in ((ends[0], 1 + 2 * j), (ends[1], 2 + 2 * j)):
            if diff[idx] < -needed_usd:
                what = (f"If {name} were {q}" if _is_probability(name)
                        else f"At the {q} of {name} ({_fmt(p[name][idx])} {input_unit(name)})")
                out.append(f"{what}, {runner_up} would be cheaper by "
                           f"{format_usd(-diff[idx])}/month.")
    return out


def flip_sentences(swung: Swung, winner: str, runner_up: str,
                   break_even: Sequence[Mapping[str, Any]],
                   share_runner_cheaper: float, needed_usd: float = 0.0) -> list[str]:
    """Human sentences saying what would make the runner-up win (by more than
    ``needed_usd`` a month, the model's resolution when today's strategy was kept)."""
    out = (_break_even_sentences(winner, runner_up, break_even)
           + _swing_sentences(swung, winner, runner_up, needed_usd))
    if not out:
        out.append(f"No single input within its p10-p90 range makes {runner_up} cheaper "
                   f"than {winner}{' by more than that' if needed_usd else ''}.")
    out.append(f"{runner_up} is cheaper than {winner} in {share_runner_cheaper:.0%} of the "
               f"Monte Carlo samples.")
    return out


def cleanup_sentence(scenario: Scenario, what_if: dict[str, Any], winner: str) -> list[str]:
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


def resolution(cost: float) -> float:
    """Smallest monthly difference the model reports as a difference (:mod:`cachecost.rules`)."""
    return tie_resolution_usd(cost)


def tie_note(winner: str, runner_up: str, saving: float, cost: float,
              is_status_quo_kept: bool) -> list[str]:
    """A warning sentence when the winner's margin is too thin to act on."""
    if is_status_quo_kept:
        return [f"{runner_up} is cheaper by only {format_usd(-saving)}/month, within the "
                f"model's resolution ({format_usd(resolution(cost))}): {winner}, today's "
                "strategy, is kept."]
    if saving >= resolution(cost):
        return []
    return [f"The margin of {winner} over {runner_up} ({format_usd(saving)}/month) is within the "
            f"model's resolution: treat them as a tie and decide on other grounds."]


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


def weighs_sentence(weighs: list[str] | tuple[str, ...]) -> str:
    """Say which kinds of money the recommendation adds up (and that waiting is not)."""
    kinds = "; ".join(MONEY_KIND_TEXT[w] for w in weighs)
    left = [k for k in MONEY_KIND_TEXT if k not in weighs]
    rest = (f" It leaves out {'; '.join(MONEY_KIND_TEXT[k] for k in left)}." if left else "")
    return (f"The recommendation weighs {kinds}.{rest} Contributors' waiting time is shown "
            "in minutes and not priced.")


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
