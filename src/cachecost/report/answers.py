"""The thread's claims, checked, and what to measure next: text for the pages and summaries.

The model (``results["claims"]`` and ``results["value_of_information"]``)
decides; this module only words and lays out what it decided. Each claim is
``{id, claim, verdict, figure, interval, hinges_on}`` with a verdict among
:data:`VERDICTS`; each value-of-information row is ``{input,
evppi_usd_per_month, how_to_measure}``, largest first. Results made before the
model checked claims lack the keys: every function then says so in one
sentence instead of failing.

    claim_rows(results)        # [{"claim", "verdict", "figure", "hinges_on"}...] or []
    claims_text_lines(results, 72)
    measure_next_rows(results)
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from cachecost.model.scenario import QEMU_THREAD
from cachecost.report.names import reader_name
from cachecost.report.sources import resolve_citation
from cachecost.report.verdicts import claim_words
from cachecost.textfmt import format_significant

VERDICTS = ("holds", "partly", "does not hold", "these data cannot tell", "moot today")
#: The claims of the qemu-devel thread (Berrangé, 2024-05), in the order the thread makes them.
CLAIM_ORDER = ("kaniko-doubles-storage", "dind-exceeds-quota", "no-cache-burns-compute",
               "forks-rebuild-from-scratch", "kaniko-single-cache-source",
               "kaniko-reproducible-memory")
NO_CLAIMS = ("These results predate the claim checks (no \"claims\" in results.json); "
             "rebuild the report with a newer cachecost to see them.")
NO_VOI = ("These results predate the value-of-information estimate (no "
          "\"value_of_information\" in results.json); rebuild the report with a newer "
          "cachecost to see it.")
#: Below this (USD a month) knowing an input exactly would not change the decision's value.
VOI_NEGLIGIBLE_USD = 0.5


def has_thread(results: dict[str, Any]) -> bool:
    """True when the run checked a thread's claims (``results["thread"]`` not None); results
    written before the scenario's ``thread`` key were all the qemu-devel thread's."""
    return results.get("thread", QEMU_THREAD) is not None


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def format_figure(figure: Any) -> str:
    """A claim's figure as text: strings as they are, numbers rounded, ``{"value", "unit"}``
    joined; ``""`` when absent."""
    if figure is None:
        return ""
    if isinstance(figure, str):
        return figure.strip()
    if isinstance(figure, dict):
        if "text" in figure:
            return str(figure["text"])
        value = _number(figure.get("value", figure.get("p50")))
        unit = str(figure.get("unit") or "")
        return (f"{format_significant(value, 2)} {unit}".strip() if value is not None
                else "")
    value = _number(figure)
    return format_significant(value, 2) if value is not None else str(figure)


def format_interval(interval: Any) -> str:
    """A claim's interval as text: ``[a, b]`` or ``{"p10", "p90"}`` -> ``"a to b"``;
    strings as they are; ``""`` when absent."""
    if interval is None:
        return ""
    if isinstance(interval, str):
        return interval.strip()
    lo = hi = None
    unit = ""
    if isinstance(interval, list | tuple) and len(interval) == 2:
        lo, hi = _number(interval[0]), _number(interval[1])
    elif isinstance(interval, dict):
        lo = _number(interval.get("p10", interval.get("low", interval.get("lo"))))
        hi = _number(interval.get("p90", interval.get("high", interval.get("hi"))))
        unit = str(interval.get("unit") or "")
    if lo is None or hi is None:
        return ""
    return f"{format_significant(lo, 2)} to {format_significant(hi, 2)} {unit}".strip()


def _sentence(value: Any) -> str:
    text = str(value or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


def claim_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """One row per claim, thread order first: ``claim``, ``verdict``, ``figure`` (with its
    interval in brackets) and ``hinges_on``. ``[]`` when the results have no claims."""
    claims = [c for c in results.get("claims") or [] if isinstance(c, dict)]
    rank = {cid: i for i, cid in enumerate(CLAIM_ORDER)}
    claims.sort(key=lambda c: rank.get(str(c.get("id")), len(rank)))
    rows = []
    for c in claims:
        words = claim_words(c)
        figure, interval = format_figure(words["figure"]), format_interval(c.get("interval"))
        # a figure written out states its own interval; a bare number gets it appended
        if interval and figure and not isinstance(words["figure"], str):
            figure = f"{figure} (80% interval {interval})"
        verdict = str(c.get("verdict") or "these data cannot tell")
        rows.append({
            "id": str(c.get("id") or ""),
            "claim": str(c.get("claim") or c.get("id") or "").strip(),
            "verdict": verdict,
            "sentence": _sentence(words["sentence"]),
            "figure": figure or interval,
            "hinges_on": words["hinges_on"].strip(),
        })
    return rows


def claim_source_ids(row: dict[str, str]) -> list[str]:
    """The sources a claim row's words name (kaniko issues, GitLab docs, source files)."""
    text = " ".join(row.get(k, "") for k in ("claim", "sentence", "figure", "hinges_on"))
    return resolve_citation(text)[1]


