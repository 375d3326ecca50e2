"""Plain-text and Markdown summaries of a model run, for a mailing-list reply.

QEMU's list takes no attachments and no HTML mail, so the decision travels as
a plain-text body that links to the full report: every line at most
:data:`LINE_WIDTH` characters, a fixed-width table with the baseline marked
``(*)`` (pyperf style), the recommendation, a short method note and the link.
The text depends only on the results dict and the provenance (never on the
build time), so the same inputs give a byte-identical ``summary.txt``.

    text = format_summary_text(results, provenance, "https://qemu.gitlab.io/cachecost")
    print(format_recommendation(results))
    tabulate_headline(results)        # the numbers behind the headline tables

``results`` is :func:`cachecost.model.results.run_model`'s dict and ``provenance``
:func:`cachecost.report.provenance.collect_provenance`'s (see briefs/*-contract.md).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from cachecost.model.keys import key_spec
from cachecost.report import answers, lead
from cachecost.report.backtest import summary_sentences
from cachecost.report.flips import PLAUSIBLE_FACTOR, flip_sentences
from cachecost.report.names import reader_name
from cachecost.report.recommendation import (
    format_recommendation,
    weighs_phrase,
)
from cachecost.report.sources import SOURCES, Source, resolve_citation
from cachecost.report.tables import (
    BASELINE_MARK,
    LINE_WIDTH,
    format_delta_cell,
    format_headline_lines,
    format_md_table,
    format_range_lines,
    md_row,
    order_strategies,
    read_quantile,
    registry_accounting,
    tabulate_headline,
    tie_usd,
)
from cachecost.textfmt import (
    format_number,
    format_pct,
    format_quantity,
    format_signed_usd,
    format_usd,
)

#: This module's names, and those the pages (:mod:`cachecost.report.figures`) and older
#: callers still read from here although they live in :mod:`.tables`, :mod:`.recommendation`
#: and :mod:`cachecost.textfmt`.
__all__ = [
    "DECISION_PAGE", "KEY_ASSUMPTIONS", "THREAD_SOURCE", "URL_PLACEHOLDER",
    "cited_sources", "data_notes", "format_input_value", "format_method",
    "format_summary_markdown", "format_summary_text", "is_url_line", "key_assumption_items",
    "key_assumptions", "report_location", "report_url",
    # re-exported
    "BASELINE_MARK", "LINE_WIDTH", "PLAUSIBLE_FACTOR", "flip_sentences",
    "format_recommendation", "format_delta_cell", "format_headline_lines", "format_number",
    "format_pct", "format_range_lines", "format_signed_usd", "format_usd", "order_strategies",
    "read_quantile", "registry_accounting", "tabulate_headline", "tie_usd",
]

#: The page a summary links to, relative to the site root (per scenario).
DECISION_PAGE = "02-caching-decision.html"
URL_PLACEHOLDER = "<URL of the published report>"
#: How many inputs (largest tornado swing first) the method note lists.
KEY_ASSUMPTIONS = 5
#: The thread the summary replies to (a :data:`cachecost.report.sources.SOURCES` id).
THREAD_SOURCE = lead.THREAD_SOURCE


def format_input_value(item: dict[str, Any]) -> str:
    """An input's value for people: its distribution's short form when uncertain."""
    value = item.get("value")
    if isinstance(value, dict | list) and item.get("distribution"):
        return str(item["distribution"])
    return _format_value(value)


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_quantity(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _input_origin(item: dict[str, Any]) -> tuple[str, list[str]]:
    """Where an input's value comes from, in words, and the sources it cites."""
    source = item.get("source")
    text, ids = resolve_citation(item.get("citation"))
    if source == "data":
        return "measured from the CI history", ids
    if source == "scenario":
        where = f"set in the scenario file {text}".rstrip() if text else "set in the scenario"
        spec = key_spec(str(item.get("name")))
        if spec is not None and spec.citation and item.get("value") == spec.default:
            # the scenario states the default's figure: its dated source still holds
            dated, dated_ids = resolve_citation(spec.citation)
            return f"{where}, the default's figure: {dated}", ids + [
                i for i in dated_ids if i not in ids]
        return where, ids
    return (f"default: {text}" if text else "default, no source given"), ids


