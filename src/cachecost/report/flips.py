"""What would flip the recommendation, in words: one renderer for ``cachecost model``,
``summary.txt``, ``summary.md`` and the pages.

    flips, context = flip_sentences(results)    # ["dind-inline-cache would cost ..."], [...]
    tie_note(results)                           # [] or one sentence on a thin margin
    weighs_sentence(results["recommendation"]["weighs"])

Every number comes from the model's typed results (:mod:`cachecost.model.flips`):
``break_even`` rows (kind ``costs cross``: where two strategies' expected costs
cross), ``recommendation_flips`` rows (where the recommendation itself changes at
the status-quo margin) and the ``tornado``'s expected differences. A difference
below the project's tie rule (:func:`tie_usd`, :func:`cachecost.rules.tie_resolution_usd`)
is never stated as a flip.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from cachecost.report.names import format_amount, reader_name
from cachecost.report.tables import registry_accounting as registry_accounting
from cachecost.report.tables import tie_usd
from cachecost.rules import tie_resolution_usd as tie_resolution_usd
from cachecost.textfmt import finite, format_share, format_usd

#: How many break-even sentences the recommendation quotes.
MAX_FLIPS = 3
#: How many "at the low/high end of its range" sentences it quotes.
MAX_SWINGS = 2
#: Break-evens farther than this factor from today's value read as "robust to".
PLAUSIBLE_FACTOR = 3.0

#: What each kind of money is, for the :func:`weighs_sentence`.
MONEY_KIND_TEXT = {
    "project_cash": "the project's cash (runner time, minutes over a quota, storage packs)",
    "shadow": "the storage shadow price (a trade-off rate, not a bill)",
    "fork_owners_cash": "fork owners' cash (minutes over their own quotas)",
}


def weighs_sentence(weighs: Iterable[str]) -> str:
    """Say which kinds of money the recommendation adds up (and that waiting is not)."""
    weighs = list(weighs)
    kinds = "; ".join(MONEY_KIND_TEXT[w] for w in weighs if w in MONEY_KIND_TEXT)
    left = [k for k in MONEY_KIND_TEXT if k not in weighs]
    rest = (f" It leaves out {'; '.join(MONEY_KIND_TEXT[k] for k in left)}." if left else "")
    return (f"The recommendation weighs {kinds}.{rest} Contributors' waiting time is shown "
            "in minutes and not priced.")


def tie_note(results: dict[str, Any]) -> list[str]:
    """A sentence when the winner's margin is too thin to act on: today's strategy
    kept, or a challenger ahead by less than the tie rule."""
    rec = results.get("recommendation") or {}
    winner, runner_up = rec.get("winner"), rec.get("runner_up")
    saving = finite(rec.get("saving_usd_per_month"))
    if not winner or not runner_up or runner_up == winner or saving is None:
        return []
    if rec.get("is_status_quo_kept"):
        return [f"{runner_up} is cheaper by only {format_usd(-saving)}/month, within the "
                f"model's resolution ({format_usd(tie_usd(results))}): {winner}, today's "
                "strategy, is kept."]
    if saving >= tie_usd(results):
        return []
    return [f"The margin of {winner} over {runner_up} ({format_usd(saving)}/month) is within "
            "the model's resolution: treat them as a tie and decide on other grounds."]


def _swing(bar: dict[str, Any]) -> float:
    """A tornado bar's swing in USD/month (older results lack the key: |high - low|)."""
    swing = finite(bar.get("swing_usd_per_month"))
    if swing is None:
        low, high = finite(bar.get("delta_low_usd_per_month")), \
            finite(bar.get("delta_high_usd_per_month"))
        swing = abs(high - low) if low is not None and high is not None else 0.0
    return swing


#: The most significant figures a break-even is shown to when telling it apart from
#: today's value (4) or from the other break-even of the same pair and input (6).
_MAX_DIGITS_TODAY, _MAX_DIGITS_APART = 4, 6


