"""The answer first: what ``summary.txt``, ``summary.md``, ``cachecost model`` and the
decision page open with.

A maintainer reading the reply on qemu-devel gets, before anything else, four
paragraphs: the recommendation and what it saves against today's strategy with
its 80% interval; what it costs in the thread's own terms (the registry at the
end of the horizon against dind's and kaniko's, the growth the thread objected
to); what would flip it; and the prices it rests on with their dates, with the
dated facts that decide an option (kaniko's upstream archival). The claims
follow; the rest is reference. Every number comes from the same results dict
as the table and the recommendation.

    paragraphs = lead_paragraphs(results)            # four unwrapped paragraphs
    lines = lead_text_lines(results, 72)             # wrapped, blank line between

``results`` is :func:`cachecost.model.results.run_model`'s dict.
"""

from __future__ import annotations

import html
import textwrap
from typing import Any

from cachecost.model.keys import key_spec
from cachecost.report.answers import has_thread
from cachecost.report.flips import flip_sentences
from cachecost.report.names import format_amount, reader_name
from cachecost.report.recommendation import (
    detail_sentences,
    flip_paragraph,
    join_sentences,
    opening_sentences,
)
from cachecost.report.sources import PAGE_NUMBERS, SOURCES, link_source_marks, resolve_citation
from cachecost.report.tables import read_quantile, registry_accounting
from cachecost.textfmt import format_number, format_significant

#: The thread the summary replies to (a :data:`cachecost.report.sources.SOURCES` id).
THREAD_SOURCE = "qemu-kaniko-thread-2024"
#: The option the thread is about (Camilla Conte's May-2024 patch), compared in its terms.
THREAD_OPTION = "kaniko-cache-repo"
#: The thread's two options, in its terms: what QEMU ran (dind) and the patch (kaniko).
THREAD_OPTIONS = ("dind-inline-cache", THREAD_OPTION)
#: Dated facts that decide an option named after a tool, by strategy: (the tool, what is
#: true of it, source id, what the option is without that tool). Shown wherever the option
#: is compared, when the project's builder is that tool or unknown (:func:`option_fact`;
#: source: the kaniko repository's README at its archive commit).
OPTION_FACTS: dict[str, tuple[str, str, str, str]] = {
    "kaniko-cache-repo": (
        "kaniko", "was archived upstream on 2025-06-03 and is no longer developed",
        "kaniko-archived", "a separate cache repository"),
}


def is_other_builder(results: dict[str, Any], name: str) -> bool:
    """True when the project's builder is known (``results["builder"]``, the scenario's
    ``builder:``) and is not the tool option ``name`` is named after (:data:`OPTION_FACTS`):
    a buildah project modelled as kaniko-cache-repo."""
    builder = results.get("builder")
    return name in OPTION_FACTS and builder is not None and builder != OPTION_FACTS[name][0]


def option_fact(results: dict[str, Any], name: str) -> tuple[str, str] | None:
    """``(sentence, source id)``: option ``name``'s dated fact, for this project. The
    builder is the tool, or unknown with the thread (whose option is the tool):
    ``"kaniko was archived upstream on ..."``; unknown without a thread: about the tool,
    ``"kaniko, the builder kaniko-cache-repo is named after, was archived ..."``; another
    builder (:func:`is_other_builder`), or an option with no fact: None."""
    if name not in OPTION_FACTS or is_other_builder(results, name):
        return None
    tool, fact, source, _ = OPTION_FACTS[name]
    if results.get("builder") is None and not has_thread(results):
        return f"{tool}, the builder {name} is named after, {fact}", source
    return f"{tool} {fact}", source


def _gib(results: dict[str, Any], name: str) -> float | None:
    """A strategy's registry at the end of the horizon (median GiB, the scenario's
    accounting); None when unknown."""
    s = (results.get("strategies") or {}).get(name) or {}
    return read_quantile((s.get("registry_gib") or {}).get(registry_accounting(results)))


def _cleanup_words(policy: Any) -> str:
    """``{keep_n: 1, older_than_days: 14}`` -> ``"keep 1 tag, delete older than 14 days"``."""
    if not isinstance(policy, dict):
        return "no cleanup"
    parts = []
    if policy.get("keep_n") is not None:
        n = int(policy["keep_n"])
        parts.append(f"keep {n} tag{'s' if n != 1 else ''}")
    if policy.get("older_than_days") is not None:
        parts.append(f"delete older than {int(policy['older_than_days'])} days")
    return ", ".join(parts) or "no cleanup"