def key_assumption_items(results: dict[str, Any], limit: int = KEY_ASSUMPTIONS) -> list[dict[str, Any]]:
    """The key inputs, largest tornado swing first: ``name`` (reader's), ``key``, ``value``
    (with unit), ``origin`` (words) and ``source_ids``."""
    inputs = {i["name"]: i for i in results.get("inputs") or []}
    names: list[str] = []
    for bar in results.get("tornado") or []:
        if bar["input"] in inputs and bar["input"] not in names:
            names.append(bar["input"])
    names += [n for n in inputs if n not in names]
    items = []
    for name in names[:limit]:
        i = inputs[name]
        unit = {"x": " × the measured rate", "share": " (a share)"}.get(
            i.get("unit") or "", f" {i['unit']}" if i.get("unit") else "")
        origin, ids = _input_origin(i)
        items.append({"name": reader_name(name), "key": name,
                      "value": f"{format_input_value(i)}{unit}", "origin": origin,
                      "source_ids": ids})
    return items


def key_assumptions(results: dict[str, Any], limit: int = KEY_ASSUMPTIONS,
                    refs: dict[str, int] | None = None) -> list[str]:
    """One line per key input, largest tornado swing first:
    ``reader name: value unit (where it comes from) [n]`` with ``[n]`` the numbers of its
    sources in ``refs`` (id -> number) when given."""
    lines = []
    for item in key_assumption_items(results, limit):
        marks = "".join(f" [{refs[s]}]" for s in item["source_ids"] if refs and s in refs)
        lines.append(f"{item['name']}: {item['value']} ({item['origin']}){marks}")
    return lines


def cited_sources(results: dict[str, Any], limit: int = KEY_ASSUMPTIONS) -> list[Source]:
    """The sources the summary cites (the thread, claims, key assumptions, caveats), first
    cited first."""
    ids: list[str] = [THREAD_SOURCE] if answers.has_thread(results) else []
    ids += [s for s in lead.lead_source_ids(results) if s not in ids]
    for row in answers.claim_rows(results):
        ids += [s for s in answers.claim_source_ids(row) if s not in ids]
    for item in key_assumption_items(results, limit):
        ids += [s for s in item["source_ids"] if s not in ids]
    rec = results.get("recommendation") or {}
    winner = results.get("strategies", {}).get(rec.get("winner"), {})
    for note in winner.get("notes") or []:
        ids += [s for s in resolve_citation(str(note))[1] if s not in ids]
    return [SOURCES[s] for s in ids]


def format_method(results: dict[str, Any]) -> str:
    """The one-paragraph method note (unwrapped)."""
    return (
        f"Method: a Monte Carlo model ({results['samples']:,} samples, seed "
        f"{results['seed']}) draws the uncertain inputs (build minutes cached and "
        f"uncached, how often images change, pipelines per month, prices) from the CI "
        f"history and the scenario (image sizes are fixed at what the registry reports), "
        f"and prices each strategy's "
        f"container-build minutes and registry storage per month over "
        f"{results['horizon_months']} months. The costs in the answer and the tables, and the "
        f"tables' minutes and GiB, are expected (mean) values, the figures the "
        f"recommendation is decided on; ranges are the 10th to 90th percentiles. Registry sizes use {registry_accounting(results)} "
        f"accounting."
    )


def report_url(results: dict[str, Any], base_url: str | None) -> str | None:
    """Where the decision page lives under ``base_url``; None without one."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{results['scenario']}/{DECISION_PAGE}"


def report_location(results: dict[str, Any], base_url: str | None) -> str:
    """One sentence naming where the full report is: its URL, or the site's files."""
    url = report_url(results, base_url)
    if url:
        return f"Full report with charts and every assumption: {url}"
    return (f"Full report with charts and every assumption: {results['scenario']}/"
            f"{DECISION_PAGE} in the site that cachecost report writes (open its "
            f"index.html); the same folder has summary.txt, summary.md and results.json.")


# --------------------------------------------------------------------------- the bodies


def _wrap(text: str, indent: str = "") -> list[str]:
    """Wrap to :data:`LINE_WIDTH`; a word longer than a line (a URL) stands whole on its own."""
    return textwrap.wrap(text, LINE_WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent),
                         break_long_words=False, break_on_hyphens=False)


def _synthetic_warning(results: dict[str, Any]) -> str:
    whose = "QEMU's costs" if answers.has_thread(results) else "any project's costs"
    return ("SYNTHETIC SAMPLE DATA: generated, not measured from any real project; "
            f"do not quote these numbers as {whose}.")


def _data_line(provenance: dict[str, Any]) -> str:
    if provenance.get("is_synthetic"):
        return "Data: synthetic sample."
    return f"Data: {provenance.get('data_source')}, fetched {provenance.get('fetched_at')}."


