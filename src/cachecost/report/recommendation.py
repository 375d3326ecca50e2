"""The recommendation and what would flip it, in words, from the model's numbers.

One wording for every place that states the decision: ``cachecost model``'s
text, ``summary.txt``, ``summary.md`` and the decision page. Inputs are named as
a reader knows them (:func:`cachecost.report.names.reader_name`).

    format_recommendation(results)          # one paragraph
    flips, context = flip_sentences(results)

``results`` is :func:`cachecost.model.results.run_model`'s dict.
"""

from __future__ import annotations

from typing import Any

from cachecost.report.flips import PLAUSIBLE_FACTOR as PLAUSIBLE_FACTOR  # re-exported
from cachecost.report.flips import flip_sentences
from cachecost.report.sources import resolve_citation
from cachecost.report.tables import expected_delta_pct, order_strategies, read_quantile, tie_usd
from cachecost.textfmt import (
    format_share,
    format_signed_usd,
    format_significant,
    format_usd,
)

# --------------------------------------------------------------------------- prose


def _format_share_less(delta_pct: float | None) -> str:
    """``-25.0 -> '25% less'``, ``10.0 -> '10% more'``."""
    if delta_pct is None:
        return "change unknown"
    return f"{abs(delta_pct):.0f}% {'less' if delta_pct < 0 else 'more'}"


def join_sentences(parts: list[str]) -> str:
    """The non-empty sentences of ``parts`` joined by one space."""
    return " ".join(p.strip() for p in parts if p and p.strip())