def _marks(ids: list[str], refs: dict[str, int] | None) -> str:
    return "".join(f" [{refs[i]}]" for i in ids if refs and i in refs)


def registry_sentence(results: dict[str, Any], refs: dict[str, int] | None = None) -> str:
    """The winner's registry against the thread's two options' (dind and kaniko, whatever
    the baseline, leaving out only the winner itself), with kaniko's deciding facts: ``"In the thread's terms: with rebuild-on-change the
    registry holds 52.7 GiB after 12 months (medians, ...), 2.4× dind-inline-cache's 22.4 GiB
    and 1.9× kaniko-cache-repo's 28.0 GiB (keep 1 tag, ...); kaniko was archived ..."``
    (ratios of the medians, the scenario's accounting); ``""`` when the sizes are unknown.
    Without a thread (``thread: none``) the same sentence opens "In registry terms:"."""
    rec = results["recommendation"]
    winner, strategies = rec["winner"], results["strategies"]
    own = _gib(results, winner)
    others = [n for n in THREAD_OPTIONS if n != winner and n in strategies and _gib(results, n)]
    if own is None or not others:
        return ""
    compared = []
    for name in others:
        gib = _gib(results, name) or 0.0
        what = f"{OPTION_FACTS[name][3]}, " if is_other_builder(results, name) else ""
        cleanup = (f" ({what}{_cleanup_words(strategies[name].get('cleanup_policy'))})"
                   if name == THREAD_OPTION else "")
        compared.append(f"{format_significant(own / gib, 2)}× {name}'s "
                        f"{format_number(gib, 1)} GiB{cleanup}")
    facts = option_fact_clause(results, [winner, *others], refs)
    terms = "In the thread's terms" if has_thread(results) else "In registry terms"
    return (f"{terms}: with {winner} the registry holds "
            f"{format_number(own, 1)} GiB after {results['horizon_months']} months "
            f"(medians, {registry_accounting(results)}), {' and '.join(compared)}"
            f"{facts}.")


def _option_facts(results: dict[str, Any], names: list[str], refs: dict[str, int] | None
                  ) -> list[tuple[str, str]]:
    return [(n, f"{fact[0]}{_marks([fact[1]], refs)}") for n in dict.fromkeys(names)
            if (fact := option_fact(results, n)) is not None]


def option_fact_sentences(results: dict[str, Any], names: list[str],
                          refs: dict[str, int] | None = None) -> list[str]:
    """The dated facts (:func:`option_fact`) of the options named, ``"<option>: <fact>."``
    each (``refs``: source id -> its ``[n]``)."""
    return [f"{name}: {fact}." for name, fact in _option_facts(results, names, refs)]


def option_fact_clause(results: dict[str, Any], names: list[str],
                       refs: dict[str, int] | None = None) -> str:
    """The same facts as a clause to end a sentence with: ``"; <fact>; <fact>"``, or ``""``."""
    return "".join(f"; {fact}" for _, fact in _option_facts(results, names, refs))


def _price_keys(results: dict[str, Any]) -> dict[str, tuple[float | None, str]]:
    """The prices the decision turns on: the money inputs of the winner's break-evens, with
    the value they are solved at (the input's median) and its unit."""
    winner = results["recommendation"]["winner"]
    keys: dict[str, tuple[float | None, str]] = {}
    for row in results.get("break_even") or []:
        unit = str(row.get("unit") or "")
        if winner in (row.get("strategy_a"), row.get("strategy_b")) and \
                unit.startswith("USD") and str(row.get("input")) not in keys:
            keys[str(row.get("input"))] = (row.get("current"), unit)
    return keys