def _digits(value: float, current: float, unit: str | None,
            apart: tuple[float, ...] = ()) -> int:
    """As few figures as tell ``value`` from today's value (up to 4) and from ``apart``, the
    other break-even of the same pair and input (where the recommendation flips beside
    where the costs cross, up to 6): ``1.00904`` beside ``1.00709`` reads ``1.009`` and
    ``1.007``, not ``1.01`` twice."""
    def same(other: float, digits: int) -> bool:
        return format_amount(value, unit, digits) == format_amount(other, unit, digits)

    digits = 2
    while digits < _MAX_DIGITS_TODAY and same(current, digits):
        digits += 1
    while digits < _MAX_DIGITS_APART and any(same(o, digits) for o in apart if o != value):
        digits += 1
    return digits


def _apart(row: dict[str, Any], others: list[dict[str, Any]]) -> tuple[float, ...]:
    """The values of ``others`` (the other kind of break-even row) for the same input and
    the same pair of strategies as ``row``: the figures its wording must tell apart."""
    pair = {row.get("strategy_a"), row.get("strategy_b")}
    return tuple(v for o in others if o.get("input") == row.get("input")
                 and {o.get("strategy_a"), o.get("strategy_b")} == pair
                 and (v := finite(o.get("value"))) is not None)


def _range_note(row: dict[str, Any], value: float, digits: int) -> str:
    """'; $2,190 a year is outside the scenario's range, $2,250 to $3,000' (or inside),
    when the row says. It names the break-even value: after "now $2,625 a year" a bare
    ", outside the scenario's range" read as if today's value were outside it."""
    low, high = finite(row.get("range_low")), finite(row.get("range_high"))
    if low is None or high is None or low == high or "is_within_range" not in row:
        return ""
    unit = row.get("unit")
    where = "inside" if low <= value <= high else "outside"
    what = "p10–p90 range" if row.get("range_is") == "p10-p90" else "range"
    return (f"; {format_amount(value, unit, digits)} is {where} the scenario's {what}, "
            f"{format_amount(low, unit, max(digits, 3))} "
            f"to {format_amount(high, unit, max(digits, 3))}")


def value_digits(row: dict[str, Any], results: dict[str, Any], least: int = 2) -> int:
    """The significant figures (at least ``least``) that tell a ``break_even`` or
    ``recommendation_flips`` row's value from today's and from the other kind's value for
    the same pair and input (:func:`_digits`): what the sentences show, for a chart to
    show the same figure."""
    value, current = finite(row.get("value")), finite(row.get("current"))
    if value is None or current is None:
        return least
    others = results.get("recommendation_flips" if row.get("kind") == "costs cross"
                         else "break_even") or []
    return max(least, _digits(value, current, row.get("unit"), _apart(row, others)))


def _condition(row: dict[str, Any], apart: tuple[float, ...] = ()) -> tuple[float, str] | None:
    """``(distance from today, "if <input> fell to <value> (now ..., inside ...)")`` for a
    break-even row within :data:`PLAUSIBLE_FACTOR` of today's value, else None; its value
    shown to enough figures to differ from ``apart`` (:func:`_digits`)."""
    value, current = finite(row.get("value")), finite(row.get("current"))
    if value is None or current is None or value <= 0 or current <= 0:
        return None
    ratio = value / current
    if not 1 / PLAUSIBLE_FACTOR <= ratio <= PLAUSIBLE_FACTOR:
        return None
    unit = row.get("unit")
    moved = "rose to" if value > current else "fell to"
    digits = _digits(value, current, unit, apart)
    if "is_within_range" in row:        # enough figures to place it against the range
        digits = max(digits, 3)
    now = format_amount(current, unit, max(digits, 3 if unit == "x" else 4))
    rate = " the measured rate" if unit == "x" else ""
    return abs(math.log(ratio)), (f"if {reader_name(str(row.get('input')))} {moved} "
                                  f"{format_amount(value, unit, digits)}{rate} (now {now}"
                                  f"{_range_note(row, value, digits)})")