def data_notes(results: dict[str, Any]) -> list[str]:
    """The model's calibration notes (what it measured and what it had to fill in, e.g.
    images without registry data at a fallback size) as one sentence; [] without any."""
    notes = [str(n).rstrip(". ") for n in
             (results.get("calibration") or {}).get("notes") or [] if str(n).strip()]
    return [f"Data notes: {'; '.join(notes)}."] if notes else []


def _version_line(provenance: dict[str, Any]) -> str:
    commit = provenance.get("git_commit")
    commit_text = f" (git {commit[:12]})" if commit else ""
    return (f"Scenario {provenance.get('scenario')} (sha256 "
            f"{str(provenance.get('scenario_sha256') or '')[:12]}), cachecost "
            f"{provenance.get('cachecost_version')}{commit_text}.")


def is_url_line(line: str) -> bool:
    """True for a line that is one URL alone (allowed past :data:`LINE_WIDTH`, never broken)."""
    word = line.strip()
    return bool(re.fullmatch(r"https?://\S+", word))


def _heading(text: str) -> list[str]:
    return [text, "-" * len(text)]


def _text_sources(sources: list[Source]) -> list[str]:
    lines: list[str] = []
    for n, src in enumerate(sources, 1):
        lines += _wrap(f"{src.title}, {src.date}.", f"[{n}] ")
        lines.append(" " * len(f"[{n}] ") + src.url)
    return lines


def _text_table_part(results: dict[str, Any]) -> list[str]:
    lines = _wrap(f"Per month, expected (mean) values of {results['samples']:,} simulations over "
                  f"{results['horizon_months']} months:")
    lines += ["", *format_headline_lines(results), ""]
    lines += _wrap(f"{BASELINE_MARK} baseline, today's strategy. CI min/mo: upstream "
                   f"container-build runner minutes a month. reg GiB: registry at the end "
                   f"of the horizon ({registry_accounting(results)}). $/month and vs "
                   f"baseline: the total cost a month, {weighs_phrase(results)}")
    lines += ["", *_wrap("Total cost a month: expected (mean), 10th and 90th percentile:"), ""]
    return lines + format_range_lines(results)


def _lead_heading(results: dict[str, Any]) -> str:
    return "The answer" if results.get("recommendation") else "The answer (none: no results)"


def _option_fact_lines(results: dict[str, Any], refs: dict[str, int]) -> list[str]:
    """The dated facts of the options in the table, one wrapped sentence each."""
    facts = lead.option_fact_sentences(results, list(results["strategies"]), refs)
    return [line for fact in facts for line in _wrap(fact)]


def format_summary_text(results: dict[str, Any], provenance: dict[str, Any], base_url: str | None) -> str:
    """The mailing-list reply body: plain text, every line <= 72 characters except a
    URL standing alone on its line (never broken).

    Order: the answer first (:mod:`cachecost.report.lead`: the recommendation and its
    saving, its registry against dind's and kaniko's, what would flip it, the dated
    prices), then the thread's claims checked (none with ``thread: none``), then
    reference: the table, the rest of
    the recommendation, what to measure next, the method, key assumptions with
    numbered sources, the sources, where the full report is. Deterministic: the same
    results, provenance and URL give the same bytes (the build time is not used).
    """
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    lines = _wrap(f"CI container-image caching: what each strategy costs ({title})")
    lines.append("")
    if is_synthetic:
        lines += [*_wrap(_synthetic_warning(results), "*** "), ""]
    sources = cited_sources(results)
    refs = {src.id: n for n, src in enumerate(sources, 1)}
    lines += [*_heading(_lead_heading(results)), ""]
    track = summary_sentences(results)    # a drift warning before the answer, the record after
    for sentence in track[:-1]:
        lines += [*_wrap(sentence), ""]
    lines += [*lead.lead_text_lines(results, LINE_WIDTH, refs), ""]
    for sentence in track[-1:]:
        lines += [*_wrap(sentence), ""]
    if answers.has_thread(results):         # thread: none checks no claims
        lines += [*_heading("The thread's claims, checked"), ""]
        lines += [*_wrap(_thread_intro(refs)), ""]
        lines += [*answers.claims_text_lines(results, LINE_WIDTH, refs), ""]
    lines += [*_heading("What each strategy costs"), ""]
    lines += [*_wrap(_data_line(provenance)), *_wrap(_version_line(provenance)), ""]
    for note in data_notes(results):
        lines += [*_wrap(note), ""]
    lines += [*_text_table_part(results), ""]
    lines += [*_option_fact_lines(results, refs), ""] if _option_fact_lines(results, refs) \
        else []
    lines += [*_wrap(lead.more_paragraph(results, refs)), ""]
    lines += [*_heading("What to measure next"), ""]
    lines += [*answers.measure_next_text_lines(results, LINE_WIDTH), ""]
    lines += _wrap(format_method(results))
    assumptions = key_assumptions(results, refs=refs)
    if assumptions:
        lines += ["", *_wrap("Key assumptions (largest effect first):")]
        for a in assumptions:
            lines += _wrap(a, "- ")
    if sources:
        lines += ["", *_wrap("Sources:"), *_text_sources(sources)]
    lines += ["", *_wrap(report_location(results, base_url))]
    return "\n".join(line_.rstrip() for line_ in lines) + "\n"