def claims_text_lines(results: dict[str, Any], width: int,
                      refs: dict[str, int] | None = None) -> list[str]:
    """The claims as plain text, every line at most ``width`` characters::

        1. "Kaniko at least doubles registry storage": partly.
           6.1x at month 12 (80% interval 4 to 8.2). Hinges on: ...
    """
    rows = claim_rows(results)
    if not rows:
        return textwrap.wrap(NO_CLAIMS, width)
    lines: list[str] = []
    for i, r in enumerate(rows, 1):
        head = f"{i}. \u201c{r['claim'].rstrip('.')}\u201d"
        verdict = verdict_sentence(r)
        parts = [f"Verdict: {verdict}" if not verdict.lower().startswith(
            r["verdict"].lower()) else verdict]
        if r["figure"]:
            parts.append(f"Figures: {_sentence(r['figure'])}")
        if r["hinges_on"]:
            parts.append(f"Hinges on: {_sentence(r['hinges_on'])}")
        marks = [f"[{refs[i]}]" for i in claim_source_ids(r) if refs and i in refs]
        if marks:
            parts.append(f"Sources: {' '.join(marks)}.")
        lines += textwrap.wrap(head, width, subsequent_indent="   ", break_on_hyphens=False)
        for part in parts:
            lines += textwrap.wrap(part, width, initial_indent="   ", subsequent_indent="   ",
                                   break_on_hyphens=False)
        lines.append("")
    return lines[:-1]


def verdict_sentence(row: dict[str, str]) -> str:
    """A claim row's verdict as a sentence: its own sentence, else the bare verdict."""
    return row["sentence"] or f"{row['verdict'][:1].upper()}{row['verdict'][1:]}."


def verdict_lines(results: dict[str, Any], width: int) -> list[str]:
    """One numbered item per claim, thread order: the claim in its words and the verdict
    sentence (no figures, no hinges), lines at most ``width``; ``[]`` without claims."""
    lines: list[str] = []
    for i, r in enumerate(claim_rows(results), 1):
        lines += textwrap.wrap(f"{i}. \u201c{r['claim'].rstrip('.')}\u201d "
                               f"{verdict_sentence(r)}", width, subsequent_indent="   ",
                               break_on_hyphens=False)
    return lines


def measure_next_rows(results: dict[str, Any]) -> list[dict[str, str]]:
    """One row per input worth measuring, largest value first: ``input`` (its reader name),
    ``worth`` (``"$12 a month"``), ``how_to_measure``. ``[]`` when absent."""
    rows = []
    items = [v for v in results.get("value_of_information") or [] if isinstance(v, dict)]
    items.sort(key=lambda v: -(_number(v.get("evppi_usd_per_month")) or 0.0))
    for v in items:
        usd = _number(v.get("evppi_usd_per_month"))
        name = str(v.get("input") or "")
        rows.append({
            "key": name,
            "input": reader_name(name) if "." in name else name,
            "worth": ("-" if usd is None else
                      f"under ${VOI_NEGLIGIBLE_USD:g} a month" if usd < VOI_NEGLIGIBLE_USD else
                      f"${format_significant(usd, 2)} a month"),
            "worth_usd": "" if usd is None else f"{usd:.2f}",
            "how_to_measure": str(v.get("how_to_measure") or "").strip(),
        })
    return rows


def overall_value_sentence(results: dict[str, Any]) -> str:
    """What knowing every input exactly would be worth (EVPI, ``results[
    "value_of_information_total"]``), one sentence; ``""`` when the results lack it."""
    total = results.get("value_of_information_total")
    usd = _number(total.get("evpi_usd_per_month")) if isinstance(total, dict) else None
    if usd is None:
        return ""
    worth = (f"under ${VOI_NEGLIGIBLE_USD:g}" if usd < VOI_NEGLIGIBLE_USD
             else f"${format_significant(usd, 2)}")
    stake = ("what is still uncertain puts little money at stake. That does not mean the "
             "choice cannot change: an input may still flip it, but a flip is unlikely or "
             "costs little where it happens" if usd < 1.0 else
             "that is what choosing now, before the inputs are known, is expected to lose")
    return (f"Knowing every input exactly would be worth {worth} a month to this decision "
            f"(expected value of perfect information): {stake}.")


def measure_next_text_lines(results: dict[str, Any], width: int, limit: int = 5) -> list[str]:
    """What to measure next as plain text (at most ``limit`` inputs), lines <= ``width``."""
    if "value_of_information" not in results:
        return textwrap.wrap(NO_VOI, width)
    rows = measure_next_rows(results)
    worth = [r for r in rows if r["worth_usd"] and float(r["worth_usd"]) >= VOI_NEGLIGIBLE_USD]
    if not worth:
        return textwrap.wrap(" ".join(p for p in (
            overall_value_sentence(results),
            "No single input is worth measuring for this decision: knowing any of them "
            f"exactly would lower its expected cost by under ${VOI_NEGLIGIBLE_USD:g} a month. "
            + (f"The largest is {rows[0]['input']} ({rows[0]['how_to_measure']})."
               if rows and rows[0]["how_to_measure"] else "")) if p), width)
    lines = textwrap.wrap(overall_value_sentence(results), width) if \
        overall_value_sentence(results) else []
    lines += textwrap.wrap("Knowing one input exactly would be worth, to this decision "
                           "(expected value of partial perfect information, per month):", width)
    for r in worth[:limit]:
        text = f"{r['input']}: {r['worth']}." + (
            f" Measure: {_sentence(r['how_to_measure'])}" if r["how_to_measure"] else "")
        lines += textwrap.wrap(text, width, initial_indent="- ", subsequent_indent="  ",
                               break_on_hyphens=False)
    return lines