def price_dates(results: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(reader name and value, where its figure comes from and when, source ids)`` for each
    price the decision turns on. A value equal to the default carries the default's dated
    citation; one the scenario sets otherwise says so (its file has no dated source)."""
    inputs = {i.get("name"): i for i in results.get("inputs") or []}
    out = []
    for dotted, (current, unit) in _price_keys(results).items():
        item, spec = inputs.get(dotted) or {}, key_spec(dotted)
        value = item.get("value")
        shown = format_amount(current, unit, 4) if current is not None else "unknown"
        drawn = (f"median of {item['distribution']}; "
                 if isinstance(value, dict) and item.get("distribution") else "")
        if spec is not None and value == spec.default and spec.citation:
            origin, ids = resolve_citation(spec.citation)
        elif item.get("source") == "scenario":
            origin, ids = f"set in {item.get('citation') or 'the scenario'}, undated", []
        else:
            origin, ids = resolve_citation(item.get("citation"))
            origin = origin or "no source given"
        out.append((f"{reader_name(dotted)} {shown}", drawn + origin, ids))
    return out


def price_sentence(results: dict[str, Any], refs: dict[str, int] | None = None) -> str:
    """``"Prices, dated by their sources: the runner nodes' yearly cost ... (Bonzini and
    Berrange, qemu-devel 2023-06-28) [n]; ..."``; ``""`` when no price decides."""
    prices = price_dates(results)
    if not prices:
        return ""
    return ("Prices, dated by their sources: "
            + "; ".join(f"{what} ({origin}){_marks(ids, refs)}" for what, origin, ids in prices)
            + ".")


def lead_paragraphs(results: dict[str, Any], refs: dict[str, int] | None = None) -> list[str]:
    """The answer, unwrapped, in reading order: the recommendation with its saving and
    interval; its registry in the thread's terms with the options' dated facts; what would
    flip it; the dated prices. Empty paragraphs are left out."""
    paragraphs = [join_sentences(opening_sentences(results)),
                  registry_sentence(results, refs),
                  flip_paragraph(results),
                  price_sentence(results, refs)]
    return [p for p in paragraphs if p]


def lead_text_lines(results: dict[str, Any], width: int, refs: dict[str, int] | None = None) -> list[str]:
    """:func:`lead_paragraphs` wrapped to ``width``, a blank line between paragraphs."""
    lines: list[str] = []
    for paragraph in lead_paragraphs(results, refs):
        lines += [*textwrap.wrap(paragraph, width, break_long_words=False,
                                 break_on_hyphens=False), ""]
    return lines[:-1]


def lead_source_ids(results: dict[str, Any]) -> list[str]:
    """The sources the lead cites, first cited first (the options' facts, the prices)."""
    ids: list[str] = []
    rec = results.get("recommendation") or {}
    names = [rec.get("winner"), results.get("baseline"), THREAD_OPTION]
    for name in dict.fromkeys(names):
        fact = option_fact(results, str(name)) \
            if name in (results.get("strategies") or {}) else None
        if fact is not None and fact[1] in SOURCES:
            ids.append(fact[1])
    for _, _, price_ids in price_dates(results) if rec else []:
        ids += [i for i in price_ids if i not in ids]
    return ids


def more_paragraph(results: dict[str, Any], refs: dict[str, int] | None = None) -> str:
    """The recommendation's details, for after the table: the runner-up, cash alone, quota,
    forks, caveats, how often the winner is cheaper, what it is robust to, the cleanup
    what-if."""
    _, context = flip_sentences(results)
    return "More on the recommendation: " + join_sentences(
        detail_sentences(results, refs) + context)


def answer_html(results: dict[str, Any]) -> Any:
    """The decision page's first screen: :func:`lead_paragraphs` as escaped HTML paragraphs,
    their ``[n]`` marks linked to the page's sources list (an IPython ``HTML``)."""
    from IPython.display import HTML

    from cachecost.report.backtest import summary_sentences

    # a drift the backtest found warns before the recommendation (issue 24)
    warn = "".join(f'<p class="cachecost-warning"><strong>{html.escape(s)}</strong></p>'
                   for s in summary_sentences(results)[:-1])
    body = warn + "".join(f"<p>{link_source_marks(html.escape(p))}</p>"
                          for p in lead_paragraphs(results, PAGE_NUMBERS))
    return HTML(f'<div class="cachecost-answer">{body}</div>')  # type: ignore[no-untyped-call]


def more_html(results: dict[str, Any]) -> Any:
    """:func:`more_paragraph` as one escaped HTML paragraph, sources linked."""
    from IPython.display import HTML

    text = link_source_marks(html.escape(more_paragraph(results, PAGE_NUMBERS)))
    return HTML(f'<p class="cachecost-recommendation">{text}</p>')  # type: ignore[no-untyped-call]