def _or(texts: list[str]) -> str:
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]


def _runner_up_note(rec: dict[str, Any], base: str, margin: float) -> str:
    """Why the margin is against today's strategy when the runner-up is another
    challenger: its expected cost against today's (``saving_usd_per_month -
    saving_vs_baseline_usd_per_month``, the run's means) does not clear the margin."""
    runner_up, winner = rec.get("runner_up"), rec.get("winner")
    saving, vs_base = finite(rec.get("saving_usd_per_month")), \
        finite(rec.get("saving_vs_baseline_usd_per_month"))
    if runner_up in (None, base, winner) or saving is None or vs_base is None:
        return ""
    more = saving - vs_base          # runner-up minus today's, expected USD/month
    if format_usd(abs(more)) == format_usd(0.0):
        than = f"costs the same as {base} in expectation"
    elif more >= 0:
        than = f"costs {format_usd(more)} a month more than {base} in expectation"
    else:
        than = (f"would save only {format_usd(-more)} a month against {base}, less than "
                f"the {format_usd(margin)}")
    return (f" (the runner-up, {runner_up}, {than}, so the margin is against {base}, "
            "not another challenger)")


def recommendation_flip_sentences(results: dict[str, Any]) -> list[str]:
    """Where the recommendation itself changes (``recommendation_flips``: the
    challenger's expected lead over today's strategy at the status-quo margin, or,
    when the runner-up also clears that margin, where it and the winner cross),
    nearest first, at most :data:`MAX_FLIPS` inputs."""
    rec = results.get("recommendation") or {}
    winner, base = rec.get("winner"), results.get("baseline")
    rows = results.get("recommendation_flips") or []
    crossings = results.get("break_even") or []     # told apart from where costs cross
    found = [c for row in rows if (c := _condition(row, _apart(row, crossings))) is not None]
    if not found or not winner:
        return []
    conditions = _or([text for _, text in sorted(found)[:MAX_FLIPS]])
    margin = tie_usd(results)
    if winner == base:      # each row names the challenger that takes over there
        by: dict[str, list[tuple[float, str]]] = {}
        for row in rows:
            if (c := _condition(row, _apart(row, crossings))) is not None:
                by.setdefault(str(row.get("strategy_b") or rec.get("runner_up")), []).append(c)
        return [f"The recommendation would change to {other} "
                f"{_or([text for _, text in sorted(conds)[:MAX_FLIPS]])}: there its "
                f"expected saving against {base}, today's strategy, reaches the "
                f"{format_usd(margin)} a month the model needs to switch."
                for other, conds in sorted(by.items(), key=lambda kv: min(kv[1]))]
    if any(row.get("strategy_a") == winner for row in rows):     # two challengers cross
        other = next(row.get("strategy_b") for row in rows if row.get("strategy_a") == winner)
        return [f"The recommendation would change to {other} {conditions}: there its "
                f"expected cost falls to {winner}'s (both save more than the "
                f"{format_usd(margin)} a month the model needs against {base}, today's "
                "strategy)."]
    return [f"The recommendation would change back to {base}, today's strategy, "
            f"{conditions}: there {winner}'s expected saving falls to the "
            f"{format_usd(margin)} a month the model needs to switch"
            f"{_runner_up_note(rec, str(base), margin)}."]