def _thread_intro(refs: dict[str, int]) -> str:
    return ("The claims of the kaniko thread (Camilla Conte's patch and Daniel P. "
            f"Berrang\u00e9's review of it, qemu-devel, May 2024) [{refs[THREAD_SOURCE]}], in "
            "their own words, checked against the CI history and the cost model below:")


def _md_claims(results: dict[str, Any]) -> list[str]:
    rows = answers.claim_rows(results)
    if not rows:
        return [answers.NO_CLAIMS, ""]
    out = [md_row(["claim", "verdict", "figure", "hinges on"]), "|---|---|---|---|"]
    out += [md_row([r["claim"], f"**{r['verdict']}**", r["figure"], r["hinges_on"]])
            for r in rows]
    return out + [""]


def _md_measure_next(results: dict[str, Any]) -> list[str]:
    if "value_of_information" not in results:
        return [answers.NO_VOI, ""]
    rows = answers.measure_next_rows(results)
    if not rows:
        return ["No input is worth measuring for this decision.", ""]
    out = [md_row(["input", "worth knowing exactly", "how to measure it"]), "|---|--:|---|"]
    return out + [md_row([r["input"], r["worth"], r["how_to_measure"]]) for r in rows] + [""]


def format_summary_markdown(results: dict[str, Any], provenance: dict[str, Any], base_url: str | None) -> str:
    """The same summary as Markdown (for an issue or merge-request comment).

    Deterministic like :func:`format_summary_text`; sources are links.
    """
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    # the title is the user's (a scenario's, a group project's path): Markdown passes
    # inline HTML through, so a "<script>" in it would run where the comment renders
    title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = [f"## CI container-image caching: what each strategy costs ({title})", ""]
    if is_synthetic:
        out += [f"> **{_synthetic_warning(results)}**", ""]
    sources = cited_sources(results)
    refs = {src.id: n for n, src in enumerate(sources, 1)}
    out += ["### The answer", ""]
    track = summary_sentences(results)    # a drift warning before the answer, the record after
    out += [p for sentence in track[:-1] for p in (sentence, "")]
    out += [p for paragraph in lead.lead_paragraphs(results, refs) for p in (paragraph, "")]
    out += [p for sentence in track[-1:] for p in (sentence, "")]
    if answers.has_thread(results):         # thread: none checks no claims
        out += ["### The thread's claims, checked", "", _thread_intro(refs), "",
                *_md_claims(results)]
    out += ["### What each strategy costs", ""]
    out += [_data_line(provenance) + " " + _version_line(provenance), ""]
    out += [note for n in data_notes(results) for note in (n, "")]
    out += [f"Per month, expected (mean) values with the 10th to 90th percentile, of "
            f"{results['samples']:,} simulations over {results['horizon_months']} months. "
            f"{BASELINE_MARK} marks the baseline, today's strategy.", ""]
    out += format_md_table(results)
    out += [""] + [p for f in lead.option_fact_sentences(results, list(results["strategies"]), refs)
                   for p in (f, "")]
    out += [lead.more_paragraph(results, refs), ""]
    out += ["### What to measure next", "", *_md_measure_next(results)]
    out += [format_method(results), ""]
    assumptions = key_assumptions(results, refs=refs)
    if assumptions:
        out += ["Key assumptions (largest effect first):", ""]
        out += [f"- {a}" for a in assumptions] + [""]
    if sources:
        out += ["Sources:", ""]
        out += [f"{n}. [{src.title}]({src.url}), {src.date}" for n, src in
                enumerate(sources, 1)] + [""]
    url = report_url(results, base_url)
    out.append(f"Full report with charts and every assumption: [{url}]({url})" if url
               else report_location(results, base_url))
    return "\n".join(out) + "\n"
