"""The recommendation and what would flip it, in words, from the model's numbers.

One wording for every place that states the decision: ``cachecost model``'s
text, ``summary.txt``, ``summary.md`` and the decision page. Inputs are named as
a reader knows them (:func:`cachecost.report.names.reader_name`).

    format_recommendation(results)          # one paragraph
    flips, context = flip_sentences(results)

``results`` is :func:`cachecost.model.results.run_model`'s dict.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cachecost.report.names import format_amount, reader_name
from cachecost.report.sources import resolve_citation
from cachecost.report.tables import order_strategies, read_quantile, registry_accounting, tie_usd
from cachecost.textfmt import (
    finite,
    format_share,
    format_signed_usd,
    format_significant,
    format_usd,
)

#: How many break-even sentences the recommendation quotes.
MAX_FLIPS = 3
#: How many "at the low/high end of its range" sentences it quotes.
MAX_SWINGS = 2
#: Break-evens farther than this factor from today's value read as "robust to".
PLAUSIBLE_FACTOR = 3.0


# --------------------------------------------------------------------------- prose


def _format_share_less(delta_pct: float | None) -> str:
    """``-25.0 -> '25% less'``, ``10.0 -> '10% more'``."""
    if delta_pct is None:
        return "change unknown"
    return f"{abs(delta_pct):.0f}% {'less' if delta_pct < 0 else 'more'}"


def join_sentences(parts: list[str]) -> str:
    """The non-empty sentences of ``parts`` joined by one space."""
    return " ".join(p.strip() for p in parts if p and p.strip())


def _keep_baseline_sentences(results: dict[str, Any], winner: str, runner_up: str | None) -> list[str]:
    """The opening when today's strategy stays: its cost and the runner-up's margin."""
    strategies = results["strategies"]
    cost = format_usd(read_quantile(strategies[winner]["total_cost_usd_per_month"]))
    cheapest = order_strategies({**results, "baseline": ""})[0]
    if cheapest == winner:
        parts = [f"Keep {winner}, today's strategy: at a median {cost} a month it "
                 f"is the cheapest of the {len(strategies)} strategies modelled."]
    else:
        other = format_usd(read_quantile(strategies[cheapest]["total_cost_usd_per_month"]))
        parts = [f"Keep {winner}, today's strategy, at a median {cost} a month "
                 f"({cheapest} has the lowest median, {other}, but not by enough "
                 f"for the model to prefer it)."]
    if runner_up not in strategies:
        return parts
    d = strategies[runner_up]["delta_vs_baseline_usd_per_month"]
    lo, mid, hi = read_quantile(d, "p10"), read_quantile(d), read_quantile(d, "p90")
    if all(v is not None and abs(v) < tie_usd(results) for v in (lo, mid, hi)):
        return parts + [f"The runner-up, {runner_up}, costs the same to within "
                        f"{format_usd(tie_usd(results))} a month: on cost alone the two tie."]
    parts.append(f"The runner-up, {runner_up}, would cost a median {format_usd(mid)} a "
                 f"month more (80% interval {format_signed_usd(lo)} to "
                 f"{format_signed_usd(hi)}).")
    if (lo or 0) < 0:
        parts.append("Part of that interval is a saving, so the lead is not certain.")
    return parts


def _switch_sentences(results: dict[str, Any], winner: str) -> list[str]:
    """The opening when a challenger wins: the saving against today's strategy."""
    w = results["strategies"][winner]
    d = w["delta_vs_baseline_usd_per_month"]
    # a saving is minus the delta, so its p10 comes from the delta's p90
    saving = [-v if v is not None else None
              for v in (read_quantile(d, "p90"), read_quantile(d), read_quantile(d, "p10"))]
    share = _format_share_less(read_quantile(w["delta_vs_baseline_pct"]))
    parts = [f"Switch from {results['baseline']} to {winner}: it saves a median "
             f"{format_usd(saving[1])} a month ({share}) against today's strategy, "
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
    strategy (median and 80% interval of the monthly difference), or, when today's strategy
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

    Names the winner against today's strategy (the baseline) with the median
    and 80% interval of the monthly difference, the runner-up, the winner's
    registry and fork consequences and caveats, and what would flip it
    (:func:`flip_sentences`, from the break-evens and the tornado, inputs by
    the names a reader knows). One paragraph, unwrapped; ``refs`` (source id ->
    number) marks the caveats' sources ``[n]``.
    """
    _, context = flip_sentences(results)
    return join_sentences(opening_sentences(results) + detail_sentences(results, refs)
                          + [flip_paragraph(results)] + context)


# --------------------------------------------------------------------------- what flips it


def _amount(value: float, unit: str | None, *, digits: int = 2) -> str:
    """An input value for a flip sentence; factors read against the measured rate."""
    text = format_amount(value, unit, digits)
    return f"{text} the measured rate" if unit == "x" and digits < 3 else text



def _swing(bar: dict[str, Any]) -> float:
    """A tornado bar's swing in USD/month (older results lack the key: |high - low|)."""
    swing = finite(bar.get("swing_usd_per_month"))
    if swing is None:
        low, high = finite(bar.get("delta_low_usd_per_month")), \
            finite(bar.get("delta_high_usd_per_month"))
        swing = abs(high - low) if low is not None and high is not None else 0.0
    return swing


def break_even_sentences(results: dict[str, Any], winner: str) -> tuple[list[str], list[str]]:
    """Sentences for the winner's break-evens within :data:`PLAUSIBLE_FACTOR` of today's
    value (one per other strategy, its nearest conditions first, at most
    :data:`MAX_FLIPS`), and the reader names of the inputs with none that near.

    A break-even 45 times today's value says the choice does not depend on that
    input; it is summed up as "robust to ..." instead of quoted.
    """
    near: dict[str, list[tuple[float, str]]] = {}
    inputs: list[str] = []
    near_inputs: set[str] = set()
    swings = {(bar.get("strategy"), bar.get("input")): _swing(bar)
              for bar in results.get("tornado") or []}
    for row in results.get("break_even") or []:
        a, b = row.get("strategy_a"), row.get("strategy_b")
        if winner not in (a, b) or a == b:
            continue
        name = str(row.get("input"))
        # "robust to" only an input that moves this pair's costs at all (the tornado's
        # swing against the baseline, which has no bar of its own)
        if name not in inputs and any(swings.get((s, name), 0.0) > tie_usd(results)
                                      for s in (a, b)):
            inputs.append(name)
        value, current = finite(row.get("value")), finite(row.get("current"))
        if value is None or current is None or value <= 0 or current <= 0:
            continue
        ratio = value / current
        if not 1 / PLAUSIBLE_FACTOR <= ratio <= PLAUSIBLE_FACTOR:
            continue
        near_inputs.add(name)
        unit = row.get("unit")
        moved = "rose to" if value > current else "fell to"
        digits = 2  # as few figures as tell the break-even from today's value
        while digits < 4 and format_amount(value, unit, digits) == \
                format_amount(current, unit, digits):
            digits += 1
        now = _amount(current, unit, digits=max(digits, 3 if unit == "x" else 4))
        near.setdefault(str(b if a == winner else a), []).append((
            abs(math.log(ratio)), f"if {reader_name(name)} {moved} "
                                  f"{_amount(value, unit, digits=digits)} (now {now})"))
    sentences = []
    for other, conditions in sorted(near.items(), key=lambda kv: min(c[0] for c in kv[1])):
        texts = [text for _, text in sorted(conditions)[:MAX_FLIPS]]
        joined = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
        sentences.append(f"{other} would cost the same as {winner} {joined}.")
    return sentences, [reader_name(n) for n in inputs if n not in near_inputs]


def swing_sentences(results: dict[str, Any], winner: str) -> list[str]:
    """Inputs whose p10 or p90 alone (tornado) reverse the winner's lead over the baseline
    or over a challenger; at most :data:`MAX_SWINGS`, largest reversal first."""
    base = results["baseline"]
    found: list[tuple[float, str]] = []
    for bar in results.get("tornado") or []:
        strategy, name, unit = bar.get("strategy"), reader_name(str(bar.get("input"))), \
            bar.get("unit")
        for end, key, at in (("low", "delta_low_usd_per_month", "low"),
                             ("high", "delta_high_usd_per_month", "high")):
            delta, value = finite(bar.get(key)), finite(bar.get(at))
            if delta is None or value is None:
                continue
            where = f"With {name} at the {end} end of its range ({format_amount(value, unit)})"
            if winner == base and strategy != winner and delta < -tie_usd(results):
                found.append((-delta, f"{where}, {strategy} would be {format_usd(-delta)} a "
                                      f"month cheaper than {winner}."))
            elif winner != base and strategy == winner and delta > tie_usd(results):
                found.append((delta, f"{where}, {winner} would cost {format_usd(delta)} a "
                                     f"month more than {base}, today's strategy."))
    found.sort(key=lambda pair: -pair[0])
    return [text for _, text in found[:MAX_SWINGS]]


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _cleanup_sentence(rec: dict[str, Any]) -> list[str]:
    """The model's what-if cleanup sentence, in words (``keep_n 5`` -> ``keep 5 tags``)."""
    for text in rec.get("flip") or []:
        if isinstance(text, str) and text.startswith("With the what-if cleanup policy"):
            text = re.sub(r"keep_n (\d+)", r"keep the newest \1 tags", text)
            text = re.sub(r"older_than_days (\d+)", r"delete tags older than \1 days", text)
            return [text.replace("(every input at p50)", "(every input at its median)")]
    return []


def flip_sentences(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(what would flip the recommendation, the context after it): break-evens within
    reach, then single inputs at p10/p90 that reverse it; after them how often the
    winner is cheaper, the inputs it is robust to, the cleanup what-if and ties."""
    rec = results["recommendation"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    near, robust = break_even_sentences(results, winner)
    flips = near[:MAX_FLIPS] + swing_sentences(results, winner)
    context = []
    share = finite(rec.get("share_of_samples_winner_cheaper"))
    margin = finite(rec.get("saving_usd_per_month"))
    if runner_up and runner_up != winner and share is not None and \
            (margin is None or abs(margin) >= 2 * tie_usd(results)):
        context.append(f"{winner} is cheaper than {runner_up} in {format_share(share)} of the "
                       f"simulations.")
    if robust:
        context.append(f"The choice is robust to {_join_names(robust)}: no break-even lies "
                       f"between a third of and {PLAUSIBLE_FACTOR:g} times today's value.")
    context += _cleanup_sentence(rec)
    context += [f"{t} costs the same as {winner} under {registry_accounting(results)} "
                f"accounting; the table shows where they differ." for t in rec.get("ties") or []]
    return flips, context