def _same_to_the_cent(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two strategies' total-cost quantiles agree to the cent (a tie however rounded)."""
    qa, qb = a["total_cost_usd_per_month"], b["total_cost_usd_per_month"]
    pairs = [(read_quantile(qa, k), read_quantile(qb, k)) for k in ("p10", "p50", "p90")]
    return all(x is not None and y is not None and round(x, 2) == round(y, 2)
               for x, y in pairs)


def _keep_baseline_sentences(results: dict[str, Any], winner: str, runner_up: str | None) -> list[str]:
    """The opening when today's strategy stays: its cost and the runner-up's margin.

    A strategy costing what the winner costs (``recommendation.ties``: the same total in
    every simulation, or the same quantiles to the cent) is said to tie with it, never
    to be cheaper; the only other strategy named is ``recommendation.runner_up``."""
    strategies = results["strategies"]
    ties = set((results.get("recommendation") or {}).get("ties") or [])
    tied = [n for n in order_strategies(results) if n not in (winner, runner_up)
            and (n in ties or _same_to_the_cent(strategies[n], strategies[winner]))]
    mean = {n: read_quantile(s["total_cost_usd_per_month"], "mean")
            for n, s in strategies.items()}
    win = mean[winner]
    cost = format_usd(win)
    tie_text = (f", tied with {' and '.join(tied)} (the same cost to the cent)"
                if tied else "")
    lower = {n: win - m for n, m in mean.items() if n != winner and n not in tied
             and m is not None and win is not None and m < win}
    if not lower:
        parts = [f"Keep {winner}, today's strategy: at an expected (mean) {cost} a month it "
                 f"is the cheapest of the {len(strategies)} strategies modelled{tie_text}."]
    elif runner_up in lower:
        parts = [f"Keep {winner}, today's strategy, at an expected (mean) {cost} a month"
                 f"{tie_text} ({runner_up}'s expected cost is "
                 f"{format_usd(lower[runner_up])} lower, "
                 f"not enough for the model to prefer it)."]
    else:
        parts = [f"Keep {winner}, today's strategy, at an expected (mean) {cost} a month"
                 f"{tie_text}."]
    if runner_up not in strategies:
        return parts
    d = strategies[runner_up]["delta_vs_baseline_usd_per_month"]
    lo, mid, hi = read_quantile(d, "p10"), read_quantile(d, "mean"), read_quantile(d, "p90")
    if all(v is not None and abs(v) < tie_usd(results) for v in (lo, mid, hi)):
        return parts + [f"The runner-up, {runner_up}, costs the same to within "
                        f"{format_usd(tie_usd(results))} a month: on cost alone the two tie."]
    parts.append(f"The runner-up, {runner_up}, would cost an expected (mean) "
                 f"{format_usd(mid)} a month more (80% interval {format_signed_usd(lo)} to "
                 f"{format_signed_usd(hi)}).")
    if (lo or 0) < 0:
        parts.append("Part of that interval is a saving, so the lead is not certain.")
    return parts


def _switch_sentences(results: dict[str, Any], winner: str) -> list[str]:
    """The opening when a challenger wins: the saving against today's strategy."""
    w = results["strategies"][winner]
    d = w["delta_vs_baseline_usd_per_month"]
    # a saving is minus the delta, so its p10 comes from the delta's p90
    # the expected (mean) saving: the figure the decision is made on, the index's too
    saving = [-v if v is not None else None for v in
              (read_quantile(d, "p90"), read_quantile(d, "mean"), read_quantile(d, "p10"))]
    share = _format_share_less(expected_delta_pct(results, winner))
    parts = [f"Switch from {results['baseline']} to {winner}: it saves "
             f"{format_usd(saving[1])} a month on average ({share}) against today's strategy, "
             f"{format_usd(saving[0])} to {format_usd(saving[2])} in 80% of the simulations."]
    if saving[0] is not None and saving[0] < 0:
        parts.append("That interval includes a loss, so the saving is not certain.")
    return parts


def _consequence_sentences(results: dict[str, Any], winner: str,
                           refs: dict[str, int] | None = None) -> list[str]:
    """The winner's registry quota, fork and caveat sentences."""
    w = results["strategies"][winner]
    parts = []
    if w.get("months_to_quota") is not None:
        months = read_quantile(w.get("months_to_quota"))
        parts.append(f"With {winner} the registry stays under the quota." if months is None
                     else f"With {winner} the registry reaches the quota in a median "
                          f"{months:.0f} months.")
    fork_min = read_quantile(w.get("fork_compute_minutes_per_month"))
    fork_share = read_quantile(w.get("fork_quota_share"))
    if fork_min is not None and fork_share is not None:
        parts.append(f"Fork pipelines would spend a median {format_significant(fork_min, 2)} "
                     f"container-build minutes a month in all; a fork owner would use "
                     f"{format_share(fork_share)} of a free quota.")
    for note in w.get("notes") or []:
        text, ids = resolve_citation(str(note))
        marks = "".join(f" [{refs[i]}]" for i in ids if refs and i in refs)
        parts.append(f"Caveat: {text}{marks}")
    return parts


def weighs_phrase(results: dict[str, Any]) -> str:
    """What the totals add up, in words: ``"the project's cash plus ... ."``."""
    weighs = (results.get("recommendation") or {}).get("weighs") or []
    words = {"project_cash": "the project's cash",
             "shadow": "a shadow price on registry storage (a trade-off rate, not a bill)",
             "fork_owners_cash": "fork owners' cash"}
    named = [str(words.get(w, w)) for w in weighs]
    if not named:
        return "as the scenario prices it."
    return "adding up " + (", ".join(named[:-1]) + " and " + named[-1]
                           if len(named) > 1 else named[0]) + "."


def _cash_sentence(results: dict[str, Any], winner: str) -> list[str]:
    """The project's cash alone, winner against baseline, when a shadow price is weighed."""
    weighs = (results.get("recommendation") or {}).get("weighs") or []
    base = results["baseline"]
    strategies = results["strategies"]
    if "shadow" not in weighs or winner == base:
        return []
    cash_w = read_quantile(strategies[winner].get("project_cash_usd_per_month"))
    cash_b = read_quantile(strategies[base].get("project_cash_usd_per_month"))
    shadow_w = read_quantile(strategies[winner].get("shadow_storage_usd_per_month"))
    shadow_b = read_quantile(strategies[base].get("shadow_storage_usd_per_month"))
    if None in (cash_w, cash_b, shadow_w, shadow_b):
        return []
    if format_usd(shadow_w) == format_usd(shadow_b) == format_usd(0.0):
        return []           # no shadow money either side: the totals are the cash
    return [f"In cash alone the project would pay {format_usd(cash_w)} a month with "
            f"{winner} against {format_usd(cash_b)} with {base}; the rest of the "
            f"comparison is the shadow price on registry storage "
            f"({format_usd(shadow_w)} against {format_usd(shadow_b)} a month), a trade-off "
            "rate GitLab does not bill today."]


def opening_sentences(results: dict[str, Any]) -> list[str]:
    """The recommendation itself: keep or switch, and what it saves against today's
    strategy (expected (mean) value and 80% interval of the monthly difference), or, when today's strategy
    stays, the runner-up's margin."""
    rec = results["recommendation"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    if winner == results["baseline"]:
        return _keep_baseline_sentences(results, winner, runner_up)
    return _switch_sentences(results, winner)


def runner_up_sentences(results: dict[str, Any]) -> list[str]:
    """After a switch: how far behind the next best strategy is on expected cost."""
    rec = results["recommendation"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    if winner == results["baseline"] or not runner_up:
        return []
    behind = format_usd(rec.get("saving_usd_per_month"))
    return [f"Next best is {runner_up}, {behind} a month behind on expected (mean) cost."]


def detail_sentences(results: dict[str, Any], refs: dict[str, int] | None = None) -> list[str]:
    """After the opening: the runner-up (after a switch), the project's cash alone (when a shadow price is weighed), the
    winner's quota and fork consequences and its caveats (``refs``: source id -> ``[n]``)."""
    winner = results["recommendation"]["winner"]
    return (runner_up_sentences(results) + _cash_sentence(results, winner)
            + _consequence_sentences(results, winner, refs))


def flip_paragraph(results: dict[str, Any]) -> str:
    """``"What would flip it: ..."`` (:func:`flip_sentences`' first part), or the sentence
    saying nothing within the modelled ranges does."""
    flips, _ = flip_sentences(results)
    if flips:
        return "What would flip it: " + join_sentences(flips)
    return "Nothing within the ranges modelled flips it."


def format_recommendation(results: dict[str, Any], refs: dict[str, int] | None = None) -> str:
    """The recommendation paragraph, generated from the numbers.

    Names the winner against today's strategy (the baseline) with the expected
    (mean) value and 80% interval of the monthly difference, the runner-up, the winner's
    registry and fork consequences and caveats, and what would flip it
    (:func:`flip_sentences`, from the break-evens and the tornado, inputs by
    the names a reader knows). One paragraph, unwrapped; ``refs`` (source id ->
    number) marks the caveats' sources ``[n]``.
    """
    _, context = flip_sentences(results)
    return join_sentences(opening_sentences(results) + detail_sentences(results, refs)
                          + [flip_paragraph(results)] + context)