def nearest_recommendation_flip(results: dict[str, Any]) -> str:
    """The nearest recommendation flip alone (``recommendation_flips``' row closest to
    today's value, worded by :func:`recommendation_flip_sentences`, so the index and the
    summary say it alike), or ``""`` when none lies within :data:`PLAUSIBLE_FACTOR`."""
    rows = [(c[0], i) for i, row in enumerate(results.get("recommendation_flips") or [])
            if (c := _condition(row)) is not None]
    if not rows:
        return ""
    nearest = results["recommendation_flips"][min(rows)[1]]
    sentences = recommendation_flip_sentences({**results, "recommendation_flips": [nearest]})
    return sentences[0] if sentences else ""


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
    # two challengers' crossing already stated as the recommendation flip
    stated = {(row.get("strategy_a"), row.get("strategy_b"))
              for row in results.get("recommendation_flips") or []
              if row.get("strategy_a") != results.get("baseline")}
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
        found = _condition(row, _apart(row, results.get("recommendation_flips") or []))
        if found is None:
            continue
        near_inputs.add(name)
        if (a, b) in stated:
            continue
        near.setdefault(str(b if a == winner else a), []).append(found)
    cross = ("in expected cost "
             if any("kind" in r for r in results.get("break_even") or []) else "")
    sentences = []
    for other, conditions in sorted(near.items(), key=lambda kv: min(c[0] for c in kv[1])):
        joined = _or([text for _, text in sorted(conditions)[:MAX_FLIPS]])
        sentences.append(f"{other} would cost the same as {winner} {cross}{joined}.")
    return sentences, [reader_name(n) for n in inputs if n not in near_inputs]


def swing_sentences(results: dict[str, Any], winner: str) -> list[str]:
    """Inputs whose p10 or p90 alone (tornado) reverse the winner's lead over the baseline
    or over a challenger by more than the tie rule; at most :data:`MAX_SWINGS`, largest
    reversal first."""
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


def moving_lines(results: dict[str, Any], most: int = 3) -> list[str]:
    """The inputs moving the runner-up against today's strategy most (tornado, p10 ->
    p90), at most ``most``; only those whose swing reaches the status-quo margin
    (:func:`tie_usd`), the tie rule the flips use: a smaller swing moves nothing the
    decision can see. One heading line and one line per input, or a line saying none
    reaches the margin."""
    rec = results.get("recommendation") or {}
    runner_up, base = rec.get("runner_up"), results.get("baseline")
    bars = [t for t in results.get("tornado") or [] if t.get("strategy") == runner_up]
    if not bars:
        return []
    tie = tie_usd(results)
    top = sorted((t for t in bars if _swing(t) >= tie), key=lambda t: -_swing(t))[:most]
    if not top:
        return [f"no input at its p10 or p90 moves {runner_up} vs {base} by the "
                f"{format_usd(tie)} a month the model needs to switch"]
    return [f"inputs moving {runner_up} vs {base} most (p10 -> p90):"] + [
        f"  {reader_name(str(t['input']))}: {format_usd(t['delta_low_usd_per_month'])} -> "
        f"{format_usd(t['delta_high_usd_per_month'])}/month" for t in top]


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cleanup_sentence(rec: dict[str, Any]) -> list[str]:
    """The what-if cleanup policy's sentence when it would change the winner
    (``recommendation.cleanup_what_if``, every input at its median)."""
    what = rec.get("cleanup_what_if")
    if not isinstance(what, dict):
        return []
    words = {"keep_n": "keep the newest {:g} tags", "older_than_days":
             "delete tags older than {:g} days"}
    rule = ", ".join(words[k].format(v) for k, v in (what.get("policy") or {}).items()
                     if k in words and v is not None)
    return [f"With the what-if cleanup policy ({rule}), {what['strategy']} would cost "
            f"{format_usd(what['cost_usd_per_month'])}/month against {what['winner']}'s "
            f"{format_usd(what['winner_cost_usd_per_month'])} (every input at its median)."]


def flip_sentences(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(what would flip the recommendation, the context after it): break-evens within
    reach, then single inputs at p10/p90 that reverse it; after them how often the
    winner is cheaper, the inputs it is robust to, the cleanup what-if and ties."""
    rec = results["recommendation"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    near, robust = break_even_sentences(results, winner)
    flips = (recommendation_flip_sentences(results) + near[:MAX_FLIPS]
             + swing_sentences(results, winner))
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
    context += cleanup_sentence(rec)
    context += [f"{t} costs the same as {winner} under {registry_accounting(results)} "
                f"accounting; the table shows where they differ." for t in rec.get("ties") or []]
    return flips, context
